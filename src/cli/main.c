/* SPDX-License-Identifier: MIT */
/* Placeholder entry point until the CLI lands. */
#include <stdio.h>

int main(void)
{
	fputs("exposure: not built yet\n", stderr);
	return 2;
}
