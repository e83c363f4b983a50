/* Shared fixture access and rule checks for the unit tests.
 *
 * Set SK_TEST_DUMP_DIR to have every plan that adds controllers written there as an applied
 * domain XML, for checking by hand with `virsh define`. */
#include "test-common.h"
/* ---- fixtures -------------------------------------------------------------------------------- */

char *
data_path(const char *name)
{
    const char *dir = g_getenv("SK_TEST_DATA");
    g_autofree char *here = NULL;

    if (dir != NULL && *dir != '\0')
        return g_build_filename(dir, name, NULL);
    here = g_path_get_dirname(__FILE__);
    return g_build_filename(here, "..", "data", name, NULL);
}

SkTopology *
load(const char *name)
{
    g_autofree char *path = data_path(name);
    g_autoptr(GError) error = NULL;
    SkTopology *topo = sk_topology_new_from_file(path, &error);

    g_assert_no_error(error);
    g_assert(topo != NULL);
    return topo;
}

/* The running definition of a guest started from fixture @name: the same XML with <domain id>
 * (a live attach needs a running domain's XML). */
SkTopology *
load_live(const char *name)
{
    g_autofree char *path = data_path(name);
    g_autofree char *xml = NULL;
    g_autofree char *live = NULL;
    g_autoptr(GError) error = NULL;
    SkTopology *topo;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    g_assert_true(g_str_has_prefix(xml, "<domain type='qemu'>"));
    live = g_strconcat("<domain type='qemu' id='7'>", xml + strlen("<domain type='qemu'>"), NULL);
    topo = sk_topology_new_from_xml(live, strlen(live), &error);
    g_assert_no_error(error);
    g_assert(topo != NULL);
    g_assert_true(sk_topology_is_live(topo));
    return topo;
}

SkDevice *
device_file(const char *name, const SkTopology *topo)
{
    g_autofree char *file = g_strconcat("devices/", name, NULL);
    g_autofree char *path = data_path(file);
    g_autoptr(GError) error = NULL;
    SkDevice *dev = sk_device_new_from_file(path, sk_topology_get_machine_info(topo), &error);

    g_assert_no_error(error);
    g_assert(dev != NULL);
    return dev;
}

SkDevice *
device_xml(const char *xml, const SkTopology *topo)
{
    g_autoptr(GError) error = NULL;
    SkDevice *dev =
        sk_device_new_from_xml(xml, strlen(xml), sk_topology_get_machine_info(topo), &error);

    g_assert_no_error(error);
    g_assert(dev != NULL);
    return dev;
}

SkPciAddr
A(guint bus, guint slot, guint fn)
{
    SkPciAddr a = { 0, bus, slot, fn };
    return a;
}

void
assert_addr(const SkPciAddr *got, SkPciAddr want)
{
    g_autofree char *g = sk_pci_addr_format(got);
    g_autofree char *w = sk_pci_addr_format(&want);

    g_assert_cmpstr(g, ==, w);
}

SkPlanOptions
opts_make(gboolean live, gboolean config, gboolean require)
{
    SkPlanOptions o;

    sk_plan_options_init(&o);
    o.live = live;
    o.config = config;
    o.hotplug_require = require;
    return o;
}

void
log_plan(const SkPlan *plan)
{
    if (plan->refused)
        g_test_message("refused (%d): %s / remedy: %s", plan->refusal_code, plan->refusal,
                       plan->remedy ? plan->remedy : "(none)");
    if (plan->has_address) {
        g_autofree char *s = sk_pci_addr_format(&plan->address);
        g_test_message("address %s, effect %d", s, plan->effect);
    }
    for (guint i = 0; plan->controllers && i < plan->controllers->len; i++) {
        const SkNewController *c = plan->controllers->pdata[i];
        g_autofree char *s = sk_pci_addr_format(&c->address);

        g_test_message("+ controller %u %s (%s) chassis %d port %d chassisNr %d at %s: %s",
                       c->index, sk_pci_model_to_string(c->model), c->model_name, c->chassis,
                       c->port, c->chassis_nr, s, c->purpose ? c->purpose : "");
    }
    for (guint i = 0; plan->reasons && i < plan->reasons->len; i++)
        g_test_message("  reason: %s", (const char *)plan->reasons->pdata[i]);
}

guint
n_new(const SkPlan *plan, SkPciModel model)
{
    guint n = 0;

    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *c = plan->controllers->pdata[i];

        if (c->model == model)
            n++;
    }
    return n;
}

const SkNewController *
new_by_index(const SkPlan *plan, guint index)
{
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *c = plan->controllers->pdata[i];

        if (c->index == index)
            return c;
    }
    return NULL;
}

/* Like new_by_index(), for controllers the plan must have. */
const SkNewController *
get_by_index(const SkPlan *plan, guint index)
{
    const SkNewController *c = new_by_index(plan, index);

    g_assert(c != NULL);
    return c;
}

const SkNewController *
new_of_model(const SkPlan *plan, SkPciModel model)
{
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *c = plan->controllers->pdata[i];

        if (c->model == model)
            return c;
    }
    g_assert_not_reached();
}

/* ---- applying plans -------------------------------------------------------------------------- */

static guint dump_counter;

/* Applies @plan (and @dev) to @topo's document and parses the result. */
SkTopology *
apply(const SkTopology *topo, const SkPlan *plan, const SkDevice *dev)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) out = sk_edit_apply_plan(sk_topology_get_doc(topo), plan, dev, &error);
    g_autofree char *xml = NULL;
    SkTopology *result;
    const char *dump = g_getenv("SK_TEST_DUMP_DIR");

    g_assert_no_error(error);
    g_assert(out != NULL);
    xml = sk_xml_doc_to_string(out);
    g_assert(xml != NULL);
    if (dump != NULL && plan->controllers->len > 0) {
        g_autofree char *base =
            g_strdup_printf("%03u-%s.xml", ++dump_counter, sk_topology_get_name(topo));
        g_autofree char *path = g_build_filename(dump, base, NULL);

        g_assert_true(g_file_set_contents(path, xml, -1, NULL));
    }
    result = sk_topology_new_from_xml(xml, strlen(xml), &error);
    g_assert_no_error(error);
    g_assert(result != NULL);
    return result;
}

/* ---- rule checks ---------------------------------------------------------------------------- */

gboolean
is_port_model(SkPciModel m)
{
    return m == SK_PCI_MODEL_PCIE_ROOT_PORT || m == SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT;
}

/* Where libvirt would put @n more root ports on bus 0: scanning slots upward, a free function
 * of a slot holding root ports, or function 0 of an empty slot; never 00:1f on q35. */
void
expected_port_positions(const SkTopology *topo, guint n, SkPciAddr *out)
{
    const SkBus *root = sk_topology_get_bus(topo, 0);
    gboolean q35 = sk_topology_get_machine_info(topo)->kind == SK_MACHINE_Q35;
    guint8 fns[32];
    gboolean agg[32];
    guint found = 0;

    memcpy(fns, root->functions, sizeof(fns));
    memcpy(agg, root->aggregate, sizeof(agg));
    for (guint s = root->min_slot; s <= root->max_slot && found < n; s++) {
        if (q35 && s == 0x1f)
            continue;
        if (fns[s] != 0 && !agg[s])
            continue;
        agg[s] = TRUE;
        for (guint f = 0; f < 8 && found < n; f++) {
            if (fns[s] & (1u << f))
                continue;
            fns[s] |= 1u << f;
            out[found++] = A(0, s, f);
        }
    }
    g_assert_cmpuint(found, ==, n);
}

/* The lowest free slot of @bus (function 0 of an empty slot), skipping 00:1f on q35. */
gboolean
lowest_free_slot(const SkTopology *topo, guint bus_index, SkPciAddr *out)
{
    const SkBus *bus = sk_topology_get_bus(topo, bus_index);
    gboolean q35 = sk_topology_get_machine_info(topo)->kind == SK_MACHINE_Q35;

    for (guint s = bus->min_slot; s <= bus->max_slot; s++) {
        if (bus_index == 0 && q35 && s == 0x1f)
            continue;
        if (sk_bus_slot_is_empty(bus, s)) {
            *out = A(bus_index, s, 0);
            return TRUE;
        }
    }
    return FALSE;
}

/* Checks the controllers of @plan against libvirt's rules for new controllers (rules 11.4):
 * lowest unused indexes, valid model names, unique chassis, port = (slot<<3)|function, root
 * ports packed on bus 0, bridges behind a port of their own, pci-bridge index > bus. */
void
check_new_controllers(const SkTopology *topo, const SkPlan *plan)
{
    g_autoptr(GHashTable) chassis = g_hash_table_new(NULL, NULL);
    g_autoptr(GHashTable) taken = g_hash_table_new(NULL, NULL);
    g_autoptr(GPtrArray) ports_on_root = g_ptr_array_new();
    guint n = plan->controllers->len;
    guint next = 0;

    for (guint i = 0; i < sk_topology_get_n_controllers(topo); i++) {
        const SkController *c = sk_topology_get_controller(topo, i);

        g_hash_table_add(taken, GUINT_TO_POINTER(c->index));
        if (is_port_model(c->model) && c->chassis >= 0)
            g_hash_table_add(chassis, GINT_TO_POINTER(c->chassis));
    }
    /* New indexes are the n lowest unused ones. */
    for (guint k = 0; k < n; k++) {
        while (g_hash_table_contains(taken, GUINT_TO_POINTER(next)))
            next++;
        g_assert(new_by_index(plan, next) != NULL);
        next++;
    }
    for (guint i = 0; i < n; i++) {
        const SkNewController *c = plan->controllers->pdata[i];

        g_assert_cmpuint(c->index, <=, 255);
        g_assert(c->model_name != NULL);
        g_assert_true(sk_pci_model_name_valid(c->model, c->model_name));
        g_assert_cmpstr(c->model_name, ==, sk_pci_model_default_name(c->model));
        g_assert_false(sk_pci_addr_is_empty(&c->address));
        g_assert(c->purpose != NULL);
        if (is_port_model(c->model)) {
            g_assert_cmpint(c->chassis, >=, 0);
            g_assert_cmpint(c->chassis, <=, 255);
            g_assert_false(g_hash_table_contains(chassis, GINT_TO_POINTER(c->chassis)));
            g_hash_table_add(chassis, GINT_TO_POINTER(c->chassis));
            g_assert_cmpint(c->port, ==, (int)((c->address.slot << 3) | c->address.function));
            g_assert_cmpint(c->chassis_nr, ==, -1);
        } else {
            g_assert_cmpint(c->chassis, ==, -1);
            g_assert_cmpint(c->port, ==, -1);
        }
        switch (c->model) {
        case SK_PCI_MODEL_PCIE_ROOT_PORT:
            g_assert_cmpuint(c->address.bus, ==, 0);
            g_ptr_array_add(ports_on_root, (gpointer)c);
            break;
        case SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE: {
            /* Behind a root port of its own: one the plan adds or, at the cap, one that was
             * empty before. */
            const SkNewController *port = new_by_index(plan, c->address.bus);

            if (port != NULL) {
                g_assert_cmpint(port->model, ==, SK_PCI_MODEL_PCIE_ROOT_PORT);
            } else {
                const SkBus *bus = sk_topology_get_bus(topo, c->address.bus);

                g_assert_nonnull(bus);
                g_assert_nonnull(bus->controller);
                g_assert_cmpint(bus->controller->model, ==, SK_PCI_MODEL_PCIE_ROOT_PORT);
                g_assert_true(sk_bus_slot_is_empty(bus, 0));
            }
            g_assert_cmpuint(c->address.slot, ==, 0);
            g_assert_cmpuint(c->address.function, ==, 0);
            g_assert_cmpint(c->chassis_nr, ==, -1);
            break;
        }
        case SK_PCI_MODEL_PCI_BRIDGE:
            g_assert_cmpint(c->chassis_nr, >=, 1);
            g_assert_cmpint(c->chassis_nr, <=, 255);
            g_assert_cmpuint(c->index, >, c->address.bus);
            g_assert_cmpuint(c->address.function, ==, 0);
            break;
        default:
            break;
        }
    }
    /* Root ports, in index order, take the positions libvirt's slot search gives. */
    if (ports_on_root->len > 0) {
        g_autofree SkPciAddr *want = g_new0(SkPciAddr, ports_on_root->len);

        for (guint i = 0; i < ports_on_root->len; i++) {
            for (guint j = i + 1; j < ports_on_root->len; j++) {
                const SkNewController *a = ports_on_root->pdata[i];
                const SkNewController *b = ports_on_root->pdata[j];

                if (b->index < a->index) {
                    ports_on_root->pdata[i] = (gpointer)b;
                    ports_on_root->pdata[j] = (gpointer)a;
                }
            }
        }
        expected_port_positions(topo, ports_on_root->len, want);
        for (guint i = 0; i < ports_on_root->len; i++) {
            const SkNewController *c = ports_on_root->pdata[i];

            assert_addr(&c->address, want[i]);
        }
    }
}

/* Every occupant of @before is still at the same address in @after, as the same element. */
void
check_nothing_moved(const SkTopology *before, const SkTopology *after)
{
    for (guint i = 0; i < sk_topology_get_n_occupants(before); i++) {
        const SkOccupant *a = sk_topology_get_occupant(before, i);
        const SkOccupant *b = sk_topology_find_occupant(after, &a->address);

        g_assert(b != NULL);
        g_assert_cmpint(a->kind, ==, b->kind);
        g_assert_cmpstr(a->element, ==, b->element);
        g_assert_cmpstr(a->description, ==, b->description);
    }
    for (guint i = 0; i < sk_topology_get_n_controllers(before); i++) {
        const SkController *a = sk_topology_get_controller(before, i);
        const SkController *b = sk_topology_find_controller(after, a->index);

        g_assert(b != NULL);
        g_assert_cmpint(a->model, ==, b->model);
        g_assert_cmpint(a->has_address, ==, b->has_address);
        g_assert_true(sk_pci_addr_equal(&a->address, &b->address));
    }
}

/* The device's slot in @topo (after the plan's controllers are added): the bus exists, the slot
 * is in range and empty, and the bus accepts the device - by auto rules and with hotplug when
 * @hotplug, by explicit rules otherwise. */
static void
check_addr_ok(const SkTopology *topo, const SkPlan *plan, const SkPciAddr *addr,
              SkConnectFlags flags, gboolean hotplug)
{
    const SkBus *bus;
    const SkNewController *added = new_by_index(plan, addr->bus);
    SkConnectFlags bus_flags;
    guint min_slot, max_slot;
    g_autofree char *why = NULL;

    if (added != NULL) {
        bus_flags = sk_pci_model_bus_flags(added->model);
        sk_pci_model_slot_range(added->model, &min_slot, &max_slot);
    } else {
        g_assert_cmpuint(addr->bus, <, sk_topology_get_n_buses(topo));
        bus = sk_topology_get_bus(topo, addr->bus);
        g_assert(bus->controller != NULL);
        bus_flags = bus->flags;
        min_slot = bus->min_slot;
        max_slot = bus->max_slot;
        g_assert_true(sk_bus_slot_is_empty(bus, addr->slot));
        if (hotplug)
            g_assert_true(sk_bus_is_hotpluggable(bus));
    }
    g_assert_cmpuint(addr->domain, ==, 0);
    g_assert_cmpuint(addr->function, ==, 0);
    g_assert_cmpuint(addr->slot, >=, min_slot);
    g_assert_cmpuint(addr->slot, <=, max_slot);
    if (addr->bus == 0 && sk_topology_get_machine_info(topo)->kind == SK_MACHINE_Q35)
        g_assert_cmpuint(addr->slot, !=, 0x1f);
    if (hotplug) {
        g_assert_true(
            sk_pci_flags_compatible(flags | SK_CONNECT_HOTPLUGGABLE, bus_flags, FALSE, &why));
    } else {
        g_assert_true(sk_pci_flags_compatible(flags, bus_flags, TRUE, &why));
    }
}

/* The connect flags the plan placed @dev with (its PCI flags when it gets PCI instead of
 * virtio-mmio). */
SkConnectFlags
plan_flags(const SkPlan *plan, const SkDevice *dev)
{
    return plan->virtio_pci ? dev->mmio_pci_flags : dev->flags;
}

void
check_slot_ok(const SkTopology *topo, const SkPlan *plan, const SkDevice *dev, gboolean hotplug)
{
    check_addr_ok(topo, plan, &plan->address, plan_flags(plan, dev), hotplug);
}

/* Every companion with an address sits in a slot of the definitions it goes into that is free
 * and takes it (with hotplug when it is hot-plugged or must stay hot-unpluggable), and none of
 * them shares a slot with another or with the device. */
static void
check_companions(const SkTopology *persistent, const SkTopology *live, const SkPlan *plan,
                 gboolean require)
{
    for (guint i = 0; i < plan->companions->len; i++) {
        const SkCompanion *c = plan->companions->pdata[i];
        gboolean hotplug = c->live || (require && c->live_pluggable);

        g_assert(c->device != NULL);
        g_assert_true(c->live || c->config);
        if (!c->has_address)
            continue;
        g_assert_cmpuint(c->address.function, ==, 0);
        if (c->config)
            check_addr_ok(persistent, plan, &c->address,
                          c->device->flags | c->device->mmio_pci_flags, hotplug);
        if (c->live) {
            g_assert_null(new_by_index(plan, c->address.bus));
            check_addr_ok(live, plan, &c->address, c->device->flags | c->device->mmio_pci_flags,
                          TRUE);
        }
        if (plan->has_address)
            g_assert_false(sk_pci_addr_equal(&c->address, &plan->address));
        for (guint j = 0; j < i; j++) {
            const SkCompanion *o = plan->companions->pdata[j];

            g_assert_false(o->has_address && sk_pci_addr_equal(&c->address, &o->address));
        }
    }
}

/* Plans an attach that must succeed and checks it against both definitions; applies it to
 * the persistent one when @opts->config and checks the result. Returns the plan. */
SkPlan *
plan_ok(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
        const SkPlanOptions *opts)
{
    g_autoptr(GError) error = NULL;
    SkPlan *plan = sk_plan_attach(persistent, live, dev, opts, &error);

    g_assert_no_error(error);
    g_assert(plan != NULL);
    log_plan(plan);
    g_assert_false(plan->refused);
    g_assert_true(sk_plan_check(plan, NULL));
    g_assert(plan->controllers != NULL);
    g_assert(plan->reasons != NULL);
    g_assert_cmpuint(plan->reasons->len, >, 0);
    g_assert_cmpint(plan->effect, ==, opts->live ? SK_PLAN_EFFECT_NOW : SK_PLAN_EFFECT_NEXT_BOOT);
    check_companions(persistent, live, plan, opts->hotplug_require);
    if (opts->config && plan->companions->len > 0) {
        g_autoptr(SkTopology) after = apply(persistent, plan, dev);

        check_new_controllers(persistent, plan);
        check_nothing_moved(persistent, after);
        for (guint i = 0; i < plan->companions->len; i++) {
            const SkCompanion *c = plan->companions->pdata[i];
            const SkOccupant *occ =
                c->has_address && c->config ? sk_topology_find_occupant(after, &c->address) : NULL;

            if (c->has_address && c->config) {
                g_assert(occ != NULL);
                g_assert_cmpstr(occ->element, ==, "controller");
            }
        }
    }
    if (plan_flags(plan, dev) == 0) {
        g_assert_false(plan->has_address);
        return plan;
    }
    g_assert_true(plan->has_address);
    if (opts->live) {
        /* Live attach never creates controllers: the slot exists and takes hotplug now. */
        g_assert_null(new_by_index(plan, plan->address.bus));
        check_slot_ok(live, plan, dev, TRUE);
    }
    if (opts->config) {
        g_autoptr(SkTopology) after = NULL;
        const SkOccupant *occ;

        check_new_controllers(persistent, plan);
        check_slot_ok(persistent, plan, dev, opts->hotplug_require || opts->live);
        after = apply(persistent, plan, dev);
        check_nothing_moved(persistent, after);
        occ = sk_topology_find_occupant(after, &plan->address);
        g_assert(occ != NULL);
        g_assert_cmpstr(occ->element, ==, dev->element);
    } else {
        g_assert_cmpuint(plan->controllers->len, ==, 0);
    }
    return plan;
}

SkPlan *
plan_refused(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
             const SkPlanOptions *opts, SkErrorCode code)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) check_error = NULL;
    SkPlan *plan = sk_plan_attach(persistent, live, dev, opts, &error);

    g_assert_no_error(error);
    g_assert(plan != NULL);
    log_plan(plan);
    g_assert_true(plan->refused);
    g_assert_cmpint(plan->refusal_code, ==, code);
    g_assert(plan->refusal != NULL);
    g_assert_cmpstr(plan->refusal, !=, "");
    g_assert_false(sk_plan_check(plan, &check_error));
    g_assert_error(check_error, SK_ERROR, (gint)code);
    g_assert(plan->controllers != NULL);
    return plan;
}

void
plan_error(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
           const SkPlanOptions *opts, SkErrorCode code)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkPlan) plan = sk_plan_attach(persistent, live, dev, opts, &error);

    g_assert_null(plan);
    g_assert_error(error, SK_ERROR, (gint)code);
    g_test_message("error: %s", error->message);
}
