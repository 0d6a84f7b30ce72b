#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Cross-check (by hand, root): our smb verdicts next to nmap 7.93's smb-protocols,
# smb2-security-mode, smb-vuln-ms17-010 and smb-double-pulsar-backdoor, on the namespace lab's
# real Samba variants and on the SMB EMULATOR (tests/emul/smb_emul.py). Prints one table; the
# differences are explained in docs/internals/PROBES.md ("nmap cross-check").
# Usage: bench/nmap_crosscheck.sh [PATH-TO-exposure]   (default build/src/cli/exposure)
# probes-a may add SSH/RDP/VNC rows below the SMB part.
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
