/* slotkeeper: what the core may ask about the host, through an interface the caller passes in.
 * The core itself never touches the host: the daemon and the CLI provide a sysfs reader
 * (src/host), unit tests a table. */
#pragma once

#include <glib.h>

#include "sk-pci.h"

G_BEGIN_DECLS

typedef struct _SkHostPci SkHostPci;

/* Host PCI facts. Implementations embed this as their first member. */
struct _SkHostPci {
    /* Whether the host PCI device at @addr is PCI Express. TRUE when that cannot be told, as
     * libvirt 9.0 assumes (virPCIDeviceIsPCIExpress failing counts as Express). */
    gboolean (*is_express)(const SkHostPci *host, const SkPciAddr *addr);
};

/* @host's answer for @addr; TRUE without a host (NULL), as libvirt without sysfs. */
static inline gboolean
sk_host_pci_is_express(const SkHostPci *host, const SkPciAddr *addr)
{
    return host == NULL || host->is_express == NULL || host->is_express(host, addr);
}

G_END_DECLS
