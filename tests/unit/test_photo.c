/* test_photo.c: photos on a visit and on a resident's wish
 * (docs/photos.md): attached in the call's transaction, read as what they
 * belong to is read (a visit as the resident archive, a wish by its
 * community), and by nobody else, each refusal reading like a missing
 * photo; an upload that is not stored refuses the call, which then
 * changes nothing. Case photos are tested end to end in
 * tests/integration/test_photos.c. */
#include <sys/stat.h>
#include <time.h>

#include "helpers.h"

#include "blobs.h"
#include "photo_record.h"

TestSuite(photo, .init = h_setup, .fini = h_teardown, .timeout = 120);

#define GRID1 "110105001001001"
#define YONGANLI "110105001001"

/* An upload as the upload path leaves it: its files on disk and its
 * record committed (photo_record.h). hex gets its name. */
static void stored_upload(int n, char hex[65])
{
    char err[256];
    cr_assert_eq(blobs_init(h_st->dir, err, sizeof err), 0, "%s", err);
    uint8_t h[BLOB_HASH_LEN], fh[BLOB_HASH_LEN];
    memset(h, 0x40 + n, sizeof h);
    char path[4096];
    for (int t = 0; t < 2; t++) {
        blob_path(h_st->dir, h, t == 1, path, sizeof path);
        cr_assert_eq(blob_write_file(path, "photo", 5, NULL), 0);
    }
    blob_sha256("photo", 5, fh);
    Whistled__PhotoUpload u = WHISTLED__PHOTO_UPLOAD__INIT;
    u.sha256 = (ProtobufCBinaryData){ BLOB_HASH_LEN, h };
    u.size = 5;
    u.mime = "image/jpeg";
    u.image_sha256 = u.thumb_sha256 = (ProtobufCBinaryData){ BLOB_HASH_LEN, fh };
    u.image_bytes = u.thumb_bytes = 5;
    u.has_location = true;
    u.lat = 39.9;
    u.lon = 116.4;
    MDB_txn *txn;
    cr_assert_eq(store_write_begin(h_st, &txn), 0);
    cr_assert_eq(photo_upload_register(h_st, txn, &u, h_now, "admin"), 0);
    cr_assert_eq(mdb_txn_commit(txn), 0);
    blob_hex(h, hex);
}

static Whistle__V1__Request *rq_get_photo(uint64_t id)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(GET_PHOTO);
    r->get_photo = NEW(Whistle__V1__GetPhoto, whistle__v1__get_photo__init);
    r->get_photo->attachment_id = id;
    return r;
}

static void readable_by(uint64_t id, const char *const *who, size_t n, bool yes)
{
    for (size_t i = 0; i < n; i++) {
        Whistle__V1__Response *r = h_read(who[i], rq_get_photo(id));
        if (yes) {
            cr_assert_eq(h_code(r), 0, "%s cannot read photo %llu: %s", who[i], (unsigned long long)id, h_msg(r));
            cr_assert_eq(r->photo_chunk->data.len, 5);
        } else {
            cr_assert_eq(h_code(r), WHISTLE__V1__STATUS__CODE__NOT_FOUND, "%s: %d %s", who[i], h_code(r), h_msg(r));
            cr_assert_str_eq(h_msg(r), arena_printf(h_a, "no photo with id %llu", (unsigned long long)id),
                             "the refusal tells %s more than that", who[i]);
        }
    }
}

Test(photo, a_visit_photo_is_the_archives_and_read_only_as_the_archive_is)
{
    h_archive_keys();
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(PUT_HOUSEHOLD);
    r->put_household = NEW(Whistle__V1__PutHousehold, whistle__v1__put_household__init);
    Whistle__V1__ArchiveHousehold *hh = r->put_household->household =
        NEW(Whistle__V1__ArchiveHousehold, whistle__v1__archive_household__init);
    hh->node = GRID1;
    hh->building = "1号楼";
    hh->room = "101";
    Whistle__V1__Response *resp = h_write("gw-1", r);
    assert_ok(resp);
    uint64_t hid = resp->household->id;

    char hex[65];
    stored_upload(1, hex);
    r = h_req();
    r->call_case = CALL(RECORD_VISIT);
    r->record_visit = NEW(Whistle__V1__RecordVisit, whistle__v1__record_visit__init);
    r->record_visit->household_id = hid;
    r->record_visit->notes = "roof leaks";
    char *ph[] = { hex };
    r->record_visit->photos = ph;
    r->record_visit->n_photos = 1;
    resp = h_write("gw-1", r);
    assert_ok(resp);
    cr_assert_eq(resp->visit->n_photos, 1);
    const Whistle__V1__PhotoAttachment *at = resp->visit->photos[0];
    cr_assert_eq(at->stage, WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_VISIT);
    cr_assert_eq(at->visit_id, resp->visit->id);
    cr_assert(at->has_location, "a grid worker's photo keeps where it was taken");
    uint64_t id = at->id;

    static const char *const may[] = { "gw-1", "comm-yonganli", "op-jianwai" };
    static const char *const may_not[] = { "gw-2", "op-chaowai", "police", "hotline", "kiosk-yonganli", "admin" };
    readable_by(id, may, 3, true);
    readable_by(id, may_not, 6, false);

    /* a visit naming an upload that is not stored is refused, whole */
    r->record_visit->photos[0] = "0000000000000000000000000000000000000000000000000000000000000000";
    resp = h_write("gw-1", r);
    assert_code(resp, FAILED_PRECONDITION);
}

Test(photo, a_wish_photo_is_read_by_its_community_never_by_volunteers_and_keeps_no_location_from_a_kiosk)
{
    Whistle__V1__Request *r = h_req();
    r->call_case = CALL(SET_VOLUNTEER_CONFIG);
    r->set_volunteer_config = NEW(Whistle__V1__SetVolunteerConfig, whistle__v1__set_volunteer_config__init);
    Whistle__V1__VolunteerConfig *cfg = NEW(Whistle__V1__VolunteerConfig, whistle__v1__volunteer_config__init);
    r->set_volunteer_config->config = cfg;
    cfg->community = YONGANLI;
    cfg->claim_hours = 48;
    cfg->categories = arena_alloc(h_a, sizeof *cfg->categories);
    cfg->n_categories = 1;
    cfg->categories[0] = NEW(Whistle__V1__WishCategory, whistle__v1__wish_category__init);
    cfg->categories[0]->code = "walker";
    cfg->categories[0]->name_zh = "助行";
    cfg->categories[0]->points = 5;
    assert_ok(h_write("comm-yonganli", r));

    char hex[65];
    stored_upload(2, hex);
    r = h_req();
    r->call_case = CALL(ADD_WISH);
    r->add_wish = NEW(Whistle__V1__AddWish, whistle__v1__add_wish__init);
    r->add_wish->node = GRID1;
    r->add_wish->category = "walker";
    r->add_wish->text = "需要一个助行器";
    r->add_wish->contact = "13800001234";
    char *ph[] = { hex };
    r->add_wish->photos = ph;
    r->add_wish->n_photos = 1;
    Whistle__V1__Response *resp = h_write("kiosk-yonganli", r);
    assert_ok(resp);
    cr_assert_eq(resp->wish->n_photos, 1);
    const Whistle__V1__PhotoAttachment *at = resp->wish->photos[0];
    cr_assert_eq(at->stage, WHISTLE__V1__PHOTO_STAGE__PHOTO_STAGE_WISH);
    cr_assert(!at->has_location, "a resident's photo kept where it was taken");
    uint64_t id = at->id, wish = resp->wish->id;

    static const char *const may[] = { "comm-yonganli", "gw-1", "op-jianwai", "admin" };
    static const char *const may_not[] = { "op-chaowai", "police", "hotline", "kiosk-yonganli", "kiosk-2" };
    readable_by(id, may, 4, true);
    readable_by(id, may_not, 5, false);

    /* published to volunteers: without the resident's photos */
    r = h_req();
    r->call_case = CALL(PUBLISH_WISH);
    r->publish_wish = NEW(Whistle__V1__PublishWish, whistle__v1__publish_wish__init);
    r->publish_wish->wish_id = wish;
    r->publish_wish->public_text = "一位老人需要助行器";
    resp = h_write("comm-yonganli", r);
    assert_ok(resp);
    Whistle__V1__Request *q = h_req();
    q->call_case = CALL(LIST_WISHES);
    q->list_wishes = NEW(Whistle__V1__ListWishes, whistle__v1__list_wishes__init);
    q->list_wishes->community = YONGANLI;
    resp = h_read("comm-yonganli", q);
    assert_ok(resp);
    cr_assert_eq(resp->wishes->n_wishes, 1);
    cr_assert_eq(resp->wishes->wishes[0]->n_photos, 1, "the community sees the wish's photo");

    /* the check finds the attachment and its upload */
    MDB_txn *txn = store_read_begin(h_st);
    Whistled__PhotoAttachmentRecord *rec;
    Whistle__V1__PhotoAttachment *back;
    cr_assert_eq(photo_att_load(h_st, txn, id, h_a, &rec, &back), 0);
    cr_assert_eq(rec->wish_id, wish);
    store_read_end(h_st);
}

/* ------------------------------------------------------------ paced writing (blobs.h, blob_pace) */

static uint64_t mono_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* A file written in steps, at a rate or not, is the bytes given, whole,
 * with no temporary file left; the rate books each step's time, so the
 * next write may not start before the bytes written allow (no timing is
 * measured here: what is booked is computed). */
Test(blobs, a_file_written_in_paced_steps_is_whole_and_its_rate_books_the_time_its_bytes_take)
{
    char dir[] = "/tmp/whistle-blobs-XXXXXX";
    cr_assert(mkdtemp(dir));
    size_t len = 3 * BLOB_STEP + 12345; /* not a multiple of a step */
    uint8_t *data = malloc(len);
    cr_assert(data);
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 131 + (i >> 11));
    char path[4200];
    snprintf(path, sizeof path, "%s/ab/abc", dir);
    blob_pace pace = { .bytes_per_s = 64.0 * 1048576 };
    uint64_t before = mono_ns();
    cr_assert_eq(blob_write_file(path, data, len, &pace), 0);
    /* 3.05 steps of 256 KiB at 64 MiB/s: the next write is booked at least
     * 12.2 ms after the first step began */
    uint64_t need = (uint64_t)((double)len / pace.bytes_per_s * 1e9);
    cr_assert_geq(pace.next_ns, before + need - 1000, "booked %llu ns, the bytes take %llu",
                  (unsigned long long)(pace.next_ns - before), (unsigned long long)need);
    uint8_t *back;
    size_t n;
    cr_assert_eq(blob_read_file(path, len, &back, &n), 0);
    cr_assert_eq(n, len);
    cr_assert_eq(memcmp(back, data, len), 0, "the paced file is not the bytes written");
    free(back);
    /* unpaced (NULL): the same bytes, over the old file */
    data[len - 1] ^= 0xff;
    cr_assert_eq(blob_write_file(path, data, len, NULL), 0);
    cr_assert_eq(blob_read_file(path, len, &back, &n), 0);
    cr_assert(n == len && memcmp(back, data, len) == 0);
    free(back);
    /* an empty file is a file */
    snprintf(path, sizeof path, "%s/ab/empty", dir);
    cr_assert_eq(blob_write_file(path, "", 0, &pace), 0);
    struct stat st;
    cr_assert(stat(path, &st) == 0 && st.st_size == 0);
    /* nothing but the two files: no temporary left behind */
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "test $(ls -A %s/ab | wc -l) -eq 2", dir);
    cr_assert_eq(system(cmd), 0, "a temporary file was left in %s/ab", dir);
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
    free(data);
}

/* The rate books from when a step starts, not from the last booking: time
 * spent idle is not saved up for a burst later. */
Test(blobs, an_idle_pace_saves_up_no_credit)
{
    char dir[] = "/tmp/whistle-blobs-XXXXXX";
    cr_assert(mkdtemp(dir));
    char path[4200];
    snprintf(path, sizeof path, "%s/f", dir);
    blob_pace pace = { .bytes_per_s = 1048576.0, .next_ns = 1 }; /* long past */
    uint64_t before = mono_ns();
    cr_assert_eq(blob_write_file(path, "0123456789", 10, &pace), 0);
    cr_assert_geq(pace.next_ns, before, "a step was booked in the past, as credit");
    cr_assert_eq(pace.slept_ns, 0, "a pace with nothing booked waited");
    char cmd[4400];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}
