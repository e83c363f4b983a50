/* slotkeeper: libFuzzer target for the domain-XML parser and the topology builder. The input is
 * an arbitrary domain XML; everything the CLI's slot listing reads is read back, so that a
 * topology which parses but is inconsistent shows up under the sanitizers. */
#include <stdint.h>
#include <string.h>

#include <libxml/parser.h>

#include "sk-pci.h"
#include "sk-topology.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
sk_fuzz_log_handler(const char *domain, GLogLevelFlags level, const char *message, gpointer data)
{
    /* g_return_if_fail() in the core is a bug for any input, so it must crash here. */
    if (level & (G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING | G_LOG_LEVEL_ERROR))
        g_error("%s: %s", domain ? domain : "", message);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
    xmlInitParser();
    g_log_set_default_handler(sk_fuzz_log_handler, NULL);
    return 0;
}

static void
sk_fuzz_walk(const SkTopology *topo)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);
    guint pcie = 0;
    guint pci = 0;
    volatile gsize sink = 0;

    sink += mi->kind + (mi->arch ? strlen(mi->arch) : 0) + (mi->machine ? strlen(mi->machine) : 0);
    sink += sk_topology_get_name(topo) ? strlen(sk_topology_get_name(topo)) : 0;
    sink += sk_topology_get_uuid(topo) ? strlen(sk_topology_get_uuid(topo)) : 0;
    sink += sk_topology_is_live(topo) + sk_topology_has_acpi(topo);
    sink += sk_topology_get_n_unaddressed(topo);
    for (guint i = 0; i < sk_topology_get_n_controllers(topo); i++) {
        const SkController *ctrl = sk_topology_get_controller(topo, i);
        const char *name = sk_pci_model_to_string(ctrl->model);

        g_assert(sk_topology_find_controller(topo, ctrl->index) == ctrl);
        sink += (name ? strlen(name) : 0) + (ctrl->model_name ? strlen(ctrl->model_name) : 0);
    }
    for (guint b = 0; b < sk_topology_get_n_buses(topo); b++) {
        const SkBus *bus = sk_topology_get_bus(topo, b);
        g_autofree char *flags = sk_pci_flags_describe(bus->flags);

        g_assert(bus->index == b);
        sink += strlen(flags) + sk_bus_is_hotpluggable(bus);
        for (guint slot = bus->min_slot; slot <= bus->max_slot && slot < 32; slot++)
            sink += sk_bus_slot_is_empty(bus, slot);
    }
    for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++) {
        const SkOccupant *occ = sk_topology_get_occupant(topo, i);
        g_autofree char *text = sk_pci_addr_format(&occ->address);

        g_assert(sk_topology_find_occupant(topo, &occ->address) == occ);
        sink += strlen(text) + strlen(sk_occupant_kind_to_string(occ->kind));
        sink += occ->description ? strlen(occ->description) : 0;
    }
    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    sink += pcie + pci;
    (void)sink;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) topo = sk_topology_new_from_xml((const char *)data, size, &error);

    if (topo == NULL) {
        g_assert(error != NULL && error->message != NULL);
        return 0;
    }
    g_assert(error == NULL);
    sk_fuzz_walk(topo);
    return 0;
}
