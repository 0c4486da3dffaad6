/* tests/unit/test_loader.c: every refusal of the plugin loader, on real .so
 * files built from tests/plugins/, and the good loads: the descriptor
 * checks, and which files and directories are trusted (owner, modes,
 * symlinks, loading through /proc/self/fd). */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
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

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

static void teardown(void)
{
    nftw(tmp, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static const char *fixture(const char *file)
{
    static char p[4400];

    snprintf(p, sizeof p, "%s/%s", plugin_dir, file);
    return p;
}

/* Copies a built plugin into dir with an exact mode. */
static const char *copy_plugin_to(const char *dir, const char *file, const char *as,
                                  mode_t mode)
{
    static char dst[4400];
    char buf[65536];
    ssize_t n;
    int in = open(fixture(file), O_RDONLY), out;

    ck_assert_int_ge(in, 0);
    snprintf(dst, sizeof dst, "%s/%s", dir, as);
    out = open(dst, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(out, 0);
    while ((n = read(in, buf, sizeof buf)) > 0)
        ck_assert_int_eq(write(out, buf, (size_t)n), n);
    close(in);
    ck_assert_int_eq(fchmod(out, mode), 0);
    close(out);
    return dst;
}

/* Copies a built plugin into the temp dir (0700, ours) with an exact mode. */
static const char *copy_plugin(const char *file, const char *as, mode_t mode)
{
    return copy_plugin_to(tmp, file, as, mode);
}

/* A directory tmp/name with an exact mode (mkdir alone follows the umask). */
static const char *subdir(const char *name, mode_t mode)
{
    static char p[4400];

    snprintf(p, sizeof p, "%s/%s", tmp, name);
    ck_assert_msg(mkdir(p, 0700) == 0, "mkdir %s: %s", p, strerror(errno));
    ck_assert_int_eq(chmod(p, mode), 0);
    return p;
}

/* Ownership tests need root (chown); elsewhere they say so in the log
 * rather than pass silently. */
static int running_as_root(const char *test)
{
    if (geteuid() == 0)
        return 1;
    fprintf(stderr, "SKIP %s: needs root to chown files to another user (running as uid %lu)\n",
            test, (unsigned long)geteuid());
    return 0;
}

static int open_fds(void)
{
    DIR *dh = opendir("/proc/self/fd");
    int n = 0;

    ck_assert_ptr_nonnull(dh);
    while (readdir(dh))
        n++;
    closedir(dh);
    return n;
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

/* What tc_loader_scan reported, file by file. */
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

/* Mirrors tests/plugins/groups.c. */
struct groups_window {
    const char *name;
    const char *starts_at;
    int64_t duration_ms;
    struct tocsin_strlist weekdays;
    const char *token;
};

/* Its option entries (main table and group table) are wider than ours:
 * both are walked with its option_size. */
START_TEST(test_group_tables_load_walked_with_option_size)
{
    struct tc_plugin *p = tc_plugin_open(fixture("policy_groups.so"), err, sizeof err);
    const struct tocsin_group_table *g;
    const struct tocsin_option *o;

    ck_assert_msg(p != NULL, "%s", err);
    ck_assert_str_eq(p->desc->options[1].name, "windows");
    ck_assert_int_eq(p->desc->options[1].type, TOCSIN_OPT_GROUPS);
    ck_assert_ptr_null(p->desc->options[2].name);
    g = p->desc->groups;
    ck_assert_ptr_nonnull(g);
    ck_assert_str_eq(g[0].option, "windows");
    ck_assert_uint_eq(g[0].conf_size, sizeof(struct groups_window));
    ck_assert_ptr_null(g[1].option);
    o = g[0].options;
    ck_assert_str_eq(o[0].name, "name");
    ck_assert_str_eq(o[1].name, "starts_at");
    ck_assert_uint_eq(o[1].flags, TOCSIN_OPT_REQUIRED);
    ck_assert_str_eq(o[2].name, "duration");
    ck_assert_int_eq(o[2].type, TOCSIN_OPT_DURATION);
    ck_assert_str_eq(o[2].def, "1h");
    ck_assert_uint_eq(o[2].offset, offsetof(struct groups_window, duration_ms));
    ck_assert_str_eq(o[3].name, "weekdays");
    ck_assert_str_eq(o[4].name, "token");
    ck_assert_uint_eq(o[4].flags, TOCSIN_OPT_SECRET);
    ck_assert_str_eq(o[4].description, "A secret of the window.");
    ck_assert_ptr_null(o[5].name);
    tc_plugin_close(p);
}
END_TEST

START_TEST(test_groups_option_without_its_table_is_refused)
{
    assert_refused("policy_groupsmissing.so",
                   "%s: option \"windows\" is of type groups, but the descriptor's groups has "
                   "no table for it");
}
END_TEST

START_TEST(test_groups_option_with_two_tables_is_refused)
{
    assert_refused("policy_groupstwice.so",
                   "%s: option \"windows\" has 2 tables in the descriptor's groups; it needs "
                   "exactly one");
}
END_TEST

START_TEST(test_group_table_without_options_is_refused)
{
    assert_refused("policy_groupsnooptions.so",
                   "%s: option \"windows\": its group table has no options (NULL)");
}
END_TEST

START_TEST(test_group_table_without_conf_size_is_refused)
{
    assert_refused("policy_groupsnoconfsize.so",
                   "%s: option \"windows\": its group table has a conf_size of 0");
}
END_TEST

START_TEST(test_groups_in_a_group_are_refused)
{
    assert_refused("policy_groupsnested.so",
                   "%s: option \"windows\": group option \"levels\" is of type groups, but "
                   "groups do not nest");
}
END_TEST

START_TEST(test_group_table_for_no_groups_option_is_refused)
{
    assert_refused("policy_groupsstray.so",
                   "%s: the descriptor's groups has a table for \"zone\", which is no option "
                   "of type groups");
}
END_TEST

START_TEST(test_groups_option_with_a_default_is_refused)
{
    assert_refused("policy_groupsdefault.so",
                   "%s: option \"windows\" is of type groups, which has no default");
}
END_TEST

START_TEST(test_group_option_outside_its_struct_is_refused)
{
    char want[512];

    snprintf(want, sizeof want, "%%s: option \"windows\": group option \"starts_at\" (offset "
             "%zu, %zu bytes) lies outside its group's conf_size %zu",
             sizeof(struct groups_window), sizeof(char *), sizeof(struct groups_window));
    assert_refused("policy_groupsbadoffset.so", want);
}
END_TEST

/* A 1.0 descriptor has no groups member, whatever its size: the table it
 * points at is not read. */
START_TEST(test_groups_of_a_1_0_descriptor_are_not_read)
{
    assert_refused("policy_groupsabi10.so",
                   "%s: option \"windows\" is of type groups, but the descriptor's groups has "
                   "no table for it (groups need plugin ABI 1.1)");
}
END_TEST

START_TEST(test_group_or_other_writable_plugin_is_refused)
{
    static const struct {
        mode_t mode;
        const char *why;
    } cases[] = {
        { 0775, "writable by its group (mode 0775)" },
        { 0620, "writable by its group (mode 0620)" },
        { 0757, "writable by others (mode 0757)" },
        { 0666, "writable by others (mode 0666)" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const char *p = copy_plugin("sink_good.so", "sink_good.so", cases[i].mode);

        ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
        ck_assert_str_eq(err, expect("plugin %s: %s", p, cases[i].why));
    }
}
END_TEST

/* The accepted case: a file and directory of ours, no one else can
 * write; code from the checked file is what runs. */
START_TEST(test_trusted_copy_loads_and_works)
{
    static const mode_t dir_modes[] = { 0700, 0755, 0500 };
    static const mode_t file_modes[] = { 0755, 0700, 0644, 0400 };
    size_t i, j;

    for (i = 0; i < sizeof dir_modes / sizeof dir_modes[0]; i++)
        for (j = 0; j < sizeof file_modes / sizeof file_modes[0]; j++) {
            char name[32], dir[4400];
            const char *p;
            struct tc_plugin *pl;
            void *self = NULL;
            int conf = 0;

            snprintf(name, sizeof name, "d%zu%zu", i, j);
            snprintf(dir, sizeof dir, "%s", subdir(name, 0700));
            p = copy_plugin_to(dir, "sink_good.so", "sink_good.so", file_modes[j]);
            ck_assert_int_eq(chmod(dir, dir_modes[i]), 0);
            pl = tc_plugin_open(p, err, sizeof err);
            ck_assert_msg(pl != NULL, "dir %04o, file %04o: %s", (unsigned)dir_modes[i],
                          (unsigned)file_modes[j], err);
            ck_assert_str_eq(pl->desc->name, "good");
            ck_assert_int_eq(pl->desc->create(NULL, &conf, &self), TOCSIN_OK);
            ck_assert_ptr_eq(self, &conf);
            ck_assert_int_eq(pl->desc->deliver(self, NULL).kind, TOCSIN_DONE);
            tc_plugin_close(pl);
            ck_assert_int_eq(chmod(dir, 0700), 0);
        }
}
END_TEST

START_TEST(test_plugin_owned_by_another_user_is_refused)
{
    struct tc_loader *l;
    const char *p;

    if (!running_as_root(__func__))
        return;
    p = copy_plugin("sink_good.so", "sink_good.so", 0755);
    ck_assert_int_eq(chown(p, 65534, 65534), 0);
    ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
    ck_assert_str_eq(err, expect("plugin %s: owned by uid 65534, not by root or tocsind's user "
                                 "(uid 0)", p));
    /* The same refusal through plugin_dir, as start-up loads it. */
    l = tc_loader_new(tmp);
    ck_assert_ptr_null(tc_loader_load(l, TOCSIN_SINK, "good", err, sizeof err));
    ck_assert_str_eq(err, expect("plugin %s/sink_good.so: owned by uid 65534, not by root or "
                                 "tocsind's user (uid 0)", tmp));
    tc_loader_free(l);
}
END_TEST

START_TEST(test_directory_owned_by_another_user_is_refused)
{
    char dir[4400];
    const char *p;

    if (!running_as_root(__func__))
        return;
    snprintf(dir, sizeof dir, "%s", subdir("theirs", 0755));
    p = copy_plugin_to(dir, "sink_good.so", "sink_good.so", 0755);
    ck_assert_int_eq(chown(dir, 65534, 65534), 0);
    ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
    ck_assert_str_eq(err, expect("plugin directory %s: owned by uid 65534, not by root or "
                                 "tocsind's user (uid 0)", dir));
}
END_TEST

/* "tocsind's user" is its effective uid, whoever that is: run as uid
 * 65534 in a child, root's file and 65534's own load, uid 1's does not. */
START_TEST(test_owner_may_be_root_or_tocsinds_own_user)
{
    char mine[4400], roots[4400], report[3][1024];
    const char *p;
    int fds[2], status;
    pid_t pid;
    size_t i;

    if (!running_as_root(__func__))
        return;
    ck_assert_int_eq(chmod(tmp, 0755), 0);
    snprintf(roots, sizeof roots, "%s", subdir("roots", 0755));
    copy_plugin_to(roots, "sink_good.so", "sink_good.so", 0755);
    snprintf(mine, sizeof mine, "%s", subdir("mine", 0755));
    p = copy_plugin_to(mine, "sink_good.so", "sink_good.so", 0755);
    ck_assert_int_eq(chown(p, 65534, 65534), 0);
    ck_assert_int_eq(chown(mine, 65534, 65534), 0);
    p = copy_plugin_to(mine, "input_good.so", "input_good.so", 0755);
    ck_assert_int_eq(chown(p, 1, 1), 0);
    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        static const char *const files[] = { "roots/sink_good.so", "mine/sink_good.so",
                                             "mine/input_good.so" };
        char path[4400];

        memset(report, 0, sizeof report);
        if (seteuid(65534) != 0 || access(mine, X_OK) != 0) {
            snprintf(report[0], sizeof report[0], "SKIP: uid 65534 cannot reach %.900s: %s",
                     mine, strerror(errno));
        } else {
            for (i = 0; i < 3; i++) {
                struct tc_plugin *pl;

                snprintf(path, sizeof path, "%s/%s", tmp, files[i]);
                pl = tc_plugin_open(path, report[i], sizeof report[i]);
                if (pl)
                    snprintf(report[i], sizeof report[i], "loaded");
                tc_plugin_close(pl);
            }
        }
        if (write(fds[1], report, sizeof report) != (ssize_t)sizeof report)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], report, sizeof report), (ssize_t)sizeof report);
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (strncmp(report[0], "SKIP", 4) == 0) {
        fprintf(stderr, "%s %s\n", __func__, report[0]);
        return;
    }
    ck_assert_str_eq(report[0], "loaded");
    ck_assert_str_eq(report[1], "loaded");
    ck_assert_str_eq(report[2], expect("plugin %s/input_good.so: owned by uid 1, not by root or "
                                       "tocsind's user (uid 65534)", mine));
}
END_TEST

START_TEST(test_directory_writable_by_group_or_others_is_refused)
{
    static const struct {
        mode_t mode;
        const char *why;
    } cases[] = {
        { 0777, "writable by others (mode 0777)" },
        { 01777, "writable by others (mode 1777)" }, /* sticky, like /tmp */
        { 0757, "writable by others (mode 0757)" },
        { 0775, "writable by its group (mode 0775)" },
        { 0770, "writable by its group (mode 0770)" },
    };
    size_t i;

    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char name[16], dir[4400];
        struct tc_loader *l;
        struct seen *s;
        const char *p;

        snprintf(name, sizeof name, "d%zu", i);
        snprintf(dir, sizeof dir, "%s", subdir(name, 0755));
        p = copy_plugin_to(dir, "sink_good.so", "sink_good.so", 0755);
        ck_assert_int_eq(chmod(dir, cases[i].mode), 0);
        ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
        ck_assert_str_eq(err, expect("plugin directory %s: %s", dir, cases[i].why));
        /* Start-up's way, by kind and name from plugin_dir. */
        l = tc_loader_new(dir);
        ck_assert_ptr_null(tc_loader_load(l, TOCSIN_SINK, "good", err, sizeof err));
        ck_assert_str_eq(err, expect("plugin directory %s: %s", dir, cases[i].why));
        tc_loader_free(l);
        /* --list-plugins' way: the directory is reported once. */
        s = calloc(1, sizeof *s);
        ck_assert_ptr_nonnull(s);
        tc_loader_scan(dir, record, s);
        ck_assert_int_eq(s->n, 1);
        ck_assert_str_eq(s->names[0], name);
        ck_assert_str_eq(s->errs[0], expect("plugin directory %s: %s", dir, cases[i].why));
        free(s);
    }
}
END_TEST

START_TEST(test_symlinked_plugin_is_refused_not_followed)
{
    char real[4400], link[4400];
    struct tc_loader *l;
    struct seen *s;

    /* The target is a trusted plugin in a trusted directory: the link
     * itself is what is refused. */
    snprintf(real, sizeof real, "%s", copy_plugin_to(subdir("real", 0755), "sink_good.so",
                                                    "sink_good.so", 0755));
    snprintf(link, sizeof link, "%s/sink_good.so", tmp);
    ck_assert_int_eq(symlink(real, link), 0);
    ck_assert_ptr_null(tc_plugin_open(link, err, sizeof err));
    ck_assert_str_eq(err, expect("plugin %s: is a symbolic link, refusing to follow it", link));

    l = tc_loader_new(tmp);
    ck_assert_ptr_null(tc_loader_load(l, TOCSIN_SINK, "good", err, sizeof err));
    ck_assert_str_eq(err, expect("plugin %s: is a symbolic link, refusing to follow it", link));
    tc_loader_free(l);

    s = calloc(1, sizeof *s);
    ck_assert_ptr_nonnull(s);
    tc_loader_scan(tmp, record, s);
    ck_assert_int_eq(s->n, 1);
    ck_assert_str_eq(s->errs[0], expect("plugin %s: is a symbolic link, refusing to follow it",
                                        link));
    free(s);

    /* A relative link and a dangling one read the same. */
    ck_assert_int_eq(unlink(link), 0);
    ck_assert_int_eq(symlink("real/sink_good.so", link), 0);
    ck_assert_ptr_null(tc_plugin_open(link, err, sizeof err));
    ck_assert_str_eq(err, expect("plugin %s: is a symbolic link, refusing to follow it", link));
    ck_assert_int_eq(unlink(link), 0);
    ck_assert_int_eq(symlink("nowhere.so", link), 0);
    ck_assert_ptr_null(tc_plugin_open(link, err, sizeof err));
    ck_assert_str_eq(err, expect("plugin %s: is a symbolic link, refusing to follow it", link));
}
END_TEST

/* plugin_dir may be a symlink: the directory it leads to is what is
 * checked, and plugins are opened relative to that very directory. */
START_TEST(test_symlinked_directory_is_checked_as_its_target)
{
    char good[4400], bad[4400], link[4400], p[4500];
    struct tc_plugin *pl;

    snprintf(good, sizeof good, "%s", subdir("good", 0755));
    copy_plugin_to(good, "sink_good.so", "sink_good.so", 0755);
    snprintf(bad, sizeof bad, "%s", subdir("bad", 0755));
    copy_plugin_to(bad, "sink_good.so", "sink_good.so", 0755);
    ck_assert_int_eq(chmod(bad, 0777), 0);
    snprintf(link, sizeof link, "%s/plugins", tmp);
    snprintf(p, sizeof p, "%s/sink_good.so", link);

    ck_assert_int_eq(symlink(good, link), 0);
    pl = tc_plugin_open(p, err, sizeof err);
    ck_assert_msg(pl != NULL, "%s", err);
    tc_plugin_close(pl);

    ck_assert_int_eq(unlink(link), 0);
    ck_assert_int_eq(symlink(bad, link), 0);
    ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
    ck_assert_str_eq(err, expect("plugin directory %s: writable by others (mode 0777)", link));
}
END_TEST

START_TEST(test_fifo_is_refused_without_blocking)
{
    char p[4400];

    snprintf(p, sizeof p, "%s/sink_fifo.so", tmp);
    ck_assert_int_eq(mkfifo(p, 0644), 0);
    ck_assert_ptr_null(tc_plugin_open(p, err, sizeof err));
    ck_assert_str_eq(err, expect("plugin %s: not a regular file", p));
}
END_TEST

/* Without /proc the checked file cannot be loaded by its descriptor, and
 * loading it by path would reopen whatever is there by then: refused. Run
 * in a child with its own mount namespace and an empty /proc. */
START_TEST(test_without_proc_the_plugin_is_refused_not_loaded_by_path)
{
    char report[1024] = "", want[1200];
    const char *p = copy_plugin("sink_good.so", "sink_good.so", 0755);
    int fds[2], status;
    pid_t pid;

    ck_assert_int_eq(pipe(fds), 0);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        struct tc_plugin *pl;

        /* Private first, so the empty /proc cannot propagate back. */
        if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
            mount("none", "/proc", "tmpfs", 0, NULL) != 0) {
            snprintf(report, sizeof report, "SKIP: no private mount namespace here: %s",
                     strerror(errno));
        } else {
            pl = tc_plugin_open(p, report, sizeof report);
            if (pl)
                snprintf(report, sizeof report, "loaded");
            tc_plugin_close(pl);
        }
        if (write(fds[1], report, sizeof report) != (ssize_t)sizeof report)
            _exit(1);
        _exit(0);
    }
    close(fds[1]);
    ck_assert_int_eq(read(fds[0], report, sizeof report), (ssize_t)sizeof report);
    close(fds[0]);
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    ck_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    if (strncmp(report, "SKIP", 4) == 0) {
        fprintf(stderr, "%s %s\n", __func__, report);
        return;
    }
    snprintf(want, sizeof want, "plugin %s: cannot reach the checked file as /proc/self/fd/", p);
    ck_assert_msg(strncmp(report, want, strlen(want)) == 0, "%s", report);
    ck_assert_msg(strstr(report, "is /proc mounted?"), "%s", report);
}
END_TEST

/* Each loaded plugin holds its file open (the dynamic loader knows it as
 * /proc/self/fd/N), and gives it back when closed. */
START_TEST(test_a_closed_plugin_gives_its_file_back)
{
    int before = open_fds();
    struct tc_plugin *a = tc_plugin_open(fixture("sink_good.so"), err, sizeof err);
    struct tc_plugin *b;

    ck_assert_msg(a != NULL, "%s", err);
    ck_assert_int_eq(open_fds(), before + 1);
    tc_plugin_close(a);
    ck_assert_int_eq(open_fds(), before);
    /* A refused file is not kept either. */
    b = tc_plugin_open(fixture("sink_badmagic.so"), err, sizeof err);
    ck_assert_ptr_null(b);
    ck_assert_int_eq(open_fds(), before);
}
END_TEST

/* The dynamic loader matches /proc/self/fd/N against objects still
 * loaded: a plugin that outlives its dlclose() (-z nodelete) must not be
 * handed out for the next file that gets the same descriptor number. */
START_TEST(test_a_plugin_still_mapped_is_not_handed_out_for_the_next)
{
    struct tc_plugin *nd, *next;

    nd = tc_plugin_open(fixture("sink_nodelete.so"), err, sizeof err);
    ck_assert_msg(nd != NULL, "%s", err);
    tc_plugin_close(nd);
    next = tc_plugin_open(fixture("sink_good.so"), err, sizeof err);
    ck_assert_msg(next != NULL, "%s", err);
    ck_assert_str_eq(next->desc->name, "good");
    tc_plugin_close(next);
}
END_TEST

/* The same with one file loaded twice: the second name stays bound to
 * the first's mapping after the second is closed. */
START_TEST(test_a_file_loaded_twice_is_not_handed_out_for_the_next)
{
    struct tc_plugin *a1, *a2, *next;

    a1 = tc_plugin_open(fixture("sink_good.so"), err, sizeof err);
    a2 = tc_plugin_open(fixture("sink_good.so"), err, sizeof err);
    ck_assert(a1 && a2);
    ck_assert_ptr_eq(a1->dl, a2->dl); /* one mapping of one file (desc is a copy each) */
    tc_plugin_close(a2);
    next = tc_plugin_open(fixture("policy_good.so"), err, sizeof err);
    ck_assert_msg(next != NULL, "%s", err);
    ck_assert_int_eq(next->desc->kind, TOCSIN_POLICY);
    tc_plugin_close(next);
    tc_plugin_close(a1);
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
    ck_assert_str_eq(err, expect("plugin %s: not a regular file", p));
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
    ck_assert_str_eq(s.errs[0], expect("plugin directory %s: No such file or directory", p));
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
    tcase_add_test(tc, test_group_tables_load_walked_with_option_size);
    tcase_add_test(tc, test_groups_option_without_its_table_is_refused);
    tcase_add_test(tc, test_groups_option_with_two_tables_is_refused);
    tcase_add_test(tc, test_group_table_without_options_is_refused);
    tcase_add_test(tc, test_group_table_without_conf_size_is_refused);
    tcase_add_test(tc, test_groups_in_a_group_are_refused);
    tcase_add_test(tc, test_group_table_for_no_groups_option_is_refused);
    tcase_add_test(tc, test_groups_option_with_a_default_is_refused);
    tcase_add_test(tc, test_group_option_outside_its_struct_is_refused);
    tcase_add_test(tc, test_groups_of_a_1_0_descriptor_are_not_read);
    tcase_add_test(tc, test_group_or_other_writable_plugin_is_refused);
    tcase_add_test(tc, test_trusted_copy_loads_and_works);
    tcase_add_test(tc, test_plugin_owned_by_another_user_is_refused);
    tcase_add_test(tc, test_directory_owned_by_another_user_is_refused);
    tcase_add_test(tc, test_owner_may_be_root_or_tocsinds_own_user);
    tcase_add_test(tc, test_directory_writable_by_group_or_others_is_refused);
    tcase_add_test(tc, test_symlinked_plugin_is_refused_not_followed);
    tcase_add_test(tc, test_symlinked_directory_is_checked_as_its_target);
    tcase_add_test(tc, test_fifo_is_refused_without_blocking);
    tcase_add_test(tc, test_without_proc_the_plugin_is_refused_not_loaded_by_path);
    tcase_add_test(tc, test_a_closed_plugin_gives_its_file_back);
    tcase_add_test(tc, test_a_plugin_still_mapped_is_not_handed_out_for_the_next);
    tcase_add_test(tc, test_a_file_loaded_twice_is_not_handed_out_for_the_next);
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
