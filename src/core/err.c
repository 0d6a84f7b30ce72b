/* SPDX-License-Identifier: MIT */
/* Names and messages for error codes (err.h). */
#include "core/err.h"

#include <errno.h>
#include <string.h>

static const char *const err_names[] = {
#define ERR_NAME(name, text) "ERR_" #name,
    ERR_MAP(ERR_NAME)
#undef ERR_NAME
};

static const char *const err_texts[] = {
#define ERR_TEXT(name, text) text,
    ERR_MAP(ERR_TEXT)
#undef ERR_TEXT
};

static int project_index(int r)
{
	int code = -r;

	if (code > ERR_BASE && code < ERR_X_MAX)
		return code - ERR_BASE - 1;
	return -1;
}

const char *err_name(int r)
{
	int i = project_index(r);

	if (i >= 0)
		return err_names[i];
	if (r >= 0)
		return "OK";
	/* strerrorname_np is glibc >= 2.32; Debian 12 ships 2.36. */
	const char *n = strerrorname_np(-r);
	return n ? n : "EUNKNOWN";
}

const char *err_str(int r)
{
	int i = project_index(r);

	if (i >= 0)
		return err_texts[i];
	if (r >= 0)
		return "success";
	const char *d = strerrordesc_np(-r);
	return d ? d : "unknown error";
}
