/* peer.c: the fake HTTP(S) server under every HTTP peer (libmicrohttpd,
 * one thread per connection so a delayed answer never holds up another
 * request). */
#define _POSIX_C_SOURCE 200809L
#include "peer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PEER_MAX_SCRIPT 256
#define PEER_MAX_BODY (4u << 20)

/* One script item. */
struct answer {
    int status;
    int retry_after; /* seconds, -1: none */
    int delay_ms;
    int hang;
    char words[64]; /* for a provider's answer hook */
};

struct peer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct MHD_Daemon *mhd;
    int port;
    atomic_int stopping;

    struct answer script[PEER_MAX_SCRIPT];
    size_t n_script, next_script;
    int default_status;
    int require_idem;
    char *answer_body; /* NULL: "{}" */
    char *tls_cert, *tls_key; /* PEM; NULL: plain HTTP */
    peer_check_fn check; /* a provider's, instead of check_protocol */
    peer_reply_fn reply;
    peer_answer_fn answer; /* a provider's, instead of check and reply */
    void (*free_ext)(void *);
    void *provider;

    struct peer_req **reqs;
    size_t n_reqs, cap_reqs;
    char **violations;
    size_t n_violations, cap_violations;
};

/* Per-connection request state while the body arrives. */
struct pending {
    char *buf;
    size_t len, cap;
    int too_big;
};

int64_t peer_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* Called with p->mu held. */
static void add_violation_v(struct peer *p, const char *fmt, va_list ap)
{
    char buf[512];

    vsnprintf(buf, sizeof buf, fmt, ap);
    if (p->n_violations == p->cap_violations) {
        size_t cap = p->cap_violations ? 2 * p->cap_violations : 16;
        char **v = realloc(p->violations, cap * sizeof *v);

        if (!v)
            return;
        p->violations = v;
        p->cap_violations = cap;
    }
    p->violations[p->n_violations++] = strdup(buf);
    fprintf(stderr, "peer: protocol violation: %s\n", buf);
}

static void add_violation(struct peer *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_violation(struct peer *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_violation_v(p, fmt, ap);
    va_end(ap);
}

void peer_violate(struct peer *p, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    add_violation_v(p, fmt, ap);
    va_end(ap);
}

static enum MHD_Result collect_header(void *cls, enum MHD_ValueKind kind,
                                      const char *key, const char *value)
{
    json_t *headers = cls;
    char name[128];
    size_t i;

    (void)kind;
    for (i = 0; key[i] && i < sizeof name - 1; i++)
        name[i] = (char)tolower((unsigned char)key[i]);
    name[i] = '\0';
    json_object_set_new(headers, name, json_string(value ? value : ""));
    return MHD_YES;
}

/* Query arguments arrive as sent (see unescape_none): decoded here. */
static enum MHD_Result collect_query(void *cls, enum MHD_ValueKind kind, const char *key,
                                     const char *value)
{
    json_t *query = cls;
    char *k = strdup(key), *v = strdup(value ? value : "");

    (void)kind;
    if (k && v) {
        MHD_http_unescape(k);
        MHD_http_unescape(v);
        json_object_set_new(query, k, json_string(v));
    }
    free(k);
    free(v);
    return MHD_YES;
}

/* MHD would decode the path before the handler sees it; a provider peer
 * checks how it was escaped (an Opsgenie alias with "/" in it), so the
 * handler gets it as sent and decodes a copy. */
static size_t unescape_none(void *cls, struct MHD_Connection *c, char *s)
{
    (void)cls;
    (void)c;
    return strlen(s);
}

/* The next item, left in the script until used. */
static struct answer peek_answer(struct peer *p)
{
    struct answer a = { p->default_status, -1, 0, 0, "" };

    if (p->next_script < p->n_script)
        a = p->script[p->next_script];
    if (a.hang)
        a.delay_ms = INT_MAX;
    return a;
}

static void use_answer(struct peer *p)
{
    if (p->next_script < p->n_script)
        p->next_script++;
}

/* A provider's answer hook settles the answer as the request is recorded. */
static void provider_answer(struct peer *p, struct peer_req *r, struct answer *a,
                            struct peer_reply *reply)
{
    struct peer_answer pa;

    memset(&pa, 0, sizeof pa);
    pa.status = a->status;
    pa.retry_after = a->retry_after;
    pa.delay_ms = a->delay_ms;
    pa.hang = a->hang;
    snprintf(pa.words, sizeof pa.words, "%s", a->words);
    p->answer(p->provider, p, r, &pa);
    if (!pa.keep)
        use_answer(p);
    a->status = pa.status;
    a->retry_after = pa.retry_after;
    a->delay_ms = pa.hang ? INT_MAX : pa.delay_ms;
    a->hang = pa.hang;
    *reply = pa.reply;
}

static void check_protocol(struct peer *p, const struct peer_req *r)
{
    const char *ct = json_string_value(json_object_get(r->headers, "content-type"));
    const char *idem = json_string_value(json_object_get(r->headers, "idempotency-key"));

    if (strcmp(r->method, "POST") != 0)
        add_violation(p, "%s %s: method is not POST", r->method, r->path);
    if (!ct || strncmp(ct, "application/json", 16) != 0)
        add_violation(p, "%s %s: Content-Type is %s, not application/json", r->method,
                      r->path, ct ? ct : "(missing)");
    if (p->require_idem) {
        if (!idem)
            add_violation(p, "%s %s: no Idempotency-Key header", r->method, r->path);
        else if (strncmp(idem, "tocsin-", 7) != 0 || !isdigit((unsigned char)idem[7]))
            add_violation(p, "%s %s: Idempotency-Key \"%s\" is not tocsin-<outbox_id>",
                          r->method, r->path, idem);
    }
    if (!r->json || !json_is_object(r->json))
        add_violation(p, "%s %s: body is not a JSON object: %.200s", r->method, r->path,
                      r->body);
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    struct peer *p = cls;
    struct pending *pd = *con_cls;
    struct peer_req *r;
    struct answer a;
    struct MHD_Response *resp;
    struct peer_reply reply;
    json_error_t jerr;
    enum MHD_Result ret;
    int waited, i;

    (void)version;
    if (!pd) {
        pd = calloc(1, sizeof *pd);
        if (!pd)
            return MHD_NO;
        *con_cls = pd;
        return MHD_YES;
    }
    if (*upload_data_size) {
        size_t n = *upload_data_size;

        if (pd->len + n > PEER_MAX_BODY) {
            pd->too_big = 1;
        } else {
            if (pd->len + n + 1 > pd->cap) {
                size_t cap = (pd->len + n + 1) * 2;
                char *b = realloc(pd->buf, cap);

                if (!b)
                    return MHD_NO;
                pd->buf = b;
                pd->cap = cap;
            }
            memcpy(pd->buf + pd->len, upload_data, n);
            pd->len += n;
        }
        *upload_data_size = 0;
        return MHD_YES;
    }

    /* The whole request is here: record it, then answer. */
    r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->raw_path, sizeof r->raw_path, "%s", url);
    snprintf(r->path, sizeof r->path, "%s", url);
    MHD_http_unescape(r->path);
    r->headers = json_object();
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect_header, r->headers);
    r->query = json_object();
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect_query, r->query);
    r->body = malloc(pd->len + 1);
    if (r->body) {
        if (pd->len)
            memcpy(r->body, pd->buf, pd->len);
        r->body[pd->len] = '\0';
    }
    r->body_len = pd->len;
    r->json = r->body ? json_loadb(r->body, r->body_len, 0, &jerr) : NULL;
    r->at_ms = peer_now_ms();

    memset(&reply, 0, sizeof reply);
    pthread_mutex_lock(&p->mu);
    a = peek_answer(p);
    if (pd->too_big)
        add_violation(p, "%s %s: body over %u bytes", method, url, PEER_MAX_BODY);
    if (p->answer) {
        provider_answer(p, r, &a, &reply);
    } else {
        use_answer(p);
        if (p->check)
            p->check(p->provider, p, r);
        else
            check_protocol(p, r);
    }
    r->status = a.status;
    if (p->n_reqs == p->cap_reqs) {
        size_t cap = p->cap_reqs ? 2 * p->cap_reqs : 64;
        struct peer_req **v = realloc(p->reqs, cap * sizeof *v);

        if (v) {
            p->reqs = v;
            p->cap_reqs = cap;
        }
    }
    if (p->n_reqs < p->cap_reqs)
        p->reqs[p->n_reqs++] = r;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);

    for (waited = 0; waited < a.delay_ms && !p->stopping; waited += 20)
        sleep_ms(20);
    if (a.hang) {
        free(reply.body);
        return MHD_NO; /* the peer stops: hang up without an answer */
    }

    pthread_mutex_lock(&p->mu);
    if (p->reply && !p->answer)
        p->reply(p->provider, r, a.status, &reply);
    if (reply.body)
        resp = MHD_create_response_from_buffer(strlen(reply.body), reply.body,
                                               MHD_RESPMEM_MUST_COPY);
    else if (p->answer_body)
        resp = MHD_create_response_from_buffer(strlen(p->answer_body), p->answer_body,
                                               MHD_RESPMEM_MUST_COPY);
    else
        resp = MHD_create_response_from_buffer(2, (void *)"{}", MHD_RESPMEM_PERSISTENT);
    pthread_mutex_unlock(&p->mu);
    free(reply.body);
    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, "Content-Type", reply.type ? reply.type : "application/json");
    for (i = 0; i < reply.n_headers && i < 4; i++)
        MHD_add_response_header(resp, reply.headers[i][0], reply.headers[i][1]);
    if (a.retry_after >= 0) {
        char ra[32];

        snprintf(ra, sizeof ra, "%d", a.retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    ret = MHD_queue_response(conn, (unsigned)a.status, resp);
    MHD_destroy_response(resp);
    pthread_mutex_lock(&p->mu);
    r->completed = 1;
    pthread_mutex_unlock(&p->mu);
    return ret;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct pending *pd = *con_cls;

    (void)cls;
    (void)conn;
    (void)toe;
    if (pd) {
        free(pd->buf);
        free(pd);
        *con_cls = NULL;
    }
}

struct peer *peer_new(void)
{
    struct peer *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->default_status = 200;
    p->require_idem = 1;
    return p;
}

static int listen_socket(int port, int *bound_port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1, fd, tries;

    for (tries = 0; tries < 100; tries++) {
        fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
            return -1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        memset(&sa, 0, sizeof sa);
        sa.sin_family = AF_INET;
        sa.sin_port = htons((uint16_t)port);
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == 0 && listen(fd, 128) == 0)
            break;
        close(fd);
        fd = -1;
        if (port == 0)
            return -1;
        sleep_ms(50); /* the old socket may still be closing */
    }
    if (fd < 0)
        return -1;
    if (getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *bound_port = ntohs(sa.sin_port);
    return fd;
}

int peer_set_tls(struct peer *p, const char *cert_pem, const char *key_pem)
{
    free(p->tls_cert);
    free(p->tls_key);
    p->tls_cert = strdup(cert_pem);
    p->tls_key = strdup(key_pem);
    return p->tls_cert && p->tls_key ? 0 : -1;
}

int peer_start(struct peer *p)
{
    struct MHD_OptionItem tls[] = {
        { MHD_OPTION_HTTPS_MEM_CERT, 0, p->tls_cert },
        { MHD_OPTION_HTTPS_MEM_KEY, 0, p->tls_key },
        { MHD_OPTION_END, 0, NULL },
    };
    int fd, port = 0, https = p->tls_cert && p->tls_key;

    if (p->mhd)
        return 0;
    fd = listen_socket(p->port, &port);
    if (fd < 0) {
        fprintf(stderr, "peer: cannot listen on 127.0.0.1:%d: %s\n", p->port,
                strerror(errno));
        return -1;
    }
    p->stopping = 0;
    p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_ITC | (https ? MHD_USE_TLS : 0),
                              0, NULL, NULL, handler, p, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_NOTIFY_COMPLETED, completed, p,
                              MHD_OPTION_UNESCAPE_CALLBACK, unescape_none, p,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_ARRAY,
                              https ? tls : tls + 2, MHD_OPTION_END);
    if (!p->mhd) {
        close(fd);
        fprintf(stderr, "peer: MHD_start_daemon failed\n");
        return -1;
    }
    p->port = port;
    return 0;
}

void peer_stop(struct peer *p)
{
    if (!p->mhd)
        return;
    p->stopping = 1;
    MHD_stop_daemon(p->mhd); /* closes the listening socket too */
    p->mhd = NULL;
}

void peer_free(struct peer *p)
{
    size_t i;

    if (!p)
        return;
    peer_stop(p);
    for (i = 0; i < p->n_reqs; i++) {
        if (p->free_ext)
            p->free_ext(p->reqs[i]->ext);
        json_decref(p->reqs[i]->headers);
        json_decref(p->reqs[i]->query);
        json_decref(p->reqs[i]->json);
        free(p->reqs[i]->body);
        free(p->reqs[i]);
    }
    free(p->reqs);
    for (i = 0; i < p->n_violations; i++)
        free(p->violations[i]);
    free(p->violations);
    free(p->answer_body);
    free(p->tls_cert);
    free(p->tls_key);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int peer_port(const struct peer *p)
{
    return p->port;
}

void peer_script(struct peer *p, const char *script)
{
    const char *s = script;

    pthread_mutex_lock(&p->mu);
    p->n_script = p->next_script = 0;
    while (s && *s && p->n_script < PEER_MAX_SCRIPT) {
        struct answer a = { 200, -1, 0, 0, "" };
        char *end, *save = NULL;
        const char *stop = strchr(s, ',');
        size_t n = stop ? (size_t)(stop - s) : strlen(s);
        char item[128];

        snprintf(item, sizeof item, "%.*s", (int)n, s);
        a.status = (int)strtol(item, &end, 10);
        for (char *tok = strtok_r(end, " ;", &save); tok; tok = strtok_r(NULL, " ;", &save)) {
            if (strncmp(tok, "ra=", 3) == 0)
                a.retry_after = atoi(tok + 3);
            else if (strncmp(tok, "delay=", 6) == 0)
                a.delay_ms = atoi(tok + 6);
            else if (strcmp(tok, "hang") == 0)
                a.hang = 1; /* the wait ends when the peer stops */
            else if (p->answer && strlen(a.words) + strlen(tok) + 2 <= sizeof a.words)
                snprintf(a.words + strlen(a.words), sizeof a.words - strlen(a.words), "%s%s",
                         a.words[0] ? " " : "", tok);
            else
                fprintf(stderr, "peer: bad script item \"%s\"\n", item);
        }
        p->script[p->n_script++] = a;
        s = stop ? stop + 1 : NULL;
    }
    pthread_mutex_unlock(&p->mu);
}

void peer_answer_body(struct peer *p, const char *body)
{
    char *copy = body ? strdup(body) : NULL;

    pthread_mutex_lock(&p->mu);
    free(p->answer_body);
    p->answer_body = copy;
    pthread_mutex_unlock(&p->mu);
}

void peer_default(struct peer *p, int status)
{
    pthread_mutex_lock(&p->mu);
    p->default_status = status;
    pthread_mutex_unlock(&p->mu);
}

void peer_set_provider(struct peer *p, peer_check_fn check, peer_reply_fn reply, void *ctx)
{
    pthread_mutex_lock(&p->mu);
    p->check = check;
    p->reply = reply;
    p->provider = ctx;
    pthread_mutex_unlock(&p->mu);
}

void peer_set_answer(struct peer *p, peer_answer_fn answer, void (*free_ext)(void *),
                     void *ctx)
{
    pthread_mutex_lock(&p->mu);
    p->answer = answer;
    p->free_ext = free_ext;
    p->provider = ctx;
    pthread_mutex_unlock(&p->mu);
}

void peer_require_idempotency_key(struct peer *p, int required)
{
    pthread_mutex_lock(&p->mu);
    p->require_idem = required;
    pthread_mutex_unlock(&p->mu);
}

size_t peer_count(struct peer *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->n_reqs;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const struct peer_req *peer_get(struct peer *p, size_t i)
{
    const struct peer_req *r = NULL;

    pthread_mutex_lock(&p->mu);
    if (i < p->n_reqs)
        r = p->reqs[i];
    pthread_mutex_unlock(&p->mu);
    return r;
}

void *peer_ext(struct peer *p, size_t i)
{
    void *ext = NULL;

    pthread_mutex_lock(&p->mu);
    if (i < p->n_reqs)
        ext = p->reqs[i]->ext;
    pthread_mutex_unlock(&p->mu);
    return ext;
}

void peer_deadline(struct timespec *ts, int timeout_ms)
{
    clock_gettime(CLOCK_REALTIME, ts);
    ts->tv_sec += timeout_ms / 1000;
    ts->tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

size_t peer_wait_requests(struct peer *p, size_t n, int timeout_ms)
{
    struct timespec deadline;
    size_t got;

    peer_deadline(&deadline, timeout_ms);
    pthread_mutex_lock(&p->mu);
    while (p->n_reqs < n) {
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
            break;
    }
    got = p->n_reqs;
    pthread_mutex_unlock(&p->mu);
    return got;
}

size_t peer_violations(struct peer *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->n_violations;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const char *peer_violation(struct peer *p, size_t i)
{
    const char *v = NULL;

    pthread_mutex_lock(&p->mu);
    if (i < p->n_violations)
        v = p->violations[i];
    pthread_mutex_unlock(&p->mu);
    return v;
}
