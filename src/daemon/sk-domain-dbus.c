/* slotkeeperd: the D-Bus objects. Method handlers run on the main thread, check their
 * arguments and queue a job; the job runs in a worker (sk-daemon.c) and leaves its reply in the
 * job, which the main thread sends once the domain's properties show the result.
 * Manager methods resolve the domain and then share the Domain methods' code. */
#include "sk-domain-dbus.h"

#include "sk-auth.h"
#include "sk-dbus-util.h"
#include "sk-error.h"

/* ---- jobs (worker threads) ---- */

/* After a change: top the spares up; a failure there does not undo the change. */
static void
sk_job_reconcile_after(SkJob *job)
{
    g_autoptr(GError) error = NULL;

    if (!sk_job_reconcile(job, &error))
        g_warning("domain %s: cannot keep its spares: %s", job->entry->name, error->message);
}

static void
sk_job_attach(SkJob *job)
{
    SkDomainEntry *entry = job->entry;
    g_autoptr(GError) error = NULL;
    g_autofree char *address = NULL;
    g_autofree char *dev_xml = NULL;
    g_autofree char *message = NULL;

    dev_xml = sk_domain_ops_attach(job->dom, &entry->daemon->config, job->xml, &job->opts, &address,
                                   &error);
    if (!dev_xml) {
        if (g_error_matches(error, SK_ERROR, SK_ERROR_NO_FREE_SLOT)) {
            g_message("domain %s: attach refused: %s", entry->name, error->message);
            sk_job_set_event(job, "refused", error->message, NULL);
        }
        sk_job_reconcile_after(job);
        sk_job_return_error(job, g_steal_pointer(&error));
        return;
    }
    message = *address ? g_strdup_printf("attached a device to '%s' at %s", entry->name, address)
                       : g_strdup_printf("attached a device to '%s'", entry->name);
    g_message("%s", message);
    {
        GVariantBuilder extra;

        g_variant_builder_init(&extra, G_VARIANT_TYPE_VARDICT);
        g_variant_builder_add(&extra, "{sv}", "address", g_variant_new_string(address));
        g_variant_builder_add(&extra, "{sv}", "device_xml", g_variant_new_string(dev_xml));
        sk_job_set_event(job, "attached", message, g_variant_builder_end(&extra));
    }
    sk_job_reconcile_after(job);
    sk_job_return(job, g_variant_new("(ss)", dev_xml, address));
}

static void
sk_job_detach(SkJob *job)
{
    SkDomainEntry *entry = job->entry;
    g_autoptr(GError) error = NULL;
    g_autofree char *message = NULL;

    if (!sk_domain_ops_detach(job->dom, &entry->daemon->config, job->xml, &job->opts, &error)) {
        sk_job_return_error(job, g_steal_pointer(&error));
        return;
    }
    message = g_strdup_printf("detached a device from '%s'", entry->name);
    g_message("%s", message);
    sk_job_set_event(job, "detached", message,
                     g_variant_new_parsed("{'device_xml': <%s>}", job->xml));
    sk_job_reconcile_after(job);
    sk_job_return(job, NULL);
}

static void
sk_job_plan(SkJob *job)
{
    SkDomainEntry *entry = job->entry;
    g_autoptr(GError) error = NULL;
    g_autoptr(SkDevice) dev = NULL;
    g_autoptr(SkPlan) plan = NULL;

    plan = sk_domain_ops_plan(job->dom, &entry->daemon->config, job->xml, &job->opts, &dev, &error);
    if (!plan) {
        sk_job_return_error(job, g_steal_pointer(&error));
        return;
    }
    sk_job_return(job, g_variant_new("(@a{sv})", sk_dbus_plan_to_variant(plan, dev)));
}

static void
sk_job_slots(SkJob *job)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) topo = sk_domain_ops_topology(job->dom, job->opts.inactive, &error);

    if (!topo) {
        sk_job_return_error(job, g_steal_pointer(&error));
        return;
    }
    sk_job_return(job, g_variant_new("(@aa{sv})", sk_dbus_topology_to_variant(topo)));
}

static void
sk_job_set_policy(SkJob *job)
{
    SkDomainEntry *entry = job->entry;
    g_autoptr(GError) error = NULL;
    g_autofree char *message = NULL;

    if (!sk_domain_ops_set_policy(job->dom, job->policy, &error)) {
        sk_job_return_error(job, g_steal_pointer(&error));
        return;
    }
    message = g_strdup_printf("changed the policy of '%s'", entry->name);
    g_message("%s", message);
    sk_job_set_event(job, "policy-changed", message, NULL);
    sk_job_reconcile_after(job);
    sk_job_return(job, NULL);
}

static void
sk_job_reconcile_method(SkJob *job)
{
    g_autoptr(GError) error = NULL;

    if (!sk_job_reconcile(job, &error))
        sk_job_return_error(job, g_steal_pointer(&error));
    else
        sk_job_return(job, NULL);
}

/* ---- shared method implementation (main thread) ---- */

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
sk_str_is_blank(const char *str)
{
    for (; *str; str++) {
        if (!g_ascii_isspace(*str))
            return FALSE;
    }
    return TRUE;
}

/* A checked request waiting for its authorization. The domain is looked up again by UUID
 * afterwards: it may have gone while the user answered an authentication dialog. */
typedef struct {
    char *uuid;
    SkJobFunc func;
    char *xml;
    SkOpOptions opts;
    SkMetadata *policy;
} SkPendingCall;

static void
sk_pending_call_free(SkPendingCall *call)
{
    g_free(call->uuid);
    g_free(call->xml);
    g_clear_pointer(&call->policy, sk_metadata_free);
    g_free(call);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkPendingCall, sk_pending_call_free)

static void
sk_dbus_queue_call(SkDaemon *daemon, GDBusMethodInvocation *invocation, gpointer data)
{
    SkPendingCall *call = data;
    SkDomainEntry *entry = sk_daemon_lookup(daemon, call->uuid);
    SkJob *job;

    if (!entry || entry->removed) {
        sk_dbus_fail(invocation, SK_ERROR_NO_SUCH_DOMAIN, "domain %s no longer exists", call->uuid);
        return;
    }
    if (!daemon->conn) {
        sk_dbus_fail(invocation, SK_ERROR_UNAVAILABLE, "not connected to libvirt at %s",
                     daemon->uri);
        return;
    }
    job = sk_job_new(entry, call->func, invocation);
    job->xml = g_steal_pointer(&call->xml);
    job->opts = call->opts;
    job->policy = g_steal_pointer(&call->policy);
    sk_daemon_queue(entry, job);
}

/* Checks the arguments, authorizes a mutating @verb (NULL for reads) and queues @func for
 * @entry. @xml and @policy may be NULL. */
static gboolean
sk_dbus_dispatch(SkDomainEntry *entry, GDBusMethodInvocation *invocation, const char *verb,
                 SkJobFunc func, const char *xml, GVariant *options, GVariant *policy)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkPendingCall) call = NULL;

    /* Before anything is copied into the queue. */
    if (xml && !sk_dbus_check_device_xml(xml, &error)) {
        sk_dbus_return_error(invocation, error);
        return TRUE;
    }
    if (xml && sk_str_is_blank(xml))
        return sk_dbus_fail(invocation, SK_ERROR_INVALID_XML, "the device XML is empty");
    call = g_new0(SkPendingCall, 1);
    if (!sk_dbus_parse_options(options, &call->opts, &error)) {
        sk_dbus_return_error(invocation, error);
        return TRUE;
    }
    call->uuid = g_strdup(entry->uuid);
    call->func = func;
    call->xml = g_strdup(xml);
    if (policy) {
        call->policy = sk_metadata_new();
        if (!sk_dbus_parse_policy(policy, call->policy, &error)) {
            sk_dbus_return_error(invocation, error);
            return TRUE;
        }
    }
    if (!entry->daemon->conn)
        return sk_dbus_fail(invocation, SK_ERROR_UNAVAILABLE, "not connected to libvirt at %s",
                            entry->daemon->uri);
    if (!verb) {
        sk_dbus_queue_call(entry->daemon, invocation, call);
        return TRUE;
    }
    sk_auth_check(entry->daemon, invocation, verb, entry->name, options, sk_dbus_queue_call,
                  g_steal_pointer(&call), (GDestroyNotify)sk_pending_call_free);
    return TRUE;
}

/* ---- Domain interface ---- */

static gboolean
sk_on_domain_attach(SkDbusDomain *iface, GDBusMethodInvocation *invocation, const char *xml,
                    GVariant *options, SkDomainEntry *entry)
{
    return sk_dbus_dispatch(entry, invocation, "attach-device", sk_job_attach, xml, options, NULL);
}

static gboolean
sk_on_domain_detach(SkDbusDomain *iface, GDBusMethodInvocation *invocation, const char *xml,
                    GVariant *options, SkDomainEntry *entry)
{
    return sk_dbus_dispatch(entry, invocation, "detach-device", sk_job_detach, xml, options, NULL);
}

static gboolean
sk_on_domain_plan(SkDbusDomain *iface, GDBusMethodInvocation *invocation, const char *xml,
                  GVariant *options, SkDomainEntry *entry)
{
    return sk_dbus_dispatch(entry, invocation, NULL, sk_job_plan, xml, options, NULL);
}

static gboolean
sk_on_domain_slots(SkDbusDomain *iface, GDBusMethodInvocation *invocation, GVariant *options,
                   SkDomainEntry *entry)
{
    return sk_dbus_dispatch(entry, invocation, NULL, sk_job_slots, NULL, options, NULL);
}

static gboolean
sk_on_domain_set_policy(SkDbusDomain *iface, GDBusMethodInvocation *invocation, GVariant *policy,
                        GVariant *options, SkDomainEntry *entry)
{
    return sk_dbus_dispatch(entry, invocation, "policy", sk_job_set_policy, NULL, options, policy);
}

static gboolean
sk_on_domain_reconcile(SkDbusDomain *iface, GDBusMethodInvocation *invocation, GVariant *options,
                       SkDomainEntry *entry)
{
    return sk_dbus_dispatch(entry, invocation, "reconcile", sk_job_reconcile_method, NULL, options,
                            NULL);
}

void
sk_domain_dbus_export(SkDomainEntry *entry)
{
    SkDaemon *daemon = entry->daemon;
    g_autoptr(GVariant) zero = g_variant_ref_sink(sk_dbus_free_slots_to_variant(0, 0));

    entry->object = sk_dbus_object_skeleton_new(entry->path);
    entry->iface = sk_dbus_domain_skeleton_new();
    sk_dbus_domain_set_name(entry->iface, entry->name);
    sk_dbus_domain_set_uuid(entry->iface, entry->uuid);
    sk_dbus_domain_set_state(entry->iface, "unknown");
    sk_dbus_domain_set_arch(entry->iface, "");
    sk_dbus_domain_set_machine(entry->iface, "");
    sk_dbus_domain_set_spare_ports(entry->iface, daemon->config.policy.spare_ports);
    sk_dbus_domain_set_legacy_bridge(
        entry->iface, sk_legacy_bridge_to_string(daemon->config.policy.legacy_bridge));
    sk_dbus_domain_set_free_hotplug_slots(entry->iface, zero);
    sk_dbus_domain_set_free_hotplug_slots_next_boot(entry->iface, zero);
    sk_dbus_domain_set_legacy_chain(entry->iface, "absent");

    g_signal_connect(entry->iface, "handle-attach-device", G_CALLBACK(sk_on_domain_attach), entry);
    g_signal_connect(entry->iface, "handle-detach-device", G_CALLBACK(sk_on_domain_detach), entry);
    g_signal_connect(entry->iface, "handle-plan", G_CALLBACK(sk_on_domain_plan), entry);
    g_signal_connect(entry->iface, "handle-get-slots", G_CALLBACK(sk_on_domain_slots), entry);
    g_signal_connect(entry->iface, "handle-set-policy", G_CALLBACK(sk_on_domain_set_policy), entry);
    g_signal_connect(entry->iface, "handle-reconcile", G_CALLBACK(sk_on_domain_reconcile), entry);
    sk_auth_guard_skeleton(daemon, G_DBUS_INTERFACE_SKELETON(entry->iface));
    sk_dbus_object_skeleton_set_domain(entry->object, entry->iface);
    g_dbus_object_manager_server_export(daemon->object_manager,
                                        G_DBUS_OBJECT_SKELETON(entry->object));
}

void
sk_domain_dbus_unexport(SkDomainEntry *entry)
{
    g_signal_handlers_disconnect_by_data(entry->iface, entry);
    g_dbus_object_manager_server_unexport(entry->daemon->object_manager, entry->path);
}

static void
sk_domain_dbus_set_slots(SkDbusDomain *iface, gboolean next_boot, guint pcie, guint pci)
{
    g_autoptr(GVariant) value = g_variant_ref_sink(sk_dbus_free_slots_to_variant(pcie, pci));
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

void
sk_domain_dbus_apply(SkDomainEntry *entry, const SkDomainInfo *info)
{
    SkDbusDomain *iface = entry->iface;

    SK_SET_STRING(iface, name, info->name);
    SK_SET_STRING(iface, state, info->state);
    SK_SET_STRING(iface, arch, info->arch);
    SK_SET_STRING(iface, machine, info->machine);
    SK_SET_SCALAR(iface, persistent, info->persistent);
    SK_SET_SCALAR(iface, active, info->active);
    SK_SET_SCALAR(iface, managed, info->managed);
    SK_SET_SCALAR(iface, spare_ports, info->policy.spare_ports);
    SK_SET_STRING(iface, legacy_bridge, sk_legacy_bridge_to_string(info->policy.legacy_bridge));
    sk_domain_dbus_set_slots(iface, FALSE, info->free_pcie, info->free_pci);
    sk_domain_dbus_set_slots(iface, TRUE, info->free_pcie_next, info->free_pci_next);
    SK_SET_STRING(iface, legacy_chain, info->legacy_chain);
    SK_SET_SCALAR(iface, restart_pending, info->restart_pending);
}

/* ---- Manager interface ---- */

static SkDomainEntry *
sk_manager_resolve(SkDaemon *daemon, GDBusMethodInvocation *invocation, const char *domain)
{
    SkDomainEntry *entry = NULL;
    g_autoptr(GError) error = NULL;

    if (!sk_dbus_check_domain_arg(domain, &error))
        sk_dbus_return_error(invocation, error);
    else if (!daemon->conn)
        sk_dbus_fail(invocation, SK_ERROR_UNAVAILABLE, "not connected to libvirt at %s",
                     daemon->uri);
    else if (!(entry = sk_daemon_lookup(daemon, domain)))
        sk_dbus_fail(invocation, SK_ERROR_NO_SUCH_DOMAIN,
                     "no domain with the name or UUID '%s' on %s", domain, daemon->uri);
    return entry;
}

static gboolean
sk_on_manager_get_domain(SkDbusManager *iface, GDBusMethodInvocation *invocation,
                         const char *domain, SkDaemon *daemon)
{
    SkDomainEntry *entry = sk_manager_resolve(daemon, invocation, domain);

    if (entry)
        sk_dbus_manager_complete_get_domain(iface, invocation, entry->path);
    return TRUE;
}

static gboolean
sk_on_manager_attach(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                     const char *xml, GVariant *options, SkDaemon *daemon)
{
    SkDomainEntry *entry = sk_manager_resolve(daemon, invocation, domain);

    return entry ? sk_dbus_dispatch(entry, invocation, "attach-device", sk_job_attach, xml, options,
                                    NULL)
                 : TRUE;
}

static gboolean
sk_on_manager_detach(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                     const char *xml, GVariant *options, SkDaemon *daemon)
{
    SkDomainEntry *entry = sk_manager_resolve(daemon, invocation, domain);

    return entry ? sk_dbus_dispatch(entry, invocation, "detach-device", sk_job_detach, xml, options,
                                    NULL)
                 : TRUE;
}

static gboolean
sk_on_manager_plan(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                   const char *xml, GVariant *options, SkDaemon *daemon)
{
    SkDomainEntry *entry = sk_manager_resolve(daemon, invocation, domain);

    return entry ? sk_dbus_dispatch(entry, invocation, NULL, sk_job_plan, xml, options, NULL)
                 : TRUE;
}

static gboolean
sk_on_manager_slots(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                    GVariant *options, SkDaemon *daemon)
{
    SkDomainEntry *entry = sk_manager_resolve(daemon, invocation, domain);

    return entry ? sk_dbus_dispatch(entry, invocation, NULL, sk_job_slots, NULL, options, NULL)
                 : TRUE;
}

static gboolean
sk_on_manager_set_policy(SkDbusManager *iface, GDBusMethodInvocation *invocation,
                         const char *domain, GVariant *policy, GVariant *options, SkDaemon *daemon)
{
    SkDomainEntry *entry = sk_manager_resolve(daemon, invocation, domain);

    return entry ? sk_dbus_dispatch(entry, invocation, "policy", sk_job_set_policy, NULL, options,
                                    policy)
                 : TRUE;
}

static void
sk_dbus_reconcile_all(SkDaemon *daemon, GDBusMethodInvocation *invocation, gpointer data)
{
    sk_daemon_reconcile_all(daemon, invocation);
}

static gboolean
sk_on_manager_reconcile(SkDbusManager *iface, GDBusMethodInvocation *invocation, const char *domain,
                        GVariant *options, SkDaemon *daemon)
{
    SkDomainEntry *entry;
    g_autoptr(GError) error = NULL;
    SkOpOptions opts;

    if (*domain == '\0') {
        if (!sk_dbus_parse_options(options, &opts, &error))
            sk_dbus_return_error(invocation, error);
        else
            sk_auth_check(daemon, invocation, "reconcile", NULL, options, sk_dbus_reconcile_all,
                          NULL, NULL);
        return TRUE;
    }
    entry = sk_manager_resolve(daemon, invocation, domain);
    return entry ? sk_dbus_dispatch(entry, invocation, "reconcile", sk_job_reconcile_method, NULL,
                                    options, NULL)
                 : TRUE;
}

void
sk_manager_dbus_export(SkDaemon *daemon)
{
    g_autoptr(GError) error = NULL;

    daemon->manager = sk_dbus_manager_skeleton_new();
    sk_dbus_manager_set_version(daemon->manager, SK_VERSION);
    sk_dbus_manager_set_uri(daemon->manager, daemon->uri);
    sk_dbus_manager_set_connected(daemon->manager, FALSE);
    g_signal_connect(daemon->manager, "handle-get-domain", G_CALLBACK(sk_on_manager_get_domain),
                     daemon);
    g_signal_connect(daemon->manager, "handle-attach-device", G_CALLBACK(sk_on_manager_attach),
                     daemon);
    g_signal_connect(daemon->manager, "handle-detach-device", G_CALLBACK(sk_on_manager_detach),
                     daemon);
    g_signal_connect(daemon->manager, "handle-plan", G_CALLBACK(sk_on_manager_plan), daemon);
    g_signal_connect(daemon->manager, "handle-get-slots", G_CALLBACK(sk_on_manager_slots), daemon);
    g_signal_connect(daemon->manager, "handle-set-policy", G_CALLBACK(sk_on_manager_set_policy),
                     daemon);
    g_signal_connect(daemon->manager, "handle-reconcile", G_CALLBACK(sk_on_manager_reconcile),
                     daemon);
    sk_auth_guard_skeleton(daemon, G_DBUS_INTERFACE_SKELETON(daemon->manager));
    /* The object manager only exports objects below its own path, so the Manager interface
     * sits next to it at the same path, exported directly. */
    if (!g_dbus_interface_skeleton_export(G_DBUS_INTERFACE_SKELETON(daemon->manager), daemon->bus,
                                          SK_DBUS_PATH, &error))
        g_critical("cannot export the Manager interface: %s", error->message);
}
