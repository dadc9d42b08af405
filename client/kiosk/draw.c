/* draw.c: the screens. Every screen has the same frame, so that a resident
 * who learnt one knows them all:
 *
 *   row 0          the community's name, "self-service", the time
 *   row 2          what this screen is for ("Report a problem · step 2 of 5")
 *   rows 4..L-4    the choices, one per line with a blank line between,
 *                  each with its number; or the text being typed; or the
 *                  answer (scrolled with the arrows when it is long)
 *   row L-3        advice, a problem with what was typed, or that the
 *                  service is unavailable
 *   row L-1        which keys do what, and always "F12 紧急呼叫 Emergency"
 *
 * A terminal cannot make its type larger: large type here means one thing
 * per line, generous spacing, and the ticket number in block digits five
 * rows high; the terminal's own font size does the rest (docs/kiosk.md).
 * Text is placed by display width (a Chinese character takes two
 * columns) and never cut inside a character. */
#include <curses.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kiosk.h"

#define ES(s) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##s
#define TOP 4
#define PER_PAGE_MAX 9

enum { C_TITLE = 1, C_SOS, C_WARN, C_OK, C_DIM, C_NUM };

void draw_init(void)
{
    if (!has_colors())
        return;
    start_color();
    use_default_colors();
    init_pair(C_TITLE, COLOR_WHITE, COLOR_BLUE);
    init_pair(C_SOS, COLOR_WHITE, COLOR_RED);
    init_pair(C_WARN, COLOR_YELLOW, -1);
    init_pair(C_OK, COLOR_GREEN, -1);
    init_pair(C_DIM, COLOR_CYAN, -1);
    init_pair(C_NUM, COLOR_BLACK, COLOR_CYAN);
}

static int content_rows(void) { return LINES - 7 > 1 ? LINES - 7 : 1; }

int draw_page_rows(void) { return content_rows(); }

size_t draw_per_page(void)
{
    size_t per = (size_t)(content_rows() + 1) / 2;
    if (per > PER_PAGE_MAX)
        per = PER_PAGE_MAX;
    return per ? per : 1;
}

/* ------------------------------------------------------------ text by display width */

/* Draws s at (y, x) in at most maxw columns ("…" marks a cut), then spaces
 * up to pad columns. Returns the columns written. */
static int put(int y, int x, const char *s, int maxw, int pad, attr_t attr)
{
    if (maxw <= 0 || y < 0 || y >= LINES || x >= COLS)
        return 0;
    if (x + maxw > COLS)
        maxw = COLS - x;
    if (pad > maxw)
        pad = maxw;
    char buf[2048];
    int w = uitext_fit(buf, sizeof buf, s ? s : "", maxw, false);
    attron(attr);
    mvaddstr(y, x, buf);
    for (; w < pad; w++)
        addch(' ');
    attroff(attr);
    return w;
}

static void put_center(int y, const char *s, attr_t attr)
{
    int w = uitext_width(s);
    put(y, w < COLS ? (COLS - w) / 2 : 0, s, COLS, 0, attr);
}

static void fill(int y, attr_t attr)
{
    attron(attr);
    mvhline(y, 0, ' ', COLS);
    attroff(attr);
}

/* ------------------------------------------------------------ pages of wrapped text */

typedef struct prow {
    char *text;
    attr_t attr;
} prow;

typedef struct tpage {
    prow *v;
    size_t n, cap;
    int width;
} tpage;

static void page_add(tpage *p, const char *text, attr_t attr)
{
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 32;
        prow *v = realloc(p->v, cap * sizeof *v);
        if (!v)
            return;
        p->v = v;
        p->cap = cap;
    }
    p->v[p->n].text = strdup(text);
    p->v[p->n].attr = attr;
    if (p->v[p->n].text)
        p->n++;
}

typedef struct wrapctx {
    tpage *p;
    attr_t attr;
    int indent;
    const char *prefix; /* on the first line, in the hanging indent's room */
    int hang;
} wrapctx;

static void emit_row(void *ud, const char *line, int n)
{
    wrapctx *c = ud;
    char buf[2048], pre[256];
    int pad = c->indent;
    if (n == 0 && c->prefix && *c->prefix) {
        uitext_fit(pre, sizeof pre, c->prefix, c->hang, true);
        snprintf(buf, sizeof buf, "%*s%s%s", pad, "", pre, line);
    } else {
        snprintf(buf, sizeof buf, "%*s%s", pad + c->hang, "", line);
    }
    page_add(c->p, buf, c->attr);
}

/* A paragraph: prefix (e.g. "10:42", "Where:") in a column hang wide, the
 * text wrapped beside it. */
static void page_para(tpage *p, attr_t attr, int indent, const char *prefix, int hang, const char *text)
{
    wrapctx c = { p, attr, indent, prefix, prefix ? hang : 0 };
    words_wrap(text, p->width - indent - c.hang, emit_row, &c);
}

static void page_text(tpage *p, attr_t attr, const char *text) { page_para(p, attr, 0, NULL, 0, text); }

static void page_blank(tpage *p) { page_add(p, "", A_NORMAL); }

static void page_free(tpage *p)
{
    for (size_t i = 0; i < p->n; i++) {
        explicit_bzero(p->v[i].text, strlen(p->v[i].text));
        free(p->v[i].text);
    }
    free(p->v);
    memset(p, 0, sizeof *p);
}

/* Draws the page from row top, height rows, scrolled by k->scroll (clamped
 * here), with a mark when there is more above or below. */
static void page_draw(kiosk *k, tpage *p, int x, int top, int height)
{
    int total = (int)p->n;
    bool more = total > height;
    int rows = more ? height - 1 : height;
    if (rows < 1)
        rows = 1;
    int maxs = total - rows > 0 ? total - rows : 0;
    if (k->scroll > maxs)
        k->scroll = maxs;
    if (k->scroll < 0)
        k->scroll = 0;
    for (int i = 0; i < rows && k->scroll + i < total; i++) {
        const prow *r = &p->v[k->scroll + i];
        put(top + i, x, r->text, COLS - x - 1, 0, r->attr);
    }
    if (more) {
        char m[120];
        bool above = k->scroll > 0, below = k->scroll < maxs;
        snprintf(m, sizeof m, "%s%s%s", above ? _("↑ more above") : "", above && below ? "   " : "",
                 below ? _("↓ more below") : "");
        put(top + rows, x, m, COLS - x - 1, 0, COLOR_PAIR(C_DIM) | A_BOLD);
    }
}

/* ------------------------------------------------------------ names */

static const char *node_name(const kiosk *k, const char *code)
{
    const Whistle__V1__Node *n = net_node(k, code);
    const char *s = n ? uitext_pick(n->name_zh, n->name_en) : "";
    return *s ? s : code;
}

static const char *cat_name(const kiosk *k, const char *code)
{
    const Whistle__V1__Category *c = net_category(k, code);
    const char *s = c ? uitext_pick(c->name_zh, c->name_en) : "";
    return *s ? s : code;
}

/* The place chosen so far, "永安里社区 › 第一网格 › 3号楼". */
static void place_path(const kiosk *k, char *out, size_t len)
{
    snprintf(out, len, "%s", node_name(k, k->scope));
    for (size_t i = 0; i < k->d.depth; i++) {
        size_t o = strlen(out);
        snprintf(out + o, len - o, " › %s", node_name(k, k->d.place[i]));
    }
}

/* A place by its path from the kiosk's community down ("永安里社区 › 第一网格
 * › 3号楼"); just its name when it is not below the community. */
static void node_path(const kiosk *k, const char *code, char *out, size_t len)
{
    const char *chain[8];
    size_t n = 0;
    const Whistle__V1__Node *nd = net_node(k, code);
    while (nd && n < 8) {
        chain[n++] = nd->code;
        if (strcmp(nd->code, k->scope) == 0)
            break;
        nd = net_node(k, nd->parent);
    }
    out[0] = 0;
    if (!n) {
        snprintf(out, len, "%s", code);
        return;
    }
    while (n--) {
        size_t o = strlen(out);
        snprintf(out + o, len - o, "%s%s", o ? " › " : "", node_name(k, chain[n]));
    }
}

/* The texts of a list joined by the locale's comma, into out. */
static void join_add(char *out, size_t len, const char *s)
{
    size_t o = strlen(out);
    if (o + 1 < len)
        snprintf(out + o, len - o, "%s%s", o ? _(", ") : "", s);
}

/* ------------------------------------------------------------ the frame */

typedef struct keyhelp {
    const char *key, *word;
} keyhelp;

static void draw_keys(const keyhelp *keys, size_t n)
{
    int y = LINES - 1;
    const char *sos = "F12 紧急呼叫 Emergency"; /* the same words in every language: a stranger finds it too */
    int sw = uitext_width(sos) + 2;
    int x = 1, limit = COLS - sw - 1;
    for (size_t i = 0; i < n; i++) {
        int kw = uitext_width(keys[i].key) + 2, ww = uitext_width(keys[i].word) + 2;
        if (x + kw + ww > limit)
            break;
        char b[80];
        snprintf(b, sizeof b, " %s ", keys[i].key);
        x += put(y, x, b, kw, 0, A_REVERSE | A_BOLD);
        snprintf(b, sizeof b, " %s ", keys[i].word);
        x += put(y, x, b, ww, 0, A_NORMAL);
    }
    char b[80];
    snprintf(b, sizeof b, " %s ", sos);
    put(y, COLS - sw, b, sw, 0, COLOR_PAIR(C_SOS) | A_BOLD);
}

static void draw_title(kiosk *k)
{
    char left[300], t[40];
    fill(0, COLOR_PAIR(C_TITLE));
    const char *place = k->nodes ? node_name(k, k->scope) : k->who;
    snprintf(left, sizeof left, " %s%s%s", place, *place ? " · " : "", _("Community self-service"));
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(t, sizeof t, "%Y-%m-%d %H:%M ", &tm);
    int tw = uitext_width(t);
    put(0, 0, left, COLS - tw - 1, 0, COLOR_PAIR(C_TITLE) | A_BOLD);
    put(0, COLS - tw, t, tw, 0, COLOR_PAIR(C_TITLE) | A_BOLD);
}

static void draw_heading(const char *text, const char *right)
{
    int rw = right ? uitext_width(right) : 0;
    put(2, 2, text, COLS - 4 - (rw ? rw + 2 : 0), 0, A_BOLD);
    if (rw)
        put(2, COLS - 2 - rw, right, rw, 0, COLOR_PAIR(C_DIM));
}

/* The advice line: what went wrong with what was typed, else the
 * service's trouble, else the screen's own hint. */
static void draw_message(kiosk *k, const char *hint)
{
    int y = LINES - 3;
    char b[400];
    if (*k->message) {
        snprintf(b, sizeof b, "⚠ %s", k->message);
        put(y, 2, b, COLS - 4, 0, COLOR_PAIR(C_WARN) | A_BOLD);
    } else if (net_state(k) != WHISTLE_SESSION_LIVE && (k->ever_live || net_state(k) == WHISTLE_SESSION_OFFLINE)) {
        snprintf(b, sizeof b, "⚠ %s", _("The service is temporarily unavailable, please ask the staff."));
        put(y, 2, b, COLS - 4, 0, COLOR_PAIR(C_SOS) | A_BOLD);
    } else if (!k->ever_live) {
        /* the first connection, and the directory on its way: a choice now
         * would find nothing to offer */
        put(y, 2, _("Getting ready, one moment..."), COLS - 4, 0, COLOR_PAIR(C_WARN));
    } else if (COLS < 80 || LINES < 24) {
        /* for whoever sets the terminal up: it works, but cramped */
        put(y, 2, _("This screen needs at least 80 columns and 24 lines."), COLS - 4, 0, COLOR_PAIR(C_WARN));
    } else if (hint && *hint) {
        put(y, 2, hint, COLS - 4, 0, COLOR_PAIR(C_DIM));
    }
    attron(COLOR_PAIR(C_DIM));
    mvhline(LINES - 2, 0, ACS_HLINE, COLS);
    attroff(COLOR_PAIR(C_DIM));
}

/* ------------------------------------------------------------ lists */

static const char *score_word(unsigned s)
{
    static const char *const w[] = { N_("Very dissatisfied"), N_("Dissatisfied"), N_("Fair"), N_("Satisfied"),
                                     N_("Very satisfied") };
    return s >= 1 && s <= 5 ? _(w[s - 1]) : "";
}

/* The label of a list's item, and a dim note after it. */
static void item_text(kiosk *k, enum kscreen s, const char *code, char *label, size_t ll, char *note, size_t nl)
{
    label[0] = note[0] = 0;
    switch (s) {
    case S_HOME: {
        static const char *const l[] = {
            N_("Report a problem"), N_("Look up my ticket"),  N_("Rate a closed ticket"),   N_("Service guide"),
            N_("Echo board"),       N_("Order a small wish"), N_("Confirm a wish is done"), N_("My volunteer points")
        };
        static const char *const n[] = { N_("something in the community that needs fixing"),
                                         N_("how far your report has got"),
                                         N_("tell us how it was handled"),
                                         N_("what you can get done here, where, when, what to bring"),
                                         N_("replies and notices from the community and the street"),
                                         N_("微心愿: a volunteer helps with something small"),
                                         N_("with the wish's slip and your phone"),
                                         N_("with your volunteer card") };
        int i = code[0] - '1';
        snprintf(label, ll, "%s", _(l[i]));
        snprintf(note, nl, "%s", _(n[i]));
        break;
    }
    case S_MAJOR:
        snprintf(label, ll, "%s", cat_name(k, code));
        /* its minor classes, so that the right major is easy to find */
        for (size_t i = 0; k->cats && i < k->cats->categories->n_categories; i++) {
            const Whistle__V1__Category *c = k->cats->categories->categories[i];
            if (strlen(c->code) == 4 && strncmp(c->code, code, 2) == 0)
                join_add(note, nl, uitext_pick(c->name_zh, c->name_en));
        }
        break;
    case S_MINOR: snprintf(label, ll, "%s", cat_name(k, code)); break;
    case S_PLACE: {
        const char *parent = flow_place_parent(k);
        if (*code) {
            snprintf(label, ll, "%s", node_name(k, code));
            /* a grid is known by its buildings */
            for (size_t i = 0; k->nodes && i < k->nodes->nodes->n_nodes; i++) {
                const Whistle__V1__Node *n = k->nodes->nodes->nodes[i];
                if (!n->retired && strcmp(n->parent, code) == 0)
                    join_add(note, nl, uitext_pick(n->name_zh, n->name_en));
            }
        } else {
            const Whistle__V1__Node *p = net_node(k, parent);
            bool grids = false;
            for (size_t i = 0; k->nodes && i < k->nodes->nodes->n_nodes; i++) {
                const Whistle__V1__Node *n = k->nodes->nodes->nodes[i];
                if (strcmp(n->parent, parent) == 0 && n->kind == WHISTLE__V1__NODE_KIND__NODE_KIND_GRID)
                    grids = true;
            }
            if (grids)
                snprintf(label, ll, "%s", _("Not sure which grid"));
            else if (p && p->kind == WHISTLE__V1__NODE_KIND__NODE_KIND_GRID)
                snprintf(label, ll, "%s", _("Not in a building"));
            else
                snprintf(label, ll, "%s", _("Not sure"));
            snprintf(note, nl, _("somewhere else in %s"), node_name(k, parent));
        }
        break;
    }
    case S_SCORE: snprintf(label, ll, "%s", score_word((unsigned)(code[0] - '0'))); break;
    case S_WISH_CAT:
        for (size_t i = 0; k->wishes && k->wishes->volunteer_config && i < k->wishes->volunteer_config->n_categories;
             i++) {
            const Whistle__V1__WishCategory *c = k->wishes->volunteer_config->categories[i];
            if (strcmp(c->code, code) == 0)
                snprintf(label, ll, "%s", uitext_pick(c->name_zh, c->name_en));
        }
        break;
    case S_GUIDE_CLASSES: {
        const Whistle__V1__ServiceClass *c = net_service_class(k, code);
        snprintf(label, ll, "%s", c ? uitext_pick(c->name_zh, c->name_en) : code);
        size_t n = 0;
        for (size_t i = 0; k->services && i < k->services->services->n_items; i++) {
            const Whistle__V1__ServiceItem *it = k->services->services->items[i];
            n += !it->retired && strcmp(it->class_code, code) == 0;
        }
        snprintf(note, nl, ngettext("%zu service", "%zu services", n), n);
        break;
    }
    case S_GUIDE_ITEMS: {
        const Whistle__V1__ServiceItem *it = net_service_item(k, code);
        snprintf(label, ll, "%s", it ? uitext_pick(it->name_zh, it->name_en) : code);
        if (it)
            snprintf(note, nl, "%s", uitext_pick(it->where_zh, it->where_en));
        break;
    }
    default: break;
    }
}

static void draw_list(kiosk *k, enum kscreen s)
{
    const char *codes[MAX_ITEMS];
    size_t n = flow_items(k, s, codes, MAX_ITEMS);
    size_t per = draw_per_page();
    listpos *p = &k->lp[s];
    if (p->sel >= n)
        p->sel = n ? n - 1 : 0;
    size_t page = p->sel / per;
    int labw = 0;
    for (size_t i = page * per; i < n && i < (page + 1) * per; i++) {
        char label[400], note[600];
        item_text(k, s, codes[i], label, sizeof label, note, sizeof note);
        int w = uitext_width(label);
        labw = w > labw ? w : labw;
    }
    if (labw > COLS / 2)
        labw = COLS / 2;
    for (size_t i = page * per; i < n && i < (page + 1) * per; i++) {
        int y = TOP + 2 * (int)(i - page * per);
        bool sel = i == p->sel;
        char label[400], note[600], num[16];
        item_text(k, s, codes[i], label, sizeof label, note, sizeof note);
        attr_t a = sel ? A_REVERSE | A_BOLD : A_BOLD;
        if (sel) {
            attron(A_REVERSE);
            mvhline(y, 2, ' ', COLS - 4);
            attroff(A_REVERSE);
            put(y, 2, "▶", 1, 0, a);
        }
        snprintf(num, sizeof num, " %zu ", i - page * per + 1);
        put(y, 4, num, 3, 0, sel ? A_BOLD : COLOR_PAIR(C_NUM) | A_BOLD);
        int x = 9;
        x += put(y, x, label, COLS - x - 3, labw, a);
        if (*note && x + 4 < COLS - 3)
            put(y, x + 3, note, COLS - x - 6, 0, sel ? A_REVERSE : COLOR_PAIR(C_DIM));
    }
    if (!n)
        put(TOP, 4, _("Nothing to choose from here yet. Please ask the staff."), COLS - 8, 0, A_BOLD);
}

static void list_keys(kiosk *k, enum kscreen s)
{
    const char *codes[MAX_ITEMS];
    size_t n = flow_items(k, s, codes, MAX_ITEMS);
    size_t per = draw_per_page();
    size_t shown = n < per ? n : per;
    char range[16];
    snprintf(range, sizeof range, shown > 1 ? "1-%zu" : "1", shown);
    keyhelp keys[8];
    size_t nk = 0;
    keys[nk++] = (keyhelp){ range, _("choose") };
    keys[nk++] = (keyhelp){ "↑↓", _("move") };
    if (n > per)
        keys[nk++] = (keyhelp){ "←→", _("page") };
    keys[nk++] = (keyhelp){ "Enter", _("OK") };
    if (s != S_HOME) {
        keys[nk++] = (keyhelp){ "Esc", _("back") };
        keys[nk++] = (keyhelp){ "0", _("home") };
    }
    draw_keys(keys, nk);
}

static void list_page_mark(kiosk *k, enum kscreen s, char *out, size_t len)
{
    const char *codes[MAX_ITEMS];
    size_t n = flow_items(k, s, codes, MAX_ITEMS);
    size_t per = draw_per_page();
    out[0] = 0;
    if (n > per)
        snprintf(out, len, _("page %zu of %zu"), k->lp[s].sel / per + 1, (n + per - 1) / per);
}

/* ------------------------------------------------------------ fields */

/* Draws the field in a box at row y, h text rows, w columns inside; the
 * text wraps by characters. Leaves the terminal's cursor at the field's. */
static void draw_field(const field *f, int y, int x, int w, int h)
{
    if (w < 4 || h < 1)
        return;
    attron(COLOR_PAIR(C_DIM));
    mvaddstr(y, x, "┌");
    mvhline(y, x + 1, ACS_HLINE, w + 2);
    mvaddstr(y, x + w + 3, "┐");
    for (int i = 1; i <= h; i++) {
        mvaddstr(y + i, x, "│");
        mvaddstr(y + i, x + w + 3, "│");
    }
    mvaddstr(y + h + 1, x, "└");
    mvhline(y + h + 1, x + 1, ACS_HLINE, w + 2);
    mvaddstr(y + h + 1, x + w + 3, "┘");
    attroff(COLOR_PAIR(C_DIM));
    /* where each character goes */
    int row = 0, col = 0, crow = 0, ccol = 0;
    int rows[FIELD_CAP], cols[FIELD_CAP];
    for (size_t i = 0; i < f->len; i++) {
        int cw = wcwidth(f->buf[i]);
        if (cw < 1)
            cw = 1;
        if (col + cw > w) {
            row++;
            col = 0;
        }
        if (i == f->cur) {
            crow = row;
            ccol = col;
        }
        rows[i] = row;
        cols[i] = col;
        col += cw;
    }
    if (f->cur >= f->len) {
        if (col >= w) {
            row++;
            col = 0;
        }
        crow = row;
        ccol = col;
    }
    int first = crow >= h ? crow - h + 1 : 0;
    attr_t a = A_BOLD | (f->replace ? A_REVERSE : 0); /* offered again: typing replaces it */
    attron(a);
    for (size_t i = 0; i < f->len; i++) {
        int r = rows[i] - first;
        if (r < 0 || r >= h)
            continue;
        mvaddnwstr(y + 1 + r, x + 2 + cols[i], &f->buf[i], 1);
    }
    attroff(a);
    curs_set(1);
    move(y + 1 + crow - first, x + 2 + ccol);
}

/* ------------------------------------------------------------ screens */

static void draw_home(kiosk *k)
{
    draw_heading(_("Welcome. Please press a number key:"), NULL);
    draw_list(k, S_HOME);
    const char *codes[MAX_ITEMS];
    size_t n = flow_items(k, S_HOME, codes, MAX_ITEMS), per = draw_per_page();
    int y = TOP + 2 * (int)(n < per ? n : per) + 1;
    if (y < LINES - 4) {
        char b[300];
        snprintf(b, sizeof b, "%s", _("In an emergency press F12: the street's duty room is called at once."));
        put(y, 4, b, COLS - 8, 0, COLOR_PAIR(C_SOS) | A_BOLD);
    }
    list_keys(k, S_HOME);
    draw_message(k, NULL);
}

static void report_heading(kiosk *k, int step, const char *what, const char *right)
{
    char b[400];
    (void)k;
    snprintf(b, sizeof b, _("Report a problem · step %d of 5: %s"), step, what);
    draw_heading(b, right);
}

static void draw_place(kiosk *k)
{
    char path[400], mark[64], b[600], h[800];
    place_path(k, path, sizeof path);
    list_page_mark(k, S_PLACE, mark, sizeof mark);
    snprintf(b, sizeof b, _("where is it? %s"), path);
    /* The community is in the title bar: when the whole path does not fit
     * (an English grid named by its street), the heading starts below it. */
    snprintf(h, sizeof h, _("Report a problem · step %d of 5: %s"), 2, b);
    int rw = *mark ? uitext_width(mark) + 2 : 0;
    if (k->d.depth && uitext_width(h) > COLS - 4 - rw) {
        const char *below = strstr(path, " › ");
        if (below)
            snprintf(b, sizeof b, _("where is it? %s"), below + strlen(" › "));
    }
    report_heading(k, 2, b, mark);
    draw_list(k, S_PLACE);
    list_keys(k, S_PLACE);
    draw_message(k, _("Choose the place by its name."));
}

static void field_keys(void)
{
    keyhelp keys[] = { { "Enter", _("OK") }, { "Esc", _("back") }, { "Backspace", _("delete") }, { "←→", _("move") } };
    draw_keys(keys, 4);
}

/* A field screen: explanations, then the box, then a counter. */
static void draw_field_screen(kiosk *k, const char *heading, const char *explain, field *f, int w, int h,
                              const char *hint)
{
    if (heading)
        draw_heading(heading, NULL);
    tpage p = { .width = COLS - 8 };
    page_text(&p, A_NORMAL, explain);
    int y = TOP;
    for (size_t i = 0; i < p.n && y < LINES - 4 - h - 2; i++, y++)
        put(y, 4, p.v[i].text, COLS - 8, 0, p.v[i].attr);
    page_free(&p);
    y++;
    if (w > COLS - 10)
        w = COLS - 10;
    if (y + h + 2 > LINES - 3)
        h = LINES - 3 - y - 2;
    if (h < 1)
        h = 1;
    draw_message(k, hint);
    field_keys();
    if (f->max > 20) {
        char cnt[40];
        snprintf(cnt, sizeof cnt, "%zu / %zu", f->len, f->max);
        put(y + h + 2, 4 + w + 4 - uitext_width(cnt), cnt, 20, 0, COLOR_PAIR(C_DIM));
    }
    draw_field(f, y, 4, w, h); /* last: it leaves the cursor in the box */
}

static void confirm_page(kiosk *k, tpage *p)
{
    char b[1200], path[400], desc[DESC_MAX * 4 + 8], phone[32], masked[40];
    const char *labels[] = { _("Problem:"), _("Where:"), _("Description:"), _("Phone:") };
    int hang = 0;
    for (size_t i = 0; i < 4; i++) {
        int w = uitext_width(labels[i]) + 2;
        hang = w > hang ? w : hang;
    }
    snprintf(b, sizeof b, "%s › %s", cat_name(k, k->d.major), cat_name(k, k->d.minor));
    page_para(p, A_BOLD, 0, labels[0], hang, b);
    page_blank(p);
    place_path(k, path, sizeof path);
    page_para(p, A_BOLD, 0, labels[1], hang, path);
    page_blank(p);
    field_text(&k->d.desc, desc, sizeof desc);
    page_para(p, A_BOLD, 0, labels[2], hang, desc);
    page_blank(p);
    field_text(&k->d.phone, phone, sizeof phone);
    if (*phone) {
        /* shown masked: the digits were seen while typed, not again */
        words_mask_phone(phone, masked, sizeof masked);
        page_para(p, A_BOLD, 0, labels[3], hang, masked);
    } else {
        page_para(p, A_BOLD, 0, labels[3], hang, _("none: this ticket cannot be looked up or rated here"));
    }
    explicit_bzero(desc, sizeof desc);
    explicit_bzero(phone, sizeof phone);
    explicit_bzero(masked, sizeof masked);
}

/* ------------------------------------------------------------ the ticket, large */

static const char *const glyphs[11][5] = {
    { "████", "█  █", "█  █", "█  █", "████" }, /* 0 */
    { " ██ ", "  █ ", "  █ ", "  █ ", " ███" }, /* 1 */
    { "████", "   █", "████", "█   ", "████" }, /* 2 */
    { "████", "   █", "████", "   █", "████" }, /* 3 */
    { "█  █", "█  █", "████", "   █", "   █" }, /* 4 */
    { "████", "█   ", "████", "   █", "████" }, /* 5 */
    { "████", "█   ", "████", "█  █", "████" }, /* 6 */
    { "████", "   █", "   █", "   █", "   █" }, /* 7 */
    { "████", "█  █", "████", "█  █", "████" }, /* 8 */
    { "████", "█  █", "████", "   █", "████" }, /* 9 */
    { "████", "█   ", "███ ", "█   ", "████" }, /* E */
};

/* The ticket in block digits, 5 rows from y, centred; a gap after the
 * letter and after the date, as people read it aloud: E 20261123 00001.
 * Returns false when the screen is too narrow (then nothing is drawn). */
static bool draw_big_ticket(int y, const char *t)
{
    size_t n = strlen(t);
    int width = 0;
    for (size_t i = 0; i < n; i++)
        width += 5 + (i == 0 || i == 8 ? 2 : 0);
    width -= 1;
    if (width > COLS - 2 || n > 20)
        return false;
    int x0 = (COLS - width) / 2;
    for (int r = 0; r < 5; r++) {
        int x = x0;
        for (size_t i = 0; i < n; i++) {
            int g = t[i] == 'E' ? 10 : t[i] >= '0' && t[i] <= '9' ? t[i] - '0' : -1;
            if (g >= 0)
                put(y + r, x, glyphs[g][r], 4, 0, A_BOLD);
            x += 5 + (i == 0 || i == 8 ? 2 : 0);
        }
    }
    return true;
}

static void next_steps(kiosk *k, tpage *p)
{
    char b[1200], depts[600] = "", ci[80], rs[80];
    const Whistle__V1__Category *c = net_category(k, k->d.filed_cat);
    page_text(p, A_BOLD, _("What happens next:"));
    page_para(p, A_NORMAL, 0, "•", 2,
              _("The street's command center reviews your report and sends it to those who handle it."));
    if (c) {
        Whistle__V1__TimeLimit cl, rl;
        words_category_limits(c, &cl, &rl);
        words_limit(&cl, ci, sizeof ci);
        words_limit(&rl, rs, sizeof rs);
        for (size_t i = 0; i < c->n_departments; i++)
            join_add(depts, sizeof depts, net_dept_name(k, c->departments[i]));
        if (*depts && *ci && *rs)
            snprintf(b, sizeof b,
                     _("If departments are called in, %s must check in within %s and resolve it within %s."), depts, ci,
                     rs);
        else if (*depts && *rs)
            snprintf(b, sizeof b, _("If departments are called in, %s must resolve it within %s."), depts, rs);
        else if (*depts)
            snprintf(b, sizeof b, _("If departments are called in, it goes to %s."), depts);
        else
            b[0] = 0;
        if (*b)
            page_para(p, A_NORMAL, 0, "•", 2, b);
    }
    char phone[32];
    field_text(&k->d.phone, phone, sizeof phone);
    page_para(p, A_NORMAL, 0, "•", 2,
              *phone ? _("With this number and the last 4 digits of your phone you can look it up and rate it here.")
                     : _("You gave no phone number, so this ticket cannot be looked up or rated here."));
    explicit_bzero(phone, sizeof phone);
}

static void draw_done(kiosk *k)
{
    draw_heading(_("Thank you. Your report has been received. Your ticket number:"), NULL);
    int y = TOP;
    if (draw_big_ticket(y, k->d.filed))
        y += 6;
    char b[200];
    snprintf(b, sizeof b, _("Ticket %s · please write this number down"), k->d.filed);
    put_center(y, b, A_BOLD | COLOR_PAIR(C_WARN));
    y += 2;
    tpage p = { .width = COLS - 8 };
    next_steps(k, &p);
    page_draw(k, &p, 4, y, LINES - 4 - y + 1);
    page_free(&p);
    keyhelp keys[] = { { "Enter", _("home") }, { "↑↓", _("scroll") } };
    draw_keys(keys, 2);
    draw_message(k, _("This screen goes back to the start by itself after a while."));
}

/* ------------------------------------------------------------ look up */

static void result_page(kiosk *k, tpage *p)
{
    const Whistle__V1__Event *e = k->d.looked && k->d.looked->event ? k->d.looked->event : NULL;
    if (!e)
        return;
    char b[1200], when[40];
    const char *labels[] = { _("Problem:"), _("Where:"), _("You wrote:"), _("Reported:"), _("Now:") };
    int hang = 0;
    for (size_t i = 0; i < 5; i++) {
        int w = uitext_width(labels[i]) + 2;
        hang = w > hang ? w : hang;
    }
    int64_t now = shell_clock_ms();
    page_para(p, A_NORMAL, 0, labels[0], hang, cat_name(k, e->category));
    node_path(k, e->node, b, sizeof b);
    page_para(p, A_NORMAL, 0, labels[1], hang, b);
    /* the resident's own words, cut to a line: enough to know the case */
    char desc[400];
    uitext_fit(desc, sizeof desc, e->description, p->width - hang, false);
    page_para(p, A_NORMAL, 0, labels[2], hang, desc);
    explicit_bzero(desc, sizeof desc);
    words_when(e->created_ms, now, when, sizeof when);
    page_para(p, A_NORMAL, 0, labels[3], hang, when);
    snprintf(b, sizeof b, "%s", words_state(e->state));
    if (e->state == ES(CLOSED) && e->rating) {
        size_t o = strlen(b);
        snprintf(b + o, sizeof b - o, _(" · you rated it %u of 5"), e->rating);
    } else if (e->state == ES(CLOSED)) {
        size_t o = strlen(b);
        snprintf(b + o, sizeof b - o, "%s", _(" · you can rate it: 3 on the home screen"));
    }
    page_para(p, A_BOLD | COLOR_PAIR(C_OK), 0, labels[4], hang, b);
    page_blank(p);
    page_text(p, A_BOLD, _("What has happened:"));
    int tw = 0;
    for (size_t i = 0; i < e->n_timeline; i++) {
        words_when(e->timeline[i]->at_ms, now, when, sizeof when);
        int w = uitext_width(when) + 2;
        tw = w > tw ? w : tw;
    }
    for (size_t i = 0; i < e->n_timeline; i++) {
        const Whistle__V1__TimelineEntry *t = e->timeline[i];
        words_when(t->at_ms, now, when, sizeof when);
        words_timeline(t, *t->department ? net_dept_name(k, t->department) : NULL, b, sizeof b);
        page_para(p, A_NORMAL, 2, when, tw, b);
    }
    explicit_bzero(b, sizeof b);
}

static void draw_result(kiosk *k)
{
    char b[200];
    snprintf(b, sizeof b, _("Ticket %s"), k->d.ticket_norm);
    draw_heading(b, NULL);
    tpage p = { .width = COLS - 8 };
    result_page(k, &p);
    page_draw(k, &p, 4, TOP, content_rows());
    page_free(&p);
    keyhelp keys[] = { { "Enter", _("home") }, { "↑↓", _("scroll") } };
    draw_keys(keys, 2);
    draw_message(k, _("This screen goes back to the start by itself after a while."));
}

/* ------------------------------------------------------------ the guide */

static void draw_guide_item(kiosk *k)
{
    const Whistle__V1__ServiceItem *it = net_service_item(k, k->guide_item);
    draw_heading(it ? uitext_pick(it->name_zh, it->name_en) : k->guide_item, NULL);
    tpage p = { .width = COLS - 8 };
    if (it) {
        const char *label[] = { _("Where to go"), _("Opening hours"), _("What to bring"), _("How it goes") };
        const char *text[] = { uitext_pick(it->where_zh, it->where_en), uitext_pick(it->hours_zh, it->hours_en),
                               uitext_pick(it->bring_zh, it->bring_en), uitext_pick(it->how_zh, it->how_en) };
        for (size_t i = 0; i < 4; i++) {
            if (!*text[i])
                continue;
            page_text(&p, A_BOLD | COLOR_PAIR(C_OK), label[i]);
            page_para(&p, A_NORMAL, 4, NULL, 0, text[i]);
            page_blank(&p);
        }
        if (*it->department) {
            page_text(&p, A_BOLD | COLOR_PAIR(C_OK), _("Responsible department"));
            page_para(&p, A_NORMAL, 4, NULL, 0, net_dept_name(k, it->department));
        }
    }
    page_draw(k, &p, 4, TOP, content_rows());
    page_free(&p);
    keyhelp keys[] = { { "↑↓", _("scroll") }, { "Esc", _("back") }, { "0", _("home") } };
    draw_keys(keys, 3);
    draw_message(k, NULL);
}

/* The echo board (民情回音栏): the notices of the kiosk's community, its
 * grids and its street, newest first, as the daemon sends them (public
 * text: no personal data). */
static void draw_board(kiosk *k)
{
    draw_heading(_("Echo board"), NULL);
    tpage p = { .width = COLS - 8 };
    const Whistle__V1__BoardList *b = k->board ? k->board->board : NULL;
    if (!b || !b->n_notices)
        page_text(&p, A_BOLD, _("No notices at the moment."));
    for (size_t i = 0; b && i < b->n_notices; i++) {
        const Whistle__V1__BoardNotice *n = b->notices[i];
        const Whistle__V1__Node *nd = net_node(k, n->node);
        char when[160];
        time_t t = (time_t)(n->from_ms / 1000);
        struct tm tm;
        char day[16] = "";
        if (localtime_r(&t, &tm))
            strftime(day, sizeof day, "%Y-%m-%d", &tm);
        snprintf(when, sizeof when, "%s  %s", day, nd ? uitext_pick(nd->name_zh, nd->name_en) : n->node);
        page_text(&p, A_BOLD | COLOR_PAIR(C_OK), n->title);
        page_text(&p, COLOR_PAIR(C_DIM), when);
        page_para(&p, A_NORMAL, 4, NULL, 0, n->body);
        page_blank(&p);
    }
    page_draw(k, &p, 4, TOP, content_rows());
    page_free(&p);
    keyhelp keys[] = { { "↑↓", _("scroll") }, { "Esc", _("back") }, { "0", _("home") } };
    draw_keys(keys, 3);
    draw_message(k, NULL);
}

/* ------------------------------------------------------------ messages */

/* A screen of a few paragraphs: a heading and large, calm text. */
static void draw_message_screen(kiosk *k, const char *heading, attr_t hattr, const char *const *paras, size_t n,
                                const keyhelp *keys, size_t nk)
{
    if (hattr) {
        fill(2, hattr);
        put_center(2, heading, hattr);
    } else {
        draw_heading(heading, NULL);
    }
    tpage p = { .width = COLS - 8 };
    for (size_t i = 0; i < n; i++) {
        if (!paras[i] || !*paras[i])
            continue;
        page_text(&p, i == 0 ? A_BOLD : A_NORMAL, paras[i]);
        page_blank(&p);
    }
    page_draw(k, &p, 4, TOP, content_rows());
    page_free(&p);
    draw_keys(keys, nk);
    draw_message(k, NULL);
}

static void draw_emergency(kiosk *k)
{
    const char *heading = "紧急呼叫  EMERGENCY CALL";
    attr_t sos = COLOR_PAIR(C_SOS) | A_BOLD;
    char b[300], t[80];
    if (k->screen == S_EMERG_CONFIRM) {
        long left = (long)((k->emerg_deadline - shell_clock_ms() + 999) / 1000);
        if (left < 0)
            left = 0;
        snprintf(b, sizeof b,
                 ngettext("Any other key cancels. It cancels by itself in %ld second.",
                          "Any other key cancels. It cancels by itself in %ld seconds.", left),
                 left);
        const char *paras[] = { _("Call the street's duty room now?"), _("Press Enter to call."), b };
        keyhelp keys[] = { { "Enter", _("call") }, { _("any other key"), _("cancel") } };
        draw_message_screen(k, heading, sos, paras, 3, keys, 2);
    } else if (k->screen == S_EMERG_CALLING) {
        const char *paras[] = { _("Calling the street's duty room…"),
                                k->emerg_waiting ? _("The connection is being restored; the call goes out as soon as "
                                                     "it is back.")
                                                 : "",
                                _("If it is urgent, call 110, 119 or 120, or ask the staff.") };
        draw_message_screen(k, heading, sos, paras, 3, NULL, 0);
    } else {
        snprintf(t, sizeof t, _("Call number %s"), k->emerg_ticket);
        const char *paras[] = { _("The street's duty room has been called."),
                                _("Please stay by the terminal. Someone will come or call."), t };
        keyhelp keys[] = { { _("any key"), _("home") } };
        draw_message_screen(k, heading, sos, paras, 3, keys, 1);
    }
}

/* ------------------------------------------------------------ the whole screen */

void draw_screen(kiosk *k)
{
    erase();
    curs_set(0);
    if (LINES < 12 || COLS < 40) {
        put(0, 0, _("This screen needs at least 80 columns and 24 lines."), COLS, 0, A_BOLD);
        put(1, 0, "F12 紧急呼叫 Emergency", COLS, 0, COLOR_PAIR(C_SOS) | A_BOLD);
        refresh();
        return;
    }
    draw_title(k);
    char b[800], mark[64];
    bool lookup = k->purpose == P_LOOKUP;
    switch (k->screen) {
    case S_HOME: draw_home(k); break;
    case S_MAJOR:
        list_page_mark(k, S_MAJOR, mark, sizeof mark);
        report_heading(k, 1, _("what kind of problem?"), mark);
        draw_list(k, S_MAJOR);
        list_keys(k, S_MAJOR);
        draw_message(k, _("Fire, gas, someone in danger? Press F12 now, or call 119, 110 or 120."));
        break;
    case S_MINOR:
        list_page_mark(k, S_MINOR, mark, sizeof mark);
        snprintf(b, sizeof b, _("%s, which one?"), cat_name(k, k->d.major));
        report_heading(k, 1, b, mark);
        draw_list(k, S_MINOR);
        list_keys(k, S_MINOR);
        draw_message(k, NULL);
        break;
    case S_PLACE: draw_place(k); break;
    case S_WISH_CAT:
        list_page_mark(k, S_WISH_CAT, mark, sizeof mark);
        draw_heading(_("Order a small wish · step 1 of 3: what kind of help?"), mark);
        draw_list(k, S_WISH_CAT);
        list_keys(k, S_WISH_CAT);
        draw_message(k, _("A volunteer of the community helps with small things: a walker, carrying, a tutor..."));
        break;
    case S_DESC:
        if (k->purpose == P_WISH) {
            draw_field_screen(k, _("Order a small wish · step 2 of 3: what do you need?"),
                              _("Say what would help and where, e.g. \"a walking frame for my father, building 3\". "
                                "The community reads it; volunteers see only what the community writes from it, "
                                "never your name or phone. Press Enter when you are done."),
                              &k->d.desc, 64, LINES >= 24 ? 5 : 3, NULL);
            break;
        } else {
            char path[400], explain[1600];
            place_path(k, path, sizeof path);
            /* what was chosen so far, then what to do */
            snprintf(explain, sizeof explain, "%s · %s\n%s", cat_name(k, k->d.minor), path,
                     _("Say what is wrong and exactly where, e.g. \"the lamp at the gate of building 3 has been out "
                       "for a week\". Chinese input works. Press Enter when you are done."));
            report_heading(k, 3, _("describe the problem"), NULL);
            draw_field_screen(k, NULL, explain, &k->d.desc, 64, LINES >= 24 ? 5 : 3, NULL);
            break;
        }
    case S_PHONE:
        if (k->purpose == P_WISH) {
            draw_field_screen(k, _("Order a small wish · step 3 of 3: your phone number"),
                              _("When the volunteer has done it, you confirm it here with the slip's number and the "
                                "last 4 digits of this phone. Type the digits and press Enter to send."),
                              &k->d.phone, 16, 1, _("The number is only shown while you type it."));
            break;
        }
        draw_field_screen(k, _("Report a problem · step 4 of 5: your phone number (optional)"),
                          _("With a phone number the street can call you back, and you can look up and rate this "
                            "ticket here with its number and the last 4 digits of the phone.\nWithout one, the "
                            "ticket cannot be looked up or rated here.\nType the digits, or press Enter to go on "
                            "without a phone number."),
                          &k->d.phone, 16, 1, _("The number is only shown while you type it."));
        break;
    case S_CONFIRM: {
        report_heading(k, 5, _("please check, then send"), NULL);
        tpage p = { .width = COLS - 8 };
        confirm_page(k, &p);
        page_draw(k, &p, 4, TOP, content_rows());
        page_free(&p);
        keyhelp keys[] = { { "Enter", _("send") }, { "Esc", _("back to change") }, { "0", _("cancel") } };
        draw_keys(keys, 3);
        draw_message(k, _("Press Enter to send your report."));
        break;
    }
    case S_SENDING:
    case S_ASKING:
    case S_RATING: {
        const char *h = k->screen == S_SENDING && k->purpose == P_WISH          ? _("Sending your wish…")
                        : k->screen == S_SENDING                                ? _("Sending your report…")
                        : k->screen == S_ASKING && k->purpose >= P_WISH_CONFIRM ? _("One moment…")
                        : k->screen == S_ASKING                                 ? _("Looking up your ticket…")
                                                                                : _("Sending your rating…");
        const char *paras[] = { k->waiting_call ? _("The service is temporarily unavailable. It goes as soon as the "
                                                    "service is back; please wait, or ask the staff.")
                                                : _("One moment, please.") };
        keyhelp keys[] = { { "Esc", _("back") }, { "0", _("home") } };
        draw_message_screen(k, h, 0, paras, 1, keys, k->waiting_call ? 2 : 0);
        break;
    }
    case S_SEND_FAILED: {
        const char *paras[] = { _("The service did not answer in time."),
                                _("Press Enter to try again: your report is never filed twice.") };
        keyhelp keys[] = { { "Enter", _("try again") }, { "0", _("home") } };
        draw_message_screen(k, _("Your report has not been confirmed yet"), 0, paras, 2, keys, 2);
        break;
    }
    case S_DONE: draw_done(k); break;
    case S_TICKET:
        if (k->purpose == P_WISH_CONFIRM || k->purpose == P_BALANCE) {
            bool bal = k->purpose == P_BALANCE;
            draw_field_screen(k,
                              bal ? _("My volunteer points · step 1 of 2: your volunteer number")
                                  : _("Confirm a wish is done · step 1 of 2: the slip's number"),
                              bal ? _("Type the volunteer number on your card.")
                                  : _("Type the number on the wish's slip, e.g. W2026112300042. You may type just the "
                                      "13 digits after the W."),
                              &k->d.ticket, 16, 1, NULL);
            break;
        }
        draw_field_screen(k,
                          lookup ? _("Look up my ticket · step 1 of 2: the ticket number")
                                 : _("Rate a closed ticket · step 1 of 4: the ticket number"),
                          _("Type the ticket number you were given, e.g. E2026112300042. You may type just the 13 "
                            "digits after the E."),
                          &k->d.ticket, 16, 1,
                          k->d.ticket.replace ? _("Press Enter to use this number again, or type the number anew.")
                                              : NULL);
        break;
    case S_LAST4:
        if (k->purpose == P_WISH_CONFIRM || k->purpose == P_BALANCE) {
            bool bal = k->purpose == P_BALANCE;
            draw_field_screen(k,
                              bal ? _("My volunteer points · step 2 of 2: your card's code")
                                  : _("Confirm a wish is done · step 2 of 2: your phone"),
                              bal ? _("Type the 8-digit code on your volunteer card.")
                                  : _("Type the last 4 digits of the phone number you gave with the wish."),
                              &k->d.last4, 10, 1, NULL);
            break;
        }
        snprintf(b, sizeof b, "%s",
                 lookup ? _("Look up my ticket · step 2 of 2: your phone")
                        : _("Rate a closed ticket · step 2 of 4: your phone"));
        draw_field_screen(k, b, _("Type the last 4 digits of the phone number you gave with the report."), &k->d.last4,
                          6, 1, NULL);
        break;
    case S_RESULT: draw_result(k); break;
    case S_NOT_FOUND: {
        const char *paras[] = { k->purpose == P_BALANCE ? _("No volunteer with that number and code.")
                                                        : _("No ticket with that number and phone."),
                                k->purpose == P_BALANCE
                                    ? _("Please check the number and the code on your card, and try again.")
                                    : _("Please check the ticket number and the last 4 digits of the phone, and try "
                                        "again.") };
        keyhelp keys[] = { { "Enter", _("try again") }, { "0", _("home") } };
        draw_message_screen(k, _("Not found"), 0, paras, 2, keys, 2);
        break;
    }
    case S_SCORE:
        snprintf(b, sizeof b, _("Rate a closed ticket · step 3 of 4: how satisfied are you? (%s)"), k->d.ticket_norm);
        draw_heading(b, NULL);
        draw_list(k, S_SCORE);
        list_keys(k, S_SCORE);
        draw_message(k, NULL);
        break;
    case S_COMMENT:
        snprintf(b, sizeof b, _("You chose %u: %s.\nAnything you want to add? Press Enter to send your rating."),
                 k->d.score, score_word(k->d.score));
        draw_field_screen(k, _("Rate a closed ticket · step 4 of 4: a comment (optional)"), b, &k->d.comment, 64, 2,
                          NULL);
        break;
    case S_RATED: {
        const char *paras[] = { _("Thank you. Your rating has been recorded."),
                                _("The street reads every rating; a dissatisfied one can reopen the case.") };
        keyhelp keys[] = { { _("any key"), _("home") } };
        draw_message_screen(k, _("Rate a closed ticket"), 0, paras, 2, keys, 1);
        break;
    }
    case S_GUIDE_CLASSES:
        list_page_mark(k, S_GUIDE_CLASSES, mark, sizeof mark);
        draw_heading(_("Service guide: what you can get done in the community"), mark);
        draw_list(k, S_GUIDE_CLASSES);
        list_keys(k, S_GUIDE_CLASSES);
        draw_message(k, NULL);
        break;
    case S_GUIDE_ITEMS: {
        const Whistle__V1__ServiceClass *c = net_service_class(k, k->guide_class);
        list_page_mark(k, S_GUIDE_ITEMS, mark, sizeof mark);
        snprintf(b, sizeof b, _("Service guide: %s"), c ? uitext_pick(c->name_zh, c->name_en) : k->guide_class);
        draw_heading(b, mark);
        draw_list(k, S_GUIDE_ITEMS);
        list_keys(k, S_GUIDE_ITEMS);
        draw_message(k, NULL);
        break;
    }
    case S_GUIDE_ITEM: draw_guide_item(k); break;
    case S_BOARD: draw_board(k); break;
    case S_EMERG_CONFIRM:
    case S_EMERG_CALLING:
    case S_EMERG_SENT: draw_emergency(k); break;
    case S_NOTICE: {
        const char *paras[] = { k->notice_text };
        keyhelp keys[] = { { _("any key"), k->notice_back == S_HOME ? _("home") : _("back") } };
        draw_message_screen(k, _("Please note"), 0, paras, 1, keys, 1);
        break;
    }
    }
    refresh();
}
