/* health.h: what /readyz asks the pipeline (owned by pipeline.c).
 * Declared weak so the API builds before the pipeline provides it; until
 * then /readyz only reflects start-up and shutdown. */
#ifndef TC_HEALTH_H
#define TC_HEALTH_H

#include <stddef.h>

struct tc_pipeline;

/* 1 while the store commits, 0 after a commit failed (disk full, I/O
 * error) until one succeeds again; why then says what failed. Cheap and
 * non-blocking: /readyz calls it on every probe, from HTTP threads. */
__attribute__((weak)) int tc_pipeline_store_ok(struct tc_pipeline *p, char *why, size_t whylen);

#endif
