/* test_redact.c: lib/redact.c, a secret taken out of a provider's words. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define KEY "R0123456789ABCDEF0123456789ABCDE"

static void expect(const char *in, size_t size, const char *secret, const char *mark,
                   const char *want)
{
    char buf[512];

    ck_assert_uint_lt(strlen(in), sizeof buf);
    strcpy(buf, in);
    tc_redact(buf, size, secret, mark);
    ck_assert_str_eq(buf, want);
}

START_TEST(test_every_copy_is_replaced)
{
    expect("bad key " KEY " (" KEY ")", 240, KEY, "(routing_key)",
           "bad key (routing_key) ((routing_key))");
    expect("nothing here", 240, KEY, "(routing_key)", "nothing here");
    expect("", 240, KEY, "(routing_key)", "");
    expect("key " KEY, 240, "", "(x)", "key " KEY);
    expect("key " KEY, 240, NULL, "(x)", "key " KEY);
}
END_TEST

START_TEST(test_a_short_secret_becomes_stars)
{
    expect("pw=hunter2;", 240, "hunter2", "(password)", "pw=*******;");
    expect("**", 240, "*", "(x)", "**"); /* stars are not found again */
}
END_TEST

START_TEST(test_a_cut_start_of_the_secret_goes)
{
    /* A reason cut inside the key: its first characters end the text. */
    expect("HTTP 400: unknown key R0123456789AB", 240, KEY, "(routing_key)",
           "HTTP 400: unknown key \xe2\x80\xa6");
    /* Fewer than 8 could be anything: kept. */
    expect("HTTP 400: R012345", 240, KEY, "(routing_key)", "HTTP 400: R012345");
}
END_TEST

int main(void)
{
    Suite *s = suite_create("redact");
    TCase *tc = tcase_create("redact");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_copy_is_replaced);
    tcase_add_test(tc, test_a_short_secret_becomes_stars);
    tcase_add_test(tc, test_a_cut_start_of_the_secret_goes);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
