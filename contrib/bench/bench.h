/* bench.h: tocsin-bench, a load driver and webhook receiver for tocsind.
 * What its parts (main, load, receiver, daemon) share; not installed. */
#ifndef TOCSIN_BENCH_H
#define TOCSIN_BENCH_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* CLOCK_MONOTONIC in nanoseconds: every time the bench compares. */
int64_t bench_now_ns(void);
/* Sleep until a CLOCK_MONOTONIC time (ns); returns at once if past. */
void bench_sleep_until(int64_t t_ns);
void bench_sleep_ms(int64_t ms);

/* The book of one run: per alert (indexed by its seq label), when the
 * accepted POST that carried it was sent and when the webhook brought it
 * back. 0 means "not (yet)". Senders write sent_ns after a 2xx; the
 * receiver writes arrived_ns (first arrival wins) on its own threads. */
struct bench_book {
    size_t n;
    const char *run_id;
    int64_t *sent_ns;
    int64_t *answered_ns; /* when that POST's 2xx came back */
    _Atomic int64_t *arrived_ns;
    atomic_size_t delivered;  /* distinct seqs that arrived */
    atomic_size_t duplicates; /* a seq that arrived again */
    atomic_size_t foreign;    /* webhook posts not attributable to this run */
    atomic_size_t hook_posts; /* webhook requests seen */
    atomic_size_t hook_bad;   /* webhook bodies that were not JSON */
};

/* --- receiver.c: the webhook peer, libmicrohttpd on 127.0.0.1:0 --- */
struct bench_receiver;
struct bench_receiver *receiver_start(struct bench_book *book, char *err, size_t errlen);
unsigned short receiver_port(const struct bench_receiver *r);
void receiver_stop(struct bench_receiver *r);

/* --- load.c: the senders, libcurl, one keep-alive handle per connection --- */
struct load_opts {
    const char *url;       /* http://127.0.0.1:PORT/api/v2/alerts */
    size_t batch;          /* alerts per POST */
    unsigned connections;  /* sender threads, one connection each */
    double rate;           /* alerts/s; 0: as fast as possible */
    int max_retries;       /* per POST, on 429/503/transport errors */
    int64_t deadline_ns;   /* no new POST after this monotonic time */
    long timeout_ms;       /* per request */
};

#define LOAD_STATUS_MAX 600
struct load_stats {
    size_t requests;       /* POSTs attempted, retries included */
    size_t accepted;       /* alerts answered 2xx */
    size_t refused;        /* alerts whose POST finally failed */
    size_t skipped;        /* alerts never sent (deadline) */
    size_t retries;
    size_t status[LOAD_STATUS_MAX]; /* [0]: transport errors */
    int64_t t_first_ns;    /* first POST sent */
    int64_t t_last_ns;     /* last answer received */
    int64_t *req_ns;       /* round trip of each accepted POST (n_req_ns) */
    size_t n_req_ns;
    int64_t max_lag_ns;    /* with a rate: worst lateness against schedule */
    char first_error[256]; /* first non-2xx answer or transport error */
};

int load_run(const struct load_opts *o, struct bench_book *book, struct load_stats *st,
             char *err, size_t errlen);
void load_stats_free(struct load_stats *st);

/* --- daemon.c: spawn tocsind on a temp config, watch it, stop it --- */
struct daemon_opts {
    const char *tocsind;     /* path of the binary */
    const char *plugin_dir;
    const char *log_level;   /* daemon.log_level */
    const char *tmp_parent;  /* where the temp dir goes ($TMPDIR or /tmp) */
    const char *wrap;        /* command prefix ("valgrind --tool=..."), or NULL */
    unsigned sink_concurrency;
    int intake_only;         /* no route: measure intake without deliveries */
    const char *daemon_conf; /* more settings for the daemon block, or NULL */
    int64_t start_timeout_ms;
};

struct bench_daemon {
    pid_t pid;
    char dir[512];        /* the run's temp dir */
    char conf[600];
    char state_dir[600];
    char log_path[600];
    char base_url[128];   /* http://127.0.0.1:PORT */
    int reaped;           /* waitpid() returned it */
    int wstatus;
};

int daemon_start(struct bench_daemon *d, const struct daemon_opts *o, unsigned short hook_port,
                 char *err, size_t errlen);
/* 0 while it runs; 1 when it exited (wstatus holds how). */
int daemon_exited(struct bench_daemon *d);
/* VmHWM and VmRSS in KiB from /proc/PID/status; -1 when unreadable. */
int daemon_memory(const struct bench_daemon *d, long *hwm_kib, long *rss_kib);
/* User and system CPU time in ms from /proc/PID/stat. */
int daemon_cpu(const struct bench_daemon *d, long *user_ms, long *sys_ms);
/* SIGTERM, wait up to timeout_ms, then SIGKILL. Returns the time it took
 * in ms; d->wstatus tells how it ended. */
int64_t daemon_stop(struct bench_daemon *d, int64_t timeout_ms, int *killed);
/* Print the last lines of the daemon's log to stderr. */
void daemon_log_tail(const struct bench_daemon *d, int lines);
void daemon_cleanup(struct bench_daemon *d, int keep);

#endif
