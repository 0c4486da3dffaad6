/* answer.c: Slack's answers read (see answer.h). */
#include <jansson.h>
#include <stdio.h>
#include <string.h>

#include "answer.h"

static void copy_str(char *dst, size_t size, const json_t *v)
{
    const char *s = json_string_value(v);

    snprintf(dst, size, "%s", s ? s : "");
}

int slack_id_ok(const char *s)
{
    if (!s || !*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9')))
            return 0;
    return 1;
}

int slack_ts_ok(const char *s)
{
    const char *dot;
    size_t i;

    if (!s || !(dot = strchr(s, '.')) || dot == s || !dot[1])
        return 0;
    for (i = 0; s[i]; i++)
        if (s + i != dot && !(s[i] >= '0' && s[i] <= '9'))
            return 0;
    return 1;
}

int slack_answer_parse(const char *body, size_t len, struct slack_answer *a)
{
    json_t *j, *ok;

    memset(a, 0, sizeof *a);
    j = body ? json_loadb(body, len, 0, NULL) : NULL;
    ok = json_object_get(j, "ok");
    if (!json_is_boolean(ok)) {
        json_decref(j);
        return -1;
    }
    a->ok = json_is_true(ok);
    copy_str(a->error, sizeof a->error, json_object_get(j, "error"));
    copy_str(a->needed, sizeof a->needed, json_object_get(j, "needed"));
    copy_str(a->channel, sizeof a->channel, json_object_get(j, "channel"));
    copy_str(a->ts, sizeof a->ts, json_object_get(j, "ts"));
    /* Only what can go into a reference, a URL or a log line as it is. */
    if (!slack_id_ok(a->channel))
        a->channel[0] = '\0';
    if (!slack_ts_ok(a->ts))
        a->ts[0] = '\0';
    json_decref(j);
    return 0;
}

static int one_of(const char *s, const char *const *list)
{
    for (; s && *list; list++)
        if (strcmp(s, *list) == 0)
            return 1;
    return 0;
}

int slack_error_transient(const char *error)
{
    static const char *const transient[] = {
        "ratelimited", "rate_limited", "internal_error", "fatal_error",
        "service_unavailable", "request_timeout", NULL,
    };

    return one_of(error, transient);
}

int slack_error_message_gone(const char *error)
{
    static const char *const gone[] = {
        "message_not_found", "cant_update_message", "edit_window_closed",
        "channel_not_found", NULL,
    };

    return one_of(error, gone);
}

int slack_ref_format(char *buf, size_t size, const char *channel, const char *ts)
{
    int n;

    if (!slack_id_ok(channel) || !slack_ts_ok(ts))
        return -1;
    n = snprintf(buf, size, "%s %s", channel, ts);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

int slack_ref_parse(const char *ref, char *channel, size_t csize, char *ts, size_t tsize)
{
    const char *sp = ref ? strchr(ref, ' ') : NULL;
    size_t clen;

    if (!sp)
        return -1;
    clen = (size_t)(sp - ref);
    if (clen + 1 > csize || strlen(sp + 1) + 1 > tsize)
        return -1;
    memcpy(channel, ref, clen);
    channel[clen] = '\0';
    snprintf(ts, tsize, "%s", sp + 1);
    return slack_id_ok(channel) && slack_ts_ok(ts) ? 0 : -1;
}

static int has_marker(json_t *blocks, const char *marker)
{
    size_t i;
    json_t *b;

    json_array_foreach(blocks, i, b) {
        const char *id = json_string_value(json_object_get(b, "block_id"));

        if (id && strcmp(id, marker) == 0)
            return 1;
    }
    return 0;
}

int slack_history_find(const char *body, size_t len, const char *marker, const char *skip_ts,
                       char *ts, size_t tsize, int *more, char *error, size_t esize)
{
    json_t *j = body ? json_loadb(body, len, 0, NULL) : NULL;
    json_t *msgs, *m, *att;
    size_t i, k;
    int found = 0;

    *more = 0;
    if (esize)
        error[0] = '\0';
    if (!json_is_true(json_object_get(j, "ok")) ||
        !json_is_array(msgs = json_object_get(j, "messages"))) {
        if (esize)
            copy_str(error, esize, json_object_get(j, "error"));
        json_decref(j);
        return -1;
    }
    *more = json_is_true(json_object_get(j, "has_more"));
    json_array_foreach(msgs, i, m) {
        const char *mts = json_string_value(json_object_get(m, "ts"));
        int hit;

        if (skip_ts && mts && strcmp(mts, skip_ts) == 0)
            continue;
        hit = has_marker(json_object_get(m, "blocks"), marker);

        json_array_foreach(json_object_get(m, "attachments"), k, att)
            hit = hit || has_marker(json_object_get(att, "blocks"), marker);
        if (hit) {
            copy_str(ts, tsize, json_object_get(m, "ts"));
            found = slack_ts_ok(ts);
            if (found)
                break;
        }
    }
    json_decref(j);
    return found;
}
