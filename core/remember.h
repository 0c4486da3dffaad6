/* remember.h: what a sink asks the core to keep for an incident while it
 * delivers one of its notifications (host->remember, ABI 1.1). The
 * delivering thread opens a window around deliver(); a call from anywhere
 * else, or about another notification, is refused. */
#ifndef TC_REMEMBER_H
#define TC_REMEMBER_H

#include <tocsin/plugin.h>

struct tc_remembered {
    const struct tocsin_notification *n; /* the delivery the window is for */
    int set;                             /* remember() was called */
    int forget;                          /* ... with NULL: drop the ref */
    char ref[TOCSIN_REF_MAX + 1];
};

/* Open the calling thread's window for n (r is zeroed); close it after
 * deliver() returned. */
void tc_remember_begin(struct tc_remembered *r, const struct tocsin_notification *n);
void tc_remember_end(void);

/* One delivery of n by plugin p (deliver_sized when it has one, else the
 * 1.0 deliver), with the window open: what the sink remembered is in
 * *mem afterwards. The reason comes back NUL-terminated. */
struct tocsin_verdict tc_remember_deliver(const struct tocsin_plugin *p, void *self,
                                          const struct tocsin_notification *n,
                                          struct tc_remembered *mem);

/* host->remember: TOCSIN_OK, or TOCSIN_EINVAL outside n's delivery or for
 * a ref longer than TOCSIN_REF_MAX (nothing kept). */
int tc_remember(const struct tocsin_notification *n, const char *ref);

#endif
