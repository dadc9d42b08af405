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
          "  --help, --version\n"
          "\n"
          "Settings come from the flags, then WHISTLE_HOST, WHISTLE_PORT, WHISTLE_CERT, WHISTLE_KEY,\n"
          "WHISTLE_CA, WHISTLE_AS, WHISTLE_PKI, WHISTLE_TIMEOUT, then the config file. The terminal\n"
          "must be at least 80x24 with a UTF-8 locale; the language follows LANG (zh_CN.UTF-8 for\n"
          "Chinese). Full-screen set-ups with a large CJK font: docs/kiosk.md. Details of\n"
          "connection trouble go to stderr, never to the screen.\n",
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
    uv_handle_t *hs[] = {(uv_handle_t *)&k->tick, (uv_handle_t *)&k->idle, (uv_handle_t *)&k->call_timer,
                         (uv_handle_t *)&k->emerg_timer, (uv_handle_t *)&k->confirm_timer};
    for (size_t i = 0; i < sizeof hs / sizeof *hs; i++)
        if (!uv_is_closing(hs[i]))
            uv_close(hs[i], on_closed);
}

int main(int argc, char **argv)
{
    whistle_settings flags = {0};
    const char *config = NULL, *idle = NULL, *device = NULL;
    static const char *const names[] = {"config", "idle", "device"};
    const char **const values[] = {&config, &idle, &device};
    const char *bad = NULL;
    bool utf8 = uitext_locale_init("whistle-kiosk") == 0;
    int r = shell_parse(argc, argv, names, values, 3, &flags, &bad);
    if (r == SHELL_HELP || r == SHELL_VERSION) {
        if (r == SHELL_HELP)
            usage(stdout);
        else
            printf("whistle-kiosk %s\n", WHISTLE_VERSION);
        whistle_settings_free(&flags);
        return 0;
    }
    if (r < 0) {
        if (r == SHELL_ERR_NO_VALUE)
            fprintf(stderr, "whistle-kiosk: --%s needs a value\n", bad);
        else
            fprintf(stderr, "whistle-kiosk: unknown option '%s' (see --help)\n", bad);
        whistle_settings_free(&flags);
        return 2;
    }

    static kiosk k; /* large; and the handles must outlive main's frame anyway */
    k.idle_s = IDLE_DEFAULT_S;
    if (idle) {
        char *end;
        unsigned long v = strtoul(idle, &end, 10);
        if (!*idle || *end || v > 86400) {
            fprintf(stderr, "whistle-kiosk: --idle takes seconds, 0 to 86400 (0: never); not '%s'\n", idle);
            whistle_settings_free(&flags);
            return 2;
        }
        k.idle_s = (unsigned)v;
    }
    if (device) {
        bool ok = *device && strlen(device) <= 64;
        for (const char *p = device; ok && *p; p++)
            ok = (unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f;
        if (!ok) {
            fprintf(stderr, "whistle-kiosk: --device is 1-64 printable ASCII characters without spaces\n");
            whistle_settings_free(&flags);
            return 2;
        }
        snprintf(k.device, sizeof k.device, "%s", device);
    }
    if (!utf8) {
        fprintf(stderr, "whistle-kiosk: needs a UTF-8 locale (set LANG=zh_CN.UTF-8 or C.UTF-8)\n");
        whistle_settings_free(&flags);
        return 2;
    }

    char err[512];
    r = shell_settings(&flags, config, WHISTLE_SOURCE_DIR "/var/pki", &k.settings, err, sizeof err);
    if (r == SHELL_ERR_SETTINGS) {
        fprintf(stderr, "whistle-kiosk: %s\n", err);
        return 2;
    }
    if (r == SHELL_ERR_NO_CERT) {
        fprintf(stderr, "whistle-kiosk: no client certificate: use --as NAME (dev PKI) or --cert FILE --key FILE\n");
        return 2;
    }
    if (r < 0) {
        fprintf(stderr, "whistle-kiosk: needs a terminal\n");
        return 2;
    }

    uv_loop_t loop;
    uv_loop_init(&loop);
    k.loop = &loop;
    /* raw: Ctrl-C and Ctrl-Z are keys here: a resident cannot stop the kiosk */
    shell_opts so = {.raw = true, .draw_ms = DRAW_MS};
    shell_cbs sc = {on_key, on_draw, on_stop};
    if (shell_start(&k.sh, &loop, &so, &sc, &k) < 0) {
        shell_end();
        fprintf(stderr, "whistle-kiosk: needs a terminal\n");
        return 2;
    }
    draw_init();

    uv_timer_t *timers[] = {&k.tick, &k.idle, &k.call_timer, &k.emerg_timer, &k.confirm_timer};
    for (size_t i = 0; i < sizeof timers / sizeof *timers; i++) {
        uv_timer_init(&loop, timers[i]);
        timers[i]->data = &k;
    }
    uv_timer_start(&k.tick, on_tick, TICK_MS, TICK_MS);

    flow_home(&k);
    net_start(&k);
    draw_screen(&k);
    uv_run(&loop, UV_RUN_DEFAULT);

    shell_end();
    int rc = 0;
    if (k.fatal) {
        fprintf(stderr, "whistle-kiosk: %s\n", k.fatal_err);
        rc = 1;
    }
    flow_home(&k);
    Whistle__V1__Response **dir[] = {&k.cats, &k.depts, &k.nodes, &k.services};
    for (size_t i = 0; i < 4; i++) {
        whistle_response_free(*dir[i]);
        *dir[i] = NULL;
    }
    uv_loop_close(&loop);
    return rc;
}
