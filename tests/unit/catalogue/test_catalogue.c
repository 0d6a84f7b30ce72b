/* SPDX-License-Identifier: MIT */
/* The catalogue of checks and --port overrides (catalogue/catalogue.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "catalogue/catalogue.h"
#include "core/err.h"
#include "probes/probe.h"

#include <string.h>

struct expected_check {
	const char *name, *exposed;
	uint16_t first, last;
	enum severity sev;
	bool headline;
	const char *title; /* with its ports, as reports show it */
	size_t n_findings; /* exposed included, and those of the check it runs */
};

/*
 * The default catalogue of issue 2, in display order; severities as docs/json.md gives them.
 * Written here, independently of the table, so that a lost or reordered entry fails.
 */
static const struct expected_check expected[] = {
    {"ssh", "ssh-exposed", 22, 22, SEVERITY_MEDIUM, false, "SSH (22)", 4},
    {"telnet", "telnet-exposed", 23, 23, SEVERITY_HIGH, false, "Telnet (23)", 2},
    {"netbios", "netbios-exposed", 139, 139, SEVERITY_HIGH, true, "NetBIOS (139)", 5},
    {"smb", "smb-exposed", 445, 445, SEVERITY_HIGH, true, "SMB (445)", 5},
    {"rdp", "rdp-exposed", 3389, 3389, SEVERITY_HIGH, false, "RDP (3389)", 3},
    {"vnc", "vnc-exposed", 5900, 5900, SEVERITY_HIGH, false, "VNC (5900)", 3},
    {"skysea", "skysea-port-exposed", 52300, 52315, SEVERITY_MEDIUM, false, "SKYSEA (52300-52315)",
     1},
};

#define N_EXPECTED (sizeof(expected) / sizeof(expected[0]))

/* The checks of issue 2 are there, in this relative order, with these values. */
static void test_catalogue_expected(void **state)
{
	size_t n, prev = 0;

	(void)state;
	catalogue_checks(&n);
	assert_true(n >= N_EXPECTED);
	for (size_t i = 0; i < N_EXPECTED; i++) {
		const struct check_def *c = catalogue_find(expected[i].name);
		char title[64];
		size_t k = 0;
		struct finding_def f;

		if (c == NULL)
			fail_msg("check %s is missing", expected[i].name);
		if (i > 0 && catalogue_rank(c->name) <= prev)
			fail_msg("check %s is out of display order", c->name);
		prev = catalogue_rank(c->name);
		assert_int_equal(c->headline, expected[i].headline);
		assert_int_equal(catalogue_headline(c->name), expected[i].headline);
		catalogue_title(c->name, title, sizeof(title));
		assert_string_equal(title, expected[i].title);
		while (check_finding(c, k, &f))
			k++;
		assert_int_equal(k, expected[i].n_findings);
		assert_string_equal(c->exposed_id, expected[i].exposed);
		assert_int_equal(check_ports_ranges(c->ports), 1);
		assert_int_equal(c->ports.r[0].first, expected[i].first);
		assert_int_equal(c->ports.r[0].last, expected[i].last);
		assert_int_equal(c->transport, TRANSPORT_TCP);
		assert_true(c->profile_2017); /* the seven doors of 2017 */
		assert_int_equal(c->exposed_severity, expected[i].sev);
	}
}

/* What every entry must hold, those added after issue 2 included. */
static void test_catalogue_contents(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);

	(void)state;
	assert_true(n >= 1 && n <= CATALOGUE_MAX_CHECKS);
	for (size_t i = 0; i < n; i++) {
		size_t k = 0;
		struct finding_def f;

		assert_int_equal(catalogue_rank(c[i].name), i);
		while (check_finding(&c[i], k, &f)) {
			assert_true(catalogue_raises(f.id));
			k++;
		}
		assert_non_null(c[i].title);
		size_t nr = check_ports_ranges(c[i].ports);
		assert_true(nr >= 1 && nr <= CHECK_MAX_RANGES);
		for (size_t r = 0; r < nr; r++) {
			struct port_range pr = c[i].ports.r[r];

			assert_true(pr.first >= 1 && pr.first <= pr.last);
			for (size_t q = 0; q < r; q++) /* no port twice */
				assert_false(pr.first <= c[i].ports.r[q].last &&
				             pr.last >= c[i].ports.r[q].first);
			/* Never the printer ports (PROTOCOLS.md §0.1). */
			assert_false(pr.first <= 9107 && pr.last >= 9100);
		}
		for (size_t r = nr; r < CHECK_MAX_RANGES; r++)
			assert_int_equal(c[i].ports.r[r].first, 0);
		for (size_t j = 0; j < i; j++)
			assert_string_not_equal(c[i].name, c[j].name);
		assert_true(check_ports_count(c[i].ports) >= 1);
		assert_true(check_ports_count(c[i].ports) <= CHECK_MAX_PORTS);
		assert_true(c[i].transport == TRANSPORT_TCP || c[i].transport == TRANSPORT_UDP);
		assert_true(strlen(c[i].exposed_id) < FINDING_ID_MAX);
		assert_non_null(c[i].probe);
		assert_non_null(c[i].label_en);
		assert_non_null(c[i].label_ja);
		assert_true(strlen(c[i].open_en) > 10);
		assert_true(strlen(c[i].open_ja) > 10);
		assert_ptr_equal(catalogue_find(c[i].name), &c[i]);
	}
	assert_null(catalogue_find("http"));
	assert_null(catalogue_find(""));
	assert_null(catalogue_find("SSH"));
	assert_null(catalogue_find(NULL));
	assert_int_equal(catalogue_rank("http"), n);
	assert_false(catalogue_headline("http"));
}

static bool id_syntax(const char *id)
{
	if (id[0] == '\0' || id[0] == '-' || strlen(id) >= FINDING_ID_MAX)
		return false;
	for (const char *p = id; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		      (*p == '-' && p[1] != '-' && p[1] != '\0')))
			return false;
	return true;
}

/* Every id is listed directly by one check only; the netbios check raises SMB's through "runs". */
static void test_catalogue_findings(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);
	struct finding_def f;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < CHECK_MAX_FINDINGS && c[i].findings[k].id; k++) {
			const char *id = c[i].findings[k].id;

			if (!id_syntax(id))
				fail_msg("%s: '%s' is not a finding id", c[i].name, id);
			assert_string_not_equal(id, c[i].exposed_id);
			assert_string_not_equal(id, CATALOGUE_UNDECIDED_ADVICE);
			assert_true(c[i].findings[k].severity < SEVERITY_X_MAX);
			for (size_t j = 0; j < n; j++) {
				assert_string_not_equal(id, c[j].exposed_id);
				for (size_t m = 0; m < CHECK_MAX_FINDINGS && c[j].findings[m].id;
				     m++)
					if ((j != i || m != k) &&
					    strcmp(c[j].findings[m].id, id) == 0)
						fail_msg("%s listed by %s and %s", id, c[i].name,
						         c[j].name);
			}
		}
		if (c[i].runs) {
			assert_non_null(catalogue_find(c[i].runs));
			assert_string_not_equal(c[i].runs, c[i].name);
		}
		assert_true(id_syntax(c[i].exposed_id));
	}
	/* The netbios check: its door, then SMB's protocol findings, worst first, not SMB's door.
	 */
	c = catalogue_find("netbios");
	assert_true(check_finding(c, 0, &f));
	assert_string_equal(f.id, "netbios-exposed");
	assert_int_equal(f.severity, SEVERITY_HIGH);
	assert_true(check_finding(c, 1, &f));
	assert_string_equal(f.id, "doublepulsar-implant");
	assert_int_equal(f.severity, SEVERITY_CRITICAL);
	assert_true(check_finding(c, 4, &f));
	assert_string_equal(f.id, "smb-signing-not-required");
	assert_int_equal(f.severity, SEVERITY_MEDIUM);
	assert_false(check_finding(c, 5, &f));
	c = catalogue_find("ssh");
	assert_true(check_finding(c, 2, &f));
	assert_string_equal(f.id, "ssh-weak-algorithms");
	assert_true(catalogue_raises("vnc-no-auth"));
	assert_true(catalogue_raises("ms17-010-vulnerable"));
	assert_false(catalogue_raises(CATALOGUE_UNDECIDED_ADVICE));
	assert_false(catalogue_raises("vnc"));
	assert_false(catalogue_raises(NULL));
}

/* The 2017 headline and the lists derived from the table, truncation included. */
/* The names joined, computed here independently of catalogue_names(). */
static size_t names_joined(char *buf, size_t n, const char *sep)
{
	size_t count, len = 0;
	const struct check_def *c = catalogue_checks(&count);

	buf[0] = '\0';
	for (size_t i = 0; i < count; i++) {
		len += strlen(i ? sep : "") + strlen(c[i].name);
		snprintf(buf + strlen(buf), n - strlen(buf), "%s%s", i ? sep : "", c[i].name);
	}
	return len;
}

/* The 2017 headline and the lists derived from the table, truncation included. */
static void test_catalogue_derived_text(void **state)
{
	char buf[512], want[512];
	size_t len;

	(void)state;
	assert_int_equal(catalogue_headline_ports(buf, sizeof(buf), " or "), 10);
	assert_string_equal(buf, "139 or 445");
	catalogue_headline_ports(buf, sizeof(buf), "-or-");
	assert_string_equal(buf, "139-or-445");
	assert_int_equal(catalogue_headline_ports(buf, 5, " or "), 10);
	assert_string_equal(buf, "139 ");
	len = names_joined(want, sizeof(want), " ");
	assert_int_equal(catalogue_names(buf, sizeof(buf), " "), len);
	assert_string_equal(buf, want);
	for (size_t i = 0; i < N_EXPECTED; i++)
		assert_non_null(strstr(buf, expected[i].name));
	assert_int_equal(strncmp(buf, "ssh telnet ", 11), 0);
	len = names_joined(want, sizeof(want), ", ");
	assert_int_equal(catalogue_names(buf, 4, ", "), len);
	assert_string_equal(buf, "ssh");
	catalogue_title("no-such-check", buf, sizeof(buf));
	assert_string_equal(buf, "no-such-check");
	catalogue_title("skysea", buf, 8);
	assert_string_equal(buf, "SKYSEA ");
}

static void test_catalogue_ports_default(void **state)
{
	struct port_overrides o = {0};
	struct check_ports p;

	(void)state;
	p = catalogue_ports(NULL, catalogue_rank("smb"));
	assert_int_equal(p.r[0].first, 445);
	assert_int_equal(p.r[0].last, 445);
	assert_int_equal(check_ports_count(p), 1);
	p = catalogue_ports(&o, catalogue_rank("skysea"));
	assert_int_equal(p.r[0].first, 52300);
	assert_int_equal(p.r[0].last, 52315);
	assert_int_equal(check_ports_count(p), 16);
	assert_int_equal(check_ports_nth(p, 15), 52315);
	assert_int_equal(check_ports_nth(p, 16), 0);
}

/* A list of ranges: count, order, index, text. */
static void test_ports_list(void **state)
{
	struct check_ports p = PORTS({5000, 5001}, {8080, 8080}, {443, 443});
	char buf[CHECK_PORTS_TEXT_MAX];

	(void)state;
	assert_int_equal(check_ports_ranges(p), 3);
	assert_int_equal(check_ports_count(p), 4);
	assert_int_equal(check_ports_nth(p, 0), 5000);
	assert_int_equal(check_ports_nth(p, 1), 5001);
	assert_int_equal(check_ports_nth(p, 2), 8080);
	assert_int_equal(check_ports_nth(p, 3), 443);
	assert_int_equal(check_ports_nth(p, 4), 0);
	assert_int_equal(check_ports_index(p, 443), 3);
	assert_int_equal(check_ports_index(p, 5001), 1);
	assert_int_equal(check_ports_index(p, 444), 4);
	assert_int_equal(check_ports_text(p, buf, sizeof(buf)), strlen("5000-5001,8080,443"));
	assert_string_equal(buf, "5000-5001,8080,443");
	assert_int_equal(check_ports_text(p, buf, 6), strlen("5000-5001,8080,443"));
	assert_string_equal(buf, "5000-");
	p = (struct check_ports)PORTS({65535, 65535}, {1, 1}, {20000, 20013}, {30000, 30000});
	assert_int_equal(check_ports_count(p), 17);
	assert_true(check_ports_text(p, buf, sizeof(buf)) < sizeof(buf));
	assert_string_equal(buf, "65535,1,20000-20013,30000");
	p = (struct check_ports){0};
	assert_int_equal(check_ports_count(p), 0);
	check_ports_text(p, buf, sizeof(buf));
	assert_string_equal(buf, "");
	assert_string_equal(transport_name(TRANSPORT_TCP), "tcp");
	assert_string_equal(transport_name(TRANSPORT_UDP), "udp");
	assert_string_equal(transport_name(TRANSPORT_X_MAX), "unknown");
}

/* Profiles and check lists (catalogue_select). */
static void test_select(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);
	uint32_t s = 0, p2017 = catalogue_profile_2017();
	char err[512];

	(void)state;
	assert_int_equal(checks_count(catalogue_all()), n);
	assert_int_equal(checks_count(p2017), N_EXPECTED);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(checks_has(p2017, i), c[i].profile_2017);
	assert_false(checks_has(catalogue_all(), n));
	assert_int_equal(catalogue_select(NULL, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s, p2017);
	assert_int_equal(catalogue_select("2017", NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s, p2017);
	assert_int_equal(catalogue_select("extended", NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s, catalogue_all());
	assert_int_equal(catalogue_select(NULL, "skysea,ssh", &s, err, sizeof(err)), 0);
	assert_int_equal(s, (UINT32_C(1) << catalogue_rank("ssh")) |
	                        (UINT32_C(1) << catalogue_rank("skysea")));
	s = 7;
	assert_int_equal(catalogue_select("2018", NULL, &s, err, sizeof(err)), -ERR_UNSUPPORTED);
	assert_string_equal(err, "--profile is 2017 or extended, not '2018'");
	assert_int_equal(catalogue_select(NULL, "ssh,nope", &s, err, sizeof(err)),
	                 -ERR_UNSUPPORTED);
	assert_non_null(strstr(err, "'nope' is not a check ("));
	assert_int_equal(catalogue_select(NULL, "ssh,,smb", &s, err, sizeof(err)),
	                 -ERR_UNSUPPORTED);
	assert_int_equal(catalogue_select(NULL, "", &s, err, sizeof(err)), -ERR_UNSUPPORTED);
	assert_int_equal(catalogue_select(NULL, "ssh,", &s, err, sizeof(err)), -ERR_UNSUPPORTED);
	assert_int_equal(catalogue_select(NULL, "ssh,ssh", &s, err, sizeof(err)), -ERR_SYNTAX);
	assert_string_equal(err, "--checks: ssh is named twice");
	assert_int_equal(s, 7); /* untouched on failure */
}

static void override_ok(struct port_overrides *o, const char *text, const char *check,
                        uint16_t first, uint16_t last)
{
	char err[256] = "";
	int r = port_override_parse(o, text, err, sizeof(err));

	if (r != 0)
		fail_msg("'%s' refused (%d): %s", text, r, err);
	struct check_ports p = catalogue_ports(o, catalogue_rank(check));
	assert_int_equal(check_ports_ranges(p), 1);
	assert_int_equal(p.r[0].first, first);
	assert_int_equal(p.r[0].last, last);
}

static void override_bad(const char *text, int want)
{
	struct port_overrides o = {0}, zero = {0};
	char err[256] = "";
	int r = port_override_parse(&o, text, err, sizeof(err));

	if (r != want)
		fail_msg("'%s': got %d, expected %d (%s)", text, r, want, err);
	assert_true(strlen(err) > 0);
	assert_null(strchr(err, '\n'));
	assert_memory_equal(&o, &zero, sizeof(o)); /* nothing half-set */
}

static void test_override_good(void **state)
{
	struct port_overrides o = {0};
	size_t n;

	(void)state;
	override_ok(&o, "smb=10445", "smb", 10445, 10445);
	override_ok(&o, "ssh=1", "ssh", 1, 1);
	override_ok(&o, "ssh=65535", "ssh", 65535, 65535);
	override_ok(&o, "skysea=20000-20015", "skysea", 20000, 20015); /* 16 ports: the maximum */
	override_ok(&o, "vnc=15900-15900", "vnc", 15900, 15900);
	override_ok(&o, "smb=10446", "smb", 10446, 10446); /* the last one wins */
	/* Others untouched. */
	struct check_ports p = catalogue_ports(&o, catalogue_rank("rdp"));
	assert_int_equal(p.r[0].first, 3389);
	/* A list replaces the whole list, in its order. */
	assert_int_equal(port_override_parse(&o, "smb=2049,111,20000-20013", NULL, 0), 0);
	p = catalogue_ports(&o, catalogue_rank("smb"));
	assert_int_equal(check_ports_ranges(p), 3);
	assert_int_equal(check_ports_count(p), 16);
	assert_int_equal(check_ports_nth(p, 0), 2049);
	assert_int_equal(check_ports_nth(p, 1), 111);
	assert_int_equal(check_ports_nth(p, 15), 20013);
	assert_false(o.set[catalogue_rank("rdp")]);
	/* An unknown name ranks after every check. */
	catalogue_checks(&n);
	assert_int_equal(n, catalogue_rank("no-such-check"));
}

static void test_override_bad(void **state)
{
	(void)state;
	override_bad("smb=70000", -ERR_RANGE);
	override_bad("smb=65536", -ERR_RANGE);
	override_bad("smb=0", -ERR_RANGE);
	override_bad("smb=99999999999999999999", -ERR_RANGE);
	override_bad("nope=1", -ERR_UNSUPPORTED);
	override_bad("SMB=445", -ERR_UNSUPPORTED);
	override_bad("smb", -ERR_SYNTAX);
	override_bad("=445", -ERR_SYNTAX);
	override_bad("smb=", -ERR_SYNTAX);
	override_bad("smb=abc", -ERR_SYNTAX);
	override_bad("smb=22x", -ERR_SYNTAX);
	override_bad("smb= 22", -ERR_SYNTAX);
	override_bad("smb=-1", -ERR_SYNTAX);
	override_bad("smb=1-", -ERR_SYNTAX);
	override_bad("smb=1-2-3", -ERR_SYNTAX);
	override_bad("smb=10-5", -ERR_RANGE);
	override_bad("skysea=20000-20016", -ERR_RANGE); /* 17 ports */
	override_bad("smb=1-65536", -ERR_RANGE);
	override_bad("smb=1,", -ERR_SYNTAX);
	override_bad("smb=,1", -ERR_SYNTAX);
	override_bad("smb=1,,2", -ERR_SYNTAX);
	override_bad("smb=1,2,3,4,5", -ERR_RANGE);     /* five ranges */
	override_bad("smb=1,20000-20015", -ERR_RANGE); /* 17 ports */
	override_bad("smb=445,440-450", -ERR_RANGE);   /* a port twice */
	override_bad("smb=445,445", -ERR_RANGE);
	override_bad("smb=1,0", -ERR_RANGE);
	override_bad("averyveryveryveryveryverylongcheckname=1", -ERR_SYNTAX);
}

/* Every check has its probe module registered under the catalogue's name for it. */
static void test_probe_registry(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);

	(void)state;
	assert_null(probe_by_name("no-such-probe"));
	for (size_t i = 0; i < n; i++) {
		const struct probe_ops *p = probe_by_name(c[i].probe);

		if (p == NULL)
			fail_msg("check %s: no probe '%s' registered", c[i].name, c[i].probe);
		assert_string_equal(p->name, c[i].probe);
		/* A UDP check's probe speaks datagrams, a TCP check's a stream. */
		assert_int_equal(p->datagram, c[i].transport == TRANSPORT_UDP);
		assert_true(p->max_conns >= 1);
		assert_true(p->total_ms > 0);
		assert_true(p->idle_ms > 0 && p->idle_ms <= p->total_ms);
		assert_true(p->max_rx > 0);
		assert_non_null(p->start);
		assert_non_null(p->feed);
	}
}

/* The unknown-check message lists the catalogue's names (cli tests check the same line). */
static void test_override_unknown_message(void **state)
{
	struct port_overrides o = {0};
	char err[512] = "", names[400], want[512];

	(void)state;
	names_joined(names, sizeof(names), " ");
	snprintf(want, sizeof(want), "--port: unknown check 'nope' (%s)", names);
	assert_int_equal(port_override_parse(&o, "nope=1", err, sizeof(err)), -ERR_UNSUPPORTED);
	assert_string_equal(err, want);
	/* The message of issue 2, as the command line has always printed it: the checks of issue 2
	 * named as words, in their relative order (a check added to the catalogue may come
	 * between). */
	const char *at = strchr(err, '(');
	for (size_t i = 0; i < N_EXPECTED && at != NULL; i++) {
		size_t len = strlen(expected[i].name);

		do
			at = strstr(at + 1, expected[i].name);
		while (at &&
		       !((at[-1] == ' ' || at[-1] == '(') && (at[len] == ' ' || at[len] == ')')));
		if (at == NULL)
			fail_msg("'%s' does not name %s in its place", err, expected[i].name);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue_expected),
	    cmocka_unit_test(test_catalogue_contents),
	    cmocka_unit_test(test_catalogue_findings),
	    cmocka_unit_test(test_catalogue_derived_text),
	    cmocka_unit_test(test_catalogue_ports_default),
	    cmocka_unit_test(test_ports_list),
	    cmocka_unit_test(test_select),
	    cmocka_unit_test(test_override_good),
	    cmocka_unit_test(test_override_bad),
	    cmocka_unit_test(test_probe_registry),
	    cmocka_unit_test(test_override_unknown_message),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
