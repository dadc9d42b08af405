/* deadline_rows.c: see deadline_rows.h. */
#include "deadline_rows.h"

#include <string.h>

#include "directory.h"
#include "field_limits.h"

#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define UNIT(u) WHISTLE__V1__TIME_UNIT__TIME_UNIT_##u
#define MAX_STAGES 16
#define MAX_ROWS (3 + MAX_STAGES)

const deadline_policy *deadline_policy_of(const store *st) { return st && st->policy ? st->policy : &policy_default; }

static const calendar *cal_of(call *c) { return &deadline_policy_of(c->st)->cal; }

const char *deadline_format(call *c, int64_t ms)
{
    if (!ms)
        return arena_strdup(c->a, "none");
    const calendar *cal = cal_of(c);
    int32_t day = calendar_day(cal, ms);
    int y, m, d;
    calendar_civil(day, &y, &m, &d);
    int64_t into = ms - calendar_day_start(cal, day);
    return arena_printf(c->a, "%04d-%02d-%02d %02d:%02d", y, m, d, (int)(into / 3600000), (int)(into / 60000 % 60));
}

/* ------------------------------------------------------------ limits */

static bool limit_set(const Whistle__V1__TimeLimit *l)
{
    return l && l->amount > 0 && l->unit >= UNIT(MINUTES) && l->unit <= UNIT(WORKING_DAYS);
}

static void limit_make(Whistle__V1__TimeLimit *l, uint32_t amount, Whistle__V1__TimeUnit unit)
{
    whistle__v1__time_limit__init(l);
    l->amount = amount;
    l->unit = amount ? unit : UNIT(UNSPECIFIED);
}

void deadline_limits(const deadline_policy *p, const Whistle__V1__Category *cat, Whistle__V1__Priority prio,
                     Whistle__V1__WhistleKind kind, arena *a, Whistle__V1__TimeLimit *check_in,
                     Whistle__V1__TimeLimit *resolve)
{
    /* The catalogue's limits for the priority (directory.c: its own entry,
     * else the category's default, else its plain minutes and hours), then
     * the policy's defaults for what the catalogue leaves at none. */
    limit_make(check_in, p->default_check_in_minutes, UNIT(MINUTES));
    limit_make(resolve, p->default_resolve_hours, UNIT(HOURS));
    if (cat) {
        Whistle__V1__PriorityLimits *l = directory_limits_for(cat, prio, a);
        if (limit_set(l->check_in))
            *check_in = *l->check_in;
        if (limit_set(l->resolve))
            *resolve = *l->resolve;
    }
    /* An emergency whistle: check in within emergency_check_in_minutes (30
     * by default) by the clock, whatever the category says; an emergency
     * does not wait for the working day. */
    if (kind == WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_EMERGENCY) {
        uint32_t em = p->emergency_check_in_minutes;
        bool shorter = (check_in->unit == UNIT(MINUTES) && check_in->amount <= em) ||
                       (check_in->unit == UNIT(HOURS) && (uint64_t)check_in->amount * 60 <= em);
        if (!limit_set(check_in) || !shorter)
            limit_make(check_in, em, UNIT(MINUTES));
    }
}

Whistle__V1__TimeLimit *deadline_limit_copy(arena *a, const Whistle__V1__TimeLimit *l)
{
    if (!limit_set(l))
        return NULL;
    Whistle__V1__TimeLimit *n = arena_alloc(a, sizeof *n);
    *n = *l;
    return n;
}

int deadline_order_init(call *c, const Whistle__V1__Event *ev, Whistle__V1__Order *o)
{
    const deadline_policy *p = deadline_policy_of(c->st);
    Whistle__V1__Category *cat = directory_category_get(c->st, c->txn, ev->category, c->a);
    Whistle__V1__TimeLimit ci, rs;
    deadline_limits(p, cat, ev->priority, o->kind, c->a, &ci, &rs);
    o->check_in_limit = deadline_limit_copy(c->a, &ci);
    o->resolve_limit = deadline_limit_copy(c->a, &rs);
    o->check_in_due_ms = calendar_add(&p->cal, c->now, &ci);
    o->resolve_due_ms = calendar_add(&p->cal, c->now, &rs);
    o->parked = ev->parked;
    size_t ns = cat ? cat->n_stages : 0;
    if (ns > MAX_STAGES)
        ns = MAX_STAGES;
    o->n_stages = 0;
    o->stages = ns ? arena_alloc(c->a, ns * sizeof *o->stages) : NULL;
    for (size_t i = 0; i < ns; i++) {
        const Whistle__V1__Stage *s = cat->stages[i];
        if (!s)
            continue;
        Whistle__V1__OrderStage *os = arena_alloc(c->a, sizeof *os);
        whistle__v1__order_stage__init(os);
        os->name_zh = (char *)str0(s->name_zh);
        os->name_en = (char *)str0(s->name_en);
        os->due_ms = calendar_add(&p->cal, c->now, s->limit);
        o->stages[o->n_stages++] = os;
    }
    return 0;
}

void deadline_order_restart(call *c, Whistle__V1__Order *o)
{
    o->resolve_due_ms = calendar_add(cal_of(c), c->now, o->resolve_limit);
    o->follow_up_ms = 0;
    o->follow_up = (char *)"";
}

/* ------------------------------------------------------------ rows */

typedef struct dl_row {
    int64_t due;
    uint8_t kind;
    uint8_t stage;
    uint64_t order;
    const char *ticket;
} dl_row;

static size_t row_key(const dl_row *r, uint8_t *key)
{
    store_be64(key, (uint64_t)r->due);
    key[8] = r->kind;
    if (r->kind == DL_CASE) {
        size_t n = strlen(r->ticket);
        memcpy(key + 9, r->ticket, n);
        return 9 + n;
    }
    store_be64(key + 9, r->order);
    if (r->kind == DL_STAGE) {
        key[17] = r->stage;
        return 18;
    }
    return 17;
}

static bool row_eq(const dl_row *a, const dl_row *b)
{
    uint8_t ka[9 + TICKET_MAX + 1], kb[9 + TICKET_MAX + 1];
    size_t la = row_key(a, ka), lb = row_key(b, kb);
    return la == lb && memcmp(ka, kb, la) == 0;
}

bool deadline_order_missed(const Whistle__V1__Order *o, const char *kind, int64_t due, uint32_t stage)
{
    for (size_t i = 0; i < o->n_misses; i++) {
        const Whistle__V1__Miss *m = o->misses[i];
        if (m && strcmp(str0(m->kind), kind) == 0 && m->due_ms == due && m->stage == stage)
            return true;
    }
    return false;
}

bool deadline_order_running(const Whistle__V1__Order *o)
{
    return o->state == OS(PENDING) || o->state == OS(CHECKED_IN);
}

/* The rows an order's record calls for: every deadline that runs and has
 * not been missed yet. A parked case runs none. */
static size_t order_rows(const Whistle__V1__Order *o, dl_row *out)
{
    size_t n = 0;
    if (!o || o->parked || !deadline_order_running(o))
        return 0;
    if (o->state == OS(PENDING) && o->check_in_due_ms && !deadline_order_missed(o, "check_in", o->check_in_due_ms, 0))
        out[n++] = (dl_row){ o->check_in_due_ms, DL_CHECK_IN, 0, o->id, NULL };
    if (o->resolve_due_ms && !deadline_order_missed(o, "resolve", o->resolve_due_ms, 0))
        out[n++] = (dl_row){ o->resolve_due_ms, DL_RESOLVE, 0, o->id, NULL };
    for (size_t i = 0; i < o->n_stages && i < MAX_STAGES; i++) {
        const Whistle__V1__OrderStage *s = o->stages[i];
        if (s && s->due_ms && !s->done_ms && !deadline_order_missed(o, "stage", s->due_ms, (uint32_t)i + 1))
            out[n++] = (dl_row){ s->due_ms, DL_STAGE, (uint8_t)(i + 1), o->id, NULL };
    }
    if (o->follow_up_ms && (strcmp(str0(o->follow_up), "check_in") != 0 || o->state == OS(PENDING)))
        out[n++] = (dl_row){ o->follow_up_ms, DL_FOLLOW_UP, 0, o->id, NULL };
    return n;
}

/* A case's own row: its due time, until it closes (for the close rates and
 * for locally handled cases, which have no orders to watch). */
static size_t event_rows(const Whistle__V1__Event *ev, dl_row *out)
{
    if (!ev || !ev->due_ms || ev->due_passed || ev->parked || ev->state == ES(CLOSED) || ev->state == ES(REJECTED) ||
        strlen(ev->ticket) > TICKET_MAX)
        return 0;
    out[0] = (dl_row){ ev->due_ms, DL_CASE, 0, 0, ev->ticket };
    return 1;
}

_Static_assert(9 + TICKET_MAX + 1 == DEADLINE_KEY_MAX, "deadline key size");
_Static_assert(MAX_ROWS == DEADLINE_ROWS_MAX, "deadline rows per order");

size_t deadline_order_keys(const Whistle__V1__Order *o, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens)
{
    dl_row rows[MAX_ROWS];
    size_t n = order_rows(o, rows);
    for (size_t i = 0; i < n; i++)
        lens[i] = row_key(&rows[i], keys[i]);
    return n;
}

size_t deadline_event_keys(const Whistle__V1__Event *ev, uint8_t keys[][DEADLINE_KEY_MAX], size_t *lens)
{
    dl_row rows[1];
    size_t n = event_rows(ev, rows);
    for (size_t i = 0; i < n; i++)
        lens[i] = row_key(&rows[i], keys[i]);
    return n;
}

static int rows_apply(call *c, const dl_row *before, size_t nb, const dl_row *after, size_t na)
{
    uint8_t key[9 + TICKET_MAX + 1];
    for (size_t i = 0; i < nb; i++) {
        bool keep = false;
        for (size_t j = 0; j < na && !keep; j++)
            keep = row_eq(&before[i], &after[j]);
        if (keep)
            continue;
        MDB_val k = { row_key(&before[i], key), key };
        int rc = mdb_del(c->txn, c->st->deadlines, &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return call_store_fail(c, rc, "removing a deadline");
    }
    for (size_t j = 0; j < na; j++) {
        bool had = false;
        for (size_t i = 0; i < nb && !had; i++)
            had = row_eq(&before[i], &after[j]);
        if (had)
            continue;
        MDB_val k = { row_key(&after[j], key), key }, v = { 0, "" };
        int rc = mdb_put(c->txn, c->st->deadlines, &k, &v, 0);
        if (rc)
            return call_store_fail(c, rc, "recording a deadline");
    }
    return 0;
}

int deadline_event_changed(call *c, const Whistle__V1__Event *old, const Whistle__V1__Event *ev)
{
    dl_row before[1], after[1];
    size_t nb = event_rows(old, before), na = event_rows(ev, after);
    return rows_apply(c, before, nb, after, na);
}

int deadline_order_changed(call *c, const Whistle__V1__Order *old, const Whistle__V1__Order *o)
{
    dl_row before[MAX_ROWS], after[MAX_ROWS];
    size_t nb = order_rows(old, before), na = order_rows(o, after);
    return rows_apply(c, before, nb, after, na);
}
