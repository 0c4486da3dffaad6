/* parse.h: Sentry webhook bodies (integration platform resources and the
 * legacy WebHooks plugin) to tocsin alerts. Pure: no I/O, no clock (now is
 * passed in); the signature is checked before this runs (sign.c). */
#ifndef TC_SENTRY_PARSE_H
#define TC_SENTRY_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

/* What an issue action does (options on_issue_*). */
enum sn_rule { SN_FIRE = 0, SN_RESOLVE = 1, SN_IGNORE = 2 };

struct sn_rules {
    /* Sentry level (fatal, error, warning, info, debug) or metric alert
     * action (critical, warning) -> tocsin severity name; entries not in
     * the map use sn_severity()'s defaults. May be NULL. */
    const struct tocsin_map *severity;
    enum sn_rule on_created;    /* issue/created: SN_FIRE or SN_IGNORE */
    enum sn_rule on_archived;   /* issue/ignored, issue/archived: SN_RESOLVE or SN_IGNORE */
    enum sn_rule on_unresolved; /* issue/unresolved: SN_FIRE or SN_IGNORE */
    int64_t legacy_expire_ms;   /* legacy alerts expire after this long; 0: never */
};

#define SN_MAX_LABELS 12
#define SN_MAX_LINKS 3

struct sn_result {
    /* TOCSIN_EINVAL: what was wrong ("malformed JSON", "missing field",
     * "wrong type") and detail naming the field or position. */
    const char *error;
    char detail[256];
    /* TOCSIN_OK with n_alerts 0: why nothing is emitted (a debug line). */
    char ignored[160];

    struct tocsin_alert alert;
    size_t n_alerts; /* 0 or 1 */

    /* Private: what the alert points into. */
    struct tocsin_kv labels[SN_MAX_LABELS];
    struct tocsin_kv links[SN_MAX_LINKS];
    char key[96], id[48], summary[300], details[1200];
    void *root; /* the parsed json_t */
};

/* An integration platform delivery: resource is the Sentry-Hook-Resource
 * header (NULL: missing, a 400). Returns TOCSIN_OK (an alert, or nothing
 * with `ignored` saying why), TOCSIN_EINVAL or TOCSIN_ENOMEM. Always
 * release with sn_result_free(). */
int sn_parse_hook(const char *resource, const char *body, size_t len,
                  const struct sn_rules *rules, int64_t now_ms, struct sn_result *out);

/* A legacy WebHooks plugin delivery: always a firing alert on the issue. */
int sn_parse_legacy(const char *body, size_t len, const struct sn_rules *rules,
                    int64_t now_ms, struct sn_result *out);

void sn_result_free(struct sn_result *r);

/* The severity for a Sentry level or metric action: the map's entry
 * (case-insensitive key) when it names a severity, else fatal/critical ->
 * critical, error -> high, warning -> medium, info/debug -> info, and
 * anything else (NULL too) -> high. */
enum tocsin_severity sn_severity(const struct tocsin_map *map, const char *level);

#endif
