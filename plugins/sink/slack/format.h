/* format.h: the slack sink's messages: one Block Kit message per incident
 * state (an attachment coloured by severity or state, with header, details,
 * state, labels, context and link buttons), the text of a thread reply, and
 * the block id that marks a notification's message. Pure: no I/O. */
#ifndef TC_SLACK_FORMAT_H
#define TC_SLACK_FORMAT_H

#include <jansson.h>
#include <stddef.h>
#include <tocsin/plugin.h>

/* Slack's documented limits (Block Kit reference), in characters. */
#define SLACK_HEADER_MAX 150
#define SLACK_SECTION_MAX 3000
#define SLACK_FIELD_MAX 2000
#define SLACK_FIELDS_MAX 10
#define SLACK_CONTEXT_MAX 10
#define SLACK_ACTIONS_MAX 25
#define SLACK_BUTTON_TEXT_MAX 75
#define SLACK_URL_MAX 3000
#define SLACK_BLOCKS_MAX 50
#define SLACK_BLOCK_ID_MAX 255
/* The notification text: Slack cuts at about 40,000; alerts stay far below. */
#define SLACK_TEXT_MAX 3000

/* Colour slots: the five severities (enum tocsin_severity), then states. */
enum {
    SLACK_COLOR_ACKNOWLEDGED = 5,
    SLACK_COLOR_RESOLVED = 6,
    SLACK_N_COLORS = 7
};

/* What the options change in a message. */
struct slack_style {
    char colors[SLACK_N_COLORS][8]; /* "#RRGGBB" */
    const char *mention[5];         /* per severity: "<!here>", ...; NULL: none */
};

/* The names of the colour slots ("critical".."info", "acknowledged",
 * "resolved"), and the defaults: critical #D00000, high #F07000, medium
 * #F2C744, low #439FE0, info #808080, acknowledged #9B59B6, resolved
 * #2EB67D. */
extern const char *const slack_color_names[SLACK_N_COLORS];
void slack_style_default(struct slack_style *st);

/* {"text": "...", "attachments": [{"color": "#D00000", "blocks": [...]}],
 * "unfurl_links": false, "unfurl_media": false} for n in its state (the
 * action): triggered in the severity's colour, acknowledged or resolved
 * with who did it and the note. mention: put the severity's mention in
 * front of the text (the trigger; never a test). NULL without memory or
 * without an alert. */
json_t *slack_message(const struct tocsin_notification *n, const struct slack_style *st,
                      int mention);

/* mrkdwn text of the thread reply to an acknowledge or resolve:
 * "*Acknowledged* by alice", "*Resolved* by alice\nnote". malloc()ed. */
char *slack_reply_text(const struct tocsin_notification *n);
/* The reply as a message: {"text": that, "blocks": [a section of that,
 * marked with slack_marker()]}. NULL without memory. */
json_t *slack_reply(const struct tocsin_notification *n);

/* The block_id that marks the message of this notification, so that a
 * retry can find it: "tocsin-<incident id>-<outbox id>-<first seen ms>"
 * (the last makes it another daemon's only by a rare coincidence), into
 * buf (>= 80 bytes). */
char *slack_marker(const struct tocsin_notification *n, char *buf, size_t size);

/* 1 when s is a URL a link button may carry: http:// or https://, no
 * spaces or control characters, at most SLACK_URL_MAX bytes. */
int slack_url_ok(const char *s);

#endif
