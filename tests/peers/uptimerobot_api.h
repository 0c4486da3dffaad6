/* uptimerobot_api.h: a fake UptimeRobot API v2 for the integration tests:
 * POST /v2/getMonitors on 127.0.0.1 (an ephemeral port), serving a monitor
 * list the test sets, page by page as the real API (offset, limit, total),
 * checking the api_key, with scripted failures (stat: fail, 429). */
#ifndef TOCSIN_TEST_UPTIMEROBOT_API_H
#define TOCSIN_TEST_UPTIMEROBOT_API_H

#include <stddef.h>

struct ur_api;

/* Listening, or NULL. Requests with another api_key get stat: fail. */
struct ur_api *ur_api_start(const char *api_key);
void ur_api_free(struct ur_api *a);
int ur_api_port(const struct ur_api *a);

/* The monitors from now on: a JSON array of monitor objects (copied). */
void ur_api_monitors(struct ur_api *a, const char *array);
/* The most monitors one page holds (default 50, as the API). */
void ur_api_page_limit(struct ur_api *a, int limit);
/* The next answers, comma separated: "fail" (200, stat: fail), "echo"
 * (the same, its message quoting the api_key as a careless API might), "429"
 * (with Retry-After: 1), "ok" (the monitors). Then "ok" again. */
void ur_api_script(struct ur_api *a, const char *script);

/* Requests answered so far; waits until at least n (or timeout_ms). */
size_t ur_api_requests(struct ur_api *a);
size_t ur_api_wait(struct ur_api *a, size_t n, int timeout_ms);
/* Form field name of request i (0-based) into buf; -1 when absent. */
int ur_api_field(struct ur_api *a, size_t i, const char *name, char *buf, size_t len);
/* Protocol violations seen (not POST, wrong path or Content-Type). */
size_t ur_api_violations(struct ur_api *a);

#endif
