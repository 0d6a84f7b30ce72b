/* SPDX-License-Identifier: MIT */
/*
 * The operator's dashboard /admin/stats (docs/api.md "Operator dashboard"): the statistics of
 * `exposure report` behind an operator token, with period and label filters and a CSV
 * download.
 */
#ifndef EXPOSURE_WEB_ADMIN_H
#define EXPOSURE_WEB_ADMIN_H

#include "web/web.h"

#include <microhttpd.h>

#define ADMIN_ENV_TOKEN  "EXPOSURE_ADMIN_TOKEN"
#define ADMIN_TOKEN_MIN  16
#define ADMIN_TOKEN_MAX  512
#define ADMIN_SESSION_MS (12 * 3600 * 1000LL)

/*
 * Read the operator token (cfg.admin_token_file, else $EXPOSURE_ADMIN_TOKEN, else the
 * dashboard is off) and the labels file (cfg.labels_path). The token is kept only as a keyed
 * hash. Prints a one-line reason and returns a negative error when the file is group or world
 * accessible, unreadable, or the token malformed, or the labels file is bad. Returns 0.
 */
int admin_init(struct web *w);
void admin_free(struct web *w);

/* Handle a request under /admin (the route is off: 404). rq_body/rq_len: the request body. */
enum MHD_Result admin_route(struct web *w, struct MHD_Connection *c, const char *url,
                            const char *method, const char *body, size_t len);

#endif
