#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cross-check (by hand, root): our smb verdicts next to nmap 7.93's smb-protocols,
# smb2-security-mode, smb-vuln-ms17-010 and smb-double-pulsar-backdoor, on the namespace lab's
# real Samba variants and on the SMB EMULATOR (tests/emul/smb_emul.py). Prints one table; the
# differences are explained in docs/internals/PROBES.md ("nmap cross-check").
# Usage: bench/nmap_crosscheck.sh [PATH-TO-exposure]   (default build/src/cli/exposure)
# The SSH, Telnet, RDP and VNC rows follow the SMB part.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
EXPOSURE=$(realpath "${1:-$ROOT/build/src/cli/exposure}")
export LAB_PREFIX=${LAB_PREFIX:-xpx$$}
# shellcheck source=tests/lab/lab.sh
. "$ROOT/tests/lab/lab.sh"
lab_require_root
for t in nmap jq; do
	command -v "$t" >/dev/null || { echo "$t missing" >&2; exit 1; }
done
[ -x "$EXPOSURE" ] || { echo "no exposure binary at $EXPOSURE" >&2; exit 2; }
trap lab_down EXIT
lab_up srv >/dev/null 2>&1 || { echo "lab did not come up" >&2; exit 1; }
A=$(lab_addr4 srv)
NS=$(lab_ns srv)
W="$LAB_STATE/xc"
mkdir -p "$W"

# label|kind|port|what : kind smbd -> lab_smbd arguments, emul -> emulator case
TARGETS=(
	"samba-nt1-default|smbd|10445|smb1=on"
	"samba-nt1-mandatory|smbd|12445|smb1=on signing=mandatory"
	"samba-nt1-restrict2|smbd|14445|smb1=on anon=2"
	"samba-smb1off-default|smbd|13445|smb1=off"
	"samba-smb1off-mandatory|smbd|11445|smb1=off signing=mandatory"
	"emul-ms17-vulnerable|emul|20445|ms17-vulnerable"
	"emul-ms17-patched-win10|emul|20446|ms17-patched-win10"
	"emul-ms17-doublepulsar|emul|20447|ms17-doublepulsar"
	"emul-ms17-logon-failure|emul|20448|ms17-logon-failure"
	"emul-ms17-rst-after-trans|emul|20449|ms17-rst-after-trans"
	"emul-ms17-dos-badfid|emul|20450|ms17-patched-dos-badfid"
	"emul-smb1-lanman|emul|20451|smb1-lanman"
)

for t in "${TARGETS[@]}"; do
	IFS='|' read -r label kind port what <<<"$t"
	if [ "$kind" = smbd ]; then
		# shellcheck disable=SC2086
		lab_smbd srv $what ports="$port" >/dev/null || echo "smbd $what did not start" >&2
	else
		lab_spawn "emul-$label" "$NS" /usr/bin/python3 "$ROOT/tests/emul/smb_emul.py" \
			--host "$A" --port "$port" "$what" >/dev/null
		lab_wait_listen "$NS" "$port" || echo "emulator $what did not start" >&2
	fi
done

# nmap XML -> "smb1|dialects|signing|ms17|doublepulsar"
nmap_summary()
{
	python3 - "$1" <<-'EOF'
	import sys, xml.etree.ElementTree as ET
	root = ET.parse(sys.argv[1]).getroot()
	out = {}
	for s in root.iter("script"):
	    out[s.get("id")] = s.get("output") or ""
	p = out.get("smb-protocols", "")
	dialects = [l.strip().split(" ")[0] for l in p.splitlines()[2:] if l.strip()]
	smb1 = "yes" if "SMBv1" in p else ("no" if p else "-")
	sm = out.get("smb2-security-mode", "")
	sign = ("required" if "and required" in sm else "not required" if "not required" in sm
	        else "-" if not sm else sm.strip().replace("\n", " "))
	def state(sid):
	    o = out.get(sid)
	    if o is None:
	        return "(no output)"
	    for l in o.splitlines():
	        if "State:" in l:
	            return l.split("State:", 1)[1].strip()
	    return o.strip().replace("\n", " ")[:40]
	print("|".join([smb1, ",".join(d for d in dialects if d != "NT") or "-", sign,
	                state("smb-vuln-ms17-010"), state("smb-double-pulsar-backdoor")]))
	EOF
}

printf '%-26s | %-28s | %-28s\n' target "exposure (smb1; dialects; signing; ms17; dp; findings)" "nmap 7.93 (smb1; dialects; signing; ms17; dp)"
for t in "${TARGETS[@]}"; do
	IFS='|' read -r label kind port what <<<"$t"
	t0=$(date +%s%N)
	lab_scan "$EXPOSURE" check --json --allow 198.18.0.0/15 --port smb="$port" "$A" \
		>"$W/$label.json" 2>/dev/null
	t1=$(date +%s%N)
	ours=$(jq -r --argjson p "$port" '.checks[] | select(.check == "smb" and .port == $p) |
		[(if .details.smb1 then "yes" else "no" end),
		 ((.details.dialects // []) | map(select(. != "NT LM 0.12")) | join(",")),
		 (.details.signing // "-"), (.details.ms17_010 // "-"),
		 (.details.doublepulsar // "-"),
		 ([.findings[].id] | map(select(. != "smb-exposed")) | join(","))] | join("; ")' \
		"$W/$label.json")
	lab_scan nmap -Pn -n -p "$port" --script \
		smb-protocols,smb2-security-mode,smb-vuln-ms17-010,smb-double-pulsar-backdoor \
		--script-args "smbport=$port,vulns.showall" -oX "$W/$label.xml" "$A" >/dev/null 2>&1
	t2=$(date +%s%N)
	theirs=$(nmap_summary "$W/$label.xml" | tr '|' ';' | sed 's/;/; /g')
	printf '%-26s | %s  [%d ms]\n%-26s | %s  [%d ms]\n' "$label" "$ours" \
		$(((t1 - t0) / 1000000)) "" "nmap: $theirs" $(((t2 - t1) / 1000000))
done

# ---------------------------------------------------------------------------------------------
# SSH, Telnet, RDP, VNC, port states and the ALL-SERVICES host (helper bench3). One function per
# protocol; each starts its real servers / emulators on the same lab host "srv", runs
#   exposure check --json --allow 198.18.0.0/15 --allow 2001:db8::/32 --port CHECK=PORT ADDR
#   nmap -sT -Pn -n -sV --script <that protocol's scripts> -p PORT ADDR
# and prints one block per target: item | exposure | nmap | same? (the differences are explained
# in docs/nmap-differences.md). XC_ONLY="allsvc ssh telnet rdp vnc realport ports" selects them
# (default all). nmap -sV makes the port rules fire on non-standard ports (PROTOCOLS.md §12.0).
XC_ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
XC_ALL_SCRIPTS=smb-protocols,smb2-security-mode,smb-vuln-ms17-010,rdp-enum-encryption,vnc-info
XC_ALL_SCRIPTS+=,ssh2-enum-algos
XC_ONLY=${XC_ONLY:-allsvc ssh telnet rdp vnc realport ports}

xc_want() { [[ " $XC_ONLY " == *" $1 "* ]]; }

# xc_compare LABEL JSON XML CHECK:PORT...  -> rows "item | exposure | nmap | same?"
xc_compare()
{
	python3 - "$@" <<-'EOF'
	import json, sys, xml.etree.ElementTree as ET
	label, jf, xf = sys.argv[1:4]
	items = [a.split(":") for a in sys.argv[4:]]
	doc = json.load(open(jf))
	if isinstance(doc, list):
	    doc = doc[0]
	try:
	    root = ET.parse(xf).getroot()
	except Exception as e:
	    root = None
	def nport(p):
	    if root is None:
	        return None
	    for x in root.iter("port"):
	        if x.get("portid") == str(p):
	            return x
	def nscript(p, sid):
	    x = nport(p)
	    if x is not None:
	        for s in x.iter("script"):
	            if s.get("id") == sid:
	                return s.get("output") or ""
	    if root is not None:
	        for h in root.iter("hostscript"):
	            for s in h.iter("script"):
	                if s.get("id") == sid:
	                    return s.get("output") or ""
	    return None
	def ours(check, port):
	    for c in doc.get("checks", []):
	        if c["check"] == check and (c["port"] == int(port) or check == "skysea"):
	            return c
	    return {}
	def fids(c):
	    return {f["id"]: f for f in c.get("findings", [])}
	rows = []
	def row(item, a, b, same):
	    rows.append((item, str(a), str(b), {True: "yes", False: "NO", None: "-"}[same]))
	WEAK_EXACT = {"diffie-hellman-group1-sha1", "ssh-dss", "3des-cbc", "blowfish-cbc",
	              "cast128-cbc", "none"}
	def weak(name):
	    return (name in WEAK_EXACT or name.startswith("arcfour") or name.startswith("hmac-md5")
	            or name.endswith("-96"))
	for check, port in items:
	    c = ours(check, port)
	    d = c.get("details") or {}
	    f = fids(c)
	    np = nport(port)
	    nst = np.find("state").get("state") if np is not None else "(not scanned)"
	    nsv = np.find("service") if np is not None else None
	    nname = nsv.get("name") if nsv is not None else "-"
	    nattr = ((nsv.get("product"), nsv.get("version"), nsv.get("extrainfo"))
	             if nsv is not None else ())
	    nprod = " ".join(x for x in nattr if x)
	    unrec = nsv is not None and nsv.get("servicefp") is not None
	    st = c.get("state", "-") + "/" + c.get("reason", "-")
	    if "icmp" in c:
	        st += " icmp %d/%d" % (c["icmp"]["type"], c["icmp"]["code"])
	    nreason = np.find("state").get("reason") if np is not None else ""
	    row("%s:%s port state" % (check, port), st, "%s/%s" % (nst, nreason),
	        c.get("state") == nst)
	    if c.get("state") != "open":
	        continue
	    svc = c.get("service") or "-"
	    ex = f.get(check + "-exposed") or f.get("skysea-port-exposed") or {}
	    row("  service", "%s (%s %s)" % (svc, ex.get("id", "-"), ex.get("confidence", "-")),
	        "%s%s%s" % (nname, " " + nprod if nprod else "",
	                     (" [not recognised]" if nname == "unknown" else
	                      " [soft match: protocol only, no product]") if unrec else ""), None)
	    if check == "ssh":
	        soft = " ".join(x for x in (d.get("proto") and "SSH-" + d["proto"],
	                                    d.get("software"), d.get("comments")) if x)
	        row("  banner/version", soft or d.get("reason", "-"), nprod or "-", None)
	        s1 = "ssh1-enabled" in f
	        n1 = ("1.99" in nprod or "protocol 1" in nprod) if nprod else None
	        row("  SSH-1 offered", s1, "-" if n1 is None else n1,
	            None if n1 is None else s1 == n1)
	        ow = f.get("ssh-weak-algorithms", {}).get("reason", "none")
	        out = nscript(port, "ssh2-enum-algos")
	        if out is None:
	            nw = "(no ssh2-enum-algos output)"
	            same = None
	        else:
	            w, sec = [], ""
	            for l in out.splitlines():
	                if not l.startswith("      "):
	                    sec = l.strip().split(":")[0]
	                elif sec != "compression_algorithms" and weak(l.strip()):
	                    w.append(l.strip())
	            nw = "lists only, no verdict; weak in its lists: " + (",".join(w) or "none")
	            same = (ow == "none") == (not w)
	        row("  weak algorithms", ow, nw, same)
	        kex = (d.get("kex") or {}).get("kex_algorithms") or []
	        row("  strict kex (Terrapin)", "ssh-terrapin-prone" in f and "prone" or
	            ("strict" if "kex-strict-s-v00@openssh.com" in kex else "-"),
	            "(no verdict)", None)
	    elif check == "telnet":
	        ns = "telnet-no-auth-shell" in f
	        row("  no-auth shell", ns and "telnet-no-auth-shell" or "no",
	            "(no verdict)", None)
	        row("  prompt/options", "%s / %s" % (d.get("prompt", "-"),
	            ",".join((d.get("options_seen") or [])[:6])), "-", None)
	    elif check in ("smb", "netbios"):
	        p = nscript(port, "smb-protocols")
	        n1 = None if p is None else ("SMBv1" in p)
	        row("  SMBv1", d.get("smb1"), "-" if n1 is None else n1,
	            None if n1 is None else bool(d.get("smb1")) == n1)
	        ndia = [l.strip().split(" ")[0] for l in (p or "").splitlines()[2:] if l.strip()]
	        row("  dialects", ",".join(d.get("dialects") or []), ",".join(ndia) or "-", None)
	        sm = nscript(port, "smb2-security-mode")
	        nsig = (None if sm is None else "required" if "and required" in sm else
	                "not required" if "not required" in sm else sm.strip())
	        osig = d.get("signing", "-")
	        row("  signing", "%s (smb-signing-not-required: %s)" % (osig,
	            "yes" if "smb-signing-not-required" in f else "no"), nsig or "-",
	            None if nsig is None else ((osig == "required") == (nsig == "required")))
	        mv = nscript(port, "smb-vuln-ms17-010")
	        nm = "(no output)"
	        if mv is not None:
	            for l in mv.splitlines():
	                if "State:" in l:
	                    nm = l.split("State:", 1)[1].strip()
	        om = d.get("ms17_010", "-")
	        row("  MS17-010", "%s (%s)" % (om, d.get("ms17_010_reason", "")), nm,
	            None if nm == "(no output)" else (om == "vulnerable") == (nm == "VULNERABLE"))
	    elif check == "rdp":
	        out = nscript(port, "rdp-enum-encryption")
	        lines = [l.strip() for l in (out or "").splitlines() if l.strip()]
	        succ = [l.split(":")[0] for l in lines if "SUCCESS" in l]
	        probes = d.get("probes") or []
	        row("  security layers", "P1/P2/P3: " + ", ".join(
	            "%s=%s%s" % (pp.get("requested"), pp.get("reply"),
	                         (" " + str(pp.get("selected", pp.get("failure_code", ""))))
	                         if pp.get("reply") in ("selected", "failure") else "")
	            for pp in probes), "; ".join(lines) or "(no output)", None)
	        if out is None or "ERROR" in (out or ""):
	            nn = "no verdict (%s)" % ("script error" if out else "no output")
	            same = None
	        elif not succ:
	            nn = "nothing accepted / unknown"
	            same = None
	        else:
	            nla_req = all(s.startswith("CredSSP") for s in succ)
	            nn = "NLA %s (%s accepted)" % ("required" if nla_req else "not required",
	                                          ",".join(succ))
	            same = (d.get("nla") == "required") == nla_req
	        row("  NLA", "%s%s" % (d.get("nla", "-"),
	            " (" + d["nla_reason"] + ")" if d.get("nla_reason") else ""), nn, same)
	        row("  CredSSP offered", "best_protocol %s" % d.get("best_protocol", "-"),
	            "CredSSP SUCCESS" if any(s.startswith("CredSSP") for s in succ) else "-", None)
	        row("  standard RDP security",
	            "rdp-standard-security" in f and "allowed" or "refused",
	            "allowed" if "Native RDP" in succ else ("-" if not succ else "refused"),
	            None if not succ else ("rdp-standard-security" in f) == ("Native RDP" in succ))
	    elif check == "vnc":
	        out = nscript(port, "vnc-info")
	        nv, nt, nwarn = "-", [], None
	        if out is not None:
	            nwarn = "does not require authentication" in out
	            for l in out.splitlines():
	                l = l.strip()
	                if l.startswith("Protocol version:"):
	                    nv = l.split(":", 1)[1].strip()
	                elif l.endswith(")") and "(" in l:
	                    nt.append(l)
	        row("  version", d.get("version", "-"), nv, None)
	        row("  security types", ",".join(d.get("security_types") or []) +
	            (" vencrypt:" + ",".join(map(str, d.get("vencrypt_subtypes") or []))
	             if d.get("vencrypt_subtypes") else "") +
	            (" refused: " + d["refused_reason"] if d.get("refused_reason") else ""),
	            ", ".join(nt) or ("(no vnc-info output)" if out is None else out.strip()[:60]),
	            None)
	        on = "vnc-no-auth" in f
	        row("  no authentication", "%s%s" % (on, " via " + d["no_auth_via"]
	                                            if d.get("no_auth_via") else ""),
	            "-" if nwarn is None else nwarn, None if nwarn is None else on == nwarn)
	        row("  password only", "vnc-password-only" in f, "-", None)
	print("== %s" % label)
	for r in rows:
	    print("   %-26s | %-44s | %-44s | %s" % r)
	EOF
}

# xc_run LABEL CHECK PORT NMAP-SCRIPTS : one target, one check on a non-standard port
xc_run()
{
	local label=$1 check=$2 port=$3 scripts=$4 sargs=() sv=(-sV)
	lab_scan "$EXPOSURE" check --json "${XC_ALLOW[@]}" --port "$check=$port" "$A" \
		>"$W/$label.json" 2>/dev/null
	[ -n "$scripts" ] && sargs=(--script "$scripts")
	[ "${XC_NOSV:-0}" = 1 ] && sv=() # no version detection: the port rule fires on the number
	lab_scan timeout 300 nmap -sT -Pn -n "${sv[@]}" "${sargs[@]}" -p "$port" -oX "$W/$label.xml" \
		"$A" >/dev/null 2>&1
	xc_compare "$label" "$W/$label.json" "$W/$label.xml" "$check:$port"
}

# xc_emul NAME CASE PORT : start tests/emul/emul.py CASE (an EMULATOR, not a real server)
xc_emul()
{
	lab_spawn "xc-$1" "$NS" /usr/bin/python3 "$ROOT/tests/emul/emul.py" --host "$A" \
		--port "$3" --hold 2 "$2" >/dev/null
	lab_wait_listen "$NS" "$3" >/dev/null || echo "emulator $2 did not start" >&2
}

# xc_emul_x509none PORT : EMULATOR of a VNC server offering only VeNCrypt X509None (260), a case
# emul.py does not have, added to its CASES at run time (PROTOCOLS.md §8.5: nmap's vnc-info
# does not treat 260 as "no authentication").
xc_emul_x509none()
{
	lab_spawn "xc-x509none" "$NS" /usr/bin/python3 -c '
import sys
sys.path.insert(0, sys.argv.pop(1))
import emul
emul.CASES["vnc-vencrypt-x509none"] = [[("send", b"RFB 003.008\n"), ("recv", 12),
    ("send", b"\x01\x13"), ("recv", 1), ("send", b"\x00\x02"), ("recv", 2),
    ("send", b"\x00\x01\x00\x00\x01\x04")]]
sys.exit(emul.main())' "$ROOT/tests/emul" --host "$A" --port "$1" --hold 2 vnc-vencrypt-x509none \
		>/dev/null
	lab_wait_listen "$NS" "$1" >/dev/null || echo "emulator x509none did not start" >&2
}

xc_up() { "$@" >/dev/null || echo "could not start: $*" >&2; }

# The all-services host: real servers on the catalogue's real ports, the full check against the
# full nmap command of the benchmark (bench/bench_services.sh).
xc_allsvc()
{
	xc_up lab_sshd srv 22
	xc_up lab_telnetd srv 23
	xc_up lab_smbd srv smb1=on
	xc_up lab_xrdp srv 3389 tls
	xc_up lab_vncd srv 5900 none
	lab_scan "$EXPOSURE" check --json "${XC_ALLOW[@]}" "$A" >"$W/allsvc.json" 2>/dev/null
	lab_scan timeout 300 nmap -sT -Pn -n -sV --script "$XC_ALL_SCRIPTS" \
		--script-args vulns.showall -p 22,23,139,445,3389,5900,52300-52315 \
		-oX "$W/allsvc.xml" "$A" >/dev/null 2>&1
	xc_compare "all-services host $A (sshd, telnetd, smbd SMB1 on, xrdp tls, Xtigervnc None)" \
		"$W/allsvc.json" "$W/allsvc.xml" ssh:22 telnet:23 netbios:139 smb:445 rdp:3389 \
		vnc:5900 skysea:52300
}

xc_ssh()
{
	xc_up lab_sshd srv 10024 KexAlgorithms=+diffie-hellman-group1-sha1 Ciphers=+3des-cbc \
		MACs=+hmac-md5
	xc_run "sshd weak algorithms (+group1-sha1, 3des-cbc, hmac-md5)" ssh 10024 ssh2-enum-algos
	xc_emul ssh199 ssh-199 20022
	xc_run "EMULATOR SSH-1.99" ssh 20022 ssh2-enum-algos
	xc_emul sshpre ssh-prebanner 20023
	xc_run "EMULATOR pre-banner lines" ssh 20023 ssh2-enum-algos
}

xc_telnet()
{
	cat >"$W/fake-shell" <<-'EOF'
	#!/bin/sh
	printf 'BusyBox v1.36.1 built-in shell (ash)\r\n\r\nroot@fixture:~# '
	sleep 20
	EOF
	chmod 755 "$W/fake-shell"
	chmod 711 "$W" "$LAB_STATE"
	xc_up lab_telnetd srv 10025 "--exec-login=$W/fake-shell"
	xc_run "telnetd --exec-login=<fake root shell>" telnet 10025 ""
	xc_emul bbshell telnet-busybox-shell 20024
	xc_run "EMULATOR BusyBox shell" telnet 20024 ""
}

xc_rdp()
{
	xc_up lab_xrdp srv 13390 negotiate
	xc_run "xrdp security_layer=negotiate" rdp 13390 rdp-enum-encryption
	xc_up lab_xrdp srv 13391 tls nocert
	xc_run "xrdp tls, certificate unreadable" rdp 13391 rdp-enum-encryption
	xc_emul rdpnla rdp-nla 23389
	xc_run "EMULATOR Windows, NLA required" rdp 23389 rdp-enum-encryption
	xc_emul rdpleg rdp-legacy 23390
	xc_run "EMULATOR legacy CC (no negotiation data)" rdp 23390 rdp-enum-encryption
}

xc_vnc()
{
	xc_up lab_vncd srv 15901 vncauth secret
	xc_run "Xtigervnc VncAuth" vnc 15901 vnc-info
	xc_up lab_vncd srv 15902 none -Protocol3.3
	xc_run "Xtigervnc None -Protocol3.3" vnc 15902 vnc-info
	xc_emul vtls vnc-vencrypt-tlsnone 25901
	xc_run "EMULATOR VeNCrypt TLSNone only" vnc 25901 vnc-info
	xc_emul_x509none 25905
	xc_run "EMULATOR VeNCrypt X509None only" vnc 25905 vnc-info
	xc_emul vquirk vnc-tigervnc-quirk 25902
	xc_run "EMULATOR old TigerVNC (19 before 1)" vnc 25902 vnc-info
	xc_emul vrvnc vnc-realvnc-5 25903
	xc_run "EMULATOR RealVNC 5 (RA2, RA2ne)" vnc 25903 vnc-info
	xc_emul vref vnc-refused 25904
	xc_run "EMULATOR refused: Too many security failures" vnc 25904 vnc-info
}

# EMULATORS on the real port of a second host "xcemu", one at a time: nmap's port rules
# (rdp-enum-encryption: 3389 or ms-wbt-server; ssh2-enum-algos: 22 or ssh) fire on the port number
# even where -sV does not recognise the service; nmap runs without -sV here (with it, each run
# waits minutes on the emulator's silence to the other version probes).
xc_realport()
{
	local A NS t name case check port scripts
	lab_host_add xcemu >/dev/null || { echo "host xcemu failed" >&2; return; }
	A=$(lab_addr4 xcemu)
	NS=$(lab_ns xcemu)
	local XC_NOSV=1
	for t in "EMULATOR Windows, NLA required, on 3389|rdp-nla|rdp|3389|rdp-enum-encryption" \
		"EMULATOR pre-banner lines, on 22|ssh-prebanner|ssh|22|ssh2-enum-algos"; do
		IFS='|' read -r name case check port scripts <<<"$t"
		xc_emul "r-$case" "$case" "$port"
		xc_run "$name" "$check" "$port" "$scripts"
		lab_kill "xc-r-$case"
	done
}

# Port states: nftables rejects on the same host (nmap -sT calls ICMP port-unreachable closed).
xc_ports()
{
	lab_exec srv nft -f - <<-'EOF'
	table inet xc {
		chain input {
			type filter hook input priority 0; policy accept;
			tcp dport 10006 reject with icmpx type port-unreachable
			tcp dport 10004 reject with icmpx type admin-prohibited
			tcp dport 10003 drop
		}
	}
	EOF
	xc_run "nft reject icmp port-unreachable" vnc 10006 ""
	xc_run "nft reject icmp admin-prohibited" vnc 10004 ""
	xc_run "nft drop" vnc 10003 ""
	xc_run "nothing listening (RST)" vnc 10002 ""
}

echo
echo "item | exposure | nmap 7.93 | same verdict? ('-': nmap has no verdict on it)"
for xc in allsvc ssh telnet rdp vnc realport ports; do
	xc_want "$xc" && "xc_$xc"
done
