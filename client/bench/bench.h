/* bench.h: whistle-bench's parts.
 *
 * A run is a list of phases, one per operation (report; report + file +
 * whistle; check-in + feedback; reads; and for Redis a plain XADD). A
 * phase opens C load connections, keeps P operations in flight on each for
 * the phase's duration, waits for the last answers, and reads the server's
 * counters before and after. S subscriber connections (department desks)
 * live for the whole run on a second thread with its own libuv loop, so
 * that receiving pushes does not wait behind the load, and record when each
 * dispatch push arrives.
 *
 * The driver (load.c) knows nothing of the wire: a backend (whistle.c on
 * libwhistle's async API, redis.c on RESP over TLS) opens connections,
 * runs one operation's chain of calls and reads the server's counters.
 * Both backends are measured by the same driver, with the same clocks. */
#ifndef WHISTLE_BENCH_H
#define WHISTLE_BENCH_H

#include <jansson.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <uv.h>

enum op_kind { OP_REPORT, OP_WHISTLE, OP_CHECKIN, OP_READ, OP_XADD, OP_PHOTO, OP_KINDS };
extern const char *const op_names[OP_KINDS];
/* calls (round trips) per operation, for the table */
extern const int op_calls[OP_KINDS];

/* ---------------------------------------------------------------- latency */

/* Samples in nanoseconds; percentiles sort them once. */
typedef struct lat {
    uint64_t *v;
    size_t n, cap;
    bool sorted;
} lat;
void lat_add(lat *l, uint64_t ns);
void lat_merge(lat *into, const lat *from);
/* p in [0, 1]; 0 when empty. */
uint64_t lat_pct(lat *l, double p);
void lat_free(lat *l);
/* {"p50": us, "p99": us, "p999": us, "max": us, "n": n} */
json_t *lat_json(lat *l);

static inline uint64_t now_ns(void) { return uv_hrtime(); }

/* ---------------------------------------------------------------- server counters */

/* One reading of the server's counters (ServerStats for whistled, INFO for
 * Redis, /proc/PID for either). Fields the source cannot give are -1. */
typedef struct srv_snap {
    bool ok;
    uint64_t at_ns; /* client clock at the reading */
    int64_t cpu_us; /* user + system */
    int64_t rss, rss_anon;
    int64_t commits, fsyncs, writes, intents, batches, commit_us, max_batch;
    int64_t connections, subscriptions;
    int64_t run_delay_us; /* time its threads waited for a CPU (schedstat) */
    /* /proc/PID/io: bytes handed to write() and friends (wchar), bytes it
     * caused to be sent to the disk (write_bytes); Redis: its append-only
     * file's size (INFO aof_current_size) */
    int64_t wchar, write_bytes, aof_bytes;
    /* bytes the block device holding the server's files has written
     * (/sys/dev/block/M:m/stat), from every process on the machine:
     * write_bytes counts whole page-cache folios dirtied, which kernels
     * with large folios make many times what reaches the device */
    int64_t dev_bytes;
    char sync[16];
} srv_snap;

/* /proc/PID/io (wchar, write_bytes) and the device's written bytes
 * (dev_bytes); -1 each when unreadable. */
void proc_io(int pid, srv_snap *s);
/* /proc/PID/stat (utime + stime) and /proc/PID/status (VmRSS, RssAnon). */
int proc_snap(int pid, srv_snap *s);
/* Microseconds the process's threads have spent runnable but waiting for
 * a CPU (/proc/PID/task/x/schedstat), -1 if unknown: on a shared machine
 * this says how much of a latency is the scheduler's. */
int64_t proc_run_delay(int pid);

/* ---------------------------------------------------------------- options */

typedef struct bopts {
    const char *target; /* "whistle" or "redis" */
    const char *host;
    int port;
    const char *pki; /* dev PKI: ca.crt, clients/NAME.{crt,key} */
    const char *ca;  /* overrides pki's ca.crt */
    int conns, pipeline, subscribers, targets, whistle_depts;
    double duration, warmup;
    int ops[OP_KINDS]; /* phase order: op kinds, n_ops of them */
    int n_ops;
    bool json;
    const char *label;
    const char *out; /* also write the JSON here */
    int daemon_pid;
    const char *as_operator, *as_admin;
    bool no_ack;
    int ack_interval_ms; /* desks acknowledge at most this often (0: every push) */
    bool mix;            /* the operations at once, connections split among them */
    unsigned seed;
    const char *redis_auth_cert; /* principal whose certificate Redis clients show */
    size_t photo_bytes;          /* --ops photo: the photo's size (2 MiB) */
    int rounds;                  /* --mix --rounds N: the mix without photo, then the mix, N times, then without */
} bopts;

/* --rounds: at most this many (each two phases) */
#define BENCH_MAX_ROUNDS 20

/* ---------------------------------------------------------------- the driver */

typedef struct bench bench;
typedef struct bconn bconn;
typedef struct bop bop;
typedef struct desk desk;

/* A load connection. */
struct bconn {
    bench *b;
    int idx;
    int kind;   /* the operation it runs */
    int dept;   /* check-in: index into b->depts */
    void *impl; /* the backend's connection */
    int in_flight;
    bool ready, failed, closed, starved, was_read, filling;
    char principal[80];
};

/* One operation in flight: a chain of calls. */
struct bop {
    bconn *lc;
    int kind;
    int step;
    uint64_t t0;
    char ticket[48];
    uint64_t order;
    int dept;
    uint64_t seq;
    /* photo: the upload's name and how far it is (docs/photos.md) */
    char hash[65];
    uint64_t off;
    bool uploaded;
};

/* A subscribed department desk (thread B). */
struct desk {
    bench *b;
    int idx;
    int dept;
    void *impl;
    bool ready, failed;
    uint64_t pushes;
};

/* What the backend reports about a department (discovery). */
typedef struct bdept {
    char code[40];
    bool staffed; /* a certificate exists for a principal of that name */
    int desks;    /* subscriber desks on it */
} bdept;

typedef struct backend {
    const char *name;
    /* Discovery and set-up on the main loop: fills b->depts, node, category. */
    int (*setup)(bench *b, char *err, size_t errlen);
    /* Opens lc (principal for whistled); calls bench_conn_ready. */
    int (*open)(bench *b, bconn *lc);
    /* Starts o's chain; calls bench_op_done when it ends. */
    void (*start)(bconn *lc, bop *o);
    /* Closes lc; calls bench_conn_closed. */
    void (*close)(bconn *lc);
    /* Reads the server's counters (runs the main loop until answered). */
    void (*stats)(bench *b, srv_snap *s);
    /* Subscriber desks, on thread B's loop: open calls bench_desk_ready;
     * the backend calls bench_push for every dispatch it receives. */
    int (*desk_open)(bench *b, desk *d);
    void (*desk_close)(desk *d);
    void (*teardown)(bench *b);
} backend;

extern const backend whistle_backend;
extern const backend redis_backend;

/* A whistle the load sent, waiting for its pushes (shared by both threads). */
typedef struct wentry {
    char ticket[48];
    uint64_t sent_ns; /* the whistle call was sent */
    uint64_t resp_ns; /* its answer arrived: the commit is done */
    int phase;
    int expected, received;
    struct wentry *next;
} wentry;

#define REG_BUCKETS 65536

typedef struct phase_res {
    int kind;
    uint64_t ops, errors, calls;
    uint64_t cpu_ops; /* operations the server's CPU time is divided by */
    double seconds;
    uint64_t t1; /* the last answer of the measured part */
    lat lat;
    lat push_e2e, push_after, push_from_at;
    uint64_t pushes_expected, pushes_received, push_before_answer;
    srv_snap before, after;
    char first_error[300];
    bool starved; /* check-in: orders ran out */
    /* --rounds: which round, and whether its phase left the photos out */
    int round;
    bool alone;
    double load1;      /* the machine's load average at the phase's start */
    double client_cpu; /* CPUs the benchmark itself used in the measured part */
} phase_res;

struct bench {
    const bopts *o;
    const backend *be;
    uv_loop_t loop;
    /* discovery */
    bdept *depts;
    int n_depts;
    int *targets; /* indexes of the departments whistles go to */
    int n_targets;
    char node[40], category[16], street[40];
    /* load */
    bconn *conns;
    int n_conns;
    int phase; /* index into results */
    int kind;
    bool running; /* phase: keep starting operations */
    uint64_t phase_t0, phase_t1;
    int waiting; /* connections to hear from before the loop stops */
    uint64_t seq;
    phase_res res[OP_KINDS * (2 * BENCH_MAX_ROUNDS + 1)];
    int n_res;
    int res_of_kind[OP_KINDS]; /* where an operation's results go now, -1: nowhere */
    bool mixing;
    bool recording; /* main thread: the measured part of a phase */
    int desks_next; /* thread B: the next desk to open */
    /* pools */
    uint64_t **pool; /* per department: order ids (FIFO) */
    size_t *pool_head, *pool_n, *pool_cap;
    char **tickets; /* reservoir of known tickets, for reads */
    size_t n_tickets, cap_tickets;
    /* thread B */
    pthread_t sub_thread;
    uv_loop_t sub_loop;
    uv_async_t sub_stop;
    desk *desks;
    int n_desks;
    int desks_ready, desks_failed;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool sub_started;
    wentry *reg[REG_BUCKETS];
    void *impl; /* backend's own state */
    char err[512];
    unsigned rng;
};

int bench_run(const bopts *o, json_t **out, char *err, size_t errlen);

/* Called by backends. */
void bench_conn_ready(bconn *lc, int ok, const char *err);
void bench_conn_closed(bconn *lc);
void bench_op_done(bop *o, const char *err);
void bench_desk_ready(desk *d, int ok, const char *err);
/* A dispatch push for ticket arrived at a desk (thread B). at_ms: the
 * push's own time (whistled: when its batch began, before the commit), 0
 * when there is none (Redis). */
void bench_push(desk *d, const char *ticket, int64_t at_ms);
/* The whistle for ticket is about to be sent / was answered (main thread). */
void bench_whistle_sent(bench *b, const char *ticket, const int *depts, int n);
void bench_whistle_answered(bench *b, const char *ticket);
/* Pools (main thread). */
void bench_pool_put(bench *b, int dept, uint64_t order);
void bench_ticket_put(bench *b, const char *ticket);
const char *bench_ticket_any(bench *b);
int bench_dept_index(bench *b, const char *code);
unsigned bench_rand(bench *b);
/* Picks n distinct target departments into out (n <= n_targets). */
void bench_pick_targets(bench *b, int *out, int n);
/* Runs the main loop until lc counts reach zero (bench->waiting). */
void bench_wait(bench *b, double timeout_s);
void bench_wake(bench *b);

/* ---------------------------------------------------------------- raw TLS (redis, idle) */

typedef struct rtls rtls;
typedef void (*rtls_ready_cb)(rtls *t, int status, const char *err);
typedef void (*rtls_data_cb)(rtls *t, const char *data, size_t len);
typedef void (*rtls_close_cb)(rtls *t);

struct rtls {
    uv_tcp_t tcp;
    uv_connect_t creq;
    SSL *ssl;
    BIO *rbio, *wbio;
    int state; /* 0 connecting, 1 handshake, 2 ready, 3 closing */
    rtls_ready_cb on_ready;
    rtls_data_cb on_data;
    rtls_close_cb on_close;
    void *ud;
    size_t wq;
    char err[200];
};

/* A client context: TLS 1.2+, the CA to verify with, a client
 * certificate; SSL_MODE_RELEASE_BUFFERS so that idle connections hold no
 * record buffers. */
SSL_CTX *rtls_ctx(const char *ca, const char *cert, const char *key, char *err, size_t errlen);
int rtls_open(rtls *t, uv_loop_t *loop, SSL_CTX *ctx, const struct sockaddr *addr, const char *sni);
int rtls_write(rtls *t, const void *data, size_t len);
void rtls_close(rtls *t);

/* ---------------------------------------------------------------- other modes */

int bench_idle(const bopts *o, int n, json_t **out, char *err, size_t errlen);
/* proto: "whistle" (Hello round trip) or "echo" (openssl s_server -rev). */
int bench_handshake(const bopts *o, const char *proto, int threads, json_t **out, char *err, size_t errlen);

/* Paths of the dev PKI. */
void pki_paths(const bopts *o, const char *name, char *cert, size_t cl, char *key, size_t kl, char *ca, size_t cal);
bool pki_has(const bopts *o, const char *name);
int resolve_addr(const char *host, int port, struct sockaddr_storage *out, char *err, size_t errlen);

/* Output. */
void report_print(FILE *f, json_t *run);
int report_summary(int argc, char **argv);
json_t *machine_json(void);

#endif
