#!/usr/bin/env bash
# A throwaway PostgreSQL server for the comparison benchmarks, with the server's default
# durability (fsync on, synchronous commit), listening on loopback only.
#   scripts/postgres.sh start DIR [PORT]   initialise DIR, start, print the connection URL
#   scripts/postgres.sh stop DIR
set -euo pipefail
cmd=${1:-}; dir=${2:-}; port=${3:-54329}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  sed -n '2,6p' "$0"; exit 2
fi
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$bin" ] || [ ! -x "$bin/initdb" ]; then
  echo "PostgreSQL is not installed: apt-get install -y postgresql" >&2; exit 1
fi
# The server refuses to run as root: run it as the postgres user the package made.
as=()
if [ "$(id -u)" = 0 ]; then as=(runuser -u postgres --); fi
case "$cmd" in
start)
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  if [ "$(id -u)" = 0 ]; then chown postgres "$dir"; chmod 755 "$(dirname "$dir")"; fi
  "${as[@]}" "$bin/initdb" -D "$dir/data" -A trust -U kuozheng -E UTF8 >"$dir/initdb.log"
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c max_connections=200" start >/dev/null
  echo "postgres://kuozheng@127.0.0.1:$port/postgres?sslmode=disable"
  ;;
stop)
  "${as[@]}" "$bin/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null
  ;;
*)
  sed -n '2,6p' "$0"; exit 2
  ;;
esac
