/* uptimerobot_api.c: see uptimerobot_api.h. A provider on a test peer
 * (peer.h: the server, the script, the records, the violations); the
 * monitors have a lock of their own, taken under the peer's. */
#define _GNU_SOURCE
#include "uptimerobot_api.h"

#include <ctype.h>
#include <jansson.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"

struct ur_api {
    struct peer *peer;
    pthread_mutex_t lock; /* guards key, monitors and page_limit */
    char *key;
    json_t *monitors;
    int page_limit;
};

static int hexval(int c)
{
    if (isdigit(c))
        return c - '0';
    c = tolower(c);
    return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* The decoded value of name in an urlencoded form, or -1. */
static int form_field(const char *form, const char *name, char *buf, size_t len)
{
    size_t n = strlen(name), w = 0;
    const char *p = form;

    while (p && *p) {
        if (strncmp(p, name, n) == 0 && p[n] == '=') {
            for (p += n + 1; *p && *p != '&' && w + 1 < len; p++) {
                if (*p == '%' && hexval(p[1]) >= 0 && hexval(p[2]) >= 0) {
                    buf[w++] = (char)(hexval(p[1]) * 16 + hexval(p[2]));
                    p += 2;
                } else {
                    buf[w++] = *p == '+' ? ' ' : *p;
                }
            }
            buf[w] = '\0';
            return 0;
        }
        p = strchr(p, '&');
        if (p)
            p++;
    }
    return -1;
}

static char *page(struct ur_api *a, const char *form)
{
    char buf[64];
    long offset = 0, limit = 50;
    size_t total = json_array_size(a->monitors), i;
    json_t *out, *slice = json_array();
    char *s;

    if (form_field(form, "offset", buf, sizeof buf) == 0)
        offset = strtol(buf, NULL, 10);
    if (form_field(form, "limit", buf, sizeof buf) == 0)
        limit = strtol(buf, NULL, 10);
    if (limit > a->page_limit || limit <= 0)
        limit = a->page_limit;
    for (i = (size_t)(offset < 0 ? 0 : offset); i < total && i < (size_t)(offset + limit); i++)
        json_array_append(slice, json_array_get(a->monitors, i));
    out = json_pack("{s:s,s:{s:i,s:i,s:i},s:o}", "stat", "ok", "pagination", "offset",
                    (int)offset, "limit", (int)limit, "total", (int)total, "monitors", slice);
    s = json_dumps(out, JSON_COMPACT);
    json_decref(out);
    return s;
}

/* The peer's answer hook (under its lock). Script items: "ok", "fail",
 * "echo", "429" (the peer reads the status, the words reach here). */
static void answer(void *ctx, struct peer *p, struct peer_req *r, struct peer_answer *pa)
{
    struct ur_api *a = ctx;
    const char *type = json_string_value(json_object_get(r->headers, "content-type"));
    const char *form = r->body ? r->body : "";
    char key[256];
    char *body = NULL;

    if (strcmp(r->method, "POST") != 0 || strcmp(r->path, "/v2/getMonitors") != 0 || !type ||
        strncmp(type, "application/x-www-form-urlencoded", 33) != 0)
        peer_violate(p, "uptimerobot: %s %s with Content-Type %s is not a POST of a form to "
                        "/v2/getMonitors", r->method, r->path, type ? type : "(missing)");
    pthread_mutex_lock(&a->lock);
    if (form_field(form, "api_key", key, sizeof key) != 0 || strcmp(key, a->key))
        body = strdup("{\"stat\":\"fail\",\"error\":{\"type\":\"invalid_parameter\","
                      "\"parameter_name\":\"api_key\",\"passed_value\":\"(what was sent)\"}}");
    else if (strcmp(pa->words, "fail") == 0)
        body = strdup("{\"stat\":\"fail\",\"error\":{\"type\":\"internal\","
                      "\"message\":\"try again later\"}}");
    else if (strcmp(pa->words, "echo") == 0) {
        if (asprintf(&body, "{\"stat\":\"fail\",\"error\":{\"type\":\"internal\","
                     "\"message\":\"no access with %s\"}}", key) < 0)
            body = strdup("{}");
    }
    else if (pa->status == 429)
        body = strdup("{\"stat\":\"fail\",\"error\":{\"type\":\"rate_limit\"}}");
    else
        body = page(a, form);
    pthread_mutex_unlock(&a->lock);
    pa->reply.body = body;
    if (pa->status == 429) {
        pa->retry_after = 1;
        snprintf(pa->reply.headers[0][0], sizeof pa->reply.headers[0][0], "X-RateLimit-Limit");
        snprintf(pa->reply.headers[0][1], sizeof pa->reply.headers[0][1], "10");
        snprintf(pa->reply.headers[1][0], sizeof pa->reply.headers[1][0],
                 "X-RateLimit-Remaining");
        snprintf(pa->reply.headers[1][1], sizeof pa->reply.headers[1][1], "0");
        pa->reply.n_headers = 2;
    } else {
        pa->status = 200;
    }
}

struct ur_api *ur_api_start(const char *api_key)
{
    struct ur_api *a = calloc(1, sizeof *a);

    if (!a)
        return NULL;
    pthread_mutex_init(&a->lock, NULL);
    a->key = strdup(api_key);
    a->monitors = json_array();
    a->page_limit = 50;
    a->peer = peer_new();
    if (!a->key || !a->monitors || !a->peer) {
        ur_api_free(a);
        return NULL;
    }
    peer_set_answer(a->peer, answer, NULL, a);
    if (peer_start(a->peer) != 0) {
        ur_api_free(a);
        return NULL;
    }
    return a;
}

void ur_api_free(struct ur_api *a)
{
    if (!a)
        return;
    peer_free(a->peer);
    json_decref(a->monitors);
    free(a->key);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

int ur_api_port(const struct ur_api *a)
{
    return peer_port(a->peer);
}

void ur_api_monitors(struct ur_api *a, const char *array)
{
    json_t *m = json_loads(array, 0, NULL);

    pthread_mutex_lock(&a->lock);
    json_decref(a->monitors);
    a->monitors = json_is_array(m) ? m : json_array();
    if (!json_is_array(m))
        json_decref(m);
    pthread_mutex_unlock(&a->lock);
}

void ur_api_page_limit(struct ur_api *a, int limit)
{
    pthread_mutex_lock(&a->lock);
    a->page_limit = limit;
    pthread_mutex_unlock(&a->lock);
}

void ur_api_script(struct ur_api *a, const char *script)
{
    peer_script(a->peer, script);
}

size_t ur_api_requests(struct ur_api *a)
{
    return peer_count(a->peer);
}

size_t ur_api_wait(struct ur_api *a, size_t n, int timeout_ms)
{
    return peer_wait_requests(a->peer, n, timeout_ms);
}

int ur_api_field(struct ur_api *a, size_t i, const char *name, char *buf, size_t len)
{
    const struct peer_req *r = peer_get(a->peer, i);

    return r && r->body ? form_field(r->body, name, buf, len) : -1;
}

size_t ur_api_violations(struct ur_api *a)
{
    return peer_violations(a->peer);
}
