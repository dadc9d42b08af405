/* router.c: one whole frame from a connection -> an answer.
 *
 * Decodes, checks the session (Hello first, a known and enabled
 * principal), validates strings, then answers reads here from a read
 * transaction and hands writes to the writer. Hello, Ping, Subscribe,
 * PushAck and ServerStats are handled here because they concern the
 * connection or the server. */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "admin.h"
#include "api.h"
#include "audit.h"
#include "authz.h"
#include "call.h"
#include "log.h"
#include "photo_record.h"

/* No string field of any call needs more (descriptions stop at 4,000
 * bytes; large payloads such as imports travel as bytes): a longer one is
 * refused here, whatever the call, before it reaches the domain. */
#define ROUTER_MAX_STRING 16384

/* The request id of a frame that failed to decode, when its bytes still
 * show one: Frame.request (field 1, bytes) -> Request.id (field 1,
 * varint). 0 when unreadable. Lets a client match the error. */
static int read_varint(const uint8_t **p, const uint8_t *end, uint64_t *v)
{
    uint64_t r = 0;
    for (int shift = 0; shift < 64 && *p < end; shift += 7) {
        uint8_t b = *(*p)++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = r;
            return 0;
        }
    }
    return -1;
}

static uint64_t salvage_id(const uint8_t *p, size_t len)
{
    const uint8_t *end = p + len;
    uint64_t len2, id;
    if (len < 2 || p[0] != 0x0a)
        return 0;
    p++;
    if (read_varint(&p, end, &len2) < 0 || len2 > (uint64_t)(end - p))
        return 0;
    end = p + len2;
    if (p >= end || *p != 0x08)
        return 0;
    p++;
    if (read_varint(&p, end, &id) < 0)
        return 0;
    return id;
}

/* Walks every string field of m (recursively, oneofs by their case):
 * the first that is not valid UTF-8, or longer than max bytes, is returned
 * by name (*len gets its length). */
static const char *check_strings(const ProtobufCMessage *m, size_t max, size_t *len)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        const char *base = (const char *)m;
        if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) {
            uint32_t which = *(const uint32_t *)(base + f->quantifier_offset);
            if (which != f->id)
                continue;
        }
        size_t n = 1;
        const void *const *arr = (const void *const *)(base + f->offset);
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + f->quantifier_offset);
            arr = *(const void *const *const *)(base + f->offset);
        }
        for (size_t k = 0; k < n; k++) {
            if (f->type == PROTOBUF_C_TYPE_STRING) {
                /* A string with an embedded NUL is cut at it by
                 * protobuf-c's C strings: nul_string refuses it. */
                const char *str = arr[k];
                size_t sl = str ? strlen(str) : 0;
                if (str && (sl > max || !utf8_valid(str, sl))) {
                    *len = sl;
                    return f->name;
                }
            } else if (f->type == PROTOBUF_C_TYPE_MESSAGE && arr[k]) {
                const char *bad = check_strings(arr[k], max, len);
                if (bad)
                    return bad;
            }
        }
    }
    return NULL;
}

/* The first string field of the message in p..p+len (described by d,
 * nested messages walked) whose bytes hold a NUL, or NULL. protobuf-c
 * hands strings on as C strings, so "visible\0hidden" would arrive as
 * "visible" and two idempotency keys that differ after a NUL as one: the
 * raw bytes are the only place to see it. Bytes that do not parse end the
 * walk (the unpack has accepted them already). */
static const char *nul_string(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t len, int depth)
{
    const uint8_t *end = p + len;
    while (p < end) {
        uint64_t key, v;
        if (read_varint(&p, end, &key) < 0)
            return NULL;
        switch (key & 7) {
        case 0:
            if (read_varint(&p, end, &v) < 0)
                return NULL;
            break;
        case 1:
        case 5: {
            size_t n = (key & 7) == 1 ? 8 : 4;
            if ((size_t)(end - p) < n)
                return NULL;
            p += n;
            break;
        }
        case 2: {
            if (read_varint(&p, end, &v) < 0 || v > (uint64_t)(end - p))
                return NULL;
            const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field(d, (unsigned)(key >> 3));
            if (f && f->type == PROTOBUF_C_TYPE_STRING && memchr(p, 0, v))
                return f->name;
            if (f && f->type == PROTOBUF_C_TYPE_MESSAGE && depth < 32) {
                const char *bad = nul_string(f->descriptor, p, v, depth + 1);
                if (bad)
                    return bad;
            }
            p += v;
            break;
        }
        default: return NULL;
        }
    }
    return NULL;
}

const char *router_check_utf8(const ProtobufCMessage *m)
{
    size_t len;
    return check_strings(m, SIZE_MAX, &len);
}

static void reply_status(conn *c, uint64_t id, int code, const char *msg)
{
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    st.code = code;
    st.message = (char *)msg;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = id;
    resp.status = &st;
    conn_send_response(c, &resp);
}

/* Hello.client_name goes into log lines: a name, not a document. */
#define HELLO_NAME_MAX 128
/* Stream names (stream.h): a prefix and a code or principal name. */
#define STREAM_NAME_MAX 200

static void handle_hello(conn *c, Whistle__V1__Request *req, Whistle__V1__Principal *who, arena *a)
{
    hub *hb = c->hub;
    Whistle__V1__Hello *h = req->hello;
    if (h->protocol_version != 0 && h->protocol_version != WHISTLE_PROTOCOL_VERSION) {
        char msg[160];
        snprintf(msg, sizeof msg, "protocol version %u is not supported; this server speaks version %d",
                 h->protocol_version, WHISTLE_PROTOCOL_VERSION);
        reply_status(c, req->id, WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION, msg);
        return;
    }
    if (h->client_name && strlen(h->client_name) > HELLO_NAME_MAX) {
        char msg[160];
        snprintf(msg, sizeof msg, "client_name is %zu bytes; at most %d are allowed", strlen(h->client_name),
                 HELLO_NAME_MAX);
        reply_status(c, req->id, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT, msg);
        return;
    }
    Whistle__V1__HelloResult *r = arena_alloc(a, sizeof *r);
    whistle__v1__hello_result__init(r);
    r->protocol_version = WHISTLE_PROTOCOL_VERSION;
    r->server_version = WHISTLE_VERSION;
    r->principal = who;
    r->max_frame = hb->lim.max_frame;
    r->max_in_flight = hb->lim.max_in_flight;
    Whistle__V1__PhotoLimits *pl = arena_alloc(a, sizeof *pl);
    whistle__v1__photo_limits__init(pl);
    struct photo_limits lim = photo_limits_of(hb->st);
    pl->max_bytes = lim.max_bytes;
    pl->max_per_action = lim.max_per_action;
    pl->chunk_bytes = photo_chunk_bytes(hb->lim.max_frame);
    r->photo_limits = pl;
    char def[300];
    stream_default_for(who, def, sizeof def);
    if (*def) {
        r->n_streams = 1;
        r->streams = arena_alloc(a, sizeof(char *));
        r->streams[0] = arena_strdup(a, def);
    }
    c->hello_done = true;
    log_debug("connection %s: hello from %s (%s)", c->peer, c->cn, h->client_name ? h->client_name : "");
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    resp.id = req->id;
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    resp.status = &st;
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_HELLO;
    resp.hello = r;
    conn_send_response(c, &resp);
}

/* who is the principal the subscription is for; via the gateway acting
 * for it (Request.act_as), or NULL. */
static void handle_subscribe(conn *c, Whistle__V1__Request *req, const Whistle__V1__Principal *who, const char *via,
                             arena *a)
{
    hub *hb = c->hub;
    Whistle__V1__Subscribe *sb = req->subscribe;
    char name[STREAM_NAME_MAX + 100];
    if (sb->stream && *sb->stream) {
        /* Checked before it is copied: a long name must be refused, not
         * cut into the name of some other stream. */
        size_t n = strlen(sb->stream);
        bool printable = n <= STREAM_NAME_MAX;
        for (size_t i = 0; printable && i < n; i++)
            printable = (unsigned char)sb->stream[i] > 0x20 && (unsigned char)sb->stream[i] < 0x7f;
        if (!printable) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "stream is not a stream name (dept:<code>, street:<code> or principal:<name>; at most %d "
                     "printable characters)",
                     STREAM_NAME_MAX);
            reply_status(c, req->id, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT, msg);
            return;
        }
        snprintf(name, sizeof name, "%s", sb->stream);
    } else
        stream_default_for(who, name, sizeof name);
    if (!*name) {
        reply_status(c, req->id, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT,
                     "name a stream: this principal has no stream of its own (dept:<code>, "
                     "street:<code> or principal:<name>)");
        return;
    }
    if (!stream_allowed(who, name)) {
        char msg[800];
        snprintf(msg, sizeof msg,
                 "principal %s may not subscribe to %s (rule: a principal reads only its own stream; "
                 "operators their street's)",
                 who->name, name);
        reply_status(c, req->id, WHISTLE__V1__STATUS__CODE__PERMISSION_DENIED, msg);
        return;
    }
    if (!conn_may_subscribe(c, name)) {
        char msg[200];
        snprintf(msg, sizeof msg, "this connection follows %d streams already, the most one may", SUBS_PER_CONN_MAX);
        reply_status(c, req->id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, msg);
        return;
    }
    uint64_t last = 0, cursor = 0;
    MDB_txn *txn = store_read_begin(hb->st);
    int rc = txn ? stream_meta_get(hb->st, txn, name, &last, &cursor) : -1;
    store_read_end(hb->st);
    if (rc != 0) {
        reply_status(c, req->id, WHISTLE__V1__STATUS__CODE__INTERNAL, "store: cannot read the stream");
        return;
    }
    /* The newest entry that may be pushed: one committed but not yet
     * durable comes once it is. */
    uint64_t durable_last;
    if (writer_stream_cap(hb->w, name, &durable_last) && durable_last < last)
        last = durable_last;
    /* A street's feed carries its reporters' phones: reading it is a read
     * of personal data, audited once per subscription. */
    if (strncmp(name, "street:", 7) == 0) {
        const char *was_via = audit_via_set(via);
        audit_read_queue(hb->st, hub_now_ms(hb), who->name, "subscribe", name, "contacts in the street's case feed");
        audit_via_set(was_via);
    }
    /* So does a federated district's stream: a case transferred to another
     * district goes with its reporter's phone (docs/federation.md). */
    if (strncmp(name, "fed:", 4) == 0) {
        const char *was_via = audit_via_set(via);
        audit_read_queue(hb->st, hub_now_ms(hb), who->name, "subscribe", name,
                         "contacts of the cases transferred to other districts");
        audit_via_set(was_via);
    }
    uint64_t after = sb->from_cursor ? cursor : sb->after_seq;
    Whistle__V1__SubscribeResult *r = arena_alloc(a, sizeof *r);
    whistle__v1__subscribe_result__init(r);
    r->stream = arena_strdup(a, name);
    r->last_seq = last;
    r->cursor = cursor;
    r->replay_after = after;
    Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
    Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
    resp.id = req->id;
    resp.status = &st;
    resp.result_case = WHISTLE__V1__RESPONSE__RESULT_SUBSCRIBE;
    resp.subscribe = r;
    conn_send_response(c, &resp);
    /* The answer goes first, then the replay, then live pushes. */
    if (conn_subscribe(c, name, after, via ? who->name : NULL) != 0)
        conn_close(c, "out of memory");
}

/* who is the principal the ack is for (PushAck.act_as already resolved),
 * NULL when the sender may not ack for the one it named (why says why). */
static void handle_push_ack(conn *c, Whistle__V1__PushAck *ack, const Whistle__V1__Principal *who, const char *why)
{
    if (!who) {
        log_info("connection %s %s: push ack for stream \"%.80s\" ignored: %s", c->peer, c->cn,
                 ack->stream ? ack->stream : "", why ? why : "act_as refused");
        return;
    }
    if (!ack->stream || !*ack->stream || !stream_allowed(who, ack->stream)) {
        /* PushAck has no answer; a bad one is dropped with a log line. */
        log_info("connection %s %s: push ack for stream \"%.80s\" ignored: not its stream", c->peer, c->cn,
                 ack->stream ? ack->stream : "");
        return;
    }
    log_debug("connection %s %s: push ack %s %llu", c->peer, c->cn, ack->stream, (unsigned long long)ack->seq);
    intent *it = calloc(1, sizeof *it);
    if (!it)
        return;
    it->kind = INTENT_ACK;
    it->principal = strdup(c->cn);
    it->ack_stream = strdup(ack->stream);
    it->ack_seq = ack->seq;
    conn_submit(c, it);
}

/* ------------------------------------------------------------ imports in chunks */

/* A directory file larger than a frame arrives as ImportDirectory chunks
 * with one upload_id; they are kept here, on the connection, and the whole
 * file goes to the writer as one request when the last chunk arrives, so
 * that it is checked and applied in one transaction. A connection that
 * closes drops its partial upload. */
struct upload {
    char *id;
    uint8_t *data;
    size_t len, cap;
    Whistle__V1__ImportDirectory first; /* format, table, dry_run of the first chunk */
    char *source;
};

void router_conn_free(conn *c)
{
    struct upload *u = c->upload;
    if (!u)
        return;
    free(u->id);
    free(u->data);
    free(u->source);
    free(u);
    c->upload = NULL;
}

/* Hands the frame to the writer as an intent of the given kind; reserve is
 * the map room a large write needs before its transaction. */
static void submit_copy(conn *c, int kind, uint64_t id, const uint8_t *frame, size_t len, size_t reserve)
{
    intent *it = calloc(1, sizeof *it);
    uint8_t *copy = malloc(len ? len : 1);
    if (!it || !copy) {
        free(it);
        free(copy);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    memcpy(copy, frame, len);
    it->kind = kind;
    it->req_id = id;
    it->call = c->cur_call;
    it->principal = strdup(c->cn);
    it->frame = copy;
    it->frame_len = len;
    it->reserve = reserve;
    conn_submit(c, it);
}

static void submit_write(conn *c, uint64_t id, const uint8_t *frame, size_t len, size_t reserve)
{
    submit_copy(c, INTENT_REQUEST, id, frame, len, reserve);
}

void router_after_barrier(conn *c, const uint8_t *data, size_t len)
{
    hub *hb = c->hub;
    arena *a = arena_new();
    Whistle__V1__Frame *f = whistle__v1__frame__unpack(arena_allocator(a), len, data);
    MDB_txn *txn = store_read_begin(hb->st);
    Whistle__V1__Principal *caller = txn ? api_principal(hb->st, txn, c->cn, a) : NULL;
    if (f && f->kind_case == WHISTLE__V1__FRAME__KIND_REQUEST &&
        f->request->call_case == WHISTLE__V1__REQUEST__CALL_SUBSCRIBE) {
        c->cur_call = (int)f->request->call_case;
        if (caller && caller->enabled) {
            /* act_as is checked again, as the writer checks a write's */
            Whistle__V1__Response *denied = arena_alloc(a, sizeof *denied);
            whistle__v1__response__init(denied);
            const Whistle__V1__Principal *who =
                api_acting(hb->st, txn, caller, f->request->act_as, "subscribe", hub_now_ms(hb), a, denied, NULL);
            store_read_end(hb->st);
            if (who) {
                handle_subscribe(c, f->request, who, who != caller ? caller->name : NULL, a);
            } else {
                denied->id = f->request->id;
                conn_send_response(c, denied);
            }
        } else {
            store_read_end(hb->st);
            reply_status(c, f->request->id, WHISTLE__V1__STATUS__CODE__UNAUTHENTICATED, "this principal was disabled");
        }
    } else {
        store_read_end(hb->st);
    }
    c->cur_call = 0;
    arena_free(a);
}

/* What an import may need in the map: records, audit rows and indexes come
 * to about twenty times the file's bytes. */
#define IMPORT_RESERVE(n) ((n)*24 + ((size_t)1 << 20))

static void handle_import(conn *c, Whistle__V1__Request *req, const uint8_t *frame, size_t len, arena *a)
{
    Whistle__V1__ImportDirectory *im = req->import_directory;
    uint64_t id = req->id;
    if (im->offset == 0 && im->last) {
        router_conn_free(c);
        submit_write(c, id, frame, len, IMPORT_RESERVE(im->data.len));
        return;
    }
    if (!ident_ok(im->upload_id, 64)) {
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT,
                     "upload_id is required when a file comes in chunks: 1-64 printable characters, the same for "
                     "every chunk");
        return;
    }
    struct upload *u = c->upload;
    if (im->offset == 0) {
        router_conn_free(c);
        u = calloc(1, sizeof *u);
        if (!u || !(u->id = strdup(im->upload_id)) || !(u->source = strdup(im->source ? im->source : ""))) {
            if (u) {
                free(u->id);
                free(u);
            }
            reply_status(c, id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        u->first = *im;
        c->upload = u;
    } else if (!u || strcmp(u->id, im->upload_id) != 0 || u->len != im->offset) {
        char msg[400];
        snprintf(msg, sizeof msg,
                 "chunk at offset %llu of upload %s, but this connection has %zu bytes of %s; send the file again "
                 "from offset 0",
                 (unsigned long long)im->offset, im->upload_id, u ? u->len : (size_t)0, u ? u->id : "no upload");
        router_conn_free(c);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION, msg);
        return;
    }
    if (u->len + im->data.len > ADMIN_IMPORT_MAX) {
        char msg[200];
        snprintf(msg, sizeof msg, "the file passes %zu MiB, the most an import takes; split it",
                 ADMIN_IMPORT_MAX >> 20);
        router_conn_free(c);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, msg);
        return;
    }
    if (u->len + im->data.len > u->cap) {
        size_t cap = u->cap ? u->cap : 1u << 20;
        while (cap < u->len + im->data.len)
            cap *= 2;
        uint8_t *d = realloc(u->data, cap);
        if (!d) {
            router_conn_free(c);
            reply_status(c, id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, "out of memory");
            return;
        }
        u->data = d;
        u->cap = cap;
    }
    if (im->data.len)
        memcpy(u->data + u->len, im->data.data, im->data.len);
    u->len += im->data.len;
    if (!im->last) {
        Whistle__V1__ImportResult *r = arena_alloc(a, sizeof *r);
        whistle__v1__import_result__init(r);
        r->received = u->len;
        Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
        Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
        resp.id = id;
        resp.status = &st;
        resp.result_case = WHISTLE__V1__RESPONSE__RESULT_IMPORT_RESULT;
        resp.import_result = r;
        conn_send_response(c, &resp);
        return;
    }
    /* The whole file, as one request with the first chunk's settings. */
    Whistle__V1__ImportDirectory whole = u->first;
    whole.base.n_unknown_fields = 0;
    whole.base.unknown_fields = NULL;
    whole.upload_id = u->id;
    whole.source = u->source;
    whole.offset = 0;
    whole.last = true;
    whole.data.data = u->data;
    whole.data.len = u->len;
    Whistle__V1__Request r2 = *req;
    r2.base.n_unknown_fields = 0;
    r2.base.unknown_fields = NULL;
    r2.import_directory = &whole;
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = &r2;
    size_t n = whistle__v1__frame__get_packed_size(&f);
    uint8_t *packed = malloc(n ? n : 1);
    if (!packed) {
        router_conn_free(c);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    whistle__v1__frame__pack(&f, packed);
    size_t total = u->len;
    router_conn_free(c);
    submit_write(c, id, packed, n, IMPORT_RESERVE(total));
    free(packed);
}

/* ------------------------------------------------------------ other server calls */

/* The access log ([log] access, or set_log_level): one debug line per
 * call received, with its name, the principal and the ticket it names,
 * if any (journal fields WHISTLE_CALL, WHISTLE_PRINCIPAL, WHISTLE_TICKET).
 * The call's content stays out: it may hold personal data. */
static void access_log(conn *c, const Whistle__V1__Request *req)
{
    const authz_rule *r = authz_rule_for((int)req->call_case);
    const char *name = r ? r->name : "?";
    const char *ticket = NULL;
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(&whistle__v1__request__descriptor, (unsigned)req->call_case);
    if (f && f->type == PROTOBUF_C_TYPE_MESSAGE) {
        const ProtobufCMessage *m = *(const ProtobufCMessage *const *)((const char *)req + f->offset);
        const ProtobufCFieldDescriptor *t =
            m ? protobuf_c_message_descriptor_get_field_by_name(m->descriptor, "ticket") : NULL;
        if (t && t->type == PROTOBUF_C_TYPE_STRING && t->label != PROTOBUF_C_LABEL_REPEATED)
            ticket = *(const char *const *)((const char *)m + t->offset);
    }
    log_call(LOG_LVL_DEBUG, name, c->cn, ticket && *ticket ? ticket : NULL, "access: %s %s id %llu%s%s", c->cn, name,
             (unsigned long long)req->id, ticket && *ticket ? " ticket " : "", ticket && *ticket ? ticket : "");
}

/* A read's answer that discloses personal data goes out only after the
 * writer has committed the audit record of it. */
static void send_audited(conn *c, Whistle__V1__Response *resp, const api_read_audit *aud, const char *principal,
                         const char *via)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_RESPONSE;
    f.response = resp;
    uint8_t *out;
    size_t n;
    if (whistle_frame_pack(&f, c->hub->lim.max_frame, &out, &n) != 0) {
        conn_send_response(c, resp); /* answers "too large": nothing disclosed */
        return;
    }
    /* counted here: its answer goes out through the writer as bytes */
    hub_count(c->hub, c->cur_call, resp->status ? (int)resp->status->code : 0);
    intent *it = calloc(1, sizeof *it);
    if (!it || !(it->principal = strdup(principal)) || (via && !(it->via = strdup(via))) ||
        !(it->audit_call = strdup(aud->call)) || !(it->audit_target = strdup(aud->target)) ||
        !(it->audit_what = strdup(aud->what))) {
        intent_free(it);
        free(out);
        reply_status(c, resp->id, WHISTLE__V1__STATUS__CODE__RESOURCE_EXHAUSTED, "out of memory");
        return;
    }
    it->kind = INTENT_AUDIT;
    it->req_id = resp->id;
    it->out = out;
    it->out_len = n;
    conn_submit(c, it);
}

void router_frame(conn *c, const uint8_t *data, size_t len)
{
    hub *hb = c->hub;
    arena *a = arena_new();
    Whistle__V1__Frame *f = whistle__v1__frame__unpack(arena_allocator(a), len, data);
    if (!f) {
        reply_status(c, salvage_id(data, len), WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT,
                     "frame is not a valid whistle.v1.Frame (protobuf decoding failed)");
        goto out;
    }
    if (f->kind_case != WHISTLE__V1__FRAME__KIND_REQUEST && f->kind_case != WHISTLE__V1__FRAME__KIND_PUSH_ACK) {
        reply_status(c, 0,
                     f->kind_case == WHISTLE__V1__FRAME__KIND__NOT_SET ? WHISTLE__V1__STATUS__CODE__UNIMPLEMENTED
                                                                       : WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT,
                     "clients send Frame.request or Frame.push_ack only");
        goto out;
    }
    size_t blen = 0;
    const char *bad = check_strings(&f->base, ROUTER_MAX_STRING, &blen);
    uint64_t id = f->kind_case == WHISTLE__V1__FRAME__KIND_REQUEST ? f->request->id : 0;
    if (bad) {
        char msg[200];
        if (blen > ROUTER_MAX_STRING)
            snprintf(msg, sizeof msg, "field %s is %zu bytes; a string field holds at most %d", bad, blen,
                     ROUTER_MAX_STRING);
        else
            snprintf(msg, sizeof msg, "field %s is not valid UTF-8", bad);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT, msg);
        goto out;
    }
    if ((bad = nul_string(&whistle__v1__frame__descriptor, data, len, 0))) {
        char msg[200];
        snprintf(msg, sizeof msg, "field %s holds a NUL byte; text fields may not contain NUL", bad);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__INVALID_ARGUMENT, msg);
        goto out;
    }

    /* Who is calling: looked up on every frame, so a principal disabled
     * since the connection opened is refused at its next request. */
    MDB_txn *txn = store_read_begin(hb->st);
    Whistle__V1__Principal *who = txn ? api_principal(hb->st, txn, c->cn, a) : NULL;
    if (!who || !who->enabled) {
        store_read_end(hb->st);
        char msg[600];
        snprintf(msg, sizeof msg, "certificate CN \"%s\" is %s: ask an administrator to add or enable this principal",
                 c->cn, who ? "a disabled principal" : "not a known principal");
        log_warn("connection %s refused: %s", c->peer, msg);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__UNAUTHENTICATED, msg);
        c->close_after_flush = true;
        goto out;
    }

    if (f->kind_case == WHISTLE__V1__FRAME__KIND_PUSH_ACK) {
        const char *why = NULL;
        const Whistle__V1__Principal *for_whom =
            api_acting(hb->st, txn, who, f->push_ack->act_as, "push_ack", hub_now_ms(hb), a, NULL, &why);
        store_read_end(hb->st);
        handle_push_ack(c, f->push_ack, for_whom, why);
        goto out;
    }
    Whistle__V1__Request *req = f->request;
    c->cur_call = (int)req->call_case;
    if (req->call_case == WHISTLE__V1__REQUEST__CALL__NOT_SET) {
        store_read_end(hb->st);
        char msg[200];
        if (req->base.n_unknown_fields > 0)
            snprintf(msg, sizeof msg, "call field %u is not implemented by this server (version %s)",
                     req->base.unknown_fields[0].tag, WHISTLE_VERSION);
        else
            snprintf(msg, sizeof msg, "request has no call set");
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__UNIMPLEMENTED, msg);
        goto out;
    }
    /* A gateway's call for another principal (Request.act_as, docs/protocol.md
     * section 12): from here on, who is that principal, and via names the
     * gateway in every audit record the call makes. */
    const char *via = NULL;
    if (req->act_as && *req->act_as) {
        Whistle__V1__Response *denied = arena_alloc(a, sizeof *denied);
        whistle__v1__response__init(denied);
        const Whistle__V1__Principal *acting =
            api_acting(hb->st, txn, who, req->act_as, api_call_name(req), hub_now_ms(hb), a, denied, NULL);
        if (!acting) {
            store_read_end(hb->st);
            denied->id = id;
            conn_send_response(c, denied);
            goto out;
        }
        if (acting != who) {
            via = who->name;
            who = (Whistle__V1__Principal *)acting;
        }
    }
    if (req->call_case == WHISTLE__V1__REQUEST__CALL_HELLO) {
        store_read_end(hb->st);
        handle_hello(c, req, who, a);
        goto out;
    }
    if (!c->hello_done) {
        store_read_end(hb->st);
        reply_status(c, id, WHISTLE__V1__STATUS__CODE__FAILED_PRECONDITION, "send Hello first: it opens every session");
        goto out;
    }
    if (log_access_on())
        access_log(c, req);
    /* The calls the server answers itself pass the role gate here; the
     * others pass it in api_read / api_write. */
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_PING:
    case WHISTLE__V1__REQUEST__CALL_SUBSCRIBE:
    case WHISTLE__V1__REQUEST__CALL_RELOAD_CRL:
    case WHISTLE__V1__REQUEST__CALL_SERVER_STATS:
    case WHISTLE__V1__REQUEST__CALL_BACKUP:
    case WHISTLE__V1__REQUEST__CALL_BACKUP_READ:
    case WHISTLE__V1__REQUEST__CALL_SET_LOG_LEVEL:
    case WHISTLE__V1__REQUEST__CALL_PHOTO_PUT:
    case WHISTLE__V1__REQUEST__CALL_PHOTO_UPLOAD:
    case WHISTLE__V1__REQUEST__CALL_IMPORT_DIRECTORY: {
        Whistle__V1__Response *denied = arena_alloc(a, sizeof *denied);
        whistle__v1__response__init(denied);
        const char *was_via = audit_via_set(via);
        bool ok = api_authorize(hb->st, who, req, hub_now_ms(hb), a, denied);
        audit_via_set(was_via);
        if (!ok) {
            store_read_end(hb->st);
            denied->id = id;
            conn_send_response(c, denied);
            goto out;
        }
        break;
    }
    default: break;
    }
    switch (req->call_case) {
    case WHISTLE__V1__REQUEST__CALL_RELOAD_CRL:
        store_read_end(hb->st);
        /* the server reads the files off the loop and answers when done */
        c->hub->reload_tls(c, id);
        goto out;
    case WHISTLE__V1__REQUEST__CALL_IMPORT_DIRECTORY:
        store_read_end(hb->st);
        handle_import(c, req, data, len, a);
        goto out;
    case WHISTLE__V1__REQUEST__CALL_PING: {
        store_read_end(hb->st);
        Whistle__V1__PingResult pr = WHISTLE__V1__PING_RESULT__INIT;
        pr.sent_ms = req->ping->sent_ms;
        pr.server_ms = hub_now_ms(hb);
        Whistle__V1__Status st = WHISTLE__V1__STATUS__INIT;
        Whistle__V1__Response resp = WHISTLE__V1__RESPONSE__INIT;
        resp.id = id;
        resp.status = &st;
        resp.result_case = WHISTLE__V1__RESPONSE__RESULT_PING;
        resp.ping = &pr;
        conn_send_response(c, &resp);
        goto out;
    }
    case WHISTLE__V1__REQUEST__CALL_SERVER_STATS:
        store_read_end(hb->st);
        c->hub->stats_reply(c, id);
        goto out;
    case WHISTLE__V1__REQUEST__CALL_BACKUP:
    case WHISTLE__V1__REQUEST__CALL_BACKUP_READ:
    case WHISTLE__V1__REQUEST__CALL_SET_LOG_LEVEL:
        store_read_end(hb->st);
        if (c->hub->ops_call)
            c->hub->ops_call(c, req);
        else
            reply_status(c, id, WHISTLE__V1__STATUS__CODE__UNIMPLEMENTED, "not served here");
        goto out;
    case WHISTLE__V1__REQUEST__CALL_PHOTO_PUT:
    case WHISTLE__V1__REQUEST__CALL_PHOTO_UPLOAD:
        store_read_end(hb->st);
        if (c->hub->photo_call)
            c->hub->photo_call(c, req, who, via);
        else
            reply_status(c, id, WHISTLE__V1__STATUS__CODE__UNIMPLEMENTED, "photos are not served here");
        goto out;
    case WHISTLE__V1__REQUEST__CALL_SUBSCRIBE:
        store_read_end(hb->st);
        /* Through the writer's queue first: the cursor it reads then
         * includes every PushAck received before this Subscribe, on any
         * connection (PushAck has no answer a client could wait for). */
        submit_copy(c, INTENT_BARRIER, id, data, len, 0);
        goto out;
    default: break;
    }

    if (api_is_write(req)) {
        store_read_end(hb->st);
        submit_write(c, id, data, len, 0);
        goto out;
    }

    Whistle__V1__Response *resp = arena_alloc(a, sizeof *resp);
    whistle__v1__response__init(resp);
    api_read_audit aud;
    const char *was_via = audit_via_set(via);
    api_read_audited(hb->st, txn, who, req, hub_now_ms(hb), a, resp, &aud);
    audit_via_set(was_via);
    resp->id = id;
    if (!resp->status)
        call_status(resp, a, WHISTLE__V1__STATUS__CODE__OK, "%s", "");
    /* pack before the read transaction ends: the answer may point into it */
    if (aud.what)
        send_audited(c, resp, &aud, who->name, via);
    else
        conn_send_response(c, resp);
    store_read_end(hb->st);
out:
    c->cur_call = 0;
    arena_free(a);
}
