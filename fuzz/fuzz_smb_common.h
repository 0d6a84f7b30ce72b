/* SPDX-License-Identifier: MIT */
/* Checks shared by the SMB / NetBIOS fuzz targets (parse-b). */
#ifndef EXPOSURE_FUZZ_SMB_COMMON_H
#define EXPOSURE_FUZZ_SMB_COMMON_H

#include <stdlib.h>
#include <string.h>

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/* NUL-terminated inside its array, printable ASCII only. */
static inline void check_text(const char *s, size_t size)
{
	const char *nul = memchr(s, 0, size);

	CHECK(nul != NULL);
	for (const char *p = s; p < nul; p++)
		CHECK(*p >= 0x20 && *p < 0x7f);
}

#endif
