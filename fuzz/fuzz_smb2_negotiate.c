/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: smb2_parse_negotiate. Asserts consumed <= len, identical results on a second
 * parse, the security buffer inside the message, no more contexts walked than announced.
 */
#include "probes/parse/smb2_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smb2_negotiate a, b;
	int r = smb2_parse_negotiate(data, size, &a);

	FUZZ_PARSED(r, size, smb2_parse_negotiate(data, size, &b), &a, &b);
	if (r > 0) {
		CHECK((uint32_t)r == a.frame_len);
		CHECK(smb2_dialect_name(a.dialect) != NULL);
		if (a.status == 0) {
			CHECK(a.structure_size == 65);
			CHECK(!a.security_buffer_length ||
			      (uint32_t)a.security_buffer_offset + a.security_buffer_length <=
			          (uint32_t)r - 4);
			CHECK(a.contexts_seen <= a.context_count &&
			      a.contexts_seen <= SMB2_CONTEXTS_MAX);
		}
	}
	return 0;
}
