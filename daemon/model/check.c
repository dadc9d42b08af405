/* check.c: see check.h. Every walk reads one database in key order and
 * looks its partners up with mdb_get, so each rule is checked from both
 * sides (record -> index row, index row -> record) and a stale or missing
 * row shows on one of them. */
#include "check.h"
#include "places.h"

#include <errno.h>
#include <lmdb.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "archive_record.h"
#include "arena.h"
#include "audit.h"
#include "blobs.h"
#include "daemon/records.pb-c.h"
#include "deadline_rows.h"
#include "event_record.h"
#include "order_record.h"
#include "store.h"
#include "volrec.h"
#include "whistle/v1/whistle.pb-c.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s

/* Where the walk of the stream entries is: the stream it is in and how
 * many of its entries it has seen. */
typedef struct stream_walk {
    char name[512];
    uint64_t count;
    bool open;
} stream_walk;

typedef struct checker {
    MDB_env *env;
    MDB_txn *txn;
    MDB_dbi meta, events, ev_by_state, ev_by_node, orders, ord_by_dept, streams, stream_meta, idem, nodes, departments,
        categories, principals, audit;
    MDB_dbi deadlines, supervisions;                                      /* deadline.c, supervision.c */
    bool have_deadlines;                                                  /* a store from before them has none */
    MDB_dbi service_classes, services;                                    /* the service catalogue (services.c) */
    bool have_services;                                                   /* likewise */
    MDB_dbi arc_households, arc_hh_by_node, arc_residents, arc_res_by_hh; /* the resident archive */
    bool have_archive;                                                    /* likewise */
    MDB_dbi ev_timeline;                                   /* schema 2: a case's timeline rows; 3: events itself */
    MDB_dbi ord_by_street_state, idem_by_time;             /* schema 2 */
    uint32_t schema;                                       /* the store's layout version */
    MDB_dbi delib_bodies, delib_proposals, delib_meetings; /* deliberation.c */
    bool have_delib;                                       /* likewise */
    MDB_dbi delib_by_body; /* a body's records; checked once built (store_delib_index builds it at open) */
    bool have_delib_index;
    MDB_dbi vol_wishes, vol_ledger, vol_balances, vol_index; /* the volunteers' (volrec.h) */
    MDB_dbi vol_people, vol_shop, vol_mtasks;
    bool have_vol;     /* likewise */
    char vol_comm[13]; /* the community whose balances are being summed */
    int64_t vol_sum;
    FILE *out;
    check_report *rep;
    uint64_t order_seq, audit_seq;
    stream_walk sw;
    uint64_t audit_expect;            /* the seq the next audit record must have */
    uint8_t *audit_bits;              /* schema 3: the seqs seen, one bit each */
    MDB_dbi photo_uploads, photo_att; /* photo_record.h */
    bool have_photos;
    const char *blobs; /* the photos' files (NULL: not looked at) */
    bool hash_photos;  /* hashed (else their sizes compared) */
} checker;

static void violation(checker *ck, const char *db, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void violation(checker *ck, const char *db, const char *key, const char *fmt, ...)
{
    ck->rep->violations++;
    if (ck->rep->violations > CHECK_MAX_LINES)
        return;
    if (ck->rep->violations == CHECK_MAX_LINES) {
        fprintf(ck->out, "check: more than %d violations; only the count goes on\n", CHECK_MAX_LINES);
        return;
    }
    fprintf(ck->out, "check: %s %s: ", db, key);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(ck->out, fmt, ap);
    va_end(ap);
    fputc('\n', ck->out);
}

/* A key for messages: printable ASCII as it is, anything else as hex. */
static const char *key_text(arena *a, const void *data, size_t len)
{
    const unsigned char *p = data;
    bool printable = len > 0;
    for (size_t i = 0; i < len; i++)
        printable &= p[i] > 0x20 && p[i] < 0x7f;
    if (printable)
        return arena_strndup(a, data, len);
    char *s = arena_alloc(a, 2 * len + 3);
    strcpy(s, "0x");
    for (size_t i = 0; i < len; i++)
        sprintf(s + 2 + 2 * i, "%02x", p[i]);
    return s;
}

static bool has(checker *ck, MDB_dbi dbi, const void *key, size_t klen)
{
    if (klen == 0 || klen > 511)
        return false;
    MDB_val k = { klen, (void *)key }, v;
    return mdb_get(ck->txn, dbi, &k, &v) == 0;
}

static void *get(checker *ck, MDB_dbi dbi, const void *key, size_t klen, const ProtobufCMessageDescriptor *d, arena *a)
{
    void *out = NULL;
    store_get(ck->txn, dbi, key, klen, d, a, &out);
    return out;
}

static bool has_str(checker *ck, MDB_dbi dbi, const char *s) { return s && *s && has(ck, dbi, s, strlen(s)); }

static uint64_t meta_u64(checker *ck, const char *name, bool *present)
{
    MDB_val k = { strlen(name), (void *)name }, v;
    *present = false;
    if (mdb_get(ck->txn, ck->meta, &k, &v) != 0)
        return 0;
    *present = true;
    if (v.mv_size != 8) {
        violation(ck, "meta", name, "counter is %zu bytes; counters are 8 (u64 big-endian)", v.mv_size);
        return 0;
    }
    return store_get_be64(v.mv_data);
}

/* Calls fn for every entry of dbi, in key order. */
typedef void (*walk_fn)(checker *ck, const MDB_val *k, const MDB_val *v, arena *a);
static int walk(checker *ck, MDB_dbi dbi, walk_fn fn)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(ck->txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        ck->rep->records++;
        arena *a = arena_new();
        fn(ck, &k, &v, a);
        arena_free(a);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

/* ------------------------------------------------------------ the resident archive */

static void check_deadline_rows(checker *ck, const char *db, const char *key, uint8_t keys[][DEADLINE_KEY_MAX],
                                const size_t *lens, size_t n, arena *a);

/* A household: its node index row and its visit's deadline row. */
static void walk_household(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__ArchiveHousehold *h =
        whistle__v1__archive_household__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!h || k->mv_size != 8 || h->id != store_get_be64(k->mv_data)) {
        violation(ck, "arc_households", key, "does not unpack, or its key is not its id");
        return;
    }
    size_t nl = strlen(str0(h->node));
    uint8_t *nk = arena_alloc(a, nl + 9);
    memcpy(nk, str0(h->node), nl);
    nk[nl] = '/';
    memcpy(nk + nl + 1, k->mv_data, 8);
    if (!has(ck, ck->arc_hh_by_node, nk, nl + 9))
        violation(ck, "arc_households", key, "has no row in arc_hh_by_node under %s", str0(h->node));
    uint8_t dk[1][DEADLINE_KEY_MAX];
    size_t dl[1] = { arc_household_deadline_key(h, dk[0]) };
    check_deadline_rows(ck, "arc_households", key, dk, dl, dl[0] ? 1 : 0, a);
}

/* A resident: its household exists and lists it. */
static void walk_resident(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistled__ArcResident *s = whistled__arc_resident__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    Whistle__V1__ArchiveResident *r =
        s ? whistle__v1__archive_resident__unpack(arena_allocator(a), s->resident.len, s->resident.data) : NULL;
    if (!r || k->mv_size != 8 || r->id != store_get_be64(k->mv_data)) {
        violation(ck, "arc_residents", key, "does not unpack, or its key is not its id");
        return;
    }
    if (*str0(r->id_number) || *str0(r->phone))
        violation(ck, "arc_residents", key, "holds an ID-card number or a phone in clear (they are stored sealed)");
    uint8_t hk[16];
    store_be64(hk, r->household_id);
    memcpy(hk + 8, k->mv_data, 8);
    if (!has(ck, ck->arc_households, hk, 8))
        violation(ck, "arc_residents", key, "its household %llu does not exist", (unsigned long long)r->household_id);
    else if (!has(ck, ck->arc_res_by_hh, hk, 16))
        violation(ck, "arc_residents", key, "has no row in arc_res_by_hh");
}

/* ------------------------------------------------------------ meta */

static void check_meta(checker *ck)
{
    MDB_val k = { 6, "schema" }, v;
    if (mdb_get(ck->txn, ck->meta, &k, &v) != 0) {
        violation(ck, "meta", "schema", "missing: every store records its schema version");
    } else {
        const uint8_t *p = v.mv_data;
        uint32_t s = v.mv_size == 4 ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
        if (s == 0 || s > STORE_SCHEMA_VERSION)
            violation(ck, "meta", "schema", "version %u; this whistled knows 1 to %u", s, STORE_SCHEMA_VERSION);
        ck->schema = s;
    }
    bool present;
    ck->order_seq = meta_u64(ck, "order_seq", &present);
    ck->audit_seq = meta_u64(ck, "audit_seq", &present);
}

/* ------------------------------------------------------------ directory */

static void walk_node(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__Node *n = whistle__v1__node__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!n) {
        violation(ck, "nodes", key, "record does not unpack as whistle.v1.Node");
        return;
    }
    if (strlen(n->code) != k->mv_size || memcmp(n->code, k->mv_data, k->mv_size) != 0)
        violation(ck, "nodes", key, "record's code is \"%s\"", n->code);
    if (*n->parent && !has_str(ck, ck->nodes, n->parent))
        violation(ck, "nodes", key, "parent %s does not exist", n->parent);
    if (*n->parent && strncmp(n->code, n->parent, strlen(n->parent)) != 0)
        violation(ck, "nodes", key, "code does not start with its parent's code %s", n->parent);
}

static void walk_department(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__Department *d = whistle__v1__department__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!d)
        violation(ck, "departments", key, "record does not unpack as whistle.v1.Department");
    else if (strlen(d->code) != k->mv_size || memcmp(d->code, k->mv_data, k->mv_size) != 0)
        violation(ck, "departments", key, "record's code is \"%s\"", d->code);
}

static void walk_category(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__Category *c = whistle__v1__category__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!c) {
        violation(ck, "categories", key, "record does not unpack as whistle.v1.Category");
        return;
    }
    if (strlen(c->code) != k->mv_size || memcmp(c->code, k->mv_data, k->mv_size) != 0)
        violation(ck, "categories", key, "record's code is \"%s\"", c->code);
    for (size_t i = 0; i < c->n_departments; i++)
        if (!has_str(ck, ck->departments, c->departments[i]))
            violation(ck, "categories", key, "responsible department %s does not exist", c->departments[i]);
}

static bool digits_n(const char *s, size_t n)
{
    if (strlen(s) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

static void walk_service_class(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__ServiceClass *c = whistle__v1__service_class__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!c) {
        violation(ck, "service_classes", key, "record does not unpack as whistle.v1.ServiceClass");
        return;
    }
    if (strlen(c->code) != k->mv_size || memcmp(c->code, k->mv_data, k->mv_size) != 0)
        violation(ck, "service_classes", key, "record's code is \"%s\"", c->code);
    else if (!digits_n(c->code, 2))
        violation(ck, "service_classes", key, "a service class code is 2 digits");
    if (!*c->name_zh)
        violation(ck, "service_classes", key, "no Chinese name");
}

/* An item's class is the first 2 digits of its code, and exists. */
static void walk_service(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__ServiceItem *s = whistle__v1__service_item__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!s) {
        violation(ck, "services", key, "record does not unpack as whistle.v1.ServiceItem");
        return;
    }
    if (strlen(s->code) != k->mv_size || memcmp(s->code, k->mv_data, k->mv_size) != 0) {
        violation(ck, "services", key, "record's code is \"%s\"", s->code);
        return;
    }
    if (!digits_n(s->code, 4)) {
        violation(ck, "services", key, "a service code is 4 digits");
        return;
    }
    if (strlen(s->class_code) != 2 || strncmp(s->class_code, s->code, 2) != 0)
        violation(ck, "services", key, "class_code is \"%s\", not the code's first 2 digits", s->class_code);
    else if (!has_str(ck, ck->service_classes, s->class_code))
        violation(ck, "services", key, "service class %s does not exist", s->class_code);
    if (!*s->name_zh)
        violation(ck, "services", key, "no Chinese name");
    if (*s->department && !has_str(ck, ck->departments, s->department))
        violation(ck, "services", key, "department %s does not exist", s->department);
}

/* ------------------------------------------------------------ deliberation */

/* A record keyed by its u64 id; NULL (and a violation) when it does not
 * unpack or its id is not its key. */
static void *delib_record(checker *ck, const char *db, const MDB_val *k, const MDB_val *v, arena *a,
                          const ProtobufCMessageDescriptor *d, const char **key)
{
    uint64_t id = k->mv_size == 8 ? store_get_be64(k->mv_data) : 0;
    *key = arena_printf(a, "%llu", (unsigned long long)id);
    if (!id) {
        violation(ck, db, key_text(a, k->mv_data, k->mv_size), "key is not a u64 id");
        return NULL;
    }
    ProtobufCMessage *m = protobuf_c_message_unpack(d, arena_allocator(a), v->mv_size, v->mv_data);
    if (!m)
        violation(ck, db, *key, "record does not unpack as %s", d->name);
    else if (*(const uint64_t *)((const char *)m + d->fields[0].offset) != id)
        violation(ck, db, *key, "record's id is not its key");
    return m;
}

static bool delib_has(checker *ck, MDB_dbi dbi, uint64_t id)
{
    uint8_t k[8];
    store_be64(k, id);
    return id && has(ck, dbi, k, 8);
}

/* A body's place exists; each seat's principal exists; it has a chair. */
static void walk_delib_body(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key;
    Whistle__V1__DelibBody *b = delib_record(ck, "delib_bodies", k, v, a, &whistle__v1__delib_body__descriptor, &key);
    if (!b)
        return;
    if (!has_str(ck, ck->nodes, b->place) || !has_str(ck, ck->nodes, b->community))
        violation(ck, "delib_bodies", key, "place %s or community %s does not exist", b->place, b->community);
    bool chair = false;
    for (size_t i = 0; i < b->n_seats; i++) {
        chair |= b->seats[i]->role == WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_CHAIR;
        if (!has_str(ck, ck->principals, b->seats[i]->principal))
            violation(ck, "delib_bodies", key, "seat %zu: principal %s does not exist", i + 1, b->seats[i]->principal);
    }
    if (!chair)
        violation(ck, "delib_bodies", key, "no seat is the chair's");
    if (!b->rules || !b->rules->quorum_den || !b->rules->majority_den || !b->rules->sign_den)
        violation(ck, "delib_bodies", key, "its rules are not filled in");
    /* parties sit on mediations, whose rules are every party's */
    bool med = b->kind == WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION;
    size_t parties = 0;
    for (size_t i = 0; i < b->n_seats; i++)
        parties += b->seats[i]->role == WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_PARTY;
    if (!med && parties)
        violation(ck, "delib_bodies", key, "a council with %zu part%s (a mediation's role)", parties,
                  parties == 1 ? "y" : "ies");
    if (med && (parties < 2 || !b->rules || b->rules->quorum_num != b->rules->quorum_den ||
                b->rules->majority_num != b->rules->majority_den || !b->rules->majority_of_all_seats ||
                b->rules->sign_num != b->rules->sign_den))
        violation(ck, "delib_bodies", key, "a mediation needs two parties or more and every party's rules (1/1)");
}

/* A proposal ('p') or meeting ('m') has its entry in delib_by_body. */
static void delib_indexed(checker *ck, const char *db, const char *key, uint64_t body, char kind, uint64_t id)
{
    uint8_t k[17];
    store_be64(k, body);
    k[8] = (uint8_t)kind;
    store_be64(k + 9, id);
    if (ck->have_delib_index && !has(ck, ck->delib_by_body, k, sizeof k))
        violation(ck, db, key, "not in delib_by_body under body %llu", (unsigned long long)body);
}

/* An entry of delib_by_body: its record exists and is the body's. */
static void walk_delib_by_body(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    (void)v;
    const uint8_t *p = k->mv_data;
    const char *key = key_text(a, k->mv_data, k->mv_size);
    if (k->mv_size != 17 || (p[8] != 'p' && p[8] != 'm')) {
        violation(ck, "delib_by_body", key, "key is not body | p or m | id");
        return;
    }
    uint64_t body = store_get_be64(p), id = store_get_be64(p + 9);
    bool prop = p[8] == 'p';
    ProtobufCMessage *m =
        get(ck, prop ? ck->delib_proposals : ck->delib_meetings, p + 9, 8,
            prop ? &whistle__v1__delib_proposal__descriptor : &whistle__v1__delib_meeting__descriptor, a);
    uint64_t has_body = !m     ? 0
                        : prop ? ((Whistle__V1__DelibProposal *)m)->body_id
                               : ((Whistle__V1__DelibMeeting *)m)->body_id;
    if (!m)
        violation(ck, "delib_by_body", key, "%s %llu does not exist", prop ? "proposal" : "meeting",
                  (unsigned long long)id);
    else if (has_body != body)
        violation(ck, "delib_by_body", key, "%s %llu is body %llu's", prop ? "proposal" : "meeting",
                  (unsigned long long)id, (unsigned long long)has_body);
}

static void walk_delib_proposal(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key;
    Whistle__V1__DelibProposal *p =
        delib_record(ck, "delib_proposals", k, v, a, &whistle__v1__delib_proposal__descriptor, &key);
    if (!p)
        return;
    if (!delib_has(ck, ck->delib_bodies, p->body_id))
        violation(ck, "delib_proposals", key, "body %llu does not exist", (unsigned long long)p->body_id);
    if (p->meeting_id && !delib_has(ck, ck->delib_meetings, p->meeting_id))
        violation(ck, "delib_proposals", key, "meeting %llu does not exist", (unsigned long long)p->meeting_id);
    if (p->eligible_ms < p->published_ms)
        violation(ck, "delib_proposals", key, "eligible before it was published");
    delib_indexed(ck, "delib_proposals", key, p->body_id, 'p', p->id);
}

static void walk_delib_meeting(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key;
    Whistle__V1__DelibMeeting *m =
        delib_record(ck, "delib_meetings", k, v, a, &whistle__v1__delib_meeting__descriptor, &key);
    if (!m)
        return;
    if (!delib_has(ck, ck->delib_bodies, m->body_id))
        violation(ck, "delib_meetings", key, "body %llu does not exist", (unsigned long long)m->body_id);
    delib_indexed(ck, "delib_meetings", key, m->body_id, 'm', m->id);
    for (size_t i = 0; i < m->n_items; i++)
        if (m->items[i]->proposal_id && !delib_has(ck, ck->delib_proposals, m->items[i]->proposal_id))
            violation(ck, "delib_meetings", key, "item %zu: proposal %llu does not exist", i + 1,
                      (unsigned long long)m->items[i]->proposal_id);
    if (m->minutes && m->minutes->published && m->minutes->n_signatures < m->minutes->required)
        violation(ck, "delib_meetings", key, "minutes published with %zu of %u signatures", m->minutes->n_signatures,
                  m->minutes->required);
}

static void walk_principal(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__Principal *p = whistle__v1__principal__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!p) {
        violation(ck, "principals", key, "record does not unpack as whistle.v1.Principal");
        return;
    }
    if (strlen(p->name) != k->mv_size || memcmp(p->name, k->mv_data, k->mv_size) != 0)
        violation(ck, "principals", key, "record's name is \"%s\"", p->name);
    if (p->role == WHISTLE__V1__ROLE__ROLE_DEPARTMENT && !has_str(ck, ck->departments, p->department))
        violation(ck, "principals", key, "department %s does not exist", p->department);
    if (*p->scope && !has_str(ck, ck->nodes, p->scope))
        violation(ck, "principals", key, "scope %s is not a node", p->scope);
}

/* ------------------------------------------------------------ cases */

static size_t state_key(uint8_t *key, int state, const char *ticket)
{
    size_t n = strlen(ticket);
    key[0] = (uint8_t)state;
    memcpy(key + 1, ticket, n);
    return n + 1;
}

/* Tickets are E + yyyymmdd + a day counter of at least 5 digits; the
 * counter "ticket:<yyyymmdd>" in meta must have reached it, or the next
 * report of that day would take the ticket again. */
static void check_ticket_counter(checker *ck, const char *ticket)
{
    size_t n = strlen(ticket);
    if (n < 14 || ticket[0] != 'E') {
        violation(ck, "events", ticket, "ticket is not E + yyyymmdd + a number");
        return;
    }
    for (size_t i = 1; i < n; i++)
        if (ticket[i] < '0' || ticket[i] > '9') {
            violation(ck, "events", ticket, "ticket is not E + yyyymmdd + a number");
            return;
        }
    char name[32];
    snprintf(name, sizeof name, "ticket:%.8s", ticket + 1);
    bool present;
    uint64_t counter = meta_u64(ck, name, &present);
    uint64_t num = strtoull(ticket + 9, NULL, 10);
    if (!present || counter < num)
        violation(ck, "events", ticket, "meta %s is %llu, behind this ticket's number %llu", name,
                  (unsigned long long)counter, (unsigned long long)num);
}

/* The rules of the loop between a case and its orders (event.h,
 * dispatch.h): a whistled case has orders and is not yet resolved by them;
 * a case resolved by its orders has every live order done. */
static void check_case_orders(checker *ck, const Whistle__V1__Event *ev, Whistle__V1__Order **orders, size_t n)
{
    size_t done = 0, returned = 0;
    for (size_t i = 0; i < n; i++) {
        if (!orders[i])
            return; /* reported already */
        done += orders[i]->state == OS(DONE);
        returned += orders[i]->state == OS(RETURNED);
    }
    bool all_done = done > 0 && done + returned == n;
    if (ev->state == ES(WHISTLED) && n == 0)
        violation(ck, "events", ev->ticket, "is whistled but has no orders");
    if (ev->state == ES(WHISTLED) && all_done)
        violation(ck, "events", ev->ticket, "is whistled but every order is done or returned (should be resolved)");
    if (n > 0 && (ev->state == ES(RESOLVED) || ev->state == ES(VERIFIED) || ev->state == ES(CLOSED)) && !all_done)
        violation(ck, "events", ev->ticket, "is %s but not every live order is done",
                  ev->state == ES(RESOLVED)   ? "resolved"
                  : ev->state == ES(VERIFIED) ? "verified"
                                              : "closed");
    if (n > 0 && (ev->state == ES(REPORTED) || ev->state == ES(REJECTED)))
        violation(ck, "events", ev->ticket, "has orders but was never whistled (state %d)", ev->state);
}

/* The deadline rows a record calls for are all in the index (deadline.c
 * derives them from the record; the save hooks keep them in step). */
static void check_deadline_rows(checker *ck, const char *db, const char *key, uint8_t keys[][DEADLINE_KEY_MAX],
                                const size_t *lens, size_t n, arena *a)
{
    for (size_t i = 0; ck->have_deadlines && i < n; i++)
        if (!has(ck, ck->deadlines, keys[i], lens[i]))
            violation(ck, db, key, "deadlines has no row %s for a deadline it runs", key_text(a, keys[i], lens[i]));
}

/* Schema 2: the case's timeline is its rows in ev_timeline, indexes 0 to
 * timeline_total - 1 without a gap, the last in the case's state; the
 * record holds none itself. */
static void check_timeline_rows(checker *ck, const Whistle__V1__Event *ev, const char *key, arena *a)
{
    if (ev->n_timeline)
        violation(ck, "events", key, "holds %zu timeline entries in its record (they belong in ev_timeline)",
                  ev->n_timeline);
    if (ev->timeline_total == 0) {
        violation(ck, "events", key, "has an empty timeline (every case starts with its report)");
        return;
    }
    size_t tn = strlen(ev->ticket);
    if (tn > 500)
        return;
    uint8_t kb[512];
    memcpy(kb, ev->ticket, tn);
    kb[tn] = 0;
    memset(kb + tn + 1, 0, 4);
    MDB_cursor *cur;
    if (mdb_cursor_open(ck->txn, ck->ev_timeline, &cur))
        return;
    MDB_val k = { tn + 5, kb }, v;
    uint32_t want = 0;
    Whistle__V1__TimelineEntry *last = NULL;
    int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
    while (rc == 0 && k.mv_size == tn + 5 && memcmp(k.mv_data, kb, tn + 1) == 0) {
        const uint8_t *p = (const uint8_t *)k.mv_data + tn + 1;
        uint32_t idx = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
        ck->rep->records++;
        if (idx != want) {
            violation(ck, "ev_timeline", key, "entry %u where entry %u should be: the timeline has a gap", idx, want);
            want = idx;
        }
        last = whistle__v1__timeline_entry__unpack(arena_allocator(a), v.mv_size, v.mv_data);
        if (!last)
            violation(ck, "ev_timeline", key, "entry %u does not unpack as whistle.v1.TimelineEntry", idx);
        want++;
        rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT);
    }
    mdb_cursor_close(cur);
    if (want != ev->timeline_total)
        violation(ck, "events", key, "says it has %u timeline entries; ev_timeline has %u", ev->timeline_total, want);
    else if (last && last->state != ev->state)
        violation(ck, "events", key, "is in state %d but its last timeline entry (%s) says %d", ev->state, last->action,
                  last->state);
}

/* A timeline row belongs to a case that counts it. */
static void walk_ev_timeline(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    (void)v;
    const char *key = key_text(a, k->mv_data, k->mv_size);
    const uint8_t *nul = memchr(k->mv_data, 0, k->mv_size);
    if (!nul || k->mv_size - (size_t)(nul - (const uint8_t *)k->mv_data) != 5) {
        violation(ck, "ev_timeline", key, "key is not ticket | 0x00 | u32 index");
        return;
    }
    size_t tn = (size_t)(nul - (const uint8_t *)k->mv_data);
    uint32_t idx = (uint32_t)nul[1] << 24 | (uint32_t)nul[2] << 16 | (uint32_t)nul[3] << 8 | nul[4];
    Whistle__V1__Event *ev = get(ck, ck->events, k->mv_data, tn, &whistle__v1__event__descriptor, a);
    if (!ev)
        violation(ck, "ev_timeline", key, "entry of a case that does not exist");
    else if (idx >= ev->timeline_total)
        violation(ck, "ev_timeline", key, "entry %u past the case's %u", idx, ev->timeline_total);
}

/* Schema 4: a row by target of the audit log beside its case (audit.h)
 * names a record that exists, about that target, whose home is this case
 * (the case itself, or one of its orders). */
static void walk_case_audit_row(checker *ck, const MDB_val *k, arena *a)
{
    const uint8_t *p = k->mv_data;
    const char *key = key_text(a, p, k->mv_size);
    const uint8_t *nul = memchr(p, 0, k->mv_size);
    size_t tn = (size_t)(nul - p), head = tn + 2;
    const uint8_t *end = memchr(p + head, 0, k->mv_size - head);
    if (!end || k->mv_size != (size_t)(end - p) + 1 + 16 || end == p + head) {
        violation(ck, "events", key, "key is not ticket | 0x00 | 0xFF | target | 0x00 | at_ms | seq");
        return;
    }
    size_t tl = (size_t)(end - p) - head;
    uint64_t seq = store_get_be64(end + 1 + 8);
    uint8_t rk[AUDIT_KEY_LEN];
    rk[0] = AUDIT_LOG_TAG;
    memcpy(rk + 1, end + 1, 16);
    Whistled__AuditRecord *r = get(ck, ck->audit, rk, sizeof rk, &whistled__audit_record__descriptor, a);
    if (!r) {
        violation(ck, "events", key, "audit row of record %llu, which does not exist", (unsigned long long)seq);
        return;
    }
    size_t sl = r->target ? strlen(r->target) : 0;
    if ((sl > 400 ? 400 : sl) != tl || memcmp(r->target, p + head, tl) != 0) {
        violation(ck, "events", key, "audit row does not match record %llu's target", (unsigned long long)seq);
        return;
    }
    char home[AUDIT_HOME_MAX + 1];
    if (!audit_target_home(ck->txn, ck->events, ck->orders, r->target, home) || strlen(home) != tn ||
        memcmp(home, p, tn) != 0)
        violation(ck, "events", key, "audit row of target %s, which is not this case's", r->target);
}

static void walk_event(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    /* schema 3: a case's timeline rows follow its record in events; 4:
     * then the audit log's rows by target of the case and its orders */
    if (ck->schema >= 3 && memchr(k->mv_data, 0, k->mv_size)) {
        const uint8_t *nul = memchr(k->mv_data, 0, k->mv_size);
        size_t after = k->mv_size - (size_t)(nul - (const uint8_t *)k->mv_data);
        if (ck->schema >= 4 && after > 5 && nul[1] == AUDIT_CASE_ROW)
            walk_case_audit_row(ck, k, a);
        else
            walk_ev_timeline(ck, k, v, a);
        return;
    }
    const char *key = key_text(a, k->mv_data, k->mv_size);
    ck->rep->events++;
    Whistle__V1__Event *ev = whistle__v1__event__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!ev) {
        violation(ck, "events", key, "record does not unpack as whistle.v1.Event");
        return;
    }
    if (strlen(ev->ticket) != k->mv_size || memcmp(ev->ticket, k->mv_data, k->mv_size) != 0) {
        violation(ck, "events", key, "record's ticket is \"%s\"", ev->ticket);
        return;
    }
    check_ticket_counter(ck, ev->ticket);
    if (ev->state < ES(REPORTED) || ev->state > ES(CLOSED))
        violation(ck, "events", key, "state %d is not a case state", ev->state);
    /* schema 1: state | ticket; 2: state | street | '/' | ticket */
    uint8_t sk[1 + 512];
    if (strlen(ev->ticket) <= TICKET_MAX && strlen(ev->street) <= EVENT_STREET_MAX &&
        !has(ck, ck->ev_by_state, sk,
             ck->schema >= 2 ? event_state_key(sk, ev->state, ev->street, ev->ticket)
                             : state_key(sk, ev->state, ev->ticket)))
        violation(ck, "events", key, "ev_by_state has no row for its state %d", ev->state);
    char *nk = arena_printf(a, "%s/%s", ev->node, ev->ticket);
    if (!*ev->node || !has_str(ck, ck->ev_by_node, nk))
        violation(ck, "events", key, "ev_by_node has no row %s", nk);
    if (!has_str(ck, ck->nodes, ev->node))
        violation(ck, "events", key, "node %s is not in the tree", ev->node);
    if (!has_str(ck, ck->nodes, ev->street))
        violation(ck, "events", key, "street %s is not in the tree", ev->street);
    {
        uint8_t dkeys[1][DEADLINE_KEY_MAX];
        size_t dlens[1];
        size_t nd = deadline_event_keys(ev, dkeys, dlens);
        check_deadline_rows(ck, "events", key, dkeys, dlens, nd, a);
    }
    if (ck->schema >= 2)
        check_timeline_rows(ck, ev, key, a);
    else if (ev->n_timeline == 0)
        violation(ck, "events", key, "has an empty timeline (every case starts with its report)");
    else if (ev->timeline[ev->n_timeline - 1]->state != ev->state)
        violation(ck, "events", key, "is in state %d but its last timeline entry (%s) says %d", ev->state,
                  ev->timeline[ev->n_timeline - 1]->action, ev->timeline[ev->n_timeline - 1]->state);

    Whistle__V1__Order **orders = arena_alloc(a, (ev->n_order_ids + 1) * sizeof *orders);
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        uint64_t id = ev->order_ids[i];
        for (size_t j = 0; j < i; j++)
            if (ev->order_ids[j] == id)
                violation(ck, "events", key, "lists order %llu twice", (unsigned long long)id);
        uint8_t ok[8];
        store_be64(ok, id);
        orders[i] = get(ck, ck->orders, ok, 8, &whistle__v1__order__descriptor, a);
        if (!orders[i])
            violation(ck, "events", key, "lists order %llu, which does not exist", (unsigned long long)id);
        else if (strcmp(orders[i]->ticket, ev->ticket) != 0)
            violation(ck, "events", key, "lists order %llu, which belongs to %s", (unsigned long long)id,
                      orders[i]->ticket);
    }
    check_case_orders(ck, ev, orders, ev->n_order_ids);
}

static void walk_ev_by_state(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    if (k->mv_size < 2) {
        violation(ck, "ev_by_state", key, "row too short for state | ticket");
        return;
    }
    if (v->mv_size)
        violation(ck, "ev_by_state", key, "row has a value; index rows are empty");
    const uint8_t *p = k->mv_data;
    /* schema 1: state | ticket; 2: state | street | '/' | ticket */
    const uint8_t *tp = p + 1;
    if (ck->schema >= 2) {
        const uint8_t *slash = memchr(p + 1, '/', k->mv_size - 1);
        if (!slash) {
            violation(ck, "ev_by_state", key, "row is not state | street/ticket");
            return;
        }
        tp = slash + 1;
    }
    size_t tl = k->mv_size - (size_t)(tp - p);
    Whistle__V1__Event *ev = get(ck, ck->events, tp, tl, &whistle__v1__event__descriptor, a);
    const char *t = arena_strndup(a, (const char *)tp, tl);
    size_t sl = (size_t)(tp - p) - (ck->schema >= 2 ? 2 : 1);
    if (!ev)
        violation(ck, "ev_by_state", t, "row for state %u, but there is no such case", p[0]);
    else if ((int)ev->state != p[0])
        violation(ck, "ev_by_state", t, "row for state %u, but the case is in state %d", p[0], ev->state);
    else if (ck->schema >= 2 && (strlen(ev->street) != sl || memcmp(ev->street, p + 1, sl) != 0))
        violation(ck, "ev_by_state", t, "row for street %.*s, but the case is in street %s", (int)sl,
                  (const char *)p + 1, ev->street);
}

static void walk_ev_by_node(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    const char *slash = memchr(k->mv_data, '/', k->mv_size);
    if (!slash) {
        violation(ck, "ev_by_node", key, "row is not node/ticket");
        return;
    }
    if (v->mv_size)
        violation(ck, "ev_by_node", key, "row has a value; index rows are empty");
    size_t nlen = (size_t)(slash - (const char *)k->mv_data);
    const char *ticket = slash + 1;
    size_t tlen = k->mv_size - nlen - 1;
    Whistle__V1__Event *ev = get(ck, ck->events, ticket, tlen, &whistle__v1__event__descriptor, a);
    if (!ev)
        violation(ck, "ev_by_node", key, "row without its case");
    else if (strlen(ev->node) != nlen || memcmp(ev->node, k->mv_data, nlen) != 0)
        violation(ck, "ev_by_node", key, "row, but the case is at node %s", ev->node);
}

/* ------------------------------------------------------------ orders */

/* The byte of a state in the state indexes' rows: its group since schema
 * 4 (order_record.h), the state itself in 2 and 3. */
static uint8_t state_byte(const checker *ck, Whistle__V1__OrderState state)
{
    return (uint8_t)(ck->schema >= 4 ? order_state_group(state) : state);
}

/* An order's row in a state index, in the store's layout. */
static size_t state_row_key(const checker *ck, uint8_t *key, const char *code, Whistle__V1__OrderState state,
                            uint64_t id)
{
    size_t n = order_state_key(key, code, state, id);
    key[strlen(code) + 1] = state_byte(ck, state);
    return n;
}

static void walk_order(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    ck->rep->orders++;
    if (k->mv_size != 8) {
        violation(ck, "orders", key, "key is not a u64");
        return;
    }
    uint64_t id = store_get_be64(k->mv_data);
    key = arena_printf(a, "%llu", (unsigned long long)id);
    Whistle__V1__Order *o = whistle__v1__order__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!o) {
        violation(ck, "orders", key, "record does not unpack as whistle.v1.Order");
        return;
    }
    if (o->id != id)
        violation(ck, "orders", key, "record's id is %llu", (unsigned long long)o->id);
    if (id > ck->order_seq)
        violation(ck, "orders", key, "id above meta order_seq %llu (the next whistle would reuse it)",
                  (unsigned long long)ck->order_seq);
    if (o->state < OS(PENDING) || o->state > OS(RETURNED))
        violation(ck, "orders", key, "state %d is not an order state", o->state);
    if (!has_str(ck, ck->departments, o->department))
        violation(ck, "orders", key, "department %s does not exist", o->department);
    Whistle__V1__Event *ev = o->ticket && *o->ticket
                                 ? get(ck, ck->events, o->ticket, strlen(o->ticket), &whistle__v1__event__descriptor, a)
                                 : NULL;
    if (!ev) {
        violation(ck, "orders", key, "case %s does not exist", o->ticket);
    } else {
        bool listed = false;
        for (size_t i = 0; i < ev->n_order_ids; i++)
            listed |= ev->order_ids[i] == id;
        if (!listed)
            violation(ck, "orders", key, "case %s does not list it", o->ticket);
    }
    size_t dl = strlen(o->department);
    if (ck->schema < 2 && dl + 9 <= 511) {
        uint8_t *dk = arena_alloc(a, dl + 9);
        memcpy(dk, o->department, dl);
        dk[dl] = '/';
        store_be64(dk + dl + 1, id);
        if (!has(ck, ck->ord_by_dept, dk, dl + 9))
            violation(ck, "orders", key, "ord_by_dept has no row %s/%llu", o->department, (unsigned long long)id);
    }
    if (ck->schema >= 2) {
        uint8_t sk[ORDER_STATE_KEY_MAX];
        if (dl <= ORDER_CODE_MAX && !has(ck, ck->ord_by_dept, sk, state_row_key(ck, sk, o->department, o->state, id)))
            violation(ck, "orders", key, "ord_by_dept has no row %s/%d/%llu", o->department, o->state,
                      (unsigned long long)id);
        if (*o->street && strlen(o->street) <= ORDER_CODE_MAX &&
            !has(ck, ck->ord_by_street_state, sk, state_row_key(ck, sk, o->street, o->state, id)))
            violation(ck, "orders", key, "ord_by_street_state has no row for %s in state %d", o->street, o->state);
    }
    uint8_t keys[DEADLINE_ROWS_MAX][DEADLINE_KEY_MAX];
    size_t lens[DEADLINE_ROWS_MAX];
    size_t nk = deadline_order_keys(o, keys, lens);
    check_deadline_rows(ck, "orders", key, keys, lens, nk, a);
}

/* Each deadline row is called for by its record: an order or a case that
 * still runs that deadline. */
static void walk_deadline(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    (void)v;
    const char *key = key_text(a, k->mv_data, k->mv_size);
    const uint8_t *p = k->mv_data;
    if (k->mv_size < 10 || k->mv_size > DEADLINE_KEY_MAX) {
        violation(ck, "deadlines", key, "key is not due | kind | target");
        return;
    }
    uint8_t keys[DEADLINE_ROWS_MAX][DEADLINE_KEY_MAX];
    size_t lens[DEADLINE_ROWS_MAX], n = 0;
    if (p[8] == DL_WISH_CLAIM) {
        Whistle__V1__Wish *w = ck->have_vol && k->mv_size == 17
                                   ? get(ck, ck->vol_wishes, p + 9, 8, &whistle__v1__wish__descriptor, a)
                                   : NULL;
        uint8_t wk[17];
        if (!w)
            violation(ck, "deadlines", key, "wish %llu does not exist", (unsigned long long)store_get_be64(p + 9));
        else if (volrec_wish_row(w, wk) != 17 || memcmp(wk, p, 17) != 0)
            violation(ck, "deadlines", key, "stale: wish %llu holds no claim due then", (unsigned long long)w->id);
        return;
    }
    if (p[8] == DL_POINTS_EXPIRE) {
        Whistle__V1__LedgerEntry *e = ck->have_vol && k->mv_size == 17
                                          ? get(ck, ck->vol_ledger, p + 9, 8, &whistle__v1__ledger_entry__descriptor, a)
                                          : NULL;
        if (!e)
            violation(ck, "deadlines", key, "ledger entry %llu does not exist",
                      (unsigned long long)store_get_be64(p + 9));
        else if (e->expires_ms != (int64_t)store_get_be64(p))
            violation(ck, "deadlines", key, "stale: entry %llu expires at another time", (unsigned long long)e->id);
        return;
    }
    if (p[8] == DL_CASE) {
        Whistle__V1__Event *ev = get(ck, ck->events, p + 9, k->mv_size - 9, &whistle__v1__event__descriptor, a);
        if (!ev) {
            violation(ck, "deadlines", key, "case %s does not exist",
                      arena_strndup(a, (const char *)p + 9, k->mv_size - 9));
            return;
        }
        n = deadline_event_keys(ev, keys, lens);
    } else if (p[8] == DL_VISIT) {
        Whistle__V1__ArchiveHousehold *h =
            k->mv_size == 17 && ck->have_archive
                ? get(ck, ck->arc_households, p + 9, 8, &whistle__v1__archive_household__descriptor, a)
                : NULL;
        if (!h) {
            violation(ck, "deadlines", key, "household %llu does not exist",
                      k->mv_size == 17 ? (unsigned long long)store_get_be64(p + 9) : 0ull);
            return;
        }
        lens[0] = arc_household_deadline_key(h, keys[0]);
        n = lens[0] ? 1 : 0;
    } else if (k->mv_size >= 17) {
        Whistle__V1__Order *o = get(ck, ck->orders, p + 9, 8, &whistle__v1__order__descriptor, a);
        if (!o) {
            violation(ck, "deadlines", key, "order %llu does not exist", (unsigned long long)store_get_be64(p + 9));
            return;
        }
        n = deadline_order_keys(o, keys, lens);
    }
    for (size_t i = 0; i < n; i++)
        if (lens[i] == k->mv_size && memcmp(keys[i], k->mv_data, k->mv_size) == 0)
            return;
    violation(ck, "deadlines", key, "stale: its record no longer runs this deadline");
}

/* ------------------------------------------------------------ volunteers (volrec.h) */

/* Whether vol_index has the row letter | prefix | '/' | id. */
static bool vol_row(checker *ck, char letter, const char *prefix, uint64_t id, arena *a)
{
    size_t pl = strlen(prefix);
    uint8_t *k = arena_alloc(a, pl + 10);
    k[0] = (uint8_t)letter;
    memcpy(k + 1, prefix, pl);
    k[pl + 1] = '/';
    store_be64(k + pl + 2, id);
    return has(ck, ck->vol_index, k, pl + 10);
}

static void walk_wish(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = k->mv_size == 8 ? arena_printf(a, "%llu", (unsigned long long)store_get_be64(k->mv_data))
                                      : key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__Wish *w = whistle__v1__wish__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!w) {
        violation(ck, "vol_wishes", key, "record does not unpack as whistle.v1.Wish");
        return;
    }
    uint8_t row[17];
    if (volrec_wish_row(w, row) && ck->have_deadlines && !has(ck, ck->deadlines, row, 17))
        violation(ck, "vol_wishes", key, "claimed, but deadlines has no row for the claim's lapse");
    if (!vol_row(ck, 'w', w->community, w->id, a))
        violation(ck, "vol_wishes", key, "the index of community %s's wishes has no row for it", w->community);
    MDB_val tk = { strlen(w->ticket) + 1, arena_printf(a, "t%s", w->ticket) }, tv;
    if (mdb_get(ck->txn, ck->vol_index, &tk, &tv) != 0 || tv.mv_size != 8 || store_get_be64(tv.mv_data) != w->id)
        violation(ck, "vol_wishes", key, "slip %s does not lead to it", w->ticket);
}

/* The other records of a community: each in its community's index. */
static void walk_vol_record(checker *ck, const MDB_val *k, const MDB_val *v, arena *a, const char *db, char letter,
                            const ProtobufCMessageDescriptor *d)
{
    const char *key = k->mv_size == 8 ? arena_printf(a, "%llu", (unsigned long long)store_get_be64(k->mv_data))
                                      : key_text(a, k->mv_data, k->mv_size);
    ProtobufCMessage *m = protobuf_c_message_unpack(d, arena_allocator(a), v->mv_size, v->mv_data);
    if (!m || k->mv_size != 8) {
        violation(ck, db, key, "record does not unpack as %s under a u64 id", d->name);
        return;
    }
    /* community is field 2 of Volunteer, ShopItem and MemberTask */
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, 2);
    const char *comm = f ? *(const char **)((const char *)m + f->offset) : "";
    if (!vol_row(ck, letter, comm ? comm : "", store_get_be64(k->mv_data), a))
        violation(ck, db, key, "the index of community %s has no row for it", comm ? comm : "");
}

static void walk_person(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    walk_vol_record(ck, k, v, a, "vol_people", 'c', &whistle__v1__volunteer__descriptor);
}
static void walk_item(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    walk_vol_record(ck, k, v, a, "vol_shop", 's', &whistle__v1__shop_item__descriptor);
}
static void walk_mtask(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    walk_vol_record(ck, k, v, a, "vol_mtasks", 'm', &whistle__v1__member_task__descriptor);
}

/* Each index row leads to its record. */
static void walk_vol_index(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    const uint8_t *p = k->mv_data;
    MDB_dbi target;
    const uint8_t *id;
    switch (k->mv_size ? p[0] : 0) {
    case 'c': target = ck->vol_people; goto by_key;
    case 'w': target = ck->vol_wishes; goto by_key;
    case 's': target = ck->vol_shop; goto by_key;
    case 'm': target = ck->vol_mtasks; goto by_key;
    case 'e':
    case 'a':
        target = ck->vol_ledger;
    by_key:
        if (k->mv_size < 11 || p[k->mv_size - 9] != '/') {
            violation(ck, "vol_index", key, "is not letter | key | '/' | id");
            return;
        }
        id = p + k->mv_size - 8;
        break;
    case 'p': target = ck->vol_people; goto by_value;
    case 't': target = ck->vol_wishes; goto by_value;
    case 'r':
        target = ck->vol_ledger;
    by_value:
        if (v->mv_size != 8) {
            violation(ck, "vol_index", key, "holds %zu bytes, not a u64 id", v->mv_size);
            return;
        }
        id = v->mv_data;
        break;
    default: violation(ck, "vol_index", key, "is of no index (volrec.h names them)"); return;
    }
    if (!has(ck, target, id, 8))
        violation(ck, "vol_index", key, "leads to record %llu, which does not exist",
                  (unsigned long long)store_get_be64(id));
}

/* Each ledger entry is well formed and in its indexes; its accounts have
 * a balance. */
static void walk_ledger(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = k->mv_size == 8 ? arena_printf(a, "%llu", (unsigned long long)store_get_be64(k->mv_data))
                                      : key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__LedgerEntry *e = whistle__v1__ledger_entry__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!e || k->mv_size != 8) {
        violation(ck, "vol_ledger", key, "record does not unpack as whistle.v1.LedgerEntry under a u64 id");
        return;
    }
    if (e->amount <= 0 || strcmp(e->from_account, e->to_account) == 0)
        violation(ck, "vol_ledger", key,
                  "moves %lld from %s to %s; an entry moves a positive amount between two "
                  "accounts",
                  (long long)e->amount, e->from_account, e->to_account);
    const char *accts[2] = { e->from_account, e->to_account };
    for (int i = 0; i < 2; i++) {
        const char *b = arena_printf(a, "%s/%s", e->community, accts[i]);
        const char *row = arena_printf(a, "a%s/", b);
        size_t rl = strlen(row);
        uint8_t *rk = arena_alloc(a, rl + 8);
        memcpy(rk, row, rl);
        store_be64(rk + rl, e->id);
        if (!has(ck, ck->vol_index, rk, rl + 8))
            violation(ck, "vol_ledger", key, "the index of account %s has no row for it", b);
        if (!has(ck, ck->vol_balances, b, strlen(b)))
            violation(ck, "vol_ledger", key, "account %s has no balance", b);
    }
}

static void balance_group_end(checker *ck)
{
    if (ck->vol_comm[0] && ck->vol_sum != 0)
        violation(ck, "vol_balances", ck->vol_comm,
                  "the community's accounts sum to %lld; double entry keeps them at 0", (long long)ck->vol_sum);
    ck->vol_comm[0] = 0;
    ck->vol_sum = 0;
}

/* Each balance is the sum of its account's entries, never below 0 but for
 * the issuing account; each community's balances sum to 0. */
static void walk_balance(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    if (k->mv_size < 14 || ((const char *)k->mv_data)[12] != '/' || v->mv_size != 8) {
        violation(ck, "vol_balances", key, "is not community/account -> i64");
        return;
    }
    if (memcmp(ck->vol_comm, k->mv_data, 12) != 0) {
        balance_group_end(ck);
        memcpy(ck->vol_comm, k->mv_data, 12);
        ck->vol_comm[12] = 0;
    }
    int64_t bal = (int64_t)store_get_be64(v->mv_data);
    ck->vol_sum += bal;
    const char *acct = arena_strndup(a, (const char *)k->mv_data + 13, k->mv_size - 13);
    if (bal < 0 && strcmp(acct, VOL_ISSUE) != 0)
        violation(ck, "vol_balances", key, "is %lld; no account but the issuing one goes below 0", (long long)bal);
    /* the sum of the account's entries */
    size_t pl = k->mv_size + 2;
    uint8_t *start = arena_alloc(a, pl + 8);
    start[0] = 'a';
    memcpy(start + 1, k->mv_data, k->mv_size);
    start[pl - 1] = '/';
    memset(start + pl, 0, 8);
    MDB_cursor *cur;
    if (mdb_cursor_open(ck->txn, ck->vol_index, &cur))
        return;
    MDB_val ik = { pl + 8, start }, iv;
    int64_t sum = 0;
    for (int rc = mdb_cursor_get(cur, &ik, &iv, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &ik, &iv, MDB_NEXT)) {
        if (ik.mv_size != pl + 8 || memcmp(ik.mv_data, start, pl) != 0)
            break;
        Whistle__V1__LedgerEntry *e =
            get(ck, ck->vol_ledger, (uint8_t *)ik.mv_data + pl, 8, &whistle__v1__ledger_entry__descriptor, a);
        if (!e) {
            violation(ck, "vol_index", key, "lists entry %llu, which does not exist",
                      (unsigned long long)store_get_be64((uint8_t *)ik.mv_data + pl));
            continue;
        }
        if (strcmp(e->to_account, acct) == 0)
            sum += e->amount;
        if (strcmp(e->from_account, acct) == 0)
            sum -= e->amount;
    }
    mdb_cursor_close(cur);
    if (sum != bal)
        violation(ck, "vol_balances", key, "is %lld but its entries sum to %lld", (long long)bal, (long long)sum);
}

static void walk_supervision(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    Whistle__V1__Supervision *s = whistle__v1__supervision__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (k->mv_size != 8 || !s) {
        violation(ck, "supervisions", key, "record does not unpack as whistle.v1.Supervision");
        return;
    }
    if (s->id != store_get_be64(k->mv_data))
        violation(ck, "supervisions", key, "record's id is %llu", (unsigned long long)s->id);
    if (!has_str(ck, ck->events, s->ticket))
        violation(ck, "supervisions", key, "case %s does not exist", s->ticket ? s->ticket : "");
    uint8_t ok[8];
    store_be64(ok, s->order_id);
    if (s->order_id && !has(ck, ck->orders, ok, 8))
        violation(ck, "supervisions", key, "order %llu does not exist", (unsigned long long)s->order_id);
    if (s->n_misses == 0)
        violation(ck, "supervisions", key, "has no miss (a supervision opens with one)");
}

static void walk_ord_state(checker *ck, const char *db, bool dept, const MDB_val *k, const MDB_val *v, arena *a);

static void walk_ord_by_dept(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    if (ck->schema >= 2) {
        walk_ord_state(ck, "ord_by_dept", true, k, v, a);
        return;
    }
    const char *key = key_text(a, k->mv_data, k->mv_size);
    if (k->mv_size < 10 || ((const uint8_t *)k->mv_data)[k->mv_size - 9] != '/') {
        violation(ck, "ord_by_dept", key, "row is not department/u64");
        return;
    }
    if (v->mv_size)
        violation(ck, "ord_by_dept", key, "row has a value; index rows are empty");
    size_t dl = k->mv_size - 9;
    const uint8_t *idb = (const uint8_t *)k->mv_data + dl + 1;
    uint64_t id = store_get_be64(idb);
    key = arena_printf(a, "%.*s/%llu", (int)dl, (const char *)k->mv_data, (unsigned long long)id);
    Whistle__V1__Order *o = get(ck, ck->orders, idb, 8, &whistle__v1__order__descriptor, a);
    if (!o)
        violation(ck, "ord_by_dept", key, "row without its order");
    else if (strlen(o->department) != dl || memcmp(o->department, k->mv_data, dl) != 0)
        violation(ck, "ord_by_dept", key, "row, but the order belongs to %s", o->department);
}

/* A row of a state index (code | '/' | u8 state | rest) names a record
 * in that state under that code. Returns the '/' or NULL. */
static const uint8_t *state_row(checker *ck, const char *db, const MDB_val *k, const MDB_val *v, size_t rest,
                                const char *key)
{
    const uint8_t *p = k->mv_data;
    if (k->mv_size < rest + 3 || (rest && p[k->mv_size - rest - 2] != '/')) {
        violation(ck, db, key, "row is not code/state/key");
        return NULL;
    }
    if (v->mv_size)
        violation(ck, db, key, "row has a value; index rows are empty");
    return rest ? p + k->mv_size - rest - 2 : memchr(p, '/', k->mv_size);
}

static void walk_ord_state(checker *ck, const char *db, bool dept, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *key = key_text(a, k->mv_data, k->mv_size);
    const uint8_t *slash = state_row(ck, db, k, v, 8, key);
    if (!slash)
        return;
    size_t cl = (size_t)(slash - (const uint8_t *)k->mv_data);
    Whistle__V1__Order *o = get(ck, ck->orders, slash + 2, 8, &whistle__v1__order__descriptor, a);
    const char *code = o ? (dept ? o->department : o->street) : "";
    if (!o)
        violation(ck, db, key, "row without its order");
    else if (state_byte(ck, o->state) != slash[1] || strlen(code) != cl || memcmp(code, k->mv_data, cl) != 0)
        violation(ck, db, key, "row, but the order is in state %d under %s", o->state, code);
}

static void walk_ord_by_street_state(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    walk_ord_state(ck, "ord_by_street_state", false, k, v, a);
}

/* ------------------------------------------------------------ streams */

/* Stream entries come in key order: name | 0 | seq, so one stream's
 * entries are together and in seq order. Gapless from 1 means the n-th
 * entry of a stream has seq n; the meta's last_seq must be the count. */
static void stream_end(checker *ck, arena *a)
{
    if (!ck->sw.open)
        return;
    ck->sw.open = false;
    MDB_val k = { strlen(ck->sw.name), ck->sw.name }, v;
    if (mdb_get(ck->txn, ck->stream_meta, &k, &v) != 0) {
        violation(ck, "streams", ck->sw.name, "%llu entries but no stream_meta", (unsigned long long)ck->sw.count);
        return;
    }
    Whistled__StreamMeta *m = whistled__stream_meta__unpack(arena_allocator(a), v.mv_size, v.mv_data);
    if (m && m->last_seq != ck->sw.count)
        violation(ck, "streams", ck->sw.name, "stream_meta last_seq is %llu but the stream has %llu entries",
                  (unsigned long long)m->last_seq, (unsigned long long)ck->sw.count);
}

static void walk_stream_entry(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    ck->rep->stream_entries++;
    const char *kd = k->mv_data;
    const char *nul = memchr(kd, 0, k->mv_size);
    if (!nul || k->mv_size != (size_t)(nul - kd) + 9 || nul == kd) {
        violation(ck, "streams", key_text(a, kd, k->mv_size), "key is not name | 0x00 | u64");
        return;
    }
    size_t nlen = (size_t)(nul - kd);
    uint64_t seq = store_get_be64((const uint8_t *)nul + 1);
    if (!ck->sw.open || strlen(ck->sw.name) != nlen || memcmp(ck->sw.name, kd, nlen) != 0) {
        stream_end(ck, a);
        snprintf(ck->sw.name, sizeof ck->sw.name, "%.*s", (int)nlen, kd);
        /* a stream whose oldest entries were let go (retention) starts
         * after them */
        ck->sw.count = 0;
        MDB_val mk = { nlen, (void *)kd }, mv;
        if (mdb_get(ck->txn, ck->stream_meta, &mk, &mv) == 0) {
            Whistled__StreamMeta *m = whistled__stream_meta__unpack(arena_allocator(a), mv.mv_size, mv.mv_data);
            if (m)
                ck->sw.count = m->trimmed;
        }
        ck->sw.open = true;
    }
    ck->sw.count++;
    const char *key = arena_printf(a, "%s#%llu", ck->sw.name, (unsigned long long)seq);
    if (seq != ck->sw.count) {
        violation(ck, "streams", key, "expected seq %llu here: the stream has a gap or a duplicate",
                  (unsigned long long)ck->sw.count);
        ck->sw.count = seq; /* one line per gap, not one per entry after it */
    }
    Whistle__V1__Push *p = whistle__v1__push__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!p)
        violation(ck, "streams", key, "entry does not unpack as whistle.v1.Push");
    /* schema 4 stores an entry without its stream and seq (stream.c); one
     * stored before says which it is */
    else if ((ck->schema < 4 || p->seq || *p->stream) && (p->seq != seq || strcmp(p->stream, ck->sw.name) != 0))
        violation(ck, "streams", key, "entry says it is %s#%llu", p->stream, (unsigned long long)p->seq);
}

static void walk_stream_meta(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const char *name = arena_strndup(a, k->mv_data, k->mv_size);
    Whistled__StreamMeta *m = whistled__stream_meta__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!m) {
        violation(ck, "stream_meta", name, "record does not unpack as whistled.StreamMeta");
        return;
    }
    if (m->cursor > m->last_seq)
        violation(ck, "stream_meta", name, "cursor %llu is past last_seq %llu", (unsigned long long)m->cursor,
                  (unsigned long long)m->last_seq);
    if (m->trimmed > m->cursor)
        violation(ck, "stream_meta", name, "entries up to %llu were let go, past the cursor %llu",
                  (unsigned long long)m->trimmed, (unsigned long long)m->cursor);
    /* The walk of the entries counted them from after the trimmed ones up;
     * here the newest must exist too (a meta whose entries are all
     * missing), unless retention let every one go. */
    if (m->last_seq > m->trimmed && k->mv_size + 9 <= 511) {
        uint8_t *ek = arena_alloc(a, k->mv_size + 9);
        memcpy(ek, k->mv_data, k->mv_size);
        ek[k->mv_size] = 0;
        store_be64(ek + k->mv_size + 1, m->last_seq);
        if (!has(ck, ck->streams, ek, k->mv_size + 9))
            violation(ck, "stream_meta", name, "last_seq is %llu but that entry does not exist",
                      (unsigned long long)m->last_seq);
    }
}

/* ------------------------------------------------------------ audit, idem */

/* Schema 3: an index row of the audit log (audit.h) names a record that
 * exists, with that principal or target. */
static void walk_audit_index(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    const uint8_t *p = k->mv_data;
    const char *key = key_text(a, p, k->mv_size);
    /* schema 4: a record whose row by principal waits (audit.h):
     * AUDIT_IX_PENDING | at_ms | seq -> its principal */
    if (ck->schema >= 4 && k->mv_size == AUDIT_KEY_LEN && p[0] == AUDIT_IX_PENDING) {
        uint8_t rk[AUDIT_KEY_LEN];
        memcpy(rk, p, sizeof rk);
        rk[0] = AUDIT_LOG_TAG;
        uint64_t seq = store_get_be64(p + 9);
        Whistled__AuditRecord *r = get(ck, ck->audit, rk, sizeof rk, &whistled__audit_record__descriptor, a);
        size_t sl = r && r->principal ? strlen(r->principal) : 0;
        if (!r)
            violation(ck, "audit", key, "row waiting for its row by principal, of record %llu, which does not exist",
                      (unsigned long long)seq);
        else if ((sl > 400 ? 400 : sl) != v->mv_size || (sl && memcmp(r->principal, v->mv_data, v->mv_size) != 0))
            violation(ck, "audit", key, "row waiting for its row by principal does not match record %llu's principal",
                      (unsigned long long)seq);
        return;
    }
    const uint8_t *nul = k->mv_size > 1 ? memchr(p + 1, 0, k->mv_size - 1) : NULL;
    size_t head = nul ? (size_t)(nul - p) + 1 : k->mv_size;
    if ((p[0] != AUDIT_IX_PRINCIPAL && p[0] != AUDIT_IX_TARGET) || k->mv_size != head + 16) {
        violation(ck, "audit", key, "neither a record nor an index row");
        return;
    }
    const char *what = p[0] == AUDIT_IX_PRINCIPAL ? "principal" : "target";
    uint64_t seq = store_get_be64(p + head + 8);
    uint8_t rk[AUDIT_KEY_LEN];
    rk[0] = AUDIT_LOG_TAG;
    memcpy(rk + 1, p + head, 16);
    Whistled__AuditRecord *r = get(ck, ck->audit, rk, sizeof rk, &whistled__audit_record__descriptor, a);
    if (!r) {
        violation(ck, "audit", key, "index row of record %llu, which does not exist", (unsigned long long)seq);
        return;
    }
    const char *str = p[0] == AUDIT_IX_PRINCIPAL ? r->principal : r->target;
    size_t sl = str ? strlen(str) : 0, il = head - 2;
    if ((sl > 400 ? 400 : sl) != il || memcmp(str, p + 1, il) != 0)
        violation(ck, "audit", key, "index row does not match record %llu's %s", (unsigned long long)seq, what);
}

/* Schema 3: the records are in time order, so their seqs are not in key
 * order; each is marked seen, and the walk's end finds the gaps. */
static void audit_seen(checker *ck, uint64_t seq, const char *key)
{
    if (seq == 0 || seq > ck->audit_seq) {
        violation(ck, "audit", key, "seq %llu is past meta audit_seq %llu (the next record would overwrite it)",
                  (unsigned long long)seq, (unsigned long long)ck->audit_seq);
        return;
    }
    if (!ck->audit_bits) {
        ck->audit_bits = calloc(ck->audit_seq / 8 + 1, 1);
        if (!ck->audit_bits)
            return;
    }
    uint8_t bit = (uint8_t)(1u << (seq % 8));
    if (ck->audit_bits[seq / 8] & bit)
        violation(ck, "audit", key, "a second record with seq %llu", (unsigned long long)seq);
    ck->audit_bits[seq / 8] |= bit;
}

static void walk_audit(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    if (ck->schema >= 3 && !audit_is_record_key(k->mv_data, k->mv_size)) {
        walk_audit_index(ck, k, v, a);
        return;
    }
    ck->rep->audit_records++;
    if (ck->schema >= 3) {
        uint64_t seq = store_get_be64((const uint8_t *)k->mv_data + 9);
        const char *key = arena_printf(a, "%llu", (unsigned long long)seq);
        audit_seen(ck, seq, key);
        Whistled__AuditRecord *r = whistled__audit_record__unpack(arena_allocator(a), v->mv_size, v->mv_data);
        if (!r)
            violation(ck, "audit", key, "record does not unpack as whistled.AuditRecord");
        else if (r->seq != seq ||
                 (r->at_ms > 0 ? r->at_ms : 0) != (int64_t)store_get_be64((const uint8_t *)k->mv_data + 1))
            violation(ck, "audit", key, "record's seq is %llu and time %lld, not its key's", (unsigned long long)r->seq,
                      (long long)r->at_ms);
        return;
    }
    if (k->mv_size != 8) {
        violation(ck, "audit", key_text(a, k->mv_data, k->mv_size), "key is not a u64");
        return;
    }
    uint64_t seq = store_get_be64(k->mv_data);
    const char *key = arena_printf(a, "%llu", (unsigned long long)seq);
    ck->audit_expect++;
    if (seq != ck->audit_expect) {
        violation(ck, "audit", key, "expected seq %llu here: the log has a gap", (unsigned long long)ck->audit_expect);
        ck->audit_expect = seq;
    }
    Whistled__AuditRecord *r = whistled__audit_record__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!r)
        violation(ck, "audit", key, "record does not unpack as whistled.AuditRecord");
    else if (r->seq != seq)
        violation(ck, "audit", key, "record's seq is %llu", (unsigned long long)r->seq);
}

static void walk_idem(checker *ck, const MDB_val *k, const MDB_val *v, arena *a)
{
    /* schema 3: the rows by age, 0x00 | at_ms | idem key, sort first; the
     * records' walk below looks each of theirs up */
    if (ck->schema >= 3 && k->mv_size && ((const uint8_t *)k->mv_data)[0] == 0) {
        if (k->mv_size <= 9 || !memchr((const uint8_t *)k->mv_data + 9, 0, k->mv_size - 9))
            violation(ck, "idem", key_text(a, k->mv_data, k->mv_size),
                      ck->schema >= 4 ? "row by age is not 0x00 | u64 at_ms | key | 0x00 | principal"
                                      : "row by age is not 0x00 | u64 at_ms | principal | 0x00 | key");
        return;
    }
    const char *key = key_text(a, k->mv_data, k->mv_size);
    /* schema 4: key | 0x00 | principal (store_idem_key); before, the
     * principal first */
    if (!memchr(k->mv_data, 0, k->mv_size))
        violation(ck, "idem", key,
                  ck->schema >= 4 ? "key is not idempotency key | 0x00 | principal"
                                  : "key is not principal | 0x00 | idempotency key");
    Whistled__IdemRecord *r = whistled__idem_record__unpack(arena_allocator(a), v->mv_size, v->mv_data);
    if (!r)
        violation(ck, "idem", key, "record does not unpack as whistled.IdemRecord");
    else if (!whistle__v1__response__unpack(arena_allocator(a), r->response.len, r->response.data))
        violation(ck, "idem", key, "stored response does not unpack as whistle.v1.Response");
    size_t head = ck->schema >= 3 ? 9 : 8; /* schema 3: 0x00 first */
    if (r && ck->schema >= 2 && k->mv_size + head <= 511) {
        uint8_t tk[512];
        tk[0] = 0;
        store_be64(tk + head - 8, (uint64_t)(r->at_ms < 0 ? 0 : r->at_ms));
        memcpy(tk + head, k->mv_data, k->mv_size);
        if (!has(ck, ck->idem_by_time, tk, k->mv_size + head))
            violation(ck, "idem", key, "has no row by age (it would never expire)");
    }
}

/* ------------------------------------------------------------ entry */

static int open_dbs(checker *ck, char *err, size_t errlen)
{
    static const char *const names[] = { "meta",        "events",     "ev_by_state", "ev_by_node", "orders",
                                         "ord_by_dept", "streams",    "stream_meta", "idem",       "nodes",
                                         "departments", "categories", "principals",  "audit" };
    MDB_dbi *slots[] = { &ck->meta,        &ck->events,     &ck->ev_by_state, &ck->ev_by_node, &ck->orders,
                         &ck->ord_by_dept, &ck->streams,    &ck->stream_meta, &ck->idem,       &ck->nodes,
                         &ck->departments, &ck->categories, &ck->principals,  &ck->audit };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        int rc = mdb_dbi_open(ck->txn, names[i], 0, slots[i]);
        if (rc) {
            snprintf(err, errlen, "cannot open database \"%s\": %s%s", names[i], mdb_strerror(rc),
                     rc == MDB_NOTFOUND ? " (not a whistled store, or never opened by whistled)" : "");
            return rc;
        }
    }
    /* the deadline index and supervision records (a store opened by a
     * whistled older than them has neither) */
    int drc = mdb_dbi_open(ck->txn, "deadlines", 0, &ck->deadlines);
    int src = drc ? drc : mdb_dbi_open(ck->txn, "supervisions", 0, &ck->supervisions);
    ck->have_deadlines = drc == 0 && src == 0;
    /* the service catalogue, likewise */
    int crc = mdb_dbi_open(ck->txn, "service_classes", 0, &ck->service_classes);
    int irc = crc ? crc : mdb_dbi_open(ck->txn, "services", 0, &ck->services);
    ck->have_services = crc == 0 && irc == 0;
    ck->have_archive = mdb_dbi_open(ck->txn, "arc_households", 0, &ck->arc_households) == 0 &&
                       mdb_dbi_open(ck->txn, "arc_hh_by_node", 0, &ck->arc_hh_by_node) == 0 &&
                       mdb_dbi_open(ck->txn, "arc_residents", 0, &ck->arc_residents) == 0 &&
                       mdb_dbi_open(ck->txn, "arc_res_by_hh", 0, &ck->arc_res_by_hh) == 0;
    /* deliberation's bodies, proposals and meetings, likewise */
    int brc = mdb_dbi_open(ck->txn, "delib_bodies", 0, &ck->delib_bodies);
    int prc = brc ? brc : mdb_dbi_open(ck->txn, "delib_proposals", 0, &ck->delib_proposals);
    int mrc = prc ? prc : mdb_dbi_open(ck->txn, "delib_meetings", 0, &ck->delib_meetings);
    ck->have_delib = brc == 0 && prc == 0 && mrc == 0;
    MDB_stat ist;
    ck->have_delib_index = ck->have_delib && mdb_dbi_open(ck->txn, "delib_by_body", 0, &ck->delib_by_body) == 0 &&
                           mdb_stat(ck->txn, ck->delib_by_body, &ist) == 0 && ist.ms_entries > 0;
    /* the photos' records, likewise */
    ck->have_photos = mdb_dbi_open(ck->txn, "photo_uploads", 0, &ck->photo_uploads) == 0 &&
                      mdb_dbi_open(ck->txn, "photo_att", 0, &ck->photo_att) == 0;
    /* the volunteers' records, likewise */
    int vrc = mdb_dbi_open(ck->txn, "vol_wishes", 0, &ck->vol_wishes);
    if (!vrc)
        vrc = mdb_dbi_open(ck->txn, "vol_ledger", 0, &ck->vol_ledger);
    if (!vrc)
        vrc = mdb_dbi_open(ck->txn, "vol_balances", 0, &ck->vol_balances);
    if (!vrc)
        vrc = mdb_dbi_open(ck->txn, "vol_index", 0, &ck->vol_index);
    if (!vrc)
        vrc = mdb_dbi_open(ck->txn, "vol_people", 0, &ck->vol_people);
    if (!vrc)
        vrc = mdb_dbi_open(ck->txn, "vol_shop", 0, &ck->vol_shop);
    if (!vrc)
        vrc = mdb_dbi_open(ck->txn, "vol_mtasks", 0, &ck->vol_mtasks);
    ck->have_vol = vrc == 0;
    return 0;
}

/* After check_meta: a schema 2 store has its timelines in ev_timeline, a
 * schema 3 store in events (after each case's record). */
static int open_timeline(checker *ck, char *err, size_t errlen)
{
    if (ck->schema < 2)
        return 0;
    static const char *const names[] = { "ord_by_street_state", "idem_by_time", "ev_timeline" };
    MDB_dbi *slots[] = { &ck->ord_by_street_state, &ck->idem_by_time, &ck->ev_timeline };
    size_t n = sizeof names / sizeof *names;
    if (ck->schema >= 3) {
        /* folded into the tables they index (store.h) */
        ck->ev_timeline = ck->events;
        ck->idem_by_time = ck->idem;
        n = 1;
    }
    for (size_t i = 0; i < n; i++) {
        int rc = mdb_dbi_open(ck->txn, names[i], 0, slots[i]);
        if (rc) {
            snprintf(err, errlen, "cannot open database \"%s\": %s (schema %u needs it)", names[i], mdb_strerror(rc),
                     ck->schema);
            return rc;
        }
    }
    return 0;
}

static void place_problem(void *ctx, const char *code, const char *problem)
{
    violation(ctx, "nodes", code, "%s", problem);
}

/* ------------------------------------------------------------ photos (photo_record.h) */

typedef struct photo_ref {
    uint8_t h[BLOB_HASH_LEN];
} photo_ref;

static int ref_cmp(const void *a, const void *b) { return memcmp(a, b, BLOB_HASH_LEN); }

/* Whether the file at path is there, of size bytes, and (ck->hash_photos)
 * hashes to want (32 bytes). */
static void check_photo_file(checker *ck, const char *hex, const char *path, const ProtobufCBinaryData *want,
                             uint64_t bytes, const char *what)
{
    uint8_t got[BLOB_HASH_LEN];
    uint64_t size = 0;
    int rc;
    if (!ck->hash_photos) {
        struct stat sb;
        rc = stat(path, &sb) == 0 ? 0 : errno;
        if (!rc && (uint64_t)sb.st_size != bytes)
            violation(ck, "photo_uploads", hex, "its %s file %s has %llu bytes; its record says %llu", what, path,
                      (unsigned long long)sb.st_size, (unsigned long long)bytes);
        else if (rc == ENOENT)
            violation(ck, "photo_uploads", hex, "its %s file %s is missing", what, path);
        else if (rc)
            violation(ck, "photo_uploads", hex, "its %s file %s cannot be read: %s", what, path, strerror(rc));
        return;
    }
    rc = blob_hash_file(path, got, &size);
    if (rc == ENOENT)
        violation(ck, "photo_uploads", hex, "its %s file %s is missing", what, path);
    else if (rc)
        violation(ck, "photo_uploads", hex, "its %s file %s cannot be read: %s", what, path, strerror(rc));
    else if (want->len != BLOB_HASH_LEN || memcmp(got, want->data, BLOB_HASH_LEN) != 0)
        violation(ck, "photo_uploads", hex, "its %s file %s does not hash to the recorded SHA-256 (altered or damaged)",
                  what, path);
}

typedef struct orphan_walk {
    checker *ck;
} orphan_walk;

static int orphan_one(void *ud, const uint8_t *h, const char *name)
{
    checker *ck = ((orphan_walk *)ud)->ck;
    if (h && has(ck, ck->photo_uploads, h, BLOB_HASH_LEN))
        return 0;
    ck->rep->photo_orphans++;
    if (ck->rep->photo_orphans <= 20)
        fprintf(ck->out, "check: photos: orphan file %s (no record names it; an upload cut short leaves one)\n", name);
    return 0;
}

static int check_photos(checker *ck)
{
    if (!ck->have_photos)
        return 0;
    arena *a = arena_new();
    MDB_cursor *cur;
    MDB_val k, v;
    /* the attachments: each names an upload; their counts, per upload */
    size_t nref = 0, cap = 64;
    photo_ref *refs = malloc(cap * sizeof *refs);
    int rc = refs ? mdb_cursor_open(ck->txn, ck->photo_att, &cur) : ENOMEM;
    if (rc) {
        free(refs);
        arena_free(a);
        return rc;
    }
    while ((rc = mdb_cursor_get(cur, &k, &v, nref || ck->rep->photo_attachments ? MDB_NEXT : MDB_FIRST)) == 0) {
        ck->rep->records++;
        ck->rep->photo_attachments++;
        const char *key = k.mv_size == 8 ? arena_printf(a, "%llu", (unsigned long long)store_get_be64(k.mv_data))
                                         : key_text(a, k.mv_data, k.mv_size);
        Whistled__PhotoAttachmentRecord *r =
            whistled__photo_attachment_record__unpack(arena_allocator(a), v.mv_size, v.mv_data);
        if (!r || r->upload.len != BLOB_HASH_LEN) {
            violation(ck, "photo_att", key, "is not a PhotoAttachmentRecord");
            continue;
        }
        if (!has(ck, ck->photo_uploads, r->upload.data, BLOB_HASH_LEN)) {
            char hex[BLOB_HEX_LEN + 1];
            blob_hex(r->upload.data, hex);
            violation(ck, "photo_att", key, "names upload %s, which is not stored", hex);
        }
        if (r->wish_id) {
            uint8_t wk[8];
            store_be64(wk, r->wish_id);
            if (ck->have_vol && !has(ck, ck->vol_wishes, wk, 8))
                violation(ck, "photo_att", key, "belongs to wish %llu, which is not stored",
                          (unsigned long long)r->wish_id);
        } else if (!r->visit_id && !has_str(ck, ck->events, r->ticket)) {
            violation(ck, "photo_att", key, "belongs to case %s, which is not stored", str0(r->ticket));
        }
        if (nref == cap) {
            photo_ref *g = realloc(refs, (cap *= 2) * sizeof *refs);
            if (!g) {
                rc = ENOMEM;
                break;
            }
            refs = g;
        }
        memcpy(refs[nref++].h, r->upload.data, BLOB_HASH_LEN);
    }
    mdb_cursor_close(cur);
    if (rc != MDB_NOTFOUND) {
        free(refs);
        arena_free(a);
        return rc;
    }
    qsort(refs, nref, sizeof *refs, ref_cmp);
    /* the uploads: their files, and their counts */
    rc = mdb_cursor_open(ck->txn, ck->photo_uploads, &cur);
    size_t ri = 0;
    for (int op = MDB_FIRST; !rc && (rc = mdb_cursor_get(cur, &k, &v, op)) == 0; op = MDB_NEXT) {
        ck->rep->records++;
        ck->rep->photos++;
        const char *hex = key_text(a, k.mv_data, k.mv_size);
        Whistled__PhotoUpload *u = whistled__photo_upload__unpack(arena_allocator(a), v.mv_size, v.mv_data);
        if (!u || k.mv_size != BLOB_HASH_LEN || u->sha256.len != BLOB_HASH_LEN ||
            memcmp(u->sha256.data, k.mv_data, BLOB_HASH_LEN) != 0) {
            violation(ck, "photo_uploads", hex, "is not a PhotoUpload of that SHA-256");
            continue;
        }
        char h64[BLOB_HEX_LEN + 1];
        blob_hex(k.mv_data, h64);
        while (ri < nref && memcmp(refs[ri].h, k.mv_data, BLOB_HASH_LEN) < 0)
            ri++;
        uint32_t n = 0;
        while (ri < nref && memcmp(refs[ri].h, k.mv_data, BLOB_HASH_LEN) == 0) {
            n++;
            ri++;
        }
        if (n != u->refs)
            violation(ck, "photo_uploads", h64, "counts %u attachments; %u name it", u->refs, n);
        if (ck->blobs) {
            char path[4200];
            snprintf(path, sizeof path, "%s/%.2s/%s", ck->blobs, h64, h64);
            check_photo_file(ck, h64, path, &u->image_sha256, u->image_bytes, "image");
            if (u->thumb_bytes) {
                snprintf(path, sizeof path, "%s/%.2s/%s.thumb", ck->blobs, h64, h64);
                check_photo_file(ck, h64, path, &u->thumb_sha256, u->thumb_bytes, "thumbnail");
            }
        }
    }
    if (!rc || rc == MDB_NOTFOUND)
        mdb_cursor_close(cur);
    free(refs);
    arena_free(a);
    if (rc != MDB_NOTFOUND && rc != 0)
        return rc;
    if (ck->blobs) {
        orphan_walk ow = { ck };
        blob_walk_dir(ck->blobs, orphan_one, &ow);
    }
    fprintf(ck->out, "check: photos: %llu uploads, %llu attachments, %s, %llu orphan file%s\n",
            (unsigned long long)ck->rep->photos, (unsigned long long)ck->rep->photo_attachments,
            !ck->blobs        ? "files not looked at (no blobs directory given)"
            : ck->hash_photos ? "every file hashed"
                              : "every file's size compared",
            (unsigned long long)ck->rep->photo_orphans, ck->rep->photo_orphans == 1 ? "" : "s");
    return 0;
}

int check_store(const char *dir, FILE *out, check_report *rep, char *err, size_t errlen)
{
    char blobs[4200];
    snprintf(blobs, sizeof blobs, "%s/blobs", dir);
    return check_store_blobs(dir, blobs, true, out, rep, err, errlen);
}

int check_store_blobs(const char *dir, const char *blobs, bool hash, FILE *out, check_report *rep, char *err,
                      size_t errlen)
{
    memset(rep, 0, sizeof *rep);
    checker ck = { .out = out, .rep = rep, .blobs = blobs, .hash_photos = hash };
    int rc = mdb_env_create(&ck.env);
    if (!rc)
        rc = mdb_env_set_maxdbs(ck.env, 96);
    /* Read-only: the checker never writes, and may share the store with a
     * running whistled (its reader slot keeps the snapshot's pages). */
    if (!rc)
        rc = mdb_env_open(ck.env, dir, MDB_RDONLY | MDB_NOTLS, 0600);
    if (rc) {
        /* LMDB's own words for the two cases people meet are not helpful
         * (an empty file is "Bad file descriptor") */
        char data[4200];
        snprintf(data, sizeof data, "%s/data.mdb", dir);
        struct stat sb;
        int st = stat(data, &sb) == 0 ? 0 : errno;
        if (st == ENOENT)
            snprintf(err, errlen, "there is no store in %s (no data.mdb): check store.dir", dir);
        else if (rc == EBADF || (st == 0 && sb.st_size == 0))
            snprintf(err, errlen,
                     "the store in %s is empty (data.mdb has no pages: made, then stopped before its first "
                     "commit reached the disk); nothing to check, and whistled starts it afresh",
                     dir);
        else
            snprintf(err, errlen, "cannot open the store in %s: %s", dir, mdb_strerror(rc));
        mdb_env_close(ck.env);
        return 2;
    }
    rc = mdb_txn_begin(ck.env, NULL, MDB_RDONLY, &ck.txn);
    if (rc == MDB_MAP_RESIZED) {
        /* A running whistled grew the map since we opened it. */
        mdb_env_set_mapsize(ck.env, 0);
        rc = mdb_txn_begin(ck.env, NULL, MDB_RDONLY, &ck.txn);
    }
    if (rc) {
        snprintf(err, errlen, "cannot read the store in %s: %s", dir, mdb_strerror(rc));
        mdb_env_close(ck.env);
        return 2;
    }
    rc = open_dbs(&ck, err, errlen);
    if (!rc) {
        check_meta(&ck);
        rc = open_timeline(&ck, err, errlen);
    }
    if (!rc) {
        /* present: false for the databases a store from before them lacks */
        struct {
            MDB_dbi dbi;
            walk_fn fn;
            const char *name;
            bool present;
        } walks[] = {
            { ck.nodes, walk_node, "nodes", true },
            { ck.departments, walk_department, "departments", true },
            { ck.categories, walk_category, "categories", true },
            { ck.principals, walk_principal, "principals", true },
            { ck.service_classes, walk_service_class, "service_classes", ck.have_services },
            { ck.services, walk_service, "services", ck.have_services },
            { ck.events, walk_event, "events", true },
            { ck.ev_by_state, walk_ev_by_state, "ev_by_state", true },
            { ck.ev_by_node, walk_ev_by_node, "ev_by_node", true },
            { ck.ev_timeline, walk_ev_timeline, "ev_timeline", ck.schema == 2 },
            { ck.orders, walk_order, "orders", true },
            { ck.ord_by_dept, walk_ord_by_dept, "ord_by_dept", true },
            { ck.ord_by_street_state, walk_ord_by_street_state, "ord_by_street_state", ck.schema >= 2 },
            { ck.streams, walk_stream_entry, "streams", true },
            { ck.stream_meta, walk_stream_meta, "stream_meta", true },
            { ck.audit, walk_audit, "audit", true },
            { ck.idem, walk_idem, "idem", true },
            { ck.deadlines, walk_deadline, "deadlines", ck.have_deadlines },
            { ck.supervisions, walk_supervision, "supervisions", ck.have_deadlines },
            { ck.arc_households, walk_household, "arc_households", ck.have_archive },
            { ck.arc_residents, walk_resident, "arc_residents", ck.have_archive },
            { ck.delib_bodies, walk_delib_body, "delib_bodies", ck.have_delib },
            { ck.delib_proposals, walk_delib_proposal, "delib_proposals", ck.have_delib },
            { ck.delib_meetings, walk_delib_meeting, "delib_meetings", ck.have_delib },
            { ck.delib_by_body, walk_delib_by_body, "delib_by_body", ck.have_delib_index },
            { ck.vol_wishes, walk_wish, "vol_wishes", ck.have_vol },
            { ck.vol_ledger, walk_ledger, "vol_ledger", ck.have_vol },
            { ck.vol_balances, walk_balance, "vol_balances", ck.have_vol },
            { ck.vol_people, walk_person, "vol_people", ck.have_vol },
            { ck.vol_shop, walk_item, "vol_shop", ck.have_vol },
            { ck.vol_mtasks, walk_mtask, "vol_mtasks", ck.have_vol },
            { ck.vol_index, walk_vol_index, "vol_index", ck.have_vol },
        };
        size_t nwalks = sizeof walks / sizeof *walks;
        for (size_t i = 0; !rc && i < nwalks; i++) {
            if (!walks[i].present)
                continue;
            rc = walk(&ck, walks[i].dbi, walks[i].fn);
            if (walks[i].fn == walk_balance)
                balance_group_end(&ck);
            if (walks[i].fn == walk_stream_entry) {
                arena *a = arena_new();
                stream_end(&ck, a);
                arena_free(a);
            }
            if (rc)
                snprintf(err, errlen, "reading database \"%s\" failed: %s (the file is damaged)", walks[i].name,
                         mdb_strerror(rc));
        }
        if (!rc) {
            /* the places on the map: boundaries valid and inside their
             * parents' (places.h) */
            arena *a = arena_new();
            places_check_all(ck.txn, ck.nodes, a, place_problem, &ck);
            arena_free(a);
        }
        if (!rc && ck.schema >= 3) {
            /* every seq up to audit_seq seen once (audit_seen) */
            uint64_t first_gap = 0, seen = 0;
            for (uint64_t q = 1; ck.audit_bits && q <= ck.audit_seq; q++) {
                if (ck.audit_bits[q / 8] & (1u << (q % 8)))
                    seen++;
                else if (!first_gap)
                    first_gap = q;
            }
            if (ck.audit_seq && !ck.audit_bits && rep->audit_records == 0)
                first_gap = 1;
            if (first_gap)
                violation(&ck, "audit", "log",
                          "has %llu of the records 1 to %llu (meta audit_seq): record %llu is missing",
                          (unsigned long long)seen, (unsigned long long)ck.audit_seq, (unsigned long long)first_gap);
            ck.audit_expect = ck.audit_seq;
        }
        free(ck.audit_bits);
        if (!rc && (rc = check_photos(&ck)))
            snprintf(err, errlen, "reading the photos' records failed: %s (the file is damaged)", mdb_strerror(rc));
        if (!rc && ck.audit_expect != ck.audit_seq)
            violation(&ck, "meta", "audit_seq", "is %llu but the audit log ends at %llu (the next record would %s)",
                      (unsigned long long)ck.audit_seq, (unsigned long long)ck.audit_expect,
                      ck.audit_expect > ck.audit_seq ? "overwrite one" : "leave a gap");
    }
    mdb_txn_abort(ck.txn);
    mdb_env_close(ck.env);
    if (rc)
        return 2;
    return rep->violations ? 1 : 0;
}
