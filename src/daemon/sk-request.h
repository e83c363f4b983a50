/* slotkeeperd: what a client asks of the service and what it gets back, in plain C - no bus,
 * no libvirt. The D-Bus server builds requests from method arguments and turns results into
 * replies; the service core runs them. */
#pragma once

#include <glib.h>

#include "sk-device.h"
#include "sk-metadata.h"
#include "sk-planner.h"
#include "sk-topology.h"

G_BEGIN_DECLS

typedef enum {
    SK_REQUEST_ATTACH,
    SK_REQUEST_DETACH,
    SK_REQUEST_PLAN,
    SK_REQUEST_TOPOLOGY, /* GetSlots, GetTopology */
    SK_REQUEST_SET_POLICY,
    SK_REQUEST_RECONCILE,
} SkRequestKind;

/* What a client asked for, in virsh terms (neither live nor config means "current"). */
typedef struct {
    gboolean live;
    gboolean config;
    gboolean has_hotplug_require;
    gboolean hotplug_require;
    gboolean inactive; /* topology: the persistent definition */
} SkOpOptions;

typedef struct {
    SkRequestKind kind;
    char *xml; /* attach, detach, plan: the device XML */
    SkOpOptions opts;
    SkMetadata *policy; /* set-policy: the has_* fields say what changes */
} SkRequest;

/* "attach-device", "detach-device", "plan", "slots", "policy", "reconcile": the verb as
 * clients, polkit rules and logs name it. */
const char *sk_request_kind_to_verb(SkRequestKind kind);
/* Whether the request changes the domain (and so needs authorization). */
gboolean sk_request_kind_mutates(SkRequestKind kind);

SkRequest *sk_request_new(SkRequestKind kind);
void sk_request_free(SkRequest *request);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkRequest, sk_request_free)

typedef struct {
    SkRequestKind kind;
    char *device_xml; /* attach: what was given to libvirt, with its <address> */
    char *address;    /* attach: "0000:05:00.0", "" when the device takes no PCI slot */
    SkPlan *plan;     /* plan */
    SkDevice *device; /* plan: the classified device */
    gboolean live;    /* plan: the definitions it affects, resolved */
    gboolean config;
    SkTopology *topology; /* topology */
} SkResult;

SkResult *sk_result_new(SkRequestKind kind);
void sk_result_free(SkResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkResult, sk_result_free)

G_END_DECLS
