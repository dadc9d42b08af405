/* flow.c: the screens and what each key does on them.
 *
 * Everywhere: F12 is the emergency call (a confirmation first); digits
 * choose, arrows move, Enter confirms, Backspace and Esc go back one step,
 * 0 goes home (in a field being typed, digits are text: Esc goes back).
 * Every way home goes through flow_home, which wipes what the resident
 * typed, chose and looked up, so that the next resident finds nothing of
 * it, not even with Back. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kiosk.h"

#define CODE(x) WHISTLE__V1__STATUS__CODE__##x
#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s

enum { FK_TEXT, FK_DIGITS, FK_TICKET };

/* ------------------------------------------------------------ fields */

void field_init(field *f, size_t max)
{
    explicit_bzero(f, sizeof *f);
    f->max = max < FIELD_CAP - 1 ? max : FIELD_CAP - 1;
}

void field_wipe(field *f) { field_init(f, f->max); }

void field_text(const field *f, char *out, size_t len)
{
    wchar_t w[FIELD_CAP];
    size_t n = f->len < FIELD_CAP - 1 ? f->len : FIELD_CAP - 1;
    wmemcpy(w, f->buf, n);
    w[n] = 0;
    size_t b = wcstombs(out, w, len - 1);
    if (b == (size_t)-1)
        b = 0;
    out[b] = 0;
    explicit_bzero(w, sizeof w);
    /* trim spaces at both ends */
    while (b && (out[b - 1] == ' ' || out[b - 1] == '\t'))
        out[--b] = 0;
    size_t i = 0;
    while (out[i] == ' ' || out[i] == '\t')
        i++;
    memmove(out, out + i, b - i + 1);
}

static bool is_enter(wint_t ch, bool is_key)
{
    return (!is_key && (ch == L'\n' || ch == L'\r')) || (is_key && ch == KEY_ENTER);
}

static bool is_esc(wint_t ch, bool is_key) { return !is_key && ch == 27; }

static bool is_backspace(wint_t ch, bool is_key)
{
    return (is_key && ch == KEY_BACKSPACE) || (!is_key && (ch == 127 || ch == 8));
}

/* Edits f with one key. Returns whether the key was the field's. */
static bool field_key(field *f, wint_t ch, bool is_key, int kind)
{
    bool replace = f->replace;
    f->replace = false; /* whatever the key: from now on it edits */
    if (is_key) {
        switch (ch) {
        case KEY_LEFT:
            if (f->cur)
                f->cur--;
            return true;
        case KEY_RIGHT:
            if (f->cur < f->len)
                f->cur++;
            return true;
        case KEY_HOME: f->cur = 0; return true;
        case KEY_END: f->cur = f->len; return true;
        case KEY_DC:
            if (f->cur < f->len) {
                wmemmove(f->buf + f->cur, f->buf + f->cur + 1, f->len - f->cur);
                f->buf[--f->len] = 0;
            }
            return true;
        default: break;
        }
    }
    if (is_backspace(ch, is_key)) {
        if (f->cur) {
            wmemmove(f->buf + f->cur - 1, f->buf + f->cur, f->len - f->cur);
            f->cur--;
            f->buf[--f->len] = 0;
        }
        return true;
    }
    if (is_key || ch < 0x20 || ch == 0x7f)
        return false;
    if (kind == FK_DIGITS && !(ch >= L'0' && ch <= L'9')) {
        f->replace = replace;
        return true; /* swallowed: only digits go into a number */
    }
    if (replace) /* a new number, not more digits after the wrong one */
        field_init(f, f->max);
    if (kind == FK_TICKET &&
        !((ch >= L'0' && ch <= L'9') || ((ch == L'E' || ch == L'e' || ch == L'W' || ch == L'w') && f->cur == 0)))
        return true;
    if (f->len >= f->max)
        return true;
    wmemmove(f->buf + f->cur + 1, f->buf + f->cur, f->len - f->cur);
    f->buf[f->cur++] = (wchar_t)ch;
    f->buf[++f->len] = 0;
    return true;
}

/* A wish's slip number ("W" and 13 digits, or just the digits) or a
 * volunteer's number (1 to 12 digits), as typed: 0 and out, or -1. */
static int wish_number(enum purpose p, const char *typed, char *out, size_t len)
{
    char digits[24];
    size_t n = 0;
    for (const char *s = typed; *s; s++) {
        if (*s >= '0' && *s <= '9' && n + 1 < sizeof digits)
            digits[n++] = *s;
        else if (!(s == typed && p == P_WISH_CONFIRM && (*s == 'W' || *s == 'w')) && *s != ' ')
            return -1;
    }
    digits[n] = 0;
    if (p == P_BALANCE) {
        if (n < 1 || n > 12)
            return -1;
        snprintf(out, len, "%.12s", digits);
    } else {
        if (n != 13)
            return -1;
        snprintf(out, len, "W%.13s", digits);
    }
    return 0;
}

/* ------------------------------------------------------------ the session */

static bool emergency_screen(enum kscreen s)
{
    return s == S_EMERG_CONFIRM || s == S_EMERG_CALLING || s == S_EMERG_SENT;
}

/* Goes to s; under an emergency screen, s is where its cancel returns. */
static void go(kiosk *k, enum kscreen s)
{
    if (emergency_screen(k->screen) && !emergency_screen(s))
        k->emerg_return = s;
    else
        k->screen = s;
    k->scroll = 0;
}

static void notice(kiosk *k, const char *text, enum kscreen back)
{
    snprintf(k->notice_text, sizeof k->notice_text, "%s", text);
    k->notice_back = back;
    go(k, S_NOTICE);
}

/* Zeroes the looked-up case's texts before it is freed: what a resident
 * read must not linger where the next one's session allocates. */
static void wipe_looked(kiosk *k)
{
    Whistle__V1__Response *r = k->d.looked;
    if (!r)
        return;
    Whistle__V1__Event *e = r->event;
    if (e) {
        char *texts[] = { e->ticket, e->description, e->rating_comment, e->resolution, e->reject_reason, e->contact };
        for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
            if (texts[i])
                explicit_bzero(texts[i], strlen(texts[i]));
        for (size_t i = 0; i < e->n_timeline; i++)
            if (e->timeline[i]->note)
                explicit_bzero(e->timeline[i]->note, strlen(e->timeline[i]->note));
    }
    whistle_response_free(r);
    k->d.looked = NULL;
}

static void draft_init(kiosk *k)
{
    wipe_looked(k);
    explicit_bzero(&k->d, sizeof k->d);
    field_init(&k->d.desc, DESC_MAX);
    field_init(&k->d.phone, PHONE_MAX);
    field_init(&k->d.ticket, 14);
    field_init(&k->d.last4, 4);
    field_init(&k->d.comment, COMMENT_MAX);
}

void flow_home(kiosk *k)
{
    draft_init(k);
    /* an answer still on its way belongs to the session that is gone */
    k->gen++;
    k->call_busy = false;
    kiosk_call_timer(k, false);
    k->waiting_call = 0;
    memset(k->lp, 0, sizeof k->lp);
    k->guide_class[0] = k->guide_item[0] = 0;
    explicit_bzero(k->notice_text, sizeof k->notice_text);
    k->message[0] = 0;
    k->scroll = 0;
    if (emergency_screen(k->screen) && k->screen != S_EMERG_SENT)
        k->emerg_return = S_HOME;
    else
        k->screen = S_HOME;
    net_maybe_reload(k);
}

/* ------------------------------------------------------------ places */

static bool has_children(const kiosk *k, const char *code)
{
    if (!k->nodes || !k->nodes->nodes)
        return false;
    for (size_t i = 0; i < k->nodes->nodes->n_nodes; i++) {
        const Whistle__V1__Node *n = k->nodes->nodes->nodes[i];
        if (!n->retired && strcmp(n->parent, code) == 0)
            return true;
    }
    return false;
}

const char *flow_place_parent(const kiosk *k) { return k->d.depth ? k->d.place[k->d.depth - 1] : k->scope; }

const char *flow_place_node(const kiosk *k) { return flow_place_parent(k); }

/* ------------------------------------------------------------ lists */

static const char *const home_codes[] = { "1", "2", "3", "4", "5", "6", "7", "8" };
static const char *const score_codes[] = { "1", "2", "3", "4", "5" };

size_t flow_items(kiosk *k, enum kscreen s, const char **codes, size_t max)
{
    size_t n = 0;
#define ADD(c)                                                                                                         \
    do {                                                                                                               \
        if (n < max)                                                                                                   \
            codes[n] = (c);                                                                                            \
        n++;                                                                                                           \
    } while (0)
    switch (s) {
    case S_HOME:
        for (size_t i = 0; i < sizeof home_codes / sizeof *home_codes; i++)
            ADD(home_codes[i]);
        break;
    case S_WISH_CAT:
        if (!k->wishes || !k->wishes->volunteer_config)
            break;
        for (size_t i = 0; i < k->wishes->volunteer_config->n_categories; i++)
            ADD(k->wishes->volunteer_config->categories[i]->code);
        break;
    case S_SCORE:
        for (size_t i = 0; i < 5; i++)
            ADD(score_codes[i]);
        break;
    case S_MAJOR:
    case S_MINOR:
        if (!k->cats || !k->cats->categories)
            break;
        for (size_t i = 0; i < k->cats->categories->n_categories; i++) {
            const Whistle__V1__Category *c = k->cats->categories->categories[i];
            size_t len = strlen(c->code);
            if (s == S_MINOR) {
                if (len == 4 && strncmp(c->code, k->d.major, 2) == 0)
                    ADD(c->code);
                continue;
            }
            /* a major class with at least one minor class to report */
            if (len != 2)
                continue;
            for (size_t j = 0; j < k->cats->categories->n_categories; j++) {
                const char *m = k->cats->categories->categories[j]->code;
                if (strlen(m) == 4 && strncmp(m, c->code, 2) == 0) {
                    ADD(c->code);
                    break;
                }
            }
        }
        break;
    case S_PLACE: {
        const char *parent = flow_place_parent(k);
        if (k->nodes && k->nodes->nodes)
            for (size_t i = 0; i < k->nodes->nodes->n_nodes; i++) {
                const Whistle__V1__Node *nd = k->nodes->nodes->nodes[i];
                if (!nd->retired && strcmp(nd->parent, parent) == 0)
                    ADD(nd->code);
            }
        ADD(""); /* "not sure" / "somewhere else here": the parent itself */
        break;
    }
    case S_GUIDE_CLASSES:
        if (!k->services || !k->services->services)
            break;
        for (size_t i = 0; i < k->services->services->n_classes; i++) {
            const Whistle__V1__ServiceClass *c = k->services->services->classes[i];
            if (c->retired)
                continue;
            for (size_t j = 0; j < k->services->services->n_items; j++) {
                const Whistle__V1__ServiceItem *it = k->services->services->items[j];
                if (!it->retired && strcmp(it->class_code, c->code) == 0) {
                    ADD(c->code);
                    break;
                }
            }
        }
        break;
    case S_GUIDE_ITEMS:
        if (!k->services || !k->services->services)
            break;
        for (size_t i = 0; i < k->services->services->n_items; i++) {
            const Whistle__V1__ServiceItem *it = k->services->services->items[i];
            if (!it->retired && strcmp(it->class_code, k->guide_class) == 0)
                ADD(it->code);
        }
        break;
    default: break;
    }
#undef ADD
    return n < max ? n : max;
}

static bool list_screen(enum kscreen s)
{
    return s == S_HOME || s == S_MAJOR || s == S_MINOR || s == S_PLACE || s == S_SCORE || s == S_GUIDE_CLASSES ||
           s == S_GUIDE_ITEMS || s == S_WISH_CAT;
}

static field *screen_field(kiosk *k, int *kind)
{
    switch (k->screen) {
    case S_DESC: *kind = FK_TEXT; return &k->d.desc;
    case S_PHONE: *kind = FK_DIGITS; return &k->d.phone;
    case S_TICKET: *kind = FK_TICKET; return &k->d.ticket;
    case S_LAST4: *kind = FK_DIGITS; return &k->d.last4;
    case S_COMMENT: *kind = FK_TEXT; return &k->d.comment;
    default: *kind = FK_TEXT; return NULL;
    }
}

/* The places below the one chosen last, or the description when there are
 * none: the place is known. */
static void enter_place(kiosk *k)
{
    k->d.here = false;
    if (k->d.depth >= MAX_DEPTH || !has_children(k, flow_place_parent(k))) {
        go(k, S_DESC);
        return;
    }
    k->lp[S_PLACE].sel = 0;
    go(k, S_PLACE);
}

/* Starts waiting for an answer: sends now, or as soon as the service is back. */
static void ask(kiosk *k, enum kscreen waiting, enum call_kind what)
{
    go(k, waiting);
    k->waiting_call = 0;
    int rc = what == CALL_REPORT         ? net_report(k)
             : what == CALL_LOOKUP       ? net_lookup(k)
             : what == CALL_RATE         ? net_rate(k)
             : what == CALL_WISH_ADD     ? net_wish_add(k)
             : what == CALL_WISH_CONFIRM ? net_wish_confirm(k)
                                         : net_balance(k);
    if (rc < 0)
        k->waiting_call = what;
}

static void choose(kiosk *k, size_t idx)
{
    const char *codes[MAX_ITEMS];
    size_t n = flow_items(k, k->screen, codes, MAX_ITEMS);
    if (idx >= n)
        return;
    const char *code = codes[idx];
    k->lp[k->screen].sel = idx;
    switch (k->screen) {
    case S_HOME:
        if (code[0] == '1') {
            if (!k->cats || !k->nodes) {
                notice(k, _("The service is temporarily unavailable. Please ask the staff for help."), S_HOME);
                return;
            }
            k->lp[S_MAJOR].sel = 0;
            go(k, S_MAJOR);
        } else if (code[0] == '2' || code[0] == '3') {
            k->purpose = code[0] == '2' ? P_LOOKUP : P_RATE;
            go(k, S_TICKET);
        } else if (code[0] == '5') {
            if (!k->board || k->board_missing) {
                notice(k, _("The echo board is not available at the moment. Please ask the staff."), S_HOME);
                return;
            }
            go(k, S_BOARD);
        } else if (code[0] == '6') {
            const char *cats[1];
            if (!flow_items(k, S_WISH_CAT, cats, 1)) {
                notice(k, _("This community takes no wishes at this terminal yet. Please ask the staff."), S_HOME);
                return;
            }
            k->purpose = P_WISH;
            k->lp[S_WISH_CAT].sel = 0;
            go(k, S_WISH_CAT);
        } else if (code[0] == '7' || code[0] == '8') {
            /* the slip's number and the phone's digits; or the volunteer's
             * number and the card's 8-digit code */
            k->purpose = code[0] == '7' ? P_WISH_CONFIRM : P_BALANCE;
            field_init(&k->d.ticket, 14);
            field_init(&k->d.last4, k->purpose == P_BALANCE ? 8 : 4);
            go(k, S_TICKET);
        } else {
            const char *classes[1];
            if (!k->services || k->services_missing || !flow_items(k, S_GUIDE_CLASSES, classes, 1)) {
                notice(k, _("The service guide is not available at the moment. Please ask the staff."), S_HOME);
                return;
            }
            k->lp[S_GUIDE_CLASSES].sel = 0;
            go(k, S_GUIDE_CLASSES);
        }
        break;
    case S_MAJOR:
        snprintf(k->d.major, sizeof k->d.major, "%s", code);
        k->lp[S_MINOR].sel = 0;
        go(k, S_MINOR);
        break;
    case S_MINOR:
        snprintf(k->d.minor, sizeof k->d.minor, "%s", code);
        k->d.depth = 0;
        enter_place(k);
        break;
    case S_PLACE:
        if (!*code || k->d.depth >= MAX_DEPTH) {
            k->d.here = true;
            go(k, S_DESC);
            break;
        }
        snprintf(k->d.place[k->d.depth], sizeof k->d.place[0], "%s", code);
        k->d.depth++;
        enter_place(k);
        break;
    case S_SCORE:
        k->d.score = (unsigned)(idx + 1);
        go(k, S_COMMENT);
        break;
    case S_GUIDE_CLASSES:
        snprintf(k->guide_class, sizeof k->guide_class, "%s", code);
        k->lp[S_GUIDE_ITEMS].sel = 0;
        go(k, S_GUIDE_ITEMS);
        break;
    case S_GUIDE_ITEMS:
        snprintf(k->guide_item, sizeof k->guide_item, "%s", code);
        go(k, S_GUIDE_ITEM);
        break;
    case S_WISH_CAT:
        snprintf(k->d.wish_cat, sizeof k->d.wish_cat, "%s", code);
        go(k, S_DESC);
        break;
    default: break;
    }
}

/* One step back. */
static void back(kiosk *k)
{
    switch (k->screen) {
    case S_MINOR: go(k, S_MAJOR); break;
    case S_PLACE:
        if (k->d.depth) {
            k->d.depth--;
            k->lp[S_PLACE].sel = 0;
        } else
            go(k, S_MINOR);
        break;
    case S_DESC:
        if (k->purpose == P_WISH) {
            go(k, S_WISH_CAT);
            break;
        }
        /* back to the list the last place was chosen from */
        if (k->d.here)
            k->d.here = false;
        else if (k->d.depth)
            k->d.depth--;
        else {
            go(k, S_MINOR); /* the kiosk's place has none below: nothing was chosen */
            break;
        }
        k->lp[S_PLACE].sel = 0;
        go(k, S_PLACE);
        break;
    case S_PHONE: go(k, S_DESC); break;
    case S_CONFIRM: go(k, S_PHONE); break;
    case S_LAST4: go(k, S_TICKET); break;
    case S_SCORE: go(k, S_LAST4); break;
    case S_COMMENT: go(k, S_SCORE); break;
    case S_GUIDE_ITEMS: go(k, S_GUIDE_CLASSES); break;
    case S_GUIDE_ITEM: go(k, S_GUIDE_ITEMS); break;
    default: flow_home(k); break;
    }
}

static void field_done(kiosk *k)
{
    char text[FIELD_CAP * 4];
    field_text(screen_field(k, &(int){ 0 }), text, sizeof text);
    switch (k->screen) {
    case S_DESC:
        if (!*text)
            snprintf(k->message, sizeof k->message, "%s",
                     k->purpose == P_WISH ? _("Please say what you need first.")
                                          : _("Please describe the problem first."));
        else
            go(k, S_PHONE);
        break;
    case S_PHONE: {
        const char *problem = words_phone_problem(text);
        if (*problem)
            snprintf(k->message, sizeof k->message, "%s", problem);
        else if (k->purpose == P_WISH && !*text)
            snprintf(k->message, sizeof k->message, "%s",
                     _("A wish needs your phone number: you confirm it with its last 4 digits when it is done."));
        else if (k->purpose == P_WISH)
            ask(k, S_SENDING, CALL_WISH_ADD);
        else
            go(k, S_CONFIRM);
        break;
    }
    case S_TICKET:
        if (k->purpose == P_WISH_CONFIRM || k->purpose == P_BALANCE) {
            if (wish_number(k->purpose, text, k->d.ticket_norm, sizeof k->d.ticket_norm) < 0)
                snprintf(k->message, sizeof k->message, "%s",
                         k->purpose == P_BALANCE
                             ? _("Your volunteer number is the number on your card.")
                             : _("A wish's slip number is the letter W and 13 digits. You may type just the digits."));
            else
                go(k, S_LAST4);
        } else if (words_ticket(text, k->d.ticket_norm, sizeof k->d.ticket_norm) < 0)
            snprintf(k->message, sizeof k->message, "%s",
                     _("A ticket number is the letter E and 13 digits. You may type just the digits."));
        else
            go(k, S_LAST4);
        break;
    case S_LAST4:
        if (k->purpose == P_BALANCE || k->purpose == P_WISH_CONFIRM) {
            size_t want = k->purpose == P_BALANCE ? 8 : 4;
            if (strlen(text) != want) {
                snprintf(k->message, sizeof k->message, "%s",
                         k->purpose == P_BALANCE ? _("Please type the 8-digit code on your volunteer card.")
                                                 : _("Please type the last 4 digits of the phone number given with "
                                                     "the wish."));
                break;
            }
            memcpy(k->d.last4_norm, text, want + 1);
            explicit_bzero(k->d.key, sizeof k->d.key);
            ask(k, S_ASKING, k->purpose == P_BALANCE ? CALL_BALANCE : CALL_WISH_CONFIRM);
            break;
        }
        if (strlen(text) != 4) {
            snprintf(k->message, sizeof k->message, "%s",
                     _("Please type the last 4 digits of the phone number given with the report."));
            break;
        }
        memcpy(k->d.last4_norm, text, 5);
        wipe_looked(k);
        ask(k, S_ASKING, CALL_LOOKUP);
        break;
    case S_COMMENT: ask(k, S_RATING, CALL_RATE); break;
    default: break;
    }
    explicit_bzero(text, sizeof text);
}

/* ------------------------------------------------------------ the emergency call */

static void on_confirm_timer(uv_timer_t *t) { flow_emergency_expired(t->data); }

static void emergency_key(kiosk *k)
{
    if (emergency_screen(k->screen))
        return; /* pressed again: the confirmation or the call goes on */
    k->emerg_return = k->screen;
    k->screen = S_EMERG_CONFIRM;
    k->emerg_deadline = shell_clock_ms() + 10000;
    k->confirm_timer.data = k;
    uv_timer_start(&k->confirm_timer, on_confirm_timer, 10000, 0);
}

static void emergency_cancel(kiosk *k)
{
    uv_timer_stop(&k->confirm_timer);
    k->screen = k->emerg_return;
}

void flow_emergency_expired(kiosk *k)
{
    if (k->screen == S_EMERG_CONFIRM)
        emergency_cancel(k);
    kiosk_redraw(k);
}

static void emergency_call(kiosk *k)
{
    uv_timer_stop(&k->confirm_timer);
    k->screen = S_EMERG_CALLING;
    explicit_bzero(k->emerg_key, sizeof k->emerg_key); /* a new call */
    k->emerg_ticket[0] = 0;
    k->emerg_waiting = net_emergency(k) < 0;
}

void flow_emergency_answer(kiosk *k, int status, Whistle__V1__Response *resp)
{
    if (status < 0) {
        /* no answer: again, with the same key, now or once the service is back */
        k->emerg_waiting = net_emergency(k) < 0;
        whistle_response_free(resp);
        return;
    }
    k->emerg_waiting = false;
    if (whistle_response_code(resp) == CODE(OK)) {
        snprintf(k->emerg_ticket, sizeof k->emerg_ticket, "%s", resp->event ? resp->event->ticket : "");
        k->screen = S_EMERG_SENT;
    } else {
        /* refused: it will not pass by trying again */
        snprintf(k->notice_text, sizeof k->notice_text, "%s",
                 _("The emergency call could not be made from this terminal. Please ask the staff, or call 110, "
                   "119 or 120 now."));
        k->notice_back = S_HOME;
        k->screen = S_NOTICE;
    }
    explicit_bzero(k->emerg_key, sizeof k->emerg_key);
    whistle_response_free(resp);
}

/* ------------------------------------------------------------ answers */

static void rate_refused(kiosk *k, const Whistle__V1__Event *e, const char *why)
{
    char text[600];
    if ((e && e->rating) || (why && strstr(why, "already rated")))
        snprintf(text, sizeof text, "%s", _("This ticket has already been rated; a ticket is rated once."));
    else
        snprintf(text, sizeof text,
                 _("This ticket is not closed yet (now: %s). A ticket can be rated once it is closed."),
                 e ? words_state(e->state) : _("being processed"));
    notice(k, text, S_HOME);
}

void flow_answer(kiosk *k, enum call_kind what, int status, Whistle__V1__Response *resp)
{
    int code = status < 0 || !resp ? -1 : whistle_response_code(resp);
    const char *msg = resp ? whistle_response_message(resp) : "";
    switch (what) {
    case CALL_REPORT:
        if (code == CODE(OK) && resp->event) {
            snprintf(k->d.filed, sizeof k->d.filed, "%s", resp->event->ticket);
            snprintf(k->d.filed_cat, sizeof k->d.filed_cat, "%s", resp->event->category);
            go(k, S_DONE);
        } else if (code < 0) {
            go(k, S_SEND_FAILED);
        } else {
            explicit_bzero(k->d.key, sizeof k->d.key); /* a changed report is a new one */
            snprintf(k->message, sizeof k->message, "%s",
                     code == CODE(RESOURCE_EXHAUSTED)
                         ? _("The service is busy. Please try again in a moment, or ask the staff.")
                         : _("This report could not be accepted here. Please check it, or ask the staff."));
            go(k, S_CONFIRM);
        }
        break;
    case CALL_LOOKUP:
        if (code == CODE(OK) && resp->event) {
            k->d.looked = resp;
            resp = NULL;
            const Whistle__V1__Event *e = k->d.looked->event;
            if (k->purpose == P_LOOKUP) {
                go(k, S_RESULT);
            } else if (e->state != ES(CLOSED) || e->rating) {
                rate_refused(k, e, NULL);
            } else {
                k->lp[S_SCORE].sel = 2; /* the highlight starts on the middle answer */
                go(k, S_SCORE);
            }
        } else if (code == CODE(NOT_FOUND) || code == CODE(INVALID_ARGUMENT) || code == CODE(PERMISSION_DENIED)) {
            /* A wrong pair and a missing ticket read the same, whatever the
             * daemon's reason: nothing tells a guesser which it was. */
            go(k, S_NOT_FOUND);
        } else if (code == CODE(RESOURCE_EXHAUSTED)) {
            notice(k, _("Too many attempts. Please try again later, or ask the staff."), S_HOME);
        } else {
            notice(k, _("The service is temporarily unavailable. Please try again in a moment, or ask the staff."),
                   S_LAST4);
        }
        break;
    case CALL_WISH_ADD:
        if (code == CODE(OK) && resp->wish) {
            char text[600];
            snprintf(text, sizeof text,
                     _("Your wish has been taken: slip number %s. Please write it down.\nThe community reads it and "
                       "finds a volunteer. When it is done, confirm it here (\"Confirm a wish is done\") with this "
                       "number and the last 4 digits of your phone."),
                     resp->wish->ticket);
            notice(k, text, S_HOME);
        } else if (code < 0) {
            notice(k,
                   _("The service did not answer in time. Press a key and send again: your wish is never taken "
                     "twice."),
                   S_PHONE);
        } else {
            explicit_bzero(k->d.key, sizeof k->d.key);
            notice(k, _("This wish could not be taken here. Please ask the staff."), S_HOME);
        }
        break;
    case CALL_WISH_CONFIRM:
    case CALL_BALANCE:
        if (code == CODE(OK) && what == CALL_WISH_CONFIRM && resp->wish) {
            char text[400];
            snprintf(text, sizeof text,
                     _("Thank you. The wish is confirmed, and the volunteer receives %u points for it."),
                     resp->wish->points);
            notice(k, text, S_HOME);
        } else if (code == CODE(OK) && what == CALL_BALANCE && resp->balance) {
            char text[400];
            snprintf(text, sizeof text,
                     _("%s, you have %lld points. Goods can be had for them at the community's "
                       "love supermarket (爱心超市)."),
                     resp->balance->name, (long long)resp->balance->balance);
            notice(k, text, S_HOME);
        } else if (code == CODE(FAILED_PRECONDITION)) {
            notice(k, _("This wish is not marked done yet, or has been confirmed already."), S_HOME);
        } else if (code == CODE(NOT_FOUND) || code == CODE(INVALID_ARGUMENT) || code == CODE(PERMISSION_DENIED)) {
            go(k, S_NOT_FOUND);
        } else if (code == CODE(RESOURCE_EXHAUSTED)) {
            notice(k, _("Too many attempts. Please try again later, or ask the staff."), S_HOME);
        } else {
            notice(k, _("The service is temporarily unavailable. Please try again in a moment, or ask the staff."),
                   S_LAST4);
        }
        break;
    case CALL_RATE:
        if (code == CODE(OK)) {
            go(k, S_RATED);
        } else if (code == CODE(FAILED_PRECONDITION)) {
            rate_refused(k, NULL, msg);
        } else if (code == CODE(NOT_FOUND) || code == CODE(INVALID_ARGUMENT) || code == CODE(PERMISSION_DENIED)) {
            go(k, S_NOT_FOUND);
        } else if (code == CODE(RESOURCE_EXHAUSTED)) {
            notice(k, _("Too many attempts. Please try again later, or ask the staff."), S_HOME);
        } else {
            /* the same key goes with the next try: a rating is never counted twice */
            notice(k, _("The service is temporarily unavailable. Please try again in a moment, or ask the staff."),
                   S_COMMENT);
        }
        break;
    }
    whistle_response_free(resp);
}

void flow_net_live(kiosk *k)
{
    int what = k->waiting_call;
    k->waiting_call = 0;
    if (what == CALL_REPORT && net_report(k) < 0)
        k->waiting_call = what;
    else if (what == CALL_LOOKUP && net_lookup(k) < 0)
        k->waiting_call = what;
    else if (what == CALL_RATE && net_rate(k) < 0)
        k->waiting_call = what;
    else if (what == CALL_WISH_ADD && net_wish_add(k) < 0)
        k->waiting_call = what;
    else if (what == CALL_WISH_CONFIRM && net_wish_confirm(k) < 0)
        k->waiting_call = what;
    else if (what == CALL_BALANCE && net_balance(k) < 0)
        k->waiting_call = what;
    if (k->emerg_waiting && !k->emerg_busy)
        k->emerg_waiting = net_emergency(k) < 0;
}

void flow_idle(kiosk *k)
{
    /* a call on its way, or an emergency being called, is waited for */
    if (k->call_busy || k->screen == S_EMERG_CALLING)
        return;
    if (k->screen == S_EMERG_CONFIRM)
        uv_timer_stop(&k->confirm_timer);
    if (k->screen == S_EMERG_CONFIRM || k->screen == S_EMERG_SENT)
        k->screen = S_HOME;
    flow_home(k);
    kiosk_redraw(k);
}

/* ------------------------------------------------------------ keys */

static void list_key(kiosk *k, wint_t ch, bool is_key)
{
    const char *codes[MAX_ITEMS];
    size_t n = flow_items(k, k->screen, codes, MAX_ITEMS);
    size_t per = draw_per_page();
    listpos *p = &k->lp[k->screen];
    if (p->sel >= n)
        p->sel = n ? n - 1 : 0;
    size_t page = p->sel / per;
    if (!is_key && ch >= L'1' && ch <= L'9') {
        size_t idx = page * per + (size_t)(ch - L'1');
        if ((size_t)(ch - L'1') < per && idx < n)
            choose(k, idx);
        return;
    }
    if (!is_key && ch == L'0') {
        if (k->screen != S_HOME)
            flow_home(k);
        return;
    }
    if (is_enter(ch, is_key)) {
        if (n)
            choose(k, p->sel);
        return;
    }
    if (is_esc(ch, is_key) || is_backspace(ch, is_key)) {
        if (k->screen != S_HOME)
            back(k);
        return;
    }
    if (!is_key || !n)
        return;
    switch (ch) {
    case KEY_UP:
        if (p->sel)
            p->sel--;
        break;
    case KEY_DOWN:
        if (p->sel + 1 < n)
            p->sel++;
        break;
    case KEY_LEFT:
    case KEY_PPAGE: p->sel = page ? (page - 1) * per : 0; break;
    case KEY_RIGHT:
    case KEY_NPAGE:
        if ((page + 1) * per < n)
            p->sel = (page + 1) * per;
        break;
    case KEY_HOME: p->sel = 0; break;
    case KEY_END: p->sel = n - 1; break;
    default: break;
    }
}

/* Up and down scroll a long page; returns whether the key did. */
static bool scroll_key(kiosk *k, wint_t ch, bool is_key)
{
    if (!is_key)
        return false;
    int page = draw_page_rows();
    switch (ch) {
    case KEY_UP: k->scroll--; break;
    case KEY_DOWN: k->scroll++; break;
    case KEY_PPAGE:
    case KEY_LEFT: k->scroll -= page > 1 ? page - 1 : 1; break;
    case KEY_NPAGE:
    case KEY_RIGHT: k->scroll += page > 1 ? page - 1 : 1; break;
    default: return false;
    }
    if (k->scroll < 0)
        k->scroll = 0;
    return true; /* draw clamps the bottom */
}

void flow_key(kiosk *k, wint_t ch, bool is_key)
{
    if (is_key && ch == KEY_RESIZE)
        return;
    if (is_key && ch == KEY_F(12)) {
        emergency_key(k);
        return;
    }
    k->message[0] = 0;
    enum kscreen s = k->screen;
    if (s == S_EMERG_CONFIRM) {
        if (is_enter(ch, is_key))
            emergency_call(k);
        else
            emergency_cancel(k);
        return;
    }
    if (s == S_EMERG_CALLING)
        return; /* the call goes on whatever is pressed */
    if (s == S_EMERG_SENT) {
        k->screen = S_HOME;
        flow_home(k);
        return;
    }
    if (list_screen(s)) {
        list_key(k, ch, is_key);
        return;
    }
    int kind;
    field *f = screen_field(k, &kind);
    if (f) {
        if (is_enter(ch, is_key))
            field_done(k);
        else if (is_esc(ch, is_key))
            back(k);
        else
            field_key(f, ch, is_key, kind);
        return;
    }
    switch (s) {
    case S_CONFIRM:
        if (scroll_key(k, ch, is_key))
            return;
        if (is_enter(ch, is_key))
            ask(k, S_SENDING, CALL_REPORT);
        else if (is_esc(ch, is_key) || is_backspace(ch, is_key))
            back(k);
        else if (!is_key && ch == L'0')
            flow_home(k);
        return;
    case S_SENDING:
    case S_ASKING:
    case S_RATING:
        /* While the answer is on its way, keys wait: it may be a ticket
         * number the resident must see. Waiting for the service, they
         * may give up. */
        if (k->call_busy)
            return;
        if (!is_key && ch == L'0')
            flow_home(k);
        else if (is_esc(ch, is_key) || is_backspace(ch, is_key)) {
            k->waiting_call = 0;
            go(k, s == S_SENDING ? S_CONFIRM : s == S_ASKING ? S_LAST4 : S_COMMENT);
        }
        return;
    case S_SEND_FAILED:
        if (is_enter(ch, is_key))
            ask(k, S_SENDING, CALL_REPORT); /* the same key: filed once, however often */
        else if ((!is_key && ch == L'0') || is_esc(ch, is_key))
            flow_home(k);
        return;
    case S_NOT_FOUND:
        if (is_enter(ch, is_key)) {
            /* Try again: the number typed is offered as it was (Enter keeps
             * it, when the phone digits were the mistake), and what is
             * typed now replaces it, never adds to it. */
            field_wipe(&k->d.last4);
            k->d.ticket.cur = k->d.ticket.len;
            k->d.ticket.replace = k->d.ticket.len > 0;
            go(k, S_TICKET);
        } else
            flow_home(k);
        return;
    case S_NOTICE: {
        enum kscreen to = k->notice_back;
        explicit_bzero(k->notice_text, sizeof k->notice_text);
        if (to == S_HOME)
            flow_home(k);
        else
            go(k, to);
        return;
    }
    case S_BOARD:
    case S_GUIDE_ITEM:
        if (scroll_key(k, ch, is_key))
            return;
        if (!is_key && ch == L'0')
            flow_home(k);
        else
            back(k);
        return;
    case S_RESULT:
    case S_DONE:
        if (scroll_key(k, ch, is_key))
            return;
        flow_home(k); /* and the case read or filed is wiped */
        return;
    case S_RATED:
    default: flow_home(k); return;
    }
}
