/* SPDX-License-Identifier: MIT */
/* The catalogue of checks and --port overrides (diagnosis/catalogue.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "core/err.h"
#include "diagnosis/catalogue.h"
#include "probes/probe.h"

#include <string.h>

struct expected_check {
	const char *name, *exposed;
	uint16_t first, last;
	enum severity sev;
};

/* The default catalogue of issue 2, in display order; severities as protocols.md gives them. */
static const struct expected_check expected[] = {
    {"ssh", "ssh-exposed", 22, 22, SEVERITY_MEDIUM},
    {"telnet", "telnet-exposed", 23, 23, SEVERITY_HIGH},
    {"netbios", "netbios-exposed", 139, 139, SEVERITY_HIGH},
    {"smb", "smb-exposed", 445, 445, SEVERITY_HIGH},
    {"rdp", "rdp-exposed", 3389, 3389, SEVERITY_HIGH},
    {"vnc", "vnc-exposed", 5900, 5900, SEVERITY_HIGH},
    {"skysea", "skysea-port-exposed", 52300, 52315, SEVERITY_MEDIUM},
};

static void test_catalogue_contents(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);

	(void)state;
	assert_int_equal(n, sizeof(expected) / sizeof(expected[0]));
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(c[i].name, expected[i].name);
		assert_string_equal(c[i].exposed_id, expected[i].exposed);
		assert_int_equal(c[i].first_port, expected[i].first);
		assert_int_equal(c[i].last_port, expected[i].last);
		assert_int_equal(c[i].exposed_severity, expected[i].sev);
		assert_true(c[i].last_port - c[i].first_port < CHECK_MAX_PORTS);
		assert_true(strlen(c[i].exposed_id) < FINDING_ID_MAX);
		assert_non_null(c[i].probe);
		assert_non_null(c[i].label_en);
		assert_non_null(c[i].label_ja);
		assert_true(strlen(c[i].open_en) > 10);
		assert_true(strlen(c[i].open_ja) > 10);
		assert_ptr_equal(catalogue_find(c[i].name), &c[i]);
		/* Never the printer ports (protocols.md §0.1). */
		assert_false(c[i].first_port <= 9107 && c[i].last_port >= 9100);
	}
	assert_null(catalogue_find("http"));
	assert_null(catalogue_find(""));
	assert_null(catalogue_find("SSH"));
}

static void test_catalogue_ports_default(void **state)
{
	struct port_overrides o = {0};
	struct check_ports p;

	(void)state;
	p = catalogue_ports(NULL, 3);
	assert_int_equal(p.first, 445);
	assert_int_equal(p.last, 445);
	p = catalogue_ports(&o, 6);
	assert_int_equal(p.first, 52300);
	assert_int_equal(p.last, 52315);
}

static void override_ok(struct port_overrides *o, const char *text, size_t idx, uint16_t first,
                        uint16_t last)
{
	char err[256] = "";
	int r = port_override_parse(o, text, err, sizeof(err));

	if (r != 0)
		fail_msg("'%s' refused (%d): %s", text, r, err);
	struct check_ports p = catalogue_ports(o, idx);
	assert_int_equal(p.first, first);
	assert_int_equal(p.last, last);
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

	(void)state;
	override_ok(&o, "smb=10445", 3, 10445, 10445);
	override_ok(&o, "ssh=1", 0, 1, 1);
	override_ok(&o, "ssh=65535", 0, 65535, 65535);
	override_ok(&o, "skysea=20000-20015", 6, 20000, 20015); /* 16 ports: the maximum */
	override_ok(&o, "vnc=15900-15900", 5, 15900, 15900);
	override_ok(&o, "smb=10446", 3, 10446, 10446); /* the last one wins */
	/* Others untouched. */
	struct check_ports p = catalogue_ports(&o, 4);
	assert_int_equal(p.first, 3389);
	assert_false(o.set[4]);
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
	override_bad("averyveryveryveryveryverylongcheckname=1", -ERR_SYNTAX);
}

static void test_probe_registry(void **state)
{
	(void)state;
	/* Unknown names have no probe; a registered one answers to its own name. */
	assert_null(probe_by_name("no-such-probe"));
	const struct probe_ops *p = probe_by_name("skysea");
	if (p) {
		assert_string_equal(p->name, "skysea");
		assert_true(p->max_conns >= 1);
		assert_true(p->total_ms > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_catalogue_contents),
	    cmocka_unit_test(test_catalogue_ports_default),
	    cmocka_unit_test(test_override_good),
	    cmocka_unit_test(test_override_bad),
	    cmocka_unit_test(test_probe_registry),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
