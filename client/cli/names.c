/* names.c: the names of places, categories and departments in the
 * locale's language (uitext_pick: name_zh or name_en, the other when that
 * one is empty), for the human output of what carries only codes: cases,
 * orders, supervision records, tasks, and statistics rows (which carry
 * only the Chinese name).
 *
 * Read from the directory on first need, after the command's own call,
 * with calls that print nothing: a name that cannot be had leaves the code
 * (or the row's own name) as it was. The tree is read one parent's
 * children at a time, and only where the server lets the caller read it
 * (inside its scope, or on the path above it): a refused call would be
 * audited as a denial, and nobody asked for one. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Enough for a page of cases from different grids; past it, codes. */
#define MAX_NODE_CALLS 64

typedef struct name_entry {
    char *code, *name;
} name_entry;

typedef struct name_set {
    name_entry *v;
    size_t n, cap;
} name_set;

struct cli_names {
    bool cats_tried, depts_tried;
    int kinds_tried; /* bit per NodeKind loaded whole */
    name_set cats, depts, nodes;
    name_set parents; /* parents whose children were asked for (name unused) */
    int node_calls;
};

static void set_add(name_set *s, const char *code, const char *name)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 32;
        name_entry *v = realloc(s->v, cap * sizeof *v);
        if (!v)
            return;
        s->v = v;
        s->cap = cap;
    }
    char *c = strdup(code ? code : ""), *n = strdup(name ? name : "");
    if (!c || !n) {
        free(c);
        free(n);
        return;
    }
    s->v[s->n].code = c;
    s->v[s->n].name = n;
    s->n++;
}

static const name_entry *set_find(const name_set *s, const char *code)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i].code, code) == 0)
            return &s->v[i];
    return NULL;
}

static void set_free(name_set *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->v[i].code);
        free(s->v[i].name);
    }
    free(s->v);
    memset(s, 0, sizeof *s);
}

static struct cli_names *names(cli *x)
{
    if (!x->names)
        x->names = calloc(1, sizeof *x->names);
    return x->names;
}

/* The call, or NULL on any failure, printing nothing. Only on the
 * connection the command already made. */
static Whistle__V1__Response *quiet_call(cli *x, Whistle__V1__Request *req)
{
    if (!x->client)
        return NULL;
    Whistle__V1__Response *resp = NULL;
    if (whistle_call(x->client, req, &resp) < 0)
        return NULL;
    if (whistle_response_code(resp) != WHISTLE__V1__STATUS__CODE__OK) {
        whistle_response_free(resp);
        return NULL;
    }
    return resp;
}

void cli_names_free(cli *x)
{
    struct cli_names *n = x->names;
    if (!n)
        return;
    set_free(&n->cats);
    set_free(&n->depts);
    set_free(&n->nodes);
    set_free(&n->parents);
    free(n);
    x->names = NULL;
}

/* The name of code in a directory list (categories, departments), the
 * list read into s on first need with the call call_case (its message
 * msg): every item's code and its name in the locale's language. */
static const char *list_name(cli *x, name_set *s, bool *tried, int call_case, void *msg, int result_case,
                             const char *items, const char *code)
{
    if (!code || !*code)
        return NULL;
    if (!*tried) {
        *tried = true;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        cli_request_set(&req, call_case, msg);
        Whistle__V1__Response *resp = quiet_call(x, &req);
        const ProtobufCMessage *r = resp ? cli_result(resp, result_case) : NULL;
        if (r) {
            size_t n;
            ProtobufCMessage **v = cli_items(r, items, &n);
            for (size_t i = 0; i < n; i++)
                set_add(s, cli_field_text(v[i], "code"),
                        uitext_pick(cli_field_text(v[i], "name_zh"), cli_field_text(v[i], "name_en")));
        }
        whistle_response_free(resp);
    }
    const name_entry *e = set_find(s, code);
    return e && *e->name ? e->name : NULL;
}

const char *cli_category_name(cli *x, const char *code)
{
    struct cli_names *n = names(x);
    Whistle__V1__ListCategories l = WHISTLE__V1__LIST_CATEGORIES__INIT;
    return n ? list_name(x, &n->cats, &n->cats_tried, CALL(LIST_CATEGORIES), &l, RESULT(CATEGORIES), "categories", code)
             : NULL;
}

const char *cli_department_name(cli *x, const char *code)
{
    struct cli_names *n = names(x);
    Whistle__V1__ListDepartments l = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
    return n ? list_name(x, &n->depts, &n->depts_tried, CALL(LIST_DEPARTMENTS), &l, RESULT(DEPARTMENTS), "departments",
                         code)
             : NULL;
}

static bool prefix_of(const char *p, const char *s) { return p && *p && strncmp(s, p, strlen(p)) == 0; }

/* Whether the server lets the caller list parent's children: an admin
 * anywhere, others inside their scopes and on the path above them (the
 * rule of list_nodes). */
static bool may_list(cli *x, const char *parent)
{
    const Whistle__V1__HelloResult *h = x->client ? whistle_hello(x->client) : NULL;
    const Whistle__V1__Principal *p = h ? h->principal : NULL;
    if (!p)
        return false;
    if (p->role == WHISTLE__V1__ROLE__ROLE_ADMIN)
        return true;
    if (prefix_of(p->scope, parent) || prefix_of(parent, p->scope))
        return true;
    for (size_t i = 0; i < p->n_extra_scopes; i++)
        if (prefix_of(p->extra_scopes[i], parent) || prefix_of(parent, p->extra_scopes[i]))
            return true;
    return false;
}

/* Lists nodes as l asks and keeps the names of those not yet known. */
static void add_nodes(cli *x, struct cli_names *n, Whistle__V1__ListNodes *l)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    cli_request_set(&req, CALL(LIST_NODES), l);
    Whistle__V1__Response *resp = quiet_call(x, &req);
    for (size_t i = 0; resp && resp->result_case == WHISTLE__V1__RESPONSE__RESULT_NODES && i < resp->nodes->n_nodes;
         i++) {
        const Whistle__V1__Node *nd = resp->nodes->nodes[i];
        if (!set_find(&n->nodes, nd->code))
            set_add(&n->nodes, nd->code, uitext_pick(nd->name_zh, nd->name_en));
    }
    whistle_response_free(resp);
}

const char *cli_node_name(cli *x, const char *code)
{
    struct cli_names *n = names(x);
    if (!n || !code || !*code)
        return NULL;
    const name_entry *e = set_find(&n->nodes, code);
    if (e)
        return *e->name ? e->name : NULL;
    /* Codes are the standard's: a parent's code and 3 digits of its own
     * (GB/T 30428). A code of another shape has no name here. */
    size_t len = strlen(code);
    if (len <= 6 || len > 18 || strspn(code, "0123456789") != len)
        return NULL;
    char parent[19];
    memcpy(parent, code, len - 3);
    parent[len - 3] = '\0';
    if (set_find(&n->parents, parent) || n->node_calls >= MAX_NODE_CALLS)
        return NULL;
    set_add(&n->parents, parent, "");
    if (!may_list(x, parent))
        return NULL;
    n->node_calls++;
    Whistle__V1__ListNodes l = WHISTLE__V1__LIST_NODES__INIT;
    l.parent = parent;
    add_nodes(x, n, &l);
    e = set_find(&n->nodes, code);
    return e && *e->name ? e->name : NULL;
}

void cli_names_load_kind(cli *x, Whistle__V1__NodeKind kind)
{
    struct cli_names *n = names(x);
    if (!n || kind <= 0 || kind > 30 || (n->kinds_tried & (1 << kind)))
        return;
    n->kinds_tried |= 1 << kind;
    Whistle__V1__ListNodes l = WHISTLE__V1__LIST_NODES__INIT;
    l.kind = kind;
    add_nodes(x, n, &l);
}

const char *cli_or(const char *name, const char *code) { return name && *name ? name : code ? code : ""; }
