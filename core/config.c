/* config.c: reading tocsin.conf (daemon group, plugin instances checked against
 * their option tables, routes), collecting every problem for --check-config. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "options.h"

#ifndef PKGLIBDIR
#define PKGLIBDIR "/usr/local/lib/tocsin"
#endif

/* The daemon group goes through the same typed-option machinery as plugins,
 * so its errors read the same. log_level is checked by hand (an enum). */
static const struct tocsin_option daemon_options[] = {
    { "listen", TOCSIN_OPT_STRING, "127.0.0.1:9099", 0,
      offsetof(struct tc_daemon_conf, listen), "HOST:PORT of the HTTP listener." },
    { "state_dir", TOCSIN_OPT_STRING, "/var/lib/tocsin", 0,
      offsetof(struct tc_daemon_conf, state_dir), "Where the SQLite store lives." },
    { "plugin_dir", TOCSIN_OPT_STRING, PKGLIBDIR, 0,
      offsetof(struct tc_daemon_conf, plugin_dir), "Where plugins are loaded from." },
    { "external_url", TOCSIN_OPT_STRING, "", 0,
      offsetof(struct tc_daemon_conf, external_url), "Public URL, for links." },
    { "max_body", TOCSIN_OPT_SIZE, "1M", 0,
      offsetof(struct tc_daemon_conf, max_body), "Largest request body accepted." },
    { "intake_queue", TOCSIN_OPT_INT, "10000", 0,
      offsetof(struct tc_daemon_conf, intake_queue), "Alerts waiting to be stored." },
    { "drain_timeout", TOCSIN_OPT_DURATION, "10s", 0,
      offsetof(struct tc_daemon_conf, drain_timeout_ms), "Time to finish on SIGTERM." },
    { "http_timeout", TOCSIN_OPT_DURATION, "10s", 0,
      offsetof(struct tc_daemon_conf, http_timeout_ms), "Default outbound HTTP timeout." },
    { "http_max_response", TOCSIN_OPT_SIZE, "1M", 0,
      offsetof(struct tc_daemon_conf, http_max_response),
      "Largest outbound HTTP answer kept; longer ones are cut off (and logged)." },
    { "retention", TOCSIN_OPT_DURATION, "30d", 0,
      offsetof(struct tc_daemon_conf, retention_ms), "How long resolved incidents stay." },
    { "intake_wait", TOCSIN_OPT_DURATION, "5s", 0,
      offsetof(struct tc_daemon_conf, intake_wait_ms),
      "Longest an intake request waits for the store to take it (then 503)." },
    { "expiry_grace", TOCSIN_OPT_DURATION, "5m", 0,
      offsetof(struct tc_daemon_conf, expiry_grace_ms),
      "After start, nothing expires for this long, so senders can re-send what still "
      "fires after a downtime (set it to the longest resolve_timeout)." },
    { "max_connections", TOCSIN_OPT_INT, "4096", 0,
      offsetof(struct tc_daemon_conf, max_connections), "HTTP connections open at once." },
    { "max_connections_per_ip", TOCSIN_OPT_INT, "64", 0,
      offsetof(struct tc_daemon_conf, max_connections_per_ip),
      "HTTP connections open at once from one client address." },
    { "request_timeout", TOCSIN_OPT_DURATION, "10s", 0,
      offsetof(struct tc_daemon_conf, request_timeout_ms),
      "Time to receive a request's headers and body; also the idle keep-alive limit." },
    { "max_body_memory", TOCSIN_OPT_SIZE, "8M", 0,
      offsetof(struct tc_daemon_conf, max_body_memory),
      "Request bytes being received and parsed at once, all requests together (503 past it)." },
    { "max_alerts_per_request", TOCSIN_OPT_INT, "1000", 0,
      offsetof(struct tc_daemon_conf, max_alerts_per_request), "Alerts in one request (413 past it)." },
    { "max_alert_size", TOCSIN_OPT_SIZE, "64k", 0,
      offsetof(struct tc_daemon_conf, max_alert_size), "JSON bytes of one alert (413 past it)." },
    { "max_answer", TOCSIN_OPT_SIZE, "1M", 0,
      offsetof(struct tc_daemon_conf, max_answer),
      "Bytes of one incident list answer; past it the list is cut and links the next page." },
    { "allowed_hosts", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct tc_daemon_conf, allowed_hosts),
      "Host names (\"name\" or \"name:port\") clients may address besides listen and "
      "external_url." },
    { "tls_cert", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct tc_daemon_conf, tls_cert),
      "PEM certificate chain: the listener speaks HTTPS (with tls_key)." },
    { "tls_key", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct tc_daemon_conf, tls_key),
      "PEM private key of tls_cert." },
    { 0 }
};

/* Options the core reads from every input block besides its plugin's own. */
static const struct tocsin_option input_core_options[] = {
    { "bearer_token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct tc_instance_conf, bearer_token),
      "Requests must carry Authorization: Bearer with this token." },
    { "basic_user", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct tc_instance_conf, basic_user),
      "Requests may carry HTTP basic authentication with this user (and basic_password)." },
    { "basic_password", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
      offsetof(struct tc_instance_conf, basic_password), "The password of basic_user." },
    { 0 }
};

/* Options the core reads from every sink block besides its plugin's own. */
static const struct tocsin_option sink_core_options[] = {
    { "concurrency", TOCSIN_OPT_INT, "4", 0,
      offsetof(struct tc_instance_conf, concurrency), "Deliveries at once (1..64)." },
    { "retry_for", TOCSIN_OPT_DURATION, "24h", 0,
      offsetof(struct tc_instance_conf, retry_for_ms),
      "How long a notification is retried before it is given up." },
    { "max_attempts", TOCSIN_OPT_INT, "0", 0,
      offsetof(struct tc_instance_conf, max_attempts),
      "Attempts before giving up (0: no limit but retry_for). Retries the provider "
      "asked to wait for (Retry-After) do not count." },
    { "fallback", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct tc_instance_conf, fallback),
      "A sink that receives what this one finally gives up on." },
    { "retry_base", TOCSIN_OPT_DURATION, "1s", 0,
      offsetof(struct tc_instance_conf, retry_base_ms), "First retry delay." },
    { "retry_max", TOCSIN_OPT_DURATION, "5m", 0,
      offsetof(struct tc_instance_conf, retry_max_ms), "Longest retry delay." },
    { 0 }
};

const struct tocsin_option *tc_config_sink_options(void)
{
    return sink_core_options;
}

const struct tocsin_option *tc_config_input_options(void)
{
    return input_core_options;
}

static const char *const reserved_plain[] = { "id", "plugin", NULL };
static const char *const reserved_input[] = { "id", "plugin", "bearer_token", "basic_user",
                                              "basic_password", NULL };
static const char *const reserved_sink[] = { "id", "plugin", "concurrency", "max_attempts",
                                             "retry_base", "retry_max", "retry_for",
                                             "fallback", NULL };
static const char *const top_level[] = { "daemon", "inputs", "policies", "sinks", "routes",
                                         NULL };

struct loading {
    struct tc_config *c;
    struct tc_errors *errs;
};

static const char *file_of(const struct loading *ld, const config_setting_t *s)
{
    const char *f = s ? config_setting_source_file(s) : NULL;

    return f ? f : ld->c->path;
}

TOCSIN_PRINTF(3, 4)
static void fail(struct loading *ld, const config_setting_t *at, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    tc_errors_add(ld->errs, "%s:%u: %s", file_of(ld, at), config_setting_source_line(at), msg);
}

static const char *closest(const char *const *names, const char *key)
{
    const char *best = NULL;
    size_t d, best_d = 3;

    for (; *names; names++)
        if ((d = tc_edit_distance(key, *names)) < best_d)
            best_d = d, best = *names;
    return best;
}

/* The setting to blame: the key when it was written, else its block. */
static const config_setting_t *at_key(const config_setting_t *block, const char *key)
{
    const config_setting_t *s = config_setting_get_member(block, key);

    return s ? s : block;
}

/* Whether tc_options_fill took key's value (absent: the default). Range
 * checks run only then, so one bad value gives one error, not two. */
static int well_typed(const config_setting_t *block, const char *key, enum tocsin_opt_type t)
{
    const config_setting_t *s = config_setting_get_member(block, key);
    int is_int;
    int64_t v;

    if (!s)
        return 1;
    is_int = config_setting_type(s) == CONFIG_TYPE_INT || config_setting_type(s) == CONFIG_TYPE_INT64;
    switch (t) {
    case TOCSIN_OPT_INT:
        return is_int;
    case TOCSIN_OPT_DURATION:
        if (is_int)
            return config_setting_get_int64(s) >= 0 &&
                   config_setting_get_int64(s) <= INT64_MAX / 1000;
        return config_setting_type(s) == CONFIG_TYPE_STRING &&
               tc_parse_duration(config_setting_get_string(s), &v) == 0;
    case TOCSIN_OPT_SIZE:
        if (is_int)
            return config_setting_get_int64(s) >= 0;
        return config_setting_type(s) == CONFIG_TYPE_STRING &&
               tc_parse_size(config_setting_get_string(s), &v) == 0;
    default:
        return config_setting_type(s) == CONFIG_TYPE_STRING;
    }
}

/* "name", "name:port", "[v6]" or "[v6]:port": what a Host header holds. */
static int valid_host_name(const char *s)
{
    const char *p = s, *end;

    if (*p == '[') {
        end = strchr(p, ']');
        if (!end || end == p + 1)
            return 0;
        p = end + 1;
    } else {
        for (; *p && *p != ':'; p++)
            if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                  (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_'))
                return 0;
        if (p == s)
            return 0;
    }
    if (!*p)
        return 1;
    if (*p++ != ':' || !*p || strlen(p) > 5)
        return 0;
    for (end = p; *end; end++)
        if (*end < '0' || *end > '9')
            return 0;
    return atol(p) >= 1 && atol(p) <= 65535;
}

static int valid_listen(const char *s)
{
    const char *colon = strrchr(s, ':');
    long port = 0;
    const char *p;

    if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5)
        return 0;
    for (p = colon + 1; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        port = port * 10 + (*p - '0');
    }
    if (port > 65535)
        return 0;
    /* An IPv6 address is bracketed, so its own colons are not the port's. */
    if (s[0] == '[')
        return colon[-1] == ']';
    return memchr(s, ':', (size_t)(colon - s)) == NULL;
}

/* A string member; reports a mistyped one, and a missing one if required. */
static const char *member_string(struct loading *ld, const config_setting_t *g,
                                 const char *what, const char *key, int required)
{
    const config_setting_t *s = config_setting_get_member(g, key);

    if (!s) {
        if (required)
            fail(ld, g, "%s: missing \"%s\"", what, key);
        return NULL;
    }
    if (config_setting_type(s) != CONFIG_TYPE_STRING) {
        fail(ld, s, "%s: \"%s\" must be a string", what, key);
        return NULL;
    }
    return config_setting_get_string(s);
}

/* One { token = "env:..."; role = "read"; name = "grafana"; } of
 * daemon.auth.tokens. The token itself never appears in a message. */
static void load_token(struct loading *ld, const config_setting_t *g, int index)
{
    struct tc_daemon_conf *d = &ld->c->daemon;
    struct tc_api_token *t = &d->tokens[d->n_tokens];
    const char *raw, *role, *name;
    char what[64], err[512];
    size_t i;
    int k;

    snprintf(what, sizeof what, "daemon.auth.tokens #%d", index + 1);
    if (!config_setting_is_group(g)) {
        fail(ld, g, "%s must be a group: { token = \"env:TOCSIN_TOKEN\"; role = \"write\"; }",
             what);
        return;
    }
    for (k = 0; k < config_setting_length(g); k++) {
        const config_setting_t *m = config_setting_get_elem(g, (unsigned)k);
        const char *key = config_setting_name(m);

        if (strcmp(key, "token") != 0 && strcmp(key, "role") != 0 && strcmp(key, "name") != 0)
            fail(ld, m, "%s: unknown key \"%s\" (a token has token, role and name)", what, key);
    }
    raw = member_string(ld, g, what, "token", 1);
    role = member_string(ld, g, what, "role", 1);
    name = member_string(ld, g, what, "name", 0);
    if (role && strcmp(role, "read") != 0 && strcmp(role, "write") != 0) {
        fail(ld, config_setting_get_member(g, "role"),
             "%s: role must be \"read\" or \"write\", not \"%s\"", what, role);
        role = NULL;
    }
    if (!raw || !role)
        return;
    t->line = (int)config_setting_source_line(g);
    t->token = tc_resolve_secret(raw, err, sizeof err);
    if (!t->token) {
        fail(ld, config_setting_get_member(g, "token"), "%s: token: %s", what, err);
        return;
    }
    d->n_tokens++; /* owned from here: tc_config_free frees it */
    t->role = strcmp(role, "write") == 0 ? TC_ROLE_WRITE : TC_ROLE_READ;
    if (name)
        t->name = strdup(name);
    else if (asprintf(&t->name, "token #%d", index + 1) < 0)
        t->name = NULL;
    if (strlen(t->token) < 16)
        fail(ld, config_setting_get_member(g, "token"),
             "%s: the token must be at least 16 characters (try: openssl rand -hex 32)", what);
    for (i = 0; i + 1 < d->n_tokens; i++)
        if (strcmp(d->tokens[i].token, t->token) == 0)
            fail(ld, config_setting_get_member(g, "token"),
                 "%s: the same token as the one at line %d; give each client its own", what,
                 d->tokens[i].line);
}

/* daemon.auth = { tokens = ( ... ); }: with it, the API wants a token. */
static void load_auth(struct loading *ld, const config_setting_t *auth)
{
    struct tc_daemon_conf *d = &ld->c->daemon;
    const config_setting_t *tokens;
    int n, i;

    if (!config_setting_is_group(auth)) {
        fail(ld, auth, "daemon.auth must be a group: auth = { tokens = ( { token = "
             "\"env:TOCSIN_TOKEN\"; role = \"write\"; } ); };");
        return;
    }
    d->auth = 1;
    for (i = 0; i < config_setting_length(auth); i++) {
        const config_setting_t *m = config_setting_get_elem(auth, (unsigned)i);

        if (strcmp(config_setting_name(m), "tokens") != 0)
            fail(ld, m, "daemon.auth: unknown key \"%s\" (auth has tokens)",
                 config_setting_name(m));
    }
    tokens = config_setting_get_member(auth, "tokens");
    if (!tokens || (!config_setting_is_list(tokens) && !config_setting_is_array(tokens))) {
        fail(ld, tokens ? tokens : auth, "daemon.auth: tokens must be a list: tokens = ( { token"
             " = \"env:TOCSIN_TOKEN\"; role = \"write\"; } );");
        return;
    }
    n = config_setting_length(tokens);
    if (n == 0) {
        fail(ld, tokens, "daemon.auth.tokens is empty: nobody could use the API");
        return;
    }
    d->tokens = calloc((size_t)n + 1, sizeof *d->tokens);
    if (!d->tokens) {
        fail(ld, tokens, "daemon.auth: out of memory");
        return;
    }
    for (i = 0; i < n; i++)
        load_token(ld, config_setting_get_elem(tokens, (unsigned)i), i);
}

/* Whether listen names a loopback address by itself: 127.x.x.x, [::1] or
 * localhost. Names that merely resolve there count as exposed: what a
 * name resolves to can change, the rule should not. */
static int loopback_listen(const char *listen)
{
    const char *colon = strrchr(listen, ':');
    size_t n = colon ? (size_t)(colon - listen) : strlen(listen);
    unsigned a, b, c, e;
    char tail;

    if ((n == 9 && strncmp(listen, "localhost", 9) == 0) ||
        (n == 5 && strncmp(listen, "[::1]", 5) == 0))
        return 1;
    return n < 16 && sscanf(listen, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &e, &tail) == 5 &&
           tail == ':' && a == 127 && b < 256 && c < 256 && e < 256;
}

static void load_daemon(struct loading *ld, const config_setting_t *block)
{
    static const char *const levels[] = { "error", "warn", "info", "debug", NULL };
    static const char *const reserved[] = { "log_level", "auth", NULL };
    struct tc_daemon_conf *d = &ld->c->daemon;
    const config_setting_t *s;
    config_t empty;
    int i;

    d->log_level = TOCSIN_LOG_INFO;
    if (!block || !config_setting_is_group(block)) {
        if (block)
            fail(ld, block, "daemon must be a group: daemon = { listen = \"...\"; };");
        /* Defaults still apply, so later checks see a complete daemon. */
        config_init(&empty);
        tc_options_fill(daemon_options, NULL, config_root_setting(&empty), NULL, "daemon", d,
                        ld->errs);
        config_destroy(&empty);
        return;
    }
    tc_options_fill(daemon_options, NULL, block, reserved, "daemon", d, ld->errs);

    if ((s = config_setting_get_member(block, "log_level"))) {
        const char *v = config_setting_type(s) == CONFIG_TYPE_STRING
                            ? config_setting_get_string(s) : NULL;

        for (i = 0; v && levels[i] && strcmp(levels[i], v) != 0; i++)
            ;
        if (v && levels[i])
            d->log_level = i;
        else if (v)
            fail(ld, s, "daemon: log_level must be error, warn, info or debug, not \"%s\"", v);
        else
            fail(ld, s, "daemon: log_level must be a string: error, warn, info or debug");
    }
    if ((s = config_setting_get_member(block, "auth")))
        load_auth(ld, s);
    if (!d->tls_cert != !d->tls_key)
        fail(ld, at_key(block, d->tls_cert ? "tls_cert" : "tls_key"),
             "daemon: tls_cert and tls_key go together");
    for (i = 0; i < (int)d->allowed_hosts.n; i++)
        if (!valid_host_name(d->allowed_hosts.items[i]))
            fail(ld, at_key(block, "allowed_hosts"),
                 "daemon: allowed_hosts: \"%s\" is not a host name or host:port",
                 d->allowed_hosts.items[i]);
    if (d->listen && !valid_listen(d->listen))
        fail(ld, at_key(block, "listen"),
             "daemon: listen must be HOST:PORT (like \"127.0.0.1:9099\"), not \"%s\"",
             d->listen);
    else if (d->listen && !loopback_listen(d->listen) && !d->auth)
        fail(ld, at_key(block, "listen"),
             "daemon: listen \"%s\" is reachable from other hosts, so the API needs tokens:"
             " add daemon.auth = { tokens = ( { token = \"env:TOCSIN_TOKEN\"; role ="
             " \"write\"; } ); }; (or listen on 127.0.0.1)", d->listen);
    if (d->max_body < 1 && well_typed(block, "max_body", TOCSIN_OPT_SIZE))
        fail(ld, at_key(block, "max_body"), "daemon: max_body must be at least 1 byte");
    if (d->intake_queue < 1 && well_typed(block, "intake_queue", TOCSIN_OPT_INT))
        fail(ld, at_key(block, "intake_queue"), "daemon: intake_queue must be at least 1, not %lld",
             (long long)d->intake_queue);
    if (d->http_timeout_ms < 1 && well_typed(block, "http_timeout", TOCSIN_OPT_DURATION))
        fail(ld, at_key(block, "http_timeout"), "daemon: http_timeout must be more than 0");
    if (d->http_max_response < 1 && well_typed(block, "http_max_response", TOCSIN_OPT_SIZE))
        fail(ld, at_key(block, "http_max_response"),
             "daemon: http_max_response must be at least 1 byte");
    if (d->retention_ms < 1 && well_typed(block, "retention", TOCSIN_OPT_DURATION))
        fail(ld, at_key(block, "retention"), "daemon: retention must be more than 0");
    if (d->intake_wait_ms < 1 && well_typed(block, "intake_wait", TOCSIN_OPT_DURATION))
        fail(ld, at_key(block, "intake_wait"), "daemon: intake_wait must be more than 0");
    if ((d->max_connections < 1 || d->max_connections > 1000000) &&
        well_typed(block, "max_connections", TOCSIN_OPT_INT))
        fail(ld, at_key(block, "max_connections"),
             "daemon: max_connections must be 1..1000000, not %lld", (long long)d->max_connections);
    if ((d->max_connections_per_ip < 0 || d->max_connections_per_ip > d->max_connections) &&
        well_typed(block, "max_connections_per_ip", TOCSIN_OPT_INT))
        fail(ld, at_key(block, "max_connections_per_ip"),
             "daemon: max_connections_per_ip must be 0 (no limit) to max_connections (%lld), "
             "not %lld", (long long)d->max_connections, (long long)d->max_connections_per_ip);
    if (d->request_timeout_ms < 1000 && well_typed(block, "request_timeout", TOCSIN_OPT_DURATION))
        fail(ld, at_key(block, "request_timeout"), "daemon: request_timeout must be at least 1s");
    if (d->max_body_memory < 1 && well_typed(block, "max_body_memory", TOCSIN_OPT_SIZE))
        fail(ld, at_key(block, "max_body_memory"), "daemon: max_body_memory must be at least 1 byte");
    if (d->max_alerts_per_request < 1 && well_typed(block, "max_alerts_per_request", TOCSIN_OPT_INT))
        fail(ld, at_key(block, "max_alerts_per_request"),
             "daemon: max_alerts_per_request must be at least 1, not %lld",
             (long long)d->max_alerts_per_request);
    if (d->max_alert_size < 64 && well_typed(block, "max_alert_size", TOCSIN_OPT_SIZE))
        fail(ld, at_key(block, "max_alert_size"), "daemon: max_alert_size must be at least 64 bytes");
    if (d->max_answer < 4096 && well_typed(block, "max_answer", TOCSIN_OPT_SIZE))
        fail(ld, at_key(block, "max_answer"), "daemon: max_answer must be at least 4k");
}

static int valid_id(const char *id)
{
    if (!*id)
        return 0;
    for (; *id; id++)
        if (!((*id >= 'a' && *id <= 'z') || (*id >= 'A' && *id <= 'Z') ||
              (*id >= '0' && *id <= '9') || *id == '_' || *id == '.' || *id == '-'))
            return 0;
    return 1;
}

static const struct tc_instance_conf *find_id(const struct tc_config *c, const char *id)
{
    struct tc_instance_conf *const lists[] = { c->inputs, c->policies, c->sinks };
    const size_t counts[] = { c->n_inputs, c->n_policies, c->n_sinks };
    size_t k, i;

    for (k = 0; k < 3; k++)
        for (i = 0; i < counts[k]; i++)
            if (lists[k][i].id && strcmp(lists[k][i].id, id) == 0)
                return &lists[k][i];
    return NULL;
}

/* Fill the core's options of an instance (table: its kind's); every
 * other key belongs to the plugin, whose table reports unknown ones. */
static void fill_core(struct loading *ld, const config_setting_t *g,
                      const struct tocsin_option *table, struct tc_instance_conf *inst,
                      const char *context)
{
    const char **others;
    int n = config_setting_length(g), i, k = 0;

    /* Everything that is not a core option belongs to the plugin (or was
     * already reported by its table): reserve it here. */
    others = calloc((size_t)n + 1, sizeof *others);
    if (!others) {
        fail(ld, g, "%s: out of memory", context);
        return;
    }
    for (i = 0; i < n; i++) {
        const char *name = config_setting_name(config_setting_get_elem(g, (unsigned)i));
        const struct tocsin_option *o;

        for (o = table; o->name && strcmp(o->name, name) != 0; o++)
            ;
        if (!o->name)
            others[k++] = name;
    }
    tc_options_fill(table, NULL, g, others, context, inst, ld->errs);
    free(others);
}

static void load_input_core(struct loading *ld, const config_setting_t *g,
                            struct tc_instance_conf *inst, const char *context)
{
    fill_core(ld, g, input_core_options, inst, context);
    if (!inst->basic_user != !inst->basic_password)
        fail(ld, at_key(g, inst->basic_user ? "basic_user" : "basic_password"),
             "%s: basic_user and basic_password go together", context);
    if (inst->bearer_token && strlen(inst->bearer_token) < 16)
        fail(ld, at_key(g, "bearer_token"),
             "%s: bearer_token must be at least 16 characters (try: openssl rand -hex 32)",
             context);
}

static void load_sink_core(struct loading *ld, const config_setting_t *g,
                           struct tc_instance_conf *inst, const char *context)
{
    fill_core(ld, g, sink_core_options, inst, context);
    if ((inst->concurrency < 1 || inst->concurrency > 64) &&
        well_typed(g, "concurrency", TOCSIN_OPT_INT))
        fail(ld, at_key(g, "concurrency"), "%s: concurrency must be between 1 and 64, not %lld",
             context, (long long)inst->concurrency);
    if (inst->max_attempts < 0 && well_typed(g, "max_attempts", TOCSIN_OPT_INT))
        fail(ld, at_key(g, "max_attempts"),
             "%s: max_attempts must be 0 (no limit) or more, not %lld", context,
             (long long)inst->max_attempts);
    if (inst->retry_for_ms < 1 && well_typed(g, "retry_for", TOCSIN_OPT_DURATION))
        fail(ld, at_key(g, "retry_for"), "%s: retry_for must be more than 0", context);
    if (at_key(g, "fallback"))
        inst->fallback_line = (int)config_setting_source_line(at_key(g, "fallback"));
    if (!well_typed(g, "retry_base", TOCSIN_OPT_DURATION) ||
        !well_typed(g, "retry_max", TOCSIN_OPT_DURATION))
        return;
    if (inst->retry_base_ms < 1)
        fail(ld, at_key(g, "retry_base"), "%s: retry_base must be more than 0", context);
    else if (inst->retry_max_ms < inst->retry_base_ms)
        fail(ld, at_key(g, "retry_max"), "%s: retry_max must not be less than retry_base",
             context);
}

static void load_instance(struct loading *ld, const config_setting_t *g, enum tocsin_kind kind,
                          int index, struct tc_instance_conf *inst)
{
    const char *kname = tc_kind_name(kind);
    const config_setting_t *idset = config_setting_get_member(g, "id");
    const struct tc_instance_conf *first;
    const char *id, *plugin;
    char what[64], context[256], err[1024];

    inst->kind = kind;
    inst->line = (int)config_setting_source_line(g);
    snprintf(what, sizeof what, "%s #%d", kname, index + 1);
    id = member_string(ld, g, what, "id", 1);
    if (id && !valid_id(id)) {
        fail(ld, idset, "%s: id \"%s\" may only contain letters, digits, '_', '.' and '-'",
             what, id);
        id = NULL;
    }
    if (id) {
        if ((first = find_id(ld->c, id)))
            fail(ld, idset, "duplicate instance id \"%s\" (first declared at %s:%d)", id,
                 file_of(ld, g), first->line);
        inst->id = strdup(id);
        snprintf(what, sizeof what, "%s \"%s\"", kname, id);
    }
    plugin = member_string(ld, g, what, "plugin", 1);
    if (!plugin)
        return;
    inst->plugin = strdup(plugin);
    snprintf(context, sizeof context, "%s (%s)", what, plugin);

    inst->plugin_ref = tc_loader_load(ld->c->loader, kind, plugin, err, sizeof err);
    if (!inst->plugin_ref) {
        fail(ld, at_key(g, "plugin"), "%s: cannot load plugin \"%s\": %s", what, plugin, err);
        /* The plugin's options are unknown; the core's can still be checked. */
        if (kind == TOCSIN_SINK)
            load_sink_core(ld, g, inst, context);
        else if (kind == TOCSIN_INPUT)
            load_input_core(ld, g, inst, context);
        return;
    }
    inst->conf = calloc(1, inst->plugin_ref->desc->conf_size ? inst->plugin_ref->desc->conf_size
                                                             : 1);
    if (!inst->conf) {
        fail(ld, g, "%s: out of memory", context);
        return;
    }
    tc_options_fill(inst->plugin_ref->desc->options, inst->plugin_ref->desc->groups, g,
                    kind == TOCSIN_SINK    ? reserved_sink
                    : kind == TOCSIN_INPUT ? reserved_input
                                           : reserved_plain,
                    context, inst->conf, ld->errs);
    if (kind == TOCSIN_SINK)
        load_sink_core(ld, g, inst, context);
    else if (kind == TOCSIN_INPUT)
        load_input_core(ld, g, inst, context);
}

static void load_section(struct loading *ld, const config_setting_t *root, const char *name,
                         enum tocsin_kind kind, struct tc_instance_conf **out, size_t *n_out)
{
    const config_setting_t *list = config_setting_get_member(root, name);
    int n, i;

    if (!list)
        return;
    if (!config_setting_is_list(list) &&
        !(config_setting_is_array(list) && config_setting_length(list) == 0)) {
        fail(ld, list, "%s must be a list: %s = ( { id = \"...\"; plugin = \"...\"; } );",
             name, name);
        return;
    }
    n = config_setting_length(list);
    *out = calloc((size_t)n + 1, sizeof **out);
    if (!*out) {
        fail(ld, list, "%s: out of memory", name);
        return;
    }
    for (i = 0; i < n; i++) {
        const config_setting_t *g = config_setting_get_elem(list, (unsigned)i);

        /* Counted first, so find_id and tc_config_free see every entry. */
        (*n_out)++;
        if (!config_setting_is_group(g)) {
            (*out)[i].kind = kind;
            (*out)[i].line = (int)config_setting_source_line(g);
            fail(ld, g, "%s: item %d must be a group like { id = \"...\"; plugin = \"...\"; }",
                 name, i + 1);
            continue;
        }
        load_instance(ld, g, kind, i, &(*out)[i]);
    }
}

static void load_routes(struct loading *ld, const config_setting_t *root)
{
    struct tc_config *c = ld->c;
    const char **ids = calloc(c->n_sinks + 1, sizeof *ids);
    size_t i;

    if (!ids) {
        tc_errors_add(ld->errs, "%s: out of memory", c->path);
        return;
    }
    for (i = 0; i < c->n_sinks; i++)
        ids[i] = c->sinks[i].id ? c->sinks[i].id : "";
    c->routes = tc_routes_parse(config_setting_get_member(root, "routes"), c->path, ids,
                                c->n_sinks, ld->errs);
    free(ids);
}

/* Each fallback names another configured sink, and following fallbacks
 * never comes back to where it started. */
static void check_fallbacks(struct loading *ld)
{
    const struct tc_config *c = ld->c;
    size_t i, steps;

    for (i = 0; i < c->n_sinks; i++) {
        const struct tc_instance_conf *s = &c->sinks[i], *at = s;

        if (!s->fallback || !s->id)
            continue;
        if (!tc_config_sink(c, s->fallback)) {
            tc_errors_add(ld->errs, "%s:%d: sink \"%s\": fallback \"%s\" is not a configured sink",
                          c->path, s->fallback_line, s->id, s->fallback);
            continue;
        }
        for (steps = 0; at && at->fallback && steps <= c->n_sinks; steps++) {
            at = tc_config_sink(c, at->fallback);
            if (at == s) {
                tc_errors_add(ld->errs, "%s:%d: sink \"%s\": its fallbacks lead back to it",
                              c->path, s->fallback_line, s->id);
                break;
            }
        }
    }
}

static void check_top_level(struct loading *ld, const config_setting_t *root)
{
    int n = config_setting_length(root), i, k;

    for (i = 0; i < n; i++) {
        const config_setting_t *s = config_setting_get_elem(root, (unsigned)i);
        const char *name = config_setting_name(s), *hint;

        for (k = 0; top_level[k] && strcmp(top_level[k], name) != 0; k++)
            ;
        if (top_level[k])
            continue;
        if ((hint = closest(top_level, name)))
            fail(ld, s, "unknown top-level setting \"%s\"; did you mean \"%s\"?", name, hint);
        else
            fail(ld, s, "unknown top-level setting \"%s\" (daemon, inputs, policies, sinks, "
                 "routes)", name);
    }
}

static int read_file(struct loading *ld, config_t *cfg)
{
    const char *path = ld->c->path;
    char *dir, *slash;
    FILE *f;

    /* libconfig says only "file I/O error": find out why first. */
    f = fopen(path, "r");
    if (!f) {
        tc_errors_add(ld->errs, "%s: cannot read: %s", path, strerror(errno));
        return -1;
    }
    fclose(f);
    /* @include paths are relative to the file, not to the cwd. */
    dir = strdup(path);
    if (dir && (slash = strrchr(dir, '/'))) {
        *slash = '\0';
        config_set_include_dir(cfg, *dir ? dir : "/");
    }
    if (!config_read_file(cfg, path)) {
        if (config_error_type(cfg) == CONFIG_ERR_PARSE)
            tc_errors_add(ld->errs, "%s:%d: syntax error: %s",
                          config_error_file(cfg) ? config_error_file(cfg) : path,
                          config_error_line(cfg), config_error_text(cfg));
        else
            tc_errors_add(ld->errs, "%s: cannot read: %s", path, config_error_text(cfg));
        free(dir);
        return -1;
    }
    free(dir);
    return 0;
}

struct tc_config *tc_config_load(const char *path, const char *plugin_dir,
                                 struct tc_errors *errs)
{
    struct loading ld = { NULL, errs };
    size_t before = errs->n;
    const config_setting_t *root;
    config_t cfg;

    ld.c = calloc(1, sizeof *ld.c);
    if (!ld.c || !(ld.c->path = strdup(path))) {
        free(ld.c);
        tc_errors_add(errs, "%s: out of memory", path);
        return NULL;
    }
    config_init(&cfg);
    if (read_file(&ld, &cfg) < 0)
        goto out;
    root = config_root_setting(&cfg);
    check_top_level(&ld, root);
    load_daemon(&ld, config_setting_get_member(root, "daemon"));
    if (plugin_dir) {
        free(ld.c->daemon.plugin_dir);
        ld.c->daemon.plugin_dir = strdup(plugin_dir);
    }
    ld.c->loader = tc_loader_new(ld.c->daemon.plugin_dir ? ld.c->daemon.plugin_dir : PKGLIBDIR);
    if (!ld.c->loader) {
        tc_errors_add(errs, "%s: out of memory", path);
        goto out;
    }
    load_section(&ld, root, "inputs", TOCSIN_INPUT, &ld.c->inputs, &ld.c->n_inputs);
    load_section(&ld, root, "policies", TOCSIN_POLICY, &ld.c->policies, &ld.c->n_policies);
    load_section(&ld, root, "sinks", TOCSIN_SINK, &ld.c->sinks, &ld.c->n_sinks);
    load_routes(&ld, root);
    check_fallbacks(&ld);
out:
    config_destroy(&cfg);
    if (errs->n > before) {
        tc_config_free(ld.c);
        return NULL;
    }
    return ld.c;
}

static void free_instances(struct tc_instance_conf *list, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        const struct tocsin_plugin *d = list[i].plugin_ref ? list[i].plugin_ref->desc : NULL;

        if (list[i].conf && d)
            tc_options_free(d->options, d->groups, list[i].conf);
        free(list[i].conf);
        /* Each kind's core options; the other kind's strings are NULL. */
        tc_options_free(sink_core_options, NULL, &list[i]);
        tc_options_free(input_core_options, NULL, &list[i]);
        free(list[i].id);
        free(list[i].plugin);
    }
    free(list);
}

void tc_config_free(struct tc_config *c)
{
    size_t i;

    if (!c)
        return;
    tc_routes_free(c->routes);
    /* Confs first: their option tables live in the plugins' mappings. */
    free_instances(c->inputs, c->n_inputs);
    free_instances(c->policies, c->n_policies);
    free_instances(c->sinks, c->n_sinks);
    tc_options_free(daemon_options, NULL, &c->daemon);
    for (i = 0; i < c->daemon.n_tokens; i++) {
        explicit_bzero(c->daemon.tokens[i].token, strlen(c->daemon.tokens[i].token));
        free(c->daemon.tokens[i].token);
        free(c->daemon.tokens[i].name);
    }
    free(c->daemon.tokens);
    tc_loader_free(c->loader);
    free(c->path);
    free(c);
}

const struct tc_instance_conf *tc_config_sink(const struct tc_config *c, const char *id)
{
    size_t i;

    for (i = 0; c && id && i < c->n_sinks; i++)
        if (c->sinks[i].id && strcmp(c->sinks[i].id, id) == 0)
            return &c->sinks[i];
    return NULL;
}
