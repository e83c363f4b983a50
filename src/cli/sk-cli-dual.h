/* slotkeeper CLI: the verbs with an offline and an online form - plan and slots work on a
 * DOMAIN through slotkeeperd or on --domain-xml files; reserve is offline only. Both forms
 * print the same dictionaries with the same renderer. */
#pragma once

#include <glib.h>

#include "sk-cli.h"

G_BEGIN_DECLS

gboolean sk_cli_verb_plan(const SkCliGlobals *globals, int argc, char **argv, char **output,
                          GError **error);
gboolean sk_cli_verb_reserve(const SkCliGlobals *globals, int argc, char **argv, char **output,
                             GError **error);
gboolean sk_cli_verb_slots(const SkCliGlobals *globals, int argc, char **argv, char **output,
                           GError **error);

G_END_DECLS
