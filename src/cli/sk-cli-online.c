/* slotkeeper CLI: the online verbs. Each one is a few synchronous calls through the generated
 * proxies to slotkeeperd on the system bus (default) or the session bus (--user). */
#include "sk-cli-online.h"

#include <string.h>

#include "sk-cli-bus.h"
#include "sk-cli-render.h"
#include "sk-error.h"
#include "sk-policy.h"
#include "sk-wire.h"

static const char *sk_cli_online_footer =
    "Needs slotkeeperd: on the system bus by default, on the session bus with --user\n"
    "(before the verb: 'slotkeeper --user VERB ...').\n";

static gboolean
sk_cli_online_parse(SkCliArgs *args, GOptionContext *ctx, const SkCliGlobals *globals,
                    const char *summary, const char *description, int argc, char **argv,
                    GError **error)
{
    g_autofree char *desc = description ? g_strconcat(description, "\n", sk_cli_online_footer, NULL)
                                        : g_strdup(sk_cli_online_footer);

    return sk_cli_args_parse(args, ctx, globals, summary, desc, argc, argv, error);
}

static gboolean
sk_cli_check_rest(const SkCliArgs *args, guint min, guint max, const char *what, GError **error)
{
    guint n = sk_cli_args_n_rest(args);

    if (n < min)
        return sk_cli_usage_error(error, "%s %s", what,
                                  min - n == 1 ? "is missing" : "are missing");
    if (n > max)
        return sk_cli_usage_error(error, "unexpected argument '%s'", args->rest[max]);
    return TRUE;
}

/* The Manager's properties say the service cannot reach libvirt: a failure, worded as the
 * service words it. */
static gboolean
sk_cli_check_connected(SkCliBus *bus, GError **error)
{
    const char *why = NULL;

    if (sk_dbus_manager_get_connected(bus->manager))
        return TRUE;
    why = sk_dbus_manager_get_connect_error(bus->manager);
    g_set_error(error, SK_ERROR, SK_ERROR_UNAVAILABLE, "slotkeeperd is not connected to %s: %s",
                sk_dbus_manager_get_uri(bus->manager), why && *why ? why : "no reason given");
    return FALSE;
}

/* ---- list ---- */

gboolean
sk_cli_verb_list(const SkCliGlobals *globals, int argc, char **argv, char **output, GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_auto(SkCliBus) bus = { 0 };
    g_autoptr(GPtrArray) domains = NULL;

    if (!sk_cli_online_parse(&args, ctx, globals, "List the domains slotkeeperd watches.",
                             "Shows each domain's state, machine, whether slotkeeper keeps spares "
                             "for it,\nits spare-port target and free hotplug slots now and after "
                             "the next cold\nboot, and its legacy PCI bridge policy and chain.\n",
                             argc, argv, error) ||
        !sk_cli_check_rest(&args, 0, 0, "", error))
        return FALSE;
    if (!sk_cli_bus_open(&bus, &args.g, "list", NULL, error) ||
        !sk_cli_check_connected(&bus, error))
        return FALSE;
    domains = sk_cli_bus_domains(&bus, error);
    if (!domains)
        return FALSE;
    *output = sk_cli_render_domains(domains, &args.g);
    return TRUE;
}

/* ---- slots ---- */

gboolean
sk_cli_online_slots(const SkCliArgs *args, char **output, GError **error)
{
    g_auto(SkCliBus) bus = { 0 };
    g_autoptr(GError) local = NULL;
    g_autoptr(GVariant) topology = NULL;
    g_auto(GVariantBuilder) opts = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);

    if (!sk_cli_bus_open(&bus, &args->g, "slots DOMAIN", "slots --domain-xml FILE", error))
        return FALSE;
    g_variant_builder_add(&opts, "{sv}", "inactive", g_variant_new_boolean(args->inactive));
    if (!sk_dbus_manager_call_get_topology_sync(
            bus.manager, args->rest[0], g_variant_builder_end(&opts), G_DBUS_CALL_FLAGS_NONE,
            SK_CLI_TIMEOUT_READ, &topology, NULL, &local))
        return sk_cli_bus_fail(&bus, g_steal_pointer(&local), error);
    *output = args->g.json ? sk_cli_render_json(topology, FALSE)
                           : sk_cli_render_topology(topology, &args->g);
    return TRUE;
}

/* ---- plan ---- */

gboolean
sk_cli_online_plan(const SkCliArgs *args, char **output, GError **error)
{
    g_auto(SkCliBus) bus = { 0 };
    g_autoptr(GError) local = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(GVariant) opts = NULL;
    g_autoptr(GVariant) plan = NULL;
    SkCliAffect affect = sk_cli_args_affect(args);
    gboolean ok = FALSE;

    if (!sk_cli_check_affect(&affect, error))
        return FALSE;
    xml = sk_cli_read_device(args->rest[1], error);
    if (!xml)
        return FALSE;
    if (!sk_cli_bus_open(&bus, &args->g, "plan DOMAIN", "plan --domain-xml FILE DEVICE.xml", error))
        return FALSE;
    opts = sk_cli_bus_options(&bus, args->rest[0], &affect, error);
    if (!opts)
        return FALSE;
    if (!sk_dbus_manager_call_plan_sync(bus.manager, args->rest[0], xml, g_steal_pointer(&opts),
                                        G_DBUS_CALL_FLAGS_NONE, SK_CLI_TIMEOUT_READ, &plan, NULL,
                                        &local))
        return sk_cli_bus_fail(&bus, g_steal_pointer(&local), error);
    /* A refusal is a failure, as offline: one line naming the problem and the remedy. */
    if (!g_variant_lookup(plan, "ok", "b", &ok) || !ok) {
        if (args->g.json)
            *output = sk_cli_render_json(plan, FALSE);
        sk_cli_render_refusal(plan, error);
        return FALSE;
    }
    *output = args->g.json ? sk_cli_render_json(plan, FALSE) : sk_cli_render_plan(plan, &args->g);
    return TRUE;
}

/* ---- attach-device, detach-device ---- */

static char *
sk_cli_change_json(const char *domain, const char *address, const char *device_xml)
{
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) dict = NULL;

    g_variant_builder_add(&b, "{sv}", "ok", g_variant_new_boolean(TRUE));
    g_variant_builder_add(&b, "{sv}", "domain", g_variant_new_string(domain));
    if (address)
        g_variant_builder_add(&b, "{sv}", "address", g_variant_new_string(address));
    if (device_xml)
        g_variant_builder_add(&b, "{sv}", "device_xml", g_variant_new_string(device_xml));
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    return sk_cli_render_json(dict, FALSE);
}

static gboolean
sk_cli_device_verb(const SkCliGlobals *globals, gboolean attach, int argc, char **argv,
                   char **output, GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN DEVICE.xml");
    g_auto(SkCliBus) bus = { 0 };
    g_autoptr(GError) local = NULL;
    g_autofree char *xml = NULL;
    g_autofree char *device_xml = NULL;
    g_autofree char *address = NULL;
    g_autoptr(GVariant) opts = NULL;
    const char *verb = attach ? "attach-device" : "detach-device";
    SkCliAffect affect;
    gboolean ok;

    sk_cli_add_affect_entries(ctx, &args, attach);
    if (!sk_cli_online_parse(
            &args, ctx, globals,
            attach ? "Attach a device at a planned address." : "Detach a device.",
            attach ? "Plans a slot that is free and compatible in every definition the flags "
                     "affect,\npasses that explicit <address> to libvirt, then tops the spare "
                     "ports up.\nWhen no slot can exist in the running guest, says what was "
                     "added to the\npersistent definition. DOMAIN is a name or UUID; DEVICE.xml "
                     "'-' reads stdin.\n"
                   : "DEVICE.xml names the device as for 'virsh detach-device'. DOMAIN is a "
                     "name\nor UUID; DEVICE.xml '-' reads stdin.\n",
            argc, argv, error) ||
        !sk_cli_check_domain_device(verb, args.rest, error))
        return FALSE;
    affect = sk_cli_args_affect(&args);
    if (!sk_cli_check_affect(&affect, error))
        return FALSE;
    xml = sk_cli_read_device(args.rest[1], error);
    if (!xml)
        return FALSE;
    if (!sk_cli_bus_open(&bus, &args.g, verb, NULL, error))
        return FALSE;
    opts = sk_cli_bus_options(&bus, args.rest[0], &affect, error);
    if (!opts)
        return FALSE;
    sk_cli_bus_prepare_change(&bus);
    if (attach)
        ok = sk_dbus_manager_call_attach_device_sync(
            bus.manager, args.rest[0], xml, g_steal_pointer(&opts), bus.flags,
            SK_CLI_TIMEOUT_CHANGE, &device_xml, &address, NULL, &local);
    else
        ok = sk_dbus_manager_call_detach_device_sync(bus.manager, args.rest[0], xml,
                                                     g_steal_pointer(&opts), bus.flags,
                                                     SK_CLI_TIMEOUT_CHANGE, NULL, &local);
    if (!ok)
        return sk_cli_bus_fail(&bus, g_steal_pointer(&local), error);
    if (args.g.json)
        *output = sk_cli_change_json(args.rest[0], attach ? address : NULL, device_xml);
    else if (!attach)
        *output = g_strdup_printf("detached the device from %s\n", args.rest[0]);
    else if (*address)
        *output = g_strdup_printf("attached the device to %s at %s\n", args.rest[0], address);
    else
        *output =
            g_strdup_printf("attached the device to %s (it takes no PCI slot)\n", args.rest[0]);
    if (args.g.quiet && !args.g.json) {
        g_free(*output);
        *output = g_strdup("");
    }
    return TRUE;
}

gboolean
sk_cli_verb_attach_device(const SkCliGlobals *globals, int argc, char **argv, char **output,
                          GError **error)
{
    return sk_cli_device_verb(globals, TRUE, argc, argv, output, error);
}

gboolean
sk_cli_verb_detach_device(const SkCliGlobals *globals, int argc, char **argv, char **output,
                          GError **error)
{
    return sk_cli_device_verb(globals, FALSE, argc, argv, output, error);
}

/* ---- policy ---- */

/* The policy in force: @props, with what @set (the SetPolicy dictionary, or NULL) just changed,
 * since the service may publish its new properties only after it has replied. */
static char *
sk_cli_policy_output(GVariant *props, GVariant *set, gboolean json)
{
    const char *name = "?";
    const char *legacy = "?";
    gboolean managed = FALSE;
    guint32 spare_ports = 0;
    g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) dict = NULL;

    g_variant_lookup(props, "Name", "&s", &name);
    g_variant_lookup(props, "Managed", "b", &managed);
    g_variant_lookup(props, "SparePorts", "u", &spare_ports);
    g_variant_lookup(props, "LegacyBridge", "&s", &legacy);
    if (set) {
        g_variant_lookup(set, "managed", "b", &managed);
        g_variant_lookup(set, "spare-ports", "u", &spare_ports);
        g_variant_lookup(set, "legacy-bridge", "&s", &legacy);
    }
    if (!json)
        return g_strdup_printf("domain:        %s\n"
                               "managed:       %s\n"
                               "spare-ports:   %u\n"
                               "legacy-bridge: %s\n",
                               name, managed ? "yes" : "no", spare_ports, legacy);
    g_variant_builder_add(&b, "{sv}", "domain", g_variant_new_string(name));
    g_variant_builder_add(&b, "{sv}", "managed", g_variant_new_boolean(managed));
    g_variant_builder_add(&b, "{sv}", "spare_ports", g_variant_new_uint32(spare_ports));
    g_variant_builder_add(&b, "{sv}", "legacy_bridge", g_variant_new_string(legacy));
    dict = g_variant_ref_sink(g_variant_builder_end(&b));
    return sk_cli_render_json(dict, FALSE);
}

gboolean
sk_cli_verb_policy(const SkCliGlobals *globals, int argc, char **argv, char **output,
                   GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("DOMAIN");
    g_auto(SkCliBus) bus = { 0 };
    g_autoptr(GError) local = NULL;
    const GOptionEntry entries[] = {
        { "spare-ports", 0, 0, G_OPTION_ARG_INT, &args.spare_ports,
          "Empty hotplug root ports to keep in the persistent definition (0-" G_STRINGIFY(
              SK_POLICY_SPARE_PORTS_MAX) ")",
          "N" },
        { "legacy-bridge", 0, 0, G_OPTION_ARG_STRING, &args.legacy_bridge,
          "When to add the pcie-to-pci-bridge chain", "lazy|eager|never" },
        { "managed", 0, 0, G_OPTION_ARG_STRING, &args.managed,
          "Whether slotkeeper keeps spares for the domain", "yes|no" },
        G_OPTION_ENTRY_NULL,
    };
    g_auto(GVariantBuilder) policy = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
    g_autoptr(GVariant) opts = NULL;
    g_autoptr(GVariant) props = NULL;
    g_autoptr(GVariant) policy_set = NULL;
    SkLegacyBridge mode;
    gboolean set = FALSE;

    g_option_context_add_main_entries(ctx, entries, NULL);
    if (!sk_cli_online_parse(&args, ctx, globals, "Show or change a domain's slot policy.",
                             "Without options, shows the policy in force. The options change it; "
                             "the new\npolicy is kept in the domain's <metadata> and applied at "
                             "once.\n",
                             argc, argv, error) ||
        !sk_cli_check_rest(&args, 1, 1, "DOMAIN", error))
        return FALSE;
    if (args.spare_ports != SK_CLI_UNSET) {
        if (!sk_policy_check_spare_ports(args.spare_ports, &local))
            return sk_cli_usage_error(error, "--%s", local->message);
        g_variant_builder_add(&policy, "{sv}", "spare-ports",
                              g_variant_new_uint32((guint32)args.spare_ports));
        set = TRUE;
    }
    if (args.legacy_bridge) {
        if (!sk_legacy_bridge_from_string(args.legacy_bridge, &mode, &local))
            return sk_cli_usage_error(error, "--%s", local->message);
        g_variant_builder_add(&policy, "{sv}", "legacy-bridge",
                              g_variant_new_string(args.legacy_bridge));
        set = TRUE;
    }
    if (args.managed) {
        if (!sk_cli_check_yes_no("--managed", args.managed, error))
            return FALSE;
        g_variant_builder_add(&policy, "{sv}", "managed",
                              g_variant_new_boolean(g_str_equal(args.managed, "yes")));
        set = TRUE;
    }
    if (!sk_cli_bus_open(&bus, &args.g, "policy", NULL, error))
        return FALSE;
    if (set) {
        policy_set = g_variant_ref_sink(g_variant_builder_end(&policy));
        opts = sk_cli_bus_options(&bus, args.rest[0], NULL, error);
        if (!opts)
            return FALSE;
        sk_cli_bus_prepare_change(&bus);
        if (!sk_dbus_manager_call_set_policy_sync(bus.manager, args.rest[0], policy_set,
                                                  g_steal_pointer(&opts), bus.flags,
                                                  SK_CLI_TIMEOUT_CHANGE, NULL, &local))
            return sk_cli_bus_fail(&bus, g_steal_pointer(&local), error);
    }
    props = sk_cli_bus_domain(&bus, args.rest[0], error);
    if (!props)
        return FALSE;
    *output = sk_cli_policy_output(props, policy_set, args.g.json);
    return TRUE;
}

/* ---- reconcile ---- */

gboolean
sk_cli_verb_reconcile(const SkCliGlobals *globals, int argc, char **argv, char **output,
                      GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("[DOMAIN]");
    g_auto(SkCliBus) bus = { 0 };
    g_autoptr(GError) local = NULL;
    g_autoptr(GVariant) opts = NULL;
    const char *domain = NULL;

    if (!sk_cli_online_parse(&args, ctx, globals, "Top up spare hotplug ports now.",
                             "Brings the persistent definition of DOMAIN (default: every managed "
                             "domain) to\nits policy's spare ports and legacy chain, appending "
                             "controllers only. The\nservice also does this by itself on every "
                             "lifecycle and device event.\n",
                             argc, argv, error) ||
        !sk_cli_check_rest(&args, 0, 1, "", error))
        return FALSE;
    domain = sk_cli_args_n_rest(&args) == 1 ? args.rest[0] : "";
    if (!sk_cli_bus_open(&bus, &args.g, "reconcile", NULL, error))
        return FALSE;
    opts = sk_cli_bus_options(&bus, domain, NULL, error);
    if (!opts)
        return FALSE;
    sk_cli_bus_prepare_change(&bus);
    if (!sk_dbus_manager_call_reconcile_sync(bus.manager, domain, g_steal_pointer(&opts), bus.flags,
                                             SK_CLI_TIMEOUT_CHANGE, NULL, &local))
        return sk_cli_bus_fail(&bus, g_steal_pointer(&local), error);
    if (args.g.json)
        *output = sk_cli_change_json(*domain ? domain : "", NULL, NULL);
    else if (args.g.quiet)
        *output = g_strdup("");
    else if (*domain)
        *output = g_strdup_printf("reconciled %s\n", domain);
    else
        *output = g_strdup("reconciled every managed domain\n");
    return TRUE;
}

/* ---- status ---- */

gboolean
sk_cli_verb_status(const SkCliGlobals *globals, int argc, char **argv, char **output,
                   GError **error)
{
    g_auto(SkCliArgs) args = SK_CLI_ARGS_INIT;
    g_autoptr(GOptionContext) ctx = g_option_context_new("");
    g_auto(SkCliBus) bus = { 0 };
    g_autoptr(GPtrArray) domains = NULL;
    g_autoptr(GVariant) pid_reply = NULL;
    g_autofree char *owner = NULL;
    g_autofree char *pid_text = NULL;
    const char *uri;
    const char *why;
    gboolean connected;
    guint32 pid = 0;
    guint managed = 0;

    if (!sk_cli_online_parse(&args, ctx, globals,
                             "Show the service, its libvirt URI and connection.", NULL, argc, argv,
                             error) ||
        !sk_cli_check_rest(&args, 0, 0, "", error))
        return FALSE;
    if (!sk_cli_bus_open(&bus, &args.g, "status", NULL, error))
        return FALSE;
    connected = sk_dbus_manager_get_connected(bus.manager);
    uri = sk_dbus_manager_get_uri(bus.manager);
    why = sk_dbus_manager_get_connect_error(bus.manager);
    owner = g_dbus_proxy_get_name_owner(G_DBUS_PROXY(bus.manager));
    domains = sk_cli_bus_domains(&bus, error);
    if (!domains)
        return FALSE;
    for (guint i = 0; i < domains->len; i++) {
        gboolean m = FALSE;

        g_variant_lookup(domains->pdata[i], "Managed", "b", &m);
        managed += m ? 1 : 0;
    }
    /* The bus daemon's own interface, not slotkeeperd's. */
    pid_reply = g_dbus_connection_call_sync(
        bus.conn, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
        "GetConnectionUnixProcessID", g_variant_new("(s)", owner ? owner : ""),
        G_VARIANT_TYPE("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL, NULL);
    if (pid_reply)
        g_variant_get(pid_reply, "(u)", &pid);

    if (args.g.json) {
        g_auto(GVariantBuilder) b = G_VARIANT_BUILDER_INIT(G_VARIANT_TYPE_VARDICT);
        g_autoptr(GVariant) dict = NULL;

        g_variant_builder_add(&b, "{sv}", "bus", g_variant_new_string(bus.bus));
        g_variant_builder_add(&b, "{sv}", "name", g_variant_new_string(SK_WIRE_BUS_NAME));
        g_variant_builder_add(&b, "{sv}", "owner", g_variant_new_string(owner ? owner : ""));
        g_variant_builder_add(&b, "{sv}", "pid", g_variant_new_uint32(pid));
        g_variant_builder_add(&b, "{sv}", "version",
                              g_variant_new_string(sk_dbus_manager_get_version(bus.manager)));
        g_variant_builder_add(&b, "{sv}", "uri", g_variant_new_string(uri));
        g_variant_builder_add(&b, "{sv}", "connected", g_variant_new_boolean(connected));
        g_variant_builder_add(&b, "{sv}", "connect_error", g_variant_new_string(why ? why : ""));
        g_variant_builder_add(&b, "{sv}", "domains", g_variant_new_uint32(domains->len));
        g_variant_builder_add(&b, "{sv}", "managed", g_variant_new_uint32(managed));
        dict = g_variant_ref_sink(g_variant_builder_end(&b));
        *output = sk_cli_render_json(dict, FALSE);
    } else {
        pid_text = pid ? g_strdup_printf(", pid %u", pid) : g_strdup("");
        *output = g_strdup_printf("slotkeeperd: running on the %s bus as %s (%s%s)\n"
                                  "version:     %s\n"
                                  "libvirt:     %s, %s%s\n"
                                  "domains:     %u, %u managed\n",
                                  bus.bus, SK_WIRE_BUS_NAME, owner ? owner : "?", pid_text,
                                  sk_dbus_manager_get_version(bus.manager), uri,
                                  connected ? "connected" : "not connected: ",
                                  connected ? "" : (why && *why ? why : "no reason given"),
                                  domains->len, managed);
    }
    /* Not connected is a failure for scripts, after the status is shown. */
    return sk_cli_check_connected(&bus, error);
}
