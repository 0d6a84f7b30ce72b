#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Bad input to `exposure`: exit 2, exactly one line on stderr, nothing on stdout, quickly.
# Usage: test_bad_input.sh path/to/exposure
set -u
exe=${1:?usage: $0 path/to/exposure}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# expect_usage_error "what stderr must contain" args...
expect_error() {
	local want=$1
	shift
	local start end rc lines
	start=$(date +%s%N)
	timeout 10 "$exe" "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	end=$(date +%s%N)
	lines=$(wc -l <"$tmp/err")
	local ms=$(((end - start) / 1000000))
	if [ "$rc" -ne 2 ] || [ -s "$tmp/out" ] || [ "$lines" -ne 1 ] ||
		! grep -qF -- "$want" "$tmp/err" || [ "$ms" -gt 3000 ]; then
		echo "not ok - exposure $*: rc=$rc (want 2), stdout $(wc -c <"$tmp/out") bytes (want 0)," \
			"stderr $lines lines (want 1) containing '$want', ${ms} ms (want < 3000)"
		sed 's/^/#   stderr: /' "$tmp/err"
		sed 's/^/#   stdout: /' "$tmp/out" | head -5
		failed=$((failed + 1))
	else
		echo "ok - exposure $* -> $(cat "$tmp/err")"
	fi
}

expect_error "no command" 
expect_error "unknown command 'scan'" scan 127.0.0.1
expect_error "no target" check
expect_error "no target" check --json
expect_error "unknown option '--frobnicate'" check --frobnicate 127.0.0.1
expect_error "unknown option '-z'" check -z 127.0.0.1
expect_error "needs a value" check 127.0.0.1 --port
# malformed addresses
expect_error "'999.1.1.1' is not a valid IPv4 or IPv6 address" check 999.1.1.1
expect_error "'1.2.3' is not a valid" check 1.2.3
expect_error "'127.0.0.01' is not a valid" check 127.0.0.01
expect_error "'::g' is not a valid" check ::g
expect_error "'[::1' is not a valid" check '[::1'
expect_error "neither an address" check 'bad name!'
# malformed CIDR
expect_error "'198.18.0.0/33': the prefix is too long" check 198.18.0.0/33
expect_error "has host bits set after /24: did you mean 198.18.0.0/24?" check 198.18.0.1/24
expect_error "'198.18.0.0/abc' is not a valid CIDR block" check 198.18.0.0/abc
expect_error "not a CIDR block" check --allow 198.18.0.1/24 127.0.0.1
# blocks too large
expect_error "block '10.0.0.0/8' is too large" check 10.0.0.0/8
expect_error "/16 for IPv4" check --allow 0.0.0.0/0 198.18.0.0/15
expect_error "/112 for IPv6" check 2001:db8::/64
# ports and other values out of range
expect_error "ports are whole numbers from 1 to 65535" check --port smb=70000 127.0.0.1
expect_error "ports are whole numbers from 1 to 65535" check --port smb=0 127.0.0.1
expect_error "unknown check 'nope'" check --port nope=1 127.0.0.1
expect_error "at most 16 ports" check --port skysea=1000-1016 127.0.0.1
expect_error "from 1 to 60000" check --timeout 60001 127.0.0.1
expect_error "--max-inflight" check --max-inflight 0 127.0.0.1
# the policy: refused before anything is sent, naming the rule
expect_error "198.18.0.1 refused: benchmarking address outside every --allow block" check 198.18.0.1
expect_error "2001:db8::1 refused" check 2001:db8::1
expect_error "198.18.0.1 refused" check 127.0.0.1 198.18.0.1 --json
expect_error "10.1.2.3 refused: private address" check --allow 198.18.0.0/15 10.1.2.3
expect_error "224.0.0.1 refused: multicast addresses are never probed" \
	check --allow 0.0.0.0/0 224.0.0.1
expect_error "255.255.255.255 refused: broadcast addresses are never probed" \
	check --allow 0.0.0.0/0 255.255.255.255
expect_error "ff02::1 refused: multicast" check --allow ::/0 ff02::1
expect_error "0.0.0.0 refused: unspecified" check --allow 0.0.0.0/0 0.0.0.0
expect_error ":: refused: unspecified" check --allow ::/0 '[::]'
expect_error "240.0.0.1 refused: reserved" check --allow 0.0.0.0/0 240.0.0.1
# names that do not resolve (RFC 6761 .invalid: answered without any query, so fast)
expect_error "name 'no-such-host.invalid' does not resolve" check no-such-host.invalid
expect_error "does not resolve" check --json 127.0.0.1 also-not.INVALID.
# config files: errors name the file and line
printf 'allow 198.18.0.0/24\n# comment\nport smb=99999\n' >"$tmp/bad.conf"
expect_error "$tmp/bad.conf:3: --port smb=99999" check --config "$tmp/bad.conf" 127.0.0.1
printf 'colour yes\n' >"$tmp/bad2.conf"
expect_error "$tmp/bad2.conf:1: unknown setting 'colour'" check --config "$tmp/bad2.conf" 127.0.0.1
expect_error "No such file" check --config "$tmp/missing.conf" 127.0.0.1
# a config's allow reaches the policy like --allow does (then refused for another rule)
printf 'allow 198.18.0.0/24\n' >"$tmp/ok.conf"
expect_error "198.18.1.1 refused" check --config "$tmp/ok.conf" 198.18.0.1 198.18.1.1
expect_error "--list takes no TARGET" check --list 127.0.0.1
expect_error "unknown check 'nope'" check --list --port nope=1

# --help and --version: exit 0, text on stdout, nothing on stderr
for args in "--help" "--version" "check --help" "check --list" "check --list --json"; do
	# shellcheck disable=SC2086
	"$exe" $args >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ] || [ ! -s "$tmp/out" ] || [ -s "$tmp/err" ]; then
		echo "not ok - exposure $args: rc=$rc"
		failed=$((failed + 1))
	else
		echo "ok - exposure $args"
	fi
done
grep -q -- "--max-inflight" <("$exe" check --help) || { echo "not ok - check --help lists options"; failed=$((failed + 1)); }

# check --list: a line per check of the JSON list, the same names, ports and labels, in order;
# --port shows; the usage texts name every check (exposure: its title; check: name and ports).
if python3 - "$exe" <<'PY'; then echo "ok - check --list, --list --json and the usage texts agree"; else echo "not ok - check --list"; failed=$((failed + 1)); fi
import json, subprocess, sys
exe = sys.argv[1]
run = lambda *a: subprocess.run([exe, *a], check=True, capture_output=True, text=True).stdout
checks = json.loads(run("check", "--list", "--json"))["checks"]
lines = run("check", "--list").splitlines()
assert len(checks) >= 7 and len(lines) == len(checks), (len(checks), lines)
for c, line in zip(checks, lines):
    assert line.split()[:2] == [c["check"], c["ports"]], (line, c)
    assert line.endswith("  " + c["label"]["en"]), (line, c)
    first, last = c["first_port"], c["last_port"]
    assert c["ports"] == (str(first) if first == last else "%d-%d" % (first, last)), c
    assert c["findings"] and all(isinstance(f, str) for f in c["findings"]), c
moved = json.loads(run("check", "--list", "--json", "--port", "smb=10445"))["checks"]
smb = next(c for c in moved if c["check"] == "smb")
assert (smb["ports"], smb["first_port"], smb["last_port"]) == ("10445", 10445, 10445), smb
assert [c for c in moved if c["check"] != "smb"] == [c for c in checks if c["check"] != "smb"]
sky = next(c for c in checks if c["check"] == "skysea")
assert (sky["first_port"], sky["last_port"], sky["findings"]) == (52300, 52315, ["skysea-port-exposed"])
# The default list is the profile 2017; --profile extended lists every check, a UDP check's
# ports with /udp in the text; the usage texts name every check of the catalogue (check's: the
# default set, then the rest).
every = json.loads(run("check", "--list", "--json", "--profile", "extended"))["checks"]
assert [c["check"] for c in checks] == [c["check"] for c in every if "2017" in c["profiles"]]
udp = lambda c: "/udp" if c["transport"] == "udp" else ""
for c, line in zip(every, run("check", "--list", "--profile", "extended").splitlines()):
    assert line.split()[:2] == [c["check"], c["ports"] + udp(c)], (line, c)
main_help = " ".join(run("--help").split())
check_help = " ".join(run("check", "--help").split())
assert "(%s)" % ", ".join(c["title"] for c in every) in main_help, main_help
door = lambda c: "%s %s%s" % (c["check"], c["ports"], udp(c))
# check --help: the default set in brackets, then what --profile extended adds.
assert "(%s); with --profile extended also %s." % (
    ", ".join(door(c) for c in checks),
    ", ".join(door(c) for c in every if "2017" not in c["profiles"])) in check_help, check_help
PY

echo "# $failed failed"
[ "$failed" -eq 0 ]
