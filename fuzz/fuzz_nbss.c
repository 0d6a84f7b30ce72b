/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: nbss_parse (as a probe loops over keep-alives), smb_frame_parse, and
 * nbss_build_session_request with the input as names. Asserts consumed <= len, identical results
 * on a second parse, packet lengths that match the type, builders that refuse or write 72 bytes.
 */
#include "probes/parse/nbss_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nbss_packet a, b;
	struct smb_frame f, g;
	uint8_t req[NBSS_REQUEST_LEN + 8];
	char name[24];
	size_t off = 0, n;
	int r;

	for (unsigned i = 0; i < 8 && off <= size; i++) {
		r = nbss_parse(data + off, size - off, &a);
		FUZZ_PARSED(r, size - off, nbss_parse(data + off, size - off, &b), &a, &b);
		if (r <= 0)
			break;
		CHECK((uint32_t)r == NBSS_HDR_LEN + a.length && a.length <= SMB_FRAME_MAX);
		CHECK(a.type != NBSS_NEGATIVE || a.length == 1);
		CHECK(a.type != NBSS_POSITIVE || a.length == 0);
		off += (size_t)r;
	}
	r = smb_frame_parse(data, size, &f);
	FUZZ_PARSED(r, size, smb_frame_parse(data, size, &g), &f, &g);
	if (r > 0)
		CHECK((uint32_t)r == NBSS_HDR_LEN + f.length && f.kind < SMB_FRAME_X_MAX);

	n = size < sizeof(name) - 1 ? size : sizeof(name) - 1;
	memcpy(name, data, n);
	name[n] = '\0';
	r = nbss_build_session_request(req, sizeof(req), name, 0x20, "SELFCHECK", 0);
	CHECK(r == -ERR_RANGE || r == NBSS_REQUEST_LEN);
	if (r > 0) {
		CHECK(nbss_parse(req, (size_t)r, &a) == r && a.type == NBSS_REQUEST);
		for (int i = 5; i < 37; i++)
			CHECK(req[i] >= 'A' && req[i] <= 'P');
	}
	return 0;
}
