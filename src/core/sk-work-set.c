/* slotkeeper: the planner's working copy of one definition's PCI buses (sk-work-set.h). */
#include "sk-work-set.h"

#include <string.h>

SkWorkSet *
sk_work_set_new(const SkTopology *topo, const char *label)
{
    SkWorkSet *set = g_new0(SkWorkSet, 1);

    set->label = label;
    set->topo = topo;
    set->kind = sk_topology_get_machine_info(topo)->kind;
    set->n_buses = sk_topology_get_n_buses(topo);
    for (guint i = 0; i < set->n_buses; i++) {
        const SkBus *bus = sk_topology_get_bus(topo, i);
        SkWorkBus *wb = &set->buses[i];

        if (bus->controller == NULL)
            continue;
        wb->exists = TRUE;
        wb->model = bus->controller->model;
        wb->flags = bus->flags;
        wb->min_slot = bus->min_slot;
        wb->max_slot = bus->max_slot;
        memcpy(wb->functions, bus->functions, sizeof(wb->functions));
        memcpy(wb->aggregate, bus->aggregate, sizeof(wb->aggregate));
    }
    for (guint i = 0; i < sk_topology_get_n_controllers(topo); i++) {
        const SkController *ctrl = sk_topology_get_controller(topo, i);

        if (ctrl->model == SK_PCI_MODEL_PCIE_ROOT_PORT)
            set->n_root_ports++;
        if (ctrl->model == SK_PCI_MODEL_PCIE_ROOT_PORT ||
            ctrl->model == SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT) {
            /* libvirt's default chassis is the index. */
            int chassis = ctrl->chassis >= 0 ? ctrl->chassis : (int)ctrl->index;

            if (chassis < 256)
                set->chassis_used[chassis] = TRUE;
        }
        if (ctrl->model == SK_PCI_MODEL_PCI_BRIDGE) {
            int nr = ctrl->chassis_nr >= 0 ? ctrl->chassis_nr : (int)ctrl->index;

            if (nr < 256)
                set->chassis_nr_used[nr] = TRUE;
        }
    }
    return set;
}

const SkWorkBus *
sk_work_bus(const SkWorkSet *set, guint index)
{
    if (index >= set->n_buses || !set->buses[index].exists)
        return NULL;
    return &set->buses[index];
}

static gboolean
sk_work_slot_empty(const SkWorkBus *bus, guint slot)
{
    return bus->functions[slot] == 0;
}

void
sk_work_reserve(SkWorkSet *set, const SkPciAddr *addr, SkConnectFlags flags)
{
    SkWorkBus *bus = &set->buses[addr->bus];

    if (bus->functions[addr->slot] == 0)
        bus->aggregate[addr->slot] = (flags & SK_CONNECT_AGGREGATE_SLOT) != 0;
    bus->functions[addr->slot] |= (guint8)(1u << addr->function);
}

gboolean
sk_work_find(SkWorkSet *const *sets, guint n_sets, SkConnectFlags flags, gboolean from_config,
             int only_bus, SkPciAddr *out)
{
    guint n_buses = sets[0]->n_buses;

    for (guint i = 1; i < n_sets; i++)
        n_buses = MIN(n_buses, sets[i]->n_buses);
    for (guint b = 0; b < n_buses; b++) {
        const SkWorkBus *bs[SK_MAX_SETS] = { NULL };
        gboolean usable = n_sets > 0 && n_sets <= G_N_ELEMENTS(bs);

        if (only_bus >= 0 && (guint)only_bus != b)
            continue;
        for (guint i = 0; usable && i < n_sets; i++) {
            bs[i] = sk_work_bus(sets[i], b);
            usable = bs[i] != NULL && bs[i]->model == bs[0]->model &&
                     sk_pci_flags_compatible(flags, bs[i]->flags, from_config, NULL);
        }
        if (!usable)
            continue;
        for (guint s = bs[0]->min_slot; s <= bs[0]->max_slot; s++) {
            guint8 used = 0;
            gboolean empty = TRUE, aggregate = TRUE;

            for (guint i = 0; i < n_sets; i++) {
                used |= bs[i]->functions[s];
                empty = empty && sk_work_slot_empty(bs[i], s);
                aggregate = aggregate && (bs[i]->aggregate[s] || sk_work_slot_empty(bs[i], s));
            }
            if (empty) {
                *out = (SkPciAddr){ 0, b, s, 0 };
                return TRUE;
            }
            if ((flags & SK_CONNECT_AGGREGATE_SLOT) && aggregate && used != 0xff) {
                guint f = 0;

                while (used & (1u << f))
                    f++;
                *out = (SkPciAddr){ 0, b, s, f };
                return TRUE;
            }
        }
    }
    return FALSE;
}

gboolean
sk_work_free_index(const SkWorkSet *set, guint above, guint *index)
{
    for (guint i = MAX(1u, above + 1); i <= SK_MAX_INDEX; i++) {
        if (i >= set->n_buses || !set->buses[i].exists) {
            *index = i;
            return TRUE;
        }
    }
    return FALSE;
}

int
sk_work_free_chassis(gboolean *used, guint preferred)
{
    if (preferred < 256 && !used[preferred])
        return (int)preferred;
    for (guint c = 1; c < 256; c++) {
        if (!used[c])
            return (int)c;
    }
    return -1;
}

void
sk_work_count_free(const SkWorkSet *set, guint *pcie, guint *pci)
{
    *pcie = 0;
    *pci = 0;
    for (guint b = 0; b < set->n_buses; b++) {
        const SkWorkBus *bus = sk_work_bus(set, b);

        if (bus == NULL || !(bus->flags & SK_CONNECT_HOTPLUGGABLE))
            continue;
        for (guint s = bus->min_slot; s <= bus->max_slot; s++) {
            if (!sk_work_slot_empty(bus, s))
                continue;
            if (bus->flags & SK_CONNECT_PCIE_DEVICE)
                (*pcie)++;
            else if (bus->flags & SK_CONNECT_PCI_DEVICE)
                (*pci)++;
        }
    }
}
