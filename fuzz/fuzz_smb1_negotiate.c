/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: smb1_parse_negotiate. Asserts consumed <= len, identical results on a second
 * parse, names NUL-terminated and printable, Words / Bytes inside the frame, a form that matches
 * WordCount.
 */
#include "probes/parse/smb1_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smb1_negotiate a, b;
	int r = smb1_parse_negotiate(data, size, &a);

	FUZZ_PARSED(r, size, smb1_parse_negotiate(data, size, &b), &a, &b);
	fuzz_text(a.domain, sizeof(a.domain), 0);
	fuzz_text(a.server, sizeof(a.server), 0);
	if (r > 0) {
		CHECK((uint32_t)r == a.hdr.frame_len && a.hdr.kind == SMB_FRAME_SMB1);
		CHECK(a.hdr.bytes_off + a.hdr.byte_count <= (uint32_t)r);
		CHECK(a.hdr.command == SMB1_COM_NEGOTIATE);
		CHECK(a.form == SMB1_NEG_ERROR || a.hdr.status == 0);
		CHECK(a.form != SMB1_NEG_NT || a.hdr.word_count == 17);
		CHECK(a.form != SMB1_NEG_LANMAN || a.hdr.word_count == 13);
		CHECK(!smb1_negotiate_accepted(&a) || a.form >= SMB1_NEG_LANMAN);
	}
	return 0;
}
