/* httpclient.h: outbound HTTP for plugins, through libcurl. */
#ifndef TC_HTTPCLIENT_H
#define TC_HTTPCLIENT_H

#include <tocsin/plugin.h>

int tc_httpclient_global_init(void);
void tc_httpclient_global_cleanup(void);
/* Release this thread's reused connection (call before a thread exits). */
void tc_httpclient_thread_done(void);
/* After this, transfers in progress abort (hard stop at the drain deadline). */
void tc_httpclient_abort_all(void);

int tc_http_call(const struct tocsin_http_call *call, struct tocsin_http_result *res,
                 long default_timeout_ms);
void tc_http_result_free(struct tocsin_http_result *res);
/* 2xx done; 408, 425, 429, 5xx, timeouts and transport errors retry
 * (honouring Retry-After); other statuses fail permanently. */
struct tocsin_verdict tc_http_verdict(const struct tocsin_http_result *res);
/* Retry-After as seconds: delta-seconds or an HTTP-date; -1 if unusable. */
int tc_parse_retry_after(const char *value, int64_t now_ms);

#endif
