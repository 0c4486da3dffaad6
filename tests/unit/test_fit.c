/* test_fit.c: lib/fit.c, text and keys cut to providers' limits in UTF-16
 * code units, between characters, marked with "…". */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

#define ELL "\xe2\x80\xa6"
#define E_ACUTE "\xc3\xa9"         /* U+00E9: one unit, two bytes */
#define FIRE "\xf0\x9f\x94\xa5"    /* U+1F525: two units, four bytes */

static void expect_fit(const char *s, size_t max, const char *want)
{
    char *got = tc_text_fit(s, max);

    ck_assert_ptr_nonnull(got);
    ck_assert_str_eq(got, want);
    ck_assert_uint_le(tc_text_units(got), max);
    free(got);
}

START_TEST(test_units_count_utf16)
{
    ck_assert_uint_eq(tc_text_units(""), 0);
    ck_assert_uint_eq(tc_text_units(NULL), 0);
    ck_assert_uint_eq(tc_text_units("abc"), 3);
    ck_assert_uint_eq(tc_text_units(E_ACUTE E_ACUTE), 2);
    ck_assert_uint_eq(tc_text_units("a" FIRE "b"), 4);
    ck_assert_uint_eq(tc_text_units("\xe2\x82\xac"), 1);  /* EUR: three bytes, one unit */
    ck_assert_uint_eq(tc_text_units("a\xff" "b"), 3);     /* a bad byte is one U+FFFD */
    ck_assert_uint_eq(tc_text_units("\xc3"), 1);          /* a cut sequence too */
}
END_TEST

START_TEST(test_fit_keeps_what_fits)
{
    expect_fit("hello", 5, "hello");
    expect_fit("hello", 100, "hello");
    expect_fit("", 0, "");
    expect_fit(NULL, 3, "");
    expect_fit(E_ACUTE E_ACUTE E_ACUTE, 3, E_ACUTE E_ACUTE E_ACUTE);
}
END_TEST

START_TEST(test_fit_cuts_between_characters_with_ellipsis)
{
    expect_fit("hello", 4, "hel" ELL);
    expect_fit("hello", 1, ELL);
    expect_fit("hello", 0, "");
    expect_fit(E_ACUTE E_ACUTE E_ACUTE E_ACUTE, 3, E_ACUTE E_ACUTE ELL);
    /* The pair would be cut in half: it goes whole. */
    expect_fit("ab" FIRE "cd", 4, "ab" ELL);
    expect_fit("ab" FIRE "cd", 5, "ab" FIRE ELL);
    expect_fit("\xe2\x82\xac\xe2\x82\xac\xe2\x82\xac", 2, "\xe2\x82\xac" ELL);
}
END_TEST

START_TEST(test_key_fit_is_stable_and_within_limit)
{
    char long_a[400], long_b[400], *k1, *k2, *k3;

    memset(long_a, 'x', sizeof long_a - 1);
    long_a[sizeof long_a - 1] = '\0';
    memcpy(long_b, long_a, sizeof long_b);
    long_b[398] = 'y'; /* differs only past the part kept */

    k1 = tc_key_fit("short", 255);
    ck_assert_str_eq(k1, "short");
    free(k1);

    k1 = tc_key_fit(long_a, 255);
    k2 = tc_key_fit(long_a, 255);
    k3 = tc_key_fit(long_b, 255);
    ck_assert_uint_eq(strlen(k1), 255);
    ck_assert_str_eq(k1, k2);                     /* every delivery: the same key */
    ck_assert_str_ne(k1, k3);                     /* another key: another hash */
    ck_assert_int_eq(strncmp(k1, long_a, 238), 0);
    ck_assert_int_eq(k1[238], '~');
    ck_assert_uint_eq(strspn(k1 + 239, "0123456789abcdef"), 16);
    free(k1);
    free(k2);
    free(k3);
}
END_TEST

START_TEST(test_key_fit_cuts_between_characters)
{
    char *k;

    /* 20 units over a limit of 19: 19 - 17 = 2 characters stay before
     * "~" and the hash, each whole. */
    k = tc_key_fit(E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE
                   E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE E_ACUTE
                   E_ACUTE E_ACUTE, 19);
    ck_assert_uint_eq(tc_text_units(k), 19);
    ck_assert_int_eq(strncmp(k, E_ACUTE E_ACUTE "~", 5), 0);
    free(k);
    /* A pair does not fit in the one unit left: it goes whole. */
    k = tc_key_fit("a" FIRE "bcdefghijklmnopqrstuvwxyz", 19);
    ck_assert_int_eq(strncmp(k, "a~", 2), 0);
    ck_assert_uint_eq(tc_text_units(k), 18);
    free(k);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("fit");
    TCase *tc = tcase_create("fit");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_units_count_utf16);
    tcase_add_test(tc, test_fit_keeps_what_fits);
    tcase_add_test(tc, test_fit_cuts_between_characters_with_ellipsis);
    tcase_add_test(tc, test_key_fit_is_stable_and_within_limit);
    tcase_add_test(tc, test_key_fit_cuts_between_characters);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
