/* httpclient.c: blocking HTTP calls with one reused libcurl handle per
 * thread (keep-alive to each provider), bounded answers, Retry-After. */
#define _GNU_SOURCE
#include <ctype.h>
#include <curl/curl.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "clock.h"
#include "httpclient.h"

#define MAX_ANSWER (64 * 1024) /* we only need status and a reason excerpt */

static _Thread_local CURL *thread_curl;
static atomic_int abort_all;

struct answer {
    struct tocsin_http_result *res;
    size_t cap;
};

int tc_httpclient_global_init(void)
{
    return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -1;
}

void tc_httpclient_global_cleanup(void)
{
    curl_global_cleanup();
}

void tc_httpclient_thread_done(void)
{
    if (thread_curl) {
        curl_easy_cleanup(thread_curl);
        thread_curl = NULL;
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

    if (res->body_len + keep > MAX_ANSWER)
        keep = MAX_ANSWER - res->body_len;
    if (keep == 0)
        return n;
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
    return n;
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

static int on_progress(void *arg, curl_off_t a, curl_off_t b, curl_off_t c, curl_off_t d)
{
    return atomic_load(&abort_all) ? 1 : 0;
}

int tc_http_call(const struct tocsin_http_call *call, struct tocsin_http_result *res,
                 long default_timeout_ms)
{
    struct answer a = { res, 0 };
    struct curl_slist *headers = NULL;
    const char *const *h;
    CURLcode rc;

    memset(res, 0, sizeof *res);
    res->retry_after = -1;
    if (!thread_curl && !(thread_curl = curl_easy_init())) {
        snprintf(res->error, sizeof res->error, "cannot initialise libcurl");
        return TOCSIN_ERROR;
    }
    curl_easy_reset(thread_curl);
    for (h = call->headers; h && *h; h++)
        headers = curl_slist_append(headers, *h);
    curl_easy_setopt(thread_curl, CURLOPT_URL, call->url);
    curl_easy_setopt(thread_curl, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(thread_curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(thread_curl, CURLOPT_TIMEOUT_MS,
                     call->timeout_ms > 0 ? call->timeout_ms : default_timeout_ms);
    curl_easy_setopt(thread_curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(thread_curl, CURLOPT_USERAGENT, "tocsin/" PACKAGE_VERSION);
    curl_easy_setopt(thread_curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(thread_curl, CURLOPT_CUSTOMREQUEST, call->method ? call->method : "POST");
    if (call->body) {
        curl_easy_setopt(thread_curl, CURLOPT_POSTFIELDS, call->body);
        curl_easy_setopt(thread_curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)call->body_len);
    }
    curl_easy_setopt(thread_curl, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(thread_curl, CURLOPT_WRITEDATA, &a);
    curl_easy_setopt(thread_curl, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(thread_curl, CURLOPT_HEADERDATA, &a);
    curl_easy_setopt(thread_curl, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(thread_curl, CURLOPT_NOPROGRESS, 0L);
    rc = curl_easy_perform(thread_curl);
    curl_slist_free_all(headers);
    if (rc != CURLE_OK) {
        res->timed_out = rc == CURLE_OPERATION_TIMEDOUT;
        snprintf(res->error, sizeof res->error, "%s", curl_easy_strerror(rc));
        res->status = 0;
        return TOCSIN_ERROR;
    }
    curl_easy_getinfo(thread_curl, CURLINFO_RESPONSE_CODE, &res->status);
    return TOCSIN_OK;
}

void tc_http_result_free(struct tocsin_http_result *res)
{
    free(res->body);
    res->body = NULL;
    res->body_len = 0;
}

/* A short, single-line excerpt of the answer for the timeline. */
static void excerpt(const struct tocsin_http_result *res, char *buf, size_t size)
{
    size_t i, n = 0;

    for (i = 0; res->body && i < res->body_len && n + 1 < size && n < 160; i++)
        buf[n++] = (res->body[i] == '\n' || res->body[i] == '\r') ? ' ' : res->body[i];
    buf[n] = '\0';
}

struct tocsin_verdict tc_http_verdict(const struct tocsin_http_result *res)
{
    char body[200];
    long s = res->status;

    if (s == 0)
        return tocsin_retry(0, "%s", res->timed_out ? "timed out" : res->error);
    if (s >= 200 && s < 300)
        return tocsin_done();
    excerpt(res, body, sizeof body);
    if (s == 408 || s == 425 || s == 429 || s >= 500)
        return tocsin_retry(res->retry_after > 0 ? res->retry_after : 0, "HTTP %ld%s%s", s,
                            *body ? ": " : "", body);
    return tocsin_failed("HTTP %ld%s%s", s, *body ? ": " : "", body);
}
