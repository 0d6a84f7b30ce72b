#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
#
# A throw-away PostgreSQL 15 (Debian's postgresql-15) for the tests: initdb into a temporary
# directory as an unprivileged user (nobody when run as root), listening on one loopback (or
# test-namespace) address and its own port, plus a Unix socket in that directory; stopped and
# removed at the end. Never touches the system cluster (/var/lib/postgresql) or /etc.
# See /work/brief/pg-harness.md and docs/internals/TESTING.md.
#
# Usage:
#   tests/lab/pg.sh run [--listen ADDR] [--port N] [--netns NS] [--fsync] -- CMD [ARGS...]
#       start a cluster, run CMD with the variables below exported, stop and remove the cluster,
#       exit with CMD's status (77 = skip if PostgreSQL is not installed).
#   tests/lab/pg.sh stop [fast|immediate]    (inside CMD: stop the cluster of $EXPOSURE_PG_DIR)
#   tests/lab/pg.sh start                    (inside CMD: start it again, same port)
# Or source it and call pg_up / pg_down / pg_stop / pg_start yourself (same variables).
#
# Exported for CMD: EXPOSURE_PG_URL (postgresql://exposure@ADDR:PORT/exposure), PGHOST, PGPORT,
# PGUSER=exposure, PGDATABASE=exposure (so psql and libpq with no arguments reach it),
# EXPOSURE_PG_DIR (the temporary directory: data/, sock/, log), EXPOSURE_PG_BIN.
# Authentication is "trust" for the user exposure (a superuser of this cluster only), on the
# listen address and the socket; the cluster lives only as long as the test.

pg_bin_dir()
{
	local d
	for d in /usr/lib/postgresql/15/bin $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		[ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ] && {
			echo "$d"
			return 0
		}
	done
	return 1
}

# Run as the cluster's owner: nobody when we are root, ourselves otherwise; inside the
# cluster's network namespace if it has one.
pg_as_owner()
{
	local pre=()
	[ -n "${EXPOSURE_PG_NETNS:-}" ] && pre=(ip netns exec "$EXPOSURE_PG_NETNS")
	if [ "$(id -u)" = 0 ]; then
		"${pre[@]}" setpriv --reuid=nobody --regid=nogroup --init-groups --reset-env -- \
			env PATH=/usr/bin:/bin LC_ALL=C "$@"
	else
		"${pre[@]}" env LC_ALL=C "$@"
	fi
}

pg_free_port()
{
	python3 -c 'import socket,sys
s=socket.socket(socket.AF_INET6 if ":" in sys.argv[1] else socket.AF_INET)
s.bind((sys.argv[1],0)); print(s.getsockname()[1])' "$1"
}

# pg_up [LISTEN [PORT [NETNS]]]: initdb and start; sets and exports the variables above.
pg_up()
{
	local listen=${1:-127.0.0.1} port=${2:-} netns=${3:-} dir bin host
	bin=$(pg_bin_dir) || {
		echo "pg.sh: PostgreSQL is not installed (scripts/setup.sh test installs it)" >&2
		return 77
	}
	EXPOSURE_PG_NETNS=$netns
	export EXPOSURE_PG_NETNS
	dir=$(mktemp -d /tmp/exposure-pg.XXXXXX) || return 1
	chmod 755 "$dir"
	mkdir -p "$dir/data" "$dir/sock"
	touch "$dir/log"
	[ "$(id -u)" = 0 ] && chown nobody:nogroup "$dir/data" "$dir/sock" "$dir/log"
	chmod 700 "$dir/data"
	if ! pg_as_owner "$bin/initdb" -D "$dir/data" -U exposure -A trust -E UTF8 --locale=C \
		--no-sync >"$dir/initdb.log" 2>&1; then
		echo "pg.sh: initdb failed:" >&2
		tail -n 20 "$dir/initdb.log" >&2
		rm -rf -- "$dir"
		return 1
	fi
	if [ -z "$port" ]; then
		if [ -n "$netns" ]; then
			port=$(ip netns exec "$netns" python3 -c 'import socket
s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
		else
			port=$(pg_free_port "$listen")
		fi
	fi
	# The test's own settings; nothing here is a production recommendation (docs/deploy.md).
	cat >>"$dir/data/postgresql.conf" <<EOF
listen_addresses = '$listen'
port = $port
unix_socket_directories = '$dir/sock'
max_connections = 200
shared_buffers = 64MB
fsync = ${EXPOSURE_PG_FSYNC:-off}
full_page_writes = ${EXPOSURE_PG_FSYNC:-off}
logging_collector = off
log_min_messages = warning
EOF
	# trust only for this address family's clients and the socket.
	printf 'local all all trust\nhost all all 0.0.0.0/0 trust\nhost all all ::/0 trust\n' \
		>"$dir/data/pg_hba.conf"
	EXPOSURE_PG_DIR=$dir
	EXPOSURE_PG_BIN=$bin
	host=$listen
	case $listen in *:*) host="[$listen]" ;; esac
	export EXPOSURE_PG_DIR EXPOSURE_PG_BIN EXPOSURE_PG_NETNS
	export EXPOSURE_PG_URL="postgresql://exposure@$host:$port/exposure"
	export PGHOST=$listen PGPORT=$port PGUSER=exposure PGDATABASE=exposure
	pg_start || {
		pg_down
		return 1
	}
	pg_watch $$
	pg_as_owner "$bin/psql" -h "$dir/sock" -p "$port" -U exposure -d postgres -q -X \
		-c 'CREATE DATABASE exposure' >/dev/null || {
		pg_down
		return 1
	}
}

# A watcher outside our process group and session: once process $1 is gone (killed with -9 by a
# test runner's timeout, say), it stops the cluster and removes its directory, so no test
# leaves a PostgreSQL behind. Polls once a second; ends with the cluster.
pg_watch()
{
	local pre=""
	[ "$(id -u)" = 0 ] && pre="setpriv --reuid=nobody --regid=nogroup --init-groups --"
	[ -n "${EXPOSURE_PG_NETNS:-}" ] && pre="ip netns exec $EXPOSURE_PG_NETNS $pre"
	setsid sh -c 'while kill -0 "$1" 2>/dev/null && [ -d "$2/data" ]; do sleep 1; done
		[ -d "$2/data" ] || exit 0
		$4 "$3/pg_ctl" -D "$2/data" -m immediate -w -t 30 stop >/dev/null 2>&1
		case $2 in /tmp/exposure-pg.*) rm -rf -- "$2" ;; esac' \
		sh "$1" "$EXPOSURE_PG_DIR" "$EXPOSURE_PG_BIN" "$pre" </dev/null >/dev/null 2>&1 &
}

# Start the cluster of $EXPOSURE_PG_DIR again (after pg_stop), waiting until it accepts.
pg_start()
{
	if ! pg_as_owner "$EXPOSURE_PG_BIN/pg_ctl" -D "$EXPOSURE_PG_DIR/data" \
		-l "$EXPOSURE_PG_DIR/log" -w -t 30 start >/dev/null 2>&1; then
		echo "pg.sh: PostgreSQL did not start:" >&2
		tail -n 20 "$EXPOSURE_PG_DIR/log" >&2
		return 1
	fi
}

# Stop it: fast (default: sessions ended, checkpoint) or immediate (as a crash would).
pg_stop()
{
	[ -d "${EXPOSURE_PG_DIR:-}/data" ] || return 0
	pg_as_owner "$EXPOSURE_PG_BIN/pg_ctl" -D "$EXPOSURE_PG_DIR/data" -m "${1:-fast}" -w -t 30 \
		stop >/dev/null 2>&1 || true
}

pg_down()
{
	[ -n "${EXPOSURE_PG_DIR:-}" ] || return 0
	pg_stop immediate
	case $EXPOSURE_PG_DIR in /tmp/exposure-pg.*) rm -rf -- "$EXPOSURE_PG_DIR" ;; esac
	unset EXPOSURE_PG_DIR
}

pg_main()
{
	local listen=127.0.0.1 port= netns= rc
	case ${1:-} in
	stop)
		pg_stop "${2:-fast}"
		return 0
		;;
	start)
		pg_start
		return
		;;
	run) shift ;;
	*)
		sed -n '9,17p' "${BASH_SOURCE[0]}" >&2
		return 2
		;;
	esac
	while [ $# -gt 0 ] && [ "$1" != -- ]; do
		case $1 in
		--listen)
			listen=$2
			shift
			;;
		--port)
			port=$2
			shift
			;;
		--netns)
			netns=$2
			shift
			;;
		--fsync) export EXPOSURE_PG_FSYNC=on ;;
		*)
			echo "pg.sh: unknown option $1" >&2
			return 2
			;;
		esac
		shift
	done
	[ "${1:-}" = -- ] && shift
	[ $# -gt 0 ] || {
		echo "pg.sh run: no command" >&2
		return 2
	}
	pg_up "$listen" "$port" "$netns" || return
	trap pg_down EXIT
	trap 'exit 143' TERM INT
	rc=0
	"$@" || rc=$?
	return $rc
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
	set -u
	pg_main "$@"
	exit
fi
