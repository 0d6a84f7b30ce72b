/* SPDX-License-Identifier: MIT */
/* IPv4/IPv6 addresses and CIDR blocks: parsing, formatting, classification. No I/O. */
#ifndef EXPOSURE_CORE_ADDR_H
#define EXPOSURE_CORE_ADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Large enough for any formatted address, IPv6 with embedded IPv4 included. */
#define ADDR_STRLEN 46

/* An IP address. family is AF_INET (bytes[0..3] used, rest zero) or AF_INET6. */
struct addr {
	sa_family_t family;
	uint8_t bytes[16];
};

/* An address block: base has every bit past prefix cleared. */
struct cidr {
	struct addr base;
	unsigned prefix; /* 0..32 or 0..128 */
};

/*
 * What a special-purpose block is (IANA special-purpose registries, RFC 6890 and successors).
 * Which block is which class: the one table in core/special.c.
 */
enum addr_class {
	ADDR_GLOBAL = 0,    /* ordinary global unicast */
	ADDR_LOOPBACK,      /* 127.0.0.0/8, ::1 */
	ADDR_UNSPECIFIED,   /* 0.0.0.0, :: */
	ADDR_THIS_NETWORK,  /* 0.0.0.0/8 */
	ADDR_MULTICAST,     /* 224.0.0.0/4, ff00::/8 */
	ADDR_BROADCAST,     /* 255.255.255.255 */
	ADDR_RESERVED,      /* 240.0.0.0/4, 100::/64 discard, other never-routed blocks */
	ADDR_PRIVATE,       /* 10/8, 172.16/12, 192.168/16, fc00::/7 */
	ADDR_SHARED,        /* 100.64.0.0/10, carrier-grade NAT (RFC 6598) */
	ADDR_LINK_LOCAL,    /* 169.254/16, fe80::/10 */
	ADDR_DOCUMENTATION, /* 192.0.2/24, 198.51.100/24, 203.0.113/24, 2001:db8::/32 */
	ADDR_BENCHMARK,     /* 198.18.0.0/15 (RFC 2544) */
	ADDR_TRANSLATED,    /* 64:ff9b::/96, 2002::/16: another address hides inside */
	ADDR_ANYCAST,       /* 192.0.0.9, AS112, AMT...: one service address of many servers */
	ADDR_X_MAX
};

/*
 * Parse a literal IPv4 (strict dotted quad, no leading zeros) or IPv6 address, with or without
 * [brackets]. An IPv4-mapped IPv6 address (::ffff:a.b.c.d) becomes the IPv4 address, so that
 * every check sees one canonical form. Returns 0, or -ERR_SYNTAX. *out is zeroed on entry.
 */
int addr_parse(const char *text, struct addr *out);

/* Format a into buf (size >= ADDR_STRLEN). Returns the length, or -ERR_RANGE if size is short. */
int addr_format(const struct addr *a, char *buf, size_t size);

/* True if both are the same family and address. */
bool addr_equal(const struct addr *a, const struct addr *b);

/* The IPv4 address v (host byte order), and back (a must be IPv4). */
struct addr addr_v4(uint32_t v);
uint32_t addr_v4_value(const struct addr *a);

/* Classify a by the most specific special-purpose block that holds it (core/special.h). */
enum addr_class addr_classify(const struct addr *a);

/* "loopback", "private", ...; static storage. */
const char *addr_class_name(enum addr_class c);

/*
 * Parse "ADDR/PREFIX" or a bare address (a host block). Host bits set in ADDR are an error
 * (-ERR_SYNTAX): "10.0.0.1/8" is more likely a typo than a wish for the whole /8.
 * Returns 0, -ERR_SYNTAX or -ERR_RANGE (prefix too long for the family).
 */
int cidr_parse(const char *text, struct cidr *out);

/* True if a lies inside c (same family). */
bool cidr_contains(const struct cidr *c, const struct addr *a);

/* Number of addresses in c, saturated at UINT64_MAX. */
uint64_t cidr_size(const struct cidr *c);

/* The index-th address of c (0 = base). Returns 0 or -ERR_RANGE if index >= cidr_size(c). */
int cidr_nth(const struct cidr *c, uint64_t index, struct addr *out);

/* Format c as "ADDR/PREFIX" into buf (size >= ADDR_STRLEN + 4). */
int cidr_format(const struct cidr *c, char *buf, size_t size);

/*
 * Fill a sockaddr for a and port. ss must hold a struct sockaddr_storage.
 * Returns the length to pass to connect().
 */
socklen_t addr_to_sockaddr(const struct addr *a, uint16_t port, struct sockaddr_storage *ss);

/*
 * Read an address (and port, if port is not NULL) from a sockaddr; IPv4-mapped IPv6 becomes
 * IPv4. Returns 0 or -ERR_UNSUPPORTED for a family other than AF_INET/AF_INET6.
 */
int addr_from_sockaddr(const struct sockaddr *sa, struct addr *out, uint16_t *port);

#endif
