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
    SkConnectFlags flags; /* connect flags incl. AUTOASSIGN; 0 = needs no PCI address */
    char *description;    /* "interface rtl8139 (conventional PCI)" */
    char *no_pci_reason;  /* when flags == 0: why ("disk bus='sata' uses the SATA controller") */
    gboolean has_pci_address; /* an explicit, non-empty <address type='pci'> */
    SkPciAddr address;
    gboolean has_other_address; /* <address type=...> of another kind (drive, usb, ccw...) */
    gboolean live_attachable;   /* libvirt can hot-attach this device type */
    SkPciModel pci_model;       /* for <controller type='pci'>, else SK_PCI_MODEL_NONE */
} SkDevice;

/* Classifies a device element (a child of <devices>) for the machine @mi. Errors:
 * SK_ERROR_INVALID_DEVICE (unknown element or model), SK_ERROR_INVALID_ADDRESS. */
SkDevice *sk_device_classify(xmlNode *node, const SkMachineInfo *mi, GError **error);
/* Parses a device XML document (exactly one top-level device element) and classifies it. */
SkDevice *sk_device_new_from_xml(const char *xml, gsize len, const SkMachineInfo *mi,
                                 GError **error);
SkDevice *sk_device_new_from_file(const char *path, const SkMachineInfo *mi, GError **error);
void sk_device_free(SkDevice *dev);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkDevice, sk_device_free)

/* The device's XML with its <address> replaced by @addr (or unchanged when @addr is NULL). */
char *sk_device_to_xml(const SkDevice *dev, const SkPciAddr *addr);

G_END_DECLS
