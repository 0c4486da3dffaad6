/* rows.c: the outbox rows a writer job created (rows.h). */
#include <stdlib.h>

#include "rows.h"

int tc_rows_push(struct tc_rows *rows, const struct tc_new_row *row)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 4;
        struct tc_new_row *grown = realloc(rows->v, cap * sizeof *grown);

        if (!grown)
            return -1;
        rows->v = grown;
        rows->cap = cap;
    }
    rows->v[rows->n++] = *row;
    return 0;
}

void tc_rows_truncate(struct tc_rows *rows, size_t n)
{
    while (rows->n > n)
        tc_fresh_unref(rows->v[--rows->n].fresh);
}

void tc_rows_drop(struct tc_rows *rows)
{
    tc_rows_truncate(rows, 0);
}

void tc_rows_free(struct tc_rows *rows)
{
    tc_rows_drop(rows);
    free(rows->v);
    rows->v = NULL;
    rows->cap = 0;
}
