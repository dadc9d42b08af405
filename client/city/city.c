/* whistle-city: the city's programs on its NATS JetStream cluster, one
 * subcommand each (docs/federation.md):
 *
 *   setup CITY.json         streams, buckets, consumers and the directory (idempotent)
 *   place EXT_ID DISTRICT   a person places a case the router could not
 *   unrouted                the cases waiting to be placed
 *   stats                   the districts ranked by the three rates, and the city's sums
 *   orders                  a city department's desk: its orders from every district
 *   checkin / feedback      the desk acts on an order (a command to its district)
 *   supervise               city-level supervision (市级督办) of a case or an order
 *   feed                    the 12345 hotline's side: publish cases, print what was acked
 *   events                  the hotline's side: the status changes of cases
 *   admin ...               for operators and the fault test: leader, delete-msg, dump, consumer
 *
 * The connection: --nats URLS --cert FILE --key FILE --ca FILE before the
 * subcommand, or WHISTLE_NATS_SERVERS, _CERT, _KEY, _CA. */
#include "city.h"

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pbjson.h"

volatile sig_atomic_t city_stopping;

static void on_stop(int sig)
{
    (void)sig;
    city_stopping = 1;
}

void city_err(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", CITY_PROG);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
}

int city_usage(const char *synopsis)
{
    char line[512];
    snprintf(line, sizeof line, "%s %s", CITY_PROG, synopsis);
    fprintf(stderr, _("usage: %s\n"), line);
    return 2;
}

void city_print_json(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT);
    if (s) {
        fputs(s, stdout);
        fputc('\n', stdout);
        free(s);
    }
    json_decref(j);
    fflush(stdout);
}

json_t *city_pb_json(const ProtobufCMessage *m) { return pbj_to_json(m); }

int city_publish(city_conn *c, const char *subj, const char *msgid, const void *data, size_t len, int64_t wait_ms,
                 bool *dup, uint64_t *stream_seq)
{
    int64_t until = city_now_ms() + wait_ms;
    natsStatus s;
    jsErrCode jerr = 0;
    for (;;) {
        natsMsg *m = NULL;
        s = natsMsg_Create(&m, subj, NULL, data, (int)len);
        if (s == NATS_OK && msgid)
            s = natsMsgHeader_Set(m, "Nats-Msg-Id", msgid);
        jsPubAck *pa = NULL;
        jerr = 0;
        if (s == NATS_OK) {
            jsPubOptions po;
            jsPubOptions_Init(&po);
            po.MaxWait = 3000;
            s = js_PublishMsg(&pa, c->js, m, &po, &jerr);
        }
        natsMsg_Destroy(m);
        if (s == NATS_OK) {
            if (dup)
                *dup = pa->Duplicate;
            if (stream_seq)
                *stream_seq = pa->Sequence;
            jsPubAck_Destroy(pa);
            return 0;
        }
        /* a permission or a bad subject does not get better by waiting */
        if (s == NATS_NOT_PERMITTED || s == NATS_INVALID_SUBJECT || city_denied() || city_now_ms() >= until)
            break;
        usleep(100 * 1000);
    }
    char what[300];
    snprintf(what, sizeof what, "publishing to %s", subj);
    if (city_denied())
        city_err(_("%s: refused: this certificate's user may not (permissions of the city's NATS)\n"), what);
    else
        city_nats_err(CITY_PROG, what, s, jerr);
    return -1;
}

int city_bind(city_conn *c, const char *stream, const char *consumer, int64_t wait_ms, natsSubscription **sub)
{
    int64_t until = city_now_ms() + wait_ms;
    natsStatus s;
    jsErrCode jerr = 0;
    for (;;) {
        jsSubOptions so;
        jsSubOptions_Init(&so);
        so.Stream = stream;
        so.Consumer = consumer;
        s = js_PullSubscribe(sub, c->js, NULL, consumer, NULL, &so, &jerr);
        if (s == NATS_OK)
            return 0;
        if (s == NATS_NOT_PERMITTED || city_denied() || city_now_ms() >= until)
            break;
        usleep(300 * 1000);
    }
    char what[300];
    if (city_denied()) {
        city_err(_("the consumer %s of %s: refused: this certificate's user may not read it\n"), consumer, stream);
        return -1;
    }
    snprintf(what, sizeof what, "binding to the consumer %s of %s (does it exist? whistle-city setup makes it)",
             consumer, stream);
    city_nats_err(CITY_PROG, what, s, jerr);
    return -1;
}

static void usage(FILE *f)
{
    fprintf(f, _("usage: %s\n"), CITY_PROG " [--nats URLS] [--cert FILE] [--key FILE] [--ca FILE] COMMAND ...");
    fprintf(f, "%s\n", _("The city's side of a federation of whistled districts on NATS JetStream."));
    static const struct {
        const char *cmd, *what;
    } rows[] = {
        { "setup CITY.json", N_("streams, buckets, consumers and the city directory") },
        { "place EXT_ID DISTRICT ...", N_("place unrouted hotline cases in their districts") },
        { "unrouted", N_("the cases waiting to be placed (JSON lines)") },
        { "stats [--month YYYYMM] [--json]", N_("the districts ranked by the three rates, and the city") },
        { "orders [--dept D] [--follow] [--json] [--auto]", N_("a city department's orders from every district") },
        { "checkin DISTRICT:ORDER [--note T]", N_("a city department checks in on an order") },
        { "feedback DISTRICT:ORDER TEXT", N_("... and feeds back (the order is done)") },
        { "supervise DISTRICT TICKET NOTE [--order ID]", N_("city-level supervision of a case or one of its orders") },
        { "feed [FILE]", N_("publish hotline cases (FedIntake as JSON lines)") },
        { "events [--follow] [--json]", N_("the hotline's view: the status changes of cases (JSON lines)") },
        { "admin leader|info|consumer|delete-msg|dump|publish|read ...", N_("for operators and tests") },
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        fprintf(f, "  %s\n      %s\n", rows[i].cmd, _(rows[i].what));
    fprintf(f, "%s\n", _("Connection settings also from WHISTLE_NATS_SERVERS, _CERT, _KEY, _CA (docs/federation.md)."));
}

int main(int argc, char **argv)
{
    uitext_locale_init("whistle"); /* in English when no catalogue or locale fits */
    city_opts o = { .prog = CITY_PROG, .quiet = true };
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        const char *a = argv[i];
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        }
        if (strcmp(a, "--version") == 0) {
            printf(CITY_PROG " " WHISTLE_VERSION "\n");
            return 0;
        }
        if (strcmp(a, "--verbose") == 0) {
            o.quiet = false;
            continue;
        }
        if (i + 1 >= argc) {
            usage(stderr);
            return 2;
        }
        if (strcmp(a, "--nats") == 0)
            o.servers = argv[++i];
        else if (strcmp(a, "--cert") == 0)
            o.cert = argv[++i];
        else if (strcmp(a, "--key") == 0)
            o.key = argv[++i];
        else if (strcmp(a, "--ca") == 0)
            o.ca = argv[++i];
        else {
            city_err(_("unknown option %s\n"), a);
            usage(stderr);
            return 2;
        }
    }
    if (i >= argc) {
        usage(stderr);
        return 2;
    }
    static const struct {
        const char *name;
        int (*fn)(city_conn *, int, char **);
    } cmds[] = { { "setup", city_setup },         { "place", city_place },   { "unrouted", city_unrouted },
                 { "stats", city_stats },         { "orders", city_orders }, { "checkin", city_act },
                 { "feedback", city_act },        { "feed", city_feed },     { "events", city_events },
                 { "supervise", city_supervise }, { "admin", city_admin } };
    int (*fn)(city_conn *, int, char **) = NULL;
    for (size_t k = 0; k < sizeof cmds / sizeof cmds[0]; k++)
        if (strcmp(argv[i], cmds[k].name) == 0)
            fn = cmds[k].fn;
    if (!fn) {
        city_err(_("unknown command '%s'\n"), argv[i]);
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
    if (city_connect(&o, 15000, 5000, &c) != 0)
        return 1;
    int rc = fn(&c, argc - i, argv + i);
    /* no nats_Close(): libnats 3.4's tears OpenSSL down, and OpenSSL's
     * own exit handler then crashes on what it freed */
    city_close(&c);
    return rc;
}
