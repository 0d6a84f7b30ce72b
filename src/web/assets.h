/* SPDX-License-Identifier: MIT */
/* The page's files, embedded at build time by embed_assets.py from web/ (assets.c). */
#ifndef EXPOSURE_WEB_ASSETS_H
#define EXPOSURE_WEB_ASSETS_H

#include <stddef.h>

struct web_asset {
	const char *path; /* "/app.js" */
	const char *type; /* Content-Type */
	const unsigned char *data;
	size_t len;
};

extern const struct web_asset web_assets[];
extern const size_t web_n_assets;

#endif
