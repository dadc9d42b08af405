/* city_admin.c: `whistle-city admin`, for the city's operators and the
 * fault test (tests/integration/federation_test.py):
 *
 *   leader STREAM          the server that leads STREAM's replicas
 *   info STREAM            its state as JSON (messages, first/last seq,
 *                          deleted count, leader, replicas and their lag)
 *   consumer STREAM NAME   a consumer's state as JSON (pending, ack floor)
 *   delete-msg STREAM SEQ  removes one message (what a broker's loss looks
 *                          like: the gap replay must repair it)
 *   dump STREAM            every message as a JSON line: stream_seq,
 *                          subject, msg_id (an ordered consumer; no acks)
 *   publish SUBJECT [MSGID]
 *                          stdin to SUBJECT (with MSGID: through JetStream,
 *                          waiting for its PubAck; without: a plain publish,
 *                          refused or not within a round trip: the
 *                          permissions test)
 *   read STREAM CONSUMER   one fetch from a durable consumer, not acked
 *                          (what a user may read: the permissions test)
 *
 * Its messages are in English, like whistled's logs: it is the operators'
 * and the tests' tool; what the city's people use is translated. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "city.h"

static int info(city_conn *c, const char *stream, bool leader_only)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, stream, NULL, &jerr);
    if (s != NATS_OK) {
        city_nats_err(CITY_PROG, stream, s, jerr);
        return 1;
    }
    const char *leader = si->Cluster && si->Cluster->Leader ? si->Cluster->Leader : "";
    if (leader_only) {
        if (!leader[0]) {
            fprintf(stderr, CITY_PROG ": %s has no leader now (an election is running)\n", stream);
            jsStreamInfo_Destroy(si);
            return 1;
        }
        printf("%s\n", leader);
    } else {
        json_t *o = json_object();
        json_object_set_new(o, "stream", json_string(stream));
        json_object_set_new(o, "messages", json_integer((json_int_t)si->State.Msgs));
        json_object_set_new(o, "first_seq", json_integer((json_int_t)si->State.FirstSeq));
        json_object_set_new(o, "last_seq", json_integer((json_int_t)si->State.LastSeq));
        json_object_set_new(o, "deleted", json_integer((json_int_t)si->State.NumDeleted));
        json_object_set_new(o, "leader", json_string(leader));
        json_t *reps = json_array();
        for (int i = 0; si->Cluster && i < si->Cluster->ReplicasLen; i++) {
            jsPeerInfo *p = si->Cluster->Replicas[i];
            json_t *r = json_object();
            json_object_set_new(r, "name", json_string(p->Name ? p->Name : ""));
            json_object_set_new(r, "current", json_boolean(p->Current));
            json_object_set_new(r, "offline", json_boolean(p->Offline));
            json_object_set_new(r, "lag", json_integer((json_int_t)p->Lag));
            json_array_append_new(reps, r);
        }
        json_object_set_new(o, "replicas", reps);
        city_print_json(o);
    }
    jsStreamInfo_Destroy(si);
    return 0;
}

static int consumer(city_conn *c, const char *stream, const char *name)
{
    jsConsumerInfo *ci = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetConsumerInfo(&ci, c->js, stream, name, NULL, &jerr);
    if (s != NATS_OK) {
        city_nats_err(CITY_PROG, name, s, jerr);
        return 1;
    }
    json_t *o = json_object();
    json_object_set_new(o, "stream", json_string(stream));
    json_object_set_new(o, "name", json_string(name));
    json_object_set_new(o, "num_pending", json_integer((json_int_t)ci->NumPending));
    json_object_set_new(o, "num_ack_pending", json_integer((json_int_t)ci->NumAckPending));
    json_object_set_new(o, "num_redelivered", json_integer((json_int_t)ci->NumRedelivered));
    json_object_set_new(o, "delivered_stream_seq", json_integer((json_int_t)ci->Delivered.Stream));
    json_object_set_new(o, "ack_floor_stream_seq", json_integer((json_int_t)ci->AckFloor.Stream));
    city_print_json(o);
    jsConsumerInfo_Destroy(ci);
    return 0;
}

static int delete_msg(city_conn *c, const char *stream, const char *seqs)
{
    char *end;
    unsigned long long seq = strtoull(seqs, &end, 10);
    if (*end || seq == 0) {
        fprintf(stderr, CITY_PROG ": '%s' is not a message's sequence number\n", seqs);
        return 2;
    }
    jsErrCode jerr = 0;
    natsStatus s = js_DeleteMsg(c->js, stream, seq, NULL, &jerr);
    if (s != NATS_OK) {
        city_nats_err(CITY_PROG, "delete-msg", s, jerr);
        return 1;
    }
    printf("deleted %s #%llu\n", stream, seq);
    return 0;
}

static int dump(city_conn *c, const char *stream)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, c->js, stream, NULL, &jerr);
    if (s != NATS_OK) {
        city_nats_err(CITY_PROG, stream, s, jerr);
        return 1;
    }
    uint64_t last = si->State.LastSeq, msgs = si->State.Msgs;
    const char *subject = si->Config && si->Config->SubjectsLen ? si->Config->Subjects[0] : ">";
    natsSubscription *sub = NULL;
    jsSubOptions so;
    jsSubOptions_Init(&so);
    so.Stream = stream;
    so.Ordered = true;
    so.Config.DeliverPolicy = js_DeliverAll;
    char *subj = strdup(subject);
    jsStreamInfo_Destroy(si);
    if (!subj)
        return 1;
    if (msgs)
        s = js_SubscribeSync(&sub, c->js, subj, NULL, &so, &jerr);
    free(subj);
    if (s != NATS_OK) {
        city_nats_err(CITY_PROG, "reading the stream", s, jerr);
        return 1;
    }
    uint64_t got = 0;
    int rc = 0;
    while (msgs && got < msgs) {
        natsMsg *m = NULL;
        s = natsSubscription_NextMsg(&m, sub, 5000);
        if (s != NATS_OK) {
            city_nats_err(CITY_PROG, "reading the stream", s, 0);
            rc = 1;
            break;
        }
        jsMsgMetaData *md = NULL;
        const char *id = NULL;
        natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
        if (natsMsg_GetMetaData(&md, m) == NATS_OK) {
            json_t *o = json_object();
            json_object_set_new(o, "stream_seq", json_integer((json_int_t)md->Sequence.Stream));
            json_object_set_new(o, "subject", json_string(natsMsg_GetSubject(m)));
            json_object_set_new(o, "msg_id", id ? json_string(id) : json_null());
            city_print_json(o);
            got++;
            bool end = md->Sequence.Stream >= last;
            jsMsgMetaData_Destroy(md);
            natsMsg_Destroy(m);
            if (end)
                break;
        } else {
            natsMsg_Destroy(m); /* a heartbeat or flow control */
        }
    }
    natsSubscription_Destroy(sub);
    return rc;
}

/* Whether the server refuses this user a publish to subj: the refusal (an
 * -ERR) comes before the answer to a flush, so this takes one round trip,
 * not a request's time-out. A publish that is allowed goes out (a core
 * publish: into the stream that binds subj, if any, without a PubAck). */
static bool refused(city_conn *c, const char *subj, const void *data, size_t len)
{
    if (natsConnection_Publish(c->nc, subj, data, (int)len) != NATS_OK)
        return true;
    if (natsConnection_FlushTimeout(c->nc, 10000) != NATS_OK) {
        fprintf(stderr, CITY_PROG ": no answer from the server within 10 s: cannot tell\n");
        return true; /* unknown: never reported as allowed */
    }
    /* the reader thread records the -ERR before it reads the flush's PONG;
     * the error callback runs later, on another thread */
    const char *txt = NULL;
    return natsConnection_GetLastError(c->nc, &txt) == NATS_NOT_PERMITTED || city_denied();
}

static int publish(city_conn *c, const char *subj, const char *msgid)
{
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf, stdin);
    if (msgid) {
        uint64_t sseq = 0;
        bool dup = false;
        if (city_publish(c, subj, msgid, buf, n, 5000, &dup, &sseq) != 0)
            return 1;
        printf("published to %s: stream seq %llu%s\n", subj, (unsigned long long)sseq, dup ? " (a duplicate)" : "");
        return 0;
    }
    if (refused(c, subj, buf, n)) {
        fprintf(stderr, CITY_PROG ": publishing to %s: refused: this certificate's user may not\n", subj);
        return 1;
    }
    printf("published to %s\n", subj);
    return 0;
}

static int read1(city_conn *c, const char *stream, const char *consumer)
{
    char probe[256];
    snprintf(probe, sizeof probe, "$JS.API.CONSUMER.INFO.%s.%s", stream, consumer);
    if (refused(c, probe, "", 0)) {
        fprintf(stderr, CITY_PROG ": reading %s/%s: refused: this certificate's user may not read it\n", stream,
                consumer);
        return 1;
    }
    natsSubscription *sub = NULL;
    if (city_bind(c, stream, consumer, 3000, &sub) != 0)
        return 1;
    natsMsgList list = { 0 };
    jsErrCode jerr = 0;
    natsStatus s = natsSubscription_Fetch(&list, sub, 1, 2000, &jerr);
    int rc = 0;
    if (s == NATS_OK) {
        printf("read %d message(s) from %s/%s\n", list.Count, stream, consumer);
        for (int i = 0; i < list.Count; i++)
            natsMsg_Nak(list.Msgs[i], NULL);
        natsMsgList_Destroy(&list);
    } else if (s == NATS_TIMEOUT && !city_denied()) {
        printf("read nothing from %s/%s (nothing waiting)\n", stream, consumer);
    } else {
        fprintf(stderr, CITY_PROG ": reading %s/%s: %s\n", stream, consumer,
                city_denied() ? "refused: this certificate's user may not read it" : natsStatus_GetText(s));
        rc = 1;
    }
    natsSubscription_Destroy(sub);
    return rc;
}

int city_admin(city_conn *c, int argc, char **argv)
{
    if ((argc == 3 || argc == 4) && strcmp(argv[1], "publish") == 0)
        return publish(c, argv[2], argc == 4 ? argv[3] : NULL);
    if (argc == 4 && strcmp(argv[1], "read") == 0)
        return read1(c, argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "leader") == 0)
        return info(c, argv[2], true);
    if (argc == 3 && strcmp(argv[1], "info") == 0)
        return info(c, argv[2], false);
    if (argc == 4 && strcmp(argv[1], "consumer") == 0)
        return consumer(c, argv[2], argv[3]);
    if (argc == 4 && strcmp(argv[1], "delete-msg") == 0)
        return delete_msg(c, argv[2], argv[3]);
    if (argc == 3 && strcmp(argv[1], "dump") == 0)
        return dump(c, argv[2]);
    fprintf(stderr, "usage: " CITY_PROG " admin leader STREAM | info STREAM | consumer STREAM NAME |\n"
                    "                          delete-msg STREAM SEQ | dump STREAM | publish SUBJECT [MSGID] |\n"
                    "                          read STREAM CONSUMER\n");
    return 2;
}
