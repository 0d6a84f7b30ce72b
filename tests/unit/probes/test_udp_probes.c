/* SPDX-License-Identifier: MIT */
/*
 * The SSDP and memcached probes in memory (issue 12 §1), with the bytes of tests/data/ssdp and
 * tests/data/memcached (real Debian miniupnpd 2.3.1 and memcached 1.6.18 captures; hand-made
 * hostile variants). The datagram probes (ssdp, memcached-udp) get each capture as one datagram,
 * as the engine hands them (engine/udp.c), then end(IDLE) if they asked for more; the TCP
 * memcached probe goes through drive.c whole, in chunks and cut at every offset. Each case must
 * give exactly its state, service, findings and a detail; every cut must end cleanly with
 * printable details and never raise a finding the bytes did not prove. The first bytes each
 * probe sends are checked against the protocol documents. Argument: the tests/data folder.
 */
#include "drive.h"
#include "core/err.h"
#include "probes/parse/memcached_parse.h"
#include "probes/parse/ssdp_parse.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

extern const struct probe_ops probe_ssdp, probe_memcached, probe_memcached_udp;

static const char *data_dir = "tests/data";

static uint8_t *slurp(const char *name, size_t *len)
{
	uint8_t *buf = NULL;

	*len = 0;
	if (drive_append_file(data_dir, name, &buf, len) < 0)
		fail_msg("%s/%s: cannot read", data_dir, name);
	return buf;
}

/* A datagram probe: start, then each datagram (an exact-size heap copy) until DONE, else
 * end(IDLE). Returns the bytes start() queued in req. */
static void dgram_run(const struct probe_ops *ops, const uint8_t *const *dgrams, const size_t *lens,
                      size_t n, struct probe_result *out, uint8_t *req, size_t *req_len)
{
	void *st = calloc(1, ops->state_size);
	uint8_t txbuf[2048];
	struct probe_tx tx = {.buf = txbuf, .cap = sizeof(txbuf)};
	int r;

	assert_non_null(st);
	assert_true(ops->datagram);
	memset(out, 0, sizeof(*out));
	assert_int_equal(ops->start(st, 0, &tx, out), PROBE_MORE);
	memcpy(req, txbuf, tx.len);
	*req_len = tx.len;
	r = PROBE_MORE;
	for (size_t i = 0; i < n && r == PROBE_MORE; i++) {
		uint8_t *copy = malloc(lens[i] ? lens[i] : 1);
		size_t used = 0;

		memcpy(copy, dgrams[i], lens[i]);
		tx.len = 0;
		r = ops->feed(st, copy, lens[i] > ops->max_rx ? ops->max_rx : lens[i], &used, &tx,
		              out);
		free(copy);
		assert_true(r == PROBE_MORE || r == PROBE_DONE || r < 0);
	}
	if (r == PROBE_MORE)
		assert_int_equal(ops->end(st, PROBE_END_IDLE, out), PROBE_DONE);
	free(st);
}

static bool has_finding(const struct probe_result *r, const char *id)
{
	for (size_t i = 0; i < r->n_findings; i++)
		if (strcmp(r->findings[i].id, id) == 0)
			return true;
	return false;
}

static const char *detail(const struct probe_result *r, const char *key)
{
	const json_t *v = r->details ? json_object_get(r->details, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

struct dcase {
	const struct probe_ops *ops;
	const char *file; /* NULL: no datagram at all */
	enum service_state state;
	const char *finding; /* the one finding expected, or NULL for none */
	const char *key, *val;
};

static const struct dcase dcases[] = {
    {&probe_ssdp, "ssdp/miniupnpd-2.3.1-rootdevice.bin", SERVICE_IDENTIFIED, "upnp-exposed",
     "server", "Debian/6.18.44-fc-v1147 UPnP/1.1 MiniUPnPd/2.3.1"},
    {&probe_ssdp, "ssdp/hand-ssdp-hostile.bin", SERVICE_IDENTIFIED, "upnp-exposed", "location",
     "http://198.51.100.1/\"><script>alert(1)</script>"},
    {&probe_ssdp, "ssdp/hand-ssdp-huge-headers.bin", SERVICE_IDENTIFIED, "upnp-exposed", "location",
     "http://198.51.100.1:5000/rootDesc.xml"},
    {&probe_ssdp, "ssdp/hand-ssdp-truncated.bin", SERVICE_IDENTIFIED, "upnp-exposed", "st",
     "upnp:rootdevice"},
    {&probe_ssdp, "ssdp/hand-ssdp-404.bin", SERVICE_PROTOCOL_ERROR, NULL, "server", "x"},
    {&probe_ssdp, "ssdp/hand-ssdp-not-discovery.bin", SERVICE_PROTOCOL_ERROR, NULL, NULL, NULL},
    {&probe_ssdp, "ssdp/hand-ssdp-many-lines.bin", SERVICE_PROTOCOL_ERROR, NULL, NULL, NULL},
    {&probe_ssdp, "ssdp/hand-ssdp-garbage.bin", SERVICE_OTHER, NULL, "reason",
     "the answer is not HTTP"},
    {&probe_ssdp, NULL, SERVICE_SILENT, NULL, "reason", "no answer to M-SEARCH"},
    {&probe_memcached_udp, "memcached/memcached-1.6.18-udp-version.bin", SERVICE_IDENTIFIED,
     "memcached-udp-amplifier", "version", "1.6.18"},
    {&probe_memcached_udp, "memcached/hand-memcached-udp-bad-header.bin", SERVICE_PROTOCOL_ERROR,
     NULL, NULL, NULL},
    {&probe_memcached_udp, "memcached/hand-memcached-udp-short.bin", SERVICE_PROTOCOL_ERROR, NULL,
     NULL, NULL},
    {&probe_memcached_udp, "memcached/hand-memcached-udp-no-line.bin", SERVICE_PROTOCOL_ERROR, NULL,
     "reason", "the answer's line does not end in its datagram"},
    {&probe_memcached_udp, "memcached/memcached-1.6.18-version.bin", SERVICE_PROTOCOL_ERROR, NULL,
     NULL, NULL}, /* a TCP-style answer without the frame header */
    {&probe_memcached_udp, NULL, SERVICE_SILENT, NULL, "reason", "no answer over UDP"},
};

static void test_datagram_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(dcases) / sizeof(dcases[0]); i++) {
		const struct dcase *c = &dcases[i];
		size_t len = 0, req_len;
		uint8_t *buf = c->file ? slurp(c->file, &len) : NULL;
		const uint8_t *d[1] = {buf};
		struct probe_result out;
		uint8_t req[2048];

		dgram_run(c->ops, d, &len, c->file ? 1 : 0, &out, req, &req_len);
		if (out.state != c->state)
			fail_msg("%s %s: state %d, expected %d", c->ops->name,
			         c->file ? c->file : "(none)", out.state, c->state);
		assert_int_equal(out.n_findings, c->finding ? 1 : 0);
		if (c->finding)
			assert_true(has_finding(&out, c->finding));
		if (c->key) {
			if (detail(&out, c->key) == NULL || strcmp(detail(&out, c->key), c->val))
				fail_msg("%s %s: %s is %s", c->ops->name, c->file, c->key,
				         detail(&out, c->key) ? detail(&out, c->key) : "(none)");
		}
		assert_true(drive_details_clean(out.details));
		if (out.state == SERVICE_IDENTIFIED)
			assert_string_equal(out.service, c->ops->name);
		probe_result_done(&out);
		free(buf);
	}
}

/* The requests, byte for byte (UDA 1.1 §1.3.2; memcached protocol.txt "UDP protocol"). */
static void test_requests(void **state)
{
	static const char msearch[] =
	    "M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n"
	    "MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: upnp:rootdevice\r\n\r\n";
	static const uint8_t mcu[] = {0x5e, 0xc1, 0,   0,   0,   1,   0,    0,   'v',
	                              'e',  'r',  's', 'i', 'o', 'n', '\r', '\n'};
	struct probe_result out;
	uint8_t req[2048];
	size_t req_len;

	(void)state;
	dgram_run(&probe_ssdp, NULL, NULL, 0, &out, req, &req_len);
	assert_int_equal(req_len, strlen(msearch));
	assert_memory_equal(req, msearch, req_len);
	probe_result_done(&out);
	dgram_run(&probe_memcached_udp, NULL, NULL, 0, &out, req, &req_len);
	assert_int_equal(req_len, sizeof(mcu));
	assert_memory_equal(req, mcu, sizeof(mcu));
	probe_result_done(&out);
	assert_int_equal(probe_ssdp.reply_delay_ms, 1000); /* MX 1 */
	assert_int_equal(probe_memcached_udp.reply_delay_ms, 0);
	assert_false(probe_memcached.datagram);
}

/* Every datagram cut at every length: a clean end, and upnp-exposed only from a status line
 * and a discovery header that the cut kept. */
static void test_datagram_cuts(void **state)
{
	static const struct {
		const struct probe_ops *ops;
		const char *file;
	} files[] = {
	    {&probe_ssdp, "ssdp/miniupnpd-2.3.1-rootdevice.bin"},
	    {&probe_ssdp, "ssdp/hand-ssdp-hostile.bin"},
	    {&probe_memcached_udp, "memcached/memcached-1.6.18-udp-version.bin"},
	};

	(void)state;
	for (size_t f = 0; f < sizeof(files) / sizeof(files[0]); f++) {
		size_t len;
		uint8_t *buf = slurp(files[f].file, &len);

		for (size_t k = 0; k <= len; k++) {
			const uint8_t *d[1] = {buf};
			struct probe_result out;
			uint8_t req[2048];
			size_t req_len;

			dgram_run(files[f].ops, d, &k, 1, &out, req, &req_len);
			assert_true(drive_details_clean(out.details));
			assert_true(out.state == SERVICE_IDENTIFIED || out.state == SERVICE_OTHER ||
			            out.state == SERVICE_PROTOCOL_ERROR);
			if (files[f].ops == &probe_ssdp && has_finding(&out, "upnp-exposed"))
				assert_true(k >= 17 && memcmp(buf, "HTTP/1.1 200 OK", 15) == 0);
			if (has_finding(&out, "memcached-udp-amplifier"))
				assert_true(k == len); /* only the whole line proves it */
			probe_result_done(&out);
		}
		free(buf);
	}
}

/* A flood: each datagram garbage; the probe stops asking after a few. */
static void test_datagram_flood(void **state)
{
	uint8_t junk[64];
	const uint8_t *d[16];
	size_t lens[16];
	struct probe_result out;
	uint8_t req[2048];
	size_t req_len;

	(void)state;
	memset(junk, 0xee, sizeof(junk));
	for (int i = 0; i < 16; i++) {
		d[i] = junk;
		lens[i] = sizeof(junk);
	}
	dgram_run(&probe_ssdp, d, lens, 16, &out, req, &req_len);
	assert_int_equal(out.state, SERVICE_OTHER);
	assert_int_equal(json_integer_value(json_object_get(out.details, "datagrams")), 8);
	probe_result_done(&out);
	dgram_run(&probe_memcached_udp, d, lens, 16, &out, req, &req_len);
	assert_int_equal(out.state, SERVICE_PROTOCOL_ERROR);
	assert_int_equal(json_integer_value(json_object_get(out.details, "datagrams")), 4);
	assert_int_equal(out.n_findings, 0);
	probe_result_done(&out);
}

/* memcached over TCP through drive.c: whole, in chunks of 1/2/7 and cut at every offset. */
struct tcase {
	const char *file; /* NULL: nothing */
	enum service_state state;
	const char *key, *val;
};

static const struct tcase tcases[] = {
    {"memcached/memcached-1.6.18-version.bin", SERVICE_IDENTIFIED, "version", "1.6.18"},
    {"memcached/memcached-1.6.18-error.bin", SERVICE_IDENTIFIED, "error", "ERROR"},
    {"memcached/hand-memcached-hostile.bin", SERVICE_IDENTIFIED, "version",
     "?[31m<script>alert(1)</script>??"},
    {"memcached/hand-memcached-http.bin", SERVICE_OTHER, "first_line", "HTTP/1.0 400 Bad Request"},
    {"memcached/hand-memcached-huge-line.bin", SERVICE_PROTOCOL_ERROR, NULL, NULL},
    {"memcached/hand-memcached-truncated.bin", SERVICE_PROTOCOL_ERROR, NULL, NULL},
    {NULL, SERVICE_TCPWRAPPED, "reason", "closed by the server"},
};

static void test_memcached_tcp(void **state)
{
	static const size_t chunks[] = {0, 1, 2, 7};

	(void)state;
	for (size_t i = 0; i < sizeof(tcases) / sizeof(tcases[0]); i++) {
		const struct tcase *c = &tcases[i];
		size_t len = 0;
		uint8_t *buf = c->file ? slurp(c->file, &len) : NULL;
		struct sim_conn conn = {buf, len};

		for (size_t ch = 0; ch < sizeof(chunks) / sizeof(chunks[0]); ch++) {
			struct sim_opts o = {.chunk = chunks[ch], .cut_at = SIZE_MAX};
			struct probe_result out = {0};
			struct drive_stats st;

			assert_true(sim_run(&probe_memcached, &conn, 1, &o, &out, &st) >= 0);
			if (out.state != c->state)
				fail_msg("memcached %s chunk %zu: state %d, expected %d",
				         c->file ? c->file : "(none)", chunks[ch], out.state,
				         c->state);
			assert_int_equal(st.tx_first_len, 9);
			assert_memory_equal(st.tx_first, "version\r\n", 9);
			if (c->key && (detail(&out, c->key) == NULL ||
			               strcmp(detail(&out, c->key), c->val) != 0))
				fail_msg("memcached %s: %s is %s", c->file, c->key,
				         detail(&out, c->key) ? detail(&out, c->key) : "(none)");
			assert_int_equal(out.n_findings,
			                 0); /* the door is the diagnosis's finding */
			assert_true(drive_details_clean(out.details));
			probe_result_done(&out);
		}
		for (size_t k = 0; k < len; k++) {
			static const enum probe_end whys[] = {PROBE_END_CLOSED, PROBE_END_RESET,
			                                      PROBE_END_IDLE, PROBE_END_DEADLINE};

			for (size_t w = 0; w < 4; w++) {
				struct sim_opts o = {.cut_at = k, .cut_why = whys[w]};
				struct probe_result out = {0};
				struct drive_stats st;

				assert_true(sim_run(&probe_memcached, &conn, 1, &o, &out, &st) >=
				            0);
				assert_true(drive_details_clean(out.details));
				/* A version only from a whole line. */
				if (detail(&out, "version"))
					assert_non_null(memchr(buf, '\n', k));
				probe_result_done(&out);
			}
		}
		free(buf);
	}
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_requests),      cmocka_unit_test(test_datagram_cases),
	    cmocka_unit_test(test_datagram_cuts), cmocka_unit_test(test_datagram_flood),
	    cmocka_unit_test(test_memcached_tcp),
	};

	if (argc > 1)
		data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
