/* slotkeeperd: the model - what the service does to one libvirt domain (keep spares, plan,
 * attach, detach, set policy), working on a snapshot read once per job. Blocking libvirt calls,
 * GError, no D-Bus; runs in a worker thread, one operation per domain at a time. */
#pragma once

#include <glib.h>

#include "sk-request.h"
#include "sk-snapshot.h"

G_BEGIN_DECLS

/* Tops the persistent definition up to the policy's spares. @summary receives what was added
 * (NULL when nothing changed). Unmanaged, transient and non-PCI domains are left alone. */
gboolean sk_ops_reconcile(SkSnapshot *snap, char **summary, GError **error);

/* What an attach of @req->xml would do: fills @result's plan, device, live and config. */
gboolean sk_ops_plan(SkSnapshot *snap, const SkRequest *req, SkResult *result, GError **error);

/* Attaches with the planned explicit address: fills @result's device_xml, address, and live
 * and config: the definitions libvirt changed, which the snapshot shows with the device noted
 * in place (sk_snapshot_note_attach) until the caller reads them again. A refused plan on a
 * running guest still adds its controllers to the persistent definition, and the NoFreeSlot
 * error says so. */
gboolean sk_ops_attach(SkSnapshot *snap, const SkRequest *req, SkResult *result, GError **error);
/* How a live detach waits for the guest to release the device: @removals counts the domain's
 * device-removed events so far; @wait blocks until that count differs from @seen or until
 * @end_time (g_get_monotonic_time()), returning FALSE at the deadline. */
typedef struct {
    gint64 (*removals)(gpointer data);
    gboolean (*wait)(gpointer data, gint64 seen, gint64 end_time);
    gpointer data;
    guint timeout_ms; /* after libvirt returns */
} SkRemovalWaiter;

/* Detaches as libvirt does; a live detach also waits (@waiter) until the device has left the
 * running definition, else fails with DetachPending saying what is done and what is not. */
gboolean sk_ops_detach(SkSnapshot *snap, const SkRequest *req, const SkRemovalWaiter *waiter,
                       GError **error);

/* The running (or, with inactive or for a shut-off domain, the persistent) topology, taken out
 * of the snapshot into @result. */
gboolean sk_ops_topology(SkSnapshot *snap, const SkRequest *req, SkResult *result, GError **error);

/* Stores the overrides set in @changes (has_* fields) in the domain's <metadata>. */
gboolean sk_ops_set_policy(SkSnapshot *snap, const SkMetadata *changes, GError **error);

G_END_DECLS
