/* slotkeeperd: who may call what. On the system bus every mutating method is checked with
 * polkit (action org.slotkeeper.SlotKeeper1.manage), failing closed; on a session bus only
 * callers with the daemon's own uid are served at all. */
#pragma once

#include <gio/gio.h>

#include "sk-daemon.h"

G_BEGIN_DECLS

#define SK_AUTH_ACTION_MANAGE "org.slotkeeper.SlotKeeper1.manage"

/* Continues an authorized call on the main thread. */
typedef void (*SkAuthDone)(SkDaemon *daemon, GDBusMethodInvocation *invocation, gpointer data);

/* Authorizes the mutating method @verb ("attach-device", "detach-device", "policy",
 * "reconcile") on @domain (a name; NULL for every domain) for the caller of @invocation, then
 * calls @done. A refusal replies NotAuthorized or AuthorizationDismissed itself. @options
 * (a{sv}, already validated) may carry auth.no_user_interaction. @destroy frees @data either
 * way. */
void sk_auth_check(SkDaemon *daemon, GDBusMethodInvocation *invocation, const char *verb,
                   const char *domain, GVariant *options, SkAuthDone done, gpointer data,
                   GDestroyNotify destroy);

/* Without polkit (session bus): refuses every method call on @skeleton from another uid. */
void sk_auth_guard_skeleton(SkDaemon *daemon, GDBusInterfaceSkeleton *skeleton);

G_END_DECLS
