/* slotkeeperd: the libvirt connections - the main one, which carries the domain events and the
 * domain list and is re-established when libvirtd goes away, and one per worker thread for the
 * blocking calls. Reports to its owner through callbacks, on the main thread. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

typedef struct _SkConnection SkConnection;

typedef struct {
    /* Connected (again): @doms is libvirt's domain list, read after the events were
     * registered, so that a domain defined in between is in one or both. */
    void (*connected)(gpointer owner, virDomainPtr *doms, int n_doms);
    /* The connection was lost (a reconnect is scheduled) or an attempt failed (@why says
     * why; retried later). */
    void (*disconnected)(gpointer owner, const char *why);
    void (*lifecycle)(gpointer owner, virDomainPtr dom, int event, int detail);
    /* A device was added to (@removed FALSE) or removed from the running guest (@alias). */
    void (*device)(gpointer owner, virDomainPtr dom, const char *alias, gboolean removed);
    void (*metadata)(gpointer owner, virDomainPtr dom);
} SkConnectionEvents;

SkConnection *sk_connection_new(const char *uri, const SkConnectionEvents *events, gpointer owner);
/* Closes the main connection; an attempt still under way is left to the process exit. */
void sk_connection_free(SkConnection *conn);

/* Makes the first attempt now (so that the caller knows the outcome); later ones run in a
 * thread, 0.5 s after a loss and then doubling up to 8 s. */
void sk_connection_start(SkConnection *conn);

const char *sk_connection_get_uri(SkConnection *conn);
/* Main thread: the main connection, or NULL while there is none. */
virConnectPtr sk_connection_get(SkConnection *conn);
/* Why the last attempt failed or the connection was lost; NULL while connected. */
const char *sk_connection_get_error(SkConnection *conn);

/* Worker thread: that thread's own connection, opened on first use and again after libvirtd
 * came back (a generation counter tells) or the connection died. Errors: Unavailable, also
 * when libvirtd does not answer the open within the keepalive bound (5 s x (3 + 1)). */
virConnectPtr sk_connection_worker(SkConnection *conn, GError **error);
/* Worker thread: the domain with @uuid on that thread's connection (a new reference), looked
 * up once per connection; libvirt checks that it still exists at the first real call. Errors:
 * NoSuchDomain, Unavailable. */
virDomainPtr sk_connection_worker_domain(SkConnection *conn, const char *uuid, GError **error);
/* Worker thread: forgets @uuid's handle (the domain is gone). */
void sk_connection_worker_forget(const char *uuid);

G_END_DECLS
