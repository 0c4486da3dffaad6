/* errors.h: a list of error messages, so --check-config can print them all. */
#ifndef TC_ERRORS_H
#define TC_ERRORS_H

#include <stddef.h>
#include <tocsin/plugin.h>

struct tc_errors {
    char **msgs;
    size_t n;
};

TOCSIN_PRINTF(2, 3)
void tc_errors_add(struct tc_errors *e, const char *fmt, ...);
void tc_errors_free(struct tc_errors *e);

/* One message into err[errlen] (nothing when err is NULL or errlen 0). */
TOCSIN_PRINTF(3, 4)
void tc_seterr(char *err, size_t errlen, const char *fmt, ...);

#endif
