/* smtp_peer.h: the email sink's strict SMTP peer, run from a C test: a
 * real SMTP server (tests/peers/smtp_peer.py, python3-aiosmtpd) on
 * 127.0.0.1 that may offer STARTTLS or TLS from the start, with a CA and a
 * server certificate made by the openssl CLI at test time, may require
 * AUTH, answers from a script, and parses every message with Python's
 * email package. Failures fail the Check test. */
#ifndef TOCSIN_TEST_SMTP_PEER_H
#define TOCSIN_TEST_SMTP_PEER_H

#include <jansson.h>
#include <stddef.h>

struct smtp_peer_opts {
    int starttls;          /* offer STARTTLS */
    int implicit_tls;      /* TLS from the first byte (smtps://) */
    int require_tls;       /* with starttls: refuse mail before STARTTLS */
    const char *user;      /* require AUTH with user and password */
    const char *password;
    const char *auth_mech; /* offer only "PLAIN" or only "LOGIN"; NULL: both */
};

struct smtp_peer;

/* 1 when /usr/bin/python3 can import aiosmtpd (else the test skips). */
int smtp_peer_available(void);
/* A new peer in dir (created; certificates made there when it speaks
 * TLS), listening once this returns. */
struct smtp_peer *smtp_peer_start(const char *dir, const struct smtp_peer_opts *o);
int smtp_peer_port(const struct smtp_peer *p);
/* The CA that signed the server's certificate (PEM), for ca_file. */
const char *smtp_peer_ca(const struct smtp_peer *p);
/* How the next messages are answered, in order: "450,250", "550",
 * "hang" (no answer); 250 once the script is used up. */
void smtp_peer_script(struct smtp_peer *p, const char *script);
/* Waits until n messages arrived; returns how many did. */
size_t smtp_peer_wait(struct smtp_peer *p, size_t n, int timeout_ms);
size_t smtp_peer_count(struct smtp_peer *p);
/* The i-th message (0-based) as the peer summed it up (owned by the peer):
 * answer, mail_from, rcpt_tos, tls, auth_user, auth_mech, headers [[name,
 * decoded value]...], raw, subject (decoded), message_id, in_reply_to,
 * references, date, parts [{content_type, charset, cte, text}], max_line,
 * violations. NULL when there is no such message. */
json_t *smtp_peer_get(struct smtp_peer *p, size_t i);
/* The decoded value of a message's first header field called name. */
const char *smtp_msg_header(json_t *msg, const char *name);
/* The decoded text of a message's part of this content type, or NULL. */
const char *smtp_msg_part(json_t *msg, const char *type);
/* Violations seen so far (every message's and the session's), each
 * printed to stderr. */
size_t smtp_peer_violations(struct smtp_peer *p);
/* SIGTERM, and wait for it. */
void smtp_peer_stop(struct smtp_peer *p);
void smtp_peer_free(struct smtp_peer *p);

#endif
