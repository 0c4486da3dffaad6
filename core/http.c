/* http.c: libmicrohttpd listener. Reads bodies up to the limit (413 past
 * it), then hands the request to the route registered for its path. One
 * thread per connection: an intake handler blocks until its alerts are
 * committed, and must not hold up other connections meanwhile. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "common.h"
#include "http.h"
#include "log.h"
#include "metrics.h"

struct route {
    char *method, *path;
    size_t prefix_len; /* > 0: a prefix route */
    tocsin_route_fn fn;
    void *self;
    char *owner;
};

struct tc_http {
    struct MHD_Daemon *mhd;
    int fd;
    int64_t max_body;
    struct route *routes;
    size_t n_routes;
};

struct pending {
    char *body;
    size_t len, cap;
    int too_big;
};

struct request {
    struct tocsin_http_request pub;
    struct MHD_Connection *conn;
};

struct tc_http *tc_http_new(int64_t max_body)
{
    struct tc_http *h = calloc(1, sizeof *h);

    if (h) {
        h->fd = -1;
        h->max_body = max_body;
    }
    return h;
}

int tc_http_route(struct tc_http *h, const char *method, const char *path, tocsin_route_fn fn,
                  void *self, const char *owner, char *err, size_t errlen)
{
    size_t i, len = strlen(path);
    struct route *grown, *r;

    if (h->mhd || !method || !path || path[0] != '/' || !fn) {
        snprintf(err, errlen, "cannot register route %s %s", method ? method : "?",
                 path ? path : "?");
        return TOCSIN_EINVAL;
    }
    for (i = 0; i < h->n_routes; i++) {
        if (strcmp(h->routes[i].method, method) == 0 && strcmp(h->routes[i].path, path) == 0) {
            snprintf(err, errlen, "route %s %s is taken by %s", method, path,
                     h->routes[i].owner);
            return TOCSIN_EINVAL;
        }
    }
    grown = realloc(h->routes, (h->n_routes + 1) * sizeof *grown);
    if (!grown)
        return TOCSIN_ENOMEM;
    h->routes = grown;
    r = &h->routes[h->n_routes++];
    r->method = strdup(method);
    r->path = strdup(path);
    r->prefix_len = len > 0 && path[len - 1] == '*' ? len - 1 : 0;
    r->fn = fn;
    r->self = self;
    r->owner = strdup(owner ? owner : "core");
    return TOCSIN_OK;
}

static int path_matches(const struct route *r, const char *path)
{
    if (r->prefix_len)
        return strncmp(r->path, path, r->prefix_len) == 0;
    return strcmp(r->path, path) == 0;
}

/* Exact routes beat prefixes; the longest prefix wins. */
static const struct route *find_route(const struct tc_http *h, const char *method,
                                      const char *path, int *path_known)
{
    const struct route *best = NULL;
    size_t i;

    *path_known = 0;
    for (i = 0; i < h->n_routes; i++) {
        const struct route *r = &h->routes[i];

        if (!path_matches(r, path))
            continue;
        *path_known = 1;
        if (strcmp(r->method, method) != 0)
            continue;
        if (!best || (best->prefix_len && (!r->prefix_len || r->prefix_len > best->prefix_len)))
            best = r;
    }
    return best;
}

static const char *req_header(const struct tocsin_http_request *req, const char *name)
{
    const struct request *r = (const struct request *)req;

    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

static const char *req_query(const struct tocsin_http_request *req, const char *name)
{
    const struct request *r = (const struct request *)req;

    return MHD_lookup_connection_value(r->conn, MHD_GET_ARGUMENT_KIND, name);
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

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *upload_data, size_t *upload_size, void **state)
{
    struct tc_http *h = cls;
    struct pending *p = *state;
    const struct route *route;
    struct request req;
    struct tocsin_http_response resp = { 200, NULL, NULL, 0 };
    char limit[64];
    int known;

    if (!p) {
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND,
                                                     MHD_HTTP_HEADER_CONTENT_LENGTH);

        p = calloc(1, sizeof *p);
        if (!p)
            return MHD_NO;
        *state = p;
        if (cl && strtoll(cl, NULL, 10) > h->max_body)
            p->too_big = 1; /* keep reading to answer cleanly, but store nothing */
        return MHD_YES;
    }
    if (*upload_size) {
        size_t n = *upload_size;

        if (!p->too_big && p->len + n > (size_t)h->max_body)
            p->too_big = 1;
        if (!p->too_big) {
            if (p->len + n + 1 > p->cap) {
                size_t cap = p->cap ? p->cap : 4096;
                char *grown;

                while (cap < p->len + n + 1)
                    cap *= 2;
                grown = realloc(p->body, cap);
                if (!grown)
                    return MHD_NO;
                p->body = grown;
                p->cap = cap;
            }
            memcpy(p->body + p->len, upload_data, n);
            p->len += n;
            p->body[p->len] = '\0';
        }
        *upload_size = 0;
        return MHD_YES;
    }
    tc_metric_add(TC_M_HTTP_REQUESTS, 1);
    snprintf(limit, sizeof limit, "the limit is %lld bytes (daemon.max_body)",
             (long long)h->max_body);
    if (p->too_big)
        return respond_error(conn, 413, "request body too large", limit);
    route = find_route(h, method, url, &known);
    if (!route)
        return known ? respond_error(conn, 405, "method not allowed", method)
                     : respond_error(conn, 404, "not found", url);
    memset(&req, 0, sizeof req);
    req.conn = conn;
    req.pub.method = method;
    req.pub.path = url;
    req.pub.body = p->body ? p->body : "";
    req.pub.body_len = p->len;
    req.pub.header = req_header;
    req.pub.query = req_query;
    {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
        static _Thread_local char addr[INET6_ADDRSTRLEN + 8];

        addr[0] = '\0';
        if (ci && ci->client_addr) {
            const struct sockaddr *sa = ci->client_addr;

            if (sa->sa_family == AF_INET)
                inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr, addr,
                          sizeof addr);
            else if (sa->sa_family == AF_INET6)
                inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr, addr,
                          sizeof addr);
        }
        req.pub.remote_addr = addr;
    }
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
    struct pending *p = *state;

    if (p) {
        free(p->body);
        free(p);
        *state = NULL;
    }
}

static void on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    char msg[512];
    size_t n;

    vsnprintf(msg, sizeof msg, fmt, ap);
    n = strlen(msg);
    while (n && msg[n - 1] == '\n')
        msg[--n] = '\0';
    tc_log(TOCSIN_LOG_DEBUG, "http: %s", msg);
}

static int open_listener(const char *listen_spec, char *bound, size_t boundlen, char *err,
                         size_t errlen)
{
    char host[256], port[16];
    const char *colon = strrchr(listen_spec, ':');
    struct addrinfo hints = { 0 }, *ai = NULL;
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    int fd, one = 1, rc;
    char addr[INET6_ADDRSTRLEN];

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
    rc = getaddrinfo(host, port, &hints, &ai);
    if (rc != 0) {
        snprintf(err, errlen, "daemon.listen \"%s\": %s", listen_spec, gai_strerror(rc));
        return -1;
    }
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

int tc_http_start(struct tc_http *h, const char *listen_spec, char *bound, size_t boundlen,
                  char *err, size_t errlen)
{
    h->fd = open_listener(listen_spec, bound, boundlen, err, errlen);
    if (h->fd < 0)
        return -1;
    h->mhd = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
            MHD_USE_ERROR_LOG,
        0, NULL, NULL, on_request, h, MHD_OPTION_LISTEN_SOCKET, h->fd,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)512, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h, MHD_OPTION_END);
    if (!h->mhd) {
        snprintf(err, errlen, "cannot start the HTTP server on %s", listen_spec);
        close(h->fd);
        h->fd = -1;
        return -1;
    }
    return 0;
}

void tc_http_stop(struct tc_http *h)
{
    if (h && h->mhd) {
        MHD_stop_daemon(h->mhd);
        h->mhd = NULL;
    }
    if (h && h->fd >= 0) {
        close(h->fd);
        h->fd = -1;
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
    }
    free(h->routes);
    free(h);
}
