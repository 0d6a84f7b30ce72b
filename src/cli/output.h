/* SPDX-License-Identifier: MIT */
/* Human output of `exposure check`: rows, live progress, summaries (output_text.c). */
#ifndef EXPOSURE_CLI_OUTPUT_H
#define EXPOSURE_CLI_OUTPUT_H

#include "diagnosis/diagnosis.h"
#include "diagnosis/visit.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct text_out_opts {
	bool tty;     /* f is a terminal: rows as they finish, progress lines */
	bool color;   /* ANSI colours (only ever with tty) */
	bool explain; /* all advice, not just the title and first action */
	bool multi;   /* several addresses in this run */
	size_t total; /* addresses in this run, for the progress header */
};

struct text_out;

struct text_out *text_out_new(FILE *f, const struct text_out_opts *o);
void text_out_free(struct text_out *t);

/* A check of d finished (single-address runs on a terminal print its row now). */
void text_check_done(struct text_out *t, const struct diagnosis *d, size_t check);

/* d finished: print what was not printed yet (header, rows, findings, summary). */
void text_target_done(struct text_out *t, const struct diagnosis *d);

/*
 * The addresses of one host name that resolved to both families finished: each address's rows
 * as text_target_done() prints them, one after the other, then what only the families taken
 * together show (ipv6-only-exposure, ipv4-only-exposure) with its advice.
 */
void text_visit_done(struct text_out *t, const struct visit *v);

/*
 * Redraw the live progress lines of the diagnoses in flight (terminal, several addresses).
 * Throttled to one redraw per 100 ms unless force. now_ms: a monotonic clock.
 */
void text_progress(struct text_out *t, struct diagnosis *const *active, size_t n, uint64_t now_ms,
                   bool force);

/* Erase the progress lines for good (end of run). */
void text_finish(struct text_out *t);

/* The plain sentence printed for a check of def whose result (diagnosis_check_result()) is pr. */
const char *text_sentence(const struct check_def *def, const struct port_result *pr);

#endif
