/* SPDX-License-Identifier: MIT */
/*
 * The smb (TCP 445) and netbios (TCP 139) probes driven in memory (drive.h): per connection, the
 * bytes a server sends. EMULATOR bytes (tests/emul/smb_emul.py, equal byte for byte to the dumps
 * of PROTOCOLS.md §12.6 for SESSION_SETUP, TRANSACTION and TRANSACTION2, and with the corrections
 * noted there for NEGOTIATE and TREE_CONNECT) for an unpatched MS17-010 Windows 7, a patched
 * Windows 10, a DoublePulsar-infected host and the failure variants; the real Samba 4.17 captures
 * of tests/data/smb when present. Each case fed whole, in chunks and byte by byte must give
 * exactly the expected findings and details; cut at every byte offset of every connection
 * (closed, reset, idle) it must end cleanly, with printable details, and never report an MS17-010
 * verdict (vulnerable or not) that the bytes did not reach: unknown is never shown as safe.
 * Argument: the tests/data folder.
 */
#include "drive.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

extern const struct probe_ops probe_smb, probe_netbios;

static const char *data_dir = "tests/data";

/* Replies of tests/emul/smb_emul.py (header comment); probes_smb_emul_bytes checks each. */
#define NEG                                                                                        \
	"0000006dff534d4272000000009801c00000000000000000000000000000fffe0000400011050003"         \
	"32000100041100000000010000000000fce3010000d0c0b0a0f3d201000008280011223344556677"         \
	"8857004f0052004b00470052004f0055005000000045004d0055004c0037000000"
#define NEG_LANMAN                                                                                 \
	"0000004fff534d4272000000009801000000000000000000000000000000fffe000040000d040003"         \
	"000411320001000000000000000000000000000800000012001112131415161718574f524b47524f"         \
	"555000"
#define NEG_NONE                                                                                   \
	"00000025ff534d4272000000009801c00000000000000000000000000000fffe0000400001ffff00"         \
	"00"
#define SESS                                                                                       \
	"000000caff534d4273000000009801c00000000000000000000000000000fffe0008400003ff0000"         \
	"000000a10000570069006e0064006f0077007300200037002000500072006f006600650073007300"         \
	"69006f006e0061006c00200037003600300031002000530065007200760069006300650020005000"         \
	"610063006b00200031000000570069006e0064006f0077007300200037002000500072006f006600"         \
	"65007300730069006f006e0061006c00200036002e003100000057004f0052004b00470052004f00"         \
	"550050000000"
#define SESS_LOGON_FAIL                                                                            \
	"00000023ff534d42736d0000c09801c00000000000000000000000000000fffe00004000000000"
#define SESS_BUSY "00000023ff534d4273d00000c09801c00000000000000000000000000000fffe00004000000000"
#define TREE                                                                                       \
	"00000037ff534d4275000000009801c00000000000000000000000000008fffe0008400007ff0000"         \
	"000100ff011f00000000000600495043000000"
#define TREE_DENIED "00000023ff534d4275220000c09801c00000000000000000000000000000fffe00084000000000"
#define TRANS_VULN  "00000023ff534d4225050200c09801680000000000000000000000000008fffe00084100000000"
#define TRANS_WIN10 "00000023ff534d4225220000c09801680000000000000000000000000008fffe00084100000000"
#define TRANS_INVALID                                                                              \
	"00000023ff534d4225080000c09801680000000000000000000000000008fffe00084100000000"
#define TRANS_DOS   "00000023ff534d4225010006009801280000000000000000000000000008fffe00084100000000"
#define TRANS_CMD32 "00000023ff534d4232050200c09801680000000000000000000000000008fffe00084100000000"
#define DP_PRESENT  "00000023ff534d4232020000c09807c000007c7c45b10000000000000008fffe00085100000000"
#define DP_ABSENT   "00000023ff534d4232020000c09807c00000000000000000000000000008fffe00084100000000"
#define SMB2_210                                                                                   \
	"00000081fe534d4240000000000000000000010001000000000000000000000000000000fffe0000"         \
	"00000000000000000000000000000000000000000000000000000000410001001002000040414243"         \
	"4445464748494a4b4c4d4e4f0100000000000100000001000000010000d0c0b0a0f3d20100000000"         \
	"00000000800000000000000000"
#define SMB2_210_REQ                                                                               \
	"00000081fe534d4240000000000000000000010001000000000000000000000000000000fffe0000"         \
	"00000000000000000000000000000000000000000000000000000000410003001002000040414243"         \
	"4445464748494a4b4c4d4e4f0100000000000100000001000000010000d0c0b0a0f3d20100000000"         \
	"00000000800000000000000000"
#define SMB2_202                                                                                   \
	"00000081fe534d4240000000000000000000010001000000000000000000000000000000fffe0000"         \
	"00000000000000000000000000000000000000000000000000000000410001000202000040414243"         \
	"4445464748494a4b4c4d4e4f0100000000000100000001000000010000d0c0b0a0f3d20100000000"         \
	"00000000800000000000000000"
#define SMB2_202_REQ                                                                               \
	"00000081fe534d4240000000000000000000010001000000000000000000000000000000fffe0000"         \
	"00000000000000000000000000000000000000000000000000000000410003000202000040414243"         \
	"4445464748494a4b4c4d4e4f0100000000000100000001000000010000d0c0b0a0f3d20100000000"         \
	"00000000800000000000000000"
#define NB_POS       "82000000"
#define NB_NEG82     "8300000182"
#define NB_RETARGET  "84000006c000020101bd"
#define NB_KEEPALIVE "85000000"
#define HTTP         "485454502f312e3020343030200d0a0d0a" /* HTTP/1.0 400 \r\n\r\n */

#define SAMBA   "@smb/samba-4.17-"
#define NBSAMBA "@netbios/samba-4.17-"

#define MAX_PARTS 8
#define MAX_CONNS 8

struct scase {
	const char *name;
	const struct probe_ops *ops;
	const char *conns[MAX_CONNS][MAX_PARTS]; /* hex parts per connection */
	enum probe_end tail;                     /* how a connection whose bytes ran out ends */
	int verdict_part; /* conn 0 part after which the MS17-010 verdict is known (-1: none) */
	enum service_state state;
	const char *service;
	const char *findings; /* "id=confidence,..." exactly (any order); "" = none */
	const char *kv[6][2]; /* details[key] == value (string), or "-" for "absent" */
	const char *bool_key; /* optional details[bool_key] == bool_val */
	bool bool_val;
};

#define VULN_CONN0                                                                                 \
	{                                                                                          \
		NEG, SESS, TREE, TRANS_VULN, DP_ABSENT                                             \
	}
#define SMB2_CONNS                                                                                 \
	{SMB2_210},                                                                                \
	{                                                                                          \
		SMB2_202                                                                           \
	}

static const struct scase cases[] = {
    {"emulator unpatched MS17-010 Windows 7",
     &probe_smb,
     {VULN_CONN0, SMB2_CONNS},
     PROBE_END_IDLE,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=likely,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "vulnerable"},
      {"doublepulsar", "absent"},
      {"max_dialect", "2.1"},
      {"native_os", "Windows 7 Professional 7601 Service Pack 1"},
      {"signing", "enabled"}},
     "smb1",
     true},
    {"emulator DoublePulsar-infected host",
     &probe_smb,
     {{NEG, SESS, TREE, TRANS_VULN, DP_PRESENT}, SMB2_CONNS},
     PROBE_END_IDLE,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "doublepulsar-implant=confirmed,ms17-010-vulnerable=likely,smb1-enabled=confirmed,"
     "smb-signing-not-required=confirmed",
     {{"ms17_010", "vulnerable"}, {"doublepulsar", "present"}}},
    {"emulator patched Windows 10 (ACCESS_DENIED)",
     &probe_smb,
     {{NEG, SESS, TREE, TRANS_WIN10}, SMB2_CONNS},
     PROBE_END_IDLE,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "not vulnerable"},
      {"ms17_010_reason", "STATUS_ACCESS_DENIED"},
      {"doublepulsar", "-"}}},
    {"emulator patched (INVALID_HANDLE)",
     &probe_smb,
     {{NEG, SESS, TREE, TRANS_INVALID}, SMB2_CONNS},
     PROBE_END_IDLE,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "not vulnerable"}, {"doublepulsar", "-"}}},
    {"emulator patched (ERRDOS/ERRbadfid)",
     &probe_smb,
     {{NEG, SESS, TREE, TRANS_DOS}, SMB2_CONNS},
     PROBE_END_IDLE,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "not vulnerable"}, {"ms17_010_reason", "ERRDOS/ERRbadfid"}}},
    {"emulator LOGON_FAILURE at session setup",
     &probe_smb,
     {{NEG, SESS_LOGON_FAIL}, SMB2_CONNS},
     PROBE_END_IDLE,
     1,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=likely,smb-signing-not-required=confirmed",
     {{"ms17_010", "unknown"},
      {"ms17_010_reason",
       "needs credentials: anonymous login refused, STATUS_LOGON_FAILURE (0xC000006D)"}}},
    {"emulator IPC$ refused",
     &probe_smb,
     {{NEG, SESS, TREE_DENIED}, SMB2_CONNS},
     PROBE_END_IDLE,
     2,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "unknown"},
      {"ms17_010_reason", "needs credentials: IPC$ refused, STATUS_ACCESS_DENIED (0xC0000022)"}}},
    {"emulator REQUEST_NOT_ACCEPTED twice",
     &probe_smb,
     {{NEG, SESS_BUSY, SESS_BUSY}, SMB2_CONNS},
     PROBE_END_IDLE,
     2,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=likely,smb-signing-not-required=confirmed",
     {{"ms17_010", "unknown"}}},
    {"emulator REQUEST_NOT_ACCEPTED once, then vulnerable",
     &probe_smb,
     {{NEG, SESS_BUSY, SESS, TREE, TRANS_VULN, DP_ABSENT}, SMB2_CONNS},
     PROBE_END_IDLE,
     4,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=likely,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "vulnerable"}}},
    {"emulator RST after TRANSACTION",
     &probe_smb,
     {{NEG, SESS, TREE}, SMB2_CONNS},
     PROBE_END_RESET,
     -1,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "unknown"}, {"ms17_010_reason", "connection reset after TRANSACTION"}}},
    {"emulator TRANSACTION answered with command 0x32",
     &probe_smb,
     {{NEG, SESS, TREE, TRANS_CMD32}, SMB2_CONNS},
     PROBE_END_IDLE,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "unknown"}}},
    {"emulator LANMAN dialect",
     &probe_smb,
     {{NEG_LANMAN}, SMB2_CONNS},
     PROBE_END_IDLE,
     0,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=likely,smb-signing-not-required=confirmed",
     {{"ms17_010", "unknown"}, {"max_dialect", "2.1"}},
     "smb1",
     true},
    {"emulator SMB1 off (index 0xFFFF), signing required",
     &probe_smb,
     {{NEG_NONE}, {SMB2_210_REQ}, {SMB2_202_REQ}},
     PROBE_END_CLOSED,
     0,
     SERVICE_IDENTIFIED,
     "smb",
     "",
     {{"ms17_010", "not applicable"}, {"signing", "required"}},
     "smb1",
     false},
    {"emulator SMB1 off (closed), signing not required",
     &probe_smb,
     {{NULL}, {SMB2_210}, {SMB2_202}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "smb",
     "smb-signing-not-required=confirmed",
     {{"ms17_010", "not applicable"}, {"smb1_reason", "closed by the server without a reply"}},
     "smb1",
     false},
    {"emulator SMB1 only (SMB2 closed)",
     &probe_smb,
     {{NEG, SESS, TREE, TRANS_INVALID}, {NULL}},
     PROBE_END_CLOSED,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "not vulnerable"}, {"signing", "disabled"}, {"max_dialect", "NT LM 0.12"}}},
    {"HTTP on 445",
     &probe_smb,
     {{HTTP}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_OTHER,
     "",
     "",
     {{"ms17_010", "unknown"}}},
    {"silent 445",
     &probe_smb,
     {{NULL}},
     PROBE_END_IDLE,
     -1,
     SERVICE_SILENT,
     "",
     "",
     {{"ms17_010", "unknown"}}},
    {"closed without a byte",
     &probe_smb,
     {{NULL}, {NULL}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_TCPWRAPPED,
     "",
     "",
     {{"ms17_010", "unknown"}, {"ms17_010_reason", "no SMB reply"}}},
    /* NetBIOS */
    {"emulator NetBIOS + unpatched MS17-010",
     &probe_netbios,
     {{NB_POS, NEG, SESS, TREE, TRANS_VULN, DP_ABSENT}, {NB_POS, SMB2_210}, {NB_POS, SMB2_202}},
     PROBE_END_IDLE,
     4,
     SERVICE_IDENTIFIED,
     "netbios",
     "netbios-exposed=confirmed,ms17-010-vulnerable=likely,smb1-enabled=confirmed,"
     "smb-signing-not-required=confirmed",
     {{"session", "positive"}, {"called_name", "*SMBSERVER"}, {"ms17_010", "vulnerable"}}},
    {"emulator NetBIOS XP (*SMBSERVER refused)",
     &probe_netbios,
     {{NB_NEG82}, {NB_POS, NEG_NONE}, {NB_POS, SMB2_210_REQ}, {NB_POS, SMB2_202_REQ}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "netbios",
     "netbios-exposed=confirmed",
     {{"called_name", "*SMBSERV"}, {"ms17_010", "not applicable"}, {"signing", "required"}}},
    {"emulator NetBIOS negative for every name",
     &probe_netbios,
     {{NB_NEG82}, {NB_NEG82}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "netbios",
     "netbios-exposed=likely",
     {{"session", "negative"}, {"ms17_010", "-"}}},
    {"emulator NetBIOS retarget",
     &probe_netbios,
     {{NB_RETARGET}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "netbios",
     "netbios-exposed=likely",
     {{"session", "retarget"}, {"retarget", "192.0.2.1:445"}}},
    {"emulator NetBIOS keep-alive first",
     &probe_netbios,
     {{NB_KEEPALIVE, NB_POS, NEG, SESS, TREE, TRANS_WIN10}, {NB_POS, SMB2_210}, {NB_POS, SMB2_202}},
     PROBE_END_IDLE,
     5,
     SERVICE_IDENTIFIED,
     "netbios",
     "netbios-exposed=confirmed,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "not vulnerable"}}},
    {"HTTP on 139",
     &probe_netbios,
     {{HTTP}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_OTHER,
     "",
     "",
     {{"session", "not netbios"}}},
    /* Real Samba 4.17 (tests/data/smb, tests/data/netbios; no single-dialect captures, so the
     * lower-dialect connections get no answer) */
    {"Samba SMB1 on, signing default",
     &probe_smb,
     {{SAMBA "nt1-default-ms17-1-negotiate.bin", SAMBA "nt1-default-ms17-2-session-setup.bin",
       SAMBA "nt1-default-ms17-3-tree-connect.bin", SAMBA "nt1-default-ms17-4-trans.bin"},
      {SAMBA "nt1-default-negotiate2-311.bin"}},
     PROBE_END_CLOSED,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "not vulnerable"},
      {"ms17_010_reason", "STATUS_INVALID_HANDLE"},
      {"max_dialect", "3.1.1"},
      {"native_lanman", "Samba 4.17.12-Debian"},
      {"signing", "enabled"},
      {"smb1_signing", "disabled"}},
     "smb1",
     true},
    {"Samba SMB1 on, signing mandatory",
     &probe_smb,
     {{SAMBA "nt1-mandatory-ms17-1-negotiate.bin", SAMBA "nt1-mandatory-ms17-2-session-setup.bin",
       SAMBA "nt1-mandatory-ms17-3-tree-connect.bin", SAMBA "nt1-mandatory-ms17-4-trans.bin"},
      {SAMBA "nt1-mandatory-negotiate2-311.bin"}},
     PROBE_END_CLOSED,
     3,
     SERVICE_IDENTIFIED,
     "smb",
     "smb1-enabled=confirmed",
     {{"ms17_010", "not vulnerable"}, {"signing", "required"}, {"smb1_signing", "required"}},
     "smb1",
     true},
    {"Samba SMB1 on, restrict anonymous = 2",
     &probe_smb,
     {{SAMBA "nt1-restrict2-ms17-1-negotiate.bin", SAMBA "nt1-restrict2-ms17-2-session-setup.bin",
       SAMBA "nt1-restrict2-ms17-3-tree-connect.bin"},
      {SAMBA "nt1-default-negotiate2-311.bin"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"ms17_010", "unknown"},
      {"ms17_010_reason", "needs credentials: IPC$ refused, STATUS_ACCESS_DENIED (0xC0000022)"}}},
    {"Samba SMB1 off, signing default",
     &probe_smb,
     {{SAMBA "smb1off-default-negotiate1.bin"}, {SAMBA "smb1off-default-negotiate2-311.bin"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "smb",
     "smb-signing-not-required=confirmed",
     {{"ms17_010", "not applicable"}, {"signing", "enabled"}, {"max_dialect", "3.1.1"}},
     "smb1",
     false},
    {"Samba SMB1 off, signing mandatory",
     &probe_smb,
     {{SAMBA "smb1off-mandatory-negotiate1.bin"}, {SAMBA "smb1off-mandatory-negotiate2-311.bin"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "smb",
     "",
     {{"ms17_010", "not applicable"}, {"signing", "required"}},
     "smb1",
     false},
    {"Samba SMB1 off, max SMB2_02",
     &probe_smb,
     {{SAMBA "smb1off-default-negotiate1.bin"}, {SAMBA "smb1off-max202-negotiate2-311.bin"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "smb",
     "smb-signing-not-required=confirmed",
     {{"max_dialect", "2.0.2"}}},
    {"Samba NetBIOS session, SMB1 on",
     &probe_netbios,
     {{NBSAMBA "nt1-default-nbss-positive.bin", NBSAMBA "nt1-default-nbt-negotiate1.bin",
       SAMBA "nt1-default-ms17-2-session-setup.bin", SAMBA "nt1-default-ms17-3-tree-connect.bin",
       SAMBA "nt1-default-ms17-4-trans.bin"}},
     PROBE_END_CLOSED,
     4,
     SERVICE_IDENTIFIED,
     "netbios",
     "netbios-exposed=confirmed,smb1-enabled=confirmed,smb-signing-not-required=confirmed",
     {{"session", "positive"}, {"ms17_010", "not vulnerable"}}},
    {"Samba NetBIOS negative (calling suffix R)",
     &probe_netbios,
     {{NBSAMBA "nt1-default-nbss-negative.bin"}, {NBSAMBA "nt1-default-nbss-negative.bin"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "netbios",
     "netbios-exposed=likely",
     {{"session", "negative"}}},
    /* Hostile peers (tests/data/smb hand-made captures) */
    {"hostile names in NEGOTIATE (escape, <script>, 255-byte name)",
     &probe_smb,
     {{"@smb/emul-hostile-names-negotiate1.bin"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_IDENTIFIED,
     "smb",
     "ms17-010-vulnerable=unknown,smb1-enabled=likely,smb-signing-not-required=confirmed",
     {{"domain", "W?[31mX<script>???"}, {"ms17_010", "unknown"}}},
    {"NEGOTIATE length over the cap",
     &probe_smb,
     {{"@smb/emul-over-cap-negotiate1.bin"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_PROTOCOL_ERROR,
     "",
     "",
     {{"ms17_010", "unknown"}}},
    {"length field past the data, then close",
     &probe_smb,
     {{"0000ffffff534d4272"}},
     PROBE_END_CLOSED,
     -1,
     SERVICE_PROTOCOL_ERROR,
     "",
     "",
     {{"ms17_010", "unknown"}}},
    {"closed 139", &probe_netbios, {{NULL}}, PROBE_END_CLOSED, -1, SERVICE_TCPWRAPPED, "", ""},
};

struct loaded {
	uint8_t *data[MAX_CONNS];
	struct sim_conn conns[MAX_CONNS];
	size_t n;
	size_t verdict_at; /* conn 0 offset at which the verdict bytes are complete */
};

static uint8_t nibble(char c)
{
	if (c >= '0' && c <= '9')
		return (uint8_t)(c - '0');
	if (c >= 'a' && c <= 'f')
		return (uint8_t)(c - 'a' + 10);
	fail_msg("not a lower-case hex digit: '%c'", c);
	return 0;
}

/* The bytes of the hex string h (the replies above: lower case, two digits a byte). */
static size_t unhex(const char *h, uint8_t *out)
{
	size_t n = strlen(h) / 2;

	for (size_t i = 0; i < n; i++)
		out[i] = (uint8_t)(nibble(h[2 * i]) << 4 | nibble(h[2 * i + 1]));
	return n;
}

/* A capture of tests/data ("@smb/x.bin"): its bytes appended at out (NULL: only the size). */
static size_t read_capture(const char *name, uint8_t *out)
{
	char path[512];
	FILE *f;
	long n;

	snprintf(path, sizeof(path), "%s/%s", data_dir, name + 1);
	f = fopen(path, "rb");
	if (f == NULL)
		fail_msg("cannot open %s", path);
	assert_int_equal(fseek(f, 0, SEEK_END), 0);
	n = ftell(f);
	assert_true(n > 0 && n < 70000);
	rewind(f);
	if (out)
		assert_int_equal(fread(out, 1, (size_t)n, f), (size_t)n);
	fclose(f);
	return (size_t)n;
}

static size_t part_bytes(const char *part, uint8_t *out)
{
	if (part[0] == '@')
		return read_capture(part, out);
	return out ? unhex(part, out) : strlen(part) / 2;
}

static void load_parts(const char *const parts[MAX_PARTS], size_t nparts, int verdict_part,
                       struct loaded *l)
{
	size_t total = 0, c = l->n;

	for (size_t p = 0; p < nparts && parts[p]; p++)
		total += part_bytes(parts[p], NULL);
	l->data[c] = malloc(total + 1);
	assert_non_null(l->data[c]);
	total = 0;
	for (size_t p = 0; p < nparts && parts[p]; p++) {
		total += part_bytes(parts[p], l->data[c] + total);
		if (c == 0 && (int)p == verdict_part)
			l->verdict_at = total;
	}
	l->conns[c] = (struct sim_conn){.data = l->data[c], .len = total};
	l->n++;
}

static void load(const struct scase *t, struct loaded *l)
{
	memset(l, 0, sizeof(*l));
	l->verdict_at = SIZE_MAX;
	for (size_t c = 0; c < MAX_CONNS; c++) {
		bool any = false;

		for (size_t p = 0; p < MAX_PARTS; p++)
			any |= t->conns[c][p] != NULL;
		if (!any && c > 0) {
			bool later = false;
			for (size_t k = c; k < MAX_CONNS; k++)
				for (size_t p = 0; p < MAX_PARTS; p++)
					later |= t->conns[k][p] != NULL;
			if (!later)
				break;
		}
		load_parts(t->conns[c], MAX_PARTS, t->verdict_part, l);
	}
	if (t->verdict_part < 0)
		l->verdict_at = SIZE_MAX;
}

static void unload(struct loaded *l)
{
	for (size_t c = 0; c < l->n; c++)
		free(l->data[c]);
}

static const char *detail(const struct probe_result *r, const char *key)
{
	json_t *v = r->details ? json_object_get(r->details, key) : NULL;

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static void check_findings(const char *what, const char *want, const struct probe_result *r)
{
	char buf[512];
	size_t n = 0;
	char *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", want);
	for (char *p = buf; (tok = strtok_r(p, ",", &save)) != NULL; p = NULL) {
		char *eq = strchr(tok, '=');
		bool found = false;

		*eq = '\0';
		for (size_t i = 0; i < r->n_findings; i++) {
			if (strcmp(r->findings[i].id, tok) != 0)
				continue;
			found = true;
			if (strcmp(confidence_name(r->findings[i].confidence), eq + 1) != 0)
				fail_msg("%s: %s confidence %s, want %s", what, tok,
				         confidence_name(r->findings[i].confidence), eq + 1);
		}
		if (!found)
			fail_msg("%s: finding %s missing", what, tok);
		n++;
	}
	if (n != r->n_findings) {
		json_t *j = drive_result_json(r);
		char *s = json_dumps(j, JSON_COMPACT);
		print_error("%s: got %s\n", what, s);
		free(s);
		json_decref(j);
		fail_msg("%s: %zu findings, want %zu", what, r->n_findings, n);
	}
}

static void check_exact(const struct scase *t, const struct probe_result *r, const char *how)
{
	char what[160];

	snprintf(what, sizeof(what), "%s (%s)", t->name, how);
	if (r->state != t->state)
		fail_msg("%s: state %d, want %d", what, (int)r->state, (int)t->state);
	if (strcmp(r->service, t->service) != 0)
		fail_msg("%s: service '%s', want '%s'", what, r->service, t->service);
	check_findings(what, t->findings, r);
	for (size_t k = 0; k < 6 && t->kv[k][0]; k++) {
		const char *got = detail(r, t->kv[k][0]);

		if (strcmp(t->kv[k][1], "-") == 0) {
			if (r->details && json_object_get(r->details, t->kv[k][0]))
				fail_msg("%s: details.%s present", what, t->kv[k][0]);
			continue;
		}
		if (got == NULL || strcmp(got, t->kv[k][1]) != 0)
			fail_msg("%s: details.%s = '%s', want '%s'", what, t->kv[k][0],
			         got ? got : "(none)", t->kv[k][1]);
	}
	if (t->bool_key) {
		json_t *v = json_object_get(r->details, t->bool_key);
		if (!json_is_boolean(v) || json_is_true(v) != t->bool_val)
			fail_msg("%s: details.%s not %d", what, t->bool_key, t->bool_val);
	}
	if (r->details && !drive_details_clean(r->details))
		fail_msg("%s: details not printable ASCII", what);
}

/* The whole result: drive_result_json and the questions' answers. */
static json_t *result_json(const struct probe_result *r)
{
	json_t *j = drive_result_json(r), *a = json_array();

	for (size_t i = 0; i < r->n_answers; i++)
		json_array_append_new(a, json_pack("{s:s,s:i,s:s}", "id", r->answers[i].id,
		                                   "answer", (int)r->answers[i].answer, "reason",
		                                   r->answers[i].reason));
	json_object_set_new(j, "answers", a);
	return j;
}

/* The three ways sim_run drives the probes (drive.h): one by one, and side by side in two
 * replay orders. */
static const enum sim_order orders[] = {SIM_ONE_BY_ONE, SIM_CONV_LOWEST, SIM_CONV_ROUND};
static const char *const order_names[] = {"one by one", "lowest first", "round robin"};

/* Every case, whole and in chunks, driven each way: exactly the expected result, and the same
 * result (findings, answers, details) whichever way, as side by side must change nothing. */
static void test_exact(void **unused)
{
	static const size_t chunks[] = {0, 1, 2, 3, 7, 64, 1460};

	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scase *t = &cases[i];
		struct loaded l;

		load(t, &l);
		for (size_t c = 0; c < sizeof(chunks) / sizeof(chunks[0]); c++) {
			json_t *first = NULL;

			for (size_t k = 0; k < sizeof(orders) / sizeof(orders[0]); k++) {
				struct sim_opts o = {.chunk = chunks[c],
				                     .order = orders[k],
				                     .cut_at = SIZE_MAX,
				                     .tail_why = t->tail};
				struct probe_result r;
				struct drive_stats st;
				char how[64];
				int rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);
				json_t *got;

				snprintf(how, sizeof(how), "chunk %zu, %s", chunks[c],
				         order_names[k]);
				if (rc != 0)
					fail_msg("%s (%s): sim_run %d %s", t->name, how, rc,
					         drive_error);
				check_exact(t, &r, how);
				got = result_json(&r);
				if (first == NULL) {
					first = got;
				} else {
					if (!json_equal(first, got)) {
						char *a = json_dumps(first, JSON_COMPACT);
						char *b = json_dumps(got, JSON_COMPACT);

						print_error("one by one: %s\n%s: %s\n", a, how, b);
						free(a);
						free(b);
						fail_msg("%s (%s): not the result of one by one",
						         t->name, how);
					}
					json_decref(got);
				}
				probe_result_done(&r);
			}
			json_decref(first);
		}
		unload(&l);
	}
}

/*
 * Side by side is side by side: with answers interleaved, the SMB2 NEGOTIATE runs while the SMB1
 * connection is still on its MS17-010 steps, and the lower dialects at once; the connections and
 * the bytes sent are those of one by one.
 */
static void test_side_by_side(void **unused)
{
	static const struct {
		const char *name;
		unsigned peak;
	} want[] = {
	    {"emulator unpatched MS17-010 Windows 7", 2},
	    {"emulator NetBIOS + unpatched MS17-010", 2},
	};

	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scase *t = &cases[i];
		struct sim_opts one = {.cut_at = SIZE_MAX, .tail_why = t->tail};
		struct sim_opts round = one;
		struct probe_result r1, r2;
		struct drive_stats s1, s2;
		struct loaded l;

		round.order = SIM_CONV_ROUND;
		round.chunk = 64; /* a reply at a time, as they come on a network */
		load(t, &l);
		assert_int_equal(sim_run(t->ops, l.conns, l.n, &one, &r1, &s1), 0);
		assert_int_equal(sim_run(t->ops, l.conns, l.n, &round, &r2, &s2), 0);
		if (s1.conns != s2.conns || s1.tx_total != s2.tx_total)
			fail_msg(
			    "%s: %u connections, %zu bytes sent side by side; %u, %zu one by one",
			    t->name, s2.conns, s2.tx_total, s1.conns, s1.tx_total);
		assert_true(s1.peak_open <= 1);
		for (size_t k = 0; k < sizeof(want) / sizeof(want[0]); k++)
			if (strcmp(want[k].name, t->name) == 0 && s2.peak_open < want[k].peak)
				fail_msg("%s: at most %u connections at once, want %u", t->name,
				         s2.peak_open, want[k].peak);
		probe_result_done(&r1);
		probe_result_done(&r2);
		unload(&l);
	}
}

static bool is_ms17_word(const char *w)
{
	return w == NULL || strcmp(w, "vulnerable") == 0 || strcmp(w, "not vulnerable") == 0 ||
	       strcmp(w, "unknown") == 0 || strcmp(w, "not applicable") == 0;
}

static void test_cut_everywhere(void **unused)
{
	static const enum probe_end whys[] = {PROBE_END_CLOSED, PROBE_END_RESET, PROBE_END_IDLE,
	                                      PROBE_END_DEADLINE, PROBE_END_TOOBIG};
	unsigned runs = 0;

	(void)unused;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct scase *t = &cases[i];
		struct loaded l;

		load(t, &l);
		for (unsigned c = 0; c < l.n; c++) {
			for (size_t at = 0; at < l.conns[c].len; at++) {
				for (size_t w = 0; w < sizeof(whys) / sizeof(whys[0]); w++) {
					struct sim_opts o = {.chunk = at % 3 == 0 ? 0 : 5,
					                     .order = orders[(at + w) % 3],
					                     .cut_conn = c,
					                     .cut_at = at,
					                     .cut_why = whys[w],
					                     .tail_why = t->tail};
					struct probe_result r;
					struct drive_stats st;
					const char *ms17;
					int rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);

					runs++;
					if (rc != 0)
						fail_msg("%s: cut conn %u at %zu: %d %s", t->name,
						         c, at, rc, drive_error);
					if (r.details && !drive_details_clean(r.details))
						fail_msg("%s: cut %u/%zu: details", t->name, c, at);
					ms17 = detail(&r, "ms17_010");
					if (!is_ms17_word(ms17))
						fail_msg("%s: ms17_010 '%s'", t->name, ms17);
					/* A verdict the bytes did not reach is never given. */
					if (c == 0 && at < l.verdict_at && at > 0 && ms17 &&
					    (strcmp(ms17, "vulnerable") == 0 ||
					     strcmp(ms17, "not vulnerable") == 0))
						fail_msg("%s: cut at %zu gave '%s'", t->name, at,
						         ms17);
					for (size_t k = 0; k < r.n_findings; k++)
						if (strcmp(r.findings[k].id,
						           "ms17-010-vulnerable") == 0 &&
						    r.findings[k].confidence !=
						        CONFIDENCE_UNKNOWN &&
						    c == 0 && at < l.verdict_at)
							fail_msg("%s: cut %u/%zu: vulnerable",
							         t->name, c, at);
					probe_result_done(&r);
				}
			}
		}
		unload(&l);
	}
	print_message("%u cut runs\n", runs);
}

/* What the probes send first: the SMB1 NEGOTIATE of §5.3 and the session request of §4.3. */
static void test_first_bytes(void **unused)
{
	static const char neg[] =
	    "00000085ff534d4272000000001801c00000000000000000000000000000fffe0000400000"
	    "6200025043204e4554574f524b2050524f4752414d20312e3000024c414e4d414e312e3000"
	    "0257696e646f777320666f7220576f726b67726f75707320332e316100024c4d312e325830"
	    "303200024c414e4d414e322e3100024e54204c4d20302e313200";
	static const char nbss[] =
	    "8100004420434b4644454e4543464445464643464745464643434143414341434143414341"
	    "002046444546454d45474544454945464544454c434143414341434143414341414100";
	uint8_t want[200];
	size_t n;
	struct sim_conn none = {0};
	struct sim_opts o = {.cut_at = SIZE_MAX, .tail_why = PROBE_END_CLOSED};
	struct probe_result r;
	struct drive_stats st;

	(void)unused;
	assert_int_equal(sim_run(&probe_smb, &none, 1, &o, &r, &st), 0);
	n = unhex(neg, want);
	assert_int_equal(n, 137);
	assert_int_equal(st.tx_first_len, n);
	assert_memory_equal(st.tx_first, want, n);
	probe_result_done(&r);

	assert_int_equal(sim_run(&probe_netbios, &none, 1, &o, &r, &st), 0);
	n = unhex(nbss, want);
	assert_int_equal(n, 72);
	assert_int_equal(st.tx_first_len, n);
	assert_memory_equal(st.tx_first, want, n);
	probe_result_done(&r);
}

/* 1 MiB of garbage (pseudo-random, zeros, 0xFF) on every connection, in 1460-byte chunks. */
static void test_garbage(void **unused)
{
	const size_t n = 1u << 20;
	uint8_t *g = malloc(n);
	uint32_t x = 12345;

	(void)unused;
	assert_non_null(g);
	for (int kind = 0; kind < 3; kind++) {
		const struct probe_ops *ops[] = {&probe_smb, &probe_netbios};

		for (size_t i = 0; i < n; i++) {
			x = x * 1103515245u + 12345u;
			g[i] = kind == 0 ? (uint8_t)(x >> 16) : kind == 1 ? 0 : 0xff;
		}
		for (size_t k = 0; k < 2; k++) {
			struct sim_conn c[MAX_CONNS];
			struct sim_opts o = {.chunk = 1460,
			                     .order = orders[kind],
			                     .cut_at = SIZE_MAX,
			                     .tail_why = PROBE_END_CLOSED};
			struct probe_result r;
			struct drive_stats st;
			const char *ms17;

			for (size_t i = 0; i < MAX_CONNS; i++)
				c[i] = (struct sim_conn){.data = g, .len = n};
			if (sim_run(ops[k], c, MAX_CONNS, &o, &r, &st) != 0)
				fail_msg("garbage %d %s: %s", kind, ops[k]->name, drive_error);
			ms17 = detail(&r, "ms17_010");
			if (ms17 && strcmp(ms17, "unknown") != 0)
				fail_msg("garbage %d %s: ms17_010 %s", kind, ops[k]->name, ms17);
			if (r.n_findings > 0 && strcmp(r.findings[0].id, "netbios-exposed") != 0)
				fail_msg("garbage %d %s: finding %s", kind, ops[k]->name,
				         r.findings[0].id);
			if (r.state == SERVICE_IDENTIFIED)
				fail_msg("garbage %d %s: identified", kind, ops[k]->name);
			if (r.details && !drive_details_clean(r.details))
				fail_msg("garbage %d %s: details", kind, ops[k]->name);
			probe_result_done(&r);
		}
	}
	free(g);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_first_bytes),  cmocka_unit_test(test_exact),
	    cmocka_unit_test(test_side_by_side), cmocka_unit_test(test_cut_everywhere),
	    cmocka_unit_test(test_garbage),
	};

	if (argc > 1)
		data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
