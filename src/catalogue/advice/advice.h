/* SPDX-License-Identifier: MIT */
/*
 * Advice per finding id, in English and Japanese: a title, what the finding means in plain words
 * and what to do, per platform. The text lives in en.json / ja.json and is compiled in at build
 * time (gen_advice.py); nothing is read at run time. See docs/advice.md.
 */
#ifndef EXPOSURE_CATALOGUE_ADVICE_H
#define EXPOSURE_CATALOGUE_ADVICE_H

#include "core/lang.h"

#include <jansson.h>
#include <stddef.h>

/* One step. platform: "all", "windows", "macos", "linux" or "router". */
struct advice_action {
	const char *platform;
	const char *text;    /* one step in plain words, never NULL or empty */
	const char *command; /* a command to copy and run on that platform, or NULL */
};

/* Everything is static storage, valid for the life of the program. */
struct advice {
	const char *id;      /* finding id, e.g. "smb1-enabled" */
	const char *title;   /* one line */
	const char *meaning; /* 2-4 short sentences for someone who is not an expert */
	const struct advice_action *actions; /* in order: the first is the most important */
	size_t n_actions;                    /* >= 1 */
};

/* Advice for finding_id in lang, or NULL (unknown id, unknown lang or finding_id NULL). */
const struct advice *advice_get(const char *finding_id, enum lang lang);

/*
 * Every advice of lang, in the order of its data file; *count gets the number (0 and NULL for
 * an unknown lang). Every language holds the same ids (the build checks it).
 */
const struct advice *advice_all(enum lang lang, size_t *count);

/*
 * The JSON form: {"id", "title", "meaning", "actions": [{"platform", "text", "command"}]}, with
 * "command" null when there is none. New reference; NULL if a is NULL or on out of memory.
 */
json_t *advice_json(const struct advice *a);

#endif
