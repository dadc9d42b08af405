/* admin.c: the CLI's administration and community-task commands:
 *
 *   whistle admin import|export|node|dept|category|principal|audit|crl ...
 *   whistle admission show|set ...     (准入清单)
 *   whistle task push|list|done ...
 *
 * Each group is one entry of the command table (commands.c) that hands its
 * arguments here; each subcommand is a cmd of its own, parsed and helped
 * by cli_run like any other, and most are rows call.c runs. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"

/* ---------------------------------------------------------------- helpers */

static void response_release(void *p) { whistle_response_free(p); }

/* A time: Unix milliseconds; YYYY-MM-DD[ HH:MM[:SS]] (or with T) in local
 * time, or UTC with a trailing Z; or relative to now: +3d, -2h, +30m. */
int cli_parse_time(const char *s, int64_t *out)
{
    if (!s || !*s)
        return -1;
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    if (*s == '+' || *s == '-') {
        char *end;
        errno = 0;
        long long v = strtoll(s + 1, &end, 10);
        int64_t unit = *end == 'd' ? 86400000LL : *end == 'h' ? 3600000LL : *end == 'm' ? 60000LL : 0;
        if (errno || end == s + 1 || !unit || end[1])
            return -1;
        *out = now_ms + (*s == '+' ? 1 : -1) * v * unit;
        return 0;
    }
    uint64_t ms;
    if (cli_parse_u64(s, UINT64_MAX, &ms) == 0 && ms > 100000000000ULL) {
        *out = (int64_t)ms;
        return 0;
    }
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *formats[] = { "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M",
                              "%Y-%m-%d" };
    for (size_t i = 0; i < sizeof formats / sizeof *formats; i++) {
        memset(&tm, 0, sizeof tm);
        const char *end = strptime(s, formats[i], &tm);
        if (!end || (*end && strcmp(end, "Z") != 0))
            continue;
        tm.tm_isdst = -1;
        time_t t = *end == 'Z' ? timegm(&tm) : mktime(&tm);
        if (t == (time_t)-1)
            return -1;
        *out = (int64_t)t * 1000;
        return 0;
    }
    return -1;
}

/* The tables by their names in files (DirectoryTable's order), and the
 * other words people use for them. */
static const char *const table_names[] = { "all",        "nodes",           "departments", "categories",
                                           "principals", "service_classes", "services" };
#define N_TABLES (int)(sizeof table_names / sizeof *table_names)
#define TABLE_WORDS "nodes, departments, categories, principals, service_classes, services"

static int parse_table(const char *s, Whistle__V1__DirectoryTable *t)
{
    static const char *const alt[] = {
        "", "places", "depts", "catalogue", "people", "service-classes", "service-items"
    };
    for (int i = 1; i < N_TABLES; i++)
        if (strcmp(s, table_names[i]) == 0 || strcmp(s, alt[i]) == 0) {
            *t = (Whistle__V1__DirectoryTable)i;
            return 0;
        }
    return -1;
}

static const char *table_word(Whistle__V1__DirectoryTable t)
{
    return (int)t >= 0 && (int)t < N_TABLES ? table_names[t] : "?";
}

/* The table's word for people (the option --table takes the English). */
static const char *table_label(Whistle__V1__DirectoryTable t)
{
    const char *w = table_word(t);
    return strcmp(w, "all") == 0           ? C_("table", "all")
           : strcmp(w, "nodes") == 0       ? C_("table", "nodes")
           : strcmp(w, "departments") == 0 ? C_("table", "departments")
           : strcmp(w, "categories") == 0  ? C_("table", "categories")
           : strcmp(w, "principals") == 0  ? C_("table", "principals")
                                           : w;
}

static int parse_format(const args *a, const cli *x, Whistle__V1__DataFormat *f)
{
    const char *s = cli_opt(a, "format");
    if (!s) {
        *f = x->json ? WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON : WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_CSV;
        return 0;
    }
    if (strcmp(s, "csv") == 0)
        *f = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_CSV;
    else if (strcmp(s, "json") == 0)
        *f = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
    else
        return cli_usage_error(_("%s: bad --format '%s' (csv or json)"), a->c->name, s);
    return 0;
}

/* ---------------------------------------------------------------- import, export */

int cli_read_file(const char *path, uint8_t **data, size_t *len)
{
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
    if (!f) {
        return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
    }
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        uint8_t *b = realloc(buf, cap);
        if (!b)
            free(buf);
        buf = b;
    }
    bool err = ferror(f);
    if (f != stdin)
        fclose(f);
    if (!buf || err) {
        free(buf);
        return cli_fail(EXIT_USAGE, _("%s: cannot read it"), path);
    }
    *data = buf;
    *len = n;
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

static int run_import(cli *x, args *a)
{
    const char *path = a->pos[0];
    Whistle__V1__ImportDirectory im = WHISTLE__V1__IMPORT_DIRECTORY__INIT;
    const char *s;
    if ((s = cli_opt(a, "table")) && parse_table(s, &im.table) < 0)
        return cli_usage_error(_("admin import: bad --table '%s' (%s)"), s, TABLE_WORDS);
    if ((s = cli_opt(a, "format"))) {
        if (strcmp(s, "csv") == 0)
            im.format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_CSV;
        else if (strcmp(s, "json") == 0)
            im.format = WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON;
        else
            return cli_usage_error(_("admin import: bad --format '%s' (csv or json)"), s);
    } else {
        size_t n = strlen(path);
        im.format = n > 5 && strcmp(path + n - 5, ".json") == 0 ? WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON
                                                                : WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_CSV;
    }
    im.dry_run = cli_flag(a, "check");
    im.source = (char *)base_name(path);
    uint8_t *data = NULL;
    size_t len = 0;
    int rc = cli_read_file(path, &data, &len);
    if (rc)
        return rc;
    if ((rc = cli_connect(x))) {
        free(data);
        return rc;
    }
    /* Chunks well under the server's frame limit; the server keeps them on
     * this connection and applies the file as a whole at the last one. */
    size_t max = whistle_hello(x->client)->max_frame;
    size_t chunk = max > (64u << 10) ? max - (32u << 10) : max / 2;
    if (chunk > (768u << 10))
        chunk = 768u << 10;
    char id[33];
    if (whistle_idempotency_key(id, sizeof id) < 0)
        snprintf(id, sizeof id, "%ld", (long)time(NULL));
    im.upload_id = id;
    Whistle__V1__Response *resp = NULL;
    size_t off = 0;
    bool progress = len > 4 * chunk && isatty(fileno(stderr)) && !x->json;
    do {
        size_t n = len - off < chunk ? len - off : chunk;
        im.offset = off;
        im.data.data = data + off;
        im.data.len = n;
        im.last = off + n == len;
        Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
        cli_request_set(&req, CALL(IMPORT_DIRECTORY), &im);
        if (resp)
            whistle_response_free(resp);
        resp = NULL;
        if ((rc = cli_call(x, &req, &resp))) {
            free(data);
            return rc;
        }
        off += n;
        if (!im.last && progress) {
            fputc('\r', stderr);
            fprintf(stderr, _("sent %zu of %zu bytes"), off, len);
        }
    } while (off < len);
    if (progress) {
        fputc('\r', stderr);
        fprintf(stderr, _("sent %zu bytes; the server checked and applied them\n"), len);
    }
    free(data);
    const Whistle__V1__ImportResult *r =
        resp->result_case == WHISTLE__V1__RESPONSE__RESULT_IMPORT_RESULT ? resp->import_result : NULL;
    if (x->json) {
        cli_json_print(r ? cli_json_message(&r->base) : json_object());
    } else if (r) {
        for (size_t i = 0; i < r->n_counts; i++) {
            const Whistle__V1__TableCount *c = r->counts[i];
            char tw[64];
            uitext_fit(tw, sizeof tw, table_label(c->table), 15, true);
            printf(_("%s %u added, %u updated, %u unchanged\n"), tw, c->added, c->updated, c->unchanged);
        }
        if (!r->n_counts)
            printf("%s\n", _("the file held no records"));
        for (size_t i = 0; i < r->n_notes; i++)
            fprintf(stderr, _("note: %s\n"), r->notes[i]);
        if (!r->applied)
            printf("%s\n", _("(--check: the file is valid; nothing was changed)"));
    }
    whistle_response_free(resp);
    return EXIT_OK;
}

/* Export's pages: every one, each written out as it comes. */
static const cli_list export_pages = { .cursor = "cursor", .next = "next_cursor" };

typedef struct export_out {
    FILE *out;
    uint64_t rows;
} export_out;

static void export_page(void *ctx, const ProtobufCMessage *result)
{
    export_out *e = ctx;
    const Whistle__V1__ExportPage *p = (const Whistle__V1__ExportPage *)result;
    if (p && p->data.len)
        fwrite(p->data.data, 1, p->data.len, e->out);
    e->rows += p ? p->rows : 0;
}

static int run_export(cli *x, args *a)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__ExportDirectory *ex = cli_request_new(&req, CALL(EXPORT_DIRECTORY), a);
    if (!ex)
        return EXIT_CONN;
    const char *s;
    if ((s = cli_opt(a, "table")) && parse_table(s, &ex->table) < 0)
        return cli_usage_error(_("admin export: bad --table '%s' (%s)"), s, TABLE_WORDS);
    if (parse_format(a, x, &ex->format))
        return EXIT_USAGE;
    if ((s = cli_opt(a, "under")))
        ex->under = (char *)s;
    const char *path = cli_opt(a, "output");
    export_out e = { stdout, 0 };
    if (path && strcmp(path, "-") != 0 && !(e.out = fopen(path, "wb")))
        return cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
    int rc = cli_connect(x);
    if (rc)
        goto done;
    uint32_t max = whistle_hello(x->client)->max_frame;
    ex->page_bytes = max > (128u << 10) ? max / 2 : max / 4;
    if (ex->page_bytes > (512u << 10))
        ex->page_bytes = 512u << 10;
    /* A CSV file starts with a byte order mark: spreadsheets (Excel, WPS)
     * then read it as UTF-8 instead of the local code page. The import
     * skips it. */
    if (ex->format != WHISTLE__V1__DATA_FORMAT__DATA_FORMAT_JSON && !isatty(fileno(e.out)))
        fputs("\xEF\xBB\xBF", e.out);
    cli_cursor left;
    rc = cli_pages(x, &req, ex, RESULT(EXPORT_PAGE), &export_pages, true, export_page, &e, &left);
    free(left.text);
    if (!rc && path && e.out != stdout)
        fprintf(stderr, ngettext("%llu record written to %s\n", "%llu records written to %s\n", e.rows),
                (unsigned long long)e.rows, path);
done:
    if (e.out != stdout && fclose(e.out) != 0 && !rc)
        rc = cli_fail(EXIT_USAGE, "%s: %s", path, strerror(errno));
    return rc;
}

/* ---------------------------------------------------------------- backup, log level */

/* A backup on the server (in its store.backup_dir), or with --to, one
 * streamed here: the server makes the copy, then it comes in chunks of at
 * most a frame, written to FILE.partial and renamed to FILE once whole.
 * An existing FILE is never replaced. */
static int run_backup(cli *x, args *a)
{
    Whistle__V1__Request req = WHISTLE__V1__REQUEST__INIT;
    Whistle__V1__Backup *b = cli_request_new(&req, CALL(BACKUP), a);
    if (!b)
        return EXIT_CONN;
    const char *to = cli_opt(a, "to"), *name = cli_opt(a, "name");
    if (to && name)
        return cli_usage_error(_("admin backup: --name names a backup on the server; --to one here: not both"));
    if (name)
        b->name = (char *)name;
    char partial[4200];
    FILE *out = NULL;
    if (to) {
        if (access(to, F_OK) == 0)
            return cli_fail(EXIT_USAGE, _("%s exists: a backup never replaces a file"), to);
        snprintf(partial, sizeof partial, "%s.partial", to);
        /* the store holds residents' personal data: the copy is the
         * caller's alone, whatever the umask says */
        int fd = open(partial, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        if (fd < 0 || !(out = fdopen(fd, "wb"))) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            return cli_fail(EXIT_USAGE, "%s: %s", partial, strerror(e));
        }
        b->stream = true;
    }
    Whistle__V1__Response *resp = NULL;
    int rc = cli_call(x, &req, &resp);
    if (rc)
        goto done;
    const Whistle__V1__BackupResult *r = resp->backup;
    if (resp->result_case != RESULT(BACKUP)) {
        rc = cli_fail(EXIT_CONN, "unexpected answer");
        goto done;
    }
    if (!out) {
        if (x->json)
            cli_print_json(resp);
        else
            printf(_("backup written on the server: %s (%llu bytes, %llu ms)\n"), r->path, (unsigned long long)r->bytes,
                   (unsigned long long)r->took_ms);
        goto done;
    }
    char *stream_name = strdup(r->name);
    uint64_t offset = 0;
    for (bool eof = false; !eof && !rc && stream_name;) {
        Whistle__V1__Request rq = WHISTLE__V1__REQUEST__INIT;
        Whistle__V1__BackupRead rd = WHISTLE__V1__BACKUP_READ__INIT;
        rd.name = stream_name;
        rd.offset = offset;
        cli_request_set(&rq, CALL(BACKUP_READ), &rd);
        Whistle__V1__Response *cr = NULL;
        rc = cli_call(x, &rq, &cr);
        if (rc)
            break;
        const Whistle__V1__BackupChunk *ch = cr->backup_chunk;
        if (cr->result_case != RESULT(BACKUP_CHUNK) || ch->offset != offset ||
            fwrite(ch->data.data, 1, ch->data.len, out) != ch->data.len)
            rc = cli_fail(EXIT_USAGE, "%s: %s", partial, strerror(errno));
        offset += ch->data.len;
        eof = ch->eof;
        whistle_response_free(cr);
    }
    free(stream_name);
    if (!rc && (fflush(out) != 0 || fsync(fileno(out)) != 0))
        rc = cli_fail(EXIT_USAGE, "%s: %s", partial, strerror(errno));
    fclose(out);
    out = NULL;
    if (!rc && link(partial, to) != 0)
        rc = cli_fail(EXIT_USAGE, "%s: %s", to, strerror(errno));
    unlink(partial);
    if (!rc)
        fprintf(stderr, _("backup written to %s (%llu bytes)\n"), to, (unsigned long long)offset);
done:
    if (out) {
        fclose(out);
        unlink(partial);
    }
    whistle_response_free(resp);
    return rc;
}

static void print_log_level(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    printf(_("log level %s%s (was %s)\n"), resp->log_level->level,
           resp->log_level->access_log ? _(", with the access log") : "", resp->log_level->previous);
}

/* ---------------------------------------------------------------- nodes */

/* What was stored: both names, as the admin gave them. */
static void print_node(const Whistle__V1__Node *n)
{
    printf("%s  %s  %s%s%s%s\n", n->code, cli_word(whistle_node_kind_name(n->kind)), n->name_zh,
           *n->name_en ? "  " : "", n->name_en, n->retired ? _("  (retired)") : "");
    if (*n->successor)
        printf(_("  replaced by %s\n"), n->successor);
}

static void print_node_result(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    print_node(resp->node);
}

static int build_node_add(cli *x, args *a, void *msg)
{
    Whistle__V1__Node *n = ((Whistle__V1__AddNode *)msg)->node;
    if (whistle_node_kind_parse(cli_opt(a, "kind"), &n->kind) < 0)
        return cli_usage_error(_("admin node add: bad --kind '%s' (district, street, community, grid, building)"),
                               cli_opt(a, "kind"));
    if (!cli_opt(a, "parent") && n->kind > WHISTLE__V1__NODE_KIND__NODE_KIND_DISTRICT && strlen(n->code) >= 9) {
        /* the parent is the code without its last three digits */
        char *parent = cli_keep(a, malloc(32), free);
        if (!parent)
            return EXIT_CONN;
        snprintf(parent, 32, "%.*s", (int)strlen(n->code) - 3, n->code);
        n->parent = parent;
    }
    return 0;
}

static int build_node_rename(cli *x, args *a, void *msg)
{
    if (!cli_opt(a, "zh") && !cli_opt(a, "en"))
        return cli_usage_error(_("admin node rename: give --zh NAME, --en NAME or both"));
    return 0;
}

static void print_moved(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__MoveResult *r = resp->moved;
    if (r->n_created)
        printf(ngettext("%s moved to %s: %zu place created, the old codes retired\n",
                        "%s moved to %s: %zu places created, the old codes retired\n", r->n_created),
               req->move_node->code, r->created[0]->code, r->n_created);
    for (size_t i = 0; i < r->n_created && i < 20; i++)
        printf("  %s  %s  %s\n", r->created[i]->code, cli_word(whistle_node_kind_name(r->created[i]->kind)),
               uitext_pick(r->created[i]->name_zh, r->created[i]->name_en));
    if (r->n_created > 20)
        printf("  %s\n", _("... (--json lists them all)"));
    for (size_t i = 0; i < r->n_notes; i++)
        fprintf(stderr, _("note: %s\n"), r->notes[i]);
}

/* ---------------------------------------------------------------- departments, categories */

/* Keeps the names not given: the current record is read first. */
static int build_dept_put(cli *x, args *a, void *msg)
{
    Whistle__V1__Department *d = ((Whistle__V1__PutDepartment *)msg)->department;
    Whistle__V1__Request lreq = WHISTLE__V1__REQUEST__INIT;
    if (!cli_request_new(&lreq, CALL(LIST_DEPARTMENTS), a))
        return EXIT_CONN;
    Whistle__V1__Response *lresp;
    int rc = cli_call(x, &lreq, &lresp);
    if (rc)
        return rc;
    cli_keep(a, lresp, response_release);
    for (size_t i = 0; lresp->departments && i < lresp->departments->n_departments; i++)
        if (strcmp(lresp->departments->departments[i]->code, d->code) == 0) {
            d->name_zh = lresp->departments->departments[i]->name_zh;
            d->name_en = lresp->departments->departments[i]->name_en;
        }
    if (cli_opt(a, "zh"))
        d->name_zh = (char *)cli_opt(a, "zh");
    if (cli_opt(a, "en"))
        d->name_en = (char *)cli_opt(a, "en");
    return 0;
}

static void print_department(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    printf("%s  %s  %s\n", resp->department->code, resp->department->name_zh, resp->department->name_en);
}

/* "30m", "2h", "3d", "4wh", "7wd" (and Chinese units) -> a limit; the
 * server checks the ranges. */
static int parse_limit(const char *s, Whistle__V1__TimeLimit *l)
{
    static const struct {
        const char *w;
        Whistle__V1__TimeUnit u;
    } units[] = {
        { "wh", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS },
        { "wd", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS },
        { "m", WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES },
        { "min", WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES },
        { "h", WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS },
        { "d", WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS },
        { "工作小时", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_HOURS },
        { "工作日", WHISTLE__V1__TIME_UNIT__TIME_UNIT_WORKING_DAYS },
        { "分钟", WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES },
        { "小时", WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS },
        { "天", WHISTLE__V1__TIME_UNIT__TIME_UNIT_DAYS },
    };
    char *end;
    errno = 0;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || end == s || v == 0 || v > 1000000)
        return -1;
    for (size_t i = 0; i < sizeof units / sizeof *units; i++)
        if (strcmp(end, units[i].w) == 0) {
            l->amount = (uint32_t)v;
            l->unit = units[i].u;
            return 0;
        }
    return -1;
}

static const char *limit_text(const Whistle__V1__TimeLimit *l, char *buf, size_t len)
{
    static const char *const u[] = { "", "m", "h", "d", "wh", "wd" };
    if (!l || !l->amount)
        return "-";
    snprintf(buf, len, "%u%s", l->amount, (int)l->unit >= 0 && l->unit < 6 ? u[l->unit] : "?");
    return buf;
}

/* The limits a category put sends: its entries, and room for the ones the
 * options make (kept by the command: the request points into them). */
typedef struct category_limits {
    Whistle__V1__PriorityLimits *pls[8];
    Whistle__V1__PriorityLimits pl[4];
    Whistle__V1__TimeLimit tl[8];
} category_limits;

/* Starts from the current record, so that only what is given changes. */
static int build_category_put(cli *x, args *a, void *msg)
{
    const char *code = a->pos[0];
    Whistle__V1__Request lreq = WHISTLE__V1__REQUEST__INIT;
    if (!cli_request_new(&lreq, CALL(LIST_CATEGORIES), a))
        return EXIT_CONN;
    Whistle__V1__Response *lresp;
    int rc = cli_call(x, &lreq, &lresp);
    if (rc)
        return rc;
    cli_keep(a, lresp, response_release);
    Whistle__V1__Category *kp = cli_new(a, &whistle__v1__category__descriptor);
    category_limits *cl = cli_keep(a, calloc(1, sizeof *cl), free);
    if (!kp || !cl)
        return EXIT_CONN;
    ((Whistle__V1__PutCategory *)msg)->category = kp;
    Whistle__V1__Category k = *kp;
    for (size_t i = 0; lresp->categories && i < lresp->categories->n_categories; i++)
        if (strcmp(lresp->categories->categories[i]->code, code) == 0)
            k = *lresp->categories->categories[i];
    k.base.n_unknown_fields = 0;
    k.base.unknown_fields = NULL;
    k.code = (char *)code;
    if (cli_opt(a, "zh"))
        k.name_zh = (char *)cli_opt(a, "zh");
    if (cli_opt(a, "en"))
        k.name_en = (char *)cli_opt(a, "en");
    if (cli_opt(a, "dept") && !(k.departments = cli_split(a, cli_opt(a, "dept"), ", ;", SIZE_MAX, &k.n_departments)))
        return EXIT_CONN;
    /* Limits: the options given replace that priority's entry. */
    static const struct {
        const char *ci, *rs;
        Whistle__V1__Priority p;
    } pri[] = { { "check-in", "resolve", WHISTLE__V1__PRIORITY__PRIORITY_UNSPECIFIED },
                { "check-in-low", "resolve-low", WHISTLE__V1__PRIORITY__PRIORITY_LOW },
                { "check-in-high", "resolve-high", WHISTLE__V1__PRIORITY__PRIORITY_HIGH },
                { "check-in-urgent", "resolve-urgent", WHISTLE__V1__PRIORITY__PRIORITY_URGENT } };
    Whistle__V1__PriorityLimits **pls = cl->pls, *pl = cl->pl;
    Whistle__V1__TimeLimit *tl = cl->tl;
    size_t np = 0;
    bool any = false;
    for (size_t i = 0; i < 4; i++)
        any |= cli_opt(a, pri[i].ci) || cli_opt(a, pri[i].rs);
    if (any || k.n_limits) {
        if (!k.n_limits && (k.check_in_minutes || k.resolve_hours)) {
            /* an older record: its default limits become an entry */
            whistle__v1__priority_limits__init(&pl[0]);
            whistle__v1__time_limit__init(&tl[0]);
            whistle__v1__time_limit__init(&tl[1]);
            tl[0].amount = k.check_in_minutes;
            tl[0].unit = k.check_in_minutes ? WHISTLE__V1__TIME_UNIT__TIME_UNIT_MINUTES : 0;
            tl[1].amount = k.resolve_hours;
            tl[1].unit = k.resolve_hours ? WHISTLE__V1__TIME_UNIT__TIME_UNIT_HOURS : 0;
            pl[0].check_in = &tl[0];
            pl[0].resolve = &tl[1];
            pls[np++] = &pl[0];
        }
        for (size_t i = 0; i < k.n_limits && np < 8; i++)
            pls[np++] = k.limits[i];
        for (size_t i = 0; i < 4; i++) {
            const char *ci = cli_opt(a, pri[i].ci), *rs = cli_opt(a, pri[i].rs);
            if (!ci && !rs)
                continue;
            Whistle__V1__PriorityLimits *e = NULL;
            for (size_t j = 0; j < np; j++)
                if (pls[j]->priority == pri[i].p)
                    e = pls[j];
            Whistle__V1__PriorityLimits *fresh = &pl[i];
            if (e != fresh) {
                whistle__v1__priority_limits__init(fresh);
                fresh->priority = pri[i].p;
                if (e) {
                    fresh->check_in = e->check_in;
                    fresh->resolve = e->resolve;
                    for (size_t j = 0; j < np; j++)
                        if (pls[j] == e)
                            pls[j] = fresh;
                } else {
                    pls[np++] = fresh;
                }
            }
            if (ci) {
                whistle__v1__time_limit__init(&tl[2 * i]);
                if (parse_limit(ci, &tl[2 * i]) < 0)
                    return cli_usage_error(_("admin category put: bad --%s '%s' (30m, 2h, 3d, 4wh, 7wd)"), pri[i].ci,
                                           ci);
                fresh->check_in = &tl[2 * i];
            }
            if (rs) {
                whistle__v1__time_limit__init(&tl[2 * i + 1]);
                if (parse_limit(rs, &tl[2 * i + 1]) < 0)
                    return cli_usage_error(_("admin category put: bad --%s '%s' (30m, 2h, 3d, 4wh, 7wd)"), pri[i].rs,
                                           rs);
                fresh->resolve = &tl[2 * i + 1];
            }
        }
        k.limits = pls;
        k.n_limits = np;
    }
    *kp = k;
    return 0;
}

static void print_category(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    const Whistle__V1__Category *c = resp->category;
    printf("%s  %s  %s\n", c->code, c->name_zh, c->name_en);
    printf("  %s ", _("departments:"));
    for (size_t i = 0; i < c->n_departments; i++)
        printf("%s%s", i ? ", " : "", c->departments[i]);
    printf("%s\n", c->n_departments ? "" : "-");
    for (size_t i = 0; i < c->n_limits; i++) {
        char b1[32], b2[32];
        const Whistle__V1__PriorityLimits *l = c->limits[i];
        char pw[64];
        uitext_fit(pw, sizeof pw, l->priority ? cli_word(whistle_priority_name(l->priority)) : _("default"), 8, true);
        printf(_("  %s check in %s, resolve %s\n"), pw, limit_text(l->check_in, b1, sizeof b1),
               limit_text(l->resolve, b2, sizeof b2));
    }
}

/* ---------------------------------------------------------------- principals */

static void principal_row(cli *x, table *t, const void *item)
{
    const Whistle__V1__Principal *p = item;
    char scopes[1024];
    size_t o = (size_t)snprintf(scopes, sizeof scopes, "%s", p->scope);
    for (size_t i = 0; i < p->n_extra_scopes && o < sizeof scopes; i++)
        o += (size_t)snprintf(scopes + o, sizeof scopes - o, ";%s", p->extra_scopes[i]);
    /* a gateway: whom it acts for */
    for (size_t i = 0; i < p->n_act_for && o < sizeof scopes; i++)
        o += (size_t)snprintf(scopes + o, sizeof scopes - o, "%s%s", i ? ";" : " → ", p->act_for[i]);
    /* Codes, not names: they are what an admin types back. */
    const char *row[] = { p->name, cli_word(whistle_role_name(p->role)), scopes, p->department,
                          p->enabled ? _("enabled") : _("DISABLED") };
    table_add(t, row);
}

static const char *const principal_header[] = { N_("NAME"), N_("ROLE"), N_("SCOPE"), N_("DEPARTMENT"), N_("STATE") };

/* Every page: an admin reads the whole list. */
static const cli_list principals_list = {
    .items = "principals",
    .cursor = "after",
    .next = "next_after",
    .every_page = true,
    .table = { 5, principal_header },
    .row = principal_row,
};

/* A principal a change left: its row of the list. */
static void print_principal(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    cli_list_print(x, &principals_list, (ProtobufCMessage *const *)&resp->principal, 1);
}

static int build_principal_add(cli *x, args *a, void *msg)
{
    Whistle__V1__Principal *p = ((Whistle__V1__AddPrincipal *)msg)->principal;
    if (whistle_role_parse(cli_opt(a, "role"), &p->role) < 0)
        return cli_usage_error(_("admin principal add: bad --role '%s' (admin, operator, department, grid_worker, "
                                 "community, kiosk, integration, sensor, gateway, volunteer, representative)"),
                               cli_opt(a, "role"));
    /* --scope A,B: a worker with several grids; the first is its scope */
    size_t ns;
    char **sl = cli_split(a, cli_opt(a, "scope"), ", ;", SIZE_MAX, &ns);
    if (!sl)
        return EXIT_CONN;
    if (ns == 0)
        return cli_usage_error(_("admin principal add: --scope names no place"));
    p->scope = sl[0];
    p->extra_scopes = sl + 1;
    p->n_extra_scopes = ns - 1;
    const char *af = cli_opt(a, "act-for");
    if (af) {
        size_t n;
        char **names = cli_split(a, af, ", ;", SIZE_MAX, &n);
        if (!names)
            return EXIT_CONN;
        p->act_for = names;
        p->n_act_for = n;
    }
    return 0;
}

/* No principal named: the gateway acts for no one any more. */
static int build_act_for(cli *x, args *a, void *msg)
{
    Whistle__V1__UpdatePrincipal *u = msg;
    if (a->npos == 1)
        u->clear_act_for = 1;
    return 0;
}

static int build_principal_role(cli *x, args *a, void *msg)
{
    if (whistle_role_parse(a->pos[1], &((Whistle__V1__UpdatePrincipal *)msg)->role) < 0)
        return cli_usage_error(_("admin principal role: bad role '%s'"), a->pos[1]);
    return 0;
}

static int build_principal_list(cli *x, args *a, void *msg)
{
    const char *s;
    if ((s = cli_opt(a, "role")) && whistle_role_parse(s, &((Whistle__V1__ListPrincipals *)msg)->role) < 0)
        return cli_usage_error(_("admin principal list: bad --role '%s'"), s);
    return 0;
}

/* ---------------------------------------------------------------- audit */

/* before/after as the records they are, for the types this client knows. */
static json_t *decode_record(const char *type, const ProtobufCBinaryData *b)
{
    static const ProtobufCMessageDescriptor *const known[] = {
        &whistle__v1__node__descriptor,          &whistle__v1__department__descriptor,
        &whistle__v1__category__descriptor,      &whistle__v1__principal__descriptor,
        &whistle__v1__event__descriptor,         &whistle__v1__order__descriptor,
        &whistle__v1__task__descriptor,          &whistle__v1__admission_list__descriptor,
        &whistle__v1__import_result__descriptor,
    };
    if (!b->len)
        return json_null();
    for (size_t i = 0; type && i < sizeof known / sizeof *known; i++) {
        if (strcmp(known[i]->name, type) != 0)
            continue;
        ProtobufCMessage *m = protobuf_c_message_unpack(known[i], NULL, b->len, b->data);
        if (!m)
            break;
        json_t *j = cli_json_message(m);
        protobuf_c_message_free_unpacked(m, NULL);
        return j;
    }
    return NULL; /* keep the hex */
}

/* --json: an entry with its before and after decoded where they can be. */
static json_t *audit_json(const void *item)
{
    const Whistle__V1__AuditEntry *e = item;
    json_t *j = cli_json_message(&e->base);
    json_t *b = decode_record(e->record_type, &e->before), *af = decode_record(e->record_type, &e->after);
    if (b)
        json_object_set_new(j, "before", b);
    if (af)
        json_object_set_new(j, "after", af);
    return j;
}

/* A delta's changed fields, before -> after, for people: "state: 2 -> 4,
 * assignee: "" -> "gw-1"" (values as JSON, long ones cut). */
static const char *changes_text(const Whistle__V1__AuditEntry *e, char *buf, size_t len)
{
    json_t *b = decode_record(e->record_type, &e->before), *a = decode_record(e->record_type, &e->after);
    size_t o = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < e->n_changed && o + 1 < len; i++) {
        const char *name = e->changed[i];
        char *bv = NULL, *av = NULL;
        json_t *bj = json_is_object(b) ? json_object_get(b, name) : NULL;
        json_t *aj = json_is_object(a) ? json_object_get(a, name) : NULL;
        bv = bj ? json_dumps(bj, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        av = aj ? json_dumps(aj, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
        int n;
        if (b || a)
            n = snprintf(buf + o, len - o, "%s%s: %.40s -> %.40s", i ? ", " : "", name, bv ? bv : "-", av ? av : "-");
        else
            n = snprintf(buf + o, len - o, "%s%s", i ? ", " : "", name);
        free(bv);
        free(av);
        if (n < 0)
            break;
        o += (size_t)n < len - o ? (size_t)n : len - o - 1;
    }
    json_decref(b);
    json_decref(a);
    return buf;
}

static void audit_row(cli *x, table *t, const void *item)
{
    const Whistle__V1__AuditEntry *e = item;
    char seq[24], tm[64], last[64], base[600], what[700], buf[500];
    snprintf(seq, sizeof seq, "%" PRIu64, e->seq);
    if (*e->denied)
        snprintf(base, sizeof base, _("DENIED: %s"), e->denied);
    else if (*e->read)
        snprintf(base, sizeof base, _("read: %s"), e->read);
    else if (*e->record_type && e->n_changed)
        snprintf(base, sizeof base, _("change (%s): %s"),
                 e->record_type + (strncmp(e->record_type, "whistle.v1.", 11) ? 0 : 11),
                 changes_text(e, buf, sizeof buf));
    else if (*e->record_type)
        snprintf(base, sizeof base, _("change (%s)"),
                 e->record_type + (strncmp(e->record_type, "whistle.v1.", 11) ? 0 : 11));
    else
        snprintf(base, sizeof base, "-");
    /* An entry that stands for several alike (a flood folded into one):
     * how many, and until when (TIME is the first); first, so that a cut
     * of the last column keeps it. */
    if (e->count > 1)
        snprintf(what, sizeof what, _("×%llu until %s: %s"), (unsigned long long)e->count,
                 cli_local_time(e->last_at_ms ? e->last_at_ms : e->at_ms, true, last, sizeof last), base);
    else
        snprintf(what, sizeof what, "%s", base);
    /* a call a gateway made for the principal: both names */
    char who[160];
    if (*e->via)
        snprintf(who, sizeof who, "%s ← %s", e->principal, e->via);
    else
        snprintf(who, sizeof who, "%s", e->principal);
    const char *row[] = { seq, cli_local_time(e->at_ms, true, tm, sizeof tm), who, e->call, e->target, what };
    table_add(t, row);
}

static const char *const audit_header[] = {
    N_("SEQ"), N_("TIME"), N_("PRINCIPAL"), N_("CALL"), N_("TARGET"), N_("WHAT")
};

static const cli_list audit_list = {
    .items = "entries",
    .cursor = "cursor",
    .next = "next_cursor",
    .json_next = true,
    .more = N_("(more records: use --all)"),
    .table = { 6, audit_header },
    .row = audit_row,
    .json = audit_json,
};

static int build_audit(cli *x, args *a, void *msg)
{
    Whistle__V1__QueryAudit *q = msg;
    const char *s;
    if ((s = cli_opt(a, "from")) && cli_parse_time(s, &q->from_ms) < 0)
        return cli_usage_error(_("admin audit: bad --from '%s' (2026-11-21, \"2026-11-21 14:00\", -2h, -7d)"), s);
    if ((s = cli_opt(a, "to")) && cli_parse_time(s, &q->to_ms) < 0)
        return cli_usage_error(_("admin audit: bad --to '%s' (2026-11-21, \"2026-11-21 14:00\", -2h, -7d)"), s);
    uint64_t lim = 0;
    if ((s = cli_opt(a, "limit")) && (cli_parse_u64(s, UINT64_MAX, &lim) < 0 || lim == 0 || lim > 1000))
        return cli_usage_error(_("admin audit: bad --limit '%s' (1 to 1000)"), s);
    q->limit = (uint32_t)lim;
    q->brief = !x->json;
    /* An administrator looks for what just happened: the newest first. */
    q->newest_first = !cli_flag(a, "oldest-first");
    return 0;
}

static void print_reload(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    printf(ngettext("certificates and CRL reloaded; %u connection checked, %zu closed\n",
                    "certificates and CRL reloaded; %u connections checked, %zu closed\n",
                    resp->reload->connections_checked),
           resp->reload->connections_checked, resp->reload->n_closed);
    for (size_t i = 0; i < resp->reload->n_closed; i++)
        printf(_("  closed: %s\n"), resp->reload->closed[i]);
}

/* ---------------------------------------------------------------- admission lists, tasks */

/* The kinds are the list's own words (a community's, as set): as they are. */
static void print_admission(cli *x, const Whistle__V1__AdmissionList *l)
{
    char t[64], who[256], kinds[2048];
    const char *name = cli_node_name(x, l->community);
    if (name)
        snprintf(who, sizeof who, "%s %s", l->community, name);
    else
        snprintf(who, sizeof who, "%s", l->community);
    size_t o = 0;
    kinds[0] = '\0';
    for (size_t i = 0; i < l->n_kinds && o < sizeof kinds; i++)
        o += (size_t)snprintf(kinds + o, sizeof kinds - o, "%s%s", i ? ", " : "", l->kinds[i]);
    printf(_("%s admits: %s\n"), who, l->n_kinds ? kinds : _("nothing"));
    if (l->updated_ms)
        printf(_("  (set by %s, %s)\n"), l->updated_by, cli_local_time(l->updated_ms, false, t, sizeof t));
}

static void print_admission_result(cli *x, const args *a, const Whistle__V1__Request *req,
                                   const Whistle__V1__Response *resp)
{
    print_admission(x, resp->admission);
}

static int build_admission_set(cli *x, args *a, void *msg)
{
    Whistle__V1__SetAdmissionList *s = msg;
    if (cli_flag(a, "none"))
        s->n_kinds = 0;
    else if (s->n_kinds == 0)
        return cli_usage_error(_("admission set: name the kinds of task admitted (or --none to admit nothing)"));
    return 0;
}

static const char *task_state(const Whistle__V1__Task *t, int64_t now)
{
    if (t->state == WHISTLE__V1__TASK_STATE__TASK_STATE_DONE)
        return C_("task", "done");
    return t->deadline_ms && now > t->deadline_ms ? C_("task", "OVERDUE") : C_("task", "open");
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *const task_header[] = { N_("TASK"),     N_("COMMUNITY"), NC_("task", "KIND"), N_("STATE"),
                                           N_("DEADLINE"), N_("FROM"),      N_("TITLE") };

static void task_row(cli *x, table *tb, const void *item)
{
    const Whistle__V1__Task *t = item;
    char id[24], dl[64];
    snprintf(id, sizeof id, "%" PRIu64, t->id);
    const char *from = *t->department ? cli_or(cli_department_name(x, t->department), t->department) : t->pushed_by;
    const char *row[] = { id,
                          cli_or(cli_node_name(x, t->community), t->community),
                          t->kind,
                          task_state(t, now_ms()),
                          cli_local_time(t->deadline_ms, false, dl, sizeof dl),
                          from,
                          t->title };
    table_add(tb, row);
}

static const cli_list tasks_list = {
    .items = "tasks",
    .cursor = "after_id",
    .next = "next_after_id",
    .more = N_("(more tasks: use --all)"),
    .table = { 7, task_header, { { 1, 16 }, { 5, 20 } } },
    .row = task_row,
};

/* A task a write left: its row of the list. */
static void print_task(cli *x, const args *a, const Whistle__V1__Request *req, const Whistle__V1__Response *resp)
{
    cli_list_print(x, &tasks_list, (ProtobufCMessage *const *)&resp->task, 1);
}

static int build_task_push(cli *x, args *a, void *msg)
{
    if (cli_parse_time(cli_opt(a, "deadline"), &((Whistle__V1__PushTask *)msg)->deadline_ms) < 0)
        return cli_usage_error(_("task push: bad --deadline '%s' (2026-12-01, \"2026-12-01 17:00\", +3d, +4h)"),
                               cli_opt(a, "deadline"));
    return 0;
}

static int build_task_done(cli *x, args *a, void *msg)
{
    Whistle__V1__CompleteTask *ct = msg;
    if (cli_parse_u64(a->pos[0], UINT64_MAX, &ct->task_id) < 0 || ct->task_id == 0)
        return cli_usage_error(_("task done: bad task number '%s'"), a->pos[0]);
    return 0;
}

static int build_task_list(cli *x, args *a, void *msg)
{
    Whistle__V1__ListTasks *l = msg;
    const char *s;
    if ((s = cli_opt(a, "state"))) {
        if (strcmp(s, "open") == 0)
            l->state = WHISTLE__V1__TASK_STATE__TASK_STATE_OPEN;
        else if (strcmp(s, "done") == 0)
            l->state = WHISTLE__V1__TASK_STATE__TASK_STATE_DONE;
        else
            return cli_usage_error(_("task list: bad --state '%s' (open or done)"), s);
    }
    return 0;
}

/* ---------------------------------------------------------------- tables */

static const cmd_opt none[] = { { NULL, NULL, NULL } };
static const cmd_opt import_opts[] = {
    { "table", "T",
      N_("nodes, departments, categories, principals, service_classes or services (CSV: default from the header "
         "row)") },
    { "format", "F", N_("csv or json (default: from the file name)") },
    { "check", NULL, N_("check the file and count what would change; change nothing") },
    { NULL, NULL, NULL },
};
static const cmd_opt backup_opts[] = {
    { "name", "NAME", N_("the file name in the server's store.backup_dir (default: by the time)") },
    { "to", "FILE", N_("stream the backup here instead; FILE must not exist") },
    { NULL, NULL, NULL },
};
static const cmd_opt log_level_opts[] = {
    { "access", NULL, N_("also log every call (at debug)") },
    { NULL, NULL, NULL },
};
static const cmd_opt export_opts[] = {
    { "table", "T",
      N_("nodes, departments, categories, principals, service_classes or services (CSV: default nodes; JSON: "
         "default all)") },
    { "format", "F", N_("csv (default) or json (default with --json)") },
    { "under", "CODE", N_("only this subtree (nodes; principals scoped in it)") },
    { "output", "FILE", N_("write there instead of standard output") },
    { NULL, NULL, NULL },
};
static const cmd_opt node_add_opts[] = {
    { "kind", "K", N_("district, street, community, grid or building") },
    { "parent", "CODE", N_("the parent (default: the code without its last 3 digits)") },
    { "zh", "NAME", N_("the Chinese name") },
    { "en", "NAME", N_("the English name") },
    { NULL, NULL, NULL },
};
static const cmd_opt names_opts[] = {
    { "zh", "NAME", N_("the Chinese name") },
    { "en", "NAME", N_("the English name") },
    { NULL, NULL, NULL },
};
static const cmd_opt move_opts[] = {
    { "to", "CODE", N_("the new parent") },
    { "new-code", "CODE", N_("the code it gets (default: the new parent's + its own last 3 digits)") },
    { NULL, NULL, NULL },
};
static const cmd_opt category_opts[] = {
    { "zh", "NAME", N_("the Chinese name") },
    { "en", "NAME", N_("the English name") },
    { "dept", "A,B", N_("responsible departments, most responsible first (权责清单)") },
    { "check-in", "LIMIT", N_("time to check in after dispatch: 30m, 2h, 1d, 4wh, 1wd") },
    { "resolve", "LIMIT", N_("time to resolve after dispatch") },
    { "check-in-urgent", "LIMIT", N_("the same for urgent cases") },
    { "resolve-urgent", "LIMIT", "" },
    { "check-in-high", "LIMIT", N_("for high priority") },
    { "resolve-high", "LIMIT", "" },
    { "check-in-low", "LIMIT", N_("for low priority") },
    { "resolve-low", "LIMIT", "" },
    { NULL, NULL, NULL },
};
static const cmd_opt principal_add_opts[] = {
    { "role", "R",
      N_("admin, operator, department, grid_worker, community, kiosk, integration, sensor, gateway, bridge, "
         "volunteer, representative") },
    { "scope", "CODE", N_("the place whose subtree it reaches (A,B: several, a worker with several grids)") },
    { "dept", "D", N_("for a department principal: its department") },
    { "act-for", "NAMES", N_("for a gateway: the principals it may act for (A,B)") },
    { NULL, NULL, NULL },
};
static const cmd_opt principal_role_opts[] = { { "dept", "D", N_("the department (role department)") },
                                               { NULL, NULL, NULL } };
static const cmd_opt principal_list_opts[] = {
    { "role", "R", N_("only this role") },
    { "under", "CODE", N_("only principals whose scope is in this subtree") },
    { NULL, NULL, NULL },
};
static const cmd_opt audit_opts[] = {
    { "principal", "NAME", N_("only what this principal did") },
    { "via", "GATEWAY", N_("only what this gateway did for others") },
    { "target", "T", N_("only this target (a ticket, a code, order:7, task:3...; a trailing * for a prefix)") },
    { "from", "TIME", N_("from this time (2026-11-21, \"2026-11-21 14:00\", -2h, -7d)") },
    { "to", "TIME", N_("up to this time") },
    { "oldest-first", NULL, N_("the oldest records first (default: the newest first)") },
    { "limit", "N", N_("page size (default 100, at most 1000)") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt admission_set_opts[] = { { "none", NULL, N_("admit nothing") }, { NULL, NULL, NULL } };
static const cmd_opt task_push_opts[] = {
    { "kind", "K", N_("the kind of task; must be on the community's admission list") },
    { "title", "TEXT", N_("what is asked, in a line") },
    { "description", "TEXT", N_("more detail") },
    { "deadline", "TIME", N_("when it is due (2026-12-01, \"2026-12-01 17:00\", +3d, +4h)") },
    { NULL, NULL, NULL },
};
static const cmd_opt task_list_opts[] = {
    { "community", "CODE", N_("only this community's tasks") },
    { "state", "S", N_("open or done") },
    { "all", NULL, N_("follow the pages to the end") },
    { NULL, NULL, NULL },
};
static const cmd_opt note_opts[] = { { "note", "TEXT", N_("what was done") }, { NULL, NULL, NULL } };

static const cmd admin_cmds[] = {
    { "admin import", "FILE [--table T] [--format csv|json] [--check]",
      N_("Import places, departments, categories, principals or the service catalogue from a CSV or JSON file.\n"
         "FILE - reads standard input. The whole file is checked first: every bad line is reported, and a\n"
         "file with one changes nothing. Records already there are updated; the file's columns decide what\n"
         "(docs/administration.md)."),
      import_opts, 1, 1, .run = run_import },
    { "admin export", "[--table T] [--format csv|json] [--under CODE] [--output FILE]",
      N_("Export the directory in the import's format."), export_opts, 0, 0, .run = run_export },
    { "admin node add", "CODE --kind K [--parent CODE] --zh NAME [--en NAME]", N_("Add a place."), node_add_opts, 1, 1,
      .call = CALL(ADD_NODE),
      .bind = BINDS(B_NEED("kind", NULL), B_POS(0, "node.code"), B_OPT("parent", "node.parent"),
                    B_OPT("zh", "node.name_zh"), B_OPT("en", "node.name_en")),
      .build = build_node_add, .result = RESULT(NODE), .print = print_node_result },
    { "admin node rename", "CODE [--zh NAME] [--en NAME]", N_("Rename a place."), names_opts, 1, 1,
      .call = CALL(UPDATE_NODE), .bind = BINDS(B_POS(0, "code"), B_OPT("zh", "name_zh"), B_OPT("en", "name_en")),
      .build = build_node_rename, .result = RESULT(NODE), .print = print_node_result },
    { "admin node retire", "CODE",
      N_("Retire a place and everything below it: it keeps its cases and takes no new ones."), none, 1, 1,
      .call = CALL(UPDATE_NODE), .bind = BINDS(B_POS(0, "code"), B_SET("retire")), .result = RESULT(NODE),
      .print = print_node_result },
    { "admin node reinstate", "CODE", N_("Bring a retired place back (its parent must be live)."), none, 1, 1,
      .call = CALL(UPDATE_NODE), .bind = BINDS(B_POS(0, "code"), B_SET("reinstate")), .result = RESULT(NODE),
      .print = print_node_result },
    { "admin node move", "CODE --to PARENT [--new-code CODE]",
      N_("Move a place under another parent.\n"
         "It and its subtree get new codes; the old ones are retired with their successor named, and keep\n"
         "their history."),
      move_opts, 1, 1, .call = CALL(MOVE_NODE),
      .bind = BINDS(B_NEED("to", "new_parent"), B_POS(0, "code"), B_OPT("new-code", "new_code")),
      .result = RESULT(MOVED), .print = print_moved },
    { "admin dept put", "CODE [--zh NAME] [--en NAME]", N_("Add a department, or rename one."), names_opts, 1, 1,
      .call = CALL(PUT_DEPARTMENT), .bind = BINDS(B_POS(0, "department.code")), .build = build_dept_put,
      .result = RESULT(DEPARTMENT), .print = print_department },
    { "admin category put", "CODE [--zh NAME] [--en NAME] [--dept A,B] [--check-in LIMIT] [--resolve LIMIT] ...",
      N_("Add a category, or change what is given of one.\n"
         "Limits: 30m, 2h, 3d, 4wh (working hours), 7wd (working days); per priority with\n"
         "--check-in-urgent and the like."),
      category_opts, 1, 1, .call = CALL(PUT_CATEGORY), .build = build_category_put, .result = RESULT(CATEGORY),
      .print = print_category },
    { "admin principal add", "NAME --role R --scope CODE [--dept D] [--act-for A,B]",
      N_("Add a principal: NAME is the subject CN of its client certificate."), principal_add_opts, 1, 1,
      .call = CALL(ADD_PRINCIPAL),
      .bind = BINDS(B_NEED("role", NULL), B_NEED("scope", NULL), B_POS(0, "principal.name"),
                    B_OPT("dept", "principal.department")),
      .build = build_principal_add, .result = RESULT(PRINCIPAL), .print = print_principal },
    { "admin principal list", "[--role R] [--under CODE]", N_("List principals."), principal_list_opts, 0, 0,
      .call = CALL(LIST_PRINCIPALS), .bind = BINDS(B_OPT("under", "under")), .build = build_principal_list,
      .result = RESULT(PRINCIPALS), .list = &principals_list },
    { "admin principal disable", "NAME",
      N_("Disable a principal: refused at its next request, even on a connection already open."), none, 1, 1,
      .call = CALL(UPDATE_PRINCIPAL), .bind = BINDS(B_POS(0, "name"), B_SET("disable")), .result = RESULT(PRINCIPAL),
      .print = print_principal },
    { "admin principal enable", "NAME", N_("Enable a principal again."), none, 1, 1, .call = CALL(UPDATE_PRINCIPAL),
      .bind = BINDS(B_POS(0, "name"), B_SET("enable")), .result = RESULT(PRINCIPAL), .print = print_principal },
    { "admin principal scope", "NAME CODE [CODE...]",
      N_("Change the places a principal reaches (several: a grid worker with several grids)."), none, 2, -1,
      .call = CALL(UPDATE_PRINCIPAL), .bind = BINDS(B_POS(0, "name"), B_REST(1, "scopes")), .result = RESULT(PRINCIPAL),
      .print = print_principal },
    { "admin principal act-for", "NAME [PRINCIPAL...]",
      N_("Set the principals a gateway may act for (replaces the list; none: it acts for no one).\n"
         "Never an admin or another gateway. Its calls for them are audited naming both."),
      none, 1, -1, .call = CALL(UPDATE_PRINCIPAL), .bind = BINDS(B_POS(0, "name"), B_REST(1, "act_for")),
      .build = build_act_for, .result = RESULT(PRINCIPAL), .print = print_principal },
    { "admin principal role", "NAME ROLE [--dept D]", N_("Change a principal's role."), principal_role_opts, 2, 2,
      .call = CALL(UPDATE_PRINCIPAL), .bind = BINDS(B_POS(0, "name"), B_OPT("dept", "department")),
      .build = build_principal_role, .result = RESULT(PRINCIPAL), .print = print_principal },
    { "admin audit",
      "[--principal NAME] [--target T] [--via GATEWAY] [--from TIME] [--to TIME] [--oldest-first] [--limit N] [--all]",
      N_("Read the audit log, the newest first: every change, every refused call, every read of personal data "
         "(×N: N alike, folded into one)."),
      audit_opts, 0, 0, .call = CALL(QUERY_AUDIT),
      .bind = BINDS(B_OPT("principal", "principal"), B_OPT("target", "target"), B_OPT("via", "via")),
      .build = build_audit, .result = RESULT(AUDIT), .list = &audit_list },
    { "admin crl reload", "",
      N_("Reload the server's certificates and CRL, as SIGHUP does.\n"
         "Open connections whose certificate is now revoked are closed."),
      none, 0, 0, .call = CALL(RELOAD_CRL), .result = RESULT(RELOAD), .print = print_reload },
    { "admin backup", "[--name NAME | --to FILE]",
      N_("Back up the store while the server serves: a compacted copy, on the server or streamed here."), backup_opts,
      0, 0, .run = run_backup },
    { "admin log-level", "[error|warn|info|debug] [--access]",
      N_("Show the server's log level, or set it until the next restart or SIGHUP."), log_level_opts, 0, 1,
      .call = CALL(SET_LOG_LEVEL), .bind = BINDS(B_POS(0, "level"), B_FLAG("access", "access_log")),
      .result = RESULT(LOG_LEVEL), .print = print_log_level },
    { "admission show", "COMMUNITY", N_("Show a community's task admission list (准入清单)."), none, 1, 1,
      .call = CALL(GET_ADMISSION_LIST), .bind = BINDS(B_POS(0, "community")), .result = RESULT(ADMISSION),
      .print = print_admission_result },
    { "admission set", "COMMUNITY KIND... | --none",
      N_("Set the kinds of task a community may be given (replaces the list)."), admission_set_opts, 1, -1,
      .call = CALL(SET_ADMISSION_LIST), .bind = BINDS(B_POS(0, "community"), B_REST(1, "kinds")),
      .build = build_admission_set, .result = RESULT(ADMISSION), .print = print_admission_result },
    { "task push", "COMMUNITY --kind K --title TEXT --deadline TIME [--description TEXT]",
      N_("Push a task to a community; refused unless its kind is on the community's admission list."), task_push_opts,
      1, 1, .call = CALL(PUSH_TASK),
      .bind = BINDS(B_NEED("kind", "kind"), B_NEED("title", "title"), B_NEED("deadline", NULL), B_POS(0, "community"),
                    B_OPT("description", "description")),
      .build = build_task_push, .result = RESULT(TASK), .print = print_task },
    { "task list", "[--community CODE] [--state open|done] [--all]",
      N_("List tasks: a community its own, a department those it pushed, an operator its street's."), task_list_opts, 0,
      0, .call = CALL(LIST_TASKS), .bind = BINDS(B_OPT("community", "community")), .build = build_task_list,
      .result = RESULT(TASKS), .list = &tasks_list },
    { "task done", "TASK [--note TEXT]", N_("Complete a task (the community that has it)."), note_opts, 1, 1,
      .call = CALL(COMPLETE_TASK), .bind = BINDS(B_OPT("note", "note")), .build = build_task_done,
      .result = RESULT(TASK), .print = print_task },
    { .name = NULL },
};

/* The subcommands of every group: these, the archive's (archive.c),
 * deliberation's (deliberation.c) and the volunteers' (volunteers.c). */
static const cmd *const group_tables[] = {
    admin_cmds, cli_archive_subcommands, cli_delib_subcommands, cli_volunteer_subcommands, cli_photo_subcommands, NULL
};

/* Prints the subcommands of a group ("admin", "admin node"...). */
void cli_group_help(const char *group, FILE *out)
{
    char line[160];
    snprintf(line, sizeof line, "whistle %s SUBCOMMAND [args]", group);
    fprintf(out, _("usage: %s\n"), line);
    fprintf(out, "\n%s\n", _("Subcommands:"));
    size_t gl = strlen(group);
    for (const cmd *const *t = group_tables; *t; t++)
        for (const cmd *c = *t; c->name; c++)
            if (strncmp(c->name, group, gl) == 0 && c->name[gl] == ' ') {
                const char *summary = _(c->summary), *nl = strchr(summary, '\n');
                fprintf(out, "  %-26s %.*s\n", c->name + gl + 1, nl ? (int)(nl - summary) : (int)strlen(summary),
                        summary);
            }
    fprintf(out, "\n");
    fprintf(out, _("`whistle %s SUBCOMMAND --help` for one of them.\n"), group);
}

/* argv[0] is the group ("admin", "admission", "task"); the words after it
 * name the subcommand, longest match first ("admin node add"). */
int cli_group_main(cli *x, int argc, char **argv)
{
    char name[96];
    snprintf(name, sizeof name, "%.40s", argv[0]);
    int used = 1;
    const cmd *found = NULL;
    while (used < argc && argv[used][0] != '-' && !found) {
        char longer[96];
        if ((size_t)snprintf(longer, sizeof longer, "%s %.40s", name, argv[used]) >= sizeof longer)
            break;
        bool prefix = false;
        for (const cmd *const *t = group_tables; *t; t++)
            for (const cmd *c = *t; c->name; c++) {
                if (strcmp(c->name, longer) == 0)
                    found = c;
                else if (strncmp(c->name, longer, strlen(longer)) == 0 && c->name[strlen(longer)] == ' ')
                    prefix = true;
            }
        if (!found && !prefix)
            break;
        snprintf(name, sizeof name, "%s", longer);
        used++;
    }
    if (!found) {
        bool help = used < argc && (strcmp(argv[used], "--help") == 0 || strcmp(argv[used], "-h") == 0);
        if (help || used == argc) {
            cli_group_help(name, help ? stdout : stderr);
            return help ? EXIT_OK : EXIT_USAGE;
        }
        cli_usage_error(_("no command 'whistle %s %s' (see whistle %s --help)"), name, argv[used], name);
        return EXIT_USAGE;
    }
    return cli_run(x, found, argc - used + 1, argv + used - 1);
}
