/* SPDX-License-Identifier: MIT */
/* The default catalogue of checks (catalogue.h). */
#include "diagnosis/catalogue.h"
#include "core/err.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * The doors of the 2017 self-diagnosis service. SKYSEA Client View: the vendor documents its
 * default ports inside 52300-52315 and which one the agent's vulnerable console channel uses is
 * not public (protocols.md §9), so the whole range is probed; it is 16 parallel connects.
 */
static const struct check_def checks[] = {
    {
        .name = "ssh",
        .probe = "ssh",
        .first_port = 22,
        .last_port = 22,
        .exposed_id = "ssh-exposed",
        .exposed_severity = SEVERITY_MEDIUM,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .label_en = "Remote login (SSH)",
        .label_ja = "リモートログイン (SSH)",
        .open_en = "Anyone on the Internet can try to log in to this device with SSH.",
        .open_ja = "インターネット上の誰でも SSH でこの機器へのログインを試せます。",
    },
    {
        .name = "telnet",
        .probe = "telnet",
        .first_port = 23,
        .last_port = 23,
        .exposed_id = "telnet-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .label_en = "Remote login (Telnet)",
        .label_ja = "リモートログイン (Telnet)",
        .open_en = "Telnet sends passwords unencrypted and is a favourite target of botnets.",
        .open_ja =
            "Telnet はパスワードを暗号化せずに送り、ボットネットに狙われやすいサービスです。",
    },
    {
        .name = "netbios",
        .probe = "netbios",
        .first_port = 139,
        .last_port = 139,
        .exposed_id = "netbios-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .label_en = "Windows file sharing (NetBIOS)",
        .label_ja = "Windows ファイル共有 (NetBIOS)",
        .open_en = "Windows file sharing over NetBIOS is reachable from the Internet.",
        .open_ja = "NetBIOS による Windows ファイル共有がインターネットから到達できます。",
    },
    {
        .name = "smb",
        .probe = "smb",
        .first_port = 445,
        .last_port = 445,
        .exposed_id = "smb-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .label_en = "Windows file sharing (SMB)",
        .label_ja = "Windows ファイル共有 (SMB)",
        .open_en = "File sharing (SMB) is reachable from the Internet: the door WannaCry used.",
        .open_ja =
            "ファイル共有 (SMB) がインターネットから到達できます。WannaCry が使った入口です。",
    },
    {
        .name = "rdp",
        .probe = "rdp",
        .first_port = 3389,
        .last_port = 3389,
        .exposed_id = "rdp-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .label_en = "Remote desktop (RDP)",
        .label_ja = "リモートデスクトップ (RDP)",
        .open_en = "Windows Remote Desktop is reachable: attackers try passwords and flaws on it.",
        .open_ja =
            "リモートデスクトップに到達できます。パスワード攻撃や脆弱性攻撃の標的になります。",
    },
    {
        .name = "vnc",
        .probe = "vnc",
        .first_port = 5900,
        .last_port = 5900,
        .exposed_id = "vnc-exposed",
        .exposed_severity = SEVERITY_HIGH,
        .exposed_confidence = CONFIDENCE_LIKELY,
        .label_en = "Remote screen (VNC)",
        .label_ja = "画面共有 (VNC)",
        .open_en = "A VNC screen-sharing server is reachable: whoever gets in sees and controls "
                   "the screen.",
        .open_ja = "VNC 画面共有に到達できます。侵入されると画面を見られ、操作されます。",
    },
    {
        .name = "skysea",
        .probe = "skysea",
        .first_port = 52300,
        .last_port = 52315,
        .exposed_id = "skysea-port-exposed",
        .exposed_severity = SEVERITY_MEDIUM,
        .exposed_confidence = CONFIDENCE_POSSIBLE,
        .label_en = "SKYSEA Client View ports",
        .label_ja = "SKYSEA Client View のポート",
        .open_en = "A port SKYSEA Client View uses is reachable; old versions can be taken over "
                   "(CVE-2016-7836).",
        .open_ja =
            "SKYSEA Client View が使うポートに到達できます。古い版は乗っ取られる恐れがあります "
            "(CVE-2016-7836)。",
    },
};

#define N_CHECKS (sizeof(checks) / sizeof(checks[0]))

_Static_assert(N_CHECKS <= 16, "port_overrides holds 16 checks");

const struct check_def *catalogue_checks(size_t *count)
{
	*count = N_CHECKS;
	return checks;
}

const struct check_def *catalogue_find(const char *name)
{
	for (size_t i = 0; i < N_CHECKS; i++)
		if (strcmp(checks[i].name, name) == 0)
			return &checks[i];
	return NULL;
}

static int parse_port(const char *s, const char *end, uint16_t *out)
{
	unsigned long v = 0;

	if (s == end)
		return -ERR_SYNTAX;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -ERR_SYNTAX;
		v = v * 10 + (unsigned long)(*p - '0');
		if (v > 65535)
			return -ERR_RANGE;
	}
	if (v == 0)
		return -ERR_RANGE;
	*out = (uint16_t)v;
	return 0;
}

int port_override_parse(struct port_overrides *o, const char *text, char *err, size_t errlen)
{
	const char *eq = strchr(text, '=');
	const char *dash, *end;
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
		snprintf(err, errlen,
		         "--port: unknown check '%s' (ssh telnet netbios smb rdp vnc skysea)",
		         name);
		return -ERR_UNSUPPORTED;
	}
	end = eq + 1 + strlen(eq + 1);
	dash = strchr(eq + 1, '-');
	if ((r = parse_port(eq + 1, dash ? dash : end, &cp.first)) < 0)
		goto bad_port;
	cp.last = cp.first;
	if (dash && (r = parse_port(dash + 1, end, &cp.last)) < 0)
		goto bad_port;
	if (cp.last < cp.first || cp.last - cp.first >= CHECK_MAX_PORTS) {
		snprintf(err, errlen, "--port %s: a range must go up and hold at most %d ports",
		         text, CHECK_MAX_PORTS);
		return -ERR_RANGE;
	}
	o->set[c - checks] = true;
	o->ports[c - checks] = cp;
	return 0;
bad_port:
	snprintf(err, errlen, "--port %s: ports are whole numbers from 1 to 65535", text);
	return r;
}

struct check_ports catalogue_ports(const struct port_overrides *o, size_t i)
{
	if (o && i < N_CHECKS && o->set[i])
		return o->ports[i];
	return (struct check_ports){checks[i].first_port, checks[i].last_port};
}
