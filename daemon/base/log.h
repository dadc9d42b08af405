/* log.h: one line per event worth an operator's attention, to stderr.
 * Under systemd (JOURNAL_STREAM set) lines carry <N> priority prefixes so
 * journald keeps their level. */
#ifndef WHISTLED_LOG_H
#define WHISTLED_LOG_H

enum { LOG_LVL_ERROR = 0, LOG_LVL_WARN, LOG_LVL_INFO, LOG_LVL_DEBUG };

/* Set once at start-up, before the writer thread exists. */
void log_set_level(int level);
int log_level_parse(const char *s); /* -1 if unknown */
void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

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
