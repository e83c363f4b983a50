/* slotkeeper CLI: shared pieces. */
#include "sk-cli.h"

#include <stdarg.h>
#include <string.h>

#include "sk-error.h"
#include "sk-xml.h"

GQuark
sk_cli_error_quark(void)
{
    return g_quark_from_static_string("slotkeeper-cli-error-quark");
}

gboolean
sk_cli_usage_error(GError **error, const char *format, ...)
{
    va_list ap;

    va_start(ap, format);
    g_propagate_error(error, g_error_new_valist(SK_CLI_ERROR, SK_CLI_ERROR_USAGE, format, ap));
    va_end(ap);
    return FALSE;
}

gboolean
sk_cli_globals_merge(SkCliGlobals *local, const SkCliGlobals *globals, GError **error)
{
    local->json = local->json || globals->json;
    local->system = local->system || globals->system;
    local->user = local->user || globals->user;
    local->no_ask_password = local->no_ask_password || globals->no_ask_password;
    local->quiet = local->quiet || globals->quiet;
    local->no_legend = local->no_legend || globals->no_legend || local->quiet;
    if (local->system && local->user)
        return sk_cli_usage_error(error, "--system and --user are mutually exclusive");
    return TRUE;
}

void
sk_cli_add_global_entries(GOptionContext *ctx, SkCliGlobals *g)
{
    const GOptionEntry entries[] = {
        { "json", 0, 0, G_OPTION_ARG_NONE, &g->json, "Print JSON instead of text", NULL },
        { "quiet", 'q', 0, G_OPTION_ARG_NONE, &g->quiet, "Print only the data, no notes", NULL },
        { "no-legend", 0, 0, G_OPTION_ARG_NONE, &g->no_legend, "Print tables without headers",
          NULL },
        { "system", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &g->system, NULL, NULL },
        { "user", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &g->user, NULL, NULL },
        { "no-ask-password", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &g->no_ask_password, NULL,
          NULL },
        G_OPTION_ENTRY_NULL,
    };

    g_option_context_add_main_entries(ctx, entries, NULL);
}

void
sk_cli_args_clear(SkCliArgs *args)
{
    g_clear_pointer(&args->domain_xml, g_free);
    g_clear_pointer(&args->config_xml, g_free);
    g_clear_pointer(&args->hotplug_require, g_free);
    g_clear_pointer(&args->legacy_bridge, g_free);
    g_clear_pointer(&args->managed, g_free);
    g_clear_pointer(&args->rest, g_strfreev);
}

SkCliAffect
sk_cli_args_affect(const SkCliArgs *args)
{
    return (SkCliAffect){ args->live, args->config, args->current, args->persistent,
                          args->hotplug_require };
}

gboolean
sk_cli_args_parse(SkCliArgs *args, GOptionContext *ctx, const SkCliGlobals *globals,
                  const char *summary, const char *description, int argc, char **argv,
                  GError **error)
{
    const GOptionEntry rest[] = {
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->rest, NULL, NULL },
        G_OPTION_ENTRY_NULL,
    };

    sk_cli_add_global_entries(ctx, &args->g);
    g_option_context_add_main_entries(ctx, rest, NULL);
    g_option_context_set_summary(ctx, summary);
    if (description)
        g_option_context_set_description(ctx, description);
    if (!g_option_context_parse(ctx, &argc, &argv, error))
        return FALSE;
    return sk_cli_globals_merge(&args->g, globals, error);
}

guint
sk_cli_args_n_rest(const SkCliArgs *args)
{
    return args->rest ? g_strv_length(args->rest) : 0;
}

void
sk_cli_add_affect_entries(GOptionContext *ctx, SkCliArgs *args, gboolean hotplug_require)
{
    const GOptionEntry entries[] = {
        { "live", 0, 0, G_OPTION_ARG_NONE, &args->live, "Affect the running guest", NULL },
        { "config", 0, 0, G_OPTION_ARG_NONE, &args->config,
          "Affect the persistent definition (next boot)", NULL },
        { "current", 0, 0, G_OPTION_ARG_NONE, &args->current,
          "The running guest if it runs, else the persistent definition (default)", NULL },
        { "persistent", 0, 0, G_OPTION_ARG_NONE, &args->persistent,
          "--config, plus --live if the domain runs", NULL },
        /* Last, so that detach-device can leave it out. */
        { "hotplug-require", 0, 0, G_OPTION_ARG_STRING, &args->hotplug_require,
          "Device must stay hot-unpluggable (default yes); no: on pcie-root", "yes|no" },
        G_OPTION_ENTRY_NULL,
    };
    GOptionEntry copy[G_N_ELEMENTS(entries)];

    memcpy(copy, entries, sizeof(entries));
    if (!hotplug_require)
        copy[G_N_ELEMENTS(copy) - 2] = (GOptionEntry)G_OPTION_ENTRY_NULL;
    g_option_context_add_main_entries(ctx, copy, NULL);
}

gboolean
sk_cli_check_yes_no(const char *option, const char *value, GError **error)
{
    if (!value || g_str_equal(value, "yes") || g_str_equal(value, "no"))
        return TRUE;
    return sk_cli_usage_error(error, "%s takes 'yes' or 'no', not '%s'", option, value);
}

gboolean
sk_cli_check_affect(const SkCliAffect *a, GError **error)
{
    if (a->current && (a->live || a->config || a->persistent))
        return sk_cli_usage_error(error, "--current cannot be combined with --live, --config or "
                                         "--persistent");
    return sk_cli_check_yes_no("--hotplug-require", a->hotplug_require, error);
}

static gboolean
sk_cli_is_file(const char *arg)
{
    return g_str_equal(arg, "-") || g_file_test(arg, G_FILE_TEST_IS_REGULAR);
}

gboolean
sk_cli_check_domain_device(const char *verb, char *const *rest, GError **error)
{
    guint n = rest ? g_strv_length((char **)rest) : 0;
    const char *domain = n > 0 ? rest[0] : NULL;
    const char *device = n > 1 ? rest[1] : NULL;

    if (n == 0)
        return sk_cli_usage_error(error, "DOMAIN and DEVICE.xml are missing");
    if (n == 1 && sk_cli_is_file(domain))
        return sk_cli_usage_error(error,
                                  "DOMAIN is missing: the arguments are DOMAIN, then "
                                  "DEVICE.xml ('%s')",
                                  domain);
    if (n == 1)
        return sk_cli_usage_error(error, "DEVICE.xml is missing after DOMAIN '%s'", domain);
    if (n > 2)
        return sk_cli_usage_error(error, "unexpected argument '%s' after DOMAIN and DEVICE.xml",
                                  rest[2]);

    /* "attach-device nic.xml vm": the file first and a name that is no file second. */
    if (sk_cli_is_file(domain) && !sk_cli_is_file(device))
        return sk_cli_usage_error(error,
                                  "the arguments are DOMAIN, then DEVICE.xml: '%s' is a file and "
                                  "'%s' is not; did you mean 'slotkeeper %s %s %s'?",
                                  domain, device, verb, device, domain);
    if (!sk_cli_is_file(device) && g_str_has_suffix(device, ".xml"))
        return sk_cli_usage_error(error, "DEVICE.xml '%s' (after DOMAIN '%s') is not a file",
                                  device, domain);
    return TRUE;
}

char *
sk_cli_read_device(const char *path, GError **error)
{
    const char *label = g_str_equal(path, "-") ? "stdin" : path;
    g_autoptr(GError) local = NULL;
    g_autofree char *text = NULL;
    g_autofree char *what = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    gsize len = 0;

    text = sk_xml_read_bounded(path, label, SK_XML_DEVICE_MAX_SIZE, &len, &local);
    if (!text) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_FAILED, "%s", local->message);
        return NULL;
    }
    if (len > SK_XML_DEVICE_MAX_SIZE) {
        g_set_error(error, SK_CLI_ERROR, SK_CLI_ERROR_FAILED,
                    "the device XML in %s is too large: more than %d bytes", label,
                    SK_XML_DEVICE_MAX_SIZE);
        return NULL;
    }
    /* Malformed XML is reported here, naming the file and the line, as virsh does; the
     * service would only know "the device XML". */
    what = g_strdup_printf("device XML '%s'", label);
    doc = sk_xml_parse_limited(text, len, what, &sk_xml_device_limits, error);
    if (!doc)
        return NULL;
    return g_steal_pointer(&text);
}
