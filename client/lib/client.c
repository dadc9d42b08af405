/* client.c: libwhistle's blocking API (whistle/client.h), built on the
 * async core with a private loop that runs only while a call waits. */
#include <openssl/rand.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whistle/client.h"

typedef struct push_item {
    Whistle__V1__Push *push;
    struct push_item *next;
} push_item;

struct whistle_client {
    uv_loop_t loop;
    uv_timer_t timer;
    whistle_conn *conn; /* NULL once closed */
    Whistle__V1__HelloResult *hello;
    uint32_t timeout_ms;
    int connect_done, connect_status;
    int closed, close_status;
    int timed_out;
    int acks_unconfirmed; /* PushAcks sent since the last answered call */
    push_item *push_head, *push_tail;
    char err[512];
};

typedef struct call_slot {
    int done, status;
    Whistle__V1__Response *resp;
} call_slot;

static void on_connect(whistle_conn *conn, int status, void *ud)
{
    whistle_client *c = ud;
    c->connect_done = 1;
    c->connect_status = status;
    if (status < 0)
        snprintf(c->err, sizeof c->err, "%s", whistle_conn_error(conn));
}

static void on_push(whistle_conn *conn, Whistle__V1__Push *push, void *ud)
{
    (void)conn;
    whistle_client *c = ud;
    push_item *it = malloc(sizeof *it);
    if (!it) {
        /* Dropping it is safe: it is not acked, so a resubscribe replays it. */
        whistle_push_free(push);
        return;
    }
    it->push = push;
    it->next = NULL;
    if (c->push_tail)
        c->push_tail->next = it;
    else
        c->push_head = it;
    c->push_tail = it;
}

static void on_close(whistle_conn *conn, int status, void *ud)
{
    whistle_client *c = ud;
    c->closed = 1;
    c->close_status = status;
    if (status < 0 || !c->err[0])
        snprintf(c->err, sizeof c->err, "%s", whistle_conn_error(conn));
    c->conn = NULL; /* freed when this returns */
}

static void on_timer(uv_timer_t *t)
{
    whistle_client *c = t->data;
    c->timed_out = 1;
}

static void on_response(whistle_conn *conn, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)conn;
    call_slot *s = ud;
    s->done = 1;
    s->status = status;
    s->resp = resp;
}

/* Runs the loop until *flag is set, the timeout passes (timeout_ms < 0:
 * never) or nothing is left that could set it. Returns 1 if *flag got set. */
static int wait_for(whistle_client *c, const int *flag, int timeout_ms)
{
    c->timed_out = 0;
    if (timeout_ms >= 0)
        uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
    while (!*flag && !c->timed_out) {
        if (uv_run(&c->loop, UV_RUN_ONCE) == 0 && !*flag)
            break; /* no active handle left: nothing will ever set it */
    }
    uv_timer_stop(&c->timer);
    return *flag;
}

static void shutdown_loop(whistle_client *c)
{
    if (c->conn) {
        whistle_conn_close(c->conn);
        while (!c->closed && uv_run(&c->loop, UV_RUN_ONCE) != 0)
            ;
    }
    uv_close((uv_handle_t *)&c->timer, NULL);
    /* Drain close callbacks; then the loop has nothing left. */
    uv_run(&c->loop, UV_RUN_DEFAULT);
    uv_loop_close(&c->loop);
}

int whistle_connect(const whistle_opts *o, whistle_client **out, char *err, size_t errlen)
{
    *out = NULL;
    whistle_client *c = calloc(1, sizeof *c);
    if (!c) {
        snprintf(err, errlen, "out of memory");
        return WHISTLE_ERR_NOMEM;
    }
    int r = uv_loop_init(&c->loop);
    if (r < 0) {
        snprintf(err, errlen, "uv_loop_init: %s", uv_strerror(r));
        free(c);
        return WHISTLE_ERR_NOMEM;
    }
    uv_timer_init(&c->loop, &c->timer);
    c->timer.data = c;
    c->timeout_ms = o->timeout_ms ? o->timeout_ms : 10000;

    whistle_conn_cbs cbs = { on_connect, on_push, on_close };
    r = whistle_conn_open(&c->loop, o, &cbs, c, &c->conn, err, errlen);
    if (r < 0) {
        c->conn = NULL;
        shutdown_loop(c);
        free(c);
        return r;
    }
    /* The connection has its own connect timeout; no timer here. */
    wait_for(c, &c->connect_done, -1);
    if (!c->connect_done || c->connect_status < 0) {
        snprintf(err, errlen, "%s", c->err[0] ? c->err : "connect failed");
        r = c->connect_done ? c->connect_status : WHISTLE_ERR_CLOSED;
        whistle_close(c);
        return r;
    }
    /* Keep a copy of the Hello answer: it must outlive the connection,
     * which goes away as soon as the server drops it. */
    const Whistle__V1__HelloResult *h = whistle_conn_hello(c->conn);
    size_t n = whistle__v1__hello_result__get_packed_size(h);
    uint8_t *buf = malloc(n ? n : 1);
    if (buf) {
        whistle__v1__hello_result__pack(h, buf);
        c->hello = whistle__v1__hello_result__unpack(NULL, n, buf);
        free(buf);
    }
    if (!c->hello) {
        snprintf(err, errlen, "out of memory");
        whistle_close(c);
        return WHISTLE_ERR_NOMEM;
    }
    *out = c;
    return 0;
}

const Whistle__V1__HelloResult *whistle_hello(const whistle_client *c) { return c->hello; }

int whistle_call(whistle_client *c, Whistle__V1__Request *req, Whistle__V1__Response **resp)
{
    *resp = NULL;
    if (!c->conn) {
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "connection closed");
        return WHISTLE_ERR_CLOSED;
    }
    call_slot slot = { 0 };
    int r = whistle_conn_send(c->conn, req, on_response, &slot);
    if (r < 0) {
        snprintf(c->err, sizeof c->err, "send: %s",
                 whistle_conn_error(c->conn)[0] ? whistle_conn_error(c->conn) : whistle_strerror(r));
        return r;
    }
    if (!wait_for(c, &slot.done, (int)c->timeout_ms)) {
        /* The slot lives on this stack frame: make sure no late answer
         * writes into it. */
        if (c->conn)
            whistle_conn_cancel(c->conn, req->id);
        snprintf(c->err, sizeof c->err, "timed out after %u ms waiting for the server's answer", c->timeout_ms);
        return WHISTLE_ERR_TIMEOUT;
    }
    if (slot.status < 0) {
        if (!c->err[0])
            snprintf(c->err, sizeof c->err, "%s", whistle_strerror(slot.status));
        return slot.status;
    }
    *resp = slot.resp;
    c->acks_unconfirmed = 0; /* the server reads in order: it has read them */
    return 0;
}

static Whistle__V1__Push *pop_push(whistle_client *c)
{
    push_item *it = c->push_head;
    if (!it)
        return NULL;
    c->push_head = it->next;
    if (!c->push_head)
        c->push_tail = NULL;
    Whistle__V1__Push *p = it->push;
    free(it);
    return p;
}

int whistle_next_push(whistle_client *c, int timeout_ms, Whistle__V1__Push **push)
{
    *push = NULL;
    if (!c->push_head && c->conn) {
        if (timeout_ms == 0)
            uv_run(&c->loop, UV_RUN_NOWAIT);
        else {
            /* Not wait_for: what ends this wait is the queue filling. */
            c->timed_out = 0;
            if (timeout_ms > 0)
                uv_timer_start(&c->timer, on_timer, (uint64_t)timeout_ms, 0);
            while (!c->push_head && !c->timed_out && c->conn) {
                if (uv_run(&c->loop, UV_RUN_ONCE) == 0)
                    break;
            }
            uv_timer_stop(&c->timer);
        }
    }
    if (c->push_head) {
        *push = pop_push(c);
        return 1;
    }
    if (!c->conn)
        return c->close_status < 0 ? c->close_status : WHISTLE_ERR_CLOSED;
    return 0;
}

int whistle_push_ack(whistle_client *c, const char *stream, uint64_t seq)
{
    return whistle_push_ack_as(c, stream, seq, NULL);
}

int whistle_push_ack_as(whistle_client *c, const char *stream, uint64_t seq, const char *act_as)
{
    if (!c->conn)
        return WHISTLE_ERR_CLOSED;
    int r = whistle_conn_push_ack_as(c->conn, stream, seq, act_as);
    if (r < 0)
        snprintf(c->err, sizeof c->err, "push ack: %s", whistle_strerror(r));
    else {
        c->acks_unconfirmed = 1;
        uv_run(&c->loop, UV_RUN_NOWAIT); /* let the write go out now */
    }
    return r;
}

const char *whistle_last_error(const whistle_client *c) { return c ? c->err : ""; }

void whistle_close(whistle_client *c)
{
    if (!c)
        return;
    if (c->conn && c->acks_unconfirmed) {
        /* A PushAck has no answer, so nothing says the server read it
         * before our close (a server may drop frames that arrive together
         * with close_notify). One Ping round trip settles it; its answer
         * comes only after the server has read everything sent before. */
        Whistle__V1__Ping ping = WHISTLE__V1__PING__INIT;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_PING;
        req.ping = &ping;
        Whistle__V1__Response *resp;
        uint32_t keep = c->timeout_ms;
        c->timeout_ms = keep < 2000 ? keep : 2000;
        if (whistle_call(c, &req, &resp) == 0)
            whistle_response_free(resp);
        c->timeout_ms = keep;
    }
    shutdown_loop(c);
    Whistle__V1__Push *p;
    while ((p = pop_push(c)) != NULL)
        whistle_push_free(p);
    if (c->hello)
        whistle__v1__hello_result__free_unpacked(c->hello, NULL);
    free(c);
}

int whistle_idempotency_key(char *key, size_t keylen)
{
    /* The first 6 bytes are the time in ms, the other 10 random (80 bits
     * a millisecond: no two keys alike). A principal's keys so sort in the
     * order they were made, and the server keeps each one's result where
     * the last went: a write adds to one page of its table, not to a page
     * anywhere in it. */
    unsigned char raw[16];
    struct timespec ts;
    if (keylen < 2 * sizeof raw + 1 || RAND_bytes(raw + 6, sizeof raw - 6) != 1 ||
        clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return WHISTLE_ERR_INVALID;
    uint64_t ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (int i = 5; i >= 0; i--, ms >>= 8)
        raw[i] = (unsigned char)ms;
    for (size_t i = 0; i < sizeof raw; i++)
        snprintf(key + 2 * i, 3, "%02x", raw[i]);
    return 0;
}

int whistle_request_is_write(const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_REPORT:
    case WHISTLE__V1__REQUEST__CALL_FILE:
    case WHISTLE__V1__REQUEST__CALL_REJECT:
    case WHISTLE__V1__REQUEST__CALL_ASSIGN:
    case WHISTLE__V1__REQUEST__CALL_WHISTLE:
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN:
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK:
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER:
    case WHISTLE__V1__REQUEST__CALL_VERIFY:
    case WHISTLE__V1__REQUEST__CALL_CLOSE:
    case WHISTLE__V1__REQUEST__CALL_RATE:
    case WHISTLE__V1__REQUEST__CALL_RESOLVE:
    case WHISTLE__V1__REQUEST__CALL_IMPORT_DIRECTORY:
    case WHISTLE__V1__REQUEST__CALL_ADD_NODE:
    case WHISTLE__V1__REQUEST__CALL_UPDATE_NODE:
    case WHISTLE__V1__REQUEST__CALL_MOVE_NODE:
    case WHISTLE__V1__REQUEST__CALL_PUT_DEPARTMENT:
    case WHISTLE__V1__REQUEST__CALL_PUT_CATEGORY:
    case WHISTLE__V1__REQUEST__CALL_ADD_PRINCIPAL:
    case WHISTLE__V1__REQUEST__CALL_UPDATE_PRINCIPAL:
    case WHISTLE__V1__REQUEST__CALL_SET_ADMISSION_LIST:
    case WHISTLE__V1__REQUEST__CALL_PUSH_TASK:
    case WHISTLE__V1__REQUEST__CALL_COMPLETE_TASK:
    case WHISTLE__V1__REQUEST__CALL_PUT_BODY:
    case WHISTLE__V1__REQUEST__CALL_SUBMIT_PROPOSAL:
    case WHISTLE__V1__REQUEST__CALL_SCHEDULE_MEETING:
    case WHISTLE__V1__REQUEST__CALL_MEETING_ACT:
    case WHISTLE__V1__REQUEST__CALL_CAST_VOTE:
    case WHISTLE__V1__REQUEST__CALL_SIGN_MINUTES:
    case WHISTLE__V1__REQUEST__CALL_RATE_DECISION:
    case WHISTLE__V1__REQUEST__CALL_REQUEST_EXTENSION:
    case WHISTLE__V1__REQUEST__CALL_DECIDE_EXTENSION:
    case WHISTLE__V1__REQUEST__CALL_PARK:
    case WHISTLE__V1__REQUEST__CALL_UNPARK:
    case WHISTLE__V1__REQUEST__CALL_PUT_HOUSEHOLD:
    case WHISTLE__V1__REQUEST__CALL_PUT_RESIDENT:
    case WHISTLE__V1__REQUEST__CALL_PUT_ARCHIVE_UNIT:
    case WHISTLE__V1__REQUEST__CALL_SET_CARE_TAGS:
    case WHISTLE__V1__REQUEST__CALL_IMPORT_ARCHIVE:
    case WHISTLE__V1__REQUEST__CALL_RECORD_VISIT:
    case WHISTLE__V1__REQUEST__CALL_POST_NOTICE:
    case WHISTLE__V1__REQUEST__CALL_WITHDRAW_NOTICE:
    case WHISTLE__V1__REQUEST__CALL_REOPEN:
    case WHISTLE__V1__REQUEST__CALL_MERGE:
    case WHISTLE__V1__REQUEST__CALL_REPORT_STAGE:
    case WHISTLE__V1__REQUEST__CALL_EMERGENCY_CALL:
    case WHISTLE__V1__REQUEST__CALL_SET_VOLUNTEER_CONFIG:
    case WHISTLE__V1__REQUEST__CALL_ADD_VOLUNTEER:
    case WHISTLE__V1__REQUEST__CALL_ADD_WISH:
    case WHISTLE__V1__REQUEST__CALL_PUBLISH_WISH:
    case WHISTLE__V1__REQUEST__CALL_CLAIM_WISH:
    case WHISTLE__V1__REQUEST__CALL_DONE_WISH:
    case WHISTLE__V1__REQUEST__CALL_CONFIRM_WISH:
    case WHISTLE__V1__REQUEST__CALL_ADJUST_POINTS:
    case WHISTLE__V1__REQUEST__CALL_PUT_SHOP_ITEM:
    case WHISTLE__V1__REQUEST__CALL_REDEEM:
    case WHISTLE__V1__REQUEST__CALL_PUBLISH_MEMBER_TASK:
    case WHISTLE__V1__REQUEST__CALL_MEMBER_TASK_ACT:
    case WHISTLE__V1__REQUEST__CALL_FED_APPLY:
    case WHISTLE__V1__REQUEST__CALL_TRANSFER:
    case WHISTLE__V1__REQUEST__CALL_FED_DIRECTORY: return 1;
    default: return 0;
    }
}
