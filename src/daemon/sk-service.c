/* slotkeeperd: the service core. The main thread owns the domain table and libvirt's event
 * callbacks (libvirt-glib runs them on the GLib main loop, sk-service-events.c); blocking libvirt
 * calls run in a bounded thread pool, one job per domain at a time, each on one snapshot of its
 * domain (sk-service-jobs.c), and hand their results back to the main thread with a GSource. */
#include "sk-service.h"

#include "sk-error.h"
#include "sk-service-private.h"

guint sk_service_signals[N_SIGNALS];
GParamSpec *sk_service_props[N_PROPS];

G_DEFINE_TYPE(SkService, sk_service, G_TYPE_OBJECT)

/* ---- entries and jobs ---- */

void
sk_entry_unref(SkEntry *entry)
{
    if (!g_atomic_int_dec_and_test(&entry->ref))
        return;
    g_warn_if_fail(g_queue_is_empty(&entry->jobs));
    g_clear_pointer(&entry->info, sk_domain_info_free);
    g_free(entry->uuid);
    g_free(entry->name);
    g_free(entry);
}

static void
sk_event_free(SkServiceEvent *ev)
{
    g_free((char *)ev->kind);
    g_free((char *)ev->domain);
    g_free((char *)ev->uuid);
    g_free((char *)ev->message);
    g_free((char *)ev->address);
    g_free((char *)ev->device_xml);
    g_free(ev);
}

static SkJob *
sk_job_new(SkEntry *entry, SkJobKind kind)
{
    SkJob *job = g_new0(SkJob, 1);

    g_atomic_int_inc(&entry->ref);
    job->entry = entry;
    job->kind = kind;
    job->done = TRUE;
    job->queued = g_get_monotonic_time();
    job->events = g_ptr_array_new_with_free_func((GDestroyNotify)sk_event_free);
    return job;
}

static void
sk_job_free(SkJob *job)
{
    g_clear_pointer(&job->request, sk_request_free);
    g_clear_object(&job->task);
    g_clear_pointer(&job->result, sk_result_free);
    g_clear_error(&job->error);
    g_clear_pointer(&job->info, sk_domain_info_free);
    g_clear_pointer(&job->known, sk_domain_info_free);
    g_clear_pointer(&job->events, g_ptr_array_unref);
    sk_entry_unref(job->entry);
    g_free(job);
}

void
sk_job_event(SkJob *job, const SkSnapshot *snap, const char *kind, const char *message,
             const char *address, const char *device_xml)
{
    SkServiceEvent *ev = g_new0(SkServiceEvent, 1);

    ev->kind = g_strdup(kind);
    ev->domain = g_strdup(snap ? sk_snapshot_name(snap) : job->entry->name);
    ev->uuid = g_strdup(job->entry->uuid);
    ev->message = g_strdup(message);
    ev->address = g_strdup(address);
    ev->device_xml = g_strdup(device_xml);
    g_message("%s", message);
    g_ptr_array_add(job->events, ev);
}

static void
sk_job_group_done(SkJobGroup *group, const GError *error)
{
    if (error && !group->error)
        group->error = g_error_copy(error);
    if (--group->remaining > 0)
        return;
    if (group->error)
        g_task_return_error(group->task, g_steal_pointer(&group->error));
    else
        g_task_return_boolean(group->task, TRUE);
    g_object_unref(group->task);
    g_free(group);
}

/* Answers the job's caller (once) with @error (taken) when the job cannot run. */
static void
sk_job_fail_now(SkJob *job, GError *error)
{
    if (job->task) {
        g_task_return_error(job->task, g_error_copy(error));
        g_clear_object(&job->task);
    }
    if (job->group) {
        sk_job_group_done(job->group, error);
        job->group = NULL;
    }
    g_error_free(error);
}

/* ---- the domain table (main thread) ---- */

static void sk_service_check_ready(SkService *service);

/* The entry's first read is over, whatever its outcome: "ready" waits for no more from it. */
static void
sk_service_entry_counted(SkService *service, SkEntry *entry)
{
    if (!entry->counts_for_ready)
        return;
    entry->counts_for_ready = FALSE;
    service->unread--;
    sk_service_check_ready(service);
}

void
sk_service_remove_entry(SkService *service, SkEntry *entry)
{
    g_autofree char *uuid = NULL;
    gboolean announced = entry->info != NULL;

    if (entry->removed)
        return;
    entry->removed = TRUE;
    g_clear_handle_id(&entry->late_id, g_source_remove);
    uuid = g_strdup(entry->uuid);
    g_message("domain %s (%s) is gone", entry->name, entry->uuid);
    sk_service_entry_counted(service, entry);
    g_hash_table_remove(service->domains, uuid);
    if (announced)
        g_signal_emit(service, sk_service_signals[SIG_DOMAIN_REMOVED], 0, uuid);
}

static void sk_service_run_next(SkEntry *entry);

static void
sk_service_queue(SkEntry *entry, SkJob *job)
{
    g_queue_push_tail(&entry->jobs, job);
    sk_service_run_next(entry);
}

void
sk_service_queue_reconcile(SkEntry *entry)
{
    if (entry->reconcile_queued)
        return;
    entry->reconcile_queued = TRUE;
    sk_service_queue(entry, sk_job_new(entry, SK_JOB_RECONCILE));
}

SkEntry *
sk_service_add_entry(SkService *service, virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];
    SkEntry *entry;

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    entry = g_hash_table_lookup(service->domains, uuid);
    if (entry)
        return entry;
    entry = g_new0(SkEntry, 1);
    entry->ref = 1;
    entry->service = service;
    entry->uuid = g_strdup(uuid);
    entry->name = g_strdup(virDomainGetName(dom));
    g_queue_init(&entry->jobs);
    g_hash_table_insert(service->domains, entry->uuid, entry);
    g_info("domain %s (%s)", entry->name, entry->uuid);
    /* Its facts first, so that it is announced as it is; then its spares. */
    sk_service_queue(entry, sk_job_new(entry, SK_JOB_REFRESH));
    sk_service_queue_reconcile(entry);
    return entry;
}

SkEntry *
sk_service_entry_for(SkService *service, virDomainPtr dom)
{
    char uuid[VIR_UUID_STRING_BUFLEN];

    if (virDomainGetUUIDString(dom, uuid) < 0)
        return NULL;
    return g_hash_table_lookup(service->domains, uuid);
}

static void
sk_service_check_ready(SkService *service)
{
    if (service->ready || !service->started || service->unread > 0)
        return;
    service->ready = TRUE;
    g_signal_emit(service, sk_service_signals[SIG_READY], 0);
}

/* Main thread: the entry's facts as a job found them. */
static void
sk_service_apply_info(SkService *service, SkEntry *entry, SkDomainInfo *info)
{
    gboolean first = entry->info == NULL;
    gboolean changed = first || !sk_domain_info_equal(entry->info, info);

    g_free(entry->name);
    entry->name = g_strdup(info->name);
    if (!changed) {
        sk_domain_info_free(info);
    } else {
        g_clear_pointer(&entry->info, sk_domain_info_free);
        entry->info = info;
        g_signal_emit(service, sk_service_signals[first ? SIG_DOMAIN_ADDED : SIG_DOMAIN_CHANGED], 0,
                      entry->info);
    }
    sk_service_entry_counted(service, entry);
}

/* Main thread: what a worker handed over - events, facts, the reply; and, when the job is done,
 * the domain's next job. */
static gboolean
sk_service_job_handed_over(gpointer data)
{
    SkJob *job = data;
    SkEntry *entry = job->entry;
    SkService *service = entry->service;
    gboolean done = job->done;

    g_mutex_lock(&service->lock);
    g_ptr_array_remove_fast(service->handovers, g_main_current_source());
    g_mutex_unlock(&service->lock);
    job->handled = TRUE;
    for (guint i = 0; i < job->events->len; i++)
        g_signal_emit(service, sk_service_signals[SIG_EVENT], 0, job->events->pdata[i]);
    g_ptr_array_set_size(job->events, 0);
    /* The facts before the reply: a caller sees the result in both. */
    if (job->info && !entry->removed)
        sk_service_apply_info(service, entry, g_steal_pointer(&job->info));
    g_clear_pointer(&job->info, sk_domain_info_free);
    if (job->task && (job->result || job->error)) {
        if (job->result)
            g_task_return_pointer(job->task, g_steal_pointer(&job->result),
                                  (GDestroyNotify)sk_result_free);
        else
            g_task_return_error(job->task, g_steal_pointer(&job->error));
        g_clear_object(&job->task);
    }
    if (!done)
        return G_SOURCE_REMOVE; /* the worker goes on with the job */
    /* A domain that is gone has nothing left to reconcile: Reconcile() of all is not a failure. */
    if (job->group)
        sk_job_group_done(job->group, job->gone ? NULL : job->error);
    entry->busy = FALSE;
    if (job->kind == SK_JOB_REFRESH)
        sk_service_entry_counted(service, entry);
    if (job->gone)
        sk_service_remove_entry(service, entry);
    sk_service_run_next(entry);
    return G_SOURCE_REMOVE; /* sk_service_handover_free frees the job */
}

/* Always through the service's main context, never run in the calling thread: a worker must
 * not touch the domain table even when nobody iterates the context right now. */
static void
sk_service_handover_free(gpointer data)
{
    SkJob *job = data;

    /* Never handled: the service stopped first. */
    if (!job->handled)
        sk_job_fail_now(job,
                        g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE, "the service is stopping"));
    sk_job_free(job);
}

static void
sk_service_hand(SkService *service, SkJob *job)
{
    GSource *source = g_idle_source_new();

    g_source_set_priority(source, G_PRIORITY_DEFAULT);
    g_source_set_callback(source, sk_service_job_handed_over, job, sk_service_handover_free);
    g_mutex_lock(&service->lock);
    g_ptr_array_add(service->handovers, source);
    g_source_attach(source, service->context);
    g_mutex_unlock(&service->lock);
    g_source_unref(source);
}

void
sk_job_hand_over(SkJob *job, SkSnapshot *snap, gboolean done)
{
    if (!done) {
        /* A copy of the job's hand-over fields, so the worker can keep using the job. */
        SkJob *reply = sk_job_new(job->entry, job->kind);

        reply->done = FALSE;
        reply->task = g_steal_pointer(&job->task);
        reply->result = g_steal_pointer(&job->result);
        reply->error = g_steal_pointer(&job->error);
        reply->info = snap ? sk_domain_info_copy(snap->info) : NULL;
        g_ptr_array_extend_and_steal(reply->events, g_steal_pointer(&job->events));
        job->events = g_ptr_array_new_with_free_func((GDestroyNotify)sk_event_free);
        sk_service_hand(job->entry->service, reply);
        return;
    }
    if (snap && !job->gone)
        job->info = sk_domain_info_copy(snap->info);
    sk_service_hand(job->entry->service, job);
}

/* Main thread: starts the domain's next job unless one runs. */
static void
sk_service_run_next(SkEntry *entry)
{
    SkService *service = entry->service;
    SkJob *job;

    while (!entry->busy && (job = g_queue_pop_head(&entry->jobs)) != NULL) {
        if (job->kind == SK_JOB_RECONCILE && !job->group)
            entry->reconcile_queued = FALSE;
        if (entry->removed || !sk_connection_get(service->conn)) {
            GError *error;

            if (entry->removed)
                error = g_error_new(SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN, "domain '%s' is gone",
                                    entry->name);
            else
                error = g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE,
                                    "the libvirt connection to %s is down", service->uri);
            sk_job_fail_now(job, error);
            if (job->kind == SK_JOB_REFRESH)
                sk_service_entry_counted(service, entry);
            sk_job_free(job);
            continue;
        }
        if (service->stopping) {
            /* A job finished while the service stops: the pool takes no more, and dispose
             * drops what is still queued. */
            g_queue_push_head(&entry->jobs, job);
            break;
        }
        entry->busy = TRUE;
        /* Requests are the latency that callers see; reconciles read the state afresh. */
        if (job->kind == SK_JOB_REQUEST && entry->info)
            job->known = sk_domain_info_copy(entry->info);
        g_thread_pool_push(service->pool, job, NULL);
    }
}

/* ---- public API ---- */

SkService *
sk_service_new(const SkConfig *config, const char *uri, const SkHostPci *host)
{
    SkService *service = g_object_new(SK_TYPE_SERVICE, NULL);
    g_autoptr(GError) error = NULL;

    service->config = *config;
    service->config.watch_dir = g_strdup(config->watch_dir);
    service->uri = g_strdup(uri);
    if (service->config.workers == 0)
        service->config.workers = 1;
    service->host = host;
    service->conn = sk_connection_new(uri, &sk_service_conn_events, service);
    service->pool =
        g_thread_pool_new(sk_service_worker, service, (gint)service->config.workers, FALSE, &error);
    g_assert_no_error(error);
    return service;
}

void
sk_service_start(SkService *service)
{
    g_return_if_fail(!service->started);
    sk_connection_start(service->conn);
    service->started = TRUE;
    sk_service_check_ready(service);
}

const char *
sk_service_get_uri(SkService *service)
{
    return service->uri;
}

gboolean
sk_service_get_connected(SkService *service)
{
    return service->conn && sk_connection_get(service->conn) != NULL;
}

gboolean
sk_service_get_ready(SkService *service)
{
    return service->ready;
}

const char *
sk_service_get_connect_error(SkService *service)
{
    if (service->stopped)
        return "the service is stopping";
    return sk_connection_get_error(service->conn);
}

static int
sk_service_compare_info(gconstpointer a, gconstpointer b)
{
    const SkDomainInfo *ia = *(const SkDomainInfo *const *)a;
    const SkDomainInfo *ib = *(const SkDomainInfo *const *)b;

    return g_strcmp0(ia->name, ib->name);
}

GPtrArray *
sk_service_list_domains(SkService *service)
{
    GPtrArray *list = g_ptr_array_new();
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, service->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SkEntry *entry = value;

        if (entry->info && !entry->removed)
            g_ptr_array_add(list, entry->info);
    }
    g_ptr_array_sort(list, sk_service_compare_info);
    return list;
}

/* As virsh resolves a domain: a running domain's id, a UUID, a name. */
static SkEntry *
sk_service_find(SkService *service, const char *name_or_uuid)
{
    g_autofree char *lower = g_ascii_strdown(name_or_uuid, -1);
    SkEntry *entry = NULL;
    GHashTableIter iter;
    gpointer value;
    guint64 id = 0;

    if (g_ascii_string_to_unsigned(name_or_uuid, 10, 0, G_MAXINT, &id, NULL)) {
        g_hash_table_iter_init(&iter, service->domains);
        while (g_hash_table_iter_next(&iter, NULL, &value)) {
            entry = value;
            if (entry->info && entry->info->id == (int)id)
                return entry;
        }
    }
    entry = g_hash_table_lookup(service->domains, lower);
    if (entry && entry->info)
        return entry;
    g_hash_table_iter_init(&iter, service->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        entry = value;
        if (entry->info && g_str_equal(entry->name, name_or_uuid))
            return entry;
    }
    return NULL;
}

const SkDomainInfo *
sk_service_lookup(SkService *service, const char *name_or_uuid)
{
    SkEntry *entry = sk_service_find(service, name_or_uuid);

    return entry ? entry->info : NULL;
}

void
sk_service_submit(SkService *service, const char *uuid, SkRequest *request,
                  GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data)
{
    g_autoptr(GTask) task = g_task_new(service, cancellable, callback, user_data);
    g_autoptr(SkRequest) req = request;
    SkEntry *entry = g_hash_table_lookup(service->domains, uuid);
    SkJob *job;

    g_task_set_source_tag(task, sk_service_submit);
    if (service->stopping) {
        g_task_return_new_error(task, SK_ERROR, SK_ERROR_UNAVAILABLE, "the service is stopping");
        return;
    }
    if (!entry || entry->removed || !entry->info) {
        g_task_return_new_error(task, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN,
                                "domain %s no longer exists", uuid);
        return;
    }
    if (!sk_service_get_connected(service)) {
        g_task_return_new_error(task, SK_ERROR, SK_ERROR_UNAVAILABLE,
                                "not connected to libvirt at %s: %s", sk_service_get_uri(service),
                                sk_service_get_connect_error(service));
        return;
    }
    job = sk_job_new(entry, SK_JOB_REQUEST);
    job->request = g_steal_pointer(&req);
    job->task = g_steal_pointer(&task);
    sk_service_queue(entry, job);
}

SkResult *
sk_service_submit_finish(SkService *service, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, service), NULL);
    return g_task_propagate_pointer(G_TASK(result), error);
}

void
sk_service_reconcile_all(SkService *service, GCancellable *cancellable,
                         GAsyncReadyCallback callback, gpointer user_data)
{
    GTask *task = g_task_new(service, cancellable, callback, user_data);
    SkJobGroup *group;
    GHashTableIter iter;
    gpointer value;

    if (!sk_service_get_connected(service)) {
        g_task_return_new_error(task, SK_ERROR, SK_ERROR_UNAVAILABLE,
                                "not connected to libvirt at %s: %s", sk_service_get_uri(service),
                                sk_service_get_connect_error(service));
        g_object_unref(task);
        return;
    }
    group = g_new0(SkJobGroup, 1);
    group->task = task;
    group->remaining = 1; /* held until every job is queued */
    g_hash_table_iter_init(&iter, service->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SkJob *job = sk_job_new(value, SK_JOB_RECONCILE);

        job->group = group;
        group->remaining++;
        sk_service_queue(value, job);
    }
    sk_job_group_done(group, NULL);
}

gboolean
sk_service_reconcile_all_finish(SkService *service, GAsyncResult *result, GError **error)
{
    g_return_val_if_fail(g_task_is_valid(result, service), FALSE);
    return g_task_propagate_boolean(G_TASK(result), error);
}

/* ---- GObject ---- */

void
sk_service_stop(SkService *service)
{
    GHashTableIter iter;
    gpointer value;
    g_autoptr(GPtrArray) handovers = NULL;

    if (service->stopped)
        return;
    service->stopped = TRUE;
    g_clear_handle_id(&service->rescan_id, g_source_remove);
    g_clear_pointer(&service->watch, sk_watch_free);
    /* Finish the jobs under way (a detach waiting for its guest gives up); what they hand over
     * is dropped below. */
    g_mutex_lock(&service->lock);
    service->stopping = TRUE;
    g_cond_broadcast(&service->removed);
    g_mutex_unlock(&service->lock);
    g_thread_pool_free(service->pool, FALSE, TRUE);
    service->pool = NULL;
    g_mutex_lock(&service->lock);
    handovers = g_steal_pointer(&service->handovers);
    service->handovers = g_ptr_array_new();
    g_mutex_unlock(&service->lock);
    for (guint i = 0; i < handovers->len; i++)
        g_source_destroy(handovers->pdata[i]);
    /* Jobs still waiting never run. */
    g_hash_table_iter_init(&iter, service->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SkEntry *entry = value;
        SkJob *job;

        g_clear_handle_id(&entry->late_id, g_source_remove);
        while ((job = g_queue_pop_head(&entry->jobs)) != NULL) {
            sk_job_fail_now(job,
                            g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE, "the service is stopping"));
            sk_job_free(job);
        }
    }
    g_hash_table_remove_all(service->domains);
    g_clear_pointer(&service->conn, sk_connection_free);
}

static void
sk_service_dispose(GObject *object)
{
    sk_service_stop(SK_SERVICE(object));
    G_OBJECT_CLASS(sk_service_parent_class)->dispose(object);
}

static void
sk_service_finalize(GObject *object)
{
    SkService *service = SK_SERVICE(object);

    g_hash_table_destroy(service->domains);
    g_ptr_array_unref(service->handovers);
    g_free(service->uri);
    sk_config_clear(&service->config);
    g_cond_clear(&service->removed);
    g_mutex_clear(&service->lock);
    g_main_context_unref(service->context);
    G_OBJECT_CLASS(sk_service_parent_class)->finalize(object);
}

static void
sk_service_get_property(GObject *object, guint id, GValue *value, GParamSpec *pspec)
{
    SkService *service = SK_SERVICE(object);

    switch (id) {
    case PROP_CONNECTED:
        g_value_set_boolean(value, sk_service_get_connected(service));
        break;
    default:
        G_OBJECT_WARN_INVALID_PROPERTY_ID(object, id, pspec);
    }
}

static void
sk_service_init(SkService *service)
{
    service->domains =
        g_hash_table_new_full(g_str_hash, g_str_equal, NULL, (GDestroyNotify)sk_entry_unref);
    service->context = g_main_context_ref_thread_default();
    service->handovers = g_ptr_array_new();
    g_mutex_init(&service->lock);
    g_cond_init(&service->removed);
}

static void
sk_service_class_init(SkServiceClass *klass)
{
    GObjectClass *object_class = G_OBJECT_CLASS(klass);

    object_class->dispose = sk_service_dispose;
    object_class->finalize = sk_service_finalize;
    object_class->get_property = sk_service_get_property;
    sk_service_props[PROP_CONNECTED] =
        g_param_spec_boolean("connected", NULL, NULL, FALSE,
                             G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
    g_object_class_install_properties(object_class, N_PROPS, sk_service_props);
    sk_service_signals[SIG_DOMAIN_ADDED] =
        g_signal_new("domain-added", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
    sk_service_signals[SIG_DOMAIN_CHANGED] =
        g_signal_new("domain-changed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_POINTER);
    sk_service_signals[SIG_DOMAIN_REMOVED] =
        g_signal_new("domain-removed", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL,
                     NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
    sk_service_signals[SIG_EVENT] =
        g_signal_new("event", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                     G_TYPE_NONE, 1, G_TYPE_POINTER);
    sk_service_signals[SIG_READY] = g_signal_new(
        "ready", G_TYPE_FROM_CLASS(klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL, G_TYPE_NONE, 0);
}
