/* slotkeeper: error domain. */
#include "sk-error.h"

/* Not G_DEFINE_QUARK: clang-format would put spaces into its unquoted name. */
GQuark
sk_error_quark(void)
{
    return g_quark_from_static_string("slotkeeper-error-quark");
}

static const char *const sk_error_names[] = {
    [SK_ERROR_FAILED] = "Failed",
    [SK_ERROR_INVALID_ARGUMENT] = "InvalidArgument",
    [SK_ERROR_INVALID_XML] = "InvalidXml",
    [SK_ERROR_INVALID_DEVICE] = "InvalidDevice",
    [SK_ERROR_INVALID_ADDRESS] = "InvalidAddress",
    [SK_ERROR_NOT_SUPPORTED] = "NotSupported",
    [SK_ERROR_NO_FREE_SLOT] = "NoFreeSlot",
    [SK_ERROR_NO_SUCH_DOMAIN] = "NoSuchDomain",
    [SK_ERROR_NOT_AUTHORIZED] = "NotAuthorized",
    [SK_ERROR_UNAVAILABLE] = "Unavailable",
    [SK_ERROR_AUTHORIZATION_DISMISSED] = "AuthorizationDismissed",
    [SK_ERROR_DETACH_PENDING] = "DetachPending",
};
G_STATIC_ASSERT(G_N_ELEMENTS(sk_error_names) == SK_ERROR_N_CODES);

const char *
sk_error_code_to_name(SkErrorCode code)
{
    if ((guint)code >= G_N_ELEMENTS(sk_error_names))
        return "Failed";
    return sk_error_names[code];
}
