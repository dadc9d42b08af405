/* output.c: human output for the CLI: display widths, tables, times.
 *
 * Columns are aligned by display width, not bytes: a Chinese character
 * takes two terminal columns and three UTF-8 bytes (client/ui/uitext.c
 * measures them, in any locale). */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

int cli_display_width(const char *s) { return uitext_width(s); }

char *cli_truncate(const char *s, int maxw)
{
    if (!s)
        s = "";
    if (uitext_width(s) <= maxw)
        return strdup(s);
    /* Whole characters that fit in maxw - 1, then "…": at most 4 bytes a
     * column (a 4-byte character takes at least one). */
    size_t cap = (size_t)(maxw > 0 ? maxw : 0) * 4 + 8;
    char *out = malloc(cap);
    if (out)
        uitext_fit(out, cap, s, maxw, false);
    return out;
}

/* The enum words of names.h, marked for the catalogue. */
static const char *const words[] = {
    /* event states */
    N_("reported"),
    N_("filed"),
    N_("rejected"),
    N_("handling"),
    N_("whistled"),
    N_("resolved"),
    N_("verified"),
    N_("closed"),
    /* order states */
    N_("pending"),
    N_("checked_in"),
    N_("done"),
    N_("returned"),
    /* priorities */
    N_("low"),
    N_("normal"),
    N_("high"),
    N_("urgent"),
    /* whistle kinds */
    N_("routine"),
    N_("tackle"),
    N_("emergency"),
    /* sources */
    N_("kiosk"),
    N_("patrol"),
    N_("resident"),
    N_("hotline"),
    N_("sensor"),
    N_("volunteer"),
    N_("emergency_call"),
    /* node kinds */
    N_("district"),
    N_("street"),
    N_("community"),
    N_("grid"),
    N_("building"),
    /* roles (kiosk, sensor and community above) */
    N_("admin"),
    N_("operator"),
    N_("department"),
    N_("grid_worker"),
    N_("integration"),
    N_("gateway"),
    N_("bridge"),
    N_("representative"),
};

const char *cli_word(const char *w)
{
    if (!w)
        return "";
    for (size_t i = 0; i < sizeof words / sizeof *words; i++)
        if (strcmp(words[i], w) == 0)
            return _(words[i]);
    return w;
}

const char *cli_action_word(const char *w)
{
    /* In a context of their own: "close" the action (结案) is not the
     * state, "emergency" the call is not the kind of whistle. */
    static const char *const actions[] = {
        "report",
        "file",
        "reject",
        "assign",
        "whistle",
        "dispatch",
        "check_in",
        "feedback",
        "return",
        "resolve",
        "verify",
        "rework",
        "close",
        "rate",
        "emergency",
        "overdue",
        "escalate",
        "extension_request",
        "extension_approved",
        "extension_refused",
        "stage",
        "park",
        "unpark",
        "reopen",
        "merge",
        "resolved",
        "visit_overdue",
        "transfer_out",
        "transfer_in",
        "city_supervise",
    };
    const char *const tr[] = {
        C_("action", "report"),
        C_("action", "file"),
        C_("action", "reject"),
        C_("action", "assign"),
        C_("action", "whistle"),
        C_("action", "dispatch"),
        C_("action", "check_in"),
        C_("action", "feedback"),
        C_("action", "return"),
        C_("action", "resolve"),
        C_("action", "verify"),
        C_("action", "rework"),
        C_("action", "close"),
        C_("action", "rate"),
        C_("action", "emergency"),
        C_("action", "overdue"),
        C_("action", "escalate"),
        C_("action", "extension_request"),
        C_("action", "extension_approved"),
        C_("action", "extension_refused"),
        C_("action", "stage"),
        C_("action", "park"),
        C_("action", "unpark"),
        C_("action", "reopen"),
        C_("action", "merge"),
        /* TRANSLATORS: the case resolved by itself: every department fed back */
        C_("action", "resolved"),
        /* TRANSLATORS: a special-care household's visit is overdue (docs/archive.md) */
        C_("action", "visit_overdue"),
        /* TRANSLATORS: handed to another district of the city (docs/federation.md) */
        C_("action", "transfer_out"),
        /* TRANSLATORS: received from another district of the city */
        C_("action", "transfer_in"),
        /* TRANSLATORS: the city's supervision (市级督办) */
        C_("action", "city_supervise"),
    };
    _Static_assert(sizeof actions / sizeof *actions == sizeof tr / sizeof *tr, "one translation per action");
    if (!w)
        return "";
    for (size_t i = 0; i < sizeof actions / sizeof *actions; i++)
        if (strcmp(actions[i], w) == 0)
            return tr[i];
    return w;
}

const char *cli_timeline_note(const char *action, const char *note, char *buf, size_t len)
{
    /* The few notes the server writes in words of its own, always the
     * same; every other note is people's own text, or a sentence of the
     * server's that stays as written (docs/i18n.md). */
    note = note ? note : "";
    action = action ? action : "";
    if (strcmp(action, "dispatch") == 0 && strcmp(note, "lead") == 0)
        return _("lead");
    if (strcmp(action, "resolved") == 0 && strcmp(note, "every department has fed back") == 0)
        return _("every department has fed back");
    if (strcmp(action, "verify") == 0 && strncmp(note, "failed: ", 8) == 0) {
        snprintf(buf, len, _("failed: %s"), note + 8);
        return buf;
    }
    return note;
}

/* Replaces control characters (newlines in a description) by spaces so
 * one record stays one line. */
static char *one_line(const char *s)
{
    char *d = strdup(s ? s : "");
    if (!d)
        return NULL;
    for (char *p = d; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7F)
            *p = ' ';
    return d;
}

const char *cli_local_time(int64_t ms, bool with_seconds, char *buf, size_t len)
{
    if (ms <= 0) {
        snprintf(buf, len, "-");
        return buf;
    }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, with_seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
    return buf;
}

const char *cli_iso_time(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    int frac = (int)(ms % 1000);
    if (frac < 0) {
        frac += 1000;
        t -= 1;
    }
    struct tm tm;
    gmtime_r(&t, &tm);
    char base[32];
    strftime(base, sizeof base, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf, len, "%s.%03dZ", base, frac);
    return buf;
}

int cli_term_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
        return ws.ws_col;
    return 0;
}

/* A header's words: "ctx\004text" (NC_) through the context. */
static const char *header_text(const char *h)
{
    const char *sep = strchr(h, '\004');
    return sep ? uitext_pgettext(h, sep + 1) : _(h);
}

void table_init(table *t, int ncols, const char *const *header)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    /* The header is marked N_() where it is written, translated here. */
    const char *h[TABLE_MAX_COLS];
    for (int i = 0; i < ncols && i < TABLE_MAX_COLS; i++)
        h[i] = header[i] && *header[i] ? header_text(header[i]) : "";
    table_add(t, h);
}

void table_cap(table *t, int col, int maxw)
{
    if (col >= 0 && col < t->ncols && col < TABLE_MAX_COLS)
        t->maxw[col] = maxw;
}

void table_start(table *t, const table_spec *spec)
{
    table_init(t, spec->ncols, spec->header);
    for (int i = 0; i < 2; i++)
        if (spec->cap[i].maxw)
            table_cap(t, spec->cap[i].col, spec->cap[i].maxw);
}

void table_add(table *t, const char *const *row)
{
    if (t->nrows == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, sizeof(char *) * (size_t)cap * (size_t)t->ncols);
        if (!nc) {
            exit(cli_fail(EXIT_CONN, "%s", _("out of memory")));
        }
        t->cells = nc;
        t->cap = cap;
    }
    for (int i = 0; i < t->ncols; i++)
        t->cells[t->nrows * t->ncols + i] = one_line(row[i]);
    t->nrows++;
}

static void put_padded(FILE *out, const char *s, int width)
{
    fputs(s, out);
    for (int w = uitext_width(s); w < width; w++)
        fputc(' ', out);
}

/* A cell cut to its column's cap (a long name), "…" marking the cut. */
static const char *capped(const table *t, int col, const char *cell, char *buf, size_t len)
{
    int cap = col < TABLE_MAX_COLS ? t->maxw[col] : 0;
    if (cap <= 0 || uitext_width(cell) <= cap)
        return cell;
    uitext_fit(buf, len, cell, cap, false);
    return buf;
}

void table_print(table *t, FILE *out)
{
    int *w = calloc((size_t)t->ncols, sizeof *w);
    if (!w)
        return;
    char cut[1024];
    for (int r = 0; r < t->nrows; r++)
        for (int i = 0; i < t->ncols; i++) {
            int cw = uitext_width(capped(t, i, t->cells[r * t->ncols + i], cut, sizeof cut));
            if (cw > w[i])
                w[i] = cw;
        }
    /* The last column (a description, a note) takes what the terminal has
     * left; when piped, a fixed cut keeps lines readable. */
    int used = 0;
    for (int i = 0; i < t->ncols - 1; i++)
        used += w[i] + 2;
    int term = cli_term_width();
    int last_max = term ? term - used : 60;
    if (last_max < 20)
        last_max = 20;
    for (int r = 0; r < t->nrows; r++) {
        for (int i = 0; i < t->ncols; i++) {
            const char *cell = t->cells[r * t->ncols + i];
            if (i == t->ncols - 1) {
                char *c = cli_truncate(cell, last_max);
                fputs(c ? c : cell, out);
                free(c);
            } else {
                put_padded(out, capped(t, i, cell, cut, sizeof cut), w[i]);
                fputs("  ", out);
            }
        }
        fputc('\n', out);
    }
    if (t->nrows == 1)
        fprintf(out, "%s\n", _("(none)"));
    free(w);
}

void table_free(table *t)
{
    for (int i = 0; i < t->nrows * t->ncols; i++)
        free(t->cells[i]);
    free(t->cells);
    memset(t, 0, sizeof *t);
}

void kv_print(FILE *out, const char *key, const char *value, bool always)
{
    if (!always && (!value || !*value))
        return;
    int kw = uitext_width(key);
    put_padded(out, key, kw + 2 > 18 ? kw + 2 : 18);
    /* A multi-line value (a description) continues under its first line. */
    for (const char *p = value ? value : ""; *p; p++) {
        fputc(*p, out);
        if (*p == '\n' && p[1])
            fprintf(out, "%*s", kw + 2 > 18 ? kw + 2 : 18, "");
    }
    fputc('\n', out);
}
