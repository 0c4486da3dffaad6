/* verify.c: SNS signatures (see verify.h). Like AWS's own validators, no
 * chain is checked: trust rests on where the certificate came from (the
 * cert_url_allow rule over HTTPS) and on the signature. */
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "verify.h"

void *sns_key_from_pem(const char *pem, size_t len, char *err, size_t errlen)
{
    BIO *bio = len <= (size_t)0x7fffffff ? BIO_new_mem_buf(pem, (int)len) : NULL;
    X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
    EVP_PKEY *key = x ? X509_get_pubkey(x) : NULL;

    BIO_free(bio);
    X509_free(x);
    ERR_clear_error();
    if (!key) {
        snprintf(err, errlen, "not a PEM certificate");
        return NULL;
    }
    if (EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        snprintf(err, errlen, "the certificate's key is not RSA");
        EVP_PKEY_free(key);
        return NULL;
    }
    return key;
}

void sns_key_free(void *key)
{
    EVP_PKEY_free(key);
}

/* Base64 (with or without line breaks) to bytes; -1 when it is not. */
static int base64_decode(const char *s, unsigned char **out, int *outlen)
{
    size_t len = strlen(s);
    EVP_ENCODE_CTX *ctx;
    unsigned char *buf;
    int n = 0, fin = 0;

    if (len == 0 || len > 64 * 1024)
        return -1;
    buf = malloc(len / 4 * 3 + 4);
    ctx = EVP_ENCODE_CTX_new();
    if (!buf || !ctx) {
        free(buf);
        EVP_ENCODE_CTX_free(ctx);
        return -1;
    }
    EVP_DecodeInit(ctx);
    if (EVP_DecodeUpdate(ctx, buf, &n, (const unsigned char *)s, (int)len) < 0 ||
        EVP_DecodeFinal(ctx, buf + n, &fin) < 0) {
        free(buf);
        EVP_ENCODE_CTX_free(ctx);
        return -1;
    }
    EVP_ENCODE_CTX_free(ctx);
    *out = buf;
    *outlen = n + fin;
    return 0;
}

int sns_verify(void *key, const struct sns_msg *m)
{
    const EVP_MD *md = m->version == 1 ? EVP_sha1() : m->version == 2 ? EVP_sha256() : NULL;
    EVP_MD_CTX *ctx;
    unsigned char *sig = NULL;
    int siglen = 0, ok = 0;

    if (!key || !md || !m->signature || !m->to_sign ||
        base64_decode(m->signature, &sig, &siglen) < 0)
        return 0;
    ctx = EVP_MD_CTX_new();
    if (ctx && EVP_DigestVerifyInit(ctx, NULL, md, NULL, key) == 1)
        ok = EVP_DigestVerify(ctx, sig, (size_t)siglen, (const unsigned char *)m->to_sign,
                              m->to_sign_len) == 1;
    EVP_MD_CTX_free(ctx);
    free(sig);
    ERR_clear_error();
    return ok;
}
