/* fresh.c: the in-memory trigger hand-off (see fresh.h). */
#define _GNU_SOURCE
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "fresh.h"

struct counted {
    struct tc_fresh f; /* first: the pointer handed out */
    atomic_int refs;
};

struct tc_fresh *tc_fresh_new(const char *alert_json, int64_t incident_id, int64_t seen_at)
{
    struct counted *c = malloc(sizeof *c);

    if (!c || !(c->f.alert_json = strdup(alert_json))) {
        free(c);
        return NULL;
    }
    atomic_init(&c->refs, 1);
    c->f.incident_id = incident_id;
    c->f.seen_at = seen_at;
    return &c->f;
}

struct tc_fresh *tc_fresh_ref(struct tc_fresh *f)
{
    if (f)
        atomic_fetch_add(&((struct counted *)f)->refs, 1);
    return f;
}

void tc_fresh_unref(struct tc_fresh *f)
{
    struct counted *c = (struct counted *)f;

    if (c && atomic_fetch_sub(&c->refs, 1) == 1) {
        free(c->f.alert_json);
        free(c);
    }
}
