/* crashcheck: crash consistency of whistled, proven by killing it.
 *
 * Runs a real whistled on a fresh store and, cycle after cycle:
 *
 *  1. connects as a grid worker, the street's operator and two
 *     departments (two connections each) and checks, with reads, that
 *     every write acknowledged so far is in the store, exactly: the state
 *     of each case and of each of its orders is the one the last
 *     acknowledged write left (or the next one, for a write whose answer
 *     the crash swallowed);
 *  2. retries each write whose answer was lost, with the same idempotency
 *     key: it must succeed (applied now, or the first result replayed);
 *  3. drives load: many cases at once, each walking report -> file ->
 *     whistle (police + urban) -> two check-ins -> two feedbacks, every
 *     step an idempotent write, all connections pipelined; it records
 *     every acknowledged write (in memory and in acks.log);
 *  4. at a random moment kill -9s the daemon (or, with --term, sends
 *     SIGTERM and requires a clean exit 0 after the in-flight batch was
 *     answered), runs `whistled --check` over the store it left, which
 *     must find no violation, and starts the daemon again.
 *
 * After the last cycle every case is verified once more, the daemon is
 * stopped with SIGTERM and checked again.
 *
 * With --power-loss the daemon runs under plshim.so (tests/powerloss),
 * and after it ends (kill -9 or SIGTERM) plrestore undoes every change to
 * the store that no flush covered, as a power cut would, before the check
 * and the restart: then nothing acknowledged may be lost to a power cut
 * either; and after each restart the last acknowledged write of every
 * case that moved on is sent again with its idempotency key, and must be
 * answered as it was (the same case, the same orders). The last daemon,
 * which the final round reads everything back from, runs without the
 * shim. Exit 0 when nothing was lost and
 * every check was clean; 1 with the first failure on stderr. The last line
 * of output sums it up (docs/reliability.md quotes it). */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "whistle/async.h"
#include "whistle/names.h"

#define CALL(x) WHISTLE__V1__REQUEST__CALL_##x
#define ES(x) WHISTLE__V1__EVENT_STATE__EVENT_STATE_##x
#define OS(x) WHISTLE__V1__ORDER_STATE__ORDER_STATE_##x

enum { R_GRID, R_OP, R_POLICE, R_URBAN, NROLES };
static const char *const role_cn[NROLES] = { "gridworker", "operator", "police", "urban" };
#define PER_ROLE 2
#define NSTEPS 7
#define GRID "110105001001001"
#define CATEGORY "0401"

/* The steps of a case and who makes them. */
static const struct {
    const char *name;
    int role;
} steps[NSTEPS] = {
    { "report", R_GRID },          { "file", R_OP },
    { "whistle", R_OP },           { "check_in police", R_POLICE },
    { "check_in urban", R_URBAN }, { "feedback police", R_POLICE },
    { "feedback urban", R_URBAN },
};

/* The case's state once its first n steps are done. */
static int event_state_after(int n)
{
    if (n <= 0)
        return 0;
    if (n == 1)
        return ES(REPORTED);
    if (n == 2)
        return ES(FILED);
    if (n < NSTEPS)
        return ES(WHISTLED);
    return ES(RESOLVED);
}

/* An order's state once the case's first n steps are done (dept 0 police,
 * 1 urban). */
static int order_state_after(int n, int dept)
{
    int checkin = 3 + dept, feedback = 5 + dept;
    if (n > feedback)
        return OS(DONE);
    if (n > checkin)
        return OS(CHECKED_IN);
    return OS(PENDING);
}

typedef struct kase {
    size_t idx;
    char ticket[40];
    uint64_t orders[2]; /* police, urban */
    int step;           /* steps acknowledged */
    int verified;       /* steps verified after a restart */
    int replayed;       /* steps whose last one was sent again with its key (--power-loss) */
    bool in_flight;
    bool lost; /* the write of step `step` was sent; its answer never came */
} kase;

enum phase { PH_CONNECT, PH_VERIFY, PH_RETRY, PH_REPLAY, PH_LOAD };

typedef struct run {
    /* options */
    const char *whistled, *pki, *seed, *sync;
    const char *preload, *restore; /* --power-loss, --restore */
    int cycles, term_every, fresh_every, parallel, min_ms, max_ms, keep_chance;
    unsigned long rng_seed;
    bool keep, verbose;
    /* the daemon */
    char dir[256], conf[320], log[320], portfile[320], state[320], journal[320];
    pid_t pid;
    bool shimmed;    /* the daemon runs under plshim.so */
    bool last_plain; /* the last one does not (--power-loss) */
    int port;
    /* the client side */
    uv_loop_t loop;
    uv_timer_t kill_timer, guard;
    whistle_conn *conns[NROLES][PER_ROLE];
    int alive, connected;
    enum phase phase;
    size_t pending;
    bool signalled;
    int signal_sent;
    kase **cases;
    size_t ncases, cap;
    char key_prefix[24];
    FILE *acks;
    int cycle;
    uint64_t rng;
    char failure[1024];
    bool lost_ack; /* the failure is an acknowledged write missing */
    /* figures */
    uint64_t acked, verified, final_verified, lost, retried, answered_after_signal, kills, terms, checks, check_records,
        reads, stores, cases_total, cases_complete;
    uint64_t cuts, cut_changes, cut_bytes, cut_entries, cut_pages_kept, replayed;
} run;

/* ------------------------------------------------------------ helpers */

static void failf(run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void failf(run *r, const char *fmt, ...)
{
    if (r->failure[0])
        return; /* the first failure is the one that matters */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->failure, sizeof r->failure, fmt, ap);
    va_end(ap);
    uv_stop(&r->loop);
}

/* A failure that is a lost acknowledged write (what --power-loss with a
 * broken durability must find: test_crash checks it does). */
#define lostf(r, ...)                                                                                                  \
    do {                                                                                                               \
        if (!(r)->failure[0])                                                                                          \
            (r)->lost_ack = true;                                                                                      \
        failf(r, __VA_ARGS__);                                                                                         \
    } while (0)

static uint64_t rnd(run *r)
{
    /* xorshift64*: reproducible from --rng-seed */
    r->rng ^= r->rng >> 12;
    r->rng ^= r->rng << 25;
    r->rng ^= r->rng >> 27;
    return r->rng * 2685821657736338717ULL;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static kase *new_case(run *r)
{
    if (r->ncases == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 256;
        r->cases = realloc(r->cases, r->cap * sizeof *r->cases);
        if (!r->cases)
            abort();
    }
    kase *k = calloc(1, sizeof *k);
    if (!k)
        abort();
    k->idx = r->ncases;
    r->cases[r->ncases++] = k;
    r->cases_total++;
    return k;
}

/* ------------------------------------------------------------ the daemon */

static void spawn(run *r)
{
    unlink(r->portfile);
    r->shimmed = r->preload && !r->last_plain;
    pid_t pid = fork();
    if (pid < 0) {
        perror("fork");
        exit(1);
    }
    if (pid == 0) {
        int fd = open(r->log, O_WRONLY | O_CREAT | O_APPEND, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        if (r->shimmed) {
            setenv("LD_PRELOAD", r->preload, 1);
            setenv("WHISTLE_PLSHIM_ROOT", r->state, 1);
            setenv("WHISTLE_PLSHIM_JOURNAL", r->journal, 1);
        }
        execl(r->whistled, "whistled", "--config", r->conf, "--port-file", r->portfile, (char *)NULL);
        _exit(127);
    }
    r->pid = pid;
    for (int i = 0; i < 6000; i++) {
        FILE *f = fopen(r->portfile, "r");
        if (f) {
            int port = 0;
            int n = fscanf(f, "%d", &port);
            fclose(f);
            if (n == 1 && port > 0) {
                r->port = port;
                return;
            }
        }
        int st;
        if (waitpid(pid, &st, WNOHANG) == pid) {
            fprintf(stderr, "crashcheck: whistled exited at start-up (status 0x%x); see %s\n", st, r->log);
            exit(1);
        }
        usleep(5000);
    }
    fprintf(stderr, "crashcheck: whistled did not listen within 30 s; see %s\n", r->log);
    exit(1);
}

/* Waits for the daemon to end; returns its wait status, or -1 after
 * timeout_ms (then it is killed). */
static int reap(run *r, int timeout_ms)
{
    int st = 0;
    for (int i = 0; i < timeout_ms / 5; i++) {
        if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
            r->pid = 0;
            return st;
        }
        usleep(5000);
    }
    kill(r->pid, SIGKILL);
    waitpid(r->pid, &st, 0);
    r->pid = 0;
    return -1;
}

/* whistled --check over the store; 0 when clean. */
static int run_check(run *r)
{
    char out[400];
    snprintf(out, sizeof out, "%s/check.out", r->dir);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(r->whistled, "whistled", "--check", "--state-dir", r->state, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    r->checks++;
    FILE *f = fopen(out, "r");
    char line[1024], last[1024] = "";
    while (f && fgets(line, sizeof line, f)) {
        if (!(WIFEXITED(st) && WEXITSTATUS(st) == 0))
            fprintf(stderr, "  %s", line);
        snprintf(last, sizeof last, "%s", line);
    }
    if (f)
        fclose(f);
    unsigned long long recs = 0;
    char *p = strstr(last, " records read");
    if (p) {
        *p = 0;
        char *sp = strrchr(last, ' ');
        recs = sp ? strtoull(sp + 1, NULL, 10) : 0;
        *p = ' ';
    }
    r->check_records += recs;
    if (r->verbose)
        printf("  %s", last);
    return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -1;
}

/* --power-loss: the power cut, once the daemon under the shim has
 * ended: plrestore takes away every change to the store that no flush
 * covered. Odd cycles keep each unflushed page with --keep-chance (as if
 * the kernel had written it back on its own), the others lose them all. */
static void power_cut(run *r)
{
    if (!r->shimmed)
        return;
    r->shimmed = false;
    char out[400], keep[16], seed[32];
    snprintf(out, sizeof out, "%s/restore.out", r->dir);
    snprintf(keep, sizeof keep, "%d", r->cycle % 2 ? r->keep_chance : 0);
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)(rnd(r) >> 1));
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        execl(r->restore, "plrestore", "--root", r->state, "--journal", r->journal, "--keep-chance", keep, "--seed",
              seed, (char *)NULL);
        _exit(127);
    }
    int st;
    waitpid(pid, &st, 0);
    FILE *f = fopen(out, "r");
    char line[1024], last[1024] = "";
    while (f && fgets(line, sizeof line, f))
        snprintf(last, sizeof last, "%s", line);
    if (f)
        fclose(f);
    unsigned long undone = 0, files = 0, kept = 0, flushed = 0, gone = 0, removed = 0;
    unsigned long long bytes = 0;
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0 ||
        sscanf(last,
               "plrestore: %lu unflushed changes undone (%llu bytes) in %lu files, %lu pages kept at an unflushed "
               "version, %lu flushed changes kept, %lu changes to files since removed; %lu entries removed",
               &undone, &bytes, &files, &kept, &flushed, &gone, &removed) != 7) {
        r->keep = true;
        failf(r, "cycle %d: plrestore failed (wait status 0x%x); see %s", r->cycle, st, out);
        return;
    }
    r->cuts++;
    r->cut_changes += undone;
    r->cut_bytes += bytes;
    r->cut_entries += removed;
    r->cut_pages_kept += kept;
    if (r->verbose)
        printf("  power cut: %s", last);
}

/* ------------------------------------------------------------ connections */

static void maybe_end_phase(run *r)
{
    if (r->phase == PH_CONNECT && r->connected == NROLES * PER_ROLE)
        uv_stop(&r->loop);
    else if ((r->phase == PH_VERIFY || r->phase == PH_RETRY || r->phase == PH_REPLAY) && r->pending == 0)
        uv_stop(&r->loop);
    else if (r->phase == PH_LOAD && r->alive == 0)
        uv_stop(&r->loop);
}

static void on_connect(whistle_conn *c, int status, void *ud)
{
    run *r = ud;
    if (status < 0) {
        failf(r, "cycle %d: connect failed: %s", r->cycle, whistle_conn_error(c));
        return;
    }
    r->connected++;
    maybe_end_phase(r);
}

static void on_close(whistle_conn *c, int status, void *ud)
{
    (void)status;
    run *r = ud;
    for (int i = 0; i < NROLES; i++)
        for (int j = 0; j < PER_ROLE; j++)
            if (r->conns[i][j] == c)
                r->conns[i][j] = NULL;
    r->alive--;
    if (r->phase != PH_LOAD && !r->failure[0])
        failf(r, "cycle %d: a connection closed while no signal was sent: %s", r->cycle, whistle_conn_error(c));
    maybe_end_phase(r);
}

static void connect_all(run *r)
{
    char ca[512], cert[512], key[512], err[512];
    snprintf(ca, sizeof ca, "%s/ca.crt", r->pki);
    r->phase = PH_CONNECT;
    r->connected = 0;
    for (int i = 0; i < NROLES; i++)
        for (int j = 0; j < PER_ROLE; j++) {
            snprintf(cert, sizeof cert, "%s/clients/%s.crt", r->pki, role_cn[i]);
            snprintf(key, sizeof key, "%s/clients/%s.key", r->pki, role_cn[i]);
            whistle_opts o = { .host = "127.0.0.1",
                               .port = (uint16_t)r->port,
                               .ca_file = ca,
                               .cert_file = cert,
                               .key_file = key,
                               .client_name = "crashcheck",
                               .timeout_ms = 30000 };
            whistle_conn_cbs cbs = { .on_connect = on_connect, .on_close = on_close };
            if (whistle_conn_open(&r->loop, &o, &cbs, r, &r->conns[i][j], err, sizeof err) != 0) {
                fprintf(stderr, "crashcheck: %s\n", err);
                exit(1);
            }
            r->alive++;
        }
    uv_run(&r->loop, UV_RUN_DEFAULT);
}

/* ------------------------------------------------------------ writes */

typedef struct wctx {
    run *r;
    kase *k;
    int step;
    bool retry;
} wctx;

static void send_step(run *r, kase *k, bool retry);

static void start_more(run *r)
{
    size_t active = 0;
    for (size_t i = 0; i < r->ncases; i++)
        active += r->cases[i]->step < NSTEPS;
    while (active < (size_t)r->parallel) {
        send_step(r, new_case(r), false);
        active++;
    }
}

static void on_write_answer(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    wctx *w = ud;
    run *r = w->r;
    kase *k = w->k;
    k->in_flight = false;
    r->pending--;
    if (status < 0) {
        /* Sent, never answered: it may or may not have been applied. */
        if (!w->retry || r->phase == PH_LOAD) {
            k->lost = true;
            r->lost++;
        } else {
            failf(r, "cycle %d: retry of %s for case %zu: the connection failed", r->cycle, steps[w->step].name,
                  k->idx);
        }
        free(w);
        maybe_end_phase(r);
        return;
    }
    if (r->signalled && r->signal_sent == SIGTERM)
        r->answered_after_signal++;
    int code = whistle_response_code(resp);
    if (code != 0) {
        failf(r, "cycle %d: %s%s of case %zu (%s) answered %s: %s", r->cycle, w->retry ? "retried " : "",
              steps[w->step].name, k->idx, k->ticket[0] ? k->ticket : "no ticket yet", whistle_code_name(code),
              whistle_response_message(resp));
        whistle_response_free(resp);
        free(w);
        return;
    }
    /* Acknowledged: from here on it must survive anything. */
    if (w->step == 0) {
        if (resp->result_case != WHISTLE__V1__RESPONSE__RESULT_EVENT || !resp->event->ticket) {
            failf(r, "report answered without a case");
            goto out;
        }
        snprintf(k->ticket, sizeof k->ticket, "%s", resp->event->ticket);
    } else if (w->step == 2) {
        if (resp->result_case != WHISTLE__V1__RESPONSE__RESULT_WHISTLE || resp->whistle->n_orders != 2) {
            failf(r, "whistle of %s answered without its two orders", k->ticket);
            goto out;
        }
        for (size_t i = 0; i < 2; i++)
            k->orders[strcmp(resp->whistle->orders[i]->department, "police") == 0 ? 0 : 1] =
                resp->whistle->orders[i]->id;
    }
    k->step = w->step + 1;
    k->lost = false;
    r->cases_complete += k->step == NSTEPS;
    r->acked++;
    r->retried += w->retry;
    fprintf(r->acks, "%d %s %s %s-%zu-%d%s\n", r->cycle, k->ticket, steps[w->step].name, r->key_prefix, k->idx, w->step,
            w->retry ? " retry" : "");
    if (r->phase == PH_LOAD && !r->signalled) {
        if (k->step < NSTEPS)
            send_step(r, k, false);
        else
            start_more(r);
    }
out:
    whistle_response_free(resp);
    free(w);
    maybe_end_phase(r);
}

/* Sends step k->step of the case on c, with its idempotency key; the
 * result of whistle_conn_send. */
static int send_request(run *r, kase *k, whistle_conn *c, whistle_response_cb cb, void *ud)
{
    int s = k->step;
    char key[64], note[64];
    snprintf(key, sizeof key, "%s-%zu-%d", r->key_prefix, k->idx, s);
    snprintf(note, sizeof note, "crashcheck case %zu step %d", k->idx, s);
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    req.idempotency_key = key;
    Whistle__V1__ReportEvent rep = WHISTLE__V1__REPORT_EVENT__INIT;
    Whistle__V1__FileEvent fe = WHISTLE__V1__FILE_EVENT__INIT;
    Whistle__V1__WhistleEvent we = WHISTLE__V1__WHISTLE_EVENT__INIT;
    Whistle__V1__CheckIn ci = WHISTLE__V1__CHECK_IN__INIT;
    Whistle__V1__Feedback fb = WHISTLE__V1__FEEDBACK__INIT;
    char *depts[] = { "police", "urban" };
    switch (s) {
    case 0:
        rep.node = GRID;
        rep.category = CATEGORY;
        rep.description = note;
        req.call_case = CALL(REPORT);
        req.report = &rep;
        break;
    case 1:
        fe.ticket = k->ticket;
        fe.note = note;
        req.call_case = CALL(FILE);
        req.file = &fe;
        break;
    case 2:
        we.ticket = k->ticket;
        we.departments = depts;
        we.n_departments = 2;
        we.lead = "urban";
        we.kind = WHISTLE__V1__WHISTLE_KIND__WHISTLE_KIND_TACKLE;
        we.note = note;
        req.call_case = CALL(WHISTLE);
        req.whistle = &we;
        break;
    case 3:
    case 4:
        ci.order_id = k->orders[s - 3];
        ci.note = note;
        req.call_case = CALL(CHECK_IN);
        req.check_in = &ci;
        break;
    default:
        fb.order_id = k->orders[s - 5];
        fb.text = note;
        req.call_case = CALL(FEEDBACK);
        req.feedback = &fb;
        break;
    }
    return whistle_conn_send(c, &req, cb, ud);
}

static void send_step(run *r, kase *k, bool retry)
{
    int s = k->step;
    whistle_conn *c = r->conns[steps[s].role][k->idx % PER_ROLE];
    if (!c)
        return; /* closed under us: the crash will be noticed anyway */
    wctx *w = malloc(sizeof *w);
    if (!w)
        abort();
    *w = (wctx){ r, k, s, retry };
    if (send_request(r, k, c, on_write_answer, w) != 0) {
        free(w);
        return;
    }
    k->in_flight = true;
    r->pending++;
}

/* ------------------------------------------------------------ reads */

typedef struct rctx {
    run *r;
    kase *k;
    bool orders;
    bool final;
} rctx;

static bool state_ok(int got, int n, bool lost, int (*f)(int, int), int arg)
{
    return got == f(n, arg) || (lost && got == f(n + 1, arg));
}
static int ev_after(int n, int unused)
{
    (void)unused;
    return event_state_after(n);
}

static void on_read_answer(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    rctx *x = ud;
    run *r = x->r;
    kase *k = x->k;
    r->pending--;
    r->reads++;
    if (status < 0) {
        failf(r, "cycle %d: a verifying read of %s failed: connection closed", r->cycle, k->ticket);
        goto out;
    }
    int code = whistle_response_code(resp);
    if (code != 0) {
        lostf(r, "cycle %d: case %s, acknowledged through \"%s\", reads %s: %s (acknowledged write lost)", r->cycle,
              k->ticket, steps[k->step - 1].name, whistle_code_name(code), whistle_response_message(resp));
        goto out;
    }
    if (!x->orders) {
        int got = resp->event->state;
        if (!state_ok(got, k->step, k->lost, ev_after, 0))
            lostf(r, "cycle %d: case %s is %s, but \"%s\" was acknowledged (expected %s)%s", r->cycle, k->ticket,
                  whistle_state_name(got), steps[k->step - 1].name, whistle_state_name(event_state_after(k->step)),
                  k->lost ? " or the next step's state" : "");
    } else {
        if (resp->orders->n_orders != 2)
            lostf(r, "cycle %d: case %s has %zu orders, whistled to 2", r->cycle, k->ticket, resp->orders->n_orders);
        for (size_t i = 0; i < resp->orders->n_orders; i++) {
            Whistle__V1__Order *o = resp->orders->orders[i];
            int d = strcmp(o->department, "police") == 0 ? 0 : 1;
            if (o->id != k->orders[d])
                failf(r, "cycle %d: case %s: order %llu of %s is not the acknowledged %llu", r->cycle, k->ticket,
                      (unsigned long long)o->id, o->department, (unsigned long long)k->orders[d]);
            else if (!state_ok(o->state, k->step, k->lost, order_state_after, d))
                lostf(r, "cycle %d: case %s: order %llu (%s) is %s, expected %s", r->cycle, k->ticket,
                      (unsigned long long)o->id, o->department, whistle_order_state_name(o->state),
                      whistle_order_state_name(order_state_after(k->step, d)));
        }
    }
out:
    whistle_response_free(resp);
    free(x);
    maybe_end_phase(r);
}

static void send_read(run *r, kase *k, bool orders, bool final)
{
    whistle_conn *c = r->conns[R_OP][k->idx % PER_ROLE];
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__GetEvent ge = WHISTLE__V1__GET_EVENT__INIT;
    Whistle__V1__ListOrders lo = WHISTLE__V1__LIST_ORDERS__INIT;
    if (orders) {
        lo.ticket = k->ticket;
        req.call_case = CALL(LIST_ORDERS);
        req.list_orders = &lo;
    } else {
        ge.ticket = k->ticket;
        req.call_case = CALL(GET_EVENT);
        req.get_event = &ge;
    }
    rctx *x = malloc(sizeof *x);
    if (!x)
        abort();
    *x = (rctx){ r, k, orders, final };
    if (!c || whistle_conn_send(c, &req, on_read_answer, x) != 0) {
        free(x);
        failf(r, "cycle %d: cannot send a verifying read", r->cycle);
        return;
    }
    r->pending++;
}

/* Checks every case with acknowledged writes not yet verified (all of
 * them when final). */
static void verify(run *r, bool final)
{
    r->phase = PH_VERIFY;
    r->pending = 0;
    for (size_t i = 0; i < r->ncases && !r->failure[0]; i++) {
        kase *k = r->cases[i];
        if (k->step == 0 || (!final && k->verified == k->step && !k->lost))
            continue;
        send_read(r, k, false, final);
        /* The orders are known once the whistle was acknowledged. */
        if (k->step >= 3)
            send_read(r, k, true, final);
        if (final)
            r->final_verified += (uint64_t)k->step;
        else
            r->verified += (uint64_t)(k->step - k->verified);
        k->verified = k->step;
    }
    if (r->pending)
        uv_run(&r->loop, UV_RUN_DEFAULT);
}

/* --power-loss: the last acknowledged write of each case that moved on
 * since, sent again with its idempotency key, must answer as the first
 * time did (replayed: the key's record survived the cut with the write),
 * the same case and orders; the next verify sees that it changed nothing. */
typedef struct pctx {
    run *r;
    kase *k;
    int step;
} pctx;

static void on_replay_answer(whistle_conn *c, int status, Whistle__V1__Response *resp, void *ud)
{
    (void)c;
    pctx *x = ud;
    run *r = x->r;
    kase *k = x->k;
    r->pending--;
    if (status < 0) {
        failf(r, "cycle %d: the replay of %s of %s failed: connection closed", r->cycle, steps[x->step].name,
              k->ticket);
        goto out;
    }
    int code = whistle_response_code(resp);
    if (code != 0)
        lostf(r, "cycle %d: %s of %s, acknowledged, sent again with its key answers %s: %s", r->cycle,
              steps[x->step].name, k->ticket, whistle_code_name(code), whistle_response_message(resp));
    else if (x->step == 0 && (resp->result_case != WHISTLE__V1__RESPONSE__RESULT_EVENT || !resp->event->ticket ||
                              strcmp(resp->event->ticket, k->ticket) != 0))
        lostf(r, "cycle %d: the report acknowledged as %s, sent again with its key, answers another case (%s)",
              r->cycle, k->ticket,
              resp->result_case == WHISTLE__V1__RESPONSE__RESULT_EVENT && resp->event->ticket ? resp->event->ticket
                                                                                              : "none");
    else if (x->step == 2) {
        bool same = resp->result_case == WHISTLE__V1__RESPONSE__RESULT_WHISTLE && resp->whistle->n_orders == 2;
        for (size_t i = 0; same && i < 2; i++)
            same = resp->whistle->orders[i]->id ==
                   k->orders[strcmp(resp->whistle->orders[i]->department, "police") == 0 ? 0 : 1];
        if (!same)
            lostf(r, "cycle %d: the whistle of %s, sent again with its key, answers other orders than acknowledged",
                  r->cycle, k->ticket);
    }
    if (!r->failure[0])
        r->replayed++;
out:
    whistle_response_free(resp);
    free(x);
    maybe_end_phase(r);
}

static void replay_acked(run *r)
{
    r->phase = PH_REPLAY;
    r->pending = 0;
    for (size_t i = 0; i < r->ncases && !r->failure[0]; i++) {
        kase *k = r->cases[i];
        if (k->step == 0 || k->replayed == k->step || k->lost)
            continue;
        k->replayed = k->step;
        int s = k->step - 1;
        /* send_step sends step k->step: the same request, built for s */
        k->step = s;
        whistle_conn *c = r->conns[steps[s].role][k->idx % PER_ROLE];
        pctx *x = malloc(sizeof *x);
        if (!x)
            abort();
        *x = (pctx){ r, k, s };
        if (!c || send_request(r, k, c, on_replay_answer, x) != 0) {
            free(x);
            failf(r, "cycle %d: cannot send a replay", r->cycle);
        } else {
            r->pending++;
        }
        k->step = s + 1;
    }
    if (r->pending)
        uv_run(&r->loop, UV_RUN_DEFAULT);
}

static void retry_lost(run *r)
{
    r->phase = PH_RETRY;
    r->pending = 0;
    for (size_t i = 0; i < r->ncases && !r->failure[0]; i++)
        if (r->cases[i]->lost)
            send_step(r, r->cases[i], true);
    if (r->pending)
        uv_run(&r->loop, UV_RUN_DEFAULT);
}

/* ------------------------------------------------------------ load */

static void on_kill_timer(uv_timer_t *t)
{
    run *r = t->data;
    r->signalled = true;
    kill(r->pid, r->signal_sent);
}

static void on_guard(uv_timer_t *t)
{
    run *r = t->data;
    /* A hang is a bug until shown otherwise: keep the daemon's threads'
     * stacks (when gdb is there) before it is killed. */
    char cmd[1024], stacks[400];
    snprintf(stacks, sizeof stacks, "%s/hang-stacks.txt", r->dir);
    snprintf(cmd, sizeof cmd, "command -v gdb >/dev/null && gdb -batch -p %d -ex 'thread apply all bt' >'%s' 2>&1",
             (int)r->pid, stacks);
    bool dumped = system(cmd) == 0;
    r->keep = true;
    failf(r, "cycle %d: phase %d did not finish within 60 s (%zu requests pending, %d connections open)%s%s", r->cycle,
          (int)r->phase, r->pending, r->alive, dumped ? "; the daemon's stacks are in " : "", dumped ? stacks : "");
}

static void load(run *r, int sig)
{
    r->phase = PH_LOAD;
    r->signalled = false;
    r->signal_sent = sig;
    for (size_t i = 0; i < r->ncases; i++) {
        kase *k = r->cases[i];
        if (k->step < NSTEPS && !k->in_flight)
            send_step(r, k, false);
    }
    start_more(r);
    uint64_t ms = (uint64_t)r->min_ms + rnd(r) % (uint64_t)(r->max_ms - r->min_ms + 1);
    /* The loop's clock stood still while the daemon restarted. */
    uv_update_time(&r->loop);
    uv_timer_start(&r->kill_timer, on_kill_timer, ms, 0);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_timer_stop(&r->kill_timer);
    r->signalled = false;
}

/* Everything acknowledged, all of it, read back once more; then SIGTERM
 * (exit 0 required) and a last check of the store. */
static void final_round(run *r)
{
    uv_update_time(&r->loop);
    uv_timer_start(&r->guard, on_guard, 60000, 0);
    connect_all(r);
    if (!r->failure[0])
        verify(r, false);
    if (!r->failure[0] && r->preload)
        replay_acked(r);
    if (!r->failure[0])
        retry_lost(r);
    if (!r->failure[0])
        verify(r, true);
    uv_timer_stop(&r->guard);
    for (int i = 0; i < NROLES; i++)
        for (int j = 0; j < PER_ROLE; j++)
            if (r->conns[i][j])
                whistle_conn_close(r->conns[i][j]);
    r->phase = PH_LOAD; /* closing is expected now */
    uv_run(&r->loop, UV_RUN_DEFAULT);
    if (r->failure[0])
        return;
    kill(r->pid, SIGTERM);
    int st = reap(r, 30000);
    if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        failf(r, "final SIGTERM: whistled did not exit 0 (wait status %d); see %s", st, r->log);
    else if (power_cut(r), r->failure[0])
        return;
    else if (run_check(r) != 0)
        failf(r, "final whistled --check found violations (above)");
}

/* Starts over on an empty store (--fresh-every): the store, and with it
 * the time of each check, stays bounded however many cycles run. */
static void fresh_store(run *r)
{
    char cmd[400];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->state);
    if (system(cmd) != 0) {
        failf(r, "cannot remove %s", r->state);
        return;
    }
    for (size_t i = 0; i < r->ncases; i++)
        free(r->cases[i]);
    r->ncases = 0;
    r->stores++;
    snprintf(r->key_prefix, sizeof r->key_prefix, "cc%lx-%d", r->rng_seed, r->cycle);
    fprintf(r->acks, "# fresh store at cycle %d\n", r->cycle);
    /* the shim needs its root there (as a package makes /var/lib/whistle) */
    if (r->preload && mkdir(r->state, 0700) != 0)
        failf(r, "cannot make %s: %s", r->state, strerror(errno));
}

/* ------------------------------------------------------------ main */

static void usage(FILE *f)
{
    fprintf(f, "usage: crashcheck --whistled BIN --pki DIR --seed FILE [options]\n"
               "\n"
               "Kills whistled at random moments under load and checks that every\n"
               "acknowledged write survived and whistled --check stays clean.\n"
               "\n"
               "  --cycles N       kill/restart cycles (default 50)\n"
               "  --term-every N   every Nth cycle stops with SIGTERM instead of kill -9,\n"
               "                   which must exit 0 (default 0: never; 1: always)\n"
               "  --fresh-every N  every N cycles: verify everything, stop, check, and start\n"
               "                   over on an empty store (default 0: one store throughout)\n"
               "  --parallel N     cases in flight at once (default 48)\n"
               "  --min-ms N, --max-ms N  the kill comes this long after the load starts\n"
               "                   (default 30 to 400)\n"
               "  --sync MODE      store.sync of the daemon (default full)\n"
               "  --rng-seed N     reproduce a run (default: from the clock)\n"
               "  --power-loss PRELOAD  run the daemon with LD_PRELOAD=PRELOAD (plshim.so,\n"
               "                   after the ASan runtime for an ASan build) and cut the power\n"
               "                   after each kill and stop: --restore undoes every change\n"
               "                   to the store no flush covered (the last daemon runs plain)\n"
               "  --restore BIN    plrestore, for --power-loss\n"
               "  --keep-chance N  with --power-loss: on odd cycles each unflushed page\n"
               "                   survives the cut with this chance in percent (default 0)\n"
               "  --keep           keep the work directory (store, logs, acks.log)\n"
               "  --verbose        a line per cycle\n");
}

int main(int argc, char **argv)
{
    signal(SIGPIPE, SIG_IGN);
    run *r = calloc(1, sizeof *r);
    r->cycles = 50;
    r->parallel = 48;
    r->min_ms = 30;
    r->max_ms = 400;
    r->sync = "full";
    r->rng_seed = (unsigned long)time(NULL) ^ (unsigned long)getpid() << 16;
    static const struct option opts[] = {
        { "whistled", required_argument, 0, 'w' },
        { "pki", required_argument, 0, 'p' },
        { "seed", required_argument, 0, 's' },
        { "cycles", required_argument, 0, 'c' },
        { "term-every", required_argument, 0, 't' },
        { "parallel", required_argument, 0, 'n' },
        { "fresh-every", required_argument, 0, 'f' },
        { "min-ms", required_argument, 0, 'a' },
        { "max-ms", required_argument, 0, 'b' },
        { "sync", required_argument, 0, 'y' },
        { "rng-seed", required_argument, 0, 'r' },
        { "power-loss", required_argument, 0, 'P' },
        { "restore", required_argument, 0, 'R' },
        { "keep-chance", required_argument, 0, 'K' },
        { "keep", no_argument, 0, 'k' },
        { "verbose", no_argument, 0, 'v' },
        { "help", no_argument, 0, 'h' },
        { 0, 0, 0, 0 },
    };
    int ch;
    while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        switch (ch) {
        case 'w': r->whistled = optarg; break;
        case 'p': r->pki = optarg; break;
        case 's': r->seed = optarg; break;
        case 'c': r->cycles = atoi(optarg); break;
        case 't': r->term_every = atoi(optarg); break;
        case 'f': r->fresh_every = atoi(optarg); break;
        case 'n': r->parallel = atoi(optarg); break;
        case 'a': r->min_ms = atoi(optarg); break;
        case 'b': r->max_ms = atoi(optarg); break;
        case 'y': r->sync = optarg; break;
        case 'r': r->rng_seed = strtoul(optarg, NULL, 10); break;
        case 'P': r->preload = optarg; break;
        case 'R': r->restore = optarg; break;
        case 'K': r->keep_chance = atoi(optarg); break;
        case 'k': r->keep = true; break;
        case 'v': r->verbose = true; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (!r->whistled || !r->pki || !r->seed || r->cycles < 1 || r->parallel < 1 || r->min_ms < 0 ||
        r->max_ms < r->min_ms || !r->preload != !r->restore || r->keep_chance < 0 || r->keep_chance > 100) {
        usage(stderr);
        return 2;
    }
    r->rng = r->rng_seed ? r->rng_seed : 1;
    r->stores = 1;
    snprintf(r->key_prefix, sizeof r->key_prefix, "cc%lx", r->rng_seed);

    snprintf(r->dir, sizeof r->dir, "/tmp/whistle-crash-XXXXXX");
    if (!mkdtemp(r->dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(r->conf, sizeof r->conf, "%s/whistled.conf", r->dir);
    snprintf(r->log, sizeof r->log, "%s/whistled.log", r->dir);
    snprintf(r->portfile, sizeof r->portfile, "%s/port", r->dir);
    snprintf(r->state, sizeof r->state, "%s/state", r->dir);
    snprintf(r->journal, sizeof r->journal, "%s/journal", r->dir);
    if (r->preload && mkdir(r->state, 0700) != 0) {
        perror(r->state);
        return 1;
    }
    char acks[400];
    snprintf(acks, sizeof acks, "%s/acks.log", r->dir);
    r->acks = fopen(acks, "w");
    FILE *f = fopen(r->conf, "w");
    if (!f || !r->acks) {
        perror(r->dir);
        return 1;
    }
    fprintf(f,
            "[server]\nlisten = 127.0.0.1\nport = 0\n"
            "[tls]\nca = %s/ca.crt\ncert = %s/server.crt\nkey = %s/server.key\n"
            "[store]\ndir = %s\nseed = %s\nsync = %s\n[log]\nlevel = info\n",
            r->pki, r->pki, r->pki, r->state, r->seed, r->sync);
    fclose(f);
    printf("crashcheck: %d cycles in %s (rng seed %lu)\n", r->cycles, r->dir, r->rng_seed);
    fflush(stdout);

    uv_loop_init(&r->loop);
    uv_timer_init(&r->loop, &r->kill_timer);
    uv_timer_init(&r->loop, &r->guard);
    r->kill_timer.data = r->guard.data = r;
    uv_unref((uv_handle_t *)&r->kill_timer);
    uv_unref((uv_handle_t *)&r->guard);

    int64_t t0 = now_ms();
    spawn(r);
    for (r->cycle = 1; r->cycle <= r->cycles && !r->failure[0]; r->cycle++) {
        uv_update_time(&r->loop);
        uv_timer_start(&r->guard, on_guard, 60000, 0);
        connect_all(r);
        if (!r->failure[0])
            verify(r, false);
        if (!r->failure[0] && r->preload)
            replay_acked(r);
        if (!r->failure[0])
            retry_lost(r);
        bool term = r->term_every > 0 && r->cycle % r->term_every == 0;
        if (!r->failure[0])
            load(r, term ? SIGTERM : SIGKILL);
        uv_timer_stop(&r->guard);
        if (r->failure[0]) {
            kill(r->pid, SIGKILL);
            reap(r, 10000);
            break;
        }
        int st = reap(r, 30000);
        if (term) {
            r->terms++;
            if (st < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
                failf(r, "cycle %d: whistled did not exit 0 after SIGTERM (wait status %d); see %s", r->cycle, st,
                      r->log);
                break;
            }
        } else {
            r->kills++;
        }
        fflush(r->acks);
        power_cut(r);
        if (r->failure[0])
            break;
        if (run_check(r) != 0) {
            failf(r, "cycle %d: whistled --check found violations after the %s%s (above); store kept in %s", r->cycle,
                  term ? "SIGTERM" : "kill -9", r->preload ? " and the power cut" : "", r->state);
            r->keep = true;
            break;
        }
        if (r->verbose)
            printf("cycle %d: %s, %llu acknowledged so far, %llu lost answers\n", r->cycle,
                   term ? "SIGTERM" : "kill -9", (unsigned long long)r->acked, (unsigned long long)r->lost);
        r->last_plain = r->cycle == r->cycles;
        spawn(r);
        if (r->fresh_every > 0 && r->cycle % r->fresh_every == 0 && r->cycle < r->cycles) {
            final_round(r);
            if (!r->failure[0])
                fresh_store(r);
            if (r->failure[0])
                break;
            spawn(r);
        }
    }
    if (!r->failure[0]) {
        final_round(r);
        /* Under load there is always a batch in flight when SIGTERM comes;
         * draining must commit and answer it, not drop it. */
        if (!r->failure[0] && r->terms > 0 && r->answered_after_signal == 0)
            failf(r, "no answer came after any of the %llu SIGTERMs: the batch in flight was not answered",
                  (unsigned long long)r->terms);
    } else if (r->pid) {
        kill(r->pid, SIGKILL);
        reap(r, 10000);
    }
    fclose(r->acks);
    uv_close((uv_handle_t *)&r->kill_timer, NULL);
    uv_close((uv_handle_t *)&r->guard, NULL);
    uv_run(&r->loop, UV_RUN_DEFAULT);
    uv_loop_close(&r->loop);

    int64_t secs = (now_ms() - t0 + 500) / 1000;
    if (r->failure[0]) {
        fprintf(stderr, "crashcheck: FAILED (rng seed %lu): %s\ncrashcheck: work directory kept: %s\n", r->rng_seed,
                r->failure, r->dir);
        if (r->lost_ack)
            fprintf(stderr, "crashcheck: LOST: a write was acknowledged and is not in the store%s\n",
                    r->preload ? " after a power cut" : "");
        return 1;
    }
    printf("crashcheck: OK: %llu kill -9 + %llu SIGTERM cycles on %llu store%s in %llds; %llu writes acknowledged, "
           "%llu verified after a restart and %llu again at the end (%llu reads); %llu answers lost to a "
           "crash, retried with their idempotency keys; %llu cases (%llu through the whole loop); "
           "%llu answers sent after SIGTERM; whistled --check clean %llu times (%llu records read)\n",
           (unsigned long long)r->kills, (unsigned long long)r->terms, (unsigned long long)r->stores,
           r->stores == 1 ? "" : "s", (long long)secs, (unsigned long long)r->acked, (unsigned long long)r->verified,
           (unsigned long long)r->final_verified, (unsigned long long)r->reads, (unsigned long long)r->lost,
           (unsigned long long)r->cases_total, (unsigned long long)r->cases_complete,
           (unsigned long long)r->answered_after_signal, (unsigned long long)r->checks,
           (unsigned long long)r->check_records);
    if (r->preload)
        printf("crashcheck: power cuts: %llu, undoing %llu unflushed changes (%llu bytes) and removing %llu "
               "directory entries never flushed; %llu unflushed pages kept; %llu acknowledged writes sent again "
               "with their keys after a cut, each answered as the first time\n",
               (unsigned long long)r->cuts, (unsigned long long)r->cut_changes, (unsigned long long)r->cut_bytes,
               (unsigned long long)r->cut_entries, (unsigned long long)r->cut_pages_kept,
               (unsigned long long)r->replayed);
    if (!r->keep) {
        char cmd[400];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", r->dir);
        if (system(cmd) != 0)
            fprintf(stderr, "crashcheck: could not remove %s\n", r->dir);
    }
    for (size_t i = 0; i < r->ncases; i++)
        free(r->cases[i]);
    free(r->cases);
    free(r);
    return 0;
}
