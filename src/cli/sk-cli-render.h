/* slotkeeper CLI: the one renderer. Everything the CLI prints about plans, PCI trees and
 * domains comes from the wire dictionaries of sk-wire.h - received from slotkeeperd or built
 * offline from files - so both forms of a verb print the same text and the same JSON. Every
 * function returns the whole output, ending in a newline. */
#pragma once

#include <glib.h>

#include "sk-cli.h"

G_BEGIN_DECLS

/* --json: @value as pretty JSON; with @snake, dictionary keys in D-Bus style
 * ("FreeHotplugSlots") become JSON style ("free_hotplug_slots"). */
char *sk_cli_render_json(GVariant *value, gboolean snake);
/* The same on one line, keys in JSON style (monitor --json: one object per line). */
char *sk_cli_render_json_line(GVariant *value);

/* A plan (sk_wire_plan), accepted or refused, as text. */
char *sk_cli_render_plan(GVariant *plan, const SkCliGlobals *g);
/* A refused plan as the error the CLI exits with: "message; remedy" (code from its name). */
void sk_cli_render_refusal(GVariant *plan, GError **error);
/* A reserve plan (sk_wire_plan plus free_hotplug_slots) as text. */
char *sk_cli_render_reserve(GVariant *plan, const SkCliGlobals *g);
/* A PCI tree (sk_wire_topology) as text. */
char *sk_cli_render_topology(GVariant *topology, const SkCliGlobals *g);
/* Domain objects' properties (a{sv} each, D-Bus property names plus ObjectPath) as the list
 * table, or JSON. */
char *sk_cli_render_domains(GPtrArray *domains, const SkCliGlobals *g);

/* An error as --json prints it (sk_wire_error): SK_ERROR codes keep their name, usage errors
 * are InvalidArgument, the rest Failed or Unavailable. */
char *sk_cli_render_error_json(const GError *error);

/* "FreeHotplugSlotsNextBoot" -> "free_hotplug_slots_next_boot", "UUID" -> "uuid". */
char *sk_cli_snake(const char *name);
/* A property value as text: yes/no, plain strings and numbers, "2 pcie, 0 pci" for a{su}. */
char *sk_cli_value_text(GVariant *value);

G_END_DECLS
