/* harness.h: runs the real tocsind for the integration tests: a temp dir
 * per test, the config, start / SIGTERM / kill -9, an HTTP client
 * (libcurl) and wait helpers. Environment (set by `make check`): TOCSIND,
 * TOCSIN_PLUGIN_DIR, TOCSIN_TMPDIR, TOCSIN_SRCDIR. */
#ifndef TOCSIN_TEST_HARNESS_H
#define TOCSIN_TEST_HARNESS_H

#include <check.h>
#include <jansson.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>
#include <sys/types.h>

#include "../peers/peer.h"

#define H_DIR_MAX 1024
#define H_PATH_MAX (H_DIR_MAX + 64)

struct h_daemon {
    char dir[H_DIR_MAX];        /* the test's own temp dir */
    char state_dir[H_PATH_MAX]; /* dir/state */
    char conf[H_PATH_MAX];      /* dir/tocsin.conf */
    char log[H_PATH_MAX];       /* dir/tocsind.log: the daemon's stderr */
    char console[H_PATH_MAX];   /* dir/console.log: the console sink's file */
    char addr_file[H_PATH_MAX]; /* state_dir/tocsind.addr */
    pid_t pid;                /* 0 when not running */
    int port;                 /* the daemon's listening port */
    char base[64];            /* "http://127.0.0.1:PORT" (https:// with tls) */
    int tls;                  /* set before h_start: the daemon serves HTTPS */
    char clock_file[H_PATH_MAX]; /* dir/clock when h_clock_enable()d, else "" */
    int64_t *clock;           /* its int64 offset (ms), mapped shared */
};

/* Options for h_config_standard(): the config of the brief with
 * inputs prom (alertmanager) and api (generic), sinks hook (webhook) and
 * console, and one catch-all route to both. Each *_extra is pasted inside
 * that block as libconfig settings (e.g. "format = \"alertmanager\";"). */
struct h_config {
    int peer_port;
    const char *max_body;       /* default "64k" */
    int intake_queue;           /* default 10000 */
    const char *drain_timeout;  /* default "5s" */
    const char *listen;         /* default "127.0.0.1:0" */
    const char *daemon_extra;
    const char *prom_extra;     /* inside input "prom" (alertmanager) */
    const char *api_extra;      /* inside input "api" (generic) */
    const char *hook_extra;     /* default: retry_base 100ms, retry_max 1s, max_attempts 5 */
    int no_console;             /* 1: no console sink */
    const char *top_extra;      /* top-level settings appended (e.g. "policies = (...);") */
};

/* A fresh temp dir under $TOCSIN_TMPDIR; fills the paths. The dir is
 * removed when the test passes (unless TOCSIN_KEEP_TMP is set) and kept,
 * with the daemon's log printed, when it fails. */
void h_init(struct h_daemon *d);
/* Writes d->conf with the given text (printf format). */
void h_write_config(struct h_daemon *d, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Writes d->conf from the standard template. */
void h_config_standard(struct h_daemon *d, const struct h_config *c);

/* Starts `$TOCSIND -f -c d->conf` (stderr and stdout to d->log), waits for
 * the address file and GET /readyz == 200. Fails the test otherwise. */
void h_start(struct h_daemon *d);
/* Like h_start, but returns -1 instead of failing (for tests of refusal). */
int h_try_start(struct h_daemon *d, int timeout_ms);
/* SIGTERM; waits up to timeout_ms. Returns the exit status (0..255),
 * 128+signal when killed by one, -1 on timeout (the daemon is then killed). */
int h_stop(struct h_daemon *d, int timeout_ms);
/* kill -9 and reap. */
void h_kill9(struct h_daemon *d);
/* Prints the last lines of the daemon's log to stderr. */
void h_dump_log(const struct h_daemon *d, int lines);

/* Test clock: call before h_start. The daemon then gets TOCSIN_TEST_CLOCK
 * naming dir/clock (an int64 ms offset added to its wall clock, kept across
 * restarts); h_clock_advance moves it forward and the daemon's waits notice
 * within ~20 ms. */
void h_clock_enable(struct h_daemon *d);
void h_clock_advance(struct h_daemon *d, int64_t ms);

/* Runs `$TOCSIND args...` (NULL-terminated) to completion, capturing its
 * stdout+stderr into a malloc()ed string *out. Returns the exit status. */
int h_run_tocsind(char **out, ...);

/* Registers h_passed as a checked teardown: without it, h_* assume the
 * test failed and print the daemon's log tail when the test process exits. */
void h_passed(void);
TCase *h_tcase(const char *name, int timeout_s);

/* HTTP client. */
struct h_resp {
    long status;
    char *body;         /* NUL-terminated, "" when empty */
    size_t len;
    int retry_after;    /* Retry-After header value, -1 when absent */
    char content_type[128];
    char www_authenticate[128];
    char allow[128];    /* Allow header value, "" when absent */
};
/* A CA file (PEM) the client trusts for https:// URLs, or NULL. */
extern const char *h_ca_file;
/* method, url, optional body (then Content-Type: application/json).
 * Returns 0, or -1 when no answer came (resp->status 0). */
int h_http(const char *method, const char *url, const char *body, size_t body_len,
           long timeout_ms, struct h_resp *resp);
/* The same with extra "Name: value" headers (NULL-terminated list). */
int h_http_ex(const char *method, const char *url, const char *body, size_t body_len,
              long timeout_ms, const char *const *headers, struct h_resp *resp);
void h_resp_free(struct h_resp *resp);
/* On the daemon, with extra "Name: value" headers (NULL-terminated
 * varargs, at most 7); the status (0: no answer). */
long h_call(const struct h_daemon *d, const char *method, const char *path, const char *body,
            struct h_resp *r, ...);
/* On the daemon: "GET"/"POST" + path. Body may be NULL. */
long h_req(const struct h_daemon *d, const char *method, const char *path,
           const char *body, struct h_resp *resp);
/* Parses resp->body as JSON (fails the test when it is not). */
json_t *h_json(const struct h_resp *resp);
/* GET path and parse: fails the test unless the status is 200. */
json_t *h_get_json(const struct h_daemon *d, const char *path);
/* The value of one series of GET /metrics (e.g. "tocsin_ready" or
 * "tocsin_sink_pending{sink=\"hook\"}"); -1 when it is not there. */
long long h_metric(const struct h_daemon *d, const char *series);

/* Incidents. */
json_t *h_incidents(const struct h_daemon *d, const char *status); /* the array (owned) */
json_t *h_incident(const struct h_daemon *d, int64_t id);         /* the object (owned) */
/* Waits until incident id has a notification with sink, action and state
 * (e.g. "done"); returns the notification (owned) or NULL on timeout. */
json_t *h_wait_notification(const struct h_daemon *d, int64_t id, const char *sink,
                            const char *action, const char *state, int timeout_ms);
/* The id of the incident whose dedup_key is key, or -1. */
int64_t h_incident_by_key(const struct h_daemon *d, const char *key);
/* The first timeline entry of kind whose detail (as text: a string as is,
 * anything else as compact JSON) contains detail_substr (NULL: any), as an
 * index or -1, or as the entry (borrowed from inc) or NULL. */
int h_timeline_index(json_t *inc, const char *kind, const char *detail_substr);
json_t *h_timeline_find(json_t *inc, const char *kind, const char *detail_substr);
/* The entry's detail as text (malloc()ed). */
char *h_detail(json_t *entry);

/* Alert bodies. An Alertmanager alert array with one alert named name
 * (labels alertname, instance, severity) ; ends_in_s: endsAt = now + s
 * (negative: resolved), 0: no endsAt. Returns a malloc()ed string. */
char *h_am_alert(const char *name, const char *instance, const char *severity,
                 const char *summary, int ends_in_s);
/* The Alertmanager fingerprint of those labels (the dedup key). */
void h_am_fingerprint(const char *name, const char *instance, const char *severity,
                      char out[17]);

int64_t h_now_ms(void);
/* 1 in a ThreadSanitizer build (TOCSIN_TEST_TSAN): tests of time or
 * memory bounds then stop early, saying why (h_skip_bounds_under_tsan). */
int h_under_tsan(void);
#define h_skip_bounds_under_tsan()                                                     \
    do {                                                                               \
        if (h_under_tsan()) {                                                          \
            fprintf(stderr, "%s: time and memory bounds not checked under TSan\n",     \
                    __func__);                                                         \
            return;                                                                    \
        }                                                                              \
    } while (0)
void h_sleep_ms(int ms);
/* Polls pred(arg) every 20 ms until true or timeout; returns pred's last. */
int h_wait_until(int (*pred)(void *arg), void *arg, int timeout_ms);
/* Copies plugin file name from src_dir into dir (0755), for a test's own
 * plugin_dir holding just the plugins it needs. */
void h_copy_plugin(const char *src_dir, const char *dir, const char *name);
/* Reads a whole file (malloc()ed, NUL-terminated) or NULL. */
char *h_read_file(const char *path);
/* Number of lines of path containing needle. */
int h_count_lines(const char *path, const char *needle);

/* A started peer (fails the test otherwise). */
struct peer *h_peer_started(void);
/* Fails the test (printing them) when the peer saw protocol violations. */
void h_assert_no_violations(const struct h_daemon *d, struct peer *p);

/* Members of a JSON object, failing the test when missing or mistyped. */
int64_t h_jint(json_t *obj, const char *key);
const char *h_jstr(json_t *obj, const char *key);
/* obj[key][sub] as a string, or NULL. */
const char *h_jsub(json_t *obj, const char *key, const char *sub);

/* Runs the suite (CK_FORK) and returns the process exit status. */
int h_run_suite(Suite *s);

/* Fails the test with the daemon's log tail when cond is false. */
#define h_assert(d, cond, ...)                                                  \
    do {                                                                       \
        if (!(cond)) {                                                         \
            h_dump_log((d), 40);                                               \
            ck_abort_msg(__VA_ARGS__);                                         \
        }                                                                      \
    } while (0)

#endif
