/* sink_example.c: an example third-party tocsin sink, built out of tree
 * against the installed SDK only (<tocsin/plugin.h>, pkg-config
 * tocsin-plugin). Appends one line per notification to a file, and
 * optionally POSTs the same line to a URL through the core's HTTP client.
 *
 * Built against ABI 1.1, it still loads in a 1.0 tocsind: it keeps a 1.0
 * deliver() beside deliver_sized(), and needs a 1.1 host function
 * (http_sized) only when `url` is set, which create() checks. On a 1.1
 * host a trigger's line also tells where it was written (host->remember),
 * and the incident's later lines point back to it (n->ref).
 *
 * Config:
 *   sinks = ( { id = "audit"; plugin = "example"; path = "/var/log/tocsin/audit.log";
 *               labels = true; } );
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <tocsin/plugin.h>

/* Filled by the core from the option table below. */
struct example_conf {
    const char *path;
    int labels;
    const char *url;
};

static const struct tocsin_option example_options[] = {
    { "path", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED, offsetof(struct example_conf, path),
      "File to append one line per notification to (created 0640 if missing)." },
    { "labels", TOCSIN_OPT_BOOL, "true", 0, offsetof(struct example_conf, labels),
      "Append the alert's labels as key=value pairs." },
    { "url", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET, offsetof(struct example_conf, url),
      "Also POST each line (text/plain) to this http(s):// URL; needs tocsind with "
      "plugin ABI 1.1." },
    { 0 }
};

struct example {
    const struct tocsin_host *host;
    const struct example_conf *conf;
    int fd;
};

static int example_create(const struct tocsin_host *host, const void *conf, void **self)
{
    const struct example_conf *cf = conf;
    struct example *ex;

    /* The host may be older than our header. Check every host function
     * added after 1.0 before relying on it, and say what is missing. */
    if (cf->url && !TOCSIN_HOST_HAS(host, http_sized)) {
        host->fail(host, "url needs tocsin plugin ABI 1.1 (this tocsind has %u.%u)",
                   (unsigned)host->abi_major, (unsigned)host->abi_minor);
        return TOCSIN_ENOTSUP;
    }
    if (cf->url && strncmp(cf->url, "http://", 7) != 0 && strncmp(cf->url, "https://", 8) != 0)
        return host->fail(host, "url must start with http:// or https://");
    ex = calloc(1, sizeof *ex);
    if (!ex)
        return TOCSIN_ENOMEM;
    ex->host = host;
    ex->conf = cf;
    /* O_APPEND and one write() per line: deliver() may run on several
     * workers at once (the sink's `concurrency`) without a lock. */
    ex->fd = open(cf->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
    if (ex->fd < 0) {
        int e = errno;

        free(ex);
        return host->fail(host, "cannot open %s: %s", cf->path, strerror(e));
    }
    *self = ex;
    return TOCSIN_OK;
}

/* Append s to buf[*len..size), keeping room for the final newline; tabs
 * and newlines become spaces so one notification stays on one line. */
static void put(char *buf, size_t size, size_t *len, const char *s)
{
    for (; s && *s && *len + 2 < size; s++)
        buf[(*len)++] = (*s == '\n' || *s == '\t' || *s == '\r') ? ' ' : *s;
}

/* POST the line through the core (its timeouts, its shutdown abort); the
 * core's usual mapping turns the answer into a verdict. */
static struct tocsin_verdict post_line(struct example *ex, const char *line, size_t len)
{
    const struct tocsin_host *host = ex->host;
    static const char *const headers[] = { "Content-Type: text/plain", NULL };
    struct tocsin_http_call call;
    struct tocsin_http_result res;
    struct tocsin_verdict v;

    memset(&call, 0, sizeof call);
    call.method = "POST";
    call.url = ex->conf->url;
    call.headers = headers;
    call.body = line;
    call.body_len = len;
    /* Our sizes: the core reads and writes only what both sides know. */
    host->http_sized(host, &call, sizeof call, &res, sizeof res);
    v = host->http_verdict(host, &res);
    host->http_free(host, &res);
    return v;
}

/* sized: called through deliver_sized, so the core is 1.1 or later and
 * the notification has the 1.1 members (ref). */
static struct tocsin_verdict example_verdict(struct example *ex,
                                             const struct tocsin_notification *n, int sized)
{
    const struct tocsin_alert *a = n->alert;
    char line[4096], num[64], at[32];
    size_t len = 0, i;
    off_t offset = lseek(ex->fd, 0, SEEK_END);
    ssize_t w;

    snprintf(num, sizeof num, "%lld ", (long long)n->incident_id);
    put(line, sizeof line, &len, num);
    put(line, sizeof line, &len, tocsin_action_name(n->action));
    put(line, sizeof line, &len, " [");
    put(line, sizeof line, &len, tocsin_severity_name(a->severity));
    put(line, sizeof line, &len, "] ");
    put(line, sizeof line, &len, a->summary ? a->summary : "(no summary)");
    if (n->actor) {
        put(line, sizeof line, &len, " by ");
        put(line, sizeof line, &len, n->actor);
    }
    if (sized && n->ref) {
        put(line, sizeof line, &len, " (trigger at byte ");
        put(line, sizeof line, &len, n->ref);
        put(line, sizeof line, &len, ")");
    }
    if (ex->conf->labels)
        for (i = 0; i < a->n_labels; i++) {
            put(line, sizeof line, &len, i ? " " : " {");
            put(line, sizeof line, &len, a->labels[i].key);
            put(line, sizeof line, &len, "=");
            put(line, sizeof line, &len, a->labels[i].value);
            if (i + 1 == a->n_labels)
                put(line, sizeof line, &len, "}");
        }
    line[len++] = '\n';

    w = write(ex->fd, line, len);
    if (w < 0) {
        int e = errno;

        /* A full disk may clear up: the core retries with backoff. */
        if (e == ENOSPC || e == EINTR || e == EAGAIN || e == EDQUOT)
            return tocsin_retry(0, "write %s: %s", ex->conf->path, strerror(e));
        return tocsin_failed("write %s: %s", ex->conf->path, strerror(e));
    }
    if ((size_t)w != len)
        ex->host->log(ex->host, TOCSIN_LOG_WARN, "short write to %s (%zd of %zu bytes)",
                      ex->conf->path, w, len);
    /* Kept for the incident only if this delivery ends DONE. */
    if (sized && n->action == TOCSIN_ACT_TRIGGER && TOCSIN_HOST_HAS(ex->host, remember) &&
        offset >= 0) {
        snprintf(at, sizeof at, "%lld", (long long)offset);
        ex->host->remember(ex->host, n, at);
    }
    /* create() made sure http_sized is there when url is set. A retry (the
     * URL failing) appends the line again: the file logs attempts. */
    if (ex->conf->url)
        return post_line(ex, line, len);
    return tocsin_done();
}

/* ABI 1.1: the core allocates the verdict; tocsin_verdict_put writes only
 * what fits the size the core says. */
static void example_deliver_sized(void *self, const struct tocsin_notification *n,
                                  struct tocsin_verdict *v, size_t verdict_size)
{
    tocsin_verdict_put(v, verdict_size, example_verdict(self, n, 1));
}

/* ABI 1.0: what a 1.0 tocsind calls (a 1.1 one calls deliver_sized). */
static struct tocsin_verdict example_deliver(void *self, const struct tocsin_notification *n)
{
    return example_verdict(self, n, 0);
}

static void example_destroy(void *self)
{
    struct example *ex = self;

    if (ex->fd >= 0)
        close(ex->fd);
    free(ex);
}

/* The one exported symbol. */
const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER,
    .kind = TOCSIN_SINK,
    .name = "example",
    .version = "1.1.0",
    .description = "appends one line per notification to a file (example plugin)",
    .options = example_options,
    .conf_size = sizeof(struct example_conf),
    .create = example_create,
    .deliver = example_deliver,
    .destroy = example_destroy,
    .deliver_sized = example_deliver_sized,
};
