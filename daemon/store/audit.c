/* audit.c: see audit.h. */
#include "audit.h"
#include "log.h"
#include "text.h"
#include "whistle/v1/whistle.pb-c.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A record waiting in the queue: a denial (rule set) or a read (read set).
 * count > 1: an aggregate of that many, from at_ms to last_ms. */
struct denial {
    struct denial *next;
    int64_t at_ms, last_ms;
    uint64_t count;
    char *principal, *call, *target, *rule, *read, *via;
};

/* The queue: up to AUDIT_QUEUE_MAX records in order, then aggregates by
 * principal, call, rule and read (an open-addressing table of
 * AUDIT_AGG_MAX slots), then one aggregate of whatever is left ("rest").
 * audit_flush_denials takes all three. */
struct audit_queue {
    pthread_mutex_t mu;
    struct denial *head, **tail;
    size_t n;
    struct denial *agg[AUDIT_AGG_MAX];
    size_t n_agg;
    struct denial *rest[2]; /* beyond the aggregates: denials, reads */
    uint64_t folded;        /* records folded into aggregates since the last flush */
};

static struct audit_queue *audit_queue_new(void)
{
    struct audit_queue *q = calloc(1, sizeof *q);
    if (!q)
        log_oom("the audit's queue");
    pthread_mutex_init(&q->mu, NULL);
    q->tail = &q->head;
    return q;
}

static void denial_free(struct denial *d)
{
    free(d->principal);
    free(d->call);
    free(d->target);
    free(d->rule);
    free(d->read);
    free(d->via);
    free(d);
}

static void list_free(struct denial *d)
{
    for (struct denial *n; d; d = n) {
        n = d->next;
        denial_free(d);
    }
}

static void audit_queue_free(struct audit_queue *q)
{
    if (!q)
        return;
    list_free(q->head);
    for (size_t i = 0; i < AUDIT_AGG_MAX; i++)
        if (q->agg[i])
            denial_free(q->agg[i]);
    for (int i = 0; i < 2; i++)
        if (q->rest[i])
            denial_free(q->rest[i]);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

size_t audit_queue_len(struct audit_queue *q)
{
    if (!q)
        return 0;
    pthread_mutex_lock(&q->mu);
    size_t n = q->n + q->n_agg + (q->rest[0] != NULL) + (q->rest[1] != NULL);
    pthread_mutex_unlock(&q->mu);
    return n;
}

static char *dup0(const char *s) { return strdup(s ? s : ""); }

/* The gateway the calling thread's call is made through (audit_via_set). */
static _Thread_local const char *thread_via;

const char *audit_via_set(const char *via)
{
    const char *was = thread_via;
    thread_via = via && *via ? via : NULL;
    return was;
}

const char *audit_via(void) { return thread_via ? thread_via : ""; }

static struct denial *denial_new(int64_t now_ms, const char *principal, const char *call, const char *target,
                                 const char *rule, const char *read)
{
    struct denial *d = calloc(1, sizeof *d);
    if (!d)
        log_oom("a queued denial");
    d->at_ms = d->last_ms = now_ms;
    d->count = 1;
    d->principal = dup0(principal);
    d->call = dup0(call);
    d->target = dup0(target);
    d->rule = dup0(rule);
    d->read = dup0(read);
    d->via = dup0(thread_via);
    if (!d->principal || !d->call || !d->target || !d->rule || !d->read || !d->via)
        log_oom("a queued denial");
    return d;
}

static uint32_t fnv(uint32_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 16777619u;
    return (h ^ 0xff) * 16777619u; /* a separator, so that "ab"+"c" is not "a"+"bc" */
}

static bool same(const struct denial *d, const char *principal, const char *call, const char *rule, const char *read)
{
    return !strcmp(d->principal, principal ? principal : "") && !strcmp(d->call, call ? call : "") &&
           !strcmp(d->rule, rule ? rule : "") && !strcmp(d->read, read ? read : "") && !strcmp(d->via, audit_via());
}

/* Folds one more record into its aggregate (called with q->mu held, the
 * queue full). */
static void fold(struct audit_queue *q, int64_t now_ms, const char *principal, const char *call, const char *target,
                 const char *rule, const char *read)
{
    if (q->folded++ % 1000 == 0)
        log_warn("audit: more than %d denials and reads wait to be written; further ones are kept as counts per "
                 "principal, call and rule (%llu so far)",
                 AUDIT_QUEUE_MAX, (unsigned long long)q->folded);
    uint32_t h = fnv(fnv(fnv(fnv(2166136261u, principal), call), rule), read) % AUDIT_AGG_MAX;
    for (size_t probe = 0; probe < AUDIT_AGG_MAX; probe++) {
        struct denial **slot = &q->agg[(h + probe) % AUDIT_AGG_MAX];
        if (*slot && same(*slot, principal, call, rule, read)) {
            (*slot)->count++;
            (*slot)->last_ms = now_ms;
            return;
        }
        if (!*slot) {
            if (q->n_agg * 4 >= AUDIT_AGG_MAX * 3)
                break; /* three quarters full: probing would get long */
            *slot = denial_new(now_ms, principal, call, target, rule, read);
            q->n_agg++;
            return;
        }
    }
    int r = *str0(rule) ? 0 : 1;
    if (!q->rest[r]) {
        q->rest[r] = denial_new(now_ms, "", "", "",
                                r ? "" : "denials beyond the audit queue's room, of many principals, calls and rules",
                                r ? "reads beyond the audit queue's room, of many principals and calls" : "");
        q->rest[r]->count = 0;
        q->rest[r]->via[0] = 0; /* of many principals: of no one gateway */
    }
    q->rest[r]->count++;
    q->rest[r]->last_ms = now_ms;
}

static void enqueue(store *st, int64_t now_ms, const char *principal, const char *call, const char *target,
                    const char *rule, const char *read)
{
    struct audit_queue *q = st->denials;
    pthread_mutex_lock(&q->mu);
    if (q->n >= AUDIT_QUEUE_MAX) {
        fold(q, now_ms, principal, call, target, rule, read);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    struct denial *d = denial_new(now_ms, principal, call, target, rule, read);
    *q->tail = d;
    q->tail = &d->next;
    q->n++;
    pthread_mutex_unlock(&q->mu);
}

void audit_deny(store *st, int64_t now_ms, const char *principal, const char *call, const char *target,
                const char *rule)
{
    enqueue(st, now_ms, principal, call, target, rule, "");
}

void audit_read_queue(store *st, int64_t now_ms, const char *principal, const char *call, const char *target,
                      const char *what)
{
    enqueue(st, now_ms, principal, call, target, "", what);
}

/* The layout of schema 3 (audit.h): a record's key is AUDIT_LOG_TAG | u64
 * BE at_ms | u64 BE seq, so the log is its own index by time; the rows by
 * principal and by target precede the records in the same table, AUDIT_IX_*
 * | str | 0x00 | at_ms | seq. Strings longer than IDX_STR_MAX are cut in the index
 * (the record keeps them whole); LMDB keys stop at 511. */
#define IDX_STR_MAX 400
#define IDX_TAIL 16 /* at_ms BE | seq BE */
#define IDX_KEY_MAX (1 + IDX_STR_MAX + 1 + IDX_TAIL + 1)

static void tail(uint8_t out[IDX_TAIL], int64_t at_ms, uint64_t seq)
{
    store_be64(out, at_ms > 0 ? (uint64_t)at_ms : 0);
    store_be64(out + 8, seq);
}

void audit_key(uint8_t key[AUDIT_KEY_LEN], int64_t at_ms, uint64_t seq)
{
    key[0] = AUDIT_LOG_TAG;
    tail(key + 1, at_ms, seq);
}

bool audit_is_record_key(const void *key, size_t len)
{
    return len == AUDIT_KEY_LEN && ((const uint8_t *)key)[0] == AUDIT_LOG_TAG;
}

static size_t idx_key(uint8_t *key, uint8_t tag, const char *str, int64_t at_ms, uint64_t seq)
{
    size_t n = 0, sl = strlen(str);
    key[n++] = tag;
    if (sl > IDX_STR_MAX)
        sl = IDX_STR_MAX;
    memcpy(key + n, str, sl);
    n += sl;
    key[n++] = 0;
    tail(key + n, at_ms, seq);
    return n + IDX_TAIL;
}

static int put_index(MDB_txn *txn, MDB_dbi dbi, uint8_t tag, const char *str, int64_t at_ms, uint64_t seq)
{
    uint8_t key[IDX_KEY_MAX];
    MDB_val k = { idx_key(key, tag, str, at_ms, seq), key }, v = { 0, "" };
    return mdb_put(txn, dbi, &k, &v, 0);
}

/* Schema 4: a case's rows by target (audit.h) are rows of events after
 * the case's timeline, ticket | 0x00 | AUDIT_CASE_ROW | target (cut as in
 * the index) | 0x00 | at_ms | seq. */
static size_t case_row_key(uint8_t *key, const char *ticket, const char *target, int64_t at_ms, uint64_t seq)
{
    size_t tn = strlen(ticket);
    memcpy(key, ticket, tn);
    key[tn] = 0;
    key[tn + 1] = AUDIT_CASE_ROW;
    /* the rest is the index row's without its tag */
    uint8_t ix[IDX_KEY_MAX];
    size_t n = idx_key(ix, AUDIT_IX_TARGET, target, at_ms, seq);
    memcpy(key + tn + 2, ix + 1, n - 1);
    return tn + 2 + n - 1;
}

bool audit_target_home(MDB_txn *txn, MDB_dbi events, MDB_dbi orders, const char *target, char home[AUDIT_HOME_MAX + 1])
{
    if (!target || !*target)
        return false;
    size_t tl = strlen(target);
    if (strncmp(target, "order:", 6) == 0) {
        /* only the name order_target gives an order: "order:" and its id
         * in decimal, no sign, no leading zero */
        const char *d = target + 6;
        if (*d < '1' || *d > '9' || tl - 6 > 20)
            return false;
        uint64_t id = 0;
        for (; *d; d++) {
            if (*d < '0' || *d > '9' || id > (UINT64_MAX - 9) / 10)
                return false;
            id = id * 10 + (uint64_t)(*d - '0');
        }
        uint8_t k8[8];
        store_be64(k8, id);
        MDB_val k = { 8, k8 }, v;
        if (mdb_get(txn, orders, &k, &v))
            return false;
        Whistle__V1__Order *o = whistle__v1__order__unpack(NULL, v.mv_size, v.mv_data);
        if (!o)
            return false;
        bool ok = o->ticket && *o->ticket && strlen(o->ticket) <= AUDIT_HOME_MAX;
        if (ok)
            memcpy(home, o->ticket, strlen(o->ticket) + 1);
        whistle__v1__order__free_unpacked(o, NULL);
        /* the case must be there too (an order always has one) */
        if (ok) {
            MDB_val ck = { strlen(home), home }, cv;
            ok = mdb_get(txn, events, &ck, &cv) == 0;
        }
        return ok;
    }
    if (tl > AUDIT_HOME_MAX)
        return false;
    /* a case's ticket: the key of a record of events (a C string holds no
     * NUL, so it is never one of the rows that follow a record) */
    MDB_val k = { tl, (void *)target }, v;
    if (mdb_get(txn, events, &k, &v))
        return false;
    memcpy(home, target, tl + 1);
    return true;
}

static int put_record(store *st, MDB_txn *txn, Whistled__AuditRecord *r)
{
    uint64_t seq;
    int rc = store_next_seq(txn, st, "audit_seq", &seq);
    if (rc)
        return rc;
    r->seq = seq;
    uint8_t key[AUDIT_KEY_LEN];
    audit_key(key, r->at_ms, seq);
    /* the records sort after the index rows: a new one is the last key */
    rc = store_put_append(txn, st->audit, key, sizeof key, &r->base);
    /* its row by principal waits, with the others of the batch, for
     * audit_index_flush */
    if (!rc) {
        uint8_t pk[AUDIT_KEY_LEN];
        audit_key(pk, r->at_ms, seq);
        pk[0] = AUDIT_IX_PENDING;
        const char *who = r->principal ? r->principal : "";
        size_t wl = strlen(who);
        MDB_val k = { sizeof pk, pk }, v = { wl > IDX_STR_MAX ? IDX_STR_MAX : wl, (void *)who };
        rc = mdb_put(txn, st->audit, &k, &v, 0);
    }
    if (!rc && r->target && *r->target) {
        /* a case's and its orders' rows beside the case, whose leaf the
         * change has just written (schema 4); any other's in the log */
        char home[AUDIT_HOME_MAX + 1];
        if (audit_target_home(txn, st->events, st->orders, r->target, home)) {
            uint8_t row[AUDIT_HOME_MAX + 2 + IDX_KEY_MAX];
            MDB_val k = { case_row_key(row, home, r->target, r->at_ms, seq), row }, v = { 0, "" };
            rc = mdb_put(txn, st->events, &k, &v, 0);
        } else
            rc = put_index(txn, st->audit, AUDIT_IX_TARGET, r->target, r->at_ms, seq);
    }
    return rc;
}

/* The first row waiting for its row by principal: its seq, 0 for none. */
static uint64_t first_pending(MDB_cursor *cur)
{
    uint8_t first = AUDIT_IX_PENDING;
    MDB_val k = { 1, &first }, v;
    if (mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) || k.mv_size != AUDIT_KEY_LEN ||
        ((const uint8_t *)k.mv_data)[0] != AUDIT_IX_PENDING)
        return 0;
    return store_get_be64((const uint8_t *)k.mv_data + 9);
}

long audit_index_flush(store *st, MDB_txn *txn, size_t min)
{
    if (!min)
        min = AUDIT_PIX_BATCH;
    MDB_txn *child;
    if (mdb_txn_begin(st->env, txn, 0, &child))
        return -1;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(child, st->audit, &cur);
    long n = 0;
    if (!rc) {
        /* how many wait: from the oldest waiting seq to the newest record
         * (a cheap look, not a count; the rows come in seq order) */
        uint64_t oldest = first_pending(cur), last = 0;
        MDB_val mk = { 9, "audit_seq" }, mv;
        if (oldest && mdb_get(child, st->meta, &mk, &mv) == 0 && mv.mv_size == 8)
            last = store_get_be64(mv.mv_data);
        if (!oldest || last + 1 < oldest + min) {
            mdb_cursor_close(cur);
            mdb_txn_abort(child);
            return 0;
        }
        for (;;) {
            uint8_t first = AUDIT_IX_PENDING;
            MDB_val k = { 1, &first }, v;
            rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
            if (rc == MDB_NOTFOUND ||
                (!rc && (k.mv_size != AUDIT_KEY_LEN || ((const uint8_t *)k.mv_data)[0] != AUDIT_IX_PENDING))) {
                rc = 0;
                break;
            }
            if (rc)
                break;
            /* copied: the puts below move what the cursor points at */
            uint8_t tl[IDX_TAIL];
            char who[IDX_STR_MAX + 1];
            memcpy(tl, (const uint8_t *)k.mv_data + 1, IDX_TAIL);
            size_t wl = v.mv_size > IDX_STR_MAX ? IDX_STR_MAX : v.mv_size;
            memcpy(who, v.mv_data, wl);
            who[wl] = 0;
            if ((rc = mdb_cursor_del(cur, 0)) != 0)
                break;
            rc = put_index(child, st->audit, AUDIT_IX_PRINCIPAL, who, (int64_t)store_get_be64(tl),
                           store_get_be64(tl + 8));
            if (rc)
                break;
            n++;
        }
        mdb_cursor_close(cur);
    }
    if (!rc)
        rc = mdb_txn_commit(child);
    else
        mdb_txn_abort(child);
    if (rc) {
        log_error("audit: the rows by principal could not be written (they wait for the next batch): %s",
                  mdb_strerror(rc));
        return -1;
    }
    return n;
}

/* ------------------------------------------------------------ deltas */

/* The bytes a field's value takes in its message struct (not repeated). */
static size_t field_size(const ProtobufCFieldDescriptor *f)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_ENUM: return 4;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    }
    return 0;
}

static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b);

/* One value of field f at a and at b (an element of a repeated field, or
 * the field itself). */
static bool value_equal(const ProtobufCFieldDescriptor *f, const void *a, const void *b)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *x = *(char *const *)a, *y = *(char *const *)b;
        return strcmp(x ? x : "", y ? y : "") == 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *x = a, *y = b;
        return x->len == y->len && (x->len == 0 || memcmp(x->data, y->data, x->len) == 0);
    }
    case PROTOBUF_C_TYPE_MESSAGE: return msg_equal(*(ProtobufCMessage *const *)a, *(ProtobufCMessage *const *)b);
    default: return memcmp(a, b, field_size(f)) == 0;
    }
}

/* Whether field f has the same value in a and b, as proto3 sees it (a
 * field absent and a field at its default compare equal when both pack to
 * nothing). */
static bool field_equal(const ProtobufCFieldDescriptor *f, const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    const char *pa = (const char *)a, *pb = (const char *)b;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        size_t na = *(const size_t *)(pa + f->quantifier_offset), nb = *(const size_t *)(pb + f->quantifier_offset);
        if (na != nb)
            return false;
        const char *ea = *(char *const *)(pa + f->offset), *eb = *(char *const *)(pb + f->offset);
        size_t sz = field_size(f);
        for (size_t i = 0; i < na; i++)
            if (!value_equal(f, ea + i * sz, eb + i * sz))
                return false;
        return true;
    }
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
        uint32_t ca = *(const uint32_t *)(pa + f->quantifier_offset),
                 cb = *(const uint32_t *)(pb + f->quantifier_offset);
        if ((ca == f->id) != (cb == f->id))
            return false;
        if (ca != f->id)
            return true;
    } else if (f->quantifier_offset && f->label == PROTOBUF_C_LABEL_OPTIONAL) {
        protobuf_c_boolean ha = *(const protobuf_c_boolean *)(pa + f->quantifier_offset),
                           hb = *(const protobuf_c_boolean *)(pb + f->quantifier_offset);
        if (ha != hb)
            return false;
    }
    return value_equal(f, pa + f->offset, pb + f->offset);
}

static bool msg_equal(const ProtobufCMessage *a, const ProtobufCMessage *b)
{
    if (!a || !b)
        return a == b;
    if (a->descriptor != b->descriptor)
        return false;
    for (unsigned i = 0; i < a->descriptor->n_fields; i++)
        if (!field_equal(&a->descriptor->fields[i], a, b))
            return false;
    return true;
}

/* Copies field f (its value, count or case) from src to dst, shallowly. */
static void field_copy(const ProtobufCFieldDescriptor *f, ProtobufCMessage *dst, const ProtobufCMessage *src)
{
    char *pd = (char *)dst;
    const char *ps = (const char *)src;
    size_t sz = f->label == PROTOBUF_C_LABEL_REPEATED ? sizeof(void *) : field_size(f);
    memcpy(pd + f->offset, ps + f->offset, sz);
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        memcpy(pd + f->quantifier_offset, ps + f->quantifier_offset, sizeof(size_t));
    else if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        memcpy(pd + f->quantifier_offset, ps + f->quantifier_offset, sizeof(uint32_t));
    else if (f->quantifier_offset && f->label == PROTOBUF_C_LABEL_OPTIONAL)
        memcpy(pd + f->quantifier_offset, ps + f->quantifier_offset, sizeof(protobuf_c_boolean));
}

static uint8_t *pack_alloc(const ProtobufCMessage *m, size_t *len)
{
    *len = protobuf_c_message_get_packed_size(m);
    uint8_t *p = malloc(*len ? *len : 1);
    if (!p)
        log_oom("an audit record");
    protobuf_c_message_pack(m, p);
    return p;
}

/* A change as what changed: before and after hold only the fields that
 * differ (and "version", which says which state of the record it was), and
 * changed names them. *bb and *ab are the packed halves (malloc'd). Returns
 * false when before does not unpack as after's type: then the record keeps
 * both in full. */
static bool audit_delta(const ProtobufCMessage *after, const void *before, size_t blen, Whistled__AuditRecord *r,
                        uint8_t **bb, uint8_t **ab)
{
    const ProtobufCMessageDescriptor *d = after->descriptor;
    ProtobufCMessage *old = protobuf_c_message_unpack(d, NULL, blen, before);
    if (!old)
        return false;
    ProtobufCMessage *db = calloc(1, d->sizeof_message), *da = calloc(1, d->sizeof_message);
    char **names = calloc(d->n_fields ? d->n_fields : 1, sizeof *names);
    if (!db || !da || !names)
        log_oom("an audit record");
    protobuf_c_message_init(d, db);
    protobuf_c_message_init(d, da);
    size_t n = 0;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        bool same = field_equal(f, old, after);
        if (same && strcmp(f->name, "version") != 0)
            continue;
        field_copy(f, db, old);
        field_copy(f, da, after);
        if (!same)
            names[n++] = (char *)f->name;
    }
    size_t bl, al;
    *bb = pack_alloc(db, &bl);
    *ab = pack_alloc(da, &al);
    free(db);
    free(da);
    protobuf_c_message_free_unpacked(old, NULL);
    r->before.data = *bb;
    r->before.len = bl;
    r->after.data = *ab;
    r->after.len = al;
    r->changed = names;
    r->n_changed = n;
    r->delta = true;
    return true;
}

int audit_append(store *st, MDB_txn *txn, int64_t now_ms, const char *principal, const char *call, const char *target,
                 const void *before, size_t before_len, const ProtobufCMessage *after)
{
    Whistled__AuditRecord r = WHISTLED__AUDIT_RECORD__INIT;
    r.at_ms = now_ms;
    r.principal = (char *)(principal ? principal : "");
    r.call = (char *)(call ? call : "");
    r.target = (char *)(target ? target : "");
    r.via = (char *)audit_via();
    r.before.data = (uint8_t *)before;
    r.before.len = before ? before_len : 0;
    uint8_t *packed = NULL, *bb = NULL, *ab = NULL;
    if (after) {
        r.record_type = (char *)after->descriptor->name;
        /* A change of a record that was there is stored as its delta, so
         * that the log grows with what changed, not with the record's size
         * twice; a creation keeps the record (all of it is new), a deletion
         * the record as it was. */
        if (!before || !audit_delta(after, before, before_len, &r, &bb, &ab)) {
            size_t n;
            packed = pack_alloc(after, &n);
            r.after.data = packed;
            r.after.len = n;
        }
    }
    int rc = put_record(st, txn, &r);
    free(packed);
    free(bb);
    free(ab);
    free(r.changed);
    return rc;
}

int audit_flush_denials(store *st, MDB_txn *txn)
{
    struct audit_queue *q = st->denials;
    pthread_mutex_lock(&q->mu);
    struct denial *list = q->head, **tail = q->head ? q->tail : &list;
    size_t n = q->n;
    /* the aggregates after the records, in the order they began */
    for (size_t i = 0; i < AUDIT_AGG_MAX; i++)
        if (q->agg[i]) {
            *tail = q->agg[i];
            tail = &q->agg[i]->next;
            q->agg[i] = NULL;
            n++;
        }
    for (int i = 0; i < 2; i++)
        if (q->rest[i]) {
            *tail = q->rest[i];
            tail = &q->rest[i]->next;
            q->rest[i] = NULL;
            n++;
        }
    *tail = NULL;
    q->head = NULL;
    q->tail = &q->head;
    q->n = q->n_agg = 0;
    q->folded = 0;
    pthread_mutex_unlock(&q->mu);
    if (!list)
        return 0;

    MDB_txn *child = NULL;
    int rc = mdb_txn_begin(st->env, txn, 0, &child);
    for (struct denial *d = list; !rc && d; d = d->next) {
        Whistled__AuditRecord r = WHISTLED__AUDIT_RECORD__INIT;
        r.at_ms = d->at_ms;
        r.principal = d->principal;
        r.call = d->call;
        r.target = d->target;
        r.denied = d->rule;
        r.read = d->read;
        r.via = d->via;
        if (d->count != 1) {
            r.count = d->count;
            r.last_at_ms = d->last_ms;
        }
        rc = put_record(st, child, &r);
    }
    if (child) {
        if (rc)
            mdb_txn_abort(child);
        else
            rc = mdb_txn_commit(child);
    }
    if (rc) {
        /* Not written: back to the front of the queue for the next write
         * transaction, so that none is lost (the queue may run over its
         * bound by these once; the next flush takes them all). */
        log_error("audit: could not write %zu denials and reads, kept for the next try: %s", n, store_strerror(rc));
        pthread_mutex_lock(&q->mu);
        *tail = q->head;
        if (!q->head)
            q->tail = tail;
        q->head = list;
        q->n += n;
        pthread_mutex_unlock(&q->mu);
        return rc;
    }
    list_free(list);
    return 0;
}

int audit_read(store *st, MDB_txn *txn, uint64_t after_seq, size_t max, arena *a, audit_visit_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->audit, &cur);
    if (rc)
        return rc;
    uint8_t first = AUDIT_LOG_TAG;
    MDB_val k = { 1, &first }, v;
    int n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && (size_t)n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (!audit_is_record_key(k.mv_data, k.mv_size))
            break; /* the records come last */
        if (store_get_be64((const uint8_t *)k.mv_data + 9) <= after_seq)
            continue;
        Whistled__AuditRecord *r = (Whistled__AuditRecord *)protobuf_c_message_unpack(
            &whistled__audit_record__descriptor, arena_allocator(a), v.mv_size, v.mv_data);
        if (!r) {
            rc = MDB_CORRUPTED;
            break;
        }
        n++;
        if (fn(ctx, r))
            break;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc;
    return n;
}

int audit_read_append(store *st, MDB_txn *txn, int64_t now_ms, const char *principal, const char *call,
                      const char *target, const char *what)
{
    Whistled__AuditRecord r = WHISTLED__AUDIT_RECORD__INIT;
    r.at_ms = now_ms;
    r.principal = (char *)(principal ? principal : "");
    r.call = (char *)(call ? call : "");
    r.target = (char *)(target ? target : "");
    r.read = (char *)(what ? what : "");
    r.via = (char *)audit_via();
    return put_record(st, txn, &r);
}

/* ------------------------------------------------------------ query */

static char *hex_of(arena *a, const uint8_t *p, size_t n)
{
    static const char hx[] = "0123456789abcdef";
    char *s = arena_alloc(a, 2 * n + 1);
    for (size_t i = 0; i < n; i++) {
        s[2 * i] = hx[p[i] >> 4];
        s[2 * i + 1] = hx[p[i] & 15];
    }
    s[2 * n] = 0;
    return s;
}

static uint8_t *unhex(arena *a, const char *s, size_t *n)
{
    size_t len = strlen(s);
    if (len % 2 || len > 2 * IDX_KEY_MAX)
        return NULL;
    uint8_t *p = arena_alloc(a, len / 2 + 1);
    for (size_t i = 0; i < len / 2; i++) {
        int v = 0;
        for (int k = 0; k < 2; k++) {
            char ch = s[2 * i + (size_t)k];
            int d = ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
            if (d < 0)
                return NULL;
            v = v << 4 | d;
        }
        p[i] = (uint8_t)v;
    }
    *n = len / 2;
    return p;
}

/* One ordered run of rows a query reads: the rows of a database that
 * start with prefix and end with at_ms | seq (an index's), or the log's
 * records. A query by target reads two and merges them by time: its rows
 * in the log's database, and those beside the case in events (schema 4). */
typedef struct run {
    MDB_cursor *cur;
    const uint8_t *prefix;
    size_t plen;
    bool log;         /* the records themselves (AUDIT_LOG_TAG) */
    const char *want; /* the waiting rows by principal: only this one's */
    size_t want_len;
    bool live;
    MDB_val k, v;
} run;

/* Takes the row the cursor landed on (rc: how it went): live when it is
 * one of the run's; 1 when it is of the run but filtered out (the caller
 * steps on), 0 otherwise, or an error. */
static int run_take(run *r, int rc, const MDB_val *k, const MDB_val *v)
{
    r->live = false;
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    if (k->mv_size < r->plen + IDX_TAIL || memcmp(k->mv_data, r->prefix, r->plen) != 0 ||
        (r->log && !audit_is_record_key(k->mv_data, k->mv_size)))
        return 0;
    if (r->want && (v->mv_size != r->want_len || memcmp(v->mv_data, r->want, r->want_len) != 0))
        return 1;
    r->k = *k;
    r->v = *v;
    r->live = true;
    return 0;
}

/* To the next row of the run (newest first: the one before). */
static int run_step(run *r, bool desc)
{
    int rc;
    do {
        MDB_val k, v;
        rc = run_take(r, mdb_cursor_get(r->cur, &k, &v, desc ? MDB_PREV : MDB_NEXT), &k, &v);
    } while (rc == 1);
    return rc;
}

/* To the first row at or after prefix | rest, or newest first the last
 * one strictly before it. */
static int run_seek(run *r, const uint8_t *rest, size_t rlen, bool desc, arena *a)
{
    uint8_t *key = arena_alloc(a, r->plen + rlen + 1);
    memcpy(key, r->prefix, r->plen);
    memcpy(key + r->plen, rest, rlen);
    MDB_val k = { r->plen + rlen, key }, v;
    int rc = mdb_cursor_get(r->cur, &k, &v, MDB_SET_RANGE);
    if (desc)
        rc = mdb_cursor_get(r->cur, &k, &v, rc == 0 ? MDB_PREV : MDB_LAST);
    rc = run_take(r, rc, &k, &v);
    return rc == 1 ? run_step(r, desc) : rc;
}

static const uint8_t *run_tail(const run *r) { return (const uint8_t *)r->k.mv_data + r->k.mv_size - IDX_TAIL; }

/* Whether a target prefix takes in targets whose rows are beside their
 * cases (schema 4): an order's ("order:<id>"), or a case's ticket (some
 * case's key starts with it). */
static bool prefix_takes_in_cases(store *st, MDB_txn *txn, const char *p)
{
    size_t pl = strlen(p);
    if (strncmp(p, "order:", pl < 6 ? pl : 6) == 0)
        return true;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, st->events, &cur))
        return true; /* the log: slower, never wrong */
    MDB_val k = { pl, (void *)p }, v;
    int rc = pl ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    bool yes = rc == 0 && k.mv_size >= pl && memcmp(k.mv_data, p, pl) == 0;
    mdb_cursor_close(cur);
    return yes || (rc != MDB_NOTFOUND && rc != 0);
}

/* audit_query and audit_query_newest: oldest first, or newest first
 * (desc). A newest-first cursor is marked with a leading '-', so that a
 * cursor of one order is refused by the other rather than misread. */
static int query(store *st, MDB_txn *txn, const char *principal, const char *target, int64_t from_ms, int64_t to_ms,
                 const char *cursor, size_t max, bool desc, arena *a, Whistled__AuditRecord ***out, size_t *count,
                 char **next)
{
    *count = 0;
    principal = principal ? principal : "";
    target = target ? target : "";
    cursor = cursor ? cursor : "";
    *out = NULL;
    *next = "";
    if (to_ms <= 0)
        to_ms = INT64_MAX;
    if (from_ms < 0)
        from_ms = 0;

    /* The most selective index first: target, then principal, then time.
     * A target ending in '*' is a prefix: oldest first its rows in the
     * log's table are read, in target order (the scan cannot stop at
     * to_ms and filters instead), unless the prefix takes in cases'
     * tickets or orders, whose rows are beside the cases (schema 4): then,
     * and always newest first, the log itself is read in time order and
     * filtered by target. The log is its own index by time (its records'
     * tag). */
    uint8_t tag;
    const char *str = NULL;
    bool prefix_mode = false;
    size_t tlen = strlen(target);
    const char *tprefix = NULL; /* the log read for a prefix: the records' target must start so */
    if (tlen && target[tlen - 1] == '*') {
        const char *p = arena_strndup(a, target, tlen - 1);
        if (desc || prefix_takes_in_cases(st, txn, p)) {
            tprefix = p;
            tag = AUDIT_LOG_TAG;
        } else {
            tag = AUDIT_IX_TARGET;
            str = p;
            prefix_mode = true;
        }
    } else if (tlen) {
        tag = AUDIT_IX_TARGET;
        str = target;
    } else if (*principal) {
        tag = AUDIT_IX_PRINCIPAL;
        str = principal;
    } else {
        tag = AUDIT_LOG_TAG;
    }
    /* the index's rows: tag str 0x00 (a target prefix: tag str); the
     * log's: its tag. Cursors are keys of this form (a row beside a case
     * is named by its tail: the same record's row in the log's table). */
    uint8_t *prefix = arena_alloc(a, IDX_KEY_MAX);
    size_t plen = 1;
    prefix[0] = tag;
    if (str) {
        size_t sl = strlen(str);
        if (sl > IDX_STR_MAX)
            sl = IDX_STR_MAX;
        memcpy(prefix + 1, str, sl);
        plen += sl;
        if (!prefix_mode)
            prefix[plen++] = 0;
    }
    /* where to start: just after the cursor's row, or at the bound; rest
     * is what follows the prefix (at_ms | seq; a prefix's: the rest of the
     * target, 0x00, at_ms | seq) */
    uint8_t *rest = arena_alloc(a, IDX_KEY_MAX);
    size_t rlen = 0;
    bool resume = false;
    if (*cursor) {
        if (desc != (cursor[0] == '-'))
            return EINVAL;
        size_t clen;
        uint8_t *c = unhex(a, cursor + desc, &clen);
        if (!c || clen < plen + IDX_TAIL || clen > IDX_KEY_MAX || memcmp(c, prefix, plen) != 0 ||
            (!prefix_mode && clen != plen + IDX_TAIL) || (tag == AUDIT_LOG_TAG && !audit_is_record_key(c, clen)))
            return EINVAL;
        rlen = clen - plen;
        memcpy(rest, c + plen, rlen);
        resume = true;
    } else if (!prefix_mode) {
        /* newest first: from just after to_ms's last row */
        store_be64(rest, desc ? (uint64_t)to_ms : (uint64_t)from_ms);
        store_be64(rest + 8, desc ? UINT64_MAX : 0);
        rlen = IDX_TAIL;
    }

    run runs[2];
    size_t nruns = 1;
    memset(runs, 0, sizeof runs);
    runs[0].prefix = prefix;
    runs[0].plen = plen;
    runs[0].log = tag == AUDIT_LOG_TAG;
    int rc = mdb_cursor_open(txn, st->audit, &runs[0].cur);
    if (rc)
        return rc;
    char home[AUDIT_HOME_MAX + 1];
    if (tag == AUDIT_IX_TARGET && audit_target_home(txn, st->events, st->orders, target, home)) {
        /* ticket | 0x00 | AUDIT_CASE_ROW | target 0x00, then the tail */
        uint8_t *hp = arena_alloc(a, AUDIT_HOME_MAX + 2 + IDX_KEY_MAX);
        size_t hn = strlen(home);
        memcpy(hp, home, hn);
        hp[hn] = 0;
        hp[hn + 1] = AUDIT_CASE_ROW;
        memcpy(hp + hn + 2, prefix + 1, plen - 1);
        runs[1].prefix = hp;
        runs[1].plen = hn + 2 + plen - 1;
        rc = mdb_cursor_open(txn, st->events, &runs[1].cur);
        if (rc) {
            mdb_cursor_close(runs[0].cur);
            return rc;
        }
        nruns = 2;
    }
    static const uint8_t pending_tag = AUDIT_IX_PENDING;
    if (tag == AUDIT_IX_PRINCIPAL) {
        /* the principal's records whose rows by principal wait
         * (audit_index_flush): their rows AUDIT_IX_PENDING | at_ms | seq,
         * in the same time order */
        runs[1].prefix = &pending_tag;
        runs[1].plen = 1;
        runs[1].want = principal;
        runs[1].want_len = strlen(principal) > IDX_STR_MAX ? IDX_STR_MAX : strlen(principal);
        rc = mdb_cursor_open(txn, st->audit, &runs[1].cur);
        if (rc) {
            mdb_cursor_close(runs[0].cur);
            return rc;
        }
        nruns = 2;
    }
    for (size_t i = 0; i < nruns && !rc; i++)
        rc = run_seek(&runs[i], rest, rlen, desc, a);

    size_t cap = max < 64 ? max : 64, n = 0;
    Whistled__AuditRecord **recs = arena_alloc(a, (cap ? cap : 1) * sizeof *recs);
    uint8_t *last = arena_alloc(a, IDX_KEY_MAX);
    size_t last_len = 0;
    bool have_last = false, more = false;
    while (!rc) {
        /* the next row of the runs in time order (at_ms | seq: its tail) */
        run *r = NULL;
        for (size_t i = 0; i < nruns; i++)
            if (runs[i].live && (!r || (memcmp(run_tail(&runs[i]), run_tail(r), IDX_TAIL) < 0) != desc))
                r = &runs[i];
        if (!r)
            break;
        const uint8_t *tl = run_tail(r);
        /* what follows the run's prefix: a row's name in a cursor */
        const uint8_t *suffix = (const uint8_t *)r->k.mv_data + r->plen;
        size_t sfx_len = r->k.mv_size - r->plen;
        /* resuming oldest first lands on the cursor's own row: past it */
        if (resume && !desc && sfx_len == rlen && memcmp(suffix, rest, rlen) == 0) {
            rc = run_step(r, desc);
            continue;
        }
        int64_t at = (int64_t)store_get_be64(tl);
        if (prefix_mode && (at < from_ms || at > to_ms)) {
            rc = run_step(r, desc);
            continue;
        }
        if (!desc && at > to_ms)
            break;
        if (desc && at < from_ms)
            break;
        /* the record: here (the log), or under the key a row ends with */
        Whistled__AuditRecord *rec = NULL;
        int grc = 0;
        if (r->log) {
            rec = (Whistled__AuditRecord *)protobuf_c_message_unpack(&whistled__audit_record__descriptor,
                                                                     arena_allocator(a), r->v.mv_size, r->v.mv_data);
            grc = rec ? 0 : MDB_CORRUPTED;
        } else {
            uint8_t rk[AUDIT_KEY_LEN];
            rk[0] = AUDIT_LOG_TAG;
            memcpy(rk + 1, tl, IDX_TAIL);
            grc = store_get(txn, st->audit, rk, sizeof rk, &whistled__audit_record__descriptor, a, (void **)&rec);
        }
        if (grc && grc != MDB_NOTFOUND) {
            rc = grc;
            break;
        }
        bool keep = grc == 0;
        if (keep && (tlen || tprefix) && *principal && strcmp(rec->principal, principal) != 0)
            keep = false;
        if (keep && tprefix && strncmp(rec->target ? rec->target : "", tprefix, strlen(tprefix)) != 0)
            keep = false;
        if (keep) {
            if (n == max) {
                more = true;
                break;
            }
            if (n == cap) {
                cap *= 2;
                Whistled__AuditRecord **bigger = arena_alloc(a, cap * sizeof *bigger);
                memcpy(bigger, recs, n * sizeof *recs);
                recs = bigger;
            }
            recs[n++] = rec;
            /* (the row's bytes stay valid: nothing is written in txn) */
            memcpy(last, suffix, sfx_len);
            last_len = sfx_len;
            have_last = true;
        }
        rc = run_step(r, desc);
    }
    for (size_t i = 0; i < nruns; i++)
        mdb_cursor_close(runs[i].cur);
    if (rc && !more)
        return rc;
    *out = recs;
    *count = n;
    if (more && have_last) {
        uint8_t *ck = arena_alloc(a, plen + last_len);
        memcpy(ck, prefix, plen);
        memcpy(ck + plen, last, last_len);
        *next = desc ? arena_printf(a, "-%s", hex_of(a, ck, plen + last_len)) : hex_of(a, ck, plen + last_len);
    }
    return 0;
}

int audit_query(store *st, MDB_txn *txn, const char *principal, const char *target, int64_t from_ms, int64_t to_ms,
                const char *cursor, size_t max, arena *a, Whistled__AuditRecord ***out, size_t *count, char **next)
{
    return query(st, txn, principal, target, from_ms, to_ms, cursor, max, false, a, out, count, next);
}

int audit_query_newest(store *st, MDB_txn *txn, const char *principal, const char *target, int64_t from_ms,
                       int64_t to_ms, const char *cursor, size_t max, arena *a, Whistled__AuditRecord ***out,
                       size_t *count, char **next)
{
    return query(st, txn, principal, target, from_ms, to_ms, cursor, max, true, a, out, count, next);
}

/* store_write_begin's hook: what was queued goes into the new transaction
 * (audit_flush_denials nests it, so a failed flush spoils nothing else). */
static void audit_on_write_begin(store *st, MDB_txn *txn)
{
    if (audit_queue_len(st->denials) > 0)
        audit_flush_denials(st, txn);
}

/* store_close's hook: the denials still queued go to the log in one last
 * transaction, then the queue goes. */
static void audit_on_close(store *st)
{
    if (st->env && audit_queue_len(st->denials) > 0) {
        MDB_txn *txn;
        if (mdb_txn_begin(st->env, NULL, 0, &txn) == 0) {
            audit_flush_denials(st, txn);
            if (mdb_txn_commit(txn))
                log_error("store: could not write the last audited denials");
        }
    }
    audit_queue_free(st->denials);
    st->denials = NULL;
}

int audit_attach(store *st)
{
    st->denials = audit_queue_new();
    if (!st->denials)
        return -ENOMEM;
    st->on_write_begin = audit_on_write_begin;
    st->on_close = audit_on_close;
    return 0;
}
