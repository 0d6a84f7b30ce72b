/* SPDX-License-Identifier: MIT */
/* The page and its files, embedded at build time (httpd.h, assets.h). */
#include "web/httpd.h"
#include "web/assets.h"

#include <stdlib.h>
#include <string.h>

static const struct web_asset *asset(const char *path)
{
	for (size_t i = 0; i < web_n_assets; i++)
		if (strcmp(web_assets[i].path, path) == 0)
			return &web_assets[i];
	return NULL;
}

bool page_has_asset(const char *path)
{
	/* The page itself is served by page_index, with its language set. */
	return strcmp(path, "/index.html") != 0 && asset(path) != NULL;
}

enum MHD_Result page_index(struct web *w, struct MHD_Connection *c)
{
	const struct web_asset *a = asset("/index.html");
	const char *lang = lang_name(httpd_lang(c));
	struct MHD_Response *r;
	char *body, *p;

	if (!a)
		return httpd_error(w, c, 500, "internal", "The page is missing from this build.");
	body = malloc(a->len + 1);
	if (!body)
		return MHD_NO;
	memcpy(body, a->data, a->len);
	body[a->len] = '\0';
	/* The page's lang attribute follows Accept-Language before any script runs. */
	p = strstr(body, "lang=\"en\"");
	if (p)
		memcpy(p + 6, lang, 2);
	r = httpd_text(a->type, body, a->len);
	if (r) {
		MHD_add_response_header(r, "Cache-Control", "no-cache");
		MHD_add_response_header(r, "Vary", "Accept-Language");
	}
	return httpd_queue(w, c, 200, r);
}

enum MHD_Result page_asset(struct web *w, struct MHD_Connection *c, const char *path)
{
	const struct web_asset *a = asset(path);
	struct MHD_Response *r;

	if (!a)
		return httpd_error(w, c, 404, "not-found", "Not found.");
	r = MHD_create_response_from_buffer(a->len, (void *)a->data, MHD_RESPMEM_PERSISTENT);
	if (r) {
		MHD_add_response_header(r, "Content-Type", a->type);
		MHD_add_response_header(r, "Cache-Control", "no-cache");
	}
	return httpd_queue(w, c, 200, r);
}
