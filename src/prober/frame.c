/* SPDX-License-Identifier: MIT */
/*
 * Front <-> prober framing (frame.h). Big-endian integers, text as a u8 length and that many
 * printable ASCII bytes (no NUL), doubles as their IEEE-754 bits. Decoders read through a
 * cursor that fails sticky on the first short read, so every field is bounds-checked once.
 */
#include "prober/frame.h"

#include "core/err.h"

#include <math.h>
#include <string.h>
#include <sys/socket.h>

struct wcur {
	uint8_t *p;
	size_t size;
	size_t len;
	bool bad;
};

struct rcur {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;
};

static void put(struct wcur *w, const void *src, size_t n)
{
	if (w->bad || n > w->size - w->len) {
		w->bad = true;
		return;
	}
	if (n == 0) /* src may be NULL then */
		return;
	memcpy(w->p + w->len, src, n);
	w->len += n;
}

static void put_u8(struct wcur *w, unsigned v)
{
	uint8_t b = (uint8_t)v;

	put(w, &b, 1);
}

static void put_u16(struct wcur *w, unsigned v)
{
	uint8_t b[2] = {(uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, 2);
}

static void put_u32(struct wcur *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};

	put(w, b, 4);
}

static void put_f64(struct wcur *w, double d)
{
	uint64_t u;

	memcpy(&u, &d, sizeof(u));
	put_u32(w, (uint32_t)(u >> 32));
	put_u32(w, (uint32_t)u);
}

/* Text is short by construction (ids, names, reasons): a u8 length is enough. */
static void put_str(struct wcur *w, const char *s)
{
	size_t n = strlen(s);

	if (n > 255) {
		w->bad = true;
		return;
	}
	put_u8(w, (unsigned)n);
	put(w, s, n);
}

static const uint8_t *get(struct rcur *r, size_t n)
{
	const uint8_t *at;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	at = r->p + r->off;
	r->off += n;
	return at;
}

static unsigned get_u8(struct rcur *r)
{
	const uint8_t *b = get(r, 1);

	return b ? b[0] : 0;
}

static unsigned get_u16(struct rcur *r)
{
	const uint8_t *b = get(r, 2);

	return b ? (unsigned)(b[0] << 8 | b[1]) : 0;
}

static uint32_t get_u32(struct rcur *r)
{
	const uint8_t *b = get(r, 4);

	return b ? (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3] : 0;
}

static double get_f64(struct rcur *r)
{
	uint64_t u = (uint64_t)get_u32(r) << 32;
	double d;

	u |= get_u32(r);
	memcpy(&d, &u, sizeof(d));
	return d;
}

/* Text into dst (size bytes, NUL included). Printable ASCII only: whatever the front shows or
 * stores has passed here, so a control byte or a NUL from a prober is a protocol error. */
static int get_str(struct rcur *r, char *dst, size_t size)
{
	unsigned n = get_u8(r);
	const uint8_t *s = get(r, n);

	if (!s)
		return -ERR_PROTO;
	if (n >= size)
		return -ERR_RANGE;
	for (unsigned i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return -ERR_PROTO;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

int frame_decode(const uint8_t *buf, size_t len, struct frame *out)
{
	uint32_t n;

	/* a bad type is refused from its first byte: a stream that lost its framing stops at once
	 */
	if (len > 0 && (buf[0] == 0 || buf[0] >= FRAME_X_MAX))
		return -ERR_PROTO;
	if (len < FRAME_HEADER_LEN)
		return 0;
	n = (uint32_t)buf[1] << 24 | (uint32_t)buf[2] << 16 | (uint32_t)buf[3] << 8 | buf[4];
	if (n > FRAME_PAYLOAD_MAX)
		return -ERR_TOOBIG;
	if (len - FRAME_HEADER_LEN < n)
		return 0;
	out->type = (enum frame_type)buf[0];
	out->payload = buf + FRAME_HEADER_LEN;
	out->len = n;
	return (int)(FRAME_HEADER_LEN + n);
}

int frame_encode(uint8_t *dst, size_t size, enum frame_type t, const void *p, size_t n)
{
	struct wcur w = {dst, size, 0, false};

	if (n > FRAME_PAYLOAD_MAX)
		return -ERR_TOOBIG;
	put_u8(&w, t);
	put_u32(&w, (uint32_t)n);
	put(&w, p, n);
	return w.bad ? -ERR_TOOBIG : (int)w.len;
}

/* The header goes first with a zero length, patched once the payload's length is known. */
static int finish(struct wcur *w)
{
	uint32_t n = (uint32_t)(w->len - FRAME_HEADER_LEN);

	if (w->bad || n > FRAME_PAYLOAD_MAX)
		return -ERR_TOOBIG;
	w->p[1] = (uint8_t)(n >> 24);
	w->p[2] = (uint8_t)(n >> 16);
	w->p[3] = (uint8_t)(n >> 8);
	w->p[4] = (uint8_t)n;
	return (int)w->len;
}

static bool text_ok(const char *s, size_t size)
{
	const char *nul = memchr(s, 0, size);

	if (!nul)
		return false;
	for (; s < nul; s++)
		if (*s < 0x20 || *s > 0x7e)
			return false;
	return true;
}

int frame_job_encode(uint8_t *dst, size_t size, const struct frame_job *job)
{
	struct wcur w = {dst, size, 0, false};

	if (job->port == 0 || !text_ok(job->probe, sizeof(job->probe)) ||
	    (job->addr.family != AF_INET && job->addr.family != AF_INET6))
		return -ERR_RANGE;
	put_u8(&w, FRAME_JOB);
	put_u32(&w, 0);
	put_u32(&w, job->id);
	put_u32(&w, job->target);
	put_u8(&w, job->addr.family == AF_INET ? 4 : 6);
	put(&w, job->addr.bytes, job->addr.family == AF_INET ? 4 : 16);
	put_u16(&w, job->port);
	put_u32(&w, job->timeout_ms);
	put_str(&w, job->probe);
	return finish(&w);
}

int frame_job_decode(const uint8_t *p, size_t n, struct frame_job *out)
{
	struct rcur r = {p, n, 0, false};
	const uint8_t *a;
	unsigned fam;
	int rc;

	memset(out, 0, sizeof(*out));
	out->id = get_u32(&r);
	out->target = get_u32(&r);
	fam = get_u8(&r);
	if (fam != 4 && fam != 6)
		return r.bad ? -ERR_PROTO : -ERR_RANGE;
	a = get(&r, fam == 4 ? 4 : 16);
	if (a) {
		out->addr.family = fam == 4 ? AF_INET : AF_INET6;
		memcpy(out->addr.bytes, a, fam == 4 ? 4 : 16);
	}
	out->port = (uint16_t)get_u16(&r);
	out->timeout_ms = get_u32(&r);
	rc = get_str(&r, out->probe, sizeof(out->probe));
	if (r.bad || r.off != n)
		return -ERR_PROTO;
	if (rc < 0)
		return rc;
	return out->port == 0 ? -ERR_RANGE : 0;
}

/* What the front would refuse is refused here too, so a prober bug shows up on its side. */
static bool port_result_ok(const struct port_result *pr)
{
	return (unsigned)pr->state < PORT_X_MAX && (unsigned)pr->reason < REASON_X_MAX &&
	       pr->icmp_type >= -1 && pr->icmp_type <= 255 && pr->icmp_code >= -1 &&
	       pr->icmp_code <= 255 && pr->sys_errno >= 0 && pr->sys_errno <= 4095 &&
	       pr->tries <= FRAME_TRIES_MAX && isfinite(pr->rtt_ms) &&
	       (pr->rtt_ms == -1 || (pr->rtt_ms >= 0 && pr->rtt_ms <= FRAME_RTT_MAX_MS));
}

static void put_probe(struct wcur *w, const struct probe_result *res)
{
	put_u8(w, res->state);
	put_str(w, res->service);
	put_u8(w, (unsigned)res->n_findings);
	for (size_t i = 0; i < res->n_findings; i++) {
		put_str(w, res->findings[i].id);
		put_u8(w, res->findings[i].severity);
		put_u8(w, res->findings[i].confidence);
		put_str(w, res->findings[i].reason);
	}
	put_u8(w, (unsigned)res->n_answers);
	for (size_t i = 0; i < res->n_answers; i++) {
		put_str(w, res->answers[i].id);
		put_u8(w, res->answers[i].answer);
		put_str(w, res->answers[i].reason);
	}
}

static bool probe_result_ok(const struct probe_result *res)
{
	if ((unsigned)res->state >= SERVICE_X_MAX || res->n_findings > PROBE_MAX_FINDINGS ||
	    res->n_answers > PROBE_MAX_ANSWERS || !text_ok(res->service, sizeof(res->service)))
		return false;
	for (size_t i = 0; i < res->n_findings; i++) {
		const struct finding *f = &res->findings[i];

		if ((unsigned)f->severity >= SEVERITY_X_MAX ||
		    (unsigned)f->confidence >= CONFIDENCE_X_MAX || !text_ok(f->id, sizeof(f->id)) ||
		    !f->id[0] || !text_ok(f->reason, sizeof(f->reason)))
			return false;
	}
	for (size_t i = 0; i < res->n_answers; i++) {
		const struct probe_answer_rec *a = &res->answers[i];

		if ((unsigned)a->answer >= PROBE_ANSWER_X_MAX || !text_ok(a->id, sizeof(a->id)) ||
		    !a->id[0] || !text_ok(a->reason, sizeof(a->reason)))
			return false;
	}
	return true;
}

int frame_result_encode(uint8_t *dst, size_t size, uint32_t id, const struct port_result *pr,
                        const struct probe_result *res, const char *details, size_t details_len)
{
	struct wcur w = {dst, size, 0, false};

	if (!port_result_ok(pr) || (res && !probe_result_ok(res)) || (!res && details_len))
		return -ERR_RANGE;
	if (details_len > FRAME_PAYLOAD_MAX)
		return -ERR_TOOBIG;
	put_u8(&w, FRAME_RESULT);
	put_u32(&w, 0);
	put_u32(&w, id);
	put_u8(&w, pr->state);
	put_u8(&w, pr->reason);
	put_u16(&w, (unsigned)(pr->icmp_type + 1));
	put_u16(&w, (unsigned)(pr->icmp_code + 1));
	put_u16(&w, (unsigned)pr->sys_errno);
	put_f64(&w, pr->rtt_ms);
	put_u8(&w, pr->tries);
	put_u8(&w, res != NULL);
	if (res) {
		put_probe(&w, res);
		put_u32(&w, (uint32_t)details_len);
		put(&w, details, details_len);
	}
	return finish(&w);
}

static int get_finding(struct rcur *r, frame_known_id_fn *known, struct finding *f)
{
	int rc = get_str(r, f->id, sizeof(f->id));

	f->severity = (enum severity)get_u8(r);
	f->confidence = (enum confidence)get_u8(r);
	if (rc == 0)
		rc = get_str(r, f->reason, sizeof(f->reason));
	if (rc < 0)
		return rc;
	if ((unsigned)f->severity >= SEVERITY_X_MAX || (unsigned)f->confidence >= CONFIDENCE_X_MAX)
		return -ERR_RANGE;
	if (!f->id[0] || (known && !known(f->id)))
		return -ERR_POLICY;
	return 0;
}

static int get_answer(struct rcur *r, frame_known_id_fn *known, struct probe_answer_rec *a)
{
	int rc = get_str(r, a->id, sizeof(a->id));

	a->answer = (enum probe_answer)get_u8(r);
	if (rc == 0)
		rc = get_str(r, a->reason, sizeof(a->reason));
	if (rc < 0)
		return rc;
	if ((unsigned)a->answer >= PROBE_ANSWER_X_MAX)
		return -ERR_RANGE;
	if (!a->id[0] || (known && !known(a->id)))
		return -ERR_POLICY;
	return 0;
}

static int get_probe(struct rcur *r, frame_known_id_fn *known, struct frame_result *out)
{
	struct probe_result *res = &out->probe;
	int rc;

	res->state = (enum service_state)get_u8(r);
	if ((rc = get_str(r, res->service, sizeof(res->service))) < 0)
		return rc;
	if ((unsigned)res->state >= SERVICE_X_MAX)
		return -ERR_RANGE;
	res->n_findings = get_u8(r);
	if (res->n_findings > PROBE_MAX_FINDINGS)
		return -ERR_RANGE;
	for (size_t i = 0; i < res->n_findings; i++)
		if ((rc = get_finding(r, known, &res->findings[i])) < 0)
			return rc;
	res->n_answers = get_u8(r);
	if (res->n_answers > PROBE_MAX_ANSWERS)
		return -ERR_RANGE;
	for (size_t i = 0; i < res->n_answers; i++)
		if ((rc = get_answer(r, known, &res->answers[i])) < 0)
			return rc;
	out->details_len = get_u32(r);
	out->details = get(r, out->details_len);
	if (r->bad)
		return -ERR_PROTO;
	/* compact JSON with \u escapes (JSON_ENSURE_ASCII): nothing but printable ASCII */
	for (uint32_t i = 0; i < out->details_len; i++)
		if (out->details[i] < 0x20 || out->details[i] > 0x7e)
			return -ERR_PROTO;
	if (!out->details_len)
		out->details = NULL;
	return 0;
}

int frame_result_decode(const uint8_t *p, size_t n, frame_known_id_fn *known,
                        struct frame_result *out)
{
	struct rcur r = {p, n, 0, false};
	struct port_result *pr = &out->port;
	unsigned probed;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->id = get_u32(&r);
	pr->state = (enum port_state)get_u8(&r);
	pr->reason = (enum port_reason)get_u8(&r);
	pr->icmp_type = (int)get_u16(&r) - 1;
	pr->icmp_code = (int)get_u16(&r) - 1;
	pr->sys_errno = (int)get_u16(&r);
	pr->rtt_ms = get_f64(&r);
	pr->tries = get_u8(&r);
	probed = get_u8(&r);
	if (r.bad)
		return -ERR_PROTO;
	if (!port_result_ok(pr) || probed > 1)
		return -ERR_RANGE;
	out->probed = probed;
	if (probed)
		rc = get_probe(&r, known, out);
	if (rc < 0)
		return rc;
	return r.bad || r.off != n ? -ERR_PROTO : 0;
}
