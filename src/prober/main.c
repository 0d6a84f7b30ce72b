/* SPDX-License-Identifier: MIT */
/*
 * exposure-prober: the sandboxed prober process that exposure serve, check and sweep run
 * (prober.h, docs/internals/PRIVSEP.md). Never typed by hand: any other command line exits 2.
 */
#include "prober/prober.h"

int main(int argc, char **argv)
{
	return prober_main(argc, argv);
}
