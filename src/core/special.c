/* SPDX-License-Identifier: MIT */
/* The special-purpose address blocks (special.h). */
#include "core/special.h"
#include "core/decimal.h"
#include "core/err.h"

#include <arpa/inet.h>
#include <pthread.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* What a visitor reads: one reason per kind of block, shared by the blocks of that kind.      */

static const struct special_reason r_loopback = {
    "loopback",
    "You are connecting from this server itself (a loopback address). This public service only "
    "diagnoses addresses on the Internet.",
    "このサーバー自身 (ループバックアドレス) からの接続です。この公開サービスはインターネット上"
    "のアドレスだけを診断します。"};

static const struct special_reason r_private = {
    "private",
    "Your address is a private one (home or office network), which cannot be reached from the "
    "Internet. Open this page from outside that network, or ask the service's operator.",
    "あなたのアドレスはプライベートアドレス (家庭や社内のネットワーク) で、インターネットからは"
    "届きません。そのネットワークの外からこのページを開いてください。"};

static const struct special_reason r_cgnat = {
    "cgnat",
    "Your carrier gives you a shared address (carrier-grade NAT, 100.64.0.0/10): it hides your "
    "device behind the carrier's equipment, together with other customers. We cannot reach your "
    "device from the Internet, which is itself good news: the doors this service checks are not "
    "open to the Internet through this connection.",
    "通信事業者があなたに共有アドレス (キャリアグレード NAT, 100.64.0.0/10) を割り当てています。"
    "あなたの機器は事業者の設備の奥に、ほかの利用者と一緒に隠れています。インターネットからあな"
    "たの機器には届きません。それ自体は良い知らせです。この接続では、このサービスが調べる入口は"
    "インターネットに開いていません。"};

static const struct special_reason r_link_local = {
    "link-local",
    "Your address is a link-local one, valid only on your own network segment; it cannot be "
    "reached from the Internet.",
    "あなたのアドレスはリンクローカルアドレスで、同じネットワーク内でしか使えません。インターネ"
    "ットからは届きません。"};

static const struct special_reason r_documentation = {
    "special",
    "Your address belongs to a block reserved for documentation and examples; it is not an "
    "ordinary Internet address, so it is not diagnosed.",
    "あなたのアドレスは文書や例示のために予約されたブロックに属し、通常のインターネットアドレス"
    "ではないため診断しません。"};

static const struct special_reason r_benchmark = {
    "special",
    "Your address belongs to a block reserved for benchmarking network equipment in "
    "laboratories; it is not an ordinary Internet address, so it is not diagnosed.",
    "あなたのアドレスはネットワーク機器の性能試験用に予約されたブロックに属し、通常のインターネ"
    "ットアドレスではないため診断しません。"};

static const struct special_reason r_translation = {
    "special",
    "Your address is a translation or tunnel address (NAT64, 6to4, Teredo or an IPv4 address "
    "written as IPv6): another address hides inside it, and a diagnosis would reach a translator "
    "or relay, not your device. Open this page over a direct connection.",
    "あなたのアドレスは変換やトンネルのアドレス (NAT64、6to4、Teredo、IPv6 で書いた IPv4 アド"
    "レス) です。中に別のアドレスが入っていて、診断が届くのはあなたの機器ではなく変換装置や中継"
    "装置です。変換を通らない接続からこのページを開いてください。"};

static const struct special_reason r_anycast = {
    "special",
    "Your address is a shared service address (anycast) that many servers answer at once; a "
    "diagnosis would reach whichever of them is nearest, not your device.",
    "あなたのアドレスは多くのサーバーが同時に応答する共有のサービス用アドレス (エニーキャスト) "
    "です。診断は最も近いサーバーに届き、あなたの機器には届きません。"};

static const struct special_reason r_identifier = {
    "special",
    "Your address is an identifier (ORCHID, drone remote ID, SRv6 segment), not the location of "
    "a device, so it cannot be reached and diagnosed.",
    "あなたのアドレスは機器の場所ではなく識別子 (ORCHID、ドローンのリモート ID、SRv6 のセグメ"
    "ント) で、届けることができないため診断しません。"};

static const struct special_reason r_reserved = {
    "special",
    "Your address belongs to a reserved block (unspecified, this network, broadcast, multicast, "
    "discard-only, protocol assignments or future use) that is not an ordinary Internet address, "
    "so it is not diagnosed.",
    "あなたのアドレスは予約済みのブロック (未指定、このネットワーク、ブロードキャスト、マルチ"
    "キャスト、破棄専用、プロトコル用、将来用) に属し、通常のインターネットアドレスではないため"
    "診断しません。"};

/* ------------------------------------------------------------------------------------------ */
/* The table. Columns: block, name, source, in the registry, forwardable, globally reachable,  */
/* class, reason. Registry rows are copied as IANA writes them (docs/internals/ADDRESSES.md).  */

#define T  SPECIAL_TRUE
#define F  SPECIAL_FALSE
#define NA SPECIAL_NA

static const struct special_block table[] = {
    /* IANA IPv4 Special-Purpose Address Registry */
    {"0.0.0.0/8", "This network", "RFC 791", true, F, F, ADDR_THIS_NETWORK, &r_reserved},
    {"0.0.0.0/32", "This host on this network", "RFC 1122", true, F, F, ADDR_UNSPECIFIED,
     &r_reserved},
    {"10.0.0.0/8", "Private-Use", "RFC 1918", true, T, F, ADDR_PRIVATE, &r_private},
    {"100.64.0.0/10", "Shared Address Space", "RFC 6598", true, T, F, ADDR_SHARED, &r_cgnat},
    {"127.0.0.0/8", "Loopback", "RFC 1122", true, F, F, ADDR_LOOPBACK, &r_loopback},
    {"169.254.0.0/16", "Link Local", "RFC 3927", true, F, F, ADDR_LINK_LOCAL, &r_link_local},
    {"172.16.0.0/12", "Private-Use", "RFC 1918", true, T, F, ADDR_PRIVATE, &r_private},
    {"192.0.0.0/24", "IETF Protocol Assignments", "RFC 6890", true, F, F, ADDR_RESERVED,
     &r_reserved},
    {"192.0.0.0/29", "IPv4 Service Continuity Prefix", "RFC 7335", true, T, F, ADDR_RESERVED,
     &r_reserved},
    {"192.0.0.8/32", "IPv4 dummy address", "RFC 7600", true, F, F, ADDR_RESERVED, &r_reserved},
    {"192.0.0.9/32", "Port Control Protocol Anycast", "RFC 7723", true, T, T, ADDR_ANYCAST,
     &r_anycast},
    {"192.0.0.10/32", "Traversal Using Relays around NAT Anycast", "RFC 8155", true, T, T,
     ADDR_ANYCAST, &r_anycast},
    /* The registry lists 192.0.0.170/32 and 192.0.0.171/32, alike: one row for the pair. */
    {"192.0.0.170/31", "NAT64/DNS64 Discovery", "RFC 8880, RFC 7050", true, F, F, ADDR_RESERVED,
     &r_reserved},
    {"192.0.2.0/24", "Documentation (TEST-NET-1)", "RFC 5737", true, F, F, ADDR_DOCUMENTATION,
     &r_documentation},
    {"192.31.196.0/24", "AS112-v4", "RFC 7535", true, T, T, ADDR_ANYCAST, &r_anycast},
    {"192.52.193.0/24", "AMT", "RFC 7450", true, T, T, ADDR_ANYCAST, &r_anycast},
    {"192.88.99.0/24", "Deprecated (6to4 Relay Anycast)", "RFC 7526", true, NA, NA, ADDR_TRANSLATED,
     &r_translation},
    {"192.168.0.0/16", "Private-Use", "RFC 1918", true, T, F, ADDR_PRIVATE, &r_private},
    {"192.175.48.0/24", "Direct Delegation AS112 Service", "RFC 7534", true, T, T, ADDR_ANYCAST,
     &r_anycast},
    {"198.18.0.0/15", "Benchmarking", "RFC 2544", true, T, F, ADDR_BENCHMARK, &r_benchmark},
    {"198.51.100.0/24", "Documentation (TEST-NET-2)", "RFC 5737", true, F, F, ADDR_DOCUMENTATION,
     &r_documentation},
    {"203.0.113.0/24", "Documentation (TEST-NET-3)", "RFC 5737", true, F, F, ADDR_DOCUMENTATION,
     &r_documentation},
    {"240.0.0.0/4", "Reserved", "RFC 1112", true, F, F, ADDR_RESERVED, &r_reserved},
    {"255.255.255.255/32", "Limited Broadcast", "RFC 8190, RFC 919", true, F, F, ADDR_BROADCAST,
     &r_reserved},

    /* IANA IPv6 Special-Purpose Address Registry */
    {"::1/128", "Loopback Address", "RFC 4291", true, F, F, ADDR_LOOPBACK, &r_loopback},
    {"::/128", "Unspecified Address", "RFC 4291", true, F, F, ADDR_UNSPECIFIED, &r_reserved},
    /* addr_parse and addr_from_sockaddr unmap these to IPv4 first: judged as the IPv4 inside. */
    {"::ffff:0:0/96", "IPv4-mapped Address", "RFC 4291", true, F, F, ADDR_TRANSLATED,
     &r_translation},
    {"64:ff9b::/96", "IPv4-IPv6 Translat.", "RFC 6052", true, T, T, ADDR_TRANSLATED,
     &r_translation},
    {"64:ff9b:1::/48", "IPv4-IPv6 Translat.", "RFC 8215", true, T, F, ADDR_TRANSLATED,
     &r_translation},
    {"100::/64", "Discard-Only Address Block", "RFC 6666", true, T, F, ADDR_RESERVED, &r_reserved},
    {"100:0:0:1::/64", "Dummy IPv6 Prefix", "RFC 9780", true, F, F, ADDR_RESERVED, &r_reserved},
    {"2001::/23", "IETF Protocol Assignments", "RFC 2928", true, F, F, ADDR_RESERVED, &r_reserved},
    {"2001::/32", "TEREDO", "RFC 4380, RFC 8190", true, T, NA, ADDR_TRANSLATED, &r_translation},
    {"2001:1::1/128", "Port Control Protocol Anycast", "RFC 7723", true, T, T, ADDR_ANYCAST,
     &r_anycast},
    {"2001:1::2/128", "Traversal Using Relays around NAT Anycast", "RFC 8155", true, T, T,
     ADDR_ANYCAST, &r_anycast},
    {"2001:1::3/128", "DNS-SD Service Registration Protocol Anycast", "RFC 9665", true, T, T,
     ADDR_ANYCAST, &r_anycast},
    {"2001:2::/48", "Benchmarking", "RFC 5180, RFC Errata 1752", true, T, F, ADDR_BENCHMARK,
     &r_benchmark},
    {"2001:3::/32", "AMT", "RFC 7450", true, T, T, ADDR_ANYCAST, &r_anycast},
    {"2001:4:112::/48", "AS112-v6", "RFC 7535", true, T, T, ADDR_ANYCAST, &r_anycast},
    {"2001:10::/28", "Deprecated (previously ORCHID)", "RFC 4843", true, NA, NA, ADDR_RESERVED,
     &r_identifier},
    {"2001:20::/28", "ORCHIDv2", "RFC 7343", true, T, T, ADDR_RESERVED, &r_identifier},
    {"2001:30::/28", "Drone Remote ID Protocol Entity Tags (DETs) Prefix", "RFC 9374", true, T, T,
     ADDR_RESERVED, &r_identifier},
    {"2001:db8::/32", "Documentation", "RFC 3849", true, F, F, ADDR_DOCUMENTATION,
     &r_documentation},
    {"2002::/16", "6to4", "RFC 3056", true, T, NA, ADDR_TRANSLATED, &r_translation},
    {"2620:4f:8000::/48", "Direct Delegation AS112 Service", "RFC 7534", true, T, T, ADDR_ANYCAST,
     &r_anycast},
    {"3fff::/20", "Documentation", "RFC 9637", true, F, F, ADDR_DOCUMENTATION, &r_documentation},
    {"5f00::/16", "Segment Routing (SRv6) SIDs", "RFC 9602", true, T, F, ADDR_RESERVED,
     &r_identifier},
    {"fc00::/7", "Unique-Local", "RFC 4193, RFC 8190", true, T, F, ADDR_PRIVATE, &r_private},
    {"fe80::/10", "Link-Local Unicast", "RFC 4291", true, F, F, ADDR_LINK_LOCAL, &r_link_local},

    /* Outside the special-purpose registries: the address architecture's own blocks */
    {"224.0.0.0/4", "Multicast", "RFC 5771", false, NA, NA, ADDR_MULTICAST, &r_reserved},
    {"ff00::/8", "Multicast", "RFC 4291", false, NA, NA, ADDR_MULTICAST, &r_reserved},
    {"::/96", "IPv4-compatible (deprecated)", "RFC 4291", false, NA, NA, ADDR_RESERVED,
     &r_reserved},
    {"::ffff:0:0:0/96", "IPv4-translated", "RFC 2765", false, NA, NA, ADDR_TRANSLATED,
     &r_translation},
    {"fec0::/10", "Site-local (deprecated)", "RFC 3879", false, NA, NA, ADDR_RESERVED, &r_reserved},
    /*
     * The IANA IPv6 Address Space registry leaves all but 2000::/3 "Reserved by IETF": no
     * visitor has an address there (the blocks above, inside it, are more specific and win).
     */
    {"::/3", "Reserved by IETF (outside Global Unicast)", "RFC 4291", false, NA, NA, ADDR_RESERVED,
     &r_reserved},
    {"4000::/2", "Reserved by IETF (outside Global Unicast)", "RFC 4291", false, NA, NA,
     ADDR_RESERVED, &r_reserved},
    {"8000::/1", "Reserved by IETF (outside Global Unicast)", "RFC 4291", false, NA, NA,
     ADDR_RESERVED, &r_reserved},
};

#undef T
#undef F
#undef NA

const struct special_block *special_table(size_t *n)
{
	*n = sizeof(table) / sizeof(table[0]);
	return table;
}

/*
 * Parse a table row's block. Not cidr_parse: that one unmaps ::ffff:0:0/96 to 0.0.0.0/0, which
 * here would swallow every IPv4 address.
 */
int special_cidr(const struct special_block *b, struct cidr *out)
{
	char text[ADDR_STRLEN];
	const char *slash = strchr(b->cidr, '/');
	size_t len = slash ? (size_t)(slash - b->cidr) : 0;
	uint32_t prefix;

	memset(out, 0, sizeof(*out));
	if (len == 0 || len >= sizeof(text))
		return -ERR_SYNTAX;
	memcpy(text, b->cidr, len);
	text[len] = '\0';
	out->base.family = memchr(text, ':', len) ? AF_INET6 : AF_INET;
	if (inet_pton(out->base.family, text, out->base.bytes) != 1 ||
	    decimal_u32(slash + 1, out->base.family == AF_INET ? 32 : 128, &prefix) < 0)
		return -ERR_SYNTAX;
	out->prefix = prefix;
	return 0;
}

#define N_ROWS (sizeof(table) / sizeof(table[0]))

/*
 * The rows parsed once (they are constant; test_special proves each parses): parsing them for
 * every lookup was a third of exposure sweep's CPU, whose policy looks up every address of the
 * space (perf, bench/RESULTS.md issue 13 paths).
 */
static struct cidr parsed[N_ROWS];
static bool parsed_ok[N_ROWS];
static pthread_once_t parse_once = PTHREAD_ONCE_INIT;

static void parse_rows(void)
{
	for (size_t i = 0; i < N_ROWS; i++)
		parsed_ok[i] = special_cidr(&table[i], &parsed[i]) == 0;
}

const struct special_block *special_lookup(const struct addr *a)
{
	const struct special_block *best = NULL;
	unsigned best_prefix = 0;

	pthread_once(&parse_once, parse_rows);
	for (size_t i = 0; i < N_ROWS; i++) {
		if (!parsed_ok[i] || !cidr_contains(&parsed[i], a))
			continue;
		if (!best || parsed[i].prefix > best_prefix) {
			best = &table[i];
			best_prefix = parsed[i].prefix;
		}
	}
	return best;
}

bool special_never_probed(enum addr_class cls)
{
	switch (cls) {
	case ADDR_UNSPECIFIED:
	case ADDR_THIS_NETWORK:
	case ADDR_MULTICAST:
	case ADDR_BROADCAST:
	case ADDR_RESERVED:
		return true;
	default:
		return false;
	}
}

const char *special_answer_name(enum special_answer a)
{
	switch (a) {
	case SPECIAL_TRUE:
		return "yes";
	case SPECIAL_FALSE:
		return "no";
	default:
		return "n/a";
	}
}
