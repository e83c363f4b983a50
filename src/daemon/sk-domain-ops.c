/* slotkeeperd: the model - libvirt work on one domain, planned on a snapshot. */
#include "sk-domain-ops.h"

#include <libvirt/virterror.h>
#include <string.h>

#include "sk-domain-info.h"
#include "sk-edit.h"
#include "sk-error.h"
#include "sk-fault.h"
#include "sk-virt.h"
#include "sk-xml.h"

/* "pcie-root-port index 9 (spare hotplug port) and ..." */
static char *
sk_ops_describe_controllers(const GPtrArray *controllers)
{
    GString *out = g_string_new(NULL);

    for (guint i = 0; i < controllers->len; i++) {
        const SkNewController *c = controllers->pdata[i];

        if (i > 0)
            g_string_append(out, i + 1 == controllers->len ? " and " : ", ");
        g_string_append_printf(out, "%s index %u", sk_pci_model_to_string(c->model), c->index);
        if (c->purpose)
            g_string_append_printf(out, " (%s)", c->purpose);
    }
    return g_string_free(out, FALSE);
}

/* A driver without device attach (test:///) has no concurrent attach to race with either:
 * define the persistent definition with the plan applied there. */
static gboolean
sk_ops_define_plan(SkSnapshot *snap, const SkPlan *plan, GError **error)
{
    g_autoptr(xmlDoc) doc =
        sk_edit_apply_plan(sk_topology_get_doc(snap->persistent), plan, NULL, error);
    g_autofree char *xml = NULL;
    virDomainPtr defined;

    if (!doc)
        return FALSE;
    xml = sk_xml_doc_to_string(doc);
    defined = virDomainDefineXML(virDomainGetConnect(snap->dom), xml);
    if (!defined)
        return sk_virt_set_error(error, "cannot define the new persistent definition");
    virDomainFree(defined);
    return TRUE;
}

/* Adds the plan's controllers (and only those) to the persistent definition, then reads it
 * again.
 *
 * One attach-device --config per controller rather than a define of the edited definition:
 * virDomainDefineXML takes no domain job, so a define made from a definition read a moment
 * earlier could drop a device that a concurrent attach (a plain virsh attach-device --live
 * --config, whose device event we may be reacting to) has just saved. An attach waits for
 * the domain's job and edits the definition libvirt holds, never an older copy. */
static gboolean
sk_ops_add_controllers(SkSnapshot *snap, const SkPlan *plan, GError **error)
{
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *ctrl = plan->controllers->pdata[i];
        g_autofree char *xml = sk_edit_controller_xml(ctrl);

        if (virDomainAttachDeviceFlags(snap->dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
            virErrorPtr err = virGetLastError();
            g_autofree char *what = NULL;

            if (i == 0 && err && err->code == VIR_ERR_NO_SUPPORT) {
                if (!sk_ops_define_plan(snap, plan, error))
                    return FALSE;
                break;
            }
            what = g_strdup_printf("cannot add %s index %u to the persistent definition",
                                   sk_pci_model_to_string(ctrl->model), ctrl->index);
            sk_virt_set_error(error, what);
            /* What was added before the failure is there: the snapshot must show it. */
            if (i > 0)
                sk_snapshot_reread(snap, FALSE, TRUE, NULL);
            return FALSE;
        }
    }
    return sk_snapshot_reread(snap, FALSE, TRUE, error);
}

/* Takes the plan's controllers out of the persistent definition again (after a failed attach
 * that added them), last first. Returns what could not be removed, for the error message, or
 * NULL when everything went. */
static char *
sk_ops_remove_controllers(SkSnapshot *snap, const SkPlan *plan)
{
    g_autoptr(GString) left = g_string_new(NULL);

    for (guint i = plan->controllers->len; i-- > 0;) {
        const SkNewController *ctrl = plan->controllers->pdata[i];
        g_autofree char *xml = sk_edit_controller_xml(ctrl);

        if (virDomainDetachDeviceFlags(snap->dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
            virErrorPtr err = virGetLastError();

            g_string_append_printf(left, "%s%s index %u (%s)", left->len ? ", " : "",
                                   sk_pci_model_to_string(ctrl->model), ctrl->index,
                                   err && err->message ? err->message : "no reason given");
        }
    }
    sk_snapshot_reread(snap, FALSE, TRUE, NULL);
    return left->len ? g_string_free(g_steal_pointer(&left), FALSE) : NULL;
}

static unsigned int
sk_ops_companion_flags(const SkCompanion *comp)
{
    return (comp->live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
           (comp->config ? VIR_DOMAIN_AFFECT_CONFIG : 0);
}

/* Attaches the plan's companions (the controllers libvirt would otherwise add by itself at its
 * own address), each where the plan says, in order. @attached counts those that went in, for a
 * roll-back. */
static gboolean
sk_ops_add_companions(SkSnapshot *snap, const SkPlan *plan, guint *attached, GError **error)
{
    for (*attached = 0; *attached < plan->companions->len; (*attached)++) {
        const SkCompanion *comp = plan->companions->pdata[*attached];
        g_autofree char *xml = sk_edit_companion_xml(comp);
        g_autofree char *what = NULL;

        if (virDomainAttachDeviceFlags(snap->dom, xml, sk_ops_companion_flags(comp)) < 0) {
            what = g_strdup_printf("cannot add %s controller %u (%s)", comp->type, comp->index,
                                   comp->purpose);
            return sk_virt_set_error(error, what);
        }
    }
    return TRUE;
}

/* Takes the first @n companions out again, last first; appends what stays to @left. A live
 * detach asks the guest, which may take its time (libvirt returns after 5 s): the persistent
 * definition loses it at once. */
static void
sk_ops_remove_companions(SkSnapshot *snap, const SkPlan *plan, guint n, GString *left)
{
    for (guint i = MIN(n, plan->companions->len); i-- > 0;) {
        const SkCompanion *comp = plan->companions->pdata[i];
        g_autofree char *xml = sk_edit_companion_xml(comp);

        if (virDomainDetachDeviceFlags(snap->dom, xml, sk_ops_companion_flags(comp)) < 0) {
            virErrorPtr err = virGetLastError();

            g_string_append_printf(left, "%s%s controller %u (%s)", left->len ? ", " : "",
                                   comp->type, comp->index,
                                   err && err->message ? err->message : "no reason given");
        }
    }
}

/* After a failed attach: undo the @companions companions and the controllers it added, and say
 * in @error when some stay. */
static void
sk_ops_roll_back_all(SkSnapshot *snap, const SkPlan *plan, guint companions, GError **error)
{
    g_autoptr(GString) gone = g_string_new(NULL);
    g_autofree char *left = NULL;

    if (plan->controllers->len == 0 && companions == 0)
        return;
    sk_ops_remove_companions(snap, plan, companions, gone);
    left = plan->controllers->len > 0 ? sk_ops_remove_controllers(snap, plan) : NULL;
    /* Companions may have gone into the running guest too. */
    if (companions > 0)
        sk_snapshot_reread(snap, TRUE, TRUE, NULL);
    if (gone->len > 0 && left != NULL)
        g_string_append(gone, ", ");
    if (left != NULL)
        g_string_append(gone, left);
    if (gone->len > 0 && error && *error) {
        char *message = g_strdup_printf("%s; the domain keeps %s, which slotkeeper added for "
                                        "it and could not remove again",
                                        (*error)->message, gone->str);

        g_free((*error)->message);
        (*error)->message = message;
    }
}

/* After a failed attach that added only controllers. */
static void
sk_ops_roll_back(SkSnapshot *snap, const SkPlan *plan, GError **error)
{
    sk_ops_roll_back_all(snap, plan, 0, error);
}

gboolean
sk_ops_reconcile(SkSnapshot *snap, char **summary, GError **error)
{
    g_autoptr(SkPlan) plan = NULL;
    SkPolicy policy;
    gboolean managed = FALSE;

    *summary = NULL;
    /* Transient (live placement only), not a PCI machine, or opted out: nothing to keep. */
    if (!snap->info->persistent || !snap->persistent)
        return TRUE;
    sk_domain_info_resolve_policy(snap->config, snap->md, &policy, &managed);
    if (!managed)
        return TRUE;
    /* The recorded hotplug requirements decide whether the lazy policy keeps a legacy chain. */
    plan = sk_plan_reserve_full(snap->persistent, &policy,
                                sk_metadata_legacy_in_use(snap->md, snap->persistent), error);
    if (!plan)
        return FALSE;
    if (plan->controllers->len == 0)
        return TRUE;
    sk_fault_point("reconcile-before-define", sk_snapshot_name(snap));
    if (!sk_ops_add_controllers(snap, plan, error))
        return FALSE;
    sk_fault_point("reconcile-defined", sk_snapshot_name(snap));
    *summary = sk_ops_describe_controllers(plan->controllers);
    return TRUE;
}

/* The snapshot has no topology to work on: why (not a PCI machine, or unreadable). */
static gboolean
sk_ops_no_topology(const SkSnapshot *snap, GError **error)
{
    if (snap->unsupported)
        g_propagate_error(error, g_error_copy(snap->unsupported));
    else
        g_set_error(error, SK_ERROR, SK_ERROR_NOT_SUPPORTED,
                    "domain '%s' has no PCI topology slotkeeper can read", snap->info->name);
    return FALSE;
}

/* Everything an attach, a detach or a plan works from. */
typedef struct {
    SkPlanOptions popts;
    SkDevice *dev;
    gboolean managed;
} SkAttachCtx;

static void
sk_attach_ctx_clear(SkAttachCtx *ctx)
{
    g_clear_pointer(&ctx->dev, sk_device_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkAttachCtx, sk_attach_ctx_clear)

/* virsh semantics: neither live nor config is "current" - live when running, else config. */
static gboolean
sk_ops_resolve(SkSnapshot *snap, const SkOpOptions *opts, SkAttachCtx *ctx, GError **error)
{
    const SkDomainInfo *info = snap->info;

    sk_plan_options_init(&ctx->popts);
    if (!opts->live && !opts->config) {
        ctx->popts.live = info->active;
        ctx->popts.config = !info->active;
    } else {
        ctx->popts.live = opts->live;
        ctx->popts.config = opts->config;
    }
    if (ctx->popts.live && !info->active) {
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED,
                    "domain '%s' is not running: a live change needs a running guest (use "
                    "--config to change the persistent definition)",
                    info->name);
        return FALSE;
    }
    if (ctx->popts.config && !info->persistent) {
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED,
                    "domain '%s' is transient: it has no persistent definition to change",
                    info->name);
        return FALSE;
    }
    if (opts->has_hotplug_require)
        ctx->popts.hotplug_require = opts->hotplug_require;
    ctx->popts.transient = !info->persistent;
    return TRUE;
}

/* Controllers are not attached through slotkeeper: PCI controllers cannot be hot-plugged and
 * slotkeeper adds the ones a domain needs itself; other controllers come with the devices
 * that need them. */
static gboolean
sk_ops_refuse_controller(const SkSnapshot *snap, const SkDevice *dev, GError **error)
{
    if (!g_str_equal(dev->element, "controller"))
        return TRUE;
    if (dev->pci_model != SK_PCI_MODEL_NONE)
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE,
                    "%s is a PCI controller: those cannot be hot-plugged, and slotkeeper adds "
                    "the ones '%s' needs by itself; to keep more spare hotplug slots use "
                    "'slotkeeper policy %s --spare-ports N' (or plan them offline with "
                    "'slotkeeper reserve')",
                    dev->description, snap->info->name, snap->info->name);
    else
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE,
                    "%s is a controller: slotkeeper attaches devices and plans the controllers "
                    "they need with them; attach the device that needs it, or the controller "
                    "itself with 'virsh attach-device'",
                    dev->description);
    return FALSE;
}

static gboolean
sk_ops_prepare(SkSnapshot *snap, const SkRequest *req, SkAttachCtx *ctx, GError **error)
{
    if (!sk_ops_resolve(snap, &req->opts, ctx, error))
        return FALSE;
    if (!snap->main)
        return sk_ops_no_topology(snap, error);
    sk_domain_info_resolve_policy(snap->config, snap->md, &ctx->popts.policy, &ctx->managed);
    ctx->dev = sk_device_new_from_xml(req->xml, strlen(req->xml), &snap->machine, error);
    if (!ctx->dev)
        return FALSE;
    return req->kind == SK_REQUEST_DETACH || sk_ops_refuse_controller(snap, ctx->dev, error);
}

static SkPlan *
sk_ops_plan_attach(SkSnapshot *snap, const SkAttachCtx *ctx, GError **error)
{
    return sk_plan_attach(ctx->popts.config ? snap->persistent : NULL,
                          ctx->popts.live ? snap->live : NULL, ctx->dev, &ctx->popts, error);
}

gboolean
sk_ops_plan(SkSnapshot *snap, const SkRequest *req, SkResult *result, GError **error)
{
    g_auto(SkAttachCtx) ctx = { 0 };

    if (!sk_ops_prepare(snap, req, &ctx, error))
        return FALSE;
    result->plan = sk_ops_plan_attach(snap, &ctx, error);
    if (!result->plan)
        return FALSE;
    result->device = g_steal_pointer(&ctx.dev);
    result->live = ctx.popts.live;
    result->config = ctx.popts.config;
    return TRUE;
}

static gboolean
sk_ops_store_metadata(SkSnapshot *snap, const SkMetadata *md, gboolean live, gboolean config,
                      GError **error)
{
    g_autofree char *xml = sk_metadata_to_xml(md);
    unsigned int flags =
        (live ? VIR_DOMAIN_AFFECT_LIVE : 0) | (config ? VIR_DOMAIN_AFFECT_CONFIG : 0);

    if (virDomainSetMetadata(snap->dom, VIR_DOMAIN_METADATA_ELEMENT, xml, SK_METADATA_PREFIX,
                             SK_METADATA_NS, flags) < 0)
        return sk_virt_set_error(error, "cannot store slotkeeper's metadata");
    return TRUE;
}

/* Whether libvirt takes @dev at the place @plan gives it in the persistent definition: an
 * attach there and a detach of the same device (and of its companions, which a detach of the
 * device alone would leave behind), which leave the definition as it was. */
static gboolean
sk_ops_check_with_libvirt(SkSnapshot *snap, const SkDevice *dev, const SkPlan *plan, GError **error)
{
    g_autofree char *xml = sk_edit_device_xml(dev, plan);
    g_autoptr(GString) left = g_string_new(NULL);
    guint companions = 0;
    gboolean ok;

    ok = sk_ops_add_companions(snap, plan, &companions, error);
    if (ok && virDomainAttachDeviceFlags(snap->dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0)
        ok = sk_virt_set_error(error, "libvirt refuses the device");
    else if (ok && virDomainDetachDeviceFlags(snap->dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0)
        g_string_append_printf(left, "%s (%s)", dev->description,
                               virGetLastError() ? virGetLastError()->message : "?");
    sk_ops_remove_companions(snap, plan, companions, left);
    if (left->len > 0)
        g_warning("domain %s: cannot take what was checked out of the persistent definition "
                  "again: %s",
                  sk_snapshot_name(snap), left->str);
    return ok;
}

/* A refused live attach: prepare the persistent definition so that the next cold boot has a
 * slot, and say so in the NoFreeSlot error. */
static gboolean
sk_ops_refused_live(SkSnapshot *snap, SkAttachCtx *ctx, const SkPlan *plan, GError **error)
{
    g_autoptr(SkPlan) next = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *added = NULL;
    SkPlanOptions popts = ctx->popts;

    /* A device that needs no hotplug gets a place on pcie-root at the next boot without any
     * new controller: say how, add nothing. */
    if (!ctx->popts.hotplug_require) {
        g_set_error(error, SK_ERROR, SK_ERROR_NO_FREE_SLOT,
                    "%s; with --hotplug-require no it needs no new controller: attach it with "
                    "--config only, and it is placed on pcie-root at the next cold boot",
                    plan->refusal);
        return FALSE;
    }
    if (!snap->info->persistent || !ctx->managed || !snap->persistent)
        return sk_plan_check(plan, error);
    popts.live = FALSE;
    popts.config = TRUE;
    popts.hotplug_require = TRUE;
    next = sk_plan_attach(snap->persistent, NULL, ctx->dev, &popts, &local);
    if (!next || next->refused)
        return sk_plan_check(plan, error);
    if (next->controllers->len == 0) {
        g_set_error(error, SK_ERROR, SK_ERROR_NO_FREE_SLOT,
                    "%s; the persistent definition already has a free slot for it, which "
                    "becomes usable after the guest is shut down and started again",
                    plan->refusal);
        return FALSE;
    }
    if (!sk_ops_add_controllers(snap, next, error))
        return FALSE;
    /* Keep them only for a device libvirt accepts in that slot: attach it to the persistent
     * definition there and take it out again; a refusal rolls the controllers back. */
    if (!sk_ops_check_with_libvirt(snap, ctx->dev, next, error)) {
        sk_ops_roll_back(snap, next, error);
        return FALSE;
    }
    added = sk_ops_describe_controllers(next->controllers);
    g_set_error(error, SK_ERROR, SK_ERROR_NO_FREE_SLOT,
                "%s; slotkeeper added %s to the persistent definition: the new slot becomes "
                "usable after the guest is shut down and started again",
                plan->refusal, added);
    return FALSE;
}

/* The keys whose hotplug requirement an attach records: the device's, and those of the
 * companions it adds to the persistent definition (so that a SCSI controller placed on
 * pcie-root with hotplug-require=no does not make the lazy policy keep a legacy chain). */
static GPtrArray *
sk_ops_record_keys(const SkDevice *dev, const SkPlan *plan)
{
    GPtrArray *keys = g_ptr_array_new_with_free_func(g_free);
    char *key = sk_metadata_device_key(dev);

    if (key != NULL)
        g_ptr_array_add(keys, key);
    for (guint i = 0; i < plan->companions->len; i++) {
        const SkCompanion *comp = plan->companions->pdata[i];

        if (comp->config && comp->device != NULL &&
            (key = sk_metadata_device_key(comp->device)) != NULL)
            g_ptr_array_add(keys, key);
    }
    return keys;
}

/* Sets the requirement of @keys in @md; TRUE when that changed anything. */
static gboolean
sk_ops_set_requirement(SkMetadata *md, const GPtrArray *keys, gboolean require)
{
    gboolean changed = FALSE;

    for (guint i = 0; i < keys->len; i++) {
        const char *key = keys->pdata[i];

        if (require == sk_metadata_get_no_hotplug(md, key)) {
            sk_metadata_set_hotplug_require(md, key, require);
            changed = TRUE;
        }
    }
    return changed;
}

gboolean
sk_ops_attach(SkSnapshot *snap, const SkRequest *req, SkResult *result, GError **error)
{
    g_auto(SkAttachCtx) ctx = { 0 };
    g_autoptr(SkPlan) plan = NULL;
    g_autoptr(SkMetadata) md = NULL;
    g_autoptr(GPtrArray) keys = NULL;
    g_autofree char *dev_xml = NULL;
    const char *name = sk_snapshot_name(snap);
    unsigned int flags;
    gboolean record = FALSE;
    gboolean stored = FALSE;
    guint companions = 0;

    if (!sk_ops_prepare(snap, req, &ctx, error))
        return FALSE;
    plan = sk_ops_plan_attach(snap, &ctx, error);
    if (!plan)
        return FALSE;
    if (plan->refused) {
        if (ctx.popts.live && plan->refusal_code == SK_ERROR_NO_FREE_SLOT)
            return sk_ops_refused_live(snap, &ctx, plan, error);
        return sk_plan_check(plan, error);
    }
    if (plan->controllers->len > 0 && !sk_ops_add_controllers(snap, plan, error))
        return FALSE;
    sk_fault_point("attach-controllers-defined", name);
    dev_xml = sk_edit_device_xml(ctx.dev, plan);
    flags = (ctx.popts.live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
            (ctx.popts.config ? VIR_DOMAIN_AFFECT_CONFIG : 0);

    /* What a crash (or a lost libvirtd) at any point leaves is consistent or harmless, so a
     * restart needs no journal: the controllers come first (spares, if the attach never
     * happens), then the companions (a SCSI controller without its disk is a harmless device);
     * live and persistent definitions change in one libvirt call with one explicit
     * address (libvirtd finishes it even if we die meanwhile); a require=no record is stored
     * before that call and a record to forget after it, so a crash leaves at worst a stale
     * require=no record for a device that is not there, which nothing reads (records only count
     * for devices in the definition, and the next attach of that device rewrites it). Spares
     * are topped up by the reconcile every start begins with. */
    keys = sk_ops_record_keys(ctx.dev, plan);
    md = snap->md ? sk_metadata_copy(snap->md) : sk_metadata_new();
    if (ctx.popts.config && !ctx.popts.hotplug_require && sk_ops_set_requirement(md, keys, FALSE)) {
        g_autoptr(GError) local = NULL;

        stored = sk_ops_store_metadata(snap, md, FALSE, TRUE, &local);
        if (!stored)
            g_warning("domain %s: %s", name, local->message);
        sk_fault_point("attach-recorded", name);
    }
    sk_snapshot_mark(snap, "plan");
    /* The controllers libvirt would add by itself go in first, explicitly, with the same flags
     * as the device wherever the definition lacks them. */
    if (!sk_ops_add_companions(snap, plan, &companions, error) ||
        virDomainAttachDeviceFlags(snap->dom, dev_xml, flags) < 0) {
        if (companions == plan->companions->len)
            sk_virt_set_error(error, NULL);
        /* A failed attach changes nothing: the record, the companions and the controllers go
         * again. */
        if (stored && virDomainSetMetadata(snap->dom, VIR_DOMAIN_METADATA_ELEMENT, snap->md_xml,
                                           snap->md_xml ? SK_METADATA_PREFIX : NULL, SK_METADATA_NS,
                                           VIR_DOMAIN_AFFECT_CONFIG) < 0)
            g_warning("domain %s: cannot take the hotplug-require=no record back", name);
        sk_ops_roll_back_all(snap, plan, companions, error);
        return FALSE;
    }
    sk_fault_point("attach-attached", name);
    sk_snapshot_mark(snap, "libvirt attach");

    /* Forget an old require=no record now that the device requires hotplug. The device is
     * attached already, so a failure here is only worth a warning. */
    record =
        ctx.popts.config && ctx.popts.hotplug_require && sk_ops_set_requirement(md, keys, TRUE);
    if (record) {
        g_autoptr(GError) local = NULL;

        if (!sk_ops_store_metadata(snap, md, FALSE, TRUE, &local))
            g_warning("domain %s: %s", name, local->message);
    }
    result->address = plan->has_address ? sk_pci_addr_format(&plan->address) : g_strdup("");
    result->device_xml = g_steal_pointer(&dev_xml);
    result->live = ctx.popts.live;
    result->config = ctx.popts.config;
    /* The reply's facts: the device is where the plan put it. The definitions libvirt changed
     * are read again after the reply (sk-service-jobs.c), before the spares are topped up. */
    if (companions > 0) {
        g_autoptr(GError) local = NULL;

        /* Companions bring buses of their own: read what libvirt made of them. The device is
         * attached: a failed read is for the log, and the job reads again before the top-up. */
        if (!sk_snapshot_reread(snap, ctx.popts.live, ctx.popts.config, &local))
            g_warning("domain %s: %s", name, local->message);
    } else if (plan->has_address) {
        sk_snapshot_note_attach(snap, &plan->address, ctx.popts.live, ctx.popts.config);
    }
    return TRUE;
}

/* After libvirt returned from a live detach: wait until the device left the running guest.
 * FALSE with DetachPending when the guest has not let go by the deadline. */
static gboolean
sk_ops_wait_released(SkSnapshot *snap, const SkDevice *dev, const SkRemovalWaiter *waiter,
                     gint64 seen, gboolean config, GError **error)
{
    gint64 end = g_get_monotonic_time() + (gint64)waiter->timeout_ms * 1000;

    while (snap->live && sk_metadata_device_present(snap->live, dev)) {
        if (!waiter->wait(waiter->data, seen, end)) {
            g_set_error(error, SK_ERROR, SK_ERROR_DETACH_PENDING,
                        "%s is still attached to the running guest '%s': libvirt asked the "
                        "guest to release it, and it has not done so (yet)%s; its slot stays "
                        "taken until the guest lets go (a guest without PCI hotplug support, or "
                        "still booting, may never: shut it down to remove the device)",
                        dev->description, sk_snapshot_name(snap),
                        config ? "; the persistent definition no longer has it" : "");
            return FALSE;
        }
        seen = waiter->removals(waiter->data);
        if (!sk_snapshot_reread(snap, TRUE, FALSE, error))
            return FALSE;
    }
    return TRUE;
}

gboolean
sk_ops_detach(SkSnapshot *snap, const SkRequest *req, const SkRemovalWaiter *waiter, GError **error)
{
    g_auto(SkAttachCtx) ctx = { 0 };
    g_autofree char *key = NULL;
    g_autoptr(GError) prep_error = NULL;
    unsigned int flags;
    gint64 seen = waiter ? waiter->removals(waiter->data) : 0;

    /* libvirt finds the device to detach by itself: a device slotkeeper cannot classify (or a
     * machine it does not manage) only means there is no hotplug record to forget. */
    if (!sk_ops_prepare(snap, req, &ctx, &prep_error)) {
        if (!g_error_matches(prep_error, SK_ERROR, SK_ERROR_NOT_SUPPORTED) &&
            !g_error_matches(prep_error, SK_ERROR, SK_ERROR_INVALID_DEVICE) &&
            !g_error_matches(prep_error, SK_ERROR, SK_ERROR_INVALID_ADDRESS)) {
            g_propagate_error(error, g_steal_pointer(&prep_error));
            return FALSE;
        }
        g_clear_pointer(&ctx.dev, sk_device_free);
    }
    flags = (ctx.popts.live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
            (ctx.popts.config ? VIR_DOMAIN_AFFECT_CONFIG : 0);
    if (virDomainDetachDeviceFlags(snap->dom, req->xml, flags) < 0)
        return sk_virt_set_error(error, NULL);
    key = ctx.dev ? sk_metadata_device_key(ctx.dev) : NULL;
    if (ctx.popts.config && key && snap->md && sk_metadata_get_no_hotplug(snap->md, key)) {
        g_autoptr(SkMetadata) md = sk_metadata_copy(snap->md);
        g_autoptr(GError) local = NULL;

        sk_metadata_set_hotplug_require(md, key, TRUE);
        if (!sk_ops_store_metadata(snap, md, FALSE, TRUE, &local))
            g_warning("domain %s: %s", sk_snapshot_name(snap), local->message);
    }
    if (!sk_snapshot_reread(snap, ctx.popts.live, ctx.popts.config, error))
        return FALSE;
    /* libvirt 9.0 returns success when the guest has not released the device within its own
     * 5 s: the device is then still there, and so is its slot. */
    if (ctx.popts.live && ctx.dev && waiter)
        return sk_ops_wait_released(snap, ctx.dev, waiter, seen, ctx.popts.config, error);
    return TRUE;
}

gboolean
sk_ops_topology(SkSnapshot *snap, const SkRequest *req, SkResult *result, GError **error)
{
    gboolean inactive = req->opts.inactive || !snap->info->active;
    SkTopology **topo = inactive ? &snap->persistent : &snap->live;

    if (req->opts.inactive && !snap->info->persistent) {
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED,
                    "domain '%s' is transient: it has no persistent definition", snap->info->name);
        return FALSE;
    }
    if (!*topo)
        return sk_ops_no_topology(snap, error);
    /* The job is done with it: the facts derived from it are in snap->info already. */
    result->topology = g_steal_pointer(topo);
    if (snap->main == result->topology)
        snap->main = NULL;
    return TRUE;
}

gboolean
sk_ops_set_policy(SkSnapshot *snap, const SkMetadata *changes, GError **error)
{
    g_autoptr(SkMetadata) md = snap->md ? sk_metadata_copy(snap->md) : sk_metadata_new();
    guint cap = sk_policy_root_port_cap(&snap->info->policy, snap->info->arch);

    /* More spares than the domain may have root ports in all can never be kept: refused,
     * rather than shown and silently not met. */
    if (changes->has_spare_ports && snap->main && snap->machine.has_pcie_root &&
        changes->spare_ports > cap) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT,
                    "spare-ports %u is more than the %u root ports a%s %s guest may have in all "
                    "(root-port-cap): at most %u",
                    changes->spare_ports, cap,
                    snap->info->arch && strchr("aeiox", snap->info->arch[0]) ? "n" : "",
                    snap->info->arch ? snap->info->arch : "", cap);
        return FALSE;
    }

    if (changes->has_spare_ports) {
        md->has_spare_ports = TRUE;
        md->spare_ports = changes->spare_ports;
    }
    if (changes->has_legacy_bridge) {
        md->has_legacy_bridge = TRUE;
        md->legacy_bridge = changes->legacy_bridge;
    }
    if (changes->has_managed) {
        md->has_managed = TRUE;
        md->managed = changes->managed;
    }
    if (!sk_ops_store_metadata(snap, md, snap->info->active, snap->info->persistent, error))
        return FALSE;
    /* The policy comes from the persistent definition's metadata (the running one's for a
     * transient domain): that is what changed for the facts. */
    return sk_snapshot_reread(snap, !snap->info->persistent, snap->info->persistent, error);
}
