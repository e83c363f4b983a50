/* slotkeeper: the machine a device is placed in - the facts device classification needs, read
 * from a domain XML by sk-topology, plus the host facts the caller passes in. */
#pragma once

#include <glib.h>

#include "sk-host.h"

G_BEGIN_DECLS

typedef enum {
    SK_MACHINE_Q35,    /* x86 q35: pcie-root */
    SK_MACHINE_VIRT,   /* aarch64 / riscv virt: pcie-root */
    SK_MACHINE_PC,     /* x86 pc (i440fx): pci-root */
    SK_MACHINE_NO_PCI, /* s390 ccw and other machines without a PCI bus slotkeeper manages */
} SkMachineKind;

typedef struct {
    const char *arch;    /* "x86_64", "aarch64", ... */
    const char *machine; /* as in <os><type machine=...>, e.g. "pc-q35-7.2" */
    SkMachineKind kind;
    gboolean has_pcie_root; /* index 0 is pcie-root */
    gboolean virtio_mmio;   /* virtio devices without a PCI address would use virtio-mmio */
    const SkHostPci *host;  /* host PCI facts for <hostdev>; NULL: unknown (assume Express) */
} SkMachineInfo;

G_END_DECLS
