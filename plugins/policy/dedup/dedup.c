/* dedup.c: the `dedup` policy. It decides what counts as the same problem
 * and how often people hear about it:
 *   - key: the labels that identify an alert whose input gave no dedup key
 *     (default: all of them, the core's own fingerprint);
 *   - flap_window: a problem that fires again this soon after its incident
 *     resolved reopens that incident (same incident, its sinks told
 *     trigger again as a repeat) instead of opening a new one; later, the
 *     new incident records the previous one (previous_id);
 *   - repeat_interval: an incident still triggered (not acknowledged, not
 *     resolved) re-notifies its sinks every interval, as a repeat, through
 *     a durable per-incident timer, so it survives restarts.
 * Repeats of a firing alert are counted on its incident (occurrences) by
 * the core; this policy never suppresses an alert. */
#define _POSIX_C_SOURCE 200809L
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "common.h"

#define REPEAT_TIMER "repeat"

struct dedup_conf {
    struct tocsin_strlist key;
    int64_t flap_window;     /* ms; 0: off */
    int64_t repeat_interval; /* ms; 0: off */
};

static const struct tocsin_option dedup_options[] = {
    { "key", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct dedup_conf, key),
      "Label names that identify an alert whose input gave no dedup key (default: all "
      "labels)." },
    { "flap_window", TOCSIN_OPT_DURATION, "5m", 0, offsetof(struct dedup_conf, flap_window),
      "A problem firing again this soon after its incident resolved reopens it; 0: never." },
    { "repeat_interval", TOCSIN_OPT_DURATION, "0", 0,
      offsetof(struct dedup_conf, repeat_interval),
      "Re-notify an incident still triggered this often (e.g. \"4h\"); 0: never." },
    { 0 }
};

struct dedup {
    const struct tocsin_host *host;
    const struct dedup_conf *conf;
};

static int dedup_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct dedup_conf *cf = conf;
    struct dedup *d;
    size_t i;

    if (!TOCSIN_HOST_HAS(host, incident_find) || !TOCSIN_HOST_HAS(host, policy_timer_set) ||
        !TOCSIN_HOST_HAS(host, notify))
        return host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)", host->abi_major,
                          host->abi_minor);
    if (cf->flap_window < 0 || cf->repeat_interval < 0)
        return host->fail(host, "flap_window and repeat_interval must not be negative");
    if (cf->repeat_interval > 0 && cf->repeat_interval < 60000)
        return host->fail(host, "repeat_interval must be at least 1m (or 0 for never)");
    for (i = 0; i < cf->key.n; i++)
        if (!cf->key.items[i][0])
            return host->fail(host, "key[%zu]: a label name must not be empty", i);
    if (!(d = calloc(1, sizeof *d)))
        return TOCSIN_ENOMEM;
    d->host = host;
    d->conf = cf;
    *self = d;
    return TOCSIN_OK;
}

static void dedup_destroy(void *self)
{
    free(self);
}

/* The labels named by `key`, in the alert's own values ("" when absent). */
static void key_of(const struct dedup *d, const struct tocsin_alert *a, char out[17])
{
    const struct tocsin_strlist *names = &d->conf->key;
    struct tocsin_kv kv[64];
    size_t i, n = names->n < 64 ? names->n : 64;

    for (i = 0; i < n; i++) {
        const char *v = tocsin_kv_get(a->labels, a->n_labels, names->items[i]);

        kv[i].key = names->items[i];
        kv[i].value = v ? v : "";
    }
    tc_fingerprint_hex(kv, n, out);
}

struct latest {
    int64_t id, resolved_at;
    int resolved;
};

static void take_latest(void *arg, const struct tocsin_incident *inc)
{
    struct latest *l = arg;

    l->id = inc->id;
    l->resolved = strcmp(inc->state, "resolved") == 0;
    l->resolved_at = inc->resolved_at;
}

static int dedup_evaluate(void *self, const struct tocsin_alert *alert,
                          struct tocsin_policy_result *res)
{
    struct dedup *d = self;
    const char *key = alert->dedup_key;
    struct latest l = { 0, 0, 0 };
    char own[17];
    int found;

    if (d->conf->key.n) {
        /* The core uses it only if the input gave no key of its own. */
        key_of(d, alert, own);
        snprintf(res->dedup_key, sizeof res->dedup_key, "%s", own);
        key = own;
    }
    if (alert->status != TOCSIN_FIRING || !key || !*key)
        return TOCSIN_OK;
    found = d->host->incident_find(d->host, 0, key, take_latest, &l);
    if (found < 0)
        return found;
    if (found == 0 || !l.resolved)
        return TOCSIN_OK; /* new, or open already: a repeat */
    if (d->conf->flap_window > 0 && l.resolved_at &&
        d->host->now_ms(d->host) - l.resolved_at <= d->conf->flap_window)
        res->reopen = l.id;
    else
        res->previous = l.id;
    return TOCSIN_OK;
}

static int arm(struct dedup *d, int64_t incident, int64_t from)
{
    return d->host->policy_timer_set(d->host, incident, REPEAT_TIMER,
                                     from + d->conf->repeat_interval);
}

static int dedup_on_event(void *self, const struct tocsin_event *ev)
{
    struct dedup *d = self;
    const struct tocsin_incident *inc = ev->incident;
    int rc;

    if (d->conf->repeat_interval <= 0 || !inc)
        return TOCSIN_OK;
    switch (ev->kind) {
    case TOCSIN_EV_OPENED:
    case TOCSIN_EV_REOPENED:
        return arm(d, inc->id, ev->at);
    case TOCSIN_EV_ACKNOWLEDGED:
    case TOCSIN_EV_RESOLVED:
        return d->host->policy_timer_cancel(d->host, inc->id, REPEAT_TIMER);
    case TOCSIN_EV_TIMER:
        if (strcmp(ev->timer, REPEAT_TIMER) != 0 || strcmp(inc->state, "triggered") != 0)
            return TOCSIN_OK;
        /* Muted incidents are not sent (the core records it); the timer
         * keeps going, so the repeats resume when the muting ends. */
        rc = d->host->notify(d->host, inc->id, TOCSIN_ACT_TRIGGER, NULL, TOCSIN_NOTIFY_REPEAT);
        if (rc != TOCSIN_OK)
            return rc;
        return arm(d, inc->id, ev->at);
    default:
        return TOCSIN_OK;
    }
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_POLICY,
    .name = "dedup",
    .version = "1.0.0",
    .description = "What counts as the same problem: identity, flapping, repeat notifications",
    .options = dedup_options,
    .conf_size = sizeof(struct dedup_conf),
    .create = dedup_create,
    .destroy = dedup_destroy,
    .evaluate = dedup_evaluate,
    .on_event = dedup_on_event,
};
