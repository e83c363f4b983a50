/* slotkeeperd: D-Bus glue shared by the Manager and Domain objects - error replies, option
 * parsing and the GVariant forms of plans and PCI trees. */
#pragma once

#include <gio/gio.h>

#include "sk-domain-ops.h"
#include "sk-metadata.h"
#include "sk-planner.h"
#include "sk-topology.h"

G_BEGIN_DECLS

#define SK_DBUS_NAME "org.slotkeeper.SlotKeeper1"
#define SK_DBUS_PATH "/org/slotkeeper/SlotKeeper1"
#define SK_DBUS_ERROR_PREFIX "org.slotkeeper.SlotKeeper1.Error."

/* Registers SK_ERROR with GDBus so that its codes map to SK_DBUS_ERROR_PREFIX names. */
void sk_dbus_register_errors(void);
/* The one way every method fails: an SK_ERROR name (anything else becomes Failed), never a
 * GLib-internal error name. Thread-safe. */
void sk_dbus_return_error(GDBusMethodInvocation *invocation, const GError *error);
/* The full D-Bus error name for @code. */
char *sk_dbus_error_name(SkErrorCode code);

/* Limits on request arguments (hostile callers). All are refused with
 * SK_ERROR_INVALID_ARGUMENT, before any libvirt call, with the limit and the value in the
 * message. Device XML is also held to sk_xml_device_limits (sk-xml.h) when it is parsed. */
#define SK_DBUS_MAX_OPTIONS 32       /* entries in an options or policy a{sv} */
#define SK_DBUS_MAX_DOMAIN_ARG 1024  /* bytes in a domain name or UUID argument */
#define SK_DBUS_MAX_DEVICE_XML 65536 /* bytes of device XML (= SK_XML_DEVICE_MAX_SIZE) */

/* A domain name/UUID argument: at most SK_DBUS_MAX_DOMAIN_ARG bytes, valid UTF-8, no control
 * characters (D-Bus already guarantees UTF-8 without NUL; callers of the C API may not). */
gboolean sk_dbus_check_domain_arg(const char *domain, GError **error);
/* Device XML argument: at most SK_DBUS_MAX_DEVICE_XML bytes, checked before it is queued. */
gboolean sk_dbus_check_device_xml(const char *xml, GError **error);

/* Parses options (live b, config b, hotplug-require s yes|no, inactive b,
 * auth.no_user_interaction b); at most SK_DBUS_MAX_OPTIONS entries, unknown keys refused.
 * Errors: SK_ERROR_INVALID_ARGUMENT. */
gboolean sk_dbus_parse_options(GVariant *options, SkOpOptions *opts, GError **error);
/* Parses SetPolicy's dictionary (spare-ports u, legacy-bridge s, managed b) into @changes; at
 * most SK_DBUS_MAX_OPTIONS entries. */
gboolean sk_dbus_parse_policy(GVariant *policy, SkMetadata *changes, GError **error);

/* Plan's a{sv}: ok, address, effect, controllers, reasons, device, and on refusal error,
 * message, remedy. */
GVariant *sk_dbus_plan_to_variant(const SkPlan *plan, const SkDevice *dev);
/* GetSlots' aa{sv}: one dictionary per bus. */
GVariant *sk_dbus_topology_to_variant(const SkTopology *topo);
/* {"pcie": pcie, "pci": pci} */
GVariant *sk_dbus_free_slots_to_variant(guint pcie, guint pci);
/* /org/slotkeeper/SlotKeeper1/domain/_<uuid with '-' as '_'> */
char *sk_dbus_domain_path(const char *uuid);

G_END_DECLS
