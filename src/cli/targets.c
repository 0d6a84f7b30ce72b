/* SPDX-License-Identifier: MIT */
/*
 * Targets of `exposure check` (cli.h): literal addresses, CIDR blocks and host names, turned
 * into a list of addresses of which every one has passed the policy before anything is probed.
 */
#include "cli/cli.h"
#include "core/decimal.h"
#include "core/err.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void target_list_done(struct target_list *list)
{
	free(list->v);
	*list = (struct target_list){0};
}

static int list_add(struct target_list *list, const char *name, const struct addr *a)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 16;
		struct target_addr *v = reallocarray(list->v, cap, sizeof(*v));
		if (v == NULL)
			return -ERR_NOMEM;
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = (struct target_addr){.name = name, .addr = *a};
	return 0;
}

/* Only digits and dots, or anything with ':' or '[': the user meant an address literal. */
static bool looks_literal(const char *s)
{
	if (strchr(s, ':') || s[0] == '[')
		return true;
	return s[0] != '\0' && strspn(s, "0123456789.") == strlen(s);
}

/* RFC 1123 host name (underscore tolerated, as resolvers do), optional final dot. */
static bool valid_hostname(const char *s)
{
	size_t len = strlen(s), label = 0;

	if (len == 0 || len > 254 || (len == 254 && s[253] != '.') || s[0] == '.')
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];

		if (c == '.') {
			if (label == 0 || s[i - 1] == '-')
				return false;
			label = 0;
			continue;
		}
		bool alnum =
		    (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && c != '-' && c != '_')
			return false;
		if (c == '-' && label == 0)
			return false;
		if (++label > 63)
			return false;
	}
	return s[len - 1] != '-';
}

/* Why cidr_parse refused text, in words. */
static void explain_cidr(const char *text, int r, char *err, size_t errlen)
{
	char addr_part[ADDR_STRLEN + 8], fixed[ADDR_STRLEN + 8];
	const char *slash = strchr(text, '/');
	size_t alen = (size_t)(slash - text);
	uint32_t prefix;
	struct addr a;
	struct cidr c;

	if (r == -ERR_RANGE) {
		snprintf(err, errlen,
		         "'%s': the prefix is too long (at most /32 for IPv4, /128 for IPv6)",
		         text);
		return;
	}
	if (alen < sizeof(addr_part)) {
		memcpy(addr_part, text, alen);
		addr_part[alen] = '\0';
		if (addr_parse(addr_part, &a) == 0 &&
		    decimal_u32(slash + 1, a.family == AF_INET ? 32 : 128, &prefix) == 0) {
			/* Address and prefix are fine: host bits are set. Suggest the block. */
			c = (struct cidr){.base = a, .prefix = prefix};
			for (unsigned b = prefix; b < (a.family == AF_INET ? 32u : 128u); b++)
				c.base.bytes[b / 8] &= (uint8_t) ~(0x80u >> (b % 8));
			if (cidr_format(&c, fixed, sizeof(fixed)) < 0)
				snprintf(fixed, sizeof(fixed), "?");
			snprintf(err, errlen, "'%s' has host bits set after /%u: did you mean %s?",
			         text, prefix, fixed);
			return;
		}
	}
	snprintf(err, errlen,
	         "'%s' is not a valid CIDR block (e.g. 198.18.0.0/24 or 2001:db8::/120)", text);
}

int target_classify(const char *arg, struct cidr *block, char *err, size_t errlen)
{
	int r;

	memset(block, 0, sizeof(*block));
	if (strchr(arg, '/') != NULL) {
		if ((r = cidr_parse(arg, block)) < 0) {
			explain_cidr(arg, r, err, errlen);
			return r;
		}
		if (cidr_size(block) > TARGETS_MAX_BLOCK) {
			snprintf(err, errlen,
			         "block '%s' is too large: at most %u addresses per block (/16 for "
			         "IPv4, /112 for IPv6)",
			         arg, TARGETS_MAX_BLOCK);
			return -ERR_RANGE;
		}
		return TARGET_BLOCK;
	}
	if (looks_literal(arg)) {
		if ((r = cidr_parse(arg, block)) < 0) {
			snprintf(err, errlen, "'%s' is not a valid IPv4 or IPv6 address", arg);
			return r;
		}
		return TARGET_ADDR;
	}
	if (!valid_hostname(arg)) {
		snprintf(err, errlen, "'%s' is neither an address, a CIDR block nor a host name",
		         arg);
		return -ERR_SYNTAX;
	}
	return TARGET_NAME;
}

/* Name resolution of one argument. */
struct resolve {
	uv_getaddrinfo_t req;
	const char *name;
	int status; /* libuv status; 1 while running */
	struct addrinfo *res;
};

struct resolve_run {
	uv_timer_t timer;
	size_t pending;
	bool timed_out;
};

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
	struct resolve *rs = req->data;
	struct resolve_run *run = req->loop->data;

	rs->status = status;
	rs->res = res;
	if (--run->pending == 0)
		uv_close((uv_handle_t *)&run->timer, NULL);
}

static void on_resolve_timeout(uv_timer_t *t)
{
	struct resolve_run *run = t->data;

	run->timed_out = true;
	uv_stop(t->loop);
}

/* RFC 6761 §6.3, §6.4: .localhost names are loopback, .invalid names never resolve. */
static bool has_suffix(const char *name, const char *suffix)
{
	size_t n = strlen(name), s = strlen(suffix);

	if (n > 0 && name[n - 1] == '.')
		n--;
	if (n == s - 1 && strncasecmp(name, suffix + 1, n) == 0)
		return true;
	return n > s && strncasecmp(name + n - s, suffix, s) == 0;
}

/* Start resolving every name argument; run the loop until all answered or the deadline. */
static int resolve_all(uv_loop_t *loop, size_t n, struct resolve *rs, char *err, size_t errlen)
{
	static const struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct resolve_run run = {0};
	void *saved = loop->data;
	int r;

	for (size_t i = 0; i < n; i++) {
		if (rs[i].name == NULL)
			continue;
		if (has_suffix(rs[i].name, ".invalid")) {
			snprintf(err, errlen,
			         "name '%s' does not resolve (.invalid names never do, RFC 6761)",
			         rs[i].name);
			return -ERR_RESOLVE;
		}
	}
	uv_timer_init(loop, &run.timer);
	run.timer.data = &run;
	loop->data = &run;
	for (size_t i = 0; i < n; i++) {
		if (rs[i].name == NULL)
			continue;
		const char *query = has_suffix(rs[i].name, ".localhost") ? "localhost" : rs[i].name;
		rs[i].req.data = &rs[i];
		rs[i].status = 1;
		if ((r = uv_getaddrinfo(loop, &rs[i].req, on_resolved, query, NULL, &hints)) < 0) {
			rs[i].status = r;
			continue;
		}
		run.pending++;
	}
	if (run.pending == 0) {
		uv_close((uv_handle_t *)&run.timer, NULL);
	} else {
		uv_timer_start(&run.timer, on_resolve_timeout, TARGETS_RESOLVE_MS, 0);
	}
	uv_run(loop, UV_RUN_DEFAULT);
	loop->data = saved;
	if (run.timed_out) {
		/*
		 * A resolver thread is still running and will write into rs: leave rs alone
		 * (the caller exits). Name the first name that did not answer.
		 */
		for (size_t i = 0; i < n; i++) {
			if (rs[i].name && rs[i].status == 1) {
				snprintf(err, errlen, "name '%s' did not resolve within %u s",
				         rs[i].name, TARGETS_RESOLVE_MS / 1000);
				break;
			}
		}
		return -ETIMEDOUT;
	}
	return 0;
}

static int add_resolved(struct target_list *list, struct resolve *rs, char *err, size_t errlen)
{
	size_t first = list->n;
	int r;

	if (rs->status < 0 || rs->res == NULL) {
		snprintf(err, errlen, "name '%s' does not resolve: %s", rs->name,
		         rs->status < 0 ? uv_strerror(rs->status) : "no address");
		return -ERR_RESOLVE;
	}
	for (struct addrinfo *ai = rs->res; ai; ai = ai->ai_next) {
		struct addr a;
		bool dup = false;

		if (addr_from_sockaddr(ai->ai_addr, &a, NULL) < 0)
			continue;
		for (size_t k = first; k < list->n && !dup; k++)
			dup = addr_equal(&list->v[k].addr, &a);
		if (!dup && (r = list_add(list, rs->name, &a)) < 0)
			return r;
	}
	if (list->n == first) {
		snprintf(err, errlen, "name '%s' has no IPv4 or IPv6 address", rs->name);
		return -ERR_RESOLVE;
	}
	return 0;
}

static int add_block(struct target_list *list, const char *name, const struct cidr *block)
{
	uint64_t size = cidr_size(block);
	int r;

	for (uint64_t k = 0; k < size; k++) {
		struct addr a;

		if ((r = cidr_nth(block, k, &a)) < 0 || (r = list_add(list, name, &a)) < 0)
			return r;
	}
	return 0;
}

/* The safety default: every address, before any probe. */
static int check_policy(const struct target_list *list, const struct policy *p, char *err,
                        size_t errlen)
{
	char why[CLI_ERR_MAX], text[ADDR_STRLEN];

	for (size_t i = 0; i < list->n; i++) {
		struct policy_decision d;

		if (policy_check(p, &list->v[i].addr, &d))
			continue;
		policy_explain(p, &list->v[i].addr, &d, why, sizeof(why));
		if (addr_format(&list->v[i].addr, text, sizeof(text)) >= 0 &&
		    strcmp(text, list->v[i].name) == 0)
			snprintf(err, errlen, "target %s", why);
		else
			snprintf(err, errlen, "target '%s': %s", list->v[i].name, why);
		return -ERR_POLICY;
	}
	return 0;
}

int targets_resolve(uv_loop_t *loop, char *const *args, size_t n, const struct policy *p,
                    struct target_list *list, char *err, size_t errlen)
{
	struct resolve *rs = calloc(n ? n : 1, sizeof(*rs));
	struct cidr *blocks = calloc(n ? n : 1, sizeof(*blocks));
	uint64_t total = 0;
	bool names = false;
	int r = 0;

	*list = (struct target_list){0};
	err[0] = '\0';
	if (rs == NULL || blocks == NULL) {
		snprintf(err, errlen, "out of memory");
		r = -ERR_NOMEM;
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if ((r = target_classify(args[i], &blocks[i], err, errlen)) < 0)
			goto out;
		if (r == TARGET_NAME) {
			rs[i].name = args[i];
			names = true;
		} else {
			total += cidr_size(&blocks[i]);
		}
	}
	if (total > TARGETS_MAX_TOTAL) {
		snprintf(err, errlen, "too many addresses: %llu (at most %u per run)",
		         (unsigned long long)total, TARGETS_MAX_TOTAL);
		r = -ERR_RANGE;
		goto out;
	}
	if (names && (r = resolve_all(loop, n, rs, err, errlen)) < 0) {
		if (r == -ETIMEDOUT)
			rs = NULL; /* still in use by a resolver thread: see resolve_all() */
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (rs[i].name)
			r = add_resolved(list, &rs[i], err, errlen);
		else
			r = add_block(list, args[i], &blocks[i]);
		if (r < 0)
			goto out;
	}
	if (list->n > TARGETS_MAX_TOTAL) {
		snprintf(err, errlen, "too many addresses: %zu (at most %u per run)", list->n,
		         TARGETS_MAX_TOTAL);
		r = -ERR_RANGE;
		goto out;
	}
	r = check_policy(list, p, err, errlen);
out:
	for (size_t i = 0; rs && i < n; i++)
		if (rs[i].res)
			uv_freeaddrinfo(rs[i].res);
	free(rs);
	free(blocks);
	if (r < 0 && err[0] == '\0')
		snprintf(err, errlen, "%s", err_str(r));
	if (r < 0)
		target_list_done(list);
	return r < 0 ? r : 0;
}
