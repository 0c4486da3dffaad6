/* seen.c: see seen.h. A ring under a mutex: route handlers run
 * concurrently. Two copies of one delivery racing each other may both be
 * stored; that only bumps the incident's count, as without this. */
#include <string.h>

#include "seen.h"

void sn_seen_init(struct sn_seen *s)
{
    memset(s->ids, 0, sizeof s->ids);
    s->next = 0;
    pthread_mutex_init(&s->lock, NULL);
}

void sn_seen_destroy(struct sn_seen *s)
{
    pthread_mutex_destroy(&s->lock);
}

int sn_seen_valid(const char *id)
{
    size_t n = id ? strlen(id) : 0;

    return n > 0 && n <= SN_ID_MAX && strspn(id, "0123456789abcdefABCDEF-") == n;
}

int sn_seen_has(struct sn_seen *s, const char *id)
{
    size_t i;
    int found = 0;

    if (!sn_seen_valid(id))
        return 0;
    pthread_mutex_lock(&s->lock);
    for (i = 0; i < SN_SEEN_MAX && !found; i++)
        found = strcmp(s->ids[i], id) == 0;
    pthread_mutex_unlock(&s->lock);
    return found;
}

void sn_seen_add(struct sn_seen *s, const char *id)
{
    if (!sn_seen_valid(id))
        return;
    pthread_mutex_lock(&s->lock);
    strcpy(s->ids[s->next], id);
    s->next = (s->next + 1) % SN_SEEN_MAX;
    pthread_mutex_unlock(&s->lock);
}
