/* pagerduty_peer.c: PagerDuty's Events API v2, strictly (see the header).
 * Written from the formats page and PagerDuty's "Send an Alert Event",
 * not from the sink. */
#define _POSIX_C_SOURCE 200809L
#include "pagerduty_peer.h"
#include "fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PD_MAX_EVENT (512 * 1024)

/* PagerDuty counts characters: code points of the UTF-8 text. */
static size_t chars(const char *s)
{
    size_t n = 0;

    for (; *s; s++)
        if (((unsigned char)*s & 0xc0) != 0x80)
            n++;
    return n;
}

/* RFC 3339 / ISO 8601 with a zone: 2026-11-23T03:12:45(.123)(Z|+02:00). */
static int timestamp_ok(const char *s)
{
    int y, mo, d, h, mi, sec, used = 0;

    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) != 6 ||
        used != 19 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    s += used;
    if (*s == '.') {
        s++;
        if (!isdigit((unsigned char)*s))
            return 0;
        while (isdigit((unsigned char)*s))
            s++;
    }
    if (strcmp(s, "Z") == 0)
        return 1;
    return (s[0] == '+' || s[0] == '-') && isdigit((unsigned char)s[1]) &&
           isdigit((unsigned char)s[2]) && s[3] == ':' && isdigit((unsigned char)s[4]) &&
           isdigit((unsigned char)s[5]) && s[6] == '\0';
}

static void check_string(struct peer *p, json_t *o, const char *where, const char *key,
                         int required, size_t max)
{
    char at[64];

    snprintf(at, sizeof at, "pagerduty: %s", where);
    fields_string(p, o, at, key, required, max, chars);
}

static void check_only(struct peer *p, json_t *o, const char *where, const char *const *known)
{
    char at[64];

    snprintf(at, sizeof at, "pagerduty: %s", where);
    fields_only(p, o, at, known);
}

static void check_payload(struct peer *p, json_t *pl)
{
    static const char *const known[] = { "summary", "source", "severity", "timestamp",
                                         "component", "group", "class", "custom_details",
                                         NULL };
    static const char *const severities[] = { "critical", "error", "warning", "info", NULL };
    const char *ts = fields_str(pl, "timestamp");
    json_t *cd = json_object_get(pl, "custom_details");

    if (!json_is_object(pl)) {
        peer_violate(p, "pagerduty: a trigger without a payload object");
        return;
    }
    check_only(p, pl, "payload.", known);
    check_string(p, pl, "payload.", "summary", 1, 1024);
    check_string(p, pl, "payload.", "source", 1, 0);
    check_string(p, pl, "payload.", "severity", 1, 0);
    if (fields_str(pl, "severity") && !fields_one_of(fields_str(pl, "severity"), severities))
        peer_violate(p, "pagerduty: payload.severity \"%s\" is not critical, error, warning "
                        "or info", fields_str(pl, "severity"));
    check_string(p, pl, "payload.", "timestamp", 0, 0);
    if (ts && !timestamp_ok(ts))
        peer_violate(p, "pagerduty: payload.timestamp \"%s\" is not an ISO 8601 time", ts);
    check_string(p, pl, "payload.", "component", 0, 0);
    check_string(p, pl, "payload.", "group", 0, 0);
    check_string(p, pl, "payload.", "class", 0, 0);
    if (cd && !json_is_object(cd))
        peer_violate(p, "pagerduty: payload.custom_details is not an object");
}

static void check_links(struct peer *p, json_t *ev)
{
    json_t *links = json_object_get(ev, "links"), *images = json_object_get(ev, "images"), *l;
    size_t i;

    if (links && !json_is_array(links))
        peer_violate(p, "pagerduty: links is not an array");
    json_array_foreach(links, i, l) {
        if (!json_is_object(l) || !json_is_string(json_object_get(l, "href")) ||
            json_string_length(json_object_get(l, "href")) == 0)
            peer_violate(p, "pagerduty: links[%zu] has no href", i);
        else if (json_object_get(l, "text") && !json_is_string(json_object_get(l, "text")))
            peer_violate(p, "pagerduty: links[%zu].text is not a string", i);
    }
    if (images && !json_is_array(images))
        peer_violate(p, "pagerduty: images is not an array");
    json_array_foreach(images, i, l)
        if (!json_is_object(l) || !fields_str(l, "src") ||
            strncmp(fields_str(l, "src"), "https://", 8) != 0)
            peer_violate(p, "pagerduty: images[%zu].src is not an https:// URL", i);
}

static void check(void *ctx, struct peer *p, const struct peer_req *r)
{
    static const char *const known[] = { "routing_key", "event_action", "dedup_key", "payload",
                                         "images", "links", "client", "client_url", NULL };
    static const char *const follow_up[] = { "routing_key", "event_action", "dedup_key", NULL };
    static const char *const actions[] = { "trigger", "acknowledge", "resolve", NULL };
    const char *ct = fields_str(r->headers, "content-type"), *action;
    json_t *ev = r->json;

    (void)ctx;
    if (strcmp(r->method, "POST") != 0)
        peer_violate(p, "pagerduty: %s %s: method is not POST", r->method, r->raw_path);
    if (strcmp(r->raw_path, "/v2/enqueue") != 0)
        peer_violate(p, "pagerduty: path %s is not /v2/enqueue", r->raw_path);
    if (json_object_size(r->query))
        peer_violate(p, "pagerduty: a query string on /v2/enqueue");
    if (!ct || strncmp(ct, "application/json", 16) != 0)
        peer_violate(p, "pagerduty: Content-Type is %s, not application/json",
                      ct ? ct : "(missing)");
    if (r->body_len > PD_MAX_EVENT)
        peer_violate(p, "pagerduty: event of %zu bytes, over 512 KB", r->body_len);
    if (!json_is_object(ev)) {
        peer_violate(p, "pagerduty: body is not a JSON object (or not UTF-8): %.200s", r->body);
        return;
    }
    check_only(p, ev, "", known);
    check_string(p, ev, "", "routing_key", 1, 0);
    if (fields_str(ev, "routing_key") && strlen(fields_str(ev, "routing_key")) != 32)
        peer_violate(p, "pagerduty: routing_key has %zu characters, not 32",
                      strlen(fields_str(ev, "routing_key")));
    action = fields_str(ev, "event_action");
    if (!fields_one_of(action, actions)) {
        peer_violate(p, "pagerduty: event_action \"%s\" is not trigger, acknowledge or resolve",
                      action ? action : "(missing)");
        return;
    }
    check_string(p, ev, "", "dedup_key", strcmp(action, "trigger") != 0, 255);
    if (strcmp(action, "trigger") != 0) {
        /* Follow-ups carry the key and nothing else. */
        check_only(p, ev, "in a follow-up: ", follow_up);
        return;
    }
    check_payload(p, json_object_get(ev, "payload"));
    check_links(p, ev);
    check_string(p, ev, "", "client", 0, 0);
    check_string(p, ev, "", "client_url", 0, 0);
}

static void reply(void *ctx, const struct peer_req *r, int status, struct peer_reply *out)
{
    json_t *o = NULL;
    const char *key = r->json ? fields_str(r->json, "dedup_key") : NULL;

    (void)ctx;
    if (status / 100 == 2)
        o = json_pack("{s:s, s:s, s:s}", "status", "success", "message", "Event processed",
                      "dedup_key", key ? key : "e4c3f3f2b8a04e0d9d7a9a6b1c2d3e4f");
    else if (status == 400)
        o = json_pack("{s:s, s:s, s:[s]}", "status", "invalid event", "message",
                      "Event object is invalid", "errors", PD_PEER_400_ERROR);
    else if (status == 429)
        o = json_pack("{s:s, s:s}", "status", "throttle exceeded", "message",
                      "Requests for this service are arriving too quickly.  Please retry later.");
    else if (status >= 500)
        o = json_pack("{s:s, s:s}", "status", "error", "message", "Internal Server Error");
    if (o) {
        out->body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
}

void pagerduty_peer_attach(struct peer *p)
{
    peer_set_provider(p, check, reply, NULL);
    peer_default(p, 202); /* "Accepted": PagerDuty queues events */
}
