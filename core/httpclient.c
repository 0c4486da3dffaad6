/* httpclient.c: blocking HTTP (and SMTP) calls with one reused libcurl
 * handle per thread (keep-alive to each provider), bounded answers,
 * Retry-After. The handle is thread-specific data with a destructor:
 * threads the core does not own (libmicrohttpd's, running a route handler)
 * never call tc_httpclient_thread_done, and must not leak it. */
#define _GNU_SOURCE
#include <ctype.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "common.h"
#include "httpclient.h"

static pthread_key_t curl_key;
static pthread_once_t curl_key_once = PTHREAD_ONCE_INIT;
static atomic_int abort_all;
static atomic_int live_handles;

struct answer {
    struct tocsin_http_result *res;
    size_t cap, max;
    int truncated;
};

/* A thread's handle when it exits. */
static void drop_handle(void *curl)
{
    curl_easy_cleanup(curl);
    atomic_fetch_sub(&live_handles, 1);
}

static void make_key(void)
{
    pthread_key_create(&curl_key, drop_handle);
}

static CURL *thread_handle(void)
{
    CURL *curl;

    pthread_once(&curl_key_once, make_key);
    curl = pthread_getspecific(curl_key);
    if (!curl && (curl = curl_easy_init())) {
        if (pthread_setspecific(curl_key, curl) != 0) {
            curl_easy_cleanup(curl);
            return NULL;
        }
        atomic_fetch_add(&live_handles, 1);
    }
    return curl;
}

int tc_httpclient_live_handles(void)
{
    return atomic_load(&live_handles);
}

int tc_httpclient_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void tc_httpclient_global_cleanup(void)
{
    tc_httpclient_thread_done(); /* main's own: exit() runs no key destructors */
    curl_global_cleanup();
}

void tc_httpclient_thread_done(void)
{
    CURL *curl;

    pthread_once(&curl_key_once, make_key);
    curl = pthread_getspecific(curl_key);
    if (curl) {
        pthread_setspecific(curl_key, NULL);
        drop_handle(curl);
    }
}

void tc_httpclient_abort_all(void)
{
    atomic_store(&abort_all, 1);
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    struct tocsin_http_result *res = a->res;
    size_t n = size * nmemb, keep = n;

    if (res->body_len + keep > a->max) {
        /* Keep what fits, then stop reading: a huge answer costs neither
         * memory nor the rest of the timeout. Reported by the caller. */
        keep = a->max - res->body_len;
        a->truncated = 1;
    }
    if (keep == 0)
        return a->truncated ? 0 : n;
    if (res->body_len + keep + 1 > a->cap) {
        size_t cap = a->cap ? a->cap * 2 : 4096;
        char *grown;

        while (cap < res->body_len + keep + 1)
            cap *= 2;
        grown = realloc(res->body, cap);
        if (!grown)
            return 0;
        res->body = grown;
        a->cap = cap;
    }
    memcpy(res->body + res->body_len, data, keep);
    res->body_len += keep;
    res->body[res->body_len] = '\0';
    return a->truncated ? 0 : n;
}

struct upload {
    const char *data;
    size_t len, off;
};

static size_t on_read(char *buf, size_t size, size_t nmemb, void *arg)
{
    struct upload *u = arg;
    size_t n = size * nmemb;

    if (n > u->len - u->off)
        n = u->len - u->off;
    memcpy(buf, u->data + u->off, n);
    u->off += n;
    return n;
}

static int is_smtp(const char *url)
{
    return url && (strncasecmp(url, "smtp://", 7) == 0 || strncasecmp(url, "smtps://", 8) == 0);
}

int tc_parse_retry_after(const char *v, int64_t now_ms)
{
    struct tm tm = { 0 };
    char *end;
    long secs;

    while (*v == ' ' || *v == '\t')
        v++;
    if (isdigit((unsigned char)*v)) {
        secs = strtol(v, &end, 10);
        while (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n')
            end++;
        return *end || secs < 0 ? -1 : secs > 86400 ? 86400 : (int)secs;
    }
    /* HTTP-date: "Sun, 06 Nov 1994 08:49:37 GMT" */
    end = strptime(v, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!end)
        return -1;
    secs = (long)(timegm(&tm) - now_ms / 1000);
    return secs < 0 ? 0 : secs > 86400 ? 86400 : (int)secs;
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *arg)
{
    struct answer *a = arg;
    size_t n = size * nmemb;
    char line[256];

    if (n > 12 && n < sizeof line && strncasecmp(data, "Retry-After:", 12) == 0) {
        memcpy(line, data + 12, n - 12);
        line[n - 12] = '\0';
        a->res->retry_after = tc_parse_retry_after(line, tc_now_ms());
    }
    return n;
}

/* SMTP: libcurl hands every server reply line to the header callback;
 * the last negative one is what a refusal says ("550 5.1.1 No such user"),
 * whatever QUIT was answered after it. */
struct smtp_reply {
    char line[160];
};

static size_t on_smtp_reply(char *data, size_t size, size_t nmemb, void *arg)
{
    struct smtp_reply *r = arg;
    size_t n = size * nmemb, k;

    if (n < 4 || (data[0] != '4' && data[0] != '5'))
        return size * nmemb;
    while (n > 0 && (data[n - 1] == '\r' || data[n - 1] == '\n'))
        n--;
    k = n < sizeof r->line - 1 ? n : sizeof r->line - 1;
    memcpy(r->line, data, k);
    r->line[k] = '\0';
    return size * nmemb;
}

/* Every SMTP reply wait within the call's timeout (libcurl before 8.6
 * counts it in whole seconds). */
static void bound_smtp_replies(CURL *curl, const struct tocsin_http_call *call,
                               const struct tc_http_opts *opts)
{
    long ms = call->timeout_ms > 0 ? call->timeout_ms : opts->timeout_ms;

#if LIBCURL_VERSION_NUM >= 0x080600
    curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT_MS, ms > 0 ? ms : 1L);
#else
    curl_easy_setopt(curl, CURLOPT_SERVER_RESPONSE_TIMEOUT,
                     ms <= 1000 ? 1L : ms / 1000 + (ms % 1000 != 0));
#endif
}

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    return atomic_load(&abort_all) ? 1 : 0;
}

int tc_http_call(const struct tocsin_http_call *call, struct tocsin_http_result *res,
                 const struct tc_http_opts *opts)
{
    struct answer a = { res, 0, opts->max_response > 0 ? opts->max_response : 1, 0 };
    struct upload up = { call->body ? call->body : "", call->body ? call->body_len : 0, 0 };
    struct curl_slist *headers = NULL, *rcpt = NULL;
    struct smtp_reply reply = { "" };
    char detail[CURL_ERROR_SIZE] = "";
    int smtp = is_smtp(call->url);
    const char *const *h;
    CURL *curl;
    CURLcode rc;

    memset(res, 0, sizeof *res);
    res->retry_after = -1;
    if (smtp && (!opts->mail_from || !opts->mail_rcpt || !opts->mail_rcpt[0])) {
        snprintf(res->error, sizeof res->error,
                 "smtp needs an envelope (MAIL FROM and RCPT TO): mail_from and mail_rcpt, "
                 "which only http_sized (plugin ABI 1.1) carries");
        return TOCSIN_ERROR;
    }
    if (!(curl = thread_handle())) {
        snprintf(res->error, sizeof res->error, "cannot initialise libcurl");
        return TOCSIN_ERROR;
    }
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, call->url);
    curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https,smtp,smtps");
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS,
                     call->timeout_ms > 0 ? call->timeout_ms : opts->timeout_ms);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(curl, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &a);
    if (opts->username) {
        curl_easy_setopt(curl, CURLOPT_USERNAME, opts->username);
        curl_easy_setopt(curl, CURLOPT_PASSWORD, opts->password ? opts->password : "");
        if (!smtp)
            curl_easy_setopt(curl, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    }
    if (opts->ca_file)
        curl_easy_setopt(curl, CURLOPT_CAINFO, opts->ca_file);
    if (smtp && opts->starttls)
        curl_easy_setopt(curl, CURLOPT_USE_SSL, opts->starttls == TOCSIN_TLS_REQUIRED
                                                    ? (long)CURLUSESSL_ALL
                                                    : (long)CURLUSESSL_TRY);
    if (smtp) {
        /* The body is the whole message (headers, blank line, text). */
        for (h = opts->mail_rcpt; *h; h++)
            rcpt = curl_slist_append(rcpt, *h);
        curl_easy_setopt(curl, CURLOPT_MAIL_FROM, opts->mail_from);
        curl_easy_setopt(curl, CURLOPT_MAIL_RCPT, rcpt);
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, on_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)up.len);
        /* One connection per message. libcurl keeps an SMTP connection
         * whose final reply timed out and would send the next message
         * into it; and closing a connection sends QUIT and waits for the
         * answer with the response timeout alone (120 s by default), also
         * when the thread's handle is released: bound it by the call's. */
        curl_easy_setopt(curl, CURLOPT_FORBID_REUSE, 1L);
        bound_smtp_replies(curl, call, opts);
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_smtp_reply);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &reply);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, detail);
    } else {
        for (h = call->headers; h && *h; h++)
            headers = curl_slist_append(headers, *h);
        curl_easy_setopt(curl, CURLOPT_USERAGENT, "tocsin/" PACKAGE_VERSION);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, call->method ? call->method : "POST");
        /* A HEAD answer's Content-Length announces no body: without this
         * libcurl waits for one until the timeout. */
        if (call->method && strcmp(call->method, "HEAD") == 0)
            curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
        if (call->body) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, call->body);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
        }
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, &a);
    }
    rc = curl_easy_perform(curl);
    if (smtp) {
        /* The handle is reused by the thread's next call: nothing of it
         * may point at this stack. */
        curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, NULL);
        curl_easy_setopt(curl, CURLOPT_HEADERDATA, NULL);
        curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    }
    curl_slist_free_all(headers);
    curl_slist_free_all(rcpt);
    if (rc == CURLE_WRITE_ERROR && a.truncated) {
        /* An answer came; only its end was dropped. Said in error[] (which
         * is otherwise "" when an answer came), so verdicts can say it. */
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
        snprintf(res->error, sizeof res->error, "%s %zu bytes (daemon.http_max_response)",
                 TC_HTTP_TRUNCATED, res->body_len);
        return TOCSIN_OK;
    }
    if (rc != CURLE_OK) {
        long code = 0;

        res->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        if (smtp)
            curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
        if (smtp && code < 400 && rc == CURLE_USE_SSL_FAILED)
            snprintf(res->error, sizeof res->error,
                     "the server does not offer STARTTLS, and TLS is required (SMTP %ld)", code);
        else if (smtp && code < 400 && rc == CURLE_LOGIN_DENIED)
            snprintf(res->error, sizeof res->error,
                     "no AUTH mechanism in common with the server (SMTP %ld): %s", code,
                     *detail ? detail : curl_easy_strerror(rc));
        else if (code >= 400 && strlen(reply.line) > 4)
            /* The server's own words: "RCPT failed: 550 (SMTP 550): 5.1.1 ..." */
            snprintf(res->error, sizeof res->error, "%s (SMTP %ld): %s",
                     *detail ? detail : curl_easy_strerror(rc), code, reply.line + 4);
        else if (code)
            snprintf(res->error, sizeof res->error, "%s (SMTP %ld)",
                     *detail ? detail : curl_easy_strerror(rc), code);
        else
            snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(rc));
        /* An SMTP refusal keeps its reply code: 4xx is worth a retry, 5xx
         * is not, and only the sink knows it is talking SMTP. So does the
         * client's own refusal to go on after a positive reply (STARTTLS
         * required but not offered, no AUTH mechanism in common): a
         * configuration error, whose status is then below 400. */
        if (smtp && (code >= 400 || (code > 0 && (rc == CURLE_USE_SSL_FAILED ||
                                                  rc == CURLE_LOGIN_DENIED))))
            res->status = code;
        else
            res->status = 0;
        return TOCSIN_ERROR;
    }
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &res->status);
    return TOCSIN_OK;
}

int tc_http_truncated(const struct tocsin_http_result *res)
{
    return res->status != 0 && strncmp(res->error, TC_HTTP_TRUNCATED,
                                       sizeof TC_HTTP_TRUNCATED - 1) == 0;
}

void tc_http_result_free(struct tocsin_http_result *res)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
}

/* The start of the answer, on one line, for the reason. Longer than the
 * timeline keeps: the dispatcher cuts, escapes and scrubs every reason
 * the same way, whoever wrote it. */
static void excerpt(const struct tocsin_http_result *res, char *buf, size_t size)
{
    size_t i, n = res->body ? res->body_len : 0;

    if (n > size - 1)
        n = size - 1;
    for (i = 0; i < n; i++)
        buf[i] = (res->body[i] == '\n' || res->body[i] == '\r') ? ' ' : res->body[i];
    buf[n] = '\0'; /* a NUL inside the answer ends it sooner: fine */
}

struct tocsin_verdict tc_http_verdict(const struct tocsin_http_result *res)
{
    char body[sizeof ((struct tocsin_verdict *)0)->reason];
    long s = res->status;
    const char *cut;

    if (s == 0)
        return tocsin_retry(0, "%s", res->timed_out ? "timed out" : res->error);
    if (s >= 200 && s < 300)
        return tocsin_done(); /* accepted, even if its answer was cut off */
    excerpt(res, body, sizeof body);
    /* Status and flags first: the excerpt is what a cut may shorten. */
    cut = tc_http_truncated(res) ? " (answer truncated)" : "";
    if (tc_http_retryable(s))
        return tocsin_retry(res->retry_after > 0 ? res->retry_after : 0, "HTTP %ld%s%s%s", s,
                            cut, *body ? ": " : "", body);
    return tocsin_failed("HTTP %ld%s%s%s", s, cut, *body ? ": " : "", body);
}
