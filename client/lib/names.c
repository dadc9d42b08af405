/* names.c: the protocol's enums as words (whistle/names.h).
 *
 * The tables are written out rather than derived from the protobuf-c
 * descriptors so that the names are stable C string constants; a unit test
 * checks that they agree with whistle_enum_word (the descriptor way). */
#include "whistle/names.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

typedef struct {
    int value;
    const char *name;
} name_entry;

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const name_entry event_states[] = {
    { 0, "unspecified" }, { 1, "reported" }, { 2, "filed" },    { 3, "rejected" }, { 4, "handling" },
    { 5, "whistled" },    { 6, "resolved" }, { 7, "verified" }, { 8, "closed" },
};
static const name_entry order_states[] = {
    { 0, "unspecified" }, { 1, "pending" }, { 2, "checked_in" }, { 3, "done" }, { 4, "returned" },
};
static const name_entry roles[] = {
    { 0, "unspecified" }, { 1, "admin" },      { 2, "operator" },        { 3, "department" }, { 4, "grid_worker" },
    { 5, "community" },   { 6, "kiosk" },      { 7, "integration" },     { 8, "sensor" },     { 9, "gateway" },
    { 10, "bridge" },     { 11, "volunteer" }, { 12, "representative" },
};
static const name_entry sources[] = {
    { 0, "unspecified" }, { 1, "kiosk" },  { 2, "patrol" },         { 3, "resident" },
    { 4, "hotline" },     { 5, "sensor" }, { 6, "emergency_call" },
};
static const name_entry priorities[] = {
    { 0, "unspecified" }, { 1, "low" }, { 2, "normal" }, { 3, "high" }, { 4, "urgent" },
};
static const name_entry kinds[] = {
    { 0, "unspecified" },
    { 1, "routine" },
    { 2, "tackle" },
    { 3, "emergency" },
};
static const name_entry node_kinds[] = {
    { 0, "unspecified" }, { 1, "district" }, { 2, "street" }, { 3, "community" }, { 4, "grid" }, { 5, "building" },
};

static const char *lookup(const name_entry *t, size_t n, int v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].value == v)
            return t[i].name;
    return "unknown";
}

/* Case-insensitive, '-' equal to '_': "Checked-In" parses as "checked_in". */
static int word_eq(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '-' ? '_' : (char)tolower((unsigned char)*a);
        char y = *b == '-' ? '_' : (char)tolower((unsigned char)*b);
        if (x != y)
            return 0;
    }
    return *a == *b;
}

/* "unspecified" is not accepted: a word on the command line names a real
 * value; leaving the option out is how to say "any". */
static int parse(const name_entry *t, size_t n, const char *s, int *out)
{
    if (!s)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (t[i].value != 0 && word_eq(s, t[i].name)) {
            *out = t[i].value;
            return 0;
        }
    }
    return -1;
}

#define NAME_FUNCS(fname, pname, type, table)                                                                          \
    const char *fname(type v) { return lookup(table, N(table), (int)v); }                                              \
    int pname(const char *s, type *out)                                                                                \
    {                                                                                                                  \
        int v;                                                                                                         \
        if (parse(table, N(table), s, &v) < 0)                                                                         \
            return -1;                                                                                                 \
        *out = (type)v;                                                                                                \
        return 0;                                                                                                      \
    }

NAME_FUNCS(whistle_state_name, whistle_state_parse, Whistle__V1__EventState, event_states)
NAME_FUNCS(whistle_order_state_name, whistle_order_state_parse, Whistle__V1__OrderState, order_states)
NAME_FUNCS(whistle_role_name, whistle_role_parse, Whistle__V1__Role, roles)
NAME_FUNCS(whistle_source_name, whistle_source_parse, Whistle__V1__Source, sources)
NAME_FUNCS(whistle_priority_name, whistle_priority_parse, Whistle__V1__Priority, priorities)
NAME_FUNCS(whistle_kind_name, whistle_kind_parse, Whistle__V1__WhistleKind, kinds)
NAME_FUNCS(whistle_node_kind_name, whistle_node_kind_parse, Whistle__V1__NodeKind, node_kinds)

/* EventState -> "EVENT_STATE_": the prefix proto style puts on values. */
static void upper_snake(const char *camel, char *out, size_t outlen)
{
    size_t o = 0;
    for (size_t i = 0; camel[i] && o + 2 < outlen; i++) {
        unsigned char ch = (unsigned char)camel[i];
        if (isupper(ch) && i > 0)
            out[o++] = '_';
        out[o++] = (char)toupper(ch);
    }
    if (o + 1 < outlen)
        out[o++] = '_';
    out[o] = '\0';
}

const char *whistle_enum_word(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t buflen)
{
    if (!buflen)
        return buf;
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, value);
    if (!ev) {
        snprintf(buf, buflen, "%s", "unknown");
        return buf;
    }
    if (d == &whistle__v1__status__code__descriptor) {
        snprintf(buf, buflen, "%s", ev->name);
        return buf;
    }
    char prefix[128];
    upper_snake(d->short_name, prefix, sizeof prefix);
    const char *name = ev->name;
    size_t pl = strlen(prefix);
    if (strncmp(name, prefix, pl) == 0)
        name += pl;
    size_t i = 0;
    for (; name[i] && i + 1 < buflen; i++)
        buf[i] = (char)tolower((unsigned char)name[i]);
    buf[i] = '\0';
    return buf;
}
