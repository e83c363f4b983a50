/* slotkeeperd: watching the directory libvirt saves persistent definitions in. libvirt 9.0
 * sends no event for attach-device --config, detach-device --config or a define of an edited
 * definition; a new file there tells the service which domain to read again - through
 * libvirt's API, which stays the source of truth. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _SkWatch SkWatch;

/* Called on the main thread with the name of a domain whose definition file changed. */
typedef void (*SkWatchFunc)(const char *domain, gpointer data);

/* The directory libvirt keeps @uri's persistent definitions in, when it is a local qemu URI:
 * /etc/libvirt/qemu for qemu:///system, $XDG_CONFIG_HOME/libvirt/qemu for qemu:///session;
 * NULL otherwise. */
char *sk_watch_default_dir(const char *uri);

/* Watches @dir; NULL with an error when it cannot be watched. */
SkWatch *sk_watch_new(const char *dir, SkWatchFunc func, gpointer data, GError **error);
void sk_watch_free(SkWatch *watch);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkWatch, sk_watch_free)

G_END_DECLS
