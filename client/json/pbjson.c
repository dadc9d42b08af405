/* pbjson.c: see pbjson.h. */
#include "pbjson.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whistle/names.h"

/* jansson refuses invalid UTF-8; whistled validates its strings, but one
 * bad byte must not drop a record from an answer. */
static json_t *json_str(const char *s)
{
    if (!s)
        s = "";
    json_t *j = json_string(s);
    if (j)
        return j;
    size_t n = strlen(s);
    char *clean = malloc(n * 3 + 1);
    if (!clean)
        return json_string("");
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch < 0x80) {
            clean[o++] = (char)ch;
        } else {
            memcpy(clean + o, "\xEF\xBF\xBD", 3); /* U+FFFD: lossy but valid */
            o += 3;
        }
    }
    clean[o] = '\0';
    j = json_string(clean);
    free(clean);
    return j ? j : json_string("");
}

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE: return 8;
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return 4;
    }
}

static json_t *value(const ProtobufCFieldDescriptor *fd, const void *p, pbj_field_hook hook)
{
    char buf[64];
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: return json_integer(*(const int32_t *)p);
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: return json_integer(*(const uint32_t *)p);
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: return json_integer((json_int_t) * (const int64_t *)p);
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return json_integer((json_int_t) * (const uint64_t *)p);
    case PROTOBUF_C_TYPE_FLOAT: return json_real(*(const float *)p);
    case PROTOBUF_C_TYPE_DOUBLE: return json_real(*(const double *)p);
    case PROTOBUF_C_TYPE_BOOL: return json_boolean(*(const protobuf_c_boolean *)p);
    case PROTOBUF_C_TYPE_ENUM: return json_str(whistle_enum_word(fd->descriptor, *(const int *)p, buf, sizeof buf));
    case PROTOBUF_C_TYPE_STRING: return json_str(*(char *const *)p);
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *b = p;
        char *hex = malloc(b->len * 2 + 1);
        if (!hex)
            return json_null();
        for (size_t i = 0; i < b->len; i++)
            snprintf(hex + 2 * i, 3, "%02x", b->data[i]);
        hex[b->len * 2] = '\0';
        json_t *j = json_string(hex);
        free(hex);
        return j;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *m = *(ProtobufCMessage *const *)p;
        return m ? pbj_to_json_with(m, hook) : json_null();
    }
    }
    return json_null();
}

json_t *pbj_to_json(const ProtobufCMessage *m) { return pbj_to_json_with(m, NULL); }

json_t *pbj_to_json_with(const ProtobufCMessage *m, pbj_field_hook hook)
{
    json_t *obj = json_object();
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *fd = &d->fields[i];
        const char *member = base + fd->offset;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + fd->quantifier_offset);
            if (which != fd->id)
                continue;
        }
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            size_t n = *(const size_t *)(base + fd->quantifier_offset);
            const char *arr = *(char *const *)member;
            json_t *ja = json_array();
            for (size_t k = 0; k < n; k++)
                json_array_append_new(ja, value(fd, arr + k * elem_size(fd->type), hook));
            json_object_set_new(obj, fd->name, ja);
            continue;
        }
        json_object_set_new(obj, fd->name, value(fd, member, hook));
        if (hook)
            hook(obj, fd, member);
    }
    return obj;
}

/* ---- JSON to a message */

static int enum_from(const ProtobufCEnumDescriptor *ed, json_t *v, int *out)
{
    if (json_is_integer(v)) {
        json_int_t n = json_integer_value(v);
        for (unsigned i = 0; i < ed->n_values; i++)
            if (ed->values[i].value == n) {
                *out = (int)n;
                return 0;
            }
        return -1;
    }
    if (!json_is_string(v))
        return -1;
    const char *s = json_string_value(v);
    char buf[64];
    for (unsigned i = 0; i < ed->n_values; i++) {
        const char *w = whistle_enum_word(ed, ed->values[i].value, buf, sizeof buf);
        if (strcmp(w, s) == 0) {
            *out = ed->values[i].value;
            return 0;
        }
    }
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* One value into p (an element or the member itself). Returns 0 or -1
 * with err. */
static int set_value(const ProtobufCFieldDescriptor *fd, json_t *v, void *p, char *err, size_t errlen)
{
    json_int_t n = 0;
    int64_t lo = 0;
    uint64_t hi = 0;
    switch (fd->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: lo = INT32_MIN, hi = INT32_MAX; goto integer;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: lo = 0, hi = UINT32_MAX; goto integer;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: lo = INT64_MIN, hi = INT64_MAX; goto integer;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        lo = 0, hi = INT64_MAX; /* JSON integers are signed here */
    integer:
        if (!json_is_integer(v) || (n = json_integer_value(v)) < lo || (n >= 0 && (uint64_t)n > hi)) {
            snprintf(err, errlen, "%s: an integer from %lld to %llu", fd->name, (long long)lo, (unsigned long long)hi);
            return -1;
        }
        if (fd->type == PROTOBUF_C_TYPE_INT32 || fd->type == PROTOBUF_C_TYPE_SINT32 ||
            fd->type == PROTOBUF_C_TYPE_SFIXED32)
            *(int32_t *)p = (int32_t)n;
        else if (fd->type == PROTOBUF_C_TYPE_UINT32 || fd->type == PROTOBUF_C_TYPE_FIXED32)
            *(uint32_t *)p = (uint32_t)n;
        else if (fd->type == PROTOBUF_C_TYPE_UINT64 || fd->type == PROTOBUF_C_TYPE_FIXED64)
            *(uint64_t *)p = (uint64_t)n;
        else
            *(int64_t *)p = (int64_t)n;
        return 0;
    case PROTOBUF_C_TYPE_FLOAT:
    case PROTOBUF_C_TYPE_DOUBLE:
        if (!json_is_number(v)) {
            snprintf(err, errlen, "%s: a number", fd->name);
            return -1;
        }
        if (fd->type == PROTOBUF_C_TYPE_FLOAT)
            *(float *)p = (float)json_number_value(v);
        else
            *(double *)p = json_number_value(v);
        return 0;
    case PROTOBUF_C_TYPE_BOOL:
        if (!json_is_boolean(v)) {
            snprintf(err, errlen, "%s: true or false", fd->name);
            return -1;
        }
        *(protobuf_c_boolean *)p = json_is_true(v);
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int e;
        if (enum_from(fd->descriptor, v, &e) < 0) {
            const ProtobufCEnumDescriptor *ed = fd->descriptor;
            char buf[64], words[400] = "";
            size_t o = 0;
            for (unsigned i = 0; i < ed->n_values && o + 70 < sizeof words; i++)
                o += (size_t)snprintf(words + o, sizeof words - o, "%s%s", i ? ", " : "",
                                      whistle_enum_word(ed, ed->values[i].value, buf, sizeof buf));
            snprintf(err, errlen, "%s: one of %s", fd->name, words);
            return -1;
        }
        *(int *)p = e;
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: {
        if (!json_is_string(v)) {
            snprintf(err, errlen, "%s: a string", fd->name);
            return -1;
        }
        /* a NUL inside is no string of the wire's (jansson keeps it) */
        if (strlen(json_string_value(v)) != json_string_length(v)) {
            snprintf(err, errlen, "%s: a string without NUL", fd->name);
            return -1;
        }
        /* the member held its default (a static empty string): replaced,
         * never freed */
        char *s = strdup(json_string_value(v));
        if (!s) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        *(char **)p = s;
        return 0;
    }
    case PROTOBUF_C_TYPE_BYTES: {
        const char *s = json_is_string(v) ? json_string_value(v) : NULL;
        size_t l = s ? strlen(s) : 1;
        ProtobufCBinaryData *b = p;
        if (l % 2) {
            snprintf(err, errlen, "%s: bytes as hex", fd->name);
            return -1;
        }
        uint8_t *d = malloc(l / 2 + 1);
        if (!d) {
            snprintf(err, errlen, "out of memory");
            return -1;
        }
        for (size_t i = 0; i < l / 2; i++) {
            int a = hexval(s[2 * i]), c = hexval(s[2 * i + 1]);
            if (a < 0 || c < 0) {
                free(d);
                snprintf(err, errlen, "%s: bytes as hex", fd->name);
                return -1;
            }
            d[i] = (uint8_t)(a * 16 + c);
        }
        b->data = d;
        b->len = l / 2;
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        ProtobufCMessage *sub = NULL;
        char inner[300];
        if (pbj_from_json(fd->descriptor, v, &sub, inner, sizeof inner) < 0) {
            snprintf(err, errlen, "%s.%s", fd->name, inner);
            return -1;
        }
        *(ProtobufCMessage **)p = sub;
        return 0;
    }
    }
    snprintf(err, errlen, "%s: not supported here", fd->name);
    return -1;
}

int pbj_from_json(const ProtobufCMessageDescriptor *d, json_t *j, ProtobufCMessage **out, char *err, size_t errlen)
{
    if (!json_is_object(j)) {
        snprintf(err, errlen, "%s: an object", d->short_name);
        return -1;
    }
    ProtobufCMessage *m = calloc(1, d->sizeof_message);
    if (!m) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    d->message_init(m);
    char *base = (char *)m;
    const char *key;
    json_t *v;
    json_object_foreach(j, key, v)
    {
        const ProtobufCFieldDescriptor *fd = protobuf_c_message_descriptor_get_field_by_name(d, key);
        if (!fd) {
            snprintf(err, errlen, "%s has no field %.64s", d->short_name, key);
            goto fail;
        }
        if (json_is_null(v))
            continue;
        void *member = base + fd->offset;
        if (fd->label == PROTOBUF_C_LABEL_REPEATED) {
            if (!json_is_array(v)) {
                snprintf(err, errlen, "%s: a list", fd->name);
                goto fail;
            }
            size_t n = json_array_size(v), es = elem_size(fd->type);
            char *arr = n ? calloc(n, es) : NULL;
            if (n && !arr) {
                snprintf(err, errlen, "out of memory");
                goto fail;
            }
            /* set before filling: a failure half-way frees what is there */
            *(void **)member = arr;
            size_t *count = (size_t *)(base + fd->quantifier_offset);
            for (size_t k = 0; k < n; k++) {
                if (set_value(fd, json_array_get(v, k), arr + k * es, err, errlen) < 0)
                    goto fail;
                *count = k + 1;
            }
            continue;
        }
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t *which = (uint32_t *)(base + fd->quantifier_offset);
            if (*which) {
                snprintf(err, errlen, "%s: only one of its group may be set", fd->name);
                goto fail;
            }
        }
        /* set_value leaves the member as it was when it fails, so the
         * message's free sees only what was allocated */
        if (set_value(fd, v, member, err, errlen) < 0)
            goto fail;
        if (fd->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
            *(uint32_t *)(base + fd->quantifier_offset) = fd->id;
        else if (fd->label == PROTOBUF_C_LABEL_OPTIONAL && fd->type != PROTOBUF_C_TYPE_STRING &&
                 fd->type != PROTOBUF_C_TYPE_MESSAGE)
            *(protobuf_c_boolean *)(base + fd->quantifier_offset) = 1;
    }
    *out = m;
    return 0;
fail:
    protobuf_c_message_free_unpacked(m, NULL);
    return -1;
}
