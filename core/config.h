/* config.h: the daemon's configuration, loaded from one libconfig file. */
#ifndef TC_CONFIG_H
#define TC_CONFIG_H

#include <stdint.h>
#include <tocsin/plugin.h>

#include "errors.h"
#include "loader.h"
#include "routes.h"

/* Roles of API tokens: read sees incidents and /metrics; write also
 * acknowledges, resolves and posts alerts. */
enum tc_role { TC_ROLE_READ = 1, TC_ROLE_WRITE = 2 };

/* One token of daemon.auth.tokens. */
struct tc_api_token {
    char *token;                  /* resolved from env:/file: (never logged) */
    char *name;                   /* for logs and as the actor: "token #N" unless named */
    enum tc_role role;
    int line;
};

/* One declared plugin instance. */
struct tc_instance_conf {
    char *id;
    char *plugin;                 /* plugin name */
    enum tocsin_kind kind;
    int line;                     /* where it is declared */
    const struct tc_plugin *plugin_ref;
    void *conf;                   /* filled per the plugin's option table */

    /* Core options every sink accepts (beside its plugin's own): */
    int64_t concurrency;          /* workers delivering at once (default 4) */
    int64_t retry_for_ms;         /* then the row fails permanently (default 24h) */
    int64_t max_attempts;         /* or after so many counted attempts (0: no limit) */
    int64_t retry_base_ms;        /* first backoff (default 1s) */
    int64_t retry_max_ms;         /* backoff cap (default 5m) */
    char *fallback;               /* sink that gets what this one gives up, or NULL */
    int fallback_line;

    /* Core options every input accepts: its own credentials. */
    char *bearer_token;           /* Authorization: Bearer, or NULL */
    char *basic_user;             /* Authorization: Basic, with basic_password */
    char *basic_password;
};

struct tc_daemon_conf {
    char *listen;                 /* "127.0.0.1:9099"; port 0: ephemeral */
    char *state_dir;              /* SQLite store and tocsind.addr */
    char *plugin_dir;
    int log_level;                /* enum tocsin_log_level */
    char *external_url;           /* "" when unset */
    int64_t max_body;             /* request body limit, bytes (1 MiB) */
    int64_t intake_queue;         /* alerts waiting for the writer (10000) */
    int64_t drain_timeout_ms;     /* SIGTERM: time to finish deliveries (10s) */
    int64_t http_timeout_ms;      /* default outbound HTTP timeout (10s) */
    int64_t http_max_response;    /* outbound answer bytes kept (1 MiB) */
    int64_t retention_ms;         /* resolved incidents kept (30d) */
    int64_t intake_wait_ms;       /* then intake answers 503 (5s) */
    int64_t expiry_grace_ms;      /* nothing expires this soon after start (5m) */
    int64_t max_connections;      /* HTTP connections at once (4096) */
    int64_t max_connections_per_ip; /* ... from one address (64; 0: no limit) */
    int64_t request_timeout_ms;   /* receive headers + body, and idle keep-alive (10s) */
    int64_t max_body_memory;      /* request bytes buffered + parsed at once (8M) */
    int64_t max_alerts_per_request; /* (1000) */
    int64_t max_alert_size;       /* JSON bytes of one alert (64k) */
    int64_t max_answer;           /* bytes of one list answer (1M) */
    struct tocsin_strlist allowed_hosts; /* Host names besides listen/external_url */
    char *tls_cert, *tls_key;     /* PEM files: serve HTTPS; both or neither */

    int auth;                     /* daemon.auth given: the API needs tokens */
    struct tc_api_token *tokens;
    size_t n_tokens;
};

struct tc_config {
    char *path;
    struct tc_daemon_conf daemon;
    struct tc_instance_conf *inputs, *policies, *sinks;
    size_t n_inputs, n_policies, n_sinks;
    struct tc_routes *routes;
    struct tc_loader *loader;     /* owns the plugins */
};

/* Load and check everything: the daemon group, every instance against its
 * plugin's option table, ids unique across kinds, routes naming known
 * sinks, unknown top-level keys. plugin_dir overrides daemon.plugin_dir
 * when non-NULL. Every problem goes to errs ("FILE:LINE: ..."); returns
 * NULL when there was any. */
struct tc_config *tc_config_load(const char *path, const char *plugin_dir,
                                 struct tc_errors *errs);
void tc_config_free(struct tc_config *c);

/* The options the core reads from every sink and every input block (for
 * --plugin-help). */
const struct tocsin_option *tc_config_sink_options(void);
const struct tocsin_option *tc_config_input_options(void);

/* The instance with this id among sinks, or NULL. */
const struct tc_instance_conf *tc_config_sink(const struct tc_config *c, const char *id);

#endif
