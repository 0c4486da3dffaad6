/* parse.h: the native alert schema (common.h, tc_alert_from_json) as the
 * `generic` input receives it: one alert object or an array of them, all
 * or nothing; and the JSON answers. Pure: no I/O, no clock. */
#ifndef TC_GENERIC_PARSE_H
#define TC_GENERIC_PARSE_H

#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

struct tc_alert;

struct gen_batch {
    /* Set when gen_parse returned TOCSIN_EINVAL: "malformed JSON", "body
     * must be a JSON alert object or an array of them" or "invalid alert",
     * and where: "line 1 column 3: ..." / "alert 0: \"summary\" is required". */
    const char *error;
    char detail[320];

    /* All alerts of the body, contiguous for host->emit(); only when the
     * whole body is valid (a native client fixes and resends the batch). */
    struct tocsin_alert *alerts;
    size_t n_alerts;

    /* Private: what the alerts point into. */
    void *root;               /* the parsed json_t */
    struct tc_alert *parsed;  /* one per alert */
};

/* Parse a request body; now_ms is the default ended_at of resolved alerts.
 * Returns TOCSIN_OK, TOCSIN_EINVAL (error and detail set, no alerts) or
 * TOCSIN_ENOMEM. Always release with gen_batch_free(). */
int gen_parse(const char *body, size_t len, int64_t now_ms, struct gen_batch *out);
void gen_batch_free(struct gen_batch *b);

/* {"accepted": n} as malloc()ed JSON text (errors use tc_error_json). */
char *gen_accepted_body(size_t n);

#endif
