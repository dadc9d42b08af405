/* log.c: see log.h. The level is the one piece of process-wide state
 * outside main.c: it is written once before any thread starts and only
 * read afterwards, so it needs no lock. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int level = LOG_LVL_INFO;

void log_set_level(int l) { level = l; }

int log_level_parse(const char *s)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void log_msg(int l, const char *fmt, ...)
{
    static const char *tags[] = { "error", "warn", "info", "debug" };
    static const int prio[] = { 3, 4, 6, 7 };
    if (l > level)
        return;
    char line[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (getenv("JOURNAL_STREAM"))
        fprintf(stderr, "<%d>%s\n", prio[l], line);
    else
        fprintf(stderr, "whistled: %s: %s\n", tags[l], line);
}

void log_oom(const char *what)
{
    log_error("out of memory (%s); stopping", what);
    abort();
}
