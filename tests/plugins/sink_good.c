/* tests/plugins/sink_good.c: a valid sink whose option table covers every
 * option type, for the loader and config tests. */
#include <stddef.h>
#include <stdlib.h>
#include <tocsin/plugin.h>

struct good_conf {
    const char *url;
    const char *token;
    const char *greeting;
    int64_t retries;
    int verbose;
    int64_t timeout_ms;
    int64_t max_size;
    struct tocsin_strlist tags;
    struct tocsin_map headers;
};

static const struct tocsin_option good_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED,
      offsetof(struct good_conf, url), "Where to deliver." },
    { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct good_conf, token), "Bearer token." },
    { "greeting", TOCSIN_OPT_STRING, "hello", 0,
      offsetof(struct good_conf, greeting), "First word of every message." },
    { "retries", TOCSIN_OPT_INT, "3", 0, offsetof(struct good_conf, retries),
      "How often to retry." },
    { "verbose", TOCSIN_OPT_BOOL, "false", 0, offsetof(struct good_conf, verbose),
      "Log more." },
    { "timeout", TOCSIN_OPT_DURATION, "30s", 0, offsetof(struct good_conf, timeout_ms),
      "Request timeout." },
    { "max_size", TOCSIN_OPT_SIZE, "64k", 0, offsetof(struct good_conf, max_size),
      "Largest payload." },
    { "tags", TOCSIN_OPT_STRLIST, "a,b", 0, offsetof(struct good_conf, tags),
      "Tags added to every message." },
    { "headers", TOCSIN_OPT_MAP, NULL, 0, offsetof(struct good_conf, headers),
      "Extra HTTP headers." },
    { 0 }
};

static int good_create(const struct tocsin_host *host, const void *conf, void **self)
{
    *self = (void *)conf;
    return TOCSIN_OK;
}

static struct tocsin_verdict good_deliver(void *self, const struct tocsin_notification *n)
{
    return tocsin_done();
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK, .name = "good", .version = "1.0.0",
    .description = "A sink for tests that delivers nowhere.",
    .options = good_options, .conf_size = sizeof(struct good_conf),
    .create = good_create, .deliver = good_deliver,
};
