/* http.h: the one HTTP listener: core API and input routes. */
#ifndef TC_HTTP_H
#define TC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

struct tc_daemon_conf;
struct tc_http;

/* Limits from conf (max_body, max_body_memory, connections, deadlines). */
struct tc_http *tc_http_new(const struct tc_daemon_conf *conf);
/* Register METHOD PATH (exact, or a prefix when it ends in '*'). owner
 * names the instance in conflict errors. Routes are fixed once listening. */
int tc_http_route(struct tc_http *h, const char *method, const char *path, tocsin_route_fn fn,
                  void *self, const char *owner, char *err, size_t errlen);
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
