/* test_volunteer.c: the volunteers' calls (docs/volunteers.md): the
 * three-order loop with its points and the love supermarket, the claim
 * that lapses through the deadline sweep, the ledger's corrections and its
 * proof by whistled --check, members' tasks, privacy, bad input, and the
 * scope matrix of every volunteers' call with the volunteer role. */
#include "helpers.h"

#include "check.h"
#include "seal.h"
#include "sweep.h"

TestSuite(vol, .init = h_setup, .fini = h_teardown, .timeout = 120);

#define GRID1 "110105001001001"
#define GRID_JX "110105002001001"
#define YONGANLI "110105001001"
#define JIXIANGLI "110105002001"
#define WS(s) WHISTLE__V1__WISH_STATE__WISH_STATE_##s
#define R(x) WHISTLE__V1__ROLE__ROLE_##x

/* ------------------------------------------------------------ builders */

static void add_principal(const char *name, Whistle__V1__Role role, const char *scope)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_PRINCIPAL);
    r->add_principal = NEW(Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
    r->add_principal->principal = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
    r->add_principal->principal->name = (char *)name;
    r->add_principal->principal->role = role;
    r->add_principal->principal->scope = (char *)scope;
    r->add_principal->principal->enabled = true;
    assert_ok(h_write("admin", r));
}

static Whistle__V1__Request *rq_config(const char *comm, uint32_t points, uint32_t claim_hours)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SET_VOLUNTEER_CONFIG);
    r->set_volunteer_config = NEW(Whistle__V1__SetVolunteerConfig, whistle__v1__set_volunteer_config__init);
    Whistle__V1__VolunteerConfig *c = NEW(Whistle__V1__VolunteerConfig, whistle__v1__volunteer_config__init);
    r->set_volunteer_config->config = c;
    c->community = (char *)comm;
    c->claim_hours = claim_hours;
    c->categories = arena_alloc(h_a, sizeof *c->categories);
    c->n_categories = 1;
    c->categories[0] = NEW(Whistle__V1__WishCategory, whistle__v1__wish_category__init);
    c->categories[0]->code = "walker";
    c->categories[0]->name_zh = "助行";
    c->categories[0]->points = points;
    return r;
}

static Whistle__V1__Request *rq_add_volunteer(const char *comm, const char *principal, int kind)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_VOLUNTEER);
    r->add_volunteer = NEW(Whistle__V1__AddVolunteer, whistle__v1__add_volunteer__init);
    Whistle__V1__Volunteer *v = NEW(Whistle__V1__Volunteer, whistle__v1__volunteer__init);
    r->add_volunteer->volunteer = v;
    v->community = (char *)comm;
    v->name = "王芳";
    v->phone = "13512345678";
    v->team = "永安里一队";
    v->principal = (char *)(principal ? principal : "");
    v->kind = kind;
    v->employer = kind == 2 ? "区住建委" : "";
    return r;
}

static Whistle__V1__Request *rq_add_wish(const char *node, const char *contact)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_WISH);
    r->add_wish = NEW(Whistle__V1__AddWish, whistle__v1__add_wish__init);
    r->add_wish->node = (char *)node;
    r->add_wish->category = "walker";
    r->add_wish->text = "张大爷(3号楼)需要一个助行器";
    r->add_wish->contact = (char *)contact;
    return r;
}

static Whistle__V1__Request *rq_wish(Whistle__V1__Request__CallCase cc, uint64_t id)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = cc;
    switch (cc) {
    case CALL(PUBLISH_WISH):
        r->publish_wish = NEW(Whistle__V1__PublishWish, whistle__v1__publish_wish__init);
        r->publish_wish->wish_id = id;
        r->publish_wish->public_text = "3号楼一位老人需要助行器";
        break;
    case CALL(CLAIM_WISH):
        r->claim_wish = NEW(Whistle__V1__ClaimWish, whistle__v1__claim_wish__init);
        r->claim_wish->wish_id = id;
        break;
    case CALL(DONE_WISH):
        r->done_wish = NEW(Whistle__V1__DoneWish, whistle__v1__done_wish__init);
        r->done_wish->wish_id = id;
        r->done_wish->note = "送到了";
        break;
    case CALL(CONFIRM_WISH):
        r->confirm_wish = NEW(Whistle__V1__ConfirmWish, whistle__v1__confirm_wish__init);
        r->confirm_wish->wish_id = id;
        break;
    default: cr_assert_fail("no builder");
    }
    return r;
}

static Whistle__V1__Request *rq_kiosk_confirm(const char *ticket, const char *digits)
{
    Whistle__V1__Request *r = rq_wish(CALL(CONFIRM_WISH), 0);
    r->confirm_wish->ticket = (char *)ticket;
    r->confirm_wish->phone_last4 = (char *)digits;
    return r;
}

static Whistle__V1__Request *rq_list_wishes(const char *comm, uint64_t id)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_WISHES);
    r->list_wishes = NEW(Whistle__V1__ListWishes, whistle__v1__list_wishes__init);
    r->list_wishes->community = (char *)comm;
    r->list_wishes->wish_id = id;
    return r;
}

static Whistle__V1__Request *rq_balance(uint64_t vid, const char *code)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(POINTS_BALANCE);
    r->points_balance = NEW(Whistle__V1__PointsBalance, whistle__v1__points_balance__init);
    r->points_balance->volunteer_id = vid;
    r->points_balance->code = (char *)(code ? code : "");
    return r;
}

static Whistle__V1__Request *rq_item(const char *comm, uint64_t id, uint32_t price, int32_t delta)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_SHOP_ITEM);
    r->put_shop_item = NEW(Whistle__V1__PutShopItem, whistle__v1__put_shop_item__init);
    Whistle__V1__ShopItem *it = NEW(Whistle__V1__ShopItem, whistle__v1__shop_item__init);
    r->put_shop_item->item = it;
    it->id = id;
    it->community = (char *)comm;
    it->name_zh = "大米 5kg";
    it->name_en = "Rice 5 kg";
    it->price = price;
    r->put_shop_item->stock_delta = delta;
    return r;
}

static Whistle__V1__Request *rq_redeem(uint64_t vid, const char *code, uint64_t item)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(REDEEM);
    r->redeem = NEW(Whistle__V1__Redeem, whistle__v1__redeem__init);
    r->redeem->volunteer_id = vid;
    r->redeem->code = (char *)code;
    r->redeem->item_id = item;
    return r;
}

static Whistle__V1__Request *rq_adjust(uint64_t vid, int64_t amount, uint64_t reverse, const char *reason)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADJUST_POINTS);
    r->adjust_points = NEW(Whistle__V1__AdjustPoints, whistle__v1__adjust_points__init);
    r->adjust_points->volunteer_id = vid;
    r->adjust_points->amount = amount;
    r->adjust_points->reverse_entry = reverse;
    r->adjust_points->reason = (char *)reason;
    return r;
}

static Whistle__V1__Request *rq_task(const char *comm, uint32_t slots, uint32_t points)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUBLISH_MEMBER_TASK);
    r->publish_member_task = NEW(Whistle__V1__PublishMemberTask, whistle__v1__publish_member_task__init);
    Whistle__V1__MemberTask *t = NEW(Whistle__V1__MemberTask, whistle__v1__member_task__init);
    r->publish_member_task->task = t;
    t->community = (char *)comm;
    t->title = "清理楼道杂物";
    t->slots = slots;
    t->points = points;
    return r;
}

static Whistle__V1__Request *rq_act(uint64_t task, int action, uint64_t vid, const char *note)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(MEMBER_TASK_ACT);
    r->member_task_act = NEW(Whistle__V1__MemberTaskAct, whistle__v1__member_task_act__init);
    r->member_task_act->task_id = task;
    r->member_task_act->action = action;
    r->member_task_act->volunteer_id = vid;
    r->member_task_act->note = (char *)(note ? note : "");
    return r;
}

static int run_check(const char **out)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    char err[512] = "";
    check_report rep;
    int rc = check_store(h_dir, f, &rep, err, sizeof err);
    fclose(f);
    *out = arena_printf(h_a, "%s%s", buf ? buf : "", err);
    free(buf);
    return rc;
}

/* The checker opens the store itself: the test's handle is closed around
 * it, as LMDB allows one environment per file and process. */
#define assert_store_clean()                                                                                           \
    do {                                                                                                               \
        const char *_o;                                                                                                \
        store_close(h_st);                                                                                             \
        h_st = NULL;                                                                                                   \
        int _rc = run_check(&_o);                                                                                      \
        h_open_opts(NULL);                                                                                             \
        cr_assert_eq(_rc, 0, "whistled --check: %s", _o);                                                              \
    } while (0)

/* Both communities set up, a volunteer with a certificate in each. */
static struct {
    uint64_t v1, vj;
    const char *code1, *codej;
} P;

static void setup_people(void)
{
    add_principal("vol-1", R(VOLUNTEER), YONGANLI);
    add_principal("vol-jx", R(VOLUNTEER), JIXIANGLI);
    add_principal("comm-jx", R(COMMUNITY), JIXIANGLI);
    assert_ok(h_write("comm-yonganli", rq_config(YONGANLI, 20, 0)));
    assert_ok(h_write("comm-jx", rq_config(JIXIANGLI, 20, 0)));
    Whistle__V1__Response *r = h_write("comm-yonganli", rq_add_volunteer(YONGANLI, "vol-1", 2));
    assert_ok(r);
    P.v1 = r->volunteer->id;
    P.code1 = r->volunteer->code;
    cr_assert_eq(strlen(P.code1), 8);
    r = h_write("comm-jx", rq_add_volunteer(JIXIANGLI, "vol-jx", 2));
    assert_ok(r);
    P.vj = r->volunteer->id;
    P.codej = r->volunteer->code;
}

/* A wish at node through the states up to want; returns it. */
static Whistle__V1__Wish *wish_to(const char *node, const char *comm_principal, const char *vol_principal,
                                  Whistle__V1__WishState want)
{
    Whistle__V1__Response *r = h_write(comm_principal, rq_add_wish(node, "13800138000"));
    assert_ok(r);
    Whistle__V1__Wish *w = r->wish;
    if (want >= WS(PUBLISHED)) {
        r = h_write(comm_principal, rq_wish(CALL(PUBLISH_WISH), w->id));
        assert_ok(r);
    }
    if (want >= WS(CLAIMED)) {
        r = h_write(vol_principal, rq_wish(CALL(CLAIM_WISH), w->id));
        assert_ok(r);
    }
    if (want >= WS(DONE)) {
        r = h_write(vol_principal, rq_wish(CALL(DONE_WISH), w->id));
        assert_ok(r);
    }
    cr_assert_eq(r->wish->state, want);
    w->state = want;
    return w;
}

/* ------------------------------------------------------------ the loop */

Test(vol, three_order_loop_credits_points_that_buy_goods)
{
    setup_people();
    /* 居民点单: the resident orders at the kiosk, leaving a phone */
    Whistle__V1__Response *r = h_write("kiosk-yonganli", rq_add_wish(GRID1, "138-0013-8000"));
    assert_ok(r);
    Whistle__V1__Wish *w = r->wish;
    cr_assert_eq(w->state, WS(ORDERED));
    cr_assert_str_empty(w->contact, "a kiosk is never sent a phone");
    cr_assert_eq(w->points, 20);
    cr_assert_eq(strncmp(w->ticket, "W2026112", 8), 0, "ticket %s", w->ticket);
    const char *ticket = arena_strdup(h_a, w->ticket);
    /* a volunteer sees nothing before the community publishes */
    r = h_read("vol-1", rq_list_wishes("", 0));
    assert_ok(r);
    cr_assert_eq(r->wishes->n_wishes, 0);
    /* 社区派单 */
    r = h_write("comm-yonganli", rq_wish(CALL(PUBLISH_WISH), w->id));
    assert_ok(r);
    cr_assert_eq(r->wish->state, WS(PUBLISHED));
    /* the volunteer reads the community's text, not the resident's */
    r = h_read("vol-1", rq_list_wishes("", 0));
    assert_ok(r);
    cr_assert_eq(r->wishes->n_wishes, 1);
    Whistle__V1__Wish *seen = r->wishes->wishes[0];
    cr_assert_str_eq(seen->public_text, "3号楼一位老人需要助行器");
    cr_assert_str_empty(seen->text);
    cr_assert_str_empty(seen->contact);
    cr_assert_str_empty(seen->ticket);
    r = h_read("vol-1", rq_list_wishes("", w->id));
    assert_ok(r);
    cr_assert_str_empty(r->wishes->wishes[0]->contact);
    cr_assert_str_empty(r->wishes->wishes[0]->text);
    /* 志愿者接单, done */
    assert_ok(h_write("vol-1", rq_wish(CALL(CLAIM_WISH), w->id)));
    r = h_write("vol-1", rq_wish(CALL(DONE_WISH), w->id));
    assert_ok(r);
    cr_assert_eq(r->wish->state, WS(DONE));
    /* the resident confirms at the kiosk: wrong digits read as a missing slip */
    r = h_write("kiosk-yonganli", rq_kiosk_confirm(ticket, "0000"));
    assert_code(r, NOT_FOUND);
    r = h_write("kiosk-yonganli", rq_kiosk_confirm("W2026112199999", "8000"));
    assert_code(r, NOT_FOUND);
    r = h_write("kiosk-yonganli", rq_kiosk_confirm(ticket, "8000"));
    assert_ok(r);
    cr_assert_eq(r->wish->state, WS(CONFIRMED));
    cr_assert_str_empty(r->wish->contact, "the kiosk's answer holds no phone");
    cr_assert_neq(r->wish->entry_id, 0);
    /* points credited: the volunteer's balance, and at the kiosk with the card */
    r = h_read("vol-1", rq_balance(0, NULL));
    assert_ok(r);
    cr_assert_eq(r->balance->balance, 20);
    cr_assert_eq(r->balance->earned, 20);
    r = h_read("kiosk-yonganli", rq_balance(P.v1, P.code1));
    assert_ok(r);
    cr_assert_eq(r->balance->balance, 20);
    r = h_read("kiosk-yonganli", rq_balance(P.v1, "12345678"));
    if (strcmp(P.code1, "12345678") != 0)
        assert_code(r, NOT_FOUND);
    /* the love supermarket: one bag of rice for 15 */
    r = h_write("comm-yonganli", rq_item(YONGANLI, 0, 15, 1));
    assert_ok(r);
    uint64_t rice = r->shop_item->id;
    r = h_write("comm-yonganli", rq_redeem(P.v1, P.code1, rice));
    assert_ok(r);
    cr_assert_eq(r->redemption->item->stock, 0);
    cr_assert_eq(r->redemption->balance, 5);
    r = h_write("comm-yonganli", rq_item(YONGANLI, rice, 15, 1));
    assert_ok(r);
    r = h_write("comm-yonganli", rq_redeem(P.v1, P.code1, rice));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "below 0");
    r = h_read("vol-1", rq_balance(0, NULL));
    cr_assert_eq(r->balance->balance, 5);
    cr_assert_eq(r->balance->spent, 15);
    assert_store_clean();
}

Test(vol, a_grid_worker_confirms_for_the_resident)
{
    setup_people();
    Whistle__V1__Wish *w = wish_to(GRID1, "comm-yonganli", "vol-1", WS(DONE));
    assert_code(h_write("gw-2", rq_wish(CALL(CONFIRM_WISH), w->id)), PERMISSION_DENIED);
    Whistle__V1__Response *r = h_write("gw-1", rq_wish(CALL(CONFIRM_WISH), w->id));
    assert_ok(r);
    cr_assert_str_eq(r->wish->confirmed_by, "gw-1");
    assert_code(h_write("gw-1", rq_wish(CALL(CONFIRM_WISH), w->id)), FAILED_PRECONDITION);
    assert_store_clean();
}

Test(vol, one_claimant_and_a_claim_lapses_by_the_sweep)
{
    setup_people();
    assert_ok(h_write("comm-yonganli", rq_config(YONGANLI, 20, 1)));
    Whistle__V1__Response *r = h_write("comm-yonganli", rq_add_volunteer(YONGANLI, NULL, 1));
    assert_ok(r);
    uint64_t other = r->volunteer->id;
    Whistle__V1__Wish *w = wish_to(GRID1, "comm-yonganli", "vol-1", WS(CLAIMED));
    Whistle__V1__Request *q = rq_wish(CALL(CLAIM_WISH), w->id);
    q->claim_wish->volunteer_id = other;
    assert_code(h_write("comm-yonganli", q), FAILED_PRECONDITION);
    assert_store_clean();
    /* an hour later the claim lapses: published again, for anyone */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    stream_touched t = { 0 };
    size_t fired = 0;
    bool more = false;
    cr_assert_eq(deadline_sweep(h_st, txn, h_now + 3600000 + 1000, &t, 100, &fired, &more), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&t);
    cr_assert_eq(fired, 1);
    h_now += 3600000 + 2000;
    r = h_read("comm-yonganli", rq_list_wishes("", w->id));
    assert_ok(r);
    cr_assert_eq(r->wishes->wishes[0]->state, WS(PUBLISHED));
    cr_assert_eq(r->wishes->wishes[0]->lapses, 1);
    cr_assert_eq(r->wishes->wishes[0]->volunteer_id, 0);
    assert_ok(h_write("comm-yonganli", q));
    assert_store_clean();
}

Test(vol, the_ledger_is_corrected_by_reversing_entries)
{
    setup_people();
    assert_code(h_write("comm-yonganli", rq_adjust(P.v1, 10, 0, "")), INVALID_ARGUMENT);
    Whistle__V1__Response *r = h_write("comm-yonganli", rq_adjust(P.v1, 10, 0, "扫雪"));
    assert_ok(r);
    uint64_t e = r->ledger_entry->id;
    assert_code(h_write("comm-yonganli", rq_adjust(P.v1, -11, 0, "too much")), FAILED_PRECONDITION);
    r = h_write("comm-yonganli", rq_adjust(0, 0, e, "记错了人"));
    assert_ok(r);
    cr_assert_eq(r->ledger_entry->reverses, e);
    assert_code(h_write("comm-yonganli", rq_adjust(0, 0, e, "again")), FAILED_PRECONDITION);
    assert_code(h_write("comm-jx", rq_adjust(0, 0, e, "not ours")), PERMISSION_DENIED);
    r = h_read("vol-1", rq_balance(0, NULL));
    cr_assert_eq(r->balance->balance, 0);
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(POINTS_HISTORY);
    q->points_history = NEW(Whistle__V1__PointsHistory, whistle__v1__points_history__init);
    r = h_read("vol-1", q);
    assert_ok(r);
    cr_assert_eq(r->ledger->n_entries, 2);
    cr_assert_eq(r->ledger->entries[0]->reversed_by, r->ledger->entries[1]->id);
    /* every entry is audited with who and why */
    q = h_req();
    q->call_case = CALL(QUERY_AUDIT);
    q->query_audit = NEW(Whistle__V1__QueryAudit, whistle__v1__query_audit__init);
    q->query_audit->target = arena_printf(h_a, "points:%s/*", YONGANLI);
    r = h_read("admin", q);
    assert_ok(r);
    cr_assert_eq(r->audit->n_entries, 2);
    assert_store_clean();
}

static void tamper_balance(MDB_txn *txn)
{
    const char *k = YONGANLI "/issue";
    uint8_t v8[8];
    store_be64(v8, (uint64_t)-5);
    MDB_val key = { strlen(k), (void *)k }, v = { 8, v8 };
    cr_assert_eq(mdb_put(txn, h_st->vol_balances, &key, &v, 0), 0);
}

Test(vol, the_checker_proves_the_ledger)
{
    setup_people();
    assert_ok(h_write("comm-yonganli", rq_adjust(P.v1, 10, 0, "扫雪")));
    assert_store_clean();
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    tamper_balance(txn);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    const char *out;
    store_close(h_st);
    h_st = NULL;
    int rc = run_check(&out);
    h_open_opts(NULL);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "sum to 5"), "%s", out);
    cr_assert(strstr(out, "entries sum to -10"), "%s", out);
}

Test(vol, members_tasks_have_slots_and_credit_when_confirmed)
{
    setup_people();
    Whistle__V1__Response *r = h_write("comm-yonganli", rq_add_volunteer(YONGANLI, NULL, 2));
    assert_ok(r);
    uint64_t m2 = r->volunteer->id;
    r = h_write("comm-yonganli", rq_add_volunteer(YONGANLI, NULL, 1));
    uint64_t plain = r->volunteer->id;
    r = h_write("comm-yonganli", rq_task(YONGANLI, 1, 8));
    assert_ok(r);
    uint64_t t = r->member_task->id;
    /* pushed to the members' stream */
    MDB_txn *txn = store_read_begin(h_st);
    uint64_t last, cursor;
    cr_assert_eq(stream_meta_get(h_st, txn, "members:" YONGANLI, &last, &cursor), 0);
    store_read_end(h_st);
    cr_assert_eq(last, 1);
    assert_code(h_write("comm-yonganli", rq_act(t, 1, plain, NULL)), FAILED_PRECONDITION);
    assert_ok(h_write("vol-1", rq_act(t, 1, 0, NULL)));
    assert_code(h_write("comm-yonganli", rq_act(t, 1, m2, NULL)), FAILED_PRECONDITION);
    assert_code(h_write("vol-1", rq_act(t, 2, 0, "")), INVALID_ARGUMENT);
    assert_code(h_write("comm-yonganli", rq_act(t, 3, P.v1, NULL)), FAILED_PRECONDITION);
    assert_ok(h_write("vol-1", rq_act(t, 2, 0, "清了三层")));
    assert_code(h_write("vol-1", rq_act(t, 3, 0, NULL)), PERMISSION_DENIED);
    r = h_write("comm-yonganli", rq_act(t, 3, P.v1, NULL));
    assert_ok(r);
    cr_assert_eq(r->member_task->state, WHISTLE__V1__MEMBER_TASK_STATE__MEMBER_TASK_STATE_CLOSED);
    r = h_read("vol-1", rq_balance(0, NULL));
    cr_assert_eq(r->balance->balance, 8);
    /* the 双评议 report counts it for the member and its employer */
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(VOLUNTEER_REPORT);
    q->volunteer_report = NEW(Whistle__V1__VolunteerReport, whistle__v1__volunteer_report__init);
    q->volunteer_report->community = YONGANLI;
    r = h_read("op-jianwai", q);
    assert_ok(r);
    bool found = false;
    for (size_t i = 0; i < r->volunteer_report->n_rows; i++) {
        Whistle__V1__VolunteerReportRow *row = r->volunteer_report->rows[i];
        if (row->volunteer_id == P.v1) {
            found = true;
            cr_assert_eq(row->tasks_claimed, 1);
            cr_assert_eq(row->tasks_confirmed, 1);
            cr_assert_eq(row->earned, 8);
            cr_assert_str_eq(row->employer, "区住建委");
        }
    }
    cr_assert(found);
    cr_assert_eq(r->volunteer_report->points_issued, 8);
    assert_store_clean();
}

/* The volunteers' part of the store as bytes, to see that a refused call
 * changed nothing. */
static char *snapshot(void)
{
    MDB_dbi dbis[] = { h_st->vol_config, h_st->vol_people, h_st->vol_wishes, h_st->vol_ledger, h_st->vol_balances,
                       h_st->vol_shop,   h_st->vol_mtasks, h_st->vol_index,  h_st->deadlines,  h_st->streams };
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    MDB_txn *txn = store_read_begin(h_st);
    for (size_t i = 0; i < sizeof dbis / sizeof *dbis; i++) {
        MDB_cursor *cur;
        cr_assert_eq(mdb_cursor_open(txn, dbis[i], &cur), 0);
        MDB_val k, v;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            fwrite(k.mv_data, 1, k.mv_size, f);
            fwrite(v.mv_data, 1, v.mv_size, f);
        }
        mdb_cursor_close(cur);
    }
    store_read_end(h_st);
    fclose(f);
    char *out = arena_alloc(h_a, len * 2 + 1);
    for (size_t i = 0; i < len; i++)
        sprintf(out + 2 * i, "%02x", (unsigned char)buf[i]);
    out[2 * len] = 0;
    free(buf);
    return out;
}

Test(vol, bad_inputs_change_nothing)
{
    setup_people();
    Whistle__V1__Wish *w = wish_to(GRID1, "comm-yonganli", "vol-1", WS(ORDERED));
    Whistle__V1__Wish *pub = wish_to(GRID1, "comm-yonganli", "vol-1", WS(PUBLISHED));
    Whistle__V1__Response *r = h_write("comm-yonganli", rq_item(YONGANLI, 0, 5, 2));
    uint64_t item = r->shop_item->id;
    char *before = snapshot();
    struct {
        const char *who;
        Whistle__V1__Request *req;
    } bad[] = {
        { "kiosk-yonganli", rq_add_wish(GRID1, "") },        /* a kiosk's wish needs a phone */
        { "kiosk-yonganli", rq_add_wish(GRID1, "call me") }, /* not a phone */
        { "kiosk-yonganli", rq_add_wish("1101050010", "13800138000") },
        { "kiosk-yonganli", rq_add_wish(GRID_JX, "13800138000") },
        { "comm-yonganli", rq_config(YONGANLI, 100001, 0) },
        { "comm-yonganli", rq_add_volunteer("11010500100", NULL, 1) },
        { "comm-yonganli", rq_add_volunteer(YONGANLI, NULL, 7) },
        { "comm-yonganli", rq_add_volunteer(YONGANLI, "vol-1", 1) },  /* its certificate is taken */
        { "comm-yonganli", rq_add_volunteer(YONGANLI, "vol-jx", 1) }, /* another community's */
        { "comm-yonganli", rq_wish(CALL(CLAIM_WISH), w->id) },        /* not published, no volunteer */
        { "vol-1", rq_wish(CALL(CLAIM_WISH), w->id) },
        { "vol-1", rq_wish(CALL(DONE_WISH), pub->id) },
        { "vol-1", rq_wish(CALL(PUBLISH_WISH), w->id) },
        { "comm-yonganli", rq_wish(CALL(CONFIRM_WISH), pub->id) },
        { "comm-yonganli", rq_wish(CALL(PUBLISH_WISH), 999) },
        { "kiosk-yonganli", rq_kiosk_confirm("W", "8000") },
        { "kiosk-yonganli", rq_kiosk_confirm(pub->ticket, "800") },
        { "comm-yonganli", rq_item(YONGANLI, item, 5, -3) },
        { "comm-yonganli", rq_item(YONGANLI, 0, 0, 1) },
        { "comm-yonganli", rq_redeem(P.v1, P.code1, item) },   /* no points */
        { "comm-yonganli", rq_redeem(P.v1, "1234567", item) }, /* 7 digits */
        { "comm-yonganli", rq_redeem(P.vj, P.codej, item) },   /* another community's volunteer */
        { "comm-yonganli", rq_adjust(P.v1, 0, 0, "nothing") },
        { "comm-yonganli", rq_adjust(P.v1, -1, 0, "below zero") },
        { "comm-yonganli", rq_adjust(0, 0, 77, "no such entry") },
        { "comm-yonganli", rq_task(YONGANLI, 0, 1) },
        { "comm-yonganli", rq_act(999, 1, P.v1, NULL) },
        { "comm-yonganli", rq_act(1, 9, P.v1, NULL) },
    };
    bad[13].req->confirm_wish->note = "\xff\xfe";
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        r = h_write(bad[i].who, bad[i].req);
        cr_assert_neq(h_code(r), 0, "bad input %zu was accepted", i);
        cr_assert_str_neq(h_msg(r), "", "bad input %zu: no message", i);
    }
    cr_assert_str_eq(snapshot(), before, "a refused call changed the store");
    assert_store_clean();
}

/* ------------------------------------------------------------ the matrix */

enum { A = 1, O, D, G, C, K, I, S, GW, V = 11 };
#define B(r) (1u << (r))
/* the gateway by itself: none of these calls (it makes them only acting
 * for a principal, as that principal) */
static const int roles[] = { A, O, D, G, C, K, I, S, GW, V };
static const char *const who_of[] = {
    [A] = "admin",          [O] = "op-jianwai", [D] = "police",  [G] = "gw-1",       [C] = "comm-yonganli",
    [K] = "kiosk-yonganli", [I] = "hotline",    [S] = "smoke-1", [GW] = "gateway-1", [V] = "vol-1"
};

/* Written apart from authz.c, from docs/volunteers.md: who may make each
 * call, and the roles for which a target outside their reach reads as
 * missing (NOT_FOUND) rather than refused. */
static const struct {
    const char *call;
    unsigned roles, hidden;
} vexpect[] = {
    { "set_volunteer_config", B(A) | B(C), 0 },
    { "get_volunteer_config", B(A) | B(O) | B(C) | B(G) | B(K) | B(V), 0 },
    { "add_volunteer", B(A) | B(C), 0 },
    { "list_volunteers", B(A) | B(O) | B(C) | B(V), 0 },
    { "add_wish", B(A) | B(C) | B(G) | B(K), 0 },
    { "publish_wish", B(A) | B(C), 0 },
    { "claim_wish", B(A) | B(C) | B(V), B(V) },
    { "done_wish", B(A) | B(C) | B(V), B(V) },
    { "confirm_wish", B(A) | B(C) | B(G) | B(K), B(K) },
    { "list_wishes", B(A) | B(O) | B(C) | B(G) | B(V), 0 },
    { "points_balance", B(A) | B(C) | B(K) | B(V), B(K) },
    { "points_history", B(A) | B(O) | B(C) | B(V), 0 },
    { "adjust_points", B(A) | B(C), 0 },
    { "put_shop_item", B(A) | B(C), 0 },
    { "list_shop", B(A) | B(O) | B(C) | B(G) | B(K) | B(V), 0 },
    { "redeem", B(A) | B(C), B(C) },
    { "publish_member_task", B(A) | B(C), 0 },
    { "member_task_act", B(A) | B(C) | B(V), B(V) },
    { "list_member_tasks", B(A) | B(O) | B(C) | B(V), 0 },
    { "volunteer_report", B(A) | B(O) | B(C), 0 },
};

static struct {
    Whistle__V1__Wish *ord[2], *pub[2], *clm[2], *done[2];
    uint64_t item[2], task[2], entry[2];
} M;

static void matrix_fixture(void)
{
    setup_people();
    const char *nodes[2] = { GRID1, GRID_JX }, *comms[2] = { "comm-yonganli", "comm-jx" },
               *vols[2] = { "vol-1", "vol-jx" }, *cc[2] = { YONGANLI, JIXIANGLI };
    uint64_t vids[2] = { P.v1, P.vj };
    for (int i = 0; i < 2; i++) {
        M.ord[i] = wish_to(nodes[i], comms[i], vols[i], WS(ORDERED));
        M.pub[i] = wish_to(nodes[i], comms[i], vols[i], WS(PUBLISHED));
        M.clm[i] = wish_to(nodes[i], comms[i], vols[i], WS(CLAIMED));
        M.done[i] = wish_to(nodes[i], comms[i], vols[i], WS(DONE));
        Whistle__V1__Response *r = h_write(comms[i], rq_item(cc[i], 0, 1, 5));
        assert_ok(r);
        M.item[i] = r->shop_item->id;
        r = h_write(comms[i], rq_task(cc[i], 5, 1));
        assert_ok(r);
        M.task[i] = r->member_task->id;
        r = h_write(comms[i], rq_adjust(vids[i], 10, 0, "fixture"));
        assert_ok(r);
        M.entry[i] = r->ledger_entry->id;
    }
}

static Whistle__V1__Request *vbuild(const char *name, int role, bool in)
{
    int i = in ? 0 : 1;
    const char *comm = in ? YONGANLI : JIXIANGLI, *node = in ? GRID1 : GRID_JX;
    uint64_t vid = in ? P.v1 : P.vj;
    const char *code = in ? P.code1 : P.codej;
    Whistle__V1__Request *r = h_req();
    if (!strcmp(name, "set_volunteer_config"))
        return rq_config(comm, 5, 0);
    if (!strcmp(name, "get_volunteer_config")) {
        r->call_case = CALL(GET_VOLUNTEER_CONFIG);
        r->get_volunteer_config = NEW(Whistle__V1__GetVolunteerConfig, whistle__v1__get_volunteer_config__init);
        r->get_volunteer_config->community = (char *)comm;
    } else if (!strcmp(name, "add_volunteer")) {
        return rq_add_volunteer(comm, NULL, 1);
    } else if (!strcmp(name, "list_volunteers")) {
        r->call_case = CALL(LIST_VOLUNTEERS);
        r->list_volunteers = NEW(Whistle__V1__ListVolunteers, whistle__v1__list_volunteers__init);
        if (role == V)
            r->list_volunteers->volunteer_id = vid;
        else
            r->list_volunteers->community = (char *)comm;
    } else if (!strcmp(name, "add_wish")) {
        return rq_add_wish(node, "13800138000");
    } else if (!strcmp(name, "publish_wish")) {
        return rq_wish(CALL(PUBLISH_WISH), M.ord[i]->id);
    } else if (!strcmp(name, "claim_wish")) {
        r = rq_wish(CALL(CLAIM_WISH), M.pub[i]->id);
        r->claim_wish->volunteer_id = role == V ? 0 : vid;
    } else if (!strcmp(name, "done_wish")) {
        return rq_wish(CALL(DONE_WISH), M.clm[i]->id);
    } else if (!strcmp(name, "confirm_wish")) {
        if (role == K)
            return rq_kiosk_confirm(M.done[i]->ticket, "8000");
        return rq_wish(CALL(CONFIRM_WISH), M.done[i]->id);
    } else if (!strcmp(name, "list_wishes")) {
        return rq_list_wishes(comm, 0);
    } else if (!strcmp(name, "points_balance")) {
        return rq_balance(vid, role == K ? code : NULL);
    } else if (!strcmp(name, "points_history")) {
        r->call_case = CALL(POINTS_HISTORY);
        r->points_history = NEW(Whistle__V1__PointsHistory, whistle__v1__points_history__init);
        r->points_history->volunteer_id = vid;
    } else if (!strcmp(name, "adjust_points")) {
        return rq_adjust(0, 0, M.entry[i], "matrix");
    } else if (!strcmp(name, "put_shop_item")) {
        return rq_item(comm, 0, 3, 1);
    } else if (!strcmp(name, "list_shop")) {
        r->call_case = CALL(LIST_SHOP);
        r->list_shop = NEW(Whistle__V1__ListShop, whistle__v1__list_shop__init);
        r->list_shop->community = (char *)comm;
    } else if (!strcmp(name, "redeem")) {
        return rq_redeem(vid, code, M.item[i]);
    } else if (!strcmp(name, "publish_member_task")) {
        return rq_task(comm, 1, 1);
    } else if (!strcmp(name, "member_task_act")) {
        return rq_act(M.task[i], 1, role == V ? 0 : vid, NULL);
    } else if (!strcmp(name, "list_member_tasks")) {
        r->call_case = CALL(LIST_MEMBER_TASKS);
        r->list_member_tasks = NEW(Whistle__V1__ListMemberTasks, whistle__v1__list_member_tasks__init);
        if (role == V)
            r->list_member_tasks->volunteer_id = in ? 0 : vid;
        else
            r->list_member_tasks->community = (char *)comm;
    } else if (!strcmp(name, "volunteer_report")) {
        r->call_case = CALL(VOLUNTEER_REPORT);
        r->volunteer_report = NEW(Whistle__V1__VolunteerReport, whistle__v1__volunteer_report__init);
        r->volunteer_report->community = (char *)comm;
    } else {
        cr_assert_fail("no builder for %s", name);
    }
    return r;
}

/* The call as who in a transaction that is aborted: every cell sees the
 * same store. */
static Whistle__V1__Response *vrun(const char *who, Whistle__V1__Request *req)
{
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    MDB_txn *txn, *child;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    Whistle__V1__Principal *p = h_who(txn, who);
    cr_assert_eq(mdb_txn_begin(h_st->env, txn, 0, &child), 0);
    if (api_is_write(req)) {
        stream_touched t = { 0 };
        api_write(h_st, child, p, req, h_now, h_a, resp, &t);
        stream_touched_clear(&t);
    } else {
        api_read(h_st, child, p, req, h_now, h_a, resp);
    }
    mdb_txn_abort(child);
    mdb_txn_abort(txn);
    cr_assert(resp->status);
    return resp;
}

Test(vol, every_role_every_volunteers_call_in_and_out_of_reach)
{
    matrix_fixture();
    char *wrong = arena_strdup(h_a, "");
    int failures = 0, cells = 0;
    for (size_t e = 0; e < sizeof vexpect / sizeof *vexpect; e++) {
        for (size_t ri = 0; ri < sizeof roles / sizeof *roles; ri++) {
            int role = roles[ri];
            for (int in = 1; in >= 0; in--) {
                bool allowed = (vexpect[e].roles & B(role)) != 0;
                bool outside = !in && role != A;
                bool want = !allowed || outside;
                int refusal = allowed && outside && (vexpect[e].hidden & B(role))
                                  ? WHISTLE__V1__STATUS__CODE__NOT_FOUND
                                  : WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED;
                Whistle__V1__Response *r = vrun(who_of[role], vbuild(vexpect[e].call, role, in));
                bool denied = h_code(r) == refusal;
                cells++;
                if (denied != want && failures++ < 40)
                    wrong =
                        arena_printf(h_a, "%s\n  %s as %s, %s: %s, expected %s — %d %s", wrong, vexpect[e].call,
                                     who_of[role], in ? "in reach" : "out of reach", denied ? "refused" : "not refused",
                                     want ? "refused" : "not refused", h_code(r), h_msg(r));
                if (denied && refusal == WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED)
                    cr_assert(strstr(h_msg(r), "rule"), "%s as %s: no rule named: %s", vexpect[e].call, who_of[role],
                              h_msg(r));
            }
        }
    }
    cr_assert_eq(failures, 0, "%d of %d cells disagree:%s", failures, cells, wrong);
}

Test(vol, the_matrix_covers_every_volunteers_call)
{
    /* the rows above are the calls test_scope_matrix.c leaves to this file */
    for (size_t e = 0; e < sizeof vexpect / sizeof *vexpect; e++) {
        const ProtobufCFieldDescriptor *f =
            protobuf_c_message_descriptor_get_field_by_name(&whistle__v1__request__descriptor, vexpect[e].call);
        cr_assert(f, "no call %s", vexpect[e].call);
        cr_assert(f->id >= 240 && f->id < 260, "%s", vexpect[e].call);
    }
    cr_assert_eq(sizeof vexpect / sizeof *vexpect, 20);
}

Test(vol, points_expire_oldest_first_through_the_sweep)
{
    setup_people();
    Whistle__V1__Request *cfg = rq_config(YONGANLI, 20, 0);
    cfg->set_volunteer_config->config->expiry_days = 1;
    assert_ok(h_write("comm-yonganli", cfg));
    /* two credits of 20, a day apart; 25 spent in between */
    wish_to(GRID1, "comm-yonganli", "vol-1", WS(DONE));
    Whistle__V1__Response *r = h_read("comm-yonganli", rq_list_wishes("", 0));
    uint64_t first = r->wishes->wishes[r->wishes->n_wishes - 1]->id;
    assert_ok(h_write("gw-1", rq_wish(CALL(CONFIRM_WISH), first)));
    r = h_write("comm-yonganli", rq_item(YONGANLI, 0, 15, 5));
    uint64_t item = r->shop_item->id;
    assert_ok(h_write("comm-yonganli", rq_redeem(P.v1, P.code1, item)));
    int64_t t0 = h_now;
    h_now += 3600000; /* an hour later, the second credit */
    Whistle__V1__Wish *w2 = wish_to(GRID1, "comm-yonganli", "vol-1", WS(DONE));
    assert_ok(h_write("gw-1", rq_wish(CALL(CONFIRM_WISH), w2->id)));
    r = h_read("vol-1", rq_balance(0, NULL));
    cr_assert_eq(r->balance->balance, 25);
    /* a day after the first credit: its 5 unspent points expire, not more */
    MDB_txn *txn;
    stream_touched t = { 0 };
    size_t fired = 0;
    bool more = false;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(deadline_sweep(h_st, txn, t0 + 86400000 + 1000, &t, 100, &fired, &more), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&t);
    cr_assert_eq(fired, 1);
    h_now = t0 + 86400000 + 2000;
    r = h_read("vol-1", rq_balance(0, NULL));
    cr_assert_eq(r->balance->balance, 20, "the first credit's 5 left expire; the second's 20 stay");
    assert_store_clean();
    /* and the second credit in its turn */
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(deadline_sweep(h_st, txn, t0 + 3600000 + 86400000 + 60000, &t, 100, &fired, &more), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&t);
    h_now = t0 + 3600000 + 86400000 + 61000;
    r = h_read("vol-1", rq_balance(0, NULL));
    cr_assert_eq(r->balance->balance, 0);
    assert_store_clean();
}

Test(vol, a_volunteer_follows_its_own_communitys_members_stream_only)
{
    setup_people();
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Principal *v = h_who(txn, "vol-1"), *c = h_who(txn, "comm-yonganli"),
                           *k = h_who(txn, "kiosk-yonganli");
    cr_assert(stream_allowed(v, "members:" YONGANLI));
    cr_assert(stream_allowed(v, "principal:vol-1"));
    cr_assert_not(stream_allowed(v, "members:" JIXIANGLI));
    cr_assert_not(stream_allowed(v, "members:11010500100"), "a name that only starts like one");
    cr_assert_not(stream_allowed(v, "street:110105001"));
    cr_assert_not(stream_allowed(v, "principal:comm-yonganli"));
    cr_assert(stream_allowed(c, "members:" YONGANLI));
    cr_assert(stream_allowed(c, "principal:comm-yonganli"));
    cr_assert_not(stream_allowed(c, "members:" JIXIANGLI));
    cr_assert_not(stream_allowed(k, "members:" YONGANLI), "a kiosk follows no stream of residents' wishes");
    char name[64];
    stream_default_for(v, name, sizeof name);
    cr_assert_str_eq(name, "members:" YONGANLI);
    store_read_end(h_st);
}

Test(vol, a_declined_wish_goes_no_further)
{
    setup_people();
    Whistle__V1__Wish *w = wish_to(GRID1, "comm-yonganli", "vol-1", WS(ORDERED));
    Whistle__V1__Request *r = rq_wish(CALL(PUBLISH_WISH), w->id);
    r->publish_wish->public_text = "";
    r->publish_wish->decline_reason = "不属于微心愿范围，已转民政";
    Whistle__V1__Response *resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    cr_assert_eq(resp->wish->state, WS(DECLINED));
    assert_code(h_write("vol-1", rq_wish(CALL(CLAIM_WISH), w->id)), NOT_FOUND);
    assert_code(h_write("comm-yonganli", rq_wish(CALL(PUBLISH_WISH), w->id)), FAILED_PRECONDITION);
    resp = h_read("vol-1", rq_list_wishes("", 0));
    cr_assert_eq(resp->wishes->n_wishes, 0, "a volunteer sees no declined wish");
    /* nothing was pushed to the volunteers */
    MDB_txn *txn = store_read_begin(h_st);
    uint64_t last, cursor;
    cr_assert_eq(stream_meta_get(h_st, txn, "members:" YONGANLI, &last, &cursor), 0);
    store_read_end(h_st);
    cr_assert_eq(last, 0);
    assert_store_clean();
}

Test(vol, the_checker_finds_an_index_row_without_its_record)
{
    setup_people();
    Whistle__V1__Wish *w = wish_to(GRID1, "comm-yonganli", "vol-1", WS(CLAIMED));
    assert_store_clean();
    /* the wish goes, its index rows and its deadline row stay */
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    uint8_t k8[8];
    store_be64(k8, w->id);
    MDB_val k = { 8, k8 };
    cr_assert_eq(mdb_del(txn, h_st->vol_wishes, &k, NULL), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    store_close(h_st);
    h_st = NULL;
    const char *out;
    int rc = run_check(&out);
    h_open_opts(NULL);
    cr_assert_eq(rc, 1, "%s", out);
    cr_assert(strstr(out, "which does not exist"), "%s", out);
    cr_assert(strstr(out, "deadlines"), "%s", out);
}

Test(vol, a_lost_card_gets_a_new_code_and_the_old_one_stops_working)
{
    setup_people();
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_VOLUNTEER);
    r->add_volunteer = NEW(Whistle__V1__AddVolunteer, whistle__v1__add_volunteer__init);
    r->add_volunteer->new_card_for = P.v1;
    assert_code(h_write("comm-jx", r), PERMISSION_DENIED);
    Whistle__V1__Response *resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    const char *code = arena_strdup(h_a, resp->volunteer->code);
    cr_assert_eq(strlen(code), 8);
    if (strcmp(code, P.code1) != 0)
        assert_code(h_read("kiosk-yonganli", rq_balance(P.v1, P.code1)), NOT_FOUND);
    assert_ok(h_read("kiosk-yonganli", rq_balance(P.v1, code)));
    assert_store_clean();
}

Test(vol, a_volunteer_may_be_a_resident_of_the_archive_who_lives_in_the_community)
{
    setup_people();
    h_archive_keys();
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_HOUSEHOLD);
    r->put_household = NEW(Whistle__V1__PutHousehold, whistle__v1__put_household__init);
    Whistle__V1__ArchiveHousehold *h = r->put_household->household =
        NEW(Whistle__V1__ArchiveHousehold, whistle__v1__archive_household__init);
    h->node = GRID1;
    h->building = "3号楼";
    Whistle__V1__Response *resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    uint64_t hh = resp->household->id;
    r = h_req();
    r->call_case = CALL(PUT_RESIDENT);
    r->put_resident = NEW(Whistle__V1__PutResident, whistle__v1__put_resident__init);
    r->put_resident->resident = NEW(Whistle__V1__ArchiveResident, whistle__v1__archive_resident__init);
    r->put_resident->resident->household_id = hh;
    r->put_resident->resident->name = "王芳";
    resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    uint64_t rid = resp->resident->id;
    Whistle__V1__Request *add = rq_add_volunteer(YONGANLI, NULL, 1);
    add->add_volunteer->volunteer->resident_id = rid + 100;
    assert_code(h_write("comm-yonganli", add), NOT_FOUND);
    add->add_volunteer->volunteer->resident_id = rid;
    assert_code(h_write("comm-jx", rq_add_volunteer(JIXIANGLI, NULL, 1)), OK);
    Whistle__V1__Request *elsewhere = rq_add_volunteer(JIXIANGLI, NULL, 1);
    elsewhere->add_volunteer->volunteer->resident_id = rid;
    assert_code(h_write("comm-jx", elsewhere), INVALID_ARGUMENT);
    resp = h_write("comm-yonganli", add);
    assert_ok(resp);
    cr_assert_eq(resp->volunteer->resident_id, rid);
    seal_keys_free(h_st->archive_keys);
    h_st->archive_keys = NULL;
    assert_store_clean();
}
