/* slack_blocks.c: the fake Slack's checks of a message (see slack_blocks.h). */
#define _POSIX_C_SOURCE 200809L
#include "slack_blocks.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

struct ctx {
    slack_problem_fn fn;
    void *arg;
    int n;
    json_t *block_ids; /* seen in this message */
};

static void problem(struct ctx *c, const char *fmt, ...)
{
    char buf[400];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    c->n++;
    if (c->fn)
        c->fn(c->arg, buf);
}

static void forward(void *arg, const char *what)
{
    struct ctx *c = arg;

    c->n++;
    if (c->fn)
        c->fn(c->arg, what);
}

size_t slack_chars(const char *s)
{
    size_t n = 0;

    for (; s && *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

static int is_id_char(char ch)
{
    return (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
}

/* Length of the control sequence Slack knows at s (which starts with '<'),
 * or 0: <https://...|label>, <mailto:...|label>, <@U123>, <#C123|name>,
 * <!here>, <!channel>, <!everyone>, <!subteam^S123|label>,
 * <!date^1392734382^{date_short}|fallback>. Labels and fallbacks must be
 * escaped themselves: no raw '<' or '&' (checked by the caller). */
static size_t control_len(const char *s)
{
    const char *p = s + 1, *end = strchr(s, '>');
    size_t i;

    if (!end)
        return 0;
    if (strncmp(p, "http://", 7) == 0 || strncmp(p, "https://", 8) == 0 ||
        strncmp(p, "mailto:", 7) == 0) {
        for (; p < end && *p != '|'; p++)
            if ((unsigned char)*p <= 0x20 || *p == '<')
                return 0;
        return (size_t)(end - s) + 1;
    }
    if (strncmp(p, "!here>", 6) == 0 || strncmp(p, "!channel>", 9) == 0 ||
        strncmp(p, "!everyone>", 10) == 0)
        return (size_t)(end - s) + 1;
    if (*p == '@' || *p == '#' || strncmp(p, "!subteam^", 9) == 0) {
        p += *p == '!' ? 9 : 1;
        for (i = 0; is_id_char(p[i]); i++)
            ;
        if (i == 0 || (p[i] != '>' && p[i] != '|'))
            return 0;
        return (size_t)(end - s) + 1;
    }
    if (strncmp(p, "!date^", 6) == 0) {
        p += 6;
        for (i = 0; p[i] >= '0' && p[i] <= '9'; i++)
            ;
        if (i == 0 || p[i] != '^' || !memchr(p, '|', (size_t)(end - p)))
            return 0; /* a date needs its fallback text */
        return (size_t)(end - s) + 1;
    }
    return 0;
}

int slack_check_text(const char *where, const char *text, slack_problem_fn fn, void *arg)
{
    struct ctx c = { fn, arg, 0, NULL };
    const char *p = text;

    while (p && *p) {
        if (*p == '&') {
            if (strncmp(p, "&amp;", 5) != 0 && strncmp(p, "&lt;", 4) != 0 &&
                strncmp(p, "&gt;", 4) != 0)
                problem(&c, "%s: raw '&' not escaped: \"%.60s\"", where, p);
            p++;
        } else if (*p == '<') {
            size_t len = control_len(p);
            const char *q;

            if (!len) {
                problem(&c, "%s: raw '<' that is no link or mention: \"%.60s\"", where, p);
                p++;
                continue;
            }
            /* The label part of a sequence is text: & must be an entity. */
            for (q = p + 1; q < p + len - 1; q++)
                if (*q == '&' && strncmp(q, "&amp;", 5) != 0 && strncmp(q, "&lt;", 4) != 0 &&
                    strncmp(q, "&gt;", 4) != 0)
                    problem(&c, "%s: raw '&' inside \"%.*s\"", where, (int)len, p);
            p += len;
        } else if (*p == '>') {
            problem(&c, "%s: raw '>' not escaped: \"%.60s\"", where, p);
            p++;
        } else {
            p++;
        }
    }
    return c.n;
}

/* A text object {"type": "plain_text"|"mrkdwn", "text": "..."} of at most
 * max characters; plain_only: it must be plain_text. */
static void text_object(struct ctx *c, const char *where, const json_t *o, size_t max,
                        int plain_only)
{
    const char *type = json_string_value(json_object_get(o, "type"));
    const char *text = json_string_value(json_object_get(o, "text"));

    if (!json_is_object(o)) {
        problem(c, "%s: not a text object", where);
        return;
    }
    if (!type || (strcmp(type, "plain_text") != 0 && strcmp(type, "mrkdwn") != 0))
        problem(c, "%s: text object type is %s", where, type ? type : "(missing)");
    else if (plain_only && strcmp(type, "plain_text") != 0)
        problem(c, "%s: must be plain_text, not %s", where, type);
    if (!text) {
        problem(c, "%s: text object without a text string", where);
        return;
    }
    if (!*text)
        problem(c, "%s: empty text", where);
    if (slack_chars(text) > max)
        problem(c, "%s: %zu characters, more than %zu", where, slack_chars(text), max);
    slack_check_text(where, text, forward, c);
}

static void button(struct ctx *c, const char *where, const json_t *e)
{
    const char *url = json_string_value(json_object_get(e, "url"));
    const char *action_id = json_string_value(json_object_get(e, "action_id"));

    text_object(c, where, json_object_get(e, "text"), 75, 1);
    if (json_object_get(e, "url")) {
        if (!url)
            problem(c, "%s: url is not a string", where);
        else if (slack_chars(url) > 3000)
            problem(c, "%s: url of %zu characters, more than 3000", where, slack_chars(url));
        else if (strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0)
            problem(c, "%s: url \"%.60s\" is not http(s)", where, url);
    }
    if (json_object_get(e, "action_id") && (!action_id || slack_chars(action_id) > 255))
        problem(c, "%s: action_id not a string of at most 255", where);
}

static void block(struct ctx *c, const char *where, const json_t *b)
{
    const char *type = json_string_value(json_object_get(b, "type"));
    const json_t *id = json_object_get(b, "block_id");
    char w[256];
    size_t i;
    json_t *e;

    if (!json_is_object(b) || !type) {
        problem(c, "%s: not a block with a type", where);
        return;
    }
    if (id) {
        const char *s = json_string_value(id);

        if (!s || !*s || slack_chars(s) > 255)
            problem(c, "%s: block_id must be a string of 1 to 255 characters", where);
        else if (json_object_get(c->block_ids, s))
            problem(c, "%s: block_id \"%s\" is not unique in the message", where, s);
        else
            json_object_set_new(c->block_ids, s, json_true());
    }
    if (strcmp(type, "header") == 0) {
        snprintf(w, sizeof w, "%s header", where);
        text_object(c, w, json_object_get(b, "text"), 150, 1);
    } else if (strcmp(type, "section") == 0) {
        const json_t *text = json_object_get(b, "text"), *fields = json_object_get(b, "fields");

        if (!text && !fields)
            problem(c, "%s section: neither text nor fields", where);
        if (text) {
            snprintf(w, sizeof w, "%s section text", where);
            text_object(c, w, text, 3000, 0);
        }
        if (fields) {
            if (!json_is_array(fields) || json_array_size(fields) == 0 ||
                json_array_size(fields) > 10)
                problem(c, "%s section: fields must be 1 to 10 text objects", where);
            json_array_foreach(fields, i, e) {
                snprintf(w, sizeof w, "%s section field %zu", where, i);
                text_object(c, w, e, 2000, 0);
            }
        }
    } else if (strcmp(type, "context") == 0) {
        const json_t *els = json_object_get(b, "elements");

        if (!json_is_array(els) || json_array_size(els) == 0 || json_array_size(els) > 10)
            problem(c, "%s context: elements must be 1 to 10", where);
        json_array_foreach(els, i, e) {
            const char *et = json_string_value(json_object_get(e, "type"));

            snprintf(w, sizeof w, "%s context element %zu", where, i);
            if (et && strcmp(et, "image") == 0)
                continue;
            text_object(c, w, e, 3000, 0);
        }
    } else if (strcmp(type, "actions") == 0) {
        const json_t *els = json_object_get(b, "elements");

        if (!json_is_array(els) || json_array_size(els) == 0 || json_array_size(els) > 25)
            problem(c, "%s actions: elements must be 1 to 25", where);
        json_array_foreach(els, i, e) {
            const char *et = json_string_value(json_object_get(e, "type"));

            snprintf(w, sizeof w, "%s actions element %zu", where, i);
            if (!et)
                problem(c, "%s: no type", w);
            else if (strcmp(et, "button") == 0)
                button(c, w, e);
        }
    } else if (strcmp(type, "divider") == 0) {
        if (json_object_size(b) > (id ? 2u : 1u))
            problem(c, "%s divider: has content", where);
    } else if (strcmp(type, "image") != 0 && strcmp(type, "rich_text") != 0 &&
               strcmp(type, "file") != 0 && strcmp(type, "video") != 0 &&
               strcmp(type, "input") != 0 && strcmp(type, "markdown") != 0) {
        problem(c, "%s: unknown block type \"%s\"", where, type);
    }
}

static void blocks(struct ctx *c, const char *where, const json_t *bs)
{
    char w[128];
    size_t i;
    json_t *b;

    if (!json_is_array(bs)) {
        problem(c, "%s: blocks is not an array", where);
        return;
    }
    if (json_array_size(bs) > 50)
        problem(c, "%s: %zu blocks, more than 50", where, json_array_size(bs));
    json_array_foreach(bs, i, b) {
        snprintf(w, sizeof w, "%s block %zu", where, i);
        block(c, w, b);
    }
}

static int color_ok(const char *s)
{
    size_t i;

    if (!s || strlen(s) != 7 || s[0] != '#')
        return 0;
    for (i = 1; i < 7; i++)
        if (!strchr("0123456789abcdefABCDEF", s[i]))
            return 0;
    return 1;
}

int slack_check_message(const json_t *msg, slack_problem_fn fn, void *arg)
{
    struct ctx c = { fn, arg, 0, json_object() };
    const json_t *text = json_object_get(msg, "text");
    const json_t *bs = json_object_get(msg, "blocks");
    const json_t *atts = json_object_get(msg, "attachments");
    size_t i;
    json_t *a;

    if (!json_is_object(msg)) {
        problem(&c, "the message is not a JSON object");
        json_decref(c.block_ids);
        return c.n;
    }
    if (text && !json_is_string(text))
        problem(&c, "text is not a string");
    if (!json_string_length(text) && json_array_size(bs) == 0 && json_array_size(atts) == 0)
        problem(&c, "no text, blocks or attachments (no_text)");
    if (json_is_string(text)) {
        if (slack_chars(json_string_value(text)) > 40000)
            problem(&c, "text of more than 40,000 characters");
        slack_check_text("text", json_string_value(text), forward, &c);
    }
    if (bs)
        blocks(&c, "blocks", bs);
    if (atts) {
        if (!json_is_array(atts) || json_array_size(atts) > 100)
            problem(&c, "attachments must be an array of at most 100");
        json_array_foreach(atts, i, a) {
            char w[64];
            const json_t *color = json_object_get(a, "color");

            snprintf(w, sizeof w, "attachment %zu", i);
            if (!json_is_object(a)) {
                problem(&c, "%s: not an object", w);
                continue;
            }
            if (color && !color_ok(json_string_value(color)))
                problem(&c, "%s: color is not #RRGGBB", w);
            if (json_object_get(a, "blocks"))
                blocks(&c, w, json_object_get(a, "blocks"));
            else if (!json_object_get(a, "text") && !json_object_get(a, "fallback"))
                problem(&c, "%s: neither blocks nor text", w);
        }
    }
    json_decref(c.block_ids);
    return c.n;
}
