/* api.c: call dispatch and the helpers every domain module answers with.
 * See api.h for the contract with the router and the writer, domain.h for
 * the helpers. */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "authz.h"
#include "directory.h"
#include "admin.h"
#include "dispatch.h"
#include "domain.h"
#include "event.h"
#include "oversight.h"
#include "services.h"
#include "task.h"

/* ------------------------------------------------------------ names */

bool api_is_write(const Whistle__V1__Request *req)
{
    const authz_rule *r = authz_rule_for((int)req->call_case);
    return r && r->write;
}

const char *api_call_name(const Whistle__V1__Request *req)
{
    if (req->call_case == WHISTLE__V1__REQUEST__CALL__NOT_SET)
        return "none";
    const authz_rule *r = authz_rule_for((int)req->call_case);
    return r ? r->name : "unknown";
}

/* The call's message (every member of the oneof is a pointer at the same
 * place) and its descriptor; NULL when the call is unknown. */
static const ProtobufCMessage *call_body(const Whistle__V1__Request *req, const ProtobufCFieldDescriptor **fd)
{
    *fd = protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, (unsigned)req->call_case);
    if (!*fd || (*fd)->type != PROTOBUF_C_TYPE_MESSAGE)
        return NULL;
    return *(const ProtobufCMessage *const *)((const char *)req + (*fd)->offset);
}

/* What a call is about, for the audit log of a refused call: the first
 * field of its message (a ticket, a code, a name; an id as "order:7"),
 * looking into a nested record (AddNode.node -> its code). */
static const char *call_target(const ProtobufCMessage *m, arena *a, int depth)
{
    if (!m || depth > 2 || m->descriptor->n_fields == 0)
        return "";
    const ProtobufCFieldDescriptor *f = &m->descriptor->fields[0];
    for (unsigned i = 1; i < m->descriptor->n_fields; i++)
        if (m->descriptor->fields[i].id < f->id)
            f = &m->descriptor->fields[i];
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return "";
    const char *p = (const char *)m + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING:
        return str0(*(char *const *)p);
    case PROTOBUF_C_TYPE_UINT64: {
        uint64_t v = *(const uint64_t *)p;
        size_t n = strlen(f->name);
        if (!v)
            return "";
        if (n > 3 && strcmp(f->name + n - 3, "_id") == 0)
            return arena_printf(a, "%.*s:%llu", (int)(n - 3), f->name, (unsigned long long)v);
        return arena_printf(a, "%llu", (unsigned long long)v);
    }
    case PROTOBUF_C_TYPE_MESSAGE:
        return call_target(*(const ProtobufCMessage *const *)p, a, depth + 1);
    default:
        return "";
    }
}

/* ------------------------------------------------------------ status */

#define STATUS_LINE_MAX 1000

static char *cut_long_lines(arena *a, const char *msg)
{
    size_t n = strlen(msg);
    char *out = arena_alloc(a, n + 1), *o = out;
    const char *p = msg;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (len > STATUS_LINE_MAX + 3) {
            size_t cut = STATUS_LINE_MAX;
            while (cut > 0 && ((unsigned char)p[cut] & 0xC0) == 0x80)
                cut--;
            memcpy(o, p, cut);
            memcpy(o + cut, "...", 3);
            o += cut + 3;
        } else {
            memcpy(o, p, len);
            o += len;
        }
        p += len;
        if (*p == '\n')
            *o++ = *p++;
    }
    *o = 0;
    return out;
}

static Whistle__V1__Response *vstatus(Whistle__V1__Response *resp, arena *a, Whistle__V1__Status__Code code,
                                      const char *fmt, va_list ap)
{
    Whistle__V1__Status *s = arena_alloc(a, sizeof *s);
    whistle__v1__status__init(s);
    s->code = code;
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n > 0) {
        s->message = arena_alloc(a, (size_t)n + 1);
        vsnprintf(s->message, (size_t)n + 1, fmt, ap);
        /* Messages may quote what the client sent; a huge value must not
         * make the answer huge (it would no longer fit a frame). Every line
         * is cut at STATUS_LINE_MAX bytes, on a character boundary, ending
         * in "..."; a message of many short lines (an import's list of bad
         * lines) stays whole, and the writer fits that to the frame. */
        if ((size_t)n > STATUS_LINE_MAX)
            s->message = cut_long_lines(a, s->message);
    }
    resp->status = s;
    /* A failed call carries no result, even if it had begun building one. */
    if (code != WHISTLE__V1__STATUS__CODE__OK) {
        resp->result_case = WHISTLE__V1__RESPONSE__RESULT__NOT_SET;
        resp->event = NULL;
    }
    return resp;
}

Whistle__V1__Response *api_status(Whistle__V1__Response *resp, arena *a, Whistle__V1__Status__Code code,
                                  const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vstatus(resp, a, code, fmt, ap);
    va_end(ap);
    return resp;
}

int call_fail(call *c, Whistle__V1__Status__Code code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vstatus(c->resp, c->a, code, fmt, ap);
    va_end(ap);
    return -1;
}

int call_deny(call *c, const char *target, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vstatus(c->resp, c->a, CODE(PERMISSION_DENIED), fmt, ap);
    va_end(ap);
    audit_deny(c->st, c->now, str0(c->who ? c->who->name : NULL), c->name, str0(target),
               c->resp->status->message);
    return -1;
}

int call_store_fail(call *c, int rc, const char *what)
{
    return call_fail(c, (Whistle__V1__Status__Code)store_status_code(rc), "store error while %s: %s", what,
                     store_strerror(rc));
}

/* ------------------------------------------------------------ checks */

bool scope_covers(const char *scope, const char *node)
{
    if (!scope || !*scope || !node)
        return false;
    return strncmp(node, scope, strlen(scope)) == 0;
}

bool principal_covers(const Whistle__V1__Principal *p, const char *node)
{
    if (!p)
        return false;
    if (scope_covers(p->scope, node))
        return true;
    for (size_t i = 0; i < p->n_extra_scopes; i++)
        if (scope_covers(p->extra_scopes[i], node))
            return true;
    return false;
}

bool principal_below(const Whistle__V1__Principal *p, const char *node)
{
    if (!p || !node || !*node)
        return false;
    if (scope_covers(node, p->scope))
        return true;
    for (size_t i = 0; i < p->n_extra_scopes; i++)
        if (scope_covers(node, p->extra_scopes[i]))
            return true;
    return false;
}

const char *principal_common_scope(const Whistle__V1__Principal *p, arena *a)
{
    const char *s = str0(p->scope);
    size_t n = strlen(s);
    for (size_t i = 0; i < p->n_extra_scopes; i++) {
        const char *e = str0(p->extra_scopes[i]);
        size_t k = 0;
        while (k < n && e[k] == s[k])
            k++;
        n = k;
    }
    return arena_strndup(a, s, n);
}

bool utf8_valid(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned char b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        size_t len;
        uint32_t cp, min;
        if ((b & 0xE0) == 0xC0) {
            len = 2, cp = b & 0x1F, min = 0x80;
        } else if ((b & 0xF0) == 0xE0) {
            len = 3, cp = b & 0x0F, min = 0x800;
        } else if ((b & 0xF8) == 0xF0) {
            len = 4, cp = b & 0x07, min = 0x10000;
        } else {
            return false;
        }
        if (n - i < len)
            return false;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                return false;
            cp = cp << 6 | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            return false;
        i += len;
    }
    return true;
}

int check_text(call *c, const char *field, const char *s, size_t max, bool required)
{
    s = str0(s);
    size_t n = strlen(s);
    if (required && n == 0)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is required for %s", field, c->name);
    if (n > max)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is %zu bytes; at most %zu are allowed", field, n, max);
    if (!utf8_valid(s, n))
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is not valid UTF-8", field);
    return 0;
}

bool ident_ok(const char *s, size_t max)
{
    if (!s)
        return false;
    size_t n = strlen(s);
    if (n == 0 || n > max)
        return false;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
            return false;
    return true;
}

bool digits_ok(const char *s, size_t len)
{
    if (!s || strlen(s) != len || len == 0)
        return false;
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return true;
}

void ptr_vec_push(arena *a, ptr_vec *v, void *p)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? v->cap * 2 : 16;
        void **items = arena_alloc(a, cap * sizeof *items);
        if (v->n)
            memcpy(items, v->items, v->n * sizeof *items);
        v->items = items;
        v->cap = cap;
    }
    v->items[v->n++] = p;
}

/* ------------------------------------------------------------ entry points */

Whistle__V1__Principal *api_principal(store *st, MDB_txn *txn, const char *name, arena *a)
{
    if (!ident_ok(name, 64))
        return NULL;
    return directory_principal_get(st, txn, name, a);
}

int api_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen)
{
    return directory_seed(st, path, now_ms, err, errlen);
}

/* The role gate of authz.c, before anything is loaded. */
static bool call_gate(call *c, const Whistle__V1__Request *req)
{
    if (authz_role_may((int)req->call_case, c->who->role))
        return true;
    const authz_rule *r = authz_rule_for((int)req->call_case);
    const ProtobufCFieldDescriptor *fd;
    const char *target = call_target(call_body(req, &fd), c->a, 0);
    call_deny(c, target, "role %s may not %s (rule: %s)", role_name(c->who->role), c->name,
              r ? r->rule : "no rule lets anyone make this call");
    return false;
}

static bool call_begin(call *c, store *st, MDB_txn *txn, const Whistle__V1__Principal *who,
                       const Whistle__V1__Request *req, int64_t now_ms, arena *a, Whistle__V1__Response *resp,
                       stream_touched *touched)
{
    *c = (call){.st = st, .txn = txn, .who = who, .name = api_call_name(req), .now = now_ms, .a = a,
                .resp = resp, .touched = touched};
    resp->id = req->id;
    if (!who || !who->enabled || who->role == ROLE(UNSPECIFIED)) {
        call_fail(c, CODE(UNAUTHENTICATED), "no enabled principal for this connection");
        return false;
    }
    if (req->call_case == WHISTLE__V1__REQUEST__CALL__NOT_SET) {
        call_fail(c, CODE(INVALID_ARGUMENT), "the request has no call set");
        return false;
    }
    if (!call_gate(c, req))
        return false;
    /* A hand-built request may name the call but not carry its message;
     * only a message without fields may be left out. */
    const ProtobufCFieldDescriptor *fd;
    const ProtobufCMessage *body = call_body(req, &fd);
    if (!body && fd && fd->type == PROTOBUF_C_TYPE_MESSAGE &&
        ((const ProtobufCMessageDescriptor *)fd->descriptor)->n_fields > 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "the %s call has no body", c->name);
        return false;
    }
    return true;
}

bool api_authorize(store *st, const Whistle__V1__Principal *who, const Whistle__V1__Request *req, int64_t now_ms,
                   arena *a, Whistle__V1__Response *resp)
{
    call c;
    if (!call_begin(&c, st, NULL, who, req, now_ms, a, resp, NULL))
        return false;
    return true;
}

static void call_end(call *c)
{
    if (!c->resp->status)
        api_status(c->resp, c->a, CODE(OK), "%s", "");
}

void call_read_personal(call *c, const char *target, const char *what)
{
    c->read_target = target;
    c->read_what = what;
}

void api_read_audited(store *st, MDB_txn *txn, const Whistle__V1__Principal *who,
                      const Whistle__V1__Request *req, int64_t now_ms, arena *a, Whistle__V1__Response *resp,
                      api_read_audit *audit)
{
    call c;
    if (audit)
        *audit = (api_read_audit){0};
    if (!call_begin(&c, st, txn, who, req, now_ms, a, resp, NULL))
        return;
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_GET_EVENT:
        event_get(&c, req->get_event);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_EVENTS:
        event_list(&c, req->list_events);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_ORDERS:
        dispatch_list_orders(&c, req->list_orders);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_NODES:
        directory_list_nodes(&c, req->list_nodes);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS:
        directory_list_departments(&c);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_CATEGORIES:
        directory_list_categories(&c);
        break;
    case WHISTLE__V1__REQUEST__CALL_LOOKUP_TICKET:
        event_lookup(&c, req->lookup_ticket);
        break;
    case WHISTLE__V1__REQUEST__CALL_PROPOSE_DEPARTMENTS:
        dispatch_propose(&c, req->propose_departments);
        break;
    case WHISTLE__V1__REQUEST__CALL_EXPORT_DIRECTORY:
        admin_export(&c, req->export_directory);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_PRINCIPALS:
        admin_list_principals(&c, req->list_principals);
        break;
    case WHISTLE__V1__REQUEST__CALL_QUERY_AUDIT:
        admin_query_audit(&c, req->query_audit);
        break;
    case WHISTLE__V1__REQUEST__CALL_GET_ADMISSION_LIST:
        task_get_admission(&c, req->get_admission_list);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_TASKS:
        task_list(&c, req->list_tasks);
        break;
    case WHISTLE__V1__REQUEST__CALL_LIST_SERVICES:
        services_list(&c, req->list_services);
        break;
    case WHISTLE__V1__REQUEST__CALL_HELLO:
    case WHISTLE__V1__REQUEST__CALL_PING:
    case WHISTLE__V1__REQUEST__CALL_SUBSCRIBE:
    case WHISTLE__V1__REQUEST__CALL_SERVER_STATS:
    case WHISTLE__V1__REQUEST__CALL_RELOAD_CRL:
        call_fail(&c, CODE(INTERNAL), "%s is answered by the server, not by api_read", c.name);
        break;
    default:
        if (api_is_write(req))
            call_fail(&c, CODE(INTERNAL), "%s is a write; it goes to the writer", c.name);
        else if (oversight_read(&c, req))
            break;
        else
            call_fail(&c, CODE(UNIMPLEMENTED), "call %d is not known to this server", (int)req->call_case);
        break;
    }
    call_end(&c);
    if (c.read_what && c.resp->status && c.resp->status->code == CODE(OK)) {
        if (audit)
            *audit = (api_read_audit){.call = c.name, .target = str0(c.read_target), .what = c.read_what};
        else
            audit_read_queue(st, now_ms, str0(who->name), c.name, c.read_target, c.read_what);
    }
}

void api_read(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
              int64_t now_ms, arena *a, Whistle__V1__Response *resp)
{
    api_read_audited(st, txn, who, req, now_ms, a, resp, NULL);
}

void api_write(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
               int64_t now_ms, arena *a, Whistle__V1__Response *resp, stream_touched *touched)
{
    call c;
    if (!call_begin(&c, st, txn, who, req, now_ms, a, resp, touched))
        return;
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_REPORT:
        event_report(&c, req->report);
        break;
    case WHISTLE__V1__REQUEST__CALL_FILE:
        event_file(&c, req->file);
        break;
    case WHISTLE__V1__REQUEST__CALL_REJECT:
        event_reject(&c, req->reject);
        break;
    case WHISTLE__V1__REQUEST__CALL_ASSIGN:
        event_assign(&c, req->assign);
        break;
    case WHISTLE__V1__REQUEST__CALL_RESOLVE:
        event_resolve(&c, req->resolve);
        break;
    case WHISTLE__V1__REQUEST__CALL_VERIFY:
        event_verify(&c, req->verify);
        break;
    case WHISTLE__V1__REQUEST__CALL_CLOSE:
        event_close(&c, req->close);
        break;
    case WHISTLE__V1__REQUEST__CALL_RATE:
        event_rate(&c, req->rate);
        break;
    case WHISTLE__V1__REQUEST__CALL_WHISTLE:
        dispatch_whistle(&c, req->whistle);
        break;
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN:
        dispatch_check_in(&c, req->check_in);
        break;
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK:
        dispatch_feedback(&c, req->feedback);
        break;
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER:
        dispatch_return(&c, req->return_order);
        break;
    case WHISTLE__V1__REQUEST__CALL_IMPORT_DIRECTORY:
        admin_import(&c, req->import_directory);
        break;
    case WHISTLE__V1__REQUEST__CALL_ADD_NODE:
        admin_add_node(&c, req->add_node);
        break;
    case WHISTLE__V1__REQUEST__CALL_UPDATE_NODE:
        admin_update_node(&c, req->update_node);
        break;
    case WHISTLE__V1__REQUEST__CALL_MOVE_NODE:
        admin_move_node(&c, req->move_node);
        break;
    case WHISTLE__V1__REQUEST__CALL_PUT_DEPARTMENT:
        admin_put_department(&c, req->put_department);
        break;
    case WHISTLE__V1__REQUEST__CALL_PUT_CATEGORY:
        admin_put_category(&c, req->put_category);
        break;
    case WHISTLE__V1__REQUEST__CALL_ADD_PRINCIPAL:
        admin_add_principal(&c, req->add_principal);
        break;
    case WHISTLE__V1__REQUEST__CALL_UPDATE_PRINCIPAL:
        admin_update_principal(&c, req->update_principal);
        break;
    case WHISTLE__V1__REQUEST__CALL_SET_ADMISSION_LIST:
        task_set_admission(&c, req->set_admission_list);
        break;
    case WHISTLE__V1__REQUEST__CALL_PUSH_TASK:
        task_push(&c, req->push_task);
        break;
    case WHISTLE__V1__REQUEST__CALL_COMPLETE_TASK:
        task_complete(&c, req->complete_task);
        break;
    default:
        if (!oversight_write(&c, req))
            call_fail(&c, CODE(INTERNAL), "%s is not a write; it is answered from a read transaction", c.name);
        break;
    }
    call_end(&c);
}
