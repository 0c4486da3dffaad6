/* ledger.h: which recipients a notification has reached, kept in the
 * instance's durable state (host->state_*) while the core retries it.
 * Twilio has no idempotency key, so a retry must send only what the
 * earlier attempts did not: one key per outbox row, "sent/<outbox_id>",
 * holds a line per message or call that is settled,
 *     "sms +15550001001 ok SM..."
 *     "call +15550001002 failed HTTP 400, Twilio error 21211: ..."
 * written right after Twilio answers, and deleted once the row is done or
 * failed for good. A crash between Twilio's answer and that write sends
 * that one message again on the retry. */
#ifndef TC_TWILIO_LEDGER_H
#define TC_TWILIO_LEDGER_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#include "common.h"

struct twilio_ledger {
    const struct tocsin_host *host;
    int on;          /* kept in the store (not for --test-sink, nor without state_*) */
    int stored;      /* the key exists in the store */
    char key[48];
    struct tc_text lines; /* NUL-terminated when len > 0 */
};

/* The ledger of the row outbox_id, read from the store; `on` 0 keeps
 * nothing (a test notification, which has no row of its own). A store that
 * cannot be read is logged and taken as empty: a page sent twice beats a
 * page not sent. */
void twilio_ledger_open(struct twilio_ledger *l, const struct tocsin_host *host,
                        int64_t outbox_id, int on);
/* What was recorded for channel ("sms", "call") and number: "ok ..." or
 * "failed <reason>" (len bytes, not NUL-terminated), or NULL. */
const char *twilio_ledger_find(const struct twilio_ledger *l, const char *channel,
                               const char *number, size_t *len);
/* Records an outcome ("ok SM...", "failed <reason>"; line breaks become
 * spaces) and stores the ledger at once. */
void twilio_ledger_add(struct twilio_ledger *l, const char *channel, const char *number,
                       const char *outcome);
/* Frees it; `settled` (the row is done or failed) deletes it from the store. */
void twilio_ledger_close(struct twilio_ledger *l, int settled);

#endif
