/* slotkeeper: the command-line client. A verb table in the style of machinectl; each verb parses
 * its own options. Offline verbs work on domain XML files; the others call slotkeeperd. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>

#include <glib.h>

#include "sk-cli-dual.h"
#include "sk-cli-monitor.h"
#include "sk-cli-online.h"
#include "sk-cli-render.h"

#ifndef SK_VERSION
#define SK_VERSION "unknown"
#endif

#define SK_EXIT_FAILURE 1
#define SK_EXIT_USAGE 2

typedef struct {
    const char *name;
    const char *synopsis; /* what follows the verb name */
    const char *summary;
    SkCliVerbFunc run;
    gboolean online; /* talks to slotkeeperd */
} SkCliVerb;

static const SkCliVerb sk_cli_verbs[] = {
    { "list", "[-q] [--no-legend]", "managed domains and their free hotplug slots",
      sk_cli_verb_list, TRUE },
    { "slots", "DOMAIN [--inactive] [--no-legend]",
      "the PCI tree: controllers, slots, occupants, hotplug", sk_cli_verb_slots, TRUE },
    { "plan",
      "DOMAIN DEVICE.xml [--live] [--config] [--current] [--persistent] "
      "[--hotplug-require yes|no]",
      "what attach-device would do, and why; changes nothing", sk_cli_verb_plan, TRUE },
    { "attach-device",
      "DOMAIN DEVICE.xml [--live] [--config] [--current] [--persistent] "
      "[--hotplug-require yes|no]",
      "attach a device at a planned address and top the spares up", sk_cli_verb_attach_device,
      TRUE },
    { "detach-device", "DOMAIN DEVICE.xml [--live] [--config] [--current] [--persistent]",
      "detach a device", sk_cli_verb_detach_device, TRUE },
    { "policy", "DOMAIN [--spare-ports N] [--legacy-bridge lazy|eager|never] [--managed yes|no]",
      "show or change a domain's slot policy", sk_cli_verb_policy, TRUE },
    { "reconcile", "[DOMAIN]", "top up spare hotplug ports now", sk_cli_verb_reconcile, TRUE },
    { "monitor", "", "stream slot and domain events", sk_cli_verb_monitor, TRUE },
    { "status", "", "daemon, libvirt URI, connection state", sk_cli_verb_status, TRUE },
    /* The offline forms; "plan" and "slots" choose by --domain-xml. */
    { "plan", "--domain-xml FILE [--config-xml FILE2] DEVICE.xml [OPTION...]",
      "the same plan from domain XML files", sk_cli_verb_plan, FALSE },
    { "reserve", "--domain-xml FILE [--spare-ports N] [--print-xml] [OPTION...]",
      "controllers to add so that spare hotplug ports are ready", sk_cli_verb_reserve, FALSE },
    { "slots", "--domain-xml FILE", "the PCI tree of a domain XML file", sk_cli_verb_slots, FALSE },
};

static const SkCliVerb *
sk_cli_find_verb(const char *name)
{
    for (guint i = 0; i < G_N_ELEMENTS(sk_cli_verbs); i++) {
        if (g_str_equal(sk_cli_verbs[i].name, name))
            return &sk_cli_verbs[i];
    }
    return NULL;
}

static void
sk_cli_print_verbs(GString *out, gboolean online)
{
    for (guint i = 0; i < G_N_ELEMENTS(sk_cli_verbs); i++) {
        const SkCliVerb *v = &sk_cli_verbs[i];

        if (v->online == online)
            g_string_append_printf(out, "  %s%s%s\n      %s\n", v->name, v->synopsis[0] ? " " : "",
                                   v->synopsis, v->summary);
    }
}

static void
sk_cli_print_help(void)
{
    GString *out = g_string_new(NULL);

    g_string_append(out, "Usage:\n"
                         "  slotkeeper [--system|--user] [--json] [--no-ask-password] VERB "
                         "[OPTION...]\n"
                         "\n"
                         "Keeps hotplug-capable PCI(e) slots ready in libvirt/QEMU guests and "
                         "plans where\nhotplugged devices go.\n"
                         "\n"
                         "Verbs that talk to slotkeeperd (system bus by default, session bus with "
                         "--user):\n");
    sk_cli_print_verbs(out, TRUE);
    g_string_append(out, "\nOffline verbs (read domain XML files; no daemon needed):\n");
    sk_cli_print_verbs(out, FALSE);
    g_string_append(out, "\n"
                         "Global options:\n"
                         "  -h, --help         Show this help\n"
                         "  --version          Show the version\n"
                         "  --system           Talk to slotkeeperd on the system bus (default)\n"
                         "  --user             Talk to slotkeeperd on the session bus\n"
                         "  --json             Print JSON instead of text (errors too)\n"
                         "  -q, --quiet        Print only the data: no notes, no legends\n"
                         "  --no-legend        Print tables without their header and notes\n"
                         "  --no-ask-password  Do not ask for a password to authorize changes\n"
                         "\n"
                         "Run 'slotkeeper VERB --help' for a verb's options.\n");
    fputs(out->str, stdout);
    g_string_free(out, TRUE);
}

/* One line on stderr, whatever the message contains. */
static int
sk_cli_fail(int status, const char *message, const char *hint_verb)
{
    g_autofree char *line = g_strdup(message);

    g_strdelimit(line, "\r\n", ' ');
    g_strstrip(line);
    if (status == SK_EXIT_USAGE)
        fprintf(stderr, "slotkeeper: %s (see 'slotkeeper %s%s--help')\n", line,
                hint_verb ? hint_verb : "", hint_verb ? " " : "");
    else
        fprintf(stderr, "slotkeeper: %s\n", line);
    return status;
}

/* --json anywhere on the command line: a failure is printed as JSON too. */
static gboolean
sk_cli_wants_json(const SkCliGlobals *globals, int argc, char **argv)
{
    if (globals->json)
        return TRUE;
    for (int i = 1; i < argc && argv[i]; i++) {
        if (g_str_equal(argv[i], "--"))
            break;
        if (g_str_equal(argv[i], "--json"))
            return TRUE;
    }
    return FALSE;
}

static int
sk_cli_run_verb(const SkCliVerb *verb, const SkCliGlobals *globals, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *output = NULL;
    /* Before the verb's option parser reorders @argv. */
    gboolean json = sk_cli_wants_json(globals, argc, argv);

    if (!verb->run(globals, argc, argv, &output, &error)) {
        gboolean usage = error->domain == G_OPTION_ERROR ||
                         g_error_matches(error, SK_CLI_ERROR, SK_CLI_ERROR_USAGE);

        /* What a failure still has to say on stdout: a refused plan's dictionary, a status;
         * with --json at least the error as an object. */
        if (!output && json)
            output = sk_cli_render_error_json(error);
        if (output) {
            fputs(output, stdout);
            fflush(stdout);
        }
        return sk_cli_fail(usage ? SK_EXIT_USAGE : SK_EXIT_FAILURE, error->message, verb->name);
    }
    /* The whole output exists before the first byte goes out, so failures print nothing. */
    if (fputs(output, stdout) == EOF || fflush(stdout) != 0) {
        g_autofree char *message = g_strdup_printf("cannot write output: %s", g_strerror(errno));
        return sk_cli_fail(SK_EXIT_FAILURE, message, NULL);
    }
    return 0;
}

int
main(int argc, char **argv)
{
    SkCliGlobals globals = { 0 };
    const SkCliVerb *verb = NULL;
    g_autofree char *prgname = NULL;
    int i;

    setlocale(LC_ALL, "");

    /* Global options come before the verb; the verb's GOptionContext parses the rest. */
    for (i = 1; i < argc; i++) {
        const char *arg = argv[i];

        if (arg[0] != '-')
            break;
        if (g_str_equal(arg, "--")) {
            i++;
            break;
        }
        if (g_str_equal(arg, "--help") || g_str_equal(arg, "-h") || g_str_equal(arg, "-?")) {
            sk_cli_print_help();
            return 0;
        }
        if (g_str_equal(arg, "--version")) {
            printf("slotkeeper %s\n", SK_VERSION);
            return 0;
        }
        if (g_str_equal(arg, "--json")) {
            globals.json = TRUE;
        } else if (g_str_equal(arg, "--quiet") || g_str_equal(arg, "-q")) {
            globals.quiet = TRUE;
        } else if (g_str_equal(arg, "--no-legend")) {
            globals.no_legend = TRUE;
        } else if (g_str_equal(arg, "--system")) {
            globals.system = TRUE;
        } else if (g_str_equal(arg, "--user")) {
            globals.user = TRUE;
        } else if (g_str_equal(arg, "--no-ask-password")) {
            globals.no_ask_password = TRUE;
        } else {
            g_autofree char *message = g_strdup_printf("unknown option '%s'", arg);
            return sk_cli_fail(SK_EXIT_USAGE, message, NULL);
        }
    }
    if (globals.system && globals.user)
        return sk_cli_fail(SK_EXIT_USAGE, "--system and --user are mutually exclusive", NULL);
    if (i >= argc) {
        g_autoptr(GError) error =
            g_error_new_literal(SK_CLI_ERROR, SK_CLI_ERROR_USAGE, "no verb given");

        if (globals.json) {
            g_autofree char *json = sk_cli_render_error_json(error);

            fputs(json, stdout);
        }
        return sk_cli_fail(SK_EXIT_USAGE, error->message, NULL);
    }

    if (g_str_equal(argv[i], "help")) {
        if (i + 1 >= argc) {
            sk_cli_print_help();
            return 0;
        }
        /* "help VERB" is "VERB --help". */
        verb = sk_cli_find_verb(argv[i + 1]);
        if (verb) {
            char *help_argv[] = { argv[i + 1], (char *)"--help", NULL };
            prgname = g_strdup_printf("slotkeeper %s", verb->name);
            g_set_prgname(prgname);
            return sk_cli_run_verb(verb, &globals, 2, help_argv);
        }
        i++;
    }
    verb = sk_cli_find_verb(argv[i]);
    if (!verb) {
        g_autofree char *message = g_strdup_printf("unknown verb '%s'", argv[i]);
        return sk_cli_fail(SK_EXIT_USAGE, message, NULL);
    }
    /* GOption prints "Usage: <prgname> [OPTION…]"; make that read "slotkeeper plan". */
    prgname = g_strdup_printf("slotkeeper %s", verb->name);
    g_set_prgname(prgname);
    return sk_cli_run_verb(verb, &globals, argc - i, argv + i);
}
