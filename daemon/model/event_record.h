/* event_record.h: a case (事件, an Event record) as stored, read and
 * pushed: db "events" under its ticket, indexed by state and by node.
 * Saving one brings everything derived from it in line in the same
 * transaction (its version and times, its due time, the rating copied to
 * its orders, the supervision it closes, the statistics, the deadline
 * rows), moves its index rows and audits the change. The calls that change
 * a case are domain/event.c's; this is what they and the other domain
 * modules share. */
#ifndef WHISTLED_EVENT_RECORD_H
#define WHISTLED_EVENT_RECORD_H

#include "call.h"
#include "field_limits.h"

/* The record as it was loaded: what the audit log calls "before", and the
 * state whose index row a save must move. */
typedef struct event_snap {
    void *bytes;
    size_t len;
    Whistle__V1__EventState state;
} event_snap;

/* Loads a case; on failure the status is set (NOT_FOUND ...) and -1 returned.
 * The record comes without its timeline: ev->timeline holds what this call
 * appends (entry timeline_from + i; timeline_from = timeline_total, the
 * stored count, at load). */
int event_load(call *c, const char *ticket, Whistle__V1__Event **ev, event_snap *snap);
/* Stores the case, appends its new timeline entries to ev_timeline, moves
 * its index rows and audits the change (snap NULL: a new case). -1 with the
 * status set on a store error. Afterwards ev->timeline still holds the
 * appended entries (what a write answers with). */
int event_save(call *c, Whistle__V1__Event *ev, const event_snap *snap);
/* Appends a timeline entry (the state after is ev->state: set it first) and
 * stamps updated_ms. */
void event_timeline(call *c, Whistle__V1__Event *ev, const char *action, const char *note, uint64_t order_id,
                    const char *department);

/* The row of ev_by_state: u8 state | street | '/' | ticket; returns its
 * length. The save keeps one row per case. A state's rows are the prefix
 * state, a state's in one street the prefix state | street | '/'. */
#define EVENT_STREET_MAX 32
#define EVENT_STATE_KEY_MAX (1 + EVENT_STREET_MAX + 1 + TICKET_MAX)
size_t event_state_key(uint8_t *key, Whistle__V1__EventState s, const char *street, const char *ticket);

/* Whether the caller may act with c->name on this case (role and scope);
 * if not, the call is denied (status set, denial audited) and -1 returned. */
int event_allow(call *c, const Whistle__V1__Event *ev);

/* What may be done to a case in its state, for people: "file, reject". */
const char *event_allowed_in(const Whistle__V1__Event *ev);
/* FAILED_PRECONDITION: "case E... is filed; close needs verified. Allowed
 * now: assign, whistle". Returns -1. */
int event_wrong_state(call *c, const Whistle__V1__Event *ev, const char *needs);
const char *event_state_name(Whistle__V1__EventState s);

/* Pushes the change to the street feed and, when the reporter is a
 * principal that follows its own cases, to the reporter's stream. */
int event_push(call *c, const Whistle__V1__Event *ev, const char *action, const Whistle__V1__Order *order);
/* One push to one stream; keep_contact says whether the stream's readers
 * may see the reporter's contact. */
int event_push_to(call *c, const char *stream, const Whistle__V1__Event *ev, bool keep_contact, const char *action,
                  const Whistle__V1__Order *order);

/* The case as the caller may see it: contact blanked unless the caller is an
 * admin, an operator or the reporter; the timeline dropped unless asked,
 * and when asked: in a read, its newest entries that fit an answer (at most
 * 200 and 256 KiB, read from ev_timeline), in a write the entries the call
 * appended (Event.timeline_total and timeline_from say which). */
Whistle__V1__Event *event_for_reply(call *c, const Whistle__V1__Event *ev, bool with_timeline);
/* The answer is the case (event_for_reply with its timeline); _page gives
 * the entries before entry `before` instead of the newest (GetEvent). */
void event_reply(call *c, const Whistle__V1__Event *ev);
void event_reply_page(call *c, const Whistle__V1__Event *ev, uint32_t before);

/* A case for an operator's change (the oversight calls): the role gate,
 * the case, and the operator's street (authz_operator_case). NULL with the
 * status set when refused or missing. */
Whistle__V1__Event *event_load_for_operator(call *c, const char *ticket, event_snap *snap);

/* The reporter's own stream ("principal:NAME") when its role follows the
 * cases it reported (grid and community workers, integrations, sensors;
 * not a kiosk), else NULL. */
const char *event_reporter_stream(call *c, const Whistle__V1__Event *ev);

/* The newest max entries of the case's stored timeline (at most 200), in
 * order, into *out (in c->a): what a transfer to another district carries
 * (domain/fed.c). 0, or -1 with the status set. */
int event_history(call *c, const Whistle__V1__Event *ev, size_t max, Whistle__V1__TimelineEntry ***out, size_t *n);
/* Whether name follows the case (merged into it: exception.c). */
bool event_is_follower(const Whistle__V1__Event *ev, const char *name);
/* Pushes to the streams of the case's followers that follow their cases. */
int event_push_followers(call *c, const Whistle__V1__Event *ev, const char *action, const Whistle__V1__Order *order);

#endif
