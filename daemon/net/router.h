/* router.h: one whole frame from a connection -> an answer (router.c).
 * The server sets these as the hub's hooks (conn.h). */
#ifndef WHISTLED_ROUTER_H
#define WHISTLED_ROUTER_H

#include "conn.h"

/* Handles one whole frame from a connection. */
void router_frame(conn *c, const uint8_t *data, size_t len);
/* Finishes a request that waited for a writer barrier (Subscribe). */
void router_after_barrier(conn *c, const uint8_t *data, size_t len);
/* Frees what the router keeps on a connection (a partial import). */
void router_conn_free(conn *c);
/* Validates every string field of a message (recursively) as UTF-8; on
 * failure returns the field's name. */
const char *router_check_utf8(const ProtobufCMessage *m);

#endif
