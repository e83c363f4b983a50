/* slotkeeper CLI: human text and JSON renderings of plans and PCI topologies. Every function
 * returns the whole output as one newly allocated string ending in a newline. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>

#include "sk-device.h"
#include "sk-planner.h"
#include "sk-topology.h"

G_BEGIN_DECLS

/* A left-aligned text table; columns are as wide as their widest cell. */
typedef struct _SkCliTable SkCliTable;

SkCliTable *sk_cli_table_new(guint n_cols);
void sk_cli_table_free(SkCliTable *table);
/* Adds one row of exactly n_cols strings; NULL cells print empty. */
void sk_cli_table_add(SkCliTable *table, ...);
void sk_cli_table_render(const SkCliTable *table, const char *indent, GString *out);

G_DEFINE_AUTOPTR_CLEANUP_FUNC(SkCliTable, sk_cli_table_free)

/* @root as JSON text ending in a newline; pretty: indented over several lines. */
char *sk_cli_json_node_to_string(JsonNode *root, gboolean pretty);

/* What kind of slot the device plugs into: "pcie", "pci", "pci-or-pcie", "none", or for a PCI
 * controller its upstream kind ("pcie-root-port", ...). */
const char *sk_cli_connection_kind(const SkDevice *dev);

/* plan: @live and @config say which definitions the plan affects. */
char *sk_cli_plan_to_text(const SkPlan *plan, const SkDevice *dev, gboolean live, gboolean config);
char *sk_cli_plan_to_json(const SkPlan *plan, const SkDevice *dev);

/* reserve: @topo is the persistent definition the plan was made for. */
char *sk_cli_reserve_to_text(const SkPlan *plan, const SkTopology *topo);
char *sk_cli_reserve_to_json(const SkPlan *plan, const SkTopology *topo);

/* slots: the PCI tree. */
char *sk_cli_slots_to_text(const SkTopology *topo);
char *sk_cli_slots_to_json(const SkTopology *topo);

G_END_DECLS
