/* attributes.c: see attributes.h. */
#include "attributes.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T(x) WHISTLE__V1__ATTRIBUTE_TYPE__ATTRIBUTE_TYPE_##x
#define TEXT_MAX 1000      /* a question, a value's name */
#define STRING_MAX 200     /* an answer of type string */
#define LONG_TEXT_MAX 2000 /* an answer of type text */

static const char *const type_names[] = { "string", "string",          "number",        "datetime",
                                          "text",   "singlevaluelist", "multivaluelist" };

const char *attributes_type_name(Whistle__V1__AttributeType t)
{
    return (size_t)t < sizeof type_names / sizeof *type_names ? type_names[t] : "string";
}

static bool type_parse(const char *s, Whistle__V1__AttributeType *out)
{
    for (size_t i = 1; i < sizeof type_names / sizeof *type_names; i++)
        if (strcmp(s, type_names[i]) == 0) {
            *out = (Whistle__V1__AttributeType)i;
            return true;
        }
    return false;
}

static bool is_list(Whistle__V1__AttributeType t) { return t == T(SINGLEVALUELIST) || t == T(MULTIVALUELIST); }

/* Codes and keys: 1-64 of A-Z a-z 0-9 _ - . */
static bool key_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;
    if (!n || n > 64)
        return false;
    for (size_t i = 0; i < n; i++)
        if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' && s[i] != '.')
            return false;
    return true;
}

static bool text_ok(const char *s, size_t max)
{
    s = str0(s);
    size_t n = strlen(s);
    if (n > max || !utf8_valid(s, n))
        return false;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return false;
    return true;
}

const char *attributes_check(const Whistle__V1__Category *k, arena *a)
{
    if (k->n_attributes > ATTRIBUTES_MAX)
        return arena_printf(a, "%zu attributes; at most %d", k->n_attributes, ATTRIBUTES_MAX);
    for (size_t i = 0; i < k->n_attributes; i++) {
        const Whistle__V1__CategoryAttribute *at = k->attributes[i];
        if (!key_ok(at->code))
            return arena_printf(a, "attribute %zu: code \"%.64s\" is 1-64 of A-Z a-z 0-9 _ - .", i + 1, str0(at->code));
        for (size_t j = 0; j < i; j++)
            if (strcmp(k->attributes[j]->code, at->code) == 0)
                return arena_printf(a, "attribute \"%s\" is there twice", at->code);
        if (!*str0(at->description_zh))
            return arena_printf(a, "attribute \"%s\": description_zh (the question) is required", at->code);
        const char *texts[] = { at->description_zh, at->description_en, at->datatype_description_zh,
                                at->datatype_description_en };
        for (size_t t = 0; t < 4; t++)
            if (!text_ok(texts[t], TEXT_MAX))
                return arena_printf(a, "attribute \"%s\": a description is one line of at most %d bytes of UTF-8",
                                    at->code, TEXT_MAX);
        if (at->datatype < 0 || (size_t)at->datatype >= sizeof type_names / sizeof *type_names)
            return arena_printf(a,
                                "attribute \"%s\": datatype %d is not one of string, number, datetime, text, "
                                "singlevaluelist, multivaluelist",
                                at->code, at->datatype);
        if (at->informational && at->required)
            return arena_printf(a, "attribute \"%s\" is informational (never answered) and cannot be required",
                                at->code);
        if (is_list(at->datatype) && !at->n_values)
            return arena_printf(a, "attribute \"%s\": a %s has values to choose from", at->code,
                                attributes_type_name(at->datatype));
        if (!is_list(at->datatype) && at->n_values)
            return arena_printf(a, "attribute \"%s\": only a list has values (this is a %s)", at->code,
                                attributes_type_name(at->datatype));
        if (at->n_values > ATTRIBUTE_VALUES_MAX)
            return arena_printf(a, "attribute \"%s\": %zu values; at most %d", at->code, at->n_values,
                                ATTRIBUTE_VALUES_MAX);
        for (size_t v = 0; v < at->n_values; v++) {
            const Whistle__V1__AttributeValue *val = at->values[v];
            if (!key_ok(val->key))
                return arena_printf(a, "attribute \"%s\": value key \"%.64s\" is 1-64 of A-Z a-z 0-9 _ - .", at->code,
                                    str0(val->key));
            if (!*str0(val->name_zh) || !text_ok(val->name_zh, TEXT_MAX) || !text_ok(val->name_en, TEXT_MAX))
                return arena_printf(a, "attribute \"%s\": value \"%s\" needs name_zh, one line of at most %d bytes",
                                    at->code, val->key, TEXT_MAX);
            for (size_t w = 0; w < v; w++)
                if (strcmp(at->values[w]->key, val->key) == 0)
                    return arena_printf(a, "attribute \"%s\": value \"%s\" is there twice", at->code, val->key);
        }
    }
    return NULL;
}

/* ------------------------------------------------------------ JSON */

static const char *jstr(json_t *o, const char *key, arena *a, bool *bad)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return "";
    if (!json_is_string(v) || strlen(json_string_value(v)) != json_string_length(v)) {
        *bad = true;
        return "";
    }
    return arena_strdup(a, json_string_value(v));
}

int attributes_parse(const char *text, arena *a, Whistle__V1__CategoryAttribute ***out, size_t *n, const char **why)
{
    *out = NULL;
    *n = 0;
    if (!text || !*text)
        return 0;
    json_error_t je;
    json_t *arr = json_loads(text, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &je);
    if (!arr) {
        *why = arena_printf(a, "not JSON: %s", je.text);
        return -1;
    }
    if (!json_is_array(arr)) {
        json_decref(arr);
        *why = "attributes are a JSON array of objects (code, description_zh, datatype, required, values, ...)";
        return -1;
    }
    size_t cnt = json_array_size(arr);
    if (cnt > ATTRIBUTES_MAX) {
        json_decref(arr);
        *why = arena_printf(a, "%zu attributes; at most %d", cnt, ATTRIBUTES_MAX);
        return -1;
    }
    Whistle__V1__CategoryAttribute **v = arena_alloc(a, (cnt ? cnt : 1) * sizeof *v);
    size_t i;
    json_t *o;
    json_array_foreach(arr, i, o)
    {
        bool bad = !json_is_object(o);
        Whistle__V1__CategoryAttribute *at = arena_alloc(a, sizeof *at);
        whistle__v1__category_attribute__init(at);
        if (!bad) {
            at->code = (char *)jstr(o, "code", a, &bad);
            at->description_zh = (char *)jstr(o, "description_zh", a, &bad);
            at->description_en = (char *)jstr(o, "description_en", a, &bad);
            at->datatype_description_zh = (char *)jstr(o, "datatype_description_zh", a, &bad);
            at->datatype_description_en = (char *)jstr(o, "datatype_description_en", a, &bad);
            const char *dt = jstr(o, "datatype", a, &bad);
            if (*dt && !type_parse(dt, &at->datatype)) {
                json_decref(arr);
                *why = arena_printf(a,
                                    "attribute %zu: datatype \"%.40s\" is not one of string, number, datetime, text, "
                                    "singlevaluelist, multivaluelist",
                                    i + 1, dt);
                return -1;
            }
            json_t *req = json_object_get(o, "required"), *inf = json_object_get(o, "informational"),
                   *ord = json_object_get(o, "order"), *vals = json_object_get(o, "values");
            if (req && !json_is_boolean(req))
                bad = true;
            at->required = json_is_true(req);
            if (inf && !json_is_boolean(inf))
                bad = true;
            at->informational = json_is_true(inf);
            if (ord && (!json_is_integer(ord) || json_integer_value(ord) < 0 || json_integer_value(ord) > 100000))
                bad = true;
            at->order = ord ? (uint32_t)json_integer_value(ord) : 0;
            if (vals && !json_is_array(vals))
                bad = true;
            size_t nv = vals && json_is_array(vals) ? json_array_size(vals) : 0;
            if (nv > ATTRIBUTE_VALUES_MAX)
                nv = ATTRIBUTE_VALUES_MAX + 1; /* refused by attributes_check */
            at->values = arena_alloc(a, (nv ? nv : 1) * sizeof *at->values);
            for (size_t j = 0; j < nv && !bad; j++) {
                json_t *vo = json_array_get(vals, j);
                Whistle__V1__AttributeValue *val = arena_alloc(a, sizeof *val);
                whistle__v1__attribute_value__init(val);
                if (!json_is_object(vo)) {
                    bad = true;
                    break;
                }
                val->key = (char *)jstr(vo, "key", a, &bad);
                val->name_zh = (char *)jstr(vo, "name_zh", a, &bad);
                val->name_en = (char *)jstr(vo, "name_en", a, &bad);
                at->values[at->n_values++] = val;
            }
        }
        if (bad) {
            json_decref(arr);
            *why = arena_printf(a,
                                "attribute %zu: an object with code, description_zh, description_en (strings), "
                                "datatype, required and informational (true/false), order (a whole number), values "
                                "(an array of {key, name_zh, name_en})",
                                i + 1);
            return -1;
        }
        v[i] = at;
    }
    json_decref(arr);
    Whistle__V1__Category k = WHISTLE__V1__CATEGORY__INIT;
    k.attributes = v;
    k.n_attributes = cnt;
    const char *w = attributes_check(&k, a);
    if (w) {
        *why = w;
        return -1;
    }
    *out = v;
    *n = cnt;
    return 0;
}

static void set_text(json_t *o, const char *key, const char *v)
{
    if (v && *v)
        json_object_set_new(o, key, json_string(v));
}

json_t *attributes_json(const Whistle__V1__Category *k)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < k->n_attributes; i++) {
        const Whistle__V1__CategoryAttribute *at = k->attributes[i];
        json_t *o = json_object();
        json_object_set_new(o, "code", json_string(str0(at->code)));
        set_text(o, "description_zh", at->description_zh);
        set_text(o, "description_en", at->description_en);
        json_object_set_new(o, "datatype", json_string(attributes_type_name(at->datatype)));
        if (at->required)
            json_object_set_new(o, "required", json_true());
        if (at->informational)
            json_object_set_new(o, "informational", json_true());
        if (at->order)
            json_object_set_new(o, "order", json_integer(at->order));
        set_text(o, "datatype_description_zh", at->datatype_description_zh);
        set_text(o, "datatype_description_en", at->datatype_description_en);
        if (at->n_values) {
            json_t *vals = json_array();
            for (size_t j = 0; j < at->n_values; j++) {
                json_t *vo = json_object();
                json_object_set_new(vo, "key", json_string(str0(at->values[j]->key)));
                set_text(vo, "name_zh", at->values[j]->name_zh);
                set_text(vo, "name_en", at->values[j]->name_en);
                json_array_append_new(vals, vo);
            }
            json_object_set_new(o, "values", vals);
        }
        json_array_append_new(arr, o);
    }
    return arr;
}

/* ------------------------------------------------------------ answers */

static bool number_ok(const char *s)
{
    if (!*s || strlen(s) > 64)
        return false;
    char *end;
    errno = 0;
    double d = strtod(s, &end);
    return *end == 0 && errno == 0 && isfinite(d) && !isspace((unsigned char)*s);
}

static bool digits_at(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return true;
}

/* ISO 8601 as Open311 uses it: YYYY-MM-DDThh:mm[:ss[.fff]] and a zone (Z
 * or +hh:mm / -hh:mm), with plausible fields. */
static bool datetime_ok(const char *s)
{
    size_t n = strlen(s);
    if (n < 17 || n > 40 || !digits_at(s, 4) || s[4] != '-' || !digits_at(s + 5, 2) || s[7] != '-' ||
        !digits_at(s + 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits_at(s + 11, 2) ||
        s[13] != ':' || !digits_at(s + 14, 2))
        return false;
    int mo = atoi(s + 5), d = atoi(s + 8), h = atoi(s + 11), mi = atoi(s + 14);
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59)
        return false;
    const char *p = s + 16;
    if (*p == ':') {
        if (!digits_at(p + 1, 2) || atoi(p + 1) > 60)
            return false;
        p += 3;
        if (*p == '.' || *p == ',') {
            p++;
            if (!isdigit((unsigned char)*p))
                return false;
            while (isdigit((unsigned char)*p))
                p++;
        }
    }
    if (*p == 'Z' || *p == 'z')
        return p[1] == 0;
    if ((*p == '+' || *p == '-') && digits_at(p + 1, 2) && atoi(p + 1) <= 14) {
        if (p[3] == ':' && digits_at(p + 4, 2) && p[6] == 0)
            return atoi(p + 4) < 60;
        if (digits_at(p + 3, 2) && p[5] == 0)
            return atoi(p + 3) < 60;
        return p[3] == 0;
    }
    return false;
}

static bool has_key(const Whistle__V1__CategoryAttribute *at, const char *key)
{
    for (size_t i = 0; i < at->n_values; i++)
        if (strcmp(at->values[i]->key, key) == 0)
            return true;
    return false;
}

static const char *keys_of(arena *a, const Whistle__V1__CategoryAttribute *at)
{
    const char *s = "";
    for (size_t i = 0; i < at->n_values && i < 20; i++)
        s = arena_printf(a, "%s%s%s", s, i ? ", " : "", at->values[i]->key);
    return at->n_values > 20 ? arena_printf(a, "%s, ...", s) : s;
}

int attributes_answers_check(call *c, const Whistle__V1__Category *k, Whistle__V1__AttributeAnswer *const *in, size_t n,
                             bool enforce_required, Whistle__V1__AttributeAnswer ***out, size_t *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (n > ATTRIBUTES_MAX)
        return call_fail(c, CODE(INVALID_ARGUMENT), "%zu attribute answers; a category asks at most %d", n,
                         ATTRIBUTES_MAX);
    const Whistle__V1__CategoryAttribute **which = arena_alloc(c->a, (n ? n : 1) * sizeof *which);
    for (size_t i = 0; i < n; i++) {
        const char *code = str0(in[i]->code);
        const Whistle__V1__CategoryAttribute *at = NULL;
        for (size_t j = 0; j < k->n_attributes && !at; j++)
            if (strcmp(k->attributes[j]->code, code) == 0)
                at = k->attributes[j];
        if (!at)
            return call_fail(c, CODE(INVALID_ARGUMENT), "category %s has no attribute \"%.64s\"", k->code, code);
        if (at->informational)
            return call_fail(c, CODE(INVALID_ARGUMENT),
                             "attribute \"%s\" of category %s is informational: it is not "
                             "answered",
                             code, k->code);
        for (size_t j = 0; j < i; j++)
            if (which[j] == at)
                return call_fail(c, CODE(INVALID_ARGUMENT), "attribute \"%s\" is answered twice", code);
        which[i] = at;
        size_t nv = in[i]->n_values;
        if (nv > ATTRIBUTE_VALUES_MAX)
            return call_fail(c, CODE(INVALID_ARGUMENT), "attribute \"%s\": %zu values; at most %d", code, nv,
                             ATTRIBUTE_VALUES_MAX);
        if (nv > 1 && at->datatype != T(MULTIVALUELIST))
            return call_fail(c, CODE(INVALID_ARGUMENT), "attribute \"%s\" takes one value (it is a %s), not %zu", code,
                             attributes_type_name(at->datatype), nv);
        for (size_t v = 0; v < nv; v++) {
            const char *val = str0(in[i]->values[v]);
            bool ok;
            switch (at->datatype) {
            case T(NUMBER): ok = number_ok(val); break;
            case T(DATETIME): ok = datetime_ok(val); break;
            case T(TEXT): ok = *val && strlen(val) <= LONG_TEXT_MAX && utf8_valid(val, strlen(val)); break;
            case T(SINGLEVALUELIST):
            case T(MULTIVALUELIST): ok = has_key(at, val); break;
            default: ok = *val && text_ok(val, STRING_MAX); break;
            }
            if (!ok && is_list(at->datatype))
                return call_fail(c, CODE(INVALID_ARGUMENT), "attribute \"%s\": \"%.64s\" is not one of %s", code, val,
                                 keys_of(c->a, at));
            if (!ok)
                return call_fail(c, CODE(INVALID_ARGUMENT), "attribute \"%s\": \"%.64s\" is not a %s%s", code, val,
                                 attributes_type_name(at->datatype),
                                 at->datatype == T(DATETIME) ? " (ISO 8601 with a zone: 2026-12-03T09:30:00+08:00)"
                                 : at->datatype == T(NUMBER) ? " (a decimal number)"
                                 : at->datatype == T(TEXT)   ? " (at most 2000 bytes)"
                                                             : " (one line of at most 200 bytes)");
            for (size_t w = 0; w < v; w++)
                if (strcmp(str0(in[i]->values[w]), val) == 0)
                    return call_fail(c, CODE(INVALID_ARGUMENT), "attribute \"%s\": \"%s\" is chosen twice", code, val);
        }
    }
    /* what is required must be there, with a value */
    for (size_t j = 0; j < k->n_attributes; j++) {
        const Whistle__V1__CategoryAttribute *at = k->attributes[j];
        if (!at->required || !enforce_required)
            continue;
        bool given = false;
        for (size_t i = 0; i < n && !given; i++)
            given = which[i] == at && in[i]->n_values > 0;
        if (!given)
            return call_fail(c, CODE(INVALID_ARGUMENT), "attribute \"%s\" is required for category %s (%s)", at->code,
                             k->code, at->description_zh);
    }
    /* kept in the category's order; an answer with no value is no answer */
    Whistle__V1__AttributeAnswer **keep = arena_alloc(c->a, (n ? n : 1) * sizeof *keep);
    size_t m = 0;
    for (size_t j = 0; j < k->n_attributes; j++)
        for (size_t i = 0; i < n; i++)
            if (which[i] == k->attributes[j] && in[i]->n_values) {
                Whistle__V1__AttributeAnswer *ans = arena_alloc(c->a, sizeof *ans);
                whistle__v1__attribute_answer__init(ans);
                ans->code = (char *)k->attributes[j]->code;
                ans->values = in[i]->values;
                ans->n_values = in[i]->n_values;
                keep[m++] = ans;
            }
    *out = keep;
    *n_out = m;
    return 0;
}
