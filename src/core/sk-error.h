/* slotkeeper: error domain shared by the core, the CLI and the daemon. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define SK_ERROR (sk_error_quark())

/* One code per failure kind; each maps to org.slotkeeper.SlotKeeper1.Error.<Name>. */
typedef enum {
    SK_ERROR_FAILED,                  /* Failed */
    SK_ERROR_INVALID_ARGUMENT,        /* InvalidArgument: bad option or value */
    SK_ERROR_INVALID_XML,             /* InvalidXml: malformed XML or not a <domain> */
    SK_ERROR_INVALID_DEVICE,          /* InvalidDevice: unknown or unusable device element */
    SK_ERROR_INVALID_ADDRESS,         /* InvalidAddress: requested address taken or incompatible */
    SK_ERROR_NOT_SUPPORTED,           /* NotSupported: machine type or operation not supported */
    SK_ERROR_NO_FREE_SLOT,            /* NoFreeSlot: no compatible slot, now or at all */
    SK_ERROR_NO_SUCH_DOMAIN,          /* NoSuchDomain */
    SK_ERROR_NOT_AUTHORIZED,          /* NotAuthorized */
    SK_ERROR_UNAVAILABLE,             /* Unavailable: libvirt not reachable */
    SK_ERROR_AUTHORIZATION_DISMISSED, /* AuthorizationDismissed: the user cancelled the dialog */
    SK_ERROR_DETACH_PENDING, /* DetachPending: the guest has not released the device (yet) */
} SkErrorCode;

#define SK_ERROR_N_CODES (SK_ERROR_DETACH_PENDING + 1)

GQuark sk_error_quark(void);

/* The D-Bus error name suffix for @code ("NoFreeSlot"); never NULL. */
const char *sk_error_code_to_name(SkErrorCode code);

G_END_DECLS
