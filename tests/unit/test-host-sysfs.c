/* Unit tests for src/host's sysfs reader: libvirt 9.0's virPCIDeviceIsPCIExpress on a fake
 * sysfs tree (SK_SYSFS_ROOT). */
#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sk-host-sysfs.h"

static void
remove_tree(const char *path)
{
    GDir *dir = g_dir_open(path, 0, NULL);
    const char *name;

    while (dir != NULL && (name = g_dir_read_name(dir)) != NULL) {
        g_autofree char *child = g_build_filename(path, name, NULL);

        if (g_file_test(child, G_FILE_TEST_IS_DIR))
            remove_tree(child);
        else
            g_unlink(child);
    }
    if (dir != NULL)
        g_dir_close(dir);
    g_rmdir(path);
}

static void
write_host_device(const char *root, const char *name, const guint8 *config, gsize len, gboolean ids)
{
    g_autofree char *dir = g_build_filename(root, "bus", "pci", "devices", name, NULL);
    g_autofree char *config_path = g_build_filename(dir, "config", NULL);
    g_autoptr(GError) error = NULL;

    g_assert_cmpint(g_mkdir_with_parents(dir, 0755), ==, 0);
    g_file_set_contents(config_path, (const char *)config, (gssize)len, &error);
    g_assert_no_error(error);
    if (ids) {
        g_autofree char *vendor = g_build_filename(dir, "vendor", NULL);
        g_autofree char *device = g_build_filename(dir, "device", NULL);

        g_file_set_contents(vendor, "0x8086\n", -1, &error);
        g_assert_no_error(error);
        g_file_set_contents(device, "0x10d3\n", -1, &error);
        g_assert_no_error(error);
    }
}

/* A config space with the capability list bit set and the given chain of capability IDs at
 * 0x40, 0x50, ... (0 ends the list). */
static gsize
make_config(guint8 *buf, gsize len, const guint8 *caps, gsize n_caps)
{
    memset(buf, 0, len);
    buf[0] = 0x86;
    buf[1] = 0x80;
    if (n_caps == 0)
        return len;
    buf[0x06] = 0x10;
    buf[0x34] = 0x40;
    for (gsize i = 0; i < n_caps; i++) {
        buf[0x40 + 0x10 * i] = caps[i];
        buf[0x41 + 0x10 * i] = i + 1 < n_caps ? 0x40 + 0x10 * (i + 1) : 0;
    }
    return len;
}

static gboolean
express(const char *name)
{
    SkPciAddr addr;
    g_autoptr(GError) error = NULL;

    g_assert_true(sk_pci_addr_parse(name, &addr, &error));
    return sk_host_pci_is_express(sk_host_sysfs_get(), &addr);
}

static void
test_sysfs(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *root = g_dir_make_tmp("sk-sysfs-XXXXXX", &error);
    static const guint8 pm_then_exp[] = { 0x01, 0x05, 0x10 };
    static const guint8 pm_only[] = { 0x01, 0x05 };
    guint8 big[4096];
    guint8 small[256];

    g_assert_no_error(error);
    g_setenv("SK_SYSFS_ROOT", root, TRUE);

    /* Express capability third in the list */
    write_host_device(root, "0000:03:00.0", big, make_config(big, sizeof(big), pm_then_exp, 3),
                      TRUE);
    /* conventional PCI: capabilities without Express, 256-byte config */
    write_host_device(root, "0000:04:01.0", small, make_config(small, sizeof(small), pm_only, 2),
                      TRUE);
    /* no capability list at all, 256 bytes */
    write_host_device(root, "0000:05:02.0", small, make_config(small, sizeof(small), NULL, 0),
                      TRUE);
    /* no Express capability but a 4096-byte config: libvirt guesses Express */
    write_host_device(root, "0000:07:00.0", big, make_config(big, sizeof(big), pm_only, 2), TRUE);
    /* config present but no vendor/device files: virPCIDeviceNew fails -> Express */
    write_host_device(root, "0000:08:00.0", small, make_config(small, sizeof(small), pm_only, 2),
                      FALSE);
    /* the list is walked: an Express capability in a 256-byte file counts */
    write_host_device(root, "0000:0a:00.0", small,
                      make_config(small, sizeof(small), pm_then_exp, 3), TRUE);
    /* a capability list that loops on itself must not hang */
    make_config(small, sizeof(small), pm_only, 1);
    small[0x41] = 0x40;
    write_host_device(root, "0000:09:00.0", small, sizeof(small), TRUE);

    g_assert_true(express("0000:03:00.0"));
    g_assert_false(express("0000:04:01.0"));
    g_assert_false(express("0000:05:02.0"));
    g_assert_true(express("0000:06:00.0")); /* absent: cannot tell */
    g_assert_true(express("0000:07:00.0"));
    g_assert_true(express("0000:08:00.0"));
    g_assert_false(express("0000:09:00.0"));
    g_assert_true(express("0000:0a:00.0"));

    g_unsetenv("SK_SYSFS_ROOT");
    remove_tree(root);
}

int
main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/host/sysfs", test_sysfs);
    return g_test_run();
}
