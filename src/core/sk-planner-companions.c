/* slotkeeper: the planner's companions - the controllers libvirt would add by itself for the
 * device (sk-implicit.h), planned explicitly: collected from each definition the device goes
 * into and placed like devices, before the device itself. */
#include "sk-planner-private.h"

#include <string.h>

#include "sk-implicit.h"

/* "disk scsi sda" from "disk scsi sda (no PCI slot)". */
static char *
sk_planner_short_name(const char *description)
{
    const char *paren = strrchr(description, '(');

    if (paren != NULL && paren > description && paren[-1] == ' ')
        return g_strndup(description, (gsize)(paren - description - 1));
    return g_strdup(description);
}

static SkCompanion *
sk_planner_find_companion(const SkPlanner *p, const SkImplicitController *ic)
{
    for (guint i = 0; i < p->plan->companions->len; i++) {
        SkCompanion *comp = p->plan->companions->pdata[i];

        if (comp->index == ic->index && g_str_equal(comp->type, ic->type))
            return comp;
    }
    return NULL;
}

/* What libvirt would add for the device in each definition it goes into: the companions, the
 * drive address that names them, or a refusal where libvirt refuses (USB without USB). */
static gboolean
sk_planner_collect_companions(SkPlanner *p, const SkTopology *persistent, const SkTopology *live,
                              GError **error)
{
    const SkTopology *topos[2] = { persistent, live };
    g_autofree char *name = sk_planner_short_name(p->dev->description);

    for (guint t = 0; t < G_N_ELEMENTS(topos); t++) {
        g_autoptr(SkImplicitNeeds) needs = NULL;

        if (topos[t] == NULL)
            continue;
        needs = sk_implicit_needs(p->dev, topos[t], error);
        if (needs == NULL)
            return FALSE;
        if (needs->usb_missing != NULL && !p->plan->refused)
            sk_plan_refuse(p->plan, SK_ERROR_NOT_SUPPORTED,
                           "add a USB controller to the persistent definition first (virsh "
                           "attach-device --config with <controller type='usb' "
                           "model='qemu-xhci'/>); a running guest cannot gain one",
                           "%s", needs->usb_missing);
        if (needs->has_drive && !p->plan->has_drive_address) {
            p->plan->has_drive_address = TRUE;
            p->plan->drive_address = needs->drive;
        }
        for (guint i = 0; i < needs->controllers->len; i++) {
            const SkImplicitController *ic = needs->controllers->pdata[i];
            SkCompanion *comp = sk_planner_find_companion(p, ic);

            if (comp == NULL) {
                comp = g_new0(SkCompanion, 1);
                comp->type = g_strdup(ic->type);
                comp->index = ic->index;
                comp->model = g_strdup(ic->model);
                comp->live_pluggable = ic->live_pluggable;
                comp->purpose =
                    g_strdup_printf("%s controller %u for %s", ic->type, ic->index, name);
                g_ptr_array_add(p->plan->companions, comp);
            }
            /* By position: the CLI may pass one document as both definitions. */
            if (t == 1)
                comp->live = TRUE;
            else
                comp->config = TRUE;
        }
    }
    /* Only a device that brings its controller along needs an explicit drive address. */
    if (p->plan->companions->len == 0)
        p->plan->has_drive_address = FALSE;
    return TRUE;
}

static void
sk_planner_place_companion(SkPlanner *p, SkCompanion *comp, const SkMachineInfo *mi)
{
    g_autofree char *xml = NULL;
    g_autofree char *where = NULL;
    g_autofree char *name = sk_planner_short_name(p->dev->description);
    g_autofree char *described = NULL;
    const char *what = NULL;
    SkConnectFlags flags;

    where = g_strdup_printf("%s%s%s", comp->config ? "the persistent definition" : "",
                            comp->config && comp->live ? " and " : "",
                            comp->live ? "the running guest" : "");
    if (comp->live && !comp->live_pluggable) {
        sk_plan_refuse(p->plan, SK_ERROR_NOT_SUPPORTED,
                       "attach it with --config only: slotkeeper then adds the controller to the "
                       "persistent definition with it, and both work after the guest is shut "
                       "down and started again",
                       "%s needs %s controller %u, which the running guest lacks, and libvirt "
                       "cannot hot-plug a %s controller",
                       name, comp->type, comp->index, comp->type);
        return;
    }
    xml = comp->model != NULL
              ? g_strdup_printf("<controller type='%s' index='%u' model='%s'/>", comp->type,
                                comp->index, comp->model)
              : g_strdup_printf("<controller type='%s' index='%u'/>", comp->type, comp->index);
    comp->device = sk_device_new_from_xml(xml, strlen(xml), mi, NULL);
    g_assert(comp->device != NULL); /* built from libvirt's own names */
    sk_plan_reason(p->plan,
                   "it needs %s controller %u, which %s lacks: libvirt would add %s%s%s by itself "
                   "at an address of its choosing; the plan adds it explicitly, before the device",
                   comp->type, comp->index, where, comp->model ? "an " : "one",
                   comp->model ? comp->model : "", comp->model ? " controller" : "");
    p->require = p->opts->hotplug_require && comp->live_pluggable;
    flags = sk_planner_transport(p, comp->device, p->require || comp->live, &what);
    if (flags == 0)
        return;
    described = g_strdup_printf("%s, which %s needs,", what, name);
    sk_planner_focus(p, comp->live, comp->config);
    p->flags = flags;
    p->what = described;
    p->out = &comp->address;
    p->out_has = &comp->has_address;
    sk_planner_attach_pci(p);
}

gboolean
sk_planner_companions(SkPlanner *p, const SkTopology *persistent, const SkTopology *live,
                      GError **error)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(persistent != NULL ? persistent : live);

    if (!sk_planner_collect_companions(p, persistent, live, error))
        return FALSE;
    for (guint i = 0; i < p->plan->companions->len && !p->plan->refused; i++)
        sk_planner_place_companion(p, p->plan->companions->pdata[i], mi);
    sk_planner_focus(p, p->all_live != NULL, p->all_config != NULL);
    return TRUE;
}
