/* format.h: one readable line per notification for the `console` sink.
 * Pure: no I/O. */
#ifndef TC_CONSOLE_FORMAT_H
#define TC_CONSOLE_FORMAT_H

#include <stddef.h>
#include <tocsin/plugin.h>

/* Writes the line (no trailing newline) into buf like snprintf: always
 * NUL-terminated when size > 0, returns the length the whole line needs
 * (so a return >= size means it was cut), or -1 when n has no alert.
 *
 *   2026-11-23T03:12:45.123Z TRIGGER incident #12 [critical] disk 97%
 *   (source=prom service=node dedup=b1c6e7d2a4f09e13 occurrences=1)
 *
 * on one line; " by=alice" and " note=\"...\"" follow occurrences when
 * set. Values with blanks, quotes or control characters are quoted with
 * C-style escapes; control characters in the summary become spaces, so a
 * notification is always exactly one line. */
int console_format(const struct tocsin_notification *n, char *buf, size_t size);

#endif
