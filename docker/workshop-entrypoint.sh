#!/bin/sh
# Entrypoint for `serve --workshop` in a container (the image installs it
# as /usr/local/bin/layerlab-workshop). On cgroup v2 with a private,
# writable cgroup namespace (`--cgroupns=private --security-opt
# writable-cgroups=true`), the container's cgroup is the root of its
# namespace, and cgroup v2 lets a cgroup hand controllers to children only
# while it holds no processes itself: so the server first moves into a leaf
# of its own (`server`), next to the `layerlab` subtree its sandboxes go in.
# Anywhere else (cgroup v1, read-only cgroups) it only starts the server.
set -eu
root=/sys/fs/cgroup
if [ "$(stat -f -c %T "$root" 2>/dev/null)" = cgroup2fs ] && [ -w "$root/cgroup.procs" ]; then
  mkdir -p "$root/server"
  for pid in $(cat "$root/cgroup.procs"); do
    echo "$pid" >"$root/server/cgroup.procs" 2>/dev/null || true
  done
fi
exec layerlab "$@"
