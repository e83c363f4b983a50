/* slotkeeper: the controllers libvirt 9.0 adds by itself when a device is attached, so that a
 * plan can name them and place them like any other device (docs/planner.md, "Implicit
 * controllers"). Pure: reads the device element and one definition. */
#pragma once

#include <glib.h>

#include "sk-device.h"
#include "sk-topology.h"

G_BEGIN_DECLS

typedef struct {
    char *type;              /* <controller type=...>: "scsi", "sata" or "virtio-serial" */
    guint index;             /* <controller index=...> */
    char *model;             /* <controller model=...>, NULL when libvirt writes none */
    gboolean live_pluggable; /* libvirt can hot-plug (and unplug) it: SCSI controllers only */
} SkImplicitController;

typedef struct {
    GPtrArray *controllers; /* SkImplicitController*: what the definition lacks, by index */
    gboolean has_drive;     /* the device sits on a drive bus: the address libvirt gives it */
    SkDriveAddr drive;
    char *usb_missing; /* a USB device on a definition without USB: libvirt's refusal, else NULL */
} SkImplicitNeeds;

/* What attaching @dev to the definition @topo makes libvirt add implicitly:
 * - a disk on bus='scsi' or a <hostdev type='scsi'>: the SCSI controllers 0..N it addresses
 *   (virDomainDefAddDiskControllersForType / virDomainDefMaybeAddHostdevSCSIcontroller at
 *   define; qemuDomainFindOrCreateSCSIDiskController on live attach);
 * - a disk on bus='sata': the SATA controllers 0..N (config only; SATA does not hotplug);
 * - a <channel> or <console> with target type 'virtio': its virtio-serial controller
 *   (virDomainDefMaybeAddVirtioSerialController; libvirt cannot hot-plug one).
 * The drive address is libvirt's (virDomainDiskDefAssignAddress: unit = disk index % 7 on a
 * SCSI bus, % 6 on SATA; virDomainHostdevAssignAddress: the first free unit) or the explicit one.
 * libvirt 9.0 adds no USB controller: a USB device on a definition without one is reported in
 * usb_missing. Errors: SK_ERROR_INVALID_DEVICE for a disk name libvirt cannot map to an
 * address. */
SkImplicitNeeds *sk_implicit_needs(const SkDevice *dev, const SkTopology *topo, GError **error);
void sk_implicit_needs_free(SkImplicitNeeds *needs);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkImplicitNeeds, sk_implicit_needs_free)

/* libvirt's virDiskNameToIndex: "sda" 0, "sdz" 25, "sdaa" 26; -1 when it is no disk name. */
int sk_implicit_disk_index(const char *name);

G_END_DECLS
