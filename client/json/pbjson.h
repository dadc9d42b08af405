/* pbjson.h: protocol messages as JSON objects and back, walking
 * protobuf-c's descriptors, so that the CLI's --json and the web console's
 * API follow the proto without a hand-written mapping per message (a field
 * added to the proto is there by itself).
 *
 * Conventions: field names as in the proto;
 * enums as lower-case words (whistle/names.h: "checked_in"), integers
 * also accepted on input; bytes as lower-case hex; unset messages are
 * null; of a oneof only the member that is set appears. */
#ifndef WHISTLE_PBJSON_H
#define WHISTLE_PBJSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* m as a new JSON object (never NULL unless out of memory). */
json_t *pbj_to_json(const ProtobufCMessage *m);

/* Called after each singular field fd has been set in obj, at every depth,
 * with the field's storage: for keys a caller adds beside a field (the
 * CLI's ISO-8601 twin of every *_ms). */
typedef void (*pbj_field_hook)(json_t *obj, const ProtobufCFieldDescriptor *fd, const void *member);

/* pbj_to_json, calling hook (NULL: none) for every singular field. */
json_t *pbj_to_json_with(const ProtobufCMessage *m, pbj_field_hook hook);

/* A new message of type d from the JSON object j. Every key must name a
 * field of d (an unknown one is an error: a typo must not be dropped
 * silently), every value must fit its field. Returns 0 with *out (free it
 * with protobuf_c_message_free_unpacked(*out, NULL)), or -1 with err
 * naming the field and what it takes, and nothing allocated. */
int pbj_from_json(const ProtobufCMessageDescriptor *d, json_t *j, ProtobufCMessage **out, char *err, size_t errlen);

#endif
