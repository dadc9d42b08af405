/* board.c: see board.h. */
#include "board.h"

#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "deadline_rows.h"
#include "directory.h"
#include "event_record.h"
#include "field_limits.h"

#define BK(x) WHISTLE__V1__BOARD_KIND__BOARD_KIND_##x
#define NK(x) WHISTLE__V1__NODE_KIND__NODE_KIND_##x
#define DAY_MS 86400000LL
#define WINDOW_DEFAULT_MS (30 * DAY_MS)
#define WINDOW_MAX_MS (366 * DAY_MS)
#define LIST_MAX 200

static int notice_get(call *c, uint64_t id, Whistle__V1__BoardNotice **n, void **b, size_t *len)
{
    uint8_t *k = arena_alloc(c->a, 8);
    store_be64(k, id);
    int rc = id ? store_get_bytes(c->txn, c->st->arc_board, k, 8, c->a, b, len) : MDB_NOTFOUND;
    if (rc == MDB_NOTFOUND)
        return call_fail(c, CODE(NOT_FOUND), "no notice %llu", (unsigned long long)id);
    if (rc)
        return call_store_fail(c, rc, "reading a notice");
    *n = whistle__v1__board_notice__unpack(arena_allocator(c->a), *len, *b);
    return *n ? 0 : call_fail(c, CODE(DATA_LOSS), "notice %llu does not unpack", (unsigned long long)id);
}

static int notice_put(call *c, Whistle__V1__BoardNotice *n, const void *before, size_t blen)
{
    uint8_t *k = arena_alloc(c->a, 8);
    store_be64(k, n->id);
    int rc = store_put(c->txn, c->st->arc_board, k, 8, &n->base);
    if (!rc && !before) {
        size_t nl = strlen(n->node);
        uint8_t *ik = arena_alloc(c->a, nl + 9);
        memcpy(ik, n->node, nl);
        ik[nl] = '/';
        store_be64(ik + nl + 1, n->id);
        MDB_val kk = { nl + 9, ik }, vv = { 0, "" };
        rc = mdb_put(c->txn, c->st->arc_board_by_node, &kk, &vv, 0);
    }
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name,
                          arena_printf(c->a, "notice:%llu", (unsigned long long)n->id), before, blen, &n->base);
    return rc ? call_store_fail(c, rc, "saving a notice") : 0;
}

static const char *date_of(call *c, int64_t ms) { return arena_strndup(c->a, deadline_format(c, ms), 10); }

/* A closed case as the public may read it: nothing the resident wrote. */
static char *case_text(call *c, const Whistle__V1__Event *ev, const char *own)
{
    Whistle__V1__Category *k = directory_category_get(c->st, c->txn, ev->category, c->a);
    Whistle__V1__Node *n = directory_node_get(c->st, c->txn, ev->node, c->a);
    const char *zh =
        arena_printf(c->a, "诉求 %s（%s）在%s，%s 受理，%s 办结。", ev->ticket, k ? str0(k->name_zh) : ev->category,
                     n ? str0(n->name_zh) : ev->node, date_of(c, ev->created_ms), date_of(c, ev->closed_ms));
    const char *en =
        arena_printf(c->a, "Case %s (%s) at %s: reported %s, closed %s.", ev->ticket,
                     k && *str0(k->name_en) ? k->name_en : ev->category, n && *str0(n->name_en) ? n->name_en : ev->node,
                     date_of(c, ev->created_ms), date_of(c, ev->closed_ms));
    return arena_printf(c->a, "%s\n%s%s%s", zh, en, *own ? "\n" : "", own);
}

void board_post(call *c, const Whistle__V1__PostNotice *req)
{
    const Whistle__V1__BoardNotice *in = req->notice;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "notice is required");
        return;
    }
    const char *ticket = str0(in->ticket);
    if (check_text(c, "title", in->title, TITLE_MAX, true) ||
        check_text(c, "body", in->body, DESCRIPTION_MAX, !*ticket) ||
        check_text(c, "ticket", ticket, TICKET_MAX, false))
        return;
    if (in->kind < BK(UNSPECIFIED) || in->kind > BK(WORK_UPDATE)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "kind %d: 0 notice, 1 reply, 2 decision, 3 work update", in->kind);
        return;
    }
    Whistle__V1__Event *ev = NULL;
    if (*ticket) {
        event_snap snap;
        if (event_load(c, ticket, &ev, &snap))
            return;
        if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, ev->node)) {
            call_hide(
                c, ticket, arena_printf(c->a, "no case %s", ticket),
                "case %s is at %s, outside the scope %s (rule: a case is published by those whose scope holds it)",
                ticket, ev->node, str0(c->who->scope));
            return;
        }
        if (ev->state != WHISTLE__V1__EVENT_STATE__EVENT_STATE_CLOSED) {
            call_fail(c, CODE(FAILED_PRECONDITION), "case %s is %s; only a closed case is published", ticket,
                      event_state_name(ev->state));
            return;
        }
    }
    const char *node = str0(in->node);
    if (!*node && ev)
        node = arena_strndup(c->a, ev->node, strlen(ev->node) > 15 ? 15 : strlen(ev->node));
    Whistle__V1__Node *nd = digits_ok(node, strlen(node)) ? directory_node_get(c->st, c->txn, node, c->a) : NULL;
    if (!nd || nd->retired || nd->kind < NK(STREET) || nd->kind > NK(GRID)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\": a board belongs to a live street, community or grid",
                  node);
        return;
    }
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, node)) {
        call_deny(c, node, "node %s is outside your scope %s (rule: a board is written by those whose scope holds it)",
                  node, str0(c->who->scope));
        return;
    }
    int64_t from = in->from_ms ? in->from_ms : c->now;
    int64_t until = in->until_ms ? in->until_ms : from + WINDOW_DEFAULT_MS;
    if (until <= from || until - from > WINDOW_MAX_MS || until <= c->now) {
        call_fail(c, CODE(INVALID_ARGUMENT), "the window: until after from and after now, at most 366 days long");
        return;
    }
    if (in->reply_to) {
        Whistle__V1__BoardNotice *p;
        void *b;
        size_t l;
        if (notice_get(c, in->reply_to, &p, &b, &l))
            return;
    }
    Whistle__V1__BoardNotice *n = arena_alloc(c->a, sizeof *n);
    whistle__v1__board_notice__init(n);
    int rc = store_next_seq(c->txn, c->st, "arc_notice_seq", &n->id);
    if (rc) {
        call_store_fail(c, rc, "numbering a notice");
        return;
    }
    n->node = (char *)node;
    n->kind = ev && in->kind == BK(UNSPECIFIED) ? BK(REPLY) : in->kind;
    n->title = in->title;
    n->body = ev ? case_text(c, ev, str0(in->body)) : in->body;
    n->from_ms = from;
    n->until_ms = until;
    n->author = (char *)str0(c->who->name);
    n->ticket = (char *)ticket;
    n->posted_ms = c->now;
    n->reply_to = in->reply_to;
    if (notice_put(c, n, NULL, 0))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_NOTICE;
    c->resp->notice = n;
}

uint64_t board_publish(call *c, const char *node, Whistle__V1__BoardKind kind, const char *title, const char *body)
{
    Whistle__V1__BoardNotice *n = arena_alloc(c->a, sizeof *n);
    whistle__v1__board_notice__init(n);
    int rc = store_next_seq(c->txn, c->st, "arc_notice_seq", &n->id);
    if (rc)
        return call_store_fail(c, rc, "numbering a notice"), 0;
    n->node = (char *)node;
    n->kind = kind;
    n->title = (char *)title;
    n->body = (char *)body;
    n->from_ms = c->now;
    n->until_ms = c->now + WINDOW_DEFAULT_MS;
    n->author = (char *)str0(c->who->name);
    n->posted_ms = c->now;
    return notice_put(c, n, NULL, 0) ? 0 : n->id;
}

static int cmp_newest(const void *x, const void *y)
{
    const Whistle__V1__BoardNotice *a = *(void *const *)x, *b = *(void *const *)y;
    return a->id > b->id ? -1 : a->id < b->id;
}

/* Notices whose node starts with prefix (exact: only that node). */
static int scan(call *c, const char *prefix, bool exact, ptr_vec *out)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->arc_board_by_node, &cur);
    if (rc)
        return call_store_fail(c, rc, "reading the board");
    size_t pl = strlen(prefix);
    MDB_val k = { pl, (void *)prefix }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, pl ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl + 9 || memcmp(k.mv_data, prefix, pl) != 0)
            break;
        if (exact && k.mv_size != pl + 9)
            continue;
        Whistle__V1__BoardNotice *n;
        void *b;
        size_t len;
        if (notice_get(c, store_get_be64((const uint8_t *)k.mv_data + k.mv_size - 8), &n, &b, &len)) {
            mdb_cursor_close(cur);
            return -1;
        }
        ptr_vec_push(c->a, out, n);
    }
    mdb_cursor_close(cur);
    return 0;
}

void board_list(call *c, const Whistle__V1__ListBoard *req)
{
    const char *node = str0(req->node);
    if (!*node)
        node = c->who->role == ROLE(ADMIN) ? "" : principal_common_scope(c->who, c->a);
    if (*node && (!digits_ok(node, strlen(node)) || strlen(node) > 18)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a node code", node);
        return;
    }
    if (c->who->role != ROLE(ADMIN) && (!*node || !(principal_covers(c->who, node) || principal_below(c->who, node)))) {
        call_deny(c, node,
                  "node %s is outside your scope %s (rule: a board is read inside the caller's scope and "
                  "along the path above it)",
                  node, str0(c->who->scope));
        return;
    }
    bool inactive = req->include_inactive;
    if (inactive && c->who->role != ROLE(ADMIN) && c->who->role != ROLE(OPERATOR) && c->who->role != ROLE(COMMUNITY) &&
        c->who->role != ROLE(GRID_WORKER)) {
        call_deny(c, node, "role %s may not read withdrawn or expired notices (rule: only those who post them do)",
                  role_name(c->who->role));
        return;
    }
    ptr_vec all = { 0 };
    if (scan(c, node, false, &all))
        return;
    /* the places above: a community's board shows its street's notices */
    size_t nl = strlen(node);
    for (size_t len = 9; len < nl; len += 3) {
        if (len == 9 || len == 12) {
            if (scan(c, arena_strndup(c->a, node, len), true, &all))
                return;
        }
    }
    if (all.n)
        qsort(all.items, all.n, sizeof *all.items, cmp_newest);
    uint32_t limit = req->limit ? (req->limit > LIST_MAX ? LIST_MAX : req->limit) : 50;
    Whistle__V1__BoardList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__board_list__init(l);
    l->notices = arena_alloc(c->a, sizeof *l->notices * (limit + 1));
    for (size_t i = 0; i < all.n; i++) {
        Whistle__V1__BoardNotice *n = all.items[i];
        if (req->after_id && n->id >= req->after_id)
            continue;
        if (!inactive && (n->withdrawn || n->from_ms > c->now || n->until_ms <= c->now))
            continue;
        if (l->n_notices == limit) {
            l->next_after = l->notices[limit - 1]->id;
            break;
        }
        l->notices[l->n_notices++] = n;
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_BOARD;
    c->resp->board = l;
}

void board_withdraw(call *c, const Whistle__V1__WithdrawNotice *req)
{
    Whistle__V1__BoardNotice *n;
    void *b;
    size_t len;
    if (check_text(c, "reason", req->reason, 500, true) || notice_get(c, req->id, &n, &b, &len))
        return;
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, n->node)) {
        call_deny(c, arena_printf(c->a, "notice:%llu", (unsigned long long)n->id),
                  "notice %llu is at %s, outside your scope %s (rule: a notice is withdrawn by those whose scope holds "
                  "it)",
                  (unsigned long long)n->id, n->node, str0(c->who->scope));
        return;
    }
    if (n->withdrawn) {
        call_fail(c, CODE(FAILED_PRECONDITION), "notice %llu is already withdrawn", (unsigned long long)n->id);
        return;
    }
    n->withdrawn = true;
    n->withdraw_reason = req->reason;
    if (notice_put(c, n, b, len))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_NOTICE;
    c->resp->notice = n;
}
