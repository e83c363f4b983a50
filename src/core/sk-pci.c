/* slotkeeper: PCI connect flags and controller models (rules table 1.1 and section 3). */
#include "sk-pci.h"

#include <stdio.h>
#include <string.h>

#include "sk-error.h"

typedef struct {
    const char *name;
    const char *default_name; /* modelName libvirt fills in */
    SkConnectFlags connect_type;
    SkConnectFlags bus_flags;
    guint min_slot;
    guint max_slot;
    gboolean hotplug_option; /* <target hotplug=> accepted */
} SkPciModelInfo;

#define SK_ENDPOINT_BUS (SK_CONNECT_AUTOASSIGN | SK_CONNECT_HOTPLUGGABLE)

/* virDomainPCIAddressBusSetModel + virDomainPCIControllerModelToConnectType (libvirt 9.0). */
static const SkPciModelInfo sk_pci_models[SK_PCI_MODEL_LAST] = {
    [SK_PCI_MODEL_PCI_ROOT] = { "pci-root", NULL, 0,
                                SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE |
                                    SK_CONNECT_PCI_EXPANDER_BUS | SK_ENDPOINT_BUS,
                                1, 31, TRUE },
    [SK_PCI_MODEL_PCIE_ROOT] = { "pcie-root", NULL, 0,
                                 SK_CONNECT_PCIE_DEVICE | SK_CONNECT_PCIE_ROOT_PORT |
                                     SK_CONNECT_DMI_TO_PCI_BRIDGE | SK_CONNECT_PCIE_EXPANDER_BUS,
                                 1, 31, FALSE },
    [SK_PCI_MODEL_PCI_BRIDGE] = { "pci-bridge", "pci-bridge", SK_CONNECT_PCI_BRIDGE,
                                  SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE | SK_ENDPOINT_BUS,
                                  1, 31, FALSE },
    [SK_PCI_MODEL_DMI_TO_PCI_BRIDGE] = { "dmi-to-pci-bridge", "i82801b11-bridge",
                                         SK_CONNECT_DMI_TO_PCI_BRIDGE,
                                         SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE, 0, 31,
                                         FALSE },
    [SK_PCI_MODEL_PCIE_ROOT_PORT] = { "pcie-root-port", "pcie-root-port",
                                      SK_CONNECT_PCIE_ROOT_PORT | SK_CONNECT_AGGREGATE_SLOT,
                                      SK_CONNECT_PCIE_DEVICE |
                                          SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT |
                                          SK_CONNECT_PCIE_TO_PCI_BRIDGE | SK_ENDPOINT_BUS,
                                      0, 0, TRUE },
    [SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT] = { "pcie-switch-upstream-port", "x3130-upstream",
                                                 SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT,
                                                 SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT, 0, 31,
                                                 FALSE },
    [SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT] = { "pcie-switch-downstream-port",
                                                   "xio3130-downstream",
                                                   SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT,
                                                   SK_CONNECT_PCIE_DEVICE |
                                                       SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT |
                                                       SK_CONNECT_PCIE_TO_PCI_BRIDGE |
                                                       SK_ENDPOINT_BUS,
                                                   0, 0, TRUE },
    [SK_PCI_MODEL_PCI_EXPANDER_BUS] = { "pci-expander-bus", "pxb", SK_CONNECT_PCI_EXPANDER_BUS,
                                        SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE |
                                            SK_ENDPOINT_BUS,
                                        0, 31, FALSE },
    [SK_PCI_MODEL_PCIE_EXPANDER_BUS] = { "pcie-expander-bus", "pxb-pcie",
                                         SK_CONNECT_PCIE_EXPANDER_BUS,
                                         SK_CONNECT_PCIE_ROOT_PORT | SK_CONNECT_DMI_TO_PCI_BRIDGE,
                                         0, 31, FALSE },
    [SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE] = { "pcie-to-pci-bridge", "pcie-pci-bridge",
                                          SK_CONNECT_PCIE_TO_PCI_BRIDGE,
                                          SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE |
                                              SK_ENDPOINT_BUS,
                                          1, 31, FALSE },
};

static const SkPciModelInfo *
sk_pci_model_info(SkPciModel model)
{
    if (model < 0 || model >= SK_PCI_MODEL_LAST)
        return NULL;
    return &sk_pci_models[model];
}

const char *
sk_pci_model_to_string(SkPciModel model)
{
    const SkPciModelInfo *info = sk_pci_model_info(model);

    return info ? info->name : NULL;
}

SkPciModel
sk_pci_model_from_string(const char *name)
{
    if (name == NULL)
        return SK_PCI_MODEL_NONE;
    for (int i = 0; i < SK_PCI_MODEL_LAST; i++) {
        if (g_str_equal(sk_pci_models[i].name, name))
            return (SkPciModel)i;
    }
    return SK_PCI_MODEL_NONE;
}

const char *
sk_pci_model_default_name(SkPciModel model)
{
    const SkPciModelInfo *info = sk_pci_model_info(model);

    return info ? info->default_name : NULL;
}

gboolean
sk_pci_model_name_valid(SkPciModel model, const char *name)
{
    const SkPciModelInfo *info = sk_pci_model_info(model);

    if (info == NULL || name == NULL)
        return FALSE;
    if (model == SK_PCI_MODEL_PCIE_ROOT_PORT && g_str_equal(name, "ioh3420"))
        return TRUE;
    /* pSeries host bridges name pci-root "spapr-pci-host-bridge"; nothing else names a root. */
    if (model == SK_PCI_MODEL_PCI_ROOT)
        return g_str_equal(name, "spapr-pci-host-bridge");
    return info->default_name != NULL && g_str_equal(name, info->default_name);
}

SkConnectFlags
sk_pci_model_connect_type(SkPciModel model)
{
    const SkPciModelInfo *info = sk_pci_model_info(model);

    return info ? info->connect_type : 0;
}

SkConnectFlags
sk_pci_model_bus_flags(SkPciModel model)
{
    const SkPciModelInfo *info = sk_pci_model_info(model);

    return info ? info->bus_flags : 0;
}

void
sk_pci_model_slot_range(SkPciModel model, guint *min_slot, guint *max_slot)
{
    const SkPciModelInfo *info = sk_pci_model_info(model);

    *min_slot = info ? info->min_slot : 1;
    *max_slot = info ? info->max_slot : 0;
}

gboolean
sk_pci_model_accepts_hotplug_option(SkPciModel model)
{
    const SkPciModelInfo *info = sk_pci_model_info(model);

    return info ? info->hotplug_option : FALSE;
}

static const struct {
    SkConnectFlags flag;
    const char *name; /* machine-readable, as libvirt's model names */
    const char *text; /* for people */
} sk_pci_connect_types[] = {
    { SK_CONNECT_PCI_DEVICE, "pci-device", "conventional PCI device" },
    { SK_CONNECT_PCIE_DEVICE, "pcie-device", "PCI Express device" },
    { SK_CONNECT_PCIE_ROOT_PORT, "pcie-root-port", "pcie-root-port" },
    { SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT, "pcie-switch-upstream-port",
      "pcie-switch-upstream-port" },
    { SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT, "pcie-switch-downstream-port",
      "pcie-switch-downstream-port" },
    { SK_CONNECT_DMI_TO_PCI_BRIDGE, "dmi-to-pci-bridge", "dmi-to-pci-bridge" },
    { SK_CONNECT_PCI_EXPANDER_BUS, "pci-expander-bus", "pci-expander-bus" },
    { SK_CONNECT_PCIE_EXPANDER_BUS, "pcie-expander-bus", "pcie-expander-bus" },
    { SK_CONNECT_PCI_BRIDGE, "pci-bridge", "pci-bridge" },
    { SK_CONNECT_PCIE_TO_PCI_BRIDGE, "pcie-to-pci-bridge", "pcie-to-pci-bridge" },
};

const char *
sk_pci_connect_type_name(SkConnectFlags flag)
{
    for (gsize i = 0; i < G_N_ELEMENTS(sk_pci_connect_types); i++) {
        if (sk_pci_connect_types[i].flag == flag)
            return sk_pci_connect_types[i].name;
    }
    return NULL;
}

char *
sk_pci_flags_describe(SkConnectFlags flags)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (gsize i = 0; i < G_N_ELEMENTS(sk_pci_connect_types); i++) {
        if ((flags & sk_pci_connect_types[i].flag) == 0)
            continue;
        if (out->len > 0)
            g_string_append(out, " or ");
        g_string_append(out, sk_pci_connect_types[i].text);
    }
    if (out->len == 0)
        g_string_append(out, "nothing");
    return g_string_free(g_steal_pointer(&out), FALSE);
}

gboolean
sk_pci_flags_compatible(SkConnectFlags dev_flags, SkConnectFlags bus_flags, gboolean from_config,
                        char **why)
{
    if (from_config) {
        /* Explicit addresses relax PCI vs PCIe: an endpoint bus takes either endpoint kind, and
         * a pci-bridge may go wherever a PCI device may (virDomainPCIAddressFlagsCompatible). */
        if (bus_flags & SK_CONNECT_TYPES_ENDPOINT)
            bus_flags |= SK_CONNECT_TYPES_ENDPOINT;
        if (dev_flags & SK_CONNECT_PCI_BRIDGE)
            dev_flags |= SK_CONNECT_PCI_DEVICE;
    } else if ((dev_flags & SK_CONNECT_AUTOASSIGN) && !(bus_flags & SK_CONNECT_AUTOASSIGN)) {
        if (why)
            *why = g_strdup("the bus does not take automatically placed devices");
        return FALSE;
    }
    if ((dev_flags & SK_CONNECT_HOTPLUGGABLE) && !(bus_flags & SK_CONNECT_HOTPLUGGABLE)) {
        if (why)
            *why = g_strdup("the device needs hotplug but the bus does not support it");
        return FALSE;
    }
    if ((dev_flags & bus_flags & SK_CONNECT_TYPES_MASK) == 0) {
        if (why) {
            g_autofree char *need = sk_pci_flags_describe(dev_flags & SK_CONNECT_TYPES_MASK);
            g_autofree char *have = sk_pci_flags_describe(bus_flags & SK_CONNECT_TYPES_MASK);

            *why = g_strdup_printf("it is a %s but the bus accepts only %s", need, have);
        }
        return FALSE;
    }
    return TRUE;
}

char *
sk_pci_addr_format(const SkPciAddr *addr)
{
    return g_strdup_printf("%04x:%02x:%02x.%x", addr->domain, addr->bus, addr->slot,
                           addr->function);
}

gboolean
sk_pci_addr_parse(const char *str, SkPciAddr *addr, GError **error)
{
    unsigned int d = 0, b = 0, s = 0, f = 0;
    int consumed = 0;

    if (str != NULL &&
        ((sscanf(str, "%x:%x:%x.%x%n", &d, &b, &s, &f, &consumed) == 4 && str[consumed] == '\0') ||
         (d = 0, sscanf(str, "%x:%x.%x%n", &b, &s, &f, &consumed) == 3 && str[consumed] == '\0')) &&
        d <= 0xffff && b <= 0xff && s <= 0x1f && f <= 7) {
        addr->domain = d;
        addr->bus = b;
        addr->slot = s;
        addr->function = f;
        return TRUE;
    }
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "invalid PCI address '%s': expected DDDD:BB:SS.F (bus <= ff, slot <= 1f, "
                "function <= 7)",
                str ? str : "");
    return FALSE;
}

gboolean
sk_pci_addr_equal(const SkPciAddr *a, const SkPciAddr *b)
{
    return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot &&
           a->function == b->function;
}

gboolean
sk_pci_addr_is_empty(const SkPciAddr *addr)
{
    return addr->domain == 0 && addr->bus == 0 && addr->slot == 0;
}
