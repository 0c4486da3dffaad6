/* sns_peer.h: a fake Amazon SNS endpoint over HTTPS on 127.0.0.1 for the
 * cloudwatch input's integration tests. It serves the signing certificate
 * at /SimpleNotificationService-<hex>.pem and takes subscription
 * confirmations (GET /?Action=ConfirmSubscription&...&Token=...), counting
 * both. */
#ifndef TOCSIN_TEST_SNS_PEER_H
#define TOCSIN_TEST_SNS_PEER_H

struct sns_peer;

/* TLS with the PEM files tls_cert/tls_key; serves the PEM file signing_cert.
 * An ephemeral port. NULL on failure (printed). */
struct sns_peer *sns_peer_start(const char *tls_cert, const char *tls_key,
                                const char *signing_cert);
void sns_peer_free(struct sns_peer *p);
int sns_peer_port(const struct sns_peer *p);
/* GETs of the certificate, and of ConfirmSubscription, so far. */
int sns_peer_cert_gets(struct sns_peer *p);
int sns_peer_confirms(struct sns_peer *p);
/* The Token of the last confirmation ("" before any). */
void sns_peer_last_token(struct sns_peer *p, char *buf, unsigned len);

#endif
