/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: ssh_parse_packet, ssh_parse_kexinit, ssh_kexinit_weak_names.
 * Asserts the parse.h invariants: consumed <= len, text fields NUL-terminated and free of
 * control characters, and an identical result when the same input is parsed again.
 */
#include "probes/parse/ssh_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ssh_kexinit a, b;
	struct ssh_packet pkt;
	char names[64], big[8192];
	int r, rp;

	rp = ssh_parse_packet(data, size, &pkt);
	CHECK(rp <= (int)size);
	if (rp > 0)
		CHECK(pkt.payload_off + pkt.payload_len + pkt.padding_length == (size_t)rp);
	r = ssh_parse_kexinit(data, size, &a);
	FUZZ_PARSED(r, size, ssh_parse_kexinit(data, size, &b), &a, &b);
	if (r > 0)
		CHECK(r == rp && pkt.msg == SSH_MSG_KEXINIT);
	fuzz_text(a.kex, sizeof(a.kex), 0);
	fuzz_text(a.hostkey, sizeof(a.hostkey), 0);
	fuzz_text(a.enc_c2s, sizeof(a.enc_c2s), 0);
	fuzz_text(a.enc_s2c, sizeof(a.enc_s2c), 0);
	fuzz_text(a.mac_c2s, sizeof(a.mac_c2s), 0);
	fuzz_text(a.mac_s2c, sizeof(a.mac_s2c), 0);
	fuzz_text(a.comp_c2s, sizeof(a.comp_c2s), 0);
	fuzz_text(a.comp_s2c, sizeof(a.comp_s2c), 0);
	r = ssh_kexinit_weak_names(&a, names, sizeof(names));
	CHECK(r >= 0 || r == -ERR_TOOBIG);
	fuzz_text(names, sizeof(names), 0);
	r = ssh_kexinit_weak_names(&a, big, sizeof(big));
	CHECK(r >= 0);
	fuzz_text(big, sizeof(big), 0);
	return 0;
}
