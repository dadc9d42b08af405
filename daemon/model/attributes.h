/* attributes.h: the extra questions a category asks at report (Open311
 * service definition attributes, docs/protocol.md section 12), and the
 * check of a report's answers against them.
 *
 * In the directory's files a category's attributes are a JSON array, one
 * object per attribute with the proto's field names:
 *   [{"code":"depth","description_zh":"积水深度","description_en":"Depth",
 *     "datatype":"singlevaluelist","required":true,"order":1,
 *     "values":[{"key":"ankle","name_zh":"没过脚踝","name_en":"Ankle deep"}]}]
 * (a CSV cell holds the same text). */
#ifndef WHISTLED_ATTRIBUTES_H
#define WHISTLED_ATTRIBUTES_H

#include <jansson.h>

#include "call.h"

#define ATTRIBUTES_MAX 32       /* per category */
#define ATTRIBUTE_VALUES_MAX 64 /* per list attribute */

/* The datatype's name as Open311 spells it ("singlevaluelist"); an
 * unspecified one is "string". */
const char *attributes_type_name(Whistle__V1__AttributeType t);

/* Checks a category's attributes (codes, texts, types, list values):
 * NULL when sound, else why (in a). */
const char *attributes_check(const Whistle__V1__Category *k, arena *a);

/* The attributes of a JSON array's text (the files' form), checked as
 * attributes_check does; 0, or -1 with why (in a). */
int attributes_parse(const char *text, arena *a, Whistle__V1__CategoryAttribute ***out, size_t *n, const char **why);

/* The files' form of a category's attributes (a new reference). */
json_t *attributes_json(const Whistle__V1__Category *k);

/* Checks a report's answers against its category: fails the call with
 * INVALID_ARGUMENT naming the attribute (a required one missing, an unknown
 * or repeated code, a value of the wrong type or not on the list). On
 * success returns 0 and *out the answers to keep with the case (in the
 * category's order, informational ones never). enforce_required false
 * (a one-key emergency call, which nobody may turn away) lets a required
 * attribute go unanswered; what is answered is checked all the same. */
int attributes_answers_check(call *c, const Whistle__V1__Category *k, Whistle__V1__AttributeAnswer *const *in, size_t n,
                             bool enforce_required, Whistle__V1__AttributeAnswer ***out, size_t *n_out);

#endif
