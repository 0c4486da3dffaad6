/* fields.h: checks of a JSON request's fields for the provider peers
 * (PagerDuty, Opsgenie), reported on their test peer (peer.h) with
 * peer_violate(). where prefixes every report ("pagerduty: payload.",
 * "opsgenie: create: "). Call them from the peer's hooks only. */
#ifndef TOCSIN_TEST_FIELDS_H
#define TOCSIN_TEST_FIELDS_H

#include <jansson.h>
#include <stddef.h>

#include "peer.h"

/* 1 when s is one of the NULL-terminated set (0 for a NULL s). */
int fields_one_of(const char *s, const char *const *set);
/* o's key as a string, or NULL. */
const char *fields_str(json_t *o, const char *key);
/* Every key of o is one of known. */
void fields_only(struct peer *p, json_t *o, const char *where, const char *const *known);
/* key is a string (required: there and not empty) of at most max (0: no
 * limit) as length counts it (each provider counts its own way). */
void fields_string(struct peer *p, json_t *o, const char *where, const char *key, int required,
                   size_t max, size_t (*length)(const char *));

#endif
