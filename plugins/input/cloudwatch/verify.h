/* verify.h: SNS signatures with libcrypto: the signing certificate's key
 * and the check of a message's Signature over its string to sign. */
#ifndef TC_SNS_VERIFY_H
#define TC_SNS_VERIFY_H

#include <stddef.h>

#include "envelope.h"

/* The RSA public key of a PEM certificate (an EVP_PKEY *), or NULL with
 * err saying why. Release with sns_key_free(). */
void *sns_key_from_pem(const char *pem, size_t len, char *err, size_t errlen);
void sns_key_free(void *key);

/* 1 when m->Signature (base64) is key's PKCS#1 v1.5 signature of
 * m->to_sign with SHA-1 (version 1) or SHA-256 (version 2); 0 otherwise. */
int sns_verify(void *key, const struct sns_msg *m);

#endif
