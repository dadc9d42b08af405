/* log.c: see log.h. The level is written once before the loop runs. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int level = GW_LOG_INFO;

void gw_log_set_level(int l) { level = l; }

int gw_log_level_parse(const char *s)
{
    static const char *names[] = { "error", "warn", "info", "debug" };
    for (int i = 0; i < 4; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

void gw_log(int l, const char *fmt, ...)
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
        fprintf(stderr, "whistle-gateway: %s: %s\n", tags[l], line);
}
