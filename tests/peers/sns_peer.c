/* sns_peer.c: see sns_peer.h. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sns_peer.h"

struct sns_peer {
    struct MHD_Daemon *mhd;
    int port;
    char *tls_cert, *tls_key, *signing_cert;
    pthread_mutex_t lock;
    int cert_gets, confirms;
    char token[256];
};

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long n;

    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0 &&
        (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *body,
                             const char *type)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(strlen(body), (void *)body, MHD_RESPMEM_MUST_COPY);
    enum MHD_Result rc;

    MHD_add_response_header(r, "Content-Type", type);
    rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *data,
                               size_t *size, void **ctx)
{
    struct sns_peer *p = cls;
    const char *action, *token;

    (void)version;
    (void)data;
    (void)size;
    if (!*ctx) { /* headers only so far */
        *ctx = p;
        return MHD_YES;
    }
    if (strcmp(method, "GET") != 0)
        return reply(conn, 405, "only GET", "text/plain");
    if (strncmp(url, "/SimpleNotificationService-", 27) == 0) {
        pthread_mutex_lock(&p->lock);
        p->cert_gets++;
        pthread_mutex_unlock(&p->lock);
        return reply(conn, 200, p->signing_cert, "application/x-x509-ca-cert");
    }
    action = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "Action");
    token = MHD_lookup_connection_value(conn, MHD_GET_ARGUMENT_KIND, "Token");
    if (strcmp(url, "/") == 0 && action && strcmp(action, "ConfirmSubscription") == 0 && token) {
        pthread_mutex_lock(&p->lock);
        p->confirms++;
        snprintf(p->token, sizeof p->token, "%s", token);
        pthread_mutex_unlock(&p->lock);
        return reply(conn, 200,
                     "<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/"
                     "2010-03-31/\"><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:"
                     "us-east-1:123456789012:ops-alarms:c9135db0</SubscriptionArn>"
                     "</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>",
                     "text/xml");
    }
    return reply(conn, 404, "not found", "text/plain");
}

static int listen_loopback(int *port)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof sa;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    if (fd < 0)
        return -1;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(fd, (struct sockaddr *)&sa, sizeof sa) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) != 0) {
        close(fd);
        return -1;
    }
    *port = ntohs(sa.sin_port);
    return fd;
}

struct sns_peer *sns_peer_start(const char *tls_cert, const char *tls_key,
                                const char *signing_cert)
{
    struct sns_peer *p = calloc(1, sizeof *p);
    int fd;

    if (!p)
        return NULL;
    pthread_mutex_init(&p->lock, NULL);
    p->tls_cert = slurp(tls_cert);
    p->tls_key = slurp(tls_key);
    p->signing_cert = slurp(signing_cert);
    if (!p->tls_cert || !p->tls_key || !p->signing_cert) {
        fprintf(stderr, "sns_peer: cannot read %s, %s or %s\n", tls_cert, tls_key, signing_cert);
        sns_peer_free(p);
        return NULL;
    }
    if ((fd = listen_loopback(&p->port)) < 0) {
        fprintf(stderr, "sns_peer: cannot listen on 127.0.0.1\n");
        sns_peer_free(p);
        return NULL;
    }
    p->mhd = MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_THREAD_PER_CONNECTION |
                                  MHD_USE_TLS,
                              0, NULL, NULL, handler, p, MHD_OPTION_LISTEN_SOCKET, fd,
                              MHD_OPTION_HTTPS_MEM_CERT, p->tls_cert, MHD_OPTION_HTTPS_MEM_KEY,
                              p->tls_key, MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30,
                              MHD_OPTION_END);
    if (!p->mhd) {
        close(fd);
        fprintf(stderr, "sns_peer: MHD_start_daemon with TLS failed\n");
        sns_peer_free(p);
        return NULL;
    }
    return p;
}

void sns_peer_free(struct sns_peer *p)
{
    if (!p)
        return;
    if (p->mhd)
        MHD_stop_daemon(p->mhd);
    free(p->tls_cert);
    free(p->tls_key);
    free(p->signing_cert);
    pthread_mutex_destroy(&p->lock);
    free(p);
}

int sns_peer_port(const struct sns_peer *p)
{
    return p->port;
}

int sns_peer_cert_gets(struct sns_peer *p)
{
    int n;

    pthread_mutex_lock(&p->lock);
    n = p->cert_gets;
    pthread_mutex_unlock(&p->lock);
    return n;
}

int sns_peer_confirms(struct sns_peer *p)
{
    int n;

    pthread_mutex_lock(&p->lock);
    n = p->confirms;
    pthread_mutex_unlock(&p->lock);
    return n;
}

void sns_peer_last_token(struct sns_peer *p, char *buf, unsigned len)
{
    pthread_mutex_lock(&p->lock);
    snprintf(buf, len, "%s", p->token);
    pthread_mutex_unlock(&p->lock);
}
