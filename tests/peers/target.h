/* target.h: a probe target for the healthcheck tests: a plain HTTP/TCP
 * server on 127.0.0.1 (an ephemeral port, kept while it lives) that
 * answers a chosen status and body (after a delay), hangs (reads the
 * request and never answers), refuses (nothing listens on the port) or
 * blackholes (its accept queue is full: a TCP connect gets no answer). */
#ifndef TOCSIN_TEST_TARGET_H
#define TOCSIN_TEST_TARGET_H

#include <stddef.h>

struct target;

/* Listening and answering 200 "ok"; NULL on failure. */
struct target *target_start(void);
void target_free(struct target *t);
int target_port(const struct target *t);

/* Each returns once the target behaves so. */
void target_answer(struct target *t, int status, const char *body, int delay_ms);
void target_hang(struct target *t);
void target_refuse(struct target *t);
void target_blackhole(struct target *t);

/* Connections accepted so far (HTTP requests and bare TCP connects). */
size_t target_connections(struct target *t);
/* Waits until at least n were accepted; returns the count seen. */
size_t target_wait_connections(struct target *t, size_t n, int timeout_ms);
/* The method of the last HTTP request ("" before any) into buf. */
void target_last_method(struct target *t, char *buf, size_t len);

#endif
