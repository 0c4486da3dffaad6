/* daemon.c: bringing tocsind up in order, and down again gracefully. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "httpclient.h"
#include "log.h"
#include "loader.h"

static struct tc_instance *make_instances(struct tc_daemon *d,
                                          const struct tc_instance_conf *confs, size_t n)
{
    struct tc_instance *v = calloc(n ? n : 1, sizeof *v);
    size_t i;

    for (i = 0; v && i < n; i++) {
        v[i].conf = &confs[i];
        v[i].plugin = confs[i].plugin_ref->desc;
        v[i].d = d;
        tc_host_init(&v[i]);
    }
    return v;
}

static int create_all(struct tc_instance *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        int rc = v[i].plugin->create(&v[i].host, v[i].conf->conf, &v[i].self);

        if (rc != TOCSIN_OK) {
            tc_error("%s \"%s\" (%s): create failed", tc_kind_name(v[i].conf->kind),
                     v[i].conf->id, v[i].conf->plugin);
            return -1;
        }
        v[i].created = 1;
    }
    return 0;
}

static int start_all(struct tc_instance *v, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (v[i].plugin->start && v[i].plugin->start(v[i].self) != TOCSIN_OK) {
            tc_error("%s \"%s\" (%s): start failed", tc_kind_name(v[i].conf->kind),
                     v[i].conf->id, v[i].conf->plugin);
            return -1;
        }
        v[i].started = 1;
    }
    return 0;
}

static void stop_all(struct tc_daemon *d, struct tc_instance *v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++) {
        if (d->timers)
            tc_timers_cancel_owner(d->timers, &v[i]);
        if (v[i].started && v[i].plugin->stop)
            v[i].plugin->stop(v[i].self);
        v[i].started = 0;
    }
}

static void destroy_all(struct tc_instance *v, size_t n)
{
    size_t i;

    for (i = 0; v && i < n; i++) {
        if (v[i].created && v[i].plugin->destroy)
            v[i].plugin->destroy(v[i].self);
        v[i].created = 0;
    }
    free(v);
}

/* Tools and tests find an ephemeral port here; written atomically. */
static int write_addr_file(struct tc_daemon *d)
{
    char tmp[PATH_MAX + 8];
    FILE *f;

    snprintf(d->addr_file, sizeof d->addr_file, "%s/tocsind.addr", d->cfg->daemon.state_dir);
    snprintf(tmp, sizeof tmp, "%s.tmp", d->addr_file);
    f = fopen(tmp, "w");
    if (!f || fprintf(f, "%s\n", d->bound) < 0 || fclose(f) != 0 || rename(tmp, d->addr_file)) {
        tc_error("cannot write %s: %s", d->addr_file, strerror(errno));
        d->addr_file[0] = '\0';
        return -1;
    }
    return 0;
}

/* One tocsind per state_dir: two writers on one store would each resume
 * the other's outbox and page twice. The lock lives as long as the
 * process (the kernel drops it on any exit, kill -9 included); the file
 * is never removed, so that two starters always lock the same inode. It
 * holds the owner's pid, for the message. */
static int lock_state_dir(struct tc_daemon *d)
{
    const char *dir = d->cfg->daemon.state_dir;
    char path[PATH_MAX], pid[32] = "";
    ssize_t n;
    int fd;

    if (mkdir(dir, 0750) < 0 && errno != EEXIST) {
        tc_error("cannot create state_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/tocsind.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
    if (fd < 0) {
        tc_error("cannot open %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
        int e = errno;

        if (e == EWOULDBLOCK) {
            n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            if (pid[0])
                tc_error("state_dir %s is in use by another tocsind (pid %s holds %s); "
                         "stop it first, or give this one its own state_dir", dir, pid, path);
            else
                tc_error("state_dir %s is in use by another tocsind (%s is locked); "
                         "stop it first, or give this one its own state_dir", dir, path);
        } else {
            tc_error("cannot lock %s: %s", path, strerror(e));
        }
        close(fd);
        return -1;
    }
    n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n)
        tc_warn("cannot write the pid to %s: %s", path, strerror(errno));
    d->lock_fd = fd;
    return 0;
}

int tc_daemon_start(struct tc_config *cfg, struct tc_daemon **out)
{
    struct tc_daemon *d = calloc(1, sizeof *d);
    char err[512];
    size_t i;

    if (!d)
        return -1;
    *out = NULL;
    d->cfg = cfg;
    d->lock_fd = -1;
    if (lock_state_dir(d) < 0)
        goto fail;
    if (tc_store_open(cfg->daemon.state_dir, &d->store, err, sizeof err) < 0) {
        tc_error("store: %s", err);
        goto fail;
    }
    d->http = tc_http_new(cfg->daemon.max_body);
    d->timers = tc_timers_start();
    d->sinks = make_instances(d, cfg->sinks, cfg->n_sinks);
    d->policies = make_instances(d, cfg->policies, cfg->n_policies);
    d->inputs = make_instances(d, cfg->inputs, cfg->n_inputs);
    d->policy_refs = calloc(cfg->n_policies + 1, sizeof *d->policy_refs);
    d->sink_refs = calloc(cfg->n_sinks + 1, sizeof *d->sink_refs);
    if (!d->http || !d->timers || !d->sinks || !d->policies || !d->inputs || !d->policy_refs ||
        !d->sink_refs)
        goto fail;
    if (tc_api_register(d) < 0 || create_all(d->sinks, cfg->n_sinks) < 0 ||
        create_all(d->policies, cfg->n_policies) < 0 ||
        create_all(d->inputs, cfg->n_inputs) < 0)
        goto fail;
    for (i = 0; i < cfg->n_sinks; i++)
        d->sink_refs[i] = (struct tc_sink_ref){ d->sinks[i].conf, d->sinks[i].plugin,
                                                d->sinks[i].self };
    for (i = 0; i < cfg->n_policies; i++)
        d->policy_refs[i] = (struct tc_policy_ref){ d->policies[i].conf->id,
                                                    d->policies[i].plugin,
                                                    d->policies[i].self };
    /* Sinks and policies first: the dispatcher's workers call deliver() as
     * soon as they run (rows left pending by the last run are due at
     * once), and the writer evaluates policies from its first batch. */
    if (start_all(d->sinks, cfg->n_sinks) < 0 || start_all(d->policies, cfg->n_policies) < 0)
        goto fail;
    d->dispatcher = tc_dispatcher_new(d->store, cfg, d->sink_refs, cfg->n_sinks);
    if (!d->dispatcher)
        goto fail;
    d->pipeline = tc_pipeline_start(d->store, cfg, d->policy_refs, cfg->n_policies,
                                    d->dispatcher);
    if (!d->pipeline || tc_dispatcher_start(d->dispatcher, d->pipeline) < 0) {
        tc_error("cannot start the pipeline");
        goto fail;
    }
    /* Inputs once their alerts have somewhere to go; the listener last,
     * when every route's owner is running. */
    if (start_all(d->inputs, cfg->n_inputs) < 0)
        goto fail;
    if (tc_http_start(d->http, cfg->daemon.listen, d->bound, sizeof d->bound, err,
                      sizeof err) < 0) {
        tc_error("%s", err);
        goto fail;
    }
    write_addr_file(d);
    atomic_store(&d->ready, 1);
    tc_info("tocsind %s listening on %s (%zu inputs, %zu policies, %zu sinks)",
            PACKAGE_VERSION, d->bound, cfg->n_inputs, cfg->n_policies, cfg->n_sinks);
    *out = d;
    return 0;
fail:
    tc_daemon_stop(d);
    return -1;
}

void tc_daemon_stop(struct tc_daemon *d)
{
    const struct tc_config *cfg;

    if (!d)
        return;
    cfg = d->cfg;
    atomic_store(&d->ready, 0);
    if (d->addr_file[0])
        unlink(d->addr_file);
    /* Intake first: nothing new comes in while we finish what we have.
     * The listener stops before intake closes, so that a request whose
     * handler already runs is still stored (and answered 2xx). */
    tc_http_stop(d->http);
    if (d->pipeline)
        tc_pipeline_close_intake(d->pipeline);
    stop_all(d, d->inputs, cfg->n_inputs);
    if (d->dispatcher && d->pipeline) {
        int64_t left;

        tc_dispatcher_drain(d->dispatcher, tc_now_ms() + cfg->daemon.drain_timeout_ms);
        left = tc_dispatcher_pending(d->dispatcher);
        if (left > 0)
            tc_info("%lld notifications stay pending for the next start", (long long)left);
    }
    /* Known gap: tc_dispatcher_free() joins the workers and frees the
     * queues in one call, while the writer (stopped next) can still hand
     * expired incidents' rows to them. Either order has a window; this
     * one's is an expiry falling due within it. Needs a separate
     * tc_dispatcher_stop() (dispatcher.c). */
    tc_dispatcher_free(d->dispatcher);
    tc_pipeline_stop(d->pipeline);
    stop_all(d, d->policies, cfg->n_policies);
    stop_all(d, d->sinks, cfg->n_sinks);
    tc_timers_stop(d->timers);
    d->timers = NULL;
    destroy_all(d->inputs, cfg->n_inputs);
    destroy_all(d->policies, cfg->n_policies);
    destroy_all(d->sinks, cfg->n_sinks);
    tc_http_free(d->http);
    free(d->policy_refs);
    free(d->sink_refs);
    tc_store_close(d->store);
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* last: the store is closed, another may start */
    free(d);
}
