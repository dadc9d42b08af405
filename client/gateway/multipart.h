/* multipart.h: multipart/form-data bodies (RFC 7578), as an Open311 POST
 * sends a photo with its report (the `media` part).
 *
 * The parser reads a whole body already in memory (h2o holds it, within
 * http.max_body_bytes) and hands out each part as pointers into it: no
 * copy, nothing allocated. It is strict where leniency would let two
 * readers see different parts: the boundary must open the body (a
 * preamble is allowed only before a CRLF-preceded delimiter), every part
 * has a Content-Disposition of form-data with a name, headers are CRLF
 * lines within MP_HEAD_MAX bytes, and the closing delimiter must come. */
#ifndef GATEWAY_MULTIPART_H
#define GATEWAY_MULTIPART_H

#include <stdbool.h>
#include <stddef.h>

#define MP_BOUNDARY_MAX 70 /* RFC 2046 */
#define MP_HEAD_MAX 2048   /* a part's headers */
#define MP_PARTS_MAX 200

typedef struct mp_part {
    const char *name; /* the form field's name (not NUL-terminated) */
    size_t name_len;
    bool is_file;      /* a filename was given */
    const char *ctype; /* the part's Content-Type, or NULL */
    size_t ctype_len;
    const char *data;
    size_t len;
} mp_part;

/* The boundary parameter of a multipart/form-data Content-Type into out
 * (NUL-terminated). 0, or -1 when the type is not multipart/form-data or
 * the boundary is missing or malformed. */
int mp_boundary(const char *ctype, size_t len, char out[MP_BOUNDARY_MAX + 1]);

/* Calls fn for each part in order; fn returns 0 to go on, else that value
 * is returned. 0 when all parts were read; -1 with *why (a static
 * sentence) when the body is malformed. */
typedef int (*mp_part_fn)(void *ud, const mp_part *p);
int mp_parse(const char *body, size_t n, const char *boundary, mp_part_fn fn, void *ud, const char **why);

#endif
