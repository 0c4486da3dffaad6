/* test_smtp.c: SMTP through the core's client against a real server
 * (python3-aiosmtpd on 127.0.0.1): a message arrives with its envelope, and
 * the core's timeout and shutdown abort hold for SMTP as for HTTP. Skipped
 * (exit 77) when python3 cannot import aiosmtpd. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "httpclient.h"

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A listening loopback socket (port in *port). */
static int listener(int *port)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    ck_assert_int_ge(fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(fd, 4), 0);
    getsockname(fd, (struct sockaddr *)&a, &len);
    *port = ntohs(a.sin_port);
    return fd;
}

static int can_connect(int port)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), ok;

    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
    close(fd);
    return ok;
}

static const char *const rcpt[] = { "<ops@example.org>", "<dba@example.org>", NULL };

static int send_mail(const char *url, long timeout_ms, struct tocsin_http_result *res)
{
    static const char msg[] = "From: tocsin <alerts@example.org>\r\n"
                              "To: ops@example.org\r\n"
                              "Subject: [tocsin] db down\r\n"
                              "\r\n"
                              "incident 42 triggered: db down\r\n";
    struct tocsin_http_call c = { .url = url, .body = msg, .body_len = sizeof msg - 1,
                                  .timeout_ms = timeout_ms };
    struct tc_http_opts o = { .timeout_ms = 10000, .max_response = 1 << 20,
                              .mail_from = "<alerts@example.org>", .mail_rcpt = rcpt };

    return tc_http_call(&c, res, &o);
}

/* The whole of the one message in the maildir, or NULL. */
static char *read_maildir(const char *dir)
{
    char path[1200];
    struct dirent *e;
    char *text = NULL;
    DIR *d;

    snprintf(path, sizeof path, "%s/new", dir);
    if (!(d = opendir(path)))
        return NULL;
    while (!text && (e = readdir(d))) {
        FILE *f;
        long n;

        if (e->d_name[0] == '.')
            continue;
        snprintf(path, sizeof path, "%s/new/%s", dir, e->d_name);
        if (!(f = fopen(path, "r")))
            continue;
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        rewind(f);
        text = calloc(1, (size_t)n + 1);
        if (fread(text, 1, (size_t)n, f) != (size_t)n) {
            free(text);
            text = NULL;
        }
        fclose(f);
    }
    closedir(d);
    return text;
}

START_TEST(test_a_message_reaches_a_real_smtp_server_with_its_envelope)
{
    char dir[] = "/tmp/tocsin-smtp-XXXXXX", addr[64], url[64], *mail = NULL;
    struct tocsin_http_result res;
    int port, fd = listener(&port), rc;
    int64_t end;
    pid_t pid;

    close(fd); /* the port for aiosmtpd: free again, unlikely to be taken */
    ck_assert_ptr_nonnull(mkdtemp(dir));
    {
        static const char *const sub[] = { "tmp", "new", "cur" };
        char path[128];
        size_t i;

        for (i = 0; i < 3; i++) { /* a Maildir, as aiosmtpd's Mailbox wants it */
            snprintf(path, sizeof path, "%s/%s", dir, sub[i]);
            ck_assert_int_eq(mkdir(path, 0700), 0);
        }
    }
    snprintf(addr, sizeof addr, "127.0.0.1:%d", port);
    pid = fork();
    ck_assert_int_ge(pid, 0);
    if (pid == 0) {
        execl("/usr/bin/python3", "python3", "-m", "aiosmtpd", "-n", "-l", addr, "-c",
               "aiosmtpd.handlers.Mailbox", dir, (char *)NULL);
        _exit(127);
    }
    for (end = mono_ms() + 10000; !can_connect(port) && mono_ms() < end;)
        usleep(20000);
    snprintf(url, sizeof url, "smtp://127.0.0.1:%d/tocsin.test", port);
    rc = send_mail(url, 0, &res);
    ck_assert_msg(rc == TOCSIN_OK, "smtp: %s", res.error);
    ck_assert_int_eq(res.status, 250);
    ck_assert_int_eq(tc_http_verdict(&res).kind, TOCSIN_DONE);
    tc_http_result_free(&res);
    for (end = mono_ms() + 5000; !(mail = read_maildir(dir)) && mono_ms() < end;)
        usleep(20000);
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    ck_assert_msg(mail != NULL, "no message in %s", dir);
    ck_assert_ptr_nonnull(strstr(mail, "Subject: [tocsin] db down"));
    ck_assert_ptr_nonnull(strstr(mail, "incident 42 triggered: db down"));
    ck_assert_ptr_nonnull(strstr(mail, "X-MailFrom: alerts@example.org"));
    ck_assert_msg(strstr(mail, "ops@example.org") && strstr(mail, "dba@example.org"),
                  "recipients missing: %s", mail);
    free(mail);
    tc_httpclient_thread_done();
    {
        char cmd[128];

        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        ck_assert_int_eq(system(cmd), 0);
    }
}
END_TEST

/* A server that accepts and never greets: only the core's limits end it. */
START_TEST(test_a_silent_smtp_server_hits_the_call_timeout)
{
    struct tocsin_http_result res;
    char url[64];
    int port, fd = listener(&port);
    int64_t t0 = mono_ms();

    snprintf(url, sizeof url, "smtp://127.0.0.1:%d/", port);
    ck_assert_int_eq(send_mail(url, 300, &res), TOCSIN_ERROR);
    ck_assert_int_eq(res.timed_out, 1);
    ck_assert_int_lt(mono_ms() - t0, 3000);
    tc_http_result_free(&res);
    tc_httpclient_thread_done();
    close(fd);
}
END_TEST

static void *abort_soon(void *arg)
{
    usleep(300000);
    tc_httpclient_abort_all();
    return NULL;
}

START_TEST(test_shutdown_aborts_an_smtp_call_in_progress)
{
    struct tocsin_http_result res;
    char url[64];
    int port, fd = listener(&port);
    int64_t t0 = mono_ms();
    pthread_t th;

    snprintf(url, sizeof url, "smtp://127.0.0.1:%d/", port);
    pthread_create(&th, NULL, abort_soon, NULL);
    ck_assert_int_eq(send_mail(url, 20000, &res), TOCSIN_ERROR);
    ck_assert_int_lt(mono_ms() - t0, 5000);
    ck_assert_int_eq(res.timed_out, 0);
    pthread_join(th, NULL);
    tc_http_result_free(&res);
    tc_httpclient_thread_done();
    close(fd);
}
END_TEST

int main(void)
{
    Suite *s;
    TCase *tc;
    SRunner *sr;
    int failed;

    if (system("/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null") != 0) {
        fprintf(stderr, "SKIP: python3 cannot import aiosmtpd "
                        "(apt-get install python3-aiosmtpd)\n");
        return 77;
    }
    s = suite_create("smtp");
    tc = tcase_create("smtp");
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_a_message_reaches_a_real_smtp_server_with_its_envelope);
    tcase_add_test(tc, test_a_silent_smtp_server_hits_the_call_timeout);
    tcase_add_test(tc, test_shutdown_aborts_an_smtp_call_in_progress);
    suite_add_tcase(s, tc);
    tc_httpclient_global_init();
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tc_httpclient_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
