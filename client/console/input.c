/* input.c: keys. A key acts on the selected case (or on the selected
 * order); what needs words (a reason, an assignee, the departments to
 * whistle) opens a prompt on the status line, edited as a line of wide
 * characters so that Chinese typed through an input method works. While an
 * emergency covers the screen only its own keys work. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "console.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s

enum { P_REJECT = 1, P_ASSIGN, P_WHISTLE_DEPTS, P_WHISTLE_KIND, P_REFUSE, P_PARK };

static const Whistle__V1__Event *selected_case(console *k)
{
    model_rows(k);
    if (k->sel >= k->n_rows)
        return NULL;
    return k->cases[k->rows[k->sel].kase];
}

static bool extension_pending(const Whistle__V1__Order *o)
{
    return o && o->extension && o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING;
}

/* The order the extension keys act on: the one the alert line names, while
 * that alert is the latest ("... asks for more time on #4: x approve, X
 * refuse") and its request still waits; else the selected order, or the
 * selected case's first order with a request waiting. */
static const Whistle__V1__Order *extension_order(console *k)
{
    if (k->n_alerts) {
        const alert *a = &k->alerts[(k->n_alerts - 1) % MAX_ALERTS];
        for (size_t i = 0; a->order_id && i < k->n_orders; i++)
            if (k->orders[i]->id == a->order_id && extension_pending(k->orders[i]))
                return k->orders[i];
    }
    model_rows(k);
    if (k->sel >= k->n_rows)
        return NULL;
    const row *r = &k->rows[k->sel];
    if (r->order)
        return r->order;
    const char *t = k->cases[r->kase]->ticket;
    for (size_t i = 0; i < k->n_orders; i++) {
        const Whistle__V1__Order *o = k->orders[i];
        if (strcmp(o->ticket, t) == 0 && o->extension &&
            o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING)
            return o;
    }
    return NULL;
}

static void prompt_open(console *k, int kind, const char *label, const char *ticket, uint64_t order,
                        const char *initial)
{
    prompt *p = &k->pr;
    memset(p, 0, sizeof *p);
    p->active = true;
    p->kind = kind;
    snprintf(p->label, sizeof p->label, "%s", label);
    snprintf(p->ticket, sizeof p->ticket, "%s", ticket ? ticket : "");
    p->order_id = order;
    size_t n = initial ? mbstowcs(p->buf, initial, sizeof p->buf / sizeof *p->buf - 1) : 0;
    p->len = p->cur = n == (size_t)-1 ? 0 : n;
    p->buf[p->len] = 0;
}

/* The departments the case's category names (权责清单), by their names in
 * the operator's language, "Urban management enforcement team, Market
 * supervision office": what people read, not the codes. */
static void proposed_departments(console *k, const Whistle__V1__Event *e, char *out, size_t len)
{
    const named *c = model_find(k->cats, k->n_cats, e->category);
    out[0] = 0;
    if (!c)
        return;
    char codes[256];
    snprintf(codes, sizeof codes, "%s", c->depts);
    size_t o = 0;
    for (char *save = NULL, *tok = strtok_r(codes, ",", &save); tok && o < len; tok = strtok_r(NULL, ",", &save)) {
        const named *d = model_find(k->depts, k->n_depts, tok);
        o += (size_t)snprintf(out + o, len - o, "%s%s", o ? ", " : "", d && *d->name ? d->name : tok);
    }
}

/* One department as typed: its code or its name (either case for
 * letters). NULL when there is none such. */
static const char *department_code(console *k, const char *typed)
{
    for (size_t i = 0; i < k->n_depts; i++)
        if (strcasecmp(k->depts[i].code, typed) == 0 || strcasecmp(k->depts[i].name, typed) == 0)
            return k->depts[i].code;
    return NULL;
}

/* The departments typed (names or codes, between commas: "," "，" "、";
 * codes may also be apart by spaces) as codes "a,b" in out. 0, or -1 with
 * the first that is no department in bad. */
static int departments_typed(console *k, const char *text, char *out, size_t len, char *bad, size_t badlen)
{
    char t[2048];
    size_t n = 0;
    /* the Chinese commas as ASCII ones */
    for (const char *p = text; *p && n + 1 < sizeof t;) {
        if (strncmp(p, "，", strlen("，")) == 0 || strncmp(p, "、", strlen("、")) == 0) {
            t[n++] = ',';
            p += 3;
        } else {
            t[n++] = *p++;
        }
    }
    t[n] = 0;
    size_t o = 0;
    out[0] = 0;
    for (char *save = NULL, *tok = strtok_r(t, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        while (*tok == ' ')
            tok++;
        size_t l = strlen(tok);
        while (l && tok[l - 1] == ' ')
            tok[--l] = 0;
        if (!*tok)
            continue;
        const char *code = department_code(k, tok);
        if (code) {
            o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s%s", o ? "," : "", code);
            continue;
        }
        /* "urban market": codes apart by spaces */
        char words[512];
        snprintf(words, sizeof words, "%s", tok);
        size_t o0 = o;
        for (char *s2 = NULL, *w = strtok_r(words, " ", &s2); w; w = strtok_r(NULL, " ", &s2)) {
            if (!(code = department_code(k, w))) {
                snprintf(bad, badlen, "%s", tok);
                return -1;
            }
            o += (size_t)snprintf(out + o, o < len ? len - o : 0, "%s%s", o ? "," : "", code);
        }
        if (o == o0) {
            snprintf(bad, badlen, "%s", tok);
            return -1;
        }
    }
    return 0;
}

static void open_whistle(console *k, const Whistle__V1__Event *e)
{
    char label[160], names[1024];
    snprintf(label, sizeof label, _("Whistle %s to (departments, between commas):"), e->ticket);
    proposed_departments(k, e, names, sizeof names);
    prompt_open(k, P_WHISTLE_DEPTS, label, e->ticket, 0, names);
}

static void trim(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == ','))
        s[--n] = 0;
    size_t i = 0;
    while (s[i] == ' ')
        i++;
    memmove(s, s + i, n - i + 1);
}

static void prompt_accept(console *k)
{
    prompt *p = &k->pr;
    char text[2048];
    p->buf[p->len] = 0;
    size_t n = wcstombs(text, p->buf, sizeof text - 1);
    if (n == (size_t)-1)
        n = 0;
    text[n] = 0;
    trim(text);
    p->active = false;
    switch (p->kind) {
    case P_REJECT:
        if (*text)
            net_reject(k, p->ticket, text);
        else
            console_status(k, "%s", _("reject: a reason is required; nothing was sent"));
        break;
    case P_ASSIGN:
        if (*text)
            net_assign(k, p->ticket, text);
        break;
    case P_WHISTLE_DEPTS: {
        char codes[1024], bad[256];
        if (!*text) {
            console_status(k, "%s", _("whistle: no department; nothing was sent"));
            break;
        }
        if (departments_typed(k, text, codes, sizeof codes, bad, sizeof bad) < 0) {
            console_status(k,
                           _("whistle: \"%s\" is no department (give their names or codes, between commas); "
                             "nothing was sent"),
                           bad);
            break;
        }
        const Whistle__V1__Event *e = model_event(k, p->ticket);
        bool urgent = e && e->priority == WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
        char ticket[40], label[200];
        snprintf(ticket, sizeof ticket, "%s", p->ticket);
        snprintf(label, sizeof label, _("Kind (routine, tackle, emergency):"));
        prompt_open(k, P_WHISTLE_KIND, label, ticket, 0, urgent ? "emergency" : "routine");
        snprintf(k->pr.extra, sizeof k->pr.extra, "%s", codes);
        return;
    }
    case P_WHISTLE_KIND: {
        Whistle__V1__WhistleKind kind;
        if (whistle_kind_parse(*text ? text : "routine", &kind) < 0) {
            console_status(k, _("whistle: \"%s\" is not a kind (routine, tackle, emergency)"), text);
            break;
        }
        net_whistle(k, p->ticket, p->extra, kind);
        break;
    }
    case P_REFUSE:
        if (*text)
            net_decide(k, p->order_id, false, text);
        else
            console_status(k, "%s", _("refuse: say why; nothing was sent"));
        break;
    case P_PARK:
        if (*text)
            net_park(k, p->ticket, true, text);
        else
            console_status(k, "%s", _("park: a reason is required; nothing was sent"));
        break;
    default:
        if (p->kind >= MEETING_PROMPTS)
            meeting_prompt(k, p->kind, text);
        break;
    }
}

void input_prompt_open(console *k, int kind, const char *label, const char *initial)
{
    prompt_open(k, kind, label, NULL, 0, initial);
}

static void prompt_key(console *k, wint_t ch, bool is_key)
{
    prompt *p = &k->pr;
    size_t max = sizeof p->buf / sizeof *p->buf - 1;
    if (!is_key && (ch == L'\n' || ch == L'\r')) {
        prompt_accept(k);
        return;
    }
    if (!is_key && ch == 27) {
        p->active = false;
        console_status(k, "%s", _("cancelled"));
        return;
    }
    if (is_key) {
        switch (ch) {
        case KEY_ENTER: prompt_accept(k); return;
        case KEY_LEFT:
            if (p->cur)
                p->cur--;
            return;
        case KEY_RIGHT:
            if (p->cur < p->len)
                p->cur++;
            return;
        case KEY_HOME: p->cur = 0; return;
        case KEY_END: p->cur = p->len; return;
        case KEY_BACKSPACE: break;
        case KEY_DC:
            if (p->cur < p->len) {
                memmove(p->buf + p->cur, p->buf + p->cur + 1, (p->len - p->cur) * sizeof *p->buf);
                p->len--;
            }
            return;
        default: return;
        }
    }
    if ((is_key && ch == KEY_BACKSPACE) || ch == 127 || ch == 8) {
        if (p->cur) {
            memmove(p->buf + p->cur - 1, p->buf + p->cur, (p->len - p->cur + 1) * sizeof *p->buf);
            p->cur--;
            p->len--;
        }
        return;
    }
    if (ch == 21) { /* Ctrl-U */
        p->len = p->cur = 0;
        p->buf[0] = 0;
        return;
    }
    if (ch < 0x20 || p->len >= max)
        return;
    memmove(p->buf + p->cur + 1, p->buf + p->cur, (p->len - p->cur + 1) * sizeof *p->buf);
    p->buf[p->cur++] = (wchar_t)ch;
    p->len++;
}

static void acknowledge(console *k, bool whistle)
{
    char t[40];
    snprintf(t, sizeof t, "%s", k->emergencies[0].ticket);
    const Whistle__V1__Event *e = model_event(k, t);
    model_acknowledge(k, t);
    if (e && e->state == ES(REPORTED))
        net_file(k, t);
    net_ack(k);
    console_status(k, _("emergency %s acknowledged"), t);
    if (whistle && e)
        open_whistle(k, e);
}

static void move_sel(console *k, long by)
{
    model_rows(k);
    if (!k->n_rows)
        return;
    long s = (long)k->sel + by;
    if (s < 0)
        s = 0;
    if (s >= (long)k->n_rows)
        s = (long)k->n_rows - 1;
    k->sel = (size_t)s;
    const row *r = &k->rows[k->sel];
    snprintf(k->sel_ticket, sizeof k->sel_ticket, "%s", k->cases[r->kase]->ticket);
    k->sel_order = r->order ? r->order->id : 0;
}

void input_key(console *k, wint_t ch, bool is_key)
{
    if (k->n_emergencies) {
        if ((!is_key && (ch == L'\n' || ch == L'\r')) || (is_key && ch == KEY_ENTER))
            acknowledge(k, false);
        else if (!is_key && (ch == L'w' || ch == L'W'))
            acknowledge(k, true);
        return;
    }
    if (is_key && ch == KEY_RESIZE)
        return;
    if (k->help) {
        k->help = false;
        return;
    }
    if (k->pr.active) {
        prompt_key(k, ch, is_key);
        return;
    }
    if (k->mt.id) {
        meeting_key(k, ch, is_key);
        return;
    }
    int h = LINES > 8 ? LINES - 6 : 2;
    if (is_key) {
        switch (ch) {
        case KEY_UP: move_sel(k, -1); break;
        case KEY_DOWN: move_sel(k, 1); break;
        case KEY_PPAGE: move_sel(k, -h); break;
        case KEY_NPAGE: move_sel(k, h); break;
        case KEY_HOME: move_sel(k, -(long)k->n_rows); break;
        case KEY_END: move_sel(k, (long)k->n_rows); break;
        default: break;
        }
        return;
    }
    const Whistle__V1__Event *e;
    const Whistle__V1__Order *o;
    char label[200];
    if (k->view == VIEW_CASES && (ch == L'x' || ch == L'X')) {
        /* the alert's order needs no case selected */
        o = extension_order(k);
        if (!extension_pending(o)) {
            console_status(k, "%s", _("no extension request on the selected order"));
        } else if (ch == L'x') {
            net_decide(k, o->id, true, NULL);
        } else {
            snprintf(label, sizeof label, _("Refuse #%llu's extension, because:"), (unsigned long long)o->id);
            prompt_open(k, P_REFUSE, label, o->ticket, o->id, NULL);
        }
        return;
    }
    switch (ch) {
    case L'q':
    case L'Q': console_quit(k); return;
    case L'?': k->help = true; return;
    case L'\t':
        k->view = k->view == VIEW_CASES ? VIEW_STATS : k->view == VIEW_STATS ? VIEW_WISHES : VIEW_CASES;
        if (k->view == VIEW_STATS)
            net_refresh_stats(k);
        if (k->view == VIEW_WISHES)
            net_refresh_wishes(k);
        return;
    case L'j': move_sel(k, 1); return;
    case L'k': move_sel(k, -1); return;
    case L'g': move_sel(k, -(long)k->n_rows); return;
    case L'G': move_sel(k, (long)k->n_rows); return;
    default: break;
    }
    if (k->view != VIEW_CASES)
        return;
    e = selected_case(k);
    if (!e) {
        console_status(k, "%s", _("no case selected"));
        return;
    }
    switch (ch) {
    case L'f': net_file(k, e->ticket); break;
    case L'r':
        snprintf(label, sizeof label, _("Reject %s, because:"), e->ticket);
        prompt_open(k, P_REJECT, label, e->ticket, 0, NULL);
        break;
    case L'a':
        snprintf(label, sizeof label, _("Assign %s to (a grid or community worker):"), e->ticket);
        prompt_open(k, P_ASSIGN, label, e->ticket, 0, NULL);
        break;
    case L'w': open_whistle(k, e); break;
    case L'c': net_close_case(k, e->ticket); break;
    case L'v': net_verify(k, e->ticket); break;
    case L'p':
        if (e->parked)
            net_park(k, e->ticket, false, NULL);
        else {
            snprintf(label, sizeof label, _("Park %s in the problem pool, because:"), e->ticket);
            prompt_open(k, P_PARK, label, e->ticket, 0, NULL);
        }
        break;
    default: break;
    }
}
