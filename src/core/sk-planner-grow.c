/* slotkeeper: growing the persistent definition (rules sections 4.4 and 11.4) - a new
 * pcie-root-port, a legacy chain (root port + pcie-to-pci-bridge) or a pci-bridge, for an attach
 * that finds no free slot and for reserve plans, which top the spares up to the policy. */
#include "sk-planner.h"

#include "sk-planner-private.h"

/* A free controller index above @above in @set; FALSE with @why set when none is left. */
static gboolean
sk_planner_free_index(const SkWorkSet *set, guint above, guint *index, char **why)
{
    if (sk_work_free_index(set, above, index))
        return TRUE;
    *why = g_strdup_printf("all %u controller indexes are in use", (guint)SK_MAX_INDEX);
    return FALSE;
}

/* Adds a controller of @model to the persistent set at @addr and records it in the plan. */
static SkNewController *
sk_planner_add_controller(SkPlanner *p, SkPciModel model, const SkPciAddr *addr, guint index,
                          const char *purpose)
{
    SkWorkSet *set = p->config;
    SkNewController *ctrl = g_new0(SkNewController, 1);
    SkWorkBus *wb = &set->buses[index];

    ctrl->index = index;
    ctrl->model = model;
    ctrl->model_name = sk_pci_model_default_name(model);
    ctrl->address = *addr;
    ctrl->chassis = ctrl->port = ctrl->chassis_nr = -1;
    ctrl->purpose = g_strdup(purpose);
    if (model == SK_PCI_MODEL_PCIE_ROOT_PORT) {
        ctrl->chassis = sk_work_free_chassis(set->chassis_used, index);
        set->chassis_used[ctrl->chassis] = TRUE;
        ctrl->port = (int)((addr->slot << 3) | addr->function);
        set->n_root_ports++;
    } else if (model == SK_PCI_MODEL_PCI_BRIDGE) {
        ctrl->chassis_nr = sk_work_free_chassis(set->chassis_nr_used, index);
        set->chassis_nr_used[ctrl->chassis_nr] = TRUE;
    }
    sk_work_reserve(set, addr, sk_pci_model_connect_type(model));
    memset(wb, 0, sizeof(*wb));
    wb->exists = TRUE;
    wb->model = model;
    wb->flags = sk_pci_model_bus_flags(model);
    sk_pci_model_slot_range(model, &wb->min_slot, &wb->max_slot);
    set->n_buses = MAX(set->n_buses, index + 1);
    g_ptr_array_add(p->plan->controllers, ctrl);
    return ctrl;
}

/* Adds one pcie-root-port on pcie-root to the persistent set, within the cap. */
static SkNewController *
sk_planner_add_root_port(SkPlanner *p, const char *purpose, char **why)
{
    SkWorkSet *set = p->config;
    SkWorkSet *only[1] = { set };
    SkConnectFlags flags = sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_ROOT_PORT);
    SkPciAddr addr;
    guint index;

    if (set->n_root_ports >= p->cap) {
        *why = g_strdup_printf("the domain already has %u pcie-root-ports, the cap for %s is %u",
                               set->n_root_ports, p->arch, p->cap);
        return NULL;
    }
    if (!sk_work_find(only, 1, flags, FALSE, 0, &addr)) {
        *why = g_strdup("pcie-root has no free slot or function left for another root port");
        return NULL;
    }
    if (!sk_planner_free_index(set, 0, &index, why))
        return NULL;
    return sk_planner_add_controller(p, SK_PCI_MODEL_PCIE_ROOT_PORT, &addr, index, purpose);
}

/* Adds a pcie-to-pci-bridge behind a new pcie-root-port; at the root-port cap it goes into the
 * first empty port instead (a port that holds the bridge serves many legacy slots). */
static SkNewController *
sk_planner_add_legacy_chain(SkPlanner *p, char **why)
{
    SkWorkSet *only[1] = { p->config };
    SkConnectFlags bridge = sk_pci_model_connect_type(SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
    SkPciAddr addr;
    guint index;

    if (p->config->n_root_ports >= p->cap && sk_work_find(only, 1, bridge, FALSE, -1, &addr)) {
        sk_plan_reason(p->plan,
                       "the root-port cap (%u) is reached, so the pcie-to-pci-bridge takes the "
                       "empty port index %u",
                       p->cap, addr.bus);
    } else {
        SkNewController *port = sk_planner_add_root_port(p, "port for the pcie-to-pci-bridge", why);

        if (port == NULL)
            return NULL;
        addr = (SkPciAddr){ 0, port->index, 0, 0 };
    }
    if (!sk_planner_free_index(p->config, 0, &index, why))
        return NULL;
    return sk_planner_add_controller(p, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE, &addr, index,
                                     "hotplug slots for conventional PCI devices");
}

/* pc: a pci-bridge on pci-root, or on another bridge when pci-root is full. */
static SkNewController *
sk_planner_add_pci_bridge(SkPlanner *p, char **why)
{
    SkWorkSet *only[1] = { p->config };
    SkConnectFlags flags = sk_pci_model_connect_type(SK_PCI_MODEL_PCI_BRIDGE);
    SkPciAddr addr;
    guint index;

    if (!sk_work_find(only, 1, flags, FALSE, -1, &addr)) {
        *why = g_strdup("no PCI bus has a free slot for another pci-bridge");
        return NULL;
    }
    if (!sk_planner_free_index(p->config, addr.bus, &index, why))
        return NULL;
    return sk_planner_add_controller(p, SK_PCI_MODEL_PCI_BRIDGE, &addr, index,
                                     "hotplug slots for PCI devices");
}

void
sk_planner_describe_controllers(SkPlanner *p, guint from)
{
    for (guint i = from; i < p->plan->controllers->len; i++) {
        const SkNewController *c = p->plan->controllers->pdata[i];
        g_autofree char *addr = sk_pci_addr_format(&c->address);

        sk_plan_reason(p->plan, "add %s index %u at %s to the persistent definition (%s)",
                       sk_pci_model_to_string(c->model), c->index, addr, c->purpose);
    }
}

gboolean
sk_planner_grow(SkPlanner *p, SkPciAddr *addr, char **why)
{
    SkNewController *ctrl;

    if (p->config == NULL) {
        *why = g_strdup("the persistent definition is not part of this plan");
        return FALSE;
    }
    if (sk_planner_is_pcie(p) && (p->flags & SK_CONNECT_PCIE_DEVICE)) {
        ctrl = sk_planner_add_root_port(p, "hotplug port for this device", why);
        if (ctrl == NULL)
            return FALSE;
        *addr = (SkPciAddr){ 0, ctrl->index, 0, 0 };
        return TRUE;
    }
    if (sk_planner_is_pcie(p)) {
        if (p->opts->policy.legacy_bridge == SK_LEGACY_BRIDGE_NEVER) {
            *why = g_strdup("the legacy-bridge policy is 'never', so no pcie-to-pci-bridge "
                            "may be added");
            return FALSE;
        }
        ctrl = sk_planner_add_legacy_chain(p, why);
    } else {
        ctrl = sk_planner_add_pci_bridge(p, why);
    }
    if (ctrl == NULL)
        return FALSE;
    *addr = (SkPciAddr){ 0, ctrl->index, 1, 0 };
    return TRUE;
}

char *
sk_planner_list_controllers(const SkPlanner *p, guint from)
{
    g_autoptr(GString) out = g_string_new(NULL);

    for (guint i = from; i < p->plan->controllers->len; i++) {
        const SkNewController *c = p->plan->controllers->pdata[i];

        if (out->len > 0)
            g_string_append(out, i + 1 == p->plan->controllers->len ? " and " : ", ");
        g_string_append_printf(out, "%s index %u", sk_pci_model_to_string(c->model), c->index);
    }
    return g_string_free(g_steal_pointer(&out), FALSE);
}

SkPlan *
sk_plan_reserve(const SkTopology *persistent, const SkPolicy *policy, GError **error)
{
    return sk_plan_reserve_full(persistent, policy, FALSE, error);
}

SkPlan *
sk_plan_reserve_full(const SkTopology *persistent, const SkPolicy *policy, gboolean legacy_in_use,
                     GError **error)
{
    SkPlanner p = { 0 };
    SkPlanOptions opts;
    guint pcie = 0, pci = 0, unaddressed;
    g_autofree char *why = NULL;
    SkPlan *plan;

    g_return_val_if_fail(persistent != NULL, NULL);
    sk_plan_options_init(&opts);
    opts.config = TRUE;
    opts.policy = policy ? *policy : opts.policy;
    p.opts = &opts;
    sk_planner_init(&p, persistent, NULL, &opts.policy);
    unaddressed = sk_topology_get_n_unaddressed(persistent);
    if (unaddressed > 0)
        sk_plan_reason(p.plan,
                       "warning: %u device%s no PCI address yet; libvirt places them at define "
                       "time and they may take spare slots (plan on the output of virsh dumpxml "
                       "--inactive of the defined domain)",
                       unaddressed, unaddressed == 1 ? " has" : "s have");
    sk_work_count_free(p.config, &pcie, &pci);
    if (!sk_planner_is_pcie(&p)) {
        sk_plan_reason(p.plan,
                       "pc machine: %u free hotplug-capable PCI slot%s, the policy wants %u", pci,
                       pci == 1 ? "" : "s", opts.policy.spare_ports);
        while (pci < opts.policy.spare_ports && sk_planner_add_pci_bridge(&p, &why) != NULL)
            sk_work_count_free(p.config, &pcie, &pci);
    } else {
        sk_plan_reason(p.plan,
                       "%u empty hotplug-capable PCI Express port%s, the policy wants %u; %u of %u "
                       "pcie-root-ports (cap for %s) are in use",
                       pcie, pcie == 1 ? "" : "s", opts.policy.spare_ports, p.config->n_root_ports,
                       p.cap, p.arch);
        gboolean want_chain = opts.policy.legacy_bridge == SK_LEGACY_BRIDGE_EAGER ||
                              (opts.policy.legacy_bridge == SK_LEGACY_BRIDGE_LAZY && legacy_in_use);

        if (want_chain && pci == 0 && opts.policy.legacy_bridge == SK_LEGACY_BRIDGE_LAZY)
            sk_plan_reason(p.plan, "a conventional PCI device that requires hotplug is in use: "
                                   "keep a pcie-to-pci-bridge slot free for the next one");
        if (want_chain && pci == 0 && sk_planner_add_legacy_chain(&p, &why) == NULL)
            sk_plan_reason(p.plan, "cannot add the legacy bridge chain: %s", why);
        g_clear_pointer(&why, g_free);
        while (pcie < opts.policy.spare_ports &&
               sk_planner_add_root_port(&p, "spare hotplug port", &why) != NULL)
            sk_work_count_free(p.config, &pcie, &pci);
    }
    if (why != NULL) {
        p.plan->short_of_policy = TRUE;
        sk_plan_reason(p.plan, "stopped short of the policy: %s", why);
    }
    sk_planner_describe_controllers(&p, 0);
    p.plan->effect = p.plan->controllers->len > 0 ? SK_PLAN_EFFECT_NEXT_BOOT : SK_PLAN_EFFECT_NONE;
    sk_plan_reason(p.plan, p.plan->controllers->len > 0
                               ? "the new controllers take effect at the next cold boot"
                               : "nothing to add");
    plan = g_steal_pointer(&p.plan);
    sk_planner_clear(&p);
    return plan;
}
