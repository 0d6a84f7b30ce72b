/* SPDX-License-Identifier: MIT */
/*
 * Golden captures: walks tests/data/{ssh,telnet,rdp,vnc}, parses every <name>.bin the way a probe
 * would (message after message), and checks the result against <name>.expect (key=value lines).
 * Every capture is also parsed truncated at each byte offset (exact-size heap copies, so ASan sees
 * any read past the end): no crash, never more consumed than given, text fields clean.
 * Adding a capture needs no code: drop the .bin and its .expect in the folder.
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

#include "probes/parse/rdp_parse.h"
#include "probes/parse/ssh_parse.h"
#include "probes/parse/telnet_parse.h"
#include "probes/parse/vnc_parse.h"

static const char *data_dir = "tests/data";
/* --dump: print each capture's parse (to write a new .expect) instead of checking it */
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

static const char *result_name(int r, char *tmp, size_t size)
{
	if (r > 0)
		snprintf(tmp, size, "%d", r);
	else if (r == PARSE_AGAIN)
		snprintf(tmp, size, "AGAIN");
	else
		snprintf(tmp, size, "%s", err_name(r));
	return tmp;
}

static void kv_result(struct dump *d, const char *key, int r)
{
	char tmp[32];

	kv(d, key, "%s", result_name(r, tmp, sizeof(tmp)));
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

/* ---- SSH: banner (pre-banner lines + identification), then one KEXINIT packet if present */
static void walk_ssh(const uint8_t *buf, size_t len, struct dump *d)
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
	int r;

	r = ssh_parse_banner(buf, len, &b);
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
		return;
	kv(d, "proto", "%s", b.ident.proto);
	kv(d, "kind", "%s", kinds[b.ident.kind]);
	kv(d, "software", "%s", b.ident.software);
	kv(d, "comment", "%s", b.ident.comment);
	flag_names(tmp, sizeof(tmp), b.ident.flags, iflags, 6);
	kv(d, "flags", "%s", tmp);
	kv(d, "truncated", "%d", b.ident.truncated);
	kv(d, "rest", "%zu", len - (size_t)r);
	if ((size_t)r == len)
		return;

	buf += r;
	len -= (size_t)r;
	r = ssh_parse_kexinit(buf, len, &k);
	check_consumed(r, len);
	kv_result(d, "kexinit", r);
	check_text(k.kex, sizeof(k.kex), false);
	check_text(k.mac_s2c, sizeof(k.mac_s2c), false);
	if (r <= 0)
		return;
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
}

/* ---- Telnet: scan, classification, the replies a probe would send */
static void walk_telnet(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const verbs[] = {"SB", "WILL", "WONT", "DO", "DONT"};
	static const char *const svc[] = {"telnet", "ssh", "http", "rfb"};
	static struct telnet_scan s;
	struct telnet_text_class c;
	struct telnet_answered ans = {0};
	uint8_t rep[1024];
	char tmp[2048];
	size_t used = 0;
	int r;

	r = telnet_parse(buf, len, &s);
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
}

/* ---- RDP: one Connection Confirm */
static void walk_rdp(const uint8_t *buf, size_t len, struct dump *d)
{
	static const char *const kinds[] = {"legacy", "rsp", "failure"};
	struct rdp_cc cc;
	int r = rdp_parse_cc(buf, len, &cc);

	check_consumed(r, len);
	kv_result(d, "cc", r);
	if (r <= 0)
		return;
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
static void walk_vnc(const uint8_t *buf, size_t len, struct dump *d)
{
	static struct vnc_sec_types t;
	static struct vnc_sec33 s33;
	struct vnc_version v;
	int r = vnc_parse_version(buf, len, &v);

	check_consumed(r, len);
	check_text(v.text, sizeof(v.text), false);
	kv_result(d, "version", r);
	if (r <= 0)
		return;
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
		return;
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
		return;
	if (t.has_vencrypt && !t.has_none && len > (size_t)r)
		walk_vencrypt(buf + r, len - (size_t)r, d);
	else
		kv(d, "rest", "%zu", len - (size_t)r);
}

struct proto {
	const char *dir;
	void (*walk)(const uint8_t *buf, size_t len, struct dump *d);
	/* first parser alone, for the "shorter than one message" check; NULL for a stream scan */
	int (*first)(const uint8_t *buf, size_t len);
};

static int first_ssh(const uint8_t *buf, size_t len)
{
	static struct ssh_banner b;

	return ssh_parse_banner(buf, len, &b);
}

static int first_rdp(const uint8_t *buf, size_t len)
{
	struct rdp_cc cc;

	return rdp_parse_cc(buf, len, &cc);
}

static int first_vnc(const uint8_t *buf, size_t len)
{
	struct vnc_version v;

	return vnc_parse_version(buf, len, &v);
}

static const struct proto protos[] = {
    {.dir = "ssh", .walk = walk_ssh, .first = first_ssh},
    {.dir = "telnet", .walk = walk_telnet},
    {.dir = "rdp", .walk = walk_rdp, .first = first_rdp},
    {.dir = "vnc", .walk = walk_vnc, .first = first_vnc},
};

static uint8_t *read_file(const char *path, size_t *len)
{
	struct stat st;
	uint8_t *buf;
	FILE *f;

	assert_int_equal(stat(path, &st), 0);
	*len = (size_t)st.st_size;
	buf = malloc(*len ? *len : 1);
	assert_non_null(buf);
	f = fopen(path, "rb");
	assert_non_null(f);
	assert_int_equal(fread(buf, 1, *len, f), *len);
	fclose(f);
	return buf;
}

/* Every non-meta key=value of the .expect file must be in the dump with that exact value. */
static unsigned check_expect(const char *path, const struct dump *d, const char *name)
{
	char line[4096], want[4200];
	unsigned keys = 0;
	bool source = false;
	FILE *f = fopen(path, "r");

	if (!f)
		fail_msg("%s: missing .expect sidecar", path);
	while (fgets(line, sizeof(line), f)) {
		size_t n = strcspn(line, "\r\n");

		line[n] = '\0';
		if (n == 0 || line[0] == '#')
			continue;
		if (!strchr(line, '='))
			fail_msg("%s: not key=value: %s", path, line);
		if (strncmp(line, "source=", 7) == 0) {
			source = true;
			continue;
		}
		if (strncmp(line, "note=", 5) == 0)
			continue;
		/* match a whole line of the dump: "\nkey=value\n" */
		snprintf(want, sizeof(want), "\n%s\n", line);
		if (!strstr(d->buf, want) && strncmp(d->buf, want + 1, strlen(want + 1)) != 0)
			fail_msg("%s: expected '%s'; parse gave:\n%s", name, line, d->buf);
		keys++;
	}
	fclose(f);
	if (!source)
		fail_msg("%s: no source= line (real server version or hand-made)", path);
	return keys;
}

/* Parse every prefix of the capture from an exact-size copy (ASan sees overreads). */
static void check_prefixes(const struct proto *p, const uint8_t *buf, size_t len)
{
	int full = p->first ? p->first(buf, len) : 0;

	for (size_t k = 0; k < len; k++) {
		uint8_t *cut = malloc(k ? k : 1);

		assert_non_null(cut);
		memcpy(cut, buf, k);
		p->walk(cut, k, NULL);
		if (p->first && full > 0 && k < (size_t)full)
			assert_true(p->first(cut, k) <= 0);
		free(cut);
	}
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static void test_golden(void **state)
{
	unsigned captures = 0;

	(void)state;
	for (size_t i = 0; i < sizeof(protos) / sizeof(protos[0]); i++) {
		const struct proto *p = &protos[i];
		struct dirent **ents;
		char dir[1024];
		int n;

		snprintf(dir, sizeof(dir), "%s/%s", data_dir, p->dir);
		n = scandir(dir, &ents, NULL, by_name);
		if (n < 0)
			fail_msg("%s: cannot read", dir);
		unsigned in_dir = 0;

		for (int j = 0; j < n; j++) {
			const char *nm = ents[j]->d_name;
			size_t l = strlen(nm), len;
			char path[2048], expect[2048];
			static struct dump d;
			uint8_t *buf;

			if (l > 4 && strcmp(nm + l - 4, ".bin") == 0) {
				snprintf(path, sizeof(path), "%s/%s", dir, nm);
				snprintf(expect, sizeof(expect), "%s/%.*s.expect", dir,
				         (int)(l - 4), nm);
				buf = read_file(path, &len);
				d.len = 0;
				d.buf[0] = '\0';
				p->walk(buf, len, &d);
				if (dump_only)
					printf("== %s/%s\n%s", p->dir, nm, d.buf);
				else if (check_expect(expect, &d, nm) == 0)
					fail_msg("%s: .expect checks nothing", nm);
				check_prefixes(p, buf, len);
				free(buf);
				in_dir++;
			}
			free(ents[j]);
		}
		free(ents);
		if (in_dir == 0)
			fail_msg("%s: no capture", dir);
		captures += in_dir;
	}
	print_message("%u captures checked\n", captures);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_golden),
	};

	if (argc > 1)
		data_dir = argv[1];
	dump_only = argc > 2 && strcmp(argv[2], "--dump") == 0;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
