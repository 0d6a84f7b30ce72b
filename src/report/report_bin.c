/* SPDX-License-Identifier: MIT */
/* exposure-report: `exposure report` as its own program, for tests and benchmarks. */
#include "report/report_cmd.h"

int main(int argc, char **argv)
{
	return report_main(argc, argv);
}
