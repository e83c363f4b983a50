/* slotkeeper: PCI connect flags, controller models and addresses, as libvirt 9.0 models them
 * (reference/libvirt-pci-rules.md sections 1 and 3). */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* What a device needs (connect flags) or what a bus accepts. Never persisted. */
typedef enum {
    SK_CONNECT_AUTOASSIGN = 1 << 0,
    SK_CONNECT_HOTPLUGGABLE = 1 << 1,
    SK_CONNECT_INTEGRATED = 1 << 2,
    SK_CONNECT_AGGREGATE_SLOT = 1 << 3,
    SK_CONNECT_PCI_DEVICE = 1 << 4,
    SK_CONNECT_PCIE_DEVICE = 1 << 5,
    SK_CONNECT_PCIE_ROOT_PORT = 1 << 6,
    SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT = 1 << 7,
    SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT = 1 << 8,
    SK_CONNECT_DMI_TO_PCI_BRIDGE = 1 << 9,
    SK_CONNECT_PCI_EXPANDER_BUS = 1 << 10,
    SK_CONNECT_PCIE_EXPANDER_BUS = 1 << 11,
    SK_CONNECT_PCI_BRIDGE = 1 << 12,
    SK_CONNECT_PCIE_TO_PCI_BRIDGE = 1 << 13,
} SkConnectFlags;

#define SK_CONNECT_TYPES_ENDPOINT (SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCIE_DEVICE)
#define SK_CONNECT_TYPES_MASK                                                                    \
    (SK_CONNECT_TYPES_ENDPOINT | SK_CONNECT_PCIE_ROOT_PORT |                                     \
     SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT | SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT |             \
     SK_CONNECT_DMI_TO_PCI_BRIDGE | SK_CONNECT_PCI_EXPANDER_BUS | SK_CONNECT_PCIE_EXPANDER_BUS | \
     SK_CONNECT_PCI_BRIDGE | SK_CONNECT_PCIE_TO_PCI_BRIDGE)

/* PCI controller models (<controller type='pci' model='...'>). */
typedef enum {
    SK_PCI_MODEL_NONE = -1,
    SK_PCI_MODEL_PCI_ROOT = 0,
    SK_PCI_MODEL_PCIE_ROOT,
    SK_PCI_MODEL_PCI_BRIDGE,
    SK_PCI_MODEL_DMI_TO_PCI_BRIDGE,
    SK_PCI_MODEL_PCIE_ROOT_PORT,
    SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT,
    SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT,
    SK_PCI_MODEL_PCI_EXPANDER_BUS,
    SK_PCI_MODEL_PCIE_EXPANDER_BUS,
    SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE,
    SK_PCI_MODEL_LAST,
} SkPciModel;

/* A PCI address; domain is always 0 for QEMU guests. */
typedef struct {
    guint domain;
    guint bus;
    guint slot;
    guint function;
} SkPciAddr;

/* The model's libvirt name ("pcie-root-port"), or NULL for SK_PCI_MODEL_NONE. */
const char *sk_pci_model_to_string(SkPciModel model);
/* Parses a libvirt model name; SK_PCI_MODEL_NONE when unknown. */
SkPciModel sk_pci_model_from_string(const char *name);
/* The QEMU device name libvirt fills in as <model name=...> (NULL for the roots). */
const char *sk_pci_model_default_name(SkPciModel model);
/* Whether @name is a modelName libvirt accepts for @model (root port: pcie-root-port, ioh3420). */
gboolean sk_pci_model_name_valid(SkPciModel model, const char *name);
/* The controller's own upstream connect type (table 1.1), without AUTOASSIGN. */
SkConnectFlags sk_pci_model_connect_type(SkPciModel model);
/* What a bus of this model accepts downstream: types, AUTOASSIGN, HOTPLUGGABLE (default). */
SkConnectFlags sk_pci_model_bus_flags(SkPciModel model);
/* The slot range of a bus of this model. */
void sk_pci_model_slot_range(SkPciModel model, guint *min_slot, guint *max_slot);
/* Whether <target hotplug=.../> is valid on this model. */
gboolean sk_pci_model_accepts_hotplug_option(SkPciModel model);

/* libvirt's virDomainPCIAddressFlagsCompatible: may a device with @dev_flags sit on a bus with
 * @bus_flags? @from_config relaxes PCI/PCIe for explicit addresses. On FALSE, @why (if not NULL)
 * receives a sentence naming the mismatch. */
gboolean sk_pci_flags_compatible(SkConnectFlags dev_flags, SkConnectFlags bus_flags,
                                 gboolean from_config, char **why);

/* The machine-readable name of one connect type bit ("pcie-device"), or NULL. */
const char *sk_pci_connect_type_name(SkConnectFlags flag);
/* A short English description of a connect-type set ("PCI Express device"). */
char *sk_pci_flags_describe(SkConnectFlags flags);

/* "0000:01:02.3" */
char *sk_pci_addr_format(const SkPciAddr *addr);
/* Parses "0000:01:02.3" or "01:02.3"; FALSE with SK_ERROR_INVALID_ARGUMENT on failure. */
gboolean sk_pci_addr_parse(const char *str, SkPciAddr *addr, GError **error);
gboolean sk_pci_addr_equal(const SkPciAddr *a, const SkPciAddr *b);
/* libvirt treats 0000:00:00.x as "no address" (virPCIDeviceAddressIsEmpty). */
gboolean sk_pci_addr_is_empty(const SkPciAddr *addr);

G_END_DECLS
