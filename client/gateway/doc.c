/* doc.c: see doc.h. */
#include "doc.h"

#include <jansson.h>
#include <libxml/xmlwriter.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DOC_DEPTH 16

struct doc {
    doc_format f;
    int depth;
    bool failed;
    /* JSON: the containers being filled */
    json_t *root;
    json_t *stack[DOC_DEPTH];
    /* XML: the writer and, per level, the item name of a list */
    xmlBufferPtr buf;
    xmlTextWriterPtr w;
    const char *item[DOC_DEPTH];
};

doc *doc_new(doc_format f)
{
    doc *d = calloc(1, sizeof *d);
    if (!d)
        return NULL;
    d->f = f;
    if (f == DOC_XML) {
        d->buf = xmlBufferCreate();
        d->w = d->buf ? xmlNewTextWriterMemory(d->buf, 0) : NULL;
        if (!d->w || xmlTextWriterStartDocument(d->w, NULL, "utf-8", NULL) < 0) {
            doc_free(d);
            return NULL;
        }
    }
    return d;
}

void doc_free(doc *d)
{
    if (!d)
        return;
    if (d->w)
        xmlFreeTextWriter(d->w);
    if (d->buf)
        xmlBufferFree(d->buf);
    json_decref(d->root);
    free(d);
}

doc_format doc_fmt(const doc *d) { return d->f; }

/* JSON: puts v (a new reference, stolen) where the writer is: the root,
 * the end of the array, or the member key of the object. */
static void json_put(doc *d, const char *key, json_t *v)
{
    if (!v) {
        d->failed = true;
        return;
    }
    if (d->depth == 0) {
        json_decref(d->root);
        d->root = v;
        return;
    }
    json_t *top = d->stack[d->depth - 1];
    if (json_is_array(top)) {
        if (json_array_append_new(top, v))
            d->failed = true;
    } else if (json_object_set_new(top, key ? key : "", v)) {
        d->failed = true;
    }
}

static void json_push(doc *d, const char *key, json_t *v)
{
    if (!v || d->depth >= DOC_DEPTH) {
        json_decref(v);
        d->failed = true;
        return;
    }
    json_incref(v);
    json_put(d, key, v);
    d->stack[d->depth++] = v;
    json_decref(v);
}

static const char *xml_name(doc *d, const char *name)
{
    if (name)
        return name;
    return d->depth > 0 && d->item[d->depth - 1] ? d->item[d->depth - 1] : "item";
}

static void xml_start(doc *d, const char *name, const char *item)
{
    if (d->depth >= DOC_DEPTH || xmlTextWriterStartElement(d->w, BAD_CAST name) < 0) {
        d->failed = true;
        return;
    }
    d->item[d->depth++] = item;
}

static void xml_end(doc *d)
{
    if (d->depth == 0 || xmlTextWriterEndElement(d->w) < 0)
        d->failed = true;
    else
        d->depth--;
}

void doc_list_begin(doc *d, const char *name, const char *item)
{
    if (d->f == DOC_JSON)
        json_push(d, name, json_array());
    else
        xml_start(d, xml_name(d, name), item);
}

void doc_list_end(doc *d)
{
    if (d->f == DOC_JSON) {
        if (d->depth > 0)
            d->depth--;
    } else {
        xml_end(d);
    }
}

void doc_obj_begin(doc *d, const char *name)
{
    if (d->f == DOC_JSON)
        json_push(d, name, json_object());
    else
        xml_start(d, xml_name(d, name), NULL);
}

void doc_obj_end(doc *d) { doc_list_end(d); }

static void xml_field(doc *d, const char *key, const char *text)
{
    if (xmlTextWriterStartElement(d->w, BAD_CAST key) < 0 ||
        (text && xmlTextWriterWriteString(d->w, BAD_CAST text) < 0) || xmlTextWriterEndElement(d->w) < 0)
        d->failed = true;
}

void doc_str(doc *d, const char *key, const char *val)
{
    if (d->f == DOC_JSON)
        json_put(d, key, val ? json_string(val) : json_null());
    else
        xml_field(d, key, val);
}

void doc_int(doc *d, const char *key, long long v)
{
    if (d->f == DOC_JSON) {
        json_put(d, key, json_integer(v));
    } else {
        char b[32];
        snprintf(b, sizeof b, "%lld", v);
        xml_field(d, key, b);
    }
}

void doc_real(doc *d, const char *key, double v)
{
    char b[48];
    snprintf(b, sizeof b, "%.6f", v);
    if (d->f == DOC_JSON)
        json_put(d, key, json_real(strtod(b, NULL)));
    else
        xml_field(d, key, b);
}

void doc_bool(doc *d, const char *key, bool v)
{
    if (d->f == DOC_JSON)
        json_put(d, key, json_boolean(v));
    else
        xml_field(d, key, v ? "true" : "false");
}

void doc_item(doc *d, const char *val)
{
    if (d->f == DOC_JSON)
        json_put(d, NULL, json_string(val ? val : ""));
    else
        xml_field(d, xml_name(d, NULL), val);
}

int doc_finish(doc *d, char **out, size_t *len)
{
    *out = NULL;
    *len = 0;
    if (d->failed || d->depth != 0)
        return -1;
    if (d->f == DOC_JSON) {
        char *s = json_dumps(d->root ? d->root : json_null(), JSON_COMPACT | JSON_ENCODE_ANY | JSON_REAL_PRECISION(10));
        if (!s)
            return -1;
        /* a line, as the XML writer ends its document with one */
        size_t n = strlen(s);
        char *t = realloc(s, n + 2);
        if (!t) {
            free(s);
            return -1;
        }
        t[n] = '\n';
        t[n + 1] = 0;
        *out = t;
        *len = n + 1;
        return 0;
    }
    if (xmlTextWriterEndDocument(d->w) < 0)
        return -1;
    xmlFreeTextWriter(d->w);
    d->w = NULL;
    size_t n = (size_t)xmlBufferLength(d->buf);
    char *s = malloc(n + 1);
    if (!s)
        return -1;
    memcpy(s, xmlBufferContent(d->buf), n);
    s[n] = 0;
    *out = s;
    *len = n;
    return 0;
}
