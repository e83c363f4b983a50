/* slotkeeper: device classification - which PCI connection a device element needs, exactly as
 * libvirt 9.0's qemuDomainDeviceCalculatePCIConnectFlags decides (rules section 2). */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "sk-machine.h"
#include "sk-pci.h"

G_BEGIN_DECLS

typedef struct {
    xmlDoc *doc;          /* owned when built by sk_device_new_from_xml, else NULL */
    xmlNode *node;        /* the device element (inside @doc, or borrowed) */
    char *element;        /* "interface", "disk", "controller", ... */
    char *model;          /* resolved model ("rtl8139", "virtio", "qemu-xhci"), NULL if none */
    char *bus;            /* <disk>: the resolved target bus ("scsi", "sata", ...), else NULL */
    SkConnectFlags flags; /* connect flags incl. AUTOASSIGN; 0 = needs no PCI address */
    char *description;    /* "interface rtl8139 (conventional PCI)" */
    char *no_pci_reason;  /* when flags == 0: why ("disk bus='sata' uses the SATA controller") */
    gboolean has_pci_address; /* an explicit, non-empty <address type='pci'> */
    SkPciAddr address;
    gboolean has_other_address; /* <address type=...> of another kind (drive, usb, ccw...) */
    gboolean live_attachable;   /* libvirt can hot-attach this device type */
    gboolean on_usb;            /* it sits on a USB bus: libvirt needs a USB controller for it */
    SkPciModel pci_model;       /* for <controller type='pci'>, else SK_PCI_MODEL_NONE */
    /* A virtio device that libvirt would put on virtio-mmio (flags is 0 then): the connect
     * flags and the description it has with a PCI address instead; 0 and NULL otherwise. */
    SkConnectFlags mmio_pci_flags;
    char *pci_description;
} SkDevice;

/* <address type='drive' controller= bus= target= unit=/> of a disk or SCSI host device. */
typedef struct {
    guint controller;
    guint bus;
    guint target;
    guint unit;
} SkDriveAddr;

/* Classifies a device element (a child of <devices>) for the machine @mi. Errors:
 * SK_ERROR_INVALID_DEVICE (unknown element or model), SK_ERROR_INVALID_ADDRESS. */
SkDevice *sk_device_classify(xmlNode *node, const SkMachineInfo *mi, GError **error);
/* Parses a device XML document (exactly one top-level device element) and classifies it. */
SkDevice *sk_device_new_from_xml(const char *xml, gsize len, const SkMachineInfo *mi,
                                 GError **error);
SkDevice *sk_device_new_from_file(const char *path, const SkMachineInfo *mi, GError **error);
void sk_device_free(SkDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkDevice, sk_device_free)

/* The SCSI controller model libvirt 9.0 gives a SCSI controller without one on @mi's machine
 * (qemuDomainGetSCSIControllerModel: lsilogic on x86 and ARM with Debian's QEMU 7.2). */
const char *sk_device_default_scsi_model(const SkMachineInfo *mi);

/* The device's XML with its <address> replaced by @addr (or unchanged when @addr is NULL). */
char *sk_device_to_xml(const SkDevice *dev, const SkPciAddr *addr);
/* The same with <address type='drive'> @drive when @addr is NULL and @drive is not. */
char *sk_device_to_xml_full(const SkDevice *dev, const SkPciAddr *addr, const SkDriveAddr *drive);
/* A copy of the device element for @doc, its <address> replaced as sk_device_to_xml_full does. */
xmlNode *sk_device_copy_node(const SkDevice *dev, xmlDoc *doc, const SkPciAddr *addr,
                             const SkDriveAddr *drive);

G_END_DECLS
