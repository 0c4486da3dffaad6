/* metrics.h: counters for /metrics (Prometheus text exposition). */
#ifndef TC_METRICS_H
#define TC_METRICS_H

#include <stdint.h>

enum tc_counter {
    TC_M_ALERTS_ACCEPTED,    /* stored */
    TC_M_ALERTS_REJECTED,    /* refused at intake (400) */
    TC_M_INTAKE_BUSY,        /* refused with 503: queue full */
    TC_M_INCIDENTS_OPENED,
    TC_M_INCIDENTS_RESOLVED,
    TC_M_REPEATS,            /* coalesced into an open incident */
    TC_M_SUPPRESSED,         /* by a policy */
    TC_M_STALE_RESOLVED,     /* resolved alerts with nothing open */
    TC_M_EXPIRED,            /* incidents resolved because their alert expired */
    TC_M_COMMITS,            /* group commits */
    TC_M_STORE_ERRORS,
    TC_M_NOTIFY_DONE,
    TC_M_NOTIFY_RETRY,
    TC_M_NOTIFY_FAILED,
    TC_M_HTTP_REQUESTS,
    TC_M_COUNT
};

void tc_metric_add(enum tc_counter c, int64_t n);
int64_t tc_metric_get(enum tc_counter c);
/* One sink's figures since start (see tc_dispatcher_stats()). */
struct tc_sink_stats {
    const char *id;                       /* [A-Za-z0-9_.-]: no escaping needed */
    int64_t pending;                      /* queued or in flight */
    int64_t delivered, retried, failed;   /* attempts by outcome */
    int64_t skipped;                      /* rows behind a failed trigger */
};

/* Every counter, the gauges and the per-sink series as Prometheus text,
 * in a malloc()ed buffer. */
char *tc_metrics_render(int64_t queue_depth, int ready, const struct tc_sink_stats *sinks,
                        size_t n_sinks);

#endif
