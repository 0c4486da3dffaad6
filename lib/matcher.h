/* lib/matcher.h: Alertmanager/Prometheus label matchers on a tocsin alert. */
#ifndef TOCSIN_MATCHER_H
#define TOCSIN_MATCHER_H

#include <regex.h>
#include <stddef.h>
#include <tocsin/plugin.h>

enum tc_match_op { TC_MATCH_EQ, TC_MATCH_NE, TC_MATCH_RE, TC_MATCH_NRE };

struct tc_matcher {
    char *name, *value;
    enum tc_match_op op;
    regex_t re;      /* TC_MATCH_RE/NRE: value compiled anchored ^(?:value)$, POSIX ERE */
    int has_re;
};

/* `name="value"`, `name=value`, `name!="v"`, `name=~"re"`, `name!~"re"` (amtool's and
 * Prometheus' syntax; quoted values with \" and \\ escapes). 0, or -1 with err naming
 * what is wrong ("matcher \"x~y\": expected =, !=, =~ or !~"). */
int tc_matcher_parse(struct tc_matcher *m, const char *text, char *err, size_t errlen);
/* From Alertmanager's JSON form {name, value, isRegex, isEqual}. 0 or -1 with err. */
int tc_matcher_init(struct tc_matcher *m, const char *name, const char *value, int is_regex,
                    int is_equal, char *err, size_t errlen);
/* Safe on a matcher whose parse or init failed, and twice. */
void tc_matcher_free(struct tc_matcher *m);
/* The value a matcher name sees: the alert's label of that name if it has one, else
 * the fields "severity" (its name), "source", "service", "summary", "dedup_key";
 * "" when absent (Prometheus: foo="" matches an absent label). */
const char *tc_matcher_value(const struct tocsin_alert *a, const char *name);
int tc_matcher_match(const struct tc_matcher *m, const struct tocsin_alert *a);
/* All of v[0..n) match (n == 0: everything matches). */
int tc_matchers_match(const struct tc_matcher *v, size_t n, const struct tocsin_alert *a);

#endif
