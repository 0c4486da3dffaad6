/* slack_it.c: see slack_it.h. */
#define _GNU_SOURCE
#include "slack_it.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct slack_peer *sit_peer(void)
{
    struct slack_peer *p = slack_peer_new();

    ck_assert_ptr_nonnull(p);
    ck_assert_int_eq(slack_peer_start(p), 0);
    return p;
}

static void config(struct h_daemon *d, const char *mode, const char *extra)
{
    h_write_config(d,
                   "daemon = { listen = \"127.0.0.1:0\"; state_dir = \"%s\";\n"
                   "  plugin_dir = \"%s\"; log_level = \"debug\";\n"
                   "  external_url = \"" SIT_EXTERNAL_URL "\"; };\n"
                   "inputs = ( { id = \"api\"; plugin = \"generic\"; } );\n"
                   "sinks = (\n"
                   "  { id = \"chat\"; plugin = \"slack\";\n"
                   "    %s\n"
                   "    retry_base = \"100ms\"; retry_max = \"1s\"; max_attempts = 6;\n"
                   "    %s }\n"
                   ");\n"
                   "routes = ( { sinks = [ \"chat\" ]; } );\n",
                   d->state_dir, getenv("TOCSIN_PLUGIN_DIR"), mode, extra ? extra : "");
}

void sit_config_webhook(struct h_daemon *d, struct slack_peer *p, const char *extra)
{
    char url[128];

    snprintf(url, sizeof url, "http://127.0.0.1:%d" SLACK_PEER_HOOK_PATH, slack_peer_port(p));
    setenv("TOCSIN_IT_SLACK_HOOK", url, 1);
    config(d, "webhook_url = \"env:TOCSIN_IT_SLACK_HOOK\";", extra);
}

void sit_config_api(struct h_daemon *d, struct slack_peer *p, const char *extra)
{
    char mode[256];

    setenv("TOCSIN_IT_SLACK_TOKEN", SLACK_PEER_TOKEN, 1);
    snprintf(mode, sizeof mode,
             "token = \"env:TOCSIN_IT_SLACK_TOKEN\"; channel = \"" SLACK_PEER_CHANNEL_NAME "\";\n"
             "    api_url = \"http://127.0.0.1:%d/api\";",
             slack_peer_port(p));
    config(d, mode, extra);
}

int64_t sit_alert_json(struct h_daemon *d, const char *key, const char *json)
{
    struct h_resp r;
    int64_t id;

    h_req(d, "POST", "/api/v1/alerts", json, &r);
    h_assert(d, r.status == 202, "POST /api/v1/alerts: HTTP %ld: %s", r.status, r.body);
    h_resp_free(&r);
    id = h_incident_by_key(d, key);
    h_assert(d, id > 0, "no incident with dedup_key %s", key);
    return id;
}

int64_t sit_alert(struct h_daemon *d, const char *key, const char *status,
                  const char *severity, const char *summary)
{
    json_t *a = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:{s:s, s:s}, s:{s:s}, s:{s:s}}", "dedup_key", key,
        "status", status, "severity", severity, "summary", summary, "details",
        "/var is 97% full & growing", "service", "node", "labels", "alertname", "DiskFull",
        "instance", "db1", "annotations", "runbook_url", "https://runbooks.example/disk",
        "links", "generator", "http://prom.example:9090/graph?g0.expr=up&g0.tab=1");
    char *body = json_dumps(a, JSON_COMPACT);
    int64_t id;

    json_decref(a);
    id = sit_alert_json(d, key, body);
    free(body);
    return id;
}

static void action(struct h_daemon *d, int64_t id, const char *what, json_t *body)
{
    char path[96], *text = json_dumps(body, JSON_COMPACT);
    struct h_resp r;

    snprintf(path, sizeof path, "/api/v1/incidents/%lld/%s", (long long)id, what);
    h_req(d, "POST", path, text, &r);
    h_assert(d, r.status == 200, "POST %s: HTTP %ld: %s", path, r.status, r.body);
    h_resp_free(&r);
    free(text);
    json_decref(body);
}

void sit_ack(struct h_daemon *d, int64_t id, const char *by)
{
    action(d, id, "ack", json_pack("{s:s}", "by", by));
}

void sit_resolve(struct h_daemon *d, int64_t id, const char *by, const char *note)
{
    action(d, id, "resolve", json_pack("{s:s, s:s}", "by", by, "note", note));
}

json_t *sit_wait(struct h_daemon *d, int64_t id, const char *act, const char *state)
{
    json_t *n = h_wait_notification(d, id, "chat", act, state, 20000);

    h_assert(d, n != NULL, "the %s of incident %lld never became %s", act, (long long)id,
             state);
    return n;
}

struct path_wait {
    struct slack_peer *p;
    const char *path;
    size_t n;
};

static int path_reached(void *arg)
{
    struct path_wait *w = arg;

    return slack_peer_count_path(w->p, w->path) >= w->n;
}

const struct slack_req *sit_wait_path(struct h_daemon *d, struct slack_peer *p,
                                      const char *path, size_t n)
{
    struct path_wait w = { p, path, n };

    h_assert(d, h_wait_until(path_reached, &w, 20000), "%zu requests on %s never came (%zu)", n,
             path, slack_peer_count_path(p, path));
    return slack_peer_nth(p, path, n - 1);
}

void sit_no_violations(struct h_daemon *d, struct slack_peer *p)
{
    size_t i, n = slack_peer_violations(p);

    for (i = 0; i < n; i++)
        fprintf(stderr, "slack peer violation %zu: %s\n", i, slack_peer_violation(p, i));
    h_assert(d, n == 0, "the fake Slack saw %zu violations (first: %s)", n,
             n ? slack_peer_violation(p, 0) : "");
}

const char *sit_text(const struct slack_req *q)
{
    return json_string_value(json_object_get(q->json, "text"));
}

static json_t *attachment(json_t *msg)
{
    return json_array_get(json_object_get(msg, "attachments"), 0);
}

const char *sit_color(json_t *msg)
{
    return json_string_value(json_object_get(attachment(msg), "color"));
}

static json_t *block_of(json_t *msg, const char *type, const char *prefix)
{
    size_t i;
    json_t *b;

    json_array_foreach(json_object_get(attachment(msg), "blocks"), i, b) {
        const char *t = json_string_value(json_object_get(b, "type"));
        const char *text = json_string_value(json_object_get(json_object_get(b, "text"), "text"));

        if (t && strcmp(t, type) == 0 &&
            (!prefix || (text && strncmp(text, prefix, strlen(prefix)) == 0)))
            return b;
    }
    return NULL;
}

const char *sit_header(json_t *msg)
{
    return json_string_value(
        json_object_get(json_object_get(block_of(msg, "header", NULL), "text"), "text"));
}

const char *sit_section(json_t *msg, const char *prefix)
{
    return json_string_value(
        json_object_get(json_object_get(block_of(msg, "section", prefix), "text"), "text"));
}

const char *sit_button(json_t *msg, const char *title)
{
    size_t i;
    json_t *e;

    json_array_foreach(json_object_get(block_of(msg, "actions", NULL), "elements"), i, e) {
        const char *t = json_string_value(json_object_get(json_object_get(e, "text"), "text"));

        if (t && strcmp(t, title) == 0)
            return json_string_value(json_object_get(e, "url"));
    }
    return NULL;
}

int sit_file_has(const char *path, const char *needle)
{
    char *s = h_read_file(path);
    int has = s && strstr(s, needle);

    free(s);
    return has;
}
