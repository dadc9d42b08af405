/* dirio.c: see dirio.h.
 *
 * Both formats become the same rows (a table's columns as strings, NULL
 * for a column the file does not have), so one set of checks serves CSV,
 * JSON and the seed. Checking runs in two passes: the first reads each row
 * on its own and indexes the codes, the second checks what refers to other
 * rows (parents, departments, scopes) against the file and the store.
 * Nothing is written until every row has passed. */
#include "dirio.h"

#include <errno.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "attributes.h"
#include "audit.h"
#include "authz.h"
#include "call.h"
#include "directory.h"
#include "places.h"

#define T(x) WHISTLE__V1__DIRECTORY_TABLE__DIRECTORY_TABLE_##x
#define NK(x) WHISTLE__V1__NODE_KIND__NODE_KIND_##x
#define NAME_MAX_BYTES 200
#define TEXT_MAX_BYTES 1000     /* a service's what-to-bring and how: a short paragraph */
#define ERR_BUDGET (256u << 10) /* error text kept; the count goes on */
#define MAX_FIELDS 20

/* ------------------------------------------------------------ columns */

/* J_JSON: a JSON value kept as its compact text (a CSV cell holds that
 * text; a JSON string holding it is taken too). */
enum { J_STR, J_BOOL, J_INT, J_LIST, J_JSON };

typedef struct colspec {
    const char *name;
    const char *alias[5]; /* other header words or JSON keys */
    bool required;        /* a CSV header must have it */
    int jtype;            /* what a JSON value must be */
} colspec;

enum { N_CODE, N_PARENT, N_KIND, N_ZH, N_EN, N_RETIRED, N_SUCCESSOR, N_BOUNDARY };
static const colspec node_cols[] = {
    { "code", { "编码", "代码" }, true, J_STR },
    { "parent_code", { "parent", "上级编码", "上级代码" }, true, J_STR },
    { "kind", { "类型", "层级", "级别" }, true, J_STR },
    { "name_zh", { "名称", "中文名称", "中文名" }, true, J_STR },
    { "name_en", { "英文名称", "英文名" }, true, J_STR },
    { "retired", { "已撤销", "撤销" }, false, J_BOOL },
    { "successor", { "继任编码" }, false, J_STR },
    { "boundary", { "边界", "范围边界" }, false, J_JSON }, /* GeoJSON, WGS84 (places.h) */
    { NULL, { NULL }, false, 0 },
};

enum { D_CODE, D_ZH, D_EN, D_SCOPE };
static const colspec dept_cols[] = {
    { "code", { "编码", "代码" }, true, J_STR },
    { "name_zh", { "名称", "中文名称", "中文名" }, false, J_STR },
    { "name_en", { "英文名称", "英文名" }, false, J_STR },
    { "scope", { "辖区", "适用范围", "适用辖区" }, false, J_STR }, /* a district, or empty: the whole city */
    { NULL, { NULL }, false, 0 },
};

enum {
    C_CODE,
    C_ZH,
    C_EN,
    C_DEPTS,
    C_CHECK_IN,
    C_RESOLVE,
    C_CHECK_IN_URGENT,
    C_RESOLVE_URGENT,
    C_CHECK_IN_HIGH,
    C_RESOLVE_HIGH,
    C_CHECK_IN_LOW,
    C_RESOLVE_LOW,
    C_CHECK_IN_MINUTES,
    C_RESOLVE_HOURS,
    C_STAGES,
    C_SCOPE,
    C_ATTRIBUTES,
};
static const colspec cat_cols[] = {
    { "code", { "编码", "代码" }, true, J_STR },
    { "name_zh", { "名称", "中文名称", "中文名" }, false, J_STR },
    { "name_en", { "英文名称", "英文名" }, false, J_STR },
    { "departments", { "责任部门", "部门" }, false, J_LIST },
    { "check_in", { "报到时限" }, false, J_STR },
    { "resolve", { "办结时限", "处置时限" }, false, J_STR },
    { "check_in_urgent", { NULL }, false, J_STR },
    { "resolve_urgent", { NULL }, false, J_STR },
    { "check_in_high", { NULL }, false, J_STR },
    { "resolve_high", { NULL }, false, J_STR },
    { "check_in_low", { NULL }, false, J_STR },
    { "resolve_low", { NULL }, false, J_STR },
    { "check_in_minutes", { NULL }, false, J_INT },
    { "resolve_hours", { NULL }, false, J_INT },
    { "stages", { "阶段时限" }, false, J_STR },
    { "scope", { "辖区", "适用范围", "适用辖区" }, false, J_STR }, /* a district, or empty: the whole city */
    { "attributes", { "附加信息" }, false, J_JSON },               /* a JSON array (attributes.h) */
    { NULL, { NULL }, false, 0 },
};

enum { P_NAME, P_ROLE, P_SCOPE, P_DEPT, P_ENABLED, P_ACT_FOR };
static const colspec princ_cols[] = {
    { "name", { "账号", "证书名" }, true, J_STR },
    { "role", { "角色" }, true, J_STR },
    { "scope", { "范围", "辖区" }, true, J_STR },
    { "department", { "部门" }, false, J_STR },
    { "enabled", { "启用" }, false, J_BOOL },
    { "act_for", { "代理" }, false, J_LIST },
    { NULL, { NULL }, false, 0 },
};

/* The service catalogue (services.h): classes, and the items in them. */
enum { SC_CODE, SC_ZH, SC_EN, SC_RETIRED, SC_SCOPE };
static const colspec sclass_cols[] = {
    { "code", { "编码", "代码", "类别编码" }, true, J_STR },
    { "name_zh", { "名称", "中文名称", "中文名", "类别名称" }, false, J_STR }, /* a new class needs it */
    { "name_en", { "英文名称", "英文名" }, false, J_STR },
    { "retired", { "已撤销", "撤销", "停用" }, false, J_BOOL },
    { "scope", { "辖区", "适用范围", "适用辖区" }, false, J_STR }, /* a district, or empty: the whole city */
    { NULL, { NULL }, false, 0 },
};

enum {
    S_CODE,
    S_CLASS,
    S_ZH,
    S_EN,
    S_WHERE_ZH,
    S_WHERE_EN,
    S_HOURS_ZH,
    S_HOURS_EN,
    S_BRING_ZH,
    S_BRING_EN,
    S_HOW_ZH,
    S_HOW_EN,
    S_DEPT,
    S_RETIRED,
    S_SCOPE,
};
static const colspec service_cols[] = {
    { "code", { "编码", "代码", "事项编码" }, true, J_STR },
    { "class_code", { "类别编码", "所属类别", "类别" }, false, J_STR },
    { "name_zh", { "名称", "中文名称", "中文名", "事项名称" }, false, J_STR }, /* a new service needs it */
    { "name_en", { "英文名称", "英文名" }, false, J_STR },
    { "where_zh", { "办理地点", "地点" }, false, J_STR },
    { "where_en", { "英文办理地点" }, false, J_STR },
    { "hours_zh", { "办理时间", "时间" }, false, J_STR },
    { "hours_en", { "英文办理时间" }, false, J_STR },
    { "bring_zh", { "所需材料", "材料", "申请材料" }, false, J_STR },
    { "bring_en", { "英文所需材料" }, false, J_STR },
    { "how_zh", { "办理流程", "流程" }, false, J_STR },
    { "how_en", { "英文办理流程" }, false, J_STR },
    { "department", { "责任部门", "部门" }, false, J_STR },
    { "retired", { "已撤销", "撤销", "停用" }, false, J_BOOL },
    { "scope", { "辖区", "适用范围", "适用辖区" }, false, J_STR }, /* a district, or empty: the whole city */
    { NULL, { NULL }, false, 0 },
};

static const colspec *const table_cols[DIRIO_TABLES] = { NULL,       node_cols,   dept_cols,   cat_cols,
                                                         princ_cols, sclass_cols, service_cols };
static const char *const table_names[DIRIO_TABLES] = { "",           "nodes",           "departments", "categories",
                                                       "principals", "service_classes", "services" };
#define TABLE_LIST "nodes, departments, categories, principals, service_classes or services"

/* Where each table is stored, and as what. */
static MDB_dbi table_dbi(store *st, int t)
{
    switch (t) {
    case T(NODES): return st->nodes;
    case T(DEPARTMENTS): return st->departments;
    case T(CATEGORIES): return st->categories;
    case T(SERVICE_CLASSES): return st->service_classes;
    case T(SERVICES): return st->services;
    default: return st->principals;
    }
}

static const ProtobufCMessageDescriptor *table_desc(int t)
{
    switch (t) {
    case T(NODES): return &whistle__v1__node__descriptor;
    case T(DEPARTMENTS): return &whistle__v1__department__descriptor;
    case T(CATEGORIES): return &whistle__v1__category__descriptor;
    case T(SERVICE_CLASSES): return &whistle__v1__service_class__descriptor;
    case T(SERVICES): return &whistle__v1__service_item__descriptor;
    default: return &whistle__v1__principal__descriptor;
    }
}

const char *dirio_table_name(Whistle__V1__DirectoryTable t) { return t > 0 && t < DIRIO_TABLES ? table_names[t] : ""; }

static size_t ncols(int t)
{
    size_t n = 0;
    while (table_cols[t][n].name)
        n++;
    return n;
}

/* The header list for messages: "code,parent_code,kind,name_zh,name_en". */
static const char *required_list(arena *a, int t)
{
    const char *s = "";
    for (const colspec *c = table_cols[t]; c->name; c++)
        if (c->required)
            s = *s ? arena_printf(a, "%s,%s", s, c->name) : c->name;
    return s;
}

/* ------------------------------------------------------------ a string map */

typedef struct smap {
    const char **k;
    int *v;
    size_t cap, n;
} smap;

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static int smap_get(const smap *m, const char *k)
{
    if (!m->cap)
        return -1;
    for (size_t i = hash(k) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
        if (!m->k[i])
            return -1;
        if (strcmp(m->k[i], k) == 0)
            return m->v[i];
    }
}

static void smap_put(arena *a, smap *m, const char *k, int v)
{
    if (2 * (m->n + 1) > m->cap) {
        smap big = { .cap = m->cap ? m->cap * 2 : 64 };
        big.k = arena_alloc(a, big.cap * sizeof *big.k);
        big.v = arena_alloc(a, big.cap * sizeof *big.v);
        memset(big.k, 0, big.cap * sizeof *big.k);
        for (size_t i = 0; i < m->cap; i++)
            if (m->k[i])
                smap_put(a, &big, m->k[i], m->v[i]);
        *m = big;
    }
    size_t i = hash(k) & (m->cap - 1);
    while (m->k[i])
        i = (i + 1) & (m->cap - 1);
    m->k[i] = k;
    m->v[i] = v;
    m->n++;
}

/* ------------------------------------------------------------ rows and errors */

typedef struct row {
    const char *where;             /* "line 12", "nodes[3] (110105001)" */
    uint64_t ord;                  /* where in the file: errors are listed in this order */
    const char *f[MAX_FIELDS];     /* NULL: the file has no such column/key */
    const char *fname[MAX_FIELDS]; /* the column or key as the file spells it */
    bool bad;                      /* an error was reported for it */
    bool skip;                     /* unreadable: not checked further */
    int kind;                      /* nodes: the kind, once parsed */
    ProtobufCMessage *rec;         /* the record to store, once built */
    const void *before;            /* the stored record's bytes, NULL if new */
    size_t before_len;
} row;

typedef struct table_rows {
    row *rows;
    size_t n, cap;
    smap keys;
} table_rows;

typedef struct imp {
    store *st;
    MDB_txn *txn;
    arena *a;
    const dirio_opts *o;
    dirio_result *r;
    table_rows t[DIRIO_TABLES];
    ptr_vec errs; /* struct err */
    size_t err_bytes;
    ptr_vec notes;
    bool guessed; /* a CSV file's table was read from its header, not given */
} imp;

struct err {
    uint64_t ord;
    size_t n; /* the order it was found in, among equals */
    const char *text;
};

static row *row_new(imp *m, int t)
{
    table_rows *tb = &m->t[t];
    if (tb->n == tb->cap) {
        size_t cap = tb->cap ? tb->cap * 2 : 256;
        row *rows = arena_alloc(m->a, cap * sizeof *rows);
        if (tb->n)
            memcpy(rows, tb->rows, tb->n * sizeof *rows);
        tb->rows = rows;
        tb->cap = cap;
    }
    row *r = &tb->rows[tb->n++];
    memset(r, 0, sizeof *r);
    return r;
}

static void note(imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(imp *m, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char buf[512];
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    ptr_vec_push(m->a, &m->notes, arena_strdup(m->a, buf));
}

static void add_err(imp *m, uint64_t ord, const char *text)
{
    m->r->n_errors++;
    if (m->err_bytes >= ERR_BUDGET)
        return; /* counted, not kept */
    struct err *e = arena_alloc(m->a, sizeof *e);
    e->ord = ord;
    e->n = m->errs.n;
    e->text = arena_strdup(m->a, text);
    m->err_bytes += strlen(text) + 1;
    ptr_vec_push(m->a, &m->errs, e);
}

/* Reports an error on a row (field -1: the row as a whole). */
static void bad(imp *m, row *rw, int field, const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void bad(imp *m, row *rw, int field, const char *fmt, ...)
{
    if (!rw->bad) {
        rw->bad = true;
        m->r->bad_rows++;
    }
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    char line[1400];
    if (field >= 0)
        snprintf(line, sizeof line, "%s: field \"%s\": %s", rw->where, rw->fname[field], msg);
    else
        snprintf(line, sizeof line, "%s: %s", rw->where, msg);
    add_err(m, rw->ord, line);
}

/* An error about the file as a whole (listed first). */
static void bad_file(imp *m, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void bad_file(imp *m, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    add_err(m, 0, msg);
}

static int err_cmp(const void *a, const void *b)
{
    const struct err *x = *(const struct err *const *)a, *y = *(const struct err *const *)b;
    if (x->ord != y->ord)
        return x->ord < y->ord ? -1 : 1;
    return x->n < y->n ? -1 : x->n > y->n;
}

/* The errors in file order, one a line. */
static const char *errors_text(imp *m)
{
    if (!m->errs.n)
        return "";
    qsort(m->errs.items, m->errs.n, sizeof *m->errs.items, err_cmp);
    char *out = arena_alloc(m->a, m->err_bytes + 1), *p = out;
    for (size_t i = 0; i < m->errs.n; i++) {
        const struct err *e = m->errs.items[i];
        size_t n = strlen(e->text);
        if (i)
            *p++ = '\n';
        memcpy(p, e->text, n);
        p += n;
    }
    *p = 0;
    return out;
}

static const char *fv(const row *r, int i) { return r->f[i]; }
static bool has(const row *r, int i) { return r->f[i] != NULL; }
static bool empty(const row *r, int i) { return !r->f[i] || !*r->f[i]; }

static int parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "true", "yes", "y", "1", "t", "是", "TRUE", "Yes", "YES", "True" };
    static const char *const no[] = { "false", "no", "n", "0", "f", "否", "", "FALSE", "No", "NO", "False" };
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++)
        if (strcmp(s, yes[i]) == 0)
            return *out = true, 0;
    for (size_t i = 0; i < sizeof no / sizeof *no; i++)
        if (strcmp(s, no[i]) == 0)
            return *out = false, 0;
    return -1;
}

/* ------------------------------------------------------------ reading CSV */

static bool header_is(const char *h, const colspec *c)
{
    if (strcmp(h, c->name) == 0)
        return true;
    for (int i = 0; i < 5 && c->alias[i]; i++)
        if (strcmp(h, c->alias[i]) == 0)
            return true;
    return false;
}

static int header_col(int t, const char *h)
{
    for (int i = 0; table_cols[t][i].name; i++)
        if (header_is(h, &table_cols[t][i]))
            return i;
    return -1;
}

/* Whether any header names column col of table t. */
static bool header_has(char **h, size_t n, int t, int col)
{
    for (size_t i = 0; i < n; i++)
        if (header_col(t, h[i]) == col)
            return true;
    return false;
}

/* Which table a header row is for, when the caller did not say: by the
 * columns only one table has, the most telling first (a principals file
 * with a 部门 column is not a categories file). */
static int detect_table(char **h, size_t n)
{
    if (header_has(h, n, T(NODES), N_KIND) || header_has(h, n, T(NODES), N_PARENT))
        return T(NODES);
    if (header_has(h, n, T(PRINCIPALS), P_ROLE))
        return T(PRINCIPALS);
    /* a service's own columns (not department: principals have one too) */
    for (int c = S_CLASS; c <= S_HOW_EN; c++)
        if (c != S_ZH && c != S_EN && header_has(h, n, T(SERVICES), c))
            return T(SERVICES);
    for (size_t i = 0; i < n; i++) {
        int c = header_col(T(CATEGORIES), h[i]);
        if (c >= C_DEPTS && c != C_SCOPE) /* every catalogue table has a scope */
            return T(CATEGORIES);
    }
    if (!header_has(h, n, T(CATEGORIES), C_CODE))
        return 0;
    /* code and retired without a kind: service classes (places have a kind
     * and a parent; departments are never retired) */
    if (header_has(h, n, T(SERVICE_CLASSES), SC_RETIRED))
        return T(SERVICE_CLASSES);
    return T(DEPARTMENTS);
}

static void load_csv(imp *m, const void *data, size_t len)
{
    csv_reader rd;
    csv_init(&rd, data, len);
    char **h;
    size_t nh, line;
    const char *why;
    int rc = csv_next(&rd, m->a, &h, &nh, &line, &why);
    if (rc == CSV_EOF) {
        bad_file(m, "the file is empty: a CSV file needs a header row (for places: %s) and a row per record",
                 required_list(m->a, T(NODES)));
        return;
    }
    if (rc == CSV_BAD) {
        bad_file(m, "line %zu (the header row): %s", line, why);
        return;
    }
    size_t header_line = line;
    for (size_t i = 0; i < nh; i++) {
        /* headers are matched without regard to ASCII case */
        for (char *p = h[i]; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
    }
    int t = m->o->table ? (int)m->o->table : detect_table(h, nh);
    if (t <= 0 || t >= DIRIO_TABLES) {
        bad_file(m,
                 "line %zu: cannot tell which table this header is for; say which (--table " TABLE_LIST
                 ") or use the documented columns",
                 header_line);
        return;
    }
    m->guessed = !m->o->table;
    m->r->present[t] = true;
    int col_of[256];
    size_t nc = ncols(t);
    int field_col[MAX_FIELDS];
    for (size_t i = 0; i < MAX_FIELDS; i++)
        field_col[i] = -1;
    bool header_ok = true;
    if (nh > 256) {
        bad_file(m, "line %zu: %zu columns; at most 256 are read", header_line, nh);
        return;
    }
    for (size_t i = 0; i < nh; i++) {
        col_of[i] = *h[i] ? header_col(t, h[i]) : -1;
        if (col_of[i] < 0) {
            if (*h[i])
                note(m, "column \"%s\" (column %zu) is not a %s column and was not read", h[i], i + 1, table_names[t]);
            continue;
        }
        if (field_col[col_of[i]] >= 0) {
            bad_file(m, "line %zu: column \"%s\" appears twice (columns %d and %zu)", header_line,
                     table_cols[t][col_of[i]].name, field_col[col_of[i]] + 1, i + 1);
            header_ok = false;
        }
        field_col[col_of[i]] = (int)i;
    }
    for (size_t k = 0; k < nc; k++)
        if (table_cols[t][k].required && field_col[k] < 0) {
            bad_file(m, "line %zu: the header has no \"%s\" column; a %s file has the columns %s", header_line,
                     table_cols[t][k].name, table_names[t], required_list(m->a, t));
            header_ok = false;
        }
    if (!header_ok)
        return;

    char **f;
    size_t n;
    for (;;) {
        rc = csv_next(&rd, m->a, &f, &n, &line, &why);
        if (rc == CSV_EOF)
            break;
        row *r = row_new(m, t);
        r->where = arena_printf(m->a, "line %zu", line);
        r->ord = line;
        for (size_t k = 0; k < nc; k++)
            r->fname[k] = field_col[k] >= 0 ? h[field_col[k]] : table_cols[t][k].name;
        if (rc == CSV_BAD) {
            r->skip = true;
            bad(m, r, -1, "%s", why);
            continue;
        }
        if (n < nh) {
            const char *missing = "";
            for (size_t k = 0; k < nc; k++)
                if (field_col[k] >= (int)n)
                    missing =
                        *missing ? arena_printf(m->a, "%s, %s", missing, table_cols[t][k].name) : table_cols[t][k].name;
            r->skip = true;
            bad(m, r, -1, "%zu fields where the header has %zu: %s %s missing", n, nh, *missing ? missing : "a column",
                strchr(missing, ',') ? "are" : "is");
            continue;
        }
        bool extra = false;
        for (size_t i = nh; i < n; i++)
            extra |= *f[i] != 0;
        if (extra) {
            r->skip = true;
            bad(m, r, -1, "%zu fields where the header has %zu (a comma inside a name? put that name in double quotes)",
                n, nh);
            continue;
        }
        for (size_t k = 0; k < nc; k++)
            r->f[k] = field_col[k] >= 0 ? f[field_col[k]] : NULL;
    }
}

/* ------------------------------------------------------------ reading JSON */

static void load_json(imp *m, const void *data, size_t len)
{
    json_error_t je;
    json_t *root = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
    if (!root) {
        bad_file(m, "line %d column %d: %s; fix the JSON (see docs/directory-seed.md)", je.line, je.column, je.text);
        return;
    }
    if (!json_is_object(root)) {
        bad_file(m, "the top level must be an object with arrays named " TABLE_LIST);
        json_decref(root);
        return;
    }
    for (int t = 1; t < DIRIO_TABLES; t++) {
        json_t *arr = json_object_get(root, table_names[t]);
        if (!arr)
            continue;
        if (m->o->table && (int)m->o->table != t) {
            note(m, "\"%s\" was not read: this import is for %s only", table_names[t], table_names[m->o->table]);
            continue;
        }
        if (!json_is_array(arr)) {
            bad_file(m, "\"%s\" must be an array", table_names[t]);
            continue;
        }
        m->r->present[t] = true;
        size_t i;
        json_t *o;
        json_array_foreach(arr, i, o)
        {
            row *r = row_new(m, t);
            r->where = arena_printf(m->a, "%s[%zu]", table_names[t], i);
            r->ord = ((uint64_t)t << 40) + i + 1;
            for (size_t k = 0; table_cols[t][k].name; k++)
                r->fname[k] = table_cols[t][k].name;
            if (!json_is_object(o)) {
                r->skip = true;
                bad(m, r, -1, "each entry must be an object");
                continue;
            }
            /* name the entry by its code in every message about it */
            json_t *key = json_object_get(o, table_cols[t][0].name);
            if (json_is_string(key) && *json_string_value(key))
                r->where = arena_printf(m->a, "%s[%zu] (%s)", table_names[t], i, json_string_value(key));
            size_t errors_before = m->r->n_errors;
            for (size_t k = 0; table_cols[t][k].name; k++) {
                const colspec *c = &table_cols[t][k];
                json_t *v = json_object_get(o, c->name);
                for (int ai = 0; !v && ai < 5 && c->alias[ai]; ai++)
                    if ((v = json_object_get(o, c->alias[ai])))
                        r->fname[k] = c->alias[ai];
                if (!v || json_is_null(v))
                    continue;
                switch (c->jtype) {
                case J_STR:
                    if (!json_is_string(v)) {
                        bad(m, r, (int)k, "must be a string");
                        continue;
                    }
                    if (strlen(json_string_value(v)) != json_string_length(v)) {
                        bad(m, r, (int)k, "contains a NUL byte");
                        continue;
                    }
                    r->f[k] = arena_strdup(m->a, json_string_value(v));
                    break;
                case J_BOOL:
                    if (!json_is_boolean(v)) {
                        bad(m, r, (int)k, "must be true or false");
                        continue;
                    }
                    r->f[k] = json_is_true(v) ? "true" : "false";
                    break;
                case J_INT:
                    if (!json_is_integer(v) || json_integer_value(v) < 0) {
                        bad(m, r, (int)k, "must be a whole number, 0 or more");
                        continue;
                    }
                    r->f[k] = arena_printf(m->a, "%lld", (long long)json_integer_value(v));
                    break;
                case J_LIST: {
                    if (json_is_string(v)) {
                        r->f[k] = arena_strdup(m->a, json_string_value(v));
                        break;
                    }
                    if (!json_is_array(v)) {
                        bad(m, r, (int)k, "must be an array of department codes");
                        continue;
                    }
                    const char *joined = "";
                    size_t j;
                    json_t *d;
                    bool ok = true;
                    json_array_foreach(v, j, d)
                    {
                        if (!json_is_string(d)) {
                            bad(m, r, (int)k, "entry %zu is not a string", j);
                            ok = false;
                            break;
                        }
                        joined = j ? arena_printf(m->a, "%s,%s", joined, json_string_value(d))
                                   : arena_strdup(m->a, json_string_value(d));
                    }
                    if (ok)
                        r->f[k] = joined;
                    break;
                }
                case J_JSON: {
                    if (json_is_string(v)) {
                        r->f[k] = arena_strdup(m->a, json_string_value(v));
                        break;
                    }
                    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
                    if (!text) {
                        bad(m, r, (int)k, "cannot be read");
                        continue;
                    }
                    r->f[k] = arena_strdup(m->a, text);
                    free(text);
                    break;
                }
                }
            }
            /* a value of the wrong type: the entry is not checked further */
            if (m->r->n_errors > errors_before)
                r->skip = true;
        }
    }
    json_decref(root);
}

/* ------------------------------------------------------------ lookups in file and store */

static row *in_file(imp *m, int t, const char *key)
{
    int i = key && *key ? smap_get(&m->t[t].keys, key) : -1;
    return i >= 0 ? &m->t[t].rows[i] : NULL;
}

static void *stored(imp *m, int t, const char *key, row *r)
{
    MDB_dbi dbi = table_dbi(m->st, t);
    const ProtobufCMessageDescriptor *d = table_desc(t);
    void *bytes;
    size_t len;
    if (!key || !*key || strlen(key) > 511 || store_get_bytes(m->txn, dbi, key, strlen(key), m->a, &bytes, &len) != 0)
        return NULL;
    void *rec = protobuf_c_message_unpack(d, arena_allocator(m->a), len, bytes);
    if (rec && r) {
        r->before = bytes;
        r->before_len = len;
    }
    return rec;
}

/* Whether key exists in the file (as a row that could be read) or the store. */
static bool exists(imp *m, int t, const char *key)
{
    row *r = in_file(m, t, key);
    if (r)
        return true;
    return stored(m, t, key, NULL) != NULL;
}

static void index_key(imp *m, int t, row *r, int field, const char *what)
{
    const char *k = fv(r, field);
    row *other = in_file(m, t, k);
    if (other) {
        bad(m, r, field, "duplicate: %s %s is already on %s", what, k, other->where);
        return;
    }
    smap_put(m->a, &m->t[t].keys, k, (int)(r - m->t[t].rows));
}

static bool check_name(imp *m, row *r, int field)
{
    if (has(r, field) && strlen(fv(r, field)) > NAME_MAX_BYTES) {
        bad(m, r, field, "%zu bytes; a name is at most %d", strlen(fv(r, field)), NAME_MAX_BYTES);
        return false;
    }
    return true;
}

static const char *kind_code_desc(int k)
{
    switch (k) {
    case NK(DISTRICT): return "6 digits (the administrative division code, GB/T 2260)";
    case NK(STREET): return "9 digits (6 district + 3 street)";
    case NK(COMMUNITY): return "12 digits (6 district + 3 street + 3 community)";
    case NK(GRID): return "15 digits (6 district + 3 street + 3 community + 3 grid)";
    case NK(BUILDING): return "18 digits (a grid's 15 + 3 building)";
    default: return "6 to 18 digits";
    }
}

/* A spreadsheet that took a code for a number writes 1.10105E+14. */
static bool looks_scientific(const char *s) { return strpbrk(s, "eE") && strpbrk(s, ".+"); }

static bool digits_only(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* A catalogue entry's scope (col): empty (the whole city) or the code of a
 * district in the file or the directory. */
static void check_scope(imp *m, row *r, int col)
{
    const char *s = fv(r, col);
    if (!s || !*s)
        return;
    if (strlen(s) != 6 || !digits_only(s) || !exists(m, T(NODES), s))
        bad(m, r, col,
            "\"%s\" is not a district: a scope is a district's 6-digit code (neither in this file nor "
            "in the directory), or empty for the whole city",
            s);
}

/* ------------------------------------------------------------ nodes */

static void nodes_pass1(imp *m)
{
    table_rows *tb = &m->t[T(NODES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip)
            continue;
        const char *code = fv(r, N_CODE);
        if (empty(r, N_CODE)) {
            bad(m, r, N_CODE, "missing: every place has a code");
            r->skip = true;
            continue;
        }
        if (!digits_only(code)) {
            if (looks_scientific(code))
                bad(m, r, N_CODE,
                    "\"%s\" is a number a spreadsheet reformatted; format the code column as text and type the "
                    "codes again",
                    code);
            else
                bad(m, r, N_CODE, "\"%s\": a code is digits only", code);
        }
        Whistle__V1__NodeKind k;
        if (empty(r, N_KIND))
            bad(m, r, N_KIND, "missing: district, street, community, grid or building");
        else if (!directory_kind_parse(fv(r, N_KIND), &k))
            bad(m, r, N_KIND, "\"%s\" is not one of district, street, community, grid, building", fv(r, N_KIND));
        else {
            r->kind = k;
            if (digits_only(code) && strlen(code) != directory_code_len(k))
                bad(m, r, N_CODE, "a %s code is %s; %s has %zu", directory_kind_name(k), kind_code_desc(k), code,
                    strlen(code));
        }
        check_name(m, r, N_ZH);
        check_name(m, r, N_EN);
        bool b;
        if (has(r, N_RETIRED) && parse_bool(fv(r, N_RETIRED), &b) < 0)
            bad(m, r, N_RETIRED, "\"%s\": use true or false (or leave it empty)", fv(r, N_RETIRED));
        if (!empty(r, N_SUCCESSOR) && !digits_only(fv(r, N_SUCCESSOR)))
            bad(m, r, N_SUCCESSOR, "\"%s\": a code is digits only", fv(r, N_SUCCESSOR));
        index_key(m, T(NODES), r, N_CODE, "code");
        if (r->bad)
            r->skip = r->kind == 0 || !digits_only(code); /* pass 2 still checks what it can */
    }
}

/* The kind and retired state of a node in the file or the store; false if
 * it is in neither. */
static bool node_info(imp *m, const char *code, int *kind, bool *retired, bool *from_file)
{
    row *r = in_file(m, T(NODES), code);
    if (r) {
        *kind = r->kind;
        bool b = false;
        if (has(r, N_RETIRED))
            parse_bool(fv(r, N_RETIRED), &b);
        else {
            Whistle__V1__Node *s = stored(m, T(NODES), code, NULL);
            b = s && s->retired;
        }
        *retired = b;
        *from_file = true;
        return true;
    }
    Whistle__V1__Node *s = stored(m, T(NODES), code, NULL);
    if (!s)
        return false;
    *kind = s->kind;
    *retired = s->retired;
    *from_file = false;
    return true;
}

static void nodes_pass2(imp *m)
{
    table_rows *tb = &m->t[T(NODES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip || !r->kind)
            continue;
        const char *code = fv(r, N_CODE);
        const char *parent = has(r, N_PARENT) ? fv(r, N_PARENT) : NULL;
        Whistle__V1__Node *old = stored(m, T(NODES), code, r);
        if (!parent)
            parent = old ? old->parent : "";
        int k = r->kind;
        if (k == NK(DISTRICT)) {
            if (*parent)
                bad(m, r, N_PARENT, "a district is a root of the tree: leave its parent empty");
        } else if (!*parent) {
            bad(m, r, N_PARENT, "missing: a %s's parent is its %s, the first %zu digits of its code",
                directory_kind_name(k), directory_kind_name(k - 1), directory_code_len(k - 1));
        } else if (strlen(code) == directory_code_len(k) &&
                   (strlen(parent) != directory_code_len(k - 1) || strncmp(code, parent, strlen(parent)) != 0)) {
            bad(m, r, N_PARENT, "the parent of %s %s is the %s %.*s (its first %zu digits); this row says %s",
                directory_kind_name(k), code, directory_kind_name(k - 1), (int)directory_code_len(k - 1), code,
                directory_code_len(k - 1), parent);
        } else {
            int pk;
            bool pretired, pfile;
            if (!node_info(m, parent, &pk, &pretired, &pfile))
                bad(m, r, N_PARENT, "%s does not exist (neither in this file nor in the directory)", parent);
            else if (pk && pk != k - 1)
                bad(m, r, N_PARENT, "%s is a %s; a %s's parent is a %s", parent, directory_kind_name(pk),
                    directory_kind_name(k), directory_kind_name(k - 1));
            else if (pretired && !old) {
                bool b = false;
                if (!(has(r, N_RETIRED) && parse_bool(fv(r, N_RETIRED), &b) == 0 && b))
                    bad(m, r, N_PARENT, "%s is retired: a retired place takes no new places below it", parent);
            }
        }
        if (old && old->kind != (Whistle__V1__NodeKind)k)
            bad(m, r, N_KIND, "%s is already in the directory as a %s", code, directory_kind_name(old->kind));
        else if (old && strcmp(str0(old->parent), parent) != 0)
            bad(m, r, N_PARENT,
                "%s is already in the directory under %s; an import does not move places (whistle admin node "
                "move)",
                code, old->parent);
        if (!empty(r, N_SUCCESSOR) && digits_only(fv(r, N_SUCCESSOR))) {
            int sk;
            bool sr, sf;
            if (strcmp(fv(r, N_SUCCESSOR), code) == 0)
                bad(m, r, N_SUCCESSOR, "a place is not its own successor");
            else if (!node_info(m, fv(r, N_SUCCESSOR), &sk, &sr, &sf))
                bad(m, r, N_SUCCESSOR, "%s does not exist (neither in this file nor in the directory)",
                    fv(r, N_SUCCESSOR));
        }
        if (r->bad)
            continue;
        Whistle__V1__Node *n = arena_alloc(m->a, sizeof *n);
        if (old)
            *n = *old;
        else
            whistle__v1__node__init(n);
        n->code = (char *)code;
        n->parent = (char *)parent;
        n->kind = k;
        if (has(r, N_ZH))
            n->name_zh = (char *)fv(r, N_ZH);
        if (has(r, N_EN))
            n->name_en = (char *)fv(r, N_EN);
        if (!*str0(n->name_zh) && !*str0(n->name_en)) {
            bad(m, r, has(r, N_ZH) || !has(r, N_EN) ? N_ZH : N_EN, "a place needs a name (name_zh or name_en)");
            continue;
        }
        if (has(r, N_RETIRED)) {
            bool b = false; /* checked above: the word is one parse_bool knows */
            parse_bool(fv(r, N_RETIRED), &b);
            n->retired = b;
        }
        if (has(r, N_SUCCESSOR))
            n->successor = (char *)fv(r, N_SUCCESSOR);
        if (has(r, N_BOUNDARY)) {
            const char *why = NULL;
            const char *b = empty(r, N_BOUNDARY) ? "" : places_boundary_check(fv(r, N_BOUNDARY), m->a, &why);
            if (!b) {
                bad(m, r, N_BOUNDARY, "%s", why);
                continue;
            }
            n->boundary = (char *)b;
        }
        r->rec = &n->base;
    }
}

/* ------------------------------------------------------------ departments */

static void departments_check(imp *m)
{
    table_rows *tb = &m->t[T(DEPARTMENTS)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip)
            continue;
        if (empty(r, D_CODE)) {
            bad(m, r, D_CODE, "missing: every department has a code (police, urban, ...)");
            continue;
        }
        if (!directory_dept_code_ok(fv(r, D_CODE)))
            bad(m, r, D_CODE, "\"%s\": a department code is 1-32 of a-z 0-9 _ - (it names the stream dept:<code>)",
                fv(r, D_CODE));
        else if (m->guessed && digits_only(fv(r, D_CODE)))
            /* code,name_zh,name_en is also the header of categories and
             * service classes without their other columns: a file of
             * numbers is not taken for departments unless said so. */
            bad(m, r, D_CODE,
                "\"%s\" is digits only: the header made this file departments; if it holds categories or "
                "service classes, say so (--table categories, --table service_classes), or --table departments "
                "if it is departments",
                fv(r, D_CODE));
        check_name(m, r, D_ZH);
        check_name(m, r, D_EN);
        check_scope(m, r, D_SCOPE);
        index_key(m, T(DEPARTMENTS), r, D_CODE, "department");
    }
}

static void departments_build(imp *m)
{
    table_rows *tb = &m->t[T(DEPARTMENTS)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip || r->bad)
            continue;
        Whistle__V1__Department *old = stored(m, T(DEPARTMENTS), fv(r, D_CODE), r);
        Whistle__V1__Department *d = arena_alloc(m->a, sizeof *d);
        if (old)
            *d = *old;
        else
            whistle__v1__department__init(d);
        d->code = (char *)fv(r, D_CODE);
        if (has(r, D_ZH))
            d->name_zh = (char *)fv(r, D_ZH);
        if (has(r, D_EN))
            d->name_en = (char *)fv(r, D_EN);
        if (has(r, D_SCOPE))
            d->scope = (char *)fv(r, D_SCOPE);
        r->rec = &d->base;
    }
}

/* ------------------------------------------------------------ categories */

/* Splits a departments cell: commas, semicolons, slashes, spaces or the
 * Chinese enumeration comma between codes. */
static size_t split_list(arena *a, const char *s, char ***out)
{
    size_t cap = 8, n = 0;
    char **v = arena_alloc(a, cap * sizeof *v);
    const char *p = s;
    while (*p) {
        if (*p == ',' || *p == ';' || *p == '/' || *p == ' ' || *p == '\t') {
            p++;
            continue;
        }
        if (strncmp(p, "、", strlen("、")) == 0 || strncmp(p, "，", strlen("，")) == 0) {
            p += 3;
            continue;
        }
        const char *st = p;
        while (*p && *p != ',' && *p != ';' && *p != '/' && *p != ' ' && *p != '\t' && strncmp(p, "、", 3) != 0 &&
               strncmp(p, "，", 3) != 0)
            p++;
        if (n == cap) {
            char **w = arena_alloc(a, 2 * cap * sizeof *w);
            memcpy(w, v, n * sizeof *v);
            v = w;
            cap *= 2;
        }
        v[n++] = arena_strndup(a, st, (size_t)(p - st));
    }
    *out = v;
    return n;
}

static const int limit_cols[4][2] = {
    { C_CHECK_IN, C_RESOLVE },
    { C_CHECK_IN_LOW, C_RESOLVE_LOW },
    { C_CHECK_IN_HIGH, C_RESOLVE_HIGH },
    { C_CHECK_IN_URGENT, C_RESOLVE_URGENT },
};
static const Whistle__V1__Priority limit_prio[4] = { WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED,
                                                     WHISTLE__V1__PRIORITY__PRIORITY_LOW,
                                                     WHISTLE__V1__PRIORITY__PRIORITY_HIGH,
                                                     WHISTLE__V1__PRIORITY__PRIORITY_URGENT };

static void categories_check(imp *m)
{
    table_rows *tb = &m->t[T(CATEGORIES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip)
            continue;
        const char *code = fv(r, C_CODE);
        if (empty(r, C_CODE)) {
            bad(m, r, C_CODE, "missing: every category has a code");
            continue;
        }
        size_t len = strlen(code);
        if (!digits_only(code) || (len != 2 && len != 4))
            bad(m, r, C_CODE, "\"%s\": a category code is 2 digits (major class) or 4 (major + minor)", code);
        check_name(m, r, C_ZH);
        check_name(m, r, C_EN);
        index_key(m, T(CATEGORIES), r, C_CODE, "category");
    }
}

static void categories_pass2(imp *m)
{
    table_rows *tb = &m->t[T(CATEGORIES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip || empty(r, C_CODE))
            continue;
        const char *code = fv(r, C_CODE);
        if (digits_only(code) && strlen(code) == 4) {
            char *major = arena_strndup(m->a, code, 2);
            if (!exists(m, T(CATEGORIES), major))
                bad(m, r, C_CODE, "its major class %s does not exist (neither in this file nor in the catalogue)",
                    major);
        }
        char **deps = NULL;
        size_t nd = 0;
        if (has(r, C_DEPTS)) {
            nd = split_list(m->a, fv(r, C_DEPTS), &deps);
            for (size_t k = 0; k < nd; k++) {
                if (!directory_dept_code_ok(deps[k]) || !exists(m, T(DEPARTMENTS), deps[k]))
                    bad(m, r, C_DEPTS, "department \"%s\" does not exist (neither in this file nor in the directory)",
                        deps[k]);
                for (size_t j = 0; j < k; j++)
                    if (strcmp(deps[j], deps[k]) == 0)
                        bad(m, r, C_DEPTS, "department \"%s\" is listed twice", deps[k]);
            }
        }
        Whistle__V1__TimeLimit lim[4][2];
        bool any_limit = false;
        for (int p = 0; p < 4; p++)
            for (int w = 0; w < 2; w++) {
                const char *why;
                int col = limit_cols[p][w];
                any_limit |= has(r, col);
                if (directory_limit_parse(fv(r, col), &lim[p][w], &why) < 0)
                    bad(m, r, col, "\"%s\": %s", fv(r, col), why);
            }
        uint32_t legacy[2] = { 0, 0 };
        static const uint32_t legacy_max[2] = { 7 * 24 * 60, 366 * 24 };
        for (int w = 0; w < 2; w++) {
            int col = w ? C_RESOLVE_HOURS : C_CHECK_IN_MINUTES;
            if (!has(r, col))
                continue;
            any_limit = true;
            char *end;
            errno = 0;
            unsigned long v = strtoul(fv(r, col), &end, 10);
            if (!digits_only(fv(r, col)) || errno || v > legacy_max[w])
                bad(m, r, col, "must be a whole number from 0 to %u", legacy_max[w]);
            else
                legacy[w] = (uint32_t)v;
            if (lim[0][w].amount)
                bad(m, r, col, "give %s or %s, not both", w ? "resolve" : "check_in",
                    w ? "resolve_hours" : "check_in_minutes");
        }
        check_scope(m, r, C_SCOPE);
        Whistle__V1__Stage **stages = NULL;
        size_t ns = 0;
        if (has(r, C_STAGES)) {
            const char *why;
            if (directory_stages_parse(fv(r, C_STAGES), m->a, &stages, &ns, &why) < 0)
                bad(m, r, C_STAGES, "\"%s\": %s", fv(r, C_STAGES), why);
        }
        Whistle__V1__CategoryAttribute **attrs = NULL;
        size_t na = 0;
        if (has(r, C_ATTRIBUTES)) {
            const char *why;
            if (attributes_parse(fv(r, C_ATTRIBUTES), m->a, &attrs, &na, &why) < 0)
                bad(m, r, C_ATTRIBUTES, "%s", why);
        }
        if (r->bad)
            continue;
        Whistle__V1__Category *old = stored(m, T(CATEGORIES), code, r);
        Whistle__V1__Category *k = arena_alloc(m->a, sizeof *k);
        if (old)
            *k = *old;
        else
            whistle__v1__category__init(k);
        k->code = (char *)code;
        if (has(r, C_ZH))
            k->name_zh = (char *)fv(r, C_ZH);
        if (has(r, C_EN))
            k->name_en = (char *)fv(r, C_EN);
        if (has(r, C_DEPTS)) {
            k->departments = deps;
            k->n_departments = nd;
        }
        if (has(r, C_STAGES)) {
            k->stages = stages;
            k->n_stages = ns;
        }
        if (has(r, C_SCOPE))
            k->scope = (char *)fv(r, C_SCOPE);
        if (has(r, C_ATTRIBUTES)) {
            k->attributes = attrs;
            k->n_attributes = na;
        }
        if (any_limit) {
            /* The limits are the row's: a limit it leaves empty is none. */
            for (int w = 0; w < 2; w++)
                if (legacy[w]) {
                    lim[0][w].amount = legacy[w];
                    lim[0][w].unit =
                        w ? WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS : WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES;
                }
            k->limits = arena_alloc(m->a, 4 * sizeof *k->limits);
            k->n_limits = 0;
            for (int p = 0; p < 4; p++) {
                if (!lim[p][0].amount && !lim[p][1].amount)
                    continue;
                Whistle__V1__PriorityLimits *pl = arena_alloc(m->a, sizeof *pl);
                whistle__v1__priority_limits__init(pl);
                pl->priority = limit_prio[p];
                pl->check_in = arena_alloc(m->a, sizeof *pl->check_in);
                *pl->check_in = lim[p][0];
                pl->resolve = arena_alloc(m->a, sizeof *pl->resolve);
                *pl->resolve = lim[p][1];
                k->limits[k->n_limits++] = pl;
            }
            directory_category_mirror(k);
        }
        r->rec = &k->base;
    }
}

/* ------------------------------------------------------------ principals */

static void principals_check(imp *m)
{
    table_rows *tb = &m->t[T(PRINCIPALS)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip)
            continue;
        if (empty(r, P_NAME)) {
            bad(m, r, P_NAME, "missing: the subject CN of the principal's certificate");
            continue;
        }
        if (!ident_ok(fv(r, P_NAME), 64))
            bad(m, r, P_NAME,
                "\"%s\": a principal name (the certificate CN) is 1-64 printable ASCII characters without spaces",
                fv(r, P_NAME));
        index_key(m, T(PRINCIPALS), r, P_NAME, "principal");
    }
}

/* Whether a gateway may list the principal named (its role as this file
 * makes it, else as the directory has it): never an admin or a gateway. */
static bool act_for_role_ok(imp *m, const char *name)
{
    row *r = in_file(m, T(PRINCIPALS), name);
    Whistle__V1__Role role = 0;
    if (r && has(r, P_ROLE) && !empty(r, P_ROLE) && directory_role_parse(fv(r, P_ROLE), &role))
        return authz_may_be_acted_for(role);
    const Whistle__V1__Principal *p = stored(m, T(PRINCIPALS), name, NULL);
    return !p || authz_may_be_acted_for(p->role);
}

static void principals_pass2(imp *m)
{
    table_rows *tb = &m->t[T(PRINCIPALS)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip || empty(r, P_NAME))
            continue;
        Whistle__V1__Principal *old = stored(m, T(PRINCIPALS), fv(r, P_NAME), r);
        Whistle__V1__Principal *p = arena_alloc(m->a, sizeof *p);
        if (old)
            *p = *old;
        else {
            whistle__v1__principal__init(p);
            p->enabled = true;
        }
        p->name = (char *)fv(r, P_NAME);
        if (has(r, P_ROLE) || !old) {
            if (empty(r, P_ROLE))
                bad(m, r, P_ROLE,
                    "missing: admin, operator, department, grid_worker, community, kiosk, "
                    "integration, sensor, gateway, volunteer or representative");
            else if (!directory_role_parse(fv(r, P_ROLE), &p->role))
                bad(m, r, P_ROLE,
                    "\"%s\" is not one of admin, operator, department, grid_worker, community, kiosk, "
                    "integration, sensor, gateway, volunteer, representative",
                    fv(r, P_ROLE));
        }
        if (has(r, P_SCOPE) || !old) {
            /* one place, or several (a grid worker with several grids,
             * 一员多格): the first is the scope, the others extra scopes */
            char **codes = NULL;
            size_t nc = empty(r, P_SCOPE) ? 0 : split_list(m->a, fv(r, P_SCOPE), &codes);
            bool ok = nc > 0;
            if (!nc)
                bad(m, r, P_SCOPE, "missing: the code of the place the principal reaches");
            for (size_t k = 0; k < nc; k++) {
                if (!digits_only(codes[k]) || !exists(m, T(NODES), codes[k])) {
                    bad(m, r, P_SCOPE, "node %s does not exist (neither in this file nor in the directory)", codes[k]);
                    ok = false;
                }
                for (size_t j = 0; j < k; j++)
                    if (strcmp(codes[j], codes[k]) == 0) {
                        bad(m, r, P_SCOPE, "node %s is listed twice", codes[k]);
                        ok = false;
                    }
            }
            if (ok) {
                p->scope = codes[0];
                p->extra_scopes = codes + 1;
                p->n_extra_scopes = nc - 1;
            }
        }
        if (has(r, P_DEPT))
            p->department = (char *)fv(r, P_DEPT);
        if (p->n_extra_scopes && p->role && p->role != WHISTLE__V1__ROLE__ROLE_GRID_WORKER &&
            p->role != WHISTLE__V1__ROLE__ROLE_COMMUNITY)
            bad(m, r, P_SCOPE, "%s has one place; several are for grid and community workers (一员多格)",
                role_a(p->role));
        if (p->role == WHISTLE__V1__ROLE__ROLE_DEPARTMENT) {
            if (!*str0(p->department))
                bad(m, r, P_DEPT, "missing: a department principal names its department");
            else if (!exists(m, T(DEPARTMENTS), p->department))
                bad(m, r, P_DEPT, "department \"%s\" does not exist (neither in this file nor in the directory)",
                    p->department);
        } else if (p->role && *str0(p->department)) {
            bad(m, r, P_DEPT, "only a department principal has a department (this one is %s)", role_a(p->role));
        }
        if (has(r, P_ACT_FOR)) {
            char **names = NULL;
            size_t nn = empty(r, P_ACT_FOR) ? 0 : split_list(m->a, fv(r, P_ACT_FOR), &names);
            for (size_t k = 0; k < nn; k++) {
                if (strcmp(names[k], p->name) == 0)
                    bad(m, r, P_ACT_FOR, "a gateway does not list itself");
                else if (!ident_ok(names[k], 64) || !exists(m, T(PRINCIPALS), names[k]))
                    bad(m, r, P_ACT_FOR, "%.64s is not a principal (neither in this file nor in the directory)",
                        names[k]);
                else if (!act_for_role_ok(m, names[k]))
                    bad(m, r, P_ACT_FOR, "%s is an admin or a gateway; a gateway never acts for those", names[k]);
                for (size_t j = 0; j < k; j++)
                    if (strcmp(names[j], names[k]) == 0)
                        bad(m, r, P_ACT_FOR, "%s is listed twice", names[k]);
            }
            p->act_for = names;
            p->n_act_for = nn;
        }
        if (p->n_act_for && p->role && p->role != WHISTLE__V1__ROLE__ROLE_GATEWAY)
            bad(m, r, P_ACT_FOR, "only a gateway acts for other principals (this one is %s)", role_a(p->role));
        if (has(r, P_ENABLED)) {
            bool b;
            if (parse_bool(fv(r, P_ENABLED), &b) < 0)
                bad(m, r, P_ENABLED, "\"%s\": use true or false (empty: true)", fv(r, P_ENABLED));
            else
                p->enabled = *fv(r, P_ENABLED) ? b : true;
        }
        if (!r->bad)
            r->rec = &p->base;
    }
}

/* ------------------------------------------------------------ the service catalogue */

/* A text of the guide: at most max bytes, and no control characters but
 * the line breaks a spreadsheet cell may hold (multiline only). UTF-8 was
 * checked when the file was read. */
static void check_guide_text(imp *m, row *r, int field, size_t max, bool multiline)
{
    const char *s = fv(r, field);
    if (!s)
        return;
    size_t n = strlen(s);
    if (n > max) {
        bad(m, r, field, "%zu bytes; at most %zu", n, max);
        return;
    }
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if ((*p < 0x20 || *p == 0x7f) && !(multiline && (*p == '\n' || *p == '\r' || *p == '\t'))) {
            bad(m, r, field, "contains a control character (0x%02x)%s", *p,
                multiline ? "; line breaks are allowed" : "; keep it on one line");
            return;
        }
}

static bool parse_retired(imp *m, row *r, int field)
{
    bool b;
    if (has(r, field) && parse_bool(fv(r, field), &b) < 0) {
        bad(m, r, field, "\"%s\": use true or false (or leave it empty)", fv(r, field));
        return false;
    }
    return true;
}

static void sclasses_check(imp *m)
{
    table_rows *tb = &m->t[T(SERVICE_CLASSES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip)
            continue;
        if (empty(r, SC_CODE)) {
            bad(m, r, SC_CODE, "missing: every service class has a code (2 digits)");
            r->skip = true;
            continue;
        }
        if (!directory_class_code_ok(fv(r, SC_CODE)))
            bad(m, r, SC_CODE, "\"%s\": a service class code is 2 digits (01..99)", fv(r, SC_CODE));
        check_guide_text(m, r, SC_ZH, NAME_MAX_BYTES, false);
        check_guide_text(m, r, SC_EN, NAME_MAX_BYTES, false);
        parse_retired(m, r, SC_RETIRED);
        check_scope(m, r, SC_SCOPE);
        index_key(m, T(SERVICE_CLASSES), r, SC_CODE, "service class");
    }
}

static void sclasses_build(imp *m)
{
    table_rows *tb = &m->t[T(SERVICE_CLASSES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip || r->bad)
            continue;
        Whistle__V1__ServiceClass *old = stored(m, T(SERVICE_CLASSES), fv(r, SC_CODE), r);
        Whistle__V1__ServiceClass *k = arena_alloc(m->a, sizeof *k);
        if (old)
            *k = *old;
        else
            whistle__v1__service_class__init(k);
        k->code = (char *)fv(r, SC_CODE);
        if (has(r, SC_ZH))
            k->name_zh = (char *)fv(r, SC_ZH);
        if (has(r, SC_EN))
            k->name_en = (char *)fv(r, SC_EN);
        if (has(r, SC_RETIRED)) {
            bool b = false;
            parse_bool(fv(r, SC_RETIRED), &b);
            k->retired = b;
        }
        if (has(r, SC_SCOPE))
            k->scope = (char *)fv(r, SC_SCOPE);
        if (!*str0(k->name_zh)) {
            bad(m, r, SC_ZH, "missing: a service class needs its Chinese name (name_zh)");
            continue;
        }
        r->rec = &k->base;
    }
}

/* Whether a service class is in the file or the store, and whether it is
 * (or will be) retired. */
static bool sclass_info(imp *m, const char *code, bool *retired)
{
    row *r = in_file(m, T(SERVICE_CLASSES), code);
    Whistle__V1__ServiceClass *s = stored(m, T(SERVICE_CLASSES), code, NULL);
    if (!r && !s)
        return false;
    bool b = s && s->retired;
    if (r && has(r, SC_RETIRED))
        parse_bool(fv(r, SC_RETIRED), &b);
    *retired = b;
    return true;
}

static void services_check(imp *m)
{
    table_rows *tb = &m->t[T(SERVICES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip)
            continue;
        if (empty(r, S_CODE)) {
            bad(m, r, S_CODE, "missing: every service has a code (4 digits: its class's 2 + 2)");
            r->skip = true;
            continue;
        }
        const char *code = fv(r, S_CODE);
        if (!directory_service_code_ok(code)) {
            bad(m, r, S_CODE, "\"%s\": a service code is 4 digits, its class's 2 and 2 of its own (0101)", code);
            r->skip = true; /* its class cannot be told */
        }
        for (int f = S_ZH; f <= S_HOW_EN; f++) {
            bool paragraph = f == S_BRING_ZH || f == S_BRING_EN || f == S_HOW_ZH || f == S_HOW_EN;
            check_guide_text(m, r, f, paragraph ? TEXT_MAX_BYTES : NAME_MAX_BYTES, paragraph);
        }
        parse_retired(m, r, S_RETIRED);
        index_key(m, T(SERVICES), r, S_CODE, "service");
    }
}

static void services_pass2(imp *m)
{
    table_rows *tb = &m->t[T(SERVICES)];
    for (size_t i = 0; i < tb->n; i++) {
        row *r = &tb->rows[i];
        if (r->skip)
            continue;
        const char *code = fv(r, S_CODE);
        char *cls = arena_strndup(m->a, code, 2);
        Whistle__V1__ServiceItem *old = stored(m, T(SERVICES), code, r);
        if (!empty(r, S_CLASS) && strcmp(fv(r, S_CLASS), cls) != 0)
            bad(m, r, S_CLASS, "the class of service %s is %s (its first 2 digits); this row says %s", code, cls,
                fv(r, S_CLASS));
        bool cls_retired = false;
        if (!sclass_info(m, cls, &cls_retired)) {
            bad(m, r, S_CODE, "its class %s does not exist (neither in this file nor in the catalogue)", cls);
        } else if (cls_retired && !old) {
            bool b = false;
            if (!(has(r, S_RETIRED) && parse_bool(fv(r, S_RETIRED), &b) == 0 && b))
                bad(m, r, S_CODE, "its class %s is retired: a retired class takes no new services", cls);
        }
        const char *dept = fv(r, S_DEPT);
        if (dept && *dept && (!directory_dept_code_ok(dept) || !exists(m, T(DEPARTMENTS), dept)))
            bad(m, r, S_DEPT, "department \"%s\" does not exist (neither in this file nor in the directory)", dept);
        check_scope(m, r, S_SCOPE);
        if (r->bad)
            continue;
        Whistle__V1__ServiceItem *it = arena_alloc(m->a, sizeof *it);
        if (old)
            *it = *old;
        else
            whistle__v1__service_item__init(it);
        it->code = (char *)code;
        it->class_code = cls;
        /* the texts the file has; the others stay as they are */
        static const int cols[] = { S_ZH,       S_EN,       S_WHERE_ZH, S_WHERE_EN, S_HOURS_ZH, S_HOURS_EN,
                                    S_BRING_ZH, S_BRING_EN, S_HOW_ZH,   S_HOW_EN,   S_DEPT };
        char **slots[] = { &it->name_zh,  &it->name_en,  &it->where_zh, &it->where_en, &it->hours_zh,  &it->hours_en,
                           &it->bring_zh, &it->bring_en, &it->how_zh,   &it->how_en,   &it->department };
        for (size_t k = 0; k < sizeof cols / sizeof *cols; k++)
            if (has(r, cols[k]))
                *slots[k] = (char *)fv(r, cols[k]);
        if (has(r, S_RETIRED)) {
            bool b = false;
            parse_bool(fv(r, S_RETIRED), &b);
            it->retired = b;
        }
        if (has(r, S_SCOPE))
            it->scope = (char *)fv(r, S_SCOPE);
        if (!*str0(it->name_zh)) {
            bad(m, r, S_ZH, "missing: a service needs its Chinese name (name_zh)");
            continue;
        }
        r->rec = &it->base;
    }
}

/* ------------------------------------------------------------ apply */

static const char *row_key(int t, const row *r) { return fv(r, t == T(PRINCIPALS) ? P_NAME : 0); }

/* The audit log's target for a record: its key, but the catalogue's codes
 * are prefixed, as they have the shape of category codes. */
static const char *audit_target(arena *a, int t, const char *key)
{
    if (t == T(SERVICE_CLASSES))
        return arena_printf(a, "service_class:%s", key);
    if (t == T(SERVICES))
        return arena_printf(a, "service:%s", key);
    return key;
}

static int apply(imp *m)
{
    for (int t = 1; t < DIRIO_TABLES; t++) {
        table_rows *tb = &m->t[t];
        MDB_dbi dbi = table_dbi(m->st, t);
        for (size_t i = 0; i < tb->n; i++) {
            row *r = &tb->rows[i];
            if (!r->rec)
                continue;
            size_t n = protobuf_c_message_get_packed_size(r->rec);
            uint8_t *packed = arena_alloc(m->a, n ? n : 1);
            protobuf_c_message_pack(r->rec, packed);
            if (r->before && r->before_len == n && memcmp(r->before, packed, n) == 0) {
                m->r->unchanged[t]++;
                continue;
            }
            if (r->before)
                m->r->updated[t]++;
            else
                m->r->added[t]++;
            if (m->o->dry_run)
                continue;
            const char *key = row_key(t, r);
            MDB_val k = { strlen(key), (void *)key }, v = { n, packed };
            int rc = mdb_put(m->txn, dbi, &k, &v, 0);
            if (!rc && t == T(NODES))
                rc = places_touch(m->st, m->txn);
            if (!rc)
                rc = audit_append(m->st, m->txn, m->o->now, m->o->principal, m->o->call, audit_target(m->a, t, key),
                                  r->before, r->before_len, r->rec);
            if (rc)
                return rc;
        }
    }
    return 0;
}

/* An import must leave someone who can administer: at least one enabled
 * admin among the principals as they will be. */
static void check_admin_left(imp *m)
{
    table_rows *tb = &m->t[T(PRINCIPALS)];
    if (!tb->n)
        return;
    for (size_t i = 0; i < tb->n; i++) {
        const Whistle__V1__Principal *p = (const Whistle__V1__Principal *)tb->rows[i].rec;
        if (p && p->enabled && p->role == WHISTLE__V1__ROLE__ROLE_ADMIN)
            return;
    }
    MDB_cursor *cur;
    if (mdb_cursor_open(m->txn, m->st->principals, &cur))
        return;
    MDB_val k, v;
    int rc;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        Whistle__V1__Principal *p = whistle__v1__principal__unpack(arena_allocator(m->a), v.mv_size, v.mv_data);
        char *name = arena_strndup(m->a, k.mv_data, k.mv_size);
        if (p && p->enabled && p->role == WHISTLE__V1__ROLE__ROLE_ADMIN && !in_file(m, T(PRINCIPALS), name)) {
            mdb_cursor_close(cur);
            return;
        }
    }
    mdb_cursor_close(cur);
    bad_file(m, "the principals would leave no enabled admin: keep at least one (nobody could administer the "
                "directory otherwise)");
}

int dirio_import(store *st, MDB_txn *txn, arena *a, const void *data, size_t len, const dirio_opts *o, dirio_result *r)
{
    memset(r, 0, sizeof *r);
    imp m = { .st = st, .txn = txn, .a = a, .o = o, .r = r };
    r->csv = o->format != WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    if (r->csv)
        load_csv(&m, data, len);
    else
        load_json(&m, data, len);
    nodes_pass1(&m);
    departments_check(&m);
    categories_check(&m);
    principals_check(&m);
    sclasses_check(&m);
    services_check(&m);
    nodes_pass2(&m);
    departments_build(&m);
    categories_pass2(&m);
    principals_pass2(&m);
    sclasses_build(&m);
    services_pass2(&m);
    if (!r->n_errors)
        check_admin_left(&m);
    r->notes = (const char **)m.notes.items;
    r->n_notes = m.notes.n;
    int rc = 0;
    if (!r->n_errors)
        rc = apply(&m);
    r->errors = errors_text(&m);
    if (rc)
        return rc;
    return r->n_errors ? 1 : 0;
}

/* ------------------------------------------------------------ seed */

static char *slurp(const char *path, size_t *len, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "seed %s: cannot open: %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) {
            fclose(f);
            snprintf(err, errlen, "seed %s: out of memory", path);
            return NULL;
        }
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        char *b = realloc(buf, cap);
        if (!b)
            free(buf);
        buf = b;
    }
    bool failed = ferror(f);
    fclose(f);
    if (failed) {
        free(buf);
        snprintf(err, errlen, "seed %s: read error", path);
        return NULL;
    }
    *len = n;
    return buf;
}

int dirio_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen)
{
    MDB_txn *txn;
    int rc = store_write_begin(st, &txn);
    if (rc) {
        snprintf(err, errlen, "seed %s: store: %s", path, store_strerror(rc));
        return -1;
    }
    if (!store_db_empty(txn, st->nodes)) {
        /* Seeding is for a new store; the directory then changes by calls. */
        mdb_txn_commit(txn); /* keeps any denials store_write_begin flushed */
        return 0;
    }
    size_t len = 0;
    char *data = slurp(path, &len, err, errlen);
    if (!data) {
        mdb_txn_abort(txn);
        return -1;
    }
    /* A seed is a whole city: make room for it before the transaction. */
    mdb_txn_abort(txn);
    store_reserve(st, 24 * len);
    rc = store_write_begin(st, &txn);
    if (rc) {
        free(data);
        snprintf(err, errlen, "seed %s: store: %s", path, store_strerror(rc));
        return -1;
    }
    arena *a = arena_new();
    dirio_opts o = {
        .format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON, .principal = "whistled", .call = "seed", .now = now_ms
    };
    dirio_result r;
    rc = dirio_import(st, txn, a, data, len, &o, &r);
    free(data);
    if (rc == 0 && r.added[T(NODES)] == 0) {
        r.errors = "no nodes: the seed needs at least the district";
        rc = 1;
    }
    if (rc == 0) {
        rc = mdb_txn_commit(txn);
        txn = NULL;
        if (rc) {
            snprintf(err, errlen, "seed %s: store: %s; nothing was loaded", path, store_strerror(rc));
            rc = -1;
        }
    } else if (rc == 1) {
        /* The first errors, on one line, as far as they fit. */
        char *one = arena_strdup(a, r.errors);
        for (char *p = one; *p; p++)
            if (*p == '\n')
                *p = ';';
        snprintf(err, errlen, "seed %s: %s%s; nothing was loaded", path, one,
                 r.n_errors > 1 ? arena_printf(a, " (%zu errors)", r.n_errors) : "");
        rc = -1;
    } else {
        snprintf(err, errlen, "seed %s: store: %s; nothing was loaded", path, store_strerror(rc));
        rc = -1;
    }
    if (txn)
        mdb_txn_abort(txn);
    arena_free(a);
    return rc;
}

/* ------------------------------------------------------------ export */

static const char *cat_limit(arena *a, const Whistle__V1__Category *k, Whistle__V1__Priority p, int which)
{
    if (p == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED) {
        Whistle__V1__PriorityLimits *d = directory_limits_for(k, p, a);
        /* the default: what applies to a priority without its own entry */
        for (size_t i = 0; i < k->n_limits; i++)
            if (k->limits[i]->priority == WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED)
                return directory_limit_format(which ? k->limits[i]->resolve : k->limits[i]->check_in, a);
        if (k->n_limits)
            return "";
        return directory_limit_format(which ? d->resolve : d->check_in, a);
    }
    for (size_t i = 0; i < k->n_limits; i++)
        if (k->limits[i]->priority == p)
            return directory_limit_format(which ? k->limits[i]->resolve : k->limits[i]->check_in, a);
    return "";
}

static const char *join_depts(arena *a, const Whistle__V1__Category *k)
{
    const char *s = "";
    for (size_t i = 0; i < k->n_departments; i++)
        s = i ? arena_printf(a, "%s;%s", s, k->departments[i]) : k->departments[i];
    return s;
}

/* "scope;extra;extra", as the files write several places. */
static const char *all_scopes(arena *a, const Whistle__V1__Principal *p)
{
    const char *s = str0(p->scope);
    for (size_t i = 0; i < p->n_extra_scopes; i++)
        s = arena_printf(a, "%s;%s", s, p->extra_scopes[i]);
    return s;
}

/* A catalogue record's scope (departments, categories, service classes
 * and items), or NULL for the tables without one. */
static const char *scope_of(int t, const ProtobufCMessage *m)
{
    switch (t) {
    case T(DEPARTMENTS): return str0(((const Whistle__V1__Department *)m)->scope);
    case T(CATEGORIES): return str0(((const Whistle__V1__Category *)m)->scope);
    case T(SERVICE_CLASSES): return str0(((const Whistle__V1__ServiceClass *)m)->scope);
    case T(SERVICES): return str0(((const Whistle__V1__ServiceItem *)m)->scope);
    default: return NULL;
    }
}

/* The CSV columns a table has only when a record uses them, so that a
 * city that does not use them gets the files it always had: a scope
 * (catalogue tables), and the table's own optional column (EXTRA_OWN): a
 * node's boundary, a gateway's act_for, a category's attributes. */
#define EXTRA_SCOPE 1u
#define EXTRA_OWN 2u

static const char *own_extra(int t)
{
    return t == T(NODES) ? "boundary" : t == T(PRINCIPALS) ? "act_for" : t == T(CATEGORIES) ? "attributes" : NULL;
}

static bool uses_own(int t, const ProtobufCMessage *m)
{
    switch (t) {
    case T(NODES): return *str0(((const Whistle__V1__Node *)m)->boundary);
    case T(PRINCIPALS): return ((const Whistle__V1__Principal *)m)->n_act_for > 0;
    case T(CATEGORIES): return ((const Whistle__V1__Category *)m)->n_attributes > 0;
    default: return false;
    }
}

static unsigned table_scoped(store *st, MDB_txn *txn, arena *a, int t)
{
    bool scoped = t == T(DEPARTMENTS) || t == T(CATEGORIES) || t == T(SERVICE_CLASSES) || t == T(SERVICES);
    if (!scoped && !own_extra(t))
        return 0;
    MDB_cursor *cur;
    if (mdb_cursor_open(txn, table_dbi(st, t), &cur))
        return 0;
    MDB_val k, v;
    unsigned any = 0, want = (scoped ? EXTRA_SCOPE : 0) | (own_extra(t) ? EXTRA_OWN : 0);
    for (int rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); rc == 0 && any != want;
         rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        ProtobufCMessage *m = protobuf_c_message_unpack(table_desc(t), arena_allocator(a), v.mv_size, v.mv_data);
        if (m && scoped && *scope_of(t, m))
            any |= EXTRA_SCOPE;
        if (m && uses_own(t, m))
            any |= EXTRA_OWN;
    }
    mdb_cursor_close(cur);
    return any;
}

static void csv_header(csv_buf *b, int t, unsigned scoped)
{
    static const char *const headers[DIRIO_TABLES] = {
        "",
        "code,parent_code,kind,name_zh,name_en,retired,successor",
        "code,name_zh,name_en",
        ("code,name_zh,name_en,departments,check_in,resolve,check_in_urgent,resolve_urgent,check_in_high,"
         "resolve_high,check_in_low,resolve_low,stages"),
        "name,role,scope,department,enabled",
        "code,name_zh,name_en,retired",
        ("code,class_code,name_zh,name_en,where_zh,where_en,hours_zh,hours_en,bring_zh,bring_en,how_zh,how_en,"
         "department,retired"),
    };
    csv_append(b, headers[t], strlen(headers[t]));
    if (scoped & EXTRA_SCOPE)
        csv_append(b, ",scope", 6);
    if (scoped & EXTRA_OWN) {
        csv_append(b, ",", 1);
        csv_append(b, own_extra(t), strlen(own_extra(t)));
    }
    csv_end_record(b);
}

static void csv_row(csv_buf *b, arena *a, int t, const ProtobufCMessage *m, unsigned scoped)
{
    switch (t) {
    case T(NODES): {
        const Whistle__V1__Node *n = (const void *)m;
        const char *f[] = { n->code,     n->parent,  directory_kind_name(n->kind),
                            n->name_zh,  n->name_en, n->retired ? "true" : "",
                            n->successor };
        for (size_t i = 0; i < 7; i++)
            csv_put(b, f[i], i == 0);
        break;
    }
    case T(DEPARTMENTS): {
        const Whistle__V1__Department *d = (const void *)m;
        csv_put(b, d->code, true);
        csv_put(b, d->name_zh, false);
        csv_put(b, d->name_en, false);
        break;
    }
    case T(CATEGORIES): {
        const Whistle__V1__Category *k = (const void *)m;
        csv_put(b, k->code, true);
        csv_put(b, k->name_zh, false);
        csv_put(b, k->name_en, false);
        csv_put(b, join_depts(a, k), false);
        for (int p = 0; p < 4; p++) {
            static const int order[4] = { 0, 3, 2, 1 }; /* default, urgent, high, low: as the header */
            csv_put(b, cat_limit(a, k, limit_prio[order[p]], 0), false);
            csv_put(b, cat_limit(a, k, limit_prio[order[p]], 1), false);
        }
        csv_put(b, directory_stages_format(k, a), false);
        break;
    }
    case T(PRINCIPALS): {
        const Whistle__V1__Principal *p = (const void *)m;
        csv_put(b, p->name, true);
        csv_put(b, role_name(p->role), false);
        csv_put(b, all_scopes(a, p), false);
        csv_put(b, p->department, false);
        csv_put(b, p->enabled ? "true" : "false", false);
        break;
    }
    case T(SERVICE_CLASSES): {
        const Whistle__V1__ServiceClass *k = (const void *)m;
        csv_put(b, k->code, true);
        csv_put(b, k->name_zh, false);
        csv_put(b, k->name_en, false);
        csv_put(b, k->retired ? "true" : "", false);
        break;
    }
    case T(SERVICES): {
        const Whistle__V1__ServiceItem *it = (const void *)m;
        const char *f[] = { it->code,       it->class_code,
                            it->name_zh,    it->name_en,
                            it->where_zh,   it->where_en,
                            it->hours_zh,   it->hours_en,
                            it->bring_zh,   it->bring_en,
                            it->how_zh,     it->how_en,
                            it->department, it->retired ? "true" : "" };
        for (size_t i = 0; i < sizeof f / sizeof *f; i++)
            csv_put(b, f[i], i == 0);
        break;
    }
    }
    if (scoped & EXTRA_SCOPE)
        csv_put(b, scope_of(t, m), false);
    if (scoped & EXTRA_OWN) {
        const char *own = "";
        if (t == T(NODES))
            own = str0(((const Whistle__V1__Node *)m)->boundary);
        else if (t == T(PRINCIPALS)) {
            const Whistle__V1__Principal *p = (const void *)m;
            for (size_t i = 0; i < p->n_act_for; i++)
                own = i ? arena_printf(a, "%s;%s", own, p->act_for[i]) : p->act_for[i];
        } else if (uses_own(t, m)) {
            json_t *j = attributes_json((const Whistle__V1__Category *)m);
            char *text = json_dumps(j, JSON_COMPACT);
            json_decref(j);
            own = text ? arena_strdup(a, text) : "";
            free(text);
        }
        csv_put(b, own, false);
    }
    csv_end_record(b);
}

static json_t *json_row(arena *a, int t, const ProtobufCMessage *m)
{
    json_t *o = json_object();
    switch (t) {
    case T(NODES): {
        const Whistle__V1__Node *n = (const void *)m;
        json_object_set_new(o, "code", json_string(n->code));
        json_object_set_new(o, "parent", json_string(str0(n->parent)));
        json_object_set_new(o, "kind", json_string(directory_kind_name(n->kind)));
        json_object_set_new(o, "name_zh", json_string(str0(n->name_zh)));
        json_object_set_new(o, "name_en", json_string(str0(n->name_en)));
        if (n->retired)
            json_object_set_new(o, "retired", json_true());
        if (*str0(n->successor))
            json_object_set_new(o, "successor", json_string(n->successor));
        if (*str0(n->boundary)) {
            json_t *b = json_loads(n->boundary, 0, NULL);
            json_object_set_new(o, "boundary", b ? b : json_string(n->boundary));
        }
        break;
    }
    case T(DEPARTMENTS): {
        const Whistle__V1__Department *d = (const void *)m;
        json_object_set_new(o, "code", json_string(d->code));
        json_object_set_new(o, "name_zh", json_string(str0(d->name_zh)));
        json_object_set_new(o, "name_en", json_string(str0(d->name_en)));
        break;
    }
    case T(CATEGORIES): {
        const Whistle__V1__Category *k = (const void *)m;
        json_object_set_new(o, "code", json_string(k->code));
        json_object_set_new(o, "name_zh", json_string(str0(k->name_zh)));
        json_object_set_new(o, "name_en", json_string(str0(k->name_en)));
        if (k->n_departments) {
            json_t *d = json_array();
            for (size_t i = 0; i < k->n_departments; i++)
                json_array_append_new(d, json_string(k->departments[i]));
            json_object_set_new(o, "departments", d);
        }
        static const char *const names[4][2] = { { "check_in", "resolve" },
                                                 { "check_in_low", "resolve_low" },
                                                 { "check_in_high", "resolve_high" },
                                                 { "check_in_urgent", "resolve_urgent" } };
        for (int p = 0; p < 4; p++)
            for (int w = 0; w < 2; w++) {
                const char *v = cat_limit(a, k, limit_prio[p], w);
                if (*v)
                    json_object_set_new(o, names[p][w], json_string(v));
            }
        if (k->n_stages)
            json_object_set_new(o, "stages", json_string(directory_stages_format(k, a)));
        if (k->n_attributes)
            json_object_set_new(o, "attributes", attributes_json(k));
        break;
    }
    case T(PRINCIPALS): {
        const Whistle__V1__Principal *p = (const void *)m;
        json_object_set_new(o, "name", json_string(p->name));
        json_object_set_new(o, "role", json_string(role_name(p->role)));
        json_object_set_new(o, "scope", json_string(all_scopes(a, p)));
        if (*str0(p->department))
            json_object_set_new(o, "department", json_string(p->department));
        json_object_set_new(o, "enabled", json_boolean(p->enabled));
        if (p->n_act_for) {
            json_t *l = json_array();
            for (size_t i = 0; i < p->n_act_for; i++)
                json_array_append_new(l, json_string(p->act_for[i]));
            json_object_set_new(o, "act_for", l);
        }
        break;
    }
    case T(SERVICE_CLASSES): {
        const Whistle__V1__ServiceClass *k = (const void *)m;
        json_object_set_new(o, "code", json_string(k->code));
        json_object_set_new(o, "name_zh", json_string(str0(k->name_zh)));
        json_object_set_new(o, "name_en", json_string(str0(k->name_en)));
        if (k->retired)
            json_object_set_new(o, "retired", json_true());
        break;
    }
    case T(SERVICES): {
        const Whistle__V1__ServiceItem *it = (const void *)m;
        json_object_set_new(o, "code", json_string(it->code));
        json_object_set_new(o, "class_code", json_string(str0(it->class_code)));
        const char *keys[] = { "name_zh",  "name_en",  "where_zh", "where_en", "hours_zh",
                               "hours_en", "bring_zh", "bring_en", "how_zh",   "how_en" };
        const char *vals[] = { it->name_zh,  it->name_en,  it->where_zh, it->where_en, it->hours_zh,
                               it->hours_en, it->bring_zh, it->bring_en, it->how_zh,   it->how_en };
        for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
            if (i < 2 || *str0(vals[i]))
                json_object_set_new(o, keys[i], json_string(str0(vals[i])));
        if (*str0(it->department))
            json_object_set_new(o, "department", json_string(it->department));
        if (it->retired)
            json_object_set_new(o, "retired", json_true());
        break;
    }
    }
    const char *scope = scope_of(t, m);
    if (scope && *scope)
        json_object_set_new(o, "scope", json_string(scope));
    return o;
}

int dirio_export(store *st, MDB_txn *txn, arena *a, Whistle__V1__DataFormat format, Whistle__V1__DirectoryTable table,
                 const char *under, const char *cursor, size_t budget, csv_buf *out, const char **next, uint32_t *rows,
                 const char **why)
{
    bool json = format == WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    under = str0(under);
    cursor = str0(cursor);
    *next = "";
    *rows = 0;
    if (table < 0 || table >= DIRIO_TABLES) {
        *why = "table is one of " TABLE_LIST;
        return 1;
    }
    if (*under && !digits_only(under)) {
        *why = "under is a node code (digits)";
        return 1;
    }
    int first = table ? (int)table : json ? 1 : (int)T(NODES);
    int last = table ? (int)table : json ? DIRIO_TABLES - 1 : (int)T(NODES);
    /* cursor: "<table>:<last key written>" */
    int t = first;
    const char *after = "";
    if (*cursor) {
        const char *colon = strchr(cursor, ':');
        if (!colon || colon == cursor || colon - cursor > 1 || cursor[0] < '1' || cursor[0] >= '0' + DIRIO_TABLES ||
            cursor[0] - '0' < first || cursor[0] - '0' > last) {
            *why = "cursor is not from this export; start again without one";
            return 1;
        }
        t = cursor[0] - '0';
        after = colon + 1;
    } else {
        if (json)
            csv_append(out, "{", 1);
        else
            csv_header(out, t, table_scoped(st, txn, a, t)); /* the first table's */
    }
    for (; t <= last; t++, after = "") {
        bool fresh = !*cursor || t != cursor[0] - '0';
        if (json && fresh) {
            const char *open = arena_printf(a, "%s\n\"%s\": [", t == first ? "" : ",", table_names[t]);
            csv_append(out, open, strlen(open));
            *next = arena_printf(a, "%d:", t); /* opened, no row yet */
        }
        MDB_dbi dbi = table_dbi(st, t);
        const ProtobufCMessageDescriptor *d = table_desc(t);
        unsigned scoped = json ? 0 : table_scoped(st, txn, a, t);
        MDB_cursor *cur;
        int rc = mdb_cursor_open(txn, dbi, &cur);
        if (rc)
            return rc;
        const char *start = *after ? after : t == T(NODES) ? under : "";
        MDB_val k = { strlen(start), (void *)start }, v;
        bool wrote_any = !fresh && *after;
        bool full = false;
        for (rc = mdb_cursor_get(cur, &k, &v, *start ? MDB_SET_RANGE : MDB_FIRST); rc == 0;
             rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
            if (*after && k.mv_size == strlen(after) && memcmp(k.mv_data, after, k.mv_size) == 0)
                continue;
            if (t == T(NODES) && *under && (k.mv_size < strlen(under) || memcmp(k.mv_data, under, strlen(under)) != 0))
                break;
            if (out->len >= budget) {
                full = true;
                break;
            }
            ProtobufCMessage *m = protobuf_c_message_unpack(d, arena_allocator(a), v.mv_size, v.mv_data);
            if (!m) {
                rc = MDB_CORRUPTED;
                break;
            }
            if (t == T(PRINCIPALS) && *under) {
                const Whistle__V1__Principal *p = (const void *)m;
                bool inside = scope_covers(under, p->scope);
                for (size_t i = 0; !inside && i < p->n_extra_scopes; i++)
                    inside = scope_covers(under, p->extra_scopes[i]);
                if (!inside)
                    continue;
            }
            if (json) {
                json_t *o = json_row(a, t, m);
                char *s = json_dumps(o, JSON_COMPACT);
                json_decref(o);
                csv_append(out, wrote_any ? ",\n  " : "\n  ", wrote_any ? 4 : 3);
                csv_append(out, s, strlen(s));
                free(s);
            } else {
                csv_row(out, a, t, m, scoped);
            }
            wrote_any = true;
            (*rows)++;
            *next = arena_printf(a, "%d:%.*s", t, (int)k.mv_size, (const char *)k.mv_data);
        }
        mdb_cursor_close(cur);
        if (rc && rc != MDB_NOTFOUND && !full)
            return rc;
        if (full)
            return 0; /* *next names the last row written */
        if (json)
            csv_append(out, "\n]", 2);
        *next = "";
        cursor = "";
    }
    if (json)
        csv_append(out, "\n}\n", 3);
    return 0;
}
