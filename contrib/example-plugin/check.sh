#!/bin/sh
# check.sh: build the example plugin out of tree against an installed (or
# DESTDIR-staged) tocsin SDK, with nothing from the source tree on the
# include path, then dlopen the result and check its descriptor.
#
# usage: contrib/example-plugin/check.sh PREFIX
#   PREFIX: where the SDK is, e.g. /usr/local, or /tmp/stage/usr/local after
#           `make install DESTDIR=/tmp/stage` (pkg-config --define-prefix
#           relocates the .pc file's paths there).
set -eu

[ $# -eq 1 ] || { echo "usage: $0 PREFIX" >&2; exit 2; }
prefix=$(cd "$1" && pwd)
here=$(cd "$(dirname "$0")" && pwd)
CC=${CC:-cc}
PKG_CONFIG=${PKG_CONFIG:-pkg-config}

pcdir=
for d in "$prefix"/lib/pkgconfig "$prefix"/lib64/pkgconfig "$prefix"/lib/*/pkgconfig \
         "$prefix"/share/pkgconfig; do
    if [ -f "$d/tocsin-plugin.pc" ]; then pcdir=$d; break; fi
done
[ -n "$pcdir" ] || { echo "check.sh: no tocsin-plugin.pc under $prefix" >&2; exit 1; }

PKG_CONFIG_PATH=$pcdir
export PKG_CONFIG_PATH
unset PKG_CONFIG_SYSROOT_DIR || true
pc="$PKG_CONFIG --define-prefix"
cflags=$($pc --cflags tocsin-plugin)
case "$cflags" in
*"$prefix"*) ;;
*) echo "check.sh: pkg-config gave '$cflags', not a path in $prefix" >&2; exit 1 ;;
esac
echo "check.sh: tocsin-plugin $($pc --modversion tocsin-plugin): cflags $cflags"

# Build in a scratch copy: the source tree may be read-only (distcheck)
# and must not leak into the include path.
work=$(mktemp -d "${TMPDIR:-/tmp}/tocsin-example.XXXXXX")
trap 'rm -rf "$work"' EXIT INT TERM
cp "$here/Makefile" "$here/sink_example.c" "$work/"
echo "check.sh: make -C $work PKG_CONFIG='$pc' PKG_CONFIG_PATH=$pcdir"
make -C "$work" PKG_CONFIG="$pc" CFLAGS="-O2 -g -Werror" >&2

# The descriptor, read the way the loader reads it (magic, major, the size
# its minor needs, kind, name, option stride), with the same installed
# header. The example keeps a 1.0 deliver for 1.0 daemons beside
# deliver_sized.
cat >"$work/probe.c" <<'PROBE'
#include <dlfcn.h>
#include <stdio.h>
#include <string.h>
#include <tocsin/plugin.h>
int main(int argc, char **argv)
{
    void *h = dlopen(argv[1], RTLD_NOW | RTLD_LOCAL);
    const struct tocsin_plugin *p;

    if (argc != 2 || !h) { fprintf(stderr, "dlopen: %s\n", dlerror()); return 1; }
    p = dlsym(h, TOCSIN_PLUGIN_SYMBOL);
    if (!p) { fprintf(stderr, "no symbol %s\n", TOCSIN_PLUGIN_SYMBOL); return 1; }
    if (p->magic != TOCSIN_PLUGIN_MAGIC || p->abi_major != TOCSIN_ABI_MAJOR ||
        p->abi_minor != TOCSIN_ABI_MINOR || p->size < TOCSIN_PLUGIN_SIZE_1_1 ||
        p->option_size != sizeof(struct tocsin_option) || p->kind != TOCSIN_SINK ||
        strcmp(p->name, "example") != 0 || !p->create || !p->deliver || !p->deliver_sized) {
        fprintf(stderr, "bad descriptor\n");
        return 1;
    }
    printf("check.sh: %s: sink \"%s\" %s, ABI %u.%u, %u bytes\n", argv[1], p->name,
           p->version, p->abi_major, p->abi_minor, p->size);
    return 0;
}
PROBE
# shellcheck disable=SC2086 # cflags is a word list
$CC -std=c11 $cflags -o "$work/probe" "$work/probe.c" -ldl
"$work/probe" "$work/sink_example.so"
exported=$(nm -D --defined-only "$work/sink_example.so" | awk '$2 ~ /[A-Z]/ && $2 != "A" {print $3}' | sort | tr '\n' ' ')
echo "check.sh: exported: $exported"
echo "check.sh: OK"
