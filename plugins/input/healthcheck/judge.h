/* judge.h: the healthcheck's pure part: expect_status ranges, the verdict
 * on one probe's outcome (and the words the summary uses for it), the
 * consecutive-failures/successes count, and URLs shown without secrets. */
#ifndef TC_HC_JUDGE_H
#define TC_HC_JUDGE_H

#include <stddef.h>
#include <stdint.h>

#define HC_RANGES_MAX 16

/* "200-399", "200", "200,204,301-308": statuses 100..599. */
struct hc_status_set {
    int n;
    int lo[HC_RANGES_MAX], hi[HC_RANGES_MAX];
};
/* 0, or -1 with err saying what is wrong with text. */
int hc_status_parse(const char *text, struct hc_status_set *set, char *err, size_t errlen);
int hc_status_ok(const struct hc_status_set *set, long status);

/* What one probe saw. */
enum hc_transport { HC_ANSWERED = 0, HC_TIMED_OUT, HC_REFUSED, HC_OTHER_ERROR };
struct hc_outcome {
    enum hc_transport transport;
    const char *error;       /* HC_OTHER_ERROR: what failed (no secrets) */
    long status;             /* HTTP status; 0 for TCP probes */
    const char *body;        /* HTTP answer, or NULL */
    size_t body_len;
    int64_t latency_ms;      /* wall time the probe took */
};
struct hc_expect {
    const struct hc_status_set *statuses; /* NULL: TCP (no status) */
    const char *body_contains;            /* NULL: not checked */
    int64_t max_latency_ms;               /* 0: not checked */
    int64_t timeout_ms;                   /* what a timeout is reported as */
};
/* 1 when healthy; else 0 with what failed in what ("status 503",
 * "timeout after 5 s" (the timeout, or the time taken if shorter),
 * "connection refused", "1.8 s > 1 s" (the time taken rounded up, so
 * never "1 s > 1 s"), "answer lacks \"ok\""). */
int hc_judge(const struct hc_outcome *o, const struct hc_expect *e, char *what, size_t len);

/* ms as seconds, to a tenth when not whole: "5 s", "1.8 s", "0.3 s". */
void hc_fmt_secs(int64_t ms, char *buf, size_t len);

/* Consecutive results to a decision: fire after `failures` failures in a
 * row, resolve after `successes` successes in a row. The caller records
 * the change (firing) once its alert was stored; until then each probe
 * decides the same again. */
struct hc_track {
    int firing;
    int fails, oks;
};
enum hc_change { HC_SAME = 0, HC_FIRE, HC_RESOLVE };
enum hc_change hc_track_step(struct hc_track *t, int healthy, int failures, int successes);

/* url as shown in summaries and logs: scheme://host[:port]/path, without
 * user:password@, query or fragment (they may hold secrets). */
void hc_display_url(const char *url, char *buf, size_t len);

/* "host:port" or "[v6]:port" into host and port; 0, or -1. */
int hc_split_hostport(const char *spec, char *host, size_t hostlen, char *port, size_t portlen);

#endif
