#!/usr/bin/env bash
# scripts/postgres.sh start|stop|url
#
# Runs a throwaway PostgreSQL cluster for the sqlstore conformance suite and
# CI: initdb into a temp dir, listen on 127.0.0.1:$PGPORT (default 55432),
# fsync off. "start" prints only an export line on stdout, so callers do
#
#   eval "$(scripts/postgres.sh start)" && go test ./sqlstore
#
# Everything else goes to stderr. "start" is idempotent: when the cluster
# recorded in /tmp/kafkaplane-pg.dir is running it just prints the line.
set -euo pipefail

PGPORT=${PGPORT:-55432}
DBNAME=kafkaplane_test
STATE=/tmp/kafkaplane-pg.dir

log() { echo "postgres.sh: $*" >&2; }

url() {
	echo "export KAFKAPLANE_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:${PGPORT}/${DBNAME}?sslmode=disable"
}

pgbin() {
	ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1
}

as_postgres() {
	if [ "$(id -u)" = 0 ]; then
		runuser -u postgres -- "$@"
	else
		"$@"
	fi
}

running() {
	[ -f "$STATE" ] || return 1
	local d bin
	d=$(cat "$STATE")
	bin=$(pgbin)
	[ -n "$bin" ] && [ -d "$d" ] && as_postgres "$bin/pg_ctl" -D "$d" status >/dev/null 2>&1
}

start() {
	if running; then
		log "already running in $(cat "$STATE")"
		url
		return 0
	fi
	if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
		log "installing postgresql"
		{
			apt-get update -qq
			DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
		} >&2
	fi
	local bin d
	bin=$(pgbin)
	d=$(mktemp -d /tmp/kafkaplane-pg.XXXXXX)
	if [ "$(id -u)" = 0 ]; then
		chown postgres:postgres "$d"
	fi
	echo "$d" >"$STATE"
	log "initdb $d"
	as_postgres "$bin/initdb" -D "$d" -U postgres --auth=trust -E UTF8 --no-sync >&2
	as_postgres "$bin/pg_ctl" -D "$d" -l "$d/server.log" -w \
		-o "-p $PGPORT -k $d -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
		start >&2
	as_postgres "$bin/psql" -h 127.0.0.1 -p "$PGPORT" -U postgres -qAt -c "CREATE DATABASE $DBNAME" >&2
	url
}

stop() {
	if [ ! -f "$STATE" ]; then
		log "not running"
		return 0
	fi
	local d bin
	d=$(cat "$STATE")
	bin=$(pgbin)
	if [ -d "$d" ]; then
		as_postgres "$bin/pg_ctl" -D "$d" -m fast -w stop >&2 || true
		rm -rf "$d"
	fi
	rm -f "$STATE"
	log "stopped"
}

case "${1:-}" in
start) start ;;
stop) stop ;;
url) url ;;
*)
	echo "usage: $0 start|stop|url" >&2
	exit 2
	;;
esac
