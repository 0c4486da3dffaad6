/* format.h: the pagerduty sink's Events API v2 events and its reading of
 * PagerDuty's answers. Pure: no I/O. */
#ifndef TC_PAGERDUTY_FORMAT_H
#define TC_PAGERDUTY_FORMAT_H

#include <stddef.h>
#include <tocsin/plugin.h>

/* Limits of the Events API v2 (formats page, PagerDuty's "Send an Alert
 * Event"), in UTF-16 code units (lib/fit.c). */
#define PD_SUMMARY_MAX 1024
#define PD_DEDUP_KEY_MAX 255
#define PD_EVENT_MAX (512 * 1024) /* bytes of the whole event */

/* What an instance adds to every event. */
struct pd_event_conf {
    const char *routing_key;
    /* Label names whose values become payload.component, .group, .class;
     * NULL: the field is left out. */
    const char *component_label, *group_label, *class_label;
    /* PagerDuty's severity for each tocsin severity (index: enum
     * tocsin_severity): "critical", "error", "warning" or "info". */
    const char *severity[5];
};

/* The defaults DESIGN.md gives: critical, error, warning, info, info. */
extern const char *const pd_default_severity[5];
/* 1 when s is one of PagerDuty's four severities. */
int pd_severity_ok(const char *s);

/* The event for n: a trigger with payload, links and client, or an
 * acknowledge / resolve with routing_key, event_action and dedup_key only
 * (PagerDuty has no room for who or why there). malloc()ed compact JSON,
 * at most PD_EVENT_MAX bytes; NULL without memory or alert. */
char *pd_format_event(const struct pd_event_conf *c, const struct tocsin_notification *n);

/* The dedup_key PagerDuty gets for n's incident: the alert's dedup key
 * (else its label fingerprint), made to fit 255 with a stable hash. */
char *pd_dedup_key(const struct tocsin_notification *n);

/* 0 when PagerDuty's answer to an accepted event names another dedup_key
 * than n's (follow-ups would then miss the alert); 1 when it names the
 * same one or none. */
int pd_answer_matches(const char *body, const struct tocsin_notification *n);

/* Why PagerDuty refused an event, from its answer (status and body): for
 * {"status":"invalid event","message":"Event object is invalid",
 * "errors":["..."]} "HTTP 400: Event object is invalid: ...". Fills out. */
void pd_refusal(long status, const char *body, char *out, size_t len);

#endif
