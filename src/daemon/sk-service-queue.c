/* slotkeeperd: each domain's job queue - its jobs run one at a time in the worker pool and hand
 * what they have over to the main thread, which applies it and starts the domain's next job. */
#include "sk-service.h"

#include "sk-error.h"
#include "sk-service-private.h"

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

SkJob *
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

void
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

void
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

void
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

static void sk_service_run_next(SkEntry *entry);

void
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
    if (!done) {
        /* The reply is queued on the bus: the worker may go on with the job. */
        g_mutex_lock(&service->lock);
        entry->replies++;
        g_cond_broadcast(&service->replied);
        g_mutex_unlock(&service->lock);
        return G_SOURCE_REMOVE;
    }
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

/* Worker side: until the main thread has sent the reply handed over after @seen. What the job
 * does next (the top-up: reading both definitions again, maybe adding a port) would otherwise
 * compete for the CPU with sending the reply; it still ends before the domain's next job. A
 * stopping service lets go at once; the bound is only a safety net. */
static void
sk_job_wait_reply(SkEntry *entry, gint64 seen)
{
    SkService *service = entry->service;
    gint64 end_time = g_get_monotonic_time() + 5 * G_TIME_SPAN_SECOND;

    g_mutex_lock(&service->lock);
    while (entry->replies == seen && !service->stopping)
        if (!g_cond_wait_until(&service->replied, &service->lock, end_time))
            break;
    g_mutex_unlock(&service->lock);
}

void
sk_job_hand_over(SkJob *job, SkSnapshot *snap, gboolean done)
{
    if (!done) {
        /* A copy of the job's hand-over fields, so the worker can keep using the job. */
        SkJob *reply = sk_job_new(job->entry, job->kind);
        SkService *service = job->entry->service;
        gint64 seen;

        reply->done = FALSE;
        reply->task = g_steal_pointer(&job->task);
        reply->result = g_steal_pointer(&job->result);
        reply->error = g_steal_pointer(&job->error);
        reply->info = snap ? sk_domain_info_copy(snap->info) : NULL;
        g_ptr_array_extend_and_steal(reply->events, g_steal_pointer(&job->events));
        job->events = g_ptr_array_new_with_free_func((GDestroyNotify)sk_event_free);
        g_mutex_lock(&service->lock);
        seen = job->entry->replies;
        g_mutex_unlock(&service->lock);
        sk_service_hand(service, reply);
        sk_job_wait_reply(job->entry, seen);
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
