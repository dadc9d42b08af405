/* city_setup.c: `whistle-city setup CITY.json` (streams, buckets,
 * consumers and the directory; run it again at will: what exists is
 * checked or updated, a directory entry is rewritten only when it
 * changed), and the unrouted cases: `unrouted`, `place`. */
#include <inttypes.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "city.h"
#include "pbjson.h"
#include "whistle/v1/whistle.pb-c.h"

#define NS_PER_S 1000000000LL
#define REPLICAS 3
/* JetStream forgets a Msg-Id after this; a district's store never does
 * (external_id -> ticket, the command's key). */
#define DUP_WINDOW (10LL * 60 * NS_PER_S)
/* what the streams keep: a month, more than any outage should last */
#define KEEP (30LL * 24 * 3600 * NS_PER_S)

static int add_stream(city_conn *c, const char *name, const char *subject)
{
    jsStreamConfig sc;
    jsStreamConfig_Init(&sc);
    const char *subjects[] = { subject };
    sc.Name = name;
    sc.Subjects = subjects;
    sc.SubjectsLen = 1;
    sc.Storage = js_FileStorage;
    sc.Replicas = REPLICAS;
    sc.Duplicates = DUP_WINDOW;
    sc.MaxAge = KEEP;
    sc.AllowDirect = true;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddStream(&si, c->js, &sc, NULL, &jerr);
    if (s != NATS_OK && jerr == JSStreamNameExistErr) {
        jerr = 0;
        s = js_UpdateStream(&si, c->js, &sc, NULL, &jerr);
    }
    if (s != NATS_OK) {
        char what[128];
        snprintf(what, sizeof what, "stream %s", name);
        city_nats_err(CITY_PROG, what, s, jerr);
        return -1;
    }
    jsStreamInfo_Destroy(si);
    printf(_("stream %s (%s): ready\n"), name, subject);
    return 0;
}

static int add_consumer(city_conn *c, const char *stream, const char *durable, const char *filter, int64_t ack_wait_s)
{
    jsConsumerConfig cc;
    jsConsumerConfig_Init(&cc);
    cc.Durable = durable;
    cc.FilterSubject = filter;
    cc.AckPolicy = js_AckExplicit;
    cc.AckWait = ack_wait_s * NS_PER_S;
    cc.DeliverPolicy = js_DeliverAll;
    cc.MaxAckPending = 4096;
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_AddConsumer(&ci, c->js, stream, &cc, NULL, &jerr);
    if (s != NATS_OK && (jerr == JSConsumerNameExistErr || jerr == JSConsumerExistingActiveErr)) {
        jerr = 0;
        s = js_UpdateConsumer(&ci, c->js, stream, &cc, NULL, &jerr);
    }
    if (s != NATS_OK) {
        char what[200];
        snprintf(what, sizeof what, "consumer %s of %s", durable, stream);
        city_nats_err(CITY_PROG, what, s, jerr);
        return -1;
    }
    jsConsumerInfo_Destroy(ci);
    printf(_("consumer %s/%s (%s): ready\n"), stream, durable, filter);
    return 0;
}

static int open_kv(city_conn *c, const char *bucket, int64_t history, kvStore **kv)
{
    kvConfig kc;
    kvConfig_Init(&kc);
    kc.Bucket = bucket;
    kc.History = history;
    kc.Replicas = REPLICAS;
    kc.StorageType = js_FileStorage;
    natsStatus s = js_CreateKeyValue(kv, c->js, &kc);
    if (s != NATS_OK) /* it exists (perhaps with other settings): use it */
        s = js_KeyValue(kv, c->js, bucket);
    if (s != NATS_OK) {
        char what[128];
        snprintf(what, sizeof what, "key-value bucket %s", bucket);
        city_nats_err(CITY_PROG, what, s, 0);
        return -1;
    }
    printf(_("bucket %s: ready\n"), bucket);
    return 0;
}

/* Puts key = the packed entry unless it already holds exactly that. */
static int put_entry(kvStore *kv, Whistle__V1__FedDirEntry *e, int *changed)
{
    size_t len = protobuf_c_message_get_packed_size(&e->base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -1;
    protobuf_c_message_pack(&e->base, buf);
    kvEntry *old = NULL;
    natsStatus s = kvStore_Get(&old, kv, e->key);
    bool same = s == NATS_OK && (size_t)kvEntry_ValueLen(old) == len && memcmp(kvEntry_Value(old), buf, len) == 0;
    kvEntry_Destroy(old);
    int rc = 0;
    if (!same) {
        uint64_t rev = 0;
        s = kvStore_Put(&rev, kv, e->key, buf, (int)len);
        if (s != NATS_OK) {
            city_nats_err(CITY_PROG, e->key, s, 0);
            rc = -1;
        } else {
            (*changed)++;
        }
    }
    free(buf);
    return rc;
}

/* The key's code: 6 digits for a district, an identifier for the rest
 * (it is a NATS subject token: no dots, spaces or wildcards). */
static int check_code(const char *what, const char *code)
{
    if (!code || !code[0] || strlen(code) > 64)
        goto bad;
    for (const char *p = code; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '_' ||
              *p == '-'))
            goto bad;
    return 0;
bad:
    city_err(_("%s code '%s': use 1-64 letters, digits, '_' or '-'\n"), what, code ? code : "");
    return -1;
}

static int load_directory(kvStore *kv, json_t *city, int *changed)
{
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(city, "districts"), i, v)
    {
        Whistle__V1__FedDistrict d = WHISTLE__V1__FED_DISTRICT__INIT;
        d.code = (char *)json_string_value(json_object_get(v, "code"));
        if (!city_is_district(d.code)) {
            city_err(_("district %zu: code must be 6 digits\n"), i + 1);
            return -1;
        }
        const char *zh = json_string_value(json_object_get(v, "name_zh"));
        const char *en = json_string_value(json_object_get(v, "name_en"));
        d.name_zh = (char *)(zh ? zh : "");
        d.name_en = (char *)(en ? en : "");
        json_t *b = json_object_get(v, "boundary");
        char *bs = NULL;
        if (json_is_object(b))
            bs = json_dumps(b, JSON_COMPACT | JSON_SORT_KEYS);
        else if (json_is_string(b))
            bs = strdup(json_string_value(b));
        d.boundary = bs ? bs : (char *)"";
        json_t *gp = json_object_get(v, "grid_prefixes");
        size_t n = json_array_size(gp);
        char **pre = calloc(n + 1, sizeof *pre);
        for (size_t k = 0; pre && k < n; k++) {
            const char *p = json_string_value(json_array_get(gp, k));
            pre[k] = (char *)(p ? p : "");
        }
        d.grid_prefixes = pre;
        d.n_grid_prefixes = n;
        char key[64];
        snprintf(key, sizeof key, "district.%s", d.code);
        Whistle__V1__FedDirEntry e = WHISTLE__V1__FED_DIR_ENTRY__INIT;
        e.key = key;
        e.district = &d;
        int rc = pre ? put_entry(kv, &e, changed) : -1;
        free(pre);
        if (bs)
            free(bs);
        if (rc)
            return -1;
    }
    json_array_foreach(json_object_get(city, "departments"), i, v)
    {
        char err[256];
        ProtobufCMessage *m = NULL;
        if (pbj_from_json(&whistle__v1__department__descriptor, v, &m, err, sizeof err) != 0) {
            city_err(_("department %zu: %s\n"), i + 1, err);
            return -1;
        }
        Whistle__V1__Department *dep = (Whistle__V1__Department *)m;
        if (check_code("department", dep->code) != 0) {
            protobuf_c_message_free_unpacked(m, NULL);
            return -1;
        }
        dep->city = true;
        char key[96];
        snprintf(key, sizeof key, "dept.%s", dep->code);
        Whistle__V1__FedDirEntry e = WHISTLE__V1__FED_DIR_ENTRY__INIT;
        e.key = key;
        e.department = dep;
        int rc = put_entry(kv, &e, changed);
        protobuf_c_message_free_unpacked(m, NULL);
        if (rc)
            return -1;
    }
    json_array_foreach(json_object_get(city, "categories"), i, v)
    {
        char err[256];
        ProtobufCMessage *m = NULL;
        if (pbj_from_json(&whistle__v1__category__descriptor, v, &m, err, sizeof err) != 0) {
            city_err(_("category %zu: %s\n"), i + 1, err);
            return -1;
        }
        Whistle__V1__Category *cat = (Whistle__V1__Category *)m;
        if (check_code("category", cat->code) != 0) {
            protobuf_c_message_free_unpacked(m, NULL);
            return -1;
        }
        char key[96];
        snprintf(key, sizeof key, "cat.%s", cat->code);
        Whistle__V1__FedDirEntry e = WHISTLE__V1__FED_DIR_ENTRY__INIT;
        e.key = key;
        e.category = cat;
        int rc = put_entry(kv, &e, changed);
        protobuf_c_message_free_unpacked(m, NULL);
        if (rc)
            return -1;
    }
    return 0;
}

int city_setup(city_conn *c, int argc, char **argv)
{
    if (argc != 2) {
        city_usage("setup CITY.json");
        return 2;
    }
    json_error_t je;
    json_t *city = json_load_file(argv[1], 0, &je);
    if (!city) {
        city_err(_("%s:%d: %s\n"), argv[1], je.line, je.text);
        return 1;
    }
    int rc = 1;
    kvStore *dir = NULL, *st = NULL;
    if (!json_is_array(json_object_get(city, "districts")) || !json_array_size(json_object_get(city, "districts"))) {
        city_err(_("%s: \"districts\" must list the city's districts\n"), argv[1]);
        goto out;
    }
    if (add_stream(c, CITY_STREAM_HOTLINE, "hotline.in") || add_stream(c, CITY_STREAM_INTAKE, "intake.>") ||
        add_stream(c, CITY_STREAM_EV, "ev.>") || add_stream(c, CITY_STREAM_CMD, "cmd.>"))
        goto out;
    if (open_kv(c, CITY_KV_DIR, 5, &dir) || open_kv(c, CITY_KV_STATS, 1, &st))
        goto out;
    /* the city's own readers */
    if (add_consumer(c, CITY_STREAM_HOTLINE, "router", "hotline.in", 10) ||
        add_consumer(c, CITY_STREAM_EV, "gapwatch", "ev.>", 10) ||
        add_consumer(c, CITY_STREAM_CMD, "gapwatch_cmd", "cmd.*.transfer", 10) ||
        add_consumer(c, CITY_STREAM_EV, "feeder", "ev.*.case.>", 10))
        goto out;
    size_t i;
    json_t *v;
    json_array_foreach(json_object_get(city, "districts"), i, v)
    {
        const char *d = json_string_value(json_object_get(v, "code"));
        if (!city_is_district(d)) {
            city_err(_("district %zu: code must be 6 digits\n"), i + 1);
            goto out;
        }
        char name[64], filter[64];
        snprintf(name, sizeof name, "intake_%s", d);
        snprintf(filter, sizeof filter, "intake.%s", d);
        if (add_consumer(c, CITY_STREAM_INTAKE, name, filter, 10))
            goto out;
        snprintf(name, sizeof name, "cmd_%s", d);
        snprintf(filter, sizeof filter, "cmd.%s.>", d);
        if (add_consumer(c, CITY_STREAM_CMD, name, filter, 10))
            goto out;
    }
    json_array_foreach(json_object_get(city, "departments"), i, v)
    {
        const char *k = json_string_value(json_object_get(v, "code"));
        if (check_code("department", k) != 0)
            goto out;
        char name[96], filter[96];
        snprintf(name, sizeof name, "desk_%s", k);
        snprintf(filter, sizeof filter, "ev.*.order.%s", k);
        if (add_consumer(c, CITY_STREAM_EV, name, filter, 30))
            goto out;
    }
    int changed = 0;
    if (load_directory(dir, city, &changed) != 0)
        goto out;
    printf(ngettext("directory: %d entry written\n", "directory: %d entries written\n", (unsigned long)changed),
           changed);
    rc = 0;
out:
    kvStore_Destroy(dir);
    kvStore_Destroy(st);
    json_decref(city);
    return rc;
}

/* ---- unrouted cases ------------------------------------------------------ */

/* The next message of intake.unrouted at or after seq, read from the
 * stream's leader ($JS.API.STREAM.MSG.GET with next_by_subj). A direct get
 * would be cheaper, but any replica answers it, and a follower that was
 * away (a node stopped, then back) answers "no more" from where it lags,
 * so a person would be shown part of the list. Returns 1 with *out (its
 * seq in *at), 0 at the end, -1 after saying why. */
static int unrouted_next(city_conn *c, uint64_t seq, natsMsg **out, uint64_t *at)
{
    char subj[128], req[192];
    snprintf(subj, sizeof subj, "$JS.API.STREAM.MSG.GET.%s", CITY_STREAM_INTAKE);
    int rl = snprintf(req, sizeof req, "{\"seq\":%" PRIu64 ",\"next_by_subj\":\"%s\"}", seq, CITY_SUBJ_UNROUTED);
    natsMsg *reply = NULL;
    natsStatus s = natsConnection_Request(&reply, c->nc, subj, req, rl, 10000);
    if (s != NATS_OK) {
        city_nats_err(CITY_PROG, "reading intake.unrouted", s, 0);
        return -1;
    }
    json_error_t je;
    json_t *j = json_loadb(natsMsg_GetData(reply), (size_t)natsMsg_GetDataLength(reply), 0, &je);
    natsMsg_Destroy(reply);
    json_t *err = json_object_get(j, "error"), *msg = json_object_get(j, "message");
    int rc = -1;
    if (err) {
        if (json_integer_value(json_object_get(err, "code")) == 404)
            rc = 0; /* no message at or after seq */
        else
            city_err(_("reading intake.unrouted: %s\n"), json_string_value(json_object_get(err, "description"))
                                                             ? json_string_value(json_object_get(err, "description"))
                                                             : "error");
    } else if (!msg || !json_is_integer(json_object_get(msg, "seq"))) {
        city_err(_("reading intake.unrouted: no sequence in the answer\n"));
    } else {
        const char *b64 = json_string_value(json_object_get(msg, "data"));
        size_t n = b64 ? strlen(b64) : 0;
        unsigned char *data = malloc(n / 4 * 3 + 4);
        int len = data && n ? EVP_DecodeBlock(data, (const unsigned char *)b64, (int)n) : 0;
        if (len >= 0 && n >= 2) /* EVP_DecodeBlock counts the padding as bytes */
            len -= (b64[n - 1] == '=') + (b64[n - 2] == '=');
        if (!data || len < 0) {
            city_err(_("reading intake.unrouted: a message the server sent is not base64\n"));
        } else if (natsMsg_Create(out, CITY_SUBJ_UNROUTED, NULL, (const char *)data, len) == NATS_OK) {
            *at = (uint64_t)json_integer_value(json_object_get(msg, "seq"));
            rc = *at >= seq ? 1 : -1;
            if (rc < 0) {
                natsMsg_Destroy(*out);
                city_err(_("reading intake.unrouted: no sequence in the answer\n"));
            }
        }
        free(data);
    }
    json_decref(j);
    return rc;
}

/* Calls fn for each message of intake.unrouted (in order) until it
 * returns non-zero; returns that, 0 at the end, or -1. */
static int walk_unrouted(city_conn *c, int (*fn)(natsMsg *, uint64_t, void *), void *arg)
{
    uint64_t seq = 1;
    for (;;) {
        natsMsg *m = NULL;
        uint64_t at = 0;
        int got = unrouted_next(c, seq, &m, &at);
        if (got <= 0)
            return got;
        int r = fn(m, at, arg);
        natsMsg_Destroy(m);
        if (r)
            return r;
        seq = at + 1;
    }
}

static int print_unrouted(natsMsg *m, uint64_t seq, void *arg)
{
    (void)arg;
    Whistle__V1__FedIntake *in =
        whistle__v1__fed_intake__unpack(NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    if (!in)
        return 0;
    json_t *j = city_pb_json(&in->base);
    json_object_set_new(j, "stream_seq", json_integer((json_int_t)seq));
    city_print_json(j);
    whistle__v1__fed_intake__free_unpacked(in, NULL);
    return 0;
}

int city_unrouted(city_conn *c, int argc, char **argv)
{
    (void)argv;
    if (argc != 1) {
        city_usage("unrouted");
        return 2;
    }
    return walk_unrouted(c, print_unrouted, NULL) < 0 ? 1 : 0;
}

typedef struct place_arg {
    city_conn *c;
    char **pairs; /* EXT_ID DISTRICT ... */
    int npairs;
    int *done; /* per pair */
    int failed;
} place_arg;

static int place_one(natsMsg *m, uint64_t seq, void *arg)
{
    place_arg *p = arg;
    Whistle__V1__FedIntake *in =
        whistle__v1__fed_intake__unpack(NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    int k = -1;
    for (int i = 0; in && i < p->npairs && k < 0; i++)
        if (strcmp(in->external_id, p->pairs[2 * i]) == 0)
            k = i;
    if (in)
        whistle__v1__fed_intake__free_unpacked(in, NULL);
    if (k < 0)
        return 0;
    const char *ext = p->pairs[2 * k], *district = p->pairs[2 * k + 1];
    char subj[64], msgid[300];
    snprintf(subj, sizeof subj, "intake.%s", district);
    snprintf(msgid, sizeof msgid, "%s:%s", CITY_HOTLINE_ORIGIN, ext);
    bool dup = false;
    if (city_publish(p->c, subj, msgid, natsMsg_GetData(m), (size_t)natsMsg_GetDataLength(m), 10000, &dup, NULL) != 0) {
        p->failed++;
        return 0;
    }
    /* Placed and acknowledged: now it leaves the unrouted list. A failure
     * here leaves it listed; placing it again is harmless (the same
     * Msg-Id, and the district knows the external id). */
    jsErrCode jerr = 0;
    natsStatus s = js_DeleteMsg(p->c->js, CITY_STREAM_INTAKE, seq, NULL, &jerr);
    if (s != NATS_OK)
        city_nats_err(CITY_PROG, "removing the case from intake.unrouted (it was placed)", s, jerr);
    if (dup)
        city_err(_("%s was already placed (JetStream had it): removed from the unrouted list\n"), ext);
    if (!p->done[k])
        printf(_("placed %s in %s\n"), ext, district);
    p->done[k]++;
    return 0; /* the same id sent twice is two unrouted messages: place both */
}

int city_place(city_conn *c, int argc, char **argv)
{
    if (argc < 3 || (argc - 1) % 2 != 0) {
        city_usage("place EXT_ID DISTRICT [EXT_ID DISTRICT ...]");
        return 2;
    }
    place_arg p = { .c = c, .pairs = argv + 1, .npairs = (argc - 1) / 2 };
    for (int i = 0; i < p.npairs; i++)
        if (!city_is_district(p.pairs[2 * i + 1])) {
            city_err(_("district '%s': a district's code is 6 digits\n"), p.pairs[2 * i + 1]);
            return 2;
        }
    p.done = calloc((size_t)p.npairs, sizeof *p.done);
    if (!p.done)
        return 1;
    int rc = walk_unrouted(c, place_one, &p) < 0 || p.failed ? 1 : 0;
    for (int i = 0; i < p.npairs; i++)
        if (!p.done[i]) {
            city_err(_("no unrouted case has the external id '%s' (see whistle-city unrouted)\n"), p.pairs[2 * i]);
            rc = 1;
        }
    free(p.done);
    return rc;
}
