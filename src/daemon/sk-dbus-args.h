/* slotkeeperd: D-Bus method arguments checked and turned into requests - option and policy
 * dictionaries, domain and device arguments, with the limits a hostile caller meets. Pure
 * GVariant work: no connection, no generated code. */
#pragma once

#include <glib.h>

#include "sk-request.h"

G_BEGIN_DECLS

/* Limits on request arguments. All are refused with SK_ERROR_INVALID_ARGUMENT before any
 * libvirt call, with the limit and the value in the message. Device XML is also held to
 * sk_xml_device_limits (sk-xml.h) when it is parsed. */
#define SK_DBUS_MAX_OPTIONS 32      /* entries in an options or policy a{sv} */
#define SK_DBUS_MAX_DOMAIN_ARG 1024 /* bytes in a domain name or UUID argument */

/* A domain name/UUID argument: at most SK_DBUS_MAX_DOMAIN_ARG bytes, valid UTF-8, no control
 * characters (D-Bus already guarantees UTF-8 without NUL; callers of the C API may not). */
gboolean sk_dbus_args_check_domain(const char *domain, GError **error);
/* Device XML: not blank, at most SK_XML_DEVICE_MAX_SIZE bytes. */
gboolean sk_dbus_args_check_device_xml(const char *xml, GError **error);

/* Options (live b, config b, hotplug-require s yes|no, inactive b, auth.no_user_interaction b)
 * into @opts; @interactive receives whether authentication may ask the user. */
gboolean sk_dbus_args_parse_options(GVariant *options, SkOpOptions *opts, gboolean *interactive,
                                    GError **error);
/* SetPolicy's dictionary (spare-ports u, legacy-bridge s, managed b) into @changes. */
gboolean sk_dbus_args_parse_policy(GVariant *policy, SkMetadata *changes, GError **error);

G_END_DECLS
