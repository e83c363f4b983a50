/* slotkeeperd: D-Bus arguments into requests. */
#include "sk-dbus-args.h"

#include <string.h>

#include "sk-error.h"
#include "sk-policy.h"
#include "sk-xml.h"

static gboolean
sk_dbus_args_type(const char *key, GVariant *value, const GVariantType *type, GError **error)
{
    g_autofree char *shown = NULL;
    g_autofree char *actual = NULL;

    if (g_variant_is_of_type(value, type))
        return TRUE;
    shown = sk_xml_excerpt(key, 64);
    actual = sk_xml_excerpt(g_variant_get_type_string(value), 64);
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "option '%s' must have type '%.*s', not '%s'", shown,
                (int)g_variant_type_get_string_length(type), g_variant_type_peek_string(type),
                actual);
    return FALSE;
}

gboolean
sk_dbus_args_check_domain(const char *domain, GError **error)
{
    gsize len = strlen(domain);
    const char *end = NULL;

    if (len > SK_DBUS_MAX_DOMAIN_ARG) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "domain name or UUID is too long: %" G_GSIZE_FORMAT " bytes (limit %d)", len,
                    SK_DBUS_MAX_DOMAIN_ARG);
        return FALSE;
    }
    if (!g_utf8_validate(domain, (gssize)len, &end)) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "domain name or UUID is not valid UTF-8 (at byte %d)", (int)(end - domain));
        return FALSE;
    }
    for (const char *p = domain; *p != '\0'; p++) {
        if (g_ascii_iscntrl(*p)) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                        "domain name or UUID contains control character 0x%02x (at byte %d)",
                        (guint)(guchar)*p, (int)(p - domain));
            return FALSE;
        }
    }
    return TRUE;
}

gboolean
sk_dbus_args_check_device_xml(const char *xml, GError **error)
{
    gsize len = strlen(xml);

    if (len > SK_XML_DEVICE_MAX_SIZE) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "device XML is too large: %" G_GSIZE_FORMAT " bytes (limit %d)", len,
                    SK_XML_DEVICE_MAX_SIZE);
        return FALSE;
    }
    for (const char *p = xml; *p; p++) {
        if (!g_ascii_isspace(*p))
            return TRUE;
    }
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_XML, "the device XML is empty");
    return FALSE;
}

static gboolean
sk_dbus_args_check_size(GVariant *dict, const char *what, GError **error)
{
    gsize n = g_variant_n_children(dict);

    if (n > SK_DBUS_MAX_OPTIONS) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "too many %s: %" G_GSIZE_FORMAT " entries (limit %d)", what, n,
                    SK_DBUS_MAX_OPTIONS);
        return FALSE;
    }
    return TRUE;
}

static gboolean
sk_dbus_args_option(const char *key, GVariant *value, SkOpOptions *opts, gboolean *interactive,
                    GError **error)
{
    gboolean *target = NULL;
    const char *str;
    g_autofree char *shown = NULL;

    if (g_str_equal(key, "live"))
        target = &opts->live;
    else if (g_str_equal(key, "config"))
        target = &opts->config;
    else if (g_str_equal(key, "inactive"))
        target = &opts->inactive;
    if (target || g_str_equal(key, "auth.no_user_interaction")) {
        if (!sk_dbus_args_type(key, value, G_VARIANT_TYPE_BOOLEAN, error))
            return FALSE;
        if (target)
            *target = g_variant_get_boolean(value);
        else
            *interactive = !g_variant_get_boolean(value);
        return TRUE;
    }
    if (g_str_equal(key, "hotplug-require")) {
        if (!sk_dbus_args_type(key, value, G_VARIANT_TYPE_STRING, error))
            return FALSE;
        str = g_variant_get_string(value, NULL);
        if (!g_str_equal(str, "yes") && !g_str_equal(str, "no")) {
            shown = sk_xml_excerpt(str, 64);
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                        "option 'hotplug-require' must be 'yes' or 'no', not '%s'", shown);
            return FALSE;
        }
        opts->has_hotplug_require = TRUE;
        opts->hotplug_require = g_str_equal(str, "yes");
        return TRUE;
    }
    shown = sk_xml_excerpt(key, 64);
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "unknown option '%s' (known: live, config, hotplug-require, inactive, "
                "auth.no_user_interaction)",
                shown);
    return FALSE;
}

gboolean
sk_dbus_args_parse_options(GVariant *options, SkOpOptions *opts, gboolean *interactive,
                           GError **error)
{
    GVariantIter iter;
    const char *key;
    GVariant *value;

    memset(opts, 0, sizeof(*opts));
    *interactive = TRUE;
    if (!sk_dbus_args_check_size(options, "options", error))
        return FALSE;
    g_variant_iter_init(&iter, options);
    while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
        g_autoptr(GVariant) owned = value;

        if (!sk_dbus_args_option(key, owned, opts, interactive, error))
            return FALSE;
    }
    return TRUE;
}

static gboolean
sk_dbus_args_policy_entry(const char *key, GVariant *value, SkMetadata *changes, GError **error)
{
    g_autofree char *shown = NULL;

    if (g_str_equal(key, "spare-ports")) {
        if (!sk_dbus_args_type(key, value, G_VARIANT_TYPE_UINT32, error) ||
            !sk_policy_check_spare_ports(g_variant_get_uint32(value), error))
            return FALSE;
        changes->has_spare_ports = TRUE;
        changes->spare_ports = g_variant_get_uint32(value);
        return TRUE;
    }
    if (g_str_equal(key, "legacy-bridge")) {
        if (!sk_dbus_args_type(key, value, G_VARIANT_TYPE_STRING, error) ||
            !sk_legacy_bridge_from_string(g_variant_get_string(value, NULL),
                                          &changes->legacy_bridge, error))
            return FALSE;
        changes->has_legacy_bridge = TRUE;
        return TRUE;
    }
    if (g_str_equal(key, "managed")) {
        if (!sk_dbus_args_type(key, value, G_VARIANT_TYPE_BOOLEAN, error))
            return FALSE;
        changes->has_managed = TRUE;
        changes->managed = g_variant_get_boolean(value);
        return TRUE;
    }
    shown = sk_xml_excerpt(key, 64);
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "unknown policy key '%s' (known: spare-ports, legacy-bridge, managed)", shown);
    return FALSE;
}

gboolean
sk_dbus_args_parse_policy(GVariant *policy, SkMetadata *changes, GError **error)
{
    GVariantIter iter;
    const char *key;
    GVariant *value;

    if (!sk_dbus_args_check_size(policy, "policy entries", error))
        return FALSE;
    g_variant_iter_init(&iter, policy);
    while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
        g_autoptr(GVariant) owned = value;

        if (!sk_dbus_args_policy_entry(key, owned, changes, error))
            return FALSE;
    }
    return TRUE;
}
