/* slotkeeper: the command-line client. A verb table in the style of machinectl; each verb parses
 * its own options. This build has only the offline verbs, which work on domain XML files. */
#include <errno.h>
#include <locale.h>
#include <stdio.h>

#include <glib.h>

#include "sk-cli-offline.h"

#ifndef SK_VERSION
#define SK_VERSION "unknown"
#endif

#define SK_EXIT_FAILURE 1
#define SK_EXIT_USAGE 2

typedef struct {
    const char *name;
    const char *synopsis; /* what follows the verb name */
    const char *summary;
    SkCliVerbFunc run; /* NULL: the verb needs slotkeeperd */
} SkCliVerb;

static const SkCliVerb sk_cli_verbs[] = {
    { "plan", "--domain-xml FILE [--config-xml FILE2] DEVICE.xml [OPTION...]",
      "what attach-device would do, and why; changes nothing", sk_cli_verb_plan },
    { "reserve", "--domain-xml FILE [--spare-ports N] [--print-xml] [OPTION...]",
      "controllers to add so that spare hotplug ports are ready", sk_cli_verb_reserve },
    { "slots", "--domain-xml FILE [--json]", "the PCI tree: controllers, slots, occupants, hotplug",
      sk_cli_verb_slots },
    { "list", "", "managed domains and their free hotplug slots", NULL },
    { "attach-device",
      "DOMAIN DEVICE.xml [--live] [--config] [--current] [--persistent] "
      "[--hotplug-require yes|no]",
      "attach a device at a planned address and top the spares up", NULL },
    { "detach-device", "DOMAIN DEVICE.xml [--live] [--config] [--current] [--persistent]",
      "detach a device", NULL },
    { "policy", "DOMAIN [--spare-ports N] [--legacy-bridge lazy|eager|never] [--managed yes|no]",
      "show or change a domain's slot policy", NULL },
    { "reconcile", "[DOMAIN]", "top up spare hotplug ports now", NULL },
    { "monitor", "", "stream slot and domain events", NULL },
    { "status", "", "daemon, libvirt URI, connection state", NULL },
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
sk_cli_print_help(void)
{
    GString *out = g_string_new(NULL);

    g_string_append(out, "Usage:\n"
                         "  slotkeeper [--system|--user] [--json] VERB [OPTION...]\n"
                         "\n"
                         "Keeps hotplug-capable PCI(e) slots ready in libvirt/QEMU guests and "
                         "plans where\nhotplugged devices go.\n"
                         "\n"
                         "Offline verbs (read domain XML files; no daemon needed):\n");
    for (guint i = 0; i < G_N_ELEMENTS(sk_cli_verbs); i++) {
        if (sk_cli_verbs[i].run)
            g_string_append_printf(out, "  %-9s %s\n            %s\n", sk_cli_verbs[i].name,
                                   sk_cli_verbs[i].synopsis, sk_cli_verbs[i].summary);
    }
    g_string_append(out, "\nVerbs that need slotkeeperd (not available in this build yet):\n");
    for (guint i = 0; i < G_N_ELEMENTS(sk_cli_verbs); i++) {
        if (!sk_cli_verbs[i].run)
            g_string_append_printf(out, "  %-14s %s\n", sk_cli_verbs[i].name,
                                   sk_cli_verbs[i].summary);
    }
    g_string_append(out, "  plan DOMAIN, slots DOMAIN (instead of --domain-xml)\n"
                         "\n"
                         "Global options:\n"
                         "  -h, --help     Show this help\n"
                         "  --version      Show the version\n"
                         "  --system       Talk to the system service (ignored by offline verbs)\n"
                         "  --user         Talk to the session service (ignored by offline verbs)\n"
                         "  --json         Print JSON instead of text\n"
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

static gboolean
sk_cli_wants_help(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        if (g_str_equal(argv[i], "--"))
            break;
        if (g_str_equal(argv[i], "--help") || g_str_equal(argv[i], "-h") ||
            g_str_equal(argv[i], "-?"))
            return TRUE;
    }
    return FALSE;
}

static int
sk_cli_run_verb(const SkCliVerb *verb, const SkCliGlobals *globals, int argc, char **argv)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *output = NULL;

    if (!verb->run) {
        g_autofree char *message = NULL;

        if (sk_cli_wants_help(argc, argv)) {
            printf("Usage:\n  slotkeeper %s%s%s\n\n%c%s.\nThis verb needs the slotkeeperd "
                   "service, which this build does not include yet.\n",
                   verb->name, verb->synopsis[0] ? " " : "", verb->synopsis,
                   g_ascii_toupper(verb->summary[0]), verb->summary + 1);
            return 0;
        }
        message = g_strdup_printf("'%s' needs the slotkeeperd service, which this build does "
                                  "not include yet",
                                  verb->name);
        return sk_cli_fail(SK_EXIT_FAILURE, message, NULL);
    }

    if (!verb->run(globals, argc, argv, &output, &error)) {
        gboolean usage = error->domain == G_OPTION_ERROR ||
                         g_error_matches(error, SK_CLI_ERROR, SK_CLI_ERROR_USAGE);
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
        } else if (g_str_equal(arg, "--system")) {
            globals.system = TRUE;
        } else if (g_str_equal(arg, "--user")) {
            globals.user = TRUE;
        } else {
            g_autofree char *message = g_strdup_printf("unknown option '%s'", arg);
            return sk_cli_fail(SK_EXIT_USAGE, message, NULL);
        }
    }
    if (globals.system && globals.user)
        return sk_cli_fail(SK_EXIT_USAGE, "--system and --user are mutually exclusive", NULL);
    if (i >= argc)
        return sk_cli_fail(SK_EXIT_USAGE, "no verb given", NULL);

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
