/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the SMB1 reply parsers of the MS17-010 sequence (SESSION_SETUP_ANDX,
 * TREE_CONNECT_ANDX, TRANSACTION / TRANSACTION2), the MS17-010 and DoublePulsar classifiers, and
 * smb1_build_tree_connect_ipc with the input as host. Asserts consumed <= len, identical results
 * on a second parse, text fields NUL-terminated and printable, blocks inside the frame.
 */
#include "probes/parse/smb1_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct smb1_session_setup s1, s2;
	static struct smb1_tree_connect t1, t2;
	static struct smb1_trans x1, x2;
	static uint8_t req[SMB1_TREE_CONNECT_REQ_MAX];
	struct smb1_header h;
	struct dp_result dp;
	const char *why = NULL;
	char host[SMB1_HOST_MAX + 2];
	size_t n;
	int r, rh;

	rh = smb1_parse_header(data, size, &h);
	CHECK(rh <= (int)size);

	r = smb1_parse_session_setup(data, size, &s1);
	FUZZ_PARSED(r, size, smb1_parse_session_setup(data, size, &s2), &s1, &s2);
	fuzz_text(s1.native_os, sizeof(s1.native_os), 0);
	fuzz_text(s1.native_lanman, sizeof(s1.native_lanman), 0);
	fuzz_text(s1.primary_domain, sizeof(s1.primary_domain), 0);
	CHECK(r <= 0 || r == rh);

	r = smb1_parse_tree_connect(data, size, &t1);
	FUZZ_PARSED(r, size, smb1_parse_tree_connect(data, size, &t2), &t1, &t2);
	fuzz_text(t1.service, sizeof(t1.service), 0);
	fuzz_text(t1.native_fs, sizeof(t1.native_fs), 0);
	CHECK(r <= 0 || r == rh);

	r = smb1_parse_trans(data, size, &x1);
	FUZZ_PARSED(r, size, smb1_parse_trans(data, size, &x2), &x1, &x2);
	if (r > 0) {
		uint32_t msg = x1.hdr.frame_len - 4;

		CHECK(!x1.param_count || (uint32_t)x1.param_offset + x1.param_count <= msg);
		CHECK(!x1.data_count || (uint32_t)x1.data_offset + x1.data_count <= msg);
	}

	if (rh > 0) {
		enum ms17_verdict v = smb1_ms17_classify(&h, 0x0041, &why);

		CHECK(why != NULL && v <= MS17_NOT_VULNERABLE);
		CHECK(v != MS17_VULNERABLE || (h.nt_status && h.status == 0xC0000205u));
		CHECK(smb1_doublepulsar_classify(&h, &dp) == dp.verdict && dp.reason != NULL);
		CHECK(dp.verdict != DP_PRESENT || h.mid == SMB1_DP_PRESENT_MID);
	}

	n = size < sizeof(host) - 1 ? size : sizeof(host) - 1;
	memcpy(host, data, n);
	host[n] = '\0';
	r = smb1_build_tree_connect_ipc(req, sizeof(req), 1, 2, host);
	CHECK(r == -ERR_RANGE || (r > 0 && (size_t)r <= sizeof(req)));
	if (r > 0)
		CHECK(smb1_parse_header(req, (size_t)r, &h) == r && h.word_count == 4);
	return 0;
}
