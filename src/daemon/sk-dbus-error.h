/* slotkeeperd: SK_ERROR on the bus - one D-Bus error name per failure kind. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* The one way every method fails: an SK_ERROR name (anything else becomes Failed), never a
 * GLib-internal error name. */
void sk_dbus_return_error(GDBusMethodInvocation *invocation, const GError *error);

G_END_DECLS
