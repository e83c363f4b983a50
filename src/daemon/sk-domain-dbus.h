/* slotkeeperd: the D-Bus side of domains and the manager - exported objects, properties and
 * method handlers (which queue jobs on sk-daemon.c's workers). */
#pragma once

#include "sk-daemon.h"

G_BEGIN_DECLS

/* Creates and exports the domain's object with initial properties. */
void sk_domain_dbus_export(SkDomainEntry *entry);
void sk_domain_dbus_unexport(SkDomainEntry *entry);
/* Sets every property from @info; only changed values emit PropertiesChanged. */
void sk_domain_dbus_apply(SkDomainEntry *entry, const SkDomainInfo *info);
/* Creates the Manager interface, connects its methods and exports it. */
void sk_manager_dbus_export(SkDaemon *daemon);

G_END_DECLS
