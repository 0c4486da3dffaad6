/* test_healthcheck_judge.c: the healthcheck's verdicts (judge.c): the
 * expect_status syntax, what each kind of failure is called in the
 * summary, the consecutive-failures/successes count, URLs shown without
 * their secrets, and host:port. */
#include <check.h>
#include <string.h>

#include "judge.h"

static struct hc_status_set set_of(const char *text)
{
    struct hc_status_set s;
    char err[256];

    ck_assert_msg(hc_status_parse(text, &s, err, sizeof err) == 0, "%s: %s", text, err);
    return s;
}

START_TEST(test_expect_status_ranges_and_lists)
{
    struct hc_status_set s = set_of("200-399");

    ck_assert(hc_status_ok(&s, 200) && hc_status_ok(&s, 302) && hc_status_ok(&s, 399));
    ck_assert(!hc_status_ok(&s, 199) && !hc_status_ok(&s, 400) && !hc_status_ok(&s, 503));
    s = set_of("200, 204,301-308");
    ck_assert(hc_status_ok(&s, 204) && hc_status_ok(&s, 307) && !hc_status_ok(&s, 201));
    s = set_of("503");
    ck_assert(hc_status_ok(&s, 503) && !hc_status_ok(&s, 200));
}
END_TEST

START_TEST(test_expect_status_refuses_nonsense_and_says_where)
{
    static const char *const bad[] = { "", "2xx", "200-", "399-200", "99", "600", "2000",
                                       "200,,204", "200 204", "200-399,", "-200" };
    struct hc_status_set s;
    char err[256];
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ck_assert_msg(hc_status_parse(bad[i], &s, err, sizeof err) == -1, "took \"%s\"", bad[i]);
    hc_status_parse("200,2xx", &s, err, sizeof err);
    ck_assert_msg(strstr(err, "expect_status \"200,2xx\": at \"2xx\"") != NULL, "%s", err);
}
END_TEST

static const char *judge(const struct hc_outcome *o, const struct hc_expect *e, int *healthy)
{
    static char what[160];

    *healthy = hc_judge(o, e, what, sizeof what);
    return what;
}

START_TEST(test_each_failure_has_its_words)
{
    struct hc_status_set s = set_of("200-399");
    struct hc_expect e = { &s, NULL, 1000, 5000 };
    struct hc_outcome o = { HC_ANSWERED, NULL, 503, "", 0, 40 };
    int ok;

    ck_assert_str_eq(judge(&o, &e, &ok), "status 503");
    ck_assert_int_eq(ok, 0);
    o = (struct hc_outcome){ HC_TIMED_OUT, NULL, 0, NULL, 0, 5003 };
    ck_assert_str_eq(judge(&o, &e, &ok), "timeout after 5 s");
    o.latency_ms = 2400; /* the connect timed out first */
    ck_assert_str_eq(judge(&o, &e, &ok), "timeout after 2.4 s");
    o = (struct hc_outcome){ HC_REFUSED, NULL, 0, NULL, 0, 1 };
    ck_assert_str_eq(judge(&o, &e, &ok), "connection refused");
    o = (struct hc_outcome){ HC_OTHER_ERROR, "Could not resolve hostname", 0, NULL, 0, 1 };
    ck_assert_str_eq(judge(&o, &e, &ok), "Could not resolve hostname");
    o = (struct hc_outcome){ HC_ANSWERED, NULL, 200, "fine", 4, 1800 };
    ck_assert_str_eq(judge(&o, &e, &ok), "1.8 s > 1 s");
    o.latency_ms = 1001; /* rounded up: never "1 s > 1 s" */
    ck_assert_str_eq(judge(&o, &e, &ok), "1.1 s > 1 s");
    o.latency_ms = 1000;
    ck_assert_str_eq(judge(&o, &e, &ok), "ok");
    ck_assert_int_eq(ok, 1);
}
END_TEST

START_TEST(test_body_contains_looks_at_the_whole_answer)
{
    static const char body[] = "{\"db\":\"up\",\0\"cache\":\"ready\"}";
    struct hc_status_set s = set_of("200");
    struct hc_expect e = { &s, "\"cache\":\"ready\"", 0, 5000 };
    struct hc_outcome o = { HC_ANSWERED, NULL, 200, body, sizeof body - 1, 3 };
    int ok;

    ck_assert_str_eq(judge(&o, &e, &ok), "ok"); /* past a NUL byte too */
    e.body_contains = "degraded";
    ck_assert_str_eq(judge(&o, &e, &ok), "answer lacks \"degraded\"");
    o.body = NULL; /* HEAD */
    o.body_len = 0;
    ck_assert_int_eq(hc_judge(&o, &e, (char[8]){ 0 }, 8), 0);
}
END_TEST

START_TEST(test_tcp_outcomes_have_no_status)
{
    struct hc_expect e = { NULL, NULL, 0, 5000 };
    struct hc_outcome o = { HC_ANSWERED, NULL, 0, NULL, 0, 2 };
    int ok;

    ck_assert_str_eq(judge(&o, &e, &ok), "ok");
}
END_TEST

START_TEST(test_fires_after_failures_and_resolves_after_successes)
{
    struct hc_track t = { 0 };

    ck_assert_int_eq(hc_track_step(&t, 0, 2, 2), HC_SAME);
    ck_assert_int_eq(hc_track_step(&t, 1, 2, 2), HC_SAME); /* a success breaks the run */
    ck_assert_int_eq(hc_track_step(&t, 0, 2, 2), HC_SAME);
    ck_assert_int_eq(hc_track_step(&t, 0, 2, 2), HC_FIRE);
    /* Not stored yet (the core was busy): the next failure says it again. */
    ck_assert_int_eq(hc_track_step(&t, 0, 2, 2), HC_FIRE);
    t.firing = 1;
    ck_assert_int_eq(hc_track_step(&t, 0, 2, 2), HC_SAME);
    ck_assert_int_eq(hc_track_step(&t, 1, 2, 2), HC_SAME);
    ck_assert_int_eq(hc_track_step(&t, 0, 2, 2), HC_SAME);
    ck_assert_int_eq(hc_track_step(&t, 1, 2, 2), HC_SAME);
    ck_assert_int_eq(hc_track_step(&t, 1, 2, 2), HC_RESOLVE);
    t.firing = 0;
    ck_assert_int_eq(hc_track_step(&t, 1, 2, 2), HC_SAME);
}
END_TEST

START_TEST(test_urls_are_shown_without_secrets)
{
    char buf[256];

    hc_display_url("https://user:pa%40ss@api.example.org:8443/health?token=abc#x", buf,
                   sizeof buf);
    ck_assert_str_eq(buf, "https://api.example.org:8443/health");
    hc_display_url("http://example.org?key=1", buf, sizeof buf);
    ck_assert_str_eq(buf, "http://example.org");
    hc_display_url("http://example.org/a/b", buf, sizeof buf);
    ck_assert_str_eq(buf, "http://example.org/a/b");
}
END_TEST

START_TEST(test_host_and_port)
{
    char h[64], p[8];

    ck_assert_int_eq(hc_split_hostport("db1.internal:5432", h, sizeof h, p, sizeof p), 0);
    ck_assert_str_eq(h, "db1.internal");
    ck_assert_str_eq(p, "5432");
    ck_assert_int_eq(hc_split_hostport("[::1]:6379", h, sizeof h, p, sizeof p), 0);
    ck_assert_str_eq(h, "::1");
    ck_assert_str_eq(p, "6379");
    ck_assert_int_eq(hc_split_hostport("db1", h, sizeof h, p, sizeof p), -1);
    ck_assert_int_eq(hc_split_hostport("::1:80", h, sizeof h, p, sizeof p), -1);
    ck_assert_int_eq(hc_split_hostport("db1:0", h, sizeof h, p, sizeof p), -1);
    ck_assert_int_eq(hc_split_hostport("db1:65536", h, sizeof h, p, sizeof p), -1);
    ck_assert_int_eq(hc_split_hostport("db1:http", h, sizeof h, p, sizeof p), -1);
    ck_assert_int_eq(hc_split_hostport(":80", h, sizeof h, p, sizeof p), -1);
}
END_TEST

START_TEST(test_seconds_as_people_read_them)
{
    char b[32];

    hc_fmt_secs(5000, b, sizeof b);
    ck_assert_str_eq(b, "5 s");
    hc_fmt_secs(1800, b, sizeof b);
    ck_assert_str_eq(b, "1.8 s");
    hc_fmt_secs(3, b, sizeof b);
    ck_assert_str_eq(b, "0.1 s");
    hc_fmt_secs(0, b, sizeof b);
    ck_assert_str_eq(b, "0 s");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("healthcheck_judge");
    TCase *tc = tcase_create("judge");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_expect_status_ranges_and_lists);
    tcase_add_test(tc, test_expect_status_refuses_nonsense_and_says_where);
    tcase_add_test(tc, test_each_failure_has_its_words);
    tcase_add_test(tc, test_body_contains_looks_at_the_whole_answer);
    tcase_add_test(tc, test_tcp_outcomes_have_no_status);
    tcase_add_test(tc, test_fires_after_failures_and_resolves_after_successes);
    tcase_add_test(tc, test_urls_are_shown_without_secrets);
    tcase_add_test(tc, test_host_and_port);
    tcase_add_test(tc, test_seconds_as_people_read_them);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? 1 : 0;
}
