# SPDX-License-Identifier: MIT
# shellcheck shell=bash
# Shared helpers of the integration tests: lab set-up, running `exposure check` in the scanner
# namespace, and exact assertions on its JSON (jq).

TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# A unique prefix per run, so a test never collides with another lab on the machine.
export LAB_PREFIX=${LAB_PREFIX:-xpt$$}
# shellcheck source=tests/lab/lab.sh
. "$TESTS_DIR/lab/lab.sh"

T_FAILS=0
T_OKS=0

t_ok() { T_OKS=$((T_OKS + 1)); printf 'ok   %s\n' "$*"; }
t_fail() { T_FAILS=$((T_FAILS + 1)); printf 'FAIL %s\n' "$*"; }

# Set up: root (else exit 77), the exposure binary; jq must be there (scripts/setup.sh test).
t_setup()
{
	lab_require_root
	EXPOSURE=${1:-}
	if [ -z "$EXPOSURE" ] || [ ! -x "$EXPOSURE" ]; then
		echo "usage: $0 PATH-TO-exposure" >&2
		exit 2
	fi
	EXPOSURE=$(realpath "$EXPOSURE")
	# The tests install nothing: scripts/setup.sh test brings jq (test_packages).
	command -v jq >/dev/null 2>&1 || { echo "jq missing: run scripts/setup.sh test" >&2; exit 1; }
}

# Run `exposure check --json` in the scanner namespace with the lab allowed.
# t_check OUTFILE ARGS...  Sets T_RC (exit status) and T_WALL_MS (whole-process wall time).
t_check()
{
	local out=$1 t0 t1
	shift
	t0=$(date +%s%N)
	lab_scan "$EXPOSURE" check --json --allow 198.18.0.0/15 --allow 2001:db8::/32 "$@" \
		>"$out" 2>"$out.err"
	T_RC=$?
	t1=$(date +%s%N)
	T_WALL_MS=$(( (t1 - t0) / 1000000 ))
}

# The result object of one target (a JSON array for several targets: the one for ADDR).
t_target_json()
{
	jq -c --arg a "$2" 'if type == "array" then (map(select(.address == $a)) | .[0]) else . end' "$1"
}

# The entry of CHECK on PORT in a target's JSON (compact), or empty.
t_entry()
{
	jq -c --arg c "$2" --argjson p "$3" '.checks[] | select(.check == $c and .port == $p)' <<<"$1"
}

# Assert one check exactly: t_expect TARGET_JSON LABEL CHECK PORT STATE REASON [ICMP_TYPE ICMP_CODE]
t_expect()
{
	local tj=$1 label=$2 check=$3 port=$4 state=$5 reason=$6 itype=${7:-} icode=${8:-} e got id
	e=$(t_entry "$tj" "$check" "$port")
	if [ -z "$e" ]; then
		t_fail "$label: no entry for $check port $port"
		return
	fi
	got=$(jq -r '"\(.state)/\(.reason)"' <<<"$e")
	if [ "$got" = "$state/$reason" ]; then
		t_ok "$label: $check:$port $got"
	else
		t_fail "$label: $check:$port expected $state/$reason, got $got ($e)"
	fi
	if [ -n "$itype" ]; then
		got=$(jq -r 'if .icmp == null then "none" else "\(.icmp.type)/\(.icmp.code)" end' <<<"$e")
		if [ "$got" = "$itype/$icode" ]; then
			t_ok "$label: $check:$port icmp $got"
		else
			t_fail "$label: $check:$port expected icmp $itype/$icode, got $got"
		fi
	else
		if jq -e 'has("icmp") and .icmp != null' <<<"$e" >/dev/null; then
			t_fail "$label: $check:$port has an icmp object but no ICMP error was sent ($e)"
		fi
	fi
	# An answered port has a round-trip time.
	case $reason in
	syn-ack | reset)
		if jq -e '(.rtt_ms | type) == "number" and .rtt_ms >= 0' <<<"$e" >/dev/null; then
			t_ok "$label: $check:$port rtt_ms $(jq -r .rtt_ms <<<"$e")"
		else
			t_fail "$label: $check:$port rtt_ms not a number >= 0 ($e)"
		fi
		;;
	esac
	# The finding <check>-exposed exactly when open (docs/json.md: no finding when not open).
	id=$(t_exposed_id "$check")
	if jq -e --arg id "$id" '[.findings[]?.id] | index($id) != null' <<<"$e" >/dev/null; then
		[ "$state" = open ] && t_ok "$label: $check:$port finding $id" ||
			t_fail "$label: $check:$port has $id but is not open"
	else
		[ "$state" = open ] && t_fail "$label: $check:$port open without finding $id ($e)"
	fi
	if [ "$state" != open ] && ! jq -e '.findings == []' <<<"$e" >/dev/null; then
		t_fail "$label: $check:$port not open but has findings ($e)"
	fi
}

# The finding id of an open port of a check (issue 3's contract).
t_exposed_id()
{
	case $1 in
	skysea) echo skysea-port-exposed ;;
	*) echo "$1-exposed" ;;
	esac
}

# Assert the top-level fields.
t_expect_top()
{
	local tj=$1 label=$2 addr=$3 risk_none=$4
	if jq -e --arg a "$addr" '.address == $a and (.target | type) == "string"
		and (.started | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+(Z|[+-][0-9:]+)$"))
		and (.elapsed_ms | type) == "number" and (.checks | type) == "array"
		and (.risk | IN("critical", "high", "medium", "low", "none"))' <<<"$tj" >/dev/null; then
		t_ok "$label: top-level fields (address $addr, risk $(jq -r .risk <<<"$tj"))"
	else
		t_fail "$label: top-level fields wrong: $(jq -c 'del(.checks)' <<<"$tj")"
	fi
	if [ "$risk_none" = yes ]; then
		[ "$(jq -r .risk <<<"$tj")" = none ] && t_ok "$label: risk none" ||
			t_fail "$label: risk should be none, is $(jq -r .risk <<<"$tj")"
	else
		[ "$(jq -r .risk <<<"$tj")" != none ] && t_ok "$label: risk not none" ||
			t_fail "$label: risk should not be none"
	fi
}

# Check the output is one JSON document, nothing else on stdout; report the exit status.
t_expect_run()
{
	local out=$1 label=$2 want_rc=$3
	if [ "$T_RC" = "$want_rc" ]; then
		t_ok "$label: exit status $T_RC"
	else
		t_fail "$label: exit status $T_RC, expected $want_rc; stderr: $(head -c 400 "$out.err")"
	fi
	if jq -e . "$out" >/dev/null 2>&1 && [ "$(jq -s length "$out")" = 1 ]; then
		t_ok "$label: stdout is one JSON document"
		return 0
	fi
	t_fail "$label: stdout is not one JSON document: $(head -c 300 "$out")"
	return 1
}

t_finish()
{
	echo "$T_OKS ok, $T_FAILS failed"
	[ "$T_FAILS" = 0 ]
}
