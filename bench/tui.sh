#!/usr/bin/env bash
# Measures the terminal tutor the way a learner meets it, in a real
# terminal (a private tmux server, 120×40):
#   - time from process start to the first frame, over RUNS runs
#     (LAYERLAB_EXIT_AFTER_FIRST_FRAME=1 exits right after the first draw,
#     so each run is start + first frame + terminal restore);
#   - max RSS (/usr/bin/time -v) over a short session: open a lesson,
#     page to its end, help, search, quit; and over a replayed capture
#     played to the end;
#   - CPU used over 10 s while idle, and over 10 s while a journey plays
#     at 4× (utime+stime from /proc/PID/stat).
# Goals: first frame ≤ 50 ms, max RSS ≤ 30 MB, idle CPU ~0.
#   bash bench/tui.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${1:-20}
for tool in tmux /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "$tool is needed: apt-get install -y tmux time" >&2; exit 1; }
done
cargo build -q --release -p layerlab
cargo build -q --release -p layerlab-core --example gen_capture
bin=$PWD/target/release/layerlab
capture=$PWD/core/tests/captures/vxlan.pcap
work=$(mktemp -d)
socket=layerlab-bench-$$
tm() { tmux -L "$socket" -f /dev/null "$@"; }
trap 'tm kill-server 2>/dev/null || true; rm -rf "$work"' EXIT
export LAYERLAB_DATA_DIR=$work/data

# Polls until the file exists or the screen shows the text; fails after 20 s.
wait_file() {
  for _ in $(seq 400); do [ -e "$1" ] && return 0; sleep 0.05; done
  echo "timed out waiting for $1" >&2; exit 1
}
wait_screen() {
  for _ in $(seq 400); do
    tm capture-pane -p -t bench 2>/dev/null | grep -qF -- "$1" && return 0
    sleep 0.05
  done
  echo "timed out waiting for \"$1\"; screen:" >&2; tm capture-pane -p -t bench >&2 || true; exit 1
}
wait_gone() {
  for _ in $(seq 400); do tm has-session -t bench 2>/dev/null || return 0; sleep 0.05; done
  echo "layerlab did not exit" >&2; exit 1
}
session() { tm new-session -d -x 120 -y 40 -s bench "$1"; }

# 1. Time to first frame. The loop runs inside the pane (a real pty);
# EPOCHREALTIME avoids forking a clock process around each run.
cat > "$work/first-frame.sh" <<EOF
export LAYERLAB_EXIT_AFTER_FIRST_FRAME=1
for i in \$(seq $runs); do
  s=\${EPOCHREALTIME/./}
  "$bin" || exit 1
  e=\${EPOCHREALTIME/./}
  echo \$(( e - s )) >> "$work/first-frame.us"
done
touch "$work/first-frame.done"
EOF
session "bash $work/first-frame.sh"
wait_file "$work/first-frame.done"
wait_gone
read -r ff_min ff_median ff_max < <(sort -n "$work/first-frame.us" | awk '
  { v[NR] = $1 } END { printf "%.1f %.1f %.1f\n", v[1] / 1000, v[int((NR + 1) / 2)] / 1000, v[NR] / 1000 }')
[ "$(wc -l < "$work/first-frame.us")" -eq "$runs" ] || { echo "not every run finished" >&2; exit 1; }

# 2. Max RSS of a reading session.
session "exec /usr/bin/time -v -o $work/tutor.time $bin"
wait_screen "? help"
tm send-keys -t bench G Enter           # the last lesson, then all of it page by page
wait_screen "%"
for _ in $(seq 60); do tm send-keys -t bench NPage; done
tm send-keys -t bench '?'
wait_screen "Keys · lesson"
# A lone Escape followed at once by a key would read as Alt+key: q closes help.
tm send-keys -t bench q
sleep 0.2
tm send-keys -t bench / t c p
wait_screen "matches"
tm send-keys -t bench C-c
wait_gone
wait_file "$work/tutor.time"
rss_tutor=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/tutor.time")

# 3. Max RSS of a replayed capture, played to the end at 4×.
session "exec /usr/bin/time -v -o $work/replay.time $bin packet replay $capture"
wait_screen "paused"
tm send-keys -t bench + + ' '
wait_screen "arrived"
tm send-keys -t bench q
wait_gone
wait_file "$work/replay.time"
rss_replay=$(awk -F: '/Maximum resident set size/ { gsub(/ /, "", $2); print $2 }' "$work/replay.time")

# 4. CPU over 10 s: idle on the course screen, then a journey playing at 4×.
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
hz=$(getconf CLK_TCK)
cpu_over_10s() { # pid → CPU seconds used in the next 10 s
  local a b
  a=$(ticks "$1"); sleep 10; b=$(ticks "$1")
  awk -v t=$((b - a)) -v hz="$hz" 'BEGIN { printf "%.2f", t / hz }'
}
session "exec $bin"
wait_screen "? help"
idle=$(cpu_over_10s "$(tm display-message -p -t bench '#{pane_pid}')")
tm send-keys -t bench C-c
wait_gone
# 100 packets: still playing after 10 s at 4× (half a second a hop).
./target/release/examples/gen_capture "$work/long.pcap" 100 >/dev/null 2>&1
session "exec $bin packet replay $work/long.pcap"
wait_screen "paused"
tm send-keys -t bench + + ' '
playing=$(cpu_over_10s "$(tm display-message -p -t bench '#{pane_pid}')")
tm send-keys -t bench q
wait_gone

printf 'first frame (start → first draw → exit), %d runs: min %s ms, median %s ms, max %s ms  (goal ≤ 50 ms)\n' \
  "$runs" "$ff_min" "$ff_median" "$ff_max"
printf 'max RSS, reading session:        %.1f MB  (goal ≤ 30 MB)\n' "$(echo "$rss_tutor / 1024" | bc -l)"
printf 'max RSS, capture replay:         %.1f MB\n' "$(echo "$rss_replay / 1024" | bc -l)"
printf 'CPU over 10 s idle:              %s s  (goal ~0)\n' "$idle"
printf 'CPU over 10 s, journey at 4×:    %s s\n' "$playing"
