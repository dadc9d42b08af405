/* harness.c: see harness.h. */
#include "harness.h"

#include <arpa/inet.h>
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
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

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
    /* The marker names what the PKI holds, so that a build tree made
     * before a fixture was added makes the missing part. */
    snprintf(done, sizeof done, "%s/.complete-future-district-gateway-volunteers-bridge", WHISTLE_TEST_PKI_DIR);
    if (access(done, F_OK) != 0) {
        char cmd[2048];
        const char *d = WHISTLE_TEST_PKI_DIR, *s = WHISTLE_SOURCE_DIR "/scripts/dev-pki.sh";
        snprintf(
            cmd, sizeof cmd,
            "%s %s admin operator operator2 district police urban market emergency environment health fire "
            "housing gridworker community kiosk hotline sensor gateway volunteer member bridge stranger >/dev/null && "
            "%s revoke %s revoked >/dev/null && %s expired %s police >/dev/null && "
            "%s future %s police >/dev/null && %s foreign %s police >/dev/null && touch %s",
            s, d, s, d, s, d, s, d, s, d, done);
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
    /* The CLI the tests run speaks the locale's language (docs/i18n.md):
     * the tests read its English, whatever locale the suite runs in
     * (test_cli_i18n sets its own per command). */
    setenv("LC_ALL", "C.UTF-8", 1);
    unsetenv("LANGUAGE");
    char portfile[320];
    snprintf(portfile, sizeof portfile, "%s/port", d->dir);
    unlink(portfile);
    pid_t pid = fork();
    cr_assert(pid >= 0);
    if (pid == 0) {
        /* The daemon starts as `make run` starts it from a shell: with
         * every signal at its default. The tests ignore SIGPIPE for
         * themselves (harness_start); a daemon that inherited that would
         * hide its own need to ignore it. */
        signal(SIGPIPE, SIG_DFL);
        /* A test that dies (an assertion's abort, a ctest timeout) takes
         * its daemon with it, rather than leaving it running for ever. */
        prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (getppid() == 1)
            _exit(127);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (d->power_loss) {
            char state[400], journal[400], preload[2048];
            snprintf(state, sizeof state, "%s/state", d->dir);
            snprintf(journal, sizeof journal, "%s/journal", d->dir);
            /* the ASan runtime, when whistled has one, must come first */
            snprintf(preload, sizeof preload, "%s%s%s", WHISTLE_ASAN_RUNTIME, WHISTLE_ASAN_RUNTIME[0] ? ":" : "",
                     PLSHIM_SO);
            setenv("LD_PRELOAD", preload, 1);
            setenv("WHISTLE_PLSHIM_ROOT", state, 1);
            setenv("WHISTLE_PLSHIM_JOURNAL", journal, 1);
            if (d->flush_delay_ms) {
                char ms[16];
                snprintf(ms, sizeof ms, "%d", d->flush_delay_ms);
                setenv("WHISTLE_PLSHIM_FLUSH_DELAY_MS", ms, 1);
            }
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
    /* Tests write to connections the daemon may have closed: an error to
     * check, not a reason for the test process to die. */
    signal(SIGPIPE, SIG_IGN);
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
    /* WHISTLE_TEST_KEEP=1 keeps the state and log for a post-mortem. */
    if (d->dir[0] && getenv("WHISTLE_TEST_KEEP")) {
        fprintf(stderr, "kept %s\n", d->dir);
        d->dir[0] = 0;
    }
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

bool harness_log_wait(daemon_h *d, const char *needle, int timeout_ms)
{
    for (int i = 0; i <= timeout_ms / 20; i++) {
        if (harness_log_contains(d, needle))
            return true;
        usleep(20000);
    }
    return false;
}

long harness_rss_kb(daemon_h *d)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)d->pid);
    FILE *f = fopen(path, "r");
    cr_assert(f, "cannot read %s", path);
    long kb = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %ld kB", &kb) == 1)
            break;
    fclose(f);
    cr_assert_gt(kb, 0, "no VmRSS in %s", path);
    return kb;
}

void harness_signal(daemon_h *d, int sig)
{
    cr_assert(d->pid > 0);
    kill(d->pid, sig);
}

void harness_power_cut(daemon_h *d, int keep_chance, unsigned seed, char *out, size_t outlen)
{
    cr_assert_eq(d->pid, 0, "cut the power once the daemon is gone (harness_kill)");
    char cmd[1200], line[1024], last[1024] = "";
    snprintf(cmd, sizeof cmd, "%s --root %s/state --journal %s/journal --keep-chance %d --seed %u 2>&1", PLRESTORE_BIN,
             d->dir, d->dir, keep_chance, seed);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    while (fgets(line, sizeof line, p))
        snprintf(last, sizeof last, "%s", line);
    int st = pclose(p);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "plrestore failed: %s", last);
    if (out)
        snprintf(out, outlen, "%s", last);
}

int harness_check_store(daemon_h *d, char *out, size_t outlen)
{
    char cmd[800];
    snprintf(cmd, sizeof cmd, "%s --check --state-dir %s/state 2>&1", WHISTLED_BIN, d->dir);
    FILE *p = popen(cmd, "r");
    cr_assert(p);
    size_t n = 0;
    char buf[1024];
    if (out && outlen)
        out[0] = 0;
    while (fgets(buf, sizeof buf, p)) {
        if (out && n + 1 < outlen) {
            snprintf(out + n, outlen - n, "%s", buf);
            n = strlen(out);
        }
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int harness_tcp_connect(daemon_h *d)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_in sa = { 0 };
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)d->port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        close(fd);
        return -1;
    }
    struct timeval tv = { 10, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    return fd;
}

/* ------------------------------------------------------------ capture */

/* The principals of fuzz_request.c's names[], by index. */
static const char *const fuzz_names[16] = { "admin", "operator", "operator2", "police",    "urban",  "gridworker",
                                            "kiosk", "hotline",  "sensor",    "community", "nobody", "market",
                                            "fire",  "housing",  "health",    "stranger" };

static struct {
    whistle_client *c;
    char who[64];
} clients[64];

/* The principal's name from a certificate path: .../NAME.crt */
static void name_of_cert(const char *cert, char *out, size_t len)
{
    const char *b = cert ? strrchr(cert, '/') : NULL;
    snprintf(out, len, "%s", b ? b + 1 : cert ? cert : "nobody");
    char *dot = strrchr(out, '.');
    if (dot)
        *dot = 0;
}

static uint64_t fnv64(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ULL;
    return h;
}

static void capture_file(const char *sub, uint8_t first, const uint8_t *data, size_t len)
{
    const char *dir = getenv("WHISTLE_FUZZ_CAPTURE");
    if (!dir || !*dir || len > 65000)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, sub);
    mkdir(dir, 0755);
    mkdir(path, 0755);
    uint64_t h = fnv64(data, len) ^ first;
    snprintf(path, sizeof path, "%s/%s/%016llx", dir, sub, (unsigned long long)h);
    FILE *f = fopen(path, "wb");
    if (!f)
        return;
    fputc(first, f);
    fwrite(data, 1, len, f);
    fclose(f);
}

static void capture_frame_bytes(const uint8_t *data, size_t len)
{
    /* the step byte cuts the stream into reads of step+1 bytes: whole */
    capture_file("frame", 255, data, len);
}

static void capture_as(const char *who, const Whistle__V1__Request *req)
{
    if (!getenv("WHISTLE_FUZZ_CAPTURE"))
        return;
    uint8_t first = 10; /* nobody */
    for (uint8_t i = 0; i < 16; i++)
        if (strcmp(fuzz_names[i], who) == 0)
            first = i;
    Whistle__V1__Frame f = WHISTLE__V1__FRAME__INIT;
    f.kind_case = WHISTLE__V1__FRAME__KIND_REQUEST;
    f.request = (Whistle__V1__Request *)req;
    uint8_t *out;
    size_t len;
    if (whistle_frame_pack(&f, 64u << 20, &out, &len) != 0)
        return;
    capture_file("request", first, out + 4, len - 4);
    capture_frame_bytes(out, len);
    free(out);
}

void harness_capture_request(whistle_client *c, const Whistle__V1__Request *req)
{
    const char *who = "nobody";
    for (size_t i = 0; i < sizeof clients / sizeof *clients; i++)
        if (clients[i].c == c)
            who = clients[i].who;
    capture_as(who, req);
}

whistle_client *harness_try_connect(daemon_h *d, const char *cert, const char *key, char *err, size_t errlen)
{
    char ca[512];
    snprintf(ca, sizeof ca, "%s/ca.crt", harness_pki());
    whistle_opts o = { 0 };
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
    /* a closed client's address may come back: its slot is reused */
    size_t slot = sizeof clients / sizeof *clients - 1;
    for (size_t i = 0; i < sizeof clients / sizeof *clients; i++)
        if (clients[i].c == c) {
            slot = i;
            break;
        }
    for (size_t i = 0; slot == sizeof clients / sizeof *clients - 1 && i < slot; i++)
        if (!clients[i].c)
            slot = i;
    clients[slot].c = c;
    name_of_cert(cert, clients[slot].who, sizeof clients[slot].who);
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
    harness_capture_request(c, req);
    Whistle__V1__Response *resp = NULL;
    int rc = whistle_call(c, req, &resp);
    cr_assert_eq(rc, 0, "call failed in transport: %s", whistle_last_error(c));
    cr_assert(resp && resp->status, "response without status");
    cr_assert_eq(resp->status->code, 0, "expected OK, got %s: %s", whistle_code_name(resp->status->code),
                 resp->status->message);
    return resp;
}

Whistle__V1__ServerStatsResult *harness_server_stats(whistle_client *c, Whistle__V1__Response **keep)
{
    Whistle__V1__ServerStats ss = WHISTLE__V1__SERVER_STATS__INIT;
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.call_case = WHISTLE__V1__REQUEST__CALL_SERVER_STATS;
    req.server_stats = &ss;
    Whistle__V1__Response *resp = harness_call_ok(c, &req);
    cr_assert_eq(resp->result_case, WHISTLE__V1__RESPONSE__RESULT_SERVER_STATS);
    *keep = resp;
    return resp->server_stats;
}

const char *harness_call_fail(whistle_client *c, Whistle__V1__Request *req, int code)
{
    harness_capture_request(c, req);
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
    return raw_open_tls(r, d, cert, key, 0, 0, NULL);
}

int raw_open_tls(raw_conn *r, daemon_h *d, const char *cert, const char *key, int min_version, int max_version,
                 const char *ciphers)
{
    memset(r, 0, sizeof *r);
    r->fd = -1;
    whistle_framer_init(&r->fr, 64u << 20);
    r->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (r->fd < 0)
        return -1;
    struct sockaddr_in sa = { 0 };
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)d->port);
    inet_pton(AF_INET, "127.0.0.1", &sa.sin_addr);
    if (connect(r->fd, (struct sockaddr *)&sa, sizeof sa) != 0)
        return -1;
    int one = 1;
    setsockopt(r->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    struct timeval tv = { 10, 0 };
    setsockopt(r->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    r->ctx = SSL_CTX_new(TLS_client_method());
    if (min_version || max_version) {
        /* Old protocols need OpenSSL's security level 0 on our side, so
         * that it is the server that refuses them. */
        SSL_CTX_set_security_level(r->ctx, 0);
        SSL_CTX_set_min_proto_version(r->ctx, min_version);
        SSL_CTX_set_max_proto_version(r->ctx, max_version);
    }
    if (ciphers)
        SSL_CTX_set_cipher_list(r->ctx, ciphers);
    char ca[512];
    snprintf(ca, sizeof ca, "%s/ca.crt", harness_pki());
    SSL_CTX_load_verify_locations(r->ctx, ca, NULL);
    SSL_CTX_set_verify(r->ctx, SSL_VERIFY_PEER, NULL);
    if (cert && (SSL_CTX_use_certificate_file(r->ctx, cert, SSL_FILETYPE_PEM) != 1 ||
                 SSL_CTX_use_PrivateKey_file(r->ctx, key, SSL_FILETYPE_PEM) != 1))
        return -1;
    name_of_cert(cert, r->who, sizeof r->who);
    r->ssl = SSL_new(r->ctx);
    SSL_set_fd(r->ssl, r->fd);
    SSL_set_tlsext_host_name(r->ssl, "localhost");
    return SSL_connect(r->ssl) == 1 ? 0 : -1;
}

int raw_write(raw_conn *r, const void *data, size_t len)
{
    capture_frame_bytes(data, len);
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
    capture_as(r->who, req);
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
            struct pollfd pfd = { r->fd, POLLIN, 0 };
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
    case WHISTLE__V1__REQUEST__CALL_FILE:
        fe.ticket = (char *)ticket;
        fe.note = (char *)text;
        req.file = &fe;
        break;
    case WHISTLE__V1__REQUEST__CALL_REJECT:
        rj.ticket = (char *)ticket;
        rj.reason = (char *)text;
        req.reject = &rj;
        break;
    case WHISTLE__V1__REQUEST__CALL_CLOSE:
        ce.ticket = (char *)ticket;
        ce.note = (char *)text;
        req.close = &ce;
        break;
    case WHISTLE__V1__REQUEST__CALL_RESOLVE:
        rs.ticket = (char *)ticket;
        rs.note = (char *)text;
        req.resolve = &rs;
        break;
    case WHISTLE__V1__REQUEST__CALL_VERIFY:
        ve.ticket = (char *)ticket;
        ve.pass = text == NULL || strcmp(text, "fail") != 0;
        ve.note = (char *)(text ? text : "");
        req.verify = &ve;
        break;
    case WHISTLE__V1__REQUEST__CALL_GET_EVENT:
        ge.ticket = (char *)ticket;
        req.get_event = &ge;
        break;
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
    case WHISTLE__V1__REQUEST__CALL_CHECK_IN:
        ci.order_id = order;
        ci.note = (char *)text;
        req.check_in = &ci;
        break;
    case WHISTLE__V1__REQUEST__CALL_FEEDBACK:
        fb.order_id = order;
        fb.text = (char *)text;
        req.feedback = &fb;
        break;
    case WHISTLE__V1__REQUEST__CALL_RETURN_ORDER:
        ro.order_id = order;
        ro.reason = (char *)text;
        req.return_order = &ro;
        break;
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
