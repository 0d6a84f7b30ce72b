/* SPDX-License-Identifier: MIT */
/* Stand-alone `exposure-serve` for tests until `exposure serve` is wired in src/cli/main.c. */
#include "web/serve.h"

int main(int argc, char **argv)
{
	return serve_main(argc, argv);
}
