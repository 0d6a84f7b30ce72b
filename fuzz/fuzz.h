/* SPDX-License-Identifier: MIT */
/*
 * The checks every fuzz target asserts (one header for all of fuzz/): a failed check aborts, so
 * libFuzzer and the corpus replay driver (fuzz_main.c) both report it as a crash.
 * - FUZZ_PARSED: the contract of parse.h for one parser call: never more consumed than given,
 *   and the same input parsed again gives the same return value and the same struct;
 * - fuzz_text: a text field is NUL-terminated inside its array and holds only printable ASCII;
 * - fuzz_cstr: the input as a C string, for the parsers of the web front that take one (an
 *   exactly-sized heap copy, so ASan sees a read past its NUL);
 * - fuzz_message: an error message is one non-empty line, NUL-terminated inside its buffer.
 * Undefined behaviour is a finding too: UBSan stops at the first report, in the libFuzzer binary
 * and in the corpus replay test alike (by default it prints and goes on, and the test passes).
 */
#ifndef EXPOSURE_FUZZ_FUZZ_H
#define EXPOSURE_FUZZ_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

const char *__ubsan_default_options(void);
__attribute__((used)) const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:abort_on_error=1:print_stacktrace=1";
}

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

/* data[0..size) and a NUL in a heap block of size + 1 bytes; free() it. Aborts without memory. */
static inline char *fuzz_cstr(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	CHECK(s != NULL);
	if (size)
		memcpy(s, data, size);
	s[size] = '\0';
	return s;
}

static inline void fuzz_message(const char *err, size_t size)
{
	const char *nul = memchr(err, 0, size);

	CHECK(nul != NULL && nul > err);
	CHECK(memchr(err, '\n', (size_t)(nul - err)) == NULL);
}

#endif
