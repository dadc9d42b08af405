/* call.c: see call.h. */
#include "call.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "audit.h"

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

Whistle__V1__Response *call_status(Whistle__V1__Response *resp, arena *a, Whistle__V1__Status__Code code,
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
    audit_deny(c->st, c->now, str0(c->who ? c->who->name : NULL), c->name, str0(target), c->resp->status->message);
    return -1;
}

int call_hide(call *c, const char *target, const char *missing, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *rule = arena_alloc(c->a, n > 0 ? (size_t)n + 1 : 1);
    va_start(ap, fmt);
    vsnprintf(rule, n > 0 ? (size_t)n + 1 : 1, fmt, ap);
    va_end(ap);
    audit_deny(c->st, c->now, str0(c->who ? c->who->name : NULL), c->name, str0(target), rule);
    return call_fail(c, CODE(NOT_FOUND), "%s", missing);
}

int call_store_fail(call *c, int rc, const char *what)
{
    c->store_rc = rc;
    return call_fail(c, (Whistle__V1__Status__Code)store_status_code(rc), "store error while %s: %s", what,
                     store_strerror(rc));
}

/* ------------------------------------------------------------ checks */

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

void call_read_personal(call *c, const char *target, const char *what)
{
    c->read_target = target;
    c->read_what = what;
}
