/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the ONC RPC parsers of the NFS probe: rpc_parse_fragment on the input, then the
 * rest as one record through rpc_parse_reply and both result parsers (portmapper DUMP, mount
 * EXPORT), whatever the reply said.
 * Asserts the parse.h invariants: consumed <= len, the result inside the record, text fields
 * NUL-terminated and free of control characters, identical results when parsed again; each
 * export's world flag is its reach, and the counts agree.
 */
#include "probes/parse/rpc_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct rpc_pmap_list pa, pb;
	static struct rpc_exports ea, eb;
	struct rpc_fragment fa, fb;
	struct rpc_reply ra, rb;
	int r = rpc_parse_fragment(data, size, RPC_RECORD_MAX, &fa);
	size_t off = 0;

	FUZZ_PARSED(r, size, rpc_parse_fragment(data, size, RPC_RECORD_MAX, &fb), &fa, &fb);
	if (r > 0) {
		data += r;
		size -= (size_t)r;
	}
	r = rpc_parse_reply(data, size, &ra);
	FUZZ_PARSED(r, size, rpc_parse_reply(data, size, &rb), &ra, &rb);
	if (r > 0) {
		CHECK(ra.body == (size_t)r);
		off = ra.body;
	}
	r = rpc_parse_pmap_dump(data, size, off, &pa);
	CHECK(r == rpc_parse_pmap_dump(data, size, off, &pb) && memcmp(&pa, &pb, sizeof(pa)) == 0);
	CHECK(pa.n <= RPC_MAPPINGS_MAX && pa.n <= pa.total);
	r = rpc_parse_exports(data, size, off, &ea);
	CHECK(r == rpc_parse_exports(data, size, off, &eb) && memcmp(&ea, &eb, sizeof(ea)) == 0);
	CHECK(ea.n <= RPC_EXPORTS_MAX && ea.n <= ea.total && ea.world <= ea.total);
	CHECK(ea.world_sure <= ea.world && ea.world + ea.unseen <= ea.total);
	for (unsigned i = 0; i < RPC_EXPORTS_MAX; i++) {
		fuzz_text(ea.ex[i].dir, sizeof(ea.ex[i].dir), 0);
		fuzz_text(ea.ex[i].groups, sizeof(ea.ex[i].groups), 0);
		CHECK(ea.ex[i].reach <= RPC_REACH_ALL);
		CHECK(ea.ex[i].world == (ea.ex[i].reach >= RPC_REACH_ALL_LIKELY));
		CHECK(i < ea.n || (ea.ex[i].reach == RPC_REACH_LISTED && ea.ex[i].n_groups == 0));
	}
	return 0;
}
