/* whistle-bench: measures whistled (and Redis, for reference). See
 * bench.h for how a run is made and docs/performance.md for the figures. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "bench.h"

#ifndef WHISTLE_VERSION
#define WHISTLE_VERSION "0.0.0"
#endif

static void usage(FILE *f)
{
    fprintf(f,
            "usage: whistle-bench [options]                  operations against whistled (--target redis: Redis)\n"
            "       whistle-bench idle [-n N] [options]         N idle mTLS connections: daemon memory per connection\n"
            "       whistle-bench handshake [options]           full mTLS handshakes per second\n"
            "       whistle-bench summary FILE...               side by side, from saved --json results\n"
            "\n"
            "Measures whistled: throughput and latency per operation, push latency to\n"
            "subscribed department desks, the daemon's CPU time per operation, memory,\n"
            "commits and fsyncs per second. Numbers, never pass or fail: see\n"
            "docs/performance.md and scripts/bench-vs-redis.sh (make bench).\n"
            "\n"
            "Connection:\n"
            "  -H, --host HOST         server address (127.0.0.1)\n"
            "  -p, --port PORT         server port (7730)\n"
            "      --pki DIR           dev PKI with ca.crt and clients/NAME.{crt,key}\n"
            "                          ($WHISTLE_PKI, else var/pki)\n"
            "      --ca FILE           CA the server's certificate must chain to (DIR/ca.crt)\n"
            "      --as NAME           principal that reports, files, whistles and reads (operator)\n"
            "      --admin NAME        admin principal for the server's counters (admin)\n"
            "      --daemon-pid PID    also read the server's CPU time and memory in /proc/PID\n"
            "\n"
            "Operations (the default mode):\n"
            "      --target T          whistle (default) or redis: the nearest Redis equivalent,\n"
            "                          RESP over TLS with the same certificates\n"
            "  -c, --conns C           load connections (50)\n"
            "  -P, --pipeline P        operations in flight on each connection (1)\n"
            "  -d, --duration SECS     measured time of each operation (5)\n"
            "      --warmup SECS       unmeasured run before each operation (1)\n"
            "      --ops LIST          in this order, from: report (a case), whistle (report +\n"
            "                          file + whistle), checkin (check-in + feedback of orders\n"
            "                          the whistles made), read (get a known case: some are\n"
            "                          reported first if none is), photo (a report with one\n"
            "                          photo of --photo-bytes, uploaded in chunks first; each\n"
            "                          a new photo); redis also xadd\n"
            "                          (default report,whistle,checkin,read)\n"
            "      --photo-bytes N     the photo's size for --ops photo (2097152)\n"
            "      --mix               run the operations at once instead of one after the\n"
            "                          other: the connections are dealt out among them; the\n"
            "                          server's CPU time is per operation of the whole mix\n"
            "      --rounds N          with --mix and photo in --ops: the mix without its photo\n"
            "                          connections (the others as in the mix), then the whole\n"
            "                          mix, N times, and once more without; prints each phase\n"
            "                          and the other operations' rate beside photo uploads\n"
            "                          against the mean of their rate just before and after\n"
            "                          without (median and range of the N rounds' ratios)\n"
            "  -S, --subscribers S     department desks subscribed for the whole run (0); each\n"
            "                          is its department's principal (its certificate must exist)\n"
            "      --targets N         departments the whistles go to (default S, else C)\n"
            "      --whistle-depts K   departments per whistle (2)\n"
            "      --ack-interval MS   desks acknowledge what they handled at most every MS\n"
            "                          (100; 0: each push as it comes)\n"
            "      --no-ack            desks do not acknowledge what is pushed to them\n"
            "      --seed N            random seed (default: the time)\n"
            "\n"
            "idle:      -n N           connections (10000); each says Hello as --as, then idles\n"
            "handshake: --proto P      whistle (a Hello round trip) or echo (openssl s_server -rev)\n"
            "           --threads T    client threads (2); -d SECS (5)\n"
            "\n"
            "Output:\n"
            "      --json              one JSON object on stdout instead of the table\n"
            "      --out FILE          also write the JSON to FILE\n"
            "      --label NAME        a name for the result (summary looks results up by it)\n"
            "  -h, --help              this help\n"
            "  -V, --version           print the version\n");
}

static int parse_ops(bopts *o, const char *list)
{
    o->n_ops = 0;
    char *dup = strdup(list), *save = NULL;
    for (char *t = strtok_r(dup, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        int k = -1;
        for (int i = 0; i < OP_KINDS; i++)
            if (strcmp(t, op_names[i]) == 0)
                k = i;
        if (k < 0 || o->n_ops == OP_KINDS) {
            fprintf(stderr, "whistle-bench: --ops: \"%s\" is not one of report, whistle, checkin, read, photo, xadd\n",
                    t);
            free(dup);
            return -1;
        }
        o->ops[o->n_ops++] = k;
    }
    free(dup);
    return o->n_ops ? 0 : -1;
}

static int num(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    double d = strtod(v, &end);
    if (*v == 0 || *end || d < lo || d > hi) {
        fprintf(stderr, "whistle-bench: %s %s: a number from %g to %g is expected\n", opt, v, lo, hi);
        return -1;
    }
    *out = d;
    return 0;
}

static void emit(const bopts *o, json_t *j)
{
    if (o->out) {
        if (json_dump_file(j, o->out, JSON_INDENT(2)) != 0)
            fprintf(stderr, "whistle-bench: cannot write %s\n", o->out);
    }
    if (o->json) {
        json_dumpf(j, stdout, JSON_INDENT(2));
        fputc('\n', stdout);
    } else
        report_print(stdout, j);
}

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "summary") == 0)
        return report_summary(argc - 2, argv + 2);
    const char *mode = "load";
    if (argc > 1 && (strcmp(argv[1], "idle") == 0 || strcmp(argv[1], "handshake") == 0)) {
        mode = argv[1];
        argv[1] = argv[0];
        argv++;
        argc--;
    }
    bopts o = { .target = "whistle",
                .host = "127.0.0.1",
                .port = 0,
                .conns = 50,
                .pipeline = 1,
                .whistle_depts = 2,
                .duration = 5,
                .warmup = 1,
                .as_operator = "operator",
                .as_admin = "admin",
                .ack_interval_ms = 100 };
    parse_ops(&o, "report,whistle,checkin,read");
    const char *pki = getenv("WHISTLE_PKI");
    o.pki = pki && *pki ? pki : "var/pki";
    const char *proto = "whistle";
    int idle_n = 10000, threads = 2;
    enum {
        O_PKI = 256,
        O_CA,
        O_AS,
        O_ADMIN,
        O_PID,
        O_TARGET,
        O_WARMUP,
        O_OPS,
        O_TARGETS,
        O_WD,
        O_NOACK,
        O_SEED,
        O_JSON,
        O_OUT,
        O_LABEL,
        O_PROTO,
        O_THREADS,
        O_MIX,
        O_ACKI,
        O_PHOTO_BYTES,
        O_ROUNDS
    };
    static const struct option lo[] = {
        { "host", required_argument, 0, 'H' },
        { "port", required_argument, 0, 'p' },
        { "pki", required_argument, 0, O_PKI },
        { "ca", required_argument, 0, O_CA },
        { "as", required_argument, 0, O_AS },
        { "admin", required_argument, 0, O_ADMIN },
        { "daemon-pid", required_argument, 0, O_PID },
        { "target", required_argument, 0, O_TARGET },
        { "conns", required_argument, 0, 'c' },
        { "pipeline", required_argument, 0, 'P' },
        { "duration", required_argument, 0, 'd' },
        { "warmup", required_argument, 0, O_WARMUP },
        { "ops", required_argument, 0, O_OPS },
        { "subscribers", required_argument, 0, 'S' },
        { "targets", required_argument, 0, O_TARGETS },
        { "whistle-depts", required_argument, 0, O_WD },
        { "no-ack", no_argument, 0, O_NOACK },
        { "seed", required_argument, 0, O_SEED },
        { "mix", no_argument, 0, O_MIX },
        { "ack-interval", required_argument, 0, O_ACKI },
        { "photo-bytes", required_argument, 0, O_PHOTO_BYTES },
        { "rounds", required_argument, 0, O_ROUNDS },
        { "json", no_argument, 0, O_JSON },
        { "out", required_argument, 0, O_OUT },
        { "label", required_argument, 0, O_LABEL },
        { "proto", required_argument, 0, O_PROTO },
        { "threads", required_argument, 0, O_THREADS },
        { "help", no_argument, 0, 'h' },
        { "version", no_argument, 0, 'V' },
        { 0, 0, 0, 0 },
    };
    int ch;
    double d;
    while ((ch = getopt_long(argc, argv, "H:p:c:P:d:S:n:hV", lo, NULL)) != -1) {
        switch (ch) {
        case 'H': o.host = optarg; break;
        case 'p':
            if (num("--port", optarg, 1, 65535, &d))
                return 2;
            o.port = (int)d;
            break;
        case O_PKI: o.pki = optarg; break;
        case O_CA: o.ca = optarg; break;
        case O_AS: o.as_operator = optarg; break;
        case O_ADMIN: o.as_admin = optarg; break;
        case O_PID:
            if (num("--daemon-pid", optarg, 1, 1e9, &d))
                return 2;
            o.daemon_pid = (int)d;
            break;
        case O_TARGET:
            if (strcmp(optarg, "whistle") && strcmp(optarg, "redis")) {
                fprintf(stderr, "whistle-bench: --target %s: whistle or redis\n", optarg);
                return 2;
            }
            o.target = optarg;
            break;
        case 'c':
            if (num("--conns", optarg, 1, 100000, &d))
                return 2;
            o.conns = (int)d;
            break;
        case 'P':
            if (num("--pipeline", optarg, 1, 10000, &d))
                return 2;
            o.pipeline = (int)d;
            break;
        case 'd':
            if (num("--duration", optarg, 0.1, 86400, &d))
                return 2;
            o.duration = d;
            break;
        case O_WARMUP:
            if (num("--warmup", optarg, 0, 3600, &d))
                return 2;
            o.warmup = d;
            break;
        case O_OPS:
            if (parse_ops(&o, optarg))
                return 2;
            break;
        case 'S':
            if (num("--subscribers", optarg, 0, 100000, &d))
                return 2;
            o.subscribers = (int)d;
            break;
        case O_TARGETS:
            if (num("--targets", optarg, 1, 100000, &d))
                return 2;
            o.targets = (int)d;
            break;
        case O_WD:
            if (num("--whistle-depts", optarg, 1, 32, &d))
                return 2;
            o.whistle_depts = (int)d;
            break;
        case O_NOACK: o.no_ack = true; break;
        case O_MIX: o.mix = true; break;
        case O_ACKI:
            if (num("--ack-interval", optarg, 0, 60000, &d))
                return 2;
            o.ack_interval_ms = (int)d;
            break;
        case O_PHOTO_BYTES:
            if (num("--photo-bytes", optarg, 16384, 64 << 20, &d))
                return 2;
            o.photo_bytes = (size_t)d;
            break;
        case O_ROUNDS:
            if (num("--rounds", optarg, 1, BENCH_MAX_ROUNDS, &d))
                return 2;
            o.rounds = (int)d;
            break;
        case O_SEED:
            if (num("--seed", optarg, 1, 4e9, &d))
                return 2;
            o.seed = (unsigned)d;
            break;
        case O_JSON: o.json = true; break;
        case O_OUT: o.out = optarg; break;
        case O_LABEL: o.label = optarg; break;
        case O_PROTO: proto = optarg; break;
        case O_THREADS:
            if (num("--threads", optarg, 1, 256, &d))
                return 2;
            threads = (int)d;
            break;
        case 'n':
            if (num("-n", optarg, 1, 1000000, &d))
                return 2;
            idle_n = (int)d;
            break;
        case 'h': usage(stdout); return 0;
        case 'V': printf("whistle-bench %s\n", WHISTLE_VERSION); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "whistle-bench: unexpected argument \"%s\" (see --help)\n", argv[optind]);
        return 2;
    }
    bool redis = strcmp(o.target, "redis") == 0;
    if (!o.port)
        o.port = redis ? 6379 : 7730;
    o.redis_auth_cert = o.as_operator;
    for (int i = 0; i < o.n_ops && !redis; i++)
        if (o.ops[i] == OP_XADD) {
            fprintf(stderr, "whistle-bench: --ops xadd is the Redis reference only (--target redis)\n");
            return 2;
        }
    for (int i = 0; i < o.n_ops && redis; i++)
        if (o.ops[i] == OP_PHOTO) {
            fprintf(stderr, "whistle-bench: --ops photo is whistled's only (Redis has no photos)\n");
            return 2;
        }
    if (!o.photo_bytes)
        o.photo_bytes = 2u << 20;
    if (o.rounds) {
        bool photo = false;
        for (int i = 0; i < o.n_ops; i++)
            photo |= o.ops[i] == OP_PHOTO;
        if (!o.mix || !photo || o.n_ops < 2) {
            fprintf(stderr, "whistle-bench: --rounds compares operations with and without photo uploads beside "
                            "them: give --mix and --ops with photo and another (--mix --ops report,photo)\n");
            return 2;
        }
    }
    /* libuv writes with write(2): a server that goes away must not kill us */
    signal(SIGPIPE, SIG_IGN);
    /* ten thousand connections need as many descriptors */
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }

    char err[1024] = "";
    json_t *j = NULL;
    int rc;
    if (strcmp(mode, "idle") == 0)
        rc = bench_idle(&o, idle_n, &j, err, sizeof err);
    else if (strcmp(mode, "handshake") == 0)
        rc = bench_handshake(&o, proto, threads, &j, err, sizeof err);
    else
        rc = bench_run(&o, &j, err, sizeof err);
    if (rc != 0) {
        fprintf(stderr, "whistle-bench: %s\n", err[0] ? err : "failed");
        return 1;
    }
    emit(&o, j);
    json_decref(j);
    return 0;
}
