/* slotkeeperd: one read of a domain per job (see sk-snapshot.h). */
#include "sk-snapshot.h"

#include <string.h>

#include "sk-error.h"
#include "sk-virt.h"
#include "sk-xml.h"

/* One definition, read and parsed once. @topo is NULL afterwards when the machine has no PCI
 * bus slotkeeper models (@unsupported says why); @arch and @machine are read from the document
 * either way. */
typedef struct {
    SkTopology *topo;
    SkMetadata *md;
    char *md_xml;
    char *arch;
    char *machine;
    GError *unsupported;
} SkDefinition;

static void
sk_definition_clear(SkDefinition *def)
{
    g_clear_pointer(&def->topo, sk_topology_free);
    g_clear_pointer(&def->md, sk_metadata_free);
    g_clear_pointer(&def->md_xml, g_free);
    g_clear_pointer(&def->arch, g_free);
    g_clear_pointer(&def->machine, g_free);
    g_clear_error(&def->unsupported);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkDefinition, sk_definition_clear)

/* Touches nothing but @def: it may run on a reader thread (sk_snapshot_load_both). */
static gboolean
sk_definition_load(virDomainPtr dom, gboolean inactive, SkDefinition *def, GError **error)
{
    g_autofree char *xml = sk_virt_get_xml(dom, inactive, error);
    g_autoptr(GError) local = NULL;
    xmlDoc *doc;
    xmlNode *type;

    if (!xml)
        return FALSE;
    doc = sk_xml_parse(xml, strlen(xml), "domain XML", error);
    if (!doc)
        return FALSE;
    type = sk_xml_child(sk_xml_child(xmlDocGetRootElement(doc), "os"), "type");
    def->arch = sk_xml_get_prop(type, "arch");
    def->machine = sk_xml_get_prop(type, "machine");
    if (sk_metadata_find_element(doc))
        def->md_xml = sk_xml_node_to_string(sk_metadata_find_element(doc));
    def->md = sk_metadata_from_domain(doc, &local);
    if (!def->md) {
        g_warning("domain %s: ignoring its slotkeeper metadata: %s", virDomainGetName(dom),
                  local->message);
        g_clear_error(&local);
    }
    def->topo = sk_topology_new_from_doc(doc, &local);
    if (!def->topo) {
        if (!g_error_matches(local, SK_ERROR, SK_ERROR_NOT_SUPPORTED))
            g_warning("domain %s: cannot read its PCI topology, leaving it alone: %s",
                      virDomainGetName(dom), local->message);
        def->unsupported = g_steal_pointer(&local);
    }
    return TRUE;
}

static gboolean
sk_snapshot_load(SkSnapshot *snap, gboolean inactive, SkDefinition *def, GError **error)
{
    if (!sk_definition_load(snap->dom, inactive, def, error))
        return FALSE;
    if (def->unsupported) {
        g_clear_error(&snap->unsupported);
        snap->unsupported = g_steal_pointer(&def->unsupported);
    }
    return TRUE;
}

/* The persistent definition, read on a reader thread. */
typedef struct {
    virDomainPtr dom;
    SkDefinition def;
    GError *error;
    gboolean ok;
    gboolean done;
    GMutex lock;
    GCond cond;
} SkReaderTask;

/* Reader thread (the readers pool's function). */
void
sk_snapshot_reader(gpointer data, gpointer user_data)
{
    SkReaderTask *task = data;
    gboolean ok = sk_definition_load(task->dom, TRUE, &task->def, &task->error);

    g_mutex_lock(&task->lock);
    task->ok = ok;
    task->done = TRUE;
    g_cond_signal(&task->cond);
    g_mutex_unlock(&task->lock);
}

/* Both definitions of a running persistent domain at once: the persistent one on a reader
 * thread while this thread reads the running one. libvirtd formats the two one after the other
 * (each under the domain's lock), but one side's parsing overlaps the other's formatting: about
 * 0.3 ms of the 1.9 ms a request spent reading (bench/attach-latency.py). Errors come out as
 * with two reads in a row, the running definition's first. */
static gboolean
sk_snapshot_load_both(SkSnapshot *snap, SkDefinition *live_def, SkDefinition *persistent_def,
                      GError **error)
{
    SkReaderTask task = { .dom = snap->dom };
    g_autoptr(GError) persistent_error = NULL;
    gboolean live_ok;

    g_mutex_init(&task.lock);
    g_cond_init(&task.cond);
    if (!snap->readers || !g_thread_pool_push(snap->readers, &task, NULL)) {
        g_mutex_clear(&task.lock);
        g_cond_clear(&task.cond);
        return sk_snapshot_load(snap, FALSE, live_def, error) &&
               sk_snapshot_load(snap, TRUE, persistent_def, error);
    }
    live_ok = sk_snapshot_load(snap, FALSE, live_def, error);
    /* Always wait: @task lives on this stack. */
    g_mutex_lock(&task.lock);
    while (!task.done)
        g_cond_wait(&task.cond, &task.lock);
    g_mutex_unlock(&task.lock);
    g_mutex_clear(&task.lock);
    g_cond_clear(&task.cond);
    *persistent_def = task.def;
    persistent_error = task.error;
    if (!live_ok)
        return FALSE;
    if (!task.ok) {
        g_propagate_error(error, g_steal_pointer(&persistent_error));
        return FALSE;
    }
    if (persistent_def->unsupported) {
        g_clear_error(&snap->unsupported);
        snap->unsupported = g_steal_pointer(&persistent_def->unsupported);
    }
    return TRUE;
}

/* Recomputes everything derived from the definitions. */
static void
sk_snapshot_update(SkSnapshot *snap, SkDefinition *main_def)
{
    SkDomainInfo *info = snap->info;
    const SkHostPci *host = snap->machine.host;

    snap->main = snap->persistent ? snap->persistent : snap->live;
    if (snap->main)
        g_clear_error(&snap->unsupported);
    if (main_def) {
        g_free(info->arch);
        g_free(info->machine);
        info->arch = g_steal_pointer(&main_def->arch);
        info->machine = g_steal_pointer(&main_def->machine);
        g_clear_pointer(&snap->md, sk_metadata_free);
        snap->md = g_steal_pointer(&main_def->md);
        g_free(snap->md_xml);
        snap->md_xml = g_steal_pointer(&main_def->md_xml);
    }
    memset(&snap->machine, 0, sizeof(snap->machine));
    if (snap->main)
        snap->machine = *sk_topology_get_machine_info(snap->main);
    snap->machine.host = host;
    info->id = snap->live ? sk_topology_get_id(snap->live) : -1;
    sk_domain_info_fill(info, snap->config, snap->live, snap->persistent, snap->md);
}

void
sk_snapshot_note_attach(SkSnapshot *snap, const SkPciAddr *addr, gboolean live, gboolean persistent)
{
    if (live && snap->live)
        sk_topology_occupy(snap->live, addr);
    if (persistent && snap->persistent)
        sk_topology_occupy(snap->persistent, addr);
    sk_snapshot_update(snap, NULL);
}

static gboolean
sk_snapshot_read_state(SkSnapshot *snap, GError **error)
{
    int state = 0;
    int reason = 0;
    int persistent;

    if (virDomainGetState(snap->dom, &state, &reason, 0) < 0)
        return sk_virt_set_error(error, NULL);
    persistent = virDomainIsPersistent(snap->dom);
    if (persistent < 0)
        return sk_virt_set_error(error, NULL);
    g_free(snap->info->state);
    snap->info->state = g_strdup(sk_virt_state_to_string(state));
    snap->info->active = state != VIR_DOMAIN_SHUTOFF && state != VIR_DOMAIN_NOSTATE;
    snap->info->persistent = persistent == 1;
    return TRUE;
}

gboolean
sk_snapshot_reread(SkSnapshot *snap, gboolean live, gboolean persistent, GError **error)
{
    g_auto(SkDefinition) live_def = { 0 };
    g_auto(SkDefinition) persistent_def = { 0 };
    SkDefinition *main_def = NULL;
    gboolean both;

    both = live && persistent && snap->info->active && snap->info->persistent;
    if (both && !sk_snapshot_load_both(snap, &live_def, &persistent_def, error))
        return FALSE;
    if (live) {
        g_clear_pointer(&snap->live, sk_topology_free);
        if (!both && snap->info->active && !sk_snapshot_load(snap, FALSE, &live_def, error))
            return FALSE;
        snap->live = g_steal_pointer(&live_def.topo);
        /* A domain stopped meanwhile shows its persistent definition, without an id. */
        if (snap->live && !sk_topology_is_live(snap->live))
            g_clear_pointer(&snap->live, sk_topology_free);
        if (!snap->info->persistent && snap->info->active)
            main_def = &live_def;
    }
    if (persistent) {
        g_clear_pointer(&snap->persistent, sk_topology_free);
        if (!both && snap->info->persistent &&
            !sk_snapshot_load(snap, TRUE, &persistent_def, error))
            return FALSE;
        snap->persistent = g_steal_pointer(&persistent_def.topo);
        if (snap->info->persistent)
            main_def = &persistent_def;
    }
    sk_snapshot_update(snap, main_def);
    return TRUE;
}

void
sk_snapshot_mark(SkSnapshot *snap, const char *what)
{
    gint64 now = g_get_monotonic_time();

    g_string_append_printf(snap->timeline, "%s%s %.1f ms", snap->timeline->len ? ", " : "", what,
                           (now - snap->last_mark) / 1000.0);
    snap->last_mark = now;
}

SkSnapshot *
sk_snapshot_read(virDomainPtr dom, const SkConfig *config, const SkHostPci *host,
                 GThreadPool *readers, const SkDomainInfo *known, GError **error)
{
    g_autoptr(SkSnapshot) snap = g_new0(SkSnapshot, 1);
    char uuid[VIR_UUID_STRING_BUFLEN];

    snap->timeline = g_string_new(NULL);
    snap->last_mark = g_get_monotonic_time();
    virDomainRef(dom);
    snap->dom = dom;
    snap->config = config;
    snap->readers = readers;
    snap->machine.host = host;
    snap->info = sk_domain_info_new();
    snap->info->name = g_strdup(virDomainGetName(dom));
    if (virDomainGetUUIDString(dom, uuid) == 0)
        snap->info->uuid = g_strdup(uuid);
    if (known && known->active && known->persistent && known->state) {
        /* The state the service last saw saves two calls on the request path; a running
         * definition with an id confirms it. Anything else (stopped or undefined meanwhile,
         * no PCI machine to tell) is read again the long way. */
        snap->info->state = g_strdup(known->state);
        snap->info->active = TRUE;
        snap->info->persistent = TRUE;
        if (!sk_snapshot_reread(snap, TRUE, TRUE, error))
            return NULL;
        if (snap->live) {
            sk_snapshot_mark(snap, "read");
            return g_steal_pointer(&snap);
        }
    }
    if (!sk_snapshot_read_state(snap, error))
        return NULL;
    sk_snapshot_mark(snap, "state");
    if (!sk_snapshot_reread(snap, TRUE, TRUE, error))
        return NULL;
    sk_snapshot_mark(snap, "read");
    return g_steal_pointer(&snap);
}

void
sk_snapshot_free(SkSnapshot *snap)
{
    if (!snap)
        return;
    g_clear_pointer(&snap->live, sk_topology_free);
    g_clear_pointer(&snap->persistent, sk_topology_free);
    g_clear_pointer(&snap->md, sk_metadata_free);
    g_free(snap->md_xml);
    g_clear_pointer(&snap->info, sk_domain_info_free);
    g_clear_error(&snap->unsupported);
    if (snap->timeline)
        g_string_free(snap->timeline, TRUE);
    if (snap->dom)
        virDomainFree(snap->dom);
    g_free(snap);
}

const char *
sk_snapshot_name(const SkSnapshot *snap)
{
    return snap->info->name;
}
