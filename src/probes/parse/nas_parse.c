/* SPDX-License-Identifier: MIT */
/* HTTP response heads and NAS page markers (nas_parse.h). */
#include "probes/parse/nas_parse.h"
#include "core/decimal.h"

#include <string.h>

/* Synology DSM markers (PROBES.md, "NAS admin pages", with their sources). */
enum {
	SYNO_SESSION = 1u << 0, /* "SYNO.SDS.Session" (DSM 4-6 login page script) */
	SYNO_JSLIB = 1u << 1,   /* "synoSDSjslib/" (DSM's own script and style folder) */
	SYNO_TITLE = 1u << 2,   /* "Synology DiskStation" (title / application-name) */
	SYNO_WEBMAN = 1u << 3,  /* "webman/" (DSM's web folder: icons, index.cgi) */
	SYNO_DEFS = 1u << 4,    /* "synodefs.cgi" */
	SYNO_WEBAPI = 1u << 5,  /* "webapi/entry.cgi?api=SYNO." (DSM 6-7) */
};

/*
 * The first needle in h[0..n), or NULL. memmem, not a byte-by-byte loop with a memcmp at each
 * first-byte match: a page is scanned for a dozen markers, and the fuzzer runs that ~1,000 times
 * a second per KiB with the loop (bench/RESULTS.md).
 */
static const uint8_t *find(const uint8_t *h, size_t n, const char *needle)
{
	size_t k = strlen(needle);

	if (h == NULL || k == 0 || n < k)
		return NULL;
	return memmem(h, n, needle, k);
}

static bool ieq_prefix(const uint8_t *p, size_t n, const char *name)
{
	size_t k = strlen(name);

	if (n < k)
		return false;
	for (size_t i = 0; i < k; i++) {
		uint8_t a = p[i], b = (uint8_t)name[i];

		if (a >= 'A' && a <= 'Z')
			a = (uint8_t)(a - 'A' + 'a');
		if (a != b)
			return false;
	}
	return true;
}

/* One header line p[0..n) (no CRLF): the fields we keep. */
static void header(const uint8_t *p, size_t n, struct http_head *out)
{
	size_t k;

	if (ieq_prefix(p, n, "content-length:")) {
		k = 15;
		while (k < n && (p[k] == ' ' || p[k] == '\t'))
			k++;
		size_t e = n;
		while (e > k && (p[e - 1] == ' ' || p[e - 1] == '\t'))
			e--;
		if (decimal_span_u64((const char *)p + k, e - k, UINT32_MAX,
		                     &out->content_length) == 0)
			out->has_length = true;
	} else if (ieq_prefix(p, n, "server:")) {
		k = 7;
		while (k < n && p[k] == ' ')
			k++;
		out->truncated |= parse_copy_text(out->server, sizeof(out->server), p + k, n - k);
	} else if (ieq_prefix(p, n, "location:")) {
		k = 9;
		while (k < n && p[k] == ' ')
			k++;
		out->truncated |=
		    parse_copy_text(out->location, sizeof(out->location), p + k, n - k);
	}
}

int http_parse_head(const uint8_t *buf, size_t len, struct http_head *out)
{
	static const char proto[] = "HTTP/1.";
	size_t scan = len < HTTP_HEAD_MAX ? len : HTTP_HEAD_MAX, line, end;
	const uint8_t *eoh;
	uint64_t status;

	memset(out, 0, sizeof(*out));
	if (memcmp(buf, proto, len < 7 ? len : 7) != 0)
		return -ERR_PROTO;
	eoh = find(buf, scan, "\r\n\r\n");
	if (eoh == NULL)
		return len >= HTTP_HEAD_MAX ? -ERR_TOOBIG : PARSE_AGAIN;
	end = (size_t)(eoh - buf);
	/* "HTTP/1.x NNN" */
	if (end < 12 || buf[8] != ' ' ||
	    decimal_span_u64((const char *)buf + 9, 3, 999, &status) < 0 || status < 100 ||
	    status > 599 || (end > 12 && buf[12] != ' ')) {
		memset(out, 0, sizeof(*out));
		return -ERR_SYNTAX;
	}
	out->status = (unsigned)status;
	for (line = 0; line < end;) {
		const uint8_t *crlf = find(buf + line, end - line, "\r\n");
		size_t n = crlf ? (size_t)(crlf - (buf + line)) : end - line;

		if (line > 0)
			header(buf + line, n, out);
		line += n + 2;
	}
	return (int)(end + 4);
}

/* The text between open and close after p (CDATA unwrapped), into dst. */
static void tag_text(const uint8_t *b, size_t n, const char *open, const char *close, char *dst,
                     size_t size, bool *cut)
{
	const uint8_t *s = find(b, n, open), *e;
	size_t rest;

	if (s == NULL)
		return;
	s += strlen(open);
	rest = n - (size_t)(s - b);
	e = find(s, rest, close);
	if (e == NULL)
		return;
	if (e - s >= 9 && memcmp(s, "<![CDATA[", 9) == 0 && e - s >= 12 &&
	    memcmp(e - 3, "]]>", 3) == 0) {
		s += 9;
		e -= 3;
	}
	*cut |= parse_copy_text(dst, size, s, (size_t)(e - s));
}

/* "<title>NAME - Synology DiskStation</title>" (&nbsp; for the spaces on DSM 6). */
static void dsm_name(const uint8_t *b, size_t n, struct nas_page *out)
{
	const uint8_t *t = find(b, n, "<title>"), *e;
	static const char *const seps[] = {"&nbsp;-&nbsp;Synology", " - Synology"};

	if (t == NULL)
		return;
	t += 7;
	for (size_t i = 0; i < 2; i++) {
		e = find(t, n - (size_t)(t - b), seps[i]);
		if (e != NULL && e - t < 256) {
			out->truncated |= parse_copy_text(
			    out->device_name, sizeof(out->device_name), t, (size_t)(e - t));
			return;
		}
	}
}

void nas_scan(const uint8_t *body, size_t len, struct nas_page *out)
{
	static const struct {
		const char *text;
		unsigned bit;
	} syno[] = {
	    {"SYNO.SDS.Session", SYNO_SESSION},
	    {"synoSDSjslib/", SYNO_JSLIB},
	    {"Synology DiskStation", SYNO_TITLE},
	    {"Synology&nbsp;DiskStation", SYNO_TITLE},
	    {"webman/", SYNO_WEBMAN},
	    {"synodefs.cgi", SYNO_DEFS},
	    {"webapi/entry.cgi?api=SYNO.", SYNO_WEBAPI},
	};
	unsigned n_bits = 0;

	memset(out, 0, sizeof(*out));
	if (find(body, len, "<QDocRoot") != NULL) {
		bool cut = false;

		out->vendor = NAS_QNAP;
		tag_text(body, len, "<internalModelName>", "</internalModelName>", out->model,
		         sizeof(out->model), &cut);
		tag_text(body, len, "<modelName>", "</modelName>", out->model, sizeof(out->model),
		         &cut);
		tag_text(body, len, "<displayModelName>", "</displayModelName>", out->model,
		         sizeof(out->model), &cut);
		tag_text(body, len, "<version>", "</version>", out->firmware, sizeof(out->firmware),
		         &cut);
		tag_text(body, len, "<build>", "</build>", out->build, sizeof(out->build), &cut);
		out->truncated = cut;
		return;
	}
	for (size_t i = 0; i < sizeof(syno) / sizeof(syno[0]); i++)
		if (!(out->markers & syno[i].bit) && find(body, len, syno[i].text) != NULL)
			out->markers |= syno[i].bit;
	for (unsigned m = out->markers; m; m &= m - 1)
		n_bits++;
	/* The session script alone is DSM's; otherwise two independent markers. */
	if ((out->markers & SYNO_SESSION) || n_bits >= 2) {
		out->vendor = NAS_SYNOLOGY;
		dsm_name(body, len, out);
	}
}
