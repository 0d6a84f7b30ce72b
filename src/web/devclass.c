/* SPDX-License-Identifier: MIT */
/* Device class from a User-Agent (devclass.h): a few substring markers, most specific first. */
#include "web/devclass.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

/* Case-insensitive: does the first n bytes of ua contain m? */
static bool has(const char *ua, size_t n, const char *m)
{
	size_t ml = strlen(m);

	for (size_t i = 0; i + ml <= n; i++) {
		if (strncasecmp(ua + i, m, ml) == 0)
			return true;
	}
	return false;
}

/* Automated clients: crawlers, monitors, command-line tools. Not a visitor's device. */
static const char *const bot_markers[] = {
    "bot",           "crawler",        "spider", "slurp",  "curl/",      "wget/", "python-requests",
    "python-urllib", "go-http-client", "java/",  "libwww", "httpclient",
};

enum store_device devclass_from_ua(const char *ua)
{
	size_t n = ua ? strnlen(ua, DEVCLASS_UA_MAX) : 0;

	if (n == 0)
		return STORE_DEVICE_OTHER;
	for (size_t i = 0; i < sizeof(bot_markers) / sizeof(bot_markers[0]); i++) {
		if (has(ua, n, bot_markers[i]))
			return STORE_DEVICE_OTHER;
	}
	/* Tablets first: an Android tablet's UA names Android but not "Mobile", and Firefox on
	 * one says "Tablet"; Kindle and Silk are Amazon's tablets. */
	if (has(ua, n, "ipad") || has(ua, n, "tablet") || has(ua, n, "kindle") ||
	    has(ua, n, "silk/"))
		return STORE_DEVICE_TABLET;
	if (has(ua, n, "iphone") || has(ua, n, "ipod") || has(ua, n, "windows phone"))
		return STORE_DEVICE_PHONE;
	if (has(ua, n, "android"))
		return has(ua, n, "mobile") ? STORE_DEVICE_PHONE : STORE_DEVICE_TABLET;
	if (has(ua, n, "windows") || has(ua, n, "macintosh") || has(ua, n, "mac os x") ||
	    has(ua, n, "x11") || has(ua, n, "linux") || has(ua, n, "cros"))
		return STORE_DEVICE_DESKTOP;
	if (has(ua, n, "mobile"))
		return STORE_DEVICE_PHONE;
	return STORE_DEVICE_OTHER;
}
