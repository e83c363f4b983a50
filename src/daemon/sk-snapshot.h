/* slotkeeperd: one domain as a job sees it - its running and persistent definitions read from
 * libvirt once and parsed once, its metadata and the facts the service reports (SkDomainInfo).
 * A job plans and acts on the snapshot and reads again only the definition libvirt changed. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "sk-config.h"
#include "sk-domain-info.h"
#include "sk-host.h"
#include "sk-metadata.h"
#include "sk-topology.h"

G_BEGIN_DECLS

typedef struct {
    virDomainPtr dom;       /* a reference of the snapshot's own */
    const SkConfig *config; /* borrowed: the service's */
    GThreadPool *readers;   /* borrowed: runs sk_snapshot_reader; NULL reads one at a time */
    SkDomainInfo *info;     /* kept up to date by every (re)read */
    SkTopology *live;       /* the running definition; NULL when inactive or no PCI machine */
    SkTopology *persistent; /* the persistent definition; NULL when transient or no PCI */
    SkMetadata *md;         /* slotkeeper's metadata of the persistent (else running) one */
    char *md_xml;           /* that element as in the definition; NULL without one */
    SkMachineInfo machine;  /* of the persistent (else running) definition, with the host */
    const SkTopology *main; /* persistent, else live: where policy and machine come from */
    GError *unsupported;    /* why there are no topologies (not a PCI machine), or NULL */
    GString *timeline;      /* "read 1.2 ms, attach 15.1 ms, ...": where a job's time went */
    gint64 last_mark;
} SkSnapshot;

/* Reads @dom's state and each definition it has, once (both at a time through @readers,
 * nullable). @known (nullable): the facts the service
 * last had; a running persistent domain's state is then taken from them once its running
 * definition confirms it. Errors: SK_ERROR (NoSuchDomain, Unavailable, ...). A definition
 * slotkeeper cannot model (no PCI machine) is no error: the snapshot has no topologies then and
 * info->pci_machine is FALSE. */
SkSnapshot *sk_snapshot_read(virDomainPtr dom, const SkConfig *config, const SkHostPci *host,
                             GThreadPool *readers, const SkDomainInfo *known, GError **error);
/* The function of the thread pool passed to sk_snapshot_read as @readers (user data unused):
 * it reads a persistent definition while the job's thread reads the running one. */
void sk_snapshot_reader(gpointer data, gpointer user_data);
/* Reads again what libvirt changed: the running and/or the persistent definition (not the
 * state: a job changes definitions, not whether the domain runs). */
gboolean sk_snapshot_reread(SkSnapshot *snap, gboolean live, gboolean persistent, GError **error);
void sk_snapshot_free(SkSnapshot *snap);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkSnapshot, sk_snapshot_free)

/* A device was attached at @addr (libvirt placed it exactly there: the address was explicit)
 * in the running and/or persistent definition: the facts follow at once, without reading the
 * definitions again - which the job then does anyway before it plans anything else. */
void sk_snapshot_note_attach(SkSnapshot *snap, const SkPciAddr *addr, gboolean live,
                             gboolean persistent);
/* Notes in the timeline that @what took the time since the last mark (for --verbose). */
void sk_snapshot_mark(SkSnapshot *snap, const char *what);

/* The domain's name, for messages. */
const char *sk_snapshot_name(const SkSnapshot *snap);

G_END_DECLS
