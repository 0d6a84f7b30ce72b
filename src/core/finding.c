/* SPDX-License-Identifier: MIT */
/* Names of severities and confidences (finding.h). */
#include "core/finding.h"
#include "core/err.h"

#include <string.h>

static const char *const severity_names[SEVERITY_X_MAX] = {
    [SEVERITY_INFO] = "info", [SEVERITY_LOW] = "low",           [SEVERITY_MEDIUM] = "medium",
    [SEVERITY_HIGH] = "high", [SEVERITY_CRITICAL] = "critical",
};

static const char *const confidence_names[CONFIDENCE_X_MAX] = {
    [CONFIDENCE_CONFIRMED] = "confirmed",
    [CONFIDENCE_LIKELY] = "likely",
    [CONFIDENCE_POSSIBLE] = "possible",
    [CONFIDENCE_UNKNOWN] = "unknown",
};

const char *severity_name(enum severity s)
{
	return (unsigned)s < SEVERITY_X_MAX ? severity_names[s] : "unknown";
}

const char *confidence_name(enum confidence c)
{
	return (unsigned)c < CONFIDENCE_X_MAX ? confidence_names[c] : "unknown";
}

int severity_parse(const char *name, enum severity *out)
{
	for (int i = 0; i < SEVERITY_X_MAX; i++) {
		if (strcmp(name, severity_names[i]) == 0) {
			*out = (enum severity)i;
			return 0;
		}
	}
	return -ERR_SYNTAX;
}

int confidence_parse(const char *name, enum confidence *out)
{
	for (int i = 0; i < CONFIDENCE_X_MAX; i++) {
		if (strcmp(name, confidence_names[i]) == 0) {
			*out = (enum confidence)i;
			return 0;
		}
	}
	return -ERR_SYNTAX;
}
