/* main.c: whistle-gateway's entry point: flags, config, the HTTPS server,
 * the connection to whistled, the notifier; a graceful stop on SIGTERM or
 * SIGINT (stop accepting, let answers in flight finish for up to
 * http.drain_timeout, then close). */
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libxml/parser.h>
#include <uv.h>

#include "config.h"
#include "http.h"
#include "log.h"
#include "notify.h"
#include "open311.h"
#include "upstream.h"
#include "web.h"

#ifdef HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: whistle-gateway [--config FILE] [options]\n"
                 "\n"
                 "whistle's HTTP gateway: Open311 GeoReport v2 over HTTPS (docs/open311.md)\n"
                 "for municipal systems, acting for their principals at whistled, and a\n"
                 "notifier that tells a webhook (an SMS gateway) of status changes.\n"
                 "Settings come from the INI file (conf/whistle-gateway.conf documents\n"
                 "every key), then from these flags.\n"
                 "\n"
                 "  -c, --config FILE     configuration file\n"
                 "      --listen ADDR     address to bind (http.listen)\n"
                 "  -p, --port N          HTTPS port (http.port; 0 picks a free one)\n"
                 "      --log-level L     error, warn, info or debug (log.level)\n"
                 "      --port-file FILE  write the bound port there once listening\n"
                 "      --check-config    validate the configuration and exit\n"
                 "      --hash-password   read a password on stdin, print its argon2id hash\n"
                 "                        for [web_users] (docs/web.md) and exit\n"
                 "  -h, --help            this help\n"
                 "  -V, --version         print the version\n"
                 "\n"
                 "SIGTERM and SIGINT stop it (answers in flight finish first); SIGHUP reads\n"
                 "the HTTPS certificate and key again.\n");
}

typedef struct gw {
    uv_loop_t loop;
    gw_config cfg;
    gw_http *http;
    upstream *up;
    o311 *o;
    web *web;
    notifier *nt;
    uv_signal_t sigterm, sigint, sighup;
    uv_timer_t drain;
    uint64_t drain_until;
    bool stopping;
} gw;

static void finish(gw *g)
{
    uv_timer_stop(&g->drain);
    uv_close((uv_handle_t *)&g->drain, NULL);
    uv_close((uv_handle_t *)&g->sigterm, NULL);
    uv_close((uv_handle_t *)&g->sigint, NULL);
    uv_close((uv_handle_t *)&g->sighup, NULL);
    o311_stop(g->o);
    web_stop(g->web);
    notify_close(g->nt);
    up_close(g->up);
    g->up = NULL;
    if (gw_http_idle(g->http)) {
        gw_http_free(g->http);
        g->http = NULL;
    } else {
        /* h2o cannot be taken down under open connections: the process
         * ends with them (they stay reachable for the leak checker) */
        uv_stop(&g->loop);
    }
    gw_info("stopped");
}

/* Every tenth of a second while stopping: done once nothing is in flight
 * and every connection has closed, or the drain time is up. */
static void on_drain(uv_timer_t *t)
{
    gw *g = t->data;
    if ((o311_in_flight(g->o) == 0 && web_in_flight(g->web) == 0 && gw_http_idle(g->http)) ||
        uv_now(&g->loop) >= g->drain_until) {
        if (o311_in_flight(g->o) || gw_http_connections(g->http))
            gw_warn("stopping with %zu answers in flight and %zu connections open (http.drain_timeout)",
                    o311_in_flight(g->o), gw_http_connections(g->http));
        finish(g);
    }
}

static void on_signal(uv_signal_t *s, int signum)
{
    gw *g = s->data;
    if (g->stopping)
        return;
    g->stopping = true;
    gw_info("%s: stopping (answers in flight finish first)", signum == SIGTERM ? "SIGTERM" : "SIGINT");
#ifdef HAVE_SYSTEMD
    sd_notify(0, "STOPPING=1");
#endif
    gw_http_stop_accepting(g->http);
    web_stop(g->web); /* live streams would keep their connections open */
    g->drain_until = uv_now(&g->loop) + (uint64_t)g->cfg.drain_timeout * 1000;
    uv_timer_start(&g->drain, on_drain, 0, 100);
}

/* SIGHUP: the HTTPS certificate and key again (a renewed certificate),
 * without dropping a connection. The rest of the configuration needs a
 * restart. */
static void on_hup(uv_signal_t *s, int signum)
{
    gw *g = s->data;
    char err[512];
    (void)signum;
    if (gw_http_reload_tls(g->http, err, sizeof err) < 0)
        gw_error("SIGHUP: %s; the old certificate stays", err);
    else
        gw_info("SIGHUP: %s reloaded (the rest of the configuration needs a restart)", g->cfg.cert);
}

/* The web console's paths go to it, the rest to Open311. */
static void route(void *ud, h2o_req_t *req)
{
    gw *g = ud;
    if (web_owns(req))
        web_handle(g->web, req);
    else
        o311_handle(g->o, req);
}

/* --hash-password: one line of stdin (no echo on a terminal is the
 * shell's business: `read -s`), its hash on stdout. */
static int hash_password(void)
{
    char pw[1100], out[256], err[200];
    if (!fgets(pw, sizeof pw, stdin)) {
        fprintf(stderr, "whistle-gateway: --hash-password reads the password on stdin\n");
        return 1;
    }
    pw[strcspn(pw, "\r\n")] = '\0';
    if (strlen(pw) < 8 || strlen(pw) > 1024) {
        fprintf(stderr, "whistle-gateway: a password is 8 to 1024 bytes\n");
        return 1;
    }
    int rc = web_hash_password(pw, out, sizeof out, err, sizeof err);
    memset(pw, 0, sizeof pw);
    if (rc < 0) {
        fprintf(stderr, "whistle-gateway: %s\n", err);
        return 1;
    }
    printf("%s\n", out);
    return 0;
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

int main(int argc, char **argv)
{
    enum { OPT_LISTEN = 256, OPT_LOG, OPT_CHECK, OPT_PORTFILE, OPT_HASH };
    static const struct option opts[] = {
        { "config", required_argument, 0, 'c' },
        { "listen", required_argument, 0, OPT_LISTEN },
        { "port", required_argument, 0, 'p' },
        { "log-level", required_argument, 0, OPT_LOG },
        { "check-config", no_argument, 0, OPT_CHECK },
        { "port-file", required_argument, 0, OPT_PORTFILE },
        { "hash-password", no_argument, 0, OPT_HASH },
        { "help", no_argument, 0, 'h' },
        { "version", no_argument, 0, 'V' },
        { 0, 0, 0, 0 },
    };
    const char *config_path = NULL, *port_file = NULL;
    const char *o_listen = NULL, *o_port = NULL, *o_log = NULL;
    bool check_only = false;
    int ch;
    while ((ch = getopt_long(argc, argv, "c:p:hV", opts, NULL)) != -1) {
        switch (ch) {
        case 'c': config_path = optarg; break;
        case 'p': o_port = optarg; break;
        case OPT_LISTEN: o_listen = optarg; break;
        case OPT_LOG: o_log = optarg; break;
        case OPT_CHECK: check_only = true; break;
        case OPT_PORTFILE: port_file = optarg; break;
        case OPT_HASH: return hash_password();
        case 'h': usage(stdout); return 0;
        case 'V': printf("whistle-gateway %s\n", WHISTLE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "whistle-gateway: unexpected argument %s\n", argv[optind]);
        usage(stderr);
        return 2;
    }
    static gw g; /* the composition root's state: reachable for the whole run */
    char err[1024];
    gw_config_defaults(&g.cfg);
    if (config_path && gw_config_load(&g.cfg, config_path, err, sizeof err) < 0) {
        fprintf(stderr, "whistle-gateway: %s\n", err);
        gw_config_free(&g.cfg);
        return 1;
    }
    if ((o_listen && gw_config_set(&g.cfg, "http", "listen", o_listen, err, sizeof err) < 0) ||
        (o_port && gw_config_set(&g.cfg, "http", "port", o_port, err, sizeof err) < 0) ||
        (o_log && gw_config_set(&g.cfg, "log", "level", o_log, err, sizeof err) < 0) ||
        gw_config_validate(&g.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "whistle-gateway: %s\n", err);
        gw_config_free(&g.cfg);
        return 1;
    }
    if (check_only) {
        printf("whistle-gateway: %s: configuration OK\n", config_path ? config_path : "(defaults)");
        gw_config_free(&g.cfg);
        return 0;
    }
    gw_log_set_level(g.cfg.log_level);
    /* datetimes are the jurisdiction's, with their offset (ISO 8601) */
    setenv("TZ", g.cfg.timezone, 1);
    tzset();
    signal(SIGPIPE, SIG_IGN);
    xmlInitParser();

    uv_loop_init(&g.loop);
    g.o = o311_new(&g.loop, &g.cfg);
    g.web = web_new(&g.loop, &g.cfg);
    if (!g.o || !g.web) {
        fprintf(stderr, "whistle-gateway: out of memory\n");
        return 1;
    }
    if (gw_http_start(&g.loop, &g.cfg, route, &g, port_file, &g.http, err, sizeof err) < 0 ||
        up_open(&g.loop, &g.cfg, o311_on_ready, g.o, &g.up, err, sizeof err) < 0 ||
        (g.cfg.notify_enabled && notify_open(&g.loop, &g.cfg, gw_http_context(g.http), &g.nt, err, sizeof err) < 0)) {
        fprintf(stderr, "whistle-gateway: %s\n", err);
        return 1;
    }
    o311_attach(g.o, g.up);
    web_attach(g.web, g.up);
    uv_signal_init(&g.loop, &g.sigterm);
    uv_signal_init(&g.loop, &g.sigint);
    uv_signal_init(&g.loop, &g.sighup);
    g.sigterm.data = g.sigint.data = g.sighup.data = &g;
    uv_signal_start(&g.sighup, on_hup, SIGHUP);
    uv_signal_start(&g.sigterm, on_signal, SIGTERM);
    uv_signal_start(&g.sigint, on_signal, SIGINT);
    uv_timer_init(&g.loop, &g.drain);
    g.drain.data = &g;
    gw_info("whistle-gateway %s: whistled at %s:%u; GET answers read as %s%s", WHISTLE_VERSION, g.cfg.wd_host,
            g.cfg.wd_port, g.cfg.read_as, g.cfg.notify_enabled ? "; notifier on" : "");

#ifdef HAVE_SYSTEMD
    sd_notify(0, "READY=1"); /* listening; whistled is reached in the background */
#endif
    uv_run(&g.loop, UV_RUN_DEFAULT);
    if (g.http)
        return 0; /* stopped with connections open (finish) */
    uv_walk(&g.loop, close_any, NULL);
    uv_run(&g.loop, UV_RUN_DEFAULT);
    uv_loop_close(&g.loop);
    notify_free(g.nt);
    web_free(g.web);
    o311_free(g.o);
    gw_config_free(&g.cfg);
    xmlCleanupParser();
    return 0;
}
