/* SPDX-License-Identifier: MIT */
/* `exposure serve`: the web self-diagnosis service (docs/api.md). */
#ifndef EXPOSURE_WEB_SERVE_H
#define EXPOSURE_WEB_SERVE_H

/*
 * Parse the serve options (argv[0] is the command name), run the service until SIGINT or
 * SIGTERM, and return the process exit status: 0 after a clean stop, 2 on a usage or start-up
 * error (the reason is printed on stderr).
 */
int serve_main(int argc, char **argv);

#endif
