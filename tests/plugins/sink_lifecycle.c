/* tests/plugins/sink_lifecycle.c: a sink that logs its lifecycle to a file,
 * and flags a deliver() outside start()..stop(), for the start-up and
 * shutdown order tests (tests/integration/test_ops.c). */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <tocsin/plugin.h>

struct life_conf {
    const char *path;
    int64_t start_delay_ms;
    int retry;
};

static const struct tocsin_option life_options[] = {
    { "path", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct life_conf, path),
      "File the events are appended to." },
    { "start_delay", TOCSIN_OPT_DURATION, "0", 0, offsetof(struct life_conf, start_delay_ms),
      "How long start() takes." },
    { "retry", TOCSIN_OPT_BOOL, "false", 0, offsetof(struct life_conf, retry),
      "Answer every delivery with retry." },
    { 0 }
};

struct life {
    const struct life_conf *conf;
    atomic_int started;
};

static void note(const struct life *l, const char *event)
{
    FILE *f = fopen(l->conf->path, "a");

    if (f) {
        fprintf(f, "%s\n", event);
        fclose(f);
    }
}

static int life_create(const struct tocsin_host *host, const void *conf, void **self)
{
    struct life *l = calloc(1, sizeof *l);

    if (!l)
        return TOCSIN_ENOMEM;
    l->conf = conf;
    *self = l;
    return TOCSIN_OK;
}

static int life_start(void *self)
{
    struct life *l = self;
    struct timespec ts = { (time_t)(l->conf->start_delay_ms / 1000),
                           (long)(l->conf->start_delay_ms % 1000) * 1000000 };

    note(l, "start-begin");
    nanosleep(&ts, NULL); /* a slow start(): a deliver() meanwhile is early */
    atomic_store(&l->started, 1);
    note(l, "start-end");
    return TOCSIN_OK;
}

static struct tocsin_verdict life_deliver(void *self, const struct tocsin_notification *n)
{
    struct life *l = self;

    note(l, atomic_load(&l->started) ? "deliver" : "deliver-outside-start-stop");
    return l->conf->retry ? tocsin_retry(0, "told to retry") : tocsin_done();
}

static void life_stop(void *self)
{
    struct life *l = self;

    atomic_store(&l->started, 0);
    note(l, "stop");
}

static void life_destroy(void *self)
{
    free(self);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK, .name = "lifecycle", .version = "1.0.0",
    .description = "A sink for tests that records its lifecycle.",
    .options = life_options, .conf_size = sizeof(struct life_conf),
    .create = life_create, .start = life_start, .deliver = life_deliver,
    .stop = life_stop, .destroy = life_destroy,
};
