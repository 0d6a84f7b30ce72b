/* SPDX-License-Identifier: MIT */
/*
 * Unit tests of the SSH, Telnet, RDP and VNC pure parsers: boundaries and hostile input that the
 * golden captures do not cover (caps, length fields past the data, builders, control characters).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "probes/parse/es_parse.h"
#include "probes/parse/rdp_parse.h"
#include "probes/parse/rpc_parse.h"
#include "probes/parse/ssh_parse.h"
#include "probes/parse/telnet_parse.h"
#include "probes/parse/vnc_parse.h"

#define S(lit) (const uint8_t *)(lit), sizeof(lit) - 1

/* Only printable ASCII (and '\n' when nl) before the NUL, which must be inside the array. */
static void assert_clean(const char *s, size_t size, bool nl)
{
	const char *nul = memchr(s, 0, size);

	assert_non_null(nul);
	for (const char *p = s; p < nul; p++)
		assert_true((*p >= 0x20 && *p < 0x7f) || (nl && *p == '\n'));
}

static void test_ssh_ident_prefixes(void **state)
{
	struct ssh_ident id;

	(void)state;
	assert_int_equal(ssh_parse_ident(S(""), &id), PARSE_AGAIN);
	assert_int_equal(ssh_parse_ident(S("SS"), &id), PARSE_AGAIN);
	assert_int_equal(ssh_parse_ident(S("SSH-2.0-Open"), &id), PARSE_AGAIN);
	assert_int_equal(ssh_parse_ident(S("SSX"), &id), -ERR_SYNTAX);
	assert_int_equal(ssh_parse_ident(S("HTTP/1.1 200 OK\r\n"), &id), -ERR_SYNTAX);
	/* missing '-' after protoversion: returned, flagged malformed */
	assert_int_equal(ssh_parse_ident(S("SSH-2.0\r\n"), &id), 9);
	assert_true(id.flags & SSH_IDENT_F_NO_DASH);
	assert_true(id.flags & SSH_IDENT_F_MALFORMED);
	assert_string_equal(id.proto, "2.0");
	/* trailing bytes (KEXINIT) are not consumed */
	assert_int_equal(ssh_parse_ident(S("SSH-2.0-X\r\n\0\0\0\x14"), &id), 11);
	assert_int_equal(id.kind, SSH_PROTO_2);
	assert_int_equal(ssh_parse_ident(S("SSH-3.0-X\r\n"), &id), 11);
	assert_int_equal(id.kind, SSH_PROTO_OTHER);
	assert_int_equal(ssh_parse_ident(S("SSH-1.3-X\r\n"), &id), 11);
	assert_int_equal(id.kind, SSH_PROTO_1);
}

static void test_ssh_ident_no_lf(void **state)
{
	uint8_t *buf = malloc(SSH_IDENT_SCAN_MAX);
	struct ssh_ident id;

	(void)state;
	assert_non_null(buf);
	memset(buf, 'A', SSH_IDENT_SCAN_MAX);
	memcpy(buf, "SSH-2.0-", 8);
	assert_int_equal(ssh_parse_ident(buf, SSH_IDENT_SCAN_MAX - 1, &id), PARSE_AGAIN);
	assert_int_equal(ssh_parse_ident(buf, SSH_IDENT_SCAN_MAX, &id), -ERR_TOOBIG);
	free(buf);
}

static void test_ssh_banner_caps(void **state)
{
	static struct ssh_banner b;
	uint8_t buf[SSH_PRE_MAX_LINE + 64];
	char many[40 * 4 + 32];
	size_t n = 0;

	(void)state;
	/* a pre-banner line longer than SSH_PRE_MAX_LINE without LF */
	memset(buf, 'x', sizeof(buf));
	assert_int_equal(ssh_parse_banner(buf, SSH_PRE_MAX_LINE - 1, &b), PARSE_AGAIN);
	assert_int_equal(ssh_parse_banner(buf, sizeof(buf), &b), -ERR_TOOBIG);
	/* exactly 32 pre-banner lines are accepted, 33 are not */
	for (int i = 0; i < 33; i++) {
		memcpy(many + n, "ab\r\n", 4);
		n += 4;
	}
	memcpy(many + n, "SSH-2.0-X\r\n", 11);
	assert_int_equal(ssh_parse_banner((const uint8_t *)many + 4, n - 4 + 11, &b),
	                 (int)(n - 4 + 11));
	assert_int_equal(b.pre_lines, 32);
	assert_true(b.pre_truncated); /* only SSH_PRE_KEEP are kept */
	assert_int_equal(ssh_parse_banner((const uint8_t *)many, n + 11, &b), -ERR_TOOBIG);
	/* NUL in a pre-banner line: binary, not SSH */
	assert_int_equal(ssh_parse_banner(S("ab\0c\r\nSSH-2.0-X\r\n"), &b), -ERR_SYNTAX);
	/* a partial line that may still become "SSH-" */
	assert_int_equal(ssh_parse_banner(S("hello\r\nSS"), &b), PARSE_AGAIN);
	assert_int_equal(b.pre_lines, 1);
	assert_string_equal(b.pre[0], "hello");
}

/* Build a KEXINIT packet with the given name-lists (10 of them) into buf. */
static size_t make_kexinit(uint8_t *buf, const char *const lists[10], uint8_t msg)
{
	size_t n = 5, body;
	uint8_t pad = 4;

	buf[n++] = msg;
	memset(buf + n, 0x42, 16);
	n += 16;
	for (int i = 0; i < 10; i++) {
		uint32_t l = (uint32_t)strlen(lists[i]);

		buf[n++] = (uint8_t)(l >> 24);
		buf[n++] = (uint8_t)(l >> 16);
		buf[n++] = (uint8_t)(l >> 8);
		buf[n++] = (uint8_t)l;
		memcpy(buf + n, lists[i], l);
		n += l;
	}
	memset(buf + n, 0, 5);
	n += 5;
	while ((n + pad) % 8)
		pad++;
	memset(buf + n, 0, pad);
	n += pad;
	body = n - 4;
	buf[0] = (uint8_t)(body >> 24);
	buf[1] = (uint8_t)(body >> 16);
	buf[2] = (uint8_t)(body >> 8);
	buf[3] = (uint8_t)body;
	buf[4] = pad;
	return n;
}

static void test_ssh_kexinit(void **state)
{
	static struct ssh_kexinit k;
	static uint8_t buf[4096];
	const char *const cbc_etm[10] = {"curve25519-sha256",
	                                 "ssh-ed25519",
	                                 "aes128-cbc",
	                                 "aes128-cbc",
	                                 "hmac-sha2-256-etm@openssh.com",
	                                 "hmac-sha2-256-etm@openssh.com",
	                                 "none",
	                                 "none",
	                                 "",
	                                 ""};
	const char *const cbc_only[10] = {
	    "curve25519-sha256", "ssh-ed25519", "aes128-cbc", "aes128-cbc", "hmac-sha2-256",
	    "hmac-sha2-256",     "none",        "none",       "",           ""};
	const char *const nones[10] = {"diffie-hellman-group1-sha1",
	                               "ssh-dss",
	                               "none,arcfour256",
	                               "none",
	                               "none,hmac-sha1-96",
	                               "none",
	                               "none",
	                               "none",
	                               "",
	                               ""};
	char names[16];
	size_t n;

	(void)state;
	n = make_kexinit(buf, cbc_etm, SSH_MSG_KEXINIT);
	assert_int_equal(ssh_parse_kexinit(buf, n, &k), (int)n);
	assert_true(k.alg_flags & SSH_ALG_TERRAPIN_PRONE);
	n = make_kexinit(buf, cbc_only, SSH_MSG_KEXINIT);
	assert_int_equal(ssh_parse_kexinit(buf, n, &k), (int)n);
	assert_false(k.alg_flags & SSH_ALG_TERRAPIN_PRONE);
	n = make_kexinit(buf, nones, SSH_MSG_KEXINIT);
	assert_int_equal(ssh_parse_kexinit(buf, n, &k), (int)n);
	assert_true(k.alg_flags & SSH_ALG_NONE_CIPHER);
	assert_true(k.alg_flags & SSH_ALG_NONE_MAC);
	assert_true(k.alg_flags & SSH_ALG_WEAK_MAC);
	assert_true(k.alg_flags & SSH_ALG_WEAK_CIPHER);
	assert_int_equal(ssh_kexinit_weak_names(&k, names, sizeof(names)), -ERR_TOOBIG);
	assert_clean(names, sizeof(names), false);
	/* another message than KEXINIT, well framed */
	n = make_kexinit(buf, cbc_only, 21);
	assert_int_equal(ssh_parse_kexinit(buf, n, &k), -ERR_UNSUPPORTED);
	/* a name-list with a control character */
	n = make_kexinit(buf, cbc_only, SSH_MSG_KEXINIT);
	buf[5 + 17 + 4] = 0x1b;
	assert_int_equal(ssh_parse_kexinit(buf, n, &k), -ERR_PROTO);
	/* every truncation: AGAIN, never more than given */
	n = make_kexinit(buf, cbc_etm, SSH_MSG_KEXINIT);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ssh_parse_kexinit(buf, i, &k), PARSE_AGAIN);
}

static void test_ssh_packet_bounds(void **state)
{
	struct ssh_packet p;

	(void)state;
	assert_int_equal(ssh_parse_packet(S("\xff\xff\xff\xff\x04"), &p), -ERR_PROTO);
	assert_int_equal(ssh_parse_packet(S("\0\0\0\x0b\x04"), &p), -ERR_PROTO);
	/* 35001 > SSH_PACKET_MAX */
	assert_int_equal(ssh_parse_packet(S("\0\0\x88\xb9\x04"), &p), -ERR_PROTO);
	/* padding leaves no payload / padding < 4 */
	assert_int_equal(ssh_parse_packet(S("\0\0\0\x0c\x0b"), &p), -ERR_PROTO);
	assert_int_equal(ssh_parse_packet(S("\0\0\0\x0c\x03"), &p), -ERR_PROTO);
	/* length pointing past the data: AGAIN, not a read past the end */
	assert_int_equal(ssh_parse_packet(S("\0\0\x01\0\x04\x14"
	                                    "abc"),
	                                  &p),
	                 PARSE_AGAIN);
}

static void test_telnet_partial(void **state)
{
	static struct telnet_scan s;

	(void)state;
	assert_int_equal(telnet_parse(S(""), &s), PARSE_AGAIN);
	assert_int_equal(telnet_parse(S("\xff"), &s), PARSE_AGAIN);
	assert_int_equal(telnet_parse(S("\xff\xfd"), &s), PARSE_AGAIN);
	assert_int_equal(telnet_parse(S("ab\xff\xfd"), &s), 2);
	assert_string_equal(s.text, "ab");
	assert_int_equal(telnet_parse(S("\xff\xfd\x18\xff\xfa\x18\x01"), &s), 3);
	assert_int_equal(s.ncmds, 1);
	/* IAC IAC inside SB is data, not the end */
	assert_int_equal(telnet_parse(S("\xff\xfa\x18\xff\xff\xff\xf0x"), &s), 8);
	assert_string_equal(s.text, "x");
	/* two-byte commands (NOP, GA) produce no text */
	assert_int_equal(telnet_parse(S("a\xff\xf1"
	                                "b\xff\xf9"),
	                              &s),
	                 6);
	assert_string_equal(s.text, "ab");
	assert_int_equal(s.nother, 2);
}

static void test_telnet_sb_cap(void **state)
{
	static uint8_t buf[TELNET_SB_MAX + 16];
	static struct telnet_scan s;

	(void)state;
	memset(buf, 'a', sizeof(buf));
	buf[0] = TELNET_IAC;
	buf[1] = TELNET_SB;
	assert_int_equal(telnet_parse(buf, 200, &s), PARSE_AGAIN);
	assert_int_equal(telnet_parse(buf, sizeof(buf), &s), -ERR_TOOBIG);
}

static void test_telnet_hostile_text(void **state)
{
	static const uint8_t evil[] =
	    "\x1b[31mred\x1b[0m\x00<script>\xc3\x28\xe2\x82\r\x00x\ty\rz\xff\xff";
	static struct telnet_scan s;

	(void)state;
	assert_int_equal(telnet_parse(evil, sizeof(evil) - 1, &s), (int)sizeof(evil) - 1);
	assert_clean(s.text, sizeof(s.text), true);
	assert_string_equal(s.text, "?[31mred?[0m<script>?(??\nx y\nz?");
	assert_int_equal(s.data_ff, 1);
}

static void test_telnet_replies(void **state)
{
	static struct telnet_scan s;
	struct telnet_answered ans = {0};
	uint8_t out[64];

	(void)state;
	assert_true(telnet_parse(S("\xff\xfb\x01\xff\xfb\x03\xff\xfd\x18\xff\xfc\x05\xff\xfe\x06"),
	                         &s) > 0);
	assert_int_equal(telnet_build_replies(&s, &ans, 0, out, 8), -ERR_TOOBIG);
	assert_int_equal(
	    telnet_build_replies(&s, &ans, TELNET_REPLY_ACCEPT_ECHO_SGA, out, sizeof(out)), 9);
	assert_memory_equal(out, "\xff\xfc\x18\xff\xfd\x01\xff\xfd\x03", 9);
	/* answered once: the same requests again give nothing */
	assert_int_equal(telnet_build_replies(&s, &ans, 0, out, sizeof(out)), 0);
	/* a new request later in the stream is answered */
	assert_true(telnet_parse(S("\xff\xfb\x01\xff\xfd\x1f"), &s) > 0);
	assert_int_equal(telnet_build_replies(&s, &ans, 0, out, sizeof(out)), 3);
	assert_memory_equal(out, "\xff\xfc\x1f", 3);
}

static void test_telnet_classify(void **state)
{
	struct telnet_text_class c;
	const char *t;

	(void)state;
	t = "login: root\nroot@box:~# ";
	telnet_classify(t, strlen(t), &c);
	assert_true(c.shell_prompt);
	assert_false(c.no_auth_shell);
	t = "Welcome\nroot@box:~# ";
	telnet_classify(t, strlen(t), &c);
	assert_true(c.no_auth_shell);
	assert_string_equal(c.banner, "Welcome");
	t = "USER NAME: ";
	telnet_classify(t, strlen(t), &c);
	assert_true(c.login_prompt);
	t = "HTTP/1.0 400 Bad\n";
	telnet_classify(t, strlen(t), &c);
	assert_int_equal(c.service, TELNET_SVC_HTTP);
	t = "RFB 003.008\n";
	telnet_classify(t, strlen(t), &c);
	assert_int_equal(c.service, TELNET_SVC_RFB);
	telnet_classify("", 0, &c);
	assert_false(c.login_prompt || c.shell_prompt || c.no_auth_shell);
}

static void test_rdp_build_cr(void **state)
{
	/* PROTOCOLS.md §7.1 P1 and the cookie-less frame */
	static const uint8_t p1[] = {0x03, 0x00, 0x00, 0x2f, 0x2a, 0xe0, 0x00, 0x00, 0x00, 0x00,
	                             0x00, 0x43, 0x6f, 0x6f, 0x6b, 0x69, 0x65, 0x3a, 0x20, 0x6d,
	                             0x73, 0x74, 0x73, 0x68, 0x61, 0x73, 0x68, 0x3d, 0x73, 0x65,
	                             0x6c, 0x66, 0x63, 0x68, 0x65, 0x63, 0x6b, 0x0d, 0x0a, 0x01,
	                             0x00, 0x08, 0x00, 0x0b, 0x00, 0x00, 0x00};
	static const uint8_t bare[] = {0x03, 0x00, 0x00, 0x13, 0x0e, 0xe0, 0x00, 0x00, 0x00, 0x00,
	                               0x00, 0x01, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00};
	uint8_t out[RDP_CR_MAX];
	char long_cookie[RDP_COOKIE_MAX + 2];

	(void)state;
	assert_int_equal(rdp_build_cr(out, sizeof(out), "selfcheck", true, 0x0B), (int)sizeof(p1));
	assert_memory_equal(out, p1, sizeof(p1));
	assert_int_equal(rdp_build_cr(out, sizeof(out), NULL, true, 0x03), (int)sizeof(bare));
	assert_memory_equal(out, bare, sizeof(bare));
	/* no RDP_NEG_REQ: 39 bytes, LI 0x22 */
	assert_int_equal(rdp_build_cr(out, sizeof(out), "selfcheck", false, 0), 39);
	assert_int_equal(out[4], 0x22);
	assert_int_equal(rdp_build_cr(out, 18, NULL, true, 0), -ERR_TOOBIG);
	assert_int_equal(rdp_build_cr(out, sizeof(out), "a b", true, 0), -ERR_RANGE);
	assert_int_equal(rdp_build_cr(out, sizeof(out), "a\r\nx", true, 0), -ERR_RANGE);
	memset(long_cookie, 'c', sizeof(long_cookie) - 1);
	long_cookie[sizeof(long_cookie) - 1] = '\0';
	assert_int_equal(rdp_build_cr(out, sizeof(out), long_cookie, true, 0), -ERR_RANGE);
	long_cookie[RDP_COOKIE_MAX] = '\0';
	assert_int_equal(rdp_build_cr(out, sizeof(out), long_cookie, true, 0), RDP_CR_MAX);
}

static void test_rdp_cc_bounds(void **state)
{
	struct rdp_cc cc;

	(void)state;
	assert_int_equal(rdp_parse_cc(S(""), &cc), PARSE_AGAIN);
	assert_int_equal(rdp_parse_cc(S("\x03\x00"), &cc), PARSE_AGAIN);
	assert_int_equal(rdp_parse_cc(S("\x16\x03\x01"), &cc), -ERR_SYNTAX);
	/* TPKT length below the CC minimum / above the cap */
	assert_int_equal(rdp_parse_cc(S("\x03\x00\x00\x07\x02\xd0\x00"), &cc), -ERR_PROTO);
	assert_int_equal(rdp_parse_cc(S("\x03\x00\xff\xff"), &cc), -ERR_PROTO);
	/* neg length 9, unknown neg type 5, LI 10 */
	assert_int_equal(rdp_parse_cc(S("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00"
	                                "\x02\x01\x09\x00\x01\x00\x00\x00"),
	                              &cc),
	                 -ERR_PROTO);
	assert_int_equal(rdp_parse_cc(S("\x03\x00\x00\x13\x0e\xd0\x00\x00\x12\x34\x00"
	                                "\x05\x01\x08\x00\x01\x00\x00\x00"),
	                              &cc),
	                 -ERR_PROTO);
	assert_int_equal(rdp_parse_cc(S("\x03\x00\x00\x0f\x0a\xd0\x00\x00\x12\x34\x00"
	                                "\x02\x01\x08\x00"),
	                              &cc),
	                 -ERR_PROTO);
	/* data TPDU instead of a CC */
	assert_int_equal(rdp_parse_cc(S("\x03\x00\x00\x0b\x06\xf0\x80\x00\x00\x00\x00"), &cc),
	                 -ERR_UNSUPPORTED);
	assert_string_equal(rdp_failure_name(99), "UNKNOWN");
}

static void test_vnc_version(void **state)
{
	static const struct {
		const char *v;
		unsigned minor;
	} map[] = {
	    {"RFB 003.003\n", 3}, {"RFB 003.005\n", 3}, {"RFB 003.007\n", 7}, {"RFB 003.008\n", 8},
	    {"RFB 003.889\n", 8}, {"RFB 004.001\n", 8}, {"RFB 005.000\n", 8}, {"RFB 000.000\n", 3},
	    {"RFB 103.006\n", 8}, {"RFB 003.130\n", 8}, {"RFB 009.123\n", 8},
	};
	struct vnc_version v;

	(void)state;
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		assert_int_equal(vnc_parse_version((const uint8_t *)map[i].v, 12, &v), 12);
		assert_int_equal(v.rfb_minor, map[i].minor);
	}
	assert_int_equal(vnc_parse_version(S("RFB 003.00"), &v), PARSE_AGAIN);
	assert_int_equal(vnc_parse_version(S("RFB 0a"), &v), -ERR_SYNTAX);
	assert_int_equal(vnc_parse_version(S("RFB 003.008\r"), &v), -ERR_SYNTAX);
	assert_int_equal(vnc_parse_version(S("rfb 003.008\n"), &v), -ERR_SYNTAX);
	assert_string_equal(vnc_version_reply(8), "RFB 003.008\n");
	assert_string_equal(vnc_version_reply(5), "RFB 003.003\n");
}

static void test_vnc_reason_bounds(void **state)
{
	static struct vnc_sec_types t;
	static uint8_t big[5 + VNC_REASON_MAX];
	struct vnc_sec33 s;
	struct vnc_sec_result res;

	(void)state;
	/* reason length pointing past the data */
	assert_int_equal(vnc_parse_sec_types(S("\x00\x00\x00\x00\x10short"), &t), PARSE_AGAIN);
	assert_int_equal(vnc_parse_sec_types(S("\x03\x01\x02"), &t), PARSE_AGAIN);
	/* 0xFFFFFFFF: cut at VNC_REASON_MAX once that much is there */
	memset(big, 'r', sizeof(big));
	memcpy(big, "\x00\xff\xff\xff\xff", 5);
	assert_int_equal(vnc_parse_sec_types(big, sizeof(big) - 1, &t), PARSE_AGAIN);
	assert_int_equal(vnc_parse_sec_types(big, sizeof(big), &t), -ERR_TOOBIG);
	assert_true(t.reason.truncated);
	assert_int_equal(strlen(t.reason.text), VNC_REASON_MAX);
	/* exactly VNC_REASON_MAX is fine */
	memcpy(big, "\x00\x00\x00\x04\x00", 5);
	assert_int_equal(vnc_parse_sec_types(big, sizeof(big), &t), (int)sizeof(big));
	assert_false(t.reason.truncated);
	/* 3.3 */
	assert_int_equal(vnc_parse_sec33(S("\x00\x00\x00\x02"
	                                   "challenge"),
	                                 &s),
	                 4);
	assert_int_equal(s.type, VNC_SEC_VNC_AUTH);
	assert_int_equal(vnc_parse_sec33(S("\x00\x00\x01\x00"), &s), -ERR_PROTO);
	assert_int_equal(vnc_parse_sec33(S("\x00\x00\x00\x00\x00\x00\x00\x05no"), &s), PARSE_AGAIN);
	/* SecurityResult: reason only with 3.8 */
	assert_int_equal(vnc_parse_sec_result(S("\x00\x00\x00\x01\x00\x00\x00\x02no"), 8, &res),
	                 10);
	assert_string_equal(res.reason.text, "no");
	assert_int_equal(vnc_parse_sec_result(S("\x00\x00\x00\x01\x00\x00\x00\x02no"), 3, &res), 4);
	assert_false(res.has_reason);
	assert_int_equal(vnc_parse_sec_result(S("\x00\x00\x00\x00"), 8, &res), 4);
	assert_int_equal(vnc_parse_sec_result(S("\x00\x00\x00"), 8, &res), PARSE_AGAIN);
}

static void test_vnc_vencrypt(void **state)
{
	static struct vnc_vencrypt_subtypes st;
	struct vnc_vencrypt_version v;

	(void)state;
	assert_int_equal(vnc_parse_vencrypt_version(S("\x00"), &v), PARSE_AGAIN);
	assert_int_equal(vnc_parse_vencrypt_version(S("\x00\x02"), &v), 2);
	assert_int_equal(vnc_parse_vencrypt_subtypes(S("\xff"), &st), 1);
	assert_int_equal(st.ack, 0xff);
	assert_int_equal(vnc_parse_vencrypt_subtypes(S("\x00\x02\x00\x00\x01\x04\x00\x00"), &st),
	                 PARSE_AGAIN);
	assert_int_equal(
	    vnc_parse_vencrypt_subtypes(S("\x00\x02\x00\x00\x01\x04\x00\x00\x01\x00"), &st), 10);
	assert_true(st.has_no_auth);
	assert_true(st.has_plain);
}

/*
 * An XDR optional list ends with the boolean 0; any other word is garbage, not the end. Before,
 * a word such as 0xdeadbeef ended the export list there and what followed was never read: the
 * probe answered nfs-export-world "no" on a list it had not read (an export to "*" behind it).
 */
static void test_rpc_list_end(void **state)
{
	/* one export "/a" to host "h", then 0xdeadbeef, then an export "/b" with no group */
	static const uint8_t bad[] = {0,   0,   0, 1, 0,    0,    0,    2,    '/', 'a', 0, 0,
	                              0,   0,   0, 1, 0,    0,    0,    1,    'h', 0,   0, 0,
	                              0,   0,   0, 0, 0xde, 0xad, 0xbe, 0xef, 0,   0,   0, 2,
	                              '/', 'b', 0, 0, 0,    0,    0,    0,    0,   0,   0, 0};
	static const uint8_t good[] = {0, 0, 0, 1, 0,   0, 0, 2, '/', 'a', 0, 0, 0, 0, 0, 1,
	                               0, 0, 0, 1, 'h', 0, 0, 0, 0,   0,   0, 0, 0, 0, 0, 0};
	static const uint8_t groups_bad[] = {0, 0, 0, 1, 0, 0, 0, 2, '/', 'a', 0, 0, 0, 0, 0, 7};
	static const uint8_t pmap_bad[] = {0, 0, 0, 1, 0, 0, 0, 1,   0, 0, 0, 2,
	                                   0, 0, 0, 6, 0, 0, 0, 111, 0, 0, 0, 9};
	struct rpc_exports ex;
	struct rpc_pmap_list pm;

	(void)state;
	assert_int_equal(rpc_parse_exports(good, sizeof(good), 0, &ex), 0);
	assert_int_equal(ex.total, 1);
	assert_int_equal(ex.world, 0);
	assert_int_equal(rpc_parse_exports(bad, sizeof(bad), 0, &ex), -ERR_SYNTAX);
	assert_int_equal(rpc_parse_exports(groups_bad, sizeof(groups_bad), 0, &ex), -ERR_SYNTAX);
	assert_int_equal(rpc_parse_pmap_dump(pmap_bad, sizeof(pmap_bad), 0, &pm), -ERR_SYNTAX);
}

/* XDR of an EXPORT result with one export "/e" to the names given (NULL-ended). */
static size_t exports_xdr(uint8_t *b, size_t cap, const char *const *names)
{
	size_t n = 0;
	uint32_t words[2];

	words[0] = 1;
	words[1] = 2;
	assert_true(cap >= 16);
	for (int i = 0; i < 2; i++, n += 4)
		b[n] = (uint8_t)(words[i] >> 24), b[n + 1] = (uint8_t)(words[i] >> 16),
		b[n + 2] = (uint8_t)(words[i] >> 8), b[n + 3] = (uint8_t)words[i];
	memcpy(b + n, "/e\0\0", 4);
	n += 4;
	for (; *names; names++) {
		size_t k = strlen(*names), padded = (k + 3) & ~(size_t)3;

		assert_true(n + 8 + padded + 8 <= cap);
		memcpy(b + n, "\0\0\0\1", 4);
		b[n + 4] = 0, b[n + 5] = 0, b[n + 6] = (uint8_t)(k >> 8), b[n + 7] = (uint8_t)k;
		memset(b + n + 8, 0, padded);
		memcpy(b + n + 8, *names, k);
		n += 8 + padded;
	}
	assert_true(n + 8 <= cap);
	memset(b + n, 0, 8); /* the end of the groups, then of the exports */
	return n + 8;
}

static enum rpc_reach reach(const char *const *names)
{
	uint8_t b[512];
	size_t n = exports_xdr(b, sizeof(b), names);
	struct rpc_exports ex;

	assert_int_equal(rpc_parse_exports(b, n, 0, &ex), 0);
	assert_int_equal(ex.total, 1);
	assert_int_equal(ex.world, ex.ex[0].world);
	assert_int_equal(ex.world_sure, ex.ex[0].reach == RPC_REACH_ALL);
	assert_int_equal(ex.unseen, ex.ex[0].reach == RPC_REACH_UNSEEN);
	assert_int_equal(ex.ex[0].world, ex.ex[0].reach >= RPC_REACH_ALL_LIKELY);
	return ex.ex[0].reach;
}

#define REACH(...) reach((const char *const[]){__VA_ARGS__, NULL})

/*
 * Who an export's client names admit (PROBES.md, "NFS": exports(5), nfs-utils' client.c): every
 * host for "*" and a zero netmask spelled out; every address as documented for a prefix of
 * length 0 in any spelling ("::0/0" was not seen before; "0.0.0.0/0" and "::/0" were, as
 * certain, though nfs-utils reads a /0 prefix as /32); a netgroup is not known; the rest only
 * what they name.
 */
static void test_rpc_reach(void **state)
{
	static const char *const all[] = {
	    "*",     "everyone",        "0.0.0.0/0.0.0.0",   "192.0.2.0/0.0.0.0",
	    "::/::", "2001:db8::/0::0", "::/0:0:0:0:0:0:0:0"};
	static const char *const likely[] = {"0.0.0.0/0",    "::/0",  "::0/0",
	                                     "0::0/0",       "::/00", "198.18.0.0/0",
	                                     "2001:db8::/0", "**",    "***"};
	static const char *const listed[] = {"198.18.0.0/15",
	                                     "0.0.0.0/8",
	                                     "::/1",
	                                     "0.0.0.0/0.0.0.1",
	                                     "::/::1",
	                                     "gss/krb5",
	                                     "*.example.com",
	                                     "host.example",
	                                     "example/0",
	                                     "/0",
	                                     "0.0.0.0/",
	                                     "0.0.0.0/0x0",
	                                     "0.0.0.0/ 0",
	                                     "0.0.0.0/0.0",
	                                     "0.0.0.0",
	                                     "::",
	                                     "*?",
	                                     "2001:db8::/32"};
	uint8_t b[64];
	struct rpc_exports ex;

	(void)state;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (REACH(all[i]) != RPC_REACH_ALL)
			fail_msg("%s: not everyone", all[i]);
	for (size_t i = 0; i < sizeof(likely) / sizeof(likely[0]); i++)
		if (REACH(likely[i]) != RPC_REACH_ALL_LIKELY)
			fail_msg("%s: not everyone as documented", likely[i]);
	for (size_t i = 0; i < sizeof(listed) / sizeof(listed[0]); i++)
		if (REACH(listed[i]) != RPC_REACH_LISTED)
			fail_msg("%s: not only what it names", listed[i]);
	assert_int_equal(REACH("@trusted"), RPC_REACH_UNSEEN);
	/* an export's reach is its broadest name's */
	assert_int_equal(REACH("198.18.0.0/15", "@trusted"), RPC_REACH_UNSEEN);
	assert_int_equal(REACH("@trusted", "::0/0", "198.18.0.0/15"), RPC_REACH_ALL_LIKELY);
	assert_int_equal(REACH("::/0", "*"), RPC_REACH_ALL);
	/* no name at all: no restriction */
	assert_int_equal(
	    rpc_parse_exports(b, exports_xdr(b, sizeof(b), (const char *const[]){NULL}), 0, &ex),
	    0);
	assert_int_equal(ex.ex[0].reach, RPC_REACH_ALL);
	assert_int_equal(ex.world_sure, 1);
}

/* The status code is three digits and a space (RFC 9112 §4): "4031" is no 403. Before, the
 * fourth digit was never looked at and "HTTP/1.1 4011" read as a 401 (elasticsearch-no-auth
 * answered "no" over garbage, with Elasticsearch's realm). */
static void test_es_status_line(void **state)
{
	struct es_http h;

	(void)state;
	assert_int_equal(es_parse_head(S("HTTP/1.1 401 Unauthorized\r\n\r\n"), &h), 29);
	assert_int_equal(h.status, 401);
	assert_int_equal(es_parse_head(S("HTTP/1.1 200\r\n\r\n"), &h), 16);
	assert_int_equal(h.status, 200);
	assert_int_equal(es_parse_head(S("HTTP/1.1 4011 Unauthorized\r\n\r\n"), &h), -ERR_SYNTAX);
	assert_int_equal(es_parse_head(S("HTTP/1.1 401x\r\n\r\n"), &h), -ERR_SYNTAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ssh_ident_prefixes), cmocka_unit_test(test_ssh_ident_no_lf),
	    cmocka_unit_test(test_ssh_banner_caps),    cmocka_unit_test(test_ssh_kexinit),
	    cmocka_unit_test(test_ssh_packet_bounds),  cmocka_unit_test(test_telnet_partial),
	    cmocka_unit_test(test_telnet_sb_cap),      cmocka_unit_test(test_telnet_hostile_text),
	    cmocka_unit_test(test_telnet_replies),     cmocka_unit_test(test_telnet_classify),
	    cmocka_unit_test(test_rdp_build_cr),       cmocka_unit_test(test_rdp_cc_bounds),
	    cmocka_unit_test(test_vnc_version),        cmocka_unit_test(test_vnc_reason_bounds),
	    cmocka_unit_test(test_vnc_vencrypt),       cmocka_unit_test(test_rpc_list_end),
	    cmocka_unit_test(test_rpc_reach),          cmocka_unit_test(test_es_status_line),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
