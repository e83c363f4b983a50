/* Unit tests for sk-pci: the per-model table (rules table 1.1), flag compatibility (rules
 * section 3) and PCI addresses. */
#include <glib.h>
#include <string.h>

#include "sk-error.h"
#include "sk-pci.h"

#define TYPES SK_CONNECT_TYPES_MASK
#define AUTO SK_CONNECT_AUTOASSIGN
#define HOT SK_CONNECT_HOTPLUGGABLE

/* Every flag the header defines; bus flags are compared within this mask. */
#define ALL_FLAGS (TYPES | AUTO | HOT | SK_CONNECT_INTEGRATED | SK_CONNECT_AGGREGATE_SLOT)

typedef struct {
    SkPciModel model;
    const char *name;
    const char *default_name; /* <model name=...> libvirt fills in */
    SkConnectFlags connect;   /* own upstream type */
    SkConnectFlags accepts;   /* bus flags, with the default hotplug setting */
    guint min_slot;
    guint max_slot;
    gboolean hotplug_option; /* <target hotplug=...> allowed */
} ModelRow;

/* Table 1.1 of reference/libvirt-pci-rules.md (virDomainPCIAddressBusSetModel and
 * virDomainPCIControllerModelToConnectType in libvirt 9.0). */
static const ModelRow model_table[] = {
    { SK_PCI_MODEL_PCI_ROOT, "pci-root", NULL, 0,
      SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE | SK_CONNECT_PCI_EXPANDER_BUS | AUTO | HOT, 1,
      31, TRUE },
    { SK_PCI_MODEL_PCIE_ROOT, "pcie-root", NULL, 0,
      SK_CONNECT_PCIE_DEVICE | SK_CONNECT_PCIE_ROOT_PORT | SK_CONNECT_DMI_TO_PCI_BRIDGE |
          SK_CONNECT_PCIE_EXPANDER_BUS,
      1, 31, FALSE },
    { SK_PCI_MODEL_PCI_BRIDGE, "pci-bridge", "pci-bridge", SK_CONNECT_PCI_BRIDGE,
      SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE | AUTO | HOT, 1, 31, FALSE },
    { SK_PCI_MODEL_DMI_TO_PCI_BRIDGE, "dmi-to-pci-bridge", "i82801b11-bridge",
      SK_CONNECT_DMI_TO_PCI_BRIDGE, SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE, 0, 31, FALSE },
    { SK_PCI_MODEL_PCIE_ROOT_PORT, "pcie-root-port", "pcie-root-port",
      SK_CONNECT_PCIE_ROOT_PORT | SK_CONNECT_AGGREGATE_SLOT,
      SK_CONNECT_PCIE_DEVICE | SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT |
          SK_CONNECT_PCIE_TO_PCI_BRIDGE | AUTO | HOT,
      0, 0, TRUE },
    { SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT, "pcie-switch-upstream-port", "x3130-upstream",
      SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT, SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT, 0, 31, FALSE },
    { SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT, "pcie-switch-downstream-port", "xio3130-downstream",
      SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT,
      SK_CONNECT_PCIE_DEVICE | SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT |
          SK_CONNECT_PCIE_TO_PCI_BRIDGE | AUTO | HOT,
      0, 0, TRUE },
    { SK_PCI_MODEL_PCI_EXPANDER_BUS, "pci-expander-bus", "pxb", SK_CONNECT_PCI_EXPANDER_BUS,
      SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE | AUTO | HOT, 0, 31, FALSE },
    { SK_PCI_MODEL_PCIE_EXPANDER_BUS, "pcie-expander-bus", "pxb-pcie", SK_CONNECT_PCIE_EXPANDER_BUS,
      SK_CONNECT_PCIE_ROOT_PORT | SK_CONNECT_DMI_TO_PCI_BRIDGE, 0, 31, FALSE },
    { SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE, "pcie-to-pci-bridge", "pcie-pci-bridge",
      SK_CONNECT_PCIE_TO_PCI_BRIDGE, SK_CONNECT_PCI_DEVICE | SK_CONNECT_PCI_BRIDGE | AUTO | HOT, 1,
      31, FALSE },
};

static void
test_model_names(void)
{
    g_assert_cmpuint(G_N_ELEMENTS(model_table), ==, SK_PCI_MODEL_LAST);
    for (guint i = 0; i < G_N_ELEMENTS(model_table); i++) {
        const ModelRow *row = &model_table[i];

        g_test_message("model %s", row->name);
        g_assert_cmpstr(sk_pci_model_to_string(row->model), ==, row->name);
        g_assert_cmpint(sk_pci_model_from_string(row->name), ==, row->model);
        g_assert_cmpstr(sk_pci_model_default_name(row->model), ==, row->default_name);
    }
    g_assert_null(sk_pci_model_to_string(SK_PCI_MODEL_NONE));
    g_assert_cmpint(sk_pci_model_from_string("pcie-root-portx"), ==, SK_PCI_MODEL_NONE);
    g_assert_cmpint(sk_pci_model_from_string("ioh3420"), ==, SK_PCI_MODEL_NONE);
    g_assert_cmpint(sk_pci_model_from_string(""), ==, SK_PCI_MODEL_NONE);
    g_assert_cmpint(sk_pci_model_from_string("PCIE-ROOT-PORT"), ==, SK_PCI_MODEL_NONE);
}

static void
test_model_name_valid(void)
{
    /* The root port also accepts the older ioh3420; every other model only its own name. */
    g_assert_true(sk_pci_model_name_valid(SK_PCI_MODEL_PCIE_ROOT_PORT, "pcie-root-port"));
    g_assert_true(sk_pci_model_name_valid(SK_PCI_MODEL_PCIE_ROOT_PORT, "ioh3420"));
    g_assert_false(sk_pci_model_name_valid(SK_PCI_MODEL_PCIE_ROOT_PORT, "pcie-pci-bridge"));
    g_assert_false(sk_pci_model_name_valid(SK_PCI_MODEL_PCIE_ROOT_PORT, "xio3130-downstream"));
    g_assert_false(sk_pci_model_name_valid(SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT, "ioh3420"));
    g_assert_false(sk_pci_model_name_valid(SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE, "pci-bridge"));
    g_assert_false(sk_pci_model_name_valid(SK_PCI_MODEL_PCI_BRIDGE, "pcie-pci-bridge"));
    g_assert_false(sk_pci_model_name_valid(SK_PCI_MODEL_DMI_TO_PCI_BRIDGE, "pci-bridge"));
    for (guint i = 0; i < G_N_ELEMENTS(model_table); i++) {
        const ModelRow *row = &model_table[i];

        if (row->default_name == NULL)
            continue;
        g_assert_true(sk_pci_model_name_valid(row->model, row->default_name));
        g_assert_false(sk_pci_model_name_valid(row->model, "bogus"));
        /* No other model's name is valid for this model (except ioh3420 handled above). */
        for (guint j = 0; j < G_N_ELEMENTS(model_table); j++) {
            if (j == i || model_table[j].default_name == NULL)
                continue;
            g_assert_false(sk_pci_model_name_valid(row->model, model_table[j].default_name));
        }
    }
}

static void
test_model_flags(void)
{
    for (guint i = 0; i < G_N_ELEMENTS(model_table); i++) {
        const ModelRow *row = &model_table[i];
        guint min_slot = 99, max_slot = 99;

        g_test_message("model %s", row->name);
        g_assert_cmphex(sk_pci_model_connect_type(row->model) & ALL_FLAGS, ==, row->connect);
        g_assert_cmphex(sk_pci_model_bus_flags(row->model) & ALL_FLAGS, ==, row->accepts);
        sk_pci_model_slot_range(row->model, &min_slot, &max_slot);
        g_assert_cmpuint(min_slot, ==, row->min_slot);
        g_assert_cmpuint(max_slot, ==, row->max_slot);
        g_assert_cmpint(sk_pci_model_accepts_hotplug_option(row->model), ==, row->hotplug_option);
    }
}

/* The four buses that never receive auto-placed endpoints (rules section 0, rule 2). */
static void
test_no_autoassign_buses(void)
{
    const SkPciModel models[] = { SK_PCI_MODEL_PCIE_ROOT, SK_PCI_MODEL_DMI_TO_PCI_BRIDGE,
                                  SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT,
                                  SK_PCI_MODEL_PCIE_EXPANDER_BUS };

    for (guint i = 0; i < G_N_ELEMENTS(models); i++) {
        SkConnectFlags flags = sk_pci_model_bus_flags(models[i]);

        g_assert_false(flags & SK_CONNECT_AUTOASSIGN);
        g_assert_false(flags & SK_CONNECT_HOTPLUGGABLE);
        g_assert_false(sk_pci_flags_compatible(SK_CONNECT_PCIE_DEVICE | AUTO, flags, FALSE, NULL));
        g_assert_false(sk_pci_flags_compatible(SK_CONNECT_PCI_DEVICE | AUTO, flags, FALSE, NULL));
    }
}

static void
check_compat(SkConnectFlags dev, SkConnectFlags bus, gboolean from_config, gboolean expected)
{
    g_autofree char *why = NULL;
    gboolean ok = sk_pci_flags_compatible(dev, bus, from_config, &why);

    g_test_message("dev 0x%x bus 0x%x from_config %d -> %d (%s)", dev, bus, from_config, ok,
                   why ? why : "");
    g_assert_cmpint(ok, ==, expected);
    if (!ok) {
        g_assert_nonnull(why);
        g_assert_cmpstr(why, !=, "");
    }
}

static void
test_flags_compatible(void)
{
    SkConnectFlags pcie_root = sk_pci_model_bus_flags(SK_PCI_MODEL_PCIE_ROOT);
    SkConnectFlags root_port = sk_pci_model_bus_flags(SK_PCI_MODEL_PCIE_ROOT_PORT);
    SkConnectFlags port_noplug = root_port & ~HOT;
    SkConnectFlags bridge = sk_pci_model_bus_flags(SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
    SkConnectFlags dmi = sk_pci_model_bus_flags(SK_PCI_MODEL_DMI_TO_PCI_BRIDGE);
    SkConnectFlags pci_root = sk_pci_model_bus_flags(SK_PCI_MODEL_PCI_ROOT);
    SkConnectFlags upstream = sk_pci_model_bus_flags(SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT);
    SkConnectFlags pcie_dev = SK_CONNECT_PCIE_DEVICE | AUTO;
    SkConnectFlags pci_dev = SK_CONNECT_PCI_DEVICE | AUTO;

    /* Auto placement: type match + AUTOASSIGN on the bus. */
    check_compat(pcie_dev, root_port, FALSE, TRUE);
    check_compat(pci_dev, bridge, FALSE, TRUE);
    check_compat(pci_dev, pci_root, FALSE, TRUE);
    check_compat(pcie_dev, pcie_root, FALSE, FALSE); /* no AUTOASSIGN on pcie-root */
    check_compat(pci_dev, root_port, FALSE, FALSE);  /* PCI into a PCIe port */
    check_compat(pcie_dev, bridge, FALSE, FALSE);    /* PCIe into a PCI bridge */
    check_compat(pci_dev, dmi, FALSE, FALSE);        /* dmi has no AUTOASSIGN */
    check_compat(pcie_dev, upstream, FALSE, FALSE);

    /* Explicit addresses relax PCI/PCIe and skip the AUTOASSIGN requirement. */
    check_compat(pcie_dev, pcie_root, TRUE, TRUE);
    check_compat(SK_CONNECT_PCIE_DEVICE, pcie_root, TRUE, TRUE);
    check_compat(pci_dev, pcie_root, TRUE, TRUE);
    check_compat(pci_dev, root_port, TRUE, TRUE);
    check_compat(pcie_dev, bridge, TRUE, TRUE);
    check_compat(pci_dev, dmi, TRUE, TRUE);
    /* ...but not onto a bus that takes no endpoints at all. */
    check_compat(pcie_dev, upstream, TRUE, FALSE);
    check_compat(pci_dev, upstream, TRUE, FALSE);

    /* Hotplug is enforced even for explicit addresses. */
    check_compat(pcie_dev | HOT, root_port, FALSE, TRUE);
    check_compat(pcie_dev | HOT, port_noplug, FALSE, FALSE);
    check_compat(pcie_dev | HOT, port_noplug, TRUE, FALSE);
    check_compat(pci_dev | HOT, bridge, FALSE, TRUE);
    check_compat(pci_dev | HOT, dmi, TRUE, FALSE);
    check_compat(pcie_dev | HOT, pcie_root, TRUE, FALSE);
    check_compat(pci_dev | HOT, pci_root, FALSE, TRUE);
    check_compat(pci_dev | HOT, pci_root & ~HOT, FALSE, FALSE);

    /* Controllers carry no AUTOASSIGN, so they go where their type is accepted. */
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_ROOT_PORT), pcie_root, FALSE, TRUE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_DMI_TO_PCI_BRIDGE), pcie_root, FALSE, TRUE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), root_port, FALSE,
                 TRUE);
    /* A pcie-to-pci-bridge is rejected on pcie-root, even with an explicit address. */
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), pcie_root, FALSE,
                 FALSE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), pcie_root, TRUE,
                 FALSE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_ROOT_PORT), bridge, FALSE, FALSE);
    /* A pci-bridge with an explicit address may go wherever a PCI device may (00:05.0 on
     * pcie-root was accepted by libvirt), but auto placement needs a PCI_BRIDGE bus. */
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCI_BRIDGE), pcie_root, TRUE, TRUE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCI_BRIDGE), pcie_root, FALSE, FALSE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCI_BRIDGE), bridge, FALSE, TRUE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCI_BRIDGE), dmi, FALSE, TRUE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT), root_port,
                 FALSE, TRUE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT), upstream,
                 FALSE, TRUE);
    check_compat(sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT), pcie_root,
                 FALSE, FALSE);

    /* NULL @why is allowed. */
    g_assert_false(sk_pci_flags_compatible(pcie_dev, pcie_root, FALSE, NULL));
}

static void
test_flags_describe(void)
{
    g_autofree char *pcie = sk_pci_flags_describe(SK_CONNECT_PCIE_DEVICE);
    g_autofree char *pci = sk_pci_flags_describe(SK_CONNECT_PCI_DEVICE | AUTO);

    g_assert_nonnull(pcie);
    g_assert_nonnull(pci);
    g_assert_cmpstr(pcie, !=, "");
    g_assert_cmpstr(pci, !=, "");
    g_assert_cmpstr(pcie, !=, pci);
}

static void
test_addr_format(void)
{
    const SkPciAddr a = { 0, 1, 2, 3 };
    const SkPciAddr b = { 0, 0, 0x1f, 2 };
    const SkPciAddr c = { 0, 0xff, 0x1f, 7 };
    g_autofree char *sa = sk_pci_addr_format(&a);
    g_autofree char *sb = sk_pci_addr_format(&b);
    g_autofree char *sc = sk_pci_addr_format(&c);

    g_assert_cmpstr(sa, ==, "0000:01:02.3");
    g_assert_cmpstr(sb, ==, "0000:00:1f.2");
    g_assert_cmpstr(sc, ==, "0000:ff:1f.7");
}

static void
test_addr_parse(void)
{
    const char *bad[] = { "",
                          "zz",
                          "0000:01:02",
                          "01:02",
                          "0000:01:02.",
                          "0000:01:20.0",
                          "0000:01:02.8",
                          "0000:100:02.0",
                          "0000:01:02.3x",
                          "1:2:3:4.5",
                          "0000:0g:02.0",
                          "-1:02.0" };
    SkPciAddr addr = { 9, 9, 9, 9 };
    const SkPciAddr want = { 0, 1, 2, 3 };
    const SkPciAddr want2 = { 0, 0x0a, 0x1f, 7 };

    g_assert_true(sk_pci_addr_parse("0000:01:02.3", &addr, NULL));
    g_assert_true(sk_pci_addr_equal(&addr, &want));
    memset(&addr, 9, sizeof(addr));
    g_assert_true(sk_pci_addr_parse("01:02.3", &addr, NULL));
    g_assert_true(sk_pci_addr_equal(&addr, &want));
    g_assert_true(sk_pci_addr_parse("0000:0a:1f.7", &addr, NULL));
    g_assert_true(sk_pci_addr_equal(&addr, &want2));
    g_assert_true(sk_pci_addr_parse("0000:0A:1F.7", &addr, NULL));
    g_assert_true(sk_pci_addr_equal(&addr, &want2));

    for (guint i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;

        g_test_message("parsing '%s'", bad[i]);
        g_assert_false(sk_pci_addr_parse(bad[i], &addr, &error));
        g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT);
    }

    /* Round trip. */
    for (guint bus = 0; bus < 256; bus += 17) {
        for (guint slot = 0; slot < 32; slot += 5) {
            for (guint fn = 0; fn < 8; fn += 3) {
                SkPciAddr in = { 0, bus, slot, fn };
                SkPciAddr out;
                g_autofree char *s = sk_pci_addr_format(&in);

                g_assert_true(sk_pci_addr_parse(s, &out, NULL));
                g_assert_true(sk_pci_addr_equal(&in, &out));
            }
        }
    }
}

static void
test_addr_equal_empty(void)
{
    const SkPciAddr zero = { 0, 0, 0, 0 };
    const SkPciAddr zero_fn = { 0, 0, 0, 3 };
    const SkPciAddr slot1 = { 0, 0, 1, 0 };
    const SkPciAddr bus1 = { 0, 1, 0, 0 };
    const SkPciAddr bus1_fn1 = { 0, 1, 0, 1 };

    /* 0000:00:00.x means "no address" whatever the function (virPCIDeviceAddressIsEmpty). */
    g_assert_true(sk_pci_addr_is_empty(&zero));
    g_assert_true(sk_pci_addr_is_empty(&zero_fn));
    g_assert_false(sk_pci_addr_is_empty(&slot1));
    g_assert_false(sk_pci_addr_is_empty(&bus1));

    g_assert_true(sk_pci_addr_equal(&bus1, &bus1));
    g_assert_false(sk_pci_addr_equal(&bus1, &bus1_fn1));
    g_assert_false(sk_pci_addr_equal(&bus1, &slot1));
    g_assert_false(sk_pci_addr_equal(&zero, &zero_fn));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/pci/model/names", test_model_names);
    g_test_add_func("/pci/model/name-valid", test_model_name_valid);
    g_test_add_func("/pci/model/flags", test_model_flags);
    g_test_add_func("/pci/model/no-autoassign", test_no_autoassign_buses);
    g_test_add_func("/pci/flags/compatible", test_flags_compatible);
    g_test_add_func("/pci/flags/describe", test_flags_describe);
    g_test_add_func("/pci/addr/format", test_addr_format);
    g_test_add_func("/pci/addr/parse", test_addr_parse);
    g_test_add_func("/pci/addr/equal-empty", test_addr_equal_empty);

    return g_test_run();
}
