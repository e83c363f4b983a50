/* slotkeeper: service configuration from a GKeyFile. */
#include "sk-config.h"

#include "sk-error.h"

void
sk_config_init(SkConfig *config)
{
    sk_policy_init(&config->policy);
    config->manage_default = TRUE;
    config->workers = 4;
    /* libvirt 9.0 sends no event for attach/detach-device --config: the service watches the
     * files libvirt saves definitions to, and reads every domain again now and then in case a
     * change went unseen. */
    config->rescan_seconds = 300;
    config->detach_timeout_seconds = 5;
    config->auth_timeout_seconds = 120;
    config->watch_dir = NULL;
}

void
sk_config_clear(SkConfig *config)
{
    g_clear_pointer(&config->watch_dir, g_free);
}

static gboolean
sk_config_bad(const char *path, const char *group, const char *key, const char *why, GError **error)
{
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT, "%s: [%s] %s: %s", path, group, key,
                why);
    return FALSE;
}

/* Reads an unsigned integer key in @min..@max into @out when present. */
static gboolean
sk_config_uint(GKeyFile *kf, const char *path, const char *group, const char *key, guint min,
               guint max, guint *out, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *value = g_key_file_get_value(kf, group, key, NULL);
    guint64 parsed = 0;

    if (value == NULL)
        return TRUE;
    g_strstrip(value);
    if (!g_ascii_string_to_unsigned(value, 10, min, max, &parsed, &local))
        return sk_config_bad(path, group, key, local->message, error);
    *out = (guint)parsed;
    return TRUE;
}

/* A [policy] number, held to the same range (and message) as D-Bus, the CLI and metadata. */
static gboolean
sk_config_policy_uint(GKeyFile *kf, const char *path, const char *key,
                      gboolean (*check)(gint64 value, GError **error), guint *out, GError **error)
{
    g_autoptr(GError) local = NULL;
    g_autofree char *value = g_key_file_get_value(kf, "policy", key, NULL);
    gint64 parsed = 0;

    if (value == NULL)
        return TRUE;
    g_strstrip(value);
    if (!g_ascii_string_to_signed(value, 10, G_MININT64, G_MAXINT64, &parsed, &local) ||
        !check(parsed, &local))
        return sk_config_bad(path, "policy", key, local->message, error);
    *out = (guint)parsed;
    return TRUE;
}

static void
sk_config_warn_unknown(GKeyFile *kf, const char *path, const char *group, const char *const *known)
{
    g_auto(GStrv) keys = g_key_file_get_keys(kf, group, NULL, NULL);

    for (guint i = 0; keys != NULL && keys[i] != NULL; i++) {
        if (!g_strv_contains(known, keys[i]))
            g_warning("%s: unknown key '%s' in [%s] ignored", path, keys[i], group);
    }
}

gboolean
sk_config_load(SkConfig *config, const char *path, gboolean optional, GError **error)
{
    static const char *const policy_keys[] = { "spare-ports", "legacy-bridge", "root-port-cap",
                                               "manage", NULL };
    static const char *const service_keys[] = {
        "workers", "rescan-seconds", "detach-timeout-seconds", "auth-timeout-seconds", "watch-dir",
        NULL
    };
    g_autoptr(GKeyFile) kf = g_key_file_new();
    g_autoptr(GError) local = NULL;
    g_autofree char *legacy = NULL;

    if (!g_key_file_load_from_file(kf, path, G_KEY_FILE_NONE, &local)) {
        if (optional && g_error_matches(local, G_FILE_ERROR, G_FILE_ERROR_NOENT))
            return TRUE;
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT, "cannot load %s: %s", path,
                    local->message);
        return FALSE;
    }
    sk_config_warn_unknown(kf, path, "policy", policy_keys);
    sk_config_warn_unknown(kf, path, "service", service_keys);
    if (!sk_config_policy_uint(kf, path, "spare-ports", sk_policy_check_spare_ports,
                               &config->policy.spare_ports, error) ||
        !sk_config_policy_uint(kf, path, "root-port-cap", sk_policy_check_root_port_cap,
                               &config->policy.root_port_cap, error) ||
        !sk_config_uint(kf, path, "service", "workers", 1, 64, &config->workers, error) ||
        !sk_config_uint(kf, path, "service", "rescan-seconds", 0, 86400, &config->rescan_seconds,
                        error) ||
        !sk_config_uint(kf, path, "service", "detach-timeout-seconds", 0, 600,
                        &config->detach_timeout_seconds, error) ||
        !sk_config_uint(kf, path, "service", "auth-timeout-seconds", 1, 3600,
                        &config->auth_timeout_seconds, error))
        return FALSE;
    if (g_key_file_has_key(kf, "service", "watch-dir", NULL)) {
        g_free(config->watch_dir);
        config->watch_dir = g_key_file_get_string(kf, "service", "watch-dir", NULL);
        g_strstrip(config->watch_dir);
    }
    legacy = g_key_file_get_string(kf, "policy", "legacy-bridge", NULL);
    if (legacy != NULL &&
        !sk_legacy_bridge_from_string(g_strstrip(legacy), &config->policy.legacy_bridge, &local))
        return sk_config_bad(path, "policy", "legacy-bridge", local->message, error);
    if (g_key_file_has_key(kf, "policy", "manage", NULL)) {
        gboolean manage = g_key_file_get_boolean(kf, "policy", "manage", &local);

        if (local != NULL)
            return sk_config_bad(path, "policy", "manage", "expected true or false", error);
        config->manage_default = manage;
    }
    return TRUE;
}
