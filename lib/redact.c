/* redact.c: a secret taken out of text a provider sent back, before the
 * text becomes a verdict's reason (the timeline, the log, the API). */
#include <stdio.h>
#include <string.h>

#include "common.h"

void tc_redact(char *text, size_t size, const char *secret, const char *mark)
{
    size_t n = secret ? strlen(secret) : 0, m = strlen(mark), len, k;
    char *hit, *from = text;

    if (n == 0 || size == 0)
        return;
    while ((hit = strstr(from, secret)) != NULL) {
        if (n < m) { /* the mark would not fit where the secret was */
            memset(hit, '*', n);
            from = hit + n;
            continue;
        }
        memmove(hit + m, hit + n, strlen(hit + n) + 1);
        memcpy(hit, mark, m);
        from = hit + m;
    }
    /* Text cut short may end in the secret's first characters. */
    len = strlen(text);
    for (k = n - 1 < len ? n - 1 : len; k >= 8; k--) {
        if (memcmp(text + len - k, secret, k) == 0) {
            snprintf(text + len - k, size - (len - k), "\xe2\x80\xa6");
            break;
        }
    }
}
