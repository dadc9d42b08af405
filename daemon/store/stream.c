/* stream.c: see stream.h. An entry's key is name | 0x00 | u64 BE seq, so
 * one stream's entries are contiguous and in seq order; names never hold
 * a NUL, so no stream's range overlaps another's. Since schema 4 an
 * entry's value is its Push without the stream and the seq (the key's),
 * some 20 bytes of a few hundred; stream_read hands out the whole Push. */
#include "stream.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/records.pb-c.h"
#include "log.h"
#include "text.h"

#define NAME_MAX_LEN 400 /* + 9 bytes of key suffix stays under LMDB's 511 */

void stream_touched_add_seq(stream_touched *t, const char *name, uint64_t seq)
{
    if (!t || !name)
        return;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->names[i], name) == 0) {
            if (seq && (!t->first[i] || seq < t->first[i]))
                t->first[i] = seq;
            return;
        }
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 8;
        char **names = realloc(t->names, cap * sizeof *names);
        if (!names)
            log_oom("the streams a batch touched");
        t->names = names;
        uint64_t *first = realloc(t->first, cap * sizeof *first);
        if (!first)
            log_oom("the streams a batch touched");
        t->first = first;
        t->cap = cap;
    }
    t->names[t->n] = strdup(name);
    if (!t->names[t->n])
        log_oom("the streams a batch touched");
    t->first[t->n] = seq;
    t->n++;
}

void stream_touched_add(stream_touched *t, const char *name) { stream_touched_add_seq(t, name, 0); }

void stream_touched_clear(stream_touched *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n; i++)
        free(t->names[i]);
    free(t->names);
    free(t->first);
    t->names = NULL;
    t->first = NULL;
    t->n = t->cap = 0;
}

static size_t entry_key(uint8_t *key, const char *name, size_t nlen, uint64_t seq)
{
    memcpy(key, name, nlen);
    key[nlen] = 0;
    store_be64(key + nlen + 1, seq);
    return nlen + 9;
}

static int meta_read(store *st, MDB_txn *txn, const char *name, Whistled__StreamMeta *m)
{
    MDB_val k = { strlen(name), (void *)name }, v;
    int rc = mdb_get(txn, st->stream_meta, &k, &v);
    if (rc == MDB_NOTFOUND)
        return 0;
    if (rc)
        return rc;
    /* A tiny record: unpack into a stack copy without an arena. */
    Whistled__StreamMeta *u = whistled__stream_meta__unpack(NULL, v.mv_size, v.mv_data);
    if (!u)
        return MDB_CORRUPTED;
    m->last_seq = u->last_seq;
    m->cursor = u->cursor;
    m->trimmed = u->trimmed;
    whistled__stream_meta__free_unpacked(u, NULL);
    return 0;
}

static bool name_ok(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    return n > 0 && n <= NAME_MAX_LEN;
}

int stream_append(store *st, MDB_txn *txn, const char *name, int64_t now_ms, Whistle__V1__Push *push,
                  stream_touched *touched)
{
    if (!name_ok(name))
        return MDB_BAD_VALSIZE;
    Whistled__StreamMeta m = WHISTLED__STREAM_META__INIT;
    int rc = meta_read(st, txn, name, &m);
    if (rc)
        return rc;
    m.last_seq++;
    push->stream = (char *)name;
    push->seq = m.last_seq;
    push->at_ms = now_ms;

    size_t nlen = strlen(name);
    uint8_t key[NAME_MAX_LEN + 9];
    size_t klen = entry_key(key, name, nlen, m.last_seq);
    /* Stored without its stream and seq, which the key holds (schema 4):
     * stream_read puts them back. The caller's push keeps them. */
    push->stream = NULL;
    push->seq = 0;
    rc = store_put(txn, st->streams, key, klen, &push->base);
    push->stream = (char *)name;
    push->seq = m.last_seq;
    if (!rc)
        rc = store_put(txn, st->stream_meta, name, nlen, &m.base);
    /* The caller's name may be a temporary; the push keeps pointing at it
     * only for as long as the caller's arena lives anyway. */
    if (!rc)
        stream_touched_add_seq(touched, name, m.last_seq);
    return rc;
}

int stream_meta_get(store *st, MDB_txn *txn, const char *name, uint64_t *last_seq, uint64_t *cursor)
{
    Whistled__StreamMeta m = WHISTLED__STREAM_META__INIT;
    int rc = name_ok(name) ? meta_read(st, txn, name, &m) : 0;
    if (last_seq)
        *last_seq = m.last_seq;
    if (cursor)
        *cursor = m.cursor;
    return rc;
}

int stream_ack(store *st, MDB_txn *txn, const char *name, uint64_t seq)
{
    if (!name_ok(name))
        return MDB_NOTFOUND;
    Whistled__StreamMeta m = WHISTLED__STREAM_META__INIT;
    int rc = meta_read(st, txn, name, &m);
    if (rc)
        return rc;
    /* An ack past the newest entry is a confused client: it cannot have
     * handled what does not exist, so the cursor stops at last_seq. */
    if (seq > m.last_seq)
        seq = m.last_seq;
    if (seq <= m.cursor)
        return 0;
    m.cursor = seq;
    return store_put(txn, st->stream_meta, name, strlen(name), &m.base);
}

/* A stored entry as the Push it is (schema 4 stores it without fields 1,
 * stream, and 2, seq: the key holds them): those two fields first, as
 * protobuf-c packs them, then the stored bytes, into buf (cap bytes) or,
 * when it is too small, into *big (malloc'd, the caller frees it). An
 * entry stored with them (schema 3 and before: it starts with field 1's
 * tag) is returned as it is. NULL when out of memory. */
static const uint8_t *entry_bytes(const char *name, size_t nlen, uint64_t seq, const MDB_val *v, uint8_t *buf,
                                  size_t cap, uint8_t **big, size_t *len)
{
    const uint8_t *stored = v->mv_data;
    if (v->mv_size && stored[0] == ((1 << 3) | 2)) {
        *len = v->mv_size;
        return stored;
    }
    uint8_t head[1 + 10 + NAME_MAX_LEN + 1 + 10];
    size_t h = 0;
    head[h++] = (1 << 3) | 2; /* stream: length-delimited */
    for (size_t x = nlen;; x >>= 7) {
        head[h++] = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
        if (x <= 0x7f)
            break;
    }
    memcpy(head + h, name, nlen);
    h += nlen;
    if (seq) {
        head[h++] = (2 << 3) | 0; /* seq: varint */
        for (uint64_t x = seq;; x >>= 7) {
            head[h++] = (uint8_t)((x & 0x7f) | (x > 0x7f ? 0x80 : 0));
            if (x <= 0x7f)
                break;
        }
    }
    *len = h + v->mv_size;
    uint8_t *out = buf;
    if (*len > cap) {
        out = *big = malloc(*len);
        if (!out)
            return NULL;
    }
    memcpy(out, head, h);
    if (v->mv_size)
        memcpy(out + h, stored, v->mv_size);
    return out;
}

int stream_read(store *st, MDB_txn *txn, const char *name, uint64_t after_seq, size_t max, stream_visit_fn fn,
                void *ctx)
{
    if (!name_ok(name) || max == 0)
        return 0;
    if (after_seq == UINT64_MAX)
        return 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->streams, &cur);
    if (rc)
        return rc < 0 ? rc : -rc;
    size_t nlen = strlen(name);
    uint8_t key[NAME_MAX_LEN + 9];
    MDB_val k = { entry_key(key, name, nlen, after_seq + 1), key }, v;
    int n = 0;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != nlen + 9 || memcmp(k.mv_data, name, nlen) != 0 || ((uint8_t *)k.mv_data)[nlen] != 0)
            break;
        uint64_t seq = store_get_be64((uint8_t *)k.mv_data + nlen + 1);
        n++;
        uint8_t buf[4096], *big = NULL;
        size_t len;
        const uint8_t *bytes = entry_bytes(name, nlen, seq, &v, buf, sizeof buf, &big, &len);
        if (!bytes) {
            rc = ENOMEM;
            break;
        }
        int stop = fn(ctx, seq, bytes, len);
        free(big);
        if (stop || (size_t)n >= max)
            break;
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return rc < 0 ? rc : -rc;
    return n;
}

void stream_default_for(const Whistle__V1__Principal *who, char *buf, size_t len)
{
    if (!len)
        return;
    buf[0] = 0;
    if (!who)
        return;
    switch (who->role) {
    case WHISTLE__V1__ROLE__ROLE_ADMIN: break;
    case WHISTLE__V1__ROLE__ROLE_GATEWAY: break; /* it follows the streams of those it acts for */
    case WHISTLE__V1__ROLE__ROLE_OPERATOR:
        /* a district's command center (a 6-digit scope) has the district's
         * escalations; a street's its case feed */
        snprintf(buf, len, "%s:%s", who->scope && strlen(who->scope) == 6 ? "district" : "street",
                 who->scope ? who->scope : "");
        break;
    case WHISTLE__V1__ROLE__ROLE_DEPARTMENT:
        snprintf(buf, len, "dept:%s", who->department ? who->department : "");
        break;
    case WHISTLE__V1__ROLE__ROLE_BRIDGE:
        /* a district's federation link: what the district tells the city */
        snprintf(buf, len, "fed:%s", who->scope ? who->scope : "");
        break;
    case WHISTLE__V1__ROLE__ROLE_VOLUNTEER:
        /* a volunteer's work comes from its community: the members' feed */
        snprintf(buf, len, "members:%s", who->scope ? who->scope : "");
        break;
    default: snprintf(buf, len, "principal:%s", who->name ? who->name : ""); break;
    }
}

static bool has_prefix(const char *s, const char *p) { return strncmp(s, p, strlen(p)) == 0; }

/* "<prefix><code>" whose code is exactly digits long and inside scope: a
 * real street's or district's feed, not any name that starts like one. */
static bool code_stream(const char *name, const char *prefix, size_t digits, const char *scope)
{
    if (!has_prefix(name, prefix))
        return false;
    const char *code = name + strlen(prefix);
    return digits_ok(code, digits) && *scope && has_prefix(code, scope);
}

bool stream_allowed(const Whistle__V1__Principal *who, const char *name)
{
    if (!who || !name_ok(name))
        return false;
    const char *scope = who->scope ? who->scope : "";
    switch (who->role) {
    case WHISTLE__V1__ROLE__ROLE_ADMIN: return true;
    case WHISTLE__V1__ROLE__ROLE_OPERATOR:
        /* An operator's scope is its street (or, for a district center, a
         * district): any street feed inside it. */
        return code_stream(name, "district:", 6, scope) || code_stream(name, "street:", 9, scope);
    case WHISTLE__V1__ROLE__ROLE_DEPARTMENT:
        return has_prefix(name, "dept:") && who->department && *who->department &&
               strcmp(name + 5, who->department) == 0;
    case WHISTLE__V1__ROLE__ROLE_VOLUNTEER:
        /* its home community's tasks for registered members, or its own */
        return code_stream(name, "members:", 12, scope) ||
               (has_prefix(name, "principal:") && who->name && *who->name && strcmp(name + 10, who->name) == 0);
    case WHISTLE__V1__ROLE__ROLE_BRIDGE:
        /* its own district's federation stream only: exactly the district
         * it is bound to, never a street's or another district's */
        return code_stream(name, "fed:", 6, scope) && strlen(scope) == 6;
    case WHISTLE__V1__ROLE__ROLE_COMMUNITY:
        if (code_stream(name, "members:", 12, scope))
            return true;
        return has_prefix(name, "principal:") && who->name && *who->name && strcmp(name + 10, who->name) == 0;
    case WHISTLE__V1__ROLE__ROLE_UNSPECIFIED:
    case WHISTLE__V1__ROLE__ROLE_GATEWAY: return false;
    default: return has_prefix(name, "principal:") && who->name && *who->name && strcmp(name + 10, who->name) == 0;
    }
}

/* ------------------------------------------------------------ retention */

/* The at_ms of entry seq of the stream (its Push), or -1 when it cannot be
 * read. */
static int64_t entry_at(MDB_txn *txn, MDB_dbi dbi, const char *name, size_t nlen, uint64_t seq)
{
    uint8_t key[NAME_MAX_LEN + 9];
    MDB_val k = { entry_key(key, name, nlen, seq), key }, v;
    if (mdb_get(txn, dbi, &k, &v) != 0)
        return -1;
    Whistle__V1__Push *p = whistle__v1__push__unpack(NULL, v.mv_size, v.mv_data);
    if (!p)
        return -1;
    int64_t at = p->at_ms;
    whistle__v1__push__free_unpacked(p, NULL);
    return at;
}

int stream_trim_next(store *st, MDB_txn *txn, char pos[STREAM_NAME_BUF], int64_t before_ms)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(txn, st->stream_meta, &cur);
    if (rc)
        return -rc;
    size_t pl = strlen(pos);
    MDB_val k = { pl, pos }, v;
    rc = pl ? mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE) : mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc == 0 && pl && k.mv_size == pl && memcmp(k.mv_data, pos, pl) == 0)
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    if (rc == MDB_NOTFOUND) /* past the last stream: round again */
        rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
    if (rc || k.mv_size == 0 || k.mv_size > NAME_MAX_LEN) {
        mdb_cursor_close(cur);
        pos[0] = 0;
        return rc == MDB_NOTFOUND || rc == 0 ? 0 : -rc;
    }
    memcpy(pos, k.mv_data, k.mv_size);
    pos[k.mv_size] = 0;
    Whistled__StreamMeta *m = whistled__stream_meta__unpack(NULL, v.mv_size, v.mv_data);
    mdb_cursor_close(cur);
    if (!m)
        return 0;
    uint64_t next = m->trimmed + 1;
    bool due = next <= m->cursor;
    whistled__stream_meta__free_unpacked(m, NULL);
    if (!due)
        return 0;
    int64_t at = entry_at(txn, st->streams, pos, strlen(pos), next);
    return at >= 0 && at < before_ms ? 1 : 0;
}

int stream_trim(store *st, MDB_txn *txn, const char *name, int64_t before_ms, size_t max, size_t *trimmed)
{
    *trimmed = 0;
    if (!name_ok(name))
        return 0;
    Whistled__StreamMeta m = WHISTLED__STREAM_META__INIT;
    int rc = meta_read(st, txn, name, &m);
    if (rc)
        return rc;
    size_t nlen = strlen(name);
    uint64_t seq = m.trimmed + 1;
    while (*trimmed < max && seq <= m.cursor) {
        int64_t at = entry_at(txn, st->streams, name, nlen, seq);
        if (at < 0 || at >= before_ms)
            break;
        uint8_t key[NAME_MAX_LEN + 9];
        MDB_val k = { entry_key(key, name, nlen, seq), key };
        rc = mdb_del(txn, st->streams, &k, NULL);
        if (rc)
            return rc;
        seq++;
        (*trimmed)++;
    }
    if (!*trimmed)
        return 0;
    m.trimmed = seq - 1;
    return store_put(txn, st->stream_meta, name, nlen, &m.base);
}
