/* fields.c: see fields.h. */
#define _POSIX_C_SOURCE 200809L
#include "fields.h"

#include <string.h>

int fields_one_of(const char *s, const char *const *set)
{
    for (; s && *set; set++)
        if (strcmp(s, *set) == 0)
            return 1;
    return 0;
}

const char *fields_str(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

void fields_only(struct peer *p, json_t *o, const char *where, const char *const *known)
{
    const char *key;
    json_t *v;

    json_object_foreach(o, key, v)
        if (!fields_one_of(key, known))
            peer_violate(p, "%s%s is not a known field", where, key);
}

void fields_string(struct peer *p, json_t *o, const char *where, const char *key, int required,
                   size_t max, size_t (*length)(const char *))
{
    json_t *v = json_object_get(o, key);

    if (!v) {
        if (required)
            peer_violate(p, "%s%s is missing", where, key);
        return;
    }
    if (!json_is_string(v)) {
        peer_violate(p, "%s%s is not a string", where, key);
        return;
    }
    if (required && json_string_length(v) == 0)
        peer_violate(p, "%s%s is empty", where, key);
    if (max && length(json_string_value(v)) > max)
        peer_violate(p, "%s%s has %zu characters, over %zu", where, key,
                     length(json_string_value(v)), max);
}
