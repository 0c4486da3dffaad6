/* state.c: the heartbeat's state machine (see state.h). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "state.h"

void hb_state_init(struct hb_state *st, int64_t now)
{
    *st = (struct hb_state){ .last_ping = now, .why = HB_UP };
}

/* a + b, or INT64_MAX past it: a stored time from a damaged store must
 * mean "never", not overflow. */
static int64_t add_sat(int64_t a, int64_t b)
{
    int64_t sum;

    return __builtin_add_overflow(a, b, &sum) ? INT64_MAX : sum;
}

int64_t hb_deadline(const struct hb_state *st, const struct hb_timing *t)
{
    return add_sat(add_sat(st->last_ping, t->interval), t->grace);
}

int64_t hb_run_deadline(const struct hb_state *st, const struct hb_timing *t)
{
    return st->run_started > 0 && t->max_runtime > 0 ? add_sat(st->run_started, t->max_runtime)
                                                     : 0;
}

enum hb_why hb_due(const struct hb_state *st, const struct hb_timing *t, int64_t now,
                   int64_t *at)
{
    int64_t late = hb_deadline(st, t), run = hb_run_deadline(st, t);

    if (st->why != HB_UP)
        return HB_UP;
    if (run && run <= now && run < late) {
        *at = run;
        return HB_OVERRUN;
    }
    if (late <= now) {
        *at = late;
        return HB_MISSED;
    }
    if (run && run <= now) {
        *at = run;
        return HB_OVERRUN;
    }
    return HB_UP;
}

int64_t hb_next_check(const struct hb_state *st, const struct hb_timing *t)
{
    int64_t late = hb_deadline(st, t), run = hb_run_deadline(st, t);

    if (st->why != HB_UP)
        return 0;
    return run && run < late ? run : late;
}

int hb_on_ping(struct hb_state *st, int64_t now)
{
    int was_firing = st->why != HB_UP;

    st->last_ping = now;
    st->run_started = 0;
    st->why = HB_UP;
    st->fired_at = 0;
    return was_firing;
}

void hb_on_start(struct hb_state *st, int64_t now)
{
    st->run_started = now;
}

int hb_on_fail(struct hb_state *st, int64_t now)
{
    /* The job ran (and said it failed): the next run is due from now. */
    st->last_ping = now;
    st->run_started = 0;
    st->why = HB_FAILED;
    st->fired_at = now;
    return 1;
}

void hb_on_fired(struct hb_state *st, enum hb_why why, int64_t at)
{
    st->why = why;
    st->fired_at = at;
}

void hb_state_format(const struct hb_state *st, char *buf, size_t len)
{
    snprintf(buf, len, "1 %" PRId64 " %" PRId64 " %d %" PRId64, st->last_ping, st->run_started,
             (int)st->why, st->fired_at);
}

/* One decimal int64 at *p followed by a space or the end. */
static int take_int(const char **p, int64_t *out)
{
    char *end;
    long long v;

    if (**p < '0' || **p > '9')
        return -1;
    errno = 0;
    v = strtoll(*p, &end, 10);
    if (errno || (*end != ' ' && *end != '\0'))
        return -1;
    *out = v;
    *p = *end ? end + 1 : end;
    return 0;
}

int hb_state_parse(const char *text, struct hb_state *st)
{
    int64_t version, last, run, why, fired;
    const char *p = text;

    if (!text || take_int(&p, &version) < 0 || version != 1 || take_int(&p, &last) < 0 ||
        take_int(&p, &run) < 0 || take_int(&p, &why) < 0 || take_int(&p, &fired) < 0 || *p ||
        why < HB_UP || why > HB_OVERRUN)
        return -1;
    st->last_ping = last;
    st->run_started = run;
    st->why = (enum hb_why)why;
    st->fired_at = fired;
    return 0;
}

const char *hb_why_name(enum hb_why why)
{
    switch (why) {
    case HB_MISSED: return "missed";
    case HB_FAILED: return "failed";
    case HB_OVERRUN: return "overran";
    case HB_UP: break;
    }
    return "up";
}
