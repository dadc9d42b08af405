/* Protocol rules of DESIGN.md §3, tested with bytes the test writes. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static daemon_h d;
static void setup(void) { harness_start(&d, "[server]\nmax_frame = 4096\n"); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(protocol, .init = setup, .fini = teardown, .timeout = 60);

static void ping_ok(raw_conn *r, uint64_t id)
{
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    p.sent_ms = 42;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = id;
    req.call_case = WHISTLE__V1__REQUEST__CALL_PING;
    req.ping = &p;
    cr_assert_eq(raw_send_request(r, &req), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(r, 10000, &f), 1, "no answer to Ping: the connection is not working");
    cr_assert_eq(f->response->id, id);
    cr_assert_eq(f->response->status->code, 0);
    cr_assert_eq(f->response->ping->sent_ms, 42);
    whistle__v1__frame__free_unpacked(f, NULL);
}

Test(protocol, oversize_length_gets_an_error_frame_and_closes)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    uint8_t hdr[4] = { 0, 0, 0x10, 0x01 }; /* 4097 > max_frame 4096 */
    cr_assert_eq(raw_write(&r, hdr, 4), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1, "no final error frame before closing");
    cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED);
    cr_assert(strstr(f->response->status->message, "max_frame"), "message: %s", f->response->status->message);
    whistle__v1__frame__free_unpacked(f, NULL);
    cr_assert(raw_wait_closed(&r, 10000), "the connection stayed open after an oversize length");
    raw_close(&r);
}

Test(protocol, zero_length_frame_closes)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    uint8_t hdr[4] = { 0, 0, 0, 0 };
    cr_assert_eq(raw_write(&r, hdr, 4), 0);
    cr_assert(raw_wait_closed(&r, 10000), "the connection stayed open after a zero length");
    raw_close(&r);
}

Test(protocol, undecodable_frame_gets_invalid_argument_and_connection_keeps_working)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    /* field 1 (request), length 10, but only garbage varints inside */
    uint8_t bad[] = { 0, 0, 0, 12, 0x0a, 10, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    cr_assert_eq(raw_write(&r, bad, sizeof bad), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
    cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT);
    whistle__v1__frame__free_unpacked(f, NULL);
    ping_ok(&r, 7);
    raw_close(&r);
}

Test(protocol, undecodable_request_echoes_its_id_when_readable)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    /* Frame.request { id = 77, field 11 (ping) with a truncated length } */
    uint8_t bad[] = { 0, 0, 0, 6, 0x0a, 4, 0x08, 77, 0x5a, 9 };
    cr_assert_eq(raw_write(&r, bad, sizeof bad), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
    cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT);
    cr_assert_eq(f->response->id, 77);
    whistle__v1__frame__free_unpacked(f, NULL);
    ping_ok(&r, 8);
    raw_close(&r);
}

Test(protocol, request_with_no_call_gets_unimplemented)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 5;
    cr_assert_eq(raw_send_request(&r, &req), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
    cr_assert_eq(f->response->id, 5);
    cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__UNIMPLEMENTED);
    whistle__v1__frame__free_unpacked(f, NULL);
    ping_ok(&r, 6);
    raw_close(&r);
}

Test(protocol, unknown_call_field_gets_unimplemented_naming_it)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    /* Request { id = 9, field 999 = empty message } as a newer client sends */
    uint8_t body[] = { 0x08, 9, 0xba, 0x3e, 0 };
    uint8_t fr[4 + 2 + sizeof body] = { 0, 0, 0, 2 + sizeof body, 0x0a, sizeof body };
    memcpy(fr + 6, body, sizeof body);
    cr_assert_eq(raw_write(&r, fr, sizeof fr), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
    cr_assert_eq(f->response->id, 9);
    cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__UNIMPLEMENTED);
    cr_assert(strstr(f->response->status->message, "999"), "message: %s", f->response->status->message);
    whistle__v1__frame__free_unpacked(f, NULL);
    raw_close(&r);
}

Test(protocol, request_before_hello_is_refused)
{
    raw_conn r;
    char cert[512], key[512];
    harness_cert("operator", cert, sizeof cert, key, sizeof key);
    cr_assert_eq(raw_open(&r, &d, cert, key), 0);
    Whistle__V1__Ping p = WHISTLE__V1__PING__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 3;
    req.call_case = WHISTLE__V1__REQUEST__CALL_PING;
    req.ping = &p;
    cr_assert_eq(raw_send_request(&r, &req), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
    cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION);
    whistle__v1__frame__free_unpacked(f, NULL);
    raw_close(&r);
}

/* A refused report must leave no case behind: the operator lists none. */
static void no_case_was_made(void)
{
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    Whistle__V1__Request lr = WHISTLE__V1__REQUEST__INIT;
    lr.call_case = WHISTLE__V1__REQUEST__CALL_LIST_EVENTS;
    lr.list_events = &le;
    Whistle__V1__Response *l = harness_call_ok(op, &lr);
    cr_assert_eq(l->events->n_events, 0, "a refused report left a case behind");
    whistle_response_free(l);
    whistle_close(op);
}

Test(protocol, invalid_utf8_gets_invalid_argument_and_changes_nothing)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
    rep.node = FIRST_GRID;
    rep.category = "0102";
    rep.description = "bad \xc3\x28 bytes";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 11;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    req.report = &rep;
    cr_assert_eq(raw_send_request(&r, &req), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
    cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT);
    cr_assert(strstr(f->response->status->message, "description"), "message: %s", f->response->status->message);
    whistle__v1__frame__free_unpacked(f, NULL);
    raw_close(&r);

    no_case_was_made();
}

/* Packs req as a frame and turns every '~' of the packed bytes into a NUL:
 * libwhistle's C strings cannot carry one, a hostile client's bytes can. */
static void send_with_nuls(raw_conn *r, const Whistle__V1__Request *req)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = (Whistle__V1__Request *)req;
    uint8_t *out;
    size_t len;
    cr_assert_eq(whistle_frame_pack(&f, 1u << 20, &out, &len), 0);
    int nuls = 0;
    for (size_t i = 4; i < len; i++)
        if (out[i] == '~') {
            out[i] = 0;
            nuls++;
        }
    cr_assert_gt(nuls, 0);
    cr_assert_eq(raw_write(r, out, len), 0);
    free(out);
}

/* Issue 11, item 15: a NUL inside a string used to be cut at by the C
 * strings protobuf-c hands on: "visible\0hidden" was stored as "visible",
 * and two idempotency keys that differ only after a NUL were one key (the
 * second report got the first's case and was never applied). Now any
 * string field holding a NUL is refused, naming the field, and changes
 * nothing. */
Test(protocol, a_string_with_an_embedded_nul_is_refused_naming_the_field)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
    rep.node = FIRST_GRID;
    rep.category = "0102";
    rep.description = "visible~hidden";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 21;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    req.report = &rep;
    send_with_nuls(&r, &req);
    rep.description = "a report";
    req.id = 22;
    req.idempotency_key = "key~one";
    send_with_nuls(&r, &req);
    for (int i = 0; i < 2; i++) {
        Whistle__V1__Frame *f = NULL;
        cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
        const char *msg = f->response->status->message;
        cr_assert_eq(f->response->status->code, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT, "%s", msg);
        cr_assert(strstr(msg, f->response->id == 21 ? "description" : "idempotency_key") && strstr(msg, "NUL"),
                  "message: %s", msg);
        whistle__v1__frame__free_unpacked(f, NULL);
    }
    ping_ok(&r, 23);
    raw_close(&r);

    no_case_was_made();
}

/* Issue 11, item 13: a write whose answer outgrew the frame was answered
 * RESOURCE_EXHAUSTED but applied, and a retry with the same idempotency
 * key failed forever. Here max_frame is 4096: a report whose description
 * nearly fills a request makes an answer over it. It is refused, changes
 * nothing (a retry is refused the same way), and the log does not call it
 * a full map. */
Test(protocol, a_write_whose_answer_would_not_fit_is_refused_and_changes_nothing)
{
    whistle_client *op = harness_connect(&d, "operator");
    char desc[3991];
    memset(desc, 'd', sizeof desc - 1);
    desc[sizeof desc - 1] = 0;
    Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
    rep.node = FIRST_GRID;
    rep.category = "0102";
    rep.description = desc;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    req.report = &rep;
    req.idempotency_key = "big-answer-1";
    for (int i = 0; i < 2; i++) {
        const char *msg = harness_call_fail(op, &req, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED);
        cr_assert(strstr(msg, "frame limit") && strstr(msg, "nothing was changed"), "%s", msg);
    }
    no_case_was_made();
    cr_assert_not(harness_log_contains(&d, "map is full"), "a large answer was logged as a full map");
    /* a smaller one goes through */
    desc[1000] = 0;
    req.idempotency_key = "big-answer-2";
    whistle_response_free(harness_call_ok(op, &req));
    whistle_close(op);
}

static uint64_t writer_reruns(void)
{
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__Response *r;
    uint64_t n = harness_server_stats(admin, &r)->reruns;
    whistle_response_free(r);
    whistle_close(admin);
    return n;
}

/* The writer runs a batch's calls in one nested transaction, and runs the
 * batch again, each call on its own, when one fails: a call refused after
 * it wrote (its answer would not fit a frame, as above) must leave nothing
 * behind while the calls before and after it in the same batch commit,
 * each answered as if alone. The calls go back to back on one connection
 * so that they share a batch; a few rounds make sure one of them did
 * (the rerun counter says so). */
Test(protocol, a_call_refused_half_way_through_a_batch_leaves_nothing_and_the_rest_commit)
{
    char big[3991];
    memset(big, 'b', sizeof big - 1);
    big[sizeof big - 1] = 0;
    uint64_t before = writer_reruns();
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    enum { N = 9, BIG = 4 };
    int rounds = 0, made = 0;
    while (rounds < 8 && writer_reruns() == before) {
        char text[N][48];
        for (int i = 0; i < N; i++) {
            snprintf(text[i], sizeof text[i], "round %d call %d", rounds, i);
            Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
            rep.node = FIRST_GRID;
            rep.category = "0102";
            rep.description = i == BIG ? big : text[i];
            Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
            req.id = (uint64_t)(1000 + rounds * N + i);
            req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
            req.report = &rep;
            cr_assert_eq(raw_send_request(&r, &req), 0);
        }
        for (int i = 0; i < N; i++) {
            Whistle__V1__Frame *f = NULL;
            cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
            int at = (int)(f->response->id - 1000) % N;
            int code = f->response->status ? f->response->status->code : 0;
            if (at == BIG) {
                cr_assert_eq(code, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED);
            } else {
                cr_assert_eq(code, 0, "call %d: %s", at, f->response->status->message);
                cr_assert_str_eq(f->response->event->description, text[at]);
                made++;
            }
            whistle__v1__frame__free_unpacked(f, NULL);
        }
        rounds++;
    }
    raw_close(&r);
    cr_assert_gt(writer_reruns(), before, "in %d rounds no batch held the refused call with others", rounds);
    /* every other report is there once, the refused one nowhere */
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    le.limit = 100;
    Whistle__V1__Request lr = WHISTLE__V1__REQUEST__INIT;
    lr.call_case = WHISTLE__V1__REQUEST__CALL_LIST_EVENTS;
    lr.list_events = &le;
    Whistle__V1__Response *l = harness_call_ok(op, &lr);
    cr_assert_eq((int)l->events->n_events, made, "%zu cases for %d reports answered OK", l->events->n_events, made);
    for (size_t i = 0; i < l->events->n_events; i++)
        cr_assert(strncmp(l->events->events[i]->description, "round ", 6) == 0, "a case of the refused call stayed");
    whistle_response_free(l);
    whistle_close(op);
}

Test(protocol, responses_to_pipelined_requests_match_by_id)
{
    raw_conn r;
    raw_open_hello(&r, &d, "operator");
    /* a write then a read, back to back: the read may answer first */
    Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
    rep.node = FIRST_GRID;
    rep.category = "0102";
    rep.description = "pipelined";
    Whistle__V1__Request w = WHISTLE__V1__REQUEST__INIT;
    w.id = 100;
    w.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    w.report = &rep;
    Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    Whistle__V1__Request rd = WHISTLE__V1__REQUEST__INIT;
    rd.id = 101;
    rd.call_case = WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS;
    rd.list_departments = &ld;
    cr_assert_eq(raw_send_request(&r, &w), 0);
    cr_assert_eq(raw_send_request(&r, &rd), 0);
    bool got_w = false, got_r = false;
    for (int i = 0; i < 2; i++) {
        Whistle__V1__Frame *f = NULL;
        cr_assert_eq(raw_read_frame(&r, 10000, &f), 1);
        cr_assert_eq(f->response->status->code, 0, "%s", f->response->status->message);
        if (f->response->id == 100) {
            cr_assert_eq(f->response->result_case, WHISTLE__V1__RESPONSE__RESULT_EVENT);
            got_w = true;
        } else if (f->response->id == 101) {
            cr_assert_eq(f->response->result_case, WHISTLE__V1__RESPONSE__RESULT_DEPARTMENTS);
            cr_assert_geq(f->response->departments->n_departments, 8);
            got_r = true;
        }
        whistle__v1__frame__free_unpacked(f, NULL);
    }
    cr_assert(got_w && got_r);
    raw_close(&r);
}
