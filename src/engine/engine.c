/* SPDX-License-Identifier: MIT */
/* Placeholder until the engine lands: every call fails. */
#include "engine.h"
#include "../core/err.h"

void engine_opts_default(struct engine_opts *o)
{
	*o = (struct engine_opts){512, 64, 0, 1000, 100, 10000, 6};
}

struct engine *engine_new(uv_loop_t *loop, const struct engine_opts *o)
{
	(void)loop;
	(void)o;
	return NULL;
}

void engine_free(struct engine *e)
{
	(void)e;
}

struct engine_target *engine_target_new(struct engine *e, const struct addr *a)
{
	(void)e;
	(void)a;
	return NULL;
}

void engine_target_set_timeout(struct engine_target *t, unsigned timeout_ms)
{
	(void)t;
	(void)timeout_ms;
}

int engine_submit(struct engine *e, struct engine_target *t, uint16_t port,
		  const struct probe_ops *probe, engine_done_cb *cb, void *ud)
{
	(void)e, (void)t, (void)port, (void)probe, (void)cb, (void)ud;
	return -ERR_INTERNAL;
}

size_t engine_pending(const struct engine *e)
{
	(void)e;
	return 0;
}

const char *port_state_name(enum port_state s)
{
	static const char *const n[PORT_X_MAX] = {"open", "closed", "filtered", "error"};
	return (unsigned)s < PORT_X_MAX ? n[s] : "unknown";
}

const char *port_reason_name(enum port_reason r)
{
	static const char *const n[REASON_X_MAX] = {"syn-ack", "reset", "timeout", "unreachable",
						    "local-error"};
	return (unsigned)r < REASON_X_MAX ? n[r] : "unknown";
}
