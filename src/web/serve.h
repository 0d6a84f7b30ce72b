/* SPDX-License-Identifier: MIT */
/* The web self-diagnosis service (docs/api.md), run by `exposure serve` (src/cli/cmd_serve.c). */
#ifndef EXPOSURE_WEB_SERVE_H
#define EXPOSURE_WEB_SERVE_H

struct web_config;

/*
 * Run the service with cfg (checked by web_config_check) until SIGINT or SIGTERM, and return
 * the process exit status: 0 after a clean stop, 2 on a start-up error (the reason is printed
 * on stderr).
 */
int serve_run(const struct web_config *cfg);

#endif
