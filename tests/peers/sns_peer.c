/* sns_peer.c: see sns_peer.h. A provider on a test peer (peer.h) that
 * serves HTTPS. */
#define _GNU_SOURCE
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "peer.h"
#include "sns_peer.h"

struct sns_peer {
    struct peer *peer; /* serves HTTPS, records the requests */
    char *signing_cert;
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

static const char *query(const struct peer_req *r, const char *name)
{
    return json_string_value(json_object_get(r->query, name));
}

static int is_cert_get(const struct peer_req *r)
{
    return strcmp(r->method, "GET") == 0 &&
           strncmp(r->path, "/SimpleNotificationService-", 27) == 0;
}

static int is_confirm(const struct peer_req *r)
{
    const char *action = query(r, "Action");

    return strcmp(r->method, "GET") == 0 && !is_cert_get(r) && strcmp(r->path, "/") == 0 &&
           action && strcmp(action, "ConfirmSubscription") == 0 && query(r, "Token");
}

/* The peer's answer hook (under its lock). */
static void answer(void *ctx, struct peer *peer, struct peer_req *r, struct peer_answer *a)
{
    struct sns_peer *p = ctx;
    const char *body = "not found";

    (void)peer;
    a->status = 404;
    a->reply.type = "text/plain";
    if (strcmp(r->method, "GET") != 0) {
        a->status = 405;
        body = "only GET";
    } else if (is_cert_get(r)) {
        a->status = 200;
        a->reply.type = "application/x-x509-ca-cert";
        body = p->signing_cert;
    } else if (is_confirm(r)) {
        a->status = 200;
        a->reply.type = "text/xml";
        body = "<ConfirmSubscriptionResponse xmlns=\"http://sns.amazonaws.com/doc/"
               "2010-03-31/\"><ConfirmSubscriptionResult><SubscriptionArn>arn:aws:sns:"
               "us-east-1:123456789012:ops-alarms:c9135db0</SubscriptionArn>"
               "</ConfirmSubscriptionResult></ConfirmSubscriptionResponse>";
    }
    a->reply.body = strdup(body);
}

struct sns_peer *sns_peer_start(const char *tls_cert, const char *tls_key,
                                const char *signing_cert)
{
    struct sns_peer *p = calloc(1, sizeof *p);
    char *cert = slurp(tls_cert), *key = slurp(tls_key);
    int ok = 0;

    if (p) {
        p->peer = peer_new();
        p->signing_cert = slurp(signing_cert);
    }
    if (p && (!cert || !key || !p->signing_cert))
        fprintf(stderr, "sns_peer: cannot read %s, %s or %s\n", tls_cert, tls_key, signing_cert);
    else if (p && p->peer && peer_set_tls(p->peer, cert, key) == 0) {
        peer_set_answer(p->peer, answer, NULL, p);
        ok = peer_start(p->peer) == 0;
    }
    free(cert);
    free(key);
    if (!ok) {
        sns_peer_free(p);
        return NULL;
    }
    return p;
}

void sns_peer_free(struct sns_peer *p)
{
    if (!p)
        return;
    peer_free(p->peer);
    free(p->signing_cert);
    free(p);
}

int sns_peer_port(const struct sns_peer *p)
{
    return peer_port(p->peer);
}

/* The counts are the peer's records, read again. */
static int count(struct sns_peer *p, int (*match)(const struct peer_req *))
{
    size_t i, n = peer_count(p->peer);
    int seen = 0;

    for (i = 0; i < n; i++)
        seen += match(peer_get(p->peer, i));
    return seen;
}

int sns_peer_cert_gets(struct sns_peer *p)
{
    return count(p, is_cert_get);
}

int sns_peer_confirms(struct sns_peer *p)
{
    return count(p, is_confirm);
}

void sns_peer_last_token(struct sns_peer *p, char *buf, unsigned len)
{
    size_t i = peer_count(p->peer);
    const char *token = "";

    while (i-- > 0) {
        const struct peer_req *r = peer_get(p->peer, i);

        if (is_confirm(r)) {
            token = query(r, "Token");
            break;
        }
    }
    snprintf(buf, len, "%s", token);
}
