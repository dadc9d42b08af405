/* photo_fixtures.c: see photo_fixtures.h. */
#include "photo_fixtures.h"
#include "photo_exif.h"

#include <criterion/criterion.h>
#include <libexif/exif-data.h>
#include <math.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <vips/vips.h>

pf_bytes pf_image(bool png, int w, int h, bool gps)
{
    static bool started;
    if (!started) {
        cr_assert_eq(VIPS_INIT("integration"), 0);
        started = true;
    }
    VipsImage *noise, *img, *ucharimg;
    cr_assert_eq(vips_gaussnoise(&noise, w, h, "sigma", 40.0, "mean", 128.0, NULL), 0);
    VipsImage *bands[3] = { noise, noise, noise };
    cr_assert_eq(vips_bandjoin(bands, &img, 3, NULL), 0);
    cr_assert_eq(vips_cast(img, &ucharimg, VIPS_FORMAT_UCHAR, NULL), 0);
    VipsImage *out;
    cr_assert_eq(vips_copy(ucharimg, &out, "interpretation", VIPS_INTERPRETATION_sRGB, NULL), 0);
    ExifData *ed = exif_data_new();
    exif_data_unset_option(ed, EXIF_DATA_OPTION_FOLLOW_SPECIFICATION);
    exif_data_set_byte_order(ed, EXIF_BYTE_ORDER_MOTOROLA);
    pe_ascii(ed, EXIF_IFD_0, EXIF_TAG_MAKE, "WhistleCam");
    pe_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_BODY_SERIAL_NUMBER, "SN-0042-7731");
    pe_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_DATE_TIME_ORIGINAL, "2026:12:01 09:30:00");
    pe_ascii(ed, EXIF_IFD_EXIF, EXIF_TAG_OFFSET_TIME_ORIGINAL, "+08:00");
    if (gps) {
        pe_ascii(ed, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LATITUDE_REF, "N");
        pe_dms(ed, (ExifTag)EXIF_TAG_GPS_LATITUDE, 39.9042);
        pe_ascii(ed, EXIF_IFD_GPS, (ExifTag)EXIF_TAG_GPS_LONGITUDE_REF, "E");
        pe_dms(ed, (ExifTag)EXIF_TAG_GPS_LONGITUDE, 116.4074);
    }
    unsigned char *eb = NULL;
    unsigned int el = 0;
    exif_data_save_data(ed, &eb, &el);
    exif_data_unref(ed);
    cr_assert(eb && el > 6);
    vips_image_set_blob_copy(out, VIPS_META_EXIF_NAME, eb, el);
    free(eb);
    void *buf;
    size_t len;
    int rc = png ? vips_pngsave_buffer(out, &buf, &len, NULL) : vips_jpegsave_buffer(out, &buf, &len, "Q", 90, NULL);
    cr_assert_eq(rc, 0, "%s", vips_error_buffer());
    g_object_unref(noise);
    g_object_unref(img);
    g_object_unref(ucharimg);
    g_object_unref(out);
    pf_bytes b = { malloc(len), len };
    memcpy(b.p, buf, len);
    g_free(buf);
    return b;
}

void pf_free(pf_bytes *b)
{
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

void pf_sha256_hex(const void *p, size_t n, char hex[65])
{
    uint8_t h[32];
    unsigned hl = 0;
    EVP_Digest(p, n, h, &hl, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        sprintf(hex + 2 * i, "%02x", h[i]);
}

int pf_upload_from(whistle_client *c, const pf_bytes *b, size_t chunk, uint64_t from, char hex[65], char *msg,
                   size_t msglen)
{
    pf_sha256_hex(b->p, b->n, hex);
    uint64_t off = from;
    for (int guard = 0; guard < 100000; guard++) {
        Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
        put.sha256 = hex;
        put.size = b->n;
        put.offset = off;
        size_t n = b->n - off < chunk ? b->n - off : chunk;
        put.data.data = b->p + off;
        put.data.len = n;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_PHOTO_PUT;
        req.photo_put = &put;
        Whistle__V1__Response *resp = NULL;
        cr_assert_eq(whistle_call(c, &req, &resp), 0, "transport: %s", whistle_last_error(c));
        int code = whistle_response_code(resp);
        if (msg)
            snprintf(msg, msglen, "%s", whistle_response_message(resp));
        if (code) {
            whistle_response_free(resp);
            return code;
        }
        cr_assert_eq(resp->result_case, WHISTLE__V1__RESPONSE__RESULT_PHOTO_UPLOAD);
        bool done = resp->photo_upload->complete;
        off = resp->photo_upload->received;
        whistle_response_free(resp);
        if (done)
            return 0;
    }
    cr_assert_fail("the upload never completed");
    return -1;
}

void pf_upload(whistle_client *c, const pf_bytes *b, char hex[65])
{
    char msg[512];
    int code = pf_upload_from(c, b, 200 * 1024, 0, hex, msg, sizeof msg);
    cr_assert_eq(code, 0, "the upload was refused: %d %s", code, msg);
}

int pf_get_photo(whistle_client *c, uint64_t id, bool thumb, uint32_t limit, const char *ticket, const char *digits,
                 pf_bytes *out, char *msg, size_t msglen)
{
    out->p = NULL;
    out->n = 0;
    uint64_t off = 0;
    for (;;) {
        Whistle__V1__GetPhoto g = WHISTLE__V1__GET_PHOTO__INIT;
        g.attachment_id = id;
        g.variant = thumb ? WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_THUMBNAIL
                          : WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_ORIGINAL;
        g.offset = off;
        g.limit = limit;
        g.ticket = (char *)ticket;
        g.phone_last4 = (char *)digits;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_GET_PHOTO;
        req.get_photo = &g;
        Whistle__V1__Response *resp = NULL;
        cr_assert_eq(whistle_call(c, &req, &resp), 0, "transport: %s", whistle_last_error(c));
        int code = whistle_response_code(resp);
        if (msg)
            snprintf(msg, msglen, "%s", whistle_response_message(resp));
        if (code) {
            whistle_response_free(resp);
            free(out->p);
            out->p = NULL;
            out->n = 0;
            return code;
        }
        const Whistle__V1__PhotoChunk *ch = resp->photo_chunk;
        cr_assert_not_null(ch);
        cr_assert_eq(ch->offset, off);
        out->p = realloc(out->p, off + ch->data.len + 1);
        memcpy(out->p + off, ch->data.data, ch->data.len);
        off += ch->data.len;
        out->n = off;
        bool eof = ch->eof;
        size_t got_len = ch->data.len;
        if (eof) {
            char got[65];
            pf_sha256_hex(out->p, out->n, got);
            cr_assert_str_eq(got, ch->sha256, "the bytes read back do not hash to what the daemon announced");
            cr_assert_eq(out->n, ch->size);
        }
        whistle_response_free(resp);
        if (eof)
            return 0;
        cr_assert(got_len > 0, "an empty chunk before the end");
    }
}
