/* SPDX-License-Identifier: MIT */
/*
 * The JSON body of POST /api/diagnoses, read without the request around it (a pure function:
 * the handler in api.c acts on the result, the fuzzer feeds it hostile bodies):
 *   {"lang": "en" | "ja", "tickets": ["v4....", "v6...."]}
 * Both members are optional; an empty body is an empty object.
 */
#ifndef EXPOSURE_WEB_BODY_H
#define EXPOSURE_WEB_BODY_H

#include "core/lang.h"
#include "web/ticket.h"

#include <stdbool.h>
#include <stddef.h>

#define API_BODY_TICKETS_MAX 2 /* the requester's address and one per other family */

enum api_body_tickets {
	API_BODY_TICKETS_OK = 0,
	API_BODY_TICKETS_NOT_LIST, /* "tickets" present but not an array */
	API_BODY_TICKETS_TOO_MANY, /* more than API_BODY_TICKETS_MAX */
};

struct api_body {
	enum lang lang; /* "lang" when it is "en" or "ja", else the default given */
	enum api_body_tickets tickets_error;
	size_t n_tickets; /* 0 unless tickets_error is API_BODY_TICKETS_OK */
	struct {
		bool string; /* false: not a JSON string */
		/* The string; "" when longer than a ticket, which ticket_verify refuses as
		 * malformed all the same. */
		char text[TICKET_LEN + 1];
	} tickets[API_BODY_TICKETS_MAX];
};

/*
 * Read body[0..len) (not NUL-terminated) into *out, lang the language when the body names none.
 * Returns 0, or -ERR_SYNTAX when a non-empty body is not a JSON object (*out then holds the
 * defaults). Never fails for the tickets: out->tickets_error says what is wrong with them.
 */
int api_body_parse(const char *body, size_t len, enum lang lang, struct api_body *out);

#endif
