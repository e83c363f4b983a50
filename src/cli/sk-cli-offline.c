/* slotkeeper CLI: the offline verbs. They read domain XML files, run the core planner and hand
 * the wire dictionaries (sk-wire.h) to the renderer, exactly as the online forms hand what
 * slotkeeperd returns. */
#include "sk-cli-offline.h"

#include "sk-cli-render.h"
#include "sk-device.h"
#include "sk-edit.h"
#include "sk-error.h"
#include "sk-host-sysfs.h"
#include "sk-planner.h"
#include "sk-topology.h"
#include "sk-wire.h"
#include "sk-xml.h"

/* Applies --spare-ports, --legacy-bridge and --root-port-cap over @policy's defaults, with the
 * same ranges and words as the service. */
static gboolean
sk_cli_apply_policy(const SkCliArgs *args, SkPolicy *policy, GError **error)
{
    g_autoptr(GError) local = NULL;

    if (args->spare_ports != SK_CLI_UNSET) {
        if (!sk_policy_check_spare_ports(args->spare_ports, &local))
            return sk_cli_usage_error(error, "--%s", local->message);
        policy->spare_ports = (guint)args->spare_ports;
    }
    if (args->root_port_cap != SK_CLI_UNSET) {
        if (!sk_policy_check_root_port_cap(args->root_port_cap, &local))
            return sk_cli_usage_error(error, "--%s", local->message);
        policy->root_port_cap = (guint)args->root_port_cap;
    }
    if (args->legacy_bridge &&
        !sk_legacy_bridge_from_string(args->legacy_bridge, &policy->legacy_bridge, &local))
        return sk_cli_usage_error(error, "--%s", local->message);
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

static gboolean
sk_cli_plan_check_flags(const SkCliArgs *args, GError **error)
{
    SkCliAffect affect = sk_cli_args_affect(args);

    if (!sk_cli_check_affect(&affect, error))
        return FALSE;
    if (args->print_xml && args->print_device_xml)
        return sk_cli_usage_error(error, "--print-xml and --print-device-xml are mutually "
                                         "exclusive");
    if (args->g.json && (args->print_xml || args->print_device_xml))
        return sk_cli_usage_error(error, "--json cannot be combined with --print-xml or "
                                         "--print-device-xml");
    /* Catch what the flags alone rule out before reading any file. */
    if (args->print_xml && args->live && !args->config && !args->persistent)
        return sk_cli_usage_error(error, "--print-xml prints the persistent definition, but "
                                         "--live alone leaves it unchanged; add --config");
    return TRUE;
}

/* virsh semantics: --persistent means --config, plus --live when the domain runs; no flag (or
 * --current) means the live definition of a running domain, else the persistent one. */
static void
sk_cli_plan_targets(const SkCliArgs *args, gboolean file_live, gboolean *live, gboolean *config)
{
    *live = args->live || (args->persistent && file_live);
    *config = args->config || args->persistent;
    if (!*live && !*config) {
        *live = file_live;
        *config = !file_live;
    }
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
                   const SkTopology *config_topo, gboolean live, gboolean config, GError **error)
{
    g_autoptr(GVariant) dict = NULL;

    if (args->print_xml) {
        g_autoptr(xmlDoc) doc =
            sk_edit_apply_plan(sk_topology_get_doc(config_topo), plan, dev, error);

        return doc ? sk_cli_doc_to_output(doc) : NULL;
    }
    if (args->print_device_xml) {
        g_autofree char *xml = sk_edit_device_xml(dev, plan);

        if (g_str_has_suffix(xml, "\n"))
            return g_steal_pointer(&xml);
        return g_strconcat(xml, "\n", NULL);
    }
    dict = g_variant_ref_sink(sk_wire_plan(plan, dev, live, config));
    if (args->g.json)
        return sk_cli_render_json(dict, FALSE);
    return sk_cli_render_plan(dict, &args->g);
}

gboolean
sk_cli_offline_plan(const SkCliArgs *args, char **output, GError **error)
{
    g_autoptr(SkTopology) topo = NULL;
    g_autoptr(SkTopology) config_twin = NULL;
    g_autoptr(SkDevice) dev = NULL;
    g_autoptr(SkPlan) plan = NULL;
    const SkTopology *live_topo = NULL;
    const SkTopology *config_topo = NULL;
    SkMachineInfo mi;
    SkPlanOptions opts;
    gboolean live;
    gboolean config;

    if (sk_cli_args_n_rest(args) != 1)
        return sk_cli_usage_error(error, "%s",
                                  sk_cli_args_n_rest(args) == 0
                                      ? "DEVICE.xml is missing"
                                      : "plan takes exactly one DEVICE.xml");
    if (!sk_cli_plan_check_flags(args, error))
        return FALSE;
    sk_plan_options_init(&opts);
    if (!sk_cli_apply_policy(args, &opts.policy, error))
        return FALSE;
    if (args->hotplug_require)
        opts.hotplug_require = g_str_equal(args->hotplug_require, "yes");

    topo = sk_topology_new_from_file(args->domain_xml, error);
    if (!topo)
        return FALSE;
    sk_cli_plan_targets(args, sk_topology_is_live(topo), &live, &config);
    if (args->print_xml && !config)
        return sk_cli_usage_error(error,
                                  "--print-xml prints the persistent definition, but %s "
                                  "is live XML and the plan affects only the running "
                                  "guest; add --config or --persistent",
                                  args->domain_xml);
    if (args->config_xml && !(live && config))
        return sk_cli_usage_error(error, "--config-xml is only used when both the running "
                                         "guest and the persistent definition are affected "
                                         "(--live --config, or --persistent with live XML)");
    if (live) {
        if (!sk_topology_is_live(topo)) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                        "%s is not a running domain's XML (its <domain> has no id); --live "
                        "needs 'virsh dumpxml DOMAIN' of a running domain",
                        args->domain_xml);
            return FALSE;
        }
        live_topo = topo;
    }
    if (config) {
        if (args->config_xml) {
            config_twin = sk_cli_load_config_twin(args->config_xml, topo, error);
            if (!config_twin)
                return FALSE;
            config_topo = config_twin;
        } else {
            config_topo = topo;
        }
    }
    if (args->print_xml && !sk_cli_check_define_source(
                               config_topo, args->config_xml ? args->config_xml : args->domain_xml,
                               "add --config-xml FILE2 from 'virsh dumpxml --inactive "
                               "DOMAIN'",
                               error))
        return FALSE;

    /* The host this runs on answers for <hostdev>, as it would for the service. */
    mi = *sk_topology_get_machine_info(config_topo ? config_topo : topo);
    mi.host = sk_host_sysfs_get();
    dev = sk_device_new_from_file(args->rest[0], &mi, error);
    if (!dev)
        return FALSE;
    opts.live = live;
    opts.config = config;
    plan = sk_plan_attach(config_topo, live_topo, dev, &opts, error);
    if (!plan)
        return FALSE;
    if (plan->refused) {
        g_autoptr(GVariant) dict = g_variant_ref_sink(sk_wire_plan(plan, dev, live, config));

        if (args->g.json)
            *output = sk_cli_render_json(dict, FALSE);
        sk_cli_render_refusal(dict, error);
        return FALSE;
    }
    *output = sk_cli_plan_output(args, plan, dev, config_topo, live, config, error);
    return *output != NULL;
}

/* ---- reserve ---- */

gboolean
sk_cli_offline_reserve(const SkCliArgs *args, char **output, GError **error)
{
    g_autoptr(SkTopology) topo = NULL;
    g_autoptr(SkPlan) plan = NULL;
    g_autoptr(GVariant) dict = NULL;
    SkPolicy policy;

    if (!args->domain_xml)
        return sk_cli_usage_error(error, "--domain-xml FILE is required");
    if (sk_cli_args_n_rest(args) > 0)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args->rest[0]);
    if (args->g.json && args->print_xml)
        return sk_cli_usage_error(error, "--json cannot be combined with --print-xml");
    sk_policy_init(&policy);
    if (!sk_cli_apply_policy(args, &policy, error))
        return FALSE;

    topo = sk_topology_new_from_file(args->domain_xml, error);
    if (!topo)
        return FALSE;
    if (args->print_xml &&
        !sk_cli_check_define_source(topo, args->domain_xml, "use 'virsh dumpxml --inactive DOMAIN'",
                                    error))
        return FALSE;
    plan = sk_plan_reserve(topo, &policy, error);
    if (!plan || !sk_plan_check(plan, error))
        return FALSE;

    if (args->print_xml) {
        g_autoptr(xmlDoc) doc = sk_edit_apply_plan(sk_topology_get_doc(topo), plan, NULL, error);

        if (!doc)
            return FALSE;
        *output = sk_cli_doc_to_output(doc);
        return TRUE;
    }
    dict = g_variant_ref_sink(sk_wire_reserve(plan, topo));
    *output =
        args->g.json ? sk_cli_render_json(dict, FALSE) : sk_cli_render_reserve(dict, &args->g);
    return TRUE;
}

/* ---- slots ---- */

gboolean
sk_cli_offline_slots(const SkCliArgs *args, char **output, GError **error)
{
    g_autoptr(SkTopology) topo = NULL;
    g_autoptr(GVariant) dict = NULL;

    if (args->inactive)
        return sk_cli_usage_error(error, "--inactive needs a DOMAIN; with --domain-xml, give "
                                         "the output of 'virsh dumpxml --inactive DOMAIN'");
    if (sk_cli_args_n_rest(args) > 0)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args->rest[0]);
    topo = sk_topology_new_from_file(args->domain_xml, error);
    if (!topo)
        return FALSE;
    dict = g_variant_ref_sink(sk_wire_topology(topo));
    *output =
        args->g.json ? sk_cli_render_json(dict, FALSE) : sk_cli_render_topology(dict, &args->g);
    return TRUE;
}
