/* slotkeeperd: libvirt helpers. */
#include "sk-virt.h"

#include <libvirt/virterror.h>
#include <stdlib.h>

#include "sk-error.h"

static SkErrorCode
sk_virt_error_code(int code)
{
    switch (code) {
    case VIR_ERR_NO_DOMAIN:
        return SK_ERROR_NO_SUCH_DOMAIN;
    case VIR_ERR_NO_CONNECT:
    case VIR_ERR_INVALID_CONN:
    case VIR_ERR_RPC:
    case VIR_ERR_SYSTEM_ERROR:
    case VIR_ERR_AGENT_UNRESPONSIVE:
        return SK_ERROR_UNAVAILABLE;
    case VIR_ERR_AUTH_FAILED:
    case VIR_ERR_AUTH_CANCELLED:
    case VIR_ERR_ACCESS_DENIED:
    case VIR_ERR_OPERATION_DENIED:
        return SK_ERROR_NOT_AUTHORIZED;
    case VIR_ERR_NO_SUPPORT:
    case VIR_ERR_OPERATION_UNSUPPORTED:
    case VIR_ERR_CONFIG_UNSUPPORTED:
        return SK_ERROR_NOT_SUPPORTED;
    case VIR_ERR_XML_ERROR:
    case VIR_ERR_XML_DETAIL:
    case VIR_ERR_DEVICE_MISSING:
        return SK_ERROR_INVALID_DEVICE;
    case VIR_ERR_INVALID_ARG:
        return SK_ERROR_INVALID_ARGUMENT;
    default:
        return SK_ERROR_FAILED;
    }
}

gboolean
sk_virt_set_error(GError **error, const char *what)
{
    virErrorPtr err = virGetLastError();
    SkErrorCode code = err ? sk_virt_error_code(err->code) : SK_ERROR_FAILED;
    const char *msg = err && err->message ? err->message : "unknown libvirt error";

    if (what)
        g_set_error(error, SK_ERROR, code, "%s: %s", what, msg);
    else
        g_set_error_literal(error, SK_ERROR, code, msg);
    return FALSE;
}

const char *
sk_virt_state_to_string(int state)
{
    switch (state) {
    case VIR_DOMAIN_RUNNING:
        return "running";
    case VIR_DOMAIN_BLOCKED:
        return "blocked";
    case VIR_DOMAIN_PAUSED:
        return "paused";
    case VIR_DOMAIN_SHUTDOWN:
        return "shutting-down";
    case VIR_DOMAIN_SHUTOFF:
        return "shut-off";
    case VIR_DOMAIN_CRASHED:
        return "crashed";
    case VIR_DOMAIN_PMSUSPENDED:
        return "pmsuspended";
    default:
        return "unknown";
    }
}

char *
sk_virt_get_xml(virDomainPtr dom, gboolean inactive, GError **error)
{
    unsigned int flags = inactive ? VIR_DOMAIN_XML_INACTIVE | VIR_DOMAIN_XML_SECURE : 0;
    char *xml = virDomainGetXMLDesc(dom, flags);
    char *copy;

    if (!xml) {
        sk_virt_set_error(error, inactive ? "cannot read the persistent definition"
                                          : "cannot read the running definition");
        return NULL;
    }
    copy = g_strdup(xml);
    free(xml);
    return copy;
}
