/* SPDX-License-Identifier: MIT */
/* The device class from real User-Agent strings (devclass.h). */
#include "web/devclass.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

struct ua_case {
	const char *ua;
	enum store_device want;
};

static const struct ua_case cases[] = {
    /* iPad (Safari asking for the mobile site), iPhone, iPod. */
    {"Mozilla/5.0 (iPad; CPU OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Mobile/15E148 Safari/604.1",
     STORE_DEVICE_TABLET},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
     STORE_DEVICE_PHONE},
    {"Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
     "Gecko) CriOS/120.0.6099.119 Mobile/15E148 Safari/604.1",
     STORE_DEVICE_PHONE},
    {"Mozilla/5.0 (iPod touch; CPU iPhone OS 12_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, "
     "like Gecko) Version/12.1.2 Mobile/15E148 Safari/604.1",
     STORE_DEVICE_PHONE},
    /* Android phones (Chrome with "Mobile", Firefox with "Mobile;"), tablets (no "Mobile";
     * Firefox's "Tablet;"), Amazon's Fire. */
    {"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.6367.82 Mobile Safari/537.36",
     STORE_DEVICE_PHONE},
    {"Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Mobile Safari/537.36",
     STORE_DEVICE_PHONE},
    {"Mozilla/5.0 (Android 14; Mobile; rv:126.0) Gecko/126.0 Firefox/126.0", STORE_DEVICE_PHONE},
    {"Mozilla/5.0 (Linux; Android 13; SM-X710) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/124.0.0.0 Safari/537.36",
     STORE_DEVICE_TABLET},
    {"Mozilla/5.0 (Android 13; Tablet; rv:126.0) Gecko/126.0 Firefox/126.0", STORE_DEVICE_TABLET},
    {"Mozilla/5.0 (Linux; Android 9; KFMAWI) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Silk/124.2.1 like Chrome/124.0.6367.118 Safari/537.36",
     STORE_DEVICE_TABLET},
    {"Mozilla/5.0 (Windows Phone 10.0; Android 6.0.1; Microsoft; Lumia 950) AppleWebKit/537.36 "
     "(KHTML, like Gecko) Chrome/52.0.2743.116 Mobile Safari/537.36 Edge/15.15063",
     STORE_DEVICE_PHONE},
    /* Desktops: Windows, macOS (an iPadOS 13+ iPad in desktop mode looks the same), Linux,
     * ChromeOS; headless Chromium as the browser test sends it. */
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36 Edg/125.0.0.0",
     STORE_DEVICE_DESKTOP},
    {"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:126.0) Gecko/20100101 Firefox/126.0",
     STORE_DEVICE_DESKTOP},
    {"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) "
     "Version/17.5 Safari/605.1.15",
     STORE_DEVICE_DESKTOP},
    {"Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0",
     STORE_DEVICE_DESKTOP},
    {"Mozilla/5.0 (X11; Ubuntu; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36",
     STORE_DEVICE_DESKTOP},
    {"Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) "
     "Chrome/125.0.0.0 Safari/537.36",
     STORE_DEVICE_DESKTOP},
    {"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
     "HeadlessChrome/120.0.6099.28 Safari/537.36",
     STORE_DEVICE_DESKTOP},
    /* Bots and tools, even those that claim a phone. */
    {"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
     STORE_DEVICE_OTHER},
    {"Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like "
     "Gecko) Chrome/125.0.6422.60 Mobile Safari/537.36 (compatible; Googlebot/2.1; "
     "+http://www.google.com/bot.html)",
     STORE_DEVICE_OTHER},
    {"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", STORE_DEVICE_OTHER},
    {"Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)", STORE_DEVICE_OTHER},
    {"curl/8.5.0", STORE_DEVICE_OTHER},
    {"Wget/1.21.4", STORE_DEVICE_OTHER},
    {"python-requests/2.31.0", STORE_DEVICE_OTHER},
    {"Python-urllib/3.12", STORE_DEVICE_OTHER},
    {"Go-http-client/1.1", STORE_DEVICE_OTHER},
    /* Nothing to go by. */
    {"", STORE_DEVICE_OTHER},
    {"Mozilla/5.0", STORE_DEVICE_OTHER},
};

static void test_real_user_agents(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		enum store_device got = devclass_from_ua(cases[i].ua);

		if (got != cases[i].want)
			fail_msg("%s: got class %d, want %d", cases[i].ua, (int)got,
			         (int)cases[i].want);
	}
	assert_int_equal(devclass_from_ua(NULL), STORE_DEVICE_OTHER);
}

/* Only the first DEVCLASS_UA_MAX bytes count: a marker past them is not read. */
static void test_bounded(void **state)
{
	char ua[DEVCLASS_UA_MAX + 32];

	(void)state;
	memset(ua, 'x', sizeof(ua) - 1);
	ua[sizeof(ua) - 1] = '\0';
	memcpy(ua + DEVCLASS_UA_MAX + 2, "iPad", 4);
	assert_int_equal(devclass_from_ua(ua), STORE_DEVICE_OTHER);
	memcpy(ua + DEVCLASS_UA_MAX - 4, "iPad", 4);
	assert_int_equal(devclass_from_ua(ua), STORE_DEVICE_TABLET);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_real_user_agents),
	    cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
