/* test_guard.c: the pieces that decide who may ask, taken alone: which
 * Host and Origin headers name this daemon (origin.c) and how an
 * Authorization header is read against tokens and input credentials
 * (auth.c), with the odd inputs a hostile client would send. */
#define _GNU_SOURCE
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "config.h"
#include "origin.h"

START_TEST(test_loopback_listener_names)
{
    struct tc_origins *o = tc_origins_new("127.0.0.1:9099", 1, 0, "", NULL);

    ck_assert_ptr_nonnull(o);
    ck_assert(tc_origins_host_ok(o, "localhost:9099"));
    ck_assert(tc_origins_host_ok(o, "LOCALHOST:9099"));
    ck_assert(tc_origins_host_ok(o, "127.0.0.1:9099"));
    ck_assert(tc_origins_host_ok(o, "[::1]:9099"));
    ck_assert(tc_origins_host_ok(o, NULL)); /* HTTP/1.0 without Host */
    ck_assert(!tc_origins_host_ok(o, "localhost:9098"));
    ck_assert(!tc_origins_host_ok(o, "localhost"));
    ck_assert(!tc_origins_host_ok(o, "attacker.example:9099"));
    ck_assert(!tc_origins_host_ok(o, "localhost.attacker.example:9099"));
    ck_assert(!tc_origins_host_ok(o, ""));
    ck_assert(!tc_origins_host_ok(o, "::1:9099"));
    ck_assert(!tc_origins_host_ok(o, "[::1"));
    ck_assert(!tc_origins_host_ok(o, "localhost:"));
    ck_assert(!tc_origins_host_ok(o, "localhost:99999"));
    ck_assert(!tc_origins_host_ok(o, "localhost:9099x"));

    ck_assert(tc_origins_origin_ok(o, NULL));
    ck_assert(tc_origins_origin_ok(o, "http://localhost:9099"));
    ck_assert(tc_origins_origin_ok(o, "http://127.0.0.1:9099"));
    ck_assert(!tc_origins_origin_ok(o, "https://localhost:9099")); /* another scheme */
    ck_assert(!tc_origins_origin_ok(o, "http://localhost"));
    ck_assert(!tc_origins_origin_ok(o, "null"));
    ck_assert(!tc_origins_origin_ok(o, "http://evil.example"));
    ck_assert(!tc_origins_origin_ok(o, "file://"));
    tc_origins_free(o);
}
END_TEST

START_TEST(test_named_and_wildcard_listeners)
{
    const char *const allowed_items[] = { "tocsin.internal", "ops.example.org:8443" };
    struct tocsin_strlist allowed = { 2, allowed_items };
    struct tc_origins *o;

    /* A wildcard listener nobody named answers any name. */
    o = tc_origins_new("0.0.0.0:9099", 0, 0, "", NULL);
    ck_assert(tc_origins_host_ok(o, "whatever.example:1"));
    ck_assert(tc_origins_origin_ok(o, "http://whatever.example"));
    tc_origins_free(o);

    /* Named: external_url (with its default port) and allowed_hosts. */
    o = tc_origins_new("[::]:9099", 0, 1, "https://user@alerts.example.org/tocsin/", &allowed);
    ck_assert(tc_origins_host_ok(o, "alerts.example.org"));
    ck_assert(tc_origins_host_ok(o, "alerts.example.org:443"));
    ck_assert(!tc_origins_host_ok(o, "alerts.example.org:9099"));
    ck_assert(tc_origins_host_ok(o, "tocsin.internal:9099"));
    ck_assert(tc_origins_host_ok(o, "tocsin.internal:1"));
    ck_assert(tc_origins_host_ok(o, "ops.example.org:8443"));
    ck_assert(!tc_origins_host_ok(o, "ops.example.org:8444"));
    ck_assert(!tc_origins_host_ok(o, "localhost:9099")); /* not a loopback listener */
    ck_assert(tc_origins_origin_ok(o, "https://alerts.example.org"));
    ck_assert(!tc_origins_origin_ok(o, "http://alerts.example.org"));
    ck_assert(tc_origins_origin_ok(o, "https://tocsin.internal:9099"));
    tc_origins_free(o);

    /* A specific address is a name of its own. */
    o = tc_origins_new("10.1.2.3:9099", 0, 0, "", NULL);
    ck_assert(tc_origins_host_ok(o, "10.1.2.3:9099"));
    ck_assert(!tc_origins_host_ok(o, "10.1.2.4:9099"));
    tc_origins_free(o);
}
END_TEST

/* A config with two API tokens and an input with its own credentials. */
static struct tc_config *auth_config(int with_tokens)
{
    static struct tc_api_token tokens[2];
    static struct tc_instance_conf inputs[2];
    struct tc_config *c = calloc(1, sizeof *c);

    tokens[0] = (struct tc_api_token){ "write-token-0123456789", "ops", TC_ROLE_WRITE, 1 };
    tokens[1] = (struct tc_api_token){ "read-token-0123456789", "token #2", TC_ROLE_READ, 2 };
    memset(inputs, 0, sizeof inputs);
    inputs[0].id = "prom";
    inputs[0].bearer_token = "prom-token-0123456789";
    inputs[0].basic_user = "vm";
    inputs[0].basic_password = "pw";
    inputs[1].id = "open";
    c->daemon.auth = with_tokens;
    c->daemon.tokens = with_tokens ? tokens : NULL;
    c->daemon.n_tokens = with_tokens ? 2 : 0;
    c->inputs = inputs;
    c->n_inputs = 2;
    return c;
}

START_TEST(test_authorization_headers)
{
    struct tc_config *c = auth_config(1);
    struct tc_auth *a = tc_auth_new(c);
    char who[64];

    free(c);
    ck_assert_ptr_nonnull(a);
    ck_assert(tc_auth_enabled(a));
    /* The API: read for GET, write for the rest. */
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "GET", NULL, who, sizeof who), 401);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "GET", "Bearer read-token-0123456789",
                                   who, sizeof who), TC_AUTH_OK);
    ck_assert_str_eq(who, "token #2");
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "POST", "Bearer read-token-0123456789",
                                   who, sizeof who), 403);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "DELETE",
                                   "  bEaReR   write-token-0123456789  ", who, sizeof who),
                     TC_AUTH_OK);
    ck_assert_str_eq(who, "ops");
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "GET", "Bearer write-token-012345678",
                                   who, sizeof who), 401); /* a prefix */
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "GET", "Bearer", who, sizeof who), 401);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "GET", "Bearer ", who, sizeof who), 401);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "GET", "write-token-0123456789", who,
                                   sizeof who), 401);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_OPEN, NULL, "GET", NULL, who, sizeof who),
                     TC_AUTH_OK);

    /* An input's own: bearer, or basic (base64 "vm:pw" is dm06cHc=). */
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST",
                                   "Bearer prom-token-0123456789", who, sizeof who), TC_AUTH_OK);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST", "Basic dm06cHc=", who,
                                   sizeof who), TC_AUTH_OK);
    ck_assert_str_eq(who, "vm");
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST", "Basic dm06cHd4", who,
                                   sizeof who), 401); /* vm:pwx */
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST", "Basic dm0=", who,
                                   sizeof who), 401); /* no colon */
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST", "Basic !!!!", who,
                                   sizeof who), 401);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST", "Basic dm06cHc", who,
                                   sizeof who), 401); /* not a multiple of 4 */
    /* ... and not the API's tokens, even write ones. */
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST",
                                   "Bearer write-token-0123456789", who, sizeof who), 401);
    /* An input without credentials takes write tokens. */
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "open", "POST",
                                   "Bearer write-token-0123456789", who, sizeof who), TC_AUTH_OK);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "open", "POST",
                                   "Bearer read-token-0123456789", who, sizeof who), 403);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "open", "POST", NULL, who, sizeof who), 401);
    ck_assert_str_eq(tc_auth_challenge(a, TC_GATE_INPUT, "prom"),
                     "Bearer realm=\"tocsin\", Basic realm=\"tocsin\"");
    ck_assert_str_eq(tc_auth_challenge(a, TC_GATE_API, NULL), "Bearer realm=\"tocsin\"");
    tc_auth_free(a);

    /* Without daemon.auth: the API and bare inputs are open; an input
     * with credentials still wants them. */
    c = auth_config(0);
    a = tc_auth_new(c);
    free(c);
    ck_assert(!tc_auth_enabled(a));
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_API, NULL, "POST", NULL, who, sizeof who),
                     TC_AUTH_OK);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "open", "POST", NULL, who, sizeof who),
                     TC_AUTH_OK);
    ck_assert_int_eq(tc_auth_check(a, TC_GATE_INPUT, "prom", "POST", NULL, who, sizeof who), 401);
    tc_auth_free(a);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("guard");
    TCase *tc = tcase_create("guard");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_loopback_listener_names);
    tcase_add_test(tc, test_named_and_wildcard_listeners);
    tcase_add_test(tc, test_authorization_headers);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
