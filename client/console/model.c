/* model.c: what the console knows: cases, orders, names, alerts and the
 * emergencies waiting for the operator. Records are kept as private copies
 * (packed and unpacked again), so that they outlive the response or push
 * that brought them; a copy is replaced only by a newer version. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s

static void *copy_msg(const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = malloc(n ? n : 1);
    if (!buf)
        abort();
    protobuf_c_message_pack(m, buf);
    void *out = protobuf_c_message_unpack(m->descriptor, NULL, n, buf);
    free(buf);
    if (!out)
        abort();
    return out;
}

static void grow(void **v, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return;
    size_t c = *cap ? *cap * 2 : 64;
    void *nv = realloc(*v, c * elem);
    if (!nv)
        abort();
    *v = nv;
    *cap = c;
}

Whistle__V1__Event *model_event(console *k, const char *ticket)
{
    for (size_t i = 0; i < k->n_cases; i++)
        if (strcmp(k->cases[i]->ticket, ticket) == 0)
            return k->cases[i];
    return NULL;
}

/* Whether b is newer than a: by version, or, from a server that does not
 * count versions, by time. */
static bool newer(uint64_t va, int64_t ta, uint64_t vb, int64_t tb)
{
    if (va || vb)
        return vb > va;
    return tb >= ta;
}

void model_put_event(console *k, const Whistle__V1__Event *e)
{
    if (!e || !e->ticket || !*e->ticket)
        return;
    for (size_t i = 0; i < k->n_cases; i++) {
        Whistle__V1__Event *old = k->cases[i];
        if (strcmp(old->ticket, e->ticket) != 0)
            continue;
        if (!newer(old->version, old->updated_ms, e->version, e->updated_ms))
            return;
        whistle__v1__event__free_unpacked(old, NULL);
        k->cases[i] = copy_msg(&e->base);
        return;
    }
    grow((void **)&k->cases, &k->cap_cases, k->n_cases, sizeof *k->cases);
    k->cases[k->n_cases++] = copy_msg(&e->base);
}

static int64_t order_time(const Whistle__V1__Order *o)
{
    int64_t t = o->created_ms;
    if (o->checked_in_ms > t)
        t = o->checked_in_ms;
    if (o->done_ms > t)
        t = o->done_ms;
    if (o->returned_ms > t)
        t = o->returned_ms;
    return t;
}

void model_put_order(console *k, const Whistle__V1__Order *o)
{
    if (!o || !o->id)
        return;
    for (size_t i = 0; i < k->n_orders; i++) {
        Whistle__V1__Order *old = k->orders[i];
        if (old->id != o->id)
            continue;
        if (!newer(old->version, order_time(old), o->version, order_time(o)))
            return;
        whistle__v1__order__free_unpacked(old, NULL);
        k->orders[i] = copy_msg(&o->base);
        return;
    }
    grow((void **)&k->orders, &k->cap_orders, k->n_orders, sizeof *k->orders);
    k->orders[k->n_orders++] = copy_msg(&o->base);
}

void model_names(named **v, size_t *n, const char *code, const char *name, const char *depts)
{
    named *nv = realloc(*v, (*n + 1) * sizeof *nv);
    if (!nv)
        abort();
    *v = nv;
    nv[*n].code = strdup(code ? code : "");
    nv[*n].name = strdup(name ? name : "");
    nv[*n].depts = strdup(depts ? depts : "");
    (*n)++;
}

const named *model_find(const named *v, size_t n, const char *code)
{
    for (size_t i = 0; code && i < n; i++)
        if (strcmp(v[i].code, code) == 0)
            return &v[i];
    return NULL;
}

static void free_names(named **v, size_t *n)
{
    for (size_t i = 0; i < *n; i++) {
        free((*v)[i].code);
        free((*v)[i].name);
        free((*v)[i].depts);
    }
    free(*v);
    *v = NULL;
    *n = 0;
}

void model_free(console *k)
{
    for (size_t i = 0; i < k->n_cases; i++)
        whistle__v1__event__free_unpacked(k->cases[i], NULL);
    for (size_t i = 0; i < k->n_orders; i++)
        whistle__v1__order__free_unpacked(k->orders[i], NULL);
    free(k->cases);
    free(k->orders);
    free(k->rows);
    free_names(&k->cats, &k->n_cats);
    free_names(&k->depts, &k->n_depts);
    free_names(&k->nodes, &k->n_nodes);
    whistle_response_free(k->stats_depts);
    whistle_response_free(k->stats_places);
    whistle_response_free(k->stats_archive);
    for (size_t i = 0; i < k->n_wishes; i++)
        whistle_response_free(k->wishes[i]);
}

void model_alert(console *k, int level, int64_t at_ms, const char *fmt, ...)
{
    alert *a = &k->alerts[k->n_alerts % MAX_ALERTS];
    k->n_alerts++;
    a->level = level;
    a->at_ms = at_ms;
    a->order_id = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(a->text, sizeof a->text, fmt, ap);
    va_end(ap);
}

void model_emergency(console *k, const char *ticket, uint64_t seq)
{
    for (size_t i = 0; i < k->n_acknowledged && i < MAX_EMERGENCIES; i++)
        if (strcmp(k->acknowledged[i], ticket) == 0)
            return;
    for (size_t i = 0; i < k->n_emergencies; i++)
        if (strcmp(k->emergencies[i].ticket, ticket) == 0)
            return;
    if (k->n_emergencies == MAX_EMERGENCIES)
        return; /* the screen is taken over already; the rest wait in the stream */
    snprintf(k->emergencies[k->n_emergencies].ticket, sizeof k->emergencies[0].ticket, "%s", ticket);
    k->emergencies[k->n_emergencies].seq = seq;
    k->n_emergencies++;
}

void model_acknowledge(console *k, const char *ticket)
{
    for (size_t i = 0; i < k->n_emergencies; i++) {
        if (strcmp(k->emergencies[i].ticket, ticket) != 0)
            continue;
        memmove(&k->emergencies[i], &k->emergencies[i + 1], (k->n_emergencies - i - 1) * sizeof k->emergencies[0]);
        k->n_emergencies--;
        break;
    }
    snprintf(k->acknowledged[k->n_acknowledged % MAX_EMERGENCIES], sizeof k->acknowledged[0], "%s", ticket);
    k->n_acknowledged++;
}

uint64_t model_ack_limit(const console *k)
{
    uint64_t lim = UINT64_MAX;
    for (size_t i = 0; i < k->n_emergencies; i++)
        if (k->emergencies[i].seq && k->emergencies[i].seq - 1 < lim)
            lim = k->emergencies[i].seq - 1;
    return lim;
}

int model_priority_level(const Whistle__V1__Event *e)
{
    switch (e->priority) {
    case WHISTLE__V1__PRIORITY__PRIORITY_URGENT: return 3;
    case WHISTLE__V1__PRIORITY__PRIORITY_HIGH: return 2;
    case WHISTLE__V1__PRIORITY__PRIORITY_LOW: return 0;
    default: return 1; /* normal, or unspecified (treated as normal) */
    }
}

bool model_case_open(const Whistle__V1__Event *e) { return e->state != ES(CLOSED) && e->state != ES(REJECTED); }

int64_t model_order_due(const Whistle__V1__Order *o, const char **what)
{
    *what = "";
    if (o->state == OS(PENDING)) {
        *what = "check-in";
        return o->check_in_due_ms;
    }
    if (o->state != OS(CHECKED_IN))
        return 0;
    *what = "resolve";
    int64_t due = o->resolve_due_ms;
    for (size_t i = 0; i < o->n_stages; i++) {
        const Whistle__V1__OrderStage *s = o->stages[i];
        if (s && !s->done_ms && s->due_ms && (!due || s->due_ms < due)) {
            due = s->due_ms;
            *what = "stage";
        }
    }
    return due;
}

/* ------------------------------------------------------------ the feed */

typedef struct sortkey {
    size_t idx;
    int rank;
    int64_t due;
    int64_t created;
} sortkey;

static int cmp_key(const void *a, const void *b)
{
    const sortkey *x = a, *y = b;
    if (x->rank != y->rank)
        return x->rank - y->rank;
    if (x->due != y->due)
        return x->due < y->due ? -1 : 1;
    if (x->created != y->created)
        return x->created > y->created ? -1 : 1;
    return 0;
}

static bool is_emergency(const console *k, const char *ticket)
{
    for (size_t i = 0; i < k->n_emergencies; i++)
        if (strcmp(k->emergencies[i].ticket, ticket) == 0)
            return true;
    return false;
}

static void add_row(console *k, size_t kase, const Whistle__V1__Order *o)
{
    grow((void **)&k->rows, &k->cap_rows, k->n_rows, sizeof *k->rows);
    k->rows[k->n_rows].kase = kase;
    k->rows[k->n_rows].order = o;
    k->n_rows++;
}

/* Orders by case, then id: a case's orders are a run, found by bisection. */
static int cmp_order(const void *a, const void *b)
{
    const Whistle__V1__Order *x = *(Whistle__V1__Order *const *)a, *y = *(Whistle__V1__Order *const *)b;
    int t = strcmp(x->ticket, y->ticket);
    if (t)
        return t;
    return x->id < y->id ? -1 : x->id > y->id;
}

static size_t first_order(const console *k, const char *ticket)
{
    size_t lo = 0, hi = k->n_orders;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (strcmp(k->orders[mid]->ticket, ticket) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A closed or rejected case leaves the model an hour after its last
 * change, with its orders, so that a console left running for weeks does
 * not grow. */
#define KEEP_FINISHED_MS (3600 * 1000LL)

static void prune(console *k, int64_t now)
{
    size_t w = 0;
    for (size_t i = 0; i < k->n_cases; i++) {
        Whistle__V1__Event *e = k->cases[i];
        if (!model_case_open(e) && e->updated_ms && e->updated_ms < now - KEEP_FINISHED_MS) {
            size_t o = first_order(k, e->ticket), end = o;
            while (end < k->n_orders && strcmp(k->orders[end]->ticket, e->ticket) == 0)
                whistle__v1__order__free_unpacked(k->orders[end++], NULL);
            memmove(k->orders + o, k->orders + end, (k->n_orders - end) * sizeof *k->orders);
            k->n_orders -= end - o;
            whistle__v1__event__free_unpacked(e, NULL);
            continue;
        }
        k->cases[w++] = e;
    }
    k->n_cases = w;
}

void model_rows(console *k)
{
    int64_t now = console_now(k);
    if (k->n_orders > 1)
        qsort(k->orders, k->n_orders, sizeof *k->orders, cmp_order);
    prune(k, now);
    sortkey *keys = calloc(k->n_cases + 1, sizeof *keys);
    if (!keys)
        abort();
    size_t n = 0;
    for (size_t i = 0; i < k->n_cases; i++) {
        const Whistle__V1__Event *e = k->cases[i];
        if (!model_case_open(e))
            continue;
        sortkey *s = &keys[n++];
        s->idx = i;
        s->created = e->created_ms;
        s->due = INT64_MAX;
        bool overdue = e->due_passed;
        if (e->state == ES(HANDLING) && e->due_ms)
            s->due = e->due_ms;
        for (size_t j = first_order(k, e->ticket); j < k->n_orders; j++) {
            const Whistle__V1__Order *o = k->orders[j];
            if (strcmp(o->ticket, e->ticket) != 0)
                break;
            const char *what;
            int64_t due = model_order_due(o, &what);
            if (due && due < s->due)
                s->due = due;
            if (due && (o->n_misses || due <= now))
                overdue = true;
        }
        /* An emergency nobody has taken up; then by priority, urgent first
         * whatever its state; within a priority the cases with late orders,
         * then the nearest deadline, then the newest. */
        s->rank = is_emergency(k, e->ticket) ? 0 : 1 + 2 * (3 - model_priority_level(e)) + (overdue ? 0 : 1);
    }
    if (n > 1)
        qsort(keys, n, sizeof *keys, cmp_key);
    k->n_rows = 0;
    for (size_t i = 0; i < n; i++) {
        const Whistle__V1__Event *e = k->cases[keys[i].idx];
        add_row(k, keys[i].idx, NULL);
        for (size_t j = first_order(k, e->ticket); j < k->n_orders; j++) {
            const Whistle__V1__Order *o = k->orders[j];
            if (strcmp(o->ticket, e->ticket) != 0)
                break;
            if (o->state != OS(RETURNED))
                add_row(k, keys[i].idx, o);
        }
    }
    free(keys);
    /* keep the selection on what was selected */
    size_t found = SIZE_MAX;
    for (size_t i = 0; i < k->n_rows && *k->sel_ticket; i++) {
        const row *r = &k->rows[i];
        if (strcmp(k->cases[r->kase]->ticket, k->sel_ticket) != 0)
            continue;
        if ((r->order ? r->order->id : 0) == k->sel_order) {
            found = i;
            break;
        }
        if (found == SIZE_MAX)
            found = i;
    }
    if (found != SIZE_MAX)
        k->sel = found;
    if (k->sel >= k->n_rows)
        k->sel = k->n_rows ? k->n_rows - 1 : 0;
    if (k->n_rows) {
        const row *r = &k->rows[k->sel];
        snprintf(k->sel_ticket, sizeof k->sel_ticket, "%s", k->cases[r->kase]->ticket);
        k->sel_order = r->order ? r->order->id : 0;
    }
}
