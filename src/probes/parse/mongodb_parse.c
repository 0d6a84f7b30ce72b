/* SPDX-License-Identifier: MIT */
/* MongoDB OP_MSG / OP_QUERY builders, reply and BSON parsers (mongodb_parse.h). */
#include "probes/parse/mongodb_parse.h"

#include <string.h>

struct wr {
	uint8_t *p;
	size_t cap, len;
	bool fail;
};

static void put(struct wr *w, const void *d, size_t n)
{
	if (w->fail || n > w->cap - w->len) {
		w->fail = true;
		return;
	}
	memcpy(w->p + w->len, d, n);
	w->len += n;
}

static void put_le32(struct wr *w, uint32_t v)
{
	uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};

	put(w, b, 4);
}

static void set_le32(struct wr *w, size_t at, uint32_t v)
{
	if (w->fail)
		return;
	w->p[at] = (uint8_t)v;
	w->p[at + 1] = (uint8_t)(v >> 8);
	w->p[at + 2] = (uint8_t)(v >> 16);
	w->p[at + 3] = (uint8_t)(v >> 24);
}

/* Element type + NUL-terminated name. */
static void put_name(struct wr *w, uint8_t type, const char *name)
{
	put(w, &type, 1);
	put(w, name, strlen(name) + 1);
}

static void put_int32(struct wr *w, const char *name, int32_t v)
{
	put_name(w, 0x10, name);
	put_le32(w, (uint32_t)v);
}

static void put_string(struct wr *w, const char *name, const char *s)
{
	put_name(w, 0x02, name);
	put_le32(w, (uint32_t)strlen(s) + 1);
	put(w, s, strlen(s) + 1);
}

static void put_command(struct wr *w, enum mongo_cmd cmd, bool legacy)
{
	size_t start = w->len;
	static const uint8_t yes = 1, end = 0;

	put_le32(w, 0); /* the document's length, set below */
	switch (cmd) {
	case MONGO_CMD_HELLO:
		/* hello needs 4.4.2+; isMaster is what older servers (and the handshake) know */
		put_int32(w, legacy ? "isMaster" : "hello", 1);
		break;
	case MONGO_CMD_BUILDINFO:
		put_int32(w, "buildInfo", 1);
		break;
	default:
		put_int32(w, "listDatabases", 1);
		put_name(w, 0x08, "nameOnly");
		put(w, &yes, 1);
		break;
	}
	if (!legacy)
		put_string(w, "$db", "admin");
	put(w, &end, 1);
	set_le32(w, start, (uint32_t)(w->len - start));
}

size_t mongo_build(uint8_t *out, size_t cap, enum mongo_cmd cmd, int32_t id, bool legacy)
{
	struct wr w = {.p = out, .cap = cap};
	static const uint8_t kind0 = 0;
	static const char coll[] = "admin.$cmd";

	put_le32(&w, 0); /* messageLength, set below */
	put_le32(&w, (uint32_t)id);
	put_le32(&w, 0);
	put_le32(&w, legacy ? MONGO_OP_QUERY : MONGO_OP_MSG);
	put_le32(&w, 0); /* OP_MSG flagBits / OP_QUERY flags */
	if (legacy) {
		put(&w, coll, sizeof(coll));
		put_le32(&w, 0); /* numberToSkip */
		put_le32(&w,
		         (uint32_t)(int32_t)-1); /* numberToReturn: one reply, close the cursor */
	} else {
		put(&w, &kind0, 1); /* section kind 0: the body document */
	}
	put_command(&w, cmd, legacy);
	set_le32(&w, 0, (uint32_t)w.len);
	return w.fail ? 0 : w.len;
}

int bson_iter_init(struct bson_iter *it, const uint8_t *doc, size_t len)
{
	uint32_t n;

	memset(it, 0, sizeof(*it));
	if (len < 5)
		return -ERR_PROTO;
	n = parse_le32(doc);
	if (n < 5 || n > len || doc[n - 1] != 0)
		return -ERR_PROTO;
	it->doc = doc;
	it->len = n - 1; /* the elements, without the final NUL */
	it->pos = 4;
	return 0;
}

/* Bytes of a cstring starting at p (with its NUL) within n, or 0 if it does not end. */
static size_t cstr_len(const uint8_t *p, size_t n)
{
	const uint8_t *z = memchr(p, 0, n);

	return z ? (size_t)(z - p) + 1 : 0;
}

/* The length of a value of type t at p (n bytes left), or 0 when it is malformed. A value of
 * length 0 (null, undefined, min/max key) returns SIZE_MAX. */
static size_t value_len(uint8_t t, const uint8_t *p, size_t n)
{
	size_t a, b;
	uint32_t l;

	switch (t) {
	case 0x06: /* undefined */
	case 0x0A: /* null */
	case 0xFF: /* min key */
	case 0x7F: /* max key */
		return SIZE_MAX;
	case 0x08: /* bool */
		return n >= 1 && p[0] <= 1 ? 1 : 0;
	case 0x10: /* int32 */
		return n >= 4 ? 4 : 0;
	case 0x01: /* double */
	case 0x09: /* UTC datetime */
	case 0x11: /* timestamp */
	case 0x12: /* int64 */
		return n >= 8 ? 8 : 0;
	case 0x07: /* ObjectId */
		return n >= 12 ? 12 : 0;
	case 0x13: /* decimal128 */
		return n >= 16 ? 16 : 0;
	case 0x02: /* string */
	case 0x0D: /* JavaScript code */
	case 0x0E: /* symbol */
	case 0x0C: /* DBPointer: string + 12 */
		if (n < 4)
			return 0;
		l = parse_le32(p);
		if (l < 1 || l > n - 4 || p[4 + l - 1] != 0)
			return 0;
		if (t != 0x0C)
			return 4 + (size_t)l;
		return n - 4 - l >= 12 ? 4 + (size_t)l + 12 : 0;
	case 0x03: /* document */
	case 0x04: /* array */
		if (n < 5)
			return 0;
		l = parse_le32(p);
		return l >= 5 && l <= n && p[l - 1] == 0 ? l : 0;
	case 0x05: /* binary: int32 length, subtype, bytes */
		if (n < 5)
			return 0;
		l = parse_le32(p);
		return l <= n - 5 ? 5 + (size_t)l : 0;
	case 0x0F: /* code with scope: int32 total */
		if (n < 4)
			return 0;
		l = parse_le32(p);
		return l >= 14 && l <= n ? l : 0;
	case 0x0B: /* regex: two cstrings */
		a = cstr_len(p, n);
		b = a ? cstr_len(p + a, n - a) : 0;
		return a && b ? a + b : 0;
	default:
		return 0;
	}
}

int bson_next(struct bson_iter *it, struct bson_elem *e)
{
	size_t n, name, v;

	memset(e, 0, sizeof(*e));
	if (it->doc == NULL || it->pos >= it->len)
		return 0;
	n = it->len - it->pos;
	e->type = it->doc[it->pos];
	name = cstr_len(it->doc + it->pos + 1, n - 1);
	if (e->type == 0 || name == 0)
		return -ERR_PROTO;
	e->name = it->doc + it->pos + 1;
	e->name_len = name - 1;
	n -= 1 + name;
	e->value = e->name + name;
	v = value_len(e->type, e->value, n);
	if (v == 0)
		return -ERR_PROTO;
	e->value_len = v == SIZE_MAX ? 0 : v;
	it->pos += 1 + name + e->value_len;
	return 1;
}

int mongo_parse_msg(const uint8_t *buf, size_t len, struct mongo_msg *out)
{
	struct bson_iter it;
	size_t first;

	memset(out, 0, sizeof(*out));
	if (len < MONGO_HEADER_LEN)
		return PARSE_AGAIN;
	out->length = parse_le32(buf);
	out->request_id = (int32_t)parse_le32(buf + 4);
	out->response_to = (int32_t)parse_le32(buf + 8);
	out->opcode = (int32_t)parse_le32(buf + 12);
	if (out->length < MONGO_HEADER_LEN ||
	    (out->opcode != MONGO_OP_MSG && out->opcode != MONGO_OP_REPLY))
		return -ERR_SYNTAX;
	if (out->length > MONGO_MSG_MAX)
		return -ERR_TOOBIG;
	if (len < out->length)
		return PARSE_AGAIN;
	if (out->opcode == MONGO_OP_MSG) {
		/* flagBits, then sections; the body (kind 0) comes first in server replies */
		if (out->length < MONGO_HEADER_LEN + 5 || buf[MONGO_HEADER_LEN + 4] != 0)
			return -ERR_PROTO;
		out->flags = parse_le32(buf + MONGO_HEADER_LEN);
		out->n_returned = 1;
		first = MONGO_HEADER_LEN + 5;
	} else {
		/* responseFlags, cursorID (8), startingFrom, numberReturned, documents */
		if (out->length < MONGO_HEADER_LEN + 20)
			return -ERR_PROTO;
		out->flags = parse_le32(buf + MONGO_HEADER_LEN);
		out->n_returned = (int32_t)parse_le32(buf + MONGO_HEADER_LEN + 16);
		first = MONGO_HEADER_LEN + 20;
	}
	if (bson_iter_init(&it, buf + first, out->length - first) < 0)
		return -ERR_PROTO;
	out->doc_off = first;
	out->doc_len = parse_le32(buf + first);
	return (int)out->length;
}

static bool name_is(const struct bson_elem *e, const char *name)
{
	return e->name_len == strlen(name) && memcmp(e->name, name, e->name_len) == 0;
}

/* A string element's text into dst. */
static void copy_string(const struct bson_elem *e, char *dst, size_t size)
{
	if (e->type == 0x02)
		parse_copy_text(dst, size, e->value + 4, parse_le32(e->value) - 1);
}

/* ok, isWritablePrimary...: numbers and booleans as true when non-zero. */
static bool truthy(const struct bson_elem *e)
{
	static const uint8_t zero[8];

	switch (e->type) {
	case 0x08:
		return e->value[0] != 0;
	case 0x10:
		return parse_le32(e->value) != 0;
	case 0x12:
		return memcmp(e->value, zero, 8) != 0;
	case 0x01: /* a double is 0 when all bits but the sign are 0 */
		return memcmp(e->value, zero, 7) != 0 || (e->value[7] & 0x7f) != 0;
	default:
		return false;
	}
}

static int read_databases(const struct bson_elem *arr, struct mongo_reply *out)
{
	struct bson_iter it, sub;
	struct bson_elem e, f;
	int r;

	if (bson_iter_init(&it, arr->value, arr->value_len) < 0)
		return -ERR_PROTO;
	out->has_databases = true;
	while ((r = bson_next(&it, &e)) > 0) {
		if (e.type != 0x03)
			continue;
		if (out->n_databases < MONGO_DB_KEEP &&
		    bson_iter_init(&sub, e.value, e.value_len) == 0)
			while ((r = bson_next(&sub, &f)) > 0)
				if (name_is(&f, "name"))
					copy_string(&f, out->databases[out->n_databases],
					            MONGO_TEXT_MAX);
		if (r < 0)
			return r;
		out->n_databases++;
	}
	return r;
}

int mongo_parse_reply(const uint8_t *doc, size_t len, struct mongo_reply *out)
{
	struct bson_iter it;
	struct bson_elem e;
	int r;

	memset(out, 0, sizeof(*out));
	if (bson_iter_init(&it, doc, len) < 0)
		return -ERR_PROTO;
	while ((r = bson_next(&it, &e)) > 0) {
		if (name_is(&e, "ok")) {
			out->has_ok =
			    e.type == 0x01 || e.type == 0x10 || e.type == 0x12 || e.type == 0x08;
			out->ok = truthy(&e);
		} else if (name_is(&e, "code") && e.type == 0x10) {
			out->has_code = true;
			out->code = (int32_t)parse_le32(e.value);
		} else if (name_is(&e, "codeName")) {
			copy_string(&e, out->code_name, sizeof(out->code_name));
		} else if (name_is(&e, "errmsg")) {
			copy_string(&e, out->errmsg, sizeof(out->errmsg));
		} else if (name_is(&e, "version")) {
			copy_string(&e, out->version, sizeof(out->version));
		} else if (name_is(&e, "maxWireVersion") && e.type == 0x10) {
			out->has_max_wire = true;
			out->max_wire = (int32_t)parse_le32(e.value);
		} else if (name_is(&e, "isWritablePrimary") || name_is(&e, "ismaster")) {
			out->writable = out->writable || truthy(&e);
		} else if (name_is(&e, "setName")) {
			copy_string(&e, out->set_name, sizeof(out->set_name));
		} else if (name_is(&e, "databases") && e.type == 0x04) {
			if (read_databases(&e, out) < 0)
				return -ERR_PROTO;
		}
	}
	return r < 0 ? -ERR_PROTO : 0;
}
