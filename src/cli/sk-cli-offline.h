/* slotkeeper CLI: the offline verbs (plan, reserve, slots) that work on domain XML files. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* CLI-only errors; everything else comes from SK_ERROR or G_OPTION_ERROR. */
#define SK_CLI_ERROR (sk_cli_error_quark())

typedef enum {
    SK_CLI_ERROR_USAGE,        /* bad command line: exit 2 with a hint to --help */
    SK_CLI_ERROR_NEEDS_DAEMON, /* slotkeeperd is not there: exit 1 */
    SK_CLI_ERROR_FAILED,       /* anything else: exit 1 */
} SkCliErrorCode;

GQuark sk_cli_error_quark(void);

/* Options given before the verb. */
typedef struct {
    gboolean json;
    gboolean system;
    gboolean user;
    gboolean no_ask_password; /* no interactive polkit authentication */
} SkCliGlobals;

/* Folds the global options given before the verb into @local (given after it); a usage
 * error when --system and --user meet. */
gboolean sk_cli_globals_merge(SkCliGlobals *local, const SkCliGlobals *globals, GError **error);
/* Sets a usage error (exit status 2) and returns FALSE. */
gboolean sk_cli_usage_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* A verb: parses its own options from @argv (argv[0] is the verb name) and, on success, returns
 * the complete text for stdout in @output, so nothing is printed when it fails. */
typedef gboolean (*SkCliVerbFunc)(const SkCliGlobals *globals, int argc, char **argv, char **output,
                                  GError **error);

gboolean sk_cli_verb_plan(const SkCliGlobals *globals, int argc, char **argv, char **output,
                          GError **error);
gboolean sk_cli_verb_reserve(const SkCliGlobals *globals, int argc, char **argv, char **output,
                             GError **error);
gboolean sk_cli_verb_slots(const SkCliGlobals *globals, int argc, char **argv, char **output,
                           GError **error);

G_END_DECLS
