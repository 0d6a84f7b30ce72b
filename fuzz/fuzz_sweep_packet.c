/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the sweep's reply parser (sweep/packet.h), which reads whatever a swept host or
 * anybody on the path sends. Asserts: the same input parses the same; a parsed packet's
 * headers lie inside the input; the parser sets every byte of its output. The IPv6 parser too.
 */
#include "core/err.h"
#include "sweep/packet.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pkt_tcp a, b;
	uint8_t *copy = malloc(size ? size : 1);
	int r;

	CHECK(copy != NULL);
	memcpy(copy, data, size); /* exactly sized: ASan sees any read past the end */
	memset(&a, 0xaa, sizeof(a));
	memset(&b, 0x55, sizeof(b));
	r = pkt_tcp_parse(copy, size, &a);
	CHECK(r == 0 || r == -ERR_AGAIN || r == -ERR_PROTO);
	CHECK(pkt_tcp_parse(copy, size, &b) == r);
	CHECK(memcmp(&a, &b, sizeof(a)) == 0);
	if (r == 0) {
		CHECK(size >= 40);
		CHECK((size_t)(copy[0] & 0x0f) * 4 + 20 <= size);
		CHECK(a.flags == copy[(copy[0] & 0x0f) * 4 + 13]);
	}
	{
		struct pkt_tcp6 x, y;

		memset(&x, 0xaa, sizeof(x));
		memset(&y, 0x55, sizeof(y));
		r = pkt_tcp6_parse(copy, size, &x);
		CHECK(r == 0 || r == -ERR_AGAIN || r == -ERR_PROTO);
		CHECK(pkt_tcp6_parse(copy, size, &y) == r);
		CHECK(memcmp(&x, &y, sizeof(x)) == 0);
		if (r == 0) {
			CHECK(size >= 60);
			CHECK(x.flags == copy[40 + 13]);
		}
	}
	free(copy);
	return 0;
}
