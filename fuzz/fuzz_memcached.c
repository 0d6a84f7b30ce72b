/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: memcached_parse_line (TCP reply lines, one after the other) and
 * memcached_udp_parse_hdr (a UDP answer datagram, then its line).
 * Asserts the parse.h invariants: consumed <= len, a line taken only up to its LF, text
 * NUL-terminated and printable, and the same result when parsed again.
 */
#include "probes/parse/memcached_parse.h"

#include "fuzz.h"

static void lines(const uint8_t *data, size_t size)
{
	for (int i = 0; i < 8 && size > 0; i++) {
		struct memcached_line a, b;
		int r = memcached_parse_line(data, size, &a);

		FUZZ_PARSED(r, size, memcached_parse_line(data, size, &b), &a, &b);
		CHECK(r == PARSE_AGAIN || r == -ERR_TOOBIG || r > 0);
		fuzz_text(a.text, sizeof(a.text), 0);
		if (r <= 0)
			return;
		CHECK(data[r - 1] == '\n' && memchr(data, '\n', (size_t)r - 1) == NULL);
		CHECK(a.kind >= MEMCACHED_VERSION && a.kind <= MEMCACHED_OTHER);
		data += r;
		size -= (size_t)r;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct memcached_udp_hdr h, g;
	int r = memcached_udp_parse_hdr(data, size, &h);

	lines(data, size);
	FUZZ_PARSED(r, size, memcached_udp_parse_hdr(data, size, &g), &h, &g);
	CHECK(r == -ERR_SYNTAX || r == MEMCACHED_UDP_HDR);
	if (r > 0) {
		CHECK(h.total > 0 && h.seq < h.total && h.reserved == 0);
		lines(data + r, size - (size_t)r);
	}
	return 0;
}
