/* receiver.c: the bench's webhook peer. libmicrohttpd on 127.0.0.1:0,
 * one epoll thread for all connections (cheaper than a thread each: on a
 * 2-core machine every cycle it spends is taken from the daemon);
 * records when each alert's notification arrives. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <jansson.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "bench.h"

#define HOOK_PATH "/hook"
#define HOOK_BODY_MAX (4u << 20) /* a notification is a few hundred bytes */

struct bench_receiver {
    struct MHD_Daemon *mhd;
    struct bench_book *book;
    unsigned short port;
};

struct upload {
    char *buf;
    size_t len, cap;
    int too_big;
};

/* Note one alert of a notification by its labels. */
static void record_labels(struct bench_book *book, const json_t *labels, int64_t now)
{
    const char *seq = json_string_value(json_object_get(labels, "seq"));
    const char *run = json_string_value(json_object_get(labels, "run"));
    char *end;
    unsigned long long i;
    int64_t zero = 0;

    if (!seq || !run || strcmp(run, book->run_id) != 0) {
        atomic_fetch_add(&book->foreign, 1);
        return;
    }
    i = strtoull(seq, &end, 10);
    if (*seq == '\0' || *end != '\0' || i >= book->n) {
        atomic_fetch_add(&book->foreign, 1);
        return;
    }
    if (atomic_compare_exchange_strong(&book->arrived_ns[i], &zero, now))
        atomic_fetch_add(&book->delivered, 1);
    else
        atomic_fetch_add(&book->duplicates, 1);
}

/* The webhook sink's native payload carries one alert under "alert";
 * Alertmanager's (version "4") carries a group under "alerts". Both are
 * understood so the bench works with either `format`. */
static void record_body(struct bench_book *book, const char *body, size_t len, int64_t now)
{
    json_error_t jerr;
    json_t *root = json_loadb(body, len, 0, &jerr);
    json_t *alert, *alerts, *a;
    size_t i;

    atomic_fetch_add(&book->hook_posts, 1);
    if (!root) {
        atomic_fetch_add(&book->hook_bad, 1);
        return;
    }
    alert = json_object_get(root, "alert");
    alerts = json_object_get(root, "alerts");
    if (json_is_object(alert)) {
        record_labels(book, json_object_get(alert, "labels"), now);
    } else if (json_is_array(alerts)) {
        json_array_foreach(alerts, i, a)
            record_labels(book, json_object_get(a, "labels"), now);
    } else {
        atomic_fetch_add(&book->foreign, 1);
    }
    json_decref(root);
}

static enum MHD_Result answer(struct MHD_Connection *conn, unsigned status, const char *body)
{
    struct MHD_Response *resp =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_PERSISTENT);
    enum MHD_Result ret;

    if (!resp)
        return MHD_NO;
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    ret = MHD_queue_response(conn, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
                                  const char *method, const char *version,
                                  const char *data, size_t *data_size, void **con_cls)
{
    struct bench_receiver *r = cls;
    struct upload *up = *con_cls;

    if (strcmp(url, HOOK_PATH) != 0)
        return answer(conn, MHD_HTTP_NOT_FOUND, "{\"error\":\"not found\"}");
    if (strcmp(method, "POST") != 0)
        return answer(conn, MHD_HTTP_METHOD_NOT_ALLOWED, "{\"error\":\"POST only\"}");
    if (!up) { /* first call: headers only */
        up = calloc(1, sizeof *up);
        if (!up)
            return MHD_NO;
        *con_cls = up;
        return MHD_YES;
    }
    if (*data_size) {
        size_t need = up->len + *data_size + 1;

        if (need > HOOK_BODY_MAX) {
            up->too_big = 1;
        } else if (!up->too_big) {
            if (need > up->cap) {
                size_t cap = up->cap ? up->cap : 1024;
                char *nb;

                while (cap < need)
                    cap *= 2;
                nb = realloc(up->buf, cap);
                if (!nb)
                    return MHD_NO;
                up->buf = nb;
                up->cap = cap;
            }
            memcpy(up->buf + up->len, data, *data_size);
            up->len += *data_size;
        }
        *data_size = 0;
        return MHD_YES;
    }
    /* The whole body is here: this is the arrival time. */
    if (up->too_big)
        return answer(conn, 413, "{\"error\":\"too large\"}");
    record_body(r->book, up->buf ? up->buf : "", up->len, bench_now_ns());
    return answer(conn, MHD_HTTP_OK, "{}");
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct upload *up = *con_cls;

    if (up) {
        free(up->buf);
        free(up);
        *con_cls = NULL;
    }
}

struct bench_receiver *receiver_start(struct bench_book *book, char *err, size_t errlen)
{
    struct bench_receiver *r = calloc(1, sizeof *r);
    struct sockaddr_in sa;
    const union MHD_DaemonInfo *info;

    if (!r) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    r->book = book;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = 0;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    r->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG,
                              0, NULL, NULL, on_request, r,
                              MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa,
                              MHD_OPTION_NOTIFY_COMPLETED, on_completed, r,
                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)120,
                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)256,
                              MHD_OPTION_END);
    if (!r->mhd) {
        snprintf(err, errlen, "cannot start the webhook receiver on 127.0.0.1");
        free(r);
        return NULL;
    }
    info = MHD_get_daemon_info(r->mhd, MHD_DAEMON_INFO_BIND_PORT);
    if (!info || !info->port) {
        snprintf(err, errlen, "webhook receiver: cannot learn its port");
        MHD_stop_daemon(r->mhd);
        free(r);
        return NULL;
    }
    r->port = info->port;
    return r;
}

unsigned short receiver_port(const struct bench_receiver *r)
{
    return r->port;
}

void receiver_stop(struct bench_receiver *r)
{
    if (!r)
        return;
    MHD_stop_daemon(r->mhd);
    free(r);
}
