/* text.h: text for Slack within its limits. User text is escaped (& < >
 * become entities), tocsin's own markup (mentions) goes in whole or not at
 * all, and a text that does not fit is cut on a character boundary, never
 * inside an entity or a piece of markup, and ends in "…". Pure: no I/O. */
#ifndef TC_SLACK_TEXT_H
#define TC_SLACK_TEXT_H

#include <stddef.h>

/* A text being built toward a limit of max characters. Characters are
 * counted as UTF-16 code units (a character beyond U+FFFF counts 2), which
 * is never fewer than Slack counts, and an entity counts as the characters
 * it is written with: the text always fits however Slack counts it. */
struct slk_text {
    char *s;
    size_t len, cap;
    size_t max, chars;
    size_t mark_len, mark_chars; /* the last cut point with room for "…" */
    int cut;    /* the text was cut: nothing more goes in */
    int failed; /* out of memory */
};

#define SLK_ELLIPSIS "\xe2\x80\xa6" /* U+2026 */

/* Flags of slk_put. */
#define SLK_ESCAPE 0x1u   /* & < > as &amp; &lt; &gt; */
#define SLK_ONE_LINE 0x2u /* line breaks and tabs as spaces */

void slk_init(struct slk_text *t, size_t max);
/* Text from outside (alerts, people): each character (or entity) one unit;
 * bytes that are not UTF-8 become U+FFFD, control characters other than
 * line breaks and tabs become spaces. NULL adds nothing. */
void slk_put(struct slk_text *t, const char *s, unsigned flags);
/* tocsin's own markup ("*bold*", "<!here>"): one unit, whole or cut. */
void slk_raw(struct slk_text *t, const char *s);
/* The text (malloc()ed, NUL-terminated; "" when empty), or NULL when out of
 * memory. The struct is then empty again. */
char *slk_take(struct slk_text *t);
void slk_free(struct slk_text *t);

/* One call: s escaped (and one line, with flags) within max characters. */
char *slk_fit(const char *s, size_t max, unsigned flags);

#endif
