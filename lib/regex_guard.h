/* regex_guard.h: POSIX extended regexes from untrusted text (API filters,
 * silences, config), compiled anchored, after a check that glibc's
 * regcomp() cannot be made to build a huge automaton: it expands
 * repetitions by copying, so "(a{0,255}){0,255}" or "a+++...+" takes
 * gigabytes. Like Go's RE2, which Alertmanager uses, nested repetition
 * operators and backreferences are refused; repetition counts are at most
 * 255 and the expanded size of the whole is bounded. */
#ifndef TOCSIN_REGEX_GUARD_H
#define TOCSIN_REGEX_GUARD_H

#include <regex.h>
#include <stddef.h>

/* The longest regex taken, and the bound on its expanded size (atoms
 * after copying out repetitions): a regex without repetitions always
 * fits, and the worst that fits costs regcomp about 20 MB (measured:
 * "([a-z]{0,44}){0,44}"). */
#define TC_REGEX_MAX_LEN 1024
#define TC_REGEX_MAX_SIZE 2048

/* 0 when re is safe to compile, else -1 with why ("nested repetition
 * operator at offset 7"). */
int tc_regex_check(const char *re, char *why, size_t whylen);
/* Check re, then compile ^(re)$ with REG_EXTENDED | REG_NOSUB into *out.
 * 0, or -1 with why (the check's reason, or regerror's text); *out is
 * then not compiled. */
int tc_regex_compile_anchored(regex_t *out, const char *re, char *why, size_t whylen);

#endif
