/* metrics.c: lock-free counters and their text exposition. */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"

static _Atomic int64_t counters[TC_M_COUNT];

static const struct {
    const char *name, *help;
} meta[TC_M_COUNT] = {
    [TC_M_ALERTS_ACCEPTED] = { "tocsin_alerts_accepted_total", "Alerts durably stored." },
    [TC_M_ALERTS_REJECTED] = { "tocsin_alerts_rejected_total", "Alerts refused as invalid." },
    [TC_M_INTAKE_BUSY] = { "tocsin_intake_busy_total", "Intake requests refused with 503 (queue full)." },
    [TC_M_INCIDENTS_OPENED] = { "tocsin_incidents_opened_total", "Incidents triggered." },
    [TC_M_INCIDENTS_RESOLVED] = { "tocsin_incidents_resolved_total", "Incidents resolved." },
    [TC_M_REPEATS] = { "tocsin_alert_repeats_total", "Firing alerts coalesced into an open incident." },
    [TC_M_SUPPRESSED] = { "tocsin_alerts_suppressed_total", "Alerts suppressed by a policy." },
    [TC_M_STALE_RESOLVED] = { "tocsin_alerts_stale_resolved_total", "Resolved alerts with no open incident." },
    [TC_M_EXPIRED] = { "tocsin_incidents_expired_total", "Incidents resolved because their alert was not refreshed before it expired." },
    [TC_M_COMMITS] = { "tocsin_store_commits_total", "Group commits of the writer." },
    [TC_M_STORE_ERRORS] = { "tocsin_store_errors_total", "Failed store operations." },
    [TC_M_NOTIFY_DONE] = { "tocsin_notifications_delivered_total", "Notifications delivered." },
    [TC_M_NOTIFY_RETRY] = { "tocsin_notification_retries_total", "Delivery attempts to be retried." },
    [TC_M_NOTIFY_FAILED] = { "tocsin_notifications_failed_total", "Notifications failed permanently." },
    [TC_M_HTTP_REQUESTS] = { "tocsin_http_requests_total", "HTTP requests served." },
};

void tc_metric_add(enum tc_counter c, int64_t n)
{
    atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

int64_t tc_metric_get(enum tc_counter c)
{
    return atomic_load_explicit(&counters[c], memory_order_relaxed);
}

char *tc_metrics_render(int64_t queue_depth, int ready, const struct tc_sink_stats *sinks,
                        size_t n_sinks)
{
    char *buf = NULL;
    size_t len = 0, k;
    FILE *f = open_memstream(&buf, &len);
    int64_t outbox_pending = 0;
    int i;

    if (!f)
        return NULL;
    for (k = 0; k < n_sinks; k++)
        outbox_pending += sinks[k].pending;
    for (i = 0; i < TC_M_COUNT; i++)
        fprintf(f, "# HELP %s %s\n# TYPE %s counter\n%s %lld\n", meta[i].name, meta[i].help,
                meta[i].name, meta[i].name, (long long)tc_metric_get((enum tc_counter)i));
    fprintf(f, "# HELP tocsin_intake_queue_alerts Alerts waiting for the writer.\n"
               "# TYPE tocsin_intake_queue_alerts gauge\ntocsin_intake_queue_alerts %lld\n",
            (long long)queue_depth);
    fprintf(f, "# HELP tocsin_outbox_pending Notifications waiting for delivery.\n"
               "# TYPE tocsin_outbox_pending gauge\ntocsin_outbox_pending %lld\n",
            (long long)outbox_pending);
    /* Per sink: which provider is failing, which one is backed up. */
    fputs("# HELP tocsin_sink_notifications_total Delivery attempts by sink and outcome (skipped: not sent, the trigger to the sink failed).\n"
          "# TYPE tocsin_sink_notifications_total counter\n", f);
    for (k = 0; k < n_sinks; k++)
        fprintf(f,
                "tocsin_sink_notifications_total{sink=\"%s\",outcome=\"delivered\"} %lld\n"
                "tocsin_sink_notifications_total{sink=\"%s\",outcome=\"retried\"} %lld\n"
                "tocsin_sink_notifications_total{sink=\"%s\",outcome=\"failed\"} %lld\n"
                "tocsin_sink_notifications_total{sink=\"%s\",outcome=\"skipped\"} %lld\n",
                sinks[k].id, (long long)sinks[k].delivered, sinks[k].id,
                (long long)sinks[k].retried, sinks[k].id, (long long)sinks[k].failed,
                sinks[k].id, (long long)sinks[k].skipped);
    fputs("# HELP tocsin_sink_pending Notifications queued or in flight, by sink.\n"
          "# TYPE tocsin_sink_pending gauge\n", f);
    for (k = 0; k < n_sinks; k++)
        fprintf(f, "tocsin_sink_pending{sink=\"%s\"} %lld\n", sinks[k].id,
                (long long)sinks[k].pending);
    fprintf(f, "# HELP tocsin_ready Whether the daemon is ready.\n"
               "# TYPE tocsin_ready gauge\ntocsin_ready %d\n", ready);
    fclose(f);
    return buf;
}
