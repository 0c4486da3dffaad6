/* common.h: helpers shared by the core and the bundled plugins (linked
 * statically into each): times, label fingerprints, alerts as JSON,
 * provider limits.
 * Not part of the SDK; third-party plugins need only <tocsin/plugin.h>. */
#ifndef TOCSIN_COMMON_H
#define TOCSIN_COMMON_H

#include <jansson.h>
#include <stdint.h>
#include <tocsin/plugin.h>

/* RFC 3339 ("2026-11-23T03:12:45.123Z", "...+02:00") to ms since the
 * epoch. Returns 0, or -1 when s is not such a time. */
int tc_time_parse(const char *s, int64_t *ms);
/* ms since the epoch to "2026-11-23T03:12:45.123Z" (buf >= 32 bytes). */
char *tc_time_format(int64_t ms, char *buf, size_t size);

/* Alertmanager's label-set fingerprint: names sorted, FNV-1a 64 over
 * name 0xff value 0xff ... Empty values are skipped, as Alertmanager does. */
uint64_t tc_fingerprint(const struct tocsin_kv *labels, size_t n);
/* The fingerprint as 16 hex digits (buf >= 17 bytes). */
char *tc_fingerprint_hex(const struct tocsin_kv *labels, size_t n, char *buf);

/* "critical", "high", "medium", "low", "info" and the aliases "P0".."P4",
 * "error" (high), "warning" (medium). Case-insensitive. 0 or -1. */
int tc_severity_parse(const char *s, enum tocsin_severity *out);

/* The action named by tocsin_action_name() ("trigger", "acknowledge",
 * "resolve", as the outbox stores it); anything else is a trigger. */
enum tocsin_action tc_action_parse(const char *name);

/* An alert parsed from JSON: strings borrow from the json_t it came from,
 * which must outlive it; the kv arrays are owned and freed by release. */
struct tc_alert {
    struct tocsin_alert a;
    struct tocsin_kv *kv;   /* storage behind labels, annotations, links */
};

/* The native schema (README "Alert schema"). Fields: dedup_key, status,
 * severity, summary, details, source, service, labels, annotations, links,
 * started_at, received_at, ended_at, expires_at. Unknown fields are
 * ignored. Returns 0, or -1 with err naming the field. */
int tc_alert_from_json(const json_t *obj, struct tc_alert *out, char *err, size_t errlen);
void tc_alert_release(struct tc_alert *alert);
/* The native schema as a new JSON object (times as RFC 3339, unset ones
 * left out). */
json_t *tc_alert_to_json(const struct tocsin_alert *a);
/* The same as JSON text: byte for byte json_dumps(tc_alert_to_json(a),
 * JSON_COMPACT), written without building the tree (the intake path).
 * malloc()ed, or NULL without memory. */
char *tc_alert_to_text(const struct tocsin_alert *a);

/* A growing text buffer; failed is set once an allocation failed. */
struct tc_text {
    char *s;
    size_t len, cap;
    int failed;
};
void tc_text_put(struct tc_text *t, const char *s, size_t n);
/* s as a JSON string, quoted and escaped as jansson dumps it; invalid
 * UTF-8 bytes become U+FFFD, as tc_json_string() repairs them. */
void tc_text_json_string(struct tc_text *t, const char *s);
/* Length of the valid UTF-8 sequence at p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0. Stops at a NUL. */
int tc_utf8_seq(const unsigned char *p);

/* Text from any source made safe for JSON. tc_utf8_clip: the length of
 * the longest prefix of s of at most max bytes that does not split a UTF-8
 * sequence (for "%.*s" in messages that end up in JSON). tc_json_string: a
 * JSON string of s with invalid UTF-8 bytes replaced by U+FFFD, where
 * json_string() would return NULL and the field would silently vanish;
 * NULL only when out of memory. */
int tc_utf8_clip(const char *s, int max);
json_t *tc_json_string(const char *s);
/* o[key] = v as a JSON string (tc_json_string), or as RFC 3339 time for
 * ms since the epoch; nothing when v is NULL or ms is 0. */
void tc_json_set_str(json_t *o, const char *key, const char *v);
void tc_json_set_time(json_t *o, const char *key, int64_t ms);

/* A {"k": "v", ...} object from a kv array, and back. from_json stores a
 * malloc()ed array in *out whose strings borrow from obj. */
json_t *tc_kv_to_json(const struct tocsin_kv *kv, size_t n);
int tc_kv_from_json(const json_t *obj, const char *field, struct tocsin_kv **out,
                    size_t *n, char *err, size_t errlen);

/* Whether a Content-Type header names application/json (any case, with
 * or without parameters). NULL is not JSON. */
int tc_is_json_type(const char *content_type);
/* The media type of a Content-Type header, lower case and without
 * parameters, into buf ("application/octet-stream" when absent, as HTTP
 * says to assume). */
const char *tc_media_type(const char *content_type, char *buf, size_t len);

/* The error answer of every HTTP endpoint: {"error": error, "detail":
 * detail} (detail left out when NULL), as malloc()ed JSON text. */
char *tc_error_json(const char *error, const char *detail);
/* The answer to a failed host->emit() (rc not TOCSIN_OK), the same from
 * every input: EBUSY 503 with Retry-After: 1, ESHUTDOWN 503, ENOMEM 500,
 * anything else 500 with err as the detail. Returns 0 when it filled in
 * resp; -1 for TOCSIN_EINVAL, which each input explains in its own 400. */
int tc_emit_answer(struct tocsin_http_response *resp, int rc, const char *err);

/* The usual rule for an HTTP answer worth another try: none came (0),
 * 408, 425, 429, or any 5xx. host->http_verdict applies it; sinks that
 * read the answer themselves apply the same. */
static inline int tc_http_retryable(long status)
{
    return status == 0 || status == 408 || status == 425 || status == 429 || status >= 500;
}

/* Appends text to out (of len bytes, holding a string), cut between
 * characters to what fits (fit.c). */
void tc_text_append(char *out, size_t len, const char *text);

/* Provider limits (fit.c), counted in UTF-16 code units (what Java and
 * JavaScript call a string's length; at least its count of characters).
 * tc_text_units: s's length in them (a byte that is not UTF-8 counts one,
 * as the U+FFFD it becomes). tc_text_fit: s when it fits max_units, else
 * its longest prefix cut between characters that fits with "…" after it.
 * tc_key_fit: s when it fits, else a prefix and "~" + 16 hex digits of a
 * hash of all of s (max_units in all): stable, so a provider sees the same
 * dedup key on every delivery of an incident. malloc()ed, NULL without
 * memory. */
size_t tc_text_units(const char *s);
char *tc_text_fit(const char *s, size_t max_units);
char *tc_key_fit(const char *s, size_t max_units);

/* Every copy of secret in text (of size bytes) replaced with mark (with
 * stars when mark is longer), and a start of secret of 8 characters or
 * more at text's end (where a provider's answer was cut) with "…": for a
 * provider's words quoted in a verdict reason (redact.c). */
void tc_redact(char *text, size_t size, const char *secret, const char *mark);

#endif