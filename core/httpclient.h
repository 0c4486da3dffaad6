/* httpclient.h: outbound HTTP (and SMTP) for plugins, through libcurl. */
#ifndef TC_HTTPCLIENT_H
#define TC_HTTPCLIENT_H

#include <stddef.h>
#include <tocsin/plugin.h>

/* res->error starts with this when the answer came but was cut off. */
#define TC_HTTP_TRUNCATED "answer truncated at"

/* What the core adds to a plugin's call. */
struct tc_http_opts {
    long timeout_ms;              /* when call->timeout_ms is 0 (daemon.http_timeout) */
    size_t max_response;          /* answer bytes kept (daemon.http_max_response) */
    /* smtp:// and smtps:// only: the envelope, from the call's mail_from
     * and mail_rcpt (ABI 1.1, host->http_sized). Without it an SMTP call
     * fails. */
    const char *mail_from;        /* "<alerts@example.org>" */
    const char *const *mail_rcpt; /* NULL-terminated "<ops@example.org>" list */
    /* ABI 1.1 too: basic authentication (HTTP) or AUTH (SMTP), STARTTLS
     * on smtp:// (TOCSIN_TLS_*), and CAs to trust instead of the system's. */
    const char *username, *password;
    int starttls;
    const char *ca_file;
};

int tc_httpclient_global_init(void);
/* Also releases the calling thread's handle. */
void tc_httpclient_global_cleanup(void);
/* Release this thread's reused connection now. Optional: a thread's handle
 * is released when it exits anyway (any thread, including libmicrohttpd's). */
void tc_httpclient_thread_done(void);
/* After this, transfers in progress abort (hard stop at the drain deadline). */
void tc_httpclient_abort_all(void);
/* libcurl handles alive in all threads (tests: no leak). */
int tc_httpclient_live_handles(void);

/* One blocking call. http(s):// as the call says; smtp(s):// uploads
 * call->body as the message to opts' envelope (method and headers unused).
 * An answer over opts->max_response is cut there and the transfer stopped:
 * TOCSIN_OK with the status and res->error saying so (tc_http_truncated). */
int tc_http_call(const struct tocsin_http_call *call, struct tocsin_http_result *res,
                 const struct tc_http_opts *opts);
/* 1 when the answer in res was cut off at the size limit. */
int tc_http_truncated(const struct tocsin_http_result *res);
void tc_http_result_free(struct tocsin_http_result *res);
/* 2xx done; 408, 425, 429, 5xx, timeouts and transport errors retry
 * (honouring Retry-After); other statuses fail permanently. A truncated
 * answer says so in the reason. */
struct tocsin_verdict tc_http_verdict(const struct tocsin_http_result *res);
/* Retry-After as seconds: delta-seconds or an HTTP-date; -1 if unusable. */
int tc_parse_retry_after(const char *value, int64_t now_ms);

#endif
