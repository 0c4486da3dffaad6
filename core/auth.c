/* auth.c: API tokens with roles and inputs' own credentials. Only SHA-256
 * digests are kept, and a presented credential is compared with every one
 * of them in full (CRYPTO_memcmp on equal-length digests): neither the
 * time taken nor an early exit tells a caller how close it came. */
#define _GNU_SOURCE
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/sha.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth.h"
#include "config.h"

struct digest {
    unsigned char d[SHA256_DIGEST_LENGTH];
};

struct api_token {
    struct digest token;
    enum tc_role role;
    char *name;
};

struct input_creds {
    char *id;
    int has_bearer, has_basic;
    struct digest bearer, user, password;
    char *user_name;
};

struct tc_auth {
    int enabled;
    struct api_token *tokens;
    size_t n_tokens;
    struct input_creds *inputs;
    size_t n_inputs;
};

static void digest_of(const void *s, size_t len, struct digest *out)
{
    SHA256(s, len, out->d);
}

static int digest_eq(const struct digest *a, const struct digest *b)
{
    return CRYPTO_memcmp(a->d, b->d, sizeof a->d) == 0;
}

struct tc_auth *tc_auth_new(const struct tc_config *cfg)
{
    struct tc_auth *a = calloc(1, sizeof *a);
    size_t i;

    if (!a)
        return NULL;
    a->enabled = cfg->daemon.auth;
    a->tokens = calloc(cfg->daemon.n_tokens + 1, sizeof *a->tokens);
    a->inputs = calloc(cfg->n_inputs + 1, sizeof *a->inputs);
    if (!a->tokens || !a->inputs)
        goto fail;
    for (i = 0; i < cfg->daemon.n_tokens; i++) {
        const struct tc_api_token *t = &cfg->daemon.tokens[i];

        digest_of(t->token, strlen(t->token), &a->tokens[i].token);
        a->tokens[i].role = t->role;
        if (!(a->tokens[i].name = strdup(t->name)))
            goto fail;
        a->n_tokens++;
    }
    for (i = 0; i < cfg->n_inputs; i++) {
        const struct tc_instance_conf *in = &cfg->inputs[i];
        struct input_creds *c = &a->inputs[a->n_inputs];

        if (!in->id)
            continue;
        if (!(c->id = strdup(in->id)))
            goto fail;
        a->n_inputs++;
        if (in->bearer_token) {
            c->has_bearer = 1;
            digest_of(in->bearer_token, strlen(in->bearer_token), &c->bearer);
        }
        if (in->basic_user && in->basic_password) {
            c->has_basic = 1;
            digest_of(in->basic_user, strlen(in->basic_user), &c->user);
            digest_of(in->basic_password, strlen(in->basic_password), &c->password);
            if (!(c->user_name = strdup(in->basic_user)))
                goto fail;
        }
    }
    return a;
fail:
    tc_auth_free(a);
    return NULL;
}

void tc_auth_free(struct tc_auth *a)
{
    size_t i;

    if (!a)
        return;
    for (i = 0; i < a->n_tokens; i++)
        free(a->tokens[i].name);
    for (i = 0; i < a->n_inputs; i++) {
        free(a->inputs[i].id);
        free(a->inputs[i].user_name);
    }
    OPENSSL_cleanse(a->tokens, a->n_tokens * sizeof *a->tokens);
    OPENSSL_cleanse(a->inputs, a->n_inputs * sizeof *a->inputs);
    free(a->tokens);
    free(a->inputs);
    free(a);
}

int tc_auth_enabled(const struct tc_auth *a)
{
    return a && a->enabled;
}

/* What an Authorization header presents. */
struct presented {
    enum { P_NONE, P_BEARER, P_BASIC, P_OTHER } kind;
    struct digest secret;   /* the bearer token, or the basic password */
    struct digest user;     /* basic */
};

static const char *skip_spaces(const char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    return s;
}

/* Base64 of "user:password" (RFC 7617); 0 when it is not. */
static int parse_basic(const char *b64, size_t len, struct presented *p)
{
    unsigned char *raw;
    int n;
    size_t pad = 0;
    char *colon;

    if (len == 0 || len % 4 != 0 || len > 4096)
        return 0;
    raw = malloc(len / 4 * 3 + 1);
    if (!raw)
        return 0;
    n = EVP_DecodeBlock(raw, (const unsigned char *)b64, (int)len);
    if (n < 0) {
        free(raw);
        return 0;
    }
    /* EVP_DecodeBlock counts padding as zero bytes. */
    while (pad < 2 && b64[len - 1 - pad] == '=')
        pad++;
    n -= (int)pad;
    raw[n] = '\0';
    colon = memchr(raw, ':', (size_t)n);
    if (!colon) {
        OPENSSL_cleanse(raw, (size_t)n);
        free(raw);
        return 0;
    }
    digest_of(raw, (size_t)(colon - (char *)raw), &p->user);
    digest_of(colon + 1, (size_t)n - (size_t)(colon + 1 - (char *)raw), &p->secret);
    OPENSSL_cleanse(raw, (size_t)n);
    free(raw);
    p->kind = P_BASIC;
    return 1;
}

static void parse_authorization(const char *h, struct presented *p)
{
    const char *sp, *cred, *end;

    memset(p, 0, sizeof *p);
    if (!h)
        return;
    h = skip_spaces(h);
    sp = strpbrk(h, " \t");
    if (!sp) {
        p->kind = P_OTHER;
        return;
    }
    cred = skip_spaces(sp);
    end = cred + strlen(cred);
    while (end > cred && (end[-1] == ' ' || end[-1] == '\t'))
        end--;
    p->kind = P_OTHER;
    if ((size_t)(sp - h) == 6 && strncasecmp(h, "Bearer", 6) == 0 && end > cred) {
        digest_of(cred, (size_t)(end - cred), &p->secret);
        p->kind = P_BEARER;
    } else if ((size_t)(sp - h) == 5 && strncasecmp(h, "Basic", 5) == 0) {
        if (!parse_basic(cred, (size_t)(end - cred), p))
            p->kind = P_OTHER;
    }
}

static int is_read(const char *method)
{
    return strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
}

static void set_who(char *who, size_t wholen, const char *name)
{
    if (who && wholen)
        snprintf(who, wholen, "%s", name);
}

static enum tc_auth_result check_api(const struct tc_auth *a, const struct presented *p,
                                     enum tc_role need, char *who, size_t wholen)
{
    const struct api_token *match = NULL;
    size_t i;

    if (!a->enabled)
        return TC_AUTH_OK;
    if (p->kind != P_BEARER)
        return TC_AUTH_UNAUTHORIZED;
    for (i = 0; i < a->n_tokens; i++)
        if (digest_eq(&p->secret, &a->tokens[i].token) && !match)
            match = &a->tokens[i];
    if (!match)
        return TC_AUTH_UNAUTHORIZED;
    set_who(who, wholen, match->name);
    return match->role >= need ? TC_AUTH_OK : TC_AUTH_FORBIDDEN;
}

static const struct input_creds *input_of(const struct tc_auth *a, const char *id)
{
    size_t i;

    for (i = 0; id && i < a->n_inputs; i++)
        if (strcmp(a->inputs[i].id, id) == 0)
            return &a->inputs[i];
    return NULL;
}

enum tc_auth_result tc_auth_check(const struct tc_auth *a, enum tc_gate gate,
                                  const char *input, const char *method,
                                  const char *authorization, char *who, size_t wholen)
{
    const struct input_creds *c;
    struct presented p;
    enum tc_auth_result r;

    set_who(who, wholen, "");
    if (gate == TC_GATE_OPEN || gate == TC_GATE_SELF)
        return TC_AUTH_OK;
    parse_authorization(authorization, &p);
    if (gate == TC_GATE_API) {
        r = check_api(a, &p, is_read(method) ? TC_ROLE_READ : TC_ROLE_WRITE, who, wholen);
    } else if ((c = input_of(a, input)) && (c->has_bearer || c->has_basic)) {
        /* Both halves of basic are compared, whatever the first says. */
        int user_ok = digest_eq(&p.user, &c->user), pass_ok = digest_eq(&p.secret, &c->password);

        r = TC_AUTH_UNAUTHORIZED;
        if (p.kind == P_BEARER && c->has_bearer && digest_eq(&p.secret, &c->bearer)) {
            set_who(who, wholen, "input token");
            r = TC_AUTH_OK;
        } else if (p.kind == P_BASIC && c->has_basic && (user_ok & pass_ok)) {
            set_who(who, wholen, c->user_name);
            r = TC_AUTH_OK;
        }
    } else {
        /* An input without credentials of its own takes the API's write
         * tokens: with daemon.auth set, nobody posts alerts anonymously. */
        r = check_api(a, &p, TC_ROLE_WRITE, who, wholen);
    }
    OPENSSL_cleanse(&p, sizeof p);
    return r;
}

const char *tc_auth_challenge(const struct tc_auth *a, enum tc_gate gate, const char *input)
{
    const struct input_creds *c = gate == TC_GATE_INPUT ? input_of(a, input) : NULL;

    if (c && c->has_basic && c->has_bearer)
        return "Bearer realm=\"tocsin\", Basic realm=\"tocsin\"";
    if (c && c->has_basic)
        return "Basic realm=\"tocsin\"";
    return "Bearer realm=\"tocsin\"";
}
