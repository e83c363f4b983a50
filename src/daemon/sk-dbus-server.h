/* slotkeeperd: the D-Bus front end - the only daemon code that knows the bus. It exports the
 * Manager and one Domain object per domain the service announces, turns method calls into
 * SkRequests (authorized first when they change something) and SkResults and errors into
 * replies, and service signals into properties and the Event signal. */
#pragma once

#include <gio/gio.h>

#include "sk-auth.h"
#include "sk-service.h"

G_BEGIN_DECLS

typedef struct _SkDbusServer SkDbusServer;

/* Exports the objects on @bus (before the name is owned, so that the first caller finds
 * them). @service and @auth must outlive the server. */
SkDbusServer *sk_dbus_server_new(SkService *service, SkAuth *auth, GDBusConnection *bus,
                                 const char *version);
void sk_dbus_server_free(SkDbusServer *server);

G_END_DECLS
