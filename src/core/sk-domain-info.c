/* slotkeeper: a domain's facts as the service reports them. */
#include "sk-domain-info.h"

SkDomainInfo *
sk_domain_info_new(void)
{
    SkDomainInfo *info = g_new0(SkDomainInfo, 1);

    info->id = -1;
    sk_policy_init(&info->policy);
    return info;
}

SkDomainInfo *
sk_domain_info_copy(const SkDomainInfo *info)
{
    SkDomainInfo *copy = g_memdup2(info, sizeof(*info));

    copy->name = g_strdup(info->name);
    copy->uuid = g_strdup(info->uuid);
    copy->state = g_strdup(info->state);
    copy->arch = g_strdup(info->arch);
    copy->machine = g_strdup(info->machine);
    return copy;
}

void
sk_domain_info_free(SkDomainInfo *info)
{
    if (info == NULL)
        return;
    g_free(info->name);
    g_free(info->uuid);
    g_free(info->state);
    g_free(info->arch);
    g_free(info->machine);
    g_free(info);
}

gboolean
sk_domain_info_equal(const SkDomainInfo *a, const SkDomainInfo *b)
{
    return g_strcmp0(a->name, b->name) == 0 && g_strcmp0(a->uuid, b->uuid) == 0 &&
           g_strcmp0(a->state, b->state) == 0 && g_strcmp0(a->arch, b->arch) == 0 &&
           g_strcmp0(a->machine, b->machine) == 0 && a->active == b->active &&
           a->persistent == b->persistent && a->pci_machine == b->pci_machine &&
           a->managed == b->managed && a->id == b->id && a->spare_ports == b->spare_ports &&
           a->policy.spare_ports == b->policy.spare_ports &&
           a->policy.legacy_bridge == b->policy.legacy_bridge &&
           a->policy.root_port_cap == b->policy.root_port_cap && a->free_pcie == b->free_pcie &&
           a->free_pci == b->free_pci && a->free_pcie_next == b->free_pcie_next &&
           a->free_pci_next == b->free_pci_next && a->legacy_chain == b->legacy_chain &&
           a->restart_pending == b->restart_pending;
}

void
sk_domain_info_resolve_policy(const SkConfig *config, const SkMetadata *md, SkPolicy *policy,
                              gboolean *managed)
{
    *policy = config->policy;
    *managed = config->manage_default;
    if (md == NULL)
        return;
    sk_metadata_apply(md, policy);
    if (md->has_managed)
        *managed = md->managed;
}

static gboolean
sk_domain_info_has_legacy_chain(const SkTopology *topo)
{
    for (guint i = 0; i < sk_topology_get_n_controllers(topo); i++) {
        SkPciModel model = sk_topology_get_controller(topo, i)->model;

        if (model == SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE || model == SK_PCI_MODEL_PCI_BRIDGE)
            return TRUE;
    }
    return FALSE;
}

/* Whether the persistent definition has PCI controllers the running guest lacks. */
static gboolean
sk_domain_info_restart_pending(const SkTopology *persistent, const SkTopology *live)
{
    for (guint i = 0; i < sk_topology_get_n_controllers(persistent); i++) {
        const SkController *c = sk_topology_get_controller(persistent, i);
        const SkController *l = sk_topology_find_controller(live, c->index);

        if (l == NULL || l->model != c->model)
            return TRUE;
    }
    return FALSE;
}

/* How many spare ports the service can keep in @next: at most the policy's, and no more than
 * the free ports there plus the root ports the cap still allows. */
static guint
sk_domain_info_reachable_spares(const SkTopology *next, const SkPolicy *policy, guint free_pcie)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(next);
    guint cap = sk_policy_root_port_cap(policy, mi->arch);
    guint roots = 0;

    if (!mi->has_pcie_root)
        return policy->spare_ports; /* pci-bridges on pc: no root-port cap */
    for (guint i = 0; i < sk_topology_get_n_controllers(next); i++) {
        if (sk_topology_get_controller(next, i)->model == SK_PCI_MODEL_PCIE_ROOT_PORT)
            roots++;
    }
    return MIN(policy->spare_ports, free_pcie + (cap > roots ? cap - roots : 0));
}

void
sk_domain_info_fill(SkDomainInfo *info, const SkConfig *config, const SkTopology *live,
                    const SkTopology *persistent, const SkMetadata *md)
{
    const SkTopology *next = persistent != NULL ? persistent : live;
    gboolean managed = FALSE;

    info->pci_machine = next != NULL;
    info->free_pcie = info->free_pci = info->free_pcie_next = info->free_pci_next = 0;
    info->legacy_chain = SK_LEGACY_CHAIN_ABSENT;
    info->restart_pending = FALSE;
    sk_domain_info_resolve_policy(config, md, &info->policy, &managed);
    info->managed = managed && info->persistent && info->pci_machine;
    info->spare_ports = info->policy.spare_ports;
    if (!info->pci_machine)
        return;
    if (live != NULL)
        sk_topology_count_free_hotplug(live, &info->free_pcie, &info->free_pci);
    sk_topology_count_free_hotplug(next, &info->free_pcie_next, &info->free_pci_next);
    if (live != NULL && sk_domain_info_has_legacy_chain(live))
        info->legacy_chain = SK_LEGACY_CHAIN_PRESENT;
    else if (persistent != NULL && sk_domain_info_has_legacy_chain(persistent))
        info->legacy_chain = live != NULL ? SK_LEGACY_CHAIN_NEXT_BOOT : SK_LEGACY_CHAIN_PRESENT;
    info->restart_pending =
        live != NULL && persistent != NULL && sk_domain_info_restart_pending(persistent, live);
    info->spare_ports = sk_domain_info_reachable_spares(next, &info->policy, info->free_pcie_next);
}

const char *
sk_legacy_chain_to_string(SkLegacyChain chain)
{
    switch (chain) {
    case SK_LEGACY_CHAIN_NEXT_BOOT:
        return "next-boot";
    case SK_LEGACY_CHAIN_PRESENT:
        return "present";
    case SK_LEGACY_CHAIN_ABSENT:
    default:
        return "absent";
    }
}
