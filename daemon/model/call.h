/* call.h: the context of one call and the helpers that answer it.
 *
 * model/ is the layer of the records: a case's and an order's load and
 * save with everything derived from them (the deadline rows, the
 * statistics counters, the supervision record), the timeline and the push
 * fan-out, the directory's getters and validators, its files (dirio) and
 * the seed, the role gate (authz) and the store checker. It calls base/
 * and store/ only. Every function that answers for a call takes the call
 * and either succeeds (returns 0) or fails it (returns -1 with c->resp's
 * status set, docs/errors.md): the layers above only pass the status on.
 */
#ifndef WHISTLED_CALL_H
#define WHISTLED_CALL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "principal.h"
#include "ptr_vec.h"
#include "store.h"
#include "stream.h"
#include "text.h"
#include "whistle/v1/whistle.pb-c.h"

/* One call being answered. txn is a read transaction for reads and the
 * call's own (nested) write transaction for writes; touched is NULL for
 * reads. Everything allocated while answering comes from a. */
typedef struct call {
    store *st;
    MDB_txn *txn;
    const Whistle__V1__Principal *who;
    const char *name; /* the call's short name (authz.h), "deadline" for the sweep */
    int64_t now;
    arena *a;
    Whistle__V1__Response *resp;
    stream_touched *touched;
    /* Set by a read whose answer discloses personal data: what ("contact")
     * and whose (a ticket); api.c has it audited. */
    const char *read_what, *read_target;
    /* The store code that failed the call (call_store_fail), 0 if none: the
     * writer tells a full map from other refusals by it. */
    int store_rc;
} call;

#define ROLE(r) WHISTLE__V1__ROLE__ROLE_##r
#define CODE(c) WHISTLE__V1__STATUS__CODE__##c

/* Fails the call; returns -1 so that callers can `return call_fail(...)`. */
int call_fail(call *c, Whistle__V1__Status__Code code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* PERMISSION_DENIED with the rule in the message, and an audited denial
 * naming the call and target. Returns -1. */
int call_deny(call *c, const char *target, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* A refusal that must not tell the caller that the target exists (a case
 * outside its scope): audited as a denial with the true reason (fmt), and
 * answered NOT_FOUND with missing, the message a target that does not
 * exist gets. Returns -1. */
int call_hide(call *c, const char *target, const char *missing, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* A store error as a status ("what" says what was being done). Returns -1. */
int call_store_fail(call *c, int rc, const char *what);

/* Free text from a client: valid UTF-8, no NUL, at most max bytes, and at
 * least one byte when required. INVALID_ARGUMENT naming field otherwise. */
int check_text(call *c, const char *field, const char *s, size_t max, bool required);

/* Notes that the answer discloses personal data (app/api.c has it
 * audited). */
void call_read_personal(call *c, const char *target, const char *what);

/* Sets resp's status (message formatted into a, every line cut at 1000
 * bytes); a failed status drops any result begun. Returns resp. */
Whistle__V1__Response *call_status(Whistle__V1__Response *resp, arena *a, Whistle__V1__Status__Code code,
                                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
