/* harness.c: see harness.h. */
#include "harness.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#ifndef WHISTLE_TEST_PKI_DIR
#error "WHISTLE_TEST_PKI_DIR must be defined by the build"
#endif

static int run(const char *cmd)
{
    int rc = system(cmd);
    return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const char *harness_pki(void)
{
    static bool ready;
    if (ready)
        return WHISTLE_TEST_PKI_DIR;
    mkdir(WHISTLE_TEST_PKI_DIR, 0755);
    /* Test processes run in parallel: one makes the PKI, the others wait. */
    int lock = open(WHISTLE_TEST_PKI_DIR ".lock", O_CREAT | O_RDWR, 0644);
    cr_assert(lock >= 0, "cannot open the PKI lock: %s", strerror(errno));
    flock(lock, LOCK_EX);
    char done[512];
    /* the marker names the set: a new principal in the list makes it again
     * (dev-pki.sh makes only what is missing) */
    snprintf(done, sizeof done, "%s/.complete-district", WHISTLE_TEST_PKI_DIR);
    if (access(done, F_OK) != 0) {
        char cmd[2048];
        const char *d = WHISTLE_TEST_PKI_DIR, *s = WHISTLE_SOURCE_DIR "/scripts/dev-pki.sh";
        snprintf(cmd, sizeof cmd,
                 "%s %s admin operator operator2 district police urban market emergency environment health fire "
                 "housing gridworker community kiosk hotline sensor stranger >/dev/null && "
                 "%s revoke %s revoked >/dev/null && %s expired %s police >/dev/null && "
                 "%s foreign %s police >/dev/null && touch %s",
                 s, d, s, d, s, d, s, d, done);
        cr_assert_eq(run(cmd), 0, "making the fixture PKI failed: %s", cmd);
    }
    flock(lock, LOCK_UN);
    close(lock);
    ready = true;
    return WHISTLE_TEST_PKI_DIR;
}

void harness_cert(const char *name, char *cert, size_t certlen, char *key, size_t keylen)
{
    const char *pki = harness_pki();
    snprintf(cert, certlen, "%s/clients/%s.crt", pki, name);
    snprintf(key, keylen, "%s/clients/%s.key", pki, name);
}

static void write_conf(daemon_h *d)
{
    const char *pki = harness_pki();
    FILE *f = fopen(d->conf, "w");
    cr_assert(f);
    fprintf(f,
            "[server]\nlisten = 127.0.0.1\nport = 0\n"
            "[tls]\nca = %s/ca.crt\ncert = %s/server.crt\nkey = %s/server.key\ncrl = %s/crl.pem\n"
            "[store]\ndir = %s/state\nseed = %s/conf/demo-city.json\n"
            "[log]\nlevel = debug\n%s",
            pki, pki, pki, pki, d->dir, WHISTLE_SOURCE_DIR, d->extra);
    fclose(f);
}

static void spawn(daemon_h *d)
{
    char portfile[320];
    snprintf(portfile, sizeof portfile, "%s/port", d->dir);
    unlink(portfile);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (d->clock[0])
            execl(WHISTLED_BIN, "whistled", "--config", d->conf, "--port-file", portfile, "--test-clock", d->clock,
                  (char *)NULL);
        else
            execl(WHISTLED_BIN, "whistled", "--config", d->conf, "--port-file", portfile, (char *)NULL);
        _exit(127);
    }
    d->pid = pid;
    /* Wait for the port file: written once the listener is up. Bounded. */
    for (int i = 0; i < 3000; i++) {
        FILE *f = fopen(portfile, "r");
        if (f) {
            int port = 0;
            int n = fscanf(f, "%d", &port);
            fclose(f);
            if (n == 1 && port > 0) {
                d->port = port;
                return;
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            d->pid = 0;
            char cmd[400];
            snprintf(cmd, sizeof cmd, "cat %s >&2", d->log);
            run(cmd);
            cr_assert_fail("whistled exited at start-up (status %d); its log is above", st);
        }
        usleep(10000);
    }
    cr_assert_fail("whistled did not start listening within 30 s");
}

void harness_set_clock(daemon_h *d, int64_t ms)
{
    char tmp[400];
    snprintf(tmp, sizeof tmp, "%s.tmp", d->clock);
    FILE *f = fopen(tmp, "w");
    cr_assert(f, "cannot write %s", tmp);
    fprintf(f, "%lld\n", (long long)ms);
    fclose(f);
    cr_assert_eq(rename(tmp, d->clock), 0, "rename %s: %s", tmp, strerror(errno));
}

void harness_start_clock(daemon_h *d, const char *extra_conf, int64_t start_ms)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/whistle-test-XXXXXX");
    cr_assert(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
    snprintf(d->conf, sizeof d->conf, "%s/whistled.conf", d->dir);
    snprintf(d->log, sizeof d->log, "%s/whistled.log", d->dir);
    snprintf(d->clock, sizeof d->clock, "%s/clock", d->dir);
    if (extra_conf)
        snprintf(d->extra, sizeof d->extra, "%s", extra_conf);
    harness_set_clock(d, start_ms);
    write_conf(d);
    spawn(d);
}

void harness_start(daemon_h *d, const char *extra_conf)
{
    memset(d, 0, sizeof *d);
    snprintf(d->dir, sizeof d->dir, "/tmp/whistle-test-XXXXXX");
    cr_assert(mkdtemp(d->dir), "mkdtemp: %s", strerror(errno));
    snprintf(d->conf, sizeof d->conf, "%s/whistled.conf", d->dir);
    snprintf(d->log, sizeof d->log, "%s/whistled.log", d->dir);
    if (extra_conf)
        snprintf(d->extra, sizeof d->extra, "%s", extra_conf);
    write_conf(d);
    spawn(d);
}

static int wait_exit(pid_t pid, int timeout_ms, int *status)
{
    for (int i = 0; i < timeout_ms / 10; i++) {
        if (waitpid(pid, status, WNOHANG) == pid)
            return 0;
        usleep(10000);
    }
    return -1;
}

void harness_stop(daemon_h *d)
{
    if (!d->pid)
        return;
    kill(d->pid, SIGTERM);
    int st = 0;
    if (wait_exit(d->pid, 30000, &st) < 0) {
        kill(d->pid, SIGKILL);
        waitpid(d->pid, &st, 0);
        d->pid = 0;
        cr_assert_fail("whistled did not stop within 30 s of SIGTERM");
    }
    d->pid = 0;
    if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0)) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "tail -n 50 %s >&2", d->log);
        run(cmd);
        cr_assert_fail("whistled did not exit cleanly after SIGTERM (status 0x%x); log tail above", st);
    }
}

void harness_kill(daemon_h *d)
{
    if (!d->pid)
        return;
    kill(d->pid, SIGKILL);
    int st;
    waitpid(d->pid, &st, 0);
    d->pid = 0;
}

void harness_restart(daemon_h *d)
{
    harness_stop(d);
    write_conf(d);
    spawn(d);
}

void harness_cleanup(daemon_h *d)
{
    if (d->pid)
        harness_stop(d);
    if (d->dir[0]) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", d->dir);
        run(cmd);
        d->dir[0] = 0;
    }
}

bool harness_log_contains(daemon_h *d, const char *needle)
{
    FILE *f = fopen(d->log, "r");
    if (!f)
        return false;
    char line[4096];
    bool found = false;
    while (!found && fgets(line, sizeof line, f))
        found = strstr(line, needle) != NULL;
    fclose(f);
    return found;
}

whistle_client *harness_try_connect(daemon_h *d, const char *cert, const char *key, char *err, size_t errlen)
{
    char ca[512];
    snprintf(ca, sizeof ca, "%s/ca.crt", harness_pki());
    whistle_opts o = {0};
    o.host = "127.0.0.1";
    o.port = (uint16_t)d->port;
    o.ca_file = ca;
    o.cert_file = cert;
    o.key_file = key;
    o.client_name = "integration-test";
    o.timeout_ms = 20000;
    whistle_client *c = NULL;
    if (whistle_connect(&o, &c, err, errlen) != 0)
        return NULL;
    return c;
}

whistle_client *harness_connect(daemon_h *d, const char *name)
{
    char cert[512], key[512], err[512];
    harness_cert(name, cert, sizeof cert, key, sizeof key);
    whistle_client *c = harness_try_connect(d, cert, key, err, sizeof err);
    cr_assert(c, "connect as %s failed: %s", name, err);
    return c;
}

Whistle__V1__Response *harness_call_ok(whistle_client *c, Whistle__V1__Request *req)
{
    Whistle__V1__Response *resp = NULL;
    int rc = whistle_call(c, req, &resp);
    cr_assert_eq(rc, 0, "call failed in transport: %s", whistle_last_error(c));
    cr_assert(resp && resp->status, "response without status");
    cr_assert_eq(resp->status->code, 0, "expected OK, got %s: %s", whistle_code_name(resp->status->code),
                 resp->status->message);
    return resp;
}

const char *harness_call_fail(whistle_client *c, Whistle__V1__Request *req, int code)
{
    static char msg[2048];
    Whistle__V1__Response *resp = NULL;
    int rc = whistle_call(c, req, &resp);
    cr_assert_eq(rc, 0, "call failed in transport: %s", whistle_last_error(c));
    cr_assert(resp && resp->status, "response without status");
    cr_assert_eq(resp->status->code, code, "expected %s, got %s: %s", whistle_code_name(code),
                 whistle_code_name(resp->status->code), resp->status->message);
    snprintf(msg, sizeof msg, "%s", resp->status->message ? resp->status->message : "");
    whistle_response_free(resp);
    return msg;
}

/* ------------------------------------------------------------ raw */

int raw_open(raw_conn *r, daemon_h *d, const char *cert, const char *key)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    whistle_framer_init(&r->fr, 64u << 20);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->fd < 0)
        return -1;
    struct sockaddr_in sa = {0};
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)d->port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(r->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    int one = 1;
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = {10, 0};
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    r->ctx = SSL_CTX_new(TLS_client_method());
    char ca[512];
    snprintf(ca, sizeof ca, "%s/ca.crt", harness_pki());
    SSL_CTX_load_verify_locations(r->ctx, ca, NULL);
    SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
    if (cert && (SSL_CTX_use_certificate_file(r->ctx, cert, SSL_FILETYPE_PEM) != 1 ||
                 SSL_CTX_use_PrivateKey_file(r->ctx, key, SSL_FILETYPE_PEM) != 1))
        return -1;
    r->ssl = SSL_new(r->ctx);
    SSL_set_fd(r->ssl, r->fd);
    SSL_set_tlsext_host_name(r->ssl, "localhost");
    return SSL_connect(r->ssl) == 1 ? 0 : -1;
}

int raw_write(raw_conn *r, const void *data, size_t len)
{
    size_t off = 0;
    while (off < len) {
        int n = SSL_write(r->ssl, (const char *)data + off, (int)(len - off));
        if (n <= 0)
            return -1;
        off += (size_t)n;
    }
    return 0;
}

int raw_send_request(raw_conn *r, const Whistle__V1__Request *req)
{
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = (Whistle__V1__Request *)req;
    uint8_t *out;
    size_t len;
    if (whistle_frame_pack(&f, 64u << 20, &out, &len) != 0)
        return -1;
    int rc = raw_write(r, out, len);
    free(out);
    return rc;
}

int raw_read_frame(raw_conn *r, int timeout_ms, Whistle__V1__Frame **f)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        const uint8_t *p;
        size_t len;
        int rc = whistle_framer_next(&r->fr, &p, &len);
        if (rc < 0)
            return -1;
        if (rc == 1) {
            *f = whistle__v1__frame__unpack(NULL, len, p);
            return *f ? 1 : -1;
        }
        if (SSL_pending(r->ssl) == 0) {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
            if (el >= timeout_ms)
                return 0;
            struct pollfd pfd = {r->fd, POLLIN, 0};
            if (poll(&pfd, 1, (int)(timeout_ms - el)) <= 0)
                return 0;
        }
        char buf[16384];
        int n = SSL_read(r->ssl, buf, sizeof buf);
        if (n <= 0) {
            int e = SSL_get_error(r->ssl, n);
            if (e == SSL_ERROR_WANT_READ)
                continue;
            return -1;
        }
        whistle_framer_feed(&r->fr, buf, (size_t)n);
    }
}

bool raw_wait_closed(raw_conn *r, int timeout_ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        Whistle__V1__Frame *f = NULL;
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= timeout_ms)
            return false;
        int rc = raw_read_frame(r, (int)(timeout_ms - el), &f);
        if (rc < 0)
            return true;
        if (rc == 0)
            return false;
        whistle__v1__frame__free_unpacked(f, NULL);
    }
}

void raw_close(raw_conn *r)
{
    if (r->ssl)
        SSL_free(r->ssl);
    if (r->ctx)
        SSL_CTX_free(r->ctx);
    if (r->fd >= 0)
        close(r->fd);
    whistle_framer_free(&r->fr);
    memset(r, 0, sizeof *r);
    r->fd = -1;
}

void raw_open_hello(raw_conn *r, daemon_h *d, const char *name)
{
    char cert[512], key[512];
    harness_cert(name, cert, sizeof cert, key, sizeof key);
    cr_assert_eq(raw_open(r, d, cert, key), 0, "raw TLS connect as %s failed", name);
    Whistle__V1__Hello h = WHISTLE__V1__HELLO__INIT;
    h.protocol_version = WHISTLE_PROTOCOL_VERSION;
    h.client_name = "raw-test";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.id = 1;
    req.call_case = WHISTLE__V1__REQUEST__CALL_HELLO;
    req.hello = &h;
    cr_assert_eq(raw_send_request(r, &req), 0);
    Whistle__V1__Frame *f = NULL;
    cr_assert_eq(raw_read_frame(r, 10000, &f), 1, "no answer to Hello");
    cr_assert_eq(f->kind_case, WHISTLE__V1__FRAME__KIND_RESPONSE);
    cr_assert_eq(f->response->status->code, 0, "Hello refused: %s", f->response->status->message);
    whistle__v1__frame__free_unpacked(f, NULL);
}

/* ------------------------------------------------------------ shortcuts */

char *h_report(whistle_client *c, const char *node, const char *category, const char *text)
{
    Whistle__V1__ReportEvent r = WHISTLE__V1__REPORT_EVENT__INIT;
    r.node = (char *)node;
    r.category = (char *)category;
    r.description = (char *)text;
    r.contact = "13800001234";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_REPORT;
    req.report = &r;
    Whistle__V1__Response *resp = harness_call_ok(c, &req);
    cr_assert_eq(resp->result_case, WHISTLE__V1__RESPONSE__RESULT_EVENT);
    cr_assert_eq(resp->event->state, WHISTLE__V1__EVENT_STATE__EVENT_STATE_REPORTED);
    char *t = strdup(resp->event->ticket);
    whistle_response_free(resp);
    return t;
}

/* Calls whose message is {ticket, note-like text}. */
Whistle__V1__Response *h_simple(whistle_client *c, int call, const char *ticket, const char *text)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = call;
    Whistle__V1__FileEvent fe = WHISTLE__V1__FILE_EVENT__INIT;
    Whistle__V1__RejectEvent rj = WHISTLE__V1__REJECT_EVENT__INIT;
    Whistle__V1__CloseEvent ce = WHISTLE__V1__CLOSE_EVENT__INIT;
    Whistle__V1__ResolveEvent rs = WHISTLE__V1__RESOLVE_EVENT__INIT;
    Whistle__V1__VerifyEvent ve = WHISTLE__V1__VERIFY_EVENT__INIT;
    Whistle__V1__GetEvent ge = WHISTLE__V1__GET_EVENT__INIT;
    switch (call) {
    case WHISTLE__V1__REQUEST__CALL_FILE: fe.ticket = (char *)ticket; fe.note = (char *)text; req.file = &fe; break;
    case WHISTLE__V1__REQUEST__CALL_REJECT: rj.ticket = (char *)ticket; rj.reason = (char *)text; req.reject = &rj; break;
    case WHISTLE__V1__REQUEST__CALL_CLOSE: ce.ticket = (char *)ticket; ce.note = (char *)text; req.close = &ce; break;
    case WHISTLE__V1__REQUEST__CALL_RESOLVE: rs.ticket = (char *)ticket; rs.note = (char *)text; req.resolve = &rs; break;
    case WHISTLE__V1__REQUEST__CALL_VERIFY:
        ve.ticket = (char *)ticket;
        ve.pass = text == NULL || strcmp(text, "fail") != 0;
        ve.note = (char *)(text ? text : "");
        req.verify = &ve;
        break;
    case WHISTLE__V1__REQUEST__CALL_GET_EVENT: ge.ticket = (char *)ticket; req.get_event = &ge; break;
    default: cr_assert_fail("h_simple: call %d not supported", call);
    }
    return harness_call_ok(c, &req);
}

Whistle__V1__Response *h_whistle(whistle_client *c, const char *ticket, const char **depts, size_t n)
{
    Whistle__V1__WhistleEvent w = WHISTLE__V1__WHISTLE_EVENT__INIT;
    w.ticket = (char *)ticket;
    w.departments = (char **)depts;
    w.n_departments = n;
    w.kind = WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_TACKLE;
    w.note = "joint action";
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_WHISTLE;
    req.whistle = &w;
    Whistle__V1__Response *resp = harness_call_ok(c, &req);
    cr_assert_eq(resp->result_case, WHISTLE__V1__RESPONSE__RESULT_WHISTLE);
    cr_assert_eq(resp->whistle->n_orders, n);
    return resp;
}

Whistle__V1__Response *h_order_call(whistle_client *c, int call, uint64_t order, const char *text)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = call;
    Whistle__V1__CheckIn ci = WHISTLE__V1__CHECK_IN__INIT;
    Whistle__V1__Feedback fb = WHISTLE__V1__FEEDBACK__INIT;
    Whistle__V1__ReturnOrder ro = WHISTLE__V1__RETURN_ORDER__INIT;
    switch (call) {
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN: ci.order_id = order; ci.note = (char *)text; req.check_in = &ci; break;
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK: fb.order_id = order; fb.text = (char *)text; req.feedback = &fb; break;
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER: ro.order_id = order; ro.reason = (char *)text; req.return_order = &ro; break;
    default: cr_assert_fail("h_order_call: call %d not supported", call);
    }
    return harness_call_ok(c, &req);
}

Whistle__V1__Event *h_get(whistle_client *c, const char *ticket, Whistle__V1__Response **keep)
{
    Whistle__V1__Response *resp = h_simple(c, WHISTLE__V1__REQUEST__CALL_GET_EVENT, ticket, NULL);
    cr_assert_eq(resp->result_case, WHISTLE__V1__RESPONSE__RESULT_EVENT);
    *keep = resp;
    return resp->event;
}

void h_subscribe(whistle_client *c, long long after_seq)
{
    Whistle__V1__Subscribe s = WHISTLE__V1__SUBSCRIBE__INIT;
    if (after_seq < 0)
        s.from_cursor = 1;
    else
        s.after_seq = (uint64_t)after_seq;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SUBSCRIBE;
    req.subscribe = &s;
    whistle_response_free(harness_call_ok(c, &req));
}

Whistle__V1__Push *h_wait_push(whistle_client *c, const char *action, int timeout_ms)
{
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &t);
        long el = (t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000;
        if (el >= timeout_ms)
            return NULL;
        Whistle__V1__Push *p = NULL;
        int rc = whistle_next_push(c, (int)(timeout_ms - el), &p);
        if (rc <= 0)
            return NULL;
        if (p->action && strcmp(p->action, action) == 0)
            return p;
        whistle_push_free(p);
    }
}
