/* sns_sign.c: see sns_sign.h. */
#define _GNU_SOURCE
#include <check.h>
#include <jansson.h>
#include <openssl/bn.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sns_sign.h"

static void put(char **s, size_t *len, const char *key, const char *value)
{
    size_t add;

    if (!value)
        return;
    add = strlen(key) + strlen(value) + 2;
    *s = realloc(*s, *len + add + 1);
    ck_assert_ptr_nonnull(*s);
    snprintf(*s + *len, add + 1, "%s\n%s\n", key, value);
    *len += add;
}

char *sns_string_to_sign(const struct sns_fields *f)
{
    char *s = NULL;
    size_t len = 0;

    /* Amazon SNS Developer Guide, "Verifying the signatures of Amazon SNS
     * messages": these keys, in this (byte) order, when present. */
    put(&s, &len, "Message", f->message);
    put(&s, &len, "MessageId", f->message_id);
    if (strcmp(f->type, "Notification") == 0) {
        put(&s, &len, "Subject", f->subject);
    } else {
        put(&s, &len, "SubscribeURL", f->subscribe_url);
    }
    put(&s, &len, "Timestamp", f->timestamp);
    if (strcmp(f->type, "Notification") != 0)
        put(&s, &len, "Token", f->token);
    put(&s, &len, "TopicArn", f->topic_arn);
    put(&s, &len, "Type", f->type);
    return s ? s : strdup("");
}

char *sns_signature(const struct sns_fields *f, void *key)
{
    char *tbs = sns_string_to_sign(f);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char sig[1024];
    size_t siglen = sizeof sig;
    char *b64;

    ck_assert_ptr_nonnull(ctx);
    ck_assert_int_eq(EVP_DigestSignInit(ctx, NULL, f->version == 1 ? EVP_sha1() : EVP_sha256(),
                                        NULL, key), 1);
    ck_assert_int_eq(EVP_DigestSign(ctx, sig, &siglen, (unsigned char *)tbs, strlen(tbs)), 1);
    EVP_MD_CTX_free(ctx);
    free(tbs);
    b64 = malloc(siglen * 4 / 3 + 8);
    ck_assert_ptr_nonnull(b64);
    EVP_EncodeBlock((unsigned char *)b64, sig, (int)siglen);
    return b64;
}

char *sns_body(const struct sns_fields *f, const char *signature)
{
    json_t *o = json_object();
    char version[4];
    char *s;

    snprintf(version, sizeof version, "%d", f->version);
    json_object_set_new(o, "Type", json_string(f->type));
    json_object_set_new(o, "MessageId", json_string(f->message_id));
    if (f->token)
        json_object_set_new(o, "Token", json_string(f->token));
    json_object_set_new(o, "TopicArn", json_string(f->topic_arn));
    if (f->subject)
        json_object_set_new(o, "Subject", json_string(f->subject));
    json_object_set_new(o, "Message", json_string(f->message));
    if (f->subscribe_url)
        json_object_set_new(o, "SubscribeURL", json_string(f->subscribe_url));
    json_object_set_new(o, "Timestamp", json_string(f->timestamp));
    json_object_set_new(o, "SignatureVersion", json_string(version));
    json_object_set_new(o, "Signature", json_string(signature));
    json_object_set_new(o, "SigningCertURL", json_string(f->cert_url));
    if (f->unsubscribe_url)
        json_object_set_new(o, "UnsubscribeURL", json_string(f->unsubscribe_url));
    /* SNS pretty-prints, and escapes "/" in URLs: the signed values are
     * the decoded strings, not the JSON text. */
    s = json_dumps(o, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_ESCAPE_SLASH);
    json_decref(o);
    ck_assert_ptr_nonnull(s);
    return s;
}

char *sns_signed_body(const struct sns_fields *f, void *key)
{
    char *sig = sns_signature(f, key);
    char *body = sns_body(f, sig);

    free(sig);
    return body;
}

void *sns_test_key(char **cert_pem)
{
    EVP_PKEY *key = EVP_RSA_gen(2048);
    X509 *x = X509_new();
    BIO *bio = BIO_new(BIO_s_mem());
    char *data;
    long n;

    ck_assert_ptr_nonnull(key);
    ck_assert_ptr_nonnull(x);
    X509_set_version(x, 2);
    ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
    X509_gmtime_adj(X509_getm_notBefore(x), 0);
    X509_gmtime_adj(X509_getm_notAfter(x), 86400);
    X509_set_pubkey(x, key);
    X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                               (const unsigned char *)"sns.test", -1, -1, 0);
    X509_set_issuer_name(x, X509_get_subject_name(x));
    ck_assert_int_gt(X509_sign(x, key, EVP_sha256()), 0);
    ck_assert_int_eq(PEM_write_bio_X509(bio, x), 1);
    n = BIO_get_mem_data(bio, &data);
    *cert_pem = strndup(data, (size_t)n);
    BIO_free(bio);
    X509_free(x);
    return key;
}

void *sns_key_load(const char *path)
{
    FILE *f = fopen(path, "r");
    EVP_PKEY *key;

    if (!f)
        return NULL;
    key = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return key;
}

void sns_key_release(void *key)
{
    EVP_PKEY_free(key);
}

char *sns_timestamp(long long ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    gmtime_r(&t, &tm);
    snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
             tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
    return buf;
}
