/* api.h: the calls of the protocol, as the router and the writer see them.
 *
 * The router (loop thread) decodes a Request, looks the caller's principal
 * up, then either answers it with api_read() from a read transaction, or
 * hands it to the writer thread, which calls api_write() inside the batch's
 * write transaction. The role is checked here, the scope by the domain
 * calls (they know the records involved); both fill resp with a status
 * and, on OK, a result.
 * Hello, Ping, Subscribe and PushAck are the router's own (net/router.c).
 *
 * app/ is the layer of the call table: the role gate applied once before
 * anything is loaded (authz_check), the dispatch to domain/ (api.c; the
 * oversight calls through oversight.c), and the seed. It calls domain/ and
 * below; exec/ and net/ call it. */
#ifndef WHISTLED_API_H
#define WHISTLED_API_H

#include <stdbool.h>
#include <stdint.h>

#include "call.h"

/* Whether the request's call changes state (and so goes to the writer). */
bool api_is_write(const Whistle__V1__Request *req);

/* The call's short name for logs and the audit log: "report", "whistle"... */
const char *api_call_name(const Whistle__V1__Request *req);

/* Answers a read call. All allocations in resp come from a. An answer
 * that carries personal data (a reporter's phone) has its read queued for
 * the audit log (audit.h). */
void api_read(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
              int64_t now_ms, arena *a, Whistle__V1__Response *resp);

/* What an answer disclosed, for the audit log: what is NULL when nothing
 * personal was read. Strings live in the call's arena. */
typedef struct api_read_audit {
    const char *call, *target, *what;
} api_read_audit;

/* api_read, but a read of personal data is handed back in *audit instead
 * of queued: the router has the writer append it before the answer goes
 * out, so no personal data leaves without a durable record of it. */
void api_read_audited(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
                      int64_t now_ms, arena *a, Whistle__V1__Response *resp, api_read_audit *audit);

/* The role gate alone (authz.c), for the calls the server answers itself
 * (hello, ping, subscribe, reload_crl, import chunks): true when the role
 * may make the call; otherwise resp holds PERMISSION_DENIED naming the rule
 * and the denial is queued for the audit log. */
bool api_authorize(store *st, const Whistle__V1__Principal *who, const Whistle__V1__Request *req, int64_t now_ms,
                   arena *a, Whistle__V1__Response *resp);

/* Applies a write call inside txn. On a non-OK status nothing it did may
 * remain: the writer runs each call in a nested transaction and aborts it
 * then. Appends pushes through stream_append(..., touched). Returns the
 * store code that failed the call (MDB_MAP_FULL: the map is full), 0 when
 * it succeeded or was refused for another reason. */
int api_write(store *st, MDB_txn *txn, const Whistle__V1__Principal *who, const Whistle__V1__Request *req,
              int64_t now_ms, arena *a, Whistle__V1__Response *resp, stream_touched *touched);

/* The principal a call is made for (Request.act_as, docs/protocol.md
 * section 12): caller itself when act_as is empty or its own name; the
 * principal named when caller is a gateway that may act for it
 * (authz_act_as_refusal). Otherwise NULL: when resp is given it holds
 * PERMISSION_DENIED naming the rule, and the denial is queued for the
 * audit log (principal = the caller, call = call_name, target = the name);
 * without resp (a push, an ack) nothing is audited and *why, when given,
 * says why. Records live in a. */
const Whistle__V1__Principal *api_acting(store *st, MDB_txn *txn, const Whistle__V1__Principal *caller,
                                         const char *act_as, const char *call_name, int64_t now_ms, arena *a,
                                         Whistle__V1__Response *resp, const char **why);

/* Looks a principal up by certificate CN. NULL if unknown. */
Whistle__V1__Principal *api_principal(store *st, MDB_txn *txn, const char *name, arena *a);

/* Loads the directory seed (JSON, docs/directory-seed.md) into an empty
 * store: nodes, departments, categories, principals, through the same
 * checks as an import. Does nothing if the store already has nodes.
 * Returns 0, or negative with err filled. */
int api_seed(store *st, const char *path, int64_t now_ms, char *err, size_t errlen);

/* Loads demo volunteers, wishes, goods and members' tasks (JSON,
 * conf/demo-volunteers.json, docs/volunteers.md) through the calls
 * themselves, as the principal the file names, in one transaction: all or
 * nothing. Does nothing if the store has volunteers already. Returns 0, or
 * negative with err filled (demo.c). */
int api_seed_volunteers(store *st, const char *path, int64_t now_ms, char *err, size_t errlen);

#endif
