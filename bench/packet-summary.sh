#!/usr/bin/env bash
# Times `layerlab packet summary` against `tcpdump -nn -r` on the same
# generated capture, in the same run, both writing to /dev/null.
#   bash bench/packet-summary.sh [PACKETS]   (default 1000000)
set -euo pipefail
cd "$(dirname "$0")/.."
packets=${1:-1000000}
runs=${RUNS:-3}
command -v tcpdump >/dev/null || { echo "tcpdump is needed: apt-get install -y tcpdump" >&2; exit 1; }
cargo build -q --release -p layerlab
cargo build -q --release -p layerlab-core --example gen_capture
file=$(mktemp --suffix=.pcap)
trap 'rm -f "$file"' EXIT
./target/release/examples/gen_capture "$file" "$packets"

best() { # best of $runs wall-clock seconds for a command
  local best=999999
  for _ in $(seq "$runs"); do
    local s e t
    s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N)
    t=$(echo "$e - $s" | bc -l)
    best=$(echo "if ($t < $best) $t else $best" | bc -l)
  done
  echo "$best"
}
export TZ=UTC  # tcpdump otherwise re-reads /etc/localtime for every packet
ours=$(best ./target/release/layerlab packet summary "$file")
theirs=$(best tcpdump -nn -r "$file")
lines=$(./target/release/layerlab packet summary "$file" | wc -l)
[ "$lines" -eq "$packets" ] || { echo "layerlab printed $lines lines for $packets packets" >&2; exit 1; }
rss=$( { /usr/bin/time -f %M ./target/release/layerlab packet summary "$file" > /dev/null; } 2>&1 | tail -1)
printf 'capture: %d packets, %d MB\n' "$packets" "$(( $(stat -c %s "$file") / 1000000 ))"
printf 'layerlab packet summary: %.3f s  (%.0f packets/s, max RSS %d MB)\n' "$ours" "$(echo "$packets / $ours" | bc -l)" "$((rss / 1024))"
printf 'tcpdump -nn -r:          %.3f s  (%.0f packets/s)\n' "$theirs" "$(echo "$packets / $theirs" | bc -l)"
printf 'ratio: layerlab is %.2fx as fast as tcpdump\n' "$(echo "$theirs / $ours" | bc -l)"
