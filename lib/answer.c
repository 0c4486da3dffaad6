/* answer.c: the error answers HTTP endpoints share, so every input and
 * the core say "busy", "shutting down" and "bad request" the same way. */
#include <ctype.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "common.h"

char *tc_error_json(const char *error, const char *detail)
{
    json_t *o = json_object();
    char *s;

    if (!o)
        return NULL;
    json_object_set_new(o, "error", tc_json_string(error));
    if (detail)
        json_object_set_new(o, "detail", tc_json_string(detail));
    s = json_dumps(o, JSON_COMPACT);
    json_decref(o);
    return s;
}

int tc_emit_answer(struct tocsin_http_response *resp, int rc, const char *err)
{
    const char *detail = err && *err ? err : NULL;

    switch (rc) {
    case TOCSIN_EINVAL:
        return -1; /* the input explains its own 400 */
    case TOCSIN_EBUSY:
        /* A sender retrying after a second finds room: the queue drains
         * in milliseconds once the store keeps up. */
        resp->status = 503;
        resp->retry_after = 1;
        resp->body = tc_error_json("intake queue full", NULL);
        break;
    case TOCSIN_ESHUTDOWN:
        resp->status = 503;
        resp->body = tc_error_json("shutting down", NULL);
        break;
    case TOCSIN_ENOMEM:
        resp->status = 500;
        resp->body = tc_error_json("out of memory", NULL);
        break;
    default:
        resp->status = 500;
        resp->body = tc_error_json("storing alerts failed", detail);
        break;
    }
    return 0;
}

const char *tc_media_type(const char *content_type, char *buf, size_t len)
{
    size_t n, i;

    if (!content_type)
        content_type = "application/octet-stream";
    while (*content_type == ' ' || *content_type == '\t')
        content_type++;
    n = strcspn(content_type, "; \t");
    if (len == 0)
        return "";
    for (i = 0; i < n && i + 1 < len; i++)
        buf[i] = (char)tolower((unsigned char)content_type[i]);
    buf[i] = '\0';
    return buf;
}

int tc_is_json_type(const char *content_type)
{
    char type[32];

    return content_type &&
           strcmp(tc_media_type(content_type, type, sizeof type), "application/json") == 0;
}
