#!/usr/bin/env bash
# The highly available layout on one machine: a three-node nats-server cluster (JetStream,
# sync_interval: always, the LEDGER stream at 3 replicas) and two `kuozheng serve` API replicas
# on it, all on loopback, as real processes whose ids are kept in the state folder.
#
#   scripts/cluster.sh up              build, start what is not running, wait until ready
#   scripts/cluster.sh status          each process, the stream's leader and replicas, each /readyz
#   scripts/cluster.sh down [--wipe]   stop what it started (and with --wipe remove the state)
#
# Environment (defaults in brackets):
#   KZ_CLUSTER_DIR   state folder: binaries, configs, NATS data, logs, process ids [./cluster]
#   KZ_NATS_PORT     first node's client port; nodes 2 and 3 take the next two [14221]
#   KZ_ROUTE_PORT    first node's cluster (route) port [16221]
#   KZ_MONITOR_PORT  first node's monitoring port (/healthz, /jsz) [18221]
#   KZ_API_PORT      first API replica's port; the second takes the next [18081]
#   KZ_API_REPLICAS  how many API replicas [2]
#   KZ_SERVE_ARGS    more options for every `kuozheng serve`, such as "--demo --demo-employers 2000"
#   KZ_WAIT          seconds to wait for a node, the meta leader or a replica's /readyz [180]
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
dir=$(realpath -m "${KZ_CLUSTER_DIR:-$repo/cluster}")
nats_port=${KZ_NATS_PORT:-14221}
route_port=${KZ_ROUTE_PORT:-16221}
monitor_port=${KZ_MONITOR_PORT:-18221}
api_port=${KZ_API_PORT:-18081}
api_replicas=${KZ_API_REPLICAS:-2}
wait_s=${KZ_WAIT:-180}
nodes=(n1 n2 n3)
marker="$dir/.kuozheng-cluster"

usage() {
  sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
}

die() { echo "cluster.sh: $*" >&2; exit 1; }

# get URL prints the body of a GET on loopback (never through a proxy), or fails.
get() { curl -fsS --noproxy '*' --max-time 5 "$1" 2>/dev/null; }

node_index() { echo $(( ${1#n} - 1 )); }
client_port() { echo $(( nats_port + $(node_index "$1") )); }
cluster_port() { echo $(( route_port + $(node_index "$1") )); }
mon_port() { echo $(( monitor_port + $(node_index "$1") )); }
api_names() { for i in $(seq 1 "$api_replicas"); do echo "api$i"; done; }
api_url() { echo "http://127.0.0.1:$(( api_port + ${1#api} - 1 ))"; }

# pid NAME prints the process id recorded for NAME if that process is still the one started
# (its command line names this state folder), and fails otherwise.
pid() {
  local f="$dir/run/$1.pid" p
  [ -f "$f" ] || return 1
  p=$(cat "$f")
  [ -n "$p" ] && [ -r "/proc/$p/cmdline" ] || return 1
  tr '\0' ' ' <"/proc/$p/cmdline" | grep -F -- "$dir/" >/dev/null || return 1
  echo "$p"
}

credentials() {
  if [ ! -f "$dir/credentials" ]; then
    umask 077
    {
      echo "NATS_USER=kuozheng"
      echo "NATS_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
      echo "ROUTE_USER=route"
      echo "ROUTE_PASSWORD=$(head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n')"
    } >"$dir/credentials"
  fi
  # shellcheck disable=SC1091
  . "$dir/credentials"
}

nats_urls() {
  local urls=() n
  for n in "${nodes[@]}"; do urls+=("nats://$NATS_USER:$NATS_PASSWORD@127.0.0.1:$(client_port "$n")"); done
  (IFS=,; echo "${urls[*]}")
}

build() {
  [ -n "${built:-}" ] && return
  # A process started beside running ones (a node killed and started again) runs their build, not
  # one of a working tree changed since: peers of two builds are not the layout tested.
  local n
  if [ -x "$dir/bin/nats-server" ] && [ -x "$dir/bin/kuozheng" ]; then
    for n in "${nodes[@]}" $(api_names); do
      if pid "$n" >/dev/null; then
        echo "reusing the binaries in $dir/bin: $n runs them (down, then up, to build again)"
        built=1
        return
      fi
    done
  fi
  echo "building nats-server (the version in go.mod) and kuozheng into $dir/bin"
  mkdir -p "$dir/bin"
  # Built beside and renamed over: a binary a running process executes is never written to.
  (cd "$repo" && go build -o "$dir/bin/nats-server.new" github.com/nats-io/nats-server/v2 &&
    go build -o "$dir/bin/kuozheng.new" ./cmd/kuozheng)
  mv -f "$dir/bin/nats-server.new" "$dir/bin/nats-server"
  mv -f "$dir/bin/kuozheng.new" "$dir/bin/kuozheng"
  built=1
}

write_config() {
  local n=$1 routes=() m
  for m in "${nodes[@]}"; do
    [ "$m" = "$n" ] || routes+=("\"nats-route://$ROUTE_USER:$ROUTE_PASSWORD@127.0.0.1:$(cluster_port "$m")\"")
  done
  mkdir -p "$dir/conf" "$dir/nats/$n"
  NODE=$n CLIENT_LISTEN=127.0.0.1:$(client_port "$n") MONITOR_LISTEN=127.0.0.1:$(mon_port "$n") \
    CLUSTER_LISTEN=127.0.0.1:$(cluster_port "$n") STORE_DIR=$dir/nats/$n MAX_FILE_STORE=10GB \
    ROUTES="$(IFS=,; echo "${routes[*]}")" NATS_USER=$NATS_USER NATS_PASSWORD=$NATS_PASSWORD \
    ROUTE_USER=$ROUTE_USER ROUTE_PASSWORD=$ROUTE_PASSWORD \
    envsubst '${NODE} ${CLIENT_LISTEN} ${MONITOR_LISTEN} ${CLUSTER_LISTEN} ${STORE_DIR} ${MAX_FILE_STORE} ${ROUTES} ${NATS_USER} ${NATS_PASSWORD} ${ROUTE_USER} ${ROUTE_PASSWORD}' \
    <"$repo/scripts/deploy/nats-server.conf" >"$dir/conf/$n.conf.new"
  chmod 600 "$dir/conf/$n.conf.new"
  mv -f "$dir/conf/$n.conf.new" "$dir/conf/$n.conf"
  local out
  out=$("$dir/bin/nats-server" -t -c "$dir/conf/$n.conf" 2>&1) || die "nats-server refuses $dir/conf/$n.conf: $out"
}

# wait_until WHAT CMD... runs CMD every 0.2 s until it succeeds, for at most KZ_WAIT seconds.
wait_until() {
  local what=$1 deadline=$((SECONDS + wait_s))
  shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || die "gave up waiting for $what after $wait_s s"
    sleep 0.2
  done
}

meta_leader() {
  local n l
  for n in "${nodes[@]}"; do
    pid "$n" >/dev/null || continue
    l=$(get "http://127.0.0.1:$(mon_port "$n")/jsz" | jq -r '.meta_cluster.leader // empty') || continue
    [ -n "$l" ] && { echo "$l"; return 0; }
  done
  return 1
}

start_node() {
  local n=$1 p
  if p=$(pid "$n"); then echo "$n already running (pid $p)"; return; fi
  build
  write_config "$n"
  mkdir -p "$dir/run" "$dir/log"
  setsid "$dir/bin/nats-server" -c "$dir/conf/$n.conf" -l "$dir/log/$n.log" </dev/null >>"$dir/log/$n.out" 2>&1 &
  echo $! >"$dir/run/$n.pid"
  echo "$n started (pid $!): nats://127.0.0.1:$(client_port "$n"), monitoring http://127.0.0.1:$(mon_port "$n")"
}

node_healthy() { get "http://127.0.0.1:$(mon_port "$1")/healthz" >/dev/null; }

# readyz NAME prints the replica's /readyz answer: its status code, its status and reason, and
# the stream's leader and last sequence as the replica sees them.
readyz() {
  local body code
  body=$(curl -sS --noproxy '*' --max-time 5 -w '\n%{http_code}' "$(api_url "$1")/readyz" 2>/dev/null) || { echo "no answer"; return; }
  code=${body##*$'\n'}
  body=${body%$'\n'*}
  jq -r --arg code "$code" '"\($code) \(.status)" + (if .reason then ": \(.reason)" else "" end) +
    (if .stream then " (leader \(.stream.leader | if . == "" then "none" else . end), last_seq \(.stream.last_seq), applied \(.stream.applied))" else "" end)' \
    <<<"$body" 2>/dev/null || echo "$code $body"
}

readyz_code() { curl -s -o /dev/null --noproxy '*' --max-time 5 -w '%{http_code}' "$(api_url "$1")/readyz" 2>/dev/null || true; }

replica_ready() {
  local name=$1
  # Alive, not pid: the child may not have exec'd kuozheng yet.
  kill -0 "$(cat "$dir/run/$name.pid")" 2>/dev/null || { tail -n 20 "$dir/$name/serve.log" >&2; die "$name exited"; }
  [ "$(readyz_code "$name")" = 200 ]
}

start_replica() {
  local name=$1 p
  if p=$(pid "$name"); then echo "$name already running (pid $p): $(api_url "$name")"; return; fi
  build
  mkdir -p "$dir/$name/tmp" "$dir/run"
  # Each replica has a folder of its own: its log, and TMPDIR for the scratch files a replica on
  # --nats folds the stream into at start.
  # shellcheck disable=SC2086
  TMPDIR="$dir/$name/tmp" setsid "$dir/bin/kuozheng" serve --nats "$(nats_urls)" --replicas 3 \
    --listen "127.0.0.1:${api_port_of[$name]}" ${KZ_SERVE_ARGS:-} </dev/null >>"$dir/$name/serve.log" 2>&1 &
  echo $! >"$dir/run/$name.pid"
  echo "$name started (pid $!): $(api_url "$name"), log $dir/$name/serve.log"
  # One at a time: the first creates the LEDGER stream (at 3 replicas) and the reference data;
  # replicas started together on an empty cluster race to create it and can both time out.
  wait_until "$name's /readyz" replica_ready "$name"
  echo "$name ready"
}

up() {
  mkdir -p "$dir"
  touch "$marker"
  credentials
  local n name all=1
  for n in "${nodes[@]}"; do pid "$n" >/dev/null || all=0; done
  for name in $(api_names); do pid "$name" >/dev/null || all=0; done
  if [ $all = 1 ]; then
    echo "already up ($dir)"
    status
    return
  fi
  for n in "${nodes[@]}"; do start_node "$n"; done
  for n in "${nodes[@]}"; do wait_until "$n's /healthz" node_healthy "$n"; done
  wait_until "a JetStream meta leader" meta_leader >/dev/null
  echo "JetStream meta leader: $(meta_leader)"
  for name in $(api_names); do start_replica "$name"; done
  echo
  status
}

# stream_info prints the LEDGER stream's cluster info as its leader reports it (else as any
# node does).
stream_info() {
  local n info leader best=""
  for n in "${nodes[@]}"; do
    pid "$n" >/dev/null || continue
    info=$(get "http://127.0.0.1:$(mon_port "$n")/jsz?accounts=true&streams=true" |
      jq -c '[.account_details[]?.stream_detail[]? | select(.name == "LEDGER")][0] // empty') || continue
    [ -n "$info" ] || continue
    leader=$(jq -r '.cluster.leader // empty' <<<"$info")
    [ -n "$best" ] || best=$info
    if [ "$leader" = "$n" ]; then best=$info; break; fi
  done
  [ -n "$best" ] && echo "$best"
}

status() {
  [ -f "$marker" ] || { echo "no cluster in $dir (run: scripts/cluster.sh up)"; return 1; }
  credentials
  local n name p ml info r ok=0
  ml=$(meta_leader || true)
  for n in "${nodes[@]}"; do
    if p=$(pid "$n"); then
      printf '%-5s pid %-8s alive   nats://127.0.0.1:%s%s\n' "$n" "$p" "$(client_port "$n")" "$([ "$n" = "$ml" ] && echo '   (meta leader)')"
    else
      printf '%-5s %-12s down\n' "$n" "-"; ok=1
    fi
  done
  if info=$(stream_info); then
    jq -r '"stream LEDGER: \(.state.messages) messages, last sequence \(.state.last_seq), leader \(.cluster.leader // "NONE")" +
      ([.cluster.replicas[]? | "\n  replica \(.name): \(if .offline then "offline" elif .current then "current" else "not current" end), lag \(.lag // 0)"] | join(""))' <<<"$info"
    r=$(jq -r '.cluster.leader // empty' <<<"$info")
    if [ -z "$r" ]; then
      ok=1
    elif [[ " ${nodes[*]} " == *" $r "* ]] && ! pid "$r" >/dev/null; then
      echo "  ($r is down: that is a follower's stale view until the replicas elect a leader)"; ok=1
    fi
  else
    echo "stream LEDGER: no node answers for it"; ok=1
  fi
  for name in $(api_names); do
    if p=$(pid "$name"); then
      r=$(readyz "$name")
      printf '%-5s pid %-8s alive   %s   /readyz %s\n' "$name" "$p" "$(api_url "$name")" "$r"
      [ "${r%% *}" = 200 ] || ok=1
    else
      printf '%-5s %-12s down\n' "$name" "-"; ok=1
    fi
  done
  return $ok
}

# stop NAME stops a process this script started: SIGTERM, then SIGKILL after 30 s.
stop() {
  local name=$1 p i
  p=$(pid "$name") || { rm -f "$dir/run/$name.pid"; return 0; }
  kill -TERM "$p" 2>/dev/null || true
  for i in $(seq 1 150); do
    kill -0 "$p" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$p" 2>/dev/null; then
    kill -KILL "$p" 2>/dev/null || true
    echo "stopped $name (pid $p, killed after 30 s)"
  else
    echo "stopped $name (pid $p)"
  fi
  rm -f "$dir/run/$name.pid"
}

down() {
  local wipe=0 name n
  case "${1:-}" in
    "") ;;
    --wipe) wipe=1 ;;
    *) die "down takes --wipe or nothing, not $1" ;;
  esac
  if [ ! -f "$marker" ]; then
    echo "no cluster in $dir"
    return
  fi
  # The API replicas first: they save their views' snapshot through NATS as they stop.
  for name in $(api_names) "${nodes[@]}"; do stop "$name"; done
  # Replicas started with a larger KZ_API_REPLICAS earlier.
  for f in "$dir"/run/api*.pid; do [ -e "$f" ] && stop "$(basename "$f" .pid)"; done
  if [ $wipe = 1 ]; then
    rm -rf "$dir"
    echo "removed $dir"
  fi
}

declare -A api_port_of
for name in $(api_names); do api_port_of[$name]=$(( api_port + ${name#api} - 1 )); done
command -v jq >/dev/null || die "needs jq (apt-get install jq)"
command -v envsubst >/dev/null || die "needs envsubst (apt-get install gettext-base)"

case "${1:-}" in
  up) shift; [ $# -eq 0 ] || die "up takes no arguments"; up ;;
  down) shift; down "$@" ;;
  status) shift; status ;;
  -h|--help|help) usage ;;
  "") usage; exit 2 ;;
  *) echo "cluster.sh: unknown command $1" >&2; usage >&2; exit 2 ;;
esac
