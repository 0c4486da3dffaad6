/* envelope.h: the SNS HTTP(S) message (Notification, SubscriptionConfirmation,
 * UnsubscribeConfirmation) parsed and its string to sign built, as AWS
 * documents it. Pure: no I/O, no clock, no crypto (verify.c checks it). */
#ifndef TC_SNS_ENVELOPE_H
#define TC_SNS_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

enum sns_type {
    SNS_NOTIFICATION = 1,
    SNS_SUBSCRIPTION_CONFIRMATION,
    SNS_UNSUBSCRIBE_CONFIRMATION,
};

struct sns_msg {
    enum sns_type type;
    /* The JSON-decoded values; NULL when absent. Borrow from root. */
    const char *type_name, *message_id, *topic_arn, *subject, *message, *timestamp,
        *signature_version, *signature, *signing_cert_url, *subscribe_url, *token,
        *unsubscribe_url;
    int version;          /* SignatureVersion: 1 (SHA1withRSA) or 2 (SHA256withRSA) */
    int64_t timestamp_ms; /* Timestamp */
    /* "Key\nValue\n" for the signed keys of the type, in AWS's order. */
    char *to_sign;
    size_t to_sign_len;
    /* Why sns_parse refused the body (a 400), naming the field. */
    char error[256];
    void *root;           /* private: the parsed json_t */
};

/* Parses an SNS message body. Returns 0, TOCSIN_EINVAL (error set) or
 * TOCSIN_ENOMEM. Always release with sns_msg_free(). */
int sns_parse(const char *body, size_t len, struct sns_msg *m);
void sns_msg_free(struct sns_msg *m);

/* The "scheme://host[:port]/" of an https:// URL, as a length of url;
 * 0 when url is not https:// with a host. The SubscribeURL must share it
 * with the (allowed) SigningCertURL. */
size_t sns_https_origin_len(const char *url);

/* The region and account of an ARN ("arn:aws:sns:us-east-1:1234:topic"),
 * copied into the buffers ("" when the ARN has none). */
void sns_arn_parts(const char *arn, char *partition, size_t plen, char *region, size_t rlen,
                   char *account, size_t alen);

#endif
