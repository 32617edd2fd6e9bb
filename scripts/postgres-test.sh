#!/usr/bin/env bash
# Starts (or reuses) a throwaway PostgreSQL server for weft's database tests
# and prints its DSN as the last line of stdout:
#
#   scripts/postgres-test.sh [dir] [port]    start or reuse; print DSN
#   scripts/postgres-test.sh stop [dir]      stop the server in dir
#
#   DSN=$(scripts/postgres-test.sh | tail -n1)
#   WEFT_TEST_POSTGRES_DSN=$DSN go test ./ca/store/
#
# Defaults: dir /tmp/weft-pg, port 55432, user/database weft, password
# $PGPASSWORD (or a fixed test password). The server listens on 127.0.0.1
# only and trusts nobody: every connection needs the password.
set -euo pipefail

log() { echo "postgres-test: $*" >&2; }
die() { log "$*"; exit 1; }

as_postgres() {
	# initdb and postgres refuse to run as root, so drop to the postgres
	# account when we have the privilege to; otherwise run as ourselves.
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

find_bin() {
	local b
	for b in /usr/lib/postgresql/*/bin; do
		[ -x "$b/postgres" ] && { echo "$b"; return 0; }
	done
	return 1
}

ensure_installed() {
	if ! find_bin >/dev/null; then
		[ "$(id -u)" = 0 ] || die "postgresql is not installed and we are not root to apt-get it"
		log "installing postgresql with apt-get"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 ||
			{ apt-get update -q >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
	fi
	BIN=$(find_bin) || die "no /usr/lib/postgresql/*/bin/postgres after install"
}

stop_server() {
	local dir=$1
	ensure_installed
	if [ -f "$dir/data/postmaster.pid" ]; then
		as_postgres "$BIN/pg_ctl" -D "$dir/data" -m fast -w stop >&2 || true
		log "stopped server in $dir"
	else
		log "no server running in $dir"
	fi
}

if [ "${1:-}" = stop ]; then
	stop_server "${2:-/tmp/weft-pg}"
	exit 0
fi

DIR=${1:-/tmp/weft-pg}
PORT=${2:-55432}
PASS=${PGPASSWORD:-weft-test-password}
case $PORT in '' | *[!0-9]*) die "port: want a number, got \"$PORT\"" ;; esac
case $PASS in *"'"* | *@* | */* | *:* | *%* | *' '*) die "PGPASSWORD: must not contain quotes, spaces, @, /, : or %" ;; esac

ensure_installed
DATA=$DIR/data
mkdir -p "$DIR"
if [ "$(id -u)" = 0 ]; then chown postgres: "$DIR"; fi
chmod 700 "$DIR"

if [ ! -f "$DATA/PG_VERSION" ]; then
	log "initdb in $DATA"
	pwfile=$(mktemp)
	echo "$PASS" >"$pwfile"
	if [ "$(id -u)" = 0 ]; then chown postgres: "$pwfile"; fi
	as_postgres "$BIN/initdb" -D "$DATA" -U postgres --pwfile="$pwfile" \
		--auth-local=scram-sha-256 --auth-host=scram-sha-256 -E UTF8 --locale=C.UTF-8 >&2
	rm -f "$pwfile"
fi

start_server() {
	log "starting server on 127.0.0.1:$PORT"
	as_postgres "$BIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 \
		-o "-c listen_addresses=127.0.0.1 -p $PORT -k $DIR -c fsync=off" start >&2 ||
		{ tail -n 20 "$DIR/server.log" >&2 || true; die "server did not start"; }
}

answers() { # port: the server accepts connections within ~10 s
	local i
	for i in $(seq 1 20); do
		"$BIN/pg_isready" -q -h 127.0.0.1 -p "$1" && return 0
		sleep 0.5
	done
	return 1
}

# pg_ctl status exits 0 only when the process named in postmaster.pid is
# alive. A killed server can leave a pid that is still around (an unreaped
# zombie, or a reused pid), so a server that does not answer is stopped and
# its lock file removed before starting afresh.
if as_postgres "$BIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1; then
	running_port=$(sed -n 4p "$DATA/postmaster.pid")
	if answers "$running_port"; then
		log "reusing server in $DATA"
		[ "$running_port" = "$PORT" ] || log "note: it listens on port $running_port, not $PORT"
		PORT=$running_port
	else
		log "server in $DATA does not answer on port $running_port: restarting it"
		# Signal the recorded pid only if it still is this data dir's
		# postmaster; a reused pid belongs to someone else.
		pid=$(head -n1 "$DATA/postmaster.pid")
		if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -q -- "-D $DATA "; then
			kill -9 "$pid" 2>/dev/null || true
			sleep 1
		fi
		rm -f "$DATA/postmaster.pid"
		start_server
	fi
else
	start_server
fi

export PGPASSWORD=$PASS
psql_super() { as_postgres env PGPASSWORD="$PASS" "$BIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -v ON_ERROR_STOP=1 -qtA "$@"; }

for _ in $(seq 1 60); do
	psql_super -c 'select 1' >/dev/null 2>&1 && break
	sleep 0.5
done
psql_super -c 'select 1' >/dev/null || die "server on port $PORT does not accept connections"

if [ "$(psql_super -c "select 1 from pg_roles where rolname='weft'")" != 1 ]; then
	psql_super -c "create role weft login password '$PASS'"
fi
# Tests that need an empty database of their own create one.
psql_super -c "alter role weft createdb"
if [ "$(psql_super -c "select 1 from pg_database where datname='weft'")" != 1 ]; then
	psql_super -c "create database weft owner weft"
fi

echo "postgres://weft:$PASS@127.0.0.1:$PORT/weft?sslmode=disable"
