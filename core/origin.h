/* origin.h: which names and web origins may address this daemon. A page
 * in the operator's browser must not drive a loopback tocsind, neither by
 * posting to it (Origin) nor by rebinding a DNS name to 127.0.0.1 (Host). */
#ifndef TC_ORIGIN_H
#define TC_ORIGIN_H

#include <tocsin/plugin.h>

struct tc_origins;

/* The accepted names: on a loopback listener localhost, 127.0.0.1 and
 * [::1] with its port; the bound address unless it is a wildcard; the
 * host of external_url; every allowed entry ("name" for any port, or
 * "name:port"). bound is "host:port" as bound; tls sets default port and
 * scheme. NULL on allocation failure. */
struct tc_origins *tc_origins_new(const char *bound, int loopback, int tls,
                                  const char *external_url,
                                  const struct tocsin_strlist *allowed);
void tc_origins_free(struct tc_origins *o);

/* A Host header (NULL: HTTP/1.0 without one) this daemon answers to.
 * A wildcard listener with no external_url or allowed_hosts answers any. */
int tc_origins_host_ok(const struct tc_origins *o, const char *host);
/* An Origin header (NULL: not a browser's cross-site request) that is
 * this daemon's own: same scheme, host and port as an accepted name. */
int tc_origins_origin_ok(const struct tc_origins *o, const char *origin);

#endif
