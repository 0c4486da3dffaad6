/* api.c: the maintenance windows over HTTP, twice: tocsin's own
 * /api/v1/maintenance, and Alertmanager's /api/v2/silences in its shapes
 * and error style, so that amtool and Grafana manage them unchanged. Both
 * see the same windows. Routes run on HTTP threads, several at once. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "common.h"
#include "maint.h"

#define V1 "/api/v1/maintenance"

/* --- answers ------------------------------------------------------------ */

static int answer(struct tocsin_http_response *resp, int status, json_t *body)
{
    resp->status = status;
    resp->body = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (body && !resp->body)
        resp->status = 500;
    return TOCSIN_OK;
}

static int v1_error(struct tocsin_http_response *resp, int status, const char *error,
                    const char *detail)
{
    resp->status = status;
    resp->body = tc_error_json(error, detail);
    return TOCSIN_OK;
}

/* Alertmanager answers most errors with a bare JSON string. */
static int am_error(struct tocsin_http_response *resp, int status, const char *message)
{
    return answer(resp, status, tc_json_string(message));
}

/* Its validation errors (go-swagger) with a code and a message. */
static int am_schema_error(struct tocsin_http_response *resp, int status, int code,
                           const char *message)
{
    return answer(resp, status, json_pack("{s:i, s:s}", "code", code, "message", message));
}

static int store_failed(struct tocsin_http_response *resp, int rc, int am)
{
    const char *what = rc == TOCSIN_ENOMEM ? "out of memory" : "cannot store the window";

    return am ? am_error(resp, 500, what) : v1_error(resp, 500, what, "try again");
}

/* --- helpers ------------------------------------------------------------- */

/* A random (version 4) UUID, as Alertmanager gives its silences. */
static int new_id(char out[MW_ID_MAX])
{
    unsigned char b[16];
    size_t got = 0;

    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);

        if (n <= 0)
            return -1;
        got += (size_t)n;
    }
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    snprintf(out, MW_ID_MAX,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return 0;
}

static const char *param(const struct tocsin_http_request *req, const char *name)
{
    return req->param ? req->param(req, name) : NULL;
}

static json_t *parse_body(const struct tocsin_http_request *req, char *err, size_t errlen)
{
    json_error_t jerr;
    json_t *o = json_loadb(req->body ? req->body : "", req->body_len, 0, &jerr);

    if (!o)
        snprintf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
    return o;
}

/* JSON only: a browser's cross-site form post cannot make a window. 1
 * when it answered 415. */
static int not_json(const struct tocsin_http_request *req, struct tocsin_http_response *resp)
{
    char type[128], detail[200];

    if (tc_is_json_type(req->header(req, "Content-Type")))
        return 0;
    snprintf(detail, sizeof detail, "Content-Type \"%s\": send application/json",
             tc_media_type(req->header(req, "Content-Type"), type, sizeof type));
    resp->status = 415;
    resp->body = tc_error_json("unsupported media type", detail);
    return 1;
}

/* Listed: not expired past the retention (pruned at the next change). */
static int listed(const struct mw_window *w, int64_t now)
{
    return w->from_config || w->recurring || w->ends_at + MW_RETENTION_MS > now;
}

static struct mw_window *window_alloc(void)
{
    return calloc(1, sizeof(struct mw_window));
}

static void window_drop(struct mw_window *w)
{
    mw_window_release(w);
    free(w);
}

/* Stores w (a new window with its id set) and answers with print(w). */
static int add_window(struct maint *m, struct mw_window *w, int64_t now, int *rc_out)
{
    char id[MW_ID_MAX];
    int rc;

    snprintf(id, sizeof id, "%s", w->id); /* w is the set's (or freed) after mw_add */

    pthread_mutex_lock(&m->change_lock);
    rc = mw_prune(m, now);
    if (rc == TOCSIN_OK)
        rc = mw_add(m, w);
    else
        window_drop(w);
    pthread_mutex_unlock(&m->change_lock);
    *rc_out = rc;
    if (rc == TOCSIN_OK)
        mw_remind_arm(m, id, now);
    return rc;
}

/* --- tocsin's API: /api/v1/maintenance ----------------------------------- */

static int v1_create(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host);
    struct mw_window *w;
    char err[400];
    json_t *body, *shown;
    int rc;

    if (not_json(req, resp))
        return TOCSIN_OK;
    body = parse_body(req, err, sizeof err);
    if (!body)
        return v1_error(resp, 400, "the body is not JSON", err);
    w = window_alloc();
    if (!w) {
        json_decref(body);
        return store_failed(resp, TOCSIN_ENOMEM, 0);
    }
    rc = mw_window_from_json(w, body, MW_FORM_NATIVE, now, err, sizeof err, NULL);
    json_decref(body);
    if (rc != 0) {
        window_drop(w);
        return v1_error(resp, 400, err, NULL);
    }
    if (new_id(w->id) != 0) {
        window_drop(w);
        return v1_error(resp, 500, "no random numbers for an id", NULL);
    }
    shown = mw_window_to_json(w, MW_FORM_NATIVE, now);
    if (add_window(m, w, now, &rc) != TOCSIN_OK) {
        json_decref(shown);
        return store_failed(resp, rc, 0);
    }
    return answer(resp, 201, shown);
}

static int v1_list(void *self, const struct tocsin_http_request *req,
                   struct tocsin_http_response *resp)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host);
    const char *want = req->query ? req->query(req, "state") : NULL;
    int state = want ? mw_state_parse(want) : -1;
    json_t *arr = json_array();
    size_t i;

    if (want && state < 0) {
        json_decref(arr);
        return v1_error(resp, 400, "state: not active, pending or expired", NULL);
    }
    pthread_mutex_lock(&m->lock);
    for (i = 0; arr && i < m->n; i++) {
        const struct mw_window *w = m->v[i];
        int64_t s, e;

        if (!listed(w, now) || (state >= 0 && (int)mw_window_span(w, now, &s, &e) != state))
            continue;
        json_array_append_new(arr, mw_window_to_json(w, MW_FORM_NATIVE, now));
    }
    pthread_mutex_unlock(&m->lock);
    return answer(resp, 200, json_pack("{s:o}", "windows", arr));
}

static int v1_get(void *self, const struct tocsin_http_request *req,
                  struct tocsin_http_response *resp)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host);
    const char *id = param(req, "id");
    const struct mw_window *w;
    json_t *shown = NULL;
    char msg[MW_ID_MAX + 64];

    pthread_mutex_lock(&m->lock);
    w = mw_find(m, id);
    if (w && listed(w, now))
        shown = mw_window_to_json(w, MW_FORM_NATIVE, now);
    pthread_mutex_unlock(&m->lock);
    if (!shown) {
        snprintf(msg, sizeof msg, "no maintenance window \"%.*s\"", MW_ID_MAX, id ? id : "");
        return v1_error(resp, 404, msg, NULL);
    }
    return answer(resp, 200, shown);
}

/* Ends window id now (a one-off expires and is kept; a recurring one
 * goes). 0 done, or an HTTP status: 404 unknown, 409 from tocsin.conf,
 * 500 not stored. *gone: the window no longer exists. */
static int expire(struct maint *m, const char *id, int64_t now, json_t **shown)
{
    struct mw_window *w;
    int64_t s, e;
    int rc = 0, recurring = 0;

    pthread_mutex_lock(&m->change_lock);
    w = mw_find(m, id);
    if (!w || !listed(w, now)) {
        rc = 404;
    } else if (w->from_config) {
        rc = 409;
    } else {
        recurring = w->recurring;
        /* An expired one stays as it is, as Alertmanager's do. */
        if (recurring || mw_window_span(w, now, &s, &e) != MW_EXPIRED)
            rc = mw_expire(m, id, now) == TOCSIN_OK ? 0 : 500;
        if (rc == 0 && shown && !recurring) {
            pthread_mutex_lock(&m->lock);
            *shown = mw_window_to_json(w, MW_FORM_NATIVE, now);
            pthread_mutex_unlock(&m->lock);
        }
    }
    pthread_mutex_unlock(&m->change_lock);
    /* Incidents it muted: their end comes now. */
    if (rc == 0) {
        mw_move_end_timers(m, id, now);
        mw_remind_cancel(m, id);
    }
    return rc;
}

static int v1_delete(void *self, const struct tocsin_http_request *req,
                     struct tocsin_http_response *resp)
{
    struct maint *m = self;
    const char *id = param(req, "id");
    json_t *shown = NULL;
    char msg[MW_ID_MAX + 64];
    int rc = expire(m, id ? id : "", m->host->now_ms(m->host), &shown);

    switch (rc) {
    case 0:
        return shown ? answer(resp, 200, shown) : answer(resp, 204, NULL);
    case 404:
        snprintf(msg, sizeof msg, "no maintenance window \"%.*s\"", MW_ID_MAX, id ? id : "");
        return v1_error(resp, 404, msg, NULL);
    case 409:
        snprintf(msg, sizeof msg, "window \"%s\" is defined in tocsin.conf", id);
        return v1_error(resp, 409, msg, "remove it from the instance's windows there");
    default:
        return store_failed(resp, TOCSIN_EIO, 0);
    }
}

/* --- Alertmanager's API: /api/v2/silences -------------------------------- */

struct sortable {
    json_t *o;
    enum mw_state state;
    int64_t start, end;
};

/* Alertmanager's order: active by end, then pending by start, then
 * expired, latest end first. */
static int silence_order(const void *pa, const void *pb)
{
    const struct sortable *a = pa, *b = pb;
    static const int rank[] = { [MW_ACTIVE] = 0, [MW_PENDING] = 1, [MW_EXPIRED] = 2 };
    int64_t x, y;

    if (a->state != b->state)
        return rank[a->state] - rank[b->state];
    x = a->state == MW_PENDING ? a->start : a->end;
    y = b->state == MW_PENDING ? b->start : b->end;
    if (a->state == MW_EXPIRED)
        return (y > x) - (y < x);
    return (x > y) - (x < y);
}

#define MAX_FILTERS 32

static int silences_list(void *self, const struct tocsin_http_request *req,
                         struct tocsin_http_response *resp)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host);
    const char *text[MAX_FILTERS];
    struct tc_matcher f[MAX_FILTERS];
    struct sortable *v = NULL;
    size_t i, n = 0, nf = 0, given;
    json_t *arr;
    char err[300];

    /* Every filter= (1.1 query_all); an older core hands the first only. */
    if (req->query_all) {
        given = req->query_all(req, "filter", text, MAX_FILTERS);
    } else {
        text[0] = req->query ? req->query(req, "filter") : NULL;
        given = text[0] != NULL;
    }
    if (given > MAX_FILTERS)
        return am_error(resp, 400, "too many filter arguments");
    for (nf = 0; nf < given; nf++) {
        if (tc_matcher_parse(&f[nf], text[nf], err, sizeof err) != 0) {
            char msg[400];

            snprintf(msg, sizeof msg, "bad matcher format: %.300s", text[nf]);
            while (nf > 0)
                tc_matcher_free(&f[--nf]);
            return am_error(resp, 400, msg);
        }
    }
    pthread_mutex_lock(&m->lock);
    v = calloc(m->n + 1, sizeof *v);
    for (i = 0; v && i < m->n; i++) {
        const struct mw_window *w = m->v[i];

        if (!listed(w, now) || !mw_window_filter(w, f, nf))
            continue;
        v[n].state = mw_window_span(w, now, &v[n].start, &v[n].end);
        v[n].o = mw_window_to_json(w, MW_FORM_SILENCE, now);
        n++;
    }
    pthread_mutex_unlock(&m->lock);
    for (i = 0; i < nf; i++)
        tc_matcher_free(&f[i]);
    if (!v)
        return am_error(resp, 500, "out of memory");
    qsort(v, n, sizeof *v, silence_order);
    arr = json_array();
    for (i = 0; i < n; i++)
        json_array_append_new(arr, v[i].o);
    free(v);
    return answer(resp, 200, arr);
}

static int silence_get(void *self, const struct tocsin_http_request *req,
                       struct tocsin_http_response *resp)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host);
    const struct mw_window *w;
    json_t *shown = NULL;

    pthread_mutex_lock(&m->lock);
    w = mw_find(m, param(req, "id"));
    if (w && listed(w, now))
        shown = mw_window_to_json(w, MW_FORM_SILENCE, now);
    pthread_mutex_unlock(&m->lock);
    if (!shown)
        return am_error(resp, 404, "silence not found");
    return answer(resp, 200, shown);
}

static int silence_delete(void *self, const struct tocsin_http_request *req,
                          struct tocsin_http_response *resp)
{
    struct maint *m = self;
    const char *id = param(req, "id");
    char msg[MW_ID_MAX + 64];

    switch (expire(m, id ? id : "", m->host->now_ms(m->host), NULL)) {
    case 0:
        return answer(resp, 200, NULL);
    case 404:
        return am_error(resp, 404, "silence not found");
    case 409:
        snprintf(msg, sizeof msg, "silence %s is defined in tocsin.conf", id);
        return am_error(resp, 409, msg);
    default:
        return store_failed(resp, TOCSIN_EIO, 1);
    }
}

/* Alertmanager refuses a silence every matcher of which matches "": it
 * would silence every alert. (tocsin's own API allows global windows.) */
static int too_broad(const struct mw_window *w)
{
    size_t i;

    for (i = 0; i < w->n_m; i++)
        if (!mw_matcher_matches_value(&w->m[i], ""))
            return 0;
    return 1;
}

/* postableSilence with an id: that silence changes in place, unless it is
 * over (then a new one is made, as Alertmanager does). */
static int silence_update(struct maint *m, struct mw_window *w, const char *id, int64_t now,
                          struct tocsin_http_response *resp)
{
    struct mw_window *old;
    int64_t s, e;
    enum mw_state was;
    char msg[MW_ID_MAX + 96];
    int rc;

    pthread_mutex_lock(&m->change_lock);
    old = mw_find(m, id);
    if (!old || !listed(old, now)) {
        pthread_mutex_unlock(&m->change_lock);
        window_drop(w);
        return am_error(resp, 404, "silence not found");
    }
    if (old->from_config || old->recurring) {
        pthread_mutex_unlock(&m->change_lock);
        window_drop(w);
        snprintf(msg, sizeof msg, old->from_config ? "silence %s is defined in tocsin.conf"
                                                   : "silence %s is a recurring maintenance "
                                                     "window: change it with " V1, id);
        return am_error(resp, 409, msg);
    }
    was = mw_window_span(old, now, &s, &e);
    if (was == MW_EXPIRED) {
        pthread_mutex_unlock(&m->change_lock);
        if (new_id(w->id) != 0) {
            window_drop(w);
            return am_error(resp, 500, "no random numbers for an id");
        }
        snprintf(msg, sizeof msg, "%s", w->id);
        if (add_window(m, w, now, &rc) != TOCSIN_OK)
            return store_failed(resp, rc, 1);
        return answer(resp, 200, json_pack("{s:s}", "silenceID", msg));
    }
    snprintf(w->id, sizeof w->id, "%s", id);
    w->created_at = old->created_at;
    if (was == MW_ACTIVE && w->starts_at <= now)
        w->starts_at = old->starts_at; /* still the same run */
    s = w->starts_at;
    e = w->ends_at;
    rc = mw_replace(m, w);
    pthread_mutex_unlock(&m->change_lock);
    if (rc != TOCSIN_OK)
        return store_failed(resp, rc, 1);
    /* Its muted incidents end with it: sooner, later, or now when it was
     * moved ahead. */
    mw_move_end_timers(m, id, s <= now ? e : now);
    mw_remind_arm(m, id, now);
    return answer(resp, 200, json_pack("{s:s}", "silenceID", id));
}

static int silence_post(void *self, const struct tocsin_http_request *req,
                        struct tocsin_http_response *resp)
{
    struct maint *m = self;
    int64_t now = m->host->now_ms(m->host);
    struct mw_window *w;
    json_t *body, *matchers;
    const char *id;
    char err[400], msg[480], idc[MW_ID_MAX];
    int rc, missing;

    if (not_json(req, resp))
        return TOCSIN_OK;
    body = parse_body(req, err, sizeof err);
    if (!body || !json_is_object(body)) {
        snprintf(msg, sizeof msg, "parsing silence body from \"\" failed, because %s",
                 body ? "it is not a JSON object" : err);
        json_decref(body);
        return am_schema_error(resp, 400, 400, msg);
    }
    matchers = json_object_get(body, "matchers");
    if (!matchers || json_is_null(matchers)) {
        json_decref(body);
        return am_schema_error(resp, 422, 602, "matchers in body is required");
    }
    if (json_is_array(matchers) && json_array_size(matchers) == 0) {
        json_decref(body);
        return am_schema_error(resp, 422, 612, "matchers in body should have at least 1 items");
    }
    id = json_string_value(json_object_get(body, "id"));
    snprintf(idc, sizeof idc, "%s", id && *id ? id : "");
    w = window_alloc();
    if (!w) {
        json_decref(body);
        return am_error(resp, 500, "out of memory");
    }
    rc = mw_window_from_json(w, body, MW_FORM_SILENCE, now, err, sizeof err, &missing);
    json_decref(body);
    if (rc != 0) {
        window_drop(w);
        if (missing) {
            char *colon = strchr(err, ':');

            if (colon)
                *colon = '\0';
            snprintf(msg, sizeof msg, "%s in body is required", err);
            return am_schema_error(resp, 422, 602, msg);
        }
        snprintf(msg, sizeof msg, "silence invalid: %s", err);
        return am_error(resp, 400, msg);
    }
    if (too_broad(w)) {
        window_drop(w);
        return am_error(resp, 400, "silence invalid: at least one matcher must not match the "
                                   "empty string");
    }
    if (idc[0])
        return silence_update(m, w, idc, now, resp);
    if (new_id(w->id) != 0) {
        window_drop(w);
        return am_error(resp, 500, "no random numbers for an id");
    }
    snprintf(idc, sizeof idc, "%s", w->id);
    if (add_window(m, w, now, &rc) != TOCSIN_OK)
        return store_failed(resp, rc, 1);
    return answer(resp, 200, json_pack("{s:s}", "silenceID", idc));
}

int mw_api_register(struct maint *m)
{
    static const struct {
        const char *method, *path;
        tocsin_route_fn fn;
    } routes[] = {
        { "POST", V1, v1_create },
        { "GET", V1, v1_list },
        { "GET", V1 "/{id}", v1_get },
        { "DELETE", V1 "/{id}", v1_delete },
        { "GET", "/api/v2/silences", silences_list },
        { "POST", "/api/v2/silences", silence_post },
        { "GET", "/api/v2/silence/{id}", silence_get },
        { "DELETE", "/api/v2/silence/{id}", silence_delete },
    };
    size_t i;

    for (i = 0; i < sizeof routes / sizeof routes[0]; i++)
        if (m->host->route(m->host, routes[i].method, routes[i].path, routes[i].fn, m) !=
            TOCSIN_OK)
            return TOCSIN_ERROR;
    return TOCSIN_OK;
}
