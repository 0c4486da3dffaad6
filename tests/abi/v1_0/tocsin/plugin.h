/* tocsin/plugin.h: the plugin SDK, ABI v1. The one header a plugin includes.
 *
 * A plugin is a shared object named <kind>_<name>.so that exports one
 * symbol, `tocsin_plugin`, a const struct tocsin_plugin that begins with
 * TOCSIN_PLUGIN_HEADER. The core checks magic, ABI major and struct size
 * before it touches anything else.
 *
 * Versioning rules (both structs below follow them):
 *   - members are only ever appended, with a minor bump;
 *   - removing or changing a member is a major bump;
 *   - each struct records its own size, so either side can be newer.
 * A plugin that needs a host function added in minor N checks
 * host->abi_minor >= N (or host->size) in create() and fails clearly.
 */
#ifndef TOCSIN_PLUGIN_H
#define TOCSIN_PLUGIN_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#ifdef __cplusplus
extern "C" {
#endif

#define TOCSIN_PLUGIN_MAGIC 0x54435350u /* "TCSP" */
#define TOCSIN_ABI_MAJOR 1
#define TOCSIN_ABI_MINOR 0

#if defined(__GNUC__)
#define TOCSIN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TOCSIN_PRINTF(fmt, args)
#endif

/* Return codes of plugin and host functions. */
enum {
    TOCSIN_OK = 0,
    TOCSIN_ERROR = -1,     /* generic failure, already logged */
    TOCSIN_ENOMEM = -2,
    TOCSIN_EINVAL = -3,    /* bad input (an HTTP 400) */
    TOCSIN_EBUSY = -4,     /* core saturated: try again later (HTTP 503) */
    TOCSIN_EIO = -5,       /* storage failed (HTTP 500) */
    TOCSIN_ESHUTDOWN = -6, /* daemon is stopping (HTTP 503) */
    TOCSIN_ENOTSUP = -7,   /* host too old for what the plugin needs */
};

enum tocsin_kind {
    TOCSIN_INPUT = 1,  /* turns requests or polls into alerts */
    TOCSIN_SINK = 2,   /* delivers notifications */
    TOCSIN_POLICY = 3, /* passes, suppresses or annotates alerts */
};

enum tocsin_log_level {
    TOCSIN_LOG_ERROR = 0,
    TOCSIN_LOG_WARN = 1,
    TOCSIN_LOG_INFO = 2,
    TOCSIN_LOG_DEBUG = 3,
};

/* ---------------------------------------------------------------------------
 * Alerts
 */

enum tocsin_status { TOCSIN_FIRING = 0, TOCSIN_RESOLVED = 1 };

/* P0..P4; PagerDuty critical/error/warning/info/info, Opsgenie P1..P5. */
enum tocsin_severity {
    TOCSIN_SEV_CRITICAL = 0,
    TOCSIN_SEV_HIGH = 1,
    TOCSIN_SEV_MEDIUM = 2,
    TOCSIN_SEV_LOW = 3,
    TOCSIN_SEV_INFO = 4,
};

struct tocsin_kv {
    const char *key;
    const char *value;
};

/* A normalised alert. Times are milliseconds since the Unix epoch, 0 when
 * unknown. When a plugin emits alerts, every pointer belongs to the plugin
 * and need only live for the duration of the emit() call: the core copies. */
struct tocsin_alert {
    const char *dedup_key; /* NULL or "": derived from the sorted labels */
    enum tocsin_status status;
    enum tocsin_severity severity;
    const char *summary;   /* one line */
    const char *details;   /* longer text, may be NULL */
    const char *source;    /* NULL: the emitting input's instance id */
    const char *service;   /* NULL: labels.service or labels.job */
    const struct tocsin_kv *labels;
    size_t n_labels;
    const struct tocsin_kv *annotations; /* runbook_url, description, ... */
    size_t n_annotations;
    const struct tocsin_kv *links;       /* title -> URL ("generator" is the source link) */
    size_t n_links;
    int64_t started_at;
    int64_t received_at;   /* 0: the core stamps it */
    int64_t ended_at;      /* resolved alerts: when it ended */
    int64_t expires_at;    /* firing alerts: refresh deadline (Alertmanager endsAt) */
};

/* Names used on the wire: "critical".."info", "firing"/"resolved". */
static inline const char *tocsin_severity_name(enum tocsin_severity s)
{
    static const char *const names[] = { "critical", "high", "medium", "low", "info" };
    return (unsigned)s < 5 ? names[s] : "info";
}

static inline const char *tocsin_status_name(enum tocsin_status s)
{
    return s == TOCSIN_RESOLVED ? "resolved" : "firing";
}

/* Value of `key` in a kv array, or NULL. */
static inline const char *tocsin_kv_get(const struct tocsin_kv *kv, size_t n, const char *key)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (kv[i].key && strcmp(kv[i].key, key) == 0)
            return kv[i].value;
    return NULL;
}

/* ---------------------------------------------------------------------------
 * Notifications and verdicts (sinks)
 */

enum tocsin_action {
    TOCSIN_ACT_TRIGGER = 1,     /* a new incident */
    TOCSIN_ACT_ACKNOWLEDGE = 2, /* someone took it */
    TOCSIN_ACT_RESOLVE = 3,     /* it is over */
};

static inline const char *tocsin_action_name(enum tocsin_action a)
{
    switch (a) {
    case TOCSIN_ACT_TRIGGER: return "trigger";
    case TOCSIN_ACT_ACKNOWLEDGE: return "acknowledge";
    case TOCSIN_ACT_RESOLVE: return "resolve";
    }
    return "unknown";
}

/* One notification to deliver. Valid for the duration of deliver(). */
struct tocsin_notification {
    const char *sink_id;       /* the sink instance */
    int64_t incident_id;
    enum tocsin_action action;
    const struct tocsin_alert *alert; /* the incident's latest alert */
    int64_t occurrences;       /* how many times the alert arrived */
    int64_t first_seen;
    int64_t last_seen;
    const char *actor;         /* who acknowledged or resolved, or NULL */
    const char *note;          /* resolution note, or NULL */
    int attempt;               /* 1 for the first try */
    const char *external_url;  /* daemon.external_url, or "" */
    int64_t outbox_id;         /* stable across retries: an idempotency key */
};

enum tocsin_verdict_kind {
    TOCSIN_DONE = 0,   /* delivered */
    TOCSIN_RETRY = 1,  /* try again (after retry_after s, or the core's backoff) */
    TOCSIN_FAILED = 2, /* permanent failure: do not retry */
};

struct tocsin_verdict {
    enum tocsin_verdict_kind kind;
    int retry_after;   /* seconds; 0: the core picks (backoff with jitter) */
    char reason[240];  /* the provider's reason, for the timeline; no secrets */
};

static inline struct tocsin_verdict tocsin_done(void)
{
    struct tocsin_verdict v = { TOCSIN_DONE, 0, "" };
    return v;
}

static inline struct tocsin_verdict tocsin_verdict_make(enum tocsin_verdict_kind kind,
                                                        int retry_after,
                                                        const char *fmt, va_list ap)
{
    struct tocsin_verdict v = { kind, retry_after, "" };
    vsnprintf(v.reason, sizeof v.reason, fmt, ap);
    return v;
}

TOCSIN_PRINTF(2, 3)
static inline struct tocsin_verdict tocsin_retry(int retry_after, const char *fmt, ...)
{
    va_list ap;
    struct tocsin_verdict v;

    va_start(ap, fmt);
    v = tocsin_verdict_make(TOCSIN_RETRY, retry_after, fmt, ap);
    va_end(ap);
    return v;
}

TOCSIN_PRINTF(1, 2)
static inline struct tocsin_verdict tocsin_failed(const char *fmt, ...)
{
    va_list ap;
    struct tocsin_verdict v;

    va_start(ap, fmt);
    v = tocsin_verdict_make(TOCSIN_FAILED, 0, fmt, ap);
    va_end(ap);
    return v;
}

/* ---------------------------------------------------------------------------
 * Policies
 */

enum tocsin_decision {
    TOCSIN_PASS = 0,     /* go on to the next policy */
    TOCSIN_SUPPRESS = 1, /* stored, but nobody is notified; reason recorded */
};

struct tocsin_policy_result {
    enum tocsin_decision decision;
    char reason[240];
    void *core; /* private to the core (annotations added by host->annotate) */
};

/* ---------------------------------------------------------------------------
 * Options: a typed table per plugin, enforced by the core
 *
 * The core checks the instance's config block against the table (unknown
 * keys, wrong types and missing required options are errors with
 * file:line), resolves "env:NAME" and "file:PATH" in strings, and fills a
 * conf struct of conf_size bytes at each option's offset:
 *
 *   TOCSIN_OPT_STRING    const char *           (NULL when unset, no default)
 *   TOCSIN_OPT_INT       int64_t
 *   TOCSIN_OPT_BOOL      int                    (0 or 1)
 *   TOCSIN_OPT_DURATION  int64_t milliseconds   (30, "30s", "5m", "250ms", "1h")
 *   TOCSIN_OPT_SIZE      int64_t bytes          (1024, "64k", "1M")
 *   TOCSIN_OPT_STRLIST   struct tocsin_strlist  (["a", "b"] or "a")
 *   TOCSIN_OPT_MAP       struct tocsin_map      ({ key = "value"; ... })
 *
 * The conf struct stays valid until destroy().
 */
enum tocsin_opt_type {
    TOCSIN_OPT_STRING = 1,
    TOCSIN_OPT_INT,
    TOCSIN_OPT_BOOL,
    TOCSIN_OPT_DURATION,
    TOCSIN_OPT_SIZE,
    TOCSIN_OPT_STRLIST,
    TOCSIN_OPT_MAP,
};

#define TOCSIN_OPT_REQUIRED 0x1u /* no default: the instance must set it */
#define TOCSIN_OPT_SECRET 0x2u   /* never printed (logs, errors, API) */

struct tocsin_option {
    const char *name;
    enum tocsin_opt_type type;
    const char *def;     /* default, as text in the type's syntax, or NULL */
    unsigned flags;
    size_t offset;       /* offsetof(conf struct, field) */
    const char *description;
};

struct tocsin_strlist {
    size_t n;
    const char *const *items;
};

struct tocsin_map {
    size_t n;
    const struct tocsin_kv *items;
};

/* ---------------------------------------------------------------------------
 * HTTP served by the core's listener (input routes)
 */

struct tocsin_http_request {
    const char *method;  /* "POST" */
    const char *path;    /* "/api/v2/alerts", without the query */
    const char *body;    /* NUL-terminated; may hold NULs within body_len */
    size_t body_len;
    const char *remote_addr;
    /* A request header (case-insensitive) or query argument, or NULL. */
    const char *(*header)(const struct tocsin_http_request *req, const char *name);
    const char *(*query)(const struct tocsin_http_request *req, const char *name);
    void *core;          /* private */
};

struct tocsin_http_response {
    int status;               /* default 200 */
    char *body;               /* malloc()ed by the plugin, freed by the core; NULL: empty */
    const char *content_type; /* static string; default "application/json" */
    int retry_after;          /* seconds; > 0 adds a Retry-After header */
};

/* Called on an HTTP thread, possibly concurrently for one instance.
 * Return TOCSIN_OK with resp filled. May block in host->emit(). */
typedef int (*tocsin_route_fn)(void *self, const struct tocsin_http_request *req,
                               struct tocsin_http_response *resp);

/* ---------------------------------------------------------------------------
 * Outbound HTTP through the core's libcurl settings
 */

struct tocsin_http_call {
    const char *method;               /* "POST" */
    const char *url;
    const char *const *headers;       /* NULL-terminated "Name: value" list, or NULL */
    const char *body;
    size_t body_len;
    long timeout_ms;                  /* 0: the core's default (10 s) */
};

struct tocsin_http_result {
    long status;           /* HTTP status, 0 when no answer came */
    char *body;            /* the answer (NUL-terminated), freed by http_free */
    size_t body_len;
    int retry_after;       /* seconds from Retry-After, -1 when absent */
    int timed_out;         /* 1 when the call hit its timeout */
    char error[200];       /* transport error, "" when an answer came */
};

/* ---------------------------------------------------------------------------
 * Host services: what the core offers a plugin instance
 *
 * One table per instance (so log lines name it). Every function takes the
 * table itself first. Thread-safe unless noted.
 */
struct tocsin_host {
    uint32_t size;          /* sizeof(struct tocsin_host) of the core */
    uint16_t abi_major;
    uint16_t abi_minor;
    const char *instance_id;   /* the "id" of this instance in the config */
    const char *external_url;  /* daemon.external_url or "" */
    void *core;                /* private */

    /* --- 1.0 --- */

    TOCSIN_PRINTF(3, 4)
    void (*log)(const struct tocsin_host *host, enum tocsin_log_level level,
                const char *fmt, ...);
    /* Logs an error and returns TOCSIN_ERROR: `return host->fail(host, ...)`. */
    TOCSIN_PRINTF(2, 3)
    int (*fail)(const struct tocsin_host *host, const char *fmt, ...);

    /* Current time in ms since the epoch, from the core's (injectable) clock. */
    int64_t (*now_ms)(const struct tocsin_host *host);

    /* Hand alerts to the core. Blocks until they are durably stored and
     * returns TOCSIN_OK; or TOCSIN_EBUSY when the intake queue is full
     * (nothing stored), TOCSIN_EINVAL for an alert the core refuses (err
     * says why; nothing stored), TOCSIN_EIO, TOCSIN_ESHUTDOWN. */
    int (*emit)(const struct tocsin_host *host, const struct tocsin_alert *alerts,
                size_t n, char *err, size_t errlen);

    /* Serve METHOD PATH on the core's listener; call from create() or
     * start(). An exact path, or a prefix when it ends in '*'. */
    int (*route)(const struct tocsin_host *host, const char *method, const char *path,
                 tocsin_route_fn fn, void *self);

    /* Run fn(self) after delay_ms, then every interval_ms (0: once), on
     * the core's timer thread. Returns a timer id > 0. Timers of an
     * instance are cancelled before its stop(). */
    int64_t (*timer_add)(const struct tocsin_host *host, int64_t delay_ms,
                         int64_t interval_ms, void (*fn)(void *self), void *self);
    void (*timer_cancel)(const struct tocsin_host *host, int64_t id);

    /* One blocking HTTP call (connections are reused per thread). Returns
     * TOCSIN_OK when an answer came (any status), TOCSIN_ERROR otherwise
     * (res->error says why). Always release res with http_free. */
    int (*http)(const struct tocsin_host *host, const struct tocsin_http_call *call,
                struct tocsin_http_result *res);
    void (*http_free)(const struct tocsin_host *host, struct tocsin_http_result *res);
    /* The usual mapping: 2xx done; 408, 429, 5xx, timeouts and transport
     * errors retried (honouring Retry-After); other 4xx failed. */
    struct tocsin_verdict (*http_verdict)(const struct tocsin_host *host,
                                          const struct tocsin_http_result *res);

    /* Typed access to the instance's options by name: a pointer to the
     * value in the conf struct (its C type as in the table above), or NULL. */
    const void *(*option)(const struct tocsin_host *host, const char *name,
                          enum tocsin_opt_type *type);

    /* Small durable key/value state of this instance (survives restarts).
     * state_get stores a malloc()ed copy in *value (free() it) or NULL. */
    int (*state_get)(const struct tocsin_host *host, const char *key, char **value);
    int (*state_put)(const struct tocsin_host *host, const char *key, const char *value);
    int (*state_delete)(const struct tocsin_host *host, const char *key);

    /* Policies: add an annotation to the alert being evaluated. */
    int (*annotate)(const struct tocsin_host *host, struct tocsin_policy_result *res,
                    const char *key, const char *value);
};

/* ---------------------------------------------------------------------------
 * The descriptor
 */

struct tocsin_plugin {
    /* Fixed forever: fill with TOCSIN_PLUGIN_HEADER. */
    uint32_t magic;
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t size;

    /* --- 1.0 --- */
    enum tocsin_kind kind;
    const char *name;        /* "webhook": the file is <kind>_<name>.so */
    const char *version;     /* the plugin's own version */
    const char *description; /* one line for --list-plugins */

    const struct tocsin_option *options; /* ends with { 0 }; may be NULL */
    size_t conf_size;                    /* size of the struct options fill */

    /* Lifecycle, on the core's main thread: create -> start -> stop -> destroy.
     * create: validate beyond the table, allocate, register routes.
     * start: begin work (timers, connections). stop: end it; after stop()
     * no callback of the instance runs again. All but create may be NULL. */
    int (*create)(const struct tocsin_host *host, const void *conf, void **self);
    int (*start)(void *self);
    void (*stop)(void *self);
    void (*destroy)(void *self);

    /* Sinks: format and deliver one notification, on a worker of this
     * instance (up to its `concurrency` at once). Retries, backoff and
     * bookkeeping are the core's: just say what happened. */
    struct tocsin_verdict (*deliver)(void *self, const struct tocsin_notification *n);

    /* Policies: judge one alert, on the core thread; must not block. */
    int (*evaluate)(void *self, const struct tocsin_alert *alert,
                    struct tocsin_policy_result *res);
};

#define TOCSIN_PLUGIN_HEADER                                                  \
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR,             \
    .abi_minor = TOCSIN_ABI_MINOR, .size = sizeof(struct tocsin_plugin)

/* The smallest descriptor a plugin of minor 0 may have. */
#define TOCSIN_PLUGIN_SIZE_1_0                                                \
    (offsetof(struct tocsin_plugin, evaluate) + sizeof(void (*)(void)))

#define TOCSIN_PLUGIN_SYMBOL "tocsin_plugin"

#ifdef __cplusplus
}
#endif
#endif /* TOCSIN_PLUGIN_H */
