/* fake_host.h: a host table for unit-testing a plugin without the core.
 * For inputs it records the route the plugin registers and what it emits,
 * and answers emit() with the code (and message) a test chooses. For
 * sinks it records each outbound call (http_sized), answers it with what
 * the test sets, and maps answers to verdicts the way the core documents
 * http_verdict (2xx done; 408, 425, 429, 5xx and transport errors retried
 * with Retry-After; other 4xx failed). It keeps what the plugin logs and
 * fails with, what it asks to remember, and its state (state_get/put/
 * delete) in memory. Below it, the rest of driving the plugin under test
 * as the core would: its options and its deliver_sized(). */
#ifndef TC_TEST_FAKE_HOST_H
#define TC_TEST_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

/* One recorded http_sized call. */
struct fake_call {
    char method[16];
    char *url;
    char *headers[16];
    size_t n_headers;
    char *body;
    long timeout_ms;
};

struct fake_host {
    struct tocsin_host host; /* first: the plugin hands it back to us */
    int64_t now;             /* what now_ms() says */
    /* route() and route_self_auth(): the last one registered */
    tocsin_route_fn route_fn;
    void *route_self;
    char method[16], path[128];
    int routes, self_auth_routes;
    /* emit() and emit_sized(): answered with emit_rc, and emit_err as the
     * message if set */
    int emit_rc;
    const char *emit_err;
    int emits;
    size_t emitted;
    char first_dedup[17], first_summary[64];
    /* http_sized(): the answer to the next calls */
    long status;      /* 0: a transport error (error says which); default 202 */
    const char *body; /* NULL: empty */
    int retry_after;  /* -1 (the default): no Retry-After */
    const char *error;
    /* ... and what was called (fake_host_release frees it) */
    struct fake_call calls[32];
    int n_calls, frees;
    /* remember(): answered with remember_rc; the last ref ("(null)" for
     * NULL) and the notification it came with */
    int remember_rc, remembers;
    char remembered[TOCSIN_REF_MAX + 1];
    const struct tocsin_notification *remembered_for;
    /* state_get/put/delete: a few keys (fake_host_state reads them) */
    struct {
        char *key, *value;
    } state[8];
    int state_puts, state_deletes;
    /* log() and fail() */
    char logs[8192];
    char failed[512];
    /* the Content-Type of fake_host_post (default application/json; NULL: none) */
    const char *content_type;
};

void fake_host_init(struct fake_host *f, const char *instance_id, int64_t now);
/* Frees the recorded calls and the state. */
void fake_host_release(struct fake_host *f);
/* POSTs body to the registered route from 127.0.0.1 with f->content_type;
 * the answer goes to resp (zeroed first: free an earlier body before). */
void fake_host_post(struct fake_host *f, const char *body, struct tocsin_http_response *resp);
/* The last http_sized call (fails the test when there was none). */
const struct fake_call *fake_host_last_call(const struct fake_host *f);
/* The value kept under key, or NULL. */
const char *fake_host_state(const struct fake_host *f, const char *key);
/* 1 when the last call had header line h exactly. */
int fake_host_has_header(const struct fake_host *f, const char *h);

/* The plugin under test: every plugin unit test links one. */
extern const struct tocsin_plugin tocsin_plugin;

/* The option called name in tocsin_plugin.options (fails the test when
 * there is none). */
const struct tocsin_option *plugin_option(const char *name);
/* Where that option's value lives in conf. */
void *plugin_field(void *conf, const char *name);

/* deliver_sized() as the core calls it: into a zeroed verdict of its size. */
struct tocsin_verdict plugin_deliver(void *self, const struct tocsin_notification *n);

#endif
