/* slotkeeperd: the service core. The main thread owns the domain table, the D-Bus objects and
 * libvirt's event callbacks (libvirt-glib runs them on the GLib main loop); blocking libvirt
 * calls run in a bounded thread pool, one job per domain at a time, and hand their results back
 * to the main thread with g_main_context_invoke. */
#include "sk-daemon.h"

#include <stdlib.h>
#include <string.h>
#include <libvirt/virterror.h>
#include <systemd/sd-daemon.h>

#include "sk-dbus-util.h"
#include "sk-domain-dbus.h"
#include "sk-error.h"

#define SK_RECONNECT_FIRST_MS 500
#define SK_RECONNECT_MAX_MS 8000

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
        if (entry->daemon->stopping) {
            /* A job finished during sk_daemon_free(): the pool takes no more, and
             * sk_daemon_free() drops what is still queued. */
            g_queue_push_head(&entry->jobs, job);
            break;
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
    /* A domain that is gone has nothing left to reconcile: Reconcile() of all is not a failure. */
    if (job->group)
        sk_job_group_done(job->group, job->gone ? NULL : job->error);
    entry->busy = FALSE;
    if (job->gone)
        sk_daemon_remove_domain(daemon, entry);
    sk_daemon_run_next(entry);
    sk_job_free(job);
    return G_SOURCE_REMOVE;
}

/* A worker thread's libvirt connection and the daemon's connection generation it was opened
 * in: after libvirtd restarts every worker drops its old connection, even one that has not
 * noticed yet that it is dead. */
typedef struct {
    virConnectPtr conn;
    gint generation;
} SkWorkerConn;

static void
sk_worker_conn_free(gpointer data)
{
    SkWorkerConn *wc = data;

    if (wc->conn)
        virConnectClose(wc->conn);
    g_free(wc);
}

/* Each worker thread has its own libvirt connection: calls on one connection queue behind
 * each other in libvirtd, so a slow operation (a live detach waiting for the guest) would
 * otherwise stall every other domain. */
static GPrivate sk_worker_conn = G_PRIVATE_INIT(sk_worker_conn_free);

static virConnectPtr
sk_daemon_worker_conn(SkDaemon *daemon, GError **error)
{
    SkWorkerConn *wc = g_private_get(&sk_worker_conn);
    gint generation = g_atomic_int_get(&daemon->conn_generation);

    if (wc && wc->generation == generation && virConnectIsAlive(wc->conn) == 1)
        return wc->conn;
    wc = g_new0(SkWorkerConn, 1);
    wc->generation = generation;
    wc->conn = virConnectOpen(daemon->uri);
    g_private_replace(&sk_worker_conn, wc);
    if (!wc->conn) {
        virErrorPtr err = virGetLastError();

        g_set_error(error, SK_ERROR, SK_ERROR_UNAVAILABLE, "cannot connect to libvirt at %s: %s",
                    daemon->uri, err && err->message ? err->message : "no answer");
        return NULL;
    }
    /* Without keepalive a call to a libvirtd that hangs would never return. */
    virConnectSetKeepAlive(wc->conn, 5, 3);
    return wc->conn;
}

static void
sk_job_fail(SkJob *job, GError *error)
{
    g_clear_pointer(&job->reply, g_variant_unref);
    sk_job_return_error(job, error);
}

/* Worker thread: the job, then a fresh look at the domain for its properties. The domain is
 * looked up again on the worker's connection: a request queued behind a slow one may find its
 * domain undefined (NoSuchDomain) or its connection gone with libvirtd (Unavailable). */
static void
sk_daemon_worker(gpointer data, gpointer user_data)
{
    SkJob *job = data;
    SkDomainEntry *entry = job->entry;
    SkDaemon *daemon = entry->daemon;
    g_autoptr(GError) error = NULL;
    virConnectPtr conn = sk_daemon_worker_conn(daemon, &error);

    if (!conn) {
        sk_job_fail(job, g_steal_pointer(&error));
        g_main_context_invoke(NULL, sk_daemon_job_done, job);
        return;
    }
    job->dom = virDomainLookupByUUIDString(conn, entry->uuid);
    if (job->dom == NULL) {
        sk_virt_set_error(&error, NULL);
        if (g_error_matches(error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN)) {
            job->gone = TRUE;
            g_clear_error(&error);
            g_set_error(&error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN, "domain '%s' no longer exists",
                        entry->name);
        }
        sk_job_fail(job, g_steal_pointer(&error));
        g_main_context_invoke(NULL, sk_daemon_job_done, job);
        return;
    }
    job->func(job);
    if (virConnectIsAlive(conn) != 1) {
        /* libvirtd went away under the call: whatever libvirt said, the service is the one
         * that cannot answer now. */
        if (job->error && !g_error_matches(job->error, SK_ERROR, SK_ERROR_UNAVAILABLE)) {
            GError *lost = g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE,
                                       "lost the connection to libvirt at %s during the call "
                                       "(%s); check the domain before trying again",
                                       daemon->uri, job->error->message);

            sk_job_fail(job, lost);
        }
        g_main_context_invoke(NULL, sk_daemon_job_done, job);
        return;
    }
    job->info = sk_domain_ops_info(job->dom, &daemon->config, &error);
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

typedef struct {
    SkDaemon *daemon;
    char *uuid;
} SkLateReconcile;

static void
sk_late_reconcile_free(SkLateReconcile *late)
{
    g_free(late->uuid);
    g_free(late);
}

static gboolean
sk_on_late_reconcile(gpointer data)
{
    SkLateReconcile *late = data;
    SkDomainEntry *entry = sk_daemon_lookup(late->daemon, late->uuid);

    if (entry && !entry->removed && late->daemon->conn)
        sk_daemon_queue_reconcile(entry);
    return G_SOURCE_REMOVE;
}

/* libvirt emits device-added for an attach --live --config once the live half is done, before
 * it saves the persistent half; the reconcile it triggers may still read the old definition.
 * A second look a moment later sees the saved definition, so a spare taken by a plain virsh
 * attach is replaced within a fraction of a second instead of at the next rescan. */
#define SK_LATE_RECONCILE_MS 250

static void
sk_on_device(virConnectPtr conn, virDomainPtr dom, const char *alias, void *opaque)
{
    SkDomainEntry *entry = sk_daemon_entry_for(opaque, dom);
    SkLateReconcile *late;

    g_debug("domain %s: device event for %s", virDomainGetName(dom), alias);
    if (!entry)
        return;
    sk_daemon_queue_reconcile(entry);
    late = g_new0(SkLateReconcile, 1);
    late->daemon = opaque;
    late->uuid = g_strdup(entry->uuid);
    g_timeout_add_full(G_PRIORITY_DEFAULT, SK_LATE_RECONCILE_MS, sk_on_late_reconcile, late,
                       (GDestroyNotify)sk_late_reconcile_free);
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

/* Retries come quickly at first (a libvirtd restart takes a second or two), then less and
 * less often, so that a libvirtd that stays down is not hammered. */
static void
sk_daemon_schedule_connect(SkDaemon *daemon)
{
    guint delay = daemon->reconnect_delay_ms;

    if (daemon->reconnect_id || daemon->connecting)
        return;
    daemon->reconnect_delay_ms = MIN(delay * 2, SK_RECONNECT_MAX_MS);
    daemon->reconnect_id = g_timeout_add(delay, sk_daemon_try_connect, daemon);
}

static void sk_on_close(virConnectPtr conn, int reason, void *opaque);

/* Deregisters everything of @conn's and closes it. */
static void
sk_daemon_close_conn(virConnectPtr conn, int *callback_ids, guint n_ids)
{
    for (guint i = 0; i < n_ids; i++) {
        if (callback_ids[i] >= 0)
            virConnectDomainEventDeregisterAny(conn, callback_ids[i]);
        callback_ids[i] = -1;
    }
    /* Before the close: the domain objects still hold references to @conn, and its close
     * callback must not fire later and take a newer connection for this one. */
    virConnectUnregisterCloseCallback(conn, sk_on_close);
    virConnectClose(conn);
}

/* Main thread. The D-Bus objects stay (their calls answer Unavailable meanwhile); the domain
 * table is brought up to date at the reconnect. */
static void
sk_daemon_lost_connection(SkDaemon *daemon, const char *why)
{
    g_warning("lost the connection to libvirt at %s (%s); reconnecting", daemon->uri, why);
    sk_daemon_close_conn(daemon->conn, daemon->callback_ids, G_N_ELEMENTS(daemon->callback_ids));
    daemon->conn = NULL;
    g_atomic_int_inc(&daemon->conn_generation);
    g_clear_handle_id(&daemon->rescan_id, g_source_remove);
    sk_dbus_manager_set_connected(daemon->manager, FALSE);
    sd_notifyf(0, "STATUS=Waiting for libvirt at %s: the connection was lost (%s)", daemon->uri,
               why);
    daemon->reconnect_delay_ms = SK_RECONNECT_FIRST_MS;
    sk_daemon_schedule_connect(daemon);
}

typedef struct {
    SkDaemon *daemon;
    virConnectPtr conn; /* compared only: the connection that closed */
    int reason;
} SkCloseEvent;

static gboolean
sk_daemon_disconnected(gpointer data)
{
    SkCloseEvent *ev = data;
    static const char *const reasons[] = { "error", "end of file", "keepalive timeout",
                                           "closed by the client" };

    if (ev->daemon->conn && ev->daemon->conn == ev->conn)
        sk_daemon_lost_connection(
            ev->daemon, ev->reason >= 0 && ev->reason < 4 ? reasons[ev->reason] : "unknown reason");
    return G_SOURCE_REMOVE;
}

static void
sk_on_close(virConnectPtr conn, int reason, void *opaque)
{
    SkCloseEvent *ev = g_new0(SkCloseEvent, 1);

    ev->daemon = opaque;
    ev->conn = conn;
    ev->reason = reason;
    /* Not from inside libvirt's callback (which may run on any thread): closing the
     * connection there is not allowed. */
    g_idle_add_full(G_PRIORITY_DEFAULT, sk_daemon_disconnected, ev, g_free);
}

/* A connection attempt, made in a thread of its own: virConnectOpen waits while a restarting
 * libvirtd initialises, and the main thread must keep answering D-Bus meanwhile. */
typedef struct {
    SkDaemon *daemon; /* only the callbacks' opaque pointer: the thread never touches it */
    char *uri;
    virConnectPtr conn;
    int callback_ids[4];
    virDomainPtr *doms;
    int n_doms;
    char *error;
} SkConnectAttempt;

static void
sk_connect_attempt_free(SkConnectAttempt *attempt)
{
    if (attempt->conn)
        sk_daemon_close_conn(attempt->conn, attempt->callback_ids,
                             G_N_ELEMENTS(attempt->callback_ids));
    for (int i = 0; i < attempt->n_doms; i++)
        virDomainFree(attempt->doms[i]);
    free(attempt->doms);
    g_free(attempt->uri);
    g_free(attempt->error);
    g_free(attempt);
}

static SkConnectAttempt *
sk_connect_attempt_new(SkDaemon *daemon)
{
    SkConnectAttempt *attempt = g_new0(SkConnectAttempt, 1);

    attempt->daemon = daemon;
    attempt->uri = g_strdup(daemon->uri);
    for (guint i = 0; i < G_N_ELEMENTS(attempt->callback_ids); i++)
        attempt->callback_ids[i] = -1;
    return attempt;
}

/* Any thread: connects, registers the callbacks and lists the domains. */
static void
sk_connect_run(SkConnectAttempt *a)
{
    SkDaemon *daemon = a->daemon;
    virErrorPtr err;

    a->conn = virConnectOpen(a->uri);
    if (!a->conn) {
        err = virGetLastError();
        a->error = g_strdup(err && err->message ? err->message : "no answer");
        return;
    }
    virConnectSetKeepAlive(a->conn, 5, 3);
    virConnectRegisterCloseCallback(a->conn, sk_on_close, daemon, NULL);
    /* The events first, then the listing: a domain defined in between is in one or both. */
    a->callback_ids[0] =
        virConnectDomainEventRegisterAny(a->conn, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_lifecycle), daemon, NULL);
    a->callback_ids[1] =
        virConnectDomainEventRegisterAny(a->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_device), daemon, NULL);
    a->callback_ids[2] =
        virConnectDomainEventRegisterAny(a->conn, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_device), daemon, NULL);
    a->callback_ids[3] =
        virConnectDomainEventRegisterAny(a->conn, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_metadata), daemon, NULL);
    if (a->callback_ids[0] < 0)
        g_warning("cannot watch libvirt's domain events; changes made by others are only seen "
                  "at the next reconcile");
    a->n_doms = virConnectListAllDomains(a->conn, &a->doms, 0);
    if (a->n_doms < 0) {
        err = virGetLastError();
        a->error = g_strdup_printf("cannot list the domains: %s",
                                   err && err->message ? err->message : "no answer");
        a->n_doms = 0;
    }
}

static void
sk_connect_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    sk_connect_run(data);
    g_task_return_boolean(task, TRUE);
}

static void
sk_daemon_entry_set_dom(SkDomainEntry *entry, virDomainPtr dom)
{
    virDomainRef(dom);
    if (entry->dom)
        virDomainFree(entry->dom);
    entry->dom = dom;
}

/* After a (re)connect: the domain table as libvirt has it now - domains defined while libvirtd
 * was away are added, undefined ones removed - and every domain reconciled. */
static void
sk_daemon_resync(SkDaemon *daemon, virDomainPtr *doms, int n)
{
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) others = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    for (int i = 0; i < n; i++) {
        SkDomainEntry *entry = sk_daemon_add_domain(daemon, doms[i]);

        if (!entry)
            continue;
        sk_daemon_entry_set_dom(entry, doms[i]);
        g_hash_table_add(listed, entry->uuid);
        sk_daemon_queue_reconcile(entry);
    }
    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (!g_hash_table_contains(listed, ((SkDomainEntry *)value)->uuid))
            g_ptr_array_add(others, value);
    }
    /* Not listed: gone while libvirtd was away - or defined just after the listing (an event
     * added it), so ask once more. */
    for (guint i = 0; i < others->len; i++) {
        SkDomainEntry *entry = others->pdata[i];
        virDomainPtr dom = virDomainLookupByUUIDString(daemon->conn, entry->uuid);
        virErrorPtr err;

        if (dom) {
            sk_daemon_entry_set_dom(entry, dom);
            virDomainFree(dom);
            sk_daemon_queue_reconcile(entry);
        } else if ((err = virGetLastError()) && err->code == VIR_ERR_NO_DOMAIN) {
            sk_daemon_remove_domain(daemon, entry);
        }
    }
}

/* Main thread: the attempt's outcome. */
static void
sk_daemon_connect_finish(SkDaemon *daemon, SkConnectAttempt *a)
{
    daemon->connecting = FALSE;
    if (!a->error && virConnectIsAlive(a->conn) != 1)
        a->error = g_strdup("the connection closed at once");
    if (a->error) {
        sd_notifyf(0, "STATUS=Waiting for libvirt at %s: %s", daemon->uri, a->error);
        g_warning("cannot connect to libvirt at %s (retrying in %.1f s): %s", daemon->uri,
                  daemon->reconnect_delay_ms / 1000.0, a->error);
        sk_daemon_schedule_connect(daemon);
        return;
    }
    daemon->conn = g_steal_pointer(&a->conn);
    memcpy(daemon->callback_ids, a->callback_ids, sizeof(daemon->callback_ids));
    g_atomic_int_inc(&daemon->conn_generation);
    daemon->reconnect_delay_ms = SK_RECONNECT_FIRST_MS;
    sk_daemon_resync(daemon, a->doms, a->n_doms);
    g_message("connected to %s: %d domain%s", daemon->uri, a->n_doms, a->n_doms == 1 ? "" : "s");
    sk_dbus_manager_set_connected(daemon->manager, TRUE);
    if (daemon->config.rescan_seconds > 0 && daemon->rescan_id == 0)
        daemon->rescan_id =
            g_timeout_add_seconds(daemon->config.rescan_seconds, sk_daemon_rescan, daemon);
    sk_daemon_maybe_ready(daemon);
}

static void
sk_daemon_connect_done(GObject *source, GAsyncResult *result, gpointer data)
{
    sk_daemon_connect_finish(data, g_task_get_task_data(G_TASK(result)));
}

static gboolean
sk_daemon_try_connect(gpointer data)
{
    SkDaemon *daemon = data;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, sk_daemon_connect_done, daemon);

    daemon->reconnect_id = 0;
    daemon->connecting = TRUE;
    g_task_set_task_data(task, sk_connect_attempt_new(daemon),
                         (GDestroyNotify)sk_connect_attempt_free);
    g_task_run_in_thread(task, sk_connect_thread);
    return G_SOURCE_REMOVE;
}

void
sk_daemon_start(SkDaemon *daemon, GDBusConnection *bus)
{
    g_autoptr(GError) error = NULL;
    SkConnectAttempt *attempt;

    daemon->bus = g_object_ref(bus);
    daemon->pool =
        g_thread_pool_new(sk_daemon_worker, daemon, (gint)daemon->config.workers, FALSE, &error);
    g_assert_no_error(error);
    daemon->object_manager = g_dbus_object_manager_server_new(SK_DBUS_PATH);
    sk_manager_dbus_export(daemon);
    g_dbus_object_manager_server_set_connection(daemon->object_manager, bus);
    sd_notifyf(0, "STATUS=Connecting to libvirt at %s", daemon->uri);
    sk_fault_init();
    daemon->reconnect_delay_ms = SK_RECONNECT_FIRST_MS;
    /* The first attempt before the bus name is taken, as clients expect: once the name has an
     * owner, the service is connected (unless libvirt is down). Reconnects run in a thread. */
    attempt = sk_connect_attempt_new(daemon);
    sk_connect_run(attempt);
    sk_daemon_connect_finish(daemon, attempt);
    sk_connect_attempt_free(attempt);
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
    GHashTableIter iter;
    gpointer value;

    if (!daemon)
        return;
    if (daemon->reconnect_id)
        g_source_remove(daemon->reconnect_id);
    g_clear_handle_id(&daemon->rescan_id, g_source_remove);
    /* Finish the jobs under way; their results are dropped with the main loop gone (or, when
     * the main context is free, handled right away in the worker: see sk_daemon_run_next). */
    daemon->stopping = TRUE;
    if (daemon->pool)
        g_thread_pool_free(daemon->pool, FALSE, TRUE);
    /* Jobs still waiting never run. */
    g_hash_table_iter_init(&iter, daemon->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SkDomainEntry *entry = value;
        SkJob *job;

        while ((job = g_queue_pop_head(&entry->jobs)) != NULL) {
            g_autoptr(GError) error =
                g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE, "the service is stopping");

            if (job->invocation)
                sk_dbus_return_error(job->invocation, error);
            if (job->group)
                sk_job_group_done(job->group, error);
            sk_job_free(job);
        }
    }
    g_hash_table_destroy(daemon->domains);
    /* A connection attempt still under way is left to the exit. */
    if (daemon->conn)
        sk_daemon_close_conn(daemon->conn, daemon->callback_ids,
                             G_N_ELEMENTS(daemon->callback_ids));
    g_free(daemon->uri);
    g_free(daemon);
}
