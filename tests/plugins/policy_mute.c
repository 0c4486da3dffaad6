/* tests/plugins/policy_mute.c: a policy that mutes every alert labelled
 * mute="yes" as a maintenance window "test-window" would (suppressed_by),
 * and those labelled mute="quiet" without naming what muted them. */
#include <stdio.h>
#include <string.h>
#include <tocsin/plugin.h>

static int mute_create(const struct tocsin_host *host, const void *conf, void **self)
{
    (void)host;
    (void)conf;
    *self = NULL;
    return TOCSIN_OK;
}

static int mute_evaluate(void *self, const struct tocsin_alert *alert,
                         struct tocsin_policy_result *res)
{
    const char *mute = tocsin_kv_get(alert->labels, alert->n_labels, "mute");

    (void)self;
    if (mute && strcmp(mute, "yes") == 0) {
        res->decision = TOCSIN_SUPPRESS;
        snprintf(res->reason, sizeof res->reason, "in window test-window");
        snprintf(res->suppressed_by, sizeof res->suppressed_by, "test-window");
    } else if (mute && strcmp(mute, "quiet") == 0) {
        res->decision = TOCSIN_SUPPRESS;
        snprintf(res->reason, sizeof res->reason, "quiet");
    } else {
        res->decision = TOCSIN_PASS;
    }
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_POLICY, .name = "mute", .version = "1.0.0",
    .description = "A policy for tests that mutes alerts labelled mute=yes (by test-window).",
    .create = mute_create, .evaluate = mute_evaluate,
};
