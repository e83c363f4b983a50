/* slotkeeperd: the D-Bus front end. Method handlers run on the main thread: they check their
 * arguments, authorize changes and submit a request to the service; the reply is sent when the
 * service hands the result back, after the domain's properties show it. Manager methods resolve
 * the domain and then share the Domain methods' code. */
#include "sk-dbus-server.h"

#include "sk-dbus-args.h"
#include "sk-dbus-error.h"
#include "sk-dbus-generated.h"
#include "sk-error.h"
#include "sk-wire.h"

/* How a method's result goes on the wire. */
typedef enum {
    SK_REPLY_ATTACH,   /* (ss) */
    SK_REPLY_NONE,     /* () */
    SK_REPLY_PLAN,     /* (a{sv}) */
    SK_REPLY_SLOTS,    /* (aa{sv}) */
    SK_REPLY_TOPOLOGY, /* (a{sv}) */
} SkReplyForm;

struct _SkDbusServer {
    SkService *service;
    SkAuth *auth;
    GDBusConnection *bus;
    GDBusObjectManagerServer *object_manager;
    SkDbusManager *manager;
    GHashTable *objects; /* uuid -> SkDomainObject* */
    gulong handlers[5];
};

typedef struct {
    SkDbusServer *server;
    char *uuid;
    char *path;
    SkDbusObjectSkeleton *object;
    SkDbusDomain *iface;
} SkDomainObject;

/* A checked request waiting for its authorization and then its result. The domain is looked
 * up again by UUID afterwards: it may have gone while the user answered a dialog. */
typedef struct {
    SkDbusServer *server;
    char *uuid;
    SkRequest *request;
    SkReplyForm form;
} SkCall;

static void
sk_call_free(SkCall *call)
{
    g_free(call->uuid);
    g_clear_pointer(&call->request, sk_request_free);
    g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkCall, sk_call_free)

static gboolean sk_dbus_fail(GDBusMethodInvocation *invocation, SkErrorCode code,
                             const char *format, ...) G_GNUC_PRINTF(3, 4);

static gboolean
sk_dbus_fail(GDBusMethodInvocation *invocation, SkErrorCode code, const char *format, ...)
{
    g_autoptr(GError) error = NULL;
    va_list ap;

    va_start(ap, format);
    error = g_error_new_valist(SK_ERROR, code, format, ap);
    va_end(ap);
    sk_dbus_return_error(invocation, error);
    return TRUE; /* handled */
}

static gboolean
sk_dbus_fail_error(GDBusMethodInvocation *invocation, const GError *error)
{
    sk_dbus_return_error(invocation, error);
    return TRUE;
}

/* ---- results into replies ---- */

static GVariant *
sk_dbus_reply(SkReplyForm form, const SkResult *result)
{
    switch (form) {
    case SK_REPLY_ATTACH:
        return g_variant_new("(ss)", result->device_xml, result->address);
    case SK_REPLY_PLAN:
        return g_variant_new(
            "(@a{sv})", sk_wire_plan(result->plan, result->device, result->live, result->config));
    case SK_REPLY_SLOTS:
        return g_variant_new("(@aa{sv})", sk_wire_buses(result->topology));
    case SK_REPLY_TOPOLOGY:
        return g_variant_new("(@a{sv})", sk_wire_topology(result->topology));
    case SK_REPLY_NONE:
    default:
        return NULL;
    }
}

static void
sk_dbus_on_result(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GDBusMethodInvocation) invocation = data;
    SkReplyForm form = GPOINTER_TO_INT(g_object_get_data(G_OBJECT(invocation), "sk-reply-form"));
    g_autoptr(GError) error = NULL;
    g_autoptr(SkResult) result = sk_service_submit_finish(SK_SERVICE(source), res, &error);

    if (!result)
        sk_dbus_return_error(invocation, error);
    else
        g_dbus_method_invocation_return_value(invocation, sk_dbus_reply(form, result));
}

/* Authorized (or a read): hand the request to the service. @data stays the caller's. */
static void
sk_dbus_submit(GDBusMethodInvocation *invocation, gpointer data)
{
    SkCall *call = data;

    g_object_set_data(G_OBJECT(invocation), "sk-reply-form", GINT_TO_POINTER(call->form));
    sk_service_submit(call->server->service, call->uuid, g_steal_pointer(&call->request), NULL,
                      sk_dbus_on_result, g_object_ref(invocation));
}

/* Checks the arguments, authorizes a mutating request and submits it. @xml and @policy may be
 * NULL. */
static gboolean
sk_dbus_dispatch(SkDbusServer *server, GDBusMethodInvocation *invocation, const char *uuid,
                 SkRequestKind kind, SkReplyForm form, const char *xml, GVariant *options,
                 GVariant *policy)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkCall) call = g_new0(SkCall, 1);
    const SkDomainInfo *info = sk_service_lookup(server->service, uuid);
    gboolean interactive = TRUE;

    /* Before anything is copied into the queue. */
    if (xml && !sk_dbus_args_check_device_xml(xml, &error))
        return sk_dbus_fail_error(invocation, error);
    call->server = server;
    call->uuid = g_strdup(uuid);
    call->form = form;
    call->request = sk_request_new(kind);
    call->request->xml = g_strdup(xml);
    if (!sk_dbus_args_parse_options(options, &call->request->opts, &interactive, &error))
        return sk_dbus_fail_error(invocation, error);
    if (policy) {
        call->request->policy = sk_metadata_new();
        if (!sk_dbus_args_parse_policy(policy, call->request->policy, &error))
            return sk_dbus_fail_error(invocation, error);
    }
    if (!info)
        return sk_dbus_fail(invocation, SK_ERROR_NO_SUCH_DOMAIN, "domain %s no longer exists",
                            uuid);
    if (!sk_service_get_connected(server->service))
        return sk_dbus_fail(invocation, SK_ERROR_UNAVAILABLE, "not connected to libvirt at %s: %s",
                            sk_service_get_uri(server->service),
                            sk_service_get_connect_error(server->service));
    if (!sk_request_kind_mutates(kind)) {
        sk_dbus_submit(invocation, call);
        return TRUE;
    }
    sk_auth_check(server->auth, invocation, sk_request_kind_to_verb(kind), info->name, interactive,
                  sk_dbus_submit, g_steal_pointer(&call), (GDestroyNotify)sk_call_free);
    return TRUE;
}

/* ---- Domain objects ---- */

static gboolean
sk_on_domain_attach(SkDbusDomain *iface, GDBusMethodInvocation *invocation, const char *xml,
                    GVariant *options, SkDomainObject *obj)
{
    return sk_dbus_dispatch(obj->server, invocation, obj->uuid, SK_REQUEST_ATTACH, SK_REPLY_ATTACH,
                            xml, options, NULL);
}

static gboolean
sk_on_domain_detach(SkDbusDomain *iface, GDBusMethodInvocation *invocation, const char *xml,
                    GVariant *options, SkDomainObject *obj)
{
    return sk_dbus_dispatch(obj->server, invocation, obj->uuid, SK_REQUEST_DETACH, SK_REPLY_NONE,
                            xml, options, NULL);
}

static gboolean
sk_on_domain_plan(SkDbusDomain *iface, GDBusMethodInvocation *invocation, const char *xml,
                  GVariant *options, SkDomainObject *obj)
{
    return sk_dbus_dispatch(obj->server, invocation, obj->uuid, SK_REQUEST_PLAN, SK_REPLY_PLAN, xml,
                            options, NULL);
}

static gboolean
sk_on_domain_slots(SkDbusDomain *iface, GDBusMethodInvocation *invocation, GVariant *options,
                   SkDomainObject *obj)
{
    return sk_dbus_dispatch(obj->server, invocation, obj->uuid, SK_REQUEST_TOPOLOGY, SK_REPLY_SLOTS,
                            NULL, options, NULL);
}

static gboolean
sk_on_domain_topology(SkDbusDomain *iface, GDBusMethodInvocation *invocation, GVariant *options,
                      SkDomainObject *obj)
{
    return sk_dbus_dispatch(obj->server, invocation, obj->uuid, SK_REQUEST_TOPOLOGY,
                            SK_REPLY_TOPOLOGY, NULL, options, NULL);
}

static gboolean
sk_on_domain_set_policy(SkDbusDomain *iface, GDBusMethodInvocation *invocation, GVariant *policy,
                        GVariant *options, SkDomainObject *obj)
{
    return sk_dbus_dispatch(obj->server, invocation, obj->uuid, SK_REQUEST_SET_POLICY,
                            SK_REPLY_NONE, NULL, options, policy);
}

static gboolean
sk_on_domain_reconcile(SkDbusDomain *iface, GDBusMethodInvocation *invocation, GVariant *options,
                       SkDomainObject *obj)
{
    return sk_dbus_dispatch(obj->server, invocation, obj->uuid, SK_REQUEST_RECONCILE, SK_REPLY_NONE,
                            NULL, options, NULL);
}

static void
sk_domain_set_slots(SkDbusDomain *iface, gboolean next_boot, guint pcie, guint pci)
{
    g_autoptr(GVariant) value = g_variant_ref_sink(sk_wire_free_slots(pcie, pci));
    GVariant *current = next_boot ? sk_dbus_domain_get_free_hotplug_slots_next_boot(iface)
                                  : sk_dbus_domain_get_free_hotplug_slots(iface);

    if (current && g_variant_equal(current, value))
        return;
    if (next_boot)
        sk_dbus_domain_set_free_hotplug_slots_next_boot(iface, value);
    else
        sk_dbus_domain_set_free_hotplug_slots(iface, value);
}

/* Only values that differ are set, so PropertiesChanged carries real changes only. */
#define SK_SET_STRING(iface, prop, value)                         \
    do {                                                          \
        const char *v_ = (value) ? (value) : "";                  \
        if (g_strcmp0(sk_dbus_domain_get_##prop(iface), v_) != 0) \
            sk_dbus_domain_set_##prop(iface, v_);                 \
    } while (0)
#define SK_SET_SCALAR(iface, prop, value)                \
    do {                                                 \
        if (sk_dbus_domain_get_##prop(iface) != (value)) \
            sk_dbus_domain_set_##prop(iface, (value));   \
    } while (0)

static void
sk_domain_apply(SkDbusDomain *iface, const SkDomainInfo *info)
{
    SK_SET_STRING(iface, name, info->name);
    SK_SET_STRING(iface, uuid, info->uuid);
    SK_SET_STRING(iface, state, info->state);
    SK_SET_STRING(iface, arch, info->arch);
    SK_SET_STRING(iface, machine, info->machine);
    SK_SET_SCALAR(iface, persistent, info->persistent);
    SK_SET_SCALAR(iface, active, info->active);
    SK_SET_SCALAR(iface, managed, info->managed);
    SK_SET_SCALAR(iface, spare_ports, info->spare_ports);
    SK_SET_SCALAR(iface, spare_ports_wanted, info->policy.spare_ports);
    SK_SET_SCALAR(iface, id, info->id);
    SK_SET_STRING(iface, legacy_bridge, sk_legacy_bridge_to_string(info->policy.legacy_bridge));
    sk_domain_set_slots(iface, FALSE, info->free_pcie, info->free_pci);
    sk_domain_set_slots(iface, TRUE, info->free_pcie_next, info->free_pci_next);
    SK_SET_STRING(iface, legacy_chain, sk_legacy_chain_to_string(info->legacy_chain));
    SK_SET_SCALAR(iface, restart_pending, info->restart_pending);
}

static void
sk_domain_object_free(SkDomainObject *obj)
{
    g_signal_handlers_disconnect_by_data(obj->iface, obj);
    g_dbus_object_manager_server_unexport(obj->server->object_manager, obj->path);
    g_clear_object(&obj->iface);
    g_clear_object(&obj->object);
    g_free(obj->uuid);
    g_free(obj->path);
    g_free(obj);
}

static void
sk_server_on_domain_added(SkService *service, const SkDomainInfo *info, SkDbusServer *server)
{
    SkDomainObject *obj = g_new0(SkDomainObject, 1);

    obj->server = server;
    obj->uuid = g_strdup(info->uuid);
    obj->path = sk_wire_domain_path(info->uuid);
    obj->object = sk_dbus_object_skeleton_new(obj->path);
    obj->iface = sk_dbus_domain_skeleton_new();
    /* Every property as libvirt has it from the first InterfacesAdded on. */
    sk_domain_apply(obj->iface, info);
    sk_auth_guard_skeleton(server->auth, G_DBUS_INTERFACE_SKELETON(obj->iface));
    g_signal_connect(obj->iface, "handle-attach-device", G_CALLBACK(sk_on_domain_attach), obj);
    g_signal_connect(obj->iface, "handle-detach-device", G_CALLBACK(sk_on_domain_detach), obj);
    g_signal_connect(obj->iface, "handle-plan", G_CALLBACK(sk_on_domain_plan), obj);
    g_signal_connect(obj->iface, "handle-get-slots", G_CALLBACK(sk_on_domain_slots), obj);
    g_signal_connect(obj->iface, "handle-get-topology", G_CALLBACK(sk_on_domain_topology), obj);
    g_signal_connect(obj->iface, "handle-set-policy", G_CALLBACK(sk_on_domain_set_policy), obj);
    g_signal_connect(obj->iface, "handle-reconcile", G_CALLBACK(sk_on_domain_reconcile), obj);
    sk_dbus_object_skeleton_set_domain(obj->object, obj->iface);
    g_hash_table_replace(server->objects, obj->uuid, obj);
    g_dbus_object_manager_server_export(server->object_manager,
                                        G_DBUS_OBJECT_SKELETON(obj->object));
    g_info("domain %s (%s) at %s", info->name, info->uuid, obj->path);
}

static void
sk_server_on_domain_changed(SkService *service, const SkDomainInfo *info, SkDbusServer *server)
{
    SkDomainObject *obj = g_hash_table_lookup(server->objects, info->uuid);

    if (!obj)
        return;
    sk_domain_apply(obj->iface, info);
    /* PropertiesChanged now, before any reply that follows: a caller sees both agree. */
    g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(obj->iface));
}

static void
sk_server_on_domain_removed(SkService *service, const char *uuid, SkDbusServer *server)
{
    g_hash_table_remove(server->objects, uuid);
}

static void
sk_server_on_event(SkService *service, const SkServiceEvent *ev, SkDbusServer *server)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "domain", g_variant_new_string(ev->domain));
    g_variant_builder_add(&b, "{sv}", "uuid", g_variant_new_string(ev->uuid));
    g_variant_builder_add(&b, "{sv}", "message", g_variant_new_string(ev->message));
    if (ev->address)
        g_variant_builder_add(&b, "{sv}", "address", g_variant_new_string(ev->address));
    if (ev->device_xml)
        g_variant_builder_add(&b, "{sv}", "device_xml", g_variant_new_string(ev->device_xml));
    sk_dbus_manager_emit_event(server->manager, ev->kind, g_variant_builder_end(&b));
}

static void
sk_server_on_connected(SkService *service, GParamSpec *pspec, SkDbusServer *server)
{
    const char *why = sk_service_get_connect_error(service);

    sk_dbus_manager_set_connected(server->manager, sk_service_get_connected(service));
    sk_dbus_manager_set_connect_error(server->manager, why ? why : "");
}

/* ---- Manager ---- */

/* The domain's UUID, or NULL after replying with the error. */
static const char *
sk_manager_resolve(SkDbusServer *server, GDBusMethodInvocation *invocation, const char *domain)
{
    g_autoptr(GError) error = NULL;
    const SkDomainInfo *info = NULL;

    if (!sk_dbus_args_check_domain(domain, &error))
        sk_dbus_return_error(invocation, error);
    else if (!sk_service_get_connected(server->service))
        sk_dbus_fail(invocation, SK_ERROR_UNAVAILABLE, "not connected to libvirt at %s: %s",
                     sk_service_get_uri(server->service),
                     sk_service_get_connect_error(server->service));
    else if (!(info = sk_service_lookup(server->service, domain)))
        sk_dbus_fail(invocation, SK_ERROR_NO_SUCH_DOMAIN,
                     "no domain with the name or UUID '%s' on %s", domain,
                     sk_service_get_uri(server->service));
    return info ? info->uuid : NULL;
}

static gboolean
sk_on_manager_get_domain(SkDbusManager *iface, GDBusMethodInvocation *invocation,
                         const char *domain, SkDbusServer *server)
{
    const char *uuid = sk_manager_resolve(server, invocation, domain);
    g_autofree char *path = uuid ? sk_wire_domain_path(uuid) : NULL;

    if (path)
        sk_dbus_manager_complete_get_domain(iface, invocation, path);
    return TRUE;
}

static gboolean
sk_manager_dispatch(SkDbusServer *server, GDBusMethodInvocation *invocation, const char *domain,
                    SkRequestKind kind, SkReplyForm form, const char *xml, GVariant *options,
                    GVariant *policy)
{
    const char *uuid = sk_manager_resolve(server, invocation, domain);

    if (!uuid)
        return TRUE;
    return sk_dbus_dispatch(server, invocation, uuid, kind, form, xml, options, policy);
}

static gboolean
sk_on_manager_attach(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                     const char *xml, GVariant *options, SkDbusServer *server)
{
    return sk_manager_dispatch(server, invocation, domain, SK_REQUEST_ATTACH, SK_REPLY_ATTACH, xml,
                               options, NULL);
}

static gboolean
sk_on_manager_detach(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                     const char *xml, GVariant *options, SkDbusServer *server)
{
    return sk_manager_dispatch(server, invocation, domain, SK_REQUEST_DETACH, SK_REPLY_NONE, xml,
                               options, NULL);
}

static gboolean
sk_on_manager_plan(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                   const char *xml, GVariant *options, SkDbusServer *server)
{
    return sk_manager_dispatch(server, invocation, domain, SK_REQUEST_PLAN, SK_REPLY_PLAN, xml,
                               options, NULL);
}

static gboolean
sk_on_manager_slots(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                    GVariant *options, SkDbusServer *server)
{
    return sk_manager_dispatch(server, invocation, domain, SK_REQUEST_TOPOLOGY, SK_REPLY_SLOTS,
                               NULL, options, NULL);
}

static gboolean
sk_on_manager_topology(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                       GVariant *options, SkDbusServer *server)
{
    return sk_manager_dispatch(server, invocation, domain, SK_REQUEST_TOPOLOGY, SK_REPLY_TOPOLOGY,
                               NULL, options, NULL);
}

static gboolean
sk_on_manager_set_policy(SkDbusManager *iface, GDBusMethodInvocation *invocation,
                         const char *domain, GVariant *policy, GVariant *options,
                         SkDbusServer *server)
{
    return sk_manager_dispatch(server, invocation, domain, SK_REQUEST_SET_POLICY, SK_REPLY_NONE,
                               NULL, options, policy);
}

static void
sk_dbus_on_reconciled_all(GObject *source, GAsyncResult *res, gpointer data)
{
    g_autoptr(GDBusMethodInvocation) invocation = data;
    g_autoptr(GError) error = NULL;

    if (!sk_service_reconcile_all_finish(SK_SERVICE(source), res, &error))
        sk_dbus_return_error(invocation, error);
    else
        g_dbus_method_invocation_return_value(invocation, NULL);
}

static void
sk_dbus_reconcile_all(GDBusMethodInvocation *invocation, gpointer data)
{
    SkDbusServer *server = data;

    sk_service_reconcile_all(server->service, NULL, sk_dbus_on_reconciled_all,
                             g_object_ref(invocation));
}

static gboolean
sk_on_manager_reconcile(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                        GVariant *options, SkDbusServer *server)
{
    g_autoptr(GError) error = NULL;
    SkOpOptions opts;
    gboolean interactive = TRUE;

    if (*domain != '\0')
        return sk_manager_dispatch(server, invocation, domain, SK_REQUEST_RECONCILE, SK_REPLY_NONE,
                                   NULL, options, NULL);
    if (!sk_dbus_args_parse_options(options, &opts, &interactive, &error))
        return sk_dbus_fail_error(invocation, error);
    sk_auth_check(server->auth, invocation, "reconcile", NULL, interactive, sk_dbus_reconcile_all,
                  server, NULL);
    return TRUE;
}

static void
sk_server_export_manager(SkDbusServer *server, const char *version)
{
    g_autoptr(GError) error = NULL;
    SkDbusManager *m = sk_dbus_manager_skeleton_new();

    server->manager = m;
    sk_dbus_manager_set_version(m, version);
    sk_dbus_manager_set_uri(m, sk_service_get_uri(server->service));
    sk_server_on_connected(server->service, NULL, server);
    sk_auth_guard_skeleton(server->auth, G_DBUS_INTERFACE_SKELETON(m));
    g_signal_connect(m, "handle-get-domain", G_CALLBACK(sk_on_manager_get_domain), server);
    g_signal_connect(m, "handle-attach-device", G_CALLBACK(sk_on_manager_attach), server);
    g_signal_connect(m, "handle-detach-device", G_CALLBACK(sk_on_manager_detach), server);
    g_signal_connect(m, "handle-plan", G_CALLBACK(sk_on_manager_plan), server);
    g_signal_connect(m, "handle-get-slots", G_CALLBACK(sk_on_manager_slots), server);
    g_signal_connect(m, "handle-get-topology", G_CALLBACK(sk_on_manager_topology), server);
    g_signal_connect(m, "handle-set-policy", G_CALLBACK(sk_on_manager_set_policy), server);
    g_signal_connect(m, "handle-reconcile", G_CALLBACK(sk_on_manager_reconcile), server);
    /* The object manager only exports objects below its own path, so the Manager interface
     * sits next to it at the same path, exported directly. */
    if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(m), server->bus,
                                          SK_WIRE_MANAGER_PATH, &error))
        g_critical("cannot export the Manager interface: %s", error->message);
}

SkDbusServer *
sk_dbus_server_new(SkService *service, SkAuth *auth, GDBusConnection *bus, const char *version)
{
    SkDbusServer *server = g_new0(SkDbusServer, 1);
    g_autoptr(GPtrArray) known = NULL;

    server->service = g_object_ref(service);
    server->auth = auth;
    server->bus = g_object_ref(bus);
    server->objects =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)sk_domain_object_free);
    server->object_manager = g_dbus_object_manager_server_new(SK_WIRE_MANAGER_PATH);
    sk_server_export_manager(server, version);
    server->handlers[0] =
        g_signal_connect(service, "domain-added", G_CALLBACK(sk_server_on_domain_added), server);
    server->handlers[1] = g_signal_connect(service, "domain-changed",
                                           G_CALLBACK(sk_server_on_domain_changed), server);
    server->handlers[2] = g_signal_connect(service, "domain-removed",
                                           G_CALLBACK(sk_server_on_domain_removed), server);
    server->handlers[3] =
        g_signal_connect(service, "event", G_CALLBACK(sk_server_on_event), server);
    server->handlers[4] =
        g_signal_connect(service, "notify::connected", G_CALLBACK(sk_server_on_connected), server);
    /* Domains the service announced before the server existed. */
    known = sk_service_list_domains(service);
    for (guint i = 0; i < known->len; i++)
        sk_server_on_domain_added(service, known->pdata[i], server);
    g_dbus_object_manager_server_set_connection(server->object_manager, bus);
    return server;
}

void
sk_dbus_server_free(SkDbusServer *server)
{
    if (!server)
        return;
    for (guint i = 0; i < G_N_ELEMENTS(server->handlers); i++)
        g_clear_signal_handler(&server->handlers[i], server->service);
    g_hash_table_destroy(server->objects);
    g_dbus_interface_skeleton_unexport(G_DBUS_INTERFACE_SKELETON(server->manager));
    g_clear_object(&server->manager);
    g_clear_object(&server->object_manager);
    g_clear_object(&server->bus);
    g_clear_object(&server->service);
    g_free(server);
}
