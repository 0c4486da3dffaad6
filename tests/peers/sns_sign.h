/* sns_sign.h: SNS messages signed the way Amazon SNS signs them, for the
 * cloudwatch input's tests. The string to sign is written here again from
 * AWS's documentation, not taken from the plugin, so a mistake in the
 * plugin's key order fails the tests. */
#ifndef TOCSIN_TEST_SNS_SIGN_H
#define TOCSIN_TEST_SNS_SIGN_H

#include <stddef.h>

struct sns_fields {
    const char *type;          /* "Notification", "SubscriptionConfirmation", ... */
    const char *message_id, *topic_arn, *subject, *message, *timestamp;
    const char *subscribe_url, *token, *cert_url, *unsubscribe_url;
    int version;               /* SignatureVersion 1 (SHA-1) or 2 (SHA-256) */
};

/* "Key\nValue\n" over the keys AWS signs for f->type (malloc()ed). */
char *sns_string_to_sign(const struct sns_fields *f);
/* base64 of key's signature of that string (malloc()ed). key: EVP_PKEY *. */
char *sns_signature(const struct sns_fields *f, void *key);
/* The JSON body SNS posts, with `signature` as Signature (malloc()ed). */
char *sns_body(const struct sns_fields *f, const char *signature);
/* Both: a correctly signed body. */
char *sns_signed_body(const struct sns_fields *f, void *key);

/* A fresh RSA key (EVP_PKEY *) and a self-signed certificate of it as PEM
 * (malloc()ed in *cert_pem). */
void *sns_test_key(char **cert_pem);
/* The private key in a PEM file (EVP_PKEY *), or NULL. */
void *sns_key_load(const char *path);
void sns_key_release(void *key);

/* "2026-11-23T03:12:45.500Z" for ms since the epoch (buf >= 32). */
char *sns_timestamp(long long ms, char *buf, size_t len);

#endif
