/* main.c: whistle-console's options and its loop (console.h says how the
 * parts fit). */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

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
            "  --help, --version\n"
            "\n"
            "Settings come from the flags, then WHISTLE_HOST, WHISTLE_PORT, WHISTLE_CERT, WHISTLE_KEY,\n"
            "WHISTLE_CA, WHISTLE_AS, WHISTLE_PKI, WHISTLE_TIMEOUT, then the config file. The terminal\n"
            "must be at least 60x16 (80x24 shows the department board) with a UTF-8 locale.\n"),
          out);
}

int64_t console_local_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t console_now(const console *k) { return console_local_ms() + k->offset_ms; }

void console_status(console *k, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(k->status, sizeof k->status, fmt, ap);
    va_end(ap);
    k->status_until = console_local_ms() + 6000;
    console_redraw(k);
}

/* Drawing is deferred a little, so that a burst of pushes (a replay)
 * draws once. */
static void on_draw(uv_timer_t *t)
{
    console *k = t->data;
    k->draw_pending = false;
    if (!k->quit)
        ui_draw(k);
}

void console_redraw(console *k)
{
    if (k->quit || k->draw_pending)
        return;
    k->draw_pending = true;
    uv_timer_start(&k->draw, on_draw, DRAW_MS, 0);
}

static void on_tick(uv_timer_t *t)
{
    console *k = t->data;
    net_ack(k);
    console_redraw(k); /* the countdowns */
}

static void on_ping(uv_timer_t *t) { net_ping(t->data); }

static void on_stats_timer(uv_timer_t *t)
{
    console *k = t->data;
    if (k->stats_dirty || k->view == VIEW_STATS)
        net_refresh_stats(k);
}

static void on_input(uv_poll_t *h, int status, int events)
{
    console *k = h->data;
    (void)events;
    if (status < 0) {
        console_quit(k);
        return;
    }
    wint_t ch;
    int r, n = 0;
    while (!k->quit && (r = get_wch(&ch)) != ERR && n++ < 256)
        input_key(k, ch, r == KEY_CODE_YES);
    console_redraw(k);
}

static void on_winch(uv_signal_t *s, int sig)
{
    console *k = s->data;
    (void)sig;
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col)
        resizeterm(ws.ws_row, ws.ws_col);
    clear();
    console_redraw(k);
}

static void on_stop_signal(uv_signal_t *s, int sig)
{
    (void)sig;
    console_quit(s->data);
}

static void on_closed(uv_handle_t *h) { (void)h; }

void console_quit(console *k)
{
    if (k->closing)
        return;
    k->closing = true;
    net_stop(k); /* sets quit, acknowledges, closes the connection */
    uv_handle_t *hs[] = {(uv_handle_t *)&k->tick,  (uv_handle_t *)&k->ping,    (uv_handle_t *)&k->stats,
                         (uv_handle_t *)&k->reconnect, (uv_handle_t *)&k->in, (uv_handle_t *)&k->winch,
                         (uv_handle_t *)&k->sigint, (uv_handle_t *)&k->sigterm, (uv_handle_t *)&k->sighup,
                         (uv_handle_t *)&k->draw};
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
}

int main(int argc, char **argv)
{
    static const char *const keys[] = {"as", "host", "port", "cert", "key", "ca", "pki", "timeout"};
    whistle_settings flags = {0};
    const char *config = NULL, *stream = NULL;
    /* First: --help and the errors below speak the locale's language too. */
    bool utf8 = uitext_locale_init("whistle-console") == 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf("whistle-console %s\n", WHISTLE_VERSION);
            return 0;
        }
        const char *name = strncmp(a, "--", 2) == 0 ? a + 2 : NULL;
        const char *eq = name ? strchr(name, '=') : NULL;
        size_t nl = name ? (eq ? (size_t)(eq - name) : strlen(name)) : 0;
        const char *val = eq ? eq + 1 : (i + 1 < argc ? argv[i + 1] : NULL);
        bool known = false;
        for (size_t k = 0; name && k < sizeof keys / sizeof *keys; k++)
            if (strlen(keys[k]) == nl && strncmp(name, keys[k], nl) == 0) {
                known = true;
                if (!val) {
                    fprintf(stderr, _("whistle-console: --%s needs a value\n"), keys[k]);
                    return 2;
                }
                whistle_settings_set(&flags, keys[k], val);
            }
        if (!known && name && nl == 6 && strncmp(name, "config", 6) == 0 && val) {
            config = val;
            known = true;
        } else if (!known && name && nl == 6 && strncmp(name, "stream", 6) == 0 && val) {
            stream = val;
            known = true;
        }
        if (!known) {
            fprintf(stderr, _("whistle-console: unknown option '%s' (see --help)\n"), a);
            whistle_settings_free(&flags);
            return 2;
        }
        if (!eq)
            i++;
    }
    if (!utf8) {
        fprintf(stderr, "%s\n", _("whistle-console: needs a UTF-8 locale (set LANG=zh_CN.UTF-8 or C.UTF-8)"));
        whistle_settings_free(&flags);
        return 2;
    }

    static console k; /* large; and the handles must outlive main's frame anyway */
    char err[512];
    whistle_settings env = {0}, file = {0};
    whistle_settings_from_env(&env);
    int r = whistle_settings_from_file(&file, config, err, sizeof err);
    if (r == 0) {
        const whistle_settings *layers[WHISTLE_LAYERS] = {&flags, &env, &file};
        r = whistle_settings_resolve(layers, WHISTLE_SOURCE_DIR "/var/pki", &k.settings, err, sizeof err);
    }
    whistle_settings_free(&env);
    whistle_settings_free(&file);
    whistle_settings_free(&flags);
    if (r < 0) {
        fprintf(stderr, "whistle-console: %s\n", err);
        return 2;
    }
    if (!k.settings.opts.cert_file) {
        fprintf(stderr, "%s\n",
                _("whistle-console: no client certificate: use --as NAME (dev PKI) or --cert FILE --key FILE"));
        return 2;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "%s\n", _("whistle-console: needs a terminal"));
        return 2;
    }
    if (stream)
        snprintf(k.stream, sizeof k.stream, "%s", stream);

    uv_loop_t loop;
    uv_loop_init(&loop);
    k.loop = &loop;
    /* Our SIGWINCH handler first, so that ncurses installs none of its own:
     * the loop learns of a resize and redraws. */
    uv_signal_init(&loop, &k.winch);
    k.winch.data = &k;
    uv_signal_start(&k.winch, on_winch, SIGWINCH);
    uv_signal_init(&loop, &k.sigint);
    uv_signal_init(&loop, &k.sigterm);
    uv_signal_init(&loop, &k.sighup);
    k.sigint.data = k.sigterm.data = k.sighup.data = &k;
    uv_signal_start(&k.sigint, on_stop_signal, SIGINT);
    uv_signal_start(&k.sigterm, on_stop_signal, SIGTERM);
    uv_signal_start(&k.sighup, on_stop_signal, SIGHUP);
    signal(SIGPIPE, SIG_IGN);

    initscr();
    cbreak();
    noecho();
    nonl();
    keypad(stdscr, TRUE);
    nodelay(stdscr, TRUE);
    set_escdelay(25);
    curs_set(0);
    ui_init();

    uv_timer_init(&loop, &k.draw);
    k.draw.data = &k;
    uv_timer_init(&loop, &k.tick);
    uv_timer_init(&loop, &k.ping);
    uv_timer_init(&loop, &k.stats);
    uv_timer_init(&loop, &k.reconnect);
    k.tick.data = k.ping.data = k.stats.data = k.reconnect.data = &k;
    uv_timer_start(&k.tick, on_tick, TICK_MS, TICK_MS);
    uv_timer_start(&k.ping, on_ping, PING_MS, PING_MS);
    uv_timer_start(&k.stats, on_stats_timer, STATS_MS, STATS_MS);
    uv_poll_init(&loop, &k.in, STDIN_FILENO);
    k.in.data = &k;
    uv_poll_start(&k.in, UV_READABLE, on_input);

    net_start(&k);
    ui_draw(&k);
    uv_run(&loop, UV_RUN_DEFAULT);

    endwin();
    int rc = 0;
    if (k.fatal) {
        fprintf(stderr, "whistle-console: %s\n", k.net_err);
        rc = 1;
    }
    model_free(&k);
    uv_loop_close(&loop);
    return rc;
}
