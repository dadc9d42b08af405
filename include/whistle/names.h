/* whistle/names.h: the wire's enums as lower-case words, and back.
 *
 * These are the words the CLI prints and parses and that --json emits:
 * the proto value name without its enum prefix, lower-cased
 * (EVENT_STATE_CHECKED_IN -> "checked_in"). Value 0 is "unspecified";
 * a value this build does not know is "unknown". Parsers accept any case
 * and '-' for '_', return 0 and set *out, or -1. */
#ifndef WHISTLE_NAMES_H
#define WHISTLE_NAMES_H

#include <stddef.h>

#include "whistle/v1/whistle.pb-c.h"

#ifdef __cplusplus
extern "C" {
#endif

const char *whistle_state_name(Whistle__V1__EventState s);
int whistle_state_parse(const char *s, Whistle__V1__EventState *out);

const char *whistle_order_state_name(Whistle__V1__OrderState s);
int whistle_order_state_parse(const char *s, Whistle__V1__OrderState *out);

const char *whistle_role_name(Whistle__V1__Role r);
int whistle_role_parse(const char *s, Whistle__V1__Role *out);

const char *whistle_source_name(Whistle__V1__Source s);
int whistle_source_parse(const char *s, Whistle__V1__Source *out);

const char *whistle_priority_name(Whistle__V1__Priority p);
int whistle_priority_parse(const char *s, Whistle__V1__Priority *out);

const char *whistle_kind_name(Whistle__V1__WhistleKind k);
int whistle_kind_parse(const char *s, Whistle__V1__WhistleKind *out);

const char *whistle_node_kind_name(Whistle__V1__NodeKind k);
int whistle_node_kind_parse(const char *s, Whistle__V1__NodeKind *out);

/* Any enum of the protocol by its descriptor, the same way: writes the
 * word into buf and returns buf. Used for the generic JSON output. Status
 * codes keep their upper-case gRPC names. */
const char *whistle_enum_word(const ProtobufCEnumDescriptor *d, int value, char *buf, size_t buflen);

#ifdef __cplusplus
}
#endif
#endif
