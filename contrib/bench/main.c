/* main.c: tocsin-bench. Starts a webhook receiver and a tocsind wired to
 * it, posts N distinct alerts to /api/v2/alerts, waits for their
 * notifications, and prints intake throughput, end-to-end latency,
 * delivered/expected and the daemon's peak RSS. A benchmark, not a test. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define ALERTS_MAX 10000000UL

struct opts {
    struct daemon_opts d;
    size_t alerts;
    size_t batch;
    unsigned connections;
    double rate;
    int retries;
    int64_t wait_ms;     /* for stragglers after the last POST */
    int64_t max_time_ms; /* of the posting phase */
    int64_t stop_ms;     /* SIGTERM to exit */
    const char *name;    /* scenario name for the RESULT line */
    const char *target;  /* post to this running server instead of a tocsind */
    int keep;
};

static void usage(FILE *f)
{
    fputs("usage: tocsin-bench --tocsind PATH --plugin-dir DIR [options]\n"
          "\n"
          "Starts a webhook receiver on 127.0.0.1:0 and tocsind (alertmanager input ->\n"
          "webhook sink -> the receiver), posts N distinct alerts to /api/v2/alerts and\n"
          "measures intake throughput, end-to-end latency (POST sent -> webhook\n"
          "arrival), delivered/expected and the daemon's peak RSS (VmHWM).\n"
          "\n"
          "  --tocsind PATH          the daemon binary (BUILD/core/tocsind)\n"
          "  --plugin-dir DIR        its plugins (BUILD/stage/plugins)\n"
          "  --alerts N              distinct alerts to post (20000)\n"
          "  --batch B               alerts per POST (100)\n"
          "  --connections C         sender threads, one keep-alive connection each (4)\n"
          "  --rate R                alerts/s to pace the sends at; 0: as fast as possible (0)\n"
          "  --sink-concurrency K    the webhook sink's concurrency (4)\n"
          "  --retries N             retries of a POST answered 429/503 or failing (20)\n"
          "  --wait S                seconds to wait for stragglers after the last POST (60)\n"
          "  --max-time S            cap on the posting phase, seconds (300)\n"
          "  --start-timeout S       for the address file and /readyz (30)\n"
          "  --log-level L           the daemon's log_level (warn)\n"
          "  --wrap CMD              run the daemon under CMD (\"valgrind --tool=callgrind\")\n"
          "  --name NAME             scenario name printed on the RESULT line\n"
          "  --keep                  keep the temp dir (config, state, daemon log)\n"
          "  --intake-only           route nothing: measure intake alone (no deliveries)\n"
          "  --daemon-conf TEXT      more settings for the daemon block (\"intake_queue = 500;\")\n"
          "  --target URL            post to a server already running there (Alertmanager:\n"
          "                          http://127.0.0.1:9093) instead of starting tocsind;\n"
          "                          intake figures only\n"
          "\n"
          "Exit status: 0 when every alert was accepted and delivered and the daemon\n"
          "exited 0 on SIGTERM; 1 otherwise; 2 when the run could not be set up.\n",
          f);
}

static int parse_num(const char *opt, const char *s, double lo, double hi, double *out)
{
    char *end;
    double v;

    errno = 0;
    v = strtod(s, &end);
    if (errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "tocsin-bench: %s: \"%s\" is not a number in [%g, %g]\n", opt, s, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
    static const struct option longs[] = {
        { "tocsind", required_argument, NULL, 't' },
        { "plugin-dir", required_argument, NULL, 'p' },
        { "alerts", required_argument, NULL, 'n' },
        { "batch", required_argument, NULL, 'b' },
        { "connections", required_argument, NULL, 'c' },
        { "rate", required_argument, NULL, 'r' },
        { "sink-concurrency", required_argument, NULL, 'k' },
        { "retries", required_argument, NULL, 'R' },
        { "wait", required_argument, NULL, 'w' },
        { "max-time", required_argument, NULL, 'm' },
        { "start-timeout", required_argument, NULL, 's' },
        { "log-level", required_argument, NULL, 'l' },
        { "wrap", required_argument, NULL, 'W' },
        { "name", required_argument, NULL, 'N' },
        { "keep", no_argument, NULL, 'K' },
        { "intake-only", no_argument, NULL, 'I' },
        { "daemon-conf", required_argument, NULL, 'D' },
        { "target", required_argument, NULL, 'T' },
        { "help", no_argument, NULL, 'h' },
        { NULL, 0, NULL, 0 },
    };
    const char *tmp = getenv("TMPDIR");
    double v;
    int c;

    memset(o, 0, sizeof *o);
    o->alerts = 20000;
    o->batch = 100;
    o->connections = 4;
    o->retries = 20;
    o->wait_ms = 60000;
    o->max_time_ms = 300000;
    o->stop_ms = 30000;
    o->name = "bench";
    o->d.log_level = "warn";
    o->d.sink_concurrency = 4;
    o->d.start_timeout_ms = 30000;
    o->d.tmp_parent = tmp && *tmp ? tmp : "/tmp";

    while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
        const char *name = argv[optind - 1];

        switch (c) {
        case 't': o->d.tocsind = optarg; break;
        case 'p': o->d.plugin_dir = optarg; break;
        case 'l': o->d.log_level = optarg; break;
        case 'W': o->d.wrap = optarg; break;
        case 'N': o->name = optarg; break;
        case 'K': o->keep = 1; break;
        case 'I': o->d.intake_only = 1; break;
        case 'D': o->d.daemon_conf = optarg; break;
        case 'T': o->target = optarg; o->d.intake_only = 1; break;
        case 'h': usage(stdout); exit(0);
        case 'n':
            if (parse_num(name, optarg, 1, (double)ALERTS_MAX, &v) < 0) return -1;
            o->alerts = (size_t)v;
            break;
        case 'b':
            if (parse_num(name, optarg, 1, 10000, &v) < 0) return -1;
            o->batch = (size_t)v;
            break;
        case 'c':
            if (parse_num(name, optarg, 1, 256, &v) < 0) return -1;
            o->connections = (unsigned)v;
            break;
        case 'r':
            if (parse_num(name, optarg, 0, 1e7, &v) < 0) return -1;
            o->rate = v;
            break;
        case 'k':
            if (parse_num(name, optarg, 1, 256, &v) < 0) return -1;
            o->d.sink_concurrency = (unsigned)v;
            break;
        case 'R':
            if (parse_num(name, optarg, 0, 1000, &v) < 0) return -1;
            o->retries = (int)v;
            break;
        case 'w':
            if (parse_num(name, optarg, 0, 3600, &v) < 0) return -1;
            o->wait_ms = (int64_t)(v * 1000);
            break;
        case 'm':
            if (parse_num(name, optarg, 1, 86400, &v) < 0) return -1;
            o->max_time_ms = (int64_t)(v * 1000);
            break;
        case 's':
            if (parse_num(name, optarg, 1, 3600, &v) < 0) return -1;
            o->d.start_timeout_ms = (int64_t)(v * 1000);
            break;
        default:
            usage(stderr);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "tocsin-bench: unexpected argument \"%s\"\n", argv[optind]);
        return -1;
    }
    if (o->target) /* a server already running: nothing to start */
        return 0;
    if (!o->d.tocsind || !o->d.plugin_dir) {
        fprintf(stderr, "tocsin-bench: --tocsind and --plugin-dir are required (--help)\n");
        return -1;
    }
    if (access(o->d.tocsind, X_OK) != 0) {
        fprintf(stderr, "tocsin-bench: %s: not an executable file\n", o->d.tocsind);
        return -1;
    }
    return 0;
}

/* The slowest deliveries and where their time went: when the POST was
 * sent (from the first POST), its round trip (the durable commit is in
 * it) and the wait from the 2xx to the webhook (the sink side). A stall
 * shows as several neighbours in time, on one side or the other. */
#define SLOWEST 5
static void print_slowest(const struct bench_book *b, int64_t t0)
{
    size_t top[SLOWEST], ntop = 0, i, k;

    for (i = 0; i < b->n; i++) {
        int64_t a = atomic_load(&b->arrived_ns[i]);

        if (!a || !b->sent_ns[i])
            continue;
        for (k = ntop; k > 0; k--) {
            size_t j = top[k - 1];

            if (atomic_load(&b->arrived_ns[j]) - b->sent_ns[j] >= a - b->sent_ns[i])
                break;
            if (k < SLOWEST)
                top[k] = j;
        }
        if (k < SLOWEST) {
            top[k] = i;
            if (ntop < SLOWEST)
                ntop++;
        }
    }
    for (k = 0; k < ntop; k++) {
        i = top[k];
        printf("  slowest   seq %zu sent at +%.3f s: e2e %.2f ms = POST %.2f ms + sink %.2f ms\n",
               i, (double)(b->sent_ns[i] - t0) / 1e9,
               (double)(atomic_load(&b->arrived_ns[i]) - b->sent_ns[i]) / 1e6,
               (double)(b->answered_ns[i] - b->sent_ns[i]) / 1e6,
               (double)(atomic_load(&b->arrived_ns[i]) - b->answered_ns[i]) / 1e6);
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return x < y ? -1 : x > y;
}

/* Nearest-rank percentile of a sorted array, in ms. */
static double pct_ms(const int64_t *v, size_t n, double p)
{
    size_t i;

    if (!n)
        return 0;
    i = (size_t)(p * (double)n + 0.999999);
    i = i ? i - 1 : 0;
    return (double)v[i < n ? i : n - 1] / 1e6;
}

/* Alerts of this run whose POST was accepted and whose webhook came. */
static size_t arrived_accepted(const struct bench_book *b)
{
    size_t i, n = 0;

    for (i = 0; i < b->n; i++)
        if (b->sent_ns[i] && atomic_load(&b->arrived_ns[i]))
            n++;
    return n;
}

static int wait_for_stragglers(struct bench_book *book, struct bench_daemon *d, size_t expected,
                               int64_t wait_ms)
{
    int64_t deadline = bench_now_ns() + wait_ms * 1000000LL;
    size_t polls, max_polls = (size_t)(wait_ms / 10) + 2;

    for (polls = 0; polls < max_polls; polls++) {
        /* delivered counts every seq; confirm exactly only when it says so. */
        if (atomic_load(&book->delivered) >= expected && arrived_accepted(book) >= expected)
            return 0;
        if (daemon_exited(d) || bench_now_ns() > deadline)
            break;
        bench_sleep_ms(10);
    }
    return arrived_accepted(book) >= expected ? 0 : -1;
}

static void describe_exit(const struct bench_daemon *d, int killed, char *buf, size_t size)
{
    if (!d->reaped)
        snprintf(buf, size, "unknown");
    else if (killed)
        snprintf(buf, size, "killed after the SIGTERM timeout");
    else if (WIFEXITED(d->wstatus))
        snprintf(buf, size, "%d", WEXITSTATUS(d->wstatus));
    else if (WIFSIGNALED(d->wstatus))
        snprintf(buf, size, "signal %d (%s)", WTERMSIG(d->wstatus), strsignal(WTERMSIG(d->wstatus)));
    else
        snprintf(buf, size, "0x%x", (unsigned)d->wstatus);
}

static long log_lines(const struct bench_daemon *d)
{
    FILE *f = fopen(d->log_path, "r");
    long n = 0;
    int c;

    if (!f)
        return 0;
    while ((c = fgetc(f)) != EOF)
        n += c == '\n';
    fclose(f);
    return n;
}

int main(int argc, char **argv)
{
    struct opts o;
    struct bench_book book;
    struct bench_receiver *rx = NULL;
    struct bench_daemon d;
    struct load_opts lo;
    struct load_stats st;
    char err[512], url[200], runid[32], exitdesc[80], exittok[16];
    int64_t *lat = NULL, t_posted, last_arrival = 0, stop_ms;
    size_t i, nlat = 0, unaccounted = 0;
    long hwm = -1, rss = -1, ut = -1, sy = -1, nlog;
    double post_s, intake;
    int killed = 0, ok, rc = 2, c;

    if (parse_opts(argc, argv, &o) < 0)
        return 2;
    signal(SIGPIPE, SIG_IGN);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "tocsin-bench: curl_global_init failed\n");
        return 2;
    }
    memset(&book, 0, sizeof book);
    memset(&d, 0, sizeof d);
    memset(&st, 0, sizeof st);
    snprintf(runid, sizeof runid, "%lx%lx", (unsigned long)time(NULL), (unsigned long)getpid());
    book.run_id = runid;
    book.n = o.alerts;
    book.sent_ns = calloc(o.alerts, sizeof *book.sent_ns);
    book.arrived_ns = calloc(o.alerts, sizeof *book.arrived_ns);
    book.answered_ns = calloc(o.alerts, sizeof *book.answered_ns);
    lat = calloc(o.alerts, sizeof *lat);
    if (!book.sent_ns || !book.arrived_ns || !book.answered_ns || !lat) {
        fprintf(stderr, "tocsin-bench: out of memory\n");
        goto out;
    }

    rx = receiver_start(&book, err, sizeof err);
    if (!rx) {
        fprintf(stderr, "tocsin-bench: %s\n", err);
        goto out;
    }
    if (o.target) {
        /* Someone else's server (Alertmanager, for the comparison of
         * issue 11): intake only, nothing of it to measure or stop. */
        snprintf(d.base_url, sizeof d.base_url, "%s", o.target);
        fprintf(stderr, "tocsin-bench: posting to %s\n", o.target);
    } else if (daemon_start(&d, &o.d, receiver_port(rx), err, sizeof err) < 0) {
        fprintf(stderr, "tocsin-bench: %s\n", err);
        daemon_log_tail(&d, 30);
        daemon_stop(&d, 5000, &killed);
        goto out;
    }
    if (!o.target)
        fprintf(stderr, "tocsin-bench: tocsind pid %ld at %s, receiver on 127.0.0.1:%u, dir %s\n",
                (long)d.pid, d.base_url, receiver_port(rx), d.dir);

    /* Posting phase. */
    snprintf(url, sizeof url, "%s/api/v2/alerts", d.base_url);
    memset(&lo, 0, sizeof lo);
    lo.url = url;
    lo.batch = o.batch;
    lo.connections = o.connections;
    lo.rate = o.rate;
    lo.max_retries = o.retries;
    lo.timeout_ms = 30000;
    lo.deadline_ns = bench_now_ns() + o.max_time_ms * 1000000LL;
    if (load_run(&lo, &book, &st, err, sizeof err) < 0) {
        fprintf(stderr, "tocsin-bench: %s\n", err);
        if (!o.target)
            daemon_stop(&d, o.stop_ms, &killed);
        goto out;
    }
    t_posted = bench_now_ns();

    /* Stragglers, then the daemon's memory just before SIGTERM. */
    if (!o.d.intake_only)
        wait_for_stragglers(&book, &d, st.accepted, o.wait_ms);
    if (!o.target) {
        daemon_memory(&d, &hwm, &rss);
        daemon_cpu(&d, &ut, &sy);
        stop_ms = daemon_stop(&d, o.stop_ms, &killed);
    } else {
        stop_ms = 0;
    }
    receiver_stop(rx);
    rx = NULL;

    for (i = 0; i < book.n; i++) {
        int64_t a = atomic_load(&book.arrived_ns[i]);

        if (!a)
            continue;
        if (a > last_arrival)
            last_arrival = a;
        if (book.sent_ns[i])
            lat[nlat++] = a - book.sent_ns[i];
        else
            unaccounted++;
    }
    qsort(lat, nlat, sizeof *lat, cmp_i64);
    if (st.n_req_ns)
        qsort(st.req_ns, st.n_req_ns, sizeof *st.req_ns, cmp_i64);
    post_s = st.t_last_ns > st.t_first_ns ? (double)(st.t_last_ns - st.t_first_ns) / 1e9 : 0;
    intake = post_s > 0 ? (double)st.accepted / post_s : 0;
    describe_exit(&d, killed, exitdesc, sizeof exitdesc);
    if (killed || !d.reaped)
        snprintf(exittok, sizeof exittok, "%s", killed ? "killed" : "unknown");
    else if (WIFEXITED(d.wstatus))
        snprintf(exittok, sizeof exittok, "%d", WEXITSTATUS(d.wstatus));
    else
        snprintf(exittok, sizeof exittok, "sig%d", WIFSIGNALED(d.wstatus) ? WTERMSIG(d.wstatus) : 0);

    printf("tocsin-bench [%s]: %zu alerts, batch %zu, %u connections, rate %s%.0f%s%s\n", o.name,
           o.alerts, o.batch, o.connections, o.rate > 0 ? "" : "max (", o.rate,
           o.rate > 0 ? " alerts/s" : ")", o.d.intake_only ? ", intake only (nothing routed)" : "");
    printf("  intake    %zu accepted in %.3f s = %.0f alerts/s (%zu requests, %.0f req/s)\n",
           st.accepted, post_s, intake, st.requests, post_s > 0 ? (double)st.requests / post_s : 0);
    if (o.rate > 0)
        printf("  pacing    worst lateness against the schedule %.1f ms\n",
               (double)st.max_lag_ns / 1e6);
    printf("  http     ");
    for (c = 0; c < LOAD_STATUS_MAX; c++)
        if (st.status[c])
        {
            if (c)
                printf(" %d=%zu", c, st.status[c]);
            else
                printf(" transport-error=%zu", st.status[c]);
        }
    printf("  (retries %zu, refused %zu, not sent %zu)\n", st.retries, st.refused, st.skipped);
    if (st.first_error[0])
        printf("  first error: %s\n", st.first_error);
    printf("  POST rtt  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
           pct_ms(st.req_ns, st.n_req_ns, 0.50), pct_ms(st.req_ns, st.n_req_ns, 0.90),
           pct_ms(st.req_ns, st.n_req_ns, 0.99), pct_ms(st.req_ns, st.n_req_ns, 1.0));
    printf("  e2e       p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms  (POST sent -> webhook)\n",
           pct_ms(lat, nlat, 0.50), pct_ms(lat, nlat, 0.90), pct_ms(lat, nlat, 0.99),
           pct_ms(lat, nlat, 1.0));
    print_slowest(&book, st.t_first_ns);
    printf("  delivered %zu/%zu  (duplicates %zu, unattributable posts %zu, bad bodies %zu, "
           "of refused POSTs %zu; last one %.3f s after the first POST, drain %.3f s)\n",
           nlat, st.accepted, atomic_load(&book.duplicates), atomic_load(&book.foreign),
           atomic_load(&book.hook_bad), unaccounted,
           last_arrival ? (double)(last_arrival - st.t_first_ns) / 1e9 : 0,
           last_arrival > t_posted ? (double)(last_arrival - t_posted) / 1e9 : 0);
    printf("  daemon    peak RSS (VmHWM) %.1f MiB, RSS at end %.1f MiB, CPU %.2f s user + %.2f s sys, "
           "exit %s after SIGTERM in %lld ms\n",
           hwm / 1024.0, rss / 1024.0, ut / 1000.0, sy / 1000.0, exitdesc, (long long)stop_ms);
    printf("RESULT name=%s alerts=%zu batch=%zu conns=%u rate=%.0f accepted=%zu refused=%zu "
           "intake_aps=%.0f post_s=%.3f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f "
           "delivered=%zu expected=%zu duplicates=%zu rss_hwm_kib=%ld cpu_ms=%ld lag_ms=%.1f exit=%s\n",
           o.name, o.alerts, o.batch, o.connections, o.rate, st.accepted, st.refused, intake,
           post_s, pct_ms(lat, nlat, 0.50), pct_ms(lat, nlat, 0.90), pct_ms(lat, nlat, 0.99),
           pct_ms(lat, nlat, 1.0), nlat, o.d.intake_only ? 0 : st.accepted,
           atomic_load(&book.duplicates), hwm,
           ut >= 0 && sy >= 0 ? ut + sy : -1, (double)st.max_lag_ns / 1e6, exittok);
    fflush(stdout);

    ok = st.accepted == o.alerts && (o.d.intake_only ? nlat == 0 : nlat == st.accepted) &&
         !killed && (o.target || (d.reaped &&
         WIFEXITED(d.wstatus) && WEXITSTATUS(d.wstatus) == 0));
    nlog = o.target ? 0 : log_lines(&d);
    if (!ok || nlog > 0) {
        if (nlog > 0)
            fprintf(stderr, "tocsin-bench: the daemon logged %ld line(s) at level %s or above\n",
                    nlog, o.d.log_level);
        daemon_log_tail(&d, 15);
    }
    rc = ok ? 0 : 1;
out:
    receiver_stop(rx);
    if (d.dir[0])
        daemon_cleanup(&d, o.keep || rc == 2);
    load_stats_free(&st);
    free(book.sent_ns);
    free(book.arrived_ns);
    free(book.answered_ns);
    free(lat);
    curl_global_cleanup();
    return rc;
}
