/* http.h: the one HTTP listener: core API and input routes. */
#ifndef TC_HTTP_H
#define TC_HTTP_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

struct tc_http;

struct tc_http *tc_http_new(int64_t max_body);
/* Register METHOD PATH (exact, or a prefix when it ends in '*'). owner
 * names the instance in conflict errors. Routes are fixed once listening. */
int tc_http_route(struct tc_http *h, const char *method, const char *path, tocsin_route_fn fn,
                  void *self, const char *owner, char *err, size_t errlen);
/* Listen on "host:port" ("[::1]:9099"; port 0 picks one) and serve.
 * bound receives "host:port" as actually bound. */
int tc_http_start(struct tc_http *h, const char *listen, char *bound, size_t boundlen,
                  char *err, size_t errlen);
/* Stop accepting and wait for requests in progress. */
void tc_http_stop(struct tc_http *h);
void tc_http_free(struct tc_http *h);


#endif
