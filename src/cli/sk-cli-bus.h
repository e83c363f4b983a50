/* slotkeeper CLI: talking to slotkeeperd through the proxies generated from
 * dbus/org.slotkeeper.SlotKeeper1.xml - opening the bus, activating the service, turning D-Bus
 * errors into one readable line, the options dictionary, the text agent for polkit. */
#pragma once

#include <gio/gio.h>

#include "sk-cli.h"
#include "sk-dbus-generated.h"

G_BEGIN_DECLS

/* Reads answer within D-Bus's usual 25 s; changes wait for libvirt (a live hotplug, a
 * redefine) and perhaps for a polkit password prompt, so they get much longer. */
#define SK_CLI_TIMEOUT_READ -1
#define SK_CLI_TIMEOUT_CHANGE (10 * 60 * 1000)

typedef struct {
    GDBusConnection *conn;
    const char *bus; /* "system" or "session", for messages */
    gboolean user;
    gboolean no_ask_password;
    GDBusCallFlags flags;
    GPid agent;    /* pkttyagent, while a change may need a password */
    char *form;    /* what the user ran, "list" or "plan DOMAIN", for messages */
    char *offline; /* the offline form that needs no service, or NULL */
    SkDbusManager *manager;
} SkCliBus;

void sk_cli_bus_clear(SkCliBus *bus);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkCliBus, sk_cli_bus_clear)

/* Connects to the system bus (the session bus with --user) and to the Manager, starting the
 * service by D-Bus activation when it is not running. @form and @offline word the error when
 * the service is not there. */
gboolean sk_cli_bus_open(SkCliBus *bus, const SkCliGlobals *g, const char *form,
                         const char *offline, GError **error);

/* Before a change: a text agent for polkit when run from a terminal (as systemctl does). */
void sk_cli_bus_prepare_change(SkCliBus *bus);

/* Turns @error (taken) from a call into the CLI's error: SK_ERROR codes with the service's
 * message on one line, or that the service is not there. Returns FALSE. */
gboolean sk_cli_bus_fail(SkCliBus *bus, GError *error, GError **out);

/* The a{sv} of @proxy's cached properties (D-Bus property names). */
GVariant *sk_cli_bus_properties(GDBusProxy *proxy);
/* One domain's properties (a{sv}, D-Bus property names) by name or UUID. */
GVariant *sk_cli_bus_domain(SkCliBus *bus, const char *domain, GError **error);
/* Every domain object's properties, plus ObjectPath, sorted by name. */
GPtrArray *sk_cli_bus_domains(SkCliBus *bus, GError **error);

/* The options a{sv}: live/config resolved as virsh does (from @affect, may be NULL),
 * hotplug-require, auth.no_user_interaction. Floating. */
GVariant *sk_cli_bus_options(SkCliBus *bus, const char *domain, const SkCliAffect *affect,
                             GError **error);

G_END_DECLS
