/* SPDX-License-Identifier: MIT */
/*
 * Golden captures: walks tests/data/{netbios,smb}, parses every <name>.bin with the parser named
 * by the "parser=" line of <name>.expect and checks the parse (key=value lines) against the other
 * lines of the .expect ("source=" and "handmade=" are descriptive). Every capture is also parsed
 * truncated at each byte offset (exact-size heap copies, so ASan sees any read past the end): a
 * prefix shorter than the message gives PARSE_AGAIN or the same early error, never a result
 * beyond the bytes given; a second parse gives the identical struct.
 * Adding a capture needs no code: drop the .bin and its .expect in the folder.
 * --dump DIR prints the parse of each capture (to write a new .expect) instead of checking.
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

#include "probes/parse/nbss_parse.h"
#include "probes/parse/smb1_parse.h"
#include "probes/parse/smb2_parse.h"

static const char *data_dir = "tests/data";
static bool dump_only;

struct dump {
	char buf[16384];
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

static void kv_result(struct dump *d, const char *key, int r)
{
	if (r > 0)
		kv(d, key, "%d", r);
	else if (r == PARSE_AGAIN)
		kv(d, key, "AGAIN");
	else
		kv(d, key, "%s", err_name(r));
}

/* NUL-terminated inside its array, printable ASCII only. */
static void check_text(const char *s, size_t size)
{
	const char *nul = memchr(s, 0, size);

	assert_non_null(nul);
	for (const char *p = s; p < nul; p++)
		assert_true(*p >= 0x20 && *p < 0x7f);
}

/* ---- one function per parser: parse, check invariants, dump (d may be NULL) */

static int do_nbss(const uint8_t *buf, size_t len, struct dump *d)
{
	struct nbss_packet p, q;
	size_t off = 0;
	unsigned i = 0;
	char key[32];
	int r, first = 0;

	/* a probe's loop: packets one after another (keep-alive, then a response) */
	for (;; i++) {
		r = nbss_parse(buf + off, len - off, &p);
		assert_true(r <= (int)(len - off));
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

static int do_smb1_negotiate(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const forms[] = {"error", "none", "lanman", "nt"};
	static struct smb1_negotiate n, m;
	int r = smb1_parse_negotiate(buf, len, &n);

	assert_true(r <= (int)len);
	assert_int_equal(r, smb1_parse_negotiate(buf, len, &m));
	assert_memory_equal(&n, &m, sizeof(n));
	check_text(n.domain, sizeof(n.domain));
	check_text(n.server, sizeof(n.server));
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

static int do_smb1_session_setup(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct smb1_session_setup s, t;
	int r = smb1_parse_session_setup(buf, len, &s);

	assert_true(r <= (int)len);
	assert_int_equal(r, smb1_parse_session_setup(buf, len, &t));
	assert_memory_equal(&s, &t, sizeof(s));
	check_text(s.native_os, sizeof(s.native_os));
	check_text(s.native_lanman, sizeof(s.native_lanman));
	check_text(s.primary_domain, sizeof(s.primary_domain));
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

static int do_smb1_tree_connect(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct smb1_tree_connect t, u;
	int r = smb1_parse_tree_connect(buf, len, &t);

	assert_true(r <= (int)len);
	assert_int_equal(r, smb1_parse_tree_connect(buf, len, &u));
	assert_memory_equal(&t, &u, sizeof(t));
	check_text(t.service, sizeof(t.service));
	check_text(t.native_fs, sizeof(t.native_fs));
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
static int trans_common(const uint8_t *buf, size_t len, struct dump *d, bool dp_ping)
{
	static struct smb1_trans t, u;
	struct smb1_header h;
	struct dp_result dp;
	const char *reason = NULL;
	enum ms17_verdict v;
	int r = smb1_parse_trans(buf, len, &t);
	int rh = smb1_parse_header(buf, len, &h);

	assert_true(r <= (int)len);
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

static int do_smb1_trans(const uint8_t *buf, size_t len, struct dump *d)
{
	return trans_common(buf, len, d, false);
}

static int do_smb1_trans2(const uint8_t *buf, size_t len, struct dump *d)
{
	return trans_common(buf, len, d, true);
}

static int do_smb2_negotiate(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct smb2_negotiate n, m;
	int r = smb2_parse_negotiate(buf, len, &n);

	assert_true(r <= (int)len);
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

struct parser {
	const char *name;
	int (*fn)(const uint8_t *buf, size_t len, struct dump *d);
};

static const struct parser parsers[] = {
    {"nbss", do_nbss},
    {"smb1_negotiate", do_smb1_negotiate},
    {"smb1_session_setup", do_smb1_session_setup},
    {"smb1_tree_connect", do_smb1_tree_connect},
    {"smb1_trans", do_smb1_trans},
    {"smb1_trans2", do_smb1_trans2},
    {"smb2_negotiate", do_smb2_negotiate},
};

/* ---- files */

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	FILE *f = fopen(path, "rb");

	assert_non_null(f);
	assert_int_equal(fstat(fileno(f), &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* The parse of every prefix: AGAIN or the full result / the same early error. */
static void check_prefixes(const struct parser *p, const uint8_t *buf, size_t len, int full)
{
	for (size_t k = 0; k < len; k++) {
		uint8_t *c = malloc(k ? k : 1);
		int r;

		assert_non_null(c);
		memcpy(c, buf, k);
		r = p->fn(c, k, NULL);
		free(c);
		assert_true(r <= (int)k);
		if (full > 0 && (size_t)full <= k)
			assert_int_equal(r, full);
		else if (r != PARSE_AGAIN && r != full)
			fail_msg("prefix %zu: %d, full parse %d", k, r, full);
	}
}

static unsigned checked;

static void check_capture(const char *dir, const char *base)
{
	char path[1024], *exp, *line, *next;
	const struct parser *p = NULL;
	struct dump want = {0};
	static struct dump got;
	size_t len, elen;
	uint8_t *buf;
	int r;

	snprintf(path, sizeof(path), "%s/%s.expect", dir, base);
	exp = (char *)read_file(path, &elen);
	exp = realloc(exp, elen + 1);
	assert_non_null(exp);
	exp[elen] = '\0';
	for (line = exp; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		if (line[0] == '\0')
			continue;
		if (!strncmp(line, "parser=", 7)) {
			for (size_t i = 0; i < sizeof(parsers) / sizeof(parsers[0]); i++)
				if (!strcmp(line + 7, parsers[i].name))
					p = &parsers[i];
		} else if (strncmp(line, "source=", 7) && strncmp(line, "handmade=", 9) &&
		           line[0] != '#') {
			int n = snprintf(want.buf + want.len, sizeof(want.buf) - want.len, "%s\n",
			                 line);

			assert_true(n > 0 && (size_t)n < sizeof(want.buf) - want.len);
			want.len += (size_t)n;
		}
	}
	free(exp);
	if (!p)
		fail_msg("%s/%s.expect: no known parser= line", dir, base);
	snprintf(path, sizeof(path), "%s/%s.bin", dir, base);
	buf = read_file(path, &len);
	got.len = 0;
	got.buf[0] = '\0';
	r = p->fn(buf, len, &got);
	if (dump_only) {
		printf("== %s/%s (%s)\n%s", dir, base, p->name, got.buf);
	} else {
		if (strcmp(got.buf, want.buf) != 0)
			fail_msg("%s/%s:\n-- expected --\n%s-- parsed --\n%s", dir, base, want.buf,
			         got.buf);
		check_prefixes(p, buf, len, r);
	}
	free(buf);
	checked++;
}

static void walk(const char *sub)
{
	char dir[512];
	struct dirent **names;
	int n;

	snprintf(dir, sizeof(dir), "%s/%s", data_dir, sub);
	n = scandir(dir, &names, NULL, alphasort);
	if (n < 0)
		fail_msg("cannot read %s", dir);
	for (int i = 0; i < n; i++) {
		char *name = names[i]->d_name;
		size_t l = strlen(name);

		if (l > 4 && !strcmp(name + l - 4, ".bin")) {
			name[l - 4] = '\0';
			check_capture(dir, name);
		}
		free(names[i]);
	}
	free(names);
}

static void test_netbios(void **state)
{
	unsigned before = checked;

	(void)state;
	walk("netbios");
	/* Samba positive / negative, and the emulator-only codes */
	assert_true(checked - before >= 8);
}

static void test_smb(void **state)
{
	unsigned before = checked;

	(void)state;
	walk("smb");
	assert_true(checked - before >= 30);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_netbios),
	    cmocka_unit_test(test_smb),
	};

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--dump"))
			dump_only = true;
		else
			data_dir = argv[i];
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
