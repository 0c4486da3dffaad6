/* plugin_fixture.c: see plugin_fixture.h. */
#define _GNU_SOURCE
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "plugin_fixture.h"

const char *tu_plugin_dir(void)
{
    const char *d = getenv("TOCSIN_TEST_PLUGIN_DIR");
    struct stat st;
    DIR *dh;
    struct dirent *e;
    char p[4400];

    if (!d) {
        fprintf(stderr, "TOCSIN_TEST_PLUGIN_DIR is not set (run through make check)\n");
        exit(99);
    }
    if (stat(d, &st) == 0)
        chmod(d, st.st_mode & 0755);
    dh = opendir(d);
    while (dh && (e = readdir(dh))) {
        size_t len = strlen(e->d_name);

        if (len > 3 && strcmp(e->d_name + len - 3, ".so") == 0) {
            snprintf(p, sizeof p, "%s/%s", d, e->d_name);
            chmod(p, 0755);
        }
    }
    if (dh)
        closedir(dh);
    return d;
}

void tu_mkdtemp(char *buf, size_t size, const char *prefix)
{
    const char *base = getenv("TOCSIN_TMPDIR");

    if (!base)
        base = "/tmp";
    mkdir(base, 0755);
    snprintf(buf, size, "%s/%s.XXXXXX", base, prefix);
    ck_assert_ptr_nonnull(mkdtemp(buf));
}
