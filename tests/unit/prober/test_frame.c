/* SPDX-License-Identifier: MIT */
/* The front <-> prober framing (prober/frame.h): round trips, stream splitting, and every field
 * the front must refuse from a prober. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "prober/frame.h"

#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static uint8_t buf[FRAME_MAX];

static bool only_known(const char *id)
{
	return strcmp(id, "ssh-exposed") == 0 || strcmp(id, "ssh-weak-kex") == 0;
}

static void sample(struct port_result *pr, struct probe_result *res)
{
	memset(pr, 0, sizeof(*pr));
	memset(res, 0, sizeof(*res));
	pr->state = PORT_OPEN;
	pr->reason = REASON_SYN_ACK;
	pr->icmp_type = -1;
	pr->icmp_code = -1;
	pr->rtt_ms = 0.123456789;
	pr->tries = 2;
	res->state = SERVICE_IDENTIFIED;
	snprintf(res->service, sizeof(res->service), "%s", "ssh");
	res->n_findings = 1;
	snprintf(res->findings[0].id, sizeof(res->findings[0].id), "%s", "ssh-weak-kex");
	res->findings[0].severity = SEVERITY_MEDIUM;
	res->findings[0].confidence = CONFIDENCE_LIKELY;
	snprintf(res->findings[0].reason, sizeof(res->findings[0].reason), "%s",
	         "diffie-hellman-group1-sha1 offered");
	res->n_answers = 1;
	snprintf(res->answers[0].id, sizeof(res->answers[0].id), "%s", "ssh-exposed");
	res->answers[0].answer = PROBE_ANSWER_UNDECIDED;
	snprintf(res->answers[0].reason, sizeof(res->answers[0].reason), "%s", "not checked");
}

/* Encode, split off the header with frame_decode, decode the payload. */
static int roundtrip(const struct port_result *pr, const struct probe_result *res,
                     const char *details, struct frame_result *out)
{
	struct frame f;
	int n = frame_result_encode(buf, sizeof(buf), 7, pr, res, details,
	                            details ? strlen(details) : 0);

	assert_true(n > FRAME_HEADER_LEN);
	assert_int_equal(frame_decode(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, FRAME_RESULT);
	return frame_result_decode(f.payload, f.len, only_known, out);
}

static void test_result_roundtrip(void **state)
{
	struct port_result pr;
	struct probe_result res;
	struct frame_result out;
	const char *d = "{\"banner\":\"SSH-2.0-x\"}";

	(void)state;
	sample(&pr, &res);
	assert_int_equal(roundtrip(&pr, &res, d, &out), 0);
	assert_int_equal(out.id, 7);
	/* the rtt travels as its bits: what the engine measured is what the front prints */
	assert_memory_equal(&out.port, &pr, sizeof(pr));
	assert_true(out.probed);
	assert_int_equal(out.probe.state, SERVICE_IDENTIFIED);
	assert_string_equal(out.probe.service, "ssh");
	assert_int_equal(out.probe.n_findings, 1);
	assert_memory_equal(&out.probe.findings[0], &res.findings[0], sizeof(res.findings[0]));
	assert_int_equal(out.probe.n_answers, 1);
	assert_memory_equal(&out.probe.answers[0], &res.answers[0], sizeof(res.answers[0]));
	assert_null(out.probe.details);
	assert_int_equal(out.details_len, strlen(d));
	assert_memory_equal(out.details, d, strlen(d));
}

static void test_result_no_probe(void **state)
{
	struct port_result pr;
	struct frame_result out;

	(void)state;
	memset(&pr, 0, sizeof(pr)); /* padding too: the structs are compared whole */
	pr.state = PORT_FILTERED;
	pr.reason = REASON_UNREACHABLE;
	pr.icmp_type = 3;
	pr.icmp_code = 13;
	pr.sys_errno = 113;
	pr.rtt_ms = -1;
	pr.tries = 1;
	assert_int_equal(roundtrip(&pr, NULL, NULL, &out), 0);
	assert_false(out.probed);
	assert_memory_equal(&out.port, &pr, sizeof(pr));
	assert_null(out.details);
	/* no probe, no details: the encoder refuses the combination */
	assert_int_equal(frame_result_encode(buf, sizeof(buf), 1, &pr, NULL, "{}", 2), -ERR_RANGE);
}

static void test_job_roundtrip(void **state)
{
	struct frame_job j = {0}, out;
	struct frame f;
	int n;

	(void)state;
	j.id = 0xfffffffe;
	j.target = 0x01020304;
	assert_int_equal(addr_parse("2001:db8::5", &j.addr), 0);
	j.port = 445;
	j.timeout_ms = 1500;
	snprintf(j.probe, sizeof(j.probe), "%s", "smb");
	n = frame_job_encode(buf, sizeof(buf), &j);
	assert_true(n > 0);
	assert_int_equal(frame_decode(buf, (size_t)n, &f), n);
	assert_int_equal(f.type, FRAME_JOB);
	assert_int_equal(frame_job_decode(f.payload, f.len, &out), 0);
	assert_memory_equal(&out, &j, sizeof(j));

	memset(&j, 0, sizeof(j));
	assert_int_equal(addr_parse("198.18.0.7", &j.addr), 0);
	j.port = 22;
	n = frame_job_encode(buf, sizeof(buf), &j);
	assert_int_equal(frame_decode(buf, (size_t)n, &f), n);
	assert_int_equal(frame_job_decode(f.payload, f.len, &out), 0);
	assert_true(addr_equal(&out.addr, &j.addr));
	assert_string_equal(out.probe, "");
	/* one byte short, one byte long: both malformed */
	assert_int_equal(frame_job_decode(f.payload, f.len - 1, &out), -ERR_PROTO);
	assert_int_equal(frame_job_decode(f.payload, f.len + 1, &out), -ERR_PROTO);
	j.port = 0;
	assert_int_equal(frame_job_encode(buf, sizeof(buf), &j), -ERR_RANGE);
}

/* A stream cut anywhere yields nothing until the frame is whole; two frames come out in order. */
static void test_stream(void **state)
{
	uint8_t two[64];
	struct frame f;
	int a = frame_encode(two, sizeof(two), FRAME_PING, "abc", 3);
	int b;

	(void)state;
	assert_int_equal(a, FRAME_HEADER_LEN + 3);
	b = frame_encode(two + a, sizeof(two) - (size_t)a, FRAME_PONG, NULL, 0);
	assert_int_equal(b, FRAME_HEADER_LEN);
	for (int cut = 0; cut < a; cut++)
		assert_int_equal(frame_decode(two, (size_t)cut, &f), 0);
	assert_int_equal(frame_decode(two, (size_t)(a + b), &f), a);
	assert_int_equal(f.type, FRAME_PING);
	assert_int_equal(f.len, 3);
	assert_memory_equal(f.payload, "abc", 3);
	assert_int_equal(frame_decode(two + a, (size_t)b, &f), b);
	assert_int_equal(f.type, FRAME_PONG);
	assert_int_equal(f.len, 0);
}

static void test_header_limits(void **state)
{
	uint8_t h[FRAME_HEADER_LEN] = {FRAME_RESULT, 0, 1, 0, 1}; /* 65537 bytes */
	struct frame f;

	(void)state;
	/* refused from the header alone, before the 64 KiB arrive */
	assert_int_equal(frame_decode(h, sizeof(h), &f), -ERR_TOOBIG);
	h[2] = 0xff;
	h[0] = 0xff;
	assert_int_equal(frame_decode(h, sizeof(h), &f), -ERR_PROTO);
	h[0] = 0;
	assert_int_equal(frame_decode(h, 1, &f), -ERR_PROTO);
	h[0] = FRAME_X_MAX;
	assert_int_equal(frame_decode(h, sizeof(h), &f), -ERR_PROTO);
	assert_int_equal(frame_encode(buf, sizeof(buf), FRAME_PING, buf, FRAME_PAYLOAD_MAX + 1),
	                 -ERR_TOOBIG);
	assert_int_equal(frame_encode(buf, 4, FRAME_PING, NULL, 0), -ERR_TOOBIG);
}

/* Offsets in a sample result payload (id 4, then the port fields, then the probe). */
enum {
	OFF_STATE = 4,
	OFF_REASON = 5,
	OFF_ICMP = 6,
	OFF_ERRNO = 10,
	OFF_RTT = 12,
	OFF_TRIES = 20,
	OFF_PROBED = 21,
	OFF_SSTATE = 22,
	OFF_SERVICE = 23
};

/* Encode the sample, apply one corruption to the payload, decode. */
static int corrupt(size_t off, uint8_t v)
{
	struct port_result pr;
	struct probe_result res;
	struct frame_result out;
	int n;

	sample(&pr, &res);
	n = frame_result_encode(buf, sizeof(buf), 7, &pr, &res, "{}", 2);
	assert_true(n > 0);
	buf[FRAME_HEADER_LEN + off] = v;
	return frame_result_decode(buf + FRAME_HEADER_LEN, (size_t)n - FRAME_HEADER_LEN, only_known,
	                           &out);
}

static void test_result_refused(void **state)
{
	struct port_result pr;
	struct probe_result res;
	struct frame_result out;
	int n;

	(void)state;
	assert_int_equal(corrupt(OFF_STATE, PORT_X_MAX), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_REASON, REASON_X_MAX), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_ICMP, 0x7f), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_ERRNO, 0xff), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_RTT, 0x7f), -ERR_RANGE); /* a NaN or a huge rtt */
	assert_int_equal(corrupt(OFF_RTT, 0xbf), -ERR_RANGE); /* negative, not -1 */
	assert_int_equal(corrupt(OFF_TRIES, 200), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_PROBED, 2), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_SSTATE, SERVICE_X_MAX), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_SERVICE, PROBE_SERVICE_MAX), -ERR_RANGE); /* too long */
	assert_int_equal(corrupt(OFF_SERVICE + 2, '\n'), -ERR_PROTO);          /* control byte */
	assert_int_equal(corrupt(OFF_SERVICE + 2, 0), -ERR_PROTO);             /* NUL */
	assert_int_equal(corrupt(OFF_SERVICE + 4, PROBE_MAX_FINDINGS + 1), -ERR_RANGE);
	assert_int_equal(corrupt(OFF_SERVICE + 5, 99), -ERR_PROTO);   /* id runs past the end */
	assert_int_equal(corrupt(OFF_SERVICE + 6, 'x'), -ERR_POLICY); /* xsh-weak-kex */

	/* an id the catalogue does not know, whole and well-formed */
	sample(&pr, &res);
	snprintf(res.findings[0].id, sizeof(res.findings[0].id), "%s", "made-up");
	n = frame_result_encode(buf, sizeof(buf), 7, &pr, &res, NULL, 0);
	assert_true(n > 0);
	assert_int_equal(frame_result_decode(buf + FRAME_HEADER_LEN, (size_t)n - FRAME_HEADER_LEN,
	                                     only_known, &out),
	                 -ERR_POLICY);
	/* details with a raw newline or a high byte: the front never sees them */
	sample(&pr, &res);
	n = frame_result_encode(buf, sizeof(buf), 7, &pr, &res, "{\"a\":\n1}", 8);
	assert_int_equal(frame_result_decode(buf + FRAME_HEADER_LEN, (size_t)n - FRAME_HEADER_LEN,
	                                     only_known, &out),
	                 -ERR_PROTO);
	/* trailing bytes after a whole result */
	n = frame_result_encode(buf, sizeof(buf), 7, &pr, NULL, NULL, 0);
	assert_int_equal(frame_result_decode(buf + FRAME_HEADER_LEN,
	                                     (size_t)n - FRAME_HEADER_LEN + 1, NULL, &out),
	                 -ERR_PROTO);
	/* every truncation of a valid payload */
	n = frame_result_encode(buf, sizeof(buf), 7, &pr, &res, "{}", 2);
	for (int cut = 0; cut < n - FRAME_HEADER_LEN; cut++)
		assert_int_equal(
		    frame_result_decode(buf + FRAME_HEADER_LEN, (size_t)cut, NULL, &out),
		    -ERR_PROTO);
}

/* The encoder refuses what the decoder would, so a prober's bug is seen where it happens. */
static void test_encoder_refuses(void **state)
{
	struct port_result pr;
	struct probe_result res;

	(void)state;
	sample(&pr, &res);
	res.n_findings = PROBE_MAX_FINDINGS + 1;
	assert_int_equal(frame_result_encode(buf, sizeof(buf), 1, &pr, &res, NULL, 0), -ERR_RANGE);
	sample(&pr, &res);
	res.findings[0].reason[0] = '\t';
	assert_int_equal(frame_result_encode(buf, sizeof(buf), 1, &pr, &res, NULL, 0), -ERR_RANGE);
	sample(&pr, &res);
	pr.rtt_ms = -2;
	assert_int_equal(frame_result_encode(buf, sizeof(buf), 1, &pr, &res, NULL, 0), -ERR_RANGE);
	sample(&pr, &res);
	assert_int_equal(frame_result_encode(buf, 40, 1, &pr, &res, NULL, 0), -ERR_TOOBIG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_result_roundtrip), cmocka_unit_test(test_result_no_probe),
	    cmocka_unit_test(test_job_roundtrip),    cmocka_unit_test(test_stream),
	    cmocka_unit_test(test_header_limits),    cmocka_unit_test(test_result_refused),
	    cmocka_unit_test(test_encoder_refuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
