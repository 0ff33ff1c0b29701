#!/usr/bin/env bash
# Which capabilities does `layerlab serve --workshop` need inside a container?
#
#   sudo bash bench/capabilities.sh [path/to/layerlab]   (default target/release/layerlab)
#
# No container engine is needed: each trial imitates a Docker container
# around the real binary (own mount, PID, network, UTS and IPC namespaces;
# a fresh read-only /sys; /proc masked like Docker's default: /dev/null or an
# empty tmpfs over kcore, keys, timer_list, acpi, scsi ..., read-only
# /proc/sys, /proc/bus ...; the container's own cgroup bound at
# /sys/fs/cgroup/CONTROLLER, read-only like Docker's unless the trial says
# rw; private /run and /var/lib/layerlab), runs the server as root with the
# trial's capability bounding set, and drives one learner through the
# router lab over HTTP: join, start, a console command that makes a veth
# pair and lists iptables, every step solved and checked, then SIGTERM and
# a look for leftovers. It prints one table row per trial.
#
# The learner's steps are bench/workshop-client.sh (the whole router lab).
# Not imitated: Docker's seccomp profile and AppArmor (see
# docs/threat-model.md, "In a container"), Docker's /dev. cgroup v1 only
# (the machines this was written on); on v2 it stops with a message.
set -uo pipefail

BIN=$(realpath "${1:-target/release/layerlab}")
[ "$(id -u)" = 0 ] || { echo "run as root (it makes namespaces and cgroups)" >&2; exit 1; }
[ -x "$BIN" ] || { echo "no layerlab binary at $BIN: cargo build --release -p layerlab" >&2; exit 1; }
for t in unshare setpriv bwrap curl ip iptables; do
  command -v "$t" >/dev/null || { echo "missing $t" >&2; exit 1; }
done
if [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; then
  echo "this script imitates Docker on cgroup v1 only; this machine has cgroup v2" >&2
  exit 1
fi

# Docker's default capability set (moby's oci/caps defaults), lower case
# as setpriv spells them.
DOCKER_CAPS=(chown dac_override fowner fsetid kill setgid setuid setpcap
  net_bind_service net_raw sys_chroot mknod audit_write setfcap)
CONTROLLERS=(memory pids cpu)

CLIENT="$(cd "$(dirname "$0")" && pwd)/workshop-client.sh"
WORK=$(mktemp -d /tmp/layerlab-caps.XXXXXX)
cat >"$WORK/plan.toml" <<'EOF'
title = "capabilities bench"
labs = ["router"]
join_code = "capbench-2026"
idle_minutes = 30
EOF
chmod 755 "$WORK"
chmod 644 "$WORK/plan.toml"
trap 'rm -rf "$WORK"' EXIT

# The part that runs inside the imitated container: root with every
# capability until the server is started through setpriv.
cat >"$WORK/inside.sh" <<'INSIDE'
set -u
mount --make-rprivate /
mount -t proc -o nosuid,nodev,noexec proc /proc
ip link set lo up
hostname capbench
# Keep the container's own cgroups reachable before /sys is replaced.
mount -t tmpfs tmpfs "$WORK/stage"
for c in $CONTROLLERS; do
  mkdir -p "$WORK/stage/$c"
  mount --bind "/sys/fs/cgroup/$c/$CG" "$WORK/stage/$c"
done
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs /sys
mount -t tmpfs -o nosuid,nodev,noexec,mode=755 cgroup /sys/fs/cgroup
for c in $CONTROLLERS; do
  mkdir -p "/sys/fs/cgroup/$c"
  mount --move "$WORK/stage/$c" "/sys/fs/cgroup/$c"
  [ "$CGROUP" = ro ] && mount -o remount,bind,ro "/sys/fs/cgroup/$c"
done
mount -o remount,ro /sys/fs/cgroup
umount "$WORK/stage"
if [ "$PROC" = masked ]; then
  # Docker's default masked paths: files get /dev/null, folders an empty
  # read-only tmpfs; then its read-only paths.
  for p in asound acpi interrupts kcore keys latency_stats timer_list timer_stats sched_debug scsi; do
    if [ -d "/proc/$p" ]; then mount -t tmpfs -o ro tmpfs "/proc/$p"
    elif [ -e "/proc/$p" ]; then mount --bind /dev/null "/proc/$p"; fi
  done
  for p in bus fs irq sys sysrq-trigger; do
    [ -e "/proc/$p" ] || continue
    mount --bind "/proc/$p" "/proc/$p" && mount -o remount,bind,ro "/proc/$p"
  done
fi
# The image's own /run and the data volume.
mount -t tmpfs -o mode=755 tmpfs /run
mkdir -p /var/lib/layerlab
mount -t tmpfs -o mode=755 tmpfs /var/lib/layerlab

setpriv --bounding-set "-all${CAPS:+,+${CAPS//,/,+}}" --inh-caps -all $NNP -- \
  "$BIN" serve --workshop "$WORK/plan.toml" --data /var/lib/layerlab \
  --bind 127.0.0.1 --port 8080 >"$WORK/server.log" 2>&1 &
server=$!
B=http://127.0.0.1:8080
say() { echo "$1" >"$WORK/result"; }
fail() { say "$1"; kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null; exit 0; }
for _ in $(seq 100); do
  curl -sf -o /dev/null "$B/api/health" && break
  kill -0 "$server" 2>/dev/null || fail "server exits: $(grep -v '^$' "$WORK/server.log" | tail -1 | head -c 150)"
  sleep 0.1
done
result=$(bash "$CLIENT")
[ "$result" = works ] || fail "$result"
kill -TERM "$server"
wait "$server"
# Teardown must leave nothing: no sandbox processes (they run as the
# sandbox uid), cgroups or state folders.
sleep 0.2
procs=$(pgrep -u 65534 | wc -l)
cgroups=$(find /sys/fs/cgroup/pids -mindepth 2 -type d -path '*/layerlab/*' | wc -l)
folders=$(ls /run/layerlab/sandboxes 2>/dev/null | wc -l)
[ "$procs$cgroups$folders" = 000 ] ||
  { say "passes, but SIGTERM leaves $procs sandbox processes, $cgroups cgroups, $folders folders"; exit 0; }
say "works"
INSIDE

n=0
# trial LABEL CAPS CGROUP(ro|rw) PROC(masked|unconfined) [nnp]
trial() {
  local label=$1 caps=$2 cgroup=$3 proc=$4 nnp=${5:-}
  n=$((n + 1))
  local cg="layerlab-caps-$$-$n"
  rm -f "$WORK/result" "$WORK/jar" "$WORK/out" "$WORK/server.log"
  mkdir -p "$WORK/stage"
  for c in "${CONTROLLERS[@]}"; do mkdir -p "/sys/fs/cgroup/$c/$cg"; done
  (
    for c in "${CONTROLLERS[@]}"; do echo "$BASHPID" >"/sys/fs/cgroup/$c/$cg/cgroup.procs"; done
    exec env WORK="$WORK" BIN="$BIN" CLIENT="$CLIENT" CG="$cg" CGROUP="$cgroup" PROC="$proc" CAPS="$caps" \
      CONTROLLERS="${CONTROLLERS[*]}" NNP="${nnp:+--no-new-privs}" \
      timeout 300 unshare --mount --pid --net --uts --ipc --fork bash "$WORK/inside.sh"
  ) >/dev/null 2>&1
  local result
  result=$(cat "$WORK/result" 2>/dev/null || echo "no result (the imitation itself failed)")
  printf '| %-44s | %s |\n' "$label" "$result"
  # Whatever is left in the container's cgroups goes; then the cgroups.
  for c in "${CONTROLLERS[@]}"; do
    local d="/sys/fs/cgroup/$c/$cg"
    [ -d "$d" ] || continue
    find "$d" -depth -name cgroup.procs -exec cat {} + 2>/dev/null | xargs -r kill -9 2>/dev/null
    sleep 0.1
    find "$d" -depth -type d -exec rmdir {} \; 2>/dev/null
  done
}

join_caps() { local IFS=,; echo "$*"; }
ALL=$(join_caps "${DOCKER_CAPS[@]}")

echo "layerlab workshop server in an imitated container: $(uname -r), $("$BIN" --version 2>/dev/null)"
echo
echo "| container (capabilities; /sys/fs/cgroup; /proc) | router lab: join, start, console, 6 steps solved + checked, SIGTERM |"
echo "|---|---|"
trial "Docker's defaults (14 caps; ro; masked)" "$ALL" ro masked
trial "14 + sys_admin; ro; masked" "$ALL,sys_admin" ro masked
trial "14 + sys_admin; rw; masked" "$ALL,sys_admin" rw masked
trial "14 + sys_admin; ro; unmasked" "$ALL,sys_admin" ro unconfined
trial "14; rw; unmasked" "$ALL" rw unconfined
trial "14 + sys_admin; rw; unmasked" "$ALL,sys_admin" rw unconfined
trial "  ... and no-new-privileges" "$ALL,sys_admin" rw unconfined nnp
# Each capability of the working set left out in turn.
needed=()
for cap in "${DOCKER_CAPS[@]}" sys_admin; do
  rest=()
  for c in "${DOCKER_CAPS[@]}" sys_admin; do [ "$c" = "$cap" ] || rest+=("$c"); done
  trial "  without $cap" "$(join_caps "${rest[@]}")" rw unconfined
  grep -q '^works$' "$WORK/result" 2>/dev/null || needed+=("$cap")
done
trial "only $(join_caps "${needed[@]}"); rw; unmasked" "$(join_caps "${needed[@]}")" rw unconfined
trial "no capabilities; rw; unmasked" "" rw unconfined
