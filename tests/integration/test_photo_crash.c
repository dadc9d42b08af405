/* Photos and kill -9 (docs/photos.md, docs/reliability.md): whistled is
 * killed at random moments while a client uploads photos in chunks and
 * reports with them; after every kill whistled --check must be clean
 * (every upload's record has its files, hashing right; every attachment
 * names a stored upload), and at the end every acknowledged upload and
 * report is there, its photo read back byte for byte. A suite of its own:
 * it forks a client, and runs alone. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"
#include "photo_fixtures.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x

static daemon_h d;
static void teardown(void) { harness_cleanup(&d); }
TestSuite(photo_crash, .fini = teardown, .timeout = 600);

/* The child's side: uploads each photo in small chunks and reports with
 * it, writing a line per acknowledgement to acks ("U <upload>" once an
 * upload is complete, "R <ticket> <upload> <stored sha256>" once the
 * report naming it is answered), until the connection fails (the daemon
 * was killed). No criterion assertion here: this is a forked process. */
typedef struct load_paths {
    char cert[512], key[512], ca[512];
} load_paths;

/* (Criterion reports every assertion, passed or not, to its runner: the
 * child must make none, so the paths are worked out before the fork and
 * it connects with libwhistle alone.) */
static void upload_load(const pf_bytes *imgs, int n, const char *acks, const load_paths *lp)
{
    char err[256];
    whistle_opts o = { 0 };
    o.host = "127.0.0.1";
    o.port = (uint16_t)d.port;
    o.ca_file = lp->ca;
    o.cert_file = lp->cert;
    o.key_file = lp->key;
    o.client_name = "integration-test";
    o.timeout_ms = 20000;
    whistle_client *c = NULL;
    /* The kill may come before the connection does (a loaded machine):
     * nothing was acknowledged then, which is no failure. */
    if (whistle_connect(&o, &c, err, sizeof err) != 0) {
        fprintf(stderr, "uploading child: %s (killed before it connected)\n", err);
        _exit(0);
    }
    FILE *f = fopen(acks, "a");
    if (!f)
        _exit(2);
    for (int i = 0; i < n; i++) {
        char h[65];
        pf_sha256_hex(imgs[i].p, imgs[i].n, h);
        uint64_t off = 0;
        bool done = false;
        while (!done) {
            Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
            put.sha256 = h;
            put.size = imgs[i].n;
            put.offset = off;
            size_t len = imgs[i].n - off < 16384 ? imgs[i].n - off : 16384;
            put.data.data = imgs[i].p + off;
            put.data.len = len;
            Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
            req.call_case = CALL(PHOTO_PUT);
            req.photo_put = &put;
            Whistle__V1__Response *resp = NULL;
            if (whistle_call(c, &req, &resp) != 0)
                _exit(0);
            if (whistle_response_code(resp) != 0 || !resp->photo_upload)
                _exit(3);
            off = resp->photo_upload->received;
            done = resp->photo_upload->complete;
            whistle_response_free(resp);
        }
        fprintf(f, "U %s\n", h);
        fflush(f);
        Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
        r.node = FIRST_GRID;
        r.category = "0401";
        r.description = "crash test";
        char *ph[] = { h };
        r.photos = ph;
        r.n_photos = 1;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = CALL(REPORT);
        req.report = &r;
        req.idempotency_key = h;
        Whistle__V1__Response *resp = NULL;
        if (whistle_call(c, &req, &resp) != 0)
            _exit(0);
        if (whistle_response_code(resp) != 0)
            _exit(4);
        fprintf(f, "R %s %s %s\n", resp->event->ticket, h, resp->event->photos[0]->sha256);
        fflush(f);
        whistle_response_free(resp);
    }
    _exit(0);
}

/* The kill -9 cycles; with power_loss, each kill is followed by a power
 * cut (harness_power_cut: every change to the store that no flush
 * covered is taken away), and the last daemon, which everything is read
 * back from, runs without the shim. */
static void kill_during_uploads(bool power_loss)
{
    harness_start(&d, NULL);
    if (power_loss) {
        /* the shim journals from its start: the seeded store is on disk */
        d.power_loss = true;
        harness_restart(&d);
    }
    char cut[1024] = "";
    size_t cut_changes = 0, cut_removed = 0;
    char acks[600];
    snprintf(acks, sizeof acks, "%s/acks", d.dir);
    srand((unsigned)getpid());
    load_paths lp;
    harness_cert("gridworker", lp.cert, sizeof lp.cert, lp.key, sizeof lp.key);
    snprintf(lp.ca, sizeof lp.ca, "%s/ca.crt", harness_pki());
    enum { CYCLES = 12, PER = 24 };
    size_t uploads = 0, reports = 0;
    for (int cycle = 0; cycle < CYCLES; cycle++) {
        /* made here, before the fork (libvips has threads) */
        pf_bytes imgs[PER];
        for (int i = 0; i < PER; i++)
            imgs[i] = pf_image(i % 3 == 2, 200 + 7 * i, 160 + (i % 5) * 30, false);
        pid_t child = fork();
        cr_assert_neq(child, -1);
        if (child == 0)
            upload_load(imgs, PER, acks, &lp);
        usleep((useconds_t)(100000 + rand() % 500000));
        harness_kill(&d);
        int st;
        waitpid(child, &st, 0);
        cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the uploading child failed (status 0x%x)", st);
        for (int i = 0; i < PER; i++)
            pf_free(&imgs[i]);
        /* what the crash left: every record with its files, right */
        if (power_loss) {
            harness_power_cut(&d, cycle % 2 ? 50 : 0, (unsigned)rand(), cut, sizeof cut);
            unsigned long changes = 0, removed = 0;
            const char *r = strstr(cut, "plrestore: "), *e = strstr(cut, "; ");
            if (r && sscanf(r, "plrestore: %lu", &changes) == 1)
                cut_changes += changes;
            if (e && sscanf(e, "; %lu entries removed", &removed) == 1)
                cut_removed += removed;
            d.power_loss = cycle < CYCLES - 1;
        }
        char out[8192];
        cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "cycle %d: whistled --check%s:\n%s", cycle,
                     power_loss ? " after the power cut" : "", out);
        harness_restart(&d);
    }
    /* every acknowledgement holds after all the crashes */
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *grid = harness_connect(&d, "gridworker");
    FILE *f = fopen(acks, "r");
    cr_assert(f);
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char a[80], b[80], c[80];
        if (sscanf(line, "U %70s", a) == 1) {
            Whistle__V1__PhotoUploadQuery q = WHISTLE__V1__PHOTO_UPLOAD_QUERY__INIT;
            q.sha256 = a;
            Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
            req.call_case = CALL(PHOTO_UPLOAD);
            req.photo_upload = &q;
            Whistle__V1__Response *r = harness_call_ok(grid, &req);
            cr_assert(r->photo_upload->complete, "upload %s was acknowledged complete and is not", a);
            whistle_response_free(r);
            uploads++;
        } else if (sscanf(line, "R %70s %70s %70s", a, b, c) == 3) {
            Whistle__V1__Response *keep;
            Whistle__V1__Event *e = h_get(op, a, &keep);
            cr_assert_eq(e->n_photos, 1, "case %s lost its photo", a);
            cr_assert_str_eq(e->photos[0]->sha256, c);
            pf_bytes got;
            char msg[256];
            cr_assert_eq(pf_get_photo(op, e->photos[0]->id, false, 0, NULL, NULL, &got, msg, sizeof msg), 0,
                         "case %s: its photo cannot be read: %s", a, msg);
            char gh[65];
            pf_sha256_hex(got.p, got.n, gh);
            cr_assert_str_eq(gh, c, "case %s: its photo's bytes changed", a);
            pf_free(&got);
            whistle_response_free(keep);
            reports++;
        }
    }
    fclose(f);
    fprintf(stderr,
            "kill -9%s during uploads: %d cycles, %zu acknowledged uploads and %zu reports with a photo, all "
            "intact\n",
            power_loss ? " and a power cut" : "", CYCLES, uploads, reports);
    if (power_loss)
        fprintf(stderr, "the power cuts undid %zu unflushed changes and removed %zu entries never flushed\n",
                cut_changes, cut_removed);
    cr_assert_gt(reports, 0, "no report was acknowledged in %d cycles: the test tested nothing", CYCLES);
    whistle_close(op);
    whistle_close(grid);
}

Test(photo_crash, kill9_during_uploads_loses_no_acknowledged_photo_and_leaves_no_reference_without_its_file)
{
    kill_during_uploads(false);
}

/* The same with a power cut after every kill (docs/reliability.md, "Power
 * loss"): a photo is answered complete only once its files and their
 * names are flushed and its record is durable, and a report naming it
 * only once durable, so none of them may be lost; a chunk received but not
 * flushed may be (the client goes on from what the server holds). */
Test(photo_crash, power_cut_during_uploads_loses_no_acknowledged_photo_and_leaves_no_reference_without_its_file)
{
    kill_during_uploads(true);
}

/* One PhotoPut of the whole file, or an empty one that asks (size given);
 * returns the answer's code, and complete. */
static int put_photo(whistle_client *c, const char *h, const pf_bytes *img, bool empty, bool *complete)
{
    Whistle__V1__PhotoPut put = WHISTLE__V1__PHOTO_PUT__INIT;
    put.sha256 = (char *)h;
    put.size = img->n;
    if (!empty) {
        put.data.data = img->p;
        put.data.len = img->n;
    }
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_PUT);
    req.photo_put = &put;
    Whistle__V1__Response *resp = NULL;
    if (whistle_call(c, &req, &resp) != 0)
        return -1;
    int code = whistle_response_code(resp);
    *complete = code == 0 && resp->photo_upload && resp->photo_upload->complete;
    whistle_response_free(resp);
    return code;
}

/* "complete" is an acknowledgement: a photo's second upload must not be
 * told so before its record is on disk. With every flush slowed by
 * 300 ms (the shim's delay), one client uploads a photo while another
 * keeps sending the same photo's hash with no bytes (which answers
 * complete once it is stored); the moment the second is told complete,
 * the daemon is killed and the power cut; the photo must then be
 * complete. (The first client's answer waits for the flush, so it has
 * not come yet: that is the moment tested.) */
Test(photo_crash, a_second_upload_is_told_complete_only_once_the_record_is_on_disk)
{
    harness_start(&d, NULL);
    d.power_loss = true;
    d.flush_delay_ms = 300;
    harness_restart(&d);
    pf_bytes img = pf_image(false, 320, 240, false);
    char h[65], answered[600];
    pf_sha256_hex(img.p, img.n, h);
    snprintf(answered, sizeof answered, "%s/first-answered", d.dir);
    load_paths lp;
    harness_cert("gridworker", lp.cert, sizeof lp.cert, lp.key, sizeof lp.key);
    snprintf(lp.ca, sizeof lp.ca, "%s/ca.crt", harness_pki());
    whistle_client *second = harness_connect(&d, "operator");
    pid_t child = fork();
    cr_assert_neq(child, -1);
    if (child == 0) {
        /* the first upload (no criterion assertion in a forked child) */
        whistle_opts o = { .host = "127.0.0.1",
                           .port = (uint16_t)d.port,
                           .ca_file = lp.ca,
                           .cert_file = lp.cert,
                           .key_file = lp.key,
                           .client_name = "integration-test",
                           .timeout_ms = 20000 };
        whistle_client *c = NULL;
        char err[256];
        bool complete = false;
        if (whistle_connect(&o, &c, err, sizeof err) != 0)
            _exit(2);
        /* busy while an ask of the second is being handled: again */
        int code = WHISTLE__V1__STATUS__CODE__UNAVAILABLE;
        for (int i = 0; i < 5000 && code == WHISTLE__V1__STATUS__CODE__UNAVAILABLE; i++)
            if ((code = put_photo(c, h, &img, false, &complete)) == WHISTLE__V1__STATUS__CODE__UNAVAILABLE)
                usleep(1000);
        if (code == 0 && complete) {
            FILE *f = fopen(answered, "w");
            if (f)
                fclose(f);
        }
        _exit(0);
    }
    bool complete = false;
    int polls = 0;
    for (; polls < 10000 && !complete; polls++) {
        int code = put_photo(second, h, &img, true, &complete);
        cr_assert(code == 0 || code == WHISTLE__V1__STATUS__CODE__UNAVAILABLE, "the second upload's ask answered %d",
                  code);
        if (!complete)
            usleep(2000);
    }
    cr_assert(complete, "the photo was never complete for the second upload (%d asks)", polls);
    bool first_answered = access(answered, F_OK) == 0;
    harness_kill(&d);
    int st;
    waitpid(child, &st, 0);
    whistle_close(second);
    char cut[1024];
    harness_power_cut(&d, 0, (unsigned)getpid(), cut, sizeof cut);
    fprintf(stderr, "second upload told complete after %d asks, the first %s; %s", polls,
            first_answered ? "answered already" : "not answered yet", cut);
    d.power_loss = false;
    harness_restart(&d);
    whistle_client *grid = harness_connect(&d, "gridworker");
    Whistle__V1__PhotoUploadQuery q = WHISTLE__V1__PHOTO_UPLOAD_QUERY__INIT;
    q.sha256 = h;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = CALL(PHOTO_UPLOAD);
    req.photo_upload = &q;
    Whistle__V1__Response *r = harness_call_ok(grid, &req);
    cr_assert(r->photo_upload->complete,
              "photo %s was answered complete (to its second upload) and is not complete after a power cut", h);
    whistle_response_free(r);
    whistle_close(grid);
    char out[8192];
    cr_assert_eq(harness_check_store(&d, out, sizeof out), 0, "whistled --check:\n%s", out);
    pf_free(&img);
}
