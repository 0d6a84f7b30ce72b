/* SPDX-License-Identifier: MIT */
/*
 * Files of ours that are not this binary: the prober executable (prober_exe_find) and the
 * PostgreSQL store module (store.c). One rule for all of them, so that the build tree, an
 * installation and a test find them the same way.
 */
#ifndef EXPOSURE_CORE_SIBLING_H
#define EXPOSURE_CORE_SIBLING_H

#include <stddef.h>

/*
 * The path of file name into buf: $env when that variable is set and not empty (tests, a
 * relocated installation), else name next to the running binary (/proc/self/exe: the build
 * tree, where they are built side by side), else installed_dir/name. A candidate counts when it
 * is a regular file that access(mode) allows (X_OK for a program, R_OK for a module). Returns
 * 0, or -ENOENT with one line in err saying where it looked.
 */
int sibling_find(const char *env, const char *name, const char *installed_dir, int mode, char *buf,
                 size_t n, char *err, size_t errlen);

#endif
