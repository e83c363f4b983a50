/* slotkeeper: what the service reports about one domain - its policy in force, whether it is
 * managed, its free hotplug slots now and after the next cold boot, its legacy chain - worked
 * out from the running and persistent topologies the caller read. */
#pragma once

#include <glib.h>

#include "sk-config.h"
#include "sk-metadata.h"
#include "sk-policy.h"
#include "sk-topology.h"

G_BEGIN_DECLS

typedef enum {
    SK_LEGACY_CHAIN_ABSENT,
    SK_LEGACY_CHAIN_NEXT_BOOT, /* in the persistent definition only */
    SK_LEGACY_CHAIN_PRESENT,   /* in the running guest (or the definition of a shut-off one) */
} SkLegacyChain;

typedef struct {
    char *name;
    char *uuid;
    char *state; /* "running", "shut-off", ... */
    char *arch;
    char *machine;
    gboolean active;
    gboolean persistent;
    gboolean pci_machine;
    gboolean managed;
    int id;            /* libvirt's id of a running domain, -1 otherwise */
    SkPolicy policy;   /* in force: the config file's, with the domain's metadata applied */
    guint spare_ports; /* the spares that can be kept: policy.spare_ports within the cap */
    guint free_pcie;
    guint free_pci;
    guint free_pcie_next;
    guint free_pci_next;
    SkLegacyChain legacy_chain;
    gboolean restart_pending;
} SkDomainInfo;

SkDomainInfo *sk_domain_info_new(void);
SkDomainInfo *sk_domain_info_copy(const SkDomainInfo *info);
void sk_domain_info_free(SkDomainInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkDomainInfo, sk_domain_info_free)
gboolean sk_domain_info_equal(const SkDomainInfo *a, const SkDomainInfo *b);

/* The policy in force and whether the domain is managed: @config's defaults with @md's
 * overrides (@md may be NULL). */
void sk_domain_info_resolve_policy(const SkConfig *config, const SkMetadata *md, SkPolicy *policy,
                                   gboolean *managed);

/* Fills the slot facts of @info (active, persistent, name and state set by the caller) from
 * @live (running definition, NULL when not running) and @persistent (NULL when transient);
 * with neither, the domain is not a PCI machine. @md is the persistent definition's metadata. */
void sk_domain_info_fill(SkDomainInfo *info, const SkConfig *config, const SkTopology *live,
                         const SkTopology *persistent, const SkMetadata *md);

/* "absent", "next-boot", "present" */
const char *sk_legacy_chain_to_string(SkLegacyChain chain);

G_END_DECLS
