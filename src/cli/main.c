/* SPDX-License-Identifier: MIT */
/* The `exposure` command: dispatch to its subcommands. */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

/* The intro's width (as first written, so that it reads the same), and its paragraph's ceiling. */
#define USAGE_WIDTH    82
#define USAGE_PARA_MAX 4096

#ifndef EXPOSURE_VERSION
#define EXPOSURE_VERSION "unknown"
#endif

/* "Which dangerous doors (SSH, Telnet, ...) does a machine...": the doors from the catalogue. */
static void usage_doors(FILE *f)
{
	struct sbuf b;

	sbuf_init(&b, USAGE_PARA_MAX);
	sbuf_add(&b, "Which dangerous doors (");
	checks_doors(&b, DOORS_TITLES, DOORS_ALL);
	sbuf_add(&b, ") does a machine leave open to the network, in plain words.");
	text_wrap(f,
	          b.err ? "Which dangerous doors does a machine leave open to the network, in "
	                  "plain words."
	                : sbuf_str(&b),
	          USAGE_WIDTH);
	sbuf_free(&b);
}

static void usage(FILE *f)
{
	fputs("Usage: exposure COMMAND [OPTIONS]\n"
	      "\n",
	      f);
	usage_doors(f);
	fputs("\n"
	      "Commands:\n"
	      "  check TARGET...   diagnose addresses you may test ('exposure check --help')\n"
	      "  serve             the web self-diagnosis service ('exposure serve --help')\n"
	      "  report            statistics of the stored results ('exposure report --help')\n"
	      "  sweep TARGET...   diagnose your own blocks at speed ('exposure sweep --help')\n"
	      "  store copy FROM TO copy a store into another ('exposure store --help')\n"
	      "\n"
	      "Options:\n"
	      "  --help            this text\n"
	      "  --version         the version\n",
	      f);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		fputs("exposure: no command given (try 'exposure --help')\n", stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("exposure %s\n", EXPOSURE_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(argv[1], "sweep") == 0)
		return cmd_sweep(argc - 1, argv + 1);
	if (strcmp(argv[1], "store") == 0)
		return cmd_store(argc - 1, argv + 1);
	fprintf(stderr, "exposure: unknown command '%s' (try 'exposure --help')\n", argv[1]);
	return 2;
}
