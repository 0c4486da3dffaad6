/* state.h: the heartbeat's state machine, pure (no I/O, no clock): what a
 * ping, a start or a failure does to a job's state, which deadline falls
 * due when, and the state as the text host->state_put() keeps. */
#ifndef TC_HB_STATE_H
#define TC_HB_STATE_H

#include <stddef.h>
#include <stdint.h>

/* Why the job's alert fires; HB_UP: it does not. */
enum hb_why { HB_UP = 0, HB_MISSED = 1, HB_FAILED = 2, HB_OVERRUN = 3 };

struct hb_timing {
    int64_t interval;    /* ms between pings */
    int64_t grace;       /* ms of lateness tolerated after interval */
    int64_t max_runtime; /* ms from /start to its ping; 0: unchecked */
};

/* What is stored: enough to find every deadline again after a restart. */
struct hb_state {
    int64_t last_ping;   /* the last ping or failure; the first start before any */
    int64_t run_started; /* the last /start not yet followed by a ping; 0: none */
    enum hb_why why;     /* HB_UP, or why the alert fired (and is still firing) */
    int64_t fired_at;    /* when it fired: the deadline it missed, or the failure */
};

/* A job never seen before, first started at now. */
void hb_state_init(struct hb_state *st, int64_t now);

/* When the job is late: last_ping + interval + grace. */
int64_t hb_deadline(const struct hb_state *st, const struct hb_timing *t);
/* When the run begun by /start has overrun: run_started + max_runtime, or
 * 0 when no run is timed. */
int64_t hb_run_deadline(const struct hb_state *st, const struct hb_timing *t);

/* What falls due at now: HB_MISSED or HB_OVERRUN (the earlier deadline of
 * the two when both passed; *at is set to it), or HB_UP when nothing does
 * or the alert already fires (it fires once, until a ping resolves it). */
enum hb_why hb_due(const struct hb_state *st, const struct hb_timing *t, int64_t now,
                   int64_t *at);
/* The next time hb_due() could answer something, or 0 when none will
 * until the next request (the alert already fires). */
int64_t hb_next_check(const struct hb_state *st, const struct hb_timing *t);

/* Requests. Each returns 1 when the alert's state changes and the caller
 * must emit (ping: resolved; fail: firing), 0 otherwise. */
int hb_on_ping(struct hb_state *st, int64_t now);
void hb_on_start(struct hb_state *st, int64_t now);
int hb_on_fail(struct hb_state *st, int64_t now);
/* A deadline fired and its alert was stored. */
void hb_on_fired(struct hb_state *st, enum hb_why why, int64_t at);

/* "1 <last_ping> <run_started> <why> <fired_at>": the stored form. */
void hb_state_format(const struct hb_state *st, char *buf, size_t len);
/* The stored form back; 0, or -1 when text is not one (then *st is untouched). */
int hb_state_parse(const char *text, struct hb_state *st);

/* "missed", "failed", "overran", "up": for labels and logs. */
const char *hb_why_name(enum hb_why why);

#endif
