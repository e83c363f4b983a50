/* slotkeeperd: command line, bus connection and name, signals, systemd notification. The
 * service core (sk-service) and its D-Bus front end (sk-dbus-server) are put together here. */
#include <glib-unix.h>
#include <libvirt-glib/libvirt-glib.h>
#include <libxml/parser.h>
#include <locale.h>
#include <stdio.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "sk-auth.h"
#include "sk-config.h"
#include "sk-dbus-error.h"
#include "sk-dbus-server.h"
#include "sk-fault.h"
#include "sk-host-sysfs.h"
#include "sk-service.h"
#include "sk-wire.h"

typedef struct {
    gboolean system;
    gboolean session;
    char *bus_address;
    char *uri;
    char *config_path;
    gboolean polkit;
    gboolean verbose;
    gboolean version;
} SkArgs;

static void
sk_args_clear(SkArgs *args)
{
    g_clear_pointer(&args->bus_address, g_free);
    g_clear_pointer(&args->uri, g_free);
    g_clear_pointer(&args->config_path, g_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkArgs, sk_args_clear)

static gboolean
sk_parse_args(int *argc, char ***argv, SkArgs *args, GError **error)
{
    const GOptionEntry entries[] = {
        { "system", 0, 0, G_OPTION_ARG_NONE, &args->system,
          "Serve on the system bus (the default; libvirt URI qemu:///system)", NULL },
        { "session", 0, 0, G_OPTION_ARG_NONE, &args->session,
          "Serve on the session bus (libvirt URI qemu:///session)", NULL },
        { "bus-address", 0, 0, G_OPTION_ARG_STRING, &args->bus_address,
          "Serve on the message bus at ADDR", "ADDR" },
        { "connect", 'c', 0, G_OPTION_ARG_STRING, &args->uri, "The libvirt URI to manage", "URI" },
        { "config", 0, 0, G_OPTION_ARG_FILENAME, &args->config_path,
          "Configuration file (default " SK_CONFIG_DEFAULT_PATH ", optional)", "FILE" },
        { "polkit", 0, 0, G_OPTION_ARG_NONE, &args->polkit,
          "Authorize mutating calls with polkit (the default with --system)", NULL },
        { "verbose", 'v', 0, G_OPTION_ARG_NONE, &args->verbose, "Log debug messages", NULL },
        { "version", 0, 0, G_OPTION_ARG_NONE, &args->version, "Print the version and exit", NULL },
        { NULL },
    };
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("- keep hotplug PCI slots ready in libvirt guests");

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!g_option_context_parse(ctx, argc, argv, error))
        return FALSE;
    if (*argc > 1) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED, "unexpected argument '%s'",
                    (*argv)[1]);
        return FALSE;
    }
    if ((args->system ? 1 : 0) + (args->session ? 1 : 0) + (args->bus_address ? 1 : 0) > 1) {
        g_set_error(error, G_OPTION_ERROR, G_OPTION_ERROR_FAILED,
                    "--system, --session and --bus-address exclude each other");
        return FALSE;
    }
    return TRUE;
}

static GDBusConnection *
sk_bus_connect(const SkArgs *args, GError **error)
{
    if (args->bus_address)
        return g_dbus_connection_new_for_address_sync(
            args->bus_address,
            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
            NULL, NULL, error);
    return g_bus_get_sync(args->session ? G_BUS_TYPE_SESSION : G_BUS_TYPE_SYSTEM, NULL, error);
}

static const char *
sk_default_uri(const SkArgs *args)
{
    if (args->session)
        return "qemu:///session";
    /* A private bus (tests) has no convention: root manages the system instance. */
    if (args->bus_address && geteuid() != 0)
        return "qemu:///session";
    return "qemu:///system";
}

/* What main() puts together, for the callbacks. */
typedef struct {
    SkService *service;
    GDBusConnection *bus;
    GMainLoop *loop;
    guint owner_id;
    gboolean name_owned;
    int exit_status;
} SkDaemon;

static void
sk_on_name_acquired(GDBusConnection *bus, const char *name, gpointer data)
{
    SkDaemon *d = data;

    d->name_owned = TRUE;
    g_message("ready: %s on the bus, %s %s", name,
              sk_service_get_connected(d->service) ? "managing" : "not connected to",
              sk_service_get_uri(d->service));
    sd_notifyf(0, "READY=1\nSTATUS=%s %s",
               sk_service_get_connected(d->service) ? "Managing the domains of"
                                                    : "Waiting for libvirt at",
               sk_service_get_uri(d->service));
}

static void
sk_on_name_lost(GDBusConnection *bus, const char *name, gpointer data)
{
    SkDaemon *d = data;

    if (!bus || g_dbus_connection_is_closed(bus))
        g_critical("lost the connection to the message bus: %s can no longer be served", name);
    else if (d->name_owned)
        g_critical("lost the bus name %s to another process", name);
    else
        g_critical("cannot own %s on the bus (is another slotkeeperd running?)", name);
    d->exit_status = 1;
    g_main_loop_quit(d->loop);
}

/* Every domain of the first listing has its properties (or libvirt cannot be reached): only
 * now take the name, so that a call that activated the service gets true answers. */
static void
sk_on_ready(SkService *service, SkDaemon *d)
{
    d->owner_id =
        g_bus_own_name_on_connection(d->bus, SK_WIRE_BUS_NAME, G_BUS_NAME_OWNER_FLAGS_NONE,
                                     sk_on_name_acquired, sk_on_name_lost, d, NULL);
}

static void
sk_on_connected(SkService *service, GParamSpec *pspec, SkDaemon *d)
{
    if (sk_service_get_connected(service))
        sd_notifyf(0, "STATUS=Managing the domains of %s", sk_service_get_uri(service));
    else
        sd_notifyf(0, "STATUS=Waiting for libvirt at %s: %s", sk_service_get_uri(service),
                   sk_service_get_connect_error(service));
}

static gboolean
sk_on_signal(gpointer data)
{
    SkDaemon *d = data;

    g_message("stopping");
    g_main_loop_quit(d->loop);
    return G_SOURCE_CONTINUE;
}

static gboolean
sk_on_watchdog(gpointer data)
{
    sd_notify(0, "WATCHDOG=1");
    return G_SOURCE_CONTINUE;
}

static void
sk_on_bus_closed(GDBusConnection *bus, gboolean remote_peer_vanished, GError *error, gpointer data)
{
    SkDaemon *d = data;

    g_critical("the message bus connection closed%s%s", error ? ": " : "",
               error ? error->message : "");
    d->exit_status = 1;
    g_main_loop_quit(d->loop);
}

int
main(int argc, char **argv)
{
    g_auto(SkArgs) args = { 0 };
    g_autoptr(GError) error = NULL;
    g_autoptr(GDBusConnection) bus = NULL;
    g_autoptr(GMainLoop) loop = NULL;
    g_autoptr(SkService) service = NULL;
    g_autoptr(SkAuth) auth = NULL;
    SkDbusServer *server;
    SkDaemon d = { 0 };
    SkConfig config;
    uint64_t watchdog_usec = 0;

    setlocale(LC_ALL, "");
    /* GLib logs messages to stdout: keep them in order with stderr when it is a file or pipe. */
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (!sk_parse_args(&argc, &argv, &args, &error)) {
        g_printerr("slotkeeperd: %s\n", error->message);
        return 2;
    }
    if (args.version) {
        g_print("slotkeeperd %s\n", SK_VERSION);
        return 0;
    }
    /* Our own debug messages only: libvirt-glib's event-loop tracing would drown them. */
    if (args.verbose)
        g_setenv("G_MESSAGES_DEBUG", G_LOG_DOMAIN, TRUE);

    sk_config_init(&config);
    if (!sk_config_load(&config, args.config_path ? args.config_path : SK_CONFIG_DEFAULT_PATH,
                        args.config_path == NULL, &error)) {
        g_printerr("slotkeeperd: %s\n", error->message);
        return 2;
    }

    /* Accepted, as a default for every architecture, but said: x86_64 guests keep fewer. */
    if (config.policy.spare_ports > sk_policy_root_port_cap(&config.policy, "x86_64"))
        g_warning("%s: spare-ports=%u is more than the %u root ports an x86_64 guest may have "
                  "(root-port-cap): such guests keep at most %u spares, and their SparePorts "
                  "property says so",
                  args.config_path ? args.config_path : SK_CONFIG_DEFAULT_PATH,
                  config.policy.spare_ports, sk_policy_root_port_cap(&config.policy, "x86_64"),
                  sk_policy_root_port_cap(&config.policy, "x86_64"));

    /* libxml2 wants its globals set up on the main thread before workers parse XML. */
    xmlInitParser();
    /* libvirt's events on the GLib main loop: register before the first connection. */
    gvir_init(&argc, &argv);
    gvir_event_register();
    sk_wire_register_dbus_errors();
    sk_fault_init();

    bus = sk_bus_connect(&args, &error);
    if (!bus) {
        g_printerr("slotkeeperd: cannot connect to the message bus: %s\n", error->message);
        return 1;
    }
    g_dbus_connection_set_exit_on_close(bus, FALSE);

    loop = g_main_loop_new(NULL, FALSE);
    service =
        sk_service_new(&config, args.uri ? args.uri : sk_default_uri(&args), sk_host_sysfs_get());
    /* The system bus has callers of every uid: polkit decides. A session bus (or a private
     * bus, unless --polkit) serves its own user only. */
    auth = sk_auth_new(args.polkit || (!args.session && !args.bus_address),
                       config.auth_timeout_seconds);
    d.service = service;
    d.bus = bus;
    d.loop = loop;
    server = sk_dbus_server_new(service, auth, bus, SK_VERSION);
    g_signal_connect(bus, "closed", G_CALLBACK(sk_on_bus_closed), &d);
    g_signal_connect(service, "ready", G_CALLBACK(sk_on_ready), &d);
    g_signal_connect(service, "notify::connected", G_CALLBACK(sk_on_connected), &d);
    g_unix_signal_add(SIGINT, sk_on_signal, &d);
    g_unix_signal_add(SIGTERM, sk_on_signal, &d);
    if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec >= 2000)
        g_timeout_add((guint)(watchdog_usec / 2000), sk_on_watchdog, NULL);

    g_message("slotkeeperd %s starting: libvirt %s, %u workers, spare-ports %u, legacy-bridge "
              "%s",
              SK_VERSION, sk_service_get_uri(service), config.workers, config.policy.spare_ports,
              sk_legacy_bridge_to_string(config.policy.legacy_bridge));
    sd_notifyf(0, "STATUS=Connecting to libvirt at %s", sk_service_get_uri(service));
    sk_service_start(service);
    g_main_loop_run(loop);

    sd_notify(0, "STOPPING=1");
    if (d.owner_id)
        g_bus_unown_name(d.owner_id);
    sk_dbus_server_free(server);
    g_signal_handlers_disconnect_by_data(service, &d);
    sk_service_stop(service);
    sk_config_clear(&config);
    return d.exit_status;
}
