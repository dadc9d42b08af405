/* exception.c: see exception.h. */
#include "exception.h"
#include "field_limits.h"
#include "places.h"

#include <string.h>

#include "authz.h"
#include "deadline_rows.h"
#include "directory.h"
#include "dispatch.h"
#include "event.h"
#include "order_record.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define MAX_FOLLOWERS 200

static void add_follower(call *c, Whistle__V1__Event *ev, const char *name)
{
    if (!name || !*name || strcmp(name, str0(ev->reporter)) == 0 || event_is_follower(ev, name) ||
        ev->n_followers >= MAX_FOLLOWERS)
        return;
    char **v = arena_alloc(c->a, (ev->n_followers + 1) * sizeof *v);
    if (ev->n_followers)
        memcpy(v, ev->followers, ev->n_followers * sizeof *v);
    v[ev->n_followers++] = (char *)name;
    ev->followers = v;
}

/* Loads a case for an operator's change (role, existence, scope). */
/* ------------------------------------------------------------ merge */

void exception_merge(call *c, const Whistle__V1__MergeEvent *req)
{
    event_snap ds, is;
    Whistle__V1__Event *dup = event_load_for_operator(c, req->ticket, &ds);
    if (!dup || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (!*str0(req->into)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "into is required: the earlier case that %s duplicates", dup->ticket);
        return;
    }
    Whistle__V1__Event *into;
    if (event_load(c, req->into, &into, &is) || authz_operator_case(c, into))
        return;
    if (strcmp(dup->ticket, into->ticket) == 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "a case cannot be merged into itself");
        return;
    }
    if (dup->state != ES(REPORTED) && dup->state != ES(FILED)) {
        event_wrong_state(c, dup, "reported or filed (a duplicate is merged before it is worked on)");
        return;
    }
    if (*str0(into->merged_into)) {
        call_fail(c, CODE(FAILED_PRECONDITION), "case %s was itself merged into %s; merge into %s", into->ticket,
                  into->merged_into, into->merged_into);
        return;
    }
    if (into->state == ES(REJECTED)) {
        call_fail(c, CODE(FAILED_PRECONDITION), "case %s was rejected (%s); merge into a case that stands",
                  into->ticket, str0(into->reject_reason));
        return;
    }
    if (into->created_ms > dup->created_ms ||
        (into->created_ms == dup->created_ms && strcmp(into->ticket, dup->ticket) > 0)) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "case %s is newer than %s: a duplicate is merged into the EARLIER case (merge %s into %s)",
                  into->ticket, dup->ticket, into->ticket, dup->ticket);
        return;
    }
    if (strcmp(str0(into->street), str0(dup->street)) != 0) {
        call_fail(c, CODE(INVALID_ARGUMENT), "case %s is in street %s and %s in %s; duplicates are of one street",
                  dup->ticket, dup->street, into->ticket, into->street);
        return;
    }
    const char *note = str0(req->note);
    dup->state = ES(REJECTED);
    dup->merged_into = into->ticket;
    dup->reject_reason = *note ? arena_printf(c->a, "duplicate of %s: %s", into->ticket, note)
                               : arena_printf(c->a, "duplicate of %s", into->ticket);
    if (dup->parked) {
        dup->parked = false;
        dup->parked_ms = 0;
    }
    event_timeline(c, dup, "merge", dup->reject_reason, 0, NULL);

    char **mv = arena_alloc(c->a, (into->n_merged + 1) * sizeof *mv);
    if (into->n_merged)
        memcpy(mv, into->merged, into->n_merged * sizeof *mv);
    mv[into->n_merged++] = dup->ticket;
    into->merged = mv;
    /* The duplicate's reporter (and whoever followed the duplicate) now
     * hears of the earlier case. */
    add_follower(c, into, dup->reporter);
    for (size_t i = 0; i < dup->n_followers; i++)
        add_follower(c, into, dup->followers[i]);
    event_timeline(c, into, "merge",
                   arena_printf(c->a, "%s merged in (reported by %s)%s%s", dup->ticket, str0(dup->reporter),
                                *note ? ": " : "", note),
                   0, NULL);
    if (event_save(c, dup, &ds) || event_save(c, into, &is) || event_push(c, dup, "merge", NULL) ||
        event_push(c, into, "merge", NULL))
        return;
    event_reply(c, into);
}

/* ------------------------------------------------------------ reopen */

void exception_reopen(call *c, const Whistle__V1__ReopenEvent *req)
{
    event_snap snap;
    Whistle__V1__Event *ev = event_load_for_operator(c, req->ticket, &snap);
    if (!ev || check_text(c, "reason", req->reason, NOTE_MAX, true))
        return;
    if (ev->state != ES(CLOSED)) {
        event_wrong_state(c, ev, "closed");
        return;
    }
    uint32_t max = deadline_policy_of(c->st)->reopen_max_score;
    if (!ev->rating) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "case %s is not rated; a closed case is reopened after a dissatisfied rating (%u or less)",
                  ev->ticket, max);
        return;
    }
    if (ev->rating > max) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "case %s was rated %u/5; only a dissatisfied rating (%u or less) reopens a case", ev->ticket,
                  ev->rating, max);
        return;
    }
    /* Back to whoever did the work, as a rework, with fresh time limits;
     * the rating goes (it stays in the timeline) so that the reporter can
     * rate the case again once it is closed again. */
    uint32_t old = ev->rating;
    bool whistled = ev->n_order_ids > 0;
    ev->reopen_count++;
    ev->rating = 0;
    ev->rating_comment = (char *)"";
    ev->state = whistled ? ES(WHISTLED) : ES(HANDLING);
    ev->due_ms = 0; /* the save stamps a fresh due time */
    ev->due_passed = false;
    event_timeline(c, ev, "reopen", arena_printf(c->a, "rated %u/5: %s", old, req->reason), 0, NULL);
    if (event_save(c, ev, &snap) || event_push(c, ev, "reopen", NULL))
        return;
    if (whistled) {
        if (dispatch_rework_as(c, ev, "reopen"))
            return;
    } else if (*str0(ev->assignee)) {
        if (event_push_to(c, arena_printf(c->a, "principal:%s", ev->assignee), ev,
                          strcmp(ev->assignee, str0(ev->reporter)) == 0, "reopen", NULL))
            return;
    }
    event_reply(c, ev);
}

/* ------------------------------------------------------------ emergency */

void exception_emergency(call *c, const Whistle__V1__EmergencyCall *req)
{
    if (authz_check(c, str0(req->node)))
        return;
    const char *device = str0(req->device);
    if (*device && !ident_ok(device, 64)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "device is 1-64 printable ASCII characters without spaces");
        return;
    }
    if (check_text(c, "description", req->description, 4000, false))
        return;
    /* who may call from where, before anything about the catalogue: the
     * place given; else the grid holding the location, when the caller
     * reaches it; else the caller's own place. An emergency is never
     * refused for where it is. */
    const char *node = str0(req->node);
    if (!*node && req->has_location && places_point_ok(req->lat, req->lon)) {
        const char *grid = NULL, *why = NULL;
        if (places_locate(c->st, c->txn, req->lat, req->lon, WHISTLE__V1__NODE_KIND__NODE_KIND_GRID, c->a, &grid,
                          &why) == 0 &&
            (c->who->role == ROLE(ADMIN) || principal_covers(c->who, grid)))
            node = grid;
    }
    if (!*node)
        node = str0(c->who->scope);
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, node)) {
        call_deny(c, node,
                  "node %s is outside your scope %s (rule: an emergency call is made inside the caller's "
                  "scope)",
                  node, str0(c->who->scope));
        return;
    }
    /* A kiosk's F12 is a resident's call for help, whatever it is about: its
     * own category when the catalogue has one, else the devices' (an old
     * catalogue must not turn a resident's emergency away). */
    const deadline_policy *pol = deadline_policy_of(c->st);
    const char *cat = pol->emergency_category;
    if (c->who->role == ROLE(KIOSK) && *pol->emergency_kiosk_category &&
        directory_category_get(c->st, c->txn, pol->emergency_kiosk_category, c->a))
        cat = pol->emergency_kiosk_category;
    if (!directory_category_get(c->st, c->txn, cat, c->a)) {
        call_fail(c, CODE(FAILED_PRECONDITION),
                  "the emergency category %s (emergency.category in whistled.conf) is not in the catalogue", cat);
        return;
    }
    const char *text = str0(req->description);
    if (!*text)
        text = *device ? arena_printf(c->a, "一键呼叫 one-key emergency call from %s", device)
                       : "一键呼叫 one-key emergency call";
    else if (*device)
        text = arena_printf(c->a, "%s (from %s)", text, device);
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = (char *)node;
    r.category = (char *)cat;
    r.priority = WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    r.description = (char *)text;
    r.contact = (char *)str0(req->contact);
    r.external_id = (char *)device;
    r.source = WHISTLE__V1__SOURCE__SOURCE_EMERGENCY_CALL;
    r.has_location = req->has_location;
    r.lat = req->lat;
    r.lon = req->lon;
    /* The call is a report with its source, priority and category fixed:
     * the report's own rules (role, place, scope) decide it. */
    const char *name = c->name;
    c->name = "report";
    event_report(c, &r);
    c->name = name;
}
