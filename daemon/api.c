/* api.c: call dispatch and the helpers every domain module answers with.
 * See api.h for the contract with the router and the writer, domain.h for
 * the helpers. */
#include "api.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"
#include "directory.h"
#include "dispatch.h"
#include "domain.h"
#include "event.h"

/* ------------------------------------------------------------ names */

bool api_is_write(const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_REPORT:
    case WHISTLE__V1__REQUEST__CALL_FILE:
    case WHISTLE__V1__REQUEST__CALL_REJECT:
    case WHISTLE__V1__REQUEST__CALL_ASSIGN:
    case WHISTLE__V1__REQUEST__CALL_WHISTLE:
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN:
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK:
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER:
    case WHISTLE__V1__REQUEST__CALL_VERIFY:
    case WHISTLE__V1__REQUEST__CALL_CLOSE:
    case WHISTLE__V1__REQUEST__CALL_RATE:
    case WHISTLE__V1__REQUEST__CALL_RESOLVE:
        return true;
    default:
        return false;
    }
}

const char *api_call_name(const Whistle__V1__Request *req)
{
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL__NOT_SET: return "none";
    case WHISTLE__V1__REQUEST__CALL_HELLO: return "hello";
    case WHISTLE__V1__REQUEST__CALL_PING: return "ping";
    case WHISTLE__V1__REQUEST__CALL_REPORT: return "report";
    case WHISTLE__V1__REQUEST__CALL_GET_EVENT: return "get";
    case WHISTLE__V1__REQUEST__CALL_LIST_EVENTS: return "list";
    case WHISTLE__V1__REQUEST__CALL_FILE: return "file";
    case WHISTLE__V1__REQUEST__CALL_REJECT: return "reject";
    case WHISTLE__V1__REQUEST__CALL_ASSIGN: return "assign";
    case WHISTLE__V1__REQUEST__CALL_WHISTLE: return "whistle";
    case WHISTLE__V1__REQUEST__CALL_LIST_ORDERS: return "list_orders";
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN: return "check_in";
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK: return "feedback";
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER: return "return";
    case WHISTLE__V1__REQUEST__CALL_VERIFY: return "verify";
    case WHISTLE__V1__REQUEST__CALL_CLOSE: return "close";
    case WHISTLE__V1__REQUEST__CALL_RATE: return "rate";
    case WHISTLE__V1__REQUEST__CALL_LIST_NODES: return "list_nodes";
    case WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS: return "list_departments";
    case WHISTLE__V1__REQUEST__CALL_LIST_CATEGORIES: return "list_categories";
    case WHISTLE__V1__REQUEST__CALL_SUBSCRIBE: return "subscribe";
    case WHISTLE__V1__REQUEST__CALL_RESOLVE: return "resolve";
    case WHISTLE__V1__REQUEST__CALL_SERVER_STATS: return "server_stats";
    default: return "unknown";
    }
}

/* ------------------------------------------------------------ status */

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
    return true;
}

static void call_end(call *c)
{
    if (!c->resp->status)
        api_status(c->resp, c->a, CODE(OK), "%s", "");
}

void api_read(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
              int64_t now_ms, arena *a, Whistle__V1__Response *resp)
{
    call c;
    if (!call_begin(&c, st, txn, who, req, now_ms, a, resp, NULL))
        return;
    /* Every member of the call oneof is a pointer at the same place. */
    if (!req->get_event && req->call_case != WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS &&
        req->call_case != WHISTLE__V1__REQUEST__CALL_LIST_CATEGORIES) {
        call_fail(&c, CODE(INVALID_ARGUMENT), "the %s call has no body", c.name);
        return;
    }
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
    case WHISTLE__V1__REQUEST__CALL_HELLO:
    case WHISTLE__V1__REQUEST__CALL_PING:
    case WHISTLE__V1__REQUEST__CALL_SUBSCRIBE:
    case WHISTLE__V1__REQUEST__CALL_SERVER_STATS:
        call_fail(&c, CODE(INTERNAL), "%s is answered by the server, not by api_read", c.name);
        break;
    default:
        if (api_is_write(req))
            call_fail(&c, CODE(INTERNAL), "%s is a write; it goes to the writer", c.name);
        else
            call_fail(&c, CODE(UNIMPLEMENTED), "call %d is not known to this server", (int)req->call_case);
        break;
    }
    call_end(&c);
}

void api_write(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
               int64_t now_ms, arena *a, Whistle__V1__Response *resp, stream_touched *touched)
{
    call c;
    if (!call_begin(&c, st, txn, who, req, now_ms, a, resp, touched))
        return;
    /* A hand-built request may carry the case but not its message. */
    if (api_is_write(req) && !req->report) {
        call_fail(&c, CODE(INVALID_ARGUMENT), "the %s call has no body", c.name);
        return;
    }
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
    default:
        call_fail(&c, CODE(INTERNAL), "%s is not a write; it is answered from a read transaction", c.name);
        break;
    }
    call_end(&c);
}
