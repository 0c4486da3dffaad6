/* options.h: typed option tables (plugin.h), checked and filled by the core. */
#ifndef TC_OPTIONS_H
#define TC_OPTIONS_H

#include <libconfig.h>
#include <stdio.h>
#include <tocsin/plugin.h>

#include "errors.h"

/* Fill `conf` (zeroed, of the plugin's conf_size) from the group `block`
 * according to `table`; `groups` holds the tables of its TOCSIN_OPT_GROUPS
 * options (the descriptor's, as the loader checked them; NULL for none).
 * Each group of such an option is filled like a block, its errors naming
 * the group's own FILE:LINE and "CONTEXT: option[i]" (i from 0). Keys listed in `reserved` (NULL-terminated: "id",
 * "plugin", core options of the kind) are skipped. Every problem is added
 * to errs as "FILE:LINE: CONTEXT: ..." where CONTEXT is e.g.
 * `sink "pd" (pagerduty)`: an unknown key (with a "did you mean" hint), a
 * wrong type, a missing required option, a bad duration or size, an
 * env:NAME that is unset, a file:PATH that cannot be read. Secret values
 * never appear in messages. Returns 0 when errs gained nothing. */
int tc_options_fill(const struct tocsin_option *table,
                    const struct tocsin_group_table *groups, const config_setting_t *block,
                    const char *const *reserved, const char *context, void *conf,
                    struct tc_errors *errs);

/* Free what fill allocated inside conf (not conf itself), the groups'
 * contents too, and zero it; `groups` as given to fill. */
void tc_options_free(const struct tocsin_option *table,
                     const struct tocsin_group_table *groups, void *conf);

/* Pointer to the value of `name` inside conf, or NULL; type set if non-NULL. */
const void *tc_options_get(const struct tocsin_option *table, const void *conf,
                           const char *name, enum tocsin_opt_type *type);

/* Print the table for --plugin-help (options_help.c): name, type, default,
 * required, secret, description; a groups option's own options indented
 * below it. */
void tc_options_help(FILE *out, const struct tocsin_option *table,
                     const struct tocsin_group_table *groups);

/* The entry of `groups` for the option called name, or NULL. */
const struct tocsin_group_table *tc_options_group(const struct tocsin_group_table *groups,
                                                  const char *name);

const char *tc_opt_type_name(enum tocsin_opt_type t);

/* The syntax of values (values.c). */

/* "30s" "5m" "250ms" "1h" "2d" or a bare number of seconds -> ms. 0 or -1. */
int tc_parse_duration(const char *s, int64_t *ms);
/* "512" "64k" "1M" "2G" (powers of 1024) -> bytes. 0 or -1. */
int tc_parse_size(const char *s, int64_t *bytes);

/* Resolve "env:NAME" / "file:PATH" (trailing newline dropped); any other
 * string is copied. Returns a malloc()ed string, or NULL with err set
 * (naming the variable or file, never a value). */
char *tc_resolve_secret(const char *value, char *err, size_t errlen);

/* Levenshtein distance, for "did you mean". */
size_t tc_edit_distance(const char *a, const char *b);

#endif
