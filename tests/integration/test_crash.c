/* test_crash.c: durability under concurrent intake. Client threads post
 * alerts with unique dedup keys (native and Alertmanager) without pause
 * while the daemon is killed with kill -9 at random moments and restarted.
 * Every alert answered 2xx must reach the webhook peer and have exactly one
 * incident; duplicate deliveries (allowed by at-least-once after a kill -9)
 * are counted, reported and bounded; a key never opens two incidents.
 *
 * The kill schedule is drawn from a seed printed at the start; set
 * TOCSIN_CRASH_SEED to replay one. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

#define N_CLIENTS 4
#define KEY_MAX 64
#define CLIENT_TIMEOUT_MS 5000
#define DELIVERY_TIMEOUT_MS 40000
#define MAX_KILLS 5
/* A duplicate is owed to a kill: it came after a kill -9 (from the daemon
 * started after the last kill before it), and the copy before it reached
 * the peer at most this long before that kill (its outcome was still on
 * its way to the writer: core/pipeline.c lets outcomes wait 50 ms to share
 * a commit, more when the writer is slow under ASan) or up to this long
 * after it (a request the killed daemon had written is read by the peer
 * after the kill: seen 70 ms). Any other duplicate is a re-send without a
 * crash (e.g. a delivered row made pending again). */
#define DUP_WINDOW_MS 1000
/* Duplicates allowed in all: this percentage of the keys delivered, or,
 * when more, DUP_PER_KILL per kill: the webhook's deliveries at once
 * (concurrency, default 4) and outcomes waiting for a commit (≤ 50 ms of
 * deliveries at the few hundred a second this test reaches; 7 per kill
 * was the most seen). A storm (every delivered row sent again after a
 * restart) fails it. */
#define DUP_PERCENT 5
#define DUP_PER_KILL 16

/* What the clients share with the test's main thread. */
struct shared {
    pthread_mutex_t mu;
    char base[64]; /* "" while the daemon is down or restarting */
    atomic_int stop;
    unsigned seed;
};

struct client {
    pthread_t thread;
    int idx;
    struct shared *sh;
    char (*ok)[KEY_MAX]; /* dedup keys answered 2xx */
    size_t n_ok, cap_ok;
    long posted, failed, refused;
};

static void shared_set_base(struct shared *sh, const char *base)
{
    pthread_mutex_lock(&sh->mu);
    snprintf(sh->base, sizeof sh->base, "%s", base);
    pthread_mutex_unlock(&sh->mu);
}

static void shared_get_base(struct shared *sh, char *out, size_t size)
{
    pthread_mutex_lock(&sh->mu);
    snprintf(out, size, "%s", sh->base);
    pthread_mutex_unlock(&sh->mu);
}

static void record_ok(struct client *c, const char *key)
{
    if (c->n_ok == c->cap_ok) {
        size_t cap = c->cap_ok ? 2 * c->cap_ok : 256;
        char(*v)[KEY_MAX] = realloc(c->ok, cap * sizeof *v);

        if (!v)
            abort();
        c->ok = v;
        c->cap_ok = cap;
    }
    snprintf(c->ok[c->n_ok++], KEY_MAX, "%s", key);
}

/* Even clients use the generic input (the dedup key is theirs), odd ones
 * Alertmanager's (the dedup key is the label fingerprint). Each request is
 * one alert with a key never used before: a request without an answer is
 * not retried (it is not owed), the next one takes a new key. */
static void *client_main(void *arg)
{
    struct client *c = arg;
    char base[64], url[128], key[KEY_MAX], dedup[KEY_MAX];
    long n = 0;

    while (!atomic_load(&c->sh->stop)) {
        struct h_resp r;
        char *body;

        shared_get_base(c->sh, base, sizeof base);
        if (!base[0]) {
            h_sleep_ms(5);
            continue;
        }
        snprintf(key, sizeof key, "crash-%u-c%d-%ld", c->sh->seed, c->idx, n++);
        if (c->idx % 2 == 0) {
            snprintf(url, sizeof url, "%s/api/v1/alerts", base);
            if (asprintf(&body,
                         "{\"dedup_key\": \"%s\", \"status\": \"firing\","
                         " \"severity\": \"critical\", \"summary\": \"%s is down\"}",
                         key, key) < 0)
                abort();
            snprintf(dedup, sizeof dedup, "%s", key);
        } else {
            snprintf(url, sizeof url, "%s/api/v2/alerts", base);
            body = h_am_alert(key, "crash", "critical", "crashing", 0);
            h_am_fingerprint(key, "crash", "critical", dedup);
        }
        c->posted++;
        h_http("POST", url, body, strlen(body), CLIENT_TIMEOUT_MS, &r);
        free(body);
        if (r.status / 100 == 2)
            record_ok(c, dedup);
        else if (r.status == 0)
            c->failed++;
        else
            c->refused++;
        h_resp_free(&r);
        if (r.status / 100 != 2)
            h_sleep_ms(5); /* down or refusing: do not spin */
    }
    return NULL;
}

/* One trigger the peer answered 2xx. */
struct delivery {
    const char *key;
    int64_t incident;
    int64_t outbox;
    int64_t attempt;
    const char *idem; /* its Idempotency-Key header, or "" */
    int64_t at_ms;    /* when the peer had it (monotonic, as h_now_ms) */
};

static int cmp_delivery(const void *a, const void *b)
{
    const struct delivery *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c)
        return c;
    return x->at_ms < y->at_ms ? -1 : x->at_ms > y->at_ms;
}

static int cmp_key(const void *a, const void *b)
{
    return strcmp((const char *)a, (const char *)b);
}

/* The trigger deliveries the peer answered 2xx, sorted by key. The keys
 * point into the peer's records (valid until peer_free). */
static struct delivery *triggers(struct peer *p, size_t *n_out)
{
    size_t i, n = 0, count = peer_count(p);
    struct delivery *v = calloc(count ? count : 1, sizeof *v);

    ck_assert_ptr_nonnull(v);
    for (i = 0; i < count; i++) {
        const struct peer_req *r = peer_get(p, i);
        const char *act, *key;

        if (!r || !r->json || r->status / 100 != 2)
            continue;
        act = json_string_value(json_object_get(r->json, "action"));
        key = h_jsub(r->json, "alert", "dedup_key");
        if (!act || strcmp(act, "trigger") != 0 || !key)
            continue;
        v[n].key = key;
        v[n].incident = json_integer_value(json_object_get(r->json, "incident_id"));
        v[n].outbox = json_integer_value(json_object_get(r->json, "outbox_id"));
        v[n].attempt = json_integer_value(json_object_get(r->json, "attempt"));
        v[n].idem = json_string_value(json_object_get(r->headers, "idempotency-key"));
        if (!v[n].idem)
            v[n].idem = "";
        v[n].at_ms = r->at_ms;
        n++;
    }
    qsort(v, n, sizeof *v, cmp_delivery);
    *n_out = n;
    return v;
}

/* The first delivery of key in the sorted v, or NULL. */
static const struct delivery *first_of(const struct delivery *v, size_t n, const char *key)
{
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;

        if (strcmp(v[mid].key, key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && strcmp(v[lo].key, key) == 0 ? &v[lo] : NULL;
}

/* How many of the sorted ok keys have at least one delivery. */
static size_t delivered_ok(const struct delivery *v, size_t n, char (*ok)[KEY_MAX],
                           size_t n_ok, const char **missing)
{
    size_t i, got = 0;

    *missing = NULL;
    for (i = 0; i < n_ok; i++) {
        if (first_of(v, n, ok[i]))
            got++;
        else if (!*missing)
            *missing = ok[i];
    }
    return got;
}

/* One incident of the list. */
struct inc {
    char key[KEY_MAX];
    int64_t id;
};

static int cmp_inc(const void *a, const void *b)
{
    const struct inc *x = a, *y = b;
    int c = strcmp(x->key, y->key);

    if (c)
        return c;
    return x->id < y->id ? -1 : x->id > y->id;
}

/* Every incident (all pages of GET /api/v1/incidents), sorted by key. */
static struct inc *all_incidents(struct h_daemon *d, size_t *n_out)
{
    char path[256] = "/api/v1/incidents?limit=1000";
    struct inc *v = NULL;
    size_t n = 0, cap = 0;
    int pages = 0;

    for (;;) {
        json_t *j = h_get_json(d, path), *arr = json_object_get(j, "incidents"), *e;
        const char *next = json_string_value(json_object_get(j, "next"));
        size_t i;

        h_assert(d, json_is_array(arr), "GET %s: no incidents array", path);
        json_array_foreach(arr, i, e) {
            const char *k = json_string_value(json_object_get(e, "dedup_key"));

            if (n == cap) {
                struct inc *nv = realloc(v, (cap = cap * 2 + 1024) * sizeof *nv);

                ck_assert_ptr_nonnull(nv);
                v = nv;
            }
            snprintf(v[n].key, KEY_MAX, "%s", k ? k : "");
            v[n].id = json_integer_value(json_object_get(e, "id"));
            n++;
        }
        if (!json_is_true(json_object_get(j, "truncated")) || !next) {
            json_decref(j);
            break;
        }
        h_assert(d, strlen(next) < sizeof path && ++pages < 1000, "bad next page: %s", next);
        snprintf(path, sizeof path, "%s", next);
        json_decref(j);
    }
    qsort(v, n, sizeof *v, cmp_inc);
    *n_out = n;
    return v;
}

static unsigned pick_seed(void)
{
    const char *env = getenv("TOCSIN_CRASH_SEED");
    struct timespec ts;

    if (env && *env)
        return (unsigned)strtoul(env, NULL, 10);
    clock_gettime(CLOCK_REALTIME, &ts);
    return (unsigned)(ts.tv_nsec ^ ts.tv_sec ^ ((long)getpid() << 16));
}

START_TEST(test_no_2xx_alert_lost_across_random_kill9)
{
    struct shared sh;
    struct client cl[N_CLIENTS];
    struct peer *p = h_peer_started();
    struct h_daemon d;
    struct h_config conf = { 0 };
    char (*ok)[KEY_MAX] = NULL;
    struct delivery *dv = NULL;
    struct inc *incs;
    const char *missing = NULL;
    size_t n_ok = 0, n_dv = 0, got = 0, n_inc, i, j;
    size_t dup_keys = 0, dup_extra = 0, double_pages = 0, extra_keys = 0, keys_delivered = 0;
    size_t dup_bound, idem_changed = 0, unexplained = 0, dup_per_kill[MAX_KILLS] = { 0 };
    int64_t kill_at[MAX_KILLS], max_lag = 0;
    long posted = 0, failed = 0, refused = 0;
    unsigned seed = pick_seed(), rng;
    int kills, k;
    int64_t t0 = h_now_ms(), end;

    fprintf(stderr, "crash: seed %u (replay: TOCSIN_CRASH_SEED=%u)\n", seed, seed);
    rng = seed;
    kills = 3 + (int)(rand_r(&rng) % (MAX_KILLS - 2));

    conf.peer_port = peer_port(p);
    conf.no_console = 1;
    conf.hook_extra = "retry_base = \"100ms\"; retry_max = \"500ms\"; timeout = \"2s\";";
    h_init(&d);
    h_config_standard(&d, &conf);
    h_start(&d);

    memset(&sh, 0, sizeof sh);
    pthread_mutex_init(&sh.mu, NULL);
    atomic_init(&sh.stop, 0);
    sh.seed = seed;
    shared_set_base(&sh, d.base);
    memset(cl, 0, sizeof cl);
    for (i = 0; i < N_CLIENTS; i++) {
        cl[i].idx = (int)i;
        cl[i].sh = &sh;
        ck_assert_int_eq(pthread_create(&cl[i].thread, NULL, client_main, &cl[i]), 0);
    }

    for (k = 0; k < kills; k++) {
        int wait_ms = 100 + (int)(rand_r(&rng) % 501);

        h_sleep_ms(wait_ms);
        kill_at[k] = h_now_ms();
        h_kill9(&d);
        shared_set_base(&sh, "");
        fprintf(stderr, "crash: kill %d of %d after %d ms up, at %lld ms\n", k + 1, kills, wait_ms,
                (long long)(kill_at[k] - t0));
        h_start(&d); /* the port changes: clients get the new base below */
        shared_set_base(&sh, d.base);
    }
    h_sleep_ms(300); /* some intake by the last daemon, then the clients stop */
    atomic_store(&sh.stop, 1);
    for (i = 0; i < N_CLIENTS; i++) {
        pthread_join(cl[i].thread, NULL);
        posted += cl[i].posted;
        failed += cl[i].failed;
        refused += cl[i].refused;
        for (j = 0; j < cl[i].n_ok; j++) {
            if (n_ok % 1024 == 0) {
                char(*v)[KEY_MAX] = realloc(ok, (n_ok + 1024) * sizeof *v);

                ck_assert_ptr_nonnull(v);
                ok = v;
            }
            memcpy(ok[n_ok++], cl[i].ok[j], KEY_MAX);
        }
        free(cl[i].ok);
    }
    pthread_mutex_destroy(&sh.mu);
    qsort(ok, n_ok, KEY_MAX, cmp_key);
    for (i = 1; i < n_ok; i++)
        h_assert(&d, strcmp(ok[i - 1], ok[i]) != 0, "seed %u: key %s used twice by the test",
                 seed, ok[i]);
    fprintf(stderr, "crash: %d kills, %ld posted, %zu answered 2xx, %ld without answer,"
            " %ld refused (%lld ms)\n", kills, posted, n_ok, failed, refused,
            (long long)(h_now_ms() - t0));
    h_assert(&d, n_ok >= 50, "seed %u: only %zu alerts answered 2xx: the test proves little",
             seed, n_ok);

    /* Every 2xx alert's trigger reaches the peer. */
    end = h_now_ms() + DELIVERY_TIMEOUT_MS;
    for (;;) {
        free(dv);
        dv = triggers(p, &n_dv);
        got = delivered_ok(dv, n_dv, ok, n_ok, &missing);
        if (got == n_ok || h_now_ms() > end)
            break;
        h_sleep_ms(200);
    }
    h_assert(&d, got == n_ok,
             "seed %u: %zu of %zu alerts answered 2xx never delivered (first: %s); dir %s",
             seed, n_ok - got, n_ok, missing ? missing : "?", d.dir);

    /* Duplicates and double pages, over every key delivered (also those
     * whose request got no answer but was committed). */
    for (i = 0; i < n_dv; i = j) {
        size_t copies = 1;

        keys_delivered++;
        if (!bsearch(dv[i].key, ok, n_ok, KEY_MAX, cmp_key))
            extra_keys++;
        for (j = i + 1; j < n_dv && strcmp(dv[j].key, dv[i].key) == 0; j++) {
            int kk, owed = -1;

            copies++;
            /* This copy came from the daemon started after the last kill
             * before it; the copy before it must be near that kill. */
            for (kk = kills - 1; kk >= 0 && kill_at[kk] >= dv[j].at_ms; kk--)
                ;
            if (kk >= 0 && kill_at[kk] - DUP_WINDOW_MS <= dv[j - 1].at_ms &&
                dv[j - 1].at_ms <= kill_at[kk] + DUP_WINDOW_MS)
                owed = kk;
            if (owed < 0) {
                unexplained++;
                fprintf(stderr, "crash: UNEXPLAINED duplicate: key %s delivered at %lld and"
                        " %lld ms: the first is not within %d ms of the last kill -9 before the"
                        " second\n", dv[j].key,
                        (long long)(dv[j - 1].at_ms - t0), (long long)(dv[j].at_ms - t0),
                        DUP_WINDOW_MS);
            } else {
                dup_per_kill[owed]++;
                if (llabs(kill_at[owed] - dv[j - 1].at_ms) > max_lag)
                    max_lag = llabs(kill_at[owed] - dv[j - 1].at_ms);
            }
            /* A receiver can drop the copy only if it carries the same key. */
            if (strcmp(dv[j].idem, dv[i].idem) != 0 || dv[j].outbox != dv[i].outbox)
                idem_changed++;
            if (dv[j].incident != dv[i].incident) {
                double_pages++;
                fprintf(stderr, "crash: DOUBLE PAGE: key %s triggered incidents %lld and %lld\n",
                        dv[i].key, (long long)dv[i].incident, (long long)dv[j].incident);
            }
        }
        if (copies > 1) {
            dup_keys++;
            dup_extra += copies - 1;
            if (dup_keys <= 10)
                fprintf(stderr, "crash: duplicate: key %s delivered %zu times (incident %lld,"
                        " outbox %lld, attempts %lld..%lld)\n", dv[i].key, copies,
                        (long long)dv[i].incident, (long long)dv[i].outbox,
                        (long long)dv[i].attempt, (long long)dv[j - 1].attempt);
        }
    }
    fprintf(stderr, "crash: seed %u: %zu trigger deliveries, %zu keys delivered (%zu not answered"
            " 2xx to the client), %zu duplicated keys, %zu extra deliveries\n",
            seed, n_dv, keys_delivered, extra_keys, dup_keys, dup_extra);
    fprintf(stderr, "crash: duplicates per kill:");
    for (k = 0; k < kills; k++)
        fprintf(stderr, " %zu", dup_per_kill[k]);
    fprintf(stderr, "; first copies at most %lld ms from their kill\n",
            (long long)max_lag);
    h_assert(&d, double_pages == 0, "seed %u: %zu keys triggered two different incidents",
             seed, double_pages);
    h_assert(&d, idem_changed == 0,
             "seed %u: %zu duplicate deliveries with another Idempotency-Key or outbox row",
             seed, idem_changed);
    h_assert(&d, unexplained == 0,
             "seed %u: %zu duplicate deliveries not owed to a kill -9", seed, unexplained);
    dup_bound = keys_delivered * DUP_PERCENT / 100;
    if (dup_bound < (size_t)kills * DUP_PER_KILL)
        dup_bound = (size_t)kills * DUP_PER_KILL;
    h_assert(&d, dup_extra <= dup_bound,
             "seed %u: %zu duplicate deliveries of %zu keys (bound %zu): a duplicate storm",
             seed, dup_extra, keys_delivered, dup_bound);

    /* Every 2xx key has exactly one incident, the one its trigger named. */
    incs = all_incidents(&d, &n_inc);
    for (i = 0; i < n_inc; i++)
        h_assert(&d, i == 0 || strcmp(incs[i - 1].key, incs[i].key) != 0,
                 "seed %u: key %s has incidents %lld and %lld", seed, incs[i].key,
                 (long long)incs[i - 1].id, (long long)incs[i].id);
    for (i = 0; i < n_ok; i++) {
        struct inc *hit = bsearch(ok[i], incs, n_inc, sizeof *incs, cmp_key);
        const struct delivery *first = first_of(dv, n_dv, ok[i]);

        h_assert(&d, hit != NULL, "seed %u: no incident for %s (answered 2xx, delivered)", seed,
                 ok[i]);
        h_assert(&d, first && first->incident == hit->id,
                 "seed %u: %s: incident %lld, but its trigger named %lld", seed, ok[i],
                 (long long)hit->id, first ? (long long)first->incident : -1LL);
    }
    fprintf(stderr, "crash: %zu incidents; all %zu alerts answered 2xx delivered (%lld ms)\n",
            n_inc, n_ok, (long long)(h_now_ms() - t0));

    h_assert_no_violations(&d, p);
    h_assert(&d, h_stop(&d, 15000) == 0, "SIGTERM after the crashes: exit status not 0");
    free(incs);
    free(dv);
    free(ok);
    peer_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: crash");
    TCase *tc = h_tcase("crash", 90);

    tcase_add_test(tc, test_no_2xx_alert_lost_across_random_kill9);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
