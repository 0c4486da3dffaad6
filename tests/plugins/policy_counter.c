/* tests/plugins/policy_counter.c: a policy that keeps durable state from
 * the writer thread: it counts the alerts it judged (state "seen") and
 * annotates each alert with the count. */
#include <stdio.h>
#include <stdlib.h>
#include <tocsin/plugin.h>

struct counter {
    const struct tocsin_host *host;
};

static int counter_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct counter *c = malloc(sizeof *c);

    (void)conf;
    if (!c)
        return TOCSIN_ENOMEM;
    c->host = host;
    *self = c;
    return TOCSIN_OK;
}

static void counter_destroy(void *self)
{
    free(self);
}

static int counter_evaluate(void *self, const struct tocsin_alert *alert,
                            struct tocsin_policy_result *res)
{
    struct counter *c = self;
    char *value = NULL, text[32];
    long seen = 0;

    (void)alert;
    if (c->host->state_get(c->host, "seen", &value) != TOCSIN_OK)
        return TOCSIN_EIO;
    if (value)
        seen = strtol(value, NULL, 10);
    free(value);
    snprintf(text, sizeof text, "%ld", seen + 1);
    if (c->host->state_put(c->host, "seen", text) != TOCSIN_OK)
        return TOCSIN_EIO;
    c->host->annotate(c->host, res, "seen", text);
    res->decision = TOCSIN_PASS;
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_POLICY, .name = "counter", .version = "1.0.0",
    .description = "A policy for tests that counts alerts in its durable state.",
    .create = counter_create, .destroy = counter_destroy, .evaluate = counter_evaluate,
};
