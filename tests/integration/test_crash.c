/* Crash consistency (DESIGN.md §2): nothing acknowledged is ever lost, not
 * to kill -9 at a random moment under load, not to SIGTERM, not to a power
 * cut after either, and the store stays consistent index by index.
 * crashcheck (crashcheck.c) does the work, with tests/powerloss for the
 * power cuts; these tests run it with the fixture PKI and require exit 0
 * (one requires it to fail). scripts/crash-soak.sh and
 * scripts/powerloss-soak.sh run it for 1,000+ cycles by hand. */
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

/* Runs crashcheck with args; its exit status, and whether it printed its
 * OK line and a LOST line. Its output goes to the test's output (ctest
 * shows it on failure). */
static int crashcheck_run(const char *args, bool *ok, bool *lost, char *kept, size_t keptlen)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "%s --whistled %s --pki %s --seed %s/conf/demo-city.json %s 2>&1", CRASHCHECK_BIN,
             WHISTLED_BIN, harness_pki(), WHISTLE_SOURCE_DIR, args);
    FILE *p = popen(cmd, "r");
    cr_assert(p, "cannot run %s", cmd);
    char line[4096];
    *ok = *lost = false;
    if (kept)
        kept[0] = 0;
    while (fgets(line, sizeof line, p)) {
        fputs(line, stderr);
        char dir[1024];
        if (kept && sscanf(line, "crashcheck: work directory kept: %1023s", dir) == 1)
            snprintf(kept, keptlen, "%s", dir);
        *ok |= strncmp(line, "crashcheck: OK:", 15) == 0;
        *lost |= strncmp(line, "crashcheck: LOST:", 17) == 0;
    }
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* Runs crashcheck with args; asserts exit 0 and that its summary says OK. */
static void crashcheck(const char *args)
{
    bool ok, lost;
    int rc = crashcheck_run(args, &ok, &lost, NULL, 0);
    cr_assert_eq(rc, 0, "crashcheck failed (exit %d); its output is above", rc);
    cr_assert(ok, "crashcheck exited 0 without its OK line");
}

/* The options that cut the power after each kill (tests/powerloss): the
 * daemon under plshim.so, behind the ASan runtime when it has one. */
static const char *power_loss_args(void)
{
    static char args[2048];
    snprintf(args, sizeof args, "--power-loss %s%s%s --restore %s", WHISTLE_ASAN_RUNTIME,
             WHISTLE_ASAN_RUNTIME[0] ? ":" : "", PLSHIM_SO, PLRESTORE_BIN);
    return args;
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

/* Power loss (docs/reliability.md): 16 times, load, then kill -9 at a
 * random moment (every 4th a SIGTERM) and a power cut: every change to
 * the store that no flush covered is taken away (on odd cycles each
 * unflushed page survives with a chance of one in two, as if written back
 * on its own), whistled --check on what is left, restart, every
 * acknowledged write read back, every lost answer retried with its key.
 * The last read-back is by a whistled without the shim. */
Test(crash, power_cut_under_load_loses_no_acknowledged_write)
{
    char args[3072];
    snprintf(args, sizeof args, "--cycles 16 --term-every 4 --min-ms 20 --max-ms 300 --keep-chance 50 %s",
             power_loss_args());
    crashcheck(args);
}

/* The power-loss test can fail: with store.sync = nometasync whistled
 * answers a batch once its data is flushed but before its meta page is,
 * which a kill -9 cannot tell from full durability (the kill9 tests pass
 * with it) but a power cut can. crashcheck must report an acknowledged
 * write lost, within a few cycles (it stops at the first). */
Test(crash, power_cut_finds_answers_sent_before_the_flush)
{
    char args[3072];
    snprintf(args, sizeof args, "--cycles 8 --sync nometasync --min-ms 50 --max-ms 300 %s", power_loss_args());
    bool ok, lost;
    char kept[1024];
    int rc = crashcheck_run(args, &ok, &lost, kept, sizeof kept);
    /* the failure was expected: its work directory goes */
    if (rc == 1 && lost && strncmp(kept, "/tmp/whistle-crash-", 19) == 0 && !strchr(kept, '\'')) {
        char cmd[1200];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", kept);
        cr_assert_eq(system(cmd), 0, "cannot remove %s", kept);
    }
    cr_assert(rc == 1 && lost && !ok,
              "crashcheck with store.sync = nometasync and power cuts was to lose an acknowledged write and say so "
              "(exit %d, LOST line %s): the power-loss test would not catch an answer sent before its flush",
              rc, lost ? "printed" : "missing");
}
