/* format.h: the opsgenie sink's Alert API v2 requests (create, acknowledge
 * and close by alias) and its reading of Opsgenie's answers. Pure: no I/O. */
#ifndef TC_OPSGENIE_FORMAT_H
#define TC_OPSGENIE_FORMAT_H

#include <stddef.h>
#include <tocsin/plugin.h>

/* Limits of the Alert API (formats page; Opsgenie's "Alert API" and
 * opsgenie-go-sdk-v2), in UTF-16 code units (lib/fit.c): Opsgenie counts
 * as Java does. */
#define OG_MESSAGE_MAX 130
#define OG_ALIAS_MAX 512
#define OG_DESCRIPTION_MAX 15000
#define OG_RESPONDERS_MAX 50
#define OG_TAGS_MAX 20
#define OG_TAG_MAX 50
#define OG_DETAILS_MAX 8000 /* keys and values together */
#define OG_ENTITY_MAX 512
#define OG_USER_MAX 100
#define OG_NOTE_MAX 25000

/* A responder: {"type": type, key: value}, key "name" (team, escalation,
 * schedule) or "username" (user). value points into the spec parsed. */
struct og_responder {
    const char *type;
    const char *key;
    const char *value;
};

/* What an instance adds to every request. */
struct og_conf {
    const struct og_responder *responders;
    size_t n_responders;
    const char *const *tags_from; /* label names copied as "name:value" tags */
    size_t n_tags_from;
    /* Opsgenie's priority for each tocsin severity (index: enum
     * tocsin_severity): "P1".."P5". */
    const char *priority[5];
};

/* critical P1, high P2, medium P3, low P4, info P5 (DESIGN.md). */
extern const char *const og_default_priority[5];
/* "P1".."P5" (any case) as the static upper-case name, or NULL. */
const char *og_priority_name(const char *s);

/* "team:NAME", "user:EMAIL", "escalation:NAME" or "schedule:NAME" into r
 * (pointing into spec). Returns 0, or -1 with err saying what is wrong. */
int og_responder_parse(const char *spec, struct og_responder *r, char *err, size_t errlen);

/* The alias of n's incident: its dedup key (else its label fingerprint),
 * made to fit 512 with a stable hash. malloc()ed. */
char *og_alias(const struct tocsin_notification *n);

/* One request: POST {api_url}{path} with body. */
struct og_request {
    char *path;  /* "/v2/alerts", "/v2/alerts/{alias}/close?identifierType=alias" */
    char *body;  /* compact JSON */
};

/* The request for n: a create for a trigger; for an acknowledge or a
 * resolve, acknowledge or close by alias, with the actor as user and a
 * note saying who (and, for a resolve, the resolution note). Returns 0,
 * or -1 without memory or alert. */
int og_format(const struct og_conf *c, const struct tocsin_notification *n,
              struct og_request *out);
void og_request_free(struct og_request *r);

/* Why Opsgenie refused a request, from its answer: for {"message":"…",
 * "errors":{"field":"…"}} "HTTP 422: …: field: …". Fills out. */
void og_refusal(long status, const char *body, char *out, size_t len);

#endif
