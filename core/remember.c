/* remember.c: the per-thread window in which a sink may remember a ref. */
#include <string.h>

#include "remember.h"

/* One delivery at a time per thread: a worker, or --test-sink's main. */
static _Thread_local struct tc_remembered *window;

void tc_remember_begin(struct tc_remembered *r, const struct tocsin_notification *n)
{
    memset(r, 0, sizeof *r);
    r->n = n;
    window = r;
}

void tc_remember_end(void)
{
    window = NULL;
}

int tc_remember(const struct tocsin_notification *n, const char *ref)
{
    size_t len = ref ? strlen(ref) : 0;

    if (!window || !n || window->n != n || len > TOCSIN_REF_MAX)
        return TOCSIN_EINVAL;
    window->set = 1;
    window->forget = ref == NULL;
    memcpy(window->ref, ref ? ref : "", len + 1);
    return TOCSIN_OK;
}
