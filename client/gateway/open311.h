/* open311.h: Open311 GeoReport v2 under /open311/v2/ (docs/open311.md),
 * in XML and JSON, over whistled's calls.
 *
 * GET answers are read as open311.read_as (an integration principal whose
 * scope is the jurisdiction); a POST acts as the principal its api_key
 * stands for (Request.act_as), so whistled checks, scopes and audits it as
 * that principal's, naming the gateway too. GET answers never carry
 * personal data: no contact, no reporter, no names of workers.
 *
 * The catalogue (categories, departments, places) is kept in memory,
 * loaded on every connection to whistled and refreshed every minute, so
 * that listing services and naming places costs no call. */
#ifndef GATEWAY_OPEN311_H
#define GATEWAY_OPEN311_H

#include <h2o.h>
#include <stddef.h>

#include "config.h"
#include "upstream.h"

typedef struct o311 o311;

o311 *o311_new(uv_loop_t *loop, const gw_config *cfg);
/* Binds it to whistled: the catalogue loads whenever the connection is up. */
void o311_attach(o311 *o, upstream *u);
/* upstream's on_ready: load the catalogue. */
void o311_on_ready(void *o, upstream *u);
/* The HTTP handler (http.h): every request of the gateway. */
void o311_handle(void *o, h2o_req_t *req);
/* Requests being answered. */
size_t o311_in_flight(const o311 *o);
/* Stops the refresh timer; the loop then frees it (o311_free after the
 * loop ran out). */
void o311_stop(o311 *o);
void o311_free(o311 *o);

#endif
