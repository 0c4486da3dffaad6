/* tests/plugins/sink_secretive.c: a sink whose secret options have
 * defaults, for --plugin-help and config errors that must not show them
 * (tests/integration/test_hygiene.c). */
#include <stddef.h>
#include <tocsin/plugin.h>

struct secretive_conf {
    const char *api_key;
    int64_t pin;
    struct tocsin_strlist keys;
    const char *region;
};

static const struct tocsin_option secretive_options[] = {
    { "api_key", TOCSIN_OPT_STRING, "d3fault-api-k3y", TOCSIN_OPT_SECRET,
      offsetof(struct secretive_conf, api_key), "Key sent with every call." },
    { "pin", TOCSIN_OPT_INT, "735911", TOCSIN_OPT_SECRET, offsetof(struct secretive_conf, pin),
      "A numeric secret." },
    { "keys", TOCSIN_OPT_STRLIST, "d3fault-k1,d3fault-k2", TOCSIN_OPT_SECRET,
      offsetof(struct secretive_conf, keys), "Keys to rotate through." },
    { "region", TOCSIN_OPT_STRING, "eu-west", 0, offsetof(struct secretive_conf, region),
      "Where the provider lives." },
    { 0 }
};

static int secretive_create(const struct tocsin_host *host, const void *conf, void **self)
{
    *self = (void *)conf;
    return TOCSIN_OK;
}

static struct tocsin_verdict secretive_deliver(void *self, const struct tocsin_notification *n)
{
    return tocsin_done();
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK, .name = "secretive", .version = "1.0.0",
    .description = "A sink for tests whose secrets have defaults.",
    .options = secretive_options, .conf_size = sizeof(struct secretive_conf),
    .create = secretive_create, .deliver = secretive_deliver,
};
