/* format.h: the webhook sink's request bodies, tocsin's native payload and
 * Alertmanager's webhook payload (version "4"). Pure: no I/O. */
#ifndef TC_WEBHOOK_FORMAT_H
#define TC_WEBHOOK_FORMAT_H

#include <tocsin/plugin.h>

/* Alertmanager's zero time, what it sends as endsAt of a firing alert. */
#define WEBHOOK_ZERO_TIME "0001-01-01T00:00:00Z"

/* {"version":"1","action":"trigger","incident_id":12,"sink":"hook",
 *  "outbox_id":7,"attempt":1,"occurrences":1,"first_seen":"...",
 *  "last_seen":"...","actor":"alice","note":"...","external_url":"...",
 *  "alert":{ the native alert schema (tc_alert_to_json) }}
 * actor, note and unset (0) times are left out. malloc()ed compact JSON
 * text, NULL when out of memory or n has no alert. */
char *webhook_format_native(const struct tocsin_notification *n);

/* Alertmanager's webhook payload for the incident's alert; receiver is
 * the `receiver` field (NULL: n->sink_id). See format.c for how tocsin's
 * fields map. malloc()ed compact JSON text, NULL as above. */
char *webhook_format_alertmanager(const struct tocsin_notification *n, const char *receiver);

/* Alertmanager's groupKey for a dedup key: {}:{dedup_key="..."} with
 * quotes, backslashes and line breaks escaped as Go's %q does. malloc()ed. */
char *webhook_group_key(const char *dedup_key);

#endif
