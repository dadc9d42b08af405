/* reply.c: see reply.h. */
#include "reply.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whistle/frame.h"

static int pack(const Whistle__V1__Response *resp, uint32_t max_frame, uint8_t **out, size_t *len)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_RESPONSE;
    f.response = (Whistle__V1__Response *)resp;
    return whistle_frame_pack(&f, max_frame, out, len);
}

int reply_pack(const Whistle__V1__Response *resp, uint32_t max_frame, uint8_t **out, size_t *len)
{
    int code = resp->status ? (int)resp->status->code : 0;
    if (pack(resp, max_frame, out, len) == 0)
        return code;
    const char *msg = resp->status ? resp->status->message : NULL;
    if (code != 0 && msg && strlen(msg) > max_frame / 2) {
        size_t keep = max_frame / 2;
        while (keep > 0 && msg[keep] != '\n')
            keep--;
        char *cut = malloc(keep + 80);
        if (cut) {
            memcpy(cut, msg, keep);
            snprintf(cut + keep, 80, "\n... (cut to fit the frame limit of %u bytes)", max_frame);
            Whistle__V1__Status st2 = *resp->status;
            st2.message = cut;
            Whistle__V1__Response r2 = WHISTLE__V1__RESPONSE__INIT;
            r2.id = resp->id;
            r2.status = &st2;
            int rc = pack(&r2, max_frame, out, len);
            free(cut);
            if (rc == 0)
                return code;
        }
    }
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    st.code = WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED;
    st.message = "the result is larger than the frame limit; ask for less (a smaller limit)";
    Whistle__V1__Response small = WHISTLE__V1__RESPONSE__INIT;
    small.id = resp->id;
    small.status = &st;
    if (pack(&small, max_frame, out, len) != 0)
        abort(); /* a bare status always fits: the limit is at least 1 KiB */
    return st.code;
}
