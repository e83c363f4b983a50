/* slotkeeper CLI: the online verbs, plain GDBus calls to slotkeeperd. The interface is the one in
 * dbus/org.slotkeeper.SlotKeeper1.xml; the CLI does not link any daemon code. */
#pragma once

#include <glib.h>

#include "sk-cli-dbus.h"
#include "sk-cli-offline.h"

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
/* Prints events as they come, until SIGINT or SIGTERM; @output is then empty. */
gboolean sk_cli_verb_monitor(const SkCliGlobals *globals, int argc, char **argv, char **output,
                             GError **error);

/* The online forms of plan and slots, reached when a DOMAIN replaces --domain-xml; @globals
 * already holds the options given after the verb. */
gboolean sk_cli_online_plan(const SkCliGlobals *globals, const char *domain,
                            const char *device_path, const SkCliAffect *affect, char **output,
                            GError **error);
gboolean sk_cli_online_slots(const SkCliGlobals *globals, const char *domain, gboolean inactive,
                             char **output, GError **error);

G_END_DECLS
