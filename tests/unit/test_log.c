/* log.c: plain lines on stderr unless stderr is the journal's stream
 * (JOURNAL_STREAM names its device and inode, as systemd sets it); a
 * process whose stderr was redirected keeps the variable but not the
 * stream, and logs plain lines; the level filters, and changes at run
 * time. Each test runs in its own process (the decision is made once). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

static char path[64];

/* stderr to a temp file; returns its fd's stat */
static void capture(struct stat *st)
{
    snprintf(path, sizeof path, "/tmp/whistle-log-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    fflush(stderr);
    cr_assert(dup2(fd, 2) == 2);
    close(fd);
    cr_assert_eq(fstat(2, st), 0);
}

static char *captured(void)
{
    fflush(stderr);
    FILE *f = fopen(path, "r");
    cr_assert(f);
    static char buf[4096];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    unlink(path);
    return buf;
}

Test(log, plain_lines_without_the_journal)
{
    struct stat st;
    unsetenv("JOURNAL_STREAM");
    capture(&st);
    log_set_level(LOG_LVL_INFO);
    log_info("started %d", 1);
    log_debug("not shown");
    log_call(LOG_LVL_WARN, "backup", "admin", NULL, "backup by %s", "admin");
    char *out = captured();
    cr_expect(strstr(out, "whistled: info: started 1\n"), "%s", out);
    cr_expect(strstr(out, "whistled: warn: backup by admin\n"), "%s", out);
    cr_expect(!strstr(out, "not shown"), "debug is below info");
}

Test(log, a_redirected_stderr_is_not_the_journal)
{
    struct stat st;
    capture(&st);
    /* the journal's stream is some other file: as in a child whose stderr
     * was redirected */
    char js[64];
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino + 1);
    setenv("JOURNAL_STREAM", js, 1);
    log_set_level(LOG_LVL_DEBUG);
    log_debug("shown");
    char *out = captured();
    cr_expect(strstr(out, "whistled: debug: shown\n"), "%s", out);
}

Test(log, level_changes_at_run_time)
{
    struct stat st;
    unsetenv("JOURNAL_STREAM");
    capture(&st);
    log_set_level(LOG_LVL_WARN);
    log_info("hidden");
    log_set_level(LOG_LVL_DEBUG);
    log_set_access(true);
    cr_expect(log_access_on());
    log_info("visible");
    cr_expect_str_eq(log_level_name(log_get_level()), "debug");
    cr_expect_eq(log_level_parse("warn"), LOG_LVL_WARN);
    cr_expect_eq(log_level_parse("loud"), -1);
    char *out = captured();
    cr_expect(!strstr(out, "hidden"), "%s", out);
    cr_expect(strstr(out, "visible"), "%s", out);
}

Test(log, the_journal_gets_no_plain_lines)
{
    struct stat st;
    capture(&st);
    char js[64];
    snprintf(js, sizeof js, "%llu:%llu", (unsigned long long)st.st_dev, (unsigned long long)st.st_ino);
    setenv("JOURNAL_STREAM", js, 1);
    log_set_level(LOG_LVL_INFO);
    log_call(LOG_LVL_INFO, "get", "operator", "202612030001", "to the journal");
    char *out = captured();
    /* sd_journal_send took it (journald runs), or, without a journal
     * socket, the stream got it with its priority prefix: never as a
     * plain line, which would lose the level */
    cr_expect(!strstr(out, "whistled: info:"), "%s", out);
    cr_expect(!*out || strstr(out, "<6>to the journal\n"), "%s", out);
}
