/* Unit tests for sk-planner reserve plans: topping spare hotplug ports up within the cap. */
#include "test-common.h"
/* ---- reserve -------------------------------------------------------------------------------- */

static void
assert_free_counts(const SkTopology *topo, guint want_pcie, guint want_pci)
{
    guint pcie = 99, pci = 99;

    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    g_assert_cmpuint(pcie, ==, want_pcie);
    g_assert_cmpuint(pci, ==, want_pci);
}

static guint
count_root_ports(const SkTopology *topo)
{
    guint n = 0;

    for (guint i = 0; i < sk_topology_get_n_controllers(topo); i++) {
        if (sk_topology_get_controller(topo, i)->model == SK_PCI_MODEL_PCIE_ROOT_PORT)
            n++;
    }
    return n;
}

/* Reserve on @fixture, check the plan, apply it, and check that planning again adds nothing.
 * Returns the applied topology. */
static SkTopology *
reserve_ok(const char *fixture, const SkPolicy *policy, guint want_new, SkPlan **plan_out)
{
    g_autoptr(SkTopology) topo = load(fixture);
    g_autoptr(GError) error = NULL;
    g_autoptr(SkPlan) plan = sk_plan_reserve(topo, policy, &error);
    g_autoptr(SkPlan) again = NULL;
    SkTopology *after;

    g_test_message("reserve %s: spare %u, legacy %s, cap %u", fixture, policy->spare_ports,
                   sk_legacy_bridge_to_string(policy->legacy_bridge), policy->root_port_cap);
    g_assert_no_error(error);
    g_assert(plan != NULL);
    log_plan(plan);
    g_assert_false(plan->refused);
    g_assert_false(plan->has_address);
    g_assert_cmpuint(plan->controllers->len, ==, want_new);
    g_assert_cmpint(plan->effect, ==,
                    want_new > 0 ? SK_PLAN_EFFECT_NEXT_BOOT : SK_PLAN_EFFECT_NONE);
    check_new_controllers(topo, plan);
    after = apply(topo, plan, NULL);
    check_nothing_moved(topo, after);
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *c = plan->controllers->pdata[i];
        const SkController *got = sk_topology_find_controller(after, c->index);

        g_assert(got != NULL);
        g_assert_cmpint(got->model, ==, c->model);
        g_assert_true(sk_pci_addr_equal(&got->address, &c->address));
    }
    /* Idempotent. */
    again = sk_plan_reserve(after, policy, &error);
    g_assert_no_error(error);
    log_plan(again);
    g_assert_cmpuint(again->controllers->len, ==, 0);
    g_assert_cmpint(again->effect, ==, SK_PLAN_EFFECT_NONE);
    if (plan_out != NULL)
        *plan_out = g_steal_pointer(&plan);
    return after;
}

static void
test_reserve_q35(void)
{
    SkPolicy policy;
    guint pcie, pci;

    sk_policy_init(&policy);
    {
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("q35-default.xml", &policy, 3, &plan);

        /* 1 spare already: ports 4, 5, 6 packed at 00:01.3-5. */
        assert_addr(&get_by_index(plan, 4)->address, A(0, 1, 3));
        assert_addr(&get_by_index(plan, 5)->address, A(0, 1, 4));
        assert_addr(&get_by_index(plan, 6)->address, A(0, 1, 5));
        g_assert_cmpint(get_by_index(plan, 6)->port, ==, 0xd);
        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pcie, ==, 4);
        g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
    }
    {
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("q35-bare.xml", &policy, 4, &plan);

        assert_addr(&get_by_index(plan, 1)->address, A(0, 1, 0));
        assert_addr(&get_by_index(plan, 4)->address, A(0, 1, 3));
        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pcie, ==, 4);
    }
    {
        /* Video at 00:01.0, ports at 00:02.0-6: next 00:02.7, then slot 3. */
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("q35-virt-manager.xml", &policy, 3, &plan);

        assert_free_counts(after, 4, 0);

        assert_addr(&get_by_index(plan, 8)->address, A(0, 2, 7));
        assert_addr(&get_by_index(plan, 9)->address, A(0, 3, 0));
        assert_addr(&get_by_index(plan, 10)->address, A(0, 3, 1));
    }
    {
        /* Ports 1-2 are hotplug='off' and do not count; 3 and 4 do. */
        g_autoptr(SkTopology) after = reserve_ok("q35-hotplug-off.xml", &policy, 2, NULL);

        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pcie, ==, 4);
    }
    {
        /* Free downstream ports count as spare slots. */
        g_autoptr(SkTopology) after = reserve_ok("q35-switch.xml", &policy, 2, NULL);

        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pcie, ==, 4);
    }
    {
        g_autoptr(SkTopology) after = reserve_ok("q35-full.xml", &policy, 4, NULL);

        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pcie, ==, 4);
    }
    {
        /* The live domain's persistent definition. */
        g_autoptr(SkTopology) after = reserve_ok("q35-live-inactive.xml", &policy, 1, NULL);

        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pcie, ==, 4);
    }
}

static void
test_reserve_cap(void)
{
    SkPolicy policy;

    sk_policy_init(&policy);
    policy.spare_ports = 20;
    {
        /* 3 root ports + 11 = the x86_64 cap of 14. */
        g_autoptr(SkTopology) after = reserve_ok("q35-default.xml", &policy, 11, NULL);

        g_assert_cmpuint(count_root_ports(after), ==, 14);
    }
    {
        g_autoptr(SkTopology) after = reserve_ok("q35-cap.xml", &policy, 0, NULL);

        g_assert_cmpuint(count_root_ports(after), ==, 14);
    }
    policy.spare_ports = 40;
    {
        g_autoptr(SkTopology) before = load("virt-aarch64.xml");
        g_autoptr(SkTopology) after = NULL;
        guint have = count_root_ports(before);

        after = reserve_ok("virt-aarch64.xml", &policy, 28 - have, NULL);
        g_assert_cmpuint(count_root_ports(after), ==, 28);
    }
    policy.spare_ports = 10;
    policy.root_port_cap = 6;
    {
        g_autoptr(SkTopology) after = reserve_ok("q35-default.xml", &policy, 3, NULL);

        g_assert_cmpuint(count_root_ports(after), ==, 6);
    }
    /* Bus 0 has no empty slot, but 00:01 holds root ports and has functions left. */
    policy.root_port_cap = 0;
    policy.spare_ports = 4;
    {
        g_autoptr(SkTopology) topo = load("q35-root-full.xml");
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(GError) error = NULL;
        guint free_fns = 0;
        const SkBus *root = sk_topology_get_bus(topo, 0);

        /* 00:01 holds 2 root ports: 6 functions left for more. */
        for (guint f = 0; f < 8; f++)
            free_fns += !(root->functions[1] & (1u << f));
        g_assert_cmpuint(free_fns, ==, 6);
        plan = sk_plan_reserve(topo, &policy, &error);
        g_assert_no_error(error);
        log_plan(plan);
        g_assert_cmpuint(plan->controllers->len, ==, 3);
        check_new_controllers(topo, plan);
    }
}

/* pcie-root has no empty slot and 00:01 is packed full: the cap allows more root ports, but
 * there is nowhere to put them (00:1f is the chipset's, never a root port's). */
static void
test_reserve_no_room(void)
{
    g_autofree char *path = data_path("q35-root-full.xml");
    g_autofree char *xml = NULL;
    g_autoptr(GString) more = g_string_new(NULL);
    g_autoptr(GString) doc = NULL;
    g_autoptr(SkTopology) topo = NULL;
    g_autoptr(SkPlan) plan = NULL;
    g_autoptr(GError) error = NULL;
    SkPolicy policy;
    const char *anchor = "<controller type='pci' index='2' model='pcie-root-port'>";
    const char *at;
    guint pcie, pci;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    for (guint i = 3; i <= 8; i++) {
        g_string_append_printf(more,
                               "<controller type='pci' index='%u' model='pcie-root-port'>"
                               "<model name='pcie-root-port'/><target chassis='%u' port='0x%x'/>"
                               "<address type='pci' domain='0x0000' bus='0x00' slot='0x01' "
                               "function='0x%x'/></controller>\n",
                               i, i, 0x8 + i - 1, i - 1);
    }
    at = strstr(xml, anchor);
    g_assert(at != NULL);
    doc = g_string_new_len(xml, at - xml);
    g_string_append(doc, more->str);
    g_string_append(doc, at);
    topo = sk_topology_new_from_xml(doc->str, doc->len, &error);
    g_assert_no_error(error);
    g_assert_cmphex(sk_topology_get_bus(topo, 0)->functions[1], ==, 0xff);
    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    g_assert_cmpuint(pcie, ==, 7);

    sk_policy_init(&policy);
    policy.spare_ports = 12;
    plan = sk_plan_reserve(topo, &policy, &error);
    g_assert_no_error(error);
    log_plan(plan);
    g_assert_false(plan->refused);
    g_assert_cmpuint(plan->controllers->len, ==, 0);
}

static void
test_reserve_eager(void)
{
    SkPolicy policy;
    guint pcie, pci;

    sk_policy_init(&policy);
    policy.legacy_bridge = SK_LEGACY_BRIDGE_EAGER;
    {
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("q35-default.xml", &policy, 5, &plan);

        /* 3 spare ports + root port and pcie-to-pci-bridge; the bridge's port is no spare. */
        g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
        g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_ROOT_PORT), ==, 4);
        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pcie, ==, 4);
        g_assert_cmpuint(pci, ==, 31);
    }
    {
        /* A bridge with free slots already exists. */
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("q35-legacy-chain.xml", &policy, 3, &plan);

        assert_free_counts(after, 4, 30);

        g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
    }
    policy.legacy_bridge = SK_LEGACY_BRIDGE_LAZY;
    {
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("q35-default.xml", &policy, 3, &plan);

        g_assert_cmpuint(n_new(plan, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
        assert_free_counts(after, 4, 0);
    }
}

static void
test_reserve_pc(void)
{
    SkPolicy policy;
    guint pcie, pci;

    sk_policy_init(&policy);
    {
        /* Plenty of free hotplug slots on pci-root. */
        g_autoptr(SkTopology) after = reserve_ok("pc-default.xml", &policy, 0, NULL);

        assert_free_counts(after, 0, 26);
    }
    {
        /* 27 free pci-root slots and 30 free bridge slots. */
        g_autoptr(SkTopology) after = reserve_ok("pc-bridge.xml", &policy, 0, NULL);

        assert_free_counts(after, 0, 57);
    }
    {
        g_autoptr(SkTopology) topo = load("pc-hotplug-off.xml");
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("pc-hotplug-off.xml", &policy, 1, &plan);
        const SkNewController *bridge = new_by_index(plan, 1);
        SkPciAddr want;

        g_assert(bridge != NULL);
        g_assert_cmpint(bridge->model, ==, SK_PCI_MODEL_PCI_BRIDGE);
        g_assert_cmpstr(bridge->model_name, ==, "pci-bridge");
        g_assert_true(lowest_free_slot(topo, 0, &want));
        assert_addr(&bridge->address, want);
        sk_topology_count_free_hotplug(after, &pcie, &pci);
        g_assert_cmpuint(pci, ==, 31);
        g_assert_cmpuint(pcie, ==, 0);
    }
    {
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("pc-noacpi.xml", &policy, 1, &plan);

        g_assert_cmpint(get_by_index(plan, 1)->model, ==, SK_PCI_MODEL_PCI_BRIDGE);
        assert_free_counts(after, 0, 31);
    }
    policy.spare_ports = 30;
    {
        /* 26 free pci-root slots are fewer than 30: one pci-bridge (31 slots) tops them up. */
        g_autoptr(SkPlan) plan = NULL;
        g_autoptr(SkTopology) after = reserve_ok("pc-default.xml", &policy, 1, &plan);

        g_assert_cmpint(get_by_index(plan, 1)->model, ==, SK_PCI_MODEL_PCI_BRIDGE);
        assert_addr(&get_by_index(plan, 1)->address, A(0, 6, 0));
        assert_free_counts(after, 0, 25 + 31);
    }
    policy.spare_ports = 4;
    {
        /* Full everywhere: nothing can be added, and that is not an error. */
        g_autoptr(SkTopology) after = reserve_ok("pc-full.xml", &policy, 0, NULL);

        assert_free_counts(after, 0, 0);
    }
}

/* Lazy policy: a legacy chain is kept only while a conventional PCI device requires hotplug. */
static void
test_reserve_lazy_legacy_in_use(void)
{
    g_autoptr(SkTopology) bare = load("q35-bare.xml");
    g_autoptr(SkTopology) chain = load("q35-legacy-chain.xml");
    g_autoptr(SkPlan) wanted = NULL;
    g_autoptr(SkPlan) not_wanted = NULL;
    g_autoptr(SkPlan) present = NULL;
    SkPolicy policy;

    sk_policy_init(&policy);
    wanted = sk_plan_reserve_full(bare, &policy, TRUE, NULL);
    not_wanted = sk_plan_reserve_full(bare, &policy, FALSE, NULL);
    present = sk_plan_reserve_full(chain, &policy, TRUE, NULL);
    g_assert_cmpuint(n_new(wanted, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 1);
    check_new_controllers(bare, wanted);
    g_assert_cmpuint(n_new(not_wanted, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
    /* The existing bridge still has free slots: nothing to add for legacy devices. */
    g_assert_cmpuint(n_new(present, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);

    policy.legacy_bridge = SK_LEGACY_BRIDGE_NEVER;
    g_clear_pointer(&wanted, sk_plan_free);
    wanted = sk_plan_reserve_full(bare, &policy, TRUE, NULL);
    g_assert_cmpuint(n_new(wanted, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE), ==, 0);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    g_test_add_func("/planner/reserve/q35", test_reserve_q35);
    g_test_add_func("/planner/reserve/cap", test_reserve_cap);
    g_test_add_func("/planner/reserve/no-room", test_reserve_no_room);
    g_test_add_func("/planner/reserve/eager", test_reserve_eager);
    g_test_add_func("/planner/reserve/pc", test_reserve_pc);
    g_test_add_func("/planner/reserve/lazy-legacy-in-use", test_reserve_lazy_legacy_in_use);

    return g_test_run();
}
