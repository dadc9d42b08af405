/* admin.c: see admin.h. Who may make these calls is authz.c's (admins);
 * this file checks what they ask for. */
#include "admin.h"
#include "attributes.h"
#include "authz.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "directory.h"
#include "dirio.h"
#include "places.h"

#define NAME_MAX_BYTES 200
#define NK(x) WHISTLE__V1__NODE_KIND__NODE_KIND_##x
#define EXPORT_PAGE_DEFAULT (256u << 10)
#define MOVE_LISTED_MAX 2000

/* ------------------------------------------------------------ helpers */

static void *load(call *c, MDB_dbi dbi, const char *key, const ProtobufCMessageDescriptor *d, void **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    if (!key || !*key || strlen(key) > 511)
        return NULL;
    if (store_get_bytes(c->txn, dbi, key, strlen(key), c->a, bytes, len) != 0)
        return NULL;
    return protobuf_c_message_unpack(d, arena_allocator(c->a), *len, *bytes);
}

/* Stores a record and audits the change (before: its bytes, NULL if new). */
static int put_audited(call *c, MDB_dbi dbi, const char *key, const void *before, size_t blen,
                       const ProtobufCMessage *m)
{
    int rc = store_put(c->txn, dbi, key, strlen(key), m);
    /* a place changed: the map's index is rebuilt at its next look-up */
    if (!rc && dbi == c->st->nodes)
        rc = places_touch(c->st, c->txn);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, key, before, blen, m);
    return rc ? call_store_fail(c, rc, "saving the change") : 0;
}

/* Whether m packs to exactly the bytes it was loaded from. */
static bool same(arena *a, const void *before, size_t blen, const ProtobufCMessage *m)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    if (!before || n != blen)
        return false;
    uint8_t *p = arena_alloc(a, n ? n : 1);
    protobuf_c_message_pack(m, p);
    return memcmp(p, before, n) == 0;
}

static int check_name(call *c, const char *field, const char *s)
{
    return check_text(c, field, s, NAME_MAX_BYTES, false);
}

static bool digits(const char *s) { return s && *s && digits_ok(s, strlen(s)); }

/* A node code named by a call: required, and 6 to 18 digits. -1 with
 * INVALID_ARGUMENT otherwise (a malformed code is not a missing node). */
static int check_code(call *c, const char *field, const char *code)
{
    if (!*code)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is required: a node code (6 to 18 digits)", field);
    if (!digits(code) || strlen(code) < 6 || strlen(code) > 18)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s \"%.40s\" is not a node code (6 to 18 digits)", field, code);
    return 0;
}

/* ------------------------------------------------------------ import, export */

void admin_import(call *c, const Whistle__V1__ImportDirectory *req)
{
    if (!req->last || req->offset != 0) {
        /* The router assembles chunks on the connection and hands over the
         * whole file; a chunk arriving here came some other way. */
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "an import chunk with last=false is kept by the connection it came "
                  "on; send the chunks in order on one connection");
        return;
    }
    if (req->format < 0 || req->format > WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON) {
        call_fail(c, CODE(INVALID_ARGUMENT), "format %d: use csv or json", req->format);
        return;
    }
    if (req->table < 0 || req->table >= DIRIO_TABLES) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "table %d: use nodes, departments, categories, principals, service_classes or services", req->table);
        return;
    }
    if (check_text(c, "source", req->source, 200, false))
        return;
    if (req->data.len > ADMIN_IMPORT_MAX) {
        call_fail(c, CODE(RESOURCE_EXHAUSTED), "the file is %zu bytes; an import takes at most %zu MiB; split it",
                  req->data.len, ADMIN_IMPORT_MAX >> 20);
        return;
    }
    const char *src = *str0(req->source) ? req->source : "the file";
    dirio_opts o = { .format = req->format,
                     .table = req->table,
                     .dry_run = req->dry_run,
                     .principal = str0(c->who->name),
                     .call = c->name,
                     .now = c->now };
    dirio_result r;
    int rc =
        dirio_import(c->st, c->txn, c->a, req->data.data ? (const void *)req->data.data : "", req->data.len, &o, &r);
    if (rc == 1) {
        const char *unit = r.csv ? (r.bad_rows == 1 ? "line" : "lines") : (r.bad_rows == 1 ? "entry" : "entries");
        const char *head = r.bad_rows ? arena_printf(c->a, "%s: %zu bad %s, %zu error%s; nothing was imported", src,
                                                     r.bad_rows, unit, r.n_errors, r.n_errors == 1 ? "" : "s")
                                      : arena_printf(c->a, "%s: nothing was imported", src);
        size_t shown = 0;
        for (const char *p = r.errors; *p; p++)
            shown += *p == '\n';
        shown += *r.errors ? 1 : 0;
        const char *more = shown < r.n_errors
                               ? arena_printf(c->a, "\n... and %zu more errors not listed; fix these and import again",
                                              r.n_errors - shown)
                               : "";
        call_fail(c, CODE(INVALID_ARGUMENT), "%s", head);
        /* The list of every bad line is this answer's substance, so it is
         * exempt from the usual cap on status messages; the writer still
         * cuts it to the frame limit, saying so. */
        c->resp->status->message = arena_printf(c->a, "%s\n%s%s", head, r.errors, more);
        return;
    }
    if (rc == MDB_TXN_FULL || rc == MDB_MAP_FULL) {
        call_fail(c, CODE(RESOURCE_EXHAUSTED),
                  "%s: too large for one transaction (%s); split it, by street for "
                  "example, and import the parts in turn",
                  src, store_strerror(rc));
        return;
    }
    if (rc) {
        call_store_fail(c, rc, "importing");
        return;
    }
    Whistle__V1__ImportResult *res = arena_alloc(c->a, sizeof *res);
    whistle__v1__import_result__init(res);
    res->received = req->data.len;
    res->applied = !req->dry_run;
    res->counts = arena_alloc(c->a, DIRIO_TABLES * sizeof *res->counts);
    for (int t = 1; t < DIRIO_TABLES; t++) {
        if (!r.present[t])
            continue;
        Whistle__V1__TableCount *tc = arena_alloc(c->a, sizeof *tc);
        whistle__v1__table_count__init(tc);
        tc->table = (Whistle__V1__DirectoryTable)t;
        tc->added = r.added[t];
        tc->updated = r.updated[t];
        tc->unchanged = r.unchanged[t];
        res->counts[res->n_counts++] = tc;
    }
    res->notes = (char **)r.notes;
    res->n_notes = r.n_notes;
    /* One record for the import as a whole beside those of each change, so
     * that the log says which file brought them. */
    if (!req->dry_run) {
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, arena_printf(c->a, "file:%s", src), NULL, 0,
                          &res->base);
        if (rc) {
            call_store_fail(c, rc, "auditing the import");
            return;
        }
    }
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_IMPORT_RESULT;
    c->resp->import_result = res;
}

void admin_export(call *c, const Whistle__V1__ExportDirectory *req)
{
    if (req->format < 0 || req->format > WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON) {
        call_fail(c, CODE(INVALID_ARGUMENT), "format %d: use csv or json", req->format);
        return;
    }
    size_t budget = req->page_bytes ? req->page_bytes : EXPORT_PAGE_DEFAULT;
    if (budget < 1024)
        budget = 1024;
    csv_buf out = { 0 };
    const char *next, *why = "";
    uint32_t rows;
    int rc = dirio_export(c->st, c->txn, c->a, req->format, req->table, req->under, req->cursor, budget, &out, &next,
                          &rows, &why);
    if (rc == 1) {
        csv_buf_free(&out);
        call_fail(c, CODE(INVALID_ARGUMENT), "%s", why);
        return;
    }
    if (rc) {
        csv_buf_free(&out);
        call_store_fail(c, rc, "exporting");
        return;
    }
    Whistle__V1__ExportPage *p = arena_alloc(c->a, sizeof *p);
    whistle__v1__export_page__init(p);
    p->data.len = out.len;
    p->data.data = arena_alloc(c->a, out.len ? out.len : 1);
    if (out.len)
        memcpy(p->data.data, out.data, out.len);
    csv_buf_free(&out);
    p->next_cursor = (char *)next;
    p->rows = rows;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_EXPORT_PAGE;
    c->resp->export_page = p;
}

/* ------------------------------------------------------------ nodes */

static void reply_node(call *c, Whistle__V1__Node *n)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_NODE;
    c->resp->node = n;
}

static int take_boundary(call *c, const char *code, const char *text, char **out);

void admin_add_node(call *c, const Whistle__V1__AddNode *req)
{
    const Whistle__V1__Node *in = req->node;
    if (!in) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node is required: code, parent, kind, name_zh, name_en");
        return;
    }
    const char *code = str0(in->code), *parent = str0(in->parent);
    Whistle__V1__NodeKind k = in->kind;
    if (k < NK(DISTRICT) || k > NK(BUILDING)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "kind is required: district, street, community, grid or building");
        return;
    }
    if (!digits(code) || strlen(code) != directory_code_len(k)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "code \"%s\": a %s code is %zu digits, the first %zu its parent's", code,
                  directory_kind_name(k), directory_code_len(k), directory_code_len(k - 1));
        return;
    }
    if (check_name(c, "name_zh", in->name_zh) || check_name(c, "name_en", in->name_en))
        return;
    if (!*str0(in->name_zh) && !*str0(in->name_en)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "a place needs a name (name_zh or name_en)");
        return;
    }
    if (k == NK(DISTRICT)) {
        if (*parent) {
            call_fail(c, CODE(INVALID_ARGUMENT), "a district is a root of the tree: leave its parent empty");
            return;
        }
    } else {
        size_t pl = directory_code_len(k - 1);
        if (strlen(parent) != pl || strncmp(code, parent, pl) != 0) {
            call_fail(c, CODE(INVALID_ARGUMENT),
                      "the parent of %s %s is the %s %.*s (its first %zu digits), not \"%s\"", directory_kind_name(k),
                      code, directory_kind_name(k - 1), (int)pl, code, pl, parent);
            return;
        }
        Whistle__V1__Node *p = directory_node_get(c->st, c->txn, parent, c->a);
        if (!p) {
            call_fail(c, CODE(NOT_FOUND), "parent %s does not exist; add it first", parent);
            return;
        }
        if (p->retired) {
            call_fail(c, CODE(FAILED_PRECONDITION), "parent %s is retired: it takes no new places", parent);
            return;
        }
    }
    if (directory_node_get(c->st, c->txn, code, c->a)) {
        call_fail(c, CODE(ALREADY_EXISTS), "%s is already in the directory (rename it with update_node)", code);
        return;
    }
    Whistle__V1__Node *n = arena_alloc(c->a, sizeof *n);
    whistle__v1__node__init(n);
    n->code = (char *)code;
    n->parent = (char *)parent;
    n->kind = k;
    n->name_zh = (char *)str0(in->name_zh);
    n->name_en = (char *)str0(in->name_en);
    if (*str0(in->boundary) && take_boundary(c, code, in->boundary, &n->boundary))
        return;
    if (put_audited(c, c->st->nodes, code, NULL, 0, &n->base))
        return;
    reply_node(c, n);
}

/* A node's boundary as given (places.h), checked; INVALID_ARGUMENT naming
 * the node and what is wrong otherwise. */
static int take_boundary(call *c, const char *code, const char *text, char **out)
{
    const char *why = NULL;
    const char *b = places_boundary_check(text, c->a, &why);
    if (!b)
        return call_fail(c, CODE(INVALID_ARGUMENT), "boundary of %s: %s", code, why);
    *out = (char *)b;
    return 0;
}

/* Calls fn for every node whose code starts with prefix, in code order. */
typedef int (*node_fn)(call *c, Whistle__V1__Node *n, void *bytes, size_t len, void *ctx);
static int each_node_under(call *c, const char *prefix, node_fn fn, void *ctx)
{
    /* Collect first: fn writes to the same database. */
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->nodes, &cur);
    if (rc)
        return call_store_fail(c, rc, "reading places");
    ptr_vec keys = { 0 };
    size_t plen = strlen(prefix);
    MDB_val k = { plen, (void *)prefix }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        ptr_vec_push(c->a, &keys, arena_strndup(c->a, k.mv_data, k.mv_size));
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND)
        return call_store_fail(c, rc, "reading places");
    for (size_t i = 0; i < keys.n; i++) {
        void *bytes;
        size_t len;
        Whistle__V1__Node *n = load(c, c->st->nodes, keys.items[i], &whistle__v1__node__descriptor, &bytes, &len);
        if (!n)
            return call_store_fail(c, MDB_CORRUPTED, "reading places");
        if (fn(c, n, bytes, len, ctx))
            return -1;
    }
    return 0;
}

static int retire_one(call *c, Whistle__V1__Node *n, void *bytes, size_t len, void *ctx)
{
    size_t *count = ctx;
    if (n->retired)
        return 0;
    n->retired = true;
    (*count)++;
    return put_audited(c, c->st->nodes, n->code, bytes, len, &n->base);
}

void admin_update_node(call *c, const Whistle__V1__UpdateNode *req)
{
    const char *code = str0(req->code);
    void *bytes;
    size_t len;
    if (check_code(c, "code", code))
        return;
    Whistle__V1__Node *n = load(c, c->st->nodes, code, &whistle__v1__node__descriptor, &bytes, &len);
    if (!n) {
        call_fail(c, CODE(NOT_FOUND), "no place %s", code);
        return;
    }
    if (req->retire && req->reinstate) {
        call_fail(c, CODE(INVALID_ARGUMENT), "retire or reinstate, not both");
        return;
    }
    if (!*str0(req->name_zh) && !*str0(req->name_en) && !req->retire && !req->reinstate && !*str0(req->boundary) &&
        !req->clear_boundary) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "nothing to change: give name_zh, name_en, retire, reinstate, boundary or clear_boundary");
        return;
    }
    if (*str0(req->boundary) && req->clear_boundary) {
        call_fail(c, CODE(INVALID_ARGUMENT), "boundary or clear_boundary, not both");
        return;
    }
    if (*str0(req->boundary) && take_boundary(c, code, req->boundary, &n->boundary))
        return;
    if (req->clear_boundary)
        n->boundary = (char *)"";
    if (check_name(c, "name_zh", req->name_zh) || check_name(c, "name_en", req->name_en))
        return;
    if (*str0(req->name_zh))
        n->name_zh = req->name_zh;
    if (*str0(req->name_en))
        n->name_en = req->name_en;
    if (req->reinstate && n->retired) {
        if (*str0(n->parent)) {
            Whistle__V1__Node *p = directory_node_get(c->st, c->txn, n->parent, c->a);
            if (!p || p->retired) {
                call_fail(c, CODE(FAILED_PRECONDITION), "its parent %s is retired: reinstate the parent first",
                          n->parent);
                return;
            }
        }
        n->retired = false;
    }
    if (!same(c->a, bytes, len, &n->base) && put_audited(c, c->st->nodes, code, bytes, len, &n->base))
        return;
    if (req->retire) {
        /* A retired place takes no new cases, and neither does anything
         * below it: the subtree is retired with it, each node audited. */
        size_t count = 0;
        if (each_node_under(c, code, retire_one, &count))
            return;
        n = directory_node_get(c->st, c->txn, code, c->a);
    }
    reply_node(c, n);
}

typedef struct move_ctx {
    const char *old_code, *new_code, *new_parent;
    ptr_vec created;
} move_ctx;

static const char *recode(call *c, const move_ctx *m, const char *code)
{
    return arena_printf(c->a, "%s%s", m->new_code, code + strlen(m->old_code));
}

static int check_free(call *c, Whistle__V1__Node *n, void *bytes, size_t len, void *ctx)
{
    (void)bytes, (void)len;
    const char *nc = recode(c, ctx, n->code);
    if (directory_node_get(c->st, c->txn, nc, c->a))
        return call_fail(c, CODE(ALREADY_EXISTS), "%s would move to %s, which is already in the directory", n->code,
                         nc);
    return 0;
}

static int move_one(call *c, Whistle__V1__Node *n, void *bytes, size_t len, void *ctx)
{
    move_ctx *m = ctx;
    Whistle__V1__Node *fresh = arena_alloc(c->a, sizeof *fresh);
    *fresh = *n;
    fresh->code = (char *)recode(c, m, n->code);
    fresh->parent = strcmp(n->code, m->old_code) == 0 ? (char *)m->new_parent : (char *)recode(c, m, n->parent);
    fresh->successor = (char *)"";
    if (put_audited(c, c->st->nodes, fresh->code, NULL, 0, &fresh->base))
        return -1;
    ptr_vec_push(c->a, &m->created, fresh);
    n->retired = true;
    n->successor = fresh->code;
    return put_audited(c, c->st->nodes, n->code, bytes, len, &n->base);
}

void admin_move_node(call *c, const Whistle__V1__MoveNode *req)
{
    const char *code = str0(req->code), *np = str0(req->new_parent);
    if (check_code(c, "code", code))
        return;
    Whistle__V1__Node *n = directory_node_get(c->st, c->txn, code, c->a);
    if (!n) {
        call_fail(c, CODE(NOT_FOUND), "no place %s", code);
        return;
    }
    if (n->kind == NK(DISTRICT)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "a district is a root of the tree; it has nowhere to move");
        return;
    }
    if (n->retired) {
        call_fail(c, CODE(FAILED_PRECONDITION), "%s is retired%s%s; move what replaced it", code,
                  *str0(n->successor) ? " and was replaced by " : "", str0(n->successor));
        return;
    }
    if (check_code(c, "new_parent", np))
        return;
    Whistle__V1__Node *p = directory_node_get(c->st, c->txn, np, c->a);
    if (!p) {
        call_fail(c, CODE(NOT_FOUND), "new parent \"%s\" does not exist", np);
        return;
    }
    if (p->kind != n->kind - 1) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%s is a %s; a %s's parent is a %s", np, directory_kind_name(p->kind),
                  directory_kind_name(n->kind), directory_kind_name(n->kind - 1));
        return;
    }
    if (p->retired) {
        call_fail(c, CODE(FAILED_PRECONDITION), "new parent %s is retired: it takes no new places", np);
        return;
    }
    if (strcmp(np, str0(n->parent)) == 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%s is already under %s", code, np);
        return;
    }
    const char *nc = str0(req->new_code);
    size_t len = strlen(code);
    if (!*nc)
        nc = arena_printf(c->a, "%s%s", np, code + strlen(np));
    else if (!digits(nc) || strlen(nc) != len || strncmp(nc, np, strlen(np)) != 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "new_code \"%s\": a %s under %s has %zu digits starting with %s", nc,
                  directory_kind_name(n->kind), np, len, np);
        return;
    }
    move_ctx m = { .old_code = code, .new_code = nc, .new_parent = np };
    if (each_node_under(c, code, check_free, &m) || each_node_under(c, code, move_one, &m))
        return;

    Whistle__V1__MoveResult *res = arena_alloc(c->a, sizeof *res);
    whistle__v1__move_result__init(res);
    res->n_created = m.created.n < MOVE_LISTED_MAX ? m.created.n : MOVE_LISTED_MAX;
    res->created = (Whistle__V1__Node **)m.created.items;
    ptr_vec notes = { 0 };
    if (m.created.n > MOVE_LISTED_MAX)
        ptr_vec_push(
            c->a, &notes,
            arena_printf(c->a, "%zu places were created; the first %d are listed", m.created.n, MOVE_LISTED_MAX));
    /* What stays behind, for the administrator to decide about. */
    MDB_cursor *cur;
    if (mdb_cursor_open(c->txn, c->st->principals, &cur) == 0) {
        MDB_val k, v;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            Whistle__V1__Principal *pr = whistle__v1__principal__unpack(arena_allocator(c->a), v.mv_size, v.mv_data);
            bool inside = pr && scope_covers(code, pr->scope);
            for (size_t i = 0; pr && i < pr->n_extra_scopes; i++)
                inside |= scope_covers(code, pr->extra_scopes[i]);
            if (inside)
                ptr_vec_push(c->a, &notes,
                             arena_printf(c->a,
                                          "principal %s has scope %s, now retired: give it %s with "
                                          "`whistle admin principal scope %s %s`",
                                          pr->name, pr->scope, recode(c, &m, pr->scope), pr->name,
                                          recode(c, &m, pr->scope)));
        }
        mdb_cursor_close(cur);
    }
    size_t cases = 0;
    if (mdb_cursor_open(c->txn, c->st->ev_by_node, &cur) == 0) {
        MDB_val k = { len, (void *)code }, v;
        for (int rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
             rc == 0 && k.mv_size >= len && memcmp(k.mv_data, code, len) == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT))
            cases++;
        mdb_cursor_close(cur);
    }
    if (cases)
        ptr_vec_push(c->a, &notes,
                     arena_printf(c->a, "%zu case%s recorded under %s keep%s the old codes (their history)", cases,
                                  cases == 1 ? "" : "s", code, cases == 1 ? "s" : ""));
    void *al;
    size_t all;
    if (n->kind == NK(COMMUNITY) && store_get_bytes(c->txn, c->st->admission, code, len, c->a, &al, &all) == 0)
        ptr_vec_push(c->a, &notes,
                     arena_printf(c->a, "community %s has an admission list; set it for %s too", code, nc));
    res->notes = (char **)notes.items;
    res->n_notes = notes.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_MOVED;
    c->resp->moved = res;
}

/* ------------------------------------------------------------ departments, categories */

void admin_put_department(call *c, const Whistle__V1__PutDepartment *req)
{
    const Whistle__V1__Department *in = req->department;
    if (!in || !directory_dept_code_ok(in->code)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "department code \"%s\": 1-32 of a-z 0-9 _ - (police, urban...)",
                  in ? str0(in->code) : "");
        return;
    }
    if (check_name(c, "name_zh", in->name_zh) || check_name(c, "name_en", in->name_en))
        return;
    void *bytes;
    size_t len;
    load(c, c->st->departments, in->code, &whistle__v1__department__descriptor, &bytes, &len);
    Whistle__V1__Department *d = arena_alloc(c->a, sizeof *d);
    whistle__v1__department__init(d);
    d->code = in->code;
    d->name_zh = (char *)str0(in->name_zh);
    d->name_en = (char *)str0(in->name_en);
    if (!same(c->a, bytes, len, &d->base) && put_audited(c, c->st->departments, d->code, bytes, len, &d->base))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_DEPARTMENT;
    c->resp->department = d;
}

static int check_limit(call *c, const char *what, const Whistle__V1__TimeLimit *l)
{
    if (!l || !l->amount)
        return 0;
    const char *why;
    Whistle__V1__TimeLimit back;
    /* Through the text form, so that the ranges are the import's. */
    arena *a = c->a;
    if (l->unit < WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES || l->unit > WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s: unit %d is not a time unit (1 minutes .. 5 working days)",
                         what, l->unit);
    if (directory_limit_parse(directory_limit_format(l, a), &back, &why) < 0)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s: %s", what, why);
    return 0;
}

/* A category's stages (分阶段时限), checked as the directory files are
 * (directory_stages_parse): each has a name and a limit of a real unit
 * and range, at most 8 of them. The stages go through their text form and
 * back, so what a call may store is exactly what an import may. */
static int check_stages(call *c, const Whistle__V1__Category *in)
{
    if (in->n_stages > 8)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%zu stages; a category has at most 8", in->n_stages);
    for (size_t i = 0; i < in->n_stages; i++) {
        const Whistle__V1__Stage *st = in->stages[i];
        char what[32];
        snprintf(what, sizeof what, "stages[%zu]", i);
        if (!st || (!*str0(st->name_zh) && !*str0(st->name_en)))
            return call_fail(c, CODE(INVALID_ARGUMENT), "%s needs a name (name_zh or name_en)", what);
        if (check_name(c, "stages.name_zh", st->name_zh) || check_name(c, "stages.name_en", st->name_en))
            return -1;
        if (strpbrk(str0(st->name_zh), ";/") || strpbrk(str0(st->name_en), ";/") || strstr(str0(st->name_zh), "；"))
            return call_fail(c, CODE(INVALID_ARGUMENT), "%s: a stage's name may not hold ';' or '/'", what);
        if (!st->limit || !st->limit->amount)
            return call_fail(c, CODE(INVALID_ARGUMENT), "%s needs a limit: an amount and a unit", what);
        if (check_limit(c, what, st->limit))
            return -1;
    }
    Whistle__V1__Stage **back;
    size_t n;
    const char *why;
    if (directory_stages_parse(directory_stages_format(in, c->a), c->a, &back, &n, &why) < 0 || n != in->n_stages)
        return call_fail(c, CODE(INVALID_ARGUMENT), "stages: %s",
                         n != in->n_stages ? "a stage does not read back" : why);
    return 0;
}

void admin_put_category(call *c, const Whistle__V1__PutCategory *req)
{
    Whistle__V1__Category *in = req->category;
    const char *code = in ? str0(in->code) : "";
    size_t len = strlen(code);
    if (!in || !digits(code) || (len != 2 && len != 4)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "category code \"%s\": 2 digits (major class) or 4 (major + minor)", code);
        return;
    }
    if (check_name(c, "name_zh", in->name_zh) || check_name(c, "name_en", in->name_en))
        return;
    if (len == 4) {
        char major[3] = { code[0], code[1], 0 };
        if (!directory_category_get(c->st, c->txn, major, c->a)) {
            call_fail(c, CODE(FAILED_PRECONDITION), "its major class %s does not exist; add it first", major);
            return;
        }
    }
    if (in->n_departments > 32) {
        call_fail(c, CODE(INVALID_ARGUMENT), "%zu departments; a category names at most 32", in->n_departments);
        return;
    }
    for (size_t i = 0; i < in->n_departments; i++) {
        const char *d = str0(in->departments[i]);
        if (!directory_dept_code_ok(d) || !directory_department_get(c->st, c->txn, d, c->a)) {
            call_fail(c, CODE(INVALID_ARGUMENT), "department \"%s\" does not exist", d);
            return;
        }
        for (size_t j = 0; j < i; j++)
            if (strcmp(d, in->departments[j]) == 0) {
                call_fail(c, CODE(INVALID_ARGUMENT), "department %s is listed twice", d);
                return;
            }
    }
    bool seen[5] = { false };
    for (size_t i = 0; i < in->n_limits; i++) {
        const Whistle__V1__PriorityLimits *pl = in->limits[i];
        if (!pl || pl->priority < 0 || pl->priority > WHISTLE__V1__PRIORITY__PRIORITY_URGENT ||
            pl->priority == WHISTLE__V1__PRIORITY__PRIORITY_NORMAL) {
            call_fail(c, CODE(INVALID_ARGUMENT),
                      "limits[%zu]: priority is unspecified (the default, which normal uses), low, high or urgent", i);
            return;
        }
        if (seen[pl->priority]) {
            call_fail(c, CODE(INVALID_ARGUMENT), "limits[%zu]: a second entry for the same priority", i);
            return;
        }
        seen[pl->priority] = true;
        if (check_limit(c, "check_in", pl->check_in) || check_limit(c, "resolve", pl->resolve))
            return;
    }
    if (in->check_in_minutes > 7 * 24 * 60 || in->resolve_hours > 366 * 24) {
        call_fail(c, CODE(INVALID_ARGUMENT), "check_in_minutes is at most 10080 and resolve_hours at most 8784");
        return;
    }
    const char *attr_why = attributes_check(in, c->a);
    if (attr_why) {
        call_fail(c, CODE(INVALID_ARGUMENT), "category %s: %s", str0(in->code), attr_why);
        return;
    }
    if (check_stages(c, in))
        return;
    if (in->n_limits)
        directory_category_mirror(in);
    void *bytes;
    size_t blen;
    load(c, c->st->categories, code, &whistle__v1__category__descriptor, &bytes, &blen);
    if (!same(c->a, bytes, blen, &in->base) && put_audited(c, c->st->categories, code, bytes, blen, &in->base))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_CATEGORY;
    c->resp->category = in;
}

/* ------------------------------------------------------------ principals */

/* A gateway's act_for list (docs/protocol.md section 12): existing
 * principals that may be acted for, each once; nobody else has a list. */
#define ACT_FOR_MAX 256
static int check_act_for(call *c, const Whistle__V1__Principal *p)
{
    if (p->n_act_for && p->role != WHISTLE__V1__ROLE__ROLE_GATEWAY)
        return call_fail(c, CODE(INVALID_ARGUMENT), "act_for: only a gateway acts for other principals (this is %s)",
                         role_a(p->role));
    if (p->n_act_for > ACT_FOR_MAX)
        return call_fail(c, CODE(INVALID_ARGUMENT), "act_for lists %zu principals; at most %d", p->n_act_for,
                         ACT_FOR_MAX);
    for (size_t i = 0; i < p->n_act_for; i++) {
        const char *n = str0(p->act_for[i]);
        for (size_t j = 0; j < i; j++)
            if (strcmp(n, str0(p->act_for[j])) == 0)
                return call_fail(c, CODE(INVALID_ARGUMENT), "act_for: %s is listed twice", n);
        if (strcmp(n, str0(p->name)) == 0)
            return call_fail(c, CODE(INVALID_ARGUMENT), "act_for: a gateway does not list itself");
        const Whistle__V1__Principal *t = ident_ok(n, 64) ? directory_principal_get(c->st, c->txn, n, c->a) : NULL;
        if (!t)
            return call_fail(c, CODE(INVALID_ARGUMENT), "act_for: \"%.64s\" is not a principal", n);
        if (!authz_may_be_acted_for(t->role))
            return call_fail(c, CODE(INVALID_ARGUMENT),
                             "act_for: %s is %s; a gateway never acts for an admin or a gateway", n, role_a(t->role));
    }
    return 0;
}

/* Role, scope and department agree with each other and the directory. */
static int check_principal(call *c, const Whistle__V1__Principal *p)
{
    if (p->role < WHISTLE__V1__ROLE__ROLE_ADMIN || p->role > WHISTLE__V1__ROLE__ROLE_REPRESENTATIVE)
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "role is required: admin, operator, department, grid_worker, "
                         "community, kiosk, integration, sensor, gateway, bridge, volunteer or representative");
    /* A bridge is bound to one district: its scope is the district's
     * node, and only the district this server is ([federation] district)
     * when it is federated. */
    if (p->role == WHISTLE__V1__ROLE__ROLE_BRIDGE &&
        (strlen(str0(p->scope)) != 6 || (c->st->fed_district[0] && strcmp(p->scope, c->st->fed_district) != 0)))
        return call_fail(c, CODE(INVALID_ARGUMENT), "a bridge's scope is its district (6 digits%s%s), not \"%.40s\"",
                         c->st->fed_district[0] ? ": " : "", c->st->fed_district, str0(p->scope));
    if (!digits(p->scope) || !directory_node_get(c->st, c->txn, p->scope, c->a))
        return call_fail(c, CODE(NOT_FOUND), "scope \"%s\" is not a place in the directory", str0(p->scope));
    if (p->n_extra_scopes > 64)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%zu extra scopes; at most 64", p->n_extra_scopes);
    /* Several places are for workers (一员多格); an operator's or a
     * department's reach is one subtree, which its stream follows. */
    if (p->n_extra_scopes && p->role != WHISTLE__V1__ROLE__ROLE_GRID_WORKER &&
        p->role != WHISTLE__V1__ROLE__ROLE_COMMUNITY)
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "%s has one scope; several places are for grid and community workers", role_a(p->role));
    for (size_t i = 0; i < p->n_extra_scopes; i++)
        if (!digits(p->extra_scopes[i]) || !directory_node_get(c->st, c->txn, p->extra_scopes[i], c->a))
            return call_fail(c, CODE(NOT_FOUND), "extra scope \"%s\" is not a place in the directory",
                             str0(p->extra_scopes[i]));
    if (p->role == WHISTLE__V1__ROLE__ROLE_DEPARTMENT) {
        if (!*str0(p->department))
            return call_fail(c, CODE(INVALID_ARGUMENT), "a department principal names its department");
        if (!directory_dept_code_ok(p->department) || !directory_department_get(c->st, c->txn, p->department, c->a))
            return call_fail(c, CODE(NOT_FOUND), "department \"%s\" does not exist", p->department);
    } else if (*str0(p->department)) {
        return call_fail(c, CODE(INVALID_ARGUMENT), "only a department principal has a department (this is %s)",
                         role_a(p->role));
    }
    return check_act_for(c, p);
}

static void reply_principal(call *c, Whistle__V1__Principal *p)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_PRINCIPAL;
    c->resp->principal = p;
}

void admin_add_principal(call *c, const Whistle__V1__AddPrincipal *req)
{
    const Whistle__V1__Principal *in = req->principal;
    if (!in || !ident_ok(in->name, 64)) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "name \"%s\": the certificate's CN, 1-64 printable ASCII characters without spaces",
                  in ? str0(in->name) : "");
        return;
    }
    Whistle__V1__Principal *p = arena_alloc(c->a, sizeof *p);
    *p = *in;
    p->department = (char *)str0(in->department);
    /* A new principal is enabled: disabling is update_principal's. */
    p->enabled = true;
    if (check_principal(c, p))
        return;
    if (directory_principal_get(c->st, c->txn, p->name, c->a)) {
        call_fail(c, CODE(ALREADY_EXISTS), "principal %s exists; change it with update_principal", p->name);
        return;
    }
    if (put_audited(c, c->st->principals, p->name, NULL, 0, &p->base))
        return;
    reply_principal(c, p);
}

/* Whether an enabled admin other than name exists. */
static bool other_admin(call *c, const char *name)
{
    MDB_cursor *cur;
    if (mdb_cursor_open(c->txn, c->st->principals, &cur))
        return true; /* do not block on a store error; the put will fail */
    MDB_val k, v;
    bool found = false;
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && !found;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Whistle__V1__Principal *p = whistle__v1__principal__unpack(arena_allocator(c->a), v.mv_size, v.mv_data);
        found = p && p->enabled && p->role == WHISTLE__V1__ROLE__ROLE_ADMIN && strcmp(p->name, name) != 0;
    }
    mdb_cursor_close(cur);
    return found;
}

void admin_update_principal(call *c, const Whistle__V1__UpdatePrincipal *req)
{
    const char *name = str0(req->name);
    void *bytes;
    size_t len;
    Whistle__V1__Principal *p =
        ident_ok(name, 64) ? load(c, c->st->principals, name, &whistle__v1__principal__descriptor, &bytes, &len) : NULL;
    if (!p) {
        call_fail(c, CODE(NOT_FOUND), "no principal %s", name);
        return;
    }
    if (req->disable && req->enable) {
        call_fail(c, CODE(INVALID_ARGUMENT), "disable or enable, not both");
        return;
    }
    if (!req->disable && !req->enable && !*str0(req->scope) && !req->role && !*str0(req->department) &&
        !req->n_scopes && !req->n_act_for && !req->clear_act_for) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "nothing to change: give disable, enable, scope(s), role, department or act_for");
        return;
    }
    if (req->n_act_for && req->clear_act_for) {
        call_fail(c, CODE(INVALID_ARGUMENT), "act_for or clear_act_for, not both");
        return;
    }
    if (req->n_scopes && *str0(req->scope)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "scope or scopes, not both");
        return;
    }
    bool was_admin = p->enabled && p->role == WHISTLE__V1__ROLE__ROLE_ADMIN;
    if (req->disable)
        p->enabled = false;
    if (req->enable)
        p->enabled = true;
    if (*str0(req->scope))
        p->scope = req->scope;
    if (req->n_scopes) {
        p->scope = req->scopes[0];
        p->extra_scopes = req->scopes + 1;
        p->n_extra_scopes = req->n_scopes - 1;
    }
    if (req->role) {
        /* A principal leaving the department role leaves its department. */
        if (p->role == WHISTLE__V1__ROLE__ROLE_DEPARTMENT && req->role != WHISTLE__V1__ROLE__ROLE_DEPARTMENT &&
            !*str0(req->department))
            p->department = (char *)"";
        p->role = req->role;
    }
    if (*str0(req->department))
        p->department = req->department;
    if (req->n_act_for) {
        p->act_for = req->act_for;
        p->n_act_for = req->n_act_for;
    }
    /* a principal leaving the gateway role leaves its list */
    if (req->clear_act_for || p->role != WHISTLE__V1__ROLE__ROLE_GATEWAY) {
        if (req->n_act_for && p->role != WHISTLE__V1__ROLE__ROLE_GATEWAY) {
            call_fail(c, CODE(INVALID_ARGUMENT), "act_for: only a gateway acts for other principals (this is %s)",
                      role_a(p->role));
            return;
        }
        p->act_for = NULL;
        p->n_act_for = 0;
    }
    if (check_principal(c, p))
        return;
    if (was_admin && !(p->enabled && p->role == WHISTLE__V1__ROLE__ROLE_ADMIN) && !other_admin(c, name)) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "%s is the last enabled admin; add or enable another admin first (nobody could administer "
                  "otherwise)",
                  name);
        return;
    }
    if (!same(c->a, bytes, len, &p->base) && put_audited(c, c->st->principals, name, bytes, len, &p->base))
        return;
    reply_principal(c, p);
}

void admin_list_principals(call *c, const Whistle__V1__ListPrincipals *req)
{
    uint32_t limit = req->limit ? req->limit : 100;
    if (limit > 1000)
        limit = 1000;
    const char *under = str0(req->under), *after = str0(req->after);
    if (*under && check_code(c, "under", under))
        return;
    if (req->role < 0 || req->role > WHISTLE__V1__ROLE__ROLE_REPRESENTATIVE) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "role %d is not a role (1 admin .. 9 gateway, 10 bridge, 11 volunteer, 12 representative; 0: any)",
                  req->role);
        return;
    }
    if (strlen(after) > 64) {
        call_fail(c, CODE(INVALID_ARGUMENT), "after is %zu bytes; principal names are at most 64", strlen(after));
        return;
    }
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->principals, &cur);
    if (rc) {
        call_store_fail(c, rc, "listing principals");
        return;
    }
    ptr_vec out = { 0 };
    bool more = false;
    MDB_val k = { strlen(after), (void *)after }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, *after ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (*after && k.mv_size == strlen(after) && memcmp(k.mv_data, after, k.mv_size) == 0)
            continue;
        Whistle__V1__Principal *p = whistle__v1__principal__unpack(arena_allocator(c->a), v.mv_size, v.mv_data);
        if (!p) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (req->role && p->role != req->role)
            continue;
        bool inside = !*under || scope_covers(under, p->scope);
        for (size_t i = 0; !inside && i < p->n_extra_scopes; i++)
            inside = scope_covers(under, p->extra_scopes[i]);
        if (!inside)
            continue;
        if (out.n == limit) {
            more = true;
            break;
        }
        ptr_vec_push(c->a, &out, p);
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND && !more) {
        call_store_fail(c, rc, "listing principals");
        return;
    }
    Whistle__V1__PrincipalList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__principal_list__init(l);
    l->principals = (Whistle__V1__Principal **)out.items;
    l->n_principals = out.n;
    if (more && out.n)
        l->next_after = l->principals[out.n - 1]->name;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_PRINCIPALS;
    c->resp->principals = l;
}

/* ------------------------------------------------------------ audit */

void admin_query_audit(call *c, const Whistle__V1__QueryAudit *req)
{
    uint32_t limit = req->limit ? req->limit : 100;
    if (limit > 1000)
        limit = 1000;
    if (strlen(str0(req->principal)) > 64 || strlen(str0(req->target)) > 256 || strlen(str0(req->via)) > 64) {
        call_fail(c, CODE(INVALID_ARGUMENT), "principal and via are at most 64 bytes and target at most 256");
        return;
    }
    if (req->from_ms < 0 || req->to_ms < 0 || (req->to_ms && req->to_ms < req->from_ms)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "from_ms and to_ms are Unix milliseconds, from <= to (to 0: now)");
        return;
    }
    Whistled__AuditRecord **recs;
    char *next;
    size_t n;
    int rc =
        (req->newest_first ? audit_query_newest : audit_query)(c->st, c->txn, req->principal, req->target, req->from_ms,
                                                               req->to_ms, req->cursor, limit, c->a, &recs, &n, &next);
    if (rc == EINVAL) {
        call_fail(c, CODE(INVALID_ARGUMENT), "cursor is not from this query; start again without one");
        return;
    }
    if (rc) {
        call_store_fail(c, rc, "reading the audit log");
        return;
    }
    Whistle__V1__AuditList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__audit_list__init(l);
    l->entries = arena_alloc(c->a, (n + 1) * sizeof *l->entries);
    for (size_t i = 0; i < n; i++) {
        const Whistled__AuditRecord *r = recs[i];
        /* via filters the page read (a page may so hold fewer entries
         * than limit; next_cursor goes on) */
        if (*str0(req->via) && strcmp(str0(r->via), req->via) != 0)
            continue;
        Whistle__V1__AuditEntry *e = arena_alloc(c->a, sizeof *e);
        whistle__v1__audit_entry__init(e);
        e->seq = r->seq;
        e->at_ms = r->at_ms;
        e->principal = r->principal;
        e->call = r->call;
        e->target = r->target;
        e->denied = r->denied;
        e->read = r->read;
        e->record_type = r->record_type;
        e->count = r->count;
        e->last_at_ms = r->last_at_ms;
        e->delta = r->delta;
        e->changed = r->changed;
        e->n_changed = r->n_changed;
        e->via = r->via;
        if (!req->brief) {
            e->before = r->before;
            e->after = r->after;
        }
        l->entries[l->n_entries++] = e;
    }
    l->next_cursor = next;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_AUDIT;
    c->resp->audit = l;
}
