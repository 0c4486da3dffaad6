/* tests/plugins/groups.c: a policy with a TOCSIN_OPT_GROUPS option, built
 * once as it should be (policy_groups.so) and once per defect of its
 * descriptor (-DGROUPS_*), so the loader's checks of `groups` and the
 * filling of groups are tested on real files.
 *
 * The good one declares its option entries wider than struct tocsin_option
 * (as a later minor might), in its main table and its group table alike:
 * the core must walk both with option_size. */
#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

#define UNUSED __attribute__((unused))

/* One window; tests/unit/test_config.c mirrors these two structs. */
struct groups_window {
    const char *name;
    const char *starts_at;
    int64_t duration_ms;
    struct tocsin_strlist weekdays;
    const char *token;
};

struct groups_conf {
    const char *zone;
    struct tocsin_groups windows;
};

struct wide_option {
    struct tocsin_option o;
    const char *since;
};

UNUSED static const struct wide_option window_options[] = {
    { { "name", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct groups_window, name),
        "What the window is for." }, "1.1" },
    { { "starts_at", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED,
        offsetof(struct groups_window, starts_at), "RFC 3339 start." }, "1.1" },
    { { "duration", TOCSIN_OPT_DURATION, "1h", 0, offsetof(struct groups_window, duration_ms),
        "How long it lasts." }, "1.1" },
    { { "weekdays", TOCSIN_OPT_STRLIST, NULL, 0, offsetof(struct groups_window, weekdays),
        "Days it recurs on." }, "1.1" },
    { { "token", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_SECRET,
        offsetof(struct groups_window, token), "A secret of the window." }, "1.1" },
    { { 0 }, NULL }
};

UNUSED static const struct wide_option wide_options[] = {
    { { "zone", TOCSIN_OPT_STRING, "UTC", 0, offsetof(struct groups_conf, zone),
        "Time zone." }, "1.1" },
    { { "windows", TOCSIN_OPT_GROUPS, NULL, 0, offsetof(struct groups_conf, windows),
        "Maintenance windows." }, "1.1" },
    { { 0 }, NULL }
};

UNUSED static const struct tocsin_group_table good_groups[] = {
    { "windows", &window_options[0].o, sizeof(struct groups_window) },
    { 0 }
};

/* The defective variants use plain entries. */
UNUSED static const struct tocsin_option plain_options[] = {
    { "zone", TOCSIN_OPT_STRING, "UTC", 0, offsetof(struct groups_conf, zone), "Time zone." },
    { "windows", TOCSIN_OPT_GROUPS, NULL, 0, offsetof(struct groups_conf, windows),
      "Maintenance windows." },
    { 0 }
};

UNUSED static const struct tocsin_option defaulted_options[] = {
    { "windows", TOCSIN_OPT_GROUPS, "none", 0, offsetof(struct groups_conf, windows),
      "Maintenance windows." },
    { 0 }
};

UNUSED static const struct tocsin_option plain_window_options[] = {
    { "starts_at", TOCSIN_OPT_STRING, NULL, TOCSIN_OPT_REQUIRED,
      offsetof(struct groups_window, starts_at), "RFC 3339 start." },
    { 0 }
};

UNUSED static const struct tocsin_option nested_window_options[] = {
    { "starts_at", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct groups_window, starts_at),
      "RFC 3339 start." },
    { "levels", TOCSIN_OPT_GROUPS, NULL, 0, offsetof(struct groups_window, weekdays),
      "Groups in a group." },
    { 0 }
};

UNUSED static const struct tocsin_option badoffset_window_options[] = {
    { "starts_at", TOCSIN_OPT_STRING, NULL, 0, sizeof(struct groups_window), "Past the end." },
    { 0 }
};

UNUSED static int groups_create(const struct tocsin_host *host, const void *conf, void **self)
{
    (void)host;
    *self = (void *)(uintptr_t)conf;
    return TOCSIN_OK;
}

UNUSED static int groups_evaluate(void *self, const struct tocsin_alert *alert,
                                  struct tocsin_policy_result *res)
{
    (void)self;
    (void)alert;
    res->decision = TOCSIN_PASS;
    return TOCSIN_OK;
}

/* A 1.1 policy named NAME with plain option entries and `groups` GROUPS. */
#define PLAIN_POLICY(NAME, OPTIONS, GROUPS)                                   \
    const struct tocsin_plugin tocsin_plugin = {                             \
        TOCSIN_PLUGIN_HEADER, .kind = TOCSIN_POLICY, .name = NAME,           \
        .version = "0.0.1", .options = OPTIONS,                              \
        .conf_size = sizeof(struct groups_conf), .create = groups_create,    \
        .evaluate = groups_evaluate, .groups = GROUPS,                       \
    }

#if defined(GROUPS_MISSING)
PLAIN_POLICY("groupsmissing", plain_options, NULL);
#elif defined(GROUPS_TWICE)
static const struct tocsin_group_table twice[] = {
    { "windows", plain_window_options, sizeof(struct groups_window) },
    { "windows", plain_window_options, sizeof(struct groups_window) },
    { 0 }
};
PLAIN_POLICY("groupstwice", plain_options, twice);
#elif defined(GROUPS_NOOPTIONS)
static const struct tocsin_group_table nooptions[] = {
    { "windows", NULL, sizeof(struct groups_window) },
    { 0 }
};
PLAIN_POLICY("groupsnooptions", plain_options, nooptions);
#elif defined(GROUPS_NOCONFSIZE)
static const struct tocsin_group_table noconfsize[] = {
    { "windows", plain_window_options, 0 },
    { 0 }
};
PLAIN_POLICY("groupsnoconfsize", plain_options, noconfsize);
#elif defined(GROUPS_NESTED)
static const struct tocsin_group_table nested[] = {
    { "windows", nested_window_options, sizeof(struct groups_window) },
    { 0 }
};
PLAIN_POLICY("groupsnested", plain_options, nested);
#elif defined(GROUPS_STRAY)
/* A table for "zone", which is a string. */
static const struct tocsin_group_table stray[] = {
    { "windows", plain_window_options, sizeof(struct groups_window) },
    { "zone", plain_window_options, sizeof(struct groups_window) },
    { 0 }
};
PLAIN_POLICY("groupsstray", plain_options, stray);
#elif defined(GROUPS_DEFAULT)
static const struct tocsin_group_table defaulted[] = {
    { "windows", plain_window_options, sizeof(struct groups_window) },
    { 0 }
};
PLAIN_POLICY("groupsdefault", defaulted_options, defaulted);
#elif defined(GROUPS_BADOFFSET)
static const struct tocsin_group_table badoffset[] = {
    { "windows", badoffset_window_options, sizeof(struct groups_window) },
    { 0 }
};
PLAIN_POLICY("groupsbadoffset", plain_options, badoffset);
#elif defined(GROUPS_ABI10)
/* Says 1.0 (with a full-sized descriptor): its groups member is past what
 * 1.0 has, so it is not read, and its groups option has no table. */
static const struct tocsin_group_table abi10[] = {
    { "windows", plain_window_options, sizeof(struct groups_window) },
    { 0 }
};
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = 0,
    .size = sizeof(struct tocsin_plugin), .kind = TOCSIN_POLICY, .name = "groupsabi10",
    .options = plain_options, .conf_size = sizeof(struct groups_conf),
    .create = groups_create, .evaluate = groups_evaluate, .groups = abi10,
};
#else
/* The header by hand: TOCSIN_PLUGIN_HEADER's option_size is the plain one. */
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR,
    .abi_minor = TOCSIN_ABI_MINOR, .size = sizeof(struct tocsin_plugin),
    .option_size = sizeof(struct wide_option), .kind = TOCSIN_POLICY, .name = "groups",
    .version = "0.0.1", .description = "Test policy with a list of groups.",
    .options = &wide_options[0].o, .conf_size = sizeof(struct groups_conf),
    .create = groups_create, .evaluate = groups_evaluate, .groups = good_groups,
};
#endif
