/* slotkeeper: applying a plan to a domain XML - additions only, nothing existing moves. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "sk-device.h"
#include "sk-planner.h"

G_BEGIN_DECLS

/* A new document: a copy of @domain with the plan's controllers added after the last existing
 * controller and, when @dev is given, the device added with the plan's address. */
xmlDoc *sk_edit_apply_plan(xmlDoc *domain, const SkPlan *plan, const SkDevice *dev, GError **error);
/* The <controller> element libvirt would accept for @ctrl. */
xmlNode *sk_edit_new_controller_node(const SkNewController *ctrl);
/* The same element as text, for virDomainAttachDeviceFlags. */
char *sk_edit_controller_xml(const SkNewController *ctrl);

G_END_DECLS
