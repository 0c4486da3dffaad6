/* load.c: the bench's senders. N threads, each with its own libcurl easy
 * handle (so its own keep-alive connection), take batches of alerts in
 * order and POST them to /api/v2/alerts, paced when a rate is set. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench.h"

/* One alert in Alertmanager's JSON is ~170 bytes with these labels. */
#define ALERT_JSON_MAX 320

struct shared {
    const struct load_opts *o;
    struct bench_book *book;
    size_t nbatches;
    atomic_size_t next; /* next batch to send */
    int64_t t0_ns;      /* the schedule starts here */
    int64_t *req_ns;    /* per batch: round trip of the accepted POST, or 0 */
};

struct sender {
    pthread_t th;
    struct shared *sh;
    CURL *curl;
    struct curl_slist *hdrs;
    char *body;
    size_t body_cap;
    char answer[200]; /* the start of the last answer, for error messages */
    size_t answer_len;
    struct load_stats st;
};

static size_t on_answer(char *data, size_t size, size_t nmemb, void *userp)
{
    struct sender *s = userp;
    size_t n = size * nmemb, room = sizeof s->answer - 1 - s->answer_len;

    if (room) {
        size_t k = n < room ? n : room;

        memcpy(s->answer + s->answer_len, data, k);
        s->answer_len += k;
        s->answer[s->answer_len] = '\0';
    }
    return n;
}

static void rfc3339_now(char *buf, size_t size)
{
    struct timespec ts;
    struct tm tm;
    size_t n;

    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    n = strftime(buf, size, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(buf + n, size - n, ".%03ldZ", ts.tv_nsec / 1000000L);
}

/* The JSON array of alerts lo..hi-1; returns its length. */
static size_t build_body(struct sender *s, size_t lo, size_t hi)
{
    const char *run = s->sh->book->run_id;
    char started[40];
    size_t i, len = 0;

    rfc3339_now(started, sizeof started);
    s->body[len++] = '[';
    for (i = lo; i < hi; i++) {
        int w = snprintf(s->body + len, s->body_cap - len,
                         "%s{\"labels\":{\"alertname\":\"Bench\",\"seq\":\"%zu\","
                         "\"run\":\"%s\",\"severity\":\"info\"},"
                         "\"annotations\":{\"summary\":\"bench alert %zu of run %s\"},"
                         "\"startsAt\":\"%s\"}",
                         i == lo ? "" : ",", i, run, i, run, started);
        len += (size_t)w;
    }
    s->body[len++] = ']';
    s->body[len] = '\0';
    return len;
}

static int retryable(CURLcode rc, long code)
{
    return rc != CURLE_OK || code == 429 || code == 503;
}

/* POST batch k with its retries; bookkeeping in s->st and the book. */
static void send_batch(struct sender *s, size_t k)
{
    const struct load_opts *o = s->sh->o;
    struct bench_book *book = s->sh->book;
    size_t lo = k * o->batch, hi = lo + o->batch < book->n ? lo + o->batch : book->n;
    size_t len = build_body(s, lo, hi), i;
    int64_t t_first = 0;
    int attempt;

    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDS, s->body);
    curl_easy_setopt(s->curl, CURLOPT_POSTFIELDSIZE, (long)len);
    for (attempt = 0; attempt <= o->max_retries; attempt++) {
        int64_t t_send = bench_now_ns(), t_done;
        long code = 0;
        CURLcode rc;

        if (attempt == 0)
            t_first = t_send;
        if (!s->st.t_first_ns || t_send < s->st.t_first_ns)
            s->st.t_first_ns = t_send;
        s->answer_len = 0;
        s->answer[0] = '\0';
        rc = curl_easy_perform(s->curl);
        t_done = bench_now_ns();
        s->st.requests++;
        if (t_done > s->st.t_last_ns)
            s->st.t_last_ns = t_done;
        if (rc == CURLE_OK)
            curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
        s->st.status[code > 0 && code < LOAD_STATUS_MAX ? code : 0]++;
        if (code >= 200 && code < 300) {
            /* Latency counts from the first attempt: a 503 retry is part
             * of what the sender lived through. */
            for (i = lo; i < hi; i++) {
                book->sent_ns[i] = t_first;
                book->answered_ns[i] = t_done;
            }
            s->sh->req_ns[k] = t_done - t_send > 0 ? t_done - t_send : 1;
            s->st.accepted += hi - lo;
            return;
        }
        if (!s->st.first_error[0]) {
            if (rc != CURLE_OK)
                snprintf(s->st.first_error, sizeof s->st.first_error, "transport: %s",
                         curl_easy_strerror(rc));
            else
                snprintf(s->st.first_error, sizeof s->st.first_error, "HTTP %ld: %s", code,
                         s->answer);
        }
        if (!retryable(rc, code) || attempt == o->max_retries || t_done > o->deadline_ns)
            break;
        s->st.retries++;
        {
            curl_off_t ra = -1;
            int64_t wait_ms = 20LL * (attempt + 1);

            if (rc == CURLE_OK && curl_easy_getinfo(s->curl, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK &&
                ra > 0)
                wait_ms = (int64_t)ra * 1000;
            bench_sleep_ms(wait_ms > 5000 ? 5000 : wait_ms);
        }
    }
    s->st.refused += hi - lo;
}

static void *sender_main(void *arg)
{
    struct sender *s = arg;
    struct shared *sh = s->sh;
    const struct load_opts *o = sh->o;
    size_t k, n;

    /* Bounded: at most nbatches iterations in all threads together. */
    for (n = 0; n < sh->nbatches; n++) {
        k = atomic_fetch_add(&sh->next, 1);
        if (k >= sh->nbatches)
            break;
        if (bench_now_ns() > o->deadline_ns) {
            size_t lo = k * o->batch;

            s->st.skipped += (lo + o->batch < sh->book->n ? o->batch : sh->book->n - lo);
            continue;
        }
        if (o->rate > 0) {
            int64_t due = sh->t0_ns + (int64_t)((double)k * (double)o->batch * 1e9 / o->rate);
            int64_t lag;

            bench_sleep_until(due);
            lag = bench_now_ns() - due;
            if (lag > s->st.max_lag_ns)
                s->st.max_lag_ns = lag;
        }
        send_batch(s, k);
    }
    return NULL;
}

static int sender_init(struct sender *s, struct shared *sh, char *err, size_t errlen)
{
    const struct load_opts *o = sh->o;

    s->sh = sh;
    s->body_cap = o->batch * ALERT_JSON_MAX + 16;
    s->body = malloc(s->body_cap);
    s->curl = curl_easy_init();
    s->hdrs = curl_slist_append(NULL, "Content-Type: application/json");
    /* No "Expect: 100-continue" round trip for bodies over 1 KiB. */
    s->hdrs = s->hdrs ? curl_slist_append(s->hdrs, "Expect:") : NULL;
    if (!s->body || !s->curl || !s->hdrs) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    curl_easy_setopt(s->curl, CURLOPT_URL, o->url);
    curl_easy_setopt(s->curl, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(s->curl, CURLOPT_POST, 1L);
    curl_easy_setopt(s->curl, CURLOPT_HTTPHEADER, s->hdrs);
    curl_easy_setopt(s->curl, CURLOPT_WRITEFUNCTION, on_answer);
    curl_easy_setopt(s->curl, CURLOPT_WRITEDATA, s);
    curl_easy_setopt(s->curl, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(s->curl, CURLOPT_TCP_NODELAY, 1L);
    curl_easy_setopt(s->curl, CURLOPT_TIMEOUT_MS, o->timeout_ms);
    curl_easy_setopt(s->curl, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    return 0;
}

static void sender_free(struct sender *s)
{
    if (s->curl)
        curl_easy_cleanup(s->curl);
    curl_slist_free_all(s->hdrs);
    free(s->body);
}

int load_run(const struct load_opts *o, struct bench_book *book, struct load_stats *st,
             char *err, size_t errlen)
{
    struct shared sh;
    struct sender *ss;
    unsigned i, started = 0;
    size_t k, c;
    int rc = 0;

    memset(st, 0, sizeof *st);
    memset(&sh, 0, sizeof sh);
    sh.o = o;
    sh.book = book;
    sh.nbatches = (book->n + o->batch - 1) / o->batch;
    atomic_init(&sh.next, 0);
    sh.req_ns = calloc(sh.nbatches ? sh.nbatches : 1, sizeof *sh.req_ns);
    ss = calloc(o->connections, sizeof *ss);
    if (!sh.req_ns || !ss) {
        snprintf(err, errlen, "out of memory");
        free(sh.req_ns);
        free(ss);
        return -1;
    }
    for (i = 0; i < o->connections; i++)
        if (sender_init(&ss[i], &sh, err, errlen) < 0) {
            rc = -1;
            goto out;
        }
    sh.t0_ns = bench_now_ns() + 1000000; /* 1 ms: let every thread start */
    for (i = 0; i < o->connections; i++) {
        if (pthread_create(&ss[i].th, NULL, sender_main, &ss[i]) != 0) {
            snprintf(err, errlen, "cannot start sender thread %u", i);
            rc = -1;
            break;
        }
        started++;
    }
    for (i = 0; i < started; i++)
        pthread_join(ss[i].th, NULL);

    /* Merge. */
    for (i = 0; i < started; i++) {
        struct load_stats *s = &ss[i].st;

        st->requests += s->requests;
        st->accepted += s->accepted;
        st->refused += s->refused;
        st->skipped += s->skipped;
        st->retries += s->retries;
        for (c = 0; c < LOAD_STATUS_MAX; c++)
            st->status[c] += s->status[c];
        if (s->t_first_ns && (!st->t_first_ns || s->t_first_ns < st->t_first_ns))
            st->t_first_ns = s->t_first_ns;
        if (s->t_last_ns > st->t_last_ns)
            st->t_last_ns = s->t_last_ns;
        if (s->max_lag_ns > st->max_lag_ns)
            st->max_lag_ns = s->max_lag_ns;
        if (!st->first_error[0] && s->first_error[0])
            memcpy(st->first_error, s->first_error, sizeof st->first_error);
    }
    st->req_ns = sh.req_ns;
    sh.req_ns = NULL;
    for (k = 0; k < sh.nbatches; k++)
        if (st->req_ns[k])
            st->req_ns[st->n_req_ns++] = st->req_ns[k];
out:
    for (i = 0; i < o->connections; i++)
        sender_free(&ss[i]);
    free(ss);
    free(sh.req_ns);
    return rc;
}

void load_stats_free(struct load_stats *st)
{
    free(st->req_ns);
    st->req_ns = NULL;
    st->n_req_ns = 0;
}
