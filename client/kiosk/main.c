/* main.c: whistle-kiosk's options and its loop (kiosk.h says how the parts
 * fit). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif
#ifndef WHISTLE_SOURCE_DIR
#define WHISTLE_SOURCE_DIR "."
#endif

#define TICK_MS 1000
#define DRAW_MS 20
#define CALL_LIMIT_MS 15000
#define IDLE_DEFAULT_S 90

static void usage(FILE *out)
{
    fputs("usage: whistle-kiosk [options]\n"
          "\n"
          "The resident's screen at the community service hall (docs/kiosk.md): report a\n"
          "problem, look up or rate a ticket with its number and the last 4 digits of the\n"
          "phone, read the service guide, and the one-key emergency call (F12), with number\n"
          "keys, arrows, Enter, Esc and 0 only. Runs as a kiosk principal (role kiosk, scoped\n"
          "to a community); what was typed is wiped when a resident is done or walks away.\n"
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
          "  --idle SECONDS  back to the home screen, wiping what was typed, after this long\n"
          "                  without a key (default 90; 0: never)\n"
          "  --device ID     this terminal's id in its emergency calls (default: the principal's\n"
          "                  name; 1-64 printable ASCII characters, no spaces)\n"
          "  --log FILE      append the log (connection trouble, refused calls) to FILE\n"
          "  --help, --version\n"
          "\n"
          "Settings come from the flags, then WHISTLE_HOST, WHISTLE_PORT, WHISTLE_CERT, WHISTLE_KEY,\n"
          "WHISTLE_CA, WHISTLE_AS, WHISTLE_PKI, WHISTLE_TIMEOUT, then the config file. The terminal\n"
          "must be at least 80x24 with a UTF-8 locale; the language follows LANG (zh_CN.UTF-8 for\n"
          "Chinese). Full-screen set-ups with a large CJK font: docs/kiosk.md. The log never\n"
          "reaches the screen: it goes to --log FILE, else to stderr when stderr is not this\n"
          "terminal (the journal under systemd), else to syslog.\n",
          out);
}

void kiosk_redraw(kiosk *k) { shell_redraw(&k->sh); }

static void on_draw(void *ud) { draw_screen(ud); }

static void on_key(void *ud, wint_t ch, bool is_key)
{
    kiosk *k = ud;
    kiosk_touch(k);
    flow_key(k, ch, is_key);
}

static void on_stop(void *ud) { kiosk_quit(ud); }

static void on_idle(uv_timer_t *t)
{
    kiosk *k = t->data;
    flow_idle(k);
    /* still busy (a call on its way): look again in a while */
    if (k->screen != S_HOME || k->call_busy)
        uv_timer_start(&k->idle, on_idle, 5000, 0);
}

void kiosk_touch(kiosk *k)
{
    if (k->idle_s)
        uv_timer_start(&k->idle, on_idle, (uint64_t)k->idle_s * 1000, 0);
}

static void on_call_timer(uv_timer_t *t) { net_call_timeout(t->data); }

void kiosk_call_timer(kiosk *k, bool on)
{
    if (on)
        uv_timer_start(&k->call_timer, on_call_timer, CALL_LIMIT_MS, 0);
    else
        uv_timer_stop(&k->call_timer);
}

static void on_tick(uv_timer_t *t) { kiosk_redraw(t->data); /* the clock, the countdown */ }

static void on_closed(uv_handle_t *h) { (void)h; }

void kiosk_quit(kiosk *k)
{
    if (shell_closing(&k->sh))
        return;
    net_stop(k);
    shell_close(&k->sh);
    uv_handle_t *hs[] = { (uv_handle_t *)&k->tick, (uv_handle_t *)&k->idle, (uv_handle_t *)&k->call_timer,
                          (uv_handle_t *)&k->emerg_timer, (uv_handle_t *)&k->confirm_timer };
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
}

static const char *idle_arg, *device_arg, *log_arg;

/* --idle and --device (shell_program.check). */
static int check_options(void *ud)
{
    kiosk *k = ud;
    k->idle_s = IDLE_DEFAULT_S;
    if (idle_arg) {
        char *end;
        unsigned long v = strtoul(idle_arg, &end, 10);
        if (!*idle_arg || *end || v > 86400) {
            fprintf(stderr, "whistle-kiosk: --idle takes seconds, 0 to 86400 (0: never); not '%s'\n", idle_arg);
            return -1;
        }
        k->idle_s = (unsigned)v;
    }
    if (device_arg) {
        bool ok = *device_arg && strlen(device_arg) <= 64;
        for (const char *p = device_arg; ok && *p; p++)
            ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
        if (!ok) {
            fprintf(stderr, "whistle-kiosk: --device is 1-64 printable ASCII characters without spaces\n");
            return -1;
        }
        snprintf(k->device, sizeof k->device, "%s", device_arg);
    }
    return 0;
}

int main(int argc, char **argv)
{
    static kiosk k; /* large; and the handles must outlive main's frame anyway */
    const char *config = NULL;
    static const char *const names[] = { "config", "idle", "device", "log" };
    const char **const values[] = { &config, &idle_arg, &device_arg, &log_arg };
    bool utf8 = uitext_locale_init("whistle-kiosk") == 0;
    /* Start-up's words go to stderr, in English, for the staff; once the
     * screen is up, the log goes elsewhere (shell_log). */
    shell_program prog = {
        .name = "whistle-kiosk",
        .version = WHISTLE_VERSION,
        .usage = usage,
        .names = names,
        .values = values,
        .n = 4,
        .check = check_options,
        .ud = &k,
        .pki_fallback = WHISTLE_SOURCE_DIR "/var/pki",
        .no_value = "whistle-kiosk: --%s needs a value\n",
        .unknown = "whistle-kiosk: unknown option '%s' (see --help)\n",
        .no_utf8 = "whistle-kiosk: needs a UTF-8 locale (set LANG=zh_CN.UTF-8 or C.UTF-8)",
        .no_cert = "whistle-kiosk: no client certificate: use --as NAME (dev PKI) or --cert FILE --key FILE",
        .no_terminal = "whistle-kiosk: needs a terminal",
    };
    int r = shell_startup(&prog, argc, argv, utf8, &k.settings);
    if (r != 0)
        return r > 0 ? 0 : 2;
    if (shell_log_open(prog.name, log_arg) < 0)
        return 2;

    uv_loop_t loop;
    uv_loop_init(&loop);
    k.loop = &loop;
    /* raw: Ctrl-C and Ctrl-Z are keys here: a resident cannot stop the kiosk */
    shell_opts so = { .raw = true, .draw_ms = DRAW_MS };
    shell_cbs sc = { on_key, on_draw, on_stop };
    if (shell_start(&k.sh, &loop, &so, &sc, &k) < 0) {
        shell_end();
        fprintf(stderr, "%s\n", prog.no_terminal);
        return 2;
    }
    draw_init();

    uv_timer_t *timers[] = { &k.tick, &k.idle, &k.call_timer, &k.emerg_timer, &k.confirm_timer };
    for (size_t i = 0; i < sizeof timers / sizeof *timers; i++) {
        uv_timer_init(&loop, timers[i]);
        timers[i]->data = &k;
    }
    uv_timer_start(&k.tick, on_tick, TICK_MS, TICK_MS);

    flow_home(&k);
    net_start(&k);
    draw_screen(&k);
    uv_run(&loop, UV_RUN_DEFAULT);

    if (k.fatal)
        shell_log(true, "%s", k.fatal_err);
    shell_end();
    int rc = 0;
    if (k.fatal) {
        if (shell_log_target() != SHELL_LOG_STDERR) /* else it is there already */
            fprintf(stderr, "whistle-kiosk: %s\n", k.fatal_err);
        rc = 1;
    }
    flow_home(&k);
    Whistle__V1__Response **dir[] = { &k.cats, &k.depts, &k.nodes, &k.services, &k.board, &k.wishes };
    for (size_t i = 0; i < sizeof dir / sizeof *dir; i++) {
        whistle_response_free(*dir[i]);
        *dir[i] = NULL;
    }
    uv_loop_close(&loop);
    return rc;
}
