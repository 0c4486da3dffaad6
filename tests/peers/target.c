/* target.c: the probe target of the healthcheck tests (see target.h).
 * One thread serves one connection at a time and makes every change of
 * behaviour itself, so no socket is closed under another thread's poll. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "target.h"
#include "peer.h"

enum mode { M_SERVE, M_HANG, M_REFUSE, M_BLACKHOLE };

#define HELD_MAX 64

struct target {
    pthread_t thread;
    pthread_mutex_t lock;
    pthread_cond_t changed;
    int port, lfd, hold_fd, stop;
    enum mode mode, want;
    int status, delay_ms;
    char body[512];
    int held[HELD_MAX]; /* hung requests, or the connections filling the queue */
    int n_held;
    size_t connections;
    char method[16];
};

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

    nanosleep(&ts, NULL);
}

static int bind_to(int port, int do_listen)
{
    struct sockaddr_in sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)port);
    /* A backlog of 1: a few connections fill the queue (blackhole). */
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) < 0 || (do_listen && listen(fd, 1) < 0)) {
        close(fd);
        return -1;
    }
    return fd;
}

static void release_held(struct target *t)
{
    while (t->n_held > 0)
        close(t->held[--t->n_held]);
}

/* Connects to ourselves until one connect gets no answer: the accept
 * queue is full and the kernel drops further SYNs. */
static void fill_queue(struct target *t)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    sa.sin_port = htons((unsigned short)t->port);
    while (t->n_held < HELD_MAX) {
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        struct pollfd p = { fd, POLLOUT, 0 };

        if (fd < 0)
            return;
        t->held[t->n_held++] = fd;
        if (connect(fd, (struct sockaddr *)&sa, sizeof sa) == 0)
            continue;
        if (errno != EINPROGRESS || poll(&p, 1, 200) == 0)
            return; /* this one hangs: so will the next */
    }
}

/* Makes t->want the behaviour (lock held). */
static void apply(struct target *t)
{
    release_held(t);
    if (t->want == M_REFUSE && t->lfd >= 0) {
        close(t->lfd);
        t->lfd = -1;
        t->hold_fd = bind_to(t->port, 0); /* bound, not listening: refused */
    } else if (t->want != M_REFUSE && t->lfd < 0) {
        if (t->hold_fd >= 0)
            close(t->hold_fd);
        t->hold_fd = -1;
        t->lfd = bind_to(t->port, 1);
    }
    if (t->want == M_BLACKHOLE)
        fill_queue(t);
    t->mode = t->want;
    pthread_cond_broadcast(&t->changed);
}

/* Reads the request head (up to 500 ms); its method into t->method. 0
 * when a request came, -1 for a bare connect. */
static int read_request(struct target *t, int fd)
{
    char buf[8192];
    size_t len = 0;

    while (len < sizeof buf - 1) {
        struct pollfd p = { fd, POLLIN, 0 };
        ssize_t n;

        if (poll(&p, 1, 500) <= 0)
            break;
        n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        if (strstr(buf, "\r\n\r\n"))
            break;
    }
    if (len == 0)
        return -1;
    buf[len] = '\0';
    pthread_mutex_lock(&t->lock);
    snprintf(t->method, sizeof t->method, "%.*s", (int)strcspn(buf, " "), buf);
    pthread_mutex_unlock(&t->lock);
    return 0;
}

static void answer(struct target *t, int fd)
{
    char head[256], body[512], method[16];
    int status, delay, n;

    pthread_mutex_lock(&t->lock);
    status = t->status;
    delay = t->delay_ms;
    snprintf(body, sizeof body, "%s", t->body);
    snprintf(method, sizeof method, "%s", t->method);
    pthread_mutex_unlock(&t->lock);
    if (delay > 0)
        sleep_ms(delay);
    n = snprintf(head, sizeof head, "HTTP/1.1 %d Test\r\nContent-Type: text/plain\r\n"
                 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, strlen(body));
    if (write(fd, head, (size_t)n) < 0)
        return;
    /* HEAD: the length of the body that a GET would get, and no body. */
    if (strcmp(method, "HEAD") != 0 && write(fd, body, strlen(body)) < 0)
        return;
}

static void *serve(void *arg)
{
    struct target *t = arg;

    pthread_mutex_lock(&t->lock);
    while (!t->stop) {
        struct pollfd p;
        int fd;

        if (t->want != t->mode)
            apply(t);
        if (t->lfd < 0 || t->mode == M_BLACKHOLE) {
            pthread_mutex_unlock(&t->lock);
            sleep_ms(20);
            pthread_mutex_lock(&t->lock);
            continue;
        }
        p = (struct pollfd){ t->lfd, POLLIN, 0 };
        pthread_mutex_unlock(&t->lock);
        fd = poll(&p, 1, 20) == 1 ? accept4(p.fd, NULL, NULL, SOCK_CLOEXEC) : -1;
        if (fd >= 0) {
            int req = read_request(t, fd);

            pthread_mutex_lock(&t->lock);
            t->connections++;
            pthread_cond_broadcast(&t->changed);
            if (req == 0 && t->mode == M_HANG && t->n_held < HELD_MAX) {
                t->held[t->n_held++] = fd; /* never answered */
                fd = -1;
            }
            pthread_mutex_unlock(&t->lock);
            if (fd >= 0 && req == 0)
                answer(t, fd);
            if (fd >= 0)
                close(fd);
        }
        pthread_mutex_lock(&t->lock);
    }
    release_held(t);
    pthread_mutex_unlock(&t->lock);
    return NULL;
}

struct target *target_start(void)
{
    struct target *t = calloc(1, sizeof *t);
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;

    if (!t)
        return NULL;
    pthread_mutex_init(&t->lock, NULL);
    pthread_cond_init(&t->changed, NULL);
    t->hold_fd = -1;
    t->status = 200;
    snprintf(t->body, sizeof t->body, "ok");
    t->lfd = bind_to(0, 1);
    if (t->lfd >= 0 && getsockname(t->lfd, (struct sockaddr *)&sa, &len) == 0) {
        t->port = ntohs(sa.sin_port);
        if (pthread_create(&t->thread, NULL, serve, t) == 0)
            return t;
    }
    if (t->lfd >= 0)
        close(t->lfd);
    free(t);
    return NULL;
}

void target_free(struct target *t)
{
    if (!t)
        return;
    pthread_mutex_lock(&t->lock);
    t->stop = 1;
    pthread_mutex_unlock(&t->lock);
    pthread_join(t->thread, NULL);
    if (t->lfd >= 0)
        close(t->lfd);
    if (t->hold_fd >= 0)
        close(t->hold_fd);
    pthread_mutex_destroy(&t->lock);
    pthread_cond_destroy(&t->changed);
    free(t);
}

int target_port(const struct target *t)
{
    return t->port;
}

static void become(struct target *t, enum mode m)
{
    pthread_mutex_lock(&t->lock);
    t->want = m;
    while (t->mode != m || t->want != m)
        pthread_cond_wait(&t->changed, &t->lock);
    pthread_mutex_unlock(&t->lock);
}

void target_answer(struct target *t, int status, const char *body, int delay_ms)
{
    pthread_mutex_lock(&t->lock);
    t->status = status;
    t->delay_ms = delay_ms;
    snprintf(t->body, sizeof t->body, "%s", body ? body : "");
    pthread_mutex_unlock(&t->lock);
    become(t, M_SERVE);
}

void target_hang(struct target *t)
{
    become(t, M_HANG);
}

void target_refuse(struct target *t)
{
    become(t, M_REFUSE);
}

void target_blackhole(struct target *t)
{
    become(t, M_BLACKHOLE);
}

size_t target_connections(struct target *t)
{
    size_t n;

    pthread_mutex_lock(&t->lock);
    n = t->connections;
    pthread_mutex_unlock(&t->lock);
    return n;
}

size_t target_wait_connections(struct target *t, size_t n, int timeout_ms)
{
    struct timespec until;
    size_t seen;

    peer_deadline(&until, timeout_ms);
    pthread_mutex_lock(&t->lock);
    while (t->connections < n &&
           pthread_cond_timedwait(&t->changed, &t->lock, &until) == 0)
        ;
    seen = t->connections;
    pthread_mutex_unlock(&t->lock);
    return seen;
}

void target_last_method(struct target *t, char *buf, size_t len)
{
    pthread_mutex_lock(&t->lock);
    snprintf(buf, len, "%s", t->method);
    pthread_mutex_unlock(&t->lock);
}
