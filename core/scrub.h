/* scrub.h: text from outside (alert fields, provider answers, transport
 * errors) made safe to show in a log line, a timeline entry or a terminal. */
#ifndef TC_SCRUB_H
#define TC_SCRUB_H

#include <stddef.h>

/* What tc_scrub() keeps of a provider's reason, "…" included. */
#define TC_SCRUB_MAX 200

/* s with control characters escaped, so it stays one line and cannot
 * drive a terminal: \n \r \t as those two characters, other bytes below
 * 0x20, DEL, C1 controls (U+0080..U+009F, as their two bytes) and bytes
 * that are not valid UTF-8 as \xNN, and a backslash doubled (so an
 * escape in the output always means an escaped byte). Valid UTF-8 is kept.
 * Writes at most size - 1 bytes and a NUL (size > 0); an escape is never
 * split: what does not fit is left out. Returns the length written. */
size_t tc_escape(const char *s, char *out, size_t size);

/* A reason for the timeline and the log: s escaped as tc_escape() does,
 * every URL reduced to scheme://host[:port] with "/…" in place of its
 * userinfo, path, query and fragment when it had any (webhook URLs carry
 * their secret in the path, others in ?token= or user:pass@), and the
 * result cut to at most max bytes at a character boundary, ending in "…"
 * when cut. out must hold max + 1 bytes. Returns the length written. */
size_t tc_scrub(const char *s, char *out, size_t max);

#endif
