/* tests/abi/layout.h: every member and constant of plugin ABI 1.0, as
 * X-macro lists. layout_v1_0.c expands them against the frozen 1.0 header,
 * test_layout.c against today's, and compares: a 1.0 member that moved,
 * changed size or vanished, or a 1.0 constant that changed, breaks old
 * binaries. Like the frozen header, these lists never change. */
#ifndef TC_TEST_ABI_LAYOUT_H
#define TC_TEST_ABI_LAYOUT_H

#include <stddef.h>

#define TC_ABI_1_0_STRUCTS(S)                                                 \
    S(tocsin_kv) S(tocsin_alert) S(tocsin_notification) S(tocsin_verdict)     \
    S(tocsin_policy_result) S(tocsin_option) S(tocsin_strlist) S(tocsin_map)  \
    S(tocsin_http_request) S(tocsin_http_response) S(tocsin_http_call)        \
    S(tocsin_http_result) S(tocsin_host) S(tocsin_plugin)

#define TC_ABI_1_0_MEMBERS(M)                                                 \
    M(tocsin_kv, key) M(tocsin_kv, value)                                     \
    M(tocsin_alert, dedup_key) M(tocsin_alert, status) M(tocsin_alert, severity) \
    M(tocsin_alert, summary) M(tocsin_alert, details) M(tocsin_alert, source) \
    M(tocsin_alert, service) M(tocsin_alert, labels) M(tocsin_alert, n_labels) \
    M(tocsin_alert, annotations) M(tocsin_alert, n_annotations)               \
    M(tocsin_alert, links) M(tocsin_alert, n_links) M(tocsin_alert, started_at) \
    M(tocsin_alert, received_at) M(tocsin_alert, ended_at)                    \
    M(tocsin_alert, expires_at)                                               \
    M(tocsin_notification, sink_id) M(tocsin_notification, incident_id)       \
    M(tocsin_notification, action) M(tocsin_notification, alert)              \
    M(tocsin_notification, occurrences) M(tocsin_notification, first_seen)    \
    M(tocsin_notification, last_seen) M(tocsin_notification, actor)           \
    M(tocsin_notification, note) M(tocsin_notification, attempt)              \
    M(tocsin_notification, external_url) M(tocsin_notification, outbox_id)    \
    M(tocsin_verdict, kind) M(tocsin_verdict, retry_after) M(tocsin_verdict, reason) \
    M(tocsin_policy_result, decision) M(tocsin_policy_result, reason)         \
    M(tocsin_policy_result, core)                                             \
    M(tocsin_option, name) M(tocsin_option, type) M(tocsin_option, def)       \
    M(tocsin_option, flags) M(tocsin_option, offset) M(tocsin_option, description) \
    M(tocsin_strlist, n) M(tocsin_strlist, items)                             \
    M(tocsin_map, n) M(tocsin_map, items)                                     \
    M(tocsin_http_request, method) M(tocsin_http_request, path)               \
    M(tocsin_http_request, body) M(tocsin_http_request, body_len)             \
    M(tocsin_http_request, remote_addr) M(tocsin_http_request, header)        \
    M(tocsin_http_request, query) M(tocsin_http_request, core)                \
    M(tocsin_http_response, status) M(tocsin_http_response, body)             \
    M(tocsin_http_response, content_type) M(tocsin_http_response, retry_after) \
    M(tocsin_http_call, method) M(tocsin_http_call, url)                      \
    M(tocsin_http_call, headers) M(tocsin_http_call, body)                    \
    M(tocsin_http_call, body_len) M(tocsin_http_call, timeout_ms)             \
    M(tocsin_http_result, status) M(tocsin_http_result, body)                 \
    M(tocsin_http_result, body_len) M(tocsin_http_result, retry_after)        \
    M(tocsin_http_result, timed_out) M(tocsin_http_result, error)             \
    M(tocsin_host, size) M(tocsin_host, abi_major) M(tocsin_host, abi_minor)  \
    M(tocsin_host, instance_id) M(tocsin_host, external_url) M(tocsin_host, core) \
    M(tocsin_host, log) M(tocsin_host, fail) M(tocsin_host, now_ms)           \
    M(tocsin_host, emit) M(tocsin_host, route) M(tocsin_host, timer_add)      \
    M(tocsin_host, timer_cancel) M(tocsin_host, http) M(tocsin_host, http_free) \
    M(tocsin_host, http_verdict) M(tocsin_host, option) M(tocsin_host, state_get) \
    M(tocsin_host, state_put) M(tocsin_host, state_delete) M(tocsin_host, annotate) \
    M(tocsin_plugin, magic) M(tocsin_plugin, abi_major) M(tocsin_plugin, abi_minor) \
    M(tocsin_plugin, size) M(tocsin_plugin, kind) M(tocsin_plugin, name)      \
    M(tocsin_plugin, version) M(tocsin_plugin, description)                   \
    M(tocsin_plugin, options) M(tocsin_plugin, conf_size) M(tocsin_plugin, create) \
    M(tocsin_plugin, start) M(tocsin_plugin, stop) M(tocsin_plugin, destroy)  \
    M(tocsin_plugin, deliver) M(tocsin_plugin, evaluate)

#define TC_ABI_1_0_CONSTANTS(C)                                               \
    C(TOCSIN_PLUGIN_MAGIC) C(TOCSIN_ABI_MAJOR)                                \
    C(TOCSIN_OK) C(TOCSIN_ERROR) C(TOCSIN_ENOMEM) C(TOCSIN_EINVAL)            \
    C(TOCSIN_EBUSY) C(TOCSIN_EIO) C(TOCSIN_ESHUTDOWN) C(TOCSIN_ENOTSUP)       \
    C(TOCSIN_INPUT) C(TOCSIN_SINK) C(TOCSIN_POLICY)                           \
    C(TOCSIN_LOG_ERROR) C(TOCSIN_LOG_WARN) C(TOCSIN_LOG_INFO) C(TOCSIN_LOG_DEBUG) \
    C(TOCSIN_FIRING) C(TOCSIN_RESOLVED)                                       \
    C(TOCSIN_SEV_CRITICAL) C(TOCSIN_SEV_HIGH) C(TOCSIN_SEV_MEDIUM)            \
    C(TOCSIN_SEV_LOW) C(TOCSIN_SEV_INFO)                                      \
    C(TOCSIN_ACT_TRIGGER) C(TOCSIN_ACT_ACKNOWLEDGE) C(TOCSIN_ACT_RESOLVE)     \
    C(TOCSIN_DONE) C(TOCSIN_RETRY) C(TOCSIN_FAILED)                           \
    C(TOCSIN_PASS) C(TOCSIN_SUPPRESS)                                         \
    C(TOCSIN_OPT_STRING) C(TOCSIN_OPT_INT) C(TOCSIN_OPT_BOOL)                 \
    C(TOCSIN_OPT_DURATION) C(TOCSIN_OPT_SIZE) C(TOCSIN_OPT_STRLIST)           \
    C(TOCSIN_OPT_MAP) C(TOCSIN_OPT_REQUIRED) C(TOCSIN_OPT_SECRET)             \
    C(TOCSIN_PLUGIN_SIZE_1_0)

struct abi_member {
    const char *name; /* "struct.member" */
    size_t offset, size;
};

struct abi_struct {
    const char *name;
    size_t size;
};

struct abi_constant {
    const char *name;
    long long value;
};

/* Built from the frozen 1.0 header (layout_v1_0.c); each ends with a NULL
 * name. */
extern const struct abi_member abi_v1_0_members[];
extern const struct abi_struct abi_v1_0_structs[];
extern const struct abi_constant abi_v1_0_constants[];
extern const char abi_v1_0_symbol[];

#define TC_ABI_MEMBER(s, m) { #s "." #m, offsetof(struct s, m), sizeof(((struct s *)0)->m) },
#define TC_ABI_STRUCT(s) { #s, sizeof(struct s) },
#define TC_ABI_CONSTANT(c) { #c, (long long)(c) },

#endif
