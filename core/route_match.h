/* route_match.h: route paths with {name} segments: check a pattern, tell
 * two apart, match a request path, decode a value. Pure: no I/O, no
 * allocation. */
#ifndef TC_ROUTE_MATCH_H
#define TC_ROUTE_MATCH_H

#include <stddef.h>

/* At most this many {name} segments in one pattern. */
#define TC_ROUTE_MAX_PARAMS 8

/* One {name} of a matched path: spans of the pattern (the name, without
 * braces) and of the raw, still percent-encoded path (the value). */
struct tc_route_param {
    const char *name;
    size_t name_len;
    const char *raw;
    size_t raw_len;
};

/* How a value failed to decode. */
enum tc_route_decode_err {
    TC_ROUTE_BAD_ESCAPE = -1, /* '%' not followed by two hex digits */
    TC_ROUTE_NUL = -2,        /* %00 */
    TC_ROUTE_SLASH = -3,      /* %2F: a value is one segment */
};

/* The number of {name} segments of pattern (0: an exact or '*' path), or
 * -1 with err saying what is wrong: a brace that is not a whole segment,
 * a name outside [A-Za-z_][A-Za-z0-9_]*, a name used twice, an empty
 * segment or a trailing '*' beside a parameter, too many parameters. */
int tc_route_pattern_check(const char *pattern, char *err, size_t errlen);

/* Whether two parameter patterns match the same paths: equal literal
 * segments, parameters in the same places (whatever their names). */
int tc_route_same_shape(const char *a, const char *b);

/* Match a raw request path (percent-encoded, without the query) against a
 * parameter pattern: literal segments compare after decoding, each {name}
 * takes one non-empty segment, left encoded in params[]. Returns the
 * number of params filled, or -1 when the path does not match. */
int tc_route_match(const char *pattern, const char *path, struct tc_route_param *params,
                   size_t max);

/* Of two parameter patterns that both match a path, whether a wins: the
 * first segment where one is literal and the other a parameter decides
 * for the literal one ("/a/x/{id}" beats "/a/{id}/y"). */
int tc_route_more_specific(const char *a, const char *b);

/* Percent-decode raw[0..len) into out (room for len + 1 bytes is always
 * enough), strictly: the decoded length, or a negative
 * enum tc_route_decode_err. */
long tc_route_decode(const char *raw, size_t len, char *out);

/* The value of one hex digit, or -1. */
int tc_hex_digit(char c);

#endif
