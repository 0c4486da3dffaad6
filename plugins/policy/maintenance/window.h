/* window.h: one maintenance window (an Alertmanager silence): its times,
 * its matchers, who made it; read from config groups, from the API's two
 * JSON forms (tocsin's and Alertmanager's) and from the stored state, and
 * printed back. Pure: no host, no locks, no I/O. */
#ifndef TOCSIN_MAINT_WINDOW_H
#define TOCSIN_MAINT_WINDOW_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "matcher.h"
#include "recur.h"
#include "tz.h"

#define MW_ID_MAX 64 /* a buffer for an id: fits tocsin_policy_result.suppressed_by */
#define MW_ID_LEN 56 /* the longest id: "remind:<id>" fits a timer name (64) */

enum mw_state { MW_PENDING, MW_ACTIVE, MW_EXPIRED };

struct mw_window {
    char id[MW_ID_MAX];
    char *comment;       /* "" when none */
    char *created_by;
    int from_config;     /* tocsin.conf's: not changed or removed by the API */
    int recurring;
    int64_t starts_at, ends_at; /* one-off */
    struct tc_recur recur;      /* recurring: its rules (lib/recur), */
    struct tc_tz *tz;           /* the zone they borrow, */
    json_t *weekdays;           /* and as it was written: an array of strings, */
    char *start, *end, *time_zone; /* "02:00", "04:00", "Europe/Berlin" */
    struct tc_matcher *m;       /* all must match; none: every alert */
    size_t n_m;
    int64_t created_at, updated_at;
};

/* The occurrence of w that holds t, else the next one: its start and end,
 * and whether t is before it, inside it or (one-off only) after it. A
 * recurring window with no occurrence ahead is expired. */
enum mw_state mw_window_span(const struct mw_window *w, int64_t t, int64_t *start,
                             int64_t *end);
const char *mw_state_name(enum mw_state s);
/* "active", "pending", "expired" to a state; -1 for anything else. */
int mw_state_parse(const char *name);

/* Whether the alert is inside w now: w active at t and all matchers match. */
int mw_window_covers(const struct mw_window *w, const struct tocsin_alert *a, int64_t t,
                     int64_t *end);

/* [A-Za-z0-9_.-]+, at most MW_ID_LEN characters. */
int mw_id_valid(const char *id);

/* The fields of a config group (strings as the core filled them). */
struct mw_group {
    const char *id, *comment, *created_by;
    struct tocsin_strlist matchers;
    const char *starts_at, *ends_at;
    struct tocsin_strlist weekdays;
    const char *start, *end, *time_zone;
};
/* 0, or -1 with err naming the field ("ends_at: ..."). */
int mw_window_from_group(struct mw_window *w, const struct mw_group *g, char *err,
                         size_t errlen);

/* JSON forms. */
enum mw_form {
    MW_FORM_NATIVE,  /* POST /api/v1/maintenance: snake_case, matchers as text or objects */
    MW_FORM_STORED,  /* the state: the native form with id and times kept */
    MW_FORM_SILENCE, /* POST /api/v2/silences: Alertmanager's postableSilence */
};
/* w from a JSON object; now fills created_at/updated_at (and clamps an
 * Alertmanager startsAt in the past, as Alertmanager does). 0, or -1 with
 * err naming the field ("matchers[1]: ..."), *missing set (when not NULL)
 * when the error is a required field that is absent. Release w with
 * mw_window_release() either way. */
int mw_window_from_json(struct mw_window *w, const json_t *o, enum mw_form form, int64_t now,
                        char *err, size_t errlen, int *missing);
/* The window as the native API shows it (with its state at now, and for a
 * recurring one its current or next occurrence), as stored (no state), or
 * as Alertmanager's gettableSilence. */
json_t *mw_window_to_json(const struct mw_window *w, enum mw_form form, int64_t now);

/* Matchers as Alertmanager's objects [{name, value, isRegex, isEqual}]. */
json_t *mw_matchers_to_json(const struct tc_matcher *m, size_t n);
/* One matcher against one value rather than an alert's. */
int mw_matcher_matches_value(const struct tc_matcher *m, const char *v);
/* Alertmanager's filter rule for silences: every filter matcher matches
 * the value the silence's matcher of that name has ("" when none). */
int mw_window_filter(const struct mw_window *w, const struct tc_matcher *f, size_t n);

/* Frees w's parts (w itself is the caller's). */
void mw_window_release(struct mw_window *w);

#endif
