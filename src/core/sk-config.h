/* slotkeeper: the service configuration (/etc/slotkeeper/slotkeeper.conf, a GKeyFile). */
#pragma once

#include <glib.h>

#include "sk-policy.h"

G_BEGIN_DECLS

#define SK_CONFIG_DEFAULT_PATH "/etc/slotkeeper/slotkeeper.conf"

typedef struct {
    SkPolicy policy;              /* [policy] spare-ports, legacy-bridge, root-port-cap */
    gboolean manage_default;      /* [policy] manage: keep spares for every persistent domain */
    guint workers;                /* [service] workers: threads for blocking libvirt calls */
    guint rescan_seconds;         /* [service] rescan-seconds: re-read every domain (0: never) */
    guint detach_timeout_seconds; /* [service] detach-timeout-seconds: wait for the guest */
    guint auth_timeout_seconds;   /* [service] auth-timeout-seconds: interactive polkit */
    char *watch_dir;              /* [service] watch-dir: libvirt's config dir; "" none */
} SkConfig;

/* Built-in defaults: 4 spare ports, lazy legacy bridge, per-arch cap, manage all, 4 workers,
 * rescan every 300 s, 5 s for a guest to release a detached device, 120 s for an
 * authentication dialog, libvirt's config dir watched when the URI has a known one. */
void sk_config_init(SkConfig *config);
void sk_config_clear(SkConfig *config);
/* Loads @path over the defaults. A missing file is not an error when @optional is TRUE;
 * unknown keys are ignored with a warning; bad values give SK_ERROR_INVALID_ARGUMENT naming
 * the file, group and key. */
gboolean sk_config_load(SkConfig *config, const char *path, gboolean optional, GError **error);

G_END_DECLS
