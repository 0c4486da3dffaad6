/* helpers.c: see helpers.h. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"
#include "helpers.h"

static void fixture_path(char *path, size_t size, const char *dir, const char *name)
{
    const char *top = getenv("TOCSIN_SRCDIR");

    snprintf(path, size, "%s/tests/fixtures/%s/%s", top ? top : TOCSIN_TOP_SRCDIR, dir, name);
}

char *fixture_text(const char *dir, const char *name, size_t *len)
{
    char path[1024];
    FILE *f;
    char *buf;
    long n;

    fixture_path(path, sizeof path, dir, name);
    f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open fixture %s", path);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
    if (len)
        *len = (size_t)n;
    return buf;
}

json_t *fixture_json(const char *dir, const char *name)
{
    char path[1024];
    json_error_t e;
    json_t *j;

    fixture_path(path, sizeof path, dir, name);
    j = json_load_file(path, 0, &e);
    ck_assert_msg(j != NULL, "fixture %s: %s", path, e.text);
    return j;
}

void disk_full_trigger(struct tocsin_alert *a, struct tocsin_notification *n,
                       const char *sink_id)
{
    memset(a, 0, sizeof *a);
    a->status = TOCSIN_FIRING;
    a->severity = TOCSIN_SEV_CRITICAL;
    a->summary = "Disk 97% full on db1";
    a->details = "/var is 97% full.";
    memset(n, 0, sizeof *n);
    n->sink_id = sink_id;
    n->incident_id = 12;
    n->action = TOCSIN_ACT_TRIGGER;
    n->alert = a;
    n->attempt = 1;
    n->outbox_id = 7;
}

char *repeat(const char *unit, size_t times)
{
    size_t len = strlen(unit), i;
    char *s = malloc(len * times + 1);

    ck_assert_ptr_nonnull(s);
    for (i = 0; i < times; i++)
        memcpy(s + i * len, unit, len);
    s[len * times] = '\0';
    return s;
}

int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;

    while (*p) {
        int n = tc_utf8_seq(p);

        if (!n)
            return 0;
        p += n;
    }
    return 1;
}
