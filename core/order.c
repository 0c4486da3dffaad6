/* order.c: per-incident lines of one sink's deliveries (see order.h): a
 * hash of incident id -> FIFO of the rows behind the head. */
#include <stdlib.h>

#include "order.h"

struct waiter {
    struct tc_item it;
    struct waiter *next;
};

struct line {
    int64_t incident;
    struct line *next;          /* in its bucket */
    struct waiter *head, *tail; /* behind the row being delivered */
    int blocked;
};

struct tc_order {
    struct line **buckets;
    size_t n_buckets, n_lines, n_waiting;
};

struct tc_order *tc_order_new(void)
{
    struct tc_order *o = calloc(1, sizeof *o);

    if (o && !(o->buckets = calloc(64, sizeof *o->buckets))) {
        free(o);
        return NULL;
    }
    if (o)
        o->n_buckets = 64;
    return o;
}

static size_t slot(const struct tc_order *o, int64_t incident)
{
    uint64_t h = (uint64_t)incident * 0x9e3779b97f4a7c15u; /* Fibonacci hashing */

    return (size_t)(h >> 32) & (o->n_buckets - 1);
}

static struct line **find(struct tc_order *o, int64_t incident)
{
    struct line **l = &o->buckets[slot(o, incident)];

    while (*l && (*l)->incident != incident)
        l = &(*l)->next;
    return l;
}

/* Double the buckets past one line per bucket; keeps the old ones when
 * out of memory (longer chains, still correct). */
static void grow(struct tc_order *o)
{
    size_t n = o->n_buckets * 2, i;
    struct line **b = calloc(n, sizeof *b), **old = o->buckets;

    if (!b)
        return;
    o->buckets = b;
    o->n_buckets = n;
    for (i = 0; i < n / 2; i++) {
        while (old[i]) {
            struct line *l = old[i];
            struct line **to = &b[slot(o, l->incident)];

            old[i] = l->next;
            l->next = *to;
            *to = l;
        }
    }
    free(old);
}

enum tc_line tc_order_arrive(struct tc_order *o, const struct tc_item *it)
{
    struct line **at = find(o, it->incident), *l = *at;
    struct waiter *w;

    if (!l) {
        if (!(l = calloc(1, sizeof *l)))
            return TC_LINE_NOMEM;
        l->incident = it->incident;
        *at = l;
        if (++o->n_lines > o->n_buckets)
            grow(o);
        return TC_LINE_HEAD;
    }
    if (l->blocked)
        return TC_LINE_BLOCKED;
    if (!(w = malloc(sizeof *w)))
        return TC_LINE_NOMEM;
    w->it = *it;
    w->next = NULL;
    if (l->tail)
        l->tail->next = w;
    else
        l->head = w;
    l->tail = w;
    o->n_waiting++;
    return TC_LINE_WAITS;
}

static void remove_line(struct tc_order *o, struct line **at)
{
    struct line *l = *at;

    *at = l->next;
    free(l);
    o->n_lines--;
}

int tc_order_next(struct tc_order *o, int64_t incident, struct tc_item *next)
{
    struct line **at = find(o, incident), *l = *at;
    struct waiter *w;

    if (!l)
        return 0;
    if (!(w = l->head)) {
        remove_line(o, at);
        return 0;
    }
    l->head = w->next;
    if (!l->head)
        l->tail = NULL;
    *next = w->it;
    free(w);
    o->n_waiting--;
    return 1;
}

void tc_order_block(struct tc_order *o, int64_t incident,
                    void (*skip)(void *arg, struct tc_item *it), void *arg)
{
    struct line *l = *find(o, incident);
    struct waiter *w;

    if (!l)
        return;
    l->blocked = 1;
    while ((w = l->head)) {
        l->head = w->next;
        o->n_waiting--;
        skip(arg, &w->it);
        free(w);
    }
    l->tail = NULL;
}

void tc_order_unblock(struct tc_order *o, int64_t incident)
{
    struct line **at = find(o, incident);

    if (*at && (*at)->blocked)
        remove_line(o, at);
}

size_t tc_order_waiting(const struct tc_order *o)
{
    return o->n_waiting;
}

void tc_order_free(struct tc_order *o, void (*drop)(void *arg, struct tc_item *it), void *arg)
{
    size_t i;

    if (!o)
        return;
    for (i = 0; i < o->n_buckets; i++) {
        while (o->buckets[i]) {
            struct line *l = o->buckets[i];
            struct waiter *w;

            while ((w = l->head)) {
                l->head = w->next;
                drop(arg, &w->it);
                free(w);
            }
            o->buckets[i] = l->next;
            free(l);
        }
    }
    free(o->buckets);
    free(o);
}
