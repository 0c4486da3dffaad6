/* loader.h: finding, checking and loading plugin .so files. */
#ifndef TC_LOADER_H
#define TC_LOADER_H

#include <stddef.h>
#include <tocsin/plugin.h>

/* One loaded plugin file. */
struct tc_plugin {
    /* The descriptor as this core reads it: &own, a copy of the plugin's
     * with the members its minor lacks zeroed, options and each group
     * table's options tables of our struct tocsin_option (any plugin's
     * option_size), size and minor the plugin's own. */
    const struct tocsin_plugin *desc;
    char *path;     /* full path of the .so */
    void *dl;       /* dlopen handle */
    int fd;         /* the checked file, open as long as dl is (plugin_file.h) */
    struct tc_plugin *next;
    struct tocsin_plugin own;
    struct tocsin_option *options; /* NULL when the plugin has none */
    struct tocsin_group_table *groups; /* own.groups: NULL when none; options ours */
};

/* Plugins load only from one directory. */
struct tc_loader {
    char *dir;
    struct tc_plugin *loaded;  /* each file opened once */
};

struct tc_loader *tc_loader_new(const char *dir);
void tc_loader_free(struct tc_loader *l); /* dlcloses everything */

/* "input"/"sink"/"policy" and back; kind_parse returns 0 when unknown. */
const char *tc_kind_name(enum tocsin_kind kind);
enum tocsin_kind tc_kind_parse(const char *name);

/* Load <dir>/<kind>_<name>.so (once; later calls return the same plugin).
 * Refuses, with err naming the file or directory: a name with '/' or "..",
 * a directory or file owned by someone other than root or tocsind's user
 * or writable by group or others, a file that is a symlink, missing or
 * not a regular file, no /proc to load it through, dlopen failure,
 * no `tocsin_plugin` symbol, wrong magic, another ABI major, a descriptor
 * smaller than its minor requires, an option_size (1.1) below 1.0's, a
 * kind or name that differ from the file name, a missing create (or
 * deliver/deliver_sized for sinks, evaluate for policies), an option of
 * unknown type or outside conf_size, a TOCSIN_OPT_GROUPS option with a
 * default or without exactly one `groups` table (1.1), a groups table for
 * no such option, without options or conf_size, or with an option of
 * type groups or outside its conf_size. */
const struct tc_plugin *tc_loader_load(struct tc_loader *l, enum tocsin_kind kind,
                                       const char *name, char *err, size_t errlen);

/* Load a plugin file by its path (its directory checked like plugin_dir):
 * the checks above. For tests. The caller frees with tc_plugin_close. */
struct tc_plugin *tc_plugin_open(const char *path, char *err, size_t errlen);
void tc_plugin_close(struct tc_plugin *p);

/* Calls fn for every *.so in the directory, sorted by name: with the
 * plugin when it loads, or with NULL and the reason when it does not (or
 * once, with the directory's path, when the directory is refused). */
void tc_loader_scan(const char *dir,
                    void (*fn)(void *arg, const char *path, const struct tc_plugin *p,
                               const char *err),
                    void *arg);

#endif
