/* SPDX-License-Identifier: MIT */
/*
 * Pure Telnet helpers: an IAC scanner that separates option negotiation (RFC 854, RFC 855) from
 * text, the prompt classification of PROTOCOLS.md §3.3, and a builder of the refusals (WONT/DONT)
 * a probe sends back (§3.2 step 3). Conventions of parse.h: no I/O, no allocation.
 */
#ifndef EXPOSURE_PROBES_PARSE_TELNET_PARSE_H
#define EXPOSURE_PROBES_PARSE_TELNET_PARSE_H

#include "probes/parse/parse.h"

/* RFC 854 command bytes. */
enum telnet_cmd_byte {
	TELNET_SE = 0xF0,
	TELNET_NOP = 0xF1,
	TELNET_DM = 0xF2,
	TELNET_GA = 0xF9,
	TELNET_SB = 0xFA,
	TELNET_WILL = 0xFB,
	TELNET_WONT = 0xFC,
	TELNET_DO = 0xFD,
	TELNET_DONT = 0xFE,
	TELNET_IAC = 0xFF,
};

/* A few option numbers of the IANA registry (PROTOCOLS.md §3.1). */
enum telnet_option {
	TELNET_OPT_BINARY = 0,
	TELNET_OPT_ECHO = 1,
	TELNET_OPT_SGA = 3,
	TELNET_OPT_TTYPE = 24,
	TELNET_OPT_NAWS = 31,
	TELNET_OPT_TSPEED = 32,
	TELNET_OPT_LINEMODE = 34,
	TELNET_OPT_XDISPLOC = 35,
	TELNET_OPT_NEW_ENVIRON = 39,
};

/* Bytes of text kept (the probe reads at most 4 KiB, PROTOCOLS.md §3.2). */
#define TELNET_TEXT_MAX 4096
/* Longest subnegotiation accepted (PROTOCOLS.md §3.2 step 2). */
#define TELNET_SB_MAX 512
/* Negotiation commands kept in arrival order (all of them are in the bitmaps). */
#define TELNET_CMDS_KEEP 64

struct telnet_cmd {
	uint8_t verb; /* TELNET_WILL / WONT / DO / DONT, or TELNET_SB for a subnegotiation */
	uint8_t option;
};

/* 256-bit set of option numbers: bit (opt % 8) of byte (opt / 8). */
struct telnet_optset {
	uint8_t bits[32];
};

static inline bool telnet_optset_has(const struct telnet_optset *s, uint8_t opt)
{
	return (s->bits[opt >> 3] >> (opt & 7)) & 1;
}

/* Result of scanning the bytes a server sent (from the start of the connection). */
struct telnet_scan {
	unsigned ncmds; /* negotiation commands (WILL/WONT/DO/DONT/SB) seen */
	struct telnet_cmd cmds[TELNET_CMDS_KEEP];       /* the first TELNET_CMDS_KEEP of them */
	struct telnet_optset will, wont, do_, dont, sb; /* options per verb */
	unsigned nother;  /* two-byte commands (NOP, GA, DM, AYT...) */
	unsigned data_ff; /* data bytes 0xFF (sent as IAC IAC) */
	/*
	 * The data with IAC sequences removed, NUL dropped, CR LF / CR NUL / bare CR turned into
	 * '\n', tab into ' ', and every other byte outside printable ASCII (ESC, 0xFF, UTF-8...)
	 * into '?': only printable ASCII and '\n'. NUL-terminated.
	 */
	char text[TELNET_TEXT_MAX + 1];
	size_t text_len;
	bool truncated; /* text was longer than TELNET_TEXT_MAX */
};

/*
 * Scan buf (everything the server sent so far, from the first byte: the scan is stateless, call
 * it again on the grown buffer) with the IAC state machine of PROTOCOLS.md §3.2 step 2.
 * Returns the bytes consumed: all of buf except an incomplete command at its end (IAC, IAC verb,
 * or an SB not yet closed by IAC SE), which the caller keeps for the next call. PARSE_AGAIN when
 * nothing complete is present. -ERR_TOOBIG for a subnegotiation longer than TELNET_SB_MAX.
 */
int telnet_parse(const uint8_t *buf, size_t len, struct telnet_scan *out);

enum telnet_service {
	TELNET_SVC_TELNET = 0, /* nothing says otherwise */
	TELNET_SVC_SSH,        /* text begins "SSH-" */
	TELNET_SVC_HTTP,       /* text begins "HTTP/" */
	TELNET_SVC_RFB,        /* text begins "RFB " */
	TELNET_SVC_X_MAX
};

/* Classification of the text of a telnet_scan (PROTOCOLS.md §3.3). */
struct telnet_text_class {
	bool login_prompt;    /* "login:", "username:" or "user name:" (any case) */
	bool password_prompt; /* "password:" (any case) */
	bool shell_prompt;    /* the text ends with "# ", "$ " or "> " */
	bool shell_banner;    /* "built-in shell" or "Enter 'help'" */
	/* shell prompt or shell banner with no login/password prompt before it */
	bool no_auth_shell;
	enum telnet_service service;
	char banner[512]; /* first lines before the prompt line, blank lines trimmed */
	bool truncated;   /* banner was cut */
};

/*
 * Classify text (as produced in telnet_scan.text: printable ASCII and '\n', len bytes; need not
 * be NUL-terminated). Never fails; returns 0.
 */
int telnet_classify(const char *text, size_t len, struct telnet_text_class *out);

/* Requests answered so far on one connection (kept by the caller, zeroed at connect). */
struct telnet_answered {
	struct telnet_optset do_, will;
};

enum telnet_reply_flags {
	/* answer WILL ECHO / WILL SGA with DO, as a real client does (§3.2 step 3, optional) */
	TELNET_REPLY_ACCEPT_ECHO_SGA = 1 << 0,
};

/*
 * Write into dst the replies to the requests of scan not answered yet: DO x -> IAC WONT x,
 * WILL x -> IAC DONT x (or IAC DO x for ECHO/SGA with TELNET_REPLY_ACCEPT_ECHO_SGA); nothing for
 * WONT/DONT (RFC 854 loop rule: never acknowledge a refusal). Marks them in *ans so each request
 * is answered once per connection (RFC 1143). Options are answered in ascending order, DOs first.
 * Returns the bytes written (0 when there is nothing to answer); -ERR_TOOBIG when cap is too
 * small for all replies (nothing written, *ans unchanged).
 */
int telnet_build_replies(const struct telnet_scan *scan, struct telnet_answered *ans,
                         unsigned flags, uint8_t *dst, size_t cap);

#endif
