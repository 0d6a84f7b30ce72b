/* SPDX-License-Identifier: MIT */
/*
 * A minimal stand-in for src/engine (engine.h), for testing the CLI's flow end to end on
 * loopback without the real engine: one uv_tcp_connect per job, a fixed timeout, no retries,
 * no ICMP error queue, no probes. Linked before libengine.a, so its symbols win. Never used by
 * the product.
 */
#include "engine/engine.h"
#include "core/err.h"

#include <errno.h>
#include <stdlib.h>

struct engine {
	uv_loop_t *loop;
	size_t pending;
	struct engine_target *targets;
};

struct engine_target {
	struct addr addr;
	unsigned timeout_ms;
	struct engine_target *next;
};

struct job {
	uv_tcp_t tcp;
	uv_connect_t req;
	uv_timer_t timer;
	uint64_t t0;
	struct port_result pr;
	engine_done_cb *cb;
	void *ud;
	struct engine *e;
	int closing;
};

void engine_opts_default(struct engine_opts *o)
{
	*o = (struct engine_opts){512, 64, 0, 1000, 100, 10000, 6};
}

struct engine *engine_new(uv_loop_t *loop, const struct engine_opts *o)
{
	struct engine *e = calloc(1, sizeof(*e));

	(void)o;
	if (e)
		e->loop = loop;
	return e;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	while (e->targets) {
		struct engine_target *t = e->targets;
		e->targets = t->next;
		free(t);
	}
	free(e);
}

struct engine_target *engine_target_new(struct engine *e, const struct addr *a)
{
	struct engine_target *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return NULL;
	t->addr = *a;
	t->timeout_ms = 1000;
	t->next = e->targets;
	e->targets = t;
	return t;
}

void engine_target_set_timeout(struct engine_target *t, unsigned timeout_ms)
{
	t->timeout_ms = timeout_ms ? timeout_ms : 1000;
}

static void on_closed(uv_handle_t *h)
{
	struct job *j = h->data;

	if (++j->closing < 2)
		return;
	j->e->pending--;
	j->cb(j->ud, &j->pr, NULL);
	free(j);
}

static void finish(struct job *j)
{
	uv_timer_stop(&j->timer);
	uv_close((uv_handle_t *)&j->tcp, on_closed);
	uv_close((uv_handle_t *)&j->timer, on_closed);
}

static void on_connect(uv_connect_t *req, int status)
{
	struct job *j = req->data;

	if (status == UV_ECANCELED)
		return; /* closed by the timer: already finished */
	j->pr.rtt_ms = (double)(uv_hrtime() - j->t0) / 1e6;
	if (status == 0) {
		j->pr.state = PORT_OPEN;
		j->pr.reason = REASON_SYN_ACK;
	} else if (status == UV_ECONNREFUSED) {
		j->pr.state = PORT_CLOSED;
		j->pr.reason = REASON_RESET;
		j->pr.sys_errno = ECONNREFUSED;
	} else {
		j->pr.state = PORT_FILTERED;
		j->pr.reason = REASON_UNREACHABLE;
		j->pr.sys_errno = -status;
	}
	finish(j);
}

static void on_timeout(uv_timer_t *t)
{
	struct job *j = t->data;

	j->pr.state = PORT_FILTERED;
	j->pr.reason = REASON_TIMEOUT;
	j->pr.sys_errno = ETIMEDOUT;
	finish(j);
}

int engine_submit(struct engine *e, struct engine_target *t, uint16_t port,
                  const struct probe_ops *probe, engine_done_cb *cb, void *ud)
{
	struct sockaddr_storage ss;
	struct job *j = calloc(1, sizeof(*j));
	int r;

	(void)probe;
	if (j == NULL)
		return -ERR_NOMEM;
	*j = (struct job){
	    .pr = {.icmp_type = -1, .icmp_code = -1, .rtt_ms = -1, .tries = 1},
	    .cb = cb,
	    .ud = ud,
	    .e = e,
	    .t0 = uv_hrtime(),
	};
	uv_tcp_init(e->loop, &j->tcp);
	uv_timer_init(e->loop, &j->timer);
	j->tcp.data = j->timer.data = j->req.data = j;
	addr_to_sockaddr(&t->addr, port, &ss);
	r = uv_tcp_connect(&j->req, &j->tcp, (struct sockaddr *)&ss, on_connect);
	if (r < 0) {
		j->pr.state = PORT_ERROR;
		j->pr.reason = REASON_LOCAL_ERROR;
		j->pr.sys_errno = -r;
		e->pending++;
		finish(j); /* reported from the loop, never from inside this call */
		return 0;
	}
	uv_timer_start(&j->timer, on_timeout, t->timeout_ms, 0);
	e->pending++;
	return 0;
}

size_t engine_pending(const struct engine *e)
{
	return e->pending;
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
