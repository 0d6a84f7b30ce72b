#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 11 (by hand, root, never a test): back-to-back diagnoses. The full
# `exposure check` of the all-services host (the real servers of bench/bench_services.sh: sshd 22,
# inetutils-telnetd 23, smbd 445+139 with SMB1 on, xrdp 3389 tls, Xtigervnc 5900 without a
# password; 52300-52315 closed) from the scanner namespace, REPS times spaced by GAP seconds
# (default 10 and 0.5) and REPS times back to back, then nmap's full run of bench_services.sh
# NMAP_REPS times (default 2), first with telnetd started by inetutils-inetd (the lab's default,
# Debian 12's superserver for telnetd) and then by socat (tests/lab/servers.sh,
# LAB_TELNETD_LAUNCHER): the same /usr/sbin/telnetd on the accepted socket either way. Each
# phase starts after 1.5 s of quiet (inetutils-inetd is deaf for one second after a telnetd
# exits, so the previous phase's last session must not leak into the next). Prints a Markdown
# fragment for bench/RESULTS.md: median and every run's whole-process wall time, and the telnet
# verdict of each phase's last exposure run.
# Usage (root): bench/bench_b2b.sh [PATH-TO-exposure]   (default build-b2b-rel/src/cli/exposure)
#   e.g. nohup timeout 900 bench/bench_b2b.sh >/tmp/b2b.md 2>/tmp/b2b.err &
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpb11}
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
for t in nmap jq socat; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
EXE=$(realpath "${1:-$root/build-b2b-rel/src/cli/exposure}")
[ -x "$EXE" ] || { echo "bench: no exposure binary at $EXE" >&2; exit 2; }
REPS=${REPS:-10}
GAP=${GAP:-0.5}
NMAP_REPS=${NMAP_REPS:-2}
PORTS=22,23,139,445,3389,5900,52300-52315
SCRIPTS=smb-protocols,smb2-security-mode,smb-vuln-ms17-010,rdp-enum-encryption,vnc-info
SCRIPTS+=,ssh2-enum-algos
NMAP_ARGS=(-sT -Pn -n -sV --script "$SCRIPTS" --script-args vulns.showall -p "$PORTS")
ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-bench11.XXXXXX")
trap 'lab_down; rm -rf -- "$work"' EXIT

lab_up srv >/dev/null || { echo "bench: lab failed" >&2; exit 1; }
up() { "$@" >/dev/null || { echo "bench: could not start: $*" >&2; exit 1; }; }
up lab_sshd srv 22
up lab_smbd srv smb1=on
up lab_xrdp srv 3389 tls
up lab_vncd srv 5900 none
A=$(lab_addr4 srv)

wall_ms()
{
	local out=$1 t0 t1
	shift
	t0=$(date +%s%N)
	lab_scan "$@" >"$out" 2>"$out.err"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000))
}

median()
{
	sort -n | awk '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2]
		      else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

check() { wall_ms "$work/exposure.json" "$EXE" check --json "${ALLOW[@]}" "$A"; }

telnet_verdict()
{
	jq -r '.checks[] | select(.check == "telnet") | "\(.state) \(.service // "-") "
		+ ([.findings[].id] | join(" ")) + " prompt=\(.details.prompt // "-")"' \
		"$work/exposure.json"
}

# One launcher: spaced runs, back-to-back runs, nmap runs; a table row each.
phase()
{
	local launcher=$1
	lab_kill "telnetd-srv-23"
	LAB_TELNETD_LAUNCHER=$launcher up lab_telnetd srv 23
	: >"$work/spaced" && : >"$work/b2b" && : >"$work/nmap"
	sleep 1.5
	for _ in $(seq 1 "$REPS"); do
		check >>"$work/spaced"
		sleep "$GAP"
	done
	sleep 1.5
	for _ in $(seq 1 "$REPS"); do
		check >>"$work/b2b"
	done
	telnet_verdict >"$work/verdict-$launcher"
	for _ in $(seq 1 "$NMAP_REPS"); do
		sleep 1.5
		wall_ms "$work/nmap.txt" nmap "${NMAP_ARGS[@]}" "$A" >>"$work/nmap"
	done
	echo "bench: $launcher: spaced $(tr '\n' ' ' <"$work/spaced")|" \
		"b2b $(tr '\n' ' ' <"$work/b2b")| nmap $(tr '\n' ' ' <"$work/nmap")" >&2
	local l="telnetd by inetutils-inetd"
	[ "$launcher" = socat ] && l="telnetd by socat"
	echo "| $l | exposure check, spaced by $GAP s | **$(median <"$work/spaced") ms** |" \
		"$(tr '\n' ' ' <"$work/spaced")|"
	echo "| $l | exposure check, back to back | **$(median <"$work/b2b") ms** |" \
		"$(tr '\n' ' ' <"$work/b2b")|"
	echo "| $l | nmap -sT -sV + 6 scripts | **$(median <"$work/nmap") ms** |" \
		"$(tr '\n' ' ' <"$work/nmap")|"
}

echo "### Back-to-back diagnoses of the all-services host ($(date -u +%Y-%m-%d), $REPS" \
	"exposure runs spaced and $REPS back to back, $NMAP_REPS nmap runs, per telnetd launcher)"
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(nmap --version | head -1 | sed 's/ ( .*//')," \
	"exposure $(git -C "$root" log -1 --format=%h 2>/dev/null) (release build), host $A" \
	"(\`tests/lab/lab.sh\` host srv, prefix $LAB_PREFIX), inetutils-telnetd" \
	"$(dpkg-query -W -f '${Version}' inetutils-telnetd), inetutils-inetd" \
	"$(dpkg-query -W -f '${Version}' inetutils-inetd), socat $(dpkg-query -W -f '${Version}' socat)."
echo
echo "| telnet port 23 | run | median wall time | runs (ms) |"
echo "| --- | --- | --- | --- |"
phase inetd
phase socat
echo
echo "Commands (whole-process wall time measured around \`ip netns exec\`):"
echo
echo '```'
echo "ip netns exec $LAB_PREFIX-scan ${EXE#"$root"/} check --json ${ALLOW[*]} $A"
echo "ip netns exec $LAB_PREFIX-scan nmap ${NMAP_ARGS[*]} $A"
echo '```'
echo
echo "Telnet verdict of the last exposure run: inetutils-inetd: $(cat "$work/verdict-inetd");" \
	"socat: $(cat "$work/verdict-socat")."
