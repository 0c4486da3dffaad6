/* http.h: the one HTTP listener: core API and plugins' routes. */
#ifndef TC_HTTP_H
#define TC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "auth.h"

struct tc_daemon_conf;
struct tc_http;
struct sockaddr;

/* Limits from conf (max_body, max_body_memory, connections, deadlines),
 * names and TLS from conf, credentials from auth; both outlive it. */
struct tc_http *tc_http_new(const struct tc_daemon_conf *conf, const struct tc_auth *auth);
/* Register METHOD PATH: exact, a prefix when it ends in '*', or with
 * {name} segments ("/api/v1/maintenance/{id}", route_match.h), each
 * matching one non-empty segment of the raw path, percent-decoded strictly
 * for req->param (a %00, %2F or broken escape is a 400 naming it).
 * A request takes, among the routes of its method:
 *   1. the exact route for its path;
 *   2. else a parameter route, the one literal first where two differ
 *      ("/a/x/{id}" before "/a/{id}/y");
 *   3. else the longest '*' prefix.
 * A path with routes for other methods only is a 405 with Allow; none: 404.
 * A malformed pattern, or one of the same method and shape as a route
 * already there ("/a/{id}" vs "/a/{x}"), fails naming both owners.
 * owner names the instance in those errors (NULL: the core's own route,
 * whose bodies must be JSON, 415 otherwise; a plugin's route takes any
 * body type and judges it itself). gate says who may call it; input names
 * the instance for TC_GATE_INPUT. Routes are fixed once listening. */
int tc_http_route(struct tc_http *h, const char *method, const char *path, tocsin_route_fn fn,
                  void *self, const char *owner, enum tc_gate gate, const char *input,
                  char *err, size_t errlen);
/* Inside a route: the name of the token or user the request came with
 * ("" on an open API). */
const char *tc_http_who(const struct tocsin_http_request *req);
/* Inside a route: every value of a query argument given more than once
 * ("filter=a&filter=b"), in order, into v[0..max); returns how many there
 * were, which may be more than max. They live as long as the request. */
size_t tc_http_query_all(const struct tocsin_http_request *req, const char *name,
                         const char **v, size_t max);
/* Whether an address, or the address daemon.listen binds (-1 with err
 * when it does not resolve), is a loopback one. */
int tc_http_is_loopback(const struct sockaddr *sa);
int tc_http_listen_is_loopback(const char *listen_spec, char *err, size_t errlen);
struct addrinfo;
/* Resolve daemon.listen ("host:port", "[::1]:9099") for binding: 0 and
 * *ai (freeaddrinfo() it), or -1 with err saying what is wrong. */
int tc_http_resolve(const char *listen_spec, struct addrinfo **ai, char *err, size_t errlen);
/* Listen on "host:port" ("[::1]:9099"; port 0 picks one) and serve.
 * bound receives "host:port" as actually bound. */
int tc_http_start(struct tc_http *h, const char *listen, char *bound, size_t boundlen,
                  char *err, size_t errlen);
/* Stop accepting connections and wait up to timeout_ms for the requests
 * already being received or handled to be answered (SIGTERM: finish what
 * was being read before intake closes). */
void tc_http_quiesce(struct tc_http *h, int64_t timeout_ms);
/* Stop serving: close every connection, wait for their threads. */
void tc_http_stop(struct tc_http *h);
void tc_http_free(struct tc_http *h);


#endif
