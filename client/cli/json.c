/* json.c: any protocol message as a JSON object, walking protobuf-c's
 * descriptors, so that --json follows the proto without a hand-written
 * printer per message (a field added to the proto shows up by itself).
 *
 * Conventions: field names as in the proto; enums as lower-case words
 * (names.h); every int64 field named *_ms also appears without the suffix as
 * an ISO-8601 UTC string (null when 0); unset messages are null; of a oneof
 * only the member that is set appears. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* jansson refuses invalid UTF-8; the server validates its strings, but a
 * printer must not drop a record for one bad byte. */
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
        if (ch < 0x80)
            clean[o++] = (char)ch;
        else {
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

static json_t *value(const ProtobufCFieldDescriptor *fd, const void *p)
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
        return m ? cli_json_message(m) : json_null();
    }
    }
    return json_null();
}

json_t *cli_json_message(const ProtobufCMessage *m)
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
                json_array_append_new(ja, value(fd, arr + k * elem_size(fd->type)));
            json_object_set_new(obj, fd->name, ja);
            continue;
        }
        json_object_set_new(obj, fd->name, value(fd, member));
        size_t nl = strlen(fd->name);
        if (fd->type == PROTOBUF_C_TYPE_INT64 && nl > 3 && strcmp(fd->name + nl - 3, "_ms") == 0) {
            char key[64], iso[40];
            int64_t ms = *(const int64_t *)member;
            snprintf(key, sizeof key, "%.*s", (int)(nl - 3), fd->name);
            json_object_set_new(obj, key, ms ? json_string(cli_iso_time(ms, iso, sizeof iso)) : json_null());
        }
    }
    return obj;
}

void cli_json_print(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    fflush(stdout);
    json_decref(j);
}
