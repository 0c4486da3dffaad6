/* probe.h: the healthcheck's probes, blocking (they run on the instance's
 * own timer thread): an HTTP request through the host's client, or a TCP
 * connect with a deadline. */
#ifndef TC_HC_PROBE_H
#define TC_HC_PROBE_H

#include <stdint.h>
#include <tocsin/plugin.h>

#include "judge.h"

/* One HTTP request; o->body points into *res until host->http_free(res). */
void hc_probe_http(const struct tocsin_host *host, const char *method, const char *url,
                   const char *const *headers, int64_t timeout_ms,
                   struct tocsin_http_result *res, struct hc_outcome *o);
/* Connect to host:port within timeout_ms and close. err holds the words
 * for o->error. */
void hc_probe_tcp(const char *host, const char *port, int64_t timeout_ms,
                  struct hc_outcome *o, char *err, size_t errlen);

#endif
