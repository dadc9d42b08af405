/* call.c: the one shape most commands have, driven by their table rows.
 *
 * A row names the call (the Request's call_case), binds arguments to the
 * fields of the call's message by their proto names, may add a builder for
 * what a binding cannot say, and names a printer or a listing. From that,
 * cli_call_run makes the request, calls, and prints: --json the result as
 * it is, else the printer, or the listing's table (-q: its ids). A paged
 * listing goes through cli_pages, the one pagination loop, which export
 * uses too. Fields are reached through protobuf-c's descriptors, so a row
 * is data; a name that is not in the proto is a bug in a table, caught by
 * the asserts the first time the command runs. */
#include <assert.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int out_of_memory(void) { return cli_fail(EXIT_CONN, "%s", _("out of memory")); }

static void message_release(void *p) { free(p); }

/* Freed with a, alone: the strings it points to are the arguments', not
 * its own. */
void *cli_new(args *a, const ProtobufCMessageDescriptor *d)
{
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (!m)
        return NULL;
    protobuf_c_message_init(d, m);
    return cli_keep(a, m, message_release);
}

static const ProtobufCFieldDescriptor *field_named(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    assert(f && "a command table names a field its message does not have");
    return f;
}

/* The message of the oneof member numbered member_case, or NULL. */
static void **member_at(const ProtobufCMessageDescriptor *d, void *m, int member_case)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, (unsigned)member_case);
    assert(f && f->type == PROTOBUF_C_TYPE_MESSAGE);
    return (void **)((char *)m + f->offset);
}

void cli_request_set(Whistle__V1__Request *req, int call_case, void *msg)
{
    req->call_case = (Whistle__V1__Request__CallCase)call_case;
    *member_at(&whistle__v1__request__descriptor, req, call_case) = msg;
}

void *cli_request_new(Whistle__V1__Request *req, int call_case, args *a)
{
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, (unsigned)call_case);
    assert(f && f->type == PROTOBUF_C_TYPE_MESSAGE);
    ProtobufCMessage *m = cli_new(a, f->descriptor);
    if (m)
        cli_request_set(req, call_case, m);
    return m;
}

const ProtobufCMessage *cli_result(const Whistle__V1__Response *resp, int result_case)
{
    if (resp->result_case == WHISTLE__V1__RESPONSE__RESULT__NOT_SET ||
        (result_case && (int)resp->result_case != result_case))
        return NULL;
    return *member_at(&whistle__v1__response__descriptor, (void *)resp, (int)resp->result_case);
}

void cli_print_json(const Whistle__V1__Response *resp)
{
    const ProtobufCMessage *m = cli_result(resp, 0);
    cli_json_print(m ? cli_json_message(m) : json_object());
}

ProtobufCMessage **cli_items(const ProtobufCMessage *result, const char *field, size_t *n)
{
    const ProtobufCFieldDescriptor *f = field_named(result, field);
    assert(f->label == PROTOBUF_C_LABEL_REPEATED && f->type == PROTOBUF_C_TYPE_MESSAGE);
    *n = *(const size_t *)((const char *)result + f->quantifier_offset);
    return *(ProtobufCMessage * *const *)((const char *)result + f->offset);
}

const char *cli_field_text(const ProtobufCMessage *m, const char *field)
{
    const ProtobufCFieldDescriptor *f = field_named(m, field);
    assert(f->type == PROTOBUF_C_TYPE_STRING && f->label != PROTOBUF_C_LABEL_REPEATED);
    const char *s = *(char *const *)((const char *)m + f->offset);
    return s ? s : "";
}

/* ---------------------------------------------------------------- bindings */

/* The field at path ("code", "node.code") of m: its message in *owner and
 * its descriptor, the messages on the way made on first use. NULL when out
 * of memory. */
static const ProtobufCFieldDescriptor *field_path(ProtobufCMessage *m, const char *path, args *a,
                                                  ProtobufCMessage **owner)
{
    for (;;) {
        const char *dot = strchr(path, '.');
        char part[64];
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        assert(n < sizeof part);
        memcpy(part, path, n);
        part[n] = '\0';
        const ProtobufCFieldDescriptor *f = field_named(m, part);
        if (!dot) {
            *owner = m;
            return f;
        }
        assert(f->type == PROTOBUF_C_TYPE_MESSAGE && f->label != PROTOBUF_C_LABEL_REPEATED);
        ProtobufCMessage **sub = (ProtobufCMessage **)((char *)m + f->offset);
        if (!*sub && !(*sub = cli_new(a, f->descriptor)))
            return NULL;
        m = *sub;
        path = dot + 1;
    }
}

/* Sets the field at path: a string (text), a bool (flag) or a uint64 (id),
 * as the field's type says; a repeated string takes n strings at list. */
static int field_set(ProtobufCMessage *m, const char *path, args *a, const void *value, size_t n)
{
    ProtobufCMessage *owner;
    const ProtobufCFieldDescriptor *f = field_path(m, path, a, &owner);
    if (!f)
        return out_of_memory();
    void *at = (char *)owner + f->offset;
    if (f->label == PROTOBUF_C_LABEL_REPEATED) {
        assert(f->type == PROTOBUF_C_TYPE_STRING);
        *(size_t *)((char *)owner + f->quantifier_offset) = n;
        *(char **const **)at = value;
        return 0;
    }
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: *(const char **)at = value; break;
    case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)at = value != NULL; break;
    case PROTOBUF_C_TYPE_UINT64: *(uint64_t *)at = *(const uint64_t *)value; break;
    default: assert(!"a binding's field is of a type bindings do not set");
    }
    return 0;
}

/* Applies the bindings in order: 0, or the exit status of the first usage
 * error (message printed). */
static int bind_apply(args *a, ProtobufCMessage *m, const cli_bind *b)
{
    for (; b && b->how != BIND_END; b++) {
        const char *v = b->opt ? cli_opt(a, b->opt) : NULL;
        int rc = 0;
        switch (b->how) {
        case BIND_NEED:
            if (cli_need(a, b->opt))
                return EXIT_USAGE;
            if (b->field)
                rc = field_set(m, b->field, a, v, 0);
            break;
        case BIND_OPT:
            if (v)
                rc = field_set(m, b->field, a, v, 0);
            break;
        case BIND_POS: rc = field_set(m, b->field, a, a->pos[b->pos], 0); break;
        case BIND_TEXT: {
            char *text = cli_text(a, b->pos);
            rc = text ? field_set(m, b->field, a, text, 0) : out_of_memory();
            break;
        }
        case BIND_REST: rc = field_set(m, b->field, a, a->pos + b->pos, (size_t)(a->npos - b->pos)); break;
        case BIND_FLAG: rc = field_set(m, b->field, a, v ? "" : NULL, 0); break;
        case BIND_SET: rc = field_set(m, b->field, a, "", 0); break;
        case BIND_TICKET_NEED:
            if (cli_need(a, b->opt))
                return EXIT_USAGE;
            /* fall through */
        case BIND_TICKET_OPT:
        case BIND_TICKET: {
            const char *s = b->how == BIND_TICKET ? a->pos[b->pos] : v, *t;
            if (s && !(rc = cli_ticket(a, s, &t)))
                rc = field_set(m, b->field, a, t, 0);
            break;
        }
        case BIND_ORDER: {
            const char *s = a->pos[b->pos];
            uint64_t id;
            if (cli_parse_order(s, &id) < 0)
                return cli_usage_error(_(b->msg), a->c->name, b->bare && s[0] == '#' ? s + 1 : s);
            rc = field_set(m, b->field, a, &id, 0);
            break;
        }
        case BIND_EITHER:
            if (!v == !cli_opt(a, b->other))
                return cli_usage_error("%s", _(b->msg));
            rc = field_set(m, b->field, a, v ? "" : NULL, 0);
            break;
        case BIND_END: break;
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ---------------------------------------------------------------- pages */

int cli_pages(cli *x, Whistle__V1__Request *req, void *msg, int result_case, const cli_list *l, bool follow,
              void (*on_page)(void *ctx, const ProtobufCMessage *result), void *ctx, cli_cursor *left)
{
    ProtobufCMessage *m = msg;
    const ProtobufCFieldDescriptor *cf = field_named(m, l->cursor);
    assert(cf->type == PROTOBUF_C_TYPE_STRING || cf->type == PROTOBUF_C_TYPE_UINT64);
    bool text = cf->type == PROTOBUF_C_TYPE_STRING;
    void *at = (char *)m + cf->offset;
    cli_cursor cur = { NULL, 0, text };
    int rc;
    for (;;) {
        if (text)
            *(char **)at = cur.text ? cur.text : (char *)protobuf_c_empty_string;
        else
            *(uint64_t *)at = cur.id;
        Whistle__V1__Response *resp;
        if ((rc = cli_call(x, req, &resp)))
            break;
        const ProtobufCMessage *r = cli_result(resp, result_case);
        on_page(ctx, r);
        const ProtobufCFieldDescriptor *nf = r ? field_named(r, l->next) : NULL;
        if (text) {
            const char *next = nf ? *(char *const *)((const char *)r + nf->offset) : NULL;
            if (!next)
                next = "";
            /* Stop on the last page, and on a server that hands back the
             * cursor it was given. */
            bool more = *next && !(cur.text && strcmp(cur.text, next) == 0);
            free(cur.text);
            cur.text = more ? strdup(next) : NULL;
        } else {
            uint64_t next = nf ? *(const uint64_t *)((const char *)r + nf->offset) : 0;
            /* ids only move on: up after_id, down before_id */
            bool moves = l->descending ? !cur.id || next < cur.id : next > cur.id;
            cur.id = moves ? next : 0;
        }
        whistle_response_free(resp);
        if (!follow || !(cur.text || cur.id))
            break;
    }
    if (text)
        *(char **)at = (char *)protobuf_c_empty_string; /* cur.text goes to the caller */
    if (rc) {
        free(cur.text);
        cur.text = NULL;
        cur.id = 0;
    }
    *left = cur;
    return rc;
}

/* ---------------------------------------------------------------- listings */

typedef struct listing {
    cli *x;
    const cli_list *l;
    table t;
    json_t *items; /* --json: every page's items */
} listing;

static void listing_add(void *ctx, const ProtobufCMessage *result)
{
    listing *lg = ctx;
    const cli_list *l = lg->l;
    size_t n = 0;
    ProtobufCMessage **items = result ? cli_items(result, l->items, &n) : NULL;
    for (size_t i = 0; i < n; i++) {
        char buf[32];
        if (lg->x->json)
            json_array_append_new(lg->items, l->json ? l->json(items[i]) : cli_json_message(items[i]));
        else if (lg->x->quiet && l->id)
            printf("%s\n", l->id(items[i], buf, sizeof buf)); /* as it comes: a pipe sees each page */
        else
            l->row(lg->x, &lg->t, items[i]);
    }
}

void cli_list_print(cli *x, const cli_list *l, ProtobufCMessage *const *items, size_t n)
{
    table t;
    table_start(&t, &l->table);
    for (size_t i = 0; i < n; i++)
        l->row(x, &t, items[i]);
    table_print(&t, stdout);
    table_free(&t);
}

static int listing_run(cli *x, args *a, Whistle__V1__Request *req, void *msg)
{
    const cli_list *l = a->c->list;
    listing lg = { x, l, { 0 }, json_array() };
    table_start(&lg.t, &l->table);
    cli_cursor left;
    int rc = cli_pages(x, req, msg, a->c->result, l, l->every_page || cli_flag(a, "all"), listing_add, &lg, &left);
    if (rc == EXIT_OK) {
        if (x->json) {
            json_t *o = json_object();
            json_object_set(o, l->items, lg.items);
            if (l->json_next)
                json_object_set_new(o, l->next,
                                    left.is_text ? json_string(left.text ? left.text : "")
                                                 : json_integer((json_int_t)left.id));
            cli_json_print(o);
        } else {
            if (!(x->quiet && l->id))
                table_print(&lg.t, stdout);
            if ((left.text || left.id) && l->more)
                fprintf(stderr, "%s\n", _(l->more));
        }
    }
    free(left.text);
    json_decref(lg.items);
    table_free(&lg.t);
    return rc;
}

/* ---------------------------------------------------------------- the call */

int cli_call_run(cli *x, args *a)
{
    const cmd *c = a->c;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    ProtobufCMessage *msg = cli_request_new(&req, c->call, a);
    if (!msg)
        return out_of_memory();
    int rc = bind_apply(a, msg, c->bind);
    if (!rc && c->build)
        rc = c->build(x, a, msg);
    if (rc)
        return rc;
    if (c->list && c->list->cursor)
        return listing_run(x, a, &req, msg);
    Whistle__V1__Response *resp;
    if ((rc = cli_call(x, &req, &resp)))
        return rc;
    const ProtobufCMessage *r = cli_result(resp, c->result);
    if (x->json)
        cli_print_json(resp);
    else if (c->list && r) {
        size_t n;
        ProtobufCMessage **items = cli_items(r, c->list->items, &n);
        if (x->quiet && c->list->id) {
            char buf[32];
            for (size_t i = 0; i < n; i++)
                printf("%s\n", c->list->id(items[i], buf, sizeof buf));
        } else
            cli_list_print(x, c->list, items, n);
    } else if (c->print && (r || !c->result))
        c->print(x, a, &req, resp);
    whistle_response_free(resp);
    return EXIT_OK;
}
