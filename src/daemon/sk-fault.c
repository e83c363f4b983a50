/* slotkeeperd: test-only fault injection (see sk-fault.h). */
#include "sk-fault.h"

#include <signal.h>
#include <string.h>

static char *sk_fault_at;     /* written once before the workers start */
static char *sk_fault_domain; /* NULL: any domain */

void
sk_fault_init(void)
{
    const char *value = g_getenv("SK_TEST_CRASH_AT");
    const char *at;

    g_clear_pointer(&sk_fault_at, g_free);
    g_clear_pointer(&sk_fault_domain, g_free);
    if (!value || !*value)
        return;
    at = strchr(value, '@');
    sk_fault_at = at ? g_strndup(value, (gsize)(at - value)) : g_strdup(value);
    sk_fault_domain = at ? g_strdup(at + 1) : NULL;
    g_warning("SK_TEST_CRASH_AT=%s: test-only fault injection, the service kills itself there",
              value);
}

void
sk_fault_point(const char *point, const char *domain)
{
    if (G_LIKELY(!sk_fault_at) || !g_str_equal(sk_fault_at, point))
        return;
    if (sk_fault_domain && g_strcmp0(sk_fault_domain, domain) != 0)
        return;
    g_message("SK_TEST_CRASH_AT: killing myself at %s", point);
    raise(SIGKILL);
}
