/* SPDX-License-Identifier: MIT */
/*
 * The checks every fuzz target asserts (one header for all of fuzz/): a failed check aborts, so
 * libFuzzer and the corpus replay driver (fuzz_main.c) both report it as a crash.
 * - FUZZ_PARSED: the contract of parse.h for one parser call: never more consumed than given,
 *   and the same input parsed again gives the same return value and the same struct;
 * - fuzz_text: a text field is NUL-terminated inside its array and holds only printable ASCII.
 */
#ifndef EXPOSURE_FUZZ_FUZZ_H
#define EXPOSURE_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(c)                                                                                   \
	do {                                                                                       \
		if (!(c))                                                                          \
			abort();                                                                   \
	} while (0)

/*
 * r: the return of the first call (into *a) on size bytes; again: the same call into *b. The
 * structs are compared byte for byte: a parser sets every byte of its output (parse.h).
 */
#define FUZZ_PARSED(r, size, again, a, b)                                                          \
	do {                                                                                       \
		CHECK((r) <= (int)(size));                                                         \
		CHECK((r) == (again) && memcmp((a), (b), sizeof(*(a))) == 0);                      \
	} while (0)

/* NUL-terminated within size, printable ASCII before the NUL (plus extra, when not 0). */
static inline void fuzz_text(const char *s, size_t size, char extra)
{
	const char *nul = memchr(s, 0, size);

	CHECK(nul != NULL);
	for (const char *p = s; p < nul; p++)
		CHECK((*p >= 0x20 && *p < 0x7f) || (extra && *p == extra));
}

#endif
