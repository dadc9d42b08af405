/* directory.c: see directory.h. */
#include "directory.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "deadline.h"

/* ------------------------------------------------------------ lookups */

static void *get_rec(MDB_txn *txn, MDB_dbi dbi, const char *key, const ProtobufCMessageDescriptor *d, arena *a)
{
    void *out = NULL;
    if (!key || !*key)
        return NULL;
    store_get(txn, dbi, key, strlen(key), d, a, &out);
    return out;
}

Whistle__V1__Principal *directory_principal_get(store *st, MDB_txn *txn, const char *name, arena *a)
{
    return get_rec(txn, st->principals, name, &whistle__v1__principal__descriptor, a);
}

Whistle__V1__Node *directory_node_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return get_rec(txn, st->nodes, code, &whistle__v1__node__descriptor, a);
}

Whistle__V1__Department *directory_department_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return get_rec(txn, st->departments, code, &whistle__v1__department__descriptor, a);
}

Whistle__V1__Category *directory_category_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return get_rec(txn, st->categories, code, &whistle__v1__category__descriptor, a);
}

const char *directory_street_of(store *st, MDB_txn *txn, const char *code, arena *a)
{
    /* The tree is at most six levels deep; the bound also stops a loop in
     * damaged data. */
    for (int depth = 0; depth < 8 && code && *code; depth++) {
        Whistle__V1__Node *n = directory_node_get(st, txn, code, a);
        if (!n)
            return NULL;
        if (n->kind == WHISTLE__V1__NODE_KIND__NODE_KIND_STREET)
            return n->code;
        if (n->kind < WHISTLE__V1__NODE_KIND__NODE_KIND_STREET)
            return NULL;
        code = n->parent;
    }
    return NULL;
}

static const char *const role_names[] = {"unspecified", "admin",     "operator",    "department", "grid_worker",
                                         "community",   "kiosk",     "integration", "sensor"};
static const char *const kind_names[] = {"unspecified", "district", "street", "community", "grid", "building"};
static const size_t kind_code_len[] = {0, 6, 9, 12, 15, 18};

bool directory_role_parse(const char *s, Whistle__V1__Role *out)
{
    for (size_t i = 1; s && i < sizeof role_names / sizeof *role_names; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (Whistle__V1__Role)i;
            return true;
        }
    return false;
}

bool directory_kind_parse(const char *s, Whistle__V1__NodeKind *out)
{
    for (size_t i = 1; s && i < sizeof kind_names / sizeof *kind_names; i++)
        if (strcmp(s, kind_names[i]) == 0) {
            *out = (Whistle__V1__NodeKind)i;
            return true;
        }
    return false;
}

const char *directory_kind_name(Whistle__V1__NodeKind k)
{
    return (size_t)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "unknown";
}

const char *role_name(Whistle__V1__Role r)
{
    return (size_t)r < sizeof role_names / sizeof *role_names ? role_names[r] : "unknown";
}

/* ------------------------------------------------------------ list calls */

void directory_list_nodes(call *c, const Whistle__V1__ListNodes *req)
{
    const char *parent = str0(req->parent);
    if (req->kind < 0 || req->kind > WHISTLE__V1__NODE_KIND__NODE_KIND_BUILDING) {
        call_fail(c, CODE(INVALID_ARGUMENT), "kind %d is not a node kind (1 district .. 5 building)", req->kind);
        return;
    }
    const char *prefix;
    if (*parent) {
        if (!digits_ok(parent, strlen(parent)) || !directory_node_get(c->st, c->txn, parent, c->a)) {
            call_fail(c, CODE(NOT_FOUND), "no node %s", parent);
            return;
        }
        prefix = parent;
    } else if (c->who->role == ROLE(ADMIN)) {
        prefix = "";
    } else {
        prefix = str0(c->who->scope);
        if (!*prefix) {
            call_fail(c, CODE(FAILED_PRECONDITION), "principal %s has no scope; an admin must give it one",
                      str0(c->who->name));
            return;
        }
    }

    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->nodes, &cur);
    if (rc) {
        call_store_fail(c, rc, "listing nodes");
        return;
    }
    size_t plen = strlen(prefix);
    MDB_val k = {plen, (void *)prefix}, v;
    ptr_vec out = {0};
    MDB_cursor_op op = plen ? MDB_SET_RANGE : MDB_FIRST;
    for (rc = mdb_cursor_get(cur, &k, &v, op); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        Whistle__V1__Node *n = (Whistle__V1__Node *)protobuf_c_message_unpack(
            &whistle__v1__node__descriptor, arena_allocator(c->a), v.mv_size, v.mv_data);
        if (!n) {
            rc = MDB_CORRUPTED;
            break;
        }
        if (*parent && strcmp(str0(n->parent), parent) != 0)
            continue;
        if (req->kind && n->kind != req->kind)
            continue;
        ptr_vec_push(c->a, &out, n);
    }
    mdb_cursor_close(cur);
    if (rc && rc != MDB_NOTFOUND) {
        call_store_fail(c, rc, "listing nodes");
        return;
    }
    Whistle__V1__NodeList *list = arena_alloc(c->a, sizeof *list);
    whistle__v1__node_list__init(list);
    list->nodes = (Whistle__V1__Node **)out.items;
    list->n_nodes = out.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_NODES;
    c->resp->nodes = list;
}

/* Unpacks every record of a small database into v. */
static int list_all(call *c, MDB_dbi dbi, const ProtobufCMessageDescriptor *d, ptr_vec *v)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, dbi, &cur);
    if (rc)
        return rc;
    MDB_val k, val;
    for (rc = mdb_cursor_get(cur, &k, &val, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        ProtobufCMessage *m = protobuf_c_message_unpack(d, arena_allocator(c->a), val.mv_size, val.mv_data);
        if (!m) {
            rc = MDB_CORRUPTED;
            break;
        }
        ptr_vec_push(c->a, v, m);
    }
    mdb_cursor_close(cur);
    return rc == MDB_NOTFOUND ? 0 : rc;
}

void directory_list_departments(call *c)
{
    ptr_vec v = {0};
    int rc = list_all(c, c->st->departments, &whistle__v1__department__descriptor, &v);
    if (rc) {
        call_store_fail(c, rc, "listing departments");
        return;
    }
    Whistle__V1__DepartmentList *list = arena_alloc(c->a, sizeof *list);
    whistle__v1__department_list__init(list);
    list->departments = (Whistle__V1__Department **)v.items;
    list->n_departments = v.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_DEPARTMENTS;
    c->resp->departments = list;
}

void directory_list_categories(call *c)
{
    ptr_vec v = {0};
    int rc = list_all(c, c->st->categories, &whistle__v1__category__descriptor, &v);
    if (rc) {
        call_store_fail(c, rc, "listing categories");
        return;
    }
    Whistle__V1__CategoryList *list = arena_alloc(c->a, sizeof *list);
    whistle__v1__category_list__init(list);
    list->categories = (Whistle__V1__Category **)v.items;
    list->n_categories = v.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_CATEGORIES;
    c->resp->categories = list;
}

/* ------------------------------------------------------------ seed */

typedef struct seed {
    store *st;
    MDB_txn *txn;
    arena *a;
    const char *path;
    char *err;
    size_t errlen;
    const char *section; /* "nodes", ... */
    size_t index;
    const char *code; /* the entry's code or name, once known */
} seed;

static int seed_err(seed *s, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int seed_err(seed *s, const char *field, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (s->section)
        snprintf(s->err, s->errlen, "seed %s: %s[%zu]%s%s%s: field \"%s\": %s; nothing was loaded", s->path,
                 s->section, s->index, s->code ? " (" : "", s->code ? s->code : "", s->code ? ")" : "", field,
                 msg);
    else
        snprintf(s->err, s->errlen, "seed %s: %s; nothing was loaded", s->path, msg);
    return -1;
}

/* A string member: NULL out when absent and not required. */
static int seed_str(seed *s, json_t *o, const char *field, bool required, size_t max, const char **out)
{
    json_t *j = json_object_get(o, field);
    *out = NULL;
    if (!j || json_is_null(j)) {
        if (required)
            return seed_err(s, field, "missing");
        return 0;
    }
    if (!json_is_string(j))
        return seed_err(s, field, "must be a string");
    const char *v = json_string_value(j);
    size_t n = json_string_length(j);
    if (strlen(v) != n)
        return seed_err(s, field, "contains a NUL byte");
    if (n > max)
        return seed_err(s, field, "longer than %zu bytes", max);
    if (required && n == 0)
        return seed_err(s, field, "empty");
    *out = v;
    return 0;
}

static int seed_uint(seed *s, json_t *o, const char *field, uint32_t max, uint32_t *out)
{
    json_t *j = json_object_get(o, field);
    *out = 0;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_integer(j) || json_integer_value(j) < 0 || json_integer_value(j) > (json_int_t)max)
        return seed_err(s, field, "must be a whole number from 0 to %u", max);
    *out = (uint32_t)json_integer_value(j);
    return 0;
}

static int seed_bool(seed *s, json_t *o, const char *field, bool dflt, bool *out)
{
    json_t *j = json_object_get(o, field);
    *out = dflt;
    if (!j || json_is_null(j))
        return 0;
    if (!json_is_boolean(j))
        return seed_err(s, field, "must be true or false");
    *out = json_is_true(j);
    return 0;
}

static json_t *seed_section(seed *s, json_t *root, const char *name, int *rc)
{
    json_t *arr = json_object_get(root, name);
    *rc = 0;
    if (!arr)
        return NULL;
    if (!json_is_array(arr)) {
        s->section = NULL;
        *rc = seed_err(s, name, "\"%s\" must be an array", name);
        return NULL;
    }
    s->section = name;
    return arr;
}

static int seed_put(seed *s, MDB_dbi dbi, const char *key, const ProtobufCMessage *m, const char *field)
{
    MDB_val k = {strlen(key), (void *)key}, v;
    int rc = mdb_get(s->txn, dbi, &k, &v);
    if (rc == 0)
        return seed_err(s, field, "duplicate: %s appears earlier in the list", key);
    if (rc != MDB_NOTFOUND)
        return seed_err(s, field, "store: %s", store_strerror(rc));
    rc = store_put(s->txn, dbi, key, strlen(key), m);
    if (rc)
        return seed_err(s, field, "store: %s", store_strerror(rc));
    return 0;
}

static int seed_nodes(seed *s, json_t *root, size_t *count)
{
    int rc;
    json_t *arr = seed_section(s, root, "nodes", &rc), *o;
    if (!arr)
        return rc;
    json_array_foreach(arr, s->index, o)
    {
        s->code = NULL;
        if (!json_is_object(o))
            return seed_err(s, "-", "each entry must be an object");
        const char *code, *parent, *kind, *zh, *en;
        if (seed_str(s, o, "code", true, 18, &code))
            return -1;
        s->code = code;
        if (seed_str(s, o, "kind", true, 16, &kind) || seed_str(s, o, "parent", false, 18, &parent) ||
            seed_str(s, o, "name_zh", false, 200, &zh) || seed_str(s, o, "name_en", false, 200, &en))
            return -1;
        Whistle__V1__Node n = WHISTLE__V1__NODE__INIT;
        if (!directory_kind_parse(kind, &n.kind))
            return seed_err(s, "kind", "\"%s\" is not one of district, street, community, grid, building", kind);
        if (!digits_ok(code, kind_code_len[n.kind]))
            return seed_err(s, "code", "a %s code is %zu digits", kind, kind_code_len[n.kind]);
        if ((!zh || !*zh) && (!en || !*en))
            return seed_err(s, "name_zh", "a node needs a name (name_zh or name_en)");
        if (!utf8_valid(zh ? zh : "", zh ? strlen(zh) : 0) || !utf8_valid(en ? en : "", en ? strlen(en) : 0))
            return seed_err(s, "name_zh", "names must be UTF-8");
        parent = parent ? parent : "";
        if (n.kind == WHISTLE__V1__NODE_KIND__NODE_KIND_DISTRICT) {
            if (*parent)
                return seed_err(s, "parent", "a district is a root: its parent must be empty");
        } else {
            if (!*parent)
                return seed_err(s, "parent", "missing: a %s needs its %s", kind, kind_names[n.kind - 1]);
            Whistle__V1__Node *p = directory_node_get(s->st, s->txn, parent, s->a);
            if (!p)
                return seed_err(s, "parent", "%s does not exist (parents must come earlier in the list)",
                                parent);
            if (p->kind != n.kind - 1 || strncmp(code, parent, strlen(parent)) != 0)
                return seed_err(s, "parent",
                                "%s is a %s; the parent of %s %s must be the %s whose code is its first %zu digits",
                                parent, kind_names[p->kind], kind, code, kind_names[n.kind - 1],
                                kind_code_len[n.kind - 1]);
        }
        n.code = (char *)code;
        n.parent = (char *)parent;
        n.name_zh = (char *)(zh ? zh : "");
        n.name_en = (char *)(en ? en : "");
        bool retired;
        if (seed_bool(s, o, "retired", false, &retired))
            return -1;
        n.retired = retired;
        if (seed_put(s, s->st->nodes, code, &n.base, "code"))
            return -1;
        (*count)++;
    }
    return 0;
}

static bool dept_code_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

static int seed_departments(seed *s, json_t *root, size_t *count)
{
    int rc;
    json_t *arr = seed_section(s, root, "departments", &rc), *o;
    if (!arr)
        return rc;
    json_array_foreach(arr, s->index, o)
    {
        s->code = NULL;
        if (!json_is_object(o))
            return seed_err(s, "-", "each entry must be an object");
        const char *code, *zh, *en;
        if (seed_str(s, o, "code", true, 32, &code))
            return -1;
        s->code = code;
        if (seed_str(s, o, "name_zh", false, 200, &zh) || seed_str(s, o, "name_en", false, 200, &en))
            return -1;
        if (!dept_code_ok(code))
            return seed_err(s, "code", "a department code is 1-32 of a-z 0-9 _ -");
        Whistle__V1__Department d = WHISTLE__V1__DEPARTMENT__INIT;
        d.code = (char *)code;
        d.name_zh = (char *)(zh ? zh : "");
        d.name_en = (char *)(en ? en : "");
        if (seed_put(s, s->st->departments, code, &d.base, "code"))
            return -1;
        (*count)++;
    }
    return 0;
}

static int seed_categories(seed *s, json_t *root, size_t *count)
{
    int rc;
    json_t *arr = seed_section(s, root, "categories", &rc), *o;
    if (!arr)
        return rc;
    json_array_foreach(arr, s->index, o)
    {
        s->code = NULL;
        if (!json_is_object(o))
            return seed_err(s, "-", "each entry must be an object");
        const char *code, *zh, *en;
        if (seed_str(s, o, "code", true, 4, &code))
            return -1;
        s->code = code;
        if (seed_str(s, o, "name_zh", false, 200, &zh) || seed_str(s, o, "name_en", false, 200, &en))
            return -1;
        size_t len = strlen(code);
        if (!(len == 2 || len == 4) || !digits_ok(code, len))
            return seed_err(s, "code", "a category code is 2 digits (major class) or 4 (major + minor)");
        Whistle__V1__Category cat = WHISTLE__V1__CATEGORY__INIT;
        cat.code = (char *)code;
        cat.name_zh = (char *)(zh ? zh : "");
        cat.name_en = (char *)(en ? en : "");
        if (len == 4) {
            char major[3] = {code[0], code[1], 0};
            if (!directory_category_get(s->st, s->txn, major, s->a))
                return seed_err(s, "code", "its major class %s does not exist (list majors before their minors)",
                                major);
        }
        json_t *deps = json_object_get(o, "departments"), *d;
        size_t i;
        if (deps && !json_is_array(deps))
            return seed_err(s, "departments", "must be an array of department codes");
        if (deps) {
            cat.n_departments = json_array_size(deps);
            cat.departments = arena_alloc(s->a, (cat.n_departments + 1) * sizeof *cat.departments);
            json_array_foreach(deps, i, d)
            {
                if (!json_is_string(d))
                    return seed_err(s, "departments", "entry %zu is not a string", i);
                const char *dc = json_string_value(d);
                if (!directory_department_get(s->st, s->txn, dc, s->a))
                    return seed_err(s, "departments", "department \"%s\" does not exist", dc);
                for (size_t j = 0; j < i; j++)
                    if (strcmp(cat.departments[j], dc) == 0)
                        return seed_err(s, "departments", "department \"%s\" is listed twice", dc);
                cat.departments[i] = (char *)dc;
            }
        }
        /* a week in minutes, a year in hours: anything beyond is a typo */
        if (seed_uint(s, o, "check_in_minutes", 7 * 24 * 60, &cat.check_in_minutes) ||
            seed_uint(s, o, "resolve_hours", 366 * 24, &cat.resolve_hours))
            return -1;
        const char *lf; /* limits in working time, stages, per priority: deadline.c */
        char lerr[200];
        if (deadline_seed_category(o, s->a, &cat, &lf, lerr, sizeof lerr))
            return seed_err(s, lf, "%s", lerr);
        if (seed_put(s, s->st->categories, code, &cat.base, "code"))
            return -1;
        (*count)++;
    }
    return 0;
}

static int seed_principals(seed *s, json_t *root, size_t *count)
{
    int rc;
    json_t *arr = seed_section(s, root, "principals", &rc), *o;
    if (!arr)
        return rc;
    json_array_foreach(arr, s->index, o)
    {
        s->code = NULL;
        if (!json_is_object(o))
            return seed_err(s, "-", "each entry must be an object");
        const char *name, *role, *scope, *dept;
        if (seed_str(s, o, "name", true, 64, &name))
            return -1;
        s->code = name;
        if (seed_str(s, o, "role", true, 16, &role) || seed_str(s, o, "scope", true, 18, &scope) ||
            seed_str(s, o, "department", false, 32, &dept))
            return -1;
        if (!ident_ok(name, 64))
            return seed_err(s, "name", "a principal name (the certificate CN) is 1-64 printable ASCII "
                                       "characters without spaces");
        Whistle__V1__Principal p = WHISTLE__V1__PRINCIPAL__INIT;
        if (!directory_role_parse(role, &p.role))
            return seed_err(s, "role",
                            "\"%s\" is not one of admin, operator, department, grid_worker, community, kiosk, "
                            "integration, sensor",
                            role);
        if (!directory_node_get(s->st, s->txn, scope, s->a))
            return seed_err(s, "scope", "node %s does not exist", scope);
        if (p.role == ROLE(DEPARTMENT)) {
            if (!dept || !*dept)
                return seed_err(s, "department", "missing: a department principal names its department");
            if (!directory_department_get(s->st, s->txn, dept, s->a))
                return seed_err(s, "department", "department \"%s\" does not exist", dept);
        } else if (dept && *dept) {
            return seed_err(s, "department", "only a department principal has a department");
        }
        bool enabled;
        if (seed_bool(s, o, "enabled", true, &enabled))
            return -1;
        p.name = (char *)name;
        p.scope = (char *)scope;
        p.department = (char *)(dept ? dept : "");
        p.enabled = enabled;
        if (seed_put(s, s->st->principals, name, &p.base, "name"))
            return -1;
        (*count)++;
    }
    return 0;
}

int directory_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen)
{
    seed s = {.st = st, .path = path, .err = err, .errlen = errlen};
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        snprintf(err, errlen, "seed %s: line %d column %d: %s; fix the JSON (see docs/directory-seed.md)", path,
                 jerr.line, jerr.column, jerr.text);
        return -1;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        snprintf(err, errlen, "seed %s: the top level must be an object with nodes, departments, categories, "
                              "principals", path);
        return -1;
    }
    int rc = store_write_begin(st, &s.txn);
    if (rc) {
        json_decref(root);
        snprintf(err, errlen, "seed %s: store: %s", path, store_strerror(rc));
        return -1;
    }
    if (!store_db_empty(s.txn, st->nodes)) {
        /* Seeding is for a new store; the directory then changes by calls. */
        mdb_txn_commit(s.txn); /* keeps any denials store_write_begin flushed */
        json_decref(root);
        return 0;
    }
    s.a = arena_new();
    size_t nn = 0, nd = 0, nc = 0, np = 0;
    rc = seed_nodes(&s, root, &nn);
    if (!rc && nn == 0) {
        s.section = NULL;
        rc = seed_err(&s, "nodes", "no nodes: the seed needs at least the district");
    }
    if (!rc)
        rc = seed_departments(&s, root, &nd);
    if (!rc)
        rc = seed_categories(&s, root, &nc);
    if (!rc)
        rc = seed_principals(&s, root, &np);
    if (!rc) {
        char target[64];
        snprintf(target, sizeof target, "%zu nodes, %zu departments, %zu categories, %zu principals", nn, nd, nc,
                 np);
        s.section = NULL;
        int mrc = audit_append(st, s.txn, now_ms, "whistled", "seed", target, NULL, 0, NULL);
        if (!mrc)
            mrc = mdb_txn_commit(s.txn);
        else
            mdb_txn_abort(s.txn);
        s.txn = NULL;
        if (mrc)
            rc = seed_err(&s, "-", "store: %s", store_strerror(mrc));
    }
    if (s.txn)
        mdb_txn_abort(s.txn);
    arena_free(s.a);
    json_decref(root);
    return rc ? -1 : 0;
}
