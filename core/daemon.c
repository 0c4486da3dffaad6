/* daemon.c: bringing tocsind up in order, and down again gracefully. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "daemon.h"
#include "httpclient.h"
#include "log.h"
#include "loader.h"
#include "tls.h"

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

/* Start-up stops at the first instance that cannot be created;
 * --check-config (d->check_errs) goes on, to report every one. */
static int create_all(struct tc_daemon *d, struct tc_instance *v, size_t n)
{
    size_t i;
    int failed = 0;

    for (i = 0; i < n; i++) {
        const struct tc_instance_conf *c = v[i].conf;
        int rc = v[i].plugin->create(&v[i].host, c->conf, &v[i].self);

        if (rc == TOCSIN_OK) {
            v[i].created = 1;
            continue;
        }
        failed = 1;
        if (d->check_errs) {
            if (!v[i].reported)
                tc_errors_add(d->check_errs, "%s:%d: %s \"%s\" (%s): create failed (code %d)",
                              d->cfg->path, c->line, tc_kind_name(c->kind), c->id, c->plugin,
                              rc);
            continue;
        }
        tc_error("%s:%d: %s \"%s\" (%s): create failed", d->cfg->path, c->line,
                 tc_kind_name(c->kind), c->id, c->plugin);
        return -1;
    }
    return failed ? -1 : 0;
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
        tc_timers_release(v[i].d->timers, &v[i]); /* its timers may fire now */
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

    if (tc_store_make_dir(dir) < 0) {
        tc_error("cannot create state_dir %s: %s", dir, strerror(errno));
        return -1;
    }
    snprintf(path, sizeof path, "%s/tocsind.lock", dir);
    fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
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
    d->started_at = tc_now_ms();
    if (lock_state_dir(d) < 0)
        goto fail;
    if (tc_store_open(cfg->daemon.state_dir, &d->store, err, sizeof err) < 0) {
        tc_error("store: %s", err);
        goto fail;
    }
    d->auth = tc_auth_new(cfg);
    d->http = d->auth ? tc_http_new(&cfg->daemon, d->auth) : NULL;
    d->deadlines = tc_deadlines_start();
    d->timers = d->deadlines ? tc_timers_start(d->deadlines) : NULL;
    d->sinks = make_instances(d, cfg->sinks, cfg->n_sinks);
    d->policies = make_instances(d, cfg->policies, cfg->n_policies);
    d->inputs = make_instances(d, cfg->inputs, cfg->n_inputs);
    d->policy_refs = calloc(cfg->n_policies + 1, sizeof *d->policy_refs);
    d->sink_refs = calloc(cfg->n_sinks + 1, sizeof *d->sink_refs);
    if (!d->http || !d->timers || !d->sinks || !d->policies || !d->inputs || !d->policy_refs ||
        !d->sink_refs)
        goto fail;
    if (tc_api_register(d) < 0 || create_all(d, d->sinks, cfg->n_sinks) < 0 ||
        create_all(d, d->policies, cfg->n_policies) < 0 ||
        create_all(d, d->inputs, cfg->n_inputs) < 0)
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
    d->dispatcher = tc_dispatcher_new(d->deadlines, d->store, cfg, d->sink_refs, cfg->n_sinks);
    if (!d->dispatcher)
        goto fail;
    /* The dispatcher loads what the last run left pending before the
     * writer runs: a row the writer commits now is handed over, not also
     * loaded. */
    d->pipeline = tc_pipeline_new(d->deadlines, d->store, cfg, d->policy_refs, cfg->n_policies,
                                  d->dispatcher);
    if (!d->pipeline || tc_dispatcher_start(d->dispatcher, tc_pipeline_outcome, d->pipeline) < 0 ||
        tc_pipeline_run(d->pipeline) < 0) {
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
    /* Intake first: nothing new comes in while we finish what we have;
     * requests already being read are answered first. */
    tc_http_quiesce(d->http, cfg->daemon.request_timeout_ms);
    if (d->pipeline)
        tc_pipeline_close_intake(d->pipeline);
    tc_http_stop(d->http);
    stop_all(d, d->inputs, cfg->n_inputs);
    if (d->dispatcher && d->pipeline) {
        int64_t left;

        tc_dispatcher_drain(d->dispatcher, tc_now_ms() + cfg->daemon.drain_timeout_ms);
        left = tc_dispatcher_pending(d->dispatcher);
        if (left > 0)
            tc_info("%lld notifications stay pending for the next start", (long long)left);
    }
    /* Workers first (their outcomes queue at the writer), then the writer
     * (it records them, and may still hand rows to the stopped queues),
     * then the queues. */
    tc_dispatcher_stop(d->dispatcher);
    tc_pipeline_stop(d->pipeline);
    tc_dispatcher_free(d->dispatcher);
    stop_all(d, d->policies, cfg->n_policies);
    stop_all(d, d->sinks, cfg->n_sinks);
    tc_timers_stop(d->timers);
    d->timers = NULL;
    tc_deadlines_stop(d->deadlines); /* every owner above has cancelled its own */
    destroy_all(d->inputs, cfg->n_inputs);
    destroy_all(d->policies, cfg->n_policies);
    destroy_all(d->sinks, cfg->n_sinks);
    tc_http_free(d->http);
    tc_auth_free(d->auth);
    free(d->policy_refs);
    free(d->sink_refs);
    tc_store_close(d->store);
    if (d->lock_fd >= 0)
        close(d->lock_fd); /* last: the store is closed, another may start */
    free(d);
}

/* --- --check-config ------------------------------------------------------ */

/* What tc_store_open() and lock_state_dir() need, checked without writing:
 * the directory exists or can be created, we may create files in it, and
 * an existing store is one this build can open. */
static void check_state_dir(const struct tc_config *cfg, struct tc_errors *errs)
{
    const char *dir = cfg->daemon.state_dir;
    char db[PATH_MAX], parent[PATH_MAX];
    struct stat st;
    sqlite3 *conn = NULL;
    sqlite3_stmt *q = NULL;
    const char *why = NULL;
    int version = -1;

    if (stat(dir, &st) < 0) {
        if (errno != ENOENT) {
            tc_errors_add(errs, "%s: state_dir %s: %s", cfg->path, dir, strerror(errno));
            return;
        }
        /* tc_store_open() makes the directory itself, one level deep. */
        snprintf(parent, sizeof parent, "%s", dir);
        snprintf(db, sizeof db, "%s", dirname(parent));
        if (stat(db, &st) < 0)
            why = strerror(errno);
        else if (!S_ISDIR(st.st_mode))
            why = "not a directory";
        else if (access(db, W_OK | X_OK) < 0)
            why = strerror(errno);
        if (why)
            tc_errors_add(errs, "%s: state_dir %s does not exist and cannot be created in %s: %s",
                          cfg->path, dir, db, why);
        return;
    }
    if (!S_ISDIR(st.st_mode)) {
        tc_errors_add(errs, "%s: state_dir %s is not a directory", cfg->path, dir);
        return;
    }
    if (access(dir, W_OK | X_OK) < 0) {
        tc_errors_add(errs, "%s: state_dir %s is not writable: %s", cfg->path, dir,
                      strerror(errno));
        return;
    }
    snprintf(db, sizeof db, "%s/tocsin.db", dir);
    if (access(db, F_OK) < 0)
        return; /* a first start creates it */
    if (access(db, R_OK | W_OK) < 0) {
        tc_errors_add(errs, "%s: store %s is not writable: %s", cfg->path, db, strerror(errno));
        return;
    }
    /* Read-only: a running tocsind keeps its store; WAL lets us read beside it. */
    if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(conn, "PRAGMA user_version", -1, &q, NULL) != SQLITE_OK ||
        sqlite3_step(q) != SQLITE_ROW)
        tc_errors_add(errs, "%s: store %s cannot be read: %s", cfg->path, db,
                      conn ? sqlite3_errmsg(conn) : "out of memory");
    else
        version = sqlite3_column_int(q, 0);
    sqlite3_finalize(q);
    sqlite3_close(conn);
    if (version > TC_SCHEMA_VERSION)
        tc_errors_add(errs,
                      "%s: store %s has schema version %d, newer than this tocsind knows (%d); "
                      "run a newer tocsind or restore a backup",
                      cfg->path, db, version, TC_SCHEMA_VERSION);
}

/* tc_http_start() resolves daemon.listen before it binds; config.c has
 * checked the HOST:PORT shape, this checks that HOST resolves. */
static void check_listen(const struct tc_config *cfg, struct tc_errors *errs)
{
    struct addrinfo *ai;
    char err[512];

    if (tc_http_resolve(cfg->daemon.listen, &ai, err, sizeof err) < 0)
        tc_errors_add(errs, "%s: %s", cfg->path, err);
    else
        freeaddrinfo(ai);
}

/* tc_http_start() loads these; a wrong file fails start-up the same way. */
static void check_tls(const struct tc_config *cfg, struct tc_errors *errs)
{
    char *cert, *key, err[512];

    if (!cfg->daemon.tls_cert)
        return;
    if (!tc_tls_available()) {
        tc_errors_add(errs, "%s: daemon.tls_cert is set but libmicrohttpd was built without TLS",
                      cfg->path);
        return;
    }
    if (tc_tls_load(cfg->daemon.tls_cert, cfg->daemon.tls_key, &cert, &key, err,
                    sizeof err) < 0) {
        tc_errors_add(errs, "%s: %s", cfg->path, err);
        return;
    }
    free(cert);
    tc_tls_free_key(key);
}

/* The host table under --check-config: create() runs as at start-up,
 * but nothing it asks for may outlive the check or touch the store. */
static int check_fail(const struct tocsin_host *host, const char *fmt, ...)
{
    struct tc_instance *inst = host->core;
    const struct tc_instance_conf *c = inst->conf;
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tc_errors_add(inst->d->check_errs, "%s:%d: %s \"%s\" (%s): %s", inst->d->cfg->path, c->line,
                  tc_kind_name(c->kind), c->id, c->plugin, msg);
    inst->reported = 1;
    return TOCSIN_ERROR;
}

/* The store stays closed: reads find nothing, writes are dropped. */
static int check_state_get(const struct tocsin_host *host, const char *key, char **value)
{
    *value = NULL;
    return TOCSIN_OK;
}

static int check_state_put(const struct tocsin_host *host, const char *key, const char *value)
{
    return TOCSIN_OK;
}

static int check_state_delete(const struct tocsin_host *host, const char *key)
{
    return TOCSIN_OK;
}

static struct tc_instance *make_check_instances(struct tc_daemon *d,
                                                const struct tc_instance_conf *confs, size_t n)
{
    struct tc_instance *v = make_instances(d, confs, n);
    size_t i;

    for (i = 0; v && i < n; i++) {
        v[i].host.fail = check_fail;
        /* Timers belong in start(), which the check never calls. */
        tc_host_without_timers(&v[i].host);
        v[i].host.state_get = check_state_get;
        v[i].host.state_put = check_state_put;
        v[i].host.state_delete = check_state_delete;
    }
    return v;
}

size_t tc_daemon_check(struct tc_config *cfg, struct tc_errors *errs)
{
    struct tc_daemon d = { 0 };
    size_t before = errs->n;

    d.cfg = cfg;
    d.lock_fd = -1;
    d.check_errs = errs;
    check_state_dir(cfg, errs);
    check_listen(cfg, errs);
    check_tls(cfg, errs);
    /* Every instance is created, in start-up's order, into a listener
     * that never listens: plugins' own validation and route conflicts. */
    d.auth = tc_auth_new(cfg);
    d.http = d.auth ? tc_http_new(&cfg->daemon, d.auth) : NULL;
    d.sinks = make_check_instances(&d, cfg->sinks, cfg->n_sinks);
    d.policies = make_check_instances(&d, cfg->policies, cfg->n_policies);
    d.inputs = make_check_instances(&d, cfg->inputs, cfg->n_inputs);
    if (!d.http || !d.sinks || !d.policies || !d.inputs) {
        tc_errors_add(errs, "%s: out of memory", cfg->path);
    } else {
        if (tc_api_register(&d) < 0)
            tc_errors_add(errs, "%s: cannot register the core's routes", cfg->path);
        create_all(&d, d.sinks, cfg->n_sinks);
        create_all(&d, d.policies, cfg->n_policies);
        create_all(&d, d.inputs, cfg->n_inputs);
    }
    destroy_all(d.inputs, cfg->n_inputs);
    destroy_all(d.policies, cfg->n_policies);
    destroy_all(d.sinks, cfg->n_sinks);
    tc_http_free(d.http);
    tc_auth_free(d.auth);
    return errs->n - before;
}
