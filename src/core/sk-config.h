/* slotkeeper: the service configuration (/etc/slotkeeper/slotkeeper.conf, a GKeyFile). */
#pragma once

#include <glib.h>

#include "sk-policy.h"

G_BEGIN_DECLS

#define SK_CONFIG_DEFAULT_PATH "/etc/slotkeeper/slotkeeper.conf"

typedef struct {
    SkPolicy policy;         /* [policy] spare-ports, legacy-bridge, root-port-cap */
    gboolean manage_default; /* [policy] manage: keep spares for every persistent domain */
    guint workers;           /* [service] workers: threads for blocking libvirt calls */
    guint rescan_seconds;    /* [service] rescan-seconds: re-read every domain (0: never) */
} SkConfig;

/* Built-in defaults: 4 spare ports, lazy legacy bridge, per-arch cap, manage all, 4 workers,
 * rescan every 30 s. */
void sk_config_init(SkConfig *config);
/* Loads @path over the defaults. A missing file is not an error when @optional is TRUE;
 * unknown keys are ignored with a warning; bad values give SK_ERROR_INVALID_ARGUMENT naming
 * the file, group and key. */
gboolean sk_config_load(SkConfig *config, const char *path, gboolean optional, GError **error);

G_END_DECLS
