/* slotkeeper: host PCI facts read from sysfs, as libvirt 9.0 reads them (virpci.c). */
#pragma once

#include "sk-host.h"

G_BEGIN_DECLS

/* The host's sysfs (/sys/bus/pci/devices), or the tree below SK_SYSFS_ROOT when that is set
 * (tests point it at a fake tree). Static: never freed. */
const SkHostPci *sk_host_sysfs_get(void);

G_END_DECLS
