/* log.h: the gateway's log, as whistled's (daemon/base/log.h): one line per
 * event worth an operator's attention, to stderr, with a level; under
 * systemd (JOURNAL_STREAM set) lines carry <N> priority prefixes so that
 * journald keeps their level. */
#ifndef GATEWAY_LOG_H
#define GATEWAY_LOG_H

enum { GW_LOG_ERROR = 0, GW_LOG_WARN, GW_LOG_INFO, GW_LOG_DEBUG };

/* Set once at start-up; the gateway has one thread. */
void gw_log_set_level(int level);
int gw_log_level_parse(const char *s); /* -1 if unknown */
void gw_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define gw_error(...) gw_log(GW_LOG_ERROR, __VA_ARGS__)
#define gw_warn(...) gw_log(GW_LOG_WARN, __VA_ARGS__)
#define gw_info(...) gw_log(GW_LOG_INFO, __VA_ARGS__)
#define gw_debug(...) gw_log(GW_LOG_DEBUG, __VA_ARGS__)

#endif
