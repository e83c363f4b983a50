/* slotkeeperd: the model - libvirt work on one domain. Every function blocks on libvirt and runs
 * in a worker thread, one operation per domain at a time (sk-daemon.c queues them). */
#include "sk-domain-ops.h"

#include <libvirt/virterror.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "sk-edit.h"
#include "sk-error.h"
#include "sk-xml.h"

static char *sk_fault_at;     /* written once before the workers start */
static char *sk_fault_domain; /* NULL: any domain */

void
sk_fault_init(void)
{
    const char *value = g_getenv("SK_TEST_CRASH_AT");
    const char *at;

    g_clear_pointer(&sk_fault_at, g_free);
    g_clear_pointer(&sk_fault_domain, g_free);
    if (!value || !*value)
        return;
    at = strchr(value, '@');
    sk_fault_at = at ? g_strndup(value, (gsize)(at - value)) : g_strdup(value);
    sk_fault_domain = at ? g_strdup(at + 1) : NULL;
    g_warning("SK_TEST_CRASH_AT=%s: test-only fault injection, the service kills itself there",
              value);
}

void
sk_fault_point(const char *point, virDomainPtr dom)
{
    if (G_LIKELY(!sk_fault_at) || !g_str_equal(sk_fault_at, point))
        return;
    if (sk_fault_domain && g_strcmp0(sk_fault_domain, virDomainGetName(dom)) != 0)
        return;
    g_message("SK_TEST_CRASH_AT: killing myself at %s", point);
    raise(SIGKILL);
}

void
sk_domain_info_free(SkDomainInfo *info)
{
    if (!info)
        return;
    g_free(info->name);
    g_free(info->uuid);
    g_free(info->state);
    g_free(info->arch);
    g_free(info->machine);
    g_free(info);
}

gboolean
sk_virt_set_error(GError **error, const char *what)
{
    virErrorPtr err = virGetLastError();
    SkErrorCode code = SK_ERROR_FAILED;
    const char *msg = err && err->message ? err->message : "unknown libvirt error";

    if (err) {
        switch (err->code) {
        case VIR_ERR_NO_DOMAIN:
            code = SK_ERROR_NO_SUCH_DOMAIN;
            break;
        case VIR_ERR_NO_CONNECT:
        case VIR_ERR_INVALID_CONN:
        case VIR_ERR_RPC:
        case VIR_ERR_SYSTEM_ERROR:
        case VIR_ERR_AGENT_UNRESPONSIVE:
            code = SK_ERROR_UNAVAILABLE;
            break;
        case VIR_ERR_AUTH_FAILED:
        case VIR_ERR_AUTH_CANCELLED:
        case VIR_ERR_ACCESS_DENIED:
        case VIR_ERR_OPERATION_DENIED:
            code = SK_ERROR_NOT_AUTHORIZED;
            break;
        case VIR_ERR_NO_SUPPORT:
        case VIR_ERR_OPERATION_UNSUPPORTED:
        case VIR_ERR_CONFIG_UNSUPPORTED:
            code = SK_ERROR_NOT_SUPPORTED;
            break;
        case VIR_ERR_XML_ERROR:
        case VIR_ERR_XML_DETAIL:
        case VIR_ERR_DEVICE_MISSING:
            code = SK_ERROR_INVALID_DEVICE;
            break;
        case VIR_ERR_INVALID_ARG:
            code = SK_ERROR_INVALID_ARGUMENT;
            break;
        default:
            code = SK_ERROR_FAILED;
            break;
        }
    }
    if (what)
        g_set_error(error, SK_ERROR, code, "%s: %s", what, msg);
    else
        g_set_error_literal(error, SK_ERROR, code, msg);
    return FALSE;
}

const char *
sk_domain_state_to_string(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return "running";
    case VIR_DOMAIN_BLOCKED:
        return "blocked";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    case VIR_DOMAIN_SHUTDOWN:
        return "shutting-down";
    case VIR_DOMAIN_SHUTOFF:
        return "shut-off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "unknown";
    }
}

/* The XML as a GLib string. Inactive definitions are read with secrets, since they may be
 * defined again (without VIR_DOMAIN_XML_SECURE a redefine would drop e.g. VNC passwords). */
static char *
sk_ops_get_xml(virDomainPtr dom, gboolean inactive, GError **error)
{
    unsigned int flags = inactive ? VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE : 0;
    char *xml = virDomainGetXMLDesc(dom, flags);
    char *copy;

    if (!xml) {
        sk_virt_set_error(error, inactive ? "cannot read the persistent definition"
                                          : "cannot read the running definition");
        return NULL;
    }
    copy = g_strdup(xml);
    free(xml);
    return copy;
}

static SkTopology *
sk_ops_get_topology(virDomainPtr dom, gboolean inactive, GError **error)
{
    g_autofree char *xml = sk_ops_get_xml(dom, inactive, error);

    if (!xml)
        return NULL;
    return sk_topology_new_from_xml(xml, strlen(xml), error);
}

static gboolean
sk_ops_domain_flags(virDomainPtr dom, gboolean *active, gboolean *persistent, GError **error)
{
    int a = virDomainIsActive(dom);
    int p = a < 0 ? -1 : virDomainIsPersistent(dom);

    if (a < 0 || p < 0)
        return sk_virt_set_error(error, NULL);
    *active = a == 1;
    *persistent = p == 1;
    return TRUE;
}

/* The effective policy and whether the domain is managed, from the config and the metadata of
 * @doc (the persistent definition when there is one). */
static gboolean
sk_ops_policy(const SkConfig *config, xmlDoc *doc, SkPolicy *policy, gboolean *managed,
              SkMetadata **md_out, GError **error)
{
    g_autoptr(SkMetadata) md = sk_metadata_from_domain(doc, error);

    if (!md)
        return FALSE;
    *policy = config->policy;
    sk_metadata_apply(md, policy);
    *managed = md->has_managed ? md->managed : config->manage_default;
    if (md_out)
        *md_out = g_steal_pointer(&md);
    return TRUE;
}

static void
sk_ops_arch_machine(const char *xml, char **arch, char **machine)
{
    g_autoptr(xmlDoc) doc = sk_xml_parse(xml, strlen(xml), "domain XML", NULL);
    xmlNode *type;

    if (!doc)
        return;
    type = sk_xml_child(sk_xml_child(xmlDocGetRootElement(doc), "os"), "type");
    if (!type)
        return;
    *arch = sk_xml_get_prop(type, "arch");
    *machine = sk_xml_get_prop(type, "machine");
}

static gboolean
sk_ops_has_legacy_chain(const SkTopology *topo)
{
    for (guint i = 0; i < sk_topology_get_n_controllers(topo); i++) {
        SkPciModel model = sk_topology_get_controller(topo, i)->model;

        if (model == SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE || model == SK_PCI_MODEL_PCI_BRIDGE)
            return TRUE;
    }
    return FALSE;
}

/* Whether the persistent definition has PCI controllers the running guest lacks. */
static gboolean
sk_ops_restart_pending(const SkTopology *persistent, const SkTopology *live)
{
    for (guint i = 0; i < sk_topology_get_n_controllers(persistent); i++) {
        const SkController *c = sk_topology_get_controller(persistent, i);
        const SkController *l = sk_topology_find_controller(live, c->index);

        if (!l || l->model != c->model)
            return TRUE;
    }
    return FALSE;
}

SkDomainInfo *
sk_domain_ops_info(virDomainPtr dom, const SkConfig *config, GError **error)
{
    g_autoptr(SkDomainInfo) info = g_new0(SkDomainInfo, 1);
    g_autoptr(SkTopology) live = NULL;
    g_autoptr(SkTopology) persistent = NULL;
    g_autofree char *live_xml = NULL;
    g_autofree char *inactive_xml = NULL;
    g_autoptr(GError) local = NULL;
    char uuid[VIR_UUID_STRING_BUFLEN];
    int state = 0;
    int reason = 0;
    gboolean managed = FALSE;

    if (virDomainGetUUIDString(dom, uuid) < 0 || virDomainGetState(dom, &state, &reason, 0) < 0)
        return sk_virt_set_error(error, NULL), NULL;
    info->name = g_strdup(virDomainGetName(dom));
    info->uuid = g_strdup(uuid);
    info->state = g_strdup(sk_domain_state_to_string(state));
    if (!sk_ops_domain_flags(dom, &info->active, &info->persistent, error))
        return NULL;
    if (info->active && !(live_xml = sk_ops_get_xml(dom, FALSE, error)))
        return NULL;
    if (info->persistent && !(inactive_xml = sk_ops_get_xml(dom, TRUE, error)))
        return NULL;
    sk_ops_arch_machine(live_xml ? live_xml : inactive_xml, &info->arch, &info->machine);

    info->policy = config->policy;
    info->pci_machine = TRUE;
    if (live_xml && !(live = sk_topology_new_from_xml(live_xml, strlen(live_xml), &local)))
        info->pci_machine = FALSE;
    if (inactive_xml && info->pci_machine &&
        !(persistent = sk_topology_new_from_xml(inactive_xml, strlen(inactive_xml), &local)))
        info->pci_machine = FALSE;
    if (local && !g_error_matches(local, SK_ERROR, SK_ERROR_NOT_SUPPORTED))
        g_warning("domain %s: cannot read its PCI topology, leaving it alone: %s", info->name,
                  local->message);
    if (!info->pci_machine) {
        info->legacy_chain = "absent";
        return g_steal_pointer(&info);
    }

    if (!sk_ops_policy(config, sk_topology_get_doc(persistent ? persistent : live), &info->policy,
                       &managed, NULL, &local)) {
        g_warning("domain %s: ignoring its slotkeeper metadata: %s", info->name, local->message);
        g_clear_error(&local);
        info->policy = config->policy;
        managed = config->manage_default;
    }
    info->managed = managed && info->persistent;
    if (live)
        sk_topology_count_free_hotplug(live, &info->free_pcie, &info->free_pci);
    sk_topology_count_free_hotplug(persistent ? persistent : live, &info->free_pcie_next,
                                   &info->free_pci_next);
    if (live && sk_ops_has_legacy_chain(live))
        info->legacy_chain = "present";
    else if (persistent && sk_ops_has_legacy_chain(persistent))
        info->legacy_chain = live ? "next-boot" : "present";
    else
        info->legacy_chain = "absent";
    info->restart_pending = live && persistent && sk_ops_restart_pending(persistent, live);
    return g_steal_pointer(&info);
}

/* "pcie-root-port index 9 (spare hotplug port) and ..." */
static char *
sk_ops_describe_controllers(const GPtrArray *controllers, guint from)
{
    GString *out = g_string_new(NULL);

    for (guint i = from; i < controllers->len; i++) {
        const SkNewController *c = controllers->pdata[i];

        if (i > from)
            g_string_append(out, i + 1 == controllers->len ? " and " : ", ");
        g_string_append_printf(out, "%s index %u", sk_pci_model_to_string(c->model), c->index);
        if (c->purpose)
            g_string_append_printf(out, " (%s)", c->purpose);
    }
    return g_string_free(out, FALSE);
}

static gboolean
sk_ops_define_doc(virDomainPtr dom, xmlDoc *doc, GError **error)
{
    g_autofree char *xml = sk_xml_doc_to_string(doc);
    virDomainPtr defined = virDomainDefineXML(virDomainGetConnect(dom), xml);

    if (!defined)
        return sk_virt_set_error(error, "cannot define the new persistent definition");
    virDomainFree(defined);
    return TRUE;
}

/* The controller element with @index that sk_edit_apply_plan put into @doc. */
static xmlNode *
sk_ops_find_controller(xmlDoc *doc, guint index)
{
    xmlNode *devices = sk_xml_child(xmlDocGetRootElement(doc), "devices");

    for (xmlNode *n = devices ? devices->children : NULL; n; n = n->next) {
        g_autofree char *type = NULL;
        g_autofree char *idx = NULL;

        if (n->type != XML_ELEMENT_NODE || !xmlStrEqual(n->name, (const xmlChar *)"controller"))
            continue;
        type = sk_xml_get_prop(n, "type");
        idx = sk_xml_get_prop(n, "index");
        if (g_strcmp0(type, "pci") == 0 && idx && g_ascii_strtoull(idx, NULL, 10) == index)
            return n;
    }
    return NULL;
}

/* Adds the plan's controllers (and only those) to the persistent definition @topo.
 *
 * One attach-device --config per controller rather than a define of the edited definition:
 * virDomainDefineXML takes no domain job, so a define made from a definition read a moment
 * earlier could drop a device that a concurrent attach (a plain virsh attach-device --live
 * --config, whose device event we may be reacting to) has just saved. An attach waits for
 * the domain's job and edits the definition libvirt holds, never an older copy. */
static gboolean
sk_ops_define_controllers(virDomainPtr dom, const SkTopology *topo, const SkPlan *plan,
                          GError **error)
{
    g_autoptr(xmlDoc) doc = sk_edit_apply_plan(sk_topology_get_doc(topo), plan, NULL, error);

    if (!doc)
        return FALSE;
    for (guint i = 0; i < plan->controllers->len; i++) {
        const SkNewController *ctrl = plan->controllers->pdata[i];
        xmlNode *node = sk_ops_find_controller(doc, ctrl->index);
        g_autofree char *xml = NULL;

        if (!node) {
            g_set_error(error, SK_ERROR, SK_ERROR_FAILED,
                        "internal error: planned controller index %u is missing", ctrl->index);
            return FALSE;
        }
        xml = sk_xml_node_to_string(node);
        if (virDomainAttachDeviceFlags(dom, xml, VIR_DOMAIN_AFFECT_CONFIG) < 0) {
            virErrorPtr err = virGetLastError();
            g_autofree char *what = NULL;

            /* A driver without device attach (test:///) has no concurrent attach to race
             * with either: define the edited definition there. */
            if (i == 0 && err && err->code == VIR_ERR_NO_SUPPORT)
                return sk_ops_define_doc(dom, doc, error);
            what = g_strdup_printf("cannot add %s index %u to the persistent definition",
                                   sk_pci_model_to_string(ctrl->model), ctrl->index);

            return sk_virt_set_error(error, what);
        }
    }
    return TRUE;
}

gboolean
sk_domain_ops_reconcile(virDomainPtr dom, const SkConfig *config, char **summary, GError **error)
{
    g_autoptr(SkTopology) topo = NULL;
    g_autoptr(SkPlan) plan = NULL;
    g_autoptr(SkMetadata) md = NULL;
    g_autoptr(GError) local = NULL;
    gboolean active = FALSE;
    gboolean persistent = FALSE;
    gboolean managed;
    SkPolicy policy;

    *summary = NULL;
    if (!sk_ops_domain_flags(dom, &active, &persistent, error))
        return FALSE;
    if (!persistent)
        return TRUE; /* transient: live placement only, nothing to keep */
    topo = sk_ops_get_topology(dom, TRUE, &local);
    if (!topo) {
        if (g_error_matches(local, SK_ERROR, SK_ERROR_NOT_SUPPORTED))
            return TRUE; /* not a PCI machine: unmanaged */
        g_propagate_error(error, g_steal_pointer(&local));
        return FALSE;
    }
    if (!sk_ops_policy(config, sk_topology_get_doc(topo), &policy, &managed, &md, error))
        return FALSE;
    if (!managed)
        return TRUE;
    /* The recorded hotplug requirements decide whether the lazy policy keeps a legacy chain. */
    plan = sk_plan_reserve_full(topo, &policy, sk_metadata_legacy_in_use(md, topo), error);
    if (!plan)
        return FALSE;
    if (plan->controllers->len == 0)
        return TRUE;
    sk_fault_point("reconcile-before-define", dom);
    if (!sk_ops_define_controllers(dom, topo, plan, error))
        return FALSE;
    sk_fault_point("reconcile-defined", dom);
    *summary = sk_ops_describe_controllers(plan->controllers, 0);
    return TRUE;
}

/* Everything an attach or a plan works from. */
typedef struct {
    gboolean active;
    gboolean persistent_dom;
    SkPlanOptions popts;
    SkTopology *live;
    SkTopology *persistent;
    SkDevice *dev;
    SkMetadata *md;
    gboolean managed;
} SkAttachCtx;

static void
sk_attach_ctx_clear(SkAttachCtx *ctx)
{
    g_clear_pointer(&ctx->live, sk_topology_free);
    g_clear_pointer(&ctx->persistent, sk_topology_free);
    g_clear_pointer(&ctx->dev, sk_device_free);
    g_clear_pointer(&ctx->md, sk_metadata_free);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkAttachCtx, sk_attach_ctx_clear)

/* virsh semantics: neither live nor config is "current" - live when running, else config. */
static gboolean
sk_ops_resolve(virDomainPtr dom, const SkOpOptions *opts, SkAttachCtx *ctx, GError **error)
{
    if (!sk_ops_domain_flags(dom, &ctx->active, &ctx->persistent_dom, error))
        return FALSE;
    sk_plan_options_init(&ctx->popts);
    if (!opts->live && !opts->config) {
        ctx->popts.live = ctx->active;
        ctx->popts.config = !ctx->active;
    } else {
        ctx->popts.live = opts->live;
        ctx->popts.config = opts->config;
    }
    if (ctx->popts.live && !ctx->active) {
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED,
                    "domain '%s' is not running: a live change needs a running guest (use the "
                    "config option for the persistent definition)",
                    virDomainGetName(dom));
        return FALSE;
    }
    if (ctx->popts.config && !ctx->persistent_dom) {
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED,
                    "domain '%s' is transient: it has no persistent definition to change",
                    virDomainGetName(dom));
        return FALSE;
    }
    if (opts->has_hotplug_require)
        ctx->popts.hotplug_require = opts->hotplug_require;
    return TRUE;
}

static gboolean
sk_ops_prepare(virDomainPtr dom, const SkConfig *config, const char *xml, const SkOpOptions *opts,
               SkAttachCtx *ctx, GError **error)
{
    const SkTopology *main_topo;

    if (!sk_ops_resolve(dom, opts, ctx, error))
        return FALSE;
    if (ctx->active && !(ctx->live = sk_ops_get_topology(dom, FALSE, error)))
        return FALSE;
    if (ctx->persistent_dom && !(ctx->persistent = sk_ops_get_topology(dom, TRUE, error)))
        return FALSE;
    main_topo = ctx->persistent ? ctx->persistent : ctx->live;
    if (!sk_ops_policy(config, sk_topology_get_doc(main_topo), &ctx->popts.policy, &ctx->managed,
                       &ctx->md, error))
        return FALSE;
    ctx->dev =
        sk_device_new_from_xml(xml, strlen(xml), sk_topology_get_machine_info(main_topo), error);
    return ctx->dev != NULL;
}

SkPlan *
sk_domain_ops_plan(virDomainPtr dom, const SkConfig *config, const char *xml,
                   const SkOpOptions *opts, SkDevice **dev, GError **error)
{
    g_auto(SkAttachCtx) ctx = { 0 };
    SkPlan *plan;

    if (!sk_ops_prepare(dom, config, xml, opts, &ctx, error))
        return NULL;
    plan = sk_plan_attach(ctx.popts.config ? ctx.persistent : NULL,
                          ctx.popts.live ? ctx.live : NULL, ctx.dev, &ctx.popts, error);
    if (plan && dev)
        *dev = g_steal_pointer(&ctx.dev);
    return plan;
}

static gboolean
sk_ops_store_metadata(virDomainPtr dom, const SkMetadata *md, gboolean live, gboolean config,
                      GError **error)
{
    g_autofree char *xml = sk_metadata_to_xml(md);
    unsigned int flags =
        (live ? VIR_DOMAIN_AFFECT_LIVE : 0) | (config ? VIR_DOMAIN_AFFECT_CONFIG : 0);

    if (virDomainSetMetadata(dom, VIR_DOMAIN_METADATA_ELEMENT, xml, SK_METADATA_PREFIX,
                             SK_METADATA_NS, flags) < 0)
        return sk_virt_set_error(error, "cannot store slotkeeper's metadata");
    return TRUE;
}

/* A refused live attach: prepare the persistent definition so that the next cold boot has a
 * slot, and say so in the NoFreeSlot error. */
static gboolean
sk_ops_refused_live(virDomainPtr dom, SkAttachCtx *ctx, const SkPlan *plan, GError **error)
{
    g_autoptr(SkPlan) next = NULL;
    g_autoptr(GError) local = NULL;
    g_autofree char *added = NULL;
    SkPlanOptions popts = ctx->popts;

    if (!ctx->persistent_dom || !ctx->managed || !ctx->persistent)
        return sk_plan_check(plan, error);
    popts.live = FALSE;
    popts.config = TRUE;
    popts.hotplug_require = TRUE;
    next = sk_plan_attach(ctx->persistent, NULL, ctx->dev, &popts, &local);
    if (!next || next->refused)
        return sk_plan_check(plan, error);
    if (next->controllers->len == 0) {
        g_set_error(error, SK_ERROR, SK_ERROR_NO_FREE_SLOT,
                    "%s; the persistent definition already has a free slot for it, which "
                    "becomes usable after the guest is shut down and started again",
                    plan->refusal);
        return FALSE;
    }
    if (!sk_ops_define_controllers(dom, ctx->persistent, next, error))
        return FALSE;
    added = sk_ops_describe_controllers(next->controllers, 0);
    g_set_error(error, SK_ERROR, SK_ERROR_NO_FREE_SLOT,
                "%s; slotkeeper added %s to the persistent definition: the new slot becomes "
                "usable after the guest is shut down and started again",
                plan->refusal, added);
    return FALSE;
}

char *
sk_domain_ops_attach(virDomainPtr dom, const SkConfig *config, const char *xml,
                     const SkOpOptions *opts, char **address, GError **error)
{
    g_auto(SkAttachCtx) ctx = { 0 };
    g_autoptr(SkPlan) plan = NULL;
    g_autofree char *dev_xml = NULL;
    g_autofree char *key = NULL;
    unsigned int flags;
    gboolean record;

    if (!sk_ops_prepare(dom, config, xml, opts, &ctx, error))
        return NULL;
    plan = sk_plan_attach(ctx.popts.config ? ctx.persistent : NULL,
                          ctx.popts.live ? ctx.live : NULL, ctx.dev, &ctx.popts, error);
    if (!plan)
        return NULL;
    if (plan->refused) {
        if (ctx.popts.live)
            sk_ops_refused_live(dom, &ctx, plan, error);
        else
            sk_plan_check(plan, error);
        return NULL;
    }
    if (plan->controllers->len > 0 && !sk_ops_define_controllers(dom, ctx.persistent, plan, error))
        return NULL;
    sk_fault_point("attach-controllers-defined", dom);
    dev_xml = sk_device_to_xml(ctx.dev, plan->has_address ? &plan->address : NULL);
    flags = (ctx.popts.live ? VIR_DOMAIN_AFFECT_LIVE : 0) |
            (ctx.popts.config ? VIR_DOMAIN_AFFECT_CONFIG : 0);

    /* What a crash (or a lost libvirtd) at any point leaves is consistent or harmless, so a
     * restart needs no journal: the controllers come first (spares, if the attach never
     * happens); live and persistent definitions change in one libvirt call with one explicit
     * address (libvirtd finishes it even if we die meanwhile); a require=no record is stored
     * before that call and a record to forget after it, so a crash leaves at worst a stale
     * require=no record for a device that is not there, which nothing reads (records only count
     * for devices in the definition, and the next attach of that device rewrites it). Spares
     * are topped up by the reconcile every start begins with. */
    key = sk_metadata_device_key(ctx.dev);
    record = ctx.popts.config && key &&
             ctx.popts.hotplug_require == sk_metadata_get_no_hotplug(ctx.md, key);
    if (record && !ctx.popts.hotplug_require) {
        g_autoptr(GError) local = NULL;

        sk_metadata_set_hotplug_require(ctx.md, key, FALSE);
        if (!sk_ops_store_metadata(dom, ctx.md, FALSE, TRUE, &local)) {
            g_warning("domain %s: %s", virDomainGetName(dom), local->message);
            record = FALSE;
        }
        sk_fault_point("attach-recorded", dom);
    }
    if (virDomainAttachDeviceFlags(dom, dev_xml, flags) < 0) {
        sk_virt_set_error(error, NULL);
        if (record && !ctx.popts.hotplug_require) {
            sk_metadata_set_hotplug_require(ctx.md, key, TRUE);
            sk_ops_store_metadata(dom, ctx.md, FALSE, TRUE, NULL);
        }
        return NULL;
    }
    sk_fault_point("attach-attached", dom);

    /* Forget an old require=no record now that the device requires hotplug. The device is
     * attached already, so a failure here is only worth a warning. */
    if (record && ctx.popts.hotplug_require) {
        g_autoptr(GError) local = NULL;

        sk_metadata_set_hotplug_require(ctx.md, key, TRUE);
        if (!sk_ops_store_metadata(dom, ctx.md, FALSE, TRUE, &local))
            g_warning("domain %s: %s", virDomainGetName(dom), local->message);
    }
    *address = plan->has_address ? sk_pci_addr_format(&plan->address) : g_strdup("");
    return g_steal_pointer(&dev_xml);
}

gboolean
sk_domain_ops_detach(virDomainPtr dom, const SkConfig *config, const char *xml,
                     const SkOpOptions *opts, GError **error)
{
    g_auto(SkAttachCtx) ctx = { 0 };
    g_autofree char *key = NULL;
    unsigned int flags;
    g_autoptr(GError) prep_error = NULL;

    /* libvirt finds the device to detach by itself: a device slotkeeper cannot classify (or a
     * machine it does not manage) only means there is no hotplug record to forget. */
    if (!sk_ops_prepare(dom, config, xml, opts, &ctx, &prep_error)) {
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
    if (virDomainDetachDeviceFlags(dom, xml, flags) < 0)
        return sk_virt_set_error(error, NULL);
    key = ctx.dev ? sk_metadata_device_key(ctx.dev) : NULL;
    if (ctx.popts.config && key && ctx.md && sk_metadata_get_no_hotplug(ctx.md, key)) {
        g_autoptr(GError) local = NULL;

        sk_metadata_set_hotplug_require(ctx.md, key, TRUE);
        if (!sk_ops_store_metadata(dom, ctx.md, FALSE, TRUE, &local))
            g_warning("domain %s: %s", virDomainGetName(dom), local->message);
    }
    return TRUE;
}

SkTopology *
sk_domain_ops_topology(virDomainPtr dom, gboolean inactive, GError **error)
{
    gboolean active = FALSE;
    gboolean persistent = FALSE;

    if (!sk_ops_domain_flags(dom, &active, &persistent, error))
        return NULL;
    if (inactive && !persistent) {
        g_set_error(error, SK_ERROR, SK_ERROR_FAILED,
                    "domain '%s' is transient: it has no persistent definition",
                    virDomainGetName(dom));
        return NULL;
    }
    return sk_ops_get_topology(dom, inactive || !active, error);
}

gboolean
sk_domain_ops_set_policy(virDomainPtr dom, const SkMetadata *changes, GError **error)
{
    g_autoptr(SkMetadata) md = NULL;
    g_autofree char *xml = NULL;
    g_autoptr(xmlDoc) doc = NULL;
    gboolean active = FALSE;
    gboolean persistent = FALSE;

    if (!sk_ops_domain_flags(dom, &active, &persistent, error))
        return FALSE;
    xml = sk_ops_get_xml(dom, persistent, error);
    if (!xml)
        return FALSE;
    doc = sk_xml_parse(xml, strlen(xml), "domain XML", error);
    if (!doc || !(md = sk_metadata_from_domain(doc, error)))
        return FALSE;
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
    return sk_ops_store_metadata(dom, md, active, persistent, error);
}
