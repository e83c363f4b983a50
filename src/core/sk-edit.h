/* slotkeeper: applying a plan to a domain XML - additions only, nothing existing moves. */
#pragma once

#include <glib.h>
#include <libxml/tree.h>

#include "sk-device.h"
#include "sk-planner.h"

G_BEGIN_DECLS

/* A new document: a copy of @domain with the plan's controllers added after the last existing
 * controller, then the companions that go into the persistent definition and, when @dev is
 * given, the device with the plan's address (PCI, or the drive address naming its companion). */
xmlDoc *sk_edit_apply_plan(xmlDoc *domain, const SkPlan *plan, const SkDevice *dev, GError **error);
/* The device element to give libvirt: @dev with the plan's PCI or drive address. */
char *sk_edit_device_xml(const SkDevice *dev, const SkPlan *plan);
/* A companion's <controller> element, with its planned PCI address when it has one. */
char *sk_edit_companion_xml(const SkCompanion *comp);
/* The <controller> element libvirt would accept for @ctrl. */
xmlNode *sk_edit_new_controller_node(const SkNewController *ctrl);
/* The same element as text, for virDomainAttachDeviceFlags. */
char *sk_edit_controller_xml(const SkNewController *ctrl);

G_END_DECLS
