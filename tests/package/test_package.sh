#!/bin/sh
# SPDX-License-Identifier: MIT
# The Debian package (debian/, docs/deploy.md): build it with dpkg-buildpackage -us -uc -b from
# a copy of the tree (or take EXPOSURE_DEB=/path/exposure_*.deb), install it with apt-get, run
# the installed binary (--version, a loopback check), verify the installed unit and its
# hardening score, then purge the package: the machine is left as it was found.
# Root only (exit 77 otherwise); ~1 min, most of it dpkg-buildpackage. KEEP=1 keeps the work
# directory for a look. Usage: test_package.sh SOURCE_ROOT
set -eu
src=$1
fail() { echo "FAIL: $*" >&2; exit 1; }
skip() { echo "SKIP: $*" >&2; exit 77; }

[ "$(id -u)" = 0 ] || skip "installing a package needs root"
for c in dpkg-buildpackage dh apt-get systemd-analyze python3; do
	command -v "$c" >/dev/null || skip "$c missing (scripts/setup.sh test installs it)"
done
# Someone's own installation is not ours to replace or remove.
if dpkg-query -W -f='${Status}' exposure 2>/dev/null | grep -q 'installed'; then
	skip "an exposure package is already installed here"
fi
[ ! -e /etc/exposure ] || skip "/etc/exposure exists already"

work=$(mktemp -d /tmp/exposure-pkg.XXXXXX)
installed=0
cleanup() {
	[ -n "${KEEP:-}" ] && echo "kept $work" && return
	if [ "$installed" = 1 ]; then
		DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=120 \
		    exposure >/dev/null 2>&1 || echo "cleanup: purge failed" >&2
	fi
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

deb=${EXPOSURE_DEB:-}
if [ -z "$deb" ]; then
	# A copy of the tree as it is (build directories, .git and test artifacts left out):
	# dpkg-buildpackage writes into the parent directory, which is then $work.
	mkdir "$work/exposure-0.1.0"
	tar -C "$src" --exclude='./build*' --exclude=./.git --exclude=node_modules \
	    --exclude=./tests/artifacts --exclude=./obj-* -cf - . | tar -C "$work/exposure-0.1.0" -xf -
	start=$(date +%s)
	(cd "$work/exposure-0.1.0" && dpkg-buildpackage -us -uc -b >"$work/build.log" 2>&1) ||
	    { tail -40 "$work/build.log" >&2; fail "dpkg-buildpackage"; }
	echo "dpkg-buildpackage: $(($(date +%s) - start)) s"
	deb=$(ls "$work"/exposure_*.deb | head -1)
fi
[ -f "$deb" ] || fail "no package at '$deb'"
case $deb in /*) ;; *) deb=$PWD/$deb ;; esac
dpkg-deb -c "$deb" >"$work/contents"
for f in ./usr/bin/exposure ./usr/libexec/exposure/exposure-prober \
    "./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/exposure/exposure-store-pg.so" \
    "./usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/exposure/exposure-tls.so" \
    ./etc/exposure/exposure.conf ./lib/systemd/system/exposure.service \
    ./usr/share/doc/exposure/deploy.md ./usr/share/doc/exposure/nginx-exposure.conf; do
	grep -q " $f\$" "$work/contents" || fail "the package lacks $f"
done
dpkg-deb -I "$deb" conffiles | grep -qx /etc/exposure/exposure.conf ||
    fail "exposure.conf is not a conffile"
# ${shlibs:Depends}: the runtime libraries of what Build-Depends names.
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libuv1 libjansson4 libsodium23 libsqlite3-0 libmicrohttpd12; do
	echo "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done

installed=1
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    -o DPkg::Lock::Timeout=120 "$deb" >"$work/install.log" 2>&1 ||
    { cat "$work/install.log" >&2; fail "apt-get install"; }
dpkg-query -W -f='${Status}' exposure | grep -q 'install ok installed' || fail "not installed"

v=$(/usr/bin/exposure --version) || fail "exposure --version"
echo "$v" | grep -Eq '^exposure [0-9]+\.[0-9]+\.[0-9]+$' || fail "--version said '$v'"
# A loopback check with the installed binary: 0 (nothing risky) or 1 (something risky) are
# answers, 2 an error. The document names the target and every check. Its prober is the
# installed /usr/libexec/exposure/exposure-prober (none is next to /usr/bin/exposure).
rc=0
env -u EXPOSURE_PROBER /usr/bin/exposure check --json 127.0.0.1 >"$work/check.json" || rc=$?
[ "$rc" -le 1 ] || fail "exposure check 127.0.0.1 exited $rc"
python3 - "$work/check.json" <<'PY' || fail "the check's JSON"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["target"] == "127.0.0.1", d.get("target")
assert len(d["checks"]) >= 7, len(d["checks"])
PY
# A check that may speak TLS: its prober loads the OpenSSL module from its installed place
# before its filter, or says "exposure: TLS: ..." on stderr.
rc=0
env -u EXPOSURE_TLS /usr/bin/exposure check --checks nas-admin 127.0.0.1 >/dev/null \
    2>"$work/tls.err" || rc=$?
[ "$rc" -le 1 ] && ! grep -q 'TLS' "$work/tls.err" || fail "the TLS module: rc $rc $(cat "$work/tls.err")"
# The PostgreSQL module, loaded from its installed place at a postgresql: store: nothing
# listens on port 1, so libpq itself must say so (a module not found or not fitting says so).
/usr/bin/exposure report --store 'postgresql://127.0.0.1:1/none?connect_timeout=2' \
    >"$work/pg.out" 2>&1 && fail "report on a PostgreSQL store nobody serves succeeded"
grep -q 'cannot connect to PostgreSQL' "$work/pg.out" || fail "the PostgreSQL module: $(cat "$work/pg.out")"

unit=/lib/systemd/system/exposure.service
systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || { cat "$work/verify.log" >&2; fail "systemd-analyze verify"; }
! grep -q . "$work/verify.log" || { cat "$work/verify.log" >&2; fail "systemd-analyze verify warned"; }
score=$(systemd-analyze security --offline=true "$unit" 2>&1 | sed -n 's/.*exposure level for exposure.service: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
echo "systemd-analyze security: $score"
python3 -c 'import sys; s, w = sys.argv[1].split(); assert float(s) <= 2.0 and w == "OK", sys.argv[1]' "$score" ||
    fail "exposure score '$score' above 2.0"
# The unit's command line is one the installed binary accepts with the installed settings.
exec_start=$(sed -n 's/^ExecStart=//p' "$unit")
case $exec_start in
"/usr/bin/exposure serve --store /var/lib/exposure/exposure.db --key /var/lib/exposure/exposure.key --config /etc/exposure/exposure.conf") ;;
*) fail "unexpected ExecStart: $exec_start" ;;
esac
/usr/bin/exposure serve --config /etc/exposure/exposure.conf --max-inflight 0 2>"$work/serve.err" &&
    fail "serve accepted --max-inflight 0"
grep -q 'max-inflight wants a number' "$work/serve.err" || fail "serve: $(cat "$work/serve.err")"

DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq -o DPkg::Lock::Timeout=120 exposure \
    >"$work/purge.log" 2>&1 || { cat "$work/purge.log" >&2; fail "apt-get purge"; }
installed=0
! dpkg-query -W -f='${Status}' exposure 2>/dev/null | grep -q 'installed' || fail "still installed"
for f in /usr/bin/exposure /usr/libexec/exposure /etc/exposure $unit /usr/share/doc/exposure \
    "/usr/lib/$(dpkg-architecture -qDEB_HOST_MULTIARCH)/exposure"; do
	[ ! -e "$f" ] || fail "$f left after purge"
done
echo "ok: package built, installed, run, verified and removed"
