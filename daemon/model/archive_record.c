/* archive_record.c: see archive_record.h. */
#include "archive_record.h"

#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "calendar.h"
#include "deadline_rows.h"
#include "directory.h"
#include "seal.h"

#define AF(x) WHISTLE__V1__ARCHIVE_FIELD__ARCHIVE_FIELD_##x

/* ------------------------------------------------------------ care tags */

/* The special-care groups the domain names, with the rhythms its sources
 * give or imply (docs/archive.md): a city changes them with set_care_tags. */
static const struct {
    const char *code, *zh, *en;
    uint32_t days;
} default_tags[] = {
    { "alone", "独居老人", "Elderly living alone", 7 },
    { "empty_nest", "空巢老人", "Empty-nest elderly", 14 },
    { "disabled", "残疾人", "Disabled", 30 },
    { "low_income", "低保户", "Low income", 30 },
    { "left_behind_child", "留守儿童", "Left-behind child", 30 },
    { "party_member", "党员", "Party member", 0 },
};

Whistle__V1__CareTagList *arc_care_tags(call *c)
{
    Whistle__V1__CareTagList *l =
        store_get_named(c->txn, c->st->arc_config, "care_tags", &whistle__v1__care_tag_list__descriptor, c->a);
    if (l)
        return l;
    l = arena_alloc(c->a, sizeof *l);
    whistle__v1__care_tag_list__init(l);
    size_t n = sizeof default_tags / sizeof *default_tags;
    l->tags = arena_alloc(c->a, n * sizeof *l->tags);
    for (size_t i = 0; i < n; i++) {
        Whistle__V1__CareTag *t = arena_alloc(c->a, sizeof *t);
        whistle__v1__care_tag__init(t);
        t->code = (char *)default_tags[i].code;
        t->name_zh = (char *)default_tags[i].zh;
        t->name_en = (char *)default_tags[i].en;
        t->rhythm_days = default_tags[i].days;
        l->tags[l->n_tags++] = t;
    }
    return l;
}

const Whistle__V1__CareTag *arc_care_tag_find(const Whistle__V1__CareTagList *l, const char *code)
{
    for (size_t i = 0; l && code && i < l->n_tags; i++)
        if (strcmp(str0(l->tags[i]->code), code) == 0)
            return l->tags[i];
    return NULL;
}

int arc_tags_check(call *c, const char *field, char **tags, size_t n)
{
    if (n > ARC_TAGS_MAX)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s: %zu tags; at most %d", field, n, ARC_TAGS_MAX);
    Whistle__V1__CareTagList *l = arc_care_tags(c);
    for (size_t i = 0; i < n; i++) {
        if (!arc_care_tag_find(l, tags[i]))
            return call_fail(c, CODE(INVALID_ARGUMENT), "%s: no care tag \"%.40s\"; list_care_tags shows them", field,
                             str0(tags[i]));
        for (size_t j = 0; j < i; j++)
            if (strcmp(tags[i], tags[j]) == 0)
                return call_fail(c, CODE(INVALID_ARGUMENT), "%s: tag %s is given twice", field, tags[i]);
    }
    return 0;
}

/* ------------------------------------------------------------ keys */

uint8_t *arc_key64(arena *a, uint64_t id)
{
    uint8_t *k = arena_alloc(a, 8);
    store_be64(k, id);
    return k;
}

static MDB_val node_key(arena *a, const char *node, uint64_t id)
{
    size_t n = strlen(node);
    uint8_t *k = arena_alloc(a, n + 9);
    memcpy(k, node, n);
    k[n] = '/';
    store_be64(k + n + 1, id);
    return (MDB_val){ n + 9, k };
}

static MDB_val pair_key(arena *a, uint64_t x, uint64_t y)
{
    uint8_t *k = arena_alloc(a, 16);
    store_be64(k, x);
    store_be64(k + 8, y);
    return (MDB_val){ 16, k };
}

/* ------------------------------------------------------------ households */

int arc_household_get(call *c, uint64_t id, Whistle__V1__ArchiveHousehold **out, void **bytes, size_t *len)
{
    void *b = NULL;
    size_t n = 0;
    int rc = id ? store_get_bytes(c->txn, c->st->arc_households, arc_key64(c->a, id), 8, c->a, &b, &n) : MDB_NOTFOUND;
    if (rc == MDB_NOTFOUND)
        return call_fail(c, CODE(NOT_FOUND), "no household %llu", (unsigned long long)id);
    if (rc)
        return call_store_fail(c, rc, "reading a household");
    *out = whistle__v1__archive_household__unpack(arena_allocator(c->a), n, b);
    if (!*out)
        return call_fail(c, CODE(DATA_LOSS), "household %llu does not unpack", (unsigned long long)id);
    if (bytes)
        *bytes = b;
    if (len)
        *len = n;
    return 0;
}

size_t arc_household_deadline_key(const Whistle__V1__ArchiveHousehold *h, uint8_t key[17])
{
    if (!h || h->visit_due_ms <= 0 || h->alerted_due_ms == h->visit_due_ms)
        return 0;
    store_be64(key, (uint64_t)h->visit_due_ms);
    key[8] = DL_VISIT;
    store_be64(key + 9, h->id);
    return 17;
}

/* The shortest rhythm of the household's own and its members' tags. */
static uint32_t rhythm_of(const Whistle__V1__CareTagList *l, const Whistle__V1__ArchiveHousehold *h)
{
    uint32_t best = 0;
    for (size_t pass = 0; pass < 2; pass++) {
        char **t = pass ? h->member_tags : h->tags;
        size_t n = pass ? h->n_member_tags : h->n_tags;
        for (size_t i = 0; i < n; i++) {
            const Whistle__V1__CareTag *ct = arc_care_tag_find(l, t[i]);
            if (ct && ct->rhythm_days && (!best || ct->rhythm_days < best))
                best = ct->rhythm_days;
        }
    }
    return best;
}

uint32_t arc_household_rhythm(call *c, const Whistle__V1__ArchiveHousehold *h)
{
    return rhythm_of(arc_care_tags(c), h);
}

int arc_household_save(call *c, const Whistle__V1__ArchiveHousehold *old, const void *before, size_t blen,
                       Whistle__V1__ArchiveHousehold *h)
{
    int rc = 0;
    if (!old) {
        rc = store_next_seq(c->txn, c->st, "arc_household_seq", &h->id);
        if (rc)
            return call_store_fail(c, rc, "numbering a household");
        h->created_ms = c->now;
    }
    h->updated_ms = c->now;
    /* answers' fields are not stored */
    h->n_members = 0;
    h->members = NULL;
    h->overdue = false;
    h->residents = 0;
    h->rhythm_days = rhythm_of(arc_care_tags(c), h);
    int64_t from = h->last_visit_ms ? h->last_visit_ms : h->created_ms;
    h->visit_due_ms = h->rhythm_days ? from + (int64_t)h->rhythm_days * ARC_DAY_MS : 0;

    if (!old || strcmp(str0(old->node), str0(h->node)) != 0) {
        if (old) {
            MDB_val k = node_key(c->a, old->node, old->id);
            rc = mdb_del(c->txn, c->st->arc_hh_by_node, &k, NULL);
        }
        MDB_val k = node_key(c->a, h->node, h->id), v = { 0, "" };
        if (!rc || rc == MDB_NOTFOUND)
            rc = mdb_put(c->txn, c->st->arc_hh_by_node, &k, &v, 0);
        if (rc)
            return call_store_fail(c, rc, "indexing a household");
    }
    uint8_t ok[17], nk[17];
    size_t ol = arc_household_deadline_key(old, ok), nl = arc_household_deadline_key(h, nk);
    if (ol && (ol != nl || memcmp(ok, nk, ol) != 0)) {
        MDB_val k = { ol, ok };
        rc = mdb_del(c->txn, c->st->deadlines, &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return call_store_fail(c, rc, "moving a visit's deadline");
    }
    if (nl) {
        MDB_val k = { nl, nk }, v = { 0, "" };
        rc = mdb_put(c->txn, c->st->deadlines, &k, &v, 0);
        if (rc)
            return call_store_fail(c, rc, "setting a visit's deadline");
    }
    rc = store_put(c->txn, c->st->arc_households, arc_key64(c->a, h->id), 8, &h->base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name,
                          arena_printf(c->a, "household:%llu", (unsigned long long)h->id), before, blen, &h->base);
    return rc ? call_store_fail(c, rc, "saving a household") : 0;
}

static bool has_tag(char **t, size_t n, const char *s)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(t[i], s) == 0)
            return true;
    return false;
}

int arc_household_refresh(call *c, uint64_t id)
{
    Whistle__V1__ArchiveHousehold *h;
    void *before;
    size_t blen;
    if (arc_household_get(c, id, &h, &before, &blen))
        return -1;
    const Whistle__V1__ArchiveHousehold *old =
        whistle__v1__archive_household__unpack(arena_allocator(c->a), blen, before);
    char **tags = arena_alloc(c->a, sizeof *tags * 64);
    size_t n = 0;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->arc_res_by_hh, &cur);
    if (rc)
        return call_store_fail(c, rc, "reading a household's residents");
    uint8_t pre[8];
    store_be64(pre, id);
    MDB_val k = { 8, pre }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 16 || memcmp(k.mv_data, pre, 8) != 0)
            break;
        Whistle__V1__ArchiveResident *r;
        Whistled__ArcResident *s;
        if (arc_resident_get(c, store_get_be64((const uint8_t *)k.mv_data + 8), &r, &s, NULL, NULL)) {
            mdb_cursor_close(cur);
            return -1;
        }
        for (size_t i = 0; !r->removed && i < r->n_tags && n < 64; i++)
            if (!has_tag(tags, n, r->tags[i]))
                tags[n++] = r->tags[i];
    }
    mdb_cursor_close(cur);
    bool same = n == h->n_member_tags;
    for (size_t i = 0; same && i < n; i++)
        same = has_tag(h->member_tags, h->n_member_tags, tags[i]);
    if (same)
        return 0;
    h->member_tags = tags;
    h->n_member_tags = n;
    return arc_household_save(c, old, before, blen, h);
}

/* ------------------------------------------------------------ residents */

int arc_resident_get(call *c, uint64_t id, Whistle__V1__ArchiveResident **out, Whistled__ArcResident **sealed,
                     void **bytes, size_t *len)
{
    void *b = NULL;
    size_t n = 0;
    int rc = id ? store_get_bytes(c->txn, c->st->arc_residents, arc_key64(c->a, id), 8, c->a, &b, &n) : MDB_NOTFOUND;
    if (rc == MDB_NOTFOUND)
        return call_fail(c, CODE(NOT_FOUND), "no resident %llu", (unsigned long long)id);
    if (rc)
        return call_store_fail(c, rc, "reading a resident");
    Whistled__ArcResident *s = whistled__arc_resident__unpack(arena_allocator(c->a), n, b);
    Whistle__V1__ArchiveResident *r =
        s ? whistle__v1__archive_resident__unpack(arena_allocator(c->a), s->resident.len, s->resident.data) : NULL;
    if (!r)
        return call_fail(c, CODE(DATA_LOSS), "resident %llu does not unpack", (unsigned long long)id);
    *out = r;
    *sealed = s;
    if (bytes)
        *bytes = b;
    if (len)
        *len = n;
    return 0;
}

static const char *field_name(Whistle__V1__ArchiveField f) { return f == AF(PHONE) ? "phone" : "id_number"; }

int arc_resident_open(call *c, const Whistled__ArcResident *s, Whistle__V1__ArchiveField f, char **out)
{
    const ProtobufCBinaryData *b = f == AF(PHONE) ? &s->phone_sealed : &s->id_number_sealed;
    *out = (char *)"";
    if (!b->len)
        return 0;
    if (!c->st->archive_keys)
        return call_fail(c, CODE(FAILED_PRECONDITION),
                         "the archive's keys are not loaded: set [archive] key_file (docs/archive.md)");
    if (seal_open(c->st->archive_keys, field_name(f), b->data, b->len, c->a, out))
        return call_fail(c, CODE(FAILED_PRECONDITION),
                         "a sealed %s does not open: its key (id %u) is not in the key file, or the value is damaged",
                         field_name(f), seal_key_id_of(b->data, b->len));
    return 0;
}

int arc_resident_mask(call *c, const Whistled__ArcResident *s, Whistle__V1__ArchiveResident *r)
{
    char *id, *ph;
    if (arc_resident_open(c, s, AF(ID_NUMBER), &id) || arc_resident_open(c, s, AF(PHONE), &ph))
        return -1;
    r->id_number = (char *)arc_mask(c->a, id);
    r->phone = (char *)arc_mask(c->a, ph);
    return 0;
}

static MDB_val mac_key(call *c, const char *id_number)
{
    uint8_t *m = arena_alloc(c->a, SEAL_MAC_LEN);
    seal_mac(c->st->archive_keys, id_number, m);
    return (MDB_val){ SEAL_MAC_LEN, m };
}

uint64_t arc_resident_by_id_number(call *c, const char *id_number)
{
    if (!c->st->archive_keys || !id_number || !*id_number)
        return 0;
    MDB_val k = mac_key(c, id_number), v;
    if (mdb_get(c->txn, c->st->arc_id_index, &k, &v) || v.mv_size != 8)
        return 0;
    return store_get_be64(v.mv_data);
}

static int seal_field(call *c, const char *field, const char *clear, ProtobufCBinaryData *out)
{
    uint8_t *b;
    size_t n;
    if (seal_value(c->st->archive_keys, field, clear, strlen(clear), c->a, &b, &n))
        return call_fail(c, CODE(INTERNAL), "sealing a %s failed", field);
    out->data = b;
    out->len = n;
    return 0;
}

int arc_resident_save(call *c, const Whistled__ArcResident *old, const void *before, size_t blen,
                      Whistle__V1__ArchiveResident *r)
{
    if (!c->st->archive_keys)
        return call_fail(c, CODE(FAILED_PRECONDITION),
                         "the archive's keys are not loaded: set [archive] key_file (docs/archive.md)");
    int rc;
    Whistle__V1__ArchiveResident *prev = NULL;
    if (old) {
        prev = whistle__v1__archive_resident__unpack(arena_allocator(c->a), old->resident.len, old->resident.data);
    } else if ((rc = store_next_seq(c->txn, c->st, "arc_resident_seq", &r->id))) {
        return call_store_fail(c, rc, "numbering a resident");
    }
    Whistled__ArcResident s = WHISTLED__ARC_RESIDENT__INIT;
    if (old) {
        s.id_number_sealed = old->id_number_sealed;
        s.phone_sealed = old->phone_sealed;
    }
    const char *idn = str0(r->id_number), *ph = str0(r->phone);
    if (*idn) {
        /* The index holds the number's HMAC only; a number moves from one
         * resident to another only by clearing it on the first. */
        uint64_t holder = arc_resident_by_id_number(c, idn);
        if (holder && holder != r->id)
            return call_fail(c, CODE(ALREADY_EXISTS), "that ID-card number is already on resident %llu",
                             (unsigned long long)holder);
        if (old && old->id_number_sealed.len) {
            char *was;
            if (arc_resident_open(c, old, AF(ID_NUMBER), &was))
                return -1;
            if (strcmp(was, idn) != 0) {
                MDB_val k = mac_key(c, was);
                rc = mdb_del(c->txn, c->st->arc_id_index, &k, NULL);
                if (rc && rc != MDB_NOTFOUND)
                    return call_store_fail(c, rc, "moving the ID-number index");
            }
        }
        MDB_val k = mac_key(c, idn), v = { 8, arc_key64(c->a, r->id) };
        if ((rc = mdb_put(c->txn, c->st->arc_id_index, &k, &v, 0)))
            return call_store_fail(c, rc, "indexing an ID-card number");
        if (seal_field(c, "id_number", idn, &s.id_number_sealed))
            return -1;
    }
    if (*ph && seal_field(c, "phone", ph, &s.phone_sealed))
        return -1;
    if (prev && prev->household_id != r->household_id) {
        MDB_val k = pair_key(c->a, prev->household_id, r->id);
        rc = mdb_del(c->txn, c->st->arc_res_by_hh, &k, NULL);
        if (rc && rc != MDB_NOTFOUND)
            return call_store_fail(c, rc, "moving a resident");
    }
    MDB_val hk = pair_key(c->a, r->household_id, r->id), hv = { 0, "" };
    if ((rc = mdb_put(c->txn, c->st->arc_res_by_hh, &hk, &hv, 0)))
        return call_store_fail(c, rc, "indexing a resident");

    /* What is stored of the wire record: never the clear fields. */
    Whistle__V1__ArchiveResident bare = *r;
    bare.id_number = (char *)"";
    bare.phone = (char *)"";
    bare.revealed = AF(NONE);
    bare.updated_ms = c->now;
    r->updated_ms = c->now;
    s.resident.len = protobuf_c_message_get_packed_size(&bare.base);
    s.resident.data = arena_alloc(c->a, s.resident.len + 1);
    protobuf_c_message_pack(&bare.base, s.resident.data);
    rc = store_put(c->txn, c->st->arc_residents, arc_key64(c->a, r->id), 8, &s.base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name,
                          arena_printf(c->a, "resident:%llu", (unsigned long long)r->id), before, blen, &s.base);
    if (rc)
        return call_store_fail(c, rc, "saving a resident");
    if (prev && prev->household_id != r->household_id && arc_household_refresh(c, prev->household_id))
        return -1;
    return arc_household_refresh(c, r->household_id);
}

/* ------------------------------------------------------------ checks and masks */

const char *arc_mask(arena *a, const char *s)
{
    size_t n = strlen(str0(s));
    if (n == 0)
        return "";
    if (n < 8)
        return "****";
    char *m = arena_alloc(a, n + 1);
    memcpy(m, s, n + 1);
    memset(m + 3, '*', n - 7);
    return m;
}

/* The first n bytes of s are ASCII digits (digits_ok wants the whole string). */
static bool lead_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

bool arc_date_ok(const char *s)
{
    /* calendar_parse_date takes working days from 1970 on; people are older */
    int y, m, d, n = 0;
    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || !lead_digits(s, 4) || !lead_digits(s + 5, 2) ||
        !lead_digits(s + 8, 2) || sscanf(s, "%4d-%2d-%2d%n", &y, &m, &d, &n) != 3 || n != 10)
        return false;
    if (y < 1880 || y > 2200 || m < 1 || m > 12 || d < 1 || d > 31)
        return false;
    int y2, m2, d2;
    calendar_civil(calendar_day_of(y, m, d), &y2, &m2, &d2);
    return y2 == y && m2 == m && d2 == d;
}

bool arc_id_number_ok(const char *s, const char **why)
{
    static const int w[17] = { 7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2 };
    static const char check[] = "10X98765432";
    if (!s || strlen(s) != 18 || !lead_digits(s, 17)) {
        *why = "an ID-card number is 17 digits and a check digit (0-9 or X)";
        return false;
    }
    int sum = 0;
    for (int i = 0; i < 17; i++)
        sum += (s[i] - '0') * w[i];
    char want = check[sum % 11], got = s[17] == 'x' ? 'X' : s[17];
    if (got != want) {
        *why = "the ID-card number's check digit does not match (GB 11643)";
        return false;
    }
    char d[11];
    snprintf(d, sizeof d, "%.4s-%.2s-%.2s", s + 6, s + 10, s + 12);
    if (!arc_date_ok(d)) {
        *why = "the ID-card number's birth date (digits 7-14) is not a day";
        return false;
    }
    return true;
}

bool arc_phone_ok(const char *s)
{
    size_t n = strlen(str0(s));
    if (n == 11 && s[0] == '1' && s[1] >= '3' && s[1] <= '9' && digits_ok(s, 11))
        return true;
    if (n < 10 || n > 13 || s[0] != '0')
        return false;
    const char *dash = strchr(s, '-');
    if (!dash)
        return digits_ok(s, n);
    size_t area = (size_t)(dash - s), local = n - area - 1;
    return area >= 3 && area <= 4 && local >= 7 && local <= 8 && lead_digits(s, area) && digits_ok(dash + 1, local);
}
