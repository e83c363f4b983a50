/* slotkeeperd: libvirt connections, events and reconnecting (see sk-connection.h). */
#include "sk-connection.h"

#include <gio/gio.h>
#include <libvirt/virterror.h>
#include <stdlib.h>
#include <string.h>

#include "sk-error.h"
#include "sk-virt.h"

#define SK_RECONNECT_FIRST_MS 500
#define SK_RECONNECT_MAX_MS 8000
/* Without keepalive a call to a libvirtd that hangs would never return: 5 s x 3. */
#define SK_KEEPALIVE_INTERVAL 5
#define SK_KEEPALIVE_COUNT 3
/* libvirt closes a connection whose libvirtd stopped answering at the timer tick after the last
 * unanswered ping; opening one has no keepalive yet, so a worker gives up after as long. */
#define SK_KEEPALIVE_BOUND_S (SK_KEEPALIVE_INTERVAL * (SK_KEEPALIVE_COUNT + 1))

enum { SK_CB_LIFECYCLE, SK_CB_DEVICE_ADDED, SK_CB_DEVICE_REMOVED, SK_CB_METADATA, SK_N_CB };

struct _SkConnection {
    char *uri;
    SkConnectionEvents events;
    gpointer owner;
    virConnectPtr conn;
    int callback_ids[SK_N_CB];
    char *error;
    guint reconnect_id;
    guint reconnect_delay_ms; /* the next retry's delay: doubles up to a cap, reset on success */
    gboolean connecting;      /* an attempt runs in its own thread */
    gint generation;          /* bumped at each (dis)connect: workers reopen their connections */
};

/* ---- worker connections ---- */

/* A worker thread's connection and the generation it was opened in: after libvirtd restarts
 * every worker drops its old connection, even one that has not noticed yet that it is dead. */
typedef struct {
    virConnectPtr conn;
    gint generation;
    GHashTable *domains; /* uuid -> virDomainPtr on @conn: looked up once */
} SkWorkerConn;

static void
sk_worker_domain_free(gpointer dom)
{
    virDomainFree(dom);
}

static void
sk_worker_conn_free(gpointer data)
{
    SkWorkerConn *wc = data;

    g_hash_table_destroy(wc->domains);
    if (wc->conn)
        virConnectClose(wc->conn);
    g_free(wc);
}

/* Each worker thread has its own connection: calls on one connection queue behind each other
 * in libvirtd, so a slow operation (a live detach waiting for the guest) would otherwise stall
 * every other domain. */
static GPrivate sk_worker_conn = G_PRIVATE_INIT(sk_worker_conn_free);

/* A worker's virConnectOpen, made in a thread of its own: it has no timeout, and against a
 * libvirtd that is stopped or hung it would wait until libvirtd goes on - with the caller's job,
 * which would then run long after the caller gave up. The worker waits a bounded time; an
 * attempt it gave up on closes its connection when it ever gets one. */
typedef struct {
    gint ref;
    GMutex lock;
    GCond cond;
    char *uri;
    gboolean done;      /* the thread is through */
    gboolean abandoned; /* the worker stopped waiting */
    virConnectPtr conn;
    char *error;
} SkWorkerOpen;

static void
sk_worker_open_unref(SkWorkerOpen *op)
{
    if (!g_atomic_int_dec_and_test(&op->ref))
        return;
    if (op->conn)
        virConnectClose(op->conn);
    g_mutex_clear(&op->lock);
    g_cond_clear(&op->cond);
    g_free(op->uri);
    g_free(op->error);
    g_free(op);
}

static gpointer
sk_worker_open_thread(gpointer data)
{
    SkWorkerOpen *op = data;
    virConnectPtr c = virConnectOpen(op->uri);
    virErrorPtr err = c ? NULL : virGetLastError();

    g_mutex_lock(&op->lock);
    op->done = TRUE;
    if (c && op->abandoned) {
        g_mutex_unlock(&op->lock);
        virConnectClose(c);
    } else {
        op->conn = c;
        op->error = c ? NULL : g_strdup(err && err->message ? err->message : "no answer");
        g_cond_signal(&op->cond);
        g_mutex_unlock(&op->lock);
    }
    sk_worker_open_unref(op);
    return NULL;
}

static virConnectPtr
sk_worker_open(const char *uri, GError **error)
{
    SkWorkerOpen *op = g_new0(SkWorkerOpen, 1);
    gint64 deadline = g_get_monotonic_time() + SK_KEEPALIVE_BOUND_S * G_TIME_SPAN_SECOND;
    g_autoptr(GThread) thread = NULL;
    virConnectPtr c = NULL;

    op->ref = 2;
    op->uri = g_strdup(uri);
    g_mutex_init(&op->lock);
    g_cond_init(&op->cond);
    thread = g_thread_new("sk-open", sk_worker_open_thread, op);
    g_mutex_lock(&op->lock);
    while (!op->done && g_cond_wait_until(&op->cond, &op->lock, deadline))
        ;
    if (!op->done) {
        op->abandoned = TRUE;
        g_set_error(error, SK_ERROR, SK_ERROR_UNAVAILABLE,
                    "libvirt at %s did not answer within %d s; is libvirtd hung?", uri,
                    SK_KEEPALIVE_BOUND_S);
    } else if (!op->conn) {
        g_set_error(error, SK_ERROR, SK_ERROR_UNAVAILABLE, "cannot connect to libvirt at %s: %s",
                    uri, op->error);
    }
    c = g_steal_pointer(&op->conn);
    g_mutex_unlock(&op->lock);
    sk_worker_open_unref(op);
    return c;
}

virConnectPtr
sk_connection_worker(SkConnection *conn, GError **error)
{
    SkWorkerConn *wc = g_private_get(&sk_worker_conn);
    gint generation = g_atomic_int_get(&conn->generation);

    if (wc && wc->generation == generation && virConnectIsAlive(wc->conn) == 1)
        return wc->conn;
    if (wc && wc->conn && wc->generation == generation)
        g_debug("a worker's connection to %s was closed; opening another", conn->uri);
    wc = g_new0(SkWorkerConn, 1);
    wc->generation = generation;
    wc->domains = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, sk_worker_domain_free);
    wc->conn = sk_worker_open(conn->uri, error);
    g_private_replace(&sk_worker_conn, wc);
    if (!wc->conn)
        return NULL;
    virConnectSetKeepAlive(wc->conn, SK_KEEPALIVE_INTERVAL, SK_KEEPALIVE_COUNT);
    return wc->conn;
}

virDomainPtr
sk_connection_worker_domain(SkConnection *conn, const char *uuid, GError **error)
{
    virConnectPtr c = sk_connection_worker(conn, error);
    SkWorkerConn *wc = g_private_get(&sk_worker_conn);
    virDomainPtr dom;

    if (!c)
        return NULL;
    dom = g_hash_table_lookup(wc->domains, uuid);
    if (!dom) {
        dom = virDomainLookupByUUIDString(c, uuid);
        if (!dom)
            return sk_virt_set_error(error, NULL), NULL;
        g_hash_table_insert(wc->domains, g_strdup(uuid), dom);
    }
    virDomainRef(dom);
    return dom;
}

void
sk_connection_worker_forget(const char *uuid)
{
    SkWorkerConn *wc = g_private_get(&sk_worker_conn);

    if (wc)
        g_hash_table_remove(wc->domains, uuid);
}

/* ---- libvirt's callbacks (main thread, through libvirt-glib) ---- */

static int
sk_on_lifecycle(virConnectPtr c, virDomainPtr dom, int event, int detail, void *opaque)
{
    SkConnection *conn = opaque;

    conn->events.lifecycle(conn->owner, dom, event, detail);
    return 0;
}

static void
sk_on_device_added(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
    SkConnection *conn = opaque;

    conn->events.device(conn->owner, dom, alias, FALSE);
}

static void
sk_on_device_removed(virConnectPtr c, virDomainPtr dom, const char *alias, void *opaque)
{
    SkConnection *conn = opaque;

    conn->events.device(conn->owner, dom, alias, TRUE);
}

static void
sk_on_metadata(virConnectPtr c, virDomainPtr dom, int type, const char *nsuri, void *opaque)
{
    SkConnection *conn = opaque;

    conn->events.metadata(conn->owner, dom);
}

static void sk_on_close(virConnectPtr c, int reason, void *opaque);

/* Deregisters everything of @c's and closes it. */
static void
sk_connection_close(virConnectPtr c, int *callback_ids)
{
    for (guint i = 0; i < SK_N_CB; i++) {
        if (callback_ids[i] >= 0)
            virConnectDomainEventDeregisterAny(c, callback_ids[i]);
        callback_ids[i] = -1;
    }
    /* Before the close: its close callback must not fire later and take a newer connection
     * for this one. */
    virConnectUnregisterCloseCallback(c, sk_on_close);
    virConnectClose(c);
}

static gboolean sk_connection_try(gpointer data);

/* Retries come quickly at first (a libvirtd restart takes a second or two), then less and
 * less often, so that a libvirtd that stays down is not hammered. */
static void
sk_connection_schedule(SkConnection *conn)
{
    guint delay = conn->reconnect_delay_ms;

    if (conn->reconnect_id || conn->connecting)
        return;
    conn->reconnect_delay_ms = MIN(delay * 2, SK_RECONNECT_MAX_MS);
    conn->reconnect_id = g_timeout_add(delay, sk_connection_try, conn);
}

static void
sk_connection_lost(SkConnection *conn, const char *why)
{
    g_warning("lost the connection to libvirt at %s (%s); reconnecting", conn->uri, why);
    sk_connection_close(conn->conn, conn->callback_ids);
    conn->conn = NULL;
    g_free(conn->error);
    conn->error = g_strdup_printf("the connection was lost (%s)", why);
    g_atomic_int_inc(&conn->generation);
    conn->reconnect_delay_ms = SK_RECONNECT_FIRST_MS;
    sk_connection_schedule(conn);
    conn->events.disconnected(conn->owner, conn->error);
}

typedef struct {
    SkConnection *conn;
    virConnectPtr closed; /* compared only */
    int reason;
} SkCloseEvent;

static gboolean
sk_connection_closed(gpointer data)
{
    SkCloseEvent *ev = data;
    static const char *const reasons[] = { "error", "end of file", "keepalive timeout",
                                           "closed by the client" };

    if (ev->conn->conn && ev->conn->conn == ev->closed)
        sk_connection_lost(ev->conn, ev->reason >= 0 && ev->reason < (int)G_N_ELEMENTS(reasons)
                                         ? reasons[ev->reason]
                                         : "unknown reason");
    return G_SOURCE_REMOVE;
}

static void
sk_on_close(virConnectPtr c, int reason, void *opaque)
{
    SkCloseEvent *ev = g_new0(SkCloseEvent, 1);

    ev->conn = opaque;
    ev->closed = c;
    ev->reason = reason;
    /* Not from inside libvirt's callback (which may run on any thread): closing the
     * connection there is not allowed. */
    g_idle_add_full(G_PRIORITY_DEFAULT, sk_connection_closed, ev, g_free);
}

/* ---- connection attempts ---- */

/* Made in a thread of its own: virConnectOpen waits while a restarting libvirtd initialises,
 * and the main thread must keep answering D-Bus meanwhile. */
typedef struct {
    SkConnection *conn; /* only the callbacks' opaque pointer: the thread never touches it */
    char *uri;
    virConnectPtr c;
    int callback_ids[SK_N_CB];
    virDomainPtr *doms;
    int n_doms;
    char *error;
} SkAttempt;

static void
sk_attempt_free(SkAttempt *a)
{
    if (a->c)
        sk_connection_close(a->c, a->callback_ids);
    for (int i = 0; i < a->n_doms; i++)
        virDomainFree(a->doms[i]);
    free(a->doms);
    g_free(a->uri);
    g_free(a->error);
    g_free(a);
}

static SkAttempt *
sk_attempt_new(SkConnection *conn)
{
    SkAttempt *a = g_new0(SkAttempt, 1);

    a->conn = conn;
    a->uri = g_strdup(conn->uri);
    for (guint i = 0; i < SK_N_CB; i++)
        a->callback_ids[i] = -1;
    return a;
}

static const char *
sk_last_error(void)
{
    virErrorPtr err = virGetLastError();

    return err && err->message ? err->message : "no answer";
}

/* Any thread: connects, registers the callbacks and lists the domains. */
static void
sk_attempt_run(SkAttempt *a)
{
    a->c = virConnectOpen(a->uri);
    if (!a->c) {
        a->error = g_strdup(sk_last_error());
        return;
    }
    virConnectSetKeepAlive(a->c, SK_KEEPALIVE_INTERVAL, SK_KEEPALIVE_COUNT);
    virConnectRegisterCloseCallback(a->c, sk_on_close, a->conn, NULL);
    a->callback_ids[SK_CB_LIFECYCLE] =
        virConnectDomainEventRegisterAny(a->c, NULL, VIR_DOMAIN_EVENT_ID_LIFECYCLE,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_lifecycle), a->conn, NULL);
    a->callback_ids[SK_CB_DEVICE_ADDED] = virConnectDomainEventRegisterAny(
        a->c, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_ADDED, VIR_DOMAIN_EVENT_CALLBACK(sk_on_device_added),
        a->conn, NULL);
    a->callback_ids[SK_CB_DEVICE_REMOVED] = virConnectDomainEventRegisterAny(
        a->c, NULL, VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
        VIR_DOMAIN_EVENT_CALLBACK(sk_on_device_removed), a->conn, NULL);
    a->callback_ids[SK_CB_METADATA] =
        virConnectDomainEventRegisterAny(a->c, NULL, VIR_DOMAIN_EVENT_ID_METADATA_CHANGE,
                                         VIR_DOMAIN_EVENT_CALLBACK(sk_on_metadata), a->conn, NULL);
    if (a->callback_ids[SK_CB_LIFECYCLE] < 0)
        g_warning("cannot watch libvirt's domain events; changes made by others are only seen "
                  "at the next rescan");
    a->n_doms = virConnectListAllDomains(a->c, &a->doms, 0);
    if (a->n_doms < 0) {
        a->error = g_strdup_printf("cannot list the domains: %s", sk_last_error());
        a->n_doms = 0;
    }
}

static void
sk_attempt_thread(GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
    sk_attempt_run(data);
    g_task_return_boolean(task, TRUE);
}

/* Main thread: the attempt's outcome. */
static void
sk_connection_finish(SkConnection *conn, SkAttempt *a)
{
    conn->connecting = FALSE;
    if (!a->error && virConnectIsAlive(a->c) != 1)
        a->error = g_strdup("the connection closed at once");
    g_free(conn->error);
    conn->error = NULL;
    if (a->error) {
        conn->error = g_strdup_printf("cannot connect to %s: %s", conn->uri, a->error);
        g_warning("%s (retrying in %.1f s)", conn->error, conn->reconnect_delay_ms / 1000.0);
        sk_connection_schedule(conn);
        conn->events.disconnected(conn->owner, conn->error);
        return;
    }
    conn->conn = g_steal_pointer(&a->c);
    memcpy(conn->callback_ids, a->callback_ids, sizeof(conn->callback_ids));
    g_atomic_int_inc(&conn->generation);
    conn->reconnect_delay_ms = SK_RECONNECT_FIRST_MS;
    g_message("connected to %s: %d domain%s", conn->uri, a->n_doms, a->n_doms == 1 ? "" : "s");
    conn->events.connected(conn->owner, a->doms, a->n_doms);
}

static void
sk_connection_attempt_done(GObject *source, GAsyncResult *result, gpointer data)
{
    sk_connection_finish(data, g_task_get_task_data(G_TASK(result)));
}

static gboolean
sk_connection_try(gpointer data)
{
    SkConnection *conn = data;
    g_autoptr(GTask) task = g_task_new(NULL, NULL, sk_connection_attempt_done, conn);

    conn->reconnect_id = 0;
    conn->connecting = TRUE;
    g_task_set_task_data(task, sk_attempt_new(conn), (GDestroyNotify)sk_attempt_free);
    g_task_run_in_thread(task, sk_attempt_thread);
    return G_SOURCE_REMOVE;
}

SkConnection *
sk_connection_new(const char *uri, const SkConnectionEvents *events, gpointer owner)
{
    SkConnection *conn = g_new0(SkConnection, 1);

    conn->uri = g_strdup(uri);
    conn->events = *events;
    conn->owner = owner;
    conn->reconnect_delay_ms = SK_RECONNECT_FIRST_MS;
    for (guint i = 0; i < SK_N_CB; i++)
        conn->callback_ids[i] = -1;
    return conn;
}

void
sk_connection_start(SkConnection *conn)
{
    SkAttempt *a = sk_attempt_new(conn);

    sk_attempt_run(a);
    sk_connection_finish(conn, a);
    sk_attempt_free(a);
}

const char *
sk_connection_get_uri(SkConnection *conn)
{
    return conn->uri;
}

virConnectPtr
sk_connection_get(SkConnection *conn)
{
    return conn->conn;
}

const char *
sk_connection_get_error(SkConnection *conn)
{
    return conn->error;
}

void
sk_connection_free(SkConnection *conn)
{
    if (!conn)
        return;
    g_clear_handle_id(&conn->reconnect_id, g_source_remove);
    if (conn->conn)
        sk_connection_close(conn->conn, conn->callback_ids);
    g_free(conn->uri);
    g_free(conn->error);
    g_free(conn);
}
