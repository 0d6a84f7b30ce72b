/* SPDX-License-Identifier: MIT */
/*
 * Fuzz target: the prober -> front framing (prober/frame.h), what the front reads from a prober
 * that may be compromised. Splits the input into frames like the front's read loop, decodes each
 * JOB and RESULT payload, and asserts: a frame never claims more than it was given or more than
 * the cap; a decoded result holds only in-range enums and printable text; and the encoding is
 * canonical (a payload that decodes re-encodes to the very same bytes).
 */
#include "core/err.h"
#include "prober/frame.h"

#include "fuzz.h"

static uint8_t again[FRAME_MAX];

static void result_payload(const uint8_t *p, size_t n)
{
	static struct frame_result r;
	int len;

	if (frame_result_decode(p, n, NULL, &r) < 0)
		return;
	CHECK((unsigned)r.port.state < PORT_X_MAX && (unsigned)r.port.reason < REASON_X_MAX);
	CHECK(r.probe.n_findings <= PROBE_MAX_FINDINGS && r.probe.n_answers <= PROBE_MAX_ANSWERS);
	fuzz_text(r.probe.service, sizeof(r.probe.service), 0);
	for (size_t i = 0; i < r.probe.n_findings; i++) {
		fuzz_text(r.probe.findings[i].id, sizeof(r.probe.findings[i].id), 0);
		fuzz_text(r.probe.findings[i].reason, sizeof(r.probe.findings[i].reason), 0);
	}
	CHECK(r.details_len == 0 || (r.details >= p && r.details + r.details_len <= p + n));
	len = frame_result_encode(again, sizeof(again), r.id, &r.port, r.probed ? &r.probe : NULL,
	                          (const char *)r.details, r.details_len);
	CHECK(len == (int)(FRAME_HEADER_LEN + n));
	CHECK(memcmp(again + FRAME_HEADER_LEN, p, n) == 0);
}

static void job_payload(const uint8_t *p, size_t n)
{
	struct frame_job j;
	int len;

	if (frame_job_decode(p, n, &j) < 0)
		return;
	fuzz_text(j.probe, sizeof(j.probe), 0);
	len = frame_job_encode(again, sizeof(again), &j);
	CHECK(len == (int)(FRAME_HEADER_LEN + n));
	CHECK(memcmp(again + FRAME_HEADER_LEN, p, n) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frame f;
	int r;

	while ((r = frame_decode(data, size, &f)) > 0) {
		CHECK((size_t)r <= size && f.len <= FRAME_PAYLOAD_MAX);
		CHECK(r == (int)(FRAME_HEADER_LEN + f.len));
		if (f.type == FRAME_RESULT)
			result_payload(f.payload, f.len);
		else if (f.type == FRAME_JOB)
			job_payload(f.payload, f.len);
		data += r;
		size -= (size_t)r;
	}
	CHECK(r == 0 || r == -ERR_PROTO || r == -ERR_TOOBIG);
	return 0;
}
