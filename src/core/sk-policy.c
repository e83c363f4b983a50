/* slotkeeper: the slot policy and its value ranges. */
#include "sk-policy.h"

#include "sk-error.h"
#include "sk-xml.h"

void
sk_policy_init(SkPolicy *policy)
{
    policy->spare_ports = SK_POLICY_SPARE_PORTS_DEFAULT;
    policy->legacy_bridge = SK_LEGACY_BRIDGE_LAZY;
    policy->root_port_cap = 0;
}

guint
sk_policy_root_port_cap(const SkPolicy *policy, const char *arch)
{
    if (policy != NULL && policy->root_port_cap > 0)
        return MIN(policy->root_port_cap, (guint)SK_POLICY_ROOT_PORT_CAP_MAX);
    if (arch != NULL && (g_str_equal(arch, "x86_64") || g_str_equal(arch, "i686")))
        return SK_POLICY_ROOT_PORT_CAP_X86;
    return SK_POLICY_ROOT_PORT_CAP_DEFAULT;
}

static gboolean
sk_policy_check_range(const char *name, gint64 value, gint64 max, const char *note, GError **error)
{
    if (value >= 0 && value <= max)
        return TRUE;
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "%s must be between 0%s and %" G_GINT64_FORMAT ", not %" G_GINT64_FORMAT, name,
                note, max, value);
    return FALSE;
}

gboolean
sk_policy_check_spare_ports(gint64 value, GError **error)
{
    return sk_policy_check_range("spare-ports", value, SK_POLICY_SPARE_PORTS_MAX, "", error);
}

gboolean
sk_policy_check_root_port_cap(gint64 value, GError **error)
{
    return sk_policy_check_range("root-port-cap", value, SK_POLICY_ROOT_PORT_CAP_MAX,
                                 " (the architecture's default)", error);
}

static const char *const sk_legacy_bridge_names[] = { "lazy", "eager", "never" };

const char *
sk_legacy_bridge_to_string(SkLegacyBridge mode)
{
    if ((guint)mode >= G_N_ELEMENTS(sk_legacy_bridge_names))
        return "lazy";
    return sk_legacy_bridge_names[mode];
}

gboolean
sk_legacy_bridge_from_string(const char *str, SkLegacyBridge *mode, GError **error)
{
    g_autofree char *shown = NULL;

    for (guint i = 0; str != NULL && i < G_N_ELEMENTS(sk_legacy_bridge_names); i++) {
        if (g_str_equal(str, sk_legacy_bridge_names[i])) {
            *mode = (SkLegacyBridge)i;
            return TRUE;
        }
    }
    shown = sk_xml_excerpt(str, 64);
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "legacy-bridge must be lazy, eager or never, not '%s'", shown);
    return FALSE;
}
