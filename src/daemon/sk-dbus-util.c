/* slotkeeperd: D-Bus helpers - errors, options, and plans and PCI trees as GVariants. */
#include "sk-dbus-util.h"

#include "sk-error.h"
#include "sk-xml.h"

void
sk_dbus_register_errors(void)
{
    static gsize registered = 0;
    static GDBusErrorEntry entries[SK_ERROR_N_CODES];
    static char *names[SK_ERROR_N_CODES];

    if (registered)
        return; /* called once, from main(), before any thread exists */
    for (guint i = 0; i < SK_ERROR_N_CODES; i++) {
        names[i] = sk_dbus_error_name((SkErrorCode)i);
        entries[i].error_code = (gint)i;
        entries[i].dbus_error_name = names[i];
    }
    /* The quark's own string, whatever spelling G_DEFINE_QUARK gave it. */
    g_dbus_error_register_error_domain(g_quark_to_string(SK_ERROR), &registered, entries,
                                       G_N_ELEMENTS(entries));
}

char *
sk_dbus_error_name(SkErrorCode code)
{
    return g_strconcat(SK_DBUS_ERROR_PREFIX, sk_error_code_to_name(code), NULL);
}

void
sk_dbus_return_error(GDBusMethodInvocation *invocation, const GError *error)
{
    SkErrorCode code = SK_ERROR_FAILED;
    g_autofree char *name = NULL;

    if (error && error->domain == SK_ERROR)
        code = (SkErrorCode)error->code;
    name = sk_dbus_error_name(code);
    g_debug("%s: replying %s: %s", g_dbus_method_invocation_get_method_name(invocation), name,
            error ? error->message : "(no message)");
    g_dbus_method_invocation_return_dbus_error(invocation, name,
                                               error ? error->message : "operation failed");
}

static gboolean
sk_dbus_option_type(const char *key, GVariant *value, const GVariantType *type, GError **error)
{
    if (g_variant_is_of_type(value, type))
        return TRUE;
    g_autofree char *shown = sk_xml_excerpt(key, 64);
    g_autofree char *actual = sk_xml_excerpt(g_variant_get_type_string(value), 64);

    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                "option '%s' must have type '%.*s', not '%s'", shown,
                (int)g_variant_type_get_string_length(type), g_variant_type_peek_string(type),
                actual);
    return FALSE;
}

gboolean
sk_dbus_check_domain_arg(const char *domain, GError **error)
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
sk_dbus_check_device_xml(const char *xml, GError **error)
{
    gsize len = strlen(xml);

    if (len > SK_DBUS_MAX_DEVICE_XML) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "device XML is too large: %" G_GSIZE_FORMAT " bytes (limit %d)", len,
                    SK_DBUS_MAX_DEVICE_XML);
        return FALSE;
    }
    return TRUE;
}

static gboolean
sk_dbus_check_dict_size(GVariant *dict, const char *what, GError **error)
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

gboolean
sk_dbus_parse_options(GVariant *options, SkOpOptions *opts, GError **error)
{
    GVariantIter iter;
    const char *key;
    GVariant *value;

    memset(opts, 0, sizeof(*opts));
    if (!sk_dbus_check_dict_size(options, "options", error))
        return FALSE;
    g_variant_iter_init(&iter, options);
    while (g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
        gboolean *target = NULL;

        if (g_str_equal(key, "live"))
            target = &opts->live;
        else if (g_str_equal(key, "config"))
            target = &opts->config;
        else if (g_str_equal(key, "inactive"))
            target = &opts->inactive;
        if (target || g_str_equal(key, "auth.no_user_interaction")) {
            if (!sk_dbus_option_type(key, value, G_VARIANT_TYPE_BOOLEAN, error)) {
                g_variant_unref(value);
                return FALSE;
            }
            if (target)
                *target = g_variant_get_boolean(value);
            continue;
        }
        if (g_str_equal(key, "hotplug-require")) {
            const char *str;

            if (!sk_dbus_option_type(key, value, G_VARIANT_TYPE_STRING, error)) {
                g_variant_unref(value);
                return FALSE;
            }
            str = g_variant_get_string(value, NULL);
            if (!g_str_equal(str, "yes") && !g_str_equal(str, "no")) {
                g_autofree char *shown = sk_xml_excerpt(str, 64);

                g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                            "option 'hotplug-require' must be 'yes' or 'no', not '%s'", shown);
                g_variant_unref(value);
                return FALSE;
            }
            opts->has_hotplug_require = TRUE;
            opts->hotplug_require = g_str_equal(str, "yes");
            continue;
        }
        g_autofree char *shown = sk_xml_excerpt(key, 64);

        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "unknown option '%s' (known: live, config, hotplug-require, inactive, "
                    "auth.no_user_interaction)",
                    shown);
        g_variant_unref(value);
        return FALSE;
    }
    return TRUE;
}

gboolean
sk_dbus_parse_policy(GVariant *policy, SkMetadata *changes, GError **error)
{
    GVariantIter iter;
    const char *key;
    GVariant *value;
    gboolean ok = TRUE;

    if (!sk_dbus_check_dict_size(policy, "policy entries", error))
        return FALSE;
    g_variant_iter_init(&iter, policy);
    while (ok && g_variant_iter_loop(&iter, "{&sv}", &key, &value)) {
        if (g_str_equal(key, "spare-ports")) {
            ok = sk_dbus_option_type(key, value, G_VARIANT_TYPE_UINT32, error);
            if (ok && g_variant_get_uint32(value) > 64) {
                g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                            "spare-ports must be between 0 and 64, not %u",
                            g_variant_get_uint32(value));
                ok = FALSE;
            }
            if (ok) {
                changes->has_spare_ports = TRUE;
                changes->spare_ports = g_variant_get_uint32(value);
            }
        } else if (g_str_equal(key, "legacy-bridge")) {
            ok = sk_dbus_option_type(key, value, G_VARIANT_TYPE_STRING, error) &&
                 sk_legacy_bridge_from_string(g_variant_get_string(value, NULL),
                                              &changes->legacy_bridge, error);
            if (!ok && error && *error && (*error)->domain == SK_ERROR)
                (*error)->code = SK_ERROR_INVALID_ARGUMENT;
            changes->has_legacy_bridge = ok;
        } else if (g_str_equal(key, "managed")) {
            ok = sk_dbus_option_type(key, value, G_VARIANT_TYPE_BOOLEAN, error);
            if (ok) {
                changes->has_managed = TRUE;
                changes->managed = g_variant_get_boolean(value);
            }
        } else {
            g_autofree char *shown = sk_xml_excerpt(key, 64);

            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                        "unknown policy key '%s' (known: spare-ports, legacy-bridge, managed)",
                        shown);
            ok = FALSE;
        }
        if (!ok)
            g_variant_unref(value);
    }
    return ok;
}

static GVariant *
sk_dbus_controller_to_variant(const SkNewController *c)
{
    GVariantBuilder b;
    g_autofree char *addr = sk_pci_addr_format(&c->address);

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "index", g_variant_new_uint32(c->index));
    g_variant_builder_add(&b, "{sv}", "model",
                          g_variant_new_string(sk_pci_model_to_string(c->model)));
    g_variant_builder_add(&b, "{sv}", "model_name",
                          g_variant_new_string(c->model_name ? c->model_name : ""));
    g_variant_builder_add(&b, "{sv}", "chassis", g_variant_new_int32(c->chassis));
    g_variant_builder_add(&b, "{sv}", "port", g_variant_new_int32(c->port));
    g_variant_builder_add(&b, "{sv}", "address", g_variant_new_string(addr));
    g_variant_builder_add(&b, "{sv}", "purpose",
                          g_variant_new_string(c->purpose ? c->purpose : ""));
    return g_variant_builder_end(&b);
}

GVariant *
sk_dbus_plan_to_variant(const SkPlan *plan, const SkDevice *dev)
{
    GVariantBuilder b;
    GVariantBuilder ctrls;
    GVariantBuilder reasons;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "ok", g_variant_new_boolean(!plan->refused));
    if (plan->has_address) {
        g_autofree char *addr = sk_pci_addr_format(&plan->address);
        g_variant_builder_add(&b, "{sv}", "address", g_variant_new_string(addr));
    }
    g_variant_builder_add(&b, "{sv}", "effect",
                          g_variant_new_string(sk_plan_effect_to_string(plan->effect)));
    if (dev && dev->description)
        g_variant_builder_add(&b, "{sv}", "device", g_variant_new_string(dev->description));

    g_variant_builder_init(&ctrls, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < plan->controllers->len; i++)
        g_variant_builder_add_value(&ctrls,
                                    sk_dbus_controller_to_variant(plan->controllers->pdata[i]));
    g_variant_builder_add(&b, "{sv}", "controllers", g_variant_builder_end(&ctrls));

    g_variant_builder_init(&reasons, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint i = 0; i < plan->reasons->len; i++)
        g_variant_builder_add(&reasons, "s", (const char *)plan->reasons->pdata[i]);
    g_variant_builder_add(&b, "{sv}", "reasons", g_variant_builder_end(&reasons));

    if (plan->refused) {
        g_autofree char *name = sk_dbus_error_name(plan->refusal_code);

        g_variant_builder_add(&b, "{sv}", "error", g_variant_new_string(name));
        g_variant_builder_add(&b, "{sv}", "message",
                              g_variant_new_string(plan->refusal ? plan->refusal : ""));
        g_variant_builder_add(&b, "{sv}", "remedy",
                              g_variant_new_string(plan->remedy ? plan->remedy : ""));
    }
    return g_variant_builder_end(&b);
}

static GVariant *
sk_dbus_occupant_to_variant(const SkOccupant *occ)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "slot", g_variant_new_uint32(occ->address.slot));
    g_variant_builder_add(&b, "{sv}", "function", g_variant_new_uint32(occ->address.function));
    g_variant_builder_add(&b, "{sv}", "kind",
                          g_variant_new_string(sk_occupant_kind_to_string(occ->kind)));
    g_variant_builder_add(&b, "{sv}", "element",
                          g_variant_new_string(occ->element ? occ->element : ""));
    g_variant_builder_add(&b, "{sv}", "description",
                          g_variant_new_string(occ->description ? occ->description : ""));
    if (occ->kind == SK_OCCUPANT_CONTROLLER)
        g_variant_builder_add(&b, "{sv}", "controller",
                              g_variant_new_uint32(occ->controller_index));
    if (occ->kind == SK_OCCUPANT_DEVICE && occ->node) {
        g_autofree char *xml = sk_xml_node_to_string(occ->node);

        g_variant_builder_add(&b, "{sv}", "xml", g_variant_new_string(xml));
    }
    return g_variant_builder_end(&b);
}

static GVariant *
sk_dbus_bus_to_variant(const SkTopology *topo, const SkBus *bus)
{
    const SkController *ctrl = bus->controller;
    GVariantBuilder b;
    GVariantBuilder accepts;
    GVariantBuilder occupants;
    GVariantBuilder free_slots;
    g_autofree char *addr =
        ctrl && ctrl->has_address ? sk_pci_addr_format(&ctrl->address) : g_strdup("");

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "index", g_variant_new_uint32(bus->index));
    g_variant_builder_add(&b, "{sv}", "model",
                          g_variant_new_string(ctrl ? sk_pci_model_to_string(ctrl->model) : ""));
    g_variant_builder_add(&b, "{sv}", "model_name",
                          g_variant_new_string(ctrl && ctrl->model_name ? ctrl->model_name : ""));
    g_variant_builder_add(&b, "{sv}", "address", g_variant_new_string(addr));
    g_variant_builder_add(&b, "{sv}", "chassis", g_variant_new_int32(ctrl ? ctrl->chassis : -1));
    g_variant_builder_add(&b, "{sv}", "port", g_variant_new_int32(ctrl ? ctrl->port : -1));
    g_variant_builder_add(&b, "{sv}", "hotplug",
                          g_variant_new_boolean(sk_bus_is_hotpluggable(bus)));
    g_variant_builder_add(&b, "{sv}", "min_slot", g_variant_new_uint32(bus->min_slot));
    g_variant_builder_add(&b, "{sv}", "max_slot", g_variant_new_uint32(bus->max_slot));

    g_variant_builder_init(&accepts, G_VARIANT_TYPE_STRING_ARRAY);
    for (guint bit = 0; bit < 32; bit++) {
        const char *name = sk_pci_connect_type_name(bus->flags & (1u << bit));
        if (name)
            g_variant_builder_add(&accepts, "s", name);
    }
    g_variant_builder_add(&b, "{sv}", "accepts", g_variant_builder_end(&accepts));

    g_variant_builder_init(&occupants, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < sk_topology_get_n_occupants(topo); i++) {
        const SkOccupant *occ = sk_topology_get_occupant(topo, i);
        if (occ->address.bus == bus->index)
            g_variant_builder_add_value(&occupants, sk_dbus_occupant_to_variant(occ));
    }
    g_variant_builder_add(&b, "{sv}", "occupants", g_variant_builder_end(&occupants));

    g_variant_builder_init(&free_slots, G_VARIANT_TYPE("au"));
    for (guint slot = bus->min_slot; slot <= bus->max_slot && slot < 32; slot++) {
        if (sk_bus_slot_is_empty(bus, slot))
            g_variant_builder_add(&free_slots, "u", slot);
    }
    g_variant_builder_add(&b, "{sv}", "free_slots", g_variant_builder_end(&free_slots));
    return g_variant_builder_end(&b);
}

GVariant *
sk_dbus_topology_to_variant(const SkTopology *topo)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE("aa{sv}"));
    for (guint i = 0; i < sk_topology_get_n_buses(topo); i++) {
        const SkBus *bus = sk_topology_get_bus(topo, i);
        if (bus)
            g_variant_builder_add_value(&b, sk_dbus_bus_to_variant(topo, bus));
    }
    return g_variant_builder_end(&b);
}

GVariant *
sk_dbus_free_slots_to_variant(guint pcie, guint pci)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE("a{su}"));
    g_variant_builder_add(&b, "{su}", "pcie", pcie);
    g_variant_builder_add(&b, "{su}", "pci", pci);
    return g_variant_builder_end(&b);
}

char *
sk_dbus_domain_path(const char *uuid)
{
    g_autofree char *mangled = g_strdup(uuid);

    g_strdelimit(mangled, "-", '_');
    return g_strconcat(SK_DBUS_PATH "/domain/_", mangled, NULL);
}
