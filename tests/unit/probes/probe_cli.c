/* SPDX-License-Identifier: MIT */
/*
 * probe_cli PROBE HOST PORT: run one probe against a real socket with the test driver (drive.h)
 * and print its result as one JSON object (state, service, findings, details, plus the driver's
 * elapsed_ms, conns and end). For emulator and lab tests; the product path is the engine.
 * probe_cli --deadlines PROBE: print the probe's idle_ms and total_ms (probe_ops) as one JSON
 * object, so that the tests read them from the probe instead of keeping a copy.
 */
#include "drive.h"
#include "core/decimal.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(int argc, char **argv)
{
	static const char *const ends[PROBE_END_X_MAX + 1] = {
	    "closed", "reset", "idle", "deadline", "toobig", "connect", "done"};
	const struct probe_ops *ops;
	struct probe_result r;
	struct drive_stats st;
	json_t *j;
	uint32_t port;
	int rc;

	if (argc == 3 && strcmp(argv[1], "--deadlines") == 0 &&
	    (ops = probe_by_name(argv[2])) != NULL) {
		printf("{\"idle_ms\": %u, \"total_ms\": %u}\n", ops->idle_ms, ops->total_ms);
		return 0;
	}
	if (argc != 4 || (ops = probe_by_name(argv[1])) == NULL ||
	    decimal_u32_in(argv[3], 1, 65535, &port) < 0) {
		fprintf(stderr, "usage: probe_cli ssh|telnet|rdp|vnc HOST PORT\n"
		                "       probe_cli --deadlines PROBE\n");
		return 2;
	}
	rc = net_run(ops, argv[2], (uint16_t)port, &r, &st);
	if (rc < 0) {
		fprintf(stderr, "probe_cli: %s %s\n", err_name(rc), drive_error);
		probe_result_done(&r);
		return 1;
	}
	j = drive_result_json(&r);
	json_object_set_new(j, "elapsed_ms", json_integer((json_int_t)st.elapsed_ms));
	json_object_set_new(j, "conns", json_integer(st.conns));
	json_object_set_new(j, "end", json_string(ends[st.last_end]));
	json_dumpf(j, stdout, JSON_COMPACT | JSON_SORT_KEYS);
	putchar('\n');
	json_decref(j);
	probe_result_done(&r);
	return 0;
}
