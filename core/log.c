/* log.c: one line per event, to stderr (foreground) or syslog. Secrets are
 * kept out by the callers: options marked secret are never formatted.
 * Control characters in a message (an alert's label quoted in an error, a
 * plugin's text) are escaped here, so no message can forge a line. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "log.h"
#include "common.h"
#include "scrub.h"

static int log_foreground = 1;
static int log_level = TOCSIN_LOG_INFO;
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static const char *const level_names[] = { "error", "warn", "info", "debug" };

void tc_log_init(int foreground, int level)
{
    log_foreground = foreground;
    log_level = level;
    if (!foreground)
        openlog("tocsind", LOG_PID, LOG_DAEMON);
}

void tc_log_close(void)
{
    if (!log_foreground)
        closelog();
}

int tc_log_level_parse(const char *name)
{
    int i;

    for (i = 0; i < 4; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    if (strcasecmp(name, "warning") == 0)
        return TOCSIN_LOG_WARN;
    return -1;
}

int tc_log_enabled(int level)
{
    return level <= log_level;
}

void tc_logv(int level, const char *prefix, const char *fmt, va_list ap)
{
    static const int syslog_prio[] = { LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG };
    char raw[2048], msg[4 * sizeof raw]; /* room for every byte escaped */
    int off = 0;

    if (!tc_log_enabled(level))
        return;
    if (prefix)
        off = snprintf(raw, sizeof raw, "[%s] ", prefix);
    if (off < 0 || (size_t)off >= sizeof raw)
        off = 0;
    /* A message cut inside a character ends in \xNN escapes: still one line. */
    vsnprintf(raw + off, sizeof raw - (size_t)off, fmt, ap);
    tc_escape(raw, msg, sizeof msg);
    if (log_foreground) {
        struct timespec ts;
        char when[40];

        clock_gettime(CLOCK_REALTIME, &ts);
        tc_time_format((int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000, when, sizeof when);
        pthread_mutex_lock(&log_lock);
        fprintf(stderr, "%s %-5s %s\n", when, level_names[level < 0 ? 0 : level > 3 ? 3 : level],
                msg);
        pthread_mutex_unlock(&log_lock);
    } else {
        syslog(syslog_prio[level < 0 ? 0 : level > 3 ? 3 : level], "%s", msg);
    }
}

void tc_log(int level, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    tc_logv(level, NULL, fmt, ap);
    va_end(ap);
}
