/* twilio_peer.h: a strict fake of Twilio's REST API (Messages.json and
 * Calls.json of one account) for the twilio sink's integration tests. It
 * listens on 127.0.0.1 (an ephemeral port), checks every request as
 * Twilio would (method, path, basic auth, content type, the form's
 * encoding, fields, numbers, lengths, well-formed TwiML), records what it
 * got, counts each departure as a violation, and answers from a script
 * with Twilio's own statuses and bodies. A provider on a test peer
 * (peer.h), whose server, script grammar and records it uses. */
#ifndef TOCSIN_TEST_TWILIO_PEER_H
#define TOCSIN_TEST_TWILIO_PEER_H

#include <stddef.h>
#include <stdint.h>

struct twilio_peer;

/* One recorded request. Owned by the peer; valid until twilio_peer_free(). */
struct twilio_req {
    char method[16];
    char path[256];
    char kind[8];       /* "sms", "call", or "" for any other path */
    char *to, *from;    /* decoded form fields, NULL when absent */
    char *body;         /* Messages: Body */
    char *twiml;        /* Calls: Twiml */
    char *say;          /* the text of the TwiML's <Say>, entities decoded */
    int64_t at_ms;      /* monotonic ms when the request was complete */
    int status;         /* what the peer answered; 0 while it hangs */
    char sid[40];       /* the SID of the created message or call (201) */
};

/* A peer for this account, not yet listening; NULL on failure. */
struct twilio_peer *twilio_peer_new(const char *account_sid, const char *auth_token);
/* Listen (the first start picks an ephemeral port, later ones reuse it). */
int twilio_peer_start(struct twilio_peer *p);
/* Stop listening; hung requests are let go without an answer. */
void twilio_peer_stop(struct twilio_peer *p);
void twilio_peer_free(struct twilio_peer *p);
int twilio_peer_port(const struct twilio_peer *p);

/* Answers for the next well-formed requests, in order, comma-separated:
 *   "201"        the created Message or Call resource
 *   "400"        Twilio's 21211 error body (the 'To' number is not valid)
 *   "429 ra=1"   20429 Too Many Requests, with Retry-After: 1
 *   "500"        20500 Internal Server Error
 *   "hang"       no answer until the peer stops (the client times out)
 * then 201 for everything. A request that breaks a rule is answered as
 * Twilio would (401 20003, 404 20404, 400 with the code of the rule) and
 * does not use up the script. */
void twilio_peer_script(struct twilio_peer *p, const char *script);

size_t twilio_peer_count(struct twilio_peer *p);
const struct twilio_req *twilio_peer_get(struct twilio_peer *p, size_t i);
/* Waits until at least n requests were recorded; returns the count seen. */
size_t twilio_peer_wait(struct twilio_peer *p, size_t n, int timeout_ms);

size_t twilio_peer_violations(struct twilio_peer *p);
const char *twilio_peer_violation(struct twilio_peer *p, size_t i);

/* Exposed for the peer's own checks in tests: NULL when s is well-formed
 * TwiML (a <Response> of <Say> and <Pause>), else what is wrong. *say
 * gets the spoken text (malloc()ed) when say is not NULL. */
const char *twilio_twiml_check(const char *s, char **say);

#endif
