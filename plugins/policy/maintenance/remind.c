/* remind.c: remind_before: an alert "maintenance window X starts at T"
 * emitted remind_before ahead of each start, from a durable timer of the
 * instance's own ("remind:<id>"). It expires at the start (so its incident
 * resolves then) and goes to remind_sinks alone (muted for the routes,
 * then unmuted to those sinks), or to the routes' sinks when none are set.
 * Its dedup key names the window and the start: a reminder re-armed after
 * a restart repeats the same incident instead of paging twice. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "maint.h"

#define REMIND_KEY "maintenance-reminder:"
#define REMIND_LABEL "maintenance_window"

/* The next start of w after t (not the occurrence t is in): 0 or -1. */
static int next_start(const struct mw_window *w, int64_t t, int64_t *start)
{
    int64_t s, e;
    enum mw_state st = mw_window_span(w, t, &s, &e);

    if (st == MW_ACTIVE && w->recurring)
        st = mw_window_span(w, e, &s, &e);
    if (st != MW_PENDING)
        return -1;
    *start = s;
    return 0;
}

static void timer_name(char *buf, size_t len, const char *id)
{
    snprintf(buf, len, MW_TIMER_REMIND "%s", id);
}

void mw_remind_arm(struct maint *m, const char *id, int64_t now)
{
    char name[sizeof MW_TIMER_REMIND + MW_ID_MAX];
    const struct mw_window *w;
    int64_t start = 0;
    int found;

    if (m->conf->remind_before <= 0)
        return;
    pthread_mutex_lock(&m->lock);
    w = mw_find(m, id);
    found = w && next_start(w, now, &start) == 0;
    pthread_mutex_unlock(&m->lock);
    timer_name(name, sizeof name, id);
    if (!found) {
        m->host->policy_timer_cancel(m->host, TOCSIN_TIMER_OWN, name);
        return;
    }
    /* Made less than remind_before ahead: reminded at once. */
    start -= m->conf->remind_before;
    if (m->host->policy_timer_set(m->host, TOCSIN_TIMER_OWN, name,
                                  start > now ? start : now) != TOCSIN_OK)
        m->host->log(m->host, TOCSIN_LOG_ERROR, "window %s: could not set its reminder", id);
}

void mw_remind_cancel(struct maint *m, const char *id)
{
    char name[sizeof MW_TIMER_REMIND + MW_ID_MAX];

    if (m->conf->remind_before <= 0)
        return;
    timer_name(name, sizeof name, id);
    m->host->policy_timer_cancel(m->host, TOCSIN_TIMER_OWN, name);
}

int mw_remind_fire(struct maint *m, const struct tocsin_event *ev, const char *id)
{
    char key[sizeof REMIND_KEY + MW_ID_MAX + 40], at[40], summary[MW_ID_MAX + 96],
        name[sizeof MW_TIMER_REMIND + MW_ID_MAX], err[256], *details = NULL;
    const struct mw_window *w;
    struct tocsin_kv label = { REMIND_LABEL, id };
    struct tocsin_alert a;
    int64_t start = 0;
    int found, rc;

    if (m->conf->remind_before <= 0)
        return TOCSIN_OK;
    pthread_mutex_lock(&m->lock);
    w = mw_find(m, id);
    found = w && next_start(w, ev->at, &start) == 0;
    if (found && w->comment[0])
        details = strdup(w->comment);
    pthread_mutex_unlock(&m->lock);
    if (!found)
        return TOCSIN_OK; /* ended or removed meanwhile */
    timer_name(name, sizeof name, id);
    if (start - ev->at > m->conf->remind_before) { /* moved later since */
        free(details);
        return m->host->policy_timer_set(m->host, TOCSIN_TIMER_OWN, name,
                                         start - m->conf->remind_before);
    }
    tc_time_format(start, at, sizeof at);
    snprintf(key, sizeof key, REMIND_KEY "%s:%s", id, at);
    snprintf(summary, sizeof summary, "Maintenance window %s starts at %s", id, at);
    memset(&a, 0, sizeof a);
    a.dedup_key = key;
    a.status = TOCSIN_FIRING;
    a.severity = TOCSIN_SEV_INFO;
    a.summary = summary;
    a.details = details;
    a.source = m->host->instance_id;
    a.service = "maintenance";
    a.labels = &label;
    a.n_labels = 1;
    a.expires_at = start;
    rc = m->host->emit(m->host, &a, 1, err, sizeof err);
    free(details);
    if (rc != TOCSIN_OK) {
        m->host->log(m->host, TOCSIN_LOG_ERROR, "window %s: reminder refused: %s", id,
                     err[0] ? err : "emit failed");
        return rc;
    }
    /* The following occurrence's reminder (recurring windows). */
    pthread_mutex_lock(&m->lock);
    w = mw_find(m, id);
    found = w && next_start(w, start, &start) == 0;
    pthread_mutex_unlock(&m->lock);
    if (found)
        return m->host->policy_timer_set(m->host, TOCSIN_TIMER_OWN, name,
                                         start - m->conf->remind_before);
    return TOCSIN_OK;
}

int mw_is_reminder(const struct maint *m, const struct tocsin_alert *a)
{
    return a && a->source && strcmp(a->source, m->host->instance_id) == 0 && a->dedup_key &&
           strncmp(a->dedup_key, REMIND_KEY, strlen(REMIND_KEY)) == 0 &&
           tocsin_kv_get(a->labels, a->n_labels, REMIND_LABEL);
}

void mw_remind_judge(struct maint *m, const struct tocsin_alert *a,
                     struct tocsin_policy_result *res)
{
    /* Never muted by a window; kept from the routes' sinks when it has
     * sinks of its own. */
    if (m->conf->remind_sinks.n == 0) {
        res->decision = TOCSIN_PASS;
        return;
    }
    res->decision = TOCSIN_SUPPRESS;
    snprintf(res->reason, sizeof res->reason, "reminder of maintenance window %s, for "
             "remind_sinks only", tocsin_kv_get(a->labels, a->n_labels, REMIND_LABEL));
}

int mw_remind_opened(struct maint *m, const struct tocsin_incident *inc)
{
    if (m->conf->remind_sinks.n == 0 || !inc->suppressed)
        return TOCSIN_OK;
    return m->host->notify(m->host, inc->id, TOCSIN_ACT_TRIGGER, m->remind_sinks,
                           TOCSIN_NOTIFY_UNMUTE);
}
