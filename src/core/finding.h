/* SPDX-License-Identifier: MIT */
/* Findings: what a check concluded, with severity and confidence. Shared by every layer. */
#ifndef EXPOSURE_CORE_FINDING_H
#define EXPOSURE_CORE_FINDING_H

#include <stddef.h>

/* Ordered: a larger value is worse. */
enum severity {
	SEVERITY_INFO = 0,
	SEVERITY_LOW,
	SEVERITY_MEDIUM,
	SEVERITY_HIGH,
	SEVERITY_CRITICAL,
	SEVERITY_X_MAX
};

/* How sure we are. UNKNOWN means "could not decide" and must never be shown as safe. */
enum confidence {
	CONFIDENCE_CONFIRMED = 0,
	CONFIDENCE_LIKELY,
	CONFIDENCE_POSSIBLE,
	CONFIDENCE_UNKNOWN,
	CONFIDENCE_X_MAX
};

#define FINDING_ID_MAX     40
#define FINDING_REASON_MAX 160

/* One finding. id is a stable contract ("smb1-enabled"); reason explains UNKNOWN and others. */
struct finding {
	char id[FINDING_ID_MAX];
	enum severity severity;
	enum confidence confidence;
	char reason[FINDING_REASON_MAX]; /* plain ASCII, may be empty */
};

/* "critical", "high", "medium", "low", "info". */
const char *severity_name(enum severity s);
/* "confirmed", "likely", "possible", "unknown". */
const char *confidence_name(enum confidence c);
/* Parse the names above. Return 0 or -ERR_SYNTAX. */
int severity_parse(const char *name, enum severity *out);
int confidence_parse(const char *name, enum confidence *out);

#endif
