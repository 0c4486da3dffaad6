/* test_scrub.c: control characters escaped (tc_escape, and every log line
 * through it), provider reasons cut and rid of URLs' secrets (tc_scrub). */
#define _GNU_SOURCE
#include <check.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "scrub.h"

static const char *esc(const char *s)
{
    static char buf[4096];

    tc_escape(s, buf, sizeof buf);
    return buf;
}

static const char *scrub(const char *s)
{
    static char buf[TC_SCRUB_MAX + 1];

    ck_assert_uint_le(tc_scrub(s, buf, TC_SCRUB_MAX), TC_SCRUB_MAX);
    ck_assert_uint_le(strlen(buf), TC_SCRUB_MAX);
    return buf;
}

static int has_control(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f)
            return 1;
    return 0;
}

/* --- tc_escape ---------------------------------------------------------- */

START_TEST(test_newline_cr_tab_become_two_character_escapes)
{
    ck_assert_str_eq(esc("x\nERROR forged line"), "x\\nERROR forged line");
    ck_assert_str_eq(esc("a\rb\tc"), "a\\rb\\tc");
}
END_TEST

START_TEST(test_other_controls_and_del_become_hex)
{
    ck_assert_str_eq(esc("\x1b[31mred\x1b[0m"), "\\x1b[31mred\\x1b[0m");
    ck_assert_str_eq(esc("\x01\x7f\x1f"), "\\x01\\x7f\\x1f");
}
END_TEST

START_TEST(test_backslash_is_doubled_so_escapes_are_unambiguous)
{
    /* A literal "\n" in the input must not read as an escaped newline. */
    ck_assert_str_eq(esc("C:\\new"), "C:\\\\new");
    ck_assert_str_eq(esc("\\n"), "\\\\n");
    ck_assert_str_eq(esc("\n"), "\\n");
    ck_assert_str_eq(esc("\\x1b"), "\\\\x1b");
}
END_TEST

START_TEST(test_valid_utf8_is_kept)
{
    const char *s = "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x94\xa5 \xe4\xb8\xad";

    ck_assert_str_eq(esc(s), s);
}
END_TEST

START_TEST(test_invalid_utf8_and_c1_controls_become_hex)
{
    ck_assert_str_eq(esc("a\xff" "b"), "a\\xffb");
    ck_assert_str_eq(esc("\x80"), "\\x80");                   /* lone continuation */
    ck_assert_str_eq(esc("\xc0\xaf"), "\\xc0\\xaf");          /* overlong "/" */
    ck_assert_str_eq(esc("\xed\xa0\x80"), "\\xed\\xa0\\x80"); /* a surrogate */
    ck_assert_str_eq(esc("\xe2\x82"), "\\xe2\\x82");          /* cut sequence */
    ck_assert_str_eq(esc("\xc2\x9b" "31m"), "\\xc2\\x9b31m");  /* C1 CSI */
    ck_assert_str_eq(esc("\xc2\xa0"), "\xc2\xa0");            /* U+00A0 is text */
}
END_TEST

START_TEST(test_escape_never_splits_an_escape_when_cut)
{
    char buf[4];

    ck_assert_uint_eq(tc_escape("ab\ncd", buf, sizeof buf), 2);
    ck_assert_str_eq(buf, "ab");
    ck_assert_uint_eq(tc_escape("\x1b", buf, sizeof buf), 0);
    ck_assert_str_eq(buf, "");
    ck_assert_uint_eq(tc_escape("abcdef", buf, sizeof buf), 3);
    ck_assert_str_eq(buf, "abc");
    ck_assert_uint_eq(tc_escape("abc", buf, 0), 0);
}
END_TEST

/* --- tc_scrub ----------------------------------------------------------- */

START_TEST(test_slack_style_secret_in_the_path_is_removed)
{
    ck_assert_str_eq(scrub("bad hook https://hooks.slack.com/services/T0/B0/SECRET here"),
                     "bad hook https://hooks.slack.com/\xe2\x80\xa6 here");
}
END_TEST

START_TEST(test_userinfo_query_and_fragment_are_removed_host_and_port_kept)
{
    const char *out = scrub("see https://user:pw@hooks.example.test:8443/a?token=abc#f now");

    ck_assert_str_eq(out, "see https://hooks.example.test:8443/\xe2\x80\xa6 now");
    ck_assert_str_eq(scrub("http://u:p@h.test"), "http://h.test/\xe2\x80\xa6");
    ck_assert_str_eq(scrub("at http://h.test?token=abc."), "at http://h.test/\xe2\x80\xa6");
    ck_assert_str_eq(scrub("http://[::1]:8080/x"), "http://[::1]:8080/\xe2\x80\xa6");
}
END_TEST

START_TEST(test_a_url_without_secrets_is_unchanged)
{
    ck_assert_str_eq(scrub("connect to http://127.0.0.1:9099 failed"),
                     "connect to http://127.0.0.1:9099 failed");
    ck_assert_str_eq(scrub("{\"u\":\"https://h.test\"}"), "{\"u\":\"https://h.test\"}");
}
END_TEST

START_TEST(test_urls_in_json_with_escaped_slashes_are_scrubbed_too)
{
    const char *out = scrub("{\"url\":\"https:\\/\\/u:pw@h.test\\/T0\\/SECRET?token=abc\"}");

    ck_assert_msg(!strstr(out, "SECRET") && !strstr(out, "pw") && !strstr(out, "abc"), "%s",
                  out);
    ck_assert_msg(strstr(out, "h.test/\xe2\x80\xa6\"}") != NULL, "%s", out);
}
END_TEST

START_TEST(test_a_url_cut_short_keeps_no_password)
{
    /* An excerpt may end inside a URL: "user:p" has no port, so it goes. */
    ck_assert_str_eq(scrub("https://user:p"), "https://user/\xe2\x80\xa6");
}
END_TEST

START_TEST(test_every_url_in_the_text_is_scrubbed)
{
    const char *out = scrub("a https://x.test/one b ftp://y.test/two?k=SECRET c");

    ck_assert_str_eq(out, "a https://x.test/\xe2\x80\xa6 b ftp://y.test/\xe2\x80\xa6 c");
}
END_TEST

START_TEST(test_scrub_escapes_control_characters)
{
    const char *out = scrub("HTTP 500: oops\r\nERROR forged line\x1b[2J");

    ck_assert_str_eq(out, "HTTP 500: oops\\r\\nERROR forged line\\x1b[2J");
    ck_assert(!has_control(out));
}
END_TEST

START_TEST(test_long_text_is_cut_with_an_ellipsis)
{
    char in[10241], want[TC_SCRUB_MAX + 1];

    memset(in, 'x', sizeof in - 1);
    in[sizeof in - 1] = '\0';
    memset(want, 'x', TC_SCRUB_MAX - 3);
    strcpy(want + TC_SCRUB_MAX - 3, "\xe2\x80\xa6");
    ck_assert_str_eq(scrub(in), want);
    /* Exactly the limit is not cut; one byte more is. */
    in[TC_SCRUB_MAX] = '\0';
    ck_assert_str_eq(scrub(in), in);
    in[TC_SCRUB_MAX] = 'x';
    in[TC_SCRUB_MAX + 1] = '\0';
    ck_assert_str_eq(scrub(in), want);
}
END_TEST

START_TEST(test_the_cut_falls_between_characters_and_escapes)
{
    char in[1024], out[TC_SCRUB_MAX + 1];
    size_t i, n;

    for (i = 0; i < 150; i++)
        memcpy(in + 2 * i, "\xc3\xa9", 2); /* "é" */
    in[300] = '\0';
    n = tc_scrub(in, out, TC_SCRUB_MAX);
    ck_assert_uint_eq(n, 98 * 2 + 3);
    ck_assert_str_eq(out + 196, "\xe2\x80\xa6");
    ck_assert_str_eq(esc(out), out); /* every "é" whole: nothing escaped */

    memset(in, '\x01', 100);
    in[100] = '\0';
    n = tc_scrub(in, out, TC_SCRUB_MAX);
    ck_assert_uint_eq(n, 49 * 4 + 3);
    ck_assert(strncmp(out + 192, "\\x01\xe2\x80\xa6", 7) == 0);
}
END_TEST

START_TEST(test_a_url_past_the_cut_leaks_nothing)
{
    char in[512], out[TC_SCRUB_MAX + 1];

    memset(in, 'x', 190);
    strcpy(in + 190, " https://user:pw@h.test/SECRET");
    tc_scrub(in, out, TC_SCRUB_MAX);
    ck_assert_msg(!strstr(out, "pw") && !strstr(out, "SECRET") && !strstr(out, "user"),
                  "%s", out);
}
END_TEST

/* --- the log ------------------------------------------------------------- */

/* Runs one tc_log() with stderr in a file; returns what it wrote. */
static char *logged(const char *fmt, const char *arg)
{
    char path[] = "/tmp/tc-test-log-XXXXXX", *buf = calloc(1, 16384);
    int fd = mkstemp(path), saved = dup(2);
    ssize_t n;

    ck_assert(fd >= 0 && saved >= 0 && buf);
    fflush(stderr);
    dup2(fd, 2);
    tc_log_init(1, TOCSIN_LOG_DEBUG);
    tc_log(TOCSIN_LOG_WARN, fmt, arg);
    fflush(stderr);
    dup2(saved, 2);
    close(saved);
    n = pread(fd, buf, 16383, 0);
    close(fd);
    unlink(path);
    ck_assert(n > 0);
    return buf;
}

START_TEST(test_a_log_line_stays_one_line_whatever_it_quotes)
{
    char *out = logged("refused alert: label %s", "x\nERROR forged line\x1b[31m");
    char *nl = strchr(out, '\n');

    ck_assert_msg(nl && nl[1] == '\0', "more than one line: %s", out);
    ck_assert_msg(strstr(out, " warn  refused alert: label x\\nERROR forged line\\x1b[31m\n"),
                  "%s", out);
    *nl = '\0';
    ck_assert(!has_control(out));
    free(out);
}
END_TEST

START_TEST(test_a_long_log_line_full_of_controls_is_still_one_line)
{
    char arg[3000];
    char *out, *nl;

    memset(arg, '\n', sizeof arg - 1);
    arg[sizeof arg - 1] = '\0';
    out = logged("%s", arg);
    nl = strchr(out, '\n');
    ck_assert_msg(nl && nl[1] == '\0', "more than one line");
    *nl = '\0';
    ck_assert(!has_control(out));
    free(out);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("scrub");
    TCase *e = tcase_create("escape"), *r = tcase_create("scrub"), *l = tcase_create("log");

    tcase_add_test(e, test_newline_cr_tab_become_two_character_escapes);
    tcase_add_test(e, test_other_controls_and_del_become_hex);
    tcase_add_test(e, test_backslash_is_doubled_so_escapes_are_unambiguous);
    tcase_add_test(e, test_valid_utf8_is_kept);
    tcase_add_test(e, test_invalid_utf8_and_c1_controls_become_hex);
    tcase_add_test(e, test_escape_never_splits_an_escape_when_cut);
    suite_add_tcase(s, e);
    tcase_add_test(r, test_slack_style_secret_in_the_path_is_removed);
    tcase_add_test(r, test_userinfo_query_and_fragment_are_removed_host_and_port_kept);
    tcase_add_test(r, test_a_url_without_secrets_is_unchanged);
    tcase_add_test(r, test_urls_in_json_with_escaped_slashes_are_scrubbed_too);
    tcase_add_test(r, test_a_url_cut_short_keeps_no_password);
    tcase_add_test(r, test_every_url_in_the_text_is_scrubbed);
    tcase_add_test(r, test_scrub_escapes_control_characters);
    tcase_add_test(r, test_long_text_is_cut_with_an_ellipsis);
    tcase_add_test(r, test_the_cut_falls_between_characters_and_escapes);
    tcase_add_test(r, test_a_url_past_the_cut_leaks_nothing);
    suite_add_tcase(s, r);
    tcase_add_test(l, test_a_log_line_stays_one_line_whatever_it_quotes);
    tcase_add_test(l, test_a_long_log_line_full_of_controls_is_still_one_line);
    suite_add_tcase(s, l);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(suite());
    int failed;

    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
