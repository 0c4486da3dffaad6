/* origin.c: Host and Origin checks against the daemon's own names. */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "origin.h"

enum scheme { S_ANY = 0, S_HTTP, S_HTTPS };

struct name {
    char *host;    /* lower case; IPv6 in brackets */
    int port;      /* 0: any */
    enum scheme scheme;
};

struct tc_origins {
    struct name *names;
    size_t n;
    int any_host;  /* a wildcard listener nobody named */
    int tls;
};

/* "host", "host:port", "[v6]" or "[v6]:port" into lower-case host and
 * port (0 when absent); 0 on anything else. */
static int split_hostport(const char *s, size_t len, char *host, size_t hostlen, int *port)
{
    const char *colon = NULL, *p;
    size_t hl;
    long v = 0;

    *port = 0;
    if (len == 0)
        return 0;
    if (s[0] == '[') {
        const char *close = memchr(s, ']', len);

        if (!close)
            return 0;
        hl = (size_t)(close - s) + 1;
        if (hl < len) {
            if (close[1] != ':')
                return 0;
            colon = close + 1;
        }
    } else {
        colon = memchr(s, ':', len);
        if (colon && memchr(colon + 1, ':', len - (size_t)(colon + 1 - s)))
            return 0; /* a bare IPv6 address: not a valid Host */
        hl = colon ? (size_t)(colon - s) : len;
    }
    if (hl == 0 || hl >= hostlen)
        return 0;
    if (colon) {
        if (colon + 1 == s + len || s + len - colon > 6)
            return 0;
        for (p = colon + 1; p < s + len; p++) {
            if (!isdigit((unsigned char)*p))
                return 0;
            v = v * 10 + (*p - '0');
        }
        if (v < 1 || v > 65535)
            return 0;
        *port = (int)v;
    }
    for (p = s; p < s + hl; p++)
        host[p - s] = (char)tolower((unsigned char)*p);
    host[hl] = '\0';
    return 1;
}

static int add(struct tc_origins *o, const char *host, int port, enum scheme scheme)
{
    struct name *grown = realloc(o->names, (o->n + 1) * sizeof *grown);

    if (!grown)
        return -1;
    o->names = grown;
    if (!(grown[o->n].host = strdup(host)))
        return -1;
    grown[o->n].port = port;
    grown[o->n].scheme = scheme;
    o->n++;
    return 0;
}

static int is_wildcard(const char *host)
{
    return strcmp(host, "0.0.0.0") == 0 || strcmp(host, "[::]") == 0 ||
           strcmp(host, "[0:0:0:0:0:0:0:0]") == 0;
}

/* scheme://[userinfo@]host[:port][/...] */
static int add_url(struct tc_origins *o, const char *url)
{
    const char *hp, *end, *at;
    char host[256];
    int port;
    enum scheme scheme;

    if (strncasecmp(url, "http://", 7) == 0)
        scheme = S_HTTP, hp = url + 7;
    else if (strncasecmp(url, "https://", 8) == 0)
        scheme = S_HTTPS, hp = url + 8;
    else
        return 0;
    end = hp + strcspn(hp, "/?#");
    at = memchr(hp, '@', (size_t)(end - hp));
    if (at)
        hp = at + 1;
    if (!split_hostport(hp, (size_t)(end - hp), host, sizeof host, &port))
        return 0;
    return add(o, host, port ? port : scheme == S_HTTPS ? 443 : 80, scheme);
}

struct tc_origins *tc_origins_new(const char *bound, int loopback, int tls,
                                  const char *external_url,
                                  const struct tocsin_strlist *allowed)
{
    struct tc_origins *o = calloc(1, sizeof *o);
    enum scheme own = tls ? S_HTTPS : S_HTTP;
    char host[256];
    int port, named = 0;
    size_t i;

    if (!o)
        return NULL;
    o->tls = tls;
    if (!split_hostport(bound, strlen(bound), host, sizeof host, &port))
        goto fail;
    if (loopback && (add(o, "localhost", port, own) < 0 || add(o, "127.0.0.1", port, own) < 0 ||
                     add(o, "[::1]", port, own) < 0))
        goto fail;
    if (!is_wildcard(host) && add(o, host, port, own) < 0)
        goto fail;
    if (external_url && *external_url) {
        if (add_url(o, external_url) < 0)
            goto fail;
        named = 1;
    }
    for (i = 0; allowed && i < allowed->n; i++) {
        const char *a = allowed->items[i];

        if (!split_hostport(a, strlen(a), host, sizeof host, &port))
            continue; /* config.c refused it already */
        if (add(o, host, port, S_ANY) < 0)
            goto fail;
        named = 1;
    }
    if (!split_hostport(bound, strlen(bound), host, sizeof host, &port))
        goto fail;
    o->any_host = is_wildcard(host) && !loopback && !named;
    return o;
fail:
    tc_origins_free(o);
    return NULL;
}

void tc_origins_free(struct tc_origins *o)
{
    size_t i;

    if (!o)
        return;
    for (i = 0; i < o->n; i++)
        free(o->names[i].host);
    free(o->names);
    free(o);
}

static int known(const struct tc_origins *o, const char *host, int port, enum scheme scheme)
{
    size_t i;

    for (i = 0; i < o->n; i++) {
        const struct name *n = &o->names[i];

        if (strcmp(n->host, host) != 0)
            continue;
        if (n->scheme != S_ANY && scheme != S_ANY && n->scheme != scheme)
            continue;
        /* A Host without a port means the scheme's default port. */
        if (n->port == 0 || n->port == port || (port == 0 && (n->port == 80 || n->port == 443)))
            return 1;
    }
    return 0;
}

int tc_origins_host_ok(const struct tc_origins *o, const char *hosthdr)
{
    char host[256];
    int port;

    if (!hosthdr || o->any_host)
        return 1;
    if (!split_hostport(hosthdr, strlen(hosthdr), host, sizeof host, &port))
        return 0;
    return known(o, host, port, S_ANY);
}

int tc_origins_origin_ok(const struct tc_origins *o, const char *origin)
{
    const char *hp;
    char host[256];
    int port;
    enum scheme scheme;

    if (!origin)
        return 1;
    if (o->any_host)
        return 1;
    if (strncasecmp(origin, "http://", 7) == 0)
        scheme = S_HTTP, hp = origin + 7;
    else if (strncasecmp(origin, "https://", 8) == 0)
        scheme = S_HTTPS, hp = origin + 8;
    else
        return 0; /* "null" (sandboxed pages, files) and anything else */
    if (!split_hostport(hp, strlen(hp), host, sizeof host, &port))
        return 0;
    if (!port)
        port = scheme == S_HTTPS ? 443 : 80;
    return known(o, host, port, scheme);
}
