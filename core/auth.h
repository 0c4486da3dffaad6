/* auth.h: who may ask. API tokens with a role, and each input's own
 * credentials, checked against an Authorization header in constant time. */
#ifndef TC_AUTH_H
#define TC_AUTH_H

#include <stddef.h>

struct tc_config;
struct tc_auth;

/* What a route demands of its callers. */
enum tc_gate {
    TC_GATE_OPEN = 0, /* /healthz, /readyz: anyone */
    TC_GATE_API,      /* core API and plugins' API routes: a token, read for
                         GET/HEAD, write for anything else */
    TC_GATE_INPUT,    /* an input's intake: its own credentials */
    TC_GATE_SELF,     /* an input that checks each request itself (a
                         provider's signature): no credentials here */
};

/* The outcome of a check: allowed, or the status to answer. */
enum tc_auth_result {
    TC_AUTH_OK = 0,
    TC_AUTH_UNAUTHORIZED = 401, /* no credentials, or wrong ones */
    TC_AUTH_FORBIDDEN = 403,    /* a valid token whose role is too small */
};

/* Digests of every credential in the config (the config may be freed). */
struct tc_auth *tc_auth_new(const struct tc_config *cfg);
void tc_auth_free(struct tc_auth *a);

/* Whether daemon.auth is set: without it the API is open (loopback only). */
int tc_auth_enabled(const struct tc_auth *a);

/* Check authorization (the header's value, or NULL) for a request with
 * this method through this gate. input is the instance id for
 * TC_GATE_INPUT: its bearer_token or basic credentials when it has some,
 * else (with daemon.auth) a write token. who receives the name of the
 * token or user it matched ("" when open), for the log and as the
 * default actor. */
enum tc_auth_result tc_auth_check(const struct tc_auth *a, enum tc_gate gate,
                                  const char *input, const char *method,
                                  const char *authorization, char *who, size_t wholen);

/* The WWW-Authenticate challenge for a 401 through this gate. */
const char *tc_auth_challenge(const struct tc_auth *a, enum tc_gate gate, const char *input);

#endif
