/* helpers.h: what the unit tests share besides the fake host: reading
 * fixtures, the alert the sink tests notify about, and building and
 * checking long text. They fail the test (Check) instead of returning an
 * error. Nothing here needs a plugin linked in. */
#ifndef TC_TEST_HELPERS_H
#define TC_TEST_HELPERS_H

#include <jansson.h>
#include <stddef.h>
#include <tocsin/plugin.h>

/* tests/fixtures/<dir>/<name> under $TOCSIN_SRCDIR (else the source tree
 * the test was built from), NUL-terminated; its length to *len if len is
 * not NULL. Owned by the caller. */
char *fixture_text(const char *dir, const char *name, size_t *len);
/* The same file parsed as JSON (owned). */
json_t *fixture_json(const char *dir, const char *name);

/* The disk-full story the sink tests tell: a firing critical alert
 * ("Disk 97% full on db1", "/var is 97% full.") as incident 12's
 * trigger for sink_id, first attempt, outbox row 7. Zeroes both first;
 * the test adds its labels, links, times and URLs. */
void disk_full_trigger(struct tocsin_alert *a, struct tocsin_notification *n,
                       const char *sink_id);

/* unit repeated times (owned). */
char *repeat(const char *unit, size_t times);
/* 1 when s is valid UTF-8 all through (tc_utf8_seq over every sequence). */
int valid_utf8(const char *s);

#endif
