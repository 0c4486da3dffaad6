/* values.c: the syntax of option values: durations, sizes, and the
 * env:/file: references that keep secrets out of tocsin.conf. */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "errors.h"
#include "options.h"

/* file: secrets are keys and URLs; anything bigger is a wrong path. */
#define SECRET_FILE_MAX (1024 * 1024)

static int parse_digits(const char **p, int64_t *out)
{
    const char *s = *p;
    int64_t v = 0;

    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++) {
        if (v > (INT64_MAX - (*s - '0')) / 10)
            return -1;
        v = v * 10 + (*s - '0');
    }
    *p = s;
    *out = v;
    return 0;
}

/* A bare number is seconds, like a libconfig int; otherwise one or more
 * number-unit pairs ("1h30m"), as Go and systemd write them. */
int tc_parse_duration(const char *s, int64_t *ms)
{
    static const struct { const char *unit; int64_t ms; } units[] = {
        { "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
        { "d", 86400000 }, { "w", 604800000 },
    };
    int64_t total = 0, n;
    size_t i;

    if (!s || !*s)
        return -1;
    if (parse_digits(&s, &n) < 0)
        return -1;
    if (!*s) {
        if (n > INT64_MAX / 1000)
            return -1;
        *ms = n * 1000;
        return 0;
    }
    for (;;) {
        for (i = 0; i < sizeof units / sizeof units[0]; i++) {
            size_t len = strlen(units[i].unit);
            if (strncmp(s, units[i].unit, len) == 0 &&
                !(len == 1 && s[0] == 'm' && s[1] == 's'))
                break;
        }
        if (i == sizeof units / sizeof units[0])
            return -1;
        s += strlen(units[i].unit);
        if (n > INT64_MAX / units[i].ms || total > INT64_MAX - n * units[i].ms)
            return -1;
        total += n * units[i].ms;
        if (!*s)
            break;
        if (parse_digits(&s, &n) < 0)
            return -1;
    }
    *ms = total;
    return 0;
}

int tc_parse_size(const char *s, int64_t *bytes)
{
    int64_t n, mult = 1;

    if (!s || parse_digits(&s, &n) < 0)
        return -1;
    switch (*s) {
    case 'k': case 'K': mult = INT64_C(1) << 10; s++; break;
    case 'm': case 'M': mult = INT64_C(1) << 20; s++; break;
    case 'g': case 'G': mult = INT64_C(1) << 30; s++; break;
    case 't': case 'T': mult = INT64_C(1) << 40; s++; break;
    default: break;
    }
    /* "64k", "64kB", "64KiB" and "512B" all mean the same thing here. */
    if (mult > 1 && (s[0] == 'i' || s[0] == 'I') && (s[1] == 'b' || s[1] == 'B'))
        s += 2;
    else if (*s == 'b' || *s == 'B')
        s++;
    if (*s || n > INT64_MAX / mult)
        return -1;
    *bytes = n * mult;
    return 0;
}

static char *read_secret_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t len;

    if (!f) {
        tc_seterr(err, errlen, "cannot read %s: %s", path, strerror(errno));
        return NULL;
    }
    buf = malloc(SECRET_FILE_MAX + 1);
    if (!buf) {
        fclose(f);
        tc_seterr(err, errlen, "cannot read %s: %s", path, strerror(ENOMEM));
        return NULL;
    }
    len = fread(buf, 1, SECRET_FILE_MAX + 1, f);
    if (ferror(f)) {
        tc_seterr(err, errlen, "cannot read %s: %s", path, strerror(errno ? errno : EIO));
        goto fail;
    }
    if (len > SECRET_FILE_MAX) {
        tc_seterr(err, errlen, "%s is larger than 1 MiB; is it the right file?", path);
        goto fail;
    }
    fclose(f);
    while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
        len--;
    buf[len] = '\0';
    return buf;
fail:
    fclose(f);
    free(buf);
    return NULL;
}

char *tc_resolve_secret(const char *value, char *err, size_t errlen)
{
    char *out;

    if (strncmp(value, "env:", 4) == 0) {
        const char *v;

        if (!value[4]) {
            tc_seterr(err, errlen, "\"env:\" needs a variable name (\"env:NAME\")");
            return NULL;
        }
        v = getenv(value + 4);
        if (!v) {
            tc_seterr(err, errlen, "environment variable %s is not set", value + 4);
            return NULL;
        }
        out = strdup(v);
    } else if (strncmp(value, "file:", 5) == 0) {
        if (!value[5]) {
            tc_seterr(err, errlen, "\"file:\" needs a path (\"file:/etc/tocsin/key\")");
            return NULL;
        }
        return read_secret_file(value + 5, err, errlen);
    } else {
        out = strdup(value);
    }
    if (!out)
        tc_seterr(err, errlen, "out of memory");
    return out;
}
