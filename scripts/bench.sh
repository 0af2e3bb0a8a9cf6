#!/usr/bin/env bash
# The performance suite: every headline figure beside the raw engine, measured in one run.
#   scripts/bench.sh           ledgers of 1,000,000 events, 3 runs each (about an hour here)
#   scripts/bench.sh --quick   100,000 events, 1 run each
# Prints a table of medians and writes bench-results.json.
set -euo pipefail
cd "$(dirname "$0")/.."

events=1000000
count=3
if [ "${1:-}" = "--quick" ]; then
  events=100000
  count=1
fi
export KUOZHENG_BENCH_EVENTS=$events
out=$(mktemp -d)
trap 'kill "${pid:-}" 2>/dev/null || true' EXIT

echo "== building"
go build -o "$out/kuozheng" ./cmd/kuozheng

echo "== appends: bulk path and 64 concurrent writers, beside raw JetStream (fsync and lazy)"
go test -run XXX -bench 'AppendBulk|AppendConcurrent' -benchtime 1x -count "$count" ./eventstore/ | tee "$out/append.txt"

echo "== views at $events events: rebuild, one employer's history, freeze, beside raw consumers"
go test -run XXX -bench 'Rebuild|History|Freeze' -benchtime 1x -count "$count" -timeout 90m ./projections/ | tee "$out/views.txt"

echo "== GET /v1/counties from 32 clients, beside a handler returning the same bytes"
go test -run XXX -bench 'CountiesRead' -benchtime 1x -count "$count" ./api/ | tee "$out/reads.txt"

echo "== import of 200,000 rows, beside raw atomic batches"
go test -run XXX -bench 'Import' -benchtime 1x -count "$count" -timeout 30m ./api/importer/ | tee "$out/import.txt"

echo "== HTTP appends from 64 clients to a real server (sync before ack)"
"$out/kuozheng" serve --data "$out/http-data" --listen 127.0.0.1:18098 --today 2006-12-31 2>"$out/serve.log" &
pid=$!
for _ in $(seq 1 120); do
  curl -fs http://127.0.0.1:18098/readyz >/dev/null 2>&1 && break
  sleep 0.5
done
for _ in $(seq 1 "$count"); do
  "$out/kuozheng" bench http --server http://127.0.0.1:18098 --clients 64 --seconds 10 | tee -a "$out/http.txt"
done
kill "$pid"; wait "$pid" 2>/dev/null || true
pid=

echo "== peak RSS of serve with every view at $events events"
"$out/kuozheng" bench rss --data "${TMPDIR:-/tmp}/kuozheng-bench-$events" | tee "$out/rss.txt"

echo "== medians"
"$out/kuozheng" bench report "$out"/append.txt "$out"/views.txt "$out"/reads.txt "$out"/import.txt "$out"/http.txt "$out"/rss.txt
echo "bench-results.json written"
