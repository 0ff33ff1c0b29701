#!/usr/bin/env bash
# Lab checks through the web API, as the browser runs them: the release
# server on loopback, a fresh sandbox, then for every step of a lab the
# solution and a streamed check of the now satisfied step (best and median
# of 5 re-checks: request to the final `step` event, on loopback), with
# `layerlab lab check` (a process per check) timed on the same steps for
# comparison.
#   sudo bash bench/web-labs.sh [LAB]      (default: router)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: labs need network namespaces" >&2; exit 1; }
lab=${1:-router}
cargo build -q --release -p layerlab
bin=$PWD/target/release/layerlab
state=$(mktemp -d /run/layerlab-bench-XXXXXX)
port=18088
LAYERLAB_SANDBOX_DIR=$state $bin serve --port $port >/dev/null 2>&1 &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null; rm -rf "$state"' EXIT
api=http://127.0.0.1:$port/api/labs/$lab
for _ in $(seq 50); do curl -sf "$api" >/dev/null && break; sleep 0.1; done
curl -sf -X POST "$api/start" >/dev/null
steps=$(curl -sf "http://127.0.0.1:$port/api/labs" | python3 -c "import json,sys; print(next(l['steps'] for l in json.load(sys.stdin) if l['id']=='$lab'))")
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
printf '%-5s %10s %12s %14s %16s\n' step solve_ms web_best_ms web_median_ms cli_median_ms
for n in $(seq "$steps"); do
  solve=$(curl -s -o /dev/null -w '%{time_total}' -X POST "$api/steps/$n/solve")
  web=$(for _ in 1 2 3 4 5; do curl -s -o /dev/null -w '%{time_total}\n' -X POST "$api/steps/$n/check"; done | awk '{printf "%d\n", $1*1000}')
  cli=$(for _ in 1 2 3 4 5; do s=$(date +%s%N); LAYERLAB_SANDBOX_DIR=$state $bin lab check "$lab" --step "$n" >/dev/null 2>&1 || true; e=$(date +%s%N); echo $(( (e - s) / 1000000 )); done)
  printf '%-5s %10d %12s %14s %16s\n' "$n" "$(awk -v t="$solve" 'BEGIN {printf "%d", t*1000}')" \
    "$(echo "$web" | sort -n | head -1)" "$(echo "$web" | median)" "$(echo "$cli" | median)"
done
