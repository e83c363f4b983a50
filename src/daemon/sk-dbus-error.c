/* slotkeeperd: SK_ERROR on the bus. */
#include "sk-dbus-error.h"

#include "sk-error.h"
#include "sk-wire.h"

void
sk_dbus_return_error(GDBusMethodInvocation *invocation, const GError *error)
{
    SkErrorCode code = SK_ERROR_FAILED;
    g_autofree char *name = NULL;

    if (error && error->domain == SK_ERROR)
        code = (SkErrorCode)error->code;
    name = sk_wire_error_name(code);
    g_debug("%s: replying %s: %s", g_dbus_method_invocation_get_method_name(invocation), name,
            error ? error->message : "(no message)");
    g_dbus_method_invocation_return_dbus_error(invocation, name,
                                               error ? error->message : "operation failed");
}
