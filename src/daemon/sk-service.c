/* slotkeeperd: the service core - SkService, its API and its domain table, on the main thread.
 * The main thread owns the domain table and libvirt's event callbacks (libvirt-glib runs them on
 * the GLib main loop, sk-service-events.c); blocking libvirt calls run in a bounded thread pool,
 * one job per domain at a time (sk-service-queue.c), each on one snapshot of its domain
 * (sk-service-jobs.c), and hand their results back to the main thread with a GSource. */
#include "sk-service.h"

#include "sk-error.h"
#include "sk-service-private.h"

guint sk_service_signals[N_SIGNALS];
GParamSpec *sk_service_props[N_PROPS];

G_DEFINE_TYPE(SkService, sk_service, G_TYPE_OBJECT)

/* ---- the domain table (main thread) ---- */

static void sk_service_check_ready(SkService *service);

void
sk_service_entry_counted(SkService *service, SkEntry *entry)
{
    if (!entry->counts_for_ready)
        return;
    entry->counts_for_ready = FALSE;
    service->unread--;
    sk_service_check_ready(service);
    /* After a reconnect: the domains libvirt listed are all read now. */
    if (service->unread == 0 && service->ready)
        g_object_notify_by_pspec(G_OBJECT(service), sk_service_props[PROP_CONNECTED]);
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

void
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
    service->readers =
        g_thread_pool_new(sk_snapshot_reader, NULL, (gint)service->config.workers, FALSE, &error);
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
sk_service_linked(SkService *service)
{
    return service->conn && sk_connection_get(service->conn) != NULL;
}

gboolean
sk_service_get_connected(SkService *service)
{
    /* Connected, and every domain libvirt listed has been read: a client told "connected"
     * finds each of them. */
    return sk_service_linked(service) && service->unread == 0;
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
    if (!sk_service_linked(service)) {
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

    if (!sk_service_linked(service)) {
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
    g_cond_broadcast(&service->replied);
    g_mutex_unlock(&service->lock);
    g_thread_pool_free(service->pool, FALSE, TRUE);
    service->pool = NULL;
    /* After the workers: each of them waited for the reads it started. */
    g_thread_pool_free(service->readers, FALSE, TRUE);
    service->readers = NULL;
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
    g_cond_clear(&service->replied);
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
    g_cond_init(&service->replied);
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
