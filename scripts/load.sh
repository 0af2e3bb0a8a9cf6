#!/usr/bin/env bash
# Load test: mixed writes and reads from 64 clients, with contention on a few employers, against
# a real server (sync before ack); then the money held must equal the money recorded, with no 5xx.
#   scripts/load.sh [--seconds N]   (default 60)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=60
if [ "${1:-}" = "--seconds" ]; then seconds=$2; fi
out=$(mktemp -d)
# serve writes while it stops (the views' snapshot): the folder goes once it has stopped.
trap 'kill "${pid:-}" 2>/dev/null || true; wait "${pid:-}" 2>/dev/null || true; rm -rf "$out"' EXIT
go build -o "$out/kuozheng" ./cmd/kuozheng
"$out/kuozheng" serve --data "$out/data" --listen 127.0.0.1:18096 --today 2006-12-31 2>"$out/serve.log" &
pid=$!
for _ in $(seq 1 120); do
  curl -fs http://127.0.0.1:18096/readyz >/dev/null 2>&1 && break
  sleep 0.5
done
"$out/kuozheng" bench load --server http://127.0.0.1:18096 --clients 64 --seconds "$seconds"
"$out/kuozheng" verify --server http://127.0.0.1:18096
