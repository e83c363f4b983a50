/* slotkeeper CLI: the online verbs. Each one is a few synchronous GDBus calls to slotkeeperd on
 * the system bus (default) or the session bus (--user), rendered as a table or as JSON. */
#include "sk-cli-online.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sk-cli-dbus.h"
#include "sk-cli-output.h"
#include "sk-xml.h"

/* ---- arguments ---- */

typedef struct {
    SkCliGlobals g;
    gboolean live;
    gboolean config;
    gboolean current;
    gboolean persistent;
    char *hotplug_require;
    int spare_ports;
    char *legacy_bridge;
    char *managed;
    char **rest;
} SkOnArgs;

static void
sk_on_args_clear(SkOnArgs *args)
{
    g_clear_pointer(&args->hotplug_require, g_free);
    g_clear_pointer(&args->legacy_bridge, g_free);
    g_clear_pointer(&args->managed, g_free);
    g_clear_pointer(&args->rest, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkOnArgs, sk_on_args_clear)

#define SK_ON_UNSET G_MININT

static const char *sk_on_help_footer =
    "Needs slotkeeperd: on the system bus by default, on the session bus with --user\n"
    "(before the verb: 'slotkeeper --user VERB ...').\n";

/* Parses @argv with the common entries plus @extra; @params names the positional arguments. */
static gboolean
sk_on_parse(SkOnArgs *args, const SkCliGlobals *globals, const char *params, const char *summary,
            const char *description, const GOptionEntry *extra, int argc, char **argv,
            GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new(params);
    g_autofree char *desc = NULL;
    const GOptionEntry common[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &args->g.json, "Print JSON instead of text", NULL },
        { "system", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &args->g.system, NULL, NULL },
        { "user", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &args->g.user, NULL, NULL },
        { "no-ask-password", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &args->g.no_ask_password,
          NULL, NULL },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->rest, NULL, NULL },
        G_OPTION_ENTRY_NULL,
    };

    g_option_context_add_main_entries(ctx, common, NULL);
    if (extra)
        g_option_context_add_main_entries(ctx, extra, NULL);
    g_option_context_set_summary(ctx, summary);
    desc = description ? g_strconcat(description, "\n", sk_on_help_footer, NULL)
                       : g_strdup(sk_on_help_footer);
    g_option_context_set_description(ctx, desc);
    if (!g_option_context_parse(ctx, &argc, &argv, error))
        return FALSE;

    return sk_cli_globals_merge(&args->g, globals, error);
}

static guint
sk_on_n_rest(const SkOnArgs *args)
{
    return args->rest ? g_strv_length(args->rest) : 0;
}

static gboolean
sk_on_check_rest(const SkOnArgs *args, guint min, guint max, const char *what, GError **error)
{
    guint n = sk_on_n_rest(args);

    if (n < min)
        return sk_cli_usage_error(error, "%s %s", what,
                                  min - n == 1 ? "is missing" : "are missing");
    if (n > max)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args->rest[max]);
    return TRUE;
}

static gboolean
sk_on_check_yes_no(const char *option, const char *value, GError **error)
{
    if (!value || g_str_equal(value, "yes") || g_str_equal(value, "no"))
        return TRUE;
    return sk_cli_usage_error(error, "%s takes 'yes' or 'no', not '%s'", option, value);
}

static gboolean
sk_on_check_affect(const SkCliAffect *a, GError **error)
{
    if (a->current && (a->live || a->config || a->persistent))
        return sk_cli_usage_error(error, "--current cannot be combined with --live, --config or "
                                         "--persistent");
    return sk_on_check_yes_no("--hotplug-require", a->hotplug_require, error);
}

/* Device XML from a file, or from stdin for "-". */
static char *
sk_on_read_device(const char *path, GError **error)
{
    const char *label = g_str_equal(path, "-") ? "stdin" : path;
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    gsize len = 0;

    text = sk_xml_read_bounded(path, label, SK_XML_DEVICE_MAX_SIZE, &len, &local);
    if (!text) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_FAILED, "%s", local->message);
        return NULL;
    }
    if (len > SK_XML_DEVICE_MAX_SIZE) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_FAILED,
                    "the device XML in %s is too large: more than %d bytes", label,
                    SK_XML_DEVICE_MAX_SIZE);
        return NULL;
    }
    return g_steal_pointer(&text);
}

/* ---- list ---- */

static int
sk_on_compare_by_name(gconstpointer a, gconstpointer b)
{
    GVariant *pa = *(GVariant *const *)a;
    GVariant *pb = *(GVariant *const *)b;

    return g_strcmp0(sk_on_lookup_str(pa, "Name", ""), sk_on_lookup_str(pb, "Name", ""));
}

/* Every domain object's Domain properties, sorted by name. */
static GPtrArray *
sk_on_list_domains(SkOnBus *bus, GError **error)
{
    g_autoptr(GHashTable) table = sk_on_managed_domains(bus, error);
    GPtrArray *domains = NULL;
    GHashTableIter iter;
    gpointer path = NULL;
    gpointer value = NULL;

    if (!table)
        return NULL;
    domains = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
    g_hash_table_iter_init(&iter, table);
    while (g_hash_table_iter_next(&iter, &path, &value)) {
        /* The properties plus the object path, which D-Bus clients of the service need. */
        g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        GVariantIter props;
        const char *key = NULL;
        GVariant *v = NULL;

        g_variant_builder_add(&b, "{sv}", "ObjectPath", g_variant_new_object_path(path));
        g_variant_iter_init(&props, value);
        while (g_variant_iter_next(&props, "{&sv}", &key, &v)) {
            g_variant_builder_add(&b, "{sv}", key, v);
            g_variant_unref(v);
        }
        g_ptr_array_add(domains, g_variant_ref_sink(g_variant_builder_end(&b)));
    }
    g_ptr_array_sort(domains, sk_on_compare_by_name);
    return domains;
}

gboolean
sk_cli_verb_list(const SkCliGlobals *globals, int argc, char **argv, char **output, GError **error)
{
    g_auto(SkOnArgs) args = { .spare_ports = SK_ON_UNSET };
    g_auto(SkOnBus) bus = { 0 };
    g_autoptr(GPtrArray) domains = NULL;

    if (!sk_on_parse(&args, globals, "", "List the domains slotkeeperd watches.",
                     "Shows each domain's state, machine, whether slotkeeper keeps spares for it,\n"
                     "its spare-port target and free hotplug slots now and after the next cold\n"
                     "boot, and its legacy PCI bridge policy and chain.\n",
                     NULL, argc, argv, error) ||
        !sk_on_check_rest(&args, 0, 0, "", error))
        return FALSE;
    if (!sk_on_bus_open(&bus, args.g.user, args.g.no_ask_password, "list", NULL, error))
        return FALSE;
    domains = sk_on_list_domains(&bus, error);
    if (!domains)
        return FALSE;

    if (args.g.json) {
        JsonArray *array = json_array_new();
        JsonNode *node = json_node_new(JSON_NODE_ARRAY);

        for (guint i = 0; i < domains->len; i++)
            json_array_add_element(array, sk_on_dict_json(g_ptr_array_index(domains, i), TRUE));
        json_node_take_array(node, array);
        *output = sk_on_json_take(node, TRUE);
        return TRUE;
    }

    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(SkCliTable) table = sk_cli_table_new(9);
    gboolean any_pending = FALSE;

    sk_cli_table_add(table, "NAME", "STATE", "MACHINE", "MANAGED", "SPARES", "FREE NOW",
                     "FREE NEXT BOOT", "LEGACY BRIDGE", "LEGACY CHAIN");
    for (guint i = 0; i < domains->len; i++) {
        GVariant *p = g_ptr_array_index(domains, i);
        gboolean managed = sk_on_lookup_bool(p, "Managed", FALSE);
        gboolean pending = sk_on_lookup_bool(p, "RestartPending", FALSE);
        g_autofree char *state =
            g_strdup_printf("%s%s", sk_on_lookup_str(p, "State", "?"), pending ? "*" : "");
        g_autofree char *spares =
            g_strdup_printf("%" G_GINT64_FORMAT, sk_on_lookup_int(p, "SparePorts", 0));
        g_autofree char *now = sk_on_lookup_text(p, "FreeHotplugSlots", "-");
        g_autofree char *next = sk_on_lookup_text(p, "FreeHotplugSlotsNextBoot", "-");

        const char *st = sk_on_lookup_str(p, "State", "");
        /* A domain that does not run has no running definition to count slots in. */
        gboolean runs = !g_str_equal(st, "shut-off") && !g_str_equal(st, "shutoff");

        any_pending = any_pending || pending;
        sk_cli_table_add(
            table, sk_on_lookup_str(p, "Name", "?"), state, sk_on_lookup_str(p, "Machine", "-"),
            managed ? "yes" : "no", managed ? spares : "-", runs ? now : "-",
            sk_on_lookup_bool(p, "Persistent", TRUE) ? next : "-",
            sk_on_lookup_str(p, "LegacyBridge", "-"), sk_on_lookup_str(p, "LegacyChain", "-"));
    }
    if (domains->len == 0)
        g_string_append(out, "no domains\n");
    else
        sk_cli_table_render(table, "", out);
    if (any_pending)
        g_string_append(out, "* restart pending: the persistent definition has PCI controllers "
                             "the running guest lacks;\n  shut the guest down and start it again "
                             "to use them\n");
    *output = g_string_free(g_steal_pointer(&out), FALSE);
    return TRUE;
}

/* ---- slots ---- */

static void
sk_on_free_run(SkCliTable *table, const char *busnum, guint first, guint last, gboolean hotplug)
{
    g_autofree char *slots =
        first == last ? g_strdup_printf("%02x", first) : g_strdup_printf("%02x-%02x", first, last);
    guint n = last - first + 1;
    g_autofree char *what = g_strdup_printf("  free (%u slot%s)", n, n == 1 ? "" : "s");

    sk_cli_table_add(table, busnum, slots, what, hotplug ? "yes" : "no", NULL);
}

/* One dictionary of GetSlots: the bus line, its occupants, runs of free slots. */
static void
sk_on_bus_rows(GVariant *busv, SkCliTable *table)
{
    gint64 index = sk_on_lookup_int(busv, "index", 0);
    gboolean hotplug = sk_on_lookup_bool(busv, "hotplug", FALSE);
    const char *model_name = sk_on_lookup_str(busv, "model_name", NULL);
    const char *address = sk_on_lookup_str(busv, "address", NULL);
    g_autoptr(GVariant) occupants = g_variant_lookup_value(busv, "occupants", NULL);
    g_autoptr(GVariant) free_slots = g_variant_lookup_value(busv, "free_slots", NULL);
    g_autofree char *busnum = g_strdup_printf("%02x", (guint)index);
    g_autoptr(GString) summary = g_string_new(NULL);
    gboolean free_map[256] = { FALSE };
    gsize n_free = 0;
    guint run_start = 0;
    gboolean in_run = FALSE;
    guint slot = 0;

    const char *model = sk_on_lookup_str(busv, "model", "");
    gint64 chassis = sk_on_lookup_int(busv, "chassis", -1);
    gint64 port = sk_on_lookup_int(busv, "port", -1);

    g_string_append_printf(summary, "controller %u: %s", (guint)index,
                           *model ? model : "missing (libvirt adds a default one)");
    if (model_name && *model_name)
        g_string_append_printf(summary, " (%s)", model_name);
    if (address && *address)
        g_string_append_printf(summary, " at %s", address);
    if (chassis >= 0)
        g_string_append_printf(summary, ", chassis=%d", (int)chassis);
    if (port >= 0)
        g_string_append_printf(summary, " port=0x%x", (guint)port);
    if (free_slots && g_variant_is_of_type(free_slots, G_VARIANT_TYPE("au"))) {
        const guint32 *v = g_variant_get_fixed_array(free_slots, &n_free, sizeof(guint32));
        for (gsize i = 0; i < n_free; i++)
            free_map[v[i] & 0xff] = TRUE;
    }
    g_autofree char *n_free_str = g_strdup_printf("%" G_GSIZE_FORMAT, n_free);
    sk_cli_table_add(table, busnum, "-", summary->str, hotplug ? "yes" : "no", n_free_str);

    gsize n_occ = occupants ? g_variant_n_children(occupants) : 0;
    for (slot = 0; slot < 256; slot++) {
        gboolean listed = FALSE;

        for (gsize i = 0; i < n_occ; i++) {
            g_autoptr(GVariant) occ = g_variant_get_child_value(occupants, i);
            if (sk_on_lookup_int(occ, "slot", -1) != (gint64)slot)
                continue;
            if (in_run)
                sk_on_free_run(table, busnum, run_start, slot - 1, hotplug);
            in_run = FALSE;
            g_autofree char *where =
                g_strdup_printf("%02x.%x", slot, (guint)sk_on_lookup_int(occ, "function", 0));
            const char *desc = sk_on_lookup_str(occ, "description", "");
            /* A controller's slot leads to its own bus: say which, so the tree can be followed. */
            gint64 child = sk_on_lookup_int(occ, "controller", -1);

            if (!*desc)
                desc = sk_on_lookup_str(occ, "element", "");
            if (!*desc)
                desc = "(unnamed)";
            g_autofree char *what = child >= 0
                                        ? g_strdup_printf("  %s -> bus %02x", desc, (guint)child)
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
            sk_on_free_run(table, busnum, run_start, slot - 1, hotplug);
            in_run = FALSE;
        }
    }
    if (in_run)
        sk_on_free_run(table, busnum, run_start, 255, hotplug);
}

gboolean
sk_cli_online_slots(const SkCliGlobals *globals, const char *domain, gboolean inactive,
                    char **output, GError **error)
{
    SkOnArgs args = { .g = *globals };
    g_auto(SkOnBus) bus = { 0 };
    g_autoptr(GVariant) props = NULL;
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) buses = NULL;
    g_auto(GVariantBuilder) opts = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    const char *free_key = inactive ? "FreeHotplugSlotsNextBoot" : "FreeHotplugSlots";

    if (!sk_on_bus_open(&bus, args.g.user, args.g.no_ask_password, "slots DOMAIN",
                        "slots --domain-xml FILE", error))
        return FALSE;
    props = sk_on_domain_props(&bus, domain, NULL, error);
    if (!props)
        return FALSE;
    g_variant_builder_add(&opts, "{sv}", "inactive", g_variant_new_boolean(inactive));
    reply = sk_on_call_manager(&bus, "GetSlots",
                               g_variant_new("(s@a{sv})", domain, g_variant_builder_end(&opts)),
                               "(aa{sv})", SK_CALL_TIMEOUT_READ, error);
    if (!reply)
        return FALSE;
    buses = g_variant_get_child_value(reply, 0);

    if (args.g.json) {
        g_autoptr(JsonObject) obj = json_object_new();
        g_autoptr(JsonObject) dom = json_object_new();
        g_autoptr(GVariant) free_now = g_variant_lookup_value(props, free_key, NULL);

        json_object_set_string_member(dom, "name", sk_on_lookup_str(props, "Name", NULL));
        json_object_set_string_member(dom, "uuid", sk_on_lookup_str(props, "UUID", NULL));
        json_object_set_string_member(dom, "arch", sk_on_lookup_str(props, "Arch", NULL));
        json_object_set_string_member(dom, "machine", sk_on_lookup_str(props, "Machine", NULL));
        json_object_set_string_member(dom, "state", sk_on_lookup_str(props, "State", NULL));
        json_object_set_boolean_member(dom, "live", !inactive);
        json_object_set_member(obj, "domain", sk_on_json_object_node(g_steal_pointer(&dom)));
        json_object_set_member(obj, "buses", json_gvariant_serialize(buses));
        json_object_set_member(obj, "free_hotplug",
                               free_now ? json_gvariant_serialize(free_now)
                                        : json_node_new(JSON_NODE_NULL));
        *output = sk_on_json_take(sk_on_json_object_node(g_steal_pointer(&obj)), TRUE);
        return TRUE;
    }

    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(SkCliTable) table = sk_cli_table_new(5);
    g_autofree char *free_text = sk_on_lookup_text(props, free_key, "unknown");

    g_string_append_printf(
        out, "domain %s (%s): %s %s, %s definition\n", sk_on_lookup_str(props, "Name", domain),
        sk_on_lookup_str(props, "UUID", "?"), sk_on_lookup_str(props, "Arch", "?"),
        sk_on_lookup_str(props, "Machine", "?"), inactive ? "persistent" : "running");
    sk_cli_table_add(table, "BUS", "SLOT", "OCCUPANT", "HOTPLUG", "FREE");
    for (gsize i = 0; i < g_variant_n_children(buses); i++) {
        g_autoptr(GVariant) busv = g_variant_get_child_value(buses, i);
        sk_on_bus_rows(busv, table);
    }
    sk_cli_table_render(table, "", out);
    g_string_append_printf(out, "free hotplug slots%s: %s\n",
                           inactive ? " after the next boot" : "", free_text);
    *output = g_string_free(g_steal_pointer(&out), FALSE);
    return TRUE;
}

/* ---- plan ---- */

static void
sk_on_plan_controllers_text(GVariant *controllers, GString *out)
{
    g_autoptr(SkCliTable) table = sk_cli_table_new(6);

    sk_cli_table_add(table, "INDEX", "MODEL", "MODEL NAME", "TARGET", "ADDRESS", "PURPOSE");
    for (gsize i = 0; i < g_variant_n_children(controllers); i++) {
        g_autoptr(GVariant) c = g_variant_get_child_value(controllers, i);
        g_autofree char *index = sk_on_lookup_text(c, "index", "-");
        const char *model_name = sk_on_lookup_str(c, "model_name", "");
        gint64 chassis = sk_on_lookup_int(c, "chassis", -1);
        gint64 port = sk_on_lookup_int(c, "port", -1);
        g_autoptr(GString) target = g_string_new(NULL);

        if (chassis >= 0)
            g_string_append_printf(target, "chassis=%d", (int)chassis);
        if (port >= 0)
            g_string_append_printf(target, "%sport=0x%x", target->len ? " " : "", (guint)port);
        sk_cli_table_add(table, index, sk_on_lookup_str(c, "model", "-"),
                         *model_name ? model_name : "-", target->len ? target->str : "-",
                         sk_on_lookup_str(c, "address", "-"), sk_on_lookup_str(c, "purpose", ""));
    }
    sk_cli_table_render(table, "  ", out);
}

static const char *
sk_on_effect_sentence(const char *effect, gboolean config)
{
    if (g_str_equal(effect, "now"))
        return config ? "takes effect now in the running guest, and is kept in the persistent "
                        "definition"
                      : "takes effect now in the running guest";
    if (g_str_equal(effect, "next-boot"))
        return "takes effect at the next cold boot";
    if (g_str_equal(effect, "none"))
        return "nothing to change";
    return effect;
}

gboolean
sk_cli_online_plan(const SkCliGlobals *globals, const char *domain, const char *device_path,
                   const SkCliAffect *affect, char **output, GError **error)
{
    SkOnArgs args = { .g = *globals };
    g_auto(SkOnBus) bus = { 0 };
    g_autofree char *xml = NULL;
    g_autoptr(GVariant) opts = NULL;
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) plan = NULL;

    if (!sk_on_check_affect(affect, error))
        return FALSE;
    xml = sk_on_read_device(device_path, error);
    if (!xml)
        return FALSE;
    if (!sk_on_bus_open(&bus, args.g.user, args.g.no_ask_password, "plan DOMAIN",
                        "plan --domain-xml FILE DEVICE.xml", error))
        return FALSE;
    opts = sk_on_options(&bus, domain, affect, error);
    if (!opts)
        return FALSE;
    reply = sk_on_call_manager(&bus, "Plan",
                               g_variant_new("(ss@a{sv})", domain, xml, g_steal_pointer(&opts)),
                               "(a{sv})", SK_CALL_TIMEOUT_READ, error);
    if (!reply)
        return FALSE;
    plan = g_variant_get_child_value(reply, 0);

    /* A refusal is a failure, as offline: one line naming the problem and the remedy. */
    if (!sk_on_lookup_bool(plan, "ok", TRUE)) {
        const char *message = sk_on_lookup_str(plan, "message", "the device cannot be attached");
        const char *remedy = sk_on_lookup_str(plan, "remedy", NULL);
        const char *name = sk_on_lookup_str(plan, "error", NULL);

        /* "org.slotkeeper.SlotKeeper1.Error.NoFreeSlot" -> "NoFreeSlot" */
        if (name && strrchr(name, '.'))
            name = strrchr(name, '.') + 1;
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_FAILED, "%s%s%s%s%s%s", message,
                    remedy && *remedy ? "; " : "", remedy ? remedy : "", name ? " (" : "",
                    name ? name : "", name ? ")" : "");
        return FALSE;
    }
    if (args.g.json) {
        *output = sk_on_json_take(sk_on_dict_json(plan, FALSE), TRUE);
        return TRUE;
    }

    g_autoptr(GString) out = g_string_new(NULL);
    g_autoptr(GVariant) controllers = g_variant_lookup_value(plan, "controllers", NULL);
    g_autoptr(GVariant) reasons = g_variant_lookup_value(plan, "reasons", G_VARIANT_TYPE("as"));
    const char *address = sk_on_lookup_str(plan, "address", "");
    GVariantIter iter;
    const char *key = NULL;
    GVariant *value = NULL;

    g_string_append_printf(out, "device:      %s\n", sk_on_lookup_str(plan, "device", "?"));
    g_string_append_printf(out, "domain:      %s\n", domain);
    g_string_append_printf(out, "address:     %s\n", *address ? address : "none");
    g_string_append_printf(out, "effect:      %s\n",
                           sk_on_effect_sentence(sk_on_lookup_str(plan, "effect", "?"),
                                                 affect->config || affect->persistent));
    /* Keys this client does not know yet are still shown. */
    g_variant_iter_init(&iter, plan);
    while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
        if (!g_strv_contains((const char *const[]){ "ok", "device", "address", "effect",
                                                    "controllers", "reasons", NULL },
                             key)) {
            g_autofree char *text = sk_on_value_text(value);
            g_autofree char *label = g_strconcat(key, ":", NULL);
            g_string_append_printf(out, "%-12s %s\n", label, text);
        }
        g_variant_unref(value);
    }
    if (controllers && g_variant_n_children(controllers) > 0) {
        g_string_append(out, "controllers to add to the persistent definition:\n");
        sk_on_plan_controllers_text(controllers, out);
    } else {
        g_string_append(out, "controllers to add: none\n");
    }
    if (reasons && g_variant_n_children(reasons) > 0) {
        g_string_append(out, "why:\n");
        for (gsize i = 0; i < g_variant_n_children(reasons); i++) {
            g_autoptr(GVariant) r = g_variant_get_child_value(reasons, i);
            g_string_append_printf(out, "  - %s\n", g_variant_get_string(r, NULL));
        }
    }
    *output = g_string_free(g_steal_pointer(&out), FALSE);
    return TRUE;
}

/* ---- attach-device, detach-device ---- */

static gboolean
sk_on_device_verb(const SkCliGlobals *globals, gboolean attach, int argc, char **argv,
                  char **output, GError **error)
{
    g_auto(SkOnArgs) args = { .spare_ports = SK_ON_UNSET };
    g_auto(SkOnBus) bus = { 0 };
    GOptionEntry entries[] = {
        { "live", 0, 0, G_OPTION_ARG_NONE, &args.live, "Affect the running guest", NULL },
        { "config", 0, 0, G_OPTION_ARG_NONE, &args.config,
          "Affect the persistent definition (next boot)", NULL },
        { "current", 0, 0, G_OPTION_ARG_NONE, &args.current,
          "The running guest if it runs, else the persistent definition (default)", NULL },
        { "persistent", 0, 0, G_OPTION_ARG_NONE, &args.persistent,
          "--config, plus --live if the domain runs", NULL },
        /* Last, so that detach-device can leave it out. */
        { "hotplug-require", 0, 0, G_OPTION_ARG_STRING, &args.hotplug_require,
          "Device must stay hot-unpluggable (default yes); no: on pcie-root", "yes|no" },
        G_OPTION_ENTRY_NULL,
    };
    const char *verb = attach ? "attach-device" : "detach-device";
    g_autofree char *xml = NULL;
    g_autoptr(GVariant) opts = NULL;
    g_autoptr(GVariant) reply = NULL;
    SkCliAffect affect;

    if (!attach)
        entries[G_N_ELEMENTS(entries) - 2] = (GOptionEntry)G_OPTION_ENTRY_NULL;
    if (!sk_on_parse(&args, globals, "DOMAIN DEVICE.xml",
                     attach ? "Attach a device at a planned address." : "Detach a device.",
                     attach ? "Plans a slot that is free and compatible in every definition the "
                              "flags affect,\npasses that explicit <address> to libvirt, then "
                              "tops the spare ports up.\nWhen no slot can exist in the running "
                              "guest, says what was added to the\npersistent definition. "
                              "DOMAIN is a name or UUID; DEVICE.xml '-' reads stdin.\n"
                            : "DEVICE.xml names the device as for 'virsh detach-device'. DOMAIN "
                              "is a name\nor UUID; DEVICE.xml '-' reads stdin.\n",
                     entries, argc, argv, error) ||
        !sk_on_check_rest(&args, 2, 2,
                          sk_on_n_rest(&args) == 0 ? "DOMAIN and DEVICE.xml" : "DEVICE.xml", error))
        return FALSE;
    affect = (SkCliAffect){ args.live, args.config, args.current, args.persistent,
                            args.hotplug_require };
    if (!sk_on_check_affect(&affect, error))
        return FALSE;
    xml = sk_on_read_device(args.rest[1], error);
    if (!xml)
        return FALSE;
    if (!sk_on_bus_open(&bus, args.g.user, args.g.no_ask_password, verb, NULL, error))
        return FALSE;
    opts = sk_on_options(&bus, args.rest[0], &affect, error);
    if (!opts)
        return FALSE;
    reply =
        sk_on_call_manager(&bus, attach ? "AttachDevice" : "DetachDevice",
                           g_variant_new("(ss@a{sv})", args.rest[0], xml, g_steal_pointer(&opts)),
                           attach ? "(ss)" : "()", SK_CALL_TIMEOUT_CHANGE, error);
    if (!reply)
        return FALSE;

    if (!attach) {
        if (args.g.json) {
            g_autoptr(JsonObject) obj = json_object_new();
            json_object_set_boolean_member(obj, "ok", TRUE);
            json_object_set_string_member(obj, "domain", args.rest[0]);
            *output = sk_on_json_take(sk_on_json_object_node(g_steal_pointer(&obj)), TRUE);
        } else {
            *output = g_strdup_printf("detached the device from %s\n", args.rest[0]);
        }
        return TRUE;
    }

    const char *device_xml = NULL;
    const char *address = NULL;

    g_variant_get(reply, "(&s&s)", &device_xml, &address);
    if (args.g.json) {
        g_autoptr(JsonObject) obj = json_object_new();
        json_object_set_boolean_member(obj, "ok", TRUE);
        json_object_set_string_member(obj, "domain", args.rest[0]);
        if (*address)
            json_object_set_string_member(obj, "address", address);
        else
            json_object_set_null_member(obj, "address");
        json_object_set_string_member(obj, "device_xml", device_xml);
        *output = sk_on_json_take(sk_on_json_object_node(g_steal_pointer(&obj)), TRUE);
    } else if (*address) {
        *output = g_strdup_printf("attached the device to %s at %s\n", args.rest[0], address);
    } else {
        *output =
            g_strdup_printf("attached the device to %s (it takes no PCI slot)\n", args.rest[0]);
    }
    return TRUE;
}

gboolean
sk_cli_verb_attach_device(const SkCliGlobals *globals, int argc, char **argv, char **output,
                          GError **error)
{
    return sk_on_device_verb(globals, TRUE, argc, argv, output, error);
}

gboolean
sk_cli_verb_detach_device(const SkCliGlobals *globals, int argc, char **argv, char **output,
                          GError **error)
{
    return sk_on_device_verb(globals, FALSE, argc, argv, output, error);
}

/* ---- policy ---- */

/* The policy in force: @props, with what @set (the SetPolicy dictionary, or NULL) just changed,
 * since the service may publish its new properties only after it has replied. */
static char *
sk_on_policy_output(GVariant *props, GVariant *set, gboolean json)
{
    const char *name = sk_on_lookup_str(props, "Name", NULL);
    gboolean managed = sk_on_lookup_bool(props, "Managed", FALSE);
    gint64 spare_ports = sk_on_lookup_int(props, "SparePorts", 0);
    const char *legacy = sk_on_lookup_str(props, "LegacyBridge", "?");

    if (set) {
        managed = sk_on_lookup_bool(set, "managed", managed);
        spare_ports = sk_on_lookup_int(set, "spare-ports", spare_ports);
        legacy = sk_on_lookup_str(set, "legacy-bridge", legacy);
    }
    if (json) {
        g_autoptr(JsonObject) obj = json_object_new();

        json_object_set_string_member(obj, "domain", name);
        json_object_set_boolean_member(obj, "managed", managed);
        json_object_set_int_member(obj, "spare_ports", spare_ports);
        json_object_set_string_member(obj, "legacy_bridge", legacy);
        return sk_on_json_take(sk_on_json_object_node(g_steal_pointer(&obj)), TRUE);
    }
    return g_strdup_printf("domain:        %s\n"
                           "managed:       %s\n"
                           "spare-ports:   %" G_GINT64_FORMAT "\n"
                           "legacy-bridge: %s\n",
                           name ? name : "?", managed ? "yes" : "no", spare_ports, legacy);
}

gboolean
sk_cli_verb_policy(const SkCliGlobals *globals, int argc, char **argv, char **output,
                   GError **error)
{
    g_auto(SkOnArgs) args = { .spare_ports = SK_ON_UNSET };
    g_auto(SkOnBus) bus = { 0 };
    const GOptionEntry entries[] = {
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &args.spare_ports,
          "Empty hotplug root ports to keep in the persistent definition", "N" },
        { "legacy-bridge", 0, 0, G_OPTION_ARG_STRING, &args.legacy_bridge,
          "When to add the pcie-to-pci-bridge chain", "lazy|eager|never" },
        { "managed", 0, 0, G_OPTION_ARG_STRING, &args.managed,
          "Whether slotkeeper keeps spares for the domain", "yes|no" },
        G_OPTION_ENTRY_NULL,
    };
    g_auto(GVariantBuilder) policy = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) opts = NULL;
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) props = NULL;
    g_autoptr(GVariant) policy_set = NULL;
    gboolean set = FALSE;

    if (!sk_on_parse(&args, globals, "DOMAIN", "Show or change a domain's slot policy.",
                     "Without options, shows the policy in force. The options change it; the "
                     "new\npolicy is kept in the domain's <metadata> and applied at once.\n",
                     entries, argc, argv, error) ||
        !sk_on_check_rest(&args, 1, 1, "DOMAIN", error))
        return FALSE;
    if (args.spare_ports != SK_ON_UNSET) {
        if (args.spare_ports < 0 || args.spare_ports > 255)
            return sk_cli_usage_error(error, "--spare-ports must be between 0 and 255, not %d",
                                      args.spare_ports);
        g_variant_builder_add(&policy, "{sv}", "spare-ports",
                              g_variant_new_uint32((guint32)args.spare_ports));
        set = TRUE;
    }
    if (args.legacy_bridge) {
        if (!g_strv_contains((const char *const[]){ "lazy", "eager", "never", NULL },
                             args.legacy_bridge))
            return sk_cli_usage_error(error,
                                      "--legacy-bridge takes 'lazy', 'eager' or 'never', not '%s'",
                                      args.legacy_bridge);
        g_variant_builder_add(&policy, "{sv}", "legacy-bridge",
                              g_variant_new_string(args.legacy_bridge));
        set = TRUE;
    }
    if (args.managed) {
        if (!sk_on_check_yes_no("--managed", args.managed, error))
            return FALSE;
        g_variant_builder_add(&policy, "{sv}", "managed",
                              g_variant_new_boolean(g_str_equal(args.managed, "yes")));
        set = TRUE;
    }
    if (!sk_on_bus_open(&bus, args.g.user, args.g.no_ask_password, "policy", NULL, error))
        return FALSE;
    if (set) {
        policy_set = g_variant_ref_sink(g_variant_builder_end(&policy));
        opts = sk_on_options(&bus, args.rest[0], NULL, error);
        if (!opts)
            return FALSE;
        reply = sk_on_call_manager(
            &bus, "SetPolicy",
            g_variant_new("(s@a{sv}@a{sv})", args.rest[0], policy_set, g_steal_pointer(&opts)),
            "()", SK_CALL_TIMEOUT_CHANGE, error);
        if (!reply)
            return FALSE;
    }
    props = sk_on_domain_props(&bus, args.rest[0], NULL, error);
    if (!props)
        return FALSE;
    *output = sk_on_policy_output(props, policy_set, args.g.json);
    return TRUE;
}

/* ---- reconcile ---- */

gboolean
sk_cli_verb_reconcile(const SkCliGlobals *globals, int argc, char **argv, char **output,
                      GError **error)
{
    g_auto(SkOnArgs) args = { .spare_ports = SK_ON_UNSET };
    g_auto(SkOnBus) bus = { 0 };
    g_autoptr(GVariant) opts = NULL;
    g_autoptr(GVariant) reply = NULL;
    const char *domain = NULL;

    if (!sk_on_parse(&args, globals, "[DOMAIN]", "Top up spare hotplug ports now.",
                     "Brings the persistent definition of DOMAIN (default: every managed "
                     "domain) to\nits policy's spare ports and legacy chain, appending "
                     "controllers only. The\nservice also does this by itself on every "
                     "lifecycle and device event.\n",
                     NULL, argc, argv, error) ||
        !sk_on_check_rest(&args, 0, 1, "", error))
        return FALSE;
    domain = sk_on_n_rest(&args) == 1 ? args.rest[0] : "";
    if (!sk_on_bus_open(&bus, args.g.user, args.g.no_ask_password, "reconcile", NULL, error))
        return FALSE;
    opts = sk_on_options(&bus, domain, NULL, error);
    if (!opts)
        return FALSE;
    reply = sk_on_call_manager(&bus, "Reconcile",
                               g_variant_new("(s@a{sv})", domain, g_steal_pointer(&opts)), "()",
                               SK_CALL_TIMEOUT_CHANGE, error);
    if (!reply)
        return FALSE;
    if (args.g.json) {
        g_autoptr(JsonObject) obj = json_object_new();
        json_object_set_boolean_member(obj, "ok", TRUE);
        if (*domain)
            json_object_set_string_member(obj, "domain", domain);
        else
            json_object_set_null_member(obj, "domain");
        *output = sk_on_json_take(sk_on_json_object_node(g_steal_pointer(&obj)), TRUE);
    } else if (*domain) {
        *output = g_strdup_printf("reconciled %s\n", domain);
    } else {
        *output = g_strdup("reconciled every managed domain\n");
    }
    return TRUE;
}

/* ---- status ---- */

gboolean
sk_cli_verb_status(const SkCliGlobals *globals, int argc, char **argv, char **output,
                   GError **error)
{
    g_auto(SkOnArgs) args = { .spare_ports = SK_ON_UNSET };
    g_auto(SkOnBus) bus = { 0 };
    g_autoptr(GVariant) props = NULL;
    g_autoptr(GVariant) owner_reply = NULL;
    g_autoptr(GVariant) pid_reply = NULL;
    g_autoptr(GPtrArray) domains = NULL;
    const char *owner = NULL;
    guint32 pid = 0;
    guint managed = 0;

    if (!sk_on_parse(&args, globals, "", "Show the service, its libvirt URI and connection.", NULL,
                     NULL, argc, argv, error) ||
        !sk_on_check_rest(&args, 0, 0, "", error))
        return FALSE;
    if (!sk_on_bus_open(&bus, args.g.user, args.g.no_ask_password, "status", NULL, error))
        return FALSE;
    /* Properties first: that starts a bus-activatable service. */
    props = sk_on_get_all(&bus, SK_MANAGER_PATH, SK_MANAGER_IFACE, error);
    if (!props)
        return FALSE;
    domains = sk_on_list_domains(&bus, error);
    if (!domains)
        return FALSE;
    for (guint i = 0; i < domains->len; i++)
        managed += sk_on_lookup_bool(g_ptr_array_index(domains, i), "Managed", FALSE) ? 1 : 0;
    owner_reply = g_dbus_connection_call_sync(
        bus.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "GetNameOwner", g_variant_new("(s)", SK_BUS_NAME), G_VARIANT_TYPE("(s)"),
        G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
    if (owner_reply) {
        g_variant_get(owner_reply, "(&s)", &owner);
        pid_reply = g_dbus_connection_call_sync(
            bus.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
            "GetConnectionUnixProcessID", g_variant_new("(s)", owner), G_VARIANT_TYPE("(u)"),
            G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
        if (pid_reply)
            g_variant_get(pid_reply, "(u)", &pid);
    }

    const char *uri = sk_on_lookup_str(props, "Uri", "?");
    gboolean connected = sk_on_lookup_bool(props, "Connected", FALSE);

    if (args.g.json) {
        g_autoptr(JsonObject) obj = json_object_new();

        json_object_set_string_member(obj, "bus", bus.bus);
        json_object_set_string_member(obj, "name", SK_BUS_NAME);
        json_object_set_string_member(obj, "owner", owner);
        if (pid)
            json_object_set_int_member(obj, "pid", pid);
        else
            json_object_set_null_member(obj, "pid");
        json_object_set_string_member(obj, "version", sk_on_lookup_str(props, "Version", NULL));
        json_object_set_string_member(obj, "uri", uri);
        json_object_set_boolean_member(obj, "connected", connected);
        json_object_set_int_member(obj, "domains", domains->len);
        json_object_set_int_member(obj, "managed", managed);
        *output = sk_on_json_take(sk_on_json_object_node(g_steal_pointer(&obj)), TRUE);
        return TRUE;
    }
    g_autofree char *pid_text = pid ? g_strdup_printf(", pid %u", pid) : g_strdup("");
    *output = g_strdup_printf("slotkeeperd: running on the %s bus as %s (%s%s)\n"
                              "version:     %s\n"
                              "libvirt:     %s, %s\n"
                              "domains:     %u, %u managed\n",
                              bus.bus, SK_BUS_NAME, owner ? owner : "?", pid_text,
                              sk_on_lookup_str(props, "Version", "?"), uri,
                              connected ? "connected" : "not connected (waiting for libvirtd)",
                              domains->len, managed);
    return TRUE;
}
