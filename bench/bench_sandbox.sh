#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Benchmark of issue 11 (by hand, root, never a test): the cost of the split for one diagnosis.
# The full `exposure check` of the all-services host (the real servers of
# bench/bench_services.sh: sshd 22, telnetd 23 started by socat so that no run waits for
# inetutils-inetd's deaf second (bench_b2b.sh), smbd 445+139 with SMB1 on, xrdp 3389 tls,
# Xtigervnc 5900 without a password; 52300-52315 closed) from the scanner namespace, REPS
# rounds (default 15), each round one run through the sandboxed prober (the default) and one
# with --no-sandbox (in process, as before the split), the order alternating between rounds,
# every run GAP seconds (default 0.5) after the one before. Prints a Markdown fragment for
# bench/RESULTS.md: medians of the whole-process wall time and of the document's elapsed_ms,
# each run's figures, the ratio, and whether both gave the same verdicts (state and findings of
# every check) in every run.
# Usage (root): bench/bench_sandbox.sh [PATH-TO-exposure]   (default build-rel/src/cli/exposure)
#   e.g. nohup timeout 900 bench/bench_sandbox.sh >/tmp/sandbox.md 2>/tmp/sandbox.err &
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
export LAB_PREFIX=${LAB_PREFIX:-xpb11s}
# shellcheck source=tests/lab/lab.sh
. "$root/tests/lab/lab.sh"
[ "$(id -u)" = 0 ] || { echo "bench: needs root" >&2; exit 2; }
for t in jq socat; do
	command -v "$t" >/dev/null || { echo "bench: $t missing" >&2; exit 2; }
done
EXE=$(realpath "${1:-$root/build-rel/src/cli/exposure}")
[ -x "$EXE" ] || { echo "bench: no exposure binary at $EXE" >&2; exit 2; }
REPS=${REPS:-15}
GAP=${GAP:-0.5}
ALLOW=(--allow 198.18.0.0/15 --allow 2001:db8::/32)
work=$(mktemp -d "${TMPDIR:-/tmp}/xp-bench11s.XXXXXX")
trap 'lab_down; rm -rf -- "$work"' EXIT

lab_up srv >/dev/null || { echo "bench: lab failed" >&2; exit 1; }
up() { "$@" >/dev/null || { echo "bench: could not start: $*" >&2; exit 1; }; }
up lab_sshd srv 22
LAB_TELNETD_LAUNCHER=socat up lab_telnetd srv 23
up lab_smbd srv smb1=on
up lab_xrdp srv 3389 tls
up lab_vncd srv 5900 none
A=$(lab_addr4 srv)

median()
{
	sort -n | awk '{ a[NR] = $1 }
		END { if (NR % 2) print a[(NR + 1) / 2]
		      else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

verdicts() { jq -c '[.checks[] | [.check, .state, ([.findings[].id] | sort)]]' "$1"; }

# One run of mode (sandbox or nosandbox): wall ms and elapsed_ms appended to its files.
run()
{
	local mode=$1 t0 t1 extra=()
	[ "$mode" = nosandbox ] && extra=(--no-sandbox)
	t0=$(date +%s%N)
	lab_scan "$EXE" check --json "${ALLOW[@]}" "${extra[@]}" "$A" >"$work/$mode.json" \
		2>"$work/$mode.err"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000000)) >>"$work/$mode.wall"
	jq -r '.elapsed_ms' "$work/$mode.json" >>"$work/$mode.elapsed"
	verdicts "$work/$mode.json" >>"$work/$mode.verdicts"
	sleep "$GAP"
}

: >"$work/sandbox.wall" && : >"$work/nosandbox.wall"
: >"$work/sandbox.elapsed" && : >"$work/nosandbox.elapsed"
: >"$work/sandbox.verdicts" && : >"$work/nosandbox.verdicts"
sleep 1.5
for i in $(seq 1 "$REPS"); do
	if [ $((i % 2)) = 1 ]; then
		run sandbox
		run nosandbox
	else
		run nosandbox
		run sandbox
	fi
done
same=no
[ "$(sort -u "$work/sandbox.verdicts" "$work/nosandbox.verdicts" | wc -l)" = 1 ] && same=yes
ws=$(median <"$work/sandbox.wall")
wn=$(median <"$work/nosandbox.wall")
es=$(median <"$work/sandbox.elapsed")
en=$(median <"$work/nosandbox.elapsed")
echo "### One diagnosis through the sandboxed prober vs --no-sandbox ($(date -u +%Y-%m-%d)," \
	"$REPS rounds, alternating, runs spaced by $GAP s)"
echo
echo "Machine: $(nproc) CPUs, kernel $(uname -r), load at the end: $(cut -d' ' -f1-3 \
	/proc/loadavg), exposure $(git -C "$root" log -1 --format=%h 2>/dev/null) (release build)," \
	"host $A (\`tests/lab/lab.sh\` host srv, prefix $LAB_PREFIX), telnetd by socat."
echo
echo "| run | median wall time | median elapsed_ms | runs: wall (ms) |"
echo "| --- | --- | --- | --- |"
echo "| exposure check (sandboxed prober) | **$ws ms** | $es | $(tr '\n' ' ' <"$work/sandbox.wall")|"
echo "| exposure check --no-sandbox | **$wn ms** | $en | $(tr '\n' ' ' <"$work/nosandbox.wall")|"
echo
echo "Ratio (sandboxed / in process): wall $(awk -v a="$ws" -v b="$wn" 'BEGIN { printf "%.3f", a / b }')," \
	"elapsed_ms $(awk -v a="$es" -v b="$en" 'BEGIN { printf "%.3f", a / b }'). Same verdicts" \
	"(state and findings of every check) in every run of both: $same."
echo
echo "elapsed_ms of each run: sandboxed $(tr '\n' ' ' <"$work/sandbox.elapsed")/ in process" \
	"$(tr '\n' ' ' <"$work/nosandbox.elapsed")"
