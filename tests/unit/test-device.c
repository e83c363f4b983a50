/* Unit tests for sk-device: every row of rules section 2 (libvirt 9.0's
 * qemuDomainDeviceCalculatePCIConnectFlags plus the post-parse model defaults) on q35, pc and
 * aarch64 virt, virtio-mmio, addresses, host PCI Express detection and errors. */
#include <glib.h>
#include <string.h>

#include "sk-device.h"
#include "sk-error.h"

#define AUTO SK_CONNECT_AUTOASSIGN
#define PCI (SK_CONNECT_PCI_DEVICE | AUTO)
#define PCIE (SK_CONNECT_PCIE_DEVICE | AUTO)
#define INTEG SK_CONNECT_INTEGRATED

static const SkMachineInfo q35 = { "x86_64", "pc-q35-7.2", SK_MACHINE_Q35, TRUE, FALSE, NULL };
static const SkMachineInfo pc = { "x86_64", "pc-i440fx-7.2", SK_MACHINE_PC, FALSE, FALSE, NULL };
static const SkMachineInfo virt = { "aarch64", "virt-7.2", SK_MACHINE_VIRT, TRUE, FALSE, NULL };
static const SkMachineInfo virt_mmio = { "aarch64", "virt-7.2", SK_MACHINE_VIRT, TRUE, TRUE, NULL };

typedef struct {
    const char *xml;
    SkConnectFlags q35; /* expected flags on each machine */
    SkConnectFlags pc;
    SkConnectFlags virt;
    const char *model; /* expected resolved model, NULL: not checked */
} FlagsRow;

#define SRC_ADDR "<source><address domain='0x0000' bus='0x03' slot='0x00' function='0x0'/></source>"
#define GUEST_ADDR "<address type='pci' domain='0x0000' bus='0x05' slot='0x00' function='0x0'/>"

/* Rules section 2, row by row. On pc pcieFlags == pciFlags, so everything is PCI there. */
static const FlagsRow flags_table[] = {
    /* interface */
    { "<interface type='network'><model type='virtio'/></interface>", PCIE, PCI, PCIE, "virtio" },
    { "<interface type='user'><model type='virtio-non-transitional'/></interface>", PCIE, PCI, PCIE,
      "virtio-non-transitional" },
    { "<interface type='user'><model type='virtio-transitional'/></interface>", PCI, PCI, PCI,
      "virtio-transitional" },
    { "<interface type='user'><model type='e1000e'/></interface>", PCIE, PCI, PCIE, "e1000e" },
    { "<interface type='user'><model type='e1000'/></interface>", PCI, PCI, PCI, "e1000" },
    { "<interface type='user'><model type='E1000'/></interface>", PCI, PCI, PCI, "e1000" },
    { "<interface type='user'><model type='rtl8139'/></interface>", PCI, PCI, PCI, "rtl8139" },
    { "<interface type='user'><model type='vmxnet3'/></interface>", PCI, PCI, PCI, "vmxnet3" },
    /* Not in libvirt 9.0's model enum: "unknown" -> pcieFlags. Verified against libvirtd 9.0:
     * a q35 guest got ne2k_pci and pcnet NICs on a root port, e1000 behind a bridge. */
    { "<interface type='user'><model type='ne2k_pci'/></interface>", PCIE, PCI, PCIE, "ne2k_pci" },
    { "<interface type='user'><model type='pcnet'/></interface>", PCIE, PCI, PCIE, "pcnet" },
    { "<interface type='user'><model type='igb'/></interface>", PCIE, PCI, PCIE, "igb" },
    { "<interface type='user'><model type='usb-net'/></interface>", 0, 0, 0, "usb-net" },
    { "<interface type='hostdev'>" SRC_ADDR GUEST_ADDR "</interface>", PCIE, PCI, PCIE, NULL },
    /* disk */
    { "<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>", PCIE, PCI, PCIE,
      "virtio" },
    { "<disk type='file' device='disk'><target dev='vdb'/></disk>", PCIE, PCI, PCIE, "virtio" },
    { "<disk type='file' device='disk' model='virtio-non-transitional'><target dev='vda' "
      "bus='virtio'/></disk>",
      PCIE, PCI, PCIE, "virtio-non-transitional" },
    { "<disk type='file' device='disk' model='virtio-transitional'><target dev='vda' "
      "bus='virtio'/></disk>",
      PCI, PCI, PCI, "virtio-transitional" },
    { "<disk type='file' device='disk'><target dev='sda' bus='sata'/></disk>", 0, 0, 0, NULL },
    { "<disk type='file' device='disk'><target dev='sda' bus='scsi'/></disk>", 0, 0, 0, NULL },
    { "<disk type='file' device='disk'><target dev='sdb'/></disk>", 0, 0, 0, NULL },
    { "<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>", 0, 0, 0, NULL },
    { "<disk type='file' device='disk'><target dev='sdc' bus='usb'/></disk>", 0, 0, 0, NULL },
    { "<disk type='file' device='floppy'><target dev='fda'/></disk>", 0, 0, 0, NULL },
    /* controller scsi */
    { "<controller type='scsi' model='virtio-scsi'/>", PCIE, PCI, PCIE, "virtio-scsi" },
    { "<controller type='scsi' model='virtio-non-transitional'/>", PCIE, PCI, PCIE, NULL },
    { "<controller type='scsi' model='virtio-transitional'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='lsilogic'/>", PCI, PCI, PCI, "lsilogic" },
    { "<controller type='scsi' model='lsisas1068'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='lsisas1078'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='buslogic'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='vmpvscsi'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='ibmvscsi'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='dc390'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='am53c974'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='auto'/>", PCI, PCI, PCI, NULL },
    { "<controller type='scsi' model='ncr53c90'/>", 0, 0, 0, NULL },
    /* no model: libvirt 9.0 + QEMU 7.2 pick lsilogic on x86 and aarch64 virt (verified) */
    { "<controller type='scsi' index='0'/>", PCI, PCI, PCI, "lsilogic" },
    /* controller virtio-serial */
    { "<controller type='virtio-serial' index='0'/>", PCIE, PCI, PCIE, "virtio" },
    { "<controller type='virtio-serial' model='virtio'/>", PCIE, PCI, PCIE, NULL },
    { "<controller type='virtio-serial' model='virtio-non-transitional'/>", PCIE, PCI, PCIE, NULL },
    { "<controller type='virtio-serial' model='virtio-transitional'/>", PCI, PCI, PCI, NULL },
    /* controller usb */
    { "<controller type='usb' model='qemu-xhci'/>", PCIE, PCI, PCIE, "qemu-xhci" },
    { "<controller type='usb' model='nec-xhci'/>", PCIE, PCI, PCIE, NULL },
    { "<controller type='usb' model='ehci'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='ich9-ehci1'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='ich9-uhci1'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='ich9-uhci2'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='ich9-uhci3'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='piix3-uhci'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='piix4-uhci'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='vt82c686b-uhci'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='pci-ohci'/>", PCI, PCI, PCI, NULL },
    { "<controller type='usb' model='none'/>", 0, 0, 0, NULL },
    { "<controller type='usb' model='qusb1'/>", 0, 0, 0, NULL },
    { "<controller type='usb' model='qusb2'/>", 0, 0, 0, NULL },
    /* controller sata / ide */
    { "<controller type='sata' index='1'/>", PCI, PCI, PCI, NULL },
    { "<controller type='ide' index='1'/>", PCI, PCI, PCI, NULL },
    /* controllers that never use PCI */
    { "<controller type='fdc' index='0'/>", 0, 0, 0, NULL },
    { "<controller type='ccid' index='0'/>", 0, 0, 0, NULL },
    { "<controller type='xenbus' index='0'/>", 0, 0, 0, NULL },
    { "<controller type='isa' index='0'/>", 0, 0, 0, NULL },
    /* video */
    { "<video><model type='virtio'/></video>", PCIE, PCI, PCIE, "virtio" },
    { "<video><model type='vga'/></video>", PCI, PCI, PCI, "vga" },
    { "<video><model type='cirrus'/></video>", PCI, PCI, PCI, NULL },
    { "<video><model type='vmvga'/></video>", PCI, PCI, PCI, NULL },
    { "<video><model type='qxl'/></video>", PCI, PCI, PCI, NULL },
    { "<video><model type='xen'/></video>", PCI, PCI, PCI, NULL },
    { "<video><model type='vbox'/></video>", PCI, PCI, PCI, NULL },
    { "<video><model type='parallels'/></video>", PCI, PCI, PCI, NULL },
    { "<video><model type='bochs'/></video>", PCIE, PCI, PCIE, "bochs" },
    { "<video><model type='none'/></video>", 0, 0, 0, NULL },
    { "<video><model type='ramfb'/></video>", 0, 0, 0, NULL },
    { "<video><model type='gop'/></video>", 0, 0, 0, NULL },
    /* sound */
    { "<sound model='ich6'/>", PCI, PCI, PCI, "ich6" },
    { "<sound model='ich9'/>", PCI, PCI, PCI, NULL },
    { "<sound model='ac97'/>", PCI, PCI, PCI, NULL },
    { "<sound model='es1370'/>", PCI, PCI, PCI, NULL },
    { "<sound model='sb16'/>", 0, 0, 0, NULL },
    { "<sound model='pcspk'/>", 0, 0, 0, NULL },
    { "<sound model='usb'/>", 0, 0, 0, NULL },
    { "<sound model='ich7'/>", 0, 0, 0, NULL },
    /* memballoon */
    { "<memballoon model='virtio'/>", PCIE, PCI, PCIE, "virtio" },
    { "<memballoon model='virtio-non-transitional'/>", PCIE, PCI, PCIE, NULL },
    { "<memballoon model='virtio-transitional'/>", PCI, PCI, PCI, NULL },
    { "<memballoon model='none'/>", 0, 0, 0, NULL },
    { "<memballoon model='xen'/>", 0, 0, 0, NULL },
    /* rng */
    { "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>", PCIE, PCI, PCIE,
      "virtio" },
    { "<rng model='virtio-non-transitional'><backend model='random'/></rng>", PCIE, PCI, PCIE,
      NULL },
    { "<rng model='virtio-transitional'><backend model='random'/></rng>", PCI, PCI, PCI, NULL },
    /* watchdog */
    { "<watchdog model='i6300esb' action='reset'/>", PCI, PCI, PCI, "i6300esb" },
    { "<watchdog model='ib700'/>", 0, 0, 0, NULL },
    { "<watchdog model='diag288'/>", 0, 0, 0, NULL },
    /* filesystem */
    { "<filesystem type='mount'><source dir='/srv'/><target dir='srv'/></filesystem>", PCIE, PCI,
      PCIE, "virtio" },
    { "<filesystem type='mount'><driver type='path'/><target dir='a'/></filesystem>", PCIE, PCI,
      PCIE, NULL },
    { "<filesystem type='mount'><driver type='handle'/><target dir='a'/></filesystem>", PCIE, PCI,
      PCIE, NULL },
    { "<filesystem type='mount' model='virtio-non-transitional'><target dir='a'/></filesystem>",
      PCIE, PCI, PCIE, NULL },
    { "<filesystem type='mount' model='virtio-transitional'><target dir='a'/></filesystem>", PCI,
      PCI, PCI, NULL },
    { "<filesystem type='mount'><driver type='virtiofs'/><target dir='a'/></filesystem>", PCIE, PCI,
      PCIE, "virtiofs" },
    { "<filesystem type='file'><driver type='loop'/><target dir='a'/></filesystem>", 0, 0, 0,
      NULL },
    { "<filesystem type='file'><driver type='nbd'/><target dir='a'/></filesystem>", 0, 0, 0, NULL },
    { "<filesystem type='file'><driver type='ploop'/><target dir='a'/></filesystem>", 0, 0, 0,
      NULL },
    /* input */
    { "<input type='keyboard' bus='virtio'/>", PCIE, PCI, PCIE, "virtio" },
    { "<input type='tablet' bus='virtio' model='virtio-non-transitional'/>", PCIE, PCI, PCIE,
      NULL },
    { "<input type='mouse' bus='virtio' model='virtio-transitional'/>", PCI, PCI, PCI, NULL },
    { "<input type='passthrough'><source evdev='/dev/input/event1'/></input>", PCIE, PCI, PCIE,
      NULL },
    { "<input type='tablet' bus='usb'/>", 0, 0, 0, NULL },
    { "<input type='mouse' bus='ps2'/>", 0, 0, 0, NULL },
    { "<input type='keyboard'/>", 0, 0, 0, NULL },
    /* shmem, serial */
    { "<shmem name='sh0'><model type='ivshmem-plain'/></shmem>", PCI, PCI, PCI, "ivshmem-plain" },
    { "<serial type='pty'><target type='pci-serial'/></serial>", PCI, PCI, PCI, "pci-serial" },
    { "<serial type='pty'><target type='isa-serial'/></serial>", 0, 0, 0, NULL },
    { "<serial type='pty'/>", 0, 0, 0, NULL },
    /* iommu: virtio | INTEGRATED (bus 0 only) */
    { "<iommu model='virtio'/>", PCIE | INTEG, PCI | INTEG, PCIE | INTEG, "virtio" },
    { "<iommu model='intel'/>", 0, 0, 0, NULL },
    { "<iommu model='smmuv3'/>", 0, 0, 0, NULL },
    /* vsock; no model: post-parse makes it virtio */
    { "<vsock model='virtio'><cid auto='yes'/></vsock>", PCIE, PCI, PCIE, "virtio" },
    { "<vsock model='virtio-transitional'><cid auto='yes'/></vsock>", PCI, PCI, PCI, NULL },
    { "<vsock><cid auto='yes'/></vsock>", PCIE, PCI, PCIE, "virtio" },
    /* memory */
    { "<memory model='virtio-pmem' access='shared'><source><path>/tmp/x</path></source></memory>",
      PCIE, PCI, PCIE, "virtio-pmem" },
    { "<memory model='virtio-mem'><target><size unit='GiB'>1</size></target></memory>", PCIE, PCI,
      PCIE, "virtio-mem" },
    { "<memory model='dimm'><target><size unit='GiB'>1</size></target></memory>", 0, 0, 0, NULL },
    { "<memory model='nvdimm'><source><path>/tmp/nv</path></source></memory>", 0, 0, 0, NULL },
    /* hostdev (the sysfs-dependent PCI case is tested separately) */
    { "<hostdev mode='subsystem' type='pci' managed='yes'>" SRC_ADDR GUEST_ADDR "</hostdev>", PCIE,
      PCI, PCIE, NULL },
    { "<hostdev mode='subsystem' type='mdev' model='vfio-pci'><source><address "
      "uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>",
      PCIE, PCI, PCIE, "vfio-pci" },
    { "<hostdev mode='subsystem' type='mdev' model='vfio-ccw'><source><address "
      "uuid='c2177883-f1bb-47f0-914d-32a22e3a8804'/></source></hostdev>",
      0, 0, 0, NULL },
    { "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' "
      "wwpn='naa.5001405df3e54061'/></hostdev>",
      PCIE, PCI, PCIE, "virtio" },
    { "<hostdev mode='subsystem' type='scsi_host' model='virtio-transitional'><source "
      "protocol='vhost' wwpn='naa.5001405df3e54061'/></hostdev>",
      PCI, PCI, PCI, NULL },
    { "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product "
      "id='0xbeef'/></source></hostdev>",
      0, 0, 0, NULL },
    { "<hostdev mode='subsystem' type='scsi'><source><adapter name='scsi_host0'/><address bus='0' "
      "target='0' unit='0'/></source></hostdev>",
      0, 0, 0, NULL },
    { "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source>"
      "</hostdev>",
      0, 0, 0, NULL },
    /* known elements that never need PCI (crypto and pvpanic only gained flags after 9.0) */
    { "<graphics type='vnc' port='-1'/>", 0, 0, 0, NULL },
    { "<channel type='unix'><target type='virtio' name='org.qemu.guest_agent.0'/></channel>", 0, 0,
      0, NULL },
    { "<console type='pty'><target type='serial'/></console>", 0, 0, 0, NULL },
    { "<parallel type='pty'/>", 0, 0, 0, NULL },
    { "<emulator>/usr/bin/qemu-system-x86_64</emulator>", 0, 0, 0, NULL },
    { "<tpm model='tpm-crb'><backend type='emulator'/></tpm>", 0, 0, 0, NULL },
    { "<redirdev bus='usb' type='spicevmc'/>", 0, 0, 0, NULL },
    { "<redirfilter><usbdev allow='yes'/></redirfilter>", 0, 0, 0, NULL },
    { "<smartcard mode='host'/>", 0, 0, 0, NULL },
    { "<hub type='usb'/>", 0, 0, 0, NULL },
    { "<lease><lockspace>s</lockspace><key>k</key><target path='/p'/></lease>", 0, 0, 0, NULL },
    { "<panic model='isa'/>", 0, 0, 0, NULL },
    { "<nvram/>", 0, 0, 0, NULL },
    { "<audio id='1' type='none'/>", 0, 0, 0, NULL },
    { "<crypto model='virtio' type='qemu'><backend model='builtin'/></crypto>", 0, 0, 0, NULL },
};

static SkDevice *
classify_ok(const char *xml, const SkMachineInfo *mi)
{
    g_autoptr(GError) error = NULL;
    SkDevice *dev = sk_device_new_from_xml(xml, strlen(xml), mi, &error);

    if (dev == NULL)
        g_printerr("classifying %s failed: %s\n", xml, error->message);
    g_assert_no_error(error);
    g_assert_nonnull(dev);
    g_assert_nonnull(dev->description);
    return dev;
}

static void
check_row(const FlagsRow *row, const SkMachineInfo *mi, SkConnectFlags expected)
{
    g_autoptr(SkDevice) dev = classify_ok(row->xml, mi);

    if (dev->flags != expected)
        g_printerr("%s on %s: flags 0x%x, expected 0x%x (%s)\n", row->xml, mi->machine, dev->flags,
                   expected, dev->description);
    g_assert_cmphex(dev->flags, ==, expected);
    g_assert_false(dev->flags & SK_CONNECT_HOTPLUGGABLE);
    if (row->model != NULL)
        g_assert_cmpstr(dev->model, ==, row->model);
    if (expected == 0) {
        g_assert_nonnull(dev->no_pci_reason);
        g_assert_cmpstr(dev->no_pci_reason, !=, "");
    }
    g_assert_cmpint(dev->pci_model, ==, SK_PCI_MODEL_NONE);
    g_assert_nonnull(dev->doc);
}

static void
test_flags_table(void)
{
    for (gsize i = 0; i < G_N_ELEMENTS(flags_table); i++) {
        check_row(&flags_table[i], &q35, flags_table[i].q35);
        check_row(&flags_table[i], &pc, flags_table[i].pc);
        check_row(&flags_table[i], &virt, flags_table[i].virt);
    }
}

/* <controller type='pci'>: the model's own upstream type, never AUTOASSIGN, pci_model set. */
static void
test_pci_controllers(void)
{
    static const struct {
        const char *model;
        SkPciModel pm;
        SkConnectFlags flags;
    } rows[] = {
        { "pcie-root-port", SK_PCI_MODEL_PCIE_ROOT_PORT,
          SK_CONNECT_PCIE_ROOT_PORT | SK_CONNECT_AGGREGATE_SLOT },
        { "pcie-switch-upstream-port", SK_PCI_MODEL_PCIE_SWITCH_UPSTREAM_PORT,
          SK_CONNECT_PCIE_SWITCH_UPSTREAM_PORT },
        { "pcie-switch-downstream-port", SK_PCI_MODEL_PCIE_SWITCH_DOWNSTREAM_PORT,
          SK_CONNECT_PCIE_SWITCH_DOWNSTREAM_PORT },
        { "pci-bridge", SK_PCI_MODEL_PCI_BRIDGE, SK_CONNECT_PCI_BRIDGE },
        { "dmi-to-pci-bridge", SK_PCI_MODEL_DMI_TO_PCI_BRIDGE, SK_CONNECT_DMI_TO_PCI_BRIDGE },
        { "pcie-to-pci-bridge", SK_PCI_MODEL_PCIE_TO_PCI_BRIDGE, SK_CONNECT_PCIE_TO_PCI_BRIDGE },
        { "pci-expander-bus", SK_PCI_MODEL_PCI_EXPANDER_BUS, SK_CONNECT_PCI_EXPANDER_BUS },
        { "pcie-expander-bus", SK_PCI_MODEL_PCIE_EXPANDER_BUS, SK_CONNECT_PCIE_EXPANDER_BUS },
        { "pci-root", SK_PCI_MODEL_PCI_ROOT, 0 },
        { "pcie-root", SK_PCI_MODEL_PCIE_ROOT, 0 },
    };
    const SkMachineInfo *machines[] = { &q35, &pc, &virt };

    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        for (gsize m = 0; m < G_N_ELEMENTS(machines); m++) {
            g_autofree char *xml =
                g_strdup_printf("<controller type='pci' index='3' model='%s'/>", rows[i].model);
            g_autofree char *desc = g_strdup_printf("controller %s index 3", rows[i].model);
            g_autoptr(SkDevice) dev = classify_ok(xml, machines[m]);

            g_assert_cmphex(dev->flags, ==, rows[i].flags);
            g_assert_false(dev->flags & AUTO);
            g_assert_cmpint(dev->pci_model, ==, rows[i].pm);
            g_assert_cmpstr(dev->model, ==, rows[i].model);
            g_assert_cmpstr(dev->description, ==, desc);
            g_assert_false(dev->live_attachable);
        }
    }
}

/* The model qemuDomainDefaultNetModel gives an <interface> without <model>. */
static void
test_default_nic(void)
{
    static const struct {
        SkMachineInfo mi;
        const char *model;
        SkConnectFlags flags;
    } rows[] = {
        { { "x86_64", "pc-q35-7.2", SK_MACHINE_Q35, TRUE, FALSE }, "rtl8139", PCI },
        { { "x86_64", "q35", SK_MACHINE_Q35, TRUE, FALSE }, "rtl8139", PCI },
        { { "i686", "pc-i440fx-7.2", SK_MACHINE_PC, FALSE, FALSE }, "rtl8139", PCI },
        { { "aarch64", "virt", SK_MACHINE_VIRT, TRUE, FALSE }, "virtio", PCIE },
        { { "aarch64", "virt-7.2", SK_MACHINE_VIRT, TRUE, FALSE }, "virtio", PCIE },
        { { "riscv64", "virt", SK_MACHINE_VIRT, TRUE, FALSE }, "virtio", PCIE },
        { { "s390x", "s390-ccw-virtio", SK_MACHINE_NO_PCI, FALSE, FALSE }, "virtio", PCI },
        { { "aarch64", "vexpress-a15", SK_MACHINE_NO_PCI, FALSE, FALSE }, "lan9118", PCI },
    };
    const char *xml = "<interface type='network'><source network='default'/></interface>";

    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autoptr(SkDevice) dev = classify_ok(xml, &rows[i].mi);

        g_assert_cmpstr(dev->model, ==, rows[i].model);
        g_assert_cmphex(dev->flags, ==, rows[i].flags);
    }
}

/* USB and video defaults differ per machine (qemuDomainControllerDefPostParse and
 * qemuDomainDeviceVideoDefPostParse). */
static void
test_machine_defaults(void)
{
    g_autoptr(SkDevice) usb_q35 = classify_ok("<controller type='usb' index='0'/>", &q35);
    g_autoptr(SkDevice) usb_pc = classify_ok("<controller type='usb' index='0'/>", &pc);
    g_autoptr(SkDevice) usb_virt = classify_ok("<controller type='usb' index='0'/>", &virt);
    g_autoptr(SkDevice) video_q35 = classify_ok("<video/>", &q35);
    g_autoptr(SkDevice) video_pc = classify_ok("<video><model type='default'/></video>", &pc);
    g_autoptr(SkDevice) video_virt = classify_ok("<video/>", &virt);

    /* an explicit model-less USB controller is piix3-uhci even on q35 (libvirt 9.0, verified) */
    g_assert_cmpstr(usb_q35->model, ==, "piix3-uhci");
    g_assert_cmphex(usb_q35->flags, ==, PCI);
    g_assert_cmpstr(usb_pc->model, ==, "piix3-uhci");
    g_assert_cmphex(usb_pc->flags, ==, PCI);
    g_assert_cmpstr(usb_virt->model, ==, "qemu-xhci");
    g_assert_cmphex(usb_virt->flags, ==, PCIE);
    g_assert_cmpstr(video_q35->model, ==, "cirrus");
    g_assert_cmphex(video_q35->flags, ==, PCI);
    g_assert_cmpstr(video_pc->model, ==, "cirrus");
    g_assert_cmphex(video_pc->flags, ==, PCI);
    g_assert_cmpstr(video_virt->model, ==, "virtio");
    g_assert_cmphex(video_virt->flags, ==, PCIE);
}

/* qemuDomainAssignVirtioMMIOAddresses: on a virt guest already using virtio-mmio, virtio devices
 * without an address use virtio-mmio; <address type='pci'/> keeps them on PCI. */
static void
test_virtio_mmio(void)
{
    static const struct {
        const char *xml;
        SkConnectFlags flags;
    } rows[] = {
        { "<interface type='user'/>", 0 },
        { "<interface type='user'><model type='virtio-transitional'/></interface>", 0 },
        { "<interface type='user'><model type='virtio'/><address type='pci'/></interface>", PCIE },
        { "<interface type='user'><model type='virtio'/>" GUEST_ADDR "</interface>", PCIE },
        { "<interface type='user'><model type='e1000e'/></interface>", PCIE },
        { "<interface type='user'><model type='rtl8139'/></interface>", PCI },
        { "<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>", 0 },
        { "<controller type='scsi' model='virtio-scsi'/>", 0 },
        { "<controller type='virtio-serial'/>", 0 },
        { "<video><model type='virtio'/></video>", 0 },
        { "<input type='keyboard' bus='virtio'/>", 0 },
        { "<memballoon model='virtio'/>", 0 },
        { "<rng model='virtio'><backend model='random'/></rng>", 0 },
        { "<memory model='virtio-mem'><target><size unit='GiB'>1</size></target></memory>", 0 },
        { "<hostdev mode='subsystem' type='scsi_host'><source protocol='vhost' "
          "wwpn='naa.5001405df3e54061'/></hostdev>",
          0 },
        /* not in libvirt's virtio-mmio list: still PCI */
        { "<filesystem type='mount'><target dir='a'/></filesystem>", PCIE },
        { "<vsock model='virtio'/>", PCIE },
        { "<iommu model='virtio'/>", PCIE | INTEG },
        { "<controller type='usb' model='qemu-xhci'/>", PCIE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autoptr(SkDevice) dev = classify_ok(rows[i].xml, &virt_mmio);
        g_autoptr(SkDevice) on_pci = classify_ok(rows[i].xml, &virt);

        g_assert_cmphex(dev->flags, ==, rows[i].flags);
        if (rows[i].flags == 0) {
            g_assert_nonnull(strstr(dev->no_pci_reason, "virtio-mmio"));
            g_assert_cmphex(on_pci->flags, !=, 0);
            /* What it would be with a PCI address, for a plan that must keep it pluggable. */
            g_assert_cmphex(dev->mmio_pci_flags, ==, on_pci->flags);
            g_assert_cmpstr(dev->pci_description, ==, on_pci->description);
            g_assert_nonnull(strstr(dev->description, "(no PCI slot)"));
        } else {
            g_assert_cmphex(dev->mmio_pci_flags, ==, 0);
            g_assert_null(dev->pci_description);
        }
        g_assert_cmphex(on_pci->mmio_pci_flags, ==, 0);
    }
}

/* Which devices sit on a USB bus (libvirt needs a USB controller for them), and the resolved
 * bus of a disk. */
static void
test_usb_and_bus(void)
{
    static const struct {
        const char *xml;
        gboolean usb;
        const char *bus;
    } rows[] = {
        { "<input type='tablet' bus='usb'/>", TRUE, NULL },
        { "<input type='tablet'/>", TRUE, NULL },
        { "<input type='mouse'/>", FALSE, NULL }, /* ps2 on x86 */
        { "<disk device='disk'><target dev='sdb' bus='usb'/></disk>", TRUE, "usb" },
        { "<disk device='disk'><target dev='sdb'/></disk>", FALSE, "scsi" },
        { "<disk device='disk'><target dev='vdb'/></disk>", FALSE, "virtio" },
        { "<disk device='floppy'><target dev='fda'/></disk>", FALSE, "fdc" },
        { "<redirdev bus='usb' type='spicevmc'/>", TRUE, NULL },
        { "<hostdev mode='subsystem' type='usb'><source/></hostdev>", TRUE, NULL },
        { "<interface type='user'><model type='usb-net'/></interface>", TRUE, NULL },
        { "<interface type='user'><model type='virtio'/></interface>", FALSE, NULL },
        { "<serial type='pty'><target type='usb-serial'/></serial>", TRUE, NULL },
        { "<serial type='pty'><target type='isa-serial'/></serial>", FALSE, NULL },
        { "<sound model='usb'/>", TRUE, NULL },
        { "<sound model='ich9'/>", FALSE, NULL },
        { "<hub type='usb'/>", TRUE, NULL },
        { "<smartcard mode='passthrough' type='spicevmc'/>", TRUE, NULL },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autoptr(SkDevice) dev = classify_ok(rows[i].xml, &q35);

        g_test_message("%s", rows[i].xml);
        g_assert_cmpint(dev->on_usb, ==, rows[i].usb);
        g_assert_cmpstr(dev->bus, ==, rows[i].bus);
    }
}

static void
test_to_xml_drive(void)
{
    g_autoptr(SkDevice) dev = classify_ok(
        "<disk type='file' device='disk'><target dev='sdh' bus='scsi'/><address type='drive' "
        "controller='5' bus='0' target='0' unit='1'/></disk>",
        &q35);
    SkDriveAddr drive = { 1, 0, 0, 0 };
    SkPciAddr pci = { 0, 3, 0, 0 };
    g_autofree char *moved = sk_device_to_xml_full(dev, NULL, &drive);
    g_autofree char *pci_wins = sk_device_to_xml_full(dev, &pci, &drive);
    g_autofree char *same = sk_device_to_xml_full(dev, NULL, NULL);

    g_assert_nonnull(strstr(moved, "<address type=\"drive\" controller=\"1\" bus=\"0\" "
                                   "target=\"0\" unit=\"0\"/>"));
    g_assert_null(strstr(moved, "controller=\"5\""));
    g_assert_nonnull(strstr(pci_wins, "type=\"pci\""));
    g_assert_nonnull(strstr(same, "controller=\"5\""));
}

static void
test_addresses(void)
{
    g_autoptr(GError) error = NULL;
    g_autoptr(SkDevice) given = classify_ok(
        "<interface type='user'><model type='virtio'/><address type='pci' domain='0x0000' "
        "bus='0x02' slot='0x1f' function='0x3'/></interface>",
        &q35);
    g_autoptr(SkDevice) empty = classify_ok(
        "<interface type='user'><model type='virtio'/><address type='pci' domain='0x0000' "
        "bus='0x00' slot='0x00' function='0x0'/></interface>",
        &q35);
    g_autoptr(SkDevice) drive = classify_ok("<disk type='file' device='disk'><target dev='sda' "
                                            "bus='sata'/><address type='drive' controller='0' "
                                            "bus='0' target='0' unit='0'/></disk>",
                                            &q35);
    g_autoptr(SkDevice) ccw = classify_ok("<disk type='file' device='disk'><target dev='vda' "
                                          "bus='virtio'/><address type='ccw' cssid='0xfe' "
                                          "ssid='0x0' devno='0x0001'/></disk>",
                                          &q35);
    const char *bad = "<interface type='user'><address type='pci' bus='0x01' "
                      "slot='0x40'/></interface>";
    SkDevice *dev;

    g_assert_true(given->has_pci_address);
    g_assert_false(given->has_other_address);
    g_assert_cmpuint(given->address.bus, ==, 2);
    g_assert_cmpuint(given->address.slot, ==, 0x1f);
    g_assert_cmpuint(given->address.function, ==, 3);
    g_assert_cmphex(given->flags, ==, PCIE);

    /* 0000:00:00.x counts as no address, as in libvirt */
    g_assert_false(empty->has_pci_address);
    g_assert_cmphex(empty->flags, ==, PCIE);

    g_assert_true(drive->has_other_address);
    g_assert_false(drive->has_pci_address);
    g_assert_cmphex(drive->flags, ==, 0);

    /* a device with a non-PCI address gets no PCI slot from libvirt */
    g_assert_true(ccw->has_other_address);
    g_assert_cmphex(ccw->flags, ==, 0);
    g_assert_nonnull(strstr(ccw->no_pci_reason, "ccw"));

    dev = sk_device_new_from_xml(bad, strlen(bad), &q35, &error);
    g_assert_null(dev);
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ADDRESS);
}

/* Rules section 5.3. */
static void
test_live_attachable(void)
{
    static const struct {
        const char *xml;
        gboolean live;
    } rows[] = {
        { "<interface type='user'/>", TRUE },
        { "<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>", TRUE },
        { "<controller type='scsi' model='virtio-scsi'/>", TRUE },
        { "<controller type='usb' model='qemu-xhci'/>", FALSE },
        { "<controller type='virtio-serial'/>", FALSE },
        { "<controller type='pci' model='pcie-root-port'/>", FALSE },
        { "<lease><lockspace>s</lockspace><key>k</key><target path='/p'/></lease>", TRUE },
        { "<hostdev mode='subsystem' type='usb'><source/></hostdev>", TRUE },
        { "<redirdev bus='usb' type='spicevmc'/>", TRUE },
        { "<serial type='pty'><target type='pci-serial'/></serial>", TRUE },
        { "<console type='pty'/>", TRUE },
        { "<channel type='spicevmc'/>", TRUE },
        { "<rng model='virtio'><backend model='random'/></rng>", TRUE },
        { "<memory model='dimm'/>", TRUE },
        { "<shmem name='x'/>", TRUE },
        { "<watchdog model='i6300esb'/>", TRUE },
        { "<input type='tablet' bus='usb'/>", TRUE },
        { "<vsock model='virtio'/>", TRUE },
        { "<filesystem type='mount'><target dir='a'/></filesystem>", TRUE },
        { "<sound model='ich9'/>", FALSE },
        { "<video><model type='virtio'/></video>", FALSE },
        { "<graphics type='vnc'/>", FALSE },
        { "<hub type='usb'/>", FALSE },
        { "<smartcard mode='host'/>", FALSE },
        { "<memballoon model='virtio'/>", FALSE },
        { "<nvram/>", FALSE },
        { "<tpm model='tpm-crb'/>", FALSE },
        { "<panic model='isa'/>", FALSE },
        { "<iommu model='virtio'/>", FALSE },
        { "<audio id='1' type='none'/>", FALSE },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_autoptr(SkDevice) dev = classify_ok(rows[i].xml, &q35);

        if (dev->live_attachable != rows[i].live)
            g_printerr("%s: live_attachable %d\n", rows[i].xml, dev->live_attachable);
        g_assert_cmpint(dev->live_attachable, ==, rows[i].live);
    }
}

static void
test_descriptions(void)
{
    g_autoptr(SkDevice) nic = classify_ok("<interface type='user'/>", &q35);
    g_autoptr(SkDevice) mac =
        classify_ok("<interface type='user'><mac address='52:54:00:12:34:56'/><model "
                    "type='virtio'/></interface>",
                    &q35);
    g_autoptr(SkDevice) disk = classify_ok(
        "<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>", &q35);
    g_autoptr(SkDevice) sata =
        classify_ok("<disk type='file' device='disk'><target dev='sda' bus='sata'/></disk>", &q35);
    g_autoptr(SkDevice) usb =
        classify_ok("<controller type='usb' index='0' model='qemu-xhci'/>", &q35);
    g_autoptr(SkDevice) iommu = classify_ok("<iommu model='virtio'/>", &q35);

    g_assert_cmpstr(nic->description, ==, "interface rtl8139 (conventional PCI)");
    g_assert_cmpstr(mac->description, ==, "interface virtio 52:54:00:12:34:56 (PCI Express)");
    g_assert_cmpstr(disk->description, ==, "disk virtio vda (PCI Express)");
    g_assert_cmpstr(sata->description, ==, "disk sata sda (no PCI slot)");
    g_assert_cmpstr(sata->no_pci_reason, ==, "disk bus='sata' uses the SATA controller");
    g_assert_cmpstr(usb->description, ==, "controller usb qemu-xhci index 0 (PCI Express)");
    g_assert_cmpstr(iommu->description, ==, "iommu virtio (PCI Express, integrated on bus 0)");
}

/* ---- host PCI devices: what the host says, through the injected interface -------------- */

/* A table host: the listed host addresses are conventional PCI, everything else Express. */
typedef struct {
    SkHostPci parent;
    const char *const *conventional; /* "0000:04:01.0", ... */
} TableHost;

static gboolean
table_host_is_express(const SkHostPci *host, const SkPciAddr *addr)
{
    const TableHost *table = (const TableHost *)host;
    g_autofree char *name = sk_pci_addr_format(addr);

    return !g_strv_contains(table->conventional, name);
}

static char *
hostdev_xml(const char *addr_attrs, gboolean guest_address)
{
    return g_strdup_printf("<hostdev mode='subsystem' type='pci' managed='yes'><source><address "
                           "%s/></source>%s</hostdev>",
                           addr_attrs, guest_address ? GUEST_ADDR : "");
}

static SkConnectFlags
hostdev_flags(const char *addr_attrs, const SkMachineInfo *mi, gboolean guest_address)
{
    g_autofree char *xml = hostdev_xml(addr_attrs, guest_address);
    g_autoptr(SkDevice) dev = classify_ok(xml, mi);

    return dev->flags;
}

static void
test_hostdev_host(void)
{
    static const char *const conventional[] = { "0000:04:01.0", "0000:05:02.0", NULL };
    const TableHost host = { { table_host_is_express }, conventional };
    SkMachineInfo q35_host = q35;
    SkMachineInfo virt_host = virt;
    SkMachineInfo pc_host = pc;
    g_autofree char *iface = NULL;
    g_autoptr(SkDevice) nic = NULL;

    q35_host.host = &host.parent;
    virt_host.host = &host.parent;
    pc_host.host = &host.parent;
    g_assert_cmphex(
        hostdev_flags("domain='0x0000' bus='0x03' slot='0x00' function='0x0'", &q35_host, FALSE),
        ==, PCIE);
    g_assert_cmphex(
        hostdev_flags("domain='0x0000' bus='0x04' slot='0x01' function='0x0'", &q35_host, FALSE),
        ==, PCI);
    g_assert_cmphex(hostdev_flags("bus='5' slot='2' function='0'", &q35_host, FALSE), ==, PCI);
    g_assert_cmphex(
        hostdev_flags("domain='0x0000' bus='0x04' slot='0x01' function='0x0'", &virt_host, FALSE),
        ==, PCI);
    /* No host to ask: Express, as libvirt assumes when sysfs cannot tell. */
    g_assert_cmphex(
        hostdev_flags("domain='0x0000' bus='0x04' slot='0x01' function='0x0'", &q35, FALSE), ==,
        PCIE);
    /* without pcie-root every hostdev is PCI; with a guest address the check is skipped */
    g_assert_cmphex(
        hostdev_flags("domain='0x0000' bus='0x03' slot='0x00' function='0x0'", &pc_host, FALSE), ==,
        PCI);
    g_assert_cmphex(
        hostdev_flags("domain='0x0000' bus='0x04' slot='0x01' function='0x0'", &q35_host, TRUE), ==,
        PCIE);

    /* <interface type='hostdev'> follows the same rules with its <source><address> */
    iface =
        g_strdup("<interface type='hostdev' managed='yes'><source><address type='pci' "
                 "domain='0x0000' bus='0x04' slot='0x01' function='0x0'/></source></interface>");
    nic = classify_ok(iface, &q35_host);
    g_assert_cmphex(nic->flags, ==, PCI);
    g_assert_cmpstr(nic->description, ==, "interface hostdev 0000:04:01.0 (conventional PCI)");
}

static void
expect_error(const char *xml, GQuark domain, int code, const char *fragment)
{
    g_autoptr(GError) error = NULL;
    SkDevice *dev = sk_device_new_from_xml(xml, strlen(xml), &q35, &error);

    g_assert_null(dev);
    g_assert_error(error, domain, code);
    g_assert_null(strchr(error->message, '\n'));
    if (fragment != NULL && strstr(error->message, fragment) == NULL)
        g_error("error '%s' does not mention '%s'", error->message, fragment);
}

static void
test_errors(void)
{
    expect_error("<frobnicator/>", SK_ERROR, SK_ERROR_INVALID_DEVICE, "frobnicator");
    expect_error("<devices><interface type='user'/></devices>", SK_ERROR, SK_ERROR_INVALID_DEVICE,
                 "devices");
    expect_error("<interface type='user'/><disk/>", SK_ERROR, SK_ERROR_INVALID_XML, NULL);
    expect_error("<interface type='user'>", SK_ERROR, SK_ERROR_INVALID_XML, NULL);
    expect_error("not xml at all", SK_ERROR, SK_ERROR_INVALID_XML, NULL);
    expect_error("<!DOCTYPE x [<!ENTITY a 'b'>]><interface/>", SK_ERROR, SK_ERROR_INVALID_XML,
                 NULL);
    expect_error("<disk type='file' device='disk' model='virtio-fancy'><target dev='vda' "
                 "bus='virtio'/></disk>",
                 SK_ERROR, SK_ERROR_INVALID_DEVICE, "virtio-fancy");
    expect_error("<disk type='file'><target dev='vda' bus='nvme'/></disk>", SK_ERROR,
                 SK_ERROR_INVALID_DEVICE, "nvme");
    expect_error("<controller type='nvme'/>", SK_ERROR, SK_ERROR_INVALID_DEVICE, "nvme");
    expect_error("<controller type='pci' model='pcie-bridge-of-doom'/>", SK_ERROR,
                 SK_ERROR_INVALID_DEVICE, "pcie-bridge-of-doom");
    expect_error("<controller type='pci' index='2'/>", SK_ERROR, SK_ERROR_INVALID_DEVICE, "model");
    expect_error("<controller type='usb' model='xhci9000'/>", SK_ERROR, SK_ERROR_INVALID_DEVICE,
                 "xhci9000");
    expect_error("<controller type='scsi' model='megasas'/>", SK_ERROR, SK_ERROR_INVALID_DEVICE,
                 "megasas");
    expect_error("<video><model type='matrox'/></video>", SK_ERROR, SK_ERROR_INVALID_DEVICE,
                 "matrox");
    expect_error("<sound/>", SK_ERROR, SK_ERROR_INVALID_DEVICE, "sound");
    expect_error("<memballoon model='virtio-9000'/>", SK_ERROR, SK_ERROR_INVALID_DEVICE, NULL);
    expect_error("<rng><backend model='random'/></rng>", SK_ERROR, SK_ERROR_INVALID_DEVICE, "rng");
    expect_error("<iommu model='amd'/>", SK_ERROR, SK_ERROR_INVALID_DEVICE, "amd");
    expect_error("<interface type='user'><model type='e1000 e'/></interface>", SK_ERROR,
                 SK_ERROR_INVALID_DEVICE, "invalid characters");
    expect_error("<hostdev mode='subsystem' type='pci'><source/></hostdev>", SK_ERROR,
                 SK_ERROR_INVALID_DEVICE, "address");
    expect_error("<hostdev mode='subsystem' type='pci'><source><address bus='0x300'/></source>"
                 "</hostdev>",
                 SK_ERROR, SK_ERROR_INVALID_DEVICE, "0x300");
    expect_error("<hostdev mode='subsystem' type='floppy'/>", SK_ERROR, SK_ERROR_INVALID_DEVICE,
                 "floppy");
}

static void
test_from_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path =
        g_test_build_filename(G_TEST_DIST, "data", "classify", "interface-e1000e.xml", NULL);
    g_autoptr(SkDevice) dev = sk_device_new_from_file(path, &q35, &error);
    g_autofree char *bridge =
        g_test_build_filename(G_TEST_DIST, "data", "classify", "controller-pci-bridge.xml", NULL);
    g_autoptr(SkDevice) ctrl = sk_device_new_from_file(bridge, &q35, &error);
    SkDevice *missing;

    g_assert_no_error(error);
    g_assert_nonnull(dev);
    g_assert_nonnull(dev->doc);
    g_assert_true(dev->node == xmlDocGetRootElement(dev->doc));
    g_assert_cmpstr(dev->element, ==, "interface");
    g_assert_cmpstr(dev->model, ==, "e1000e");
    g_assert_cmphex(dev->flags, ==, PCIE);
    g_assert_true(dev->live_attachable);
    g_assert_nonnull(ctrl);
    g_assert_cmpint(ctrl->pci_model, ==, SK_PCI_MODEL_PCI_BRIDGE);
    g_assert_cmphex(ctrl->flags, ==, SK_CONNECT_PCI_BRIDGE);
    g_assert_true(ctrl->has_pci_address);
    g_assert_cmpuint(ctrl->address.bus, ==, 2);
    g_assert_cmpuint(ctrl->address.slot, ==, 1);

    missing = sk_device_new_from_file("/nonexistent/sk-device.xml", &q35, &error);
    g_assert_null(missing);
    g_assert_nonnull(error);
    g_assert_nonnull(strstr(error->message, "/nonexistent/sk-device.xml"));
}

static void
test_to_xml(void)
{
    const char *xml = "<interface type='network'><source network='default'/><model "
                      "type='virtio'/><address type='pci' domain='0x0000' bus='0x01' "
                      "slot='0x00' function='0x0'/></interface>";
    g_autoptr(SkDevice) dev = classify_ok(xml, &q35);
    SkPciAddr addr = { 0, 7, 0, 0 };
    g_autofree char *moved = sk_device_to_xml(dev, &addr);
    g_autofree char *same = sk_device_to_xml(dev, NULL);
    g_autofree char *again = sk_device_to_xml(dev, NULL);
    g_autoptr(SkDevice) reparsed = classify_ok(moved, &q35);
    g_autoptr(SkDevice) bare = classify_ok("<memballoon model='virtio'/>", &q35);
    g_autofree char *placed = sk_device_to_xml(bare, &addr);

    g_assert_nonnull(strstr(moved, "bus=\"0x07\""));
    g_assert_null(strstr(moved, "bus=\"0x01\""));
    g_assert_nonnull(strstr(moved, "<source network=\"default\"/>"));
    g_assert_true(reparsed->has_pci_address);
    g_assert_cmpuint(reparsed->address.bus, ==, 7);
    /* the device itself is left alone */
    g_assert_nonnull(strstr(same, "bus=\"0x01\""));
    g_assert_cmpstr(same, ==, again);
    g_assert_cmpuint(dev->address.bus, ==, 1);
    g_assert_nonnull(strstr(placed, "<address type=\"pci\" domain=\"0x0000\" bus=\"0x07\" "
                                    "slot=\"0x00\" function=\"0x0\"/>"));
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/device/flags-table", test_flags_table);
    g_test_add_func("/device/pci-controllers", test_pci_controllers);
    g_test_add_func("/device/default-nic", test_default_nic);
    g_test_add_func("/device/machine-defaults", test_machine_defaults);
    g_test_add_func("/device/virtio-mmio", test_virtio_mmio);
    g_test_add_func("/device/addresses", test_addresses);
    g_test_add_func("/device/live-attachable", test_live_attachable);
    g_test_add_func("/device/descriptions", test_descriptions);
    g_test_add_func("/device/hostdev-host", test_hostdev_host);
    g_test_add_func("/device/errors", test_errors);
    g_test_add_func("/device/from-file", test_from_file);
    g_test_add_func("/device/to-xml", test_to_xml);
    g_test_add_func("/device/usb-and-bus", test_usb_and_bus);
    g_test_add_func("/device/to-xml-drive", test_to_xml_drive);
    return g_test_run();
}
