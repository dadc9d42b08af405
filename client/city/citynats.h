/* citynats.h: what the city's programs (whistle-city, whistle-router)
 * share: the connection to the city's NATS cluster (TLS with a client
 * certificate of the city's NATS CA, the inbox prefix the server's
 * permissions expect), the names of the streams and consumers, and small
 * helpers. docs/federation.md describes the whole. */
#ifndef WHISTLE_CITYNATS_H
#define WHISTLE_CITYNATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nats/nats.h>

/* Streams and buckets (created by `whistle-city setup`, replicas 3). */
#define CITY_STREAM_HOTLINE "HOTLINE" /* hotline.in */
#define CITY_STREAM_INTAKE "INTAKE"   /* intake.<district>, intake.unrouted */
#define CITY_STREAM_EV "EV"           /* ev.<district>.case.<ticket>, ev.<district>.order.<dept> */
#define CITY_STREAM_CMD "CMD"         /* cmd.<district>.<kind> */
#define CITY_KV_DIR "city_dir"
#define CITY_KV_STATS "city_stats"
#define CITY_SUBJ_UNROUTED "intake.unrouted"
/* The Msg-Id of a hotline case everywhere it goes: HOTLINE, INTAKE. */
#define CITY_HOTLINE_ORIGIN "12345"

/* Connection settings: flags, then WHISTLE_NATS_* variables. */
typedef struct city_opts {
    const char *servers; /* comma-separated nats://host:port (WHISTLE_NATS_SERVERS) */
    const char *cert;    /* client certificate (WHISTLE_NATS_CERT) */
    const char *key;     /* its key (WHISTLE_NATS_KEY) */
    const char *ca;      /* the city's NATS CA (WHISTLE_NATS_CA) */
    const char *prog;    /* for messages and the connection's name */
    bool quiet;          /* no reconnect chatter */
} city_opts;

typedef struct city_conn {
    natsConnection *nc;
    jsCtx *js;
    char name[128]; /* the certificate's CN: the user the server maps it to */
} city_conn;

/* Fills unset fields of o from the environment. Returns 0, or -1 with a
 * message on stderr naming what is missing. */
int city_opts_env(city_opts *o);

/* Connects (retrying for up to wait_ms while no server answers) and makes
 * the JetStream context (API calls wait up to api_wait_ms). The inbox
 * prefix is _I.<CN of the certificate>. Reconnects forever once up.
 * Returns 0, or -1 with one line on stderr. */
int city_connect(const city_opts *o, int64_t wait_ms, int64_t api_wait_ms, city_conn *c);
void city_close(city_conn *c);

/* Whether the server refused this connection's user a publish or a
 * subscription (a permissions violation; reported asynchronously, so a
 * request that was refused only times out): then waiting is useless. */
bool city_denied(void);

/* The certificate's subject CN into out. Returns 0 or -1. */
int city_cert_cn(const char *path, char *out, size_t outlen);

/* Whether s is a district code (6 digits). */
bool city_is_district(const char *s);

/* The (district, seq) of a Nats-Msg-Id "<district>:<seq>[:...]" (a
 * bridge's entry). Returns 0, or -1 when it is not one. */
int city_msgid_seq(const char *msgid, char *district, size_t dlen, uint64_t *seq);

/* Now in Unix milliseconds. */
int64_t city_now_ms(void);

/* Logs a libnats failure: "prog: what: status text (last error)". */
void city_nats_err(const char *prog, const char *what, natsStatus s, jsErrCode jerr);

#endif
