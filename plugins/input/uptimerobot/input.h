/* input.h: the uptimerobot instance, shared by the webhook glue
 * (uptimerobot.c) and the poller (poll.c). */
#ifndef TC_UPTIMEROBOT_INPUT_H
#define TC_UPTIMEROBOT_INPUT_H

#include <stdint.h>
#include <tocsin/plugin.h>

#include "parse.h"

struct ur_conf {
    const char *path;
    const char *token;
    struct tocsin_map severity;
    const char *dashboard_url;
    const char *api_key;
    int64_t interval;   /* ms */
    const char *api_url;
    int64_t rate_limit; /* requests per minute the plan allows */
    int seems_down;
    int64_t api_failures;
};

struct ur_input {
    const struct tocsin_host *host;
    const struct ur_conf *conf;
    struct ur_rules rules;
    int64_t timer;
    /* The poller's, touched only on its timer lane. */
    int64_t not_before; /* ms: no request before (rate limit, Retry-After) */
    int64_t failures;   /* consecutive failed polls */
    int api_alert;      /* the "API unreachable" alert is firing */
};

/* Timer callback: one poll of getMonitors (every page). */
void ur_poll(void *self);

#endif
