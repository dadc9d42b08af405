/* Photos on cases (docs/photos.md): uploaded in chunks under max_frame,
 * attached by report, feedback and verify, read back byte for byte by
 * whoever may read the case and by nobody else; bad files refused with
 * the store unchanged; an interrupted upload goes on from where it
 * stopped; uploads never attached swept after the grace; whistled --check
 * proves every attachment has its files. The photos are made at test
 * time (photo_fixtures.c). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "photo_fixtures.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x
#define STAGE(x) WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_##x

static daemon_h d;
static void teardown(void) { harness_cleanup(&d); }
TestSuite(photos, .fini = teardown, .timeout = 300);

static Whistle__V1__Response *report_with(whistle_client *c, char **photos, size_t n, int *code, char *msg,
                                          size_t msglen)
{
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = FIRST_GRID;
    r.category = "0401";
    r.description = "a stall blocks the pavement at gate 3";
    r.contact = "13800001234";
    r.photos = photos;
    r.n_photos = n;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = &r;
    Whistle__V1__Response *resp = NULL;
    cr_assert_eq(whistle_call(c, &req, &resp), 0, "transport: %s", whistle_last_error(c));
    *code = whistle_response_code(resp);
    if (msg)
        snprintf(msg, msglen, "%s", whistle_response_message(resp));
    return resp;
}

/* Files under dir (recursively), but none of "." names. */
static int count_files(const char *dir)
{
    DIR *dh = opendir(dir);
    if (!dh)
        return 0;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dh))) {
        if (e->d_name[0] == '.')
            continue;
        char p[1024];
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        struct stat st;
        if (stat(p, &st) == 0 && S_ISDIR(st.st_mode))
            n += count_files(p);
        else
            n++;
    }
    closedir(dh);
    return n;
}

static int blob_files(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/state/blobs", d.dir);
    return count_files(p);
}

static int part_files(void)
{
    char p[512];
    snprintf(p, sizeof p, "%s/state/uploads", d.dir);
    return count_files(p);
}

static const Whistle__V1__PhotoAttachment *photo_of(const Whistle__V1__Event *e, Whistle__V1__PhotoStage stage)
{
    for (size_t i = 0; i < e->n_photos; i++)
        if (e->photos[i]->stage == stage)
            return e->photos[i];
    cr_assert_fail("the case has no photo of stage %d", stage);
    return NULL;
}

Test(photos, report_feedback_verify_each_with_a_photo_the_operator_reads_all_three_back_byte_for_byte)
{
    harness_start(&d, NULL);
    whistle_client *grid = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *urban = harness_connect(&d, "urban");

    /* before: the grid worker's photo, with GPS (a staff photo keeps where) */
    pf_bytes before = pf_image(false, 1600, 1200, true), work = pf_image(true, 640, 480, false),
             after = pf_image(false, 1200, 900, true);
    char hb[65], hw[65], ha[65];
    pf_upload(grid, &before, hb);
    char *ph[] = { hb };
    int code;
    char msg[512];
    Whistle__V1__Response *r = report_with(grid, ph, 1, &code, msg, sizeof msg);
    cr_assert_eq(code, 0, "report with a photo refused: %s", msg);
    char *t = strdup(r->event->ticket);
    cr_assert_eq(r->event->n_photos, 1);
    cr_assert_eq(r->event->photos[0]->stage, STAGE(REPORT));
    whistle_response_free(r);

    whistle_response_free(h_simple(op, CALL(FILE), t, "seen"));
    const char *depts[] = { "urban" };
    Whistle__V1__Response *wr = h_whistle(op, t, depts, 1);
    uint64_t order = wr->whistle->orders[0]->id;
    whistle_response_free(wr);
    whistle_response_free(h_order_call(urban, CALL(CHECK_IN), order, "on site"));

    /* the department's feedback with the work done */
    pf_upload(urban, &work, hw);
    Whistle__V1__Feedback fb = WHISTLE__V1__FEEDBACK__INIT;
    fb.order_id = order;
    fb.text = "stall removed";
    char *pw[] = { hw };
    fb.photos = pw;
    fb.n_photos = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(FEEDBACK);
    req.feedback = &fb;
    r = harness_call_ok(urban, &req);
    cr_assert_eq(r->order->n_photos, 1, "the order carries its feedback's photo");
    cr_assert_eq(r->order->photos[0]->stage, STAGE(FEEDBACK));
    whistle_response_free(r);

    /* the grid worker verifies on the spot, with the after photo */
    pf_upload(grid, &after, ha);
    Whistle__V1__VerifyEvent ve = WHISTLE__V1__VERIFY_EVENT__INIT;
    ve.ticket = t;
    ve.pass = true;
    ve.note = "clear now";
    char *pa[] = { ha };
    ve.photos = pa;
    ve.n_photos = 1;
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(VERIFY);
    req.verify = &ve;
    whistle_response_free(harness_call_ok(grid, &req));

    /* the operator sees all three and reads each back, as media stored it */
    Whistle__V1__Response *keep;
    Whistle__V1__Event *e = h_get(op, t, &keep);
    cr_assert_eq(e->n_photos, 3, "the case has %zu photos", e->n_photos);
    cr_assert_eq(e->photo_count, 3);
    Whistle__V1__PhotoStage stages[] = { STAGE(REPORT), STAGE(FEEDBACK), STAGE(VERIFY) };
    const char *mimes[] = { "image/jpeg", "image/png", "image/jpeg" };
    for (int i = 0; i < 3; i++) {
        const Whistle__V1__PhotoAttachment *a = photo_of(e, stages[i]);
        cr_assert_str_eq(a->mime, mimes[i]);
        cr_assert(a->width > 0 && a->height > 0 && a->has_thumbnail);
        cr_assert(a->taken_ms > 0, "the time it was taken is kept");
        pf_bytes got;
        /* small chunks: several calls, each under the frame */
        cr_assert_eq(pf_get_photo(op, a->id, false, 65536, NULL, NULL, &got, msg, sizeof msg), 0, "%s", msg);
        char gh[65];
        pf_sha256_hex(got.p, got.n, gh);
        cr_assert_str_eq(gh, a->sha256, "photo %d read back is not what was stored", i);
        cr_assert_eq(got.n, a->bytes);
        /* metadata stripped: no camera serial number in what is kept */
        cr_assert_null(memmem(got.p, got.n, "SN-0042-7731", 12), "the camera's serial number was kept");
        pf_free(&got);
        cr_assert_eq(pf_get_photo(op, a->id, true, 0, NULL, NULL, &got, msg, sizeof msg), 0, "%s", msg);
        cr_assert(got.n > 3 && got.p[0] == 0xff && got.p[1] == 0xd8, "the thumbnail is a JPEG");
        pf_free(&got);
    }
    const Whistle__V1__PhotoAttachment *rep = photo_of(e, STAGE(REPORT));
    cr_assert(rep->has_location, "a staff photo keeps where it was taken");
    cr_assert_float_eq(rep->lat, 39.9042, 1e-3);
    cr_assert_float_eq(rep->lon, 116.4074, 1e-3);
    uint64_t report_photo = rep->id;
    whistle_response_free(keep);

    /* listings carry the count only */
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_EVENTS);
    req.list_events = &le;
    r = harness_call_ok(op, &req);
    bool seen = false;
    for (size_t i = 0; i < r->events->n_events; i++)
        if (strcmp(r->events->events[i]->ticket, t) == 0) {
            seen = true;
            cr_assert_eq(r->events->events[i]->photo_count, 3);
            cr_assert_eq(r->events->events[i]->n_photos, 0);
        }
    cr_assert(seen);
    whistle_response_free(r);

    /* the original's read is audited, like other personal data */
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__QueryAudit qa = WHISTLE__V1__QUERY_AUDIT__INIT;
    qa.principal = "operator";
    qa.limit = 500;
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(QUERY_AUDIT);
    req.query_audit = &qa;
    r = harness_call_ok(admin, &req);
    size_t photo_reads = 0;
    for (size_t i = 0; i < r->audit->n_entries; i++)
        if (strcmp(r->audit->entries[i]->call, "get_photo") == 0)
            photo_reads++;
    cr_assert_eq(photo_reads, 3, "%zu reads of originals audited", photo_reads);
    whistle_response_free(r);

    /* outside the case's reach: refused, reading like a missing photo */
    whistle_client *op2 = harness_connect(&d, "operator2");
    pf_bytes got;
    cr_assert_eq(pf_get_photo(op2, report_photo, false, 0, NULL, NULL, &got, msg, sizeof msg), CODE(NOT_FOUND));
    cr_assert(strstr(msg, "no photo") && !strstr(msg, t), "the refusal tells the case: %s", msg);
    whistle_client *police = harness_connect(&d, "police");
    cr_assert_eq(pf_get_photo(police, report_photo, true, 0, NULL, NULL, &got, msg, sizeof msg), CODE(NOT_FOUND),
                 "a department the case was not whistled to read it");
    /* a kiosk: only with the ticket and the phone's digits; and never where */
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    cr_assert_eq(pf_get_photo(kiosk, report_photo, false, 0, NULL, NULL, &got, msg, sizeof msg), CODE(NOT_FOUND));
    cr_assert_eq(pf_get_photo(kiosk, report_photo, false, 0, t, "9999", &got, msg, sizeof msg), CODE(NOT_FOUND));
    cr_assert_eq(pf_get_photo(kiosk, report_photo, false, 0, t, "1234", &got, msg, sizeof msg), 0, "%s", msg);
    pf_free(&got);
    Whistle__V1__LookupTicket lt = WHISTLE__V1__LOOKUP_TICKET__INIT;
    lt.ticket = t;
    lt.phone_last4 = "1234";
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LOOKUP_TICKET);
    req.lookup_ticket = &lt;
    r = harness_call_ok(kiosk, &req);
    cr_assert_eq(r->event->n_photos, 3);
    for (size_t i = 0; i < 3; i++)
        cr_assert(!r->event->photos[i]->has_location, "a kiosk is shown where a photo was taken");
    whistle_response_free(r);

    /* a sensor may not read photos at all */
    whistle_client *sensor = harness_connect(&d, "sensor");
    cr_assert_eq(pf_get_photo(sensor, report_photo, false, 0, NULL, NULL, &got, msg, sizeof msg),
                 CODE(PERMISSION_DENIED));

    char out[8192];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "whistled --check:\n%s", out);
    cr_assert(strstr(out, "photos"), "the check says nothing of the photos:\n%s", out);
    whistle_close(sensor);
    whistle_close(kiosk);
    whistle_close(police);
    whistle_close(op2);
    whistle_close(admin);
    whistle_close(grid);
    whistle_close(op);
    whistle_close(urban);
    pf_free(&before);
    pf_free(&work);
    pf_free(&after);
    free(t);
}

Test(photos, a_resident_photo_keeps_no_location)
{
    harness_start(&d, NULL);
    whistle_client *kiosk = harness_connect(&d, "kiosk");
    pf_bytes img = pf_image(false, 800, 600, true);
    char h[65];
    pf_upload(kiosk, &img, h);
    Whistle__V1__ReportEvent rq = WHISTLE__V1__REPORT_EVENT__INIT;
    rq.node = "110105001001";
    rq.category = "0401";
    rq.description = "broken lamp";
    rq.contact = "13900005678";
    char *ph[] = { h };
    rq.photos = ph;
    rq.n_photos = 1;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(REPORT);
    req.report = &rq;
    Whistle__V1__Response *r = harness_call_ok(kiosk, &req);
    char *t = strdup(r->event->ticket);
    whistle_response_free(r);
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__Response *keep;
    Whistle__V1__Event *e = h_get(op, t, &keep);
    cr_assert_eq(e->n_photos, 1);
    cr_assert(!e->photos[0]->has_location, "a resident's photo kept where it was taken");
    cr_assert(e->photos[0]->taken_ms > 0, "the time it was taken is kept");
    whistle_response_free(keep);
    whistle_close(op);
    whistle_close(kiosk);
    pf_free(&img);
    free(t);
}

Test(photos, truncated_oversized_wrong_type_and_misnamed_uploads_are_refused_and_change_nothing)
{
    harness_start(&d, "[photos]\nmax_bytes = 1048576\n");
    whistle_client *grid = harness_connect(&d, "gridworker");
    char h[65], msg[512];

    /* wrong type: text named like anything */
    pf_bytes text = { (uint8_t *)strdup("this is not an image, whatever its name says"), 0 };
    text.n = strlen((char *)text.p);
    cr_assert_eq(pf_upload_from(grid, &text, 65536, 0, h, msg, sizeof msg), CODE(INVALID_ARGUMENT));
    cr_assert(strstr(msg, "JPEG or PNG"), "%s", msg);
    /* truncated: a JPEG cut in half */
    pf_bytes img = pf_image(false, 600, 400, false);
    pf_bytes half = { malloc(img.n / 2), img.n / 2 };
    memcpy(half.p, img.p, half.n);
    cr_assert_eq(pf_upload_from(grid, &half, 65536, 0, h, msg, sizeof msg), CODE(INVALID_ARGUMENT));
    cr_assert(strstr(msg, "truncated") || strstr(msg, "corrupt"), "%s", msg);
    /* oversized: refused at the first chunk, nothing written */
    pf_bytes big = pf_image(true, 1400, 1400, false);
    cr_assert_gt(big.n, 1048576);
    cr_assert_eq(pf_upload_from(grid, &big, 65536, 0, h, msg, sizeof msg), CODE(INVALID_ARGUMENT));
    cr_assert(strstr(msg, "limit is 1.0 MiB"), "%s", msg);
    /* a hash that is not the bytes' */
    Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
    put.sha256 = "00000000000000000000000000000000000000000000000000000000000000aa";
    put.size = img.n;
    put.data.data = img.p;
    put.data.len = img.n;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_PUT);
    req.photo_put = &put;
    cr_assert_str_neq(harness_call_fail(grid, &req, CODE(DATA_LOSS)), "");
    /* nothing stored, nothing half-stored */
    cr_assert_eq(blob_files(), 0, "a refused photo left files");
    cr_assert_eq(part_files(), 0, "a refused photo left a partial upload");
    /* and a report naming one of them is refused, changing nothing */
    pf_sha256_hex(half.p, half.n, h);
    char *ph[] = { h };
    int code;
    Whistle__V1__Response *r = report_with(grid, ph, 1, &code, msg, sizeof msg);
    cr_assert_eq(code, CODE(FAILED_PRECONDITION), "%s", msg);
    whistle_response_free(r);
    char *bad[] = { "not-a-hash" };
    r = report_with(grid, bad, 1, &code, msg, sizeof msg);
    cr_assert_eq(code, CODE(INVALID_ARGUMENT), "%s", msg);
    whistle_response_free(r);
    /* too many for one action */
    char hx[65];
    pf_upload(grid, &img, hx);
    char *ten[10];
    for (int i = 0; i < 10; i++)
        ten[i] = hx;
    r = report_with(grid, ten, 10, &code, msg, sizeof msg);
    cr_assert_eq(code, CODE(INVALID_ARGUMENT), "%s", msg);
    cr_assert(strstr(msg, "at most 9"), "%s", msg);
    whistle_response_free(r);
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    le.node = FIRST_GRID;
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(LIST_EVENTS);
    req.list_events = &le;
    size_t before_n;
    r = harness_call_ok(op, &req);
    before_n = r->events->n_events;
    whistle_response_free(r);
    cr_assert_eq(before_n, 0, "a refused report made a case");
    char out[8192];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "whistled --check:\n%s", out);
    whistle_close(op);
    whistle_close(grid);
    pf_free(&text);
    pf_free(&img);
    pf_free(&half);
    pf_free(&big);
}

Test(photos, an_interrupted_upload_goes_on_from_where_it_stopped_on_a_new_connection)
{
    harness_start(&d, NULL);
    pf_bytes img = pf_image(false, 1500, 1500, false);
    cr_assert_gt(img.n, 300000);
    char h[65];
    pf_sha256_hex(img.p, img.n, h);
    /* the first connection sends two chunks, then goes away */
    whistle_client *a = harness_connect(&d, "gridworker");
    size_t chunk = 100000;
    for (int i = 0; i < 2; i++) {
        Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
        put.sha256 = h;
        put.size = img.n;
        put.offset = (uint64_t)i * chunk;
        put.data.data = img.p + i * chunk;
        put.data.len = chunk;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(PHOTO_PUT);
        req.photo_put = &put;
        Whistle__V1__Response *r = harness_call_ok(a, &req);
        cr_assert_eq(r->photo_upload->received, (i + 1) * chunk);
        cr_assert(!r->photo_upload->complete);
        whistle_response_free(r);
    }
    whistle_close(a);
    /* another asks where it stands */
    whistle_client *b = harness_connect(&d, "gridworker");
    Whistle__V1__PhotoUploadQuery q = WHISTLE__V1__PHOTO_UPLOAD_QUERY__INIT;
    q.sha256 = h;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_UPLOAD);
    req.photo_upload = &q;
    Whistle__V1__Response *r = harness_call_ok(b, &req);
    cr_assert_eq(r->photo_upload->received, 2 * chunk, "the daemon kept %llu bytes",
                 (unsigned long long)r->photo_upload->received);
    whistle_response_free(r);
    /* a chunk sent from 0 again is not written twice: the answer says where to go on */
    char msg[256];
    Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
    put.sha256 = h;
    put.size = img.n;
    put.offset = 0;
    put.data.data = img.p;
    put.data.len = chunk;
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_PUT);
    req.photo_put = &put;
    r = harness_call_ok(b, &req);
    cr_assert_eq(r->photo_upload->received, 2 * chunk);
    whistle_response_free(r);
    cr_assert_eq(pf_upload_from(b, &img, chunk, 2 * chunk, h, msg, sizeof msg), 0, "%s", msg);
    /* it is whole: attached and read back, it is the image uploaded (re-encoded) */
    char *ph[] = { h };
    int code;
    r = report_with(b, ph, 1, &code, msg, sizeof msg);
    cr_assert_eq(code, 0, "%s", msg);
    cr_assert_eq(r->event->photos[0]->width, 1500);
    whistle_response_free(r);
    whistle_close(b);
    pf_free(&img);
}

Test(photos, an_upload_never_attached_is_swept_after_the_grace_and_an_attached_one_stays)
{
    int64_t t0 = 1796000000000LL; /* 2026-11-29 */
    harness_start_clock(&d, "[photos]\ngrace_hours = 1\n", t0);
    whistle_client *grid = harness_connect(&d, "gridworker");
    pf_bytes kept = pf_image(false, 320, 240, false), lost = pf_image(true, 300, 200, false);
    char hk[65], hl[65];
    pf_upload(grid, &kept, hk);
    pf_upload(grid, &lost, hl);
    char *ph[] = { hk };
    int code;
    char msg[256];
    whistle_response_free(report_with(grid, ph, 1, &code, msg, sizeof msg));
    cr_assert_eq(code, 0, "%s", msg);
    cr_assert_eq(blob_files(), 4, "two uploads, an image and a thumbnail each");
    /* past the grace, the next writes sweep */
    harness_set_clock(&d, t0 + 2 * 3600 * 1000);
    for (int i = 0; i < 3; i++) {
        whistle_response_free(report_with(grid, NULL, 0, &code, msg, sizeof msg));
        cr_assert_eq(code, 0, "%s", msg);
    }
    cr_assert(harness_log_wait(&d, "never attached within the grace removed", 10000), "no sweep was logged");
    cr_assert_eq(blob_files(), 2, "the unattached upload's files are still there");
    Whistle__V1__PhotoUploadQuery q = WHISTLE__V1__PHOTO_UPLOAD_QUERY__INIT;
    q.sha256 = hl;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_UPLOAD);
    req.photo_upload = &q;
    Whistle__V1__Response *r = harness_call_ok(grid, &req);
    cr_assert(!r->photo_upload->complete);
    whistle_response_free(r);
    q.sha256 = hk;
    r = harness_call_ok(grid, &req);
    cr_assert(r->photo_upload->complete && r->photo_upload->referenced);
    whistle_response_free(r);
    char *gone[] = { hl };
    whistle_response_free(report_with(grid, gone, 1, &code, msg, sizeof msg));
    cr_assert_eq(code, CODE(FAILED_PRECONDITION), "%s", msg);
    char out[8192];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "whistled --check:\n%s", out);
    whistle_close(grid);
    pf_free(&kept);
    pf_free(&lost);
}

Test(photos, check_reports_an_attachment_whose_file_is_missing_or_altered_and_an_orphan_file)
{
    harness_start(&d, NULL);
    whistle_client *grid = harness_connect(&d, "gridworker");
    pf_bytes img = pf_image(false, 400, 300, false);
    char h[65];
    pf_upload(grid, &img, h);
    char *ph[] = { h };
    int code;
    char msg[256];
    whistle_response_free(report_with(grid, ph, 1, &code, msg, sizeof msg));
    cr_assert_eq(code, 0, "%s", msg);
    whistle_close(grid);
    harness_stop(&d);
    char out[8192];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "whistled --check:\n%s", out);
    char path[600], orphan[700];
    snprintf(path, sizeof path, "%s/state/blobs/%.2s/%s", d.dir, h, h);
    /* altered: a byte flipped */
    FILE *f = fopen(path, "r+b");
    cr_assert(f);
    fseek(f, 100, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, 100, SEEK_SET);
    fputc(ch ^ 0xff, f);
    fclose(f);
    cr_assert_neq(harness_check_store(&d, out, sizeof out), 0, "an altered photo passed the check");
    cr_assert(strstr(out, h), "the check does not name the photo:\n%s", out);
    /* missing */
    cr_assert_eq(unlink(path), 0);
    cr_assert_neq(harness_check_store(&d, out, sizeof out), 0, "a missing photo passed the check");
    cr_assert(strstr(out, "missing"), "%s", out);
    /* an orphan (no record names it) is reported, not an error */
    snprintf(orphan, sizeof orphan, "%s/state/blobs/ab/ab%062d", d.dir, 7);
    char dir[650];
    snprintf(dir, sizeof dir, "%s/state/blobs/ab", d.dir);
    mkdir(dir, 0700);
    f = fopen(orphan, "wb");
    cr_assert(f);
    fputs("x", f);
    fclose(f);
    harness_check_store(&d, out, sizeof out);
    cr_assert(strstr(out, "orphan"), "the orphan is not reported:\n%s", out);
    pf_free(&img);
}

/* Runs the CLI as a fixture principal; its exit status, and its output
 * (stdout and stderr) in out. */
static int cli(char *out, size_t outlen, const char *as, const char *args)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --pki %s --as %s --host 127.0.0.1 --port %d %s 2>&1", WHISTLE_CLI_BIN, harness_pki(),
             as, d.port, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, outlen - 1, p);
    out[n] = 0;
    int rc = pclose(p);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(photos, the_cli_reports_with_photos_shows_them_and_gets_one_back_as_stored)
{
    harness_start(&d, NULL);
    pf_bytes a = pf_image(false, 900, 700, true), b = pf_image(true, 300, 200, false);
    char fa[600], fb[600], got[600], args[2400], out[8192];
    snprintf(fa, sizeof fa, "%s/a.jpg", d.dir);
    snprintf(fb, sizeof fb, "%s/b.png", d.dir);
    snprintf(got, sizeof got, "%s/got.jpg", d.dir);
    FILE *f = fopen(fa, "wb");
    fwrite(a.p, 1, a.n, f);
    fclose(f);
    f = fopen(fb, "wb");
    fwrite(b.p, 1, b.n, f);
    fclose(f);
    snprintf(args, sizeof args, "-q report --node %s --category 0401 --photo %s --photo %s stall at gate 3", FIRST_GRID,
             fa, fb);
    cr_assert_eq(cli(out, sizeof out, "gridworker", args), 0, "%s", out);
    char t[32];
    cr_assert_eq(sscanf(out, "%31s", t), 1);
    /* show lists both, with their ids */
    snprintf(args, sizeof args, "show %s", t);
    cr_assert_eq(cli(out, sizeof out, "operator", args), 0, "%s", out);
    cr_assert(strstr(out, "900x700") && strstr(out, "300x200"), "show does not list the photos:\n%s", out);
    whistle_client *op = harness_connect(&d, "operator");
    Whistle__V1__Response *keep;
    Whistle__V1__Event *e = h_get(op, t, &keep);
    cr_assert_eq(e->n_photos, 2);
    uint64_t id = e->photos[0]->id;
    char want[65];
    snprintf(want, sizeof want, "%s", e->photos[0]->sha256);
    whistle_response_free(keep);
    /* photo get -o FILE: the bytes stored */
    snprintf(args, sizeof args, "photo get %llu -o %s", (unsigned long long)id, got);
    cr_assert_eq(cli(out, sizeof out, "operator", args), 0, "%s", out);
    f = fopen(got, "rb");
    cr_assert(f);
    static uint8_t buf[4 << 20];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    char h[65];
    pf_sha256_hex(buf, n, h);
    cr_assert_str_eq(h, want, "the file written is not the photo stored");
    /* never over a file; and another street's operator gets nothing */
    cr_assert_neq(cli(out, sizeof out, "operator", args), 0, "photo get replaced a file");
    char other[700];
    snprintf(other, sizeof other, "photo get %llu -o %s.2", (unsigned long long)id, got);
    cr_assert_eq(cli(out, sizeof out, "operator2", other), 1, "%s", out);
    cr_assert(strstr(out, "NOT_FOUND"), "%s", out);
    snprintf(other, sizeof other, "%s.2", got);
    cr_assert_neq(access(other, F_OK), 0, "a refused read left a file");
    /* a file that is not an image: the upload is refused, no case made */
    snprintf(args, sizeof args, "report --node %s --category 0401 --photo %s/whistled.conf not a photo", FIRST_GRID,
             d.dir);
    cr_assert_eq(cli(out, sizeof out, "gridworker", args), 1, "%s", out);
    cr_assert(strstr(out, "JPEG or PNG"), "%s", out);
    whistle_close(op);
    pf_free(&a);
    pf_free(&b);
}

/* Lines of the daemon's log holding needle. */
static int log_count(const char *needle)
{
    FILE *f = fopen(d.log, "r");
    cr_assert(f);
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f))
        n += strstr(line, needle) != NULL;
    fclose(f);
    return n;
}

Test(photos, the_cli_goes_on_with_an_upload_from_where_the_server_says_it_stopped)
{
    /* every call in the log (the access log), to count the chunks sent */
    harness_start(&d, "[log]\naccess = true\n");
    pf_bytes img = pf_image(false, 1200, 900, false);
    cr_assert_gt(img.n, 200000);
    /* an earlier run sent all but the last 50,000 bytes, then lost its connection */
    whistle_client *grid = harness_connect(&d, "gridworker");
    char h[65], msg[256];
    pf_sha256_hex(img.p, img.n, h);
    Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
    put.sha256 = h;
    put.size = img.n;
    put.data.data = img.p;
    put.data.len = img.n - 50000;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_PUT);
    req.photo_put = &put;
    Whistle__V1__Response *r = harness_call_ok(grid, &req);
    cr_assert_eq(r->photo_upload->received, img.n - 50000);
    whistle_response_free(r);
    whistle_close(grid);
    int before = log_count("access: gridworker photo_put");
    cr_assert_eq(before, 1);
    /* the CLI asks where the upload stands and sends only the rest: one chunk */
    char file[600], args[1400], out[8192];
    snprintf(file, sizeof file, "%s/p.jpg", d.dir);
    FILE *f = fopen(file, "wb");
    fwrite(img.p, 1, img.n, f);
    fclose(f);
    snprintf(args, sizeof args, "-q report --node %s --category 0401 --photo %s resumed upload", FIRST_GRID, file);
    cr_assert_eq(cli(out, sizeof out, "gridworker", args), 0, "%s", out);
    cr_assert(log_count("access: gridworker photo_upload") >= 1, "the CLI did not ask where the upload stood");
    cr_assert_eq(log_count("access: gridworker photo_put"), before + 1, "the CLI sent %d chunks, not just the rest",
                 log_count("access: gridworker photo_put") - before);
    (void)msg;
    pf_free(&img);
}

static int sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh(const char *fmt, ...)
{
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

Test(photos, backups_carry_the_photos_and_a_restore_brings_them_back)
{
    harness_start(&d, NULL);
    /* the backup directory inside the test's own */
    harness_stop(&d);
    snprintf(d.extra, sizeof d.extra, "[store]\nbackup_dir = %s/backups\n", d.dir);
    harness_restart(&d);
    whistle_client *grid = harness_connect(&d, "gridworker");
    pf_bytes img = pf_image(false, 640, 480, false);
    char h[65], msg[256];
    pf_upload(grid, &img, h);
    char *ph[] = { h };
    int code;
    Whistle__V1__Response *r = report_with(grid, ph, 1, &code, msg, sizeof msg);
    cr_assert_eq(code, 0, "%s", msg);
    char *t = strdup(r->event->ticket);
    uint64_t id = r->event->photos[0]->id;
    char stored[65];
    snprintf(stored, sizeof stored, "%s", r->event->photos[0]->sha256);
    whistle_response_free(r);
    whistle_close(grid);

    /* the backup call: the store's copy and, beside it, the photos */
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__Backup b = WHISTLE__V1__BACKUP__INIT;
    b.name = "with-photos.mdb";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(BACKUP);
    req.backup = &b;
    whistle_response_free(harness_call_ok(admin, &req));
    whistle_close(admin);
    cr_assert_eq(
        sh("test -s %s/backups/with-photos.mdb.blobs/%.2s/%s && test -s %s/backups/with-photos.mdb.blobs/%.2s/%s.thumb",
           d.dir, h, h, d.dir, h, h),
        0, "the backup's .blobs holds the photo and its thumbnail");
    /* whistled --backup beside the running daemon: the same */
    cr_assert_eq(sh("%s --state-dir %s/state --backup %s/offline.mdb >/dev/null 2>&1", WHISTLED_BIN, d.dir, d.dir), 0);
    cr_assert_eq(sh("test -s %s/offline.mdb.blobs/%.2s/%s", d.dir, h, h), 0, "whistled --backup copied the photo");

    /* the photos lost, the store restored from the backup: they are back */
    harness_stop(&d);
    cr_assert_eq(sh("rm -rf %s/state/blobs", d.dir), 0);
    char out[8192];
    cr_assert_neq(harness_check_store(&d, out, sizeof out), 0, "a store without its photos checks clean");
    cr_assert_eq(
        sh("%s --state-dir %s/state --restore %s/backups/with-photos.mdb >/dev/null 2>&1", WHISTLED_BIN, d.dir, d.dir),
        0, "the restore failed");
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "the restored store:\n%s", out);
    harness_restart(&d);
    whistle_client *op = harness_connect(&d, "operator");
    pf_bytes got;
    cr_assert_eq(pf_get_photo(op, id, false, 0, NULL, NULL, &got, msg, sizeof msg), 0, "%s", msg);
    char gh[65];
    pf_sha256_hex(got.p, got.n, gh);
    cr_assert_str_eq(gh, stored, "the restored photo of %s is not the one stored", t);
    pf_free(&got);
    whistle_close(op);
    pf_free(&img);
    free(t);
}

/* [photos] dir: the photos' files on another directory (in a city, another
 * file system), and everything that touches them follows it: uploads in
 * progress, stored photos, reads, the sweep, whistled --check, both
 * backups and the restore. Nothing of them is left under store.dir. */
Test(photos, photos_dir_holds_every_photo_file_and_check_backups_restore_and_the_sweep_follow_it)
{
    int64_t t0 = 1796000000000LL; /* 2026-11-29 */
    harness_start_clock(&d, NULL, t0);
    harness_stop(&d);
    char pdir[400];
    snprintf(pdir, sizeof pdir, "%s/elsewhere", d.dir);
    cr_assert_eq(mkdir(pdir, 0700), 0);
    snprintf(d.extra, sizeof d.extra, "[photos]\ndir = %s\ngrace_hours = 1\n[store]\nbackup_dir = %s/backups\n", pdir,
             d.dir);
    harness_restart(&d);

    whistle_client *grid = harness_connect(&d, "gridworker");
    pf_bytes kept = pf_image(false, 640, 480, false), lost = pf_image(true, 300, 200, false),
             half = pf_image(false, 900, 900, false);
    char hk[65], hl[65], hh[65], msg[256];
    pf_upload(grid, &kept, hk);
    pf_upload(grid, &lost, hl);
    /* half an upload: its partial file is under photos.dir too */
    pf_sha256_hex(half.p, half.n, hh);
    Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
    put.sha256 = hh;
    put.size = half.n;
    put.data.data = half.p;
    put.data.len = half.n / 2;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_PUT);
    req.photo_put = &put;
    whistle_response_free(harness_call_ok(grid, &req));
    cr_assert_eq(sh("test -s %s/uploads/%s.part", pdir, hh), 0, "the partial upload is not under photos.dir");
    char *ph[] = { hk };
    int code;
    Whistle__V1__Response *r = report_with(grid, ph, 1, &code, msg, sizeof msg);
    cr_assert_eq(code, 0, "%s", msg);
    uint64_t id = r->event->photos[0]->id;
    char stored[65];
    snprintf(stored, sizeof stored, "%s", r->event->photos[0]->sha256);
    whistle_response_free(r);
    char sub[512];
    snprintf(sub, sizeof sub, "%s/blobs", pdir);
    cr_assert_eq(count_files(sub), 4, "two uploads, an image and a thumbnail each, under photos.dir");
    cr_assert_eq(blob_files() + part_files(), 0, "photo files under store.dir");
    /* read back from there */
    pf_bytes got;
    cr_assert_eq(pf_get_photo(grid, id, false, 0, NULL, NULL, &got, msg, sizeof msg), 0, "%s", msg);
    char gh[65];
    pf_sha256_hex(got.p, got.n, gh);
    cr_assert_str_eq(gh, stored);
    pf_free(&got);

    /* the check looks there (--photo-dir, or the config's photos.dir) */
    char out[8192], cmd[1200];
    snprintf(cmd, sizeof cmd, "%s --check --state-dir %s/state --photo-dir %s 2>&1", WHISTLED_BIN, d.dir, pdir);
    cr_assert_eq(sh("%s >/dev/null", cmd), 0, "whistled --check --photo-dir is not clean");
    cr_assert_eq(sh("%s --check --config %s >/dev/null 2>&1", WHISTLED_BIN, d.conf), 0,
                 "whistled --check with the config's photos.dir is not clean");
    cr_assert_neq(harness_check_store(&d, out, sizeof out), 0,
                  "a check that looks under store.dir finds the photos there:\n%s", out);

    /* the backup call and whistled --backup copy them from there */
    whistle_client *admin = harness_connect(&d, "admin");
    Whistle__V1__Backup b = WHISTLE__V1__BACKUP__INIT;
    b.name = "elsewhere.mdb";
    req = (Whistle__V1__Request)WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(BACKUP);
    req.backup = &b;
    whistle_response_free(harness_call_ok(admin, &req));
    whistle_close(admin);
    cr_assert_eq(
        sh("test -s %s/backups/elsewhere.mdb.blobs/%.2s/%s && test -s %s/backups/elsewhere.mdb.blobs/%.2s/%s.thumb",
           d.dir, hk, hk, d.dir, hk, hk),
        0, "the backup's .blobs lacks the photo");
    cr_assert_eq(sh("%s --config %s --backup %s/offline.mdb >/dev/null 2>&1", WHISTLED_BIN, d.conf, d.dir), 0,
                 "whistled --backup failed");
    cr_assert_eq(sh("test -s %s/offline.mdb.blobs/%.2s/%s", d.dir, hk, hk), 0, "whistled --backup lacks the photo");

    /* past the grace, the sweep removes the unattached upload from there */
    harness_set_clock(&d, t0 + 2 * 3600 * 1000);
    for (int i = 0; i < 3; i++) {
        whistle_response_free(report_with(grid, NULL, 0, &code, msg, sizeof msg));
        cr_assert_eq(code, 0, "%s", msg);
    }
    cr_assert(harness_log_wait(&d, "never attached within the grace removed", 10000), "no sweep was logged");
    cr_assert_eq(count_files(sub), 2, "the unattached upload's files are still under photos.dir");
    cr_assert_eq(sh("test -e %s/blobs/%.2s/%s", pdir, hl, hl), 1, "the swept upload's image is still there");
    whistle_close(grid);

    /* the photos lost, the store restored from the backup: back under photos.dir */
    harness_stop(&d);
    cr_assert_eq(sh("rm -rf %s/blobs", pdir), 0);
    cr_assert_eq(sh("%s --config %s --restore %s/backups/elsewhere.mdb >/dev/null 2>&1", WHISTLED_BIN, d.conf, d.dir),
                 0, "the restore failed");
    cr_assert_eq(sh("test -s %s/blobs/%.2s/%s", pdir, hk, hk), 0, "the restore did not bring the photo back there");
    cr_assert_eq(blob_files(), 0, "the restore put photos under store.dir");
    cr_assert_eq(sh("%s >/dev/null", cmd), 0, "the restored store is not clean");

    /* a photos.dir that does not exist (a file system not mounted) stops
     * the start, rather than an empty directory taking its place */
    snprintf(cmd, sizeof cmd, "timeout 60 %s --config %s --photo-dir %s/not-mounted --port-file %s/port2 2>&1",
             WHISTLED_BIN, d.conf, d.dir, d.dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = fread(out, 1, sizeof out - 1, p);
    out[n] = 0;
    int st = pclose(p);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 1, "whistled started without its photos.dir:\n%s", out);
    cr_assert(strstr(out, "not-mounted/blobs") && strstr(out, "photos.dir"), "the refusal does not say why:\n%s", out);
    cr_assert_eq(sh("test -e %s/not-mounted", d.dir), 1, "the missing photos.dir was made");

    harness_restart(&d);
    whistle_client *op = harness_connect(&d, "operator");
    cr_assert_eq(pf_get_photo(op, id, false, 0, NULL, NULL, &got, msg, sizeof msg), 0, "%s", msg);
    pf_sha256_hex(got.p, got.n, gh);
    cr_assert_str_eq(gh, stored, "the restored photo is not the one stored");
    pf_free(&got);
    whistle_close(op);
    pf_free(&kept);
    pf_free(&lost);
    pf_free(&half);
}
