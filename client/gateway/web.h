/* web.h: the web console (docs/web.md): static pages under /web/, a JSON
 * API under /web/api/ over whistled's calls, and a live stream of server-
 * sent events, for people who log in with a password.
 *
 * Who is who: a login ([web_users]) names the principal the gateway acts
 * for (Request.act_as) whenever that person acts, so whistled checks role
 * and scope and audits every call naming them; the page hides what the
 * role cannot do, and whistled refuses it when asked anyway.
 *
 * Sessions live in memory (a restart logs everyone out): a random 256-bit
 * id in a cookie (Secure, HttpOnly, SameSite=Strict, Path=/web), ended
 * after web.session_idle unused or web.session_max after login, or by
 * logout. Every POST but the login carries the session's CSRF token in
 * X-CSRF-Token; the login itself takes only application/json, which no
 * cross-site form can send. */
#ifndef GATEWAY_WEB_H
#define GATEWAY_WEB_H

#include <stdbool.h>
#include <stddef.h>

#include <h2o.h>
#include <uv.h>

#include "config.h"
#include "upstream.h"

typedef struct web web;

web *web_new(uv_loop_t *loop, const gw_config *cfg);
void web_attach(web *w, upstream *u);
/* Whether req's path is the web console's (/web, /web/...). */
bool web_owns(const h2o_req_t *req);
void web_handle(web *w, h2o_req_t *req);
/* Ends every live stream (a stop): browsers reconnect elsewhere. */
void web_stop(web *w);
/* Calls and logins in flight. */
size_t web_in_flight(const web *w);
void web_free(web *w);

/* An argon2id hash of password as a PHC string ($argon2id$v=19$...) into
 * out. Returns 0, or -1 with err. */
int web_hash_password(const char *password, char *out, size_t outlen, char *err, size_t errlen);

#endif
