/* slotkeeper CLI: the D-Bus plumbing of the online verbs (calls, errors, and turning
 * replies into text or JSON). */
#include "sk-cli-dbus.h"

#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sk-cli-offline.h"
#include "sk-cli-output.h"

/* ---- the bus ---- */

/* Like systemctl: a change asked for from a terminal may need a password, and without a desktop
 * agent polkit can only ask through a text agent that this process starts for its session. */
static void
sk_on_agent_open(SkOnBus *bus)
{
    g_autofree char *agent = NULL;
    g_autofree char *fd_arg = NULL;
    g_autoptr(GError) error = NULL;
    int notify[2];
    GPollFD poll_fd;
    char byte;

    if (bus->agent || bus->user || bus->no_ask_password || geteuid() == 0 || !isatty(STDIN_FILENO))
        return;
    agent = g_find_program_in_path("pkttyagent");
    if (!agent || !g_unix_open_pipe(notify, FD_CLOEXEC, NULL))
        return;
    fd_arg = g_strdup_printf("%d", notify[1]);
    {
        const char *argv[] = { agent, "--notify-fd", fd_arg, "--fallback", NULL };
        const int source_fds[] = { notify[1] };

        /* The write end keeps its number in the child; pkttyagent closes it once registered. */
        if (!g_spawn_async_with_pipes_and_fds(NULL, argv, NULL, G_SPAWN_DEFAULT, NULL, NULL, -1, -1,
                                              -1, source_fds, source_fds, 1, &bus->agent, NULL,
                                              NULL, NULL, &error))
            g_debug("cannot start pkttyagent: %s", error->message);
    }
    close(notify[1]);
    poll_fd.fd = notify[0];
    poll_fd.events = G_IO_IN | G_IO_HUP;
    if (bus->agent && g_poll(&poll_fd, 1, 5000) > 0)
        (void)!read(notify[0], &byte, 1);
    close(notify[0]);
}

static void
sk_on_agent_close(SkOnBus *bus)
{
    if (!bus->agent)
        return;
    kill(bus->agent, SIGTERM);
    waitpid(bus->agent, NULL, 0);
    g_spawn_close_pid(bus->agent);
    bus->agent = 0;
}

void
sk_on_bus_clear(SkOnBus *bus)
{
    sk_on_agent_close(bus);
    g_clear_object(&bus->conn);
    g_clear_pointer(&bus->form, g_free);
    g_clear_pointer(&bus->offline, g_free);
}

/* The "slotkeeperd is not running" error. */
static void
sk_on_not_running(const SkOnBus *bus, GError **error)
{
    g_autofree char *offline =
        bus->offline ? g_strdup_printf("; '%s' works offline", bus->offline) : g_strdup("");

    g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_NEEDS_DAEMON,
                "'%s' needs slotkeeperd, which is not running on the %s bus (nobody owns "
                "%s; start it, or use %s for the %s bus)%s",
                bus->form, bus->bus, SK_BUS_NAME, bus->user ? "--system" : "--user",
                bus->user ? "system" : "session", offline);
}

gboolean
sk_on_bus_open(SkOnBus *bus, gboolean user, gboolean no_ask_password, const char *form,
               const char *offline, GError **error)
{
    g_autoptr(GError) local = NULL;

    bus->user = user;
    bus->bus = user ? "session" : "system";
    bus->no_ask_password = no_ask_password;
    bus->flags = no_ask_password ? G_DBUS_CALL_FLAGS_NONE
                                 : G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
    bus->form = g_strdup(form);
    bus->offline = g_strdup(offline);
    bus->conn = g_bus_get_sync(user ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, &local);
    if (!bus->conn) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_NEEDS_DAEMON,
                    "'%s' needs slotkeeperd on the %s bus, which cannot be reached (%s; or use "
                    "%s)%s%s%s",
                    form, bus->bus, local->message, user ? "--system" : "--user",
                    offline ? "; '" : "", offline ? offline : "", offline ? "' works offline" : "");
        return FALSE;
    }
    return TRUE;
}

/* One call to slotkeeperd. D-Bus errors come back as one line a person can read: the service's
 * message without the "GDBus.Error:name:" prefix, or that the service is not there. */
GVariant *
sk_on_call(SkOnBus *bus, const char *path, const char *iface, const char *method, GVariant *params,
           const char *reply_type, int timeout, GError **error)
{
    g_autoptr(GError) local = NULL;
    GVariant *reply;

    if (timeout == SK_CALL_TIMEOUT_CHANGE)
        sk_on_agent_open(bus);
    reply = g_dbus_connection_call_sync(bus->conn, SK_BUS_NAME, path, iface, method, params,
                                        reply_type ? G_VARIANT_TYPE(reply_type) : NULL, bus->flags,
                                        timeout, NULL, &local);

    if (reply)
        return reply;
    if (g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
        g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER)) {
        sk_on_not_running(bus, error);
        return NULL;
    }
    g_dbus_error_strip_remote_error(local);
    /* The output is one line; a message of several lines reads best as clauses. */
    if (strchr(local->message, '\n')) {
        g_auto(GStrv) lines = g_strsplit(local->message, "\n", -1);
        g_autoptr(GString) joined = g_string_new(NULL);

        for (guint i = 0; lines[i]; i++) {
            g_strstrip(lines[i]);
            if (*lines[i])
                g_string_append_printf(joined, "%s%s", joined->len ? "; " : "", lines[i]);
        }
        g_free(local->message);
        local->message = g_string_free(g_steal_pointer(&joined), FALSE);
    }
    g_propagate_error(error, g_steal_pointer(&local));
    return NULL;
}

GVariant *
sk_on_call_manager(SkOnBus *bus, const char *method, GVariant *params, const char *reply_type,
                   int timeout, GError **error)
{
    return sk_on_call(bus, SK_MANAGER_PATH, SK_MANAGER_IFACE, method, params, reply_type, timeout,
                      error);
}

/* The a{sv} of all properties of @iface on @path. */
GVariant *
sk_on_get_all(SkOnBus *bus, const char *path, const char *iface, GError **error)
{
    g_autoptr(GVariant) reply =
        sk_on_call(bus, path, SK_PROPS_IFACE, "GetAll", g_variant_new("(s)", iface), "(a{sv})",
                   SK_CALL_TIMEOUT_READ, error);

    if (!reply)
        return NULL;
    return g_variant_get_child_value(reply, 0);
}

/* The Domain properties of @domain (a name or UUID); @path_out gets its object path. */
GVariant *
sk_on_domain_props(SkOnBus *bus, const char *domain, char **path_out, GError **error)
{
    g_autoptr(GVariant) reply = sk_on_call_manager(bus, "GetDomain", g_variant_new("(s)", domain),
                                                   "(o)", SK_CALL_TIMEOUT_READ, error);
    g_autofree char *path = NULL;
    GVariant *props = NULL;

    if (!reply)
        return NULL;
    g_variant_get(reply, "(o)", &path);
    props = sk_on_get_all(bus, path, SK_DOMAIN_IFACE, error);
    if (props && path_out)
        *path_out = g_steal_pointer(&path);
    return props;
}

/* The options a{sv}: live/config as virsh resolves its flags, hotplug-require, and
 * auth.no_user_interaction. --persistent needs to know whether the domain runs. */
GVariant *
sk_on_options(SkOnBus *bus, const char *domain, const SkCliAffect *affect, GError **error)
{
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    gboolean live = affect ? affect->live : FALSE;
    gboolean config = affect ? affect->config || affect->persistent : FALSE;

    if (affect && affect->persistent && !affect->live) {
        g_autoptr(GVariant) props = sk_on_domain_props(bus, domain, NULL, error);
        const char *state = NULL;

        if (!props)
            return NULL;
        /* As virsh: --persistent is --config, plus --live when the domain is active. */
        if (g_variant_lookup(props, "State", "&s", &state))
            live = !g_str_equal(state, "shut-off") && !g_str_equal(state, "shutoff") &&
                   !g_str_equal(state, "crashed");
    }
    if (affect) {
        g_variant_builder_add(&b, "{sv}", "live", g_variant_new_boolean(live));
        g_variant_builder_add(&b, "{sv}", "config", g_variant_new_boolean(config));
        if (affect->hotplug_require)
            g_variant_builder_add(&b, "{sv}", "hotplug-require",
                                  g_variant_new_string(affect->hotplug_require));
    }
    if (bus->no_ask_password)
        g_variant_builder_add(&b, "{sv}", "auth.no_user_interaction", g_variant_new_boolean(TRUE));
    return g_variant_builder_end(&b);
}

/* ---- rendering helpers ---- */

static GVariant *
sk_on_unbox(GVariant *v)
{
    if (g_variant_is_of_type(v, G_VARIANT_TYPE_VARIANT))
        return g_variant_get_variant(v);
    return g_variant_ref(v);
}

/* Any integer type as gint64; @fallback when absent or not an integer. */
gint64
sk_on_lookup_int(GVariant *dict, const char *key, gint64 fallback)
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

const char *
sk_on_lookup_str(GVariant *dict, const char *key, const char *fallback)
{
    const char *str = NULL;

    if (g_variant_lookup(dict, key, "&s", &str))
        return str;
    return fallback;
}

gboolean
sk_on_lookup_bool(GVariant *dict, const char *key, gboolean fallback)
{
    gboolean b = fallback;

    g_variant_lookup(dict, key, "b", &b);
    return b;
}

/* A property value as text: yes/no, plain strings and numbers, "2 pcie, 0 pci" for a{su}. */
char *
sk_on_value_text(GVariant *value)
{
    g_autoptr(GVariant) v = sk_on_unbox(value);

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

char *
sk_on_lookup_text(GVariant *dict, const char *key, const char *fallback)
{
    g_autoptr(GVariant) v = g_variant_lookup_value(dict, key, NULL);

    return v ? sk_on_value_text(v) : g_strdup(fallback);
}

/* "FreeHotplugSlotsNextBoot" -> "free_hotplug_slots_next_boot", "UUID" -> "uuid". */
char *
sk_on_snake(const char *name)
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

/* A dictionary as a JSON object; @snake renames D-Bus property names to JSON style. */
JsonNode *
sk_on_dict_json(GVariant *dict, gboolean snake)
{
    g_autoptr(JsonObject) obj = json_object_new();
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);
    GVariantIter iter;
    const char *key = NULL;
    GVariant *value = NULL;

    g_variant_iter_init(&iter, dict);
    while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
        g_autofree char *name = snake ? sk_on_snake(key) : g_strdup(key);
        json_object_set_member(obj, name, json_gvariant_serialize(value));
        g_variant_unref(value);
    }
    json_node_set_object(node, obj);
    return node;
}

char *
sk_on_json_take(JsonNode *node, gboolean pretty)
{
    char *text = sk_cli_json_node_to_string(node, pretty);

    json_node_unref(node);
    return text;
}

JsonNode *
sk_on_json_object_node(JsonObject *obj)
{
    JsonNode *node = json_node_new(JSON_NODE_OBJECT);

    json_node_set_object(node, obj);
    return node;
}

GHashTable *
sk_on_managed_domains(SkOnBus *bus, GError **error)
{
    g_autoptr(GVariant) reply = sk_on_call(bus, SK_MANAGER_PATH, SK_OM_IFACE, "GetManagedObjects",
                                           NULL, "(a{oa{sa{sv}}})", SK_CALL_TIMEOUT_READ, error);
    g_autoptr(GVariant) objects = NULL;
    GHashTable *domains = NULL;
    GVariantIter iter;
    const char *path = NULL;
    GVariant *ifaces = NULL;

    if (!reply)
        return NULL;
    domains =
        g_hash_table_new_full(g_str_hash, g_str_equal, g_free, (GDestroyNotify)g_variant_unref);
    objects = g_variant_get_child_value(reply, 0);
    g_variant_iter_init(&iter, objects);
    while (g_variant_iter_next(&iter, "{&o@a{sa{sv}}}", &path, &ifaces)) {
        GVariant *props = g_variant_lookup_value(ifaces, SK_DOMAIN_IFACE, NULL);
        if (props)
            g_hash_table_insert(domains, g_strdup(path), props);
        g_variant_unref(ifaces);
    }
    return domains;
}
