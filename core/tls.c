/* tls.c: loading the listener's PEM certificate and key. */
#define _GNU_SOURCE
#include <errno.h>
#include <microhttpd.h>
#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

#define TLS_FILE_MAX (1024 * 1024)

static char *slurp(const char *path, const char *what, char *err, size_t errlen)
{
    FILE *f = fopen(path, "re");
    char *buf;
    size_t n;

    if (!f) {
        snprintf(err, errlen, "daemon.%s %s: %s", what, path, strerror(errno));
        return NULL;
    }
    buf = malloc(TLS_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        snprintf(err, errlen, "daemon.%s %s: out of memory", what, path);
        return NULL;
    }
    n = fread(buf, 1, TLS_FILE_MAX + 1, f);
    fclose(f);
    if (n > TLS_FILE_MAX) {
        OPENSSL_cleanse(buf, TLS_FILE_MAX + 1);
        free(buf);
        snprintf(err, errlen, "daemon.%s %s: larger than 1 MiB, not a PEM file", what, path);
        return NULL;
    }
    buf[n] = '\0';
    return buf;
}

/* Never prompt for a passphrase on the daemon's terminal. */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
    return -1;
}

int tc_tls_load(const char *cert_path, const char *key_path, char **cert, char **key,
                char *err, size_t errlen)
{
    BIO *bio;
    X509 *x = NULL;
    EVP_PKEY *pk = NULL;
    int ok = 0;

    *cert = *key = NULL;
    if (!(*cert = slurp(cert_path, "tls_cert", err, errlen)) ||
        !(*key = slurp(key_path, "tls_key", err, errlen)))
        goto out;
    bio = BIO_new_mem_buf(*cert, -1);
    x = bio ? PEM_read_bio_X509(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (!x) {
        snprintf(err, errlen, "daemon.tls_cert %s: no PEM certificate in it", cert_path);
        goto out;
    }
    bio = BIO_new_mem_buf(*key, -1);
    pk = bio ? PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL) : NULL;
    BIO_free(bio);
    if (!pk) {
        snprintf(err, errlen, "daemon.tls_key %s: no unencrypted PEM private key in it",
                 key_path);
        goto out;
    }
    if (X509_check_private_key(x, pk) != 1) {
        snprintf(err, errlen, "daemon.tls_key %s is not the key of daemon.tls_cert %s",
                 key_path, cert_path);
        goto out;
    }
    ok = 1;
out:
    ERR_clear_error();
    X509_free(x);
    EVP_PKEY_free(pk);
    if (!ok) {
        free(*cert);
        tc_tls_free_key(*key);
        *cert = *key = NULL;
        return -1;
    }
    return 0;
}

void tc_tls_free_key(char *key)
{
    if (key) {
        OPENSSL_cleanse(key, strlen(key));
        free(key);
    }
}

int tc_tls_available(void)
{
    return MHD_is_feature_supported(MHD_FEATURE_TLS) == MHD_YES;
}
