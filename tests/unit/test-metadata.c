/* Unit tests for sk-metadata (domain <metadata> policy and hotplug records) and sk-config. */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>
#include <unistd.h>

#include "sk-config.h"
#include "sk-error.h"
#include "sk-metadata.h"
#include "sk-xml.h"

static void
test_round_trip(void)
{
    g_autoptr(SkMetadata) md = sk_metadata_new();
    g_autoptr(SkMetadata) back = NULL;
    g_autoptr(GError) error = NULL;
    g_autofree char *xml = NULL;

    md->has_spare_ports = TRUE;
    md->spare_ports = 6;
    md->has_legacy_bridge = TRUE;
    md->legacy_bridge = SK_LEGACY_BRIDGE_EAGER;
    md->has_managed = TRUE;
    md->managed = FALSE;
    sk_metadata_set_hotplug_require(md, "interface mac=52:54:00:00:00:01", FALSE);
    sk_metadata_set_hotplug_require(md, "disk target=vdb", FALSE);
    sk_metadata_set_hotplug_require(md, "disk target=vdb", FALSE); /* no duplicate */
    xml = sk_metadata_to_xml(md);
    /* libvirt refuses a prefix declared by the element itself ("failed to create a new XML
     * namespace"): the namespace must be the default one. */
    g_assert_nonnull(strstr(xml, "xmlns=\"" SK_METADATA_NS "\""));
    g_assert_true(g_str_has_prefix(xml, "<policy"));
    back = sk_metadata_from_xml(xml, &error);
    g_assert_no_error(error);
    g_assert_true(back->has_spare_ports);
    g_assert_cmpuint(back->spare_ports, ==, 6);
    g_assert_cmpint(back->legacy_bridge, ==, SK_LEGACY_BRIDGE_EAGER);
    g_assert_true(back->has_managed);
    g_assert_false(back->managed);
    g_assert_cmpuint(back->no_hotplug->len, ==, 2);
    g_assert_true(sk_metadata_get_no_hotplug(back, "disk target=vdb"));
    sk_metadata_set_hotplug_require(back, "disk target=vdb", TRUE);
    g_assert_false(sk_metadata_get_no_hotplug(back, "disk target=vdb"));
    g_assert_true(sk_metadata_get_no_hotplug(back, "interface mac=52:54:00:00:00:01"));
}

static void
test_from_domain(void)
{
    static const char domain[] =
        "<domain type='qemu'><name>m</name><metadata>"
        "<other:x xmlns:other='https://example.org/x' spare-ports='99'/>"
        "<slotkeeper:policy xmlns:slotkeeper='" SK_METADATA_NS "' spare-ports='2' "
        "legacy-bridge='never'><slotkeeper:device key='disk target=vdc' "
        "hotplug-require='no'/></slotkeeper:policy></metadata><devices/></domain>";
    static const char plain[] = "<domain type='qemu'><name>m</name><devices/></domain>";
    g_autoptr(GError) error = NULL;
    g_autoptr(xmlDoc) doc = sk_xml_parse(domain, strlen(domain), "domain", &error);
    g_autoptr(xmlDoc) doc2 = sk_xml_parse(plain, strlen(plain), "domain", &error);
    g_autoptr(SkMetadata) md = sk_metadata_from_domain(doc, &error);
    g_autoptr(SkMetadata) none = sk_metadata_from_domain(doc2, &error);
    SkPolicy policy;

    g_assert_no_error(error);
    g_assert_cmpuint(md->spare_ports, ==, 2); /* ours, not the other namespace's */
    g_assert_true(sk_metadata_get_no_hotplug(md, "disk target=vdc"));
    sk_policy_init(&policy);
    sk_metadata_apply(md, &policy);
    g_assert_cmpuint(policy.spare_ports, ==, 2);
    g_assert_cmpint(policy.legacy_bridge, ==, SK_LEGACY_BRIDGE_NEVER);

    g_assert_false(none->has_spare_ports || none->has_legacy_bridge || none->has_managed);
    sk_policy_init(&policy);
    sk_metadata_apply(none, &policy);
    g_assert_cmpuint(policy.spare_ports, ==, 4);
}

/* What virDomainGetMetadata returns for what sk_metadata_to_xml stored (libvirt 9.0). */
static void
test_libvirt_form(void)
{
    static const char returned[] =
        "<policy xmlns:slotkeeper=\"" SK_METADATA_NS "\" spare-ports=\"3\">\n"
        "  <device key=\"disk target=vdb\" hotplug-require=\"no\"/>\n</policy>\n";
    g_autoptr(GError) error = NULL;
    g_autoptr(SkMetadata) md = sk_metadata_from_xml(returned, &error);

    g_assert_no_error(error);
    g_assert_cmpuint(md->spare_ports, ==, 3);
    g_assert_true(sk_metadata_get_no_hotplug(md, "disk target=vdb"));
}

static void
test_invalid(void)
{
    static const char *const bad[] = {
        "<slotkeeper:policy xmlns:slotkeeper='" SK_METADATA_NS "' spare-ports='many'/>",
        "<slotkeeper:policy xmlns:slotkeeper='" SK_METADATA_NS "' spare-ports='999'/>",
        "<slotkeeper:policy xmlns:slotkeeper='" SK_METADATA_NS "' legacy-bridge='sometimes'/>",
        "<slotkeeper:policy xmlns:slotkeeper='" SK_METADATA_NS "' managed='maybe'/>",
        "<policy spare-ports='2'/>", /* not our namespace */
        "<slotkeeper:policy xmlns:slotkeeper='" SK_METADATA_NS "'",
    };

    for (gsize i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SkMetadata) md = sk_metadata_from_xml(bad[i], &error);

        g_assert_null(md);
        g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_XML);
    }
}

static void
test_device_keys(void)
{
    static const struct {
        const char *xml;
        const char *key;
    } cases[] = {
        { "<interface type='user'><mac address='52:54:00:AB:CD:EF'/><model type='virtio'/>"
          "</interface>",
          "interface mac=52:54:00:ab:cd:ef" },
        { "<disk type='file'><target dev='vdb' bus='virtio'/></disk>", "disk target=vdb" },
        { "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x03' "
          "slot='0x00' function='0x1'/></source></hostdev>",
          "hostdev source=0000:03:00.1" },
        { "<rng model='virtio'><backend model='random'>/dev/urandom</backend>"
          "<alias name='ua-rng1'/></rng>",
          "alias=ua-rng1" },
        { "<interface type='user'><model type='virtio'/></interface>", NULL },
        /* Companions (controllers slotkeeper adds for a device) by type and index; PCI
         * controllers are never recorded. */
        { "<controller type='scsi' index='2' model='lsilogic'/>", "controller type=scsi index=2" },
        { "<controller type='scsi' model='lsilogic'/>", NULL },
        { "<controller type='pci' index='3' model='pcie-root-port'/>", NULL },
    };
    SkMachineInfo mi = { "x86_64", "pc-q35-7.2", SK_MACHINE_Q35, TRUE, FALSE };

    for (gsize i = 0; i < G_N_ELEMENTS(cases); i++) {
        g_autoptr(GError) error = NULL;
        g_autoptr(SkDevice) dev =
            sk_device_new_from_xml(cases[i].xml, strlen(cases[i].xml), &mi, &error);
        g_autofree char *key = NULL;

        g_assert_no_error(error);
        key = sk_metadata_device_key(dev);
        g_assert_cmpstr(key, ==, cases[i].key);
    }
}

static SkTopology *
fixture(const char *name)
{
    const char *dir = g_getenv("SK_TEST_DATA");
    g_autofree char *here = g_path_get_dirname(__FILE__);
    g_autofree char *path =
        dir ? g_build_filename(dir, name, NULL) : g_build_filename(here, "..", "data", name, NULL);
    g_autoptr(GError) error = NULL;
    SkTopology *topo = sk_topology_new_from_file(path, &error);

    g_assert_no_error(error);
    return topo;
}

/* Fixture @name with @element added to its <devices>. */
static SkTopology *
fixture_with(const char *name, const char *element)
{
    const char *dir = g_getenv("SK_TEST_DATA");
    g_autofree char *here = g_path_get_dirname(__FILE__);
    g_autofree char *path =
        dir ? g_build_filename(dir, name, NULL) : g_build_filename(here, "..", "data", name, NULL);
    g_autofree char *xml = NULL;
    g_autofree char *edited = NULL;
    g_autoptr(GError) error = NULL;
    const char *end;
    SkTopology *topo;

    g_assert_true(g_file_get_contents(path, &xml, NULL, NULL));
    end = strstr(xml, "</devices>");
    g_assert_nonnull(end);
    edited = g_strdup_printf("%.*s%s%s", (int)(end - xml), xml, element, end);
    topo = sk_topology_new_from_xml(edited, strlen(edited), &error);
    g_assert_no_error(error);
    return topo;
}

static void
test_legacy_in_use(void)
{
    g_autoptr(SkTopology) chain = fixture("q35-legacy-chain.xml"); /* an rtl8139 NIC */
    g_autoptr(SkTopology) plain = fixture("q35-default.xml");      /* SATA, xhci, balloon */
    g_autoptr(SkTopology) pc = fixture("pc-bridge.xml");           /* an e1000, but on pc */
    g_autoptr(SkMetadata) md = sk_metadata_new();

    g_assert_true(sk_metadata_legacy_in_use(md, chain));
    /* Not hot-pluggable kinds (the SATA controller) and PCIe devices do not count. */
    g_assert_false(sk_metadata_legacy_in_use(md, plain));
    /* pc: every slot is conventional PCI; there is no legacy chain to keep. */
    g_assert_false(sk_metadata_legacy_in_use(md, pc));
    /* Placed with hotplug-require=no: it needs no hotplug slot, and so no chain. */
    sk_metadata_set_hotplug_require(md, "interface mac=52:54:00:5c:00:41", FALSE);
    g_assert_false(sk_metadata_legacy_in_use(md, chain));
    {
        /* A conventional PCI SCSI controller is hot-pluggable and counts, unless it was added
         * for a device attached with hotplug-require=no. */
        g_autoptr(SkTopology) scsi = fixture_with(
            "q35-default.xml", "<controller type='scsi' index='0' model='lsilogic'>"
                               "<address type='pci' domain='0' bus='0' slot='2' function='0'/>"
                               "</controller>");
        g_autoptr(SkMetadata) fresh = sk_metadata_new();

        g_assert_true(sk_metadata_legacy_in_use(fresh, scsi));
        sk_metadata_set_hotplug_require(fresh, "controller type=scsi index=0", FALSE);
        g_assert_false(sk_metadata_legacy_in_use(fresh, scsi));
    }
}

static char *
write_temp(const char *text)
{
    g_autoptr(GError) error = NULL;
    char *path = NULL;
    int fd = g_file_open_tmp("sk-config-XXXXXX.conf", &path, &error);

    g_assert_no_error(error);
    close(fd);
    g_assert_true(g_file_set_contents(path, text, -1, &error));
    return path;
}

static void
test_config(void)
{
    g_autofree char *good = write_temp("[policy]\nspare-ports = 6\nlegacy-bridge=eager\n"
                                       "root-port-cap=20\nmanage=false\n[service]\nworkers=2\n"
                                       "rescan-seconds=0\n");
    g_autofree char *bad = write_temp("[policy]\nspare-ports = lots\n");
    g_autofree char *bad_legacy = write_temp("[policy]\nlegacy-bridge = sometimes\n");
    g_autoptr(GError) error = NULL;
    SkConfig config;

    sk_config_init(&config);
    g_assert_cmpuint(config.policy.spare_ports, ==, 4);
    g_assert_true(config.manage_default);
    g_assert_true(sk_config_load(&config, good, FALSE, &error));
    g_assert_no_error(error);
    g_assert_cmpuint(config.policy.spare_ports, ==, 6);
    g_assert_cmpint(config.policy.legacy_bridge, ==, SK_LEGACY_BRIDGE_EAGER);
    g_assert_cmpuint(config.policy.root_port_cap, ==, 20);
    g_assert_false(config.manage_default);
    g_assert_cmpuint(config.workers, ==, 2);
    g_assert_cmpuint(config.rescan_seconds, ==, 0);

    sk_config_init(&config);
    g_assert_true(sk_config_load(&config, "/nonexistent/slotkeeper.conf", TRUE, &error));
    g_assert_no_error(error);
    g_assert_false(sk_config_load(&config, "/nonexistent/slotkeeper.conf", FALSE, &error));
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT);
    g_clear_error(&error);
    g_assert_false(sk_config_load(&config, bad, FALSE, &error));
    g_assert_error(error, SK_ERROR, SK_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull(strstr(error->message, "spare-ports"));
    g_clear_error(&error);
    g_assert_false(sk_config_load(&config, bad_legacy, FALSE, &error));
    g_assert_nonnull(strstr(error->message, "legacy-bridge"));
    g_unlink(good);
    g_unlink(bad);
    g_unlink(bad_legacy);
}

static void
test_shipped_config(void)
{
    g_autofree char *path = NULL;
    const char *src = g_getenv("G_TEST_SRCDIR");
    g_autoptr(GError) error = NULL;
    SkConfig config, defaults;

    path = g_build_filename(src ? src : ".", "..", "policy", "slotkeeper.conf", NULL);
    sk_config_init(&config);
    sk_config_init(&defaults);
    g_assert_true(sk_config_load(&config, path, FALSE, &error));
    g_assert_no_error(error);
    /* The shipped file documents the built-in defaults; it must not change them. */
    g_assert_cmpuint(config.policy.spare_ports, ==, defaults.policy.spare_ports);
    g_assert_cmpint(config.policy.legacy_bridge, ==, defaults.policy.legacy_bridge);
    g_assert_cmpuint(config.policy.root_port_cap, ==, defaults.policy.root_port_cap);
    g_assert_cmpint(config.manage_default, ==, defaults.manage_default);
    g_assert_cmpuint(config.workers, ==, defaults.workers);
    g_assert_cmpuint(config.rescan_seconds, ==, defaults.rescan_seconds);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/metadata/round-trip", test_round_trip);
    g_test_add_func("/metadata/from-domain", test_from_domain);
    g_test_add_func("/metadata/libvirt-form", test_libvirt_form);
    g_test_add_func("/metadata/invalid", test_invalid);
    g_test_add_func("/metadata/device-keys", test_device_keys);
    g_test_add_func("/metadata/legacy-in-use", test_legacy_in_use);
    g_test_add_func("/config/load", test_config);
    g_test_add_func("/config/shipped", test_shipped_config);
    return g_test_run();
}
