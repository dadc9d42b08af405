/* whistle/session.h: a connection that comes back by itself (libwhistle,
 * async core).
 *
 * A whistle_session keeps one whistle_conn (async.h) open for as long as
 * the program runs: it connects and says Hello; when the attempt fails or
 * the connection goes away (the daemon restarts, the network drops) it
 * tries again after a backoff (500 ms, doubling, at most 5 s; it starts
 * over once a connection is live), for as long as it takes.
 *
 * A stream is followed from its cursor: the session does not subscribe by
 * itself, because a screen first loads what the pushes apply to. On every
 * connection on_ready runs, and the program calls whistle_session_subscribe
 * when it is ready to take pushes (at once, or once it has loaded). The
 * subscription starts after the stream's acknowledged cursor
 * (Subscribe.from_cursor), so whatever was pushed and not acknowledged
 * before the connection went away is pushed again: acknowledge a push
 * (whistle_session_ack) only once it has been handled. A program that
 * follows no stream says when its connection is in service with
 * whistle_session_mark_live.
 *
 * States run OFFLINE -> CONNECTING -> LOADING (Hello answered: on_ready)
 * -> LIVE (subscribed: on_live; or marked live), and back to OFFLINE
 * (on_down) from any of them.
 *
 * Threading and callbacks as for whistle_conn: everything on the loop's
 * thread; callbacks run from the loop, never from inside a call you made
 * (whistle_session_open starts the first attempt, and a failure of it at
 * once is reported from the loop), and may call any
 * function here, whistle_session_close included. Calls are made on the
 * current connection (whistle_session_conn) with whistle_conn_send; their
 * callbacks run (with WHISTLE_ERR_CLOSED) when it goes away.
 *
 * Functions return 0 or a negative WHISTLE_ERR_*. Like whistle_conn, a
 * session needs SIGPIPE ignored. */
#ifndef WHISTLE_SESSION_H
#define WHISTLE_SESSION_H

#include <stdint.h>

#include "whistle/async.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct whistle_session whistle_session;

typedef enum whistle_session_state {
    WHISTLE_SESSION_OFFLINE,    /* waiting for the backoff before the next attempt */
    WHISTLE_SESSION_CONNECTING, /* resolve, TCP, TLS, Hello */
    WHISTLE_SESSION_LOADING,    /* Hello answered; not live yet */
    WHISTLE_SESSION_LIVE,       /* subscribed (or marked live): in service */
} whistle_session_state;

typedef struct whistle_session_cbs {
    /* Hello was answered (state LOADING): load, then subscribe or mark
     * live. whistle_session_conn is the new connection. */
    void (*on_ready)(whistle_session *s, const Whistle__V1__HelloResult *hello, void *ud);
    /* The subscription was answered OK: the state is LIVE, and the replay
     * from the cursor follows. NULL: nothing to do. */
    void (*on_live)(whistle_session *s, void *ud);
    /* A push of the followed stream (yours: free it with whistle_push_free).
     * NULL: pushes are dropped. */
    void (*on_push)(whistle_session *s, Whistle__V1__Push *push, void *ud);
    /* The attempt failed or the connection went away (state OFFLINE); the
     * next attempt follows after the backoff. status: negative for an
     * error, 0 for a clean close. why: one line for people ("" when there
     * is nothing to say): the connection's error, or the server's refusal
     * of the subscription. */
    void (*on_down)(whistle_session *s, int status, const char *why, void *ud);
} whistle_session_cbs;

/* Starts a session and its first attempt. opts (and its strings) are
 * copied. Returns 0 with *out, or
 * WHISTLE_ERR_INVALID / WHISTLE_ERR_NOMEM with nothing started. */
int whistle_session_open(uv_loop_t *loop, const whistle_opts *opts, const whistle_session_cbs *cbs, void *ud,
                         whistle_session **out);

/* Ends it: no callback of the session runs after this; the connection is
 * closed gracefully (a PushAck already queued still goes out) and the
 * session frees itself once libuv is done with it, so the loop can end.
 * Forget the pointer. NULL is fine. */
void whistle_session_close(whistle_session *s);

/* Subscribes to stream (copied; it is the stream acknowledgements go to)
 * on the current connection, from the stream's acknowledged cursor. The
 * answer makes the session LIVE, or, refused, drops the connection with
 * the server's reason (on_down; then a new attempt after the backoff).
 * Returns 0, WHISTLE_ERR_STATE when no connection has said Hello,
 * WHISTLE_ERR_INVALID for a bad stream, or the send's error (the
 * connection is then dropped). */
int whistle_session_subscribe(whistle_session *s, const char *stream);

/* Acknowledges the followed stream up to seq: the cursor a later
 * subscription starts after. Only forward; a seq at or below the last
 * acknowledged one is no error and sends nothing. Returns 0, or
 * WHISTLE_ERR_STATE when not LIVE on a subscription. */
int whistle_session_ack(whistle_session *s, uint64_t seq);

/* A gateway's session that follows a stream for another principal
 * (Request.act_as and PushAck.act_as, docs/protocol.md section 12): its
 * subscriptions and acknowledgements from now on are made as name (NULL or
 * "": the session's own principal). Returns 0 or WHISTLE_ERR_INVALID for a
 * name over 64 bytes. */
int whistle_session_act_as(whistle_session *s, const char *name);

/* For a session that follows no stream: its connection is in service (the
 * program has loaded what it needs). State LIVE and the backoff starts
 * over (on_live is for subscriptions: the caller knows). Returns 0, or
 * WHISTLE_ERR_STATE before Hello. */
int whistle_session_mark_live(whistle_session *s);

/* Drops the current connection (a call answered with an error the program
 * cannot work with): on_down, then a new attempt after the backoff.
 * Nothing when there is no connection. */
void whistle_session_drop(whistle_session *s);

/* The current connection once it has said Hello (LOADING or LIVE), else
 * NULL; valid until on_down. NULL session: NULL. */
whistle_conn *whistle_session_conn(const whistle_session *s);
/* OFFLINE for a NULL session. */
whistle_session_state whistle_session_state_of(const whistle_session *s);
/* The followed stream's positions: the highest seq pushed to on_push (or
 * the last subscription's replay_after, if higher), the last acknowledged (the server's cursor as of the last subscription, then
 * what whistle_session_ack sent), and the stream's newest seq when the
 * last subscription began (pushes above it are live, not replayed). */
uint64_t whistle_session_received(const whistle_session *s);
uint64_t whistle_session_acked(const whistle_session *s);
uint64_t whistle_session_live_from(const whistle_session *s);
/* Connection attempts after the first. */
uint64_t whistle_session_reconnects(const whistle_session *s);

#ifdef __cplusplus
}
#endif
#endif
