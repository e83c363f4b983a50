/* slotkeeper: the wire schema - the one mapping of plans, PCI trees and errors to a{sv}
 * dictionaries. slotkeeperd sends these over D-Bus; the CLI builds the very same dictionaries
 * offline from files and renders either as text or JSON, so both forms of a verb print the
 * same keys, types and values. Keys are documented in docs/dbus-api.md and slotkeeper(1). */
#pragma once

#include <glib.h>

#include "sk-device.h"
#include "sk-error.h"
#include "sk-planner.h"
#include "sk-topology.h"

G_BEGIN_DECLS

/* Not in the interface XML (which names interfaces, not where they live): the bus name and
 * object paths of DESIGN.md. */
#define SK_WIRE_BUS_NAME "org.slotkeeper.SlotKeeper1"
#define SK_WIRE_MANAGER_PATH "/org/slotkeeper/SlotKeeper1"
#define SK_WIRE_DOMAIN_PATH_PREFIX SK_WIRE_MANAGER_PATH "/domain/_"
#define SK_WIRE_ERROR_PREFIX SK_WIRE_BUS_NAME ".Error."

/* /org/slotkeeper/SlotKeeper1/domain/_<uuid with '-' as '_'> */
char *sk_wire_domain_path(const char *uuid);

/* "org.slotkeeper.SlotKeeper1.Error.NoFreeSlot" */
char *sk_wire_error_name(SkErrorCode code);
/* The code of a full or short ("NoFreeSlot") error name; FALSE when it is none of ours. */
gboolean sk_wire_error_code(const char *name, SkErrorCode *code);

/* A plan (attach or reserve): ok b, effect s, address s (when placed), controllers aa{sv},
 * reasons as, live b, config b; with @dev: device s (description), element s, model s,
 * connection s (pcie, pci, pci-or-pcie, none, or a controller's upstream model),
 * connection_description s, no_pci_reason s (when it takes no PCI slot); refused: error s,
 * message s, remedy s. Floating. */
GVariant *sk_wire_plan(const SkPlan *plan, const SkDevice *dev, gboolean live, gboolean config);

/* A reserve plan for @topo (offline reserve): sk_wire_plan's keys, plus free_hotplug_slots
 * a{su} (now) and short_of_policy b (the policy cannot be met). Floating. */
GVariant *sk_wire_reserve(const SkPlan *plan, const SkTopology *topo);

/* One a{sv} per bus of @topo (GetSlots): index u, model s, model_name s, address s, chassis i,
 * port i, hotplug b, min_slot u, max_slot u, accepts as, occupants aa{sv}, free_slots au.
 * Floating. */
GVariant *sk_wire_buses(const SkTopology *topo);

/* The whole PCI tree of one definition (GetTopology; offline slots): name s, uuid s, arch s,
 * machine s, definition s ("running" or "persistent"), buses aa{sv}, free_hotplug_slots a{su},
 * unaddressed u. Floating. */
GVariant *sk_wire_topology(const SkTopology *topo);

/* {"pcie": pcie, "pci": pci}. Floating. */
GVariant *sk_wire_free_slots(guint pcie, guint pci);

/* Registers SK_ERROR with GDBus, so that replies carry org.slotkeeper.SlotKeeper1.Error.*
 * names and clients get SK_ERROR codes back. Idempotent; call before threads start. */
void sk_wire_register_dbus_errors(void);

/* A failure as a dictionary (CLI --json): ok b (false), error s (full D-Bus name), message s,
 * and remedy s when given. Floating. */
GVariant *sk_wire_error(SkErrorCode code, const char *message, const char *remedy);

G_END_DECLS
