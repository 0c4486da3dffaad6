/* test_console_format.c: the console sink's line (format.c), and writing
 * it to a file from several workers at once (console.c, fake host). */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>
#include <unistd.h>

#include "format.h"

extern const struct tocsin_plugin tocsin_plugin;

/* 2026-11-23T03:12:45.123Z and 03:19:00Z, computed outside tocsin. */
#define T_031245_123 1795403565123LL
#define T_0319 1795403940000LL

static struct tocsin_alert alert;
static struct tocsin_notification note;

static void setup(void)
{
    memset(&alert, 0, sizeof alert);
    alert.summary = "disk 97%";
    alert.severity = TOCSIN_SEV_CRITICAL;
    alert.source = "prom";
    alert.service = "node";
    alert.dedup_key = "b1c6e7d2a4f09e13";
    alert.started_at = T_031245_123;
    memset(&note, 0, sizeof note);
    note.sink_id = "console";
    note.incident_id = 12;
    note.action = TOCSIN_ACT_TRIGGER;
    note.alert = &alert;
    note.occurrences = 1;
    note.first_seen = T_031245_123;
    note.last_seen = T_031245_123;
    note.attempt = 1;
    note.external_url = "";
    note.outbox_id = 7;
}

static void expect_line(const char *want)
{
    char buf[1024];
    int n = console_format(&note, buf, sizeof buf);

    ck_assert_str_eq(buf, want);
    ck_assert_int_eq(n, (int)strlen(want));
}

START_TEST(test_trigger_line)
{
    expect_line("2026-11-23T03:12:45.123Z TRIGGER incident #12 [critical] disk 97% "
                "(source=prom service=node dedup=b1c6e7d2a4f09e13 occurrences=1)");
}
END_TEST

START_TEST(test_resolve_line_has_actor_and_note)
{
    note.action = TOCSIN_ACT_RESOLVE;
    note.actor = "alice";
    note.note = "freed /var/log";
    note.occurrences = 3;
    alert.status = TOCSIN_RESOLVED;
    alert.ended_at = T_0319;
    expect_line("2026-11-23T03:19:00.000Z RESOLVE incident #12 [critical] disk 97% "
                "(source=prom service=node dedup=b1c6e7d2a4f09e13 occurrences=3 by=alice "
                "note=\"freed /var/log\")");
}
END_TEST

START_TEST(test_acknowledge_quotes_values_with_blanks)
{
    note.action = TOCSIN_ACT_ACKNOWLEDGE;
    note.actor = "Jane Doe";
    alert.severity = TOCSIN_SEV_LOW;
    alert.service = "a=b";
    expect_line("2026-11-23T03:12:45.123Z ACKNOWLEDGE incident #12 [low] disk 97% "
                "(source=prom service=\"a=b\" dedup=b1c6e7d2a4f09e13 occurrences=1 "
                "by=\"Jane Doe\")");
}
END_TEST

START_TEST(test_always_one_line)
{
    alert.summary = "disk\nfull\r\tnow";
    note.action = TOCSIN_ACT_RESOLVE;
    note.note = "said \"done\"\nsee C:\\logs";
    expect_line("2026-11-23T03:12:45.123Z RESOLVE incident #12 [critical] disk full  now "
                "(source=prom service=node dedup=b1c6e7d2a4f09e13 occurrences=1 "
                "note=\"said \\\"done\\\"\\nsee C:\\\\logs\")");
}
END_TEST

START_TEST(test_unset_fields_are_left_out)
{
    alert.source = NULL;
    alert.service = "";
    alert.dedup_key = NULL;
    alert.summary = NULL;
    alert.started_at = 0;
    note.first_seen = note.last_seen = 0;
    note.incident_id = 3;
    note.occurrences = 0;
    expect_line("- TRIGGER incident #3 [critical] (no summary) (occurrences=0)");
}
END_TEST

START_TEST(test_small_buffer_is_cut_like_snprintf)
{
    char full[1024], small[20];
    int n = console_format(&note, full, sizeof full);

    ck_assert_int_eq(console_format(&note, small, sizeof small), n);
    ck_assert_uint_eq(strlen(small), sizeof small - 1);
    ck_assert(strncmp(small, full, sizeof small - 1) == 0);
    ck_assert_int_eq(console_format(&note, NULL, 0), n);
    note.alert = NULL;
    ck_assert_int_eq(console_format(&note, full, sizeof full), -1);
}
END_TEST

/* ---- console.c through a fake host --------------------------------------- */

static char failed[256];

static void fake_log(const struct tocsin_host *h, enum tocsin_log_level level, const char *fmt,
                     ...)
{
    (void)h;
    (void)level;
    (void)fmt;
}

static int fake_fail(const struct tocsin_host *h, const char *fmt, ...)
{
    va_list ap;

    (void)h;
    va_start(ap, fmt);
    vsnprintf(failed, sizeof failed, fmt, ap);
    va_end(ap);
    return TOCSIN_ERROR;
}

static struct tocsin_host host;
static char path[512];
static void *conf, *self;

static void plugin_setup(void)
{
    const char *dir = getenv("TOCSIN_TMPDIR");
    int fd;

    setup();
    memset(&host, 0, sizeof host);
    host.size = sizeof host;
    host.abi_major = TOCSIN_ABI_MAJOR;
    host.abi_minor = TOCSIN_ABI_MINOR;
    host.instance_id = "console";
    host.log = fake_log;
    host.fail = fake_fail;
    if (!dir || access(dir, W_OK) != 0)
        dir = "/tmp";
    snprintf(path, sizeof path, "%s/test_console_XXXXXX", dir);
    fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    close(fd);
    conf = calloc(1, tocsin_plugin.conf_size);
    self = NULL;
}

static void plugin_teardown(void)
{
    if (self)
        tocsin_plugin.destroy(self);
    free(conf);
    unlink(path);
}

static void set_path(const char *p)
{
    ck_assert_str_eq(tocsin_plugin.options[0].name, "path");
    *(const char **)(void *)((char *)conf + tocsin_plugin.options[0].offset) = p;
}

static size_t count_lines(const char *want_prefix, size_t *bad)
{
    char line[2048];
    size_t n = 0;
    FILE *f = fopen(path, "r");

    ck_assert_ptr_nonnull(f);
    *bad = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        if (strncmp(line, want_prefix, strlen(want_prefix)) != 0 ||
            line[strlen(line) - 1] != '\n' || line[strlen(line) - 2] != ')')
            (*bad)++;
    }
    fclose(f);
    return n;
}

START_TEST(test_descriptor_and_default)
{
    ck_assert_str_eq(tocsin_plugin.name, "console");
    ck_assert_int_eq(tocsin_plugin.kind, TOCSIN_SINK);
    ck_assert_str_eq(tocsin_plugin.options[0].def, "-");
    ck_assert_ptr_null(tocsin_plugin.options[1].name);
    ck_assert_ptr_nonnull(tocsin_plugin.deliver);
}
END_TEST

START_TEST(test_appends_one_line_per_notification)
{
    struct tocsin_verdict v;
    size_t bad;
    FILE *f = fopen(path, "w");

    fputs("existing\n", f);
    fclose(f);
    set_path(path);
    ck_assert_int_eq(tocsin_plugin.create(&host, conf, &self), TOCSIN_OK);
    v = tocsin_plugin.deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    note.action = TOCSIN_ACT_RESOLVE;
    v = tocsin_plugin.deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_DONE);
    ck_assert_uint_eq(count_lines("2026-11-23T03:12:45.123Z ", &bad), 3);
    ck_assert_uint_eq(bad, 1); /* the line that was there */
}
END_TEST

START_TEST(test_long_line_is_written_whole)
{
    static char summary[5000];
    char line[8192];
    FILE *f;

    memset(summary, 'x', sizeof summary - 1);
    alert.summary = summary;
    set_path(path);
    ck_assert_int_eq(tocsin_plugin.create(&host, conf, &self), TOCSIN_OK);
    ck_assert_int_eq(tocsin_plugin.deliver(self, &note).kind, TOCSIN_DONE);
    f = fopen(path, "r");
    ck_assert_ptr_nonnull(fgets(line, sizeof line, f));
    fclose(f);
    ck_assert_ptr_nonnull(strstr(line, summary));
    ck_assert_str_eq(line + strlen(line) - 2, ")\n");
}
END_TEST

static void *worker(void *arg)
{
    int i;

    (void)arg;
    for (i = 0; i < 200; i++)
        if (tocsin_plugin.deliver(self, &note).kind != TOCSIN_DONE)
            return (void *)1;
    return NULL;
}

START_TEST(test_concurrent_deliveries_never_mix_lines)
{
    pthread_t t[4];
    size_t bad;
    void *rv;
    int i;

    set_path(path);
    ck_assert_int_eq(tocsin_plugin.create(&host, conf, &self), TOCSIN_OK);
    for (i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&t[i], NULL, worker, NULL), 0);
    for (i = 0; i < 4; i++) {
        pthread_join(t[i], &rv);
        ck_assert_ptr_null(rv);
    }
    ck_assert_uint_eq(count_lines("2026-11-23T03:12:45.123Z TRIGGER incident #12 ", &bad), 800);
    ck_assert_uint_eq(bad, 0);
}
END_TEST

START_TEST(test_unopenable_path_fails_create)
{
    set_path("/nonexistent-dir/tocsin/console.log");
    ck_assert_int_eq(tocsin_plugin.create(&host, conf, &self), TOCSIN_ERROR);
    ck_assert_ptr_null(self);
    ck_assert_msg(strstr(failed, "cannot open /nonexistent-dir/tocsin/console.log") != NULL,
                  "%s", failed);
}
END_TEST

START_TEST(test_write_error_is_retried)
{
    struct tocsin_verdict v;

    if (access("/dev/full", W_OK) != 0)
        return; /* not Linux: nothing to provoke ENOSPC with */
    set_path("/dev/full");
    ck_assert_int_eq(tocsin_plugin.create(&host, conf, &self), TOCSIN_OK);
    v = tocsin_plugin.deliver(self, &note);
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_msg(strstr(v.reason, "writing to /dev/full failed") != NULL, "%s", v.reason);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("console");
    TCase *fmt = tcase_create("format");
    TCase *plugin = tcase_create("plugin");

    tcase_add_checked_fixture(fmt, setup, NULL);
    tcase_add_test(fmt, test_trigger_line);
    tcase_add_test(fmt, test_resolve_line_has_actor_and_note);
    tcase_add_test(fmt, test_acknowledge_quotes_values_with_blanks);
    tcase_add_test(fmt, test_always_one_line);
    tcase_add_test(fmt, test_unset_fields_are_left_out);
    tcase_add_test(fmt, test_small_buffer_is_cut_like_snprintf);
    suite_add_tcase(s, fmt);

    tcase_add_checked_fixture(plugin, plugin_setup, plugin_teardown);
    tcase_add_test(plugin, test_descriptor_and_default);
    tcase_add_test(plugin, test_appends_one_line_per_notification);
    tcase_add_test(plugin, test_long_line_is_written_whole);
    tcase_add_test(plugin, test_concurrent_deliveries_never_mix_lines);
    tcase_add_test(plugin, test_unopenable_path_fails_create);
    tcase_add_test(plugin, test_write_error_is_retried);
    suite_add_tcase(s, plugin);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed_n;

    srunner_run_all(sr, CK_ENV);
    failed_n = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed_n ? EXIT_FAILURE : EXIT_SUCCESS;
}
