#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# A slow, lossy path must never turn an open port into "filtered" (a false "safe"). The lab's
# "lossy" host is the "mixed" host's twin behind 300 ms delay and 10% loss of its answers
# (tests/lab/netem.py, the userspace stand-in for tc netem). Three runs, IPv4 and IPv6, two
# mappings each: every open port must be open/syn-ack, no closed or filtered port may be
# reported open, the dropped port must be filtered. Elapsed times are printed. The four scans of
# a run go at once, from a neighbour cache flushed before them, so the loss hits the ARP /
# neighbour-discovery replies too (a lost first reply holds the SYNs for a second:
# docs/internals/ENGINE.md).
# Usage: test_lossy.sh PATH-TO-exposure   (root; exit 77 otherwise)
set -u
. "$(dirname "$0")/common.sh"
t_setup "${1:-}"
trap lab_down EXIT
lab_up lossy || { echo "lab did not come up"; exit 1; }
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-lossy.XXXXXX")
trap 'lab_down; rm -rf -- "$work"' EXIT
RUNS=${LOSSY_RUNS:-3}
checks=(ssh telnet netbios smb rdp vnc skysea)
read -r -a open7 <<<"$LAB_PORTS_OPEN7"
times=()

# t_lossy_open TJ LABEL CHECK PORT: must be open.
t_open()
{
	local e
	e=$(t_entry "$1" "$3" "$4")
	if [ "$(jq -r '"\(.state)/\(.reason)"' <<<"$e")" = open/syn-ack ]; then
		t_ok "$2: $3:$4 open/syn-ack (rtt $(jq -r .rtt_ms <<<"$e") ms)"
	else
		t_fail "$2: $3:$4 is open but reported ${e:-nothing}"
	fi
}

# t_not_open TJ LABEL CHECK PORT EXPECTED: must not be open; EXPECTED state/reason noted.
t_not_open()
{
	local e got
	e=$(t_entry "$1" "$3" "$4")
	got=$(jq -r '"\(.state)/\(.reason)"' <<<"$e")
	case $got in
	open/*) t_fail "$2: $3:$4 reported open, expected $5" ;;
	"$5") t_ok "$2: $3:$4 $got" ;;
	filtered/* | closed/*) t_ok "$2: $3:$4 $got (lossy path; $5 without loss)" ;;
	*) t_fail "$2: $3:$4 no verdict ($e)" ;;
	esac
}

# t_check in the background: OUT gets the document, OUT.rc "T_RC T_WALL_MS".
t_check_bg()
{
	local out=$1
	t_check "$@"
	echo "$T_RC $T_WALL_MS" >"$out.rc"
}

mixed_args=(--port ssh=$LAB_PORT_OPEN --port telnet=$LAB_PORT_CLOSED
	--port netbios=$LAB_PORT_DROP --port smb=$LAB_PORT_ADMIN
	--port rdp=$LAB_PORT_PORTUNREACH --port vnc=$LAB_PORT_RESET --port skysea=$LAB_PORT_OPEN2)
open_args=()
for i in "${!checks[@]}"; do
	open_args+=(--port "${checks[$i]}=${open7[$i]}")
done

for run in $(seq 1 "$RUNS"); do
	# The four scans of a run at once (two addresses, two mappings), each from a cold neighbour
	# cache: on a slow path most of a scan is waiting (issue 15 made silent services wait longer).
	lab_scan ip neigh flush all
	pids=()
	for addr in "$(lab_addr4 lossy)" "$(lab_addr6 lossy)"; do
		t_check_bg "$work/o-$addr.json" "${open_args[@]}" "$addr" &
		pids+=($!)
		t_check_bg "$work/m-$addr.json" "${mixed_args[@]}" "$addr" &
		pids+=($!)
	done
	wait "${pids[@]}"
	for addr in "$(lab_addr4 lossy)" "$(lab_addr6 lossy)"; do
		# All seven checks on open ports.
		label="run $run $addr all-open"
		cp "$work/o-$addr.json" "$work/o.json"
		cp "$work/o-$addr.json.err" "$work/o.json.err"
		read -r T_RC T_WALL_MS <"$work/o-$addr.json.rc"
		el=$(jq -r 'if type == "array" then .[0].elapsed_ms else .elapsed_ms end' "$work/o.json" 2>/dev/null)
		echo "# $label: exit $T_RC, elapsed_ms $el, wall $T_WALL_MS ms"
		times+=("$label: elapsed_ms=$el wall_ms=$T_WALL_MS")
		if t_expect_run "$work/o.json" "$label" 1; then
			tj=$(t_target_json "$work/o.json" "$addr")
			for i in "${!checks[@]}"; do
				t_open "$tj" "$label" "${checks[$i]}" "${open7[$i]}"
			done
		fi

		# The mixed mapping.
		label="run $run $addr mixed"
		cp "$work/m-$addr.json" "$work/m.json"
		cp "$work/m-$addr.json.err" "$work/m.json.err"
		read -r T_RC T_WALL_MS <"$work/m-$addr.json.rc"
		el=$(jq -r 'if type == "array" then .[0].elapsed_ms else .elapsed_ms end' "$work/m.json" 2>/dev/null)
		echo "# $label: exit $T_RC, elapsed_ms $el, wall $T_WALL_MS ms"
		times+=("$label: elapsed_ms=$el wall_ms=$T_WALL_MS")
		if t_expect_run "$work/m.json" "$label" 1; then
			tj=$(t_target_json "$work/m.json" "$addr")
			t_open "$tj" "$label" ssh $LAB_PORT_OPEN
			t_open "$tj" "$label" skysea $LAB_PORT_OPEN2
			t_not_open "$tj" "$label" telnet $LAB_PORT_CLOSED closed/reset
			t_not_open "$tj" "$label" smb $LAB_PORT_ADMIN filtered/unreachable
			t_not_open "$tj" "$label" rdp $LAB_PORT_PORTUNREACH filtered/unreachable
			t_not_open "$tj" "$label" vnc $LAB_PORT_RESET closed/reset
			e=$(t_entry "$tj" netbios $LAB_PORT_DROP)
			[ "$(jq -r '"\(.state)/\(.reason)"' <<<"$e")" = filtered/timeout ] &&
				t_ok "$label: netbios:$LAB_PORT_DROP filtered/timeout" ||
				t_fail "$label: netbios:$LAB_PORT_DROP expected filtered/timeout ($e)"
		fi
	done
done

echo "# elapsed times (300 ms delay, 10% loss of the target's packets):"
printf '#   %s\n' "${times[@]}"
t_finish
