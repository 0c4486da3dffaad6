/* test_hygiene.c: hostile text and secrets stay out of the log, the
 * timeline and files: control characters in alerts cannot forge a log
 * line, a provider's answer is cut and rid of URLs' secrets, secret
 * defaults and values are never printed, the store is private. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

#define FORGED "x\nERROR forged line"
#define ELLIPSIS "\xe2\x80\xa6"

static void up(struct peer **p, struct h_daemon *d, const char *hook_extra, int console)
{
    struct h_config c = { 0 };

    *p = h_peer_started();
    c.peer_port = peer_port(*p);
    c.hook_extra = hook_extra;
    c.no_console = !console;
    h_init(d);
    h_config_standard(d, &c);
    h_start(d);
}

static void post(struct h_daemon *d, const char *path, json_t *body, long want)
{
    char *text = json_dumps(body, JSON_COMPACT);
    struct h_resp r;

    json_decref(body);
    ck_assert_ptr_nonnull(text);
    h_req(d, "POST", path, text, &r);
    h_assert(d, r.status == want, "POST %s: HTTP %ld, expected %ld: %s", path, r.status, want,
             r.body);
    h_resp_free(&r);
    free(text);
}

static int has_control(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++)
        if (((unsigned char)s[i] < 0x20 && s[i] != '\n') || (unsigned char)s[i] == 0x7f)
            return 1;
    return 0;
}

/* Every line of the log holding needle, checked by fn; the count. */
static int each_line(const char *log, const char *needle,
                     void (*fn)(const char *line, size_t len, void *arg), void *arg)
{
    const char *line = log, *end;
    int n = 0;

    for (; *line; line = *end ? end + 1 : end) {
        char *copy;

        end = strchr(line, '\n');
        if (!end)
            end = line + strlen(line);
        copy = strndup(line, (size_t)(end - line));
        ck_assert_ptr_nonnull(copy);
        if (strstr(copy, needle)) {
            fn(copy, (size_t)(end - line), arg);
            n++;
        }
        free(copy);
    }
    return n;
}

struct wait_log {
    const char *path, *needle;
    int n;
};

static int log_has(void *arg)
{
    struct wait_log *w = arg;

    return h_count_lines(w->path, w->needle) >= w->n;
}

/* --- control characters in alerts ---------------------------------------- */

static void forged_line_is_an_inputs(const char *line, size_t len, void *arg)
{
    ck_assert_msg(strstr(line, " info  [input prom] ") || strstr(line, " info  [input api] "),
                  "a line quoting the hostile text is not the input's: %s", line);
    ck_assert_msg(strstr(line, "x\\nERROR forged line\\x1b["), "not escaped: %s", line);
}

/* An alert's fields quoted in the log (an input refusing it) cannot start
 * a line of their own or reach the terminal as an escape sequence. */
START_TEST(test_hostile_alert_text_cannot_forge_a_log_line)
{
    struct peer *p;
    struct h_daemon d;
    struct wait_log w;
    char *log;
    int n;

    up(&p, &d, NULL, 1);
    /* A label holding the text, refused for its startsAt holding it too. */
    post(&d, "/api/v2/alerts",
         json_pack("[{s:{s:s, s:s}, s:s}]", "labels", "alertname", FORGED "\x1b[31m",
                   "instance", "h1", "startsAt", FORGED "\x1b[2J"), 400);
    /* A label whose name holds it. */
    post(&d, "/api/v2/alerts", json_pack("[{s:{s:s, s:i}}]", "labels", "alertname", "A",
                                         FORGED "\x1b[31m", 1), 400);
    /* The native schema's status. */
    post(&d, "/api/v1/alerts", json_pack("{s:s, s:s, s:s}", "summary", "s", "dedup_key", "k1",
                                         "status", FORGED "\x1b[31m"), 400);
    w = (struct wait_log){ d.log, "forged line", 3 };
    h_assert(&d, h_wait_until(log_has, &w, 10000), "the inputs did not log the refusals");
    ck_assert_int_eq(h_stop(&d, 15000), 0);

    log = h_read_file(d.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(strncmp(log, "ERROR forged", 12) != 0 && !strstr(log, "\nERROR forged"),
                  "a forged line in the log:\n%s", log);
    ck_assert_msg(!has_control(log, strlen(log)), "a control character in the log:\n%s", log);
    n = each_line(log, "forged line", forged_line_is_an_inputs, NULL);
    ck_assert_int_eq(n, 3);
    free(log);
    peer_free(p);
}
END_TEST

/* --- provider answers -------------------------------------------------- */

#define HOOK_URL "https://user:pw@hooks.example.test/services/T0/B0/SECRET?token=abc"

static void assert_scrubbed(const struct h_daemon *d, const char *what, const char *text)
{
    const char *from = strstr(text, "HTTP 500");
    size_t len;

    h_assert(d, from != NULL, "%s does not name the 500: %s", what, text);
    h_assert(d, !strstr(text, "SECRET") && !strstr(text, "pw@") && !strstr(text, "abc") &&
                    !strstr(text, "/services"),
             "%s holds the URL's secrets: %s", what, text);
    h_assert(d, strstr(text, "https://hooks.example.test/" ELLIPSIS) != NULL,
             "%s lost the URL's host: %s", what, text);
    h_assert(d, !has_control(text, strlen(text)) && !strchr(text, '\n'),
             "%s holds control characters: %s", what, text);
    len = strlen(from);
    h_assert(d, len <= 200, "%s quotes %zu bytes of the answer: %s", what, len, text);
    h_assert(d, len >= 3 && strcmp(from + len - 3, ELLIPSIS) == 0,
             "%s does not say it was cut: %s", what, text);
}

static void log_line_is_scrubbed(const char *line, size_t len, void *arg)
{
    ck_assert_msg(!strstr(line, "SECRET") && !strstr(line, "pw@") && !strstr(line, "abc"),
                  "the log holds the URL's secrets: %s", line);
    /* The reason (200 bytes) plus the sink's words around it. */
    ck_assert_msg(len < 400, "a log line of %zu bytes quotes the answer: %s", len, line);
}

START_TEST(test_a_provider_answer_is_cut_and_scrubbed_before_timeline_and_log)
{
    static const char filler[] = "lorem ipsum dolor sit amet ";
    struct peer *p;
    struct h_daemon d;
    json_t *n, *inc, *e;
    char *body, *log, *det;
    const char *reason;
    size_t i, off;
    int64_t id;
    char fp[17];

    /* The URL first, so the excerpt holds it; then 10 kB of text. */
    body = malloc(11000);
    ck_assert_ptr_nonnull(body);
    off = (size_t)sprintf(body, "{\"error\":\"no such hook " HOOK_URL "\",\"trace\":\""
                                "\r\nERROR forged line\x1b[31m ");
    for (i = 0; i < 10240 / (sizeof filler - 1); i++, off += sizeof filler - 1)
        memcpy(body + off, filler, sizeof filler - 1);
    strcpy(body + off, "\"}");

    up(&p, &d, "retry_base = \"100ms\"; retry_max = \"200ms\"; max_attempts = 2;", 0);
    peer_default(p, 500);
    peer_answer_body(p, body);
    free(body);
    {
        char *alert = h_am_alert("Scrubbed", "host1", "high", "s", 0);
        struct h_resp r;

        h_req(&d, "POST", "/api/v2/alerts", alert, &r);
        free(alert);
        h_assert(&d, r.status == 200, "POST: HTTP %ld", r.status);
        h_resp_free(&r);
    }
    h_am_fingerprint("Scrubbed", "host1", "high", fp);
    id = h_incident_by_key(&d, fp);
    h_assert(&d, id > 0, "no incident");
    n = h_wait_notification(&d, id, "hook", "trigger", "failed", 15000);
    h_assert(&d, n != NULL, "the notification did not fail after two 500s");
    assert_scrubbed(&d, "last_error", h_jstr(n, "last_error"));
    json_decref(n);

    inc = h_incident(&d, id);
    e = h_timeline_find(inc, "notify_failed", NULL);
    h_assert(&d, e != NULL, "no notify_failed in the timeline");
    reason = h_jsub(e, "detail", "reason");
    h_assert(&d, reason != NULL, "notify_failed has no reason");
    assert_scrubbed(&d, "the timeline's reason", reason);
    det = h_detail(e);
    h_assert(&d, !strstr(det, "SECRET") && !strstr(det, "pw@"), "timeline entry: %s", det);
    free(det);
    json_decref(inc);
    ck_assert_int_eq(h_stop(&d, 15000), 0);

    log = h_read_file(d.log);
    ck_assert_ptr_nonnull(log);
    ck_assert_msg(!strstr(log, "SECRET") && !strstr(log, "pw@") && !strstr(log, "token=abc"),
                  "the log holds the URL's secrets");
    ck_assert_msg(!strstr(log, "\nERROR forged"), "the answer forged a log line");
    ck_assert_msg(!has_control(log, strlen(log)), "a control character in the log");
    /* A retry (warn) and the failure (error). */
    ck_assert_int_ge(each_line(log, "HTTP 500", log_line_is_scrubbed, NULL), 2);
    free(log);
    peer_free(p);
}
END_TEST

/* --- secret options ------------------------------------------------------ */

static char *plugin_dir_with_secretive(struct h_daemon *d)
{
    static char dir[H_PATH_MAX];

    snprintf(dir, sizeof dir, "%s/plugins", d->dir);
    ck_assert_int_eq(mkdir(dir, 0755), 0);
    h_copy_plugin(getenv("TOCSIN_TEST_PLUGIN_DIR"), dir, "sink_secretive.so");
    return dir;
}

/* The line of the help that starts with "  NAME ", malloc()ed or NULL. */
static char *help_line(const char *out, const char *name)
{
    char start[64];
    const char *p;

    snprintf(start, sizeof start, "  %s ", name);
    for (p = out; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
        if (strncmp(p, start, strlen(start)) == 0)
            return strndup(p, strcspn(p, "\n"));
    return NULL;
}

START_TEST(test_plugin_help_never_prints_a_secret_default)
{
    struct h_daemon d;
    char *out, *l;

    h_init(&d);
    ck_assert_int_eq(h_run_tocsind(&out, "--plugin-help", "secretive", "--plugin-dir",
                                   plugin_dir_with_secretive(&d), (char *)NULL), 0);
    ck_assert_msg(!strstr(out, "d3fault") && !strstr(out, "735911"), "%s", out);
    l = help_line(out, "api_key");
    ck_assert_msg(l && strstr(l, " (secret) ") && strstr(l, " secret "), "%s", out);
    free(l);
    l = help_line(out, "pin");
    ck_assert_msg(l && strstr(l, " (secret) "), "%s", out);
    free(l);
    l = help_line(out, "keys");
    ck_assert_msg(l && strstr(l, " (secret) "), "%s", out);
    free(l);
    l = help_line(out, "region");
    ck_assert_msg(l && strstr(l, " \"eu-west\" ") && !strstr(l, "secret"), "%s", out);
    free(l);
    free(out);
}
END_TEST

START_TEST(test_config_errors_never_echo_a_secret_value)
{
    struct h_daemon d;
    char *out;
    const char *dir;

    h_init(&d);
    dir = plugin_dir_with_secretive(&d);
    setenv("TOCSIN_IT_SECRET", "HUNTER2-from-env", 1);
    unsetenv("TOCSIN_IT_UNSET");
    h_write_config(&d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; };\n"
                   "sinks = (\n"
                   "  { id = \"s1\"; plugin = \"secretive\"; api_key = 424242; },\n"
                   "  { id = \"s2\"; plugin = \"secretive\"; pin = \"env:TOCSIN_IT_SECRET\"; },\n"
                   "  { id = \"s3\"; plugin = \"secretive\";\n"
                   "    keys = [ \"env:TOCSIN_IT_SECRET\", \"env:TOCSIN_IT_UNSET\" ];\n"
                   "    api_key = \"HUNTER2-literal\"; regoin = \"x\"; }\n"
                   ");\n"
                   "routes = ( { sinks = [ \"s1\" ]; } );\n",
                   d.state_dir, dir);
    ck_assert_int_eq(h_run_tocsind(&out, "--check-config", "-c", d.conf, (char *)NULL), 1);
    /* Each error is there, naming the option and not its value. */
    ck_assert_msg(strstr(out, ":4: sink \"s1\" (secretive): option \"api_key\" must be a "
                              "string, not an integer"), "%s", out);
    ck_assert_msg(strstr(out, ":5: sink \"s2\" (secretive): option \"pin\" must be an "
                              "integer, not a string"), "%s", out);
    ck_assert_msg(strstr(out, "option \"keys\" item 2: environment variable TOCSIN_IT_UNSET "
                              "is not set"), "%s", out);
    ck_assert_msg(strstr(out, "unknown option \"regoin\"; did you mean \"region\"?"), "%s",
                  out);
    ck_assert_msg(!strstr(out, "424242") && !strstr(out, "HUNTER2") && !strstr(out, "d3fault"),
                  "a secret in the errors:\n%s", out);
    free(out);
}
END_TEST

/* --- the store's files ------------------------------------------------- */

static unsigned mode_of(const char *path)
{
    struct stat st;

    ck_assert_msg(stat(path, &st) == 0, "stat %s: %m", path);
    return (unsigned)(st.st_mode & 07777);
}

static void assert_store_private(const struct h_daemon *d)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    char path[H_PATH_MAX + 32];
    size_t i;

    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/tocsin.db%s", d->state_dir, suffixes[i]);
        h_assert(d, mode_of(path) == 0600, "%s is %04o, not 0600", path, mode_of(path));
    }
}

static void post_one(struct h_daemon *d, const char *name)
{
    char *alert = h_am_alert(name, "host1", "high", "s", 0);
    struct h_resp r;

    h_req(d, "POST", "/api/v2/alerts", alert, &r);
    free(alert);
    h_assert(d, r.status == 200, "POST: HTTP %ld", r.status);
    h_resp_free(&r);
}

START_TEST(test_the_store_is_private_whatever_the_umask)
{
    struct peer *p;
    struct h_daemon d;
    struct h_config c = { 0 };
    mode_t old;

    p = h_peer_started();
    c.peer_port = peer_port(p);
    h_init(&d);
    h_config_standard(&d, &c);
    ck_assert_int_eq(rmdir(d.state_dir), 0); /* the daemon makes it */
    old = umask(022);
    h_start(&d);
    umask(old);
    post_one(&d, "Private");
    h_assert(&d, peer_wait_requests(p, 1, 10000) >= 1, "nothing delivered");
    h_assert(&d, mode_of(d.state_dir) == 0700, "state_dir is %04o, not 0700",
             mode_of(d.state_dir));
    assert_store_private(&d); /* -wal and -shm exist while the daemon runs */
    {
        char lock[H_PATH_MAX + 32];

        snprintf(lock, sizeof lock, "%s/tocsind.lock", d.state_dir);
        h_assert(&d, mode_of(lock) == 0600, "%s is %04o", lock, mode_of(lock));
    }
    ck_assert_int_eq(h_count_lines(d.log, "store: made "), 0);
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

START_TEST(test_a_store_open_to_others_is_tightened_with_one_warning)
{
    static const char *const suffixes[] = { "", "-wal", "-shm" };
    struct peer *p;
    struct h_daemon d;
    char path[H_PATH_MAX + 32];
    size_t i;

    up(&p, &d, NULL, 0);
    post_one(&d, "Loose");
    h_kill9(&d); /* leaves -wal and -shm behind */
    for (i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/tocsin.db%s", d.state_dir, suffixes[i]);
        ck_assert_msg(chmod(path, 0644) == 0, "chmod %s: %m", path);
    }
    h_start(&d);
    assert_store_private(&d);
    ck_assert_int_eq(h_count_lines(d.log, "store: made "), 1);
    ck_assert_int_eq(h_count_lines(d.log, "tocsin.db-wal (was 0644)"), 1);
    post_one(&d, "Loose2");
    ck_assert_int_eq(h_stop(&d, 15000), 0);
    peer_free(p);
}
END_TEST

static Suite *suite(void)
{
    Suite *s = suite_create("integration: hygiene");
    TCase *tc = h_tcase("hygiene", 90);

    tcase_add_test(tc, test_hostile_alert_text_cannot_forge_a_log_line);
    tcase_add_test(tc, test_a_provider_answer_is_cut_and_scrubbed_before_timeline_and_log);
    tcase_add_test(tc, test_plugin_help_never_prints_a_secret_default);
    tcase_add_test(tc, test_config_errors_never_echo_a_secret_value);
    tcase_add_test(tc, test_the_store_is_private_whatever_the_umask);
    tcase_add_test(tc, test_a_store_open_to_others_is_tightened_with_one_warning);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return h_run_suite(suite());
}
