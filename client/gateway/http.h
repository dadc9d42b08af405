/* http.h: the HTTPS side of whistle-gateway, on libh2o (libuv flavour).
 *
 * Why libh2o rather than libwebsockets: the gateway is a request/response
 * server (Open311 today, a web console later) and h2o is a compact HTTP/1
 * and HTTP/2 server library whose request object, memory pools and limits
 * (request body size, request and handshake timeouts) are what that needs;
 * Debian's build runs on libuv, the loop libwhistle already uses, so one
 * thread serves both sides with no glue. It also carries an HTTP/1 client
 * on the same loop, which the notifier uses for its webhook. libwebsockets
 * centres on WebSocket sessions with a callback-per-reason protocol table;
 * for plain HTTP it would be more code for the same result.
 *
 * What this layer guarantees to the handler: the request head (line and
 * headers) is within http.max_header_bytes (else 431 was answered), the
 * body within http.max_body_bytes (h2o answers 413), the head and body
 * arrived within http.request_timeout (h2o closes a slow one: slowloris),
 * and at most http.max_connections connections are open (more are closed
 * at accept). */
#ifndef GATEWAY_HTTP_H
#define GATEWAY_HTTP_H

#include <stddef.h>

#include <h2o.h>
#include <uv.h>

#include "config.h"

typedef struct gw_http gw_http;

/* The handler: answers req now or later (h2o_send_inline on the loop),
 * exactly once, unless the client goes away first (see h2o's pool dispose
 * callbacks). */
typedef void (*gw_http_handler)(void *ud, h2o_req_t *req);

/* Binds, listens and starts serving. port_file, if not NULL, receives the
 * bound port once listening. Returns 0, or -1 with err (a start-up error:
 * the certificate, the address). */
int gw_http_start(uv_loop_t *loop, const gw_config *cfg, gw_http_handler h, void *ud, const char *port_file,
                  gw_http **out, char *err, size_t errlen);
/* Stops accepting and asks open connections to finish (HTTP/2 GOAWAY,
 * HTTP/1 no keep-alive). */
void gw_http_stop_accepting(gw_http *s);
/* Reads http.cert and http.key again (SIGHUP): new connections get them;
 * open ones keep theirs. Returns 0, or -1 with err and the old ones kept. */
int gw_http_reload_tls(gw_http *s, char *err, size_t errlen);
/* Connections still open. */
size_t gw_http_connections(const gw_http *s);
/* Whether nothing is left for h2o to do (no connection, no timer entry):
 * only then may it be freed. */
int gw_http_idle(gw_http *s);
/* The h2o context: the loop, timeouts and the name resolver the webhook
 * client shares. */
h2o_context_t *gw_http_context(gw_http *s);
/* Frees what is left once the loop has closed every handle. */
void gw_http_free(gw_http *s);

/* Sends a whole answer: status, content type and body (copied). */
void gw_http_send(h2o_req_t *req, int status, const char *reason, const char *ctype, const char *body, size_t len);

/* Whether s[0..len) is well-formed UTF-8 (no overlong forms, surrogates,
 * or code points above U+10FFFF) with no NUL. */
int gw_utf8_ok(const char *s, size_t len);

#endif
