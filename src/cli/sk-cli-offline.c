/* slotkeeper CLI: the offline verbs. They read domain XML files (virsh dumpxml), run the core
 * planner and print the result; nothing talks to libvirt. plan and slots with a DOMAIN instead
 * of --domain-xml hand over to their online forms. */
#include "sk-cli-offline.h"

#include <stdarg.h>

#include "sk-cli-online.h"
#include "sk-cli-output.h"
#include "sk-device.h"
#include "sk-edit.h"
#include "sk-error.h"
#include "sk-planner.h"
#include "sk-topology.h"
#include "sk-xml.h"

G_DEFINE_QUARK(sk - cli - error - quark, sk_cli_error)

/* Integer options keep this value when not given, so the policy default stays in force. */
#define SK_CLI_UNSET G_MININT

/* Every option any offline verb takes; each verb registers the entries it understands. */
typedef struct {
    char *domain_xml;
    char *config_xml;
    gboolean live;
    gboolean config;
    gboolean current;
    gboolean persistent;
    char *hotplug_require;
    int spare_ports;
    char *legacy_bridge;
    int root_port_cap;
    gboolean print_xml;
    gboolean print_device_xml;
    SkCliGlobals g; /* --json/--system/--user/--no-ask-password after the verb */
    gboolean inactive;
    char **rest; /* positional arguments */
} SkCliArgs;

static void
sk_cli_args_clear(SkCliArgs *args)
{
    g_clear_pointer(&args->domain_xml, g_free);
    g_clear_pointer(&args->config_xml, g_free);
    g_clear_pointer(&args->hotplug_require, g_free);
    g_clear_pointer(&args->legacy_bridge, g_free);
    g_clear_pointer(&args->rest, g_strfreev);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkCliArgs, sk_cli_args_clear)

#define SK_CLI_ARGS_INIT                                           \
    {                                                              \
        .spare_ports = SK_CLI_UNSET, .root_port_cap = SK_CLI_UNSET \
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

/* Options shared by all offline verbs. --system/--user/--no-ask-password are accepted after
 * the verb too; only the online forms of plan and slots use them. */
static void
sk_cli_add_common_entries(GOptionContext *ctx, SkCliArgs *args)
{
    const GOptionEntry entries[] = {
        { "domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &args->domain_xml,
          "Domain XML from 'virsh dumpxml [--inactive] DOMAIN'", "FILE" },
        { "json", 0, 0, G_OPTION_ARG_NONE, &args->g.json, "Print JSON instead of text", NULL },
        { "system", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &args->g.system, NULL, NULL },
        { "user", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &args->g.user, NULL, NULL },
        { "no-ask-password", 0, G_OPTION_FLAG_HIDDEN, G_OPTION_ARG_NONE, &args->g.no_ask_password,
          NULL, NULL },
        { G_OPTION_REMAINING, 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &args->rest, NULL, NULL },
        G_OPTION_ENTRY_NULL,
    };

    g_option_context_add_main_entries(ctx, entries, NULL);
}

static void
sk_cli_add_policy_entries(GOptionContext *ctx, SkCliArgs *args)
{
    const GOptionEntry entries[] = {
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &args->spare_ports,
          "Spare hotplug root ports to keep (default 4)", "N" },
        { "legacy-bridge", 0, 0, G_OPTION_ARG_STRING, &args->legacy_bridge,
          "When to add a pcie-to-pci-bridge (default lazy)", "lazy|eager|never" },
        { "root-port-cap", 0, 0, G_OPTION_ARG_INT, &args->root_port_cap,
          "Root port limit; 0: 14 on x86_64, 28 on aarch64", "N" },
        G_OPTION_ENTRY_NULL,
    };

    g_option_context_add_main_entries(ctx, entries, NULL);
}

static gboolean
sk_cli_parse(GOptionContext *ctx, const char *summary, int argc, char **argv, GError **error)
{
    g_option_context_set_summary(ctx, summary);
    return g_option_context_parse(ctx, &argc, &argv, error);
}

gboolean
sk_cli_globals_merge(SkCliGlobals *local, const SkCliGlobals *globals, GError **error)
{
    local->json = local->json || globals->json;
    local->system = local->system || globals->system;
    local->user = local->user || globals->user;
    local->no_ask_password = local->no_ask_password || globals->no_ask_password;
    if (local->system && local->user)
        return sk_cli_usage_error(error, "--system and --user are mutually exclusive");
    return TRUE;
}

static guint
sk_cli_n_rest(const SkCliArgs *args)
{
    return args->rest ? g_strv_length(args->rest) : 0;
}

/* plan DOMAIN DEVICE.xml: ask slotkeeperd, which knows the live and persistent definitions. */
static gboolean
sk_cli_plan_online(const SkCliArgs *args, char **output, GError **error)
{
    SkCliGlobals globals = args->g;
    SkCliAffect affect = { args->live, args->config, args->current, args->persistent,
                           args->hotplug_require };
    const char *offline_only = args->config_xml                      ? "--config-xml"
                               : args->print_xml                     ? "--print-xml"
                               : args->print_device_xml              ? "--print-device-xml"
                               : args->spare_ports != SK_CLI_UNSET   ? "--spare-ports"
                               : args->legacy_bridge                 ? "--legacy-bridge"
                               : args->root_port_cap != SK_CLI_UNSET ? "--root-port-cap"
                                                                     : NULL;

    if (offline_only)
        return sk_cli_usage_error(error,
                                  "%s works only offline, with --domain-xml; plan DOMAIN uses "
                                  "the domain's own policy",
                                  offline_only);
    if (sk_cli_n_rest(args) != 2)
        return sk_cli_usage_error(error, "%s",
                                  sk_cli_n_rest(args) < 2 ? "DEVICE.xml is missing"
                                                          : "plan takes DOMAIN and one DEVICE.xml");
    return sk_cli_online_plan(&globals, args->rest[0], args->rest[1], &affect, output, error);
}

/* Applies --spare-ports, --legacy-bridge and --root-port-cap over @policy's defaults. */
static gboolean
sk_cli_apply_policy(const SkCliArgs *args, SkPolicy *policy, GError **error)
{
    if (args->spare_ports != SK_CLI_UNSET) {
        if (args->spare_ports < 0 || args->spare_ports > 255)
            return sk_cli_usage_error(error, "--spare-ports must be between 0 and 255, not %d",
                                      args->spare_ports);
        policy->spare_ports = (guint)args->spare_ports;
    }
    if (args->root_port_cap != SK_CLI_UNSET) {
        if (args->root_port_cap < 0 || args->root_port_cap > 255)
            return sk_cli_usage_error(error,
                                      "--root-port-cap must be between 0 (the architecture's "
                                      "default) and 255, not %d",
                                      args->root_port_cap);
        policy->root_port_cap = (guint)args->root_port_cap;
    }
    if (args->legacy_bridge) {
        g_autoptr(GError) local = NULL;
        if (!sk_legacy_bridge_from_string(args->legacy_bridge, &policy->legacy_bridge, &local))
            return sk_cli_usage_error(error, "%s", local->message);
    }
    return TRUE;
}

static char *
sk_cli_doc_to_output(xmlDoc *doc)
{
    g_autofree char *xml = sk_xml_doc_to_string(doc);

    if (g_str_has_suffix(xml, "\n"))
        return g_steal_pointer(&xml);
    return g_strconcat(xml, "\n", NULL);
}

/* --print-xml output goes to 'virsh define'; built from live XML it would replace the persistent
 * definition with the running state and lose pending --config changes. */
static gboolean
sk_cli_check_define_source(const SkTopology *topo, const char *path, const char *remedy,
                           GError **error)
{
    if (!sk_topology_is_live(topo))
        return TRUE;
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "--print-xml needs the persistent definition, but %s is a running domain's live "
                "XML; %s",
                path, remedy);
    return FALSE;
}

/* ---- plan ---- */

/* Which definitions a plan affects, resolved as virsh resolves its flags. */
typedef struct {
    gboolean live;
    gboolean config;
} SkCliTargets;

static gboolean
sk_cli_plan_check_flags(const SkCliArgs *args, GError **error)
{
    if (args->current && (args->live || args->config || args->persistent))
        return sk_cli_usage_error(error, "--current cannot be combined with --live, --config "
                                         "or --persistent");
    if (args->print_xml && args->print_device_xml)
        return sk_cli_usage_error(error, "--print-xml and --print-device-xml are mutually "
                                         "exclusive");
    if (args->g.json && (args->print_xml || args->print_device_xml))
        return sk_cli_usage_error(error, "--json cannot be combined with --print-xml or "
                                         "--print-device-xml");
    if (args->hotplug_require && !g_str_equal(args->hotplug_require, "yes") &&
        !g_str_equal(args->hotplug_require, "no"))
        return sk_cli_usage_error(error, "--hotplug-require takes 'yes' or 'no', not '%s'",
                                  args->hotplug_require);
    return TRUE;
}

/* virsh semantics: --persistent means --config, plus --live when the domain runs; no flag (or
 * --current) means the live definition of a running domain, else the persistent one. */
static SkCliTargets
sk_cli_plan_targets(const SkCliArgs *args, gboolean file_live)
{
    SkCliTargets t = { args->live, args->config || args->persistent };

    if (args->persistent && file_live)
        t.live = TRUE;
    if (!t.live && !t.config) {
        t.live = file_live;
        t.config = !file_live;
    }
    return t;
}

/* Loads the --config-xml file and checks it is the persistent twin of @live_topo. */
static SkTopology *
sk_cli_load_config_twin(const char *path, const SkTopology *live_topo, GError **error)
{
    g_autoptr(SkTopology) topo = sk_topology_new_from_file(path, error);
    const char *uuid_a = sk_topology_get_uuid(live_topo);
    const char *uuid_b = NULL;

    if (!topo)
        return NULL;
    if (sk_topology_is_live(topo)) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "%s is a running domain's live XML, but --config-xml needs the persistent "
                    "definition: use 'virsh dumpxml --inactive DOMAIN'",
                    path);
        return NULL;
    }
    uuid_b = sk_topology_get_uuid(topo);
    if (uuid_a && uuid_b && g_ascii_strcasecmp(uuid_a, uuid_b) != 0) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "%s describes another domain (uuid %s) than the live XML (uuid %s)", path,
                    uuid_b, uuid_a);
        return NULL;
    }
    return g_steal_pointer(&topo);
}

static char *
sk_cli_plan_output(const SkCliArgs *args, const SkPlan *plan, const SkDevice *dev,
                   const SkTopology *config_topo, SkCliTargets t, GError **error)
{
    if (args->print_xml) {
        g_autoptr(xmlDoc) doc =
            sk_edit_apply_plan(sk_topology_get_doc(config_topo), plan, dev, error);
        if (!doc)
            return NULL;
        return sk_cli_doc_to_output(doc);
    }
    if (args->print_device_xml) {
        g_autofree char *xml = sk_device_to_xml(dev, plan->has_address ? &plan->address : NULL);
        if (!xml) {
            g_set_error(error, SK_ERROR, SK_ERROR_FAILED, "cannot serialise the device XML");
            return NULL;
        }
        if (g_str_has_suffix(xml, "\n"))
            return g_steal_pointer(&xml);
        return g_strconcat(xml, "\n", NULL);
    }
    if (args->g.json)
        return sk_cli_plan_to_json(plan, dev);
    return sk_cli_plan_to_text(plan, dev, t.live, t.config);
}

gboolean
sk_cli_verb_plan(const SkCliGlobals *globals, int argc, char **argv, char **output, GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx =
        g_option_context_new("DOMAIN DEVICE.xml | --domain-xml FILE DEVICE.xml");
    const GOptionEntry entries[] = {
        { "config-xml", 0, 0, G_OPTION_ARG_FILENAME, &args.config_xml,
          "Persistent definition, when FILE is the live one (offline)", "FILE2" },
        { "live", 0, 0, G_OPTION_ARG_NONE, &args.live, "Affect the running guest", NULL },
        { "config", 0, 0, G_OPTION_ARG_NONE, &args.config,
          "Affect the persistent definition (next boot)", NULL },
        { "current", 0, 0, G_OPTION_ARG_NONE, &args.current,
          "Running guest if it runs (FILE is live XML), else persistent", NULL },
        { "persistent", 0, 0, G_OPTION_ARG_NONE, &args.persistent,
          "--config, plus --live if it runs (FILE is live XML)", NULL },
        { "hotplug-require", 0, 0, G_OPTION_ARG_STRING, &args.hotplug_require,
          "Device must stay hot-unpluggable (default yes)", "yes|no" },
        { "print-xml", 0, 0, G_OPTION_ARG_NONE, &args.print_xml,
          "Print the new persistent domain XML (offline)", NULL },
        { "print-device-xml", 0, 0, G_OPTION_ARG_NONE, &args.print_device_xml,
          "Print the addressed device XML (offline)", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(SkTopology) topo = NULL;
    g_autoptr(SkTopology) config_twin = NULL;
    g_autoptr(SkDevice) dev = NULL;
    g_autoptr(SkPlan) plan = NULL;
    const SkTopology *live_topo = NULL;
    const SkTopology *config_topo = NULL;
    SkPlanOptions opts;
    SkCliTargets t;

    sk_cli_add_common_entries(ctx, &args);
    g_option_context_add_main_entries(ctx, entries, NULL);
    sk_cli_add_policy_entries(ctx, &args);
    g_option_context_set_description(
        ctx, "Shows where 'virsh attach-device' should put DEVICE.xml, which controllers the\n"
             "persistent definition needs, and when the device takes effect. Changes nothing.\n"
             "With DOMAIN (a name or UUID), asks slotkeeperd, which reads the domain's live and\n"
             "persistent definitions and policy; with --domain-xml, works offline on files.\n"
             "\n"
             "  slotkeeper plan vm nic.xml --live --config\n"
             "  virsh dumpxml --inactive vm > vm.xml\n"
             "  slotkeeper plan --domain-xml vm.xml --config nic.xml\n");
    if (!sk_cli_parse(ctx, "Plan attaching a device to a domain.", argc, argv, error))
        return FALSE;
    if (!sk_cli_globals_merge(&args.g, globals, error))
        return FALSE;

    if (!args.domain_xml) {
        if (sk_cli_n_rest(&args) > 0)
            return sk_cli_plan_online(&args, output, error);
        return sk_cli_usage_error(error, "DOMAIN (or --domain-xml FILE) and DEVICE.xml are "
                                         "required");
    }
    if (sk_cli_n_rest(&args) != 1)
        return sk_cli_usage_error(error, "%s",
                                  sk_cli_n_rest(&args) == 0 ? "DEVICE.xml is missing"
                                                            : "plan takes exactly one DEVICE.xml");
    if (!sk_cli_plan_check_flags(&args, error))
        return FALSE;
    sk_plan_options_init(&opts);
    if (!sk_cli_apply_policy(&args, &opts.policy, error))
        return FALSE;
    if (args.hotplug_require)
        opts.hotplug_require = g_str_equal(args.hotplug_require, "yes");
    /* Catch what the flags alone rule out before reading any file. */
    if (args.print_xml && args.live && !args.config && !args.persistent)
        return sk_cli_usage_error(error, "--print-xml prints the persistent definition, but "
                                         "--live alone leaves it unchanged; add --config");

    topo = sk_topology_new_from_file(args.domain_xml, error);
    if (!topo)
        return FALSE;
    t = sk_cli_plan_targets(&args, sk_topology_is_live(topo));
    if (args.print_xml && !t.config)
        return sk_cli_usage_error(error,
                                  "--print-xml prints the persistent definition, but %s "
                                  "is live XML and the plan affects only the running "
                                  "guest; add --config or --persistent",
                                  args.domain_xml);
    if (args.config_xml && !(t.live && t.config))
        return sk_cli_usage_error(error, "--config-xml is only used when both the running "
                                         "guest and the persistent definition are affected "
                                         "(--live --config, or --persistent with live XML)");
    if (t.live) {
        if (!sk_topology_is_live(topo)) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                        "%s is not a running domain's XML (its <domain> has no id); --live "
                        "needs 'virsh dumpxml DOMAIN' of a running domain",
                        args.domain_xml);
            return FALSE;
        }
        live_topo = topo;
    }
    if (t.config) {
        if (args.config_xml) {
            config_twin = sk_cli_load_config_twin(args.config_xml, topo, error);
            if (!config_twin)
                return FALSE;
            config_topo = config_twin;
        } else {
            config_topo = topo;
        }
    }

    if (args.print_xml && !sk_cli_check_define_source(
                              config_topo, args.config_xml ? args.config_xml : args.domain_xml,
                              "add --config-xml FILE2 from 'virsh dumpxml --inactive "
                              "DOMAIN'",
                              error))
        return FALSE;

    dev = sk_device_new_from_file(
        args.rest[0], sk_topology_get_machine_info(config_topo ? config_topo : topo), error);
    if (!dev)
        return FALSE;
    opts.live = t.live;
    opts.config = t.config;
    plan = sk_plan_attach(config_topo, live_topo, dev, &opts, error);
    if (!plan || !sk_plan_check(plan, error))
        return FALSE;

    *output = sk_cli_plan_output(&args, plan, dev, config_topo, t, error);
    return *output != NULL;
}

/* ---- reserve ---- */

gboolean
sk_cli_verb_reserve(const SkCliGlobals *globals, int argc, char **argv, char **output,
                    GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("--domain-xml FILE");
    const GOptionEntry entries[] = {
        { "print-xml", 0, 0, G_OPTION_ARG_NONE, &args.print_xml,
          "Print the new domain XML (virsh define)", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(SkTopology) topo = NULL;
    g_autoptr(SkPlan) plan = NULL;
    SkPolicy policy;

    sk_cli_add_common_entries(ctx, &args);
    g_option_context_add_main_entries(ctx, entries, NULL);
    sk_cli_add_policy_entries(ctx, &args);
    g_option_context_set_description(
        ctx, "Lists the controllers the persistent definition needs so that the policy's spare\n"
             "hotplug ports (and, with --legacy-bridge eager, a pcie-to-pci-bridge) are ready\n"
             "after the next cold boot. Nothing existing moves.\n"
             "\n"
             "  virsh dumpxml --inactive vm > vm.xml\n"
             "  slotkeeper reserve --domain-xml vm.xml --print-xml > new.xml\n"
             "  virsh define new.xml\n");
    if (!sk_cli_parse(ctx, "Plan spare hotplug ports for a domain, offline.", argc, argv, error))
        return FALSE;
    if (!sk_cli_globals_merge(&args.g, globals, error))
        return FALSE;

    if (!args.domain_xml)
        return sk_cli_usage_error(error, "--domain-xml FILE is required");
    if (sk_cli_n_rest(&args) > 0)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args.rest[0]);
    if (args.g.json && args.print_xml)
        return sk_cli_usage_error(error, "--json cannot be combined with --print-xml");
    sk_policy_init(&policy);
    if (!sk_cli_apply_policy(&args, &policy, error))
        return FALSE;

    topo = sk_topology_new_from_file(args.domain_xml, error);
    if (!topo)
        return FALSE;
    if (args.print_xml &&
        !sk_cli_check_define_source(topo, args.domain_xml, "use 'virsh dumpxml --inactive DOMAIN'",
                                    error))
        return FALSE;
    plan = sk_plan_reserve(topo, &policy, error);
    if (!plan || !sk_plan_check(plan, error))
        return FALSE;

    if (args.print_xml) {
        g_autoptr(xmlDoc) doc = sk_edit_apply_plan(sk_topology_get_doc(topo), plan, NULL, error);
        if (!doc)
            return FALSE;
        *output = sk_cli_doc_to_output(doc);
    } else if (args.g.json) {
        *output = sk_cli_reserve_to_json(plan, topo);
    } else {
        *output = sk_cli_reserve_to_text(plan, topo);
    }
    return TRUE;
}

/* ---- slots ---- */

gboolean
sk_cli_verb_slots(const SkCliGlobals *globals, int argc, char **argv, char **output, GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN | --domain-xml FILE");
    const GOptionEntry entries[] = {
        { "inactive", 0, 0, G_OPTION_ARG_NONE, &args.inactive,
          "With DOMAIN: the persistent definition (next boot), not the running one", NULL },
        G_OPTION_ENTRY_NULL,
    };
    g_autoptr(SkTopology) topo = NULL;

    sk_cli_add_common_entries(ctx, &args);
    g_option_context_add_main_entries(ctx, entries, NULL);
    g_option_context_set_description(
        ctx, "Prints every PCI controller of the domain, what occupies each slot, which slots\n"
             "are free and which take hotplug. Runs of free slots are shown as one line.\n"
             "With DOMAIN (a name or UUID), asks slotkeeperd; with --domain-xml, works offline.\n"
             "\n"
             "  slotkeeper slots vm --inactive\n"
             "  virsh dumpxml vm > vm-live.xml\n"
             "  slotkeeper slots --domain-xml vm-live.xml\n");
    if (!sk_cli_parse(ctx, "Show a domain's PCI slots.", argc, argv, error))
        return FALSE;
    if (!sk_cli_globals_merge(&args.g, globals, error))
        return FALSE;

    if (!args.domain_xml) {
        SkCliGlobals online = args.g;

        if (sk_cli_n_rest(&args) == 0)
            return sk_cli_usage_error(error, "DOMAIN (or --domain-xml FILE) is required");
        if (sk_cli_n_rest(&args) > 1)
            return sk_cli_usage_error(error, "unexpected argument '%s'", args.rest[1]);
        return sk_cli_online_slots(&online, args.rest[0], args.inactive, output, error);
    }
    if (args.inactive)
        return sk_cli_usage_error(error, "--inactive needs a DOMAIN; with --domain-xml, give "
                                         "the output of 'virsh dumpxml --inactive DOMAIN'");
    if (sk_cli_n_rest(&args) > 0)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args.rest[0]);

    topo = sk_topology_new_from_file(args.domain_xml, error);
    if (!topo)
        return FALSE;
    *output = args.g.json ? sk_cli_slots_to_json(topo) : sk_cli_slots_to_text(topo);
    return TRUE;
}
