/* sign.c: see sign.h. libcrypto (OpenSSL) for HMAC, SHA-256 and
 * CRYPTO_memcmp. */
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <string.h>

#include "sign.h"

int sn_signature(const char *secret, const char *body, size_t len, char hex[65])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char mac[EVP_MAX_MD_SIZE];
    unsigned int n = 0, i;

    if (!HMAC(EVP_sha256(), secret, (int)strlen(secret), (const unsigned char *)body, len, mac,
              &n) || n != 32)
        return -1;
    for (i = 0; i < n; i++) {
        hex[2 * i] = digits[mac[i] >> 4];
        hex[2 * i + 1] = digits[mac[i] & 15];
    }
    hex[64] = '\0';
    return 0;
}

int sn_signature_ok(const char *secret, const char *body, size_t len, const char *sig)
{
    char want[65], got[65];
    size_t i;

    if (!sig || strlen(sig) != 64 || sn_signature(secret, body, len, want) != 0)
        return 0;
    for (i = 0; i < 64; i++) /* hex is case-insensitive */
        got[i] = (char)(sig[i] >= 'A' && sig[i] <= 'F' ? sig[i] - 'A' + 'a' : sig[i]);
    got[64] = '\0';
    return CRYPTO_memcmp(want, got, 64) == 0;
}

int sn_token_ok(const char *expected, const char *given)
{
    unsigned char a[32], b[32];
    unsigned int n = 0;

    if (!expected || !*expected || !given)
        return 0;
    if (!EVP_Digest(expected, strlen(expected), a, &n, EVP_sha256(), NULL) || n != 32 ||
        !EVP_Digest(given, strlen(given), b, &n, EVP_sha256(), NULL) || n != 32)
        return 0;
    return CRYPTO_memcmp(a, b, 32) == 0;
}
