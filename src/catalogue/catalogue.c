/* SPDX-License-Identifier: MIT */
/* The default catalogue of checks (catalogue.h). */
#include "catalogue/catalogue.h"
#include "core/decimal.h"
#include "core/err.h"

#include <stdio.h>
#include <string.h>

/*
 * The doors of the 2017 self-diagnosis service. SKYSEA Client View: the vendor documents its
 * default ports inside 52300-52315 and which one the agent's vulnerable console channel uses is
 * not public (PROTOCOLS.md §9), so the whole range is probed; it is 16 parallel connects.
 * Finding severities are those of docs/json.md. The headline doors are the two of the 2017
 * statistic: Windows file sharing reachable on 139 or 445.
 */
static const struct check_def checks[] = {
    {
        .name = "ssh",
        .probe = "ssh",
        .ports = PORTS({22, 22}),
        .profile_2017 = true,
        .exposed_id = "ssh-exposed",
        .exposed_severity = SEVERITY_MEDIUM,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings =
            {
                {"ssh1-enabled", SEVERITY_HIGH},
                {"ssh-weak-algorithms", SEVERITY_MEDIUM},
                {"ssh-terrapin-prone", SEVERITY_MEDIUM},
            },
        .title = "SSH",
        .label_en = "Remote login (SSH)",
        .label_ja = "リモートログイン (SSH)",
        .open_en = "Anyone on the Internet can try to log in to this device with SSH.",
        .open_ja = "インターネット上の誰でも SSH でこの機器へのログインを試せます。",
    },
    {
        .name = "telnet",
        .probe = "telnet",
        .ports = PORTS({23, 23}),
        .profile_2017 = true,
        .exposed_id = "telnet-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings = {{"telnet-no-auth-shell", SEVERITY_CRITICAL}},
        .questions = {"telnet-no-auth-shell"},
        .title = "Telnet",
        .label_en = "Remote login (Telnet)",
        .label_ja = "リモートログイン (Telnet)",
        .open_en = "Telnet sends passwords unencrypted and is a favourite target of botnets.",
        .open_ja =
            "Telnet はパスワードを暗号化せずに送り、ボットネットに狙われやすいサービスです。",
    },
    {
        .name = "netbios",
        .probe = "netbios",
        .ports = PORTS({139, 139}),
        .profile_2017 = true,
        .exposed_id = "netbios-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .runs = "smb",
        .advice_ports = {137, 138}, /* name and datagram services (UDP) */
        .headline = true,
        .title = "NetBIOS",
        .label_en = "Windows file sharing (NetBIOS)",
        .label_ja = "Windows ファイル共有 (NetBIOS)",
        .open_en = "Windows file sharing over NetBIOS is reachable from the Internet.",
        .open_ja = "NetBIOS による Windows ファイル共有がインターネットから到達できます。",
    },
    {
        .name = "smb",
        .probe = "smb",
        .ports = PORTS({445, 445}),
        .profile_2017 = true,
        .exposed_id = "smb-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings =
            {
                {"doublepulsar-implant", SEVERITY_CRITICAL},
                {"ms17-010-vulnerable", SEVERITY_CRITICAL},
                {"smb1-enabled", SEVERITY_HIGH},
                {"smb-signing-not-required", SEVERITY_MEDIUM},
            },
        .questions = {"smb1-enabled", "ms17-010-vulnerable", "doublepulsar-implant"},
        .advice_ports = {137, 139}, /* SMB over NetBIOS: the same shares */
        .headline = true,
        .title = "SMB",
        .label_en = "Windows file sharing (SMB)",
        .label_ja = "Windows ファイル共有 (SMB)",
        .open_en = "File sharing (SMB) is reachable from the Internet: the door WannaCry used.",
        .open_ja =
            "ファイル共有 (SMB) がインターネットから到達できます。WannaCry が使った入口です。",
    },
    {
        .name = "rdp",
        .probe = "rdp",
        .ports = PORTS({3389, 3389}),
        .profile_2017 = true,
        .exposed_id = "rdp-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings =
            {
                {"rdp-nla-not-required", SEVERITY_HIGH},
                {"rdp-standard-security", SEVERITY_HIGH},
            },
        .questions = {"rdp-nla-not-required"},
        .title = "RDP",
        .label_en = "Remote desktop (RDP)",
        .label_ja = "リモートデスクトップ (RDP)",
        .open_en = "Windows Remote Desktop is reachable: attackers try passwords and flaws on it.",
        .open_ja =
            "リモートデスクトップに到達できます。パスワード攻撃や脆弱性攻撃の標的になります。",
    },
    {
        .name = "vnc",
        .probe = "vnc",
        .ports = PORTS({5900, 5900}),
        .profile_2017 = true,
        .exposed_id = "vnc-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings =
            {
                {"vnc-no-auth", SEVERITY_CRITICAL},
                {"vnc-password-only", SEVERITY_HIGH},
            },
        .questions = {"vnc-no-auth"},
        .title = "VNC",
        .label_en = "Remote screen (VNC)",
        .label_ja = "画面共有 (VNC)",
        .open_en = "A VNC screen-sharing server is reachable: whoever gets in sees and controls "
                   "the screen.",
        .open_ja = "VNC 画面共有に到達できます。侵入されると画面を見られ、操作されます。",
    },
    {
        .name = "skysea",
        .probe = "skysea",
        .ports = PORTS({52300, 52315}),
        .profile_2017 = true,
        .exposed_id = "skysea-port-exposed",
        .exposed_severity = SEVERITY_MEDIUM,
        .exposed_confidence = CONFIDENCE_POSSIBLE,
        .title = "SKYSEA",
        .label_en = "SKYSEA Client View ports",
        .label_ja = "SKYSEA Client View のポート",
        .open_en = "A port SKYSEA Client View uses is reachable; old versions can be taken over "
                   "(CVE-2016-7836).",
        .open_ja =
            "SKYSEA Client View が使うポートに到達できます。古い版は乗っ取られる恐れがあります "
            "(CVE-2016-7836)。",
    },
    /*
     * Issue 12: beyond the 2017 doors, run by the profile "extended" or by name. SSDP answers a
     * unicast M-SEARCH (UDP, no reply is open|filtered, never closed).
     */
    {
        .name = "ssdp",
        .probe = "ssdp",
        .transport = TRANSPORT_UDP,
        .ports = PORTS({1900, 1900}),
        .exposed_id = "upnp-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_POSSIBLE,
        .title = "SSDP",
        .label_en = "UPnP discovery (SSDP)",
        .label_ja = "UPnP の機器探索 (SSDP)",
        .open_en = "A UPnP device answers discovery requests from the Internet: attackers use it "
                   "to amplify floods, and it tells what the device is.",
        .open_ja = "UPnP 機器がインターネットからの探索要求に応答します。攻撃の増幅に悪用され、"
                   "機器の種類も知られてしまいます。",
    },
    {
        .name = "rsync",
        .probe = "rsync",
        .ports = PORTS({873, 873}),
        .exposed_id = "rsync-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings =
            {
                {"rsync-no-auth", SEVERITY_CRITICAL},
                {"rsync-modules-listed", SEVERITY_MEDIUM},
            },
        .questions = {"rsync-no-auth"},
        .title = "rsync",
        .label_en = "Backup copies (rsync)",
        .label_ja = "バックアップ (rsync)",
        .open_en = "An rsync server, often the store of backups, is reachable from the Internet.",
        .open_ja = "rsync サーバ (バックアップの保存先であることが多い) にインターネットから到達で"
                   "きます。",
    },
    {
        .name = "nfs",
        .probe = "nfs",
        .ports = PORTS({111, 111}, {2049, 2049}),
        .exposed_id = "nfs-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings =
            {
                {"nfs-export-world", SEVERITY_CRITICAL},
            },
        .questions = {"nfs-export-world"},
        .title = "NFS",
        .label_en = "Network file sharing (NFS)",
        .label_ja = "ネットワークファイル共有 (NFS)",
        .open_en = "An NFS file server or its portmapper is reachable: shared folders may be "
                   "mounted from anywhere.",
        .open_ja =
            "NFS ファイルサーバまたはそのポートマッパーに到達できます。共有フォルダがどこからで"
            "もマウントされる恐れがあります。",
    },
    {
        .name = "iscsi",
        .probe = "iscsi",
        .probe_opt_in = "iscsi-discovery",
        .ports = PORTS({3260, 3260}),
        .exposed_id = "iscsi-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings =
            {
                {"iscsi-discovery-no-auth", SEVERITY_HIGH},
            },
        .questions = {"iscsi-discovery-no-auth"},
        .title = "iSCSI",
        .label_en = "Network disks (iSCSI)",
        .label_ja = "ネットワークディスク (iSCSI)",
        .open_en = "An iSCSI storage target is reachable: its disks may be attached over the "
                   "Internet.",
        .open_ja =
            "iSCSI ストレージに到達できます。そのディスクがインターネット越しに接続される恐れ"
            "があります。",
    },
    {
        .name = "nas-admin",
        .probe = "nas-admin",
        .tls = true, /* its HTTPS ports (5001, 443) */
        .ports = PORTS({5000, 5001}, {8080, 8080}, {443, 443}),
        .exposed_id = "nas-admin-exposed",
        .exposed_severity = SEVERITY_MEDIUM,
        .exposed_confidence = CONFIDENCE_POSSIBLE,
        .title = "NAS admin",
        .label_en = "NAS admin page (Synology, QNAP)",
        .label_ja = "NAS の管理画面 (Synology、QNAP)",
        .open_en = "A web port a NAS uses for its administration page is reachable.",
        .open_ja = "NAS が管理画面に使う Web ポートに到達できます。",
    },
    {
        .name = "redis",
        .probe = "redis",
        .ports = PORTS({6379, 6379}),
        .exposed_id = "redis-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings = {{"redis-no-auth", SEVERITY_CRITICAL}},
        .questions = {"redis-no-auth"},
        .title = "Redis",
        .label_en = "Database (Redis)",
        .label_ja = "データベース (Redis)",
        .open_en = "A Redis database is reachable: without a password anyone can read and erase "
                   "its data.",
        .open_ja = "Redis データベースに到達できます。パスワードがなければ誰でもデータを読み取り、"
                   "消去できます。",
    },
    {
        .name = "mongodb",
        .probe = "mongodb",
        .ports = PORTS({27017, 27017}),
        .exposed_id = "mongodb-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings = {{"mongodb-no-auth", SEVERITY_CRITICAL}},
        .questions = {"mongodb-no-auth"},
        .title = "MongoDB",
        .label_en = "Database (MongoDB)",
        .label_ja = "データベース (MongoDB)",
        .open_en = "A MongoDB database is reachable: open ones are wiped and held to ransom.",
        .open_ja = "MongoDB データベースに到達できます。公開されたものは消去され、身代金を要求"
                   "されています。",
    },
    {
        .name = "elasticsearch",
        .probe = "elasticsearch",
        .tls = true, /* Elasticsearch 8's default HTTPS on 9200 */
        .ports = PORTS({9200, 9200}),
        .exposed_id = "elasticsearch-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .findings = {{"elasticsearch-no-auth", SEVERITY_CRITICAL}},
        .questions = {"elasticsearch-no-auth"},
        .title = "Elasticsearch",
        .label_en = "Search database (Elasticsearch)",
        .label_ja = "検索データベース (Elasticsearch)",
        .open_en = "An Elasticsearch server is reachable: without a password anyone can read "
                   "and delete what it stores.",
        .open_ja = "Elasticsearch に到達できます。パスワードがなければ誰でも保存された内容を"
                   "読み取り、削除できます。",
    },
    /*
     * memcached has no authentication in its text protocol: an answer to `version` is a cache
     * anyone can read, change and flush. Over UDP (off by default since 1.5.6) it is a
     * reflection and amplification source: its own check, since a check has one transport.
     */
    {
        .name = "memcached",
        .probe = "memcached",
        .ports = PORTS({11211, 11211}),
        .exposed_id = "memcached-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_POSSIBLE,
        .title = "memcached",
        .label_en = "Cache server (memcached)",
        .label_ja = "キャッシュサーバー (memcached)",
        .open_en = "memcached answers from the Internet without a password: anyone can read, "
                   "change or erase what it holds.",
        .open_ja = "memcached がパスワードなしでインターネットから応答します。誰でも中身を"
                   "読み取り、書き換え、消去できます。",
    },
    {
        .name = "memcached-udp",
        .probe = "memcached-udp",
        .transport = TRANSPORT_UDP,
        .ports = PORTS({11211, 11211}),
        .exposed_id = "memcached-udp-amplifier",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_POSSIBLE,
        .title = "memcached UDP",
        .label_en = "Cache server over UDP (memcached)",
        .label_ja = "UDP のキャッシュサーバー (memcached)",
        .open_en = "memcached answers over UDP: it can be abused to flood others with many times "
                   "the traffic an attacker sends.",
        .open_ja = "memcached が UDP で応答します。攻撃者が送った何倍もの通信で他者を攻撃する"
                   "踏み台に悪用されます。",
    },
    {
        .name = "mysql",
        .probe = "mysql",
        .ports = PORTS({3306, 3306}),
        .exposed_id = "mysql-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .title = "MySQL",
        .label_en = "Database (MySQL/MariaDB)",
        .label_ja = "データベース (MySQL/MariaDB)",
        .open_en = "A MySQL or MariaDB database is reachable: attackers try passwords on it.",
        .open_ja = "MySQL または MariaDB データベースに到達できます。パスワード攻撃の標的になり"
                   "ます。",
    },
    {
        .name = "postgresql",
        .probe = "postgresql",
        .ports = PORTS({5432, 5432}),
        .exposed_id = "postgresql-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .title = "PostgreSQL",
        .label_en = "Database (PostgreSQL)",
        .label_ja = "データベース (PostgreSQL)",
        .open_en = "A PostgreSQL database is reachable: attackers try passwords on it.",
        .open_ja = "PostgreSQL データベースに到達できます。パスワード攻撃の標的になります。",
    },
};

#define N_CHECKS (sizeof(checks) / sizeof(checks[0]))

_Static_assert(N_CHECKS <= CATALOGUE_MAX_CHECKS, "per-check tables hold CATALOGUE_MAX_CHECKS");

const struct check_def *catalogue_checks(size_t *count)
{
	*count = N_CHECKS;
	return checks;
}

const struct check_def *catalogue_find(const char *name)
{
	for (size_t i = 0; name && i < N_CHECKS; i++)
		if (strcmp(checks[i].name, name) == 0)
			return &checks[i];
	return NULL;
}

size_t catalogue_rank(const char *name)
{
	const struct check_def *c = catalogue_find(name);

	return c ? (size_t)(c - checks) : N_CHECKS;
}

static size_t own_findings(const struct check_def *c)
{
	size_t n = 0;

	while (n < CHECK_MAX_FINDINGS && c->findings[n].id != NULL)
		n++;
	return n;
}

bool check_finding(const struct check_def *c, size_t k, struct finding_def *out)
{
	const struct check_def *run;
	size_t own = own_findings(c);

	if (k == 0) {
		*out = (struct finding_def){c->exposed_id, c->exposed_severity};
		return true;
	}
	if (k - 1 < own) {
		*out = c->findings[k - 1];
		return true;
	}
	/* One level only: the check it runs contributes its protocol findings, not its door. */
	run = c->runs ? catalogue_find(c->runs) : NULL;
	if (run == NULL || run == c || k - 1 - own >= own_findings(run))
		return false;
	*out = run->findings[k - 1 - own];
	return true;
}

static size_t own_questions(const struct check_def *c)
{
	size_t n = 0;

	while (n < CHECK_MAX_QUESTIONS && c->questions[n] != NULL)
		n++;
	return n;
}

/* The severity check c raises finding id with (SEVERITY_X_MAX: not one of its findings). */
static enum severity finding_severity(const struct check_def *c, const char *id)
{
	struct finding_def f;

	for (size_t k = 0; check_finding(c, k, &f); k++)
		if (strcmp(f.id, id) == 0)
			return f.severity;
	return SEVERITY_X_MAX;
}

bool check_question(const struct check_def *c, size_t k, struct finding_def *out)
{
	const struct check_def *run = c->runs ? catalogue_find(c->runs) : NULL;
	size_t own = own_questions(c);
	const char *id;

	if (k < own)
		id = c->questions[k];
	else if (run != NULL && run != c && k - own < own_questions(run))
		id = run->questions[k - own];
	else
		return false;
	*out = (struct finding_def){id, finding_severity(c, id)};
	return true;
}

static const struct finding_def visit_findings[] = {
    {FINDING_IPV6_ONLY, SEVERITY_HIGH},
    {FINDING_IPV4_ONLY, SEVERITY_HIGH},
};

const struct finding_def *catalogue_visit_findings(size_t *count)
{
	*count = sizeof(visit_findings) / sizeof(visit_findings[0]);
	return visit_findings;
}

const struct check_def *catalogue_owner(const char *id)
{
	for (size_t i = 0; id && i < N_CHECKS; i++) {
		if (strcmp(checks[i].exposed_id, id) == 0)
			return &checks[i];
		for (size_t k = 0; k < own_findings(&checks[i]); k++)
			if (strcmp(checks[i].findings[k].id, id) == 0)
				return &checks[i];
	}
	return NULL;
}

bool catalogue_raises(const char *id)
{
	struct finding_def f;

	for (size_t i = 0; id && i < N_CHECKS; i++)
		for (size_t k = 0; check_finding(&checks[i], k, &f); k++)
			if (strcmp(f.id, id) == 0)
				return true;
	return false;
}

bool catalogue_headline(const char *name)
{
	const struct check_def *c = catalogue_find(name);

	return c != NULL && c->headline;
}

/* Append text to buf[0..n) at *len, truncating but counting what it needed. */
static void join(char *buf, size_t n, size_t *len, const char *text)
{
	size_t t = strlen(text);

	if (*len < n)
		snprintf(buf + *len, n - *len, "%s", text);
	*len += t;
}

const char *transport_name(enum transport t)
{
	static const char *const names[TRANSPORT_X_MAX] = {
	    [TRANSPORT_TCP] = "tcp", [TRANSPORT_UDP] = "udp"};

	return (unsigned)t < TRANSPORT_X_MAX ? names[t] : "unknown";
}

size_t check_ports_ranges(struct check_ports p)
{
	size_t n = 0;

	while (n < CHECK_MAX_RANGES && p.r[n].first != 0)
		n++;
	return n;
}

size_t check_ports_count(struct check_ports p)
{
	size_t total = 0;

	for (size_t k = 0; k < check_ports_ranges(p); k++)
		if (p.r[k].last >= p.r[k].first)
			total += (size_t)(p.r[k].last - p.r[k].first) + 1;
	return total;
}

uint16_t check_ports_nth(struct check_ports p, size_t k)
{
	for (size_t i = 0; i < check_ports_ranges(p); i++) {
		size_t width =
		    p.r[i].last >= p.r[i].first ? (size_t)(p.r[i].last - p.r[i].first) + 1 : 0;

		if (k < width)
			return (uint16_t)(p.r[i].first + k);
		k -= width;
	}
	return 0;
}

size_t check_ports_index(struct check_ports p, uint16_t port)
{
	size_t k = 0;

	for (size_t i = 0; i < check_ports_ranges(p); i++) {
		if (port >= p.r[i].first && port <= p.r[i].last)
			return k + (size_t)(port - p.r[i].first);
		if (p.r[i].last >= p.r[i].first)
			k += (size_t)(p.r[i].last - p.r[i].first) + 1;
	}
	return k;
}

size_t check_ports_text(struct check_ports p, char *buf, size_t n)
{
	size_t len = 0;
	char one[16];

	if (n > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < check_ports_ranges(p); i++) {
		if (p.r[i].first == p.r[i].last)
			snprintf(one, sizeof(one), "%u", p.r[i].first);
		else
			snprintf(one, sizeof(one), "%u-%u", p.r[i].first, p.r[i].last);
		join(buf, n, &len, i ? "," : "");
		join(buf, n, &len, one);
	}
	return len;
}

static void ports_text(const struct check_def *c, char *buf, size_t n)
{
	check_ports_text(c->ports, buf, n);
}

size_t catalogue_headline_ports(char *buf, size_t n, const char *sep)
{
	size_t len = 0;
	bool first = true;
	char p[CHECK_PORTS_TEXT_MAX];

	if (n > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < N_CHECKS; i++) {
		if (!checks[i].headline)
			continue;
		ports_text(&checks[i], p, sizeof(p));
		join(buf, n, &len, first ? "" : sep);
		join(buf, n, &len, p);
		first = false;
	}
	return len;
}

size_t catalogue_names(char *buf, size_t n, const char *sep)
{
	size_t len = 0;

	if (n > 0)
		buf[0] = '\0';
	for (size_t i = 0; i < N_CHECKS; i++) {
		join(buf, n, &len, i ? sep : "");
		join(buf, n, &len, checks[i].name);
	}
	return len;
}

void catalogue_title(const char *name, char *buf, size_t n)
{
	const struct check_def *c = catalogue_find(name);
	char p[CHECK_PORTS_TEXT_MAX];

	if (c == NULL) {
		snprintf(buf, n, "%s", name);
		return;
	}
	ports_text(c, p, sizeof(p));
	/* "SSDP (1900/udp)": TCP goes without saying, as it always did. */
	snprintf(buf, n, "%s (%s%s)", c->title, p, c->transport == TRANSPORT_UDP ? "/udp" : "");
}

/* A port: 1..65535, digits only. */
static int parse_port(const char *s, const char *end, uint16_t *out)
{
	uint64_t v;
	int r = decimal_span_u64(s, (size_t)(end - s), UINT16_MAX, &v);

	if (r < 0)
		return r;
	if (v == 0)
		return -ERR_RANGE;
	*out = (uint16_t)v;
	return 0;
}
/*
 * "PORT", "FIRST-LAST" or a comma-separated list of them into *out. Returns 0, or -ERR_SYNTAX /
 * -ERR_RANGE for a bad port (how is said by the caller), or 1 for a list that breaks the shape
 * (a range going down, too many ranges or ports, a port twice).
 */
static int parse_port_list(const char *s, struct check_ports *out)
{
	size_t n = 0;
	int r;

	*out = (struct check_ports){0};
	for (;;) {
		const char *end = s + strcspn(s, ",");
		const char *dash = memchr(s, '-', (size_t)(end - s));
		struct port_range pr;

		if ((r = parse_port(s, dash ? dash : end, &pr.first)) < 0)
			return r;
		pr.last = pr.first;
		if (dash && (r = parse_port(dash + 1, end, &pr.last)) < 0)
			return r;
		if (n == CHECK_MAX_RANGES || pr.last < pr.first)
			return 1;
		for (size_t k = 0; k < n; k++)
			if (pr.first <= out->r[k].last && pr.last >= out->r[k].first)
				return 1;
		out->r[n++] = pr;
		if (check_ports_count(*out) > CHECK_MAX_PORTS)
			return 1;
		if (*end == '\0')
			return 0;
		s = end + 1;
	}
}

int port_override_parse(struct port_overrides *o, const char *text, char *err, size_t errlen)
{
	const char *eq = strchr(text, '=');
	char name[32];
	struct check_ports cp;
	int r;

	if (eq == NULL || eq == text || (size_t)(eq - text) >= sizeof(name)) {
		snprintf(err, errlen, "--port takes CHECK=PORT or CHECK=FIRST-LAST, not '%s'",
		         text);
		return -ERR_SYNTAX;
	}
	memcpy(name, text, (size_t)(eq - text));
	name[eq - text] = '\0';
	const struct check_def *c = catalogue_find(name);
	if (c == NULL) {
		char names[CATALOGUE_MAX_CHECKS * 16];

		catalogue_names(names, sizeof(names), " ");
		snprintf(err, errlen, "--port: unknown check '%s' (%s)", name, names);
		return -ERR_UNSUPPORTED;
	}
	r = parse_port_list(eq + 1, &cp);
	if (r < 0) {
		snprintf(err, errlen, "--port %s: ports are whole numbers from 1 to 65535", text);
		return r;
	}
	if (r > 0) {
		snprintf(err, errlen,
		         "--port %s: a range must go up and hold at most %d ports (at most %d "
		         "ranges, no port twice)",
		         text, CHECK_MAX_PORTS, CHECK_MAX_RANGES);
		return -ERR_RANGE;
	}
	o->set[c - checks] = true;
	o->ports[c - checks] = cp;
	return 0;
}

struct check_ports catalogue_ports(const struct port_overrides *o, size_t i)
{
	if (o && i < N_CHECKS && o->set[i])
		return o->ports[i];
	return i < N_CHECKS ? checks[i].ports : (struct check_ports){0};
}

uint32_t catalogue_profile_2017(void)
{
	uint32_t s = 0;

	for (size_t i = 0; i < N_CHECKS; i++)
		if (checks[i].profile_2017)
			s |= UINT32_C(1) << i;
	return s;
}

uint32_t catalogue_all(void)
{
	return N_CHECKS == 32 ? UINT32_MAX : (UINT32_C(1) << N_CHECKS) - 1;
}

bool checks_has(uint32_t s, size_t i)
{
	return i < N_CHECKS && (s >> i) & 1;
}

bool catalogue_tls(uint32_t s)
{
	if (s == 0)
		s = catalogue_profile_2017();
	for (size_t i = 0; i < N_CHECKS; i++)
		if (checks_has(s, i) && checks[i].tls)
			return true;
	return false;
}

size_t checks_count(uint32_t s)
{
	size_t n = 0;

	for (size_t i = 0; i < N_CHECKS; i++)
		n += checks_has(s, i);
	return n;
}

/* "a,b,c": known names, each once. */
static int select_list(const char *list, uint32_t *out, char *err, size_t errlen)
{
	uint32_t s = 0;

	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		char name[32];
		const struct check_def *c = NULL;

		if (len > 0 && len < sizeof(name)) {
			memcpy(name, p, len);
			name[len] = '\0';
			c = catalogue_find(name);
		}
		if (c == NULL) {
			char names[CATALOGUE_MAX_CHECKS * 16];

			catalogue_names(names, sizeof(names), ",");
			snprintf(err, errlen, "--checks: '%.*s' is not a check (%s)",
			         (int)(len < 32 ? len : 32), p, names);
			return -ERR_UNSUPPORTED;
		}
		if (s & (UINT32_C(1) << (c - checks))) {
			snprintf(err, errlen, "--checks: %s is named twice", c->name);
			return -ERR_SYNTAX;
		}
		s |= UINT32_C(1) << (c - checks);
		p += len;
		if (*p == '\0')
			break;
	}
	*out = s;
	return 0;
}

int catalogue_select(const char *profile, const char *list, uint32_t *out, char *err, size_t errlen)
{
	if (list != NULL)
		return select_list(list, out, err, errlen);
	if (profile == NULL || strcmp(profile, "2017") == 0) {
		*out = catalogue_profile_2017();
		return 0;
	}
	if (strcmp(profile, "extended") == 0) {
		*out = catalogue_all();
		return 0;
	}
	snprintf(err, errlen, "--profile is 2017 or extended, not '%.32s'", profile);
	return -ERR_UNSUPPORTED;
}
