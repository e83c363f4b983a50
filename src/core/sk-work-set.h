/* slotkeeper: the planner's working copy of one definition's PCI buses - which slots and
 * functions are taken, which chassis numbers and indexes are used - so that what a plan adds is
 * visible to the decisions that follow while the topology itself stays untouched. */
#pragma once

#include <glib.h>

#include "sk-pci.h"
#include "sk-topology.h"

G_BEGIN_DECLS

#define SK_MAX_INDEX 255
#define SK_MAX_SETS 2 /* persistent and running */

typedef struct {
    gboolean exists;
    SkPciModel model;
    SkConnectFlags flags;
    guint min_slot;
    guint max_slot;
    guint8 functions[32];
    gboolean aggregate[32];
} SkWorkBus;

/* One definition's buses while planning. */
typedef struct {
    const char *label; /* "running" / "persistent" */
    const SkTopology *topo;
    SkWorkBus buses[SK_MAX_INDEX + 1];
    guint n_buses;
    gboolean chassis_used[256];    /* root and downstream ports share one chassis space */
    gboolean chassis_nr_used[256]; /* pci-bridge chassisNr */
    guint n_root_ports;
    SkMachineKind kind;
} SkWorkSet;

/* A copy of @topo's buses (g_free it); @label ("running", "persistent") names the definition in
 * messages. @topo must outlive the copy. */
SkWorkSet *sk_work_set_new(const SkTopology *topo, const char *label);
/* Bus @index of @set, NULL when it has none. */
const SkWorkBus *sk_work_bus(const SkWorkSet *set, guint index);
/* Takes @addr's function for a device connected with @flags. */
void sk_work_reserve(SkWorkSet *set, const SkPciAddr *addr, SkConnectFlags flags);
/* libvirt's slot search (virDomainPCIAddressGetNextAddr): buses in index order, slots upward,
 * the first slot with no function in use, or for an aggregate device (root port) the first free
 * function of a slot that already holds root ports. The slot must be free in every set.
 * @only_bus restricts the search to one bus (-1: any). */
gboolean sk_work_find(SkWorkSet *const *sets, guint n_sets, SkConnectFlags flags,
                      gboolean from_config, int only_bus, SkPciAddr *out);
/* The lowest index libvirt would accept for a new controller; pci-bridges need an index above
 * the bus they sit on ("index must be larger than bus"). */
gboolean sk_work_free_index(const SkWorkSet *set, guint above, guint *index);
/* A chassis number not set in @used (256 entries): @preferred when free, else the lowest; -1
 * when all are taken. */
int sk_work_free_chassis(gboolean *used, guint preferred);
/* The empty hotplug-capable slots of @set: on PCI Express buses (@pcie) and on conventional
 * PCI ones (@pci). */
void sk_work_count_free(const SkWorkSet *set, guint *pcie, guint *pci);

G_END_DECLS
