/* tocsin/plugin.h: the plugin SDK, ABI 1.1. The one header a plugin includes.
 *
 * A plugin is a shared object named <kind>_<name>.so that exports one
 * symbol, `tocsin_plugin`, a const struct tocsin_plugin that begins with
 * TOCSIN_PLUGIN_HEADER. The core checks magic, ABI major and struct size
 * before it touches anything else.
 *
 * Versioning rules:
 *   - members are only ever appended, with a minor bump, under a
 *     "--- 1.N ---" mark; removing or changing a member is a major bump;
 *   - a plugin binary built against any 1.x header loads and works in every
 *     tocsind of ABI 1.x or later (tests/abi proves it for 1.0 with a frozen
 *     copy of the 1.0 header);
 *   - the descriptor records its minor and size: the loader accepts minor N
 *     when the size is at least TOCSIN_PLUGIN_SIZE_1_N (a minor newer than
 *     the daemon's: at least the daemon's whole struct), and uses only the
 *     members minor N has;
 *   - the host table records its minor and size: a plugin checks
 *     TOCSIN_HOST_HAS(host, member) in create() before it relies on a host
 *     function added after 1.0, and fails clearly without it:
 *
 *         if (!TOCSIN_HOST_HAS(host, http_sized)) {
 *             host->fail(host, "needs tocsin ABI 1.1 (host has %u.%u)",
 *                        host->abi_major, host->abi_minor);
 *             return TOCSIN_ENOTSUP;
 *         }
 *
 *   - a struct one side allocates and the other reads travels with its
 *     size, so it can grow: alert arrays (emit_sized), HTTP calls and
 *     results (http_sized), option tables (the descriptor's option_size),
 *     verdicts (deliver_sized). The reader uses the members that fit in the
 *     size it was given; the others are absent (NULL or 0);
 *   - structs the core allocates and zeroes for a plugin to read or fill
 *     (notifications, HTTP requests and responses, policy results) can grow
 *     as they are: a plugin touches only the members of its own minor.
 * Each 1.0 entry point stays and means what it meant; struct tocsin_verdict,
 * returned by value from deliver(), is frozen at its 1.0 members.
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
#define TOCSIN_ABI_MINOR 1

#if defined(__GNUC__)
#define TOCSIN_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define TOCSIN_PRINTF(fmt, args)
#endif

/* 1 when a `type` of `size` bytes (the size the other side reported) holds
 * `member` whole. E.g. TOCSIN_SIZE_HAS(struct tocsin_verdict, verdict_size, x). */
#define TOCSIN_SIZE_HAS(type, size, member)                                   \
    ((size_t)(size) >= offsetof(type, member) + sizeof(((type *)0)->member))

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
 * and need only live for the duration of the emit() call: the core copies.
 * May grow: an array a plugin emits travels with its stride (emit_sized);
 * the one the core hands a sink or policy is the core's, zeroed first. */
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

/* sizeof(struct tocsin_alert) at ABI 1.0: the smallest alert_size emit_sized
 * takes, and the stride of emit(). */
#define TOCSIN_ALERT_SIZE_1_0 (offsetof(struct tocsin_alert, expires_at) + sizeof(int64_t))

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

/* One notification to deliver. Valid for the duration of deliver(). The
 * core allocates and zeroes it, so it can grow: a plugin reads only the
 * members its minor has. */
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

    /* --- 1.1 --- */
    /* What this sink kept for this incident with host->remember() at an
     * earlier delivery (a Slack message ts, an email Message-ID), or NULL:
     * an acknowledge or resolve finds what its trigger was answered. */
    const char *ref;
    /* 1 for the notifications of `tocsind --test-sink`: not a real
     * incident (incident_id 0); say so where the provider shows text. */
    int test;
    /* 1 when this trigger repeats one the sink may have been sent for this
     * incident: a policy's re-notification (repeat_interval) or a reopened
     * incident. A provider that deduplicates by incident sees the same
     * incident again. */
    int repeat;
    /* The earlier incident of the same problem this one follows (a flap
     * outside the dedup policy's window), or 0. */
    int64_t previous_id;
};

enum tocsin_verdict_kind {
    TOCSIN_DONE = 0,   /* delivered */
    TOCSIN_RETRY = 1,  /* try again (after retry_after s, or the core's backoff) */
    TOCSIN_FAILED = 2, /* permanent failure: do not retry */
};

/* What became of a delivery. Frozen at its 1.0 size for good: deliver()
 * returns it by value into a slot its caller allocates, so a larger one
 * from a newer plugin would overrun an older core's. What a delivery has
 * to say beyond it goes through host calls made during deliver() (1.1:
 * host->remember). deliver_sized() still says the size it hands over. */
struct tocsin_verdict {
    enum tocsin_verdict_kind kind;
    int retry_after;   /* seconds; 0: the core picks (backoff with jitter) */
    char reason[240];  /* the provider's reason, for the timeline; no secrets */
};

/* sizeof(struct tocsin_verdict) at ABI 1.0: the smallest verdict_size. */
#define TOCSIN_VERDICT_SIZE_1_0 (offsetof(struct tocsin_verdict, reason) + 240)

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

/* (1.1) Writes `val` into the verdict deliver_sized() was handed, copying
 * only the bytes both sides know (at most verdict_size):
 *     tocsin_verdict_put(v, verdict_size, tocsin_retry(30, "HTTP %ld", status)); */
static inline void tocsin_verdict_put(struct tocsin_verdict *v, size_t verdict_size,
                                      struct tocsin_verdict val)
{
    memcpy(v, &val, verdict_size < sizeof val ? verdict_size : sizeof val);
}

/* ---------------------------------------------------------------------------
 * Policies
 *
 * A policy judges every alert as it arrives (evaluate) and, from 1.1, hears
 * what happens to incidents (on_event) and keeps durable timers on them.
 * Everything a policy does from evaluate() and on_event() runs on the core's
 * writer thread inside the transaction of the change that caused it: its
 * timers, notifications and state (state_put) commit atomically with it, or
 * not at all. These callbacks must not block (no HTTP calls).
 */

enum tocsin_decision {
    TOCSIN_PASS = 0,     /* go on to the next policy */
    TOCSIN_SUPPRESS = 1, /* stored, but nobody is notified; reason recorded */
};

/* Allocated and zeroed by the core (it can grow): a plugin touches only the
 * members its minor has. */
struct tocsin_policy_result {
    enum tocsin_decision decision;
    char reason[240];
    void *core; /* private to the core (annotations added by host->annotate) */

    /* --- 1.1 --- */
    /* SUPPRESS: the id of what suppressed it (a maintenance window), kept on
     * the incident ("suppressed_by") and shown as Alertmanager's silencedBy. */
    char suppressed_by[64];
    /* The identity of an alert that came without a dedup_key of its own
     * (the core derived one from all its labels): "" keeps the core's. Set
     * by the first policy that sets it; later policies see it in
     * alert->dedup_key. Ignored for an alert whose input gave a key. */
    char dedup_key[256];
    /* A firing alert that finds no open incident of its key would open a
     * new one: reopen this resolved incident of the same key instead (its
     * id; timeline "reopened", its sinks are told trigger again, as a
     * repeat). 0: open a new one. Ignored when that incident is not
     * resolved or has another key. */
    int64_t reopen;
    /* The new incident follows this earlier one (its id, 0: none): kept
     * as previous_id, shown by the API and handed to sinks. */
    int64_t previous;
};

/* What a policy sees of an incident. Valid during the call it is passed
 * to; the core allocates and zeroes it (it can grow). */
struct tocsin_incident {
    int64_t id;
    const char *dedup_key;
    const char *state;            /* "triggered", "acknowledged", "resolved" */
    const struct tocsin_alert *alert; /* its latest alert */
    int64_t opened_at;            /* when tocsind opened it (ms) */
    int64_t last_seen;            /* its alert's latest arrival */
    int64_t acknowledged_at, resolved_at; /* 0 when not */
    const char *acknowledged_by;  /* NULL when not */
    const char *resolved_by;      /* "alert", "expired", a person; NULL when open */
    int64_t occurrences;          /* arrivals of its alert, suppressed ones included */
    const char *suppressed;       /* the reason while muted by a policy, or NULL */
    const char *suppressed_by;    /* what muted it (tocsin_policy_result), or NULL */
    int64_t previous_id;          /* see tocsin_policy_result.previous */
    int notified;                 /* 1 once a sink was sent (or is being sent) its trigger */
};

enum tocsin_event_kind {
    TOCSIN_EV_OPENED = 1,       /* a new incident (muted or not) */
    TOCSIN_EV_REPEATED = 2,     /* its alert arrived again while open */
    TOCSIN_EV_ACKNOWLEDGED = 3, /* actor took it */
    TOCSIN_EV_RESOLVED = 4,     /* actor: "alert", "expired", or a person */
    TOCSIN_EV_REOPENED = 5,     /* a resolved incident fires again (reopen) */
    TOCSIN_EV_TIMER = 6,        /* a timer this instance set fell due */
};

static inline const char *tocsin_event_name(enum tocsin_event_kind k)
{
    switch (k) {
    case TOCSIN_EV_OPENED: return "opened";
    case TOCSIN_EV_REPEATED: return "repeated";
    case TOCSIN_EV_ACKNOWLEDGED: return "acknowledged";
    case TOCSIN_EV_RESOLVED: return "resolved";
    case TOCSIN_EV_REOPENED: return "reopened";
    case TOCSIN_EV_TIMER: return "timer";
    }
    return "unknown";
}

/* An event for on_event(). The core allocates and zeroes it (it can grow). */
struct tocsin_event {
    enum tocsin_event_kind kind;
    /* The incident after the change; NULL for a timer of the instance's own
     * (incident 0) and for a timer whose incident was pruned. */
    const struct tocsin_incident *incident;
    const char *actor;   /* ACKNOWLEDGED, RESOLVED: who; else NULL */
    const char *note;    /* RESOLVED by a person: the resolution note */
    const char *timer;   /* TIMER: the name it was set with */
    int64_t timer_incident; /* TIMER: the incident it was set on (0: the instance's own) */
    int64_t at;          /* now, on the core's clock (ms) */
    int64_t due;         /* TIMER: when it was due (ms); later after a downtime */
};

/* Timer targets for host->policy_timer_cancel. */
#define TOCSIN_TIMER_OWN 0          /* the instance's own timers (no incident) */
#define TOCSIN_TIMER_EVERY_INCIDENT (-1) /* every incident's timers of that name */

/* Flags of host->notify. */
#define TOCSIN_NOTIFY_REPEAT 0x1u /* a repeat: n->repeat is 1 */
#define TOCSIN_NOTIFY_UNMUTE 0x2u /* a trigger that ends the incident's suppression */

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
 *   TOCSIN_OPT_GROUPS    struct tocsin_groups   (1.1: ( { ... }, { ... } ), a list of
 *                                                groups, each checked against the
 *                                                option's struct tocsin_group_table)
 *
 * The conf struct stays valid until destroy(). The table is an array of
 * struct tocsin_option with the stride the descriptor's option_size gives
 * (1.0 plugins: TOCSIN_OPTION_SIZE_1_0), so the entry can grow: the core
 * reads the members that fit and treats the others as absent. (A 1.0
 * tocsind knows no option_size and walks the table in 1.0 steps.)
 */
enum tocsin_opt_type {
    TOCSIN_OPT_STRING = 1,
    TOCSIN_OPT_INT,
    TOCSIN_OPT_BOOL,
    TOCSIN_OPT_DURATION,
    TOCSIN_OPT_SIZE,
    TOCSIN_OPT_STRLIST,
    TOCSIN_OPT_MAP,
    TOCSIN_OPT_GROUPS, /* 1.1 */
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

/* sizeof(struct tocsin_option) at ABI 1.0: the smallest option_size. */
#define TOCSIN_OPTION_SIZE_1_0                                                \
    (offsetof(struct tocsin_option, description) + sizeof(const char *))

struct tocsin_strlist {
    size_t n;
    const char *const *items;
};

struct tocsin_map {
    size_t n;
    const struct tocsin_kv *items;
};

/* (1.1) TOCSIN_OPT_GROUPS: n structs of its group table's conf_size bytes, each
 * filled from its group's options; group i is at
 *     (const char *)items + i * conf_size
 * where[i] is "FILE:LINE" of group i, for the plugin's own errors:
 *     host->fail(host, "%s: windows: unknown time zone \"%s\"", g->where[i], tz); */
struct tocsin_groups {
    size_t n;
    const void *items;
    const char *const *where;
};

/* (1.1) How the groups of a TOCSIN_OPT_GROUPS option are read: one entry
 * per such option in the descriptor's `groups` array (which ends with
 * { 0 }). Each group of the list is checked against `options` like an
 * instance block (unknown keys, types, required options, defaults, "env:"
 * and "file:"; errors name the group's file:line), walked with the
 * descriptor's option_size, and fills a struct of conf_size bytes. A
 * group's options may not be TOCSIN_OPT_GROUPS themselves. Frozen: a
 * later need gets a new array. */
struct tocsin_group_table {
    const char *option;                  /* the TOCSIN_OPT_GROUPS option's name */
    const struct tocsin_option *options; /* ends with { 0 } */
    size_t conf_size;                    /* sizeof the struct one group fills */
};

/* Group i of a TOCSIN_OPT_GROUPS value, as a `type *`. */
#define TOCSIN_GROUP(groups, type, size, i)                                   \
    ((const type *)(const void *)((const char *)(groups).items + (size_t)(i) * (size)))

/* ---------------------------------------------------------------------------
 * HTTP served by the core's listener (input routes)
 */

/* Allocated and zeroed by the core (it can grow): a plugin reads only the
 * members its minor has. */
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

    /* --- 1.1 --- */
    /* The value of a {name} segment of the route's path ("/api/v1/maintenance/{id}"
     * matched by ".../3f2a" gives "3f2a"), percent-decoded, or NULL. */
    const char *(*param)(const struct tocsin_http_request *req, const char *name);
    /* Every value of a query argument given more than once
     * ("filter=a&filter=b"), in order, into v[0..max); returns how many
     * there are, which may be more than max. They live as long as the
     * request. query() gives the first. */
    size_t (*query_all)(const struct tocsin_http_request *req, const char *name,
                        const char **v, size_t max);
};

/* Allocated and zeroed by the core (it can grow), filled by the plugin:
 * only the members its minor has. */
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
 * Outbound HTTP (and SMTP) through the core's libcurl settings
 *
 * The plugin allocates both structs; http_sized() takes their sizes, so
 * both can grow. Calls obey the core's timeouts (daemon.http_timeout) and
 * answer cap (daemon.http_max_response), and are aborted when the daemon
 * stops.
 *
 * SMTP (1.1, http_sized only): an smtp:// (plain) or smtps:// (TLS) URL,
 * whose path is the name the core greets with (EHLO), sends `body` as the
 * whole RFC 5322 message (header lines, a blank line, the text; CRLF line
 * ends) to the envelope in mail_from and mail_rcpt; method and headers are
 * unused. The result's status is then the server's last reply code (250:
 * accepted), body is empty and retry_after -1. A refusal is a failed call:
 * TOCSIN_ERROR with status the server's reply code (450: try again later,
 * 550: never) and error naming it and quoting the server ("... (SMTP 550):
 * 5.1.1 ..."); status 0 when no reply came. The client's own refusal to go
 * on after a positive reply (starttls TOCSIN_TLS_REQUIRED but no STARTTLS
 * offered, no AUTH mechanism in common) is a failed call whose status is
 * that reply's code, below 400: a configuration error, not worth a retry.
 * http_verdict() does not know SMTP: a sink classifies these.
 * AUTH with username/password, STARTTLS on smtp:// with starttls.
 */

struct tocsin_http_call {
    const char *method;               /* "POST" */
    const char *url;
    const char *const *headers;       /* NULL-terminated "Name: value" list, or NULL */
    const char *body;
    size_t body_len;
    long timeout_ms;                  /* 0: the core's default (10 s) */

    /* --- 1.1: read only through http_sized --- */
    const char *mail_from;            /* smtp(s):// envelope sender, "<alerts@example.org>" */
    const char *const *mail_rcpt;     /* NULL-terminated recipients, "<ops@example.org>" */
    /* HTTP basic authentication, or SMTP AUTH; NULL: none. Never logged. */
    const char *username;
    const char *password;
    /* smtp:// only: STARTTLS. TOCSIN_TLS_REQUIRED fails the call when the
     * server does not offer it; TOCSIN_TLS_TRY uses it when offered. */
    int starttls;
    /* A PEM file of CAs to trust instead of the system's (https://, smtps://,
     * STARTTLS); NULL: the system's. */
    const char *ca_file;
};

/* The longest ref host->remember() keeps (1.1). */
#define TOCSIN_REF_MAX 1024

/* Values of tocsin_http_call.starttls. */
enum { TOCSIN_TLS_OFF = 0, TOCSIN_TLS_TRY = 1, TOCSIN_TLS_REQUIRED = 2 };

/* sizeof(struct tocsin_http_call) at ABI 1.0: what http() reads. */
#define TOCSIN_HTTP_CALL_SIZE_1_0                                             \
    (offsetof(struct tocsin_http_call, timeout_ms) + sizeof(long))

struct tocsin_http_result {
    long status;           /* HTTP status (SMTP: reply code), 0 when no answer came */
    char *body;            /* the answer (NUL-terminated), freed by http_free */
    size_t body_len;
    int retry_after;       /* seconds from Retry-After, -1 when absent */
    int timed_out;         /* 1 when the call hit its timeout */
    char error[200];       /* transport error, "" when an answer came */
};

/* sizeof(struct tocsin_http_result) at ABI 1.0: what http() writes. */
#define TOCSIN_HTTP_RESULT_SIZE_1_0 (offsetof(struct tocsin_http_result, error) + 200)

/* ---------------------------------------------------------------------------
 * Host services: what the core offers a plugin instance
 *
 * One table per instance (so log lines name it). Every function takes the
 * table itself first. Thread-safe unless noted. The table may come from an
 * older tocsind than the header a plugin was built with: a member added
 * after 1.0 is there only when TOCSIN_HOST_HAS(host, member) says so.
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
     * says why; nothing stored), TOCSIN_EIO, TOCSIN_ESHUTDOWN. (1.1) From a
     * policy's on_event() the alerts are applied at once inside the
     * event's transaction (they commit with it) and go through the
     * policies like any; from evaluate(), or from on_event() of an alert
     * emitted that way, TOCSIN_EINVAL. */
    int (*emit)(const struct tocsin_host *host, const struct tocsin_alert *alerts,
                size_t n, char *err, size_t errlen);

    /* Serve METHOD PATH on the core's listener; call from create() or
     * start(). An exact path, or a prefix when it ends in '*'; from 1.1 a
     * segment may be a parameter, "/api/v1/maintenance/{id}", which
     * matches one non-empty segment (req->param(req, "id")). An input's
     * routes take its credentials; a policy's or sink's are API routes:
     * GET and HEAD need a read token, other methods a write token (when
     * daemon.auth is set). */
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
     * (res->error says why). Always release res with http_free. Reads the
     * 1.0 members of call only (no SMTP: see http_sized). */
    int (*http)(const struct tocsin_host *host, const struct tocsin_http_call *call,
                struct tocsin_http_result *res);
    /* Frees res->body (of http or http_sized) and clears body, body_len. */
    void (*http_free)(const struct tocsin_host *host, struct tocsin_http_result *res);
    /* The usual mapping: 2xx done; 408, 429, 5xx, timeouts and transport
     * errors retried (honouring Retry-After); other 4xx failed. Reads the
     * 1.0 members of res only. */
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

    /* --- 1.1 --- */

    /* emit() for an array whose elements are alert_size bytes apart: pass
     * sizeof(struct tocsin_alert) as your header has it. The core reads the
     * members it knows that fit in alert_size and treats the rest as absent;
     * an alert_size below TOCSIN_ALERT_SIZE_1_0 is TOCSIN_EINVAL (err says
     * so). Otherwise exactly emit(), which is emit_sized with the 1.0 size. */
    int (*emit_sized)(const struct tocsin_host *host, const void *alerts, size_t n,
                      size_t alert_size, char *err, size_t errlen);

    /* http() with the plugin's struct sizes: pass sizeof(struct
     * tocsin_http_call) and sizeof(struct tocsin_http_result). Members of
     * call beyond call_size are absent (NULL or 0); the core zeroes res_size
     * bytes of res and writes only those. Carries SMTP (mail_from,
     * mail_rcpt). Returns as http(), or TOCSIN_EINVAL for a size below 1.0's
     * (res->error says so when res_size allows). Release res with http_free. */
    int (*http_sized)(const struct tocsin_host *host, const struct tocsin_http_call *call,
                      size_t call_size, struct tocsin_http_result *res, size_t res_size);

    /* Sinks, from inside deliver()/deliver_sized() only: keep ref (text, at
     * most TOCSIN_REF_MAX bytes; NULL forgets) for this incident and this sink. It is
     * stored with this delivery's outcome, in the same transaction, and
     * only if the verdict is DONE; the incident's later deliveries to this
     * sink find it in n->ref, also after a restart. Returns TOCSIN_OK, or
     * TOCSIN_EINVAL outside a delivery or for a ref too long. */
    int (*remember)(const struct tocsin_host *host, const struct tocsin_notification *n,
                    const char *ref);

    /* Inputs: route() for a provider that cannot send the instance's
     * bearer_token/basic credentials or daemon.auth tokens (Sentry, SNS,
     * UptimeRobot): the core checks no credentials on this route, the
     * plugin authenticates every request itself (a signature over the raw
     * body, a token in the URL) before it parses it, in constant time,
     * and answers 401/403. Host names, body limits and the intake scan
     * still apply. Other kinds get TOCSIN_ERROR. */
    int (*route_self_auth)(const struct tocsin_host *host, const char *method,
                           const char *path, tocsin_route_fn fn, void *self);

    /* Policies. The calls below take effect inside the writer's
     * transaction when made from evaluate() or on_event() (they commit
     * with the change that caused them); policy_timer_set/cancel may also
     * be called from other threads (an API route), where each commits on
     * its own. Others get TOCSIN_EINVAL. */

    /* Set, or move, the durable timer `name` (at most 64 bytes) of this
     * instance on incident `incident` (TOCSIN_TIMER_OWN: a timer of the
     * instance's own, e.g. a window's end) to fire at due_ms on the core's
     * clock: on_event() gets TOCSIN_EV_TIMER then, once; also after a
     * restart (late timers fire at start, each once). A timer on an
     * incident goes when the incident is pruned. */
    int (*policy_timer_set)(const struct tocsin_host *host, int64_t incident,
                            const char *name, int64_t due_ms);
    /* Cancel this instance's timer `name` on `incident`; name NULL: all
     * its timers on that incident. incident TOCSIN_TIMER_EVERY_INCIDENT:
     * the timers of that name on every incident. TOCSIN_OK when none. */
    int (*policy_timer_cancel)(const struct tocsin_host *host, int64_t incident,
                               const char *name);
    /* From on_event() only: notify sinks about an incident, through the
     * outbox like any other notification. sinks: NULL-terminated instance
     * ids, or NULL for the usual ones (a trigger: the sinks its routes
     * match; acknowledge and resolve: the sinks that were sent its
     * trigger). A trigger for an incident muted by a policy is not sent
     * (the timeline says so) unless flags has TOCSIN_NOTIFY_UNMUTE, which
     * also ends the muting. A trigger of a resolved incident is refused
     * (TOCSIN_EINVAL). Returns TOCSIN_OK, TOCSIN_EINVAL (unknown sink or
     * incident), TOCSIN_EIO. */
    int (*notify)(const struct tocsin_host *host, int64_t incident, enum tocsin_action action,
                  const char *const *sinks, unsigned flags);
    /* From evaluate() or on_event() only: the incident `id`, or, with id 0,
     * the latest incident of dedup_key (open or resolved): fn(arg, inc) is
     * called with it. Returns 1 (found), 0 (none), TOCSIN_EIO. */
    int (*incident_find)(const struct tocsin_host *host, int64_t id, const char *dedup_key,
                         void (*fn)(void *arg, const struct tocsin_incident *inc), void *arg);
};

/* 1 when the host table has `member` (by its recorded size) and it is set:
 *     if (!TOCSIN_HOST_HAS(host, emit_sized)) ... fail create, see the top. */
#define TOCSIN_HOST_HAS(host, member)                                         \
    (TOCSIN_SIZE_HAS(struct tocsin_host, (host)->size, member) && (host)->member != NULL)

/* 1 when the host speaks this ABI major at `minor` or later. */
#define TOCSIN_HOST_MINOR_AT_LEAST(host, minor)                               \
    ((host)->abi_major == TOCSIN_ABI_MAJOR && (host)->abi_minor >= (minor))

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
     * bookkeeping are the core's: just say what happened. A sink sets
     * deliver or deliver_sized (1.1); a 1.1 core calls deliver_sized when
     * both are set, a 1.0 core only knows deliver. */
    struct tocsin_verdict (*deliver)(void *self, const struct tocsin_notification *n);

    /* Policies: judge one alert, on the core thread; must not block. */
    int (*evaluate)(void *self, const struct tocsin_alert *alert,
                    struct tocsin_policy_result *res);

    /* --- 1.1 --- */

    /* sizeof(struct tocsin_option) as the plugin was built: the stride of
     * `options`. Set by TOCSIN_PLUGIN_HEADER; a table with a smaller one is
     * refused. (1.0 plugins have none: the core uses TOCSIN_OPTION_SIZE_1_0.) */
    uint32_t option_size;

    /* Sinks: deliver() with a verdict the core allocated (verdict_size
     * bytes) and zeroed, so kind is TOCSIN_DONE until written. Write it with
     * tocsin_verdict_put(v, verdict_size, tocsin_retry(...)), which copies
     * only what fits; never write past verdict_size. Same threads and rules
     * as deliver(), which the core then does not call. */
    void (*deliver_sized)(void *self, const struct tocsin_notification *n,
                          struct tocsin_verdict *v, size_t verdict_size);

    /* Policies: hear what happened to an incident, and this instance's
     * timers, on the writer thread inside the change's transaction (see
     * "Policies" above); may be NULL. Called for every policy after the
     * change is recorded, in configured order. A return other than
     * TOCSIN_OK is logged; the change stands, but what the call did
     * through the host (timers, notifications, state) is rolled back. */
    int (*on_event)(void *self, const struct tocsin_event *ev);

    /* The tables of this plugin's TOCSIN_OPT_GROUPS options (see struct
     * tocsin_group_table), ending with { 0 }; NULL when it has none. */
    const struct tocsin_group_table *groups;
};

/* Designated initializers; name the members after it too (.kind = ...).
 * option_size comes first so that a positional member after the header is
 * still kind, as in 1.0. */
#define TOCSIN_PLUGIN_HEADER                                                  \
    .option_size = sizeof(struct tocsin_option),                              \
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR,             \
    .abi_minor = TOCSIN_ABI_MINOR, .size = sizeof(struct tocsin_plugin)

/* The smallest descriptor a plugin of minor 0 may have. */
#define TOCSIN_PLUGIN_SIZE_1_0                                                \
    (offsetof(struct tocsin_plugin, evaluate) + sizeof(void (*)(void)))
/* The smallest descriptor a plugin of minor 1 may have. */
#define TOCSIN_PLUGIN_SIZE_1_1                                                \
    (offsetof(struct tocsin_plugin, groups) + sizeof(void *))

#define TOCSIN_PLUGIN_SYMBOL "tocsin_plugin"

#ifdef __cplusplus
}
#endif
#endif /* TOCSIN_PLUGIN_H */
