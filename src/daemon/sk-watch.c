/* slotkeeperd: libvirt's definition files as a trigger (see sk-watch.h). */
#include "sk-watch.h"

#include <gio/gio.h>
#include <string.h>

struct _SkWatch {
    GFileMonitor *monitor;
    SkWatchFunc func;
    gpointer data;
};

char *
sk_watch_default_dir(const char *uri)
{
    if (g_str_equal(uri, "qemu:///system"))
        return g_strdup("/etc/libvirt/qemu");
    if (g_str_equal(uri, "qemu:///session"))
        return g_build_filename(g_get_user_config_dir(), "libvirt", "qemu", NULL);
    return NULL;
}

/* "web1.xml" -> "web1"; NULL for anything else (autostart links, libvirt's .new files). */
static char *
sk_watch_domain_of(GFile *file)
{
    g_autofree char *base = file ? g_file_get_basename(file) : NULL;

    if (!base || !g_str_has_suffix(base, ".xml") || g_str_equal(base, ".xml"))
        return NULL;
    base[strlen(base) - strlen(".xml")] = '\0';
    return g_steal_pointer(&base);
}

static void
sk_watch_on_change(GFileMonitor *monitor, GFile *file, GFile *other, GFileMonitorEvent event,
                   gpointer data)
{
    SkWatch *watch = data;
    g_autofree char *name = NULL;

    switch (event) {
    case G_FILE_MONITOR_EVENT_CHANGES_DONE_HINT:
    case G_FILE_MONITOR_EVENT_CREATED:
    case G_FILE_MONITOR_EVENT_DELETED:
    case G_FILE_MONITOR_EVENT_MOVED_IN:
        name = sk_watch_domain_of(file);
        break;
    case G_FILE_MONITOR_EVENT_RENAMED:
        /* libvirt writes NAME.xml.new and renames it over NAME.xml. */
        name = sk_watch_domain_of(other);
        break;
    default:
        return;
    }
    if (name) {
        g_debug("definition file of %s changed", name);
        watch->func(name, watch->data);
    }
}

SkWatch *
sk_watch_new(const char *dir, SkWatchFunc func, gpointer data, GError **error)
{
    g_autoptr(GFile) file = g_file_new_for_path(dir);
    SkWatch *watch = g_new0(SkWatch, 1);

    watch->monitor = g_file_monitor_directory(file, G_FILE_MONITOR_WATCH_MOVES, NULL, error);
    if (!watch->monitor) {
        g_free(watch);
        return NULL;
    }
    /* libvirt saves a definition in one go; no need to batch events for long. */
    g_file_monitor_set_rate_limit(watch->monitor, 50);
    watch->func = func;
    watch->data = data;
    g_signal_connect(watch->monitor, "changed", G_CALLBACK(sk_watch_on_change), watch);
    return watch;
}

void
sk_watch_free(SkWatch *watch)
{
    if (!watch)
        return;
    g_signal_handlers_disconnect_by_data(watch->monitor, watch);
    g_file_monitor_cancel(watch->monitor);
    g_object_unref(watch->monitor);
    g_free(watch);
}
