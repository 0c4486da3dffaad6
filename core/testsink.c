/* testsink.c: `tocsind -c FILE --test-sink ID`. One clearly marked test
 * notification, a trigger then its resolve, through one configured sink,
 * straight from this process: no store, no listener, no daemon needed
 * (one may be running on the same config). What the provider answered
 * is printed; the exit status says whether both were delivered. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "remember.h"
#include "scrub.h"
#include "testsink.h"

/* A sink's durable state, for the run only: a test leaves no trace. */
struct kv_mem {
    struct kv_mem *next;
    char *key, *value;
};

static struct kv_mem *state;

static struct kv_mem **state_find(const char *key)
{
    struct kv_mem **at;

    for (at = &state; *at && strcmp((*at)->key, key) != 0; at = &(*at)->next)
        ;
    return at;
}

static int mem_state_get(const struct tocsin_host *host, const char *key, char **value)
{
    struct kv_mem *e = *state_find(key);

    *value = e ? strdup(e->value) : NULL;
    return e && !*value ? TOCSIN_ENOMEM : TOCSIN_OK;
}

static int mem_state_put(const struct tocsin_host *host, const char *key, const char *value)
{
    struct kv_mem *e = *state_find(key);
    char *v = strdup(value);

    if (!v)
        return TOCSIN_ENOMEM;
    if (!e) {
        if (!(e = calloc(1, sizeof *e)) || !(e->key = strdup(key))) {
            free(e);
            free(v);
            return TOCSIN_ENOMEM;
        }
        e->next = state;
        state = e;
    }
    free(e->value);
    e->value = v;
    return TOCSIN_OK;
}

static int mem_state_delete(const struct tocsin_host *host, const char *key)
{
    struct kv_mem **at = state_find(key), *e = *at;

    if (e) {
        *at = e->next;
        free(e->key);
        free(e->value);
        free(e);
    }
    return TOCSIN_OK;
}

/* No timers and no routes: nothing outlives the two deliveries. */
static int no_route(const struct tocsin_host *host, const char *method, const char *path,
                    tocsin_route_fn fn, void *self)
{
    return TOCSIN_OK;
}

static int no_emit(const struct tocsin_host *host, const struct tocsin_alert *alerts, size_t n,
                   char *err, size_t errlen)
{
    snprintf(err, errlen, "--test-sink takes no alerts");
    return TOCSIN_ESHUTDOWN;
}

/* One delivery, printed; 1 when it was delivered. The ref the sink
 * remembers goes to *ref for the next. */
static int deliver(struct tc_instance *inst, struct tocsin_notification *n, char **ref)
{
    struct tc_remembered mem;
    struct tocsin_verdict v;
    char why[TC_SCRUB_MAX + 1], answer[TC_SCRUB_MAX + 1];

    inst->answer[0] = '\0';
    v = tc_remember_deliver(inst->plugin, inst->self, n, &mem);
    tc_scrub(v.reason, why, sizeof why - 1);
    tc_scrub(inst->answer, answer, sizeof answer - 1);
    printf("%-8s %s%s%s%s%s\n", tocsin_action_name(n->action),
           v.kind == TOCSIN_DONE ? "delivered" : v.kind == TOCSIN_RETRY ? "not delivered "
                                                                            "(would be retried)"
                                                                        : "failed",
           *why ? ": " : "", why, *answer ? "\n         provider: " : "", answer);
    if (v.kind == TOCSIN_DONE && mem.set) {
        free(*ref);
        *ref = mem.forget ? NULL : strdup(mem.ref);
    }
    return v.kind == TOCSIN_DONE;
}

int tc_test_sink(struct tc_config *cfg, const char *id)
{
    const struct tc_instance_conf *conf = tc_config_sink(cfg, id);
    struct tc_daemon d;
    struct tc_instance inst;
    struct tocsin_kv labels[] = { { "alertname", "TocsinTest" }, { "tocsin_test", "true" } };
    struct tocsin_kv annotations[1];
    struct tocsin_alert alert;
    struct tocsin_notification n;
    char host[128] = "this host", summary[256], key[64], answer[1024], *ref = NULL;
    int64_t now = tc_now_ms();
    int ok = 0, created = 0, started = 0;
    size_t i;

    if (!conf) {
        fprintf(stderr, "tocsind: no sink \"%s\" in %s; its sinks:", id, cfg->path);
        for (i = 0; i < cfg->n_sinks; i++)
            fprintf(stderr, " %s", cfg->sinks[i].id);
        fprintf(stderr, "%s\n", cfg->n_sinks ? "" : " none");
        return 2;
    }
    memset(&d, 0, sizeof d);
    memset(&inst, 0, sizeof inst);
    d.cfg = cfg;
    d.lock_fd = -1;
    inst.conf = conf;
    inst.plugin = conf->plugin_ref->desc;
    inst.d = &d;
    inst.answer = answer;
    inst.answer_len = sizeof answer;
    tc_host_init(&inst);
    inst.host.state_get = mem_state_get;
    inst.host.state_put = mem_state_put;
    inst.host.state_delete = mem_state_delete;
    tc_host_without_timers(&inst.host);
    inst.host.route = no_route;
    inst.host.emit = no_emit;
    inst.host.emit_sized = NULL;

    gethostname(host, sizeof host - 1);
    snprintf(summary, sizeof summary,
             "tocsin test notification from %s: not a real incident, nothing to do", host);
    snprintf(key, sizeof key, "tocsin-test-%lld", (long long)now);
    annotations[0] = (struct tocsin_kv){ "description",
                                         "Sent by tocsind --test-sink to check this sink's "
                                         "settings; it resolves at once." };
    memset(&alert, 0, sizeof alert);
    alert.dedup_key = key;
    alert.status = TOCSIN_FIRING;
    alert.severity = TOCSIN_SEV_INFO; /* the quietest: a check must not wake anyone */
    alert.summary = summary;
    alert.source = "tocsind --test-sink";
    alert.labels = labels;
    alert.n_labels = 2;
    alert.annotations = annotations;
    alert.n_annotations = 1;
    alert.started_at = alert.received_at = now;

    memset(&n, 0, sizeof n);
    n.sink_id = conf->id;
    n.incident_id = 0;
    n.alert = &alert;
    n.occurrences = 1;
    n.first_seen = n.last_seen = now;
    n.attempt = 1;
    n.external_url = cfg->daemon.external_url ? cfg->daemon.external_url : "";
    n.test = 1;

    printf("sink %s (%s): sending a test trigger, then its resolve\n", conf->id, conf->plugin);
    if (inst.plugin->create(&inst.host, conf->conf, &inst.self) != TOCSIN_OK) {
        printf("create failed (see above)\n");
        goto out;
    }
    created = 1;
    if (inst.plugin->start && inst.plugin->start(inst.self) != TOCSIN_OK) {
        printf("start failed (see above)\n");
        goto out;
    }
    started = 1;
    n.action = TOCSIN_ACT_TRIGGER;
    n.outbox_id = now; /* unique per run: an idempotency key must not drop it */
    ok = deliver(&inst, &n, &ref);
    alert.status = TOCSIN_RESOLVED;
    alert.ended_at = tc_now_ms();
    n.action = TOCSIN_ACT_RESOLVE;
    n.outbox_id = now + 1;
    n.actor = "tocsind --test-sink";
    n.note = "test notification: nothing was wrong";
    n.ref = ref;
    ok = deliver(&inst, &n, &ref) && ok;
    printf("%s\n", ok ? "OK: both delivered" : "FAILED: not both delivered");
out:
    if (started && inst.plugin->stop)
        inst.plugin->stop(inst.self);
    if (created && inst.plugin->destroy)
        inst.plugin->destroy(inst.self);
    free(ref);
    while (state)
        mem_state_delete(NULL, state->key);
    return ok ? 0 : 1;
}
