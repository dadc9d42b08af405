/* seeds: writes a starting corpus for the fuzz targets: one valid Request
 * of every call, with values from the demo city, as
 *   DIR/request/<call>-<principal>   principal byte + packed Frame
 *   DIR/frame/<call>                 step byte + length-prefixed Frames
 * so that the fuzzers start from inputs that reach deep into the api rather
 * than from noise. scripts/fuzz.sh runs it before each fuzz run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "whistle/frame.h"

static const char *dir;

static void put(const char *sub, const char *name, uint8_t first, const uint8_t *data, size_t len)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    fputc(first, f);
    fwrite(data, 1, len, f);
    fclose(f);
}

static void emit(const char *name, Whistle__V1__Request *req)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = req;
    req->id = 1;
    uint8_t *framed;
    size_t len;
    if (whistle_frame_pack(&f, 1u << 20, &framed, &len) != 0)
        exit(1);
    /* the request target's first byte picks the principal: 0 admin,
     * 1 operator, 3 police, 6 kiosk (fuzz_request.c) */
    const uint8_t who[] = {0, 1, 3, 6};
    for (size_t i = 0; i < sizeof who; i++) {
        char n[256];
        snprintf(n, sizeof n, "%s-%u", name, who[i]);
        put("request", n, who[i], framed + 4, len - 4);
    }
    put("frame", name, 7, framed, len);
    free(framed);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seeds DIR\n");
        return 2;
    }
    dir = argv[1];
    char p[1024];
    snprintf(p, sizeof p, "%s/request", dir);
    mkdir(dir, 0755);
    mkdir(p, 0755);
    snprintf(p, sizeof p, "%s/frame", dir);
    mkdir(p, 0755);

    const char *ticket = "E2025112200001";
#define REQ(var, CALL)                                                                             \
    Whistle__V1__Request var = WHISTLE__V1__REQUEST__INIT;                                         \
    var.call_case = WHISTLE__V1__REQUEST__CALL_##CALL

    Whistle__V1__Hello hello = WHISTLE__V1__HELLO__INIT;
    hello.protocol_version = 1;
    hello.client_name = "seed";
    REQ(r_hello, HELLO);
    r_hello.hello = &hello;
    emit("hello", &r_hello);

    Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
    rep.node = "110105001001001";
    rep.category = "0401";
    rep.description = "占道经营 stall at gate 3";
    rep.contact = "13800001234";
    rep.external_id = "12345-0001";
    rep.has_location = 1;
    rep.lat = 39.92;
    rep.lon = 116.44;
    REQ(r_rep, REPORT);
    r_rep.report = &rep;
    r_rep.idempotency_key = "seed-key";
    emit("report", &r_rep);

    Whistle__V1__GetEvent get = WHISTLE__V1__GET_EVENT__INIT;
    get.ticket = (char *)ticket;
    REQ(r_get, GET_EVENT);
    r_get.get_event = &get;
    emit("get", &r_get);

    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    le.state = WHISTLE__V1__EVENT_STATE__EVENT_STATE_FILED;
    le.node = "110105001";
    le.limit = 10;
    REQ(r_le, LIST_EVENTS);
    r_le.list_events = &le;
    emit("list", &r_le);

    Whistle__V1__FileEvent fe = WHISTLE__V1__FILE_EVENT__INIT;
    fe.ticket = (char *)ticket;
    fe.note = "ok";
    REQ(r_fe, FILE);
    r_fe.file = &fe;
    emit("file", &r_fe);

    Whistle__V1__RejectEvent rj = WHISTLE__V1__REJECT_EVENT__INIT;
    rj.ticket = (char *)ticket;
    rj.reason = "duplicate";
    REQ(r_rj, REJECT);
    r_rj.reject = &rj;
    emit("reject", &r_rj);

    Whistle__V1__AssignEvent as = WHISTLE__V1__ASSIGN_EVENT__INIT;
    as.ticket = (char *)ticket;
    as.assignee = "gridworker";
    REQ(r_as, ASSIGN);
    r_as.assign = &as;
    emit("assign", &r_as);

    char *depts[] = {"urban", "police"};
    Whistle__V1__WhistleEvent wh = WHISTLE__V1__WHISTLE_EVENT__INIT;
    wh.ticket = (char *)ticket;
    wh.departments = depts;
    wh.n_departments = 2;
    wh.lead = "urban";
    wh.kind = WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY;
    wh.note = "now";
    REQ(r_wh, WHISTLE);
    r_wh.whistle = &wh;
    emit("whistle", &r_wh);

    Whistle__V1__ListOrders lo = WHISTLE__V1__LIST_ORDERS__INIT;
    lo.department = "police";
    lo.state = WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING;
    lo.limit = 5;
    REQ(r_lo, LIST_ORDERS);
    r_lo.list_orders = &lo;
    emit("orders", &r_lo);

    Whistle__V1__CheckIn ci = WHISTLE__V1__CHECK_IN__INIT;
    ci.order_id = 1;
    ci.note = "here";
    REQ(r_ci, CHECK_IN);
    r_ci.check_in = &ci;
    emit("checkin", &r_ci);

    Whistle__V1__Feedback fb = WHISTLE__V1__FEEDBACK__INIT;
    fb.order_id = 1;
    fb.text = "done";
    REQ(r_fb, FEEDBACK);
    r_fb.feedback = &fb;
    emit("feedback", &r_fb);

    Whistle__V1__ReturnOrder ro = WHISTLE__V1__RETURN_ORDER__INIT;
    ro.order_id = 2;
    ro.reason = "not ours";
    REQ(r_ro, RETURN_ORDER);
    r_ro.return_order = &ro;
    emit("return", &r_ro);

    Whistle__V1__VerifyEvent ve = WHISTLE__V1__VERIFY_EVENT__INIT;
    ve.ticket = (char *)ticket;
    ve.pass = 1;
    REQ(r_ve, VERIFY);
    r_ve.verify = &ve;
    emit("verify", &r_ve);

    Whistle__V1__CloseEvent ce = WHISTLE__V1__CLOSE_EVENT__INIT;
    ce.ticket = (char *)ticket;
    REQ(r_ce, CLOSE);
    r_ce.close = &ce;
    emit("close", &r_ce);

    Whistle__V1__RateEvent ra = WHISTLE__V1__RATE_EVENT__INIT;
    ra.ticket = (char *)ticket;
    ra.score = 4;
    ra.comment = "good";
    REQ(r_ra, RATE);
    r_ra.rate = &ra;
    emit("rate", &r_ra);

    Whistle__V1__ResolveEvent rs = WHISTLE__V1__RESOLVE_EVENT__INIT;
    rs.ticket = (char *)ticket;
    rs.note = "fixed";
    REQ(r_rs, RESOLVE);
    r_rs.resolve = &rs;
    emit("resolve", &r_rs);

    Whistle__V1__ListNodes ln = WHISTLE__V1__LIST_NODES__INIT;
    ln.parent = "110105001";
    REQ(r_ln, LIST_NODES);
    r_ln.list_nodes = &ln;
    emit("nodes", &r_ln);

    Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    REQ(r_ld, LIST_DEPARTMENTS);
    r_ld.list_departments = &ld;
    emit("departments", &r_ld);

    Whistle__V1__ListCategories lc = WHISTLE__V1__LIST_CATEGORIES__INIT;
    REQ(r_lc, LIST_CATEGORIES);
    r_lc.list_categories = &lc;
    emit("categories", &r_lc);

    Whistle__V1__Subscribe sb = WHISTLE__V1__SUBSCRIBE__INIT;
    sb.stream = "dept:police";
    sb.from_cursor = 1;
    REQ(r_sb, SUBSCRIBE);
    r_sb.subscribe = &sb;
    emit("subscribe", &r_sb);

    Whistle__V1__Ping pi = WHISTLE__V1__PING__INIT;
    pi.sent_ms = 1;
    REQ(r_pi, PING);
    r_pi.ping = &pi;
    emit("ping", &r_pi);

    Whistle__V1__ServerStats ss = WHISTLE__V1__SERVER_STATS__INIT;
    REQ(r_ss, SERVER_STATS);
    r_ss.server_stats = &ss;
    emit("server_stats", &r_ss);
    return 0;
}
