/* parse.h: Alertmanager postableAlerts (POST /api/v2/alerts) to tocsin
 * alerts, and the JSON answers. Pure: no I/O, no clock (now is passed in). */
#ifndef TC_AM_PARSE_H
#define TC_AM_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

/* At most this many per-alert errors are listed in an answer; the rest are
 * counted ("... and 12 more invalid alerts"), so a garbage batch cannot
 * make the answer larger than the request. */
#define AM_MAX_ERRORS 100

/* Alertmanager's "unset" time (Go's zero time.Time), which Go clients send
 * for startsAt/endsAt they did not fill: 0001-01-01T00:00:00Z in ms. */
#define AM_ZERO_TIME_MS (-62135596800000LL)

struct am_store;

struct am_batch {
    /* The body refused as a whole (am_parse returned TOCSIN_EINVAL):
     * "malformed JSON" (detail: "line 1 column 17: ...") or "body must be a
     * JSON array of alerts" (detail ""). */
    const char *error;
    char detail[256];

    /* The valid alerts, in body order, contiguous for host->emit(). */
    struct tocsin_alert *alerts;
    size_t n_alerts;

    /* One line per invalid alert ("alert 2: labels must not be empty"), in
     * body order, at most AM_MAX_ERRORS; n_invalid counts them all. */
    char **errors;
    size_t n_errors;
    size_t n_invalid;

    /* Private: what the alerts point into. */
    void *root;             /* the parsed json_t */
    struct am_store *store; /* one per valid alert */
};

/* Parse a request body. now_ms is the receive time: the default startsAt,
 * and the line between resolved (endsAt <= now) and firing. An alert
 * without endsAt expires at now + resolve_timeout_ms (0: never), like
 * Alertmanager's resolve_timeout.
 * Returns TOCSIN_OK (alerts and/or errors filled; an empty array is fine),
 * TOCSIN_EINVAL (error and detail set, nothing else) or TOCSIN_ENOMEM.
 * Always release with am_batch_free(). */
int am_parse(const char *body, size_t len, int64_t now_ms, int64_t resolve_timeout_ms,
             struct am_batch *out);
void am_batch_free(struct am_batch *b);

/* Labels.severity to a tocsin severity: tocsin's names and aliases
 * (tc_severity_parse) plus the ones alerting rules use in the wild ("page",
 * "warn", ...). Unknown or NULL: medium. */
enum tocsin_severity am_severity(const char *s);

/* The partial-batch answer, as malloc()ed JSON text (NULL only when out
 * of memory; single errors use tc_error_json):
 *   {"error": "invalid alerts", "detail": [ b->errors..., extra ]}
 * extra (may be NULL) is a further line, e.g. the core's refusal. */
char *am_invalid_body(const struct am_batch *b, const char *extra);

#endif
