/* slack_it.h: what the slack sink's integration tests share: the real
 * tocsind with one slack sink ("chat") pointed at the fake Slack
 * (tests/peers/slack_peer.h), in either mode, and the alerts and human
 * actions that drive an incident through it. */
#ifndef TOCSIN_TEST_SLACK_IT_H
#define TOCSIN_TEST_SLACK_IT_H

#include "../peers/slack_peer.h"
#include "harness.h"

/* The daemon's external_url: the incident page's links start with it. */
#define SIT_EXTERNAL_URL "http://tocsin.test:9099"

/* A started fake Slack (fails the test otherwise). */
struct slack_peer *sit_peer(void);

/* Writes d->conf (after h_init) with the sink "chat" on the peer: the
 * webhook URL or the token through env: (secrets), retry_base 100ms,
 * retry_max 1s, and extra pasted into the sink's block. */
void sit_config_webhook(struct h_daemon *d, struct slack_peer *p, const char *extra);
void sit_config_api(struct h_daemon *d, struct slack_peer *p, const char *extra);

/* POSTs a native alert (labels, runbook, source link) and returns its
 * incident's id. status: "firing" or "resolved". */
int64_t sit_alert(struct h_daemon *d, const char *key, const char *status,
                  const char *severity, const char *summary);
/* The same with the JSON body given whole. */
int64_t sit_alert_json(struct h_daemon *d, const char *key, const char *json);
void sit_ack(struct h_daemon *d, int64_t id, const char *by);
void sit_resolve(struct h_daemon *d, int64_t id, const char *by, const char *note);

/* Waits for the notification of action to reach state ("done",
 * "failed"); returns it (owned). Fails the test on timeout. */
json_t *sit_wait(struct h_daemon *d, int64_t id, const char *action, const char *state);
/* Waits until the peer got n requests on path; returns the last of them. */
const struct slack_req *sit_wait_path(struct h_daemon *d, struct slack_peer *p,
                                      const char *path, size_t n);
/* Fails the test, printing them, when the peer saw violations. */
void sit_no_violations(struct h_daemon *d, struct slack_peer *p);

/* Members of a request's JSON body: the text, the first attachment's
 * colour, the header's text, the mrkdwn of the first section whose text
 * starts with prefix (NULL when none). */
const char *sit_text(const struct slack_req *q);
const char *sit_color(json_t *msg);
const char *sit_header(json_t *msg);
const char *sit_section(json_t *msg, const char *prefix);
/* The url of the button titled title, or NULL. */
const char *sit_button(json_t *msg, const char *title);

/* Whether the file at path, or s, holds needle. */
int sit_file_has(const char *path, const char *needle);

#endif
