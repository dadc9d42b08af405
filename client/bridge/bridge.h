/* bridge.h: whistle-bridge, a district's link to the city's NATS JetStream
 * (docs/federation.md).
 *
 * One libuv loop thread owns everything that talks to whistled (a
 * libwhistle session as a ROLE_BRIDGE principal) and the NATS connection's
 * socket (libnats on its libuv adapter). libnats calls back from threads of
 * its own (publish acknowledgements, the replay subscription); those
 * callbacks only queue what they got and wake the loop with uv_async. The
 * calls of libnats that wait for an answer run on threads of their own,
 * which hand what they got to the loop the same way: one per pull consumer
 * (set-up and fetches), one for the key-value watcher and puts. The loop
 * never blocks, and the libnats socket it reads is what those waits wait
 * for.
 *
 * Outbound: the stream fed:<district> is followed from its acknowledged
 * cursor and each entry published with Nats-Msg-Id "<district>:<seq>";
 * whistled's cursor moves only to the highest seq whose every predecessor
 * JetStream acknowledged. Inbound: durable pull consumers of
 * intake.<district> and cmd.<district>.>, each message applied with
 * fed_apply and acknowledged to NATS only after whistled answered (its
 * commit). */
#ifndef WHISTLE_BRIDGE_H
#define WHISTLE_BRIDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct bridge_config {
    char *path;
    /* [bridge] */
    char *district;          /* 6 digits */
    uint32_t in_flight;      /* inbound messages being applied at once */
    uint32_t publish_window; /* outbound publishes awaiting JetStream's ack */
    uint32_t stats_interval; /* s between statistics puts */
    /* The pull consumers: given, they are bound (made by the city's
     * set-up, on intake_stream and cmd_stream); empty, the bridge makes
     * bridge_<district>_intake and bridge_<district>_cmd itself. */
    char *intake_durable, *cmd_durable;
    char *intake_stream, *cmd_stream;
    /* [whistled] */
    char *wd_host;
    uint16_t wd_port;
    char *wd_ca, *wd_cert, *wd_key;
    /* [nats] */
    char *nats_url; /* comma-separated nats:// or tls:// URLs */
    char *nats_ca, *nats_cert, *nats_key;
    char *nats_name;
    char *nats_inbox; /* the inbox prefix ("" : _I.bridge-<district>) */
    /* [log] */
    int log_level; /* 0 error, 1 warning, 2 info, 3 debug */
} bridge_config;

void bridge_config_defaults(bridge_config *c);
/* Reads the INI file; -1 with err naming the line and key on error. */
int bridge_config_load(bridge_config *c, const char *path, char *err, size_t errlen);
/* Sets one key as if read from [section] (flags). */
int bridge_config_set(bridge_config *c, const char *section, const char *key, const char *value, char *err,
                      size_t errlen);
int bridge_config_validate(const bridge_config *c, char *err, size_t errlen);
void bridge_config_free(bridge_config *c);

/* One line to stderr (journald) at a level; levels above c->log_level are
 * dropped. */
void blog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void blog_set_level(int level);

/* Runs the bridge until SIGTERM/SIGINT: 0 on a clean stop, 1 when it could
 * not start (with one line on stderr). */
int bridge_run(const bridge_config *c);

#endif
