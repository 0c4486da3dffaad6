/* slack_peer.h: a strict fake Slack for the slack sink's integration tests:
 * an incoming webhook and the Web API methods the sink calls
 * (chat.postMessage, chat.update, conversations.history,
 * conversations.replies) on 127.0.0.1 (an ephemeral port, kept across
 * stop/start). It keeps one channel's messages and threads, answers as
 * Slack does or as a script says, records every request and counts
 * violations of the formats page (/work/shared/formats/slack.md) and of
 * Slack's method reference. A provider on a test peer (peer.h), whose
 * server, script grammar and records it uses. */
#ifndef TOCSIN_TEST_SLACK_PEER_H
#define TOCSIN_TEST_SLACK_PEER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

/* The incoming webhook's path (the URL is a secret: the tests look for it
 * in logs), the bot token the Web API takes, its one channel. */
#define SLACK_PEER_HOOK_PATH "/services/T0TOCSIN/B0TOCSIN/h00ks3cr3t"
#define SLACK_PEER_TOKEN "xoxb-1234-t0kens3cr3t"
#define SLACK_PEER_CHANNEL "C0TOCSIN"      /* its id */
#define SLACK_PEER_CHANNEL_NAME "#alerts" /* its name ("alerts" too) */

struct slack_peer;

/* One recorded request. Owned by the peer; valid until slack_peer_free()
 * (headers, query, body and json are the test peer's record's). */
struct slack_req {
    char method[16];
    char path[256];    /* "/api/chat.update", SLACK_PEER_HOOK_PATH, ... */
    json_t *headers;   /* {"lowercased-name": "value"} */
    json_t *query;     /* GET arguments {"name": "value"} */
    char *body;        /* NUL-terminated */
    size_t body_len;
    json_t *json;      /* the parsed body, or NULL */
    int64_t at_ms;     /* monotonic ms when the request was complete */
    int status;        /* the HTTP status answered */
    char error[64];    /* the Slack error answered, "" for success */
    char ts[32];       /* the ts of the message posted or updated, or "" */
};

struct slack_peer *slack_peer_new(void);
int slack_peer_start(struct slack_peer *p);
void slack_peer_stop(struct slack_peer *p);
void slack_peer_free(struct slack_peer *p);
int slack_peer_port(const struct slack_peer *p);

/* Answers for the next requests (to any endpoint), comma-separated; after
 * them every request succeeds:
 *   "ok"                  success: the message is posted or updated
 *   "ok delay=3000"       success, answered after 3 s (the client may have
 *                         given up by then: the message is posted anyway)
 *   "error=NAME"          Web API: 200 {"ok":false,"error":"NAME"};
 *                         webhook: NAME as text, with Slack's status for it
 *                         (no_service 404, channel_is_archived 410,
 *                         invalid_token 403, rate_limited 429, else 400)
 *   "400", "404", "429 ra=2", "500"
 *                         that status with Slack's body for it (webhook:
 *                         invalid_blocks, no_service, rate_limited,
 *                         rollup_error; Web API 429: ratelimited)
 *   "hang"                no answer until the peer stops
 * A request that breaks the rules is answered as Slack would (invalid_auth,
 * invalid_blocks, ...) and counted as a violation whatever the script says. */
void slack_peer_script(struct slack_peer *p, const char *script);

size_t slack_peer_count(struct slack_peer *p);
const struct slack_req *slack_peer_get(struct slack_peer *p, size_t i);
/* Waits until n requests were recorded; returns the count seen. */
size_t slack_peer_wait(struct slack_peer *p, size_t n, int timeout_ms);
/* Requests to path so far, and the nth of them (0-based) or NULL. */
size_t slack_peer_count_path(struct slack_peer *p, const char *path);
const struct slack_req *slack_peer_nth(struct slack_peer *p, const char *path, size_t nth);

/* The channel's top-level messages (webhook and Web API alike), oldest
 * first, and a copy of the i-th: {"ts", "text", "attachments", "edits":
 * times updated, "replies": [{"ts", "text"}, ...]}. */
size_t slack_peer_messages(struct slack_peer *p);
json_t *slack_peer_message(struct slack_peer *p, size_t i);
/* Deletes a message, as someone in the channel could. */
void slack_peer_delete(struct slack_peer *p, const char *ts);

size_t slack_peer_violations(struct slack_peer *p);
const char *slack_peer_violation(struct slack_peer *p, size_t i);

#endif
