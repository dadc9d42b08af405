/* doc.h: one document, written once, in the format the client asked for:
 * GeoReport v2 XML (libxml2's xmlTextWriter) or JSON (jansson). The
 * Open311 code says what a document holds; this says how it is spelled.
 *
 * The standard's shapes map as follows: a list is an XML element holding
 * one element per item (<services><service>...) and a JSON array; an
 * object is an XML element holding one element per field and a JSON
 * object; a field is an element with text and a member. A NULL string is
 * an empty element in XML and null in JSON.
 *
 * Calls must nest properly (every begin has its end); doc_finish returns
 * the text. Strings must be UTF-8 (the gateway checks input and whistled
 * keeps only UTF-8). */
#ifndef GATEWAY_DOC_H
#define GATEWAY_DOC_H

#include <stdbool.h>
#include <stddef.h>

typedef enum { DOC_XML, DOC_JSON } doc_format;

typedef struct doc doc;

doc *doc_new(doc_format f);
void doc_free(doc *d);
doc_format doc_fmt(const doc *d);
/* A list named name (an element, or the member of the object it is in,
 * or the top-level array) whose items are XML elements named item. */
void doc_list_begin(doc *d, const char *name, const char *item);
void doc_list_end(doc *d);
/* An object: in a list, one of its items; in an object, its member name;
 * at the top, the document (name is then the XML root element). */
void doc_obj_begin(doc *d, const char *name);
void doc_obj_end(doc *d);
void doc_str(doc *d, const char *key, const char *val);
void doc_int(doc *d, const char *key, long long v);
void doc_real(doc *d, const char *key, double v); /* 6 decimals: about 0.1 m */
void doc_bool(doc *d, const char *key, bool v);
/* A string item of the list being written. */
void doc_item(doc *d, const char *val);
/* The whole document, malloc'd, NUL-terminated, ending with a newline. Returns 0, or -1 (no
 * memory). */
int doc_finish(doc *d, char **out, size_t *len);

#endif
