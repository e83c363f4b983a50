/* slotkeeperd: the model - what the service does to one libvirt domain (read its definitions,
 * keep spares, plan, attach, detach, set policy). Blocking libvirt calls, GError, no D-Bus. */
#pragma once

#include <glib.h>
#include <libvirt/libvirt.h>

#include "sk-config.h"
#include "sk-device.h"
#include "sk-metadata.h"
#include "sk-planner.h"
#include "sk-topology.h"

G_BEGIN_DECLS

G_DEFINE_AUTOPTR_CLEANUP_FUNC(virDomain, virDomainFree)

/* What a client asked for, in virsh terms (neither live nor config means "current"). */
typedef struct {
    gboolean live;
    gboolean config;
    gboolean has_hotplug_require;
    gboolean hotplug_require;
    gboolean inactive; /* GetSlots: the persistent definition */
} SkOpOptions;

/* A snapshot of everything the Domain object shows. */
typedef struct {
    char *name;
    char *uuid;
    char *state;
    char *arch;
    char *machine;
    gboolean active;
    gboolean persistent;
    gboolean pci_machine;
    gboolean managed;
    SkPolicy policy;
    guint free_pcie;
    guint free_pci;
    guint free_pcie_next;
    guint free_pci_next;
    const char *legacy_chain; /* static: absent, next-boot, present */
    gboolean restart_pending;
} SkDomainInfo;

void sk_domain_info_free(SkDomainInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkDomainInfo, sk_domain_info_free)

/* Test-only fault injection, for the crash tests (tests/daemon/test_faults.py): with
 * SK_TEST_CRASH_AT=<point> in the environment at start-up the service kills itself with SIGKILL
 * when it reaches that point, and a restart must repair what the crash left. The points:
 *   attach-controllers-defined  the attach's new controllers are defined, the device is not
 *                               attached yet
 *   attach-recorded             the hotplug-require=no record is stored, the device is not
 *                               attached yet
 *   attach-attached             the device is attached (live and persistent, one libvirt call),
 *                               before the record's cleanup, the reply and the spare top-up
 *   reconcile-before-define     a spare top-up is about to be defined
 *   reconcile-defined           a spare top-up is defined, before its event and reply
 * SK_TEST_CRASH_AT=<point>@<domain name> limits it to that domain's operations (tests share
 * libvirtd with other users). Unset (always, outside tests) it costs a pointer comparison.
 * sk_fault_init() reads the variable; call it on the main thread before the workers start. */
void sk_fault_init(void);
void sk_fault_point(const char *point, virDomainPtr dom);

/* Sets @error from libvirt's last error (NoSuchDomain, Unavailable, NotAuthorized, ...),
 * prefixed with @what when given. Always returns FALSE. */
gboolean sk_virt_set_error(GError **error, const char *what);

/* The domain's state as a word ("running", "shut-off", ...). */
const char *sk_domain_state_to_string(int state);

SkDomainInfo *sk_domain_ops_info(virDomainPtr dom, const SkConfig *config, GError **error);

/* Tops the persistent definition up to the policy's spares. @summary receives what was added
 * (NULL when nothing changed). Unmanaged and transient domains are left alone. */
gboolean sk_domain_ops_reconcile(virDomainPtr dom, const SkConfig *config, char **summary,
                                 GError **error);

/* What AttachDevice would do. @dev receives the classified device. */
SkPlan *sk_domain_ops_plan(virDomainPtr dom, const SkConfig *config, const char *xml,
                           const SkOpOptions *opts, SkDevice **dev, GError **error);

/* Attaches with the planned explicit address; returns the device XML given to libvirt and sets
 * @address. A refused plan on a running guest still adds its controllers to the persistent
 * definition, and the NoFreeSlot error says so. */
char *sk_domain_ops_attach(virDomainPtr dom, const SkConfig *config, const char *xml,
                           const SkOpOptions *opts, char **address, GError **error);
gboolean sk_domain_ops_detach(virDomainPtr dom, const SkConfig *config, const char *xml,
                              const SkOpOptions *opts, GError **error);

/* The live (running) or, with @inactive or for a shut-off domain, the persistent topology. */
SkTopology *sk_domain_ops_topology(virDomainPtr dom, gboolean inactive, GError **error);

/* Stores the overrides set in @changes (has_* fields) in the domain's <metadata>. */
gboolean sk_domain_ops_set_policy(virDomainPtr dom, const SkMetadata *changes, GError **error);

G_END_DECLS
