/* Crash consistency (DESIGN.md §2): nothing acknowledged is ever lost, not
 * to kill -9 at a random moment under load, not to SIGTERM, and the store
 * stays consistent index by index. crashcheck (crashcheck.c) does the
 * work; these tests run it with the fixture PKI and require exit 0.
 * scripts/crash-soak.sh runs it for 1,000+ cycles by hand. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "harness.h"

#ifndef CRASHCHECK_BIN
#error "CRASHCHECK_BIN must be defined by the build"
#endif

TestSuite(crash, .timeout = 600);

/* Runs crashcheck with args; asserts exit 0 and that its summary says OK.
 * Its output goes to the test's output (ctest shows it on failure). */
static void crashcheck(const char *args)
{
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "%s --whistled %s --pki %s --seed %s/conf/demo-city.json %s 2>&1", CRASHCHECK_BIN,
             WHISTLED_BIN, harness_pki(), WHISTLE_SOURCE_DIR, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot run %s", cmd);
    char line[4096];
    bool ok = false;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stderr);
        ok |= strncmp(line, "crashcheck: OK:", 15) == 0;
    }
    int st = pclose(p);
    cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "crashcheck failed (status 0x%x); its output is above", st);
    cr_assert(ok, "crashcheck exited 0 without its OK line");
}

/* 50 times: load, kill -9 at a random moment, whistled --check on what
 * was left, restart, every acknowledged write read back exactly, every
 * lost answer retried with its idempotency key. */
Test(crash, kill9_under_load_loses_no_acknowledged_write) { crashcheck("--cycles 50 --min-ms 20 --max-ms 300"); }

/* SIGTERM under load: the batch in flight is committed and answered, the
 * daemon exits 0, and nothing acknowledged is lost. */
Test(crash, sigterm_under_load_answers_the_batch_and_exits_0)
{
    crashcheck("--cycles 8 --term-every 1 --min-ms 50 --max-ms 300");
}

/* With store.sync = none whistled does not flush at all; a crash of the
 * process alone still loses nothing (the page cache holds every commit),
 * as docs/operations.md says. */
Test(crash, kill9_with_sync_none_loses_nothing) { crashcheck("--cycles 10 --sync none --min-ms 20 --max-ms 300"); }
