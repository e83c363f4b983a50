/* slotkeeperd: libvirt's events for the service, on the main thread - domains appearing and
 * going, device and metadata changes, changed definition files, the rescan and each
 * (re)connect: the domain table follows them and the domains concerned are reconciled. */
#include "sk-service.h"

#include <libvirt/virterror.h>

#include "sk-service-private.h"
#include "sk-virt.h"

/* libvirt emits device-added for an attach --live --config once the live half is done, before
 * it saves the persistent half; the reconcile it triggers may still read the old definition.
 * A second look a moment later sees the saved definition. */
#define SK_LATE_RECONCILE_MS 250

static void
sk_service_on_lifecycle(gpointer owner, virDomainPtr dom, int event, int detail)
{
    SkService *service = owner;
    SkEntry *entry = sk_service_entry_for(service, dom);

    g_debug("domain %s: lifecycle event %d detail %d", virDomainGetName(dom), event, detail);
    /* A domain we have not seen appears with defined or started; ends of unknown ones are
     * nothing to us. */
    if (!entry && event != VIR_DOMAIN_EVENT_UNDEFINED && event != VIR_DOMAIN_EVENT_STOPPED)
        sk_service_add_entry(service, dom);
    else if (entry)
        sk_service_queue_reconcile(entry);
}

static gboolean
sk_service_on_late_reconcile(gpointer data)
{
    SkEntry *entry = data;

    entry->late_id = 0;
    if (!entry->removed && sk_connection_get(entry->service->conn))
        sk_service_queue_reconcile(entry);
    return G_SOURCE_REMOVE;
}

static void
sk_entry_late_unref(gpointer data)
{
    sk_entry_unref(data);
}

static void
sk_service_on_device(gpointer owner, virDomainPtr dom, const char *alias, gboolean removed)
{
    SkService *service = owner;
    SkEntry *entry = sk_service_entry_for(service, dom);

    g_debug("domain %s: device %s %s", virDomainGetName(dom), alias, removed ? "removed" : "added");
    if (!entry)
        return;
    if (removed) {
        /* A live detach may be waiting for exactly this. */
        g_mutex_lock(&service->lock);
        entry->removals++;
        g_cond_broadcast(&service->removed);
        g_mutex_unlock(&service->lock);
    }
    sk_service_queue_reconcile(entry);
    if (entry->late_id == 0) {
        g_atomic_int_inc(&entry->ref);
        entry->late_id =
            g_timeout_add_full(G_PRIORITY_DEFAULT, SK_LATE_RECONCILE_MS,
                               sk_service_on_late_reconcile, entry, sk_entry_late_unref);
    }
}

static void
sk_service_on_metadata(gpointer owner, virDomainPtr dom)
{
    SkService *service = owner;
    SkEntry *entry = sk_service_entry_for(service, dom);

    g_debug("domain %s: metadata changed", virDomainGetName(dom));
    if (entry)
        sk_service_queue_reconcile(entry);
}

/* A definition file changed (attach-device --config, virsh edit, ...): read that domain. */
static void
sk_service_on_file(const char *name, gpointer data)
{
    SkService *service = data;
    GHashTableIter iter;
    gpointer value;

    if (!sk_service_linked(service))
        return;
    g_hash_table_iter_init(&iter, service->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        SkEntry *entry = value;

        if (g_str_equal(entry->name, name))
            sk_service_queue_reconcile(entry);
    }
}

static void
sk_service_start_watch(SkService *service)
{
    g_autofree char *dir = service->config.watch_dir ? g_strdup(service->config.watch_dir)
                                                     : sk_watch_default_dir(service->uri);
    g_autoptr(GError) error = NULL;

    if (service->watch || !dir || !*dir)
        return;
    service->watch = sk_watch_new(dir, sk_service_on_file, service, &error);
    if (!service->watch)
        g_warning("cannot watch %s for changes of the persistent definitions (%s); changes "
                  "libvirt sends no event for are seen at the next rescan",
                  dir, error->message);
    else
        g_info("watching %s for changes of the persistent definitions", dir);
}

/* libvirt sends no event for attach/detach-device --config: read every domain again now and
 * then (coalesced with event-driven reconciles). */
static gboolean
sk_service_rescan(gpointer data)
{
    SkService *service = data;
    GHashTableIter iter;
    gpointer value;

    g_hash_table_iter_init(&iter, service->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value))
        sk_service_queue_reconcile(value);
    return G_SOURCE_CONTINUE;
}

/* After a (re)connect: the domain table as libvirt has it now - domains defined while libvirtd
 * was away are added, undefined ones removed - and every domain reconciled. */
static void
sk_service_on_connected(gpointer owner, virDomainPtr *doms, int n_doms)
{
    SkService *service = owner;
    g_autoptr(GHashTable) listed = g_hash_table_new(g_str_hash, g_str_equal);
    g_autoptr(GPtrArray) others = g_ptr_array_new();
    virConnectPtr conn = sk_connection_get(service->conn);
    GHashTableIter iter;
    gpointer value;

    for (int i = 0; i < n_doms; i++) {
        gboolean known = sk_service_entry_for(service, doms[i]) != NULL;
        SkEntry *entry = sk_service_add_entry(service, doms[i]);

        if (!entry)
            continue;
        g_hash_table_add(listed, entry->uuid);
        if (known) {
            sk_service_queue_reconcile(entry);
        } else if (!entry->counts_for_ready) {
            /* Counted until read: for READY at start-up, for Connected after a reconnect. */
            entry->counts_for_ready = TRUE;
            service->unread++;
        }
    }
    g_hash_table_iter_init(&iter, service->domains);
    while (g_hash_table_iter_next(&iter, NULL, &value)) {
        if (!g_hash_table_contains(listed, ((SkEntry *)value)->uuid))
            g_ptr_array_add(others, value);
    }
    /* Not listed: gone while libvirtd was away - or defined just after the listing (an event
     * added it), so ask once more. */
    for (guint i = 0; i < others->len; i++) {
        SkEntry *entry = others->pdata[i];
        g_autoptr(virDomain) dom = virDomainLookupByUUIDString(conn, entry->uuid);
        virErrorPtr err;

        if (dom)
            sk_service_queue_reconcile(entry);
        else if ((err = virGetLastError()) && err->code == VIR_ERR_NO_DOMAIN)
            sk_service_remove_entry(service, entry);
    }
    if (service->config.rescan_seconds > 0 && service->rescan_id == 0)
        service->rescan_id =
            g_timeout_add_seconds(service->config.rescan_seconds, sk_service_rescan, service);
    sk_service_start_watch(service);
    g_object_notify_by_pspec(G_OBJECT(service), sk_service_props[PROP_CONNECTED]);
}

static void
sk_service_on_disconnected(gpointer owner, const char *why)
{
    SkService *service = owner;

    g_clear_handle_id(&service->rescan_id, g_source_remove);
    g_object_notify_by_pspec(G_OBJECT(service), sk_service_props[PROP_CONNECTED]);
}

const SkConnectionEvents sk_service_conn_events = {
    .connected = sk_service_on_connected,
    .disconnected = sk_service_on_disconnected,
    .lifecycle = sk_service_on_lifecycle,
    .device = sk_service_on_device,
    .metadata = sk_service_on_metadata,
};
