/* json.c: any protocol message as a JSON object, by the descriptor walk
 * the web console's API uses too (client/json/pbjson.h), so that --json
 * follows the proto without a hand-written printer per message.
 *
 * Conventions: those of pbjson.h, and every int64 field named *_ms also
 * appears without the suffix as an ISO-8601 UTC string (null when 0). */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "pbjson.h"

static void iso_twin(json_t *obj, const ProtobufCFieldDescriptor *fd, const void *member)
{
    size_t nl = strlen(fd->name);
    if (fd->type == PROTOBUF_C_TYPE_INT64 && nl > 3 && strcmp(fd->name + nl - 3, "_ms") == 0) {
        char key[64], iso[40];
        int64_t ms = *(const int64_t *)member;
        snprintf(key, sizeof key, "%.*s", (int)(nl - 3), fd->name);
        json_object_set_new(obj, key, ms ? json_string(cli_iso_time(ms, iso, sizeof iso)) : json_null());
    }
}

json_t *cli_json_message(const ProtobufCMessage *m) { return pbj_to_json_with(m, iso_twin); }

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
