/* extension.c: see extension.h. */
#include "extension.h"

#include <string.h>

#include "authz.h"
#include "calendar.h"
#include "deadline_rows.h"
#include "dispatch.h"
#include "event_record.h"
#include "field_limits.h"
#include "order_record.h"

#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define UNIT(u) WHISTLE__V1__TIME_UNIT__TIME_UNIT_##u

static int push_order(call *c, const Whistle__V1__Event *ev, const Whistle__V1__Order *o, const char *action)
{
    if (event_push(c, ev, action, o))
        return -1;
    return event_push_to(c, arena_printf(c->a, "dept:%s", o->department), ev, false, action, o);
}

static void reply_order(call *c, Whistle__V1__Order *o)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_ORDER;
    c->resp->order = o;
}

static int check_limit(call *c, const char *field, const Whistle__V1__TimeLimit *l)
{
    if (!l || l->amount == 0)
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "%s is required: an amount and a unit (minutes, hours, "
                         "working_hours or working_days)",
                         field);
    if (l->unit < UNIT(MINUTES) || l->unit > UNIT(WORKING_DAYS))
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "%s.unit %d is not a time unit (1 minutes, 2 hours, 3 days, 4 working hours, 5 working days)",
                         field, l->unit);
    static const uint32_t max[] = { 0, 60 * 24 * 366, 24 * 366, 366, 8 * 366, 366 };
    static const char *const names[] = { "", "minutes", "hours", "days", "working hours", "working days" };
    if (l->amount > max[l->unit])
        return call_fail(c, CODE(INVALID_ARGUMENT), "%s is more than a year (%u %s at most)", field, max[l->unit],
                         names[l->unit]);
    return 0;
}

void deadline_request_extension(call *c, const Whistle__V1__RequestExtension *req)
{
    order_work w;
    if (dispatch_order_begin(c, req->order_id, &w) || check_text(c, "reason", req->reason, NOTE_MAX, true) ||
        check_limit(c, "extra", req->extra))
        return;
    if (!deadline_order_running(w.o)) {
        dispatch_order_wrong_state(c, w.o, "pending or checked_in");
        return;
    }
    if (w.o->extension && w.o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "order %llu already has an extension request waiting for the operator (asked %s)",
                  (unsigned long long)w.o->id, deadline_format(c, w.o->extension->requested_ms));
        return;
    }
    Whistle__V1__Extension *x = arena_alloc(c->a, sizeof *x);
    whistle__v1__extension__init(x);
    x->state = WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING;
    x->extra = deadline_limit_copy(c->a, req->extra);
    x->reason = (char *)str0(req->reason);
    x->requested_ms = c->now;
    x->requested_by = (char *)str0(c->who->name);
    x->old_due_ms = w.o->resolve_due_ms;
    w.o->extension = x;
    char lt[64];
    event_timeline(c, w.ev, "extension_request",
                   arena_printf(c->a, "%s more: %s", calendar_limit_text(req->extra, lt, sizeof lt), req->reason),
                   w.o->id, w.o->department);
    if (dispatch_order_save(c, &w) || push_order(c, w.ev, w.o, "extension_request"))
        return;
    reply_order(c, w.o);
}

void deadline_decide_extension(call *c, const Whistle__V1__DecideExtension *req)
{
    order_work w;
    if (authz_check(c, order_target(c, req->order_id)) || check_text(c, "note", req->note, NOTE_MAX, !req->approve) ||
        order_load(c, req->order_id, &w.o, &w.ob, &w.ol) || event_load(c, w.o->ticket, &w.ev, &w.snap) ||
        authz_operator_case(c, w.ev))
        return;
    if (!w.o->extension || w.o->extension->state != WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING) {
        call_fail(c, CODE(FAILED_PRECONDITION), "order %llu has no extension request waiting for a decision",
                  (unsigned long long)w.o->id);
        return;
    }
    if (!deadline_order_running(w.o)) {
        dispatch_order_wrong_state(c, w.o, "pending or checked_in (an extension of a finished order is moot)");
        return;
    }
    Whistle__V1__Extension *x = w.o->extension;
    x->decided_ms = c->now;
    x->decided_by = (char *)str0(c->who->name);
    x->note = (char *)str0(req->note);
    const char *action;
    char *note;
    if (req->approve) {
        /* More time from the current deadline, or from now when it has
         * already passed; the supervision's follow-up gives way to it. */
        int64_t from = w.o->resolve_due_ms > c->now ? w.o->resolve_due_ms : c->now;
        int64_t due = calendar_add(&deadline_policy_of(c->st)->cal, from, x->extra);
        x->state = WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_APPROVED;
        x->old_due_ms = w.o->resolve_due_ms;
        x->new_due_ms = due;
        w.o->resolve_due_ms = due;
        if (strcmp(str0(w.o->follow_up), "done") == 0) {
            w.o->follow_up_ms = 0;
            w.o->follow_up = (char *)"";
        }
        if (w.ev->due_ms && w.ev->due_ms < due) {
            w.ev->due_ms = due;
            w.ev->due_passed = false;
        }
        action = "extension_approved";
        note = arena_printf(c->a, "resolve by %s%s%s", deadline_format(c, due), *x->note ? ": " : "", x->note);
    } else {
        x->state = WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_REFUSED;
        action = "extension_refused";
        note = x->note;
    }
    event_timeline(c, w.ev, action, note, w.o->id, w.o->department);
    if (dispatch_order_save(c, &w) || push_order(c, w.ev, w.o, action))
        return;
    reply_order(c, w.o);
}

static int shift(int64_t *ms, int64_t by)
{
    if (*ms)
        *ms += by;
    return 0;
}

/* Parks or unparks every live order of the case; unparking moves each of
 * their deadlines by the time spent parked. */
static int park_orders(call *c, Whistle__V1__Event *ev, bool parked, int64_t by, const char *action)
{
    for (size_t i = 0; i < ev->n_order_ids; i++) {
        Whistle__V1__Order *o;
        void *ob;
        size_t ol;
        if (order_load(c, ev->order_ids[i], &o, &ob, &ol))
            return -1;
        if (!deadline_order_running(o) || o->parked == parked)
            continue;
        o->parked = parked;
        if (!parked) {
            shift(&o->check_in_due_ms, by);
            shift(&o->resolve_due_ms, by);
            shift(&o->follow_up_ms, by);
            for (size_t s = 0; s < o->n_stages; s++)
                if (o->stages[s] && !o->stages[s]->done_ms)
                    shift(&o->stages[s]->due_ms, by);
        }
        if (order_save(c, o, ob, ol) ||
            event_push_to(c, arena_printf(c->a, "dept:%s", o->department), ev, false, action, o))
            return -1;
    }
    return 0;
}

void deadline_park(call *c, const Whistle__V1__ParkEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = event_load_for_operator(c, req->ticket, &snap);
    if (!ev || check_text(c, "reason", req->reason, NOTE_MAX, true))
        return;
    if (ev->state != ES(FILED) && ev->state != ES(HANDLING) && ev->state != ES(WHISTLED)) {
        event_wrong_state(c, ev, "filed, handling or whistled (an open case)");
        return;
    }
    if (ev->parked) {
        call_fail(c, CODE(FAILED_PRECONDITION), "case %s is already parked (since %s): %s", ev->ticket,
                  deadline_format(c, ev->parked_ms), str0(ev->park_reason));
        return;
    }
    ev->parked = true;
    ev->parked_ms = c->now;
    ev->park_reason = (char *)str0(req->reason);
    event_timeline(c, ev, "park", req->reason, 0, NULL);
    if (park_orders(c, ev, true, 0, "park") || event_save(c, ev, &snap) || event_push(c, ev, "park", NULL))
        return;
    event_reply(c, ev);
}

void deadline_unpark(call *c, const Whistle__V1__UnparkEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = event_load_for_operator(c, req->ticket, &snap);
    if (!ev || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (!ev->parked) {
        call_fail(c, CODE(FAILED_PRECONDITION), "case %s is not parked; park puts a case in the problem pool",
                  ev->ticket);
        return;
    }
    int64_t by = c->now - ev->parked_ms;
    if (by < 0)
        by = 0;
    ev->parked = false;
    ev->parked_ms = 0;
    ev->park_reason = (char *)"";
    ev->parked_total_ms += by;
    shift(&ev->due_ms, by);
    event_timeline(c, ev, "unpark",
                   arena_printf(c->a, "deadlines moved by %lld min%s%s", (long long)(by / 60000),
                                *str0(req->note) ? ": " : "", str0(req->note)),
                   0, NULL);
    if (park_orders(c, ev, false, by, "unpark") || event_save(c, ev, &snap) || event_push(c, ev, "unpark", NULL))
        return;
    event_reply(c, ev);
}

void deadline_report_stage(call *c, const Whistle__V1__ReportStage *req)
{
    order_work w;
    if (dispatch_order_begin(c, req->order_id, &w) || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (w.o->n_stages == 0) {
        call_fail(c, CODE(FAILED_PRECONDITION), "order %llu has no stages (its category %s has none)",
                  (unsigned long long)w.o->id, w.o->category);
        return;
    }
    if (req->stage < 1 || req->stage > w.o->n_stages) {
        call_fail(c, CODE(INVALID_ARGUMENT), "stage %u is out of range: order %llu has stages 1 to %zu", req->stage,
                  (unsigned long long)w.o->id, w.o->n_stages);
        return;
    }
    if (!deadline_order_running(w.o)) {
        dispatch_order_wrong_state(c, w.o, "pending or checked_in");
        return;
    }
    Whistle__V1__OrderStage *s = w.o->stages[req->stage - 1];
    if (s->done_ms) {
        call_fail(c, CODE(FAILED_PRECONDITION), "stage %u (%s) of order %llu was reported done at %s", req->stage,
                  s->name_zh, (unsigned long long)w.o->id, deadline_format(c, s->done_ms));
        return;
    }
    s->done_ms = c->now;
    s->note = (char *)str0(req->note);
    event_timeline(c, w.ev, "stage",
                   arena_printf(c->a, "stage %u %s done%s%s", req->stage, str0(s->name_zh),
                                *str0(req->note) ? ": " : "", str0(req->note)),
                   w.o->id, w.o->department);
    if (dispatch_order_save(c, &w) || push_order(c, w.ev, w.o, "stage"))
        return;
    reply_order(c, w.o);
}
