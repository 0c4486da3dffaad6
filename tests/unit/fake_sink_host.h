/* fake_sink_host.h: a host table for unit-testing a sink plugin without the
 * core: it records each outbound call (http_sized), answers it with what
 * the test sets, keeps what the plugin logs and fails with, and maps
 * answers to verdicts the way the core documents http_verdict (2xx done;
 * 408, 425, 429, 5xx and transport errors retried with Retry-After; other
 * 4xx failed). */
#ifndef TC_TEST_FAKE_SINK_HOST_H
#define TC_TEST_FAKE_SINK_HOST_H

#include <stddef.h>
#include <tocsin/plugin.h>

struct fake_call {
    char method[16];
    char *url;
    char *headers[16];
    size_t n_headers;
    char *body;
    long timeout_ms;
};

struct fake_sink_host {
    struct tocsin_host host; /* first: the plugin hands it back to us */
    /* The answer to the next calls. */
    long status;          /* 0: a transport error (error says which) */
    const char *body;     /* NULL: empty */
    int retry_after;      /* -1: no Retry-After */
    const char *error;
    /* What happened. */
    struct fake_call calls[32];
    int n_calls, frees;
    char logs[8192];
    char failed[512];
};

void fake_sink_host_init(struct fake_sink_host *f, const char *instance_id);
/* Frees the recorded calls. */
void fake_sink_host_release(struct fake_sink_host *f);
/* The last call (fails the test when there was none). */
const struct fake_call *fake_sink_last(const struct fake_sink_host *f);
/* 1 when the last call had header line h exactly. */
int fake_sink_has_header(const struct fake_sink_host *f, const char *h);
/* deliver_sized() as the core calls it: into a zeroed verdict of its size. */
struct tocsin_verdict fake_sink_deliver(const struct tocsin_plugin *pl, void *self,
                                        const struct tocsin_notification *n);

#endif
