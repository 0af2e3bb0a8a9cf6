#!/usr/bin/env bash
# The performance suite: every headline figure beside the raw engine, measured in one run.
#   scripts/bench.sh                 ledgers of 1,000,000 events, a warm-up round and 3 counted
#                                    (about 20 minutes here, generating the ledger included)
#   scripts/bench.sh --quick         100,000 events, a warm-up round and 1 counted (about 6 minutes)
#   scripts/bench.sh --vs-postgres   also the same workloads on a PostgreSQL event table
#                                    (starts a throwaway server; apt-get install -y postgresql)
#   scripts/bench.sh --years [N]     only the ten-year ledger (2006-2015, N payers in 2006, default
#                                    20000): serve after each year, then restart, first start,
#                                    history, counties and freeze (kuozheng bench years)
# Prints a table (ours, raw, ratio, PostgreSQL; default durability, then lazy) and writes
# bench-results.json. The generated ledger is kept in $TMPDIR/kuozheng-bench-N for later runs.
set -euo pipefail
cd "$(dirname "$0")/.."

events=1000000
count=3
postgres=
if [ "${1:-}" = "--years" ]; then
  payers=${2:-20000}
  out=$(mktemp -d)
  go build -o "$out/kuozheng" ./cmd/kuozheng
  "$out/kuozheng" bench years --data "${TMPDIR:-/tmp}/kuozheng-years-$payers" --employers "$payers" | tee "$out/years.txt"
  "$out/kuozheng" bench report "$out/years.txt"
  exit 0
fi
for arg in "$@"; do
  case "$arg" in
  --quick) events=100000; count=1 ;;
  --vs-postgres) postgres=1 ;;
  -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
  *) echo "unknown option $arg" >&2; sed -n '2,12p' "$0" >&2; exit 2 ;;
  esac
done
export KUOZHENG_BENCH_EVENTS=$events
out=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; fi
  if [ -n "$postgres" ] && [ -d "$out/pg/data" ]; then scripts/postgres.sh stop "$out/pg" || true; fi
}
trap cleanup EXIT

echo "== building"
go build -o "$out/kuozheng" ./cmd/kuozheng

if [ -n "$postgres" ]; then
  echo "== starting PostgreSQL (default durability: fsync, synchronous commit)"
  KUOZHENG_BENCH_POSTGRES=$(scripts/postgres.sh start "$out/pg")
  export KUOZHENG_BENCH_POSTGRES
fi

# http_append NAME FILE [serve flags]: 64 clients posting one-event commands to a fresh server
# for 10 s, the figures appended to FILE.
http_append() {
  local name=$1 file=$2; shift 2
  rm -rf "$out/http-data"
  "$out/kuozheng" serve --data "$out/http-data" --listen 127.0.0.1:18098 --today 2006-12-31 "$@" 2>"$out/serve-$name.log" &
  pid=$!
  for _ in $(seq 1 120); do
    curl -fs http://127.0.0.1:18098/readyz >/dev/null 2>&1 && break
    sleep 0.5
  done
  "$out/kuozheng" bench http --server http://127.0.0.1:18098 --clients 64 --seconds 10 --name "$name" | tee -a "$file"
  kill "$pid"; wait "$pid" 2>/dev/null || true
  pid=
}

# Rounds: every benchmark once a round, the ledger, the raw engine and PostgreSQL taking turns
# to go first (KUOZHENG_BENCH_ROUND, storetest.Rotate); round 0 warms up and is not counted.
# The report pairs ours and raw within each round.
for round in $(seq 0 "$count"); do
  export KUOZHENG_BENCH_ROUND=$round
  file="$out/round-$round.txt"
  if [ "$round" = 0 ]; then echo "=== warm-up round (not counted)"; else echo "=== round $round of $count"; fi

  echo "== appends: bulk path and 64 concurrent writers, beside raw JetStream (fsync and lazy)"
  go test -run XXX -bench 'AppendBulk|AppendConcurrent' -benchtime 1x -count 1 -timeout 60m ./eventstore/ | tee -a "$file"

  echo "== views at $events events: rebuild, one employer's history, freeze, beside raw consumers"
  go test -run XXX -bench 'Rebuild|History|Freeze' -benchtime 1x -count 1 -timeout 120m ./projections/ | tee -a "$file"

  echo "== over loopback HTTP: GET /v1/counties, POST /v1/freezes, payments from 64 clients, beside baselines"
  go test -run XXX -bench 'CountiesRead|FreezePost|AppendHTTP' -benchtime 1x -count 1 ./api/ | tee -a "$file"

  echo "== import of 200,000 rows, beside raw atomic batches"
  go test -run XXX -bench 'Import' -benchtime 1x -count 1 -timeout 30m ./api/importer/ | tee -a "$file"

  echo "== HTTP appends from 64 clients to a real server (sync before ack, then lazy)"
  http_append http-append "$file"
  http_append http-append-lazy "$file" --lazy-fsync
done

echo "== peak RSS of serve with every view at $events events"
"$out/kuozheng" bench rss --data "${TMPDIR:-/tmp}/kuozheng-bench-$events" | tee "$out/rss.txt"

echo "== medians"
rounds=()
for round in $(seq 1 "$count"); do rounds+=("$out/round-$round.txt"); done
"$out/kuozheng" bench report "${rounds[@]}" "$out"/rss.txt
echo "bench-results.json written"
