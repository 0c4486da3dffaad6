/* peer.h: the fake HTTP(S) server of the integration tests. It listens on
 * 127.0.0.1 (an ephemeral port, kept across stop/start), answers from a
 * script, records every request and counts protocol violations. As is, it
 * is a webhook receiver; the provider peers (PagerDuty, Opsgenie, Slack,
 * Twilio, UptimeRobot, SNS) are built on it through the hooks at the end. */
#ifndef TOCSIN_TEST_PEER_H
#define TOCSIN_TEST_PEER_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

struct peer;

/* One recorded request. Owned by the peer; valid until peer_free(). */
struct peer_req {
    char method[16];
    char path[2048];
    json_t *headers;     /* {"lowercased-name": "value", ...} */
    char *body;          /* NUL-terminated */
    size_t body_len;
    json_t *json;        /* the parsed body, or NULL when it is not JSON */
    int64_t at_ms;       /* monotonic ms when the request was complete */
    int status;          /* what the peer answered */
    int completed;       /* 1 once the answer was queued (a delayed answer
                          * the client gave up on still counts as 1) */
    char raw_path[2048]; /* path as sent, percent escapes kept */
    json_t *query;       /* {"name": "value", ...} of the query string, decoded */
    void *ext;           /* a provider's own record of it (its answer hook's) */
};

/* A new peer, not yet listening. Returns NULL on failure. */
struct peer *peer_new(void);
/* Serve HTTPS with these PEM texts (copied) from the next start on.
 * Returns 0 or -1. */
int peer_set_tls(struct peer *p, const char *cert_pem, const char *key_pem);
/* Start listening. The first start picks an ephemeral port; later starts
 * reuse it. Returns 0 or -1. */
int peer_start(struct peer *p);
/* Stop listening (the port then refuses connections). */
void peer_stop(struct peer *p);
void peer_free(struct peer *p);
int peer_port(const struct peer *p);

/* Answers for the next requests, in order, separated by commas:
 *   "500,500,200"           statuses
 *   "429 ra=1"              with a Retry-After: 1 header
 *   "200 delay=3000"        answer after 3 s (to provoke a client timeout)
 *   "200 hang"              no answer until the peer stops (r->status 200)
 * Once the script is used up, every request gets the default answer
 * (200 unless peer_default says otherwise). Replaces any unused script. */
void peer_script(struct peer *p, const char *script);
void peer_default(struct peer *p, int status);
/* The body of every answer from now on (copied; NULL: back to "{}"). */
void peer_answer_body(struct peer *p, const char *body);

/* Requests recorded so far. */
size_t peer_count(struct peer *p);
/* The i-th request (0-based), or NULL. */
const struct peer_req *peer_get(struct peer *p, size_t i);
/* Wait until at least n requests were recorded; returns the count seen
 * (>= n on success, less on timeout). */
size_t peer_wait_requests(struct peer *p, size_t n, int timeout_ms);

/* Protocol violations seen (not a POST, wrong Content-Type, missing
 * Idempotency-Key, a body that is not a JSON object). peer_violation(p, i)
 * describes the i-th one. */
size_t peer_violations(struct peer *p);
const char *peer_violation(struct peer *p, size_t i);
/* When set, a missing Idempotency-Key is not a violation (the Alertmanager
 * format needs none). Default: required. */
void peer_require_idempotency_key(struct peer *p, int required);

int64_t peer_now_ms(void);

/* Provider peers. check replaces the webhook checks above: it is called
 * for every request once recorded, with the peer's lock held, and reports
 * with peer_violate() (only from there). reply, also under the lock, may
 * give the answer to r (of status) a body (malloc()ed; NULL: the default
 * one) and extra headers. Set both before the first request. */
struct peer_reply {
    char *body;
    const char *type;        /* Content-Type; NULL: application/json */
    int n_headers;
    char headers[4][2][128]; /* name, value */
};
typedef void (*peer_check_fn)(void *ctx, struct peer *p, const struct peer_req *r);
typedef void (*peer_reply_fn)(void *ctx, const struct peer_req *r, int status,
                              struct peer_reply *out);
void peer_set_provider(struct peer *p, peer_check_fn check, peer_reply_fn reply, void *ctx);
void peer_violate(struct peer *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Provider peers whose answer depends on the request and on what they keep
 * (a channel's messages, the SIDs they made up): answer replaces check and
 * reply. It is called under the lock as the request is recorded, with the
 * script's next item (or the default answer) in a; it checks r (reporting
 * with peer_violate()), may set r->ext, and settles a: the status (r->status
 * becomes it), Retry-After, the reply, and keep = 1 to leave the item to
 * the next request. Script words the peer does not know ("ok",
 * "error=NAME") reach it in a->words. Set it before the first request. */
struct peer_answer {
    int status;
    int retry_after; /* seconds, -1: none */
    int delay_ms;
    int hang;        /* no answer at all until the peer stops */
    char words[64];  /* the item's other words, space-separated, or "" */
    int keep;
    struct peer_reply reply;
};
typedef void (*peer_answer_fn)(void *ctx, struct peer *p, struct peer_req *r,
                               struct peer_answer *a);
/* free_ext (may be NULL) frees an r->ext when the peer is freed. */
void peer_set_answer(struct peer *p, peer_answer_fn answer, void (*free_ext)(void *),
                     void *ctx);
/* The i-th request's ext, or NULL. */
void *peer_ext(struct peer *p, size_t i);

/* A CLOCK_REALTIME time timeout_ms from now, for pthread_cond_timedwait. */
void peer_deadline(struct timespec *ts, int timeout_ms);

#endif
