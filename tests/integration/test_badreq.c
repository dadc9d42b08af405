/* Bad requests (DESIGN.md §3, §8): every call of the proto, with missing
 * fields, values out of range, invalid UTF-8, strings as long as a frame
 * allows and repeated fields that fill a frame, gets a clear
 * INVALID_ARGUMENT (naming the field) and changes nothing.
 *
 * Table-driven over the proto itself: the calls are the members of
 * Request.call, the fields come from each call's descriptor, so a field
 * added to a call is tried without touching this file. Each call has a
 * valid body (base_body) to mutate one field at a time, so that the field
 * is what fails. "Nothing changed" is checked after every request against
 * a snapshot: every case with its timeline and every order, as an admin
 * reads them. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define CODE(x) WHISTLE__V1__STATUS__CODE__##x

static daemon_h d;
static whistle_client *adm;

/* Cases in every state a call needs, and two orders. */
static char *t_reported, *t_filed, *t_handling, *t_resolved, *t_verified, *t_closed, *t_whistled;
static uint64_t o_pending, o_checked_in;

static uint8_t *snap;
static size_t snap_len;
static int checked;  /* requests tried */
static int failures; /* with BADREQ_KEEP_GOING */

/* ------------------------------------------------------------ fixtures */

static Whistle__V1__Response *call_ok_as(whistle_client *c, int call, void *body)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = call;
    req.report = body; /* every member of the oneof sits at the same place */
    return harness_call_ok(c, &req);
}

static void build_fixtures(void)
{
    whistle_client *gw = harness_connect(&d, "gridworker");
    whistle_client *op = harness_connect(&d, "operator");
    whistle_client *urban = harness_connect(&d, "urban");
    t_reported = h_report(gw, FIRST_GRID, "0102", "reported");
    t_filed = h_report(gw, FIRST_GRID, "0102", "filed");
    t_handling = h_report(gw, FIRST_GRID, "0102", "handling");
    t_resolved = h_report(gw, FIRST_GRID, "0102", "resolved");
    t_verified = h_report(gw, FIRST_GRID, "0102", "verified");
    t_closed = h_report(gw, FIRST_GRID, "0102", "closed");
    t_whistled = h_report(gw, FIRST_GRID, "0401", "whistled");
    char *later[] = { t_filed, t_handling, t_resolved, t_verified, t_closed, t_whistled };
    for (size_t i = 0; i < 6; i++)
        whistle_response_free(h_simple(op, CALL(FILE), later[i], "filed"));
    char *assigned[] = { t_handling, t_resolved, t_verified, t_closed };
    for (size_t i = 0; i < 4; i++) {
        Whistle__V1__AssignEvent a = WHISTLE__V1__ASSIGN_EVENT__INIT;
        a.ticket = assigned[i];
        a.assignee = "gridworker";
        whistle_response_free(call_ok_as(op, CALL(ASSIGN), &a));
    }
    char *resolved[] = { t_resolved, t_verified, t_closed };
    for (size_t i = 0; i < 3; i++)
        whistle_response_free(h_simple(gw, CALL(RESOLVE), resolved[i], "done"));
    whistle_response_free(h_simple(gw, CALL(VERIFY), t_verified, "ok"));
    whistle_response_free(h_simple(gw, CALL(VERIFY), t_closed, "ok"));
    whistle_response_free(h_simple(op, CALL(CLOSE), t_closed, "closed"));
    const char *depts[] = { "police", "urban" };
    Whistle__V1__Response *w = h_whistle(op, t_whistled, depts, 2);
    for (size_t i = 0; i < 2; i++) {
        if (strcmp(w->whistle->orders[i]->department, "police") == 0)
            o_pending = w->whistle->orders[i]->id;
        else
            o_checked_in = w->whistle->orders[i]->id;
    }
    whistle_response_free(w);
    whistle_response_free(h_order_call(urban, CALL(CHECK_IN), o_checked_in, "on our way"));
    whistle_close(gw);
    whistle_close(op);
    whistle_close(urban);
}

/* Everything a write could change, as bytes: every case (with its
 * timeline) and every order. */
static uint8_t *take_snapshot(size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
#define APPEND(msg)                                                                                                    \
    do {                                                                                                               \
        size_t k = protobuf_c_message_get_packed_size(&(msg)->base);                                                   \
        while (n + k > cap)                                                                                            \
            buf = realloc(buf, cap *= 2);                                                                              \
        n += protobuf_c_message_pack(&(msg)->base, buf + n);                                                           \
    } while (0)
    Whistle__V1__ListEvents le = WHISTLE__V1__LIST_EVENTS__INIT;
    le.limit = 500;
    Whistle__V1__Response *r = call_ok_as(adm, CALL(LIST_EVENTS), &le);
    cr_assert_lt(r->events->n_events, 500);
    for (size_t i = 0; i < r->events->n_events; i++) {
        Whistle__V1__GetEvent ge = WHISTLE__V1__GET_EVENT__INIT;
        ge.ticket = r->events->events[i]->ticket;
        Whistle__V1__Response *e = call_ok_as(adm, CALL(GET_EVENT), &ge);
        APPEND(e->event);
        whistle_response_free(e);
    }
    whistle_response_free(r);
    Whistle__V1__ListOrders lo = WHISTLE__V1__LIST_ORDERS__INIT;
    lo.limit = 500;
    r = call_ok_as(adm, CALL(LIST_ORDERS), &lo);
    APPEND(r->orders);
    whistle_response_free(r);
#undef APPEND
    *len = n;
    return buf;
}

static void setup(void)
{
    harness_start(&d, NULL);
    build_fixtures();
    adm = harness_connect(&d, "admin");
    snap = take_snapshot(&snap_len);
}

static void teardown(void)
{
    fprintf(stderr, "badreq: %d requests tried, the store unchanged after each\n", checked);
    cr_expect_eq(failures, 0, "%d rows failed (listed above)", failures);
    if (adm)
        whistle_close(adm);
    adm = NULL;
    free(snap);
    snap = NULL;
    char **ts[] = { &t_reported, &t_filed, &t_handling, &t_resolved, &t_verified, &t_closed, &t_whistled };
    for (size_t i = 0; i < sizeof ts / sizeof *ts; i++) {
        free(*ts[i]);
        *ts[i] = NULL;
    }
    harness_cleanup(&d);
}

TestSuite(badreq, .init = setup, .fini = teardown, .timeout = 180);

/* ------------------------------------------------------------ bodies */

static const ProtobufCFieldDescriptor *field(const ProtobufCMessage *m, const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(m->descriptor, name);
    cr_assert(f, "%s has no field %s", m->descriptor->name, name);
    return f;
}

static void set_str(ProtobufCMessage *m, const char *name, const char *v)
{
    *(const char **)((char *)m + field(m, name)->offset) = v;
}

/* Sets a scalar field of any numeric type. */
static void set_num(ProtobufCMessage *m, const ProtobufCFieldDescriptor *f, double v)
{
    char *p = (char *)m + f->offset;
    switch (f->type) {
    case PROTOBUF_C_TYPE_ENUM:
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: *(int32_t *)p = (int32_t)v; break;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: *(uint32_t *)p = (uint32_t)v; break;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64: *(int64_t *)p = (int64_t)v; break;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: *(uint64_t *)p = (uint64_t)v; break;
    case PROTOBUF_C_TYPE_BOOL: *(protobuf_c_boolean *)p = v != 0; break;
    case PROTOBUF_C_TYPE_DOUBLE: *(double *)p = v; break;
    case PROTOBUF_C_TYPE_FLOAT: *(float *)p = (float)v; break;
    default: cr_assert_fail("set_num on field %s of type %d", f->name, f->type);
    }
}

static void set(ProtobufCMessage *m, const char *name, double v) { set_num(m, field(m, name), v); }

static char *depts_base[] = { "fire", "health" };

/* A valid body for each call, from the fixtures; false for a call this
 * table does not know (a call added since: it still gets the mutations
 * whose outcome does not depend on a valid body). */
static bool base_body(int call, ProtobufCMessage *m)
{
    switch (call) {
    case CALL(HELLO):
        set(m, "protocol_version", 1);
        set_str(m, "client_name", "badreq");
        return true;
    case CALL(PING): set(m, "sent_ms", 1); return true;
    case CALL(REPORT):
        set_str(m, "node", FIRST_GRID);
        set_str(m, "category", "0102");
        set_str(m, "description", "a valid report");
        set_str(m, "contact", "13800001234");
        set_str(m, "external_id", "12345-1");
        set(m, "priority", 2);
        set(m, "source", 3);
        set(m, "has_location", 1);
        set(m, "lat", 39.9);
        set(m, "lon", 116.4);
        return true;
    case CALL(GET_EVENT): set_str(m, "ticket", t_whistled); return true;
    case CALL(LIST_EVENTS):
        set(m, "state", 1);
        set_str(m, "node", FIRST_GRID);
        set(m, "limit", 10);
        return true;
    case CALL(FILE):
        set_str(m, "ticket", t_reported);
        set_str(m, "note", "ok");
        return true;
    case CALL(REJECT):
        set_str(m, "ticket", t_reported);
        set_str(m, "reason", "duplicate");
        return true;
    case CALL(ASSIGN):
        set_str(m, "ticket", t_filed);
        set_str(m, "assignee", "gridworker");
        set_str(m, "note", "yours");
        return true;
    case CALL(RESOLVE):
        set_str(m, "ticket", t_handling);
        set_str(m, "note", "fixed");
        return true;
    case CALL(WHISTLE): {
        Whistle__V1__WhistleEvent *w = (Whistle__V1__WhistleEvent *)m;
        w->ticket = t_filed;
        w->departments = depts_base;
        w->n_departments = 2;
        w->lead = "fire";
        w->kind = 1;
        w->note = "go";
        return true;
    }
    case CALL(LIST_ORDERS):
        set_str(m, "department", "police");
        set(m, "state", 1);
        set_str(m, "ticket", t_whistled);
        set(m, "limit", 10);
        return true;
    case CALL(CHECK_IN):
        set(m, "order_id", (double)o_pending);
        set_str(m, "note", "here");
        return true;
    case CALL(FEEDBACK):
        set(m, "order_id", (double)o_checked_in);
        set_str(m, "text", "done");
        return true;
    case CALL(RETURN_ORDER):
        set(m, "order_id", (double)o_pending);
        set_str(m, "reason", "not ours");
        return true;
    case CALL(VERIFY):
        set_str(m, "ticket", t_resolved);
        set(m, "pass", 1);
        set_str(m, "note", "ok");
        return true;
    case CALL(CLOSE):
        set_str(m, "ticket", t_verified);
        set_str(m, "note", "ok");
        return true;
    case CALL(RATE):
        set_str(m, "ticket", t_closed);
        set(m, "score", 5);
        set_str(m, "comment", "good");
        return true;
    case CALL(LIST_NODES):
        set_str(m, "parent", "110105001");
        set(m, "kind", 3);
        return true;
    case CALL(LIST_DEPARTMENTS):
    case CALL(LIST_CATEGORIES): return true;
    case CALL(SUBSCRIBE):
        set_str(m, "stream", "dept:police");
        set(m, "after_seq", 0);
        return true;
    case CALL(LIST_SERVICES):
        set_str(m, "class_code", "01");
        set(m, "include_retired", 1);
        return true;
    case CALL(LOCATE_PLACE): /* China World, in the demo city's Jianwai Avenue grid */
        set(m, "lat", 39.9087);
        set(m, "lon", 116.4605);
        return true;
    default: return false;
    }
}

/* The calls: the message members of Request.call. */
static size_t calls(const ProtobufCFieldDescriptor **out, size_t cap)
{
    const ProtobufCMessageDescriptor *rd = &whistle__v1__request__descriptor;
    size_t n = 0;
    for (unsigned i = 0; i < rd->n_fields && n < cap; i++)
        if ((rd->fields[i].flags & PROTOBUF_C_FIELD_FLAG_ONEOF) && rd->fields[i].type == PROTOBUF_C_TYPE_MESSAGE)
            out[n++] = &rd->fields[i];
    return n;
}

static ProtobufCMessage *new_body(const ProtobufCFieldDescriptor *cf, bool *known)
{
    const ProtobufCMessageDescriptor *md = cf->descriptor;
    ProtobufCMessage *m = calloc(1, md->sizeof_message);
    md->message_init(m);
    *known = base_body((int)cf->id, m);
    return m;
}

/* ------------------------------------------------------------ the check */

/* Sends call with body; asserts the code, that the message names what
 * it should (when needle is set), that it is of reasonable size, and that
 * nothing changed. */
static void expect(const ProtobufCFieldDescriptor *cf, ProtobufCMessage *body, const char *idem, int code,
                   const char *needle, const char *what)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = cf->id;
    req.idempotency_key = (char *)(idem ? idem : "");
    *(ProtobufCMessage **)((char *)&req + cf->offset) = body;
    harness_capture_request(adm, &req);
    Whistle__V1__Response *resp = NULL;
    cr_assert_eq(whistle_call(adm, &req, &resp), 0, "%s %s: transport failed: %s", cf->name, what,
                 whistle_last_error(adm));
    int got = whistle_response_code(resp);
    const char *msg = whistle_response_message(resp);
    char fail[1024] = "";
    if (code >= 0 && got != code)
        snprintf(fail, sizeof fail, "expected %s, got %s: %.300s", whistle_code_name(code), whistle_code_name(got),
                 msg);
    else if (code < 0 && got == 0)
        snprintf(fail, sizeof fail, "was accepted");
    else if (got != 0 && strlen(msg) <= 10)
        snprintf(fail, sizeof fail, "%s without a message for people (\"%s\")", whistle_code_name(got), msg);
    else if (got != 0 && strlen(msg) >= 1100)
        snprintf(fail, sizeof fail, "a message of %zu bytes", strlen(msg));
    else if (got != 0 && needle && !strstr(msg, needle))
        snprintf(fail, sizeof fail, "the message does not name \"%s\": %.300s", needle, msg);
    whistle_response_free(resp);
    size_t len;
    uint8_t *now = take_snapshot(&len);
    bool changed = !(len == snap_len && memcmp(now, snap, len) == 0);
    free(now);
    if (!fail[0] && changed)
        snprintf(fail, sizeof fail, "changed the store");
    if (fail[0]) {
        /* BADREQ_KEEP_GOING=1 lists every failing row of a run at once (for
         * whoever adds a call) instead of stopping at the first. */
        if (getenv("BADREQ_KEEP_GOING")) {
            fprintf(stderr, "badreq: FAIL: %s with %s: %s\n", cf->name, what, fail);
            failures++;
            if (changed) {
                free(snap);
                snap = take_snapshot(&snap_len);
            }
        } else {
            cr_assert_fail("%s with %s: %s", cf->name, what, fail);
        }
    }
    checked++;
}

/* The largest string a request frame holds with room for the rest. */
static char *huge_string(size_t *n)
{
    const Whistle__V1__HelloResult *h = whistle_hello(adm);
    *n = h->max_frame - 2048;
    char *s = malloc(*n + 1);
    memset(s, 'x', *n);
    s[*n] = 0;
    return s;
}

/* ------------------------------------------------------------ tests */

Test(badreq, invalid_utf8_in_every_string_field)
{
    const ProtobufCFieldDescriptor *cs[128];
    size_t nc = calls(cs, 128);
    for (size_t i = 0; i < nc; i++) {
        const ProtobufCMessageDescriptor *md = cs[i]->descriptor;
        for (unsigned k = 0; k < md->n_fields; k++) {
            const ProtobufCFieldDescriptor *f = &md->fields[k];
            if (f->type != PROTOBUF_C_TYPE_STRING)
                continue;
            bool known;
            ProtobufCMessage *m = new_body(cs[i], &known);
            static const char *bad[] = { "ok \xc3\x28 bad", "\xed\xa0\x80 surrogate", "\xc0\xaf overlong",
                                         "\xf4\x90\x80\x80 beyond U+10FFFF" };
            for (size_t b = 0; b < 4; b++) {
                if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                    char *arr[] = { (char *)bad[b] };
                    *(size_t *)((char *)m + f->quantifier_offset) = 1;
                    *(char ***)((char *)m + f->offset) = arr;
                    expect(cs[i], m, NULL, CODE(INVALID_ARGUMENT), f->name, "invalid UTF-8 (repeated)");
                } else {
                    *(const char **)((char *)m + f->offset) = bad[b];
                    expect(cs[i], m, NULL, CODE(INVALID_ARGUMENT), f->name, "invalid UTF-8");
                }
            }
            free(m);
        }
    }
    cr_log_info("%d requests checked", checked);
}

Test(badreq, frame_sized_string_in_every_string_field)
{
    size_t n;
    char *frame_sized = huge_string(&n);
    /* The router refuses any string over 16 KiB for every call; one just
     * under that reaches the call, whose own limit must answer. */
    char *under_cap = malloc(16001);
    memset(under_cap, 'x', 16000);
    under_cap[16000] = 0;
    const ProtobufCFieldDescriptor *cs[128];
    size_t nc = calls(cs, 128);
    for (int round = 0; round < 2; round++) {
        char *huge = round ? under_cap : frame_sized;
        const char *what = round ? "a string of 16,000 bytes" : "a string of max_frame - 2 KiB bytes";
        for (size_t i = 0; i < nc; i++) {
            const ProtobufCMessageDescriptor *md = cs[i]->descriptor;
            for (unsigned k = 0; k < md->n_fields; k++) {
                const ProtobufCFieldDescriptor *f = &md->fields[k];
                if (f->type != PROTOBUF_C_TYPE_STRING)
                    continue;
                bool known;
                ProtobufCMessage *m = new_body(cs[i], &known);
                char *arr[] = { huge };
                if (f->label == PROTOBUF_C_LABEL_REPEATED) {
                    *(size_t *)((char *)m + f->quantifier_offset) = 1;
                    *(char ***)((char *)m + f->offset) = arr;
                } else {
                    *(const char **)((char *)m + f->offset) = huge;
                }
                /* A call this table does not know has no valid body: it must
             * refuse, whatever the code. */
                expect(cs[i], m, NULL, known ? CODE(INVALID_ARGUMENT) : -1, known ? f->name : NULL, what);
                free(m);
            }
        }
    }
    free(frame_sized);
    free(under_cap);
    /* and the request's own idempotency key, on a write */
    const ProtobufCFieldDescriptor *file =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(FILE));
    bool known;
    ProtobufCMessage *m = new_body(file, &known);
    char key[200];
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = 0;
    expect(file, m, key, CODE(INVALID_ARGUMENT), "idempotency_key", "a 199-byte idempotency_key");
    free(m);
}

Test(badreq, repeated_fields_filling_a_frame)
{
    const ProtobufCFieldDescriptor *cs[128];
    size_t nc = calls(cs, 128);
    const Whistle__V1__HelloResult *h = whistle_hello(adm);
    int repeated = 0;
    for (size_t i = 0; i < nc; i++) {
        const ProtobufCMessageDescriptor *md = cs[i]->descriptor;
        for (unsigned k = 0; k < md->n_fields; k++) {
            const ProtobufCFieldDescriptor *f = &md->fields[k];
            if (f->label != PROTOBUF_C_LABEL_REPEATED)
                continue;
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && md == &whistle__v1__set_care_tags__descriptor)
                continue; /* repeated messages: below */
            if (f->type == PROTOBUF_C_TYPE_MESSAGE && strcmp(f->name, "attributes") == 0)
                continue; /* the answers to a category's attributes: below */
            if (strcmp(f->name, "items") == 0 || strcmp(f->name, "approvals") == 0)
                continue; /* a meeting's agenda, a ballot's approvals: below */
            if (md == &whistle__v1__fed_directory__descriptor)
                continue; /* a bridge's call, refused to the admin by role (its bound: tests/unit/test_fed.c) */
            cr_assert_eq(f->type, PROTOBUF_C_TYPE_STRING, "%s.%s: only repeated strings are known here", md->name,
                         f->name);
            /* "police" is 8 bytes on the wire with a one-byte tag (9 with
             * the two bytes of a field numbered 16 or more): as many as the
             * frame holds */
            size_t count = (h->max_frame - 2048) / (f->id < 16 ? 8 : 9);
            char **arr = malloc(count * sizeof *arr);
            for (size_t j = 0; j < count; j++)
                arr[j] = "police";
            bool known;
            ProtobufCMessage *m = new_body(cs[i], &known);
            *(size_t *)((char *)m + f->quantifier_offset) = count;
            *(char ***)((char *)m + f->offset) = arr;
            expect(cs[i], m, NULL, known ? CODE(INVALID_ARGUMENT) : -1, known ? f->name : NULL,
                   "a repeated field filling the frame");
            /* and just past the allowed count, with no duplicates */
            free(m);
            free(arr);
            repeated++;
        }
    }
    cr_assert_geq(repeated, 1);
    /* SetCareTags.tags: as many tags as the frame holds (the city's list
     * holds 50) */
    {
        const ProtobufCFieldDescriptor *sf =
            protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(SET_CARE_TAGS));
        Whistle__V1__CareTag tag = WHISTLE__V1__CARE_TAG__INIT;
        tag.code = "alone";
        tag.name_zh = "独居";
        size_t count = (h->max_frame - 2048) / 20;
        Whistle__V1__CareTag **tags = malloc(count * sizeof *tags);
        for (size_t j = 0; j < count; j++)
            tags[j] = &tag;
        Whistle__V1__SetCareTags st = WHISTLE__V1__SET_CARE_TAGS__INIT;
        st.tags = tags;
        st.n_tags = count;
        expect(sf, &st.base, NULL, CODE(INVALID_ARGUMENT), "at most 50", "care tags filling the frame");
        free(tags);
    }
    /* ReportEvent.attributes: as many answers as the frame holds */
    {
        const ProtobufCFieldDescriptor *rf =
            protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(REPORT));
        bool rknown;
        ProtobufCMessage *m = new_body(rf, &rknown);
        size_t count = (h->max_frame - 2048) / 16;
        Whistle__V1__AttributeAnswer *answers = calloc(count, sizeof *answers);
        Whistle__V1__AttributeAnswer **ptrs = calloc(count, sizeof *ptrs);
        char *bags[] = { "bags" };
        for (size_t j = 0; j < count; j++) {
            whistle__v1__attribute_answer__init(&answers[j]);
            answers[j].code = "kind";
            answers[j].values = bags;
            answers[j].n_values = 1;
            ptrs[j] = &answers[j];
        }
        Whistle__V1__ReportEvent *rep = (Whistle__V1__ReportEvent *)m;
        rep->attributes = ptrs;
        rep->n_attributes = count;
        expect(rf, m, NULL, CODE(INVALID_ARGUMENT), "attribute", "attribute answers filling the frame");
        free(ptrs);
        free(answers);
        free(m);
    }
    /* ScheduleDelibMeeting.items (empty items, 2 bytes each) and
     * CastDelibVote.approvals (packed, a byte each): as many as the frame
     * holds, refused before anything is loaded */
    {
        const ProtobufCFieldDescriptor *sf =
            protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(SCHEDULE_MEETING));
        bool sknown;
        Whistle__V1__ScheduleDelibMeeting *sm = (Whistle__V1__ScheduleDelibMeeting *)new_body(sf, &sknown);
        size_t count = (h->max_frame - 2048) / 2;
        Whistle__V1__DelibItemSpec *items = calloc(count, sizeof *items);
        Whistle__V1__DelibItemSpec **ptrs = calloc(count, sizeof *ptrs);
        for (size_t j = 0; j < count; j++) {
            whistle__v1__delib_item_spec__init(&items[j]);
            ptrs[j] = &items[j];
        }
        sm->items = ptrs;
        sm->n_items = count;
        expect(sf, &sm->base, NULL, CODE(INVALID_ARGUMENT), "items", "agenda items filling the frame");
        free(ptrs);
        free(items);
        free(sm);
        const ProtobufCFieldDescriptor *vf =
            protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(CAST_VOTE));
        Whistle__V1__CastDelibVote *v = (Whistle__V1__CastDelibVote *)new_body(vf, &sknown);
        count = h->max_frame - 2048;
        v->approvals = calloc(count, sizeof *v->approvals);
        v->n_approvals = count;
        expect(vf, &v->base, NULL, CODE(INVALID_ARGUMENT), "approvals", "approvals filling the frame");
        free(v->approvals);
        free(v);
    }
    /* WhistleEvent.departments: 33 distinct names, one too many */
    const ProtobufCFieldDescriptor *wf =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(WHISTLE));
    bool known;
    Whistle__V1__WhistleEvent *w = (Whistle__V1__WhistleEvent *)new_body(wf, &known);
    char names[33][8], *arr[33];
    for (int j = 0; j < 33; j++) {
        snprintf(names[j], sizeof names[j], "d%02d", j);
        arr[j] = names[j];
    }
    w->departments = arr;
    w->n_departments = 33;
    w->lead = "";
    expect(wf, &w->base, NULL, CODE(INVALID_ARGUMENT), "at most 32", "33 departments");
    char *twice[] = { "police", "police" };
    w->departments = twice;
    w->n_departments = 2;
    expect(wf, &w->base, NULL, CODE(INVALID_ARGUMENT), "named twice", "a department named twice");
    free(w);
}

Test(badreq, enum_fields_out_of_range)
{
    const ProtobufCFieldDescriptor *cs[128];
    size_t nc = calls(cs, 128);
    int enums = 0;
    for (size_t i = 0; i < nc; i++) {
        const ProtobufCMessageDescriptor *md = cs[i]->descriptor;
        for (unsigned k = 0; k < md->n_fields; k++) {
            const ProtobufCFieldDescriptor *f = &md->fields[k];
            if (f->type != PROTOBUF_C_TYPE_ENUM)
                continue;
            const int values[] = { 99, -1, 1 << 30 };
            for (size_t v = 0; v < 3; v++) {
                bool known;
                ProtobufCMessage *m = new_body(cs[i], &known);
                set_num(m, f, values[v]);
                char what[64];
                snprintf(what, sizeof what, "%s = %d", f->name, values[v]);
                expect(cs[i], m, NULL, known ? CODE(INVALID_ARGUMENT) : -1, known ? f->name : NULL, what);
                free(m);
            }
            enums++;
        }
    }
    cr_assert_geq(enums, 6);
}

/* Required fields, each left out of an otherwise valid body, and the empty
 * body of every call. */
static const struct {
    int call;
    const char *field; /* NULL: the whole body empty */
    int code;          /* expected */
    const char *needle;
} missing[] = {
    { CALL(HELLO), NULL, 0, NULL }, /* version 0: the current one */
    { CALL(PING), NULL, 0, NULL },
    { CALL(REPORT), NULL, CODE(INVALID_ARGUMENT), "node" },
    /* no node, but a location: placed by it, and (39.9, 116.4) is in no grid */
    { CALL(REPORT), "node", CODE(FAILED_PRECONDITION), "outside every grid" },
    { CALL(REPORT), "category", CODE(INVALID_ARGUMENT), "category" },
    { CALL(REPORT), "description", CODE(INVALID_ARGUMENT), "description" },
    { CALL(GET_EVENT), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(LIST_EVENTS), NULL, 0, NULL }, /* everything in the caller's scope */
    { CALL(FILE), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(REJECT), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(REJECT), "reason", CODE(INVALID_ARGUMENT), "reason" },
    { CALL(ASSIGN), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(ASSIGN), "assignee", CODE(INVALID_ARGUMENT), "assignee" },
    { CALL(RESOLVE), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(RESOLVE), "note", CODE(INVALID_ARGUMENT), "note" },
    { CALL(WHISTLE), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(WHISTLE), "departments", CODE(INVALID_ARGUMENT), "departments" },
    { CALL(LIST_ORDERS), NULL, 0, NULL },
    { CALL(CHECK_IN), NULL, CODE(INVALID_ARGUMENT), "order_id" },
    { CALL(FEEDBACK), NULL, CODE(INVALID_ARGUMENT), "order_id" },
    { CALL(FEEDBACK), "text", CODE(INVALID_ARGUMENT), "text" },
    { CALL(RETURN_ORDER), NULL, CODE(INVALID_ARGUMENT), "order_id" },
    { CALL(RETURN_ORDER), "reason", CODE(INVALID_ARGUMENT), "reason" },
    { CALL(VERIFY), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(CLOSE), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(RATE), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    { CALL(RATE), "score", CODE(INVALID_ARGUMENT), "score" },
    { CALL(LIST_NODES), NULL, 0, NULL },
    { CALL(LIST_DEPARTMENTS), NULL, 0, NULL },
    { CALL(LIST_CATEGORIES), NULL, 0, NULL },
    { CALL(SUBSCRIBE), NULL, CODE(INVALID_ARGUMENT), "name a stream" }, /* an admin has no stream of its own */
    /* the resident archive (docs/archive.md): these requests are an
     * admin's, who keeps the care tags, the counts and the export only */
    { CALL(PUT_HOUSEHOLD), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(PUT_RESIDENT), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(GET_HOUSEHOLD), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(GET_RESIDENT), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(LIST_HOUSEHOLDS), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(PUT_ARCHIVE_UNIT), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(LIST_ARCHIVE_UNITS), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(LIST_CARE_TAGS), NULL, 0, NULL },
    { CALL(IMPORT_ARCHIVE), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(EXPORT_ARCHIVE), NULL, CODE(INVALID_ARGUMENT), "reason" },
    { CALL(RECORD_VISIT), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(LIST_VISITS), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(LIST_VISITS_DUE), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(GET_ARCHIVE_STATS), NULL, 0, NULL },
    { CALL(POST_NOTICE), NULL, CODE(INVALID_ARGUMENT), "notice" },
    { CALL(LIST_BOARD), NULL, 0, NULL },
    { CALL(WITHDRAW_NOTICE), NULL, CODE(INVALID_ARGUMENT), "reason" },
    { CALL(LIST_SERVICES), NULL, 0, NULL },
    { CALL(LOCATE_PLACE), NULL, CODE(NOT_FOUND), "outside every grid" },
    /* federation (docs/federation.md): a bridge's calls, refused to an
     * admin by role before anything is read; a transfer needs its case */
    { CALL(FED_APPLY), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(FED_DIRECTORY), NULL, CODE(PERMISSION_DENIED), "rule" },
    { CALL(TRANSFER), NULL, CODE(INVALID_ARGUMENT), "ticket" },
    /* (0, 0): the Gulf of Guinea */ /* the whole guide */
};

Test(badreq, missing_fields_of_every_call)
{
    const ProtobufCFieldDescriptor *cs[128];
    size_t nc = calls(cs, 128);
    for (size_t i = 0; i < nc; i++) {
        bool empty_listed = false;
        for (size_t r = 0; r < sizeof missing / sizeof *missing; r++) {
            if (missing[r].call != (int)cs[i]->id)
                continue;
            bool known;
            ProtobufCMessage *m = new_body(cs[i], &known);
            const char *what = "an empty body";
            if (missing[r].field) {
                const ProtobufCFieldDescriptor *f = field(m, missing[r].field);
                if (f->label == PROTOBUF_C_LABEL_REPEATED)
                    *(size_t *)((char *)m + f->quantifier_offset) = 0;
                else if (f->type == PROTOBUF_C_TYPE_STRING)
                    *(const char **)((char *)m + f->offset) = "";
                else
                    set_num(m, f, 0);
                what = missing[r].field;
            } else {
                const ProtobufCMessageDescriptor *md = cs[i]->descriptor;
                md->message_init(m);
                empty_listed = true;
            }
            expect(cs[i], m, NULL, missing[r].code, missing[r].needle, what);
            free(m);
        }
        if (!empty_listed)
            fprintf(stderr, "badreq: call %s has no row in missing[]: add what its empty body must get\n", cs[i]->name);
    }
    /* verify --fail needs a note saying what failed */
    const ProtobufCFieldDescriptor *vf =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(VERIFY));
    bool known;
    ProtobufCMessage *m = new_body(vf, &known);
    set(m, "pass", 0);
    set_str(m, "note", "");
    expect(vf, m, NULL, CODE(INVALID_ARGUMENT), "note", "pass = false without a note");
    free(m);
}

Test(badreq, numbers_out_of_range)
{
    const ProtobufCFieldDescriptor *rep =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(REPORT));
    const double bad_loc[][2] = {
        { 91, 116 }, { -91, 116 }, { 39, 181 }, { 39, -181 }, { NAN, 116 }, { 39, INFINITY }
    };
    for (size_t i = 0; i < sizeof bad_loc / sizeof *bad_loc; i++) {
        bool known;
        ProtobufCMessage *m = new_body(rep, &known);
        set(m, "lat", bad_loc[i][0]);
        set(m, "lon", bad_loc[i][1]);
        expect(rep, m, NULL, CODE(INVALID_ARGUMENT), "location", "a location off the globe");
        free(m);
    }
    const ProtobufCFieldDescriptor *rate =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(RATE));
    const double scores[] = { 6, 100, 4294967295.0 };
    for (size_t i = 0; i < 3; i++) {
        bool known;
        ProtobufCMessage *m = new_body(rate, &known);
        set(m, "score", scores[i]);
        expect(rate, m, NULL, CODE(INVALID_ARGUMENT), "score", "a score above 5");
        free(m);
    }
    /* Hello with a version this server does not speak: refused, as
     * documented, with FAILED_PRECONDITION */
    const ProtobufCFieldDescriptor *hello =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(HELLO));
    bool known;
    ProtobufCMessage *m = new_body(hello, &known);
    set(m, "protocol_version", 2);
    expect(hello, m, NULL, CODE(FAILED_PRECONDITION), "protocol version 2", "protocol_version = 2");
    free(m);
    /* A list limit above 500 is served as 500 (documented), changing
     * nothing; an after_seq past the stream is an empty replay. */
    const ProtobufCFieldDescriptor *le =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(LIST_EVENTS));
    m = new_body(le, &known);
    set(m, "limit", 4294967295.0);
    expect(le, m, NULL, 0, NULL, "limit = 2^32 - 1");
    free(m);
    /* Orders that do not exist are not found, not invalid */
    const ProtobufCFieldDescriptor *ci =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(CHECK_IN));
    m = new_body(ci, &known);
    ((Whistle__V1__CheckIn *)m)->order_id = UINT64_MAX;
    expect(ci, m, NULL, CODE(NOT_FOUND), "no order", "order_id = 2^64 - 1");
    free(m);
    /* A service class is 2 digits; one that is not there is not found */
    const ProtobufCFieldDescriptor *ls =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, CALL(LIST_SERVICES));
    const char *bad_class[] = { "1", "011", "a1", "-1", "０１" };
    for (size_t i = 0; i < sizeof bad_class / sizeof *bad_class; i++) {
        m = new_body(ls, &known);
        set_str(m, "class_code", bad_class[i]);
        expect(ls, m, NULL, CODE(INVALID_ARGUMENT), "class_code", "a class code that is not 2 digits");
        free(m);
    }
    m = new_body(ls, &known);
    set_str(m, "class_code", "99");
    expect(ls, m, NULL, CODE(NOT_FOUND), "no service class 99", "class_code = 99");
    free(m);
}
