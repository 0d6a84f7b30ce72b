/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: mongo_parse_msg, then mongo_parse_reply on its body document (MongoDB OP_MSG /
 * OP_REPLY with BSON), and the BSON walker over the whole input as a document.
 * Asserts the parse.h invariants and that the document lies inside the message.
 */
#include "probes/parse/mongodb_parse.h"

#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct mongo_reply ra, rb;
	struct mongo_msg a, b;
	struct bson_iter it;
	struct bson_elem e;
	int r = mongo_parse_msg(data, size, &a), n = 0;

	FUZZ_PARSED(r, size, mongo_parse_msg(data, size, &b), &a, &b);
	if (r > 0) {
		CHECK(a.doc_off + a.doc_len <= (size_t)r);
		r = mongo_parse_reply(data + a.doc_off, a.doc_len, &ra);
		CHECK(r == mongo_parse_reply(data + a.doc_off, a.doc_len, &rb));
		CHECK(memcmp(&ra, &rb, sizeof(ra)) == 0);
		fuzz_text(ra.errmsg, sizeof(ra.errmsg), 0);
		fuzz_text(ra.code_name, sizeof(ra.code_name), 0);
		fuzz_text(ra.version, sizeof(ra.version), 0);
		fuzz_text(ra.set_name, sizeof(ra.set_name), 0);
		for (unsigned i = 0; i < MONGO_DB_KEEP; i++)
			fuzz_text(ra.databases[i], sizeof(ra.databases[i]), 0);
	}
	if (bson_iter_init(&it, data, size) == 0)
		while (bson_next(&it, &e) > 0) {
			CHECK(e.value >= data && e.value + e.value_len <= data + size);
			CHECK(++n <= (int)size);
		}
	return 0;
}
