/* SPDX-License-Identifier: MIT */
/* Advice lookup and JSON form (advice.h); the text is in advice_data.c. */
#include "catalogue/advice/advice.h"
#include "catalogue/advice/advice_tables.h"
#include "core/err.h"

#include <stdbool.h>
#include <string.h>

const struct advice *advice_all(enum lang lang, size_t *count)
{
	if ((unsigned)lang >= LANG_X_MAX) {
		*count = 0;
		return NULL;
	}
	*count = advice_tables[lang].count;
	return advice_tables[lang].items;
}

const struct advice *advice_get(const char *finding_id, enum lang lang)
{
	const struct advice *items;
	size_t n;

	if (finding_id == NULL)
		return NULL;
	items = advice_all(lang, &n);
	/* About twenty entries: a linear scan costs less than keeping a sorted index honest. */
	for (size_t i = 0; i < n; i++)
		if (strcmp(items[i].id, finding_id) == 0)
			return &items[i];
	return NULL;
}

static int put_string(json_t *o, const char *key, const char *value)
{
	json_t *v = value ? json_string(value) : json_null();

	return json_object_set_new(o, key, v) == 0 ? 0 : -ERR_NOMEM;
}

json_t *advice_json(const struct advice *a)
{
	json_t *o = NULL, *actions = NULL;

	if (a == NULL)
		return NULL;
	o = json_object();
	actions = json_array();
	if (o == NULL || actions == NULL)
		goto fail;
	if (put_string(o, "id", a->id) < 0 || put_string(o, "title", a->title) < 0 ||
	    put_string(o, "meaning", a->meaning) < 0)
		goto fail;
	for (size_t i = 0; i < a->n_actions; i++) {
		const struct advice_action *act = &a->actions[i];
		json_t *ja = json_object();

		if (json_array_append_new(actions, ja) < 0)
			goto fail;
		if (put_string(ja, "platform", act->platform) < 0 ||
		    put_string(ja, "text", act->text) < 0 ||
		    put_string(ja, "command", act->command) < 0)
			goto fail;
	}
	if (json_object_set_new(o, "actions", actions) < 0) {
		actions = NULL; /* set_new consumed it even on failure */
		goto fail;
	}
	return o;
fail:
	json_decref(actions);
	json_decref(o);
	return NULL;
}
