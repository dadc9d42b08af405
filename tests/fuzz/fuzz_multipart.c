/* libFuzzer target: multipart/form-data bodies as whistle-gateway reads an
 * Open311 POST with a photo (client/gateway/multipart.c).
 *
 * The input is a Content-Type line, a newline, then the body. The boundary
 * is taken from the Content-Type as the gateway does; if there is none, the
 * input's first bytes up to a newline are the boundary itself, so that
 * bodies with a working boundary are reached too. Every part handed out
 * must lie within the body, with a name, and the parser must never read
 * outside it (ASan) or fail to end. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "multipart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

typedef struct span {
    const char *body;
    size_t n;
    int parts;
} span;

static int on_part(void *ud, const mp_part *p)
{
    span *s = ud;
    if (!p->name || p->name_len == 0 || p->data < s->body || p->data + p->len > s->body + s->n)
        abort();
    if (p->name < s->body || p->name + p->name_len > s->body + s->n)
        abort();
    if (p->ctype && (p->ctype < s->body || p->ctype + p->ctype_len > s->body + s->n))
        abort();
    if (++s->parts > MP_PARTS_MAX)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    if (!nl)
        return 0;
    size_t hl = (size_t)(nl - data);
    char boundary[MP_BOUNDARY_MAX + 1];
    if (mp_boundary((const char *)data, hl, boundary) != 0) {
        if (hl == 0 || hl > MP_BOUNDARY_MAX)
            return 0;
        memcpy(boundary, data, hl);
        boundary[hl] = 0;
        if (strlen(boundary) != hl)
            return 0;
    }
    /* the body in a buffer of its own size, so that a read past it is seen */
    size_t n = size - hl - 1;
    char *body = malloc(n ? n : 1);
    if (!body)
        return 0;
    memcpy(body, nl + 1, n);
    span s = { body, n, 0 };
    const char *why = NULL;
    int rc = mp_parse(body, n, boundary, on_part, &s, &why);
    if (rc == -1 && !why)
        abort();
    free(body);
    return 0;
}
