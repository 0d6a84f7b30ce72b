#!/usr/bin/env bash
# Set up a fresh Debian 12 machine for exposure: install what is missing, then build.
# Usage: scripts/setup.sh [release|test]   (release: build/, test: build-test/ with ASan+UBSan)
set -euo pipefail
cd "$(dirname "$0")/.."

build_packages=(meson ninja-build pkg-config gcc libuv1-dev libjansson-dev libsodium-dev
	libsqlite3-dev libpq-dev libmicrohttpd-dev libcmocka-dev libseccomp-dev libssl-dev python3)
test_packages=(iproute2 nftables socat jq nmap openssh-server inetutils-telnetd inetutils-inetd
	samba smbclient tigervnc-standalone-server tigervnc-tools xrdp python3-impacket openssl
	chromium fonts-noto-cjk clang libclang-rt-14-dev clang-format dpkg-dev debhelper nginx
	rsync tgt rpcbind nfs-kernel-server
	redis-server mariadb-server
	memcached miniupnpd
	postgresql-15)

missing_packages() {
	local p
	for p in "$@"; do
		dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || echo "$p"
	done
}

install_missing() {
	local missing
	missing=$(missing_packages "$@")
	[ -z "$missing" ] && return 0
	if [ "$(id -u)" != 0 ]; then
		echo "setup: missing packages (run as root to install): $missing" >&2
		return 1
	fi
	echo "setup: installing $missing" >&2
	# Services in these packages must not start on their own: the tests start their own copies.
	# policy-rc.d refuses every start during the install (rsync's daemon, tgt's tgtd, rpcbind,
	# nfs-kernel-server's mountd and nfsd among them), so none is left running: the storage
	# tests start their own rsync --daemon, tgtd, rpcbind and rpc.mountd in their namespaces.
	local made_policy=0
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d
		made_policy=1
	fi
	apt-get update -qq
	# shellcheck disable=SC2086
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
	local rc=$?
	[ "$made_policy" = 1 ] && rm -f /usr/sbin/policy-rc.d
	return $rc
}

# Node.js (for the browser test) may come from Debian or from another repository whose nodejs
# bundles npm: install Debian's only when neither command exists.
install_node() {
	command -v node >/dev/null && command -v npm >/dev/null && return 0
	install_missing nodejs npm
}

# The browser test's pinned playwright-core (tests/browser/package-lock.json): the tests install
# nothing themselves.
install_browser_modules() {
	[ -d tests/browser/node_modules/playwright-core ] && return 0
	(cd tests/browser && npm ci --no-audit --no-fund >/dev/null) ||
		echo "setup: npm ci in tests/browser failed: the browser tests cannot run" >&2
}

# postgresql-15 (for the PostgreSQL store tests, tests/lab/pg.sh) creates a system cluster
# 15/main. The tests start their own throw-away cluster as nobody on a port of their own, so the
# system one must not run: policy-rc.d kept it from starting at install; stop it anyway (it may
# have been started by hand) and make it manual, so no boot starts it either.
quiet_system_postgres() {
	[ "$(id -u)" = 0 ] || return 0
	command -v pg_lsclusters >/dev/null || return 0
	local ver name
	pg_lsclusters -h 2>/dev/null | while read -r ver name _; do
		pg_ctlcluster "$ver" "$name" stop >/dev/null 2>&1 || true
		[ -f "/etc/postgresql/$ver/$name/start.conf" ] &&
			echo manual > "/etc/postgresql/$ver/$name/start.conf"
	done
	systemctl disable --now postgresql >/dev/null 2>&1 || true
}

# redis-server and mariadb-server (for the database checks, tests/integration/test_databases.sh)
# enable their system services at install. The tests start their own redis-server and mariadbd
# as root in a lab namespace with a temporary directory, so the system ones must not run and
# must not hold 6379/3306: policy-rc.d kept them from starting at install; stop them anyway
# (they may have been started by hand) and disable them, so no boot starts them either.
quiet_system_databases() {
	[ "$(id -u)" = 0 ] || return 0
	local s
	for s in redis-server mariadb; do
		[ -e "/etc/init.d/$s" ] || [ -e "/lib/systemd/system/$s.service" ] || continue
		systemctl disable --now "$s" >/dev/null 2>&1 || true
		service "$s" stop >/dev/null 2>&1 || true
		update-rc.d "$s" disable >/dev/null 2>&1 || true
	done
}

# memcached and miniupnpd (for the UDP checks, tests/integration/test_udp_checks.sh): Debian
# enables memcached's system service at install (miniupnpd's stays off until configured). The
# test starts its own memcached and miniupnpd in a lab namespace, so the system ones must not run
# (a system memcached would hold 11211 and, with UDP on, be an amplifier on this machine):
# policy-rc.d kept them from starting at install; stop and disable them anyway.
quiet_system_udp() {
	[ "$(id -u)" = 0 ] || return 0
	local s
	for s in memcached miniupnpd; do
		[ -e "/etc/init.d/$s" ] || [ -e "/lib/systemd/system/$s.service" ] || continue
		systemctl disable --now "$s" >/dev/null 2>&1 || true
		service "$s" stop >/dev/null 2>&1 || true
		update-rc.d "$s" disable >/dev/null 2>&1 || true
	done
}

mode=${1:-release}
install_missing "${build_packages[@]}"
if [ "$mode" = test ]; then
	install_missing "${test_packages[@]}"
	# stdout is the build directory the caller reads: everything else goes to stderr.
	quiet_system_postgres >&2
	quiet_system_databases >&2
	quiet_system_udp >&2
	install_node
	install_browser_modules
	dir=build-test
	# test_hooks: the probers' crash/escape/hog markers (tests/attack/test_probers.py); never
	# in a release build (the release branch below leaves it off).
	opts=(-Db_sanitize=address,undefined -Db_lundef=false -Dwerror=true -Dtests=enabled
		-Dtest_hooks=true)
else
	dir=build
	opts=(-Dbuildtype=release -Dtests=disabled)
fi
if [ ! -f "$dir/build.ninja" ]; then
	meson setup "$dir" "${opts[@]}" >/dev/null
elif [ "$mode" = test ]; then
	meson configure "$dir" -Dtest_hooks=true >/dev/null # a build-test/ made before the option
fi
ninja -C "$dir" >/dev/null
echo "$dir"
