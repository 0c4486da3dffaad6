/* enospc.c: a disk that fills up on demand, for tests. Preloaded into
 * tocsind (LD_PRELOAD); while the file named by $TOCSIN_TEST_ENOSPC
 * exists, SQLite's writes (pwrite64, as libsqlite3 calls them) fail with
 * ENOSPC, as on a full disk. Remove the file and the disk has room again. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/types.h>
#include <unistd.h>

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off);

static int disk_full(void)
{
    const char *flag = getenv("TOCSIN_TEST_ENOSPC");

    return flag && access(flag, F_OK) == 0;
}

ssize_t pwrite64(int fd, const void *buf, size_t n, off_t off)
{
    static ssize_t (*real)(int, const void *, size_t, off_t);

    if (disk_full()) {
        errno = ENOSPC;
        return -1;
    }
    if (!real)
        real = (ssize_t (*)(int, const void *, size_t, off_t))dlsym(RTLD_NEXT, "pwrite64");
    return real(fd, buf, n, off);
}
