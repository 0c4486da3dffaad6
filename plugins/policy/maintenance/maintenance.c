/* maintenance.c: the `maintenance` policy: alerts that match an active
 * window open (or mute) their incident suppressed, nothing is sent; when
 * the window ends, incidents still firing are notified (notify_after) or
 * just unmuted. Windows come from the instance's `windows` groups and from
 * the API (api.c); the set and its stored state live in windows.c, one
 * window's rules in window.c. Each muted incident carries a durable timer
 * "end:<window id>" at its window's end, so the end survives restarts. */
#define _GNU_SOURCE
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "maint.h"

static const struct tocsin_option window_options[] = {
    { "id", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct mw_group, id),
      "The window's id ([A-Za-z0-9_.-]+), shown as the incident's suppressed_by." },
    { "comment", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct mw_group, comment),
      "Why the window exists." },
    { "created_by", TOCSIN_OPT_STRING, "tocsin.conf", 0, offsetof(struct mw_group, created_by),
      "Who made it." },
    { "matchers", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct mw_group, matchers),
      "Alertmanager matchers that must all match (service=\"db\", severity=~\"crit|high\", "
      "env!=\"dev\"); none: every alert." },
    { "starts_at", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct mw_group, starts_at),
      "One-off window: its start (RFC 3339)." },
    { "ends_at", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct mw_group, ends_at),
      "One-off window: its end (RFC 3339)." },
    { "weekdays", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct mw_group, weekdays),
      "Recurring window: the days it starts on ([\"sat\", \"sun\"])." },
    { "start", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct mw_group, start),
      "Recurring window: its start, \"HH:MM\" local time." },
    { "end", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct mw_group, end),
      "Recurring window: its end, \"HH:MM\" local time (before start: the next day)." },
    { "time_zone", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct mw_group, time_zone),
      "Recurring window: the IANA time zone of start and end (\"Europe/Berlin\")." },
    { 0 }
};

static const struct tocsin_option mw_options[] = {
    { "windows", TOCSIN_OPT_GROUPS, NULL, 0, offsetof(struct mw_conf, windows),
      "Maintenance windows: ( { id = \"...\"; matchers = [...]; starts_at/ends_at or "
      "weekdays/start/end/time_zone; }, ... )." },
    { "notify_after", TOCSIN_OPT_BOOL, "true", 0, offsetof(struct mw_conf, notify_after),
      "When a window ends, send the trigger of incidents it muted that still fire and were "
      "never notified." },
    { "remind_before", TOCSIN_OPT_DURATION, "0", 0, offsetof(struct mw_conf, remind_before),
      "Emit \"maintenance window X starts at T\" this long before each start; 0: no reminder." },
    { "remind_sinks", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct mw_conf, remind_sinks),
      "The sinks the reminder goes to; none: those the routes pick." },
    { 0 }
};

static const struct tocsin_group_table mw_groups[] = {
    { "windows", window_options, sizeof(struct mw_group) },
    { 0 }
};

static void mw_destroy(void *self)
{
    struct maint *m = self;

    if (!m)
        return;
    mw_free_all(m);
    free(m->remind_sinks);
    pthread_mutex_destroy(&m->lock);
    pthread_mutex_destroy(&m->change_lock);
    free(m);
}

/* Every bad window is reported (--check-config lists them all). */
static int load_config_windows(struct maint *m)
{
    const struct tocsin_groups *g = &m->conf->windows;
    int rc = TOCSIN_OK;
    size_t i;

    for (i = 0; i < g->n; i++) {
        const struct mw_group *grp = TOCSIN_GROUP(*g, struct mw_group, sizeof *grp, i);
        struct mw_window *w = calloc(1, sizeof *w);
        char err[400];

        if (!w)
            return TOCSIN_ENOMEM;
        if (mw_window_from_group(w, grp, err, sizeof err) != 0)
            rc = m->host->fail(m->host, "%s: windows: %s", g->where[i], err);
        else if (mw_find(m, w->id))
            rc = m->host->fail(m->host, "%s: windows: id: \"%s\" is taken by another window",
                               g->where[i], grp->id);
        else if (m->n == m->cap) {
            size_t cap = m->cap ? m->cap * 2 : 8;
            struct mw_window **v = realloc(m->v, cap * sizeof *v);

            if (!v) {
                mw_window_release(w);
                free(w);
                return TOCSIN_ENOMEM;
            }
            m->v = v;
            m->cap = cap;
        }
        if (rc != TOCSIN_OK || m->n == m->cap) {
            mw_window_release(w);
            free(w);
            continue;
        }
        m->v[m->n++] = w;
    }
    return rc;
}

static int mw_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct maint *m;
    int rc;

    if (!TOCSIN_HOST_HAS(host, policy_timer_set) || !TOCSIN_HOST_HAS(host, notify)) {
        host->fail(host, "needs tocsin ABI 1.1 with policy timers (host has %u.%u)",
                   host->abi_major, host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    m = calloc(1, sizeof *m);
    if (!m)
        return TOCSIN_ENOMEM;
    m->host = host;
    m->conf = conf;
    pthread_mutex_init(&m->lock, NULL);
    pthread_mutex_init(&m->change_lock, NULL);
    m->remind_sinks = calloc(m->conf->remind_sinks.n + 1, sizeof *m->remind_sinks);
    if (!m->remind_sinks) {
        mw_destroy(m);
        return TOCSIN_ENOMEM;
    }
    if (m->conf->remind_sinks.n)
        memcpy(m->remind_sinks, m->conf->remind_sinks.items,
               m->conf->remind_sinks.n * sizeof *m->remind_sinks);
    rc = load_config_windows(m);
    if (rc == TOCSIN_OK && mw_load(m) != TOCSIN_OK)
        rc = host->fail(host, "cannot read the stored maintenance windows");
    if (rc == TOCSIN_OK)
        rc = mw_prune(m, host->now_ms(host));
    if (rc == TOCSIN_OK)
        rc = mw_api_register(m);
    if (rc != TOCSIN_OK) {
        mw_destroy(m);
        return rc;
    }
    *self = m;
    return TOCSIN_OK;
}

/* Reminders of every window's next start (start(): not for
 * --check-config, which never starts an instance). */
static int mw_start(void *self)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host);
    char id[MW_ID_MAX];
    size_t i;

    if (m->conf->remind_before <= 0)
        return TOCSIN_OK;
    for (i = 0;; i++) {
        int more;

        pthread_mutex_lock(&m->lock);
        more = i < m->n;
        if (more)
            snprintf(id, sizeof id, "%s", m->v[i]->id);
        pthread_mutex_unlock(&m->lock);
        if (!more)
            break;
        mw_remind_arm(m, id, now);
    }
    return TOCSIN_OK;
}

static int mw_evaluate(void *self, const struct tocsin_alert *alert,
                       struct tocsin_policy_result *res)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host), end = 0;
    const struct mw_window *w;
    char until[40];

    if (mw_is_reminder(m, alert)) {
        mw_remind_judge(m, alert, res);
        return TOCSIN_OK;
    }
    pthread_mutex_lock(&m->lock);
    w = mw_covering(m, alert, now, &end);
    if (w)
        snprintf(res->suppressed_by, sizeof res->suppressed_by, "%s", w->id);
    pthread_mutex_unlock(&m->lock);
    if (!w) {
        res->decision = TOCSIN_PASS;
        return TOCSIN_OK;
    }
    res->decision = TOCSIN_SUPPRESS;
    snprintf(res->reason, sizeof res->reason, "maintenance window %s until %s",
             res->suppressed_by, tc_time_format(end, until, sizeof until));
    return TOCSIN_OK;
}

static int set_end_timer(struct maint *m, int64_t incident, const char *id, int64_t due)
{
    char name[sizeof MW_TIMER_END + MW_ID_MAX];

    snprintf(name, sizeof name, MW_TIMER_END "%s", id);
    return m->host->policy_timer_set(m->host, incident, name, due);
}

static int is_open(const struct tocsin_incident *inc)
{
    return inc && inc->state && strcmp(inc->state, "resolved") != 0;
}

/* An incident muted by one of our windows: its timer at that window's
 * end (now, when the window is over already, so that it unmutes). */
static int on_muted(struct maint *m, const struct tocsin_event *ev)
{
    const struct tocsin_incident *inc = ev->incident;
    const struct mw_window *w;
    int64_t start, end = 0;
    int found;

    if (!is_open(inc) || !inc->suppressed_by)
        return TOCSIN_OK;
    pthread_mutex_lock(&m->lock);
    w = mw_find(m, inc->suppressed_by);
    found = w != NULL;
    if (w && mw_window_span(w, ev->at, &start, &end) != MW_ACTIVE)
        end = ev->at;
    pthread_mutex_unlock(&m->lock);
    return found ? set_end_timer(m, inc->id, inc->suppressed_by, end) : TOCSIN_OK;
}

/* A window of the incident's ended: another one may hold it still;
 * otherwise it is unmuted, with its trigger when nobody heard of it. */
static int on_end(struct maint *m, const struct tocsin_event *ev, const char *id)
{
    static const char *const no_sinks[] = { NULL };
    const struct tocsin_incident *inc = ev->incident;
    const struct mw_window *w;
    char next[MW_ID_MAX];
    int64_t end = 0;
    int ours;

    if (!is_open(inc) || !inc->suppressed || !inc->alert)
        return TOCSIN_OK; /* resolved meanwhile, or unmuted already */
    pthread_mutex_lock(&m->lock);
    ours = inc->suppressed_by &&
           (strcmp(inc->suppressed_by, id) == 0 || mw_find(m, inc->suppressed_by));
    w = mw_covering(m, inc->alert, ev->at, &end);
    if (w)
        snprintf(next, sizeof next, "%s", w->id);
    pthread_mutex_unlock(&m->lock);
    if (!ours)
        return TOCSIN_OK; /* muted by someone else since */
    if (w)
        return set_end_timer(m, inc->id, next, end);
    m->host->log(m->host, TOCSIN_LOG_INFO, "incident %lld: window %s over, %s",
                 (long long)inc->id, id,
                 m->conf->notify_after && !inc->notified && strcmp(inc->state, "triggered") == 0
                     ? "sending its trigger" : "unmuted");
    /* Acknowledged: somebody has it already; notified: its sinks know. */
    if (m->conf->notify_after && !inc->notified && strcmp(inc->state, "triggered") == 0)
        return m->host->notify(m->host, inc->id, TOCSIN_ACT_TRIGGER, NULL, TOCSIN_NOTIFY_UNMUTE);
    return m->host->notify(m->host, inc->id, TOCSIN_ACT_TRIGGER, no_sinks, TOCSIN_NOTIFY_UNMUTE);
}

static int mw_on_event(void *self, const struct tocsin_event *ev)
{
    struct maint *m = self;

    switch (ev->kind) {
    case TOCSIN_EV_OPENED:
        if (ev->incident && mw_is_reminder(m, ev->incident->alert))
            return mw_remind_opened(m, ev->incident);
        return on_muted(m, ev);
    case TOCSIN_EV_REPEATED:
    case TOCSIN_EV_REOPENED:
        return on_muted(m, ev);
    case TOCSIN_EV_RESOLVED:
        /* Its resolve reaches whoever heard the trigger (the core's
         * rule); our timers on it have nothing left to do. */
        return ev->incident
                   ? m->host->policy_timer_cancel(m->host, ev->incident->id, NULL)
                   : TOCSIN_OK;
    case TOCSIN_EV_TIMER:
        if (ev->timer && strncmp(ev->timer, MW_TIMER_END, strlen(MW_TIMER_END)) == 0)
            return on_end(m, ev, ev->timer + strlen(MW_TIMER_END));
        if (ev->timer && strncmp(ev->timer, MW_TIMER_REMIND, strlen(MW_TIMER_REMIND)) == 0)
            return mw_remind_fire(m, ev, ev->timer + strlen(MW_TIMER_REMIND));
        return TOCSIN_OK;
    default:
        return TOCSIN_OK;
    }
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_POLICY,
    .name = "maintenance",
    .version = "1.0.0",
    .description = "Maintenance windows (one-off or recurring, scoped by matchers) that mute "
                   "alerts, with tocsin's and Alertmanager's silence APIs.",
    .options = mw_options,
    .conf_size = sizeof(struct mw_conf),
    .create = mw_create,
    .start = mw_start,
    .destroy = mw_destroy,
    .evaluate = mw_evaluate,
    .on_event = mw_on_event,
    .groups = mw_groups,
};
