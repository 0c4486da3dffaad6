/* test_route_match.c: route patterns with {name} segments: which patterns
 * are refused and why, which paths match and what each parameter holds,
 * which of two patterns wins, and strict percent-decoding. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "route_match.h"

static char err[256];

static int check(const char *pattern)
{
    err[0] = '\0';
    return tc_route_pattern_check(pattern, err, sizeof err);
}

/* The value of parameter i of a match, decoded (or the error as text). */
static const char *value(const struct tc_route_param *p, int i)
{
    static char buf[256];
    long n = tc_route_decode(p[i].raw, p[i].raw_len, buf);

    return n >= 0 ? buf : "(bad)";
}

static const char *name(const struct tc_route_param *p, int i)
{
    static char buf[64];

    memcpy(buf, p[i].name, p[i].name_len);
    buf[p[i].name_len] = '\0';
    return buf;
}

/* --- tc_route_pattern_check -------------------------------------------- */

START_TEST(test_exact_and_prefix_paths_have_no_parameters)
{
    ck_assert_int_eq(check("/api/v1/incidents"), 0);
    ck_assert_int_eq(check("/api/v1/incidents/*"), 0);
    ck_assert_int_eq(check("/"), 0);
}
END_TEST

START_TEST(test_parameters_are_counted)
{
    ck_assert_int_eq(check("/api/v1/maintenance/{id}"), 1);
    ck_assert_int_eq(check("/a/{id}/sub/{name}"), 2);
    ck_assert_int_eq(check("/{_x9}"), 1);
}
END_TEST

START_TEST(test_a_brace_inside_a_segment_is_refused)
{
    ck_assert_int_eq(check("/a/x{id}"), -1);
    ck_assert_ptr_nonnull(strstr(err, "segment \"x{id}\""));
    ck_assert_ptr_nonnull(strstr(err, "whole segment"));
    ck_assert_int_eq(check("/a/{id}x"), -1);
    ck_assert_int_eq(check("/a/{id"), -1);
    ck_assert_int_eq(check("/a/id}"), -1);
}
END_TEST

START_TEST(test_a_parameter_name_must_be_an_identifier)
{
    ck_assert_int_eq(check("/a/{}"), -1);
    ck_assert_ptr_nonnull(strstr(err, "\"{}\" is not a name"));
    ck_assert_int_eq(check("/a/{1x}"), -1);
    ck_assert_int_eq(check("/a/{a-b}"), -1);
    ck_assert_int_eq(check("/a/{a}b}"), -1);
}
END_TEST

START_TEST(test_a_parameter_name_used_twice_is_refused)
{
    ck_assert_int_eq(check("/a/{id}/b/{id}"), -1);
    ck_assert_ptr_nonnull(strstr(err, "{id} appears twice"));
}
END_TEST

START_TEST(test_parameters_refuse_prefixes_empty_segments_and_excess)
{
    ck_assert_int_eq(check("/a/{id}/*"), -1);
    ck_assert_ptr_nonnull(strstr(err, "prefix route"));
    ck_assert_int_eq(check("/a/{id}/"), -1);
    ck_assert_ptr_nonnull(strstr(err, "empty segment"));
    ck_assert_int_eq(check("/a//{id}"), -1);
    ck_assert_int_eq(check("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}"), 8);
    ck_assert_int_eq(check("/{a}/{b}/{c}/{d}/{e}/{f}/{g}/{h}/{i}"), -1);
    ck_assert_ptr_nonnull(strstr(err, "more than 8"));
    ck_assert_int_eq(check("a/{id}"), -1);
    ck_assert_ptr_nonnull(strstr(err, "does not start with '/'"));
}
END_TEST

/* --- tc_route_same_shape / tc_route_more_specific ---------------------- */

START_TEST(test_shapes_ignore_parameter_names)
{
    ck_assert(tc_route_same_shape("/a/{id}", "/a/{x}"));
    ck_assert(tc_route_same_shape("/a/{id}/sub/{n}", "/a/{x}/sub/{y}"));
    ck_assert(!tc_route_same_shape("/a/{id}", "/b/{id}"));
    ck_assert(!tc_route_same_shape("/a/{id}", "/a/{id}/sub"));
    ck_assert(!tc_route_same_shape("/a/{id}/sub", "/a/{id}"));
    ck_assert(!tc_route_same_shape("/a/{id}", "/a/id"));
    ck_assert(!tc_route_same_shape("/a/{id}/x", "/a/{id}/y"));
}
END_TEST

START_TEST(test_the_first_literal_segment_wins)
{
    ck_assert(tc_route_more_specific("/a/x/{id}", "/a/{id}/y"));
    ck_assert(!tc_route_more_specific("/a/{id}/y", "/a/x/{id}"));
    ck_assert(!tc_route_more_specific("/a/{id}", "/a/{x}"));
}
END_TEST

/* --- tc_route_match ------------------------------------------------------ */

START_TEST(test_a_parameter_takes_one_segment)
{
    struct tc_route_param p[TC_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(tc_route_match("/api/v1/maintenance/{id}", "/api/v1/maintenance/3f2a", p,
                                    TC_ROUTE_MAX_PARAMS), 1);
    ck_assert_str_eq(name(p, 0), "id");
    ck_assert_str_eq(value(p, 0), "3f2a");
    ck_assert_int_eq(tc_route_match("/a/{id}/sub/{name}", "/a/1/sub/two", p,
                                    TC_ROUTE_MAX_PARAMS), 2);
    ck_assert_str_eq(name(p, 1), "name");
    ck_assert_str_eq(value(p, 0), "1");
    ck_assert_str_eq(value(p, 1), "two");
}
END_TEST

START_TEST(test_paths_of_another_shape_do_not_match)
{
    struct tc_route_param p[TC_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(tc_route_match("/a/{id}", "/a/", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a/{id}", "/a", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a/{id}", "/a/1/", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a/{id}", "/a/1/2", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a/{id}", "/b/1", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a/{id}", "/ab/1", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a/{id}/sub/{n}", "/a//sub/x", p, TC_ROUTE_MAX_PARAMS),
                     -1);
    ck_assert_int_eq(tc_route_match("/a/{id}", "a/1", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a/{id}", "*", p, TC_ROUTE_MAX_PARAMS), -1);
}
END_TEST

START_TEST(test_an_encoded_slash_stays_in_its_segment)
{
    struct tc_route_param p[TC_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(tc_route_match("/a/{id}", "/a/x%2Fy", p, TC_ROUTE_MAX_PARAMS), 1);
    ck_assert_uint_eq(p[0].raw_len, 5);
    ck_assert_int_eq(tc_route_decode(p[0].raw, p[0].raw_len, (char[8]){ 0 }), TC_ROUTE_SLASH);
    ck_assert_int_eq(tc_route_match("/a/{id}/b", "/a/x%2Fb", p, TC_ROUTE_MAX_PARAMS), -1);
}
END_TEST

START_TEST(test_literal_segments_compare_decoded)
{
    struct tc_route_param p[TC_ROUTE_MAX_PARAMS];

    ck_assert_int_eq(tc_route_match("/api/{id}", "/%61pi/1", p, TC_ROUTE_MAX_PARAMS), 1);
    ck_assert_int_eq(tc_route_match("/api/{id}", "/%6zi/1", p, TC_ROUTE_MAX_PARAMS), -1);
    ck_assert_int_eq(tc_route_match("/a%2Fb/{id}", "/a%2Fb/1", p, TC_ROUTE_MAX_PARAMS), -1);
}
END_TEST

START_TEST(test_no_more_parameters_than_room)
{
    struct tc_route_param p[1];

    ck_assert_int_eq(tc_route_match("/{a}/{b}", "/1/2", p, 1), -1);
}
END_TEST

/* --- tc_route_decode ----------------------------------------------------- */

START_TEST(test_decode_is_strict)
{
    char out[32];

    ck_assert_int_eq(tc_route_decode("a%20b%c3%A9", 11, out), 5);
    ck_assert_str_eq(out, "a b\xc3\xa9");
    ck_assert_int_eq(tc_route_decode("a+b", 3, out), 3);
    ck_assert_str_eq(out, "a+b");
    ck_assert_int_eq(tc_route_decode("a%00b", 5, out), TC_ROUTE_NUL);
    ck_assert_int_eq(tc_route_decode("a%2fb", 5, out), TC_ROUTE_SLASH);
    ck_assert_int_eq(tc_route_decode("a%2Fb", 5, out), TC_ROUTE_SLASH);
    ck_assert_int_eq(tc_route_decode("a%zzb", 5, out), TC_ROUTE_BAD_ESCAPE);
    ck_assert_int_eq(tc_route_decode("a%4", 3, out), TC_ROUTE_BAD_ESCAPE);
    ck_assert_int_eq(tc_route_decode("a%", 2, out), TC_ROUTE_BAD_ESCAPE);
    /* Only len bytes are read: a good escape past it does not count. */
    ck_assert_int_eq(tc_route_decode("a%41", 2, out), TC_ROUTE_BAD_ESCAPE);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("route_match");
    TCase *c = tcase_create("pattern"), *m = tcase_create("match"), *d = tcase_create("decode");

    tcase_add_test(c, test_exact_and_prefix_paths_have_no_parameters);
    tcase_add_test(c, test_parameters_are_counted);
    tcase_add_test(c, test_a_brace_inside_a_segment_is_refused);
    tcase_add_test(c, test_a_parameter_name_must_be_an_identifier);
    tcase_add_test(c, test_a_parameter_name_used_twice_is_refused);
    tcase_add_test(c, test_parameters_refuse_prefixes_empty_segments_and_excess);
    tcase_add_test(c, test_shapes_ignore_parameter_names);
    tcase_add_test(c, test_the_first_literal_segment_wins);
    suite_add_tcase(s, c);
    tcase_add_test(m, test_a_parameter_takes_one_segment);
    tcase_add_test(m, test_paths_of_another_shape_do_not_match);
    tcase_add_test(m, test_an_encoded_slash_stays_in_its_segment);
    tcase_add_test(m, test_literal_segments_compare_decoded);
    tcase_add_test(m, test_no_more_parameters_than_room);
    suite_add_tcase(s, m);
    tcase_add_test(d, test_decode_is_strict);
    suite_add_tcase(s, d);
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
