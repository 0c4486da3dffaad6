/* opsgenie_peer.c: Opsgenie's Alert API v2, strictly (see the header).
 * Written from the formats page, Opsgenie's "Alert API" and
 * opsgenie-go-sdk-v2's requests, not from the sink. Runs under the peer's
 * lock (peer_set_provider), which also guards the aliases seen. */
#define _POSIX_C_SOURCE 200809L
#include "opsgenie_peer.h"
#include "fields.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct og_peer {
    char *api_key;
    char **aliases; /* created so far */
    size_t n_aliases;
    unsigned long requests;
};

/* Opsgenie counts as Java does: UTF-16 code units. */
static size_t units(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = 0;

    for (; *p; p++) {
        if ((*p & 0xc0) == 0x80)
            continue;
        n += *p >= 0xf0 ? 2 : 1;
    }
    return n;
}

/* Reports say what the request was ("create", "close", ...). */
static void check_only(struct peer *p, json_t *o, const char *what, const char *const *known)
{
    char where[64];

    snprintf(where, sizeof where, "opsgenie: %s: ", what);
    fields_only(p, o, where, known);
}

static void check_text(struct peer *p, json_t *o, const char *what, const char *key,
                       int required, size_t max)
{
    char where[64];

    snprintf(where, sizeof where, "opsgenie: %s: ", what);
    fields_string(p, o, where, key, required, max, units);
}

static void check_strings(struct peer *p, json_t *o, const char *key, size_t max_items,
                          size_t max_len)
{
    json_t *arr = json_object_get(o, key), *v;
    size_t i;

    if (!arr)
        return;
    if (!json_is_array(arr) || json_array_size(arr) > max_items) {
        peer_violate(p, "opsgenie: create: %s is not an array of at most %zu", key, max_items);
        return;
    }
    json_array_foreach(arr, i, v)
        if (!json_is_string(v) || units(json_string_value(v)) > max_len)
            peer_violate(p, "opsgenie: create: %s[%zu] is not a string of at most %zu", key, i,
                          max_len);
}

static void check_responders(struct peer *p, json_t *o, const char *key, const char *const *types)
{
    json_t *arr = json_object_get(o, key), *r;
    size_t i;

    if (!arr)
        return;
    if (!json_is_array(arr) || json_array_size(arr) > 50) {
        peer_violate(p, "opsgenie: create: %s is not an array of at most 50", key);
        return;
    }
    json_array_foreach(arr, i, r) {
        int names = !!fields_str(r, "id") + !!fields_str(r, "name") + !!fields_str(r, "username");

        if (!json_is_object(r) || !fields_one_of(fields_str(r, "type"), types))
            peer_violate(p, "opsgenie: create: %s[%zu] has no valid type", key, i);
        else if (names != 1 || json_object_size(r) != 2)
            peer_violate(p, "opsgenie: create: %s[%zu] needs one of id, name, username", key, i);
        else if (fields_str(r, "username") && strcmp(fields_str(r, "type"), "user") != 0)
            peer_violate(p, "opsgenie: create: %s[%zu]: username for a %s", key, i,
                          fields_str(r, "type"));
    }
}

static void check_create(struct peer *p, struct og_peer *og, json_t *b)
{
    static const char *const known[] = { "message", "alias", "description", "responders",
                                         "visibleTo", "actions", "tags", "details", "entity",
                                         "source", "priority", "user", "note", NULL };
    static const char *const all[] = { "team", "user", "escalation", "schedule", NULL };
    static const char *const visible[] = { "team", "user", NULL };
    static const char *const priorities[] = { "P1", "P2", "P3", "P4", "P5", NULL };
    json_t *details = json_object_get(b, "details"), *v;
    const char *key, *alias = fields_str(b, "alias");
    size_t total = 0;

    check_only(p, b, "create", known);
    check_text(p, b, "create", "message", 1, 130);
    check_text(p, b, "create", "alias", 0, 512);
    check_text(p, b, "create", "description", 0, 15000);
    check_responders(p, b, "responders", all);
    check_responders(p, b, "visibleTo", visible);
    check_strings(p, b, "actions", 10, 50);
    check_strings(p, b, "tags", 20, 50);
    if (details && !json_is_object(details))
        peer_violate(p, "opsgenie: create: details is not an object");
    json_object_foreach(details, key, v) {
        if (!json_is_string(v))
            peer_violate(p, "opsgenie: create: details.%s is not a string", key);
        else
            total += units(key) + units(json_string_value(v));
    }
    if (total > 8000)
        peer_violate(p, "opsgenie: create: details hold %zu characters, over 8000", total);
    check_text(p, b, "create", "entity", 0, 512);
    check_text(p, b, "create", "source", 0, 100);
    check_text(p, b, "create", "user", 0, 100);
    check_text(p, b, "create", "note", 0, 25000);
    if (json_object_get(b, "priority") && !fields_one_of(fields_str(b, "priority"), priorities))
        peer_violate(p, "opsgenie: create: priority %s is not P1..P5",
                     fields_str(b, "priority") ? fields_str(b, "priority") : "(not a string)");
    if (alias) {
        char **a = realloc(og->aliases, (og->n_aliases + 1) * sizeof *a);

        if (a) {
            og->aliases = a;
            og->aliases[og->n_aliases++] = strdup(alias);
        }
    }
}

static int hexval(int c)
{
    return isdigit(c) ? c - '0' : isxdigit(c) ? (tolower(c) - 'a' + 10) : -1;
}

/* The alias segment as sent: RFC 3986 pchars, "%XX" decoded. NULL when
 * something in it should have been escaped. */
static char *decode_segment(const char *s, size_t len)
{
    char *out = malloc(len + 1), *q = out;
    size_t i;

    if (!out)
        return NULL;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == '%') {
            if (i + 2 >= len || hexval((unsigned char)s[i + 1]) < 0 ||
                hexval((unsigned char)s[i + 2]) < 0)
                goto bad;
            *q++ = (char)(hexval((unsigned char)s[i + 1]) * 16 + hexval((unsigned char)s[i + 2]));
            i += 2;
        } else if (isalnum(c) || strchr("-._~!$&'()*+,;=:@", c)) {
            *q++ = (char)c;
        } else {
            goto bad;
        }
    }
    *q = '\0';
    return out;
bad:
    free(out);
    return NULL;
}

static void check_follow_up(struct peer *p, struct og_peer *og, const struct peer_req *r,
                            const char *rest)
{
    static const char *const known[] = { "user", "source", "note", NULL };
    const char *slash = strchr(rest, '/'), *type = fields_str(r->query, "identifierType");
    char what[32], *alias;
    size_t i;

    if (!slash || strchr(slash + 1, '/')) {
        peer_violate(p, "opsgenie: %s is not /v2/alerts/{alias}/{action} (a \"/\" in the alias "
                        "must be %%2F)", r->raw_path);
        return;
    }
    snprintf(what, sizeof what, "%s", slash + 1);
    if (strcmp(what, "acknowledge") != 0 && strcmp(what, "close") != 0 &&
        strcmp(what, "notes") != 0) {
        peer_violate(p, "opsgenie: %s: no such action %s", r->raw_path, what);
        return;
    }
    if (!type || strcmp(type, "alias") != 0)
        peer_violate(p, "opsgenie: %s without identifierType=alias (identifierType %s)",
                     r->raw_path, type ? type : "missing: Opsgenie would take it as an id");
    alias = decode_segment(rest, (size_t)(slash - rest));
    if (!alias) {
        peer_violate(p, "opsgenie: %s: the alias is not percent-encoded as a path segment",
                     r->raw_path);
    } else {
        for (i = 0; i < og->n_aliases; i++)
            if (og->aliases[i] && strcmp(og->aliases[i], alias) == 0)
                break;
        if (i == og->n_aliases)
            peer_violate(p, "opsgenie: %s of alias \"%.200s\", which was never created", what,
                         alias);
        free(alias);
    }
    check_only(p, r->json, what, known);
    check_text(p, r->json, what, "user", 0, 100);
    check_text(p, r->json, what, "source", 0, 100);
    check_text(p, r->json, what, "note", strcmp(what, "notes") == 0, 25000);
}

static void check(void *ctx, struct peer *p, const struct peer_req *r)
{
    struct og_peer *og = ctx;
    const char *ct = fields_str(r->headers, "content-type");
    const char *auth = fields_str(r->headers, "authorization");

    if (strcmp(r->method, "POST") != 0)
        peer_violate(p, "opsgenie: %s %s: method is not POST", r->method, r->raw_path);
    if (!auth || strncmp(auth, "GenieKey ", 9) != 0 || !auth[9])
        peer_violate(p, "opsgenie: %s: Authorization is not \"GenieKey <key>\"", r->raw_path);
    else if (og->api_key && strcmp(auth + 9, og->api_key) != 0)
        peer_violate(p, "opsgenie: %s: not the configured API key", r->raw_path);
    if (!ct || strncmp(ct, "application/json", 16) != 0)
        peer_violate(p, "opsgenie: %s: Content-Type is %s, not application/json", r->raw_path,
                     ct ? ct : "(missing)");
    if (!json_is_object(r->json)) {
        peer_violate(p, "opsgenie: %s: body is not a JSON object (or not UTF-8): %.200s",
                     r->raw_path, r->body);
        return;
    }
    if (strcmp(r->raw_path, "/v2/alerts") == 0) {
        if (json_object_size(r->query))
            peer_violate(p, "opsgenie: create with a query string");
        check_create(p, og, r->json);
    } else if (strncmp(r->raw_path, "/v2/alerts/", 11) == 0) {
        check_follow_up(p, og, r, r->raw_path + 11);
    } else {
        peer_violate(p, "opsgenie: no such endpoint %s", r->raw_path);
    }
}

static void reply(void *ctx, const struct peer_req *r, int status, struct peer_reply *out)
{
    struct og_peer *og = ctx;
    char id[40];
    const char *msg;
    json_t *o;

    (void)r;
    snprintf(id, sizeof id, "6c4e2d1a-0b3f-4a5e-9d8c-%012lu", ++og->requests);
    if (status / 100 == 2) {
        o = json_pack("{s:s, s:f, s:s}", "result", "Request will be processed", "took", 0.107,
                      "requestId", id);
    } else if (status == 400) {
        o = json_pack("{s:s, s:{s:s}, s:f, s:s}", "message", OG_PEER_400_MESSAGE, "errors",
                      "message", OG_PEER_400_ERROR, "took", 0.002, "requestId", id);
    } else {
        switch (status) {
        case 401: msg = "Could not authenticate"; break;
        case 402: msg = "Your plan does not allow this request"; break;
        case 403: msg = "You are not authorized for this action"; break;
        case 404: msg = "Alert does not exist"; break;
        case 409: msg = "Conflict"; break;
        case 422: msg = "Request could not be processed"; break;
        case 429:
            msg = "You are making too many requests! To avoid errors, we recommend you limit "
                  "requests.";
            snprintf(out->headers[0][0], sizeof out->headers[0][0], "X-RateLimit-State");
            snprintf(out->headers[0][1], sizeof out->headers[0][1], "THROTTLED");
            snprintf(out->headers[1][0], sizeof out->headers[1][0], "X-RateLimit-Reason");
            snprintf(out->headers[1][1], sizeof out->headers[1][1], "INTEGRATION");
            snprintf(out->headers[2][0], sizeof out->headers[2][0], "X-RateLimit-Period-In-Sec");
            snprintf(out->headers[2][1], sizeof out->headers[2][1], "60");
            out->n_headers = 3;
            break;
        default: msg = status >= 500 ? "Internal Server Error" : "Request failed"; break;
        }
        o = json_pack("{s:s, s:f, s:s}", "message", msg, "took", 0.001, "requestId", id);
    }
    if (o) {
        out->body = json_dumps(o, JSON_COMPACT);
        json_decref(o);
    }
}

struct og_peer *opsgenie_peer_attach(struct peer *p, const char *api_key)
{
    struct og_peer *og = calloc(1, sizeof *og);

    if (!og)
        return NULL;
    og->api_key = api_key ? strdup(api_key) : NULL;
    peer_set_provider(p, check, reply, og);
    peer_default(p, 202);
    return og;
}

void opsgenie_peer_free(struct og_peer *og)
{
    size_t i;

    if (!og)
        return;
    for (i = 0; i < og->n_aliases; i++)
        free(og->aliases[i]);
    free(og->aliases);
    free(og->api_key);
    free(og);
}
