/* tests/plugins/policy_good.c: a valid policy without options. */
#include <stddef.h>
#include <tocsin/plugin.h>

static int policy_create(const struct tocsin_host *host, const void *conf, void **self)
{
    *self = NULL;
    return TOCSIN_OK;
}

static int policy_evaluate(void *self, const struct tocsin_alert *alert,
                           struct tocsin_policy_result *res)
{
    res->decision = TOCSIN_PASS;
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_POLICY, .name = "good", .version = "1.0.0",
    .description = "A policy for tests that passes everything.",
    .create = policy_create, .evaluate = policy_evaluate,
};
