/* slotkeeper CLI: plan, reserve and slots - the options, then the offline or the online form. */
#include "sk-cli-dual.h"

#include "sk-cli-offline.h"
#include "sk-cli-online.h"
#include "sk-policy.h"

static void
sk_cli_add_domain_xml_entry(GOptionContext *ctx, SkCliArgs *args)
{
    const GOptionEntry entries[] = {
        { "domain-xml", 0, 0, G_OPTION_ARG_FILENAME, &args->domain_xml,
          "Domain XML from 'virsh dumpxml [--inactive] DOMAIN' (offline)", "FILE" },
        G_OPTION_ENTRY_NULL,
    };

    g_option_context_add_main_entries(ctx, entries, NULL);
}

static void
sk_cli_add_policy_entries(GOptionContext *ctx, SkCliArgs *args)
{
    const GOptionEntry entries[] = {
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &args->spare_ports,
          "Spare hotplug root ports to keep (0-" G_STRINGIFY(
              SK_POLICY_SPARE_PORTS_MAX) ", "
                                         "default " G_STRINGIFY(SK_POLICY_SPARE_PORTS_DEFAULT) ")",
          "N" },
        { "legacy-bridge", 0, 0, G_OPTION_ARG_STRING, &args->legacy_bridge,
          "When to add a pcie-to-pci-bridge (default lazy)", "lazy|eager|never" },
        { "root-port-cap", 0, 0, G_OPTION_ARG_INT, &args->root_port_cap,
          /* clang-format off */
          "Root port limit; 0: " G_STRINGIFY(SK_POLICY_ROOT_PORT_CAP_X86) " on x86_64, "
          G_STRINGIFY(SK_POLICY_ROOT_PORT_CAP_DEFAULT) " elsewhere",
          /* clang-format on */
          "N" },
        G_OPTION_ENTRY_NULL,
    };

    g_option_context_add_main_entries(ctx, entries, NULL);
}

/* plan DOMAIN DEVICE.xml: slotkeeperd knows the live and persistent definitions. */
static gboolean
sk_cli_plan_online(const SkCliArgs *args, char **output, GError **error)
{
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
    if (!sk_cli_check_domain_device("plan", args->rest, error))
        return FALSE;
    return sk_cli_online_plan(args, output, error);
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
        { "print-xml", 0, 0, G_OPTION_ARG_NONE, &args.print_xml,
          "Print the new persistent domain XML (offline)", NULL },
        { "print-device-xml", 0, 0, G_OPTION_ARG_NONE, &args.print_device_xml,
          "Print the addressed device XML (offline)", NULL },
        G_OPTION_ENTRY_NULL,
    };

    sk_cli_add_domain_xml_entry(ctx, &args);
    g_option_context_add_main_entries(ctx, entries, NULL);
    sk_cli_add_affect_entries(ctx, &args, TRUE);
    sk_cli_add_policy_entries(ctx, &args);
    if (!sk_cli_args_parse(
            &args, ctx, globals, "Plan attaching a device to a domain.",
            "Shows where 'virsh attach-device' should put DEVICE.xml, which controllers the\n"
            "persistent definition needs, and when the device takes effect. Changes nothing.\n"
            "With DOMAIN (a name or UUID), asks slotkeeperd, which reads the domain's live and\n"
            "persistent definitions and policy; with --domain-xml, works offline on files.\n"
            "A refused plan exits 1; with --json its dictionary (ok false, error, message,\n"
            "remedy) is printed all the same.\n"
            "\n"
            "  slotkeeper plan vm nic.xml --live --config\n"
            "  virsh dumpxml --inactive vm > vm.xml\n"
            "  slotkeeper plan --domain-xml vm.xml --config nic.xml\n",
            argc, argv, error))
        return FALSE;
    if (!args.domain_xml) {
        if (sk_cli_args_n_rest(&args) > 0)
            return sk_cli_plan_online(&args, output, error);
        return sk_cli_usage_error(error, "DOMAIN (or --domain-xml FILE) and DEVICE.xml are "
                                         "required");
    }
    return sk_cli_offline_plan(&args, output, error);
}

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

    sk_cli_add_domain_xml_entry(ctx, &args);
    g_option_context_add_main_entries(ctx, entries, NULL);
    sk_cli_add_policy_entries(ctx, &args);
    if (!sk_cli_args_parse(
            &args, ctx, globals, "Plan spare hotplug ports for a domain, offline.",
            "Lists the controllers the persistent definition needs so that the policy's spare\n"
            "hotplug ports (and, with --legacy-bridge eager, a pcie-to-pci-bridge) are ready\n"
            "after the next cold boot. Nothing existing moves.\n"
            "\n"
            "  virsh dumpxml --inactive vm > vm.xml\n"
            "  slotkeeper reserve --domain-xml vm.xml --print-xml > new.xml\n"
            "  virsh define new.xml\n",
            argc, argv, error))
        return FALSE;
    return sk_cli_offline_reserve(&args, output, error);
}

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

    sk_cli_add_domain_xml_entry(ctx, &args);
    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!sk_cli_args_parse(
            &args, ctx, globals, "Show a domain's PCI slots.",
            "Prints every PCI controller of the domain, what occupies each slot, which slots\n"
            "are free and which take hotplug. Runs of free slots are shown as one line.\n"
            "With DOMAIN (a name or UUID), asks slotkeeperd; with --domain-xml, works offline.\n"
            "Both print the same for the same definition.\n"
            "\n"
            "  slotkeeper slots vm --inactive\n"
            "  virsh dumpxml vm > vm-live.xml\n"
            "  slotkeeper slots --domain-xml vm-live.xml\n",
            argc, argv, error))
        return FALSE;
    if (args.domain_xml)
        return sk_cli_offline_slots(&args, output, error);
    if (sk_cli_args_n_rest(&args) == 0)
        return sk_cli_usage_error(error, "DOMAIN (or --domain-xml FILE) is required");
    if (sk_cli_args_n_rest(&args) > 1)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args.rest[1]);
    return sk_cli_online_slots(&args, output, error);
}
