/* slotkeeperd: small libvirt helpers - errors as SK_ERROR codes, states as words, XML reads. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* Sets @error from libvirt's last error (NoSuchDomain, Unavailable, NotAuthorized, ...),
 * prefixed with @what when given. Always returns FALSE. */
gboolean sk_virt_set_error(GError **error, const char *what);

/* The domain's state as a word ("running", "shut-off", ...). */
const char *sk_virt_state_to_string(int state);

/* The running (@inactive FALSE) or persistent definition as a GLib string. The persistent one
 * is read with secrets, since it may be defined again (test:///, which has no device attach). */
char *sk_virt_get_xml(virDomainPtr dom, gboolean inactive, GError **error);

G_END_DECLS
