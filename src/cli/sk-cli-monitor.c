/* slotkeeper CLI: monitor. Prints slotkeeperd's Event signals, domain objects coming and going
 * and their property changes, one line each (JSON lines with --json), until SIGINT/SIGTERM. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include <glib-unix.h>

#include "sk-cli-dbus.h"
#include "sk-cli-online.h"
#include "sk-cli-output.h"

typedef struct {
    SkOnBus bus;
    gboolean json;
    GMainLoop *loop;
    GHashTable *names; /* object path -> domain name, to label property changes */
    GError *error;     /* why the loop stopped early */
} SkMonitor;

/* Prints one event: "HH:MM:SS @text" or @obj as one JSON line with "time" and "type" added. */
static void
sk_mon_emit(SkMonitor *mon, const char *type, const char *text, JsonObject *obj)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *line = NULL;

    if (mon->error)
        return;
    if (mon->json) {
        g_autoptr(JsonObject) full = json_object_new();
        g_autofree char *iso = g_date_time_format_iso8601(now);
        GList *members = obj ? json_object_get_members(obj) : NULL;

        json_object_set_string_member(full, "time", iso);
        json_object_set_string_member(full, "type", type);
        for (GList *l = members; l; l = l->next)
            json_object_set_member(full, l->data, json_object_dup_member(obj, l->data));
        g_list_free(members);
        line = sk_on_json_take(sk_on_json_object_node(g_steal_pointer(&full)), FALSE);
    } else {
        g_autofree char *clock = g_date_time_format(now, "%H:%M:%S");
        g_autofree char *flat = g_strdup(text);

        /* One event, one line, whatever the service's messages contain. */
        g_strdelimit(flat, "\r\n", ' ');
        line = g_strdup_printf("%s %s\n", clock, flat);
    }
    if (fputs(line, stdout) == EOF || fflush(stdout) != 0) {
        g_set_error(&mon->error, SK_CLI_ERROR, SK_CLI_ERROR_FAILED, "cannot write output");
        g_main_loop_quit(mon->loop);
    }
}

static const char *
sk_mon_name(SkMonitor *mon, const char *path)
{
    const char *name = g_hash_table_lookup(mon->names, path);

    if (name)
        return name;
    /* Not seen yet: the path still names the domain, by UUID. */
    if (g_str_has_prefix(path, SK_DOMAIN_PATH_PREFIX))
        return path + strlen(SK_DOMAIN_PATH_PREFIX);
    return path;
}

static void
sk_mon_remember(SkMonitor *mon, const char *path, GVariant *props)
{
    const char *name = sk_on_lookup_str(props, "Name", NULL);

    if (name)
        g_hash_table_insert(mon->names, g_strdup(path), g_strdup(name));
}

static gboolean
sk_mon_refresh_names(SkMonitor *mon, GError **error)
{
    g_autoptr(GHashTable) domains = sk_on_managed_domains(&mon->bus, error);
    GHashTableIter iter;
    gpointer path = NULL;
    gpointer props = NULL;

    if (!domains)
        return FALSE;
    g_hash_table_iter_init(&iter, domains);
    while (g_hash_table_iter_next(&iter, &path, &props))
        sk_mon_remember(mon, path, props);
    return TRUE;
}

/* Manager.Event(s kind, a{sv} details) */
static void
sk_mon_on_event(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                const char *signal, GVariant *params, gpointer user_data)
{
    SkMonitor *mon = user_data;
    const char *kind = NULL;
    g_autoptr(GVariant) details = NULL;
    g_autoptr(JsonObject) obj = json_object_new();
    g_autofree char *text = NULL;

    (void)conn, (void)sender, (void)path, (void)iface, (void)signal;
    if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv})")))
        return;
    g_variant_get(params, "(&s@a{sv})", &kind, &details);
    const char *domain = sk_on_lookup_str(details, "domain", NULL);
    const char *message = sk_on_lookup_str(details, "message", NULL);

    text = g_strdup_printf("%s%s%s%s%s", kind, domain ? " " : "", domain ? domain : "",
                           message ? ": " : "", message ? message : "");
    json_object_set_string_member(obj, "kind", kind);
    json_object_set_member(obj, "details", sk_on_dict_json(details, FALSE));
    sk_mon_emit(mon, "event", text, obj);
}

/* ObjectManager.InterfacesAdded(o path, a{sa{sv}} interfaces) */
static void
sk_mon_on_added(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                const char *signal, GVariant *params, gpointer user_data)
{
    SkMonitor *mon = user_data;
    const char *object = NULL;
    g_autoptr(GVariant) ifaces = NULL;
    g_autoptr(GVariant) props = NULL;
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(GString) text = g_string_new(NULL);
    const char *state = NULL;
    const char *machine = NULL;

    (void)conn, (void)sender, (void)path, (void)iface, (void)signal;
    if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(oa{sa{sv}})")))
        return;
    g_variant_get(params, "(&o@a{sa{sv}})", &object, &ifaces);
    props = g_variant_lookup_value(ifaces, SK_DOMAIN_IFACE, NULL);
    if (!props)
        return;
    sk_mon_remember(mon, object, props);
    /* The service may publish a domain before it has read its definition: skip empty values. */
    state = sk_on_lookup_str(props, "State", "");
    machine = sk_on_lookup_str(props, "Machine", "");
    g_string_append_printf(text, "domain-added %s:", sk_mon_name(mon, object));
    if (*state)
        g_string_append_printf(text, " %s,", state);
    if (*machine)
        g_string_append_printf(text, " %s,", machine);
    g_string_append(text, sk_on_lookup_bool(props, "Managed", FALSE) ? " managed" : " not managed");
    json_object_set_string_member(obj, "path", object);
    json_object_set_string_member(obj, "domain", sk_mon_name(mon, object));
    json_object_set_member(obj, "properties", sk_on_dict_json(props, TRUE));
    sk_mon_emit(mon, "domain-added", text->str, obj);
}

/* ObjectManager.InterfacesRemoved(o path, as interfaces) */
static void
sk_mon_on_removed(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                  const char *signal, GVariant *params, gpointer user_data)
{
    SkMonitor *mon = user_data;
    const char *object = NULL;
    g_autofree const char **ifaces = NULL;
    g_autoptr(JsonObject) obj = json_object_new();
    g_autofree char *text = NULL;
    g_autofree char *name = NULL;

    (void)conn, (void)sender, (void)path, (void)iface, (void)signal;
    if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(oas)")))
        return;
    g_variant_get(params, "(&o^a&s)", &object, &ifaces);
    if (!g_strv_contains(ifaces, SK_DOMAIN_IFACE))
        return;
    name = g_strdup(sk_mon_name(mon, object));
    g_hash_table_remove(mon->names, object);
    text = g_strdup_printf("domain-removed %s", name);
    json_object_set_string_member(obj, "path", object);
    json_object_set_string_member(obj, "domain", name);
    sk_mon_emit(mon, "domain-removed", text, obj);
}

/* Properties.PropertiesChanged(s iface, a{sv} changed, as invalidated) of our objects. */
static void
sk_mon_on_props(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                const char *signal, GVariant *params, gpointer user_data)
{
    SkMonitor *mon = user_data;
    const char *which = NULL;
    g_autoptr(GVariant) changed = NULL;
    g_autofree const char **invalidated = NULL;
    g_autoptr(JsonObject) obj = json_object_new();
    g_autoptr(GString) text = g_string_new(NULL);
    JsonArray *inv = json_array_new();
    gboolean domain = FALSE;
    GVariantIter iter;
    const char *key = NULL;
    GVariant *value = NULL;

    (void)conn, (void)sender, (void)iface, (void)signal;
    if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sa{sv}as)")))
        return;
    g_variant_get(params, "(&s@a{sv}^a&s)", &which, &changed, &invalidated);
    domain = g_str_equal(which, SK_DOMAIN_IFACE) && g_str_has_prefix(path, SK_DOMAIN_PATH_PREFIX);
    if (!domain && !(g_str_equal(which, SK_MANAGER_IFACE) && g_str_equal(path, SK_MANAGER_PATH))) {
        json_array_unref(inv);
        return;
    }
    if (domain)
        sk_mon_remember(mon, path, changed);

    g_string_append_printf(text, "changed %s:", domain ? sk_mon_name(mon, path) : "service");
    g_variant_iter_init(&iter, changed);
    for (guint n = 0; g_variant_iter_next(&iter, "{&sv}", &key, &value); n++) {
        g_autofree char *shown = sk_on_value_text(value);
        g_string_append_printf(text, "%s %s %s", n ? ";" : "", key, shown);
        g_variant_unref(value);
    }
    for (guint i = 0; invalidated && invalidated[i]; i++) {
        g_string_append_printf(text, " %s (changed)", invalidated[i]);
        json_array_add_string_element(inv, invalidated[i]);
    }
    json_object_set_string_member(obj, "path", path);
    if (domain)
        json_object_set_string_member(obj, "domain", sk_mon_name(mon, path));
    json_object_set_string_member(obj, "interface", which);
    json_object_set_member(obj, "changed", sk_on_dict_json(changed, TRUE));
    json_object_set_array_member(obj, "invalidated", inv);
    sk_mon_emit(mon, "properties-changed", text->str, obj);
}

/* The service going away (a crash, a restart) or coming back. */
static void
sk_mon_on_owner(GDBusConnection *conn, const char *sender, const char *path, const char *iface,
                const char *signal, GVariant *params, gpointer user_data)
{
    SkMonitor *mon = user_data;
    const char *name = NULL;
    const char *old_owner = NULL;
    const char *new_owner = NULL;
    g_autoptr(JsonObject) obj = json_object_new();

    (void)conn, (void)sender, (void)path, (void)iface, (void)signal;
    if (!g_variant_is_of_type(params, G_VARIANT_TYPE("(sss)")))
        return;
    g_variant_get(params, "(&s&s&s)", &name, &old_owner, &new_owner);
    if (!g_str_equal(name, SK_BUS_NAME))
        return;
    if (*old_owner) {
        json_object_set_string_member(obj, "owner", old_owner);
        sk_mon_emit(mon, "service-stopped", "service-stopped: slotkeeperd left the bus", obj);
    }
    if (*new_owner) {
        g_autoptr(JsonObject) started = json_object_new();
        g_autofree char *text = g_strdup_printf("service-started: slotkeeperd is %s", new_owner);

        json_object_set_string_member(started, "owner", new_owner);
        sk_mon_emit(mon, "service-started", text, started);
        /* Its objects are back without InterfacesAdded; learn their names again. */
        sk_mon_refresh_names(mon, NULL);
    }
}

static gboolean
sk_mon_on_signal(gpointer user_data)
{
    g_main_loop_quit(user_data);
    return G_SOURCE_CONTINUE;
}

gboolean
sk_cli_verb_monitor(const SkCliGlobals *globals, int argc, char **argv, char **output,
                    GError **error)
{
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    gboolean json = FALSE;
    gboolean system = FALSE;
    gboolean user = FALSE;
    gboolean no_ask = FALSE;
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &json, "Print one JSON object per line", NULL },
        { "system", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &system, NULL, NULL },
        { "user", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &user, NULL, NULL },
        { "no-ask-password", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &no_ask, NULL, NULL },
        G_OPTION_ENTRY_NULL,
    };
    SkMonitor mon = { 0 };
    guint subs[5] = { 0 };
    guint sigint = 0;
    guint sigterm = 0;
    gboolean ok = FALSE;

    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_summary(ctx, "Stream slot and domain events.");
    g_option_context_set_description(
        ctx, "Prints, one line each until Ctrl+C: the service's decisions (reconciled,\n"
             "attached, detached, refused, policy-changed), domains defined and undefined,\n"
             "their changed properties (state, free hotplug slots, ...), and slotkeeperd\n"
             "leaving or joining the bus. --json prints one JSON object per line.\n"
             "Needs slotkeeperd: on the system bus by default, on the session bus with --user\n"
             "(before the verb: 'slotkeeper --user VERB ...').\n");
    if (!g_option_context_parse(ctx, &argc, &argv, error))
        return FALSE;
    if (argc > 1) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_USAGE, "unexpected argument '%s'", argv[1]);
        return FALSE;
    }
    user = user || globals->user;
    system = system || globals->system;
    if (user && system) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_USAGE,
                    "--system and --user are mutually exclusive");
        return FALSE;
    }
    mon.json = json || globals->json;
    if (!sk_on_bus_open(&mon.bus, user, no_ask || globals->no_ask_password, "monitor", NULL,
                        error)) {
        sk_on_bus_clear(&mon.bus);
        return FALSE;
    }
    mon.names = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, g_free);
    mon.loop = g_main_loop_new(NULL, FALSE);

    /* Subscribe before the first call, so nothing between the two is lost. */
    subs[0] = g_dbus_connection_signal_subscribe(
        mon.bus.conn, SK_BUS_NAME, SK_MANAGER_IFACE, "Event", SK_MANAGER_PATH, NULL,
        G_DBUS_SIGNAL_FLAGS_NONE, sk_mon_on_event, &mon, NULL);
    subs[1] = g_dbus_connection_signal_subscribe(
        mon.bus.conn, SK_BUS_NAME, SK_OM_IFACE, "InterfacesAdded", SK_MANAGER_PATH, NULL,
        G_DBUS_SIGNAL_FLAGS_NONE, sk_mon_on_added, &mon, NULL);
    subs[2] = g_dbus_connection_signal_subscribe(
        mon.bus.conn, SK_BUS_NAME, SK_OM_IFACE, "InterfacesRemoved", SK_MANAGER_PATH, NULL,
        G_DBUS_SIGNAL_FLAGS_NONE, sk_mon_on_removed, &mon, NULL);
    subs[3] = g_dbus_connection_signal_subscribe(
        mon.bus.conn, SK_BUS_NAME, SK_PROPS_IFACE, "PropertiesChanged", NULL, NULL,
        G_DBUS_SIGNAL_FLAGS_NONE, sk_mon_on_props, &mon, NULL);
    subs[4] = g_dbus_connection_signal_subscribe(
        mon.bus.conn, "org.freedesktop.DBus", "org.freedesktop.DBus", "NameOwnerChanged",
        "/org/freedesktop/DBus", SK_BUS_NAME, G_DBUS_SIGNAL_FLAGS_NONE, sk_mon_on_owner, &mon,
        NULL);

    if (sk_mon_refresh_names(&mon, error)) {
        sigint = g_unix_signal_add(SIGINT, sk_mon_on_signal, mon.loop);
        sigterm = g_unix_signal_add(SIGTERM, sk_mon_on_signal, mon.loop);
        g_main_loop_run(mon.loop);
        g_source_remove(sigint);
        g_source_remove(sigterm);
        if (mon.error)
            g_propagate_error(error, g_steal_pointer(&mon.error));
        else
            ok = TRUE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(subs); i++)
        g_dbus_connection_signal_unsubscribe(mon.bus.conn, subs[i]);
    g_main_loop_unref(mon.loop);
    g_hash_table_unref(mon.names);
    sk_on_bus_clear(&mon.bus);
    if (ok)
        *output = g_strdup("");
    return ok;
}
