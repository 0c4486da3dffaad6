/* console.c: the `console` sink: one line per notification on standard
 * output or appended to a file (for trying tocsin out, and as an audit
 * trail). The line itself is format.c's. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <pthread.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "format.h"

struct console_conf {
    const char *path;
};

static const struct tocsin_option console_options[] = {
    { "path", TOCSIN_OPT_STRING, "-", 0, offsetof(struct console_conf, path),
      "File to append lines to; \"-\" is standard output." },
    { 0 }
};

struct console {
    const struct tocsin_host *host;
    const char *where;     /* for messages: the path or "standard output" */
    FILE *out;
    pthread_mutex_t lock;  /* deliver() runs on several workers at once */
};

static int console_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct console_conf *cf = conf;
    const char *path = cf->path && *cf->path ? cf->path : "-";
    struct console *c = calloc(1, sizeof *c);

    if (!c)
        return TOCSIN_ENOMEM;
    c->host = host;
    if (strcmp(path, "-") == 0) {
        c->out = stdout;
        c->where = "standard output";
    } else {
        /* Opened here so a bad path stops the daemon at start-up. */
        c->out = fopen(path, "a");
        c->where = path;
        if (!c->out) {
            int e = errno;
            char msg[128];

            if (strerror_r(e, msg, sizeof msg) != 0)
                snprintf(msg, sizeof msg, "error %d", e);
            free(c);
            return host->fail(host, "cannot open %s for appending: %s", path, msg);
        }
        setvbuf(c->out, NULL, _IOLBF, 0);
    }
    pthread_mutex_init(&c->lock, NULL);
    *self = c;
    return TOCSIN_OK;
}

static struct tocsin_verdict console_deliver(void *self, const struct tocsin_notification *n)
{
    struct console *c = self;
    char stack[1024], *line = stack;
    struct tocsin_verdict v = tocsin_done();
    int len, ok;

    len = console_format(n, stack, sizeof stack);
    if (len < 0)
        return tocsin_failed("notification without an alert");
    if ((size_t)len >= sizeof stack) {
        line = malloc((size_t)len + 1);
        if (!line)
            return tocsin_retry(0, "out of memory");
        console_format(n, line, (size_t)len + 1);
    }

    pthread_mutex_lock(&c->lock);
    clearerr(c->out);
    /* One stdio call per line, so lines the daemon's own logging writes
     * to the same stream cannot land in the middle of ours. */
    ok = fprintf(c->out, "%s\n", line) >= 0 && fflush(c->out) == 0 && !ferror(c->out);
    if (!ok) {
        int e = errno;
        char msg[128];

        /* A full disk or a closed pipe may recover: let the core retry. */
        if (strerror_r(e, msg, sizeof msg) != 0)
            snprintf(msg, sizeof msg, "error %d", e);
        v = tocsin_retry(0, "writing to %s failed: %s", c->where, msg);
        clearerr(c->out);
    }
    pthread_mutex_unlock(&c->lock);

    if (line != stack)
        free(line);
    return v;
}

static void console_destroy(void *self)
{
    struct console *c = self;

    if (c->out != stdout)
        fclose(c->out);
    else
        fflush(stdout);
    pthread_mutex_destroy(&c->lock);
    free(c);
}

const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "console",
    .version = "1.0.0",
    .description = "One line per notification on standard output or in a file",
    .options = console_options,
    .conf_size = sizeof(struct console_conf),
    .create = console_create,
    .deliver = console_deliver,
    .destroy = console_destroy,
};
