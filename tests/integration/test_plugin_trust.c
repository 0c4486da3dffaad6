/* test_plugin_trust.c: the real tocsind loads plugins only from files and
 * a directory owned by root or its own user and writable by no one else,
 * never through a symlink: start-up and --check-config refuse the same
 * files with the same message (file and reason), and the accepted copy of
 * the same plugins loads and works. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

/* A test's own plugin_dir (0755) with the generic input and the console
 * sink copied from the staged plugins, and a config using both. */
static void setup_plugins(struct h_daemon *d, char *plugins, size_t size)
{
    const char *staged = getenv("TOCSIN_PLUGIN_DIR");

    ck_assert_ptr_nonnull(staged);
    h_init(d);
    snprintf(plugins, size, "%s/plugins", d->dir);
    ck_assert_int_eq(mkdir(plugins, 0755), 0);
    ck_assert_int_eq(chmod(plugins, 0755), 0); /* whatever the umask */
    h_copy_plugin(staged, plugins, "input_generic.so");
    h_copy_plugin(staged, plugins, "sink_console.so");
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = ( { id = \"console\"; plugin = \"console\"; path = \"%s\"; } );\n"
                   "routes = ( { sinks = [ \"console\" ]; } );\n",
                   d->state_dir, plugins, d->console);
}

/* Runs `$TOCSIND -f -c conf` as start-up would, capturing its output. A
 * daemon that refuses exits; one still running after timeout_ms has
 * accepted the config: it is killed and -1 returned. */
static int run_start(const struct h_daemon *d, char **out, int timeout_ms)
{
    const char *tocsind = getenv("TOCSIND");
    int64_t end = h_now_ms() + timeout_ms;
    size_t len = 0, cap = 65536;
    char *buf = malloc(cap);
    int fds[2], status;
    pid_t pid;

    ck_assert_ptr_nonnull(tocsind);
    ck_assert_ptr_nonnull(buf);
    ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a killed test */
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        execl(tocsind, tocsind, "-f", "-c", d->conf, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        struct pollfd p = { fds[0], POLLIN, 0 };
        int64_t left = end - h_now_ms();
        ssize_t got;

        if (left <= 0) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(fds[0]);
            buf[len] = '\0';
            *out = buf;
            return -1;
        }
        if (poll(&p, 1, (int)left) <= 0)
            continue;
        got = read(fds[0], buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
        ck_assert_msg(len < cap - 1, "tocsind wrote more than %zu bytes", cap);
    }
    close(fds[0]);
    buf[len] = '\0';
    *out = buf;
    ck_assert_int_eq(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --check-config and start-up both exit 1 with `want` in their output. */
static void assert_both_refuse(const struct h_daemon *d, const char *want)
{
    char *out = NULL;
    int rc;

    rc = h_run_tocsind(&out, "--check-config", "-c", d->conf, (char *)NULL);
    ck_assert_msg(rc == 1 && strstr(out, want),
                  "--check-config: exit %d, expected 1 with \"%s\" in:\n%s", rc, want, out);
    free(out);
    rc = run_start(d, &out, 20000);
    ck_assert_msg(rc == 1 && strstr(out, want),
                  "start-up: exit %d, expected 1 with \"%s\" in:\n%s", rc, want, out);
    free(out);
}

static const char *expect(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *expect(const char *fmt, ...)
{
    static char buf[4 * H_PATH_MAX];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    return buf;
}

/* The accepted case: the same plugins, owned by us, 0755 in a 0755
 * directory, load, and an alert goes through them. */
static int console_has_line(void *arg)
{
    return h_count_lines(arg, "trust-check") > 0;
}

START_TEST(test_trusted_plugins_load_and_work)
{
    struct h_daemon d;
    struct h_resp r;
    char plugins[H_PATH_MAX], *out = NULL;
    int rc;

    setup_plugins(&d, plugins, sizeof plugins);
    rc = h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL);
    ck_assert_msg(rc == 0, "--check-config: exit %d:\n%s", rc, out);
    free(out);
    h_start(&d);
    h_req(&d, "POST", "/api/v1/alerts",
          "{\"dedup_key\": \"t1\", \"status\": \"firing\", \"severity\": \"critical\","
          " \"summary\": \"trust-check\"}",
          &r);
    h_assert(&d, r.status == 202, "POST: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    h_assert(&d, h_wait_until(console_has_line, d.console, 10000),
             "the console sink never wrote the alert");
    h_assert(&d, h_stop(&d, 15000) == 0, "tocsind did not stop cleanly");
}
END_TEST

START_TEST(test_plugin_owned_by_another_user_is_refused)
{
    struct h_daemon d;
    char plugins[H_PATH_MAX], file[H_PATH_MAX + 32];

    if (geteuid() != 0) {
        fprintf(stderr, "SKIP %s: needs root to chown a plugin to uid 65534 (running as "
                "uid %lu)\n", __func__, (unsigned long)geteuid());
        return;
    }
    setup_plugins(&d, plugins, sizeof plugins);
    snprintf(file, sizeof file, "%s/sink_console.so", plugins);
    ck_assert_int_eq(chown(file, 65534, 65534), 0);
    assert_both_refuse(&d, expect("cannot load plugin \"console\": plugin %s: owned by uid "
                                  "65534, not by root or tocsind's user (uid 0)", file));
}
END_TEST

START_TEST(test_plugin_writable_by_others_is_refused)
{
    struct h_daemon d;
    char plugins[H_PATH_MAX], file[H_PATH_MAX + 32];

    setup_plugins(&d, plugins, sizeof plugins);
    snprintf(file, sizeof file, "%s/sink_console.so", plugins);
    ck_assert_int_eq(chmod(file, 0666), 0);
    assert_both_refuse(&d, expect("cannot load plugin \"console\": plugin %s: writable by "
                                  "others (mode 0666)", file));
}
END_TEST

START_TEST(test_directory_writable_by_others_is_refused)
{
    struct h_daemon d;
    char plugins[H_PATH_MAX];

    setup_plugins(&d, plugins, sizeof plugins);
    ck_assert_int_eq(chmod(plugins, 0777), 0);
    assert_both_refuse(&d, expect("cannot load plugin \"console\": plugin directory %s: "
                                  "writable by others (mode 0777)", plugins));
}
END_TEST

START_TEST(test_directory_writable_by_its_group_is_refused)
{
    struct h_daemon d;
    char plugins[H_PATH_MAX];

    setup_plugins(&d, plugins, sizeof plugins);
    ck_assert_int_eq(chmod(plugins, 0775), 0);
    assert_both_refuse(&d, expect("cannot load plugin \"console\": plugin directory %s: "
                                  "writable by its group (mode 0775)", plugins));
}
END_TEST

/* The link's target is a good copy in a good directory: the link itself
 * is refused. */
START_TEST(test_plugin_reached_through_a_symlink_is_refused)
{
    struct h_daemon d;
    char plugins[H_PATH_MAX], real[H_PATH_MAX], file[H_PATH_MAX + 32], target[H_PATH_MAX + 32];

    setup_plugins(&d, plugins, sizeof plugins);
    snprintf(real, sizeof real, "%s/real", d.dir);
    ck_assert_int_eq(mkdir(real, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), real, "sink_console.so");
    snprintf(file, sizeof file, "%s/sink_console.so", plugins);
    snprintf(target, sizeof target, "%s/sink_console.so", real);
    ck_assert_int_eq(unlink(file), 0);
    ck_assert_int_eq(symlink(target, file), 0);
    assert_both_refuse(&d, expect("cannot load plugin \"console\": plugin %s: is a symbolic "
                                  "link, refusing to follow it", file));
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: plugin trust");
    TCase *tc = h_tcase("plugin trust", 90);

    tcase_add_test(tc, test_trusted_plugins_load_and_work);
    tcase_add_test(tc, test_plugin_owned_by_another_user_is_refused);
    tcase_add_test(tc, test_plugin_writable_by_others_is_refused);
    tcase_add_test(tc, test_directory_writable_by_others_is_refused);
    tcase_add_test(tc, test_directory_writable_by_its_group_is_refused);
    tcase_add_test(tc, test_plugin_reached_through_a_symlink_is_refused);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
