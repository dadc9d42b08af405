/* test_bridge.c: whistle-bridge between a real whistled and a real
 * nats-server with JetStream, on loopback (docs/federation.md).
 *
 * Each test starts its own nats-server (a free port, a temp store, stopped
 * by its PID), a federated whistled (the harness), and the bridge as a
 * ROLE_BRIDGE principal. Without nats-server the tests are skipped with a
 * message saying so (scripts/deps.sh installs it). */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <nats/nats.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define DISTRICT "110105"
#define GRID "110105001001001"

typedef struct city {
    daemon_h d;
    pid_t nats_pid, bridge_pid;
    int nats_port;
    char url[64];
    char bridge_conf[400], bridge_log[400];
    natsConnection *nc;
    jsCtx *js;
} city;

static const char *nats_server(void)
{
    static const char *const paths[] = { "/usr/bin/nats-server", "/usr/sbin/nats-server",
                                         "/usr/local/bin/nats-server" };
    for (size_t i = 0; i < sizeof paths / sizeof *paths; i++)
        if (access(paths[i], X_OK) == 0)
            return paths[i];
    return NULL;
}

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t l = sizeof a;
    cr_assert(bind(fd, (struct sockaddr *)&a, sizeof a) == 0 && getsockname(fd, (struct sockaddr *)&a, &l) == 0);
    int port = ntohs(a.sin_port);
    close(fd);
    return port;
}

static pid_t spawn(char *const argv[], const char *log)
{
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* a test that fails half-way leaves no server or bridge behind */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
        }
        execv(argv[0], argv);
        _exit(127);
    }
    return pid;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };
    nanosleep(&ts, NULL);
}

/* tls: the server asks for client certificates (the fixture PKI's CA and
 * server certificate), as a city's servers do. */
static void nats_start(city *c, bool tls)
{
    c->nats_port = free_port();
    char port[16], store[400], log[400], ca[400], cert[400], key[400];
    const char *pki = harness_pki();
    snprintf(port, sizeof port, "%d", c->nats_port);
    snprintf(store, sizeof store, "%s/jetstream", c->d.dir);
    snprintf(log, sizeof log, "%s/nats.log", c->d.dir);
    snprintf(ca, sizeof ca, "%s/ca.crt", pki);
    snprintf(cert, sizeof cert, "%s/server.crt", pki);
    snprintf(key, sizeof key, "%s/server.key", pki);
    char *plain[] = { (char *)nats_server(), "-js", "-a", "127.0.0.1", "-p", port, "-sd", store, NULL };
    char *secure[] = { (char *)nats_server(), "-js",       "-a", "127.0.0.1", "-p", port,          "-sd", store,
                       "--tlsverify",         "--tlscert", cert, "--tlskey",  key,  "--tlscacert", ca,    NULL };
    c->nats_pid = spawn(tls ? secure : plain, log);
    snprintf(c->url, sizeof c->url, "%s://127.0.0.1:%d", tls ? "tls" : "nats", c->nats_port);
    natsOptions *o = NULL;
    cr_assert_eq(natsOptions_Create(&o), NATS_OK);
    natsOptions_SetURL(o, c->url);
    if (tls) {
        char ccert[400], ckey[400];
        harness_cert("admin", ccert, sizeof ccert, ckey, sizeof ckey);
        cr_assert_eq(natsOptions_SetSecure(o, true), NATS_OK);
        cr_assert_eq(natsOptions_LoadCATrustedCertificates(o, ca), NATS_OK);
        cr_assert_eq(natsOptions_LoadCertificatesChain(o, ccert, ckey), NATS_OK);
    }
    for (int i = 0; i < 100; i++) {
        if (natsConnection_Connect(&c->nc, o) == NATS_OK)
            break;
        c->nc = NULL;
        sleep_ms(100);
    }
    natsOptions_Destroy(o);
    cr_assert(c->nc, "nats-server did not come up on %s (see %s)", c->url, log);
    cr_assert_eq(natsConnection_JetStream(&c->js, c->nc, NULL), NATS_OK);
    /* the streams and buckets the city's set-up makes (one replica here) */
    const char *streams[][2] = { { "INTAKE", "intake.>" }, { "EV", "ev.>" }, { "CMD", "cmd.>" } };
    for (size_t i = 0; i < 3; i++) {
        jsStreamConfig cfg;
        jsStreamConfig_Init(&cfg);
        cfg.Name = streams[i][0];
        const char *subj[] = { streams[i][1] };
        cfg.Subjects = subj;
        cfg.SubjectsLen = 1;
        cfg.Storage = js_FileStorage;
        cfg.Duplicates = (int64_t)120 * 1000000000;
        jsErrCode jerr = 0;
        cr_assert_eq(js_AddStream(NULL, c->js, &cfg, NULL, &jerr), NATS_OK, "stream %s: %d", cfg.Name, (int)jerr);
    }
    /* the consumers the city's set-up makes, for a bridge that binds them */
    const char *consumers[][3] = { { "INTAKE", "intake_" DISTRICT, "intake." DISTRICT },
                                   { "CMD", "cmd_" DISTRICT, "cmd." DISTRICT ".>" } };
    for (size_t i = 0; i < 2; i++) {
        jsConsumerConfig cc;
        jsConsumerConfig_Init(&cc);
        cc.Durable = consumers[i][1];
        cc.FilterSubject = consumers[i][2];
        cc.AckPolicy = js_AckExplicit;
        cc.AckWait = (int64_t)10 * 1000000000;
        jsErrCode jerr = 0;
        cr_assert_eq(js_AddConsumer(NULL, c->js, consumers[i][0], &cc, NULL, &jerr), NATS_OK, "consumer %s: %d",
                     cc.Durable, (int)jerr);
    }
    const char *buckets[] = { "city_dir", "city_stats" };
    for (size_t i = 0; i < 2; i++) {
        kvConfig kc;
        kvConfig_Init(&kc);
        kc.Bucket = buckets[i];
        kvStore *kv = NULL;
        cr_assert_eq(js_CreateKeyValue(&kv, c->js, &kc), NATS_OK);
        kvStore_Destroy(kv);
    }
}

static void bridge_start(city *c)
{
    char *argv[] = { WHISTLE_BRIDGE_BIN, "--config", c->bridge_conf, NULL };
    c->bridge_pid = spawn(argv, c->bridge_log);
}

static void bridge_kill(city *c, int sig)
{
    if (c->bridge_pid > 0) {
        kill(c->bridge_pid, sig);
        int st;
        waitpid(c->bridge_pid, &st, 0);
        if (sig == SIGTERM)
            cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "the bridge did not stop cleanly (see %s)", c->bridge_log);
        c->bridge_pid = 0;
    }
}

/* bind: the bridge binds the consumers the city made (ack wait 10 s)
 * rather than making its own (30 s); always with tls. */
static void city_start_as(city *c, bool tls, bool bind)
{
    if (!nats_server())
        cr_skip_test("nats-server is not installed (scripts/deps.sh installs it): the bridge is not tested");
    memset(c, 0, sizeof *c);
    /* a port of its own, kept across a restart, which the bridge's config names */
    char extra[160];
    snprintf(extra, sizeof extra, "[server]\nport = %d\n[federation]\nenabled = true\ndistrict = " DISTRICT "\n",
             free_port());
    harness_start(&c->d, extra);
    /* the district's bridge */
    whistle_client *admin = harness_connect(&c->d, "admin");
    Whistle__V1__Principal p = WHISTLE__V1__PRINCIPAL__INIT;
    p.name = "bridge";
    p.role = WHISTLE__V1__ROLE__ROLE_BRIDGE;
    p.scope = DISTRICT;
    p.enabled = true;
    Whistle__V1__AddPrincipal ap = WHISTLE__V1__ADD_PRINCIPAL__INIT;
    ap.principal = &p;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_ADD_PRINCIPAL;
    req.add_principal = &ap;
    whistle_response_free(harness_call_ok(admin, &req));
    whistle_close(admin);
    nats_start(c, tls);
    const char *pki = harness_pki();
    snprintf(c->bridge_conf, sizeof c->bridge_conf, "%s/bridge.conf", c->d.dir);
    snprintf(c->bridge_log, sizeof c->bridge_log, "%s/bridge.log", c->d.dir);
    FILE *f = fopen(c->bridge_conf, "w");
    cr_assert(f);
    fprintf(f,
            "[bridge]\ndistrict = %s\nstats_interval = 1\n"
            "[whistled]\nhost = 127.0.0.1\nport = %d\nca = %s/ca.crt\ncert = %s/clients/bridge.crt\n"
            "key = %s/clients/bridge.key\n"
            "[nats]\nurl = %s\n[log]\nlevel = debug\n",
            DISTRICT, c->d.port, pki, pki, pki, c->url);
    if (tls) /* the bridge's own certificate, for NATS too */
        fprintf(f, "[nats]\nca = %s/ca.crt\ncert = %s/clients/bridge.crt\nkey = %s/clients/bridge.key\n", pki, pki,
                pki);
    if (tls || bind) /* the city's consumers */
        fprintf(f, "[bridge]\nintake_durable = intake_" DISTRICT "\ncmd_durable = cmd_" DISTRICT "\n");
    fclose(f);
    bridge_start(c);
}

static void city_start(city *c, bool tls) { city_start_as(c, tls, false); }

static void city_stop(city *c)
{
    if (c->bridge_pid)
        bridge_kill(c, SIGTERM);
    jsCtx_Destroy(c->js);
    if (c->nc) {
        natsConnection_Close(c->nc);
        natsConnection_Destroy(c->nc);
    }
    if (c->nats_pid > 0) {
        kill(c->nats_pid, SIGTERM);
        waitpid(c->nats_pid, NULL, 0);
    }
    FILE *f = fopen(c->bridge_log, "r");
    if (f) {
        char line[1024];
        while (fgets(line, sizeof line, f))
            cr_assert(!strstr(line, "ERROR: AddressSanitizer") && !strstr(line, "runtime error:") &&
                          !strstr(line, "ERROR: LeakSanitizer"),
                      "the bridge's log: %s", line);
        fclose(f);
    }
    harness_cleanup(&c->d);
    /* not nats_Close: libnats' TLS teardown and OpenSSL's own at exit
     * (this process also has libwhistle's contexts) do not mix */
}

/* An intake as the router sends it. */
static void send_intake(city *c, const char *ext, const char *msg_id)
{
    Whistle__V1__FedIntake in = WHISTLE__V1__FED_INTAKE__INIT;
    in.external_id = (char *)ext;
    in.origin = "12345";
    in.node = GRID;
    in.category = "0102";
    in.description = "rubbish by the gate";
    in.contact = "13800001111";
    uint8_t buf[512];
    size_t n = whistle__v1__fed_intake__pack(&in, buf);
    natsMsg *m = NULL;
    cr_assert_eq(natsMsg_Create(&m, "intake." DISTRICT, NULL, (const char *)buf, (int)n), NATS_OK);
    natsMsgHeader_Set(m, "Nats-Msg-Id", msg_id);
    jsErrCode jerr = 0;
    cr_assert_eq(js_PublishMsg(NULL, c->js, m, NULL, &jerr), NATS_OK);
    natsMsg_Destroy(m);
}

/* Every message of stream EV so far, in order: each one's Msg-Id seq and
 * packed payload. Returns how many. */
typedef struct ev_msg {
    uint64_t seq;
    char subject[128];
    Whistle__V1__FedCaseEvent *fc;
} ev_msg;

static size_t read_ev(city *c, ev_msg *out, size_t max)
{
    jsStreamInfo *si = NULL;
    cr_assert_eq(js_GetStreamInfo(&si, c->js, "EV", NULL, NULL), NATS_OK);
    uint64_t first = si->State.FirstSeq, last = si->State.LastSeq;
    jsStreamInfo_Destroy(si);
    size_t n = 0;
    for (uint64_t s = first; s && s <= last && n < max; s++) {
        natsMsg *m = NULL;
        if (js_GetMsg(&m, c->js, "EV", s, NULL, NULL) != NATS_OK)
            continue;
        const char *id = NULL;
        cr_assert_eq(natsMsgHeader_Get(m, "Nats-Msg-Id", &id), NATS_OK);
        cr_assert_eq(strncmp(id, DISTRICT ":", 7), 0, "Msg-Id %s", id);
        out[n].seq = strtoull(id + 7, NULL, 10);
        snprintf(out[n].subject, sizeof out[n].subject, "%s", natsMsg_GetSubject(m));
        out[n].fc = strstr(out[n].subject, ".case.")
                        ? whistle__v1__fed_case_event__unpack(NULL, (size_t)natsMsg_GetDataLength(m),
                                                              (const uint8_t *)natsMsg_GetData(m))
                        : NULL;
        natsMsg_Destroy(m);
        n++;
    }
    return n;
}

static void free_ev(ev_msg *m, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (m[i].fc)
            whistle__v1__fed_case_event__free_unpacked(m[i].fc, NULL);
}

/* The messages' seqs are 1..n, each once (in any order: after a fault,
 * an entry published again comes after later ones). */
static void assert_each_once(const ev_msg *ev, size_t n)
{
    unsigned char *seen = calloc(n + 1, 1);
    cr_assert(seen);
    for (size_t i = 0; i < n; i++) {
        cr_assert(ev[i].seq >= 1 && ev[i].seq <= n, "message %zu has Msg-Id seq %llu, outside 1..%zu", i + 1,
                  (unsigned long long)ev[i].seq, n);
        cr_assert(!seen[ev[i].seq], "Msg-Id seq %llu is in the stream twice", (unsigned long long)ev[i].seq);
        seen[ev[i].seq] = 1;
    }
    free(seen);
}

/* The federation stream's newest seq and cursor in whistled. */
static void fed_positions(city *c, uint64_t *last, uint64_t *cursor)
{
    whistle_client *admin = harness_connect(&c->d, "admin");
    Whistle__V1__Subscribe s = WHISTLE__V1__SUBSCRIBE__INIT;
    s.stream = "fed:" DISTRICT;
    s.from_cursor = true;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SUBSCRIBE;
    req.subscribe = &s;
    Whistle__V1__Response *r = harness_call_ok(admin, &req);
    *last = r->subscribe->last_seq;
    *cursor = r->subscribe->cursor;
    whistle_response_free(r);
    whistle_close(admin);
}

/* Waits until JetStream holds every entry of the stream and whistled's
 * cursor reached it. */
static void wait_caught_up(city *c, int timeout_ms, uint64_t *last_out)
{
    uint64_t last = 0, cursor = 0;
    for (int t = 0; t < timeout_ms; t += 200) {
        fed_positions(c, &last, &cursor);
        if (last && cursor == last)
            break;
        sleep_ms(200);
    }
    cr_assert_eq(cursor, last, "whistled's cursor %llu never reached %llu (see %s)", (unsigned long long)cursor,
                 (unsigned long long)last, c->bridge_log);
    *last_out = last;
}

TestSuite(bridge, .timeout = 180);

Test(bridge, an_intake_becomes_one_case_and_its_changes_reach_the_city_with_their_msg_id)
{
    city c;
    city_start(&c, false);
    /* the same hotline case three times: twice under one Msg-Id (JetStream
     * drops the second) and once more under another (as a redelivery by
     * another router would be): one case */
    send_intake(&c, "H-1", "12345:H-1");
    send_intake(&c, "H-1", "12345:H-1");
    send_intake(&c, "H-1", "router-2:H-1");
    /* every intake applied and acknowledged */
    for (int t = 0; t < 200; t++) {
        jsConsumerInfo *ci = NULL;
        bool done = js_GetConsumerInfo(&ci, c.js, "INTAKE", "bridge_" DISTRICT "_intake", NULL, NULL) == NATS_OK &&
                    ci->NumPending == 0 && ci->NumAckPending == 0 && ci->Delivered.Stream >= 2;
        jsConsumerInfo_Destroy(ci);
        if (done)
            break;
        sleep_ms(100);
    }
    uint64_t last;
    wait_caught_up(&c, 20000, &last);
    ev_msg ev[64];
    size_t n = read_ev(&c, ev, 64);
    int reports = 0;
    const char *ticket = NULL;
    for (size_t i = 0; i < n; i++)
        if (ev[i].fc && strcmp(ev[i].fc->external_id, "H-1") == 0 && strcmp(ev[i].fc->action, "report") == 0) {
            reports++;
            ticket = ev[i].fc->ticket;
        }
    cr_assert_eq(reports, 1, "one case for H-1, %d reported", reports);
    char want[128];
    snprintf(want, sizeof want, "ev." DISTRICT ".case.%s", ticket);
    /* its status change: the operator files it */
    whistle_client *op = harness_connect(&c.d, "operator");
    whistle_response_free(h_simple(op, WHISTLE__V1__REQUEST__CALL_FILE, ticket, "accepted"));
    whistle_close(op);
    wait_caught_up(&c, 20000, &last);
    ev_msg ev2[64];
    size_t n2 = read_ev(&c, ev2, 64);
    bool filed = false;
    for (size_t i = 0; i < n2; i++) {
        cr_assert_leq(ev2[i].seq, last);
        if (ev2[i].fc && strcmp(ev2[i].subject, want) == 0 &&
            ev2[i].fc->state == WHISTLE__V1__EVENT_STATE__EVENT_STATE_FILED) {
            filed = true;
            cr_assert_eq(ev2[i].seq, last, "the filing is the stream's newest entry, Msg-Id " DISTRICT ":%llu",
                         (unsigned long long)last);
            cr_assert_eq(ev2[i].fc->version, 2);
        }
    }
    cr_assert(filed, "no FILED event on %s", want);
    /* its subscription is a read of personal data (a transfer carries the
     * reporter's phone): in the audit log */
    whistle_client *admin = harness_connect(&c.d, "admin");
    bool audited = false;
    for (int t = 0; t < 50 && !audited; t++) {
        Whistle__V1__QueryAudit q = WHISTLE__V1__QUERY_AUDIT__INIT;
        q.principal = "bridge";
        q.brief = true;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_QUERY_AUDIT;
        req.query_audit = &q;
        Whistle__V1__Response *r = harness_call_ok(admin, &req);
        for (size_t i = 0; i < r->audit->n_entries; i++) {
            const Whistle__V1__AuditEntry *e = r->audit->entries[i];
            audited |= strcmp(e->call, "subscribe") == 0 && strcmp(e->target, "fed:" DISTRICT) == 0 && *e->read;
        }
        whistle_response_free(r);
        if (!audited)
            sleep_ms(200);
    }
    whistle_close(admin);
    cr_assert(audited, "the bridge's subscription to fed:" DISTRICT " is not in the audit log as a read");
    /* one message per entry, Msg-Ids 1..last */
    cr_assert_eq(n2, last);
    for (size_t i = 0; i < n2; i++)
        cr_assert_eq(ev2[i].seq, i + 1);
    free_ev(ev, n);
    free_ev(ev2, n2);
    city_stop(&c);
}

Test(bridge, kill_9_of_the_bridge_mid_stream_loses_nothing_and_duplicates_nothing)
{
    city c;
    city_start(&c, false);
    whistle_client *op = harness_connect(&c.d, "operator");
    enum { N = 150 };
    for (int i = 0; i < N; i++) {
        char *t = h_report(op, GRID, "0102", "kill test");
        free(t);
        if (i == N / 3 || i == 2 * N / 3) {
            /* mid-stream: whatever it published and had not acknowledged
             * comes again after the restart, under the same Msg-Id */
            bridge_kill(&c, SIGKILL);
            bridge_start(&c);
        }
    }
    whistle_close(op);
    uint64_t last;
    wait_caught_up(&c, 60000, &last);
    cr_assert_geq(last, N);
    static ev_msg ev[4 * N];
    size_t n = read_ev(&c, ev, 4 * N);
    cr_assert_eq(n, last, "JetStream holds %zu messages for %llu entries", n, (unsigned long long)last);
    assert_each_once(ev, n);
    free_ev(ev, n);
    /* and whistled's store is whole: the stream, the keys, the cursor */
    harness_stop(&c.d);
    char out[2048];
    cr_assert_eq(harness_check_store(&c.d, out, sizeof out), 0, "whistled --check: %s", out);
    city_stop(&c);
}

/* The next message on a core subscription whose subject is subj (others
 * are skipped), or NULL after timeout_ms. */
static natsMsg *next_on(natsSubscription *sub, const char *subj, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 100) {
        natsMsg *m = NULL;
        if (natsSubscription_NextMsg(&m, sub, 100) != NATS_OK || !m)
            continue;
        if (strcmp(natsMsg_GetSubject(m), subj) == 0)
            return m;
        natsMsg_Destroy(m);
    }
    return NULL;
}

static Whistle__V1__FedOrder *wait_order(natsSubscription *sub, const char *action, int timeout_ms)
{
    for (int t = 0; t < timeout_ms; t += 100) {
        natsMsg *m = next_on(sub, "ev." DISTRICT ".order.citywater", 100);
        if (!m)
            continue;
        Whistle__V1__FedOrder *o =
            whistle__v1__fed_order__unpack(NULL, (size_t)natsMsg_GetDataLength(m), (const uint8_t *)natsMsg_GetData(m));
        natsMsg_Destroy(m);
        cr_assert(o);
        if (strcmp(o->action, action) == 0)
            return o;
        whistle__v1__fed_order__free_unpacked(o, NULL);
    }
    return NULL;
}

Test(bridge, over_tls_a_city_department_gets_its_order_and_checks_in_and_the_city_sees_statistics_and_a_replay)
{
    city c;
    city_start(&c, true);
    /* the city directory: a city department */
    Whistle__V1__Department dep = WHISTLE__V1__DEPARTMENT__INIT;
    dep.code = "citywater";
    dep.name_zh = "市水务局";
    dep.name_en = "City water authority";
    Whistle__V1__FedDirEntry de = WHISTLE__V1__FED_DIR_ENTRY__INIT;
    de.key = "dept.citywater";
    de.department = &dep;
    uint8_t buf[512];
    size_t n = whistle__v1__fed_dir_entry__pack(&de, buf);
    kvStore *dir = NULL;
    cr_assert_eq(js_KeyValue(&dir, c.js, "city_dir"), NATS_OK);
    cr_assert_eq(kvStore_Put(NULL, dir, "dept.citywater", buf, (int)n), NATS_OK);
    kvStore_Destroy(dir);
    whistle_client *admin = harness_connect(&c.d, "admin");
    bool city_dept = false;
    for (int t = 0; t < 100 && !city_dept; t++) {
        Whistle__V1__ListDepartments ld = WHISTLE__V1__LIST_DEPARTMENTS__INIT;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        req.call_case = WHISTLE__V1__REQUEST__CALL_LIST_DEPARTMENTS;
        req.list_departments = &ld;
        Whistle__V1__Response *r = harness_call_ok(admin, &req);
        for (size_t i = 0; i < r->departments->n_departments; i++)
            city_dept |=
                strcmp(r->departments->departments[i]->code, "citywater") == 0 && r->departments->departments[i]->city;
        whistle_response_free(r);
        if (!city_dept)
            sleep_ms(100);
    }
    cr_assert(city_dept, "city_dir's department never reached whistled (see %s)", c.bridge_log);

    /* a case whistled to it: the city desk sees the order */
    natsSubscription *orders = NULL;
    cr_assert_eq(natsConnection_SubscribeSync(&orders, c.nc, "ev." DISTRICT ".order.>"), NATS_OK);
    whistle_client *op = harness_connect(&c.d, "operator");
    char *ticket = h_report(op, GRID, "0102", "a water main burst");
    whistle_response_free(h_simple(op, WHISTLE__V1__REQUEST__CALL_FILE, ticket, "accepted"));
    const char *depts[] = { "citywater" };
    Whistle__V1__Response *w = h_whistle(op, ticket, depts, 1);
    uint64_t order = w->whistle->orders[0]->id;
    whistle_response_free(w);
    Whistle__V1__FedOrder *o = wait_order(orders, "dispatch", 20000);
    cr_assert(o, "no dispatch on ev." DISTRICT ".order.citywater (see %s)", c.bridge_log);
    cr_assert_eq(o->order->id, order);
    whistle__v1__fed_order__free_unpacked(o, NULL);

    /* the department checks in from the city desk: a command to the district */
    Whistle__V1__FedOrderAct act = WHISTLE__V1__FED_ORDER_ACT__INIT;
    act.department = "citywater";
    act.order_id = order;
    act.note = "crew on the way";
    act.actor = "desk-3";
    Whistle__V1__FedCommand cmd = WHISTLE__V1__FED_COMMAND__INIT;
    cmd.command_id = "dept:citywater:1";
    cmd.origin = "dept:citywater";
    cmd.kind_case = WHISTLE__V1__FED_COMMAND__KIND_CHECK_IN;
    cmd.check_in = &act;
    n = whistle__v1__fed_command__pack(&cmd, buf);
    for (int i = 0; i < 2; i++) /* twice: the second is the same command again */
        cr_assert_eq(js_Publish(NULL, c.js, "cmd." DISTRICT ".checkin", buf, (int)n, NULL, NULL), NATS_OK);
    o = wait_order(orders, "check_in", 20000);
    cr_assert(o, "no check_in on ev." DISTRICT ".order.citywater (see %s)", c.bridge_log);
    cr_assert_eq(o->order->state, WHISTLE__V1__ORDER_STATE__ORDER_STATE_CHECKED_IN);
    whistle__v1__fed_order__free_unpacked(o, NULL);
    natsSubscription_Destroy(orders);

    /* statistics: the district's month in city_stats */
    kvStore *stats = NULL;
    cr_assert_eq(js_KeyValue(&stats, c.js, "city_stats"), NATS_OK);
    char key[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    snprintf(key, sizeof key, DISTRICT ".%04d%02d", (tm.tm_year + 1900) % 10000, (tm.tm_mon + 1) % 100);
    Whistle__V1__FedStats *fs = NULL;
    for (int t = 0; t < 100; t++) {
        kvEntry *e = NULL;
        if (kvStore_Get(&e, stats, key) == NATS_OK && e) {
            Whistle__V1__FedStats *got =
                whistle__v1__fed_stats__unpack(NULL, (size_t)kvEntry_ValueLen(e), kvEntry_Value(e));
            kvEntry_Destroy(e);
            cr_assert(got);
            if (got->row && got->row->reported >= 1 && got->row->dispatched >= 1) {
                fs = got;
                break;
            }
            whistle__v1__fed_stats__free_unpacked(got, NULL);
        }
        sleep_ms(200);
    }
    cr_assert(fs, "no statistics under city_stats %s (see %s)", key, c.bridge_log);
    cr_assert_str_eq(fs->district, DISTRICT);
    whistle__v1__fed_stats__free_unpacked(fs, NULL);
    kvStore_Destroy(stats);

    /* a message lost by the broker (deleted): the gap is replayed on request */
    uint64_t last;
    wait_caught_up(&c, 20000, &last);
    jsStreamInfo *si = NULL;
    cr_assert_eq(js_GetStreamInfo(&si, c.js, "EV", NULL, NULL), NATS_OK);
    uint64_t lost = si->State.FirstSeq + 1, msgs = si->State.Msgs;
    jsStreamInfo_Destroy(si);
    natsMsg *m = NULL;
    cr_assert_eq(js_GetMsg(&m, c.js, "EV", lost, NULL, NULL), NATS_OK);
    const char *id = NULL;
    natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
    uint64_t gap = strtoull(strchr(id, ':') + 1, NULL, 10);
    natsMsg_Destroy(m);
    cr_assert_eq(js_DeleteMsg(c.js, "EV", lost, NULL, NULL), NATS_OK);
    char ask[64];
    snprintf(ask, sizeof ask, "{\"from_seq\":%llu,\"to_seq\":%llu}", (unsigned long long)gap, (unsigned long long)gap);
    natsMsg *reply = NULL;
    cr_assert_eq(natsConnection_RequestString(&reply, c.nc, "replay." DISTRICT, ask, 10000), NATS_OK,
                 "no answer to the replay request (see %s)", c.bridge_log);
    cr_assert(strstr(natsMsg_GetData(reply), "\"republished\":1"), "replay answered %s", natsMsg_GetData(reply));
    natsMsg_Destroy(reply);
    bool back = false;
    for (int t = 0; t < 50 && !back; t++) {
        cr_assert_eq(js_GetStreamInfo(&si, c.js, "EV", NULL, NULL), NATS_OK);
        uint64_t lastseq = si->State.LastSeq;
        back = si->State.Msgs == msgs;
        jsStreamInfo_Destroy(si);
        if (back) {
            cr_assert_eq(js_GetMsg(&m, c.js, "EV", lastseq, NULL, NULL), NATS_OK);
            natsMsgHeader_Get(m, "Nats-Msg-Id", &id);
            cr_assert_eq(strtoull(strchr(id, ':') + 1, NULL, 10), gap, "the replayed entry is %s", id);
            natsMsg_Destroy(m);
        } else {
            sleep_ms(100);
        }
    }
    cr_assert(back, "the lost entry did not come back");
    free(ticket);
    whistle_close(op);
    whistle_close(admin);
    city_stop(&c);
}

/* kill -9 and start again the same nats-server (same port, same store). */
static void nats_restart(city *c)
{
    kill(c->nats_pid, SIGKILL);
    waitpid(c->nats_pid, NULL, 0);
    char port[16], store[400], log[400];
    snprintf(port, sizeof port, "%d", c->nats_port);
    snprintf(store, sizeof store, "%s/jetstream", c->d.dir);
    snprintf(log, sizeof log, "%s/nats.log", c->d.dir);
    char *plain[] = { (char *)nats_server(), "-js", "-a", "127.0.0.1", "-p", port, "-sd", store, NULL };
    c->nats_pid = spawn(plain, log);
}

static void report_some(city *c, int n)
{
    whistle_client *op = harness_connect(&c->d, "operator");
    for (int i = 0; i < n; i++)
        free(h_report(op, GRID, "0102", "restart test"));
    whistle_close(op);
}

/* The whole EV stream holds entries 1..last once each (after a wait). */
static void assert_ev_complete(city *c, uint64_t last)
{
    static ev_msg ev[512];
    size_t n = 0;
    for (int t = 0; t < 100; t++) {
        n = read_ev(c, ev, 512);
        free_ev(ev, n);
        if (n >= last)
            break;
        sleep_ms(200);
    }
    n = read_ev(c, ev, 512);
    cr_assert_eq(n, last, "JetStream holds %zu messages for %llu entries (see %s)", n, (unsigned long long)last,
                 c->bridge_log);
    assert_each_once(ev, n);
    free_ev(ev, n);
}

Test(bridge, the_bridge_comes_back_after_whistled_and_nats_server_are_killed)
{
    city c;
    city_start(&c, false);
    uint64_t last;
    report_some(&c, 10);
    wait_caught_up(&c, 20000, &last);
    /* whistled killed and started again: the bridge reconnects and goes on
     * from the cursor */
    harness_kill(&c.d);
    harness_restart(&c.d);
    report_some(&c, 10);
    wait_caught_up(&c, 30000, &last);
    cr_assert_eq(last, 20);
    /* nats-server killed: whistled keeps the entries, the cursor waits */
    kill(c.nats_pid, SIGSTOP);
    report_some(&c, 5);
    uint64_t cursor;
    fed_positions(&c, &last, &cursor);
    cr_assert_eq(last, 25);
    cr_assert_leq(cursor, 20, "acknowledged %llu while JetStream could not have them", (unsigned long long)cursor);
    kill(c.nats_pid, SIGCONT);
    nats_restart(&c);
    report_some(&c, 5);
    wait_caught_up(&c, 60000, &last);
    cr_assert_eq(last, 30);
    assert_ev_complete(&c, last);
    /* and the city's side comes back too: an intake after the restart */
    for (int t = 0; t < 100; t++) {
        natsStatus st = natsConnection_Status(c.nc) == NATS_CONN_STATUS_CONNECTED ? NATS_OK : NATS_ERR;
        if (st == NATS_OK)
            break;
        sleep_ms(100);
    }
    send_intake(&c, "AFTER-1", "12345:AFTER-1");
    bool applied = false;
    for (int t = 0; t < 300 && !applied; t++) {
        uint64_t l2, c2;
        fed_positions(&c, &l2, &c2);
        applied = l2 > last && c2 == l2;
        if (!applied)
            sleep_ms(100);
    }
    cr_assert(applied, "the intake after nats-server's restart was not applied (see %s)", c.bridge_log);
    city_stop(&c);
}

Test(bridge, kill_9_while_intakes_are_applied_makes_each_one_case_exactly_once)
{
    city c;
    city_start_as(&c, false, true);
    enum { N = 200 };
    for (int i = 0; i < N; i++) {
        char ext[32], id[48];
        snprintf(ext, sizeof ext, "K-%d", i);
        snprintf(id, sizeof id, "12345:%s", ext);
        send_intake(&c, ext, id);
    }
    /* once it is applying them: some applied, some applied and not yet
     * acknowledged, some fetched and not applied; JetStream delivers the
     * unacknowledged again (ack wait 10 s) */
    for (int t = 0; t < 3000; t++) {
        jsConsumerInfo *ci = NULL;
        bool going = js_GetConsumerInfo(&ci, c.js, "INTAKE", "intake_" DISTRICT, NULL, NULL) == NATS_OK &&
                     ci->AckFloor.Stream >= 10 && ci->NumAckPending > 0;
        jsConsumerInfo_Destroy(ci);
        if (going)
            break;
        sleep_ms(1);
    }
    bridge_kill(&c, SIGKILL);
    jsConsumerInfo *at = NULL;
    if (js_GetConsumerInfo(&at, c.js, "INTAKE", "intake_" DISTRICT, NULL, NULL) == NATS_OK) {
        fprintf(stderr, "bridge killed: delivered %llu, acknowledged %llu, in flight %lld\n",
                (unsigned long long)at->Delivered.Stream, (unsigned long long)at->AckFloor.Stream,
                (long long)at->NumAckPending);
        jsConsumerInfo_Destroy(at);
    }
    bridge_start(&c);
    for (int t = 0; t < 600; t++) {
        jsConsumerInfo *ci = NULL;
        bool done = js_GetConsumerInfo(&ci, c.js, "INTAKE", "intake_" DISTRICT, NULL, NULL) == NATS_OK &&
                    ci->NumPending == 0 && ci->NumAckPending == 0 && ci->Delivered.Stream >= N;
        jsConsumerInfo_Destroy(ci);
        if (done)
            break;
        sleep_ms(100);
    }
    uint64_t last;
    wait_caught_up(&c, 60000, &last);
    static ev_msg ev[4 * N];
    size_t n = read_ev(&c, ev, 4 * N);
    int reports[N] = { 0 };
    for (size_t i = 0; i < n; i++)
        if (ev[i].fc && strncmp(ev[i].fc->external_id, "K-", 2) == 0 && strcmp(ev[i].fc->action, "report") == 0)
            reports[atoi(ev[i].fc->external_id + 2)]++;
    for (int i = 0; i < N; i++)
        cr_assert_eq(reports[i], 1, "K-%d became %d cases (see %s)", i, reports[i], c.bridge_log);
    free_ev(ev, n);
    city_stop(&c);
}

/* Runs cmd (a shell line) and returns its exit status and output. */
static int run_out(const char *cmd, char *out, size_t len)
{
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t n = fread(out, 1, len - 1, p);
    out[n] = 0;
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

Test(bridge, the_federation_settings_are_checked_before_anything_starts)
{
    char dir[] = "/tmp/whistle-fedconf-XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    const char *pki = harness_pki();
    char conf[300], cmd[1200], out[2048];
    snprintf(conf, sizeof conf, "%s/x.conf", dir);
    static const struct {
        const char *lines, *want;
    } daemon_bad[] = {
        { "enabled = true", "federation.district is not set" },
        { "enabled = true\ndistrict = 11010", "6-digit" },
        { "enabled = true\ndistrict = 110105\nintake_node = 110106001", "not in district" },
        { "enabled = true\ndistrict = 110105\nintake_category = 12", "4-digit" },
        { "distrcit = 110105", "unknown key federation.distrcit" },
    };
    for (size_t i = 0; i < sizeof daemon_bad / sizeof *daemon_bad; i++) {
        FILE *f = fopen(conf, "w");
        cr_assert_not_null(f);
        fprintf(f, "[tls]\nca = %s/ca.crt\ncert = %s/server.crt\nkey = %s/server.key\n[federation]\n%s\n", pki, pki,
                pki, daemon_bad[i].lines);
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s --config %s --check-config 2>&1", WHISTLED_BIN, conf);
        cr_assert_neq(run_out(cmd, out, sizeof out), 0, "accepted: %s", daemon_bad[i].lines);
        cr_assert(strstr(out, daemon_bad[i].want), "%s: the error lacks \"%s\": %s", daemon_bad[i].lines,
                  daemon_bad[i].want, out);
    }
    static const struct {
        const char *lines, *want;
    } bridge_bad[] = {
        { "[bridge]\n", "bridge.district is required" },
        { "[bridge]\ndistrict = abc\n", "6-digit" },
        { "[bridge]\ndistrict = 110105\nin_flight = 0\n", "bridge.in_flight" },
        { "[bridge]\ndistrict = 110105\n[nats]\ncert = /etc/hostname\n", "go together" },
        { "[bridge]\ndistrict = 110105\n[nats]\nurll = x\n", "unknown key nats.urll" },
        { "[bridge]\ndistrict = 110105\n[whistled]\ncert = /nonexistent\n", "whistled.cert" },
    };
    for (size_t i = 0; i < sizeof bridge_bad / sizeof *bridge_bad; i++) {
        FILE *f = fopen(conf, "w");
        cr_assert_not_null(f);
        fprintf(f, "[whistled]\nca = %s/ca.crt\ncert = %s/clients/bridge.crt\nkey = %s/clients/bridge.key\n%s", pki,
                pki, pki, bridge_bad[i].lines);
        fclose(f);
        snprintf(cmd, sizeof cmd, "%s --config %s --check-config 2>&1", WHISTLE_BRIDGE_BIN, conf);
        cr_assert_eq(run_out(cmd, out, sizeof out), 1, "accepted: %s", bridge_bad[i].lines);
        cr_assert(strstr(out, bridge_bad[i].want), "%s: the error lacks \"%s\": %s", bridge_bad[i].lines,
                  bridge_bad[i].want, out);
    }
    /* and a good one passes */
    FILE *f = fopen(conf, "w");
    cr_assert_not_null(f);
    fprintf(f,
            "[whistled]\nca = %s/ca.crt\ncert = %s/clients/bridge.crt\nkey = %s/clients/bridge.key\n"
            "[bridge]\ndistrict = 110105\n",
            pki, pki, pki);
    fclose(f);
    snprintf(cmd, sizeof cmd, "%s --config %s --check-config 2>&1", WHISTLE_BRIDGE_BIN, conf);
    cr_assert_eq(run_out(cmd, out, sizeof out), 0, "%s", out);
    unlink(conf);
    rmdir(dir);
}
