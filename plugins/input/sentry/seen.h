/* seen.h: the Request-IDs of the deliveries an instance stored lately, so
 * a delivery Sentry retries (its answer was lost) is not counted twice. */
#ifndef TC_SENTRY_SEEN_H
#define TC_SENTRY_SEEN_H

#include <pthread.h>
#include <stddef.h>

#define SN_SEEN_MAX 512 /* deliveries remembered, oldest forgotten first */
#define SN_ID_MAX 64    /* Sentry's are 32 hex digits */

struct sn_seen {
    pthread_mutex_t lock;
    char ids[SN_SEEN_MAX][SN_ID_MAX + 1];
    size_t next;
};

void sn_seen_init(struct sn_seen *s);
void sn_seen_destroy(struct sn_seen *s);
/* Whether id can be remembered: 1..SN_ID_MAX hex digits and dashes. */
int sn_seen_valid(const char *id);
int sn_seen_has(struct sn_seen *s, const char *id);
void sn_seen_add(struct sn_seen *s, const char *id);

#endif
