/* ui.c: drawing. The whole screen is drawn again at every change and every
 * second (ncurses sends only what changed). Text is placed by display
 * width, not bytes: a Chinese character takes two columns (wcwidth), so
 * names line up whatever their script, and nothing is cut in the middle of
 * a character.
 *
 *   header: who, where, connection, the server's time
 *   feed (left): open cases, most urgent first, each with its orders and
 *                their countdowns        | department board (right):
 *                                        | open, checked in, overdue;
 *                                        | the latest alerts below
 *   the latest alert
 *   status line, or the prompt being typed
 *   keys
 *
 * Tab switches the feed for the statistics panel (bar charts). An
 * emergency covers everything until it is acknowledged. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "console.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define OS(s) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##s

/* the colour pairs (console.h: UI_*, for meeting.c too) */
enum {
    C_OK = UI_OK,
    C_NEAR = UI_NEAR,
    C_LATE = UI_LATE,
    C_SOS = UI_SOS,
    C_TITLE = UI_TITLE,
    C_HEAD = UI_HEAD,
    C_DIM = UI_DIM
};

void ui_init(void)
{
    if (!has_colors())
        return;
    start_color();
    use_default_colors();
    init_pair(C_OK, COLOR_GREEN, -1);
    init_pair(C_NEAR, COLOR_YELLOW, -1);
    init_pair(C_LATE, COLOR_RED, -1);
    init_pair(C_SOS, COLOR_WHITE, COLOR_RED);
    init_pair(C_TITLE, COLOR_CYAN, -1);
    init_pair(C_HEAD, COLOR_BLACK, COLOR_CYAN);
    init_pair(C_DIM, COLOR_BLUE, -1);
}

/* ------------------------------------------------------------ text by display width */

/* Draws s at (y, x) in at most maxw columns, "…" marking a cut; then
 * spaces up to pad columns (0: none). Returns the columns written. */
static int put(int y, int x, const char *s, int maxw, int pad, attr_t attr)
{
    if (maxw <= 0)
        return 0;
    attron(attr);
    move(y, x);
    int total = ui_width(s), w = 0, cw;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    wchar_t wc;
    for (size_t n; s && (n = uitext_next(s, &st, &wc, &cw)); s += n) {
        if (w + cw > maxw || (total > maxw && w + cw > maxw - 1))
            break;
        addnwstr(&wc, 1);
        w += cw;
    }
    if (total > maxw && w < maxw) {
        addnwstr(L"…", 1);
        w++;
    }
    for (; w < pad; w++)
        addch(' ');
    attroff(attr);
    return w;
}

int ui_put(int y, int x, const char *s, int maxw, int pad, unsigned long attr)
{
    return put(y, x, s, maxw, pad, (attr_t)attr);
}

static void put_right(int y, int x_end, const char *s, attr_t attr)
{
    int w = ui_width(s);
    put(y, x_end - w, s, w, 0, attr);
}

/* ------------------------------------------------------------ pieces */

static const char *named_or(const named *v, size_t n, const char *code, const char *fallback)
{
    const named *x = model_find(v, n, code);
    return x && *x->name ? x->name : fallback;
}

static const char *name_of(const named *v, size_t n, const char *code)
{
    const named *x = model_find(v, n, code);
    return x && *x->name ? x->name : code;
}

/* The words of the states and deadlines, for the catalog (the library's
 * names are the protocol's English words). */
static const char *const state_words[] = { N_("reported"), N_("filed"),      N_("rejected"), N_("handling"),
                                           N_("whistled"), N_("resolved"),   N_("verified"), N_("closed"),
                                           N_("pending"),  N_("checked_in"), N_("done"),     N_("returned"),
                                           N_("check-in"), N_("resolve"),    N_("stage") };

static const char *word(const char *w)
{
    for (size_t i = 0; i < sizeof state_words / sizeof *state_words; i++)
        if (strcmp(state_words[i], w) == 0)
            return _(state_words[i]);
    return w;
}

/* s, then spaces up to w display columns, appended to out. */
static void cat_padded(char *out, size_t len, const char *s, int w)
{
    size_t n = strlen(out);
    snprintf(out + n, len - n, "%s", s);
    for (int pad = w - ui_width(s); pad > 0; pad--) {
        n = strlen(out);
        if (n + 1 < len) {
            out[n] = ' ';
            out[n + 1] = 0;
        }
    }
}

static void fmt_countdown(int64_t ms, char *buf, size_t len)
{
    const char *sign = ms < 0 ? "-" : "";
    long long a = (ms < 0 ? -ms : ms) / 1000;
    if (a < 100 * 3600)
        snprintf(buf, len, "%s%lld:%02lld:%02lld", sign, a / 3600, a / 60 % 60, a % 60);
    else
        snprintf(buf, len, "%s%lldd%02lldh", sign, a / 86400, a / 3600 % 24);
}

static const char *clock_text(int64_t ms, char *buf, size_t len, bool date)
{
    time_t secs = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&secs, &tm);
    strftime(buf, len, date ? "%Y-%m-%d %H:%M:%S" : "%H:%M", &tm);
    return buf;
}

/* Red past the deadline (or with a miss), yellow in its last quarter or
 * last 30 minutes, green before. */
static attr_t urgency(int64_t left, int64_t span, bool missed)
{
    if (left < 0 || missed)
        return COLOR_PAIR(C_LATE) | A_BOLD;
    if (left < span / 4 || left < 30 * 60000)
        return COLOR_PAIR(C_NEAR) | A_BOLD;
    return COLOR_PAIR(C_OK);
}

static void draw_header(console *k, int w)
{
    char buf[400], t[64];
    attr_t head = COLOR_PAIR(C_HEAD);
    move(0, 0);
    attron(head);
    for (int i = 0; i < w; i++)
        addch(' ');
    attroff(head);
    snprintf(buf, sizeof buf, " 吹哨 whistle │ %s %s", *k->who ? k->who : "…",
             *k->scope ? name_of(k->nodes, k->n_nodes, k->scope) : "");
    int x = put(0, 0, buf, w, 0, head | A_BOLD);
    const char *net;
    attr_t na;
    switch (net_state(k)) {
    case WHISTLE_SESSION_LIVE:
        net = _("● live");
        na = head;
        break;
    case WHISTLE_SESSION_LOADING:
        net = _("◌ loading");
        na = head;
        break;
    case WHISTLE_SESSION_CONNECTING:
        net = _("◌ connecting");
        na = COLOR_PAIR(C_SOS) | A_BOLD;
        break;
    default:
        net = _("✕ offline, reconnecting");
        na = COLOR_PAIR(C_SOS) | A_BOLD;
        break;
    }
    snprintf(buf, sizeof buf, " %s ", net);
    int nw = ui_width(buf);
    clock_text(console_now(k), t, sizeof t, true);
    int tw = ui_width(t) + 1;
    if (x + nw + tw + 2 <= w) {
        put(0, w - tw - nw - 1, buf, nw, 0, na);
        put(0, w - tw, t, tw, 0, head);
    } else if (x + nw <= w) {
        put(0, w - nw, buf, nw, 0, na);
    }
}

static void draw_case(console *k, int y, int x, int w, const Whistle__V1__Event *e, bool sel)
{
    char head[120], buf[600], cd[32];
    int64_t now = console_now(k);
    attr_t a = sel ? A_REVERSE : A_NORMAL;
    bool urgent = e->priority == WHISTLE__V1__PRIORITY__PRIORITY_URGENT;
    int level = model_priority_level(e);
    snprintf(head, sizeof head, "%s ", e->ticket);
    cat_padded(head, sizeof head, word(whistle_state_name(e->state)), 9);
    /* the priority, when it is not the usual one, in its colour */
    const char *prio = level == 3 ? _("urgent") : level == 2 ? _("high") : level == 0 ? _("low") : "";
    attr_t pa = a | (level == 3 ? COLOR_PAIR(C_LATE) | A_BOLD : level == 2 ? COLOR_PAIR(C_NEAR) | A_BOLD : A_DIM);
    /* ▣N: the case has N photos (report, feedback, verification) */
    char photos[24] = "";
    if (e->photo_count)
        snprintf(photos, sizeof photos, " ▣%u", e->photo_count);
    snprintf(buf, sizeof buf, "%s %s · %s", photos, name_of(k->cats, k->n_cats, e->category),
             name_of(k->nodes, k->n_nodes, e->node));
    /* the right end: what the case waits for */
    const char *tail = "";
    attr_t ta = a;
    if (e->parked) {
        tail = _("parked");
        ta |= COLOR_PAIR(C_DIM);
    } else if (urgent && e->state == ES(REPORTED)) {
        tail = "SOS";
        ta |= COLOR_PAIR(C_LATE) | A_BOLD;
    } else if (e->state == ES(HANDLING) && e->due_ms) {
        fmt_countdown(e->due_ms - now, cd, sizeof cd);
        tail = cd;
        ta |= urgency(e->due_ms - now, e->due_ms - e->updated_ms, e->due_passed);
    } else if (e->due_passed) {
        tail = _("overdue");
        ta |= COLOR_PAIR(C_LATE) | A_BOLD;
    }
    int tw = ui_width(tail);
    int used = put(y, x, head, w - tw - 1, 0, a | (urgent ? A_BOLD : 0));
    if (*prio && used + 1 + ui_width(prio) < w - tw - 1) {
        used += put(y, x + used, " ", 1, 0, a);
        used += put(y, x + used, prio, ui_width(prio), 0, pa);
    }
    put(y, x + used, buf, w - tw - 1 - used, w - used, a | (urgent ? A_BOLD : 0));
    if (tw)
        put_right(y, x + w, tail, ta);
}

static void draw_order(console *k, int y, int x, int w, const Whistle__V1__Order *o, bool sel)
{
    char buf[400], cd[32];
    int64_t now = console_now(k);
    attr_t a = sel ? A_REVERSE : A_NORMAL;
    const char *what;
    int64_t due = model_order_due(o, &what);
    const char *flags = o->escalated ? "⚑" : o->n_misses ? "!" : "";
    bool ext = o->extension && o->extension->state == WHISTLE__V1__EXTENSION_STATE__EXTENSION_STATE_PENDING;
    char tail[64] = "";
    attr_t ta = a;
    if (due) {
        fmt_countdown(due - now, cd, sizeof cd);
        snprintf(tail, sizeof tail, "%s %s", word(what), cd);
        ta |= urgency(due - now, due - o->created_ms, o->n_misses > 0);
    } else if (o->state == OS(DONE)) {
        snprintf(tail, sizeof tail, "%s", _("done ✓"));
        ta |= COLOR_PAIR(C_OK);
    }
    int tw = ui_width(tail);
    /* A long department name is cut, not the order's state after it. */
    char head[32], rest[120], name[120];
    snprintf(head, sizeof head, "  └ #%llu ", (unsigned long long)o->id);
    snprintf(rest, sizeof rest, " %s %s%s", word(whistle_order_state_name(o->state)), flags,
             ext ? _(" [extension?]") : "");
    int room = w - tw - 1 - ui_width(head) - ui_width(rest);
    uitext_fit(name, sizeof name, name_of(k->depts, k->n_depts, o->department), room > 4 ? room : 4, false);
    snprintf(buf, sizeof buf, "%s%s%s", head, name, rest);
    put(y, x, buf, w - tw - 1, w, a | (ext ? A_BOLD : 0));
    if (tw)
        put_right(y, x + w, tail, ta);
}

static void draw_feed(console *k, int y0, int x, int w, int h)
{
    char buf[160];
    size_t open = 0;
    for (size_t i = 0; i < k->n_rows; i++)
        open += k->rows[i].order == NULL;
    snprintf(buf, sizeof buf, _("CASES  %zu open"), open);
    put(y0, x, buf, w, w, COLOR_PAIR(C_TITLE) | A_BOLD);
    int rows = h - 1;
    if (rows <= 0)
        return;
    if (k->sel < k->top)
        k->top = k->sel;
    if (k->sel >= k->top + (size_t)rows)
        k->top = k->sel - (size_t)rows + 1;
    if (k->top > k->n_rows)
        k->top = 0;
    for (int i = 0; i < rows; i++) {
        size_t r = k->top + (size_t)i;
        if (r >= k->n_rows) {
            if (r == 0 && i == 0)
                put(y0 + 1, x, net_state(k) == WHISTLE_SESSION_LIVE ? _("no open case") : "", w, w, A_DIM);
            continue;
        }
        const row *rw = &k->rows[r];
        if (rw->order)
            draw_order(k, y0 + 1 + i, x, w, rw->order, r == k->sel);
        else
            draw_case(k, y0 + 1 + i, x, w, k->cases[rw->kase], r == k->sel);
    }
}

typedef struct dept_count {
    const char *code;
    int open, in, over;
} dept_count;

static int cmp_dept(const void *a, const void *b)
{
    const dept_count *x = a, *y = b;
    if (x->over != y->over)
        return y->over - x->over;
    if (x->open != y->open)
        return y->open - x->open;
    return strcmp(x->code, y->code);
}

static void draw_board(console *k, int y0, int x, int w, int h)
{
    char buf[400];
    int64_t now = console_now(k);
    dept_count *c = calloc(k->n_depts + k->n_orders + 1, sizeof *c);
    if (!c)
        return;
    size_t n = 0;
    for (size_t i = 0; i < k->n_depts; i++)
        c[n++].code = k->depts[i].code;
    for (size_t i = 0; i < k->n_orders; i++) {
        const Whistle__V1__Order *o = k->orders[i];
        if (o->state != OS(PENDING) && o->state != OS(CHECKED_IN))
            continue;
        const Whistle__V1__Event *e = model_event(k, o->ticket);
        if (e && !model_case_open(e))
            continue;
        size_t j = 0;
        while (j < n && strcmp(c[j].code, o->department) != 0)
            j++;
        if (j == n)
            c[n++].code = o->department;
        const char *what;
        int64_t due = model_order_due(o, &what);
        c[j].open++;
        c[j].in += o->state == OS(CHECKED_IN);
        c[j].over += o->n_misses > 0 || (due && due < now);
    }
    qsort(c, n, sizeof *c, cmp_dept);
    int nw = w - 16;
    snprintf(buf, sizeof buf, "%-*s", nw, _("DEPARTMENTS"));
    put(y0, x, buf, nw, nw, COLOR_PAIR(C_TITLE) | A_BOLD);
    put(y0, x + nw, _("open  in late"), 16, 16, COLOR_PAIR(C_TITLE) | A_BOLD);
    int y = y0 + 1, shown = 0;
    int alerts_h = h >= 14 ? 5 : 0;
    for (size_t i = 0; i < n && y < y0 + h - alerts_h; i++) {
        if (!c[i].open && shown >= 6)
            continue; /* idle departments only while there is room */
        attr_t a = c[i].over ? COLOR_PAIR(C_LATE) | A_BOLD : c[i].open ? A_NORMAL : A_DIM;
        put(y, x, name_of(k->depts, k->n_depts, c[i].code), nw - 1, nw, a);
        snprintf(buf, sizeof buf, "%4d %3d %4d", c[i].open, c[i].in, c[i].over);
        put(y, x + nw, buf, 16, 16, a);
        y++;
        shown++;
    }
    free(c);
    if (!alerts_h)
        return;
    y = y0 + h - alerts_h;
    put(y, x, _("ALERTS"), w, w, COLOR_PAIR(C_TITLE) | A_BOLD);
    for (int i = 0; i < alerts_h - 1; i++) {
        size_t idx = k->n_alerts - 1 - (size_t)i;
        if ((size_t)i >= k->n_alerts || (size_t)i >= MAX_ALERTS)
            break;
        const alert *al = &k->alerts[idx % MAX_ALERTS];
        char t[16];
        snprintf(buf, sizeof buf, "%s %s", clock_text(al->at_ms, t, sizeof t, false), al->text);
        put(y + 1 + i, x, buf, w, w,
            al->level >= 2   ? COLOR_PAIR(C_LATE) | A_BOLD
            : al->level == 1 ? COLOR_PAIR(C_NEAR)
                             : A_NORMAL);
    }
}

/* A bar of width w for a fraction, in eighths of a cell. */
static void bar(int y, int x, int w, double frac, attr_t a)
{
    static const wchar_t *const eighths[] = { L"", L"▏", L"▎", L"▍", L"▌", L"▋", L"▊", L"▉" };
    if (frac < 0)
        frac = 0;
    if (frac > 1)
        frac = 1;
    int units = (int)(frac * w * 8 + 0.5);
    attron(a);
    move(y, x);
    for (int i = 0; i < units / 8; i++)
        addnwstr(L"█", 1);
    if (units % 8 && units / 8 < w)
        addnwstr(eighths[units % 8], 1);
    attroff(a);
}

static void rate_line(int y, int x, int w, const char *label, double r)
{
    char buf[32];
    int lw = 14;
    put(y, x, label, lw, lw, A_NORMAL);
    if (r < 0) {
        put(y, x + lw, "     -", 7, 7, A_DIM);
        return;
    }
    snprintf(buf, sizeof buf, "%5.1f%%", 100 * r);
    put(y, x + lw, buf, 7, 7, A_BOLD);
    attr_t a = r >= 0.9 ? COLOR_PAIR(C_OK) : r >= 0.7 ? COLOR_PAIR(C_NEAR) : COLOR_PAIR(C_LATE);
    bar(y, x + lw + 8, w - lw - 8, r, a);
}

/* The open wishes of the scope's communities (ordered, published, claimed,
 * done), the oldest first: what the community still has to publish, what
 * waits for a volunteer, and what waits for the resident's confirmation. */
static void draw_wishes(console *k, int y0, int x, int w, int h)
{
    static const char *const states[] = { "", N_("ordered"), N_("published"), N_("claimed"), "" };
    int y = y0;
    put(y++, x,
        _("OPEN WISHES (微心愿)  ordered: the community publishes; published: waiting for a volunteer; "
          "done: waiting for the resident"),
        w, w, COLOR_PAIR(C_TITLE) | A_BOLD);
    size_t shown = 0;
    for (size_t i = 0; i < k->n_wishes; i++) {
        const Whistle__V1__WishList *l = k->wishes[i]->wishes;
        for (size_t j = 0; l && j < l->n_wishes && y < y0 + h; j++) {
            const Whistle__V1__Wish *wi = l->wishes[j];
            if (wi->state < 1 || wi->state > 4)
                continue;
            attr_t at = wi->state == 1 ? COLOR_PAIR(C_NEAR) | A_BOLD : wi->state == 4 ? A_BOLD : A_NORMAL;
            char id[24], pts[16];
            snprintf(id, sizeof id, "%llu", (unsigned long long)wi->id);
            snprintf(pts, sizeof pts, "%u", wi->points);
            /* columns by display width: names may be Chinese */
            const char *cells[] = { id,
                                    wi->state == 4 ? C_("wish", "done") : _(states[wi->state]),
                                    named_or(k->nodes, k->n_nodes, wi->node, wi->node),
                                    wi->category,
                                    pts,
                                    wi->volunteer_name,
                                    *wi->public_text ? wi->public_text : wi->text };
            static const int widths[] = { 5, 10, 16, 9, 4, 10, 0 };
            int cx = x;
            for (size_t c = 0; c < sizeof cells / sizeof *cells && cx < x + w; c++) {
                int cw = widths[c] ? widths[c] : x + w - cx;
                if (cx + cw > x + w)
                    cw = x + w - cx;
                put(y, cx, cells[c], cw, widths[c] ? cw : 0, at);
                cx += cw + 1;
            }
            y++;
            shown++;
        }
    }
    if (!shown)
        put(y, x, k->n_wishes ? _("no open wishes") : _("wishes: waiting for the server"), w, w, A_DIM);
}

static void draw_stats(console *k, int y0, int x, int w, int h)
{
    char buf[300];
    const Whistle__V1__StatsResult *pl = k->stats_places ? k->stats_places->stats : NULL;
    const Whistle__V1__StatsResult *dp = k->stats_depts ? k->stats_depts->stats : NULL;
    int y = y0;
    if (!pl && !dp) {
        put(y, x,
            k->role == WHISTLE__V1__ROLE__ROLE_OPERATOR || k->role == WHISTLE__V1__ROLE__ROLE_ADMIN
                ? _("statistics: waiting for the server")
                : _("statistics are for operators"),
            w, w, A_DIM);
        return;
    }
    const Whistle__V1__StatsRow *r = pl && pl->n_rows ? pl->rows[pl->n_rows - 1] : NULL;
    if (r) {
        snprintf(buf, sizeof buf, _("THIS MONTH  %s %s: %lld cases, %lld closed, %lld overdue orders"),
                 /* the directory's name in the locale's language (the row's
                  * own name is the Chinese one) */
                 named_or(k->nodes, k->n_nodes, r->code, r->name), r->bucket, (long long)r->reported,
                 (long long)r->closed, (long long)r->overdue);
        put(y++, x, buf, w, w, COLOR_PAIR(C_TITLE) | A_BOLD);
        struct {
            const char *label;
            double v;
        } rates[] = {
            { _("response"), r->response_rate },
            { _("resolution"), r->resolution_rate },
            { _("satisfaction"), r->satisfaction_rate },
            { _("close"), r->close_rate },
            { _("on-time close"), r->on_time_close_rate },
            { _("rework"), r->rework_rate },
            { _("whistle"), r->whistle_rate },
        };
        for (size_t i = 0; i < sizeof rates / sizeof *rates && y < y0 + h; i++)
            rate_line(y++, x, w, rates[i].label, rates[i].v);
        y++;
    }
    /* the resident archive (docs/archive.md): counts only */
    const Whistle__V1__ArchiveStatsResult *ar = k->stats_archive ? k->stats_archive->archive_stats : NULL;
    if (ar && y < y0 + h) {
        long long households = 0, overdue = 0, visits = 0;
        for (size_t i = 0; i < ar->n_rows; i++) {
            const Whistle__V1__ArchiveStatsRow *a = ar->rows[i];
            if (strcmp(a->measure, "households") == 0)
                households += (long long)a->count;
            else if (strcmp(a->measure, "overdue") == 0)
                overdue += (long long)a->count;
            else if (strcmp(a->measure, "visits_by_grid") == 0)
                visits += (long long)a->count;
        }
        snprintf(buf, sizeof buf,
                 _("ARCHIVE  %lld households, %lld visits this month, %lld special-care visits overdue"), households,
                 visits, overdue);
        put(y++, x, buf, w, w, overdue ? COLOR_PAIR(C_NEAR) | A_BOLD : A_BOLD);
        y++;
    }
    if (!dp || y >= y0 + h)
        return;
    put(y++, x, _("DEPARTMENTS THIS MONTH   response / satisfaction"), w, w, COLOR_PAIR(C_TITLE) | A_BOLD);
    int half = (w - 16) / 2;
    for (size_t i = 0; i < dp->n_rows && y < y0 + h; i++) {
        const Whistle__V1__StatsRow *d = dp->rows[i];
        put(y, x, named_or(k->depts, k->n_depts, d->code, *d->name ? d->name : d->code), 15, 16, A_NORMAL);
        double a = d->response_rate, s = d->satisfaction_rate;
        if (a >= 0)
            bar(y, x + 16, half - 7, a, a >= 0.9 ? COLOR_PAIR(C_OK) : COLOR_PAIR(C_NEAR));
        snprintf(buf, sizeof buf, "%s", a >= 0 ? "" : "-");
        char p1[16], p2[16];
        snprintf(p1, sizeof p1, a >= 0 ? "%3.0f%%" : "  -", 100 * a);
        snprintf(p2, sizeof p2, s >= 0 ? "%3.0f%%" : "  -", 100 * s);
        put(y, x + 16 + half - 6, p1, 5, 5, A_BOLD);
        if (s >= 0)
            bar(y, x + 16 + half, half - 7, s, s >= 0.9 ? COLOR_PAIR(C_OK) : COLOR_PAIR(C_NEAR));
        put(y, x + 16 + 2 * half - 6, p2, 5, 5, A_BOLD);
        y++;
    }
}

static void draw_emergency(console *k, int w, int h)
{
    const char *t = k->emergencies[0].ticket;
    const Whistle__V1__Event *e = model_event(k, t);
    attr_t a = COLOR_PAIR(C_SOS) | A_BOLD;
    /* everything but the header: nothing else can be done until it is
     * acknowledged */
    int bw = w, bh = h - 1, x0 = 0, y0 = 1;
    for (int y = 0; y < bh; y++) {
        move(y0 + y, x0);
        attron(a);
        for (int i = 0; i < bw; i++)
            addch(' ');
        attroff(a);
    }
    char buf[600], tm[64];
    put(y0 + 2, x0 + 2, _("!!! 紧急呼叫  EMERGENCY CALL !!!"), bw - 4, 0, a | A_BLINK);
    snprintf(buf, sizeof buf, "%s   %s", t, e ? clock_text(e->created_ms, tm, sizeof tm, true) : "");
    put(y0 + 4, x0 + 2, buf, bw - 4, 0, a);
    if (e) {
        snprintf(buf, sizeof buf, "%s: %s (%s)", _("where"), name_of(k->nodes, k->n_nodes, e->node), e->node);
        put(y0 + 5, x0 + 2, buf, bw - 4, 0, a);
        snprintf(buf, sizeof buf, "%s: %s", _("what"), name_of(k->cats, k->n_cats, e->category));
        put(y0 + 6, x0 + 2, buf, bw - 4, 0, a);
        put(y0 + 7, x0 + 2, e->description, bw - 4, 0, a);
        if (*e->contact) {
            snprintf(buf, sizeof buf, "%s: %s", _("call back"), e->contact);
            put(y0 + 8, x0 + 2, buf, bw - 4, 0, a);
        }
    }
    if (k->n_emergencies > 1) {
        snprintf(buf, sizeof buf, _("(%zu more waiting)"), k->n_emergencies - 1);
        put(y0 + bh - 3, x0 + 2, buf, bw - 4, 0, a);
    }
    put(y0 + bh - 2, x0 + 2, _("Enter: acknowledge and file   w: acknowledge, file and whistle"), bw - 4, 0, a);
}

static void draw_help(int w, int h)
{
    static const char *const lines[] = {
        N_("whistle-console keys"),
        "",
        N_("↑ ↓ j k  PgUp PgDn  move          Tab    cases / statistics"),
        N_("f  file the case                   r      reject it (asks why)"),
        N_("a  assign to a grid or community worker"),
        N_("w  whistle: departments proposed by the category, editable"),
        N_("c  close (a verified case)         v      verify it passed"),
        N_("x  approve the extension the alert line asks for, else the selected order's"),
        N_("X  refuse it (asks why)            p      park / unpark"),
        N_("Esc cancels a prompt               q      quit"),
        "",
        N_("any key closes this help"),
    };
    int n = (int)(sizeof lines / sizeof *lines);
    int bw = w - 4 < 70 ? w - 4 : 70, y0 = (h - n - 2) / 2, x0 = (w - bw) / 2;
    for (int i = -1; i <= n; i++)
        put(y0 + i, x0, i >= 0 && i < n && *lines[i] ? _(lines[i]) : "", bw, bw, A_REVERSE);
}

/* The lines of s in at most w columns each: cut after the last space
 * that fits (else between characters). Fills starts[] (byte offsets) and
 * lens[]; returns the number of lines, at most max (the last one then
 * holds the rest, cut by put with "…"). */
static int wrap(const char *s, int w, int max, size_t *starts, size_t *lens)
{
    int n = 0;
    size_t i = 0, len = strlen(s);
    while (i < len && n < max) {
        while (n && s[i] == ' ')
            i++;
        size_t j = i, brk = 0;
        int cols = 0, cw;
        mbstate_t st;
        memset(&st, 0, sizeof st);
        wchar_t wc;
        for (size_t m; (m = uitext_next(s + j, &st, &wc, &cw)); j += m) {
            if (cols + cw > w)
                break;
            cols += cw;
            if (s[j] == ' ')
                brk = j;
        }
        if (s[j] && brk > i && n + 1 < max)
            j = brk;
        if (n + 1 == max)
            j = len; /* the rest: put cuts it */
        starts[n] = i;
        lens[n] = j - i;
        n++;
        i = j;
    }
    return n;
}

/* s over up to max lines ending on line `last` (the first lines go up). */
static void draw_wrapped(int last, int w, int max, const char *s, attr_t a)
{
    size_t starts[4], lens[4];
    if (max > 4)
        max = 4;
    int n = *s ? wrap(s, w, max, starts, lens) : 0;
    if (!n) {
        put(last, 0, "", w, w, a);
        return;
    }
    char line[600];
    for (int i = 0; i < n; i++) {
        size_t l = lens[i] < sizeof line - 1 ? lens[i] : sizeof line - 1;
        memcpy(line, s + starts[i], l);
        line[l] = 0;
        put(last - n + 1 + i, 0, line, w, w, a);
    }
}

/* The prompt: its label on the line above (over the alert), whole; the
 * text being typed on the status line, the whole width, scrolled so that
 * the cursor shows. Leaves the cursor there. */
static void draw_prompt(console *k, int h, int w)
{
    draw_wrapped(h - 3, w, 2, k->pr.label, A_BOLD);
    prompt *p = &k->pr;
    /* the first character shown: as far left as lets the cursor fit */
    size_t first = 0;
    while (first < p->cur && wcswidth(p->buf + first, p->cur - first) > w - 2)
        first++;
    char line[2048];
    wchar_t save = p->buf[p->len];
    p->buf[p->len] = 0;
    size_t n = wcstombs(line, p->buf + first, sizeof line - 1);
    p->buf[p->len] = save;
    line[n == (size_t)-1 ? 0 : n] = 0;
    put(h - 2, 0, line, w - 1, w, A_UNDERLINE);
    int cx = wcswidth(p->buf + first, p->cur - first);
    move(h - 2, cx < w ? cx : w - 1);
    curs_set(1);
}

/* The status line (or the prompt being typed) and the key line. */
static void draw_bottom(console *k, int h, int w, const char *keys)
{
    char buf[600];
    if (k->pr.active) {
        draw_prompt(k, h, w);
    } else {
        curs_set(0);
        if (net_state(k) == WHISTLE_SESSION_OFFLINE && *k->net_err)
            snprintf(buf, sizeof buf, _("offline: %s (retrying)"), k->net_err);
        else if (shell_clock_ms() < k->status_until)
            snprintf(buf, sizeof buf, "%s", k->status);
        else
            buf[0] = 0;
        /* whole: a long answer (a server's refusal) takes up to three
         * lines, over the alert line and the feed's last, while it shows */
        draw_wrapped(h - 2, w, 3, buf, net_state(k) == WHISTLE_SESSION_OFFLINE ? COLOR_PAIR(C_LATE) : A_NORMAL);
    }
    put(h - 1, 0, keys, w, w, A_REVERSE);
}

void ui_draw(console *k)
{
    int h, w;
    getmaxyx(stdscr, h, w);
    erase();
    if (w < 60 || h < 16) {
        char buf[120];
        snprintf(buf, sizeof buf, _("whistle-console needs 60×16 at least (this is %d×%d)"), w, h);
        put(0, 0, buf, w, 0, A_BOLD);
        refresh();
        return;
    }
    draw_header(k, w);
    int body_top = 1, body_h = h - 4;
    if (k->mt.id) {
        meeting_draw(k, body_top, body_h + 1, w); /* the alert line is the meeting's too */
        draw_bottom(k, h, w, meeting_keys(k, w));
        if (k->help)
            meeting_help(k, w, h);
        else if (k->pr.active)
            draw_prompt(k, h, w);
        refresh();
        return;
    }
    model_rows(k);
    int board_w = w >= 100 ? 36 : w >= 80 ? 30 : 0;
    int feed_w = board_w ? w - board_w - 1 : w;
    if (k->view == VIEW_STATS) {
        draw_stats(k, body_top, 0, w, body_h);
    } else if (k->view == VIEW_WISHES) {
        draw_wishes(k, body_top, 0, w, body_h);
    } else {
        draw_feed(k, body_top, 0, feed_w, body_h);
        if (board_w) {
            for (int y = body_top; y < body_top + body_h; y++)
                mvaddnwstr(y, feed_w, L"│", 1);
            draw_board(k, body_top, feed_w + 1, board_w, body_h);
        }
    }
    /* the latest alert */
    char buf[600], t[16];
    if (k->n_alerts) {
        const alert *a = &k->alerts[(k->n_alerts - 1) % MAX_ALERTS];
        snprintf(buf, sizeof buf, "⚠ %s %s", clock_text(a->at_ms, t, sizeof t, false), a->text);
        put(h - 3, 0, buf, w, w,
            a->level >= 2   ? COLOR_PAIR(C_SOS) | A_BOLD
            : a->level == 1 ? COLOR_PAIR(C_NEAR) | A_BOLD
                            : A_NORMAL);
    }
    draw_bottom(
        k, h, w,
        w >= 100 ? _(" f file  r reject  a assign  w whistle  c close  v verify  x/X extension  p park  Tab stats  ? q")
                 : _(" f file r reject a assign w whistle c close x/X ext p park Tab stats ? q"));
    if (k->n_emergencies)
        draw_emergency(k, w, h);
    else if (k->help)
        draw_help(w, h);
    if (k->pr.active && !k->n_emergencies && !k->help)
        draw_prompt(k, h, w); /* last: it leaves the cursor in the line */
    refresh();
}
