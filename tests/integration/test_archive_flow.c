/* The resident archive as its users meet it (docs/archive.md), with the
 * `whistle` CLI against a real daemon with a key file: a grid worker
 * imports the grid's households (a bad file first), sees whose visit is
 * due, records a visit and turns a need into a case; the community sees
 * the grid's overdue visit; the kiosk is refused the archive and reads the
 * community's echo board; the reads are in the audit log with their
 * reasons; and the store file, read byte by byte after the daemon stops,
 * holds no ID-card number or phone in clear. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#include "harness.h"

static daemon_h d;
static char keydir[64];

static void setup(void)
{
    strcpy(keydir, "/tmp/whistle-arckey-XXXXXX");
    cr_assert(mkdtemp(keydir));
    char path[128], conf[256];
    snprintf(path, sizeof path, "%s/archive.key", keydir);
    FILE *f = fopen(path, "w");
    cr_assert(f);
    fprintf(f, "index %s\n1 %s\n", "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
            "fedcba9876543210fedcba9876543210fedcba9876543210fedcba9876543210");
    fclose(f);
    chmod(path, 0600);
    snprintf(conf, sizeof conf, "[archive]\nkey_file = %s\n", path);
    harness_start(&d, conf);
    char port[16];
    snprintf(port, sizeof port, "%d", d.port);
    setenv("WHISTLE_PORT", port, 1);
    setenv("WHISTLE_PKI", harness_pki(), 1);
    setenv("WHISTLE_HOST", "127.0.0.1", 1);
    setenv("WHISTLE_CONFIG", "/dev/null", 1);
    unsetenv("WHISTLE_AS");
}
static void teardown(void)
{
    harness_cleanup(&d);
    char path[128];
    snprintf(path, sizeof path, "%s/archive.key", keydir);
    unlink(path);
    rmdir(keydir);
}
TestSuite(archive_flow, .init = setup, .fini = teardown, .timeout = 120);

/* Runs `whistle ARGS`; the exit status, stdout and stderr (malloc'd). */
static int run(char **out, char **err, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int run(char **out, char **err, const char *fmt, ...)
{
    char args[2048], cmd[4096], errfile[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(args, sizeof args, fmt, ap);
    va_end(ap);
    snprintf(errfile, sizeof errfile, "%s/cli.err", d.dir);
    snprintf(cmd, sizeof cmd, "%s %s 2>%s", WHISTLE_CLI_BIN, args, errfile);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    size_t cap = 4096, n = 0, k;
    char *buf = malloc(cap);
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (cap - n < 2)
            buf = realloc(buf, cap *= 2);
    }
    buf[n] = '\0';
    int st = pclose(p);
    *out = buf;
    FILE *e = fopen(errfile, "r");
    char *ebuf = calloc(1, 8192);
    if (e) {
        ebuf[fread(ebuf, 1, 8191, e)] = '\0';
        fclose(e);
    }
    if (err)
        *err = ebuf;
    else
        free(ebuf);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool file_has(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    cr_assert_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    bool has = memmem(b, (size_t)n, needle, strlen(needle)) != NULL;
    free(b);
    return has;
}

#define GRID "110105001001001"
/* made-up people; the numbers carry valid GB 11643 check digits */
#define ID_ALONE "11010519380512004X"
#define ID_HEAD "110105197002030014"
#define PHONE_ALONE "13911112222"
#define PHONE_HEAD "13833334444"

Test(archive_flow, a_grid_worker_imports_visits_and_opens_a_case_and_nothing_leaks)
{
    char *out, *err;
    char csv[320], bad[320];
    snprintf(csv, sizeof csv, "%s/grid.csv", d.dir);
    snprintf(bad, sizeof bad, "%s/bad.csv", d.dir);
    time_t then = time(NULL) - 20 * 86400;
    char last[16];
    strftime(last, sizeof last, "%Y-%m-%d", gmtime(&then));

    /* a bad file: every bad line named, nothing changed */
    FILE *f = fopen(bad, "w");
    fprintf(f,
            "网格,楼栋,单元,房号,姓名,身份证号,联系电话,标签\n"
            "%s,3号楼,1单元,201,赵老太,%s,%s,alone\n"
            "%s,3号楼,1单元,202,钱先生,110105197002030017,%s,\n"
            "%s,3号楼,1单元,203,孙女士,,1390000,\n",
            GRID, ID_ALONE, PHONE_ALONE, GRID, PHONE_HEAD, GRID);
    fclose(f);
    int rc = run(&out, &err, "--as gridworker archive import %s --node %s", bad, GRID);
    cr_assert_eq(rc, 1, "a bad file: exit 1, got %d: %s", rc, err);
    cr_assert(strstr(err, "line 3") && strstr(err, "check digit") && strstr(err, "line 4") && strstr(err, "phone"),
              "%s", err);
    cr_assert_null(strstr(err, "line 2:"), "%s", err);
    free(out);
    free(err);
    rc = run(&out, NULL, "--as gridworker -q archive list");
    cr_assert_eq(rc, 0);
    cr_assert_str_eq(out, "", "the bad file changed something: %s", out);
    free(out);

    f = fopen(csv, "w");
    fprintf(f,
            "grid,building,unit,room,name,id_number,phone,tags,last_visit\n"
            "%s,3号楼,1单元,201,赵老太,%s,%s,alone,%s\n"
            "%s,3号楼,1单元,202,钱先生,%s,%s,,\n",
            GRID, ID_ALONE, PHONE_ALONE, last, GRID, ID_HEAD, PHONE_HEAD);
    fclose(f);
    rc = run(&out, &err, "--as gridworker archive import %s --node %s", csv, GRID);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "2 households added, 2 residents added"), "%s", out);
    free(out);
    free(err);

    /* whose visit is due: the elderly woman living alone, overdue; the
     * community sees it too */
    rc = run(&out, &err, "--as gridworker visit due");
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "3号楼 1单元 201") && strstr(out, "OVERDUE"), "%s", out);
    cr_assert_null(strstr(out, "1单元 202"), "a household without a care tag has no rhythm: %s", out);
    free(out);
    free(err);
    rc = run(&out, &err, "--as community visit due");
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "OVERDUE"), "%s", out);
    free(out);
    free(err);
    rc = run(&out, NULL, "--as gridworker -q visit due");
    cr_assert_eq(rc, 0);
    char hh[24];
    snprintf(hh, sizeof hh, "%s", out);
    hh[strcspn(hh, "\n")] = 0;
    free(out);

    /* the household, masked; a reason is required */
    rc = run(&out, &err, "--as gridworker archive show %s", hh);
    cr_assert_eq(rc, 2, "no --reason: a usage error");
    free(out);
    free(err);
    rc = run(&out, &err, "--as gridworker archive show %s --reason 'before the visit'", hh);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "赵老太") && strstr(out, "139****2222"), "%s", out);
    cr_assert_null(strstr(out, ID_ALONE), "the ID number is in clear: %s", out);
    cr_assert_null(strstr(out, PHONE_ALONE), "the phone is in clear: %s", out);
    free(out);
    free(err);

    /* the visit, and its need as a case in one step */
    rc = run(&out, &err,
             "--as gridworker visit add %s --kind companionship --notes 精神尚好 --follow-up 楼道灯坏了 "
             "--case 0101",
             hh);
    cr_assert_eq(rc, 0, "%s", err);
    char *t = strstr(out, "case E");
    cr_assert(t, "%s", out);
    char ticket[16];
    snprintf(ticket, sizeof ticket, "%.14s", t + 5);
    free(out);
    free(err);
    rc = run(&out, &err, "--as operator show %s", ticket);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "楼道灯坏了"), "%s", out);
    free(out);
    free(err);
    rc = run(&out, &err, "--as gridworker visit due");
    cr_assert_eq(rc, 0);
    cr_assert_null(strstr(out, "OVERDUE"), "the visit ended the overdue: %s", out);
    free(out);
    free(err);

    /* the kiosk: no archive; the community's board */
    rc = run(&out, &err, "--as kiosk archive list");
    cr_assert_eq(rc, 1);
    cr_assert(strstr(err, "PERMISSION_DENIED"), "%s", err);
    free(out);
    free(err);
    rc = run(&out, &err, "--as community board post 110105001001 --title 周六义诊 --body '周六上午社区卫生站义诊'");
    cr_assert_eq(rc, 0, "%s", err);
    free(out);
    free(err);
    rc = run(&out, &err, "--as kiosk board list");
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "周六义诊"), "%s", out);
    free(out);
    free(err);

    /* the read is audited with its reason */
    rc = run(&out, &err, "--as admin --json admin audit --target household:%s", hh);
    cr_assert_eq(rc, 0, "%s", err);
    cr_assert(strstr(out, "before the visit") && strstr(out, "gridworker"), "%s", out);
    free(out);
    free(err);

    /* the store file holds no number in clear; the checker accepts the
     * visit's deadline rows */
    harness_stop(&d);
    char path[320];
    snprintf(path, sizeof path, "%s/state/data.mdb", d.dir);
    cr_assert(file_has(path, "赵老太"), "names are in the file (by design): the search works");
    cr_assert_not(file_has(path, ID_ALONE), "an ID-card number is in the store file in clear");
    cr_assert_not(file_has(path, ID_HEAD), "an ID-card number is in the store file in clear");
    cr_assert_not(file_has(path, PHONE_ALONE), "a phone is in the store file in clear");
    cr_assert_not(file_has(path, PHONE_HEAD), "a phone is in the store file in clear");
    char chk[4096];
    cr_assert_eq(harness_check_store(&d, chk, sizeof chk), 0, "%s", chk);
}
