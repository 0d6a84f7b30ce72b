/* SPDX-License-Identifier: MIT */
/*
 * The languages exposure speaks, and the one place that chooses among them: for the page, the
 * API's advice, the result documents and the command line alike.
 */
#ifndef EXPOSURE_CORE_LANG_H
#define EXPOSURE_CORE_LANG_H

enum lang { LANG_EN = 0, LANG_JA, LANG_X_MAX };

/* "en", "ja"; NULL for a value out of range. */
const char *lang_name(enum lang l);

/*
 * Choose the language for s: either a plain tag ("en", "ja", "ja-JP", case-insensitive) or an
 * HTTP Accept-Language value ("ja-JP,ja;q=0.9,en;q=0.8", RFC 9110 §12.5.4): the supported
 * language with the highest weight wins, the earlier one in the list on a tie; "*" stands for
 * every supported language not named (so "*" alone is English, the first); q=0 excludes.
 * Returns 0 and sets *out; -ERR_UNSUPPORTED when no supported language is acceptable (also for
 * an empty or blank s); -ERR_SYNTAX when s is malformed (a bad tag or weight, s NULL). *out is
 * written only on success, so the caller can preset its default.
 */
int lang_choose(const char *s, enum lang *out);

#endif
