/* daemon.c: the bench's tocsind. Writes a config into a temp dir, spawns
 * the daemon in the foreground, waits for its address file and /readyz,
 * reads its memory and CPU from /proc, and stops it with SIGTERM. */
#define _GNU_SOURCE
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

#define WRAP_ARGS_MAX 32

/* A libconfig string literal: quotes and backslashes escaped. */
static void conf_quote(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fputc('\\', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static int write_conf(struct bench_daemon *d, const struct daemon_opts *o, unsigned short hook_port,
                      char *err, size_t errlen)
{
    FILE *f = fopen(d->conf, "w");
    char url[96];

    if (!f) {
        snprintf(err, errlen, "%s: %s", d->conf, strerror(errno));
        return -1;
    }
    snprintf(url, sizeof url, "http://127.0.0.1:%u/hook", hook_port);
    fputs("# written by tocsin-bench\n"
          "daemon = {\n"
          "  listen = \"127.0.0.1:0\";\n"
          "  state_dir = ", f);
    conf_quote(f, d->state_dir);
    fputs(";\n  plugin_dir = ", f);
    conf_quote(f, o->plugin_dir);
    fputs(";\n  log_level = ", f);
    conf_quote(f, o->log_level);
    fputs(";\n", f);
    if (o->daemon_conf)
        fprintf(f, "  %s\n", o->daemon_conf);
    fputs("};\n"
          "inputs = ( { id = \"prom\"; plugin = \"alertmanager\"; } );\n"
          "sinks = ( { id = \"hook\"; plugin = \"webhook\"; url = ", f);
    conf_quote(f, url);
    fprintf(f, "; concurrency = %u; } );\n", o->sink_concurrency);
    if (o->intake_only) /* the sink exists but nothing routes to it */
        fputs("routes = ( { match = { labels = { alertname = \"-never-\"; }; };"
              " sinks = [ \"hook\" ]; } );\n", f);
    else
        fputs("routes = ( { sinks = [ \"hook\" ]; } );\n", f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "%s: %s", d->conf, strerror(errno));
        return -1;
    }
    return 0;
}

/* "127.0.0.1:PORT\n" once the daemon listens; 1 when read, 0 not yet. */
static int read_addr(struct bench_daemon *d)
{
    char path[700], buf[96];
    FILE *f;
    size_t n;

    snprintf(path, sizeof path, "%s/tocsind.addr", d->state_dir);
    f = fopen(path, "r");
    if (!f)
        return 0;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    if (n < 2 || buf[n - 1] != '\n') /* not completely written yet */
        return 0;
    buf[n - 1] = '\0';
    snprintf(d->base_url, sizeof d->base_url, "http://%s", buf);
    return 1;
}

static size_t discard(char *data, size_t size, size_t nmemb, void *userp)
{
    return size * nmemb;
}

static long get_status(const char *url)
{
    CURL *c = curl_easy_init();
    long code = 0;

    if (!c)
        return 0;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, 2000L);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, discard);
    if (curl_easy_perform(c) == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    curl_easy_cleanup(c);
    return code;
}

static void spawn_child(const struct bench_daemon *d, const struct daemon_opts *o)
{
    char *argv[WRAP_ARGS_MAX + 6];
    char *wrap = o->wrap ? strdup(o->wrap) : NULL, *save = NULL, *w;
    int argc = 0, fd;

    if (wrap)
        for (w = strtok_r(wrap, " \t", &save); w && argc < WRAP_ARGS_MAX;
             w = strtok_r(NULL, " \t", &save))
            argv[argc++] = w;
    argv[argc++] = (char *)o->tocsind;
    argv[argc++] = "-f";
    argv[argc++] = "-c";
    argv[argc++] = (char *)d->conf;
    argv[argc] = NULL;

    fd = open("/dev/null", O_RDONLY);
    if (fd >= 0)
        dup2(fd, 0);
    fd = open(d->log_path, O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
    if (fd >= 0) {
        dup2(fd, 1);
        dup2(fd, 2);
    }
    execvp(argv[0], argv);
    fprintf(stderr, "tocsin-bench: exec %s: %s\n", argv[0], strerror(errno));
    _exit(127);
}

int daemon_start(struct bench_daemon *d, const struct daemon_opts *o, unsigned short hook_port,
                 char *err, size_t errlen)
{
    int64_t deadline;
    int n;

    memset(d, 0, sizeof *d);
    d->pid = -1;
    n = snprintf(d->dir, sizeof d->dir, "%s/tocsin-bench.XXXXXX", o->tmp_parent);
    if (n < 0 || (size_t)n >= sizeof d->dir || !mkdtemp(d->dir)) {
        snprintf(err, errlen, "cannot make a temp dir in %s: %s", o->tmp_parent, strerror(errno));
        d->dir[0] = '\0';
        return -1;
    }
    snprintf(d->conf, sizeof d->conf, "%s/tocsin.conf", d->dir);
    snprintf(d->state_dir, sizeof d->state_dir, "%s/state", d->dir);
    snprintf(d->log_path, sizeof d->log_path, "%s/tocsind.log", d->dir);
    if (mkdir(d->state_dir, 0700) != 0) {
        snprintf(err, errlen, "%s: %s", d->state_dir, strerror(errno));
        return -1;
    }
    if (write_conf(d, o, hook_port, err, errlen) < 0)
        return -1;

    fflush(NULL);
    d->pid = fork();
    if (d->pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        return -1;
    }
    if (d->pid == 0)
        spawn_child(d, o);

    /* Bounded polls: the address file, then /readyz. */
    deadline = bench_now_ns() + o->start_timeout_ms * 1000000LL;
    while (!read_addr(d)) {
        if (daemon_exited(d)) {
            snprintf(err, errlen, "tocsind exited during start-up (see its log below)");
            return -1;
        }
        if (bench_now_ns() > deadline) {
            snprintf(err, errlen, "no %s/tocsind.addr after %lld ms", d->state_dir,
                     (long long)o->start_timeout_ms);
            return -1;
        }
        bench_sleep_ms(10);
    }
    for (;;) {
        char url[160];

        snprintf(url, sizeof url, "%s/readyz", d->base_url);
        if (get_status(url) == 200)
            return 0;
        if (daemon_exited(d)) {
            snprintf(err, errlen, "tocsind exited before /readyz said 200 (see its log below)");
            return -1;
        }
        if (bench_now_ns() > deadline) {
            snprintf(err, errlen, "%s/readyz did not answer 200 within %lld ms", d->base_url,
                     (long long)o->start_timeout_ms);
            return -1;
        }
        bench_sleep_ms(20);
    }
}

int daemon_exited(struct bench_daemon *d)
{
    if (d->reaped)
        return 1;
    if (d->pid <= 0)
        return 1;
    if (waitpid(d->pid, &d->wstatus, WNOHANG) == d->pid) {
        d->reaped = 1;
        return 1;
    }
    return 0;
}

int daemon_memory(const struct bench_daemon *d, long *hwm_kib, long *rss_kib)
{
    char path[64], line[256];
    FILE *f;

    *hwm_kib = *rss_kib = -1;
    if (d->pid <= 0 || d->reaped)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld/status", (long)d->pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "VmHWM:", 6) == 0)
            *hwm_kib = strtol(line + 6, NULL, 10);
        else if (strncmp(line, "VmRSS:", 6) == 0)
            *rss_kib = strtol(line + 6, NULL, 10);
    }
    fclose(f);
    return *hwm_kib >= 0 ? 0 : -1;
}

int daemon_cpu(const struct bench_daemon *d, long *user_ms, long *sys_ms)
{
    char path[64], buf[1024], *p;
    unsigned long ut = 0, stt = 0;
    long hz = sysconf(_SC_CLK_TCK);
    FILE *f;
    size_t n;

    *user_ms = *sys_ms = -1;
    if (d->pid <= 0 || d->reaped || hz <= 0)
        return -1;
    snprintf(path, sizeof path, "/proc/%ld/stat", (long)d->pid);
    f = fopen(path, "r");
    if (!f)
        return -1;
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    /* Fields after "(comm)": state is field 3, utime 14, stime 15. */
    p = strrchr(buf, ')');
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &ut, &stt) != 2)
        return -1;
    *user_ms = (long)(ut * 1000 / (unsigned long)hz);
    *sys_ms = (long)(stt * 1000 / (unsigned long)hz);
    return 0;
}

int64_t daemon_stop(struct bench_daemon *d, int64_t timeout_ms, int *killed)
{
    int64_t t0 = bench_now_ns(), deadline = t0 + timeout_ms * 1000000LL;

    *killed = 0;
    if (d->pid <= 0 || daemon_exited(d))
        return 0;
    kill(d->pid, SIGTERM);
    while (!daemon_exited(d)) {
        if (bench_now_ns() > deadline) {
            kill(d->pid, SIGKILL);
            *killed = 1;
            if (waitpid(d->pid, &d->wstatus, 0) == d->pid)
                d->reaped = 1;
            break;
        }
        bench_sleep_ms(5);
    }
    return (bench_now_ns() - t0) / 1000000;
}

void daemon_log_tail(const struct bench_daemon *d, int lines)
{
    FILE *f = d->log_path[0] ? fopen(d->log_path, "r") : NULL;
    char *buf;
    long size, start, i;
    int seen = 0;

    if (!f)
        return;
    fseek(f, 0, SEEK_END);
    size = ftell(f);
    start = size > 65536 ? size - 65536 : 0;
    buf = malloc((size_t)(size - start) + 1);
    if (buf && fseek(f, start, SEEK_SET) == 0) {
        size_t n = fread(buf, 1, (size_t)(size - start), f);

        buf[n] = '\0';
        for (i = (long)n - 1; i > 0; i--)
            if (buf[i - 1] == '\n' && ++seen >= lines)
                break;
        fprintf(stderr, "--- %s (last lines) ---\n%s%s", d->log_path, buf + (i > 0 ? i : 0),
                n && buf[n - 1] != '\n' ? "\n" : "");
    }
    free(buf);
    fclose(f);
}

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    if (type == FTW_DP)
        rmdir(path);
    else
        unlink(path);
    return 0;
}

void daemon_cleanup(struct bench_daemon *d, int keep)
{
    if (!d->dir[0])
        return;
    if (keep) {
        fprintf(stderr, "tocsin-bench: kept %s\n", d->dir);
        return;
    }
    nftw(d->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}
