/* tests/abi/test_layout.c: today's plugin.h keeps ABI 1.0 as it was: every
 * 1.0 member at its offset with its size, every 1.0 constant with its
 * value, every struct at least as large, and the *_SIZE_1_0 macros equal
 * to the 1.0 sizes they stand for. */
#include <check.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

#include "layout.h"

static const struct abi_member now_members[] = { TC_ABI_1_0_MEMBERS(TC_ABI_MEMBER) { NULL, 0, 0 } };
static const struct abi_struct now_structs[] = { TC_ABI_1_0_STRUCTS(TC_ABI_STRUCT) { NULL, 0 } };
static const struct abi_constant now_constants[] = {
    TC_ABI_1_0_CONSTANTS(TC_ABI_CONSTANT) { NULL, 0 }
};

static size_t v1_0_size(const char *name)
{
    size_t i;

    for (i = 0; abi_v1_0_structs[i].name; i++)
        if (strcmp(abi_v1_0_structs[i].name, name) == 0)
            return abi_v1_0_structs[i].size;
    ck_abort_msg("no struct %s in the 1.0 list", name);
    return 0;
}

START_TEST(test_every_1_0_member_keeps_its_offset_and_size)
{
    size_t i;

    for (i = 0; abi_v1_0_members[i].name; i++) {
        ck_assert_str_eq(now_members[i].name, abi_v1_0_members[i].name);
        ck_assert_msg(now_members[i].offset == abi_v1_0_members[i].offset,
                      "%s moved: offset %zu, 1.0 had %zu", now_members[i].name,
                      now_members[i].offset, abi_v1_0_members[i].offset);
        ck_assert_msg(now_members[i].size == abi_v1_0_members[i].size,
                      "%s changed size: %zu, 1.0 had %zu", now_members[i].name,
                      now_members[i].size, abi_v1_0_members[i].size);
    }
    ck_assert_uint_gt(i, 90); /* the lists were really expanded */
    ck_assert_ptr_null(now_members[i].name);
}
END_TEST

START_TEST(test_structs_only_grow)
{
    size_t i;

    for (i = 0; abi_v1_0_structs[i].name; i++)
        ck_assert_msg(now_structs[i].size >= abi_v1_0_structs[i].size,
                      "struct %s shrank: %zu bytes, 1.0 had %zu", now_structs[i].name,
                      now_structs[i].size, abi_v1_0_structs[i].size);
    ck_assert_uint_eq(i, 14);
}
END_TEST

START_TEST(test_every_1_0_constant_keeps_its_value)
{
    size_t i;

    for (i = 0; abi_v1_0_constants[i].name; i++)
        ck_assert_msg(now_constants[i].value == abi_v1_0_constants[i].value,
                      "%s is %lld, 1.0 had %lld", now_constants[i].name,
                      now_constants[i].value, abi_v1_0_constants[i].value);
    ck_assert_str_eq(TOCSIN_PLUGIN_SYMBOL, abi_v1_0_symbol);
}
END_TEST

/* The core walks 1.0 arrays and reads 1.0 structs by these sizes. */
START_TEST(test_1_0_size_macros_are_the_1_0_sizes)
{
    ck_assert_uint_eq(TOCSIN_PLUGIN_SIZE_1_0, v1_0_size("tocsin_plugin"));
    ck_assert_uint_eq(TOCSIN_ALERT_SIZE_1_0, v1_0_size("tocsin_alert"));
    ck_assert_uint_eq(TOCSIN_OPTION_SIZE_1_0, v1_0_size("tocsin_option"));
    ck_assert_uint_eq(TOCSIN_VERDICT_SIZE_1_0, v1_0_size("tocsin_verdict"));
    ck_assert_uint_eq(TOCSIN_HTTP_CALL_SIZE_1_0, v1_0_size("tocsin_http_call"));
    ck_assert_uint_eq(TOCSIN_HTTP_RESULT_SIZE_1_0, v1_0_size("tocsin_http_result"));
    /* deliver() returns it by value: it can never grow. */
    ck_assert_uint_eq(sizeof(struct tocsin_verdict), v1_0_size("tocsin_verdict"));
}
END_TEST

/* 1.1 is 1.0 plus appended members. */
START_TEST(test_1_1_appends)
{
    ck_assert_int_eq(TOCSIN_ABI_MINOR, 1);
    ck_assert_uint_eq(offsetof(struct tocsin_plugin, option_size), v1_0_size("tocsin_plugin"));
    ck_assert_uint_eq(TOCSIN_PLUGIN_SIZE_1_1, sizeof(struct tocsin_plugin));
    ck_assert_uint_eq(offsetof(struct tocsin_host, emit_sized), v1_0_size("tocsin_host"));
    ck_assert_uint_eq(offsetof(struct tocsin_http_call, mail_from),
                      v1_0_size("tocsin_http_call"));
    ck_assert(TOCSIN_SIZE_HAS(struct tocsin_http_call, sizeof(struct tocsin_http_call),
                              mail_rcpt));
    ck_assert(!TOCSIN_SIZE_HAS(struct tocsin_http_call, TOCSIN_HTTP_CALL_SIZE_1_0, mail_from));
}
END_TEST

static int some_http_sized(const struct tocsin_host *host, const struct tocsin_http_call *call,
                           size_t call_size, struct tocsin_http_result *res, size_t res_size)
{
    return TOCSIN_ERROR;
}

/* TOCSIN_HOST_HAS reads a member only when the table's size holds it. */
START_TEST(test_host_has_goes_by_size_then_by_value)
{
    struct tocsin_host *h = calloc(1, sizeof *h);

    h->size = (uint32_t)offsetof(struct tocsin_host, emit_sized);
    h->abi_major = 1;
    h->abi_minor = 0;
    h->http_sized = some_http_sized; /* beyond the size: must not count */
    ck_assert(!TOCSIN_HOST_HAS(h, http_sized));
    ck_assert(!TOCSIN_HOST_MINOR_AT_LEAST(h, 1));
    ck_assert(TOCSIN_HOST_MINOR_AT_LEAST(h, 0));
    h->size = sizeof *h;
    h->abi_minor = 1;
    ck_assert(TOCSIN_HOST_HAS(h, http_sized));
    ck_assert(!TOCSIN_HOST_HAS(h, emit_sized)); /* in the table but NULL */
    ck_assert(TOCSIN_HOST_MINOR_AT_LEAST(h, 1));
    free(h);
}
END_TEST

/* tocsin_verdict_put copies at most the size it is given. */
START_TEST(test_verdict_put_stays_within_the_size)
{
    union {
        struct tocsin_verdict v;
        unsigned char b[sizeof(struct tocsin_verdict) + 8];
    } u;
    struct tocsin_verdict *v = &u.v;
    unsigned char *buf = u.b;
    size_t i;

    memset(buf, 0xab, sizeof u.b);
    tocsin_verdict_put(v, offsetof(struct tocsin_verdict, reason) + 4, tocsin_retry(7, "abcdefgh"));
    ck_assert_int_eq(v->kind, TOCSIN_RETRY);
    ck_assert_int_eq(v->retry_after, 7);
    ck_assert_int_eq(memcmp(v->reason, "abcd", 4), 0);
    for (i = offsetof(struct tocsin_verdict, reason) + 4; i < sizeof u.b; i++)
        ck_assert_uint_eq(buf[i], 0xab);
    tocsin_verdict_put(v, sizeof u.b, tocsin_failed("x"));
    ck_assert_int_eq(v->kind, TOCSIN_FAILED);
    ck_assert_str_eq(v->reason, "x");
    for (i = sizeof(struct tocsin_verdict); i < sizeof u.b; i++)
        ck_assert_uint_eq(buf[i], 0xab);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("abi layout");
    TCase *tc = tcase_create("layout");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_every_1_0_member_keeps_its_offset_and_size);
    tcase_add_test(tc, test_structs_only_grow);
    tcase_add_test(tc, test_every_1_0_constant_keeps_its_value);
    tcase_add_test(tc, test_1_0_size_macros_are_the_1_0_sizes);
    tcase_add_test(tc, test_1_1_appends);
    tcase_add_test(tc, test_host_has_goes_by_size_then_by_value);
    tcase_add_test(tc, test_verdict_put_stays_within_the_size);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
