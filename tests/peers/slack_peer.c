/* slack_peer.c: the fake Slack (see slack_peer.h), a provider on a test
 * peer (peer.h: the server, the script, the records and the violations).
 * Its channel has a lock of its own: the answer hook takes it under the
 * peer's lock, the tests' reads without. */
#define _POSIX_C_SOURCE 200809L
#include "slack_peer.h"

#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "peer.h"
#include "slack_blocks.h"

#define MAX_BODY (1u << 20)

enum answer_kind { A_OK, A_STATUS, A_ERROR, A_HANG };

/* A script item as Slack reads it. */
struct answer {
    enum answer_kind kind;
    int status;
    char error[64];
};

struct slack_peer {
    struct peer *peer;
    pthread_mutex_t mu; /* guards messages and next_ts */
    json_t *messages;   /* top level, oldest first; each with "replies" */
    long next_ts;
};

/* What a request gets back. */
struct reply {
    int status;
    const char *type; /* Content-Type */
    char *body;       /* malloc()ed */
};

/* Called under the peer's lock (from the answer hook). */
static void violation(struct slack_peer *p, const struct slack_req *r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void violation(struct slack_peer *p, const struct slack_req *r, const char *fmt, ...)
{
    char what[480];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    peer_violate(p->peer, "%s %s: %s", r->method, r->path, what);
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

/* --- the peer's hooks and the queries ---------------------------------------- */

static struct answer scripted(const struct peer_answer *pa)
{
    struct answer a = { A_OK, 200, "" };
    char words[sizeof pa->words], *save = NULL, *tok;

    snprintf(words, sizeof words, "%s", pa->words);
    for (tok = strtok_r(words, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        if (strncmp(tok, "error=", 6) == 0) {
            a.kind = A_ERROR;
            snprintf(a.error, sizeof a.error, "%s", tok + 6);
        } else if (strcmp(tok, "ok") != 0) {
            fprintf(stderr, "slack peer: bad script item \"%s\"\n", tok);
        }
    }
    if (a.kind == A_OK && pa->status && pa->status != 200) {
        a.kind = A_STATUS;
        a.status = pa->status;
    }
    if (pa->hang)
        a.kind = A_HANG;
    return a;
}

/* The peer's answer hook (under its lock): check the request, record it as
 * req->ext, act on it and answer as Slack does. */
static void answer(void *ctx, struct peer *pp, struct peer_req *req, struct peer_answer *pa)
{
    struct slack_peer *p = ctx;
    struct answer a = scripted(pa);
    struct reply out = { 0, NULL, NULL };
    struct slack_req *r = calloc(1, sizeof *r);

    if (!r) {
        peer_violate(pp, "%s %s: the peer ran out of memory", req->method, req->path);
        pa->status = 500;
        return;
    }
    /* The peer owns what is shared; it outlives the record. */
    snprintf(r->method, sizeof r->method, "%s", req->method);
    snprintf(r->path, sizeof r->path, "%.*s", (int)sizeof r->path - 1, req->path);
    r->headers = req->headers;
    r->query = req->query;
    r->body = req->body;
    r->body_len = req->body_len;
    r->json = req->json;
    r->at_ms = req->at_ms;
    req->ext = r;

    pthread_mutex_lock(&p->mu);
    if (r->body_len > MAX_BODY)
        violation(p, r, "body over %u bytes", MAX_BODY);
    if (a.kind == A_HANG) {
        snprintf(r->error, sizeof r->error, "hang");
    } else if (strcmp(r->path, SLACK_PEER_HOOK_PATH) == 0) {
        webhook(p, r, &a, &out);
    } else if (strncmp(r->path, "/api/", 5) == 0) {
        web_api(p, r, &a, &out);
    } else {
        violation(p, r, "no such endpoint");
        set_body(&out, 404, "text/plain", "no_service");
    }
    pthread_mutex_unlock(&p->mu);
    r->status = a.kind == A_HANG ? 0 : out.status;
    pa->status = r->status;
    pa->reply.body = out.body;
    pa->reply.type = out.type ? out.type : "text/plain";
}

struct slack_peer *slack_peer_new(void)
{
    struct slack_peer *p = calloc(1, sizeof *p);

    if (!p)
        return NULL;
    pthread_mutex_init(&p->mu, NULL);
    p->messages = json_array();
    p->next_ts = 100;
    p->peer = peer_new();
    if (!p->peer || !p->messages) {
        slack_peer_free(p);
        return NULL;
    }
    peer_set_answer(p->peer, answer, free, p);
    return p;
}

int slack_peer_start(struct slack_peer *p)
{
    return peer_start(p->peer);
}

void slack_peer_stop(struct slack_peer *p)
{
    peer_stop(p->peer);
}

void slack_peer_free(struct slack_peer *p)
{
    if (!p)
        return;
    peer_free(p->peer); /* first: it stops the answers, then frees the records */
    json_decref(p->messages);
    pthread_mutex_destroy(&p->mu);
    free(p);
}

int slack_peer_port(const struct slack_peer *p)
{
    return peer_port(p->peer);
}

void slack_peer_script(struct slack_peer *p, const char *script)
{
    peer_script(p->peer, script);
}

size_t slack_peer_count(struct slack_peer *p)
{
    return peer_count(p->peer);
}

const struct slack_req *slack_peer_get(struct slack_peer *p, size_t i)
{
    return peer_ext(p->peer, i);
}

size_t slack_peer_wait(struct slack_peer *p, size_t n, int timeout_ms)
{
    return peer_wait_requests(p->peer, n, timeout_ms);
}

size_t slack_peer_count_path(struct slack_peer *p, const char *path)
{
    size_t i, n = 0, count = peer_count(p->peer);

    for (i = 0; i < count; i++)
        n += strcmp(peer_get(p->peer, i)->path, path) == 0;
    return n;
}

const struct slack_req *slack_peer_nth(struct slack_peer *p, const char *path, size_t nth)
{
    size_t i, count = peer_count(p->peer);

    for (i = 0; i < count; i++) {
        const struct peer_req *r = peer_get(p->peer, i);

        if (strcmp(r->path, path) == 0 && nth-- == 0)
            return r->ext;
    }
    return NULL;
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
    return peer_violations(p->peer);
}

const char *slack_peer_violation(struct slack_peer *p, size_t i)
{
    return peer_violation(p->peer, i);
}
