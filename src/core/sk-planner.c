/* slotkeeper: the slot planner (rules sections 3, 4.2 and 5): attach plans - the planning
 * state, a requested address checked, a slot chosen for the device and each companion. It works
 * on copies of each definition's bus occupancy (sk-work-set.h) so that controllers it decides
 * to add (sk-planner-grow.c) are visible to the decisions that follow, and never touches the
 * topologies it is given. */
#include "sk-planner.h"

#include "sk-planner-private.h"

void
sk_planner_focus(SkPlanner *p, gboolean live, gboolean config)
{
    p->config = config ? p->all_config : NULL;
    p->live = live ? p->all_live : NULL;
    p->n_sets = 0;
    if (p->config != NULL)
        p->sets[p->n_sets++] = p->config;
    if (p->live != NULL)
        p->sets[p->n_sets++] = p->live;
}

void
sk_planner_init(SkPlanner *p, const SkTopology *persistent, const SkTopology *live,
                const SkPolicy *policy)
{
    const SkTopology *any = persistent ? persistent : live;

    p->plan = sk_plan_new();
    if (persistent != NULL)
        p->all_config = sk_work_set_new(persistent, "persistent");
    if (live != NULL)
        p->all_live = sk_work_set_new(live, "running");
    p->arch = sk_topology_get_machine_info(any)->arch;
    p->cap = sk_policy_root_port_cap(policy, p->arch);
    sk_planner_focus(p, live != NULL, persistent != NULL);
}

void
sk_planner_clear(SkPlanner *p)
{
    g_clear_pointer(&p->all_config, g_free);
    g_clear_pointer(&p->all_live, g_free);
    p->config = p->live = NULL;
    g_clear_pointer(&p->plan, sk_plan_free);
}

gboolean
sk_planner_is_pcie(const SkPlanner *p)
{
    return (p->all_config != NULL ? p->all_config : p->all_live)->kind != SK_MACHINE_PC;
}

static gboolean
sk_planner_validate_address(SkPlanner *p, GError **error)
{
    const SkDevice *dev = p->dev;
    const SkPciAddr *a = &dev->address;
    g_autofree char *text = sk_pci_addr_format(a);

    for (guint i = 0; i < p->n_sets; i++) {
        const SkWorkSet *set = p->sets[i];
        gboolean live = set == p->live;
        const SkWorkBus *bus = a->domain == 0 ? sk_work_bus(set, a->bus) : NULL;
        SkConnectFlags flags = dev->flags & ~SK_CONNECT_AUTOASSIGN;
        g_autofree char *why = NULL;

        if (live)
            flags |= SK_CONNECT_HOTPLUGGABLE;
        if (bus == NULL) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "cannot use address %s for %s: the %s definition has no PCI bus 0x%02x; "
                        "omit the address to let slotkeeper choose one",
                        text, dev->description, set->label, a->bus);
            return FALSE;
        }
        if (live && a->function != 0) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "cannot hotplug %s at %s: only function 0 can be hotplugged; use "
                        "function 0 or attach with --config only",
                        dev->description, text);
            return FALSE;
        }
        if ((dev->flags & SK_CONNECT_INTEGRATED) && a->bus != 0) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "cannot use address %s for %s: it must sit on bus 0 (pcie-root)", text,
                        dev->description);
            return FALSE;
        }
        if (!sk_pci_flags_compatible(flags, bus->flags, TRUE, &why)) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "cannot use address %s for %s in the %s definition: %s (bus 0x%02x is "
                        "a %s); omit the address to let slotkeeper choose one",
                        text, dev->description, set->label, why, a->bus,
                        sk_pci_model_to_string(bus->model));
            return FALSE;
        }
        if (a->slot < bus->min_slot || a->slot > bus->max_slot) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "cannot use address %s for %s: slots on a %s are %u..%u", text,
                        dev->description, sk_pci_model_to_string(bus->model), bus->min_slot,
                        bus->max_slot);
            return FALSE;
        }
        if (bus->functions[a->slot] & (1u << a->function)) {
            const SkOccupant *occ = sk_topology_find_occupant(set->topo, a);

            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS,
                        "address %s is already in use in the %s definition by %s; omit the "
                        "address to let slotkeeper choose a free one",
                        text, set->label, occ ? occ->description : "another device");
            return FALSE;
        }
        if (!live && p->opts->hotplug_require && !(bus->flags & SK_CONNECT_HOTPLUGGABLE))
            sk_plan_reason(p->plan,
                           "note: %s is not hotplug-capable, so the device cannot be unplugged "
                           "while the guest runs",
                           text);
    }
    sk_plan_reason(p->plan, "use the requested address %s: it is free and compatible", text);
    p->plan->has_address = TRUE;
    p->plan->address = *a;
    return TRUE;
}

static void
sk_planner_place(SkPlanner *p, const SkPciAddr *addr)
{
    *p->out_has = TRUE;
    *p->out = *addr;
    for (guint i = 0; i < p->n_sets; i++)
        sk_work_reserve(p->sets[i], addr, p->flags);
}

static void
sk_planner_describe_choice(SkPlanner *p, const SkPciAddr *addr, gboolean hotplug)
{
    const SkWorkBus *bus = sk_work_bus(p->sets[0], addr->bus);
    g_autofree char *text = sk_pci_addr_format(addr);
    const char *where = p->n_sets > 1 ? " in both the running and the persistent definition" : "";

    if (bus->model == SK_PCI_MODEL_PCIE_ROOT_PORT ||
        bus->model == SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT)
        sk_plan_reason(p->plan, "chose %s: the empty %s%s index %u, free%s", text,
                       hotplug ? "hotplug-capable " : "", sk_pci_model_to_string(bus->model),
                       addr->bus, where);
    else
        sk_plan_reason(p->plan, "chose %s: slot 0x%02x of %s index %u%s, free%s", text, addr->slot,
                       sk_pci_model_to_string(bus->model), addr->bus,
                       hotplug ? " (hotplug-capable)" : "", where);
}

/* hotplug-require=no on q35/virt: an integrated endpoint on pcie-root; explicit addresses relax
 * the PCI/PCIe check, so conventional PCI devices fit too and need no bridge. */
static gboolean
sk_planner_try_root_bus(SkPlanner *p)
{
    SkWorkSet *only[1] = { p->config };
    SkConnectFlags flags = p->flags & ~SK_CONNECT_AUTOASSIGN;
    SkPciAddr addr;

    if (!sk_work_find(only, 1, flags, TRUE, 0, &addr)) {
        sk_plan_reason(p->plan, "pcie-root (bus 0) is full; falling back to a hotplug-capable "
                                "slot");
        return FALSE;
    }
    sk_planner_place(p, &addr);
    sk_plan_reason(p->plan,
                   "%s: place it directly on pcie-root at slot 0x%02x as an integrated "
                   "endpoint; it uses no port and needs no bridge, but can never be "
                   "hot-unplugged",
                   p->opts->hotplug_require ? "libvirt cannot hot-unplug it anyway"
                                            : "hotplug-require=no",
                   addr.slot);
    return TRUE;
}

static const char *
sk_planner_need_text(const SkPlanner *p)
{
    if (!sk_planner_is_pcie(p))
        return "a free hotplug-capable slot on pci-root (needs <acpi/>) or on a pci-bridge";
    if (p->flags & SK_CONNECT_PCIE_DEVICE)
        return "an empty hotplug-capable pcie-root-port (or switch downstream port)";
    return "a free slot on a pcie-to-pci-bridge or pci-bridge (conventional PCI devices cannot "
           "use PCI Express ports)";
}

static const char *
sk_planner_remedy_without_growth(const SkPlanner *p)
{
    if (p->live != NULL && p->config != NULL)
        return "detach a device to free a slot: a running guest cannot gain slots, and the "
               "persistent definition has no room for a new one either";
    if (p->live != NULL && p->opts->transient)
        return "detach a device to free a slot: a running guest cannot gain slots, and a "
               "transient domain has no persistent definition to add one to";
    if (p->live != NULL)
        return "detach a device to free a slot, or attach with --config so that a slot is added "
               "for the next cold boot (a running guest cannot gain slots)";
    /* Not live, so the persistent definition was part of the plan and could not grow. */
    if (!sk_planner_is_pcie(p))
        return "free a slot: no PCI bus has room for another pci-bridge";
    if (!(p->flags & SK_CONNECT_PCIE_DEVICE) &&
        p->opts->policy.legacy_bridge == SK_LEGACY_BRIDGE_NEVER)
        return "set the legacy-bridge policy to lazy, use a PCI Express model (e.g. virtio or "
               "e1000e), or use --hotplug-require no to place it on pcie-root";
    return "use --hotplug-require no to place it on pcie-root (it then cannot be hot-unplugged), "
           "raise the root-port cap, or detach a device first";
}

void
sk_planner_attach_pci(SkPlanner *p)
{
    const SkPlanOptions *opts = p->opts;
    gboolean live = p->live != NULL;
    gboolean hotplug = p->require || live;
    SkConnectFlags flags = p->flags | (hotplug ? SK_CONNECT_HOTPLUGGABLE : 0);
    g_autofree char *why = NULL;
    g_autofree char *prepared = NULL;
    g_autofree char *added = NULL;
    guint before = p->plan->controllers->len;
    SkPciAddr addr;

    if (sk_planner_is_pcie(p) && (p->flags & SK_CONNECT_INTEGRATED)) {
        if (!sk_planner_try_root_bus(p))
            sk_plan_refuse(p->plan, SK_ERROR_NO_FREE_SLOT, "detach a device from pcie-root first",
                           "%s must sit on pcie-root (bus 0), which is full", p->what);
        return;
    }
    if (!p->require && live && !opts->hotplug_require)
        sk_plan_reason(p->plan, "hotplug-require=no does not apply to the running guest: a live "
                                "attach always needs a hotplug-capable slot");
    if (!hotplug && sk_planner_is_pcie(p) && sk_planner_try_root_bus(p))
        return;
    if (sk_work_find(p->sets, p->n_sets, flags, FALSE, -1, &addr)) {
        sk_planner_place(p, &addr);
        sk_planner_describe_choice(p, &addr, hotplug);
        return;
    }
    sk_plan_reason(p->plan, "no compatible hotplug slot is free%s: it needs %s",
                   p->n_sets > 1 ? " in both definitions" : "", sk_planner_need_text(p));
    /* A transient domain has no persistent definition to grow for the next boot. */
    if (!(live && opts->transient) && sk_planner_grow(p, &addr, &why)) {
        sk_planner_describe_controllers(p, before);
        if (!live) {
            sk_planner_place(p, &addr);
            sk_planner_describe_choice(p, &addr, hotplug);
            return;
        }
        added = sk_planner_list_controllers(p, before);
        prepared = g_strdup_printf(
            "attach it with --config only (or let slotkeeperd do it) to add %s to the persistent "
            "definition: the new slot becomes usable after the guest is shut down and started "
            "again",
            added);
    }
    if (live) {
        SkWorkSet *live_only[1] = { p->live };
        g_autofree char *remedy = NULL;
        SkPciAddr live_addr;

        if (p->n_sets > 1 && sk_work_find(live_only, 1, flags, FALSE, -1, &live_addr)) {
            g_autofree char *text = sk_pci_addr_format(&live_addr);

            remedy = g_strdup_printf("%s is free in the running guest but taken in the persistent "
                                     "definition: attach with --live only, or%s%s",
                                     text, prepared ? " " : " wait for a cold boot",
                                     prepared ? prepared : "");
        } else {
            remedy = g_strdup(prepared ? prepared : sk_planner_remedy_without_growth(p));
        }
        sk_plan_refuse(p->plan, SK_ERROR_NO_FREE_SLOT, remedy,
                       "no free hotplug-capable slot for %s in the running guest: it needs %s, "
                       "and controllers cannot be hotplugged",
                       p->what, sk_planner_need_text(p));
        return;
    }
    sk_plan_refuse(p->plan, SK_ERROR_NO_FREE_SLOT, sk_planner_remedy_without_growth(p),
                   "no hotplug-capable slot can be had for %s: %s", p->what,
                   why ? why : "no compatible bus");
}

SkConnectFlags
sk_planner_transport(SkPlanner *p, const SkDevice *dev, gboolean hotplug, const char **what)
{
    *what = dev->description;
    if (dev->flags != 0 || dev->mmio_pci_flags == 0)
        return dev->flags;
    if (!hotplug) {
        sk_plan_reason(p->plan,
                       "%s keeps libvirt's virtio-mmio transport (no PCI address), "
                       "which can never be hot-unplugged",
                       dev->pci_description);
        return 0;
    }
    *what = dev->pci_description;
    sk_plan_reason(p->plan,
                   "without a PCI address libvirt would put it on virtio-mmio on this "
                   "guest, and virtio-mmio devices can never be hot-unplugged: it gets a "
                   "PCI address as %s",
                   dev->pci_description);
    return dev->mmio_pci_flags;
}

static gboolean
sk_planner_device(SkPlanner *p, GError **error)
{
    const SkDevice *dev = p->dev;

    p->require = p->opts->hotplug_require;
    p->out = &p->plan->address;
    p->out_has = &p->plan->has_address;
    p->flags = sk_planner_transport(p, dev, p->require || p->live != NULL, &p->what);
    p->plan->virtio_pci = p->flags != dev->flags;
    if (p->flags == 0) {
        if (dev->mmio_pci_flags == 0)
            sk_plan_reason(p->plan, "%s needs no PCI address: %s",
                           p->plan->companions->len > 0 ? "the device itself" : "it",
                           dev->no_pci_reason ? dev->no_pci_reason : "not a PCI device");
        return TRUE;
    }
    if (dev->has_pci_address)
        return sk_planner_validate_address(p, error);
    sk_planner_attach_pci(p);
    return TRUE;
}

SkPlan *
sk_plan_attach(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
               const SkPlanOptions *opts, GError **error)
{
    SkPlanner p = { 0 };
    SkPlan *plan;

    g_return_val_if_fail(dev != NULL && opts != NULL, NULL);
    if (!opts->live && !opts->config) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "nothing to plan: neither the running nor the persistent definition is "
                    "affected (use --live and/or --config)");
        return NULL;
    }
    if ((opts->live && live == NULL) || (opts->config && persistent == NULL)) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "the %s definition is needed to plan this attach",
                    opts->live && live == NULL ? "running" : "persistent");
        return NULL;
    }
    if (opts->live && !sk_topology_is_live(live)) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "a live attach needs the running domain's XML (virsh dumpxml of a running "
                    "guest, with <domain id=...>); this one is inactive: plan with --config");
        return NULL;
    }
    if (opts->live && opts->config &&
        sk_topology_get_machine_info(live)->kind !=
            sk_topology_get_machine_info(persistent)->kind) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "the running and the persistent definitions have different machine types");
        return NULL;
    }
    if (opts->live && !dev->live_attachable) {
        g_set_error(error, SK_ERROR, SK_ERROR_NOT_SUPPORTED,
                    "libvirt cannot hot-attach %s; attach it with --config and restart the guest",
                    dev->description);
        return NULL;
    }
    p.opts = opts;
    p.dev = dev;
    sk_planner_init(&p, opts->config ? persistent : NULL, opts->live ? live : NULL, &opts->policy);
    sk_plan_reason(p.plan, "%s", dev->description);
    if (!sk_planner_companions(&p, opts->config ? persistent : NULL, opts->live ? live : NULL,
                               error)) {
        sk_planner_clear(&p);
        return NULL;
    }
    if (!p.plan->refused && !sk_planner_device(&p, error)) {
        sk_planner_clear(&p);
        return NULL;
    }
    if (!p.plan->refused)
        p.plan->effect = opts->live ? SK_PLAN_EFFECT_NOW : SK_PLAN_EFFECT_NEXT_BOOT;
    if (!p.plan->refused && p.plan->effect == SK_PLAN_EFFECT_NEXT_BOOT)
        sk_plan_reason(p.plan, "takes effect at the next cold boot of the guest");
    plan = g_steal_pointer(&p.plan);
    sk_planner_clear(&p);
    return plan;
}
