/* tests/abi/policy_v1_0.c: policy "abi10", built against the frozen 1.0
 * header: a policy binary compiled before 1.1. It suppresses alerts
 * labelled mute=yes, annotates every alert it passes with checked_by, and
 * counts what it judged in its durable state (1.0 state_get/state_put). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

_Static_assert(TOCSIN_ABI_MINOR == 0, "not the frozen 1.0 header: -I tests/abi/v1_0 must come first");

struct abi10_conf {
    const char *label;
};

static const struct tocsin_option abi10_options[] = {
    { "label", TOCSIN_OPT_STRING, "mute", 0, offsetof(struct abi10_conf, label),
      "The label whose value \"yes\" suppresses an alert." },
    { 0 }
};

struct abi10 {
    const struct tocsin_host *host;
    const struct abi10_conf *conf;
};

static int abi10_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct abi10 *p = calloc(1, sizeof *p);

    if (!p)
        return TOCSIN_ENOMEM;
    p->host = host;
    p->conf = conf;
    *self = p;
    return TOCSIN_OK;
}

static void abi10_destroy(void *self)
{
    free(self);
}

static int abi10_evaluate(void *self, const struct tocsin_alert *alert,
                          struct tocsin_policy_result *res)
{
    struct abi10 *p = self;
    const char *v = tocsin_kv_get(alert->labels, alert->n_labels, p->conf->label);
    char *count = NULL, next[32];

    if (p->host->state_get(p->host, "judged", &count) != TOCSIN_OK)
        return TOCSIN_ERROR;
    snprintf(next, sizeof next, "%ld", (count ? atol(count) : 0) + 1);
    free(count);
    if (p->host->state_put(p->host, "judged", next) != TOCSIN_OK)
        return TOCSIN_ERROR;
    if (v && strcmp(v, "yes") == 0) {
        res->decision = TOCSIN_SUPPRESS;
        snprintf(res->reason, sizeof res->reason, "muted by abi10 (%s=yes)", p->conf->label);
        return TOCSIN_OK;
    }
    return p->host->annotate(p->host, res, "checked_by", "abi10");
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_POLICY,
    .name = "abi10",
    .version = "1.0.0",
    .description = "A 1.0 policy: mute=yes suppresses",
    .options = abi10_options,
    .conf_size = sizeof(struct abi10_conf),
    .create = abi10_create,
    .destroy = abi10_destroy,
    .evaluate = abi10_evaluate,
};
