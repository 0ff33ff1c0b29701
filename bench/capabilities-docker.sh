#!/usr/bin/env bash
# The workshop server under a real Docker engine, with the flags
# docs/threat-model.md recommends and with each one taken away.
#
#   bash bench/capabilities-docker.sh IMAGE [path/to/layerlab]
#
# DEFAULT_PROFILE=path/to/moby/default.json adds the runs with the workshop
# seccomp profile. IMAGE is any Debian bookworm image with the lab tools (the Dockerfile's
# runtime stage, or one made by hand); the binary is bound in read-only, so
# it can be a fresh build. cgroup v1 hosts: the sandboxes' cgroups go in a
# subtree this script makes on the host and binds in (Docker mounts the
# container's own cgroups read-only); cgroup v2 hosts: Docker >= 28's
# `--security-opt writable-cgroups=true` with `--cgroupns=private` and the
# image's layerlab-workshop entrypoint. Prints one table row per run.
set -uo pipefail

IMAGE=${1:?usage: capabilities-docker.sh IMAGE [layerlab binary]}
BIN=$(realpath "${2:-target/release/layerlab}")
HERE=$(cd "$(dirname "$0")/.." && pwd)
WORK=$(mktemp -d /tmp/layerlab-docker.XXXXXX)
chmod 755 "$WORK"
cat >"$WORK/workshop.toml" <<'EOF'
title = "capabilities bench"
labs = ["router"]
join_code = "capbench-2026"
EOF
chmod 644 "$WORK/workshop.toml"
ENTRY="$HERE/docker/workshop-entrypoint.sh"

V1=true
[ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ] && V1=false
CG=layerlab-docker-$$
cleanup() {
  if $V1; then
    for c in memory pids cpu; do
      find "/sys/fs/cgroup/$c/$CG" -depth -type d -exec rmdir {} \; 2>/dev/null
    done
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# run LABEL DOCKER-RUN-FLAGS...
run() {
  local label=$1
  shift
  local name="layerlab-caps-$$"
  docker rm -f "$name" >/dev/null 2>&1
  if ! docker run -d --name "$name" --network none \
    -v "$BIN:/usr/local/bin/layerlab:ro" -v "$ENTRY:/usr/local/bin/layerlab-workshop:ro" \
    -v "$WORK/workshop.toml:/etc/layerlab/workshop.toml:ro" -v "$HERE/bench/workshop-client.sh:/client.sh:ro" \
    --entrypoint layerlab "$@" "$IMAGE" serve --workshop /etc/layerlab/workshop.toml --bind 127.0.0.1 >/dev/null 2>"$WORK/err"; then
    printf '| %-58s | docker run: %s |\n' "$label" "$(grep -v 'docker run --help' "$WORK/err" | tail -1 | head -c 150)"
    docker rm -f "$name" >/dev/null 2>&1
    return
  fi
  sleep 1
  local result
  if [ "$(docker inspect -f '{{.State.Running}}' "$name")" != true ]; then
    result="server exits: $(docker logs "$name" 2>&1 | grep -v '^$' | tail -1 | head -c 150)"
  else
    result=$(docker exec "$name" bash /client.sh 2>&1 | tail -1)
    docker stop -t 10 "$name" >/dev/null
    if [ "$result" = works ] && ! docker logs "$name" 2>&1 | grep -q "sandbox removed"; then
      result="passes, but the sandbox was not removed at SIGTERM"
    fi
  fi
  docker rm -f "$name" >/dev/null 2>&1
  printf '| %-58s | %s |\n' "$label" "$result"
}

if $V1; then
  # A subtree of the host's cgroups for the sandboxes, bound over the
  # container's read-only ones; LAYERLAB_CGROUP_PARENT=/ puts the sandbox
  # cgroups at its top.
  CGFLAGS=(-e LAYERLAB_CGROUP_PARENT=/)
  for c in memory pids cpu; do
    mkdir -p "/sys/fs/cgroup/$c/$CG"
    CGFLAGS+=(-v "/sys/fs/cgroup/$c/$CG:/sys/fs/cgroup/$c")
  done
else
  CGFLAGS=(--cgroupns=private --security-opt writable-cgroups=true --entrypoint layerlab-workshop)
fi
CAPS=(--cap-drop ALL --cap-add SETUID --cap-add SETGID --cap-add DAC_OVERRIDE --cap-add KILL --cap-add SYS_ADMIN)
# The workshop profile is made from Docker's default (DEFAULT_PROFILE: the
# moby release's profiles/seccomp/default.json) with docker/seccomp-workshop.jq.
SECCOMP=()
if [ -n "${DEFAULT_PROFILE:-}" ]; then
  jq -f "$HERE/docker/seccomp-workshop.jq" "$DEFAULT_PROFILE" >"$WORK/seccomp-workshop.json" || exit 1
  SECCOMP=(--security-opt "seccomp=$WORK/seccomp-workshop.json")
fi

echo "Docker $(docker version --format '{{.Server.Version}}'), $(uname -r), cgroup $($V1 && echo v1 || echo v2)"
echo
echo "| docker run flags | router lab: join, start, console, 6 steps solved + checked, SIGTERM |"
echo "|---|---|"
run "defaults (as root)" -u 0
run "+ writable cgroups" -u 0 "${CGFLAGS[@]}"
run "+ systempaths=unconfined" -u 0 "${CGFLAGS[@]}" --security-opt systempaths=unconfined
run "+ cap-add SYS_ADMIN, Docker's seccomp profile" -u 0 "${CGFLAGS[@]}" --security-opt systempaths=unconfined --cap-add SYS_ADMIN
run "+ cap-add SYS_ADMIN, seccomp=unconfined" -u 0 "${CGFLAGS[@]}" --security-opt systempaths=unconfined --cap-add SYS_ADMIN --security-opt seccomp=unconfined
run "cap-drop ALL + 5, seccomp=unconfined" -u 0 "${CGFLAGS[@]}" --security-opt systempaths=unconfined "${CAPS[@]}" --security-opt seccomp=unconfined
run "cap-drop ALL + 5, seccomp=unconfined, masked /proc" -u 0 "${CGFLAGS[@]}" "${CAPS[@]}" --security-opt seccomp=unconfined
run "cap-drop ALL + 5, seccomp=unconfined, no-new-privileges" -u 0 "${CGFLAGS[@]}" --security-opt systempaths=unconfined "${CAPS[@]}" --security-opt seccomp=unconfined --security-opt no-new-privileges
if [ ${#SECCOMP[@]} -gt 0 ]; then
  run "cap-drop ALL + 5, seccomp-workshop (recommended)" -u 0 "${CGFLAGS[@]}" --security-opt systempaths=unconfined "${CAPS[@]}" "${SECCOMP[@]}"
  run "cap-drop ALL + 4 (no SYS_ADMIN), seccomp-workshop" -u 0 "${CGFLAGS[@]}" --security-opt systempaths=unconfined \
    --cap-drop ALL --cap-add SETUID --cap-add SETGID --cap-add DAC_OVERRIDE --cap-add KILL "${SECCOMP[@]}"
fi
run "recommended, but as the image's user 10001" -u 10001 "${CGFLAGS[@]}" --security-opt systempaths=unconfined "${CAPS[@]}" --security-opt seccomp=unconfined

# LABS_TEST=target/debug/deps/linux_labs-HASH (from `cargo test -p layerlab
# --test linux_labs --no-run`): every sandbox lab, fail -> solve -> pass, in
# confined sandboxes inside the recommended container. The workspace is
# bound in at its own path, where the test binary expects it.
if [ -n "${LABS_TEST:-}" ] && [ ${#SECCOMP[@]} -gt 0 ]; then
  t=$(realpath "$LABS_TEST")
  out=$(docker run --rm --network none -u 0 "${CAPS[@]}" "${SECCOMP[@]}" \
    --security-opt systempaths=unconfined "${CGFLAGS[@]}" \
    -v "$HERE:$HERE:ro" -e LAYERLAB_CONFINED_LABS=all --entrypoint "$t" "$IMAGE" \
    labs_pass_in_confined_sandboxes_too_router_and_dnat_by_default --exact 2>&1 | grep '^test result')
  printf '| %-58s | %s |\n' "recommended: every sandbox lab (linux_labs, confined)" "${out:-the test did not run}"
fi
