/* plugin_fixture.h: what the unit tests that load real plugins share:
 * the built test plugins and a scratch directory. */
#ifndef TC_TEST_PLUGIN_FIXTURE_H
#define TC_TEST_PLUGIN_FIXTURE_H

#include <stddef.h>

/* $TOCSIN_TEST_PLUGIN_DIR (set by make check) with its .so files made
 * 0755 and itself not writable by group or others, since the loader
 * refuses those and libtool leaves both as the umask says. Exits 99 (a
 * hard error) when unset. */
const char *tu_plugin_dir(void);

/* A new directory "prefix.XXXXXX" under $TOCSIN_TMPDIR (default /tmp),
 * its path in buf. Fails the test when it cannot be made. */
void tu_mkdtemp(char *buf, size_t size, const char *prefix);

#endif
