/* slotkeeperd: what the service core's files share - the service's fields, a domain's entry, a job
 * and what it hands over - and the steps one file takes for another: sk-service.c (the object, its
 * API and the domain table), sk-service-queue.c (each domain's jobs, one at a time, handed over to
 * the main thread), sk-service-jobs.c (the job bodies, on worker threads) and sk-service-events.c
 * (libvirt's events). Private to them: everything else uses sk-service.h. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "sk-config.h"
#include "sk-connection.h"
#include "sk-domain-info.h"
#include "sk-host.h"
#include "sk-request.h"
#include "sk-snapshot.h"
#include "sk-watch.h"

G_BEGIN_DECLS

/* sk-service.h's type, declared again (C11 allows it) instead of including sk-service.h, which
 * includes nothing of this and which sk-service.c implements: the two would include each
 * other. */
typedef struct _SkService SkService;

typedef enum {
    SK_JOB_REQUEST,   /* a client's request; replies through its GTask */
    SK_JOB_REFRESH,   /* read the facts of a domain seen for the first time */
    SK_JOB_RECONCILE, /* keep the spares (events, rescans, Reconcile of every domain) */
} SkJobKind;

typedef struct _SkEntry SkEntry;
typedef struct _SkJob SkJob;
typedef struct _SkJobGroup SkJobGroup;

struct _SkService {
    GObject parent;
    SkConfig config;
    char *uri;
    const SkHostPci *host;
    SkConnection *conn;
    GMainContext *context; /* where results are handed over: the creator's */
    GHashTable *domains;   /* uuid -> SkEntry* */
    GThreadPool *pool;
    GThreadPool *readers; /* sk_snapshot_reader: a job's second definition, read meanwhile */
    guint rescan_id;
    gboolean stopping;
    gboolean stopped;
    GMutex lock;          /* guards handovers and the entries' removals */
    GPtrArray *handovers; /* GSource*: results on their way to the main thread */
    GCond removed;        /* a domain's device-removed event came (entry->removals) */
    GCond replied;        /* a reply ahead of a job's end went out (entry->replies) */
    SkWatch *watch;       /* libvirt's definition files */
    gboolean ready;
    gboolean started;
    guint unread; /* domains of the last listing whose facts are not read yet */
};

struct _SkEntry {
    gint ref;
    SkService *service;
    char *uuid;
    char *name;
    SkDomainInfo *info; /* NULL until the first read: not announced before */
    GQueue jobs;        /* SkJob*, waiting */
    gboolean busy;
    gboolean removed;
    gboolean reconcile_queued; /* an event-driven reconcile is waiting: coalesce */
    guint late_id;             /* the second look after a device event */
    gint64 removals;           /* device-removed events seen (under service->lock) */
    gint64 replies;            /* replies ahead of a job's end sent (under service->lock) */
    gboolean counts_for_ready; /* listed at the first connection */
};

struct _SkJobGroup {
    GTask *task;
    guint remaining;
    GError *error;
};

struct _SkJob {
    SkEntry *entry;
    SkJobKind kind;
    SkRequest *request;
    GTask *task; /* SK_JOB_REQUEST: the caller, answered once */
    SkJobGroup *group;
    /* Worker results, handed to the main thread by sk_job_hand_over(). */
    SkResult *result;
    GError *error;
    SkDomainInfo *info;  /* the facts after the job (or after its first part) */
    SkDomainInfo *known; /* a request's: the facts when it started (main thread's copy) */
    gboolean gone;
    GPtrArray *events; /* SkServiceEvent*, owned copies */
    gboolean done;     /* FALSE: a reply ahead of the job's end; it goes on */
    gint64 queued;     /* when it was queued, for the timeline */
    gboolean handled;  /* the main thread took the hand-over */
};

/* ---- sk-service.c: the object and its domain table (main thread) ---- */

enum { SIG_DOMAIN_ADDED, SIG_DOMAIN_CHANGED, SIG_DOMAIN_REMOVED, SIG_EVENT, SIG_READY, N_SIGNALS };
enum { PROP_0, PROP_CONNECTED, N_PROPS };
/* The signals and the "connected" property, which the other files emit and notify too. */
extern guint sk_service_signals[N_SIGNALS];
extern GParamSpec *sk_service_props[N_PROPS];

/* The entry of @dom, added (and queued for its facts and its spares) when it has none; NULL when
 * libvirt cannot say its UUID. */
SkEntry *sk_service_add_entry(SkService *service, virDomainPtr dom);
/* The entry of @dom, NULL when it has none. */
SkEntry *sk_service_entry_for(SkService *service, virDomainPtr dom);
/* Takes @entry out of the table (once) and announces it gone if it was announced. */
void sk_service_remove_entry(SkService *service, SkEntry *entry);
/* The entry's first read is over, whatever its outcome: "ready" waits for no more from it. */
void sk_service_entry_counted(SkService *service, SkEntry *entry);
/* Whether the libvirt connection is up (the domain table may still be being read). */
gboolean sk_service_linked(SkService *service);
/* Main thread: the entry's facts as a job found them (@info taken). */
void sk_service_apply_info(SkService *service, SkEntry *entry, SkDomainInfo *info);

/* ---- sk-service-queue.c: jobs, queues, hand-over (main thread unless said) ---- */

/* Drops a reference to @entry (the table's, a job's, a late reconcile's); the last frees it. */
void sk_entry_unref(SkEntry *entry);
/* A job of @kind for @entry (which it holds a reference to). */
SkJob *sk_job_new(SkEntry *entry, SkJobKind kind);
void sk_job_free(SkJob *job);
/* Answers the job's caller (once) with @error (taken) when the job cannot run. */
void sk_job_fail_now(SkJob *job, GError *error);
/* One job of a group is over (@error: how it failed, or NULL); the last one answers the
 * group's caller and frees the group. */
void sk_job_group_done(SkJobGroup *group, const GError *error);
/* Queues @job (taken) behind @entry's other jobs and starts it if none runs. */
void sk_service_queue(SkEntry *entry, SkJob *job);
/* Queues an event-driven reconcile unless one is already waiting. */
void sk_service_queue_reconcile(SkEntry *entry);
/* Worker side: records an event to emit on the main thread. */
void sk_job_event(SkJob *job, const SkSnapshot *snap, const char *kind, const char *message,
                  const char *address, const char *device_xml);
/* Worker side: hands what the job has so far to the main thread. Before the end of the job
 * (@done FALSE) the caller is answered while the job goes on: the main thread touches only the
 * fields handed over, and the worker goes on once the reply is sent. */
void sk_job_hand_over(SkJob *job, SkSnapshot *snap, gboolean done);

/* ---- sk-service-jobs.c: the worker side ---- */

/* Worker thread (the pool's function): one snapshot of the domain, the job on it, the facts it
 * leaves. The domain is looked up again on the worker's connection: a request queued behind a
 * slow one may find its domain undefined (NoSuchDomain) or libvirtd gone (Unavailable). */
void sk_service_worker(gpointer data, gpointer user_data);

/* ---- sk-service-events.c: libvirt's events (main thread) ---- */

/* What the service's SkConnection reports to it. */
extern const SkConnectionEvents sk_service_conn_events;

G_END_DECLS
