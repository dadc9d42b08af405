/* log.c: see log.h. */
#include "log.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#ifdef HAVE_SYSTEMD
#define SD_JOURNAL_SUPPRESS_LOCATION
#include <systemd/sd-journal.h>
#endif

static atomic_int level = LOG_LVL_INFO;
static atomic_bool access_log = false;
static const char *names[] = { "error", "warn", "info", "debug" };

void log_set_level(int l) { atomic_store(&level, l); }
int log_get_level(void) { return atomic_load(&level); }
void log_set_access(bool on) { atomic_store(&access_log, on); }
bool log_access_on(void) { return atomic_load(&access_log); }

int log_level_parse(const char *s)
{
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

const char *log_level_name(int l) { return l >= 0 && l < 4 ? names[l] : "?"; }

/* Whether stderr is the journal's stream: JOURNAL_STREAM holds its
 * device:inode (systemd.exec(5)); a child whose stderr was redirected
 * elsewhere keeps the variable but not the stream. Decided once. */
static int journal_stream(void)
{
    static atomic_int known = -1;
    int k = atomic_load(&known);
    if (k >= 0)
        return k;
    k = 0;
    const char *js = getenv("JOURNAL_STREAM");
    struct stat st;
    unsigned long long dev, ino;
    if (js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 && fstat(2, &st) == 0 && (unsigned long long)st.st_dev == dev &&
        (unsigned long long)st.st_ino == ino)
        k = 1;
    atomic_store(&known, k);
    return k;
}

static void emit(int l, const char *call, const char *principal, const char *ticket, const char *line)
{
    static const int prio[] = { 3, 4, 6, 7 };
    if (journal_stream()) {
#ifdef HAVE_SYSTEMD
        if (sd_journal_send("MESSAGE=%s", line, "PRIORITY=%d", prio[l], "SYSLOG_IDENTIFIER=whistled", "WHISTLE_CALL=%s",
                            call ? call : "", "WHISTLE_PRINCIPAL=%s", principal ? principal : "", "WHISTLE_TICKET=%s",
                            ticket ? ticket : "", NULL) == 0)
            return;
#endif
        /* no libsystemd, or the journal socket is gone: the stream keeps
         * the level through the <N> prefix */
        fprintf(stderr, "<%d>%s\n", prio[l], line);
        return;
    }
    fprintf(stderr, "whistled: %s: %s\n", names[l], line);
}

void log_msg(int l, const char *fmt, ...)
{
    if (l > atomic_load(&level))
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    emit(l, NULL, NULL, NULL, line);
}

void log_call(int l, const char *call, const char *principal, const char *ticket, const char *fmt, ...)
{
    if (l > atomic_load(&level))
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    emit(l, call, principal, ticket, line);
}

void log_oom(const char *what)
{
    log_error("out of memory (%s); stopping", what);
    abort();
}
