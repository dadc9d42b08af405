/* audit.c: see audit.h. */
#include "audit.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct denial {
    struct denial *next;
    int64_t at_ms;
    char *principal, *call, *target, *rule;
};

struct audit_queue {
    pthread_mutex_t mu;
    struct denial *head, **tail;
    size_t n;
    uint64_t dropped;
};

struct audit_queue *audit_queue_new(void)
{
    struct audit_queue *q = calloc(1, sizeof *q);
    if (!q)
        abort();
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
    free(d);
}

void audit_queue_free(struct audit_queue *q)
{
    if (!q)
        return;
    for (struct denial *d = q->head, *n; d; d = n) {
        n = d->next;
        denial_free(d);
    }
    pthread_mutex_destroy(&q->mu);
    free(q);
}

size_t audit_queue_len(struct audit_queue *q)
{
    pthread_mutex_lock(&q->mu);
    size_t n = q->n;
    pthread_mutex_unlock(&q->mu);
    return n;
}

static char *dup0(const char *s) { return strdup(s ? s : ""); }

void audit_deny(store *st, int64_t now_ms, const char *principal, const char *call, const char *target,
                const char *rule)
{
    struct audit_queue *q = st->denials;
    pthread_mutex_lock(&q->mu);
    if (q->n >= AUDIT_QUEUE_MAX) {
        /* A flood of refused calls must not grow memory without bound; one
         * line per thousand keeps the log readable too. */
        if (q->dropped++ % 1000 == 0)
            fprintf(stderr, "whistled: audit: denial queue full, dropping denials (%llu so far)\n",
                    (unsigned long long)q->dropped);
        pthread_mutex_unlock(&q->mu);
        return;
    }
    struct denial *d = calloc(1, sizeof *d);
    if (!d)
        abort();
    d->at_ms = now_ms;
    d->principal = dup0(principal);
    d->call = dup0(call);
    d->target = dup0(target);
    d->rule = dup0(rule);
    if (!d->principal || !d->call || !d->target || !d->rule)
        abort();
    *q->tail = d;
    q->tail = &d->next;
    q->n++;
    pthread_mutex_unlock(&q->mu);
}

static int put_record(store *st, MDB_txn *txn, Whistled__AuditRecord *r)
{
    uint64_t seq;
    int rc = store_next_seq(txn, st, "audit_seq", &seq);
    if (rc)
        return rc;
    r->seq = seq;
    uint8_t key[8];
    store_be64(key, seq);
    return store_put(txn, st->audit, key, sizeof key, &r->base);
}

int audit_append(store *st, MDB_txn *txn, int64_t now_ms, const char *principal, const char *call,
                 const char *target, const void *before, size_t before_len, const ProtobufCMessage *after)
{
    Whistled__AuditRecord r = WHISTLED__AUDIT_RECORD__INIT;
    r.at_ms = now_ms;
    r.principal = (char *)(principal ? principal : "");
    r.call = (char *)(call ? call : "");
    r.target = (char *)(target ? target : "");
    r.before.data = (uint8_t *)before;
    r.before.len = before ? before_len : 0;
    uint8_t *packed = NULL;
    if (after) {
        size_t n = protobuf_c_message_get_packed_size(after);
        packed = malloc(n ? n : 1);
        if (!packed)
            abort();
        protobuf_c_message_pack(after, packed);
        r.after.data = packed;
        r.after.len = n;
    }
    int rc = put_record(st, txn, &r);
    free(packed);
    return rc;
}

int audit_flush_denials(store *st, MDB_txn *txn)
{
    struct audit_queue *q = st->denials;
    pthread_mutex_lock(&q->mu);
    struct denial *list = q->head;
    size_t n = q->n;
    q->head = NULL;
    q->tail = &q->head;
    q->n = 0;
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
        rc = put_record(st, child, &r);
    }
    if (child) {
        if (rc)
            mdb_txn_abort(child);
        else
            rc = mdb_txn_commit(child);
    }
    if (rc)
        fprintf(stderr, "whistled: audit: could not write %zu denials: %s\n", n, store_strerror(rc));
    for (struct denial *d = list, *nx; d; d = nx) {
        nx = d->next;
        denial_free(d);
    }
    return rc;
}

int audit_read(store *st, MDB_txn *txn, uint64_t after_seq, size_t max, arena *a, audit_visit_fn fn, void *ctx)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->audit, &cur);
    if (rc)
        return rc;
    uint8_t key[8];
    store_be64(key, after_seq + 1);
    MDB_val k = {sizeof key, key}, v;
    int n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0 && (size_t)n < max;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
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
