/* main.c: whistle-bridge's entry point: flags, the configuration, then
 * bridge_run until SIGTERM or SIGINT (docs/federation.md). */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: whistle-bridge --config FILE [options]\n"
                 "\n"
                 "A district's link to the city's NATS JetStream (docs/federation.md): it\n"
                 "publishes its whistled's federation stream fed:<district> (status changes,\n"
                 "orders for city departments, transfers to other districts) and applies\n"
                 "what the city sends the district (intake.<district>, cmd.<district>.>, the\n"
                 "city directory), acknowledging each side only after the other has it.\n"
                 "Settings come from the INI file (conf/whistle-bridge.conf documents every\n"
                 "key), then from these flags.\n"
                 "\n"
                 "  -c, --config FILE     configuration file\n"
                 "  -d, --district CODE   the district (bridge.district)\n"
                 "      --nats URL        NATS server URL(s), comma-separated (nats.url)\n"
                 "      --log-level L     error, warning, info or debug (log.level)\n"
                 "      --check-config    validate the configuration and exit\n"
                 "  -h, --help            this help\n"
                 "  -V, --version         print the version\n"
                 "\n"
                 "SIGTERM and SIGINT stop it; whatever was not acknowledged is sent again by\n"
                 "the other side after the next start.\n");
}

int main(int argc, char **argv)
{
    static const struct option longs[] = {
        { "config", required_argument, NULL, 'c' }, { "district", required_argument, NULL, 'd' },
        { "nats", required_argument, NULL, 'n' },   { "log-level", required_argument, NULL, 'l' },
        { "check-config", no_argument, NULL, 'k' }, { "help", no_argument, NULL, 'h' },
        { "version", no_argument, NULL, 'V' },      { 0, 0, 0, 0 }
    };
    const char *path = NULL, *district = NULL, *nats = NULL, *level = NULL;
    int check = 0, o;
    while ((o = getopt_long(argc, argv, "c:d:hV", longs, NULL)) != -1) {
        switch (o) {
        case 'c': path = optarg; break;
        case 'd': district = optarg; break;
        case 'n': nats = optarg; break;
        case 'l': level = optarg; break;
        case 'k': check = 1; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("whistle-bridge %s\n", WHISTLE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        usage(stderr);
        return 2;
    }
    bridge_config cfg;
    bridge_config_defaults(&cfg);
    char err[1024];
    if (path && bridge_config_load(&cfg, path, err, sizeof err) < 0) {
        fprintf(stderr, "whistle-bridge: %s\n", err);
        bridge_config_free(&cfg);
        return 1;
    }
    if ((district && bridge_config_set(&cfg, "bridge", "district", district, err, sizeof err) < 0) ||
        (nats && bridge_config_set(&cfg, "nats", "url", nats, err, sizeof err) < 0) ||
        (level && bridge_config_set(&cfg, "log", "level", level, err, sizeof err) < 0) ||
        bridge_config_validate(&cfg, err, sizeof err) < 0) {
        fprintf(stderr, "whistle-bridge: %s\n", err);
        bridge_config_free(&cfg);
        return 1;
    }
    if (check) {
        printf("whistle-bridge: %s: OK\n", path ? path : "(flags)");
        bridge_config_free(&cfg);
        return 0;
    }
    blog_set_level(cfg.log_level);
    int rc = bridge_run(&cfg);
    bridge_config_free(&cfg);
    return rc;
}
