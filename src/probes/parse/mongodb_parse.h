/* SPDX-License-Identifier: MIT */
/*
 * Pure builders and parsers for the MongoDB wire protocol messages the probe exchanges (MongoDB
 * "Wire Protocol" reference: the standard message header, OP_MSG, and the legacy OP_QUERY /
 * OP_REPLY pair; bsonspec.org "Specification Version 1.1"; docs/internals/PROBES.md, "MongoDB").
 * A bounded BSON walker (no recursion, no allocation) reads the replies. Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_MONGODB_PARSE_H
#define EXPOSURE_PROBES_PARSE_MONGODB_PARSE_H

#include "probes/parse/parse.h"

#define MONGO_OP_REPLY 1
#define MONGO_OP_QUERY 2004
#define MONGO_OP_MSG   2013

#define MONGO_HEADER_LEN 16
/* Largest reply read: listDatabases with nameOnly is ~40 bytes per database. */
#define MONGO_MSG_MAX (256 * 1024)

/* The commands the probe sends, in this order. */
enum mongo_cmd {
	MONGO_CMD_HELLO = 0, /* {hello: 1} (legacy: {isMaster: 1}) */
	MONGO_CMD_BUILDINFO, /* {buildInfo: 1}: allowed without authentication */
	MONGO_CMD_LISTDB,    /* {listDatabases: 1, nameOnly: true}: needs it when auth is on */
	MONGO_CMD_X_MAX
};

/*
 * Write the command as an OP_MSG (legacy: an OP_QUERY on admin.$cmd, for servers before 3.6)
 * with requestID id into out. Returns its length, or 0 if cap is too small (128 is enough).
 */
size_t mongo_build(uint8_t *out, size_t cap, enum mongo_cmd cmd, int32_t id, bool legacy);

/* One reply message: the header and where its body document is in buf. */
struct mongo_msg {
	uint32_t length;         /* messageLength */
	int32_t request_id;      /* requestID */
	int32_t response_to;     /* responseTo: our requestID */
	int32_t opcode;          /* MONGO_OP_MSG or MONGO_OP_REPLY */
	uint32_t flags;          /* OP_MSG flagBits / OP_REPLY responseFlags */
	int32_t n_returned;      /* OP_REPLY numberReturned (OP_MSG: 1) */
	size_t doc_off, doc_len; /* the OP_MSG kind-0 section's document / OP_REPLY's first one */
};

/*
 * Parse one reply message at the start of buf. Returns its length; PARSE_AGAIN until the whole
 * message is there; -ERR_SYNTAX when the header cannot be MongoDB's (length under 16, or an
 * opcode that is neither OP_MSG nor OP_REPLY: another service); -ERR_TOOBIG for a length past
 * MONGO_MSG_MAX; -ERR_PROTO when the body has no well-formed first document.
 */
int mongo_parse_msg(const uint8_t *buf, size_t len, struct mongo_msg *out);

/* A BSON element inside a document being walked. */
struct bson_elem {
	uint8_t type;
	const uint8_t *name; /* NUL-terminated in the document */
	size_t name_len;
	const uint8_t *value;
	size_t value_len;
};

struct bson_iter {
	const uint8_t *doc;
	size_t len, pos;
};

/* Check the document's int32 length (5..len, ending with a NUL) and start walking it. Returns
 * 0 or -ERR_PROTO. */
int bson_iter_init(struct bson_iter *it, const uint8_t *doc, size_t len);

/* The next element: 1, 0 at the end, -ERR_PROTO for a malformed or unknown element. */
int bson_next(struct bson_iter *it, struct bson_elem *e);

#define MONGO_TEXT_MAX 128
#define MONGO_DB_KEEP  8

/* What the probe reads from a command reply's document. */
struct mongo_reply {
	bool has_ok;
	bool ok; /* ok: 1 (double, int32, int64 or bool) */
	bool has_code;
	int32_t code; /* 13 Unauthorized, 59 CommandNotFound ... */
	char code_name[MONGO_TEXT_MAX];
	char errmsg[MONGO_TEXT_MAX];
	char version[MONGO_TEXT_MAX]; /* buildInfo's version */
	bool has_max_wire;
	int32_t max_wire; /* hello's maxWireVersion */
	bool writable;    /* hello isWritablePrimary / ismaster true */
	char set_name[MONGO_TEXT_MAX];
	bool has_databases;
	unsigned n_databases; /* listDatabases: entries of the databases array */
	char databases[MONGO_DB_KEEP][MONGO_TEXT_MAX];
};

/* Read a reply document (doc_off/doc_len of a mongo_msg). Returns 0 or -ERR_PROTO. */
int mongo_parse_reply(const uint8_t *doc, size_t len, struct mongo_reply *out);

#endif
