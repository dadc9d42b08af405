/* A gateway against a real daemon seeded with the demo city
 * (docs/protocol.md section 12): the demo gateway acts for the 12345
 * hotline (an integration) and the Jianwai operator, and for nobody else;
 * a report by location lands in its grid; the hotline's status stream is
 * followed and acknowledged for it; the audit names both; refusals name
 * their rule. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x

static daemon_h d;
static void setup(void) { harness_start(&d, NULL); }
static void teardown(void) { harness_cleanup(&d); }
TestSuite(gateway, .init = setup, .fini = teardown, .timeout = 90);

/* China World, Guomao (WGS84): in the demo city's Jianwai Avenue grid */
#define GUOMAO_LAT 39.9087
#define GUOMAO_LON 116.4605
#define JIANWAI_AVENUE "110105001001004"

static Whistle__V1__Request report_at(Whistle__V1__ReportEvent *r, double lat, double lon, const char *act_as)
{
    whistle__v1__report_event__init(r);
    r->category = "0101";
    r->description = "reported through the gateway";
    r->has_location = true;
    r->lat = lat;
    r->lon = lon;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = r;
    req.act_as = (char *)act_as;
    return req;
}

Test(gateway, acts_for_the_principals_it_lists_and_no_one_else)
{
    whistle_client *gw = harness_connect(&d, "gateway");
    cr_assert_eq(whistle_hello(gw)->principal->role, WHISTLE__V1__ROLE__ROLE_GATEWAY);
    cr_assert_eq(whistle_hello(gw)->n_streams, 0, "a gateway has no stream of its own");

    /* Hello for the hotline: its principal and its stream */
    Whistle__V1__Hello h = WHISTLE__V1__HELLO__INIT;
    h.protocol_version = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(HELLO);
    req.hello = &h;
    req.act_as = "hotline";
    Whistle__V1__Response *r = harness_call_ok(gw, &req);
    cr_assert_str_eq(r->hello->principal->name, "hotline");
    cr_assert_eq(r->hello->n_streams, 1);
    cr_assert_str_eq(r->hello->streams[0], "principal:hotline");
    whistle_response_free(r);

    /* following the hotline's stream */
    Whistle__V1__Subscribe sub = WHISTLE__V1__SUBSCRIBE__INIT;
    sub.from_cursor = true;
    Whistle__V1__Request sreq = WHISTLE__V1__REQUEST__INIT;
    sreq.call_case = CALL(SUBSCRIBE);
    sreq.subscribe = &sub;
    sreq.act_as = "hotline";
    r = harness_call_ok(gw, &sreq);
    cr_assert_str_eq(r->subscribe->stream, "principal:hotline");
    whistle_response_free(r);

    /* a report by location, for the hotline, lands in its grid; a retry
     * with the same key is the same case */
    Whistle__V1__ReportEvent rep;
    req = report_at(&rep, GUOMAO_LAT, GUOMAO_LON, "hotline");
    req.idempotency_key = "gateway-test-1";
    r = harness_call_ok(gw, &req);
    char ticket[32];
    snprintf(ticket, sizeof ticket, "%s", r->event->ticket);
    cr_assert_str_eq(r->event->node, JIANWAI_AVENUE);
    cr_assert_str_eq(r->event->street, "110105001");
    cr_assert_str_eq(r->event->reporter, "hotline");
    whistle_response_free(r);
    r = harness_call_ok(gw, &req);
    cr_assert_str_eq(r->event->ticket, ticket);
    whistle_response_free(r);

    /* the operator files it: the hotline's stream tells the gateway */
    whistle_client *op = harness_connect(&d, "operator");
    whistle_response_free(h_simple(op, CALL(FILE), ticket, "filed"));
    Whistle__V1__Push *p = h_wait_push(gw, "file", 5000);
    cr_assert(p, "no push of the filing on the hotline's stream");
    cr_assert_str_eq(p->stream, "principal:hotline");
    cr_assert_str_eq(p->event->ticket, ticket);
    uint64_t seq = p->seq;
    whistle_push_free(p);
    /* acknowledged for the hotline; an ack for a principal it does not
     * list is ignored */
    cr_assert_eq(whistle_push_ack_as(gw, "principal:hotline", seq, "sensor"), 0);
    cr_assert_eq(whistle_push_ack_as(gw, "principal:hotline", seq, "hotline"), 0);

    /* refused: a principal it does not list; another role acting */
    req = report_at(&rep, GUOMAO_LAT, GUOMAO_LON, "sensor");
    const char *msg = harness_call_fail(gw, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "act_as.not_listed"), "%s", msg);
    whistle_client *hot = harness_connect(&d, "hotline");
    req = report_at(&rep, GUOMAO_LAT, GUOMAO_LON, "operator");
    msg = harness_call_fail(hot, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "act_as.gateway_only"), "%s", msg);
    /* by itself a gateway reports nothing */
    req = report_at(&rep, GUOMAO_LAT, GUOMAO_LON, NULL);
    msg = harness_call_fail(gw, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "rule"), "%s", msg);
    /* outside every grid */
    req = report_at(&rep, 39.80, 116.30, "hotline");
    msg = harness_call_fail(gw, &req, CODE(FAILED_PRECONDITION));
    cr_assert(strstr(msg, "outside every grid"), "%s", msg);
    Whistle__V1__LocatePlace lp = WHISTLE__V1__LOCATE_PLACE__INIT;
    lp.lat = GUOMAO_LAT;
    lp.lon = GUOMAO_LON;
    Whistle__V1__Request lreq = WHISTLE__V1__REQUEST__INIT;
    lreq.call_case = CALL(LOCATE_PLACE);
    lreq.locate_place = &lp;
    r = harness_call_ok(gw, &lreq);
    cr_assert_str_eq(r->place->node->code, JIANWAI_AVENUE);
    cr_assert_str_eq(r->place->path[1]->name_en, "Jianwai Subdistrict");
    whistle_response_free(r);
    lp.lat = 39.80;
    msg = harness_call_fail(gw, &lreq, CODE(NOT_FOUND));
    cr_assert(strstr(msg, "outside every grid"), "%s", msg);
    whistle_close(gw); /* settles the acks (a ping round trip) */

    /* the hotline's cursor moved to what the gateway acknowledged for it */
    sub.from_cursor = true;
    sreq.act_as = NULL;
    r = harness_call_ok(hot, &sreq);
    cr_assert_eq(r->subscribe->cursor, seq);
    whistle_response_free(r);
    cr_assert(harness_log_contains(&d, "act_as"), "the refused ack is logged");

    /* the audit names both: the change is the hotline's, made via the gateway */
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__QueryAudit q = WHISTLE__V1__QUERY_AUDIT__INIT;
    q.target = ticket;
    q.brief = true;
    Whistle__V1__Request qreq = WHISTLE__V1__REQUEST__INIT;
    qreq.call_case = CALL(QUERY_AUDIT);
    qreq.query_audit = &q;
    r = harness_call_ok(admin, &qreq);
    cr_assert_geq(r->audit->n_entries, 2);
    cr_assert_str_eq(r->audit->entries[0]->principal, "hotline");
    cr_assert_str_eq(r->audit->entries[0]->via, "gateway");
    cr_assert_str_eq(r->audit->entries[1]->principal, "operator");
    cr_assert_str_eq(r->audit->entries[1]->via, "");
    whistle_response_free(r);
    /* and the refusals are the gateway's, naming the rule */
    q.target = NULL;
    q.principal = "gateway";
    q.via = NULL;
    bool seen = false;
    for (int tries = 0; tries < 50 && !seen; tries++) {
        r = harness_call_ok(admin, &qreq);
        for (size_t i = 0; i < r->audit->n_entries; i++)
            seen |= strstr(r->audit->entries[i]->denied, "act_as.not_listed") != NULL;
        whistle_response_free(r);
        if (!seen)
            usleep(100 * 1000); /* denials are written with the next write transaction, within a second */
    }
    cr_assert(seen, "the refused act_as is not in the audit log");

    /* a disabled principal is acted for no more */
    Whistle__V1__UpdatePrincipal up = WHISTLE__V1__UPDATE_PRINCIPAL__INIT;
    up.name = "hotline";
    up.disable = true;
    Whistle__V1__Request ureq = WHISTLE__V1__REQUEST__INIT;
    ureq.call_case = CALL(UPDATE_PRINCIPAL);
    ureq.update_principal = &up;
    whistle_response_free(harness_call_ok(admin, &ureq));
    gw = harness_connect(&d, "gateway");
    req = report_at(&rep, GUOMAO_LAT, GUOMAO_LON, "hotline");
    msg = harness_call_fail(gw, &req, CODE(PERMISSION_DENIED));
    cr_assert(strstr(msg, "act_as.disabled"), "%s", msg);
    /* the operator it also lists is still acted for */
    req = report_at(&rep, GUOMAO_LAT, GUOMAO_LON, "operator");
    r = harness_call_ok(gw, &req);
    cr_assert_str_eq(r->event->reporter, "operator");
    whistle_response_free(r);
    /* a one-key emergency call with a location lands in the grid holding
     * it, and one outside every grid at the caller's own place: an
     * emergency is never refused for where it is */
    Whistle__V1__EmergencyCall ec = WHISTLE__V1__EMERGENCY_CALL__INIT;
    ec.has_location = true;
    ec.lat = GUOMAO_LAT;
    ec.lon = GUOMAO_LON;
    Whistle__V1__Request ereq = WHISTLE__V1__REQUEST__INIT;
    ereq.call_case = CALL(EMERGENCY_CALL);
    ereq.emergency_call = &ec;
    ereq.act_as = "operator";
    r = harness_call_ok(gw, &ereq);
    cr_assert_str_eq(r->event->node, JIANWAI_AVENUE);
    whistle_response_free(r);
    ec.lat = 39.80;
    r = harness_call_ok(gw, &ereq);
    cr_assert_str_eq(r->event->node, "110105001", "the operator's street");
    whistle_response_free(r);
    whistle_close(gw);
    whistle_close(hot);
    whistle_close(op);
    whistle_close(admin);
    char out[4096];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "%s", out);
}

/* [places] outside = street: a point in no grid (here, a grid retired) is
 * filed at the community holding it, not refused. */
Test(gateway, outside_street_files_a_report_outside_every_grid_at_the_place_holding_it)
{
    /* this test's daemon has the setting */
    harness_cleanup(&d);
    harness_start(&d, "[places]\noutside = street\n");
    daemon_h *dp = &d;
    whistle_client *admin = harness_connect(dp, "admin");
    Whistle__V1__UpdateNode un = WHISTLE__V1__UPDATE_NODE__INIT;
    un.code = JIANWAI_AVENUE;
    un.retire = true;
    Whistle__V1__Request ureq = WHISTLE__V1__REQUEST__INIT;
    ureq.call_case = CALL(UPDATE_NODE);
    ureq.update_node = &un;
    whistle_response_free(harness_call_ok(admin, &ureq));
    whistle_client *hot = harness_connect(dp, "hotline");
    Whistle__V1__ReportEvent rep;
    Whistle__V1__Request req = report_at(&rep, GUOMAO_LAT, GUOMAO_LON, NULL);
    Whistle__V1__Response *r = harness_call_ok(hot, &req);
    cr_assert_str_eq(r->event->node, "110105001001", "Yong'anli, the community holding the retired grid");
    whistle_response_free(r);
    req = report_at(&rep, 39.80, 116.30, NULL); /* in no place at all */
    const char *msg = harness_call_fail(hot, &req, CODE(FAILED_PRECONDITION));
    cr_assert(strstr(msg, "outside every grid"), "%s", msg);
    whistle_close(hot);
    whistle_close(admin);
}
