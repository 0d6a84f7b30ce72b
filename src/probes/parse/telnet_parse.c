/* SPDX-License-Identifier: MIT */
/* Telnet IAC scanner, prompt classification and refusal builder (telnet_parse.h). */
#include "probes/parse/telnet_parse.h"

#include <string.h>

static void optset_add(struct telnet_optset *s, uint8_t opt)
{
	s->bits[opt >> 3] = (uint8_t)(s->bits[opt >> 3] | 1u << (opt & 7));
}

static void add_cmd(struct telnet_scan *out, uint8_t verb, uint8_t opt)
{
	struct telnet_optset *set;

	switch (verb) {
	case TELNET_WILL:
		set = &out->will;
		break;
	case TELNET_WONT:
		set = &out->wont;
		break;
	case TELNET_DO:
		set = &out->do_;
		break;
	case TELNET_DONT:
		set = &out->dont;
		break;
	default:
		set = &out->sb;
		break;
	}
	optset_add(set, opt);
	if (out->ncmds < TELNET_CMDS_KEEP)
		out->cmds[out->ncmds] = (struct telnet_cmd){.verb = verb, .option = opt};
	out->ncmds++;
}

static void add_text(struct telnet_scan *out, char c)
{
	if (out->text_len >= TELNET_TEXT_MAX) {
		out->truncated = true;
		return;
	}
	out->text[out->text_len++] = c;
}

/*
 * Length of the subnegotiation starting at buf[0] = IAC, buf[1] = SB, through IAC SE; 0 when not
 * closed yet; -ERR_TOOBIG past TELNET_SB_MAX. IAC IAC inside is data (PROTOCOLS.md §3.2).
 */
static int sb_len(const uint8_t *buf, size_t len)
{
	size_t i = 2;

	while (i < len) {
		if (i > TELNET_SB_MAX)
			return -ERR_TOOBIG;
		if (buf[i] != TELNET_IAC) {
			i++;
			continue;
		}
		if (i + 1 >= len)
			return 0;
		if (buf[i + 1] == TELNET_SE)
			return (int)(i + 2);
		i += 2; /* IAC IAC (data) or a stray command inside SB: skipped */
	}
	return len > TELNET_SB_MAX + 2 ? -ERR_TOOBIG : 0;
}

/* One data byte into text: RFC 854 NVT rules for CR, then the sanitising of telnet_scan.text. */
static size_t data_byte(const uint8_t *buf, size_t len, size_t i, struct telnet_scan *out)
{
	uint8_t c = buf[i];

	if (c == 0)
		return 1;
	if (c == '\r') {
		add_text(out, '\n');
		if (i + 1 < len && (buf[i + 1] == '\n' || buf[i + 1] == 0))
			return 2;
		return 1;
	}
	if (c == '\n')
		add_text(out, '\n');
	else if (c == '\t')
		add_text(out, ' ');
	else
		add_text(out, (c >= 0x20 && c < 0x7f) ? (char)c : '?');
	return 1;
}

int telnet_parse(const uint8_t *buf, size_t len, struct telnet_scan *out)
{
	size_t i = 0;

	memset(out, 0, sizeof(*out));
	while (i < len) {
		if (buf[i] != TELNET_IAC) {
			i += data_byte(buf, len, i, out);
			continue;
		}
		if (i + 1 >= len)
			break;
		uint8_t verb = buf[i + 1];

		if (verb == TELNET_IAC) {
			out->data_ff++;
			add_text(out, '?');
			i += 2;
		} else if (verb >= TELNET_WILL) {
			if (i + 2 >= len)
				break;
			add_cmd(out, verb, buf[i + 2]);
			i += 3;
		} else if (verb == TELNET_SB) {
			int n = sb_len(buf + i, len - i);

			if (n < 0)
				return n;
			if (n == 0)
				break;
			if (n > 4)
				add_cmd(out, TELNET_SB, buf[i + 2]);
			i += (size_t)n;
		} else {
			/* any other command byte (and invalid ones < 0xF0): two bytes, no option */
			out->nother++;
			i += 2;
		}
	}
	out->text[out->text_len] = '\0';
	return (int)i;
}

static char lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Offset of the first case-insensitive match of needle in text[0..len), or -1. */
static long find_ci(const char *text, size_t len, const char *needle)
{
	size_t n = strlen(needle);

	for (size_t i = 0; i + n <= len; i++) {
		size_t j = 0;

		while (j < n && lower(text[i + j]) == needle[j])
			j++;
		if (j == n)
			return (long)i;
	}
	return -1;
}

static long min_pos(long a, long b)
{
	if (a < 0)
		return b;
	if (b < 0)
		return a;
	return a < b ? a : b;
}

static bool starts_with(const char *text, size_t len, const char *s)
{
	size_t n = strlen(s);

	return len >= n && memcmp(text, s, n) == 0;
}

/* Banner: the text before the start of the last line when that line holds the prompt. */
static void make_banner(const char *text, size_t len, bool prompt_last,
                        struct telnet_text_class *out)
{
	size_t b = 0, e = len;

	if (prompt_last) {
		while (e > 0 && text[e - 1] != '\n')
			e--;
	}
	while (b < e && (text[b] == '\n' || text[b] == ' '))
		b++;
	while (e > b && (text[e - 1] == '\n' || text[e - 1] == ' '))
		e--;
	size_t n = e - b < sizeof(out->banner) - 1 ? e - b : sizeof(out->banner) - 1;

	for (size_t i = 0; i < n; i++) {
		char c = text[b + i];

		out->banner[i] = (c == '\n' || (c >= 0x20 && c < 0x7f)) ? c : '?';
	}
	out->banner[n] = '\0';
	out->truncated = n < e - b;
}

int telnet_classify(const char *text, size_t len, struct telnet_text_class *out)
{
	long login, user, user2, pass, auth, shell;
	size_t e = len;

	memset(out, 0, sizeof(*out));
	login = find_ci(text, len, "login:");
	user = find_ci(text, len, "username:");
	user2 = find_ci(text, len, "user name:");
	pass = find_ci(text, len, "password:");
	out->login_prompt = login >= 0 || user >= 0 || user2 >= 0;
	out->password_prompt = pass >= 0;
	auth = min_pos(min_pos(login, user), min_pos(user2, pass));

	if (e >= 2 && text[e - 1] == ' ' &&
	    (text[e - 2] == '#' || text[e - 2] == '$' || text[e - 2] == '>'))
		out->shell_prompt = true;
	shell = min_pos(find_ci(text, len, "built-in shell"), find_ci(text, len, "enter 'help'"));
	out->shell_banner = shell >= 0;
	if (out->shell_prompt && shell < 0)
		shell = (long)len - 2;
	out->no_auth_shell = shell >= 0 && (auth < 0 || auth > shell);

	if (starts_with(text, len, "SSH-"))
		out->service = TELNET_SVC_SSH;
	else if (starts_with(text, len, "HTTP/"))
		out->service = TELNET_SVC_HTTP;
	else if (starts_with(text, len, "RFB "))
		out->service = TELNET_SVC_RFB;

	make_banner(text, len, out->shell_prompt || out->login_prompt || out->password_prompt, out);
	return 0;
}

/* Replies for the requests of one verb set not answered yet; counts only when dst is NULL. */
static size_t replies(const struct telnet_optset *req, struct telnet_optset *done, bool is_will,
                      unsigned flags, uint8_t *dst)
{
	size_t n = 0;

	for (unsigned o = 0; o < 256; o++) {
		uint8_t opt = (uint8_t)o;
		bool accept = is_will && (flags & TELNET_REPLY_ACCEPT_ECHO_SGA) &&
		              (opt == TELNET_OPT_ECHO || opt == TELNET_OPT_SGA);

		if (!telnet_optset_has(req, opt) || telnet_optset_has(done, opt))
			continue;
		if (dst) {
			dst[n] = TELNET_IAC;
			dst[n + 1] = is_will ? (accept ? TELNET_DO : TELNET_DONT) : TELNET_WONT;
			dst[n + 2] = opt;
			optset_add(done, opt);
		}
		n += 3;
	}
	return n;
}

int telnet_build_replies(const struct telnet_scan *scan, struct telnet_answered *ans,
                         unsigned flags, uint8_t *dst, size_t cap)
{
	size_t need = replies(&scan->do_, &ans->do_, false, flags, NULL) +
	              replies(&scan->will, &ans->will, true, flags, NULL);
	size_t n;

	if (need > cap)
		return -ERR_TOOBIG;
	if (need == 0)
		return 0;
	n = replies(&scan->do_, &ans->do_, false, flags, dst);
	n += replies(&scan->will, &ans->will, true, flags, dst + n);
	return (int)n;
}
