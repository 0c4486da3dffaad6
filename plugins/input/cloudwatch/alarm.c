/* alarm.c: CloudWatch alarms (and other messages) in SNS Notifications to
 * alerts (see alarm.h). The Message is signed by AWS, so nothing in it
 * earns a 400: SNS counts a 4xx as delivered anyway. What does not look
 * like an alarm is stored as a generic alert rather than dropped. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alarm.h"
#include "common.h"
#include "envelope.h"

#define SUMMARY_MAX 240
#define DETAILS_MAX (16 * 1024)

/* Keeps a malloc()ed string until cw_result_free; NULL when out of memory
 * (s is then freed). */
static char *own(struct cw_result *r, char *s)
{
    if (!s)
        return NULL;
    if (r->n_owned == r->cap_owned) {
        size_t cap = r->cap_owned ? r->cap_owned * 2 : 16;
        char **grown = realloc(r->owned, cap * sizeof *grown);

        if (!grown) {
            free(s);
            return NULL;
        }
        r->owned = grown;
        r->cap_owned = cap;
    }
    r->owned[r->n_owned++] = s;
    return s;
}

TOCSIN_PRINTF(2, 3)
static char *ownf(struct cw_result *r, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    return n < 0 ? NULL : own(r, s);
}

static void label(struct cw_result *r, const char *key, const char *value)
{
    size_t i;

    if (!key || !*key || !value || !*value)
        return;
    for (i = 0; i < r->alert.n_labels; i++)
        if (strcmp(r->labels[i].key, key) == 0)
            return; /* the first one wins */
    if (r->alert.n_labels < CW_MAX_LABELS) {
        r->labels[r->alert.n_labels].key = key;
        r->labels[r->alert.n_labels].value = value;
        r->alert.n_labels++;
    }
}

static const char *str(const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* A number (or a numeric string) as text: 90.0 -> "90", 0.5 -> "0.5". */
static const char *num(struct cw_result *r, const json_t *o, const char *key)
{
    const json_t *v = json_object_get(o, key);

    if (json_is_integer(v))
        return ownf(r, "%lld", (long long)json_integer_value(v));
    if (json_is_real(v))
        return ownf(r, "%.15g", json_real_value(v));
    return str(o, key);
}

/* text (a full append; clipped at max bytes on a UTF-8 boundary) */
static void put(struct tc_text *t, const char *s)
{
    if (s)
        tc_text_put(t, s, strlen(s));
}

TOCSIN_PRINTF(2, 3)
static void putf(struct tc_text *t, const char *fmt, ...)
{
    va_list ap;
    char *s;
    int n;

    va_start(ap, fmt);
    n = vasprintf(&s, fmt, ap);
    va_end(ap);
    if (n < 0) {
        t->failed = 1;
        return;
    }
    tc_text_put(t, s, (size_t)n);
    free(s);
}

/* Dimensions [{"name": .., "value": ..}] as "InstanceId=i-1, ..." and as
 * dim_<name> labels. */
static void dimensions(struct cw_result *r, const json_t *dims, struct tc_text *t)
{
    size_t i, shown = 0;
    const json_t *d;

    if (!json_is_array(dims))
        return;
    json_array_foreach(dims, i, d) {
        /* CloudWatch writes name/value; the API's MetricStat uses Name/Value. */
        const char *n = str(d, "name") ? str(d, "name") : str(d, "Name");
        const char *v = str(d, "value") ? str(d, "value") : str(d, "Value");

        if (!n || !v)
            continue;
        put(t, shown++ ? ", " : " (");
        putf(t, "%s=%s", n, v);
        label(r, ownf(r, "dim_%s", n), v);
    }
    if (shown)
        put(t, ")");
}

/* Trigger of a single-metric alarm. */
static void metric_trigger(struct cw_result *r, const json_t *tr, struct tc_text *t)
{
    const char *ns = str(tr, "Namespace"), *metric = str(tr, "MetricName");
    const char *stat = str(tr, "Statistic") ? str(tr, "Statistic") : str(tr, "ExtendedStatistic");

    label(r, "alarm_type", "metric");
    label(r, "namespace", ns);
    label(r, "metric", metric);
    label(r, "statistic", stat);
    putf(t, "Metric: %s %s", ns ? ns : "?", metric);
    dimensions(r, json_object_get(tr, "Dimensions"), t);
    if (stat)
        putf(t, ", %s", stat);
    if (num(r, tr, "Period"))
        putf(t, " over %s s", num(r, tr, "Period"));
    put(t, "\n");
}

/* Trigger.Metrics of a metric-math alarm: one line per query. */
static void math_trigger(struct cw_result *r, const json_t *metrics, struct tc_text *t)
{
    size_t i;
    const json_t *m;

    label(r, "alarm_type", "metric_math");
    put(t, "Metrics:\n");
    json_array_foreach(metrics, i, m) {
        const json_t *ms = json_object_get(m, "MetricStat");
        const json_t *me = json_object_get(ms, "Metric");
        const json_t *rd = json_object_get(m, "ReturnData");

        putf(t, "  %s: ", str(m, "Id") ? str(m, "Id") : "?");
        if (str(m, "Expression"))
            putf(t, "= %s", str(m, "Expression"));
        else if (json_is_object(me)) {
            label(r, "namespace", str(me, "Namespace"));
            putf(t, "%s %s", str(me, "Namespace") ? str(me, "Namespace") : "?",
                 str(me, "MetricName") ? str(me, "MetricName") : "?");
            dimensions(r, json_object_get(me, "Dimensions"), t);
            if (str(ms, "Stat"))
                putf(t, ", %s", str(ms, "Stat"));
            if (num(r, ms, "Period"))
                putf(t, " over %s s", num(r, ms, "Period"));
        }
        if (str(m, "Label"))
            putf(t, " \"%s\"", str(m, "Label"));
        if (json_is_true(rd))
            put(t, " (alarmed on)");
        put(t, "\n");
    }
}

/* AlarmRule and TriggeringChildren of a composite alarm. */
static void composite(struct cw_result *r, const json_t *msg, struct tc_text *t)
{
    const json_t *kids = json_object_get(msg, "TriggeringChildren"), *k;
    size_t i;

    label(r, "alarm_type", "composite");
    putf(t, "Rule: %s\n", str(msg, "AlarmRule"));
    json_array_foreach(kids, i, k) {
        const json_t *state = json_object_get(k, "State");

        putf(t, "Triggered by: %s", str(k, "Arn") ? str(k, "Arn") : "?");
        if (str(state, "Value"))
            putf(t, " (%s", str(state, "Value"));
        if (str(state, "Value") && str(state, "Timestamp"))
            putf(t, " at %s", str(state, "Timestamp"));
        if (str(state, "Value"))
            put(t, ")");
        put(t, "\n");
    }
}

/* The alarm's page in the console of its partition. */
static const char *console_link(struct cw_result *r, const char *partition, const char *region,
                                const char *name)
{
    const char *host = strcmp(partition, "aws-cn") == 0       ? "console.amazonaws.cn"
                       : strcmp(partition, "aws-us-gov") == 0 ? "console.amazonaws-us-gov.com"
                                                              : "console.aws.amazon.com";
    struct tc_text t = { 0 };
    const unsigned char *p;

    putf(&t, "https://%s/cloudwatch/home?region=%s#alarmsV2:alarm/", host, region);
    for (p = (const unsigned char *)name; *p; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
            *p == '-' || *p == '_' || *p == '.' || *p == '~')
            tc_text_put(&t, (const char *)p, 1);
        else
            putf(&t, "%%%02X", *p);
    }
    tc_text_put(&t, "", 1);
    if (t.failed) {
        free(t.s);
        return NULL;
    }
    return own(r, t.s);
}

/* Text clipped to max bytes on a UTF-8 boundary, owned by r. */
static const char *clip(struct cw_result *r, const char *s, int max)
{
    return ownf(r, "%.*s", tc_utf8_clip(s, max), s);
}

static const char *finish_details(struct cw_result *r, struct tc_text *t)
{
    tc_text_put(t, "", 1);
    if (t->failed) {
        free(t->s);
        return NULL;
    }
    if (t->len > DETAILS_MAX)
        t->s[tc_utf8_clip(t->s, DETAILS_MAX)] = '\0';
    return own(r, t->s);
}

static int alarm(struct cw_result *r, const json_t *msg, const char *topic_arn,
                 const struct cw_opts *o)
{
    struct tocsin_alert *a = &r->alert;
    const char *name = str(msg, "AlarmName"), *state = str(msg, "NewStateValue");
    const char *arn = str(msg, "AlarmArn"), *reason = str(msg, "NewStateReason");
    const char *account = str(msg, "AWSAccountId"), *desc = str(msg, "AlarmDescription");
    const char *changed = str(msg, "StateChangeTime");
    const json_t *trigger = json_object_get(msg, "Trigger");
    const json_t *metrics = json_object_get(trigger, "Metrics");
    char partition[32], region[64], arn_account[32];
    struct tc_text t = { 0 };
    int64_t at = 0;

    r->kind = CW_ALARM;
    if (strcmp(state, "ALARM") == 0) {
        a->status = TOCSIN_FIRING;
        a->severity = o->sev_alarm;
    } else if (strcmp(state, "OK") == 0) {
        a->status = TOCSIN_RESOLVED;
        a->severity = o->sev_alarm;
    } else if (strcmp(state, "INSUFFICIENT_DATA") == 0 && o->insufficient != CW_INSUF_IGNORE) {
        a->status = o->insufficient == CW_INSUF_FIRING ? TOCSIN_FIRING : TOCSIN_RESOLVED;
        a->severity = o->sev_insufficient;
    } else {
        r->kind = CW_IGNORED;
        r->why = strcmp(state, "INSUFFICIENT_DATA") == 0 ? "INSUFFICIENT_DATA ignored"
                                                         : "unknown NewStateValue";
        return 0;
    }

    /* The region code and partition are in the alarm's ARN (Region holds
     * the long name); old payloads without it: the topic's. */
    sns_arn_parts(arn ? arn : topic_arn, partition, sizeof partition, region, sizeof region,
                  arn_account, sizeof arn_account);
    if (!account || !*account)
        account = arn_account;
    if (arn && *arn)
        a->dedup_key = arn;
    else
        a->dedup_key = ownf(r, "cloudwatch:%s:%s:%s", account,
                            str(msg, "Region") ? str(msg, "Region") : region, name);
    /* region and arn_account are on this stack: the labels get copies. */
    label(r, "alertname", name);
    label(r, "region", ownf(r, "%s", region));
    label(r, "account", ownf(r, "%s", account));

    a->summary = reason && *reason ? ownf(r, "%s: %.*s", name, tc_utf8_clip(reason, SUMMARY_MAX),
                                          reason)
                                   : ownf(r, "%s is %s", name, state);
    if (a->summary && strlen(a->summary) > SUMMARY_MAX)
        ((char *)a->summary)[tc_utf8_clip(a->summary, SUMMARY_MAX)] = '\0';

    if (desc && *desc) {
        putf(&t, "%s\n\n", desc);
        r->annotations[0].key = "description";
        r->annotations[0].value = desc;
        a->annotations = r->annotations;
        a->n_annotations = 1;
    }
    putf(&t, "State: %s -> %s", str(msg, "OldStateValue") ? str(msg, "OldStateValue") : "?",
         state);
    if (changed)
        putf(&t, " at %s", changed);
    put(&t, "\n");
    if (reason)
        putf(&t, "Reason: %s\n", reason);
    if (str(msg, "AlarmRule"))
        composite(r, msg, &t);
    else if (json_is_array(metrics))
        math_trigger(r, metrics, &t);
    else if (json_is_object(trigger) && str(trigger, "MetricName"))
        metric_trigger(r, trigger, &t);
    if (json_is_object(trigger) && str(trigger, "ComparisonOperator")) {
        const char *thr = num(r, trigger, "Threshold");

        label(r, "comparison", str(trigger, "ComparisonOperator"));
        label(r, "threshold", thr);
        putf(&t, "Condition: %s %s", str(trigger, "ComparisonOperator"), thr ? thr : "");
        if (num(r, trigger, "EvaluationPeriods"))
            putf(&t, " for %s period(s)", num(r, trigger, "EvaluationPeriods"));
        put(&t, "\n");
    }
    putf(&t, "Account %s, region %s", account, region);
    if (str(msg, "Region"))
        putf(&t, " (%s)", str(msg, "Region"));
    put(&t, "\n");
    a->details = finish_details(r, &t);

    if (*region) {
        r->links[0].key = "generator";
        r->links[0].value = console_link(r, partition, region, name);
        a->links = r->links;
        a->n_links = r->links[0].value ? 1 : 0;
    }
    if (changed && cw_time_parse(changed, &at) == 0) {
        r->changed_at = at;
        if (a->status == TOCSIN_FIRING)
            a->started_at = at;
        else
            a->ended_at = at;
    }
    return a->dedup_key && a->summary && a->details ? 0 : TOCSIN_ENOMEM;
}

/* Not an alarm: one firing alert per Subject (per message without one). */
static int generic(struct cw_result *r, const char *message, const char *subject,
                   const char *topic_arn, const char *message_id, const struct cw_opts *o)
{
    struct tocsin_alert *a = &r->alert;
    char partition[32], region[64], account[32];
    const char *topic = strrchr(topic_arn, ':') ? strrchr(topic_arn, ':') + 1 : topic_arn;

    r->kind = CW_GENERIC;
    sns_arn_parts(topic_arn, partition, sizeof partition, region, sizeof region, account,
                  sizeof account);
    a->status = TOCSIN_FIRING;
    a->severity = o->sev_notification;
    if (subject && *subject) {
        a->summary = clip(r, subject, SUMMARY_MAX);
        a->dedup_key = ownf(r, "sns:%s:%s", topic_arn, subject);
    } else {
        int line = (int)strcspn(message, "\r\n"); /* the first line */

        a->summary = ownf(r, "%.*s", tc_utf8_clip(message, line < SUMMARY_MAX ? line
                                                                             : SUMMARY_MAX),
                          message);
        if (a->summary && !*a->summary)
            a->summary = ownf(r, "message on SNS topic %s", topic);
        a->dedup_key = ownf(r, "sns:%s:%s", topic_arn, message_id);
    }
    a->details = clip(r, message, DETAILS_MAX);
    label(r, "region", ownf(r, "%s", region));
    label(r, "account", ownf(r, "%s", account));
    if (*region) {
        r->links[0].key = "generator";
        r->links[0].value = ownf(r, "https://%s/sns/v3/home?region=%s#/topic/%s",
                                 strcmp(partition, "aws-cn") == 0 ? "console.amazonaws.cn"
                                                                  : "console.aws.amazon.com",
                                 region, topic_arn);
        a->links = r->links;
        a->n_links = r->links[0].value ? 1 : 0;
    }
    return a->summary && a->dedup_key && a->details ? 0 : TOCSIN_ENOMEM;
}

int cw_parse(const char *message, const char *subject, const char *topic_arn,
             const char *message_id, const struct cw_opts *o, struct cw_result *out)
{
    json_t *msg;
    const char *topic;
    int rc;

    memset(out, 0, sizeof *out);
    out->alert.labels = out->labels;
    msg = json_loads(message, 0, NULL);
    out->root = msg;
    /* An alarm names itself and its new state; anything else is generic. */
    if (json_is_object(msg) && str(msg, "AlarmName") && *str(msg, "AlarmName") &&
        str(msg, "NewStateValue"))
        rc = alarm(out, msg, topic_arn, o);
    else
        rc = generic(out, message, subject, topic_arn, message_id, o);
    if (rc == 0 && out->kind != CW_IGNORED) {
        topic = strrchr(topic_arn, ':') ? strrchr(topic_arn, ':') + 1 : topic_arn;
        label(out, "sns_topic", topic);
    }
    return rc;
}

void cw_result_free(struct cw_result *r)
{
    size_t i;

    for (i = 0; i < r->n_owned; i++)
        free(r->owned[i]);
    free(r->owned);
    json_decref(r->root);
    memset(r, 0, sizeof *r);
}

int cw_time_parse(const char *s, int64_t *ms)
{
    char buf[64];
    size_t n;

    if (!s)
        return -1;
    if (tc_time_parse(s, ms) == 0)
        return 0;
    /* "+0000": RFC 3339 wants "+00:00". */
    n = strlen(s);
    if (n < 5 || n + 2 > sizeof buf || (s[n - 5] != '+' && s[n - 5] != '-'))
        return -1;
    memcpy(buf, s, n - 2);
    buf[n - 2] = ':';
    memcpy(buf + n - 1, s + n - 2, 2);
    buf[n + 1] = '\0';
    return tc_time_parse(buf, ms);
}
