/* tests/unit/test_routes.c: route parsing (errors with file:line) and
 * matching alerts to sinks by severity, source, service and labels. */
#define _GNU_SOURCE
#include <check.h>
#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "routes.h"

static const char *const sinks[] = { "pd", "chat", "mail" };
enum { PD, CHAT, MAIL };

static config_t cfg;
static struct tc_errors errs;
static struct tc_routes *routes;

static void setup(void)
{
    config_init(&cfg);
    memset(&errs, 0, sizeof errs);
    routes = NULL;
}

static void teardown(void)
{
    tc_routes_free(routes);
    tc_errors_free(&errs);
    config_destroy(&cfg);
}

/* Parses `routes = ...` from text; messages name "tocsin.conf". */
static struct tc_routes *parse(const char *text)
{
    ck_assert_msg(config_read_string(&cfg, text), "line %d: %s", config_error_line(&cfg),
                  config_error_text(&cfg));
    routes = tc_routes_parse(config_lookup(&cfg, "routes"), "tocsin.conf", sinks, 3, &errs);
    return routes;
}

static struct tocsin_alert alert(enum tocsin_severity sev, const char *source,
                                 const char *service)
{
    struct tocsin_alert a;

    memset(&a, 0, sizeof a);
    a.severity = sev;
    a.summary = "disk full";
    a.source = source;
    a.service = service;
    return a;
}

/* The matched sinks as "pd,chat". */
static const char *match(const struct tocsin_alert *a)
{
    static char buf[128];
    size_t out[8], n, i;

    n = tc_routes_match(routes, a, out, 8);
    buf[0] = '\0';
    for (i = 0; i < n; i++) {
        ck_assert_uint_lt(out[i], 3);
        if (i)
            strcat(buf, ",");
        strcat(buf, sinks[out[i]]);
    }
    return buf;
}

START_TEST(test_severity_routes_critical_to_pager_and_rest_to_catch_all)
{
    struct tocsin_alert a;

    ck_assert_ptr_nonnull(parse("routes = (\n"
                                "  { match = { severity = [ \"critical\", \"high\" ]; };\n"
                                "    sinks = [ \"pd\" ]; },\n"
                                "  { sinks = [ \"chat\" ]; }\n"
                                ");\n"));
    ck_assert_uint_eq(tc_routes_count(routes), 2);
    a = alert(TOCSIN_SEV_CRITICAL, "prom", "db");
    ck_assert_str_eq(match(&a), "pd");
    a.severity = TOCSIN_SEV_HIGH;
    ck_assert_str_eq(match(&a), "pd");
    a.severity = TOCSIN_SEV_MEDIUM;
    ck_assert_str_eq(match(&a), "chat");
    a.severity = TOCSIN_SEV_INFO;
    ck_assert_str_eq(match(&a), "chat");
}
END_TEST

START_TEST(test_severity_accepts_a_single_name_and_aliases)
{
    struct tocsin_alert a = alert(TOCSIN_SEV_MEDIUM, NULL, NULL);

    ck_assert_ptr_nonnull(parse("routes = ( { match = { severity = \"warning\"; };\n"
                                "  sinks = \"mail\"; },\n"
                                "  { match = { severity = [ \"P0\" ]; }; sinks = \"pd\"; } );\n"));
    ck_assert_str_eq(match(&a), "mail");
    a.severity = TOCSIN_SEV_CRITICAL;
    ck_assert_str_eq(match(&a), "pd");
    a.severity = TOCSIN_SEV_LOW;
    ck_assert_str_eq(match(&a), "");
}
END_TEST

START_TEST(test_source_and_service_match_exactly_and_together)
{
    struct tocsin_alert a = alert(TOCSIN_SEV_HIGH, "prom", "db");

    ck_assert_ptr_nonnull(parse("routes = ( { match = { source = [ \"prom\", \"sentry\" ];\n"
                                "  service = \"db\"; }; sinks = [ \"pd\" ]; } );\n"));
    ck_assert_str_eq(match(&a), "pd");
    a.source = "sentry";
    ck_assert_str_eq(match(&a), "pd");
    a.source = "prometheus";
    ck_assert_str_eq(match(&a), "");
    a.source = "prom";
    a.service = "dbx";
    ck_assert_str_eq(match(&a), "");
    a.service = NULL;
    ck_assert_str_eq(match(&a), "");
}
END_TEST

START_TEST(test_labels_must_all_match_exactly)
{
    struct tocsin_kv labels[] = { { "team", "db" }, { "env", "prod" } };
    struct tocsin_alert a = alert(TOCSIN_SEV_LOW, "prom", NULL);

    a.labels = labels;
    a.n_labels = 2;
    ck_assert_ptr_nonnull(parse("routes = ( { match = { labels = { team = \"db\";\n"
                                "  env = \"prod\"; }; }; sinks = \"chat\"; } );\n"));
    ck_assert_str_eq(match(&a), "chat");
    labels[1].value = "staging";
    ck_assert_str_eq(match(&a), "");
    a.n_labels = 1; /* env missing */
    ck_assert_str_eq(match(&a), "");
}
END_TEST

START_TEST(test_labels_re_is_anchored_extended_regex)
{
    struct tocsin_kv labels[] = { { "instance", "db12" } };
    struct tocsin_alert a = alert(TOCSIN_SEV_LOW, "prom", NULL);

    a.labels = labels;
    a.n_labels = 1;
    ck_assert_ptr_nonnull(parse("routes = ( { match = { labels_re = {\n"
                                "  instance = \"db[0-9]+|cache\"; }; }; sinks = \"pd\"; } );\n"));
    ck_assert_str_eq(match(&a), "pd");
    labels[0].value = "cache";
    ck_assert_str_eq(match(&a), "pd");
    labels[0].value = "mydb1";
    ck_assert_str_eq(match(&a), "");
    labels[0].value = "db1x";
    ck_assert_str_eq(match(&a), "");
    labels[0].value = "cache2";
    ck_assert_str_eq(match(&a), "");
}
END_TEST

START_TEST(test_missing_label_matches_like_an_empty_one)
{
    struct tocsin_alert a = alert(TOCSIN_SEV_LOW, "prom", NULL);

    ck_assert_ptr_nonnull(parse("routes = ( { match = { labels_re = { team = \"(db)?\"; }; };\n"
                                "  sinks = \"pd\"; }, { sinks = \"chat\"; } );\n"));
    ck_assert_str_eq(match(&a), "pd");
}
END_TEST

START_TEST(test_continue_collects_sinks_in_order_without_duplicates)
{
    struct tocsin_alert a = alert(TOCSIN_SEV_CRITICAL, "prom", "db");

    ck_assert_ptr_nonnull(parse("routes = (\n"
                                "  { sinks = [ \"chat\", \"pd\" ]; continue = true; },\n"
                                "  { match = { severity = \"low\"; }; sinks = \"mail\"; },\n"
                                "  { sinks = [ \"pd\", \"mail\", \"chat\" ]; continue = true; },\n"
                                "  { sinks = [ \"chat\" ]; },\n"
                                "  { sinks = [ \"pd\" ]; }\n"
                                ");\n"));
    ck_assert_str_eq(match(&a), "chat,pd,mail");
}
END_TEST

START_TEST(test_first_match_wins_without_continue)
{
    struct tocsin_alert a = alert(TOCSIN_SEV_CRITICAL, "prom", "db");

    ck_assert_ptr_nonnull(parse("routes = ( { match = { service = \"db\"; }; sinks = \"mail\"; },\n"
                                "  { match = { severity = \"critical\"; }; sinks = \"pd\"; } );\n"));
    ck_assert_str_eq(match(&a), "mail");
    a.service = "web";
    ck_assert_str_eq(match(&a), "pd");
}
END_TEST

START_TEST(test_no_routes_match_nothing)
{
    struct tocsin_alert a = alert(TOCSIN_SEV_CRITICAL, "prom", "db");

    routes = tc_routes_parse(NULL, "tocsin.conf", sinks, 3, &errs);
    ck_assert_ptr_nonnull(routes);
    ck_assert_uint_eq(tc_routes_count(routes), 0);
    ck_assert_str_eq(match(&a), "");
    tc_routes_free(routes);
    ck_assert_ptr_nonnull(parse("routes = ();\n"));
    ck_assert_str_eq(match(&a), "");
}
END_TEST

START_TEST(test_match_output_stops_at_max)
{
    struct tocsin_alert a = alert(TOCSIN_SEV_CRITICAL, "prom", "db");
    size_t out[2] = { 99, 99 };

    ck_assert_ptr_nonnull(parse("routes = ( { sinks = [ \"mail\", \"chat\", \"pd\" ]; } );\n"));
    ck_assert_uint_eq(tc_routes_match(routes, &a, out, 2), 2);
    ck_assert_uint_eq(out[0], MAIL);
    ck_assert_uint_eq(out[1], CHAT);
}
END_TEST

START_TEST(test_bad_regex_names_file_line_and_reason)
{
    char want[512], why[256];
    regex_t re;
    int rc = regcomp(&re, "^(db[)$", REG_EXTENDED | REG_NOSUB);

    ck_assert_int_ne(rc, 0);
    regerror(rc, &re, why, sizeof why);
    regfree(&re);
    ck_assert_ptr_null(parse("routes = (\n"
                             "  { sinks = \"pd\"; },\n"
                             "  { match = { labels_re = {\n"
                             "      instance = \"db[\"; }; };\n"
                             "    sinks = \"pd\"; }\n"
                             ");\n"));
    ck_assert_uint_eq(errs.n, 1);
    snprintf(want, sizeof want, "tocsin.conf:4: route 2: match.labels_re.instance: bad regular "
             "expression \"db[\": %s", why);
    ck_assert_str_eq(errs.msgs[0], want);
}
END_TEST

START_TEST(test_unknown_sink_is_an_error_with_hint)
{
    ck_assert_ptr_null(parse("routes = (\n"
                             "  { sinks = [ \"pd\", \"chta\", \"sms\" ]; }\n"
                             ");\n"));
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], "tocsin.conf:2: route 1: unknown sink \"chta\"; did you mean "
                                   "\"chat\"?");
    ck_assert_str_eq(errs.msgs[1], "tocsin.conf:2: route 1: unknown sink \"sms\" (no sink has "
                                   "this id)");
}
END_TEST

START_TEST(test_route_without_sinks_is_an_error)
{
    ck_assert_ptr_null(parse("routes = (\n"
                             "  { match = { severity = \"low\"; }; },\n"
                             "  { sinks = []; }\n"
                             ");\n"));
    ck_assert_uint_eq(errs.n, 2);
    ck_assert_str_eq(errs.msgs[0], "tocsin.conf:2: route 1: no sinks: a route must name at least "
                                   "one sink");
    ck_assert_str_eq(errs.msgs[1], "tocsin.conf:3: route 2: sinks is empty: a route must name at "
                                   "least one sink");
}
END_TEST

START_TEST(test_unknown_keys_in_route_and_match_are_errors)
{
    ck_assert_ptr_null(parse("routes = (\n"
                             "  { sink = \"pd\"; sinks = \"pd\";\n"
                             "    match = { severty = \"low\"; colour = \"red\"; }; }\n"
                             ");\n"));
    ck_assert_uint_eq(errs.n, 3);
    ck_assert_str_eq(errs.msgs[0], "tocsin.conf:2: route 1: unknown key \"sink\"; did you mean "
                                   "\"sinks\"?");
    ck_assert_str_eq(errs.msgs[1], "tocsin.conf:3: route 1: unknown match key \"severty\"; did "
                                   "you mean \"severity\"?");
    ck_assert_str_eq(errs.msgs[2], "tocsin.conf:3: route 1: unknown match key \"colour\" "
                                   "(severity, source, service, labels, labels_re)");
}
END_TEST

START_TEST(test_bad_values_in_routes_are_errors)
{
    ck_assert_ptr_null(parse("routes = (\n"
                             "  { match = { severity = \"urgent\"; }; sinks = \"pd\"; },\n"
                             "  { match = { labels = { team = 1; }; }; sinks = \"pd\"; },\n"
                             "  { sinks = \"pd\"; continue = \"yes\"; },\n"
                             "  { match = { source = 5; }; sinks = \"pd\"; },\n"
                             "  \"pd\" );\n"));
    ck_assert_uint_eq(errs.n, 5);
    ck_assert_str_eq(errs.msgs[0], "tocsin.conf:2: route 1: unknown severity \"urgent\" "
                                   "(critical, high, medium, low or info)");
    ck_assert_str_eq(errs.msgs[1], "tocsin.conf:3: route 2: match.labels.team must be a string");
    ck_assert_str_eq(errs.msgs[2], "tocsin.conf:4: route 3: continue must be true or false");
    ck_assert_str_eq(errs.msgs[3], "tocsin.conf:5: route 4: match.source must be a string or a "
                                   "list of strings");
    ck_assert_str_eq(errs.msgs[4], "tocsin.conf:6: route 5: a route must be a group like "
                                   "{ sinks = [ \"chat\" ]; }");
}
END_TEST

START_TEST(test_routes_must_be_a_list)
{
    ck_assert_ptr_null(parse("\nroutes = { sinks = \"pd\"; };\n"));
    ck_assert_uint_eq(errs.n, 1);
    ck_assert_str_eq(errs.msgs[0], "tocsin.conf:2: routes must be a list of groups: "
                                   "( { ... }, { ... } )");
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("routes");
    TCase *tc = tcase_create("routes");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_severity_routes_critical_to_pager_and_rest_to_catch_all);
    tcase_add_test(tc, test_severity_accepts_a_single_name_and_aliases);
    tcase_add_test(tc, test_source_and_service_match_exactly_and_together);
    tcase_add_test(tc, test_labels_must_all_match_exactly);
    tcase_add_test(tc, test_labels_re_is_anchored_extended_regex);
    tcase_add_test(tc, test_missing_label_matches_like_an_empty_one);
    tcase_add_test(tc, test_continue_collects_sinks_in_order_without_duplicates);
    tcase_add_test(tc, test_first_match_wins_without_continue);
    tcase_add_test(tc, test_no_routes_match_nothing);
    tcase_add_test(tc, test_match_output_stops_at_max);
    tcase_add_test(tc, test_bad_regex_names_file_line_and_reason);
    tcase_add_test(tc, test_unknown_sink_is_an_error_with_hint);
    tcase_add_test(tc, test_route_without_sinks_is_an_error);
    tcase_add_test(tc, test_unknown_keys_in_route_and_match_are_errors);
    tcase_add_test(tc, test_bad_values_in_routes_are_errors);
    tcase_add_test(tc, test_routes_must_be_a_list);
    suite_add_tcase(s, tc);
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
