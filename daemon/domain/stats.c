/* stats.c: see stats.h. */
#include "stats.h"

#include <stdio.h>
#include <string.h>

#include "authz.h"
#include "calendar.h"
#include "deadline_rows.h"
#include "directory.h"
#include "stats_rows.h"

#define DIM(d) WHISTLE__V1__STATS_DIMENSION__STATS_DIMENSION_##d
#define PER(p) WHISTLE__V1__STATS_PERIOD__STATS_PERIOD_##p
#define MAX_ROWS 5000
#define MAX_CODES 64

static const char *dim_word(Whistle__V1__StatsDimension d)
{
    switch (d) {
    case DIM(DEPARTMENT): return "dept";
    case DIM(DISTRICT): return "district";
    case DIM(COMMUNITY): return "community";
    case DIM(GRID): return "grid";
    default: return "street";
    }
}

static size_t dim_code_len(Whistle__V1__StatsDimension d)
{
    switch (d) {
    case DIM(DISTRICT): return 6;
    case DIM(STREET): return 9;
    case DIM(COMMUNITY): return 12;
    case DIM(GRID): return 15;
    default: return 0;
    }
}

static int64_t *row_field(Whistle__V1__StatsRow *r, const char *metric)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field_by_name(&whistle__v1__stats_row__descriptor, metric);
    return f && f->type == PROTOBUF_C_TYPE_INT64 ? (int64_t *)((char *)r + f->offset) : NULL;
}

static double ratio(int64_t a, int64_t b) { return b > 0 ? (double)a / (double)b : -1; }

static void rates(Whistle__V1__StatsRow *r, bool dept)
{
    r->response_rate = ratio(r->checked_in_on_time, r->orders);
    r->satisfaction_rate = ratio(r->satisfied, r->rated);
    r->average_rating = ratio(r->rating_sum, r->rated);
    if (dept) {
        r->resolution_rate = ratio(r->done, r->orders);
        r->close_rate = -1;
        r->on_time_close_rate = ratio(r->done_on_time, r->orders);
        r->rework_rate = ratio(r->reworked_orders, r->orders);
        r->whistle_rate = -1;
    } else {
        r->resolution_rate = ratio(r->verified, r->filed);
        r->close_rate = ratio(r->closed, r->due);
        r->on_time_close_rate = ratio(r->closed_on_time, r->due);
        r->rework_rate = ratio(r->reworked, r->resolved);
        r->whistle_rate = ratio(r->whistled, r->filed);
    }
}

typedef struct query {
    call *c;
    Whistle__V1__StatsDimension by;
    char period; /* D, W or M */
    char from[16], to[16];
    bool totals;
    ptr_vec rows;
    bool too_many;
} query;

static Whistle__V1__StatsRow *new_row(query *q, const char *code, const char *name, const char *bucket)
{
    Whistle__V1__StatsRow *r = arena_alloc(q->c->a, sizeof *r);
    whistle__v1__stats_row__init(r);
    r->by = q->by;
    r->code = (char *)code;
    r->name = (char *)name;
    r->bucket = (char *)bucket;
    return r;
}

static void push_row(query *q, Whistle__V1__StatsRow *r)
{
    if (q->rows.n >= MAX_ROWS) {
        q->too_many = true;
        return;
    }
    rates(r, q->by == DIM(DEPARTMENT));
    ptr_vec_push(q->c->a, &q->rows, r);
}

static const char *name_of(query *q, const char *code)
{
    call *c = q->c;
    if (q->by == DIM(DEPARTMENT)) {
        Whistle__V1__Department *d = directory_department_get(c->st, c->txn, code, c->a);
        return d ? (*str0(d->name_zh) ? d->name_zh : str0(d->name_en)) : "";
    }
    Whistle__V1__Node *n = directory_node_get(c->st, c->txn, code, c->a);
    return n ? (*str0(n->name_zh) ? n->name_zh : str0(n->name_en)) : "";
}

/* Reads one code's buckets in [from, to]: rows in bucket order. */
static int read_code(query *q, const char *code)
{
    call *c = q->c;
    char prefix[96], start[128];
    int pl = snprintf(prefix, sizeof prefix, "%s:%s|", dim_word(q->by), code);
    snprintf(start, sizeof start, "%s%c%s", prefix, q->period, q->from);
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->stats, &cur);
    if (rc)
        return rc;
    const char *name = name_of(q, code);
    Whistle__V1__StatsRow *row = NULL, *total = q->totals ? new_row(q, code, name, "total") : NULL;
    char bucket[16] = "";
    MDB_val k = { strlen(start), start }, v;
    bool any = false;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        const char *kd = k.mv_data;
        if (k.mv_size <= (size_t)pl || memcmp(kd, prefix, (size_t)pl) != 0)
            break;
        const char *b = kd + pl, *bar = memchr(b, '|', k.mv_size - (size_t)pl);
        if (!bar || b[0] != q->period)
            break;
        size_t bl = (size_t)(bar - b);
        if (bl - 1 >= sizeof bucket || bl < 2)
            continue;
        char label[16];
        memcpy(label, b + 1, bl - 1);
        label[bl - 1] = 0;
        if (strcmp(label, q->to) > 0)
            break;
        if (!row || strcmp(label, bucket) != 0) {
            if (row)
                push_row(q, row);
            snprintf(bucket, sizeof bucket, "%s", label);
            row = new_row(q, code, name, arena_strdup(c->a, label));
        }
        char metric[48];
        size_t ml = k.mv_size - (size_t)(bar + 1 - kd);
        if (ml >= sizeof metric || v.mv_size != 8)
            continue;
        memcpy(metric, bar + 1, ml);
        metric[ml] = 0;
        int64_t val = (int64_t)store_get_be64(v.mv_data);
        int64_t *f = row_field(row, metric);
        if (f)
            *f += val;
        if (total && (f = row_field(total, metric)))
            *f += val;
        any = true;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    if (row)
        push_row(q, row);
    if (total && any)
        push_row(q, total);
    return 0;
}

/* Every code of the dimension that has counters, under a prefix. */
static int list_codes(query *q, const char *under, ptr_vec *codes)
{
    call *c = q->c;
    char seek[96];
    int pl = snprintf(seek, sizeof seek, "%s:%s", dim_word(q->by), under);
    size_t dl = strlen(dim_word(q->by)) + 1;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->stats, &cur);
    if (rc)
        return rc;
    MDB_val k = { (size_t)pl, seek }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0;) {
        const char *kd = k.mv_data;
        if (k.mv_size < (size_t)pl || memcmp(kd, seek, (size_t)pl) != 0)
            break;
        const char *bar = memchr(kd, '|', k.mv_size);
        if (!bar)
            break;
        char *code = arena_strndup(c->a, kd + dl, (size_t)(bar - kd) - dl);
        ptr_vec_push(c->a, codes, code);
        if (codes->n > MAX_ROWS)
            break;
        /* jump past this code: its keys all start "<dim>:<code>|" */
        char next[128];
        int nl = snprintf(next, sizeof next, "%.*s}", (int)(bar - kd), kd); /* '}' sorts after '|' */
        MDB_val nk = { (size_t)nl, next };
        k = nk;
        rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

static void label_of(char period, int32_t day, char *out, size_t len)
{
    int y, m, d;
    calendar_civil(day, &y, &m, &d);
    if (period == 'D')
        snprintf(out, len, "%04d-%02d-%02d", y, m, d);
    else if (period == 'M')
        snprintf(out, len, "%04d-%02d", y, m);
    else {
        int iy, w = stats_iso_week(day, &iy);
        snprintf(out, len, "%04d-W%02d", iy, w);
    }
}

void stats_get(call *c, const Whistle__V1__GetStats *req)
{
    if (authz_check(c, ""))
        return;
    query q = { .c = c, .totals = req->totals };
    q.by = req->by ? req->by : DIM(STREET);
    if (q.by < DIM(DEPARTMENT) || q.by > DIM(GRID)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "by %d is not a dimension (1 department, 2 district, 3 street, 4 community, 5 grid)", req->by);
        return;
    }
    Whistle__V1__StatsPeriod per = req->period ? req->period : PER(MONTH);
    if (per < PER(DAY) || per > PER(MONTH)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "period %d is not a period (1 day, 2 week, 3 month)", req->period);
        return;
    }
    q.period = per == PER(DAY) ? 'D' : per == PER(WEEK) ? 'W' : 'M';
    const calendar *cal = &deadline_policy_of(c->st)->cal;
    int32_t to_day, from_day;
    if (*str0(req->to)) {
        if (calendar_parse_date(req->to, &to_day)) {
            call_fail(c, CODE(INVALID_ARGUMENT), "to \"%s\" is not a date (YYYY-MM-DD)", req->to);
            return;
        }
    } else {
        to_day = calendar_day(cal, c->now);
    }
    if (*str0(req->from)) {
        if (calendar_parse_date(req->from, &from_day)) {
            call_fail(c, CODE(INVALID_ARGUMENT), "from \"%s\" is not a date (YYYY-MM-DD)", req->from);
            return;
        }
    } else {
        /* the last 14 days, 8 weeks or 12 months */
        int y, m, d;
        calendar_civil(to_day, &y, &m, &d);
        from_day = per == PER(DAY)    ? to_day - 13
                   : per == PER(WEEK) ? to_day - 7 * 7
                                      : calendar_day_of(m == 12 ? y : y - 1, m == 12 ? 1 : m + 1, 1);
    }
    if (from_day > to_day) {
        call_fail(c, CODE(INVALID_ARGUMENT), "from %s is after to %s", str0(req->from), str0(req->to));
        return;
    }
    label_of(q.period, from_day, q.from, sizeof q.from);
    label_of(q.period, to_day, q.to, sizeof q.to);

    /* Who may read what: a department its own counters; others the places
     * in their scope; operators and integrations also every department
     * (the street rates the departments it whistles). */
    const Whistle__V1__Principal *w = c->who;
    bool admin = w->role == ROLE(ADMIN);
    bool dept = q.by == DIM(DEPARTMENT);
    if (req->n_codes > MAX_CODES) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu codes; at most %d per query", req->n_codes, MAX_CODES);
        return;
    }
    if (w->role == ROLE(DEPARTMENT)) {
        if (!dept) {
            call_deny(c, dim_word(q.by),
                      "a department reads its own statistics only (rule: by department, its "
                      "own code)");
            return;
        }
        for (size_t i = 0; i < req->n_codes; i++)
            if (strcmp(str0(req->codes[i]), str0(w->department)) != 0) {
                call_deny(c, req->codes[i], "department %s may not read %s's statistics (rule: its own only)",
                          str0(w->department), req->codes[i]);
                return;
            }
    } else if (dept && !admin && w->role != ROLE(OPERATOR) && w->role != ROLE(INTEGRATION)) {
        call_deny(c, "dept",
                  "role %s may not read departments' statistics (rule: operators, integrations and "
                  "admins)",
                  role_name(w->role));
        return;
    }
    ptr_vec codes = { 0 };
    for (size_t i = 0; i < req->n_codes; i++) {
        const char *code = str0(req->codes[i]);
        bool ok = dept ? ident_ok(code, 32) : digits_ok(code, dim_code_len(q.by));
        if (!ok) {
            call_fail(c, CODE(INVALID_ARGUMENT), "\"%s\" is not a %s code%s", code, dim_word(q.by),
                      dept ? "" : arena_printf(c->a, " (%zu digits)", dim_code_len(q.by)));
            return;
        }
        if (!dept && !admin && !principal_covers(w, code)) {
            call_deny(c, code, "%s %s is outside your scope %s (rule: statistics of places in your scope)",
                      dim_word(q.by), code, str0(w->scope));
            return;
        }
        ptr_vec_push(c->a, &codes, (void *)code);
    }
    int rc = 0;
    if (!req->n_codes) {
        if (w->role == ROLE(DEPARTMENT))
            ptr_vec_push(c->a, &codes, (void *)str0(w->department));
        else if (dept || admin) {
            rc = list_codes(&q, "", &codes);
            /* the departments of the caller's district and the city's, not
             * another district's */
            size_t n = 0;
            for (size_t i = 0; dept && !admin && i < codes.n; i++) {
                Whistle__V1__Department *d = directory_department_get(c->st, c->txn, codes.items[i], c->a);
                if (d && directory_seen_by(w, d->scope))
                    codes.items[n++] = codes.items[i];
            }
            if (dept && !admin)
                codes.n = n;
        } else {
            /* each place the caller reaches (a grid worker may hold several);
             * a place dimension coarser than a scope has nothing in it */
            for (size_t i = 0; !rc && i <= w->n_extra_scopes; i++) {
                const char *under = i ? str0(w->extra_scopes[i - 1]) : str0(w->scope);
                if (*under && strlen(under) <= dim_code_len(q.by))
                    rc = list_codes(&q, under, &codes);
            }
        }
    }
    for (size_t i = 0; !rc && i < codes.n && !q.too_many; i++)
        rc = read_code(&q, codes.items[i]);
    if (rc) {
        call_store_fail(c, rc, "reading statistics");
        return;
    }
    if (q.too_many) {
        call_fail(c, CODE(RESOURCE_EXHAUSTED),
                  "more than %d rows; ask for fewer codes, a longer period or a shorter "
                  "range",
                  MAX_ROWS);
        return;
    }
    Whistle__V1__StatsResult *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__stats_result__init(r);
    r->rows = (Whistle__V1__StatsRow **)q.rows.items;
    r->n_rows = q.rows.n;
    r->period = per;
    r->from = arena_strdup(c->a, q.from);
    r->to = arena_strdup(c->a, q.to);
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_STATS;
    c->resp->stats = r;
}
