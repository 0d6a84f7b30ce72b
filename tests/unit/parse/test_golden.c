/* SPDX-License-Identifier: MIT */
/*
 * Golden captures, for every parser of src/probes/parse: walks each folder of tests/data (the
 * table `dirs`), parses every <name>.bin with the parser named by the "parser=" line of its
 * <name>.expect, the way a probe would (message after message), and checks that the parse, as
 * key=value lines, is exactly the other lines of the .expect ("source=" is required and, like
 * "note=", "handmade=" and "#" lines, descriptive). Every parser of the table `parsers` states
 * how a capture cut short must parse (its prefix rule), and every capture is parsed truncated at
 * each byte offset from exact-size heap copies, so ASan sees any read past the end.
 * Adding a capture needs no code: drop the .bin and its .expect in the folder.
 * Usage: test_golden DATA_DIR [--dump]   (--dump prints each parse, to write a new .expect)
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "probes/parse/nas_parse.h"
#include "probes/parse/nbss_parse.h"
#include "probes/parse/iscsi_parse.h"
#include "probes/parse/rdp_parse.h"
#include "probes/parse/rpc_parse.h"
#include "probes/parse/rsync_parse.h"
#include "probes/parse/smb1_parse.h"
#include "probes/parse/smb2_parse.h"
#include "probes/parse/ssh_parse.h"
#include "probes/parse/telnet_parse.h"
#include "probes/parse/vnc_parse.h"
#include "probes/parse/redis_parse.h"
#include "probes/parse/mongodb_parse.h"
#include "probes/parse/es_parse.h"
#include "probes/parse/mysql_parse.h"
#include "probes/parse/pg_parse.h"
#include "probes/parse/ssdp_parse.h"
#include "probes/parse/memcached_parse.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const char *data_dir = "tests/data";
static bool dump_only;

/* The parse result as key=value lines. */
struct dump {
	char buf[65536];
	size_t len;
};

static void kv(struct dump *d, const char *key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void kv(struct dump *d, const char *key, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (!d)
		return;
	n = snprintf(d->buf + d->len, sizeof(d->buf) - d->len, "%s=", key);
	assert_true(n > 0 && (size_t)n < sizeof(d->buf) - d->len);
	d->len += (size_t)n;
	va_start(ap, fmt);
	n = vsnprintf(d->buf + d->len, sizeof(d->buf) - d->len, fmt, ap);
	va_end(ap);
	assert_true(n >= 0 && (size_t)n < sizeof(d->buf) - d->len - 1);
	d->len += (size_t)n;
	d->buf[d->len++] = '\n';
	d->buf[d->len] = '\0';
}

/* Text value with '\n' written as the two characters "\n" (one line per key). */
static void kv_text(struct dump *d, const char *key, const char *text)
{
	char esc[2 * TELNET_TEXT_MAX + 1];
	size_t n = 0;

	for (const char *p = text; *p && n + 2 < sizeof(esc); p++) {
		if (*p == '\n') {
			esc[n++] = '\\';
			esc[n++] = 'n';
		} else {
			esc[n++] = *p;
		}
	}
	esc[n] = '\0';
	kv(d, key, "%s", esc);
}

static void kv_result(struct dump *d, const char *key, int r)
{
	if (r > 0)
		kv(d, key, "%d", r);
	else if (r == PARSE_AGAIN)
		kv(d, key, "AGAIN");
	else
		kv(d, key, "%s", err_name(r));
}

/* Text must be NUL-terminated inside its array and hold only printable ASCII (and '\n' if nl). */
static void check_text(const char *s, size_t size, bool nl)
{
	const char *nul = memchr(s, 0, size);

	assert_non_null(nul);
	for (const char *p = s; p < nul; p++)
		assert_true((*p >= 0x20 && *p < 0x7f) || (nl && *p == '\n'));
}

/* Every parser result: never more than the bytes given. */
static void check_consumed(int r, size_t len)
{
	assert_true(r <= (int)len);
}

static void flag_names(char *dst, size_t size, unsigned flags, const char *const *names, int n)
{
	size_t used = 0;

	dst[0] = '\0';
	for (int i = 0; i < n; i++) {
		if (!(flags & 1u << i))
			continue;
		int w = snprintf(dst + used, size - used, "%s%s", used ? "," : "", names[i]);

		assert_true(w > 0 && (size_t)w < size - used);
		used += (size_t)w;
	}
}

/*
 * One walk function per parser: parse buf as a probe would, check the invariants, dump into d
 * (NULL: invariants only) and return the result of the first parse (what the prefix rules
 * compare).
 */

/* ---- SSH: banner (pre-banner lines + identification), then one KEXINIT packet if present */
static int walk_ssh(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const iflags[] = {"no_cr", "overlong", "nonprint",
	                                     "nul",   "no_dash",  "malformed"};
	static const char *const kinds[] = {"other", "2", "1.99", "1"};
	static const char *const aflags[] = {
	    "weak_kex", "weak_hostkey", "weak_cipher", "weak_mac",   "none_cipher",   "none_mac",
	    "chacha20", "cbc",          "etm",         "strict_kex", "terrapin_prone"};
	static struct ssh_banner b;
	static struct ssh_kexinit k;
	char tmp[256], key[32];
	int r, first;

	first = r = ssh_parse_banner(buf, len, &b);
	check_consumed(r, len);
	kv_result(d, "banner", r);
	kv(d, "pre_lines", "%u", b.pre_lines);
	for (unsigned i = 0; i < SSH_PRE_KEEP; i++) {
		check_text(b.pre[i], sizeof(b.pre[i]), false);
		if (i < b.pre_lines) {
			snprintf(key, sizeof(key), "pre%u", i);
			kv(d, key, "%s", b.pre[i]);
		}
	}
	check_text(b.ident.proto, sizeof(b.ident.proto), false);
	check_text(b.ident.software, sizeof(b.ident.software), false);
	check_text(b.ident.comment, sizeof(b.ident.comment), false);
	if (r <= 0)
		return first;
	kv(d, "proto", "%s", b.ident.proto);
	kv(d, "kind", "%s", kinds[b.ident.kind]);
	kv(d, "software", "%s", b.ident.software);
	kv(d, "comment", "%s", b.ident.comment);
	flag_names(tmp, sizeof(tmp), b.ident.flags, iflags, 6);
	kv(d, "flags", "%s", tmp);
	kv(d, "truncated", "%d", b.ident.truncated);
	kv(d, "rest", "%zu", len - (size_t)r);
	if ((size_t)r == len)
		return first;

	buf += r;
	len -= (size_t)r;
	r = ssh_parse_kexinit(buf, len, &k);
	check_consumed(r, len);
	kv_result(d, "kexinit", r);
	check_text(k.kex, sizeof(k.kex), false);
	check_text(k.mac_s2c, sizeof(k.mac_s2c), false);
	if (r <= 0)
		return first;
	kv(d, "kex", "%s", k.kex);
	kv(d, "hostkey", "%s", k.hostkey);
	kv(d, "enc_s2c", "%s", k.enc_s2c);
	kv(d, "mac_s2c", "%s", k.mac_s2c);
	kv(d, "comp_s2c", "%s", k.comp_s2c);
	flag_names(tmp, sizeof(tmp), k.alg_flags, aflags, 11);
	kv(d, "alg_flags", "%s", tmp);
	assert_true(ssh_kexinit_weak_names(&k, tmp, sizeof(tmp)) >= 0);
	kv(d, "weak", "%s", tmp);
	kv(d, "kexinit_rest", "%zu", len - (size_t)r);
	return first;
}

/* ---- Telnet: scan, classification, the replies a probe would send */
static int walk_telnet(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const verbs[] = {"SB", "WILL", "WONT", "DO", "DONT"};
	static const char *const svc[] = {"telnet", "ssh", "http", "rfb"};
	static struct telnet_scan s;
	struct telnet_text_class c;
	struct telnet_answered ans = {0};
	uint8_t rep[1024];
	char tmp[2048];
	size_t used = 0;
	int r, scanned;

	scanned = r = telnet_parse(buf, len, &s);
	check_consumed(r, len);
	check_text(s.text, sizeof(s.text), true);
	kv_result(d, "scan", r);
	tmp[0] = '\0';
	for (unsigned i = 0; i < s.ncmds && i < TELNET_CMDS_KEEP && used + 16 < sizeof(tmp); i++) {
		uint8_t v = s.cmds[i].verb;
		const char *vn = v == TELNET_SB ? verbs[0] : verbs[v - TELNET_WILL + 1];

		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used, "%s%s %u", used ? "," : "",
		                         vn, s.cmds[i].option);
	}
	kv(d, "cmds", "%s", tmp);
	kv(d, "ncmds", "%u", s.ncmds);
	kv(d, "data_ff", "%u", s.data_ff);
	kv_text(d, "text", s.text);
	assert_int_equal(telnet_classify(s.text, s.text_len, &c), 0);
	check_text(c.banner, sizeof(c.banner), true);
	kv(d, "login_prompt", "%d", c.login_prompt);
	kv(d, "password_prompt", "%d", c.password_prompt);
	kv(d, "shell_prompt", "%d", c.shell_prompt);
	kv(d, "shell_banner", "%d", c.shell_banner);
	kv(d, "no_auth_shell", "%d", c.no_auth_shell);
	kv(d, "service", "%s", svc[c.service]);
	kv_text(d, "banner", c.banner);
	r = telnet_build_replies(&s, &ans, 0, rep, sizeof(rep));
	assert_true(r >= 0);
	used = 0;
	tmp[0] = '\0';
	for (int i = 0; i < r; i++)
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used, "%02x", rep[i]);
	kv(d, "replies", "%s", tmp);
	/* each request is answered once per connection */
	assert_int_equal(telnet_build_replies(&s, &ans, 0, rep, sizeof(rep)), 0);
	return scanned;
}

/* ---- RDP: one Connection Confirm */
static int walk_rdp(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const kinds[] = {"legacy", "rsp", "failure"};
	struct rdp_cc cc;
	int r = rdp_parse_cc(buf, len, &cc);

	check_consumed(r, len);
	kv_result(d, "cc", r);
	if (r <= 0)
		return r;
	kv(d, "kind", "%s", kinds[cc.kind]);
	kv(d, "src_ref", "0x%04x", cc.src_ref);
	kv(d, "rest", "%zu", len - (size_t)r);
	if (cc.kind == RDP_CC_NEG_RSP) {
		kv(d, "selected", "%u", cc.selected_protocol);
		kv(d, "neg_flags", "0x%02x", cc.neg_flags);
	} else if (cc.kind == RDP_CC_NEG_FAILURE) {
		kv(d, "failure", "%u", cc.failure_code);
		kv(d, "failure_name", "%s", rdp_failure_name(cc.failure_code));
	}
	return r;
}

static void kv_list8(struct dump *d, const char *key, const uint8_t *v, unsigned n)
{
	char tmp[1024];
	size_t used = 0;

	tmp[0] = '\0';
	for (unsigned i = 0; i < n; i++)
		used +=
		    (size_t)snprintf(tmp + used, sizeof(tmp) - used, "%s%u", i ? "," : "", v[i]);
	kv(d, key, "%s", tmp);
}

static void walk_vencrypt(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct vnc_vencrypt_subtypes st;
	struct vnc_vencrypt_version v;
	char tmp[2048];
	size_t used = 0;
	int r = vnc_parse_vencrypt_version(buf, len, &v);

	check_consumed(r, len);
	kv_result(d, "vencrypt_version", r);
	if (r <= 0)
		return;
	kv(d, "vencrypt", "%u.%u", v.major, v.minor);
	buf += r;
	len -= (size_t)r;
	r = vnc_parse_vencrypt_subtypes(buf, len, &st);
	check_consumed(r, len);
	kv_result(d, "vencrypt_subtypes", r);
	if (r <= 0)
		return;
	kv(d, "vencrypt_ack", "%u", st.ack);
	tmp[0] = '\0';
	for (unsigned i = 0; i < st.count; i++)
		used += (size_t)snprintf(tmp + used, sizeof(tmp) - used, "%s%u", i ? "," : "",
		                         st.subtypes[i]);
	kv(d, "subtypes", "%s", tmp);
	kv(d, "vencrypt_no_auth", "%d", st.has_no_auth);
	kv(d, "vencrypt_plain", "%d", st.has_plain);
	kv(d, "rest", "%zu", len - (size_t)r);
}

/* ---- VNC: version, then security (3.3 or 3.7/3.8 layout), then VeNCrypt when offered */
static int walk_vnc(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct vnc_sec_types t;
	static struct vnc_sec33 s33;
	struct vnc_version v;
	int r = vnc_parse_version(buf, len, &v), first = r;

	check_consumed(r, len);
	check_text(v.text, sizeof(v.text), false);
	kv_result(d, "version", r);
	if (r <= 0)
		return first;
	kv(d, "text", "%s", v.text);
	kv(d, "major", "%u", v.major);
	kv(d, "minor", "%u", v.minor);
	kv(d, "rfb_minor", "%u", v.rfb_minor);
	buf += r;
	len -= (size_t)r;
	if (v.rfb_minor == 3) {
		r = vnc_parse_sec33(buf, len, &s33);
		check_consumed(r, len);
		check_text(s33.reason.text, sizeof(s33.reason.text), false);
		kv_result(d, "sec33", r);
		kv(d, "type", "%u", s33.type);
		kv(d, "failed", "%d", s33.failed);
		kv(d, "reason", "%s", s33.reason.text);
		kv(d, "reason_length", "%u", s33.reason.length);
		if (r > 0)
			kv(d, "rest", "%zu", len - (size_t)r);
		return first;
	}
	r = vnc_parse_sec_types(buf, len, &t);
	check_consumed(r, len);
	check_text(t.reason.text, sizeof(t.reason.text), false);
	kv_result(d, "sectypes", r);
	kv_list8(d, "types", t.types, t.count);
	kv(d, "failed", "%d", t.failed);
	kv(d, "reason", "%s", t.reason.text);
	kv(d, "reason_length", "%u", t.reason.length);
	kv(d, "reason_truncated", "%d", t.reason.truncated);
	kv(d, "has_none", "%d", t.has_none);
	kv(d, "has_vnc_auth", "%d", t.has_vnc_auth);
	kv(d, "has_vencrypt", "%d", t.has_vencrypt);
	if (r <= 0)
		return first;
	if (t.has_vencrypt && !t.has_none && len > (size_t)r)
		walk_vencrypt(buf + r, len - (size_t)r, d);
	else
		kv(d, "rest", "%zu", len - (size_t)r);
	return first;
}

static int walk_nbss(const uint8_t *buf, size_t len, struct dump *d)
{
	struct nbss_packet p, q;
	size_t off = 0;
	unsigned i = 0;
	char key[32];
	int r, first = 0;

	/* a probe's loop: packets one after another (keep-alive, then a response) */
	for (;; i++) {
		r = nbss_parse(buf + off, len - off, &p);
		check_consumed(r, len - off);
		assert_int_equal(r, nbss_parse(buf + off, len - off, &q));
		assert_memory_equal(&p, &q, sizeof(p));
		if (i == 0)
			first = r;
		snprintf(key, sizeof(key), "p%u", i);
		kv_result(d, key, r);
		if (r <= 0)
			break;
		snprintf(key, sizeof(key), "p%u_type", i);
		kv(d, key, "0x%02x", p.type);
		snprintf(key, sizeof(key), "p%u_length", i);
		kv(d, key, "%u", p.length);
		if (p.type == NBSS_NEGATIVE) {
			snprintf(key, sizeof(key), "p%u_error", i);
			kv(d, key, "0x%02x", p.error_code);
			snprintf(key, sizeof(key), "p%u_error_name", i);
			kv(d, key, "%s", nbss_error_name(p.error_code));
		} else if (p.type == NBSS_RETARGET) {
			snprintf(key, sizeof(key), "p%u_retarget", i);
			kv(d, key, "%u.%u.%u.%u:%u", p.retarget_ip[0], p.retarget_ip[1],
			   p.retarget_ip[2], p.retarget_ip[3], p.retarget_port);
		}
		off += (size_t)r;
		if (off == len || p.type != NBSS_KEEPALIVE)
			break;
	}
	kv(d, "rest", "%zu", len - off);
	return first;
}

static void dump_header(const struct smb1_header *h, struct dump *d)
{
	kv(d, "command", "0x%02x", h->command);
	kv(d, "status", "0x%08x", h->status);
	kv(d, "status_name", "%s", smb_status_name(h->status));
	kv(d, "nt_status", "%d", h->nt_status);
	if (!h->nt_status)
		kv(d, "dos", "%u/0x%04x", h->dos_class, h->dos_code);
	kv(d, "flags", "0x%02x", h->flags);
	kv(d, "flags2", "0x%04x", h->flags2);
	kv(d, "tid", "0x%04x", h->tid);
	kv(d, "uid", "0x%04x", h->uid);
	kv(d, "mid", "0x%04x", h->mid);
	kv(d, "word_count", "%u", h->word_count);
	kv(d, "byte_count", "%u", h->byte_count);
}

static int walk_smb1_negotiate(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const forms[] = {"error", "none", "lanman", "nt"};
	static struct smb1_negotiate n, m;
	int r = smb1_parse_negotiate(buf, len, &n);

	check_consumed(r, len);
	assert_int_equal(r, smb1_parse_negotiate(buf, len, &m));
	assert_memory_equal(&n, &m, sizeof(n));
	check_text(n.domain, sizeof(n.domain), false);
	check_text(n.server, sizeof(n.server), false);
	kv_result(d, "result", r);
	if (r == -ERR_UNSUPPORTED)
		kv(d, "frame_kind", "%d", n.hdr.kind);
	if (r <= 0)
		return r;
	dump_header(&n.hdr, d);
	kv(d, "form", "%s", forms[n.form]);
	kv(d, "accepted", "%d", smb1_negotiate_accepted(&n));
	if (n.form == SMB1_NEG_ERROR)
		return r;
	kv(d, "dialect_index", "0x%04x", n.dialect_index);
	if (n.form == SMB1_NEG_NONE)
		return r;
	kv(d, "security_mode", "0x%02x", n.security_mode);
	kv(d, "max_mpx", "%u", n.max_mpx);
	kv(d, "max_vcs", "%u", n.max_vcs);
	kv(d, "max_buffer", "%u", n.max_buffer);
	kv(d, "max_raw", "%u", n.max_raw);
	kv(d, "capabilities", "0x%08x", n.capabilities);
	kv(d, "time_zone", "%d", n.time_zone);
	kv(d, "challenge_len", "%u", n.challenge_len);
	kv(d, "extended", "%d", n.extended);
	if (n.extended) {
		kv(d, "server_guid0", "0x%02x", n.server_guid[0]);
		kv(d, "blob_len", "%u", n.security_blob_len);
	}
	kv(d, "domain", "%s", n.domain);
	kv(d, "server", "%s", n.server);
	kv(d, "truncated", "%d", n.truncated);
	return r;
}

static int walk_smb1_session_setup(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct smb1_session_setup s, t;
	int r = smb1_parse_session_setup(buf, len, &s);

	check_consumed(r, len);
	assert_int_equal(r, smb1_parse_session_setup(buf, len, &t));
	assert_memory_equal(&s, &t, sizeof(s));
	check_text(s.native_os, sizeof(s.native_os), false);
	check_text(s.native_lanman, sizeof(s.native_lanman), false);
	check_text(s.primary_domain, sizeof(s.primary_domain), false);
	kv_result(d, "result", r);
	if (r <= 0)
		return r;
	dump_header(&s.hdr, d);
	if (s.hdr.word_count == 0)
		return r;
	kv(d, "action", "0x%04x", s.action);
	kv(d, "blob_len", "%u", s.security_blob_len);
	kv(d, "native_os", "%s", s.native_os);
	kv(d, "native_lanman", "%s", s.native_lanman);
	kv(d, "primary_domain", "%s", s.primary_domain);
	kv(d, "truncated", "%d", s.truncated);
	return r;
}

static int walk_smb1_tree_connect(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct smb1_tree_connect t, u;
	int r = smb1_parse_tree_connect(buf, len, &t);

	check_consumed(r, len);
	assert_int_equal(r, smb1_parse_tree_connect(buf, len, &u));
	assert_memory_equal(&t, &u, sizeof(t));
	check_text(t.service, sizeof(t.service), false);
	check_text(t.native_fs, sizeof(t.native_fs), false);
	kv_result(d, "result", r);
	if (r <= 0)
		return r;
	dump_header(&t.hdr, d);
	if (t.hdr.word_count == 0)
		return r;
	kv(d, "optional_support", "0x%04x", t.optional_support);
	kv(d, "extended", "%d", t.extended);
	kv(d, "max_access", "0x%08x", t.max_access);
	kv(d, "guest_max_access", "0x%08x", t.guest_max_access);
	kv(d, "service", "%s", t.service);
	kv(d, "native_fs", "%s", t.native_fs);
	kv(d, "truncated", "%d", t.truncated);
	return r;
}

/*
 * Reply to the TRANSACTION of MS17-010 step 4 (request MID 0x41; classified with
 * smb1_ms17_classify) or, when dp, to the TRANSACTION2 DoublePulsar ping.
 */
static int walk_trans(const uint8_t *buf, size_t len, struct dump *d, bool dp_ping)
{
	static struct smb1_trans t, u;
	struct smb1_header h;
	struct dp_result dp;
	const char *reason = NULL;
	enum ms17_verdict v;
	int r = smb1_parse_trans(buf, len, &t);
	int rh = smb1_parse_header(buf, len, &h);

	check_consumed(r, len);
	assert_int_equal(r, smb1_parse_trans(buf, len, &u));
	assert_memory_equal(&t, &u, sizeof(t));
	kv_result(d, "result", r);
	/* the verdicts work from the header alone, as a probe does */
	kv_result(d, "header", rh);
	if (rh <= 0)
		return r;
	if (r > 0) {
		dump_header(&t.hdr, d);
		kv(d, "param_count", "%u", t.param_count);
		kv(d, "data_count", "%u", t.data_count);
		kv(d, "setup_count", "%u", t.setup_count);
	}
	if (!dp_ping) {
		v = smb1_ms17_classify(&h, 0x0041, &reason);
		assert_non_null(reason);
		kv(d, "ms17", "%s", ms17_verdict_name(v));
		kv(d, "ms17_reason", "%s", reason);
	} else {
		smb1_doublepulsar_classify(&h, &dp);
		assert_non_null(dp.reason);
		kv(d, "dp", "%s",
		   dp.verdict == DP_PRESENT        ? "present"
		   : dp.verdict == DP_NOT_DETECTED ? "not detected"
		                                   : "unknown");
		kv(d, "dp_reason", "%s", dp.reason);
		if (dp.verdict == DP_PRESENT) {
			kv(d, "dp_key", "0x%08x", dp.xor_key);
			kv(d, "dp_arch", "%s", dp.x64 ? "x64" : "x86");
		}
	}
	return r;
}

static int walk_smb1_trans(const uint8_t *buf, size_t len, struct dump *d)
{
	return walk_trans(buf, len, d, false);
}

static int walk_smb1_trans2(const uint8_t *buf, size_t len, struct dump *d)
{
	return walk_trans(buf, len, d, true);
}

static int walk_smb2_negotiate(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct smb2_negotiate n, m;
	int r = smb2_parse_negotiate(buf, len, &n);

	check_consumed(r, len);
	assert_int_equal(r, smb2_parse_negotiate(buf, len, &m));
	assert_memory_equal(&n, &m, sizeof(n));
	kv_result(d, "result", r);
	if (r <= 0)
		return r;
	kv(d, "status", "0x%08x", n.status);
	kv(d, "flags", "0x%08x", n.flags);
	kv(d, "structure_size", "%u", n.structure_size);
	if (n.status != 0)
		return r;
	kv(d, "security_mode", "0x%04x", n.security_mode);
	kv(d, "signing_required", "%d", !!(n.security_mode & SMB2_NEGOTIATE_SIGNING_REQUIRED));
	kv(d, "dialect", "0x%04x", n.dialect);
	kv(d, "dialect_name", "%s", smb2_dialect_name(n.dialect));
	kv(d, "capabilities", "0x%08x", n.capabilities);
	kv(d, "max_transact", "%u", n.max_transact);
	kv(d, "max_read", "%u", n.max_read);
	kv(d, "max_write", "%u", n.max_write);
	kv(d, "server_start_time", "%llu", (unsigned long long)n.server_start_time);
	kv(d, "security_buffer", "%u+%u", n.security_buffer_offset, n.security_buffer_length);
	kv(d, "context_count", "%u", n.context_count);
	kv(d, "contexts_seen", "%u", n.contexts_seen);
	kv(d, "preauth_hash", "%u", n.preauth_hash);
	kv(d, "cipher", "%u", n.cipher);
	kv(d, "signing_alg", "%u", n.signing_alg);
	return r;
}

/* ---- iSCSI: target PDUs one after another, with the keys of their data segments */
static int walk_iscsi(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct iscsi_keys k;
	struct iscsi_pdu p;
	int r = iscsi_parse_pdu(buf, len, &p), first = r;

	for (unsigned i = 0;; i++) {
		check_consumed(r, len);
		kv_result(d, "pdu", r);
		if (r <= 0 || i == 32)
			break;
		assert_true(p.data_off + p.data_len <= (size_t)r);
		kv(d, "opcode", "0x%02x", p.opcode);
		kv(d, "flags", "final=%d cont=%d csg=%u nsg=%u", p.final, p.cont, p.csg, p.nsg);
		if (p.opcode == ISCSI_OP_LOGIN_RSP)
			kv(d, "status", "%u/%u %s", p.status_class, p.status_detail,
			   iscsi_status_name(p.status_class, p.status_detail));
		kv(d, "stat_sn", "%u", p.stat_sn);
		memset(&k, 0, sizeof(k));
		iscsi_keys_scan(buf + p.data_off, p.data_len, &k);
		check_text(k.auth_method, sizeof(k.auth_method), false);
		if (k.auth_method[0])
			kv(d, "auth_method", "%s", k.auth_method);
		for (unsigned t = 0; t < k.n_targets && t < ISCSI_TARGETS_MAX; t++) {
			check_text(k.targets[t], sizeof(k.targets[t]), false);
			kv(d, "target", "%s", k.targets[t]);
		}
		if (k.truncated)
			kv(d, "truncated", "1");
		buf += r;
		len -= (size_t)r;
		if (len == 0)
			break;
		r = iscsi_parse_pdu(buf, len, &p);
	}
	kv(d, "rest", "%zu", len);
	return first;
}

/* ---- ONC RPC: fragments joined into one record, the reply, then DUMP or EXPORT by its xid */
static int walk_rpc(const uint8_t *buf, size_t len, struct dump *d)
{
	static uint8_t rec[RPC_RECORD_MAX];
	static struct rpc_pmap_list pm;
	static struct rpc_exports ex;
	struct rpc_fragment f;
	struct rpc_reply rp;
	size_t rec_len = 0;
	int r = rpc_parse_fragment(buf, len, RPC_RECORD_MAX, &f), first = r;

	for (unsigned i = 0;; i++) {
		check_consumed(r, len);
		kv_result(d, "fragment", r);
		if (r <= 0 || i == 16)
			return first;
		kv(d, "fragment_len", "%u%s", f.len, f.last ? " last" : "");
		buf += r;
		len -= (size_t)r;
		if (f.len > len || f.len > RPC_RECORD_MAX - rec_len) {
			kv(d, "record", "cut");
			return first;
		}
		memcpy(rec + rec_len, buf, f.len);
		rec_len += f.len;
		buf += f.len;
		len -= f.len;
		if (f.last)
			break;
		r = rpc_parse_fragment(buf, len, RPC_RECORD_MAX, &f);
	}
	r = rpc_parse_reply(rec, rec_len, &rp);
	kv_result(d, "reply", r);
	if (r > 0) {
		kv(d, "xid", "0x%08x", rp.xid);
		kv(d, "status", "%s %u", rp.kind == RPC_ACCEPTED ? "accepted" : "denied", rp.stat);
		if (rp.kind == RPC_DENIED && rp.stat == 1)
			kv(d, "auth", "%u", rp.auth);
	}
	if (r > 0 && rp.kind == RPC_ACCEPTED && rp.stat == 0 && rp.xid == 0x4e465330u) {
		r = rpc_parse_pmap_dump(rec, rec_len, rp.body, &pm);
		kv(d, "dump", "%s", r == 0 ? "ok" : err_name(r));
		for (unsigned i = 0; r == 0 && i < pm.n; i++) {
			const char *name = rpc_program_name(pm.map[i].prog);

			kv(d, "mapping", "%s %u v%u prot %u port %s", name ? name : "?",
			   pm.map[i].prog, pm.map[i].vers, pm.map[i].prot,
			   pm.map[i].prog == RPC_PROG_MOUNT ? "(random)" : "fixed");
		}
	} else if (r > 0 && rp.kind == RPC_ACCEPTED && rp.stat == 0) {
		r = rpc_parse_exports(rec, rec_len, rp.body, &ex);
		kv(d, "exports", "%s", r == 0 ? "ok" : err_name(r));
		for (unsigned i = 0; r == 0 && i < ex.n; i++) {
			check_text(ex.ex[i].dir, sizeof(ex.ex[i].dir), false);
			check_text(ex.ex[i].groups, sizeof(ex.ex[i].groups), false);
			kv(d, "export", "%s",
			   strstr(ex.ex[i].dir, "/pub")    ? "(tmp)/pub"
			   : strstr(ex.ex[i].dir, "/priv") ? "(tmp)/priv"
			                                   : ex.ex[i].dir);
			kv(d, "clients", "%s", ex.ex[i].groups);
			kv(d, "world", "%d", ex.ex[i].world);
		}
		if (r == 0)
			kv(d, "world_exports", "%u", ex.world);
	}
	kv(d, "rest", "%zu", len);
	return first;
}

/* ---- NAS admin pages: an HTTP response head, then the markers in its body */
static int walk_nas(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const vendors[] = {"none", "synology", "qnap"};
	static struct nas_page pg;
	struct http_head h;
	int r = http_parse_head(buf, len, &h);

	check_consumed(r, len);
	check_text(h.server, sizeof(h.server), false);
	check_text(h.location, sizeof(h.location), false);
	kv_result(d, "head", r);
	kv(d, "wants_tls", "%d", parse_http_wants_tls(buf, len));
	if (r <= 0)
		return r;
	kv(d, "status", "%u", h.status);
	if (h.has_length)
		kv(d, "content_length", "%llu", (unsigned long long)h.content_length);
	if (h.server[0])
		kv(d, "server", "%s", h.server);
	if (h.location[0])
		kv(d, "location", "%s", h.location);
	nas_scan(buf + r, len - (size_t)r, &pg);
	check_text(pg.device_name, sizeof(pg.device_name), false);
	check_text(pg.model, sizeof(pg.model), false);
	check_text(pg.firmware, sizeof(pg.firmware), false);
	check_text(pg.build, sizeof(pg.build), false);
	kv(d, "vendor", "%s", vendors[pg.vendor]);
	kv(d, "markers", "%u", pg.markers);
	kv(d, "page", "%s|%s|%s|%s", pg.device_name, pg.model, pg.firmware, pg.build);
	return r;
}

/* ---- rsync: the greeting, then every line (module list, message of the day, answers) */
static int walk_rsync(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const kinds[] = {"?",     "greeting", "ok",     "authreqd", "exit",
	                                    "error", "other-at", "module", "text"};
	struct rsync_line l;
	int r = rsync_parse_line(buf, len, true, &l), first = r;
	unsigned i = 0;

	for (;;) {
		check_consumed(r, len);
		check_text(l.name, sizeof(l.name), false);
		check_text(l.comment, sizeof(l.comment), false);
		check_text(l.text, sizeof(l.text), false);
		kv_result(d, "line", r);
		if (r <= 0)
			break;
		kv(d, "kind", "%s", kinds[l.kind]);
		if (l.kind == RSYNC_LINE_GREETING)
			kv(d, "version", "%u.%u%s", l.major, l.minor,
			   l.has_minor ? "" : " (no minor)");
		if (l.kind == RSYNC_LINE_MODULE)
			kv(d, "module", "%s|%s", l.name, l.comment);
		else if (l.text[0])
			kv(d, "text", "%s", l.text);
		if (l.truncated)
			kv(d, "truncated", "1");
		buf += r;
		len -= (size_t)r;
		if (++i == 64 || len == 0)
			break;
		r = rsync_parse_line(buf, len, false, &l);
	}
	kv(d, "rest", "%zu", len);
	return first;
}

/* ---- Redis: replies one after the other (PING's, then INFO's); INFO text read when bulk */
static int walk_redis(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const errs[] = {"none", "other", "noauth", "denied", "noperm"};
	struct redis_reply rep;
	struct redis_info info;
	int r, first = 0;
	char key[32];

	for (unsigned i = 0; i < 4; i++) {
		r = redis_parse_reply(buf, len, &rep);
		if (i == 0)
			first = r;
		check_consumed(r, len);
		check_text(rep.text, sizeof(rep.text), false);
		snprintf(key, sizeof(key), "reply%u", i);
		kv_result(d, key, r);
		if (r <= 0)
			break;
		kv(d, "type", "%c", rep.type);
		kv(d, "text", "%s", rep.text);
		kv(d, "truncated", "%d", rep.truncated);
		kv(d, "err", "%s", errs[rep.err]);
		if (rep.type == '$' || rep.type == '*')
			kv(d, "length", "%lld", (long long)rep.length);
		if (rep.type == '$' && rep.length >= 0) {
			assert_true(rep.data_off + rep.data_len + 2 == (size_t)r);
			kv(d, "info_lines", "%d",
			   redis_parse_info(buf + rep.data_off, rep.data_len, &info));
			check_text(info.version, sizeof(info.version), false);
			check_text(info.os, sizeof(info.os), false);
			kv(d, "redis_version", "%s", info.version);
			kv(d, "redis_mode", "%s", info.mode);
			kv(d, "server_section", "%d", info.server_section);
		}
		buf += r;
		len -= (size_t)r;
		if (len == 0)
			break;
	}
	kv(d, "rest", "%zu", len);
	return first;
}

/* ---- MongoDB: messages one after the other, each body document read as a command reply */
static int walk_mongodb(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct mongo_reply rep;
	struct mongo_msg m;
	int r, first = 0;
	char key[32];

	for (unsigned i = 0; i < 4; i++) {
		r = mongo_parse_msg(buf, len, &m);
		if (i == 0)
			first = r;
		check_consumed(r, len);
		snprintf(key, sizeof(key), "msg%u", i);
		kv_result(d, key, r);
		if (r <= 0)
			break;
		assert_true(m.doc_off + m.doc_len <= (size_t)r);
		kv(d, "opcode", "%d", m.opcode);
		kv(d, "response_to", "%d", m.response_to);
		kv(d, "n_returned", "%d", m.n_returned);
		kv_result(d, "reply",
		          mongo_parse_reply(buf + m.doc_off, m.doc_len, &rep) < 0 ? -ERR_PROTO : 1);
		check_text(rep.errmsg, sizeof(rep.errmsg), false);
		check_text(rep.version, sizeof(rep.version), false);
		kv(d, "ok", "%d/%d", rep.has_ok, rep.ok);
		if (rep.has_code)
			kv(d, "code", "%d %s", rep.code, rep.code_name);
		if (rep.errmsg[0])
			kv(d, "errmsg", "%s", rep.errmsg);
		if (rep.version[0])
			kv(d, "version", "%s", rep.version);
		if (rep.has_max_wire)
			kv(d, "max_wire", "%d writable=%d", rep.max_wire, rep.writable);
		if (rep.has_databases) {
			kv(d, "databases", "%u", rep.n_databases);
			for (unsigned k = 0; k < rep.n_databases && k < MONGO_DB_KEEP; k++) {
				check_text(rep.databases[k], MONGO_TEXT_MAX, false);
				kv(d, "db", "%s", rep.databases[k]);
			}
		}
		buf += r;
		len -= (size_t)r;
		if (len == 0)
			break;
	}
	kv(d, "rest", "%zu", len);
	return first;
}

/* ---- Elasticsearch: the response head, then the body when it is whole */
static int walk_es(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct es_http h;
	static struct es_info info;
	int r = es_parse_head(buf, len, &h), first = r;
	size_t n;

	check_consumed(r, len);
	check_text(h.www_auth, sizeof(h.www_auth), false);
	check_text(h.reason, sizeof(h.reason), false);
	kv_result(d, "head", r);
	if (r <= 0)
		return first;
	kv(d, "status", "%u", h.status);
	kv(d, "reason", "%s", h.reason);
	kv(d, "www_auth", "%s", h.www_auth);
	kv(d, "product", "%s", h.product);
	kv(d, "length", "%d/%u", h.has_length, h.content_length);
	n = len - (size_t)r;
	if (h.has_length && n > h.content_length)
		n = h.content_length;
	r = es_parse_body(buf + r, n, &info);
	check_consumed(r, n);
	kv_result(d, "body", r);
	check_text(info.cluster_name, sizeof(info.cluster_name), false);
	check_text(info.version, sizeof(info.version), false);
	check_text(info.error_type, sizeof(info.error_type), false);
	if (r <= 0)
		return first;
	kv(d, "cluster_name", "%d %s", info.has_cluster_name, info.cluster_name);
	kv(d, "version", "%d %s", info.has_version, info.version);
	kv(d, "distribution", "%s", info.distribution);
	kv(d, "tagline", "%s", info.tagline);
	kv(d, "error_type", "%s", info.error_type);
	kv(d, "members", "%u", info.members);
	return first;
}

/* ---- MySQL: the first packet */
static int walk_mysql(const uint8_t *buf, size_t len, struct dump *d)
{
	struct mysql_greeting g;
	int r = mysql_parse_greeting(buf, len, &g);

	check_consumed(r, len);
	check_text(g.version, sizeof(g.version), false);
	check_text(g.err_msg, sizeof(g.err_msg), false);
	check_text(g.auth_plugin, sizeof(g.auth_plugin), false);
	check_text(g.sqlstate, sizeof(g.sqlstate), false);
	kv_result(d, "greeting", r);
	if (r <= 0)
		return r;
	kv(d, "protocol", "%u", g.protocol);
	if (g.is_error) {
		kv(d, "error", "%u %s %s", g.err_code, g.sqlstate, g.err_msg);
	} else {
		kv(d, "version", "%s", g.version);
		kv(d, "mariadb", "%d", g.mariadb);
		kv(d, "capabilities", "0x%08x", g.capabilities);
		kv(d, "auth_plugin", "%s", g.auth_plugin);
	}
	kv(d, "rest", "%zu", len - (size_t)r);
	return r;
}

/* ---- PostgreSQL: the answer to SSLRequest (one byte 'S' or 'N'), or backend messages */
static int walk_pg(const uint8_t *buf, size_t len, struct dump *d)
{
	struct pg_message m;
	char ssl;
	int r, first;

	r = first = pg_parse_ssl_answer(buf, len, &ssl);
	check_consumed(r, len);
	if (r > 0 && len == 1) {
		kv(d, "ssl", "%c", ssl);
		return first;
	}
	r = first = pg_parse_message(buf, len, &m);
	check_consumed(r, len);
	check_text(m.message, sizeof(m.message), false);
	check_text(m.severity, sizeof(m.severity), false);
	check_text(m.sqlstate, sizeof(m.sqlstate), false);
	kv_result(d, "message", r);
	if (r <= 0)
		return first;
	kv(d, "type", "%c", m.type);
	kv(d, "v2", "%d", m.v2);
	kv(d, "severity", "%s", m.severity);
	kv(d, "sqlstate", "%s", m.sqlstate);
	kv(d, "text", "%s", m.message);
	kv(d, "routine", "%s", m.routine);
	kv(d, "auth", "%u", m.auth);
	kv(d, "rest", "%zu", len - (size_t)r);
	return first;
}

/* ---- SSDP: one answer datagram to M-SEARCH */
static int walk_ssdp(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct ssdp_reply r;
	int rc = ssdp_parse_reply(buf, len, &r);

	check_consumed(rc, len);
	kv_result(d, "reply", rc);
	if (rc <= 0)
		return rc;
	assert_int_equal(rc, (int)len); /* a datagram is parsed whole or not at all */
	check_text(r.reason, sizeof(r.reason), false);
	check_text(r.location, sizeof(r.location), false);
	check_text(r.server, sizeof(r.server), false);
	check_text(r.st, sizeof(r.st), false);
	check_text(r.usn, sizeof(r.usn), false);
	check_text(r.cache_control, sizeof(r.cache_control), false);
	kv(d, "status", "%u", r.status);
	kv(d, "reason", "%s", r.reason);
	kv(d, "location", "%s", r.location);
	kv(d, "server", "%s", r.server);
	kv(d, "st", "%s", r.st);
	kv(d, "usn", "%s", r.usn);
	kv(d, "cache_control", "%s", r.cache_control);
	kv(d, "ext", "%d", r.has_ext);
	kv(d, "truncated", "%d", r.truncated);
	kv(d, "complete", "%d", r.complete);
	kv(d, "lines", "%u", r.lines);
	kv(d, "discovery", "%d", ssdp_is_discovery(&r));
	return rc;
}

/* ---- memcached (TCP): reply lines one after the other */
static int walk_memcached(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const kinds[] = {"none",         "version",      "error",
	                                    "client_error", "server_error", "other"};
	struct memcached_line line;
	int r, first = 0;
	char key[32];

	for (unsigned i = 0; i < 4; i++) {
		r = memcached_parse_line(buf, len, &line);
		if (i == 0)
			first = r;
		check_consumed(r, len);
		check_text(line.text, sizeof(line.text), false);
		snprintf(key, sizeof(key), "line%u", i);
		kv_result(d, key, r);
		if (r <= 0)
			break;
		kv(d, "kind", "%s", kinds[line.kind]);
		kv(d, "text", "%s", line.text);
		kv(d, "truncated", "%d", line.truncated);
		buf += r;
		len -= (size_t)r;
		if (len == 0)
			break;
	}
	kv(d, "rest", "%zu", len);
	return first;
}

/* ---- memcached over UDP: one datagram, the frame header then the reply line */
static int walk_memcached_udp(const uint8_t *buf, size_t len, struct dump *d)
{
	struct memcached_udp_hdr h;
	int r = memcached_udp_parse_hdr(buf, len, &h);

	kv_result(d, "header", r);
	if (r < 0)
		return r;
	kv(d, "request_id", "0x%04x", h.request_id);
	kv(d, "seq", "%u", h.seq);
	kv(d, "total", "%u", h.total);
	walk_memcached(buf + r, len - (size_t)r, d);
	return (int)len;
}

/* ---- how a capture cut short must parse */

typedef int (*walk_fn)(const uint8_t *buf, size_t len, struct dump *d);
typedef void (*prefix_fn)(walk_fn walk, const uint8_t *cut, size_t k, const uint8_t *whole,
                          size_t len, int full);

/*
 * A message parser: while the first message is incomplete, PARSE_AGAIN or the same early error
 * as the whole capture; once it is complete, the same result as the whole capture.
 */
static void prefix_message(walk_fn walk, const uint8_t *cut, size_t k, const uint8_t *whole,
                           size_t len, int full)
{
	int r = walk(cut, k, NULL);

	(void)whole;
	(void)len;
	check_consumed(r, k);
	if (full > 0 && (size_t)full <= k)
		assert_int_equal(r, full);
	else if (r != PARSE_AGAIN && r != full)
		fail_msg("prefix %zu: %d, whole capture %d", k, r, full);
}

/*
 * The telnet scanner is a stream scan (telnet_parse.h): a prefix consumes everything but an
 * incomplete command at its end, and what it found (commands, text, IAC IAC count) is the start
 * of what the whole capture gives.
 */
static void prefix_stream(walk_fn walk, const uint8_t *cut, size_t k, const uint8_t *whole,
                          size_t len, int full)
{
	static struct telnet_scan all, part;
	int r = walk(cut, k, NULL);
	unsigned kept;

	check_consumed(r, k);
	if (full < 0) {
		assert_true(r >= 0 || r == full);
		return;
	}
	assert_true(r >= 0);
	assert_true((size_t)r == k || cut[r] == TELNET_IAC);
	assert_int_equal(telnet_parse(whole, len, &all), full);
	assert_int_equal(telnet_parse(cut, k, &part), r);
	assert_true(part.ncmds <= all.ncmds);
	kept = part.ncmds < TELNET_CMDS_KEEP ? part.ncmds : TELNET_CMDS_KEEP;
	assert_memory_equal(part.cmds, all.cmds, kept * sizeof(part.cmds[0]));
	assert_true(part.text_len <= all.text_len);
	assert_memory_equal(part.text, all.text, part.text_len);
	assert_true(part.data_ff <= all.data_ff);
}

/*
 * A datagram parser: a datagram cut short is another, shorter datagram. It is parsed whole (the
 * result is its length) or refused, never read past its end (ASan sees the exact-size copy).
 */
static void prefix_datagram(walk_fn walk, const uint8_t *cut, size_t k, const uint8_t *whole,
                            size_t len, int full)
{
	int r = walk(cut, k, NULL);

	(void)whole;
	(void)len;
	(void)full;
	check_consumed(r, k);
	assert_true(r < 0 || (size_t)r == k || (r == PARSE_AGAIN && k == 0));
}

struct parser {
	const char *name; /* the parser= line of a .expect */
	walk_fn walk;
	prefix_fn prefix; /* required: a capture cut short is always checked */
	unsigned used;    /* captures that named it (every parser must have one) */
};

static struct parser parsers[] = {
    {.name = "ssh", .walk = walk_ssh, .prefix = prefix_message},
    {.name = "telnet", .walk = walk_telnet, .prefix = prefix_stream},
    {.name = "rdp_cc", .walk = walk_rdp, .prefix = prefix_message},
    {.name = "vnc", .walk = walk_vnc, .prefix = prefix_message},
    {.name = "nbss", .walk = walk_nbss, .prefix = prefix_message},
    {.name = "smb1_negotiate", .walk = walk_smb1_negotiate, .prefix = prefix_message},
    {.name = "smb1_session_setup", .walk = walk_smb1_session_setup, .prefix = prefix_message},
    {.name = "smb1_tree_connect", .walk = walk_smb1_tree_connect, .prefix = prefix_message},
    {.name = "smb1_trans", .walk = walk_smb1_trans, .prefix = prefix_message},
    {.name = "smb1_trans2", .walk = walk_smb1_trans2, .prefix = prefix_message},
    {.name = "smb2_negotiate", .walk = walk_smb2_negotiate, .prefix = prefix_message},
    {.name = "rsync", .walk = walk_rsync, .prefix = prefix_message},
    {.name = "redis", .walk = walk_redis, .prefix = prefix_message},
    {.name = "mongodb", .walk = walk_mongodb, .prefix = prefix_message},
    {.name = "elasticsearch", .walk = walk_es, .prefix = prefix_message},
    {.name = "mysql", .walk = walk_mysql, .prefix = prefix_message},
    {.name = "postgresql", .walk = walk_pg, .prefix = prefix_message},
    {.name = "iscsi", .walk = walk_iscsi, .prefix = prefix_message},
    {.name = "rpc", .walk = walk_rpc, .prefix = prefix_message},
    {.name = "ssdp", .walk = walk_ssdp, .prefix = prefix_datagram},
    {.name = "memcached", .walk = walk_memcached, .prefix = prefix_message},
    {.name = "memcached_udp", .walk = walk_memcached_udp, .prefix = prefix_datagram},
    {.name = "nas", .walk = walk_nas, .prefix = prefix_message},
};

/* The folders of tests/data, each with the captures it holds at least (a lost file fails). */
static const struct {
	const char *name;
	unsigned min;
} dirs[] = {
    {"ssh", 15},      {"telnet", 10},    {"rdp", 23},   {"vnc", 16},     {"netbios", 15},
    {"smb", 65},      {"rsync", 8},      {"redis", 11}, {"mongodb", 10}, {"elasticsearch", 9},
    {"mysql", 8},     {"postgresql", 8}, {"iscsi", 8},  {"nfs", 12},     {"ssdp", 7},
    {"memcached", 8}, {"nas-admin", 10},
};

/* ---- files */

static char *read_file(const char *path, size_t *len)
{
	struct stat st;
	char *buf;
	FILE *f = fopen(path, "rb");

	if (!f)
		fail_msg("%s: cannot open", path);
	assert_int_equal(fstat(fileno(f), &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len + 1);
	if (!buf)
		abort();
	assert_int_equal(fread(buf, 1, *len, f), *len);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

/* The .expect: its parser and the expected dump (every line but the descriptive ones). */
static struct parser *read_expect(const char *path, struct dump *want)
{
	struct parser *p = NULL;
	bool source = false;
	char *exp, *line, *next;
	size_t elen;

	exp = read_file(path, &elen);
	want->len = 0;
	want->buf[0] = '\0';
	for (line = exp; *line; line = next) {
		next = line + strcspn(line, "\n");
		if (*next)
			*next++ = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		if (line[strcspn(line, "=")] == '\0')
			fail_msg("%s: not key=value: %s", path, line);
		if (!strncmp(line, "parser=", 7)) {
			for (size_t i = 0; i < ARRAY_LEN(parsers); i++)
				if (!strcmp(line + 7, parsers[i].name))
					p = &parsers[i];
			if (!p)
				fail_msg("%s: unknown %s", path, line);
		} else if (!strncmp(line, "source=", 7)) {
			source = true;
		} else if (strncmp(line, "note=", 5) && strncmp(line, "handmade=", 9)) {
			int n = snprintf(want->buf + want->len, sizeof(want->buf) - want->len,
			                 "%s\n", line);

			assert_true(n > 0 && (size_t)n < sizeof(want->buf) - want->len);
			want->len += (size_t)n;
		}
	}
	free(exp);
	if (!p)
		fail_msg("%s: no parser= line", path);
	if (!source)
		fail_msg("%s: no source= line (real server version or hand-made)", path);
	if (want->len == 0)
		fail_msg("%s: checks nothing", path);
	return p;
}

static void check_capture(const char *dir, const char *base)
{
	static struct dump want, got, again;
	char path[1024];
	struct parser *p;
	size_t len;
	uint8_t *buf;
	int full;

	snprintf(path, sizeof(path), "%s/%s.expect", dir, base);
	p = read_expect(path, &want);
	p->used++;
	snprintf(path, sizeof(path), "%s/%s.bin", dir, base);
	buf = (uint8_t *)read_file(path, &len);
	got.len = again.len = 0;
	got.buf[0] = again.buf[0] = '\0';
	full = p->walk(buf, len, &got);
	/* a second parse of the same bytes gives the same result */
	assert_int_equal(p->walk(buf, len, &again), full);
	assert_string_equal(got.buf, again.buf);
	if (dump_only)
		printf("== %s/%s.bin\nparser=%s\n%s", dir, base, p->name, got.buf);
	else if (strcmp(got.buf, want.buf) != 0)
		fail_msg("%s/%s:\n-- expected --\n%s-- parsed --\n%s", dir, base, want.buf,
		         got.buf);
	for (size_t k = 0; k < len; k++) {
		uint8_t *cut = malloc(k ? k : 1);

		assert_non_null(cut);
		memcpy(cut, buf, k);
		p->prefix(p->walk, cut, k, buf, len, full);
		free(cut);
	}
	free(buf);
}

static unsigned walk_dir(const char *sub)
{
	struct dirent **names;
	unsigned checked = 0;
	char dir[512];
	int n;

	snprintf(dir, sizeof(dir), "%s/%s", data_dir, sub);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("%s: cannot read", dir);
	for (int i = 0; i < n; i++) {
		char *name = names[i]->d_name;
		size_t l = strlen(name);

		if (l > 4 && !strcmp(name + l - 4, ".bin")) {
			name[l - 4] = '\0';
			check_capture(dir, name);
			checked++;
		} else if (name[0] != '.' && (l < 7 || strcmp(name + l - 7, ".expect"))) {
			fail_msg("%s/%s: neither a .bin nor a .expect", dir, name);
		}
		free(names[i]);
	}
	free(names);
	return checked;
}

/* Every folder of tests/data is in dirs[] (a new protocol cannot be skipped). */
static int not_dot(const struct dirent *e)
{
	return e->d_name[0] != '.';
}

static void test_golden(void **state)
{
	struct dirent **names;
	unsigned total = 0;
	int n;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(parsers); i++)
		assert_true(parsers[i].name && parsers[i].walk && parsers[i].prefix);
	n = scandir(data_dir, &names, not_dot, alphasort);
	if (n < 0)
		fail_msg("%s: cannot read", data_dir);
	for (int i = 0; i < n; i++) {
		size_t j = 0;

		while (j < ARRAY_LEN(dirs) && strcmp(dirs[j].name, names[i]->d_name))
			j++;
		if (j == ARRAY_LEN(dirs))
			fail_msg("%s/%s: a folder the walker does not know", data_dir,
			         names[i]->d_name);
		free(names[i]);
	}
	free(names);
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		unsigned c = walk_dir(dirs[i].name);

		if (c < dirs[i].min)
			fail_msg("%s/%s: %u captures, expected at least %u", data_dir, dirs[i].name,
			         c, dirs[i].min);
		total += c;
	}
	for (size_t i = 0; i < ARRAY_LEN(parsers); i++)
		if (parsers[i].used == 0)
			fail_msg("parser %s: no capture names it", parsers[i].name);
	print_message("%u captures checked\n", total);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dump"))
			dump_only = true;
		else
			data_dir = argv[i];
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
