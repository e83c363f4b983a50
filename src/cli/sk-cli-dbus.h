/* slotkeeper CLI: the D-Bus plumbing shared by the online verbs and monitor. Plain GDBus calls
 * against dbus/org.slotkeeper.SlotKeeper1.xml; nothing here links daemon code. */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

G_BEGIN_DECLS

#define SK_BUS_NAME "org.slotkeeper.SlotKeeper1"
#define SK_MANAGER_PATH "/org/slotkeeper/SlotKeeper1"
#define SK_DOMAIN_PATH_PREFIX "/org/slotkeeper/SlotKeeper1/domain/"
#define SK_MANAGER_IFACE "org.slotkeeper.SlotKeeper1.Manager"
#define SK_DOMAIN_IFACE "org.slotkeeper.SlotKeeper1.Domain"
#define SK_PROPS_IFACE "org.freedesktop.DBus.Properties"
#define SK_OM_IFACE "org.freedesktop.DBus.ObjectManager"

/* Reads answer within D-Bus's usual 25 s; changes wait for libvirt (a live hotplug, a redefine)
 * and perhaps for a polkit password prompt, so they get much longer. */
#define SK_CALL_TIMEOUT_READ -1
#define SK_CALL_TIMEOUT_CHANGE (10 * 60 * 1000)

/* virsh's --live/--config/--current/--persistent and --hotplug-require, as given. */
typedef struct {
    gboolean live;
    gboolean config;
    gboolean current;
    gboolean persistent;
    const char *hotplug_require; /* NULL: the service's default */
} SkCliAffect;

typedef struct {
    GDBusConnection *conn;
    const char *bus; /* "system" or "session", for messages */
    gboolean user;
    GDBusCallFlags flags;
    gboolean no_ask_password;
    GPid agent;    /* pkttyagent, while a change may need a password */
    char *form;    /* what the user ran, "list" or "plan DOMAIN", for messages */
    char *offline; /* the offline form that needs no service, or NULL */
} SkOnBus;

void sk_on_bus_clear(SkOnBus *bus);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkOnBus, sk_on_bus_clear)

/* Connects to the system bus, or the session bus with @user. @form and @offline only word the
 * error when the service is not there. */
gboolean sk_on_bus_open(SkOnBus *bus, gboolean user, gboolean no_ask_password, const char *form,
                        const char *offline, GError **error);

/* One call to slotkeeperd. D-Bus errors come back as one line a person can read: the service's
 * message without the "GDBus.Error:name:" prefix, or that the service is not there. */
GVariant *sk_on_call(SkOnBus *bus, const char *path, const char *iface, const char *method,
                     GVariant *params, const char *reply_type, int timeout, GError **error);
GVariant *sk_on_call_manager(SkOnBus *bus, const char *method, GVariant *params,
                             const char *reply_type, int timeout, GError **error);
/* The a{sv} of all properties of @iface on @path. */
GVariant *sk_on_get_all(SkOnBus *bus, const char *path, const char *iface, GError **error);
/* The Domain properties of @domain (a name or UUID); @path_out gets its object path. */
GVariant *sk_on_domain_props(SkOnBus *bus, const char *domain, char **path_out, GError **error);
/* The options a{sv}: live/config resolved as virsh does (from @affect, may be NULL),
 * hotplug-require, auth.no_user_interaction. */
GVariant *sk_on_options(SkOnBus *bus, const char *domain, const SkCliAffect *affect,
                        GError **error);
/* GetManagedObjects: object path -> a{sv} of the Domain interface, for every domain object. */
GHashTable *sk_on_managed_domains(SkOnBus *bus, GError **error);

/* Reading dictionaries: any integer type, strings (borrowed from @dict), booleans. */
gint64 sk_on_lookup_int(GVariant *dict, const char *key, gint64 fallback);
const char *sk_on_lookup_str(GVariant *dict, const char *key, const char *fallback);
gboolean sk_on_lookup_bool(GVariant *dict, const char *key, gboolean fallback);
/* A value as text: yes/no, plain strings and numbers, "2 pcie, 0 pci" for a{su}. */
char *sk_on_value_text(GVariant *value);
char *sk_on_lookup_text(GVariant *dict, const char *key, const char *fallback);

/* "FreeHotplugSlotsNextBoot" -> "free_hotplug_slots_next_boot", "UUID" -> "uuid". */
char *sk_on_snake(const char *name);
/* An a{sv} as a JSON object; @snake renames D-Bus property names to JSON style. */
JsonNode *sk_on_dict_json(GVariant *dict, gboolean snake);
JsonNode *sk_on_json_object_node(JsonObject *obj);
/* Serialises and frees @node. */
char *sk_on_json_take(JsonNode *node, gboolean pretty);

G_END_DECLS
