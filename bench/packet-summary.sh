#!/usr/bin/env bash
# Times `layerlab packet summary` against `tcpdump -nn -r` on the same
# generated captures, in the same run, both writing to /dev/null, TZ=UTC;
# median of $RUNS runs each; peak RSS of both from /usr/bin/time -v.
#   bash bench/packet-summary.sh [PACKETS...]   (default: 1000000 10000000)
# Captures:
#   old  core/examples/gen_capture.rs (the first generator, kept for its figure; 1M only)
#   mix  core/examples/gen_mix.rs: HTTP with TCP options, TLS, DNS A/AAAA/NXDOMAIN,
#        ICMP, ARP, VXLAN pod traffic, IPv6 TCP + neighbour discovery, UDP 443; 54..1514 bytes
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@"); [ ${#sizes[@]} -gt 0 ] || sizes=(1000000 10000000)
runs=${RUNS:-5}
tmp=${TMPDIR:-/tmp}
command -v tcpdump >/dev/null || { echo "tcpdump is needed: apt-get install -y tcpdump" >&2; exit 1; }
[ -x /usr/bin/time ] || { echo "/usr/bin/time is needed: apt-get install -y time" >&2; exit 1; }
cargo build -q --release -p layerlab
cargo build -q --release -p layerlab-core --example gen_capture --example gen_mix
bin=./target/release/layerlab
export TZ=UTC  # tcpdump otherwise re-reads /etc/localtime for every packet

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
seconds() { # wall-clock seconds of one run, output to /dev/null
  local s e
  s=$(date +%s.%N); "$@" > /dev/null 2>&1; e=$(date +%s.%N)
  echo "$e - $s" | bc -l
}
peak_mib() { # peak RSS in MiB
  /usr/bin/time -v "$@" 2>&1 >/dev/null | awk -F': ' '/Maximum resident set size/ {printf "%.1f", $2/1024}'
}

measure() { # NAME FILE PACKETS
  local name=$1 file=$2 packets=$3 ours=() theirs=() i
  lines=$($bin packet summary "$file" | wc -l)
  [ "$lines" -eq "$packets" ] || { echo "layerlab printed $lines lines for $packets packets" >&2; exit 1; }
  # Alternate the two tools so both see the same page cache and machine load.
  for i in $(seq "$runs"); do
    ours+=("$(seconds $bin packet summary "$file")")
    theirs+=("$(seconds tcpdump -nn -r "$file")")
  done
  local o t
  o=$(printf '%s\n' "${ours[@]}" | median)
  t=$(printf '%s\n' "${theirs[@]}" | median)
  printf '%-4s %9d pkts %6d MB | layerlab %7.3f s %7s MiB | tcpdump %7.3f s %7s MiB | ratio %5.2fx\n' \
    "$name" "$packets" "$(( $(stat -c %s "$file") / 1000000 ))" \
    "$o" "$(peak_mib $bin packet summary "$file")" \
    "$t" "$(peak_mib tcpdump -nn -r "$file")" \
    "$(echo "$t / $o" | bc -l)"
}

echo "median of $runs runs, TZ=UTC, output to /dev/null; peak RSS from /usr/bin/time -v"
old=$(mktemp "$tmp/layerlab-old-XXXX.pcap"); mix=$(mktemp "$tmp/layerlab-mix-XXXX.pcap")
trap 'rm -f "$old" "$mix"' EXIT
./target/release/examples/gen_capture "$old" 1000000 2>/dev/null
measure old "$old" 1000000
rm -f "$old"
for n in "${sizes[@]}"; do
  ./target/release/examples/gen_mix "$mix" "$n" 2>/dev/null
  measure mix "$mix" "$n"
done
