/* slotkeeper CLI: slotkeeperd through the generated proxies. */
#include "sk-cli-bus.h"

#include <glib-unix.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sk-error.h"
#include "sk-wire.h"

/* ---- the polkit text agent ---- */

/* Like systemctl: a change asked for from a terminal may need a password, and without a desktop
 * agent polkit can only ask through a text agent that this process starts for its session. */
static void
sk_cli_agent_open(SkCliBus *bus)
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
sk_cli_agent_close(SkCliBus *bus)
{
    if (!bus->agent)
        return;
    kill(bus->agent, SIGTERM);
    waitpid(bus->agent, NULL, 0);
    g_spawn_close_pid(bus->agent);
    bus->agent = 0;
}

void
sk_cli_bus_prepare_change(SkCliBus *bus)
{
    sk_cli_agent_open(bus);
}

void
sk_cli_bus_clear(SkCliBus *bus)
{
    sk_cli_agent_close(bus);
    g_clear_object(&bus->manager);
    g_clear_object(&bus->conn);
    g_clear_pointer(&bus->form, g_free);
    g_clear_pointer(&bus->offline, g_free);
}

/* ---- errors ---- */

static gboolean
sk_cli_bus_not_running(const SkCliBus *bus, GError **error)
{
    g_autofree char *offline =
        bus->offline ? g_strdup_printf("; '%s' works offline", bus->offline) : g_strdup("");

    g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_NEEDS_DAEMON,
                "'%s' needs slotkeeperd, which is not running on the %s bus (nobody owns %s; "
                "start it, or use %s for the %s bus)%s",
                bus->form, bus->bus, SK_WIRE_BUS_NAME, bus->user ? "--system" : "--user",
                bus->user ? "system" : "session", offline);
    return FALSE;
}

gboolean
sk_cli_bus_fail(SkCliBus *bus, GError *error, GError **out)
{
    g_autoptr(GError) local = error;

    if (g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN) ||
        g_error_matches(local, G_DBUS_ERROR, G_DBUS_ERROR_NAME_HAS_NO_OWNER))
        return sk_cli_bus_not_running(bus, out);
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
    g_propagate_error(out, g_steal_pointer(&local));
    return FALSE;
}

/* ---- the bus and the Manager ---- */

gboolean
sk_cli_bus_open(SkCliBus *bus, const SkCliGlobals *g, const char *form, const char *offline,
                GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *owner = NULL;

    sk_wire_register_dbus_errors();
    bus->user = g->user;
    bus->bus = g->user ? "session" : "system";
    bus->no_ask_password = g->no_ask_password;
    bus->flags = g->no_ask_password ? G_DBUS_CALL_FLAGS_NONE
                                    : G_DBUS_CALL_FLAGS_ALLOW_INTERACTIVE_AUTHORIZATION;
    bus->form = g_strdup(form);
    bus->offline = g_strdup(offline);
    bus->conn = g_bus_get_sync(g->user ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, &local);
    if (!bus->conn) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_NEEDS_DAEMON,
                    "'%s' needs slotkeeperd on the %s bus, which cannot be reached (%s; or use "
                    "%s)%s%s%s",
                    form, bus->bus, local->message, g->user ? "--system" : "--user",
                    offline ? "; '" : "", offline ? offline : "", offline ? "' works offline" : "");
        return FALSE;
    }
    /* Loading the properties starts a bus-activatable service, which takes its name only once
     * it has read every domain: what follows sees true data. */
    bus->manager = sk_dbus_manager_proxy_new_sync(
        bus->conn, G_DBUS_PROXY_FLAGS_NONE, SK_WIRE_BUS_NAME, SK_WIRE_MANAGER_PATH, NULL, &local);
    if (!bus->manager)
        return sk_cli_bus_fail(bus, g_steal_pointer(&local), error);
    owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(bus->manager));
    if (!owner)
        return sk_cli_bus_not_running(bus, error);
    return TRUE;
}

GVariant *
sk_cli_bus_properties(GDBusProxy *proxy)
{
    g_auto(GStrv) names = g_dbus_proxy_get_cached_property_names(proxy);
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    for (guint i = 0; names && names[i]; i++) {
        g_autoptr(GVariant) value = g_dbus_proxy_get_cached_property(proxy, names[i]);

        if (value)
            g_variant_builder_add(&b, "{sv}", names[i], value);
    }
    return g_variant_ref_sink(g_variant_builder_end(&b));
}

GVariant *
sk_cli_bus_domain(SkCliBus *bus, const char *domain, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *path = NULL;
    g_autoptr(SkDbusDomain) proxy = NULL;

    if (!sk_dbus_manager_call_get_domain_sync(bus->manager, domain, G_DBUS_CALL_FLAGS_NONE,
                                              SK_CLI_TIMEOUT_READ, &path, NULL, &local))
        return sk_cli_bus_fail(bus, g_steal_pointer(&local), error), NULL;
    proxy = sk_dbus_domain_proxy_new_sync(bus->conn, G_DBUS_PROXY_FLAGS_NONE, SK_WIRE_BUS_NAME,
                                          path, NULL, &local);
    if (!proxy)
        return sk_cli_bus_fail(bus, g_steal_pointer(&local), error), NULL;
    return sk_cli_bus_properties(G_DBUS_PROXY(proxy));
}

static int
sk_cli_bus_compare_by_name(gconstpointer a, gconstpointer b)
{
    GVariant *pa = *(GVariant *const *)a;
    GVariant *pb = *(GVariant *const *)b;
    const char *na = "";
    const char *nb = "";

    g_variant_lookup(pa, "Name", "&s", &na);
    g_variant_lookup(pb, "Name", "&s", &nb);
    return g_strcmp0(na, nb);
}

GPtrArray *
sk_cli_bus_domains(SkCliBus *bus, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autoptr(GDBusObjectManager) om = NULL;
    GList *objects;
    GPtrArray *domains;

    om = sk_dbus_object_manager_client_new_sync(bus->conn, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE,
                                                SK_WIRE_BUS_NAME, SK_WIRE_MANAGER_PATH, NULL,
                                                &local);
    if (!om)
        return sk_cli_bus_fail(bus, g_steal_pointer(&local), error), NULL;
    domains = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
    objects = g_dbus_object_manager_get_objects(om);
    for (GList *l = objects; l; l = l->next) {
        g_autoptr(SkDbusDomain) iface = sk_dbus_object_get_domain(SK_DBUS_OBJECT(l->data));
        g_autoptr(GVariant) props = NULL;
        GVariantBuilder b;
        GVariantIter iter;
        const char *key;
        GVariant *value;

        if (!iface)
            continue;
        props = sk_cli_bus_properties(G_DBUS_PROXY(iface));
        /* The properties plus the object path, which D-Bus clients of the service need. */
        g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&b, "{sv}", "ObjectPath",
                              g_variant_new_object_path(g_dbus_object_get_object_path(l->data)));
        g_variant_iter_init(&iter, props);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
            g_variant_builder_add(&b, "{sv}", key, value);
            g_variant_unref(value);
        }
        g_ptr_array_add(domains, g_variant_ref_sink(g_variant_builder_end(&b)));
    }
    g_list_free_full(objects, g_object_unref);
    g_ptr_array_sort(domains, sk_cli_bus_compare_by_name);
    return domains;
}

GVariant *
sk_cli_bus_options(SkCliBus *bus, const char *domain, const SkCliAffect *affect, GError **error)
{
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    gboolean live = affect ? affect->live : FALSE;
    gboolean config = affect ? affect->config || affect->persistent : FALSE;

    if (affect && affect->persistent && !affect->live) {
        g_autoptr(GVariant) props = sk_cli_bus_domain(bus, domain, error);

        if (!props)
            return NULL;
        /* As virsh: --persistent is --config, plus --live when the domain is active. */
        g_variant_lookup(props, "Active", "b", &live);
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
