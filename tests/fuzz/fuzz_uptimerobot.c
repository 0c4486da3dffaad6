/* fuzz_uptimerobot.c: libFuzzer target for the uptimerobot input's
 * parsers: webhook values as a form and as JSON, a getMonitors answer,
 * and the change between the kept state and a poll (the input read as
 * either). Seeds: tests/fixtures/uptimerobot. */
#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "../../plugins/input/uptimerobot/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void diff(const json_t *prev, const json_t *monitors, const struct ur_rules *rules)
{
    struct ur_changes c;

    ur_diff(prev, monitors, rules, &c);
    ur_changes_free(&c);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tocsin_kv sev[] = { { "ssl", "low" }, { "down", "bogus" } };
    static const struct tocsin_map map = { 2, sev };
    const struct ur_rules rules = { &map, "https://dashboard.uptimerobot.com/monitors/", 1 };
    const char *s = (const char *)data;
    struct ur_fields f;
    struct ur_alert a;
    struct ur_page p;
    char err[300];
    size_t n;
    json_t *prev;

    if (ur_fields_from_form(s, size, &f) == 0)
        ur_webhook_alert(&f, &rules, &a, &n, err, sizeof err);
    ur_fields_free(&f);
    if (ur_fields_from_json(s, size, &f, err, sizeof err) == 0)
        ur_webhook_alert(&f, &rules, &a, &n, err, sizeof err);
    ur_fields_free(&f);
    prev = json_loads("{\"1\":{\"st\":\"down\",\"name\":\"a\"},\"2\":{\"st\":\"up\"}}", 0,
                      NULL);
    if (ur_page_parse(s, size, &p, err, sizeof err) == 0)
        diff(prev, p.monitors, &rules);
    ur_page_free(&p);
    json_decref(prev);
    /* The same bytes as a kept state, against a fixed poll. */
    prev = json_loadb(s, size, 0, NULL);
    if (json_is_object(prev)) {
        json_t *m = json_loads("[{\"id\":1,\"status\":2},{\"id\":\"2\",\"status\":9},"
                               "{\"id\":3,\"status\":8,\"friendly_name\":\"c\"}]", 0, NULL);

        diff(prev, m, &rules);
        json_decref(m);
    }
    json_decref(prev);
    return 0;
}
