/* log.h: the daemon's log: levels, stderr in the foreground, syslog otherwise. */
#ifndef TC_LOG_H
#define TC_LOG_H

#include <stdarg.h>
#include <tocsin/plugin.h>

void tc_log_init(int foreground, int level);
void tc_log_close(void);
int tc_log_level_parse(const char *name); /* -1 when unknown */
int tc_log_enabled(int level);

TOCSIN_PRINTF(2, 3)
void tc_log(int level, const char *fmt, ...);
/* "[sink hook] message": prefix names the instance. */
void tc_logv(int level, const char *prefix, const char *fmt, va_list ap);

#define tc_error(...) tc_log(TOCSIN_LOG_ERROR, __VA_ARGS__)
#define tc_warn(...) tc_log(TOCSIN_LOG_WARN, __VA_ARGS__)
#define tc_info(...) tc_log(TOCSIN_LOG_INFO, __VA_ARGS__)
#define tc_debug(...) tc_log(TOCSIN_LOG_DEBUG, __VA_ARGS__)

#endif
