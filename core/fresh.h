/* fresh.h: a new incident's trigger, handed from the writer to the sink
 * workers in memory, so the first attempt need not read the row back.
 * Retries and rows resumed at start read the store instead. */
#ifndef TC_FRESH_H
#define TC_FRESH_H

#include <stdint.h>

/* Shared by the incident's rows, reference counted, immutable: workers
 * get the alert as text and parse their own copy, so no JSON object is
 * shared between threads. */
struct tc_fresh {
    char *alert_json;
    int64_t incident_id, seen_at;
};

/* A copy of alert_json; NULL when out of memory (the row is then read back). */
struct tc_fresh *tc_fresh_new(const char *alert_json, int64_t incident_id, int64_t seen_at);
struct tc_fresh *tc_fresh_ref(struct tc_fresh *f);
void tc_fresh_unref(struct tc_fresh *f);

#endif
