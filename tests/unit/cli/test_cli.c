/* SPDX-License-Identifier: MIT */
/* CLI pieces in-process: options, config files, target parsing and policy, the sanitiser. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cli/cli.h"
#include "core/err.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ARGV(...) ((char *[]){"check", __VA_ARGS__, NULL})

static int parse(char **argv, int argc, struct check_config *cfg, char *err)
{
	return check_options_parse(argc, argv, cfg, err, CLI_ERR_MAX);
}

static void test_options_good(void **state)
{
	struct check_config cfg;
	char err[CLI_ERR_MAX];
	char **v = ARGV("--json", "--allow", "198.18.0.0/15", "--allow=2001:db8::/32", "--port",
	                "smb=10445", "--timeout", "250", "--explain", "--no-color",
	                "--max-inflight", "64", "127.0.0.1", "::1");

	(void)state;
	assert_int_equal(parse(v, 15, &cfg, err), 0);
	assert_true(cfg.json && cfg.explain && cfg.no_color && !cfg.help);
	assert_int_equal(cfg.policy.n_allow, 2);
	assert_int_equal(cfg.timeout_ms, 250);
	assert_int_equal(cfg.max_inflight, 64);
	assert_true(cfg.ports.set[catalogue_rank("smb")]);
	assert_int_equal(cfg.ports.ports[catalogue_rank("smb")].r[0].first, 10445);
	assert_int_equal(cfg.checks, 0); /* the default: the profile 2017 */
	assert_int_equal(cfg.n_targets, 2);
	assert_string_equal(cfg.targets[0], "127.0.0.1");
	assert_string_equal(cfg.targets[1], "::1");

	/* Options after targets work too (GNU order). */
	char **w = ARGV("127.0.0.1", "--json");
	assert_int_equal(parse(w, 3, &cfg, err), 0);
	assert_true(cfg.json);
	assert_int_equal(cfg.n_targets, 1);

	char **h = ARGV("--help");
	assert_int_equal(parse(h, 2, &cfg, err), 0);
	assert_true(cfg.help);

	char **pr = ARGV("--probers", "3", "127.0.0.0/24");
	assert_int_equal(parse(pr, 4, &cfg, err), 0);
	assert_int_equal(cfg.probers, 3);
	assert_int_equal(parse(w, 3, &cfg, err), 0);
	assert_int_equal(cfg.probers, 0); /* the default: chosen from the CPUs and the addresses */

	/* --list needs no target; --port still applies to what it shows. */
	char **l = ARGV("--list", "--json", "--port", "ssh=10022");
	assert_int_equal(parse(l, 5, &cfg, err), 0);
	assert_true(cfg.list && cfg.json);
	assert_int_equal(cfg.n_targets, 0);
	assert_true(cfg.ports.set[catalogue_rank("ssh")]);
}

static void bad_options(char **argv, int argc, const char *msg_part)
{
	struct check_config cfg;
	char err[CLI_ERR_MAX];
	int r = parse(argv, argc, &cfg, err);

	if (r >= 0)
		fail_msg("accepted, expected an error naming '%s'", msg_part);
	if (strstr(err, msg_part) == NULL)
		fail_msg("message '%s' lacks '%s'", err, msg_part);
	assert_null(strchr(err, '\n'));
}

static void test_options_bad(void **state)
{
	(void)state;
	bad_options(ARGV("--bogus", "127.0.0.1"), 3, "--bogus");
	bad_options(ARGV("-x", "127.0.0.1"), 3, "-x");
	bad_options(ARGV("--json"), 2, "no target");
	bad_options(ARGV("--list", "127.0.0.1"), 3, "--list takes no TARGET");
	bad_options(ARGV("127.0.0.1", "--timeout"), 3, "needs a value");
	bad_options(ARGV("--timeout", "0", "127.0.0.1"), 4, "from 1 to 60000");
	bad_options(ARGV("--timeout", "60001", "127.0.0.1"), 4, "from 1 to 60000");
	bad_options(ARGV("--timeout", "12ms", "127.0.0.1"), 4, "12ms");
	bad_options(ARGV("--timeout", "-5", "127.0.0.1"), 4, "-5");
	bad_options(ARGV("--max-inflight", "0", "127.0.0.1"), 4, "--max-inflight");
	bad_options(ARGV("--max-inflight", "65537", "127.0.0.1"), 4, "--max-inflight");
	bad_options(ARGV("--probers", "0", "127.0.0.1"), 4, "--probers wants a number in 1..64");
	bad_options(ARGV("--probers", "65", "127.0.0.1"), 4, "not \"65\"");
	bad_options(ARGV("--probers", "2", "--no-sandbox", "127.0.0.1"), 5, "--no-sandbox");
	bad_options(ARGV("--probers", "8", "--max-inflight", "4", "127.0.0.1"), 6,
	            "--probers 8 is more than --max-inflight 4");
	bad_options(ARGV("--allow", "10.0.0.1/8", "127.0.0.1"), 4, "not a CIDR block");
	bad_options(ARGV("--allow", "banana", "127.0.0.1"), 4, "banana");
	bad_options(ARGV("--port", "smb=70000", "127.0.0.1"), 4, "1 to 65535");
	bad_options(ARGV("--port", "nope=1", "127.0.0.1"), 4, "unknown check 'nope'");
	bad_options(ARGV("--port", "smb", "127.0.0.1"), 4, "CHECK=PORT");
	bad_options(ARGV("--json=yes", "127.0.0.1"), 3, "--json=yes");
	bad_options(ARGV("--config", "/nonexistent/exposure.conf", "127.0.0.1"), 4,
	            "/nonexistent/exposure.conf");
}

static char *write_config(const char *text)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof(path), "/tmp/exposure-cli-test-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_config_good(void **state)
{
	struct check_config cfg;
	char err[CLI_ERR_MAX];
	char *path = write_config("# lab settings\n"
	                          "\n"
	                          "allow 198.18.0.0/24\n"
	                          "  allow\t2001:db8::/64   \n"
	                          "port ssh=10022\r\n"
	                          "port skysea=20000-20015\n"
	                          "timeout 300\n"
	                          "   # indented comment\n"
	                          "timeout 400"); /* no final newline */
	char *v[] = {"check", "--config", path, "--timeout", "500", "127.0.0.1", NULL};

	(void)state;
	assert_int_equal(parse(v, 6, &cfg, err), 0);
	assert_int_equal(cfg.policy.n_allow, 2);
	assert_true(cfg.ports.set[catalogue_rank("ssh")]);
	assert_int_equal(cfg.ports.ports[catalogue_rank("ssh")].r[0].first, 10022);
	assert_int_equal(cfg.ports.ports[catalogue_rank("skysea")].r[0].last, 20015);
	assert_int_equal(cfg.timeout_ms, 500); /* later on the command line wins */
	char *v2[] = {"check", "--timeout", "500", "--config", path, "127.0.0.1", NULL};
	assert_int_equal(parse(v2, 6, &cfg, err), 0);
	assert_int_equal(cfg.timeout_ms, 400); /* ...and the other way round */
	unlink(path);
}

static void config_bad(const char *text, const char *msg_part)
{
	struct check_config cfg;
	char err[CLI_ERR_MAX];
	char *path = write_config(text);
	char *v[] = {"check", "--config", path, "127.0.0.1", NULL};

	if (parse(v, 4, &cfg, err) >= 0)
		fail_msg("config accepted, expected '%s'", msg_part);
	if (strstr(err, msg_part) == NULL || strstr(err, path) == NULL)
		fail_msg("message '%s' lacks '%s' or the path", err, msg_part);
	unlink(path);
}

static void test_config_bad(void **state)
{
	char big[CLI_CONFIG_LINE_MAX + 40];

	(void)state;
	config_bad("allow 198.18.0.0/24\nallow 198.18.0.1/24\n", ":2: '198.18.0.1/24'");
	config_bad("# c\n\nport smb=0\n", ":3: ");
	config_bad("timeout\n", ":1: 'timeout' needs a value");
	config_bad("timeout 70000\n", ":1: '70000'");
	config_bad("allow 127.0.0.1\ndeny 1.2.3.4\n", ":2: unknown setting 'deny'");
	config_bad("port nope=1\n", ":1: --port: unknown check");
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	config_bad(big, ":1: line longer than");
	/* A NUL byte in a line. */
	struct check_config cfg;
	char err[CLI_ERR_MAX];
	char *path = write_config("timeout 100\n");
	FILE *f = fopen(path, "ab");
	fwrite("allow 1\0x\n", 1, 10, f);
	fclose(f);
	char *v[] = {"check", "--config", path, "127.0.0.1", NULL};
	assert_true(parse(v, 4, &cfg, err) < 0);
	assert_non_null(strstr(err, ":2: NUL byte"));
	unlink(path);
}

static void classify(const char *arg, int want, const char *msg_part)
{
	struct cidr c;
	char err[CLI_ERR_MAX] = "";
	int r = target_classify(arg, &c, err, sizeof(err));

	if (r != want)
		fail_msg("'%s': got %d, expected %d (%s)", arg, r, want, err);
	if (msg_part && strstr(err, msg_part) == NULL)
		fail_msg("'%s': message '%s' lacks '%s'", arg, err, msg_part);
}

static void test_target_classify(void **state)
{
	(void)state;
	classify("127.0.0.1", TARGET_ADDR, NULL);
	classify("::1", TARGET_ADDR, NULL);
	classify("[::1]", TARGET_ADDR, NULL);
	classify("[2001:db8::2]", TARGET_ADDR, NULL);
	classify("::ffff:127.0.0.1", TARGET_ADDR, NULL);
	classify("198.18.0.0/16", TARGET_BLOCK, NULL);
	classify("2001:db8::/112", TARGET_BLOCK, NULL);
	classify("198.18.0.0/32", TARGET_BLOCK, NULL);
	classify("localhost", TARGET_NAME, NULL);
	classify("host-1.example.test.", TARGET_NAME, NULL);
	classify("_srv.example", TARGET_NAME, NULL);
	classify("198.18.0.0/15", -ERR_RANGE, "/16 for IPv4");
	classify("10.0.0.0/8", -ERR_RANGE, "too large");
	classify("2001:db8::/111", -ERR_RANGE, "/112 for IPv6");
	classify("198.18.0.1/24", -ERR_SYNTAX, "did you mean 198.18.0.0/24?");
	classify("2001:db8::1/112", -ERR_SYNTAX, "did you mean 2001:db8::/112?");
	classify("198.18.0.0/33", -ERR_RANGE, "prefix is too long");
	classify("198.18.0.0/x", -ERR_SYNTAX, "not a valid CIDR block");
	classify("banana/24", -ERR_SYNTAX, "not a valid CIDR block");
	classify("999.1.1.1", -ERR_SYNTAX, "not a valid IPv4 or IPv6 address");
	classify("1.2.3", -ERR_SYNTAX, "not a valid IPv4");
	classify("2130706433", -ERR_SYNTAX, "not a valid IPv4");
	classify("::g", -ERR_SYNTAX, "not a valid");
	classify("[::1", -ERR_SYNTAX, "not a valid");
	classify("bad_name!", -ERR_SYNTAX, "neither");
	classify("-leading.example", -ERR_SYNTAX, "neither");
	classify("trailing-.example", -ERR_SYNTAX, "neither");
	classify("a..b", -ERR_SYNTAX, "neither");
	classify("", -ERR_SYNTAX, "neither");
	classify("x\x1b[31m", -ERR_SYNTAX, "neither");
}

/* Resolve and police on a real loop, without network: literals, blocks, .invalid names. */
static int resolve(const char *const *args, size_t n, const char *allow, struct target_list *l,
                   char *err)
{
	uv_loop_t loop;
	struct policy p;
	struct cidr c;
	int r;

	policy_init(&p);
	if (allow) {
		assert_int_equal(cidr_parse(allow, &c), 0);
		policy_allow(&p, &c);
	}
	assert_int_equal(uv_loop_init(&loop), 0);
	r = targets_resolve(&loop, (char *const *)args, n, &p, l, err, CLI_ERR_MAX);
	assert_int_equal(uv_loop_close(&loop), 0);
	return r;
}

static void test_targets_resolve(void **state)
{
	struct target_list l;
	char err[CLI_ERR_MAX], text[ADDR_STRLEN];

	(void)state;
	const char *ok[] = {"127.0.0.1", "[::1]", "127.0.0.0/30"};
	assert_int_equal(resolve(ok, 3, NULL, &l, err), 0);
	assert_int_equal(l.n, 6);
	addr_format(&l.v[5].addr, text, sizeof(text));
	assert_string_equal(text, "127.0.0.3");
	assert_string_equal(l.v[5].name, "127.0.0.0/30");
	assert_string_equal(l.v[1].name, "[::1]");
	target_list_done(&l);

	/* One refused address anywhere refuses the run, naming the rule. */
	const char *mixed[] = {"127.0.0.1", "198.18.0.1"};
	assert_int_equal(resolve(mixed, 2, NULL, &l, err), -ERR_POLICY);
	assert_non_null(strstr(err, "198.18.0.1 refused"));
	assert_non_null(strstr(err, "--allow"));
	assert_int_equal(l.n, 0);
	assert_int_equal(resolve(mixed, 2, "198.18.0.0/24", &l, err), 0);
	assert_int_equal(l.n, 2);
	target_list_done(&l);

	/* A block that is allowed except for one always-refused address in it. */
	const char *v6[] = {"2001:db8::/120"};
	assert_int_equal(resolve(v6, 1, "2001:db8::/32", &l, err), 0);
	assert_int_equal(l.n, 256);
	target_list_done(&l);
	const char *edge[] = {"255.255.255.0/24"};
	assert_int_equal(resolve(edge, 1, "0.0.0.0/0", &l, err), -ERR_POLICY);
	assert_non_null(strstr(err, "refused"));
	assert_non_null(strstr(err, "reserved addresses are never probed"));

	const char *bcast[] = {"255.255.255.255"};
	assert_int_equal(resolve(bcast, 1, "0.0.0.0/0", &l, err), -ERR_POLICY);
	assert_non_null(strstr(err, "broadcast"));
	const char *mcast[] = {"ff02::1"};
	assert_int_equal(resolve(mcast, 1, "::/0", &l, err), -ERR_POLICY);
	assert_non_null(strstr(err, "multicast"));

	/* RFC 6761: .invalid never resolves, and no query is sent for it. */
	const char *inv[] = {"127.0.0.1", "nothing.invalid"};
	assert_int_equal(resolve(inv, 2, NULL, &l, err), -ERR_RESOLVE);
	assert_non_null(strstr(err, "nothing.invalid"));
	const char *inv2[] = {"INVALID."};
	assert_int_equal(resolve(inv2, 1, NULL, &l, err), -ERR_RESOLVE);

	/* localhost resolves from /etc/hosts; each address once; named after the name. */
	const char *lh[] = {"localhost", "x.localhost"};
	assert_int_equal(resolve(lh, 2, NULL, &l, err), 0);
	assert_true(l.n >= 2);
	assert_string_equal(l.v[0].name, "localhost");
	assert_string_equal(l.v[l.n - 1].name, "x.localhost");
	for (size_t k = 0; k < l.n; k++) {
		struct policy_decision d;
		struct policy p;
		policy_init(&p);
		assert_true(policy_check(&p, &l.v[k].addr, &d));
		assert_int_equal(d.rule, POLICY_ALLOWED_LOOPBACK);
		for (size_t j = k + 1; j < l.n; j++)
			if (strcmp(l.v[k].name, l.v[j].name) == 0)
				assert_false(addr_equal(&l.v[k].addr, &l.v[j].addr));
	}
	target_list_done(&l);

	/* Too many addresses in total. */
	const char *many[] = {"198.18.0.0/16", "198.19.0.0/16", "198.20.0.0/16", "198.21.0.0/16",
	                      "198.22.0.0/16"};
	assert_int_equal(resolve(many, 5, "0.0.0.0/0", &l, err), -ERR_RANGE);
	assert_non_null(strstr(err, "too many addresses"));
}

#define SANE(lit, want) sane(lit, sizeof(lit) - 1, want)

static void sane(const char *in, size_t len, const char *want)
{
	char out[256];

	sanitize_text(in, len, out, sizeof(out));
	if (strcmp(out, want) != 0)
		fail_msg("sanitised to '%s', expected '%s'", out, want);
}

static void test_sanitize(void **state)
{
	char out[16];

	(void)state;
	SANE("SSH-2.0-OpenSSH_9.2p1", "SSH-2.0-OpenSSH_9.2p1");
	SANE("\x1b[2J\x1b]0;pwned\x07", "\\x1b[2J\\x1b]0;pwned\\x07");
	SANE("a\r\nb\tc", "a\\x0d\\x0ab\\x09c");
	SANE("nul\0byte", "nul\\x00byte");
	SANE("del\x7f", "del\\x7f");
	SANE("back\\slash", "back\\\\slash");
	SANE("\xff\xfe", "\\xff\\xfe");
	SANE("\xc0\xaf", "\\xc0\\xaf");          /* overlong '/' */
	SANE("\xed\xa0\x80", "\\xed\\xa0\\x80"); /* surrogate */
	SANE("\xc2\x9b"
	     "31m",
	     "\\u009b31m"); /* C1 CSI */
	SANE("abc\xe2\x80\xae"
	     "cba",
	     "abc\\u202ecba"); /* RTL override */
	SANE("日本語", "日本語");
	SANE("<script>alert(1)</script>", "<script>alert(1)</script>"); /* text, not markup */
	SANE("\xe6\x97", "\\xe6\\x97");                                 /* truncated sequence */
	/* Cut to fit, with an ellipsis, never in the middle of an escape. */
	assert_int_equal(sanitize_text("0123456789abcdefghij", 20, out, sizeof(out)), 15);
	assert_string_equal(out, "0123456789ab...");
	sanitize_text("\x1b\x1b\x1b\x1b\x1b", 5, out, sizeof(out));
	assert_string_equal(out, "\\x1b\\x1b\\x1b...");
	assert_int_equal(sanitize_text("abc", 3, out, 1), 0);
	assert_string_equal(out, "");
	assert_int_equal(sanitize_text("0123456789abcde", 15, out, sizeof(out)), 15);
	assert_string_equal(out, "0123456789abcde"); /* exactly fits: no ellipsis */
}

/* What fn printed on a memory stream, NUL-terminated; free() it. */
#define CAPTURE(out, call)                                                                         \
	do {                                                                                       \
		size_t len_;                                                                       \
		FILE *f = open_memstream(&(out), &len_);                                           \
		assert_non_null(f);                                                                \
		call;                                                                              \
		assert_int_equal(fclose(f), 0);                                                    \
	} while (0)

static void wraps(const char *text, size_t width, const char *want)
{
	char *out;

	CAPTURE(out, text_wrap(f, text, width));
	assert_string_equal(out, want);
	free(out);
}

static void test_text_wrap(void **state)
{
	(void)state;
	wraps("", 10, "\n");
	wraps("one", 10, "one\n");
	wraps("aaa bbb ccc", 7, "aaa bbb\nccc\n");            /* exactly 7 columns fit */
	wraps("aaa bbb ccc", 6, "aaa\nbbb\nccc\n");           /* 7 do not */
	wraps("  aaa   bbb ", 80, "aaa bbb\n");               /* runs of spaces are one */
	wraps("a verylongword b", 4, "a\nverylongword\nb\n"); /* a long word stands alone */
	/* Columns are characters: "日本" is 2 columns of 6 bytes. */
	wraps("\xe6\x97\xa5\xe6\x9c\xac ab", 5, "\xe6\x97\xa5\xe6\x9c\xac ab\n");
	wraps("\xe6\x97\xa5\xe6\x9c\xac abc", 5, "\xe6\x97\xa5\xe6\x9c\xac\nabc\n");
}

/*
 * The usage texts' door lists name the checks of their set (all, the 2017 profile's, the rest),
 * in catalogue order, and nothing else.
 */
static void test_doors(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);
	struct sbuf names, titles, want_names, want_titles, d2017, beyond, want_2017, want_beyond;
	char ports[CHECK_PORTS_TEXT_MAX];

	(void)state;
	sbuf_init(&names, 4096);
	sbuf_init(&titles, 4096);
	sbuf_init(&want_names, 4096);
	sbuf_init(&want_titles, 4096);
	sbuf_init(&d2017, 4096);
	sbuf_init(&beyond, 4096);
	sbuf_init(&want_2017, 4096);
	sbuf_init(&want_beyond, 4096);
	checks_doors(&names, DOORS_NAME_PORTS, DOORS_ALL);
	checks_doors(&titles, DOORS_TITLES, DOORS_ALL);
	checks_doors(&d2017, DOORS_NAME_PORTS, DOORS_2017);
	checks_doors(&beyond, DOORS_NAME_PORTS, DOORS_BEYOND);
	for (size_t i = 0; i < n; i++) {
		struct sbuf *part = c[i].profile_2017 ? &want_2017 : &want_beyond;
		char one[160];

		check_ports_text(catalogue_ports(NULL, i), ports, sizeof(ports));
		snprintf(one, sizeof(one), "%s %s%s", c[i].name, ports,
		         c[i].transport == TRANSPORT_UDP ? "/udp" : "");
		sbuf_addf(&want_names, "%s%s", i ? ", " : "", one);
		sbuf_addf(part, "%s%s", part->len ? ", " : "", one);
		sbuf_addf(&want_titles, "%s%s", i ? ", " : "", c[i].title);
	}
	assert_int_equal(names.err, 0);
	assert_string_equal(sbuf_str(&names), sbuf_str(&want_names));
	assert_string_equal(sbuf_str(&titles), sbuf_str(&want_titles));
	assert_string_equal(sbuf_str(&d2017), sbuf_str(&want_2017));
	assert_string_equal(sbuf_str(&beyond), sbuf_str(&want_beyond));
	/* The default set is the seven doors of 2017, written as they always were. */
	assert_string_equal(sbuf_str(&d2017), "ssh 22, telnet 23, netbios 139, smb 445, rdp 3389, "
	                                      "vnc 5900, skysea 52300-52315");
	sbuf_free(&d2017);
	sbuf_free(&beyond);
	sbuf_free(&want_2017);
	sbuf_free(&want_beyond);
	/* The seven doors of issue 2 are among them, written as they always were. */
	assert_non_null(strstr(sbuf_str(&names), "smb 445"));
	assert_non_null(strstr(sbuf_str(&names), "skysea 52300-52315"));
	assert_non_null(strstr(sbuf_str(&titles), "NetBIOS, SMB"));
	sbuf_free(&names);
	sbuf_free(&titles);
	sbuf_free(&want_names);
	sbuf_free(&want_titles);

	/* check --help: the doors' paragraph, up to "reachable.", fits 80 columns; unwrapped, it
	 * names every check with its ports. */
	char *out, *line, *end;
	CAPTURE(out, check_usage(f));
	line = strstr(out, "Probe the dangerous doors of each TARGET");
	end = strstr(out, "\nTARGET: ");
	assert_non_null(line);
	assert_non_null(end);
	for (; line < end; line += strcspn(line, "\n") + 1)
		if (strcspn(line, "\n") > 80)
			fail_msg("check --help: a line of %zu columns", strcspn(line, "\n"));
	for (line = out; (line = strchr(line, '\n')) != NULL; line++)
		*line = ' '; /* unwrap */
	for (size_t i = 0; i < n; i++) {
		char want[64];

		check_ports_text(catalogue_ports(NULL, i), ports, sizeof(ports));
		snprintf(want, sizeof(want), "%s %s", c[i].name, ports);
		if (strstr(out, want) == NULL)
			fail_msg("check --help does not name '%s'", want);
	}
	free(out);
}

/*
 * --list: one line per check of the set (name, effective ports, label); --json: the same as a
 * document. Every check here (the profile extended); the default set is the profile 2017.
 */
static void test_list(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);
	struct port_overrides po = {0};
	char err[128], ports[CHECK_PORTS_TEXT_MAX + 4], *out, *line, *save = NULL;
	json_error_t je;
	json_t *doc, *checks;
	size_t k = 0;

	(void)state;
	assert_int_equal(port_override_parse(&po, "smb=10445", err, sizeof(err)), 0);
	CAPTURE(out, assert_int_equal(checks_list(f, &po, catalogue_all(), false), 0));
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save), k++) {
		char name[32], got_ports[64];

		assert_true(k < n);
		assert_int_equal(sscanf(line, "%31s %63s", name, got_ports), 2);
		size_t len = check_ports_text(catalogue_ports(&po, k), ports, sizeof(ports));
		if (c[k].transport == TRANSPORT_UDP)
			snprintf(ports + len, sizeof(ports) - len, "/udp");
		assert_string_equal(name, c[k].name);
		assert_string_equal(got_ports, ports);
		assert_non_null(strstr(line, c[k].label_en));
	}
	assert_int_equal(k, n);
	free(out);

	CAPTURE(out, assert_int_equal(checks_list(f, &po, catalogue_all(), true), 0));
	doc = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	if (doc == NULL)
		fail_msg("--list --json does not parse: %s", je.text);
	checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), n);
	for (k = 0; k < n; k++) {
		json_t *o = json_array_get(checks, k);
		struct check_ports p = catalogue_ports(&po, k);
		struct finding_def fd;
		size_t m;

		check_ports_text(p, ports, sizeof(ports));
		assert_string_equal(json_string_value(json_object_get(o, "check")), c[k].name);
		assert_string_equal(json_string_value(json_object_get(o, "ports")), ports);
		assert_int_equal(json_integer_value(json_object_get(o, "first_port")),
		                 p.r[0].first);
		assert_int_equal(json_integer_value(json_object_get(o, "last_port")), p.r[0].last);
		assert_string_equal(json_string_value(json_object_get(o, "transport")),
		                    transport_name(c[k].transport));
		json_t *ranges = json_object_get(o, "ranges");
		assert_int_equal(json_array_size(ranges), check_ports_ranges(p));
		for (m = 0; m < check_ports_ranges(p); m++) {
			json_t *r = json_array_get(ranges, m);

			assert_int_equal(json_integer_value(json_array_get(r, 0)), p.r[m].first);
			assert_int_equal(json_integer_value(json_array_get(r, 1)), p.r[m].last);
		}
		json_t *prof = json_object_get(o, "profiles");
		assert_int_equal(json_array_size(prof), c[k].profile_2017 ? 2 : 1);
		assert_string_equal(json_string_value(json_array_get(prof, c[k].profile_2017)),
		                    "extended");
		assert_string_equal(json_string_value(json_object_get(o, "title")), c[k].title);
		assert_string_equal(
		    json_string_value(json_object_get(json_object_get(o, "label"), "ja")),
		    c[k].label_ja);
		json_t *ids = json_object_get(o, "findings");
		for (m = 0; check_finding(&c[k], m, &fd); m++)
			assert_string_equal(json_string_value(json_array_get(ids, m)), fd.id);
		assert_int_equal(json_array_size(ids), m);
		ids = json_object_get(o, "questions");
		for (m = 0; check_question(&c[k], m, &fd); m++)
			assert_string_equal(json_string_value(json_array_get(ids, m)), fd.id);
		assert_int_equal(json_array_size(ids), m);
	}
	/* The override shows; what is not overridden keeps its default. */
	json_t *smb = json_array_get(checks, catalogue_rank("smb"));
	assert_int_equal(json_integer_value(json_object_get(smb, "first_port")), 10445);
	json_t *sky = json_array_get(checks, catalogue_rank("skysea"));
	assert_string_equal(json_string_value(json_object_get(sky, "ports")), "52300-52315");
	json_decref(doc);
	free(out);

	/* The default set: the profile 2017, the seven doors in their order. */
	CAPTURE(out, assert_int_equal(checks_list(f, NULL, 0, true), 0));
	doc = json_loads(out, JSON_REJECT_DUPLICATES, &je);
	assert_non_null(doc);
	checks = json_object_get(doc, "checks");
	assert_int_equal(json_array_size(checks), checks_count(catalogue_profile_2017()));
	k = 0;
	for (size_t i = 0; i < n; i++) {
		if (!c[i].profile_2017)
			continue;
		json_t *o = json_array_get(checks, k++);

		assert_string_equal(json_string_value(json_object_get(o, "check")), c[i].name);
	}
	json_decref(doc);
	free(out);
}

/* --profile, --checks and their config lines: the last one given wins. */
static void test_profile_options(void **state)
{
	struct check_config cfg;
	char err[CLI_ERR_MAX];
	char *a[] = {"check", "--profile", "extended", "127.0.0.1", NULL};
	char *b[] = {"check", "--profile", "extended", "--checks", "smb,ssh", "127.0.0.1", NULL};
	char *c[] = {"check", "--checks", "ssh", "--profile", "2017", "127.0.0.1", NULL};
	char *d[] = {"check", "--profile", "2016", "127.0.0.1", NULL};
	char *e[] = {"check", "--checks", "ssh,http", "127.0.0.1", NULL};
	char *g[] = {"check", "--checks", "127.0.0.1", NULL};

	(void)state;
	assert_int_equal(parse(a, 4, &cfg, err), 0);
	assert_int_equal(cfg.checks, catalogue_all());
	assert_int_equal(parse(b, 6, &cfg, err), 0);
	assert_int_equal(cfg.checks, (UINT32_C(1) << catalogue_rank("smb")) |
	                                 (UINT32_C(1) << catalogue_rank("ssh")));
	assert_int_equal(parse(c, 6, &cfg, err), 0);
	assert_int_equal(cfg.checks, catalogue_profile_2017());
	assert_true(parse(d, 4, &cfg, err) < 0);
	assert_string_equal(err, "--profile is 2017 or extended, not '2016'");
	assert_true(parse(e, 4, &cfg, err) < 0);
	assert_non_null(strstr(err, "--checks: 'http' is not a check ("));
	assert_true(parse(g, 3, &cfg, err) < 0); /* the target taken as a list */
	assert_non_null(strstr(err, "'127.0.0.1' is not a check"));

	char *path = write_config("profile extended\nchecks smb,rdp\n");
	char *h[] = {"check", "--config", path, "127.0.0.1", NULL};
	assert_int_equal(parse(h, 4, &cfg, err), 0);
	assert_int_equal(cfg.checks, (UINT32_C(1) << catalogue_rank("smb")) |
	                                 (UINT32_C(1) << catalogue_rank("rdp")));
	char *i[] = {"check", "--config", path, "--profile", "2017", "127.0.0.1", NULL};
	assert_int_equal(parse(i, 6, &cfg, err), 0);
	assert_int_equal(cfg.checks, catalogue_profile_2017());
	unlink(path);
	path = write_config("profile\tnewest\n"); /* the same static path: h[] names it */
	assert_true(parse(h, 4, &cfg, err) < 0);
	assert_non_null(strstr(err, ":1: --profile is 2017 or extended, not 'newest'"));
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_options_good),    cmocka_unit_test(test_options_bad),
	    cmocka_unit_test(test_config_good),     cmocka_unit_test(test_config_bad),
	    cmocka_unit_test(test_target_classify), cmocka_unit_test(test_targets_resolve),
	    cmocka_unit_test(test_sanitize),        cmocka_unit_test(test_text_wrap),
	    cmocka_unit_test(test_doors),           cmocka_unit_test(test_list),
	    cmocka_unit_test(test_profile_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
