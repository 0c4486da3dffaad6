/* rows.h: the outbox rows a writer job created, handed to the dispatcher
 * once the transaction commits and forgotten if it rolls back. */
#ifndef TC_ROWS_H
#define TC_ROWS_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "fresh.h"

struct tc_new_row {
    const char *sink;       /* points into the config */
    int64_t id, incident, at; /* at: created and due */
    enum tocsin_action action;
    struct tc_fresh *fresh; /* a reference, or NULL */
};

struct tc_rows {
    struct tc_new_row *v;
    size_t n, cap;
};

/* Append a row (taking over its fresh reference). 0, or -1 when out of
 * memory (the row is not added). */
int tc_rows_push(struct tc_rows *rows, const struct tc_new_row *row);
/* Forget the rows from index n on (a savepoint rolled back). */
void tc_rows_truncate(struct tc_rows *rows, size_t n);
/* Rolled back: release the rows (the array stays for reuse). */
void tc_rows_drop(struct tc_rows *rows);
void tc_rows_free(struct tc_rows *rows);

#endif
