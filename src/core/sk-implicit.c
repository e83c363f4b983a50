/* slotkeeper: the controllers libvirt 9.0 adds implicitly for a device (see sk-implicit.h).
 * Verified on libvirt 9.0 + QEMU 7.2: a SCSI disk attached with --config to a q35 guest without
 * a SCSI controller brings an lsilogic controller behind a new pcie-root-port +
 * pcie-to-pci-bridge; a live attach hot-plugs it (or fails with "No more available PCI slots"
 * when no bridge slot is free); sdh brings controllers 0 and 1; sdg on SATA a second ich9-ahci
 * on a bridge; a virtio channel a virtio-serial controller on a root port (live: "no
 * virtio-serial controllers are available"); a USB device without a USB controller is refused
 * ("Domain has no USB bus support"), nothing is added. */
#include "sk-implicit.h"

#include <string.h>

#include "sk-error.h"
#include "sk-xml.h"

/* virDomainDiskDefAssignAddress: units per controller on libvirt's "narrow" SCSI bus (QEMU does
 * not ask for the wide one) and on a SATA (AHCI) controller. */
#define SK_SCSI_UNITS 7
#define SK_SATA_UNITS 6

static void
sk_implicit_controller_free(SkImplicitController *ctrl)
{
    g_free(ctrl->type);
    g_free(ctrl->model);
    g_free(ctrl);
}

void
sk_implicit_needs_free(SkImplicitNeeds *needs)
{
    if (needs == NULL)
        return;
    g_ptr_array_unref(needs->controllers);
    g_free(needs->usb_missing);
    g_free(needs);
}

int
sk_implicit_disk_index(const char *name)
{
    static const char *const prefixes[] = { "fd", "hd", "vd", "sd", "xvd", "ubd" };
    const char *p = NULL;
    int idx = 0;
    guint letters = 0;

    for (gsize i = 0; name != NULL && i < G_N_ELEMENTS(prefixes) && p == NULL; i++) {
        if (g_str_has_prefix(name, prefixes[i]))
            p = name + strlen(prefixes[i]);
    }
    if (p == NULL)
        return -1;
    /* Bijective base 26: a..z, then aa..zz, ... */
    for (; *p >= 'a' && *p <= 'z'; p++, letters++) {
        if (idx > G_MAXINT / 32)
            return -1;
        idx = (idx + (letters > 0 ? 1 : 0)) * 26 + (*p - 'a');
    }
    if (letters == 0 || *p != '\0')
        return -1;
    return idx;
}

static xmlNode *
sk_implicit_devices(const SkTopology *topo)
{
    return sk_xml_child(xmlDocGetRootElement(sk_topology_get_doc(topo)), "devices");
}

/* Reads <address type=@type> of @node into @drive (missing fields are 0); FALSE without one. */
static gboolean
sk_implicit_get_address(xmlNode *node, const char *type, const char *const *fields, guint *out,
                        guint n_fields)
{
    xmlNode *anode = sk_xml_child(node, "address");
    g_autofree char *atype = sk_xml_get_prop(anode, "type");

    if (atype == NULL || !g_str_equal(atype, type))
        return FALSE;
    for (guint i = 0; i < n_fields; i++) {
        g_autofree char *value = sk_xml_get_prop(anode, fields[i]);

        out[i] = 0;
        if (value != NULL)
            sk_xml_parse_uint(value, &out[i]);
    }
    return TRUE;
}

static gboolean
sk_implicit_get_drive(xmlNode *node, SkDriveAddr *drive)
{
    static const char *const fields[] = { "controller", "bus", "target", "unit" };
    guint v[4];

    if (!sk_implicit_get_address(node, "drive", fields, v, G_N_ELEMENTS(v)))
        return FALSE;
    *drive = (SkDriveAddr){ v[0], v[1], v[2], v[3] };
    return TRUE;
}

/* The <controller type=@type index=@index> element of the definition, or NULL. */
static xmlNode *
sk_implicit_find_controller(const SkTopology *topo, const char *type, guint index)
{
    xmlNode *devices = sk_implicit_devices(topo);

    for (xmlNode *cur = devices ? devices->children : NULL; cur != NULL; cur = cur->next) {
        g_autofree char *ctype = NULL;
        g_autofree char *cindex = NULL;
        guint value = 0;

        if (cur->type != XML_ELEMENT_NODE || !g_str_equal((const char *)cur->name, "controller"))
            continue;
        ctype = sk_xml_get_prop(cur, "type");
        cindex = sk_xml_get_prop(cur, "index");
        if (ctype == NULL || !g_str_equal(ctype, type))
            continue;
        /* virDomainAssignControllerIndexes gives an element without index the lowest free one;
         * a definition read from libvirt always has them. */
        if ((cindex == NULL && index == 0) ||
            (cindex != NULL && sk_xml_parse_uint(cindex, &value) && value == index))
            return cur;
    }
    return NULL;
}

static gboolean
sk_implicit_has_controller(const SkTopology *topo, const char *type, guint index)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);

    /* q35's SATA controller 0 is part of the chipset (qemuDomainDefAddDefaultDevices). */
    if (mi->kind == SK_MACHINE_Q35 && g_str_equal(type, "sata") && index == 0)
        return TRUE;
    return sk_implicit_find_controller(topo, type, index) != NULL;
}

/* The live attach path (qemuDomainFindOrCreateSCSIDiskController) gives a new SCSI controller
 * the model of the definition's last one; the define path (and both, when there is none) the
 * default model. slotkeeper attaches it explicitly with one model for both definitions and
 * takes the live rule, which keeps a virtio-scsi guest on virtio-scsi. */
static char *
sk_implicit_scsi_model(const SkTopology *topo)
{
    xmlNode *devices = sk_implicit_devices(topo);
    char *model = NULL;

    for (xmlNode *cur = devices ? devices->children : NULL; cur != NULL; cur = cur->next) {
        g_autofree char *ctype = NULL;

        if (cur->type != XML_ELEMENT_NODE || !g_str_equal((const char *)cur->name, "controller"))
            continue;
        ctype = sk_xml_get_prop(cur, "type");
        if (ctype != NULL && g_str_equal(ctype, "scsi")) {
            g_autofree char *m = sk_xml_get_prop(cur, "model");

            if (m != NULL && !g_str_equal(m, "auto")) {
                g_free(model);
                model = g_steal_pointer(&m);
            }
        }
    }
    if (model == NULL)
        model = g_strdup(sk_device_default_scsi_model(sk_topology_get_machine_info(topo)));
    return model;
}

/* Every controller of @type with index 0..@max that @topo lacks: libvirt fills the gaps too. */
static void
sk_implicit_add_range(SkImplicitNeeds *needs, const SkTopology *topo, const char *type, guint max)
{
    for (guint i = 0; i <= max; i++) {
        SkImplicitController *ctrl;

        if (sk_implicit_has_controller(topo, type, i))
            continue;
        ctrl = g_new0(SkImplicitController, 1);
        ctrl->type = g_strdup(type);
        ctrl->index = i;
        if (g_str_equal(type, "scsi"))
            ctrl->model = sk_implicit_scsi_model(topo);
        ctrl->live_pluggable = g_str_equal(type, "scsi");
        g_ptr_array_add(needs->controllers, ctrl);
    }
}

/* Whether another disk or SCSI host device of the definition uses @drive on a @bus bus. */
static gboolean
sk_implicit_drive_used(const SkTopology *topo, const char *bus, const SkDriveAddr *drive)
{
    xmlNode *devices = sk_implicit_devices(topo);

    for (xmlNode *cur = devices ? devices->children : NULL; cur != NULL; cur = cur->next) {
        SkDriveAddr other;
        const char *name = (const char *)cur->name;

        if (cur->type != XML_ELEMENT_NODE || !sk_implicit_get_drive(cur, &other))
            continue;
        if (g_str_equal(name, "disk")) {
            g_autofree char *dbus = sk_xml_get_prop(sk_xml_child(cur, "target"), "bus");

            if (dbus == NULL || !g_str_equal(dbus, bus))
                continue;
        } else if (!g_str_equal(name, "hostdev")) {
            continue;
        }
        if (memcmp(&other, drive, sizeof(other)) == 0)
            return TRUE;
    }
    return FALSE;
}

static gboolean
sk_implicit_disk(SkImplicitNeeds *needs, const SkDevice *dev, const SkTopology *topo,
                 GError **error)
{
    const char *bus = dev->bus;
    guint units = 0;
    int idx;

    if (bus != NULL && g_str_equal(bus, "scsi"))
        units = SK_SCSI_UNITS;
    else if (bus != NULL && g_str_equal(bus, "sata"))
        units = SK_SATA_UNITS;
    else
        return TRUE;
    if (!sk_implicit_get_drive(dev->node, &needs->drive)) {
        g_autofree char *name = sk_xml_get_prop(sk_xml_child(dev->node, "target"), "dev");

        idx = sk_implicit_disk_index(name);
        if (idx < 0) {
            g_autofree char *shown = sk_xml_excerpt(name, 40);

            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE,
                        "Unknown disk name '%s' and no address specified (libvirt maps a %s "
                        "disk to its controller by a name like sda)",
                        shown, bus);
            return FALSE;
        }
        needs->drive = (SkDriveAddr){ (guint)idx / units, 0, 0, (guint)idx % units };
    }
    needs->has_drive = TRUE;
    sk_implicit_add_range(needs, topo, bus, needs->drive.controller);
    return TRUE;
}

/* virDomainHostdevAssignAddress: the first unit that no disk or host device uses, controller
 * by controller, whether that controller exists or not. */
static void
sk_implicit_scsi_hostdev(SkImplicitNeeds *needs, const SkDevice *dev, const SkTopology *topo)
{
    g_autofree char *type = sk_xml_get_prop(dev->node, "type");

    if (type == NULL || !g_str_equal(type, "scsi"))
        return;
    if (!sk_implicit_get_drive(dev->node, &needs->drive)) {
        gboolean found = FALSE;

        for (guint c = 0; !found && c < 256; c++) {
            for (guint u = 0; !found && u < SK_SCSI_UNITS; u++) {
                needs->drive = (SkDriveAddr){ c, 0, 0, u };
                found = !sk_implicit_drive_used(topo, "scsi", &needs->drive);
            }
        }
    }
    needs->has_drive = TRUE;
    sk_implicit_add_range(needs, topo, "scsi", needs->drive.controller);
}

static void
sk_implicit_virtio_serial(SkImplicitNeeds *needs, const SkDevice *dev, const SkTopology *topo)
{
    static const char *const fields[] = { "controller" };
    g_autofree char *target = sk_xml_get_prop(sk_xml_child(dev->node, "target"), "type");
    guint index = 0;

    if (target == NULL || !g_str_equal(target, "virtio"))
        return;
    if (!sk_implicit_get_address(dev->node, "virtio-serial", fields, &index, 1))
        index = 0;
    if (!sk_implicit_has_controller(topo, "virtio-serial", index)) {
        SkImplicitController *ctrl = g_new0(SkImplicitController, 1);

        ctrl->type = g_strdup("virtio-serial");
        ctrl->index = index;
        g_ptr_array_add(needs->controllers, ctrl);
    }
}

/* libvirt 9.0 adds a default USB controller only at define time on x86 (and never on virt):
 * a definition without a usable one makes it refuse USB devices. */
static char *
sk_implicit_usb_missing(const SkDevice *dev, const SkTopology *topo)
{
    const SkMachineInfo *mi = sk_topology_get_machine_info(topo);
    xmlNode *devices = sk_implicit_devices(topo);
    gboolean any = FALSE;

    if (!dev->on_usb)
        return NULL;
    for (xmlNode *cur = devices ? devices->children : NULL; cur != NULL; cur = cur->next) {
        g_autofree char *type = NULL;
        g_autofree char *model = NULL;

        if (cur->type != XML_ELEMENT_NODE || !g_str_equal((const char *)cur->name, "controller"))
            continue;
        type = sk_xml_get_prop(cur, "type");
        if (type == NULL || !g_str_equal(type, "usb"))
            continue;
        model = sk_xml_get_prop(cur, "model");
        if (model == NULL || !g_str_equal(model, "none"))
            return NULL;
        any = TRUE;
    }
    if (!any && (mi->kind == SK_MACHINE_Q35 || mi->kind == SK_MACHINE_PC))
        return NULL; /* libvirt adds its default USB controller when it defines the domain */
    return g_strdup_printf("%s sits on a USB bus, and the %s definition has no USB controller%s: "
                           "libvirt refuses it (\"Domain has no USB bus support\") and adds no "
                           "USB controller by itself",
                           dev->description, sk_topology_is_live(topo) ? "running" : "persistent",
                           any ? " (model='none')" : "");
}

SkImplicitNeeds *
sk_implicit_needs(const SkDevice *dev, const SkTopology *topo, GError **error)
{
    g_autoptr(SkImplicitNeeds) needs = g_new0(SkImplicitNeeds, 1);

    g_return_val_if_fail(dev != NULL && topo != NULL, NULL);
    needs->controllers =
        g_ptr_array_new_with_free_func((GDestroyNotify)sk_implicit_controller_free);
    needs->usb_missing = sk_implicit_usb_missing(dev, topo);
    if (g_str_equal(dev->element, "disk")) {
        if (!sk_implicit_disk(needs, dev, topo, error))
            return NULL;
    } else if (g_str_equal(dev->element, "hostdev")) {
        sk_implicit_scsi_hostdev(needs, dev, topo);
    } else if (g_str_equal(dev->element, "channel") || g_str_equal(dev->element, "console")) {
        sk_implicit_virtio_serial(needs, dev, topo);
    }
    return g_steal_pointer(&needs);
}
