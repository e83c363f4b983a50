/* slotkeeper: the slot planner - plans (sk-plan.h) for attaching a device to a domain's
 * definitions and for keeping its spare hotplug slots. */
#pragma once

#include <glib.h>

#include "sk-device.h"
#include "sk-plan.h"
#include "sk-policy.h"
#include "sk-topology.h"

G_BEGIN_DECLS

/* Plans attaching @dev. @persistent and/or @live as opts->config/opts->live require; @live must
 * come from a running domain's XML (<domain id=...>), and may also serve as @persistent. Returns
 * NULL with an error for bad input (inconsistent options, unsupported machine, requested address
 * taken or incompatible); returns a refused plan when no slot can be had (with the
 * persistent-side controllers that would fix it). */
SkPlan *sk_plan_attach(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
                       const SkPlanOptions *opts, GError **error);
/* Plans topping @persistent up to the policy's spare ports (and legacy chain when eager). */
SkPlan *sk_plan_reserve(const SkTopology *persistent, const SkPolicy *policy, GError **error);
/* The same; with @legacy_in_use (the domain has a conventional PCI device that requires
 * hotplug: sk_metadata_legacy_in_use) the lazy policy also keeps a legacy chain with a free
 * slot, so that the next such hotplug works in the running guest. */
SkPlan *sk_plan_reserve_full(const SkTopology *persistent, const SkPolicy *policy,
                             gboolean legacy_in_use, GError **error);

G_END_DECLS
