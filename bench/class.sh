#!/usr/bin/env bash
# A class the server must grade (issue #17): N learners on a real
# `layerlab serve --workshop` (release build), each with the router lab's
# confined sandbox, re-check their current step every 2 s (quick checks,
# staggered) and solve it after a few failing checks, while the
# instructor's dashboard listens to the class events. At 2/3 of the run the
# server is killed (-9) with checks in flight and restarted on the same
# --data and sandbox folder; every acknowledged result must be in the
# gradebook (through the restarted server's drill-down and grid, and at
# the end offline through `layerlab workshop export`), then the class goes
# on for the last third. Reports check latency p50/p99 (goal p99 <= 250
# ms), dashboard update latency (goal <= 1 s), gradebook writes/s, server
# CPU and RSS, results acknowledged/found/lost; fails if any was lost.
# Driver: web/server/examples/class_load.rs (talks with this script over
# a coprocess: kill / restart / stop).
#   bash bench/class.sh [N] [SECS] [STEPS]      (as root; default: 100 60 4)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: confined sandboxes switch uid and make cgroups" >&2; exit 1; }
n=${1:-100}
secs=${2:-60}
steps=${3:-4}
cargo build -q --release -p layerlab -p layerlab-server --bin layerlab --example class_load
tmp=$(mktemp -d)
# Sandboxes run as an unprivileged uid: their state folder must be reachable.
chmod 755 "$tmp"
export LAYERLAB_SANDBOX_DIR="$tmp/sandboxes"
server_pid=
load_pid=
runs=0
code=BENCH-$RANDOM-$RANDOM
cat >"$tmp/plan.toml" <<PLAN
title = "Class benchmark"
labs = ["router"]
join_code = "$code"
idle_minutes = 60
max_learners = $((n + 10))
PLAN
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

# Starts the server on the same data and sandbox folder; waits until healthy.
start_server() {
  runs=$((runs + 1))
  RUST_LOG=warn ./target/release/layerlab serve --port "$port" --workshop "$tmp/plan.toml" \
    --data "$tmp/data" 2>"$tmp/server-$runs.log" &
  server_pid=$!
  for _ in $(seq 300); do
    ./target/release/layerlab serve --port "$port" --health-check 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "the server did not come up:" >&2
  cat "$tmp/server-$runs.log" >&2
  return 1
}
stop_server() {
  [ -n "$server_pid" ] || return 0
  kill -TERM "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=
}
cleanup() {
  [ -n "$load_pid" ] && kill "$load_pid" 2>/dev/null || true
  stop_server
  # Sandboxes of a killed server are swept by the next start: do one.
  if [ -n "$(ls -A "$tmp/sandboxes" 2>/dev/null)" ]; then
    start_server >/dev/null 2>&1 || true
    stop_server
  fi
  left=$( (ls -A "$tmp/sandboxes" 2>/dev/null || true) | wc -l)
  [ "$left" = 0 ] || echo "warning: $left sandboxes left in $tmp/sandboxes" >&2
  [ "$left" = 0 ] && rm -rf "$tmp"
  return 0
}
trap cleanup EXIT

hz=$(getconf CLK_TCK)
# Server CPU (own, and of the check commands it waited for) in ticks, RSS and peak in KiB.
ticks() { awk '{print $14 + $15, $16 + $17}' "/proc/$server_pid/stat"; }
mem() { awk '/VmRSS/ {r=$2} /VmHWM/ {h=$2} END {print r, h}' "/proc/$server_pid/status"; }
# One line about the server's run from its start of load until now.
usage() { # label start_s start_ticks start_child_ticks
  local now t c rss hwm
  now=$(date +%s.%N); read -r t c < <(ticks); read -r rss hwm < <(mem)
  awk -v l="$1" -v s="$2" -v t0="$3" -v c0="$4" -v t1="$t" -v c1="$c" -v now="$now" -v hz="$hz" \
      -v rss="$rss" -v hwm="$hwm" 'BEGIN {
    d = now - s
    printf "server %s: CPU %.1f s over %.0f s (%.0f%% of one core), check commands %.1f s; RSS %.1f MiB (peak %.1f MiB)\n",
      l, (t1 - t0) / hz, d, 100 * (t1 - t0) / hz / d, (c1 - c0) / hz, rss / 1024, hwm / 1024 }'
}

start_server
token=$(sed -n 's/.*instructor?token=\([A-Za-z0-9_-]*\).*/\1/p' "$tmp/server-1.log" | head -1)
[ -n "$token" ] || { echo "no instructor token in the server's log" >&2; exit 1; }
load_s=$(date +%s.%N); read -r t0 c0 < <(ticks)
coproc LOAD { exec ./target/release/examples/class_load "$port" "$code" "$n" "$secs" "$token" "$steps" 2> >(tee "$tmp/load.log" >&2); }
load_pid=$LOAD_PID
# Own copies: bash closes the coprocess's descriptors when it exits.
exec {from_load}<&"${LOAD[0]}" {to_load}>&"${LOAD[1]}"
result=
reports=()
while IFS= read -r line <&"$from_load"; do
  case "$line" in
    kill)
      reports+=("$(usage "before the kill (joins, sandbox starts, checks)" "$load_s" "$t0" "$c0")")
      kill -KILL "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
      echo killed >&"$to_load" ;;
    restart)
      start_server
      again=$(sed -n 's/.*instructor?token=\([A-Za-z0-9_-]*\).*/\1/p' "$tmp/server-$runs.log" | head -1)
      [ "$again" = "$token" ] || { echo "the instructor token changed across the restart" >&2; exit 1; }
      load_s=$(date +%s.%N); read -r t0 c0 < <(ticks)
      echo up >&"$to_load" ;;
    stop)
      reports+=("$(usage "after the restart (sweep, redone steps, checks)" "$load_s" "$t0" "$c0")")
      stop_server
      ./target/release/layerlab workshop export --data "$tmp/data" --format json --lab router \
        --out "$tmp/export.json"
      echo "exported $tmp/export.json" >&"$to_load" ;;
    "report "*) echo "${line#report }" ;;
    "result "*) result=${line#result }; break ;;
  esac
done
wait "$load_pid" || { echo "the load failed:" >&2; tail -20 "$tmp/load.log" >&2; exit 1; }
load_pid=
[ -n "$result" ] || { echo "no result from the load:" >&2; tail -20 "$tmp/load.log" >&2; exit 1; }
printf '%s\n' "${reports[@]}"
echo "gradebook: $(du -ck "$tmp"/data/workshop.db* | tail -1 | cut -f1) KiB (with its WAL); machine load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "$result"
lost=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["lost"])' "$result")
[ "$lost" = 0 ] || { echo "LOST $lost acknowledged results" >&2; exit 1; }
