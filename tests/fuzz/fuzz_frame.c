/* libFuzzer target: frame reassembly and Frame decoding + validation.
 *
 * The input is a byte stream as it would arrive from a socket; the first
 * byte picks how it is cut into reads, so that the framer sees frames split
 * at arbitrary places. Every whole frame is decoded as the router does and
 * its strings checked. Nothing may crash, leak or read out of bounds. */
#include <stddef.h>
#include <stdint.h>

#include "router.h"
#include "whistle/frame.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t step = (size_t)data[0] + 1;
    data++;
    size--;
    whistle_framer fr;
    whistle_framer_init(&fr, 65536);
    for (size_t off = 0; off < size; off += step) {
        size_t n = size - off < step ? size - off : step;
        if (whistle_framer_feed(&fr, data + off, n) != 0)
            break;
        for (;;) {
            const uint8_t *f;
            size_t len;
            int rc = whistle_framer_next(&fr, &f, &len);
            if (rc <= 0) {
                if (rc < 0)
                    goto done; /* broken framing closes the connection */
                break;
            }
            Whistle__V1__Frame *m = whistle__v1__frame__unpack(NULL, len, f);
            if (m) {
                (void)router_check_utf8(&m->base);
                whistle__v1__frame__free_unpacked(m, NULL);
            }
        }
    }
done:
    whistle_framer_free(&fr);
    return 0;
}
