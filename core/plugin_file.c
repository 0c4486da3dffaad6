/* plugin_file.c: opening a plugin's .so so that what gets mapped is
 * exactly the file that was checked (see plugin_file.h). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errors.h"
#include "plugin_file.h"

/* Whoever owns or can write a plugin or its directory decides what code
 * tocsind runs: only root and tocsind's own user may. A sticky bit (as on
 * /tmp) does not help: others could still add files. `what` is "plugin"
 * or "plugin directory". */
static int check_owner_and_mode(const char *what, const char *path, const struct stat *st,
                                char *err, size_t errlen)
{
    unsigned mode = (unsigned)(st->st_mode & 07777);

    if (st->st_uid != 0 && st->st_uid != geteuid()) {
        tc_seterr(err, errlen, "%s %s: owned by uid %lu, not by root or tocsind's user (uid %lu)",
               what, path, (unsigned long)st->st_uid, (unsigned long)geteuid());
        return -1;
    }
    if (st->st_mode & S_IWOTH) {
        tc_seterr(err, errlen, "%s %s: writable by others (mode %04o)", what, path, mode);
        return -1;
    }
    if (st->st_mode & S_IWGRP) {
        tc_seterr(err, errlen, "%s %s: writable by its group (mode %04o)", what, path, mode);
        return -1;
    }
    return 0;
}

int tc_plugin_dir_open(const char *dir, char *err, size_t errlen)
{
    struct stat st;
    int fd;

    /* A symlink to the directory is followed: what is checked is the
     * directory this descriptor refers to, and every plugin is opened
     * through the descriptor, so the link cannot swap in another one. */
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        tc_seterr(err, errlen, "plugin directory %s: %s", dir, strerror(errno));
        return -1;
    }
    if (fstat(fd, &st) < 0) {
        tc_seterr(err, errlen, "plugin directory %s: %s", dir, strerror(errno));
        close(fd);
        return -1;
    }
    if (check_owner_and_mode("plugin directory", dir, &st, err, errlen) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* dlerror() names the object by the name it was given: say path instead
 * of /proc/self/fd/N where it does. */
static const char *dl_reason(const char *proc)
{
    const char *why = dlerror();
    size_t n = strlen(proc);

    if (!why)
        return "dlopen failed";
    if (strncmp(why, proc, n) == 0 && why[n] == ':' && why[n + 1] == ' ')
        return why + n + 2;
    return why;
}

void *tc_plugin_file_load(int dirfd, const char *name, const char *path, int *fdp, char *err,
                          size_t errlen)
{
    char proc[64];
    struct stat st, via;
    void *dl;
    int fd;

    /* O_NONBLOCK: a FIFO under a plugin's name must not hang start-up; it
     * fails the regular-file check like any other non-file. */
    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) {
        /* name has no '/': ELOOP can only mean the file itself is a link. */
        if (errno == ELOOP)
            tc_seterr(err, errlen, "plugin %s: is a symbolic link, refusing to follow it", path);
        else
            tc_seterr(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    if (fstat(fd, &st) < 0) {
        tc_seterr(err, errlen, "%s: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        tc_seterr(err, errlen, "plugin %s: not a regular file", path);
        goto fail;
    }
    if (check_owner_and_mode("plugin", path, &st, err, errlen) < 0)
        goto fail;
    /* Loading by this name maps the file behind fd, the one just checked.
     * Without /proc there is no such name; loading by path instead would
     * map whatever is there by then, so that is refused too. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    if (stat(proc, &via) < 0) {
        tc_seterr(err, errlen, "plugin %s: cannot reach the checked file as %s (%s); tocsind "
               "loads plugins only through /proc/self/fd: is /proc mounted?",
               path, proc, strerror(errno));
        goto fail;
    }
    if (via.st_dev != st.st_dev || via.st_ino != st.st_ino) {
        tc_seterr(err, errlen, "plugin %s: %s is not the checked file; tocsind loads plugins "
               "only through /proc/self/fd: is /proc mounted?", path, proc);
        goto fail;
    }
    dl = dlopen(proc, RTLD_NOW | RTLD_LOCAL);
    if (!dl) {
        tc_seterr(err, errlen, "cannot load %s: %s", path, dl_reason(proc));
        goto fail;
    }
    *fdp = fd;
    return dl;
fail:
    close(fd);
    return NULL;
}

void tc_plugin_file_unload(void *dl, int fd)
{
    char proc[64];
    void *still;

    if (dl)
        dlclose(dl);
    if (fd < 0)
        return;
    /* The dynamic loader matches a name against the objects still loaded
     * before it opens anything. An object that stays loaded (built with
     * -z nodelete, or the same file loaded again through another
     * descriptor) keeps /proc/self/fd/N bound to it: closing fd would let
     * the next plugin opened as fd N be handed that object instead. Such a
     * descriptor is kept open for good. */
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
    still = dlopen(proc, RTLD_LAZY | RTLD_NOLOAD);
    if (still) {
        dlclose(still);
        return;
    }
    dlerror(); /* no error to keep from the probe */
    close(fd);
}
