/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of nbss_parse, smb1_parse and smb2_parse that the golden walk does not cover:
 * the request builders byte for byte against the dumps of PROTOCOLS.md §4.3, §5.3, §5.4,
 * §6.3-§6.6;
 * builder limits; hostile lengths (NBSS length over the cap, lengths past the data, WordCount /
 * ByteCount lies at every value, SMB2 offsets past the message); non-SMB bytes; the UTF-16 copy;
 * the MS17-010 and DoublePulsar classifiers on synthetic headers.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "probes/parse/nbss_parse.h"
#include "probes/parse/smb1_parse.h"
#include "probes/parse/smb2_parse.h"

/* "0000: 00 11 22 ..." dump lines (offsets and spaces ignored) to bytes; returns the length. */
static size_t unhex(const char *s, uint8_t *out, size_t cap)
{
	size_t n = 0;
	int hi = -1;

	while (*s) {
		const char *colon = strchr(s, ':');
		const char *eol = strchr(s, '\n');

		if (colon && (!eol || colon < eol))
			s = colon + 1;
		for (; *s && *s != '\n'; s++) {
			int v;

			if (*s >= '0' && *s <= '9')
				v = *s - '0';
			else if (*s >= 'a' && *s <= 'f')
				v = *s - 'a' + 10;
			else
				continue;
			if (hi < 0) {
				hi = v;
			} else {
				assert_true(n < cap);
				out[n++] = (uint8_t)(hi << 4 | v);
				hi = -1;
			}
		}
		if (*s == '\n')
			s++;
	}
	assert_int_equal(hi, -1);
	return n;
}

/* Builder output must equal the spec dump; every smaller cap must give -ERR_TOOBIG. */
static void check_built(const uint8_t *got, int r, const char *dump)
{
	uint8_t want[512];
	size_t n = unhex(dump, want, sizeof(want));

	assert_int_equal(r, (int)n);
	assert_memory_equal(got, want, n);
}

static const char nbss_dump[] = "0000: 81 00 00 44 20 43 4b 46 44 45 4e 45 43 46 44 45\n"
                                "0010: 46 46 43 46 47 45 46 46 43 43 41 43 41 43 41 43\n"
                                "0020: 41 43 41 43 41 00 20 46 44 45 46 45 4d 45 47 45\n"
                                "0030: 44 45 49 45 46 45 44 45 4c 43 41 43 41 43 41 43\n"
                                "0040: 41 43 41 43 41 41 41 00\n";

static void test_build_nbss(void **state)
{
	uint8_t b[128];
	int r;

	(void)state;
	r = nbss_build_session_request(b, sizeof(b), "*SMBSERVER", NBSS_SUFFIX_SERVER, "selfcheck",
	                               NBSS_SUFFIX_WORKSTATION);
	check_built(b, r, nbss_dump);
	for (size_t cap = 0; cap < NBSS_REQUEST_LEN; cap++)
		assert_int_equal(nbss_build_session_request(b, cap, "*SMBSERVER", 0x20, "X", 0),
		                 -ERR_TOOBIG);
	/* §4.5: the wildcard is NUL-padded */
	assert_int_equal(nbss_encode_name(b, sizeof(b), "*", 0x00), NBSS_NAME_WIRE);
	assert_memory_equal(b, " CKAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", 33);
	assert_int_equal(b[33], 0);
	assert_int_equal(nbss_encode_name(b, sizeof(b), "", 0), -ERR_RANGE);
	assert_int_equal(nbss_encode_name(b, sizeof(b), "SIXTEEN-CHARS-XX", 0), -ERR_RANGE);
	assert_int_equal(nbss_encode_name(b, sizeof(b), "FIFTEEN-CHARS-X", 0), NBSS_NAME_WIRE);
	assert_int_equal(nbss_encode_name(b, sizeof(b), "BAD\nNAME", 0), -ERR_RANGE);
	assert_int_equal(nbss_encode_name(b, sizeof(b), "BAD\xe9", 0), -ERR_RANGE);
	assert_int_equal(nbss_encode_name(b, 33, "OK", 0), -ERR_TOOBIG);
	assert_int_equal(nbss_build_session_request(b, sizeof(b), "OK", 0x20, "", 0), -ERR_RANGE);
	/* our own request parses as a SESSION REQUEST */
	{
		struct nbss_packet p;

		r = nbss_build_session_request(b, sizeof(b), "A", 0x20, "B", 0x52);
		assert_int_equal(nbss_parse(b, (size_t)r, &p), NBSS_REQUEST_LEN);
		assert_int_equal(p.type, NBSS_REQUEST);
		assert_int_equal(p.length, 68);
	}
}

static void test_build_smb1(void **state)
{
	struct smb1_header h;
	uint8_t b[SMB1_TREE_CONNECT_REQ_MAX + 16];
	char host[SMB1_HOST_MAX + 2];
	int r;

	(void)state;
	r = smb1_build_negotiate(b, sizeof(b), 0x0040);
	check_built(b, r,
	            "0000: 00 00 00 85 ff 53 4d 42 72 00 00 00 00 18 01 c0\n"
	            "0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ff fe\n"
	            "0020: 00 00 40 00 00 62 00 02 50 43 20 4e 45 54 57 4f\n"
	            "0030: 52 4b 20 50 52 4f 47 52 41 4d 20 31 2e 30 00 02\n"
	            "0040: 4c 41 4e 4d 41 4e 31 2e 30 00 02 57 69 6e 64 6f\n"
	            "0050: 77 73 20 66 6f 72 20 57 6f 72 6b 67 72 6f 75 70\n"
	            "0060: 73 20 33 2e 31 61 00 02 4c 4d 31 2e 32 58 30 30\n"
	            "0070: 32 00 02 4c 41 4e 4d 41 4e 32 2e 31 00 02 4e 54\n"
	            "0080: 20 4c 4d 20 30 2e 31 32 00\n");
	assert_int_equal(r, SMB1_NEGOTIATE_REQ_LEN);
	assert_int_equal(smb1_parse_header(b, (size_t)r, &h), r);

	r = smb1_build_session_setup_anon(b, sizeof(b), 0x0040);
	check_built(b, r,
	            "0000: 00 00 00 60 ff 53 4d 42 73 00 00 00 00 18 01 c0\n"
	            "0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ff fe\n"
	            "0020: 00 00 40 00 0d ff 00 00 00 04 11 0a 00 00 00 00\n"
	            "0030: 00 00 00 01 00 00 00 00 00 00 00 d4 00 00 00 23\n"
	            "0040: 00 00 00 00 00 00 55 00 6e 00 69 00 78 00 00 00\n"
	            "0050: 53 00 65 00 6c 00 66 00 43 00 68 00 65 00 63 00\n"
	            "0060: 6b 00 00 00\n");
	assert_int_equal(r, SMB1_SESSION_SETUP_REQ_LEN);
	assert_int_equal(smb1_parse_header(b, (size_t)r, &h), r);
	assert_int_equal(h.word_count, 13);

	r = smb1_build_tree_connect_ipc(b, sizeof(b), 0x0800, 0x0040, "192.0.2.1");
	check_built(b, r,
	            "0000: 00 00 00 54 ff 53 4d 42 75 00 00 00 00 18 01 c0\n"
	            "0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 ff fe\n"
	            "0020: 00 08 40 00 04 ff 00 00 00 08 00 01 00 29 00 00\n"
	            "0030: 5c 00 5c 00 31 00 39 00 32 00 2e 00 30 00 2e 00\n"
	            "0040: 32 00 2e 00 31 00 5c 00 49 00 50 00 43 00 24 00\n"
	            "0050: 00 00 3f 3f 3f 3f 3f 00\n");
	assert_int_equal(smb1_parse_header(b, (size_t)r, &h), r);
	/* longest host fits SMB1_TREE_CONNECT_REQ_MAX exactly */
	memset(host, '1', SMB1_HOST_MAX);
	host[SMB1_HOST_MAX] = '\0';
	r = smb1_build_tree_connect_ipc(b, sizeof(b), 1, 2, host);
	assert_int_equal(r, SMB1_TREE_CONNECT_REQ_MAX);
	assert_int_equal(smb1_parse_header(b, (size_t)r, &h), r);
	assert_int_equal(smb1_build_tree_connect_ipc(b, (size_t)r - 1, 1, 2, host), -ERR_TOOBIG);
	host[SMB1_HOST_MAX] = '1';
	host[SMB1_HOST_MAX + 1] = '\0';
	assert_int_equal(smb1_build_tree_connect_ipc(b, sizeof(b), 1, 2, host), -ERR_RANGE);
	assert_int_equal(smb1_build_tree_connect_ipc(b, sizeof(b), 1, 2, ""), -ERR_RANGE);
	assert_int_equal(smb1_build_tree_connect_ipc(b, sizeof(b), 1, 2, "a\\b"), -ERR_RANGE);
	assert_int_equal(smb1_build_tree_connect_ipc(b, sizeof(b), 1, 2, "a b"), -ERR_RANGE);
	assert_int_equal(smb1_build_tree_connect_ipc(b, sizeof(b), 1, 2, "::1"), 4 + 72);

	r = smb1_build_trans_peek(b, sizeof(b), 0x0800, 0x0800, 0x0041);
	check_built(b, r,
	            "0000: 00 00 00 4a ff 53 4d 42 25 00 00 00 00 18 01 28\n"
	            "0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 08 ff fe\n"
	            "0020: 00 08 41 00 10 00 00 00 00 ff ff ff ff 00 00 00\n"
	            "0030: 00 00 00 00 00 00 00 00 00 4a 00 00 00 4a 00 02\n"
	            "0040: 00 23 00 00 00 07 00 5c 50 49 50 45 5c 00\n");
	assert_int_equal(smb1_parse_header(b, (size_t)r, &h), r);
	assert_int_equal(h.tid, 0x0800);

	r = smb1_build_trans2_dp_ping(b, sizeof(b), 0x0800, 0x0800);
	check_built(b, r,
	            "0000: 00 00 00 4e ff 53 4d 42 32 00 00 00 00 18 07 c0\n"
	            "0010: 00 00 00 00 00 00 00 00 00 00 00 00 00 08 ff fe\n"
	            "0020: 00 08 41 00 0f 0c 00 00 00 01 00 00 00 00 00 00\n"
	            "0030: 00 a6 d9 a4 00 00 00 0c 00 42 00 00 00 4e 00 01\n"
	            "0040: 00 0e 00 0d 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0050: 00 00\n");
	assert_int_equal(smb1_parse_header(b, (size_t)r, &h), r);
	assert_int_equal(h.mid, SMB1_DP_PING_MID);

	/* every builder refuses a buffer one byte short */
	assert_int_equal(smb1_build_negotiate(b, SMB1_NEGOTIATE_REQ_LEN - 1, 1), -ERR_TOOBIG);
	assert_int_equal(smb1_build_session_setup_anon(b, SMB1_SESSION_SETUP_REQ_LEN - 1, 1),
	                 -ERR_TOOBIG);
	assert_int_equal(smb1_build_trans_peek(b, SMB1_TRANS_PEEK_REQ_LEN - 1, 1, 1, 1),
	                 -ERR_TOOBIG);
	assert_int_equal(smb1_build_trans2_dp_ping(b, SMB1_TRANS2_DP_REQ_LEN - 1, 1, 1),
	                 -ERR_TOOBIG);
	assert_int_equal(smb1_build_tree_connect_ipc(b, 0x58 - 1, 1, 1, "192.0.2.1"), -ERR_TOOBIG);
}

static void test_build_smb2(void **state)
{
	static const uint16_t dialects[] = {0x0202, 0x0210, 0x0300, 0x0302, 0x0311};
	uint8_t b[256], guid[16], salt[32] = {0};
	int r;

	(void)state;
	for (int i = 0; i < 16; i++)
		guid[i] = (uint8_t)(0x10 + i);
	r = smb2_build_negotiate(b, sizeof(b), dialects, 4, guid, salt);
	check_built(b, r,
	            "0000: 00 00 00 6c fe 53 4d 42 40 00 00 00 00 00 00 00\n"
	            "0010: 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0020: 00 00 00 00 ff fe 00 00 00 00 00 00 00 00 00 00\n"
	            "0030: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0040: 00 00 00 00 24 00 04 00 01 00 00 00 00 00 00 00\n"
	            "0050: 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f\n"
	            "0060: 00 00 00 00 00 00 00 00 02 02 10 02 00 03 02 03\n");
	assert_int_equal(r, SMB2_NEGOTIATE_REQ_LEN);
	r = smb2_build_negotiate(b, sizeof(b), dialects, 5, guid, salt);
	check_built(b, r,
	            "0000: 00 00 00 ae fe 53 4d 42 40 00 00 00 00 00 00 00\n"
	            "0010: 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0020: 00 00 00 00 ff fe 00 00 00 00 00 00 00 00 00 00\n"
	            "0030: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0040: 00 00 00 00 24 00 05 00 01 00 00 00 00 00 00 00\n"
	            "0050: 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f\n"
	            "0060: 70 00 00 00 02 00 00 00 02 02 10 02 00 03 02 03\n"
	            "0070: 11 03 00 00 01 00 26 00 00 00 00 00 01 00 20 00\n"
	            "0080: 01 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0090: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "00a0: 00 00 00 00 02 00 06 00 00 00 00 00 02 00 02 00\n"
	            "00b0: 01 00\n");
	assert_int_equal(r, SMB2_NEGOTIATE_REQ_311_LEN);
	/* the salt is copied */
	salt[31] = 0x5a;
	r = smb2_build_negotiate(b, sizeof(b), dialects, 5, guid, salt);
	assert_int_equal(b[4 + 112 + 14 + 31], 0x5a);
	assert_int_equal(
	    smb2_build_negotiate(b, SMB2_NEGOTIATE_REQ_LEN - 1, dialects, 4, guid, salt),
	    -ERR_TOOBIG);
	assert_int_equal(
	    smb2_build_negotiate(b, SMB2_NEGOTIATE_REQ_311_LEN - 1, dialects, 5, guid, salt),
	    -ERR_TOOBIG);
	/* one dialect alone (the probe's per-dialect connections): DialectCount 1, no contexts */
	r = smb2_build_negotiate(b, sizeof(b), &dialects[2], 1, guid, NULL);
	check_built(b, r,
	            "0000: 00 00 00 66 fe 53 4d 42 40 00 00 00 00 00 00 00\n"
	            "0010: 00 00 01 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0020: 00 00 00 00 ff fe 00 00 00 00 00 00 00 00 00 00\n"
	            "0030: 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00\n"
	            "0040: 00 00 00 00 24 00 01 00 01 00 00 00 00 00 00 00\n"
	            "0050: 10 11 12 13 14 15 16 17 18 19 1a 1b 1c 1d 1e 1f\n"
	            "0060: 00 00 00 00 00 00 00 00 00 03\n");
	/* 3.1.1 anywhere in the list brings its contexts; no dialect or too many is refused */
	r = smb2_build_negotiate(b, sizeof(b), &dialects[4], 1, guid, salt);
	assert_int_equal(r, 4 + 104 + 46 + 2 + 14); /* contexts at 104 (102 aligned), 152 (150) */
	assert_int_equal(b[4 + 64 + 28], 104);
	assert_int_equal(smb2_build_negotiate(b, sizeof(b), dialects, 0, guid, salt), -ERR_RANGE);
	assert_int_equal(
	    smb2_build_negotiate(b, sizeof(b), dialects, SMB2_DIALECTS_MAX + 1, guid, salt),
	    -ERR_RANGE);
	assert_string_equal(smb2_dialect_name(0x0311), "3.1.1");
	assert_string_equal(smb2_dialect_name(0x02FF), "2.???");
	assert_string_equal(smb2_dialect_name(0x1234), "unknown");
}

static void test_nbss_lengths(void **state)
{
	static const uint8_t over[] = {0x00, 0x01, 0x00, 0x01};  /* 65537 > cap */
	static const uint8_t max17[] = {0x00, 0x01, 0xff, 0xff}; /* 131071 > cap */
	static const uint8_t atcap[] = {0x00, 0x01, 0x00, 0x00}; /* 65536: AGAIN */
	static const uint8_t big24[] = {0x00, 0xff, 0xff, 0xff}; /* direct TCP 16 MiB */
	static const uint8_t past[] = {0x00, 0x00, 0x00, 0xc8, 0xff, 'S', 'M', 'B', 0x72};
	struct nbss_packet p;
	struct smb_frame f;

	(void)state;
	assert_int_equal(nbss_parse(over, sizeof(over), &p), -ERR_TOOBIG);
	assert_int_equal(nbss_parse(max17, sizeof(max17), &p), -ERR_TOOBIG);
	assert_int_equal(nbss_parse(atcap, sizeof(atcap), &p), PARSE_AGAIN);
	assert_int_equal(p.length, 65536);
	assert_int_equal(smb_frame_parse(over, sizeof(over), &f), -ERR_TOOBIG);
	assert_int_equal(smb_frame_parse(big24, sizeof(big24), &f), -ERR_TOOBIG);
	assert_int_equal(smb_frame_parse(atcap, sizeof(atcap), &f), PARSE_AGAIN);
	/* NBSS reserved flag bits: not NetBIOS (a 24-bit direct-TCP length is fine for SMB) */
	assert_int_equal(nbss_parse(big24, sizeof(big24), &p), -ERR_SYNTAX);
	/* a length that points past the data only ever asks for more (the engine's cap ends it) */
	for (size_t k = 0; k <= sizeof(past); k++) {
		struct smb1_header h;
		struct smb2_negotiate n;

		assert_int_equal(smb_frame_parse(past, k, &f), PARSE_AGAIN);
		assert_int_equal(smb1_parse_header(past, k, &h), PARSE_AGAIN);
		assert_int_equal(nbss_parse(past, k, &p), PARSE_AGAIN);
		assert_int_equal(smb2_parse_negotiate(past, k, &n), PARSE_AGAIN);
	}
	/* control packets with the wrong length for their type */
	assert_int_equal(nbss_parse((const uint8_t *)"\x82\x00\x00\x01\x00", 5, &p), -ERR_PROTO);
	assert_int_equal(nbss_parse((const uint8_t *)"\x84\x00\x00\x04", 4, &p), -ERR_PROTO);
	assert_int_equal(nbss_parse((const uint8_t *)"\x85\x00\x00\x01", 4, &p), -ERR_PROTO);
	assert_int_equal(nbss_parse((const uint8_t *)"\x81\x00\x00\x10", 4, &p), -ERR_PROTO);
	/* keep-alive: a frame of its own for smb_frame_parse, an error for message parsers */
	{
		static const uint8_t ka[] = {0x85, 0x00, 0x00, 0x00, 0x00};
		struct smb1_header h;
		struct smb2_negotiate n;

		assert_int_equal(smb_frame_parse(ka, sizeof(ka), &f), 4);
		assert_int_equal(f.kind, SMB_FRAME_KEEPALIVE);
		assert_int_equal(smb_frame_parse((const uint8_t *)"\x85\x00\x00\x02", 4, &f),
		                 -ERR_PROTO);
		assert_int_equal(smb1_parse_header(ka, sizeof(ka), &h), -ERR_PROTO);
		assert_int_equal(smb2_parse_negotiate(ka, sizeof(ka), &n), -ERR_PROTO);
	}
	/* message shorter than an SMB header, or 0 / 3 bytes long */
	{
		uint8_t m[4 + 34] = {0x00, 0x00, 0x00, 34, 0xff, 'S', 'M', 'B'};

		assert_int_equal(smb_frame_parse(m, sizeof(m), &f), -ERR_PROTO);
		m[4] = 0xfe;
		assert_int_equal(smb_frame_parse(m, sizeof(m), &f), -ERR_PROTO);
		m[3] = 3;
		assert_int_equal(smb_frame_parse(m, 4, &f), -ERR_PROTO);
		m[3] = 0;
		assert_int_equal(smb_frame_parse(m, 4, &f), -ERR_PROTO);
	}
}

static void test_not_smb(void **state)
{
	static const char http[] = "HTTP/1.1 400 Bad Request\r\n\r\n";
	static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x00, 0x2a, 0x02};
	/* SMB-like framing, wrong magic */
	static const uint8_t junk[] = {0x00, 0x00, 0x00, 0x40, 'x', 'S', 'M', 'B'};
	struct nbss_packet p;
	struct smb_frame f;
	struct smb1_negotiate n1;
	struct smb2_negotiate n2;
	const uint8_t *h = (const uint8_t *)http;

	(void)state;
	assert_int_equal(nbss_parse(h, strlen(http), &p), -ERR_SYNTAX);
	assert_int_equal(smb_frame_parse(h, strlen(http), &f), -ERR_SYNTAX);
	assert_int_equal(smb1_parse_negotiate(h, strlen(http), &n1), -ERR_SYNTAX);
	assert_int_equal(smb2_parse_negotiate(h, strlen(http), &n2), -ERR_SYNTAX);
	assert_int_equal(smb1_parse_negotiate(h, 1, &n1), -ERR_SYNTAX);
	assert_int_equal(nbss_parse(tls, sizeof(tls), &p), -ERR_SYNTAX);
	assert_int_equal(smb_frame_parse(junk, sizeof(junk), &f), -ERR_SYNTAX);
	assert_int_equal(smb_frame_parse(junk, 7, &f), PARSE_AGAIN);
	assert_int_equal(smb2_parse_negotiate(junk, sizeof(junk), &n2), -ERR_SYNTAX);
	assert_int_equal(smb1_parse_negotiate(NULL, 0, &n1), PARSE_AGAIN);
}

/* A minimal valid SMB1 reply: command, status, WordCount wc (zero words), ByteCount 0. */
static size_t make_reply(uint8_t *b, uint8_t cmd, uint32_t status, uint8_t wc, size_t extra)
{
	size_t msg = 32 + 1 + 2u * wc + 2 + extra;

	memset(b, 0, 4 + msg);
	b[1] = (uint8_t)(msg >> 16);
	b[2] = (uint8_t)(msg >> 8);
	b[3] = (uint8_t)msg;
	b[4] = 0xff;
	memcpy(b + 5, "SMB", 3);
	b[8] = cmd;
	b[9] = (uint8_t)status;
	b[10] = (uint8_t)(status >> 8);
	b[11] = (uint8_t)(status >> 16);
	b[12] = (uint8_t)(status >> 24);
	b[13] = 0x98;
	b[14] = 0x01;
	b[15] = 0xc0;
	b[34] = 0x41;
	b[36] = wc;
	return 4 + msg;
}

static void test_count_lies(void **state)
{
	static uint8_t b[4 + 32 + 1 + 510 + 2 + 300];
	struct smb1_header h;

	(void)state;
	/* a 4 + 35 + 20 byte frame: WordCount w needs 2w + 2 <= 22, then ByteCount fits or not */
	for (unsigned wc = 0; wc < 256; wc++) {
		for (unsigned bc = 0; bc < 40; bc++) {
			size_t n = make_reply(b, SMB1_COM_TRANSACTION, 0, 0, 20);
			int r;

			b[36] = (uint8_t)wc;
			if (2 * wc + 2 + 33 <= 55) {
				b[37 + 2 * wc] = (uint8_t)bc;
				b[38 + 2 * wc] = 0;
			}
			r = smb1_parse_header(b, n, &h);
			if (33 + 2 * wc + 2 > 55 || bc > 55 - (33 + 2 * wc + 2)) {
				assert_int_equal(r, -ERR_PROTO);
			} else {
				assert_int_equal(r, (int)n);
				assert_true(h.bytes_off + h.byte_count <= n);
			}
		}
	}
	/* high byte of ByteCount */
	{
		size_t n = make_reply(b, SMB1_COM_NEGOTIATE, 0, 0, 0);

		b[38] = 0x01;
		assert_int_equal(smb1_parse_header(b, n, &h), -ERR_PROTO);
	}
	/* message WordCounts the parsers refuse when status is 0, accept as refusals otherwise */
	{
		struct smb1_negotiate n1;
		struct smb1_session_setup ss;
		struct smb1_tree_connect tc;
		size_t n;

		n = make_reply(b, SMB1_COM_NEGOTIATE, 0, 2, 0);
		assert_int_equal(smb1_parse_negotiate(b, n, &n1), -ERR_PROTO);
		n = make_reply(b, SMB1_COM_NEGOTIATE, 0, 0, 0);
		assert_int_equal(smb1_parse_negotiate(b, n, &n1), -ERR_PROTO);
		n = make_reply(b, SMB1_COM_NEGOTIATE, SMB_STATUS_INVALID_PARAMETER, 0, 0);
		assert_int_equal(smb1_parse_negotiate(b, n, &n1), (int)n);
		assert_int_equal(n1.form, SMB1_NEG_ERROR);
		assert_false(smb1_negotiate_accepted(&n1));
		n = make_reply(b, SMB1_COM_SESSION_SETUP_ANDX, 0, 0, 0);
		assert_int_equal(smb1_parse_session_setup(b, n, &ss), -ERR_PROTO);
		n = make_reply(b, SMB1_COM_SESSION_SETUP_ANDX, SMB_STATUS_LOGON_FAILURE, 0, 0);
		assert_int_equal(smb1_parse_session_setup(b, n, &ss), (int)n);
		/* WordCount 4 with a SecurityBlobLength larger than ByteCount */
		n = make_reply(b, SMB1_COM_SESSION_SETUP_ANDX, 0, 4, 4);
		b[37 + 6] = 10;
		b[37 + 8] = 4;
		assert_int_equal(smb1_parse_session_setup(b, n, &ss), -ERR_PROTO);
		b[37 + 6] = 4;
		assert_int_equal(smb1_parse_session_setup(b, n, &ss), (int)n);
		assert_string_equal(ss.native_os, "");
		n = make_reply(b, SMB1_COM_TREE_CONNECT_ANDX, 0, 5, 0);
		assert_int_equal(smb1_parse_tree_connect(b, n, &tc), -ERR_PROTO);
		/* wrong command for the parser */
		n = make_reply(b, SMB1_COM_TREE_CONNECT_ANDX, 0, 3, 0);
		assert_int_equal(smb1_parse_session_setup(b, n, &ss), -ERR_PROTO);
		assert_int_equal(smb1_parse_tree_connect(b, n, &tc), (int)n);
	}
}

static void test_trans_offsets(void **state)
{
	uint8_t b[128];
	struct smb1_trans t;
	size_t n;

	(void)state;
	/* WordCount 10, SetupCount 0, 8 data bytes at SMB offset 56 (frame 60) */
	n = make_reply(b, SMB1_COM_TRANSACTION, 0, 10, 9);
	b[37 + 12] = 8;  /* DataCount */
	b[37 + 14] = 56; /* DataOffset */
	b[37 + 20] = 9;  /* ByteCount */
	assert_int_equal(smb1_parse_trans(b, n, &t), (int)n);
	assert_int_equal(t.data_count, 8);
	b[37 + 14] = 58; /* data would end past the message */
	assert_int_equal(smb1_parse_trans(b, n, &t), -ERR_PROTO);
	b[37 + 14] = 56;
	b[37 + 6] = 1; /* ParameterCount 1 at offset 0xffff */
	b[37 + 8] = 0xff;
	b[37 + 9] = 0xff;
	assert_int_equal(smb1_parse_trans(b, n, &t), -ERR_PROTO);
	b[37 + 6] = 0;
	b[37 + 18] = 1; /* SetupCount 1 but WordCount 10 */
	assert_int_equal(smb1_parse_trans(b, n, &t), -ERR_PROTO);
	n = make_reply(b, SMB1_COM_TRANSACTION, 0, 9, 0);
	assert_int_equal(smb1_parse_trans(b, n, &t), -ERR_PROTO);
	n = make_reply(b, SMB1_COM_NEGOTIATE, 0, 0, 0);
	assert_int_equal(smb1_parse_trans(b, n, &t), -ERR_PROTO);
}

/* SMB2 NEGOTIATE response with status 0 and dialect 0x0311, count contexts at offset coff. */
static size_t make_smb2(uint8_t *b, size_t cap, uint16_t count, uint32_t coff, size_t extra)
{
	size_t msg = 64 + 64 + extra;

	assert_true(4 + msg <= cap);
	memset(b, 0, 4 + msg);
	b[2] = (uint8_t)(msg >> 8);
	b[3] = (uint8_t)msg;
	b[4] = 0xfe;
	memcpy(b + 5, "SMB", 3);
	b[8] = 64;
	b[4 + 16] = 1;        /* SERVER_TO_REDIR */
	b[4 + 64] = 65;       /* StructureSize */
	b[4 + 64 + 2] = 0x03; /* signing enabled + required */
	b[4 + 64 + 4] = 0x11;
	b[4 + 64 + 5] = 0x03;
	b[4 + 64 + 6] = (uint8_t)count;
	b[4 + 64 + 7] = (uint8_t)(count >> 8);
	b[4 + 64 + 60] = (uint8_t)coff;
	b[4 + 64 + 61] = (uint8_t)(coff >> 8);
	return 4 + msg;
}

static void test_smb2_offsets(void **state)
{
	uint8_t b[1024];
	struct smb2_negotiate n;
	size_t len;

	(void)state;
	/* one preauth context (6 bytes of data: count 1, salt 0, SHA-512) at 128 */
	len = make_smb2(b, sizeof(b), 1, 128, 8 + 6);
	b[4 + 128] = 1;
	b[4 + 128 + 2] = 6;
	b[4 + 128 + 8] = 1;
	b[4 + 128 + 12] = 1;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), (int)len);
	assert_int_equal(n.dialect, 0x0311);
	assert_int_equal(n.security_mode, 3);
	assert_int_equal(n.contexts_seen, 1);
	assert_int_equal(n.preauth_hash, 1);
	/* DataLength past the message */
	b[4 + 128 + 2] = 7;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	b[4 + 128 + 2] = 6;
	/* a second context announced but absent */
	b[4 + 64 + 6] = 2;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	/* too many contexts */
	b[4 + 64 + 6] = SMB2_CONTEXTS_MAX + 1;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	b[4 + 64 + 6] = 1;
	/* context offset far past the message (and the 32-bit wrap-around) */
	b[4 + 64 + 63] = 0xff;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	memset(b + 4 + 64 + 60, 0xff, 4);
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	/* ignored for dialects other than 3.1.1 (the field is Reserved there) */
	b[4 + 64 + 4] = 0x02;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), (int)len);
	assert_int_equal(n.contexts_seen, 0);
	/* security buffer past the message */
	len = make_smb2(b, sizeof(b), 0, 0, 0);
	b[4 + 64 + 56] = 128;
	b[4 + 64 + 58] = 1;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	b[4 + 64 + 58] = 0;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), (int)len);
	/* body StructureSize lie, short body, wrong command, wrong header size */
	b[4 + 64] = 9;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	b[4 + 64] = 65;
	b[4 + 12] = 1;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	b[4 + 12] = 0;
	b[8] = 63;
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_PROTO);
	b[8] = 64;
	b[3] -= 1; /* 127-byte message: body one byte short */
	assert_int_equal(smb2_parse_negotiate(b, len - 1, &n), -ERR_PROTO);
	/* error reply: header + StructureSize 9 body, status kept */
	len = make_smb2(b, sizeof(b), 0, 0, 0);
	b[3] = 64 + 9;
	b[4 + 64] = 9;
	memcpy(b + 4 + 8, "\xbb\x00\x00\xc0", 4);
	assert_int_equal(smb2_parse_negotiate(b, 4 + 64 + 9, &n), 4 + 64 + 9);
	assert_int_equal(n.status, SMB_STATUS_NOT_SUPPORTED);
	assert_int_equal(n.structure_size, 9);
	assert_int_equal(n.dialect, 0);
	/* an SMB1 reply handed to the SMB2 parser */
	len = make_reply(b, SMB1_COM_NEGOTIATE, 0, 1, 0);
	assert_int_equal(smb2_parse_negotiate(b, len, &n), -ERR_UNSUPPORTED);
}

static void test_utf16(void **state)
{
	/* "Ab", U+00E9, U+1F600 (surrogate pair), NUL, "x" */
	static const uint8_t s[] = {'A', 0, 'b', 0, 0xe9, 0, 0x3d, 0xd8, 0x00, 0xde, 0, 0, 'x', 0};
	char out[8];
	size_t used;

	(void)state;
	assert_false(smb_copy_utf16(out, sizeof(out), s, sizeof(s), &used));
	assert_string_equal(out, "Ab??");
	assert_int_equal(used, 12);
	/* no terminator within avail; odd avail rounds down */
	assert_false(smb_copy_utf16(out, sizeof(out), s, 5, &used));
	assert_string_equal(out, "Ab");
	assert_int_equal(used, 4);
	/* cut to fit */
	assert_true(smb_copy_utf16(out, 2, s, sizeof(s), &used));
	assert_string_equal(out, "A");
	/* lone high surrogate at the end */
	assert_false(smb_copy_utf16(out, sizeof(out), s + 6, 2, &used));
	assert_string_equal(out, "?");
	assert_false(smb_copy_utf16(out, sizeof(out), s, 0, &used));
	assert_string_equal(out, "");
	assert_int_equal(used, 0);
}

static void test_classifiers(void **state)
{
	struct smb1_header h = {
	    .kind = SMB_FRAME_SMB1,
	    .command = SMB1_COM_TRANSACTION,
	    .nt_status = true,
	    .mid = 0x41,
	};
	struct dp_result dp;
	const char *why = NULL;
	static const struct {
		uint32_t status;
		enum ms17_verdict v;
	} table[] = {
	    {SMB_STATUS_INSUFF_SERVER_RESOURCES, MS17_VULNERABLE},
	    {SMB_STATUS_INVALID_HANDLE, MS17_NOT_VULNERABLE},
	    {SMB_STATUS_ACCESS_DENIED, MS17_NOT_VULNERABLE},
	    {SMB_STATUS_SUCCESS, MS17_UNKNOWN},
	    {SMB_STATUS_NOT_IMPLEMENTED, MS17_UNKNOWN},
	    {SMB_STATUS_INVALID_PARAMETER, MS17_UNKNOWN},
	    {0xC0000205u ^ 1, MS17_UNKNOWN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		h.status = table[i].status;
		why = NULL;
		assert_int_equal(smb1_ms17_classify(&h, 0x41, &why), table[i].v);
		assert_non_null(why);
	}
	h.status = SMB_STATUS_INSUFF_SERVER_RESOURCES;
	assert_int_equal(smb1_ms17_classify(&h, 0x42, &why), MS17_UNKNOWN);
	h.kind = SMB_FRAME_SMB2;
	assert_int_equal(smb1_ms17_classify(&h, 0x41, &why), MS17_UNKNOWN);
	h.kind = SMB_FRAME_SMB1;
	/* DOS form: only ERRDOS/ERRbadfid means patched; the same 4 bytes as an NT status do not */
	h.nt_status = false;
	h.dos_class = SMB1_ERRDOS;
	h.dos_code = SMB1_ERRbadfid;
	h.status = 0x00060001;
	assert_int_equal(smb1_ms17_classify(&h, 0x41, &why), MS17_NOT_VULNERABLE);
	h.dos_class = 0x02;
	assert_int_equal(smb1_ms17_classify(&h, 0x41, &why), MS17_UNKNOWN);
	h.nt_status = true;
	assert_int_equal(smb1_ms17_classify(&h, 0x41, &why), MS17_UNKNOWN);
	assert_string_equal(ms17_verdict_name(MS17_VULNERABLE), "vulnerable");
	assert_string_equal(ms17_verdict_name(MS17_NOT_VULNERABLE), "not vulnerable");
	assert_string_equal(ms17_verdict_name(MS17_UNKNOWN), "unknown");

	/* DoublePulsar */
	h.command = SMB1_COM_TRANSACTION2;
	h.mid = 0x51;
	memcpy(h.security_features, "\x7c\x7c\x45\xb1\x00\x00\x00\x00", 8);
	assert_int_equal(smb1_doublepulsar_classify(&h, &dp), DP_PRESENT);
	assert_int_equal(dp.xor_key, 0x1ef6bd49);
	assert_false(dp.x64);
	h.mid = 0x41;
	assert_int_equal(smb1_doublepulsar_classify(&h, &dp), DP_NOT_DETECTED);
	assert_int_equal(dp.xor_key, 0);
	h.mid = 0x52; /* the uninstall answer: not our question */
	assert_int_equal(smb1_doublepulsar_classify(&h, &dp), DP_UNKNOWN);
	h.mid = 0x51;
	h.command = SMB1_COM_TRANSACTION;
	assert_int_equal(smb1_doublepulsar_classify(&h, &dp), DP_UNKNOWN);
	assert_non_null(dp.reason);
	assert_string_equal(smb_status_name(0xC0000205u), "STATUS_INSUFF_SERVER_RESOURCES");
	assert_string_equal(smb_status_name(0x12345678u), "unknown status");
	assert_string_equal(nbss_error_name(0x82), "called name not present");
	assert_string_equal(nbss_error_name(0x11), "unknown error code");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_build_nbss),    cmocka_unit_test(test_build_smb1),
	    cmocka_unit_test(test_build_smb2),    cmocka_unit_test(test_nbss_lengths),
	    cmocka_unit_test(test_not_smb),       cmocka_unit_test(test_count_lies),
	    cmocka_unit_test(test_trans_offsets), cmocka_unit_test(test_smb2_offsets),
	    cmocka_unit_test(test_utf16),         cmocka_unit_test(test_classifiers),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
