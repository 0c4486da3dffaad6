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

struct tocsin_verdict tc_remember_deliver(const struct tocsin_plugin *p, void *self,
                                          const struct tocsin_notification *n,
                                          struct tc_remembered *mem)
{
    struct tocsin_verdict v;

    tc_remember_begin(mem, n);
    if (p->deliver_sized) {
        /* Ours, so its size is ours; zeroed, it says "done" until written. */
        memset(&v, 0, sizeof v);
        p->deliver_sized(self, n, &v, sizeof v);
    } else {
        v = p->deliver(self, n);
    }
    tc_remember_end();
    v.reason[sizeof v.reason - 1] = '\0';
    return v;
}
