/* slotkeeperd: the service core - the domain table, one job queue per domain, the worker pool
 * that runs each domain's jobs one at a time, the libvirt connection and its events. It knows
 * no bus: requests come in as SkRequest through sk_service_submit(), results go out as
 * SkResult, and changes are announced with GObject signals (sk-dbus-server.c turns them into
 * D-Bus objects, properties and signals). */
#pragma once

#include <gio/gio.h>

#include "sk-config.h"
#include "sk-domain-info.h"
#include "sk-host.h"
#include "sk-request.h"

G_BEGIN_DECLS

#define SK_TYPE_SERVICE (sk_service_get_type())
G_DECLARE_FINAL_TYPE(SkService, sk_service, SK, SERVICE, GObject)

/* A decision or change the service made (signal "event"). */
typedef struct {
    const char *kind;   /* reconciled, attached, detached, refused, policy-changed */
    const char *domain; /* its name */
    const char *uuid;
    const char *message;    /* one sentence for people */
    const char *address;    /* attached: the device's address, "" for none; else NULL */
    const char *device_xml; /* attached, detached: the device; else NULL */
} SkServiceEvent;

/* Signals (main thread):
 *   "domain-added"   (const SkDomainInfo *info)  a domain, with its facts read from libvirt
 *   "domain-changed" (const SkDomainInfo *info)  its facts changed
 *   "domain-removed" (const char *uuid)          undefined, or a transient domain stopped
 *   "event"          (const SkServiceEvent *event)
 *   "ready"          ()  every domain of the first listing has its facts (or the first
 *                        connection attempt failed): the moment to announce the service
 * Property "connected" (boolean, notify::connected). */

/* @host answers host PCI questions (sk-host.h), NULL for none. */
SkService *sk_service_new(const SkConfig *config, const char *uri, const SkHostPci *host);
/* Makes the first connection attempt, then reads every domain; "ready" follows. */
void sk_service_start(SkService *service);
/* Waits for the jobs under way and fails the waiting ones (Unavailable); their callers are
 * answered. Idempotent; the last unref does it too. */
void sk_service_stop(SkService *service);

const char *sk_service_get_uri(SkService *service);
/* Connected to libvirt and every domain it listed read: the "connected" property (notified on
 * every change, also when a reconnect's listing has been read). */
gboolean sk_service_get_connected(SkService *service);
gboolean sk_service_get_ready(SkService *service);
/* Why the service is not connected ("cannot connect to URI: libvirt's reason"), else NULL. */
const char *sk_service_get_connect_error(SkService *service);

/* The domains announced so far (const SkDomainInfo *, owned by the service), by name. */
GPtrArray *sk_service_list_domains(SkService *service);
/* A domain by name or UUID, NULL when there is none. */
const SkDomainInfo *sk_service_lookup(SkService *service, const char *name_or_uuid);

/* Queues @request (taken) behind the domain's other jobs. Errors: NoSuchDomain, Unavailable,
 * and whatever the job reports. */
void sk_service_submit(SkService *service, const char *uuid, SkRequest *request,
                       GCancellable *cancellable, GAsyncReadyCallback callback, gpointer user_data);
SkResult *sk_service_submit_finish(SkService *service, GAsyncResult *result, GError **error);

/* Reconciles every domain; done when all are. */
void sk_service_reconcile_all(SkService *service, GCancellable *cancellable,
                              GAsyncReadyCallback callback, gpointer user_data);
gboolean sk_service_reconcile_all_finish(SkService *service, GAsyncResult *result, GError **error);

G_END_DECLS
