/* main.c: `whistle`, the command-line client of whistled.
 *
 * whistle [global options] COMMAND [args]: parse the global options, find
 * the command, let it parse its own arguments (usage errors exit 2 before
 * any connection is made), connect on the command's first call. */
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif
#ifndef WHISTLE_SOURCE_DIR
#define WHISTLE_SOURCE_DIR "."
#endif

static void print_usage(FILE *out)
{
    /* Option and command names, environment variables and INI keys are
     * the same in every language: the translation keeps them. */
    fputs(_("usage: whistle [options] COMMAND [args]\n"
            "\n"
            "The command-line client of whistled, the grid-governance daemon\n"
            "(\"whistle, and departments report\").\n"),
          out);
    fputs("\n", out);
    fputs(_("Options (may also follow the command):\n"
            "  --as NAME       act as principal NAME of the dev PKI: <pki>/clients/NAME.crt/.key and\n"
            "                  <pki>/ca.crt, <pki> = $WHISTLE_PKI, ./var/pki, or the source tree's var/pki\n"
            "  --host HOST     server host name or address (default localhost)\n"
            "  --port PORT     server port (default 7730)\n"
            "  --cert FILE     client certificate (PEM)\n"
            "  --key FILE      the certificate's private key (PEM)\n"
            "  --ca FILE       CA certificate the server's certificate must chain to (PEM)\n"
            "  --pki DIR       the dev PKI directory for --as\n"
            "  --timeout MS    connect timeout and per-call timeout (default 10000)\n"
            "  --config FILE   client config file\n"
            "  --idempotency-key KEY  use KEY on the write instead of a random one, so that\n"
            "                  rerunning a write whose answer was lost applies it once\n"
            "  -q, --quiet     print only identifiers: the ticket (report, file, ...), ticket or\n"
            "                  order ids one per line (list, orders, whistle), codes (nodes, ...)\n"
            "  --json          print JSON: one object per result, one line per push (watch)\n"
            "  --help          this text; `whistle COMMAND --help` for a command\n"
            "  --version       print the version\n"),
          out);
    fputs("\n", out);
    fputs(_("Settings come from the flags, then WHISTLE_HOST, WHISTLE_PORT, WHISTLE_CERT, WHISTLE_KEY,\n"
            "WHISTLE_CA, WHISTLE_AS, WHISTLE_PKI, WHISTLE_TIMEOUT, then the config file ($WHISTLE_CONFIG,\n"
            "else ~/.config/whistle/client.conf; INI keys host, port, cert, key, ca, as, pki, timeout).\n"),
          out);
    fputs("\n", out);
    fputs(_("Language: the locale's (LANGUAGE, LC_ALL, LC_MESSAGES, LANG); English or Simplified\n"
            "Chinese. --json, -q and the server's messages are the same in every language.\n"),
          out);
    fputs("\n", out);
    fputs(_("Commands:\n"), out);
    for (const cmd *const *t = cli_tables; *t; t++)
        for (const cmd *c = *t; c->name; c++)
            fprintf(out, "  %-12s%s\n", c->name, _(c->summary));
    fputs("\n", out);
    fputs(_("Exit status: 0 ok; 1 the server refused (\"whistle: CODE: message\" on stderr);\n"
            "2 usage error; 3 connection or TLS failure, or timeout.\n"),
          out);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("whistle: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return EXIT_USAGE;
}

/* Global options that take a value, mapped to settings keys (the key is
 * NULL for --config, which is not a connection setting). */
static const struct {
    const char *flag, *key;
} valued[] = {
    {"as", "as"},   {"host", "host"}, {"port", "port"},       {"cert", "cert"},     {"key", "key"},
    {"ca", "ca"},   {"pki", "pki"},   {"timeout", "timeout"}, {"config", NULL}, {"idempotency-key", NULL},
};

int cli_global_option(cli *x, int argc, char **argv, int i)
{
    const char *a = argv[i];
    if (strcmp(a, "-q") == 0 || strcmp(a, "--quiet") == 0) {
        x->quiet = true;
        return 1;
    }
    if (strncmp(a, "--", 2) != 0)
        return 0;
    a += 2;
    if (strcmp(a, "json") == 0) {
        x->json = true;
        return 1;
    }
    const char *eq = strchr(a, '=');
    size_t nl = eq ? (size_t)(eq - a) : strlen(a);
    for (size_t k = 0; k < sizeof valued / sizeof valued[0]; k++) {
        if (strlen(valued[k].flag) != nl || strncmp(a, valued[k].flag, nl) != 0)
            continue;
        const char *v;
        int taken;
        if (eq) {
            v = eq + 1;
            taken = 1;
        } else if (i + 1 < argc) {
            v = argv[i + 1];
            taken = 2;
        } else {
            cli_usage_error(_("option --%s needs a value"), valued[k].flag);
            return -1;
        }
        if (valued[k].key)
            whistle_settings_set(&x->flags, valued[k].key, v);
        else if (strcmp(valued[k].flag, "config") == 0)
            x->config = v;
        else
            x->idempotency_key = v;
        return taken;
    }
    return 0;
}

int cli_connect(cli *x)
{
    if (x->client)
        return 0;
    char err[512];
    whistle_settings env = {0}, file = {0};
    whistle_settings_from_env(&env);
    int r = whistle_settings_from_file(&file, x->config, err, sizeof err);
    if (r == 0) {
        const whistle_settings *layers[WHISTLE_LAYERS] = {&x->flags, &env, &file};
        r = whistle_settings_resolve(layers, WHISTLE_SOURCE_DIR "/var/pki", &x->conn, err, sizeof err);
    }
    whistle_settings_free(&env);
    whistle_settings_free(&file);
    if (r < 0)
        return cli_usage_error("%s", err);
    if (!x->conn.opts.cert_file)
        return cli_usage_error("%s", _("no client certificate: use --as NAME (dev PKI) or --cert FILE --key FILE "
                                     "(or WHISTLE_AS, WHISTLE_CERT/WHISTLE_KEY, or the config file)"));
    x->conn.opts.client_name = "whistle-cli/" WHISTLE_VERSION;
    r = whistle_connect(&x->conn.opts, &x->client, err, sizeof err);
    if (r < 0) {
        fprintf(stderr, "whistle: %s\n", err);
        return EXIT_CONN;
    }
    return 0;
}

int cli_call(cli *x, Whistle__V1__Request *req, Whistle__V1__Response **resp)
{
    *resp = NULL;
    int r = cli_connect(x);
    if (r)
        return r;
    /* Writes carry an idempotency key: --idempotency-key KEY when a script
     * wants to rerun a write whose answer it never saw (a timeout) without
     * applying it twice, else a fresh random one. The CLI itself never
     * retries. */
    char key[33];
    if (whistle_request_is_write(req) && (!req->idempotency_key || !*req->idempotency_key)) {
        if (x->idempotency_key)
            req->idempotency_key = (char *)x->idempotency_key;
        else if (whistle_idempotency_key(key, sizeof key) == 0)
            req->idempotency_key = key;
    }
    r = whistle_call(x->client, req, resp);
    req->idempotency_key = (char *)protobuf_c_empty_string; /* key is on this stack */
    if (r < 0) {
        fprintf(stderr, "whistle: %s\n", whistle_last_error(x->client));
        return EXIT_CONN;
    }
    int code = whistle_response_code(*resp);
    if (code != WHISTLE__V1__STATUS__CODE__OK) {
        fprintf(stderr, "whistle: %s: %s\n", whistle_code_name(code), whistle_response_message(*resp));
        whistle_response_free(*resp);
        *resp = NULL;
        return EXIT_SERVER;
    }
    return 0;
}

int main(int argc, char **argv)
{
    /* Messages in the locale's language (docs/i18n.md). Without any UTF-8
     * locale (-1) the CLI still works, in English: scripts run it under
     * LC_ALL=C and read --json or -q, which no language changes. */
    uitext_locale_init("whistle");
    /* Numbers for machines as well as people: "93.7" in the tables and the
     * CSV, whatever decimal sign the locale uses. */
    setlocale(LC_NUMERIC, "C");
    /* libuv writes to sockets with plain write(2): a server that went away
     * must give an error to report, not a silent death by SIGPIPE. */
    signal(SIGPIPE, SIG_IGN);

    cli x;
    memset(&x, 0, sizeof x);
    int i = 1;
    while (i < argc && argv[i][0] == '-') {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            print_usage(stdout);
            return EXIT_OK;
        }
        if (strcmp(a, "--version") == 0 || strcmp(a, "-V") == 0) {
            printf("whistle %s (protocol %d)\n", WHISTLE_VERSION, WHISTLE_PROTOCOL_VERSION);
            return EXIT_OK;
        }
        int n = cli_global_option(&x, argc, argv, i);
        if (n < 0)
            return EXIT_USAGE;
        if (n == 0) {
            cli_usage_error(_("unknown option '%s' (see whistle --help)"), a);
            return EXIT_USAGE;
        }
        i += n;
    }
    if (i >= argc) {
        print_usage(stderr);
        whistle_settings_free(&x.flags);
        return EXIT_USAGE;
    }
    const char *name = argv[i];
    if (strcmp(name, "help") == 0) {
        int rc = EXIT_OK;
        if (i + 1 < argc) {
            const cmd *c = cli_find(argv[i + 1]);
            if (c)
                cli_print_command_help(c, stdout);
            else
                rc = cli_usage_error(_("no command '%s' (see whistle help)"), argv[i + 1]);
        } else
            print_usage(stdout);
        whistle_settings_free(&x.flags);
        return rc;
    }
    const cmd *c = cli_find(name);
    if (!c) {
        whistle_settings_free(&x.flags);
        return cli_usage_error(_("no command '%s' (see whistle --help)"), name);
    }

    int rc = cli_run(&x, c, argc - i, argv + i);
    cli_names_free(&x);
    if (x.client)
        whistle_close(x.client);
    whistle_settings_free(&x.flags);
    fflush(stdout);
    return rc;
}
