/* test_abi_smtp.c: a plugin sends mail through the real tocsind's host
 * (http_sized with mail_from / mail_rcpt, ABI 1.1) to a real SMTP server
 * (python3-aiosmtpd on 127.0.0.1), with the daemon's http_timeout and its
 * shutdown abort holding for SMTP too. The sink is tests/abi/sink_v1_1.c.
 * Skipped (exit 77) when python3 cannot import aiosmtpd. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "harness.h"

static pid_t smtpd; /* aiosmtpd, killed at exit whatever happens */

static void kill_smtpd(void)
{
    if (smtpd > 0) {
        kill(smtpd, SIGTERM);
        waitpid(smtpd, NULL, 0);
        smtpd = 0;
    }
}

/* A listening loopback socket that never answers (port in *port). */
static int silent_listener(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 8), 0);
    ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &len), 0);
    *port = ntohs(a.sin_port);
    return fd;
}

static int can_connect(void *arg)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)*(int *)arg) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

/* aiosmtpd delivering into the Maildir `maildir`; returns its port. */
static int start_smtpd(const char *maildir)
{
    static const char *const sub[] = { "", "/tmp", "/new", "/cur" };
    char addr[64], path[H_PATH_MAX + 16];
    int port, fd = silent_listener(&port);
    size_t i;

    close(fd); /* the port for aiosmtpd: free again, unlikely to be taken */
    for (i = 0; i < 4; i++) {
        snprintf(path, sizeof path, "%s%s", maildir, sub[i]);
        ck_assert_int_eq(mkdir(path, 0700), 0);
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    atexit(kill_smtpd);
    smtpd = fork();
    ck_assert_int_ge(smtpd, 0);
    if (smtpd == 0) {
        execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", addr, "-c",
              "aiosmtpd.handlers.Mailbox", maildir, (char *)NULL);
        _exit(127);
    }
    ck_assert_msg(h_wait_until(can_connect, &port, 10000), "aiosmtpd did not listen on %s",
                  addr);
    return port;
}

/* The messages in maildir/new: their count, and the first one's text. */
static size_t read_mail(const char *maildir, char **first)
{
    char path[H_PATH_MAX + 300];
    struct dirent *e;
    size_t n = 0;
    DIR *d;

    *first = NULL;
    snprintf(path, sizeof path, "%s/new", maildir);
    if (!(d = opendir(path)))
        return 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.')
            continue;
        if (n++ == 0) {
            snprintf(path, sizeof path, "%s/new/%s", maildir, e->d_name);
            *first = h_read_file(path);
        }
    }
    closedir(d);
    return n;
}

/* A daemon with the generic input and the given abi11 sinks (libconfig
 * text), routing every alert to `route`. */
static void up(struct h_daemon *d, const char *daemon_extra, const char *sinks, const char *route)
{
    static const char *const test_plugins[] = { "sink_abi11.so", NULL };
    char dir[H_PATH_MAX];
    const char *const *n;

    snprintf(dir, sizeof dir, "%s/plugins", d->dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_PLUGIN_DIR"), dir, "input_generic.so");
    for (n = test_plugins; *n; n++)
        h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), dir, *n);
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "           plugin_dir = \"%s\"; log_level = \"debug\"; %s };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = (\n%s);\n"
                   "routes = ( { sinks = [ %s ]; } );\n",
                   d->state_dir, dir, daemon_extra, sinks, route);
    h_start(d);
}

static int64_t post_alert(struct h_daemon *d, const char *key)
{
    char body[256];
    struct h_resp r;
    int64_t id;

    snprintf(body, sizeof body,
             "{\"dedup_key\": \"%s\", \"status\": \"firing\", \"severity\": \"critical\","
             " \"summary\": \"db down\"}", key);
    h_req(d, "POST", "/api/v1/alerts", body, &r);
    h_assert(d, r.status == 202, "POST: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    id = h_incident_by_key(d, key);
    h_assert(d, id > 0, "no incident %s", key);
    return id;
}

/* "mail" gets the envelope in its call; "short" passes only the 1.0 part
 * of the same call, so the core never sees the envelope and says so. */
START_TEST(test_a_plugin_mails_through_the_host_with_its_envelope)
{
    char maildir[H_PATH_MAX], sinks[1024], *mail = NULL, *err;
    struct h_daemon d;
    json_t *n;
    int64_t id;
    int port;

    h_init(&d);
    snprintf(maildir, sizeof maildir, "%s/maildir", d.dir);
    port = start_smtpd(maildir);
    snprintf(sinks, sizeof sinks,
             "  { id = \"mail\"; plugin = \"abi11\"; retries = 0;\n"
             "    url = \"smtp://127.0.0.1:%d/tocsin.test\";\n"
             "    mail_from = \"<alerts@example.org>\";\n"
             "    mail_rcpt = [ \"<ops@example.org>\", \"<dba@example.org>\" ]; },\n"
             "  { id = \"short\"; plugin = \"abi11\"; retries = 0; short_call = true;\n"
             "    url = \"smtp://127.0.0.1:%d/tocsin.test\"; max_attempts = 1;\n"
             "    mail_from = \"<alerts@example.org>\"; mail_rcpt = [ \"<ops@example.org>\" ]; }\n",
             port, port);
    up(&d, "", sinks, "\"mail\", \"short\"");
    id = post_alert(&d, "mail-1");

    n = h_wait_notification(&d, id, "mail", "trigger", "done", 20000);
    h_assert(&d, n != NULL, "the mail was never delivered");
    ck_assert_int_eq(h_jint(n, "attempts"), 1);
    json_decref(n);
    n = h_wait_notification(&d, id, "short", "trigger", "failed", 20000);
    h_assert(&d, n != NULL, "a call without its envelope did not fail");
    err = h_read_file(d.log);
    ck_assert_msg(err && strstr(json_string_value(json_object_get(n, "last_error")),
                                "smtp needs an envelope"),
                  "last_error: %s", json_string_value(json_object_get(n, "last_error")));
    json_decref(n);
    /* The server's reply code is the result's status. */
    ck_assert_msg(strstr(err, "attempt 1: status 250"), "no SMTP 250 in the log");
    free(err);

    ck_assert_int_eq(read_mail(maildir, &mail), 1);
    ck_assert_ptr_nonnull(mail);
    ck_assert_msg(strstr(mail, "X-MailFrom: alerts@example.org"), "envelope sender:\n%s", mail);
    ck_assert_msg(strstr(mail, "ops@example.org") && strstr(mail, "dba@example.org"),
                  "envelope recipients:\n%s", mail);
    ck_assert_msg(strstr(mail, "Subject: [tocsin] trigger: db down"), "message:\n%s", mail);
    ck_assert_msg(strstr(mail, "db down\n") || strstr(mail, "db down\r\n"), "body:\n%s", mail);
    free(mail);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    kill_smtpd();
}
END_TEST

/* A server that accepts and never greets: daemon.http_timeout ends the
 * call, as for HTTP. */
START_TEST(test_a_silent_smtp_server_hits_the_daemons_http_timeout)
{
    char sinks[512];
    struct h_daemon d;
    int port, fd = silent_listener(&port);
    json_t *n;
    int64_t id;

    h_init(&d);
    snprintf(sinks, sizeof sinks,
             "  { id = \"mail\"; plugin = \"abi11\"; retries = 0; max_attempts = 1;\n"
             "    url = \"smtp://127.0.0.1:%d/\"; mail_from = \"<a@example.org>\";\n"
             "    mail_rcpt = [ \"<b@example.org>\" ]; }\n",
             port);
    up(&d, "http_timeout = \"1s\";", sinks, "\"mail\"");
    id = post_alert(&d, "silent-1");
    n = h_wait_notification(&d, id, "mail", "trigger", "failed", 20000);
    h_assert(&d, n != NULL, "the call to a silent SMTP server never ended");
    ck_assert_msg(strstr(json_string_value(json_object_get(n, "last_error")), "timed out"),
                  "last_error: %s", json_string_value(json_object_get(n, "last_error")));
    json_decref(n);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    close(fd);
}
END_TEST

/* Stopping the daemon aborts an SMTP call in progress: with an
 * http_timeout of 60 s, it still stops within its drain_timeout. */
START_TEST(test_stopping_the_daemon_aborts_an_smtp_call_in_progress)
{
    char sinks[512];
    struct h_daemon d;
    int port, fd = silent_listener(&port), conn;
    struct pollfd pfd = { fd, POLLIN, 0 };
    int64_t t0;

    h_init(&d);
    snprintf(sinks, sizeof sinks,
             "  { id = \"mail\"; plugin = \"abi11\"; retries = 0;\n"
             "    url = \"smtp://127.0.0.1:%d/\"; mail_from = \"<a@example.org>\";\n"
             "    mail_rcpt = [ \"<b@example.org>\" ]; }\n",
             port);
    up(&d, "http_timeout = \"60s\"; drain_timeout = \"1s\";", sinks, "\"mail\"");
    post_alert(&d, "stuck-1");
    /* The sink's worker has connected (and waits for a greeting). */
    h_assert(&d, poll(&pfd, 1, 10000) == 1, "the sink never connected");
    conn = accept(fd, NULL, NULL);
    ck_assert_int_ge(conn, 0);
    t0 = h_now_ms();
    h_assert(&d, h_stop(&d, 15000) == 0, "tocsind did not stop cleanly");
    h_assert(&d, h_now_ms() - t0 < 8000, "stopping took %lld ms with drain_timeout 1s",
             (long long)(h_now_ms() - t0));
    close(conn);
    close(fd);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: SMTP through the plugin host");
    TCase *tc = h_tcase("abi smtp", 60);

    tcase_add_test(tc, test_a_plugin_mails_through_the_host_with_its_envelope);
    tcase_add_test(tc, test_a_silent_smtp_server_hits_the_daemons_http_timeout);
    tcase_add_test(tc, test_stopping_the_daemon_aborts_an_smtp_call_in_progress);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    if (system("/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null") != 0) {
        fprintf(stderr, "SKIP: python3 cannot import aiosmtpd "
                        "(apt-get install python3-aiosmtpd)\n");
        return 77;
    }
    return h_run_suite(suite());
}
