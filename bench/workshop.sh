#!/usr/bin/env bash
# A workshop under load: N learners join a real `layerlab serve --workshop`
# (release build), each starts the router lab's confined sandbox and opens
# its browser terminal (WebSocket → PTY in the sandbox); then all terminals
# type at once and each key's echo time is measured. Reports sandbox start
# time, memory per idle sandbox (host MemAvailable drop / N, and the
# sandboxes' cgroup usage), keystroke echo p50/p99, and the server's CPU
# time and peak RSS. Goals (issue #14): start <= 150 ms, <= 8 MiB per idle
# sandbox, echo p99 <= 50 ms.
#   sudo bash bench/workshop.sh [N] [ROUNDS]      (default: 100 20)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: confined sandboxes switch uid and make cgroups" >&2; exit 1; }
n=${1:-100}
rounds=${2:-20}
cargo build -q --release -p layerlab -p layerlab-server --bin layerlab --example workshop_load
tmp=$(mktemp -d)
# Sandboxes run as an unprivileged uid: their state folder must be reachable.
chmod 755 "$tmp"
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
code=BENCH-$RANDOM-$RANDOM
cat >"$tmp/plan.toml" <<PLAN
title = "Benchmark workshop"
labs = ["router"]
join_code = "$code"
idle_minutes = 60
max_learners = $((n + 10))
PLAN
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
avail() { awk '/MemAvailable/ {print $2}' /proc/meminfo; }
before_kb=$(avail)
LAYERLAB_SANDBOX_DIR="$tmp/sandboxes" RUST_LOG=warn ./target/release/layerlab serve \
  --port "$port" --workshop "$tmp/plan.toml" --data "$tmp/data" 2>"$tmp/server.log" &
server_pid=$!
for _ in $(seq 100); do
  ./target/release/layerlab serve --port "$port" --health-check 2>/dev/null && break
  sleep 0.1
done
ticks() { awk '{print $14 + $15}' "/proc/$server_pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(date +%s.%N); c0=$(ticks)
result=$(./target/release/examples/workshop_load "$port" "$code" "$n" "$rounds")
t1=$(date +%s.%N); c1=$(ticks)
sleep 2 # let the typed lines settle before measuring idle memory
after_kb=$(avail)
cg_bytes=0
while read -r f; do
  cg_bytes=$((cg_bytes + $(cat "$f")))
done < <(find /sys/fs/cgroup -maxdepth 6 \( -path '*/layerlab/*/memory.usage_in_bytes' -o -path '*/layerlab/*/memory.current' \) 2>/dev/null)
rss_kb=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
hwm_kb=$(awk '/VmHWM/ {print $2}' "/proc/$server_pid/status")
echo "$result"
awk -v n="$n" -v b="$before_kb" -v a="$after_kb" -v cg="$cg_bytes" -v rss="$rss_kb" -v hwm="$hwm_kb" \
    -v c0="$c0" -v c1="$c1" -v hz="$hz" -v t0="$t0" -v t1="$t1" 'BEGIN {
  printf "memory per idle sandbox: %.2f MiB (host MemAvailable drop / %d, incl. its terminal and shell), cgroup usage %.2f MiB\n", (b - a) / 1024 / n, n, cg / 1048576 / n
  printf "server: RSS %.1f MiB (peak %.1f MiB), CPU %.2f s over %.1f s of load (%.0f%% of one core)\n", rss / 1024, hwm / 1024, (c1 - c0) / hz, t1 - t0, 100 * (c1 - c0) / hz / (t1 - t0)
}'
t2=$(date +%s.%N)
kill -TERM "$server_pid"; wait "$server_pid" || true; server_pid=
t3=$(date +%s.%N)
left=$(ls "$tmp/sandboxes" 2>/dev/null | wc -l)
awk -v t2="$t2" -v t3="$t3" -v left="$left" -v n="$n" 'BEGIN { printf "shutdown removed %d sandboxes in %.1f s (%d left)\n", n - left, t3 - t2, left }'
