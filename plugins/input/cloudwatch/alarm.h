/* alarm.h: the `Message` of an SNS Notification to a tocsin alert: a
 * CloudWatch alarm (metric, metric math or composite) or, for anything
 * else, a generic alert named by the Subject. Pure: no I/O, no clock. */
#ifndef TC_CW_ALARM_H
#define TC_CW_ALARM_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

/* What INSUFFICIENT_DATA means (option insufficient_data). */
enum cw_insufficient { CW_INSUF_IGNORE = 0, CW_INSUF_FIRING, CW_INSUF_RESOLVE };

struct cw_opts {
    enum cw_insufficient insufficient;
    enum tocsin_severity sev_alarm;        /* severity.alarm */
    enum tocsin_severity sev_insufficient; /* severity.insufficient_data */
    enum tocsin_severity sev_notification; /* severity.notification */
};

enum cw_kind {
    CW_ALARM = 1,   /* a CloudWatch alarm state change: alert filled */
    CW_GENERIC,     /* another message: a firing alert from Subject/Message */
    CW_IGNORED,     /* nothing to store; `why` says what (a debug log) */
};

#define CW_MAX_LABELS 48

struct cw_result {
    enum cw_kind kind;
    struct tocsin_alert alert;
    const char *why;          /* CW_IGNORED: "INSUFFICIENT_DATA ignored", ... */
    int64_t changed_at;       /* CW_ALARM: StateChangeTime, 0 when unknown */
    /* Private: what alert points into. */
    struct tocsin_kv labels[CW_MAX_LABELS];
    struct tocsin_kv annotations[2], links[2];
    char **owned;
    size_t n_owned, cap_owned;
    void *root;
};

/* message, subject (may be NULL), topic_arn and message_id as in the SNS
 * envelope. Returns 0 or TOCSIN_ENOMEM; release with cw_result_free(). */
int cw_parse(const char *message, const char *subject, const char *topic_arn,
             const char *message_id, const struct cw_opts *o, struct cw_result *out);
void cw_result_free(struct cw_result *r);

/* "2026-11-23T03:12:45.123+0000" (CloudWatch's StateChangeTime) or RFC
 * 3339 to ms since the epoch; -1 when it is neither. */
int cw_time_parse(const char *s, int64_t *ms);

#endif
