/* SPDX-License-Identifier: MIT */
/* The JSON body of POST /api/diagnoses (body.h). */
#include "web/body.h"
#include "core/err.h"

#include <jansson.h>
#include <string.h>

static void body_tickets(json_t *list, struct api_body *out)
{
	size_t k;
	json_t *t;

	if (!list)
		return;
	if (!json_is_array(list)) {
		out->tickets_error = API_BODY_TICKETS_NOT_LIST;
		return;
	}
	if (json_array_size(list) > API_BODY_TICKETS_MAX) {
		out->tickets_error = API_BODY_TICKETS_TOO_MANY;
		return;
	}
	json_array_foreach(list, k, t)
	{
		const char *s = json_string_value(t);

		out->tickets[k].string = s != NULL;
		if (s && strlen(s) <= TICKET_LEN)
			memcpy(out->tickets[k].text, s, strlen(s) + 1);
	}
	out->n_tickets = json_array_size(list);
}

int api_body_parse(const char *body, size_t len, enum lang lang, struct api_body *out)
{
	const char *l;
	json_t *b;

	memset(out, 0, sizeof(*out));
	out->lang = lang;
	if (!len)
		return 0;
	b = json_loadb(body, len, 0, NULL);
	if (!json_is_object(b)) {
		json_decref(b);
		return -ERR_SYNTAX;
	}
	l = json_string_value(json_object_get(b, "lang"));
	if (l && strcmp(l, "ja") == 0)
		out->lang = LANG_JA;
	else if (l && strcmp(l, "en") == 0)
		out->lang = LANG_EN;
	body_tickets(json_object_get(b, "tickets"), out);
	json_decref(b);
	return 0;
}
