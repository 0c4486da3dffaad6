/* routes.h: which sinks an alert goes to. */
#ifndef TC_ROUTES_H
#define TC_ROUTES_H

#include <libconfig.h>
#include <stddef.h>
#include <tocsin/plugin.h>

#include "errors.h"

struct tc_routes;

/* Parse the `routes` list (may be NULL: no routes). Each route:
 *   match = {
 *     severity = [ "critical", "high" ];   # or a single string
 *     source   = [ "prom" ];               # input instance ids
 *     service  = [ "db" ];
 *     labels    = { team = "db"; };        # exact
 *     labels_re = { instance = "db[0-9]+"; };  # POSIX ERE, anchored
 *   };
 *   sinks = [ "pd", "chat" ];
 *   continue = false;                      # true: keep matching after this one
 * A route without match matches everything. Every sink named must be in
 * sink_ids. Errors go to errs with FILE:LINE. Returns NULL on error. */
struct tc_routes *tc_routes_parse(const config_setting_t *list, const char *file,
                                  const char *const *sink_ids, size_t n_sinks,
                                  struct tc_errors *errs);
void tc_routes_free(struct tc_routes *r);

/* Sinks for an alert, in route order, each at most once: their indices
 * into sink_ids are written to out (at most max). Returns the count.
 * source and service are the alert's effective values. */
size_t tc_routes_match(const struct tc_routes *r, const struct tocsin_alert *alert,
                       size_t *out, size_t max);

size_t tc_routes_count(const struct tc_routes *r);

#endif
