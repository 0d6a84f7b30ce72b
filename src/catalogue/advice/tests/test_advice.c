/* SPDX-License-Identifier: MIT */
/* Tests of the compiled-in advice (advice.h): every finding id, both languages, commands. */
#include "catalogue/advice/advice.h"
#include "catalogue/catalogue.h"
#include "core/decimal.h"
#include "core/err.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

/*
 * What the tests expect of each advice id, derived from the catalogue: every finding id a check
 * lists (its exposed id and its protocol findings) and the advice for an undecided check.
 * primary: the port at least one New-NetFirewallRule must block (the listing check's first
 * port); 0 for the undecided advice, which is not about one port. ports: the inclusive ranges
 * its commands may name: the check's own and the ports its advice may also close.
 */
struct expect {
	const char *id;
	unsigned primary;
	unsigned ports[CHECK_MAX_RANGES + 1][2]; /* allowed inclusive ranges; {0, 0} ends */
};

#define EXPECT_MAX (CATALOGUE_MAX_CHECKS * (1 + CHECK_MAX_FINDINGS) + 1 + 2)

static struct expect expected[EXPECT_MAX];
static size_t n_expected;

static void expect_add(const struct check_def *c, const char *id)
{
	struct expect *e = &expected[n_expected++];

	assert_true(n_expected <= EXPECT_MAX);
	size_t r = check_ports_ranges(c->ports);

	*e = (struct expect){.id = id, .primary = c->ports.r[0].first};
	for (size_t k = 0; k < r; k++) {
		e->ports[k][0] = c->ports.r[k].first;
		e->ports[k][1] = c->ports.r[k].last;
	}
	if (c->advice_ports.first != 0) {
		e->ports[r][0] = c->advice_ports.first;
		e->ports[r][1] = c->advice_ports.last;
	}
}

/* Only the ids a check lists itself: one it raises through "runs" has its owner's ports. */
static int setup_expected(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);

	(void)state;
	n_expected = 0;
	for (size_t i = 0; i < n; i++) {
		expect_add(&c[i], c[i].exposed_id);
		for (size_t k = 0; k < CHECK_MAX_FINDINGS && c[i].findings[k].id; k++)
			expect_add(&c[i], c[i].findings[k].id);
	}
	expected[n_expected++] = (struct expect){.id = CATALOGUE_UNDECIDED_ADVICE};
	/* The visitor's cross-family findings: about no one port, like the undecided advice. */
	const struct finding_def *v = catalogue_visit_findings(&n);
	for (size_t i = 0; i < n; i++)
		expected[n_expected++] = (struct expect){.id = v[i].id};
	return 0;
}

#define N_EXPECTED n_expected

static const enum lang langs[] = {LANG_EN, LANG_JA};

static const struct expect *find_expect(const char *id)
{
	for (size_t i = 0; i < N_EXPECTED; i++)
		if (strcmp(expected[i].id, id) == 0)
			return &expected[i];
	return NULL;
}

static bool port_allowed(const struct expect *e, unsigned port)
{
	for (size_t i = 0; i < CHECK_MAX_RANGES + 1 && e->ports[i][0] != 0; i++)
		if (port >= e->ports[i][0] && port <= e->ports[i][1])
			return true;
	return false;
}

static bool has_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || *s == 0x7f)
			return true;
	return false;
}

static bool is_ascii(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s >= 0x80)
			return false;
	return true;
}

static void test_every_id_in_both_languages(void **state)
{
	(void)state;
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < N_EXPECTED; i++) {
			const struct advice *a = advice_get(expected[i].id, langs[l]);

			if (a == NULL)
				fail_msg("no %s advice for %s", lang_name(langs[l]),
				         expected[i].id);
			assert_string_equal(a->id, expected[i].id);
			assert_non_null(a->title);
			assert_true(a->title[0] != '\0');
			assert_non_null(a->meaning);
			assert_true(a->meaning[0] != '\0');
			assert_true(a->n_actions >= 1);
			assert_false(has_control(a->title));
			assert_false(has_control(a->meaning));
			for (size_t k = 0; k < a->n_actions; k++) {
				const struct advice_action *act = &a->actions[k];
				static const char *const platforms[] = {"all", "windows", "macos",
				                                        "linux", "router"};
				bool known = false;

				for (size_t p = 0; p < 5; p++)
					known |= strcmp(act->platform, platforms[p]) == 0;
				assert_true(known);
				assert_non_null(act->text);
				assert_true(act->text[0] != '\0');
				assert_false(has_control(act->text));
				if (act->command) {
					assert_true(act->command[0] != '\0');
					assert_false(has_control(act->command));
					/* Copied into a shell or PowerShell: plain ASCII only. */
					assert_true(is_ascii(act->command));
				}
			}
		}
	}
}

static void test_same_ids_and_commands_in_both_languages(void **state)
{
	size_t n_en, n_ja;
	const struct advice *en = advice_all(LANG_EN, &n_en);
	const struct advice *ja = advice_all(LANG_JA, &n_ja);

	(void)state;
	assert_int_equal(n_en, n_ja);
	assert_int_equal(n_en, N_EXPECTED);
	for (size_t i = 0; i < n_en; i++) {
		const struct advice *other = advice_get(en[i].id, LANG_JA);
		size_t cmds_en = 0, cmds_ja = 0;

		if (other == NULL)
			fail_msg("%s has English advice but no Japanese", en[i].id);
		/* Every id of the data is one a check of the catalogue raises. */
		if (find_expect(en[i].id) == NULL)
			fail_msg("%s: advice for an id no check of the catalogue lists", en[i].id);
		if (find_expect(ja[i].id) == NULL)
			fail_msg("%s: advice for an id no check of the catalogue lists", ja[i].id);
		/* The commands are the same in both languages (the words around them differ). */
		for (size_t k = 0; k < en[i].n_actions; k++) {
			const char *c = en[i].actions[k].command;
			bool found = false;

			if (c == NULL)
				continue;
			cmds_en++;
			for (size_t m = 0; m < other->n_actions && !found; m++)
				found = other->actions[m].command &&
				        strcmp(other->actions[m].command, c) == 0;
			if (!found)
				fail_msg("%s: command only in English: %s", en[i].id, c);
		}
		for (size_t m = 0; m < other->n_actions; m++)
			cmds_ja += other->actions[m].command != NULL;
		assert_int_equal(cmds_en, cmds_ja);
	}
}

/* The value after "-LocalPort " in a PowerShell command: "445", "137-138", "52300-52315". */
/* The digits at p, parsed as a port; *end is set past them. 0 when there are none. */
static unsigned port_at(const char *p, const char **end)
{
	size_t n = strspn(p, "0123456789");
	uint64_t v = 0;

	*end = p + n;
	if (decimal_span_u64(p, n, 65535, &v) < 0)
		return 0;
	return (unsigned)v;
}

static int local_ports(const char *cmd, unsigned *first, unsigned *last)
{
	const char *p = strstr(cmd, "-LocalPort ");
	const char *end;

	if (p == NULL)
		return -ERR_SYNTAX;
	p += strlen("-LocalPort ");
	if ((*first = port_at(p, &end)) == 0)
		return -ERR_SYNTAX;
	*last = *first;
	if (*end == '-' && (*last = port_at(end + 1, &end)) == 0)
		return -ERR_SYNTAX;
	return (*end == ' ' || *end == '\0') ? 0 : -ERR_SYNTAX;
}

/* Every number of 2+ digits in a ufw/nft/pf command: all must be allowed ports; count them. */
static size_t unix_ports(const struct expect *e, const char *id, const char *cmd)
{
	size_t n = 0;

	for (const char *p = cmd; *p;) {
		if (*p >= '0' && *p <= '9') {
			const char *end;
			unsigned v = port_at(p, &end);

			if (end - p >= 2) {
				if (!port_allowed(e, v))
					fail_msg("%s: port %u is not one of this finding's: %s", id,
					         v, cmd);
				n++;
			}
			p = end;
		} else {
			p++;
		}
	}
	return n;
}

static void test_firewall_commands_name_the_right_port(void **state)
{
	(void)state;
	for (size_t l = 0; l < 2; l++) {
		for (size_t i = 0; i < N_EXPECTED; i++) {
			const struct expect *e = &expected[i];
			const struct advice *a = advice_get(e->id, langs[l]);
			bool primary_blocked = false;

			assert_non_null(a);
			for (size_t k = 0; k < a->n_actions; k++) {
				const char *cmd = a->actions[k].command;
				unsigned first = 0, last = 0;

				if (cmd == NULL)
					continue;
				if (strstr(cmd, "New-NetFirewallRule")) {
					assert_string_equal(a->actions[k].platform, "windows");
					assert_non_null(strstr(cmd, "-Direction Inbound"));
					assert_non_null(strstr(cmd, "-Action Block"));
					if (local_ports(cmd, &first, &last) < 0)
						fail_msg("%s: no -LocalPort in %s", e->id, cmd);
					if (!port_allowed(e, first) || !port_allowed(e, last) ||
					    last < first)
						fail_msg("%s: wrong port in %s", e->id, cmd);
					/* The rule's name says which port it blocks. */
					assert_non_null(strstr(cmd, "Block "));
					primary_blocked |=
					    e->primary >= first && e->primary <= last;
				}
				if (strstr(cmd, "ufw deny") || strstr(cmd, "nft add rule") ||
				    strstr(cmd, "pfctl")) {
					if (e->primary == 0)
						fail_msg("%s: a port rule in generic advice",
						         e->id);
					assert_true(unix_ports(e, e->id, cmd) >= 1);
				}
			}
			if (e->primary != 0 && !primary_blocked)
				fail_msg("%s (%s): no New-NetFirewallRule blocks port %u", e->id,
				         lang_name(langs[l]), e->primary);
		}
	}
}

/* Sentences in a meaning: ". " or a final "." (also "!" "?") in English, "。" in Japanese. */
static size_t sentences(const char *s, enum lang lang)
{
	size_t n = 0;

	if (lang == LANG_JA) {
		for (const char *p = s; (p = strstr(p, "\xe3\x80\x82")) != NULL; p += 3)
			n++;
		return n;
	}
	for (const char *p = s; *p; p++)
		if ((*p == '.' || *p == '!' || *p == '?') && (p[1] == ' ' || p[1] == '\0'))
			n++;
	return n;
}

static void test_meaning_is_two_to_four_sentences(void **state)
{
	(void)state;
	for (size_t l = 0; l < 2; l++) {
		size_t n;
		const struct advice *all = advice_all(langs[l], &n);

		for (size_t i = 0; i < n; i++) {
			size_t k = sentences(all[i].meaning, langs[l]);

			if (k < 2 || k > 4)
				fail_msg("%s (%s): meaning has %zu sentences", all[i].id,
				         lang_name(langs[l]), k);
		}
	}
}

static bool ends_with(const char *s, size_t len, const char *suffix)
{
	size_t n = strlen(suffix);

	return len >= n && memcmp(s + len - n, suffix, n) == 0;
}

/*
 * Japanese for the public is written in the polite です・ます style: every sentence, once a
 * closing parenthetical "（…）" is set aside, ends in one of these forms.
 */
static bool polite_sentence(const char *s, size_t len)
{
	static const char *const endings[] = {"ます",     "です",   "ません",
	                                      "ください", "ました", "でした"};
	static const char open[] = "\xef\xbc\x88", close[] = "\xef\xbc\x89"; /* （ ） */

	while (len > 0 && s[0] == ' ')
		s++, len--;
	if (ends_with(s, len, close)) {
		for (size_t i = len - 3; i-- > 0;) {
			if (memcmp(s + i, open, 3) == 0) {
				len = i;
				break;
			}
		}
	}
	for (size_t i = 0; i < sizeof(endings) / sizeof(endings[0]); i++)
		if (ends_with(s, len, endings[i]))
			return true;
	return false;
}

static void check_japanese_text(const char *id, const char *text, bool sentence_required)
{
	const char *maru = "\xe3\x80\x82"; /* 。 */
	const char *p = text;
	size_t n = 0;

	for (const char *q; (q = strstr(p, maru)) != NULL; p = q + 3, n++)
		if (!polite_sentence(p, (size_t)(q - p)))
			fail_msg("%s: not in the polite style: %.*s", id, (int)(q - p), p);
	if (sentence_required && (n == 0 || *p != '\0'))
		fail_msg("%s: does not end with a full sentence: %s", id, text);
}

static void test_japanese_is_polite_and_english_is_ascii(void **state)
{
	size_t n;
	const struct advice *ja = advice_all(LANG_JA, &n);
	const struct advice *en;

	(void)state;
	for (size_t i = 0; i < n; i++) {
		check_japanese_text(ja[i].id, ja[i].meaning, true);
		for (size_t k = 0; k < ja[i].n_actions; k++)
			check_japanese_text(ja[i].id, ja[i].actions[k].text, true);
		/* The Japanese title is Japanese, not an untranslated copy. */
		assert_false(is_ascii(ja[i].title));
	}
	en = advice_all(LANG_EN, &n);
	for (size_t i = 0; i < n; i++) {
		assert_true(is_ascii(en[i].title));
		assert_true(is_ascii(en[i].meaning));
		for (size_t k = 0; k < en[i].n_actions; k++) {
			const char *t = en[i].actions[k].text;

			assert_true(is_ascii(t));
			assert_true(t[strlen(t) - 1] == '.');
		}
	}
}

static void test_specific_facts(void **state)
{
	(void)state;
	for (size_t l = 0; l < 2; l++) {
		const struct advice *a;
		bool smb1 = false, smb1_server = false, bulletin = false, kb = false;
		bool jvn = false, cve = false, version = false, nla = false, keys = false;

		a = advice_get("smb1-enabled", langs[l]);
		for (size_t k = 0; k < a->n_actions; k++) {
			const char *c = a->actions[k].command;

			smb1 |=
			    c && strcmp(c, "Disable-WindowsOptionalFeature -Online -FeatureName "
			                   "SMB1Protocol") == 0;
			smb1_server |= c && strcmp(c, "Set-SmbServerConfiguration "
			                              "-EnableSMB1Protocol $false") == 0;
		}
		assert_true(smb1 && smb1_server);
		a = advice_get("ms17-010-vulnerable", langs[l]);
		for (size_t k = 0; k < a->n_actions; k++) {
			bulletin |= strstr(a->actions[k].text, "MS17-010") != NULL;
			kb |= strstr(a->actions[k].text, "KB4012598") != NULL;
		}
		assert_true(bulletin && kb);
		a = advice_get("skysea-port-exposed", langs[l]);
		for (size_t k = 0; k < a->n_actions; k++) {
			jvn |= strstr(a->actions[k].text, "JVN#84995847") != NULL;
			cve |= strstr(a->actions[k].text, "CVE-2016-7836") != NULL;
			version |= strstr(a->actions[k].text, "11.221.03") != NULL;
		}
		assert_true(jvn && cve && version);
		a = advice_get("rdp-nla-not-required", langs[l]);
		for (size_t k = 0; k < a->n_actions; k++)
			nla |= a->actions[k].command &&
			       strstr(a->actions[k].command, "UserAuthentication -Value 1");
		assert_true(nla);
		a = advice_get("ssh-exposed", langs[l]);
		for (size_t k = 0; k < a->n_actions; k++)
			keys |= strstr(a->actions[k].text, "PasswordAuthentication no") != NULL;
		assert_true(keys);
		/* A compromised machine: the first thing to do is to take it off the network. */
		a = advice_get("doublepulsar-implant", langs[l]);
		assert_string_equal(a->actions[0].platform, "all");
		assert_non_null(advice_get("check-unknown", langs[l]));
	}
}

static void test_get_edges(void **state)
{
	size_t n;
	const struct advice *all = advice_all(LANG_JA, &n);

	(void)state;
	assert_null(advice_get("no-such-finding", LANG_EN));
	assert_null(advice_get("", LANG_EN));
	assert_null(advice_get(NULL, LANG_EN));
	assert_null(advice_get("SMB-EXPOSED", LANG_EN));
	assert_null(advice_get("smb-exposed", (enum lang)7));
	assert_null(advice_get("smb-exposed", LANG_X_MAX));
	assert_ptr_equal(advice_get(all[3].id, LANG_JA), &all[3]);
	assert_null(advice_all(LANG_X_MAX, &n));
	assert_int_equal(n, 0);
	assert_string_equal(lang_name(LANG_EN), "en");
	assert_string_equal(lang_name(LANG_JA), "ja");
	assert_null(lang_name(LANG_X_MAX));
	/* English and Japanese are different texts. */
	assert_string_not_equal(advice_get("vnc-no-auth", LANG_EN)->title,
	                        advice_get("vnc-no-auth", LANG_JA)->title);
}

/*
 * Every finding any check can raise has advice, those raised through another check's
 * conversation included.
 */
static void test_catalogue_ids_have_advice(void **state)
{
	size_t n;
	const struct check_def *c = catalogue_checks(&n);
	struct finding_def f;

	(void)state;
	assert_true(n >= 7);
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; check_finding(&c[i], k, &f); k++)
			for (size_t l = 0; l < 2; l++)
				if (advice_get(f.id, langs[l]) == NULL)
					fail_msg("catalogue id %s (%s) has no %s advice", f.id,
					         c[i].name, lang_name(langs[l]));
	}
}

static void test_json(void **state)
{
	const struct advice *a = advice_get("smb1-enabled", LANG_JA);
	json_t *j, *actions;
	bool saw_null = false, saw_command = false;

	(void)state;
	assert_null(advice_json(NULL));
	j = advice_json(a);
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "id")), "smb1-enabled");
	assert_string_equal(json_string_value(json_object_get(j, "title")), a->title);
	assert_string_equal(json_string_value(json_object_get(j, "meaning")), a->meaning);
	assert_int_equal(json_object_size(j), 4);
	actions = json_object_get(j, "actions");
	assert_true(json_is_array(actions));
	assert_int_equal(json_array_size(actions), a->n_actions);
	for (size_t k = 0; k < a->n_actions; k++) {
		json_t *act = json_array_get(actions, k);
		json_t *cmd = json_object_get(act, "command");

		assert_int_equal(json_object_size(act), 3);
		assert_string_equal(json_string_value(json_object_get(act, "platform")),
		                    a->actions[k].platform);
		assert_string_equal(json_string_value(json_object_get(act, "text")),
		                    a->actions[k].text);
		if (a->actions[k].command) {
			assert_string_equal(json_string_value(cmd), a->actions[k].command);
			saw_command = true;
		} else {
			assert_true(json_is_null(cmd));
			saw_null = true;
		}
	}
	assert_true(saw_null && saw_command);
	/* It serialises (valid UTF-8 throughout) and the Japanese survives the round trip. */
	char *text = json_dumps(j, JSON_COMPACT);
	assert_non_null(text);
	json_t *back = json_loads(text, 0, NULL);
	assert_non_null(back);
	assert_true(json_equal(back, j));
	assert_string_equal(json_string_value(json_object_get(back, "title")), a->title);
	json_decref(back);
	free(text);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_every_id_in_both_languages),
	    cmocka_unit_test(test_same_ids_and_commands_in_both_languages),
	    cmocka_unit_test(test_firewall_commands_name_the_right_port),
	    cmocka_unit_test(test_meaning_is_two_to_four_sentences),
	    cmocka_unit_test(test_japanese_is_polite_and_english_is_ascii),
	    cmocka_unit_test(test_specific_facts),
	    cmocka_unit_test(test_get_edges),
	    cmocka_unit_test(test_catalogue_ids_have_advice),
	    cmocka_unit_test(test_json),
	};

	return cmocka_run_group_tests_name("advice", tests, setup_expected, NULL);
}
