/* wish.c: the three-order loop (居民点单、社区派单、志愿者接单), see
 * volunteer.h. A wish is ordered at the kiosk (or by a worker for the
 * resident), published by the community with a text of its own and no
 * personal data, claimed by one volunteer until the claim lapses (a row of
 * the deadline index, swept like a case's deadline), done, and confirmed by
 * the resident with the slip and the phone's last 4 digits, or by a grid or
 * community worker for them; the confirmation credits the points. */
#include "volunteer.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "audit.h"
#include "directory.h"
#include "field_limits.h"
#include "guard.h"
#include "photo_record.h"
#include "volrec.h"

#define WS(s) WHISTLE__V1__WISH_STATE__WISH_STATE_##s

static const char *const state_names[] = { "unspecified", "ordered",   "published", "claimed",
                                           "done",        "confirmed", "declined" };

static const char *state_name(Whistle__V1__WishState s)
{
    return (size_t)s < sizeof state_names / sizeof *state_names ? state_names[s] : "unknown";
}

static const char *wish_target(call *c, uint64_t id) { return arena_printf(c->a, "wish:%llu", (unsigned long long)id); }

static Whistle__V1__Wish *wish_get(call *c, uint64_t id, void **bytes, size_t *len)
{
    void *w;
    if (!id)
        return call_fail(c, CODE(INVALID_ARGUMENT), "wish_id is required"), NULL;
    int rc = volrec_get(c, c->st->vol_wishes, id, &whistle__v1__wish__descriptor, &w, bytes, len);
    if (rc == 1)
        call_fail(c, CODE(NOT_FOUND), "no wish %llu", (unsigned long long)id);
    return rc ? NULL : w;
}

/* What a caller may read of a wish: a volunteer (and a push) neither the
 * slip's number nor the resident's words or phone; a kiosk everything but
 * the phone; a worker in scope everything, the phone only when full. */
static Whistle__V1__Wish *wish_view(call *c, const Whistle__V1__Wish *w, bool full)
{
    Whistle__V1__Wish *o = arena_alloc(c->a, sizeof *o);
    *o = *w;
    if (!full)
        o->contact = (char *)"";
    if (c->who->role == ROLE(VOLUNTEER)) {
        o->ticket = (char *)"";
        o->text = (char *)"";
        o->decline_reason = (char *)"";
        /* the resident's photos are personal, as the words */
        o->photos = NULL;
        o->n_photos = 0;
    }
    return o;
}

static Whistle__V1__Wish *wish_public(call *c, const Whistle__V1__Wish *w)
{
    Whistle__V1__Wish *o = arena_alloc(c->a, sizeof *o);
    *o = *w;
    o->ticket = o->text = o->contact = o->decline_reason = (char *)"";
    o->photos = NULL;
    o->n_photos = 0;
    return o;
}

/* Saves the wish and audits the change; -1 failed. */
static int wish_commit(call *c, const Whistle__V1__Wish *old, const void *before, size_t blen, Whistle__V1__Wish *w)
{
    if (volrec_wish_save(c, old, w))
        return -1;
    int rc =
        audit_append(c->st, c->txn, c->now, str0(c->who->name), c->name, wish_target(c, w->id), before, blen, &w->base);
    return rc ? call_store_fail(c, rc, "auditing the wish") : 0;
}

static void reply_wish(call *c, Whistle__V1__Wish *w, bool full)
{
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_WISH;
    c->resp->wish = wish_view(c, w, full);
}

static int wrong_state(call *c, const Whistle__V1__Wish *w, const char *needs)
{
    return call_fail(c, CODE(FAILED_PRECONDITION), "wish %llu is %s; %s needs it %s", (unsigned long long)w->id,
                     state_name(w->state), c->name, needs);
}

static const Whistle__V1__WishCategory *category_of(const Whistle__V1__VolunteerConfig *cfg, const char *code)
{
    for (size_t i = 0; i < cfg->n_categories; i++)
        if (strcmp(cfg->categories[i]->code, str0(code)) == 0)
            return cfg->categories[i];
    return NULL;
}

static int new_ticket(call *c, char *out, size_t len)
{
    time_t secs = (time_t)(c->now / 1000);
    struct tm tm;
    if (c->now < 0 || !gmtime_r(&secs, &tm))
        return call_fail(c, CODE(INTERNAL), "the clock reads %lld ms; cannot number a wish", (long long)c->now);
    char day[48], name[64];
    snprintf(day, sizeof day, "%04d%02d%02d", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
    snprintf(name, sizeof name, "wish_ticket:%s", day);
    uint64_t n;
    int rc = store_next_seq(c->txn, c->st, name, &n);
    if (rc)
        return call_store_fail(c, rc, "numbering the wish");
    snprintf(out, len, "W%.8s%05llu", day, (unsigned long long)n);
    return 0;
}

/* ------------------------------------------------------------ order */

void wish_add(call *c, const Whistle__V1__AddWish *req)
{
    const char *node = str0(req->node);
    size_t nl = strlen(node);
    if (nl < 12 || nl > 18 || !digits_ok(node, nl)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "node \"%.40s\" must be a community's or a grid's code (12 or 15 digits)",
                  node);
        return;
    }
    Whistle__V1__Node *n = directory_node_get(c->st, c->txn, node, c->a);
    if (!n) {
        call_fail(c, CODE(NOT_FOUND), "no place %s", node);
        return;
    }
    const char *comm = vol_community(c, arena_strndup(c->a, node, 12));
    if (!comm)
        return;
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, node)) {
        call_deny(c, node, "place %s is outside your scope %s (rule: wishes are taken inside the caller's scope)", node,
                  str0(c->who->scope));
        return;
    }
    if (n->retired) {
        call_fail(c, CODE(FAILED_PRECONDITION), "place %s is retired", node);
        return;
    }
    if (check_text(c, "text", req->text, DESCRIPTION_MAX, true) ||
        check_text(c, "contact", req->contact, CONTACT_MAX, c->who->role == ROLE(KIOSK)))
        return;
    const char *ph = str0(req->contact);
    size_t ndig = 0;
    for (const char *p = ph; *p; p++)
        ndig += *p >= '0' && *p <= '9';
    if (*ph && ndig < 4) {
        call_fail(c, CODE(INVALID_ARGUMENT),
                  "contact must be a phone number (at least 4 digits): the resident "
                  "confirms the wish with its last 4");
        return;
    }
    Whistle__V1__VolunteerConfig *cfg = vol_config(c, comm);
    const Whistle__V1__WishCategory *cat = category_of(cfg, req->category);
    if (!cat) {
        const char *codes = "";
        for (size_t i = 0; i < cfg->n_categories; i++)
            codes = arena_printf(c->a, "%s%s%s", codes, i ? ", " : "", cfg->categories[i]->code);
        call_fail(c, CODE(INVALID_ARGUMENT), "category \"%.40s\" is not one of community %s's: %s", str0(req->category),
                  comm, *codes ? codes : "none yet (the community sets them first)");
        return;
    }
    if (photo_check(c, req->photos, req->n_photos, 0))
        return;
    Whistle__V1__Wish *w = arena_alloc(c->a, sizeof *w);
    whistle__v1__wish__init(w);
    char *ticket = arena_alloc(c->a, TICKET_MAX);
    if (new_ticket(c, ticket, TICKET_MAX) || volrec_next_id(c, "vol_wish_seq", &w->id))
        return;
    photo_owner ow = { .wish_id = w->id };
    if (photo_attach(c, req->photos, req->n_photos, WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_WISH, &ow, &w->photos,
                     &w->n_photos))
        return;
    w->ticket = ticket;
    w->community = (char *)comm;
    w->node = n->code;
    w->category = cat->code;
    w->points = cat->points;
    w->text = req->text;
    w->contact = (char *)ph;
    w->state = WS(ORDERED);
    w->created_ms = c->now;
    w->ordered_by = (char *)str0(c->who->name);
    if (volrec_index_put(c, 'w', comm, w->id) || volrec_index_set(c, 't', ticket, strlen(ticket), w->id) ||
        wish_commit(c, NULL, NULL, 0, w))
        return;
    reply_wish(c, w, c->who->role != ROLE(KIOSK)); /* a kiosk is never sent a phone */
}

/* ------------------------------------------------------------ publish */

void wish_publish(call *c, const Whistle__V1__PublishWish *req)
{
    void *before;
    size_t blen;
    Whistle__V1__Wish *w = wish_get(c, req->wish_id, &before, &blen);
    if (!w || vol_reach(c, w->community, "a community publishes its own residents' wishes"))
        return;
    Whistle__V1__Wish old = *w;
    bool decline = *str0(req->decline_reason);
    if (check_text(c, "decline_reason", req->decline_reason, NOTE_MAX, false) ||
        check_text(c, "public_text", req->public_text, DESCRIPTION_MAX, !decline))
        return;
    if (req->points > 100000) {
        call_fail(c, CODE(INVALID_ARGUMENT), "points %u: at most 100000", req->points);
        return;
    }
    if (w->state != WS(ORDERED)) {
        wrong_state(c, w, "ordered");
        return;
    }
    if (decline) {
        w->state = WS(DECLINED);
        w->decline_reason = req->decline_reason;
    } else {
        w->state = WS(PUBLISHED);
        w->public_text = req->public_text;
        if (req->points)
            w->points = req->points;
    }
    w->published_ms = c->now;
    w->published_by = (char *)str0(c->who->name);
    if (wish_commit(c, &old, before, blen, w) ||
        (!decline && vol_push(c, w->community, "wish_published", wish_public(c, w), NULL)))
        return;
    reply_wish(c, w, false);
}

/* ------------------------------------------------------------ claim */

void wish_claim(call *c, const Whistle__V1__ClaimWish *req)
{
    void *before;
    size_t blen;
    Whistle__V1__Wish *w = wish_get(c, req->wish_id, &before, &blen);
    if (!w)
        return;
    Whistle__V1__Volunteer *v = vol_actor(c, req->volunteer_id, "a volunteer claims for itself; its community for it");
    if (!v)
        return;
    if (strcmp(v->community, w->community) != 0) {
        /* A volunteer may not tell another community's wishes exist. */
        if (c->who->role == ROLE(VOLUNTEER))
            call_hide(c, wish_target(c, w->id), arena_printf(c->a, "no wish %llu", (unsigned long long)w->id),
                      "wish %llu is community %s's, not volunteer %llu's (rule: a volunteer claims its own "
                      "community's wishes)",
                      (unsigned long long)w->id, w->community, (unsigned long long)v->id);
        else
            call_fail(c, CODE(FAILED_PRECONDITION), "wish %llu is community %s's; volunteer %llu is registered with %s",
                      (unsigned long long)w->id, w->community, (unsigned long long)v->id, v->community);
        return;
    }
    if (w->state == WS(CLAIMED) && w->volunteer_id == v->id) {
        call_fail(c, CODE(ALREADY_EXISTS), "volunteer %llu holds the claim on wish %llu already",
                  (unsigned long long)v->id, (unsigned long long)w->id);
        return;
    }
    if (w->state == WS(CLAIMED)) {
        call_fail(c, CODE(FAILED_PRECONDITION), "wish %llu is claimed by another volunteer; one claimant at a time",
                  (unsigned long long)w->id);
        return;
    }
    if (w->state != WS(PUBLISHED)) {
        /* a volunteer reads only published wishes: any other is not there */
        if (c->who->role == ROLE(VOLUNTEER))
            call_hide(c, wish_target(c, w->id), arena_printf(c->a, "no wish %llu", (unsigned long long)w->id),
                      "wish %llu is %s, not published (rule: a volunteer claims published wishes)",
                      (unsigned long long)w->id, state_name(w->state));
        else
            wrong_state(c, w, "published");
        return;
    }
    Whistle__V1__Wish old = *w;
    Whistle__V1__VolunteerConfig *cfg = vol_config(c, w->community);
    w->state = WS(CLAIMED);
    w->volunteer_id = v->id;
    w->volunteer_name = v->name;
    w->claimed_ms = c->now;
    w->claim_due_ms = c->now + (int64_t)cfg->claim_hours * 3600000;
    if (wish_commit(c, &old, before, blen, w) || vol_push(c, w->community, "wish_claimed", wish_public(c, w), NULL))
        return;
    reply_wish(c, w, false);
}

int wish_claim_lapsed(call *c, uint64_t id, int64_t due)
{
    void *before;
    size_t blen;
    Whistle__V1__Wish *w = wish_get(c, id, &before, &blen);
    if (!w)
        return c->resp->status && c->resp->status->code == CODE(NOT_FOUND) ? 0 : -1;
    if (w->state != WS(CLAIMED) || w->claim_due_ms != due)
        return 0; /* a stale row: the sweep removes it */
    Whistle__V1__Wish old = *w;
    w->state = WS(PUBLISHED);
    w->volunteer_id = 0;
    w->volunteer_name = (char *)"";
    w->claimed_ms = 0;
    w->claim_due_ms = 0;
    w->lapses++;
    if (wish_commit(c, &old, before, blen, w) || vol_push(c, w->community, "wish_lapsed", wish_public(c, w), NULL))
        return -1;
    return 0;
}

/* ------------------------------------------------------------ done, confirm */

void wish_done(call *c, const Whistle__V1__DoneWish *req)
{
    void *before;
    size_t blen;
    Whistle__V1__Wish *w = wish_get(c, req->wish_id, &before, &blen);
    if (!w || check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (c->who->role == ROLE(VOLUNTEER)) {
        uint64_t me;
        if (volrec_self(c, &me))
            return;
        if (w->state != WS(CLAIMED) || w->volunteer_id != me) {
            call_hide(c, wish_target(c, w->id),
                      arena_printf(c->a, "no wish %llu claimed by you", (unsigned long long)w->id),
                      "wish %llu is %s, not claimed by volunteer %llu (rule: the claimant says it is done)",
                      (unsigned long long)w->id, state_name(w->state), (unsigned long long)me);
            return;
        }
    } else if (vol_reach(c, w->community, "a community records its own wishes done")) {
        return;
    }
    if (w->state != WS(CLAIMED)) {
        wrong_state(c, w, "claimed");
        return;
    }
    Whistle__V1__Wish old = *w;
    w->state = WS(DONE);
    w->done_ms = c->now;
    w->done_note = (char *)str0(req->note);
    w->claim_due_ms = 0;
    if (wish_commit(c, &old, before, blen, w))
        return;
    reply_wish(c, w, false);
}

/* The resident proves the wish at the kiosk as a ticket is proved
 * (event.c, prove_ticket): a missing slip, one outside the kiosk's
 * community and wrong digits read alike, and each failure counts against
 * the terminal's limit (guard.h). */
static Whistle__V1__Wish *prove_wish(call *c, const char *ticket, const char *digits, void **before, size_t *blen)
{
    const char *me = str0(c->who->name);
    int64_t wait = c->st->lookups ? guard_wait(c->st->lookups, me, c->now) : 0;
    if (wait > 0) {
        audit_deny(c->st, c->now, me, c->name, ticket, "too many failed look-ups from this kiosk");
        return call_fail(c, CODE(RESOURCE_EXHAUSTED),
                         "too many failed look-ups from this terminal: try again in %lld min, or ask the staff",
                         (long long)((wait + 59999) / 60000)),
               NULL;
    }
    if (!digits_ok(digits, 4) || strlen(digits) != 4)
        return call_fail(c, CODE(INVALID_ARGUMENT),
                         "phone_last4 must be the last 4 digits of the phone given with "
                         "the wish"),
               NULL;
    if (!ident_ok(ticket, TICKET_MAX))
        return call_fail(c, CODE(INVALID_ARGUMENT), "ticket is required: the number on the wish's slip (W...)"), NULL;
    uint64_t id;
    const char *why = NULL;
    Whistle__V1__Wish *w = NULL;
    int rc = volrec_index_value(c, 't', ticket, strlen(ticket), &id);
    if (rc < 0)
        return NULL;
    if (rc == 0 && !(w = wish_get(c, id, before, blen)))
        return NULL;
    if (w && !principal_covers(c->who, w->node)) {
        why = arena_printf(c->a, "wish %s is at %s, outside the scope %s", ticket, w->node, str0(c->who->scope));
    } else if (w) {
        char tail[5] = "";
        size_t got = 0;
        const char *ph = str0(w->contact);
        for (size_t i = strlen(ph); i > 0 && got < 4; i--)
            if (ph[i - 1] >= '0' && ph[i - 1] <= '9')
                tail[3 - got++] = ph[i - 1];
        if (got == 4 && memcmp(tail, digits, 4) == 0)
            return w;
        why = "the phone digits do not match the wish";
    }
    if (c->st->lookups)
        guard_fail(c->st->lookups, me, c->now);
    if (why)
        audit_deny(c->st, c->now, me, c->name, ticket, why);
    return call_fail(c, CODE(NOT_FOUND), "no wish %s with a phone ending in %s", ticket, digits), NULL;
}

void wish_confirm(call *c, const Whistle__V1__ConfirmWish *req)
{
    void *before;
    size_t blen;
    Whistle__V1__Wish *w;
    if (check_text(c, "note", req->note, NOTE_MAX, false))
        return;
    if (c->who->role == ROLE(KIOSK)) {
        if (!(w = prove_wish(c, str0(req->ticket), str0(req->phone_last4), &before, &blen)))
            return;
    } else {
        if (!(w = wish_get(c, req->wish_id, &before, &blen)))
            return;
        /* the grid worker confirms for the resident of its grids, as a proxy */
        if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, w->node)) {
            call_deny(c, wish_target(c, w->id),
                      "wish %llu is at %s, outside your scope %s (rule: a worker confirms for the residents of its "
                      "grids or community)",
                      (unsigned long long)w->id, w->node, str0(c->who->scope));
            return;
        }
    }
    if (w->state != WS(DONE)) {
        wrong_state(c, w, "done");
        return;
    }
    Whistle__V1__Wish old = *w;
    w->state = WS(CONFIRMED);
    w->confirmed_ms = c->now;
    w->confirmed_by = (char *)str0(c->who->name);
    if (w->points) {
        Whistle__V1__LedgerEntry *e = arena_alloc(c->a, sizeof *e);
        whistle__v1__ledger_entry__init(e);
        e->community = w->community;
        e->from_account = (char *)VOL_ISSUE;
        e->to_account = (char *)volrec_account(c->a, w->volunteer_id);
        e->amount = w->points;
        e->kind = (char *)"wish";
        e->reason = arena_printf(c->a, "wish %llu confirmed%s%s", (unsigned long long)w->id,
                                 *str0(req->note) ? ": " : "", str0(req->note));
        e->wish_id = w->id;
        Whistle__V1__VolunteerConfig *cfg = vol_config(c, w->community);
        if (cfg->expiry_days)
            e->expires_ms = c->now + (int64_t)cfg->expiry_days * 86400000;
        if (volrec_post(c, e))
            return;
        w->entry_id = e->id;
    }
    if (wish_commit(c, &old, before, blen, w))
        return;
    reply_wish(c, w, false);
}

/* ------------------------------------------------------------ list */

void wish_list(call *c, const Whistle__V1__ListWishes *req)
{
    bool vol = c->who->role == ROLE(VOLUNTEER);
    uint64_t me = 0;
    if (vol && volrec_self(c, &me))
        return;
    if (req->state < 0 || req->state > WS(DECLINED)) {
        call_fail(c, CODE(INVALID_ARGUMENT), "state %d: 1 ordered .. 6 declined", req->state);
        return;
    }
    if (req->wish_id) {
        void *b;
        size_t l;
        Whistle__V1__Wish *w = wish_get(c, req->wish_id, &b, &l);
        if (!w)
            return;
        bool visible =
            vol ? strcmp(w->community, str0(c->who->scope)) == 0 && (w->volunteer_id == me || w->state == WS(PUBLISHED))
                : (c->who->role == ROLE(ADMIN) || principal_covers(c->who, w->node));
        if (!visible) {
            call_hide(c, wish_target(c, w->id), arena_printf(c->a, "no wish %llu", (unsigned long long)w->id),
                      "wish %llu is outside what %s may read (rule: a volunteer reads published wishes of its "
                      "community and its own; workers those of their scope)",
                      (unsigned long long)w->id, str0(c->who->name));
            return;
        }
        bool full = !vol && *str0(w->contact);
        if (full)
            call_read_personal(c, wish_target(c, w->id), "contact");
        Whistle__V1__WishList *wl = arena_alloc(c->a, sizeof *wl);
        whistle__v1__wish_list__init(wl);
        wl->wishes = arena_alloc(c->a, sizeof *wl->wishes);
        wl->wishes[wl->n_wishes++] = wish_view(c, w, full);
        c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_WISHES;
        c->resp->wishes = wl;
        return;
    }
    const char *comm = vol_community(c, req->community);
    if (!comm)
        return;
    /* a grid worker lists the wishes of its grids: its scope is under the
     * community, so the community's rows are read and filtered */
    if (c->who->role != ROLE(ADMIN) && !principal_covers(c->who, comm) &&
        !(c->who->role == ROLE(GRID_WORKER) && strncmp(str0(c->who->scope), comm, 12) == 0)) {
        call_deny(c, comm, "community %s is outside your scope %s (rule: wishes are listed inside the caller's scope)",
                  comm, str0(c->who->scope));
        return;
    }
    uint32_t limit = req->limit ? req->limit : 50;
    if (limit > 500)
        limit = 500;
    Whistle__V1__WishList *l = arena_alloc(c->a, sizeof *l);
    whistle__v1__wish_list__init(l);
    l->wishes = arena_alloc(c->a, limit * sizeof *l->wishes);
    uint64_t after = req->after_id;
    for (;;) {
        uint64_t *ids;
        size_t n;
        bool more;
        if (volrec_scan(c, 'w', comm, after, 200, &ids, &n, &more))
            return;
        for (size_t i = 0; i < n; i++) {
            after = ids[i];
            void *b;
            size_t bl;
            Whistle__V1__Wish *w = wish_get(c, ids[i], &b, &bl);
            if (!w)
                return;
            if (req->state && w->state != req->state)
                continue;
            if (req->volunteer_id && w->volunteer_id != req->volunteer_id)
                continue;
            if (vol && !(w->state == WS(PUBLISHED) || w->volunteer_id == me))
                continue;
            if (c->who->role == ROLE(GRID_WORKER) && !principal_covers(c->who, w->node))
                continue;
            if (l->n_wishes == limit) {
                l->next_after_id = l->wishes[limit - 1]->id;
                goto out;
            }
            l->wishes[l->n_wishes++] = wish_view(c, w, false);
        }
        if (!more)
            break;
    }
out:
    c->resp->result_case = WHISTLE__V1__RESPONSE__RESULT_WISHES;
    c->resp->wishes = l;
}
