/* visit.c: see visit.h. */
#include "visit.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive.h"
#include "archive_record.h"
#include "audit.h"
#include "deadline_rows.h"
#include "directory.h"
#include "event.h"
#include "photo_record.h"
#include "stats_rows.h"

#define VK(x) WHISTLE__V1__VISIT_KIND__VISIT_KIND_##x
#define LIST_MAX 1000
#define BACKDATE_MAX_MS (90LL * ARC_DAY_MS)
#define FUTURE_SLACK_MS (5LL * 60 * 1000)

static const char *hh_target(call *c, uint64_t id)
{
    return arena_printf(c->a, "household:%llu", (unsigned long long)id);
}

void visit_record(call *c, const Whistle__V1__RecordVisit *req)
{
    if (req->kind < VK(UNSPECIFIED) || req->kind > VK(OTHER)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "kind %d is not a kind of visit (0 daily .. 8 other)", req->kind);
        return;
    }
    if (check_text(c, "notes", req->notes, ARC_NOTE_MAX, false) ||
        check_text(c, "follow_up", req->follow_up, ARC_NOTE_MAX, req->open_case))
        return;
    int64_t at = req->at_ms ? req->at_ms : c->now;
    if (at > c->now + FUTURE_SLACK_MS || at < c->now - BACKDATE_MAX_MS) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "at_ms: a visit is recorded when it happened, at most 90 days back and "
                  "not in the future");
        return;
    }
    Whistle__V1__ArchiveHousehold *h, *old;
    void *before;
    size_t blen;
    if (arc_household_get(c, req->household_id, &h, &before, &blen) ||
        archive_reach(c, h->node, hh_target(c, h->id),
                      arena_printf(c->a, "no household %llu", (unsigned long long)req->household_id)))
        return;
    old = whistle__v1__archive_household__unpack(arena_allocator(c->a), blen, before);
    Whistle__V1__Visit *v = arena_alloc(c->a, sizeof *v);
    whistle__v1__visit__init(v);
    v->household_id = h->id;
    v->node = h->node;
    v->at_ms = at;
    v->visitor = (char *)str0(c->who->name);
    v->kind = req->kind;
    v->notes = (char *)str0(req->notes);
    v->follow_up = (char *)str0(req->follow_up);
    v->recorded_ms = c->now;
    if (req->open_case) {
        /* The need becomes a case through the report path itself, in this
         * transaction: one step, and a refused report refuses the visit. The
         * resident's phone is not copied into the case. */
        Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
        rep.node = h->node;
        rep.category = (char *)str0(req->category);
        rep.description = (char *)req->follow_up;
        rep.external_id = (char *)"";
        rep.contact = (char *)"";
        event_report(c, &rep);
        if (c->resp->status && c->resp->status->code != CODE(OK))
            return;
        if (c->resp->result_case != WHISTLE__V1__RESPONSE__RESULT_EVENT || !c->resp->event) {
            call_fail(c, CODE(INTERNAL), "the report of the visit's need gave no case");
            return;
        }
        v->ticket = c->resp->event->ticket;
        c->resp->status = NULL;
        c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT__NOT_SET;
    }
    if (photo_check(c, req->photos, req->n_photos, 0))
        return;
    int rc = store_next_seq(c->txn, c->st, "arc_visit_seq", &v->id);
    if (rc) {
        call_store_fail(c, rc, "numbering a visit");
        return;
    }
    /* the visit's photos are the archive's (read as it is), not the case's */
    photo_owner ow = { .visit_id = v->id };
    if (photo_attach(c, req->photos, req->n_photos, WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_VISIT, &ow, &v->photos,
                     &v->n_photos))
        return;
    uint8_t *hk = arena_alloc(c->a, 16);
    store_be64(hk, h->id);
    store_be64(hk + 8, v->id);
    size_t nl = strlen(h->node);
    uint8_t *nk = arena_alloc(c->a, nl + 17);
    memcpy(nk, h->node, nl);
    nk[nl] = '/';
    store_be64(nk + nl + 1, (uint64_t)at);
    store_be64(nk + nl + 9, v->id);
    MDB_val k1 = { 16, hk }, k2 = { nl + 17, nk }, e = { 0, "" };
    rc = store_put(c->txn, c->st->arc_visits, arc_key64(c->a, v->id), 8, &v->base);
    if (!rc)
        rc = mdb_put(c->txn, c->st->arc_visit_by_hh, &k1, &e, 0);
    if (!rc)
        rc = mdb_put(c->txn, c->st->arc_visit_by_node, &k2, &e, 0);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name,
                          arena_printf(c->a, "visit:%llu", (unsigned long long)v->id), NULL, 0, &v->base);
    if (rc) {
        call_store_fail(c, rc, "saving a visit");
        return;
    }
    if (at > h->last_visit_ms) {
        h->last_visit_ms = at;
        if (arc_household_save(c, old, before, blen, h))
            return;
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VISIT;
    c->resp->visit = v;
}

/* The node a list starts from (the caller's scope when empty); NULL with
 * the status set. */
static const char *scope_node(call *c, const char *node)
{
    node = str0(node);
    if (!*node)
        node = c->who->role == ROLE(ADMIN) ? "" : principal_common_scope(c->who, c->a);
    if (*node && (!digits_ok(node, strlen(node)) || strlen(node) > 18)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a node code", node);
        return NULL;
    }
    if (c->who->role != ROLE(ADMIN) && (!*node || !principal_covers(c->who, node))) {
        call_deny(c, node,
                  "node %s is outside your scope %s (rule: the archive is read by the grid's own worker, its "
                  "community's workers and its street's operators)",
                  node, str0(c->who->scope));
        return NULL;
    }
    return node;
}

static int visit_get(call *c, uint64_t id, Whistle__V1__Visit **v)
{
    int rc =
        store_get(c->txn, c->st->arc_visits, arc_key64(c->a, id), 8, &whistle__v1__visit__descriptor, c->a, (void **)v);
    return rc ? call_store_fail(c, rc, "reading a visit") : 0;
}

static int cmp_visit_id(const void *x, const void *y)
{
    const Whistle__V1__Visit *a = *(void *const *)x, *b = *(void *const *)y;
    return a->id < b->id ? -1 : a->id > b->id;
}

void visit_list(call *c, const Whistle__V1__ListVisits *req)
{
    const char *node = NULL;
    uint32_t limit = req->limit ? (req->limit > LIST_MAX ? LIST_MAX : req->limit) : 100;
    int64_t to = req->to_ms ? req->to_ms : c->now;
    Whistle__V1__VisitList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__visit_list__init(l);
    ptr_vec out = { 0 };
    MDB_cursor *cur;
    int rc;
    if (req->household_id) {
        Whistle__V1__ArchiveHousehold *h;
        if (arc_household_get(c, req->household_id, &h, NULL, NULL) ||
            archive_reach(c, h->node, hh_target(c, h->id),
                          arena_printf(c->a, "no household %llu", (unsigned long long)req->household_id)))
            return;
        node = h->node;
        if ((rc = mdb_cursor_open(c->txn, c->st->arc_visit_by_hh, &cur))) {
            call_store_fail(c, rc, "reading visits");
            return;
        }
        uint8_t pre[16];
        store_be64(pre, h->id);
        store_be64(pre + 8, req->after_id + 1);
        MDB_val k = { 16, pre }, v;
        for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size != 16 || memcmp(k.mv_data, pre, 8) != 0)
                break;
            Whistle__V1__Visit *vi;
            if (visit_get(c, store_get_be64((const uint8_t *)k.mv_data + 8), &vi)) {
                mdb_cursor_close(cur);
                return;
            }
            if (vi->at_ms < req->from_ms || vi->at_ms > to)
                continue;
            if (out.n == limit) {
                l->next_after = ((Whistle__V1__Visit *)out.items[out.n - 1])->id;
                break;
            }
            ptr_vec_push(c->a, &out, vi);
        }
        mdb_cursor_close(cur);
    } else {
        if (!(node = scope_node(c, req->node)))
            return;
        /* node | '/' | at | id: the subtree, then the time range */
        if ((rc = mdb_cursor_open(c->txn, c->st->arc_visit_by_node, &cur))) {
            call_store_fail(c, rc, "reading visits");
            return;
        }
        size_t pl = strlen(node);
        MDB_val k = { pl, (void *)node }, v;
        for (rc = mdb_cursor_get(cur, &k, &v, pl ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (k.mv_size < pl + 17 || memcmp(k.mv_data, node, pl) != 0)
                break;
            const uint8_t *t = (const uint8_t *)k.mv_data + k.mv_size - 16;
            int64_t at = (int64_t)store_get_be64(t);
            uint64_t id = store_get_be64(t + 8);
            if (at < req->from_ms || at > to || id <= req->after_id)
                continue;
            Whistle__V1__Visit *vi;
            if (visit_get(c, id, &vi)) {
                mdb_cursor_close(cur);
                return;
            }
            ptr_vec_push(c->a, &out, vi);
            if (out.n >= LIST_MAX * 10)
                break;
        }
        mdb_cursor_close(cur);
        /* in the order recorded (ids), so after_id pages */
        if (out.n)
            qsort(out.items, out.n, sizeof *out.items, cmp_visit_id);
        if (out.n > limit) {
            out.n = limit;
            l->next_after = ((Whistle__V1__Visit *)out.items[limit - 1])->id;
        }
    }
    l->visits = (Whistle__V1__Visit **)out.items;
    l->n_visits = out.n;
    call_read_personal(c, req->household_id ? hh_target(c, req->household_id) : (*node ? node : "*"),
                       arena_printf(c->a, "%zu visits (notes)", out.n));
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_VISITS;
    c->resp->visits = l;
}

static int cmp_due(const void *x, const void *y)
{
    const Whistle__V1__ArchiveHousehold *a = *(void *const *)x, *b = *(void *const *)y;
    if (a->visit_due_ms != b->visit_due_ms)
        return a->visit_due_ms < b->visit_due_ms ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

/* Every household under node whose visit is due by before (all when
 * before is 0 and all is set). */
static int households_due(call *c, const char *node, int64_t before, ptr_vec *out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->arc_hh_by_node, &cur);
    if (rc)
        return call_store_fail(c, rc, "reading households");
    size_t pl = strlen(node);
    MDB_val k = { pl, (void *)node }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, pl ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl + 9 || memcmp(k.mv_data, node, pl) != 0)
            break;
        Whistle__V1__ArchiveHousehold *h;
        if (arc_household_get(c, store_get_be64((const uint8_t *)k.mv_data + k.mv_size - 8), &h, NULL, NULL)) {
            mdb_cursor_close(cur);
            return -1;
        }
        if (h->visit_due_ms > 0 && h->visit_due_ms <= before) {
            h->overdue = h->visit_due_ms <= c->now;
            ptr_vec_push(c->a, out, h);
        }
    }
    mdb_cursor_close(cur);
    if (out->n)
        qsort(out->items, out->n, sizeof *out->items, cmp_due);
    return 0;
}

void visit_list_due(call *c, const Whistle__V1__ListVisitsDue *req)
{
    const char *node = scope_node(c, req->node);
    if (!node)
        return;
    uint32_t limit = req->limit ? (req->limit > LIST_MAX ? LIST_MAX : req->limit) : 100;
    ptr_vec due = { 0 };
    if (households_due(c, node, req->before_ms ? req->before_ms : c->now, &due))
        return;
    Whistle__V1__HouseholdList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__household_list__init(l);
    l->households = (Whistle__V1__ArchiveHousehold **)due.items;
    l->n_households = due.n < limit ? due.n : limit;
    call_read_personal(c, *node ? node : "*",
                       arena_printf(c->a, "%zu households due a visit (addresses, care tags)", l->n_households));
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_HOUSEHOLDS;
    c->resp->households = l;
}

int visit_overdue(call *c, uint64_t household_id, int64_t due)
{
    Whistle__V1__ArchiveHousehold *h, *old;
    void *before;
    size_t blen;
    if (arc_household_get(c, household_id, &h, &before, &blen))
        return c->resp->status && c->resp->status->code == CODE(NOT_FOUND) ? 0 : -1;
    if (h->visit_due_ms != due || h->alerted_due_ms == due)
        return 0; /* stale: a visit or a new rhythm moved it on */
    old = whistle__v1__archive_household__unpack(arena_allocator(c->a), blen, before);
    h->alerted_due_ms = due;
    if (arc_household_save(c, old, before, blen, h))
        return -1;
    Whistle__V1__VisitOverdue *vo = arena_alloc(c->a, sizeof *vo);
    whistle__v1__visit_overdue__init(vo);
    vo->household_id = h->id;
    vo->node = h->node;
    vo->due_ms = due;
    /* the care tags tell the street why the visit matters */
    size_t nt = h->n_tags + h->n_member_tags;
    vo->tags = arena_alloc(c->a, sizeof *vo->tags * (nt + 1));
    for (size_t i = 0; i < h->n_tags; i++)
        vo->tags[vo->n_tags++] = h->tags[i];
    for (size_t i = 0; i < h->n_member_tags; i++)
        vo->tags[vo->n_tags++] = h->member_tags[i];
    Whistle__V1__Push *p = arena_alloc(c->a, sizeof *p);
    whistle__v1__push__init(p);
    p->action = (char *)"visit_overdue";
    p->actor = (char *)str0(c->who->name);
    p->visit_overdue = vo;
    int rc = stream_append(c->st, c->txn, arena_printf(c->a, "street:%.9s", h->node), c->now, p, c->touched);
    return rc ? call_store_fail(c, rc, "pushing an overdue visit") : 0;
}

/* ------------------------------------------------------------ statistics */

typedef struct counter {
    const char *measure, *code, *bucket;
    uint64_t n;
} counter;

static void bump(call *c, ptr_vec *v, const char *measure, const char *code, const char *bucket)
{
    for (size_t i = 0; i < v->n; i++) {
        counter *k = v->items[i];
        if (strcmp(k->measure, measure) == 0 && strcmp(k->code, code) == 0 && strcmp(k->bucket, bucket) == 0) {
            k->n++;
            return;
        }
    }
    counter *k = arena_alloc(c->a, sizeof *k);
    *k = (counter){ measure, arena_strdup(c->a, code), arena_strdup(c->a, bucket), 1 };
    ptr_vec_push(c->a, v, k);
}

static int cmp_counter(const void *x, const void *y)
{
    const counter *a = *(void *const *)x, *b = *(void *const *)y;
    int r = strcmp(a->measure, b->measure);
    if (!r)
        r = strcmp(a->code, b->code);
    return r ? r : strcmp(a->bucket, b->bucket);
}

void visit_stats(call *c, const Whistle__V1__GetArchiveStats *req)
{
    const char *node = scope_node(c, req->node);
    if (!node)
        return;
    int week = req->period == WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_WEEK;
    if (req->period == WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_DAY || req->period < 0 ||
        req->period > WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_MONTH) {
        call_fail(c, CODE(INVALID_ARGUMENT), "period: week or month");
        return;
    }
    int64_t from = c->now - 90 * ARC_DAY_MS, to = c->now;
    int32_t day;
    if (*str0(req->from)) {
        if (calendar_parse_date(req->from, &day)) {
            call_fail(c, CODE(INVALID_ARGUMENT), "from: YYYY-MM-DD");
            return;
        }
        from = calendar_day_start(&deadline_policy_of(c->st)->cal, day);
    }
    if (*str0(req->to)) {
        if (calendar_parse_date(req->to, &day)) {
            call_fail(c, CODE(INVALID_ARGUMENT), "to: YYYY-MM-DD");
            return;
        }
        to = calendar_day_start(&deadline_policy_of(c->st)->cal, day + 1) - 1;
    }
    ptr_vec rows = { 0 };
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->arc_visit_by_node, &cur);
    if (rc) {
        call_store_fail(c, rc, "reading visits");
        return;
    }
    size_t pl = strlen(node);
    MDB_val k = { pl, (void *)node }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, pl ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl + 17 || memcmp(k.mv_data, node, pl) != 0)
            break;
        const uint8_t *t = (const uint8_t *)k.mv_data + k.mv_size - 16;
        int64_t at = (int64_t)store_get_be64(t);
        if (at < from || at > to)
            continue;
        Whistle__V1__Visit *vi;
        if (visit_get(c, store_get_be64(t + 8), &vi)) {
            mdb_cursor_close(cur);
            return;
        }
        char b[3][16];
        stats_buckets(c->st, at, b);
        const char *bucket = week ? b[1] + 1 : b[2] + 1;
        bump(c, &rows, "visits_by_worker", str0(vi->visitor), bucket);
        bump(c, &rows, "visits_by_grid", arena_strndup(c->a, vi->node, 15), bucket);
    }
    mdb_cursor_close(cur);
    ptr_vec all = { 0 };
    if (households_due(c, node, INT64_MAX, &all))
        return;
    for (size_t i = 0; i < all.n; i++) {
        Whistle__V1__ArchiveHousehold *h = all.items[i];
        if (h->visit_due_ms <= c->now)
            bump(c, &rows, "overdue", arena_strndup(c->a, h->node, 15), "now");
    }
    /* households per tag: every household under node */
    if ((rc = mdb_cursor_open(c->txn, c->st->arc_hh_by_node, &cur))) {
        call_store_fail(c, rc, "reading households");
        return;
    }
    k = (MDB_val){ pl, (void *)node };
    for (rc = mdb_cursor_get(cur, &k, &v, pl ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl + 9 || memcmp(k.mv_data, node, pl) != 0)
            break;
        Whistle__V1__ArchiveHousehold *h;
        if (arc_household_get(c, store_get_be64((const uint8_t *)k.mv_data + k.mv_size - 8), &h, NULL, NULL)) {
            mdb_cursor_close(cur);
            return;
        }
        bump(c, &rows, "households", "all", "now");
        for (size_t i = 0; i < h->n_tags + h->n_member_tags; i++) {
            const char *t = i < h->n_tags ? h->tags[i] : h->member_tags[i - h->n_tags];
            bool dup = false;
            for (size_t j = 0; !dup && j < i; j++)
                dup = strcmp(t, j < h->n_tags ? h->tags[j] : h->member_tags[j - h->n_tags]) == 0;
            if (!dup)
                bump(c, &rows, "households_by_tag", t, "now");
        }
    }
    mdb_cursor_close(cur);
    if (rows.n)
        qsort(rows.items, rows.n, sizeof *rows.items, cmp_counter);
    Whistle__V1__ArchiveStatsResult *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__archive_stats_result__init(r);
    r->rows = arena_alloc(c->a, sizeof *r->rows * (rows.n + 1));
    for (size_t i = 0; i < rows.n; i++) {
        counter *k2 = rows.items[i];
        Whistle__V1__ArchiveStatsRow *row = arena_alloc(c->a, sizeof *row);
        whistle__v1__archive_stats_row__init(row);
        row->measure = (char *)k2->measure;
        row->code = (char *)k2->code;
        row->bucket = (char *)k2->bucket;
        row->count = k2->n;
        r->rows[r->n_rows++] = row;
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ARCHIVE_STATS;
    c->resp->archive_stats = r;
}
