/* helpers.h: what the plugin unit tests share besides the fake host:
 * reading fixtures, the alert they notify about, finding a plugin option's field in its conf, and
 * calling the plugin under test's deliver_sized() the way the core does. Each fails the test
 * (Check) instead of returning an error. */
#ifndef TC_TEST_HELPERS_H
#define TC_TEST_HELPERS_H

#include <jansson.h>
#include <stddef.h>
#include <tocsin/plugin.h>

/* tests/fixtures/<dir>/<name> under $TOCSIN_SRCDIR (else the source tree
 * the test was built from), NUL-terminated; its length to *len if len is
 * not NULL. Owned by the caller. */
char *fixture_text(const char *dir, const char *name, size_t *len);
/* The same file parsed as JSON (owned). */
json_t *fixture_json(const char *dir, const char *name);

/* The disk-full story the sink tests tell: a firing critical alert
 * ("Disk 97% full on db1", "/var is 97% full.") as incident 12's
 * trigger for sink_id, first attempt, outbox row 7. Zeroes both first;
 * the test adds its labels, links, times and URLs. */
void disk_full_trigger(struct tocsin_alert *a, struct tocsin_notification *n,
                       const char *sink_id);

/* The plugin under test: every plugin unit test links one. */
extern const struct tocsin_plugin tocsin_plugin;

/* The option called name in tocsin_plugin.options (fails the test when
 * there is none). */
const struct tocsin_option *plugin_option(const char *name);
/* Where that option's value lives in conf. */
void *plugin_field(void *conf, const char *name);

/* deliver_sized() as the core calls it: into a zeroed verdict of its size. */
struct tocsin_verdict plugin_deliver(void *self, const struct tocsin_notification *n);

#endif
