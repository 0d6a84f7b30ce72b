/* SPDX-License-Identifier: MIT */
/* Files of ours that are not this binary (sibling.h). */
#include "core/sibling.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static bool usable(const char *path, int mode)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, mode) == 0;
}

int sibling_find(const char *env, const char *name, const char *installed_dir, int mode, char *buf,
                 size_t n, char *err, size_t errlen)
{
	const char *v = getenv(env);
	char self[PATH_MAX];
	ssize_t len;
	char *slash;

	if (v && v[0]) {
		if ((size_t)snprintf(buf, n, "%s", v) < n && usable(buf, mode))
			return 0;
		snprintf(err, errlen, "%s=%s: not a usable file", env, v);
		return -ENOENT;
	}
	len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (len > 0) {
		self[len] = '\0';
		if ((slash = strrchr(self, '/')) != NULL) {
			slash[1] = '\0';
			if ((size_t)snprintf(buf, n, "%s%s", self, name) < n && usable(buf, mode))
				return 0;
		}
	}
	if ((size_t)snprintf(buf, n, "%s/%s", installed_dir, name) < n && usable(buf, mode))
		return 0;
	snprintf(err, errlen, "no %s next to this binary nor in %s", name, installed_dir);
	return -ENOENT;
}

void *sibling_module(const char *env, const char *name, const char *installed_dir, const char *sym,
                     char *err, size_t errlen)
{
	char path[PATH_MAX];
	void *h, *p;

	if (sibling_find(env, name, installed_dir, R_OK, path, sizeof(path), err, errlen) < 0)
		return NULL;
	if (!(h = dlopen(path, RTLD_NOW | RTLD_LOCAL)) || !(p = dlsym(h, sym))) {
		snprintf(err, errlen, "%s", dlerror());
		return NULL;
	}
	return p;
}
