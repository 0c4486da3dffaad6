/* message.h: the alert email (RFC 5322 + MIME): its subject, the
 * Message-IDs that thread an incident's mails, and the
 * multipart/alternative body, a text part and an HTML part. Pure: no I/O. */
#ifndef TC_EMAIL_MESSAGE_H
#define TC_EMAIL_MESSAGE_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "mime.h"

/* Bytes of the summary a subject keeps ("…" included). RFC 5322 sets no
 * limit (folding), but a subject is read in one glance in a list. */
#define EMAIL_SUMMARY_MAX 200
/* The longest Message-ID this sink writes or refers to, brackets included. */
#define EMAIL_ID_MAX 256

/* What the instance fixes for every message. */
struct email_msg {
    const struct em_addr *from;
    const struct em_addr *to;
    size_t n_to;
    const struct em_addr *cc;
    size_t n_cc;
    /* Random hex kept in the instance's state: two tocsinds (or a store
     * started afresh) never write the same Message-ID for their own
     * incident 42. */
    const char *salt;
    /* Random hex of this process: test notifications (incident 0) of two
     * `tocsind --test-sink` runs never share a Message-ID. */
    const char *run;
    const char *subject_prefix;     /* one line, or NULL */
    const char *tags[5];            /* subject tag by severity: "CRITICAL" ... */
};

/* 1 when s is a Message-ID this sink can refer to: <left@right>,
 * printable ASCII without spaces or more brackets, at most EMAIL_ID_MAX. */
int email_is_msgid(const char *s);
/* The trigger mail's Message-ID as derived from the incident, without a
 * remembered one: <tocsin.ID.FP.SALT@DOMAIN>, FP the FNV-1a 32 of the
 * dedup key, DOMAIN the From address's (tests: tocsin.test-RUN.SALT). */
void email_trigger_id(const struct email_msg *m, const struct tocsin_notification *n,
                      char *buf, size_t size);
/* What acknowledge and resolve mails refer to (In-Reply-To, References):
 * n->ref when it is a Message-ID (kept by host->remember at the trigger),
 * else email_trigger_id(). */
void email_thread_id(const struct email_msg *m, const struct tocsin_notification *n,
                     char *buf, size_t size);
/* This notification's own Message-ID, the same on every attempt (a retry
 * is one message to a reader's mailbox): the trigger's is
 * email_trigger_id(); the others <tocsin.ID.FP.ACTION.OUTBOX.SALT@DOMAIN>. */
void email_message_id(const struct email_msg *m, const struct tocsin_notification *n,
                      char *buf, size_t size);
/* The subject as a reader sees it: "[prefix] [TEST] Resolved: [CRITICAL]
 * summary", the summary on one line and cut to EMAIL_SUMMARY_MAX bytes.
 * malloc()ed, NULL without memory. */
char *email_subject(const struct email_msg *m, const struct tocsin_notification *n);
/* The whole message, dated now_ms: header fields folded within 78
 * characters, CRLF line ends, 7-bit (quoted-printable parts, encoded
 * words). malloc()ed with its length in *len; NULL without memory. */
char *email_compose(const struct email_msg *m, const struct tocsin_notification *n,
                    int64_t now_ms, size_t *len);

#endif
