/* tests/unit/test_loader.c: every refusal of the plugin loader, on real .so
 * files built from tests/plugins/, and the good loads. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "loader.h"
#include "plugin_fixture.h"

static const char *plugin_dir;
static char tmp[4096];
static char err[1024];

static void setup(void)
{
    tu_mkdtemp(tmp, sizeof tmp, "loader");
    err[0] = '\0';
}

static void teardown(void)
{
    DIR *dh = opendir(tmp);
    struct dirent *e;
    char p[4400];

    while (dh && (e = readdir(dh))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", tmp, e->d_name);
        if (unlink(p) < 0)
            rmdir(p);
    }
    if (dh)
        closedir(dh);
    rmdir(tmp);
}

static const char *fixture(const char *file)
{
    static char p[4400];

    snprintf(p, sizeof p, "%s/%s", plugin_dir, file);
    return p;
}

/* Copies a built plugin into the temp dir with an exact mode. */
static const char *copy_plugin(const char *file, const char *as, mode_t mode)
{
    static char dst[4400];
    char buf[65536];
    ssize_t n;
    int in = open(fixture(file), O_RDONLY), out;

    ck_assert_int_ge(in, 0);
    snprintf(dst, sizeof dst, "%s/%s", tmp, as);
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(out, 0);
    while ((n = read(in, buf, sizeof buf)) > 0)
        ck_assert_int_eq(write(out, buf, (size_t)n), n);
    close(in);
    ck_assert_int_eq(fchmod(out, mode), 0);
    close(out);
    return dst;
}

static char *expect(const char *fmt, ...)
{
    static char buf[8192];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

/* Opening `file` from the fixtures fails with exactly `want` (a format
 * whose one %s is the path). */
static void assert_refused(const char *file, const char *want)
{
    const char *p = fixture(file);
    struct tc_plugin *pl = tc_plugin_open(p, err, sizeof err);

    ck_assert_msg(pl == NULL, "%s loaded", file);
    ck_assert_str_eq(err, expect(want, p));
}

START_TEST(test_good_sink_loads_with_its_descriptor)
{
    struct tc_plugin *p = tc_plugin_open(fixture("sink_good.so"), err, sizeof err);

    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->path, fixture("sink_good.so"));
    ck_assert_ptr_nonnull(p->dl);
    ck_assert_int_eq(p->desc->kind, TOCSIN_SINK);
    ck_assert_str_eq(p->desc->name, "good");
    ck_assert_ptr_nonnull(p->desc->deliver);
    ck_assert_str_eq(p->desc->options[0].name, "url");
    tc_plugin_close(p);
}
END_TEST

START_TEST(test_loader_loads_by_kind_and_name_once)
{
    struct tc_loader *l = tc_loader_new(plugin_dir);
    const struct tc_plugin *a, *b, *in, *pol;

    a = tc_loader_load(l, TOCSIN_SINK, "good", err, sizeof err);
    ck_assert_msg(a != NULL, "%s", err);
    b = tc_loader_load(l, TOCSIN_SINK, "good", err, sizeof err);
    ck_assert_ptr_eq(a, b);
    in = tc_loader_load(l, TOCSIN_INPUT, "good", err, sizeof err);
    ck_assert_msg(in != NULL, "%s", err);
    ck_assert_int_eq(in->desc->kind, TOCSIN_INPUT);
    pol = tc_loader_load(l, TOCSIN_POLICY, "good", err, sizeof err);
    ck_assert_msg(pol != NULL, "%s", err);
    ck_assert_int_eq(pol->desc->kind, TOCSIN_POLICY);
    ck_assert_ptr_ne(a, in);
    ck_assert_str_eq(a->path, fixture("sink_good.so"));
    tc_loader_free(l);
}
END_TEST

START_TEST(test_loader_names_the_missing_file)
{
    struct tc_loader *l = tc_loader_new(plugin_dir);

    ck_assert_ptr_null(tc_loader_load(l, TOCSIN_SINK, "pagerduty", err, sizeof err));
    ck_assert_str_eq(err, expect("%s: No such file or directory", fixture("sink_pagerduty.so")));
    tc_loader_free(l);
}
END_TEST

START_TEST(test_loader_refuses_names_that_leave_the_directory)
{
    static const char *const names[] = { "../sink_good", "a/b", "..", "x..y" };
    struct tc_loader *l = tc_loader_new(plugin_dir);
    size_t i;

    for (i = 0; i < sizeof names / sizeof names[0]; i++) {
        ck_assert_ptr_null(tc_loader_load(l, TOCSIN_SINK, names[i], err, sizeof err));
        ck_assert_str_eq(err, expect("invalid plugin name \"%s\" (no '/' or \"..\" allowed)",
                                     names[i]));
    }
    ck_assert_ptr_null(tc_loader_load(l, TOCSIN_SINK, "", err, sizeof err));
    ck_assert_str_eq(err, "empty plugin name");
    ck_assert_ptr_null(tc_loader_load(l, (enum tocsin_kind)9, "good", err, sizeof err));
    ck_assert_str_eq(err, "unknown plugin kind 9");
    tc_loader_free(l);
}
END_TEST

START_TEST(test_bad_magic_is_refused_naming_the_file)
{
    assert_refused("sink_badmagic.so", "%s: not a tocsin plugin (bad magic 0xdeadbeef)");
}
END_TEST

START_TEST(test_other_major_is_refused_naming_both_versions)
{
    assert_refused("sink_badmajor.so",
                   "%s: built for plugin ABI 2.3, this tocsind speaks 1.1 (major versions differ)");
}
END_TEST

START_TEST(test_descriptor_smaller_than_its_minor_needs_is_refused)
{
    char want[512];

    snprintf(want, sizeof want, "%%s: descriptor is 40 bytes, but plugin ABI 1.0 needs at "
             "least %zu (this tocsind speaks 1.1)", (size_t)TOCSIN_PLUGIN_SIZE_1_0);
    assert_refused("sink_small.so", want);
}
END_TEST

/* A 1.1 descriptor the size of a 1.0 one would have us read 1.1's
 * members past its end. */
START_TEST(test_minor_1_descriptor_without_the_1_1_members_is_refused)
{
    char want[512];

    ck_assert_uint_lt(TOCSIN_PLUGIN_SIZE_1_0, TOCSIN_PLUGIN_SIZE_1_1);
    snprintf(want, sizeof want, "%%s: descriptor is %zu bytes, but plugin ABI 1.1 needs at "
             "least %zu (this tocsind speaks 1.1)", (size_t)TOCSIN_PLUGIN_SIZE_1_0,
             (size_t)TOCSIN_PLUGIN_SIZE_1_1);
    assert_refused("sink_minor1small.so", want);
}
END_TEST

START_TEST(test_newer_minor_must_carry_all_our_members)
{
    char want[512];

    snprintf(want, sizeof want, "%%s: descriptor is %zu bytes, but plugin ABI 1.7 needs at "
             "least %zu (this tocsind speaks 1.1)",
             sizeof(struct tocsin_plugin) - sizeof(void *), sizeof(struct tocsin_plugin));
    assert_refused("sink_newminorsmall.so", want);
}
END_TEST

/* Its option entries are wider than ours: walked with its option_size,
 * each taken as far as our struct reaches. */
START_TEST(test_newer_minor_with_larger_descriptor_loads)
{
    struct tc_plugin *p = tc_plugin_open(fixture("sink_newminor.so"), err, sizeof err);
    const struct tocsin_option *o;

    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_int_eq(p->desc->abi_minor, 5);
    ck_assert_uint_eq(p->desc->size, sizeof(struct tocsin_plugin) + 16);
    ck_assert_ptr_nonnull(p->desc->deliver_sized);
    ck_assert_ptr_null(p->desc->deliver);
    o = p->desc->options;
    ck_assert_str_eq(o[0].name, "url");
    ck_assert_int_eq(o[0].type, TOCSIN_OPT_STRING);
    ck_assert_str_eq(o[1].name, "token");
    ck_assert_str_eq(o[1].def, "t0");
    ck_assert_uint_eq(o[1].flags, TOCSIN_OPT_SECRET);
    ck_assert_str_eq(o[1].description, "Token.");
    ck_assert_ptr_null(o[2].name);
    tc_plugin_close(p);
}
END_TEST

START_TEST(test_option_size_below_1_0_is_refused)
{
    char want[512];

    snprintf(want, sizeof want, "%%s: option_size is 0, but a struct tocsin_option has at "
             "least %zu bytes (fill the descriptor with TOCSIN_PLUGIN_HEADER)",
             (size_t)TOCSIN_OPTION_SIZE_1_0);
    assert_refused("sink_optionsize.so", want);
}
END_TEST

/* Members a plugin's minor lacks are not read, even when its size would
 * cover them: a 1.0 sink with only deliver_sized has no deliver. */
START_TEST(test_members_after_the_plugins_minor_are_ignored)
{
    assert_refused("sink_oldsized.so", "%s: sink \"oldsized\" has no deliver function");
}
END_TEST

START_TEST(test_missing_symbol_is_refused)
{
    assert_refused("sink_nosymbol.so", "%s: no symbol tocsin_plugin: not a tocsin plugin");
}
END_TEST

START_TEST(test_sink_without_deliver_is_refused)
{
    assert_refused("sink_nodeliver.so",
                   "%s: sink \"nodeliver\" has no deliver or deliver_sized function");
}
END_TEST

START_TEST(test_plugin_without_create_is_refused)
{
    assert_refused("sink_nocreate.so", "%s: sink \"nocreate\" has no create function");
}
END_TEST

START_TEST(test_policy_without_evaluate_is_refused)
{
    assert_refused("policy_noevaluate.so", "%s: policy \"noevaluate\" has no evaluate function");
}
END_TEST

START_TEST(test_name_must_match_the_file_name)
{
    assert_refused("sink_misnamed.so",
                   "%s: declares sink \"other\", so the file must be named sink_other.so");
}
END_TEST

START_TEST(test_kind_must_match_the_file_name)
{
    assert_refused("sink_wrongkind.so",
                   "%s: declares input \"wrongkind\", so the file must be named "
                   "input_wrongkind.so");
}
END_TEST

START_TEST(test_options_without_conf_size_are_refused)
{
    assert_refused("sink_noconfsize.so",
                   "%s: sink \"noconfsize\" has options but a conf_size of 0");
}
END_TEST

START_TEST(test_option_outside_conf_struct_is_refused)
{
    char want[512];

    snprintf(want, sizeof want, "%%s: option \"url\" (offset 64, %zu bytes) lies outside "
             "conf_size %zu", sizeof(char *), 2 * sizeof(char *));
    assert_refused("sink_badoffset.so", want);
}
END_TEST

START_TEST(test_group_or_other_writable_plugin_is_refused)
{
    const mode_t modes[] = { 0775, 0757, 0666 };
    size_t i;

    for (i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        const char *p = copy_plugin("sink_good.so", "sink_good.so", modes[i]);

        ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
        ck_assert_str_eq(err, expect("plugin %s is writable by group or others; refusing to "
                                     "load it", p));
    }
}
END_TEST

START_TEST(test_owner_only_writable_copy_loads_from_any_directory)
{
    const char *p = copy_plugin("sink_good.so", "sink_good.so", 0700);
    struct tc_plugin *pl = tc_plugin_open(p, err, sizeof err);

    ck_assert_msg(pl != NULL, "%s", err);
    tc_plugin_close(pl);
}
END_TEST

START_TEST(test_renamed_copy_is_refused_for_its_name)
{
    const char *p = copy_plugin("sink_good.so", "sink_bad.so", 0755);

    ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
    ck_assert_str_eq(err, expect("%s: declares sink \"good\", so the file must be named "
                                 "sink_good.so", p));
}
END_TEST

START_TEST(test_directory_is_not_a_plugin)
{
    char p[4400];

    snprintf(p, sizeof p, "%s/sink_dir.so", tmp);
    ck_assert_int_eq(mkdir(p, 0755), 0);
    ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
    ck_assert_str_eq(err, expect("%s: not a regular file", p));
}
END_TEST

START_TEST(test_non_elf_file_is_refused_by_dlopen)
{
    char p[4400], want[4500];
    FILE *f;

    snprintf(p, sizeof p, "%s/sink_junk.so", tmp);
    f = fopen(p, "w");
    fputs("not an ELF file\n", f);
    fclose(f);
    chmod(p, 0644);
    ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
    snprintf(want, sizeof want, "cannot load %s: ", p);
    ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
}
END_TEST

struct seen {
    char names[8][64];
    int ok[8];
    char errs[8][512];
    int n;
};

static void record(void *arg, const char *path, const struct tc_plugin *p, const char *why)
{
    struct seen *s = arg;
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;

    ck_assert_int_lt(s->n, 8);
    snprintf(s->names[s->n], sizeof s->names[0], "%s", base);
    s->ok[s->n] = p != NULL;
    snprintf(s->errs[s->n], sizeof s->errs[0], "%s", why ? why : "");
    ck_assert((p == NULL) == (why != NULL));
    s->n++;
}

START_TEST(test_scan_reports_every_so_sorted_by_name)
{
    struct seen s;
    char p[4400];
    FILE *f;

    memset(&s, 0, sizeof s);
    copy_plugin("sink_good.so", "sink_good.so", 0755);
    copy_plugin("policy_good.so", "policy_good.so", 0755);
    copy_plugin("input_good.so", "input_good.so", 0755);
    copy_plugin("sink_badmagic.so", "sink_badmagic.so", 0755);
    snprintf(p, sizeof p, "%s/README", tmp);
    f = fopen(p, "w");
    fclose(f);
    tc_loader_scan(tmp, record, &s);
    ck_assert_int_eq(s.n, 4);
    ck_assert_str_eq(s.names[0], "input_good.so");
    ck_assert_str_eq(s.names[1], "policy_good.so");
    ck_assert_str_eq(s.names[2], "sink_badmagic.so");
    ck_assert_str_eq(s.names[3], "sink_good.so");
    ck_assert(s.ok[0] && s.ok[1] && !s.ok[2] && s.ok[3]);
    snprintf(p, sizeof p, "%s/sink_badmagic.so: not a tocsin plugin (bad magic 0xdeadbeef)", tmp);
    ck_assert_str_eq(s.errs[2], p);
}
END_TEST

START_TEST(test_scan_of_missing_directory_reports_it)
{
    struct seen s;
    char p[4400];

    memset(&s, 0, sizeof s);
    snprintf(p, sizeof p, "%s/nope", tmp);
    tc_loader_scan(p, record, &s);
    ck_assert_int_eq(s.n, 1);
    ck_assert_str_eq(s.errs[0], expect("cannot open plugin directory %s: No such file or "
                                       "directory", p));
}
END_TEST

START_TEST(test_kind_names_round_trip)
{
    ck_assert_str_eq(tc_kind_name(TOCSIN_INPUT), "input");
    ck_assert_str_eq(tc_kind_name(TOCSIN_SINK), "sink");
    ck_assert_str_eq(tc_kind_name(TOCSIN_POLICY), "policy");
    ck_assert_ptr_null(tc_kind_name((enum tocsin_kind)0));
    ck_assert_int_eq(tc_kind_parse("input"), TOCSIN_INPUT);
    ck_assert_int_eq(tc_kind_parse("sink"), TOCSIN_SINK);
    ck_assert_int_eq(tc_kind_parse("policy"), TOCSIN_POLICY);
    ck_assert_int_eq(tc_kind_parse("sinks"), 0);
    ck_assert_int_eq(tc_kind_parse(NULL), 0);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("loader");
    TCase *tc = tcase_create("loader");

    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_good_sink_loads_with_its_descriptor);
    tcase_add_test(tc, test_loader_loads_by_kind_and_name_once);
    tcase_add_test(tc, test_loader_names_the_missing_file);
    tcase_add_test(tc, test_loader_refuses_names_that_leave_the_directory);
    tcase_add_test(tc, test_bad_magic_is_refused_naming_the_file);
    tcase_add_test(tc, test_other_major_is_refused_naming_both_versions);
    tcase_add_test(tc, test_descriptor_smaller_than_its_minor_needs_is_refused);
    tcase_add_test(tc, test_minor_1_descriptor_without_the_1_1_members_is_refused);
    tcase_add_test(tc, test_newer_minor_must_carry_all_our_members);
    tcase_add_test(tc, test_newer_minor_with_larger_descriptor_loads);
    tcase_add_test(tc, test_option_size_below_1_0_is_refused);
    tcase_add_test(tc, test_members_after_the_plugins_minor_are_ignored);
    tcase_add_test(tc, test_missing_symbol_is_refused);
    tcase_add_test(tc, test_sink_without_deliver_is_refused);
    tcase_add_test(tc, test_plugin_without_create_is_refused);
    tcase_add_test(tc, test_policy_without_evaluate_is_refused);
    tcase_add_test(tc, test_name_must_match_the_file_name);
    tcase_add_test(tc, test_kind_must_match_the_file_name);
    tcase_add_test(tc, test_options_without_conf_size_are_refused);
    tcase_add_test(tc, test_option_outside_conf_struct_is_refused);
    tcase_add_test(tc, test_group_or_other_writable_plugin_is_refused);
    tcase_add_test(tc, test_owner_only_writable_copy_loads_from_any_directory);
    tcase_add_test(tc, test_renamed_copy_is_refused_for_its_name);
    tcase_add_test(tc, test_directory_is_not_a_plugin);
    tcase_add_test(tc, test_non_elf_file_is_refused_by_dlopen);
    tcase_add_test(tc, test_scan_reports_every_so_sorted_by_name);
    tcase_add_test(tc, test_scan_of_missing_directory_reports_it);
    tcase_add_test(tc, test_kind_names_round_trip);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr;
    int failed;

    plugin_dir = tu_plugin_dir();
    sr = srunner_create(suite());
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
