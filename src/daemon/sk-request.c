/* slotkeeperd: requests and results. */
#include "sk-request.h"

static const struct {
    const char *verb;
    gboolean mutates;
} sk_request_kinds[] = {
    [SK_REQUEST_ATTACH] = { "attach-device", TRUE },
    [SK_REQUEST_DETACH] = { "detach-device", TRUE },
    [SK_REQUEST_PLAN] = { "plan", FALSE },
    [SK_REQUEST_TOPOLOGY] = { "slots", FALSE },
    [SK_REQUEST_SET_POLICY] = { "policy", TRUE },
    [SK_REQUEST_RECONCILE] = { "reconcile", TRUE },
};

const char *
sk_request_kind_to_verb(SkRequestKind kind)
{
    return sk_request_kinds[kind].verb;
}

gboolean
sk_request_kind_mutates(SkRequestKind kind)
{
    return sk_request_kinds[kind].mutates;
}

SkRequest *
sk_request_new(SkRequestKind kind)
{
    SkRequest *request = g_new0(SkRequest, 1);

    request->kind = kind;
    return request;
}

void
sk_request_free(SkRequest *request)
{
    if (request == NULL)
        return;
    g_free(request->xml);
    g_clear_pointer(&request->policy, sk_metadata_free);
    g_free(request);
}

SkResult *
sk_result_new(SkRequestKind kind)
{
    SkResult *result = g_new0(SkResult, 1);

    result->kind = kind;
    return result;
}

void
sk_result_free(SkResult *result)
{
    if (result == NULL)
        return;
    g_free(result->device_xml);
    g_free(result->address);
    g_clear_pointer(&result->plan, sk_plan_free);
    g_clear_pointer(&result->device, sk_device_free);
    g_clear_pointer(&result->topology, sk_topology_free);
    g_free(result);
}
