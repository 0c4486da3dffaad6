/* tls.h: the listener's certificate and key, read and checked before
 * libmicrohttpd sees them, so a wrong file is named at start-up and by
 * --check-config rather than failing as "cannot start the HTTP server". */
#ifndef TC_TLS_H
#define TC_TLS_H

#include <stddef.h>

/* Read cert_path (PEM chain) and key_path (PEM, unencrypted) and check
 * that the key belongs to the first certificate. 0 with *cert and *key
 * malloc()ed PEM text (free them; the key is wiped by tc_tls_free_key),
 * or -1 with err naming the file and the problem. */
int tc_tls_load(const char *cert_path, const char *key_path, char **cert, char **key,
                char *err, size_t errlen);
void tc_tls_free_key(char *key);

/* Whether libmicrohttpd was built with TLS. */
int tc_tls_available(void);

#endif
