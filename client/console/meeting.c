/* meeting.c: whistle-console --meeting N, a deliberative meeting's screen
 * (docs/deliberation.md, "The meeting screen"): the chair runs the
 * meeting from it and the representatives vote from it; anyone else who
 * may read the meeting watches it.
 *
 * It shares the console's loop, session, shell, prompt and status line,
 * and nothing of its case feed: in this mode the console loads no case,
 * order or statistics, so a representative (who may read none) sees the
 * meeting only.
 *
 * On every connection: get_meeting, then get_body (the seats and rules
 * the figures are read against), then the principal's own stream, on
 * which whistled pushes meeting_changed after every act and vote with the
 * live figures computed (voters present, quorum, server_ms). A principal
 * no push reaches (one without a seat, who reads the meeting because its
 * scope covers the place, or one without a stream) asks again every
 * second instead. Pushes are never acknowledged here: the stream may be a
 * street's feed whose cursor belongs to a case console; replayed, older
 * copies of the meeting are ignored (server_ms orders them).
 *
 * The countdown runs on the server's clock: the meeting's server_ms plus
 * the loop's monotonic time since that copy came, so every screen shows
 * the same seconds whatever its own clock says.
 *
 * Keys make meeting_act and cast_vote calls; the answer carries the
 * meeting, which replaces the copy at once; a refusal shows on the status
 * line with the server's words, which name the rule broken. */
#include <curses.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"
#include "whistle/client.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define ROLE(x) WHISTLE__V1__ROLE__ROLE_##x
#define SR(x) WHISTLE__V1__DELIB_SEAT_ROLE__DELIB_SEAT_ROLE_##x
#define IS(x) WHISTLE__V1__DELIB_ITEM_STATE__DELIB_ITEM_STATE_##x
#define MS(x) WHISTLE__V1__DELIB_MEETING_STATE__DELIB_MEETING_STATE_##x
#define ACT(x) WHISTLE__V1__DELIB_ACTION__DELIB_ACTION_##x
#define CH(x) WHISTLE__V1__DELIB_CHOICE__DELIB_CHOICE_##x
#define CARD(x) WHISTLE__V1__DELIB_CARD__DELIB_CARD_##x

enum { P_CARD_WHO = MEETING_PROMPTS, P_CARD_WHY, P_BALLOT, P_FOLLOW_OWNER, P_FOLLOW_DEADLINE };

/* ------------------------------------------------------------ roles, seats */

bool meeting_role_ok(Whistle__V1__Role role)
{
    switch (role) {
    case ROLE(ADMIN):
    case ROLE(OPERATOR):
    case ROLE(DEPARTMENT):
    case ROLE(GRID_WORKER):
    case ROLE(COMMUNITY):
    case ROLE(INTEGRATION):
    case ROLE(REPRESENTATIVE): return true;
    default: return false;
    }
}

static const Whistle__V1__DelibSeat *seat_of(const console *k, const char *who)
{
    const Whistle__V1__DelibBody *b = k->mt.body;
    for (size_t i = 0; b && who && i < b->n_seats; i++)
        if (strcmp(b->seats[i]->principal, who) == 0)
            return b->seats[i];
    return NULL;
}

/* Who votes: as the daemon counts it (the chair and representatives of a
 * council; the parties of a mediation, whose chair mediates). */
static bool votes(const console *k, int role)
{
    if (k->mt.body && k->mt.body->kind == WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION)
        return role == SR(PARTY);
    return role == SR(CHAIR) || role == SR(REPRESENTATIVE);
}

static bool is_present(const Whistle__V1__DelibMeeting *m, const char *who)
{
    for (size_t i = 0; i < m->n_present; i++)
        if (strcmp(m->present[i], who) == 0)
            return true;
    return false;
}

/* ceil(n * num / den): the smallest count that meets num/den of n */
static uint32_t needed(uint32_t n, uint32_t num, uint32_t den)
{
    return den ? (uint32_t)(((uint64_t)n * num + den - 1) / den) : n;
}

/* The server's clock now: the copy's server_ms and the time since it came. */
static int64_t server_now(const console *k) { return k->mt.m->server_ms + (int64_t)(uv_now(k->loop) - k->mt.m_at); }

/* ------------------------------------------------------------ the copy */

void meeting_put(console *k, const Whistle__V1__DelibMeeting *m)
{
    if (!m || m->id != k->mt.id)
        return;
    if (k->mt.m && m->server_ms < k->mt.m->server_ms)
        return; /* an older copy (a replay, or an answer overtaken by a push) */
    size_t len = whistle__v1__delib_meeting__get_packed_size(m);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    whistle__v1__delib_meeting__pack(m, buf);
    Whistle__V1__DelibMeeting *copy = whistle__v1__delib_meeting__unpack(NULL, len, buf);
    free(buf);
    if (!copy)
        return;
    if (k->mt.m)
        whistle__v1__delib_meeting__free_unpacked(k->mt.m, NULL);
    k->mt.m = copy;
    uv_update_time(k->loop);
    k->mt.m_at = uv_now(k->loop);
    /* the header's clock is the meeting's too */
    k->offset_ms = copy->server_ms - shell_clock_ms();
    if (k->mt.sel >= copy->n_items)
        k->mt.sel = copy->n_items ? copy->n_items - 1 : 0;
    console_redraw(k);
}

void meeting_push(console *k, const Whistle__V1__Push *p)
{
    if (!p->delib_meeting || p->delib_meeting->id != k->mt.id)
        return; /* another meeting's, or a case's on a shared feed */
    meeting_put(k, p->delib_meeting);
    if (p->action && strcmp(p->action, "minutes_published") == 0)
        console_status(k, "%s", _("the minutes are signed and published"));
    else if (p->action && strcmp(p->action, "meeting_cancelled") == 0)
        console_status(k, "%s", _("the meeting was called off"));
}

void meeting_free(console *k)
{
    if (k->mt.m)
        whistle__v1__delib_meeting__free_unpacked(k->mt.m, NULL);
    if (k->mt.body)
        whistle__v1__delib_body__free_unpacked(k->mt.body, NULL);
    k->mt.m = NULL;
    k->mt.body = NULL;
}

/* ------------------------------------------------------------ loading */

static void fatal(console *k, const char *msg)
{
    snprintf(k->net_err, sizeof k->net_err, "%s", msg);
    k->fatal = true;
    console_quit(k);
}

static void go_live(console *k)
{
    const Whistle__V1__DelibSeat *s = seat_of(k, k->who);
    k->mt.seat_role = s ? (int)s->role : 0;
    /* pushes reach the seat holders' own streams only */
    k->mt.poll = !s || !*k->stream;
    if (k->mt.poll)
        whistle_session_mark_live(k->session);
    else
        whistle_session_subscribe(k->session, k->stream);
    console_redraw(k);
}

static void on_body(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    console *k = ud;
    (void)c;
    if (status < 0 || !resp)
        return; /* closed: the next connection loads again */
    if (whistle_response_code(resp) != WHISTLE__V1__STATUS__CODE__OK || !resp->body) {
        char msg[sizeof k->net_err];
        snprintf(msg, sizeof msg, _("body %llu: %s"), (unsigned long long)(k->mt.m ? k->mt.m->body_id : 0),
                 whistle_response_message(resp));
        whistle_response_free(resp);
        fatal(k, msg);
        return;
    }
    size_t len = whistle__v1__delib_body__get_packed_size(resp->body);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    whistle__v1__delib_body__pack(resp->body, buf);
    Whistle__V1__DelibBody *copy = whistle__v1__delib_body__unpack(NULL, len, buf);
    free(buf);
    whistle_response_free(resp);
    if (!copy)
        return;
    if (k->mt.body)
        whistle__v1__delib_body__free_unpacked(k->mt.body, NULL);
    k->mt.body = copy;
    go_live(k);
}

/* ud: k, with the low bit set for the load of a new connection (the body
 * follows, then the stream) rather than a poll. */
static void on_meeting(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    console *k = (console *)((uintptr_t)ud & ~(uintptr_t)1);
    bool loading = (uintptr_t)ud & 1;
    (void)c;
    k->mt.asking = false;
    if (status < 0 || !resp)
        return;
    if (whistle_response_code(resp) != WHISTLE__V1__STATUS__CODE__OK || !resp->meeting) {
        char msg[sizeof k->net_err];
        snprintf(msg, sizeof msg, _("meeting %llu: %s"), (unsigned long long)k->mt.id, whistle_response_message(resp));
        whistle_response_free(resp);
        if (loading) /* no such meeting, or not this principal's to read */
            fatal(k, msg);
        else
            console_status(k, "%s", msg);
        return;
    }
    meeting_put(k, resp->meeting);
    uint64_t body = resp->meeting->body_id;
    whistle_response_free(resp);
    if (!loading)
        return;
    Whistle__V1__GetDelibBody g = WHISTLE__V1__GET_DELIB_BODY__INIT;
    g.body_id = body;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(GET_BODY);
    req.get_body = &g;
    if (whistle_conn_send(whistle_session_conn(k->session), &req, on_body, k) < 0)
        whistle_session_drop(k->session);
}

static void ask(console *k, bool loading)
{
    whistle_conn *c = whistle_session_conn(k->session);
    if (!c || k->mt.asking)
        return;
    Whistle__V1__GetDelibMeeting g = WHISTLE__V1__GET_DELIB_MEETING__INIT;
    g.meeting_id = k->mt.id;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(GET_MEETING);
    req.get_meeting = &g;
    if (whistle_conn_send(c, &req, on_meeting, (void *)((uintptr_t)k | (loading ? 1u : 0u))) < 0) {
        whistle_session_drop(k->session);
        return;
    }
    k->mt.asking = true;
}

void meeting_load(console *k)
{
    /* a copy from before the reconnect may be older than what the server
     * has now; the answer replaces it (server_ms only grows) */
    k->mt.asking = false;
    ask(k, true);
}

void meeting_tick(console *k)
{
    if (k->mt.poll && net_state(k) == WHISTLE_SESSION_LIVE)
        ask(k, false);
}

/* ------------------------------------------------------------ words */

static const char *meeting_state(int s)
{
    switch (s) {
    case MS(SCHEDULED): return C_("meeting", "scheduled");
    case MS(OPEN): return C_("meeting", "open");
    case MS(CLOSED): return C_("meeting", "closed");
    case MS(CANCELLED): return C_("meeting", "cancelled");
    default: return "?";
    }
}

static const char *seat_role_name(int r)
{
    switch (r) {
    case SR(CHAIR): return C_("seat", "chair");
    case SR(REPRESENTATIVE): return C_("seat", "representative");
    case SR(ATTENDEE): return C_("seat", "attendee");
    case SR(OBSERVER): return C_("seat", "observer");
    case SR(SUPERVISOR): return C_("seat", "supervisor");
    case SR(PARTY): return C_("seat", "party");
    default: return _("no seat");
    }
}

static const char *choice_name(int c)
{
    switch (c) {
    case CH(FOR): return _("for");
    case CH(AGAINST): return _("against");
    case CH(ABSTAIN): return _("abstain");
    default: return "?";
    }
}

/* m:ss, of the absolute value */
static void mmss(int64_t ms, char *buf, size_t len)
{
    int64_t s = (ms < 0 ? -ms : ms) / 1000;
    snprintf(buf, len, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

/* appends to out (cap bytes), never past its end */
static void cat(char *out, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void cat(char *out, size_t cap, const char *fmt, ...)
{
    size_t n = strlen(out);
    if (n + 1 >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out + n, cap - n, fmt, ap);
    va_end(ap);
}

static const Whistle__V1__DelibVote *my_vote(const console *k, const Whistle__V1__DelibItem *it)
{
    for (size_t i = 0; i < it->n_votes; i++)
        if (strcmp(it->votes[i]->principal, k->who) == 0)
            return it->votes[i];
    return NULL;
}

/* A vote item's live counts (the item's own once closed). */
static void counts(const Whistle__V1__DelibItem *it, uint32_t *f, uint32_t *a, uint32_t *ab)
{
    if (it->state == IS(CLOSED)) {
        *f = it->votes_for, *a = it->votes_against, *ab = it->votes_abstain;
        return;
    }
    *f = *a = *ab = 0;
    for (size_t i = 0; i < it->n_votes; i++) {
        *f += it->votes[i]->choice == CH(FOR);
        *a += it->votes[i]->choice == CH(AGAINST);
        *ab += it->votes[i]->choice == CH(ABSTAIN);
    }
}

/* For-votes a vote item needs now (at the close, the server's base). */
static uint32_t for_needed(const console *k, const Whistle__V1__DelibItem *it)
{
    const Whistle__V1__DelibRules *r = k->mt.body ? k->mt.body->rules : NULL;
    if (!r)
        return 0;
    uint32_t base = it->state == IS(CLOSED)    ? it->majority_base
                    : r->majority_of_all_seats ? k->mt.m->voting_seats
                                               : k->mt.m->voters_present;
    return needed(base, r->majority_num, r->majority_den);
}

/* ------------------------------------------------------------ drawing */

static void line(int y, int w, const char *s, unsigned long a) { ui_put(y, 0, s, w, w, a); }

/* s over up to max lines from y, cut after the last space that fits;
 * returns the lines used */
static int wrapped(int y, int max, int w, const char *s, unsigned long a)
{
    int n = 0;
    while (*s && n < max) {
        size_t brk = 0, i = 0;
        int cols = 0, cw;
        mbstate_t st;
        memset(&st, 0, sizeof st);
        wchar_t wc;
        for (size_t m; (m = uitext_next(s + i, &st, &wc, &cw)); i += m) {
            if (cols + cw > w - 2)
                break;
            cols += cw;
            if (s[i] == ' ')
                brk = i;
        }
        size_t len = s[i] && brk && n + 1 < max ? brk : s[i] && n + 1 < max ? i : strlen(s);
        char part[600];
        snprintf(part, sizeof part, "  %.*s", (int)(len < sizeof part - 3 ? len : sizeof part - 3), s);
        line(y + n++, w, part, a);
        s += len;
        while (*s == ' ')
            s++;
    }
    return n;
}

static void draw_item(console *k, int y, int w, const Whistle__V1__DelibItem *it, bool sel)
{
    char tail[200] = "", head[400];
    unsigned long ta = A_NORMAL;
    if (it->state == IS(PENDING)) {
        snprintf(tail, sizeof tail, "%s", C_("item", "pending"));
        ta = COLOR_PAIR(UI_DIM);
    } else if (!it->n_candidates) {
        uint32_t f, a, ab;
        counts(it, &f, &a, &ab);
        if (it->state == IS(VOTING)) {
            snprintf(tail, sizeof tail, _("VOTING  for %u · against %u · abstain %u  (%u for needed)"), f, a, ab,
                     for_needed(k, it));
            ta = COLOR_PAIR(UI_NEAR) | A_BOLD;
        } else {
            snprintf(tail, sizeof tail, it->passed ? _("passed  %u–%u–%u") : _("rejected  %u–%u–%u"), f, a, ab);
            ta = it->passed ? COLOR_PAIR(UI_OK) | A_BOLD : COLOR_PAIR(UI_LATE) | A_BOLD;
        }
    } else if (it->state == IS(VOTING)) {
        snprintf(tail, sizeof tail, _("BALLOT OPEN  %zu voted · approve up to %u"), it->n_votes, it->winners);
        ta = COLOR_PAIR(UI_NEAR) | A_BOLD;
    } else if (it->n_tied && it->runoff) {
        snprintf(tail, sizeof tail, _("%zu elected, %zu tied: runoff is item %u"), it->n_elected, it->n_tied,
                 it->runoff);
        ta = COLOR_PAIR(UI_NEAR) | A_BOLD;
    } else if (it->n_tied) {
        snprintf(tail, sizeof tail, _("%zu elected, %zu tied: runoff"), it->n_elected, it->n_tied);
        ta = COLOR_PAIR(UI_LATE) | A_BOLD;
    } else {
        snprintf(tail, sizeof tail, _("%zu elected"), it->n_elected);
        ta = COLOR_PAIR(UI_OK) | A_BOLD;
    }
    unsigned long a = sel ? A_REVERSE : A_NORMAL;
    snprintf(head, sizeof head, "%s%u  %s%s", sel ? "▶ " : "  ", it->no, it->title,
             it->runoff_of      ? ""
             : it->n_candidates ? _(" (ballot)")
                                : "");
    /* the state and tally first: the title gives way (at least 20 columns) */
    int tw = ui_width(tail);
    if (tw > w - 21)
        tw = w - 21;
    ui_put(y, 0, head, w - tw - 1, w - tw, a);
    ui_put(y, w - tw, tail, tw, tw, ta | (sel ? A_REVERSE : 0));
}

/* The selected item's detail, on rows y .. y+h-1. Returns the rows used. */
static int draw_detail(console *k, int y, int h, int w, const Whistle__V1__DelibItem *it)
{
    char buf[800];
    int r = 0;
    const Whistle__V1__DelibVote *mine = my_vote(k, it);
    if (!it->n_candidates) {
        uint32_t f, a, ab;
        counts(it, &f, &a, &ab);
        const Whistle__V1__DelibRules *rl = k->mt.body ? k->mt.body->rules : NULL;
        snprintf(buf, sizeof buf, _("  Item %u: %u for of %u needed (%u/%u of %s), %u against, %u abstaining"), it->no,
                 f, for_needed(k, it), rl ? rl->majority_num : 0, rl ? rl->majority_den : 0,
                 rl && rl->majority_of_all_seats ? _("all voting seats") : _("the voters present"), a, ab);
        if (r < h)
            line(y + r++, w, buf, A_NORMAL);
        if (it->state == IS(VOTING) && r < h) {
            /* who of the voters present has not voted yet */
            buf[0] = 0;
            cat(buf, sizeof buf, "%s", _("  Not voted yet:"));
            size_t missing = 0;
            for (size_t i = 0; i < k->mt.m->n_present; i++) {
                const char *p = k->mt.m->present[i];
                const Whistle__V1__DelibSeat *s = seat_of(k, p);
                bool voted = false;
                for (size_t j = 0; j < it->n_votes && !voted; j++)
                    voted = strcmp(it->votes[j]->principal, p) == 0;
                if (s && votes(k, s->role) && !voted) {
                    cat(buf, sizeof buf, " %s", p);
                    missing++;
                }
            }
            if (!missing)
                cat(buf, sizeof buf, " %s", _("(everyone present has voted)"));
            line(y + r++, w, buf, COLOR_PAIR(UI_DIM));
        }
    } else {
        /* a ballot: the candidates and their approvals (live while open) */
        uint32_t tally[64] = { 0 };
        size_t n = it->n_candidates < 64 ? it->n_candidates : 64;
        if (it->state == IS(CLOSED) && it->n_tally >= n) {
            for (size_t i = 0; i < n; i++)
                tally[i] = it->tally[i];
        } else {
            for (size_t i = 0; i < it->n_votes; i++)
                for (size_t j = 0; j < it->votes[i]->n_approvals; j++)
                    if (it->votes[i]->approvals[j] < n)
                        tally[it->votes[i]->approvals[j]]++;
        }
        uint32_t most = 1;
        for (size_t i = 0; i < n; i++)
            most = tally[i] > most ? tally[i] : most;
        int name_w = 0;
        for (size_t i = 0; i < n; i++) {
            int cw = ui_width(it->candidates[i]);
            name_w = cw > name_w ? cw : name_w;
        }
        if (name_w > w / 3)
            name_w = w / 3;
        for (size_t i = 0; i < n && r < h; i++) {
            const char *mark = "";
            unsigned long a = A_NORMAL;
            for (size_t j = 0; j < it->n_elected; j++)
                if (strcmp(it->elected[j], it->candidates[i]) == 0)
                    mark = _("elected"), a = COLOR_PAIR(UI_OK) | A_BOLD;
            for (size_t j = 0; j < it->n_tied; j++)
                if (strcmp(it->tied[j], it->candidates[i]) == 0)
                    mark = _("tied"), a = COLOR_PAIR(UI_LATE) | A_BOLD;
            bool approved = false;
            for (size_t j = 0; mine && j < mine->n_approvals; j++)
                approved = approved || mine->approvals[j] == i;
            char num[16];
            snprintf(num, sizeof num, "  %2zu %s ", i + 1, approved ? "✓" : " ");
            int x = ui_put(y + r, 0, num, w, 0, a);
            x += ui_put(y + r, x, it->candidates[i], name_w, name_w, a);
            int bar_w = w - x - 16;
            int fill = bar_w > 0 ? (int)((int64_t)bar_w * tally[i] / most) : 0;
            char bar[400] = " ";
            for (int b = 0; b < fill && strlen(bar) + 4 < sizeof bar; b++)
                strcat(bar, "█");
            snprintf(buf, sizeof buf, "%s %u %s", bar, tally[i], mark);
            ui_put(y + r, x, buf, w - x, w - x, a);
            r++;
        }
    }
    if (r < h && it->result && *it->result) /* the server's words, with the rule: whole */
        r += wrapped(y + r, h - r, w, it->result, A_BOLD);
    if (r < h && mine && !it->n_candidates) {
        snprintf(buf, sizeof buf, _("  Your vote: %s"), choice_name(mine->choice));
        line(y + r++, w, buf, COLOR_PAIR(UI_TITLE));
    }
    return r;
}

void meeting_draw(console *k, int y0, int h, int w)
{
    const Whistle__V1__DelibMeeting *m = k->mt.m;
    char buf[1200], t[32];
    int y = y0, end = y0 + h;
    if (!m) {
        snprintf(buf, sizeof buf, _("meeting %llu: loading…"), (unsigned long long)k->mt.id);
        line(y, w, buf, A_BOLD);
        return;
    }
    /* the title: the meeting, its state, who is looking */
    bool med = k->mt.body && k->mt.body->kind == WHISTLE__V1__DELIB_BODY_KIND__DELIB_BODY_KIND_MEDIATION;
    snprintf(buf, sizeof buf, med ? _("Mediation %llu · %s · %s") : _("Meeting %llu · %s · %s"),
             (unsigned long long)m->id, m->title, meeting_state(m->state));
    char me[200];
    snprintf(me, sizeof me, _("%s: %s "), k->who, seat_role_name(k->mt.seat_role));
    int mw = ui_width(me);
    ui_put(y, 0, buf, w - mw - 1, w, COLOR_PAIR(UI_TITLE) | A_BOLD);
    if (mw < w / 2)
        ui_put(y, w - mw, me, mw, mw, COLOR_PAIR(UI_DIM));
    y++;
    /* the quorum, live */
    const Whistle__V1__DelibRules *r = k->mt.body ? k->mt.body->rules : NULL;
    uint32_t need = r ? needed(m->voting_seats, r->quorum_num, r->quorum_den) : 0;
    if (m->quorum)
        snprintf(buf, sizeof buf, _("Quorum reached: %u of %u voting seats present (%u needed) · %zu present in all"),
                 m->voters_present, m->voting_seats, need, m->n_present);
    else
        snprintf(buf, sizeof buf, _("NO QUORUM: %u of %u voting seats present, %u short (%u needed) · %zu present"),
                 m->voters_present, m->voting_seats, need > m->voters_present ? need - m->voters_present : 0, need,
                 m->n_present);
    line(y++, w, buf, m->quorum ? COLOR_PAIR(UI_OK) | A_BOLD : COLOR_PAIR(UI_LATE) | A_BOLD);
    /* attendance: who is here, which voters are not */
    buf[0] = 0;
    cat(buf, sizeof buf, "%s", _("Present:"));
    for (size_t i = 0; i < m->n_present; i++)
        cat(buf, sizeof buf, " %s", m->present[i]);
    if (!m->n_present)
        cat(buf, sizeof buf, " %s", _("nobody yet"));
    bool first = true;
    for (size_t i = 0; k->mt.body && i < k->mt.body->n_seats; i++) {
        const Whistle__V1__DelibSeat *s = k->mt.body->seats[i];
        if (votes(k, s->role) && !is_present(m, s->principal)) {
            cat(buf, sizeof buf, "%s %s", first ? _("  · absent voters:") : "", s->principal);
            first = false;
        }
    }
    line(y++, w, buf, A_NORMAL);
    /* the floor */
    const Whistle__V1__DelibSpeaker *cur = NULL;
    for (size_t i = 0; i < m->n_speakers; i++)
        if (m->speakers[i]->started_ms && !m->speakers[i]->ended_ms)
            cur = m->speakers[i];
    if (cur) {
        int64_t left = cur->limit_ms - server_now(k);
        char lim[32];
        mmss(left, t, sizeof t);
        mmss(cur->limit_ms - cur->started_ms, lim, sizeof lim);
        snprintf(buf, sizeof buf,
                 left >= 0 ? _("Speaking: %s  %s left of %s") : _("Speaking: %s  %s OVER the %s limit"), cur->principal,
                 t, lim);
        line(y++, w, buf,
             left < 0       ? COLOR_PAIR(UI_SOS) | A_BOLD
             : left < 60000 ? COLOR_PAIR(UI_NEAR) | A_BOLD
                            : COLOR_PAIR(UI_OK));
    } else {
        line(y++, w, _("Speaking: nobody has the floor"), COLOR_PAIR(UI_DIM));
    }
    buf[0] = 0;
    cat(buf, sizeof buf, "%s", _("Waiting to speak:"));
    size_t waiting = 0, spoke = 0;
    for (size_t i = 0; i < m->n_speakers; i++) {
        if (!m->speakers[i]->started_ms) {
            cat(buf, sizeof buf, " %zu. %s", ++waiting, m->speakers[i]->principal);
        } else if (m->speakers[i]->ended_ms)
            spoke++;
    }
    if (!waiting)
        cat(buf, sizeof buf, " %s", _("nobody"));
    if (spoke)
        cat(buf, sizeof buf, _("  · %zu spoke"), spoke);
    line(y++, w, buf, A_NORMAL);
    /* the agenda */
    snprintf(buf, sizeof buf, ngettext("AGENDA (%zu item)", "AGENDA (%zu items)", m->n_items), m->n_items);
    line(y++, w, buf, COLOR_PAIR(UI_HEAD));
    /* the last rows: cards and the minutes */
    int tail_rows = (m->n_warnings ? 1 : 0) + (m->minutes ? 1 : 0);
    int room = end - y - tail_rows;
    size_t n = m->n_items, top = 0;
    int list_rows = (int)n;
    if (list_rows > room / 2 && room > 4)
        list_rows = room / 2;
    if (list_rows < 1)
        list_rows = 1;
    if (k->mt.sel >= (size_t)list_rows)
        top = k->mt.sel - (size_t)list_rows + 1;
    for (size_t i = top; i < n && y < end && (int)(i - top) < list_rows; i++)
        draw_item(k, y++, w, m->items[i], i == k->mt.sel);
    if (n && k->mt.sel < n && y < end - tail_rows)
        y += draw_detail(k, y, end - tail_rows - y, w, m->items[k->mt.sel]);
    /* cards, newest first */
    y = end - tail_rows;
    if (m->n_warnings) {
        buf[0] = 0;
        cat(buf, sizeof buf, "%s", _("Cards:"));
        for (size_t i = m->n_warnings; i-- > 0;) {
            const Whistle__V1__DelibWarning *wn = m->warnings[i];
            cat(buf, sizeof buf, " %s %s (%s)", wn->card == CARD(RED) ? _("RED") : _("yellow"), wn->principal,
                wn->reason);
        }
        line(y++, w, buf, COLOR_PAIR(UI_NEAR) | A_BOLD);
    }
    if (m->minutes) {
        snprintf(buf, sizeof buf, _("Minutes drafted: %zu of %u signatures%s (whistle minutes sign %llu)"),
                 m->minutes->n_signatures, m->minutes->required, m->minutes->published ? _(", published") : "",
                 (unsigned long long)m->id);
        line(y++, w, buf, COLOR_PAIR(UI_TITLE));
    }
}

const char *meeting_keys(const console *k, int w)
{
    if (k->mt.confirm)
        return _(" y: yes, do it    any other key: no");
    if (k->mt.seat_role == SR(CHAIR))
        return w >= 110 ? _(" o open  i check in  s speak  n next  v vote  c close vote  1 for 2 against 3 abstain  "
                            "b ballot  w/W card  X close  ? q")
                        : _(" o open i in s speak n next v/c vote 1/2/3 b ballot w/W card X end ? q");
    if (votes(k, k->mt.seat_role))
        return _(" i check in  s speak  1 for  2 against  3 abstain  b ballot  j/k item  ? q");
    if (k->mt.seat_role)
        return _(" i check in  s ask to speak  j/k item  ? help  q quit");
    return _(" j/k item  ? help  q quit   (no seat: watching)");
}

void meeting_help(console *k, int w, int h)
{
    (void)k;
    static const char *const lines[] = {
        N_("meeting screen keys"),
        "",
        N_("↑ ↓ j k   select an agenda item (the votes act on it)"),
        N_("i  check in              s  ask for the floor"),
        N_("1  vote for              2  against        3  abstain"),
        N_("b  ballot: approve candidates by their numbers"),
        N_("the chair:"),
        N_("o  open the meeting      n  next speaker (ends the current)"),
        N_("v  open the item's vote  c  close it      C  close, with who carries it out"),
        N_("w  yellow card           W  red card (asks who and why)"),
        N_("X  close the meeting     K  call it off (scheduled only)"),
        N_("Esc cancels a prompt     q  quit"),
        "",
        N_("any key closes this help"),
    };
    int n = (int)(sizeof lines / sizeof *lines);
    int bw = w - 4 < 76 ? w - 4 : 76, y0 = (h - n - 2) / 2, x0 = (w - bw) / 2;
    for (int i = -1; i <= n; i++)
        ui_put(y0 + i, x0, i >= 0 && i < n && *lines[i] ? _(lines[i]) : "", bw, bw, A_REVERSE);
}

/* ------------------------------------------------------------ keys */

static void act(console *k, Whistle__V1__DelibAction action, uint32_t item, const char *what)
{
    Whistle__V1__DelibMeetingAct a = WHISTLE__V1__DELIB_MEETING_ACT__INIT;
    a.meeting_id = k->mt.id;
    a.action = action;
    a.item_no = item;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(MEETING_ACT);
    req.meeting_act = &a;
    net_send_act(k, &req, what);
}

static const Whistle__V1__DelibItem *selected(console *k)
{
    const Whistle__V1__DelibMeeting *m = k->mt.m;
    return m && k->mt.sel < m->n_items ? m->items[k->mt.sel] : NULL;
}

static void vote(console *k, Whistle__V1__DelibChoice choice)
{
    const Whistle__V1__DelibItem *it = selected(k);
    if (!it)
        return;
    if (it->n_candidates) {
        console_status(k, _("item %u is a ballot: b approves candidates"), it->no);
        return;
    }
    Whistle__V1__CastDelibVote v = WHISTLE__V1__CAST_DELIB_VOTE__INIT;
    v.meeting_id = k->mt.id;
    v.item_no = it->no;
    v.choice = choice;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(CAST_VOTE);
    req.cast_vote = &v;
    char what[200];
    snprintf(what, sizeof what, _("vote %s on item %u"), choice_name(choice), it->no);
    net_send_act(k, &req, what);
}

static void item_act(console *k, Whistle__V1__DelibAction action)
{
    const Whistle__V1__DelibItem *it = selected(k);
    if (!it) {
        console_status(k, "%s", _("the meeting has no agenda item"));
        return;
    }
    char what[300];
    snprintf(what, sizeof what,
             action == ACT(OPEN_VOTE) ? _("open the vote on item %u (%s)") : _("close the vote on item %u (%s)"),
             it->no, it->title);
    act(k, action, it->no, what);
}

void meeting_key(console *k, wint_t ch, bool is_key)
{
    if (is_key && ch == KEY_RESIZE)
        return;
    if (k->mt.confirm) {
        int a = k->mt.confirm;
        k->mt.confirm = 0;
        if (!is_key && (ch == L'y' || ch == L'Y'))
            act(k, (Whistle__V1__DelibAction)a, 0,
                a == ACT(CLOSE) ? _("close the meeting") : _("call the meeting off"));
        else
            console_status(k, "%s", _("cancelled"));
        return;
    }
    size_t n = k->mt.m ? k->mt.m->n_items : 0;
    if (is_key) {
        if (ch == KEY_UP && k->mt.sel)
            k->mt.sel--;
        else if (ch == KEY_DOWN && k->mt.sel + 1 < n)
            k->mt.sel++;
        return;
    }
    if (!k->mt.m && ch != L'q' && ch != L'Q')
        return; /* nothing to act on yet */
    char label[200];
    const Whistle__V1__DelibItem *it;
    switch (ch) {
    case L'q':
    case L'Q': console_quit(k); return;
    case L'?': k->help = true; return;
    case L'j':
        if (k->mt.sel + 1 < n)
            k->mt.sel++;
        return;
    case L'k':
        if (k->mt.sel)
            k->mt.sel--;
        return;
    case L'o': act(k, ACT(OPEN), 0, _("open the meeting")); return;
    case L'i': act(k, ACT(CHECK_IN), 0, _("check in")); return;
    case L's': act(k, ACT(QUEUE), 0, _("ask for the floor")); return;
    case L'n': act(k, ACT(NEXT_SPEAKER), 0, _("next speaker")); return;
    case L'v': item_act(k, ACT(OPEN_VOTE)); return;
    case L'c': item_act(k, ACT(CLOSE_VOTE)); return;
    case L'C':
        if (!(it = selected(k)))
            return;
        snprintf(label, sizeof label, _("Close item %u; who carries the decision out (a principal):"), it->no);
        input_prompt_open(k, P_FOLLOW_OWNER, label, NULL);
        return;
    case L'1': vote(k, CH(FOR)); return;
    case L'2': vote(k, CH(AGAINST)); return;
    case L'3': vote(k, CH(ABSTAIN)); return;
    case L'b':
        if (!(it = selected(k)))
            return;
        if (!it->n_candidates) {
            console_status(k, _("item %u is a vote: 1 for, 2 against, 3 abstain"), it->no);
            return;
        }
        snprintf(label, sizeof label, _("Ballot on item %u: approve up to %u candidates (numbers, between commas):"),
                 it->no, it->winners);
        input_prompt_open(k, P_BALLOT, label, NULL);
        return;
    case L'w':
    case L'W':
        input_prompt_open(k, P_CARD_WHO, ch == L'W' ? _("Red card to (a member):") : _("Yellow card to (a member):"),
                          NULL);
        k->pr.extra[0] = ch == L'W' ? 'R' : 'Y';
        k->pr.extra[1] = 0;
        return;
    case L'X':
        k->mt.confirm = ACT(CLOSE);
        console_status(k, "%s", _("Close the meeting and draft the minutes? y: yes"));
        return;
    case L'K':
        k->mt.confirm = ACT(CANCEL);
        console_status(k, "%s", _("Call the meeting off (its proposals wait for another)? y: yes"));
        return;
    default: return;
    }
}

/* "1,3 4、5": candidates' numbers from 1, as indexes from 0. */
static int parse_numbers(const char *text, uint32_t max, uint32_t *out, size_t cap, size_t *n)
{
    *n = 0;
    const char *p = text;
    while (*p) {
        if (*p == ',' || *p == ' ') {
            p++;
            continue;
        }
        if (strncmp(p, "，", strlen("，")) == 0 || strncmp(p, "、", strlen("、")) == 0) {
            p += strlen("，");
            continue;
        }
        char *end;
        unsigned long v = strtoul(p, &end, 10);
        if (end == p || v < 1 || v > max || *n >= cap)
            return -1;
        out[(*n)++] = (uint32_t)(v - 1);
        p = end;
    }
    return 0;
}

/* A deadline as typed: YYYY-MM-DD [HH:MM] local, or +Nd from the
 * server's now (the meeting's clock). */
static int parse_deadline(console *k, const char *s, int64_t *out)
{
    if (*s == '+') {
        char *end;
        long d = strtol(s + 1, &end, 10);
        if (end == s + 1 || d < 1 || strcmp(end, "d") != 0)
            return -1;
        *out = server_now(k) + (int64_t)d * 86400000;
        return 0;
    }
    static const char *const formats[] = { "%Y-%m-%d %H:%M", "%Y-%m-%d" };
    for (size_t i = 0; i < 2; i++) {
        struct tm tm;
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(s, formats[i], &tm);
        if (!end || *end)
            continue;
        if (i == 1)
            tm.tm_hour = 23, tm.tm_min = 59; /* a day: by its end */
        tm.tm_isdst = -1;
        time_t t = mktime(&tm);
        if (t == (time_t)-1)
            return -1;
        *out = (int64_t)t * 1000;
        return 0;
    }
    return -1;
}

void meeting_prompt(console *k, int kind, const char *text)
{
    const Whistle__V1__DelibItem *it = selected(k);
    char label[300], first[200];
    switch (kind) {
    case P_CARD_WHO: {
        bool red = k->pr.extra[0] == 'R';
        if (!*text) {
            console_status(k, "%s", _("card: nobody named; nothing was sent"));
            return;
        }
        snprintf(first, sizeof first, "%s", text);
        snprintf(label, sizeof label, red ? _("Red card to %s, because:") : _("Yellow card to %s, because:"), first);
        input_prompt_open(k, P_CARD_WHY, label, NULL);
        snprintf(k->pr.extra, sizeof k->pr.extra, "%c%s", red ? 'R' : 'Y', first);
        return;
    }
    case P_CARD_WHY: {
        bool red = k->pr.extra[0] == 'R';
        if (!*text) {
            console_status(k, "%s", _("card: a reason is required; nothing was sent"));
            return;
        }
        Whistle__V1__DelibMeetingAct a = WHISTLE__V1__DELIB_MEETING_ACT__INIT;
        a.meeting_id = k->mt.id;
        a.action = ACT(WARN);
        a.principal = k->pr.extra + 1;
        a.card = red ? CARD(RED) : CARD(YELLOW);
        a.reason = (char *)text;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(MEETING_ACT);
        req.meeting_act = &a;
        snprintf(label, sizeof label, red ? _("red card to %s") : _("yellow card to %s"), k->pr.extra + 1);
        net_send_act(k, &req, label);
        return;
    }
    case P_BALLOT: {
        if (!it || !it->n_candidates)
            return;
        uint32_t idx[64];
        size_t n;
        if (parse_numbers(text, (uint32_t)it->n_candidates, idx, 64, &n) < 0 || !n) {
            console_status(k, _("ballot: \"%s\": give candidates' numbers 1 to %zu, between commas; nothing was sent"),
                           text, it->n_candidates);
            return;
        }
        Whistle__V1__CastDelibVote v = WHISTLE__V1__CAST_DELIB_VOTE__INIT;
        v.meeting_id = k->mt.id;
        v.item_no = it->no;
        v.approvals = idx;
        v.n_approvals = n;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(CAST_VOTE);
        req.cast_vote = &v;
        snprintf(label, sizeof label, _("ballot on item %u: %s"), it->no, text);
        net_send_act(k, &req, label);
        return;
    }
    case P_FOLLOW_OWNER:
        if (!it)
            return;
        if (!*text) {
            console_status(k, "%s", _("close: nobody named to carry it out; nothing was sent (c closes without)"));
            return;
        }
        snprintf(first, sizeof first, "%s", text);
        snprintf(label, sizeof label, _("%s carries item %u out by (YYYY-MM-DD [HH:MM], or +Nd):"), first, it->no);
        input_prompt_open(k, P_FOLLOW_DEADLINE, label, NULL);
        snprintf(k->pr.extra, sizeof k->pr.extra, "%s", first);
        return;
    case P_FOLLOW_DEADLINE: {
        if (!it)
            return;
        int64_t when;
        if (parse_deadline(k, text, &when) < 0) {
            console_status(k, _("close: \"%s\" is no deadline (YYYY-MM-DD [HH:MM], or +Nd); nothing was sent"), text);
            return;
        }
        Whistle__V1__DelibMeetingAct a = WHISTLE__V1__DELIB_MEETING_ACT__INIT;
        a.meeting_id = k->mt.id;
        a.action = ACT(CLOSE_VOTE);
        a.item_no = it->no;
        a.follow_owner = k->pr.extra;
        a.follow_deadline_ms = when;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(MEETING_ACT);
        req.meeting_act = &a;
        snprintf(label, sizeof label, _("close the vote on item %u (%s)"), it->no, it->title);
        net_send_act(k, &req, label);
        return;
    }
    default: return;
    }
}
