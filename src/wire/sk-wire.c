/* slotkeeper: the wire schema (see sk-wire.h). */
#include "sk-wire.h"

#include <gio/gio.h>
#include <string.h>

#include "sk-edit.h"
#include "sk-xml.h"

char *
sk_wire_domain_path(const char *uuid)
{
    g_autofree char *mangled = g_strdup(uuid);

    g_strdelimit(mangled, "-", '_');
    return g_strconcat(SK_WIRE_DOMAIN_PATH_PREFIX, mangled, NULL);
}

char *
sk_wire_error_name(SkErrorCode code)
{
    return g_strconcat(SK_WIRE_ERROR_PREFIX, sk_error_code_to_name(code), NULL);
}

gboolean
sk_wire_error_code(const char *name, SkErrorCode *code)
{
    if (g_str_has_prefix(name, SK_WIRE_ERROR_PREFIX))
        name += strlen(SK_WIRE_ERROR_PREFIX);
    for (guint i = 0; i < SK_ERROR_N_CODES; i++) {
        if (g_str_equal(name, sk_error_code_to_name((SkErrorCode)i))) {
            *code = (SkErrorCode)i;
            return TRUE;
        }
    }
    return FALSE;
}

static void
sk_wire_add(GVariantBuilder *b, const char *key, GVariant *value)
{
    g_variant_builder_add(b, "{sv}", key, value);
}

static void
sk_wire_add_string(GVariantBuilder *b, const char *key, const char *value)
{
    sk_wire_add(b, key, g_variant_new_string(value ? value : ""));
}

static GVariant *
sk_wire_strv(const GPtrArray *strings)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint i = 0; strings != NULL && i < strings->len; i++)
        g_variant_builder_add(&b, "s", (const char *)strings->pdata[i]);
    return g_variant_builder_end(&b);
}

static GVariant *
sk_wire_controller(const SkNewController *c)
{
    GVariantBuilder b;
    g_autofree char *addr = sk_pci_addr_format(&c->address);

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    sk_wire_add(&b, "index", g_variant_new_uint32(c->index));
    sk_wire_add_string(&b, "model", sk_pci_model_to_string(c->model));
    sk_wire_add_string(&b, "model_name", c->model_name);
    sk_wire_add(&b, "chassis", g_variant_new_int32(c->chassis));
    sk_wire_add(&b, "port", g_variant_new_int32(c->port));
    sk_wire_add(&b, "chassis_nr", g_variant_new_int32(c->chassis_nr));
    sk_wire_add_string(&b, "address", addr);
    sk_wire_add_string(&b, "purpose", c->purpose);
    return g_variant_builder_end(&b);
}

/* A controller libvirt would have added implicitly, as the plan adds it. */
static GVariant *
sk_wire_companion(const SkCompanion *c)
{
    GVariantBuilder b;
    g_autofree char *addr = c->has_address ? sk_pci_addr_format(&c->address) : NULL;
    g_autofree char *xml = c->device != NULL ? sk_edit_companion_xml(c) : NULL;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    sk_wire_add_string(&b, "element", "controller");
    sk_wire_add_string(&b, "type", c->type);
    sk_wire_add_string(&b, "model", c->model);
    sk_wire_add(&b, "index", g_variant_new_uint32(c->index));
    sk_wire_add_string(&b, "address", addr);
    sk_wire_add_string(&b, "purpose", c->purpose);
    sk_wire_add(&b, "live", g_variant_new_boolean(c->live));
    sk_wire_add(&b, "config", g_variant_new_boolean(c->config));
    sk_wire_add_string(&b, "xml", xml);
    return g_variant_builder_end(&b);
}

/* What kind of slot the device plugs into: "pcie", "pci", "pci-or-pcie", "none", or for a PCI
 * controller its upstream kind ("pcie-root-port", ...). */
static const char *
sk_wire_connection_kind(const SkDevice *dev, SkConnectFlags flags)
{
    SkConnectFlags types = flags & SK_CONNECT_TYPES_MASK;

    if (types == 0)
        return "none";
    if (types == SK_CONNECT_PCIE_DEVICE)
        return "pcie";
    if (types == SK_CONNECT_PCI_DEVICE)
        return "pci";
    if (types == SK_CONNECT_TYPES_ENDPOINT)
        return "pci-or-pcie";
    if (dev->pci_model != SK_PCI_MODEL_NONE)
        return sk_pci_model_to_string(dev->pci_model);
    return "other";
}

/* The device as the plan places it: a virtio device that libvirt would put on virtio-mmio is
 * described with its PCI connection when the plan gives it a PCI address. */
static void
sk_wire_add_device(GVariantBuilder *b, const SkDevice *dev, const SkPlan *plan)
{
    gboolean pci = plan->virtio_pci && dev->mmio_pci_flags != 0;
    SkConnectFlags flags = pci ? dev->mmio_pci_flags : dev->flags;
    gboolean needs_pci = (flags & SK_CONNECT_TYPES_MASK) != 0;
    g_autofree char *described = needs_pci ? sk_pci_flags_describe(flags) : NULL;

    sk_wire_add_string(b, "device", pci ? dev->pci_description : dev->description);
    sk_wire_add_string(b, "element", dev->element);
    sk_wire_add_string(b, "model", dev->model);
    sk_wire_add_string(b, "connection", sk_wire_connection_kind(dev, flags));
    sk_wire_add_string(b, "connection_description", needs_pci ? described : "no PCI slot");
    if (!needs_pci)
        sk_wire_add_string(b, "no_pci_reason", dev->no_pci_reason);
}

GVariant *
sk_wire_plan(const SkPlan *plan, const SkDevice *dev, gboolean live, gboolean config)
{
    GVariantBuilder b;
    GVariantBuilder ctrls;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    sk_wire_add(&b, "ok", g_variant_new_boolean(!plan->refused));
    if (plan->has_address) {
        g_autofree char *addr = sk_pci_addr_format(&plan->address);

        sk_wire_add_string(&b, "address", addr);
    }
    sk_wire_add_string(&b, "effect", sk_plan_effect_to_string(plan->effect));
    sk_wire_add(&b, "live", g_variant_new_boolean(live));
    sk_wire_add(&b, "config", g_variant_new_boolean(config));
    if (dev != NULL)
        sk_wire_add_device(&b, dev, plan);
    g_variant_builder_init(&ctrls, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < plan->controllers->len; i++)
        g_variant_builder_add_value(&ctrls, sk_wire_controller(plan->controllers->pdata[i]));
    sk_wire_add(&b, "controllers", g_variant_builder_end(&ctrls));
    /* Attach plans only: a reserve plan has no device to bring controllers along. */
    if (dev != NULL) {
        GVariantBuilder comps;

        g_variant_builder_init(&comps, G_VARIANT_TYPE("aa{sv}"));
        for (guint i = 0; plan->companions != NULL && i < plan->companions->len; i++)
            g_variant_builder_add_value(&comps, sk_wire_companion(plan->companions->pdata[i]));
        sk_wire_add(&b, "companions", g_variant_builder_end(&comps));
    }
    sk_wire_add(&b, "reasons", sk_wire_strv(plan->reasons));
    if (plan->refused) {
        g_autofree char *name = sk_wire_error_name(plan->refusal_code);

        sk_wire_add_string(&b, "error", name);
        sk_wire_add_string(&b, "message", plan->refusal);
        sk_wire_add_string(&b, "remedy", plan->remedy);
    }
    return g_variant_builder_end(&b);
}

GVariant *
sk_wire_reserve(const SkPlan *plan, const SkTopology *topo)
{
    g_autoptr(GVariant) base = g_variant_ref_sink(sk_wire_plan(plan, NULL, FALSE, TRUE));
    GVariantBuilder b;
    GVariantIter iter;
    const char *key;
    GVariant *value;
    guint pcie = 0;
    guint pci = 0;

    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_iter_init(&iter, base);
    while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
        sk_wire_add(&b, key, value);
        g_variant_unref(value);
    }
    sk_wire_add(&b, "free_hotplug_slots", sk_wire_free_slots(pcie, pci));
    sk_wire_add(&b, "short_of_policy", g_variant_new_boolean(plan->short_of_policy));
    return g_variant_builder_end(&b);
}

static GVariant *
sk_wire_occupant(const SkOccupant *occ)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    sk_wire_add(&b, "slot", g_variant_new_uint32(occ->address.slot));
    sk_wire_add(&b, "function", g_variant_new_uint32(occ->address.function));
    sk_wire_add_string(&b, "kind", sk_occupant_kind_to_string(occ->kind));
    sk_wire_add_string(&b, "element", occ->element);
    sk_wire_add_string(&b, "description", occ->description);
    if (occ->kind == SK_OCCUPANT_CONTROLLER)
        sk_wire_add(&b, "controller", g_variant_new_uint32(occ->controller_index));
    if (occ->kind == SK_OCCUPANT_DEVICE && occ->node != NULL) {
        g_autofree char *xml = sk_xml_node_to_string(occ->node);

        sk_wire_add_string(&b, "xml", xml);
    }
    return g_variant_builder_end(&b);
}

static GVariant *
sk_wire_bus(const SkTopology *topo, const SkBus *bus)
{
    const SkController *ctrl = bus->controller;
    GVariantBuilder b;
    GVariantBuilder accepts;
    GVariantBuilder occupants;
    GVariantBuilder free_slots;
    g_autofree char *addr = ctrl && ctrl->has_address ? sk_pci_addr_format(&ctrl->address) : NULL;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    sk_wire_add(&b, "index", g_variant_new_uint32(bus->index));
    sk_wire_add_string(&b, "model", ctrl ? sk_pci_model_to_string(ctrl->model) : NULL);
    sk_wire_add_string(&b, "model_name", ctrl ? ctrl->model_name : NULL);
    sk_wire_add_string(&b, "address", addr);
    sk_wire_add(&b, "chassis", g_variant_new_int32(ctrl ? ctrl->chassis : -1));
    sk_wire_add(&b, "port", g_variant_new_int32(ctrl ? ctrl->port : -1));
    sk_wire_add(&b, "chassis_nr", g_variant_new_int32(ctrl ? ctrl->chassis_nr : -1));
    sk_wire_add(&b, "bus_nr", g_variant_new_int32(ctrl ? ctrl->bus_nr : -1));
    sk_wire_add(&b, "implicit", g_variant_new_boolean(ctrl && ctrl->implicit));
    sk_wire_add(&b, "hotplug", g_variant_new_boolean(sk_bus_is_hotpluggable(bus)));
    sk_wire_add(&b, "hotplug_off", g_variant_new_boolean(ctrl && ctrl->hotplug == SK_HOTPLUG_OFF));
    sk_wire_add(&b, "min_slot", g_variant_new_uint32(bus->min_slot));
    sk_wire_add(&b, "max_slot", g_variant_new_uint32(bus->max_slot));

    g_variant_builder_init(&accepts, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint bit = 0; bit < 32; bit++) {
        const char *name = sk_pci_connect_type_name(bus->flags & (1u << bit));

        if (name != NULL)
            g_variant_builder_add(&accepts, "s", name);
    }
    sk_wire_add(&b, "accepts", g_variant_builder_end(&accepts));

    g_variant_builder_init(&occupants, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++) {
        const SkOccupant *occ = sk_topology_get_occupant(topo, i);

        if (occ->address.bus == bus->index)
            g_variant_builder_add_value(&occupants, sk_wire_occupant(occ));
    }
    sk_wire_add(&b, "occupants", g_variant_builder_end(&occupants));

    g_variant_builder_init(&free_slots, G_VARIANT_TYPE("au"));
    for (guint slot = bus->min_slot; slot <= bus->max_slot && slot < 32; slot++) {
        if (sk_bus_slot_is_empty(bus, slot))
            g_variant_builder_add(&free_slots, "u", slot);
    }
    sk_wire_add(&b, "free_slots", g_variant_builder_end(&free_slots));
    return g_variant_builder_end(&b);
}

GVariant *
sk_wire_buses(const SkTopology *topo)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < sk_topology_get_n_buses(topo); i++) {
        const SkBus *bus = sk_topology_get_bus(topo, i);

        if (bus != NULL)
            g_variant_builder_add_value(&b, sk_wire_bus(topo, bus));
    }
    return g_variant_builder_end(&b);
}

GVariant *
sk_wire_topology(const SkTopology *topo)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);
    GVariantBuilder b;
    guint pcie = 0;
    guint pci = 0;

    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    sk_wire_add_string(&b, "name", sk_topology_get_name(topo));
    sk_wire_add_string(&b, "uuid", sk_topology_get_uuid(topo));
    sk_wire_add_string(&b, "arch", mi->arch);
    sk_wire_add_string(&b, "machine", mi->machine);
    sk_wire_add_string(&b, "definition", sk_topology_is_live(topo) ? "running" : "persistent");
    sk_wire_add(&b, "buses", sk_wire_buses(topo));
    sk_wire_add(&b, "free_hotplug_slots", sk_wire_free_slots(pcie, pci));
    sk_wire_add(&b, "unaddressed", g_variant_new_uint32(sk_topology_get_n_unaddressed(topo)));
    return g_variant_builder_end(&b);
}

GVariant *
sk_wire_free_slots(guint pcie, guint pci)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE("a{su}"));
    g_variant_builder_add(&b, "{su}", "pcie", pcie);
    g_variant_builder_add(&b, "{su}", "pci", pci);
    return g_variant_builder_end(&b);
}

void
sk_wire_register_dbus_errors(void)
{
    static gsize registered = 0;
    static GDBusErrorEntry entries[SK_ERROR_N_CODES];
    static char *names[SK_ERROR_N_CODES];

    if (registered)
        return;
    for (guint i = 0; i < SK_ERROR_N_CODES; i++) {
        names[i] = sk_wire_error_name((SkErrorCode)i);
        entries[i].error_code = (gint)i;
        entries[i].dbus_error_name = names[i];
    }
    /* The quark's own string, whatever spelling it was given. */
    g_dbus_error_register_error_domain(g_quark_to_string(SK_ERROR), &registered, entries,
                                       G_N_ELEMENTS(entries));
}

GVariant *
sk_wire_error(SkErrorCode code, const char *message, const char *remedy)
{
    GVariantBuilder b;
    g_autofree char *name = sk_wire_error_name(code);

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    sk_wire_add(&b, "ok", g_variant_new_boolean(FALSE));
    sk_wire_add_string(&b, "error", name);
    sk_wire_add_string(&b, "message", message);
    if (remedy != NULL && *remedy != '\0')
        sk_wire_add_string(&b, "remedy", remedy);
    return g_variant_builder_end(&b);
}
