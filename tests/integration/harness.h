/* harness.h: a real whistled for integration tests.
 *
 * Each test starts its own daemon on a port the kernel picks (port 0,
 * reported through --port-file) with a fresh state directory seeded with
 * the demo city, and a fixture PKI shared by all tests (made once, under a
 * lock, in the build tree). Raw connections speak TLS with OpenSSL
 * directly, so protocol rules can be tested with bytes the test writes. */
#ifndef WHISTLE_HARNESS_H
#define WHISTLE_HARNESS_H

#include <openssl/ssl.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "whistle/client.h"
#include "whistle/frame.h"

typedef struct daemon_h {
    pid_t pid;
    int port;
    char dir[256]; /* the test's temp dir: state/, whistled.conf, whistled.log, port */
    char conf[320];
    char log[320];
    char extra[1024];   /* extra config lines, kept for restarts */
    char clock[320];    /* the --test-clock file, or "" for the real clock */
    bool power_loss;    /* (re)starts run under plshim.so: harness_power_cut */
    int flush_delay_ms; /* and each flush of a file takes this much longer */
} daemon_h;

/* The fixture PKI directory (made on first use): the demo principals plus
 * "stranger" (valid certificate, no principal), "revoked" (in the CRL),
 * expired/police, future/police (not yet valid) and foreign/police (signed
 * by another CA). */
const char *harness_pki(void);

/* Starts whistled; extra_conf (may be NULL) is appended to the generated
 * config as INI lines, e.g. "[server]\nmax_frame = 4096\n". Asserts. */
void harness_start(daemon_h *d, const char *extra_conf);
/* SIGTERM and wait; asserts a clean exit (status 0). */
void harness_stop(daemon_h *d);
/* SIGKILL and wait. */
void harness_kill(daemon_h *d);
/* Starts again on the same state directory and config. */
void harness_restart(daemon_h *d);
/* Starts whistled on a test clock (--test-clock) reading start_ms. */
void harness_start_clock(daemon_h *d, const char *extra_conf, int64_t start_ms);
/* Moves the test clock (atomically: a temporary file renamed over it). */
void harness_set_clock(daemon_h *d, int64_t ms);
/* Stops (if running) and removes the temp dir. */
void harness_cleanup(daemon_h *d);
/* Whether the daemon's log contains needle. */
bool harness_log_contains(daemon_h *d, const char *needle);
/* Waits up to timeout_ms for the log to contain needle. */
bool harness_log_wait(daemon_h *d, const char *needle, int timeout_ms);
/* The daemon's resident memory (VmRSS of /proc/PID/status), in KiB. */
long harness_rss_kb(daemon_h *d);
/* Sends the daemon a signal (SIGHUP: reload certificates). */
void harness_signal(daemon_h *d, int sig);
/* The power-loss test's tools (tests/powerloss; docs/reliability.md):
 * with d->power_loss set, harness_restart runs whistled under plshim.so
 * (its store must exist: start it plain first), which journals every
 * change to the store that is not yet flushed. After harness_kill,
 * harness_power_cut takes those changes away, as a power cut would
 * (plrestore; keep_chance: the percentage of unflushed pages kept),
 * and returns plrestore's summary line in out. Asserts it ran. */
void harness_power_cut(daemon_h *d, int keep_chance, unsigned seed, char *out, size_t outlen);
/* Runs `whistled --check` on the daemon's store; returns its exit code and
 * leaves its output in out (may be NULL). */
int harness_check_store(daemon_h *d, char *out, size_t outlen);
/* A plain TCP connection to the daemon (no TLS); -1 on failure. */
int harness_tcp_connect(daemon_h *d);

/* Connects as a fixture principal through libwhistle; asserts success. */
whistle_client *harness_connect(daemon_h *d, const char *name);
/* Same, but returns the error instead of asserting (NULL + err). */
whistle_client *harness_try_connect(daemon_h *d, const char *cert, const char *key, char *err, size_t errlen);
/* Cert/key paths of a fixture principal. */
void harness_cert(const char *name, char *cert, size_t certlen, char *key, size_t keylen);

/* Fuzz corpus capture: with WHISTLE_FUZZ_CAPTURE=DIR set, every request
 * a test sends (through the calls below, raw_send_request or raw_write) is
 * also written to DIR/request/ (principal byte + Frame, the input of
 * tests/fuzz/fuzz_request.c) and DIR/frame/ (step byte + the bytes as
 * framed on the wire, fuzz_frame.c). scripts/fuzz.sh capture runs the
 * integration tests so and merges what adds coverage into
 * tests/fuzz/corpus/. Without the variable these do nothing. */
void harness_capture_request(whistle_client *c, const Whistle__V1__Request *req);

/* A call that must succeed: returns the response (free it). */
Whistle__V1__Response *harness_call_ok(whistle_client *c, Whistle__V1__Request *req);
/* A call expected to fail with code; returns the message (static buffer). */
const char *harness_call_fail(whistle_client *c, Whistle__V1__Request *req, int code);
/* The server's counters (server_stats, an admin's call, which must
 * succeed): *keep holds the response to free. */
Whistle__V1__ServerStatsResult *harness_server_stats(whistle_client *c, Whistle__V1__Response **keep);

/* ---- raw TLS connections with hand-built frames ---- */
typedef struct raw_conn {
    int fd;
    SSL_CTX *ctx;
    SSL *ssl;
    whistle_framer fr;
    char who[64]; /* the certificate's name, for the fuzz corpus capture */
} raw_conn;

/* cert/key may be NULL: no client certificate. Returns 0 when the TLS
 * handshake completed (TLS 1.3 may still refuse the certificate right
 * after: the first read then fails). */
int raw_open(raw_conn *r, daemon_h *d, const char *cert, const char *key);
/* The same with the client's TLS versions and TLS 1.2 cipher list chosen
 * (0 / NULL: OpenSSL's defaults), to try what the server must refuse. */
int raw_open_tls(raw_conn *r, daemon_h *d, const char *cert, const char *key, int min_version, int max_version,
                 const char *ciphers);
int raw_write(raw_conn *r, const void *data, size_t len);
/* A request as a correctly framed Frame. */
int raw_send_request(raw_conn *r, const Whistle__V1__Request *req);
/* Next frame: 1 with *f (free with whistle__v1__frame__free_unpacked), 0 on
 * timeout, -1 when the connection closed or failed. */
int raw_read_frame(raw_conn *r, int timeout_ms, Whistle__V1__Frame **f);
/* Whether the server closed the connection within timeout_ms (reads and
 * discards frames meanwhile). */
bool raw_wait_closed(raw_conn *r, int timeout_ms);
void raw_close(raw_conn *r);
/* Opens a raw connection as name and does Hello; asserts. */
void raw_open_hello(raw_conn *r, daemon_h *d, const char *name);

#endif

/* ---- shortcuts for the calls of the loop (assert OK) ---- */
/* Reports a case; returns its ticket (malloc'd). */
char *h_report(whistle_client *c, const char *node, const char *category, const char *text);
Whistle__V1__Response *h_simple(whistle_client *c, int call, const char *ticket, const char *text);
/* Whistles the case to the departments (comma-free array); returns the
 * response (free it). */
Whistle__V1__Response *h_whistle(whistle_client *c, const char *ticket, const char **depts, size_t n);
Whistle__V1__Response *h_order_call(whistle_client *c, int call, uint64_t order, const char *text);
Whistle__V1__Event *h_get(whistle_client *c, const char *ticket, Whistle__V1__Response **keep);
/* Subscribes to the principal's own stream: from the acked cursor when
 * after_seq < 0. */
void h_subscribe(whistle_client *c, long long after_seq);
/* Waits for the next push with action; returns it (free it) or NULL. */
Whistle__V1__Push *h_wait_push(whistle_client *c, const char *action, int timeout_ms);

#define FIRST_GRID "110105001001001"
