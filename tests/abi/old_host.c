/* tests/abi/old_host.c: a tocsind of ABI 1.0 meeting 1.1 plugins. Built
 * against the frozen 1.0 header, it checks a descriptor the way the 1.0
 * loader did and hands create() a host table of exactly the 1.0 size, on
 * the heap, so ASan catches any read past it. A 1.1 plugin that needs a 1.1
 * host function must fail create() with ENOTSUP and say why; a 1.0 plugin
 * is created as usual (the control: this host can create plugins). */
#define _GNU_SOURCE
#include <check.h>
#include <dlfcn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tocsin/plugin.h>

_Static_assert(TOCSIN_ABI_MINOR == 0, "not the frozen 1.0 header: -I tests/abi/v1_0 must come first");

static char logged[512];
static int unexpected; /* host functions create() had no business calling */

static void old_log(const struct tocsin_host *h, enum tocsin_log_level level, const char *fmt,
                    ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(logged, sizeof logged, fmt, ap);
    va_end(ap);
}

static int old_fail(const struct tocsin_host *h, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(logged, sizeof logged, fmt, ap);
    va_end(ap);
    return TOCSIN_ERROR;
}

static int64_t old_now(const struct tocsin_host *h)
{
    return 1700000000000;
}

static int old_route(const struct tocsin_host *h, const char *method, const char *path,
                     tocsin_route_fn fn, void *self)
{
    unexpected++;
    return TOCSIN_OK;
}

static int old_emit(const struct tocsin_host *h, const struct tocsin_alert *alerts, size_t n,
                    char *err, size_t errlen)
{
    unexpected++;
    return TOCSIN_ERROR;
}

static int old_http(const struct tocsin_host *h, const struct tocsin_http_call *call,
                    struct tocsin_http_result *res)
{
    unexpected++;
    return TOCSIN_ERROR;
}

/* A 1.0 table, sized as 1.0 sized it. */
static struct tocsin_host *old_host(void)
{
    struct tocsin_host *h = calloc(1, sizeof *h);

    ck_assert_ptr_nonnull(h);
    h->size = sizeof *h;
    h->abi_major = TOCSIN_ABI_MAJOR;
    h->abi_minor = TOCSIN_ABI_MINOR;
    h->instance_id = "old";
    h->external_url = "";
    h->log = old_log;
    h->fail = old_fail;
    h->now_ms = old_now;
    h->route = old_route;
    h->emit = old_emit;
    h->http = old_http;
    logged[0] = '\0';
    unexpected = 0;
    return h;
}

struct loaded {
    void *dl;
    const struct tocsin_plugin *d;
    void *conf;
};

/* dlopen and the 1.0 loader's checks: magic, major, a size of at least
 * 1.0's for minor 0 and of the whole 1.0 struct for any later minor,
 * create, deliver for sinks. Then a conf struct with `url` set. */
static void load(const char *file, struct loaded *l)
{
    const char *dir = getenv("TOCSIN_TEST_PLUGIN_DIR");
    const struct tocsin_option *o;
    char path[4096];

    ck_assert_msg(dir != NULL, "TOCSIN_TEST_PLUGIN_DIR is not set (run through make check)");
    snprintf(path, sizeof path, "%s/%s", dir, file);
    l->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    ck_assert_msg(l->dl != NULL, "dlopen %s: %s", path, dlerror());
    l->d = dlsym(l->dl, TOCSIN_PLUGIN_SYMBOL);
    ck_assert_ptr_nonnull(l->d);
    ck_assert_uint_eq(l->d->magic, TOCSIN_PLUGIN_MAGIC);
    ck_assert_uint_eq(l->d->abi_major, TOCSIN_ABI_MAJOR);
    ck_assert_uint_ge(l->d->size, l->d->abi_minor == 0 ? TOCSIN_PLUGIN_SIZE_1_0
                                                       : sizeof(struct tocsin_plugin));
    ck_assert_ptr_nonnull(l->d->create);
    if (l->d->kind == TOCSIN_SINK)
        ck_assert_ptr_nonnull(l->d->deliver);
    l->conf = calloc(1, l->d->conf_size ? l->d->conf_size : 1);
    for (o = l->d->options; o && o->name; o++)
        if (strcmp(o->name, "url") == 0 && o->type == TOCSIN_OPT_STRING)
            *(const char **)(void *)((char *)l->conf + o->offset) = "http://127.0.0.1:9/";
}

static void unload(struct loaded *l)
{
    free(l->conf);
    dlclose(l->dl);
}

static void assert_needs_1_1(const char *file)
{
    struct tocsin_host *h = old_host();
    struct loaded l;
    void *self = NULL;

    load(file, &l);
    ck_assert_uint_eq(l.d->abi_minor, 1);
    ck_assert_int_eq(l.d->create(h, l.conf, &self), TOCSIN_ENOTSUP);
    ck_assert_str_eq(logged, "needs tocsin ABI 1.1 (host has 1.0)");
    ck_assert_ptr_null(self);
    ck_assert_int_eq(unexpected, 0);
    unload(&l);
    free(h);
}

START_TEST(test_a_1_1_sink_needing_http_sized_fails_create_clearly)
{
    assert_needs_1_1("sink_abi11.so");
}
END_TEST

START_TEST(test_a_1_1_input_needing_emit_sized_fails_create_clearly)
{
    assert_needs_1_1("input_abi11.so");
}
END_TEST

START_TEST(test_a_1_0_sink_is_created_by_this_host)
{
    struct tocsin_host *h = old_host();
    struct loaded l;
    void *self = NULL;

    load("sink_abi10.so", &l);
    ck_assert_uint_eq(l.d->abi_minor, 0);
    ck_assert_int_eq(l.d->create(h, l.conf, &self), TOCSIN_OK);
    ck_assert_ptr_nonnull(self);
    ck_assert_str_eq(logged, "");
    l.d->destroy(self);
    unload(&l);
    free(h);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("a 1.0 host");
    TCase *tc = tcase_create("old host");
    SRunner *sr;
    int failed;

    tcase_add_test(tc, test_a_1_1_sink_needing_http_sized_fails_create_clearly);
    tcase_add_test(tc, test_a_1_1_input_needing_emit_sized_fails_create_clearly);
    tcase_add_test(tc, test_a_1_0_sink_is_created_by_this_host);
    suite_add_tcase(s, tc);
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
