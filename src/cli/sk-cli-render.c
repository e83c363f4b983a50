/* slotkeeper CLI: the renderer of wire dictionaries (see sk-cli-render.h). */
#include "sk-cli-render.h"

#include <json-glib/json-glib.h>
#include <string.h>

#include "sk-cli-table.h"
#include "sk-error.h"
#include "sk-wire.h"

/* ---- reading dictionaries ---- */

static gint64
sk_dict_int(GVariant *dict, const char *key, gint64 fallback)
{
    g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, NULL);

    if (!v)
        return fallback;
    switch (g_variant_classify(v)) {
    case G_VARIANT_CLASS_BYTE:
        return g_variant_get_byte(v);
    case G_VARIANT_CLASS_INT16:
        return g_variant_get_int16(v);
    case G_VARIANT_CLASS_UINT16:
        return g_variant_get_uint16(v);
    case G_VARIANT_CLASS_INT32:
        return g_variant_get_int32(v);
    case G_VARIANT_CLASS_UINT32:
        return g_variant_get_uint32(v);
    case G_VARIANT_CLASS_INT64:
        return g_variant_get_int64(v);
    case G_VARIANT_CLASS_UINT64:
        return (gint64)g_variant_get_uint64(v);
    default:
        return fallback;
    }
}

/* Borrowed from @dict; @fallback when absent. */
static const char *
sk_dict_str(GVariant *dict, const char *key, const char *fallback)
{
    const char *str = NULL;

    if (g_variant_lookup(dict, key, "&s", &str))
        return str;
    return fallback;
}

/* Like sk_dict_str, but an empty string is absent too. */
static const char *
sk_dict_nonempty(GVariant *dict, const char *key, const char *fallback)
{
    const char *str = sk_dict_str(dict, key, NULL);

    return str && *str ? str : fallback;
}

static gboolean
sk_dict_bool(GVariant *dict, const char *key, gboolean fallback)
{
    gboolean b = fallback;

    g_variant_lookup(dict, key, "b", &b);
    return b;
}

char *
sk_cli_value_text(GVariant *value)
{
    g_autoptr(GVariant) v = g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)
                                ? g_variant_get_variant(value)
                                : g_variant_ref(value);

    if (g_variant_is_of_type(v, G_VARIANT_TYPE_BOOLEAN))
        return g_strdup(g_variant_get_boolean(v) ? "yes" : "no");
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING) ||
        g_variant_is_of_type(v, G_VARIANT_TYPE_OBJECT_PATH))
        return g_strdup(g_variant_get_string(v, NULL));
    if (g_variant_is_of_type(v, G_VARIANT_TYPE("a{su}"))) {
        GString *str = g_string_new(NULL);
        GVariantIter iter;
        const char *key = NULL;
        guint32 n = 0;

        g_variant_iter_init(&iter, v);
        while (g_variant_iter_next(&iter, "{&su}", &key, &n))
            g_string_append_printf(str, "%s%u %s", str->len ? ", " : "", n, key);
        if (str->len == 0)
            g_string_append(str, "none");
        return g_string_free(str, FALSE);
    }
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_STRING_ARRAY)) {
        g_autofree const char **strv = g_variant_get_strv(v, NULL);

        return g_strjoinv(", ", (char **)strv);
    }
    return g_variant_print(v, FALSE);
}

/* ---- JSON ---- */

char *
sk_cli_snake(const char *name)
{
    GString *str = g_string_new(NULL);

    for (const char *p = name; *p; p++) {
        if (g_ascii_isupper(*p) && p != name &&
            (g_ascii_islower(p[-1]) || g_ascii_isdigit(p[-1]) ||
             (g_ascii_isupper(p[-1]) && g_ascii_islower(p[1]))))
            g_string_append_c(str, '_');
        if (*p == '-' || *p == '.')
            g_string_append_c(str, '_');
        else
            g_string_append_c(str, g_ascii_tolower(*p));
    }
    return g_string_free(str, FALSE);
}

/* json-glib's serialisation, with the keys of every dictionary renamed when @snake. */
static JsonNode *
sk_cli_json_node(GVariant *value, gboolean snake)
{
    g_autoptr(GVariant) v = g_variant_is_of_type(value, G_VARIANT_TYPE_VARIANT)
                                ? g_variant_get_variant(value)
                                : g_variant_ref(value);
    JsonNode *node;

    if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARDICT)) {
        JsonObject *obj = json_object_new();
        GVariantIter iter;
        const char *key = NULL;
        GVariant *child = NULL;

        g_variant_iter_init(&iter, v);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &child)) {
            g_autofree char *name = snake ? sk_cli_snake(key) : g_strdup(key);

            json_object_set_member(obj, name, sk_cli_json_node(child, snake));
            g_variant_unref(child);
        }
        node = json_node_new(JSON_NODE_OBJECT);
        json_node_take_object(node, obj);
        return node;
    }
    if (g_variant_is_of_type(v, G_VARIANT_TYPE("aa{sv}")) ||
        g_variant_is_of_type(v, G_VARIANT_TYPE("av"))) {
        JsonArray *array = json_array_new();

        for (gsize i = 0; i < g_variant_n_children(v); i++) {
            g_autoptr(GVariant) child = g_variant_get_child_value(v, i);

            json_array_add_element(array, sk_cli_json_node(child, snake));
        }
        node = json_node_new(JSON_NODE_ARRAY);
        json_node_take_array(node, array);
        return node;
    }
    return json_gvariant_serialize(v);
}

static char *
sk_cli_render_json_text(GVariant *value, gboolean snake, gboolean pretty)
{
    g_autoptr(JsonNode) root = sk_cli_json_node(value, snake);
    g_autoptr(JsonGenerator) gen = json_generator_new();
    g_autofree char *data = NULL;

    json_generator_set_root(gen, root);
    json_generator_set_pretty(gen, pretty);
    json_generator_set_indent(gen, 2);
    data = json_generator_to_data(gen, NULL);
    return g_strconcat(data, "\n", NULL);
}

char *
sk_cli_render_json(GVariant *value, gboolean snake)
{
    return sk_cli_render_json_text(value, snake, TRUE);
}

char *
sk_cli_render_json_line(GVariant *value)
{
    return sk_cli_render_json_text(value, TRUE, FALSE);
}

char *
sk_cli_render_error_json(const GError *error)
{
    SkErrorCode code = SK_ERROR_FAILED;
    g_autoptr(GVariant) dict = NULL;

    if (error->domain == SK_ERROR)
        code = (SkErrorCode)error->code;
    else if (error->domain == G_OPTION_ERROR ||
             g_error_matches(error, SK_CLI_ERROR, SK_CLI_ERROR_USAGE))
        code = SK_ERROR_INVALID_ARGUMENT;
    else if (g_error_matches(error, SK_CLI_ERROR, SK_CLI_ERROR_NEEDS_DAEMON))
        code = SK_ERROR_UNAVAILABLE;
    dict = g_variant_ref_sink(sk_wire_error(code, error->message, NULL));
    return sk_cli_render_json(dict, FALSE);
}

/* ---- plans ---- */

static void
sk_cli_controllers_text(GVariant *controllers, GString *out)
{
    g_autoptr(SkCliTable) table = sk_cli_table_new(6);

    sk_cli_table_add(table, "INDEX", "MODEL", "MODEL NAME", "TARGET", "ADDRESS", "PURPOSE");
    for (gsize i = 0; i < g_variant_n_children(controllers); i++) {
        g_autoptr(GVariant) c = g_variant_get_child_value(controllers, i);
        g_autofree char *index = g_strdup_printf("%u", (guint)sk_dict_int(c, "index", 0));
        gint64 chassis = sk_dict_int(c, "chassis", -1);
        gint64 port = sk_dict_int(c, "port", -1);
        gint64 chassis_nr = sk_dict_int(c, "chassis_nr", -1);
        g_autoptr(GString) target = g_string_new(NULL);

        if (chassis >= 0)
            g_string_append_printf(target, "chassis=%d", (int)chassis);
        if (port >= 0)
            g_string_append_printf(target, "%sport=0x%x", target->len ? " " : "", (guint)port);
        if (chassis_nr >= 0)
            g_string_append_printf(target, "%schassisNr=%d", target->len ? " " : "",
                                   (int)chassis_nr);
        sk_cli_table_add(table, index, sk_dict_str(c, "model", "-"),
                         sk_dict_nonempty(c, "model_name", "-"), target->len ? target->str : "-",
                         sk_dict_str(c, "address", "-"), sk_dict_str(c, "purpose", ""));
    }
    sk_cli_table_render(table, "  ", FALSE, out);
}

/* The controllers libvirt would add by itself for the device, as the plan adds them. */
static void
sk_cli_companions_text(GVariant *companions, GString *out)
{
    g_autoptr(SkCliTable) table = sk_cli_table_new(6);

    sk_cli_table_add(table, "TYPE", "INDEX", "MODEL", "ADDRESS", "ADDED TO", "PURPOSE");
    for (gsize i = 0; i < g_variant_n_children(companions); i++) {
        g_autoptr(GVariant) c = g_variant_get_child_value(companions, i);
        g_autofree char *index = g_strdup_printf("%u", (guint)sk_dict_int(c, "index", 0));
        gboolean live = sk_dict_bool(c, "live", FALSE);
        gboolean config = sk_dict_bool(c, "config", FALSE);

        sk_cli_table_add(table, sk_dict_str(c, "type", "-"), index,
                         sk_dict_nonempty(c, "model", "-"), sk_dict_nonempty(c, "address", "-"),
                         live && config ? "running+persistent"
                         : live         ? "running"
                                        : "persistent",
                         sk_dict_str(c, "purpose", ""));
    }
    sk_cli_table_render(table, "  ", FALSE, out);
}

static void
sk_cli_reasons_text(GVariant *dict, GString *out)
{
    g_autoptr(GVariant) reasons = g_variant_lookup_value(dict, "reasons", G_VARIANT_TYPE("as"));

    if (!reasons || g_variant_n_children(reasons) == 0)
        return;
    g_string_append(out, "why:\n");
    for (gsize i = 0; i < g_variant_n_children(reasons); i++) {
        g_autoptr(GVariant) r = g_variant_get_child_value(reasons, i);

        g_string_append_printf(out, "  - %s\n", g_variant_get_string(r, NULL));
    }
}

static const char *
sk_cli_effect_sentence(const char *effect, gboolean config)
{
    if (g_str_equal(effect, "now"))
        return config ? "takes effect now in the running guest, and is kept in the persistent "
                        "definition"
                      : "takes effect now in the running guest (the persistent definition is "
                        "not changed)";
    if (g_str_equal(effect, "next-boot"))
        return "takes effect at the next cold boot";
    return "nothing to change";
}

char *
sk_cli_render_plan(GVariant *plan, const SkCliGlobals *g)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GVariant) controllers = g_variant_lookup_value(plan, "controllers", NULL);
    g_autoptr(GVariant) companions = g_variant_lookup_value(plan, "companions", NULL);
    gboolean live = sk_dict_bool(plan, "live", FALSE);
    gboolean config = sk_dict_bool(plan, "config", FALSE);
    const char *reason = sk_dict_nonempty(plan, "no_pci_reason", NULL);

    g_string_append_printf(out, "device:      %s\n", sk_dict_str(plan, "device", "?"));
    if (reason)
        g_string_append_printf(out, "connection:  needs no PCI slot: %s\n", reason);
    else
        g_string_append_printf(out, "connection:  %s\n",
                               sk_dict_str(plan, "connection_description", "?"));
    g_string_append_printf(out, "changes:     %s\n",
                           live && config ? "the running guest and the persistent definition"
                           : live         ? "the running guest only"
                                          : "the persistent definition only");
    g_string_append_printf(out, "address:     %s\n", sk_dict_str(plan, "address", "none"));
    g_string_append_printf(out, "effect:      %s\n",
                           sk_cli_effect_sentence(sk_dict_str(plan, "effect", "none"), config));
    if (!sk_dict_bool(plan, "ok", TRUE))
        g_string_append_printf(out, "refused:     %s\n", sk_dict_str(plan, "message", ""));
    if (controllers && g_variant_n_children(controllers) > 0) {
        g_string_append(out, "controllers to add to the persistent definition:\n");
        sk_cli_controllers_text(controllers, out);
    } else {
        g_string_append(out, "controllers to add: none\n");
    }
    if (companions && g_variant_n_children(companions) > 0) {
        g_string_append(out, "controllers libvirt would add implicitly, attached first:\n");
        sk_cli_companions_text(companions, out);
    }
    if (!g->quiet)
        sk_cli_reasons_text(plan, out);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

void
sk_cli_render_refusal(GVariant *plan, GError **error)
{
    const char *message = sk_dict_nonempty(plan, "message", "the device cannot be attached");
    const char *remedy = sk_dict_nonempty(plan, "remedy", NULL);
    SkErrorCode code = SK_ERROR_NO_FREE_SLOT;

    sk_wire_error_code(sk_dict_str(plan, "error", ""), &code);
    g_set_error(error, SK_ERROR, code, "%s%s%s", message, remedy ? "; " : "", remedy ? remedy : "");
}

char *
sk_cli_render_reserve(GVariant *plan, const SkCliGlobals *g)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GVariant) controllers = g_variant_lookup_value(plan, "controllers", NULL);
    g_autoptr(GVariant) free_slots = g_variant_lookup_value(plan, "free_hotplug_slots", NULL);
    g_autofree char *counts = free_slots ? sk_cli_value_text(free_slots) : g_strdup("?");

    if (!controllers || g_variant_n_children(controllers) == 0) {
        g_string_append_printf(out,
                               sk_dict_bool(plan, "short_of_policy", FALSE)
                                   ? "nothing can be added, the policy is not met (see why): "
                                     "free hotplug slots: %s\n"
                                   : "nothing to add: free hotplug slots already meet the "
                                     "policy: %s\n",
                               counts);
    } else {
        g_string_append_printf(out, "free hotplug slots now: %s\n", counts);
        g_string_append(out, "controllers to add to the persistent definition "
                             "(they take effect at the next cold boot):\n");
        sk_cli_controllers_text(controllers, out);
    }
    if (!g->quiet)
        sk_cli_reasons_text(plan, out);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- PCI trees ---- */

static void
sk_cli_free_run(SkCliTable *table, const char *busnum, guint first, guint last, gboolean hotplug)
{
    g_autofree char *slots =
        first == last ? g_strdup_printf("%02x", first) : g_strdup_printf("%02x-%02x", first, last);
    guint n = last - first + 1;
    g_autofree char *what = g_strdup_printf("  free (%u slot%s)", n, n == 1 ? "" : "s");

    sk_cli_table_add(table, busnum, slots, what, hotplug ? "yes" : "no", NULL);
}

/* The bus's own line: which controller makes it and how it is configured. */
static char *
sk_cli_bus_summary(GVariant *bus)
{
    GString *str = g_string_new(NULL);
    guint index = (guint)sk_dict_int(bus, "index", 0);
    const char *model = sk_dict_nonempty(bus, "model", NULL);
    const char *model_name = sk_dict_nonempty(bus, "model_name", NULL);
    const char *address = sk_dict_nonempty(bus, "address", NULL);
    gint64 chassis = sk_dict_int(bus, "chassis", -1);
    gint64 port = sk_dict_int(bus, "port", -1);
    gint64 chassis_nr = sk_dict_int(bus, "chassis_nr", -1);
    gint64 bus_nr = sk_dict_int(bus, "bus_nr", -1);

    if (!model) {
        g_string_append_printf(str,
                               "controller %u: missing (libvirt fills the index gap with a "
                               "default controller at define time)",
                               index);
        return g_string_free(str, FALSE);
    }
    g_string_append_printf(str, "controller %u: %s", index, model);
    if (model_name)
        g_string_append_printf(str, " (%s)", model_name);
    if (sk_dict_bool(bus, "implicit", FALSE))
        g_string_append(str, " (implicit)");
    if (address)
        g_string_append_printf(str, " at %s", address);
    if (chassis >= 0)
        g_string_append_printf(str, ", chassis=%d", (int)chassis);
    if (port >= 0)
        g_string_append_printf(str, " port=0x%x", (guint)port);
    if (chassis_nr >= 0)
        g_string_append_printf(str, ", chassisNr=%d", (int)chassis_nr);
    if (bus_nr >= 0)
        g_string_append_printf(str, ", busNr=%d", (int)bus_nr);
    if (sk_dict_bool(bus, "hotplug_off", FALSE))
        g_string_append(str, ", hotplug='off'");
    return g_string_free(str, FALSE);
}

/* One bus: its line, its occupants, runs of free slots. */
static void
sk_cli_bus_rows(GVariant *bus, SkCliTable *table)
{
    g_autoptr(GVariant) occupants = g_variant_lookup_value(bus, "occupants", NULL);
    g_autoptr(GVariant) free_slots = g_variant_lookup_value(bus, "free_slots", NULL);
    gboolean hotplug = sk_dict_bool(bus, "hotplug", FALSE);
    g_autofree char *busnum = g_strdup_printf("%02x", (guint)sk_dict_int(bus, "index", 0));
    g_autofree char *summary = sk_cli_bus_summary(bus);
    g_autofree char *n_free_str = NULL;
    gboolean free_map[32] = { FALSE };
    gsize n_free = 0;
    gsize n_occ = occupants ? g_variant_n_children(occupants) : 0;
    gboolean in_run = FALSE;
    guint run_start = 0;

    if (free_slots && g_variant_is_of_type(free_slots, G_VARIANT_TYPE("au"))) {
        const guint32 *v = g_variant_get_fixed_array(free_slots, &n_free, sizeof(guint32));

        for (gsize i = 0; i < n_free; i++)
            free_map[v[i] & 31] = TRUE;
    }
    n_free_str = g_strdup_printf("%" G_GSIZE_FORMAT, n_free);
    sk_cli_table_add(table, busnum, "-", summary, hotplug ? "yes" : "no", n_free_str);
    for (guint slot = 0; slot < 32; slot++) {
        gboolean listed = FALSE;

        for (gsize i = 0; i < n_occ; i++) {
            g_autoptr(GVariant) occ = g_variant_get_child_value(occupants, i);
            g_autofree char *where = NULL;
            g_autofree char *what = NULL;
            const char *desc = NULL;
            gint64 child;

            if (sk_dict_int(occ, "slot", -1) != (gint64)slot)
                continue;
            if (in_run)
                sk_cli_free_run(table, busnum, run_start, slot - 1, hotplug);
            in_run = FALSE;
            where = g_strdup_printf("%02x.%x", slot, (guint)sk_dict_int(occ, "function", 0));
            desc =
                sk_dict_nonempty(occ, "description", sk_dict_nonempty(occ, "element", "(unnamed)"));
            /* A controller's slot leads to its own bus: say which, so the tree can be
             * followed. */
            child = sk_dict_int(occ, "controller", -1);
            what = child >= 0 ? g_strdup_printf("  %s -> bus %02x", desc, (guint)child)
                              : g_strconcat("  ", desc, NULL);
            sk_cli_table_add(table, busnum, where, what, NULL, NULL);
            listed = TRUE;
        }
        if (listed)
            continue;
        if (free_map[slot]) {
            if (!in_run)
                run_start = slot;
            in_run = TRUE;
        } else if (in_run) {
            sk_cli_free_run(table, busnum, run_start, slot - 1, hotplug);
            in_run = FALSE;
        }
    }
    if (in_run)
        sk_cli_free_run(table, busnum, run_start, 31, hotplug);
}

char *
sk_cli_render_topology(GVariant *topology, const SkCliGlobals *g)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(SkCliTable) table = sk_cli_table_new(5);
    g_autoptr(GVariant) buses = g_variant_lookup_value(topology, "buses", NULL);
    g_autoptr(GVariant) free_slots = g_variant_lookup_value(topology, "free_hotplug_slots", NULL);
    g_autofree char *counts = free_slots ? sk_cli_value_text(free_slots) : g_strdup("?");
    gint64 unaddressed = sk_dict_int(topology, "unaddressed", 0);
    const char *uuid = sk_dict_nonempty(topology, "uuid", NULL);
    gboolean running = g_str_equal(sk_dict_str(topology, "definition", ""), "running");

    if (!g->no_legend) {
        g_string_append_printf(out, "domain %s", sk_dict_nonempty(topology, "name", "?"));
        if (uuid)
            g_string_append_printf(out, " (%s)", uuid);
        g_string_append_printf(out, ": %s %s, %s\n", sk_dict_nonempty(topology, "arch", "?"),
                               sk_dict_nonempty(topology, "machine", "?"),
                               running ? "running definition (the guest as it runs now)"
                                       : "persistent definition (after the next cold boot)");
    }
    sk_cli_table_add(table, "BUS", "SLOT", "OCCUPANT", "HOTPLUG", "FREE");
    for (gsize i = 0; buses && i < g_variant_n_children(buses); i++) {
        g_autoptr(GVariant) bus = g_variant_get_child_value(buses, i);

        sk_cli_bus_rows(bus, table);
    }
    sk_cli_table_render(table, "", g->no_legend, out);
    if (g->no_legend)
        return g_string_free(g_steal_pointer(&out), FALSE);
    if (unaddressed > 0)
        g_string_append_printf(out,
                               "note: %d device%s no PCI address yet; libvirt assigns one at "
                               "define time, taking free slots shown above\n",
                               (int)unaddressed, unaddressed == 1 ? " has" : "s have");
    g_string_append_printf(out, "free hotplug slots: %s\n", counts);
    return g_string_free(g_steal_pointer(&out), FALSE);
}

/* ---- domains ---- */

char *
sk_cli_render_domains(GPtrArray *domains, const SkCliGlobals *g)
{
    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(SkCliTable) table = sk_cli_table_new(9);
    gboolean any_pending = FALSE;

    if (g->json) {
        GVariantBuilder b;
        g_autoptr(GVariant) all = NULL;

        g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
        for (guint i = 0; i < domains->len; i++)
            g_variant_builder_add_value(&b, domains->pdata[i]);
        all = g_variant_ref_sink(g_variant_builder_end(&b));
        return sk_cli_render_json(all, TRUE);
    }
    sk_cli_table_add(table, "NAME", "STATE", "MACHINE", "MANAGED", "SPARES", "FREE NOW",
                     "FREE NEXT BOOT", "LEGACY BRIDGE", "LEGACY CHAIN");
    for (guint i = 0; i < domains->len; i++) {
        GVariant *p = domains->pdata[i];
        gboolean managed = sk_dict_bool(p, "Managed", FALSE);
        gboolean pending = sk_dict_bool(p, "RestartPending", FALSE);
        g_autofree char *state =
            g_strdup_printf("%s%s", sk_dict_str(p, "State", "?"), pending ? "*" : "");
        guint kept = (guint)sk_dict_int(p, "SparePorts", 0);
        guint wanted = (guint)sk_dict_int(p, "SparePortsWanted", kept);
        /* The root-port cap keeps fewer than the policy asks for: show both. */
        g_autofree char *spares = wanted != kept ? g_strdup_printf("%u (of %u: cap)", kept, wanted)
                                                 : g_strdup_printf("%u", kept);
        g_autoptr(GVariant) now = g_variant_lookup_value(p, "FreeHotplugSlots", NULL);
        g_autoptr(GVariant) next = g_variant_lookup_value(p, "FreeHotplugSlotsNextBoot", NULL);
        g_autofree char *now_text = now ? sk_cli_value_text(now) : g_strdup("-");
        g_autofree char *next_text = next ? sk_cli_value_text(next) : g_strdup("-");

        any_pending = any_pending || pending;
        /* A domain that does not run has no running definition to count slots in. */
        sk_cli_table_add(table, sk_dict_str(p, "Name", "?"), state,
                         sk_dict_nonempty(p, "Machine", "-"), managed ? "yes" : "no",
                         managed ? spares : "-", sk_dict_bool(p, "Active", FALSE) ? now_text : "-",
                         sk_dict_bool(p, "Persistent", TRUE) ? next_text : "-",
                         sk_dict_str(p, "LegacyBridge", "-"), sk_dict_str(p, "LegacyChain", "-"));
    }
    if (domains->len == 0) {
        if (!g->quiet)
            g_string_append(out, "no domains\n");
    } else {
        sk_cli_table_render(table, "", g->no_legend, out);
    }
    if (any_pending && !g->no_legend)
        g_string_append(out, "* restart pending: the persistent definition has PCI controllers "
                             "the running guest lacks;\n  shut the guest down and start it again "
                             "to use them\n");
    return g_string_free(g_steal_pointer(&out), FALSE);
}
