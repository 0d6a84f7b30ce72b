/* SPDX-License-Identifier: MIT */
/*
 * Pure parser for the lines an rsync daemon sends before any file is transferred (rsync's
 * rsyncd.conf(5) and clientserver.c; docs/internals/PROBES.md, "rsync"): the greeting
 * "@RSYNCD: <major>.<minor>[ <digests>]", the module list ("<name padded>\t<comment>" lines
 * ended by "@RSYNCD: EXIT"), and the answers to opening a module: "@RSYNCD: OK",
 * "@RSYNCD: AUTHREQD <challenge>" or "@ERROR: <text>". Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_RSYNC_PARSE_H
#define EXPOSURE_PROBES_PARSE_RSYNC_PARSE_H

#include "probes/parse/parse.h"

/* Longest line read (rsync's own lines are at most a few hundred bytes; its buffer is 1 KiB). */
#define RSYNC_LINE_MAX 1024
/* Module names and comments kept (rsync allows longer names; they are cut, truncated = true). */
#define RSYNC_NAME_MAX    64
#define RSYNC_COMMENT_MAX 128
#define RSYNC_TEXT_MAX    256

enum rsync_line_kind {
	RSYNC_LINE_GREETING = 1, /* "@RSYNCD: 31.0 sha512 ..." (version; digests in text) */
	RSYNC_LINE_OK,           /* "@RSYNCD: OK": the module opened without authentication */
	RSYNC_LINE_AUTHREQD,     /* "@RSYNCD: AUTHREQD <challenge>": a password is asked */
	RSYNC_LINE_EXIT,         /* "@RSYNCD: EXIT": end of the module list */
	RSYNC_LINE_ERROR,        /* "@ERROR: <text>" (access denied, unknown module, ...) */
	RSYNC_LINE_OTHER_AT,     /* another "@RSYNCD: ..." line (text holds it) */
	RSYNC_LINE_MODULE,       /* "<name>\t<comment>": one module of the list */
	RSYNC_LINE_TEXT,         /* any other line: the message of the day */
};

struct rsync_line {
	enum rsync_line_kind kind;
	unsigned major, minor; /* GREETING; minor 0 when absent (protocol < 30) */
	bool has_minor;
	char name[RSYNC_NAME_MAX];       /* MODULE: the name without its padding */
	char comment[RSYNC_COMMENT_MAX]; /* MODULE: the comment */
	char text[RSYNC_TEXT_MAX]; /* GREETING: the digest list; ERROR/TEXT/OTHER_AT: the line */
	bool truncated;            /* a text field was cut */
};

/*
 * One line ending in LF (a CR before it is dropped). Returns the bytes consumed (the line and
 * its LF), PARSE_AGAIN when no LF is in the first RSYNC_LINE_MAX bytes yet, -ERR_TOOBIG for a
 * longer line, -ERR_SYNTAX for a NUL byte, or for an "@RSYNCD: " greeting whose version is not
 * digits[.digits] (want_greeting: the line must be the greeting, anything else -ERR_PROTO).
 */
int rsync_parse_line(const uint8_t *buf, size_t len, bool want_greeting, struct rsync_line *out);

#endif
