/* slotkeeper CLI: the offline forms of plan, reserve and slots - domain XML files (virsh
 * dumpxml) through the core planner, printed by the one renderer. Nothing talks to libvirt. */
#pragma once

#include <glib.h>

#include "sk-cli.h"

G_BEGIN_DECLS

/* plan --domain-xml FILE [--config-xml FILE2] DEVICE.xml: @args parsed by the verb. A refused
 * plan fails, leaving its --json form in @output. */
gboolean sk_cli_offline_plan(const SkCliArgs *args, char **output, GError **error);
/* reserve --domain-xml FILE */
gboolean sk_cli_offline_reserve(const SkCliArgs *args, char **output, GError **error);
/* slots --domain-xml FILE */
gboolean sk_cli_offline_slots(const SkCliArgs *args, char **output, GError **error);

G_END_DECLS
