/* log.h: one line per event worth an operator's attention.
 *
 * Under systemd, when stderr is the journal (JOURNAL_STREAM names it),
 * each line goes to journald with sd_journal_send, with its PRIORITY and
 * the fields a call gives (WHISTLE_CALL, WHISTLE_PRINCIPAL, WHISTLE_TICKET:
 * journalctl WHISTLE_PRINCIPAL=admin finds one principal's lines); else
 * it is a plain line on stderr. */
#ifndef WHISTLED_LOG_H
#define WHISTLED_LOG_H

#include <stdbool.h>

enum { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* The level and the access log may change while the daemon runs (SIGHUP,
 * the set_log_level call, on the loop thread); every thread reads them
 * (atomics). */
void log_set_level(int level);
int log_get_level(void);
int log_level_parse(const char *s); /* -1 if unknown */
const char *log_level_name(int level);
void log_set_access(bool on);
bool log_access_on(void); /* the access log: every call, at debug */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line about one call: call, principal and ticket (each may be NULL)
 * become journal fields; the plain line shows them too. */
void log_call(int level, const char *call, const char *principal, const char *ticket, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Out of memory where going on would break a promise (an answer half
 * built, the writer's bookkeeping of what is durable, an audit record):
 * logs one line naming what could not be had and aborts. The one place
 * the daemon stops for want of memory (docs/errors.md); nothing it
 * acknowledged is lost, because nothing is acknowledged before it is on
 * disk, and systemd starts it again. */
_Noreturn void log_oom(const char *what);

#define log_error(...) log_msg(LOG_LVL_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

#endif
