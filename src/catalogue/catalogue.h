/* SPDX-License-Identifier: MIT */
/* The catalogue of checks: which doors exposure looks at, on which ports, and what an open one
 * means. */
#ifndef EXPOSURE_DIAGNOSIS_CATALOGUE_H
#define EXPOSURE_DIAGNOSIS_CATALOGUE_H

#include "core/finding.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CHECK_MAX_PORTS 16

struct check_def {
	const char *name;  /* stable id: "ssh", "smb", ... (JSON "check", --port CHECK=) */
	const char *probe; /* probe_by_name() key; the protocol check behind an open port */
	uint16_t first_port, last_port; /* default range, inclusive (one port: first == last) */
	const char *exposed_id;         /* finding for an open port: "ssh-exposed" */
	enum severity exposed_severity;
	enum confidence exposed_confidence; /* before the protocol check confirms anything */
	const char *label_en;               /* "Remote login (SSH)" */
	const char *label_ja;
	const char *open_en; /* one plain sentence: what an open port means */
	const char *open_ja;
};

/* The default catalogue, in display order. */
const struct check_def *catalogue_checks(size_t *count);

/* A check by name, or NULL. */
const struct check_def *catalogue_find(const char *name);

/* The ports a check probes, after overrides: first..last inclusive. */
struct check_ports {
	uint16_t first, last;
};

/*
 * Per-run overrides of a check's ports (--port CHECK=PORT or CHECK=FIRST-LAST), indexed like
 * catalogue_checks(). A range is at most CHECK_MAX_PORTS ports.
 */
struct port_overrides {
	bool set[16];
	struct check_ports ports[16];
};

/*
 * Parse "CHECK=PORT" or "CHECK=FIRST-LAST" into o. Returns 0; -ERR_SYNTAX (malformed, names the
 * problem in err), -ERR_RANGE (port 0 or > 65535, or range too long) or -ERR_UNSUPPORTED
 * (unknown check). err gets a one-line message on failure.
 */
int port_override_parse(struct port_overrides *o, const char *text, char *err, size_t errlen);

/* The effective ports of catalogue entry i. */
struct check_ports catalogue_ports(const struct port_overrides *o, size_t i);

#endif
