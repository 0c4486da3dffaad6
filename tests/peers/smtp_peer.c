/* smtp_peer.c: see smtp_peer.h. The server is a child process; every one
 * started is killed at exit, whatever becomes of the test. */
#define _GNU_SOURCE
#include "smtp_peer.h"

#include <check.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAX_MSGS 64
#define MAX_PEERS 8

struct smtp_peer {
    char dir[1024];
    char ca[1100];
    pid_t pid;
    int port;
    json_t *msgs[MAX_MSGS];
    size_t n_msgs;
};

static pid_t children[MAX_PEERS];

static void kill_children(void)
{
    size_t i;

    for (i = 0; i < MAX_PEERS; i++)
        if (children[i] > 0) {
            kill(children[i], SIGTERM);
            waitpid(children[i], NULL, 0);
            children[i] = 0;
        }
}

static void track(pid_t pid)
{
    static int registered;
    size_t i;

    if (!registered) {
        atexit(kill_children);
        registered = 1;
    }
    for (i = 0; i < MAX_PEERS; i++)
        if (children[i] == 0) {
            children[i] = pid;
            return;
        }
    ck_abort_msg("more than %d SMTP peers", MAX_PEERS);
}

static void untrack(pid_t pid)
{
    size_t i;

    for (i = 0; i < MAX_PEERS; i++)
        if (children[i] == pid)
            children[i] = 0;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    char *s;
    long n;

    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    rewind(f);
    s = calloc(1, (size_t)n + 1);
    if (s && fread(s, 1, (size_t)n, f) != (size_t)n) {
        free(s);
        s = NULL;
    }
    fclose(f);
    return s;
}

int smtp_peer_available(void)
{
    return system("/usr/bin/python3 -c 'import aiosmtpd' 2>/dev/null") == 0;
}

/* A CA, and a certificate for 127.0.0.1 and localhost that it signed. */
static void make_certs(const char *dir)
{
    char cmd[8192], ext[1100];
    FILE *f;

    snprintf(ext, sizeof ext, "%s/server.ext", dir);
    f = fopen(ext, "w");
    ck_assert_ptr_nonnull(f);
    fputs("subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n"
          "keyUsage=critical,digitalSignature\nextendedKeyUsage=serverAuth\n", f);
    fclose(f);
    snprintf(cmd, sizeof cmd,
             "cd '%s' && "
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2"
             " -subj '/CN=tocsin test CA' -addext basicConstraints=critical,CA:TRUE"
             " -addext keyUsage=critical,keyCertSign,cRLSign -keyout ca.key -out ca.pem &&"
             " openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes"
             " -subj /CN=127.0.0.1 -keyout server.key -out server.csr &&"
             " openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial"
             " -days 2 -extfile server.ext -out server.pem",
             dir);
    strcat(cmd, " >openssl.log 2>&1");
    ck_assert_msg(system(cmd) == 0, "openssl could not make the test CA (is it installed?); "
                                    "see %s/openssl.log", dir);
}

struct smtp_peer *smtp_peer_start(const char *dir, const struct smtp_peer_opts *o)
{
    struct smtp_peer *p = calloc(1, sizeof *p);
    const char *src = getenv("TOCSIN_SRCDIR");
    char script[1200], port_file[1100], cert[1100], key[1100], auth[256], *text = NULL;
    const char *argv[20];
    int64_t end;
    int k = 0;

    ck_assert_ptr_nonnull(p);
    ck_assert_msg(src != NULL, "TOCSIN_SRCDIR is not set (run through make check)");
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    ck_assert_msg(mkdir(dir, 0700) == 0 || errno == EEXIST, "mkdir %s: %s", dir,
                  strerror(errno));
    snprintf(script, sizeof script, "%s/tests/peers/smtp_peer.py", src);
    snprintf(port_file, sizeof port_file, "%s/port", dir);
    snprintf(p->ca, sizeof p->ca, "%s/ca.pem", dir);
    snprintf(cert, sizeof cert, "%s/server.pem", dir);
    snprintf(key, sizeof key, "%s/server.key", dir);
    unlink(port_file);

    argv[k++] = "python3";
    argv[k++] = script;
    argv[k++] = dir;
    if (o && (o->starttls || o->implicit_tls)) {
        make_certs(dir);
        argv[k++] = "--cert";
        argv[k++] = cert;
        argv[k++] = "--key";
        argv[k++] = key;
        argv[k++] = o->implicit_tls ? "--implicit-tls" : "--starttls";
    }
    if (o && o->require_tls)
        argv[k++] = "--require-tls";
    if (o && o->user) {
        snprintf(auth, sizeof auth, "%s:%s", o->user, o->password ? o->password : "");
        argv[k++] = "--auth";
        argv[k++] = auth;
    }
    if (o && o->auth_mech) {
        argv[k++] = "--auth-mech";
        argv[k++] = o->auth_mech;
    }
    argv[k] = NULL;

    p->pid = fork();
    ck_assert_int_ge(p->pid, 0);
    if (p->pid == 0) {
        execv("/usr/bin/python3", (char *const *)argv);
        _exit(127);
    }
    track(p->pid);
    for (end = mono_ms() + 15000; mono_ms() < end; usleep(20000)) {
        int status;

        if ((text = slurp(port_file)))
            break;
        ck_assert_msg(waitpid(p->pid, &status, WNOHANG) == 0,
                      "smtp_peer.py exited before listening (status %d)", status);
    }
    ck_assert_msg(text != NULL, "smtp_peer.py did not listen within 15 s");
    p->port = atoi(text);
    free(text);
    ck_assert_int_gt(p->port, 0);
    return p;
}

int smtp_peer_port(const struct smtp_peer *p)
{
    return p->port;
}

const char *smtp_peer_ca(const struct smtp_peer *p)
{
    return p->ca;
}

void smtp_peer_script(struct smtp_peer *p, const char *script)
{
    char path[1100], tmp[1200];
    FILE *f;

    snprintf(path, sizeof path, "%s/script", p->dir);
    snprintf(tmp, sizeof tmp, "%s/script.c.tmp", p->dir);
    f = fopen(tmp, "w");
    ck_assert_ptr_nonnull(f);
    fputs(script, f);
    ck_assert_int_eq(fclose(f), 0);
    ck_assert_int_eq(rename(tmp, path), 0);
}

/* Loads the summaries written since the last look. */
static void refresh(struct smtp_peer *p)
{
    char path[1100];

    while (p->n_msgs < MAX_MSGS) {
        json_error_t e;
        json_t *j;

        snprintf(path, sizeof path, "%s/msg-%04zu.json", p->dir, p->n_msgs + 1);
        if (access(path, F_OK) != 0)
            return;
        j = json_load_file(path, 0, &e);
        ck_assert_msg(j != NULL, "%s: %s", path, e.text);
        p->msgs[p->n_msgs++] = j;
    }
}

size_t smtp_peer_count(struct smtp_peer *p)
{
    refresh(p);
    return p->n_msgs;
}

size_t smtp_peer_wait(struct smtp_peer *p, size_t n, int timeout_ms)
{
    int64_t end = mono_ms() + timeout_ms;

    while (smtp_peer_count(p) < n && mono_ms() < end)
        usleep(20000);
    return p->n_msgs;
}

json_t *smtp_peer_get(struct smtp_peer *p, size_t i)
{
    refresh(p);
    return i < p->n_msgs ? p->msgs[i] : NULL;
}

const char *smtp_msg_header(json_t *msg, const char *name)
{
    json_t *h = json_object_get(msg, "headers"), *pair;
    size_t i;

    json_array_foreach(h, i, pair)
        if (strcasecmp(json_string_value(json_array_get(pair, 0)), name) == 0)
            return json_string_value(json_array_get(pair, 1));
    return NULL;
}

const char *smtp_msg_part(json_t *msg, const char *type)
{
    json_t *parts = json_object_get(msg, "parts"), *part;
    size_t i;

    json_array_foreach(parts, i, part)
        if (strcmp(json_string_value(json_object_get(part, "content_type")), type) == 0)
            return json_string_value(json_object_get(part, "text"));
    return NULL;
}

size_t smtp_peer_violations(struct smtp_peer *p)
{
    char path[1100], *text;
    size_t i, j, n = 0;

    refresh(p);
    for (i = 0; i < p->n_msgs; i++) {
        json_t *v = json_object_get(p->msgs[i], "violations"), *line;

        json_array_foreach(v, j, line) {
            fprintf(stderr, "smtp peer: message %zu: %s\n", i + 1, json_string_value(line));
            n++;
        }
    }
    snprintf(path, sizeof path, "%s/violations", p->dir);
    if ((text = slurp(path))) {
        char *s;

        for (s = text; *s; s++)
            if (*s == '\n')
                n++;
        fprintf(stderr, "smtp peer: %s", text);
        free(text);
    }
    return n;
}

void smtp_peer_stop(struct smtp_peer *p)
{
    if (p->pid > 0) {
        kill(p->pid, SIGTERM);
        waitpid(p->pid, NULL, 0);
        untrack(p->pid);
        p->pid = 0;
    }
}

void smtp_peer_free(struct smtp_peer *p)
{
    size_t i;

    if (!p)
        return;
    smtp_peer_stop(p);
    for (i = 0; i < p->n_msgs; i++)
        json_decref(p->msgs[i]);
    free(p);
}
