/* harness.c: starts and stops the real tocsind for the integration tests,
 * and talks to it over HTTP. */
#define _GNU_SOURCE
#include "harness.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* Generous: under ASan the daemon starts and answers several times slower. */
#define H_START_TIMEOUT_MS 30000

/* Daemons started by this test process, so that a failing test (Check
 * exits the forked test process from inside the assertion) still kills
 * them and shows their logs. */
#define H_MAX_DAEMONS 8
static struct {
    pid_t pid;
    char dir[H_DIR_MAX];
    char log[H_PATH_MAX];
    int dumped;
} h_registry[H_MAX_DAEMONS];
static int h_passed_flag;
static int h_atexit_set;

static void registry_set(const struct h_daemon *d, pid_t pid);

static const char *env_or_fail(const char *name)
{
    const char *v = getenv(name);

    if (!v || !*v)
        ck_abort_msg("environment variable %s is not set (run through `make check`)", name);
    return v;
}

void h_copy_plugin(const char *src_dir, const char *dir, const char *name)
{
    char from[H_PATH_MAX + 64], to[H_PATH_MAX + 64], buf[65536];
    FILE *in, *out;
    size_t n;

    snprintf(from, sizeof from, "%s/%s", src_dir, name);
    snprintf(to, sizeof to, "%s/%s", dir, name);
    in = fopen(from, "rb");
    ck_assert_msg(in != NULL, "cannot read %s", from);
    out = fopen(to, "wb");
    ck_assert_msg(out != NULL, "cannot write %s", to);
    while ((n = fread(buf, 1, sizeof buf, in)) > 0)
        ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
    fclose(in);
    ck_assert_int_eq(fclose(out), 0);
    ck_assert_int_eq(chmod(to, 0755), 0);
}

int h_under_tsan(void)
{
    const char *v = getenv("TOCSIN_TEST_TSAN");

    return v && *v && strcmp(v, "0") != 0;
}

int64_t h_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void h_sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

int h_wait_until(int (*pred)(void *arg), void *arg, int timeout_ms)
{
    int64_t end = h_now_ms() + timeout_ms;
    int ok;

    while (!(ok = pred(arg)) && h_now_ms() < end)
        h_sleep_ms(20);
    return ok;
}

char *h_read_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t len = 0, cap = 0, n;

    if (!f)
        return NULL;
    do {
        if (cap - len < 4096) {
            char *b = realloc(buf, cap = cap * 2 + 8192);

            if (!b) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = b;
        }
        n = fread(buf + len, 1, cap - len - 1, f);
        len += n;
    } while (n > 0);
    fclose(f);
    buf[len] = '\0';
    return buf;
}

int h_count_lines(const char *path, const char *needle)
{
    char *text = h_read_file(path), *line, *save = NULL;
    int n = 0;

    if (!text)
        return 0;
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
        if (strstr(line, needle))
            n++;
    free(text);
    return n;
}

/* --- the test's temp dir and config ------------------------------------- */

void h_init(struct h_daemon *d)
{
    const char *tmp = env_or_fail("TOCSIN_TMPDIR");

    memset(d, 0, sizeof *d);
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        ck_abort_msg("mkdir %s: %s", tmp, strerror(errno));
    if (strlen(tmp) > sizeof d->dir - 16)
        ck_abort_msg("TOCSIN_TMPDIR is too long: %s", tmp);
    snprintf(d->dir, sizeof d->dir, "%s/it-XXXXXX", tmp);
    if (!mkdtemp(d->dir))
        ck_abort_msg("mkdtemp %s: %s", d->dir, strerror(errno));
    snprintf(d->state_dir, sizeof d->state_dir, "%s/state", d->dir);
    if (mkdir(d->state_dir, 0700) != 0)
        ck_abort_msg("mkdir %s: %s", d->state_dir, strerror(errno));
    snprintf(d->conf, sizeof d->conf, "%s/tocsin.conf", d->dir);
    snprintf(d->log, sizeof d->log, "%s/tocsind.log", d->dir);
    snprintf(d->console, sizeof d->console, "%s/console.log", d->dir);
    snprintf(d->addr_file, sizeof d->addr_file, "%s/state/tocsind.addr", d->dir);
    registry_set(d, 0);
}

void h_write_config(struct h_daemon *d, const char *fmt, ...)
{
    FILE *f = fopen(d->conf, "w");
    va_list ap;

    ck_assert_msg(f != NULL, "cannot write %s: %s", d->conf, strerror(errno));
    va_start(ap, fmt);
    vfprintf(f, fmt, ap);
    va_end(ap);
    ck_assert_int_eq(fclose(f), 0);
}

void h_config_standard(struct h_daemon *d, const struct h_config *c)
{
    const char *plugins = env_or_fail("TOCSIN_PLUGIN_DIR");
    const char *hook = c->hook_extra ? c->hook_extra
                                     : "retry_base = \"100ms\"; retry_max = \"1s\"; max_attempts = 5;";

    h_write_config(d,
                   "# written by tests/integration/harness.c\n"
                   "daemon = {\n"
                   "  listen = \"%s\";\n"
                   "  state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\";\n"
                   "  log_level = \"debug\";\n"
                   "  max_body = \"%s\";\n"
                   "  intake_queue = %d;\n"
                   "  drain_timeout = \"%s\";\n"
                   "  %s\n"
                   "};\n"
                   "inputs = (\n"
                   "  { id = \"prom\"; plugin = \"alertmanager\"; %s },\n"
                   "  { id = \"api\"; plugin = \"generic\"; %s }\n"
                   ");\n"
                   "sinks = (\n"
                   "  { id = \"hook\"; plugin = \"webhook\";\n"
                   "    url = \"http://127.0.0.1:%d/hook\";\n"
                   "    %s }%s\n"
                   "%s%s%s"
                   ");\n"
                   "routes = (\n"
                   "  { sinks = [ \"hook\"%s ]; }\n"
                   ");\n%s\n",
                   c->listen ? c->listen : "127.0.0.1:0", d->state_dir, plugins,
                   c->max_body ? c->max_body : "64k",
                   c->intake_queue ? c->intake_queue : 10000,
                   c->drain_timeout ? c->drain_timeout : "5s", c->daemon_extra ? c->daemon_extra : "",
                   c->prom_extra ? c->prom_extra : "", c->api_extra ? c->api_extra : "",
                   c->peer_port, hook, c->no_console ? "" : ",",
                   c->no_console ? "" : "  { id = \"console\"; plugin = \"console\"; path = \"",
                   c->no_console ? "" : d->console, c->no_console ? "" : "\"; }\n",
                   c->no_console ? "" : ", \"console\"", c->top_extra ? c->top_extra : "");
}

/* --- the daemon process ------------------------------------------------- */

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(path);
    return 0;
}

/* Kills what the test left running; on failure shows the daemons' logs
 * (and keeps their dirs), on success removes the test's dirs. */
static void h_atexit(void)
{
    int i;

    for (i = 0; i < H_MAX_DAEMONS; i++) {
        if (!h_registry[i].log[0])
            continue;
        if (!h_passed_flag && !h_registry[i].dumped) {
            struct h_daemon tmp;

            memset(&tmp, 0, sizeof tmp);
            snprintf(tmp.log, sizeof tmp.log, "%s", h_registry[i].log);
            h_dump_log(&tmp, 40);
        }
        if (h_registry[i].pid > 0) {
            kill(h_registry[i].pid, SIGKILL);
            waitpid(h_registry[i].pid, NULL, 0);
            h_registry[i].pid = 0;
        }
        if (h_passed_flag && h_registry[i].dir[0] && !getenv("TOCSIN_KEEP_TMP"))
            nftw(h_registry[i].dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    }
}

static void registry_set(const struct h_daemon *d, pid_t pid)
{
    int i, free_slot = -1;

    if (!h_atexit_set) {
        atexit(h_atexit);
        h_atexit_set = 1;
    }
    for (i = 0; i < H_MAX_DAEMONS; i++) {
        if (strcmp(h_registry[i].log, d->log) == 0) {
            h_registry[i].pid = pid;
            return;
        }
        if (!h_registry[i].log[0] && free_slot < 0)
            free_slot = i;
    }
    if (free_slot >= 0) {
        snprintf(h_registry[free_slot].dir, sizeof h_registry[free_slot].dir, "%s", d->dir);
        snprintf(h_registry[free_slot].log, sizeof h_registry[free_slot].log, "%s", d->log);
        h_registry[free_slot].pid = pid;
    }
}

void h_passed(void)
{
    h_passed_flag = 1;
}

TCase *h_tcase(const char *name, int timeout_s)
{
    TCase *tc = tcase_create(name);

    tcase_set_timeout(tc, timeout_s);
    tcase_add_checked_fixture(tc, NULL, h_passed);
    return tc;
}

void h_dump_log(const struct h_daemon *d, int lines)
{
    char *text = h_read_file(d->log);
    const char *p;
    int i;

    for (i = 0; i < H_MAX_DAEMONS; i++)
        if (strcmp(h_registry[i].log, d->log) == 0)
            h_registry[i].dumped = 1;
    if (!text) {
        fprintf(stderr, "--- %s: (unreadable)\n", d->log);
        return;
    }
    p = text + strlen(text);
    for (i = 0; p > text && i <= lines; p--)
        if (p[-1] == '\n')
            i++;
    fprintf(stderr, "--- last %d lines of %s ---\n%s--- end of log ---\n", lines, d->log, p);
    free(text);
}

static int read_addr(struct h_daemon *d)
{
    char *text = h_read_file(d->addr_file);
    int port = 0;

    if (!text)
        return 0;
    /* "127.0.0.1:PORT\n", or "0.0.0.0:PORT\n" on a wildcard listener:
     * either way the test reaches it on 127.0.0.1. */
    if (strchr(text, '\n') && strchr(text, ':') && strchr(text, ':') < strchr(text, '\n'))
        port = atoi(strrchr(text, ':') + 1);
    free(text);
    if (port <= 0 || port > 65535)
        return 0;
    d->port = port;
    snprintf(d->base, sizeof d->base, "%s://127.0.0.1:%d", d->tls ? "https" : "http", port);
    return 1;
}

/* Reaps the daemon if it has exited; returns 1 when it has. */
static int reaped(struct h_daemon *d, int *status)
{
    pid_t r = waitpid(d->pid, status, WNOHANG);

    if (r == d->pid) {
        registry_set(d, 0);
        d->pid = 0;
        return 1;
    }
    return 0;
}

static int exit_code(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

/* The environment plus TOCSIN_TEST_CLOCK when the test clock is on (built
 * before fork: the child only execs). NULL: inherit as is. */
static char **clock_env(struct h_daemon *d)
{
    static char var[H_PATH_MAX + 32];
    size_t n = 0, i, j = 0;
    char **envp;

    if (!d->clock_file[0])
        return NULL;
    while (environ[n])
        n++;
    envp = calloc(n + 2, sizeof *envp);
    ck_assert_msg(envp != NULL, "out of memory");
    snprintf(var, sizeof var, "TOCSIN_TEST_CLOCK=%s", d->clock_file);
    for (i = 0; i < n; i++)
        if (strncmp(environ[i], "TOCSIN_TEST_CLOCK=", 18) != 0)
            envp[j++] = environ[i];
    envp[j] = var;
    return envp;
}

void h_clock_enable(struct h_daemon *d)
{
    int64_t zero = 0;
    void *map;
    int fd;

    if (d->clock)
        return;
    snprintf(d->clock_file, sizeof d->clock_file, "%s/clock", d->dir);
    fd = open(d->clock_file, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    ck_assert_msg(fd >= 0, "open %s: %s", d->clock_file, strerror(errno));
    ck_assert_msg(write(fd, &zero, sizeof zero) == sizeof zero, "write %s", d->clock_file);
    map = mmap(NULL, sizeof zero, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    ck_assert_msg(map != MAP_FAILED, "mmap %s: %s", d->clock_file, strerror(errno));
    d->clock = map;
}

void h_clock_advance(struct h_daemon *d, int64_t ms)
{
    ck_assert_msg(d->clock != NULL, "h_clock_advance without h_clock_enable");
    /* One atomic 8-byte store: tocsind reads it from its own mapping. */
    __atomic_fetch_add(d->clock, ms, __ATOMIC_SEQ_CST);
}

int h_try_start(struct h_daemon *d, int timeout_ms)
{
    char **envp;
    const char *tocsind = env_or_fail("TOCSIND");
    int64_t end = h_now_ms() + timeout_ms;
    int status;
    pid_t pid;

    ck_assert_msg(d->pid == 0, "daemon already running");
    unlink(d->addr_file); /* a kill -9 leaves the old one behind */
    envp = clock_env(d);
    d->port = 0;
    d->base[0] = '\0';
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        int fd = open(d->log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
        int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a killed test */
        if (fd < 0 || null < 0)
            _exit(127);
        dup2(null, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (envp)
            execle(tocsind, tocsind, "-f", "-c", d->conf, (char *)NULL, envp);
        execl(tocsind, tocsind, "-f", "-c", d->conf, (char *)NULL);
        dprintf(2, "exec %s: %s\n", tocsind, strerror(errno));
        _exit(127);
    }
    d->pid = pid;
    registry_set(d, pid);
    free(envp);

    while (!read_addr(d)) {
        if (reaped(d, &status)) {
            fprintf(stderr, "tocsind exited during start-up with status %d\n",
                    exit_code(status));
            return -1;
        }
        if (h_now_ms() > end) {
            fprintf(stderr, "tocsind wrote no %s within %d ms\n", d->addr_file, timeout_ms);
            return -1;
        }
        h_sleep_ms(20);
    }
    for (;;) {
        struct h_resp r;
        char url[128];

        snprintf(url, sizeof url, "%s/readyz", d->base);
        h_http("GET", url, NULL, 0, 2000, &r);
        status = (int)r.status;
        h_resp_free(&r);
        if (status == 200)
            return 0;
        if (reaped(d, &status)) {
            fprintf(stderr, "tocsind exited before /readyz was 200 (status %d)\n",
                    exit_code(status));
            return -1;
        }
        if (h_now_ms() > end) {
            fprintf(stderr, "GET /readyz never answered 200 within %d ms\n", timeout_ms);
            return -1;
        }
        h_sleep_ms(20);
    }
}

void h_start(struct h_daemon *d)
{
    if (h_try_start(d, H_START_TIMEOUT_MS) != 0) {
        h_dump_log(d, 60);
        ck_abort_msg("tocsind did not start (config %s)", d->conf);
    }
}

int h_stop(struct h_daemon *d, int timeout_ms)
{
    int64_t end = h_now_ms() + timeout_ms;
    int status;

    if (d->pid == 0)
        return -1;
    kill(d->pid, SIGTERM);
    while (!reaped(d, &status)) {
        if (h_now_ms() > end) {
            kill(d->pid, SIGKILL);
            waitpid(d->pid, NULL, 0);
            registry_set(d, 0);
            d->pid = 0;
            return -1;
        }
        h_sleep_ms(10);
    }
    return exit_code(status);
}

void h_kill9(struct h_daemon *d)
{
    if (d->pid == 0)
        return;
    kill(d->pid, SIGKILL);
    waitpid(d->pid, NULL, 0);
    registry_set(d, 0);
    d->pid = 0;
}

int h_run_tocsind(char **out, ...)
{
    const char *tocsind = env_or_fail("TOCSIND");
    const char *argv[32];
    int n = 0, fds[2], status;
    va_list ap;
    pid_t pid;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    ssize_t got;

    argv[n++] = tocsind;
    va_start(ap, out);
    while (n < 31 && (argv[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    argv[n] = NULL;

    ck_assert_int_eq(pipe2(fds, O_CLOEXEC), 0);
    pid = fork();
    ck_assert_msg(pid >= 0, "fork: %s", strerror(errno));
    if (pid == 0) {
        dup2(fds[1], 1);
        dup2(fds[1], 2);
        execv(tocsind, (char *const *)argv);
        _exit(127);
    }
    close(fds[1]);
    for (;;) {
        if (cap - len < 1024) {
            char *b = realloc(buf, cap = cap * 2 + 4096);

            ck_assert_ptr_nonnull(b);
            buf = b;
        }
        got = read(fds[0], buf + len, cap - len - 1);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            break;
        len += (size_t)got;
    }
    close(fds[0]);
    buf[len] = '\0';
    waitpid(pid, &status, 0);
    if (out)
        *out = buf;
    else
        free(buf);
    return exit_code(status);
}

/* --- HTTP client -------------------------------------------------------- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct h_resp *r = arg;
    size_t n = size * nmemb;
    char *b = realloc(r->body, r->len + n + 1);

    if (!b)
        return 0;
    memcpy(b + r->len, ptr, n);
    r->body = b;
    r->len += n;
    r->body[r->len] = '\0';
    return n;
}

static void header_value(const char *line, size_t n, size_t name_len, char *out, size_t outlen)
{
    const char *v = line + name_len;
    size_t len;

    while (*v == ' ')
        v++;
    len = n - (size_t)(v - line);
    while (len && (v[len - 1] == '\r' || v[len - 1] == '\n'))
        len--;
    snprintf(out, outlen, "%.*s", (int)len, v);
}

static size_t on_header(char *ptr, size_t size, size_t nmemb, void *arg)
{
    struct h_resp *r = arg;
    size_t n = size * nmemb;

    if (n > 12 && strncasecmp(ptr, "Retry-After:", 12) == 0)
        r->retry_after = atoi(ptr + 12);
    else if (n > 13 && strncasecmp(ptr, "Content-Type:", 13) == 0)
        header_value(ptr, n, 13, r->content_type, sizeof r->content_type);
    else if (n > 17 && strncasecmp(ptr, "WWW-Authenticate:", 17) == 0)
        header_value(ptr, n, 17, r->www_authenticate, sizeof r->www_authenticate);
    else if (n > 6 && strncasecmp(ptr, "Allow:", 6) == 0)
        header_value(ptr, n, 6, r->allow, sizeof r->allow);
    return n;
}

const char *h_ca_file;

int h_http(const char *method, const char *url, const char *body, size_t body_len,
           long timeout_ms, struct h_resp *resp)
{
    return h_http_ex(method, url, body, body_len, timeout_ms, NULL, resp);
}

static int has_header(const char *const *headers, const char *name)
{
    for (; headers && *headers; headers++)
        if (strncasecmp(*headers, name, strlen(name)) == 0)
            return 1;
    return 0;
}

int h_http_ex(const char *method, const char *url, const char *body, size_t body_len,
              long timeout_ms, const char *const *headers, struct h_resp *resp)
{
    CURL *c;
    struct curl_slist *hdrs = NULL;
    CURLcode rc;

    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
    resp->body = calloc(1, 1);
    c = curl_easy_init();
    ck_assert_ptr_nonnull(c);
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms > 0 ? timeout_ms : 30000L);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
    curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
    curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
    if (body) {
        if (!has_header(headers, "Content-Type:"))
            hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
    } else if (strcmp(method, "POST") == 0) {
        /* Bodyless, as curl -X POST sends it: no Content-Type at all. */
        if (!has_header(headers, "Content-Type:"))
            hdrs = curl_slist_append(hdrs, "Content-Type:");
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, 0L);
    }
    if (h_ca_file)
        curl_easy_setopt(c, CURLOPT_CAINFO, h_ca_file);
    for (; headers && *headers; headers++)
        hdrs = curl_slist_append(hdrs, *headers);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    rc = curl_easy_perform(c);
    if (rc == CURLE_OK)
        curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &resp->status);
    else
        resp->status = 0;
    curl_easy_cleanup(c);
    curl_slist_free_all(hdrs);
    return rc == CURLE_OK ? 0 : -1;
}

void h_resp_free(struct h_resp *resp)
{
    free(resp->body);
    resp->body = NULL;
    resp->len = 0;
}

long h_req(const struct h_daemon *d, const char *method, const char *path, const char *body,
           struct h_resp *resp)
{
    char url[1024];

    snprintf(url, sizeof url, "%s%s", d->base, path);
    h_http(method, url, body, body ? strlen(body) : 0, 30000, resp);
    return resp->status;
}

json_t *h_json(const struct h_resp *resp)
{
    json_error_t err;
    json_t *j = json_loads(resp->body ? resp->body : "", 0, &err);

    ck_assert_msg(j != NULL, "answer (HTTP %ld) is not JSON (%s): %.300s", resp->status,
                  err.text, resp->body ? resp->body : "");
    return j;
}

json_t *h_get_json(const struct h_daemon *d, const char *path)
{
    struct h_resp r;
    json_t *j;

    h_req(d, "GET", path, NULL, &r);
    h_assert(d, r.status == 200, "GET %s: HTTP %ld, expected 200: %.300s", path, r.status,
             r.body);
    j = h_json(&r);
    h_resp_free(&r);
    return j;
}

long long h_metric(const struct h_daemon *d, const char *series)
{
    struct h_resp r;
    size_t n = strlen(series);
    long long v = -1;
    const char *line;

    h_req(d, "GET", "/metrics", NULL, &r);
    h_assert(d, r.status == 200, "GET /metrics: HTTP %ld", r.status);
    h_assert(d, strncmp(r.content_type, "text/plain", 10) == 0, "/metrics is %s",
             r.content_type);
    for (line = r.body; line && *line; line = strchr(line, '\n')) {
        if (*line == '\n')
            line++;
        if (strncmp(line, series, n) == 0 && line[n] == ' ') {
            v = strtoll(line + n + 1, NULL, 10);
            break;
        }
    }
    h_resp_free(&r);
    return v;
}

json_t *h_incidents(const struct h_daemon *d, const char *status)
{
    char path[128];
    json_t *j, *arr;

    if (status)
        snprintf(path, sizeof path, "/api/v1/incidents?status=%s", status);
    else
        snprintf(path, sizeof path, "/api/v1/incidents");
    j = h_get_json(d, path);
    arr = json_object_get(j, "incidents");
    h_assert(d, json_is_array(arr), "GET %s: no \"incidents\" array", path);
    json_incref(arr);
    json_decref(j);
    return arr;
}

json_t *h_incident(const struct h_daemon *d, int64_t id)
{
    char path[128];

    snprintf(path, sizeof path, "/api/v1/incidents/%lld", (long long)id);
    return h_get_json(d, path);
}

int64_t h_incident_by_key(const struct h_daemon *d, const char *key)
{
    json_t *arr = h_incidents(d, NULL), *inc;
    int64_t id = -1;
    size_t i;

    json_array_foreach(arr, i, inc) {
        const char *k = json_string_value(json_object_get(inc, "dedup_key"));

        if (k && strcmp(k, key) == 0) {
            id = json_integer_value(json_object_get(inc, "id"));
            break;
        }
    }
    json_decref(arr);
    return id;
}

json_t *h_wait_notification(const struct h_daemon *d, int64_t id, const char *sink,
                            const char *action, const char *state, int timeout_ms)
{
    int64_t end = h_now_ms() + timeout_ms;

    for (;;) {
        json_t *inc = h_incident(d, id), *n;
        size_t i;

        json_array_foreach(json_object_get(inc, "notifications"), i, n) {
            const char *s = json_string_value(json_object_get(n, "sink"));
            const char *a = json_string_value(json_object_get(n, "action"));
            const char *st = json_string_value(json_object_get(n, "state"));

            if (s && a && st && strcmp(s, sink) == 0 && strcmp(a, action) == 0 &&
                strcmp(st, state) == 0) {
                json_incref(n);
                json_decref(inc);
                return n;
            }
        }
        json_decref(inc);
        if (h_now_ms() > end)
            return NULL;
        h_sleep_ms(50);
    }
}

char *h_detail(json_t *entry)
{
    json_t *det = json_object_get(entry, "detail");

    if (json_is_string(det))
        return strdup(json_string_value(det));
    return det ? json_dumps(det, JSON_ENCODE_ANY | JSON_SORT_KEYS | JSON_COMPACT) : strdup("");
}

int h_timeline_index(json_t *inc, const char *kind, const char *detail_substr)
{
    json_t *e;
    size_t i;

    json_array_foreach(json_object_get(inc, "timeline"), i, e) {
        const char *k = json_string_value(json_object_get(e, "kind"));
        char *det;
        int hit;

        if (!k || strcmp(k, kind) != 0)
            continue;
        det = h_detail(e);
        hit = !detail_substr || (det && strstr(det, detail_substr));
        free(det);
        if (hit)
            return (int)i;
    }
    return -1;
}

json_t *h_timeline_find(json_t *inc, const char *kind, const char *detail_substr)
{
    int i = h_timeline_index(inc, kind, detail_substr);

    return i < 0 ? NULL : json_array_get(json_object_get(inc, "timeline"), (size_t)i);
}

/* --- alerts ----------------------------------------------------------- */

static void rfc3339(time_t t, char *buf, size_t size)
{
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(buf, size, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

char *h_am_alert(const char *name, const char *instance, const char *severity,
                 const char *summary, int ends_in_s)
{
    time_t now = time(NULL);
    char starts[40], ends[40];
    json_t *alert, *arr;
    char *text;

    rfc3339(now - 120, starts, sizeof starts);
    alert = json_pack("{s:{s:s, s:s, s:s}, s:{s:s}, s:s, s:s}", "labels", "alertname", name,
                      "instance", instance, "severity", severity, "annotations", "summary",
                      summary, "startsAt", starts, "generatorURL",
                      "http://prom.example:9090/graph?g0.expr=up");
    ck_assert_ptr_nonnull(alert);
    if (ends_in_s) {
        rfc3339(now + ends_in_s, ends, sizeof ends);
        json_object_set_new(alert, "endsAt", json_string(ends));
    }
    arr = json_array();
    json_array_append_new(arr, alert);
    text = json_dumps(arr, JSON_COMPACT);
    json_decref(arr);
    return text;
}

/* Written from prometheus/common model.LabelsToSignature (not from the
 * daemon's code), so the test checks the daemon's dedup key independently. */
void h_am_fingerprint(const char *name, const char *instance, const char *severity,
                      char out[17])
{
    const char *kv[3][2] = { { "alertname", name }, { "instance", instance },
                             { "severity", severity } }; /* sorted by name */
    uint64_t h = 14695981039346656037ULL;
    int i, j;

    for (i = 0; i < 3; i++) {
        for (j = 0; j < 2; j++) {
            const unsigned char *s = (const unsigned char *)kv[i][j];

            for (; *s; s++) {
                h ^= *s;
                h *= 1099511628211ULL;
            }
            h ^= 0xff;
            h *= 1099511628211ULL;
        }
    }
    snprintf(out, 17, "%016llx", (unsigned long long)h);
}

struct peer *h_peer_started(void)
{
    struct peer *p = peer_new();

    ck_assert_ptr_nonnull(p);
    ck_assert_msg(peer_start(p) == 0, "the webhook peer did not start");
    return p;
}

void h_assert_no_violations(const struct h_daemon *d, struct peer *p)
{
    size_t i, n = peer_violations(p);

    for (i = 0; i < n; i++)
        fprintf(stderr, "peer violation: %s\n", peer_violation(p, i));
    h_assert(d, n == 0, "the webhook peer saw %zu protocol violations", n);
}

int64_t h_jint(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    ck_assert_msg(json_is_integer(v), "\"%s\" is not an integer in %s", key,
                  obj ? "the object" : "(null)");
    return json_integer_value(v);
}

const char *h_jstr(json_t *obj, const char *key)
{
    json_t *v = json_object_get(obj, key);

    ck_assert_msg(json_is_string(v), "\"%s\" is not a string", key);
    return json_string_value(v);
}

const char *h_jsub(json_t *obj, const char *key, const char *sub)
{
    return json_string_value(json_object_get(json_object_get(obj, key), sub));
}

int h_run_suite(Suite *s)
{
    SRunner *sr = srunner_create(s);
    int failed;

    curl_global_init(CURL_GLOBAL_DEFAULT);
    srunner_set_fork_status(sr, CK_FORK);
    srunner_run_all(sr, CK_NORMAL);
    failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    curl_global_cleanup();
    return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

long h_call(const struct h_daemon *d, const char *method, const char *path, const char *body,
            struct h_resp *r, ...)
{
    const char *headers[8];
    char url[512];
    va_list ap;
    int n = 0;

    va_start(ap, r);
    while (n < 7 && (headers[n] = va_arg(ap, const char *)) != NULL)
        n++;
    va_end(ap);
    headers[n] = NULL;
    snprintf(url, sizeof url, "%s%s", d->base, path);
    h_http_ex(method, url, body, body ? strlen(body) : 0, 10000, headers, r);
    return r->status;
}
