/* windows.c: the maintenance policy's set of windows: lookups under its
 * lock, and changes that are stored (one state key, a JSON array of the
 * API's windows) before they take effect. */
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "maint.h"

struct mw_window *mw_find(struct maint *m, const char *id)
{
    size_t i;

    for (i = 0; id && i < m->n; i++)
        if (strcmp(m->v[i]->id, id) == 0)
            return m->v[i];
    return NULL;
}

const struct mw_window *mw_covering(struct maint *m, const struct tocsin_alert *a, int64_t t,
                                    int64_t *end)
{
    const struct mw_window *best = NULL;
    size_t i;

    for (i = 0; i < m->n; i++) {
        int64_t e;

        if (mw_window_covers(m->v[i], a, t, &e) && (!best || e > *end)) {
            best = m->v[i];
            *end = e;
        }
    }
    return best;
}

static void window_free(struct mw_window *w)
{
    if (w) {
        mw_window_release(w);
        free(w);
    }
}

/* The API's windows as stored, with `plus` added, `minus` left out and
 * `ends` (a one-off) ending at `at`; under change_lock, so the set
 * cannot change meanwhile. */
static char *stored_text(struct maint *m, const struct mw_window *plus, const char *minus,
                         const char *ends, int64_t at)
{
    json_t *arr = json_array();
    char *text;
    size_t i;

    for (i = 0; arr && i <= m->n; i++) {
        const struct mw_window *w = i < m->n ? m->v[i] : plus;
        json_t *o;

        if (!w || w->from_config || (minus && strcmp(w->id, minus) == 0))
            continue;
        if (i < m->n && plus && strcmp(w->id, plus->id) == 0)
            continue; /* replaced: plus comes last */
        o = mw_window_to_json(w, MW_FORM_STORED, 0);
        if (ends && strcmp(w->id, ends) == 0) {
            if (w->starts_at > at)
                tc_json_set_time(o, "starts_at", at); /* a pending one never starts */
            tc_json_set_time(o, "ends_at", at);
            tc_json_set_time(o, "updated_at", at);
        }
        json_array_append_new(arr, o);
    }
    text = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
    json_decref(arr);
    return text;
}

static int store(struct maint *m, char *text)
{
    int rc;

    if (!text)
        return TOCSIN_ENOMEM;
    rc = m->host->state_put(m->host, MW_STATE_KEY, text);
    free(text);
    return rc == TOCSIN_OK ? TOCSIN_OK : TOCSIN_EIO;
}

static int append(struct maint *m, struct mw_window *w)
{
    if (m->n == m->cap) {
        size_t cap = m->cap ? m->cap * 2 : 8;
        struct mw_window **v;

        /* Grown under the lock: evaluate() may be walking v. */
        pthread_mutex_lock(&m->lock);
        v = realloc(m->v, cap * sizeof *v);
        if (v) {
            m->v = v;
            m->cap = cap;
        }
        pthread_mutex_unlock(&m->lock);
        if (!v)
            return TOCSIN_ENOMEM;
    }
    pthread_mutex_lock(&m->lock);
    m->v[m->n++] = w;
    pthread_mutex_unlock(&m->lock);
    return TOCSIN_OK;
}

int mw_add(struct maint *m, struct mw_window *w)
{
    int rc = store(m, stored_text(m, w, NULL, NULL, 0));

    if (rc == TOCSIN_OK)
        rc = append(m, w);
    if (rc != TOCSIN_OK)
        window_free(w);
    return rc;
}

int mw_replace(struct maint *m, struct mw_window *w)
{
    struct mw_window *old = NULL;
    int rc = store(m, stored_text(m, w, NULL, NULL, 0));
    size_t i;

    if (rc != TOCSIN_OK) {
        window_free(w);
        return rc;
    }
    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n; i++)
        if (strcmp(m->v[i]->id, w->id) == 0) {
            old = m->v[i];
            m->v[i] = w;
        }
    pthread_mutex_unlock(&m->lock);
    window_free(old);
    return TOCSIN_OK;
}

static void drop(struct maint *m, const char *id)
{
    struct mw_window *gone = NULL;
    size_t i;

    pthread_mutex_lock(&m->lock);
    for (i = 0; i < m->n; i++)
        if (strcmp(m->v[i]->id, id) == 0) {
            gone = m->v[i];
            memmove(&m->v[i], &m->v[i + 1], (m->n - i - 1) * sizeof *m->v);
            m->n--;
            break;
        }
    pthread_mutex_unlock(&m->lock);
    window_free(gone);
}

int mw_expire(struct maint *m, const char *id, int64_t at)
{
    struct mw_window *w = mw_find(m, id); /* change_lock keeps it */
    char idc[MW_ID_MAX];
    int rc;

    if (!w)
        return TOCSIN_OK;
    snprintf(idc, sizeof idc, "%s", id);
    if (w->recurring) {
        rc = store(m, stored_text(m, NULL, idc, NULL, 0));
        if (rc == TOCSIN_OK)
            drop(m, idc);
        return rc;
    }
    rc = store(m, stored_text(m, NULL, NULL, idc, at));
    if (rc == TOCSIN_OK) {
        pthread_mutex_lock(&m->lock);
        w->ends_at = at;
        if (w->starts_at > at)
            w->starts_at = at; /* a pending one never starts */
        w->updated_at = at;
        pthread_mutex_unlock(&m->lock);
    }
    return rc;
}

int mw_prune(struct maint *m, int64_t now)
{
    size_t i;
    int rc = TOCSIN_OK;

    for (i = 0; i < m->n && rc == TOCSIN_OK;) {
        const struct mw_window *w = m->v[i];

        if (!w->from_config && !w->recurring && w->ends_at + MW_RETENTION_MS <= now) {
            char id[MW_ID_MAX];

            snprintf(id, sizeof id, "%s", w->id);
            rc = store(m, stored_text(m, NULL, id, NULL, 0));
            if (rc == TOCSIN_OK)
                drop(m, id);
        } else {
            i++;
        }
    }
    return rc;
}

int mw_load(struct maint *m)
{
    char *text = NULL, err[300];
    json_t *arr, *o;
    json_error_t jerr;
    size_t i;

    if (m->host->state_get(m->host, MW_STATE_KEY, &text) != TOCSIN_OK)
        return TOCSIN_EIO;
    if (!text)
        return TOCSIN_OK;
    arr = json_loads(text, 0, &jerr);
    free(text);
    if (!json_is_array(arr)) {
        m->host->log(m->host, TOCSIN_LOG_ERROR, "stored windows unreadable (%s); starting "
                     "without the API's windows", jerr.text);
        json_decref(arr);
        return TOCSIN_OK;
    }
    json_array_foreach(arr, i, o) {
        struct mw_window *w = calloc(1, sizeof *w);

        if (!w) {
            json_decref(arr);
            return TOCSIN_ENOMEM;
        }
        if (mw_window_from_json(w, o, MW_FORM_STORED, 0, err, sizeof err, NULL) != 0) {
            m->host->log(m->host, TOCSIN_LOG_ERROR, "stored window %zu skipped: %s", i, err);
            window_free(w);
        } else if (mw_find(m, w->id)) {
            m->host->log(m->host, TOCSIN_LOG_WARN, "stored window %s skipped: tocsin.conf "
                         "has a window of that id", w->id);
            window_free(w);
        } else if (append(m, w) != TOCSIN_OK) {
            window_free(w);
            json_decref(arr);
            return TOCSIN_ENOMEM;
        }
    }
    json_decref(arr);
    return TOCSIN_OK;
}

void mw_free_all(struct maint *m)
{
    size_t i;

    for (i = 0; i < m->n; i++)
        window_free(m->v[i]);
    free(m->v);
    m->v = NULL;
    m->n = m->cap = 0;
}

void mw_move_end_timers(struct maint *m, const char *id, int64_t due)
{
    char name[sizeof MW_TIMER_END + MW_ID_MAX];

    snprintf(name, sizeof name, MW_TIMER_END "%s", id);
    if (m->host->policy_timer_set(m->host, TOCSIN_TIMER_EVERY_INCIDENT, name, due) != TOCSIN_OK)
        m->host->log(m->host, TOCSIN_LOG_ERROR, "window %s: could not move its incidents' end "
                     "timers", id);
}
