/* archive.c: see archive.h. Records and their saves are archive_record.c's. */
#include "archive.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "archive_record.h"
#include "audit.h"
#include "calendar.h"
#include "csv.h"
#include "deadline_rows.h"
#include "directory.h"
#include "seal.h"

#define AF(x) WHISTLE__V1__ARCHIVE_FIELD__ARCHIVE_FIELD_##x
#define NK(x) WHISTLE__V1__NODE_KIND__NODE_KIND_##x
#define LIST_MAX 1000
#define IMPORT_LINES_MAX 50000
#define IMPORT_ERRORS_SHOWN 100
#define EXPORT_MAX (900u << 10)
#define CARE_TAGS_MAX 50

static const char *const scope_rule =
    "the archive is read and written by the grid's own worker, its community's workers and its street's operators";

int archive_reach(call *c, const char *node, const char *target, const char *missing)
{
    if (c->who->role == ROLE(ADMIN) || principal_covers(c->who, node))
        return 0;
    return call_hide(c, target, missing, "%s is at %s, outside the scope %s (rule: %s)", target, node,
                     str0(c->who->scope), scope_rule);
}

const char *archive_address(arena *a, const Whistle__V1__ArchiveHousehold *h)
{
    return arena_printf(a, "%s%s%s%s%s", str0(h->building), *str0(h->unit) ? " " : "", str0(h->unit),
                        *str0(h->room) ? " " : "", str0(h->room));
}

static const char *hh_target(call *c, uint64_t id)
{
    return arena_printf(c->a, "household:%llu", (unsigned long long)id);
}

/* A household's place: a live grid or a building under one. */
static int place_check(call *c, const char *node, const char **why)
{
    node = str0(node);
    size_t n = strlen(node);
    Whistle__V1__Node *nd =
        (n == 15 || n == 18) && digits_ok(node, n) ? directory_node_get(c->st, c->txn, node, c->a) : NULL;
    if (!nd) {
        *why = "is not a grid or building of the tree of places (15 or 18 digits)";
        return -1;
    }
    if (nd->retired) {
        *why = "is retired";
        return -1;
    }
    if (nd->kind != NK(GRID) && nd->kind != NK(BUILDING)) {
        *why = "is not a grid or a building";
        return -1;
    }
    return 0;
}

/* The reason a read or a reveal gives: required where the call reads a
 * person (get_household, get_resident, export). */
static int reason_check(call *c, const char *reason, bool required)
{
    return check_text(c, "reason", reason, ARC_REASON_MAX, required);
}

static const char *reason_text(const char *r) { return *str0(r) ? r : "none given"; }

/* The answer's view of a household: no members, the derived fields. */
static void household_view(call *c, Whistle__V1__ArchiveHousehold *h)
{
    h->overdue = h->visit_due_ms > 0 && h->visit_due_ms <= c->now;
}

/* ------------------------------------------------------------ households */

void archive_put_household(call *c, const Whistle__V1__PutHousehold *req)
{
    const Whistle__V1__ArchiveHousehold *in = req->household;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "household is required");
        return;
    }
    const char *why;
    if (place_check(c, in->node, &why)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" %s", str0(in->node), why);
        return;
    }
    if (check_text(c, "building", in->building, ARC_PLACE_MAX, true) ||
        check_text(c, "unit", in->unit, ARC_PLACE_MAX, false) ||
        check_text(c, "room", in->room, ARC_PLACE_MAX, false) ||
        check_text(c, "paired_with", in->paired_with, ARC_NAME_MAX, false) ||
        check_text(c, "note", in->note, ARC_NOTE_MAX, false) || arc_tags_check(c, "tags", in->tags, in->n_tags))
        return;
    if (archive_reach(c, in->node, in->node, arena_printf(c->a, "no place %s", in->node)))
        return;
    Whistle__V1__ArchiveHousehold *old = NULL, *h = arena_alloc(c->a, sizeof *h);
    whistle__v1__archive_household__init(h);
    void *before = NULL;
    size_t blen = 0;
    if (in->id) {
        if (arc_household_get(c, in->id, &old, &before, &blen) ||
            archive_reach(c, old->node, hh_target(c, in->id),
                          arena_printf(c->a, "no household %llu", (unsigned long long)in->id)))
            return;
        *h = *old;
        Whistle__V1__ArchiveHousehold *o2 =
            whistle__v1__archive_household__unpack(arena_allocator(c->a), blen, before); /* old stays intact */
        old = o2;
    }
    h->node = in->node;
    h->building = in->building;
    h->unit = in->unit;
    h->room = in->room;
    h->tags = in->tags;
    h->n_tags = in->n_tags;
    h->paired_with = in->paired_with;
    h->note = in->note;
    if (arc_household_save(c, old, before, blen, h))
        return;
    household_view(c, h);
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_HOUSEHOLD;
    c->resp->household = h;
}

/* Loads the residents of a household into members (masked). */
static int members_of(call *c, Whistle__V1__ArchiveHousehold *h, bool with_removed)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->arc_res_by_hh, &cur);
    if (rc)
        return call_store_fail(c, rc, "reading a household's residents");
    uint8_t pre[8];
    store_be64(pre, h->id);
    MDB_val k = { 8, pre }, v;
    ptr_vec out = { 0 };
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 16 || memcmp(k.mv_data, pre, 8) != 0)
            break;
        Whistle__V1__ArchiveResident *r;
        Whistled__ArcResident *s;
        if (arc_resident_get(c, store_get_be64((const uint8_t *)k.mv_data + 8), &r, &s, NULL, NULL) ||
            arc_resident_mask(c, s, r)) {
            mdb_cursor_close(cur);
            return -1;
        }
        if (!r->removed || with_removed)
            ptr_vec_push(c->a, &out, r);
    }
    mdb_cursor_close(cur);
    h->members = (Whistle__V1__ArchiveResident **)out.items;
    h->n_members = out.n;
    h->residents = (uint32_t)out.n;
    return 0;
}

void archive_get_household(call *c, const Whistle__V1__GetHousehold *req)
{
    Whistle__V1__ArchiveHousehold *h;
    if (reason_check(c, req->reason, true) || arc_household_get(c, req->id, &h, NULL, NULL) ||
        archive_reach(c, h->node, hh_target(c, req->id),
                      arena_printf(c->a, "no household %llu", (unsigned long long)req->id)) ||
        members_of(c, h, true))
        return;
    household_view(c, h);
    call_read_personal(
        c, hh_target(c, h->id),
        arena_printf(c->a, "household with %zu residents (masked); reason: %s", h->n_members, req->reason));
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_HOUSEHOLD;
    c->resp->household = h;
}

/* ------------------------------------------------------------ residents */

/* Who may see a field in clear (docs/archive.md): the ID-card number, the
 * workers who meet the resident (grid and community); the phone, those and
 * the street's operators. */
static bool may_reveal(Whistle__V1__Role role, Whistle__V1__ArchiveField f)
{
    if (f == AF(ID_NUMBER))
        return role == ROLE(GRID_WORKER) || role == ROLE(COMMUNITY);
    if (f == AF(PHONE))
        return role == ROLE(GRID_WORKER) || role == ROLE(COMMUNITY) || role == ROLE(OPERATOR);
    return false;
}

void archive_get_resident(call *c, const Whistle__V1__GetResident *req)
{
    Whistle__V1__ArchiveResident *r;
    Whistled__ArcResident *s;
    Whistle__V1__ArchiveHousehold *h;
    const char *target = arena_printf(c->a, "resident:%llu", (unsigned long long)req->id);
    if (reason_check(c, req->reason, true))
        return;
    if (req->reveal != AF(NONE) && req->reveal != AF(ID_NUMBER) && req->reveal != AF(PHONE)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "reveal %d is not a field (1 id_number, 2 phone)", req->reveal);
        return;
    }
    if (arc_resident_get(c, req->id, &r, &s, NULL, NULL))
        return;
    /* the household's place decides the scope */
    if (arc_household_get(c, r->household_id, &h, NULL, NULL)) {
        call_status(c->resp, c->a, CODE(DATA_LOSS), "resident %llu has no household", (unsigned long long)req->id);
        return;
    }
    if (archive_reach(c, h->node, target, arena_printf(c->a, "no resident %llu", (unsigned long long)req->id)))
        return;
    if (req->reveal != AF(NONE) && !may_reveal(c->who->role, req->reveal)) {
        call_deny(c, target,
                  "role %s may not reveal a resident's %s (rule: ID-card numbers are revealed to grid and "
                  "community workers; phones to those and the street's operators)",
                  role_name(c->who->role), req->reveal == AF(PHONE) ? "phone" : "ID-card number");
        return;
    }
    if (arc_resident_mask(c, s, r))
        return;
    r->node = h->node;
    const char *what = "resident record (masked)";
    if (req->reveal != AF(NONE)) {
        char *clear;
        if (arc_resident_open(c, s, req->reveal, &clear))
            return;
        if (req->reveal == AF(PHONE))
            r->phone = clear;
        else
            r->id_number = clear;
        r->revealed = req->reveal;
        what =
            req->reveal == AF(PHONE) ? "resident record, phone REVEALED" : "resident record, ID-card number REVEALED";
    }
    call_read_personal(c, target, arena_printf(c->a, "%s; reason: %s", what, req->reason));
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_RESIDENT;
    c->resp->resident = r;
}

/* Checks a resident's fields as a call or an import line gives them;
 * normalises a lower-case x. NULL, or why it is wrong (in a). */
static const char *resident_problem(arena *a, Whistle__V1__ArchiveResident *r)
{
    const char *why;
    size_t n = strlen(str0(r->name));
    if (!n)
        return "name is required";
    if (n > ARC_NAME_MAX || !utf8_valid(r->name, n))
        return arena_printf(a, "name: at most %d bytes of UTF-8", ARC_NAME_MAX);
    if (strlen(str0(r->relation)) > ARC_PLACE_MAX || !utf8_valid(str0(r->relation), strlen(str0(r->relation))))
        return arena_printf(a, "relation: at most %d bytes of UTF-8", ARC_PLACE_MAX);
    if (*str0(r->id_number)) {
        if (strlen(r->id_number) == 18 && r->id_number[17] == 'x') {
            r->id_number = arena_strdup(a, r->id_number);
            r->id_number[17] = 'X';
        }
        if (!arc_id_number_ok(r->id_number, &why))
            return why;
    }
    if (*str0(r->phone) && !arc_phone_ok(r->phone))
        return "phone: a mobile (11 digits, 1[3-9]...) or a landline (0 + area code, optional -, 7-8 digits)";
    if (*str0(r->birth_date) && !arc_date_ok(r->birth_date))
        return "birth_date: YYYY-MM-DD of a real day";
    if (*str0(r->id_number)) {
        char *d = arena_printf(a, "%.4s-%.2s-%.2s", r->id_number + 6, r->id_number + 10, r->id_number + 12);
        if (!*str0(r->birth_date))
            r->birth_date = d;
        else if (strcmp(d, r->birth_date) != 0)
            return arena_printf(a, "birth_date %s differs from the ID-card number's %s", r->birth_date, d);
    }
    return NULL;
}

void archive_put_resident(call *c, const Whistle__V1__PutResident *req)
{
    if (!req->resident) {
        call_fail(c, CODE(INVALID_ARGUMENT), "resident is required");
        return;
    }
    Whistle__V1__ArchiveResident *r = arena_alloc(c->a, sizeof *r);
    *r = *req->resident;
    const char *why = resident_problem(c->a, r);
    if (why) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%s", why);
        return;
    }
    if (arc_tags_check(c, "tags", r->tags, r->n_tags))
        return;
    Whistle__V1__ArchiveHousehold *h;
    if (arc_household_get(c, r->household_id, &h, NULL, NULL) ||
        archive_reach(c, h->node, hh_target(c, r->household_id),
                      arena_printf(c->a, "no household %llu", (unsigned long long)r->household_id)))
        return;
    Whistled__ArcResident *old = NULL;
    void *before = NULL;
    size_t blen = 0;
    if (r->id) {
        Whistle__V1__ArchiveResident *prev;
        Whistle__V1__ArchiveHousehold *ph;
        const char *t = arena_printf(c->a, "resident:%llu", (unsigned long long)r->id);
        if (arc_resident_get(c, r->id, &prev, &old, &before, &blen))
            return;
        if (arc_household_get(c, prev->household_id, &ph, NULL, NULL) ||
            archive_reach(c, ph->node, t, arena_printf(c->a, "no resident %llu", (unsigned long long)r->id)))
            return;
    }
    if (arc_resident_save(c, old, before, blen, r))
        return;
    Whistle__V1__ArchiveResident *out = arena_alloc(c->a, sizeof *out);
    *out = *r;
    out->node = h->node;
    if (old && (!*str0(r->id_number) || !*str0(r->phone))) {
        if (arc_resident_mask(c, old, out))
            return;
    }
    if (*str0(r->id_number))
        out->id_number = (char *)arc_mask(c->a, r->id_number);
    if (*str0(r->phone))
        out->phone = (char *)arc_mask(c->a, r->phone);
    out->revealed = AF(NONE);
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_RESIDENT;
    c->resp->resident = out;
}

/* ------------------------------------------------------------ lists */

/* The ids under a node prefix of an index "node | '/' | u64 BE id". */
static int ids_under(call *c, MDB_dbi dbi, const char *node, ptr_vec *ids)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, dbi, &cur);
    if (rc)
        return call_store_fail(c, rc, "reading an index of the archive");
    size_t pl = strlen(node);
    MDB_val k = { pl, (void *)node }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, pl ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < pl + 9 || memcmp(k.mv_data, node, pl) != 0)
            break;
        uint64_t *id = arena_alloc(c->a, sizeof *id);
        *id = store_get_be64((const uint8_t *)k.mv_data + k.mv_size - 8);
        ptr_vec_push(c->a, ids, id);
    }
    mdb_cursor_close(cur);
    return 0;
}

static int cmp_id(const void *x, const void *y)
{
    uint64_t a = **(uint64_t *const *)x, b = **(uint64_t *const *)y;
    return a < b ? -1 : a > b;
}

/* The node a list starts from: the one asked for, inside the caller's
 * scope, or the caller's own scope. NULL with the status set. */
static const char *list_node(call *c, const char *node)
{
    node = str0(node);
    if (!*node)
        node = c->who->role == ROLE(ADMIN) ? "" : principal_common_scope(c->who, c->a);
    if (*node && (!digits_ok(node, strlen(node)) || strlen(node) > 18)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a node code", node);
        return NULL;
    }
    if (c->who->role != ROLE(ADMIN) && (!*node || !principal_covers(c->who, node))) {
        call_deny(c, node, "node %s is outside your scope %s (rule: %s)", node, str0(c->who->scope), scope_rule);
        return NULL;
    }
    return node;
}

void archive_list_households(call *c, const Whistle__V1__ListHouseholds *req)
{
    const char *node = list_node(c, req->node);
    if (!node || reason_check(c, req->reason, false) || check_text(c, "tag", req->tag, 32, false))
        return;
    uint32_t limit = req->limit ? (req->limit > LIST_MAX ? LIST_MAX : req->limit) : 100;
    ptr_vec ids = { 0 };
    if (ids_under(c, c->st->arc_hh_by_node, node, &ids))
        return;
    if (ids.n)
        qsort(ids.items, ids.n, sizeof *ids.items, cmp_id);
    Whistle__V1__HouseholdList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__household_list__init(l);
    ptr_vec out = { 0 };
    const char *tag = str0(req->tag);
    for (size_t i = 0; i < ids.n; i++) {
        uint64_t id = *(uint64_t *)ids.items[i];
        if (id <= req->after_id)
            continue;
        if (out.n == limit) {
            l->next_after = ((Whistle__V1__ArchiveHousehold *)out.items[out.n - 1])->id;
            break;
        }
        Whistle__V1__ArchiveHousehold *h;
        if (arc_household_get(c, id, &h, NULL, NULL))
            return;
        bool has = !*tag;
        for (size_t j = 0; !has && j < h->n_tags; j++)
            has = strcmp(h->tags[j], tag) == 0;
        for (size_t j = 0; !has && j < h->n_member_tags; j++)
            has = strcmp(h->member_tags[j], tag) == 0;
        if (!has)
            continue;
        household_view(c, h);
        ptr_vec_push(c->a, &out, h);
    }
    l->households = (Whistle__V1__ArchiveHousehold **)out.items;
    l->n_households = out.n;
    call_read_personal(
        c, *node ? node : "*",
        arena_printf(c->a, "%zu households (addresses, care tags); reason: %s", out.n, reason_text(req->reason)));
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_HOUSEHOLDS;
    c->resp->households = l;
}

/* ------------------------------------------------------------ units */

static int unit_get(call *c, uint64_t id, Whistle__V1__ArchiveUnit **u, Whistled__ArcUnit **s, void **b, size_t *n)
{
    int rc = store_get_bytes(c->txn, c->st->arc_units, arc_key64(c->a, id), 8, c->a, b, n);
    if (rc == MDB_NOTFOUND)
        return call_fail(c, CODE(NOT_FOUND), "no unit %llu", (unsigned long long)id);
    if (rc)
        return call_store_fail(c, rc, "reading a unit");
    *s = whistled__arc_unit__unpack(arena_allocator(c->a), *n, *b);
    *u = *s ? whistle__v1__archive_unit__unpack(arena_allocator(c->a), (*s)->unit.len, (*s)->unit.data) : NULL;
    return *u ? 0 : call_fail(c, CODE(DATA_LOSS), "unit %llu does not unpack", (unsigned long long)id);
}

static const char *unit_phone(call *c, const Whistled__ArcUnit *s)
{
    char *p = (char *)"";
    if (s->phone_sealed.len && c->st->archive_keys &&
        seal_open(c->st->archive_keys, "unit_phone", s->phone_sealed.data, s->phone_sealed.len, c->a, &p))
        return "(does not open)";
    return arc_mask(c->a, p);
}

void archive_put_unit(call *c, const Whistle__V1__PutArchiveUnit *req)
{
    const Whistle__V1__ArchiveUnit *in = req->unit;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "unit is required");
        return;
    }
    const char *node = str0(in->node);
    Whistle__V1__Node *nd =
        digits_ok(node, strlen(node)) && strlen(node) >= 12 ? directory_node_get(c->st, c->txn, node, c->a) : NULL;
    if (!nd || nd->retired || nd->kind < NK(COMMUNITY)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" is not a live community, grid or building", node);
        return;
    }
    if (in->kind <= WHISTLE__V1__ARCHIVE_UNIT_KIND__ARCHIVE_UNIT_KIND_UNSPECIFIED ||
        in->kind > WHISTLE__V1__ARCHIVE_UNIT_KIND__ARCHIVE_UNIT_KIND_OWNERS_COMMITTEE) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "kind %d: 1 shop, 2 stationed unit, 3 social organisation, 4 property company, 5 owners' committee",
                  in->kind);
        return;
    }
    if (check_text(c, "name", in->name, ARC_NAME_MAX * 2, true) ||
        check_text(c, "contact_name", in->contact_name, ARC_NAME_MAX, false) ||
        check_text(c, "licence", in->licence, ARC_PLACE_MAX, false) ||
        check_text(c, "address", in->address, ARC_NOTE_MAX / 4, false))
        return;
    if (*str0(in->phone) && !arc_phone_ok(in->phone)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "phone: a mobile (11 digits) or a landline (0 + area code, 7-8 digits)");
        return;
    }
    if (archive_reach(c, node, node, arena_printf(c->a, "no place %s", node)))
        return;
    Whistle__V1__ArchiveUnit *u = arena_alloc(c->a, sizeof *u);
    *u = *in;
    Whistled__ArcUnit *old = NULL;
    Whistle__V1__ArchiveUnit *prev = NULL;
    void *before = NULL;
    size_t blen = 0;
    int rc;
    if (in->id) {
        if (unit_get(c, in->id, &prev, &old, &before, &blen) ||
            archive_reach(c, prev->node, arena_printf(c->a, "unit:%llu", (unsigned long long)in->id),
                          arena_printf(c->a, "no unit %llu", (unsigned long long)in->id)))
            return;
    } else if ((rc = store_next_seq(c->txn, c->st, "arc_unit_seq", &u->id))) {
        call_store_fail(c, rc, "numbering a unit");
        return;
    }
    Whistled__ArcUnit s = WHISTLED__ARC_UNIT__INIT;
    if (old)
        s.phone_sealed = old->phone_sealed;
    if (*str0(in->phone)) {
        uint8_t *b;
        size_t n;
        if (!c->st->archive_keys) {
            call_fail(c, CODE(FAILED_PRECONDITION), "the archive's keys are not loaded: set [archive] key_file");
            return;
        }
        if (seal_value(c->st->archive_keys, "unit_phone", in->phone, strlen(in->phone), c->a, &b, &n)) {
            call_fail(c, CODE(INTERNAL), "sealing a phone failed");
            return;
        }
        s.phone_sealed = (ProtobufCBinaryData){ n, b };
    }
    Whistle__V1__ArchiveUnit bare = *u;
    bare.phone = (char *)"";
    bare.updated_ms = u->updated_ms = c->now;
    s.unit.len = protobuf_c_message_get_packed_size(&bare.base);
    s.unit.data = arena_alloc(c->a, s.unit.len + 1);
    protobuf_c_message_pack(&bare.base, s.unit.data);
    if (prev && strcmp(prev->node, u->node) != 0) {
        size_t pl = strlen(prev->node);
        uint8_t *k = arena_alloc(c->a, pl + 9);
        memcpy(k, prev->node, pl);
        k[pl] = '/';
        store_be64(k + pl + 1, u->id);
        MDB_val kk = { pl + 9, k };
        mdb_del(c->txn, c->st->arc_unit_by_node, &kk, NULL);
    }
    size_t nl = strlen(u->node);
    uint8_t *k = arena_alloc(c->a, nl + 9);
    memcpy(k, u->node, nl);
    k[nl] = '/';
    store_be64(k + nl + 1, u->id);
    MDB_val kk = { nl + 9, k }, vv = { 0, "" };
    rc = mdb_put(c->txn, c->st->arc_unit_by_node, &kk, &vv, 0);
    if (!rc)
        rc = store_put(c->txn, c->st->arc_units, arc_key64(c->a, u->id), 8, &s.base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name,
                          arena_printf(c->a, "unit:%llu", (unsigned long long)u->id), before, blen, &s.base);
    if (rc) {
        call_store_fail(c, rc, "saving a unit");
        return;
    }
    u->phone = *str0(in->phone) ? (char *)arc_mask(c->a, in->phone) : (char *)unit_phone(c, &s);
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ARCHIVE_UNIT;
    c->resp->archive_unit = u;
}

void archive_list_units(call *c, const Whistle__V1__ListArchiveUnits *req)
{
    const char *node = list_node(c, req->node);
    if (!node)
        return;
    uint32_t limit = req->limit ? (req->limit > LIST_MAX ? LIST_MAX : req->limit) : 100;
    ptr_vec ids = { 0 }, out = { 0 };
    if (ids_under(c, c->st->arc_unit_by_node, node, &ids))
        return;
    if (ids.n)
        qsort(ids.items, ids.n, sizeof *ids.items, cmp_id);
    Whistle__V1__ArchiveUnitList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__archive_unit_list__init(l);
    for (size_t i = 0; i < ids.n; i++) {
        uint64_t id = *(uint64_t *)ids.items[i];
        if (id <= req->after_id)
            continue;
        if (out.n == limit) {
            l->next_after = ((Whistle__V1__ArchiveUnit *)out.items[out.n - 1])->id;
            break;
        }
        Whistle__V1__ArchiveUnit *u;
        Whistled__ArcUnit *s;
        void *b;
        size_t n;
        if (unit_get(c, id, &u, &s, &b, &n))
            return;
        if (req->kind && u->kind != req->kind)
            continue;
        u->phone = (char *)unit_phone(c, s);
        ptr_vec_push(c->a, &out, u);
    }
    l->units = (Whistle__V1__ArchiveUnit **)out.items;
    l->n_units = out.n;
    call_read_personal(c, *node ? node : "*", arena_printf(c->a, "%zu units (contacts masked)", out.n));
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ARCHIVE_UNITS;
    c->resp->archive_units = l;
}

/* ------------------------------------------------------------ care tags */

void archive_list_care_tags(call *c)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_CARE_TAGS;
    c->resp->care_tags = arc_care_tags(c);
}

void archive_set_care_tags(call *c, const Whistle__V1__SetCareTags *req)
{
    if (req->n_tags > CARE_TAGS_MAX) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu tags; at most %d", req->n_tags, CARE_TAGS_MAX);
        return;
    }
    for (size_t i = 0; i < req->n_tags; i++) {
        const Whistle__V1__CareTag *t = req->tags[i];
        if (!directory_dept_code_ok(t->code)) {
            call_fail(c, CODE(INVALID_ARGUMENT), "tag code \"%.40s\": 1-32 of a-z 0-9 _ -", str0(t->code));
            return;
        }
        if (check_text(c, "name_zh", t->name_zh, ARC_NAME_MAX, true) ||
            check_text(c, "name_en", t->name_en, ARC_NAME_MAX, false))
            return;
        if (t->rhythm_days > 366) {
            call_fail(c, CODE(INVALID_ARGUMENT), "tag %s: rhythm_days %u; at most 366 (0: no rhythm)", t->code,
                      t->rhythm_days);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(t->code, req->tags[j]->code) == 0) {
                call_fail(c, CODE(INVALID_ARGUMENT), "tag %s is listed twice", t->code);
                return;
            }
    }
    void *before = NULL;
    size_t blen = 0;
    store_get_bytes(c->txn, c->st->arc_config, "care_tags", 9, c->a, &before, &blen);
    Whistle__V1__CareTagList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__care_tag_list__init(l);
    l->tags = req->tags;
    l->n_tags = req->n_tags;
    int rc = store_put(c->txn, c->st->arc_config, "care_tags", 9, &l->base);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, "care_tags", before, blen, &l->base);
    if (rc) {
        call_store_fail(c, rc, "saving the care tags");
        return;
    }
    /* Every household's rhythm follows the new list now, in this
     * transaction, so that the due lists and the deadline rows agree. */
    ptr_vec ids = { 0 };
    if (ids_under(c, c->st->arc_hh_by_node, "", &ids))
        return;
    for (size_t i = 0; i < ids.n; i++) {
        Whistle__V1__ArchiveHousehold *h, *old;
        void *b;
        size_t n;
        if (arc_household_get(c, *(uint64_t *)ids.items[i], &h, &b, &n))
            return;
        if (arc_household_rhythm(c, h) == h->rhythm_days)
            continue;
        old = whistle__v1__archive_household__unpack(arena_allocator(c->a), n, b);
        if (arc_household_save(c, old, b, n, h))
            return;
    }
    archive_list_care_tags(c);
}

/* ------------------------------------------------------------ import and export */

static const char *const columns[] = { "grid",  "building",   "unit",     "room", "name",      "id_number",
                                       "phone", "birth_date", "relation", "tags", "last_visit" };
static const char *const columns_zh[] = { "网格",     "楼栋",     "单元",       "房号", "姓名",    "身份证号",
                                          "联系电话", "出生日期", "与户主关系", "标签", "上次走访" };
#define N_COLS (sizeof columns / sizeof *columns)
enum {
    COL_GRID,
    COL_BUILDING,
    COL_UNIT,
    COL_ROOM,
    COL_NAME,
    COL_ID,
    COL_PHONE,
    COL_BIRTH,
    COL_REL,
    COL_TAGS,
    COL_LAST
};

typedef struct import_line {
    size_t line;
    char *f[N_COLS];
    char **tags;
    size_t n_tags;
    int64_t last_visit_ms; /* 0: none given */
    Whistle__V1__ArchiveResident r;
} import_line;

typedef struct import_addr {
    const char *key; /* grid | building | unit | room */
    uint64_t id;     /* 0: to be created */
} import_addr;

static const char *addr_key(arena *a, const char *grid, const char *b, const char *u, const char *r)
{
    return arena_printf(a, "%s\x1f%s\x1f%s\x1f%s", grid, b, u, r);
}

/* The households of a grid already stored, by address. */
static int known_addrs(call *c, const char *grid, ptr_vec *addrs)
{
    ptr_vec ids = { 0 };
    if (ids_under(c, c->st->arc_hh_by_node, grid, &ids))
        return -1;
    for (size_t i = 0; i < ids.n; i++) {
        Whistle__V1__ArchiveHousehold *h;
        if (arc_household_get(c, *(uint64_t *)ids.items[i], &h, NULL, NULL))
            return -1;
        import_addr *ad = arena_alloc(c->a, sizeof *ad);
        ad->key = addr_key(c->a, h->node, str0(h->building), str0(h->unit), str0(h->room));
        ad->id = h->id;
        ptr_vec_push(c->a, addrs, ad);
    }
    return 0;
}

static import_addr *addr_find(ptr_vec *addrs, const char *key)
{
    for (size_t i = 0; i < addrs->n; i++)
        if (strcmp(((import_addr *)addrs->items[i])->key, key) == 0)
            return addrs->items[i];
    return NULL;
}

static char **split_tags(arena *a, const char *s, size_t *n)
{
    *n = 0;
    size_t len = strlen(s);
    char **out = arena_alloc(a, sizeof *out * (len / 2 + 2));
    char *copy = arena_strdup(a, s), *save = NULL;
    for (char *t = strtok_r(copy, "| ", &save); t; t = strtok_r(NULL, "| ", &save))
        out[(*n)++] = t;
    return out;
}

/* ---- units (shops, stationed units, social organisations...) ---- */

static const struct {
    const char *en, *zh;
} unit_kinds[] = {
    { "", "" },
    { "shop", "沿街商铺" },
    { "stationed", "驻区单位" },
    { "social_org", "社会组织" },
    { "property", "物业" },
    { "owners_committee", "业委会" },
};
#define N_UNIT_KINDS (sizeof unit_kinds / sizeof *unit_kinds)

static const char *const ucolumns[] = { "node", "kind", "name", "contact_name", "phone", "licence", "address" };
static const char *const ucolumns_zh[] = { "所在地", "类型", "名称", "联系人", "联系电话", "证照号", "地址" };
#define N_UCOLS (sizeof ucolumns / sizeof *ucolumns)

/* What is wrong with a unit as a line gives it (NULL: nothing). */
static const char *unit_problem(call *c, const char *under, bool anywhere, Whistle__V1__ArchiveUnit *u)
{
    const char *node = str0(u->node);
    Whistle__V1__Node *nd =
        digits_ok(node, strlen(node)) && strlen(node) >= 12 ? directory_node_get(c->st, c->txn, node, c->a) : NULL;
    if (!nd || nd->retired || nd->kind < NK(COMMUNITY))
        return arena_printf(c->a, "node \"%.40s\" is not a live community, grid or building", node);
    if (!anywhere && !scope_covers(under, node))
        return arena_printf(c->a, "node %s is not under %s", node, under);
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, node))
        return arena_printf(c->a, "node %s is outside your scope %s", node, str0(c->who->scope));
    if (!u->kind)
        return "kind: shop, stationed, social_org, property or owners_committee (沿街商铺, 驻区单位, 社会组织, 物业, "
               "业委会)";
    size_t n = strlen(str0(u->name));
    if (!n || n > ARC_NAME_MAX * 2 || !utf8_valid(u->name, n))
        return arena_printf(c->a, "name: 1 to %d bytes of UTF-8", ARC_NAME_MAX * 2);
    if (strlen(str0(u->contact_name)) > ARC_NAME_MAX || strlen(str0(u->licence)) > ARC_PLACE_MAX ||
        strlen(str0(u->address)) > ARC_NOTE_MAX / 4)
        return "contact_name, licence or address is too long";
    if (*str0(u->phone) && !arc_phone_ok(u->phone))
        return "phone: a mobile (11 digits, 1[3-9]...) or a landline (0 + area code, optional -, 7-8 digits)";
    return NULL;
}

/* The unit of that name at that node, 0 if none. */
static uint64_t unit_named(call *c, const char *node, const char *name)
{
    ptr_vec ids = { 0 };
    if (ids_under(c, c->st->arc_unit_by_node, node, &ids))
        return 0;
    for (size_t i = 0; i < ids.n; i++) {
        Whistle__V1__ArchiveUnit *u;
        Whistled__ArcUnit *s;
        void *b;
        size_t n;
        if (unit_get(c, *(uint64_t *)ids.items[i], &u, &s, &b, &n) == 0 && strcmp(u->node, node) == 0 &&
            strcmp(str0(u->name), name) == 0)
            return u->id;
    }
    return 0;
}

static void import_units(call *c, const Whistle__V1__ImportArchive *req, const char *under, bool anywhere)
{
    csv_reader rd;
    csv_init(&rd, req->data.data, req->data.len);
    char **f;
    size_t n, line;
    const char *why;
    const char *src = *str0(req->source) ? req->source : "the file";
    int rc = csv_next(&rd, c->a, &f, &n, &line, &why);
    if (rc != CSV_RECORD) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%s: %s", src,
                  rc == CSV_EOF ? "is empty; the first line names the columns (docs/archive.md)" : why);
        return;
    }
    int col[N_UCOLS];
    for (size_t k = 0; k < N_UCOLS; k++) {
        col[k] = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(f[i], ucolumns[k]) == 0 || strcmp(f[i], ucolumns_zh[k]) == 0)
                col[k] = (int)i;
        if (col[k] < 0 && k < 3) {
            call_fail(c, CODE(INVALID_ARGUMENT),
                      "line %zu: the header has no column %s (%s); columns: node, kind, name, contact_name, phone, "
                      "licence, address",
                      line, ucolumns[k], ucolumns_zh[k]);
            return;
        }
    }
    ptr_vec units = { 0 }, errors = { 0 };
    while ((rc = csv_next(&rd, c->a, &f, &n, &line, &why)) != CSV_EOF) {
        if (units.n + errors.n >= IMPORT_LINES_MAX) {
            ptr_vec_push(c->a, &errors,
                         arena_printf(c->a, "line %zu: more than %d lines; split the file", line, IMPORT_LINES_MAX));
            break;
        }
        if (rc == CSV_BAD) {
            ptr_vec_push(c->a, &errors, arena_printf(c->a, "line %zu: %s", line, why));
            continue;
        }
        const char *v[N_UCOLS];
        for (size_t k = 0; k < N_UCOLS; k++)
            v[k] = col[k] >= 0 && (size_t)col[k] < n ? f[col[k]] : "";
        Whistle__V1__ArchiveUnit *u = arena_alloc(c->a, sizeof *u);
        whistle__v1__archive_unit__init(u);
        u->node = (char *)v[0];
        for (size_t k = 1; k < N_UNIT_KINDS; k++)
            if (strcmp(v[1], unit_kinds[k].en) == 0 || strcmp(v[1], unit_kinds[k].zh) == 0)
                u->kind = (Whistle__V1__ArchiveUnitKind)k;
        u->name = (char *)v[2];
        u->contact_name = (char *)v[3];
        u->phone = (char *)v[4];
        u->licence = (char *)v[5];
        u->address = (char *)v[6];
        const char *bad = unit_problem(c, under, anywhere, u);
        if (bad)
            ptr_vec_push(c->a, &errors, arena_printf(c->a, "line %zu: %s", line, bad));
        else
            ptr_vec_push(c->a, &units, u);
    }
    if (errors.n) {
        char *msg =
            arena_printf(c->a, "%s: %zu bad line%s; nothing was imported", src, errors.n, errors.n == 1 ? "" : "s");
        for (size_t i = 0; i < errors.n && i < IMPORT_ERRORS_SHOWN; i++)
            msg = arena_printf(c->a, "%s\n%s", msg, (const char *)errors.items[i]);
        if (errors.n > IMPORT_ERRORS_SHOWN)
            msg = arena_printf(c->a, "%s\n... and %zu more", msg, errors.n - IMPORT_ERRORS_SHOWN);
        call_fail(c, CODE(INVALID_ARGUMENT), "%s", msg);
        return;
    }
    Whistle__V1__ArchiveImportResult *res = arena_alloc(c->a, sizeof *res);
    whistle__v1__archive_import_result__init(res);
    for (size_t i = 0; i < units.n; i++) {
        Whistle__V1__ArchiveUnit *u = units.items[i];
        u->id = unit_named(c, u->node, u->name);
        if (u->id)
            res->units_updated++;
        else
            res->units_added++;
        if (req->dry_run)
            continue;
        Whistle__V1__PutArchiveUnit pu = WHISTLE__V1__PUT_ARCHIVE_UNIT__INIT;
        pu.unit = u;
        archive_put_unit(c, &pu);
        if (c->resp->status && c->resp->status->code != CODE(OK))
            return;
        c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT__NOT_SET;
    }
    res->applied = !req->dry_run;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ARCHIVE_IMPORT;
    c->resp->archive_import = res;
}

/* By ID number, then by line: a number's first line comes first. */
static int cmp_line_id(const void *x, const void *y)
{
    const import_line *a = *(import_line *const *)x, *b = *(import_line *const *)y;
    int r = strcmp(str0(a->r.id_number), str0(b->r.id_number));
    return r ? r : (a->line > b->line) - (a->line < b->line);
}

void archive_import(call *c, const Whistle__V1__ImportArchive *req)
{
    const char *under = str0(req->node);
    bool anywhere = !*under && c->who->role == ROLE(ADMIN); /* the seed (community_seed) */
    if (!anywhere && (!*under || !digits_ok(under, strlen(under)) || strlen(under) > 18)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "node is required: the place the file is for (a street, community or "
                  "grid); every line's grid must lie under it");
        return;
    }
    if (check_text(c, "source", req->source, 200, false))
        return;
    if (!anywhere && archive_reach(c, under, under, arena_printf(c->a, "no place %s", under)))
        return;
    if (!c->st->archive_keys) {
        call_fail(c, CODE(FAILED_PRECONDITION), "the archive's keys are not loaded: set [archive] key_file");
        return;
    }
    if (req->units) {
        import_units(c, req, under, anywhere);
        return;
    }
    csv_reader rd;
    csv_init(&rd, req->data.data, req->data.len);
    char **f;
    size_t n, line;
    const char *why;
    int rc = csv_next(&rd, c->a, &f, &n, &line, &why);
    if (rc != CSV_RECORD) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%s: %s", *str0(req->source) ? req->source : "the file",
                  rc == CSV_EOF ? "is empty; the first line names the columns (docs/archive.md)" : why);
        return;
    }
    int col[N_COLS];
    for (size_t k = 0; k < N_COLS; k++) {
        col[k] = -1;
        for (size_t i = 0; i < n; i++)
            if (strcmp(f[i], columns[k]) == 0 || strcmp(f[i], columns_zh[k]) == 0)
                col[k] = (int)i;
        if (col[k] < 0 && (k == COL_GRID || k == COL_BUILDING || k == COL_NAME)) {
            call_fail(c, CODE(INVALID_ARGUMENT),
                      "line %zu: the header has no column %s (%s); columns: grid, building, "
                      "unit, room, name, id_number, phone, birth_date, relation, tags",
                      line, columns[k], columns_zh[k]);
            return;
        }
    }
    ptr_vec lines = { 0 }, errors = { 0 }, addrs = { 0 }, grids = { 0 };
    Whistle__V1__ArchiveImportResult *res = arena_alloc(c->a, sizeof *res);
    whistle__v1__archive_import_result__init(res);
    while ((rc = csv_next(&rd, c->a, &f, &n, &line, &why)) != CSV_EOF) {
        if (lines.n + errors.n >= IMPORT_LINES_MAX) {
            ptr_vec_push(c->a, &errors,
                         arena_printf(c->a, "line %zu: more than %d lines; split the file", line, IMPORT_LINES_MAX));
            break;
        }
        if (rc == CSV_BAD) {
            ptr_vec_push(c->a, &errors, arena_printf(c->a, "line %zu: %s", line, why));
            continue;
        }
        import_line *L = arena_alloc(c->a, sizeof *L);
        memset(L, 0, sizeof *L);
        L->line = line;
        for (size_t k = 0; k < N_COLS; k++)
            L->f[k] = col[k] >= 0 && (size_t)col[k] < n ? f[col[k]] : (char *)"";
        whistle__v1__archive_resident__init(&L->r);
        L->r.name = L->f[COL_NAME];
        L->r.id_number = L->f[COL_ID];
        L->r.phone = L->f[COL_PHONE];
        L->r.birth_date = L->f[COL_BIRTH];
        L->r.relation = L->f[COL_REL];
        const char *bad = NULL, *pwhy;
        const char *grid = L->f[COL_GRID];
        if (place_check(c, grid, &pwhy))
            bad = arena_printf(c->a, "grid \"%.40s\" %s", grid, pwhy);
        else if (!anywhere && !scope_covers(under, grid))
            bad = arena_printf(c->a, "grid %s is not under %s", grid, under);
        else if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, grid))
            bad = arena_printf(c->a, "grid %s is outside your scope %s", grid, str0(c->who->scope));
        for (int k = COL_BUILDING; !bad && k <= COL_ROOM; k++)
            if (strlen(L->f[k]) > ARC_PLACE_MAX)
                bad = arena_printf(c->a, "%s: at most %d bytes", columns[k], ARC_PLACE_MAX);
        if (!bad && !*L->f[COL_BUILDING])
            bad = "building is required";
        if (!bad && *L->f[COL_LAST]) {
            int32_t day;
            if (calendar_parse_date(L->f[COL_LAST], &day))
                bad = "last_visit: YYYY-MM-DD";
            else if ((L->last_visit_ms = calendar_day_start(&deadline_policy_of(c->st)->cal, day)) > c->now)
                bad = "last_visit is in the future";
        }
        if (!bad)
            bad = resident_problem(c->a, &L->r);
        if (!bad) {
            L->tags = split_tags(c->a, L->f[COL_TAGS], &L->n_tags);
            Whistle__V1__CareTagList *tl = arc_care_tags(c);
            if (L->n_tags > ARC_TAGS_MAX)
                bad = arena_printf(c->a, "tags: at most %d", ARC_TAGS_MAX);
            for (size_t t = 0; !bad && t < L->n_tags; t++)
                if (!arc_care_tag_find(tl, L->tags[t]))
                    bad = arena_printf(c->a, "tags: no care tag \"%.40s\"; list_care_tags shows them", L->tags[t]);
        }
        if (bad) {
            ptr_vec_push(c->a, &errors, arena_printf(c->a, "line %zu: %s", line, bad));
            continue;
        }
        L->r.tags = L->tags;
        L->r.n_tags = L->n_tags;
        ptr_vec_push(c->a, &lines, L);
    }
    /* An ID number twice in the file: sorted, so that a street's file is
     * checked in n log n, not n^2; the later line is named. */
    if (lines.n > 1) {
        import_line **by_id = arena_alloc(c->a, lines.n * sizeof *by_id);
        memcpy(by_id, lines.items, lines.n * sizeof *by_id);
        qsort(by_id, lines.n, sizeof *by_id, cmp_line_id);
        for (size_t i = 1; i < lines.n; i++)
            if (*str0(by_id[i]->r.id_number) && strcmp(by_id[i - 1]->r.id_number, by_id[i]->r.id_number) == 0)
                ptr_vec_push(c->a, &errors,
                             arena_printf(c->a, "line %zu: the same ID-card number as line %zu", by_id[i]->line,
                                          by_id[i - 1]->line));
    }
    if (errors.n) {
        char *msg = arena_printf(c->a, "%s: %zu bad line%s; nothing was imported",
                                 *str0(req->source) ? req->source : "the file", errors.n, errors.n == 1 ? "" : "s");
        for (size_t i = 0; i < errors.n && i < IMPORT_ERRORS_SHOWN; i++)
            msg = arena_printf(c->a, "%s\n%s", msg, (const char *)errors.items[i]);
        if (errors.n > IMPORT_ERRORS_SHOWN)
            msg = arena_printf(c->a, "%s\n... and %zu more", msg, errors.n - IMPORT_ERRORS_SHOWN);
        call_fail(c, CODE(INVALID_ARGUMENT), "%s", msg);
        return;
    }
    /* Counting (a dry run stops here), then applying: every line is good. */
    for (size_t i = 0; i < lines.n; i++) {
        import_line *L = lines.items[i];
        bool seen = false;
        for (size_t g = 0; !seen && g < grids.n; g++)
            seen = strcmp(grids.items[g], L->f[COL_GRID]) == 0;
        if (!seen) {
            ptr_vec_push(c->a, &grids, L->f[COL_GRID]);
            if (known_addrs(c, L->f[COL_GRID], &addrs))
                return;
        }
        const char *key = addr_key(c->a, L->f[COL_GRID], L->f[COL_BUILDING], L->f[COL_UNIT], L->f[COL_ROOM]);
        import_addr *ad = addr_find(&addrs, key);
        if (!ad) {
            ad = arena_alloc(c->a, sizeof *ad);
            ad->key = key;
            ad->id = 0;
            ptr_vec_push(c->a, &addrs, ad);
            res->households_added++;
            if (!req->dry_run) {
                Whistle__V1__ArchiveHousehold *h = arena_alloc(c->a, sizeof *h);
                whistle__v1__archive_household__init(h);
                h->node = L->f[COL_GRID];
                h->building = L->f[COL_BUILDING];
                h->unit = L->f[COL_UNIT];
                h->room = L->f[COL_ROOM];
                if (arc_household_save(c, NULL, NULL, 0, h))
                    return;
                ad->id = h->id;
            }
        }
        if (L->last_visit_ms && !req->dry_run) {
            Whistle__V1__ArchiveHousehold *h, *old;
            void *b;
            size_t bl;
            if (arc_household_get(c, ad->id, &h, &b, &bl))
                return;
            if (L->last_visit_ms > h->last_visit_ms) {
                old = whistle__v1__archive_household__unpack(arena_allocator(c->a), bl, b);
                h->last_visit_ms = L->last_visit_ms;
                if (arc_household_save(c, old, b, bl, h))
                    return;
            }
        }
        uint64_t rid = arc_resident_by_id_number(c, L->r.id_number);
        if (rid)
            res->residents_updated++;
        else
            res->residents_added++;
        if (req->dry_run)
            continue;
        Whistled__ArcResident *old = NULL;
        void *before = NULL;
        size_t blen = 0;
        if (rid) {
            Whistle__V1__ArchiveResident *prev;
            Whistle__V1__ArchiveHousehold *ph;
            if (arc_resident_get(c, rid, &prev, &old, &before, &blen) ||
                arc_household_get(c, prev->household_id, &ph, NULL, NULL))
                return;
            if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, ph->node)) {
                call_fail(
                    c, CODE(INVALID_ARGUMENT),
                    "line %zu: that ID-card number belongs to a resident outside your scope; nothing was imported",
                    L->line);
                return;
            }
            L->r.id = rid;
            L->r.removed = false;
        }
        L->r.household_id = ad->id;
        if (arc_resident_save(c, old, before, blen, &L->r))
            return;
    }
    res->applied = !req->dry_run;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ARCHIVE_IMPORT;
    c->resp->archive_import = res;
}

void archive_export(call *c, const Whistle__V1__ExportArchive *req)
{
    const char *node = list_node(c, req->node);
    if (!node || reason_check(c, req->reason, true))
        return;
    if (!c->st->archive_keys) {
        call_fail(c, CODE(FAILED_PRECONDITION), "the archive's keys are not loaded: set [archive] key_file");
        return;
    }
    csv_buf b = { 0 };
    char *head = arena_printf(c->a,
                              "# PERSONAL DATA (个人信息) in clear: exported by %s at %s for: %s. The export is in "
                              "the audit log; keep, share and delete this file as docs/archive.md says.\n",
                              str0(c->who->name), deadline_format(c, c->now), req->reason);
    csv_append(&b, head, strlen(head));
    for (size_t k = 0; k < N_COLS; k++)
        csv_put(&b, columns[k], k == 0);
    csv_end_record(&b);
    ptr_vec ids = { 0 };
    if (ids_under(c, c->st->arc_hh_by_node, node, &ids)) {
        csv_buf_free(&b);
        return;
    }
    uint32_t count = 0;
    for (size_t i = 0; i < ids.n; i++) {
        Whistle__V1__ArchiveHousehold *h;
        if (arc_household_get(c, *(uint64_t *)ids.items[i], &h, NULL, NULL) || members_of(c, h, false)) {
            csv_buf_free(&b);
            return;
        }
        for (size_t m = 0; m < h->n_members; m++) {
            Whistle__V1__ArchiveResident *r, *mr = h->members[m];
            Whistled__ArcResident *s;
            char *idn, *ph;
            if (arc_resident_get(c, mr->id, &r, &s, NULL, NULL) || arc_resident_open(c, s, AF(ID_NUMBER), &idn) ||
                arc_resident_open(c, s, AF(PHONE), &ph)) {
                csv_buf_free(&b);
                return;
            }
            char *tags = arena_strdup(c->a, "");
            for (size_t t = 0; t < r->n_tags; t++)
                tags = arena_printf(c->a, "%s%s%s", tags, t ? "|" : "", r->tags[t]);
            char last[16] = "";
            if (h->last_visit_ms) {
                int y, mo, d;
                calendar_civil(calendar_day(&deadline_policy_of(c->st)->cal, h->last_visit_ms), &y, &mo, &d);
                snprintf(last, sizeof last, "%04d-%02d-%02d", y, mo, d);
            }
            const char *row[N_COLS] = { h->node, str0(h->building),   str0(h->unit),     str0(h->room), r->name, idn,
                                        ph,      str0(r->birth_date), str0(r->relation), tags,          last };
            for (size_t k = 0; k < N_COLS; k++)
                csv_put(&b, row[k], k == 0);
            csv_end_record(&b);
            count++;
        }
        if (b.len > EXPORT_MAX) {
            csv_buf_free(&b);
            call_fail(c, CODE(FAILED_PRECONDITION),
                      "the export of %s passes %u KiB; export its communities or grids "
                      "one by one",
                      *node ? node : "the city", EXPORT_MAX >> 10);
            return;
        }
    }
    Whistle__V1__ArchiveExport *e = arena_alloc(c->a, sizeof *e);
    whistle__v1__archive_export__init(e);
    e->data = arena_strndup(c->a, b.data ? b.data : "", b.len);
    e->residents = count;
    csv_buf_free(&b);
    call_read_personal(c, *node ? node : "*",
                       arena_printf(c->a, "EXPORT of %u residents with ID-card numbers and phones in clear; reason: %s",
                                    count, req->reason));
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ARCHIVE_EXPORT;
    c->resp->archive_export = e;
}
