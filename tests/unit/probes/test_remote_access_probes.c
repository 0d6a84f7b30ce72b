/* SPDX-License-Identifier: MIT */
/*
 * SSH, Telnet, RDP and VNC probes driven in memory with the bytes of tests/data/<proto>/ (real
 * captures and hand-made emulator bytes): each case fed whole, in small chunks and one byte at a
 * time must give exactly the expected state, service and findings; cut at every byte offset of
 * every connection (closed, reset, idle) it must end cleanly, with consumed <= len and details
 * that are printable ASCII only. Argument: the tests/data folder.
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

extern const struct probe_ops probe_ssh, probe_telnet, probe_rdp, probe_vnc;

static const char *data_dir = "tests/data";

struct tcase {
	const struct probe_ops *ops;
	const char *files[3]; /* per connection, relative to data_dir; NULL = no bytes */
	enum service_state state;
	const char *service;
	const char *findings;  /* "id[=confidence],..." exactly; "" = none */
	const char *key, *val; /* optional: details[key] (string) == val */
	const char *tx_hex; /* optional: what the probe sends on the first connection, whole feed */
};

#define SSHD   "ssh/openssh-9.2p1-2-deb12u10-"
#define TIGER  "vnc/tigervnc-1.12.0-dfsg-8-"
#define XRDP   "rdp/xrdp-0.9.21.1-1-deb12u3-"
#define INET   "telnet/inetutils-telnetd-2.4-2-deb12u3-"
#define SSH_TX "5353482d322e302d53656c66436865636b5f312e300d0a"
#define RFB38  "524642203030332e3030380a"

static const struct tcase cases[] = {
    /* SSH (real) */
    {&probe_ssh,
     {SSHD "default.bin"},
     SERVICE_IDENTIFIED,
     "ssh",
     "",
     "software",
     "OpenSSH_9.2p1",
     SSH_TX},
    {&probe_ssh, {SSHD "nodebianbanner.bin"}, SERVICE_IDENTIFIED, "ssh", "", "comments", ""},
    {&probe_ssh, {SSHD "weakalgs.bin"}, SERVICE_IDENTIFIED, "ssh", "ssh-weak-algorithms=confirmed"},
    /* SSH (emulator bytes) */
    {&probe_ssh,
     {"ssh/emul-dropbear-kexinit-terrapin.bin"},
     SERVICE_IDENTIFIED,
     "ssh",
     "ssh-weak-algorithms,ssh-terrapin-prone=likely"},
    {&probe_ssh, {"ssh/emul-kexinit-strict.bin"}, SERVICE_IDENTIFIED, "ssh", ""},
    {&probe_ssh,
     {"ssh/emul-kexinit-badlen.bin"},
     SERVICE_IDENTIFIED,
     "ssh",
     "",
     "kex_error",
     "malformed KEXINIT packet"},
    {&probe_ssh,
     {"ssh/emul-ssh199-nocr.bin"},
     SERVICE_IDENTIFIED,
     "ssh",
     "ssh1-enabled=confirmed",
     "proto",
     "1.99"},
    {&probe_ssh,
     {"ssh/emul-ssh15.bin"},
     SERVICE_IDENTIFIED,
     "ssh",
     "ssh1-enabled",
     "proto",
     "1.5",
     ""},
    {&probe_ssh, {"ssh/emul-prebanner.bin"}, SERVICE_IDENTIFIED, "ssh", ""},
    {&probe_ssh, {"ssh/emul-lf-only.bin"}, SERVICE_IDENTIFIED, "ssh", ""},
    {&probe_ssh, {"ssh/emul-nul.bin"}, SERVICE_IDENTIFIED, "ssh", "", "software", "Te?st"},
    {&probe_ssh, {"ssh/emul-overlong.bin"}, SERVICE_IDENTIFIED, "ssh", ""},
    {&probe_ssh, {"ssh/emul-hostile.bin"}, SERVICE_IDENTIFIED, "ssh", ""},
    {&probe_ssh, {"ssh/emul-http.bin"}, SERVICE_OTHER, "http", "", NULL, NULL, ""},
    {&probe_ssh,
     {"ssh/emul-tarpit.bin"},
     SERVICE_OTHER,
     "",
     "",
     "reason",
     "no SSH identification within the pre-banner caps"},
    {&probe_ssh, {NULL}, SERVICE_SILENT, "", ""},
    /* Telnet */
    {&probe_telnet,
     {INET "first.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=confirmed",
     NULL,
     NULL,
     "fffc18fffc20fffc23fffc24fffc27fffe25fffe26"},
    {&probe_telnet,
     {INET "refused.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=confirmed",
     "prompt",
     "vm login:"},
    {&probe_telnet,
     {"telnet/emul-busybox-login.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=confirmed"},
    {&probe_telnet,
     {"telnet/emul-busybox-shell.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=confirmed,telnet-no-auth-shell=likely"},
    {&probe_telnet,
     {"telnet/emul-winxp.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=confirmed"},
    {&probe_telnet,
     {"telnet/emul-plaintext-login.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=likely"},
    {&probe_telnet,
     {"telnet/emul-iac-iac.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=likely"}, /* IAC IAC: an escaped data byte, not negotiation */
    {&probe_telnet,
     {"telnet/emul-subneg.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=confirmed"},
    {&probe_telnet, {"telnet/emul-ssh-on-23.bin"}, SERVICE_OTHER, "ssh", ""},
    {&probe_telnet,
     {"telnet/emul-hostile.bin"},
     SERVICE_IDENTIFIED,
     "telnet",
     "telnet-exposed=confirmed",
     "prompt",
     "Password:"},
    /* VNC (real) */
    {&probe_vnc,
     {TIGER "none.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "vnc-no-auth=confirmed",
     "no_auth_via",
     "none",
     RFB38},
    {&probe_vnc, {TIGER "vncauth.bin"}, SERVICE_IDENTIFIED, "vnc", "vnc-password-only=confirmed"},
    {&probe_vnc,
     {TIGER "none-protocol33.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "vnc-no-auth",
     "version_used",
     "3.3",
     "524642203030332e3030330a"},
    {&probe_vnc,
     {TIGER "tlsnone-vencrypt.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "vnc-no-auth",
     "no_auth_via",
     "vencrypt-tlsnone",
     RFB38 "130002"},
    {&probe_vnc, {TIGER "default.bin"}, SERVICE_IDENTIFIED, "vnc", "vnc-password-only"},
    {&probe_vnc,
     {TIGER "blacklisted.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "",
     "refused_reason",
     "Too many security failures"},
    /* VNC (emulator bytes, §12.8) */
    {&probe_vnc,
     {"vnc/emul-realvnc-4.1.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "vnc-password-only",
     "version",
     "4.1",
     RFB38},
    {&probe_vnc, {"vnc/emul-realvnc-5.bin"}, SERVICE_IDENTIFIED, "vnc", "", "version", "5.0"},
    {&probe_vnc, {"vnc/emul-apple.bin"}, SERVICE_IDENTIFIED, "vnc", "", "version", "3.889", RFB38},
    {&probe_vnc,
     {"vnc/emul-refused-reason.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "",
     "refused_reason",
     "Too many security failures"},
    {&probe_vnc,
     {"vnc/emul-33-failure-early.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "",
     "refused_reason",
     "Too many security failures"},
    {&probe_vnc,
     {"vnc/emul-tigervnc-old-quirk.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "vnc-no-auth=confirmed",
     "no_auth_via",
     "none"},
    {&probe_vnc, {"vnc/emul-oversized-reason.bin"}, SERVICE_PROTOCOL_ERROR, "vnc", ""},
    {&probe_vnc,
     {"vnc/emul-rfb37.bin"},
     SERVICE_IDENTIFIED,
     "vnc",
     "vnc-password-only",
     "version_used",
     "3.7"},
    {&probe_vnc, {"vnc/emul-hostile-reason.bin"}, SERVICE_IDENTIFIED, "vnc", ""},
    {&probe_vnc, {"vnc/emul-http.bin"}, SERVICE_OTHER, "http", ""},
    /* RDP: the three-connection NLA test (P1 0x0B, P2 0x00, P3 0x01) */
    {&probe_rdp,
     {XRDP "negotiate-req0x0b.bin", XRDP "negotiate-req0x00.bin", XRDP "negotiate-req0x01.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "rdp-nla-not-required=confirmed,rdp-standard-security",
     "nla",
     "not-required",
     "0300002f2ae00000000000436f6f6b69653a206d737473686173683d73656c66636865636b0d0a010008000b00000"
     "0"},
    {&probe_rdp,
     {XRDP "tls-req0x0b.bin", XRDP "tls-req0x00.bin", XRDP "tls-req0x01.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "rdp-nla-not-required=confirmed",
     "nla",
     "not-required"},
    {&probe_rdp,
     {XRDP "rdp-req0x0b.bin", XRDP "rdp-req0x00.bin", XRDP "rdp-req0x01.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "rdp-nla-not-required,rdp-standard-security",
     "nla",
     "not-required"},
    /* emulator: Windows requiring NLA (P1 HYBRID / HYBRID_EX selected, failure 5 to P2, P3) */
    {&probe_rdp,
     {"rdp/emul-windows-nla-hybrid.bin", "rdp/emul-windows-nla-failure5.bin",
      "rdp/emul-windows-nla-failure5.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "",
     "nla",
     "required"},
    {&probe_rdp,
     {"rdp/emul-windows-nla-hybridex.bin", "rdp/emul-windows-nla-failure5.bin",
      "rdp/emul-windows-nla-failure5.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "",
     "best_protocol",
     "HYBRID_EX"},
    /* NLA-required emulator whose P3 never answers: unknown, never "required" */
    {&probe_rdp,
     {"rdp/emul-windows-nla-hybrid.bin", "rdp/emul-windows-nla-failure5.bin", NULL},
     SERVICE_IDENTIFIED,
     "rdp",
     "rdp-nla-not-required=unknown",
     "nla",
     "unknown"},
    {&probe_rdp,
     {"rdp/emul-windows-ssl-not-allowed.bin", "rdp/emul-windows-rdp-selected.bin",
      "rdp/emul-windows-ssl-not-allowed.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "rdp-nla-not-required,rdp-standard-security",
     "nla",
     "not-required"},
    {&probe_rdp,
     {"rdp/emul-client-cert-required.bin", "rdp/emul-client-cert-required.bin",
      "rdp/emul-client-cert-required.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "rdp-nla-not-required=unknown",
     "nla",
     "unknown"},
    {&probe_rdp,
     {"rdp/emul-legacy.bin", "rdp/emul-legacy.bin", "rdp/emul-legacy.bin"},
     SERVICE_IDENTIFIED,
     "rdp",
     "rdp-nla-not-required=likely,rdp-standard-security=likely",
     "nla",
     "not-required"},
    {&probe_rdp,
     {"rdp/emul-disconnect.bin", "rdp/emul-disconnect.bin", "rdp/emul-disconnect.bin"},
     SERVICE_PROTOCOL_ERROR,
     "rdp",
     "",
     "nla",
     "unknown"},
    {&probe_rdp,
     {"rdp/emul-malformed-li.bin", "rdp/emul-malformed-li.bin", "rdp/emul-malformed-li.bin"},
     SERVICE_PROTOCOL_ERROR,
     "rdp",
     ""},
    {&probe_rdp,
     {"rdp/emul-malformed-length-past-data.bin", "rdp/emul-malformed-length-past-data.bin",
      "rdp/emul-malformed-length-past-data.bin"},
     SERVICE_PROTOCOL_ERROR,
     "rdp",
     ""},
    {&probe_rdp, {"rdp/emul-tls-alert.bin"}, SERVICE_OTHER, "tls", ""},
    {&probe_rdp, {NULL}, SERVICE_SILENT, "", ""},
};

/* The bytes of each connection of t (a missing file: that connection sends nothing). */
static void load(const struct tcase *t, struct drive_loaded *l)
{
	const char *bad = NULL;

	if (drive_load(l, data_dir, t->files, 3, &bad) < 0)
		fail_msg("cannot read %s/%s", data_dir, bad);
}

static const char *state_name(enum service_state s)
{
	static const char *const n[SERVICE_X_MAX] = {"unknown",    "identified", "silent",
	                                             "tcpwrapped", "other",      "protocol-error"};
	return (unsigned)s < SERVICE_X_MAX ? n[s] : "invalid";
}

/* Compare the findings with "id[=confidence],...". */
static void check_findings(const struct tcase *t, const struct probe_result *r, const char *how)
{
	char want[256];
	size_t n = 0;

	snprintf(want, sizeof(want), "%s", t->findings);
	for (char *p = want, *e; *p; p = e ? e + 1 : p + strlen(p)) {
		char *eq;
		bool found = false;

		e = strchr(p, ',');
		if (e)
			*e = '\0';
		eq = strchr(p, '=');
		if (eq)
			*eq = '\0';
		for (size_t i = 0; i < r->n_findings; i++)
			if (strcmp(r->findings[i].id, p) == 0) {
				found = true;
				if (eq &&
				    strcmp(confidence_name(r->findings[i].confidence), eq + 1))
					fail_msg("%s %s (%s): %s is %s, want %s", t->ops->name,
					         t->files[0], how, p,
					         confidence_name(r->findings[i].confidence),
					         eq + 1);
			}
		if (!found)
			fail_msg("%s %s (%s): finding %s missing", t->ops->name,
			         t->files[0] ? t->files[0] : "(silent)", how, p);
		n++;
		if (!e)
			break;
	}
	if (n != r->n_findings) {
		for (size_t i = 0; i < r->n_findings; i++)
			print_error("  got %s (%s)\n", r->findings[i].id, r->findings[i].reason);
		fail_msg("%s %s (%s): %zu findings, want %zu (%s)", t->ops->name,
		         t->files[0] ? t->files[0] : "(silent)", how, r->n_findings, n,
		         t->findings);
	}
}

static void check_exact(const struct tcase *t, const struct probe_result *r,
                        const struct drive_stats *st, const char *how)
{
	const char *name = t->files[0] ? t->files[0] : "(silent)";

	if (r->state != t->state)
		fail_msg("%s %s (%s): state %s, want %s", t->ops->name, name, how,
		         state_name(r->state), state_name(t->state));
	if (strcmp(r->service, t->service) != 0)
		fail_msg("%s %s (%s): service '%s', want '%s'", t->ops->name, name, how, r->service,
		         t->service);
	check_findings(t, r, how);
	if (t->key) {
		json_t *v = r->details ? json_object_get(r->details, t->key) : NULL;

		if (!json_is_string(v) || strcmp(json_string_value(v), t->val) != 0) {
			char *d = r->details ? json_dumps(r->details, JSON_COMPACT) : NULL;
			fail_msg("%s %s (%s): details.%s, want '%s'; details %s", t->ops->name,
			         name, how, t->key, t->val, d ? d : "null");
		}
	}
	if (r->details && !drive_details_clean(r->details))
		fail_msg("%s %s (%s): details not printable ASCII", t->ops->name, name, how);
	(void)st;
}

static void hex(const uint8_t *b, size_t n, char *out, size_t cap)
{
	size_t o = 0;

	for (size_t i = 0; i < n && o + 3 <= cap; i++, o += 2)
		snprintf(out + o, 3, "%02x", b[i]);
	out[o < cap ? o : cap - 1] = '\0';
}

static void test_exact(void **unused)
{
	(void)unused;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct tcase *t = &cases[c];
		static const size_t chunks[] = {0, 1, 2, 3, 7, 64};
		struct drive_loaded l;

		load(t, &l);
		for (size_t k = 0; k < sizeof(chunks) / sizeof(chunks[0]); k++) {
			struct sim_opts o = {
			    .chunk = chunks[k], .cut_at = SIZE_MAX, .tail_why = PROBE_END_IDLE};
			struct probe_result r;
			struct drive_stats st;
			char how[32];
			int rc;

			snprintf(how, sizeof(how), "chunk %zu", chunks[k]);
			rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);
			if (rc < 0)
				fail_msg("%s %s (%s): %s %s", t->ops->name, t->files[0], how,
				         err_name(rc), drive_error);
			check_exact(t, &r, &st, how);
			if (k == 0 && t->tx_hex) {
				char got[1100];

				hex(st.tx_first, st.tx_first_len, got, sizeof(got));
				if (strcmp(got, t->tx_hex) != 0)
					fail_msg("%s %s: sent %s, want %s", t->ops->name,
					         t->files[0], got, t->tx_hex);
			}
			probe_result_done(&r);
		}
		drive_unload(&l);
	}
}

/* Cut every connection at every offset, closed / reset / idle: never an error, always clean. */
static void test_cut_everywhere(void **unused)
{
	static const enum probe_end whys[] = {PROBE_END_CLOSED, PROBE_END_RESET, PROBE_END_IDLE,
	                                      PROBE_END_DEADLINE};
	unsigned runs = 0;

	(void)unused;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		const struct tcase *t = &cases[c];
		struct drive_loaded l;

		load(t, &l);
		for (unsigned conn = 0; conn < l.n; conn++)
			for (size_t at = 0; at <= l.conns[conn].len && at < 4096; at++)
				for (size_t w = 0; w < sizeof(whys) / sizeof(whys[0]); w++) {
					struct sim_opts o = {.chunk = (at & 1) ? 1 : 0,
					                     .cut_conn = conn,
					                     .cut_at = at,
					                     .cut_why = whys[w],
					                     .tail_why = PROBE_END_IDLE};
					struct probe_result r;
					struct drive_stats st;
					int rc = sim_run(t->ops, l.conns, l.n, &o, &r, &st);

					if (rc < 0)
						fail_msg("%s %s cut %u@%zu: %s %s", t->ops->name,
						         t->files[0], conn, at, err_name(rc),
						         drive_error);
					if (r.details && !drive_details_clean(r.details))
						fail_msg("%s %s cut %u@%zu: unclean details",
						         t->ops->name, t->files[0], conn, at);
					/* a cut never invents the most severe findings */
					for (size_t i = 0; i < r.n_findings; i++)
						assert_true(strlen(r.findings[i].id) > 0);
					probe_result_done(&r);
					runs++;
				}
		drive_unload(&l);
	}
	print_message("cut runs: %u\n", runs);
}

/* Hostile peers in memory: 1 MiB of garbage, NUL floods, endless lines, absurd lengths. */
static void test_hostile(void **unused)
{
	const struct probe_ops *ops[] = {&probe_ssh, &probe_telnet, &probe_rdp, &probe_vnc};
	size_t big = 1 << 20;
	uint8_t *g = malloc(big);
	uint32_t x = 12345;

	(void)unused;
	assert_non_null(g);
	for (size_t i = 0; i < big; i++) {
		x = x * 1103515245u + 12345u;
		g[i] = (uint8_t)(x >> 16);
	}
	struct {
		const char *name;
		size_t off, len;
		uint8_t fill; /* 0 = random */
	} inputs[] = {
	    {"random 1 MiB", 0, 1 << 20, 0}, {"NUL 64 KiB", 0, 65536, 0x00},
	    {"0xff 64 KiB", 0, 65536, 0xff}, {"lines 64 KiB", 0, 65536, '\n'},
	    {"escapes", 0, 65536, 0x1b},
	};
	for (size_t in = 0; in < sizeof(inputs) / sizeof(inputs[0]); in++) {
		uint8_t *b = g;

		if (inputs[in].fill || in > 0) {
			b = malloc(inputs[in].len);
			assert_non_null(b);
			memset(b, inputs[in].fill, inputs[in].len);
		}
		for (size_t p = 0; p < sizeof(ops) / sizeof(ops[0]); p++) {
			struct sim_conn conns[3] = {
			    {b, inputs[in].len}, {b, inputs[in].len}, {b, inputs[in].len}};
			static const size_t chunks[] = {0, 1460};
			for (size_t k = 0; k < 2; k++) {
				struct sim_opts o = {.chunk = chunks[k],
				                     .cut_at = SIZE_MAX,
				                     .tail_why = PROBE_END_CLOSED};
				struct probe_result r;
				struct drive_stats st;
				int rc = sim_run(ops[p], conns, 3, &o, &r, &st);

				if (rc < 0)
					fail_msg("%s on %s: %s %s", ops[p]->name, inputs[in].name,
					         err_name(rc), drive_error);
				if (r.state == SERVICE_IDENTIFIED)
					fail_msg("%s on %s: identified garbage", ops[p]->name,
					         inputs[in].name);
				if (r.details && !drive_details_clean(r.details))
					fail_msg("%s on %s: unclean details", ops[p]->name,
					         inputs[in].name);
				probe_result_done(&r);
			}
		}
		if (b != g)
			free(b);
	}
	free(g);
}

/* Banners full of escapes, HTML and invalid UTF-8 must come out as printable ASCII. */
static void test_hostile_banners(void **unused)
{
	static const char ssh[] = "\x1b]0;owned\x07<script>alert(1)</script>\r\n"
	                          "SSH-2.0-Evil\x1b[2J\xc3\x28\xff <b>x</b>\r\n";
	static const char tel[] = "\xff\xfd\x18\x1b[31m<script>x</script>\x00\xc3\x28\r\nlogin: ";
	static const char vnc[] = "RFB 003.008\n\x00\x00\x00\x00\x20\x1b[2J<script>\x00\xc3\x28"
	                          "\xff\xfe\x07\x08xxxxxxxxxxxxxx";
	struct {
		const struct probe_ops *ops;
		const char *b;
		size_t n;
	} in[] = {
	    {&probe_ssh, ssh, sizeof(ssh) - 1},
	    {&probe_telnet, tel, sizeof(tel) - 1},
	    {&probe_vnc, vnc, sizeof(vnc) - 1},
	};

	(void)unused;
	for (size_t i = 0; i < sizeof(in) / sizeof(in[0]); i++) {
		struct sim_conn c = {(const uint8_t *)in[i].b, in[i].n};
		struct sim_opts o = {.cut_at = SIZE_MAX, .tail_why = PROBE_END_CLOSED};
		struct probe_result r;
		struct drive_stats st;
		char *d;

		assert_int_equal(sim_run(in[i].ops, &c, 1, &o, &r, &st), 0);
		assert_int_equal(r.state, SERVICE_IDENTIFIED);
		assert_non_null(r.details);
		assert_true(drive_details_clean(r.details));
		d = json_dumps(r.details, JSON_COMPACT);
		assert_non_null(d);
		assert_null(strchr(d, 0x1b));
		assert_non_null(
		    strstr(d, "<script>")); /* kept as text: escaping is the renderer's */
		free(d);
		probe_result_done(&r);
	}
}

/* The registry knows the four probes, with sane limits. */
static void test_registry(void **unused)
{
	const char *names[] = {"ssh", "telnet", "rdp", "vnc"};

	(void)unused;
	for (size_t i = 0; i < 4; i++) {
		const struct probe_ops *o = probe_by_name(names[i]);

		assert_non_null(o);
		assert_string_equal(o->name, names[i]);
		assert_true(o->max_conns >= 1 && o->idle_ms > 0 && o->total_ms >= o->idle_ms);
		assert_true(o->max_rx > 0 && o->max_rx <= 65536);
	}
	assert_int_equal(probe_by_name("rdp")->max_conns, 3);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_registry),        cmocka_unit_test(test_exact),
	    cmocka_unit_test(test_hostile_banners), cmocka_unit_test(test_hostile),
	    cmocka_unit_test(test_cut_everywhere),
	};

	if (argc > 1)
		data_dir = argv[1];
	return cmocka_run_group_tests(tests, NULL, NULL);
}
