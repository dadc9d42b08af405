/* directory.c: see directory.h. */
#include "directory.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"

/* ------------------------------------------------------------ lookups */

Whistle__V1__Principal *directory_principal_get(store *st, MDB_txn *txn, const char *name, arena *a)
{
    return store_get_named(txn, st->principals, name, &whistle__v1__principal__descriptor, a);
}

Whistle__V1__Node *directory_node_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return store_get_named(txn, st->nodes, code, &whistle__v1__node__descriptor, a);
}

Whistle__V1__Department *directory_department_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return store_get_named(txn, st->departments, code, &whistle__v1__department__descriptor, a);
}

Whistle__V1__Category *directory_category_get(store *st, MDB_txn *txn, const char *code, arena *a)
{
    return store_get_named(txn, st->categories, code, &whistle__v1__category__descriptor, a);
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

static const char *const role_names[] = { "unspecified", "admin",     "operator",      "department", "grid_worker",
                                          "community",   "kiosk",     "integration",   "sensor",     "gateway",
                                          "bridge",      "volunteer", "representative" };
static const char *const kind_names[] = { "unspecified", "district", "street", "community", "grid", "building" };
static const size_t kind_code_len[] = { 0, 6, 9, 12, 15, 18 };

/* Words a spreadsheet may use instead of ours. */
static const struct {
    const char *word;
    int value;
} role_alias[] = {
    {"管理员", 1}, {"值班员", 2}, {"指挥中心", 2}, {"部门", 3}, {"网格员", 4}, {"社区", 5}, {"社区工作者", 5},
    {"自助终端", 6}, {"终端", 6}, {"对接系统", 7}, {"集成", 7}, {"传感器", 8}, {"网关", 9}, {"联邦桥", 10}, {"志愿者", 11}, {"报到党员", 11},
    {"议事代表", 12}, {"居民代表", 12},
}, kind_alias[] = {
    {"区", 1}, {"县", 1}, {"区县", 1}, {"街道", 2}, {"乡镇", 2}, {"镇", 2}, {"乡", 2},
    {"社区", 3}, {"村", 3}, {"网格", 4}, {"楼栋", 5}, {"院落", 5}, {"楼", 5},
};

bool directory_role_parse(const char *s, Whistle__V1__Role *out)
{
    for (size_t i = 1; s && *s && i < sizeof role_names / sizeof *role_names; i++)
        if (strcmp(s, role_names[i]) == 0) {
            *out = (Whistle__V1__Role)i;
            return true;
        }
    for (size_t i = 0; s && i < sizeof role_alias / sizeof *role_alias; i++)
        if (strcmp(s, role_alias[i].word) == 0) {
            *out = (Whistle__V1__Role)role_alias[i].value;
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
    for (size_t i = 0; s && i < sizeof kind_alias / sizeof *kind_alias; i++)
        if (strcmp(s, kind_alias[i].word) == 0) {
            *out = (Whistle__V1__NodeKind)kind_alias[i].value;
            return true;
        }
    return false;
}

size_t directory_code_len(Whistle__V1__NodeKind k)
{
    return (size_t)k < sizeof kind_code_len / sizeof *kind_code_len ? kind_code_len[k] : 0;
}

bool directory_dept_code_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (n == 0 || n > 32)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
            return false;
    return true;
}

/* ------------------------------------------------------------ time limits */

#define TU(x) WHISTLE__V1__TIME_UNIT__TIME_UNIT_##x

static const struct {
    const char *word;
    Whistle__V1__TimeUnit unit;
    uint32_t max; /* about a year, so that a typo is caught */
} units[] = {
    { "wh", TU(WORKING_HOURS), 2000 },
    { "wd", TU(WORKING_DAYS), 250 },
    { "m", TU(MINUTES), 527040 },
    { "min", TU(MINUTES), 527040 },
    { "h", TU(HOURS), 8784 },
    { "d", TU(DAYS), 366 },
    { "工作小时", TU(WORKING_HOURS), 2000 },
    { "工作时", TU(WORKING_HOURS), 2000 },
    { "个工作日", TU(WORKING_DAYS), 250 },
    { "工作日", TU(WORKING_DAYS), 250 },
    { "分钟", TU(MINUTES), 527040 },
    { "个小时", TU(HOURS), 8784 },
    { "小时", TU(HOURS), 8784 },
    { "天", TU(DAYS), 366 },
    { "日", TU(DAYS), 366 },
};

int directory_limit_parse(const char *s, Whistle__V1__TimeLimit *out, const char **why)
{
    whistle__v1__time_limit__init(out);
    s = str0(s);
    while (*s == ' ')
        s++;
    if (!*s)
        return 0;
    uint64_t v = 0;
    const char *p = s;
    while (*p >= '0' && *p <= '9' && v < 1000000)
        v = v * 10 + (uint64_t)(*p++ - '0');
    if (p == s) {
        *why = "a limit is a number and a unit: 30m, 2h, 3d, 4wh (working hours), 7wd (working days)";
        return -1;
    }
    while (*p == ' ')
        p++;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
        if (strcmp(p, units[i].word) != 0)
            continue;
        if (v == 0 || v > units[i].max) {
            *why = "the amount is out of range (1 up to about a year)";
            return -1;
        }
        out->amount = (uint32_t)v;
        out->unit = units[i].unit;
        return 0;
    }
    *why = "unknown unit: use m (minutes), h (hours), d (days), wh (working hours) or wd (working days)";
    return -1;
}

const char *directory_limit_format(const Whistle__V1__TimeLimit *l, arena *a)
{
    if (!l || !l->amount)
        return "";
    const char *u = l->unit == TU(MINUTES)         ? "m"
                    : l->unit == TU(HOURS)         ? "h"
                    : l->unit == TU(DAYS)          ? "d"
                    : l->unit == TU(WORKING_HOURS) ? "wh"
                    : l->unit == TU(WORKING_DAYS)  ? "wd"
                                                   : "?";
    return arena_printf(a, "%u%s", l->amount, u);
}

#define MAX_STAGES 8

int directory_stages_parse(const char *s, arena *a, Whistle__V1__Stage ***out, size_t *n, const char **why)
{
    *out = NULL;
    *n = 0;
    char *copy = arena_strdup(a, str0(s));
    /* the full-width semicolon as well: a Chinese spreadsheet has it */
    for (char *p; (p = strstr(copy, "；"));) {
        *p = ';';
        memmove(p + 1, p + 3, strlen(p + 3) + 1);
    }
    Whistle__V1__Stage **v = arena_alloc(a, (MAX_STAGES + 1) * sizeof *v);
    for (char *save = NULL, *part = strtok_r(copy, ";", &save); part; part = strtok_r(NULL, ";", &save)) {
        while (*part == ' ')
            part++;
        size_t len = strlen(part);
        while (len && part[len - 1] == ' ')
            part[--len] = 0;
        if (!len)
            continue;
        if (*n == MAX_STAGES) {
            *why = "at most 8 stages";
            return -1;
        }
        char *sp = strrchr(part, ' ');
        if (!sp) {
            *why = "a stage is a name and a limit: \"责令停工/Stop work 4wh\"";
            return -1;
        }
        *sp = 0;
        Whistle__V1__Stage *st = arena_alloc(a, sizeof *st);
        whistle__v1__stage__init(st);
        st->limit = arena_alloc(a, sizeof *st->limit);
        if (directory_limit_parse(sp + 1, st->limit, why) < 0)
            return -1;
        if (!st->limit->amount) {
            *why = "a stage needs a limit: \"责令停工/Stop work 4wh\"";
            return -1;
        }
        char *slash = strchr(part, '/');
        if (slash) {
            *slash = 0;
            st->name_en = slash + 1;
        }
        st->name_zh = part;
        /* one name alone: Chinese if it has any, else English */
        if (!slash && utf8_valid(part, strlen(part))) {
            bool ascii = true;
            for (const char *q = part; *q; q++)
                ascii &= (unsigned char)*q < 0x80;
            if (ascii) {
                st->name_en = part;
                st->name_zh = (char *)"";
            }
        }
        if (!*str0(st->name_zh) && !*str0(st->name_en)) {
            *why = "a stage needs a name";
            return -1;
        }
        v[(*n)++] = st;
    }
    *out = v;
    return 0;
}

const char *directory_stages_format(const Whistle__V1__Category *k, arena *a)
{
    const char *s = "";
    for (size_t i = 0; i < k->n_stages; i++) {
        const Whistle__V1__Stage *st = k->stages[i];
        const char *zh = str0(st->name_zh), *en = str0(st->name_en);
        const char *name = *zh && *en ? arena_printf(a, "%s/%s", zh, en) : *zh ? zh : en;
        s = arena_printf(a, "%s%s%s %s", s, i ? "; " : "", name, directory_limit_format(st->limit, a));
    }
    return s;
}

static uint32_t in_minutes(const Whistle__V1__TimeLimit *l)
{
    if (!l)
        return 0;
    switch (l->unit) {
    case TU(MINUTES): return l->amount;
    case TU(HOURS): return l->amount * 60;
    case TU(DAYS): return l->amount * 24 * 60;
    default: return 0;
    }
}

void directory_category_mirror(Whistle__V1__Category *k)
{
    k->check_in_minutes = 0;
    k->resolve_hours = 0;
    for (size_t i = 0; i < k->n_limits; i++) {
        if (k->limits[i]->priority != WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED)
            continue;
        k->check_in_minutes = in_minutes(k->limits[i]->check_in);
        uint32_t rm = in_minutes(k->limits[i]->resolve);
        k->resolve_hours = rm % 60 == 0 ? rm / 60 : 0;
    }
}

static Whistle__V1__TimeLimit *limit_new(arena *a, uint32_t amount, Whistle__V1__TimeUnit unit)
{
    Whistle__V1__TimeLimit *l = arena_alloc(a, sizeof *l);
    whistle__v1__time_limit__init(l);
    l->amount = amount;
    l->unit = amount ? unit : TU(UNSPECIFIED);
    return l;
}

Whistle__V1__PriorityLimits *directory_limits_for(const Whistle__V1__Category *k, Whistle__V1__Priority p, arena *a)
{
    if (p == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED)
        p = WHISTLE__V1__PRIORITY__PRIORITY_NORMAL;
    const Whistle__V1__PriorityLimits *own = NULL, *dflt = NULL;
    for (size_t i = 0; i < k->n_limits; i++) {
        if (k->limits[i]->priority == p)
            own = k->limits[i];
        else if (k->limits[i]->priority == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED)
            dflt = k->limits[i];
    }
    Whistle__V1__PriorityLimits *out = arena_alloc(a, sizeof *out);
    whistle__v1__priority_limits__init(out);
    out->priority = p;
    const Whistle__V1__TimeLimit *ci = own && own->check_in && own->check_in->amount      ? own->check_in
                                       : dflt && dflt->check_in && dflt->check_in->amount ? dflt->check_in
                                                                                          : NULL;
    const Whistle__V1__TimeLimit *rs = own && own->resolve && own->resolve->amount      ? own->resolve
                                       : dflt && dflt->resolve && dflt->resolve->amount ? dflt->resolve
                                                                                        : NULL;
    out->check_in = ci ? limit_new(a, ci->amount, ci->unit) : limit_new(a, k->check_in_minutes, TU(MINUTES));
    out->resolve = rs ? limit_new(a, rs->amount, rs->unit) : limit_new(a, k->resolve_hours, TU(HOURS));
    return out;
}

const char *directory_kind_name(Whistle__V1__NodeKind k)
{
    return (size_t)k < sizeof kind_names / sizeof *kind_names ? kind_names[k] : "unknown";
}

bool directory_serves(const char *entry_scope, const char *node)
{
    return !*str0(entry_scope) || scope_covers(entry_scope, node);
}

bool directory_seen_by(const Whistle__V1__Principal *who, const char *entry_scope)
{
    if (!*str0(entry_scope) || who->role == ROLE(ADMIN))
        return true;
    return principal_covers(who, entry_scope) || principal_below(who, entry_scope);
}

bool directory_class_code_ok(const char *s) { return digits_ok(s, 2); }
bool directory_service_code_ok(const char *s) { return digits_ok(s, 4); }

const char *role_name(Whistle__V1__Role r)
{
    return (size_t)r < sizeof role_names / sizeof *role_names && *role_names[r] ? role_names[r] : "unknown";
}

const char *role_a(Whistle__V1__Role r)
{
    static const char *const with_article[] = {
        "an unspecified role", "an admin", "an operator", "a department", "a grid_worker", "a community",     "a kiosk",
        "an integration",      "a sensor", "a gateway",   "a bridge",     "a volunteer",   "a representative"
    };
    _Static_assert(sizeof with_article == sizeof role_names, "one for each role");
    return (size_t)r < sizeof with_article / sizeof *with_article ? with_article[r] : "an unknown role";
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
        if (!digits_ok(parent, strlen(parent)) || strlen(parent) > 18) {
            call_fail(c, CODE(INVALID_ARGUMENT), "parent \"%.40s\" is not a node code (6 to 18 digits)", parent);
            return;
        }
        if (!directory_node_get(c->st, c->txn, parent, c->a)) {
            call_fail(c, CODE(NOT_FOUND), "no node %s", parent);
            return;
        }
        /* Inside the scope, and on the path above it: a kiosk may name its
         * street and the street's neighbours, not list another district. */
        if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, parent) && !principal_below(c->who, parent)) {
            call_deny(c, parent,
                      "node %s is outside your scope %s (rule: the tree of places is read inside the caller's "
                      "scope and along the path above it)",
                      parent, str0(c->who->scope));
            return;
        }
        prefix = parent;
    } else if (c->who->role == ROLE(ADMIN)) {
        prefix = "";
    } else {
        prefix = c->who->n_extra_scopes ? principal_common_scope(c->who, c->a) : str0(c->who->scope);
        if (!*str0(c->who->scope)) {
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
    MDB_val k = { plen, (void *)prefix }, v;
    ptr_vec out = { 0 };
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
        if (!*parent && c->who->role != ROLE(ADMIN) && c->who->n_extra_scopes && !principal_covers(c->who, n->code))
            continue;
        /* boundaries are large: only when asked for */
        if (!req->with_boundaries)
            n->boundary = (char *)"";
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

int directory_scan(call *c, MDB_dbi dbi, const char *prefix, const ProtobufCMessageDescriptor *d, ptr_vec *v,
                   const char *what)
{
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, dbi, &cur);
    if (rc)
        return call_store_fail(c, rc, what);
    size_t plen = strlen(prefix);
    MDB_val k = { plen, (void *)prefix }, val;
    for (rc = mdb_cursor_get(cur, &k, &val, plen ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
         rc = mdb_cursor_get(cur, &k, &val, MDB_NEXT)) {
        if (k.mv_size < plen || memcmp(k.mv_data, prefix, plen) != 0)
            break;
        ProtobufCMessage *m = protobuf_c_message_unpack(d, arena_allocator(c->a), val.mv_size, val.mv_data);
        if (!m) {
            rc = MDB_CORRUPTED;
            break;
        }
        ptr_vec_push(c->a, v, m);
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : call_store_fail(c, rc, what);
}

void directory_list_departments(call *c)
{
    ptr_vec v = { 0 };
    if (directory_scan(c, c->st->departments, "", &whistle__v1__department__descriptor, &v, "listing departments"))
        return;
    size_t n = 0; /* the ones for the caller's reach (a district's, or the city's) */
    for (size_t i = 0; i < v.n; i++)
        if (directory_seen_by(c->who, ((Whistle__V1__Department *)v.items[i])->scope))
            v.items[n++] = v.items[i];
    v.n = n;
    Whistle__V1__DepartmentList *list = arena_alloc(c->a, sizeof *list);
    whistle__v1__department_list__init(list);
    list->departments = (Whistle__V1__Department **)v.items;
    list->n_departments = v.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_DEPARTMENTS;
    c->resp->departments = list;
}

void directory_list_categories(call *c)
{
    ptr_vec v = { 0 };
    if (directory_scan(c, c->st->categories, "", &whistle__v1__category__descriptor, &v, "listing categories"))
        return;
    size_t n = 0;
    for (size_t i = 0; i < v.n; i++)
        if (directory_seen_by(c->who, ((Whistle__V1__Category *)v.items[i])->scope))
            v.items[n++] = v.items[i];
    v.n = n;
    Whistle__V1__CategoryList *list = arena_alloc(c->a, sizeof *list);
    whistle__v1__category_list__init(list);
    list->categories = (Whistle__V1__Category **)v.items;
    list->n_categories = v.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_CATEGORIES;
    c->resp->categories = list;
}
