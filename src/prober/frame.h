/* SPDX-License-Identifier: MIT */
/*
 * The framing between the front and its probers (docs/internals/PRIVSEP.md): pure encoders and
 * decoders, no I/O, no allocation, no JSON parsing. A frame is a 5-byte header (type, then the
 * payload's length as a big-endian u32) and at most FRAME_PAYLOAD_MAX bytes of payload. Jobs go
 * down (one port of one address, as engine_submit takes it), results come up (what engine_done_cb
 * hands over). The front trusts nothing a prober sends: frame_result_decode checks every length,
 * enum, count, number range and text byte, and asks the caller whether each finding id is known.
 */
#ifndef EXPOSURE_PROBER_FRAME_H
#define EXPOSURE_PROBER_FRAME_H

#include "core/addr.h"
#include "engine/engine.h"
#include "probes/probe.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FRAME_HEADER_LEN  5
#define FRAME_PAYLOAD_MAX (64u * 1024)
#define FRAME_MAX         (FRAME_HEADER_LEN + FRAME_PAYLOAD_MAX)
#define FRAME_PROBE_MAX   16 /* a probe's name, NUL included ("ssh", "smb", ...) */

/* Ceilings a result must respect (a port's verdict never takes an hour; errno fits 12 bits). */
#define FRAME_RTT_MAX_MS 3600000.0
#define FRAME_TRIES_MAX  64

enum frame_type {
	FRAME_JOB = 1,    /* front -> prober: probe one port */
	FRAME_RESULT = 2, /* prober -> front: that port's finished result */
	FRAME_PING = 3,   /* front -> prober: heartbeat, payload echoed */
	FRAME_PONG = 4,   /* prober -> front: the ping's payload */
	FRAME_X_MAX
};

/* A whole frame found in a byte stream; payload points into the caller's buffer. */
struct frame {
	enum frame_type type;
	const uint8_t *payload;
	uint32_t len;
};

struct frame_job {
	uint32_t id;                 /* chosen by the front, echoed in the result */
	uint32_t target;             /* the front's target: jobs of one share an RTT estimate */
	struct addr addr;            /* already checked against the policy by the front */
	uint16_t port;               /* 1..65535 */
	uint32_t timeout_ms;         /* the target's fixed per-attempt timeout, 0 = adapt */
	char probe[FRAME_PROBE_MAX]; /* "" = port state only */
};

struct frame_result {
	uint32_t id;
	struct port_result port;
	bool probed;               /* false: no probe ran (engine_done_cb's res == NULL) */
	struct probe_result probe; /* probe.details is always NULL: see details below */
	const uint8_t *details;    /* compact JSON text of the details object, in the payload */
	uint32_t details_len;      /* 0 = none */
};

/* Whether a finding id may be shown (the front passes catalogue_raises); NULL accepts any. */
typedef bool frame_known_id_fn(const char *id);

/*
 * Find one frame at the start of buf. Returns the bytes it takes (> 0), 0 when more bytes are
 * needed, -ERR_TOOBIG when the header announces more than FRAME_PAYLOAD_MAX, -ERR_PROTO for an
 * unknown type. Either error means the stream cannot be resynchronised: close it.
 */
int frame_decode(const uint8_t *buf, size_t len, struct frame *out);

/* Write a frame of type t with payload p (n bytes) into dst (size bytes). Returns the length
 * written or -ERR_TOOBIG. */
int frame_encode(uint8_t *dst, size_t size, enum frame_type t, const void *p, size_t n);

/* A job's frame into dst. Returns the length or -ERR_TOOBIG / -ERR_RANGE (bad field). */
int frame_job_encode(uint8_t *dst, size_t size, const struct frame_job *job);

/* A JOB payload into *out. Returns 0 or -ERR_PROTO / -ERR_RANGE. */
int frame_job_decode(const uint8_t *p, size_t n, struct frame_job *out);

/*
 * A result's frame into dst: pr, res (NULL when no probe ran) without its details, and the
 * details as JSON text (details_len bytes, ASCII; NULL/0 for none). Returns the length or
 * -ERR_TOOBIG (the caller may retry without details) / -ERR_RANGE (a field the front would
 * refuse: the prober's bug, reported rather than sent).
 */
int frame_result_encode(uint8_t *dst, size_t size, uint32_t id, const struct port_result *pr,
                        const struct probe_result *res, const char *details, size_t details_len);

/*
 * A RESULT payload into *out (zeroed first). Returns 0, or -ERR_PROTO (malformed, trailing
 * bytes, bad text), -ERR_RANGE (an enum, count or number out of range) or -ERR_POLICY (a finding
 * or question id that known() refuses). On error *out must not be used.
 */
int frame_result_decode(const uint8_t *p, size_t n, frame_known_id_fn *known,
                        struct frame_result *out);

#endif
