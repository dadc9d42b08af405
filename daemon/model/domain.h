/* domain.h: what the domain modules (event.c, dispatch.c, directory.c)
 * share with api.c: the context of one call and the helpers that answer it.
 * Not for the router or the writer; they see api.h. */
#ifndef WHISTLED_DOMAIN_H
#define WHISTLED_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api.h"

/* One call being answered. txn is a read transaction for reads and the
 * call's own (nested) write transaction for writes; touched is NULL for
 * reads. Everything allocated while answering comes from a. */
typedef struct call {
    store *st;
    MDB_txn *txn;
    const Whistle__V1__Principal *who;
    const char *name; /* api_call_name() */
    int64_t now;
    arena *a;
    Whistle__V1__Response *resp;
    stream_touched *touched;
    /* Set by a read whose answer discloses personal data: what ("contact")
     * and whose (a ticket); api.c has it audited. */
    const char *read_what, *read_target;
} call;

#define ROLE(r) WHISTLE__V1__ROLE__ROLE_##r
#define CODE(c) WHISTLE__V1__STATUS__CODE__##c

/* A proto3 string that may be NULL in a hand-built message. */
static inline const char *str0(const char *s) { return s ? s : ""; }

/* Fails the call; returns -1 so that callers can `return call_fail(...)`. */
int call_fail(call *c, Whistle__V1__Status__Code code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* PERMISSION_DENIED with the rule in the message, and an audited denial
 * naming the call and target. Returns -1. */
int call_deny(call *c, const char *target, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A store error as a status ("what" says what was being done). Returns -1. */
int call_store_fail(call *c, int rc, const char *what);

/* Notes that the answer discloses personal data (audited by api.c). */
void call_read_personal(call *c, const char *target, const char *what);

/* Node N is in scope S when N's code starts with S (codes are prefixes of
 * their subtree). The empty scope holds nothing. */
bool scope_covers(const char *scope, const char *node);
/* Whether any of the principal's scopes (scope and extra_scopes) covers
 * node; and whether node lies on the path above one of them. */
bool principal_covers(const Whistle__V1__Principal *p, const char *node);
bool principal_below(const Whistle__V1__Principal *p, const char *node);
/* The longest code that prefixes all of the principal's scopes: what a
 * scan of its reach starts from ("" if they share no district). */
const char *principal_common_scope(const Whistle__V1__Principal *p, arena *a);
const char *role_name(Whistle__V1__Role r);

/* Free text from a client: valid UTF-8, no NUL, at most max bytes, and at
 * least one byte when required. INVALID_ARGUMENT naming field otherwise. */
int check_text(call *c, const char *field, const char *s, size_t max, bool required);
bool utf8_valid(const char *s, size_t n);

/* A short identifier (ticket, code, name) that can be a key: 1..max bytes of
 * printable ASCII without spaces. */
bool ident_ok(const char *s, size_t max);
bool digits_ok(const char *s, size_t len);

/* A pointer array grown in the arena (results of list calls). */
typedef struct ptr_vec {
    void **items;
    size_t n, cap;
} ptr_vec;
void ptr_vec_push(arena *a, ptr_vec *v, void *p);

#endif
