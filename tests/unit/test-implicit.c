/* Unit tests for sk-implicit: the controllers libvirt 9.0 adds by itself for a device, checked
 * against what the real libvirtd did (tests/daemon/test_implicit.py repeats the important ones
 * on it): SCSI disks and SCSI host devices bring SCSI controllers 0..N, SATA disks SATA
 * controllers, virtio channels and consoles a virtio-serial controller, and USB devices on a
 * definition without USB are refused, with no controller added. */
#include "sk-implicit.h"

#include "test-common.h"

static SkImplicitNeeds *
needs_ok(const char *fixture, const char *xml)
{
    g_autoptr(SkTopology) topo = load(fixture);
    g_autoptr(SkDevice) dev = device_xml(xml, topo);
    g_autoptr(GError) error = NULL;
    SkImplicitNeeds *needs = sk_implicit_needs(dev, topo, &error);

    g_assert_no_error(error);
    g_assert(needs != NULL);
    return needs;
}

static const SkImplicitController *
need(const SkImplicitNeeds *needs, guint i)
{
    g_assert_cmpuint(i, <, needs->controllers->len);
    return needs->controllers->pdata[i];
}

static void
assert_drive(const SkImplicitNeeds *needs, guint controller, guint unit)
{
    g_assert_true(needs->has_drive);
    g_assert_cmpuint(needs->drive.controller, ==, controller);
    g_assert_cmpuint(needs->drive.bus, ==, 0);
    g_assert_cmpuint(needs->drive.target, ==, 0);
    g_assert_cmpuint(needs->drive.unit, ==, unit);
}

#define SCSI_DISK(dev) "<disk type='file' device='disk'><target dev='" dev "' bus='scsi'/></disk>"

static void
test_disk_index(void)
{
    static const struct {
        const char *name;
        int index;
    } rows[] = {
        { "sda", 0 },   { "sdb", 1 },   { "sdh", 7 }, { "sdz", 25 },  { "sdaa", 26 },
        { "sdab", 27 }, { "sdba", 52 }, { "hdc", 2 }, { "vdb", 1 },   { "xvda", 0 },
        { "ubdc", 2 },  { "fda", 0 },   { "sd", -1 }, { "sda1", -1 }, { "nvme0n1", -1 },
        { "foo", -1 },  { "sdA", -1 },  { "", -1 },   { NULL, -1 },
    };

    for (gsize i = 0; i < G_N_ELEMENTS(rows); i++) {
        g_test_message("%s", rows[i].name ? rows[i].name : "(null)");
        g_assert_cmpint(sk_implicit_disk_index(rows[i].name), ==, rows[i].index);
    }
}

/* Verified: a q35 guest without SCSI controller gets an lsilogic controller 0 for sda. */
static void
test_scsi_disk(void)
{
    g_autoptr(SkImplicitNeeds) sda = needs_ok("q35-default.xml", SCSI_DISK("sda"));
    /* No bus attribute: the name picks it (sd* is SCSI). */
    g_autoptr(SkImplicitNeeds) nobus =
        needs_ok("q35-default.xml", "<disk type='file' device='disk'><target dev='sdc'/></disk>");
    g_autoptr(SkImplicitNeeds) lun = needs_ok(
        "q35-default.xml", "<disk type='block' device='lun'><target dev='sdb' bus='scsi'/></disk>");
    g_autoptr(SkImplicitNeeds) arm = needs_ok("virt-aarch64.xml", SCSI_DISK("sda"));

    g_assert_cmpuint(sda->controllers->len, ==, 1);
    g_assert_cmpstr(need(sda, 0)->type, ==, "scsi");
    g_assert_cmpuint(need(sda, 0)->index, ==, 0);
    g_assert_cmpstr(need(sda, 0)->model, ==, "lsilogic");
    g_assert_true(need(sda, 0)->live_pluggable);
    assert_drive(sda, 0, 0);
    g_assert_null(sda->usb_missing);

    g_assert_cmpuint(nobus->controllers->len, ==, 1);
    assert_drive(nobus, 0, 2);
    g_assert_cmpuint(lun->controllers->len, ==, 1);
    assert_drive(lun, 0, 1);
    /* Verified on aarch64 virt too: lsilogic. */
    g_assert_cmpstr(need(arm, 0)->model, ==, "lsilogic");
}

/* Verified: sdh is unit 0 of controller 1, and libvirt adds controllers 0 and 1. */
static void
test_scsi_disk_higher_controller(void)
{
    g_autoptr(SkImplicitNeeds) sdh = needs_ok("q35-default.xml", SCSI_DISK("sdh"));
    g_autoptr(SkImplicitNeeds) explicit = needs_ok(
        "q35-scsi-virtio.xml", "<disk type='file' device='disk'><target dev='sdb' bus='scsi'/>"
                               "<address type='drive' controller='2' bus='0' target='0' "
                               "unit='3'/></disk>");

    g_assert_cmpuint(sdh->controllers->len, ==, 2);
    g_assert_cmpuint(need(sdh, 0)->index, ==, 0);
    g_assert_cmpuint(need(sdh, 1)->index, ==, 1);
    assert_drive(sdh, 1, 0);
    /* Controller 0 is there (virtio-scsi): 1 and 2 are added, with its model (the live rule,
     * verified: a live attach copies it; --config would take lsilogic). */
    g_assert_cmpuint(explicit->controllers->len, ==, 2);
    g_assert_cmpuint(need(explicit, 0)->index, ==, 1);
    g_assert_cmpuint(need(explicit, 1)->index, ==, 2);
    g_assert_cmpstr(need(explicit, 0)->model, ==, "virtio-scsi");
    assert_drive(explicit, 2, 3);
}

static void
test_scsi_disk_existing_controller(void)
{
    g_autoptr(SkImplicitNeeds) sdb = needs_ok("q35-scsi-virtio.xml", SCSI_DISK("sdb"));
    g_autoptr(SkImplicitNeeds) sdh = needs_ok("q35-scsi-virtio.xml", SCSI_DISK("sdh"));

    g_assert_cmpuint(sdb->controllers->len, ==, 0);
    assert_drive(sdb, 0, 1);
    g_assert_cmpuint(sdh->controllers->len, ==, 1);
    g_assert_cmpuint(need(sdh, 0)->index, ==, 1);
    g_assert_cmpstr(need(sdh, 0)->model, ==, "virtio-scsi");
}

/* Verified: sdg on SATA is unit 0 of SATA controller 1 (q35's own is 0). */
static void
test_sata_disk(void)
{
    g_autoptr(SkImplicitNeeds) sda =
        needs_ok("q35-default.xml", "<disk device='disk'><target dev='sda' bus='sata'/></disk>");
    g_autoptr(SkImplicitNeeds) sdg =
        needs_ok("q35-default.xml", "<disk device='disk'><target dev='sdg' bus='sata'/></disk>");
    g_autoptr(SkImplicitNeeds) pc =
        needs_ok("pc-default.xml", "<disk device='disk'><target dev='sdb' bus='sata'/></disk>");

    g_assert_cmpuint(sda->controllers->len, ==, 0);
    assert_drive(sda, 0, 0);
    g_assert_cmpuint(sdg->controllers->len, ==, 1);
    g_assert_cmpstr(need(sdg, 0)->type, ==, "sata");
    g_assert_cmpuint(need(sdg, 0)->index, ==, 1);
    g_assert_null(need(sdg, 0)->model);
    g_assert_false(need(sdg, 0)->live_pluggable);
    assert_drive(sdg, 1, 0);
    /* pc has no SATA controller of its own. */
    g_assert_cmpuint(pc->controllers->len, ==, 1);
    g_assert_cmpuint(need(pc, 0)->index, ==, 0);
    assert_drive(pc, 0, 1);
}

static void
test_other_disks(void)
{
    const char *xml[] = {
        "<disk type='file' device='disk'><target dev='vda' bus='virtio'/></disk>",
        "<disk type='file' device='disk'><target dev='hda' bus='ide'/></disk>",
        "<disk type='file' device='disk'><target dev='sdb' bus='usb'/></disk>",
        "<disk type='file' device='floppy'><target dev='fda'/></disk>",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(xml); i++) {
        g_autoptr(SkImplicitNeeds) needs = needs_ok("q35-default.xml", xml[i]);

        g_assert_cmpuint(needs->controllers->len, ==, 0);
        g_assert_false(needs->has_drive);
    }
}

static void
test_bad_disk_name(void)
{
    g_autoptr(SkTopology) topo = load("q35-default.xml");
    g_autoptr(SkDevice) dev =
        device_xml("<disk type='file' device='disk'><target dev='disk0' bus='scsi'/></disk>", topo);
    g_autoptr(GError) error = NULL;
    g_autoptr(SkImplicitNeeds) needs = sk_implicit_needs(dev, topo, &error);

    g_assert_null(needs);
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_DEVICE);
    g_assert_nonnull(strstr(error->message, "Unknown disk name 'disk0'"));
}

/* Verified: a SCSI host device brings an lsilogic controller 0 too; its unit is the first one
 * no disk uses (virDomainHostdevAssignAddress). */
static void
test_scsi_hostdev(void)
{
    const char *hostdev = "<hostdev mode='subsystem' type='scsi'><source><adapter "
                          "name='scsi_host0'/><address bus='0' target='0' unit='0'/></source>"
                          "</hostdev>";
    g_autoptr(SkImplicitNeeds) bare = needs_ok("q35-default.xml", hostdev);
    g_autoptr(SkImplicitNeeds) with_disk = needs_ok("q35-scsi-virtio.xml", hostdev);

    g_assert_cmpuint(bare->controllers->len, ==, 1);
    g_assert_cmpstr(need(bare, 0)->model, ==, "lsilogic");
    assert_drive(bare, 0, 0);
    g_assert_cmpuint(with_disk->controllers->len, ==, 0);
    assert_drive(with_disk, 0, 1); /* sda has unit 0 */
}

/* Verified: a virtio channel attached with --config brings virtio-serial controller 0. */
static void
test_virtio_serial(void)
{
    const char *channel = "<channel type='unix'><target type='virtio' "
                          "name='org.qemu.guest_agent.0'/></channel>";
    g_autoptr(SkImplicitNeeds) bare = needs_ok("q35-default.xml", channel);
    g_autoptr(SkImplicitNeeds) present = needs_ok("q35-virt-manager.xml", channel);
    g_autoptr(SkImplicitNeeds) second = needs_ok(
        "q35-virt-manager.xml", "<channel type='unix'><target type='virtio' name='a.b'/><address "
                                "type='virtio-serial' controller='1' bus='0' port='1'/></channel>");
    g_autoptr(SkImplicitNeeds) console =
        needs_ok("q35-default.xml", "<console type='pty'><target type='virtio'/></console>");
    g_autoptr(SkImplicitNeeds) serial_console =
        needs_ok("q35-default.xml", "<console type='pty'><target type='serial'/></console>");
    g_autoptr(SkImplicitNeeds) guestfwd = needs_ok(
        "q35-default.xml", "<channel type='pty'><target type='guestfwd' address='10.0.2.1' "
                           "port='4600'/></channel>");

    g_assert_cmpuint(bare->controllers->len, ==, 1);
    g_assert_cmpstr(need(bare, 0)->type, ==, "virtio-serial");
    g_assert_cmpuint(need(bare, 0)->index, ==, 0);
    g_assert_null(need(bare, 0)->model);
    g_assert_false(need(bare, 0)->live_pluggable);
    g_assert_false(bare->has_drive);
    g_assert_cmpuint(present->controllers->len, ==, 0);
    g_assert_cmpuint(second->controllers->len, ==, 1);
    g_assert_cmpuint(need(second, 0)->index, ==, 1);
    g_assert_cmpuint(console->controllers->len, ==, 1);
    g_assert_cmpuint(serial_console->controllers->len, ==, 0);
    g_assert_cmpuint(guestfwd->controllers->len, ==, 0);
}

/* Verified: libvirt 9.0 adds no USB controller; "Domain has no USB bus support". */
static void
test_usb(void)
{
    const char *usb[] = {
        "<input type='tablet' bus='usb'/>",
        "<input type='tablet'/>", /* USB by default */
        "<disk type='file' device='disk'><target dev='sdb' bus='usb'/></disk>",
        "<redirdev bus='usb' type='spicevmc'/>",
        "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product "
        "id='0xbeef'/></source></hostdev>",
        "<interface type='user'><model type='usb-net'/></interface>",
        "<serial type='pty'><target type='usb-serial'/></serial>",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(usb); i++) {
        g_autoptr(SkImplicitNeeds) virt = needs_ok("virt-aarch64.xml", usb[i]);
        g_autoptr(SkImplicitNeeds) none = needs_ok("q35-bare.xml", usb[i]);
        g_autoptr(SkImplicitNeeds) xhci = needs_ok("q35-default.xml", usb[i]);

        g_test_message("%s", usb[i]);
        g_assert_nonnull(virt->usb_missing);
        g_assert_nonnull(strstr(virt->usb_missing, "no USB bus support"));
        g_assert_nonnull(none->usb_missing);
        g_assert_nonnull(strstr(none->usb_missing, "model='none'"));
        g_assert_null(xhci->usb_missing);
        g_assert_cmpuint(virt->controllers->len, ==, 0);
    }
    {
        /* Not on USB: nothing to say. */
        g_autoptr(SkImplicitNeeds) ps2 =
            needs_ok("q35-bare.xml", "<input type='mouse' bus='ps2'/>");
        g_autoptr(SkImplicitNeeds) nic = needs_ok("virt-aarch64.xml", "<interface type='user'/>");

        g_assert_null(ps2->usb_missing);
        g_assert_null(nic->usb_missing);
    }
}

/* x86 XML without any USB element: libvirt adds its default controller when it defines it. */
static void
test_usb_default_on_x86(void)
{
    const char *xml = "<domain type='qemu'><name>x</name><os><type arch='x86_64' "
                      "machine='q35'>hvm</type></os><devices/></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(SkTopology) topo = sk_topology_new_from_xml(xml, strlen(xml), &error);
    g_autoptr(SkDevice) dev = NULL;
    g_autoptr(SkImplicitNeeds) needs = NULL;

    g_assert_no_error(error);
    dev = device_xml("<input type='tablet' bus='usb'/>", topo);
    needs = sk_implicit_needs(dev, topo, &error);
    g_assert_no_error(error);
    g_assert_null(needs->usb_missing);
    {
        /* Nor does it write q35's SATA controller 0, part of the chipset, until then. */
        g_autoptr(SkDevice) sata =
            device_xml("<disk device='disk'><target dev='sdb' bus='sata'/></disk>", topo);
        g_autoptr(SkImplicitNeeds) sata_needs = sk_implicit_needs(sata, topo, &error);

        g_assert_no_error(error);
        g_assert_cmpuint(sata_needs->controllers->len, ==, 0);
    }
}

static void
test_nothing_implicit(void)
{
    const char *xml[] = {
        "<interface type='user'><model type='virtio'/></interface>",
        "<controller type='scsi' index='0' model='lsilogic'/>",
        "<rng model='virtio'><backend model='random'>/dev/urandom</backend></rng>",
        "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='3' slot='0' "
        "function='0'/></source></hostdev>",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(xml); i++) {
        g_autoptr(SkImplicitNeeds) needs = needs_ok("q35-bare.xml", xml[i]);

        g_assert_cmpuint(needs->controllers->len, ==, 0);
        g_assert_false(needs->has_drive);
        g_assert_null(needs->usb_missing);
    }
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/implicit/disk-index", test_disk_index);
    g_test_add_func("/implicit/scsi-disk", test_scsi_disk);
    g_test_add_func("/implicit/scsi-disk-higher-controller", test_scsi_disk_higher_controller);
    g_test_add_func("/implicit/scsi-disk-existing-controller", test_scsi_disk_existing_controller);
    g_test_add_func("/implicit/sata-disk", test_sata_disk);
    g_test_add_func("/implicit/other-disks", test_other_disks);
    g_test_add_func("/implicit/bad-disk-name", test_bad_disk_name);
    g_test_add_func("/implicit/scsi-hostdev", test_scsi_hostdev);
    g_test_add_func("/implicit/virtio-serial", test_virtio_serial);
    g_test_add_func("/implicit/usb", test_usb);
    g_test_add_func("/implicit/x86-defaults", test_usb_default_on_x86);
    g_test_add_func("/implicit/nothing", test_nothing_implicit);
    return g_test_run();
}
