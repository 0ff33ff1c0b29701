#!/usr/bin/env bash
# Confined sandboxes (the workshop's, one per learner per lab): start N one
# after another, report start time (median/p95; goal <= 150 ms) and memory
# per idle sandbox (RSS and PSS of its processes, and its cgroup's memory
# usage; goal <= 8 MiB), then tear them all down.
#   sudo bash bench/sandboxes.sh [N ...]     (default: 20 100)
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "run as root: confined sandboxes switch uid and make cgroups" >&2; exit 1; }
cargo build -q --release -p layerlab-labs --example confined_bench
bin=./target/release/examples/confined_bench
for n in "${@:-20 100}"; do
  for m in $n; do
    echo "== N=$m"
    "$bin" "$m"
  done
done
