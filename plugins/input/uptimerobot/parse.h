/* parse.h: UptimeRobot to tocsin alerts: webhook alert-contact values
 * (query string, form body or JSON body) and API v2 getMonitors pages,
 * and the change between two polls. Pure: no I/O, no clock. */
#ifndef TC_UPTIMEROBOT_PARSE_H
#define TC_UPTIMEROBOT_PARSE_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

struct ur_rules {
    /* "down", "ssl", "api" -> tocsin severity name (defaults high, medium,
     * medium); may be NULL. */
    const struct tocsin_map *severity;
    const char *dashboard_url; /* the monitor's page is dashboard_url + id */
    int seems_down_fires;      /* polling: status 8 (seems down) fires like 9 */
};

enum tocsin_severity ur_severity(const struct tocsin_map *map, const char *kind);

/* ---- webhook values ------------------------------------------------------ */

#define UR_MAX_FIELDS 32

/* Named values of one webhook call. Strings point into buf, root or the
 * request (query values added with ur_fields_add). */
struct ur_fields {
    struct tocsin_kv kv[UR_MAX_FIELDS];
    size_t n;
    char *buf;  /* decoded form values */
    json_t *root;
    char numbers[UR_MAX_FIELDS][32]; /* JSON numbers as text */
};

/* application/x-www-form-urlencoded. 0, or -1 without memory. */
int ur_fields_from_form(const char *body, size_t len, struct ur_fields *f);
/* A flat JSON object of strings, numbers or nulls (UptimeRobot's "POST
 * JSON" with tocsin's template). 0, or -1 with err saying what was wrong. */
int ur_fields_from_json(const char *body, size_t len, struct ur_fields *f, char *err,
                        size_t errlen);
/* Adds name = value unless name is already there (query after body). */
void ur_fields_add(struct ur_fields *f, const char *name, const char *value);
const char *ur_fields_get(const struct ur_fields *f, const char *name);
void ur_fields_free(struct ur_fields *f);

struct ur_alert {
    struct tocsin_alert alert;
    struct tocsin_kv labels[6], links[1];
    char key[80], id[24], summary[400], details[600], link[300];
};

/* The alert of one webhook call. Returns TOCSIN_OK with *n 1 (out filled)
 * or 0 (an alertType tocsin does not map: ignored), or TOCSIN_EINVAL with
 * err naming the field (monitorID, alertType). */
int ur_webhook_alert(const struct ur_fields *f, const struct ur_rules *rules,
                     struct ur_alert *out, size_t *n, char *err, size_t errlen);

/* ---- polling ------------------------------------------------------------- */

/* One getMonitors answer. monitors is borrowed from root. */
struct ur_page {
    json_t *root;
    json_t *monitors; /* array */
    int64_t offset, limit, total;
};

/* Returns TOCSIN_OK, or TOCSIN_EINVAL with err saying why: malformed
 * JSON, `stat: fail` (the error's type and parameter_name; never its
 * passed_value, which can be the API key), a missing field. Release with
 * ur_page_free(). */
int ur_page_parse(const char *body, size_t len, struct ur_page *out, char *err, size_t errlen);
void ur_page_free(struct ur_page *p);

/* What one complete poll changes. prev: the state of the last poll
 * ({"<id>": {"st": "down"|"up", "name": ..., "url": ...}}, NULL: none);
 * monitors: every monitor the poll saw. Fills alerts (firing for monitors
 * that went down, resolved for monitors that came back or disappeared
 * while down) and next (the state to keep once the alerts are stored).
 * Returns TOCSIN_OK or TOCSIN_ENOMEM. Release with ur_changes_free(). */
struct ur_changes {
    struct ur_alert *alerts;
    size_t n;
    json_t *next;
};
int ur_diff(const json_t *prev, const json_t *monitors, const struct ur_rules *rules,
            struct ur_changes *out);
void ur_changes_free(struct ur_changes *c);

#endif
