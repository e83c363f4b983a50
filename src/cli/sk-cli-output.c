/* slotkeeper CLI: human text and JSON renderings of plans and PCI topologies. */
#include "sk-cli-output.h"

#include <stdarg.h>

#include <json-glib/json-glib.h>

struct _SkCliTable {
    guint n_cols;
    GPtrArray *rows; /* GStrv, n_cols cells each */
};

SkCliTable *
sk_cli_table_new(guint n_cols)
{
    SkCliTable *table = g_new0(SkCliTable, 1);

    table->n_cols = n_cols;
    table->rows = g_ptr_array_new_with_free_func((GDestroyNotify)g_strfreev);
    return table;
}

void
sk_cli_table_free(SkCliTable *table)
{
    g_ptr_array_unref(table->rows);
    g_free(table);
}

void
sk_cli_table_add(SkCliTable *table, ...)
{
    char **row = g_new0(char *, table->n_cols + 1);
    va_list ap;

    va_start(ap, table);
    for (guint i = 0; i < table->n_cols; i++) {
        const char *cell = va_arg(ap, const char *);
        row[i] = g_strdup(cell ? cell : "");
    }
    va_end(ap);
    g_ptr_array_add(table->rows, row);
}

void
sk_cli_table_render(const SkCliTable *table, const char *indent, GString *out)
{
    g_autofree gsize *widths = g_new0(gsize, table->n_cols);

    for (guint r = 0; r < table->rows->len; r++) {
        char **row = g_ptr_array_index(table->rows, r);
        for (guint c = 0; c < table->n_cols; c++)
            widths[c] = MAX(widths[c], (gsize)g_utf8_strlen(row[c], -1));
    }
    for (guint r = 0; r < table->rows->len; r++) {
        char **row = g_ptr_array_index(table->rows, r);
        gsize line_start = out->len;

        g_string_append(out, indent);
        for (guint c = 0; c < table->n_cols; c++) {
            g_string_append(out, row[c]);
            if (c + 1 < table->n_cols) {
                gsize pad = widths[c] - (gsize)g_utf8_strlen(row[c], -1) + 2;
                for (gsize p = 0; p < pad; p++)
                    g_string_append_c(out, ' ');
            }
        }
        /* Empty trailing cells would leave trailing blanks. */
        while (out->len > line_start && out->str[out->len - 1] == ' ')
            g_string_truncate(out, out->len - 1);
        g_string_append_c(out, '\n');
    }
}

char *
sk_cli_json_node_to_string(JsonNode *root, gboolean pretty)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *data = NULL;

    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, pretty);
    json_generator_set_indent(gen, 2);
    data = json_generator_to_data(gen, NULL);
    return g_strconcat(data, "\n", NULL);
}

static char *
sk_cli_json_to_string(JsonBuilder *builder)
{
    g_autoptr(JsonNode) root = json_builder_get_root(builder);

    return sk_cli_json_node_to_string(root, TRUE);
}

static void
sk_cli_json_add_string(JsonBuilder *builder, const char *name, const char *value)
{
    json_builder_set_member_name(builder, name);
    if (value)
        json_builder_add_string_value(builder, value);
    else
        json_builder_add_null_value(builder);
}

/* -1 (absent in the XML / not applicable) becomes null. */
static void
sk_cli_json_add_int_or_null(JsonBuilder *builder, const char *name, int value)
{
    json_builder_set_member_name(builder, name);
    if (value >= 0)
        json_builder_add_int_value(builder, value);
    else
        json_builder_add_null_value(builder);
}

static void
sk_cli_json_add_address(JsonBuilder *builder, const char *name, gboolean has, const SkPciAddr *addr)
{
    g_autofree char *str = has ? sk_pci_addr_format(addr) : NULL;

    sk_cli_json_add_string(builder, name, str);
}

static void
sk_cli_json_add_free_hotplug(JsonBuilder *builder, const SkTopology *topo)
{
    guint pcie = 0;
    guint pci = 0;

    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    json_builder_set_member_name(builder, "free_hotplug");
    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "pcie");
    json_builder_add_int_value(builder, pcie);
    json_builder_set_member_name(builder, "pci");
    json_builder_add_int_value(builder, pci);
    json_builder_end_object(builder);
}

const char *
sk_cli_connection_kind(const SkDevice *dev)
{
    SkConnectFlags types = dev->flags & SK_CONNECT_TYPES_MASK;

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

/* "chassis=5 port=0x13", "chassisNr=6" or "-": the <target> attributes libvirt will see. */
static char *
sk_cli_target_summary(int chassis, int port, int chassis_nr)
{
    GString *str = g_string_new(NULL);

    if (chassis >= 0)
        g_string_append_printf(str, "chassis=%d", chassis);
    if (port >= 0)
        g_string_append_printf(str, "%sport=0x%x", str->len ? " " : "", (guint)port);
    if (chassis_nr >= 0)
        g_string_append_printf(str, "%schassisNr=%d", str->len ? " " : "", chassis_nr);
    if (str->len == 0)
        g_string_append(str, "-");
    return g_string_free(str, FALSE);
}

static void
sk_cli_controllers_text(const GPtrArray *controllers, GString *out)
{
    g_autoptr(SkCliTable) table = sk_cli_table_new(6);

    sk_cli_table_add(table, "INDEX", "MODEL", "MODEL NAME", "TARGET", "ADDRESS", "PURPOSE");
    for (guint i = 0; i < controllers->len; i++) {
        const SkNewController *ctrl = g_ptr_array_index(controllers, i);
        g_autofree char *index = g_strdup_printf("%u", ctrl->index);
        g_autofree char *target =
            sk_cli_target_summary(ctrl->chassis, ctrl->port, ctrl->chassis_nr);
        g_autofree char *addr = sk_pci_addr_format(&ctrl->address);

        sk_cli_table_add(table, index, sk_pci_model_to_string(ctrl->model),
                         ctrl->model_name ? ctrl->model_name : "-", target, addr,
                         ctrl->purpose ? ctrl->purpose : "");
    }
    sk_cli_table_render(table, "  ", out);
}

static void
sk_cli_reasons_text(const GPtrArray *reasons, GString *out)
{
    if (!reasons || reasons->len == 0)
        return;
    g_string_append(out, "why:\n");
    for (guint i = 0; i < reasons->len; i++)
        g_string_append_printf(out, "  - %s\n", (const char *)g_ptr_array_index(reasons, i));
}

static void
sk_cli_controllers_json(JsonBuilder *builder, const GPtrArray *controllers)
{
    json_builder_set_member_name(builder, "controllers");
    json_builder_begin_array(builder);
    for (guint i = 0; controllers && i < controllers->len; i++) {
        const SkNewController *ctrl = g_ptr_array_index(controllers, i);

        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "index");
        json_builder_add_int_value(builder, ctrl->index);
        sk_cli_json_add_string(builder, "model", sk_pci_model_to_string(ctrl->model));
        sk_cli_json_add_string(builder, "model_name", ctrl->model_name);
        sk_cli_json_add_int_or_null(builder, "chassis", ctrl->chassis);
        sk_cli_json_add_int_or_null(builder, "port", ctrl->port);
        sk_cli_json_add_int_or_null(builder, "chassis_nr", ctrl->chassis_nr);
        sk_cli_json_add_address(builder, "address", TRUE, &ctrl->address);
        sk_cli_json_add_string(builder, "purpose", ctrl->purpose);
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);
}

static void
sk_cli_reasons_json(JsonBuilder *builder, const GPtrArray *reasons)
{
    json_builder_set_member_name(builder, "reasons");
    json_builder_begin_array(builder);
    for (guint i = 0; reasons && i < reasons->len; i++)
        json_builder_add_string_value(builder, g_ptr_array_index(reasons, i));
    json_builder_end_array(builder);
}

static const char *
sk_cli_effect_sentence(SkPlanEffect effect, gboolean config)
{
    switch (effect) {
    case SK_PLAN_EFFECT_NOW:
        if (config)
            return "takes effect now in the running guest, and is kept in the persistent "
                   "definition";
        return "takes effect now in the running guest (the persistent definition is not "
               "changed)";
    case SK_PLAN_EFFECT_NEXT_BOOT:
        return "takes effect at the next cold boot";
    case SK_PLAN_EFFECT_NONE:
    default:
        return "nothing to change";
    }
}

char *
sk_cli_plan_to_text(const SkPlan *plan, const SkDevice *dev, gboolean live, gboolean config)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autofree char *connection = NULL;
    g_autofree char *address = NULL;

    if ((dev->flags & SK_CONNECT_TYPES_MASK) == 0) {
        connection = g_strdup_printf("needs no PCI slot%s%s", dev->no_pci_reason ? ": " : "",
                                     dev->no_pci_reason ? dev->no_pci_reason : "");
    } else {
        connection = sk_pci_flags_describe(dev->flags);
    }
    if (plan->has_address)
        address = sk_pci_addr_format(&plan->address);
    else
        address = g_strdup("none");

    g_string_append_printf(out, "device:      %s\n", dev->description);
    g_string_append_printf(out, "connection:  %s\n", connection);
    g_string_append_printf(out, "changes:     %s\n",
                           live && config ? "the running guest and the persistent definition"
                           : live         ? "the running guest only"
                                          : "the persistent definition only");
    g_string_append_printf(out, "address:     %s\n", address);
    g_string_append_printf(out, "effect:      %s\n", sk_cli_effect_sentence(plan->effect, config));
    if (plan->controllers && plan->controllers->len > 0) {
        g_string_append(out, "controllers to add to the persistent definition:\n");
        sk_cli_controllers_text(plan->controllers, out);
    } else {
        g_string_append(out, "controllers to add: none\n");
    }
    sk_cli_reasons_text(plan->reasons, out);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
sk_cli_plan_to_json(const SkPlan *plan, const SkDevice *dev)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "ok");
    json_builder_add_boolean_value(builder, TRUE);

    json_builder_set_member_name(builder, "device");
    json_builder_begin_object(builder);
    sk_cli_json_add_string(builder, "element", dev->element);
    sk_cli_json_add_string(builder, "model", dev->model);
    sk_cli_json_add_string(builder, "connection", sk_cli_connection_kind(dev));
    json_builder_set_member_name(builder, "needs_pci");
    json_builder_add_boolean_value(builder, (dev->flags & SK_CONNECT_TYPES_MASK) != 0);
    json_builder_end_object(builder);

    sk_cli_json_add_address(builder, "address", plan->has_address, &plan->address);
    sk_cli_json_add_string(builder, "effect", sk_plan_effect_to_string(plan->effect));
    sk_cli_controllers_json(builder, plan->controllers);
    sk_cli_reasons_json(builder, plan->reasons);
    json_builder_end_object(builder);
    return sk_cli_json_to_string(builder);
}

char *
sk_cli_reserve_to_text(const SkPlan *plan, const SkTopology *topo)
{
    g_autoptr(GString) out = g_string_new(NULL);
    guint pcie = 0;
    guint pci = 0;

    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    if (!plan->controllers || plan->controllers->len == 0) {
        g_string_append_printf(out,
                               plan->short_of_policy
                                   ? "nothing can be added, the policy is not met (see why): "
                                     "free hotplug slots: %u pcie, %u pci\n"
                                   : "nothing to add: free hotplug slots already meet the "
                                     "policy: %u pcie, %u pci\n",
                               pcie, pci);
    } else {
        g_string_append_printf(out, "free hotplug slots now: %u pcie, %u pci\n", pcie, pci);
        g_string_append(out, "controllers to add to the persistent definition "
                             "(they take effect at the next cold boot):\n");
        sk_cli_controllers_text(plan->controllers, out);
    }
    sk_cli_reasons_text(plan->reasons, out);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

char *
sk_cli_reserve_to_json(const SkPlan *plan, const SkTopology *topo)
{
    g_autoptr(JsonBuilder) builder = json_builder_new();

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "ok");
    json_builder_add_boolean_value(builder, TRUE);
    sk_cli_json_add_string(builder, "effect", sk_plan_effect_to_string(plan->effect));
    sk_cli_json_add_free_hotplug(builder, topo);
    sk_cli_controllers_json(builder, plan->controllers);
    sk_cli_reasons_json(builder, plan->reasons);
    json_builder_end_object(builder);
    return sk_cli_json_to_string(builder);
}

/* ---- slots ---- */

static char *
sk_cli_occupant_text(const SkOccupant *occ)
{
    const char *desc = occ->description ? occ->description : "(unnamed)";

    /* A controller's slot leads to its own bus: say which, so the tree can be followed. */
    if (occ->kind == SK_OCCUPANT_CONTROLLER)
        return g_strdup_printf("%s -> bus %02x", desc, occ->controller_index);
    return g_strdup(desc);
}

static guint
sk_cli_bus_free_slots(const SkBus *bus)
{
    guint n = 0;

    for (guint slot = bus->min_slot; slot <= bus->max_slot && slot < 32; slot++) {
        if (sk_bus_slot_is_empty(bus, slot))
            n++;
    }
    return n;
}

/* The bus's own line: which controller makes it and how it is configured. */
static char *
sk_cli_bus_summary(const SkBus *bus)
{
    const SkController *ctrl = bus->controller;
    GString *str = g_string_new(NULL);
    g_autofree char *target = NULL;

    if (!ctrl) {
        g_string_append_printf(str,
                               "controller %u: missing (libvirt fills the index gap with a "
                               "default controller at define time)",
                               bus->index);
        return g_string_free(str, FALSE);
    }
    g_string_append_printf(str, "controller %u: %s", ctrl->index,
                           sk_pci_model_to_string(ctrl->model));
    if (ctrl->model_name)
        g_string_append_printf(str, " (%s)", ctrl->model_name);
    if (ctrl->implicit)
        g_string_append(str, " (implicit)");
    if (ctrl->has_address)
        g_string_append_printf(str, " at %02x:%02x.%x", ctrl->address.bus, ctrl->address.slot,
                               ctrl->address.function);
    target = sk_cli_target_summary(ctrl->chassis, ctrl->port, ctrl->chassis_nr);
    if (!g_str_equal(target, "-"))
        g_string_append_printf(str, ", %s", target);
    if (ctrl->bus_nr >= 0)
        g_string_append_printf(str, ", busNr=%d", ctrl->bus_nr);
    if (ctrl->hotplug == SK_HOTPLUG_OFF)
        g_string_append(str, ", hotplug='off'");
    return g_string_free(str, FALSE);
}

static void
sk_cli_flush_free_run(SkCliTable *table, const char *busnum, guint first, guint last,
                      gboolean hotplug)
{
    g_autofree char *slots = NULL;
    g_autofree char *what = NULL;
    guint n = last - first + 1;

    if (first == last)
        slots = g_strdup_printf("%02x", first);
    else
        slots = g_strdup_printf("%02x-%02x", first, last);
    what = g_strdup_printf("  free (%u slot%s)", n, n == 1 ? "" : "s");
    sk_cli_table_add(table, busnum, slots, what, hotplug ? "yes" : "no", NULL);
}

static void
sk_cli_bus_rows(const SkTopology *topo, const SkBus *bus, SkCliTable *table)
{
    g_autofree char *busnum = g_strdup_printf("%02x", bus->index);
    g_autofree char *summary = sk_cli_bus_summary(bus);
    g_autofree char *n_free = g_strdup_printf("%u", sk_cli_bus_free_slots(bus));
    gboolean hotplug = sk_bus_is_hotpluggable(bus);
    guint n_occ = sk_topology_get_n_occupants(topo);
    gboolean in_run = FALSE;
    guint run_start = 0;

    sk_cli_table_add(table, busnum, "-", summary, hotplug ? "yes" : "no", n_free);
    for (guint slot = 0; slot < 32; slot++) {
        gboolean occupied = bus->functions[slot] != 0;

        for (guint i = 0; i < n_occ && !occupied; i++) {
            const SkOccupant *occ = sk_topology_get_occupant(topo, i);
            occupied = occ->address.bus == bus->index && occ->address.slot == slot;
        }
        if (!occupied && slot >= bus->min_slot && slot <= bus->max_slot) {
            if (!in_run)
                run_start = slot;
            in_run = TRUE;
            continue;
        }
        if (in_run)
            sk_cli_flush_free_run(table, busnum, run_start, slot - 1, hotplug);
        in_run = FALSE;
        if (!occupied)
            continue;

        gboolean listed = FALSE;
        for (guint i = 0; i < n_occ; i++) {
            const SkOccupant *occ = sk_topology_get_occupant(topo, i);
            if (occ->address.bus != bus->index || occ->address.slot != slot)
                continue;
            g_autofree char *where = g_strdup_printf("%02x.%x", slot, occ->address.function);
            g_autofree char *what = sk_cli_occupant_text(occ);
            g_autofree char *indented = g_strconcat("  ", what, NULL);
            sk_cli_table_add(table, busnum, where, indented, NULL, NULL);
            listed = TRUE;
        }
        if (!listed) {
            g_autofree char *where = g_strdup_printf("%02x", slot);
            sk_cli_table_add(table, busnum, where, "  in use", NULL, NULL);
        }
    }
    if (in_run)
        sk_cli_flush_free_run(table, busnum, run_start, MIN(bus->max_slot, 31), hotplug);
}

char *
sk_cli_slots_to_text(const SkTopology *topo)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(SkCliTable) table = sk_cli_table_new(5);
    guint n_unaddressed = sk_topology_get_n_unaddressed(topo);
    guint pcie = 0;
    guint pci = 0;

    g_string_append_printf(out, "domain %s", sk_topology_get_name(topo));
    if (sk_topology_get_uuid(topo))
        g_string_append_printf(out, " (%s)", sk_topology_get_uuid(topo));
    g_string_append_printf(out, ": %s %s, %s definition\n", mi->arch ? mi->arch : "?",
                           mi->machine ? mi->machine : "?",
                           sk_topology_is_live(topo) ? "live (running)" : "persistent");

    sk_cli_table_add(table, "BUS", "SLOT", "OCCUPANT", "HOTPLUG", "FREE");
    for (guint b = 0; b < sk_topology_get_n_buses(topo); b++) {
        const SkBus *bus = sk_topology_get_bus(topo, b);
        if (bus)
            sk_cli_bus_rows(topo, bus, table);
    }
    sk_cli_table_render(table, "", out);

    if (n_unaddressed > 0)
        g_string_append_printf(out,
                               "note: %u device%s no PCI address yet; libvirt assigns one at "
                               "define time, taking free slots shown above\n",
                               n_unaddressed, n_unaddressed == 1 ? " has" : "s have");
    sk_topology_count_free_hotplug(topo, &pcie, &pci);
    g_string_append_printf(out, "free hotplug slots: %u pcie, %u pci\n", pcie, pci);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

static void
sk_cli_bus_json(JsonBuilder *builder, const SkTopology *topo, const SkBus *bus)
{
    const SkController *ctrl = bus->controller;
    guint n_occ = sk_topology_get_n_occupants(topo);

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "index");
    json_builder_add_int_value(builder, bus->index);
    sk_cli_json_add_string(builder, "model", ctrl ? sk_pci_model_to_string(ctrl->model) : NULL);
    sk_cli_json_add_string(builder, "model_name", ctrl ? ctrl->model_name : NULL);
    sk_cli_json_add_address(builder, "address", ctrl && ctrl->has_address,
                            ctrl ? &ctrl->address : NULL);
    sk_cli_json_add_int_or_null(builder, "chassis", ctrl ? ctrl->chassis : -1);
    sk_cli_json_add_int_or_null(builder, "port", ctrl ? ctrl->port : -1);
    json_builder_set_member_name(builder, "hotplug");
    json_builder_add_boolean_value(builder, sk_bus_is_hotpluggable(bus));

    json_builder_set_member_name(builder, "accepts");
    json_builder_begin_array(builder);
    for (guint bit = 0; bit < 32; bit++) {
        const char *name = sk_pci_connect_type_name(bus->flags & (1u << bit));

        if (name != NULL)
            json_builder_add_string_value(builder, name);
    }
    json_builder_end_array(builder);

    json_builder_set_member_name(builder, "min_slot");
    json_builder_add_int_value(builder, bus->min_slot);
    json_builder_set_member_name(builder, "max_slot");
    json_builder_add_int_value(builder, bus->max_slot);

    json_builder_set_member_name(builder, "slots");
    json_builder_begin_array(builder);
    for (guint i = 0; i < n_occ; i++) {
        const SkOccupant *occ = sk_topology_get_occupant(topo, i);
        if (occ->address.bus != bus->index)
            continue;
        json_builder_begin_object(builder);
        json_builder_set_member_name(builder, "slot");
        json_builder_add_int_value(builder, occ->address.slot);
        json_builder_set_member_name(builder, "function");
        json_builder_add_int_value(builder, occ->address.function);
        sk_cli_json_add_string(builder, "occupant", occ->description);
        sk_cli_json_add_string(builder, "kind", sk_occupant_kind_to_string(occ->kind));
        json_builder_end_object(builder);
    }
    json_builder_end_array(builder);

    json_builder_set_member_name(builder, "free_slots");
    json_builder_begin_array(builder);
    for (guint slot = bus->min_slot; slot <= bus->max_slot && slot < 32; slot++) {
        if (sk_bus_slot_is_empty(bus, slot))
            json_builder_add_int_value(builder, slot);
    }
    json_builder_end_array(builder);
    json_builder_end_object(builder);
}

char *
sk_cli_slots_to_json(const SkTopology *topo)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);
    g_autoptr(JsonBuilder) builder = json_builder_new();

    json_builder_begin_object(builder);
    json_builder_set_member_name(builder, "domain");
    json_builder_begin_object(builder);
    sk_cli_json_add_string(builder, "name", sk_topology_get_name(topo));
    sk_cli_json_add_string(builder, "uuid", sk_topology_get_uuid(topo));
    sk_cli_json_add_string(builder, "arch", mi->arch);
    sk_cli_json_add_string(builder, "machine", mi->machine);
    json_builder_set_member_name(builder, "live");
    json_builder_add_boolean_value(builder, sk_topology_is_live(topo));
    json_builder_end_object(builder);

    json_builder_set_member_name(builder, "buses");
    json_builder_begin_array(builder);
    for (guint b = 0; b < sk_topology_get_n_buses(topo); b++) {
        const SkBus *bus = sk_topology_get_bus(topo, b);
        if (bus)
            sk_cli_bus_json(builder, topo, bus);
    }
    json_builder_end_array(builder);

    sk_cli_json_add_free_hotplug(builder, topo);
    json_builder_set_member_name(builder, "unaddressed");
    json_builder_add_int_value(builder, sk_topology_get_n_unaddressed(topo));
    json_builder_end_object(builder);
    return sk_cli_json_to_string(builder);
}
