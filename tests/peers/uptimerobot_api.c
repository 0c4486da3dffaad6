/* uptimerobot_api.c: see uptimerobot_api.h. libmicrohttpd, one thread per
 * connection; everything under one mutex. */
#define _GNU_SOURCE
#include "uptimerobot_api.h"

#include <ctype.h>
#include <jansson.h>
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define UR_API_MAX_REQ 256

struct ur_api {
    struct MHD_Daemon *mhd;
    int port;
    pthread_mutex_t lock;
    char *key;
    json_t *monitors;
    int page_limit;
    char script[512]; /* what is left of it */
    char *bodies[UR_API_MAX_REQ];
    size_t n_req, violations;
};

struct upload {
    char *s;
    size_t len;
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

/* The next scripted answer ("ok" when none). Lock held. */
static void next_step(struct ur_api *a, char *step, size_t len)
{
    char *comma = strchr(a->script, ',');

    if (!a->script[0]) {
        snprintf(step, len, "ok");
        return;
    }
    if (comma)
        *comma = '\0';
    snprintf(step, len, "%.31s", a->script);
    memmove(a->script, comma ? comma + 1 : a->script + strlen(a->script),
            strlen(comma ? comma + 1 : "") + 1);
}

static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, char *body,
                             int retry_after)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(strlen(body), body,
                                                             MHD_RESPMEM_MUST_FREE);
    enum MHD_Result ret;

    MHD_add_response_header(r, "Content-Type", "application/json");
    if (retry_after) {
        MHD_add_response_header(r, "Retry-After", "1");
        MHD_add_response_header(r, "X-RateLimit-Limit", "10");
        MHD_add_response_header(r, "X-RateLimit-Remaining", "0");
    }
    ret = MHD_queue_response(c, status, r);
    MHD_destroy_response(r);
    return ret;
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

static enum MHD_Result handler(void *cls, struct MHD_Connection *c, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_size, void **ctx)
{
    struct ur_api *a = cls;
    struct upload *u = *ctx;
    const char *type;
    char step[32], key[256];
    char *body;

    (void)version;
    if (!u) {
        *ctx = calloc(1, sizeof *u);
        return *ctx ? MHD_YES : MHD_NO;
    }
    if (*upload_size) {
        char *grown = realloc(u->s, u->len + *upload_size + 1);

        if (!grown)
            return MHD_NO;
        memcpy(grown + u->len, upload_data, *upload_size);
        u->s = grown;
        u->len += *upload_size;
        u->s[u->len] = '\0';
        *upload_size = 0;
        return MHD_YES;
    }
    type = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Type");
    pthread_mutex_lock(&a->lock);
    if (strcmp(method, "POST") != 0 || strcmp(url, "/v2/getMonitors") != 0 || !type ||
        strncmp(type, "application/x-www-form-urlencoded", 33) != 0)
        a->violations++;
    if (a->n_req < UR_API_MAX_REQ)
        a->bodies[a->n_req] = strdup(u->s ? u->s : "");
    a->n_req++;
    next_step(a, step, sizeof step);
    if (form_field(u->s ? u->s : "", "api_key", key, sizeof key) != 0 || strcmp(key, a->key))
        body = strdup("{\"stat\":\"fail\",\"error\":{\"type\":\"invalid_parameter\","
                      "\"parameter_name\":\"api_key\",\"passed_value\":\"(what was sent)\"}}");
    else if (strcmp(step, "fail") == 0)
        body = strdup("{\"stat\":\"fail\",\"error\":{\"type\":\"internal\","
                      "\"message\":\"try again later\"}}");
    else if (strcmp(step, "echo") == 0) {
        if (asprintf(&body, "{\"stat\":\"fail\",\"error\":{\"type\":\"internal\","
                     "\"message\":\"no access with %s\"}}", key) < 0)
            body = strdup("{}");
    }
    else if (strcmp(step, "429") == 0)
        body = strdup("{\"stat\":\"fail\",\"error\":{\"type\":\"rate_limit\"}}");
    else
        body = page(a, u->s ? u->s : "");
    pthread_mutex_unlock(&a->lock);
    free(u->s);
    free(u);
    *ctx = NULL;
    return reply(c, strcmp(step, "429") == 0 ? 429 : 200, body, strcmp(step, "429") == 0);
}

struct ur_api *ur_api_start(const char *api_key)
{
    struct ur_api *a = calloc(1, sizeof *a);
    const union MHD_DaemonInfo *info;

    if (!a)
        return NULL;
    pthread_mutex_init(&a->lock, NULL);
    a->key = strdup(api_key);
    a->monitors = json_array();
    a->page_limit = 50;
    a->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION,
                              0, NULL, NULL, handler, a, MHD_OPTION_SOCK_ADDR,
                              &(struct sockaddr_in){ .sin_family = AF_INET,
                                                     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) },
                              MHD_OPTION_END);
    if (!a->mhd) {
        ur_api_free(a);
        return NULL;
    }
    info = MHD_get_daemon_info(a->mhd, MHD_DAEMON_INFO_BIND_PORT);
    a->port = info ? info->port : 0;
    return a;
}

void ur_api_free(struct ur_api *a)
{
    size_t i;

    if (!a)
        return;
    if (a->mhd)
        MHD_stop_daemon(a->mhd);
    for (i = 0; i < a->n_req && i < UR_API_MAX_REQ; i++)
        free(a->bodies[i]);
    json_decref(a->monitors);
    free(a->key);
    pthread_mutex_destroy(&a->lock);
    free(a);
}

int ur_api_port(const struct ur_api *a)
{
    return a->port;
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
    pthread_mutex_lock(&a->lock);
    snprintf(a->script, sizeof a->script, "%s", script);
    pthread_mutex_unlock(&a->lock);
}

size_t ur_api_requests(struct ur_api *a)
{
    size_t n;

    pthread_mutex_lock(&a->lock);
    n = a->n_req;
    pthread_mutex_unlock(&a->lock);
    return n;
}

size_t ur_api_wait(struct ur_api *a, size_t n, int timeout_ms)
{
    size_t seen;
    int waited;

    for (waited = 0; (seen = ur_api_requests(a)) < n && waited < timeout_ms; waited += 10)
        nanosleep(&(struct timespec){ 0, 10 * 1000000L }, NULL);
    return seen;
}

int ur_api_field(struct ur_api *a, size_t i, const char *name, char *buf, size_t len)
{
    int rc = -1;

    pthread_mutex_lock(&a->lock);
    if (i < a->n_req && i < UR_API_MAX_REQ)
        rc = form_field(a->bodies[i], name, buf, len);
    pthread_mutex_unlock(&a->lock);
    return rc;
}

size_t ur_api_violations(struct ur_api *a)
{
    size_t n;

    pthread_mutex_lock(&a->lock);
    n = a->violations;
    pthread_mutex_unlock(&a->lock);
    return n;
}
