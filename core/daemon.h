/* daemon.h: a running tocsind: plugin instances and the core's parts. */
#ifndef TC_DAEMON_H
#define TC_DAEMON_H

#include <limits.h>
#include <stdatomic.h>
#include <tocsin/plugin.h>

#include "auth.h"
#include "config.h"
#include "deadline.h"
#include "dispatcher.h"
#include "http.h"
#include "pipeline.h"
#include "store.h"
#include "timers.h"

struct tc_daemon;

/* A plugin instance: its config, its host table and its opaque self. */
struct tc_instance {
    const struct tc_instance_conf *conf;
    const struct tocsin_plugin *plugin;
    struct tocsin_host host;
    void *self;
    int created, started;
    int reported;      /* --check-config: create() already named its error */
    char *answer;      /* --test-sink: the last provider answer goes here */
    size_t answer_len;
    struct tc_daemon *d;
};

struct tc_daemon {
    struct tc_config *cfg;
    struct tc_store *store;
    struct tc_auth *auth;
    struct tc_http *http;
    struct tc_deadlines *deadlines;
    struct tc_timers *timers;
    struct tc_pipeline *pipeline;
    struct tc_dispatcher *dispatcher;
    struct tc_instance *inputs, *policies, *sinks;
    struct tc_policy_ref *policy_refs;
    struct tc_sink_ref *sink_refs;
    atomic_int ready;
    int64_t started_at;           /* ms since the epoch (Alertmanager's "uptime") */
    int lock_fd;                  /* flock()ed state_dir/tocsind.lock, or -1 */
    struct tc_errors *check_errs; /* --check-config: where errors go, else NULL */
    char bound[128];
    char addr_file[PATH_MAX];
};

/* Open the store, create and start every instance, listen. On failure
 * everything started is stopped again and -1 returned (errors logged). */
int tc_daemon_start(struct tc_config *cfg, struct tc_daemon **out);
/* Graceful stop: refuse new work, deliver what is due within
 * daemon.drain_timeout, stop everything, free. cfg stays the caller's. */
void tc_daemon_stop(struct tc_daemon *d);
/* --check-config: every check start-up makes beyond tc_config_load()
 * (state_dir usable, listen address resolvable, every instance created,
 * its routes registered, then destroyed without start), without binding
 * the port, taking the state_dir lock or writing the store. Problems go
 * to errs ("FILE:LINE: ..."); returns how many there were. */
size_t tc_daemon_check(struct tc_config *cfg, struct tc_errors *errs);

/* Fill inst->host (host.c). */
void tc_host_init(struct tc_instance *inst);
/* For an instance that is created but never really runs (--check-config,
 * --test-sink): timers are accepted (id 1) and never fire. */
void tc_host_without_timers(struct tocsin_host *h);
/* Register the core's own routes (api.c). */
int tc_api_register(struct tc_daemon *d);

#endif
