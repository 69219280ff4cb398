#!/usr/bin/env bash
# Run a command against a throwaway PostgreSQL cluster.
#
#   scripts/pg.sh VAR COMMAND...
#
# When $VAR is already set (for example QEMGATE_DATABASE_URL or
# QEMGATE_TEST_DATABASE_URL), COMMAND runs as it is. Otherwise a new cluster is
# created in .pg/ under the checkout (git ignores it), listening only on a
# Unix socket, $VAR is exported with its URL, COMMAND runs, and the cluster is
# stopped and removed when COMMAND exits, however it exits.
set -euo pipefail

var=${1:?usage: scripts/pg.sh VAR COMMAND...}
shift
if [ -n "${!var:-}" ]; then
	exec "$@"
fi

bindir=""
if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
	bindir=$(dirname "$(command -v initdb)")
else
	for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
		if [ -x "$d/initdb" ]; then bindir=$d; break; fi
	done
fi
if [ -z "$bindir" ]; then
	cat >&2 <<'MSG'
PostgreSQL is not installed, and no database URL is configured.
Install it (Debian/Ubuntu):   sudo apt-get install -y postgresql
or point qemgate at a server: export QEMGATE_DATABASE_URL=postgres://user:pass@host/db
                         (tests: QEMGATE_TEST_DATABASE_URL, a role that may CREATE DATABASE)
MSG
	exit 1
fi

top=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$top/.pg"
# The socket path must stay short (108 bytes), so it lives under /tmp.
dir=$(mktemp -d "$top/.pg/cluster.XXXXXX")
sock=$(mktemp -d /tmp/qemgate-pg.XXXXXX)

as_pg=()
if [ "$(id -u)" = 0 ]; then
	# PostgreSQL refuses to run as root: run it as the postgres user.
	user=postgres
	id "$user" >/dev/null 2>&1 || useradd --system --home-dir /nonexistent --shell /usr/sbin/nologin "$user"
	chown "$user" "$dir" "$sock"
	# The data directory must be reachable by that user; fall back to /tmp when the checkout is not.
	if ! su -s /bin/sh "$user" -c "test -w '$dir'" 2>/dev/null; then
		rmdir "$dir"
		dir=$(mktemp -d /tmp/qemgate-pgdata.XXXXXX)
		chown "$user" "$dir"
	fi
	as_pg=(su -s /bin/sh "$user" -c)
fi
run_pg() {
	if [ ${#as_pg[@]} -gt 0 ]; then "${as_pg[@]}" "$*"; else sh -c "$*"; fi
}

cleanup() {
	run_pg "'$bindir/pg_ctl' -D '$dir/data' -m immediate -w stop" >/dev/null 2>&1 || true
	rm -rf "$dir" "$sock"
}
trap cleanup EXIT

run_pg "'$bindir/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 --locale=C.UTF-8 --no-sync" >"$dir/initdb.log" 2>&1 ||
	run_pg "'$bindir/initdb' -D '$dir/data' -U postgres -A trust -E UTF8 --no-sync" >"$dir/initdb.log" 2>&1 ||
	{ cat "$dir/initdb.log" >&2; exit 1; }
# Durability does not matter for a throwaway cluster; speed does. Unless
# QEMGATE_PG_DURABLE=1 asks for production's settings (fsync,
# synchronous_commit and full_page_writes on), for benchmarks.
nosync="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if [ "${QEMGATE_PG_DURABLE:-}" = 1 ]; then
	nosync="-c fsync=on -c synchronous_commit=on -c full_page_writes=on"
fi
run_pg "'$bindir/pg_ctl' -D '$dir/data' -l '$dir/postgres.log' -w -t 30 start -o \"-c listen_addresses='' -c unix_socket_directories='$sock' $nosync -c max_connections=300\"" >/dev/null ||
	{ cat "$dir/postgres.log" >&2; exit 1; }

export "$var=postgres://postgres@/postgres?host=$sock&sslmode=disable"
echo "scripts/pg.sh: throwaway PostgreSQL at $sock (removed on exit)" >&2
# Run COMMAND as a child and pass INT/TERM on to it, so that it stops
# gracefully before its database goes away.
"$@" &
child=$!
trap 'kill -TERM "$child" 2>/dev/null || true' INT TERM
status=0
while :; do
	wait "$child" && status=0 || status=$?
	kill -0 "$child" 2>/dev/null || break
done
exit "$status"
