/* instance.h: the slack sink's instance, shared by its files: slack.c (the
 * descriptor, options and lifecycle), deliver.c (each action's calls to
 * Slack) and lookup.c (finding what an earlier attempt posted). Private to
 * the plugin. */
#ifndef TC_SLACK_INSTANCE_H
#define TC_SLACK_INSTANCE_H

#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "format.h"

struct slack_conf {
    const char *webhook_url;
    const char *token;
    const char *channel;
    const char *api_url;
    struct tocsin_map mention;
    struct tocsin_map colors;
    int64_t timeout; /* ms */
};

struct slack {
    const struct tocsin_host *host;
    const struct slack_conf *conf;
    struct slack_style style;
    char *api;  /* api_url without a trailing '/' */
    char *auth; /* "Authorization: Bearer <token>" */
    /* The channel's id, when channel names it by name: from Slack's
     * answers, kept in the instance's state (a retry's look-up needs it). */
    pthread_mutex_t mu;
    char channel_id[32];
    atomic_int warned_lookup; /* said once why a retry cannot look */
};

/* What became of n: both modes, all three actions. */
struct tocsin_verdict slack_deliver_one(struct slack *s, const struct tocsin_notification *n);

static inline long slack_timeout_ms(const struct slack *s)
{
    return s->conf->timeout > LONG_MAX ? LONG_MAX : (long)s->conf->timeout;
}

/* lookup.c. The channel's id from an answer, kept when channel is a name. */
void slack_learn_channel(struct slack *s, const char *id);
/* On a retry (attempt > 1): has an earlier attempt posted n's message
 * (thread_ts: its reply in that thread of channel)? 1 with its ts (and,
 * for a top-level message, channel) filled; 0: not found, or cannot tell
 * (then post: twice is better than never); -1: Slack asks to wait (*v). */
int slack_find_posted(struct slack *s, const struct tocsin_notification *n,
                      const char *thread_ts, char *channel, size_t csize, char *ts,
                      size_t tsize, struct tocsin_verdict *v);

#endif
