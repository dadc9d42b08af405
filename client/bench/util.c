/* util.c: latency samples, /proc readings, PKI paths, the machine. */
#include <dirent.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "bench.h"

const char *const op_names[OP_KINDS] = { "report", "whistle", "checkin", "read", "xadd", "photo" };
/* photo: a 2 MiB upload in three chunks under the default 1 MiB frame, and
 * the report that attaches it */
const int op_calls[OP_KINDS] = { 1, 3, 2, 1, 1, 4 };

/* ---------------------------------------------------------------- latency */

void lat_add(lat *l, uint64_t ns)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 4096;
        uint64_t *v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return; /* a lost sample beats a crashed benchmark */
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = ns;
    l->sorted = false;
}

void lat_merge(lat *into, const lat *from)
{
    for (size_t i = 0; i < from->n; i++)
        lat_add(into, from->v[i]);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

uint64_t lat_pct(lat *l, double p)
{
    if (!l->n)
        return 0;
    if (!l->sorted) {
        qsort(l->v, l->n, sizeof *l->v, cmp_u64);
        l->sorted = true;
    }
    /* nearest rank */
    size_t i = (size_t)(p * (double)l->n);
    if (i >= l->n)
        i = l->n - 1;
    return l->v[i];
}

void lat_free(lat *l)
{
    free(l->v);
    memset(l, 0, sizeof *l);
}

json_t *lat_json(lat *l)
{
    return json_pack("{s:I, s:f, s:f, s:f, s:f}", "n", (json_int_t)l->n, "p50", lat_pct(l, 0.50) / 1e3, "p99",
                     lat_pct(l, 0.99) / 1e3, "p999", lat_pct(l, 0.999) / 1e3, "max", lat_pct(l, 1.0) / 1e3);
}

/* ---------------------------------------------------------------- /proc */

/* The block device of the process's largest open regular file (whistled's
 * data.mdb, Redis's append-only file): its /sys stat file, or "" if none. */
static void dev_stat_path(int pid, char *out, size_t len)
{
    out[0] = 0;
    char dir[64];
    snprintf(dir, sizeof dir, "/proc/%d/fd", pid);
    DIR *d = opendir(dir);
    if (!d)
        return;
    off_t best = -1;
    dev_t dev = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        char p[sizeof dir + sizeof e->d_name + 1];
        struct stat st;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        if (stat(p, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > best) {
            best = st.st_size;
            dev = st.st_dev;
        }
    }
    closedir(d);
    if (best >= 0)
        snprintf(out, len, "/sys/dev/block/%u:%u/stat", major(dev), minor(dev));
}

static int64_t dev_written(int pid)
{
    static int cached_pid;
    static char path[96];
    if (cached_pid != pid) {
        dev_stat_path(pid, path, sizeof path);
        cached_pid = pid;
    }
    FILE *f = path[0] ? fopen(path, "r") : NULL;
    if (!f)
        return -1; /* tmpfs, overlay: no block device of its own */
    unsigned long long v[7];
    int n = fscanf(f, "%llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6]);
    fclose(f);
    return n == 7 ? (int64_t)v[6] * 512 : -1; /* the 7th field: sectors written */
}

void proc_io(int pid, srv_snap *s)
{
    char path[64], buf[256];
    s->wchar = s->write_bytes = -1;
    s->dev_bytes = dev_written(pid);
    snprintf(path, sizeof path, "/proc/%d/io", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return;
    unsigned long long v;
    while (fgets(buf, sizeof buf, f)) {
        if (sscanf(buf, "wchar: %llu", &v) == 1)
            s->wchar = (int64_t)v;
        else if (sscanf(buf, "write_bytes: %llu", &v) == 1)
            s->write_bytes = (int64_t)v;
    }
    fclose(f);
}

int proc_snap(int pid, srv_snap *s)
{
    char path[64], buf[2048];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    /* Fields after the command name, which may hold spaces: skip to ')'. */
    char *p = strrchr(buf, ')');
    if (!p)
        return -1;
    unsigned long long utime = 0, stime = 0;
    /* state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime */
    if (sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2)
        return -1;
    long hz = sysconf(_SC_CLK_TCK);
    s->cpu_us = (int64_t)((utime + stime) * 1000000ULL / (unsigned long long)(hz > 0 ? hz : 100));
    snprintf(path, sizeof path, "/proc/%d/status", pid);
    f = fopen(path, "r");
    if (f) {
        unsigned long long kb;
        while (fgets(buf, sizeof buf, f)) {
            if (sscanf(buf, "VmRSS: %llu kB", &kb) == 1)
                s->rss = (int64_t)kb * 1024;
            else if (sscanf(buf, "RssAnon: %llu kB", &kb) == 1)
                s->rss_anon = (int64_t)kb * 1024;
        }
        fclose(f);
    }
    s->ok = true;
    return 0;
}

int64_t proc_run_delay(int pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (!d)
        return -1;
    unsigned long long total = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        char p2[300];
        snprintf(p2, sizeof p2, "/proc/%d/task/%s/schedstat", pid, e->d_name);
        FILE *f = fopen(p2, "r");
        unsigned long long run, wait;
        if (f) {
            if (fscanf(f, "%llu %llu", &run, &wait) == 2)
                total += wait;
            fclose(f);
        }
    }
    closedir(d);
    return (int64_t)(total / 1000);
}

/* ---------------------------------------------------------------- PKI */

void pki_paths(const bopts *o, const char *name, char *cert, size_t cl, char *key, size_t kl, char *ca, size_t cal)
{
    if (cert)
        snprintf(cert, cl, "%s/clients/%s.crt", o->pki, name);
    if (key)
        snprintf(key, kl, "%s/clients/%s.key", o->pki, name);
    if (ca) {
        if (o->ca)
            snprintf(ca, cal, "%s", o->ca);
        else
            snprintf(ca, cal, "%s/ca.crt", o->pki);
    }
}

bool pki_has(const bopts *o, const char *name)
{
    char cert[1024], key[1024];
    pki_paths(o, name, cert, sizeof cert, key, sizeof key, NULL, 0);
    return access(cert, R_OK) == 0 && access(key, R_OK) == 0;
}

int resolve_addr(const char *host, int port, struct sockaddr_storage *out, char *err, size_t errlen)
{
    struct addrinfo hints = { 0 }, *ai = NULL;
    hints.ai_socktype = SOCK_STREAM;
    char ps[16];
    snprintf(ps, sizeof ps, "%d", port);
    int rc = getaddrinfo(host, ps, &hints, &ai);
    if (rc != 0 || !ai) {
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        return -1;
    }
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    freeaddrinfo(ai);
    return 0;
}

/* ---------------------------------------------------------------- machine */

json_t *machine_json(void)
{
    json_t *m = json_object();
    struct utsname u;
    if (uname(&u) == 0) {
        json_object_set_new(m, "kernel", json_sprintf("%s %s", u.sysname, u.release));
        json_object_set_new(m, "arch", json_string(u.machine));
    }
    json_object_set_new(m, "cpus", json_integer(sysconf(_SC_NPROCESSORS_ONLN)));
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *p = strchr(line, ':');
                if (p) {
                    p += 2;
                    p[strcspn(p, "\n")] = 0;
                    json_object_set_new(m, "cpu", json_string(p));
                }
                break;
            }
        }
        fclose(f);
    }
    double load[3];
    if (getloadavg(load, 3) == 3)
        json_object_set_new(m, "load", json_pack("[f,f,f]", load[0], load[1], load[2]));
    long pages = sysconf(_SC_PHYS_PAGES), psz = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psz > 0)
        json_object_set_new(m, "memory_mib", json_integer((json_int_t)pages * psz / (1024 * 1024)));
    return m;
}
