/* output.c: human output for the CLI: display widths, tables, times.
 *
 * Columns are aligned by display width, not bytes: a Chinese character
 * takes two terminal columns and three UTF-8 bytes. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <wchar.h>

#include "cli.h"

/* Decodes one UTF-8 sequence; an invalid byte decodes as itself (width 1)
 * so that garbage still lines up roughly. Returns the bytes consumed. */
static int utf8_next(const unsigned char *s, unsigned *cp)
{
    unsigned c = s[0];
    int n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0) {
        *cp = 0xFFFD;
        return 1;
    }
    unsigned v = n == 1 ? c : n == 2 ? c & 0x1F : n == 3 ? c & 0x0F : c & 0x07;
    for (int i = 1; i < n; i++) {
        if ((s[i] & 0xC0) != 0x80) {
            *cp = 0xFFFD;
            return 1;
        }
        v = v << 6 | (s[i] & 0x3F);
    }
    *cp = v;
    return n;
}

/* East Asian wide ranges, for when the locale's wcwidth does not know the
 * character (a C locale, or a glibc without width data). */
static int wide_fallback(unsigned cp)
{
    return (cp >= 0x1100 && cp <= 0x115F) || (cp >= 0x2E80 && cp <= 0x303E) || (cp >= 0x3041 && cp <= 0xA4CF) ||
           (cp >= 0xAC00 && cp <= 0xD7A3) || (cp >= 0xF900 && cp <= 0xFAFF) || (cp >= 0xFE30 && cp <= 0xFE4F) ||
           (cp >= 0xFF00 && cp <= 0xFF60) || (cp >= 0xFFE0 && cp <= 0xFFE6) || (cp >= 0x1F300 && cp <= 0x1F64F) ||
           (cp >= 0x20000 && cp <= 0x3FFFD);
}

static int cp_width(unsigned cp)
{
    if (cp < 0x20 || cp == 0x7F)
        return 0;
    if (cp < 0x7F)
        return 1;
    int w = wcwidth((wchar_t)cp);
    if (w >= 0)
        return w;
    return wide_fallback(cp) ? 2 : 1;
}

int cli_display_width(const char *s)
{
    int w = 0;
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned cp;
        p += utf8_next(p, &cp);
        w += cp_width(cp);
    }
    return w;
}

char *cli_truncate(const char *s, int maxw)
{
    if (!s)
        s = "";
    if (cli_display_width(s) <= maxw)
        return strdup(s);
    /* Keep whole characters that fit in maxw - 1, then "…" (width 1). */
    const unsigned char *p = (const unsigned char *)s;
    int w = 0;
    while (*p) {
        unsigned cp;
        int n = utf8_next(p, &cp);
        int cw = cp_width(cp);
        if (w + cw > maxw - 1)
            break;
        w += cw;
        p += n;
    }
    size_t keep = (size_t)(p - (const unsigned char *)s);
    char *out = malloc(keep + 4);
    if (!out)
        return NULL;
    memcpy(out, s, keep);
    memcpy(out + keep, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
    return out;
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

void table_init(table *t, int ncols, const char *const *header)
{
    memset(t, 0, sizeof *t);
    t->ncols = ncols;
    table_add(t, header);
}

void table_add(table *t, const char *const *row)
{
    if (t->nrows == t->cap) {
        int cap = t->cap ? t->cap * 2 : 16;
        char **nc = realloc(t->cells, sizeof(char *) * (size_t)cap * (size_t)t->ncols);
        if (!nc) {
            fprintf(stderr, "whistle: out of memory\n");
            exit(EXIT_CONN);
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
    for (int w = cli_display_width(s); w < width; w++)
        fputc(' ', out);
}

void table_print(table *t, FILE *out)
{
    int *w = calloc((size_t)t->ncols, sizeof *w);
    if (!w)
        return;
    for (int r = 0; r < t->nrows; r++)
        for (int i = 0; i < t->ncols; i++) {
            int cw = cli_display_width(t->cells[r * t->ncols + i]);
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
                char *cut = cli_truncate(cell, last_max);
                fputs(cut ? cut : cell, out);
                free(cut);
            } else {
                put_padded(out, cell, w[i]);
                fputs("  ", out);
            }
        }
        fputc('\n', out);
    }
    if (t->nrows == 1)
        fputs("(none)\n", out);
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
    int kw = cli_display_width(key);
    put_padded(out, key, kw + 2 > 18 ? kw + 2 : 18);
    /* A multi-line value (a description) continues under its first line. */
    for (const char *p = value ? value : ""; *p; p++) {
        fputc(*p, out);
        if (*p == '\n' && p[1])
            fprintf(out, "%*s", kw + 2 > 18 ? kw + 2 : 18, "");
    }
    fputc('\n', out);
}
