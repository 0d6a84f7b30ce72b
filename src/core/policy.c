/* SPDX-License-Identifier: MIT */
/* Target policy (policy.h). */
#include "core/policy.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

void policy_init(struct policy *p)
{
	memset(p, 0, sizeof(*p));
}

int policy_allow(struct policy *p, const struct cidr *c)
{
	if (p->n_allow >= POLICY_MAX_ALLOW)
		return -ERR_RANGE;
	p->allow[p->n_allow++] = *c;
	return 0;
}

bool policy_check(const struct policy *p, const struct addr *a, struct policy_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->block = -1;
	d->special = special_lookup(a);
	d->cls = d->special ? d->special->cls : ADDR_GLOBAL;

	if (special_never_probed(d->cls)) {
		d->rule = POLICY_DENIED_ALWAYS;
		return false;
	}
	if (d->cls == ADDR_LOOPBACK) {
		d->rule = p->deny_loopback ? POLICY_DENIED_LOOPBACK : POLICY_ALLOWED_LOOPBACK;
		d->allowed = !p->deny_loopback;
		return d->allowed;
	}
	for (size_t i = 0; i < p->n_allow; i++) {
		if (cidr_contains(&p->allow[i], a)) {
			d->rule = POLICY_ALLOWED_BY_BLOCK;
			d->block = (int)i;
			d->allowed = true;
			return true;
		}
	}
	d->rule = POLICY_DENIED_NOT_ALLOWED;
	return false;
}

int policy_explain(const struct policy *p, const struct addr *a, const struct policy_decision *d,
                   char *buf, size_t size)
{
	char text[ADDR_STRLEN], block[ADDR_STRLEN + 8] = "?";
	int n = 0;

	if (addr_format(a, text, sizeof(text)) < 0)
		snprintf(text, sizeof(text), "?");
	switch (d->rule) {
	case POLICY_ALLOWED_LOOPBACK:
		n = snprintf(buf, size, "%s allowed: loopback (default rule)", text);
		break;
	case POLICY_ALLOWED_BY_BLOCK:
		if (d->block >= 0 && (size_t)d->block < p->n_allow)
			cidr_format(&p->allow[d->block], block, sizeof(block));
		n = snprintf(buf, size, "%s allowed: inside --allow %s", text, block);
		break;
	case POLICY_DENIED_ALWAYS:
		n = snprintf(buf, size, "%s refused: %s addresses are never probed (%s, %s)", text,
		             addr_class_name(d->cls), d->special ? d->special->name : "?",
		             d->special ? d->special->rfc : "?");
		break;
	case POLICY_DENIED_LOOPBACK:
		n = snprintf(buf, size,
		             "%s refused: loopback addresses are not probed in this mode", text);
		break;
	case POLICY_DENIED_NOT_ALLOWED:
		n = snprintf(buf, size,
		             "%s refused: %s address outside every --allow block (by default only "
		             "loopback may be probed; add --allow CIDR for networks you may test)",
		             text, addr_class_name(d->cls));
		break;
	}
	return n < 0 ? 0 : n;
}
