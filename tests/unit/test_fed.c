/* test_fed.c: a district of a federated city, without NATS
 * (docs/federation.md): fed_apply's keys and external ids, the stream
 * fed:<district> written in the transaction of the change, transfers out
 * and in, a city department acting through the bridge, city supervision,
 * the city directory, and what a bridge may and may not do. */
#include "helpers.h"

#include "audit.h"
#include "authz.h"
#include "directory.h"
#include "stream.h"

#define DISTRICT "110105"
#define OTHER "110106"
#define GRID1 "110105001001001"
#define FED_STREAM "fed:" DISTRICT

static void fed_setup(void)
{
    h_setup();
    /* another district, with a place, and a bridge bound to it, made while
     * this store is not yet federated (a federated one refuses a bridge of
     * another district) */
    const char *nodes[][3] = { { OTHER, "", "district" }, { OTHER "001", OTHER, "street" } };
    for (size_t i = 0; i < 2; i++) {
        Whistle__V1__Request *r = h_req();
        r->call_case = CALL(ADD_NODE);
        r->add_node = NEW(Whistle__V1__AddNode, whistle__v1__add_node__init);
        Whistle__V1__Node *n = NEW(Whistle__V1__Node, whistle__v1__node__init);
        n->code = (char *)nodes[i][0];
        n->parent = (char *)nodes[i][1];
        n->kind = i == 0 ? WHISTLE__V1__NODE_KIND__NODE_KIND_DISTRICT : WHISTLE__V1__NODE_KIND__NODE_KIND_STREET;
        n->name_zh = "东城";
        r->add_node->node = n;
        assert_ok(h_write("admin", r));
    }
    const char *bridges[][2] = { { "bridge-cy", DISTRICT }, { "bridge-dc", OTHER } };
    for (size_t i = 0; i < 2; i++) {
        Whistle__V1__Request *r = h_req();
        r->call_case = CALL(ADD_PRINCIPAL);
        r->add_principal = NEW(Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
        Whistle__V1__Principal *p = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
        p->name = (char *)bridges[i][0];
        p->role = WHISTLE__V1__ROLE__ROLE_BRIDGE;
        p->scope = (char *)bridges[i][1];
        p->enabled = true;
        r->add_principal->principal = p;
        assert_ok(h_write("admin", r));
    }
    snprintf(h_st->fed_district, sizeof h_st->fed_district, "%s", DISTRICT);
}

TestSuite(fed, .init = fed_setup, .fini = h_teardown, .timeout = 60);

/* ------------------------------------------------------------ helpers */

static Whistle__V1__Request *rq_intake(const char *key, const char *ext, const char *node, const char *desc)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(FED_APPLY);
    r->fed_apply = NEW(Whistle__V1__FedApply, whistle__v1__fed_apply__init);
    r->fed_apply->source = "intake." DISTRICT;
    r->fed_apply->key = arena_strdup(h_a, key);
    r->fed_apply->body_case = WHISTLE__V1__FED_APPLY__BODY_INTAKE;
    Whistle__V1__FedIntake *in = NEW(Whistle__V1__FedIntake, whistle__v1__fed_intake__init);
    in->external_id = arena_strdup(h_a, ext);
    in->origin = "12345";
    in->node = arena_strdup(h_a, node);
    in->category = "0102";
    in->description = arena_strdup(h_a, desc);
    in->contact = "13800001234";
    r->fed_apply->intake = in;
    return r;
}

static Whistle__V1__Request *rq_command(const char *source, const char *key, Whistle__V1__FedCommand *cmd)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(FED_APPLY);
    r->fed_apply = NEW(Whistle__V1__FedApply, whistle__v1__fed_apply__init);
    r->fed_apply->source = arena_strdup(h_a, source);
    r->fed_apply->key = arena_strdup(h_a, key);
    r->fed_apply->body_case = WHISTLE__V1__FED_APPLY__BODY_COMMAND;
    cmd->command_id = arena_strdup(h_a, key);
    r->fed_apply->command = cmd;
    return r;
}

static Whistle__V1__Request *rq_order_act(const char *key, const char *dept, uint64_t order, bool feedback)
{
    Whistle__V1__FedCommand *cmd = NEW(Whistle__V1__FedCommand, whistle__v1__fed_command__init);
    Whistle__V1__FedOrderAct *a = NEW(Whistle__V1__FedOrderAct, whistle__v1__fed_order_act__init);
    a->department = arena_strdup(h_a, dept);
    a->order_id = order;
    a->note = "on our way";
    a->actor = "desk-1";
    if (feedback) {
        cmd->kind_case = WHISTLE__V1__FED_COMMAND__KIND_FEEDBACK;
        cmd->feedback = a;
    } else {
        cmd->kind_case = WHISTLE__V1__FED_COMMAND__KIND_CHECK_IN;
        cmd->check_in = a;
    }
    return rq_command(feedback ? "cmd." DISTRICT ".feedback" : "cmd." DISTRICT ".checkin", key, cmd);
}

static void stream_last(const char *name, uint64_t *last)
{
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert(txn);
    cr_assert_eq(stream_meta_get(h_st, txn, name, last, NULL), 0);
    store_read_end(h_st);
}

/* The stream's entry seq, unpacked into h_a. */
static int got_entry(void *ctx, uint64_t seq, const void *bytes, size_t len)
{
    (void)seq;
    *(Whistle__V1__Push **)ctx = whistle__v1__push__unpack(arena_allocator(h_a), len, bytes);
    return 1;
}
static Whistle__V1__Push *stream_entry(const char *name, uint64_t seq)
{
    Whistle__V1__Push *p = NULL;
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert(txn);
    cr_assert_geq(stream_read(h_st, txn, name, seq - 1, 1, got_entry, &p), 0);
    store_read_end(h_st);
    cr_assert(p, "no entry %llu in %s", (unsigned long long)seq, name);
    cr_assert_eq(p->seq, seq);
    return p;
}

static size_t count_db(MDB_dbi dbi)
{
    MDB_txn *txn = store_read_begin(h_st);
    MDB_stat s;
    cr_assert_eq(mdb_stat(txn, dbi, &s), 0);
    store_read_end(h_st);
    return s.ms_entries;
}

/* The cases in the store: events holds each case's record and, from store
 * schema 3, its timeline rows after it (ticket | 0x00 | index), which are
 * not cases. */
static size_t count_cases(void)
{
    MDB_txn *txn = store_read_begin(h_st);
    MDB_cursor *cur;
    cr_assert_eq(mdb_cursor_open(txn, h_st->events, &cur), 0);
    MDB_val k, v;
    size_t n = 0;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
        if (!memchr(k.mv_data, 0, k.mv_size))
            n++;
    mdb_cursor_close(cur);
    store_read_end(h_st);
    return n;
}

static Whistle__V1__Event *get_case(const char *ticket)
{
    Whistle__V1__Response *r = h_read("admin", rq_ticket(CALL(GET_EVENT), ticket));
    assert_ok(r);
    return r->event;
}

static Whistle__V1__Request *rq_dir_dept(const char *code, bool deleted)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(FED_DIRECTORY);
    r->fed_directory = NEW(Whistle__V1__FedDirectory, whistle__v1__fed_directory__init);
    Whistle__V1__FedDirEntry *e = NEW(Whistle__V1__FedDirEntry, whistle__v1__fed_dir_entry__init);
    e->key = arena_printf(h_a, "dept.%s", code);
    e->deleted = deleted;
    e->department = NEW(Whistle__V1__Department, whistle__v1__department__init);
    e->department->code = arena_strdup(h_a, code);
    e->department->name_zh = "市水务局";
    e->department->name_en = "City water authority";
    r->fed_directory->n_entries = 1;
    r->fed_directory->entries = arena_alloc(h_a, sizeof(void *));
    r->fed_directory->entries[0] = e;
    return r;
}

/* A case whistled to the city department citywater: its order id. */
static uint64_t city_order(const char **ticket)
{
    assert_ok(h_write("bridge-cy", rq_dir_dept("citywater", false)));
    Whistle__V1__Response *r = h_write("op-jianwai", rq_report(GRID1, "0102", "water main burst"));
    assert_ok(r);
    *ticket = r->event->ticket;
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), *ticket)));
    r = h_write("op-jianwai", rq_whistle(*ticket, 1, "citywater"));
    assert_ok(r);
    cr_assert_eq(r->whistle->n_orders, 1);
    return r->whistle->orders[0]->id;
}

/* ------------------------------------------------------------ intake */

Test(fed, the_same_intake_twice_is_one_case)
{
    size_t cases = count_cases();
    Whistle__V1__Response *a = h_write("bridge-cy", rq_intake("12345:A1", "A1", GRID1, "lamp out"));
    assert_ok(a);
    cr_assert_eq(a->result_case, WHISTLE__V1__RESPONSE__RESULT_FED_APPLY);
    cr_assert(!a->fed_apply->duplicate);
    const char *ticket = a->fed_apply->ticket;
    uint64_t seq;
    stream_last(FED_STREAM, &seq);
    Whistle__V1__Response *b = h_write("bridge-cy", rq_intake("12345:A1", "A1", GRID1, "lamp out"));
    assert_ok(b);
    cr_assert(b->fed_apply->duplicate);
    cr_assert_str_eq(b->fed_apply->ticket, ticket);
    cr_assert_eq(count_cases(), cases + 1, "one case, not two");
    uint64_t seq2;
    stream_last(FED_STREAM, &seq2);
    cr_assert_eq(seq2, seq, "a redelivery appends nothing");
    Whistle__V1__Event *ev = get_case(ticket);
    cr_assert_str_eq(ev->external_id, "A1");
    cr_assert_eq(ev->source, WHISTLE__V1__SOURCE__SOURCE_HOTLINE);
    cr_assert_str_eq(ev->reporter, "bridge-cy");
}

Test(fed, a_duplicate_external_id_under_another_key_answers_the_same_ticket)
{
    Whistle__V1__Response *a = h_write("bridge-cy", rq_intake("12345:B1", "B1", GRID1, "noise"));
    assert_ok(a);
    size_t cases = count_cases(), keys = count_db(h_st->fed_keys);
    uint64_t seq;
    stream_last(FED_STREAM, &seq);
    Whistle__V1__Response *b = h_write("bridge-cy", rq_intake("router:99", "B1", GRID1, "noise, again"));
    assert_ok(b);
    cr_assert(b->fed_apply->duplicate);
    cr_assert_str_eq(b->fed_apply->ticket, a->fed_apply->ticket);
    cr_assert_eq(count_cases(), cases, "nothing changed");
    cr_assert_eq(count_db(h_st->fed_keys), keys, "nothing changed");
    uint64_t seq2;
    stream_last(FED_STREAM, &seq2);
    cr_assert_eq(seq2, seq);
}

Test(fed, a_refused_intake_leaves_no_trace_and_can_be_sent_again)
{
    size_t cases = count_cases();
    /* a retired grid: event_report refuses it after the key was looked up */
    Whistle__V1__Response *r = h_write("bridge-cy", rq_intake("12345:C1", "C1", "110105001001003", "x"));
    assert_code(r, FAILED_PRECONDITION);
    cr_assert_eq(count_cases(), cases);
    cr_assert_eq(count_db(h_st->fed_ext), 0);
    cr_assert_eq(count_db(h_st->fed_keys), 0);
    uint64_t seq;
    stream_last(FED_STREAM, &seq);
    cr_assert_eq(seq, 0);
    /* placed elsewhere in the district: another district's node is refused */
    r = h_write("bridge-cy", rq_intake("12345:C1", "C1", OTHER "001", "x"));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "not in district");
    assert_ok(h_write("bridge-cy", rq_intake("12345:C1", "C1", GRID1, "x")));
    cr_assert_eq(count_cases(), cases + 1);
}

/* ------------------------------------------------------------ the stream */

Test(fed, the_stream_is_written_in_the_transaction_of_the_change)
{
    uint64_t seq0;
    stream_last(FED_STREAM, &seq0);
    /* a report: one entry, the case's own version and state */
    Whistle__V1__Response *r = h_write("op-jianwai", rq_report(GRID1, "0102", "rubbish"));
    assert_ok(r);
    uint64_t seq1;
    stream_last(FED_STREAM, &seq1);
    cr_assert_eq(seq1, seq0 + 1);
    Whistle__V1__Push *p = stream_entry(FED_STREAM, seq1);
    cr_assert_str_eq(p->action, "fed_case");
    cr_assert(p->fed_case);
    cr_assert_str_eq(p->fed_case->ticket, r->event->ticket);
    cr_assert_str_eq(p->fed_case->district, DISTRICT);
    cr_assert_eq(p->fed_case->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_REPORTED);
    cr_assert_eq(p->fed_case->version, r->event->version);
    cr_assert_str_eq(p->fed_case->action, "report");
    const char *ticket = r->event->ticket;

    /* the same change made and rolled back (a call refused later in its
     * transaction, a batch whose commit failed): no entry */
    MDB_txn *txn, *child;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(mdb_txn_begin(h_st->env, txn, 0, &child), 0);
    Whistle__V1__Response *resp = NEW(Whistle__V1__Response, whistle__v1__response__init);
    stream_touched t = { 0 };
    api_write(h_st, child, h_who(child, "op-jianwai"), rq_ticket(CALL(FILE), ticket), h_now, h_a, resp, &t);
    assert_ok(resp);
    uint64_t inside;
    cr_assert_eq(stream_meta_get(h_st, child, FED_STREAM, &inside, NULL), 0);
    cr_assert_eq(inside, seq1 + 1, "appended inside the call's transaction");
    mdb_txn_abort(child);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    stream_touched_clear(&t);
    uint64_t after;
    stream_last(FED_STREAM, &after);
    cr_assert_eq(after, seq1, "a rolled-back change leaves no entry");

    /* committed: the entry, gapless */
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), ticket)));
    stream_last(FED_STREAM, &after);
    cr_assert_eq(after, seq1 + 1);
    p = stream_entry(FED_STREAM, after);
    cr_assert_eq(p->fed_case->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_FILED);
    cr_assert_eq(p->fed_case->version, 2);
    /* a change that is no status change (an assignment note) appends none
     * beyond its state's */
    for (uint64_t s = seq0 + 1; s <= after; s++)
        cr_assert_eq(stream_entry(FED_STREAM, s)->seq, s, "gapless");
}

Test(fed, not_federated_appends_nothing)
{
    h_st->fed_district[0] = 0;
    assert_ok(h_write("op-jianwai", rq_report(GRID1, "0102", "rubbish")));
    uint64_t seq;
    stream_last(FED_STREAM, &seq);
    cr_assert_eq(seq, 0);
    Whistle__V1__Response *r = h_write("bridge-cy", rq_intake("12345:N1", "N1", GRID1, "x"));
    assert_code(r, FAILED_PRECONDITION);
}

/* ------------------------------------------------------------ city departments */

Test(fed, an_order_to_a_city_department_goes_out_and_it_acts_through_the_bridge)
{
    const char *ticket;
    uint64_t order = city_order(&ticket);
    uint64_t last;
    stream_last(FED_STREAM, &last);
    bool saw = false;
    for (uint64_t s = 1; s <= last; s++) {
        Whistle__V1__Push *p = stream_entry(FED_STREAM, s);
        if (p->fed_order) {
            cr_assert_str_eq(p->fed_order->action, "dispatch");
            cr_assert_eq(p->fed_order->order->id, order);
            cr_assert_str_eq(p->fed_order->order->department, "citywater");
            saw = true;
        }
    }
    cr_assert(saw, "the order went out on the stream");

    /* a district department is not the city's: the bridge cannot act as it */
    Whistle__V1__Response *r = h_write("bridge-cy", rq_order_act("desk:1", "urban", order, false));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "rule");
    /* a city department acts on its own orders only */
    assert_ok(h_write("bridge-cy", rq_dir_dept("citygas", false)));
    r = h_write("bridge-cy", rq_order_act("desk:2", "citygas", order, false));
    assert_code(r, PERMISSION_DENIED);

    r = h_write("bridge-cy", rq_order_act("desk:3", "citywater", order, false));
    assert_ok(r);
    cr_assert_eq(r->fed_apply->order_id, order);
    cr_assert_str_eq(r->fed_apply->ticket, ticket);
    /* again (JetStream redelivered it): the same answer, nothing changes */
    stream_last(FED_STREAM, &last);
    r = h_write("bridge-cy", rq_order_act("desk:3", "citywater", order, false));
    assert_ok(r);
    cr_assert(r->fed_apply->duplicate);
    uint64_t again;
    stream_last(FED_STREAM, &again);
    cr_assert_eq(again, last);
    assert_ok(h_write("bridge-cy", rq_order_act("desk:4", "citywater", order, true)));
    cr_assert_eq(get_case(ticket)->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_RESOLVED);

    /* audited as the department, through the bridge */
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(QUERY_AUDIT);
    q->query_audit = NEW(Whistle__V1__QueryAudit, whistle__v1__query_audit__init);
    q->query_audit->principal = "dept:citywater";
    Whistle__V1__Response *a = h_read("admin", q);
    assert_ok(a);
    bool checked_in = false;
    for (size_t i = 0; i < a->audit->n_entries; i++)
        if (strcmp(a->audit->entries[i]->call, "check_in") == 0) {
            cr_assert_str_eq(a->audit->entries[i]->via, "bridge-cy");
            checked_in = true;
        }
    cr_assert(checked_in, "the check-in is in the audit log");
}

Test(fed, a_directory_department_is_city_level_and_a_deleted_one_is_kept)
{
    Whistle__V1__Response *r = h_write("bridge-cy", rq_dir_dept("citywater", false));
    assert_ok(r);
    cr_assert_eq(r->fed_directory->applied, 1);
    r = h_write("bridge-cy", rq_dir_dept("citywater", false));
    assert_ok(r);
    cr_assert_eq(r->fed_directory->unchanged, 1);
    r = h_write("bridge-cy", rq_dir_dept("citywater", true));
    assert_ok(r);
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Department *d = directory_department_get(h_st, txn, "citywater", h_a);
    store_read_end(h_st);
    cr_assert(d, "kept");
    cr_assert(!d->city);
    /* a district's bridge never writes another's entries: the department's
     * code must match its key */
    Whistle__V1__Request *bad = rq_dir_dept("citywater", false);
    bad->fed_directory->entries[0]->key = "dept.police";
    assert_code(h_write("bridge-cy", bad), INVALID_ARGUMENT);
}

/* ------------------------------------------------------------ transfers */

Test(fed, a_transfer_out_closes_the_case_and_carries_all_of_it)
{
    Whistle__V1__Response *r = h_write("op-jianwai", rq_report(GRID1, "0102", "wrong district"));
    assert_ok(r);
    const char *ticket = r->event->ticket;
    Whistle__V1__Request *t = h_req();
    t->call_case = CALL(TRANSFER);
    t->transfer = NEW(Whistle__V1__TransferEvent, whistle__v1__transfer_event__init);
    t->transfer->ticket = (char *)ticket;
    t->transfer->to_district = DISTRICT;
    t->transfer->reason = "it is in Dongcheng";
    assert_code(h_write("op-jianwai", t), INVALID_ARGUMENT); /* not to itself */
    t->transfer->to_district = OTHER;
    assert_code(h_write("op-chaowai", t), NOT_FOUND); /* another street's operator */
    r = h_write("op-jianwai", t);
    assert_ok(r);
    cr_assert_eq(r->event->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_CLOSED);
    cr_assert_str_eq(r->event->transferred_to, OTHER);
    uint64_t last;
    stream_last(FED_STREAM, &last);
    Whistle__V1__Push *p = stream_entry(FED_STREAM, last);
    cr_assert(p->fed_transfer, "the transfer is the last entry");
    cr_assert_str_eq(p->fed_transfer->from_ticket, ticket);
    cr_assert_str_eq(p->fed_transfer->to_district, OTHER);
    cr_assert_str_eq(p->fed_transfer->event->description, "wrong district");
    cr_assert_str_eq(p->fed_transfer->event->contact, "");
    cr_assert_geq(p->fed_transfer->n_history, 1);
    cr_assert_str_eq(p->fed_transfer->history[0]->action, "report");
    Whistle__V1__Push *c = stream_entry(FED_STREAM, last - 1);
    cr_assert(c->fed_case);
    cr_assert_str_eq(c->fed_case->transferred_to, OTHER);
    /* closed: not again */
    assert_code(h_write("op-jianwai", t), FAILED_PRECONDITION);
}

Test(fed, a_transfer_in_is_a_new_case_with_where_it_came_from)
{
    Whistle__V1__FedCommand *cmd = NEW(Whistle__V1__FedCommand, whistle__v1__fed_command__init);
    Whistle__V1__FedTransfer *t = NEW(Whistle__V1__FedTransfer, whistle__v1__fed_transfer__init);
    t->from_district = OTHER;
    t->from_ticket = "E2026120300007";
    t->to_district = DISTRICT;
    t->reason = "it is in Chaoyang";
    t->node = GRID1;
    t->event = NEW(Whistle__V1__Event, whistle__v1__event__init);
    t->event->ticket = "E2026120300007";
    t->event->category = "0102";
    t->event->description = "rubbish by the gate";
    t->event->external_id = "T77";
    t->event->contact = "13900001111";
    t->n_history = 1;
    t->history = arena_alloc(h_a, sizeof(void *));
    t->history[0] = NEW(Whistle__V1__TimelineEntry, whistle__v1__timeline_entry__init);
    t->history[0]->action = "report";
    t->history[0]->actor = "hotline";
    cmd->kind_case = WHISTLE__V1__FED_COMMAND__KIND_TRANSFER;
    cmd->transfer = t;
    Whistle__V1__Response *r = h_write("bridge-cy", rq_command("cmd." DISTRICT ".transfer", OTHER ":transfer:E7", cmd));
    assert_ok(r);
    Whistle__V1__Event *ev = get_case(r->fed_apply->ticket);
    cr_assert_str_eq(ev->transferred_from, OTHER ":E2026120300007");
    cr_assert_str_eq(ev->node, GRID1);
    cr_assert_str_eq(ev->contact, "13900001111");
    cr_assert_str_eq(ev->timeline[ev->n_timeline - 1]->action, "transfer_in");
    cr_assert(strstr(ev->timeline[ev->n_timeline - 1]->note, "E2026120300007"));
    /* the city hears of it with where it came from, at its latest version */
    uint64_t last;
    stream_last(FED_STREAM, &last);
    Whistle__V1__Push *p = stream_entry(FED_STREAM, last);
    cr_assert(p->fed_case);
    cr_assert_str_eq(p->fed_case->action, "transfer_in");
    cr_assert_str_eq(p->fed_case->transferred_from, OTHER ":E2026120300007");
    cr_assert_eq(p->fed_case->version, ev->version);
    /* again, under its key or as its external id: the same case */
    size_t cases = count_cases();
    Whistle__V1__Response *b = h_write("bridge-cy", rq_command("cmd." DISTRICT ".transfer", OTHER ":transfer:E7", cmd));
    assert_ok(b);
    cr_assert(b->fed_apply->duplicate);
    Whistle__V1__Response *c = h_write("bridge-cy", rq_intake("12345:T77", "T77", GRID1, "x"));
    assert_ok(c);
    cr_assert(c->fed_apply->duplicate);
    cr_assert_str_eq(c->fed_apply->ticket, r->fed_apply->ticket);
    cr_assert_eq(count_cases(), cases);
    /* one meant for another district is refused */
    t->to_district = OTHER;
    assert_code(h_write("bridge-cy", rq_command("cmd." DISTRICT ".transfer", "x:1", cmd)), FAILED_PRECONDITION);
}

/* ------------------------------------------------------------ supervision */

Test(fed, city_supervision_opens_a_record_at_the_city_level)
{
    const char *ticket;
    uint64_t order = city_order(&ticket);
    Whistle__V1__FedCommand *cmd = NEW(Whistle__V1__FedCommand, whistle__v1__fed_command__init);
    cmd->kind_case = WHISTLE__V1__FED_COMMAND__KIND_SUPERVISE;
    cmd->supervise = NEW(Whistle__V1__FedSupervise, whistle__v1__fed_supervise__init);
    cmd->supervise->ticket = (char *)ticket;
    cmd->supervise->order_id = order;
    cmd->supervise->note = "the mayor's office asks for a date";
    cmd->supervise->actor = "city-office";
    Whistle__V1__Response *r = h_write("bridge-cy", rq_command("cmd." DISTRICT ".supervise", "city:s1", cmd));
    assert_ok(r);
    cr_assert_neq(r->fed_apply->supervision_id, 0);
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(LIST_SUPERVISIONS);
    q->list_supervisions = NEW(Whistle__V1__ListSupervisions, whistle__v1__list_supervisions__init);
    Whistle__V1__Response *l = h_read("op-jianwai", q);
    assert_ok(l);
    cr_assert_eq(l->supervisions->n_supervisions, 1);
    cr_assert_eq(l->supervisions->supervisions[0]->level, 3);
    cr_assert_eq(l->supervisions->supervisions[0]->order_id, order);
}

/* ------------------------------------------------------------ what a bridge may do */

static Whistle__V1__Request *rq_subscribe(const char *stream)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SUBSCRIBE);
    r->subscribe = NEW(Whistle__V1__Subscribe, whistle__v1__subscribe__init);
    r->subscribe->stream = arena_strdup(h_a, stream);
    return r;
}

Test(fed, a_bridge_is_refused_everything_but_its_own_calls_and_district)
{
    Whistle__V1__Response *rep = h_write("op-jianwai", rq_report(GRID1, "0102", "x"));
    assert_ok(rep);
    const char *ticket = rep->event->ticket;
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Principal *cy = h_who(txn, "bridge-cy"), *dc = h_who(txn, "bridge-dc");
    store_read_end(h_st);
    /* its stream: its district's fed:, nothing else */
    cr_assert(stream_allowed(cy, FED_STREAM));
    cr_assert(!stream_allowed(cy, "fed:" OTHER));
    cr_assert(!stream_allowed(cy, "fed:110105001"));
    cr_assert(!stream_allowed(cy, "street:110105001"));
    cr_assert(!stream_allowed(cy, "district:" DISTRICT));
    cr_assert(!stream_allowed(dc, FED_STREAM));
    cr_assert(stream_allowed(dc, "fed:" OTHER));
    char own[64];
    stream_default_for(cy, own, sizeof own);
    cr_assert_str_eq(own, FED_STREAM);
    cr_assert(authz_role_may(CALL(SUBSCRIBE), WHISTLE__V1__ROLE__ROLE_BRIDGE));
    (void)rq_subscribe;

    /* the cases' calls, the orders', the admin's: refused naming the rule */
    Whistle__V1__Request *refused[] = {
        rq_report(GRID1, "0102", "x"),  rq_ticket(CALL(GET_EVENT), ticket), rq_ticket(CALL(FILE), ticket),
        rq_ticket(CALL(CLOSE), ticket), rq_order(CALL(CHECK_IN), 1, "x"),
    };
    for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
        Whistle__V1__Response *r =
            api_is_write(refused[i]) ? h_write("bridge-cy", refused[i]) : h_read("bridge-cy", refused[i]);
        assert_code(r, PERMISSION_DENIED);
        assert_msg_has(r, "rule");
    }
    Whistle__V1__Request *t = h_req();
    t->call_case = CALL(TRANSFER);
    t->transfer = NEW(Whistle__V1__TransferEvent, whistle__v1__transfer_event__init);
    t->transfer->ticket = (char *)ticket;
    t->transfer->to_district = OTHER;
    t->transfer->reason = "x";
    assert_code(h_write("bridge-cy", t), PERMISSION_DENIED);

    /* the statistics of its district: allowed */
    Whistle__V1__Request *s = h_req();
    s->call_case = CALL(GET_STATS);
    s->get_stats = NEW(Whistle__V1__GetStats, whistle__v1__get_stats__init);
    s->get_stats->by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT;
    assert_ok(h_read("bridge-cy", s));

    /* another district's bridge: refused here, naming the rule */
    Whistle__V1__Response *r = h_write("bridge-dc", rq_intake("12345:Z", "Z", GRID1, "x"));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "own district");
    r = h_write("bridge-dc", rq_dir_dept("citywater", false));
    assert_code(r, PERMISSION_DENIED);
    /* what was sent to another district's subject: refused */
    Whistle__V1__Request *q = rq_intake("12345:Y", "Y", GRID1, "x");
    q->fed_apply->source = "intake." OTHER;
    assert_code(h_write("bridge-cy", q), PERMISSION_DENIED);
    q->fed_apply->source = "intake." DISTRICT "9";
    assert_code(h_write("bridge-cy", q), PERMISSION_DENIED);
    /* a command on a case of another district: not found, as if missing */
    Whistle__V1__FedCommand *cmd = NEW(Whistle__V1__FedCommand, whistle__v1__fed_command__init);
    cmd->kind_case = WHISTLE__V1__FED_COMMAND__KIND_SUPERVISE;
    cmd->supervise = NEW(Whistle__V1__FedSupervise, whistle__v1__fed_supervise__init);
    Whistle__V1__Response *far = h_write("admin", rq_report(OTHER "001", "0102", "in Dongcheng"));
    assert_ok(far);
    cmd->supervise->ticket = far->event->ticket;
    cmd->supervise->note = "x";
    assert_code(h_write("bridge-cy", rq_command("cmd." DISTRICT ".supervise", "s:x", cmd)), NOT_FOUND);
    /* a bridge of another district cannot be made here */
    Whistle__V1__Request *ap = h_req();
    ap->call_case = CALL(ADD_PRINCIPAL);
    ap->add_principal = NEW(Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
    Whistle__V1__Principal *p = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
    p->name = "bridge-x";
    p->role = WHISTLE__V1__ROLE__ROLE_BRIDGE;
    p->scope = OTHER;
    p->enabled = true;
    ap->add_principal->principal = p;
    assert_code(h_write("admin", ap), INVALID_ARGUMENT);
    /* and no one but a bridge applies what the city sends */
    const char *others[] = { "admin", "op-jianwai", "police", "gw-1", "hotline", "kiosk-yonganli", "gateway-1" };
    for (size_t i = 0; i < sizeof others / sizeof *others; i++)
        assert_code(h_write(others[i], rq_intake("12345:W", "W", GRID1, "x")), PERMISSION_DENIED);
}

Test(fed, with_an_intake_street_a_case_that_cannot_be_placed_goes_there)
{
    snprintf(h_st->fed_intake_node, sizeof h_st->fed_intake_node, "%s", "110105001");
    /* a retired grid, another district's node, a point outside every grid */
    Whistle__V1__Request *reqs[] = { rq_intake("12345:P1", "P1", "110105001001003", "x"),
                                     rq_intake("12345:P2", "P2", OTHER "001", "x"),
                                     rq_intake("12345:P3", "P3", "", "x") };
    reqs[2]->fed_apply->intake->has_location = true;
    reqs[2]->fed_apply->intake->lat = 10;
    reqs[2]->fed_apply->intake->lon = 10;
    for (size_t i = 0; i < 3; i++) {
        Whistle__V1__Response *r = h_write("bridge-cy", reqs[i]);
        assert_ok(r);
        cr_assert_str_eq(get_case(r->fed_apply->ticket)->node, "110105001");
    }
    /* a point inside a grid: that grid */
    Whistle__V1__Request *q = rq_intake("12345:P4", "P4", "", "x");
    q->fed_apply->intake->has_location = true;
    q->fed_apply->intake->lat = 39.900;
    q->fed_apply->intake->lon = 116.460;
    Whistle__V1__Response *r = h_write("bridge-cy", q);
    assert_ok(r);
    cr_assert_str_eq(get_case(r->fed_apply->ticket)->node, GRID1);
}

Test(fed, a_case_transferred_away_and_sent_back_is_a_new_case_here)
{
    Whistle__V1__Response *a = h_write("bridge-cy", rq_intake("12345:R1", "R1", GRID1, "misplaced"));
    assert_ok(a);
    Whistle__V1__Request *t = h_req();
    t->call_case = CALL(TRANSFER);
    t->transfer = NEW(Whistle__V1__TransferEvent, whistle__v1__transfer_event__init);
    t->transfer->ticket = a->fed_apply->ticket;
    t->transfer->to_district = OTHER;
    t->transfer->reason = "it is in Dongcheng";
    assert_ok(h_write("op-jianwai", t));
    /* the same message again still answers what it did */
    Whistle__V1__Response *again = h_write("bridge-cy", rq_intake("12345:R1", "R1", GRID1, "misplaced"));
    assert_ok(again);
    cr_assert(again->fed_apply->duplicate);
    cr_assert_str_eq(again->fed_apply->ticket, a->fed_apply->ticket);
    /* transferred back from there: a new case */
    Whistle__V1__FedCommand *cmd = NEW(Whistle__V1__FedCommand, whistle__v1__fed_command__init);
    Whistle__V1__FedTransfer *tr = NEW(Whistle__V1__FedTransfer, whistle__v1__fed_transfer__init);
    tr->from_district = OTHER;
    tr->from_ticket = "E2026120300009";
    tr->to_district = DISTRICT;
    tr->reason = "it is in Chaoyang after all";
    tr->node = GRID1;
    tr->event = NEW(Whistle__V1__Event, whistle__v1__event__init);
    tr->event->category = "0102";
    tr->event->description = "misplaced";
    tr->event->external_id = "R1";
    cmd->kind_case = WHISTLE__V1__FED_COMMAND__KIND_TRANSFER;
    cmd->transfer = tr;
    Whistle__V1__Response *b = h_write("bridge-cy", rq_command("cmd." DISTRICT ".transfer", OTHER ":transfer:E9", cmd));
    assert_ok(b);
    cr_assert(!b->fed_apply->duplicate);
    cr_assert_str_neq(b->fed_apply->ticket, a->fed_apply->ticket);
    cr_assert_eq(get_case(b->fed_apply->ticket)->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_REPORTED);
}

Test(fed, a_directory_of_more_than_1000_entries_is_refused_whole)
{
    Whistle__V1__Request *r = rq_dir_dept("citywater", false);
    size_t n = 1001;
    r->fed_directory->entries = arena_alloc(h_a, n * sizeof(void *));
    for (size_t i = 0; i < n; i++)
        r->fed_directory->entries[i] = rq_dir_dept("citywater", false)->fed_directory->entries[0];
    r->fed_directory->n_entries = n;
    Whistle__V1__Response *resp = h_write("bridge-cy", r);
    assert_code(resp, INVALID_ARGUMENT);
    assert_msg_has(resp, "at most 1000");
    MDB_txn *txn = store_read_begin(h_st);
    cr_assert_null(directory_department_get(h_st, txn, "citywater", h_a));
    store_read_end(h_st);
}

static int64_t district_reported(void)
{
    Whistle__V1__Request *s = h_req();
    s->call_case = CALL(GET_STATS);
    s->get_stats = NEW(Whistle__V1__GetStats, whistle__v1__get_stats__init);
    s->get_stats->by = WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_DISTRICT;
    s->get_stats->totals = true;
    Whistle__V1__Response *r = h_read("admin", s);
    assert_ok(r);
    int64_t n = 0;
    for (size_t i = 0; i < r->stats->n_rows; i++)
        if (strcmp(r->stats->rows[i]->code, DISTRICT) == 0 && strcmp(r->stats->rows[i]->bucket, "total") == 0)
            n = r->stats->rows[i]->reported + 1000 * r->stats->rows[i]->closed;
    return n;
}

Test(fed, a_case_transferred_away_no_longer_counts_here)
{
    int64_t before = district_reported();
    Whistle__V1__Response *r = h_write("op-jianwai", rq_report(GRID1, "0102", "misplaced"));
    assert_ok(r);
    cr_assert_eq(district_reported(), before + 1);
    Whistle__V1__Request *t = h_req();
    t->call_case = CALL(TRANSFER);
    t->transfer = NEW(Whistle__V1__TransferEvent, whistle__v1__transfer_event__init);
    t->transfer->ticket = r->event->ticket;
    t->transfer->to_district = OTHER;
    t->transfer->reason = "it is in Dongcheng";
    assert_ok(h_write("op-jianwai", t));
    cr_assert_eq(district_reported(), before, "neither reported nor closed here once transferred");
}
