/* mime.h: the pieces of an RFC 5322 / MIME message the email sink writes:
 * text made safe, header fields folded with RFC 2047 encoded words,
 * addresses, quoted-printable bodies, the RFC 5322 date, HTML escaping.
 * Pure: no I/O. Text is written into a struct tc_text (lib/common.h). */
#ifndef TC_EMAIL_MIME_H
#define TC_EMAIL_MIME_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

/* Header lines are folded to this many characters (RFC 5322 2.1.1). */
#define EM_LINE 78
/* The longest address taken (RFC 5321 4.5.3.1.3: a path of 256 octets). */
#define EM_ADDR_MAX 254
/* The longest display name taken. */
#define EM_NAME_MAX 128

/* s as one line: invalid UTF-8 bytes become U+FFFD, control characters
 * (line breaks included) and runs of white space one space, no space at
 * either end. malloc()ed; NULL only without memory (s NULL is ""). */
char *em_one_line(const char *s);
/* s as lines of a body: invalid UTF-8 becomes U+FFFD, CRLF and CR become
 * LF, other control characters but tab a space. malloc()ed, as above. */
char *em_lines(const char *s);
/* Cuts the malloc()ed UTF-8 text s to at most max bytes (max >= 4),
 * ending in "…" when it had to cut; never inside a character. Returns 1
 * when it cut. */
int em_cut(char *s, size_t max);

/* 1 when s (one line) can go into a header as it is: printable ASCII,
 * no "=?" an RFC 2047 decoder would take for an encoded word, and no word
 * too long to fold. */
int em_header_plain(const char *s);

/* A header field being written, folded at EM_LINE. */
struct em_header {
    struct tc_text *t;
    size_t col; /* characters on the current line */
};
/* "Name:" */
void em_header_start(struct em_header *h, struct tc_text *t, const char *name);
/* " word", or a fold (CRLF, space) and the word when it would not fit. */
void em_header_word(struct em_header *h, const char *w, size_t n);
/* Unstructured text (Subject): s as words when em_header_plain(s), else as
 * RFC 2047 "B" encoded words of UTF-8 (each at most 75 characters, never
 * splitting a character), which a reader joins back without spaces. */
void em_header_text(struct em_header *h, const char *s);
/* A display name: atoms when it is plain (letters, digits, atext,
 * spaces), else encoded words as above. */
void em_header_phrase(struct em_header *h, const char *s);
/* CRLF: the field is complete. */
void em_header_end(struct em_header *h);

/* An address as configured: "ops@example.org" or "Ops Team
 * <ops@example.org>" (the name may be quoted, and may be UTF-8). */
struct em_addr {
    char *name; /* NULL: none; one line */
    char *addr; /* local@domain, printable ASCII */
};
/* Returns 0, or -1 with err saying what is wrong (without s itself). */
int em_addr_parse(const char *s, struct em_addr *out, char *err, size_t errlen);
void em_addr_free(struct em_addr *a);
/* The domain of a parsed address (after the last '@'). */
const char *em_addr_domain(const struct em_addr *a);
/* The address into a header: [phrase] <addr>, with a "," after it when
 * comma is set (a list goes on). */
void em_header_addr(struct em_header *h, const struct em_addr *a, int comma);

/* Text with "\n" line ends as quoted-printable (RFC 2045 6.7): CRLF line
 * ends, lines of at most 76 characters, "=", non-ASCII and trailing white
 * space encoded, and "From " at a line start too (mbox readers). */
void em_qp(struct tc_text *t, const char *s);
/* Base64 (RFC 4648) of n bytes, without line breaks. */
void em_base64(struct tc_text *t, const unsigned char *p, size_t n);
/* ms since the epoch as an RFC 5322 date in UTC: "Mon, 23 Nov 2026
 * 03:12:45 +0000" (buf >= 32 bytes); English names, whatever the locale. */
char *em_date(int64_t ms, char *buf, size_t size);
/* s with & < > " ' as HTML character references. */
void em_html(struct tc_text *t, const char *s);
/* 1 when url may become a link (href): http://, https:// or mailto:. */
int em_linkable(const char *url);

/* Shorthands on a tc_text. */
void em_put(struct tc_text *t, const char *s, size_t n);
void em_puts(struct tc_text *t, const char *s);
void em_printf(struct tc_text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text NUL-terminated and handed over (NULL when an allocation failed:
 * the buffer is then freed). */
char *em_finish(struct tc_text *t, size_t *len);

#endif
