/* plugin_file.h: opening a plugin's .so so that what gets mapped is
 * exactly the file that was checked. Trusted are a directory and a file
 * owned by root or tocsind's effective user and writable by nobody else;
 * the file is opened relative to the checked directory without following
 * a symlink, checked on the open descriptor, and dlopen()ed through
 * /proc/self/fd (no check-then-load race). */
#ifndef TC_PLUGIN_FILE_H
#define TC_PLUGIN_FILE_H

#include <stddef.h>

/* Opens and checks the plugin directory `dir` (a symlink to it is
 * followed: what is checked is the directory opened). Returns a
 * descriptor, or -1 with err naming the directory and the reason. */
int tc_plugin_dir_open(const char *dir, char *err, size_t errlen);

/* Opens `name` (no '/') in the checked directory dirfd, checks it and
 * dlopen()s it; `path` names it in errors. Returns the handle with *fd the
 * file's descriptor, which must stay open as long as the handle is (the
 * dynamic loader knows the object by the name /proc/self/fd/N), or NULL
 * with err naming the file and the reason. */
void *tc_plugin_file_load(int dirfd, const char *name, const char *path, int *fd, char *err,
                          size_t errlen);

/* dlclose()s a handle from tc_plugin_file_load and releases its fd. */
void tc_plugin_file_unload(void *dl, int fd);

#endif
