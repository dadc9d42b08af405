/* whistle-router: the 12345 hotline's router (docs/federation.md).
 *
 * One thread, a simple blocking loop (the load is a city's hotline, about a
 * case a second at peak; a loop that waits on JetStream is easy to prove):
 *
 *   fetch a batch from HOTLINE (durable pull consumer "router", explicit
 *   ack) -> place each FedIntake (grid code prefix, else location in a
 *   district's boundary, from the KV city_dir) -> publish it to
 *   intake.<district> or intake.unrouted with Nats-Msg-Id 12345:<external_id>
 *   -> wait for JetStream's PubAck -> ack the hotline message.
 *
 * A crash between the publish and the ack redelivers the hotline message;
 * the republish carries the same Msg-Id (JetStream drops it within its
 * duplicate window) and the district keeps external_id -> ticket forever
 * (it answers the same ticket), so a case is never placed twice.
 *
 * The same loop watches the bridges' gapless numbering: every EV message
 * has Nats-Msg-Id <district>:<seq>; an entry missing from EV (a hole in a
 * district's seqs that stays for gap_ms, or a message the stream lost
 * after it was read) is asked for again on replay.<district>
 * ({"from_seq":N,"to_seq":M}), which that district's bridge answers from
 * its daemon's stream (see "gap watch" below). */
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "citydir.h"
#include "citynats.h"
#include "seqset.h"
#include "whistle/v1/whistle.pb-c.h"

#define PROG "whistle-router"

static volatile sig_atomic_t stopping;
static void on_stop(int sig)
{
    (void)sig;
    stopping = 1;
}

/* ---- gap watch ----------------------------------------------------------
 *
 * Two ways a bridge's entry can go missing from EV, and how each is seen:
 * - it never arrived (or was lost before this watcher read it): a hole in
 *   the district's seqs that stays for gap_ms;
 * - it was read, then lost from the stream (a broker's loss; an operator's
 *   delete): the stream reports the sequence as deleted inside it, and the
 *   watcher remembers which (district, seq) recent stream sequences held.
 * Either way the (district, seq) is asked for on replay.<district> (its
 * bridge republishes it from its daemon's stream), again every 5 s until
 * it is seen in EV again. */

typedef struct gapd {
    char code[16];
    seqset seen;
    int64_t hole_since; /* when the current hole was first seen (0: none) */
    int64_t asked_at;   /* last replay asked */
} gapd;

/* what a recent stream sequence held */
typedef struct recent {
    uint64_t sseq, seq;
    char code[8];
} recent;
#define RECENT_MAX 65536

/* a (district, seq) lost from the stream, asked for until seen again */
typedef struct lost {
    char code[8];
    uint64_t seq;
    int64_t asked_at;
} lost;

typedef struct gapwatch {
    gapd *d;
    size_t n;
    int64_t gap_ms;
    uint64_t asked;
    recent *ring; /* RECENT_MAX, by stream sequence modulo */
    lost *lost;
    size_t nlost, caplost;
    int64_t checked_at;
} gapwatch;

static gapd *gap_find(gapwatch *g, const char *code)
{
    for (size_t i = 0; i < g->n; i++)
        if (strcmp(g->d[i].code, code) == 0)
            return &g->d[i];
    gapd *nd = realloc(g->d, (g->n + 1) * sizeof *nd);
    if (!nd)
        return NULL;
    g->d = nd;
    gapd *e = &g->d[g->n++];
    memset(e, 0, sizeof *e);
    snprintf(e->code, sizeof e->code, "%s", code);
    /* a router that starts late cannot know what came before the first
     * seq it sees */
    seqset_init(&e->seen, true);
    return e;
}

static void ask_replay(gapwatch *g, city_conn *c, const char *code, uint64_t from, uint64_t to, const char *why)
{
    char subj[64], body[128];
    snprintf(subj, sizeof subj, "replay.%s", code);
    snprintf(body, sizeof body, "{\"from_seq\":%" PRIu64 ",\"to_seq\":%" PRIu64 "}", from, to);
    if (natsConnection_PublishString(c->nc, subj, body) == NATS_OK) {
        fprintf(stderr, PROG ": district %s: seqs %" PRIu64 "..%" PRIu64 " %s; asked for a replay\n", code, from, to,
                why);
        g->asked++;
    }
}

/* One EV message: (code, seq) at stream sequence sseq. */
static void gap_seen(gapwatch *g, const char *code, uint64_t seq, uint64_t sseq)
{
    gapd *e = gap_find(g, code);
    if (e) {
        seqset_add(&e->seen, seq); /* out of memory: the hole is asked for again later */
        uint64_t from, to;
        if (!seqset_hole(&e->seen, &from, &to))
            e->hole_since = 0;
        else if (!e->hole_since)
            e->hole_since = city_now_ms();
    }
    for (size_t i = 0; i < g->nlost; i++)
        if (g->lost[i].seq == seq && strcmp(g->lost[i].code, code) == 0) {
            fprintf(stderr, PROG ": district %s: seq %" PRIu64 " is back in EV\n", code, seq);
            g->lost[i] = g->lost[--g->nlost];
            break;
        }
    if (g->ring && sseq && strlen(code) < sizeof g->ring[0].code) {
        recent *r = &g->ring[sseq % RECENT_MAX];
        r->sseq = sseq;
        r->seq = seq;
        snprintf(r->code, sizeof r->code, "%s", code);
    }
}

/* The stream's interior deletions that held entries we read: lost. */
static void gap_deleted(gapwatch *g, city_conn *c)
{
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.DeletedDetails = true;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, c->js, CITY_STREAM_EV, &o, &jerr) != NATS_OK)
        return; /* an election: next time */
    for (int i = 0; g->ring && i < si->State.DeletedLen; i++) {
        uint64_t sseq = si->State.Deleted[i];
        recent *r = &g->ring[sseq % RECENT_MAX];
        if (r->sseq != sseq || !r->seq)
            continue;
        if (g->nlost == g->caplost) {
            size_t nc = g->caplost ? g->caplost * 2 : 16;
            lost *nl = realloc(g->lost, nc * sizeof *nl);
            if (!nl)
                break;
            g->lost = nl;
            g->caplost = nc;
        }
        lost *l = &g->lost[g->nlost++];
        snprintf(l->code, sizeof l->code, "%s", r->code);
        l->seq = r->seq;
        l->asked_at = 0;
        fprintf(stderr, PROG ": EV #%" PRIu64 " (%s:%" PRIu64 ") is gone from the stream\n", sseq, r->code, r->seq);
        r->seq = 0; /* noted once */
    }
    jsStreamInfo_Destroy(si);
}

static void gap_check(gapwatch *g, city_conn *c)
{
    int64_t now = city_now_ms();
    if (now - g->checked_at >= g->gap_ms) {
        g->checked_at = now;
        gap_deleted(g, c);
    }
    for (size_t i = 0; i < g->nlost; i++)
        if (now - g->lost[i].asked_at >= 5000) {
            ask_replay(g, c, g->lost[i].code, g->lost[i].seq, g->lost[i].seq, "lost from EV");
            g->lost[i].asked_at = now;
        }
    for (size_t i = 0; i < g->n; i++) {
        gapd *e = &g->d[i];
        uint64_t from, to;
        if (!seqset_hole(&e->seen, &from, &to) || now - e->hole_since < g->gap_ms || now - e->asked_at < 5000)
            continue;
        ask_replay(g, c, e->code, from, to, "missing from EV");
        e->asked_at = now;
    }
}

static void gap_free(gapwatch *g)
{
    for (size_t i = 0; i < g->n; i++)
        seqset_free(&g->d[i].seen);
    free(g->d);
    free(g->ring);
    free(g->lost);
}

/* Reads what the consumer has (waiting up to wait_ms) into the gap watch.
 * in_ev: the stream is EV (its sequences are remembered). */
static void watch(gapwatch *gw, natsSubscription *sub, int64_t wait_ms, bool in_ev)
{
    natsMsgList list = { 0 };
    jsErrCode jerr = 0;
    if (natsSubscription_Fetch(&list, sub, 256, wait_ms, &jerr) != NATS_OK)
        return;
    for (int i = 0; i < list.Count; i++) {
        const char *id = NULL;
        char d[16];
        uint64_t seq;
        jsMsgMetaData *md = NULL;
        if (natsMsgHeader_Get(list.Msgs[i], "Nats-Msg-Id", &id) == NATS_OK &&
            city_msgid_seq(id, d, sizeof d, &seq) == 0 && natsMsg_GetMetaData(&md, list.Msgs[i]) == NATS_OK)
            gap_seen(gw, d, seq, in_ev ? md->Sequence.Stream : 0);
        if (md)
            jsMsgMetaData_Destroy(md);
        natsMsg_Ack(list.Msgs[i], NULL);
    }
    natsMsgList_Destroy(&list);
}

/* ---- routing ------------------------------------------------------------ */

typedef struct stats {
    uint64_t routed, unrouted, bad;
} stats;

/* Routes one hotline message. Returns 0 when it may be acked (published
 * and acknowledged by JetStream, or not a case at all), -1 to leave it for
 * redelivery. */
static int route_one(city_conn *c, const citydir *dir, natsMsg *m, stats *st)
{
    Whistle__V1__FedIntake *in =
        whistle__v1__fed_intake__unpack(NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
    if (!in || !in->external_id[0]) {
        fprintf(stderr, PROG ": a hotline message that is not a FedIntake with an external_id: dropped\n");
        if (in)
            whistle__v1__fed_intake__free_unpacked(in, NULL);
        st->bad++;
        return 0;
    }
    const char *d = citydir_place(dir, in->node, in->has_location, in->lat, in->lon);
    char subj[64], msgid[300];
    if (d)
        snprintf(subj, sizeof subj, "intake.%s", d);
    else
        snprintf(subj, sizeof subj, "%s", CITY_SUBJ_UNROUTED);
    /* An unrouted case has an id of its own in INTAKE: the one it gets
     * when a person places it (12345:<external_id>) must not be taken for
     * a duplicate of it. */
    snprintf(msgid, sizeof msgid, "%s:%s%s", CITY_HOTLINE_ORIGIN, in->external_id, d ? "" : ":unrouted");
    whistle__v1__fed_intake__free_unpacked(in, NULL);

    /* A stream electing its leader answers "no responders" for a few
     * seconds: try again for up to 10 s before leaving the message for
     * redelivery. The same Msg-Id makes a retry of a publish that did land
     * harmless. */
    natsStatus s = NATS_OK;
    jsPubAck *pa = NULL;
    jsErrCode jerr = 0;
    int64_t until = city_now_ms() + 10000;
    for (;;) {
        natsMsg *out = NULL;
        s = natsMsg_Create(&out, subj, NULL, natsMsg_GetData(m), natsMsg_GetDataLength(m));
        if (s == NATS_OK)
            s = natsMsgHeader_Set(out, "Nats-Msg-Id", msgid);
        jerr = 0;
        if (s == NATS_OK) {
            jsPubOptions po;
            jsPubOptions_Init(&po);
            po.MaxWait = 3000;
            s = js_PublishMsg(&pa, c->js, out, &po, &jerr);
        }
        natsMsg_Destroy(out);
        if (s == NATS_OK || s == NATS_NOT_PERMITTED || city_denied() || stopping || city_now_ms() >= until)
            break;
        usleep(250 * 1000);
    }
    if (s != NATS_OK) {
        city_nats_err(PROG, subj, s, jerr);
        return -1;
    }
    jsPubAck_Destroy(pa);
    if (d)
        st->routed++;
    else
        st->unrouted++;
    return 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: " PROG " [--nats URLS] [--cert FILE] [--key FILE] [--ca FILE] [--batch N]\n"
               "                      [--gap-ms MS] [--reload-s S] [--quiet] [--version]\n"
               "Routes the 12345 hotline's cases (stream HOTLINE) to their districts' intake\n"
               "(docs/federation.md). Connection settings also from WHISTLE_NATS_SERVERS,\n"
               "WHISTLE_NATS_CERT, WHISTLE_NATS_KEY, WHISTLE_NATS_CA.\n");
}

int main(int argc, char **argv)
{
    city_opts o = { .prog = PROG };
    int batch = 64;
    int64_t gap_ms = 3000, reload_ms = 30000;
    static const struct option lo[] = { { "nats", 1, 0, 'n' },     { "cert", 1, 0, 'c' },  { "key", 1, 0, 'k' },
                                        { "ca", 1, 0, 'a' },       { "batch", 1, 0, 'b' }, { "gap-ms", 1, 0, 'g' },
                                        { "reload-s", 1, 0, 'r' }, { "quiet", 0, 0, 'q' }, { "help", 0, 0, 'h' },
                                        { "version", 0, 0, 'V' },  { 0, 0, 0, 0 } };
    int ch;
    while ((ch = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (ch) {
        case 'n': o.servers = optarg; break;
        case 'c': o.cert = optarg; break;
        case 'k': o.key = optarg; break;
        case 'a': o.ca = optarg; break;
        case 'b': batch = atoi(optarg); break;
        case 'g': gap_ms = atoll(optarg); break;
        case 'r': reload_ms = atoll(optarg) * 1000; break;
        case 'q': o.quiet = true; break;
        case 'h': usage(stdout); return 0;
        case 'V': printf(PROG " " WHISTLE_VERSION "\n"); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc || batch < 1 || batch > 1000 || gap_ms < 100 || reload_ms < 1000) {
        usage(stderr);
        return 2;
    }
    if (city_opts_env(&o) != 0)
        return 2;
    struct sigaction sa = { .sa_handler = on_stop };
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    city_conn c;
    if (city_connect(&o, 30000, 5000, &c) != 0)
        return 1;
    int rc = 0;
    citydir *dir = NULL;
    natsSubscription *hot = NULL, *ev = NULL, *xfer = NULL;
    gapwatch gw = { .gap_ms = gap_ms, .ring = calloc(RECENT_MAX, sizeof(recent)) };
    stats st = { 0 };
    jsErrCode jerr = 0;
    natsStatus s;
    /* The consumers exist (whistle-city setup): bind to them. A broker
     * that is electing a leader answers slowly: retry for a while. */
    for (int tries = 0;; tries++) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = CITY_STREAM_HOTLINE;
        so.Consumer = "router";
        s = js_PullSubscribe(&hot, c.js, "hotline.in", "router", NULL, &so, &jerr);
        if (s == NATS_OK) {
            jsSubOptions_Init(&so);
            so.Stream = CITY_STREAM_EV;
            so.Consumer = "gapwatch";
            s = js_PullSubscribe(&ev, c.js, "ev.>", "gapwatch", NULL, &so, &jerr);
        }
        if (s == NATS_OK) {
            /* a district's transfers out are its entries too (on CMD) */
            jsSubOptions_Init(&so);
            so.Stream = CITY_STREAM_CMD;
            so.Consumer = "gapwatch_cmd";
            s = js_PullSubscribe(&xfer, c.js, "cmd.*.transfer", "gapwatch_cmd", NULL, &so, &jerr);
        }
        if (s == NATS_OK || tries >= 60 || stopping)
            break;
        natsSubscription_Destroy(hot);
        natsSubscription_Destroy(ev);
        hot = ev = NULL;
        usleep(500 * 1000);
    }
    if (s != NATS_OK) {
        city_nats_err(PROG,
                      "binding to the consumers HOTLINE/router, EV/gapwatch, CMD/gapwatch_cmd (run whistle-city setup)",
                      s, jerr);
        rc = 1;
        goto out;
    }
    int64_t loaded_at = 0, said_at = city_now_ms();
    fprintf(stderr, PROG ": routing hotline.in as %s\n", c.name);
    while (!stopping) {
        if (!dir || city_now_ms() - loaded_at >= reload_ms) {
            citydir *nd = citydir_load(&c, PROG);
            if (nd) {
                citydir_free(dir);
                dir = nd;
                loaded_at = city_now_ms();
            } else if (!dir) {
                usleep(500 * 1000);
                continue;
            } else {
                loaded_at = city_now_ms(); /* keep the last good one; try again later */
            }
        }
        natsMsgList list = { 0 };
        int got = 0;
        s = natsSubscription_Fetch(&list, hot, batch, 500, &jerr);
        if (s == NATS_OK) {
            got = list.Count;
            for (int i = 0; i < list.Count && !stopping; i++) {
                if (route_one(&c, dir, list.Msgs[i], &st) == 0) {
                    natsMsg_Ack(list.Msgs[i], NULL);
                } else {
                    /* JetStream redelivers it and the rest of the batch
                     * in a second (in order) */
                    for (int k = i; k < list.Count; k++)
                        natsMsg_NakWithDelay(list.Msgs[k], 1000, NULL);
                    break;
                }
            }
            natsMsgList_Destroy(&list);
        } else if (s != NATS_TIMEOUT) {
            usleep(200 * 1000);
        }
        /* busy routing: a short look at the watch; idle: a longer one */
        watch(&gw, ev, got ? 1 : 100, true);
        watch(&gw, xfer, 1, false);
        gap_check(&gw, &c);
        if (city_now_ms() - said_at >= 60000) {
            said_at = city_now_ms();
            fprintf(stderr,
                    PROG ": routed %" PRIu64 ", unrouted %" PRIu64 ", bad %" PRIu64 ", replays asked %" PRIu64 "\n",
                    st.routed, st.unrouted, st.bad, gw.asked);
        }
    }
    fprintf(stderr,
            PROG ": stopping: routed %" PRIu64 ", unrouted %" PRIu64 ", bad %" PRIu64 ", replays asked %" PRIu64 "\n",
            st.routed, st.unrouted, st.bad, gw.asked);
out:
    natsSubscription_Destroy(xfer);
    natsSubscription_Destroy(ev);
    natsSubscription_Destroy(hot);
    citydir_free(dir);
    gap_free(&gw);
    /* no nats_Close(): libnats 3.4's tears OpenSSL down, and OpenSSL's
     * own exit handler then crashes on what it freed */
    city_close(&c);
    return rc;
}
