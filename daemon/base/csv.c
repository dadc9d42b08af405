/* csv.c: see csv.h. */
#include "csv.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "text.h"

void csv_init(csv_reader *r, const void *data, size_t len)
{
    r->p = data;
    r->end = r->p + len;
    r->line = 1;
    if (len >= 3 && memcmp(r->p, "\xEF\xBB\xBF", 3) == 0)
        r->p += 3;
    /* The header row decides: the most frequent of , ; TAB outside quotes. */
    size_t comma = 0, semi = 0, tab = 0;
    bool q = false;
    for (const char *s = r->p; s < r->end; s++) {
        if (*s == '"')
            q = !q;
        else if (!q && (*s == '\n' || *s == '\r'))
            break;
        else if (!q && *s == ',')
            comma++;
        else if (!q && *s == ';')
            semi++;
        else if (!q && *s == '\t')
            tab++;
    }
    r->delim = ',';
    if (semi > comma && semi >= tab)
        r->delim = ';';
    else if (tab > comma && tab > semi)
        r->delim = '\t';
}

static const char *trim(arena *a, const char *s, size_t n)
{
    while (n && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    return arena_strndup(a, s, n);
}

/* The end of the record starting at p (after its line break), counting
 * the line breaks it spans; NULL if a quote is never closed. */
static const char *record_end(const char *p, const char *end, size_t *breaks, const char **body_end)
{
    bool q = false;
    *breaks = 0;
    for (const char *s = p; s < end; s++) {
        if (*s == '"') {
            q = !q;
        } else if (*s == '\r' || *s == '\n') {
            const char *after = s + 1;
            if (*s == '\r' && after < end && *after == '\n')
                after++;
            if (!q) {
                *body_end = s;
                *breaks += 1;
                return after;
            }
            *breaks += 1;
            s = after - 1;
        }
    }
    if (q)
        return NULL;
    *body_end = end;
    return end;
}

int csv_next(csv_reader *r, arena *a, char ***fields, size_t *n, size_t *line, const char **why)
{
    for (;;) {
        if (r->p >= r->end)
            return CSV_EOF;
        *line = r->line;
        size_t breaks;
        const char *body_end;
        const char *next = record_end(r->p, r->end, &breaks, &body_end);
        if (!next) {
            *why = "a quoted field is never closed (a \" is missing)";
            r->p = r->end;
            return CSV_BAD;
        }
        const char *p = r->p;
        r->p = next;
        r->line += breaks;
        size_t len = (size_t)(body_end - p);
        if (memchr(p, 0, len)) {
            *why = "contains a NUL byte (is this a text file?)";
            return CSV_BAD;
        }
        if (!utf8_valid(p, len)) {
            *why = "not valid UTF-8 (a spreadsheet saved as GBK? save it as \"CSV UTF-8\", or convert it: "
                   "iconv -f GBK -t UTF-8)";
            return CSV_BAD;
        }
        /* Split into fields. */
        size_t cap = 8, cnt = 0;
        char **f = arena_alloc(a, cap * sizeof *f);
        const char *s = p;
        bool any = false;
        for (;;) {
            const char *val;
            if (s < body_end && *s == '"') {
                /* quoted: copy with "" -> " */
                char *buf = arena_alloc(a, (size_t)(body_end - s) + 1);
                size_t o = 0;
                s++;
                while (s < body_end) {
                    if (*s == '"') {
                        if (s + 1 < body_end && s[1] == '"') {
                            buf[o++] = '"';
                            s += 2;
                            continue;
                        }
                        s++;
                        break;
                    }
                    buf[o++] = *s++;
                }
                /* anything between the closing quote and the delimiter is kept */
                const char *rest = s;
                while (s < body_end && *s != r->delim)
                    s++;
                memcpy(buf + o, rest, (size_t)(s - rest));
                o += (size_t)(s - rest);
                val = trim(a, buf, o);
            } else {
                const char *st = s;
                while (s < body_end && *s != r->delim)
                    s++;
                val = trim(a, st, (size_t)(s - st));
            }
            if (*val)
                any = true;
            if (cnt == cap) {
                char **g = arena_alloc(a, 2 * cap * sizeof *g);
                memcpy(g, f, cap * sizeof *f);
                f = g;
                cap *= 2;
            }
            f[cnt++] = (char *)val;
            if (s < body_end && *s == r->delim) {
                s++;
                continue;
            }
            break;
        }
        if (!any)
            continue; /* a blank row (",,,," from a spreadsheet) */
        *fields = f;
        *n = cnt;
        return CSV_RECORD;
    }
}

void csv_append(csv_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (b->len + n + 1 > cap)
            cap *= 2;
        char *d = realloc(b->data, cap);
        if (!d)
            log_oom("a CSV buffer");
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = 0;
}

void csv_put(csv_buf *b, const char *field, bool first)
{
    if (!first)
        csv_append(b, ",", 1);
    field = field ? field : "";
    size_t n = strlen(field);
    bool quote = n && (strpbrk(field, ",\"\r\n;\t") || field[0] == ' ' || field[n - 1] == ' ');
    if (!quote) {
        csv_append(b, field, n);
        return;
    }
    csv_append(b, "\"", 1);
    for (const char *s = field; *s; s++) {
        if (*s == '"')
            csv_append(b, "\"\"", 2);
        else
            csv_append(b, s, 1);
    }
    csv_append(b, "\"", 1);
}

void csv_end_record(csv_buf *b) { csv_append(b, "\r\n", 2); }

void csv_buf_free(csv_buf *b)
{
    free(b->data);
    *b = (csv_buf){ 0 };
}
