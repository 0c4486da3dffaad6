/* envelope.c: SNS messages and their string to sign (see envelope.h). */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "envelope.h"

/* The keys signed, in this order, when present (Amazon SNS Developer
 * Guide, "Verifying the signatures of Amazon SNS messages"). */
static const char *const notification_keys[] = {
    "Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type", NULL,
};
static const char *const confirmation_keys[] = {
    "Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type", NULL,
};

/* root[key] as a string; NULL when absent (or null). -1 when it is there
 * but not a string. */
static int get_str(const json_t *root, const char *key, const char **out, char *err,
                   size_t errlen)
{
    const json_t *v = json_object_get(root, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return 0;
    if (!json_is_string(v)) {
        snprintf(err, errlen, "\"%s\" must be a string", key);
        return -1;
    }
    *out = json_string_value(v);
    return 0;
}

static int require(const char *v, const char *key, char *err, size_t errlen)
{
    if (v && *v)
        return 0;
    snprintf(err, errlen, "\"%s\" is required", key);
    return -1;
}

static int build_to_sign(struct sns_msg *m)
{
    const char *const *keys =
        m->type == SNS_NOTIFICATION ? notification_keys : confirmation_keys;
    const json_t *root = m->root;
    struct tc_text t = { 0 };
    size_t i;

    for (i = 0; keys[i]; i++) {
        const json_t *v = json_object_get(root, keys[i]);

        if (!v || !json_is_string(v))
            continue; /* absent (a Notification without Subject) */
        tc_text_put(&t, keys[i], strlen(keys[i]));
        tc_text_put(&t, "\n", 1);
        tc_text_put(&t, json_string_value(v), json_string_length(v));
        tc_text_put(&t, "\n", 1);
    }
    tc_text_put(&t, "", 1); /* NUL, not counted */
    if (t.failed) {
        free(t.s);
        return TOCSIN_ENOMEM;
    }
    m->to_sign = t.s;
    m->to_sign_len = t.len - 1;
    return 0;
}

int sns_parse(const char *body, size_t len, struct sns_msg *m)
{
    struct {
        const char *key;
        const char **field;
    } fields[] = {
        { "Type", &m->type_name },
        { "MessageId", &m->message_id },
        { "TopicArn", &m->topic_arn },
        { "Subject", &m->subject },
        { "Message", &m->message },
        { "Timestamp", &m->timestamp },
        { "SignatureVersion", &m->signature_version },
        { "Signature", &m->signature },
        { "SigningCertURL", &m->signing_cert_url },
        { "SubscribeURL", &m->subscribe_url },
        { "Token", &m->token },
        { "UnsubscribeURL", &m->unsubscribe_url },
    };
    static const char *const required[] = {
        "Type", "MessageId", "TopicArn", "Message", "Timestamp", "SignatureVersion",
        "Signature", "SigningCertURL",
    };
    json_error_t jerr;
    json_t *root;
    size_t i;

    memset(m, 0, sizeof *m);
    /* JSON strings with \u0000 are refused: a signed value is a C string. */
    root = json_loadb(body ? body : "", body ? len : 0, 0, &jerr);
    if (!root) {
        snprintf(m->error, sizeof m->error, "malformed JSON: line %d column %d: %.160s",
                 jerr.line, jerr.column, jerr.text);
        return TOCSIN_EINVAL;
    }
    m->root = root;
    if (!json_is_object(root)) {
        snprintf(m->error, sizeof m->error, "body must be an SNS message (a JSON object)");
        return TOCSIN_EINVAL;
    }
    for (i = 0; i < sizeof fields / sizeof fields[0]; i++)
        if (get_str(root, fields[i].key, fields[i].field, m->error, sizeof m->error) < 0)
            return TOCSIN_EINVAL;
    for (i = 0; i < sizeof required / sizeof required[0]; i++) {
        size_t k;

        for (k = 0; strcmp(fields[k].key, required[i]) != 0; k++)
            ;
        if (require(*fields[k].field, required[i], m->error, sizeof m->error) < 0)
            return TOCSIN_EINVAL;
    }
    if (strcmp(m->type_name, "Notification") == 0) {
        m->type = SNS_NOTIFICATION;
    } else if (strcmp(m->type_name, "SubscriptionConfirmation") == 0) {
        m->type = SNS_SUBSCRIPTION_CONFIRMATION;
    } else if (strcmp(m->type_name, "UnsubscribeConfirmation") == 0) {
        m->type = SNS_UNSUBSCRIBE_CONFIRMATION;
    } else {
        snprintf(m->error, sizeof m->error, "\"Type\" \"%.*s\" is not an SNS message type",
                 tc_utf8_clip(m->type_name, 40), m->type_name);
        return TOCSIN_EINVAL;
    }
    if (m->type != SNS_NOTIFICATION &&
        (require(m->subscribe_url, "SubscribeURL", m->error, sizeof m->error) < 0 ||
         require(m->token, "Token", m->error, sizeof m->error) < 0))
        return TOCSIN_EINVAL;
    if (strcmp(m->signature_version, "1") == 0) {
        m->version = 1;
    } else if (strcmp(m->signature_version, "2") == 0) {
        m->version = 2;
    } else {
        snprintf(m->error, sizeof m->error, "\"SignatureVersion\" must be \"1\" or \"2\"");
        return TOCSIN_EINVAL;
    }
    if (tc_time_parse(m->timestamp, &m->timestamp_ms) < 0) {
        snprintf(m->error, sizeof m->error, "\"Timestamp\" is not an ISO 8601 time");
        return TOCSIN_EINVAL;
    }
    return build_to_sign(m);
}

void sns_msg_free(struct sns_msg *m)
{
    json_decref(m->root);
    free(m->to_sign);
    memset(m, 0, sizeof *m);
}

size_t sns_https_origin_len(const char *url)
{
    size_t n;

    if (!url || strncasecmp(url, "https://", 8) != 0)
        return 0;
    n = strcspn(url + 8, "/?#");
    if (n == 0 || url[8 + n] != '/')
        return 0;
    return 8 + n + 1;
}

/* Field i (0-based) of a colon-separated ARN into buf. */
static void arn_field(const char *arn, int i, char *buf, size_t len)
{
    const char *p = arn;
    size_t n;

    if (len == 0)
        return;
    buf[0] = '\0';
    if (!arn || strncmp(arn, "arn:", 4) != 0)
        return;
    while (i-- > 0) {
        p = strchr(p, ':');
        if (!p)
            return;
        p++;
    }
    n = strcspn(p, ":");
    if (n >= len)
        return;
    memcpy(buf, p, n);
    buf[n] = '\0';
}

void sns_arn_parts(const char *arn, char *partition, size_t plen, char *region, size_t rlen,
                   char *account, size_t alen)
{
    arn_field(arn, 1, partition, plen);
    arn_field(arn, 3, region, rlen);
    arn_field(arn, 4, account, alen);
}
