/* slotkeeperd: the service core. The main thread owns the domain table, the D-Bus objects and
 * libvirt's event callbacks (libvirt-glib runs them on the GLib main loop); blocking libvirt
 * calls run in a bounded thread pool, one job per domain at a time, and hand their results back
 * to the main thread with g_main_context_invoke. */
#include "sk-daemon.h"

#include <stdlib.h>
#include <libvirt/virterror.h>
#include <systemd/sd-daemon.h>

#include "sk-dbus-util.h"
#include "sk-domain-dbus.h"
#include "sk-error.h"

#define SK_RECONNECT_SECONDS 3

struct _SkJobGroup {
    GDBusMethodInvocation *invocation;
    guint remaining;
    GError *error;
};

static void
sk_entry_unref(SkDomainEntry *entry)
{
    if (!g_atomic_int_dec_and_test(&entry->ref))
        return;
    g_warn_if_fail(g_queue_is_empty(&entry->jobs));
    g_clear_object(&entry->iface);
    g_clear_object(&entry->object);
    if (entry->dom)
        virDomainFree(entry->dom);
    g_free(entry->uuid);
    g_free(entry->name);
    g_free(entry->path);
    g_free(entry);
}

SkDaemon *
sk_daemon_new(const SkConfig *config, const char *uri)
{
    SkDaemon *daemon = g_new0(SkDaemon, 1);

    daemon->config = *config;
    daemon->uri = g_strdup(uri);
    for (guint i = 0; i < G_N_ELEMENTS(daemon->callback_ids); i++)
        daemon->callback_ids[i] = -1;
    daemon->domains =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)sk_entry_unref);
    return daemon;
}

static void
sk_job_free(SkJob *job)
{
    g_clear_object(&job->invocation);
    g_free(job->xml);
    g_clear_pointer(&job->policy, sk_metadata_free);
    g_clear_error(&job->error);
    g_clear_pointer(&job->reply, g_variant_unref);
    g_clear_pointer(&job->info, sk_domain_info_free);
    g_clear_pointer(&job->events, g_ptr_array_unref);
    if (job->dom)
        virDomainFree(job->dom);
    sk_entry_unref(job->entry);
    g_free(job);
}

SkJob *
sk_job_new(SkDomainEntry *entry, SkJobFunc func, GDBusMethodInvocation *invocation)
{
    SkJob *job = g_new0(SkJob, 1);

    g_atomic_int_inc(&entry->ref);
    job->entry = entry;
    job->func = func;
    job->invocation = invocation ? g_object_ref(invocation) : NULL;
    job->events = g_ptr_array_new_with_free_func((GDestroyNotify)g_variant_unref);
    return job;
}

void
sk_job_return(SkJob *job, GVariant *reply)
{
    g_clear_pointer(&job->reply, g_variant_unref);
    job->reply = g_variant_ref_sink(reply ? reply : g_variant_new("()"));
}

void
sk_job_return_error(SkJob *job, GError *error)
{
    g_clear_error(&job->error);
    job->error = error;
}

void
sk_job_set_event(SkJob *job, const char *kind, const char *message, GVariant *extra)
{
    GVariantBuilder b;

    g_variant_builder_init(&b, G_VARIANT_TYPE_VARDICT);
    g_variant_builder_add(&b, "{sv}", "domain", g_variant_new_string(job->entry->name));
    g_variant_builder_add(&b, "{sv}", "uuid", g_variant_new_string(job->entry->uuid));
    g_variant_builder_add(&b, "{sv}", "message", g_variant_new_string(message));
    if (extra) {
        GVariantIter iter;
        const char *key;
        GVariant *value;

        g_variant_ref_sink(extra);
        g_variant_iter_init(&iter, extra);
        while (g_variant_iter_next(&iter, "{&sv}", &key, &value)) {
            g_variant_builder_add(&b, "{sv}", key, value);
            g_variant_unref(value);
        }
        g_variant_unref(extra);
    }
    g_ptr_array_add(job->events, g_variant_ref_sink(
                                     g_variant_new("(s@a{sv})", kind, g_variant_builder_end(&b))));
}

gboolean
sk_job_reconcile(SkJob *job, GError **error)
{
    SkDomainEntry *entry = job->entry;
    g_autofree char *summary = NULL;
    g_autofree char *message = NULL;

    if (!sk_domain_ops_reconcile(job->dom, &entry->daemon->config, &summary, error))
        return FALSE;
    if (!summary)
        return TRUE;
    message =
        g_strdup_printf("added %s to the persistent definition of '%s'", summary, entry->name);
    g_message("%s", message);
    sk_job_set_event(job, "reconciled", message, NULL);
    return TRUE;
}

/* The event-driven reconcile: failures are logged, nobody waits for a reply. */
static void
sk_job_reconcile_quiet(SkJob *job)
{
    g_autoptr(GError) error = NULL;

    if (!sk_job_reconcile(job, &error)) {
        if (!g_error_matches(error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN))
            g_warning("domain %s: cannot keep its spares: %s", job->entry->name, error->message);
        if (job->group)
            job->error = g_steal_pointer(&error);
    }
}

static void
sk_job_group_done(SkJobGroup *group, const GError *error)
{
    if (error && !group->error)
        group->error = g_error_copy(error);
    if (--group->remaining > 0)
        return;
    if (group->error)
        sk_dbus_return_error(group->invocation, group->error);
    else
        g_dbus_method_invocation_return_value(group->invocation, NULL);
    g_clear_error(&group->error);
    g_object_unref(group->invocation);
    g_free(group);
}

static void
sk_daemon_remove_domain(SkDaemon *daemon, SkDomainEntry *entry)
{
    if (entry->removed)
        return;
    entry->removed = TRUE;
    g_message("domain %s (%s) is gone", entry->name, entry->uuid);
    sk_domain_dbus_unexport(entry);
    g_hash_table_remove(daemon->domains, entry->uuid);
}

static void
sk_daemon_run_next(SkDomainEntry *entry)
{
    SkJob *job;

    while (!entry->busy && (job = g_queue_pop_head(&entry->jobs)) != NULL) {
        if (job->func == sk_job_reconcile_quiet && !job->group)
            entry->reconcile_queued = FALSE;
        if (entry->removed || !entry->daemon->conn) {
            g_autoptr(GError) error = NULL;

            if (entry->removed)
                error = g_error_new(SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN, "domain '%s' is gone",
                                    entry->name);
            else
                error = g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE,
                                    "the libvirt connection to %s is down", entry->daemon->uri);
            if (job->invocation)
                sk_dbus_return_error(job->invocation, error);
            if (job->group)
                sk_job_group_done(job->group, error);
            sk_job_free(job);
            continue;
        }
        entry->busy = TRUE;
        g_thread_pool_push(entry->daemon->pool, job, NULL);
    }
}

/* Main thread: publish what the worker found and start the domain's next job. */
static gboolean
sk_daemon_job_done(gpointer data)
{
    SkJob *job = data;
    SkDomainEntry *entry = job->entry;
    SkDaemon *daemon = entry->daemon;

    for (guint i = 0; i < job->events->len; i++) {
        const char *kind;
        g_autoptr(GVariant) details = NULL;

        g_variant_get(job->events->pdata[i], "(&s@a{sv})", &kind, &details);
        sk_dbus_manager_emit_event(daemon->manager, kind, details);
    }
    if (job->info && !entry->removed) {
        g_free(entry->name);
        entry->name = g_strdup(job->info->name);
        sk_domain_dbus_apply(entry, job->info);
        /* PropertiesChanged before the reply: a caller sees the result in both. */
        g_dbus_interface_skeleton_flush(G_DBUS_INTERFACE_SKELETON(entry->iface));
    }
    if (job->invocation) {
        if (job->reply)
            g_dbus_method_invocation_return_value(job->invocation, job->reply);
        else
            sk_dbus_return_error(job->invocation, job->error);
    }
    if (job->group)
        sk_job_group_done(job->group, job->error);
    entry->busy = FALSE;
    if (job->gone)
        sk_daemon_remove_domain(daemon, entry);
    sk_daemon_run_next(entry);
    sk_job_free(job);
    return G_SOURCE_REMOVE;
}

static void
sk_worker_conn_close(gpointer conn)
{
    virConnectClose(conn);
}

/* Each worker thread has its own libvirt connection: calls on one connection queue behind
 * each other in libvirtd, so a slow operation (a live detach waiting for the guest) would
 * otherwise stall every other domain. */
static GPrivate sk_worker_conn = G_PRIVATE_INIT(sk_worker_conn_close);

static virConnectPtr
sk_daemon_worker_conn(SkDaemon *daemon)
{
    virConnectPtr conn = g_private_get(&sk_worker_conn);

    if (conn != NULL && virConnectIsAlive(conn) == 1)
        return conn;
    conn = virConnectOpen(daemon->uri);
    g_private_replace(&sk_worker_conn, conn);
    return conn;
}

/* Worker thread: the job, then a fresh look at the domain for its properties. */
static void
sk_daemon_worker(gpointer data, gpointer user_data)
{
    SkJob *job = data;
    SkDomainEntry *entry = job->entry;
    virConnectPtr conn = sk_daemon_worker_conn(entry->daemon);
    g_autoptr(GError) error = NULL;

    job->dom = conn ? virDomainLookupByUUIDString(conn, entry->uuid) : NULL;
    if (job->dom == NULL) {
        /* Gone, or no second connection: the main one reports what is wrong. */
        virDomainRef(entry->dom);
        job->dom = entry->dom;
    }
    job->func(job);
    job->info = sk_domain_ops_info(job->dom, &entry->daemon->config, &error);
    if (!job->info) {
        if (g_error_matches(error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN))
            job->gone = TRUE;
        else
            g_warning("domain %s: cannot read its state: %s", entry->name, error->message);
    }
    g_main_context_invoke(NULL, sk_daemon_job_done, job);
}

void
sk_daemon_queue(SkDomainEntry *entry, SkJob *job)
{
    g_queue_push_tail(&entry->jobs, job);
    sk_daemon_run_next(entry);
}

void
sk_daemon_queue_reconcile(SkDomainEntry *entry)
{
    if (entry->reconcile_queued)
        return;
    entry->reconcile_queued = TRUE;
    sk_daemon_queue(entry, sk_job_new(entry, sk_job_reconcile_quiet, NULL));
}

void
sk_daemon_reconcile_all(SkDaemon *daemon, GDBusMethodInvocation *invocation)
{
    SkJobGroup *group;
    GHashTableIter iter;
    gpointer value;

    if (!daemon->conn) {
        g_autoptr(GError) error = g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE,
                                              "not connected to libvirt at %s", daemon->uri);
        sk_dbus_return_error(invocation, error);
        return;
    }
    group = g_new0(SkJobGroup, 1);
    group->invocation = g_object_ref(invocation);
    group->remaining = 1; /* held until every job is queued */
    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SkJob *job = sk_job_new(value, sk_job_reconcile_quiet, NULL);

        job->group = group;
        group->remaining++;
        sk_daemon_queue(value, job);
    }
    sk_job_group_done(group, NULL);
}

SkDomainEntry *
sk_daemon_lookup(SkDaemon *daemon, const char *name_or_uuid)
{
    g_autofree char *lower = g_ascii_strdown(name_or_uuid, -1);
    SkDomainEntry *entry = g_hash_table_lookup(daemon->domains, lower);
    GHashTableIter iter;
    gpointer value;

    if (entry)
        return entry;
    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (g_str_equal(((SkDomainEntry *)value)->name, name_or_uuid))
            return value;
    }
    return NULL;
}

static SkDomainEntry *
sk_daemon_add_domain(SkDaemon *daemon, virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    SkDomainEntry *entry;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    entry = g_hash_table_lookup(daemon->domains, uuid);
    if (entry)
        return entry;
    entry = g_new0(SkDomainEntry, 1);
    entry->ref = 1;
    entry->daemon = daemon;
    entry->uuid = g_strdup(uuid);
    entry->name = g_strdup(virDomainGetName(dom));
    entry->path = sk_dbus_domain_path(uuid);
    virDomainRef(dom);
    entry->dom = dom;
    g_queue_init(&entry->jobs);
    g_hash_table_insert(daemon->domains, entry->uuid, entry);
    sk_domain_dbus_export(entry);
    g_info("domain %s (%s) at %s", entry->name, entry->uuid, entry->path);
    return entry;
}

static SkDomainEntry *
sk_daemon_entry_for(SkDaemon *daemon, virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    return g_hash_table_lookup(daemon->domains, uuid);
}

static int
sk_on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event, int detail, void *opaque)
{
    SkDaemon *daemon = opaque;
    SkDomainEntry *entry = sk_daemon_entry_for(daemon, dom);

    g_debug("domain %s: lifecycle event %d detail %d", virDomainGetName(dom), event, detail);
    /* A domain we have not seen appears with defined or started; ends of unknown ones are
     * nothing to us. */
    if (!entry && event != VIR_DOMAIN_EVENT_UNDEFINED && event != VIR_DOMAIN_EVENT_STOPPED)
        entry = sk_daemon_add_domain(daemon, dom);
    if (entry)
        sk_daemon_queue_reconcile(entry);
    return 0;
}

static void
sk_on_device(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
    SkDomainEntry *entry = sk_daemon_entry_for(opaque, dom);

    g_debug("domain %s: device event for %s", virDomainGetName(dom), alias);
    if (entry)
        sk_daemon_queue_reconcile(entry);
}

static void
sk_on_metadata(virConnectPtr conn, virDomainPtr dom, int type, const char *nsuri, void *opaque)
{
    SkDomainEntry *entry = sk_daemon_entry_for(opaque, dom);

    g_debug("domain %s: metadata changed (%s)", virDomainGetName(dom), nsuri ? nsuri : "-");
    if (entry)
        sk_daemon_queue_reconcile(entry);
}

static void
sk_daemon_maybe_ready(SkDaemon *daemon)
{
    if (!daemon->name_owned || !daemon->conn)
        return;
    if (!daemon->ready)
        g_message("ready: %s on the bus, managing %s", SK_DBUS_NAME, daemon->uri);
    sd_notifyf(0, "%sSTATUS=Managing the domains of %s", daemon->ready ? "" : "READY=1\n",
               daemon->uri);
    daemon->ready = TRUE;
}

static gboolean sk_daemon_try_connect(gpointer data);

/* libvirt sends no event for attach/detach-device --config: read every domain again now and
 * then (coalesced with event-driven reconciles). */
static gboolean
sk_daemon_rescan(gpointer data)
{
    SkDaemon *daemon = data;
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        sk_daemon_queue_reconcile(value);
    return G_SOURCE_CONTINUE;
}

static gboolean
sk_daemon_disconnected(gpointer data)
{
    SkDaemon *daemon = data;
    GHashTableIter iter;
    gpointer value;
    g_autoptr(GPtrArray) entries = g_ptr_array_new();

    if (!daemon->conn)
        return G_SOURCE_REMOVE;
    g_warning("lost the connection to libvirt at %s; reconnecting", daemon->uri);
    for (guint i = 0; i < G_N_ELEMENTS(daemon->callback_ids); i++) {
        if (daemon->callback_ids[i] >= 0)
            virConnectDomainEventDeregisterAny(daemon->conn, daemon->callback_ids[i]);
        daemon->callback_ids[i] = -1;
    }
    g_clear_handle_id(&daemon->rescan_id, g_source_remove);
    virConnectClose(daemon->conn);
    daemon->conn = NULL;
    sk_dbus_manager_set_connected(daemon->manager, FALSE);
    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        g_ptr_array_add(entries, value);
    for (guint i = 0; i < entries->len; i++)
        sk_daemon_remove_domain(daemon, entries->pdata[i]);
    sd_notifyf(0, "STATUS=Waiting for libvirt at %s", daemon->uri);
    if (!daemon->reconnect_id)
        daemon->reconnect_id =
            g_timeout_add_seconds(SK_RECONNECT_SECONDS, sk_daemon_try_connect, daemon);
    return G_SOURCE_REMOVE;
}

static void
sk_on_close(virConnectPtr conn, int reason, void *opaque)
{
    /* Not from inside libvirt's callback: closing the connection there is not allowed. */
    g_idle_add(sk_daemon_disconnected, opaque);
}

static gboolean
sk_daemon_try_connect(gpointer data)
{
    SkDaemon *daemon = data;
    virDomainPtr *doms = NULL;
    int n;

    daemon->reconnect_id = 0;
    daemon->conn = virConnectOpen(daemon->uri);
    if (!daemon->conn) {
        virErrorPtr err = virGetLastError();

        sd_notifyf(0, "STATUS=Waiting for libvirt at %s: %s", daemon->uri,
                   err && err->message ? err->message : "no answer");
        g_warning("cannot connect to libvirt at %s (retrying in %d s): %s", daemon->uri,
                  SK_RECONNECT_SECONDS, err && err->message ? err->message : "no answer");
        daemon->reconnect_id =
            g_timeout_add_seconds(SK_RECONNECT_SECONDS, sk_daemon_try_connect, daemon);
        return G_SOURCE_REMOVE;
    }
    virConnectSetKeepAlive(daemon->conn, 5, 3);
    virConnectRegisterCloseCallback(daemon->conn, sk_on_close, daemon, NULL);
    daemon->callback_ids[0] =
        virConnectDomainEventRegisterAny(daemon->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_lifecycle), daemon, NULL);
    daemon->callback_ids[1] =
        virConnectDomainEventRegisterAny(daemon->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_device), daemon, NULL);
    daemon->callback_ids[2] =
        virConnectDomainEventRegisterAny(daemon->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_device), daemon, NULL);
    daemon->callback_ids[3] =
        virConnectDomainEventRegisterAny(daemon->conn, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_metadata), daemon, NULL);
    if (daemon->callback_ids[0] < 0)
        g_warning("cannot watch libvirt's domain events; changes made by others are only seen "
                  "at the next reconcile");

    n = virConnectListAllDomains(daemon->conn, &doms, 0);
    for (int i = 0; i < n; i++) {
        SkDomainEntry *entry = sk_daemon_add_domain(daemon, doms[i]);

        if (entry)
            sk_daemon_queue_reconcile(entry);
        virDomainFree(doms[i]);
    }
    free(doms);
    g_message("connected to %s: %d domain%s", daemon->uri, MAX(n, 0), n == 1 ? "" : "s");
    sk_dbus_manager_set_connected(daemon->manager, TRUE);
    if (daemon->config.rescan_seconds > 0 && daemon->rescan_id == 0)
        daemon->rescan_id =
            g_timeout_add_seconds(daemon->config.rescan_seconds, sk_daemon_rescan, daemon);
    sk_daemon_maybe_ready(daemon);
    return G_SOURCE_REMOVE;
}

void
sk_daemon_start(SkDaemon *daemon, GDBusConnection *bus)
{
    g_autoptr(GError) error = NULL;

    daemon->bus = g_object_ref(bus);
    daemon->pool =
        g_thread_pool_new(sk_daemon_worker, daemon, (gint)daemon->config.workers, FALSE, &error);
    g_assert_no_error(error);
    daemon->object_manager = g_dbus_object_manager_server_new(SK_DBUS_PATH);
    sk_manager_dbus_export(daemon);
    g_dbus_object_manager_server_set_connection(daemon->object_manager, bus);
    sd_notifyf(0, "STATUS=Connecting to libvirt at %s", daemon->uri);
    sk_daemon_try_connect(daemon);
}

void
sk_daemon_name_acquired(SkDaemon *daemon)
{
    daemon->name_owned = TRUE;
    sk_daemon_maybe_ready(daemon);
}

void
sk_daemon_free(SkDaemon *daemon)
{
    if (!daemon)
        return;
    if (daemon->reconnect_id)
        g_source_remove(daemon->reconnect_id);
    g_clear_handle_id(&daemon->rescan_id, g_source_remove);
    /* Finish the jobs under way; their results are dropped with the main loop gone. */
    if (daemon->pool)
        g_thread_pool_free(daemon->pool, FALSE, TRUE);
    for (guint i = 0; i < G_N_ELEMENTS(daemon->callback_ids); i++) {
        if (daemon->conn && daemon->callback_ids[i] >= 0)
            virConnectDomainEventDeregisterAny(daemon->conn, daemon->callback_ids[i]);
    }
    if (daemon->conn) {
        virConnectUnregisterCloseCallback(daemon->conn, sk_on_close);
        virConnectClose(daemon->conn);
    }
    g_free(daemon->uri);
    g_free(daemon);
}
