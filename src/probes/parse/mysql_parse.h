/* SPDX-License-Identifier: MIT */
/*
 * Pure parser for the first packet a MySQL or MariaDB server sends (MySQL "Client/Server
 * Protocol": Packets, Protocol::HandshakeV10, ERR_Packet; MariaDB "Connection" docs;
 * docs/internals/PROBES.md, "MySQL"): the greeting or the error the server sends instead (1130
 * host not allowed, 1129 host blocked, 1040 too many connections). Conventions of parse.h.
 */
#ifndef EXPOSURE_PROBES_PARSE_MYSQL_PARSE_H
#define EXPOSURE_PROBES_PARSE_MYSQL_PARSE_H

#include "probes/parse/parse.h"

/* Longest first packet read: a greeting is ~80-110 bytes, an error message < 512. */
#define MYSQL_PACKET_MAX 1024
#define MYSQL_TEXT_MAX   128

#define MYSQL_CLIENT_SSL         0x00000800u
#define MYSQL_CLIENT_PROTOCOL_41 0x00000200u
#define MYSQL_CLIENT_PLUGIN_AUTH 0x00080000u

struct mysql_greeting {
	uint32_t payload_len;
	uint8_t protocol;             /* 10 (HandshakeV10), 9 (V9), 0xFF for an ERR packet */
	char version[MYSQL_TEXT_MAX]; /* server version, as sent ("5.5.5-10.11.6-MariaDB-...") */
	bool mariadb;                 /* "MariaDB" in the version */
	uint32_t conn_id;
	uint32_t capabilities; /* lower and upper 16 bits (V10) */
	uint8_t charset;
	uint16_t status;
	char auth_plugin[MYSQL_TEXT_MAX]; /* with CLIENT_PLUGIN_AUTH */
	bool is_error;
	uint16_t err_code; /* 1130, 1129, 1040 ... */
	char sqlstate[6];  /* after '#', when present */
	char err_msg[MYSQL_TEXT_MAX];
};

/*
 * Parse the first packet at the start of buf (3-byte length, sequence 0, payload). Returns the
 * packet's size; PARSE_AGAIN until complete; -ERR_SYNTAX when it cannot be one (sequence not 0,
 * empty payload, first payload byte not 10, 9 or 0xFF: another service); -ERR_TOOBIG for a
 * greeting or error announced longer than MYSQL_PACKET_MAX; -ERR_PROTO for a greeting or error
 * whose fields run past the payload.
 */
int mysql_parse_greeting(const uint8_t *buf, size_t len, struct mysql_greeting *out);

#endif
