/* answer.h: what Slack answers, read: a Web API answer ({"ok": ...}),
 * which errors are worth another try, the per-incident reference the sink
 * keeps ("<channel> <ts>"), and whether a channel's history already holds
 * a notification's message. Pure: no I/O. */
#ifndef TC_SLACK_ANSWER_H
#define TC_SLACK_ANSWER_H

#include <stddef.h>

/* A Web API answer: {"ok": true, "channel": "C123", "ts": "1503435956.000247"}
 * or {"ok": false, "error": "channel_not_found", "needed": "chat:write"}. */
struct slack_answer {
    int ok;
    char error[64];   /* when not ok ("" when Slack named none) */
    char needed[64];  /* missing_scope: the scope the token lacks */
    char channel[32]; /* "" when absent or not an id */
    char ts[32];      /* "" when absent or not a timestamp */
};

/* Reads body (len bytes). 0, or -1 when it is not a JSON object with a
 * boolean "ok" (not Slack's answer). */
int slack_answer_parse(const char *body, size_t len, struct slack_answer *a);

/* 1 for the errors Slack answers when trying again later can help:
 * ratelimited (rate_limited), internal_error, fatal_error,
 * service_unavailable, request_timeout. */
int slack_error_transient(const char *error);

/* 1 for the chat.update errors that mean the message cannot be edited any
 * more (deleted, edit window closed, channel gone): post a new one. */
int slack_error_message_gone(const char *error);

/* A channel, user or group id ("C0123ABCD"): upper-case letters and digits. */
int slack_id_ok(const char *s);
/* A message timestamp: digits, a dot, digits ("1503435956.000247"). */
int slack_ts_ok(const char *s);

/* The reference kept per incident: "<channel id> <ts>". format: 0, or -1
 * when either is not valid or buf is too small. parse: 0, or -1 when ref
 * is not such a text (NULL included). */
int slack_ref_format(char *buf, size_t size, const char *channel, const char *ts);
int slack_ref_parse(const char *ref, char *channel, size_t csize, char *ts, size_t tsize);

/* A conversations.history or conversations.replies answer: 1 when one of
 * its messages other than the one at skip_ts (a thread's parent; NULL:
 * none) has a block (top level or in an attachment) whose block_id is
 * marker, with that message's ts in ts; 0 when none has; -1 when the
 * answer is not a successful one (error says Slack's error, or "").
 * *more is set when Slack says more messages follow. */
int slack_history_find(const char *body, size_t len, const char *marker, const char *skip_ts,
                       char *ts, size_t tsize, int *more, char *error, size_t esize);

#endif
