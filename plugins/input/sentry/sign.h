/* sign.h: how Sentry requests authenticate: the HMAC signature of the
 * integration platform and the legacy plugin's token, both compared in
 * constant time. */
#ifndef TC_SENTRY_SIGN_H
#define TC_SENTRY_SIGN_H

#include <stddef.h>

/* 1 when sig (the Sentry-Hook-Signature header) is the lowercase or
 * uppercase hex HMAC-SHA256 of exactly body[0..len) keyed with secret. */
int sn_signature_ok(const char *secret, const char *body, size_t len, const char *sig);

/* The lowercase hex HMAC-SHA256 of body with secret into hex (65 bytes):
 * what Sentry sends. 0, or -1 when libcrypto failed. */
int sn_signature(const char *secret, const char *body, size_t len, char hex[65]);

/* 1 when given equals expected; the time taken does not depend on where
 * they differ (both are hashed first, so not on their lengths either). */
int sn_token_ok(const char *expected, const char *given);

#endif
