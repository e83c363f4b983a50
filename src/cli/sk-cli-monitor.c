/* slotkeeper CLI: monitor. Follows slotkeeperd through the generated object manager client and
 * Manager proxy: the Event signal, objects added and removed, PropertiesChanged, and the
 * service leaving or joining the bus. One line each (JSON lines with --json). */
#include "sk-cli-monitor.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>

#include "sk-cli-bus.h"
#include "sk-cli-render.h"
#include "sk-error.h"
#include "sk-wire.h"

typedef struct {
    SkCliBus bus;
    gboolean json;
    GMainLoop *loop;
    GDBusObjectManager *om;
    GError *error; /* why the loop stopped early */
} SkMonitor;

/* Prints one event: "HH:MM:SS text", or @dict as one JSON line with "time" and "type" added. */
static void
sk_mon_emit(SkMonitor *mon, const char *type, const char *text, GVariant *dict)
{
    g_autoptr(GDateTime) now = g_date_time_new_now_local();
    g_autofree char *line = NULL;

    if (mon->error)
        return;
    if (mon->json) {
        g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        g_autofree char *iso = g_date_time_format_iso8601(now);
        g_autoptr(GVariant) all = NULL;
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_variant_builder_add(&b, "{sv}", "time", g_variant_new_string(iso));
        g_variant_builder_add(&b, "{sv}", "type", g_variant_new_string(type));
        if (dict) {
            g_variant_iter_init(&iter, dict);
            while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
                g_variant_builder_add(&b, "{sv}", key, value);
                g_variant_unref(value);
            }
        }
        all = g_variant_ref_sink(g_variant_builder_end(&b));
        line = sk_cli_render_json_line(all);
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
sk_mon_name(GDBusProxy *domain)
{
    const char *name = sk_dbus_domain_get_name(SK_DBUS_DOMAIN(domain));

    return name && *name ? name : g_dbus_proxy_get_object_path(domain);
}

/* Manager.Event(s kind, a{sv} details) */
static void
sk_mon_on_event(SkDbusManager *manager, const char *kind, GVariant *details, SkMonitor *mon)
{
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) dict = NULL;
    const char *domain = NULL;
    const char *message = NULL;
    g_autofree char *text = NULL;

    g_variant_lookup(details, "domain", "&s", &domain);
    g_variant_lookup(details, "message", "&s", &message);
    text = g_strdup_printf("%s%s%s%s%s", kind, domain ? " " : "", domain ? domain : "",
                           message ? ": " : "", message ? message : "");
    g_variant_builder_add(&b, "{sv}", "kind", g_variant_new_string(kind));
    g_variant_builder_add(&b, "{sv}", "details", details);
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    sk_mon_emit(mon, "event", text, dict);
}

static void
sk_mon_on_added(GDBusObjectManager *om, GDBusObject *object, SkMonitor *mon)
{
    g_autoptr(SkDbusDomain) domain = sk_dbus_object_get_domain(SK_DBUS_OBJECT(object));
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) dict = NULL;
    g_autofree char *text = NULL;

    if (!domain)
        return;
    text = g_strdup_printf("domain-added %s: %s, %s, %s", sk_mon_name(G_DBUS_PROXY(domain)),
                           sk_dbus_domain_get_state(domain), sk_dbus_domain_get_machine(domain),
                           sk_dbus_domain_get_managed(domain) ? "managed" : "not managed");
    g_variant_builder_add(&b, "{sv}", "path",
                          g_variant_new_string(g_dbus_object_get_object_path(object)));
    g_variant_builder_add(&b, "{sv}", "domain",
                          g_variant_new_string(sk_mon_name(G_DBUS_PROXY(domain))));
    g_variant_builder_add(&b, "{sv}", "properties", sk_cli_bus_properties(G_DBUS_PROXY(domain)));
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    sk_mon_emit(mon, "domain-added", text, dict);
}

static void
sk_mon_on_removed(GDBusObjectManager *om, GDBusObject *object, SkMonitor *mon)
{
    g_autoptr(SkDbusDomain) domain = sk_dbus_object_get_domain(SK_DBUS_OBJECT(object));
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) dict = NULL;
    g_autofree char *text = NULL;
    const char *name;

    if (!domain)
        return;
    name = sk_mon_name(G_DBUS_PROXY(domain));
    text = g_strdup_printf("domain-removed %s", name);
    g_variant_builder_add(&b, "{sv}", "path",
                          g_variant_new_string(g_dbus_object_get_object_path(object)));
    g_variant_builder_add(&b, "{sv}", "domain", g_variant_new_string(name));
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    sk_mon_emit(mon, "domain-removed", text, dict);
}

/* PropertiesChanged of a domain (@object non-NULL) or of the Manager. */
static void
sk_mon_changed(SkMonitor *mon, GDBusProxy *proxy, gboolean domain, GVariant *changed,
               const char *const *invalidated)
{
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) dict = NULL;
    g_autoptr(GString) text = g_string_new(NULL);
    GVariantIter iter;
    const char *key;
    GVariant *value;

    g_string_append_printf(text, "changed %s:", domain ? sk_mon_name(proxy) : "service");
    g_variant_iter_init(&iter, changed);
    for (guint n = 0; g_variant_iter_next(&iter, "{&sv}", &key, &value); n++) {
        g_autofree char *shown = sk_cli_value_text(value);

        g_string_append_printf(text, "%s %s %s", n ? ";" : "", key, shown);
        g_variant_unref(value);
    }
    for (guint i = 0; invalidated && invalidated[i]; i++)
        g_string_append_printf(text, " %s (changed)", invalidated[i]);
    g_variant_builder_add(&b, "{sv}", "path",
                          g_variant_new_string(g_dbus_proxy_get_object_path(proxy)));
    if (domain)
        g_variant_builder_add(&b, "{sv}", "domain", g_variant_new_string(sk_mon_name(proxy)));
    g_variant_builder_add(&b, "{sv}", "interface",
                          g_variant_new_string(g_dbus_proxy_get_interface_name(proxy)));
    g_variant_builder_add(&b, "{sv}", "changed", changed);
    g_variant_builder_add(
        &b, "{sv}", "invalidated",
        g_variant_new_strv(invalidated ? invalidated : (const char *[]){ NULL }, -1));
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    sk_mon_emit(mon, "properties-changed", text->str, dict);
}

static void
sk_mon_on_domain_changed(GDBusObjectManagerClient *om, GDBusObjectProxy *object, GDBusProxy *proxy,
                         GVariant *changed, const char *const *invalidated, SkMonitor *mon)
{
    if (SK_DBUS_IS_DOMAIN(proxy))
        sk_mon_changed(mon, proxy, TRUE, changed, invalidated);
}

static void
sk_mon_on_manager_changed(GDBusProxy *proxy, GVariant *changed, const char *const *invalidated,
                          SkMonitor *mon)
{
    sk_mon_changed(mon, proxy, FALSE, changed, invalidated);
}

/* The service going away (a crash, a restart) or coming back. */
static void
sk_mon_on_owner(GObject *om, GParamSpec *pspec, SkMonitor *mon)
{
    g_autofree char *owner =
        g_dbus_object_manager_client_get_name_owner(G_DBUS_OBJECT_MANAGER_CLIENT(om));
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) dict = NULL;
    g_autofree char *text = NULL;

    g_variant_builder_add(&b, "{sv}", "owner", g_variant_new_string(owner ? owner : ""));
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    if (!owner) {
        sk_mon_emit(mon, "service-stopped", "service-stopped: slotkeeperd left the bus", dict);
        return;
    }
    text = g_strdup_printf("service-started: slotkeeperd is %s", owner);
    sk_mon_emit(mon, "service-started", text, dict);
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
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_autoptr(GError) local = NULL;
    SkMonitor mon = { 0 };
    guint sigint = 0;
    guint sigterm = 0;
    gboolean ok = FALSE;

    if (!sk_cli_args_parse(
            &args, ctx, globals, "Stream slot and domain events.",
            "Prints, one line each until Ctrl+C: the service's decisions (reconciled,\n"
            "attached, detached, refused, policy-changed), domains defined and undefined,\n"
            "their changed properties (state, free hotplug slots, ...), and slotkeeperd\n"
            "leaving or joining the bus. --json prints one JSON object per line.\n"
            "Needs slotkeeperd: on the system bus by default, on the session bus with --user\n"
            "(before the verb: 'slotkeeper --user VERB ...').\n",
            argc, argv, error))
        return FALSE;
    if (sk_cli_args_n_rest(&args) > 0)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args.rest[0]);
    mon.json = args.g.json;
    if (!sk_cli_bus_open(&mon.bus, &args.g, "monitor", NULL, error)) {
        sk_cli_bus_clear(&mon.bus);
        return FALSE;
    }
    mon.om = sk_dbus_object_manager_client_new_sync(
        mon.bus.conn, G_DBUS_OBJECT_MANAGER_CLIENT_FLAGS_NONE, SK_WIRE_BUS_NAME,
        SK_WIRE_MANAGER_PATH, NULL, &local);
    if (!mon.om) {
        sk_cli_bus_fail(&mon.bus, g_steal_pointer(&local), error);
        sk_cli_bus_clear(&mon.bus);
        return FALSE;
    }
    mon.loop = g_main_loop_new(NULL, FALSE);
    g_signal_connect(mon.bus.manager, "event", G_CALLBACK(sk_mon_on_event), &mon);
    g_signal_connect(mon.bus.manager, "g-properties-changed", G_CALLBACK(sk_mon_on_manager_changed),
                     &mon);
    g_signal_connect(mon.om, "object-added", G_CALLBACK(sk_mon_on_added), &mon);
    g_signal_connect(mon.om, "object-removed", G_CALLBACK(sk_mon_on_removed), &mon);
    g_signal_connect(mon.om, "interface-proxy-properties-changed",
                     G_CALLBACK(sk_mon_on_domain_changed), &mon);
    g_signal_connect(mon.om, "notify::name-owner", G_CALLBACK(sk_mon_on_owner), &mon);
    sigint = g_unix_signal_add(SIGINT, sk_mon_on_signal, mon.loop);
    sigterm = g_unix_signal_add(SIGTERM, sk_mon_on_signal, mon.loop);
    g_main_loop_run(mon.loop);
    g_source_remove(sigint);
    g_source_remove(sigterm);
    if (mon.error)
        g_propagate_error(error, g_steal_pointer(&mon.error));
    else
        ok = TRUE;
    g_signal_handlers_disconnect_by_data(mon.bus.manager, &mon);
    g_signal_handlers_disconnect_by_data(mon.om, &mon);
    g_clear_object(&mon.om);
    g_main_loop_unref(mon.loop);
    sk_cli_bus_clear(&mon.bus);
    if (ok)
        *output = g_strdup("");
    return ok;
}
