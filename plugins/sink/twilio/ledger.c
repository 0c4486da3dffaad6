/* ledger.c: see ledger.h. Each row is delivered by one worker at a time,
 * so its key has a single writer: no lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

void twilio_ledger_open(struct twilio_ledger *l, const struct tocsin_host *host,
                        int64_t outbox_id, int on)
{
    char *value = NULL;

    memset(l, 0, sizeof *l);
    l->host = host;
    l->on = on && host->state_get && host->state_put && host->state_delete;
    snprintf(l->key, sizeof l->key, "sent/%lld", (long long)outbox_id);
    if (!l->on)
        return;
    if (host->state_get(host, l->key, &value) != TOCSIN_OK) {
        host->log(host, TOCSIN_LOG_WARN,
                  "cannot read which recipients notification %lld reached; sending to all",
                  (long long)outbox_id);
        return;
    }
    if (value) {
        l->stored = 1;
        tc_text_put(&l->lines, value, strlen(value) + 1);
        if (!l->lines.failed)
            l->lines.len--; /* NUL-terminated, not counted */
        free(value);
    }
}

const char *twilio_ledger_find(const struct twilio_ledger *l, const char *channel,
                               const char *number, size_t *len)
{
    size_t cl = strlen(channel), nl = strlen(number);
    const char *p = l->lines.s, *end = p + l->lines.len;

    while (p && p < end) {
        const char *eol = memchr(p, '\n', (size_t)(end - p));

        if (!eol)
            eol = end;
        if ((size_t)(eol - p) > cl + nl + 2 && memcmp(p, channel, cl) == 0 && p[cl] == ' ' &&
            memcmp(p + cl + 1, number, nl) == 0 && p[cl + 1 + nl] == ' ') {
            p += cl + nl + 2;
            *len = (size_t)(eol - p);
            return p;
        }
        p = eol + 1;
    }
    return NULL;
}

void twilio_ledger_add(struct twilio_ledger *l, const char *channel, const char *number,
                       const char *outcome)
{
    const struct tocsin_host *host = l->host;
    size_t start = l->lines.len, i;

    if (!l->on)
        return;
    tc_text_put(&l->lines, channel, strlen(channel));
    tc_text_put(&l->lines, " ", 1);
    tc_text_put(&l->lines, number, strlen(number));
    tc_text_put(&l->lines, " ", 1);
    tc_text_put(&l->lines, outcome, strlen(outcome));
    tc_text_put(&l->lines, "\n", 2); /* and the NUL */
    if (l->lines.failed) {
        host->log(host, TOCSIN_LOG_WARN, "out of memory recording the %s to %s", channel,
                  number);
        return;
    }
    l->lines.len--;
    /* One line per outcome, whatever the provider wrote. */
    for (i = start; i + 1 < l->lines.len; i++)
        if (l->lines.s[i] == '\n' || l->lines.s[i] == '\r')
            l->lines.s[i] = ' ';
    if (host->state_put(host, l->key, l->lines.s) != TOCSIN_OK)
        host->log(host, TOCSIN_LOG_WARN,
                  "cannot record the %s to %s: a retry may send it again", channel, number);
    else
        l->stored = 1;
}

void twilio_ledger_close(struct twilio_ledger *l, int settled)
{
    const struct tocsin_host *host = l->host;

    if (l->on && settled && l->stored && host->state_delete(host, l->key) != TOCSIN_OK)
        host->log(host, TOCSIN_LOG_WARN, "cannot delete %s from the plugin state", l->key);
    free(l->lines.s);
    memset(&l->lines, 0, sizeof l->lines);
}
