/* order.h: one sink's deliveries in line per incident. A later action of
 * an incident (acknowledge, resolve) never overtakes an earlier one, even
 * while that one is being retried for hours; incidents still go out
 * concurrently, each line's head at a time. Not locked: the sink's queue
 * lock covers it. */
#ifndef TC_ORDER_H
#define TC_ORDER_H

#include <stddef.h>
#include <stdint.h>

#include "fresh.h"

/* A queued delivery of one outbox row. */
struct tc_item {
    int64_t due, id, incident, created;
    int action;             /* enum tocsin_action */
    int attempts;           /* attempts made so far */
    int throttled;          /* of which the provider asked to wait (no attempt spent) */
    struct tc_fresh *fresh; /* first attempt of a new trigger, else NULL */
};

enum tc_line {
    TC_LINE_HEAD,    /* first of its incident: deliver when due */
    TC_LINE_WAITS,   /* behind an earlier row: released by tc_order_next() */
    TC_LINE_BLOCKED, /* the incident's trigger failed: skip it */
    TC_LINE_NOMEM,
};

struct tc_order;

struct tc_order *tc_order_new(void);
/* Frees the lines; drop(arg, item) for every item still waiting. */
void tc_order_free(struct tc_order *o, void (*drop)(void *arg, struct tc_item *it), void *arg);

/* A row arrives (in outbox id order, as committed). */
enum tc_line tc_order_arrive(struct tc_order *o, const struct tc_item *it);
/* The head of incident's line is finished: 1 and *next is the new head,
 * or 0 and the line is gone. */
int tc_order_next(struct tc_order *o, int64_t incident, struct tc_item *next);
/* The head, the incident's trigger, failed for good: the rows behind it
 * go to skip(arg, item) and the line stays, refusing arrivals, until
 * tc_order_unblock() (once the writer recorded the failure, no new row
 * for this sink can appear). */
void tc_order_block(struct tc_order *o, int64_t incident,
                    void (*skip)(void *arg, struct tc_item *it), void *arg);
void tc_order_unblock(struct tc_order *o, int64_t incident);
/* Rows waiting behind a head. */
size_t tc_order_waiting(const struct tc_order *o);

#endif
