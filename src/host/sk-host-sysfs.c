/* slotkeeper: host PCI facts from sysfs. */
#include "sk-host-sysfs.h"

#include <fcntl.h>
#include <unistd.h>

#include <glib/gstdio.h>

static guint8
sk_config_byte(const guint8 *buf, gsize len, guint pos)
{
    /* libvirt reads past the end of a short config file as zeros without an error. */
    return pos < len ? buf[pos] : 0;
}

static gboolean
sk_file_readable(const char *path)
{
    g_autofree char *contents = NULL;

    return g_file_get_contents(path, &contents, NULL, NULL);
}

/* virPCIDeviceNew + virPCIDeviceIsPCIExpress (libvirt 9.0): TRUE when the host device is PCI
 * Express, or when that cannot be told - libvirt then assumes Express, as most are. */
static gboolean
sk_host_sysfs_is_express(const SkHostPci *self, const SkPciAddr *host)
{
    const char *root = g_getenv("SK_SYSFS_ROOT");
    g_autofree char *name = sk_pci_addr_format(host);
    g_autofree char *dir = g_build_filename(root != NULL && *root != '\0' ? root : "/sys", "bus",
                                            "pci", "devices", name, NULL);
    g_autofree char *config = g_build_filename(dir, "config", NULL);
    g_autofree char *vendor = g_build_filename(dir, "vendor", NULL);
    g_autofree char *device = g_build_filename(dir, "device", NULL);
    guint8 buf[256];
    gssize len;
    guint pos;
    guint ttl = 64; /* libvirt does not guard against a looping list; we do */
    GStatBuf st;
    int fd;

    if (!g_file_test(config, G_FILE_TEST_EXISTS) || !sk_file_readable(vendor) ||
        !sk_file_readable(device))
        return TRUE;
    fd = g_open(config, O_RDONLY | O_CLOEXEC, 0);
    if (fd < 0)
        return TRUE;
    len = read(fd, buf, sizeof(buf));
    close(fd);
    if (len < 0)
        len = 0;
    /* Walk the capability list for the PCI Express capability (ID 0x10). */
    if (sk_config_byte(buf, len, 0x06) & 0x10) {
        pos = sk_config_byte(buf, len, 0x34);
        while (pos >= 0x40 && pos != 0xff && ttl-- > 0) {
            if (sk_config_byte(buf, len, pos) == 0x10)
                return TRUE;
            pos = sk_config_byte(buf, len, pos + 1);
        }
    }
    /* Not found, which may only mean the capabilities were unreadable: a conventional PCI
     * device's config file is exactly 256 bytes, anything else is taken as Express. */
    return g_stat(config, &st) != 0 || st.st_size != 256;
}

const SkHostPci *
sk_host_sysfs_get(void)
{
    static const SkHostPci sysfs = { .is_express = sk_host_sysfs_is_express };

    return &sysfs;
}
