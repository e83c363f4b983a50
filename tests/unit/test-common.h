/* Shared fixture access and rule checks for the unit tests. */
#pragma once

#include <glib.h>
#include <glib/gstdio.h>
#include <string.h>

#include "sk-device.h"
#include "sk-edit.h"
#include "sk-error.h"
#include "sk-pci.h"
#include "sk-planner.h"
#include "sk-topology.h"
#include "sk-xml.h"

char *data_path(const char *name);
SkTopology *load(const char *name);
SkTopology *load_live(const char *name);
SkDevice *device_file(const char *name, const SkTopology *topo);
SkDevice *device_xml(const char *xml, const SkTopology *topo);
SkPciAddr A(guint bus, guint slot, guint fn);
void assert_addr(const SkPciAddr *got, SkPciAddr want);
SkPlanOptions opts_make(gboolean live, gboolean config, gboolean require);
void log_plan(const SkPlan *plan);
guint n_new(const SkPlan *plan, SkPciModel model);
const SkNewController *new_by_index(const SkPlan *plan, guint index);
const SkNewController *get_by_index(const SkPlan *plan, guint index);
const SkNewController *new_of_model(const SkPlan *plan, SkPciModel model);
SkTopology *apply(const SkTopology *topo, const SkPlan *plan, const SkDevice *dev);
gboolean is_port_model(SkPciModel m);
void expected_port_positions(const SkTopology *topo, guint n, SkPciAddr *out);
gboolean lowest_free_slot(const SkTopology *topo, guint bus_index, SkPciAddr *out);
void check_new_controllers(const SkTopology *topo, const SkPlan *plan);
void check_nothing_moved(const SkTopology *before, const SkTopology *after);
SkConnectFlags plan_flags(const SkPlan *plan, const SkDevice *dev);
void check_slot_ok(const SkTopology *topo, const SkPlan *plan, const SkDevice *dev,
                   gboolean hotplug);
SkPlan *plan_ok(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
                const SkPlanOptions *opts);
SkPlan *plan_refused(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
                     const SkPlanOptions *opts, SkErrorCode code);
void plan_error(const SkTopology *persistent, const SkTopology *live, const SkDevice *dev,
                const SkPlanOptions *opts, SkErrorCode code);
