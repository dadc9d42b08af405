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
    const uint8_t who[] = { 0, 1, 3, 6 };
    for (size_t i = 0; i < sizeof who; i++) {
        char n[256];
        snprintf(n, sizeof n, "%s-%u", name, who[i]);
        put("request", n, who[i], framed + 4, len - 4);
    }
    put("frame", name, 7, framed, len);
    free(framed);
}

/* The same, as the principals of the resident archive: 1 operator,
 * 5 gridworker, 9 community, and 6 kiosk and 0 admin to be refused. */
static void emit_archive_call(const char *name, Whistle__V1__Request *req)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = req;
    req->id = 1;
    uint8_t *framed;
    size_t len;
    if (whistle_frame_pack(&f, 1u << 20, &framed, &len) != 0)
        exit(1);
    const uint8_t who[] = { 0, 1, 5, 6, 9 };
    for (size_t i = 0; i < sizeof who; i++) {
        char n[256];
        snprintf(n, sizeof n, "%s-%u", name, who[i]);
        put("request", n, who[i], framed + 4, len - 4);
    }
    put("frame", name, 7, framed, len);
    free(framed);
}

/* A request as the demo gateway (names[14] of fuzz_request.c) would send
 * it, acting for act_as. */
static void emit_gateway(const char *name, Whistle__V1__Request *req, const char *act_as)
{
    req->act_as = (char *)act_as;
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = req;
    req->id = 1;
    uint8_t *framed;
    size_t len;
    if (whistle_frame_pack(&f, 1u << 20, &framed, &len) != 0)
        exit(1);
    put("request", name, 14, framed + 4, len - 4);
    put("frame", name, 7, framed, len);
    free(framed);
    req->act_as = NULL;
}

#define REQ(var, CALL)                                                                                                 \
    Whistle__V1__Request var = WHISTLE__V1__REQUEST__INIT;                                                             \
    var.call_case = WHISTLE__V1__REQUEST__CALL_##CALL

/* The resident archive, visits and the echo board (Request.call 220-237),
 * on the demo archive (conf/demo-archive.csv: households 1..). */
static void emit_archive(const char *ticket)
{
    char *tags[] = { (char *)"alone" };
    Whistle__V1__ArchiveHousehold hh = WHISTLE__V1__ARCHIVE_HOUSEHOLD__INIT;
    hh.node = "110105001001001";
    hh.building = "3号楼";
    hh.unit = "1单元";
    hh.room = "201";
    hh.tags = tags;
    hh.n_tags = 1;
    Whistle__V1__PutHousehold ph = WHISTLE__V1__PUT_HOUSEHOLD__INIT;
    ph.household = &hh;
    REQ(r_ph, PUT_HOUSEHOLD);
    r_ph.put_household = &ph;
    emit_archive_call("put_household", &r_ph);

    Whistle__V1__ArchiveResident rs = WHISTLE__V1__ARCHIVE_RESIDENT__INIT;
    rs.household_id = 1;
    rs.name = "赵老太";
    rs.id_number = "11010519380512004X";
    rs.phone = "010-65432100";
    rs.birth_date = "1938-05-12";
    rs.tags = tags;
    rs.n_tags = 1;
    Whistle__V1__PutResident pr = WHISTLE__V1__PUT_RESIDENT__INIT;
    pr.resident = &rs;
    REQ(r_pr, PUT_RESIDENT);
    r_pr.put_resident = &pr;
    emit_archive_call("put_resident", &r_pr);

    Whistle__V1__GetHousehold gh = WHISTLE__V1__GET_HOUSEHOLD__INIT;
    gh.id = 1;
    gh.reason = "visit";
    REQ(r_gh, GET_HOUSEHOLD);
    r_gh.get_household = &gh;
    emit_archive_call("get_household", &r_gh);

    Whistle__V1__GetResident gr = WHISTLE__V1__GET_RESIDENT__INIT;
    gr.id = 2;
    gr.reason = "pension";
    gr.reveal = WHISTLE__V1__ARCHIVE_FIELD__ARCHIVE_FIELD_ID_NUMBER;
    REQ(r_gr, GET_RESIDENT);
    r_gr.get_resident = &gr;
    emit_archive_call("get_resident", &r_gr);

    Whistle__V1__ListHouseholds lh = WHISTLE__V1__LIST_HOUSEHOLDS__INIT;
    lh.node = "110105001001";
    lh.tag = "alone";
    lh.limit = 5;
    REQ(r_lh, LIST_HOUSEHOLDS);
    r_lh.list_households = &lh;
    emit_archive_call("list_households", &r_lh);

    Whistle__V1__ArchiveUnit au = WHISTLE__V1__ARCHIVE_UNIT__INIT;
    au.node = "110105001001";
    au.kind = WHISTLE__V1__ARCHIVE_UNIT_KIND__ARCHIVE_UNIT_KIND_SHOP;
    au.name = "便民超市";
    au.phone = "13800138000";
    Whistle__V1__PutArchiveUnit pu = WHISTLE__V1__PUT_ARCHIVE_UNIT__INIT;
    pu.unit = &au;
    REQ(r_pu, PUT_ARCHIVE_UNIT);
    r_pu.put_archive_unit = &pu;
    emit_archive_call("put_archive_unit", &r_pu);

    Whistle__V1__ListArchiveUnits lu = WHISTLE__V1__LIST_ARCHIVE_UNITS__INIT;
    REQ(r_lu, LIST_ARCHIVE_UNITS);
    r_lu.list_archive_units = &lu;
    emit_archive_call("list_archive_units", &r_lu);

    Whistle__V1__CareTag ct = WHISTLE__V1__CARE_TAG__INIT;
    ct.code = "alone";
    ct.name_zh = "独居老人";
    ct.rhythm_days = 3;
    Whistle__V1__CareTag *cts[] = { &ct };
    Whistle__V1__SetCareTags sc = WHISTLE__V1__SET_CARE_TAGS__INIT;
    sc.tags = cts;
    sc.n_tags = 1;
    REQ(r_sc, SET_CARE_TAGS);
    r_sc.set_care_tags = &sc;
    emit_archive_call("set_care_tags", &r_sc);

    Whistle__V1__ListCareTags lt = WHISTLE__V1__LIST_CARE_TAGS__INIT;
    REQ(r_lt, LIST_CARE_TAGS);
    r_lt.list_care_tags = &lt;
    emit_archive_call("list_care_tags", &r_lt);

    static const char csv[] = "网格,楼栋,单元,房号,姓名,身份证号,联系电话,标签,上次走访\n"
                              "110105001001001,9号楼,1单元,101,钱先生,110105197002030014,13833334444,disabled,"
                              "2026-11-01\n110105001001001,9号楼,1单元,101,\"孙, 女士\",,,,\n";
    Whistle__V1__ImportArchive ia = WHISTLE__V1__IMPORT_ARCHIVE__INIT;
    ia.node = "110105001001001";
    ia.data.data = (uint8_t *)csv;
    ia.data.len = sizeof csv - 1;
    ia.source = "grid.csv";
    REQ(r_ia, IMPORT_ARCHIVE);
    r_ia.import_archive = &ia;
    emit_archive_call("import_archive", &r_ia);

    static const char units_csv[] = "类型,所在地,名称,联系电话\n沿街商铺,110105001001,便民超市,13700001111\n"
                                    "owners_committee,110105001001001,业委会,010-65432100\n";
    Whistle__V1__ImportArchive iu = WHISTLE__V1__IMPORT_ARCHIVE__INIT;
    iu.node = "110105001001";
    iu.data.data = (uint8_t *)units_csv;
    iu.data.len = sizeof units_csv - 1;
    iu.units = 1;
    REQ(r_iu, IMPORT_ARCHIVE);
    r_iu.import_archive = &iu;
    emit_archive_call("import_archive_units", &r_iu);

    Whistle__V1__ExportArchive ea = WHISTLE__V1__EXPORT_ARCHIVE__INIT;
    ea.node = "110105001001002";
    ea.reason = "census";
    REQ(r_ea, EXPORT_ARCHIVE);
    r_ea.export_archive = &ea;
    emit_archive_call("export_archive", &r_ea);

    Whistle__V1__RecordVisit rv = WHISTLE__V1__RECORD_VISIT__INIT;
    rv.household_id = 1;
    rv.kind = WHISTLE__V1__VISIT_KIND__VISIT_KIND_COMFORT;
    rv.notes = "精神尚好";
    rv.follow_up = "楼道灯坏了";
    rv.open_case = 1;
    rv.category = "0101";
    REQ(r_rv, RECORD_VISIT);
    r_rv.record_visit = &rv;
    emit_archive_call("record_visit", &r_rv);

    Whistle__V1__ListVisits lv = WHISTLE__V1__LIST_VISITS__INIT;
    lv.household_id = 1;
    REQ(r_lv, LIST_VISITS);
    r_lv.list_visits = &lv;
    emit_archive_call("list_visits", &r_lv);

    Whistle__V1__ListVisitsDue ld = WHISTLE__V1__LIST_VISITS_DUE__INIT;
    ld.node = "110105001001";
    REQ(r_ld, LIST_VISITS_DUE);
    r_ld.list_visits_due = &ld;
    emit_archive_call("list_visits_due", &r_ld);

    Whistle__V1__GetArchiveStats gs = WHISTLE__V1__GET_ARCHIVE_STATS__INIT;
    gs.period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_WEEK;
    gs.from = "2026-11-01";
    REQ(r_gs, GET_ARCHIVE_STATS);
    r_gs.get_archive_stats = &gs;
    emit_archive_call("get_archive_stats", &r_gs);

    Whistle__V1__BoardNotice bn = WHISTLE__V1__BOARD_NOTICE__INIT;
    bn.node = "110105001001";
    bn.title = "周六义诊";
    bn.body = "社区卫生服务站";
    bn.ticket = (char *)ticket;
    Whistle__V1__PostNotice pn = WHISTLE__V1__POST_NOTICE__INIT;
    pn.notice = &bn;
    REQ(r_pn, POST_NOTICE);
    r_pn.post_notice = &pn;
    emit_archive_call("post_notice", &r_pn);

    Whistle__V1__ListBoard lb = WHISTLE__V1__LIST_BOARD__INIT;
    REQ(r_lb, LIST_BOARD);
    r_lb.list_board = &lb;
    emit_archive_call("list_board", &r_lb);

    Whistle__V1__WithdrawNotice wn = WHISTLE__V1__WITHDRAW_NOTICE__INIT;
    wn.id = 1;
    wn.reason = "typo";
    REQ(r_wn, WITHDRAW_NOTICE);
    r_wn.withdraw_notice = &wn;
    emit_archive_call("withdraw_notice", &r_wn);
}

/* The calls of deadlines, supervision, exceptions and statistics
 * (Request.call 60-69). */
static void emit_oversight(const char *ticket)
{
    Whistle__V1__TimeLimit extra = WHISTLE__V1__TIME_LIMIT__INIT;
    extra.amount = 2;
    extra.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
    Whistle__V1__RequestExtension rx = WHISTLE__V1__REQUEST_EXTENSION__INIT;
    rx.order_id = 1;
    rx.extra = &extra;
    rx.reason = "owner away";
    REQ(r_rx, REQUEST_EXTENSION);
    r_rx.request_extension = &rx;
    emit("request_extension", &r_rx);

    Whistle__V1__DecideExtension dx = WHISTLE__V1__DECIDE_EXTENSION__INIT;
    dx.order_id = 1;
    dx.approve = 1;
    REQ(r_dx, DECIDE_EXTENSION);
    r_dx.decide_extension = &dx;
    emit("decide_extension", &r_dx);

    Whistle__V1__ParkEvent pk = WHISTLE__V1__PARK_EVENT__INIT;
    pk.ticket = (char *)ticket;
    pk.reason = "waiting";
    REQ(r_pk, PARK);
    r_pk.park = &pk;
    emit("park", &r_pk);

    Whistle__V1__UnparkEvent up = WHISTLE__V1__UNPARK_EVENT__INIT;
    up.ticket = (char *)ticket;
    REQ(r_up, UNPARK);
    r_up.unpark = &up;
    emit("unpark", &r_up);

    Whistle__V1__ReopenEvent ro = WHISTLE__V1__REOPEN_EVENT__INIT;
    ro.ticket = (char *)ticket;
    ro.reason = "not fixed";
    REQ(r_ro, REOPEN);
    r_ro.reopen = &ro;
    emit("reopen", &r_ro);

    Whistle__V1__MergeEvent mg = WHISTLE__V1__MERGE_EVENT__INIT;
    mg.ticket = "E2025112200002";
    mg.into = (char *)ticket;
    REQ(r_mg, MERGE);
    r_mg.merge = &mg;
    emit("merge", &r_mg);

    Whistle__V1__ReportStage rs = WHISTLE__V1__REPORT_STAGE__INIT;
    rs.order_id = 1;
    rs.stage = 1;
    REQ(r_rs, REPORT_STAGE);
    r_rs.report_stage = &rs;
    emit("report_stage", &r_rs);

    Whistle__V1__ListSupervisions ls = WHISTLE__V1__LIST_SUPERVISIONS__INIT;
    ls.open_only = 1;
    ls.node = "110105001";
    REQ(r_ls, LIST_SUPERVISIONS);
    r_ls.list_supervisions = &ls;
    emit("list_supervisions", &r_ls);

    char *codes[] = { "urban" };
    Whistle__V1__GetStats gs = WHISTLE__V1__GET_STATS__INIT;
    gs.by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT;
    gs.codes = codes;
    gs.n_codes = 1;
    gs.period = WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_DAY;
    gs.from = "2025-11-01";
    gs.to = "2025-11-30";
    gs.totals = 1;
    REQ(r_gs, GET_STATS);
    r_gs.get_stats = &gs;
    emit("stats", &r_gs);

    Whistle__V1__EmergencyCall ec = WHISTLE__V1__EMERGENCY_CALL__INIT;
    ec.node = "110105001001001003";
    ec.device = "sos-1";
    REQ(r_ec, EMERGENCY_CALL);
    r_ec.emergency_call = &ec;
    emit("emergency_call", &r_ec);
}

/* Places on the map and gateways (docs/protocol.md section 12): a point
 * located, a report by location with an attribute's answer, and the
 * gateway's calls for the principals it acts for (and for one it may not). */
static void emit_places(void)
{
    Whistle__V1__LocatePlace lp = WHISTLE__V1__LOCATE_PLACE__INIT;
    lp.lat = 39.9087;
    lp.lon = 116.4605;
    REQ(r_lp, LOCATE_PLACE);
    r_lp.locate_place = &lp;
    emit("locate-place", &r_lp);
    emit_gateway("locate-place-gateway", &r_lp, NULL);
    Whistle__V1__ReportEvent rloc = WHISTLE__V1__REPORT_EVENT__INIT;
    rloc.category = "0401";
    rloc.description = "by location";
    rloc.has_location = 1;
    rloc.lat = 39.9087;
    rloc.lon = 116.4605;
    Whistle__V1__AttributeAnswer an = WHISTLE__V1__ATTRIBUTE_ANSWER__INIT;
    char *vals[] = { "bags" };
    an.code = "kind";
    an.values = vals;
    an.n_values = 1;
    Whistle__V1__AttributeAnswer *ans[] = { &an };
    rloc.attributes = ans;
    rloc.n_attributes = 1;
    REQ(r_rloc, REPORT);
    r_rloc.report = &rloc;
    r_rloc.idempotency_key = "fuzz-gw-1";
    emit("report-at", &r_rloc);
    emit_gateway("report-at-for-hotline", &r_rloc, "hotline");
    emit_gateway("report-at-for-unlisted", &r_rloc, "operator2");
    emit_gateway("report-at-for-admin", &r_rloc, "admin");
    Whistle__V1__Hello hh = WHISTLE__V1__HELLO__INIT;
    hh.protocol_version = 1;
    REQ(r_hh, HELLO);
    r_hh.hello = &hh;
    emit_gateway("hello-for-hotline", &r_hh, "hotline");
    Whistle__V1__Subscribe sg = WHISTLE__V1__SUBSCRIBE__INIT;
    sg.from_cursor = 1;
    REQ(r_sg, SUBSCRIBE);
    r_sg.subscribe = &sg;
    emit_gateway("subscribe-for-hotline", &r_sg, "hotline");
    emit_gateway("subscribe-for-operator", &r_sg, "operator");
    /* a PushAck for the hotline, as the gateway sends it */
    Whistle__V1__PushAck pa = WHISTLE__V1__PUSH_ACK__INIT;
    pa.stream = "principal:hotline";
    pa.seq = 1;
    pa.act_as = "hotline";
    Whistle__V1__Frame fa = WHISTLE__V1__FRAME__INIT;
    fa.kind_case = WHISTLE__V1__FRAME__KIND_PUSH_ACK;
    fa.push_ack = &pa;
    uint8_t *framed;
    size_t len;
    if (whistle_frame_pack(&fa, 1u << 20, &framed, &len) != 0)
        exit(1);
    put("request", "push-ack-for-hotline", 14, framed + 4, len - 4);
    put("frame", "push-ack-for-hotline", 7, framed, len);
    free(framed);
}

/* The calls of deliberation (Request.call 260-270): a body at the demo
 * community, a proposal, a meeting with a vote and a ballot, its acts. */
static void emit_delib(void)
{
    Whistle__V1__DelibSeat chair = WHISTLE__V1__DELIB_SEAT__INIT, rep = WHISTLE__V1__DELIB_SEAT__INIT;
    chair.principal = "community";
    chair.group = WHISTLE__V1__DELIB_GROUP__DELIB_GROUP_COMMUNITY;
    chair.role = WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_CHAIR;
    rep.principal = "gridworker";
    rep.group = WHISTLE__V1__DELIB_GROUP__DELIB_GROUP_RESIDENTS;
    rep.role = WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_REPRESENTATIVE;
    Whistle__V1__DelibSeat *seats[] = { &chair, &rep };
    Whistle__V1__DelibRules rules = WHISTLE__V1__DELIB_RULES__INIT;
    rules.quorum_num = 2;
    rules.quorum_den = 3;
    rules.tie_rule = WHISTLE__V1__DELIB_TIE_RULE__DELIB_TIE_RULE_LIST_ORDER;
    Whistle__V1__DelibBody body = WHISTLE__V1__DELIB_BODY__INIT;
    body.place = "110105001001";
    body.name = "四方议事会";
    body.seats = seats;
    body.n_seats = 2;
    body.rules = &rules;
    Whistle__V1__PutDelibBody pb = WHISTLE__V1__PUT_DELIB_BODY__INIT;
    pb.body = &body;
    REQ(r_pb, PUT_BODY);
    r_pb.put_body = &pb;
    emit("put_body", &r_pb);

    Whistle__V1__GetDelibBody gb = WHISTLE__V1__GET_DELIB_BODY__INIT;
    gb.body_id = 1;
    REQ(r_gb, GET_BODY);
    r_gb.get_body = &gb;
    emit("get_body", &r_gb);

    Whistle__V1__SubmitDelibProposal sp = WHISTLE__V1__SUBMIT_DELIB_PROPOSAL__INIT;
    sp.body_id = 1;
    sp.title = "加装路灯";
    sp.text = "东区";
    REQ(r_sp, SUBMIT_PROPOSAL);
    r_sp.submit_proposal = &sp;
    emit("submit_proposal", &r_sp);

    Whistle__V1__ListDelibProposals lp = WHISTLE__V1__LIST_DELIB_PROPOSALS__INIT;
    lp.body_id = 1;
    REQ(r_lp, LIST_PROPOSALS);
    r_lp.list_proposals = &lp;
    emit("list_proposals", &r_lp);

    char *cands[] = { "a", "b", "c" };
    Whistle__V1__DelibItemSpec vote = WHISTLE__V1__DELIB_ITEM_SPEC__INIT, ballot = WHISTLE__V1__DELIB_ITEM_SPEC__INIT;
    vote.proposal_id = 1;
    ballot.title = "票决";
    ballot.candidates = cands;
    ballot.n_candidates = 3;
    ballot.winners = 2;
    Whistle__V1__DelibItemSpec *items[] = { &vote, &ballot };
    Whistle__V1__ScheduleDelibMeeting sm = WHISTLE__V1__SCHEDULE_DELIB_MEETING__INIT;
    sm.body_id = 1;
    sm.title = "会";
    sm.starts_ms = 1900000000000LL;
    sm.items = items;
    sm.n_items = 2;
    REQ(r_sm, SCHEDULE_MEETING);
    r_sm.schedule_meeting = &sm;
    emit("schedule_meeting", &r_sm);

    Whistle__V1__GetDelibMeeting gm = WHISTLE__V1__GET_DELIB_MEETING__INIT;
    gm.meeting_id = 1;
    REQ(r_gm, GET_MEETING);
    r_gm.get_meeting = &gm;
    emit("get_meeting", &r_gm);

    static const char *const acts[] = { "",          "open",       "check_in", "queue", "next_speaker",
                                        "open_vote", "close_vote", "warn",     "close", "cancel" };
    for (int a = 1; a <= 9; a++) {
        Whistle__V1__DelibMeetingAct ma = WHISTLE__V1__DELIB_MEETING_ACT__INIT;
        ma.meeting_id = 1;
        ma.action = a;
        ma.item_no = 1;
        ma.principal = "gridworker";
        ma.card = WHISTLE__V1__DELIB_CARD__DELIB_CARD_YELLOW;
        ma.reason = "x";
        REQ(r_ma, MEETING_ACT);
        r_ma.meeting_act = &ma;
        char name[64];
        snprintf(name, sizeof name, "meeting_act_%s", acts[a]);
        emit(name, &r_ma);
    }

    uint32_t approvals[] = { 0, 2 };
    Whistle__V1__CastDelibVote cv = WHISTLE__V1__CAST_DELIB_VOTE__INIT;
    cv.meeting_id = 1;
    cv.item_no = 2;
    cv.approvals = approvals;
    cv.n_approvals = 2;
    REQ(r_cv, CAST_VOTE);
    r_cv.cast_vote = &cv;
    emit("cast_vote", &r_cv);

    Whistle__V1__SignDelibMinutes sg = WHISTLE__V1__SIGN_DELIB_MINUTES__INIT;
    sg.meeting_id = 1;
    REQ(r_sg, SIGN_MINUTES);
    r_sg.sign_minutes = &sg;
    emit("sign_minutes", &r_sg);

    Whistle__V1__RateDelibDecision rd = WHISTLE__V1__RATE_DELIB_DECISION__INIT;
    rd.proposal_id = 1;
    rd.rating = 4;
    REQ(r_rd, RATE_DECISION);
    r_rd.rate_decision = &rd;
    emit("rate_decision", &r_rd);

    Whistle__V1__GetDelibReport dr = WHISTLE__V1__GET_DELIB_REPORT__INIT;
    dr.body_id = 1;
    REQ(r_dr, DELIB_REPORT);
    r_dr.delib_report = &dr;
    emit("delib_report", &r_dr);
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

    char *depts[] = { "urban", "police" };
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

    Whistle__V1__ListServices ls = WHISTLE__V1__LIST_SERVICES__INIT;
    ls.class_code = "02";
    REQ(r_ls, LIST_SERVICES);
    r_ls.list_services = &ls;
    emit("services", &r_ls);

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

    /* the directory and its administration */
    static const char nodes_csv[] = "code,parent_code,kind,name_zh,name_en\n"
                                    "110105003,110105,street,呼家楼街道,Hujialou\n"
                                    "110105003001,110105003,community,\"北社区, 新\",North\n";
    Whistle__V1__ImportDirectory im = WHISTLE__V1__IMPORT_DIRECTORY__INIT;
    im.data.data = (uint8_t *)nodes_csv;
    im.data.len = sizeof nodes_csv - 1;
    im.last = 1;
    im.source = "seed.csv";
    REQ(r_im, IMPORT_DIRECTORY);
    r_im.import_directory = &im;
    emit("import-csv", &r_im);
    static const char cats_json[] = "{\"departments\":[{\"code\":\"property\",\"name_zh\":\"物业\"}],"
                                    "\"categories\":[{\"code\":\"1001\",\"departments\":[\"property\"],"
                                    "\"check_in\":\"2h\",\"resolve\":\"3wd\",\"check_in_urgent\":\"30m\"}]}";
    Whistle__V1__ImportDirectory ij = WHISTLE__V1__IMPORT_DIRECTORY__INIT;
    ij.data.data = (uint8_t *)cats_json;
    ij.data.len = sizeof cats_json - 1;
    ij.last = 1;
    ij.format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    REQ(r_ij, IMPORT_DIRECTORY);
    r_ij.import_directory = &ij;
    emit("import-json", &r_ij);

    static const char guide_csv[] = "code,class_code,name_zh,name_en,where_zh,hours_zh,bring_zh,how_zh,retired\n"
                                    "0208,02,临时救助,Temporary help,2号窗口,工作日,身份证,\"受理\n审核\",\n";
    Whistle__V1__ImportDirectory ig = WHISTLE__V1__IMPORT_DIRECTORY__INIT;
    ig.data.data = (uint8_t *)guide_csv;
    ig.data.len = sizeof guide_csv - 1;
    ig.last = 1;
    ig.table = WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_SERVICES;
    REQ(r_ig, IMPORT_DIRECTORY);
    r_ig.import_directory = &ig;
    emit("import-services", &r_ig);

    Whistle__V1__ExportDirectory ex = WHISTLE__V1__EXPORT_DIRECTORY__INIT;
    ex.table = WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_CATEGORIES;
    ex.page_bytes = 2048;
    REQ(r_ex, EXPORT_DIRECTORY);
    r_ex.export_directory = &ex;
    emit("export", &r_ex);

    Whistle__V1__Node nn = WHISTLE__V1__NODE__INIT;
    nn.code = "110105001009";
    nn.parent = "110105001";
    nn.kind = WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY;
    nn.name_zh = "新社区";
    Whistle__V1__AddNode an = WHISTLE__V1__ADD_NODE__INIT;
    an.node = &nn;
    REQ(r_an, ADD_NODE);
    r_an.add_node = &an;
    emit("add-node", &r_an);

    Whistle__V1__UpdateNode un = WHISTLE__V1__UPDATE_NODE__INIT;
    un.code = "110105001001";
    un.name_en = "Renamed";
    un.retire = 1;
    REQ(r_un, UPDATE_NODE);
    r_un.update_node = &un;
    emit("update-node", &r_un);

    Whistle__V1__MoveNode mn = WHISTLE__V1__MOVE_NODE__INIT;
    mn.code = "110105001001002";
    mn.new_parent = "110105002001";
    REQ(r_mn, MOVE_NODE);
    r_mn.move_node = &mn;
    emit("move-node", &r_mn);

    Whistle__V1__Department dd = WHISTLE__V1__DEPARTMENT__INIT;
    dd.code = "property";
    dd.name_zh = "物业";
    Whistle__V1__PutDepartment pd = WHISTLE__V1__PUT_DEPARTMENT__INIT;
    pd.department = &dd;
    REQ(r_pd, PUT_DEPARTMENT);
    r_pd.put_department = &pd;
    emit("put-department", &r_pd);

    Whistle__V1__TimeLimit tci = WHISTLE__V1__TIME_LIMIT__INIT, trs = WHISTLE__V1__TIME_LIMIT__INIT;
    tci.amount = 30;
    tci.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES;
    trs.amount = 2;
    trs.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
    Whistle__V1__PriorityLimits pl = WHISTLE__V1__PRIORITY_LIMITS__INIT;
    pl.priority = WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    pl.check_in = &tci;
    pl.resolve = &trs;
    Whistle__V1__PriorityLimits *pls[] = { &pl };
    char *cdepts[] = { "urban" };
    Whistle__V1__Category kk = WHISTLE__V1__CATEGORY__INIT;
    kk.code = "0109";
    kk.name_zh = "新类别";
    kk.departments = cdepts;
    kk.n_departments = 1;
    kk.limits = pls;
    kk.n_limits = 1;
    Whistle__V1__PutCategory pc = WHISTLE__V1__PUT_CATEGORY__INIT;
    pc.category = &kk;
    REQ(r_pc, PUT_CATEGORY);
    r_pc.put_category = &pc;
    emit("put-category", &r_pc);

    Whistle__V1__Principal pp = WHISTLE__V1__PRINCIPAL__INIT;
    pp.name = "gw-new";
    pp.role = WHISTLE__V1__ROLE__ROLE_GRID_WORKER;
    pp.scope = "110105001001002";
    Whistle__V1__AddPrincipal ap = WHISTLE__V1__ADD_PRINCIPAL__INIT;
    ap.principal = &pp;
    REQ(r_ap, ADD_PRINCIPAL);
    r_ap.add_principal = &ap;
    emit("add-principal", &r_ap);

    Whistle__V1__UpdatePrincipal up = WHISTLE__V1__UPDATE_PRINCIPAL__INIT;
    up.name = "gridworker";
    up.disable = 1;
    up.scope = "110105001001";
    REQ(r_up, UPDATE_PRINCIPAL);
    r_up.update_principal = &up;
    emit("update-principal", &r_up);

    Whistle__V1__ListPrincipals lp = WHISTLE__V1__LIST_PRINCIPALS__INIT;
    lp.role = WHISTLE__V1__ROLE__ROLE_DEPARTMENT;
    lp.limit = 3;
    REQ(r_lp, LIST_PRINCIPALS);
    r_lp.list_principals = &lp;
    emit("list-principals", &r_lp);

    Whistle__V1__ReloadCrl rl = WHISTLE__V1__RELOAD_CRL__INIT;
    REQ(r_rl, RELOAD_CRL);
    r_rl.reload_crl = &rl;
    emit("reload-crl", &r_rl);

    Whistle__V1__QueryAudit qa = WHISTLE__V1__QUERY_AUDIT__INIT;
    qa.target = "11010500*";
    qa.from_ms = 1;
    qa.limit = 5;
    REQ(r_qa, QUERY_AUDIT);
    r_qa.query_audit = &qa;
    emit("query-audit", &r_qa);

    Whistle__V1__ProposeDepartments pr = WHISTLE__V1__PROPOSE_DEPARTMENTS__INIT;
    pr.category = "0401";
    pr.priority = WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    REQ(r_pr, PROPOSE_DEPARTMENTS);
    r_pr.propose_departments = &pr;
    emit("propose", &r_pr);

    Whistle__V1__LookupTicket lt = WHISTLE__V1__LOOKUP_TICKET__INIT;
    lt.ticket = (char *)ticket;
    lt.phone_last4 = "1234";
    REQ(r_lt, LOOKUP_TICKET);
    r_lt.lookup_ticket = &lt;
    emit("lookup", &r_lt);

    char *kinds[] = { "survey", "inspection" };
    Whistle__V1__SetAdmissionList sa = WHISTLE__V1__SET_ADMISSION_LIST__INIT;
    sa.community = "110105001001";
    sa.kinds = kinds;
    sa.n_kinds = 2;
    REQ(r_sa, SET_ADMISSION_LIST);
    r_sa.set_admission_list = &sa;
    emit("set-admission", &r_sa);

    Whistle__V1__GetAdmissionList ga = WHISTLE__V1__GET_ADMISSION_LIST__INIT;
    ga.community = "110105001001";
    REQ(r_ga, GET_ADMISSION_LIST);
    r_ga.get_admission_list = &ga;
    emit("get-admission", &r_ga);

    Whistle__V1__PushTask pt = WHISTLE__V1__PUSH_TASK__INIT;
    pt.community = "110105001001";
    pt.kind = "survey";
    pt.title = "入户调查";
    pt.deadline_ms = 1893456000000;
    REQ(r_pt, PUSH_TASK);
    r_pt.push_task = &pt;
    emit("push-task", &r_pt);

    Whistle__V1__ListTasks lt2 = WHISTLE__V1__LIST_TASKS__INIT;
    lt2.state = WHISTLE__V1__TASK_STATE__TASK_STATE_OPEN;
    REQ(r_lt2, LIST_TASKS);
    r_lt2.list_tasks = &lt2;
    emit("list-tasks", &r_lt2);

    Whistle__V1__CompleteTask ct = WHISTLE__V1__COMPLETE_TASK__INIT;
    ct.task_id = 1;
    ct.note = "done";
    REQ(r_ct, COMPLETE_TASK);
    r_ct.complete_task = &ct;
    emit("complete-task", &r_ct);
    emit_oversight(ticket);
    emit_delib();
    emit_archive(ticket);
    Whistle__V1__ServerStats ss = WHISTLE__V1__SERVER_STATS__INIT;
    REQ(r_ss, SERVER_STATS);
    r_ss.server_stats = &ss;
    emit("server_stats", &r_ss);

    emit_places();
    return 0;
}
