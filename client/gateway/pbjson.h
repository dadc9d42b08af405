/* pbjson.h: protocol messages as JSON objects and back, walking
 * protobuf-c's descriptors, so that the web console's API follows the
 * proto without a hand-written mapping per call (a field added to the
 * proto is there by itself).
 *
 * Conventions (those of the CLI's --json): field names as in the proto;
 * enums as lower-case words (whistle/names.h: "checked_in"), integers
 * also accepted on input; bytes as lower-case hex; unset messages are
 * null; of a oneof only the member that is set appears. */
#ifndef GATEWAY_PBJSON_H
#define GATEWAY_PBJSON_H

#include <stddef.h>

#include <jansson.h>
#include <protobuf-c/protobuf-c.h>

/* m as a new JSON object (never NULL unless out of memory). */
json_t *pbj_to_json(const ProtobufCMessage *m);

/* A new message of type d from the JSON object j. Every key must name a
 * field of d (an unknown one is an error: a typo must not be dropped
 * silently), every value must fit its field. Returns 0 with *out (free it
 * with protobuf_c_message_free_unpacked(*out, NULL)), or -1 with err
 * naming the field and what it takes, and nothing allocated. */
int pbj_from_json(const ProtobufCMessageDescriptor *d, json_t *j, ProtobufCMessage **out, char *err, size_t errlen);

#endif
