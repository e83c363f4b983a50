/* slotkeeper: what the planner's files share - the state of one planning run and the steps
 * one file takes for another (sk-planner.c places items, sk-planner-grow.c adds controllers,
 * sk-planner-companions.c plans the controllers libvirt would add).
 * Private to the planner: everything else uses sk-planner.h. */
#pragma once

#include <glib.h>

#include "sk-device.h"
#include "sk-plan.h"
#include "sk-policy.h"
#include "sk-topology.h"
#include "sk-work-set.h"

G_BEGIN_DECLS

/* One planning run: copies of the definitions it affects, the plan it writes, and the item it
 * is placing. */
typedef struct {
    const SkPlanOptions *opts;
    const SkDevice *dev;
    SkWorkSet *all_config; /* NULL when the persistent definition is not affected or given */
    SkWorkSet *all_live;   /* NULL when the running definition is not affected */
    const char *arch;
    guint cap;
    SkPlan *plan;
    /* The item being placed (the device or one of its companions) and the definitions it goes
     * into: a subset of the two above (sk_planner_focus). */
    SkWorkSet *config;
    SkWorkSet *live;
    SkWorkSet *sets[SK_MAX_SETS];
    guint n_sets;
    SkConnectFlags flags; /* its connect flags */
    const char *what;     /* its description */
    gboolean require;     /* it must stay hot-unpluggable (hotplug-require=yes) */
    gboolean *out_has;    /* where its address goes */
    SkPciAddr *out;
} SkPlanner;

/* sk-planner.c */

/* Starts a run on copies of @persistent and/or @live (NULL: not affected), focused on both,
 * with a new plan and @policy's root-port cap. */
void sk_planner_init(SkPlanner *p, const SkTopology *persistent, const SkTopology *live,
                     const SkPolicy *policy);
/* Frees the copies and the plan, unless it was stolen. */
void sk_planner_clear(SkPlanner *p);
/* The next item goes into the running definition (@live) and/or the persistent one (@config),
 * of those the plan affects. */
void sk_planner_focus(SkPlanner *p, gboolean live, gboolean config);
/* Whether the machine is planned as PCI Express (q35, virt: anything but pc). */
gboolean sk_planner_is_pcie(const SkPlanner *p);
/* Places the focused item (p->flags, p->what) in every definition it goes into: a hotplug slot
 * when it must stay hot-unpluggable or goes into the running guest, growing the persistent
 * definition when that is all that can give it one; or refuses the plan. */
void sk_planner_attach_pci(SkPlanner *p);
/* Which connect flags @dev is placed with: a virtio device that libvirt would put on
 * virtio-mmio gets a PCI address when it must stay hot-unpluggable (@hotplug), since
 * virtio-mmio devices never are; otherwise it keeps libvirt's virtio-mmio (flags 0). */
SkConnectFlags sk_planner_transport(SkPlanner *p, const SkDevice *dev, gboolean hotplug,
                                    const char **what);

/* sk-planner-grow.c */

/* Grows the persistent definition so that the device has a hotplug slot at the next boot. */
gboolean sk_planner_grow(SkPlanner *p, SkPciAddr *addr, char **why);
/* Adds a reason for each controller the plan added from index @from of plan->controllers. */
void sk_planner_describe_controllers(SkPlanner *p, guint from);
/* The controllers added from index @from, in words: "pcie-root-port index 5 and
 * pcie-to-pci-bridge index 6". */
char *sk_planner_list_controllers(const SkPlanner *p, guint from);

/* sk-planner-companions.c */

/* Puts the controllers libvirt would add for p->dev in @persistent and/or @live into the plan
 * as companions and places each; refuses the plan when one cannot be had (a USB device without
 * USB, a controller libvirt cannot hot-plug, no slot). Ends focused on the definitions the
 * device goes into. FALSE with @error for a disk libvirt cannot address. */
gboolean sk_planner_companions(SkPlanner *p, const SkTopology *persistent, const SkTopology *live,
                               GError **error);

G_END_DECLS
