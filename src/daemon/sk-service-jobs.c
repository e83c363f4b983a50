/* slotkeeperd: the job bodies, on worker threads - each request, reconcile or refresh on one
 * snapshot of its domain, the events it records and the facts it leaves, handed over to the
 * main thread (sk-service-queue.c). */
#include "sk-service-private.h"

#include "sk-domain-ops.h"
#include "sk-error.h"
#include "sk-virt.h"

/* The top-up every change ends with; a failure does not undo the change. */
static void
sk_job_reconcile(SkJob *job, SkSnapshot *snap, GError **error)
{
    g_autofree char *summary = NULL;
    g_autofree char *message = NULL;
    g_autoptr(GError) local = NULL;

    if (!sk_ops_reconcile(snap, &summary, &local)) {
        if (!g_error_matches(local, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN))
            g_warning("domain %s: cannot keep its spares: %s", sk_snapshot_name(snap),
                      local->message);
        if (error)
            g_propagate_error(error, g_steal_pointer(&local));
        return;
    }
    if (!summary)
        return;
    message = g_strdup_printf("added %s to the persistent definition of '%s'", summary,
                              sk_snapshot_name(snap));
    sk_job_event(job, snap, "reconciled", message, NULL, NULL);
}

static void
sk_job_attach(SkJob *job, SkSnapshot *snap)
{
    g_autoptr(SkResult) result = sk_result_new(SK_REQUEST_ATTACH);
    g_autoptr(GError) local = NULL;
    g_autofree char *message = NULL;
    gboolean live;
    gboolean config;

    if (!sk_ops_attach(snap, job->request, result, &job->error)) {
        if (g_error_matches(job->error, SK_ERROR, SK_ERROR_NO_FREE_SLOT))
            sk_job_event(job, snap, "refused", job->error->message, NULL, NULL);
    } else {
        message = *result->address
                      ? g_strdup_printf("attached a device to '%s' at %s", sk_snapshot_name(snap),
                                        result->address)
                      : g_strdup_printf("attached a device to '%s'", sk_snapshot_name(snap));
        sk_job_event(job, snap, "attached", message, result->address, result->device_xml);
        job->result = g_steal_pointer(&result);
    }
    if (!job->result)
        return; /* a failed attach changed nothing there is to top up */
    live = job->result->live;
    config = job->result->config;
    /* The caller has its answer now; the spare it took is replaced before the domain's next
     * job starts, on the definitions as libvirt has them now. */
    sk_job_hand_over(job, snap, FALSE);
    sk_snapshot_mark(snap, "reply");
    if (!sk_snapshot_reread(snap, live, config, &local)) {
        g_warning("domain %s: cannot read it again after the attach: %s", sk_snapshot_name(snap),
                  local->message);
        return;
    }
    sk_job_reconcile(job, snap, NULL);
}

static gint64
sk_service_removals(gpointer data)
{
    SkEntry *entry = data;
    gint64 n;

    g_mutex_lock(&entry->service->lock);
    n = entry->removals;
    g_mutex_unlock(&entry->service->lock);
    return n;
}

/* Worker side: until the domain's next device-removed event after @seen, or @end_time. */
static gboolean
sk_service_wait_removal(gpointer data, gint64 seen, gint64 end_time)
{
    SkEntry *entry = data;
    SkService *service = entry->service;
    gboolean came = TRUE;

    g_mutex_lock(&service->lock);
    while (entry->removals == seen && !service->stopping && came)
        came = g_cond_wait_until(&service->removed, &service->lock, end_time);
    came = entry->removals != seen;
    g_mutex_unlock(&service->lock);
    return came;
}

static void
sk_job_detach(SkJob *job, SkSnapshot *snap)
{
    g_autofree char *message = NULL;
    SkRemovalWaiter waiter = { sk_service_removals, sk_service_wait_removal, job->entry,
                               job->entry->service->config.detach_timeout_seconds * 1000 };

    if (sk_ops_detach(snap, job->request, &waiter, &job->error)) {
        message = g_strdup_printf("detached a device from '%s'", sk_snapshot_name(snap));
        sk_job_event(job, snap, "detached", message, NULL, job->request->xml);
        job->result = sk_result_new(SK_REQUEST_DETACH);
        sk_job_hand_over(job, snap, FALSE);
        sk_job_reconcile(job, snap, NULL);
    }
}

static void
sk_job_set_policy(SkJob *job, SkSnapshot *snap)
{
    g_autofree char *message = NULL;

    if (!sk_ops_set_policy(snap, job->request->policy, &job->error))
        return;
    message = g_strdup_printf("changed the policy of '%s'", sk_snapshot_name(snap));
    sk_job_event(job, snap, "policy-changed", message, NULL, NULL);
    /* The new policy applies before the call returns. */
    sk_job_reconcile(job, snap, NULL);
    job->result = sk_result_new(SK_REQUEST_SET_POLICY);
}

static void
sk_job_request(SkJob *job, SkSnapshot *snap)
{
    SkRequest *req = job->request;
    g_autoptr(SkResult) result = sk_result_new(req->kind);

    switch (req->kind) {
    case SK_REQUEST_ATTACH:
        sk_job_attach(job, snap);
        return;
    case SK_REQUEST_DETACH:
        sk_job_detach(job, snap);
        return;
    case SK_REQUEST_SET_POLICY:
        sk_job_set_policy(job, snap);
        return;
    case SK_REQUEST_PLAN:
        if (sk_ops_plan(snap, req, result, &job->error))
            job->result = g_steal_pointer(&result);
        return;
    case SK_REQUEST_TOPOLOGY:
        if (sk_ops_topology(snap, req, result, &job->error))
            job->result = g_steal_pointer(&result);
        return;
    case SK_REQUEST_RECONCILE:
        sk_job_reconcile(job, snap, &job->error);
        if (!job->error)
            job->result = g_steal_pointer(&result);
        return;
    default:
        g_assert_not_reached();
    }
}

void
sk_service_worker(gpointer data, gpointer user_data)
{
    SkJob *job = data;
    SkService *service = user_data;
    g_autoptr(GError) error = NULL;
    g_autoptr(virDomain) dom = NULL;
    g_autoptr(SkSnapshot) snap = NULL;
    gint64 started = g_get_monotonic_time();
    gint64 looked_up;
    virConnectPtr conn;

    dom = sk_connection_worker_domain(service->conn, job->entry->uuid, &error);
    conn = dom ? virDomainGetConnect(dom) : NULL;
    looked_up = g_get_monotonic_time();
    if (dom)
        snap = sk_snapshot_read(dom, &service->config, service->host, service->readers, job->known,
                                &error);
    if (!snap) {
        if (g_error_matches(error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN)) {
            g_clear_error(&error);
            g_set_error(&error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN, "domain '%s' no longer exists",
                        job->entry->name);
        }
        job->error = g_steal_pointer(&error);
    } else if (job->kind == SK_JOB_REQUEST) {
        sk_job_request(job, snap);
    } else if (job->kind == SK_JOB_RECONCILE) {
        sk_job_reconcile(job, snap, job->group ? &job->error : NULL);
    }
    /* Also when the first read failed: a libvirtd that hangs ends it with keepalive's
     * "internal error". */
    if (conn && virConnectIsAlive(conn) != 1 && job->error &&
        !g_error_matches(job->error, SK_ERROR, SK_ERROR_UNAVAILABLE)) {
        /* libvirtd went away under the call: whatever libvirt said, the service is the one that
         * cannot answer now. */
        GError *lost = g_error_new(SK_ERROR, SK_ERROR_UNAVAILABLE,
                                   "lost the connection to libvirt at %s during the call (%s); "
                                   "check the domain before trying again",
                                   service->uri, job->error->message);

        g_clear_error(&job->error);
        job->error = lost;
    }
    if (g_error_matches(job->error, SK_ERROR, SK_ERROR_NO_SUCH_DOMAIN)) {
        job->gone = TRUE;
        sk_connection_worker_forget(job->entry->uuid);
    }
    g_debug("domain %s: %s job: waited %.1f ms, lookup %.1f ms, %s; %.1f ms in all",
            job->entry->name,
            job->kind == SK_JOB_REQUEST   ? sk_request_kind_to_verb(job->request->kind)
            : job->kind == SK_JOB_REFRESH ? "refresh"
                                          : "reconcile",
            (started - job->queued) / 1000.0, (looked_up - started) / 1000.0,
            snap ? snap->timeline->str : "no read", (g_get_monotonic_time() - started) / 1000.0);
    sk_job_hand_over(job, snap, TRUE);
}
