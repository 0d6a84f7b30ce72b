/* SPDX-License-Identifier: MIT */
/*
 * The HTTP side of the web service, shared by its files: httpd.c (daemons, routing, responses,
 * the same-origin check), api.c (the JSON API), sse.c (event streams), page.c (the page and its
 * files), metrics.c (/metrics, /healthz) and admin.c (the operator's dashboard). Every handler
 * queues exactly one response, or returns MHD_NO to drop the connection.
 */
#ifndef EXPOSURE_WEB_HTTPD_H
#define EXPOSURE_WEB_HTTPD_H

#include "web/web.h"

#include <jansson.h>
#include <microhttpd.h>

/*
 * Queue r (taken; NULL gives MHD_NO) with the security headers every response carries, and
 * count it for /metrics.
 */
enum MHD_Result httpd_queue(struct web *w, struct MHD_Connection *c, unsigned status,
                            struct MHD_Response *r);

/* A response of body (malloc'ed, taken even on failure) with its Content-Type; NULL on OOM. */
struct MHD_Response *httpd_text(const char *type, char *body, size_t len);

/*
 * Queue a JSON response of o (reference stolen) with Cache-Control: no-store; then extra
 * headers as name, value pairs ending with NULL.
 */
enum MHD_Result httpd_json(struct web *w, struct MHD_Connection *c, unsigned status, json_t *o, ...)
    __attribute__((sentinel));

/* The same for a JSON text already serialised (malloc'ed, taken). */
enum MHD_Result httpd_json_text(struct web *w, struct MHD_Connection *c, unsigned status,
                                char *body, size_t len);

/* {"reason": reason, "message": message} with status. */
enum MHD_Result httpd_error(struct web *w, struct MHD_Connection *c, unsigned status,
                            const char *reason, const char *message);

/*
 * True if the request may come from our own page: Sec-Fetch-Site, when sent, is same-origin,
 * and Origin, when sent, is --origin (or http(s):// plus the Host).
 */
bool httpd_same_origin(struct web *w, struct MHD_Connection *c);

/* The language of the request's Accept-Language (request_lang). */
enum lang httpd_lang(struct MHD_Connection *c);

/* The JSON API (api.c, docs/api.md). id: a valid store id. */
enum MHD_Result api_whoami(struct web *w, struct MHD_Connection *c);
/* GET /api/ticket: an address ticket for the address that connected (ticket.h). */
enum MHD_Result api_ticket(struct web *w, struct MHD_Connection *c);
/*
 * POST /api/diagnoses. It may suspend the connection until the new row is committed (pending.h):
 * then *pending is set, nothing is queued, and libmicrohttpd calls the handler again once the
 * connection resumes, which must then call api_create_resumed (it answers and clears *pending);
 * a request closed before that calls api_create_dropped.
 */
enum MHD_Result api_create(struct web *w, struct MHD_Connection *c, const char *body, size_t len,
                           struct pending **pending);
enum MHD_Result api_create_resumed(struct web *w, struct MHD_Connection *c,
                                   struct pending **pending);
void api_create_dropped(struct web *w, struct pending **pending);
enum MHD_Result api_get(struct web *w, struct MHD_Connection *c, const char *id);
enum MHD_Result api_delete(struct web *w, struct MHD_Connection *c, const char *id);
/* PUT /api/diagnoses/ID/connection: the visitor's answer (docs/api.md, contract C). */
enum MHD_Result api_connection(struct web *w, struct MHD_Connection *c, const char *id,
                               const char *body, size_t len);
enum MHD_Result api_advice(struct web *w, struct MHD_Connection *c);

/* GET /api/diagnoses/ID/events: server-sent events (sse.c). */
enum MHD_Result sse_events(struct web *w, struct MHD_Connection *c, const char *id);
/* Resume every suspended stream, e.g. to end them at shutdown. */
void sse_wake_all_locked(struct web *w);
/* Resume every parked stream of another node's diagnosis, to read the store again. */
void sse_tick(struct web *w);
/* store_on_change's callback (ud: the web): another node wrote, look now. */
void sse_store_changed(void *ud);
/* How often those streams look at the store (the wake-up a notification could bring sooner). */
#define SSE_FOLLOW_MS 500

/* The page (also under /d/ID) and its files (page.c): page_has_asset says which paths are. */
enum MHD_Result page_index(struct web *w, struct MHD_Connection *c);
enum MHD_Result page_asset(struct web *w, struct MHD_Connection *c, const char *path);
bool page_has_asset(const char *path);

/* GET /metrics and /healthz (metrics.c). */
enum MHD_Result metrics_respond(struct web *w, struct MHD_Connection *c);
enum MHD_Result health_respond(struct web *w, struct MHD_Connection *c);

#endif
