/* slotkeeperd: who may call what. With polkit (the system bus) every mutating method is checked
 * (action org.slotkeeper.SlotKeeper1.manage), failing closed; without it (a session bus) only
 * callers with the service's own uid are served at all. Knows calls, not the service. */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define SK_AUTH_ACTION_MANAGE "org.slotkeeper.SlotKeeper1.manage"

typedef struct _SkAuth SkAuth;

/* @polkit: ask polkit for mutating calls; else serve only our own uid. An interactive
 * check (a password dialog) is refused after @interactive_timeout_seconds, one that may not
 * ask the user after 5 s. */
SkAuth *sk_auth_new(gboolean polkit, guint interactive_timeout_seconds);
void sk_auth_free(SkAuth *auth);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkAuth, sk_auth_free)

gboolean sk_auth_uses_polkit(SkAuth *auth);

/* Continues an authorized call on the main thread. */
typedef void (*SkAuthDone)(GDBusMethodInvocation *invocation, gpointer data);

/* Authorizes the mutating method @verb ("attach-device", "detach-device", "policy",
 * "reconcile") on @domain (a name; NULL for every domain) for the caller of @invocation, then
 * calls @done. A refusal replies NotAuthorized or AuthorizationDismissed itself. @interactive:
 * polkit may ask the user (no auth.no_user_interaction). @destroy frees @data either way. */
void sk_auth_check(SkAuth *auth, GDBusMethodInvocation *invocation, const char *verb,
                   const char *domain, gboolean interactive, SkAuthDone done, gpointer data,
                   GDestroyNotify destroy);

/* Without polkit: refuses every method call on @skeleton from another uid. Call it before
 * connecting any handle-* handler: the guard must run first. */
void sk_auth_guard_skeleton(SkAuth *auth, GDBusInterfaceSkeleton *skeleton);

G_END_DECLS
