/* Unit tests for sk-topology against domain XMLs produced by the real libvirtd 9.0
 * (tests/data/make-fixtures.sh): controllers, buses, hotplug capability, occupants, chipset
 * reservations, free hotplug slots and parse errors. */
#include <glib.h>
#include <libxml/parser.h>
#include <libxml/xpath.h>
#include <string.h>

#include "sk-error.h"
#include "sk-pci.h"
#include "sk-topology.h"
#include "test-common.h"

/* ---- fixture access ------------------------------------------------------------------------ */

/* ---- an independent reading of the fixture (the oracle) ---------------------------------- */

typedef struct {
    char *element;
    gboolean pci_controller;
    guint index;      /* for PCI controllers */
    SkPciModel model; /* for PCI controllers */
    char *model_name; /* for PCI controllers */
    int chassis, port, chassis_nr;
    SkHotplugSetting hotplug;
    gboolean has_address;
    SkPciAddr address;
} OracleEntry;

typedef struct {
    GPtrArray *entries; /* every device element with a PCI address, and every PCI controller */
    gboolean acpi;
    gboolean root_in_xml;
} Oracle;

static void
oracle_entry_free(OracleEntry *e)
{
    g_free(e->element);
    g_free(e->model_name);
    g_free(e);
}

static void
oracle_clear(Oracle *o)
{
    g_clear_pointer(&o->entries, g_ptr_array_unref);
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(Oracle, oracle_clear)

static guint
num_prop(xmlNode *node, const char *name, int fallback)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    guint64 n;

    if (v == NULL)
        return (guint)fallback;
    n = g_ascii_strtoull((const char *)v, NULL, 0);
    xmlFree(v);
    return (guint)n;
}

static gboolean
prop_is(xmlNode *node, const char *name, const char *value)
{
    xmlChar *v = xmlGetProp(node, (const xmlChar *)name);
    gboolean eq = v != NULL && strcmp((const char *)v, value) == 0;

    xmlFree(v);
    return eq;
}

static xmlNode *
child(xmlNode *node, const char *name)
{
    for (xmlNode *c = node->children; c != NULL; c = c->next) {
        if (c->type == XML_ELEMENT_NODE && strcmp((const char *)c->name, name) == 0)
            return c;
    }
    return NULL;
}

static void
oracle_read(Oracle *o, const char *name)
{
    g_autofree char *path = data_path(name);
    xmlDoc *doc = xmlReadFile(path, NULL, XML_PARSE_NONET);
    xmlNode *root, *devices, *features;

    g_assert(doc != NULL);
    o->entries = g_ptr_array_new_with_free_func((GDestroyNotify)oracle_entry_free);
    root = xmlDocGetRootElement(doc);
    features = child(root, "features");
    o->acpi = features != NULL && child(features, "acpi") != NULL;
    devices = child(root, "devices");
    g_assert(devices != NULL);
    for (xmlNode *dev = devices->children; dev != NULL; dev = dev->next) {
        xmlNode *addr;
        OracleEntry *e;

        if (dev->type != XML_ELEMENT_NODE)
            continue;
        addr = child(dev, "address");
        e = g_new0(OracleEntry, 1);
        e->element = g_strdup((const char *)dev->name);
        e->chassis = e->port = e->chassis_nr = -1;
        if (g_str_equal(e->element, "controller") && prop_is(dev, "type", "pci")) {
            xmlChar *model = xmlGetProp(dev, (const xmlChar *)"model");
            xmlNode *mn = child(dev, "model");
            xmlNode *target = child(dev, "target");

            e->pci_controller = TRUE;
            e->index = num_prop(dev, "index", 0);
            e->model = sk_pci_model_from_string((const char *)model);
            xmlFree(model);
            if (mn != NULL) {
                xmlChar *v = xmlGetProp(mn, (const xmlChar *)"name");
                e->model_name = g_strdup((const char *)v);
                xmlFree(v);
            }
            if (target != NULL) {
                e->chassis = (int)num_prop(target, "chassis", -1);
                e->port = (int)num_prop(target, "port", -1);
                e->chassis_nr = (int)num_prop(target, "chassisNr", -1);
                if (prop_is(target, "hotplug", "on"))
                    e->hotplug = SK_HOTPLUG_ON;
                else if (prop_is(target, "hotplug", "off"))
                    e->hotplug = SK_HOTPLUG_OFF;
            }
            if (e->index == 0)
                o->root_in_xml = TRUE;
        }
        if (addr != NULL && prop_is(addr, "type", "pci")) {
            e->address = A(num_prop(addr, "bus", 0), num_prop(addr, "slot", 0),
                           num_prop(addr, "function", 0));
            e->address.domain = num_prop(addr, "domain", 0);
            e->has_address = !sk_pci_addr_is_empty(&e->address);
        }
        if (e->pci_controller || e->has_address)
            g_ptr_array_add(o->entries, e);
        else
            oracle_entry_free(e);
    }
    xmlFreeDoc(doc);
}

static const OracleEntry *
oracle_controller(const Oracle *o, guint index)
{
    for (guint i = 0; i < o->entries->len; i++) {
        const OracleEntry *e = o->entries->pdata[i];

        if (e->pci_controller && e->index == index)
            return e;
    }
    return NULL;
}

/* libvirt's view of a bus's hotplug capability, plus the pci-root rules of section 5.2. */
static gboolean
oracle_hotpluggable(const Oracle *o, const OracleEntry *c)
{
    switch (c->model) {
    case SK_PCI_MODEL_PCIE_ROOT_PORT:
    case SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT:
        return c->hotplug != SK_HOTPLUG_OFF;
    case SK_PCI_MODEL_PCI_ROOT:
        return o->acpi && c->hotplug != SK_HOTPLUG_OFF;
    case SK_PCI_MODEL_PCI_BRIDGE:
    case SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE:
    case SK_PCI_MODEL_PCI_EXPANDER_BUS:
        return TRUE;
    default:
        return FALSE;
    }
}

static int
addr_cmp(const SkPciAddr *a, const SkPciAddr *b)
{
    if (a->domain != b->domain)
        return a->domain < b->domain ? -1 : 1;
    if (a->bus != b->bus)
        return a->bus < b->bus ? -1 : 1;
    if (a->slot != b->slot)
        return a->slot < b->slot ? -1 : 1;
    if (a->function != b->function)
        return a->function < b->function ? -1 : 1;
    return 0;
}

/* Checks everything the oracle can tell about @name's topology. */
static void
check_against_oracle(const char *name)
{
    g_autoptr(SkTopology) topo = load(name);
    g_auto(Oracle) o = { 0 };
    guint n_pci_ctrl = 0, max_index = 0, n_addressed = 0, n_chipset = 0;
    guint want_pcie = 0, want_pci = 0, got_pcie = 99, got_pci = 99;

    g_test_message("fixture %s", name);
    oracle_read(&o, name);
    g_assert_cmpint(sk_topology_has_acpi(topo), ==, o.acpi);

    /* Controllers: every PCI controller of the XML, sorted by index, with its options. */
    for (guint i = 0; i < o.entries->len; i++) {
        const OracleEntry *e = o.entries->pdata[i];
        const SkController *c;

        if (!e->pci_controller)
            continue;
        n_pci_ctrl++;
        max_index = MAX(max_index, e->index);
        c = sk_topology_find_controller(topo, e->index);
        g_assert(c != NULL);
        g_assert_cmpuint(c->index, ==, e->index);
        g_assert_cmpint(c->model, ==, e->model);
        g_assert_cmpstr(c->model_name, ==, e->model_name);
        g_assert_cmpint(c->chassis, ==, e->chassis);
        g_assert_cmpint(c->port, ==, e->port);
        g_assert_cmpint(c->chassis_nr, ==, e->chassis_nr);
        g_assert_cmpint(c->hotplug, ==, e->hotplug);
        g_assert_cmpint(c->has_address, ==, e->has_address);
        if (e->has_address)
            g_assert_true(sk_pci_addr_equal(&c->address, &e->address));
        g_assert_false(c->implicit);
    }
    g_assert_true(o.root_in_xml);
    g_assert_cmpuint(sk_topology_get_n_controllers(topo), ==, n_pci_ctrl);
    for (guint i = 0; i + 1 < sk_topology_get_n_controllers(topo); i++) {
        g_assert_cmpuint(sk_topology_get_controller(topo, i)->index, <,
                         sk_topology_get_controller(topo, i + 1)->index);
    }
    g_assert_cmpuint(sk_topology_get_n_buses(topo), ==, max_index + 1);

    /* Occupants: one per PCI address in the XML, of the right kind, sorted by address. */
    for (guint i = 0; i < o.entries->len; i++) {
        const OracleEntry *e = o.entries->pdata[i];
        const SkOccupant *occ;

        if (!e->has_address)
            continue;
        n_addressed++;
        occ = sk_topology_find_occupant(topo, &e->address);
        g_assert(occ != NULL);
        g_assert_true(sk_pci_addr_equal(&occ->address, &e->address));
        g_assert_cmpstr(occ->element, ==, e->element);
        g_assert(occ->description != NULL);
        if (e->pci_controller) {
            g_assert_cmpint(occ->kind, ==, SK_OCCUPANT_CONTROLLER);
            g_assert_cmpuint(occ->controller_index, ==, e->index);
        } else if (g_str_equal(e->element, "controller")) {
            /* A non-PCI controller (sata, usb...) is an ordinary occupant. */
            g_assert_cmpint(occ->kind, !=, SK_OCCUPANT_CHIPSET);
        } else {
            g_assert_cmpint(occ->kind, ==, SK_OCCUPANT_DEVICE);
        }
    }
    for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++) {
        const SkOccupant *occ = sk_topology_get_occupant(topo, i);

        if (occ->kind == SK_OCCUPANT_CHIPSET) {
            n_chipset++;
            g_assert_null(occ->element);
        }
        if (i > 0)
            g_assert_cmpint(
                addr_cmp(&sk_topology_get_occupant(topo, i - 1)->address, &occ->address), <, 0);
    }
    g_assert_cmpuint(sk_topology_get_n_occupants(topo) - n_chipset, ==, n_addressed);
    /* libvirt wrote every address at define time. */
    g_assert_cmpuint(sk_topology_get_n_unaddressed(topo), ==, 0);

    /* Buses: model flags, slot range, resolved hotplug, function maps matching occupants. */
    for (guint b = 0; b < sk_topology_get_n_buses(topo); b++) {
        const SkBus *bus = sk_topology_get_bus(topo, b);
        const OracleEntry *e = oracle_controller(&o, b);
        SkConnectFlags model_flags;
        guint min_slot, max_slot;
        gboolean hot;
        guint8 functions[32] = { 0 };

        g_assert(bus != NULL);
        g_assert_cmpuint(bus->index, ==, b);
        if (e == NULL) {
            g_assert_null(bus->controller);
            continue;
        }
        g_assert(bus->controller != NULL);
        g_assert_cmpuint(bus->controller->index, ==, b);
        model_flags = sk_pci_model_bus_flags(e->model);
        g_assert_cmphex(bus->flags & SK_CONNECT_TYPES_MASK, ==,
                        model_flags & SK_CONNECT_TYPES_MASK);
        g_assert_cmphex(bus->flags & SK_CONNECT_AUTOASSIGN, ==,
                        model_flags & SK_CONNECT_AUTOASSIGN);
        sk_pci_model_slot_range(e->model, &min_slot, &max_slot);
        g_assert_cmpuint(bus->min_slot, ==, min_slot);
        g_assert_cmpuint(bus->max_slot, ==, max_slot);
        hot = oracle_hotpluggable(&o, e);
        g_test_message("bus %u (%s): hotplug %d", b, sk_pci_model_to_string(e->model), hot);
        g_assert_cmpint(sk_bus_is_hotpluggable(bus), ==, hot);
        g_assert_cmpint(!!(bus->flags & SK_CONNECT_HOTPLUGGABLE), ==, hot);

        for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++) {
            const SkOccupant *occ = sk_topology_get_occupant(topo, i);

            if (occ->address.bus == b)
                functions[occ->address.slot] |= 1u << occ->address.function;
        }
        for (guint s = 0; s < 32; s++) {
            g_assert_cmphex(bus->functions[s], ==, functions[s]);
            g_assert_cmpint(sk_bus_slot_is_empty(bus, s), ==, functions[s] == 0);
            if (!hot || s < min_slot || s > max_slot || functions[s] != 0)
                continue;
            if (e->model == SK_PCI_MODEL_PCIE_ROOT_PORT ||
                e->model == SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT)
                want_pcie++;
            else
                want_pci++;
        }
    }
    sk_topology_count_free_hotplug(topo, &got_pcie, &got_pci);
    g_assert_cmpuint(got_pcie, ==, want_pcie);
    g_assert_cmpuint(got_pci, ==, want_pci);
}

static const char *const libvirt_fixtures[] = {
    "q35-default.xml",     "q35-bare.xml",          "q35-virt-manager.xml", "q35-legacy-chain.xml",
    "q35-hotplug-off.xml", "q35-full.xml",          "q35-cap.xml",          "q35-switch.xml",
    "q35-dmi.xml",         "q35-root-full.xml",     "q35-live.xml",         "q35-live-inactive.xml",
    "virt-aarch64.xml",    "virt-aarch64-mmio.xml", "pc-default.xml",       "pc-noacpi.xml",
    "pc-hotplug-off.xml",  "pc-bridge.xml",         "pc-full.xml",
};

static void
test_oracle(gconstpointer data)
{
    check_against_oracle(data);
}

/* ---- per-fixture facts, written down by hand from the libvirt output --------------------- */

typedef struct {
    const char *file;
    SkMachineKind kind;
    const char *arch;
    const char *machine;
    gboolean live;
    gboolean acpi;
    guint n_controllers;
    guint free_pcie; /* empty hotplug-capable root/downstream ports */
    guint free_pci;  /* free slots on hotplug-capable conventional buses */
} FixtureFacts;

static const FixtureFacts facts[] = {
    /* 3 root ports: xhci on 1, balloon on 2, 3 is libvirt's one spare. */
    { "q35-default.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 4, 1, 0 },
    { "q35-bare.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 1, 0, 0 },
    { "q35-virt-manager.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 8, 1, 0 },
    /* rtl8139 on the pcie-to-pci-bridge (index 2) slot 1: 30 bridge slots free. */
    { "q35-legacy-chain.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 6, 1, 30 },
    /* ports 1, 2 hotplug='off' (1 holds the NIC), 3 default, 4 hotplug='on'. */
    { "q35-hotplug-off.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 5, 2, 0 },
    { "q35-full.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 4, 0, 0 },
    { "q35-cap.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 15, 0, 0 },
    /* downstream ports 3, 4, 5 (hotplug='off'), 6; the NIC sits on 3. */
    { "q35-switch.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 7, 2, 0 },
    /* e1000 on the pci-bridge (index 2), which sits on the dmi-to-pci-bridge. */
    { "q35-dmi.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 3, 0, 30 },
    { "q35-root-full.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 3, 1, 0 },
    /* live: root ports 3, 5, 6 free; persistent: 4, 5, 6 free. */
    { "q35-live.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", TRUE, TRUE, 7, 3, 0 },
    { "q35-live-inactive.xml", SK_MACHINE_Q35, "x86_64", "pc-q35-7.2", FALSE, TRUE, 7, 3, 0 },
    { "virt-aarch64.xml", SK_MACHINE_VIRT, "aarch64", "virt-7.2", FALSE, FALSE, 5, 1, 0 },
    /* pci-root: 00:01 chipset, video 00:02, NIC 00:03, disk 00:04, balloon 00:05. */
    { "pc-default.xml", SK_MACHINE_PC, "x86_64", "pc-i440fx-7.2", FALSE, TRUE, 1, 0, 26 },
    { "pc-noacpi.xml", SK_MACHINE_PC, "x86_64", "pc-i440fx-7.2", FALSE, FALSE, 1, 0, 0 },
    { "pc-hotplug-off.xml", SK_MACHINE_PC, "x86_64", "pc-i440fx-7.2", FALSE, TRUE, 1, 0, 0 },
    { "pc-full.xml", SK_MACHINE_PC, "x86_64", "pc-i440fx-7.2", FALSE, TRUE, 2, 0, 0 },
};

static void
test_facts(gconstpointer data)
{
    const FixtureFacts *f = data;
    g_autoptr(SkTopology) topo = load(f->file);
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);
    guint pcie = 99, pci = 99;
    g_autofree char *want_name = NULL;

    g_assert(mi != NULL);
    g_assert_cmpint(mi->kind, ==, f->kind);
    g_assert_cmpstr(mi->arch, ==, f->arch);
    g_assert_cmpstr(mi->machine, ==, f->machine);
    g_assert_cmpint(mi->has_pcie_root, ==, f->kind != SK_MACHINE_PC);
    g_assert_false(mi->virtio_mmio);
    g_assert_cmpint(sk_topology_is_live(topo), ==, f->live);
    g_assert_cmpint(sk_topology_has_acpi(topo), ==, f->acpi);
    g_assert_cmpuint(sk_topology_get_n_controllers(topo), ==, f->n_controllers);
    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    g_assert_cmpuint(pcie, ==, f->free_pcie);
    g_assert_cmpuint(pci, ==, f->free_pci);

    /* Names are skfx-<file stem>; the live pair shares one domain. */
    if (g_str_has_prefix(f->file, "q35-live"))
        want_name = g_strdup("skfx-q35-live");
    else
        want_name = g_strdup_printf("skfx-%.*s", (int)(strlen(f->file) - 4), f->file);
    g_assert_cmpstr(sk_topology_get_name(topo), ==, want_name);
    g_assert(sk_topology_get_uuid(topo) != NULL);
    g_assert_true(g_str_has_prefix(sk_topology_get_uuid(topo), "5c3b0a10-0000-4000-8000-"));
    g_assert(sk_topology_get_doc(topo) != NULL);
}

/* ---- specific topologies -------------------------------------------------------------------- */

static void
assert_occupant(const SkTopology *topo, SkPciAddr addr, SkOccupantKind kind, const char *element)
{
    const SkOccupant *occ = sk_topology_find_occupant(topo, &addr);
    g_autofree char *s = sk_pci_addr_format(&addr);

    g_test_message("occupant at %s", s);
    g_assert(occ != NULL);
    g_assert_cmpint(occ->kind, ==, kind);
    g_assert_cmpstr(occ->element, ==, element);
}

static void
assert_free(const SkTopology *topo, SkPciAddr addr)
{
    g_assert_null(sk_topology_find_occupant(topo, &addr));
}

static void
test_q35_default(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    const SkBus *root = sk_topology_get_bus(topo, 0);
    const SkController *c;

    g_assert_cmpuint(sk_topology_get_n_buses(topo), ==, 4);
    c = sk_topology_get_controller(topo, 0);
    g_assert_cmpint(c->model, ==, SK_PCI_MODEL_PCIE_ROOT);
    g_assert_false(c->has_address);
    g_assert_null(c->model_name);
    for (guint i = 1; i <= 3; i++) {
        SkPciAddr want = A(0, 1, i - 1);

        c = sk_topology_find_controller(topo, i);
        g_assert(c != NULL);
        g_assert_cmpint(c->model, ==, SK_PCI_MODEL_PCIE_ROOT_PORT);
        g_assert_cmpstr(c->model_name, ==, "pcie-root-port");
        g_assert_cmpint(c->chassis, ==, (int)i);
        g_assert_cmpint(c->port, ==, (int)(0x8 + i - 1));
        g_assert_cmpint(c->hotplug, ==, SK_HOTPLUG_DEFAULT);
        g_assert_true(c->has_address);
        g_assert_true(sk_pci_addr_equal(&c->address, &want));
        assert_occupant(topo, want, SK_OCCUPANT_CONTROLLER, "controller");
        g_assert_cmpuint(sk_topology_find_occupant(topo, &want)->controller_index, ==, i);
        g_assert_true(sk_bus_is_hotpluggable(sk_topology_get_bus(topo, i)));
    }
    g_assert_null(sk_topology_find_controller(topo, 4));

    /* pcie-root: slots 1..31, never hotplug, no auto-placement of endpoints. */
    g_assert_cmpint(root->controller->model, ==, SK_PCI_MODEL_PCIE_ROOT);
    g_assert_false(sk_bus_is_hotpluggable(root));
    g_assert_false(root->flags & SK_CONNECT_AUTOASSIGN);
    g_assert_true(root->flags & SK_CONNECT_PCIE_ROOT_PORT);
    g_assert_cmpuint(root->min_slot, ==, 1);
    g_assert_cmpuint(root->max_slot, ==, 31);
    g_assert_true(root->aggregate[1]);
    g_assert_cmphex(root->functions[1], ==, 0x07);
    g_assert_true(sk_bus_slot_is_empty(root, 2));
    g_assert_false(sk_bus_slot_is_empty(root, 1));

    /* q35 chipset: LPC 00:1f.0 and SMBus 00:1f.3 reserved, SATA at 00:1f.2. */
    assert_occupant(topo, A(0, 0x1f, 0), SK_OCCUPANT_CHIPSET, NULL);
    assert_occupant(topo, A(0, 0x1f, 3), SK_OCCUPANT_CHIPSET, NULL);
    g_assert(sk_topology_find_occupant(topo, &(SkPciAddr){ 0, 0, 0x1f, 2 }) != NULL);
    g_assert_cmpstr(sk_topology_find_occupant(topo, &(SkPciAddr){ 0, 0, 0x1f, 2 })->element, ==,
                    "controller");
    g_assert_false(sk_bus_slot_is_empty(root, 0x1f));
    g_assert_cmphex(root->functions[0x1f] & 0x0d, ==, 0x0d);

    assert_occupant(topo, A(1, 0, 0), SK_OCCUPANT_DEVICE, "controller"); /* qemu-xhci */
    assert_occupant(topo, A(2, 0, 0), SK_OCCUPANT_DEVICE, "memballoon");
    assert_free(topo, A(3, 0, 0));
    g_assert_true(sk_bus_slot_is_empty(sk_topology_get_bus(topo, 3), 0));
    g_assert_false(sk_bus_slot_is_empty(sk_topology_get_bus(topo, 1), 0));
    g_assert_cmpuint(sk_topology_get_bus(topo, 3)->min_slot, ==, 0);
    g_assert_cmpuint(sk_topology_get_bus(topo, 3)->max_slot, ==, 0);
    /* Only 5 PCI addresses + 2 chipset reservations. */
    g_assert_cmpuint(sk_topology_get_n_occupants(topo), ==, 8);
}

static void
test_q35_bare(void)
{
    g_autoptr(SkTopology) topo = load("q35-bare.xml");

    g_assert_cmpuint(sk_topology_get_n_buses(topo), ==, 1);
    g_assert_false(sk_bus_is_hotpluggable(sk_topology_get_bus(topo, 0)));
    assert_occupant(topo, A(0, 0x1f, 0), SK_OCCUPANT_CHIPSET, NULL);
    for (guint s = 1; s < 0x1f; s++)
        g_assert_true(sk_bus_slot_is_empty(sk_topology_get_bus(topo, 0), s));
}

static void
test_q35_virt_manager(void)
{
    g_autoptr(SkTopology) topo = load("q35-virt-manager.xml");
    const SkBus *root = sk_topology_get_bus(topo, 0);

    /* Primary video on 00:01.0, ich9 sound at 00:1b.0, root ports packed at 00:02.x. */
    assert_occupant(topo, A(0, 1, 0), SK_OCCUPANT_DEVICE, "video");
    assert_occupant(topo, A(0, 0x1b, 0), SK_OCCUPANT_DEVICE, "sound");
    g_assert_false(root->aggregate[1]);
    g_assert_true(root->aggregate[2]);
    g_assert_cmphex(root->functions[2], ==, 0x7f);
    assert_occupant(topo, A(1, 0, 0), SK_OCCUPANT_DEVICE, "interface");
    assert_occupant(topo, A(2, 0, 0), SK_OCCUPANT_DEVICE, "controller");
    assert_occupant(topo, A(3, 0, 0), SK_OCCUPANT_DEVICE, "controller");
    assert_occupant(topo, A(4, 0, 0), SK_OCCUPANT_DEVICE, "disk");
    assert_occupant(topo, A(5, 0, 0), SK_OCCUPANT_DEVICE, "memballoon");
    assert_occupant(topo, A(6, 0, 0), SK_OCCUPANT_DEVICE, "rng");
    assert_free(topo, A(7, 0, 0));
    /* The SATA cdrom has a drive address, not a PCI one: it is no occupant. */
    g_assert_cmpuint(sk_topology_get_n_occupants(topo), ==, 2 + 1 + 2 + 7 + 6);
}

static void
test_q35_legacy_chain(void)
{
    g_autoptr(SkTopology) topo = load("q35-legacy-chain.xml");
    const SkController *bridge = sk_topology_find_controller(topo, 2);
    const SkBus *bus = sk_topology_get_bus(topo, 2);

    g_assert(bridge != NULL);
    g_assert_cmpint(bridge->model, ==, SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE);
    g_assert_cmpstr(bridge->model_name, ==, "pcie-pci-bridge");
    g_assert_cmpint(bridge->chassis, ==, -1);
    g_assert_true(sk_pci_addr_equal(&bridge->address, &(SkPciAddr){ 0, 1, 0, 0 }));
    assert_occupant(topo, A(1, 0, 0), SK_OCCUPANT_CONTROLLER, "controller");
    /* Root port 1 holds the bridge, so it is not a free hotplug port. */
    g_assert_false(sk_bus_slot_is_empty(sk_topology_get_bus(topo, 1), 0));

    g_assert_true(sk_bus_is_hotpluggable(bus));
    g_assert_cmpuint(bus->min_slot, ==, 1);
    g_assert_cmpuint(bus->max_slot, ==, 31);
    g_assert_true(bus->flags & SK_CONNECT_PCI_DEVICE);
    g_assert_false(bus->flags & SK_CONNECT_PCIE_DEVICE);
    assert_occupant(topo, A(2, 1, 0), SK_OCCUPANT_DEVICE, "interface");
    assert_free(topo, A(2, 2, 0));
}

static void
test_q35_hotplug_off(void)
{
    g_autoptr(SkTopology) topo = load("q35-hotplug-off.xml");

    g_assert_cmpint(sk_topology_find_controller(topo, 1)->hotplug, ==, SK_HOTPLUG_OFF);
    g_assert_cmpint(sk_topology_find_controller(topo, 2)->hotplug, ==, SK_HOTPLUG_OFF);
    g_assert_cmpint(sk_topology_find_controller(topo, 3)->hotplug, ==, SK_HOTPLUG_DEFAULT);
    g_assert_cmpint(sk_topology_find_controller(topo, 4)->hotplug, ==, SK_HOTPLUG_ON);
    g_assert_false(sk_bus_is_hotpluggable(sk_topology_get_bus(topo, 1)));
    g_assert_false(sk_bus_is_hotpluggable(sk_topology_get_bus(topo, 2)));
    g_assert_true(sk_bus_is_hotpluggable(sk_topology_get_bus(topo, 3)));
    g_assert_true(sk_bus_is_hotpluggable(sk_topology_get_bus(topo, 4)));
    g_assert_false(sk_topology_get_bus(topo, 2)->flags & SK_CONNECT_HOTPLUGGABLE);
    /* A hotplug='off' port still takes cold devices: libvirt put the NIC on it. */
    assert_occupant(topo, A(1, 0, 0), SK_OCCUPANT_DEVICE, "interface");
    assert_free(topo, A(2, 0, 0));
}

static void
test_q35_switch(void)
{
    g_autoptr(SkTopology) topo = load("q35-switch.xml");
    const SkBus *up = sk_topology_get_bus(topo, 2);

    g_assert_cmpint(sk_topology_find_controller(topo, 2)->model, ==,
                    SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT);
    g_assert_cmpstr(sk_topology_find_controller(topo, 2)->model_name, ==, "x3130-upstream");
    g_assert_false(sk_bus_is_hotpluggable(up));
    g_assert_cmpuint(up->min_slot, ==, 0);
    g_assert_cmpuint(up->max_slot, ==, 31);
    g_assert_true(up->flags & SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT);
    g_assert_false(up->flags & SK_CONNECT_PCIE_DEVICE);
    assert_occupant(topo, A(1, 0, 0), SK_OCCUPANT_CONTROLLER, "controller");
    for (guint i = 3; i <= 6; i++) {
        const SkController *c = sk_topology_find_controller(topo, i);
        const SkBus *bus = sk_topology_get_bus(topo, i);

        g_assert_cmpint(c->model, ==, SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT);
        g_assert_cmpstr(c->model_name, ==, "xio3130-downstream");
        g_assert_cmpuint(c->address.bus, ==, 2);
        g_assert_cmpint(sk_bus_is_hotpluggable(bus), ==, i != 5);
        g_assert_cmpuint(bus->max_slot, ==, 0);
    }
    assert_occupant(topo, A(3, 0, 0), SK_OCCUPANT_DEVICE, "interface");
}

static void
test_q35_dmi(void)
{
    g_autoptr(SkTopology) topo = load("q35-dmi.xml");
    const SkBus *dmi = sk_topology_get_bus(topo, 1);
    const SkBus *pb = sk_topology_get_bus(topo, 2);

    g_assert_cmpint(dmi->controller->model, ==, SK_PCI_MODEL_DMI_TO_PCI_BRIDGE);
    g_assert_cmpstr(dmi->controller->model_name, ==, "i82801b11-bridge");
    /* dmi-to-pci-bridge never takes hotplug; slots 0..31; libvirt's preferred 00:1e.0. */
    g_assert_false(sk_bus_is_hotpluggable(dmi));
    g_assert_false(dmi->flags & SK_CONNECT_AUTOASSIGN);
    g_assert_cmpuint(dmi->min_slot, ==, 0);
    g_assert_cmpuint(dmi->max_slot, ==, 31);
    assert_occupant(topo, A(0, 0x1e, 0), SK_OCCUPANT_CONTROLLER, "controller");

    g_assert_cmpint(pb->controller->model, ==, SK_PCI_MODEL_PCI_BRIDGE);
    g_assert_cmpint(pb->controller->chassis_nr, ==, 2);
    g_assert_true(sk_bus_is_hotpluggable(pb));
    g_assert_cmpuint(pb->min_slot, ==, 1);
    g_assert_cmpuint(pb->controller->address.bus, ==, 1);
    assert_occupant(topo, A(2, 1, 0), SK_OCCUPANT_DEVICE, "interface");
}

static void
test_q35_cap(void)
{
    g_autoptr(SkTopology) topo = load("q35-cap.xml");
    guint ports = 0;

    for (guint i = 0; i < sk_topology_get_n_controllers(topo); i++) {
        const SkController *c = sk_topology_get_controller(topo, i);

        if (c->model == SK_PCI_MODEL_PCIE_ROOT_PORT) {
            ports++;
            g_assert_false(sk_bus_slot_is_empty(sk_topology_get_bus(topo, c->index), 0));
        }
    }
    g_assert_cmpuint(ports, ==, 14);
}

static void
test_live(void)
{
    g_autoptr(SkTopology) live = load("q35-live.xml");
    g_autoptr(SkTopology) config = load("q35-live-inactive.xml");

    g_assert_true(sk_topology_is_live(live));
    g_assert_false(sk_topology_is_live(config));
    g_assert_cmpstr(sk_topology_get_uuid(live), ==, sk_topology_get_uuid(config));
    /* The NIC attached --live only sits on bus 4; the --config one on bus 3. */
    assert_occupant(live, A(4, 0, 0), SK_OCCUPANT_DEVICE, "interface");
    assert_free(live, A(3, 0, 0));
    assert_occupant(config, A(3, 0, 0), SK_OCCUPANT_DEVICE, "interface");
    assert_free(config, A(4, 0, 0));
    assert_free(live, A(5, 0, 0));
    assert_free(config, A(5, 0, 0));
}

static void
test_virt_aarch64(void)
{
    g_autoptr(SkTopology) topo = load("virt-aarch64.xml");
    const SkBus *root = sk_topology_get_bus(topo, 0);

    g_assert_false(sk_bus_is_hotpluggable(root));
    /* No chipset reservations on virt. */
    for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++)
        g_assert_cmpint(sk_topology_get_occupant(topo, i)->kind, !=, SK_OCCUPANT_CHIPSET);
    assert_free(topo, A(0, 0x1f, 0));
    g_assert_true(sk_bus_slot_is_empty(root, 0x1f));
}

static void
test_virt_aarch64_mmio(void)
{
    g_autoptr(SkTopology) topo = load("virt-aarch64-mmio.xml");
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);

    g_assert_cmpint(mi->kind, ==, SK_MACHINE_VIRT);
    g_assert_cmpstr(mi->arch, ==, "aarch64");
    /* A device already uses virtio-mmio, so libvirt keeps new virtio devices on mmio. */
    g_assert_true(mi->virtio_mmio);
    for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++)
        g_assert_cmpstr(sk_topology_get_occupant(topo, i)->element, !=, "interface");
}

static void
test_pc(void)
{
    g_autoptr(SkTopology) def = load("pc-default.xml");
    g_autoptr(SkTopology) noacpi = load("pc-noacpi.xml");
    g_autoptr(SkTopology) off = load("pc-hotplug-off.xml");
    g_autoptr(SkTopology) bridge = load("pc-bridge.xml");
    const SkBus *root = sk_topology_get_bus(def, 0);
    const SkBus *pb;

    g_assert_cmpint(root->controller->model, ==, SK_PCI_MODEL_PCI_ROOT);
    g_assert_null(root->controller->model_name);
    g_assert_true(sk_bus_is_hotpluggable(root));
    g_assert_true(root->flags & SK_CONNECT_AUTOASSIGN);
    g_assert_cmpuint(root->min_slot, ==, 1);
    g_assert_cmpuint(root->max_slot, ==, 31);
    /* PIIX3 in slot 1: libvirt reserves the ISA bridge at 00:01.0; the piix3-uhci USB
     * controller sits at 00:01.2 (libvirt writes no IDE controller without IDE disks). */
    assert_occupant(def, A(0, 1, 0), SK_OCCUPANT_CHIPSET, NULL);
    assert_occupant(def, A(0, 1, 2), SK_OCCUPANT_DEVICE, "controller");
    g_assert_false(sk_bus_slot_is_empty(root, 1));
    assert_occupant(def, A(0, 2, 0), SK_OCCUPANT_DEVICE, "video");
    g_assert_null(sk_topology_find_occupant(def, &(SkPciAddr){ 0, 0, 0x1f, 0 }));

    /* No <acpi/>: QEMU refuses hotplug on pci.0. */
    g_assert_false(sk_topology_has_acpi(noacpi));
    g_assert_false(sk_bus_is_hotpluggable(sk_topology_get_bus(noacpi, 0)));

    /* pci-root hotplug='off' (libvirt itself ignores it: rules 5.2 bug). */
    g_assert_cmpint(sk_topology_get_controller(off, 0)->hotplug, ==, SK_HOTPLUG_OFF);
    g_assert_false(sk_bus_is_hotpluggable(sk_topology_get_bus(off, 0)));

    pb = sk_topology_get_bus(bridge, 1);
    g_assert_cmpint(pb->controller->model, ==, SK_PCI_MODEL_PCI_BRIDGE);
    g_assert_cmpstr(pb->controller->model_name, ==, "pci-bridge");
    g_assert_cmpint(pb->controller->chassis_nr, ==, 1);
    g_assert_true(sk_bus_is_hotpluggable(pb));
    assert_occupant(bridge, A(1, 1, 0), SK_OCCUPANT_DEVICE, "interface");
    g_assert_false(sk_bus_slot_is_empty(pb, 1));
    g_assert_true(sk_bus_slot_is_empty(pb, 2));
}

static void
test_pc_full(void)
{
    g_autoptr(SkTopology) topo = load("pc-full.xml");
    const SkBus *root = sk_topology_get_bus(topo, 0);
    const SkBus *pb = sk_topology_get_bus(topo, 1);

    for (guint s = root->min_slot; s <= root->max_slot; s++)
        g_assert_false(sk_bus_slot_is_empty(root, s));
    for (guint s = pb->min_slot; s <= pb->max_slot; s++)
        g_assert_false(sk_bus_slot_is_empty(pb, s));
}

/* ---- errors --------------------------------------------------------------------------------- */

typedef struct {
    const char *file;
    SkErrorCode code;
} ErrorFile;

static const ErrorFile error_files[] = {
    { "malformed.xml", SK_ERROR_INVALID_XML },
    { "not-a-domain.xml", SK_ERROR_INVALID_XML },
    { "s390-ccw.xml", SK_ERROR_NOT_SUPPORTED },
};

static void
test_error_file(gconstpointer data)
{
    const ErrorFile *row = data;
    g_autofree char *path = data_path(row->file);
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) topo = sk_topology_new_from_file(path, &error);

    g_assert_null(topo);
    g_assert_error(error, SK_ERROR, (gint)row->code);
    g_assert(error->message != NULL);
    g_test_message("%s: %s", row->file, error->message);
}

static void
expect_error(const char *xml, int code)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) topo = sk_topology_new_from_xml(xml, strlen(xml), &error);

    g_assert_null(topo);
    g_assert_error(error, SK_ERROR, code);
    g_test_message("%s", error->message);
}

#define Q35_HEAD                                                                                \
    "<domain type='qemu'><name>t</name><os><type arch='x86_64' machine='pc-q35-7.2'>hvm</type>" \
    "</os><devices><controller type='pci' index='0' model='pcie-root'/>"

static void
test_error_inline(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) missing = sk_topology_new_from_file("/nonexistent/skfx.xml", &error);

    g_assert_null(missing);
    g_assert(error != NULL);

    expect_error("", SK_ERROR_INVALID_XML);
    expect_error("<domain", SK_ERROR_INVALID_XML);
    expect_error("<?xml version='1.0'?><!DOCTYPE domain [<!ENTITY x 'y'>]><domain "
                 "type='qemu'><name>&x;</name></domain>",
                 SK_ERROR_INVALID_XML);
    /* Two devices on one address. */
    expect_error(Q35_HEAD "<interface type='user'><model type='virtio'/>"
                          "<address type='pci' domain='0' bus='0' slot='2' function='0'/>"
                          "</interface><interface type='user'><model type='e1000e'/>"
                          "<address type='pci' domain='0' bus='0' slot='2' function='0'/>"
                          "</interface></devices></domain>",
                 SK_ERROR_INVALID_ADDRESS);
    /* A malformed address. */
    expect_error(Q35_HEAD "<interface type='user'><model type='virtio'/>"
                          "<address type='pci' domain='0' bus='zz' slot='2' function='0'/>"
                          "</interface></devices></domain>",
                 SK_ERROR_INVALID_ADDRESS);
}

/* A minimal hand-written q35 XML: the implicit pcie-root, unaddressed devices. */
static void
test_inline_implicit_root(void)
{
    const char *xml =
        "<domain type='qemu'><name>t</name><os><type arch='x86_64' machine='q35'>hvm</type>"
        "</os><devices><interface type='user'><model type='virtio'/></interface>"
        "<controller type='pci' index='2' model='pcie-root-port'/></devices></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) topo = sk_topology_new_from_xml(xml, strlen(xml), &error);
    const SkController *root;

    g_assert_no_error(error);
    g_assert(topo != NULL);
    g_assert_cmpint(sk_topology_get_machine_info(topo)->kind, ==, SK_MACHINE_Q35);
    root = sk_topology_find_controller(topo, 0);
    g_assert(root != NULL);
    g_assert_cmpint(root->model, ==, SK_PCI_MODEL_PCIE_ROOT);
    g_assert_true(root->implicit);
    /* Index 1 is a gap libvirt would fill; the bus exists without a controller. */
    g_assert_cmpuint(sk_topology_get_n_buses(topo), ==, 3);
    g_assert_null(sk_topology_get_bus(topo, 1)->controller);
    g_assert_null(sk_topology_find_controller(topo, 1));
    /* The NIC and the root port have no address yet. */
    g_assert_cmpuint(sk_topology_get_n_unaddressed(topo), >=, 1);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);

    for (guint i = 0; i < G_N_ELEMENTS(libvirt_fixtures); i++) {
        g_autofree char *path = g_strdup_printf("/topology/oracle/%s", libvirt_fixtures[i]);
        g_test_add_data_func(path, libvirt_fixtures[i], test_oracle);
    }
    for (guint i = 0; i < G_N_ELEMENTS(facts); i++) {
        g_autofree char *path = g_strdup_printf("/topology/facts/%s", facts[i].file);
        g_test_add_data_func(path, &facts[i], test_facts);
    }
    g_test_add_func("/topology/q35-default", test_q35_default);
    g_test_add_func("/topology/q35-bare", test_q35_bare);
    g_test_add_func("/topology/q35-virt-manager", test_q35_virt_manager);
    g_test_add_func("/topology/q35-legacy-chain", test_q35_legacy_chain);
    g_test_add_func("/topology/q35-hotplug-off", test_q35_hotplug_off);
    g_test_add_func("/topology/q35-switch", test_q35_switch);
    g_test_add_func("/topology/q35-dmi", test_q35_dmi);
    g_test_add_func("/topology/q35-cap", test_q35_cap);
    g_test_add_func("/topology/live", test_live);
    g_test_add_func("/topology/virt-aarch64", test_virt_aarch64);
    g_test_add_func("/topology/virt-aarch64-mmio", test_virt_aarch64_mmio);
    g_test_add_func("/topology/pc", test_pc);
    g_test_add_func("/topology/pc-full", test_pc_full);
    for (guint i = 0; i < G_N_ELEMENTS(error_files); i++) {
        g_autofree char *path = g_strdup_printf("/topology/error/%s", error_files[i].file);
        g_test_add_data_func(path, &error_files[i], test_error_file);
    }
    g_test_add_func("/topology/error/inline", test_error_inline);
    g_test_add_func("/topology/implicit-root", test_inline_implicit_root);

    return g_test_run();
}
