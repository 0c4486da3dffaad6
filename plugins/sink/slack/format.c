/* format.c: the slack sink's messages (see format.h). Everything from an
 * alert or a person is escaped and cut to Slack's limits by text.c; the
 * markup written here (bold, mentions, dates) is never cut in two. */
#define _POSIX_C_SOURCE 200809L
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common.h"
#include "format.h"
#include "text.h"

const char *const slack_color_names[SLACK_N_COLORS] = {
    "critical", "high", "medium", "low", "info", "acknowledged", "resolved",
};

static const char *const default_colors[SLACK_N_COLORS] = {
    "#D00000", "#F07000", "#F2C744", "#439FE0", "#808080", "#9B59B6", "#2EB67D",
};

void slack_style_default(struct slack_style *st)
{
    int i;

    memset(st, 0, sizeof *st);
    for (i = 0; i < SLACK_N_COLORS; i++)
        snprintf(st->colors[i], sizeof st->colors[i], "%s", default_colors[i]);
}

static enum tocsin_severity severity_of(const struct tocsin_alert *a)
{
    return (unsigned)a->severity < 5 ? a->severity : TOCSIN_SEV_INFO;
}

static void upper(char *dst, size_t size, const char *s)
{
    size_t i;

    for (i = 0; s[i] && i + 1 < size; i++)
        dst[i] = (char)(s[i] >= 'a' && s[i] <= 'z' ? s[i] - 'a' + 'A' : s[i]);
    dst[i] = '\0';
}

int slack_url_ok(const char *s)
{
    const unsigned char *p;

    if (!s || (strncasecmp(s, "http://", 7) != 0 && strncasecmp(s, "https://", 8) != 0))
        return 0;
    if (strlen(s) > SLACK_URL_MAX)
        return 0;
    for (p = (const unsigned char *)s; *p; p++)
        if (*p <= 0x20 || *p == 0x7f)
            return 0;
    return 1;
}

char *slack_marker(const struct tocsin_notification *n, char *buf, size_t size)
{
    snprintf(buf, size, "tocsin-%" PRId64 "-%" PRId64 "-%" PRId64, n->incident_id,
             n->outbox_id, n->first_seen);
    return buf;
}

/* A JSON string of s (malloc()ed, taken), or NULL. */
static json_t *take_str(char *s)
{
    json_t *j = s ? tc_json_string(s) : NULL;

    free(s);
    return j;
}

/* A text object; takes s. NULL without memory. */
static json_t *text_obj(const char *type, char *s)
{
    json_t *text = take_str(s);

    return text ? json_pack("{s:s, s:o}", "type", type, "text", text) : NULL;
}

/* The state line of an acknowledge or resolve into t: who, and the note.
 * The core names an expired alert's resolver "expired". */
static void put_state(struct slk_text *t, const struct tocsin_notification *n)
{
    const char *actor = n->actor && *n->actor ? n->actor : NULL;

    if (n->action == TOCSIN_ACT_ACKNOWLEDGE) {
        slk_raw(t, "*Acknowledged*");
    } else if (actor && strcmp(actor, "expired") == 0) {
        slk_raw(t, "*Resolved*: expired (the alert was not sent again in time)");
        actor = NULL;
    } else {
        slk_raw(t, "*Resolved*");
    }
    if (actor) {
        slk_raw(t, " by ");
        slk_put(t, actor, SLK_ESCAPE | SLK_ONE_LINE);
    }
    if (n->action == TOCSIN_ACT_RESOLVE && n->note && *n->note) {
        slk_raw(t, "\n");
        slk_put(t, n->note, SLK_ESCAPE);
    }
}

char *slack_reply_text(const struct tocsin_notification *n)
{
    struct slk_text t;

    slk_init(&t, SLACK_SECTION_MAX);
    if (n->test)
        slk_raw(&t, "[TEST] ");
    put_state(&t, n);
    return slk_take(&t);
}

json_t *slack_reply(const struct tocsin_notification *n)
{
    json_t *text = take_str(slack_reply_text(n)), *block;
    char marker[96];

    block = text ? text_obj("mrkdwn", strdup(json_string_value(text))) : NULL;
    if (!block) {
        json_decref(text);
        return NULL;
    }
    slack_marker(n, marker, sizeof marker);
    return json_pack("{s:o, s:[{s:s, s:s, s:o}]}", "text", text, "blocks", "type", "section",
                     "block_id", marker, "text", block);
}

static char *notification_text(const struct tocsin_notification *n,
                               const struct slack_style *st, int mention)
{
    const struct tocsin_alert *a = n->alert;
    const char *m = st->mention[severity_of(a)];
    struct slk_text t;
    char tag[32];

    slk_init(&t, SLACK_TEXT_MAX);
    if (n->test)
        slk_raw(&t, "[TEST] ");
    /* In the message text, not the attachment: mentions notify from there. */
    if (mention && !n->test && m && *m) {
        slk_raw(&t, m);
        slk_raw(&t, " ");
    }
    switch (n->action) {
    case TOCSIN_ACT_ACKNOWLEDGE: snprintf(tag, sizeof tag, "[ACKNOWLEDGED] "); break;
    case TOCSIN_ACT_RESOLVE: snprintf(tag, sizeof tag, "[RESOLVED] "); break;
    default:
        upper(tag + 1, sizeof tag - 3, tocsin_severity_name(severity_of(a)));
        tag[0] = '[';
        strcat(tag, "] ");
    }
    slk_raw(&t, tag);
    slk_put(&t, a->summary, SLK_ESCAPE | SLK_ONE_LINE);
    return slk_take(&t);
}

static json_t *header_block(const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;
    struct slk_text t;
    char sev[16];

    slk_init(&t, SLACK_HEADER_MAX);
    if (n->test)
        slk_raw(&t, "[TEST] ");
    upper(sev, sizeof sev, tocsin_severity_name(severity_of(a)));
    slk_raw(&t, sev);
    slk_raw(&t, ": ");
    slk_put(&t, a->summary && *a->summary ? a->summary : "(no summary)",
            SLK_ESCAPE | SLK_ONE_LINE);
    return json_pack("{s:s, s:o}", "type", "header", "text",
                     text_obj("plain_text", slk_take(&t)));
}

static json_t *section_block(char *mrkdwn)
{
    return json_pack("{s:s, s:o}", "type", "section", "text", text_obj("mrkdwn", mrkdwn));
}

/* "*name*\nvalue" within a field's limit. */
static json_t *field(const char *name, const char *value)
{
    struct slk_text t;

    slk_init(&t, SLACK_FIELD_MAX);
    slk_raw(&t, "*");
    slk_put(&t, name, SLK_ESCAPE | SLK_ONE_LINE);
    slk_raw(&t, "*\n");
    slk_put(&t, value, SLK_ESCAPE);
    return text_obj("mrkdwn", slk_take(&t));
}

/* A label shown in the header or a field already? */
static int label_shown(const struct tocsin_alert *a, const struct tocsin_kv *l)
{
    if (!l->key || !l->value || !*l->value)
        return 1; /* nothing to show */
    return strcmp(l->key, "severity") == 0 ||
           (strcmp(l->key, "service") == 0 && a->service && strcmp(l->value, a->service) == 0);
}

/* Service, source, then the other labels; when they do not all fit in the
 * ten fields, the last one lists the rest. */
static json_t *fields_block(const struct tocsin_alert *a)
{
    json_t *fields = json_array();
    size_t i, left = 0, room;
    struct slk_text rest;
    int listing = 0;

    if (!fields)
        return NULL;
    if (a->service && *a->service)
        json_array_append_new(fields, field("Service", a->service));
    if (a->source && *a->source)
        json_array_append_new(fields, field("Source", a->source));
    for (i = 0; i < a->n_labels; i++)
        left += !label_shown(a, &a->labels[i]);
    room = SLACK_FIELDS_MAX - json_array_size(fields);
    slk_init(&rest, SLACK_FIELD_MAX);
    slk_raw(&rest, "*Other labels*\n");
    for (i = 0; i < a->n_labels; i++) {
        const struct tocsin_kv *l = &a->labels[i];

        if (label_shown(a, l))
            continue;
        if (!listing && (left <= room || room > 1)) {
            json_array_append_new(fields, field(l->key, l->value));
            room--;
            left--;
            continue;
        }
        if (listing)
            slk_raw(&rest, ", ");
        listing = 1;
        slk_put(&rest, l->key, SLK_ESCAPE | SLK_ONE_LINE);
        slk_raw(&rest, "=");
        slk_put(&rest, l->value, SLK_ESCAPE | SLK_ONE_LINE);
    }
    if (listing)
        json_array_append_new(fields, text_obj("mrkdwn", slk_take(&rest)));
    else
        slk_free(&rest);
    if (json_array_size(fields) == 0) {
        json_decref(fields);
        return json_null();
    }
    return json_pack("{s:s, s:o}", "type", "section", "fields", fields);
}

static json_t *context_block(const struct tocsin_notification *n)
{
    struct slk_text t;
    char buf[200];
    int64_t first = n->first_seen ? n->first_seen : n->alert->started_at;

    slk_init(&t, SLACK_SECTION_MAX);
    if (n->test) {
        slk_raw(&t, "Test notification (tocsind --test-sink): not a real incident");
    } else {
        snprintf(buf, sizeof buf, "tocsin incident %" PRId64, n->incident_id);
        slk_raw(&t, buf);
        if (n->occurrences > 1) {
            snprintf(buf, sizeof buf, " \xc2\xb7 %" PRId64 " occurrences", n->occurrences);
            slk_raw(&t, buf);
        }
    }
    if (first > 0) {
        char iso[40];

        /* Slack shows the date in the reader's time zone; the ISO time is
         * what clients that cannot see. */
        tc_time_format(first, iso, sizeof iso);
        snprintf(buf, sizeof buf,
                 " \xc2\xb7 first seen <!date^%" PRId64 "^{date_short_pretty} {time_secs}|%s>",
                 first / 1000, iso);
        slk_raw(&t, buf);
    }
    slack_marker(n, buf, sizeof buf);
    return json_pack("{s:s, s:s, s:[o]}", "type", "context", "block_id", buf, "elements",
                     text_obj("mrkdwn", slk_take(&t)));
}

static void add_button(json_t *elements, const char *title, const char *url)
{
    if (!slack_url_ok(url) || json_array_size(elements) >= SLACK_ACTIONS_MAX)
        return;
    json_array_append_new(
        elements, json_pack("{s:s, s:o, s:s}", "type", "button", "text",
                            text_obj("plain_text", slk_fit(title, SLACK_BUTTON_TEXT_MAX,
                                                           SLK_ESCAPE | SLK_ONE_LINE)),
                            "url", url));
}

/* Runbook, the source's link, the alert's other links, the incident page. */
static json_t *actions_block(const struct tocsin_notification *n)
{
    const struct tocsin_alert *a = n->alert;
    json_t *elements = json_array();
    size_t i;

    if (!elements)
        return NULL;
    add_button(elements, "Runbook", tocsin_kv_get(a->annotations, a->n_annotations, "runbook_url"));
    add_button(elements, "Source", tocsin_kv_get(a->links, a->n_links, "generator"));
    for (i = 0; i < a->n_links; i++)
        if (a->links[i].key && strcmp(a->links[i].key, "generator") != 0)
            add_button(elements, a->links[i].key, a->links[i].value);
    if (n->external_url && *n->external_url && !n->test && n->incident_id > 0) {
        size_t len = strlen(n->external_url);
        char *url = malloc(len + 64);

        while (len > 0 && n->external_url[len - 1] == '/')
            len--;
        if (url) {
            snprintf(url, len + 64, "%.*s/api/v1/incidents/%" PRId64, (int)len, n->external_url,
                     n->incident_id);
            add_button(elements, "Incident", url);
            free(url);
        }
    }
    if (json_array_size(elements) == 0) {
        json_decref(elements);
        return json_null();
    }
    return json_pack("{s:s, s:o}", "type", "actions", "elements", elements);
}

/* Appends b unless it is JSON null (a block with nothing to show); NULL
 * (no memory) marks the array failed. */
static int append(json_t *blocks, json_t *b)
{
    if (!b)
        return -1;
    if (json_is_null(b)) {
        json_decref(b);
        return 0;
    }
    return json_array_append_new(blocks, b);
}

json_t *slack_message(const struct tocsin_notification *n, const struct slack_style *st,
                      int mention)
{
    const struct tocsin_alert *a;
    json_t *blocks, *msg, *text;
    const char *color;
    int rc = 0;

    if (!n || !n->alert || !st)
        return NULL;
    a = n->alert;
    blocks = json_array();
    if (!blocks)
        return NULL;
    rc |= append(blocks, header_block(n));
    if (a->details && *a->details) {
        struct slk_text t;

        slk_init(&t, SLACK_SECTION_MAX);
        slk_put(&t, a->details, SLK_ESCAPE);
        rc |= append(blocks, section_block(slk_take(&t)));
    }
    if (n->action == TOCSIN_ACT_ACKNOWLEDGE || n->action == TOCSIN_ACT_RESOLVE) {
        struct slk_text t;

        slk_init(&t, SLACK_SECTION_MAX);
        put_state(&t, n);
        rc |= append(blocks, section_block(slk_take(&t)));
    }
    rc |= append(blocks, fields_block(a));
    rc |= append(blocks, context_block(n));
    rc |= append(blocks, actions_block(n));
    if (rc) {
        json_decref(blocks);
        return NULL;
    }
    text = take_str(notification_text(n, st, mention));
    if (!text) {
        json_decref(blocks);
        return NULL;
    }
    color = n->action == TOCSIN_ACT_RESOLVE       ? st->colors[SLACK_COLOR_RESOLVED]
            : n->action == TOCSIN_ACT_ACKNOWLEDGE ? st->colors[SLACK_COLOR_ACKNOWLEDGED]
                                                  : st->colors[severity_of(a)];
    msg = json_pack("{s:o, s:[{s:s, s:o}], s:b, s:b}", "text", text, "attachments", "color",
                    color, "blocks", blocks, "unfurl_links", 0, "unfurl_media", 0);
    return msg;
}
