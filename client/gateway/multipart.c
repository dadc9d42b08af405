/* multipart.c: see multipart.h. */
#include "multipart.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* RFC 2046's bchars, without the space (a boundary ending in one is
 * not allowed, and none is needed) */
static bool bchar(int c) { return isalnum(c) || strchr("'()+_,-./:=?", c) != NULL; }

int mp_boundary(const char *ct, size_t len, char out[MP_BOUNDARY_MAX + 1])
{
    static const char type[] = "multipart/form-data";
    if (len < sizeof type - 1 || strncasecmp(ct, type, sizeof type - 1) != 0)
        return -1;
    size_t i = sizeof type - 1;
    while (i < len) {
        /* ; param=value */
        while (i < len && (ct[i] == ' ' || ct[i] == '\t'))
            i++;
        if (i >= len)
            break;
        if (ct[i] != ';')
            return -1;
        i++;
        while (i < len && (ct[i] == ' ' || ct[i] == '\t'))
            i++;
        size_t k = i;
        while (i < len && ct[i] != '=' && ct[i] != ';')
            i++;
        if (i >= len || ct[i] != '=')
            return -1;
        size_t klen = i - k;
        i++;
        char val[MP_BOUNDARY_MAX + 1];
        size_t vl = 0;
        if (i < len && ct[i] == '"') {
            i++;
            while (i < len && ct[i] != '"') {
                if (vl >= MP_BOUNDARY_MAX)
                    return -1;
                val[vl++] = ct[i++];
            }
            if (i >= len)
                return -1;
            i++;
        } else {
            while (i < len && ct[i] != ';' && ct[i] != ' ' && ct[i] != '\t') {
                if (vl >= MP_BOUNDARY_MAX)
                    return -1;
                val[vl++] = ct[i++];
            }
        }
        val[vl] = 0;
        if (klen == 8 && strncasecmp(ct + k, "boundary", 8) == 0) {
            if (vl == 0)
                return -1;
            for (size_t j = 0; j < vl; j++)
                if (!bchar((unsigned char)val[j]))
                    return -1;
            memcpy(out, val, vl + 1);
            return 0;
        }
    }
    return -1;
}

/* The value of param (name="..." or filename="...") in a
 * Content-Disposition's text h[0..n): 1 with *v, *vl, 0 when absent, -1
 * when malformed. */
static int disp_param(const char *h, size_t n, const char *param, const char **v, size_t *vl)
{
    size_t pl = strlen(param);
    for (size_t i = 0; i + pl + 1 < n; i++) {
        if (h[i] != ';')
            continue;
        size_t j = i + 1;
        while (j < n && (h[j] == ' ' || h[j] == '\t'))
            j++;
        if (j + pl + 1 > n || strncasecmp(h + j, param, pl) != 0 || h[j + pl] != '=')
            continue;
        j += pl + 1;
        if (j < n && h[j] == '"') {
            const char *e = memchr(h + j + 1, '"', n - j - 1);
            if (!e)
                return -1;
            *v = h + j + 1;
            *vl = (size_t)(e - (h + j + 1));
        } else {
            size_t k = j;
            while (k < n && h[k] != ';' && h[k] != ' ')
                k++;
            *v = h + j;
            *vl = k - j;
        }
        return 1;
    }
    return 0;
}

/* Reads a part's headers h[0..n) (CRLF lines, without the blank one). */
static int part_head(const char *h, size_t n, mp_part *p, const char **why)
{
    bool disp = false;
    size_t i = 0;
    while (i < n) {
        const char *eol = memmem(h + i, n - i, "\r\n", 2);
        size_t ll = eol ? (size_t)(eol - (h + i)) : n - i;
        const char *line = h + i;
        const char *colon = memchr(line, ':', ll);
        if (!colon) {
            *why = "a part's header line has no colon";
            return -1;
        }
        size_t nl = (size_t)(colon - line);
        const char *v = colon + 1;
        size_t vl = ll - nl - 1;
        while (vl && (*v == ' ' || *v == '\t')) {
            v++;
            vl--;
        }
        for (size_t k = 0; k < ll; k++)
            if (line[k] == '\0' || line[k] == '\r' || line[k] == '\n') {
                *why = "a part's header holds a control character";
                return -1;
            }
        if (nl == 19 && strncasecmp(line, "Content-Disposition", 19) == 0) {
            if (disp) {
                *why = "a part has two Content-Disposition headers";
                return -1;
            }
            disp = true;
            if (vl < 9 || strncasecmp(v, "form-data", 9) != 0 || (vl > 9 && v[9] != ';' && v[9] != ' ')) {
                *why = "a part's Content-Disposition is not form-data";
                return -1;
            }
            const char *fv;
            size_t fl;
            int r = disp_param(v, vl, "name", &p->name, &p->name_len);
            int f = disp_param(v, vl, "filename", &fv, &fl);
            if (r < 0 || f < 0 || r == 0 || p->name_len == 0) {
                *why = "a part's Content-Disposition has no name";
                return -1;
            }
            p->is_file = f > 0;
        } else if (nl == 12 && strncasecmp(line, "Content-Type", 12) == 0) {
            p->ctype = v;
            p->ctype_len = vl;
        }
        i += ll + 2;
    }
    if (!disp) {
        *why = "a part has no Content-Disposition";
        return -1;
    }
    return 0;
}

static const char *find(const char *h, size_t hn, const char *needle, size_t nn)
{
    return nn <= hn ? memmem(h, hn, needle, nn) : NULL;
}

int mp_parse(const char *body, size_t n, const char *boundary, mp_part_fn fn, void *ud, const char **why)
{
    char delim[MP_BOUNDARY_MAX + 5];
    size_t bl = strlen(boundary);
    if (bl == 0 || bl > MP_BOUNDARY_MAX) {
        *why = "the boundary is missing or too long";
        return -1;
    }
    /* "\r\n--boundary": every delimiter but a first one at the very start */
    delim[0] = '\r';
    delim[1] = '\n';
    delim[2] = '-';
    delim[3] = '-';
    memcpy(delim + 4, boundary, bl);
    size_t dl = bl + 4;
    size_t pos;
    if (n >= dl - 2 && memcmp(body, delim + 2, dl - 2) == 0) {
        pos = dl - 2;
    } else {
        const char *d = find(body, n, delim, dl);
        if (!d) {
            *why = "the body does not hold its boundary";
            return -1;
        }
        pos = (size_t)(d - body) + dl;
    }
    for (int parts = 0;; parts++) {
        /* after a delimiter: "--" ends it, CRLF starts a part */
        if (pos + 2 <= n && body[pos] == '-' && body[pos + 1] == '-')
            return 0;
        if (parts >= MP_PARTS_MAX) {
            *why = "the body has too many parts";
            return -1;
        }
        /* transport padding (spaces and tabs) may follow a delimiter */
        while (pos < n && (body[pos] == ' ' || body[pos] == '\t'))
            pos++;
        if (pos + 2 > n || body[pos] != '\r' || body[pos + 1] != '\n') {
            *why = "the body ends before its closing boundary";
            return -1;
        }
        pos += 2;
        mp_part p;
        memset(&p, 0, sizeof p);
        size_t head_len;
        if (pos + 2 <= n && body[pos] == '\r' && body[pos + 1] == '\n') {
            head_len = 0; /* no headers: refused below (no Content-Disposition) */
        } else {
            size_t lim = n - pos < MP_HEAD_MAX + 4 ? n - pos : MP_HEAD_MAX + 4;
            const char *e = find(body + pos, lim, "\r\n\r\n", 4);
            if (!e) {
                *why = "a part's headers do not end (or are too long)";
                return -1;
            }
            head_len = (size_t)(e - (body + pos));
        }
        if (part_head(body + pos, head_len, &p, why) < 0)
            return -1;
        pos += head_len + (head_len ? 4 : 2);
        if (pos > n) {
            *why = "the body ends before its closing boundary";
            return -1;
        }
        const char *end = find(body + pos, n - pos, delim, dl);
        if (!end) {
            *why = "the body ends before its closing boundary";
            return -1;
        }
        p.data = body + pos;
        p.len = (size_t)(end - (body + pos));
        int r = fn(ud, &p);
        if (r)
            return r;
        pos = (size_t)(end - body) + dl;
    }
}
