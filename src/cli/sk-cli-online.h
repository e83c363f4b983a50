/* slotkeeper CLI: the verbs that ask slotkeeperd, through its generated proxies, and print
 * what it answers with the one renderer. */
#pragma once

#include <glib.h>

#include "sk-cli.h"

G_BEGIN_DECLS

gboolean sk_cli_verb_list(const SkCliGlobals *globals, int argc, char **argv, char **output,
                          GError **error);
gboolean sk_cli_verb_attach_device(const SkCliGlobals *globals, int argc, char **argv,
                                   char **output, GError **error);
gboolean sk_cli_verb_detach_device(const SkCliGlobals *globals, int argc, char **argv,
                                   char **output, GError **error);
gboolean sk_cli_verb_policy(const SkCliGlobals *globals, int argc, char **argv, char **output,
                            GError **error);
gboolean sk_cli_verb_reconcile(const SkCliGlobals *globals, int argc, char **argv, char **output,
                               GError **error);
gboolean sk_cli_verb_status(const SkCliGlobals *globals, int argc, char **argv, char **output,
                            GError **error);

/* The online forms of plan and slots, for a DOMAIN instead of --domain-xml: @args parsed by
 * the verb. A refused plan fails, leaving its --json form in @output. */
gboolean sk_cli_online_plan(const SkCliArgs *args, char **output, GError **error);
gboolean sk_cli_online_slots(const SkCliArgs *args, char **output, GError **error);

G_END_DECLS
