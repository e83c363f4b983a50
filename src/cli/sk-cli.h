/* slotkeeper CLI: what every verb shares - the global options, the CLI's own errors, usage
 * errors, reading a device XML file. */
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

/* Options given before the verb (and accepted after it too). */
typedef struct {
    gboolean json;
    gboolean system;
    gboolean user;
    gboolean no_ask_password; /* no interactive polkit authentication */
    gboolean quiet;           /* -q: no legend or notes, only the data */
    gboolean no_legend;       /* tables without their header line */
} SkCliGlobals;

/* virsh's --live/--config/--current/--persistent and --hotplug-require, as given. */
typedef struct {
    gboolean live;
    gboolean config;
    gboolean current;
    gboolean persistent;
    const char *hotplug_require; /* NULL: the default */
} SkCliAffect;

/* Integer options keep this value when not given, so the policy default stays in force. */
#define SK_CLI_UNSET G_MININT

/* Every option any verb takes; each verb registers the entries it understands. */
typedef struct {
    SkCliGlobals g; /* the global options, given after the verb */
    char *domain_xml;
    char *config_xml;
    gboolean live;
    gboolean config;
    gboolean current;
    gboolean persistent;
    char *hotplug_require;
    int spare_ports;
    char *legacy_bridge;
    int root_port_cap;
    char *managed;
    gboolean print_xml;
    gboolean print_device_xml;
    gboolean inactive;
    char **rest; /* positional arguments */
} SkCliArgs;

#define SK_CLI_ARGS_INIT                                           \
    {                                                              \
        .spare_ports = SK_CLI_UNSET, .root_port_cap = SK_CLI_UNSET \
    }

void sk_cli_args_clear(SkCliArgs *args);
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(SkCliArgs, sk_cli_args_clear)

/* The flags as given. */
SkCliAffect sk_cli_args_affect(const SkCliArgs *args);
/* Parses @argv into @args with the global entries, the positional arguments and the entries
 * already added to @ctx, then folds @globals in. */
gboolean sk_cli_args_parse(SkCliArgs *args, GOptionContext *ctx, const SkCliGlobals *globals,
                           const char *summary, const char *description, int argc, char **argv,
                           GError **error);
/* The number of positional arguments. */
guint sk_cli_args_n_rest(const SkCliArgs *args);
/* --live, --config, --current, --persistent, and --hotplug-require when @hotplug_require. */
void sk_cli_add_affect_entries(GOptionContext *ctx, SkCliArgs *args, gboolean hotplug_require);
/* Usage errors for flags that exclude each other or values that are not yes/no. */
gboolean sk_cli_check_affect(const SkCliAffect *affect, GError **error);
/* Usage error unless @value is NULL, yes or no. */
gboolean sk_cli_check_yes_no(const char *option, const char *value, GError **error);

/* Folds the global options given before the verb into @local (given after it); a usage
 * error when --system and --user meet. */
gboolean sk_cli_globals_merge(SkCliGlobals *local, const SkCliGlobals *globals, GError **error);
/* The entries that put the global options into @g when given after the verb. */
void sk_cli_add_global_entries(GOptionContext *ctx, SkCliGlobals *g);

/* Sets a usage error (exit status 2) and returns FALSE. */
gboolean sk_cli_usage_error(GError **error, const char *format, ...) G_GNUC_PRINTF(2, 3);

/* Usage errors for the positional arguments DOMAIN DEVICE.xml (@rest, NULL-terminated): one
 * missing (which one), given the other way round (a file first, a name that is no file
 * second), one too many, or a DEVICE.xml that does not exist; @verb words the suggestion. */
gboolean sk_cli_check_domain_device(const char *verb, char *const *rest, GError **error);
/* The device XML in @path ('-': stdin), at most SK_XML_DEVICE_MAX_SIZE bytes. */
char *sk_cli_read_device(const char *path, GError **error);

/* A verb: parses its own options from @argv (argv[0] is the verb name) and, on success, returns
 * the complete text for stdout in @output, so nothing is printed when it fails. On failure it
 * may leave in @output what --json prints for the failure (a refused plan). */
typedef gboolean (*SkCliVerbFunc)(const SkCliGlobals *globals, int argc, char **argv, char **output,
                                  GError **error);

G_END_DECLS
