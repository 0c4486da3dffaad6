/* http.c: libmicrohttpd listener. Hands each request to the route
 * registered for its path, after the limits that keep hostile clients from
 * shutting intake out or ballooning memory:
 *  - connections: a total and a per-address limit (MHD), and a deadline to
 *    receive a request's headers and body (a watchdog shuts the socket of a
 *    client that trickles: MHD's own timeout is per inactivity only);
 *  - bodies: over max_body refused from Content-Length before reading (no
 *    100 Continue), and every body is admitted against a byte budget shared
 *    by all requests (503 + Retry-After past it) before it is buffered, so
 *    what is buffered and parsed at once stays bounded;
 *  - intake bodies: alerts counted and sized before any JSON parse.
 * One thread per connection: an intake handler blocks until its alerts are
 * committed, and must not hold up other connections meanwhile (a pool
 * would); idle threads are bounded by the connection limits and the
 * deadline. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "auth.h"
#include "common.h"
#include "config.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "origin.h"
#include "route_match.h"
#include "tls.h"

struct route {
    char *method, *path;
    size_t prefix_len; /* > 0: a prefix route */
    int n_params;      /* > 0: a route with {name} segments */
    tocsin_route_fn fn;
    void *self;
    char *owner;
    enum tc_gate gate;
    char *input; /* TC_GATE_INPUT: the instance; its body is alerts */
    int json;    /* a core route whose body must be application/json */
};

/* One open connection, for the request deadline. */
struct conn {
    struct conn *prev, *next;
    int fd;
    int64_t since;     /* when the request being received started; 0: none */
    int shut;          /* the watchdog shut it down */
    char addr[INET6_ADDRSTRLEN];
};

enum warn_kind { W_DEADLINE, W_BUSY, W_TOO_BIG, W_CONN_LIMIT, W_AUTH, W_FOREIGN, W_COUNT };

struct tc_http {
    struct MHD_Daemon *mhd;
    const struct tc_daemon_conf *conf;
    const struct tc_auth *auth;
    struct tc_origins *origins; /* built once the listener is bound */
    char *tls_cert, *tls_key;   /* PEM text, kept while MHD runs */
    int fd;          /* ours before MHD_start_daemon and after quiesce, else -1 */
    int64_t max_body, max_body_memory, max_alerts, max_alert_size, request_timeout_ms;
    unsigned max_connections, max_connections_per_ip;
    struct route *routes;
    size_t n_routes;

    pthread_mutex_t lock;
    pthread_cond_t changed;  /* active dropped, or stopping */
    int64_t body_bytes;      /* admitted against max_body_memory */
    int active;              /* requests between first call and completion */
    struct conn *conns;
    pthread_t watchdog;
    int watchdog_running, stopping;
    int64_t warned_at[W_COUNT];
    long suppressed[W_COUNT];
};

struct pending {
    char *body;
    size_t len, cap;
    int64_t started;       /* monotonic ms */
    int64_t reserved;      /* bytes of the body budget held */
    int too_big, busy;     /* answer 413 / 503 once the body is over */
    int answered;          /* a response was queued on the first call */
    const struct route *route; /* found on the first call; NULL: none */
    char who[96];          /* the token or user that was let in */
    int begun;             /* the first call of the handler is over */
    char *raw_path;        /* as sent, still percent-encoded: what {name}s match */
    struct tc_route_param params[TC_ROUTE_MAX_PARAMS];
    const char *values[TC_ROUTE_MAX_PARAMS]; /* decoded, in values_buf */
    int n_params;
    char *values_buf;
};

struct request {
    struct tocsin_http_request pub;
    struct MHD_Connection *conn;
    const char *who;
    const struct pending *p;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* At most one line per kind every 10 s, saying how many were left out:
 * a flood must not flood the log too. */
static void warn_limited(struct tc_http *h, enum warn_kind kind, const char *fmt, ...)
{
    int64_t now = mono_ms();
    long skipped;
    char msg[512];
    va_list ap;

    pthread_mutex_lock(&h->lock);
    if (h->warned_at[kind] && now - h->warned_at[kind] < 10000) {
        h->suppressed[kind]++;
        pthread_mutex_unlock(&h->lock);
        return;
    }
    h->warned_at[kind] = now;
    skipped = h->suppressed[kind];
    h->suppressed[kind] = 0;
    pthread_mutex_unlock(&h->lock);
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (skipped)
        tc_warn("http: %s (and %ld more like it in the last 10 s)", msg, skipped);
    else
        tc_warn("http: %s", msg);
}

struct tc_http *tc_http_new(const struct tc_daemon_conf *conf, const struct tc_auth *auth)
{
    struct tc_http *h = calloc(1, sizeof *h);

    if (!h)
        return NULL;
    h->fd = -1;
    h->conf = conf;
    h->auth = auth;
    h->max_body = conf->max_body;
    h->max_body_memory = conf->max_body_memory;
    h->max_alerts = conf->max_alerts_per_request;
    h->max_alert_size = conf->max_alert_size;
    h->request_timeout_ms = conf->request_timeout_ms;
    h->max_connections = (unsigned)conf->max_connections;
    h->max_connections_per_ip = (unsigned)conf->max_connections_per_ip;
    pthread_mutex_init(&h->lock, NULL);
    pthread_cond_init(&h->changed, NULL);
    return h;
}

int tc_http_route(struct tc_http *h, const char *method, const char *path, tocsin_route_fn fn,
                  void *self, const char *owner, enum tc_gate gate, const char *input,
                  char *err, size_t errlen)
{
    size_t i, len;
    struct route *grown, *r;
    const char *who = owner ? owner : "core";
    char why[200];
    int n_params;

    if (h->mhd || !method || !path || path[0] != '/' || !fn) {
        snprintf(err, errlen, "cannot register route %s %s", method ? method : "?",
                 path ? path : "?");
        return TOCSIN_EINVAL;
    }
    n_params = tc_route_pattern_check(path, why, sizeof why);
    if (n_params < 0) {
        snprintf(err, errlen, "route %s %s of %s: %s", method, path, who, why);
        return TOCSIN_EINVAL;
    }
    for (i = 0; i < h->n_routes; i++) {
        const struct route *o = &h->routes[i];

        if (strcmp(o->method, method) != 0)
            continue;
        if (strcmp(o->path, path) == 0) {
            /* The caller's log line names who asked (host.c's prefix). */
            snprintf(err, errlen, "route %s %s is taken by %s", method, path, o->owner);
            return TOCSIN_EINVAL;
        }
        if (n_params && o->n_params && tc_route_same_shape(o->path, path)) {
            snprintf(err, errlen, "route %s %s of %s conflicts with %s %s of %s: both match"
                     " the same paths", method, path, who, o->method, o->path, o->owner);
            return TOCSIN_EINVAL;
        }
    }
    len = strlen(path);
    grown = realloc(h->routes, (h->n_routes + 1) * sizeof *grown);
    if (!grown)
        return TOCSIN_ENOMEM;
    h->routes = grown;
    r = &h->routes[h->n_routes++];
    r->method = strdup(method);
    r->path = strdup(path);
    r->prefix_len = !n_params && len > 0 && path[len - 1] == '*' ? len - 1 : 0;
    r->n_params = n_params;
    r->fn = fn;
    r->self = self;
    r->owner = strdup(owner ? owner : "core");
    r->gate = gate;
    r->input = (gate == TC_GATE_INPUT || gate == TC_GATE_SELF) && input ? strdup(input) : NULL;
    /* The core's own bodies are JSON; inputs say what their senders send. */
    r->json = !owner && gate == TC_GATE_API;
    if (!r->method || !r->path || !r->owner || (input && gate != TC_GATE_API && !r->input))
        return TOCSIN_ENOMEM;
    return TOCSIN_OK;
}

/* Exact and prefix routes match the decoded path, as they always have;
 * parameter routes the raw one (see route_match.c). */
static int path_matches(const struct route *r, const char *path, const char *raw)
{
    struct tc_route_param params[TC_ROUTE_MAX_PARAMS];

    if (r->n_params)
        return raw && tc_route_match(r->path, raw, params, TC_ROUTE_MAX_PARAMS) >= 0;
    if (r->prefix_len)
        return strncmp(r->path, path, r->prefix_len) == 0;
    return strcmp(r->path, path) == 0;
}

/* 0: exact, 1: parameters, 2: prefix. */
static int tier(const struct route *r)
{
    return r->n_params ? 1 : r->prefix_len ? 2 : 0;
}

static int better(const struct route *r, const struct route *best)
{
    if (!best || tier(r) != tier(best))
        return !best || tier(r) < tier(best);
    if (r->n_params)
        return tc_route_more_specific(r->path, best->path);
    return r->prefix_len > best->prefix_len;
}

/* The route for METHOD PATH (precedence in http.h). When there is none,
 * allow lists the methods the path has routes for ("" : none). */
static const struct route *find_route(const struct tc_http *h, const char *method,
                                      const char *path, const char *raw, char *allow,
                                      size_t allowlen)
{
    const struct route *best = NULL;
    size_t i, j, used = 0;

    allow[0] = '\0';
    for (i = 0; i < h->n_routes; i++) {
        const struct route *r = &h->routes[i];

        if (!path_matches(r, path, raw))
            continue;
        if (strcmp(r->method, method) != 0) {
            for (j = 0; j < i; j++) /* once each, in registration order */
                if (strcmp(h->routes[j].method, r->method) == 0 &&
                    path_matches(&h->routes[j], path, raw))
                    break;
            if (j == i && used + strlen(r->method) + 3 < allowlen)
                used += (size_t)snprintf(allow + used, allowlen - used, "%s%s",
                                         used ? ", " : "", r->method);
            continue;
        }
        if (better(r, best))
            best = r;
    }
    return best;
}

static const char *req_header(const struct tocsin_http_request *req, const char *name)
{
    const struct request *r = (const struct request *)req;

    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *tc_http_who(const struct tocsin_http_request *req)
{
    return ((const struct request *)req)->who;
}

static const char *req_param(const struct tocsin_http_request *req, const char *name)
{
    const struct pending *p = ((const struct request *)req)->p;
    int i;

    for (i = 0; name && i < p->n_params; i++)
        if (strlen(name) == p->params[i].name_len &&
            memcmp(name, p->params[i].name, p->params[i].name_len) == 0)
            return p->values[i];
    return NULL;
}

static const char *req_query(const struct tocsin_http_request *req, const char *name)
{
    const struct request *r = (const struct request *)req;

    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
}

struct query_all {
    const char *name, **v;
    size_t max, n;
};

static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    struct query_all *q = cls;

    (void)kind;
    if (key && strcmp(key, q->name) == 0) {
        if (q->n < q->max)
            q->v[q->n] = value ? value : "";
        q->n++;
    }
    return MHD_YES;
}

size_t tc_http_query_all(const struct tocsin_http_request *req, const char *name,
                         const char **v, size_t max)
{
    const struct request *r = (const struct request *)req;
    struct query_all q = { name, v, max, 0 };

    MHD_get_connection_values(r->conn, MHD_GET_ARGUMENT_KIND, collect_query, &q);
    return q.n;
}

static enum MHD_Result respond(struct MHD_Connection *conn, struct tocsin_http_response *resp)
{
    struct MHD_Response *mr;
    enum MHD_Result ret;
    size_t len = resp->body ? strlen(resp->body) : 0;

    mr = MHD_create_response_from_buffer(len, resp->body ? resp->body : (void *)"",
                                         resp->body ? MHD_RESPMEM_MUST_FREE
                                                    : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(resp->body);
        return MHD_NO;
    }
    if (len)
        MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE,
                                resp->content_type ? resp->content_type : "application/json");
    if (resp->retry_after > 0) {
        char secs[16];

        snprintf(secs, sizeof secs, "%d", resp->retry_after);
        MHD_add_response_header(mr, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    ret = MHD_queue_response(conn, (unsigned)resp->status, mr);
    MHD_destroy_response(mr);
    return ret;
}

static enum MHD_Result respond_error(struct MHD_Connection *conn, int status, const char *error,
                                     const char *detail)
{
    struct tocsin_http_response resp = { status, tc_error_json(error, detail), NULL, 0 };

    return respond(conn, &resp);
}

/* The answer to a client that must not reuse the connection: the rest of
 * its body is still on the way. */
static enum MHD_Result respond_error_close(struct MHD_Connection *conn, int status,
                                           const char *error, const char *detail)
{
    char *body = tc_error_json(error, detail);
    struct MHD_Response *mr;
    enum MHD_Result ret;

    mr = MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (void *)"",
                                         body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONNECTION, "close");
    ret = MHD_queue_response(conn, (unsigned)status, mr);
    MHD_destroy_response(mr);
    return ret;
}

/* A path with routes, none of them for this method: say which methods
 * it has (RFC 9110 wants Allow on a 405). */
static enum MHD_Result respond_not_allowed(struct MHD_Connection *conn, const char *method,
                                           const char *allow)
{
    char *body, detail[160];
    struct MHD_Response *mr;
    enum MHD_Result ret;

    snprintf(detail, sizeof detail, "%.40s is not served here; allowed: %s", method, allow);
    body = tc_error_json("method not allowed", detail);
    mr = MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (void *)"",
                                         body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(mr, MHD_HTTP_HEADER_ALLOW, allow);
    ret = MHD_queue_response(conn, 405, mr);
    MHD_destroy_response(mr);
    return ret;
}

/* Too many bytes in progress: the sender retries in a second. */
static enum MHD_Result respond_busy(struct MHD_Connection *conn)
{
    struct tocsin_http_response resp = {
        503, tc_error_json("busy", "too many request bytes in progress"
                                   " (daemon.max_body_memory); retry later"), NULL, 1
    };

    return respond(conn, &resp);
}

/* Budget for request bodies: what is buffered and parsed at once, across
 * every request. A request alone is always admitted, or a body over the
 * budget could never pass. */
static int admit(struct tc_http *h, struct pending *p, int64_t n)
{
    int ok;

    pthread_mutex_lock(&h->lock);
    ok = h->body_bytes == 0 || h->body_bytes + n <= h->max_body_memory;
    if (ok) {
        h->body_bytes += n;
        p->reserved += n;
    }
    pthread_mutex_unlock(&h->lock);
    return ok;
}

static struct conn *conn_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);

    return ci ? ci->socket_context : NULL;
}

static void conn_receiving(struct tc_http *h, struct MHD_Connection *conn, int64_t since)
{
    struct conn *c = conn_of(conn);

    if (c) {
        pthread_mutex_lock(&h->lock);
        c->since = since;
        pthread_mutex_unlock(&h->lock);
    }
}

/* Alerts of an intake body (a JSON array of alert objects, or one object),
 * counted and sized without parsing: the limits hold before jansson builds
 * anything. Stops at max_alerts + 1. *big gets the index of the first alert
 * over max_size (its size in *big_len), or SIZE_MAX. A body that is not
 * JSON is left to the input to explain. */
static size_t scan_alerts(const char *s, size_t len, size_t max_alerts, size_t max_size,
                          size_t *big, size_t *big_len)
{
    size_t i = 0, n = 0, start = 0, end;
    int depth = 0, in_str = 0, in_elem = 0;

    *big = SIZE_MAX;
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\r' || s[i] == '\n'))
        i++;
    if (i == len)
        return 0;
    if (s[i] == '{') {
        end = len;
        while (end > i && (s[end - 1] == ' ' || s[end - 1] == '\t' || s[end - 1] == '\r' ||
                           s[end - 1] == '\n'))
            end--;
        if (end - i > max_size) {
            *big = 0;
            *big_len = end - i;
        }
        return 1;
    }
    if (s[i] != '[')
        return 0;
    for (; i < len && n <= max_alerts; i++) {
        char ch = s[i];
        int close_elem = 0;

        if (in_str) {
            if (ch == '\\')
                i++;
            else if (ch == '"')
                in_str = 0;
            continue;
        }
        if (depth == 1 && !in_elem && ch != ',' && ch != ']' && ch != ' ' && ch != '\t' &&
            ch != '\r' && ch != '\n') {
            in_elem = 1;
            start = i;
        }
        if (ch == '"')
            in_str = 1;
        else if (ch == '[' || ch == '{')
            depth++;
        else if (ch == ']' || ch == '}')
            close_elem = --depth == 0;
        else if (ch == ',' && depth == 1)
            close_elem = 1;
        if (close_elem && in_elem) {
            end = i;
            while (end > start && (s[end - 1] == ' ' || s[end - 1] == '\t' ||
                                   s[end - 1] == '\r' || s[end - 1] == '\n'))
                end--;
            if (*big == SIZE_MAX && end - start > max_size) {
                *big = n;
                *big_len = end - start;
            }
            n++;
            in_elem = 0;
        }
        if (depth == 0)
            break;
    }
    return n;
}

static void client_addr(struct MHD_Connection *conn, char *addr, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);

    addr[0] = '\0';
    if (ci && ci->client_addr) {
        const struct sockaddr *sa = ci->client_addr;

        if (sa->sa_family == AF_INET)
            inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr,
                      (socklen_t)len);
        else if (sa->sa_family == AF_INET6)
            inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
                      (socklen_t)len);
    }
}

static const char *header(struct MHD_Connection *conn, const char *name)
{
    return MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
}

/* A bodyless POST (curl -X POST) has neither header: nothing to type. */
static int has_body(struct MHD_Connection *conn)
{
    const char *cl = header(conn, MHD_HTTP_HEADER_CONTENT_LENGTH);

    return header(conn, MHD_HTTP_HEADER_TRANSFER_ENCODING) || (cl && strcmp(cl, "0") != 0);
}

static enum MHD_Result respond_unauthorized(struct tc_http *h, struct MHD_Connection *conn,
                                            const struct route *r, const char *detail)
{
    char *body = tc_error_json("unauthorized", detail);
    struct MHD_Response *mr;
    enum MHD_Result ret;

    mr = MHD_create_response_from_buffer(body ? strlen(body) : 0, body ? body : (void *)"",
                                         body ? MHD_RESPMEM_MUST_FREE : MHD_RESPMEM_PERSISTENT);
    if (!mr) {
        free(body);
        return MHD_NO;
    }
    MHD_add_response_header(mr, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(mr, MHD_HTTP_HEADER_WWW_AUTHENTICATE,
                            tc_auth_challenge(h->auth, r->gate, r->input));
    ret = MHD_queue_response(conn, 401, mr);
    MHD_destroy_response(mr);
    return ret;
}

/* Who may send this request: the daemon's own names in Host, no foreign
 * web page (Origin), the credentials of the route's gate, and JSON bodies
 * for the core's routes. Refused before a byte of the body is read. */
static enum MHD_Result gatekeep(struct tc_http *h, struct MHD_Connection *conn,
                                const char *method, struct pending *p)
{
    const struct route *r = p->route;
    const char *host, *origin, *ctype;
    char detail[300], addr[INET6_ADDRSTRLEN];
    enum tc_auth_result ar;
    int read_only = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

    if (r->gate == TC_GATE_OPEN)
        return MHD_YES;
    p->answered = 1; /* unless let through below */
    /* Logged by its route's path, not the URL: a provider may carry a
     * token in the path (/hooks/uptimerobot/<token>). */
    client_addr(conn, addr, sizeof addr);
    host = header(conn, MHD_HTTP_HEADER_HOST);
    if (!tc_origins_host_ok(h->origins, host)) {
        warn_limited(h, W_FOREIGN, "refused %s %s from %s: Host \"%.80s\" is not one of this"
                     " daemon's names", method, r->path, addr, host);
        snprintf(detail, sizeof detail, "Host \"%.80s\" is not one of this daemon's names"
                 " (daemon.listen, daemon.external_url, daemon.allowed_hosts)", host);
        return respond_error(conn, 421, "misdirected request", detail);
    }
    origin = header(conn, "Origin");
    if (!read_only && !tc_origins_origin_ok(h->origins, origin)) {
        warn_limited(h, W_FOREIGN, "refused %s %s from %s: cross-site request from origin"
                     " \"%.80s\"", method, r->path, addr, origin);
        snprintf(detail, sizeof detail, "origin \"%.80s\" may not change anything here", origin);
        return respond_error(conn, 403, "cross-site request refused", detail);
    }
    ar = tc_auth_check(h->auth, r->gate, r->input, method,
                       header(conn, MHD_HTTP_HEADER_AUTHORIZATION), p->who, sizeof p->who);
    if (ar == TC_AUTH_UNAUTHORIZED) {
        int sent = header(conn, MHD_HTTP_HEADER_AUTHORIZATION) != NULL;

        warn_limited(h, W_AUTH, "refused %s %s from %s: %s", method, r->path, addr,
                     sent ? "credentials not valid here" : "no credentials");
        return respond_unauthorized(h, conn, r, sent ? "the credentials are not valid here"
                                                     : "send Authorization: Bearer <token>");
    }
    if (ar == TC_AUTH_FORBIDDEN) {
        warn_limited(h, W_AUTH, "refused %s %s from %s: token \"%s\" may only read", method,
                     r->path, addr, p->who);
        return respond_error(conn, 403, "forbidden", "this token may only read; "
                             "changes need a token with role \"write\"");
    }
    ctype = header(conn, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (r->json && !read_only && !tc_is_json_type(ctype) && (ctype || has_body(conn))) {
        snprintf(detail, sizeof detail, "Content-Type \"%.80s\": send application/json",
                 ctype ? ctype : "(none)");
        return respond_error(conn, 415, "unsupported media type", detail);
    }
    p->answered = 0;
    return MHD_YES;
}

/* The {name} values of a parameter route, decoded strictly: a NUL, an
 * encoded '/' or a broken escape refuses the request (detail names the
 * parameter) rather than reaching a plugin cut short or split. */
static int decode_params(struct pending *p, char *detail, size_t len)
{
    static const char *const why[] = { "", "a '%' not followed by two hex digits",
                                       "%00 (a NUL)", "%2F (a '/'): a value is one segment" };
    size_t room = strlen(p->raw_path) + TC_ROUTE_MAX_PARAMS, used = 0;
    char *w;
    int i;

    /* find_route matched it already: this only fills params. */
    p->n_params = tc_route_match(p->route->path, p->raw_path, p->params, TC_ROUTE_MAX_PARAMS);
    p->values_buf = malloc(room);
    if (p->n_params < 0 || !p->values_buf) {
        snprintf(detail, len, "%s", p->values_buf ? "path does not match" : "out of memory");
        p->n_params = 0;
        return -1;
    }
    for (i = 0; i < p->n_params; i++) {
        long n;

        w = p->values_buf + used;
        n = tc_route_decode(p->params[i].raw, p->params[i].raw_len, w);
        if (n < 0) {
            snprintf(detail, len, "{%.*s}: %s", (int)p->params[i].name_len, p->params[i].name,
                     why[-n]);
            p->n_params = 0;
            return -1;
        }
        p->values[i] = w;
        used += (size_t)n + 1;
    }
    return 0;
}

/* The first call of a request: headers are in, no body byte read yet.
 * Whatever is refused here is refused before reading the body, and
 * without "100 Continue" (MHD sends it only when we queue nothing). */
static enum MHD_Result on_headers(struct tc_http *h, struct MHD_Connection *conn,
                                  const char *method, const char *url, struct pending *p)
{
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                 MHD_HTTP_HEADER_CONTENT_LENGTH);
    char detail[160], addr[INET6_ADDRSTRLEN], allow[128];
    long long n = 0;

    p->route = find_route(h, method, url, p->raw_path, allow, sizeof allow);
    if (!p->route) {
        p->answered = 1;
        return allow[0] ? respond_not_allowed(conn, method, allow)
                        : respond_error(conn, 404, "not found", url);
    }
    {
        enum MHD_Result r = gatekeep(h, conn, method, p);

        if (p->answered || r != MHD_YES)
            return r;
    }
    /* After the gate: a caller without credentials learns nothing more. */
    if (p->route->n_params && decode_params(p, detail, sizeof detail) < 0) {
        p->answered = 1;
        return respond_error(conn, 400, "bad path parameter", detail);
    }

    if (cl) {
        char *end;

        errno = 0;
        n = strtoll(cl, &end, 10);
        if (errno || end == cl || *end || n < 0)
            n = -1; /* MHD refuses a malformed length itself; be safe */
    }
    if (cl && (n < 0 || n > h->max_body)) {
        client_addr(conn, addr, sizeof addr);
        warn_limited(h, W_TOO_BIG, "refused a %s-byte body from %s (daemon.max_body %lld)", cl,
                     addr, (long long)h->max_body);
        snprintf(detail, sizeof detail, "Content-Length %s is over the limit of %lld bytes"
                 " (daemon.max_body)", cl, (long long)h->max_body);
        p->answered = 1;
        return respond_error(conn, 413, "request body too large", detail);
    }
    if (n > 0 && !admit(h, p, n)) {
        const char *expect = header(conn, MHD_HTTP_HEADER_EXPECT);

        /* A client that waits for 100 Continue is answered now: it sends
         * nothing more. Any other is sending its body already; answering
         * and closing now would reset the connection under it, and the
         * reset can reach it before the 503 does. So the body is read to
         * its end and dropped (nothing is kept), then answered. */
        if (!expect || strcasecmp(expect, "100-continue") != 0) {
            p->busy = 1;
            return MHD_YES;
        }
        client_addr(conn, addr, sizeof addr);
        warn_limited(h, W_BUSY, "busy: refused a %lld-byte body from %s with 503, %lld bytes"
                     " of bodies in progress (daemon.max_body_memory)", n, addr,
                     (long long)h->max_body_memory);
        p->answered = 1;
        return respond_busy(conn);
    }
    return MHD_YES;
}

/* A piece of the body: buffer it, within the limits and the deadline. */
static enum MHD_Result on_upload(struct tc_http *h, struct MHD_Connection *conn,
                                 struct pending *p, const char *data, size_t n)
{
    char addr[INET6_ADDRSTRLEN];

    if (mono_ms() - p->started > h->request_timeout_ms) {
        client_addr(conn, addr, sizeof addr);
        warn_limited(h, W_DEADLINE, "closed a connection from %s: its request was not"
                     " received within %lld ms (daemon.request_timeout)", addr,
                     (long long)h->request_timeout_ms);
        return MHD_NO;
    }
    if (p->too_big || p->busy)
        return MHD_YES; /* a chunked body: drop the rest, answer at its end */
    if (p->len + n > (size_t)h->max_body) {
        p->too_big = 1;
        return MHD_YES;
    }
    if (p->len + n + 1 > p->cap) {
        size_t cap = p->cap ? p->cap : 4096;
        char *grown;

        /* Content-Length known: the exact size, reserved in on_headers.
         * Chunked: doubling, each step admitted against the budget. */
        if (p->reserved > 0 && (size_t)p->reserved >= p->len + n)
            cap = (size_t)p->reserved + 1;
        while (cap < p->len + n + 1)
            cap *= 2;
        if (cap > (size_t)h->max_body + 1)
            cap = (size_t)h->max_body + 1;
        if ((int64_t)cap > p->reserved + 1 && !admit(h, p, (int64_t)cap - 1 - p->reserved)) {
            p->busy = 1;
            return MHD_YES;
        }
        grown = realloc(p->body, cap);
        if (!grown)
            return MHD_NO;
        p->body = grown;
        p->cap = cap;
    }
    memcpy(p->body + p->len, data, n);
    p->len += n;
    p->body[p->len] = '\0';
    return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    struct tc_http *h = cls;
    struct pending *p = *state;
    const struct route *route;
    struct request req;
    struct tocsin_http_response resp = { 200, NULL, NULL, 0 };
    char detail[200], addr[INET6_ADDRSTRLEN + 8];

    if (!p)
        return MHD_NO; /* on_uri could not allocate it */
    if (!p->begun) {
        p->begun = 1;
        return on_headers(h, conn, method, url, p);
    }
    if (p->answered) { /* answered on the first call: MHD reads no body */
        *upload_size = 0;
        return MHD_YES;
    }
    if (*upload_size) {
        enum MHD_Result r = on_upload(h, conn, p, upload_data, *upload_size);

        *upload_size = 0;
        return r;
    }
    /* Received: from here a slow answer is ours, not the client's. */
    conn_receiving(h, conn, 0);
    tc_metric_add(TC_M_HTTP_REQUESTS, 1);
    if (p->too_big) {
        client_addr(conn, addr, sizeof addr);
        warn_limited(h, W_TOO_BIG, "refused a chunked body over %lld bytes from %s"
                     " (daemon.max_body)", (long long)h->max_body, addr);
        snprintf(detail, sizeof detail, "the limit is %lld bytes (daemon.max_body)",
                 (long long)h->max_body);
        return respond_error_close(conn, 413, "request body too large", detail);
    }
    if (p->busy) {
        client_addr(conn, addr, sizeof addr);
        warn_limited(h, W_BUSY, "busy: refused a body from %s with 503, read and dropped"
                     " (daemon.max_body_memory %lld bytes in progress)", addr,
                     (long long)h->max_body_memory);
        return respond_busy(conn);
    }
    route = p->route;
    if ((route->gate == TC_GATE_INPUT || route->gate == TC_GATE_SELF) && p->len) {
        size_t big, big_len,
            n = scan_alerts(p->body, p->len, (size_t)h->max_alerts, (size_t)h->max_alert_size,
                            &big, &big_len);

        if (n > (size_t)h->max_alerts) {
            snprintf(detail, sizeof detail, "more than %lld alerts in one request"
                     " (daemon.max_alerts_per_request); send them in smaller batches",
                     (long long)h->max_alerts);
            return respond_error(conn, 413, "too many alerts", detail);
        }
        if (big != SIZE_MAX) {
            snprintf(detail, sizeof detail, "alert %zu is %zu bytes, the limit is %lld"
                     " (daemon.max_alert_size)", big, big_len, (long long)h->max_alert_size);
            return respond_error(conn, 413, "alert too large", detail);
        }
    }
    memset(&req, 0, sizeof req);
    req.conn = conn;
    req.pub.method = method;
    req.pub.path = url;
    req.pub.body = p->body ? p->body : "";
    req.pub.body_len = p->len;
    req.pub.header = req_header;
    req.pub.query = req_query;
    req.pub.param = req_param;
    req.pub.query_all = tc_http_query_all;
    req.p = p;
    client_addr(conn, addr, sizeof addr);
    req.pub.remote_addr = addr;
    req.who = p->who;
    if (route->fn(route->self, &req.pub, &resp) != TOCSIN_OK && resp.status < 400) {
        free(resp.body);
        return respond_error(conn, 500, "internal error", route->owner);
    }
    if (resp.status < 100 || resp.status > 599)
        resp.status = 500;
    return respond(conn, &resp);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **state,
                         enum MHD_RequestTerminationCode code)
{
    struct tc_http *h = cls;
    struct pending *p = *state;

    if (!p)
        return;
    pthread_mutex_lock(&h->lock);
    h->body_bytes -= p->reserved;
    h->active--;
    pthread_cond_broadcast(&h->changed);
    pthread_mutex_unlock(&h->lock);
    /* The next request on a kept-alive connection has the same deadline. */
    conn_receiving(h, conn, mono_ms());
    free(p->body);
    free(p->raw_path);
    free(p->values_buf);
    free(p);
    *state = NULL;
}

/* The request line is in, before MHD decodes the path: keep it as sent
 * (an encoded '/' must not split a {name} value). The state made here is
 * freed in on_completed, which MHD calls from now on. */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    struct tc_http *h = cls;
    struct pending *p = calloc(1, sizeof *p);

    (void)conn;
    if (!p)
        return NULL;
    p->raw_path = strndup(uri, strcspn(uri, "?#"));
    if (!p->raw_path) {
        free(p);
        return NULL;
    }
    p->started = mono_ms();
    pthread_mutex_lock(&h->lock);
    h->active++;
    pthread_mutex_unlock(&h->lock);
    return p;
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
                          enum MHD_ConnectionNotificationCode code)
{
    struct tc_http *h = cls;
    struct conn *c = *socket_context;

    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);

        c = calloc(1, sizeof *c);
        if (!c || !ci)
            return free(c); /* no deadline for it; MHD's idle timeout still holds */
        c->fd = ci->connect_fd;
        c->since = mono_ms();
        client_addr(conn, c->addr, sizeof c->addr);
        pthread_mutex_lock(&h->lock);
        c->next = h->conns;
        if (h->conns)
            h->conns->prev = c;
        h->conns = c;
        pthread_mutex_unlock(&h->lock);
        *socket_context = c;
    } else if (c) {
        /* MHD closes the socket after this returns: the watchdog, which
         * holds the lock while it shuts sockets down, never sees it again. */
        pthread_mutex_lock(&h->lock);
        if (c->prev)
            c->prev->next = c->next;
        else
            h->conns = c->next;
        if (c->next)
            c->next->prev = c->prev;
        pthread_mutex_unlock(&h->lock);
        free(c);
        *socket_context = NULL;
    }
}

/* Shuts down the socket of every connection whose request was not received
 * within request_timeout: its thread then sees the end of the stream and
 * closes it. A client sending a header byte a second defeats MHD's
 * inactivity timeout, not this. */
static void *watchdog(void *arg)
{
    struct tc_http *h = arg;
    struct timespec ts;

    pthread_mutex_lock(&h->lock);
    while (!h->stopping) {
        int64_t now = mono_ms();
        int shut = 0;
        char first[INET6_ADDRSTRLEN] = "";
        struct conn *c;

        for (c = h->conns; c; c = c->next) {
            if (c->since && !c->shut && now - c->since > h->request_timeout_ms) {
                shutdown(c->fd, SHUT_RDWR);
                c->shut = 1;
                if (!shut++)
                    snprintf(first, sizeof first, "%s", c->addr);
            }
        }
        if (shut) {
            pthread_mutex_unlock(&h->lock);
            warn_limited(h, W_DEADLINE, "closed %d connection(s) (first from %s) that sent"
                         " no complete request within %lld ms (daemon.request_timeout)",
                         shut, first, (long long)h->request_timeout_ms);
            pthread_mutex_lock(&h->lock);
        }
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 250 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->changed, &h->lock, &ts);
    }
    pthread_mutex_unlock(&h->lock);
    return NULL;
}

/* Query values and paths are decoded here rather than by MHD so that %00
 * stays literal: a NUL would otherwise cut "limit=1%00junk" to "1". */
static size_t unescape(void *cls, struct MHD_Connection *conn, char *s)
{
    char *r = s, *w = s;

    while (*r) {
        int hi, lo;

        if (r[0] == '%' && (hi = tc_hex_digit(r[1])) >= 0 && (lo = tc_hex_digit(r[2])) >= 0 &&
            (hi | lo) != 0) {
            *w++ = (char)(hi << 4 | lo);
            r += 3;
        } else {
            *w++ = *r++;
        }
    }
    *w = '\0';
    return (size_t)(w - s);
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct tc_http *h = cls;
    char msg[512];
    size_t n;

    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    /* MHD refuses connections over the limits by itself; say so at warn. */
    if (strstr(msg, "limit"))
        warn_limited(h, W_CONN_LIMIT, "refused a connection: %s (daemon.max_connections %u,"
                     " daemon.max_connections_per_ip %u)", msg, h->max_connections,
                     h->max_connections_per_ip);
    else
        tc_log(TOCSIN_LOG_DEBUG, "http: %s", msg);
}

int tc_http_resolve(const char *listen_spec, struct addrinfo **ai, char *err, size_t errlen)
{
    char host[256], port[16];
    const char *colon = strrchr(listen_spec, ':');
    struct addrinfo hints = { 0 };
    int rc;

    *ai = NULL;
    if (!colon || colon == listen_spec || (size_t)(colon - listen_spec) >= sizeof host ||
        strlen(colon + 1) >= sizeof port || !colon[1]) {
        snprintf(err, errlen, "daemon.listen \"%s\" is not HOST:PORT", listen_spec);
        return -1;
    }
    memcpy(host, listen_spec, (size_t)(colon - listen_spec));
    host[colon - listen_spec] = '\0';
    snprintf(port, sizeof port, "%s", colon + 1);
    if (host[0] == '[' && host[strlen(host) - 1] == ']') {
        memmove(host, host + 1, strlen(host));
        host[strlen(host) - 1] = '\0';
    }
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
    rc = getaddrinfo(host, port, &hints, ai);
    if (rc != 0) {
        snprintf(err, errlen, "daemon.listen \"%s\": %s", listen_spec, gai_strerror(rc));
        *ai = NULL;
        return -1;
    }
    return 0;
}

int tc_http_is_loopback(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET)
        return (ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr) >> 24) == 127;
    if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a = &((const struct sockaddr_in6 *)sa)->sin6_addr;

        return IN6_IS_ADDR_LOOPBACK(a) || (IN6_IS_ADDR_V4MAPPED(a) && a->s6_addr[12] == 127);
    }
    return 0;
}

int tc_http_listen_is_loopback(const char *listen_spec, char *err, size_t errlen)
{
    struct addrinfo *ai;
    int yes;

    if (tc_http_resolve(listen_spec, &ai, err, errlen) < 0)
        return -1;
    yes = tc_http_is_loopback(ai->ai_addr); /* the one open_listener binds */
    freeaddrinfo(ai);
    return yes;
}

static int open_listener(const char *listen_spec, char *bound, size_t boundlen, int *loopback,
                         char *err, size_t errlen)
{
    struct addrinfo *ai;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd, one = 1;
    char addr[INET6_ADDRSTRLEN];

    if (tc_http_resolve(listen_spec, &ai, err, errlen) < 0)
        return -1;
    fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) < 0 ||
        bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 512) < 0 ||
        getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
        snprintf(err, errlen, "cannot listen on %s: %s", listen_spec, strerror(errno));
        if (fd >= 0)
            close(fd);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    *loopback = tc_http_is_loopback((struct sockaddr *)&ss);
    if (ss.ss_family == AF_INET6) {
        inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, addr, sizeof addr);
        snprintf(bound, boundlen, "[%s]:%u", addr,
                 ntohs(((struct sockaddr_in6 *)&ss)->sin6_port));
    } else {
        inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, addr, sizeof addr);
        snprintf(bound, boundlen, "%s:%u", addr, ntohs(((struct sockaddr_in *)&ss)->sin_port));
    }
    return fd;
}

/* Room for max_connections sockets beside the store, sinks and plugins:
 * raise the soft fd limit if the hard one allows, else serve fewer. */
static unsigned fit_fd_limit(unsigned want)
{
    struct rlimit rl;
    rlim_t need = (rlim_t)want + 256;

    if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
        return want;
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
        unsigned fit = rl.rlim_cur > 512 ? (unsigned)(rl.rlim_cur - 256) : 256;

        tc_warn("http: the open file limit is %llu: serving %u connections, not %u"
                " (daemon.max_connections); raise it with ulimit -n or LimitNOFILE=",
                (unsigned long long)rl.rlim_cur, fit, want);
        return fit;
    }
    return want;
}

int tc_http_start(struct tc_http *h, const char *listen_spec, char *bound, size_t boundlen,
                  char *err, size_t errlen)
{
    unsigned conns = fit_fd_limit(h->max_connections);
    unsigned idle_s = (unsigned)((h->request_timeout_ms + 999) / 1000);
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_POLL | MHD_USE_ITC | MHD_USE_ERROR_LOG;
    struct MHD_OptionItem tls[3] = { { MHD_OPTION_END, 0, NULL } };
    int loopback, fd;

    if (h->conf->tls_cert) {
        if (!tc_tls_available()) {
            snprintf(err, errlen, "daemon.tls_cert is set but libmicrohttpd was built without"
                     " TLS");
            return -1;
        }
        if (tc_tls_load(h->conf->tls_cert, h->conf->tls_key, &h->tls_cert, &h->tls_key, err,
                        errlen) < 0)
            return -1;
        flags |= MHD_USE_TLS;
        tls[0] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_CERT, 0, h->tls_cert };
        tls[1] = (struct MHD_OptionItem){ MHD_OPTION_HTTPS_MEM_KEY, 0, h->tls_key };
    }
    fd = open_listener(listen_spec, bound, boundlen, &loopback, err, errlen);
    if (fd < 0)
        return -1;
    h->origins = tc_origins_new(bound, loopback, h->conf->tls_cert != NULL,
                                h->conf->external_url, &h->conf->allowed_hosts);
    if (!h->origins) {
        snprintf(err, errlen, "out of memory");
        close(fd);
        return -1;
    }
    /* MHD_USE_ITC: MHD_quiesce_daemon needs it. MHD owns fd from here. */
    h->mhd = MHD_start_daemon(
        flags, 0, NULL, NULL, on_request, h, MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_NOTIFY_CONNECTION,
        on_connection, h, MHD_OPTION_CONNECTION_LIMIT, conns,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, h->max_connections_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, idle_s, MHD_OPTION_UNESCAPE_CALLBACK, unescape, h,
        MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", listen_spec);
        /* Whether MHD closed it on failure varies by version. */
        if (fcntl(fd, F_GETFD) >= 0)
            close(fd);
        return -1;
    }
    if (pthread_create(&h->watchdog, NULL, watchdog, h) == 0)
        h->watchdog_running = 1;
    else
        tc_warn("http: no request deadline watchdog (cannot start a thread)");
    return 0;
}

void tc_http_quiesce(struct tc_http *h, int64_t timeout_ms)
{
    int64_t until = mono_ms() + timeout_ms;
    MHD_socket fd;

    if (!h || !h->mhd || h->fd >= 0)
        return;
    fd = MHD_quiesce_daemon(h->mhd);
    if (fd == MHD_INVALID_SOCKET)
        return;
    /* Ours now, closed after MHD_stop_daemon (its threads may still look at
     * it); shut down at once so connecting clients are refused, not queued. */
    h->fd = fd;
    shutdown(fd, SHUT_RDWR);
    pthread_mutex_lock(&h->lock);
    while (h->active > 0 && mono_ms() < until) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 50 * 1000000L;
        if (ts.tv_nsec >= 1000000000L) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000L;
        }
        pthread_cond_timedwait(&h->changed, &h->lock, &ts);
    }
    if (h->active > 0)
        tc_warn("http: %d request(s) still in progress after %lld ms", h->active,
                (long long)timeout_ms);
    pthread_mutex_unlock(&h->lock);
}

void tc_http_stop(struct tc_http *h)
{
    if (!h)
        return;
    if (h->mhd) {
        MHD_stop_daemon(h->mhd); /* closes the listening socket unless quiesced */
        h->mhd = NULL;
    }
    if (h->fd >= 0) {
        close(h->fd);
        h->fd = -1;
    }
    if (h->watchdog_running) {
        pthread_mutex_lock(&h->lock);
        h->stopping = 1;
        pthread_cond_broadcast(&h->changed);
        pthread_mutex_unlock(&h->lock);
        pthread_join(h->watchdog, NULL);
        h->watchdog_running = 0;
    }
}

void tc_http_free(struct tc_http *h)
{
    size_t i;

    if (!h)
        return;
    tc_http_stop(h);
    for (i = 0; i < h->n_routes; i++) {
        free(h->routes[i].method);
        free(h->routes[i].path);
        free(h->routes[i].owner);
        free(h->routes[i].input);
    }
    tc_origins_free(h->origins);
    free(h->tls_cert);
    free(h->tls_key);
    free(h->routes);
    pthread_mutex_destroy(&h->lock);
    pthread_cond_destroy(&h->changed);
    free(h);
}
