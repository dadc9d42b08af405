/* main.c: `whistle`, the command-line client of whistled.
 *
 * whistle [global options] COMMAND [args]: parse the global options, find
 * the command, let it parse its own arguments (usage errors exit 2 before
 * any connection is made), connect on the command's first call. */
#include <locale.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
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
            "  --act-as NAME   a gateway's certificate: make the call for principal NAME,\n"
            "                  one of those it acts for\n"
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
    /* The summaries start in one column, two spaces after the longest
     * name (server-stats), whatever the names are. */
    int w = 0;
    for (const cmd *const *t = cli_tables; *t; t++)
        for (const cmd *c = *t; c->name; c++)
            if ((int)strlen(c->name) > w)
                w = (int)strlen(c->name);
    for (const cmd *const *t = cli_tables; *t; t++)
        for (const cmd *c = *t; c->name; c++)
            fprintf(out, "  %-*s  %s\n", w, c->name, _(c->summary));
    fputs("\n", out);
    fputs(_("Tickets may be typed as E2026120300001, e2026120300001 or 2026120300001 (spaces and\n"
            "dashes are ignored); anything else is refused before the call as not a ticket.\n"),
          out);
    fputs("\n", out);
    fputs(_("Exit status: 0 ok; 1 the server refused (\"whistle: CODE: message\" on stderr);\n"
            "2 usage error; 3 connection or TLS failure, or timeout. With --json an error is one\n"
            "JSON line on stderr instead, {\"error\": {\"code\": ..., \"message\": ...}}: code is\n"
            "the server's status name (NOT_FOUND, with \"status\": its number), or USAGE (exit 2)\n"
            "or CONNECTION (exit 3); the message is in English.\n"),
          out);
}

/* --json: errors are JSON objects on stderr, and in English (set by main
 * before anything is printed). */
static bool errors_json;

/* One error on stderr: "whistle: [CODE: ]message", or with --json
 * {"error": {"code": CODE, ["status": number,] "message": message}}. */
static void put_error(const char *code, int status, bool show_code, const char *msg)
{
    if (errors_json) {
        json_t *e = json_pack("{s:s, s:s}", "code", code, "message", msg);
        if (e && status >= 0)
            json_object_set_new(e, "status", json_integer(status));
        json_t *o = e ? json_pack("{s:o}", "error", e) : NULL;
        char *s = o ? json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
        if (s)
            fprintf(stderr, "%s\n", s);
        else
            fprintf(stderr, "{\"error\":{\"code\":\"%s\",\"message\":\"out of memory\"}}\n", code);
        free(s);
        json_decref(o);
    } else if (show_code)
        fprintf(stderr, "whistle: %s: %s\n", code, msg);
    else
        fprintf(stderr, "whistle: %s\n", msg);
    fflush(stderr);
}

static int vfail(int status, const char *fmt, va_list ap)
{
    char msg[2048];
    vsnprintf(msg, sizeof msg, fmt, ap);
    put_error(status == EXIT_USAGE ? "USAGE" : "CONNECTION", -1, false, msg);
    return status;
}

int cli_fail(int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(status, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int rc = vfail(EXIT_USAGE, fmt, ap);
    va_end(ap);
    return rc;
}

int cli_refused(int code, const char *message)
{
    put_error(whistle_code_name(code), code, true, message ? message : "");
    return EXIT_SERVER;
}

/* A failure of the connection, in the CLI's words (translated), then
 * libwhistle's own line, which has no catalogue (docs/i18n.md). */
int cli_conn_error(cli *x, int kind, const char *detail)
{
    const char *host = x->conn.host;
    unsigned port = x->conn.opts.port;
    char head[512];
    switch (kind) {
    case WHISTLE_ERR_RESOLVE: snprintf(head, sizeof head, _("cannot find the server %s"), host); break;
    case WHISTLE_ERR_CONNECT:
        snprintf(head, sizeof head, _("cannot connect to the server at %s port %u (is whistled running there?)"), host,
                 port);
        break;
    case WHISTLE_ERR_TLS:
        snprintf(head, sizeof head, _("the secure connection to %s port %u failed"), host, port);
        break;
    case WHISTLE_ERR_HELLO:
        snprintf(head, sizeof head, _("the server at %s port %u did not accept this client"), host, port);
        break;
    case WHISTLE_ERR_TIMEOUT:
        snprintf(head, sizeof head, _("no answer in time from the server at %s port %u"), host, port);
        break;
    case WHISTLE_ERR_CLOSED:
    case WHISTLE_ERR_IO:
        snprintf(head, sizeof head, _("the connection to the server at %s port %u was lost"), host, port);
        break;
    case WHISTLE_ERR_NOMEM: snprintf(head, sizeof head, "%s", _("out of memory")); break;
    default: snprintf(head, sizeof head, _("the connection to the server at %s port %u failed"), host, port); break;
    }
    /* TRANSLATORS: the CLI's headline, then libwhistle's detail (English). */
    return cli_fail(EXIT_CONN, _("%s: %s"), head, detail && *detail ? detail : whistle_strerror(kind));
}

/* Global options that take a value, mapped to settings keys (the key is
 * NULL for --config, which is not a connection setting). */
static const struct {
    const char *flag, *key;
} valued[] = {
    { "as", "as" },     { "host", "host" }, { "port", "port" },       { "cert", "cert" }, { "key", "key" },
    { "ca", "ca" },     { "pki", "pki" },   { "timeout", "timeout" }, { "config", NULL }, { "idempotency-key", NULL },
    { "act-as", NULL },
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
        else if (strcmp(valued[k].flag, "act-as") == 0)
            x->act_as = v;
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
    whistle_settings env = { 0 }, file = { 0 };
    whistle_settings_from_env(&env);
    int r = whistle_settings_from_file(&file, x->config, err, sizeof err);
    if (r == 0) {
        const whistle_settings *layers[WHISTLE_LAYERS] = { &x->flags, &env, &file };
        r = whistle_settings_resolve(layers, WHISTLE_SOURCE_DIR "/var/pki", &x->conn, err, sizeof err);
    }
    whistle_settings_free(&env);
    whistle_settings_free(&file);
    if (r < 0)
        return cli_usage_error(_("connection settings: %s"), err);
    if (!x->conn.opts.cert_file)
        return cli_usage_error("%s", _("no client certificate: use --as NAME (dev PKI) or --cert FILE --key FILE "
                                       "(or WHISTLE_AS, WHISTLE_CERT/WHISTLE_KEY, or the config file)"));
    x->conn.opts.client_name = "whistle-cli/" WHISTLE_VERSION;
    r = whistle_connect(&x->conn.opts, &x->client, err, sizeof err);
    if (r < 0)
        return cli_conn_error(x, r, err);
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
    if (x->act_as)
        req->act_as = (char *)x->act_as;
    r = whistle_call(x->client, req, resp);
    req->idempotency_key = (char *)protobuf_c_empty_string; /* key is on this stack */
    if (r < 0)
        return cli_conn_error(x, r, whistle_last_error(x->client));
    int code = whistle_response_code(*resp);
    if (code != WHISTLE__V1__STATUS__CODE__OK) {
        cli_refused(code, whistle_response_message(*resp));
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
    /* --json anywhere (before a "--"): errors too are JSON, and every text
     * is English, as --json output is the same in every language. */
    for (int k = 1; k < argc && strcmp(argv[k], "--") != 0; k++)
        if (strcmp(argv[k], "--json") == 0) {
            x.json = errors_json = true;
            setlocale(LC_MESSAGES, "C"); /* gettext gives the msgids, whatever LANGUAGE says */
        }
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
