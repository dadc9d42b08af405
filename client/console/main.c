/* main.c: whistle-console's options and its loop (console.h says how the
 * parts fit). */
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif
#ifndef WHISTLE_SOURCE_DIR
#define WHISTLE_SOURCE_DIR "."
#endif

#define TICK_MS 1000
#define PING_MS 5000
#define STATS_MS 15000
#define DRAW_MS 30

static void usage(FILE *out)
{
    fputs(_("usage: whistle-console [options]\n"
            "\n"
            "The street command center's live screen (docs/console.md): the case feed\n"
            "pushed by whistled, each order's countdown, the department board, alerts of\n"
            "missed deadlines, emergencies, and the statistics. Keys: ? in the console.\n"
            "\n"
            "  --as NAME       act as principal NAME of the dev PKI (<pki>/clients/NAME.crt/.key,\n"
            "                  <pki>/ca.crt; <pki> = $WHISTLE_PKI, ./var/pki, or the source tree's)\n"
            "  --host HOST     server host (default localhost)\n"
            "  --port PORT     server port (default 7730)\n"
            "  --cert FILE     client certificate (PEM)\n"
            "  --key FILE      its private key (PEM)\n"
            "  --ca FILE       the CA the server's certificate chains to (PEM)\n"
            "  --pki DIR       the dev PKI directory for --as\n"
            "  --timeout MS    connect timeout (default 10000)\n"
            "  --config FILE   client config file (as for whistle)\n"
            "  --stream NAME   follow this stream (default: your own, e.g. street:<code>)\n"
            "  --meeting N     the screen of meeting N of a deliberative body instead of the case feed\n"
            "                  (docs/deliberation.md): attendance and quorum, the speakers' countdown,\n"
            "                  the agenda's votes and ballots live; the chair's keys run the meeting,\n"
            "                  the representatives' keys vote. For the body's members and those who\n"
            "                  manage its place (any role that may hold a seat, representatives too)\n"
            "  --log FILE      append the log (connection trouble) to FILE\n"
            "  --help, --version\n"
            "\n"
            "Settings come from the flags, then WHISTLE_HOST, WHISTLE_PORT, WHISTLE_CERT, WHISTLE_KEY,\n"
            "WHISTLE_CA, WHISTLE_AS, WHISTLE_PKI, WHISTLE_TIMEOUT, then the config file. The terminal\n"
            "must be at least 60x16 (80x24 shows the department board) with a UTF-8 locale.\n"
            "The log never reaches the screen: it goes to --log FILE, else to stderr when stderr\n"
            "is not this terminal (the journal under systemd), else to syslog.\n"),
          out);
}

int64_t console_now(const console *k) { return shell_clock_ms() + k->offset_ms; }

void console_status(console *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->status, sizeof k->status, fmt, ap);
    va_end(ap);
    k->status_until = shell_clock_ms() + 6000;
    console_redraw(k);
}

/* Drawing is deferred a little (shell_redraw), so that a burst of pushes
 * (a replay) draws once. */
void console_redraw(console *k) { shell_redraw(&k->sh); }

static void on_draw(void *ud) { ui_draw(ud); }

static void on_key(void *ud, wint_t ch, bool is_key) { input_key(ud, ch, is_key); }

static void on_stop(void *ud) { console_quit(ud); }

static void on_tick(uv_timer_t *t)
{
    console *k = t->data;
    if (k->mt.id)
        meeting_tick(k);
    net_ack(k);
    console_redraw(k); /* the countdowns */
}

static void on_ping(uv_timer_t *t) { net_ping(t->data); }

static void on_stats_timer(uv_timer_t *t)
{
    console *k = t->data;
    if (!k->mt.id && (k->stats_dirty || k->view == VIEW_STATS))
        net_refresh_stats(k);
}

static void on_closed(uv_handle_t *h) { (void)h; }

void console_quit(console *k)
{
    if (shell_closing(&k->sh))
        return;
    net_stop(k); /* acknowledges, closes the connection */
    shell_close(&k->sh);
    uv_handle_t *hs[] = { (uv_handle_t *)&k->tick, (uv_handle_t *)&k->ping, (uv_handle_t *)&k->stats };
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
}

/* --meeting N: a positive number */
static int check_options(void *ud)
{
    const char *v = *(const char **)ud;
    if (!v)
        return 0;
    char *end;
    unsigned long long n = strtoull(v, &end, 10);
    if (*v < '1' || *v > '9' || *end || n == 0 || n == ULLONG_MAX) {
        fprintf(stderr, _("whistle-console: --meeting '%s': a meeting's number (whistle meeting show N)\n"), v);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    static console k; /* large; and the handles must outlive main's frame anyway */
    const char *config = NULL, *stream = NULL, *log = NULL, *meeting = NULL;
    static const char *const names[] = { "config", "stream", "log", "meeting" };
    const char **const values[] = { &config, &stream, &log, &meeting };
    /* First: --help and the errors below speak the locale's language too. */
    bool utf8 = uitext_locale_init("whistle-console") == 0;
    shell_program prog = {
        .name = "whistle-console",
        .version = WHISTLE_VERSION,
        .usage = usage,
        .names = names,
        .values = values,
        .n = 4,
        .check = check_options,
        .ud = &meeting,
        .pki_fallback = WHISTLE_SOURCE_DIR "/var/pki",
        .no_value = _("whistle-console: --%s needs a value\n"),
        .unknown = _("whistle-console: unknown option '%s' (see --help)\n"),
        .no_utf8 = _("whistle-console: needs a UTF-8 locale (set LANG=zh_CN.UTF-8 or C.UTF-8)"),
        .no_cert = _("whistle-console: no client certificate: use --as NAME (dev PKI) or --cert FILE --key FILE"),
        .no_terminal = _("whistle-console: needs a terminal"),
    };
    int r = shell_startup(&prog, argc, argv, utf8, &k.settings);
    if (r != 0)
        return r > 0 ? 0 : 2;
    if (shell_log_open(prog.name, log) < 0)
        return 2;
    if (stream)
        snprintf(k.stream, sizeof k.stream, "%s", stream);
    if (meeting)
        k.mt.id = strtoull(meeting, NULL, 10);

    uv_loop_t loop;
    uv_loop_init(&loop);
    k.loop = &loop;
    shell_opts so = { .raw = false, .draw_ms = DRAW_MS };
    shell_cbs sc = { on_key, on_draw, on_stop };
    if (shell_start(&k.sh, &loop, &so, &sc, &k) < 0) {
        shell_end();
        fprintf(stderr, "%s\n", prog.no_terminal);
        return 2;
    }
    ui_init();

    uv_timer_init(&loop, &k.tick);
    uv_timer_init(&loop, &k.ping);
    uv_timer_init(&loop, &k.stats);
    k.tick.data = k.ping.data = k.stats.data = &k;
    uv_timer_start(&k.tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&k.ping, on_ping, PING_MS, PING_MS);
    uv_timer_start(&k.stats, on_stats_timer, STATS_MS, STATS_MS);

    net_start(&k);
    ui_draw(&k);
    uv_run(&loop, UV_RUN_DEFAULT);

    if (k.fatal)
        shell_log(true, "%s", k.net_err);
    shell_end();
    int rc = 0;
    if (k.fatal) {
        if (shell_log_target() != SHELL_LOG_STDERR) /* else it is there already */
            fprintf(stderr, "whistle-console: %s\n", k.net_err);
        rc = 1;
    }
    model_free(&k);
    meeting_free(&k);
    uv_loop_close(&loop);
    return rc;
}
