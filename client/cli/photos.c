/* photos.c: photos from the command line (docs/photos.md): --photo FILE on
 * report, feedback and verify uploads each file before the call that
 * attaches it, and `whistle photo get` reads one back.
 *
 * An upload goes in chunks of at most what the server's Hello allows
 * (PhotoLimits.chunk_bytes). A connection that drops midway is opened
 * again and the upload goes on from where the server says it stopped
 * (PhotoUploadQuery), a few times before giving up; the file is named by
 * its SHA-256, so the server never mixes two files. */
#include <errno.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

/* Connections opened again for one upload before it gives up. */
#define UPLOAD_RETRIES 5

static void hex_of(const uint8_t *h, char out[65])
{
    static const char d[] = "0123456789abcdef";
    for (int i = 0; i < 32; i++) {
        out[2 * i] = d[h[i] >> 4];
        out[2 * i + 1] = d[h[i] & 15];
    }
    out[64] = 0;
}

/* The chunk size the server takes (its Hello), or a safe default. */
static size_t chunk_bytes(cli *x)
{
    const Whistle__V1__HelloResult *h = x->client ? whistle_hello(x->client) : NULL;
    if (h && h->photo_limits && h->photo_limits->chunk_bytes)
        return h->photo_limits->chunk_bytes;
    return 256 * 1024;
}

/* One call on the upload's connection: 0 with *resp (its status may be a
 * refusal), or -1 when the connection failed (it is then closed, to be
 * opened again). */
static int upload_call(cli *x, Whistle__V1__Request *req, Whistle__V1__Response **resp)
{
    *resp = NULL;
    if (cli_connect(x))
        return -1;
    if (x->act_as)
        req->act_as = (char *)x->act_as;
    if (whistle_call(x->client, req, resp) < 0) {
        whistle_close(x->client);
        x->client = NULL;
        return -1;
    }
    return 0;
}

int cli_photo_upload(cli *x, const char *path, char hex[65])
{
    uint8_t *data;
    size_t len;
    int r = cli_read_file(path, &data, &len);
    if (r)
        return r;
    if (len == 0) {
        free(data);
        return cli_usage_error(_("photo %s is empty"), path);
    }
    uint8_t h[32];
    unsigned hl = 0;
    EVP_Digest(data, len, h, &hl, EVP_sha256(), NULL);
    hex_of(h, hex);
    uint64_t off = 0;
    bool ask = true; /* first, and after a reconnection: where the server is */
    int tries = 0;
    for (;;) {
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        Whistle__V1__PhotoUploadQuery q = WHISTLE__V1__PHOTO_UPLOAD_QUERY__INIT;
        Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
        if (ask) {
            q.sha256 = hex;
            cli_request_set(&req, CALL(PHOTO_UPLOAD), &q);
        } else {
            size_t n = chunk_bytes(x);
            if (n > len - off)
                n = (size_t)(len - off);
            put.sha256 = hex;
            put.size = len;
            put.offset = off;
            put.data.data = data + off;
            put.data.len = n;
            cli_request_set(&req, CALL(PHOTO_PUT), &put);
        }
        Whistle__V1__Response *resp;
        if (upload_call(x, &req, &resp) < 0) {
            if (++tries > UPLOAD_RETRIES) {
                free(data);
                return cli_fail(EXIT_CONN,
                                _("photo %s: the connection failed %d times; run the command again to "
                                  "go on from where the upload stopped"),
                                path, tries);
            }
            fprintf(stderr, _("whistle: photo %s: connection lost at %llu of %zu bytes; going on\n"), path,
                    (unsigned long long)off, len);
            sleep(1);
            ask = true;
            continue;
        }
        int code = whistle_response_code(resp);
        const Whistle__V1__PhotoUploadStatus *st =
            (const Whistle__V1__PhotoUploadStatus *)cli_result(resp, RESULT(PHOTO_UPLOAD));
        if (code == WHISTLE__V1__STATUS__CODE__UNAVAILABLE && tries++ < UPLOAD_RETRIES) {
            whistle_response_free(resp);
            sleep(1);
            ask = true;
            continue;
        }
        if (code != WHISTLE__V1__STATUS__CODE__OK || !st) {
            char msg[600];
            snprintf(msg, sizeof msg, "%s: %s", path, whistle_response_message(resp));
            int rc = cli_refused(code, msg);
            (void)rc;
            whistle_response_free(resp);
            free(data);
            return EXIT_SERVER;
        }
        bool done = st->complete;
        /* a partial upload of another size is the server's to drop: start over */
        off = st->size && st->size != len ? 0 : st->received;
        whistle_response_free(resp);
        if (done)
            break;
        if (off > len)
            off = 0;
        ask = false;
    }
    free(data);
    return 0;
}

int cli_photos_for(cli *x, args *a, char ***photos, size_t *n)
{
    const char *joined = cli_opt(a, "photo");
    *n = 0;
    if (!joined)
        return 0;
    size_t k;
    char **files = cli_split(a, joined, ",", 64, &k);
    if (!files)
        return cli_fail(EXIT_USAGE, "%s", _("out of memory"));
    char **hashes = calloc(k ? k : 1, sizeof *hashes);
    if (!hashes)
        return cli_fail(EXIT_USAGE, "%s", _("out of memory"));
    cli_keep(a, hashes, free);
    for (size_t i = 0; i < k; i++) {
        char *hex = malloc(65);
        if (!hex)
            return cli_fail(EXIT_USAGE, "%s", _("out of memory"));
        cli_keep(a, hex, free);
        int r = cli_photo_upload(x, files[i], hex);
        if (r)
            return r;
        hashes[i] = hex;
    }
    *photos = hashes;
    *n = k;
    return 0;
}

/* photo get ID [--thumb] --out FILE: the photo's bytes, chunk by chunk,
 * into FILE.partial, renamed to FILE once whole and its hash checked. */
static int run_photo_get(cli *x, args *a)
{
    uint64_t id;
    if (cli_parse_u64(a->pos[0], UINT64_MAX, &id) < 0 || id == 0)
        return cli_usage_error(_("photo get: '%s' is not a photo id (a number, from whistle show)"), a->pos[0]);
    const char *out = cli_opt(a, "out");
    if (!out || !*out)
        return cli_usage_error("%s", _("photo get: --out FILE (or -o FILE) says where to write it"));
    if (access(out, F_OK) == 0)
        return cli_fail(EXIT_USAGE, _("%s exists: a photo never replaces a file"), out);
    char partial[4200];
    snprintf(partial, sizeof partial, "%s.partial", out);
    FILE *f = fopen(partial, "wb");
    if (!f)
        return cli_fail(EXIT_USAGE, _("%s: %s"), partial, strerror(errno));
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    uint64_t off = 0, size = 0;
    char want[65] = "";
    int rc = 0;
    for (;;) {
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        Whistle__V1__GetPhoto g = WHISTLE__V1__GET_PHOTO__INIT;
        g.attachment_id = id;
        g.variant = cli_flag(a, "thumb") ? WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_THUMBNAIL
                                         : WHISTLE__V1__PHOTO_VARIANT__PHOTO_VARIANT_ORIGINAL;
        g.offset = off;
        g.limit = x->client ? (uint32_t)chunk_bytes(x) : 0;
        g.ticket = (char *)cli_opt(a, "ticket");
        g.phone_last4 = (char *)cli_opt(a, "phone");
        cli_request_set(&req, CALL(GET_PHOTO), &g);
        Whistle__V1__Response *resp;
        if ((rc = cli_call(x, &req, &resp)))
            break;
        const Whistle__V1__PhotoChunk *ch = (const Whistle__V1__PhotoChunk *)cli_result(resp, RESULT(PHOTO_CHUNK));
        if (!ch || ch->offset != off) {
            whistle_response_free(resp);
            rc = cli_fail(EXIT_SERVER, "%s", _("the server answered something else than the photo's next chunk"));
            break;
        }
        if (ch->data.len && fwrite(ch->data.data, 1, ch->data.len, f) != ch->data.len) {
            whistle_response_free(resp);
            rc = cli_fail(EXIT_USAGE, _("%s: %s"), partial, strerror(errno));
            break;
        }
        EVP_DigestUpdate(ctx, ch->data.data, ch->data.len);
        off += ch->data.len;
        size = ch->size;
        snprintf(want, sizeof want, "%s", ch->sha256 ? ch->sha256 : "");
        bool eof = ch->eof || (ch->data.len == 0);
        whistle_response_free(resp);
        if (eof)
            break;
    }
    uint8_t h[32];
    unsigned hl = 0;
    EVP_DigestFinal_ex(ctx, h, &hl);
    EVP_MD_CTX_free(ctx);
    if (fclose(f) != 0 && !rc)
        rc = cli_fail(EXIT_USAGE, _("%s: %s"), partial, strerror(errno));
    char got[65];
    hex_of(h, got);
    if (!rc && (off != size || (*want && strcmp(got, want) != 0)))
        rc = cli_fail(EXIT_SERVER,
                      _("photo %llu: %llu bytes received, hash %s; the server announced %llu bytes, "
                        "hash %s"),
                      (unsigned long long)id, (unsigned long long)off, got, (unsigned long long)size, want);
    if (!rc && link(partial, out) != 0)
        rc = cli_fail(EXIT_USAGE, _("%s: %s"), out, strerror(errno));
    unlink(partial);
    if (rc)
        return rc;
    if (x->json)
        printf("{\"id\": %llu, \"file\": \"%s\", \"bytes\": %llu, \"sha256\": \"%s\"}\n", (unsigned long long)id, out,
               (unsigned long long)off, got);
    else if (!x->quiet)
        printf(_("photo %llu written to %s (%llu bytes)\n"), (unsigned long long)id, out, (unsigned long long)off);
    return 0;
}

static const cmd_opt photo_get_opts[] = {
    { "out", "FILE", N_("write the photo here (-o FILE); FILE must not exist") },
    { "thumb", NULL, N_("the thumbnail instead of the photo") },
    { "ticket", "TICKET", N_("a kiosk: the case's ticket") },
    { "phone", "DIGITS", N_("a kiosk: the last 4 digits of the phone given at report") },
    { NULL, NULL, NULL },
};

const cmd cli_photo_subcommands[] = {
    { "photo get", "ID [--thumb] --out FILE", N_("Read a case's photo (its id from whistle show) into FILE."),
      photo_get_opts, 1, 1, .run = run_photo_get },
    { .name = NULL },
};
