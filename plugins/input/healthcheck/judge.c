/* judge.c: the healthcheck's pure part (see judge.h). */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "judge.h"

/* A status at *p: exactly three digits, 100..599. */
static int take_status(const char **p, int *out)
{
    const char *s = *p;

    if (!isdigit((unsigned char)s[0]) || !isdigit((unsigned char)s[1]) ||
        !isdigit((unsigned char)s[2]) || isdigit((unsigned char)s[3]))
        return -1;
    *out = (s[0] - '0') * 100 + (s[1] - '0') * 10 + (s[2] - '0');
    if (*out < 100 || *out > 599)
        return -1;
    *p = s + 3;
    return 0;
}

int hc_status_parse(const char *text, struct hc_status_set *set, char *err, size_t errlen)
{
    const char *p = text;

    set->n = 0;
    if (!text || !*text) {
        snprintf(err, errlen, "expect_status is empty: e.g. \"200-399\" or \"200,204\"");
        return -1;
    }
    for (;;) {
        int lo, hi;

        while (*p == ' ')
            p++;
        if (take_status(&p, &lo) < 0)
            goto bad;
        hi = lo;
        if (*p == '-') {
            p++;
            if (take_status(&p, &hi) < 0 || hi < lo)
                goto bad;
        }
        if (set->n == HC_RANGES_MAX) {
            snprintf(err, errlen, "expect_status \"%.80s\": at most %d ranges", text,
                     HC_RANGES_MAX);
            return -1;
        }
        set->lo[set->n] = lo;
        set->hi[set->n] = hi;
        set->n++;
        while (*p == ' ')
            p++;
        if (*p == '\0')
            return 0;
        if (*p++ != ',')
            goto bad;
    }
bad:
    snprintf(err, errlen, "expect_status \"%.80s\": at \"%.20s\": use statuses 100-599 and "
             "ranges, comma-separated (\"200-399\", \"200,204\")", text, p);
    set->n = 0;
    return -1;
}

int hc_status_ok(const struct hc_status_set *set, long status)
{
    int i;

    for (i = 0; i < set->n; i++)
        if (status >= set->lo[i] && status <= set->hi[i])
            return 1;
    return 0;
}

void hc_fmt_secs(int64_t ms, char *buf, size_t len)
{
    int64_t tenths = (ms + 50) / 100;

    if (ms > 0 && tenths == 0)
        tenths = 1; /* never "0 s" for something that took time */
    if (tenths % 10 == 0)
        snprintf(buf, len, "%lld s", (long long)(tenths / 10));
    else
        snprintf(buf, len, "%lld.%lld s", (long long)(tenths / 10), (long long)(tenths % 10));
}

int hc_judge(const struct hc_outcome *o, const struct hc_expect *e, char *what, size_t len)
{
    char a[32], b[32];

    switch (o->transport) {
    case HC_TIMED_OUT:
        hc_fmt_secs(e->timeout_ms > 0 && o->latency_ms >= e->timeout_ms ? e->timeout_ms
                                                                         : o->latency_ms,
                    a, sizeof a);
        snprintf(what, len, "timeout after %s", a);
        return 0;
    case HC_REFUSED:
        snprintf(what, len, "connection refused");
        return 0;
    case HC_OTHER_ERROR:
        snprintf(what, len, "%s", o->error && *o->error ? o->error : "no answer");
        return 0;
    case HC_ANSWERED:
        break;
    }
    if (e->statuses && !hc_status_ok(e->statuses, o->status)) {
        snprintf(what, len, "status %ld", o->status);
        return 0;
    }
    if (e->body_contains &&
        (!o->body || !memmem(o->body, o->body_len, e->body_contains, strlen(e->body_contains)))) {
        snprintf(what, len, "answer lacks \"%.60s\"", e->body_contains);
        return 0;
    }
    if (e->max_latency_ms > 0 && o->latency_ms > e->max_latency_ms) {
        hc_fmt_secs((o->latency_ms + 99) / 100 * 100, a, sizeof a);
        hc_fmt_secs(e->max_latency_ms, b, sizeof b);
        snprintf(what, len, "%s > %s", a, b);
        return 0;
    }
    snprintf(what, len, "ok");
    return 1;
}

enum hc_change hc_track_step(struct hc_track *t, int healthy, int failures, int successes)
{
    if (healthy) {
        t->fails = 0;
        if (t->oks < successes)
            t->oks++;
        return t->firing && t->oks >= successes ? HC_RESOLVE : HC_SAME;
    }
    t->oks = 0;
    if (t->fails < failures)
        t->fails++;
    return !t->firing && t->fails >= failures ? HC_FIRE : HC_SAME;
}

void hc_display_url(const char *url, char *buf, size_t len)
{
    const char *scheme_end = strstr(url, "://"), *auth, *end, *at;
    size_t n;

    if (scheme_end && strcspn(url, "?#") < (size_t)(scheme_end - url))
        scheme_end = NULL; /* "://" inside a query is no scheme */
    if (!scheme_end) {
        snprintf(buf, len, "%.*s", (int)strcspn(url, "?#"), url);
        return;
    }
    auth = scheme_end + 3;
    end = auth + strcspn(auth, "/?#");
    /* user:password@ ends at the last '@' before the path */
    for (at = end; at > auth && at[-1] != '@'; at--)
        ;
    n = strcspn(end, "?#");
    snprintf(buf, len, "%.*s%.*s%.*s", (int)(scheme_end + 3 - url), url, (int)(end - at), at,
             (int)n, end);
}

int hc_split_hostport(const char *spec, char *host, size_t hostlen, char *port, size_t portlen)
{
    const char *colon, *h = spec;
    size_t hl;

    if (!spec || !*spec)
        return -1;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');

        if (!close || close[1] != ':')
            return -1;
        h = spec + 1;
        hl = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon || strchr(spec, ':') != colon)
            return -1;
        hl = (size_t)(colon - spec);
    }
    if (hl == 0 || hl >= hostlen || strlen(colon + 1) >= portlen)
        return -1;
    {
        char *end;
        long p = strtol(colon + 1, &end, 10);

        if (!isdigit((unsigned char)colon[1]) || *end || p < 1 || p > 65535)
            return -1;
    }
    memcpy(host, h, hl);
    host[hl] = '\0';
    snprintf(port, portlen, "%s", colon + 1);
    return 0;
}
