/* loader.c: finding plugin .so files, checking their descriptor against the
 * ABI before anything in it is used, and keeping them loaded. Which files
 * are trusted, and how they are mapped, is plugin_file.c's. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "errors.h"
#include "loader.h"
#include "plugin_file.h"

const char *tc_kind_name(enum tocsin_kind kind)
{
    switch (kind) {
    case TOCSIN_INPUT: return "input";
    case TOCSIN_SINK: return "sink";
    case TOCSIN_POLICY: return "policy";
    }
    return NULL;
}

enum tocsin_kind tc_kind_parse(const char *name)
{
    if (!name)
        return 0;
    if (strcmp(name, "input") == 0)
        return TOCSIN_INPUT;
    if (strcmp(name, "sink") == 0)
        return TOCSIN_SINK;
    if (strcmp(name, "policy") == 0)
        return TOCSIN_POLICY;
    return 0;
}


/* The smallest descriptor a plugin built for `minor` may have; also how
 * much of it we read, so a member is used only if the plugin's minor has it.
 * A plugin newer than us carries at least every member we know (it checks
 * our minor itself). */
static size_t min_size_for_minor(unsigned minor)
{
    switch (minor) {
    case 0: return TOCSIN_PLUGIN_SIZE_1_0;
    case 1: return TOCSIN_PLUGIN_SIZE_1_1;
    }
    return sizeof(struct tocsin_plugin);
}

/* A copy of a plugin's option table walked with its stride, as an array
 * of our struct tocsin_option (each entry taken as far as ours reaches),
 * ending with a NULL name; NULL when out of memory. */
static struct tocsin_option *adopt_table(const char *table, size_t stride)
{
    struct tocsin_option *own;
    size_t n = 0, i;

    /* The table ends with an entry whose name is NULL. */
    for (;; n++) {
        const char *name;

        memcpy(&name, table + n * stride + offsetof(struct tocsin_option, name), sizeof name);
        if (!name)
            break;
    }
    own = calloc(n + 1, sizeof *own);
    if (!own)
        return NULL;
    for (i = 0; i < n; i++)
        memcpy(&own[i], table + i * stride, stride < sizeof *own ? stride : sizeof *own);
    return own;
}

/* The descriptor's groups (1.1), each group table's options adopted with
 * the plugin's stride like its main table, into p->groups. */
static int adopt_groups(struct tc_plugin *p, size_t stride, char *err, size_t errlen)
{
    const struct tocsin_group_table *g = p->own.groups;
    size_t n = 0, i;

    while (g[n].option)
        n++;
    p->groups = calloc(n + 1, sizeof *p->groups);
    if (!p->groups)
        goto oom;
    for (i = 0; i < n; i++) {
        p->groups[i].option = g[i].option;
        p->groups[i].conf_size = g[i].conf_size;
        if (g[i].options &&
            !(p->groups[i].options = adopt_table((const char *)g[i].options, stride)))
            goto oom;
    }
    p->own.groups = p->groups;
    return 0;
oom:
    tc_seterr(err, errlen, "%s: out of memory", p->path);
    return -1;
}

/* Takes the plugin's descriptor into p->own, and its option tables (the
 * main one and its groups'), walked with the plugin's stride, into
 * p->options and p->groups: the rest of the core then reads structs of
 * our size, with what the plugin's minor lacks zeroed (a 1.0 plugin has
 * no groups). */
static int adopt(struct tc_plugin *p, const struct tocsin_plugin *d, char *err, size_t errlen)
{
    size_t stride = TOCSIN_OPTION_SIZE_1_0;

    memcpy(&p->own, d, min_size_for_minor(d->abi_minor));
    p->desc = &p->own;
    if (!d->options && !p->own.groups)
        return 0;
    if (d->abi_minor >= 1)
        stride = p->own.option_size;
    if (stride < TOCSIN_OPTION_SIZE_1_0) {
        tc_seterr(err, errlen,
               "%s: option_size is %zu, but a struct tocsin_option has at least %zu bytes "
               "(fill the descriptor with TOCSIN_PLUGIN_HEADER)",
               p->path, stride, (size_t)TOCSIN_OPTION_SIZE_1_0);
        return -1;
    }
    if (d->options) {
        p->options = adopt_table((const char *)d->options, stride);
        if (!p->options) {
            tc_seterr(err, errlen, "%s: out of memory", p->path);
            return -1;
        }
    }
    p->own.options = p->options;
    p->own.option_size = sizeof *p->options;
    return p->own.groups ? adopt_groups(p, stride, err, errlen) : 0;
}

static size_t opt_field_size(enum tocsin_opt_type t)
{
    switch (t) {
    case TOCSIN_OPT_STRING: return sizeof(const char *);
    case TOCSIN_OPT_INT:
    case TOCSIN_OPT_DURATION:
    case TOCSIN_OPT_SIZE: return sizeof(int64_t);
    case TOCSIN_OPT_BOOL: return sizeof(int);
    case TOCSIN_OPT_STRLIST: return sizeof(struct tocsin_strlist);
    case TOCSIN_OPT_MAP: return sizeof(struct tocsin_map);
    case TOCSIN_OPT_GROUPS: return sizeof(struct tocsin_groups);
    }
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');

    return slash ? slash + 1 : path;
}

/* The core writes each option at its offset: a wrong table must not let
 * it write past the conf struct. group: the groups option whose table this
 * is (whose options may not be groups themselves), or NULL. */
static int check_table(const char *path, const char *group, const struct tocsin_option *table,
                       size_t conf_size, char *err, size_t errlen)
{
    const struct tocsin_option *o;
    char what[320];

    for (o = table; o && o->name; o++) {
        size_t sz = opt_field_size(o->type);

        if (group)
            snprintf(what, sizeof what, "option \"%s\": group option \"%s\"", group, o->name);
        else
            snprintf(what, sizeof what, "option \"%s\"", o->name);
        if (!sz) {
            tc_seterr(err, errlen, "%s: %s has unknown type %d", path, what, (int)o->type);
            return -1;
        }
        if (group && o->type == TOCSIN_OPT_GROUPS) {
            tc_seterr(err, errlen, "%s: %s is of type groups, but groups do not nest", path, what);
            return -1;
        }
        if (o->offset > conf_size || sz > conf_size - o->offset) {
            tc_seterr(err, errlen, "%s: %s (offset %zu, %zu bytes) lies outside %sconf_size %zu",
                   path, what, o->offset, sz, group ? "its group's " : "", conf_size);
            return -1;
        }
    }
    return 0;
}

/* Each TOCSIN_OPT_GROUPS option has no default and exactly one table in
 * `groups` (1.1; a 1.0 descriptor has none), and each table belongs to
 * such an option, has options and a conf_size to fill. */
static int check_groups(const char *path, const struct tocsin_plugin *d, char *err,
                        size_t errlen)
{
    const struct tocsin_group_table *g;
    const struct tocsin_option *o;

    for (o = d->options; o && o->name; o++) {
        int n = 0;

        if (o->type != TOCSIN_OPT_GROUPS)
            continue;
        if (o->def) {
            tc_seterr(err, errlen, "%s: option \"%s\" is of type groups, which has no default",
                   path, o->name);
            return -1;
        }
        for (g = d->groups; g && g->option; g++)
            n += strcmp(g->option, o->name) == 0;
        if (n == 0) {
            tc_seterr(err, errlen,
                   "%s: option \"%s\" is of type groups, but the descriptor's groups has no "
                   "table for it%s", path, o->name,
                   d->abi_minor < 1 ? " (groups need plugin ABI 1.1)" : "");
            return -1;
        }
        if (n > 1) {
            tc_seterr(err, errlen,
                   "%s: option \"%s\" has %d tables in the descriptor's groups; it needs "
                   "exactly one", path, o->name, n);
            return -1;
        }
    }
    for (g = d->groups; g && g->option; g++) {
        for (o = d->options; o && o->name; o++)
            if (o->type == TOCSIN_OPT_GROUPS && strcmp(o->name, g->option) == 0)
                break;
        if (!o || !o->name) {
            tc_seterr(err, errlen,
                   "%s: the descriptor's groups has a table for \"%s\", which is no option of "
                   "type groups", path, g->option);
            return -1;
        }
        if (!g->options) {
            tc_seterr(err, errlen, "%s: option \"%s\": its group table has no options (NULL)",
                   path, g->option);
            return -1;
        }
        if (g->conf_size == 0) {
            tc_seterr(err, errlen, "%s: option \"%s\": its group table has a conf_size of 0",
                   path, g->option);
            return -1;
        }
        if (check_table(path, g->option, g->options, g->conf_size, err, errlen) < 0)
            return -1;
    }
    return 0;
}

/* Everything after the magic/major/size checks: the descriptor is now known
 * to be ours, so its members can be read. */
static int check_members(const char *path, const struct tocsin_plugin *d, char *err,
                         size_t errlen)
{
    const char *kind = tc_kind_name(d->kind);
    char expected[256];

    if (!kind) {
        tc_seterr(err, errlen, "%s: unknown plugin kind %d", path, (int)d->kind);
        return -1;
    }
    if (!d->name || !*d->name) {
        tc_seterr(err, errlen, "%s: %s plugin has no name", path, kind);
        return -1;
    }
    snprintf(expected, sizeof expected, "%s_%s.so", kind, d->name);
    if (strcmp(base_name(path), expected) != 0) {
        tc_seterr(err, errlen,
               "%s: declares %s \"%s\", so the file must be named %s", path, kind,
               d->name, expected);
        return -1;
    }
    if (!d->create) {
        tc_seterr(err, errlen, "%s: %s \"%s\" has no create function", path, kind, d->name);
        return -1;
    }
    if (d->kind == TOCSIN_SINK && !d->deliver && !d->deliver_sized) {
        tc_seterr(err, errlen, "%s: sink \"%s\" has no deliver%s function", path, d->name,
               d->abi_minor >= 1 ? " or deliver_sized" : "");
        return -1;
    }
    if (d->kind == TOCSIN_POLICY && !d->evaluate) {
        tc_seterr(err, errlen, "%s: policy \"%s\" has no evaluate function", path, d->name);
        return -1;
    }
    if (d->options && d->options->name && d->conf_size == 0) {
        tc_seterr(err, errlen, "%s: %s \"%s\" has options but a conf_size of 0", path, kind,
               d->name);
        return -1;
    }
    if (check_table(path, NULL, d->options, d->conf_size, err, errlen) < 0)
        return -1;
    return check_groups(path, d, err, errlen);
}

/* Loads name from the checked directory dirfd, then checks what it
 * exports before anything in it is used; path names it everywhere. */
static struct tc_plugin *open_at(int dirfd, const char *name, const char *path, char *err,
                                 size_t errlen)
{
    const struct tocsin_plugin *d;
    struct tc_plugin *p;
    void *dl;
    int fd = -1;

    dl = tc_plugin_file_load(dirfd, name, path, &fd, err, errlen);
    if (!dl)
        return NULL;
    d = dlsym(dl, TOCSIN_PLUGIN_SYMBOL);
    if (!d) {
        tc_seterr(err, errlen, "%s: no symbol %s: not a tocsin plugin", path, TOCSIN_PLUGIN_SYMBOL);
        goto fail;
    }
    if (d->magic != TOCSIN_PLUGIN_MAGIC) {
        tc_seterr(err, errlen, "%s: not a tocsin plugin (bad magic 0x%08x)", path,
               (unsigned)d->magic);
        goto fail;
    }
    if (d->abi_major != TOCSIN_ABI_MAJOR) {
        tc_seterr(err, errlen,
               "%s: built for plugin ABI %u.%u, this tocsind speaks %d.%d (major versions differ)",
               path, (unsigned)d->abi_major, (unsigned)d->abi_minor, TOCSIN_ABI_MAJOR,
               TOCSIN_ABI_MINOR);
        goto fail;
    }
    if (d->size < min_size_for_minor(d->abi_minor)) {
        tc_seterr(err, errlen,
               "%s: descriptor is %u bytes, but plugin ABI %u.%u needs at least %zu "
               "(this tocsind speaks %d.%d)",
               path, (unsigned)d->size, (unsigned)d->abi_major, (unsigned)d->abi_minor,
               min_size_for_minor(d->abi_minor), TOCSIN_ABI_MAJOR, TOCSIN_ABI_MINOR);
        goto fail;
    }
    p = calloc(1, sizeof *p);
    if (!p || !(p->path = strdup(path))) {
        free(p);
        tc_seterr(err, errlen, "%s: out of memory", path);
        goto fail;
    }
    p->dl = dl;
    p->fd = fd;
    if (adopt(p, d, err, errlen) < 0 || check_members(path, p->desc, err, errlen) < 0) {
        tc_plugin_close(p); /* unloads dl and fd with it */
        return NULL;
    }
    return p;
fail:
    tc_plugin_file_unload(dl, fd);
    return NULL;
}

struct tc_plugin *tc_plugin_open(const char *path, char *err, size_t errlen)
{
    const char *slash = strrchr(path, '/');
    struct tc_plugin *p;
    char *dir;
    int dirfd;

    if (!slash)
        dir = strdup(".");
    else
        dir = strndup(path, slash == path ? 1 : (size_t)(slash - path));
    if (!dir) {
        tc_seterr(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    dirfd = tc_plugin_dir_open(dir, err, errlen);
    free(dir);
    if (dirfd < 0)
        return NULL;
    p = open_at(dirfd, base_name(path), path, err, errlen);
    close(dirfd);
    return p;
}

void tc_plugin_close(struct tc_plugin *p)
{
    size_t i;

    if (!p)
        return;
    tc_plugin_file_unload(p->dl, p->fd);
    free(p->options);
    for (i = 0; p->groups && p->groups[i].option; i++)
        free((void *)p->groups[i].options);
    free(p->groups);
    free(p->path);
    free(p);
}

struct tc_loader *tc_loader_new(const char *dir)
{
    struct tc_loader *l = calloc(1, sizeof *l);

    if (!l)
        return NULL;
    l->dir = strdup(dir);
    if (!l->dir) {
        free(l);
        return NULL;
    }
    return l;
}

void tc_loader_free(struct tc_loader *l)
{
    struct tc_plugin *p, *next;

    if (!l)
        return;
    for (p = l->loaded; p; p = next) {
        next = p->next;
        tc_plugin_close(p);
    }
    free(l->dir);
    free(l);
}

const struct tc_plugin *tc_loader_load(struct tc_loader *l, enum tocsin_kind kind,
                                       const char *name, char *err, size_t errlen)
{
    const char *kname = tc_kind_name(kind);
    struct tc_plugin *p, **tail;
    char *path, file[256];
    int dirfd;

    if (!kname) {
        tc_seterr(err, errlen, "unknown plugin kind %d", (int)kind);
        return NULL;
    }
    if (!name || !*name) {
        tc_seterr(err, errlen, "empty plugin name");
        return NULL;
    }
    /* Plugins load from plugin_dir only: a name must not walk out of it. */
    if (strchr(name, '/') || strstr(name, "..")) {
        tc_seterr(err, errlen, "invalid plugin name \"%s\" (no '/' or \"..\" allowed)", name);
        return NULL;
    }
    if ((size_t)snprintf(file, sizeof file, "%s_%s.so", kname, name) >= sizeof file) {
        tc_seterr(err, errlen, "plugin name \"%s\" is too long", name);
        return NULL;
    }
    if (asprintf(&path, "%s/%s", l->dir, file) < 0) {
        tc_seterr(err, errlen, "out of memory");
        return NULL;
    }
    for (tail = &l->loaded; (p = *tail); tail = &p->next)
        if (strcmp(p->path, path) == 0) {
            free(path);
            return p;
        }
    dirfd = tc_plugin_dir_open(l->dir, err, errlen);
    p = dirfd < 0 ? NULL : open_at(dirfd, file, path, err, errlen);
    if (dirfd >= 0)
        close(dirfd);
    free(path);
    if (p)
        *tail = p;
    return p;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void tc_loader_scan(const char *dir,
                    void (*fn)(void *arg, const char *path, const struct tc_plugin *p,
                               const char *err),
                    void *arg)
{
    char **names = NULL, **grown, err[512];
    size_t n = 0, i;
    struct dirent *e;
    int dirfd = tc_plugin_dir_open(dir, err, sizeof err), listfd;
    DIR *d;

    /* An unusable directory is reported like an unloadable file. */
    if (dirfd < 0) {
        fn(arg, dir, NULL, err);
        return;
    }
    listfd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);
    d = listfd < 0 ? NULL : fdopendir(listfd);
    if (!d) {
        snprintf(err, sizeof err, "plugin directory %s: %s", dir, strerror(errno));
        if (listfd >= 0)
            close(listfd);
        close(dirfd);
        fn(arg, dir, NULL, err);
        return;
    }
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);

        if (len < 4 || strcmp(e->d_name + len - 3, ".so") != 0 || e->d_name[0] == '.')
            continue;
        grown = realloc(names, (n + 1) * sizeof *names);
        if (!grown)
            break;
        names = grown;
        if (!(names[n] = strdup(e->d_name)))
            break;
        n++;
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof *names, by_name);
    for (i = 0; i < n; i++) {
        struct tc_plugin *p;
        char *path;

        if (asprintf(&path, "%s/%s", dir, names[i]) >= 0) {
            p = open_at(dirfd, names[i], path, err, sizeof err);
            fn(arg, path, p, p ? NULL : err);
            tc_plugin_close(p);
            free(path);
        }
        free(names[i]);
    }
    free(names);
    close(dirfd);
}
