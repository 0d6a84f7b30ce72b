/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: iscsi_parse_pdu and iscsi_keys_scan (the target PDUs of a discovery session),
 * PDU after PDU as the probe reads them.
 * Asserts the parse.h invariants: consumed <= len, the data segment inside what was consumed,
 * text fields NUL-terminated and free of control characters, identical results when parsed again.
 */
#include "probes/parse/iscsi_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct iscsi_keys k, k2;

	for (int i = 0; i < 32; i++) {
		struct iscsi_pdu a, b;
		int r = iscsi_parse_pdu(data, size, &a);

		FUZZ_PARSED(r, size, iscsi_parse_pdu(data, size, &b), &a, &b);
		if (r <= 0)
			break;
		CHECK(r >= ISCSI_BHS_LEN && a.data_off + a.data_len <= (size_t)r);
		memset(&k, 0, sizeof(k));
		memset(&k2, 0, sizeof(k2));
		iscsi_keys_scan(data + a.data_off, a.data_len, &k);
		iscsi_keys_scan(data + a.data_off, a.data_len, &k2);
		CHECK(memcmp(&k, &k2, sizeof(k)) == 0);
		fuzz_text(k.auth_method, sizeof(k.auth_method), 0);
		for (unsigned t = 0; t < ISCSI_TARGETS_MAX; t++)
			fuzz_text(k.targets[t], sizeof(k.targets[t]), 0);
		data += r;
		size -= (size_t)r;
	}
	return 0;
}
