/* fake_host.h: a host table for unit-testing an input plugin without the
 * core. It records the route the plugin registers and what it emits, and
 * answers emit() with the code (and message) a test chooses. */
#ifndef TC_TEST_FAKE_HOST_H
#define TC_TEST_FAKE_HOST_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

struct fake_host {
    struct tocsin_host host; /* first: the plugin hands it back to us */
    int64_t now;             /* what now_ms() says */
    /* route() */
    tocsin_route_fn route_fn;
    void *route_self;
    char method[16], path[128];
    int routes;
    /* emit(): answered with emit_rc, and emit_err as the message if set */
    int emit_rc;
    const char *emit_err;
    int emits;
    size_t emitted;
    char first_dedup[17], first_summary[64];
    /* fail() */
    char failed[256];
    /* the Content-Type of fake_host_post (default application/json; NULL: none) */
    const char *content_type;
};

void fake_host_init(struct fake_host *f, const char *instance_id, int64_t now);
/* POSTs body to the registered route from 127.0.0.1 with f->content_type;
 * the answer goes to resp (zeroed first: free an earlier body before). */
void fake_host_post(struct fake_host *f, const char *body, struct tocsin_http_response *resp);

#endif
