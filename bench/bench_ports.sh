#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 2 (by hand, never a test): `exposure check` against nmap -sT and nmap -sS
# on the lab's all-open, all-closed and all-filtered hosts (the real default ports of the
# catalogue: 22,23,139,445,3389,5900,52300-52315), from the scanner namespace. REPS repetitions
# each (default 10), interleaved, whole-process wall time; medians and ratios. Then the verdicts
# per port compared with nmap -sS (and -sT) on those hosts and on the "mixed" host (one port per
# kind: open, closed, drop, ICMP admin-prohibited, host-unreachable, port-unreachable, tcp reset),
# IPv4 and IPv6.
# Usage (root): bench/bench_ports.sh [PATH-TO-exposure]   (default build-lab/src/cli/exposure)
# Prints a Markdown section for bench/RESULTS.md on stdout.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpb$$}
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
EXE=$(realpath "${1:-$root/build-lab/src/cli/exposure}")
REPS=${REPS:-10}
# nmap -sT and -sS report port states only; so does `exposure check --ports-only`. Run with
# EXPOSURE_FLAGS= (empty) to time the full check with its protocol probes instead.
EXPOSURE_FLAGS=${EXPOSURE_FLAGS---ports-only}
PORTS=22,23,139,445,3389,5900,52300-52315
ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-bench.XXXXXX")
trap 'lab_down; rm -rf -- "$work"' EXIT
lab_up mixed allopen allclosed allfiltered >/dev/null || { echo "lab failed" >&2; exit 1; }

# Wall time of one command in the scanner namespace, in ms (output kept in $work/last).
wall_ms()
{
	local t0 t1
	t0=$(date +%s%N)
	lab_scan "$@" >"$work/last" 2>"$work/last.err"
	t1=$(date +%s%N)
	echo $(( (t1 - t0) / 1000000 ))
}

median()
{
	sort -n | awk '{ a[NR] = $1 } END { if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

declare -A T
tools=(exposure nmap-sT nmap-sS)
cmd_of()
{
	case $1 in
	exposure) echo "$EXE check --json $EXPOSURE_FLAGS ${ALLOW[*]} $2" ;;
	nmap-sT) echo "nmap -sT -Pn -n -p $PORTS $2" ;;
	nmap-sS) echo "nmap -sS -Pn -n -p $PORTS $2" ;;
	esac
}

echo "## Issue 2: port states, exposure check vs nmap ($(date -u +%Y-%m-%d), $REPS repetitions)"
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r), $(nmap --version | head -1 | sed 's/ ( .*//')," \
	"exposure $(git -C "$root" log -1 --format=%h 2>/dev/null)."
echo "From the scanner namespace (\`ip netns exec $LAB_PREFIX-scan ...\`) of tests/lab/lab.sh;"
echo "ports $PORTS (the default catalogue; exposure runs without --port)."
echo
for host in allopen allclosed allfiltered; do
	addr=$(lab_addr4 "$host")
	for tool in "${tools[@]}"; do
		: >"$work/t-$host-$tool"
	done
	for rep in $(seq 1 "$REPS"); do
		for tool in "${tools[@]}"; do
			# shellcheck disable=SC2046
			wall_ms $(cmd_of "$tool" "$addr") >>"$work/t-$host-$tool"
		done
	done
	for tool in "${tools[@]}"; do
		T[$host,$tool]=$(median <"$work/t-$host-$tool")
	done
done

echo "| host | exposure check | nmap -sT | nmap -sS | exposure / nmap -sT | exposure / nmap -sS |"
echo "| --- | --- | --- | --- | --- | --- |"
for host in allopen allclosed allfiltered; do
	e=${T[$host,exposure]} st=${T[$host,nmap-sT]} ss=${T[$host,nmap-sS]}
	printf '| %s (%s) | %s ms | %s ms | %s ms | %s | %s |\n' "$host" "$(lab_addr4 "$host")" \
		"$e" "$st" "$ss" "$(awk -v a="$e" -v b="$st" 'BEGIN { printf "%.2f", a / b }')" \
		"$(awk -v a="$e" -v b="$ss" 'BEGIN { printf "%.2f", a / b }')"
done
echo
echo "Median whole-process wall time of $REPS runs each (runs interleaved). All runs per tool:"
echo
echo '```'
for host in allopen allclosed allfiltered; do
	for tool in "${tools[@]}"; do
		printf '%-12s %-9s %s\n' "$host" "$tool" "$(tr '\n' ' ' <"$work/t-$host-$tool")"
	done
done
echo '```'
echo
echo "Commands (ADDR = 198.18.3.2 all-open, 198.18.4.2 all-closed, 198.18.5.2 all-filtered):"
echo
echo '```'
echo "ip netns exec $LAB_PREFIX-scan $(cmd_of exposure ADDR | sed "s|$root/||")"
echo "ip netns exec $LAB_PREFIX-scan $(cmd_of nmap-sT ADDR)"
echo "ip netns exec $LAB_PREFIX-scan $(cmd_of nmap-sS ADDR)"
echo '```'
echo

# Verdicts: port -> state/reason per tool.
# exposure: from JSON; nmap: from -oX (state and reason attributes).
exp_verdicts()
{
	jq -r 'if type == "array" then .[0] else . end | .checks[]
		| if (.details | type) == "object" and (.details.ports | type) == "array"
		  then .details.ports[] else . end | "\(.port) \(.state) \(.reason)"' \
		"$1" 2>/dev/null | sort -n
}
nmap_verdicts()
{
	/usr/bin/python3 - "$1" <<-'PY'
	import sys, xml.etree.ElementTree as ET
	for p in ET.parse(sys.argv[1]).getroot().iter("port"):
	    st = p.find("state")
	    print(p.get("portid"), st.get("state"), st.get("reason"))
	PY
}

declare -a mixed_args=(--port ssh=$LAB_PORT_OPEN --port telnet=$LAB_PORT_CLOSED
	--port netbios=$LAB_PORT_DROP --port smb=$LAB_PORT_ADMIN --port rdp=$LAB_PORT_HOSTUNREACH
	--port vnc=$LAB_PORT_PORTUNREACH --port skysea=$LAB_PORT_RESET)
MIXED_PORTS=$LAB_PORT_OPEN-$LAB_PORT_RESET

echo "### Verdicts per port (state/reason), compared with nmap -sS"
echo
echo "mixed host: exposure with \`${mixed_args[*]}\`, nmap with \`-p $MIXED_PORTS\`."
echo
agree=0 differ=0 stdiff=()
for host in mixed allopen allclosed allfiltered; do
	for fam in 4 6; do
		if [ $fam = 4 ]; then addr=$(lab_addr4 $host); f=; else addr=$(lab_addr6 $host); f=-6; fi
		if [ $host = mixed ]; then
			lab_scan "$EXE" check --json "${ALLOW[@]}" "${mixed_args[@]}" "$addr" >"$work/e.json" 2>/dev/null
			p=$MIXED_PORTS
		else
			lab_scan "$EXE" check --json "${ALLOW[@]}" "$addr" >"$work/e.json" 2>/dev/null
			p=$PORTS
		fi
		lab_scan nmap $f -sS -Pn -n -p "$p" -oX "$work/ss.xml" "$addr" >/dev/null 2>&1
		lab_scan nmap $f -sT -Pn -n -p "$p" -oX "$work/st.xml" "$addr" >/dev/null 2>&1
		exp_verdicts "$work/e.json" >"$work/ev"
		nmap_verdicts "$work/ss.xml" >"$work/sv"
		nmap_verdicts "$work/st.xml" >"$work/tv"
		echo "**$host $addr**"
		echo
		echo "| port | exposure | nmap -sS | nmap -sT | same state as -sS |"
		echo "| --- | --- | --- | --- | --- |"
		while read -r port sstate sreason; do
			ev=$(awk -v p="$port" '$1 == p { print $2 "/" $3 }' "$work/ev")
			tv=$(awk -v p="$port" '$1 == p { print $2 "/" $3 }' "$work/tv")
			if [ "${ev%%/*}" = "$sstate" ]; then same=yes; agree=$((agree + 1)); else same=NO; differ=$((differ + 1)); fi
			[ "${tv%%/*}" != "$sstate" ] && stdiff+=("$host $addr port $port: -sS $sstate/$sreason, -sT $tv")
			echo "| $port | ${ev:-missing} | $sstate/$sreason | $tv | $same |"
		done <"$work/sv"
		echo
	done
done
echo "Same state as nmap -sS on $agree ports, different on $differ."
echo
echo "Where nmap -sT differs from -sS:"
echo
if [ ${#stdiff[@]} = 0 ]; then
	echo "- nowhere"
else
	printf -- '- %s\n' "${stdiff[@]}"
fi
