/* SPDX-License-Identifier: MIT */
/*
 * Files of ours that are not this binary: the prober executable (prober_exe_find), the
 * PostgreSQL store module (store.c) and the OpenSSL module (engine/tls_load.c). One rule for all of
 * them, so that the build tree, an installation and a test find them the same way.
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

/*
 * Load module name (found as sibling_find does, readable) and return its symbol sym, or NULL
 * with one line in err. RTLD_NOW | RTLD_LOCAL: a module that does not fit this program fails
 * here, not at a later call; never closed (what it started lives as long as the process).
 */
void *sibling_module(const char *env, const char *name, const char *installed_dir, const char *sym,
                     char *err, size_t errlen);

#endif
