/* probe.c: the healthcheck's probes (see probe.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void hc_probe_http(const struct tocsin_host *host, const char *method, const char *url,
                   const char *const *headers, int64_t timeout_ms,
                   struct tocsin_http_result *res, struct hc_outcome *o)
{
    struct tocsin_http_call call;
    int64_t t0 = mono_ms();
    int rc;

    memset(&call, 0, sizeof call);
    call.method = method;
    call.url = url;
    call.headers = headers;
    call.timeout_ms = (long)timeout_ms;
    rc = host->http_sized(host, &call, sizeof call, res, sizeof *res);
    memset(o, 0, sizeof *o);
    o->latency_ms = mono_ms() - t0;
    if (rc == TOCSIN_OK) {
        o->transport = HC_ANSWERED;
        o->status = res->status;
        o->body = res->body;
        o->body_len = res->body_len;
    } else if (res->timed_out) {
        o->transport = HC_TIMED_OUT;
    } else if (strstr(res->error, "Couldn't connect")) {
        /* libcurl's CURLE_COULDNT_CONNECT: refused (or unreachable) */
        o->transport = HC_REFUSED;
    } else {
        o->transport = HC_OTHER_ERROR;
        o->error = res->error;
    }
}

/* One address: 0 connected, else an errno (ETIMEDOUT past deadline). */
static int connect_one(const struct addrinfo *ai, int64_t deadline)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                    ai->ai_protocol);
    int err = 0;

    if (fd < 0)
        return errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        err = errno;
        if (err == EINPROGRESS) {
            struct pollfd pfd = { fd, POLLOUT, 0 };
            socklen_t len = sizeof err;
            int64_t left;
            int n;

            do {
                left = deadline - mono_ms();
                n = left > 0 ? poll(&pfd, 1, (int)left) : 0;
            } while (n < 0 && errno == EINTR);
            if (n <= 0)
                err = ETIMEDOUT;
            else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
                err = errno;
        }
    }
    close(fd);
    return err;
}

void hc_probe_tcp(const char *host, const char *port, int64_t timeout_ms,
                  struct hc_outcome *o, char *err, size_t errlen)
{
    struct addrinfo hints, *list = NULL, *ai;
    int64_t t0 = mono_ms(), deadline = t0 + timeout_ms;
    int rc, e = ECONNREFUSED;

    memset(o, 0, sizeof *o);
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    /* Name resolution is not bounded by the timeout (getaddrinfo cannot be). */
    rc = getaddrinfo(host, port, &hints, &list);
    if (rc != 0) {
        o->latency_ms = mono_ms() - t0;
        o->transport = HC_OTHER_ERROR;
        snprintf(err, errlen, "cannot resolve %s: %s", host, gai_strerror(rc));
        o->error = err;
        return;
    }
    /* Each address in turn, within the one deadline. */
    for (ai = list; ai; ai = ai->ai_next) {
        e = connect_one(ai, deadline);
        if (e == 0 || e == ETIMEDOUT)
            break;
    }
    freeaddrinfo(list);
    o->latency_ms = mono_ms() - t0;
    if (e == 0) {
        o->transport = HC_ANSWERED;
    } else if (e == ETIMEDOUT) {
        o->transport = HC_TIMED_OUT;
    } else if (e == ECONNREFUSED) {
        o->transport = HC_REFUSED;
    } else {
        o->transport = HC_OTHER_ERROR;
        snprintf(err, errlen, "cannot connect: %s", strerror(e));
        o->error = err;
    }
}
