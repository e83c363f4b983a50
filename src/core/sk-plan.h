/* slotkeeper: a plan - where a device goes, which controllers the persistent definition needs,
 * and when it takes effect; or a refusal with the reason and the remedy. sk-planner.h makes
 * them. */
#pragma once

#include <glib.h>

#include "sk-device.h"
#include "sk-error.h"
#include "sk-pci.h"
#include "sk-policy.h"

G_BEGIN_DECLS

typedef struct {
    gboolean live;            /* affect the running definition */
    gboolean config;          /* affect the persistent definition */
    gboolean hotplug_require; /* TRUE (default): the device must be hot-unpluggable later */
    gboolean transient;       /* the domain has no persistent definition: advise no --config */
    SkPolicy policy;
} SkPlanOptions;

typedef enum {
    SK_PLAN_EFFECT_NONE,      /* nothing to change */
    SK_PLAN_EFFECT_NOW,       /* the running guest gets the device now */
    SK_PLAN_EFFECT_NEXT_BOOT, /* persistent definition only: seen after the next cold boot */
} SkPlanEffect;

typedef struct {
    guint index;
    SkPciModel model;
    const char *model_name; /* static */
    int chassis;            /* -1 when not applicable */
    int port;
    int chassis_nr;
    SkPciAddr address;
    char *purpose; /* "spare hotplug port", "port for the pcie-to-pci-bridge" */
} SkNewController;

/* A controller libvirt would add by itself for the device (sk-implicit.h), added explicitly:
 * attached before the device, with its own planned address. */
typedef struct {
    SkDevice *device; /* the <controller> element (its own document), as classified */
    char *type;       /* "scsi", "sata", "virtio-serial" */
    guint index;
    char *model;             /* NULL when the element has none */
    gboolean live_pluggable; /* libvirt can hot-plug and hot-unplug it (SCSI controllers) */
    gboolean live;           /* hot-plugged into the running guest */
    gboolean config;         /* added to the persistent definition */
    gboolean has_address;
    SkPciAddr address; /* when it takes a PCI slot */
    char *purpose;     /* "SCSI controller 0 for disk scsi sda" */
} SkCompanion;

typedef struct {
    gboolean refused;
    SkErrorCode refusal_code; /* when refused */
    char *refusal;            /* when refused: what cannot be done and why */
    char *remedy;             /* when refused: what the user can do (may be NULL) */
    gboolean has_address;     /* attach plans: the device's address */
    SkPciAddr address;
    SkPlanEffect effect;
    GPtrArray *controllers;     /* SkNewController*: add to the persistent definition */
    GPtrArray *reasons;         /* char*: the decisions, in plain words */
    gboolean short_of_policy;   /* reserve plans: the policy cannot be met (cap, no room) */
    GPtrArray *companions;      /* attach plans: SkCompanion*, in attach order */
    gboolean has_drive_address; /* the device gets this drive address (its companion's bus) */
    SkDriveAddr drive_address;
    /* A virtio device libvirt would put on virtio-mmio gets a PCI address instead (it must stay
     * hot-unpluggable): its flags are mmio_pci_flags, its description pci_description. */
    gboolean virtio_pci;
} SkPlan;

void sk_plan_options_init(SkPlanOptions *opts);
/* "now", "next-boot" or "none", as the CLI's JSON and the D-Bus Plan reply say it. */
const char *sk_plan_effect_to_string(SkPlanEffect effect);

void sk_plan_free(SkPlan *plan);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkPlan, sk_plan_free)

/* For a refused plan: sets @error from refusal (+ remedy) and returns FALSE; else TRUE. */
gboolean sk_plan_check(const SkPlan *plan, GError **error);

/* For the planner, which builds plans: an empty plan. */
SkPlan *sk_plan_new(void);
/* Adds a decision, in plain words, to the plan's reasons. */
void sk_plan_reason(SkPlan *plan, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Refuses the plan with @code, the reason (@fmt) and @remedy (may be NULL); a later refusal
 * replaces an earlier one. */
void sk_plan_refuse(SkPlan *plan, SkErrorCode code, const char *remedy, const char *fmt, ...)
    G_GNUC_PRINTF(4, 5);

G_END_DECLS
