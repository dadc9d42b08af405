/* deliberation.c: see deliberation.h. A meeting is one record (attendance,
 * speakers, items with their votes, cards, minutes): every act loads it,
 * checks the rule, changes it and saves it with its audit entry in the
 * call's transaction, so a refused act changes nothing. */
#include "deliberation.h"
#include "field_limits.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "board.h"
#include "directory.h"
#include "event_record.h"
#include "task.h"

#define SR(x) WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_##x
#define PS(x) WHISTLE__V1__DELIB_PROPOSAL_STATE__DELIB_PROPOSAL_STATE_##x
#define IS(x) WHISTLE__V1__DELIB_ITEM_STATE__DELIB_ITEM_STATE_##x
#define MS(x) WHISTLE__V1__DELIB_MEETING_STATE__DELIB_MEETING_STATE_##x
#define ACT(x) WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_##x
#define CH(x) WHISTLE__V1__DELIB_CHOICE__DELIB_CHOICE_##x
#define CARD(x) WHISTLE__V1__DELIB_CARD__DELIB_CARD_##x
#define TIE(x) WHISTLE__V1__DELIB_TIE_RULE__DELIB_TIE_RULE_##x

#define MAX_SEATS 200
#define MAX_ITEMS 30
#define MAX_CANDIDATES 50
#define DAY_MS 86400000LL

bool delib_fraction_met(uint32_t have, uint32_t of, uint32_t num, uint32_t den)
{
    return (uint64_t)have * den >= (uint64_t)of * num;
}

/* ------------------------------------------------------------ records */

static char *key8(call *c, uint64_t id)
{
    uint8_t *k = arena_alloc(c->a, 8);
    store_be64(k, id);
    return (char *)k;
}

static void *load(call *c, MDB_dbi dbi, uint64_t id, const ProtobufCMessageDescriptor *d, void **bytes, size_t *len)
{
    *bytes = NULL;
    *len = 0;
    if (!id || store_get_bytes(c->txn, dbi, key8(c, id), 8, c->a, bytes, len) != 0)
        return NULL;
    return protobuf_c_message_unpack(d, arena_allocator(c->a), *len, *bytes);
}

/* Stores msg under id and audits the change; -1 with the call failed. */
static int save(call *c, MDB_dbi dbi, uint64_t id, const ProtobufCMessage *msg, const char *what, const void *before,
                size_t blen)
{
    const char *target = arena_printf(c->a, "%s:%llu", what, (unsigned long long)id);
    int rc = store_put(c->txn, dbi, key8(c, id), 8, msg);
    if (!rc)
        rc = audit_append(c->st, c->txn, c->now, c->who->name, c->name, target, before, blen, msg);
    return rc ? call_store_fail(c, rc, arena_printf(c->a, "saving %s", target)) : 0;
}

static Whistle__V1__DelibBody *body_load(call *c, uint64_t id)
{
    void *b;
    size_t l;
    if (!id)
        return call_fail(c, CODE(INVALID_ARGUMENT), "body_id is required"), NULL;
    Whistle__V1__DelibBody *body = load(c, c->st->delib_bodies, id, &whistle__v1__delib_body__descriptor, &b, &l);
    if (!body)
        call_fail(c, CODE(NOT_FOUND), "no body %llu", (unsigned long long)id);
    return body;
}

/* The seat the principal holds on the body, or NULL. */
static Whistle__V1__DelibSeat *seat_of(const Whistle__V1__DelibBody *b, const char *name)
{
    for (size_t i = 0; name && i < b->n_seats; i++)
        if (strcmp(str0(b->seats[i]->principal), name) == 0)
            return b->seats[i];
    return NULL;
}

#define KIND(x) WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_##x

static bool mediation(const Whistle__V1__DelibBody *b) { return b->kind == KIND(MEDIATION); }

/* Who votes (and so counts for the quorum and signs the minutes): the
 * chair and the representatives of a council; the parties of a mediation,
 * whose chair mediates and does not take sides. */
static bool votes(const Whistle__V1__DelibBody *b, const Whistle__V1__DelibSeat *s)
{
    if (!s)
        return false;
    if (mediation(b))
        return s->role == SR(PARTY);
    return s->role == SR(CHAIR) || s->role == SR(REPRESENTATIVE);
}

static const char *seat_role_name(Whistle__V1__DelibSeatRole r)
{
    switch (r) {
    case SR(CHAIR): return "the chair";
    case SR(REPRESENTATIVE): return "a representative";
    case SR(ATTENDEE): return "an attendee (列席)";
    case SR(OBSERVER): return "an observer (旁听)";
    case SR(SUPERVISOR): return "a supervisor";
    case SR(PARTY): return "a party (当事人)";
    default: return "no seat";
    }
}

/* The caller manages the body's place: admins, and operators and
 * community workers whose scope covers it. */
static bool manages(call *c, const Whistle__V1__DelibBody *b)
{
    const Whistle__V1__Principal *w = c->who;
    return w->role == ROLE(ADMIN) ||
           ((w->role == ROLE(OPERATOR) || w->role == ROLE(COMMUNITY)) && principal_covers(w, b->place));
}

/* The caller's seat; a caller without one is refused naming the rule. */
static Whistle__V1__DelibSeat *member(call *c, const Whistle__V1__DelibBody *b, const char *target, const char *rule)
{
    Whistle__V1__DelibSeat *s = seat_of(b, c->who->name);
    if (!s)
        call_deny(c, target, "%s holds no seat on body %llu (%s) (rule: %s)", str0(c->who->name),
                  (unsigned long long)b->id, str0(b->name), rule);
    return s;
}

/* Reads: the members, and those who manage the place. */
static int may_read(call *c, const Whistle__V1__DelibBody *b, const char *target)
{
    if (seat_of(b, c->who->name) || manages(c, b))
        return 0;
    return call_deny(c, target,
                     "%s holds no seat on body %llu and its place %s is outside the caller's scope (rule: a body's "
                     "records are read by its members and by those whose scope covers its place)",
                     str0(c->who->name), (unsigned long long)b->id, str0(b->place));
}

static int chair_only(call *c, const Whistle__V1__DelibBody *b, const char *target)
{
    Whistle__V1__DelibSeat *s = member(c, b, target, "only the chair presides");
    if (!s)
        return -1;
    if (s->role != SR(CHAIR))
        return call_deny(c, target, "%s is %s, not the chair (rule: only the chair %s)", str0(c->who->name),
                         seat_role_name(s->role), c->name);
    return 0;
}

/* Fills what a body's rules leave 0 from [deliberation] (the store's
 * defaults, set by main.c) and, when those are unset too (a store opened
 * without a config: the tests), from the seed's own rules. */
static void rules_fill(const store *st, Whistle__V1__DelibRules *r)
{
    const struct delib_defaults *d = &st->delib_defaults;
    bool cfg = d->quorum_den != 0;
    if (!r->notice_days)
        r->notice_days = cfg ? d->notice_days : 3;
    if (!r->quorum_den)
        r->quorum_num = cfg ? d->quorum_num : 2, r->quorum_den = cfg ? d->quorum_den : 3;
    if (!r->majority_den) {
        r->majority_num = cfg ? d->majority_num : 2, r->majority_den = cfg ? d->majority_den : 3;
        r->majority_of_all_seats = r->majority_of_all_seats || (cfg && d->majority_of_all_seats);
    }
    if (!r->speaking_limit_s)
        r->speaking_limit_s = cfg ? d->speaking_limit_s : 480;
    if (!r->tie_rule)
        r->tie_rule = cfg && d->tie_rule ? (Whistle__V1__DelibTieRule)d->tie_rule : TIE(RUNOFF);
    if (!r->sign_den)
        r->sign_num = cfg ? d->sign_num : 1, r->sign_den = cfg ? d->sign_den : 1;
}

static uint32_t voting_seats(const Whistle__V1__DelibBody *b)
{
    uint32_t n = 0;
    for (size_t i = 0; i < b->n_seats; i++)
        n += votes(b, b->seats[i]);
    return n;
}

static bool is_present(const Whistle__V1__DelibMeeting *m, const char *name)
{
    for (size_t i = 0; i < m->n_present; i++)
        if (strcmp(m->present[i], name) == 0)
            return true;
    return false;
}

static uint32_t voters_present(const Whistle__V1__DelibBody *b, const Whistle__V1__DelibMeeting *m)
{
    uint32_t n = 0;
    for (size_t i = 0; i < m->n_present; i++)
        n += votes(b, seat_of(b, m->present[i]));
    return n;
}

/* The live figures every answer carries. */
static void live(const call *c, const Whistle__V1__DelibBody *b, Whistle__V1__DelibMeeting *m)
{
    m->server_ms = c->now;
    m->voting_seats = voting_seats(b);
    m->voters_present = voters_present(b, m);
    m->quorum = m->voting_seats &&
                delib_fraction_met(m->voters_present, m->voting_seats, b->rules->quorum_num, b->rules->quorum_den);
    m->place = b->place;
}

/* A time for people: China Standard Time, the communities' own. */
static const char *when(call *c, int64_t ms)
{
    time_t t = (time_t)(ms / 1000) + 8 * 3600;
    struct tm tm;
    char buf[32];
    if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof buf, "%Y-%m-%d %H:%M", &tm))
        return "?";
    return arena_printf(c->a, "%s (UTC+8)", buf);
}

/* Appends p (action, the meeting or the proposal) to the stream of every
 * member of the body. "meeting_changed" follows every act and vote, with
 * the live figures (attendance, quorum, tallies, server_ms) already
 * computed: a chair's screen follows its stream instead of polling. The
 * record is the one every member may read with get_meeting, so the push
 * shows nobody more than they could already see. */
static int push_members(call *c, const Whistle__V1__DelibBody *b, const char *action, Whistle__V1__DelibMeeting *m,
                        Whistle__V1__DelibProposal *p)
{
    for (size_t i = 0; i < b->n_seats; i++) {
        Whistle__V1__Principal *who = directory_principal_get(c->st, c->txn, b->seats[i]->principal, c->a);
        char stream[160];
        stream_default_for(who, stream, sizeof stream);
        if (!who || !*stream)
            continue;
        Whistle__V1__Push *push = arena_alloc(c->a, sizeof *push);
        whistle__v1__push__init(push);
        push->action = (char *)action;
        push->actor = (char *)str0(c->who->name);
        push->delib_meeting = m;
        push->delib_proposal = p;
        int rc = stream_append(c->st, c->txn, stream, c->now, push, c->touched);
        if (rc)
            return call_store_fail(c, rc, "pushing to the members");
    }
    return 0;
}

/* ------------------------------------------------------------ bodies */

/* The community a place is in (itself when it is one), or NULL. */
static Whistle__V1__Node *community_of(call *c, const char *code)
{
    for (int depth = 0; depth < 8 && code && *code; depth++) {
        Whistle__V1__Node *n = directory_node_get(c->st, c->txn, code, c->a);
        if (!n)
            return NULL;
        if (n->kind == WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY)
            return n;
        if (n->kind < WHISTLE__V1__NODE_KIND__NODE_KIND_COMMUNITY)
            return NULL;
        code = n->parent;
    }
    return NULL;
}

static int check_rules(call *c, const Whistle__V1__DelibRules *r)
{
    if (r->quorum_num > r->quorum_den || r->majority_num > r->majority_den || r->sign_num > r->sign_den ||
        r->quorum_den > 100 || r->majority_den > 100 || r->sign_den > 100 || (r->quorum_den && !r->quorum_num) ||
        (r->majority_den && !r->majority_num) || (r->sign_den && !r->sign_num))
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "rules: each fraction is num/den with 1 <= num <= den <= 100 (den 0: the default)");
    if (r->notice_days > 60)
        return call_fail(c, CODE(INVALID_ARGUMENT), "rules: notice_days %u; at most 60", r->notice_days);
    if (r->speaking_limit_s > 3600)
        return call_fail(c, CODE(INVALID_ARGUMENT), "rules: speaking_limit_s %u; at most 3600", r->speaking_limit_s);
    if (r->tie_rule < 0 || r->tie_rule > TIE(LIST_ORDER))
        return call_fail(c, CODE(INVALID_ARGUMENT), "rules: tie_rule %d: 1 runoff, 2 list order", r->tie_rule);
    return 0;
}

static int scan_body(call *c, uint64_t body, char kind, int (*fn)(call *, void *, void *), void *ctx);
static int index_put(call *c, uint64_t body, char kind, uint64_t id);

struct open_of {
    uint64_t body, meeting;
};

static int find_open(call *c, void *m, void *ctx)
{
    struct open_of *o = ctx;
    Whistle__V1__DelibMeeting *mt = m;
    if (mt->body_id == o->body && mt->state == MS(OPEN))
        o->meeting = mt->id;
    return o->meeting != 0;
}

/* The body's open meeting, or 0. */
static uint64_t open_meeting_of(call *c, uint64_t body)
{
    struct open_of o = { body, 0 };
    scan_body(c, body, 'm', find_open, &o);
    return o.meeting;
}

void delib_put_body(call *c, const Whistle__V1__PutDelibBody *req)
{
    const Whistle__V1__DelibBody *in = req->body;
    if (!in)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "body is required");
    const char *place = str0(in->place);
    if (!*place || !digits_ok(place, strlen(place)))
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "place is required: a community's (or a grid's) code");
    Whistle__V1__Node *comm = community_of(c, place);
    if (!comm)
        return (void)call_fail(c, CODE(NOT_FOUND),
                               "no community at %s (a body belongs to a community or a place in one)", place);
    if (comm->retired)
        return (void)call_fail(c, CODE(FAILED_PRECONDITION), "community %s is retired", comm->code);
    Whistle__V1__DelibBody *old = NULL;
    void *before = NULL;
    size_t blen = 0;
    if (in->id) {
        old = load(c, c->st->delib_bodies, in->id, &whistle__v1__delib_body__descriptor, &before, &blen);
        if (!old)
            return (void)call_fail(c, CODE(NOT_FOUND), "no body %llu", (unsigned long long)in->id);
        if (strcmp(old->place, place) != 0)
            return (void)call_fail(c, CODE(INVALID_ARGUMENT), "body %llu belongs to %s; its place does not move",
                                   (unsigned long long)in->id, old->place);
    }
    Whistle__V1__DelibBody probe = { .place = (char *)place };
    if (!manages(c, &probe))
        return (void)call_deny(c, place,
                               "place %s is outside your scope %s (rule: a body is set up by admins, and by the "
                               "operators and community workers whose scope covers its place)",
                               place, str0(c->who->scope));
    if (check_text(c, "name", in->name, TITLE_MAX, true))
        return;
    if (in->n_seats == 0 || in->n_seats > MAX_SEATS)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "seats: 1 to %d, %zu given", MAX_SEATS, in->n_seats);
    if (in->kind < 0 || in->kind > KIND(MEDIATION))
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "kind %d: 1 council, 2 mediation (和解会)", in->kind);
    bool chair = false;
    size_t parties = 0;
    for (size_t i = 0; i < in->n_seats; i++) {
        const Whistle__V1__DelibSeat *s = in->seats[i];
        const char *name = str0(s->principal);
        Whistle__V1__Principal *p = ident_ok(name, 64) ? directory_principal_get(c->st, c->txn, name, c->a) : NULL;
        if (!p || !p->enabled)
            return (void)call_fail(c, CODE(INVALID_ARGUMENT), "seat %zu: \"%s\" is not an enabled principal", i + 1,
                                   name);
        if (p->role == ROLE(KIOSK) || p->role == ROLE(SENSOR) || p->role == ROLE(GATEWAY))
            return (void)call_fail(c, CODE(INVALID_ARGUMENT), "seat %zu: %s is %s; a seat is held by a person", i + 1,
                                   name, role_a(p->role));
        if (s->group < 1 || s->group > WHISTLE__V1__DELIB_GROUP__DELIB_GROUP_DEPUTIES)
            return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                                   "seat %zu: group %d: 1 community, 2 owners' committee, 3 property company, 4 "
                                   "residents, 5 deputies",
                                   i + 1, s->group);
        if (s->role < SR(CHAIR) || s->role > SR(PARTY))
            return (void)call_fail(
                c, CODE(INVALID_ARGUMENT),
                "seat %zu: role %d: 1 chair, 2 representative, 3 attendee, 4 observer, 5 supervisor, "
                "6 party (a mediation's)",
                i + 1, s->role);
        if (s->role == SR(PARTY) && in->kind != KIND(MEDIATION))
            return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                                   "seat %zu: %s is a party (当事人); parties sit on a mediation (kind mediation), "
                                   "not a council",
                                   i + 1, name);
        parties += s->role == SR(PARTY);
        if (check_text(c, "seat title", s->title, 100, false))
            return;
        chair |= s->role == SR(CHAIR);
        for (size_t j = 0; j < i; j++)
            if (strcmp(str0(in->seats[j]->principal), name) == 0)
                return (void)call_fail(c, CODE(INVALID_ARGUMENT), "%s holds two seats; one principal, one seat", name);
    }
    if (!chair)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "no seat has the chair's role; a body needs a chair");
    if (in->kind == KIND(MEDIATION) && parties < 2)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                               "a mediation (和解会) has %zu part%s; it settles a dispute between two or more parties "
                               "(role party)",
                               parties, parties == 1 ? "y" : "ies");
    if (old && old->kind != in->kind && (old->kind == KIND(MEDIATION) || in->kind == KIND(MEDIATION)))
        return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                               "body %llu is a %s; its kind does not change (set up a new body)",
                               (unsigned long long)old->id, mediation(old) ? "mediation" : "council");
    if (old && open_meeting_of(c, old->id))
        return (void)call_fail(
            c, CODE(FAILED_PRECONDITION),
            "body %llu is meeting (meeting %llu is open): its seats and rules change after the close",
            (unsigned long long)old->id, (unsigned long long)open_meeting_of(c, old->id));
    Whistle__V1__DelibRules *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__delib_rules__init(r);
    if (in->rules)
        *r = *in->rules;
    if (check_rules(c, r))
        return;
    if (in->kind == KIND(MEDIATION)) {
        /* an agreement is every party's: all present, all for, all sign */
        bool set_other = (r->quorum_den && r->quorum_num != r->quorum_den) ||
                         (r->majority_den && r->majority_num != r->majority_den) ||
                         (r->sign_den && r->sign_num != r->sign_den);
        if (set_other)
            return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                                   "rules: a mediation's quorum, majority and signatures are every party's (1/1): "
                                   "an agreement binds only those who agree to it");
        r->quorum_num = r->quorum_den = r->majority_num = r->majority_den = r->sign_num = r->sign_den = 1;
        r->majority_of_all_seats = true;
    }
    rules_fill(c->st, r);
    Whistle__V1__DelibBody *b = arena_alloc(c->a, sizeof *b);
    *b = *in;
    b->place = (char *)place;
    b->community = comm->code;
    b->rules = r;
    b->updated_ms = c->now;
    b->updated_by = (char *)str0(c->who->name);
    if (!old) {
        int rc = store_next_seq(c->txn, c->st, "delib_body_seq", &b->id);
        if (rc)
            return (void)call_store_fail(c, rc, "numbering the body");
    }
    if (save(c, c->st->delib_bodies, b->id, &b->base, "body", before, blen))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_BODY;
    c->resp->body = b;
}

void delib_get_body(call *c, const Whistle__V1__GetDelibBody *req)
{
    Whistle__V1__DelibBody *b = body_load(c, req->body_id);
    if (!b || may_read(c, b, arena_printf(c->a, "body:%llu", (unsigned long long)b->id)))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_BODY;
    c->resp->body = b;
}

/* ------------------------------------------------------------ proposals */

static Whistle__V1__DelibProposal *proposal_load(call *c, uint64_t id, void **bytes, size_t *len)
{
    return load(c, c->st->delib_proposals, id, &whistle__v1__delib_proposal__descriptor, bytes, len);
}

void delib_submit_proposal(call *c, const Whistle__V1__SubmitDelibProposal *req)
{
    Whistle__V1__DelibBody *b = body_load(c, req->body_id);
    if (!b)
        return;
    const char *target = arena_printf(c->a, "body:%llu", (unsigned long long)b->id);
    Whistle__V1__DelibSeat *s = member(c, b, target, "proposals are submitted by the body's members");
    if (!s)
        return;
    if (s->role == SR(OBSERVER))
        return (void)call_deny(c, target,
                               "%s is an observer (旁听) (rule: an observer neither speaks nor proposes; its seat "
                               "only watches)",
                               c->who->name);
    if (check_text(c, "title", req->title, TITLE_MAX, true) || check_text(c, "text", req->text, DESCRIPTION_MAX, false))
        return;
    const char *ticket = str0(req->from_ticket);
    if (*ticket) {
        /* Officials raise a case they can see; a representative sees no
         * case, and nobody learns here that a case exists outside their
         * scope (the same answer as a missing one). */
        if (c->who->role == ROLE(REPRESENTATIVE))
            return (void)call_deny(c, target,
                                   "%s is a representative (rule: a proposal is raised from a case by the officials "
                                   "who handle cases; a representative submits it without one)",
                                   c->who->name);
        Whistle__V1__Event *ev;
        event_snap snap;
        if (!ident_ok(ticket, 64) || event_load(c, ticket, &ev, &snap))
            return (void)call_fail(c, CODE(NOT_FOUND), "no case %.64s", ticket);
        if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, ev->node))
            return (void)call_hide(c, ticket, arena_printf(c->a, "no case %.64s", ticket),
                                   "case %s is at %s, outside the scope %s (rule: a proposal is raised from a case "
                                   "in the caller's scope)",
                                   ticket, ev->node, str0(c->who->scope));
        if (!scope_covers(b->community, ev->node))
            return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                                   "case %s is at %s, outside community %s: a body takes up its own community's cases",
                                   ticket, ev->node, b->community);
    }
    Whistle__V1__DelibProposal *p = arena_alloc(c->a, sizeof *p);
    whistle__v1__delib_proposal__init(p);
    int rc = store_next_seq(c->txn, c->st, "delib_proposal_seq", &p->id);
    if (rc)
        return (void)call_store_fail(c, rc, "numbering the proposal");
    p->body_id = b->id;
    p->title = (char *)str0(req->title);
    p->text = (char *)str0(req->text);
    p->submitted_by = (char *)str0(c->who->name);
    p->from_ticket = (char *)ticket;
    p->published_ms = c->now;
    p->eligible_ms = c->now + (int64_t)b->rules->notice_days * DAY_MS;
    p->state = PS(PUBLISHED);
    if (save(c, c->st->delib_proposals, p->id, &p->base, "proposal", NULL, 0) || index_put(c, b->id, 'p', p->id) ||
        push_members(c, b, "proposal_published", NULL, p))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_DELIB_PROPOSAL;
    c->resp->delib_proposal = p;
}

/* A new proposal ('p') or meeting ('m') of a body, in delib_by_body. */
static int index_put(call *c, uint64_t body, char kind, uint64_t id)
{
    uint8_t *k = arena_alloc(c->a, 17);
    store_be64(k, body);
    k[8] = (uint8_t)kind;
    store_be64(k + 9, id);
    MDB_val kk = { 17, k }, vv = { 0, "" };
    int rc = mdb_put(c->txn, c->st->delib_by_body, &kk, &vv, 0);
    return rc ? call_store_fail(c, rc, "indexing the deliberation record") : 0;
}

/* Calls fn on each of a body's proposals ('p') or meetings ('m'), in id
 * order, until it returns non-zero: through delib_by_body, so a body's
 * listing reads its own records only. */
static int scan_body(call *c, uint64_t body, char kind, int (*fn)(call *, void *, void *), void *ctx)
{
    MDB_dbi dbi = kind == 'p' ? c->st->delib_proposals : c->st->delib_meetings;
    const ProtobufCMessageDescriptor *d =
        kind == 'p' ? &whistle__v1__delib_proposal__descriptor : &whistle__v1__delib_meeting__descriptor;
    uint8_t prefix[9];
    store_be64(prefix, body);
    prefix[8] = (uint8_t)kind;
    MDB_cursor *cur;
    int rc = mdb_cursor_open(c->txn, c->st->delib_by_body, &cur);
    if (rc)
        return call_store_fail(c, rc, "listing");
    MDB_val k = { sizeof prefix, prefix }, v;
    for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); rc == 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
        if (k.mv_size != 17 || memcmp(k.mv_data, prefix, sizeof prefix) != 0)
            break;
        void *bytes;
        size_t len;
        int grc = store_get_bytes(c->txn, dbi, (const uint8_t *)k.mv_data + 9, 8, c->a, &bytes, &len);
        if (grc == MDB_NOTFOUND)
            continue; /* whistled --check reports an index entry without its record */
        if (grc) {
            rc = grc;
            break;
        }
        void *m = protobuf_c_message_unpack(d, arena_allocator(c->a), len, bytes);
        if (m && fn(c, m, ctx))
            break;
    }
    mdb_cursor_close(cur);
    return rc == 0 || rc == MDB_NOTFOUND ? 0 : call_store_fail(c, rc, "listing");
}

struct collect {
    uint64_t body;
    ptr_vec out;
};

static int collect_proposal(call *c, void *m, void *ctx)
{
    struct collect *k = ctx;
    Whistle__V1__DelibProposal *p = m;
    if (p->body_id == k->body && k->out.n < 1000)
        ptr_vec_push(c->a, &k->out, p);
    return 0;
}

void delib_list_proposals(call *c, const Whistle__V1__ListDelibProposals *req)
{
    Whistle__V1__DelibBody *b = body_load(c, req->body_id);
    if (!b || may_read(c, b, arena_printf(c->a, "body:%llu", (unsigned long long)b->id)))
        return;
    struct collect k = { .body = b->id };
    if (scan_body(c, b->id, 'p', collect_proposal, &k))
        return;
    Whistle__V1__DelibProposalList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__delib_proposal_list__init(l);
    l->proposals = (Whistle__V1__DelibProposal **)k.out.items;
    l->n_proposals = k.out.n;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_DELIB_PROPOSALS;
    c->resp->delib_proposals = l;
}

/* ------------------------------------------------------------ meetings */

typedef struct mctx {
    Whistle__V1__DelibMeeting *m;
    Whistle__V1__DelibBody *b;
    void *before;
    size_t blen;
    const char *target;
} mctx;

static int meeting_load(call *c, uint64_t id, mctx *x)
{
    if (!id)
        return call_fail(c, CODE(INVALID_ARGUMENT), "meeting_id is required");
    x->m = load(c, c->st->delib_meetings, id, &whistle__v1__delib_meeting__descriptor, &x->before, &x->blen);
    if (!x->m)
        return call_fail(c, CODE(NOT_FOUND), "no meeting %llu", (unsigned long long)id);
    x->target = arena_printf(c->a, "meeting:%llu", (unsigned long long)id);
    x->b = body_load(c, x->m->body_id);
    return x->b ? 0 : -1;
}

static void reply_meeting(call *c, const mctx *x)
{
    live(c, x->b, x->m);
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_MEETING;
    c->resp->meeting = x->m;
}

static int meeting_save(call *c, mctx *x)
{
    /* the live figures are computed, not kept */
    x->m->voting_seats = 0;
    x->m->voters_present = 0;
    x->m->quorum = false;
    x->m->place = NULL;
    x->m->server_ms = 0;
    if (save(c, c->st->delib_meetings, x->m->id, &x->m->base, "meeting", x->before, x->blen))
        return -1;
    reply_meeting(c, x);
    return 0;
}

/* A proposal still in its notice period is refused naming the day it
 * becomes eligible. */
static int notice_ran(call *c, const Whistle__V1__DelibBody *b, const Whistle__V1__DelibProposal *p, int64_t at)
{
    if (p->eligible_ms <= at)
        return 0;
    return call_fail(c, CODE(FAILED_PRECONDITION),
                     "proposal %llu was published %s and may be taken up from %s (rule: a proposal is published %u "
                     "days before a meeting takes it, 上会前须公示)",
                     (unsigned long long)p->id, when(c, p->published_ms), when(c, p->eligible_ms),
                     b->rules->notice_days);
}

void delib_schedule_meeting(call *c, const Whistle__V1__ScheduleDelibMeeting *req)
{
    if (req->n_items == 0 || req->n_items > MAX_ITEMS)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "items: 1 to %d, %zu given", MAX_ITEMS, req->n_items);
    Whistle__V1__DelibBody *b = body_load(c, req->body_id);
    if (!b)
        return;
    const char *target = arena_printf(c->a, "body:%llu", (unsigned long long)b->id);
    if (chair_only(c, b, target))
        return;
    if (check_text(c, "title", req->title, TITLE_MAX, true))
        return;
    if (req->starts_ms <= c->now)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "starts_ms is required and must be in the future");
    Whistle__V1__DelibMeeting *m = arena_alloc(c->a, sizeof *m);
    whistle__v1__delib_meeting__init(m);
    m->items = arena_alloc(c->a, req->n_items * sizeof *m->items);
    ptr_vec props = { 0 };
    for (size_t i = 0; i < req->n_items; i++) {
        const Whistle__V1__DelibItemSpec *sp = req->items[i];
        Whistle__V1__DelibItem *it = arena_alloc(c->a, sizeof *it);
        whistle__v1__delib_item__init(it);
        it->no = (uint32_t)i + 1;
        it->state = IS(PENDING);
        if (sp->proposal_id) {
            if (sp->n_candidates || sp->winners)
                return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                                       "item %zu: a proposal or a ballot's candidates, not both", i + 1);
            void *pb;
            size_t pl;
            Whistle__V1__DelibProposal *p = proposal_load(c, sp->proposal_id, &pb, &pl);
            if (!p || p->body_id != b->id)
                return (void)call_fail(c, CODE(NOT_FOUND), "item %zu: body %llu has no proposal %llu", i + 1,
                                       (unsigned long long)b->id, (unsigned long long)sp->proposal_id);
            if (p->state != PS(PUBLISHED))
                return (void)call_fail(c, CODE(FAILED_PRECONDITION),
                                       "item %zu: proposal %llu is on another agenda or decided already", i + 1,
                                       (unsigned long long)p->id);
            /* props holds (proposal, its bytes, their length) triples */
            for (size_t j = 0; j < props.n; j += 3)
                if (((Whistle__V1__DelibProposal *)props.items[j])->id == p->id)
                    return (void)call_fail(c, CODE(INVALID_ARGUMENT), "proposal %llu is on the agenda twice",
                                           (unsigned long long)p->id);
            if (notice_ran(c, b, p, req->starts_ms))
                return;
            it->proposal_id = p->id;
            it->title = p->title;
            ptr_vec_push(c->a, &props, p);
            ptr_vec_push(c->a, &props, pb);
            ptr_vec_push(c->a, &props, (void *)(uintptr_t)pl);
        } else {
            if (check_text(c, "ballot title", sp->title, TITLE_MAX, true))
                return;
            if (sp->n_candidates < 2 || sp->n_candidates > MAX_CANDIDATES)
                return (void)call_fail(c, CODE(INVALID_ARGUMENT), "item %zu: a ballot has 2 to %d candidates", i + 1,
                                       MAX_CANDIDATES);
            if (sp->winners < 1 || sp->winners >= sp->n_candidates)
                return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                                       "item %zu: winners %u; a ballot (差额票决) has more candidates (%zu) than "
                                       "winners, and at least one",
                                       i + 1, sp->winners, sp->n_candidates);
            for (size_t j = 0; j < sp->n_candidates; j++) {
                if (check_text(c, "candidate", sp->candidates[j], TITLE_MAX, true))
                    return;
                for (size_t k = 0; k < j; k++)
                    if (strcmp(sp->candidates[j], sp->candidates[k]) == 0)
                        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "item %zu: candidate \"%s\" is listed twice",
                                               i + 1, sp->candidates[j]);
            }
            it->title = sp->title;
            it->candidates = sp->candidates;
            it->n_candidates = sp->n_candidates;
            it->winners = sp->winners;
        }
        m->items[m->n_items++] = it;
    }
    int rc = store_next_seq(c->txn, c->st, "delib_meeting_seq", &m->id);
    if (rc)
        return (void)call_store_fail(c, rc, "numbering the meeting");
    m->body_id = b->id;
    m->title = req->title;
    m->starts_ms = req->starts_ms;
    m->state = MS(SCHEDULED);
    m->scheduled_by = (char *)str0(c->who->name);
    for (size_t j = 0; j < props.n; j += 3) {
        Whistle__V1__DelibProposal *p = props.items[j];
        p->state = PS(ON_AGENDA);
        p->meeting_id = m->id;
        if (save(c, c->st->delib_proposals, p->id, &p->base, "proposal", props.items[j + 1],
                 (size_t)(uintptr_t)props.items[j + 2]))
            return;
    }
    mctx x = { .m = m, .b = b };
    if (meeting_save(c, &x) || index_put(c, b->id, 'm', m->id) || push_members(c, b, "meeting_scheduled", m, NULL))
        return;
}

void delib_get_meeting(call *c, const Whistle__V1__GetDelibMeeting *req)
{
    mctx x;
    if (meeting_load(c, req->meeting_id, &x) || may_read(c, x.b, x.target))
        return;
    reply_meeting(c, &x);
}

static Whistle__V1__DelibItem *item_of(call *c, const mctx *x, uint32_t no)
{
    if (!no || no > x->m->n_items)
        return call_fail(c, CODE(INVALID_ARGUMENT), "item_no %u: meeting %llu has items 1 to %zu", no,
                         (unsigned long long)x->m->id, x->m->n_items),
               NULL;
    return x->m->items[no - 1];
}

static int need_state(call *c, const mctx *x, Whistle__V1__DelibMeetingState s)
{
    if (x->m->state == s)
        return 0;
    static const char *const names[] = { "?", "scheduled", "open", "closed", "cancelled" };
    return call_fail(c, CODE(FAILED_PRECONDITION), "meeting %llu is %s; %s needs it %s", (unsigned long long)x->m->id,
                     names[x->m->state >= 0 && x->m->state <= 4 ? x->m->state : 0], c->name, names[s]);
}

static Whistle__V1__DelibSpeaker *current_speaker(const Whistle__V1__DelibMeeting *m)
{
    for (size_t i = 0; i < m->n_speakers; i++)
        if (m->speakers[i]->started_ms && !m->speakers[i]->ended_ms)
            return m->speakers[i];
    return NULL;
}

static bool red_carded(const Whistle__V1__DelibMeeting *m, const char *name)
{
    for (size_t i = 0; i < m->n_warnings; i++)
        if (m->warnings[i]->card == CARD(RED) && strcmp(m->warnings[i]->principal, name) == 0)
            return true;
    return false;
}

static void push_ptr(call *c, void ***arr, size_t *n, void *p)
{
    void **a = arena_alloc(c->a, (*n + 1) * sizeof *a);
    if (*n)
        memcpy(a, *arr, *n * sizeof *a);
    a[(*n)++] = p;
    *arr = a;
}

static void end_speaker(call *c, Whistle__V1__DelibSpeaker *s)
{
    s->ended_ms = c->now;
    s->over_limit = c->now > s->limit_ms;
}

/* The result of a vote item by the rules; the proposal's state follows. */
static void count_vote(call *c, const mctx *x, Whistle__V1__DelibItem *it)
{
    const Whistle__V1__DelibRules *r = x->b->rules;
    it->votes_for = it->votes_against = it->votes_abstain = 0;
    for (size_t i = 0; i < it->n_votes; i++) {
        Whistle__V1__DelibChoice ch = it->votes[i]->choice;
        it->votes_for += ch == CH(FOR);
        it->votes_against += ch == CH(AGAINST);
        it->votes_abstain += ch == CH(ABSTAIN);
    }
    it->majority_base = r->majority_of_all_seats ? voting_seats(x->b) : voters_present(x->b, x->m);
    it->passed =
        it->majority_base && delib_fraction_met(it->votes_for, it->majority_base, r->majority_num, r->majority_den);
    it->result = arena_printf(
        c->a, "%s: %u for, %u against, %u abstaining; %u of %u %s needed (rule: %u/%u of %s)",
        it->passed ? "passed" : "rejected", it->votes_for, it->votes_against, it->votes_abstain,
        (uint32_t)(((uint64_t)it->majority_base * r->majority_num + r->majority_den - 1) / r->majority_den),
        it->majority_base, r->majority_of_all_seats ? "seats" : "present", r->majority_num, r->majority_den,
        r->majority_of_all_seats ? "all voting seats" : "the voters present");
}

/* A ballot's result: top K by approvals; a tie at the last place by the
 * body's rule. */
static void count_ballot(call *c, const mctx *x, Whistle__V1__DelibItem *it)
{
    size_t n = it->n_candidates;
    uint32_t *tally = arena_alloc(c->a, n * sizeof *tally);
    size_t *order = arena_alloc(c->a, n * sizeof *order);
    memset(tally, 0, n * sizeof *tally);
    for (size_t i = 0; i < it->n_votes; i++)
        for (size_t j = 0; j < it->votes[i]->n_approvals; j++)
            if (it->votes[i]->approvals[j] < n)
                tally[it->votes[i]->approvals[j]]++;
    /* stable insertion sort: more approvals first, then list order */
    for (size_t i = 0; i < n; i++) {
        size_t j = i;
        while (j > 0 && tally[order[j - 1]] < tally[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    it->tally = tally;
    it->n_tally = n;
    uint32_t k = it->winners, cut = tally[order[k - 1]];
    bool tie = tally[order[k]] == cut;
    it->elected = arena_alloc(c->a, n * sizeof *it->elected);
    it->tied = arena_alloc(c->a, n * sizeof *it->tied);
    it->n_elected = it->n_tied = 0;
    for (size_t i = 0; i < n; i++) {
        const char *name = it->candidates[order[i]];
        if (!tie || x->b->rules->tie_rule == TIE(LIST_ORDER)) {
            if (i < k)
                it->elected[it->n_elected++] = (char *)name;
        } else if (tally[order[i]] > cut)
            it->elected[it->n_elected++] = (char *)name;
        else if (tally[order[i]] == cut)
            it->tied[it->n_tied++] = (char *)name;
    }
    it->passed = it->n_elected == k;
    it->result =
        !tie ? arena_printf(c->a, "%u elected by approvals (rule: the top %u win)", k, k)
        : x->b->rules->tie_rule == TIE(LIST_ORDER)
            ? arena_printf(c->a, "%u elected; a tie at %u approvals broken by list order (rule: tie_rule list_order)",
                           k, cut)
            : arena_printf(c->a,
                           "%zu elected; %zu tied at %u approvals for %zu place(s): a runoff among them is needed "
                           "(rule: tie_rule runoff)",
                           it->n_elected, it->n_tied, cut, k - it->n_elected);
}

/* A ballot tied for its last places under the runoff rule: a new ballot
 * among the tied, for the places left, appended to the agenda for the
 * chair to put to the vote like any item (the same quorum, the same
 * rules; a tie again appends another). A full agenda leaves it to another
 * meeting, and the result says so. */
static void add_runoff(call *c, mctx *x, Whistle__V1__DelibItem *it)
{
    Whistle__V1__DelibMeeting *m = x->m;
    uint32_t places = it->winners - (uint32_t)it->n_elected;
    if (m->n_items >= MAX_ITEMS) {
        it->result = arena_printf(c->a, "%s; the agenda is full (%d items): the runoff goes to another meeting",
                                  it->result, MAX_ITEMS);
        return;
    }
    Whistle__V1__DelibItem *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__delib_item__init(r);
    r->no = (uint32_t)m->n_items + 1;
    r->state = IS(PENDING);
    r->title = arena_printf(c->a, "%s (决选 runoff)", it->title);
    r->candidates = arena_alloc(c->a, it->n_tied * sizeof *r->candidates);
    memcpy(r->candidates, it->tied, it->n_tied * sizeof *r->candidates);
    r->n_candidates = it->n_tied;
    r->winners = places;
    r->runoff_of = it->no;
    push_ptr(c, (void ***)&m->items, &m->n_items, r);
    it->runoff = r->no;
    uint32_t cut = 0; /* the tied candidates' approvals */
    for (size_t i = 0; i < it->n_candidates && i < it->n_tally; i++)
        if (strcmp(it->candidates[i], it->tied[0]) == 0)
            cut = it->tally[i];
    it->result = arena_printf(c->a,
                              "%zu elected; %zu tied at %u approvals for %u place(s): runoff among them as item %u "
                              "(rule: tie_rule runoff)",
                              it->n_elected, it->n_tied, cut, places, r->no);
}

static int close_vote(call *c, mctx *x, Whistle__V1__DelibItem *it, const Whistle__V1__DelibMeetingAct *req)
{
    const char *owner = str0(req->follow_owner);
    if (!!*owner != !!req->follow_deadline_ms)
        return call_fail(c, CODE(INVALID_ARGUMENT), "follow_owner and follow_deadline_ms: both or neither");
    if (*owner && !it->proposal_id)
        return call_fail(c, CODE(INVALID_ARGUMENT), "item %u is a ballot; a follow-up is for a proposal", it->no);
    if (*owner) {
        Whistle__V1__Principal *p = ident_ok(owner, 64) ? directory_principal_get(c->st, c->txn, owner, c->a) : NULL;
        if (!p || !p->enabled)
            return call_fail(c, CODE(INVALID_ARGUMENT), "follow_owner \"%s\" is not an enabled principal", owner);
        if (req->follow_deadline_ms <= c->now)
            return call_fail(c, CODE(INVALID_ARGUMENT), "follow_deadline_ms must be in the future");
    }
    it->state = IS(CLOSED);
    if (!it->proposal_id) {
        count_ballot(c, x, it);
        if (it->n_tied) /* only the runoff rule leaves candidates tied */
            add_runoff(c, x, it);
        return 0;
    }
    count_vote(c, x, it);
    void *pb;
    size_t pl;
    Whistle__V1__DelibProposal *p = proposal_load(c, it->proposal_id, &pb, &pl);
    if (!p)
        return call_fail(c, CODE(INTERNAL), "proposal %llu of item %u is missing", (unsigned long long)it->proposal_id,
                         it->no);
    p->state = it->passed ? PS(PASSED) : PS(REJECTED);
    if (it->passed && *owner) {
        Whistle__V1__Task *t;
        if (task_create(c, x->b->community, "deliberation", p->title, p->text, req->follow_deadline_ms, owner, p->id,
                        &t))
            return -1;
        p->task_id = t->id;
        it->follow_owner = (char *)owner;
        it->follow_deadline_ms = req->follow_deadline_ms;
    }
    return save(c, c->st->delib_proposals, p->id, &p->base, "proposal", pb, pl);
}

/* The minutes, drafted at the close from what happened. */
static void draft_minutes(call *c, mctx *x)
{
    Whistle__V1__DelibMeeting *m = x->m;
    const Whistle__V1__DelibRules *r = x->b->rules;
    uint32_t seats = voting_seats(x->b), here = voters_present(x->b, m);
    char *t = arena_printf(c->a,
                           "Minutes of meeting %llu of %s: %s\nOpened %s, closed %s.\nPresent: %zu; voters %u of %u "
                           "voting seats (quorum %u/%u: %s).\n",
                           (unsigned long long)m->id, x->b->name, m->title, when(c, m->opened_ms), when(c, c->now),
                           m->n_present, here, seats, r->quorum_num, r->quorum_den,
                           delib_fraction_met(here, seats, r->quorum_num, r->quorum_den) ? "met" : "not met");
    for (size_t i = 0; i < m->n_present; i++)
        t = arena_printf(c->a, "%s%s %s\n", t, i ? "  " : "Attendance:", m->present[i]);
    for (size_t i = 0; i < m->n_speakers; i++) {
        Whistle__V1__DelibSpeaker *s = m->speakers[i];
        if (!s->started_ms)
            continue;
        t = arena_printf(c->a, "%sSpeaker %s: %lld s%s\n", t, s->principal,
                         (long long)(((s->ended_ms ? s->ended_ms : c->now) - s->started_ms) / 1000),
                         s->over_limit ? " (over the limit)" : "");
    }
    for (size_t i = 0; i < m->n_items; i++) {
        Whistle__V1__DelibItem *it = m->items[i];
        t = arena_printf(c->a, "%sItem %u, %s: %s\n", t, it->no, it->title,
                         it->state == IS(CLOSED) ? it->result : "not voted");
        for (size_t j = 0; j < it->n_elected; j++)
            t = arena_printf(c->a, "%s  elected: %s\n", t, it->elected[j]);
        for (size_t j = 0; j < it->n_tied; j++)
            t = arena_printf(c->a, "%s  tied: %s\n", t, it->tied[j]);
    }
    for (size_t i = 0; i < m->n_warnings; i++)
        t = arena_printf(c->a, "%s%s card to %s: %s\n", t, m->warnings[i]->card == CARD(RED) ? "Red" : "Yellow",
                         m->warnings[i]->principal, m->warnings[i]->reason);
    Whistle__V1__DelibMinutes *mn = arena_alloc(c->a, sizeof *mn);
    whistle__v1__delib_minutes__init(mn);
    mn->text = t;
    mn->drafted_ms = c->now;
    uint32_t need = (uint32_t)(((uint64_t)here * r->sign_num + r->sign_den - 1) / r->sign_den);
    mn->required = need ? need : 1;
    m->minutes = mn;
}

void delib_meeting_act(call *c, const Whistle__V1__DelibMeetingAct *req)
{
    mctx x;
    if (meeting_load(c, req->meeting_id, &x))
        return;
    Whistle__V1__DelibMeeting *m = x.m;
    const char *me = str0(c->who->name);
    switch (req->action) {
    case ACT(OPEN):
        if (chair_only(c, x.b, x.target) || need_state(c, &x, MS(SCHEDULED)))
            return;
        for (size_t i = 0; i < m->n_items; i++) {
            void *pb;
            size_t pl;
            Whistle__V1__DelibProposal *p =
                m->items[i]->proposal_id ? proposal_load(c, m->items[i]->proposal_id, &pb, &pl) : NULL;
            if (p && notice_ran(c, x.b, p, c->now))
                return;
        }
        m->state = MS(OPEN);
        m->opened_ms = c->now;
        break;
    case ACT(CHECK_IN): {
        if (!member(c, x.b, x.target, "members check in; the public follows the published minutes"))
            return;
        if (m->state == MS(CLOSED) || m->state == MS(CANCELLED))
            return (void)need_state(c, &x, MS(OPEN));
        if (is_present(m, me))
            return (void)call_fail(c, CODE(FAILED_PRECONDITION), "%s is checked in already", me);
        push_ptr(c, (void ***)&m->present, &m->n_present, (void *)me);
        break;
    }
    case ACT(QUEUE): {
        Whistle__V1__DelibSeat *s = member(c, x.b, x.target, "only members speak");
        if (!s)
            return;
        if (s->role == SR(OBSERVER))
            return (void)call_deny(
                c, x.target, "%s is an observer (旁听) (rule: observers may not speak; attendees (列席) may)", me);
        if (red_carded(m, me))
            return (void)call_deny(c, x.target, "%s was shown the red card (rule: a red card takes the floor away)",
                                   me);
        if (need_state(c, &x, MS(OPEN)))
            return;
        if (!is_present(m, me))
            return (void)call_fail(c, CODE(FAILED_PRECONDITION), "%s has not checked in", me);
        for (size_t i = 0; i < m->n_speakers; i++)
            if (!m->speakers[i]->ended_ms && strcmp(m->speakers[i]->principal, me) == 0)
                return (void)call_fail(c, CODE(FAILED_PRECONDITION), "%s is in the queue already", me);
        Whistle__V1__DelibSpeaker *sp = arena_alloc(c->a, sizeof *sp);
        whistle__v1__delib_speaker__init(sp);
        sp->principal = (char *)me;
        sp->queued_ms = c->now;
        push_ptr(c, (void ***)&m->speakers, &m->n_speakers, sp);
        break;
    }
    case ACT(NEXT_SPEAKER): {
        if (chair_only(c, x.b, x.target) || need_state(c, &x, MS(OPEN)))
            return;
        Whistle__V1__DelibSpeaker *cur = current_speaker(m), *next = NULL;
        for (size_t i = 0; i < m->n_speakers && !next; i++)
            if (!m->speakers[i]->started_ms)
                next = m->speakers[i];
        if (!cur && !next)
            return (void)call_fail(c, CODE(FAILED_PRECONDITION), "nobody is speaking or waiting to speak");
        if (cur)
            end_speaker(c, cur);
        if (next) {
            next->started_ms = c->now;
            next->limit_ms = c->now + (int64_t)x.b->rules->speaking_limit_s * 1000;
        }
        break;
    }
    case ACT(OPEN_VOTE): {
        if (chair_only(c, x.b, x.target) || need_state(c, &x, MS(OPEN)))
            return;
        Whistle__V1__DelibItem *it = item_of(c, &x, req->item_no);
        if (!it)
            return;
        if (it->state != IS(PENDING))
            return (void)call_fail(c, CODE(FAILED_PRECONDITION), "item %u was put to the vote already", it->no);
        for (size_t i = 0; i < m->n_items; i++)
            if (m->items[i]->state == IS(VOTING))
                return (void)call_fail(c, CODE(FAILED_PRECONDITION), "item %u is being voted on; close it first",
                                       m->items[i]->no);
        uint32_t seats = voting_seats(x.b), here = voters_present(x.b, m);
        const Whistle__V1__DelibRules *r = x.b->rules;
        if (!delib_fraction_met(here, seats, r->quorum_num, r->quorum_den))
            return (void)call_fail(c, CODE(FAILED_PRECONDITION),
                                   "no quorum: %u of %u voting seats present, %u needed (rule: a vote needs %u/%u of "
                                   "the voting seats present)",
                                   here, seats,
                                   (uint32_t)(((uint64_t)seats * r->quorum_num + r->quorum_den - 1) / r->quorum_den),
                                   r->quorum_num, r->quorum_den);
        it->state = IS(VOTING);
        break;
    }
    case ACT(CLOSE_VOTE): {
        if (chair_only(c, x.b, x.target) || need_state(c, &x, MS(OPEN)))
            return;
        Whistle__V1__DelibItem *it = item_of(c, &x, req->item_no);
        if (!it)
            return;
        if (it->state != IS(VOTING))
            return (void)call_fail(c, CODE(FAILED_PRECONDITION), "item %u is not being voted on", it->no);
        if (close_vote(c, &x, it, req))
            return;
        break;
    }
    case ACT(WARN): {
        if (chair_only(c, x.b, x.target) || need_state(c, &x, MS(OPEN)))
            return;
        const char *who = str0(req->principal);
        if (!seat_of(x.b, who))
            return (void)call_fail(c, CODE(INVALID_ARGUMENT), "\"%.64s\" holds no seat on this body", who);
        if (req->card != CARD(YELLOW) && req->card != CARD(RED))
            return (void)call_fail(c, CODE(INVALID_ARGUMENT), "card %d: 1 yellow, 2 red", req->card);
        if (check_text(c, "reason", req->reason, NOTE_MAX, true))
            return;
        Whistle__V1__DelibWarning *w = arena_alloc(c->a, sizeof *w);
        whistle__v1__delib_warning__init(w);
        w->principal = (char *)who;
        w->card = req->card;
        w->reason = req->reason;
        w->at_ms = c->now;
        push_ptr(c, (void ***)&m->warnings, &m->n_warnings, w);
        if (req->card == CARD(RED)) {
            /* the floor is taken away: speaking ends, waiting is dropped */
            for (size_t i = 0; i < m->n_speakers; i++) {
                Whistle__V1__DelibSpeaker *s = m->speakers[i];
                if (strcmp(s->principal, who) == 0 && !s->ended_ms) {
                    if (!s->started_ms)
                        s->started_ms = c->now, s->limit_ms = c->now;
                    end_speaker(c, s);
                }
            }
        }
        break;
    }
    case ACT(CLOSE): {
        if (chair_only(c, x.b, x.target) || need_state(c, &x, MS(OPEN)))
            return;
        for (size_t i = 0; i < m->n_items; i++)
            if (m->items[i]->state == IS(VOTING))
                return (void)call_fail(c, CODE(FAILED_PRECONDITION), "item %u is being voted on; close it first",
                                       m->items[i]->no);
        Whistle__V1__DelibSpeaker *cur = current_speaker(m);
        if (cur)
            end_speaker(c, cur);
        m->state = MS(CLOSED);
        m->closed_ms = c->now;
        draft_minutes(c, &x);
        break;
    }
    case ACT(CANCEL): {
        if (chair_only(c, x.b, x.target) || need_state(c, &x, MS(SCHEDULED)))
            return;
        /* its proposals wait for another meeting */
        for (size_t i = 0; i < m->n_items; i++) {
            void *pb;
            size_t pl;
            Whistle__V1__DelibProposal *p =
                m->items[i]->proposal_id ? proposal_load(c, m->items[i]->proposal_id, &pb, &pl) : NULL;
            if (!p || p->meeting_id != m->id)
                continue;
            p->state = PS(PUBLISHED);
            p->meeting_id = 0;
            if (save(c, c->st->delib_proposals, p->id, &p->base, "proposal", pb, pl))
                return;
        }
        m->state = MS(CANCELLED);
        m->closed_ms = c->now;
        if (meeting_save(c, &x) || push_members(c, x.b, "meeting_cancelled", m, NULL))
            return;
        return;
    }
    default:
        return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                               "action %d: 1 open, 2 check_in, 3 queue, 4 next_speaker, 5 open_vote, 6 close_vote, 7 "
                               "warn, 8 close, 9 cancel",
                               req->action);
    }
    if (meeting_save(c, &x) == 0)
        push_members(c, x.b, "meeting_changed", x.m, NULL);
}

void delib_cast_vote(call *c, const Whistle__V1__CastDelibVote *req)
{
    if (req->n_approvals > MAX_CANDIDATES)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "approvals: %zu; a ballot has at most %d candidates",
                               req->n_approvals, MAX_CANDIDATES);
    mctx x;
    if (meeting_load(c, req->meeting_id, &x))
        return;
    const char *me = str0(c->who->name);
    Whistle__V1__DelibSeat *s = member(c, x.b, x.target, "only the body's representatives vote");
    if (!s)
        return;
    if (!votes(x.b, s) && mediation(x.b))
        return (void)call_deny(
            c, x.target,
            "%s is %s (rule: in a mediation (和解会) only the parties (当事人) agree or disagree; the "
            "chair mediates)",
            me, seat_role_name(s->role));
    if (!votes(x.b, s))
        return (void)call_deny(c, x.target, "%s is %s (rule: only the chair and the representatives vote; %s)", me,
                               seat_role_name(s->role),
                               s->role == SR(OBSERVER) ? "an observer (旁听) neither speaks nor votes"
                                                       : "an attendee (列席) or a supervisor speaks but does not vote");
    Whistle__V1__DelibItem *it = item_of(c, &x, req->item_no);
    if (!it)
        return;
    if (it->state != IS(VOTING))
        return (void)call_fail(c, CODE(FAILED_PRECONDITION),
                               "item %u is %s (rule: votes are cast, and changed, only while the chair holds the vote "
                               "open)",
                               it->no, it->state == IS(CLOSED) ? "closed" : "not open for votes yet");
    if (!is_present(x.m, me))
        return (void)call_fail(c, CODE(FAILED_PRECONDITION), "%s has not checked in (rule: only those present vote)",
                               me);
    if (it->proposal_id) {
        if (req->choice < CH(FOR) || req->choice > CH(ABSTAIN) || req->n_approvals)
            return (void)call_fail(c, CODE(INVALID_ARGUMENT), "item %u is a vote: choice 1 for, 2 against, 3 abstain",
                                   it->no);
    } else {
        if (req->choice || req->n_approvals > it->winners)
            return (void)call_fail(c, CODE(INVALID_ARGUMENT),
                                   "item %u is a ballot: approve up to %u of its %zu candidates (no choice)", it->no,
                                   it->winners, it->n_candidates);
        for (size_t i = 0; i < req->n_approvals; i++) {
            if (req->approvals[i] >= it->n_candidates)
                return (void)call_fail(c, CODE(INVALID_ARGUMENT), "candidate %u: the ballot has candidates 0 to %zu",
                                       req->approvals[i], it->n_candidates - 1);
            for (size_t j = 0; j < i; j++)
                if (req->approvals[i] == req->approvals[j])
                    return (void)call_fail(c, CODE(INVALID_ARGUMENT), "candidate %u is approved twice",
                                           req->approvals[i]);
        }
    }
    Whistle__V1__DelibVote *v = arena_alloc(c->a, sizeof *v);
    whistle__v1__delib_vote__init(v);
    v->principal = (char *)me;
    v->choice = req->choice;
    v->approvals = req->approvals;
    v->n_approvals = req->n_approvals;
    v->at_ms = c->now;
    size_t i = 0;
    while (i < it->n_votes && strcmp(it->votes[i]->principal, me) != 0)
        i++;
    if (i < it->n_votes)
        it->votes[i] = v; /* changed: the last one counts */
    else
        push_ptr(c, (void ***)&it->votes, &it->n_votes, v);
    if (meeting_save(c, &x) == 0)
        push_members(c, x.b, "meeting_changed", x.m, NULL);
}

void delib_sign_minutes(call *c, const Whistle__V1__SignDelibMinutes *req)
{
    mctx x;
    if (meeting_load(c, req->meeting_id, &x))
        return;
    const char *me = str0(c->who->name);
    Whistle__V1__DelibSeat *s = member(c, x.b, x.target, "the minutes are signed by the representatives present");
    if (!s || need_state(c, &x, MS(CLOSED)))
        return;
    if (!votes(x.b, s) || !is_present(x.m, me))
        return (void)call_deny(c, x.target, "%s is %s%s (rule: the minutes are signed by the %s present)", me,
                               seat_role_name(s->role), is_present(x.m, me) ? "" : " and was not present",
                               mediation(x.b) ? "parties" : "representatives");
    Whistle__V1__DelibMinutes *mn = x.m->minutes;
    if (mn->published)
        return (void)call_fail(c, CODE(FAILED_PRECONDITION),
                               "the minutes were published %s with %zu signatures and are unchangeable",
                               when(c, mn->published_ms), mn->n_signatures);
    for (size_t i = 0; i < mn->n_signatures; i++)
        if (strcmp(mn->signatures[i]->principal, me) == 0)
            return (void)call_fail(c, CODE(FAILED_PRECONDITION), "%s signed already", me);
    Whistle__V1__DelibSignature *sig = arena_alloc(c->a, sizeof *sig);
    whistle__v1__delib_signature__init(sig);
    sig->principal = (char *)me;
    sig->at_ms = c->now;
    push_ptr(c, (void ***)&mn->signatures, &mn->n_signatures, sig);
    bool publish = mn->n_signatures >= mn->required;
    if (publish) {
        mn->published = true;
        mn->published_ms = c->now;
    }
    /* public, on the community's echo board, in the same transaction; a
     * mediation's agreement is the parties' private affair: the members
     * only */
    if (publish && !mediation(x.b)) {
        mn->board_notice_id = board_publish(c, x.b->community, WHISTLE__V1__BOARD_KIND__BOARD_KIND_DECISION,
                                            arena_printf(c->a, "会议记录 Minutes: %s", x.m->title), mn->text);
        if (!mn->board_notice_id)
            return;
    }
    if (meeting_save(c, &x))
        return;
    if (publish)
        push_members(c, x.b, "minutes_published", x.m, NULL);
}

void delib_rate_decision(call *c, const Whistle__V1__RateDelibDecision *req)
{
    void *pb;
    size_t pl;
    if (!req->proposal_id)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "proposal_id is required");
    Whistle__V1__DelibProposal *p = proposal_load(c, req->proposal_id, &pb, &pl);
    if (!p)
        return (void)call_fail(c, CODE(NOT_FOUND), "no proposal %llu", (unsigned long long)req->proposal_id);
    Whistle__V1__DelibBody *b = body_load(c, p->body_id);
    const char *target = arena_printf(c->a, "proposal:%llu", (unsigned long long)p->id);
    if (!b || chair_only(c, b, target))
        return;
    if (req->rating < 1 || req->rating > 5)
        return (void)call_fail(c, CODE(INVALID_ARGUMENT), "rating %u: 1 to 5", req->rating);
    if (check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    Whistle__V1__Task *t = p->task_id ? task_get(c, p->task_id) : NULL;
    if (!t || t->state != WHISTLE__V1__TASK_STATE__TASK_STATE_DONE)
        return (void)call_fail(c, CODE(FAILED_PRECONDITION),
                               "proposal %llu is not carried out yet%s (rule: the body rates a decision after its task "
                               "is done, 一评)",
                               (unsigned long long)p->id,
                               t ? arena_printf(c->a, ": task %llu is open", (unsigned long long)t->id) : ": no task");
    if (p->rating)
        return (void)call_fail(c, CODE(FAILED_PRECONDITION), "proposal %llu was rated already",
                               (unsigned long long)p->id);
    p->state = PS(CARRIED_OUT);
    p->rating = req->rating;
    p->rating_note = (char *)str0(req->note);
    p->rated_by = (char *)str0(c->who->name);
    if (save(c, c->st->delib_proposals, p->id, &p->base, "proposal", pb, pl))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_DELIB_PROPOSAL;
    c->resp->delib_proposal = p;
}

/* ------------------------------------------------------------ report */

static int count_proposal(call *c, void *m, void *ctx)
{
    Whistle__V1__DelibReport *r = ctx;
    Whistle__V1__DelibProposal *p = m;
    if (p->body_id != r->body_id)
        return 0;
    r->proposals++;
    bool passed = p->state == PS(PASSED) || p->state == PS(CARRIED_OUT);
    r->passed += passed;
    r->rejected += p->state == PS(REJECTED);
    Whistle__V1__Task *t = passed && p->task_id ? task_get(c, p->task_id) : NULL;
    r->carried_out += t && t->state == WHISTLE__V1__TASK_STATE__TASK_STATE_DONE;
    r->rated += p->rating > 0;
    r->rating_sum += p->rating;
    return 0;
}

static int count_meeting(call *c, void *m, void *ctx)
{
    Whistle__V1__DelibReport *r = ctx;
    Whistle__V1__DelibMeeting *mt = m;
    r->meetings += mt->body_id == r->body_id && mt->state == MS(CLOSED);
    return 0;
}

void delib_report(call *c, const Whistle__V1__GetDelibReport *req)
{
    Whistle__V1__DelibBody *b = body_load(c, req->body_id);
    if (!b || may_read(c, b, arena_printf(c->a, "body:%llu", (unsigned long long)b->id)))
        return;
    Whistle__V1__DelibReport *r = arena_alloc(c->a, sizeof *r);
    whistle__v1__delib_report__init(r);
    r->body_id = b->id;
    if (scan_body(c, b->id, 'p', count_proposal, r) || scan_body(c, b->id, 'm', count_meeting, r))
        return;
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_DELIB_REPORT;
    c->resp->delib_report = r;
}
