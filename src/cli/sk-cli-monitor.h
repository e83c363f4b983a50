/* slotkeeper CLI: monitor - slotkeeperd's events, domains coming and going and their property
 * changes, one line each, until SIGINT or SIGTERM. */
#pragma once

#include <glib.h>

#include "sk-cli.h"

G_BEGIN_DECLS

/* Prints events as they come; @output is then empty. */
gboolean sk_cli_verb_monitor(const SkCliGlobals *globals, int argc, char **argv, char **output,
                             GError **error);

G_END_DECLS
