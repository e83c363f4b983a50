/* Unit tests for sk-planner attach plans on domain XMLs produced by the real libvirtd 9.0
 * (tests/data/make-fixtures.sh), checked against libvirt's placement rules
 * (reference/libvirt-pci-rules.md sections 3, 4, 5, 6 and 11). */
#include "test-common.h"
/* ---- policy helpers ------------------------------------------------------------------------- */

static void
test_policy(void)
{
    SkPolicy p;
    SkPlanOptions o;
    SkLegacyBridge mode = SK_LEGACY_BRIDGE_NEVER;
    const char *names[] = { "lazy", "eager", "never" };
    g_autoptr(GError) error = NULL;

    sk_policy_init(&p);
    g_assert_cmpuint(p.spare_ports, ==, 4);
    g_assert_cmpint(p.legacy_bridge, ==, SK_LEGACY_BRIDGE_LAZY);
    g_assert_cmpuint(p.root_port_cap, ==, 0);
    g_assert_cmpuint(sk_policy_root_port_cap(&p, "x86_64"), ==, 14);
    g_assert_cmpuint(sk_policy_root_port_cap(&p, "aarch64"), ==, 28);
    p.root_port_cap = 6;
    g_assert_cmpuint(sk_policy_root_port_cap(&p, "x86_64"), ==, 6);
    g_assert_cmpuint(sk_policy_root_port_cap(&p, "aarch64"), ==, 6);

    for (guint i = 0; i < G_N_ELEMENTS(names); i++) {
        g_assert_true(sk_legacy_bridge_from_string(names[i], &mode, NULL));
        g_assert_cmpint(mode, ==, (SkLegacyBridge)i);
        g_assert_cmpstr(sk_legacy_bridge_to_string(mode), ==, names[i]);
    }
    g_assert_false(sk_legacy_bridge_from_string("sometimes", &mode, &error));
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT);

    sk_plan_options_init(&o);
    g_assert_true(o.hotplug_require);
    g_assert_cmpuint(o.policy.spare_ports, ==, 4);
    g_assert_cmpint(o.policy.legacy_bridge, ==, SK_LEGACY_BRIDGE_LAZY);
}

/* ---- attach: q35 ---------------------------------------------------------------------------- */

static void
test_q35_virtio_nic(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkTopology) run = load_live("q35-default.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions live = opts_make(TRUE, FALSE, TRUE);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(topo, NULL, dev, &config);
    g_autoptr(SkPlan) p2 = plan_ok(topo, run, dev, &live);
    g_autoptr(SkPlan) p3 = plan_ok(topo, run, dev, &both);

    /* Root port 3 is the only empty hotplug port. */
    assert_addr(&p1->address, A(3, 0, 0));
    assert_addr(&p2->address, A(3, 0, 0));
    assert_addr(&p3->address, A(3, 0, 0));
    g_assert_cmpuint(n_new(p1, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
}

static void
test_q35_pcie_devices(void)
{
    const char *files[] = { "net-e1000e.xml", "disk-virtio.xml", "rng-virtio.xml" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autoptr(SkTopology) topo = load("q35-default.xml");
        g_autoptr(SkDevice) dev = device_file(files[i], topo);
        SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
        g_autoptr(SkPlan) plan = NULL;

        g_test_message("device %s", files[i]);
        plan = plan_ok(topo, NULL, dev, &config);
        assert_addr(&plan->address, A(3, 0, 0));
        g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
    }
}

/* A conventional-PCI device that must stay hot-unpluggable on a q35 without a bridge: the plan
 * adds a root port + pcie-to-pci-bridge and puts the device on bridge slot 1. */
static void
check_legacy_chain_added(const char *fixture, const char *device, SkLegacyBridge mode)
{
    g_autoptr(SkTopology) topo = load(fixture);
    g_autoptr(SkDevice) dev = device_file(device, topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = NULL;
    const SkNewController *bridge, *port;

    g_test_message("%s + %s", fixture, device);
    config.policy.legacy_bridge = mode;
    plan = plan_ok(topo, NULL, dev, &config);
    g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
    bridge = new_of_model(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
    port = new_by_index(plan, bridge->address.bus);
    g_assert(port != NULL);
    g_assert_cmpint(port->model, ==, SK_PCI_MODEL_PCIE_ROOT_PORT);
    assert_addr(&plan->address, A(bridge->index, 1, 0));
}

static void
test_q35_legacy_lazy(void)
{
    const char *legacy[] = { "net-rtl8139.xml", "net-e1000.xml", "net-virtio-transitional.xml",
                             "net-default.xml", "scsi-lsilogic.xml" };

    for (guint i = 0; i < G_N_ELEMENTS(legacy); i++) {
        check_legacy_chain_added("q35-default.xml", legacy[i], SK_LEGACY_BRIDGE_LAZY);
        check_legacy_chain_added("q35-bare.xml", legacy[i], SK_LEGACY_BRIDGE_LAZY);
    }
    check_legacy_chain_added("q35-default.xml", "net-rtl8139.xml", SK_LEGACY_BRIDGE_EAGER);
    check_legacy_chain_added("q35-virt-manager.xml", "net-rtl8139.xml", SK_LEGACY_BRIDGE_LAZY);
    check_legacy_chain_added("q35-full.xml", "net-e1000.xml", SK_LEGACY_BRIDGE_LAZY);
    check_legacy_chain_added("virt-aarch64.xml", "net-rtl8139.xml", SK_LEGACY_BRIDGE_LAZY);
}

/* Exact layout for the common case: q35-default has indexes 0-3 and root ports at 00:01.0-2. */
static void
test_q35_legacy_layout(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_file("net-rtl8139.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);
    const SkNewController *port = new_by_index(plan, 4);
    const SkNewController *bridge = new_by_index(plan, 5);

    /* The bridge needs a root port of its own; both get the lowest unused indexes. */
    g_assert(port != NULL);
    g_assert(bridge != NULL);
    g_assert_cmpint(port->model, ==, SK_PCI_MODEL_PCIE_ROOT_PORT);
    g_assert_cmpint(bridge->model, ==, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
    assert_addr(&port->address, A(0, 1, 3));
    g_assert_cmpint(port->port, ==, 0xb);
    g_assert_cmpint(port->chassis, ==, 4);
    g_assert_cmpstr(port->model_name, ==, "pcie-root-port");
    assert_addr(&bridge->address, A(4, 0, 0));
    g_assert_cmpstr(bridge->model_name, ==, "pcie-pci-bridge");
    assert_addr(&plan->address, A(5, 1, 0));
}

static void
test_q35_legacy_never(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_file("net-rtl8139.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = NULL;

    config.policy.legacy_bridge = SK_LEGACY_BRIDGE_NEVER;
    plan = plan_refused(topo, NULL, dev, &config, SK_ERROR_NO_FREE_SLOT);
    g_assert(plan->remedy != NULL);
    g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
    g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_DMI_TO_PCI_BRIDGE), ==, 0);
    g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCI_BRIDGE), ==, 0);
}

/* With a pcie-to-pci-bridge present, legacy devices take its first free slot. */
static void
test_q35_legacy_existing_bridge(void)
{
    const char *legacy[] = { "net-rtl8139.xml", "net-e1000.xml", "net-virtio-transitional.xml" };

    for (guint i = 0; i < G_N_ELEMENTS(legacy); i++) {
        g_autoptr(SkTopology) topo = load("q35-legacy-chain.xml");
        g_autoptr(SkTopology) run = load_live("q35-legacy-chain.xml");
        g_autoptr(SkDevice) dev = device_file(legacy[i], topo);
        SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
        SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
        g_autoptr(SkPlan) p1 = NULL;
        g_autoptr(SkPlan) p2 = NULL;

        config.policy.legacy_bridge = SK_LEGACY_BRIDGE_NEVER;
        p1 = plan_ok(topo, NULL, dev, &config);
        assert_addr(&p1->address, A(2, 2, 0));
        g_assert_cmpuint(p1->controllers->len, ==, 0);
        p2 = plan_ok(topo, run, dev, &both);
        assert_addr(&p2->address, A(2, 2, 0));
    }
}

/* dmi-to-pci-bridge slots never take hotplug, but the pci-bridge behind it does. */
static void
test_q35_dmi(void)
{
    g_autoptr(SkTopology) topo = load("q35-dmi.xml");
    g_autoptr(SkTopology) run = load_live("q35-dmi.xml");
    g_autoptr(SkDevice) dev = device_file("net-rtl8139.xml", topo);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, run, dev, &both);

    assert_addr(&plan->address, A(2, 2, 0));
}

/* hotplug-require=no: an integrated endpoint on pcie-root, legacy devices too, no port used. */
static void
test_q35_require_no(void)
{
    const char *files[] = { "net-virtio.xml",
                            "net-e1000e.xml",
                            "net-rtl8139.xml",
                            "net-e1000.xml",
                            "net-virtio-transitional.xml",
                            "disk-virtio.xml" };

    for (guint i = 0; i < G_N_ELEMENTS(files); i++) {
        g_autoptr(SkTopology) topo = load("q35-default.xml");
        g_autoptr(SkDevice) dev = device_file(files[i], topo);
        SkPlanOptions config = opts_make(FALSE, TRUE, FALSE);
        g_autoptr(SkPlan) plan = NULL;
        SkPciAddr want;

        g_test_message("device %s", files[i]);
        plan = plan_ok(topo, NULL, dev, &config);
        g_assert_true(lowest_free_slot(topo, 0, &want));
        assert_addr(&plan->address, want);
        assert_addr(&plan->address, A(0, 2, 0));
        g_assert_cmpuint(plan->controllers->len, ==, 0);
    }
}

static void
test_q35_require_no_cap(void)
{
    /* Every root port is taken and the cap reached: bus 0 still has room. */
    g_autoptr(SkTopology) topo = load("q35-cap.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, FALSE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);
    SkPciAddr want;

    g_assert_true(lowest_free_slot(topo, 0, &want));
    assert_addr(&plan->address, want);
    g_assert_cmpuint(plan->controllers->len, ==, 0);
}

/* Bus 0 full: hotplug-require=no falls back to a hotplug slot. */
static void
test_q35_require_no_root_full(void)
{
    g_autoptr(SkTopology) topo = load("q35-root-full.xml");
    g_autoptr(SkDevice) virtio = device_file("net-virtio.xml", topo);
    g_autoptr(SkDevice) legacy = device_file("net-rtl8139.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, FALSE);
    g_autoptr(SkPlan) p1 = NULL;
    g_autoptr(SkPlan) p2 = NULL;
    SkPciAddr unused;

    g_assert_false(lowest_free_slot(topo, 0, &unused));
    p1 = plan_ok(topo, NULL, virtio, &config);
    assert_addr(&p1->address, A(2, 0, 0));
    p2 = plan_ok(topo, NULL, legacy, &config);
    g_assert_cmpuint(n_new(p2, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
    g_assert_cmpuint(p2->address.bus, ==, new_of_model(p2, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE)->index);
}

/* hotplug-require=no never puts a device on pcie-root for a live attach: pcie-root takes no
 * hotplug. */
static void
test_q35_require_no_live(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkTopology) run = load_live("q35-default.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions both = opts_make(TRUE, TRUE, FALSE);
    g_autoptr(SkPlan) plan = plan_ok(topo, run, dev, &both);

    g_assert_cmpuint(plan->address.bus, !=, 0);
}

/* No free root port: a persistent-only attach adds one; a live one is refused with the
 * next-boot remedy. */
static void
test_q35_full(void)
{
    g_autoptr(SkTopology) topo = load("q35-full.xml");
    g_autoptr(SkTopology) run = load_live("q35-full.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    SkPlanOptions live = opts_make(TRUE, FALSE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(topo, NULL, dev, &config);
    g_autoptr(SkPlan) p2 = NULL;
    g_autoptr(SkPlan) p3 = NULL;
    const SkNewController *port;

    port = new_by_index(p1, 4);
    g_assert(port != NULL);
    g_assert_cmpint(port->model, ==, SK_PCI_MODEL_PCIE_ROOT_PORT);
    assert_addr(&port->address, A(0, 1, 3));
    assert_addr(&p1->address, A(4, 0, 0));

    p2 = plan_refused(topo, run, dev, &both, SK_ERROR_NO_FREE_SLOT);
    g_assert(p2->remedy != NULL);
    /* What the persistent definition would need, for the next cold boot. */
    g_assert_cmpuint(n_new(p2, SK_PCI_MODEL_PCIE_ROOT_PORT), >=, 1);
    check_new_controllers(topo, p2);

    p3 = plan_refused(topo, run, dev, &live, SK_ERROR_NO_FREE_SLOT);
    g_assert(p3->remedy != NULL);
}

static void
test_q35_cap(void)
{
    g_autoptr(SkTopology) topo = load("q35-cap.xml");
    g_autoptr(SkTopology) run = load_live("q35-cap.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_refused(topo, NULL, dev, &config, SK_ERROR_NO_FREE_SLOT);
    g_autoptr(SkPlan) p2 = plan_refused(topo, run, dev, &both, SK_ERROR_NO_FREE_SLOT);

    /* 14 root ports: the x86_64 cap forbids a 15th. */
    g_assert_cmpuint(n_new(p1, SK_PCI_MODEL_PCIE_ROOT_PORT), ==, 0);
    g_assert_cmpuint(n_new(p2, SK_PCI_MODEL_PCIE_ROOT_PORT), ==, 0);
}

/* hotplug='off' ports are skipped even though empty (port 2), port 3 is the first usable. */
/* At the cap, a legacy device still gets a bridge: it goes into an existing empty root port
 * instead of a new one (virt-install's default 14-port layout hit this). */
static void
test_q35_cap_legacy(void)
{
    g_autoptr(SkTopology) topo = load("q35-cap-spare.xml");
    g_autoptr(SkDevice) dev = device_file("net-rtl8139.xml", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);
    const SkNewController *bridge = new_of_model(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);

    g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_ROOT_PORT), ==, 0);
    g_assert_nonnull(bridge);
    /* The first empty port: bus 1 holds the NIC, so port index 2. */
    assert_addr(&bridge->address, A(2, 0, 0));
    g_assert_cmpuint(bridge->index, ==, 15);
    assert_addr(&plan->address, A(15, 1, 0));
}

static void
test_q35_hotplug_off(void)
{
    g_autoptr(SkTopology) topo = load("q35-hotplug-off.xml");
    g_autoptr(SkTopology) run = load_live("q35-hotplug-off.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(topo, run, dev, &both);
    g_autoptr(SkPlan) p2 = plan_ok(topo, NULL, dev, &config);

    assert_addr(&p1->address, A(3, 0, 0));
    assert_addr(&p2->address, A(3, 0, 0));
}

static void
test_q35_switch(void)
{
    g_autoptr(SkTopology) topo = load("q35-switch.xml");
    g_autoptr(SkTopology) run = load_live("q35-switch.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, run, dev, &both);

    /* Downstream port 3 holds the NIC, 4 is the first empty hotplug port. */
    assert_addr(&plan->address, A(4, 0, 0));
}

/* Live and persistent differ: the address must be free in both (rules section 6). */
static void
test_live_and_config(void)
{
    g_autoptr(SkTopology) live = load("q35-live.xml");
    g_autoptr(SkTopology) config = load("q35-live-inactive.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", config);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    SkPlanOptions live_only = opts_make(TRUE, FALSE, TRUE);
    SkPlanOptions config_only = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(config, live, dev, &both);
    g_autoptr(SkPlan) p2 = plan_ok(config, live, dev, &live_only);
    g_autoptr(SkPlan) p3 = plan_ok(config, live, dev, &config_only);

    /* live has 3, 5, 6 free; persistent 4, 5, 6: only 5 and 6 are free in both. */
    assert_addr(&p1->address, A(5, 0, 0));
    g_assert_null(sk_topology_find_occupant(live, &p1->address));
    g_assert_null(sk_topology_find_occupant(config, &p1->address));
    assert_addr(&p2->address, A(3, 0, 0));
    assert_addr(&p3->address, A(4, 0, 0));
}

/* ---- explicit addresses --------------------------------------------------------------------- */

#define NIC_AT(bus, slot, fn)                                                               \
    "<interface type='user'><mac address='52:54:00:5c:e0:01'/><model type='virtio'/>"       \
    "<address type='pci' domain='0x0000' bus='" bus "' slot='" slot "' function='" fn "'/>" \
    "</interface>"

static void
test_explicit_address(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkTopology) run = load_live("q35-default.xml");
    g_autoptr(SkTopology) sw = load("q35-switch.xml");
    g_autoptr(SkDevice) ok = device_file("net-virtio-addr.xml", topo);
    g_autoptr(SkDevice) taken = device_xml(NIC_AT("0x01", "0x00", "0x0"), topo);
    g_autoptr(SkDevice) on_root = device_xml(NIC_AT("0x00", "0x05", "0x0"), topo);
    g_autoptr(SkDevice) fn1 = device_xml(NIC_AT("0x03", "0x00", "0x1"), topo);
    g_autoptr(SkDevice) no_bus = device_xml(NIC_AT("0x09", "0x00", "0x0"), topo);
    g_autoptr(SkDevice) bad_slot = device_xml(NIC_AT("0x03", "0x01", "0x0"), topo);
    g_autoptr(SkDevice) chipset = device_xml(NIC_AT("0x00", "0x1f", "0x0"), topo);
    g_autoptr(SkDevice) upstream = device_xml(NIC_AT("0x02", "0x01", "0x0"), sw);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions config_noreq = opts_make(FALSE, TRUE, FALSE);
    SkPlanOptions live = opts_make(TRUE, FALSE, TRUE);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(topo, NULL, ok, &config);
    g_autoptr(SkPlan) p2 = plan_ok(topo, run, ok, &both);
    g_autoptr(SkPlan) p3 = plan_ok(topo, NULL, on_root, &config_noreq);

    /* A valid address is used as given. */
    assert_addr(&p1->address, A(3, 0, 0));
    assert_addr(&p2->address, A(3, 0, 0));
    assert_addr(&p3->address, A(0, 5, 0));
    g_assert_cmpuint(p3->controllers->len, ==, 0);

    /* Taken (by qemu-xhci, and by the chipset). */
    plan_error(topo, NULL, taken, &config, SK_ERROR_INVALID_ADDRESS);
    plan_error(topo, run, taken, &both, SK_ERROR_INVALID_ADDRESS);
    plan_error(topo, NULL, chipset, &config_noreq, SK_ERROR_INVALID_ADDRESS);
    /* Live onto pcie-root: no hotplug there. */
    plan_error(topo, run, on_root, &live, SK_ERROR_INVALID_ADDRESS);
    plan_error(topo, run, on_root, &both, SK_ERROR_INVALID_ADDRESS);
    /* Live hotplug takes function 0 only. */
    plan_error(topo, run, fn1, &live, SK_ERROR_INVALID_ADDRESS);
    /* Live: the bus must exist now. */
    plan_error(topo, run, no_bus, &live, SK_ERROR_INVALID_ADDRESS);
    /* A root port has slot 0 only. */
    plan_error(topo, NULL, bad_slot, &config, SK_ERROR_INVALID_ADDRESS);
    /* An upstream switch port takes downstream ports only, explicit or not. */
    plan_error(sw, NULL, upstream, &config_noreq, SK_ERROR_INVALID_ADDRESS);
}

/* ---- other machines ------------------------------------------------------------------------- */

static void
test_pc(void)
{
    g_autoptr(SkTopology) def = load("pc-default.xml");
    g_autoptr(SkTopology) def_run = load_live("pc-default.xml");
    g_autoptr(SkTopology) noacpi = load("pc-noacpi.xml");
    g_autoptr(SkTopology) noacpi_run = load_live("pc-noacpi.xml");
    g_autoptr(SkTopology) off = load("pc-hotplug-off.xml");
    g_autoptr(SkTopology) off_run = load_live("pc-hotplug-off.xml");
    g_autoptr(SkTopology) bridge = load("pc-bridge.xml");
    g_autoptr(SkTopology) bridge_run = load_live("pc-bridge.xml");
    g_autoptr(SkTopology) full = load("pc-full.xml");
    g_autoptr(SkDevice) nic = device_file("net-virtio.xml", def);
    g_autoptr(SkDevice) e1000 = device_file("net-e1000.xml", def);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions config_noreq = opts_make(FALSE, TRUE, FALSE);
    g_autoptr(SkPlan) p1 = plan_ok(def, def_run, nic, &both);
    g_autoptr(SkPlan) p2 = NULL;
    g_autoptr(SkPlan) p3 = NULL;
    g_autoptr(SkPlan) p4 = NULL;
    g_autoptr(SkPlan) p5 = NULL;
    g_autoptr(SkPlan) p6 = NULL;
    g_autoptr(SkPlan) p7 = NULL;
    SkPciAddr want;

    /* pc with ACPI: the lowest free pci-root slot. */
    g_assert_true(lowest_free_slot(def, 0, &want));
    assert_addr(&p1->address, want);
    g_assert_cmpuint(p1->controllers->len, ==, 0);

    /* No ACPI: pci-root takes no hotplug; live is refused, config gets a pci-bridge. */
    p2 = plan_refused(noacpi, noacpi_run, nic, &both, SK_ERROR_NO_FREE_SLOT);
    g_assert(p2->remedy != NULL);
    p3 = plan_ok(noacpi, NULL, nic, &config);
    g_assert_cmpuint(n_new(p3, SK_PCI_MODEL_PCI_BRIDGE), ==, 1);
    g_assert_true(lowest_free_slot(noacpi, 0, &want));
    assert_addr(&new_of_model(p3, SK_PCI_MODEL_PCI_BRIDGE)->address, want);
    assert_addr(&p3->address, A(1, 1, 0));

    /* pci-root hotplug='off' - libvirt would still pick 00:xx live; we must not. */
    p4 = plan_refused(off, off_run, nic, &both, SK_ERROR_NO_FREE_SLOT);
    p5 = plan_ok(off, NULL, nic, &config_noreq);
    g_assert_cmpuint(p5->address.bus, ==, 0);
    g_assert_cmpuint(p5->controllers->len, ==, 0);

    /* First hotplug bus in index order: pci-root before the bridge. */
    p6 = plan_ok(bridge, bridge_run, e1000, &both);
    g_assert_cmpuint(p6->address.bus, ==, 0);

    /* Nowhere left, not even for a new bridge. */
    p7 = plan_refused(full, NULL, e1000, &config, SK_ERROR_NO_FREE_SLOT);
    g_assert_cmpuint(n_new(p7, SK_PCI_MODEL_PCI_BRIDGE), ==, 0);
}

static void
test_virt_aarch64(void)
{
    g_autoptr(SkTopology) topo = load("virt-aarch64.xml");
    g_autoptr(SkTopology) run = load_live("virt-aarch64.xml");
    g_autoptr(SkDevice) dev = device_file("net-virtio.xml", topo);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    SkPlanOptions config_noreq = opts_make(FALSE, TRUE, FALSE);
    g_autoptr(SkPlan) p1 = plan_ok(topo, run, dev, &both);
    g_autoptr(SkPlan) p2 = plan_ok(topo, NULL, dev, &config_noreq);

    g_assert_cmpuint(p1->address.bus, !=, 0);
    g_assert_cmpuint(p2->address.bus, ==, 0);
}

/* Devices that need no PCI slot: no address, nothing added. */
static void
test_no_pci_needed(void)
{
    g_autoptr(SkTopology) mmio = load("virt-aarch64-mmio.xml");
    g_autoptr(SkTopology) q35 = load("q35-default.xml");
    g_autoptr(SkDevice) nic = device_file("net-virtio.xml", mmio);
    g_autoptr(SkDevice) sata =
        device_xml("<disk type='file' device='disk'><target dev='sdb' bus='sata'/></disk>", q35);
    SkPlanOptions config_noreq = opts_make(FALSE, TRUE, FALSE);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = NULL;
    g_autoptr(SkPlan) p2 = NULL;

    /* A device already uses virtio-mmio, so libvirt puts new virtio devices there too; with
     * hotplug-require=no the plan keeps that. */
    g_assert_cmpuint(nic->flags, ==, 0);
    p1 = plan_ok(mmio, NULL, nic, &config_noreq);
    g_assert_false(p1->has_address);
    g_assert_false(p1->virtio_pci);
    g_assert_cmpuint(p1->controllers->len, ==, 0);
    g_assert_cmpuint(p1->companions->len, ==, 0);

    g_assert_cmpuint(sata->flags, ==, 0);
    p2 = plan_ok(q35, NULL, sata, &config);
    g_assert_false(p2->has_address);
    g_assert_cmpuint(p2->controllers->len, ==, 0);
    g_assert_cmpuint(p2->companions->len, ==, 0);
    g_assert_false(p2->has_drive_address);
}

/* ---- nothing implicit: the controllers libvirt would add, placed explicitly --------------- */

#define SCSI_DISK(dev)                                                         \
    "<disk type='file' device='disk'><driver name='qemu' type='raw'/><source " \
    "file='/var/tmp/sk.img'/><target dev='" dev "' bus='scsi'/></disk>"
#define CHANNEL \
    "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>"

static const SkCompanion *
companion(const SkPlan *plan, guint i)
{
    g_assert_cmpuint(i, <, plan->companions->len);
    return plan->companions->pdata[i];
}

static void
assert_plan_drive(const SkPlan *plan, guint controller, guint unit)
{
    g_assert_true(plan->has_drive_address);
    g_assert_cmpuint(plan->drive_address.controller, ==, controller);
    g_assert_cmpuint(plan->drive_address.unit, ==, unit);
}

/* The case: libvirt would add an lsilogic controller behind a new pcie-to-pci-bridge
 * and say nothing; the plan names the controller, the chain and every address. */
static void
test_scsi_disk_config(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_xml(SCSI_DISK("sda"), topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);
    const SkCompanion *c = companion(plan, 0);
    const SkNewController *bridge = new_of_model(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
    g_autoptr(SkTopology) after = apply(topo, plan, dev);
    g_autofree char *xml = sk_edit_device_xml(dev, plan);
    g_autofree char *cxml = sk_edit_companion_xml(c);

    g_assert_false(plan->has_address);
    g_assert_cmpuint(plan->companions->len, ==, 1);
    g_assert_cmpstr(c->type, ==, "scsi");
    g_assert_cmpuint(c->index, ==, 0);
    g_assert_cmpstr(c->model, ==, "lsilogic");
    g_assert_true(c->config);
    g_assert_false(c->live);
    /* lsilogic is conventional PCI: it needs a bridge slot to stay hot-unpluggable. */
    g_assert_cmphex(c->device->flags & SK_CONNECT_TYPES_ENDPOINT, ==, SK_CONNECT_PCI_DEVICE);
    g_assert_true(c->has_address);
    assert_addr(&c->address, A(bridge->index, 1, 0));
    g_assert_cmpuint(plan->controllers->len, ==, 2);
    g_assert_nonnull(strstr(c->purpose, "disk scsi sda"));
    assert_plan_drive(plan, 0, 0);
    /* The device names its controller; the controller carries its address. */
    g_assert_nonnull(strstr(xml, "<address type=\"drive\" controller=\"0\" bus=\"0\" "
                                 "target=\"0\" unit=\"0\"/>"));
    g_assert_nonnull(strstr(cxml, "type=\"scsi\""));
    g_assert_nonnull(strstr(cxml, "model=\"lsilogic\""));
    g_assert_nonnull(strstr(cxml, "<address type=\"pci\""));
    g_assert_nonnull(sk_topology_find_occupant(after, &c->address));
}

/* hotplug-require=no: the controller goes onto pcie-root like the device would; no bridge, no
 * port. */
static void
test_scsi_disk_require_no(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_xml(SCSI_DISK("sda"), topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, FALSE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);

    g_assert_cmpuint(plan->controllers->len, ==, 0);
    assert_addr(&companion(plan, 0)->address, A(0, 2, 0));
}

/* Live and persistent: one explicit address, free and hotplug-capable in both; no controller
 * can be added for a running guest. */
static void
test_scsi_disk_live(void)
{
    g_autoptr(SkTopology) chain = load("q35-legacy-chain.xml");
    g_autoptr(SkTopology) chain_run = load_live("q35-legacy-chain.xml");
    g_autoptr(SkTopology) bare = load("q35-live-inactive.xml");
    g_autoptr(SkTopology) bare_run = load("q35-live.xml");
    g_autoptr(SkDevice) dev = device_xml(SCSI_DISK("sda"), chain);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    SkPlanOptions live = opts_make(TRUE, FALSE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(chain, chain_run, dev, &both);
    g_autoptr(SkPlan) p2 = NULL;
    g_autoptr(SkPlan) p3 = NULL;

    g_autoptr(SkPlan) p4 = plan_ok(chain_run, chain_run, dev, &both);

    g_assert_cmpuint(p1->controllers->len, ==, 0);
    g_assert_true(companion(p1, 0)->live);
    g_assert_true(companion(p1, 0)->config);
    /* One document as both definitions (the CLI's --persistent on live XML): both, once. */
    g_assert_cmpuint(p4->companions->len, ==, 1);
    g_assert_true(companion(p4, 0)->live);
    g_assert_true(companion(p4, 0)->config);
    /* The rtl8139 has bridge slot 1. */
    assert_addr(&companion(p1, 0)->address, A(2, 2, 0));
    g_assert_cmpint(p1->effect, ==, SK_PLAN_EFFECT_NOW);

    /* No bridge in the running guest: refused, and the refusal names the controller. */
    p2 = plan_refused(bare, bare_run, dev, &both, SK_ERROR_NO_FREE_SLOT);
    g_assert_nonnull(strstr(p2->refusal, "lsilogic"));
    g_assert_nonnull(strstr(p2->refusal, "disk scsi sda"));
    /* The next boot gets the chain (the daemon adds it); the companion itself does not go
     * anywhere. */
    g_assert_cmpuint(n_new(p2, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
    p3 = plan_refused(NULL, bare_run, dev, &live, SK_ERROR_NO_FREE_SLOT);
    g_assert_cmpuint(p3->controllers->len, ==, 0);
}

/* Controller 0 exists (virtio-scsi): sdb needs nothing; sdh needs controller 1, which gets the
 * model of the existing one and, being virtio, a root port. */
static void
test_scsi_disk_existing_controller(void)
{
    g_autoptr(SkTopology) topo = load("q35-scsi-virtio.xml");
    g_autoptr(SkDevice) sdb = device_xml(SCSI_DISK("sdb"), topo);
    g_autoptr(SkDevice) sdh = device_xml(SCSI_DISK("sdh"), topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(topo, NULL, sdb, &config);
    g_autoptr(SkPlan) p2 = plan_ok(topo, NULL, sdh, &config);
    g_autofree char *xml = sk_edit_device_xml(sdb, p1);

    g_assert_cmpuint(p1->companions->len, ==, 0);
    g_assert_false(p1->has_drive_address);
    g_assert_null(strstr(xml, "<address")); /* libvirt assigns it as ever */
    g_assert_cmpuint(p2->companions->len, ==, 1);
    g_assert_cmpstr(companion(p2, 0)->model, ==, "virtio-scsi");
    g_assert_cmpuint(companion(p2, 0)->index, ==, 1);
    /* Root port 4 is the fixture's one spare. */
    assert_addr(&companion(p2, 0)->address, A(4, 0, 0));
    assert_plan_drive(p2, 1, 0);
}

/* Two companions (sdh: controllers 0 and 1) never share a slot; both are on the plan's bridge. */
static void
test_scsi_disk_two_controllers(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_xml(SCSI_DISK("sdh"), topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);
    const SkNewController *bridge = new_of_model(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);

    g_assert_cmpuint(plan->companions->len, ==, 2);
    assert_addr(&companion(plan, 0)->address, A(bridge->index, 1, 0));
    assert_addr(&companion(plan, 1)->address, A(bridge->index, 2, 0));
    g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
    assert_plan_drive(plan, 1, 0);
}

/* legacy-bridge=never: the lsilogic controller cannot get a hotplug slot, so the plan says so
 * instead of letting libvirt add the chain anyway. */
static void
test_scsi_disk_never(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev = device_xml(SCSI_DISK("sda"), topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = NULL;

    config.policy.legacy_bridge = SK_LEGACY_BRIDGE_NEVER;
    plan = plan_refused(topo, NULL, dev, &config, SK_ERROR_NO_FREE_SLOT);
    g_assert_nonnull(strstr(plan->refusal, "lsilogic"));
    g_assert_cmpuint(plan->controllers->len, ==, 0);
}

/* A SCSI host device brings its controller the same way. */
static void
test_scsi_hostdev(void)
{
    g_autoptr(SkTopology) topo = load("q35-legacy-chain.xml");
    g_autoptr(SkDevice) dev = device_xml(
        "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/><address "
        "bus='0' target='0' unit='0'/></source></hostdev>",
        topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);

    g_assert_cmpuint(plan->companions->len, ==, 1);
    assert_addr(&companion(plan, 0)->address, A(2, 2, 0));
    assert_plan_drive(plan, 0, 0);
}

/* SATA controllers do not hotplug: a SATA disk's second controller goes onto pcie-root (it
 * could never be hot-unplugged anyway), no bridge. */
static void
test_sata_disk(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev =
        device_xml("<disk type='file' device='disk'><target dev='sdg' bus='sata'/></disk>", topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) plan = plan_ok(topo, NULL, dev, &config);

    g_autoptr(SkDevice) sdz = device_file("disk-sata.xml", topo);
    g_autoptr(SkPlan) p2 = plan_ok(topo, NULL, sdz, &config);

    g_assert_cmpuint(plan->companions->len, ==, 1);
    g_assert_cmpstr(companion(plan, 0)->type, ==, "sata");
    assert_addr(&companion(plan, 0)->address, A(0, 2, 0));
    g_assert_cmpuint(plan->controllers->len, ==, 0);
    assert_plan_drive(plan, 1, 0);
    /* Verified: sdz is unit 1 of SATA controller 4, and libvirt adds controllers 1 to 4. */
    g_assert_cmpuint(p2->companions->len, ==, 4);
    for (guint i = 0; i < 4; i++) {
        g_assert_cmpuint(companion(p2, i)->index, ==, i + 1);
        assert_addr(&companion(p2, i)->address, A(0, 2 + i, 0));
    }
    assert_plan_drive(p2, 4, 1);
}

/* A virtio channel: virtio-serial controller 0 onto pcie-root with --config (libvirt cannot
 * hot-unplug it, so a hotplug port would be wasted); refused live (libvirt cannot hot-plug it:
 * "no virtio-serial controllers are available"). */
static void
test_virtio_channel(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkTopology) run = load_live("q35-default.xml");
    g_autoptr(SkTopology) vm = load("q35-virt-manager.xml");
    g_autoptr(SkDevice) dev = device_xml(CHANNEL, topo);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(topo, NULL, dev, &config);
    g_autoptr(SkPlan) p2 = plan_refused(topo, run, dev, &both, SK_ERROR_NOT_SUPPORTED);
    g_autoptr(SkPlan) p3 = plan_ok(vm, NULL, dev, &config);

    g_assert_cmpstr(companion(p1, 0)->type, ==, "virtio-serial");
    assert_addr(&companion(p1, 0)->address, A(0, 2, 0));
    g_assert_cmpuint(p1->controllers->len, ==, 0);
    g_assert_false(p1->has_drive_address);
    g_assert_nonnull(strstr(p2->refusal, "virtio-serial"));
    g_assert_nonnull(strstr(p2->remedy, "--config"));
    g_assert_cmpuint(p3->companions->len, ==, 0);
}

/* libvirt adds no USB controller: a plan for a USB device on a guest without one is refused as
 * libvirt would refuse it. */
static void
test_usb_without_controller(void)
{
    g_autoptr(SkTopology) virt = load("virt-aarch64.xml");
    g_autoptr(SkTopology) q35 = load("q35-default.xml");
    g_autoptr(SkDevice) tablet = device_xml("<input type='tablet' bus='usb'/>", virt);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_refused(virt, NULL, tablet, &config, SK_ERROR_NOT_SUPPORTED);
    g_autoptr(SkPlan) p2 = plan_ok(q35, NULL, tablet, &config);

    g_assert_nonnull(strstr(p1->refusal, "no USB bus support"));
    g_assert_nonnull(strstr(p1->remedy, "qemu-xhci"));
    g_assert_cmpuint(p1->companions->len, ==, 0);
    g_assert_cmpuint(p2->companions->len, ==, 0);
}

/* ---- virtio-mmio guests ---------------------------------------------------------------------- */

/* hotplug-require=yes: a PCI address on a hotplug-capable root port, which the persistent
 * definition gains when it has none (virt-aarch64-mmio has only pcie-root). */
static void
test_mmio_require_yes(void)
{
    g_autoptr(SkTopology) mmio = load("virt-aarch64-mmio.xml");
    g_autoptr(SkTopology) ports = load("virt-aarch64-mmio-ports.xml");
    g_autoptr(SkDevice) nic = device_file("net-virtio.xml", mmio);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(SkPlan) p1 = plan_ok(mmio, NULL, nic, &config);
    g_autoptr(SkPlan) p2 = plan_ok(ports, NULL, nic, &config);
    const SkNewController *port = get_by_index(p1, 1);
    g_autofree char *xml = sk_edit_device_xml(nic, p1);

    g_assert_true(p1->virtio_pci);
    g_assert_cmpint(port->model, ==, SK_PCI_MODEL_PCIE_ROOT_PORT);
    assert_addr(&p1->address, A(1, 0, 0));
    g_assert_nonnull(strstr(xml, "<address type=\"pci\""));
    g_assert_null(strstr(xml, "virtio-mmio"));
    /* Empty root ports: no growth. */
    g_assert_cmpuint(p2->controllers->len, ==, 0);
    assert_addr(&p2->address, A(1, 0, 0));
    g_assert_true(p2->virtio_pci);
}

/* A running mmio guest: only a port it already has takes the device; none gives NoFreeSlot and
 * the persistent port for the next boot. hotplug-require=no cannot keep virtio-mmio live
 * (virtio-mmio does not hotplug; libvirt's live path gives a PCI address itself). */
static void
test_mmio_live(void)
{
    g_autoptr(SkTopology) mmio = load("virt-aarch64-mmio.xml");
    g_autoptr(SkTopology) mmio_run = load_live("virt-aarch64-mmio.xml");
    g_autoptr(SkTopology) ports = load("virt-aarch64-mmio-ports.xml");
    g_autoptr(SkTopology) ports_run = load_live("virt-aarch64-mmio-ports.xml");
    g_autoptr(SkDevice) nic = device_file("net-virtio.xml", mmio);
    SkPlanOptions both = opts_make(TRUE, TRUE, TRUE);
    SkPlanOptions both_noreq = opts_make(TRUE, TRUE, FALSE);
    g_autoptr(SkPlan) p1 = plan_refused(mmio, mmio_run, nic, &both, SK_ERROR_NO_FREE_SLOT);
    g_autoptr(SkPlan) p2 = plan_ok(ports, ports_run, nic, &both);
    g_autoptr(SkPlan) p3 = plan_ok(ports, ports_run, nic, &both_noreq);

    g_assert_cmpuint(n_new(p1, SK_PCI_MODEL_PCIE_ROOT_PORT), ==, 1);
    assert_addr(&p2->address, A(1, 0, 0));
    g_assert_true(p3->virtio_pci);
    assert_addr(&p3->address, A(1, 0, 0));
}

/* Growing stops at the root-port cap; require=no still has virtio-mmio. */
static void
test_mmio_cap(void)
{
    g_autoptr(SkTopology) ports = load("virt-aarch64-mmio-ports.xml");
    g_autoptr(SkDevice) nic = device_file("net-virtio.xml", ports);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions config_noreq = opts_make(FALSE, TRUE, FALSE);
    g_autoptr(SkPlan) p1 = NULL;
    g_autoptr(SkPlan) p2 = NULL;
    g_autoptr(SkPlan) p3 = NULL;
    g_autoptr(SkPlan) p4 = NULL;
    g_autoptr(SkTopology) one = NULL;
    g_autoptr(SkTopology) two = NULL;
    g_autoptr(SkDevice) nic2 = NULL;
    g_autoptr(SkDevice) nic3 = NULL;

    config.policy.root_port_cap = 2;
    config_noreq.policy.root_port_cap = 2;
    p1 = plan_ok(ports, NULL, nic, &config);
    one = apply(ports, p1, nic);
    nic2 = device_xml("<interface type='user'><mac address='52:54:00:5c:d0:02'/><model "
                      "type='virtio'/></interface>",
                      one);
    p2 = plan_ok(one, NULL, nic2, &config);
    assert_addr(&p2->address, A(2, 0, 0));
    two = apply(one, p2, nic2);
    nic3 = device_xml("<interface type='user'><mac address='52:54:00:5c:d0:03'/><model "
                      "type='virtio'/></interface>",
                      two);
    p3 = plan_refused(two, NULL, nic3, &config, SK_ERROR_NO_FREE_SLOT);
    g_assert_nonnull(strstr(p3->refusal, "cap"));
    p4 = plan_ok(two, NULL, nic3, &config_noreq);
    g_assert_false(p4->has_address);
}

/* The SCSI controller a SCSI disk brings is itself put on virtio-mmio by libvirt on such
 * guests (verified, even lsilogic): with require=yes it gets a PCI address (and a chain). */
static void
test_mmio_scsi_companion(void)
{
    g_autoptr(SkTopology) mmio = load("virt-aarch64-mmio-ports.xml");
    g_autoptr(SkDevice) dev = device_xml(SCSI_DISK("sda"), mmio);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    SkPlanOptions config_noreq = opts_make(FALSE, TRUE, FALSE);
    g_autoptr(SkPlan) p1 = plan_ok(mmio, NULL, dev, &config);
    g_autoptr(SkPlan) p2 = plan_ok(mmio, NULL, dev, &config_noreq);
    g_autofree char *xml = sk_edit_companion_xml(companion(p2, 0));

    g_assert_true(companion(p1, 0)->has_address);
    g_assert_cmpuint(n_new(p1, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
    g_assert_false(companion(p2, 0)->has_address);
    g_assert_null(strstr(xml, "<address"));
    g_assert_cmpuint(p2->controllers->len, ==, 0);
}

static void
test_bad_input(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkTopology) run = load_live("q35-default.xml");
    g_autoptr(SkDevice) nic = device_file("net-virtio.xml", topo);
    g_autoptr(SkDevice) sound = device_file("sound-ich9.xml", topo);
    SkPlanOptions none = opts_make(FALSE, FALSE, TRUE);
    SkPlanOptions live = opts_make(TRUE, FALSE, TRUE);
    SkPlanOptions config = opts_make(FALSE, TRUE, TRUE);
    g_autoptr(GError) error = NULL;
    g_autoptr(SkPlan) plan = NULL;

    plan_error(topo, run, nic, &none, SK_ERROR_INVALID_ARGUMENT);
    /* live without a live definition, config without a persistent one */
    plan = sk_plan_attach(topo, NULL, nic, &live, &error);
    g_assert_null(plan);
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    plan = sk_plan_attach(NULL, topo, nic, &config, &error);
    g_assert_null(plan);
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    /* Sound cards cannot be hot-plugged at all. */
    plan = sk_plan_attach(topo, run, sound, &live, &error);
    g_assert_null(plan);
    g_assert(error != NULL);
    g_assert_true(error->domain == SK_ERROR);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/planner/policy", test_policy);
    g_test_add_func("/planner/q35/virtio-nic", test_q35_virtio_nic);
    g_test_add_func("/planner/q35/pcie-devices", test_q35_pcie_devices);
    g_test_add_func("/planner/q35/legacy-lazy", test_q35_legacy_lazy);
    g_test_add_func("/planner/q35/legacy-layout", test_q35_legacy_layout);
    g_test_add_func("/planner/q35/legacy-never", test_q35_legacy_never);
    g_test_add_func("/planner/q35/legacy-existing-bridge", test_q35_legacy_existing_bridge);
    g_test_add_func("/planner/q35/dmi", test_q35_dmi);
    g_test_add_func("/planner/q35/require-no", test_q35_require_no);
    g_test_add_func("/planner/q35/require-no-cap", test_q35_require_no_cap);
    g_test_add_func("/planner/q35/require-no-root-full", test_q35_require_no_root_full);
    g_test_add_func("/planner/q35/require-no-live", test_q35_require_no_live);
    g_test_add_func("/planner/q35/full", test_q35_full);
    g_test_add_func("/planner/q35/cap", test_q35_cap);
    g_test_add_func("/planner/q35/cap-legacy", test_q35_cap_legacy);
    g_test_add_func("/planner/q35/hotplug-off", test_q35_hotplug_off);
    g_test_add_func("/planner/q35/switch", test_q35_switch);
    g_test_add_func("/planner/live-and-config", test_live_and_config);
    g_test_add_func("/planner/explicit-address", test_explicit_address);
    g_test_add_func("/planner/pc", test_pc);
    g_test_add_func("/planner/virt-aarch64", test_virt_aarch64);
    g_test_add_func("/planner/no-pci-needed", test_no_pci_needed);
    g_test_add_func("/planner/bad-input", test_bad_input);
    g_test_add_func("/planner/implicit/scsi-disk-config", test_scsi_disk_config);
    g_test_add_func("/planner/implicit/scsi-disk-require-no", test_scsi_disk_require_no);
    g_test_add_func("/planner/implicit/scsi-disk-live", test_scsi_disk_live);
    g_test_add_func("/planner/implicit/scsi-disk-existing-controller",
                    test_scsi_disk_existing_controller);
    g_test_add_func("/planner/implicit/scsi-disk-two-controllers", test_scsi_disk_two_controllers);
    g_test_add_func("/planner/implicit/scsi-disk-never", test_scsi_disk_never);
    g_test_add_func("/planner/implicit/scsi-hostdev", test_scsi_hostdev);
    g_test_add_func("/planner/implicit/sata-disk", test_sata_disk);
    g_test_add_func("/planner/implicit/virtio-channel", test_virtio_channel);
    g_test_add_func("/planner/implicit/usb-without-controller", test_usb_without_controller);
    g_test_add_func("/planner/mmio/require-yes", test_mmio_require_yes);
    g_test_add_func("/planner/mmio/live", test_mmio_live);
    g_test_add_func("/planner/mmio/cap", test_mmio_cap);
    g_test_add_func("/planner/mmio/scsi-companion", test_mmio_scsi_companion);

    return g_test_run();
}
