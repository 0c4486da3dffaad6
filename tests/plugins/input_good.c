/* tests/plugins/input_good.c: a valid input with one optional option. */
#include <stddef.h>
#include <tocsin/plugin.h>

struct input_conf {
    const char *path;
};

static const struct tocsin_option input_options[] = {
    { "path", TOCSIN_OPT_STRING, "/hooks/good", 0, offsetof(struct input_conf, path),
      "Where requests arrive." },
    { 0 }
};

static int input_create(const struct tocsin_host *host, const void *conf, void **self)
{
    *self = NULL;
    return TOCSIN_OK;
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_INPUT, .name = "good", .version = "1.0.0",
    .description = "An input for tests.",
    .options = input_options, .conf_size = sizeof(struct input_conf),
    .create = input_create,
};
