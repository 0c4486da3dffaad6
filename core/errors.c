/* errors.c: collecting error messages. */
#define _GNU_SOURCE
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "errors.h"

void tc_errors_add(struct tc_errors *e, const char *fmt, ...)
{
    va_list ap;
    char *msg = NULL;
    char **grown;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = NULL;
    va_end(ap);
    if (!msg)
        return;
    grown = realloc(e->msgs, (e->n + 1) * sizeof *grown);
    if (!grown) {
        free(msg);
        return;
    }
    e->msgs = grown;
    e->msgs[e->n++] = msg;
}

void tc_errors_free(struct tc_errors *e)
{
    size_t i;

    for (i = 0; i < e->n; i++)
        free(e->msgs[i]);
    free(e->msgs);
    e->msgs = NULL;
    e->n = 0;
}

void tc_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;

    if (!err || !errlen)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}
