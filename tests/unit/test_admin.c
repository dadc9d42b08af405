/* test_admin.c: the administrator's calls (admin.c), the catalogue's
 * proposal, ticket look-up, admission lists and tasks (task.c), and the
 * audit log's reads. */
#include "helpers.h"

#include "directory.h"

TestSuite(admin, .init = h_setup, .fini = h_teardown, .timeout = 60);

#define NK(x) WHISTLE__V1__NODE_KIND__NODE_KIND_##x
#define GRID1 "110105001001001"
#define GRID2 "110105001001002"
#define YONGANLI "110105001001"
#define JIXIANGLI "110105002001"

/* ------------------------------------------------------------ builders */

static Whistle__V1__Request *rq_add_node(const char *code, const char *parent, int kind, const char *zh)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_NODE);
    r->add_node = NEW(Whistle__V1__AddNode, whistle__v1__add_node__init);
    r->add_node->node = NEW(Whistle__V1__Node, whistle__v1__node__init);
    r->add_node->node->code = (char *)code;
    r->add_node->node->parent = (char *)parent;
    r->add_node->node->kind = kind;
    r->add_node->node->name_zh = (char *)zh;
    return r;
}

static Whistle__V1__Request *rq_update_node(const char *code, const char *zh, bool retire, bool reinstate)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(UPDATE_NODE);
    r->update_node = NEW(Whistle__V1__UpdateNode, whistle__v1__update_node__init);
    r->update_node->code = (char *)code;
    r->update_node->name_zh = (char *)(zh ? zh : "");
    r->update_node->retire = retire;
    r->update_node->reinstate = reinstate;
    return r;
}

static Whistle__V1__Request *rq_move(const char *code, const char *to)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(MOVE_NODE);
    r->move_node = NEW(Whistle__V1__MoveNode, whistle__v1__move_node__init);
    r->move_node->code = (char *)code;
    r->move_node->new_parent = (char *)to;
    return r;
}

static Whistle__V1__Request *rq_update_principal(const char *name)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(UPDATE_PRINCIPAL);
    r->update_principal = NEW(Whistle__V1__UpdatePrincipal, whistle__v1__update_principal__init);
    r->update_principal->name = (char *)name;
    return r;
}

static Whistle__V1__Request *rq_audit(const char *principal, const char *target, int64_t from, int64_t to,
                                      uint32_t limit, const char *cursor)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(QUERY_AUDIT);
    r->query_audit = NEW(Whistle__V1__QueryAudit, whistle__v1__query_audit__init);
    r->query_audit->principal = (char *)(principal ? principal : "");
    r->query_audit->target = (char *)(target ? target : "");
    r->query_audit->from_ms = from;
    r->query_audit->to_ms = to;
    r->query_audit->limit = limit;
    r->query_audit->cursor = (char *)(cursor ? cursor : "");
    return r;
}

static Whistle__V1__Request *rq_set_admission(const char *community, int n, const char **kinds)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SET_ADMISSION_LIST);
    r->set_admission_list = NEW(Whistle__V1__SetAdmissionList, whistle__v1__set_admission_list__init);
    r->set_admission_list->community = (char *)community;
    r->set_admission_list->kinds = (char **)kinds;
    r->set_admission_list->n_kinds = (size_t)n;
    return r;
}

static Whistle__V1__Request *rq_push_task(const char *community, const char *kind, int64_t deadline)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUSH_TASK);
    r->push_task = NEW(Whistle__V1__PushTask, whistle__v1__push_task__init);
    r->push_task->community = (char *)community;
    r->push_task->kind = (char *)kind;
    r->push_task->title = "入户调查 household survey";
    r->push_task->deadline_ms = deadline;
    return r;
}

static Whistle__V1__Request *rq_list_tasks(const char *community)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_TASKS);
    r->list_tasks = NEW(Whistle__V1__ListTasks, whistle__v1__list_tasks__init);
    r->list_tasks->community = (char *)(community ? community : "");
    return r;
}

static Whistle__V1__Request *rq_lookup(const char *ticket, const char *last4)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LOOKUP_TICKET);
    r->lookup_ticket = NEW(Whistle__V1__LookupTicket, whistle__v1__lookup_ticket__init);
    r->lookup_ticket->ticket = (char *)ticket;
    r->lookup_ticket->phone_last4 = (char *)last4;
    return r;
}

static Whistle__V1__Node *node(const char *code)
{
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Node *n = directory_node_get(h_st, txn, code, h_a);
    store_read_end(h_st);
    return n;
}

static const char *report_with_phone(const char *who, const char *grid, const char *phone)
{
    Whistle__V1__Request *rep = rq_report(grid, "0102", "bins overflowing");
    rep->report->contact = (char *)phone;
    Whistle__V1__Response *r = h_write(who, rep);
    assert_ok(r);
    return r->event->ticket;
}

/* ------------------------------------------------------------ places */

Test(admin, nodes_are_added_under_a_live_parent_with_the_right_code)
{
    assert_ok(h_write("admin", rq_add_node("110105001004", "110105001", NK(COMMUNITY), "新社区")));
    cr_assert_str_eq(node("110105001004")->name_zh, "新社区");
    Whistle__V1__Response *r = h_write("admin", rq_add_node("110105001004", "110105001", NK(COMMUNITY), "again"));
    assert_code(r, ALREADY_EXISTS);
    r = h_write("admin", rq_add_node("11010500100", "110105001", NK(COMMUNITY), "short"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "a community code is 12 digits");
    r = h_write("admin", rq_add_node("110105002005", "110105001", NK(COMMUNITY), "wrong parent"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "is the street 110105002");
    r = h_write("admin", rq_add_node("110105001001003009", "110105001001003", NK(BUILDING), "on a retired grid"));
    assert_code(r, FAILED_PRECONDITION);
    r = h_write("op-jianwai", rq_add_node("110105001005", "110105001", NK(COMMUNITY), "by an operator"));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "places are managed by admins");
}

Test(admin, a_retired_place_and_its_subtree_take_no_new_cases)
{
    assert_ok(h_write("admin", rq_update_node(YONGANLI, NULL, true, false)));
    cr_assert(node(YONGANLI)->retired);
    cr_assert(node(GRID1)->retired, "retiring a community retires its grids");
    cr_assert(node("110105001001001001")->retired, "and their buildings");
    Whistle__V1__Response *r = h_write("gw-1", rq_report(GRID1, "0102", "rubbish"));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "retired");
    /* history stays: reinstating the community brings the node back, not
     * its subtree, and a child needs its parent live */
    r = h_write("admin", rq_update_node(GRID1, NULL, false, true));
    assert_code(r, FAILED_PRECONDITION);
    assert_msg_has(r, "reinstate the parent first");
    assert_ok(h_write("admin", rq_update_node(YONGANLI, NULL, false, true)));
    assert_ok(h_write("admin", rq_update_node(GRID1, "第一网格（新）", false, true)));
    cr_assert_not(node(GRID1)->retired);
    cr_assert_str_eq(node(GRID1)->name_zh, "第一网格（新）");
    assert_ok(h_write("gw-1", rq_report(GRID1, "0102", "rubbish")));
}

Test(admin, a_moved_grid_gets_a_new_code_and_the_old_one_keeps_its_cases)
{
    const char *t = h_report_as("gw-2", GRID2);
    Whistle__V1__Response *r = h_write("admin", rq_move(GRID2, JIXIANGLI));
    assert_ok(r);
    cr_assert_eq(r->result_case, WHISTLE__V1__RESPONSE__RESULT_MOVED);
    cr_assert_eq(r->moved->n_created, 1);
    cr_assert_str_eq(r->moved->created[0]->code, "110105002001002");
    cr_assert_str_eq(r->moved->created[0]->parent, JIXIANGLI);
    bool principal_note = false, case_note = false;
    for (size_t i = 0; i < r->moved->n_notes; i++) {
        principal_note |= strstr(r->moved->notes[i], "gw-2") != NULL;
        case_note |= strstr(r->moved->notes[i], "1 case recorded under " GRID2) != NULL;
    }
    cr_assert(principal_note, "the grid's worker is named");
    cr_assert(case_note, "the case left at the old code is counted");
    Whistle__V1__Node *old = node(GRID2);
    cr_assert(old->retired);
    cr_assert_str_eq(old->successor, "110105002001002");
    cr_assert_str_eq(h_get("admin", t)->node, GRID2, "a case stays where it happened");
    assert_ok(h_write("op-chaowai", rq_report("110105002001002", "0102", "at the new code")));
    r = h_write("admin", rq_move(GRID2, JIXIANGLI));
    assert_code(r, FAILED_PRECONDITION);
    r = h_write("admin", rq_move(GRID1, "110105001"));
    assert_code(r, INVALID_ARGUMENT);
    assert_msg_has(r, "a grid's parent is a community");
}

/* ------------------------------------------------------------ departments, categories */

Test(admin, categories_are_checked_and_mirror_their_default_limits)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_CATEGORY);
    r->put_category = NEW(Whistle__V1__PutCategory, whistle__v1__put_category__init);
    Whistle__V1__Category *k = NEW(Whistle__V1__Category, whistle__v1__category__init);
    r->put_category->category = k;
    k->code = "0103";
    k->name_zh = "道路不洁";
    char *deps[] = { "urban" };
    k->departments = deps;
    k->n_departments = 1;
    Whistle__V1__TimeLimit ci = WHISTLE__V1__TIME_LIMIT__INIT, rs = WHISTLE__V1__TIME_LIMIT__INIT;
    ci.amount = 2;
    ci.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS;
    rs.amount = 2;
    rs.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS;
    Whistle__V1__PriorityLimits pl = WHISTLE__V1__PRIORITY_LIMITS__INIT;
    pl.check_in = &ci;
    pl.resolve = &rs;
    Whistle__V1__PriorityLimits *pls[] = { &pl };
    k->limits = pls;
    k->n_limits = 1;
    Whistle__V1__Response *resp = h_write("admin", r);
    assert_ok(resp);
    cr_assert_eq(resp->category->check_in_minutes, 120);
    cr_assert_eq(resp->category->resolve_hours, 0);
    pl.priority = WHISTLE__V1__PRIORITY__PRIORITY_NORMAL;
    assert_code(h_write("admin", r), INVALID_ARGUMENT);
    pl.priority = WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    rs.amount = 400; /* working days: at most a year's 250 */
    assert_code(h_write("admin", r), INVALID_ARGUMENT);
    rs.amount = 2;
    k->code = "0901";
    resp = h_write("admin", r);
    assert_code(resp, FAILED_PRECONDITION);
    assert_msg_has(resp, "major class 09 does not exist");
}

/* Issue 11, item 18: put_category took any stages (unit 99 or -1, 2^32-1
 * days, 60,000 empty stages); it now checks them as an import does, and a
 * refused one changes nothing. */
Test(admin, a_categorys_stages_are_checked_as_an_import_checks_them)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_CATEGORY);
    r->put_category = NEW(Whistle__V1__PutCategory, whistle__v1__put_category__init);
    Whistle__V1__Category *k = NEW(Whistle__V1__Category, whistle__v1__category__init);
    r->put_category->category = k;
    k->code = "0104";
    k->name_zh = "违章搭建";
    Whistle__V1__TimeLimit lim = WHISTLE__V1__TIME_LIMIT__INIT;
    lim.amount = 4;
    lim.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS;
    Whistle__V1__Stage st = WHISTLE__V1__STAGE__INIT;
    st.name_zh = "责令停工";
    st.name_en = "Stop work";
    st.limit = &lim;
    Whistle__V1__Stage *one[] = { &st };
    k->stages = one;
    k->n_stages = 1;
    assert_ok(h_write("admin", r));
    Whistle__V1__Category *kept = directory_category_get(h_st, store_read_begin(h_st), "0104", h_a);
    store_read_end(h_st);
    cr_assert_eq(kept->n_stages, 1);

    static const struct {
        int unit;
        uint32_t amount;
        const char *says;
    } bad[] = {
        { 99, 4, "not a time unit" },
        { -1, 4, "not a time unit" },
        { WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS, UINT32_MAX, "stages[0]" },
        { WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS, 0, "needs a limit" },
    };
    k->name_zh = "违章搭建 (changed)";
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        lim.unit = bad[i].unit;
        lim.amount = bad[i].amount;
        Whistle__V1__Response *resp = h_write("admin", r);
        assert_code(resp, INVALID_ARGUMENT);
        assert_msg_has(resp, bad[i].says);
    }
    lim.unit = WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS;
    lim.amount = 4;
    st.name_zh = "";
    st.name_en = "";
    assert_msg_has(h_write("admin", r), "needs a name");
    st.name_zh = "停工;整改";
    assert_msg_has(h_write("admin", r), "may not hold");
    st.name_zh = "责令停工";
    size_t many = 60000;
    Whistle__V1__Stage **lots = arena_alloc(h_a, many * sizeof *lots);
    for (size_t i = 0; i < many; i++)
        lots[i] = &st;
    k->stages = lots;
    k->n_stages = many;
    Whistle__V1__Response *resp = h_write("admin", r);
    assert_code(resp, INVALID_ARGUMENT);
    assert_msg_has(resp, "at most 8");

    kept = directory_category_get(h_st, store_read_begin(h_st), "0104", h_a);
    store_read_end(h_st);
    cr_assert_str_eq(kept->name_zh, "违章搭建", "a refused put changed the category");
    cr_assert_eq(kept->n_stages, 1);
    cr_assert_eq(kept->stages[0]->limit->unit, WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS);
}

/* ------------------------------------------------------------ principals */

Test(admin, principals_are_added_disabled_moved_and_keep_an_admin)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(ADD_PRINCIPAL);
    r->add_principal = NEW(Whistle__V1__AddPrincipal, whistle__v1__add_principal__init);
    Whistle__V1__Principal *p = NEW(Whistle__V1__Principal, whistle__v1__principal__init);
    r->add_principal->principal = p;
    p->name = "gw-3";
    p->role = WHISTLE__V1__ROLE__ROLE_GRID_WORKER;
    p->scope = "110105002001001";
    Whistle__V1__Response *resp = h_write("admin", r);
    assert_ok(resp);
    cr_assert(resp->principal->enabled, "a new principal is enabled");
    assert_code(h_write("admin", r), ALREADY_EXISTS);
    p->name = "dept-x";
    p->role = WHISTLE__V1__ROLE__ROLE_DEPARTMENT;
    assert_code(h_write("admin", r), INVALID_ARGUMENT);
    p->department = "nowhere";
    assert_code(h_write("admin", r), NOT_FOUND);

    assert_ok(h_write("gw-3", rq_report("110105002001001", "0102", "by the new worker")));
    Whistle__V1__Request *u = rq_update_principal("gw-3");
    u->update_principal->disable = true;
    assert_ok(h_write("admin", u));
    /* refused at its next call, before anything else */
    assert_code(h_write("gw-3", rq_report("110105002001001", "0102", "again")), UNAUTHENTICATED);
    u = rq_update_principal("gw-3");
    u->update_principal->enable = true;
    u->update_principal->scope = GRID1;
    resp = h_write("admin", u);
    assert_ok(resp);
    cr_assert_str_eq(resp->principal->scope, GRID1);
    resp = h_write("gw-3", rq_report("110105002001001", "0102", "outside the new scope"));
    assert_code(resp, PERMISSION_DENIED);

    u = rq_update_principal("admin");
    u->update_principal->disable = true;
    resp = h_write("admin", u);
    assert_code(resp, FAILED_PRECONDITION);
    assert_msg_has(resp, "last enabled admin");
    u = rq_update_principal("admin");
    u->update_principal->role = WHISTLE__V1__ROLE__ROLE_OPERATOR;
    assert_code(h_write("admin", u), FAILED_PRECONDITION);
    assert_code(h_write("admin", rq_update_principal("gw-3")), INVALID_ARGUMENT);
}

Test(admin, principals_are_listed_in_pages)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(LIST_PRINCIPALS);
    r->list_principals = NEW(Whistle__V1__ListPrincipals, whistle__v1__list_principals__init);
    r->list_principals->limit = 5;
    size_t seen = 0;
    const char *after = "";
    for (int page = 0; page < 10; page++) {
        r->list_principals->after = (char *)after;
        Whistle__V1__Response *resp = h_read("admin", r);
        assert_ok(resp);
        seen += resp->principals->n_principals;
        after = resp->principals->next_after;
        if (!*after)
            break;
    }
    cr_assert_eq(seen, 15); /* with gateway-1 */
    r->list_principals->after = "";
    r->list_principals->role = WHISTLE__V1__ROLE__ROLE_KIOSK;
    r->list_principals->limit = 0;
    cr_assert_eq(h_read("admin", r)->principals->n_principals, 2);
    r->list_principals->role = 0;
    r->list_principals->under = YONGANLI;
    cr_assert_eq(h_read("admin", r)->principals->n_principals, 6); /* gw-1 gw-2 comm kiosk kiosk-2 smoke-1 */
}

/* ------------------------------------------------------------ the audit log */

Test(admin, the_audit_log_is_read_by_principal_target_and_time)
{
    const char *t = h_report_as("gw-1", GRID1);
    h_now += 60000;
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    assert_code(h_write("kiosk-yonganli", rq_ticket(CALL(FILE), t)), PERMISSION_DENIED);
    h_write("admin", rq_update_node(GRID1, "改名", false, false)); /* flushes the queued denial */

    Whistle__V1__Response *r = h_read("admin", rq_audit(NULL, t, 0, 0, 0, NULL));
    assert_ok(r);
    cr_assert_eq(r->audit->n_entries, 3, "report, file, and the refused file");
    cr_assert_str_eq(r->audit->entries[0]->call, "report");
    cr_assert_str_eq(r->audit->entries[0]->record_type, "whistle.v1.Event");
    cr_assert_gt(r->audit->entries[1]->before.len, 0);
    cr_assert(strstr(r->audit->entries[2]->denied, "file needs operator or admin"));

    r = h_read("admin", rq_audit("op-jianwai", NULL, 0, 0, 0, NULL));
    cr_assert_eq(r->audit->n_entries, 1);
    r = h_read("admin", rq_audit(NULL, t, T0 + 30000, 0, 0, NULL));
    cr_assert_eq(r->audit->n_entries, 2, "after the report's time");
    r = h_read("admin", rq_audit(NULL, NULL, 0, T0 + 1, 0, NULL));
    cr_assert_gt(r->audit->n_entries, 30, "the seed's records");
    for (size_t i = 0; i < r->audit->n_entries; i++)
        cr_assert_leq(r->audit->entries[i]->at_ms, T0 + 1);
    r = h_read("admin", rq_audit(NULL, "11010500100100*", 0, 0, 0, NULL));
    cr_assert_gt(r->audit->n_entries, 3, "a prefix reaches the grids' records");

    /* pages */
    size_t seen = 0;
    const char *cur = "";
    do {
        r = h_read("admin", rq_audit(NULL, NULL, 0, 0, 7, cur));
        assert_ok(r);
        seen += r->audit->n_entries;
        cur = r->audit->next_cursor;
    } while (*cur);
    cr_assert_eq(seen, h_read("admin", rq_audit(NULL, NULL, 0, 0, 1000, NULL))->audit->n_entries);
    assert_code(h_read("admin", rq_audit(NULL, NULL, 0, 0, 0, "zz")), INVALID_ARGUMENT);
    assert_code(h_read("op-jianwai", rq_audit(NULL, NULL, 0, 0, 0, NULL)), PERMISSION_DENIED);
}

/* issue 11, item 9: newest first, page by page, is the oldest-first
 * answer reversed, for every kind of filter; each order refuses the
 * other's cursor. */
Test(admin, the_audit_log_reads_newest_first)
{
    const char *t = h_report_as("gw-1", GRID1);
    h_now += 60000;
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    assert_code(h_write("kiosk-yonganli", rq_ticket(CALL(FILE), t)), PERMISSION_DENIED);
    h_report_as("gw-1", GRID1);
    h_write("admin", rq_update_node(GRID1, "改名", false, false)); /* flushes the queued denial */
    h_now += 60000;
    h_report_as("gw-1", GRID1);

    static const struct {
        const char *principal, *target;
        int64_t from, to;
    } q[] = {
        { NULL, NULL, 0, 0 },
        { "gw-1", NULL, 0, 0 },
        { NULL, GRID1, 0, 0 },
        { NULL, "E*", 0, 0 },
        { "op-jianwai", "E*", 0, 0 },
        { NULL, NULL, T0 + 1, T0 + 61000 },
        { NULL, "11010500100100*", 0, T0 + 1 },
    };
    for (size_t i = 0; i < sizeof q / sizeof *q; i++) {
        Whistle__V1__Response *all =
            h_read("admin", rq_audit(q[i].principal, q[i].target, q[i].from, q[i].to, 1000, NULL));
        assert_ok(all);
        size_t n = all->audit->n_entries, k = 0;
        cr_assert_gt(n, 0, "query %zu finds nothing", i);
        const char *cur = "";
        int pages = 0;
        do {
            Whistle__V1__Request *rq = rq_audit(q[i].principal, q[i].target, q[i].from, q[i].to, 3, cur);
            rq->query_audit->newest_first = true;
            Whistle__V1__Response *r = h_read("admin", rq);
            assert_ok(r);
            for (size_t j = 0; j < r->audit->n_entries; j++, k++) {
                cr_assert_lt(k, n, "query %zu: more newest first than oldest first", i);
                cr_assert_eq(r->audit->entries[j]->seq, all->audit->entries[n - 1 - k]->seq,
                             "query %zu, entry %zu: seq %llu, not %llu", i, k,
                             (unsigned long long)r->audit->entries[j]->seq,
                             (unsigned long long)all->audit->entries[n - 1 - k]->seq);
            }
            cur = r->audit->next_cursor;
            if (*cur)
                cr_assert_eq(cur[0], '-', "%s", cur);
        } while (*cur && ++pages < 1000);
        cr_assert_eq(k, n, "query %zu: %zu newest first, %zu oldest first", i, k, n);
    }
    /* a cursor is for its own order */
    Whistle__V1__Request *rq = rq_audit(NULL, NULL, 0, 0, 2, NULL);
    rq->query_audit->newest_first = true;
    const char *desc_cur = h_read("admin", rq)->audit->next_cursor;
    const char *asc_cur = h_read("admin", rq_audit(NULL, NULL, 0, 0, 2, NULL))->audit->next_cursor;
    assert_code(h_read("admin", rq_audit(NULL, NULL, 0, 0, 2, desc_cur)), INVALID_ARGUMENT);
    rq->query_audit->cursor = (char *)asc_cur;
    assert_code(h_read("admin", rq), INVALID_ARGUMENT);
}

static int reads_of(const char *target)
{
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0); /* takes the queue */
    cr_assert_eq(mdb_txn_commit(txn), 0);
    Whistle__V1__Response *r = h_read("admin", rq_audit(NULL, target, 0, 0, 0, NULL));
    int n = 0;
    for (size_t i = 0; i < r->audit->n_entries; i++)
        n += *r->audit->entries[i]->read != 0;
    return n;
}

Test(admin, reading_a_phone_is_audited_and_lists_carry_none)
{
    const char *t = report_with_phone("kiosk-yonganli", GRID1, "13800138000");
    cr_assert_str_eq(h_get("op-jianwai", t)->contact, "13800138000");
    cr_assert_eq(reads_of(t), 1);
    cr_assert_str_eq(h_get("gw-1", t)->contact, "");
    cr_assert_eq(reads_of(t), 1, "an answer without the phone is not a read of it");
    Whistle__V1__Response *r = h_read("op-jianwai", rq_list_events(0, NULL, 0, NULL));
    assert_ok(r);
    cr_assert_eq(r->events->n_events, 1);
    cr_assert_str_eq(r->events->events[0]->contact, "");
}

/* ------------------------------------------------------------ proposal, look-up */

Test(admin, the_catalogue_proposes_departments_and_limits)
{
    const char *t = h_report_as("gw-1", GRID1); /* 0101: urban, housing */
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PROPOSE_DEPARTMENTS);
    r->propose_departments = NEW(Whistle__V1__ProposeDepartments, whistle__v1__propose_departments__init);
    r->propose_departments->ticket = (char *)t;
    Whistle__V1__Response *resp = h_read("op-jianwai", r);
    assert_ok(resp);
    cr_assert_eq(resp->proposal->n_departments, 2);
    cr_assert_str_eq(resp->proposal->lead, "urban");
    cr_assert_eq(resp->proposal->limits->check_in->amount, 120);
    assert_ok(h_write("op-jianwai", rq_ticket(CALL(FILE), t)));
    assert_ok(h_write("op-jianwai", rq_whistle(t, 1, "urban")));
    resp = h_read("op-jianwai", r);
    cr_assert_eq(resp->proposal->n_departments, 1, "a department with a live order is not proposed again");
    cr_assert_str_eq(resp->proposal->departments[0], "housing");
    assert_code(h_read("op-chaowai", r), NOT_FOUND);
    r->propose_departments->ticket = "";
    r->propose_departments->category = "0501";
    r->propose_departments->priority = WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    resp = h_read("op-chaowai", r);
    assert_ok(resp);
    cr_assert_str_eq(resp->proposal->lead, "fire");
}

Test(admin, a_ticket_is_looked_up_with_the_phone_digits_only)
{
    const char *t = report_with_phone("kiosk-yonganli", GRID1, "138-0013-8000");
    Whistle__V1__Response *r = h_read("kiosk-2", rq_lookup(t, "8000"));
    assert_ok(r);
    cr_assert_str_eq(r->event->ticket, t);
    cr_assert_str_eq(r->event->contact, "", "the answer never holds the phone");
    cr_assert_gt(r->event->n_timeline, 0);
    r = h_read("kiosk-2", rq_lookup(t, "8001"));
    assert_code(r, NOT_FOUND);
    Whistle__V1__Response *missing = h_read("kiosk-2", rq_lookup("E2026112199999", "8001"));
    assert_code(missing, NOT_FOUND);
    cr_assert(strncmp(h_msg(r), "no ticket", 9) == 0 && strncmp(h_msg(missing), "no ticket", 9) == 0,
              "a wrong phone reads like a missing ticket");
    assert_code(h_read("kiosk-2", rq_lookup(t, "80")), INVALID_ARGUMENT);
    const char *nophone = h_report_as("gw-1", GRID1);
    assert_code(h_read("kiosk-2", rq_lookup(nophone, "0000")), NOT_FOUND);
    /* outside the scope, the right pair reads like a wrong one */
    r = h_read("op-chaowai", rq_lookup(t, "8000"));
    assert_code(r, NOT_FOUND);
    cr_assert(strstr(h_msg(r), "no ticket") && !strstr(h_msg(r), "110105"), "%s", h_msg(r));
    assert_code(h_read("gw-1", rq_lookup(t, "8000")), PERMISSION_DENIED);
}

/* ------------------------------------------------------------ admission list, tasks */

Test(admin, tasks_reach_a_community_only_through_its_admission_list)
{
    int64_t deadline = T0 + 7 * 86400000LL;
    Whistle__V1__Response *r = h_write("police", rq_push_task(YONGANLI, "survey", deadline));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "not on the admission list (准入清单) of community 110105001001");
    assert_msg_has(r, "it admits: nothing yet");

    const char *kinds[] = { "survey", "inspection" };
    assert_code(h_write("op-chaowai", rq_set_admission(YONGANLI, 2, kinds)), PERMISSION_DENIED);
    assert_code(h_write("police", rq_set_admission(YONGANLI, 2, kinds)), PERMISSION_DENIED);
    assert_ok(h_write("op-jianwai", rq_set_admission(YONGANLI, 2, kinds)));

    r = h_write("police", rq_push_task(YONGANLI, "fundraising", deadline));
    assert_code(r, PERMISSION_DENIED);
    assert_msg_has(r, "it admits: survey, inspection");
    assert_code(h_write("police", rq_push_task(YONGANLI, "survey", T0 - 1)), INVALID_ARGUMENT);
    assert_code(h_write("police", rq_push_task(GRID1, "survey", deadline)), INVALID_ARGUMENT);
    r = h_write("police", rq_push_task(YONGANLI, "survey", deadline));
    assert_ok(r);
    uint64_t id = r->task->id;
    cr_assert_str_eq(r->task->department, "police");
    cr_assert_eq(r->task->state, WHISTLE__V1__TASK_STATE__TASK_STATE_OPEN);
    assert_ok(h_write("op-jianwai", rq_push_task(YONGANLI, "inspection", deadline)));

    cr_assert_eq(h_read("comm-yonganli", rq_list_tasks(NULL))->tasks->n_tasks, 2);
    cr_assert_eq(h_read("police", rq_list_tasks(NULL))->tasks->n_tasks, 1, "a department sees what it pushed");
    cr_assert_eq(h_read("op-jianwai", rq_list_tasks(NULL))->tasks->n_tasks, 2);
    cr_assert_eq(h_read("op-chaowai", rq_list_tasks(NULL))->tasks->n_tasks, 0);
    assert_code(h_read("op-chaowai", rq_list_tasks(YONGANLI)), PERMISSION_DENIED);

    Whistle__V1__Request *done = h_req();
    done->call_case = CALL(COMPLETE_TASK);
    done->complete_task = NEW(Whistle__V1__CompleteTask, whistle__v1__complete_task__init);
    done->complete_task->task_id = id;
    done->complete_task->note = "42 households visited";
    assert_code(h_write("police", done), PERMISSION_DENIED);
    r = h_write("comm-yonganli", done);
    assert_ok(r);
    cr_assert_eq(r->task->state, WHISTLE__V1__TASK_STATE__TASK_STATE_DONE);
    cr_assert_str_eq(r->task->done_by, "comm-yonganli");
    assert_code(h_write("comm-yonganli", done), FAILED_PRECONDITION);

    Whistle__V1__Request *get = h_req();
    get->call_case = CALL(GET_ADMISSION_LIST);
    get->get_admission_list = NEW(Whistle__V1__GetAdmissionList, whistle__v1__get_admission_list__init);
    get->get_admission_list->community = YONGANLI;
    r = h_read("comm-yonganli", get);
    assert_ok(r);
    cr_assert_eq(r->admission->n_kinds, 2);
    cr_assert_str_eq(r->admission->updated_by, "op-jianwai");
    get->get_admission_list->community = JIXIANGLI;
    assert_code(h_read("comm-yonganli", get), PERMISSION_DENIED);
    cr_assert_eq(h_read("admin", get)->admission->n_kinds, 0, "no list: nothing admitted");
}

/* ------------------------------------------------------------ several grids */

Test(admin, a_grid_worker_with_several_grids_reaches_each_and_nothing_between)
{
    /* gw-2 holds its grid and one in the other street (一员多格) */
    Whistle__V1__Request *u = rq_update_principal("gw-2");
    char *scopes[] = { GRID2, "110105002001001" };
    u->update_principal->scopes = scopes;
    u->update_principal->n_scopes = 2;
    Whistle__V1__Response *r = h_write("admin", u);
    assert_ok(r);
    cr_assert_eq(r->principal->n_extra_scopes, 1);
    const char *here = h_report_as("gw-2", GRID2);
    const char *there = h_report_as("gw-2", "110105002001001");
    assert_code(h_write("gw-2", rq_report(GRID1, "0102", "the grid next door")), PERMISSION_DENIED);
    const char *other = h_report_as("gw-1", GRID1);
    r = h_read("gw-2", rq_list_events(0, NULL, 0, NULL));
    assert_ok(r);
    cr_assert_eq(r->events->n_events, 2, "both its grids, not gw-1's");
    cr_assert(!strcmp(r->events->events[0]->ticket, here) || !strcmp(r->events->events[1]->ticket, here));
    cr_assert(!strcmp(r->events->events[0]->ticket, there) || !strcmp(r->events->events[1]->ticket, there));
    assert_code(h_read("gw-2", rq_ticket(CALL(GET_EVENT), other)), NOT_FOUND);
    assert_ok(h_read("gw-2", rq_ticket(CALL(GET_EVENT), there)));

    /* the same from a principals file: several places in the scope column */
    Whistle__V1__Request *im = h_req();
    im->call_case = CALL(IMPORT_DIRECTORY);
    im->import_directory = NEW(Whistle__V1__ImportDirectory, whistle__v1__import_directory__init);
    const char *csv = "name,role,scope\ngw-9,grid_worker,\"110105001001001;110105001001002\"\n";
    im->import_directory->data.data = (uint8_t *)csv;
    im->import_directory->data.len = strlen(csv);
    im->import_directory->last = true;
    assert_ok(h_write("admin", im));
    MDB_txn *txn = store_read_begin(h_st);
    Whistle__V1__Principal *p = api_principal(h_st, txn, "gw-9", h_a);
    store_read_end(h_st);
    cr_assert_str_eq(p->scope, GRID1);
    cr_assert_eq(p->n_extra_scopes, 1);
    cr_assert_str_eq(p->extra_scopes[0], GRID2);
}
