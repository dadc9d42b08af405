/* event.h: the case (事件) and its closed loop.
 *
 *   report -> reported -file-> filed -assign-> handling -resolve-> resolved
 *                     -reject-> rejected (final)
 *   filed | handling | whistled -whistle-> whistled (orders: dispatch.c)
 *   whistled -(every non-returned order done)-> resolved
 *   resolved -verify pass-> verified -close-> closed -rate-> closed (rated)
 *   resolved -verify fail-> whistled (done orders back to checked_in)
 *                         | handling (a local case)
 *
 * Every change appends a timeline entry, rewrites the indexes and an audit
 * record in the call's transaction, and appends pushes (street feed, the
 * reporter's own stream, ...). */
#ifndef WHISTLED_EVENT_H
#define WHISTLED_EVENT_H

#include "call.h"

/* The calls. Each fills c->resp. */
void event_report(call *c, const Whistle__V1__ReportEvent *req);
void event_get(call *c, const Whistle__V1__GetEvent *req);
void event_list(call *c, const Whistle__V1__ListEvents *req);
void event_file(call *c, const Whistle__V1__FileEvent *req);
void event_reject(call *c, const Whistle__V1__RejectEvent *req);
void event_assign(call *c, const Whistle__V1__AssignEvent *req);
void event_resolve(call *c, const Whistle__V1__ResolveEvent *req);
void event_verify(call *c, const Whistle__V1__VerifyEvent *req);
void event_close(call *c, const Whistle__V1__CloseEvent *req);
void event_rate(call *c, const Whistle__V1__RateEvent *req);
void event_lookup(call *c, const Whistle__V1__LookupTicket *req);

/* ---- shared with dispatch.c */

/* The record as it was loaded: what the audit log calls "before", and the
 * state whose index row a save must move. */
typedef struct event_snap {
    void *bytes;
    size_t len;
    Whistle__V1__EventState state;
} event_snap;

/* Loads a case; on failure the status is set (NOT_FOUND ...) and -1 returned. */
int event_load(call *c, const char *ticket, Whistle__V1__Event **ev, event_snap *snap);
/* Stores the case, moves its index rows and audits the change (snap NULL:
 * a new case). -1 with the status set on a store error. */
int event_save(call *c, Whistle__V1__Event *ev, const event_snap *snap);
/* Appends a timeline entry (the state after is ev->state: set it first) and
 * stamps updated_ms. */
void event_timeline(call *c, Whistle__V1__Event *ev, const char *action, const char *note, uint64_t order_id,
                    const char *department);

/* Whether the caller may act with c->name on this case (role and scope);
 * if not, the call is denied (status set, denial audited) and -1 returned. */
int event_allow(call *c, const Whistle__V1__Event *ev);

/* FAILED_PRECONDITION: "case E... is filed; close needs verified. Allowed
 * now: assign, whistle". Returns -1. */
int event_wrong_state(call *c, const Whistle__V1__Event *ev, const char *needs);
const char *event_state_name(Whistle__V1__EventState s);

/* Pushes the change to the street feed and, when the reporter is a
 * principal that follows its own cases, to the reporter's stream. */
int event_push(call *c, const Whistle__V1__Event *ev, const char *action, const Whistle__V1__Order *order);
/* One push to one stream; keep_contact says whether the stream's readers
 * may see the reporter's contact. */
int event_push_to(call *c, const char *stream, const Whistle__V1__Event *ev, bool keep_contact,
                  const char *action, const Whistle__V1__Order *order);

/* The case as the caller may see it: contact blanked unless the caller is an
 * admin, an operator or the reporter; the timeline dropped unless asked. */
Whistle__V1__Event *event_for_reply(call *c, const Whistle__V1__Event *ev, bool with_timeline);
void event_reply(call *c, const Whistle__V1__Event *ev);

#endif
