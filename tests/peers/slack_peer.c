/* slack_peer.c: the fake Slack (see slack_peer.h): libmicrohttpd, one
 * thread per connection, so a hanging answer holds up nothing else. */
#define _POSIX_C_SOURCE 200809L
#include "slack_peer.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "slack_blocks.h"

#define MAX_SCRIPT 128
#define MAX_BODY (1u << 20)

enum answer_kind { A_OK, A_STATUS, A_ERROR, A_HANG };

struct answer {
    enum answer_kind kind;
    int status;
    int retry_after; /* -1: none */
    int delay_ms;
    char error[64];
};

struct slack_peer {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct MHD_Daemon *mhd;
    int port;
    atomic_int stopping;

    struct answer script[MAX_SCRIPT];
    size_t n_script, next_script;

    struct slack_req **reqs;
    size_t n_reqs, cap_reqs;
    char **violations;
    size_t n_violations, cap_violations;

    json_t *messages; /* top level, oldest first; each with "replies" */
    long next_ts;
};

struct pending {
    char *buf;
    size_t len, cap;
    int too_big;
};

/* What a request gets back. */
struct reply {
    int status;
    int retry_after;
    const char *type; /* Content-Type */
    char *body;       /* malloc()ed */
};

static int64_t now_ms(void)
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
static void violation(struct slack_peer *p, const struct slack_req *r, const char *fmt, ...)
{
    char buf[800], what[480];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    snprintf(buf, sizeof buf, "%s %s: %s", r->method, r->path, what);
    if (p->n_violations == p->cap_violations) {
        size_t cap = p->cap_violations ? 2 * p->cap_violations : 16;
        char **v = realloc(p->violations, cap * sizeof *v);

        if (!v)
            return;
        p->violations = v;
        p->cap_violations = cap;
    }
    p->violations[p->n_violations++] = strdup(buf);
    fprintf(stderr, "slack peer: violation: %s\n", buf);
}

struct problem_arg {
    struct slack_peer *p;
    const struct slack_req *r;
};

static void on_problem(void *arg, const char *what)
{
    struct problem_arg *a = arg;

    violation(a->p, a->r, "%s", what);
}

static void set_body(struct reply *out, int status, const char *type, const char *body)
{
    free(out->body);
    out->status = status;
    out->type = type;
    out->body = strdup(body);
}

static void api_error(struct reply *out, struct slack_req *r, const char *error)
{
    char body[160];

    snprintf(body, sizeof body, "{\"ok\":false,\"error\":\"%s\"}", error);
    set_body(out, 200, "application/json; charset=utf-8", body);
    snprintf(r->error, sizeof r->error, "%s", error);
}

/* {"ok":true, ...answer}: "ok" first, as Slack writes it. */
static void api_ok(struct reply *out, json_t *answer)
{
    json_t *o = json_pack("{s:b}", "ok", 1);
    char *s;

    json_object_update(o, answer);
    json_decref(answer);
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    free(out->body);
    out->status = 200;
    out->type = "application/json; charset=utf-8";
    out->body = s ? s : strdup("{\"ok\":true}");
}

/* --- the channel ---------------------------------------------------------- */

static const char *resolve_channel(const char *c)
{
    if (c && (strcmp(c, SLACK_PEER_CHANNEL) == 0 || strcmp(c, SLACK_PEER_CHANNEL_NAME) == 0 ||
              strcmp(c, SLACK_PEER_CHANNEL_NAME + 1) == 0))
        return SLACK_PEER_CHANNEL;
    return NULL;
}

static json_t *find_message(struct slack_peer *p, const char *ts, int top_only)
{
    size_t i, k;
    json_t *m, *rep;

    json_array_foreach(p->messages, i, m) {
        if (strcmp(json_string_value(json_object_get(m, "ts")), ts) == 0)
            return m;
        if (top_only)
            continue;
        json_array_foreach(json_object_get(m, "replies"), k, rep)
            if (strcmp(json_string_value(json_object_get(rep, "ts")), ts) == 0)
                return rep;
    }
    return NULL;
}

/* A stored message from what was sent: the parts Slack keeps. */
static json_t *stored(struct slack_peer *p, const json_t *sent)
{
    char ts[32];
    json_t *m = json_object();
    const char *keys[] = { "text", "attachments", "blocks", "thread_ts" };
    size_t i;

    /* Seconds of the wall clock (as Slack's ts are, so "oldest" filters
     * work), then a counter: ts sort as text in the order of posting. */
    snprintf(ts, sizeof ts, "%lld.%06ld", (long long)time(NULL), p->next_ts++);
    json_object_set_new(m, "type", json_string("message"));
    json_object_set_new(m, "subtype", json_string("bot_message"));
    json_object_set_new(m, "bot_id", json_string("B0TOCSIN"));
    json_object_set_new(m, "ts", json_string(ts));
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++)
        if (json_object_get(sent, keys[i]))
            json_object_set_new(m, keys[i], json_deep_copy(json_object_get(sent, keys[i])));
    json_object_set_new(m, "edits", json_integer(0));
    return m;
}

/* --- checks --------------------------------------------------------------- */

static int key_allowed(const char *key, const char *const *allowed)
{
    for (; *allowed; allowed++)
        if (strcmp(key, *allowed) == 0)
            return 1;
    return 0;
}

/* Arguments the method takes, of the types Slack documents. */
static void check_keys(struct slack_peer *p, const struct slack_req *r,
                       const char *const *allowed)
{
    static const char *const booleans[] = {
        "unfurl_links", "unfurl_media", "reply_broadcast", "mrkdwn", "as_user", "link_names",
        NULL,
    };
    static const char *const strings[] = { "channel", "ts", "thread_ts", "text", NULL };
    const char *key;
    json_t *v;

    json_object_foreach(r->json, key, v) {
        if (!key_allowed(key, allowed))
            violation(p, r, "argument \"%s\" is not one this method takes", key);
        else if (key_allowed(key, booleans) && !json_is_boolean(v))
            violation(p, r, "argument \"%s\" is not a boolean", key);
        else if (key_allowed(key, strings) && !json_is_string(v))
            violation(p, r, "argument \"%s\" is not a string", key);
    }
}

static const char *header(const struct slack_req *r, const char *name)
{
    return json_string_value(json_object_get(r->headers, name));
}

/* Web API: the token as a bearer, a JSON body declared as UTF-8. */
static int api_auth(struct slack_peer *p, struct slack_req *r, struct reply *out)
{
    const char *auth = header(r, "authorization");

    if (!auth) {
        violation(p, r, "no Authorization header");
        api_error(out, r, "not_authed");
        return -1;
    }
    if (strcmp(auth, "Bearer " SLACK_PEER_TOKEN) != 0) {
        violation(p, r, "Authorization is not \"Bearer <the token>\"");
        api_error(out, r, "invalid_auth");
        return -1;
    }
    return 0;
}

static int api_json_body(struct slack_peer *p, struct slack_req *r, struct reply *out)
{
    const char *ct = header(r, "content-type");

    if (strcmp(r->method, "POST") != 0)
        violation(p, r, "method is not POST");
    if (!ct || strcasecmp(ct, "application/json; charset=utf-8") != 0)
        violation(p, r, "Content-Type is \"%s\", not \"application/json; charset=utf-8\"",
                  ct ? ct : "(missing)");
    if (!json_is_object(r->json)) {
        violation(p, r, "body is not a JSON object: %.120s", r->body ? r->body : "");
        api_error(out, r, "invalid_json");
        return -1;
    }
    return 0;
}

static int message_ok(struct slack_peer *p, struct slack_req *r, const json_t *msg)
{
    struct problem_arg a = { p, r };

    return slack_check_message(msg, on_problem, &a) == 0;
}

/* --- the endpoints ---------------------------------------------------------- */

static const char *hook_text(int status)
{
    switch (status) {
    case 400: return "invalid_blocks";
    case 403: return "invalid_token";
    case 404: return "no_service";
    case 410: return "channel_is_archived";
    case 429: return "rate_limited";
    default: return status >= 500 ? "rollup_error" : "invalid_payload";
    }
}

static int hook_status(const char *error)
{
    if (strcmp(error, "no_service") == 0 || strcmp(error, "channel_not_found") == 0)
        return 404;
    if (strcmp(error, "channel_is_archived") == 0)
        return 410;
    if (strcmp(error, "invalid_token") == 0 || strcmp(error, "action_prohibited") == 0)
        return 403;
    if (strcmp(error, "rate_limited") == 0)
        return 429;
    if (strcmp(error, "rollup_error") == 0)
        return 500;
    return 400;
}

/* What an incoming webhook reads (channel, username and icon_* only from
 * legacy integrations). */
static const char *const hook_args[] = {
    "text", "blocks", "attachments", "unfurl_links", "unfurl_media", "mrkdwn", "thread_ts",
    "channel", "username", "icon_emoji", "icon_url", NULL,
};

static void webhook(struct slack_peer *p, struct slack_req *r, const struct answer *a,
                    struct reply *out)
{
    const char *ct = header(r, "content-type");
    char media[64];
    int ok = 1;

    snprintf(media, sizeof media, "%.*s", ct ? (int)strcspn(ct, "; ") : 0, ct ? ct : "");
    if (strcmp(r->method, "POST") != 0) {
        violation(p, r, "method is not POST");
        ok = 0;
    }
    if (strcasecmp(media, "application/json") != 0) {
        violation(p, r, "Content-Type is \"%s\", not application/json", ct ? ct : "(missing)");
        ok = 0;
    }
    if (!json_is_object(r->json)) {
        violation(p, r, "body is not a JSON object: %.120s", r->body ? r->body : "");
        ok = 0;
    } else {
        check_keys(p, r, hook_args);
        if (!message_ok(p, r, r->json))
            ok = 0;
    }
    if (!ok) {
        set_body(out, 400, "text/plain", "invalid_blocks");
        snprintf(r->error, sizeof r->error, "invalid_blocks");
        return;
    }
    if (a->kind == A_STATUS) {
        set_body(out, a->status, "text/plain", hook_text(a->status));
        snprintf(r->error, sizeof r->error, "%s", out->body);
        return;
    }
    if (a->kind == A_ERROR) {
        set_body(out, hook_status(a->error), "text/plain", a->error);
        snprintf(r->error, sizeof r->error, "%s", a->error);
        return;
    }
    json_array_append_new(p->messages, stored(p, r->json));
    snprintf(r->ts, sizeof r->ts, "%s",
             json_string_value(json_object_get(
                 json_array_get(p->messages, json_array_size(p->messages) - 1), "ts")));
    set_body(out, 200, "text/plain", "ok");
}

static const char *const post_args[] = {
    "channel", "text", "blocks", "attachments", "thread_ts", "reply_broadcast",
    "unfurl_links", "unfurl_media", "mrkdwn", "metadata", "username", "icon_emoji",
    "icon_url", "link_names", "parse", "as_user", NULL,
};
static const char *const update_args[] = {
    "channel", "ts", "text", "blocks", "attachments", "as_user", "link_names", "parse",
    "reply_broadcast", "metadata", "file_ids", "markdown_text", NULL,
};

static void post_message(struct slack_peer *p, struct slack_req *r, struct reply *out)
{
    const char *channel = json_string_value(json_object_get(r->json, "channel"));
    const json_t *thread = json_object_get(r->json, "thread_ts");
    json_t *parent = NULL, *m;

    check_keys(p, r, post_args);
    if (!channel) {
        violation(p, r, "no channel");
        api_error(out, r, "channel_not_found");
        return;
    }
    if (!message_ok(p, r, r->json)) {
        api_error(out, r, "invalid_blocks");
        return;
    }
    if (!resolve_channel(channel)) {
        api_error(out, r, "channel_not_found");
        return;
    }
    if (thread) {
        if (!json_is_string(thread) ||
            !(parent = find_message(p, json_string_value(thread), 1))) {
            violation(p, r, "thread_ts names no message in the channel");
            api_error(out, r, "thread_not_found");
            return;
        }
    }
    m = stored(p, r->json);
    snprintf(r->ts, sizeof r->ts, "%s", json_string_value(json_object_get(m, "ts")));
    if (parent) {
        json_t *replies = json_object_get(parent, "replies");

        if (!replies)
            json_object_set_new(parent, "replies", replies = json_array());
        json_array_append(replies, m);
    } else {
        json_array_append(p->messages, m);
    }
    api_ok(out, json_pack("{s:s, s:s, s:o}", "channel", SLACK_PEER_CHANNEL, "ts", r->ts,
                          "message", m));
}

static void update_message(struct slack_peer *p, struct slack_req *r, struct reply *out)
{
    const char *channel = json_string_value(json_object_get(r->json, "channel"));
    const char *ts = json_string_value(json_object_get(r->json, "ts"));
    const char *keys[] = { "text", "attachments", "blocks" };
    json_t *m;
    size_t i;

    check_keys(p, r, update_args);
    if (!channel || !ts) {
        violation(p, r, "chat.update without channel and ts");
        api_error(out, r, "invalid_arguments");
        return;
    }
    if (!message_ok(p, r, r->json)) {
        api_error(out, r, "invalid_blocks");
        return;
    }
    /* chat.update takes the channel's id only: the one the post answered. */
    if (strcmp(channel, SLACK_PEER_CHANNEL) != 0) {
        violation(p, r, "chat.update channel \"%s\" is not the channel id", channel);
        api_error(out, r, "channel_not_found");
        return;
    }
    if (!(m = find_message(p, ts, 0))) {
        api_error(out, r, "message_not_found");
        return;
    }
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        if (json_object_get(r->json, keys[i]))
            json_object_set_new(m, keys[i], json_deep_copy(json_object_get(r->json, keys[i])));
        else
            json_object_del(m, keys[i]);
    }
    json_object_set_new(m, "edits",
                        json_integer(json_integer_value(json_object_get(m, "edits")) + 1));
    snprintf(r->ts, sizeof r->ts, "%s", ts);
    api_ok(out, json_pack("{s:s, s:s, s:O?, s:O}", "channel", SLACK_PEER_CHANNEL, "ts", ts,
                          "text", json_object_get(m, "text"), "message", m));
}

/* A message as the history methods return it (replies left out). */
static json_t *listed(const json_t *m)
{
    json_t *c = json_deep_copy(m);

    json_object_del(c, "replies");
    json_object_del(c, "edits");
    return c;
}

static const char *arg(const struct slack_req *r, const char *name)
{
    return json_string_value(json_object_get(r->query, name));
}

/* conversations.history (newest first, top level) and conversations.replies
 * (the parent, then its replies): GET with the arguments in the query. */
static void history(struct slack_peer *p, struct slack_req *r, struct reply *out, int replies)
{
    const char *channel = arg(r, "channel"), *oldest = arg(r, "oldest");
    const char *limit_s = arg(r, "limit");
    long limit = limit_s ? strtol(limit_s, NULL, 10) : 100;
    json_t *msgs = json_array(), *m;
    size_t i;
    int more = 0;

    if (strcmp(r->method, "GET") != 0)
        violation(p, r, "read with %s, not GET", r->method);
    if (!channel || strcmp(channel, SLACK_PEER_CHANNEL) != 0) {
        json_decref(msgs);
        api_error(out, r, "channel_not_found");
        return;
    }
    if (limit < 1 || limit > 999) {
        violation(p, r, "limit %s is not 1..999", limit_s);
        limit = 100;
    }
    if (replies) {
        const char *ts = arg(r, "ts");
        json_t *parent = ts ? find_message(p, ts, 1) : NULL;

        if (!parent) {
            json_decref(msgs);
            api_error(out, r, ts ? "thread_not_found" : "invalid_arguments");
            return;
        }
        json_array_append_new(msgs, listed(parent));
        json_array_foreach(json_object_get(parent, "replies"), i, m) {
            if ((long)json_array_size(msgs) >= limit) {
                more = 1;
                break;
            }
            json_array_append_new(msgs, listed(m));
        }
    } else {
        for (i = json_array_size(p->messages); i-- > 0;) {
            m = json_array_get(p->messages, i);
            if (oldest && strcmp(json_string_value(json_object_get(m, "ts")), oldest) <= 0)
                break; /* ts are of one width here: text order is time order */
            if ((long)json_array_size(msgs) >= limit) {
                more = 1;
                break;
            }
            json_array_append_new(msgs, listed(m));
        }
    }
    api_ok(out, json_pack("{s:o, s:b}", "messages", msgs, "has_more", more));
}

static void web_api(struct slack_peer *p, struct slack_req *r, const struct answer *a,
                    struct reply *out)
{
    const char *method = r->path + strlen("/api/");
    int read = strncmp(method, "conversations.", 14) == 0;

    if (api_auth(p, r, out) < 0)
        return;
    if (!read && api_json_body(p, r, out) < 0)
        return;
    if (strcmp(method, "chat.postMessage") != 0 && strcmp(method, "chat.update") != 0 &&
        strcmp(method, "conversations.history") != 0 &&
        strcmp(method, "conversations.replies") != 0) {
        violation(p, r, "unknown method");
        api_error(out, r, "unknown_method");
        return;
    }
    if (a->kind == A_ERROR) {
        api_error(out, r, a->error);
        return;
    }
    if (a->kind == A_STATUS) {
        if (a->status == 429)
            set_body(out, 429, "application/json; charset=utf-8",
                     "{\"ok\":false,\"error\":\"ratelimited\"}");
        else
            set_body(out, a->status, "text/html", "<html><body>Server Error</body></html>");
        snprintf(r->error, sizeof r->error, "HTTP %d", a->status);
        return;
    }
    if (strcmp(method, "chat.postMessage") == 0)
        post_message(p, r, out);
    else if (strcmp(method, "chat.update") == 0)
        update_message(p, r, out);
    else
        history(p, r, out, strcmp(method, "conversations.replies") == 0);
}

/* --- the server ------------------------------------------------------------- */

static enum MHD_Result collect(void *cls, enum MHD_ValueKind kind, const char *key,
                               const char *value)
{
    json_t *o = cls;
    char name[128];
    size_t i;

    for (i = 0; key[i] && i < sizeof name - 1; i++)
        name[i] = kind == MHD_HEADER_KIND ? (char)tolower((unsigned char)key[i]) : key[i];
    name[i] = '\0';
    json_object_set_new(o, name, json_string(value ? value : ""));
    return MHD_YES;
}

static struct answer next_answer(struct slack_peer *p)
{
    struct answer a = { A_OK, 200, -1, 0, "" };

    if (p->next_script < p->n_script)
        a = p->script[p->next_script++];
    return a;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version,
                               const char *upload_data, size_t *upload_data_size,
                               void **con_cls)
{
    struct slack_peer *p = cls;
    struct pending *pd = *con_cls;
    struct reply out = { 0, -1, NULL, NULL };
    struct MHD_Response *resp;
    struct slack_req *r;
    struct answer a;
    enum MHD_Result ret;
    int waited;

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

        if (pd->len + n > MAX_BODY) {
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

    r = calloc(1, sizeof *r);
    if (!r)
        return MHD_NO;
    snprintf(r->method, sizeof r->method, "%s", method);
    snprintf(r->path, sizeof r->path, "%s", url);
    r->headers = json_object();
    r->query = json_object();
    MHD_get_connection_values(conn, MHD_HEADER_KIND, collect, r->headers);
    MHD_get_connection_values(conn, MHD_GET_ARGUMENT_KIND, collect, r->query);
    r->body = malloc(pd->len + 1);
    if (r->body) {
        if (pd->len)
            memcpy(r->body, pd->buf, pd->len);
        r->body[pd->len] = '\0';
    }
    r->body_len = pd->len;
    /* jansson refuses text that is not UTF-8: such a body is no message. */
    r->json = r->body && r->body_len ? json_loadb(r->body, r->body_len, 0, NULL) : NULL;
    r->at_ms = now_ms();

    pthread_mutex_lock(&p->mu);
    a = next_answer(p);
    if (pd->too_big)
        violation(p, r, "body over %u bytes", MAX_BODY);
    if (a.kind == A_HANG) {
        snprintf(r->error, sizeof r->error, "hang");
    } else if (strcmp(url, SLACK_PEER_HOOK_PATH) == 0) {
        webhook(p, r, &a, &out);
    } else if (strncmp(url, "/api/", 5) == 0) {
        web_api(p, r, &a, &out);
    } else {
        violation(p, r, "no such endpoint");
        set_body(&out, 404, "text/plain", "no_service");
    }
    r->status = a.kind == A_HANG ? 0 : out.status;
    if (p->n_reqs == p->cap_reqs) {
        size_t cap = p->cap_reqs ? 2 * p->cap_reqs : 64;
        struct slack_req **v = realloc(p->reqs, cap * sizeof *v);

        if (v) {
            p->reqs = v;
            p->cap_reqs = cap;
        }
    }
    if (p->n_reqs < p->cap_reqs)
        p->reqs[p->n_reqs++] = r;
    pthread_cond_broadcast(&p->cv);
    pthread_mutex_unlock(&p->mu);

    if (a.kind == A_HANG) {
        while (!p->stopping)
            sleep_ms(20);
        free(out.body);
        return MHD_NO;
    }
    for (waited = 0; waited < a.delay_ms && !p->stopping; waited += 20)
        sleep_ms(20);
    resp = MHD_create_response_from_buffer(strlen(out.body ? out.body : ""),
                                           out.body ? out.body : (char *)"",
                                           MHD_RESPMEM_MUST_COPY);
    if (!resp) {
        free(out.body);
        return MHD_NO;
    }
    MHD_add_response_header(resp, "Content-Type", out.type ? out.type : "text/plain");
    if (a.retry_after >= 0) {
        char ra[32];

        snprintf(ra, sizeof ra, "%d", a.retry_after);
        MHD_add_response_header(resp, "Retry-After", ra);
    }
    ret = MHD_queue_response(conn, (unsigned)out.status, resp);
    MHD_destroy_response(resp);
    free(out.body);
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

struct slack_peer *slack_peer_new(void)
{
    struct slack_peer *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->cv, NULL);
    p->messages = json_array();
    p->next_ts = 100;
    return p;
}

static int listen_socket(int port, int *bound)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int one = 1, fd = -1, tries;

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
        sleep_ms(50);
    }
    if (fd < 0 || getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(sa.sin_port);
    return fd;
}

int slack_peer_start(struct slack_peer *p)
{
    int fd, port = 0;

    if (p->mhd)
        return 0;
    fd = listen_socket(p->port, &port);
    if (fd < 0) {
        fprintf(stderr, "slack peer: cannot listen on 127.0.0.1:%d: %s\n", p->port,
                strerror(errno));
        return -1;
    }
    p->stopping = 0;
    p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_ITC,
                              0, NULL, NULL, handler, p, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_NOTIFY_COMPLETED, completed, p,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    if (!p->mhd) {
        close(fd);
        return -1;
    }
    p->port = port;
    return 0;
}

void slack_peer_stop(struct slack_peer *p)
{
    if (!p->mhd)
        return;
    p->stopping = 1;
    MHD_stop_daemon(p->mhd);
    p->mhd = NULL;
}

void slack_peer_free(struct slack_peer *p)
{
    size_t i;

    if (!p)
        return;
    slack_peer_stop(p);
    for (i = 0; i < p->n_reqs; i++) {
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
    json_decref(p->messages);
    pthread_cond_destroy(&p->cv);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int slack_peer_port(const struct slack_peer *p)
{
    return p->port;
}

void slack_peer_script(struct slack_peer *p, const char *script)
{
    const char *s = script;

    pthread_mutex_lock(&p->mu);
    p->n_script = p->next_script = 0;
    while (s && *s && p->n_script < MAX_SCRIPT) {
        struct answer a = { A_OK, 200, -1, 0, "" };
        const char *stop = strchr(s, ',');
        size_t n = stop ? (size_t)(stop - s) : strlen(s);
        char item[160], *save = NULL, *tok;

        snprintf(item, sizeof item, "%.*s", (int)n, s);
        for (tok = strtok_r(item, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
            if (strcmp(tok, "ok") == 0) {
                a.kind = A_OK;
            } else if (strcmp(tok, "hang") == 0) {
                a.kind = A_HANG;
            } else if (strncmp(tok, "error=", 6) == 0) {
                a.kind = A_ERROR;
                snprintf(a.error, sizeof a.error, "%s", tok + 6);
            } else if (strncmp(tok, "ra=", 3) == 0) {
                a.retry_after = atoi(tok + 3);
            } else if (strncmp(tok, "delay=", 6) == 0) {
                a.delay_ms = atoi(tok + 6);
            } else if (isdigit((unsigned char)tok[0])) {
                a.kind = A_STATUS;
                a.status = atoi(tok);
            } else {
                fprintf(stderr, "slack peer: bad script item \"%s\"\n", tok);
            }
        }
        p->script[p->n_script++] = a;
        s = stop ? stop + 1 : NULL;
    }
    pthread_mutex_unlock(&p->mu);
}

size_t slack_peer_count(struct slack_peer *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->n_reqs;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const struct slack_req *slack_peer_get(struct slack_peer *p, size_t i)
{
    const struct slack_req *r = NULL;

    pthread_mutex_lock(&p->mu);
    if (i < p->n_reqs)
        r = p->reqs[i];
    pthread_mutex_unlock(&p->mu);
    return r;
}

size_t slack_peer_wait(struct slack_peer *p, size_t n, int timeout_ms)
{
    struct timespec deadline;
    size_t got;

    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += timeout_ms / 1000;
    deadline.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) {
        deadline.tv_sec++;
        deadline.tv_nsec -= 1000000000L;
    }
    pthread_mutex_lock(&p->mu);
    while (p->n_reqs < n)
        if (pthread_cond_timedwait(&p->cv, &p->mu, &deadline) == ETIMEDOUT)
            break;
    got = p->n_reqs;
    pthread_mutex_unlock(&p->mu);
    return got;
}

size_t slack_peer_count_path(struct slack_peer *p, const char *path)
{
    size_t i, n = 0;

    pthread_mutex_lock(&p->mu);
    for (i = 0; i < p->n_reqs; i++)
        n += strcmp(p->reqs[i]->path, path) == 0;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const struct slack_req *slack_peer_nth(struct slack_peer *p, const char *path, size_t nth)
{
    const struct slack_req *r = NULL;
    size_t i;

    pthread_mutex_lock(&p->mu);
    for (i = 0; i < p->n_reqs && !r; i++)
        if (strcmp(p->reqs[i]->path, path) == 0 && nth-- == 0)
            r = p->reqs[i];
    pthread_mutex_unlock(&p->mu);
    return r;
}

size_t slack_peer_messages(struct slack_peer *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = json_array_size(p->messages);
    pthread_mutex_unlock(&p->mu);
    return n;
}

json_t *slack_peer_message(struct slack_peer *p, size_t i)
{
    json_t *m;

    pthread_mutex_lock(&p->mu);
    m = json_deep_copy(json_array_get(p->messages, i));
    pthread_mutex_unlock(&p->mu);
    return m;
}

void slack_peer_delete(struct slack_peer *p, const char *ts)
{
    size_t i;
    json_t *m;

    pthread_mutex_lock(&p->mu);
    json_array_foreach(p->messages, i, m) {
        if (strcmp(json_string_value(json_object_get(m, "ts")), ts) == 0) {
            json_array_remove(p->messages, i);
            break;
        }
    }
    pthread_mutex_unlock(&p->mu);
}

size_t slack_peer_violations(struct slack_peer *p)
{
    size_t n;

    pthread_mutex_lock(&p->mu);
    n = p->n_violations;
    pthread_mutex_unlock(&p->mu);
    return n;
}

const char *slack_peer_violation(struct slack_peer *p, size_t i)
{
    const char *v = NULL;

    pthread_mutex_lock(&p->mu);
    if (i < p->n_violations)
        v = p->violations[i];
    pthread_mutex_unlock(&p->mu);
    return v;
}
