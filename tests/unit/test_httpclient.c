/* test_httpclient.c: the outbound HTTP client against a real loopback
 * server: answers over the limit are cut, stopped and reported; threads
 * that never call tc_httpclient_thread_done (libmicrohttpd's, running a
 * route handler) leak no curl handle; schemes other than http(s) and
 * smtp(s) are refused, and smtp without an envelope fails clearly. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <check.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "httpclient.h"

/* A one-connection-at-a-time HTTP server answering every request with the
 * same status and a body of body_len 'x's, then closing. */
struct server {
    int fd, port;
    long status;
    size_t body_len;
    int served;
    pthread_t thread;
};

static void *serve(void *arg)
{
    struct server *s = arg;
    int c;

    while ((c = accept(s->fd, NULL, NULL)) >= 0) {
        char buf[8192], head[256];
        size_t got = 0, left;
        ssize_t n;

        /* Headers only: the tests send small bodies in the same packet. */
        while (got < sizeof buf - 1 && (n = read(c, buf + got, sizeof buf - 1 - got)) > 0) {
            got += (size_t)n;
            buf[got] = '\0';
            if (strstr(buf, "\r\n\r\n"))
                break;
        }
        snprintf(head, sizeof head,
                 "HTTP/1.1 %ld X\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
                 s->status, s->body_len);
        if (send(c, head, strlen(head), MSG_NOSIGNAL) < 0)
            goto next;
        memset(buf, 'x', sizeof buf);
        for (left = s->body_len; left > 0;) {
            n = send(c, buf, left < sizeof buf ? left : sizeof buf, MSG_NOSIGNAL);
            if (n <= 0)
                break; /* the client stopped reading: expected when truncating */
            left -= (size_t)n;
        }
    next:
        __atomic_add_fetch(&s->served, 1, __ATOMIC_SEQ_CST);
        close(c);
    }
    return NULL;
}

static void server_start(struct server *s, long status, size_t body_len)
{
    struct sockaddr_in a = { .sin_family = AF_INET };
    socklen_t len = sizeof a;

    memset(s, 0, sizeof *s);
    s->status = status;
    s->body_len = body_len;
    s->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    ck_assert_int_ge(s->fd, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(bind(s->fd, (struct sockaddr *)&a, sizeof a), 0);
    ck_assert_int_eq(listen(s->fd, 16), 0);
    getsockname(s->fd, (struct sockaddr *)&a, &len);
    s->port = ntohs(a.sin_port);
    pthread_create(&s->thread, NULL, serve, s);
}

static void server_stop(struct server *s)
{
    shutdown(s->fd, SHUT_RDWR); /* ends accept() */
    pthread_join(s->thread, NULL);
    close(s->fd);
}

static int call(const struct server *s, size_t max, struct tocsin_http_result *res)
{
    char url[64];
    struct tocsin_http_call c = { .method = "POST", .url = url, .body = "{}", .body_len = 2 };
    struct tc_http_opts o = { .timeout_ms = 5000, .max_response = max };

    snprintf(url, sizeof url, "http://127.0.0.1:%d/hook", s->port);
    return tc_http_call(&c, res, &o);
}

START_TEST(test_answer_within_the_limit_is_whole_and_not_flagged)
{
    struct server s;
    struct tocsin_http_result res;

    server_start(&s, 200, 1000);
    ck_assert_int_eq(call(&s, 1000, &res), TOCSIN_OK);
    ck_assert_int_eq(res.status, 200);
    ck_assert_uint_eq(res.body_len, 1000);
    ck_assert_str_eq(res.error, "");
    ck_assert_int_eq(tc_http_truncated(&res), 0);
    tc_http_result_free(&res);
    server_stop(&s);
}
END_TEST

START_TEST(test_answer_over_the_limit_is_cut_stopped_and_reported)
{
    struct server s;
    struct tocsin_http_result res;
    struct tocsin_verdict v;

    server_start(&s, 200, 8 * 1024 * 1024);
    ck_assert_int_eq(call(&s, 10000, &res), TOCSIN_OK);
    ck_assert_int_eq(res.status, 200);
    ck_assert_uint_eq(res.body_len, 10000);
    ck_assert_int_eq(res.body[10000], '\0');
    ck_assert_int_eq(tc_http_truncated(&res), 1);
    ck_assert_ptr_nonnull(strstr(res.error, "truncated at 10000 bytes"));
    v = tc_http_verdict(&res);
    ck_assert_int_eq(v.kind, TOCSIN_DONE); /* the provider took it */
    tc_http_result_free(&res);
    server_stop(&s);
}
END_TEST

START_TEST(test_a_truncated_error_answer_says_so_in_the_verdict)
{
    struct server s;
    struct tocsin_http_result res;
    struct tocsin_verdict v;

    server_start(&s, 503, 100000);
    ck_assert_int_eq(call(&s, 100, &res), TOCSIN_OK);
    ck_assert_int_eq(res.status, 503);
    v = tc_http_verdict(&res);
    ck_assert_int_eq(v.kind, TOCSIN_RETRY);
    ck_assert_msg(strstr(v.reason, "(answer truncated)") != NULL, "reason: %s", v.reason);
    tc_http_result_free(&res);
    server_stop(&s);
}
END_TEST

static void *one_call_then_exit(void *arg)
{
    struct tocsin_http_result res;

    /* Like a libmicrohttpd thread: a call, and no tc_httpclient_thread_done. */
    ck_assert_int_eq(call(arg, 1 << 20, &res), TOCSIN_OK);
    tc_http_result_free(&res);
    return NULL;
}

START_TEST(test_threads_that_never_say_done_leak_no_handle)
{
    struct server s;
    pthread_t th[4];
    int i;

    tc_httpclient_thread_done(); /* this thread's, from earlier tests (CK_FORK=no) */
    server_start(&s, 200, 10);
    for (i = 0; i < 4; i++)
        pthread_create(&th[i], NULL, one_call_then_exit, &s);
    for (i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ck_assert_int_eq(__atomic_load_n(&s.served, __ATOMIC_SEQ_CST), 4);
    ck_assert_int_eq(tc_httpclient_live_handles(), 0);
    /* This thread's own is kept for reuse, and released on request. */
    one_call_then_exit(&s);
    ck_assert_int_eq(tc_httpclient_live_handles(), 1);
    tc_httpclient_thread_done();
    ck_assert_int_eq(tc_httpclient_live_handles(), 0);
    server_stop(&s);
}
END_TEST

START_TEST(test_other_schemes_are_refused_and_smtp_needs_an_envelope)
{
    struct tocsin_http_call c = { .method = "POST", .url = "file:///etc/passwd" };
    struct tc_http_opts o = { .timeout_ms = 2000, .max_response = 1 << 20 };
    struct tocsin_http_result res;

    ck_assert_int_eq(tc_http_call(&c, &res, &o), TOCSIN_ERROR);
    ck_assert_int_eq(res.status, 0);
    ck_assert_ptr_null(res.body);
    c.url = "smtp://127.0.0.1:1/";
    ck_assert_int_eq(tc_http_call(&c, &res, &o), TOCSIN_ERROR);
    ck_assert_msg(strstr(res.error, "MAIL FROM") != NULL, "error: %s", res.error);
    tc_http_result_free(&res);
    tc_httpclient_thread_done();
}
END_TEST

int main(void)
{
    Suite *s = suite_create("httpclient");
    TCase *tc = tcase_create("httpclient");
    SRunner *sr;
    int failed;

    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_answer_within_the_limit_is_whole_and_not_flagged);
    tcase_add_test(tc, test_answer_over_the_limit_is_cut_stopped_and_reported);
    tcase_add_test(tc, test_a_truncated_error_answer_says_so_in_the_verdict);
    tcase_add_test(tc, test_threads_that_never_say_done_leak_no_handle);
    tcase_add_test(tc, test_other_schemes_are_refused_and_smtp_needs_an_envelope);
    suite_add_tcase(s, tc);
    tc_httpclient_global_init();
    sr = srunner_create(s);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    tc_httpclient_global_cleanup();
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
