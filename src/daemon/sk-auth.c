/* slotkeeperd: authorization of D-Bus callers (polkit on the system bus, own uid otherwise). */
#include <unistd.h>

#include "sk-auth.h"
#include "sk-dbus-error.h"
#include "sk-error.h"

#define SK_POLKIT_NAME "org.freedesktop.PolicyKit1"
#define SK_POLKIT_PATH "/org/freedesktop/PolicyKit1/Authority"
#define SK_POLKIT_IFACE "org.freedesktop.PolicyKit1.Authority"
/* CheckAuthorizationFlags: AllowUserInteraction */
#define SK_POLKIT_ALLOW_USER_INTERACTION 1u
/* Without user interaction polkit answers at once: a polkitd that does not answer within 5 s
 * is hung, and the call is refused rather than kept waiting. */
#define SK_POLKIT_TIMEOUT_MS 5000
/* Unique bus names never come back, so the cache only needs a bound, not invalidation. */
#define SK_UID_CACHE_MAX 1024

struct _SkAuth {
    gboolean polkit;
    int interactive_timeout_ms; /* how long a password dialog may take */
    GHashTable *uids;           /* unique bus name -> uid, asked of the bus once per name */
};

typedef struct {
    GDBusMethodInvocation *invocation;
    gboolean interactive;
    int timeout_ms;
    char *verb;
    char *domain;
    SkAuthDone done;
    gpointer data;
    GDestroyNotify destroy;
} SkAuthRequest;

static void
sk_auth_request_free(SkAuthRequest *req)
{
    if (req->destroy)
        req->destroy(req->data);
    g_object_unref(req->invocation);
    g_free(req->verb);
    g_free(req->domain);
    g_free(req);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkAuthRequest, sk_auth_request_free)

static const char *
sk_auth_verb_phrase(const char *verb)
{
    if (g_str_equal(verb, "attach-device"))
        return "attach a device to";
    if (g_str_equal(verb, "detach-device"))
        return "detach a device from";
    if (g_str_equal(verb, "policy"))
        return "change the hotplug slot policy of";
    return "reconcile the hotplug slots of";
}

static char *
sk_auth_target(const SkAuthRequest *req)
{
    if (req->domain)
        return g_strdup_printf("the virtual machine '%s'", req->domain);
    return g_strdup("every virtual machine");
}

/* The text an authentication dialog shows (polkit honours polkit.message from a root
 * mechanism), so the user sees which virtual machine and which change is asked for. */
static char *
sk_auth_message(const SkAuthRequest *req)
{
    g_autofree char *target = sk_auth_target(req);

    return g_strdup_printf("Authentication is required to %s %s.", sk_auth_verb_phrase(req->verb),
                           target);
}

static void
sk_auth_refuse(SkAuthRequest *req, SkErrorCode code, const char *message)
{
    g_autoptr(GError) error = g_error_new_literal(SK_ERROR, code, message);

    g_info("refused %s%s%s for %s: %s", req->verb, req->domain ? " on " : "",
           req->domain ? req->domain : "", g_dbus_method_invocation_get_sender(req->invocation),
           message);
    sk_dbus_return_error(req->invocation, error);
}

static void
sk_auth_on_polkit_reply(GObject *source, GAsyncResult *result, gpointer data)
{
    g_autoptr(SkAuthRequest) req = data;
    g_autoptr(GError) error = NULL;
    g_autoptr(GVariant) reply = NULL;
    g_autoptr(GVariant) details = NULL;
    g_autofree char *message = NULL;
    g_autofree char *target = NULL;
    gboolean authorized = FALSE;
    gboolean challenge = FALSE;
    const char *dismissed = NULL;

    reply = g_dbus_connection_call_finish(G_DBUS_CONNECTION(source), result, &error);
    if (!reply && g_error_matches(error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT)) {
        message = g_strdup_printf(
            "polkit did not answer within %d s (%s); refusing, nothing was changed",
            (req->interactive ? req->timeout_ms : SK_POLKIT_TIMEOUT_MS) / 1000,
            req->interactive ? "no authentication was completed in time" : "polkitd is hung");
        sk_auth_refuse(req, SK_ERROR_NOT_AUTHORIZED, message);
        return;
    }
    if (!reply) {
        /* Fail closed: no authority, no change. */
        g_dbus_error_strip_remote_error(error);
        message = g_strdup_printf("cannot check authorization with polkit (%s); refusing. Is "
                                  "polkitd installed and running?",
                                  error->message);
        sk_auth_refuse(req, SK_ERROR_NOT_AUTHORIZED, message);
        return;
    }
    g_variant_get(reply, "((bb@a{ss}))", &authorized, &challenge, &details);
    if (authorized) {
        req->done(req->invocation, req->data);
        return;
    }
    if (g_variant_lookup(details, "polkit.dismissed", "&s", &dismissed) &&
        g_str_equal(dismissed, "true")) {
        sk_auth_refuse(req, SK_ERROR_AUTHORIZATION_DISMISSED,
                       "the authentication dialog was dismissed; nothing was changed");
        return;
    }
    target = sk_auth_target(req);
    if (challenge)
        message = g_strdup_printf(
            "not authorized to %s %s without authentication (polkit action %s), and no "
            "authentication could be asked for: run from a terminal or desktop session without "
            "--no-ask-password, or as an administrator",
            sk_auth_verb_phrase(req->verb), target, SK_AUTH_ACTION_MANAGE);
    else
        message = g_strdup_printf("not authorized to %s %s (polkit action %s)",
                                  sk_auth_verb_phrase(req->verb), target, SK_AUTH_ACTION_MANAGE);
    sk_auth_refuse(req, SK_ERROR_NOT_AUTHORIZED, message);
}

void
sk_auth_check(SkAuth *auth, GDBusMethodInvocation *invocation, const char *verb, const char *domain,
              gboolean interactive, SkAuthDone done, gpointer data, GDestroyNotify destroy)
{
    g_autoptr(SkAuthRequest) req = g_new0(SkAuthRequest, 1);
    g_autofree char *message = NULL;
    GVariantBuilder subject;
    GVariantBuilder details;

    req->invocation = g_object_ref(invocation);
    req->interactive = interactive;
    req->timeout_ms = auth->interactive_timeout_ms;
    req->verb = g_strdup(verb);
    req->domain = g_strdup(domain);
    req->done = done;
    req->data = data;
    req->destroy = destroy;

    if (!auth->polkit) {
        /* sk_auth_guard_skeleton already refused other uids before the handler ran. */
        done(invocation, data);
        return;
    }

    g_variant_builder_init(&subject, G_VARIANT_TYPE("a{sv}"));
    g_variant_builder_add(&subject, "{sv}", "name",
                          g_variant_new_string(g_dbus_method_invocation_get_sender(invocation)));
    message = sk_auth_message(req);
    g_variant_builder_init(&details, G_VARIANT_TYPE("a{ss}"));
    g_variant_builder_add(&details, "{ss}", "verb", verb);
    if (domain)
        g_variant_builder_add(&details, "{ss}", "domain", domain);
    g_variant_builder_add(&details, "{ss}", "polkit.message", message);

    /* An interactive check lasts as long as the user takes to answer the dialog. */
    g_dbus_connection_call(g_dbus_method_invocation_get_connection(invocation), SK_POLKIT_NAME,
                           SK_POLKIT_PATH, SK_POLKIT_IFACE, "CheckAuthorization",
                           g_variant_new("((sa{sv})sa{ss}us)", "system-bus-name", &subject,
                                         SK_AUTH_ACTION_MANAGE, &details,
                                         interactive ? SK_POLKIT_ALLOW_USER_INTERACTION : 0u, ""),
                           G_VARIANT_TYPE("((bba{ss}))"), G_DBUS_CALL_FLAGS_NONE,
                           interactive ? auth->interactive_timeout_ms : SK_POLKIT_TIMEOUT_MS, NULL,
                           sk_auth_on_polkit_reply, g_steal_pointer(&req));
}

/* The uid of a bus client, asked of the bus once per unique name. */
static gboolean
sk_auth_sender_uid(SkAuth *auth, GDBusConnection *bus, const char *sender, guint32 *uid,
                   GError **error)
{
    GHashTable *cache = auth->uids;
    g_autoptr(GVariant) reply = NULL;
    gpointer cached;

    if (g_hash_table_lookup_extended(cache, sender, NULL, &cached)) {
        *uid = GPOINTER_TO_UINT(cached);
        return TRUE;
    }
    /* Blocking, on the main thread: once per client, a question to the bus daemon itself. */
    reply = g_dbus_connection_call_sync(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                        "org.freedesktop.DBus", "GetConnectionUnixUser",
                                        g_variant_new("(s)", sender), G_VARIANT_TYPE("(u)"),
                                        G_DBUS_CALL_FLAGS_NONE, 5000, NULL, error);
    if (!reply)
        return FALSE;
    g_variant_get(reply, "(u)", uid);
    if (g_hash_table_size(cache) >= SK_UID_CACHE_MAX)
        g_hash_table_remove_all(cache);
    g_hash_table_insert(cache, g_strdup(sender), GUINT_TO_POINTER(*uid));
    return TRUE;
}

/* TRUE when the caller of @invocation has our uid; else replies NotAuthorized. */
static gboolean
sk_auth_own_uid(SkAuth *auth, GDBusMethodInvocation *invocation)
{
    const char *sender = g_dbus_method_invocation_get_sender(invocation);
    g_autoptr(GError) error = NULL;
    g_autoptr(GError) refusal = NULL;
    guint32 uid = G_MAXUINT32;

    /* A peer-to-peer connection has no sender and no one else on it. */
    if (!sender)
        return TRUE;
    if (sk_auth_sender_uid(auth, g_dbus_method_invocation_get_connection(invocation), sender, &uid,
                           &error) &&
        uid == (guint32)getuid())
        return TRUE;
    if (error)
        refusal = g_error_new(SK_ERROR, SK_ERROR_NOT_AUTHORIZED,
                              "cannot tell who is calling (%s); refusing", error->message);
    else
        refusal = g_error_new(SK_ERROR, SK_ERROR_NOT_AUTHORIZED,
                              "this slotkeeperd serves its own user (uid %u) only, not uid %u; "
                              "use the system service for other users",
                              (guint)getuid(), (guint)uid);
    g_info("refused %s from %s: %s", g_dbus_method_invocation_get_method_name(invocation), sender,
           refusal->message);
    sk_dbus_return_error(invocation, refusal);
    return FALSE;
}

/* A handle-* signal's first handler, whatever the method's arguments (the invocation is always
 * the first): returning TRUE ends the emission, so a refused call reaches no other handler. */
static void
sk_auth_guard_marshal(GClosure *closure, GValue *return_value, guint n_param_values,
                      const GValue *param_values, gpointer invocation_hint, gpointer marshal_data)
{
    GDBusMethodInvocation *invocation = g_value_get_object(&param_values[1]);
    gboolean refused = !sk_auth_own_uid(closure->data, invocation);

    if (return_value)
        g_value_set_boolean(return_value, refused);
}

/* Not g-authorize-method: with a handler there, GDBus takes every call to a thread of its own
 * and back to the main thread, which cost 0.2 ms per call (docs/performance.md). */
void
sk_auth_guard_skeleton(SkAuth *auth, GDBusInterfaceSkeleton *skeleton)
{
    g_autofree GType *ifaces = NULL;
    guint n_ifaces = 0;
    guint n_guarded = 0;

    if (auth->polkit)
        return;
    ifaces = g_type_interfaces(G_OBJECT_TYPE(skeleton), &n_ifaces);
    for (guint i = 0; i < n_ifaces; i++) {
        g_autofree guint *ids = NULL;
        guint n_ids = 0;

        ids = g_signal_list_ids(ifaces[i], &n_ids);
        for (guint j = 0; j < n_ids; j++) {
            GClosure *closure;

            if (!g_str_has_prefix(g_signal_name(ids[j]), "handle-"))
                continue;
            closure = g_closure_new_simple(sizeof(GClosure), auth);
            g_closure_set_marshal(closure, sk_auth_guard_marshal);
            g_signal_connect_closure_by_id(skeleton, ids[j], 0, closure, FALSE);
            n_guarded++;
        }
    }
    /* A skeleton without methods to guard would be a mistake here, not a policy. */
    g_assert(n_guarded > 0);
}

SkAuth *
sk_auth_new(gboolean polkit, guint interactive_timeout_seconds)
{
    SkAuth *auth = g_new0(SkAuth, 1);

    auth->polkit = polkit;
    auth->interactive_timeout_ms = (int)MIN(interactive_timeout_seconds, 3600u) * 1000;
    auth->uids = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, NULL);
    return auth;
}

void
sk_auth_free(SkAuth *auth)
{
    if (!auth)
        return;
    g_hash_table_destroy(auth->uids);
    g_free(auth);
}

gboolean
sk_auth_uses_polkit(SkAuth *auth)
{
    return auth->polkit;
}
