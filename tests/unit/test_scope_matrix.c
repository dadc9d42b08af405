/* test_scope_matrix.c: every role x every call x a target in and out of
 * the caller's reach.
 *
 * The expectations below are written apart from daemon/authz.c, as the
 * rules of docs/protocol.md section 10 say them: which roles may make each
 * call, and whether the call has a target that may lie outside the
 * caller's scope. The first test enumerates Request.call from the proto's
 * descriptor and fails on a call that has no row here or no rule in the
 * daemon; the second makes every call as every role on a target inside
 * and one outside its scope, and checks that it is refused
 * (PERMISSION_DENIED) exactly when the expectations say so. Writes run in a
 * transaction that is aborted, so every cell sees the same store. */
#include "helpers.h"

#include "authz.h"
#include "photo_record.h"
#include "whistle/client.h"

TestSuite(matrix, .init = h_setup, .fini = h_teardown, .timeout = 120);

enum { A = 1, O, D, G, C, K, I, S };
#define B(r) (1u << (r))
#define ALL_ROLES (B(A) | B(O) | B(D) | B(G) | B(C) | B(K) | B(I) | B(S))
/* those who may hold a seat on a deliberative body: people */
#define DELIB (B(A) | B(O) | B(D) | B(G) | B(C) | B(I))
static const char *const role_word[] = { "",          "admin", "operator",    "department", "grid_worker",
                                         "community", "kiosk", "integration", "sensor" };

/* ------------------------------------------------------------ the expectations */

static const struct expect {
    const char *call; /* the field of Request.call */
    unsigned roles;
    bool scoped; /* a target outside the caller's scope is refused (admins have no outside) */
} expect[] = {
    { "hello", ALL_ROLES, false },
    { "ping", ALL_ROLES, false },
    { "subscribe", ALL_ROLES, true },
    { "report", ALL_ROLES & ~B(D), true },
    { "get_event", ALL_ROLES & ~(B(S) | B(K)), true },
    { "list_events", B(A) | B(O) | B(G) | B(C) | B(I), true },
    { "file", B(A) | B(O), true },
    { "reject", B(A) | B(O), true },
    { "assign", B(A) | B(O), true },
    { "whistle", B(A) | B(O), true },
    { "resolve", B(A) | B(O) | B(G) | B(C), true },
    { "verify", B(A) | B(O) | B(G) | B(C), true },
    { "close", B(A) | B(O), true },
    { "rate", B(A) | B(O) | B(G) | B(C) | B(K) | B(I), true },
    { "list_orders", B(A) | B(O) | B(D), true },
    { "check_in", B(A) | B(D), true },
    { "feedback", B(A) | B(D), true },
    { "return_order", B(A) | B(D), true },
    { "list_nodes", ALL_ROLES, true },
    { "list_departments", ALL_ROLES, false },
    { "list_categories", ALL_ROLES, false },
    { "import_directory", B(A), false },
    { "export_directory", B(A), false },
    { "add_node", B(A), false },
    { "update_node", B(A), false },
    { "move_node", B(A), false },
    { "put_department", B(A), false },
    { "put_category", B(A), false },
    { "add_principal", B(A), false },
    { "update_principal", B(A), false },
    { "list_principals", B(A), false },
    { "reload_crl", B(A), false },
    { "server_stats", B(A), false },
    { "backup", B(A), false },
    { "backup_read", B(A), false },
    { "set_log_level", B(A), false },
    { "query_audit", B(A), false },
    { "propose_departments", B(A) | B(O), true },
    { "lookup_ticket", B(A) | B(O) | B(K) | B(I), true },
    { "set_admission_list", B(A) | B(O), true },
    { "get_admission_list", B(A) | B(O) | B(D) | B(C), true },
    { "push_task", B(A) | B(O) | B(D), true },
    { "list_tasks", B(A) | B(O) | B(D) | B(C), true },
    { "complete_task", B(A) | B(C), true },
    /* deadlines, supervision, exceptions, statistics (docs/deadlines.md) */
    { "request_extension", B(A) | B(D), true },
    { "decide_extension", B(A) | B(O), true },
    { "park", B(A) | B(O), true },
    { "unpark", B(A) | B(O), true },
    { "reopen", B(A) | B(O), true },
    { "merge", B(A) | B(O), true },
    { "report_stage", B(A) | B(D), true },
    { "list_supervisions", B(A) | B(O) | B(D), true },
    { "get_stats", B(A) | B(O) | B(D) | B(G) | B(C) | B(I), true },
    { "emergency_call", ALL_ROLES & ~B(D), true },
    { "list_services", ALL_ROLES, false },
    /* the resident archive, visits, the echo board (docs/archive.md) */
    { "put_household", B(O) | B(G) | B(C), true },
    { "put_resident", B(O) | B(G) | B(C), true },
    { "get_household", B(O) | B(G) | B(C), true },
    { "get_resident", B(O) | B(G) | B(C), true },
    { "list_households", B(O) | B(G) | B(C), true },
    { "put_archive_unit", B(O) | B(G) | B(C), true },
    { "list_archive_units", B(O) | B(G) | B(C), true },
    { "set_care_tags", B(A), false },
    { "list_care_tags", B(A) | B(O) | B(G) | B(C), false },
    { "import_archive", B(O) | B(G) | B(C), true },
    { "export_archive", B(A), false },
    { "record_visit", B(O) | B(G) | B(C), true },
    { "list_visits", B(O) | B(G) | B(C), true },
    { "list_visits_due", B(O) | B(G) | B(C), true },
    { "get_archive_stats", B(A) | B(O) | B(G) | B(C), true },
    { "post_notice", B(A) | B(O) | B(G) | B(C), true },
    { "list_board", ALL_ROLES, true },
    { "withdraw_notice", B(A) | B(O) | B(G) | B(C), true },
    /* places on the map (docs/protocol.md section 12) */
    { "locate_place", ALL_ROLES, true },
    /* deliberation (docs/deliberation.md): "in" is a body where the caller
     * holds the chair's seat, "out" one where it holds none */
    { "put_body", B(A) | B(O) | B(C), true },
    { "get_body", DELIB, true },
    { "submit_proposal", DELIB, true },
    { "list_proposals", DELIB, true },
    { "schedule_meeting", DELIB, true },
    { "get_meeting", DELIB, true },
    { "meeting_act", DELIB, true },
    { "cast_vote", DELIB, true },
    { "sign_minutes", DELIB, true },
    { "rate_decision", DELIB, true },
    { "delib_report", DELIB, true },
    /* photos (docs/photos.md) */
    { "photo_put", ALL_ROLES, false },
    { "photo_upload", ALL_ROLES, false },
    { "get_photo", ALL_ROLES & ~B(S), true },
    /* federation (docs/federation.md): fed_apply and fed_directory are a
     * bridge's only (its own matrix: tests/unit/test_fed.c) */
    { "fed_apply", 0, false },
    { "fed_directory", 0, false },
    { "transfer", B(A) | B(O), true },
};
#define N_EXPECT (sizeof expect / sizeof *expect)

/* The roles for which a target outside the scope is refused NOT_FOUND, read
 * alike with a missing one, so that a caller learns nothing of a case it
 * may not see, not even that it exists or where (issue 11: with sequential
 * tickets the lowest roles could map every case); the denial is audited
 * with its true reason. Proving a ticket with the phone's digits
 * (lookup_ticket, a kiosk's rate) is the same. The other refusals
 * (PERMISSION_DENIED with the rule) concern cases the caller may see. */
static unsigned hidden_for(const char *call_name)
{
    static const struct {
        const char *call;
        unsigned roles;
    } hidden[] = {
        { "lookup_ticket", B(A) | B(O) | B(K) | B(I) },
        { "rate", B(O) | B(K) },
        { "get_event", B(O) | B(D) | B(G) | B(C) | B(I) },
        { "verify", B(O) | B(G) | B(C) },
        { "file", B(O) },
        { "reject", B(O) },
        { "assign", B(O) },
        { "whistle", B(O) },
        { "resolve", B(O) },
        { "close", B(O) },
        { "list_orders", B(O) },
        { "propose_departments", B(O) },
        { "decide_extension", B(O) },
        { "park", B(O) },
        { "unpark", B(O) },
        { "reopen", B(O) },
        { "merge", B(O) },
        { "transfer", B(O) },
        /* a household, a resident or a place of the archive outside the
         * caller's scope reads like a missing one */
        { "put_household", B(O) | B(G) | B(C) },
        { "put_resident", B(O) | B(G) | B(C) },
        { "get_household", B(O) | B(G) | B(C) },
        { "get_resident", B(O) | B(G) | B(C) },
        { "put_archive_unit", B(O) | B(G) | B(C) },
        { "import_archive", B(O) | B(G) | B(C) },
        { "record_visit", B(O) | B(G) | B(C) },
        /* a photo of a case the caller may not read reads like a missing one */
        { "get_photo", B(O) | B(D) | B(G) | B(C) | B(I) | B(K) },
    };
    for (size_t i = 0; i < sizeof hidden / sizeof *hidden; i++)
        if (strcmp(hidden[i].call, call_name) == 0)
            return hidden[i].roles;
    return 0;
}

/* The volunteers' calls: their own matrix, with the volunteer role, is
 * tests/unit/test_volunteer.c's. */
static bool volunteer_call(const char *call_name)
{
    static const char *const calls[] = { "set_volunteer_config",
                                         "get_volunteer_config",
                                         "add_volunteer",
                                         "list_volunteers",
                                         "add_wish",
                                         "publish_wish",
                                         "claim_wish",
                                         "done_wish",
                                         "confirm_wish",
                                         "list_wishes",
                                         "points_balance",
                                         "points_history",
                                         "adjust_points",
                                         "put_shop_item",
                                         "list_shop",
                                         "redeem",
                                         "publish_member_task",
                                         "member_task_act",
                                         "list_member_tasks",
                                         "volunteer_report" };
    for (size_t i = 0; i < sizeof calls / sizeof *calls; i++)
        if (strcmp(calls[i], call_name) == 0)
            return true;
    return false;
}

static const struct expect *expect_for(const char *call_name)
{
    for (size_t i = 0; i < N_EXPECT; i++)
        if (strcmp(expect[i].call, call_name) == 0)
            return &expect[i];
    return NULL;
}

Test(matrix, every_call_of_the_protocol_has_a_rule)
{
    const ProtobufCMessageDescriptor *d = &whistle__v1__request__descriptor;
    char *missing = arena_strdup(h_a, "");
    unsigned calls = 0, vcalls = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        calls++;
        if (!authz_rule_for((int)f->id))
            missing = arena_printf(h_a, "%s %s (no rule in daemon/authz.c)", missing, f->name);
        if (volunteer_call(f->name)) {
            vcalls++;
            continue;
        }
        if (!expect_for(f->name))
            missing = arena_printf(h_a, "%s %s (no row in this test)", missing, f->name);
    }
    cr_assert_str_eq(missing, "", "calls without a rule:%s", missing);
    cr_assert_eq(calls, N_EXPECT + vcalls, "the test lists a call the protocol does not have");
    cr_assert_eq(vcalls, 20, "a volunteers' call is missing from the protocol");
    unsigned n;
    authz_rules(&n);
    cr_assert_eq(n, calls, "authz.c has a rule for a call the protocol does not have");
}

/* The client library decides which calls get an idempotency key from its
 * own list of writes; it must agree with the daemon's table, or a retried
 * write could be applied twice. */
Test(matrix, client_and_daemon_agree_on_which_calls_write)
{
    const ProtobufCMessageDescriptor *d = &whistle__v1__request__descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!(f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF))
            continue;
        const authz_rule *r = authz_rule_for((int)f->id);
        cr_assert(r, "%s has no rule", f->name);
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = f->id;
        cr_assert_eq(whistle_request_is_write(&req) != 0, r->write, "%s: libwhistle says %s, daemon/authz.c says %s",
                     f->name, whistle_request_is_write(&req) ? "write" : "read", r->write ? "write" : "read");
    }
}

/* ------------------------------------------------------------ the fixture */

#define GRID1 "110105001001001"
#define GRID2 "110105001001002"
#define GRID_CHAOWAI "110105002001001"
#define GRID_OTHER "110106001001001" /* another district */
#define YONGANLI "110105001001"
#define JIXIANGLI "110105002001"
#define COMM_OTHER "110106001001"

static struct {
    const char *w, *c, *x, *g, *cm, *i; /* cases */
    uint64_t po, uo;                    /* police's and urban's orders on w */
    uint64_t co;                        /* fire's order on c, in the other street */
    uint64_t t_in, t_out, t_other;      /* tasks */
    uint64_t body_in, body_out;         /* deliberation: every role chairs body_in; gw-2 alone body_out */
    uint64_t prop_in, prop_out, meet_in, meet_out;
    uint64_t hh_in, hh_out;         /* households at GRID1 and GRID_CHAOWAI */
    uint64_t res_in, res_out;       /* a resident of each */
    uint64_t notice_in, notice_out; /* notices at GRID1 and GRID_CHAOWAI */
} fx;

static uint64_t put_body(const char *place, int n, const char *const *chairs)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_BODY);
    r->put_body = NEW(Whistle__V1__PutDelibBody, whistle__v1__put_delib_body__init);
    Whistle__V1__DelibBody *b = r->put_body->body = NEW(Whistle__V1__DelibBody, whistle__v1__delib_body__init);
    b->place = (char *)place;
    b->name = "council";
    b->seats = arena_alloc(h_a, (size_t)n * sizeof *b->seats);
    for (int i = 0; i < n; i++) {
        Whistle__V1__DelibSeat *s = b->seats[b->n_seats++] = NEW(Whistle__V1__DelibSeat, whistle__v1__delib_seat__init);
        s->principal = (char *)chairs[i];
        s->group = WHISTLE__V1__DELIB_GROUP__DELIB_GROUP_COMMUNITY;
        s->role = WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_CHAIR;
    }
    Whistle__V1__Response *resp = h_write("admin", r);
    assert_ok(resp);
    return resp->body->id;
}

static uint64_t propose(const char *who, uint64_t body)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SUBMIT_PROPOSAL);
    r->submit_proposal = NEW(Whistle__V1__SubmitDelibProposal, whistle__v1__submit_delib_proposal__init);
    r->submit_proposal->body_id = body;
    r->submit_proposal->title = "benches";
    Whistle__V1__Response *resp = h_write(who, r);
    assert_ok(resp);
    return resp->delib_proposal->id;
}

static Whistle__V1__Request *rq_meeting(uint64_t body)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SCHEDULE_MEETING);
    Whistle__V1__ScheduleDelibMeeting *m = r->schedule_meeting =
        NEW(Whistle__V1__ScheduleDelibMeeting, whistle__v1__schedule_delib_meeting__init);
    m->body_id = body;
    m->title = "monthly";
    m->starts_ms = h_now + 86400000LL * 5;
    static char *cands[] = { "a", "b", "c" };
    m->items = arena_alloc(h_a, sizeof *m->items);
    m->items[0] = NEW(Whistle__V1__DelibItemSpec, whistle__v1__delib_item_spec__init);
    m->n_items = 1;
    m->items[0]->title = "ballot";
    m->items[0]->candidates = cands;
    m->items[0]->n_candidates = 3;
    m->items[0]->winners = 1;
    return r;
}

static uint64_t meeting(const char *chair, uint64_t body)
{
    Whistle__V1__Response *resp = h_write(chair, rq_meeting(body));
    assert_ok(resp);
    return resp->meeting->id;
}

static uint64_t household(const char *who, const char *grid)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_HOUSEHOLD);
    r->put_household = NEW(Whistle__V1__PutHousehold, whistle__v1__put_household__init);
    Whistle__V1__ArchiveHousehold *h = r->put_household->household =
        NEW(Whistle__V1__ArchiveHousehold, whistle__v1__archive_household__init);
    h->node = (char *)grid;
    h->building = "1号楼";
    h->room = "101";
    Whistle__V1__Response *resp = h_write(who, r);
    assert_ok(resp);
    return resp->household->id;
}

static uint64_t resident(const char *who, uint64_t hh, const char *id17)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_RESIDENT);
    r->put_resident = NEW(Whistle__V1__PutResident, whistle__v1__put_resident__init);
    Whistle__V1__ArchiveResident *p = r->put_resident->resident =
        NEW(Whistle__V1__ArchiveResident, whistle__v1__archive_resident__init);
    p->household_id = hh;
    p->name = "居民";
    p->id_number = (char *)h_idcard(id17);
    Whistle__V1__Response *resp = h_write(who, r);
    assert_ok(resp);
    return resp->resident->id;
}

static uint64_t notice(const char *who, const char *node)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(POST_NOTICE);
    r->post_notice = NEW(Whistle__V1__PostNotice, whistle__v1__post_notice__init);
    Whistle__V1__BoardNotice *n = r->post_notice->notice =
        NEW(Whistle__V1__BoardNotice, whistle__v1__board_notice__init);
    n->node = (char *)node;
    n->title = "通知";
    n->body = "body";
    Whistle__V1__Response *resp = h_write(who, r);
    assert_ok(resp);
    return resp->notice->id;
}

static const char *report(const char *who, const char *node, const char *phone)
{
    Whistle__V1__Request *r = rq_report(node, "0101", "matrix case");
    r->report->contact = (char *)(phone ? phone : "");
    Whistle__V1__Response *resp = h_write(who, r);
    assert_ok(resp);
    return resp->event->ticket;
}

static void file_assign(const char *t, const char *to)
{
    assert_ok(h_write("admin", rq_ticket(CALL(FILE), t)));
    Whistle__V1__Request *r = rq_ticket(CALL(ASSIGN), t);
    r->assign->assignee = (char *)to;
    assert_ok(h_write("admin", r));
}

static uint64_t push(const char *community)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUSH_TASK);
    r->push_task = NEW(Whistle__V1__PushTask, whistle__v1__push_task__init);
    r->push_task->community = (char *)community;
    r->push_task->kind = "survey";
    r->push_task->title = "survey";
    r->push_task->deadline_ms = T0 + 86400000LL * 30;
    Whistle__V1__Response *resp = h_write("admin", r);
    assert_ok(resp);
    return resp->task->id;
}

/* A photo attached to each case of the fixture, as the report that
 * attaches it would store it (photo_record.h): its upload's record and
 * files, then the attachment; get_photo reads it by the case's id. */
static struct {
    const char *ticket;
    uint64_t id;
} photos[8];
static int n_photos;

static void attach_photo(const char *ticket)
{
    char err[256];
    cr_assert_eq(blobs_init(h_st->dir, err, sizeof err), 0, "%s", err);
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    uint8_t h[BLOB_HASH_LEN];
    memset(h, 0x10 + n_photos, sizeof h);
    char path[4096];
    for (int t = 0; t < 2; t++) {
        blob_path(h_st->dir, h, t == 1, path, sizeof path);
        cr_assert_eq(blob_write_file(path, "photo", 5, NULL), 0);
    }
    uint8_t fh[BLOB_HASH_LEN];
    blob_sha256("photo", 5, fh);
    Whistled__PhotoUpload u = WHISTLED__PHOTO_UPLOAD__INIT;
    u.sha256 = (ProtobufCBinaryData){ BLOB_HASH_LEN, h };
    u.size = 5;
    u.mime = "image/jpeg";
    u.image_sha256 = u.thumb_sha256 = (ProtobufCBinaryData){ BLOB_HASH_LEN, fh };
    u.image_bytes = u.thumb_bytes = 5;
    cr_assert_eq(photo_upload_register(h_st, txn, &u, h_now, "admin"), 0);
    uint64_t id;
    cr_assert_eq(store_next_seq(txn, h_st, "photo_att_seq", &id), 0);
    Whistle__V1__PhotoAttachment at = WHISTLE__V1__PHOTO_ATTACHMENT__INIT;
    at.id = id;
    at.stage = WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_REPORT;
    at.mime = "image/jpeg";
    at.bytes = at.thumb_bytes = 5;
    at.has_thumbnail = true;
    uint8_t packed[256];
    size_t plen = whistle__v1__photo_attachment__pack(&at, packed);
    Whistled__PhotoAttachmentRecord rec = WHISTLED__PHOTO_ATTACHMENT_RECORD__INIT;
    rec.att = (ProtobufCBinaryData){ plen, packed };
    rec.upload = (ProtobufCBinaryData){ BLOB_HASH_LEN, h };
    rec.ticket = (char *)ticket;
    uint8_t k[8];
    store_be64(k, id);
    cr_assert_eq(store_put(txn, h_st->photo_att, k, 8, &rec.base), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    photos[n_photos].ticket = ticket;
    photos[n_photos++].id = id;
}

static uint64_t photo_of(const char *ticket)
{
    for (int i = 0; i < n_photos; i++)
        if (photos[i].ticket == ticket)
            return photos[i].id;
    cr_assert_fail("the fixture attached no photo to %s", ticket);
    return 0;
}

static void fixture(void)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(IMPORT_DIRECTORY);
    r->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    /* the other district's grid has a boundary, so that a point in it is
     * located, and refused to those it is outside of */
    const char *csv = "code,parent_code,kind,name_zh,name_en,boundary\n110106,,district,海淀区,Haidian,\n"
                      "110106001,110106,street,街道,Street,\n110106001001,110106001,community,社区,Community,\n"
                      "110106001001001,110106001001,grid,网格,Grid,\"{\"\"type\"\":\"\"Polygon\"\",\"\"coordinates\"\":"
                      "[[[116.30,39.95],[116.31,39.95],[116.31,39.96],[116.30,39.96],[116.30,39.95]]]}\"\n";
    r->import_directory->data.data = (uint8_t *)csv;
    r->import_directory->data.len = strlen(csv);
    r->import_directory->last = true;
    assert_ok(h_write("admin", r));
    const char *survey[] = { "survey" };
    const char *comms[] = { YONGANLI, JIXIANGLI, COMM_OTHER };
    for (int i = 0; i < 3; i++) {
        r = h_req();
        r->call_case = CALL(SET_ADMISSION_LIST);
        r->set_admission_list = NEW(Whistle__V1__SetAdmissionList, whistle__v1__set_admission_list__init);
        r->set_admission_list->community = (char *)comms[i];
        r->set_admission_list->kinds = (char **)survey;
        r->set_admission_list->n_kinds = 1;
        assert_ok(h_write("admin", r));
    }
    fx.w = report("kiosk-yonganli", GRID1, "13800138000");
    assert_ok(h_write("admin", rq_ticket(CALL(FILE), fx.w)));
    Whistle__V1__Response *wr = h_write("admin", rq_whistle(fx.w, 2, "police", "urban"));
    assert_ok(wr);
    fx.po = wr->whistle->orders[0]->id;
    fx.uo = wr->whistle->orders[1]->id;
    fx.c = report("hotline", GRID_CHAOWAI, "13900139000");
    /* an order outside the Jianwai operator's street (fire has no principal:
     * no department's reach changes) */
    assert_ok(h_write("admin", rq_ticket(CALL(FILE), fx.c)));
    wr = h_write("admin", rq_whistle(fx.c, 1, "fire"));
    assert_ok(wr);
    fx.co = wr->whistle->orders[0]->id;
    fx.x = report("admin", GRID_OTHER, "13700137000");
    fx.g = report("gw-1", GRID1, NULL);
    file_assign(fx.g, "gw-1");
    fx.cm = report("comm-yonganli", GRID2, NULL);
    file_assign(fx.cm, "comm-yonganli");
    fx.i = report("hotline", GRID1, "13600136000");
    n_photos = 0;
    const char *with_photo[] = { fx.w, fx.c, fx.x, fx.g, fx.cm, fx.i };
    for (size_t i = 0; i < sizeof with_photo / sizeof *with_photo; i++)
        attach_photo(with_photo[i]);
    fx.t_in = push(YONGANLI);
    fx.t_out = push(JIXIANGLI);
    fx.t_other = push(COMM_OTHER);
    static const char *const people[] = { "admin", "op-jianwai", "police", "gw-1", "comm-yonganli", "hotline" };
    static const char *const other[] = { "gw-2" };
    fx.body_in = put_body(YONGANLI, 6, people);
    fx.body_out = put_body(COMM_OTHER, 1, other);
    fx.prop_in = propose("gw-1", fx.body_in);
    fx.prop_out = propose("gw-2", fx.body_out);
    fx.meet_in = meeting("gw-1", fx.body_in);
    fx.meet_out = meeting("gw-2", fx.body_out);
    h_archive_keys();
    fx.hh_in = household("op-jianwai", GRID1);
    fx.hh_out = household("op-chaowai", GRID_CHAOWAI);
    fx.res_in = resident("op-jianwai", fx.hh_in, "11010519500101001");
    fx.res_out = resident("op-chaowai", fx.hh_out, "11010519500101002");
    fx.notice_in = notice("op-jianwai", GRID1);
    fx.notice_out = notice("op-chaowai", GRID_CHAOWAI);
}

/* What each role reaches and what lies just outside it. */
typedef struct reach {
    int role;
    const char *who;
    const char *case_in, *case_out;  /* a case it may act on / one it may not */
    const char *assigned, *reported; /* resolve and rate need more than scope */
    uint64_t order_in, order_out;
    const char *node_in, *node_out; /* places: report, list_nodes, list_events */
    const char *comm_in, *comm_out;
    uint64_t task_in, task_out;
    const char *stream_in, *stream_out;
} reach;

static reach reach_of(int role)
{
    switch (role) {
    case A:
        return (reach){ A,           "admin",    fx.w,    fx.x,       fx.g,
                        fx.w,        fx.po,      fx.uo,   GRID1,      GRID_OTHER,
                        YONGANLI,    COMM_OTHER, fx.t_in, fx.t_other, "street:110105001",
                        "dept:urban" };
    case O:
        return (reach){ O,
                        "op-jianwai",
                        fx.w,
                        fx.c,
                        fx.w,
                        fx.w,
                        fx.po,
                        fx.uo,
                        GRID1,
                        GRID_CHAOWAI,
                        YONGANLI,
                        JIXIANGLI,
                        fx.t_in,
                        fx.t_out,
                        "street:110105001",
                        "street:110105002" };
    case D:
        return (
            reach){ D,           "police",    fx.w,     fx.c,       fx.w,    fx.w,       fx.po,         fx.uo,
                    "110105001", "110106001", YONGANLI, COMM_OTHER, fx.t_in, fx.t_other, "dept:police", "dept:urban" };
    case G:
        return (reach){ G,
                        "gw-1",
                        fx.g,
                        fx.c,
                        fx.g,
                        fx.g,
                        fx.po,
                        fx.uo,
                        GRID1,
                        GRID_CHAOWAI,
                        YONGANLI,
                        JIXIANGLI,
                        fx.t_in,
                        fx.t_out,
                        "principal:gw-1",
                        "principal:gw-2" };
    case C:
        return (reach){ C,
                        "comm-yonganli",
                        fx.cm,
                        fx.c,
                        fx.cm,
                        fx.cm,
                        fx.po,
                        fx.uo,
                        GRID2,
                        GRID_CHAOWAI,
                        YONGANLI,
                        JIXIANGLI,
                        fx.t_in,
                        fx.t_out,
                        "principal:comm-yonganli",
                        "principal:kiosk-yonganli" };
    case K:
        return (reach){ K,
                        "kiosk-yonganli",
                        fx.w,
                        fx.c,
                        fx.w,
                        fx.w,
                        fx.po,
                        fx.uo,
                        GRID1,
                        GRID_CHAOWAI,
                        YONGANLI,
                        JIXIANGLI,
                        fx.t_in,
                        fx.t_out,
                        "principal:kiosk-yonganli",
                        "principal:kiosk-2" };
    case I:
        return (reach){ I,
                        "hotline",
                        fx.i,
                        fx.x,
                        fx.i,
                        fx.i,
                        fx.po,
                        fx.uo,
                        GRID1,
                        GRID_OTHER,
                        YONGANLI,
                        COMM_OTHER,
                        fx.t_in,
                        fx.t_other,
                        "principal:hotline",
                        "principal:kiosk-yonganli" };
    default:
        return (reach){ S,
                        "smoke-1",
                        fx.w,
                        fx.c,
                        fx.w,
                        fx.w,
                        fx.po,
                        fx.uo,
                        GRID1,
                        GRID_CHAOWAI,
                        YONGANLI,
                        JIXIANGLI,
                        fx.t_in,
                        fx.t_out,
                        "principal:smoke-1",
                        "principal:gw-1" };
    }
}

/* The last four digits of the phones the fixture gave. */
static const char *digits_of(const char *ticket)
{
    if (ticket == fx.w)
        return "8000";
    if (ticket == fx.c)
        return "9000";
    if (ticket == fx.x)
        return "7000";
    return "6000";
}

/* ------------------------------------------------------------ one request per call */

#define SET(field, type, init) (r->field = NEW(type, init))

static Whistle__V1__Request *build(const char *call_name, const reach *x, bool in)
{
    Whistle__V1__Request *r = h_req();
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(&whistle__v1__request__descriptor, call_name);
    cr_assert(f, "no call %s", call_name);
    r->call_case = (Whistle__V1__Request__CallCase)f->id;
    const char *ticket = in ? x->case_in : x->case_out;
    const char *node = in ? x->node_in : x->node_out;
    const char *comm = in ? x->comm_in : x->comm_out;
    if (!strcmp(call_name, "hello")) {
        SET(hello, Whistle__V1__Hello, whistle__v1__hello__init)->protocol_version = 1;
    } else if (!strcmp(call_name, "ping")) {
        SET(ping, Whistle__V1__Ping, whistle__v1__ping__init);
    } else if (!strcmp(call_name, "subscribe")) {
        SET(subscribe, Whistle__V1__Subscribe, whistle__v1__subscribe__init)->stream =
            (char *)(in ? x->stream_in : x->stream_out);
    } else if (!strcmp(call_name, "report")) {
        Whistle__V1__Request *q = rq_report(node, "0101", "matrix");
        q->id = r->id;
        return q;
    } else if (!strcmp(call_name, "get_event") || !strcmp(call_name, "file") || !strcmp(call_name, "reject") ||
               !strcmp(call_name, "assign") || !strcmp(call_name, "verify") || !strcmp(call_name, "close")) {
        Whistle__V1__Request *q = rq_ticket(r->call_case, ticket);
        if (q->call_case == CALL(REJECT))
            q->reject->reason = "duplicate";
        if (q->call_case == CALL(ASSIGN))
            q->assign->assignee = "gw-1";
        return q;
    } else if (!strcmp(call_name, "whistle")) {
        return rq_whistle(ticket, 1, "fire");
    } else if (!strcmp(call_name, "resolve")) {
        Whistle__V1__Request *q = rq_ticket(CALL(RESOLVE), in ? x->assigned : x->case_out);
        q->resolve->note = "done";
        return q;
    } else if (!strcmp(call_name, "rate")) {
        Whistle__V1__Request *q = rq_ticket(CALL(RATE), in ? x->reported : x->case_out);
        q->rate->score = 5;
        if (x->role == K) /* a kiosk proves the ticket with the phone's digits */
            q->rate->phone_last4 = (char *)digits_of(in ? x->reported : x->case_out);
        return q;
    } else if (!strcmp(call_name, "list_events")) {
        return rq_list_events(0, node, 0, NULL);
    } else if (!strcmp(call_name, "list_orders")) {
        if (x->role == D)
            return rq_list_orders(in ? "police" : "urban", NULL, 0, 0);
        return rq_list_orders(NULL, ticket, 0, 0);
    } else if (!strcmp(call_name, "check_in") || !strcmp(call_name, "feedback") || !strcmp(call_name, "return_order")) {
        return rq_order(r->call_case, in ? x->order_in : x->order_out, "why");
    } else if (!strcmp(call_name, "list_nodes")) {
        SET(list_nodes, Whistle__V1__ListNodes, whistle__v1__list_nodes__init)->parent = (char *)node;
    } else if (!strcmp(call_name, "list_departments")) {
        SET(list_departments, Whistle__V1__ListDepartments, whistle__v1__list_departments__init);
    } else if (!strcmp(call_name, "list_categories")) {
        SET(list_categories, Whistle__V1__ListCategories, whistle__v1__list_categories__init);
    } else if (!strcmp(call_name, "import_directory")) {
        Whistle__V1__ImportDirectory *im =
            SET(import_directory, Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
        im->data.data = (uint8_t *)"code,name_zh\nzoo,动物园\n";
        im->data.len = strlen((const char *)im->data.data);
        im->last = true;
    } else if (!strcmp(call_name, "export_directory")) {
        SET(export_directory, Whistle__V1__ExportDirectory, whistle__v1__export_directory__init);
    } else if (!strcmp(call_name, "add_node")) {
        Whistle__V1__AddNode *an = SET(add_node, Whistle__V1__AddNode, whistle__v1__add_node__init);
        an->node = NEW(Whistle__V1__Node, whistle__v1__node__init);
        an->node->code = "110105001009";
        an->node->parent = "110105001";
        an->node->kind = WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY;
        an->node->name_zh = "新";
    } else if (!strcmp(call_name, "update_node")) {
        Whistle__V1__UpdateNode *u = SET(update_node, Whistle__V1__UpdateNode, whistle__v1__update_node__init);
        u->code = (char *)node;
        u->name_en = "renamed";
    } else if (!strcmp(call_name, "move_node")) {
        Whistle__V1__MoveNode *m = SET(move_node, Whistle__V1__MoveNode, whistle__v1__move_node__init);
        m->code = GRID2;
        m->new_parent = JIXIANGLI;
    } else if (!strcmp(call_name, "put_department")) {
        Whistle__V1__PutDepartment *p =
            SET(put_department, Whistle__V1__PutDepartment, whistle__v1__put_department__init);
        p->department = NEW(Whistle__V1__Department, whistle__v1__department__init);
        p->department->code = "zoo";
    } else if (!strcmp(call_name, "put_category")) {
        Whistle__V1__PutCategory *p = SET(put_category, Whistle__V1__PutCategory, whistle__v1__put_category__init);
        p->category = NEW(Whistle__V1__Category, whistle__v1__category__init);
        p->category->code = "09";
    } else if (!strcmp(call_name, "add_principal")) {
        Whistle__V1__AddPrincipal *p = SET(add_principal, Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
        p->principal = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
        p->principal->name = "newcomer";
        p->principal->role = WHISTLE__V1__ROLE__ROLE_KIOSK;
        p->principal->scope = YONGANLI;
    } else if (!strcmp(call_name, "update_principal")) {
        Whistle__V1__UpdatePrincipal *u =
            SET(update_principal, Whistle__V1__UpdatePrincipal, whistle__v1__update_principal__init);
        u->name = "gw-2";
        u->disable = true;
    } else if (!strcmp(call_name, "list_principals")) {
        SET(list_principals, Whistle__V1__ListPrincipals, whistle__v1__list_principals__init);
    } else if (!strcmp(call_name, "reload_crl")) {
        SET(reload_crl, Whistle__V1__ReloadCrl, whistle__v1__reload_crl__init);
    } else if (!strcmp(call_name, "server_stats")) {
        SET(server_stats, Whistle__V1__ServerStats, whistle__v1__server_stats__init);
    } else if (!strcmp(call_name, "backup")) {
        SET(backup, Whistle__V1__Backup, whistle__v1__backup__init);
    } else if (!strcmp(call_name, "backup_read")) {
        Whistle__V1__BackupRead *b = SET(backup_read, Whistle__V1__BackupRead, whistle__v1__backup_read__init);
        b->name = "nightly.mdb";
    } else if (!strcmp(call_name, "photo_put")) {
        Whistle__V1__PhotoPut *p = SET(photo_put, Whistle__V1__PhotoPut, whistle__v1__photo_put__init);
        p->sha256 = "00";
    } else if (!strcmp(call_name, "photo_upload")) {
        SET(photo_upload, Whistle__V1__PhotoUploadQuery, whistle__v1__photo_upload_query__init)->sha256 = "00";
    } else if (!strcmp(call_name, "get_photo")) {
        Whistle__V1__GetPhoto *g = SET(get_photo, Whistle__V1__GetPhoto, whistle__v1__get_photo__init);
        g->attachment_id = photo_of(ticket);
        /* a kiosk proves the case as for a look-up */
        if (x->role == K) {
            g->ticket = (char *)ticket;
            g->phone_last4 = (char *)digits_of(ticket);
        }
    } else if (!strcmp(call_name, "set_log_level")) {
        SET(set_log_level, Whistle__V1__SetLogLevel, whistle__v1__set_log_level__init);
    } else if (!strcmp(call_name, "query_audit")) {
        SET(query_audit, Whistle__V1__QueryAudit, whistle__v1__query_audit__init);
    } else if (!strcmp(call_name, "propose_departments")) {
        SET(propose_departments, Whistle__V1__ProposeDepartments, whistle__v1__propose_departments__init)->ticket =
            (char *)ticket;
    } else if (!strcmp(call_name, "lookup_ticket")) {
        Whistle__V1__LookupTicket *l = SET(lookup_ticket, Whistle__V1__LookupTicket, whistle__v1__lookup_ticket__init);
        l->ticket = (char *)ticket;
        l->phone_last4 = (char *)digits_of(ticket);
    } else if (!strcmp(call_name, "set_admission_list")) {
        Whistle__V1__SetAdmissionList *s =
            SET(set_admission_list, Whistle__V1__SetAdmissionList, whistle__v1__set_admission_list__init);
        s->community = (char *)comm;
    } else if (!strcmp(call_name, "get_admission_list")) {
        SET(get_admission_list, Whistle__V1__GetAdmissionList, whistle__v1__get_admission_list__init)->community =
            (char *)comm;
    } else if (!strcmp(call_name, "push_task")) {
        Whistle__V1__PushTask *p = SET(push_task, Whistle__V1__PushTask, whistle__v1__push_task__init);
        p->community = (char *)comm;
        p->kind = "survey";
        p->title = "survey";
        p->deadline_ms = T0 + 86400000LL * 30;
    } else if (!strcmp(call_name, "list_tasks")) {
        SET(list_tasks, Whistle__V1__ListTasks, whistle__v1__list_tasks__init)->community = (char *)comm;
    } else if (!strcmp(call_name, "complete_task")) {
        SET(complete_task, Whistle__V1__CompleteTask, whistle__v1__complete_task__init)->task_id =
            in ? x->task_in : x->task_out;
    } else if (!strcmp(call_name, "request_extension")) {
        Whistle__V1__RequestExtension *e =
            SET(request_extension, Whistle__V1__RequestExtension, whistle__v1__request_extension__init);
        e->order_id = in ? x->order_in : x->order_out;
        e->extra = NEW(Whistle__V1__TimeLimit, whistle__v1__time_limit__init);
        e->extra->amount = 1;
        e->extra->unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
        e->reason = "why";
    } else if (!strcmp(call_name, "decide_extension")) {
        /* the operator's reach is the case's street: an order on a case of
         * the other street is outside it */
        Whistle__V1__DecideExtension *e =
            SET(decide_extension, Whistle__V1__DecideExtension, whistle__v1__decide_extension__init);
        e->order_id = in ? x->order_in : fx.co;
        e->approve = true;
    } else if (!strcmp(call_name, "park")) {
        Whistle__V1__ParkEvent *p = SET(park, Whistle__V1__ParkEvent, whistle__v1__park_event__init);
        p->ticket = (char *)ticket;
        p->reason = "why";
    } else if (!strcmp(call_name, "unpark")) {
        SET(unpark, Whistle__V1__UnparkEvent, whistle__v1__unpark_event__init)->ticket = (char *)ticket;
    } else if (!strcmp(call_name, "reopen")) {
        Whistle__V1__ReopenEvent *p = SET(reopen, Whistle__V1__ReopenEvent, whistle__v1__reopen_event__init);
        p->ticket = (char *)ticket;
        p->reason = "why";
    } else if (!strcmp(call_name, "merge")) {
        Whistle__V1__MergeEvent *m = SET(merge, Whistle__V1__MergeEvent, whistle__v1__merge_event__init);
        m->ticket = (char *)ticket;
        m->into = (char *)ticket;
    } else if (!strcmp(call_name, "transfer")) {
        Whistle__V1__TransferEvent *t = SET(transfer, Whistle__V1__TransferEvent, whistle__v1__transfer_event__init);
        t->ticket = (char *)ticket;
        t->to_district = "110106";
        t->reason = "placed in the wrong district";
    } else if (!strcmp(call_name, "fed_apply")) {
        Whistle__V1__FedApply *fa = SET(fed_apply, Whistle__V1__FedApply, whistle__v1__fed_apply__init);
        fa->key = "12345:matrix";
        fa->body_case = WHISTLE__V1__FED_APPLY__BODY_INTAKE;
        fa->intake = NEW(Whistle__V1__FedIntake, whistle__v1__fed_intake__init);
        fa->intake->external_id = "matrix";
        fa->intake->node = (char *)node;
        fa->intake->category = "0101";
        fa->intake->description = "matrix";
    } else if (!strcmp(call_name, "fed_directory")) {
        SET(fed_directory, Whistle__V1__FedDirectory, whistle__v1__fed_directory__init);
    } else if (!strcmp(call_name, "report_stage")) {
        Whistle__V1__ReportStage *p = SET(report_stage, Whistle__V1__ReportStage, whistle__v1__report_stage__init);
        p->order_id = in ? x->order_in : x->order_out;
        p->stage = 1;
    } else if (!strcmp(call_name, "list_supervisions")) {
        Whistle__V1__ListSupervisions *l =
            SET(list_supervisions, Whistle__V1__ListSupervisions, whistle__v1__list_supervisions__init);
        if (x->role == D)
            l->department = in ? "police" : "urban";
        else
            l->node = (char *)node;
    } else if (!strcmp(call_name, "get_stats")) {
        Whistle__V1__GetStats *g = SET(get_stats, Whistle__V1__GetStats, whistle__v1__get_stats__init);
        g->codes = arena_alloc(h_a, sizeof(char *));
        g->n_codes = 1;
        if (x->role == D) {
            g->by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DEPARTMENT;
            g->codes[0] = in ? "police" : "urban";
        } else {
            g->by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_GRID;
            g->codes[0] = (char *)node;
        }
    } else if (!strcmp(call_name, "emergency_call")) {
        SET(emergency_call, Whistle__V1__EmergencyCall, whistle__v1__emergency_call__init)->node = (char *)node;
    } else if (!strcmp(call_name, "list_services")) {
        SET(list_services, Whistle__V1__ListServices, whistle__v1__list_services__init);
    } else if (!strcmp(call_name, "put_household")) {
        Whistle__V1__PutHousehold *p = SET(put_household, Whistle__V1__PutHousehold, whistle__v1__put_household__init);
        p->household = NEW(Whistle__V1__ArchiveHousehold, whistle__v1__archive_household__init);
        p->household->node = (char *)node;
        p->household->building = "2号楼";
    } else if (!strcmp(call_name, "put_resident")) {
        Whistle__V1__PutResident *p = SET(put_resident, Whistle__V1__PutResident, whistle__v1__put_resident__init);
        p->resident = NEW(Whistle__V1__ArchiveResident, whistle__v1__archive_resident__init);
        p->resident->household_id = in ? fx.hh_in : fx.hh_out;
        p->resident->name = "新居民";
        p->resident->phone = "13812345678";
    } else if (!strcmp(call_name, "get_household")) {
        Whistle__V1__GetHousehold *g = SET(get_household, Whistle__V1__GetHousehold, whistle__v1__get_household__init);
        g->id = in ? fx.hh_in : fx.hh_out;
        g->reason = "matrix";
    } else if (!strcmp(call_name, "get_resident")) {
        Whistle__V1__GetResident *g = SET(get_resident, Whistle__V1__GetResident, whistle__v1__get_resident__init);
        g->id = in ? fx.res_in : fx.res_out;
        g->reason = "matrix";
    } else if (!strcmp(call_name, "list_households")) {
        SET(list_households, Whistle__V1__ListHouseholds, whistle__v1__list_households__init)->node = (char *)node;
    } else if (!strcmp(call_name, "put_archive_unit")) {
        Whistle__V1__PutArchiveUnit *p =
            SET(put_archive_unit, Whistle__V1__PutArchiveUnit, whistle__v1__put_archive_unit__init);
        p->unit = NEW(Whistle__V1__ArchiveUnit, whistle__v1__archive_unit__init);
        p->unit->node = (char *)node;
        p->unit->kind = WHISTLE__V1__ARCHIVE_UNIT_KIND__ARCHIVE_UNIT_KIND_SHOP;
        p->unit->name = "小卖部";
    } else if (!strcmp(call_name, "list_archive_units")) {
        SET(list_archive_units, Whistle__V1__ListArchiveUnits, whistle__v1__list_archive_units__init)->node =
            (char *)node;
    } else if (!strcmp(call_name, "set_care_tags")) {
        SET(set_care_tags, Whistle__V1__SetCareTags, whistle__v1__set_care_tags__init);
    } else if (!strcmp(call_name, "list_care_tags")) {
        SET(list_care_tags, Whistle__V1__ListCareTags, whistle__v1__list_care_tags__init);
    } else if (!strcmp(call_name, "import_archive")) {
        Whistle__V1__ImportArchive *im =
            SET(import_archive, Whistle__V1__ImportArchive, whistle__v1__import_archive__init);
        im->node = (char *)node;
        const char *csv = arena_printf(h_a, "grid,building,room,name\n%s,3号楼,301,张三\n", node);
        im->data.data = (uint8_t *)csv;
        im->data.len = strlen(csv);
    } else if (!strcmp(call_name, "export_archive")) {
        SET(export_archive, Whistle__V1__ExportArchive, whistle__v1__export_archive__init)->reason = "matrix";
    } else if (!strcmp(call_name, "record_visit")) {
        SET(record_visit, Whistle__V1__RecordVisit, whistle__v1__record_visit__init)->household_id =
            in ? fx.hh_in : fx.hh_out;
    } else if (!strcmp(call_name, "list_visits")) {
        SET(list_visits, Whistle__V1__ListVisits, whistle__v1__list_visits__init)->node = (char *)node;
    } else if (!strcmp(call_name, "list_visits_due")) {
        SET(list_visits_due, Whistle__V1__ListVisitsDue, whistle__v1__list_visits_due__init)->node = (char *)node;
    } else if (!strcmp(call_name, "get_archive_stats")) {
        SET(get_archive_stats, Whistle__V1__GetArchiveStats, whistle__v1__get_archive_stats__init)->node = (char *)node;
    } else if (!strcmp(call_name, "post_notice")) {
        Whistle__V1__PostNotice *p = SET(post_notice, Whistle__V1__PostNotice, whistle__v1__post_notice__init);
        p->notice = NEW(Whistle__V1__BoardNotice, whistle__v1__board_notice__init);
        p->notice->node = (char *)node;
        p->notice->title = "通知";
        p->notice->body = "body";
    } else if (!strcmp(call_name, "list_board")) {
        SET(list_board, Whistle__V1__ListBoard, whistle__v1__list_board__init)->node = (char *)node;
    } else if (!strcmp(call_name, "withdraw_notice")) {
        Whistle__V1__WithdrawNotice *w =
            SET(withdraw_notice, Whistle__V1__WithdrawNotice, whistle__v1__withdraw_notice__init);
        w->id = in ? fx.notice_in : fx.notice_out;
        w->reason = "matrix";
    } else if (!strcmp(call_name, "locate_place")) {
        /* a point inside the place (tests/fixtures/seed-small.json's
         * boundaries; a street's: a point in one of its grids) */
        Whistle__V1__LocatePlace *l = SET(locate_place, Whistle__V1__LocatePlace, whistle__v1__locate_place__init);
        static const struct {
            const char *node;
            double lat, lon;
        } at[] = {
            { GRID1, 39.90175, 116.46225 },     { "110105001", 39.90175, 116.46225 }, { GRID2, 39.90175, 116.45075 },
            { GRID_CHAOWAI, 39.9195, 116.448 }, { GRID_OTHER, 39.955, 116.305 },      { "110106001", 39.955, 116.305 },
        };
        size_t i = 0;
        while (i < sizeof at / sizeof *at && strcmp(at[i].node, node) != 0)
            i++;
        cr_assert(i < sizeof at / sizeof *at, "locate_place: no point for %s", node);
        l->lat = at[i].lat;
        l->lon = at[i].lon;
    } else if (!strncmp(call_name, "put_body", 8) || strstr(call_name, "proposal") || strstr(call_name, "meeting") ||
               !strcmp(call_name, "get_body") || !strcmp(call_name, "cast_vote") ||
               !strcmp(call_name, "sign_minutes") || !strcmp(call_name, "rate_decision") ||
               !strcmp(call_name, "delib_report")) {
        /* admins have no outside: theirs is body_in both times */
        bool mine = in || x->role == A;
        uint64_t body = mine ? fx.body_in : fx.body_out, meet = mine ? fx.meet_in : fx.meet_out;
        if (!strcmp(call_name, "put_body")) {
            Whistle__V1__Request *q = h_req();
            q->call_case = CALL(PUT_BODY);
            q->put_body = NEW(Whistle__V1__PutDelibBody, whistle__v1__put_delib_body__init);
            Whistle__V1__DelibBody *b = q->put_body->body = NEW(Whistle__V1__DelibBody, whistle__v1__delib_body__init);
            b->place = (char *)(mine ? YONGANLI : COMM_OTHER);
            b->name = "new council";
            b->seats = arena_alloc(h_a, sizeof *b->seats);
            b->seats[b->n_seats++] = NEW(Whistle__V1__DelibSeat, whistle__v1__delib_seat__init);
            b->seats[0]->principal = "gw-1";
            b->seats[0]->group = WHISTLE__V1__DELIB_GROUP__DELIB_GROUP_RESIDENTS;
            b->seats[0]->role = WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_CHAIR;
            return q;
        } else if (!strcmp(call_name, "get_body")) {
            SET(get_body, Whistle__V1__GetDelibBody, whistle__v1__get_delib_body__init)->body_id = body;
        } else if (!strcmp(call_name, "submit_proposal")) {
            Whistle__V1__SubmitDelibProposal *p =
                SET(submit_proposal, Whistle__V1__SubmitDelibProposal, whistle__v1__submit_delib_proposal__init);
            p->body_id = body;
            p->title = "lights";
        } else if (!strcmp(call_name, "list_proposals")) {
            SET(list_proposals, Whistle__V1__ListDelibProposals, whistle__v1__list_delib_proposals__init)->body_id =
                body;
        } else if (!strcmp(call_name, "schedule_meeting")) {
            Whistle__V1__Request *q = rq_meeting(body);
            return q;
        } else if (!strcmp(call_name, "get_meeting")) {
            SET(get_meeting, Whistle__V1__GetDelibMeeting, whistle__v1__get_delib_meeting__init)->meeting_id = meet;
        } else if (!strcmp(call_name, "meeting_act")) {
            Whistle__V1__DelibMeetingAct *m =
                SET(meeting_act, Whistle__V1__DelibMeetingAct, whistle__v1__delib_meeting_act__init);
            m->meeting_id = meet;
            m->action = WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_CHECK_IN;
        } else if (!strcmp(call_name, "cast_vote")) {
            Whistle__V1__CastDelibVote *v =
                SET(cast_vote, Whistle__V1__CastDelibVote, whistle__v1__cast_delib_vote__init);
            v->meeting_id = meet;
            v->item_no = 1;
        } else if (!strcmp(call_name, "sign_minutes")) {
            SET(sign_minutes, Whistle__V1__SignDelibMinutes, whistle__v1__sign_delib_minutes__init)->meeting_id = meet;
        } else if (!strcmp(call_name, "rate_decision")) {
            Whistle__V1__RateDelibDecision *d =
                SET(rate_decision, Whistle__V1__RateDelibDecision, whistle__v1__rate_delib_decision__init);
            d->proposal_id = mine ? fx.prop_in : fx.prop_out;
            d->rating = 5;
        } else {
            SET(delib_report, Whistle__V1__GetDelibReport, whistle__v1__get_delib_report__init)->body_id = body;
        }
    } else {
        cr_assert_fail("the matrix cannot build a %s request: add it to build()", call_name);
    }
    return r;
}

/* ------------------------------------------------------------ making the call */

/* The status of the call as who, changing nothing. The calls the server
 * answers itself pass the same role gate (api_authorize) and, for
 * subscribe, the stream rule the server applies. */
static Whistle__V1__Response *run(const char *who, Whistle__V1__Request *req)
{
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    MDB_txn *txn, *child;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Principal *p = h_who(txn, who);
    /* Request.act_as, as the router and the writer resolve it: the call is
     * then the named principal's, audited through the caller */
    const Whistle__V1__Principal *acting = api_acting(h_st, txn, p, req->act_as, "matrix", h_now, h_a, resp, NULL);
    if (!acting) {
        mdb_txn_abort(txn);
        cr_assert(resp->status, "no status");
        return resp;
    }
    audit_via_set(acting != p ? p->name : NULL);
    p = (Whistle__V1__Principal *)acting;
    switch (req->call_case) {
    case CALL(HELLO):
    case CALL(PING):
    case CALL(RELOAD_CRL):
    case CALL(SERVER_STATS):
    case CALL(BACKUP):
    case CALL(BACKUP_READ):
    case CALL(SET_LOG_LEVEL):
    case CALL(PHOTO_PUT):
    case CALL(PHOTO_UPLOAD):
    case CALL(SUBSCRIBE):
        if (api_authorize(h_st, p, req, h_now, h_a, resp)) {
            if (req->call_case == CALL(SUBSCRIBE) && !stream_allowed(p, req->subscribe->stream))
                call_status(resp, h_a, WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED, "stream rule");
            else
                call_status(resp, h_a, WHISTLE__V1__STATUS__CODE__OK, "%s", "");
        }
        break;
    default:
        cr_assert_eq(mdb_txn_begin(h_st->env, txn, 0, &child), 0);
        if (api_is_write(req)) {
            stream_touched t = { 0 };
            api_write(h_st, child, p, req, h_now, h_a, resp, &t);
            stream_touched_clear(&t);
        } else {
            api_read(h_st, child, p, req, h_now, h_a, resp);
        }
        mdb_txn_abort(child);
    }
    audit_via_set(NULL);
    mdb_txn_abort(txn);
    cr_assert(resp->status, "no status");
    return resp;
}

Test(matrix, every_role_every_call_in_and_out_of_scope)
{
    fixture();
    char *wrong = arena_strdup(h_a, "");
    int cells = 0, failures = 0;
    for (size_t i = 0; i < N_EXPECT; i++) {
        const struct expect *e = &expect[i];
        for (int role = A; role <= S; role++) {
            reach x = reach_of(role);
            for (int in = 1; in >= 0; in--) {
                bool allowed = (e->roles & B(role)) != 0;
                bool outside = !in && e->scoped && role != A;
                bool want_denied = !allowed || outside;
                int refusal = allowed && outside && (hidden_for(e->call) & B(role))
                                  ? WHISTLE__V1__STATUS__CODE__NOT_FOUND
                                  : WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED;
                Whistle__V1__Response *r = run(x.who, build(e->call, &x, in));
                bool denied = h_code(r) == refusal;
                cells++;
                if (denied != want_denied && failures++ < 40)
                    wrong = arena_printf(h_a, "%s\n  %s as %s (%s), target %s: %s, expected %s — %d %s", wrong, e->call,
                                         x.who, role_word[role], in ? "in scope" : "out of scope",
                                         denied ? "refused" : "not refused", want_denied ? "refused" : "not refused",
                                         h_code(r), h_msg(r));
                if (denied && refusal == WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED)
                    cr_assert(strstr(h_msg(r), "rule"), "%s as %s: the refusal names no rule: %s", e->call, x.who,
                              h_msg(r));
            }
        }
    }
    cr_assert_eq(failures, 0, "%d of %d cells disagree:%s", failures, cells, wrong);
    cr_assert_eq(cells, (int)N_EXPECT * 8 * 2);
}

/* ------------------------------------------------------------ gateways (docs/protocol.md section 12) */

/* A gateway acting for a principal it lists is that principal: every call,
 * on a target inside and one outside that principal's scope, is answered
 * with the same status as the principal's own (the integration and the
 * street operator the fixture's gateway-1 lists). */
Test(matrix, a_gateway_acting_for_a_listed_principal_is_answered_as_that_principal)
{
    fixture();
    const int as[] = { I, O };
    char *wrong = arena_strdup(h_a, "");
    int cells = 0, failures = 0;
    for (size_t i = 0; i < N_EXPECT; i++)
        for (size_t k = 0; k < 2; k++) {
            reach x = reach_of(as[k]);
            for (int in = 1; in >= 0; in--) {
                int own = h_code(run(x.who, build(expect[i].call, &x, in)));
                Whistle__V1__Request *req = build(expect[i].call, &x, in);
                req->act_as = (char *)x.who;
                Whistle__V1__Response *r = run("gateway-1", req);
                cells++;
                if (h_code(r) != own && failures++ < 40)
                    wrong = arena_printf(h_a, "%s\n  %s for %s (%s): %d, its own call %d — %s", wrong, expect[i].call,
                                         x.who, in ? "in scope" : "out of scope", h_code(r), own, h_msg(r));
            }
        }
    cr_assert_eq(failures, 0, "%d of %d cells differ:%s", failures, cells, wrong);
}

/* By itself a gateway reads the directory and locates places, nothing
 * else: every other call is refused naming the rule. */
Test(matrix, a_gateway_by_itself_only_reads_the_directory)
{
    fixture();
    static const char *const own[] = { "hello",           "ping",          "list_nodes",  "list_departments",
                                       "list_categories", "list_services", "locate_place" };
    reach x = reach_of(I); /* gateway-1's scope is the district, as the integration's */
    char *wrong = arena_strdup(h_a, "");
    for (size_t i = 0; i < N_EXPECT; i++) {
        bool may = false;
        for (size_t k = 0; k < sizeof own / sizeof *own; k++)
            may |= strcmp(own[k], expect[i].call) == 0;
        Whistle__V1__Response *r = run("gateway-1", build(expect[i].call, &x, true));
        bool denied = h_code(r) == WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED;
        if (denied == may)
            wrong = arena_printf(h_a, "%s\n  %s: %d %s", wrong, expect[i].call, h_code(r), h_msg(r));
        if (denied)
            cr_assert(strstr(h_msg(r), "rule"), "%s: the refusal names no rule: %s", expect[i].call, h_msg(r));
    }
    cr_assert_str_eq(wrong, "", "a gateway by itself:%s", wrong);
}

/* act_as refused: by every role but a gateway, whoever it names; by a
 * gateway for a principal it does not list, for a listed one that is
 * disabled, and for a listed admin or gateway (a list made before the
 * rule). Each refusal is PERMISSION_DENIED naming its rule, audited under
 * the caller. */
/* run() aborts its transaction, and with it the denials queued before it:
 * a committed one writes them first. */
static void flush_denials(void)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
}

Test(matrix, act_as_is_refused_but_for_a_gateway_and_the_principals_it_lists)
{
    fixture();
    for (int role = A; role <= S; role++) {
        reach x = reach_of(role);
        Whistle__V1__Request *req = build("report", &x, true);
        req->act_as = role == I ? "op-jianwai" : "hotline"; /* someone else */
        Whistle__V1__Response *r = run(x.who, req);
        assert_code(r, PERMISSION_DENIED);
        assert_msg_has(r, "act_as.gateway_only");
        /* its own name is no acting: the call is its own */
        req = build("report", &x, true);
        req->act_as = (char *)x.who;
        r = run(x.who, req);
        cr_assert_eq(h_code(r) == WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED,
                     !(expect_for("report")->roles & B(role)), "%s acting as itself: %d %s", x.who, h_code(r),
                     h_msg(r));
    }
    reach hot = reach_of(I);
    Whistle__V1__Request *req = build("report", &hot, true);
    req->act_as = "op-chaowai";
    Whistle__V1__Response *r = run("gateway-1", req);
    flush_denials();
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "act_as.not_listed");
    req->act_as = "nobody-at-all";
    r = run("gateway-1", req);
    flush_denials();
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "act_as.not_listed");
    req->act_as = "retired-op"; /* listed, disabled */
    r = run("gateway-1", req);
    flush_denials();
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "act_as.disabled");
    /* disabled after it was listed */
    Whistle__V1__Request *up = h_req();
    up->call_case = CALL(UPDATE_PRINCIPAL);
    up->update_principal = NEW(Whistle__V1__UpdatePrincipal, whistle__v1__update_principal__init);
    up->update_principal->name = "hotline";
    up->update_principal->disable = true;
    assert_ok(h_write("admin", up));
    req->act_as = "hotline";
    r = run("gateway-1", req);
    flush_denials();
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "act_as.disabled");
    /* an admin on a list made before the rule (written past the checks) */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Principal *gw = h_who(txn, "gateway-1");
    char *names[] = { "admin" };
    gw->act_for = names;
    gw->n_act_for = 1;
    cr_assert_eq(store_put(txn, h_st->principals, "gateway-1", 9, &gw->base), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    req->act_as = "admin";
    r = run("gateway-1", req);
    flush_denials();
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "act_as.role");
    /* every refusal is in the audit log under the gateway, naming the rule */
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(QUERY_AUDIT);
    q->query_audit = NEW(Whistle__V1__QueryAudit, whistle__v1__query_audit__init);
    q->query_audit->principal = "gateway-1";
    q->query_audit->limit = 1000;
    Whistle__V1__Response *a = h_read("admin", q);
    assert_ok(a);
    const char *rules[] = { "act_as.not_listed", "act_as.disabled", "act_as.role" };
    for (size_t i = 0; i < 3; i++) {
        bool found = false;
        for (size_t e = 0; e < a->audit->n_entries && !found; e++)
            found = strstr(a->audit->entries[e]->denied, rules[i]) != NULL;
        cr_assert(found, "no audited denial naming %s", rules[i]);
    }
}
