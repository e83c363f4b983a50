/* slotkeeperd: the service - the libvirt connection and its events, the domain table, and the
 * worker pool that runs each domain's operations one at a time. */
#pragma once

#include <gio/gio.h>
#include <libvirt/libvirt.h>

#include "sk-config.h"
#include "sk-dbus-generated.h"
#include "sk-domain-ops.h"

G_BEGIN_DECLS

typedef struct _SkDaemon SkDaemon;
typedef struct _SkDomainEntry SkDomainEntry;
typedef struct _SkJob SkJob;
typedef struct _SkJobGroup SkJobGroup;

struct _SkDaemon {
    SkConfig config;
    char *uri;
    virConnectPtr conn;
    int callback_ids[4]; /* lifecycle, device added/removed, metadata */
    guint reconnect_id;
    guint reconnect_delay_ms; /* the next retry's delay: doubles up to a cap, reset on success */
    gboolean connecting;      /* a connection attempt runs in its own thread */
    gint conn_generation;     /* bumped at each (dis)connect: workers reopen their connections */
    gboolean stopping;        /* sk_daemon_free() runs: start no more jobs */
    guint rescan_id;
    GDBusConnection *bus;
    GDBusObjectManagerServer *object_manager;
    SkDbusManager *manager;
    GHashTable *domains; /* uuid -> SkDomainEntry* */
    GThreadPool *pool;
    gboolean name_owned;
    gboolean ready;
    GMainLoop *loop;
    int exit_status;
    /* Mutating calls are checked with polkit (system bus); otherwise (session bus) only
     * callers with the daemon's own uid are served. See sk-auth.h. */
    gboolean polkit;
};

struct _SkDomainEntry {
    gint ref;
    SkDaemon *daemon;
    char *uuid;
    char *name;
    char *path;
    virDomainPtr dom;
    SkDbusObjectSkeleton *object;
    SkDbusDomain *iface;
    GQueue jobs; /* SkJob*, waiting */
    gboolean busy;
    gboolean removed;
    gboolean reconcile_queued; /* an event-driven reconcile is waiting: coalesce */
};

/* Runs in a worker thread; sets the reply with sk_job_return*(). */
typedef void (*SkJobFunc)(SkJob *job);

struct _SkJob {
    SkDomainEntry *entry;
    SkJobFunc func;
    GDBusMethodInvocation *invocation;
    char *xml;
    SkOpOptions opts;
    SkMetadata *policy;
    SkJobGroup *group;
    /* results, handed to the main thread */
    GVariant *reply; /* for invocation: sent once the properties show the result */
    GError *error;
    SkDomainInfo *info;
    gboolean gone;
    GPtrArray *events; /* GVariant* (sa{sv}): Manager.Event signals to emit */
    virDomainPtr dom;  /* the domain on the worker thread's own libvirt connection */
};

SkDaemon *sk_daemon_new(const SkConfig *config, const char *uri);
void sk_daemon_free(SkDaemon *daemon);
/* Exports the objects on @bus and starts connecting to libvirt (retrying until it answers). */
void sk_daemon_start(SkDaemon *daemon, GDBusConnection *bus);
/* Called when the bus name is owned: READY once libvirt is connected too. */
void sk_daemon_name_acquired(SkDaemon *daemon);

SkDomainEntry *sk_daemon_lookup(SkDaemon *daemon, const char *name_or_uuid);

SkJob *sk_job_new(SkDomainEntry *entry, SkJobFunc func, GDBusMethodInvocation *invocation);
/* Queues @job behind the domain's other operations (main thread). */
void sk_daemon_queue(SkDomainEntry *entry, SkJob *job);
/* Queues an event-driven reconcile unless one is already waiting. */
void sk_daemon_queue_reconcile(SkDomainEntry *entry);
/* Reconciles every domain and replies to @invocation when all are done (Manager.Reconcile). */
void sk_daemon_reconcile_all(SkDaemon *daemon, GDBusMethodInvocation *invocation);

/* Worker side: the reconcile step every mutating job ends with; records an event. */
gboolean sk_job_reconcile(SkJob *job, GError **error);
/* Worker side: the method's reply (floating @reply may be NULL for "()") or its error (taken). */
void sk_job_return(SkJob *job, GVariant *reply);
void sk_job_return_error(SkJob *job, GError *error);
/* Worker side: records an Event signal to emit on the main thread. */
void sk_job_set_event(SkJob *job, const char *kind, const char *message, GVariant *extra);

G_END_DECLS
