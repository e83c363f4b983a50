/* slotkeeper: device classification. Mirrors libvirt 9.0's qemuDomainDeviceCalculatePCIConnectFlags
 * (rules section 2), applied after the model defaults that libvirt's post-parse step fills in,
 * because that is what the flags are computed from when a device is really attached. */
#include "sk-device.h"

#include <string.h>

#include "sk-error.h"
#include "sk-xml.h"

typedef struct {
    const SkMachineInfo *mi;
    xmlNode *node;
    SkDevice *dev;
    SkConnectFlags pci;    /* pciFlags */
    SkConnectFlags pcie;   /* pcieFlags: PCIe only with a pcie-root */
    SkConnectFlags virtio; /* virtioFlags: QEMU >= 7.2 always has disable-legacy */
    char *label;           /* what follows the element name in the description */
    char *address_type;    /* <address type=...>, NULL without <address> */
    gboolean mmio_capable; /* libvirt would give it a virtio-mmio address on such machines */
    gboolean no_kind;      /* PCI controllers: their flags are not an endpoint kind */
} SkClassify;

typedef gboolean (*SkClassifyFunc)(SkClassify *c, GError **error);

typedef struct {
    const char *name;
    SkClassifyFunc classify; /* NULL: never uses PCI, see @reason */
    gboolean live_attachable;
    const char *reason;
} SkElementInfo;

/* libvirt 9.0 enum strings, so that an unknown value is refused as libvirt refuses it. */
static const char *const sk_virtio_models[] = { "virtio", "virtio-transitional",
                                                "virtio-non-transitional", NULL };
static const char *const sk_net_models[] = { "netfront",
                                             "rtl8139",
                                             "virtio",
                                             "e1000",
                                             "e1000e",
                                             "virtio-transitional",
                                             "virtio-non-transitional",
                                             "usb-net",
                                             "spapr-vlan",
                                             "lan9118",
                                             "scm91c111",
                                             "vlance",
                                             "vmxnet",
                                             "vmxnet2",
                                             "vmxnet3",
                                             "Am79C970A",
                                             "Am79C973",
                                             "82540EM",
                                             "82545EM",
                                             "82543GC",
                                             NULL };
static const char *const sk_disk_buses[] = { "ide", "fdc", "scsi", "virtio", "xen",
                                             "usb", "uml", "sata", "sd",     NULL };
static const char *const sk_controller_types[] = { "ide",           "fdc",  "scsi",   "sata",
                                                   "virtio-serial", "ccid", "xenbus", "usb",
                                                   "pci",           "isa",  NULL };
static const char *const sk_scsi_models[] = { "auto",
                                              "buslogic",
                                              "lsilogic",
                                              "lsisas1068",
                                              "vmpvscsi",
                                              "ibmvscsi",
                                              "virtio-scsi",
                                              "lsisas1078",
                                              "virtio-transitional",
                                              "virtio-non-transitional",
                                              "ncr53c90",
                                              "am53c974",
                                              "dc390",
                                              NULL };
static const char *const sk_usb_models[] = { "piix3-uhci", "piix4-uhci",     "ehci",
                                             "ich9-ehci1", "ich9-uhci1",     "ich9-uhci2",
                                             "ich9-uhci3", "vt82c686b-uhci", "pci-ohci",
                                             "nec-xhci",   "qusb1",          "qusb2",
                                             "qemu-xhci",  "none",           NULL };
static const char *const sk_fs_drivers[] = { "default", "path",  "handle",   "loop",
                                             "nbd",     "ploop", "virtiofs", NULL };
static const char *const sk_sound_models[] = { "sb16", "es1370", "pcspk", "ac97", "ich6",
                                               "ich9", "usb",    "ich7",  NULL };
static const char *const sk_video_models[] = { "default", "vga",   "cirrus",    "vmvga",  "xen",
                                               "vbox",    "qxl",   "parallels", "virtio", "gop",
                                               "none",    "bochs", "ramfb",     NULL };
static const char *const sk_balloon_models[] = {
    "virtio", "xen", "none", "virtio-transitional", "virtio-non-transitional", NULL
};
/* itco is newer than 9.0; accepting it costs nothing, it never uses PCI either. */
static const char *const sk_watchdog_models[] = { "i6300esb", "ib700", "diag288", "itco", NULL };
static const char *const sk_input_buses[] = { "ps2",    "usb",  "xen", "parallels",
                                              "virtio", "none", NULL };
static const char *const sk_iommu_models[] = { "intel", "smmuv3", "virtio", NULL };
static const char *const sk_memory_models[] = { "dimm",       "nvdimm",  "virtio-pmem",
                                                "virtio-mem", "sgx-epc", NULL };
static const char *const sk_hostdev_types[] = { "usb", "pci", "scsi", "scsi_host", "mdev", NULL };
static const char *const sk_mdev_models[] = { "vfio-pci", "vfio-ccw", "vfio-ap", NULL };

static gboolean
sk_str_in(const char *value, const char *const *list)
{
    return value != NULL && g_strv_contains(list, value);
}

static gboolean
sk_str_is(const char *value, const char *expected)
{
    return value != NULL && g_str_equal(value, expected);
}

static gboolean
sk_arch_is_arm(const char *arch)
{
    return sk_str_is(arch, "aarch64") || sk_str_is(arch, "armv7l") || sk_str_is(arch, "armv6l");
}

static gboolean
sk_arch_is_x86(const char *arch)
{
    return sk_str_is(arch, "x86_64") || sk_str_is(arch, "i686");
}

/* qemuDomainIsARMVirt / qemuDomainIsRISCVVirt: machine "virt" or "virt-*". */
static gboolean
sk_machine_is_virt(const SkMachineInfo *mi)
{
    if (mi->machine != NULL)
        return g_str_equal(mi->machine, "virt") || g_str_has_prefix(mi->machine, "virt-");
    return mi->kind == SK_MACHINE_VIRT;
}

static gboolean
sk_unknown_value(SkClassify *c, const char *what, const char *value, GError **error)
{
    g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE, "<%s> has an unknown %s '%s'",
                (const char *)c->node->name, what, value);
    return FALSE;
}

static void
sk_set_model(SkClassify *c, const char *model)
{
    g_free(c->dev->model);
    c->dev->model = g_strdup(model);
}

static void sk_no_pci(SkClassify *c, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* The device needs no PCI address; @fmt says why, for people. */
static void
sk_no_pci(SkClassify *c, const char *fmt, ...)
{
    va_list args;

    c->dev->flags = 0;
    g_free(c->dev->no_pci_reason);
    va_start(args, fmt);
    c->dev->no_pci_reason = g_strdup_vprintf(fmt, args);
    va_end(args);
}

/* The flags for the virtio / virtio-transitional / virtio-non-transitional triple (default =
 * virtio): transitional devices only work in conventional PCI slots. */
static SkConnectFlags
sk_virtio_family_flags(SkClassify *c, const char *model)
{
    return sk_str_is(model, "virtio-transitional") ? c->pci : c->virtio;
}

static gboolean
sk_check_virtio_model(SkClassify *c, const char *model, GError **error)
{
    if (model != NULL && !sk_str_in(model, sk_virtio_models))
        return sk_unknown_value(c, "model", model, error);
    return TRUE;
}

/* ---- host PCI devices ------------------------------------------------------------------- */

/* Reads <address domain= bus= slot= function=/> of a host device (no type attribute needed). */
static gboolean
sk_parse_host_address(SkClassify *c, xmlNode *anode, SkPciAddr *addr, GError **error)
{
    static const char *const fields[] = { "domain", "bus", "slot", "function" };
    static const guint limits[] = { 0xffff, 0xff, 0x1f, 7 };
    guint values[4] = { 0, 0, 0, 0 };

    if (anode == NULL) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE,
                    "<%s> has no host PCI address (<source><address .../></source>)",
                    (const char *)c->node->name);
        return FALSE;
    }
    for (guint i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *value = sk_xml_get_prop(anode, fields[i]);

        if (value == NULL)
            continue;
        if (!sk_xml_parse_uint(value, &values[i]) || values[i] > limits[i]) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE,
                        "<%s> has an invalid host PCI address %s='%s'", (const char *)c->node->name,
                        fields[i], value);
            return FALSE;
        }
    }
    addr->domain = values[0];
    addr->bus = values[1];
    addr->slot = values[2];
    addr->function = values[3];
    return TRUE;
}

/* The PCI-hostdev branch of qemuDomainDeviceCalculatePCIConnectFlags, shared by <hostdev
 * type='pci'> and <interface type='hostdev'>. */
static gboolean
sk_classify_host_pci(SkClassify *c, const char *prefix, GError **error)
{
    xmlNode *source = sk_xml_child(c->node, "source");
    SkPciAddr host = { 0 };
    g_autofree char *name = NULL;

    if (!sk_parse_host_address(c, sk_xml_child(source, "address"), &host, error))
        return FALSE;
    name = sk_pci_addr_format(&host);
    c->label = g_strconcat(prefix, name, NULL);
    if (c->pci == c->pcie || c->dev->has_pci_address)
        c->dev->flags = c->pcie; /* no pcie-root: PCI; explicit guest address: lax check anyway */
    else
        c->dev->flags = sk_host_pci_is_express(c->mi->host, &host) ? c->pcie : c->pci;
    return TRUE;
}

/* ---- per-element rules -------------------------------------------------------------------- */

/* qemuDomainDefaultNetModel (libvirt 9.0, with QEMU that has rtl8139). */
static const char *
sk_default_net_model(const SkMachineInfo *mi)
{
    if (mi->arch != NULL && g_str_has_prefix(mi->arch, "s390"))
        return "virtio";
    if (sk_arch_is_arm(mi->arch)) {
        if (sk_str_is(mi->machine, "versatilepb"))
            return "scm91c111"; /* libvirt's own spelling of smc91c111 */
        return sk_machine_is_virt(mi) ? "virtio" : "lan9118";
    }
    if (mi->arch != NULL && g_str_has_prefix(mi->arch, "riscv") && sk_machine_is_virt(mi))
        return "virtio";
    return "rtl8139";
}

static gboolean
sk_classify_interface(SkClassify *c, GError **error)
{
    g_autofree char *type = sk_xml_get_prop(c->node, "type");
    g_autofree char *model = sk_xml_get_prop(sk_xml_child(c->node, "model"), "type");
    g_autofree char *mac = sk_xml_get_prop(sk_xml_child(c->node, "mac"), "address");
    const char *resolved = NULL;

    if (sk_str_is(type, "hostdev")) {
        /* libvirt gives the interface itself no flags: its hostdev half takes the slot. */
        sk_set_model(c, model);
        return sk_classify_host_pci(c, "hostdev ", error);
    }
    if (model == NULL) {
        resolved = sk_default_net_model(c->mi);
    } else {
        for (guint i = 0; sk_net_models[i] != NULL && resolved == NULL; i++) {
            if (g_ascii_strcasecmp(model, sk_net_models[i]) == 0)
                resolved = sk_net_models[i];
        }
        if (resolved == NULL && strspn(model, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                              "0123456789_-") != strlen(model)) {
            g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE,
                        "<interface> model '%s' contains invalid characters", model);
            return FALSE;
        }
    }
    sk_set_model(c, resolved != NULL ? resolved : model);
    c->label = mac != NULL ? g_strdup_printf("%s %s", c->dev->model, mac) : NULL;
    if (sk_str_in(resolved, sk_virtio_models)) {
        c->mmio_capable = TRUE;
        c->dev->flags = sk_virtio_family_flags(c, resolved);
    } else if (sk_str_is(resolved, "usb-net")) {
        c->dev->on_usb = TRUE;
        sk_no_pci(c, "a usb-net interface sits on the USB bus");
    } else if (sk_str_is(resolved, "e1000e") || resolved == NULL) {
        /* A model libvirt 9.0 has no name for (ne2k_pci, pcnet, igb, ...) is "unknown", which
         * it treats as PCI Express (verified: a q35 ne2k_pci NIC lands on a root port). */
        c->dev->flags = c->pcie;
    } else {
        c->dev->flags = c->pci;
    }
    return TRUE;
}

static const char *
sk_disk_bus_reason(const char *bus)
{
    if (g_str_equal(bus, "sata"))
        return "the SATA controller";
    if (g_str_equal(bus, "scsi"))
        return "a SCSI controller";
    if (g_str_equal(bus, "ide"))
        return "the IDE controller";
    if (g_str_equal(bus, "fdc"))
        return "the floppy controller";
    if (g_str_equal(bus, "usb"))
        return "the USB bus";
    return NULL;
}

static gboolean
sk_classify_disk(SkClassify *c, GError **error)
{
    xmlNode *target = sk_xml_child(c->node, "target");
    g_autofree char *dev = sk_xml_get_prop(target, "dev");
    g_autofree char *bus = sk_xml_get_prop(target, "bus");
    g_autofree char *device = sk_xml_get_prop(c->node, "device");
    g_autofree char *model = sk_xml_get_prop(c->node, "model");
    const char *reason;

    if (bus == NULL) {
        /* virDomainDiskDefParseXML picks the bus from the target name. */
        if (sk_str_is(device, "floppy"))
            bus = g_strdup("fdc");
        else if (dev != NULL && g_str_has_prefix(dev, "vd"))
            bus = g_strdup("virtio");
        else if (dev != NULL && g_str_has_prefix(dev, "sd"))
            bus = g_strdup("scsi");
        else if (dev != NULL && g_str_has_prefix(dev, "xvd"))
            bus = g_strdup("xen");
        else if (dev != NULL && g_str_has_prefix(dev, "ubd"))
            bus = g_strdup("uml");
        else
            bus = g_strdup("ide");
    }
    if (!sk_str_in(bus, sk_disk_buses))
        return sk_unknown_value(c, "bus", bus, error);
    if (!sk_check_virtio_model(c, model, error))
        return FALSE;
    c->label = g_strdup_printf("%s%s%s", bus, dev != NULL ? " " : "", dev != NULL ? dev : "");
    c->dev->bus = g_strdup(bus);
    c->dev->on_usb = g_str_equal(bus, "usb");
    if (!g_str_equal(bus, "virtio")) {
        reason = sk_disk_bus_reason(bus);
        if (reason != NULL)
            sk_no_pci(c, "disk bus='%s' uses %s", bus, reason);
        else
            sk_no_pci(c, "disk bus='%s' does not use PCI", bus);
        return TRUE;
    }
    sk_set_model(c, model != NULL ? model : "virtio");
    c->mmio_capable = TRUE;
    c->dev->flags = sk_virtio_family_flags(c, model);
    return TRUE;
}

/* qemuDomainGetSCSIControllerModel with Debian's QEMU 7.2 (which has lsi and virtio-scsi;
 * verified: lsilogic on q35 and on aarch64 virt). */
const char *
sk_device_default_scsi_model(const SkMachineInfo *mi)
{
    if (sk_str_is(mi->arch, "ppc64") || sk_str_is(mi->arch, "ppc64le"))
        return "ibmvscsi";
    if (mi->arch != NULL && g_str_has_prefix(mi->arch, "s390"))
        return "virtio-scsi";
    return "lsilogic";
}

/* The USB model qemuDomainControllerDefPostParse picks for an explicit controller without one
 * (verified: piix3-uhci on q35 too; qemu-xhci there is only the implicitly added controller). */
static const char *
sk_default_usb_model(const SkMachineInfo *mi)
{
    if (mi->arch != NULL && g_str_has_prefix(mi->arch, "s390"))
        return "none";
    if (sk_str_is(mi->arch, "ppc64") || sk_str_is(mi->arch, "ppc64le"))
        return "pci-ohci";
    if (sk_arch_is_arm(mi->arch) || (mi->arch != NULL && g_str_has_prefix(mi->arch, "riscv")))
        return "qemu-xhci";
    return "piix3-uhci";
}

static gboolean
sk_classify_pci_controller(SkClassify *c, const char *model, GError **error)
{
    SkPciModel pm = sk_pci_model_from_string(model);

    if (model == NULL) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE,
                    "<controller type='pci'> needs a model (pcie-root-port, pci-bridge, ...)");
        return FALSE;
    }
    if (pm == SK_PCI_MODEL_NONE)
        return sk_unknown_value(c, "PCI controller model", model, error);
    c->dev->pci_model = pm;
    c->no_kind = TRUE;
    /* The controller's own upstream type; controllers never carry AUTOASSIGN. */
    c->dev->flags = sk_pci_model_connect_type(pm);
    if (c->dev->flags == 0)
        sk_no_pci(c, "%s is the root bus itself and has no PCI address", model);
    return TRUE;
}

static gboolean
sk_classify_controller(SkClassify *c, GError **error)
{
    g_autofree char *type = sk_xml_get_prop(c->node, "type");
    g_autofree char *model = sk_xml_get_prop(c->node, "model");
    g_autofree char *index = sk_xml_get_prop(c->node, "index");
    const char *resolved = model;

    if (type == NULL)
        type = g_strdup("ide"); /* libvirt's default controller type */
    if (!sk_str_in(type, sk_controller_types))
        return sk_unknown_value(c, "type", type, error);
    c->dev->live_attachable = g_str_equal(type, "scsi");
    if (g_str_equal(type, "pci")) {
        if (!sk_classify_pci_controller(c, model, error))
            return FALSE;
    } else if (g_str_equal(type, "scsi")) {
        if (model != NULL && !sk_str_in(model, sk_scsi_models))
            return sk_unknown_value(c, "SCSI controller model", model, error);
        resolved = model != NULL ? model : sk_device_default_scsi_model(c->mi);
        c->mmio_capable = TRUE;
        if (sk_str_is(resolved, "ncr53c90"))
            sk_no_pci(c, "the ncr53c90 SCSI controller is built into the machine");
        else if (sk_str_is(resolved, "virtio-scsi") ||
                 sk_str_is(resolved, "virtio-non-transitional"))
            c->dev->flags = c->virtio;
        else
            c->dev->flags = c->pci;
    } else if (g_str_equal(type, "virtio-serial")) {
        if (!sk_check_virtio_model(c, model, error))
            return FALSE;
        resolved = model != NULL ? model : "virtio";
        c->mmio_capable = TRUE;
        c->dev->flags = sk_virtio_family_flags(c, model);
    } else if (g_str_equal(type, "usb")) {
        if (model != NULL && !sk_str_in(model, sk_usb_models))
            return sk_unknown_value(c, "USB controller model", model, error);
        resolved = model != NULL ? model : sk_default_usb_model(c->mi);
        if (sk_str_is(resolved, "none") || sk_str_is(resolved, "qusb1") ||
            sk_str_is(resolved, "qusb2"))
            sk_no_pci(c, "USB controller model '%s' has no PCI device", resolved);
        else if (sk_str_is(resolved, "qemu-xhci") || sk_str_is(resolved, "nec-xhci"))
            c->dev->flags = c->pcie;
        else
            c->dev->flags = c->pci;
    } else if (g_str_equal(type, "sata") || g_str_equal(type, "ide")) {
        c->dev->flags = c->pci;
    } else {
        sk_no_pci(c, "a %s controller is not a PCI device", type);
    }
    sk_set_model(c, resolved);
    if (g_str_equal(type, "pci"))
        c->label = g_strdup_printf("%s%s%s", model, index ? " index " : "", index ? index : "");
    else
        c->label =
            g_strdup_printf("%s%s%s%s%s", type, resolved ? " " : "", resolved ? resolved : "",
                            index ? " index " : "", index ? index : "");
    return TRUE;
}

static gboolean
sk_classify_filesystem(SkClassify *c, GError **error)
{
    g_autofree char *driver = sk_xml_get_prop(sk_xml_child(c->node, "driver"), "type");
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (driver != NULL && !sk_str_in(driver, sk_fs_drivers))
        return sk_unknown_value(c, "driver type", driver, error);
    if (model != NULL && !g_str_equal(model, "default") && !sk_check_virtio_model(c, model, error))
        return FALSE;
    if (sk_str_is(driver, "virtiofs")) {
        sk_set_model(c, "virtiofs");
        c->dev->flags = c->virtio; /* vhost-user-fs-pci */
    } else if (sk_str_is(driver, "loop") || sk_str_is(driver, "nbd") ||
               sk_str_is(driver, "ploop")) {
        sk_set_model(c, driver);
        sk_no_pci(c, "filesystem driver '%s' is not a guest device", driver);
    } else {
        sk_set_model(c, model != NULL && !g_str_equal(model, "default") ? model : "virtio");
        c->dev->flags = sk_virtio_family_flags(c, model); /* virtio-9p-pci */
    }
    return TRUE;
}

static gboolean
sk_classify_video(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(sk_xml_child(c->node, "model"), "type");
    const char *resolved = model;

    if (model != NULL && !sk_str_in(model, sk_video_models))
        return sk_unknown_value(c, "video model", model, error);
    if (model == NULL || g_str_equal(model, "default")) {
        /* qemuDomainDeviceVideoDefPostParse (verified: cirrus on q35 and pc, virtio on virt) */
        if (sk_str_is(c->mi->arch, "ppc64") || sk_str_is(c->mi->arch, "ppc64le"))
            resolved = "vga";
        else if (sk_machine_is_virt(c->mi) ||
                 (c->mi->arch != NULL && g_str_has_prefix(c->mi->arch, "s390")))
            resolved = "virtio";
        else
            resolved = "cirrus";
    }
    sk_set_model(c, resolved);
    if (g_str_equal(resolved, "virtio")) {
        c->mmio_capable = TRUE;
        c->dev->flags = c->virtio;
    } else if (g_str_equal(resolved, "bochs")) {
        c->dev->flags = c->pcie;
    } else if (sk_str_in(resolved, (const char *const[]){ "none", "ramfb", "gop", NULL })) {
        sk_no_pci(c, "video model '%s' has no PCI device", resolved);
    } else {
        c->dev->flags = c->pci;
    }
    return TRUE;
}

static gboolean
sk_classify_sound(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (!sk_str_in(model, sk_sound_models))
        return sk_unknown_value(c, "sound model", model ? model : "(none)", error);
    sk_set_model(c, model);
    c->dev->on_usb = g_str_equal(model, "usb");
    if (sk_str_in(model, (const char *const[]){ "es1370", "ac97", "ich6", "ich9", NULL }))
        c->dev->flags = c->pci;
    else
        sk_no_pci(c, "sound model '%s' is not a PCI device", model);
    return TRUE;
}

static gboolean
sk_classify_memballoon(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (!sk_str_in(model, sk_balloon_models))
        return sk_unknown_value(c, "memballoon model", model ? model : "(none)", error);
    sk_set_model(c, model);
    c->mmio_capable = TRUE;
    if (g_str_equal(model, "none") || g_str_equal(model, "xen"))
        sk_no_pci(c, "memballoon model '%s' has no PCI device", model);
    else
        c->dev->flags = sk_virtio_family_flags(c, model);
    return TRUE;
}

static gboolean
sk_classify_rng(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (!sk_str_in(model, sk_virtio_models))
        return sk_unknown_value(c, "rng model", model ? model : "(none)", error);
    sk_set_model(c, model);
    c->mmio_capable = TRUE;
    c->dev->flags = sk_virtio_family_flags(c, model);
    return TRUE;
}

static gboolean
sk_classify_watchdog(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (!sk_str_in(model, sk_watchdog_models))
        return sk_unknown_value(c, "watchdog model", model ? model : "(none)", error);
    sk_set_model(c, model);
    if (g_str_equal(model, "i6300esb"))
        c->dev->flags = c->pci;
    else
        sk_no_pci(c, "watchdog model '%s' is not a PCI device", model);
    return TRUE;
}

static gboolean
sk_classify_input(SkClassify *c, GError **error)
{
    g_autofree char *type = sk_xml_get_prop(c->node, "type");
    g_autofree char *bus = sk_xml_get_prop(c->node, "bus");
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (bus == NULL) {
        /* virDomainInputDefParseXML's default bus for hvm guests */
        if ((sk_str_is(type, "mouse") || sk_str_is(type, "keyboard")) &&
            sk_arch_is_x86(c->mi->arch))
            bus = g_strdup("ps2");
        else if ((c->mi->arch && g_str_has_prefix(c->mi->arch, "s390")) ||
                 sk_str_is(type, "passthrough"))
            bus = g_strdup("virtio");
        else if (sk_str_is(type, "evdev"))
            bus = g_strdup("none");
        else
            bus = g_strdup("usb");
    }
    if (!sk_str_in(bus, sk_input_buses))
        return sk_unknown_value(c, "bus", bus, error);
    if (!sk_check_virtio_model(c, model, error))
        return FALSE;
    c->label = g_strdup_printf("%s%s%s", type ? type : "", type ? " " : "", bus);
    c->dev->on_usb = g_str_equal(bus, "usb");
    if (!g_str_equal(bus, "virtio")) {
        sk_no_pci(c, "input bus='%s' does not use PCI", bus);
        return TRUE;
    }
    sk_set_model(c, model != NULL ? model : "virtio");
    c->mmio_capable = TRUE;
    c->dev->flags = sk_virtio_family_flags(c, model);
    return TRUE;
}

static gboolean
sk_classify_shmem(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(sk_xml_child(c->node, "model"), "type");
    g_autofree char *name = sk_xml_get_prop(c->node, "name");

    sk_set_model(c, model != NULL ? model : "ivshmem-plain");
    c->label = name != NULL ? g_strdup_printf("%s %s", c->dev->model, name) : NULL;
    c->dev->flags = c->pci;
    return TRUE;
}

static gboolean
sk_classify_serial(SkClassify *c, GError **error)
{
    g_autofree char *target = sk_xml_get_prop(sk_xml_child(c->node, "target"), "type");

    sk_set_model(c, target);
    c->dev->on_usb = sk_str_is(target, "usb-serial");
    if (sk_str_is(target, "pci-serial"))
        c->dev->flags = c->pci;
    else
        sk_no_pci(c, "a serial port with target type '%s' is not a PCI device",
                  target ? target : "default");
    return TRUE;
}

static gboolean
sk_classify_iommu(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (!sk_str_in(model, sk_iommu_models))
        return sk_unknown_value(c, "iommu model", model ? model : "(none)", error);
    sk_set_model(c, model);
    if (g_str_equal(model, "virtio"))
        c->dev->flags = c->virtio | SK_CONNECT_INTEGRATED; /* must sit on bus 0 */
    else
        sk_no_pci(c, "the %s IOMMU is not a PCI device", model);
    return TRUE;
}

static gboolean
sk_classify_vsock(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (!sk_check_virtio_model(c, model, error))
        return FALSE;
    /* qemuDomainVsockDefPostParse turns the default model into virtio. */
    sk_set_model(c, model != NULL ? model : "virtio");
    c->dev->flags = sk_virtio_family_flags(c, model);
    return TRUE;
}

static gboolean
sk_classify_memory(SkClassify *c, GError **error)
{
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (!sk_str_in(model, sk_memory_models))
        return sk_unknown_value(c, "memory model", model ? model : "(none)", error);
    sk_set_model(c, model);
    if (g_str_has_prefix(model, "virtio-")) {
        c->mmio_capable = TRUE;
        c->dev->flags = c->virtio;
    } else {
        sk_no_pci(c, "memory model '%s' is not a PCI device", model);
    }
    return TRUE;
}

static gboolean
sk_classify_hostdev(SkClassify *c, GError **error)
{
    g_autofree char *mode = sk_xml_get_prop(c->node, "mode");
    g_autofree char *type = sk_xml_get_prop(c->node, "type");
    g_autofree char *model = sk_xml_get_prop(c->node, "model");

    if (mode != NULL && g_str_equal(mode, "capabilities")) {
        sk_no_pci(c, "a capabilities hostdev (container only) is not a PCI device");
        return TRUE;
    }
    if (mode != NULL && !g_str_equal(mode, "subsystem"))
        return sk_unknown_value(c, "mode", mode, error);
    if (!sk_str_in(type, sk_hostdev_types))
        return sk_unknown_value(c, "type", type ? type : "(none)", error);
    if (g_str_equal(type, "pci")) {
        return sk_classify_host_pci(c, "", error);
    }
    if (g_str_equal(type, "mdev")) {
        if (!sk_str_in(model, sk_mdev_models))
            return sk_unknown_value(c, "mdev model", model ? model : "(none)", error);
        sk_set_model(c, model);
        c->label = g_strdup_printf("mdev %s", model);
        if (!g_str_equal(model, "vfio-pci"))
            sk_no_pci(c, "a %s mediated device is not a PCI device", model);
        else
            c->dev->flags = c->pcie; /* no host device to ask; all mdev-capable devices are PCIe */
        return TRUE;
    }
    if (g_str_equal(type, "scsi_host")) {
        if (!sk_check_virtio_model(c, model, error))
            return FALSE;
        sk_set_model(c, model != NULL ? model : "virtio");
        c->label = g_strdup_printf("scsi_host %s", c->dev->model);
        c->mmio_capable = TRUE;
        /* vhost-scsi looks like virtio-scsi to the guest; the hostdev rules come first */
        if (c->pci == c->pcie || c->dev->has_pci_address)
            c->dev->flags = c->pcie;
        else
            c->dev->flags = sk_virtio_family_flags(c, model);
        return TRUE;
    }
    c->label = g_strdup(type);
    c->dev->on_usb = g_str_equal(type, "usb");
    sk_no_pci(c, "a %s hostdev is not a PCI device", type);
    return TRUE;
}

static const SkElementInfo sk_elements[] = {
    { "interface", sk_classify_interface, TRUE, NULL },
    { "disk", sk_classify_disk, TRUE, NULL },
    { "controller", sk_classify_controller, FALSE, NULL },
    { "filesystem", sk_classify_filesystem, TRUE, NULL },
    { "hostdev", sk_classify_hostdev, TRUE, NULL },
    { "video", sk_classify_video, FALSE, NULL },
    { "sound", sk_classify_sound, FALSE, NULL },
    { "memballoon", sk_classify_memballoon, FALSE, NULL },
    { "rng", sk_classify_rng, TRUE, NULL },
    { "watchdog", sk_classify_watchdog, TRUE, NULL },
    { "input", sk_classify_input, TRUE, NULL },
    { "shmem", sk_classify_shmem, TRUE, NULL },
    { "serial", sk_classify_serial, TRUE, NULL },
    { "iommu", sk_classify_iommu, FALSE, NULL },
    { "vsock", sk_classify_vsock, TRUE, NULL },
    { "memory", sk_classify_memory, TRUE, NULL },
    { "console", NULL, TRUE, "a console is a character device, not a PCI device" },
    { "channel", NULL, TRUE, "a channel is a character device, not a PCI device" },
    { "lease", NULL, TRUE, "a lease is not a guest device" },
    { "redirdev", NULL, TRUE, "a redirected device sits on the USB bus" },
    { "parallel", NULL, FALSE, "a parallel port is not a PCI device" },
    { "graphics", NULL, FALSE, "graphics are not a guest device" },
    { "emulator", NULL, FALSE, "<emulator> is not a guest device" },
    { "tpm", NULL, FALSE, "a TPM is not a PCI device" },
    { "redirfilter", NULL, FALSE, "<redirfilter> is not a guest device" },
    { "smartcard", NULL, FALSE, "a smartcard sits on the USB CCID controller" },
    { "hub", NULL, FALSE, "a hub sits on the USB bus" },
    { "panic", NULL, FALSE, "libvirt 9.0 gives panic devices no PCI address" },
    { "nvram", NULL, FALSE, "nvram is not a PCI device" },
    { "audio", NULL, FALSE, "<audio> is a host backend, not a guest device" },
    { "crypto", NULL, FALSE, "libvirt 9.0 gives crypto devices no PCI address" },
};

static const SkElementInfo *
sk_element_info(const char *name)
{
    for (gsize i = 0; i < G_N_ELEMENTS(sk_elements); i++) {
        if (g_str_equal(sk_elements[i].name, name))
            return &sk_elements[i];
    }
    return NULL;
}

static const char *
sk_kind_text(SkConnectFlags flags)
{
    if (flags & SK_CONNECT_INTEGRATED)
        return flags & SK_CONNECT_PCIE_DEVICE ? "PCI Express, integrated on bus 0"
                                              : "conventional PCI, integrated on bus 0";
    if (flags & SK_CONNECT_PCIE_DEVICE)
        return "PCI Express";
    if (flags & SK_CONNECT_PCI_DEVICE)
        return "conventional PCI";
    return "no PCI slot";
}

static void
sk_describe(SkClassify *c)
{
    SkDevice *dev = c->dev;
    const char *label = c->label != NULL ? c->label : dev->model;
    g_autoptr(GString) out = g_string_new(dev->element);

    if (label != NULL && *label != '\0')
        g_string_append_printf(out, " %s", label);
    if (!c->no_kind)
        g_string_append_printf(out, " (%s)", sk_kind_text(dev->flags));
    dev->description = g_string_free(g_steal_pointer(&out), FALSE);
}

static void
sk_classify_clear(SkClassify *c)
{
    g_free(c->label);
    g_free(c->address_type);
}

SkDevice *
sk_device_classify(xmlNode *node, const SkMachineInfo *mi, GError **error)
{
    g_autoptr(SkDevice) dev = NULL;
    const SkElementInfo *info;
    SkClassify c = { 0 };
    gboolean ok;

    g_return_val_if_fail(mi != NULL, NULL);
    if (node == NULL || node->type != XML_ELEMENT_NODE) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE, "no device element given");
        return NULL;
    }
    info = sk_element_info((const char *)node->name);
    if (info == NULL) {
        g_set_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE, "unknown device element <%s>",
                    (const char *)node->name);
        return NULL;
    }
    dev = g_new0(SkDevice, 1);
    dev->node = node;
    dev->element = g_strdup((const char *)node->name);
    dev->pci_model = SK_PCI_MODEL_NONE;
    dev->live_attachable = info->live_attachable;
    if (!sk_xml_get_pci_address(node, &dev->address, &dev->has_pci_address, &dev->has_other_address,
                                error))
        return NULL;
    if (!dev->has_pci_address)
        memset(&dev->address, 0, sizeof(dev->address));

    c.mi = mi;
    c.node = node;
    c.dev = dev;
    c.pci = SK_CONNECT_PCI_DEVICE | SK_CONNECT_AUTOASSIGN;
    c.pcie = mi->has_pcie_root ? SK_CONNECT_PCIE_DEVICE | SK_CONNECT_AUTOASSIGN : c.pci;
    c.virtio = c.pcie;
    c.address_type = sk_xml_get_prop(sk_xml_child(node, "address"), "type");
    /* redirdev only has bus='usb'; hubs and smartcards (on a ccid) are USB devices too */
    dev->on_usb = g_str_equal(dev->element, "redirdev") || g_str_equal(dev->element, "hub") ||
                  g_str_equal(dev->element, "smartcard");
    if (info->classify != NULL) {
        ok = info->classify(&c, error);
    } else {
        sk_no_pci(&c, "%s", info->reason);
        ok = TRUE;
    }
    if (!ok) {
        sk_classify_clear(&c);
        return NULL;
    }
    if (dev->flags != 0 && !c.no_kind && c.address_type != NULL &&
        !g_str_equal(c.address_type, "pci")) {
        /* libvirt only assigns PCI addresses to devices without an address of another kind */
        sk_no_pci(&c, "it has an <address type='%s'>, not a PCI address", c.address_type);
    } else if (dev->flags != 0 && c.mmio_capable && mi->virtio_mmio && c.address_type == NULL) {
        /* qemuDomainAssignVirtioMMIOAddresses; <address type='pci'/> keeps it on PCI. What it
         * would be on PCI stays known: the planner gives it a PCI address when it must stay
         * hot-unpluggable (virtio-mmio devices never are). */
        dev->mmio_pci_flags = dev->flags;
        sk_describe(&c);
        dev->pci_description = g_steal_pointer(&dev->description);
        sk_no_pci(&c, "on this machine a virtio device without a PCI address uses virtio-mmio");
    }
    sk_describe(&c);
    sk_classify_clear(&c);
    return g_steal_pointer(&dev);
}

static SkDevice *
sk_device_new_from_doc(xmlDoc *doc, const SkMachineInfo *mi, GError **error)
{
    g_autoptr(xmlDoc) owned = doc;
    SkDevice *dev = sk_device_classify(xmlDocGetRootElement(owned), mi, error);

    if (dev == NULL)
        return NULL;
    dev->doc = g_steal_pointer(&owned);
    return dev;
}

SkDevice *
sk_device_new_from_xml(const char *xml, gsize len, const SkMachineInfo *mi, GError **error)
{
    xmlDoc *doc;

    g_return_val_if_fail(xml != NULL, NULL);
    doc = sk_xml_parse_limited(xml, len, "device XML", &sk_xml_device_limits, error);
    return doc != NULL ? sk_device_new_from_doc(doc, mi, error) : NULL;
}

SkDevice *
sk_device_new_from_file(const char *path, const SkMachineInfo *mi, GError **error)
{
    xmlDoc *doc;

    g_return_val_if_fail(path != NULL, NULL);
    doc = sk_xml_parse_file_limited(path, "device XML", &sk_xml_device_limits, error);
    return doc != NULL ? sk_device_new_from_doc(doc, mi, error) : NULL;
}

void
sk_device_free(SkDevice *dev)
{
    if (dev == NULL)
        return;
    g_free(dev->element);
    g_free(dev->model);
    g_free(dev->bus);
    g_free(dev->description);
    g_free(dev->no_pci_reason);
    g_free(dev->pci_description);
    if (dev->doc != NULL)
        xmlFreeDoc(dev->doc);
    g_free(dev);
}

/* Replaces any <address> child of @node with <address type='drive' .../>. */
static void
sk_device_set_drive_address(xmlNode *node, const SkDriveAddr *drive)
{
    xmlNode *old = sk_xml_child(node, "address");
    xmlNode *anode = xmlNewNode(NULL, (const xmlChar *)"address");
    const struct {
        const char *name;
        guint value;
    } fields[] = { { "controller", drive->controller },
                   { "bus", drive->bus },
                   { "target", drive->target },
                   { "unit", drive->unit } };

    xmlNewProp(anode, (const xmlChar *)"type", (const xmlChar *)"drive");
    for (gsize i = 0; i < G_N_ELEMENTS(fields); i++) {
        g_autofree char *text = g_strdup_printf("%u", fields[i].value);

        xmlNewProp(anode, (const xmlChar *)fields[i].name, (const xmlChar *)text);
    }
    if (old != NULL) {
        xmlReplaceNode(old, anode);
        xmlFreeNode(old);
    } else {
        xmlAddChild(node, anode);
    }
}

xmlNode *
sk_device_copy_node(const SkDevice *dev, xmlDoc *doc, const SkPciAddr *addr,
                    const SkDriveAddr *drive)
{
    xmlNode *copy;

    g_return_val_if_fail(dev != NULL && dev->node != NULL, NULL);
    copy = xmlDocCopyNode(dev->node, doc, 1);
    sk_xml_strip_blanks(copy); /* the caller's layout would leave the new address unindented */
    if (addr != NULL)
        sk_xml_set_pci_address(copy, addr);
    else if (drive != NULL)
        sk_device_set_drive_address(copy, drive);
    return copy;
}

char *
sk_device_to_xml_full(const SkDevice *dev, const SkPciAddr *addr, const SkDriveAddr *drive)
{
    xmlNode *copy;
    char *text;

    g_return_val_if_fail(dev != NULL && dev->node != NULL, NULL);
    copy = sk_device_copy_node(dev, dev->node->doc, addr, drive);
    text = sk_xml_node_to_string(copy);
    xmlFreeNode(copy);
    return text;
}

char *
sk_device_to_xml(const SkDevice *dev, const SkPciAddr *addr)
{
    return sk_device_to_xml_full(dev, addr, NULL);
}
