/* city_desk.c: the city's people and systems on the federation:
 *
 *   orders    a city department's desk: its orders from every district
 *             (durable consumer desk_<dept> on ev.*.order.<dept>); with
 *             --auto it checks in on each new order and feeds back once
 *             checked in (a stand-in for the department's staff: the
 *             benchmark and the fault test use it)
 *   checkin, feedback
 *             the desk acts on one order: a FedCommand on
 *             cmd.<district>.checkin|feedback, command_id the key the
 *             district applies it once by
 *   feed      the 12345 hotline's side: FedIntake as JSON lines in, each
 *             published to hotline.in with Nats-Msg-Id 12345:<external_id>;
 *             a line out for each that JetStream acknowledged
 *   events    the hotline's side: the status changes of cases (durable
 *             consumer feeder on ev.*.case.>), one JSON line each
 *
 * Every message read is printed (and stdout flushed) before it is acked:
 * a crash between the two prints it again, never loses it; the reader
 * keeps the highest (district, seq) it printed to drop repeats. */
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "city.h"
#include "pbjson.h"
#include "seqset.h"
#include "whistle/names.h"
#include "whistle/v1/whistle.pb-c.h"

extern volatile sig_atomic_t city_stopping;

/* ---- seen (district, seq) ------------------------------------------------ */

typedef struct seen_d {
    char code[16];
    seqset s;
} seen_d;
typedef struct seen {
    seen_d *d;
    size_t n;
} seen;

/* Returns 1 when (d, seq) was new (and records it), 0 when seen before. A
 * reader starts empty: a replay of an entry it never printed is new. */
static int seen_add(seen *s, const char *d, uint64_t seq)
{
    seen_d *e = NULL;
    for (size_t i = 0; i < s->n && !e; i++)
        if (strcmp(s->d[i].code, d) == 0)
            e = &s->d[i];
    if (!e) {
        seen_d *nd = realloc(s->d, (s->n + 1) * sizeof *nd);
        if (!nd)
            return 1;
        s->d = nd;
        e = &s->d[s->n++];
        snprintf(e->code, sizeof e->code, "%s", d);
        seqset_init(&e->s, false);
    }
    return seqset_add(&e->s, seq) != 0; /* out of memory: printed again rather than lost */
}

static void seen_free(seen *s)
{
    for (size_t i = 0; i < s->n; i++)
        seqset_free(&s->d[i].s);
    free(s->d);
}

/* ---- the desk's commands ------------------------------------------------ */

static int dept_of(city_conn *c, const char *given, char *out, size_t len)
{
    if (given) {
        snprintf(out, len, "%s", given);
        return 0;
    }
    if (strncmp(c->name, "desk-", 5) == 0 && c->name[5]) {
        snprintf(out, len, "%s", c->name + 5);
        return 0;
    }
    city_err(_("which department? give --dept (a desk's certificate, CN=desk-<dept>, names it)\n"));
    return -1;
}

/* Publishes a check-in (feedback == NULL) or a feedback on order id of
 * district d, by department dept. */
static int send_act(city_conn *c, const char *dept, const char *d, uint64_t id, const char *note, const char *feedback,
                    const char *actor, const char *cmd_id)
{
    Whistle__V1__FedOrderAct act = WHISTLE__V1__FED_ORDER_ACT__INIT;
    act.department = (char *)dept;
    act.order_id = id;
    act.note = (char *)(feedback ? feedback : note ? note : "");
    act.actor = (char *)(actor ? actor : c->name);
    Whistle__V1__FedCommand cmd = WHISTLE__V1__FED_COMMAND__INIT;
    char origin[96];
    snprintf(origin, sizeof origin, "dept:%s", dept);
    cmd.origin = origin;
    cmd.command_id = (char *)cmd_id;
    if (feedback) {
        cmd.kind_case = WHISTLE__V1__FED_COMMAND__KIND_FEEDBACK;
        cmd.feedback = &act;
    } else {
        cmd.kind_case = WHISTLE__V1__FED_COMMAND__KIND_CHECK_IN;
        cmd.check_in = &act;
    }
    size_t len = protobuf_c_message_get_packed_size(&cmd.base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return -1;
    protobuf_c_message_pack(&cmd.base, buf);
    char subj[64];
    snprintf(subj, sizeof subj, "cmd.%s.%s", d, feedback ? "feedback" : "checkin");
    int rc = city_publish(c, subj, cmd_id, buf, len, 15000, NULL, NULL);
    free(buf);
    return rc;
}

static int parse_order_ref(const char *ref, char *d, size_t dlen, uint64_t *id)
{
    const char *colon = strchr(ref, ':');
    if (!colon || (size_t)(colon - ref) >= dlen)
        goto bad;
    memcpy(d, ref, (size_t)(colon - ref));
    d[colon - ref] = '\0';
    char *end;
    unsigned long long v = strtoull(colon + 1, &end, 10);
    if (!city_is_district(d) || *end || v == 0)
        goto bad;
    *id = v;
    return 0;
bad:
    city_err(_("order '%s': write DISTRICT:ORDER_ID (as the desk lists it, e.g. 110105:42)\n"), ref);
    return -1;
}

int city_act(city_conn *c, int argc, char **argv)
{
    bool fb = strcmp(argv[0], "feedback") == 0;
    const char *dept_opt = NULL, *note = NULL, *actor = NULL, *ref = NULL, *text = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dept") == 0 && i + 1 < argc)
            dept_opt = argv[++i];
        else if (strcmp(argv[i], "--note") == 0 && i + 1 < argc && !fb)
            note = argv[++i];
        else if (strcmp(argv[i], "--actor") == 0 && i + 1 < argc)
            actor = argv[++i];
        else if (!ref)
            ref = argv[i];
        else if (fb && !text)
            text = argv[i];
        else
            ref = NULL, i = argc;
    }
    if (!ref || (fb && (!text || !text[0]))) {
        city_usage(fb ? "feedback DISTRICT:ORDER TEXT [--dept D] [--actor NAME]"
                      : "checkin DISTRICT:ORDER [--note TEXT] [--dept D] [--actor NAME]");
        return 2;
    }
    char dept[96], d[16];
    uint64_t id;
    if (dept_of(c, dept_opt, dept, sizeof dept) != 0 || parse_order_ref(ref, d, sizeof d, &id) != 0)
        return 2;
    /* A check-in happens once: its id is the order's, so a retry (or a
     * second click) is the same command. A feedback may be given again
     * after a rework: its id carries the time. */
    char cmd_id[200];
    if (fb)
        snprintf(cmd_id, sizeof cmd_id, "dept:%s:feedback:%s:%" PRIu64 ":%" PRId64, dept, d, id, city_now_ms());
    else
        snprintf(cmd_id, sizeof cmd_id, "dept:%s:checkin:%s:%" PRIu64, dept, d, id);
    if (send_act(c, dept, d, id, note, fb ? text : NULL, actor, cmd_id) != 0)
        return 1;
    printf(fb ? _("feedback sent to district %s for order %llu (it applies it once: %s)\n")
              : _("check-in sent to district %s for order %llu (it applies it once: %s)\n"),
           d, (unsigned long long)id, cmd_id);
    return 0;
}

/* ---- city-level supervision (市级督办) --------------------------------------- */

int city_supervise(city_conn *c, int argc, char **argv)
{
    const char *d = NULL, *ticket = NULL, *note = NULL, *actor = NULL;
    uint64_t order = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--order") == 0 && i + 1 < argc) {
            char *end;
            order = strtoull(argv[++i], &end, 10);
            if (*end || !order)
                return city_usage("supervise DISTRICT TICKET NOTE [--order ID] [--actor NAME]");
        } else if (strcmp(argv[i], "--actor") == 0 && i + 1 < argc) {
            actor = argv[++i];
        } else if (!d) {
            d = argv[i];
        } else if (!ticket) {
            ticket = argv[i];
        } else if (!note) {
            note = argv[i];
        } else {
            return city_usage("supervise DISTRICT TICKET NOTE [--order ID] [--actor NAME]");
        }
    }
    if (!d || !ticket || !note || !note[0])
        return city_usage("supervise DISTRICT TICKET NOTE [--order ID] [--actor NAME]");
    if (!city_is_district(d)) {
        city_err(_("district '%s': a district's code is 6 digits\n"), d);
        return 2;
    }
    Whistle__V1__FedSupervise sv = WHISTLE__V1__FED_SUPERVISE__INIT;
    sv.ticket = (char *)ticket;
    sv.order_id = order;
    sv.note = (char *)note;
    sv.actor = (char *)(actor ? actor : c->name);
    /* each supervision is its own (the city may supervise a case again):
     * the time makes the id, a retry of this publish keeps it */
    char cmd_id[200];
    snprintf(cmd_id, sizeof cmd_id, "city:supervise:%s:%s:%" PRIu64 ":%" PRId64, d, ticket, order, city_now_ms());
    Whistle__V1__FedCommand cmd = WHISTLE__V1__FED_COMMAND__INIT;
    cmd.command_id = cmd_id;
    cmd.origin = "city";
    cmd.kind_case = WHISTLE__V1__FED_COMMAND__KIND_SUPERVISE;
    cmd.supervise = &sv;
    size_t len = protobuf_c_message_get_packed_size(&cmd.base);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        return 1;
    protobuf_c_message_pack(&cmd.base, buf);
    char subj[64];
    snprintf(subj, sizeof subj, "cmd.%s.supervise", d);
    int rc = city_publish(c, subj, cmd_id, buf, len, 15000, NULL, NULL);
    free(buf);
    if (rc != 0)
        return 1;
    printf(_("supervision of %s sent to district %s (it applies it once: %s)\n"), ticket, d, cmd_id);
    return 0;
}

/* ---- a reader of a durable consumer ---------------------------------------- */

typedef struct reader {
    bool follow, json, auto_act;
    int64_t idle_ms; /* without --follow: stop after this long with nothing */
    const char *dept;
    seen seen;
    uint64_t printed, repeats, acted;
} reader;

static void order_line(city_conn *c, reader *r, const char *d, uint64_t seq, Whistle__V1__FedOrder *o)
{
    if (r->json) {
        json_t *j = city_pb_json(&o->base);
        json_object_set_new(j, "seq", json_integer((json_int_t)seq));
        json_object_set_new(j, "recv_ms", json_integer(city_now_ms()));
        city_print_json(j);
    } else {
        const Whistle__V1__Order *od = o->order;
        printf("%s:%" PRIu64 "  %-10s %-12s %s  %s\n", d, od ? od->id : 0, o->action,
               od ? whistle_order_state_name(od->state) : "-", od ? od->ticket : "", od ? od->description : "");
        fflush(stdout);
    }
    if (!r->auto_act || !o->order)
        return;
    const Whistle__V1__Order *od = o->order;
    char cmd_id[200];
    if (od->state == WHISTLE__V1__ORDER_STATE__ORDER_STATE_PENDING) {
        snprintf(cmd_id, sizeof cmd_id, "dept:%s:checkin:%s:%" PRIu64, r->dept, d, od->id);
        if (send_act(c, r->dept, d, od->id, "on our way", NULL, NULL, cmd_id) == 0)
            r->acted++;
    } else if (od->state == WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN) {
        snprintf(cmd_id, sizeof cmd_id, "dept:%s:feedback:%s:%" PRIu64 ":auto", r->dept, d, od->id);
        if (send_act(c, r->dept, d, od->id, NULL, "done: checked and fixed", NULL, cmd_id) == 0)
            r->acted++;
    }
}

static void event_line(reader *r, const char *d, uint64_t seq, Whistle__V1__FedCaseEvent *e)
{
    if (r->json) {
        json_t *j = city_pb_json(&e->base);
        json_object_set_new(j, "seq", json_integer((json_int_t)seq));
        json_object_set_new(j, "recv_ms", json_integer(city_now_ms()));
        city_print_json(j);
    } else {
        printf("%s:%" PRIu64 "  %s %s %s %s\n", d, seq, e->ticket, e->external_id, e->action,
               whistle_state_name(e->state));
        fflush(stdout);
    }
}

/* Reads the consumer until stopped (or, without follow, idle). kind: 'o'
 * orders, 'e' case events. */
static int read_consumer(city_conn *c, const char *stream, const char *consumer, int kind, reader *r)
{
    natsSubscription *sub = NULL;
    if (city_bind(c, stream, consumer, 30000, &sub) != 0)
        return 1;
    int64_t last = city_now_ms();
    while (!city_stopping) {
        natsMsgList list = { 0 };
        jsErrCode jerr = 0;
        natsStatus s = natsSubscription_Fetch(&list, sub, 256, 500, &jerr);
        if (s == NATS_TIMEOUT || (s == NATS_OK && list.Count == 0)) {
            if (!r->follow && city_now_ms() - last >= r->idle_ms)
                break;
            continue;
        }
        if (s != NATS_OK) {
            usleep(200 * 1000);
            continue;
        }
        last = city_now_ms();
        for (int i = 0; i < list.Count; i++) {
            natsMsg *m = list.Msgs[i];
            const char *id = NULL;
            char d[16];
            uint64_t seq = 0;
            if (natsMsgHeader_Get(m, "Nats-Msg-Id", &id) != NATS_OK || city_msgid_seq(id, d, sizeof d, &seq) != 0) {
                city_err(_("%s: a message without a <district>:<seq> Msg-Id: skipped\n"), natsMsg_GetSubject(m));
                natsMsg_Ack(m, NULL);
                continue;
            }
            if (!seen_add(&r->seen, d, seq)) {
                r->repeats++;
                natsMsg_Ack(m, NULL);
                continue;
            }
            const uint8_t *data = (const uint8_t *)natsMsg_GetData(m);
            size_t len = (size_t)natsMsg_GetDataLength(m);
            if (kind == 'o') {
                Whistle__V1__FedOrder *o = whistle__v1__fed_order__unpack(NULL, len, data);
                if (o) {
                    order_line(c, r, d, seq, o);
                    whistle__v1__fed_order__free_unpacked(o, NULL);
                }
            } else {
                Whistle__V1__FedCaseEvent *e = whistle__v1__fed_case_event__unpack(NULL, len, data);
                if (e) {
                    event_line(r, d, seq, e);
                    whistle__v1__fed_case_event__free_unpacked(e, NULL);
                }
            }
            r->printed++;
            natsMsg_Ack(m, NULL);
        }
        natsMsgList_Destroy(&list);
    }
    natsSubscription_Destroy(sub);
    city_err(_("%llu read, %llu repeats dropped, %llu acted on\n"), (unsigned long long)r->printed,
             (unsigned long long)r->repeats, (unsigned long long)r->acted);
    seen_free(&r->seen);
    return 0;
}

static int reader_args(reader *r, int argc, char **argv, const char **dept)
{
    r->idle_ms = 2000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--follow") == 0)
            r->follow = true;
        else if (strcmp(argv[i], "--json") == 0)
            r->json = true;
        else if (strcmp(argv[i], "--auto") == 0 && dept)
            r->auto_act = true;
        else if (strcmp(argv[i], "--dept") == 0 && dept && i + 1 < argc)
            *dept = argv[++i];
        else if (strcmp(argv[i], "--idle-ms") == 0 && i + 1 < argc)
            r->idle_ms = atoll(argv[++i]);
        else
            return -1;
    }
    return 0;
}

int city_orders(city_conn *c, int argc, char **argv)
{
    reader r = { 0 };
    const char *dept_opt = NULL;
    if (reader_args(&r, argc, argv, &dept_opt) != 0) {
        city_usage("orders [--dept D] [--follow] [--json] [--auto] [--idle-ms MS]");
        return 2;
    }
    char dept[96], consumer[128];
    if (dept_of(c, dept_opt, dept, sizeof dept) != 0)
        return 2;
    r.dept = dept;
    snprintf(consumer, sizeof consumer, "desk_%s", dept);
    return read_consumer(c, CITY_STREAM_EV, consumer, 'o', &r);
}

int city_events(city_conn *c, int argc, char **argv)
{
    reader r = { 0 };
    if (reader_args(&r, argc, argv, NULL) != 0) {
        city_usage("events [--follow] [--json] [--idle-ms MS]");
        return 2;
    }
    return read_consumer(c, CITY_STREAM_EV, "feeder", 'e', &r);
}

/* ---- the hotline feeder ---------------------------------------------------- */

int city_feed(city_conn *c, int argc, char **argv)
{
    if (argc > 2) {
        city_usage("feed [FILE]");
        return 2;
    }
    FILE *f = argc == 2 && strcmp(argv[1], "-") != 0 ? fopen(argv[1], "r") : stdin;
    if (!f) {
        perror(argv[1]);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    int rc = 0;
    unsigned long lineno = 0;
    while (!city_stopping && (n = getline(&line, &cap, f)) > 0) {
        lineno++;
        if (n <= 1)
            continue;
        json_error_t je;
        json_t *j = json_loads(line, 0, &je);
        ProtobufCMessage *m = NULL;
        char err[256] = "";
        if (!j || pbj_from_json(&whistle__v1__fed_intake__descriptor, j, &m, err, sizeof err) != 0) {
            city_err(_("line %lu: %s\n"), lineno, j ? err : je.text);
            json_decref(j);
            rc = 1;
            continue;
        }
        json_decref(j);
        Whistle__V1__FedIntake *in = (Whistle__V1__FedIntake *)m;
        if (!in->external_id[0]) {
            city_err(_("line %lu: external_id is required\n"), lineno);
            protobuf_c_message_free_unpacked(m, NULL);
            rc = 1;
            continue;
        }
        if (!in->origin[0]) {
            /* the message owns its strings (freed with it) */
            char *o = strdup(CITY_HOTLINE_ORIGIN);
            if (o) {
                if (in->origin != protobuf_c_empty_string)
                    free(in->origin);
                in->origin = o;
            }
        }
        if (!in->received_ms)
            in->received_ms = city_now_ms();
        size_t len = protobuf_c_message_get_packed_size(m);
        uint8_t *buf = malloc(len ? len : 1);
        char msgid[300];
        snprintf(msgid, sizeof msgid, "%s:%s", CITY_HOTLINE_ORIGIN, in->external_id);
        bool dup = false;
        uint64_t sseq = 0;
        int r = -1;
        if (buf) {
            protobuf_c_message_pack(m, buf);
            r = city_publish(c, "hotline.in", msgid, buf, len, 60000, &dup, &sseq);
        }
        free(buf);
        if (r == 0) {
            json_t *o = json_object();
            json_object_set_new(o, "acked", json_string(in->external_id));
            json_object_set_new(o, "stream_seq", json_integer((json_int_t)sseq));
            json_object_set_new(o, "duplicate", json_boolean(dup));
            json_object_set_new(o, "received_ms", json_integer(in->received_ms));
            city_print_json(o);
        } else {
            rc = 1;
        }
        protobuf_c_message_free_unpacked(m, NULL);
        if (r != 0)
            break; /* not acknowledged within a minute: stop, say so */
    }
    free(line);
    if (f != stdin)
        fclose(f);
    return rc;
}
