/* test_matcher.c: lib/matcher.c, Alertmanager's label matchers (amtool's
 * text and the JSON form) on a tocsin alert. */
#define _POSIX_C_SOURCE 200809L
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "matcher.h"

static const struct tocsin_kv labels[] = {
    { "alertname", "DiskFull" },
    { "instance", "db-1:9100" },
    { "team", "" },
    { "service", "from-label" },
    { "quote", "say \"hi\"" },
    { "path", "C:\\tmp" },
};

static const struct tocsin_alert alert = {
    .dedup_key = "0123456789abcdef",
    .status = TOCSIN_FIRING,
    .severity = TOCSIN_SEV_HIGH,
    .summary = "Disk full on db-1",
    .source = "am",
    .service = "ignored: the label wins",
    .labels = labels,
    .n_labels = sizeof labels / sizeof labels[0],
};

/* Whether text parses and matches the alert above. */
static int matches(const char *text)
{
    struct tc_matcher m;
    char err[256] = "";
    int r;

    ck_assert_msg(tc_matcher_parse(&m, text, err, sizeof err) == 0, "%s: %s", text, err);
    r = tc_matcher_match(&m, &alert);
    tc_matcher_free(&m);
    return r;
}

/* The error parsing text gives (into a static buffer). */
static const char *parse_error(const char *text)
{
    static char err[256];
    struct tc_matcher m;

    err[0] = '\0';
    ck_assert_msg(tc_matcher_parse(&m, text, err, sizeof err) == -1, "%s parsed", text);
    ck_assert_ptr_null(m.name);
    ck_assert_int_eq(m.has_re, 0);
    tc_matcher_free(&m); /* safe after a failure */
    return err;
}

START_TEST(test_every_operator)
{
    ck_assert(matches("alertname=\"DiskFull\""));
    ck_assert(!matches("alertname=\"Disk\""));
    ck_assert(matches("alertname!=\"Disk\""));
    ck_assert(!matches("alertname!=\"DiskFull\""));
    ck_assert(matches("alertname=~\"Disk.*\""));
    ck_assert(!matches("alertname=~\"Mem.*\""));
    ck_assert(matches("alertname!~\"Mem.*\""));
    ck_assert(!matches("alertname!~\"Disk.*\""));
}
END_TEST

START_TEST(test_parse_fills_name_value_op)
{
    static const struct { const char *text, *name, *value; enum tc_match_op op; } cases[] = {
        { "a=b", "a", "b", TC_MATCH_EQ },
        { "a=\"b\"", "a", "b", TC_MATCH_EQ },
        { "  a  !=  \"b c\"  ", "a", "b c", TC_MATCH_NE },
        { "a=~\"x|y\"", "a", "x|y", TC_MATCH_RE },
        { "a!~y+", "a", "y+", TC_MATCH_NRE },
        { "a==b", "a", "=b", TC_MATCH_EQ },         /* as Alertmanager: the value is "=b" */
        { "a=\"\"", "a", "", TC_MATCH_EQ },
        { "a=", "a", "", TC_MATCH_EQ },
        { "_x9=1", "_x9", "1", TC_MATCH_EQ },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct tc_matcher m;
        char err[256];

        ck_assert_msg(tc_matcher_parse(&m, cases[i].text, err, sizeof err) == 0, "%s: %s",
                      cases[i].text, err);
        ck_assert_str_eq(m.name, cases[i].name);
        ck_assert_str_eq(m.value, cases[i].value);
        ck_assert_int_eq(m.op, cases[i].op);
        ck_assert_int_eq(m.has_re, cases[i].op == TC_MATCH_RE || cases[i].op == TC_MATCH_NRE);
        tc_matcher_free(&m);
        tc_matcher_free(&m); /* twice is safe */
    }
}
END_TEST

START_TEST(test_quotes_and_escapes)
{
    struct tc_matcher m;
    char err[256];

    ck_assert(matches("quote=\"say \\\"hi\\\"\""));
    ck_assert(matches("path=\"C:\\\\tmp\""));
    ck_assert(matches("path=C:\\\\tmp"));          /* escapes apply unquoted too */
    ck_assert(matches("path=\"C:\\tmp\""));        /* a spurious escape stays a backslash */
    ck_assert_int_eq(tc_matcher_parse(&m, "a=\"x\\ny\"", err, sizeof err), 0);
    ck_assert_str_eq(m.value, "x\ny");
    tc_matcher_free(&m);
    ck_assert_int_eq(tc_matcher_parse(&m, "a=\"x=y!~z\"", err, sizeof err), 0);
    ck_assert_str_eq(m.value, "x=y!~z");               /* operators inside the value */
    tc_matcher_free(&m);
    ck_assert_int_eq(tc_matcher_parse(&m, "a=\" padded \"", err, sizeof err), 0);
    ck_assert_str_eq(m.value, " padded ");             /* quotes keep the spaces */
    tc_matcher_free(&m);
}
END_TEST

START_TEST(test_absent_label_is_empty)
{
    ck_assert(matches("missing=\"\""));
    ck_assert(matches("missing=~\"\""));
    ck_assert(matches("missing=~\".*\""));
    ck_assert(!matches("missing=~\".+\""));
    ck_assert(!matches("missing!=\"\""));
    ck_assert(matches("missing!=\"x\""));
    ck_assert(matches("team=\"\""));                /* present but empty: the same */
}
END_TEST

START_TEST(test_fields_when_no_label)
{
    struct tocsin_alert bare = alert;

    ck_assert(matches("severity=high"));
    ck_assert(matches("source=am"));
    ck_assert(matches("summary=~\"Disk full.*\""));
    ck_assert(matches("dedup_key=0123456789abcdef"));
    ck_assert(matches("service=from-label"));       /* a label of the name wins */
    ck_assert_str_eq(tc_matcher_value(&alert, "service"), "from-label");

    bare.labels = NULL;
    bare.n_labels = 0;
    bare.source = NULL;
    ck_assert_str_eq(tc_matcher_value(&bare, "service"), "ignored: the label wins");
    ck_assert_str_eq(tc_matcher_value(&bare, "source"), "");
    ck_assert_str_eq(tc_matcher_value(&bare, "severity"), "high");
    ck_assert_str_eq(tc_matcher_value(&bare, "alertname"), "");
}
END_TEST

START_TEST(test_regex_is_anchored)
{
    ck_assert(!matches("alertname=~\"Disk\""));      /* a prefix is not a match */
    ck_assert(!matches("alertname=~\"Full\""));
    ck_assert(matches("alertname=~\"Disk|Mem\"") == 0);
    ck_assert(matches("alertname=~\"Mem|DiskFull\""));  /* alternation inside the anchors */
    ck_assert(matches("alertname!~\"Disk\""));
    ck_assert(matches("instance=~\"db-[0-9]+:9100\""));
}
END_TEST

START_TEST(test_errors_say_what_is_wrong)
{
    ck_assert_str_eq(parse_error("x~y"), "matcher \"x~y\": expected =, !=, =~ or !~");
    ck_assert_str_eq(parse_error("alertname"),
                     "matcher \"alertname\": expected =, !=, =~ or !~");
    ck_assert_str_eq(parse_error("a!b"), "matcher \"a!b\": expected =, !=, =~ or !~");
    ck_assert_str_eq(parse_error(""), "matcher \"\": expected =, !=, =~ or !~");
    ck_assert_str_eq(parse_error("=b"), "matcher \"=b\": empty label name");
    ck_assert_str_eq(parse_error("9a=b"),
                     "matcher \"9a=b\": label name \"9a\": must match [a-zA-Z_][a-zA-Z0-9_]*");
    ck_assert_str_eq(parse_error("a b=c"),
                     "matcher \"a b=c\": label name \"a b\": must match [a-zA-Z_][a-zA-Z0-9_]*");
    ck_assert_str_eq(parse_error("job:x=c"),
                     "matcher \"job:x=c\": label name \"job:x\": must match [a-zA-Z_][a-zA-Z0-9_]*");
    ck_assert_str_eq(parse_error("a=\"b"),
                     "matcher \"a=\"b\": the value's opening quote is never closed");
    ck_assert_str_eq(parse_error("a=\"b\\\""),
                     "matcher \"a=\"b\\\"\": the value's opening quote is never closed");
    ck_assert_str_eq(parse_error("a=\"b\"c\""),
                     "matcher \"a=\"b\"c\"\": unescaped double quote in the value");
    ck_assert_str_eq(parse_error("a=b\""), "matcher \"a=b\"\": unescaped double quote in the value");
    ck_assert_str_eq(parse_error("a=\xff"),
                     "matcher \"a=\xff\": label \"a\": value is not valid UTF-8");
    /* A regex that does not compile: regerror's words after the regex. */
    ck_assert_int_eq(strncmp(parse_error("a=~\"(\""), "matcher \"a=~\"(\"\": bad regex \"(\": ",
                             strlen("matcher \"a=~\"(\"\": bad regex \"(\": ")),
                     0);
    ck_assert_uint_gt(strlen(parse_error("a=~\"(\"")),
                      strlen("matcher \"a=~\"(\"\": bad regex \"(\": "));
}
END_TEST

START_TEST(test_long_text_is_cut_in_errors)
{
    char text[600], err[1024];
    struct tc_matcher m;

    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    ck_assert_int_eq(tc_matcher_parse(&m, text, err, sizeof err), -1);
    ck_assert_uint_lt(strlen(err), 200);
    ck_assert_ptr_nonnull(strstr(err, "expected =, !=, =~ or !~"));
}
END_TEST

START_TEST(test_init_from_json_form)
{
    struct tc_matcher m;
    char err[256];

    ck_assert_int_eq(tc_matcher_init(&m, "alertname", "DiskFull", 0, 1, err, sizeof err), 0);
    ck_assert_int_eq(m.op, TC_MATCH_EQ);
    ck_assert(tc_matcher_match(&m, &alert));
    tc_matcher_free(&m);
    ck_assert_int_eq(tc_matcher_init(&m, "alertname", "DiskFull", 0, 0, err, sizeof err), 0);
    ck_assert_int_eq(m.op, TC_MATCH_NE);
    ck_assert(!tc_matcher_match(&m, &alert));
    tc_matcher_free(&m);
    ck_assert_int_eq(tc_matcher_init(&m, "instance", "db-.*", 1, 1, err, sizeof err), 0);
    ck_assert_int_eq(m.op, TC_MATCH_RE);
    ck_assert(tc_matcher_match(&m, &alert));
    tc_matcher_free(&m);
    ck_assert_int_eq(tc_matcher_init(&m, "instance", "db-.*", 1, 0, err, sizeof err), 0);
    ck_assert_int_eq(m.op, TC_MATCH_NRE);
    ck_assert(!tc_matcher_match(&m, &alert));
    tc_matcher_free(&m);
    /* The JSON form is taken as is: no unquoting, no escapes. */
    ck_assert_int_eq(tc_matcher_init(&m, "quote", "say \"hi\"", 0, 1, err, sizeof err), 0);
    ck_assert(tc_matcher_match(&m, &alert));
    tc_matcher_free(&m);

    ck_assert_int_eq(tc_matcher_init(&m, "", "x", 0, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "empty label name");
    ck_assert_int_eq(tc_matcher_init(&m, NULL, "x", 0, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "empty label name");
    ck_assert_int_eq(tc_matcher_init(&m, "a-b", "x", 0, 1, err, sizeof err), -1);
    ck_assert_str_eq(err, "label name \"a-b\": must match [a-zA-Z_][a-zA-Z0-9_]*");
    ck_assert_int_eq(tc_matcher_init(&m, "a", "[", 1, 1, err, sizeof err), -1);
    ck_assert_int_eq(strncmp(err, "bad regex \"[\": ", 15), 0);
    ck_assert_ptr_null(m.name);
}
END_TEST

START_TEST(test_all_must_match)
{
    struct tc_matcher v[2];
    char err[256];

    ck_assert(tc_matchers_match(NULL, 0, &alert));  /* no matchers: everything */
    ck_assert_int_eq(tc_matcher_parse(&v[0], "alertname=DiskFull", err, sizeof err), 0);
    ck_assert_int_eq(tc_matcher_parse(&v[1], "severity=~\"high|critical\"", err, sizeof err), 0);
    ck_assert(tc_matchers_match(v, 2, &alert));
    tc_matcher_free(&v[1]);
    ck_assert_int_eq(tc_matcher_parse(&v[1], "severity=critical", err, sizeof err), 0);
    ck_assert(!tc_matchers_match(v, 2, &alert));
    ck_assert(tc_matchers_match(v, 1, &alert));
    tc_matcher_free(&v[0]);
    tc_matcher_free(&v[1]);
}
END_TEST

/* Regexes that would make glibc's regcomp() build a huge automaton are
 * refused before it runs (a fuzzer found "n!~0-...s+++...+" taking 1.5 GB);
 * ordinary ones, lazy marks and bounded counts still compile. */
START_TEST(test_regexes_that_explode_are_refused)
{
    static const char *const good[] = { "db[0-9]+", "(a|b)*c?", "x{2,5}", ".*?",
                                        "[[:alpha:]]{1,255}", "(web|db)-[0-9]{1,3}",
                                        "a\\+", "[+*?]+" };
    static const struct { const char *re, *why; } bad[] = {
        { "0-cs++++", "nested repetition operator at offset 5" },
        { "a**", "nested repetition operator at offset 2" },
        { "a{2}{3}", "nested repetition operator at offset 4" },
        { "a*?+", "nested repetition operator at offset 3" },
        { "(a{0,255}){0,255}", "too complex: its repetitions expand past 2048 atoms" },
        { "((a{20}){20}){20}", "too complex: its repetitions expand past 2048 atoms" },
        { "a{256}", "repetition count over 255 at offset 1" },
        { "(a)\\1", "backreference \\1 at offset 3 is not supported" },
    };
    struct tc_matcher m;
    char err[400], text[2048];
    size_t i;

    for (i = 0; i < sizeof good / sizeof good[0]; i++) {
        ck_assert_msg(tc_matcher_init(&m, "x", good[i], 1, 1, err, sizeof err) == 0, "%s: %s",
                      good[i], err);
        tc_matcher_free(&m);
    }
    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        ck_assert_int_eq(tc_matcher_init(&m, "x", bad[i].re, 1, 1, err, sizeof err), -1);
        ck_assert_msg(strstr(err, bad[i].why), "%s: %s", bad[i].re, err);
        tc_matcher_free(&m);
    }
    /* The fuzzer's input itself, in amtool's syntax. */
    snprintf(text, sizeof text, "n!~0-cs%s", "++++++++++++++++++++++++++++++++++++++revice");
    ck_assert_int_eq(tc_matcher_parse(&m, text, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "nested repetition"), "%s", err);
    tc_matcher_free(&m);
    /* Too long. */
    memset(text, 'a', 1100);
    text[1100] = '\0';
    ck_assert_int_eq(tc_matcher_init(&m, "x", text, 1, 1, err, sizeof err), -1);
    ck_assert_msg(strstr(err, "longer than 1024 bytes"), "%s", err);
    tc_matcher_free(&m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("matcher");
    TCase *tc = tcase_create("matcher");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_operator);
    tcase_add_test(tc, test_parse_fills_name_value_op);
    tcase_add_test(tc, test_quotes_and_escapes);
    tcase_add_test(tc, test_absent_label_is_empty);
    tcase_add_test(tc, test_fields_when_no_label);
    tcase_add_test(tc, test_regex_is_anchored);
    tcase_add_test(tc, test_errors_say_what_is_wrong);
    tcase_add_test(tc, test_long_text_is_cut_in_errors);
    tcase_add_test(tc, test_init_from_json_form);
    tcase_add_test(tc, test_all_must_match);
    tcase_add_test(tc, test_regexes_that_explode_are_refused);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
