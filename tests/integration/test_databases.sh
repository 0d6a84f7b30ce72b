#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# The database checks (issue 12: redis, mongodb, elasticsearch, mysql, postgresql) against REAL
# Debian servers in one namespace lab host, through `exposure check --json` from the scanner
# namespace (and so through the sandboxed prober):
#   redis-server 7.0: 6379 no password, 6380 requirepass, 6381 protected mode (IPv4 and IPv6);
#   mariadbd 10.11 (mariadb-install-db into a temporary directory) with one user app@'198.18.%':
#     the IPv4 scanner gets the greeting, the IPv6 scanner ERR 1130 host not allowed (a real
#     server's own refusal, not emulated);
#   PostgreSQL 15 from tests/lab/pg.sh in the lab host's namespace, ssl off, then on (reload).
# Debian has neither MongoDB nor Elasticsearch: EMULATORS (tests/emul/db_emul.py, checked
# against nmap's mongodb-info in docs/nmap-differences.md) play MongoDB 7.0 open / with
# authentication / 3.4 (OP_QUERY only), Elasticsearch 7.17 open / 8 with security / OpenSearch,
# and hostile variants (a malformed reply, a huge length, one byte at a time).
# The new checks are not in the default profile: every run names them with --checks.
# Usage: test_databases.sh PATH-TO-exposure   (root; exit 77 otherwise)
set -u
. "$(dirname "$0")/common.sh"
t_setup "${1:-}"
for t in redis-server mariadbd mariadb-install-db; do
	command -v "$t" >/dev/null || { echo "$t missing: run scripts/setup.sh test" >&2; exit 1; }
done
# shellcheck source=tests/lab/pg.sh
. "$TESTS_DIR/lab/pg.sh"
trap 'pg_down; lab_down' EXIT
lab_up srv || { echo "lab did not come up"; exit 1; }
a4=$(lab_addr4 srv)
a6=$(lab_addr6 srv)
ns=$(lab_ns srv)
out=$LAB_STATE/out.json
t0=$SECONDS

up() { "$@" >/dev/null || { t_fail "could not start: $*"; exit 1; }; }
up lab_redisd srv 6379 open
up lab_redisd srv 6380 password
up lab_redisd srv 6381 protected
# mariadb-install-db and initdb take most of the set-up: side by side
lab_mariadbd srv 3306 '198.18.%' >/dev/null &
maria=$!
pg_up "$a4,$a6" 5432 "$ns" || { t_fail "PostgreSQL did not start"; exit 1; }
wait "$maria" || { t_fail "mariadbd did not start"; exit 1; }
emul()
{
	local case=$1 port=$2
	shift 2
	up lab_spawn "db-emul-$port" "$ns" python3 "$TESTS_DIR/emul/db_emul.py" "$case" \
		--host "$a4" --port "$port" "$@"
}
emul mongo-open 27017
emul mongo-auth 27018
emul mongo-34-open 27019
emul mongo-bad-bson 27020
emul mongo-open 27021 --drip 0.001
emul es-open 9200
emul es-secured 9201
emul es-opensearch 9202
emul es-huge-length 9203
emul es-open 9204 --close-at 200
lab_wait_listen "$ns" 27017-27021 9200-9204 || { t_fail "emulators did not start"; exit 1; }
echo "# lab up in $((SECONDS - t0)) s"

# t_findings LABEL ENTRY "id=severity=confidence ..." : exactly these findings
t_findings()
{
	local label=$1 e=$2 want=$3 got w f
	got=$(jq -r '[.findings[] | "\(.id)=\(.severity)=\(.confidence)"] | sort | join(" ")' <<<"$e")
	w=$(for f in $want; do echo "$f"; done | sort | tr '\n' ' ' | sed 's/ $//')
	[ "$got" = "$w" ] && t_ok "$label: findings $got" || t_fail "$label: findings '$got', want '$w': $e"
}
# t_jq LABEL ENTRY FILTER : the jq filter is true on the entry
t_jq()
{
	jq -e "$3" <<<"$2" >/dev/null && t_ok "$1: $3" || t_fail "$1: $3 is false: $2"
}

# All five on their default ports, IPv4 and IPv6 in one run (the emulators answer on IPv4 only)
t_check "$out" --checks redis,mongodb,elasticsearch,mysql,postgresql "$a4" "$a6"
[ "$T_WALL_MS" -lt 5000 ] && t_ok "five checks on two addresses in $T_WALL_MS ms" ||
	t_fail "five checks took $T_WALL_MS ms"
for a in "$a4" "$a6"; do
	j=$(t_target_json "$out" "$a")
	e=$(t_entry "$j" redis 6379)
	t_findings "redis open $a" "$e" "redis-exposed=high=confirmed redis-no-auth=critical=confirmed"
	t_jq "redis open $a" "$e" '.service == "redis" and .details.auth == "none" and (.details.redis_version | startswith("7."))'
	e=$(t_entry "$j" postgresql 5432)
	t_findings "postgresql $a" "$e" "postgresql-exposed=high=confirmed"
	t_jq "postgresql $a" "$e" '.details.sqlstate == "28000" and .details.ssl == false and .details.severity == "FATAL"'
done
j=$(t_target_json "$out" "$a4")
e=$(t_entry "$j" mysql 3306)
t_findings "mariadb greeting" "$e" "mysql-exposed=high=confirmed"
t_jq "mariadb greeting" "$e" '.service == "mysql" and .details.product == "MariaDB" and (.details.version | test("^5\\.5\\.5-10\\.11\\.[0-9]+-MariaDB"))'
e=$(t_entry "$(t_target_json "$out" "$a6")" mysql 3306)
t_findings "mariadb 1130" "$e" "mysql-exposed=medium=confirmed"
t_jq "mariadb 1130" "$e" '.details.error_code == 1130 and .details.refused == "host-not-allowed" and (.details.error_message | contains("2001:db8:"))'
e=$(t_entry "$j" mongodb 27017)
t_findings "mongodb open" "$e" "mongodb-exposed=high=confirmed mongodb-no-auth=critical=confirmed"
t_jq "mongodb open" "$e" '.details.version == "7.0.12" and .details.databases == 4 and .details.wire == "OP_MSG"'
e=$(t_entry "$j" elasticsearch 9200)
t_findings "elasticsearch open" "$e" "elasticsearch-exposed=high=confirmed elasticsearch-no-auth=critical=confirmed"
t_jq "elasticsearch open" "$e" '.details.cluster_name == "emul-cluster" and .details.version == "7.17.22"'

# one check on another port: t_one CHECK PORT [ADDR] -> entry in $e
t_one()
{
	t_check "$out" --checks "$1" --port "$1=$2" "${3:-$a4}"
	e=$(t_entry "$(cat "$out")" "$1" "$2")
}
# a password asked: the question answered no, no unknown finding
t_one redis 6380 "$a6"
t_findings "redis requirepass" "$e" "redis-exposed=high=confirmed"
t_jq "redis requirepass" "$e" '.details.auth == "required" and (.details.error | startswith("NOAUTH"))'
# protected mode: reachable but refused at accept
t_one redis 6381
t_findings "redis protected" "$e" "redis-exposed=medium=confirmed"
t_jq "redis protected" "$e" '.details.protected_mode == true and (.details.error | startswith("DENIED"))'
t_one mongodb 27018
t_findings "mongodb auth" "$e" "mongodb-exposed=high=confirmed"
t_jq "mongodb auth" "$e" '.details.auth == "required" and .details.list_code == 13'
t_one mongodb 27019
t_findings "mongodb 3.4" "$e" "mongodb-exposed=high=confirmed mongodb-no-auth=critical=confirmed"
t_jq "mongodb 3.4" "$e" '.details.wire == "OP_QUERY" and .details.version == "3.4.24"'
t_one elasticsearch 9201
t_findings "elasticsearch secured" "$e" "elasticsearch-exposed=high=confirmed"
t_jq "elasticsearch secured" "$e" '.details.status == 401 and .details.auth == "required"'
t_one elasticsearch 9202
t_findings "opensearch open" "$e" "elasticsearch-exposed=high=confirmed elasticsearch-no-auth=critical=confirmed"
t_jq "opensearch open" "$e" '.details.distribution == "opensearch"'

# hostile peers: an ending with the question "not known" and a reason, never a verdict
t_unknown()
{
	local label=$1 q=$2
	t_jq "$label" "$e" "[.findings[] | select(.id == \"$q\") | .confidence] == [\"unknown\"]"
	t_jq "$label" "$e" "[.findings[] | select(.id == \"$q\") | .reason | length > 0] == [true]"
}
t_one mongodb 27020
t_unknown "mongodb malformed BSON" mongodb-no-auth
t_one elasticsearch 9203
t_unknown "elasticsearch huge length" elasticsearch-no-auth
t_one elasticsearch 9204
t_unknown "elasticsearch cut at 200 bytes" elasticsearch-no-auth
# one byte per millisecond: slow, but whole before the deadlines
t_one mongodb 27021
t_findings "mongodb drip" "$e" "mongodb-exposed=high=confirmed mongodb-no-auth=critical=confirmed"

# PostgreSQL with ssl on: 'S', then the StartupMessage in clear on a second connection
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=lab -keyout "$EXPOSURE_PG_DIR/data/server.key" \
	-out "$EXPOSURE_PG_DIR/data/server.crt" >/dev/null 2>&1 &&
	chown nobody:nogroup "$EXPOSURE_PG_DIR/data/server.key" "$EXPOSURE_PG_DIR/data/server.crt" &&
	chmod 600 "$EXPOSURE_PG_DIR/data/server.key" &&
	echo "ssl = on" >>"$EXPOSURE_PG_DIR/data/postgresql.conf" &&
	pg_as_owner "$EXPOSURE_PG_BIN/pg_ctl" -D "$EXPOSURE_PG_DIR/data" reload >/dev/null ||
	t_fail "could not switch ssl on"
sleep 0.3
t_one postgresql 5432
t_findings "postgresql ssl" "$e" "postgresql-exposed=high=confirmed"
t_jq "postgresql ssl" "$e" '.details.ssl == true and .details.sqlstate == "28000"'

# the default profile (2017) probes none of them
t_check "$out" "$a4"
t_jq "default profile" "$(cat "$out")" '[.checks[].check] | (index("redis"), index("mongodb"), index("elasticsearch"), index("mysql"), index("postgresql")) == null'

echo "# whole test $((SECONDS - t0)) s"
t_finish
