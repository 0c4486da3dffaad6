/* tests/plugins/broken.c: one defect per build (-DBROKEN_*), each built as
 * its own .so, so the loader's refusals are tested on real files. */
#include <stddef.h>
#include <stdint.h>
#include <tocsin/plugin.h>

/* Each variant uses only some of the pieces below. */
#define UNUSED __attribute__((unused))

struct broken_conf {
    const char *url;
    const char *token; /* future_options only */
};

UNUSED static const struct tocsin_option broken_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct broken_conf, url), "URL." },
    { 0 }
};

/* Lies about where its one option lives. */
UNUSED static const struct tocsin_option badoffset_options[] = {
    { "url", TOCSIN_OPT_STRING, NULL, 0, 64, "URL." },
    { 0 }
};

UNUSED static int broken_create(const struct tocsin_host *host, const void *conf, void **self)
{
    *self = NULL;
    return TOCSIN_OK;
}

UNUSED static struct tocsin_verdict broken_deliver(void *self, const struct tocsin_notification *n)
{
    return tocsin_done();
}

UNUSED static void broken_deliver_sized(void *self, const struct tocsin_notification *n,
                                        struct tocsin_verdict *v, size_t verdict_size)
{
}

/* An option entry as a later minor might have it: the 1.1 members, then
 * one more. The table is walked with the descriptor's option_size. */
struct future_option {
    struct tocsin_option o;
    const char *since;
};

UNUSED static const struct future_option future_options[] = {
    { { "url", TOCSIN_OPT_STRING, NULL, 0, offsetof(struct broken_conf, url), "URL." }, "1.5" },
    { { "token", TOCSIN_OPT_STRING, "t0", TOCSIN_OPT_SECRET, offsetof(struct broken_conf, token),
        "Token." }, "1.5" },
    { { 0 }, NULL }
};

#define SINK_BODY(NAME)                                                       \
    .kind = TOCSIN_SINK, .name = NAME, .version = "0.0.1",                    \
    .options = broken_options, .conf_size = sizeof(struct broken_conf),       \
    .create = broken_create, .deliver = broken_deliver

#if defined(BROKEN_BADMAGIC)
const struct tocsin_plugin tocsin_plugin = {
    .magic = 0xdeadbeefu, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = TOCSIN_ABI_MINOR,
    .size = sizeof(struct tocsin_plugin), SINK_BODY("badmagic"),
};
#elif defined(BROKEN_BADMAJOR)
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = 2, .abi_minor = 3,
    .size = sizeof(struct tocsin_plugin), SINK_BODY("badmajor"),
};
#elif defined(BROKEN_SMALL)
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = 0,
    .size = 40, SINK_BODY("small"),
};
#elif defined(BROKEN_NEWMINOR_SMALL)
/* Claims a newer minor than ours but is smaller than our struct. */
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = 7,
    .size = sizeof(struct tocsin_plugin) - sizeof(void *), SINK_BODY("newminorsmall"),
};
#elif defined(BROKEN_NEWMINOR)
/* Not broken: a plugin built for a newer minor loads into an older core,
 * which walks its wider option entries with its option_size. */
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = 5,
    .size = sizeof(struct tocsin_plugin) + 16, .kind = TOCSIN_SINK, .name = "newminor",
    .options = &future_options[0].o, .option_size = sizeof(struct future_option),
    .conf_size = sizeof(struct broken_conf), .create = broken_create,
    .deliver_sized = broken_deliver_sized,
};
#elif defined(BROKEN_MINOR1_SMALL)
/* Claims 1.1 with a 1.0-sized descriptor: it lacks 1.1's members. */
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = 1,
    .size = TOCSIN_PLUGIN_SIZE_1_0, SINK_BODY("minor1small"),
};
#elif defined(BROKEN_OPTION_SIZE)
/* A 1.1 descriptor filled by hand, without option_size. */
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = 1,
    .size = sizeof(struct tocsin_plugin), SINK_BODY("optionsize"),
};
#elif defined(BROKEN_OLD_DELIVER_SIZED)
/* Says 1.0, so its deliver_sized (a member 1.0 lacks) is not looked at. */
const struct tocsin_plugin tocsin_plugin = {
    .magic = TOCSIN_PLUGIN_MAGIC, .abi_major = TOCSIN_ABI_MAJOR, .abi_minor = 0,
    .size = sizeof(struct tocsin_plugin), .kind = TOCSIN_SINK, .name = "oldsized",
    .create = broken_create, .deliver_sized = broken_deliver_sized,
};
#elif defined(BROKEN_NOSYMBOL)
/* A descriptor under another name is no descriptor. */
const struct tocsin_plugin tocsin_plugin_v1 = {
    TOCSIN_PLUGIN_HEADER, SINK_BODY("nosymbol"),
};
#elif defined(BROKEN_NODELIVER)
const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER, .kind = TOCSIN_SINK, .name = "nodeliver",
    .options = broken_options, .conf_size = sizeof(struct broken_conf),
    .create = broken_create,
};
#elif defined(BROKEN_NOCREATE)
const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER, .kind = TOCSIN_SINK, .name = "nocreate",
    .deliver = broken_deliver,
};
#elif defined(BROKEN_NOEVALUATE)
const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER, .kind = TOCSIN_POLICY, .name = "noevaluate",
    .create = broken_create,
};
#elif defined(BROKEN_MISNAMED)
const struct tocsin_plugin tocsin_plugin = { TOCSIN_PLUGIN_HEADER, SINK_BODY("other") };
#elif defined(BROKEN_WRONGKIND)
const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER, .kind = TOCSIN_INPUT, .name = "wrongkind",
    .create = broken_create,
};
#elif defined(BROKEN_NOCONFSIZE)
const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER, .kind = TOCSIN_SINK, .name = "noconfsize",
    .options = broken_options, .conf_size = 0,
    .create = broken_create, .deliver = broken_deliver,
};
#elif defined(BROKEN_BADOFFSET)
const struct tocsin_plugin tocsin_plugin = {
    TOCSIN_PLUGIN_HEADER, .kind = TOCSIN_SINK, .name = "badoffset",
    .options = badoffset_options, .conf_size = sizeof(struct broken_conf),
    .create = broken_create, .deliver = broken_deliver,
};
#elif defined(BROKEN_NODELETE)
/* Not broken: linked -z nodelete, so it stays mapped after its last
 * dlclose(), as a C++ plugin with unique symbols does. */
const struct tocsin_plugin tocsin_plugin = { TOCSIN_PLUGIN_HEADER, SINK_BODY("nodelete") };
#else
#error "build with one -DBROKEN_* defined"
#endif
