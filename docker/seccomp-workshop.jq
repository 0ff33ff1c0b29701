# Docker's default seccomp profile, plus the system calls that confined lab
# sandboxes make (bubblewrap, unshare, nsenter, `ip netns`), allowed
# whatever the container's capabilities. Docker's default allows most of
# these only to containers with CAP_SYS_ADMIN, chroot (`nsenter -r`) only
# with CAP_SYS_CHROOT, and pivot_root (bubblewrap switches into the
# sandbox's root with it) to none.
#
#   jq -f docker/seccomp-workshop.jq default.json > seccomp-workshop.json
#
# default.json is profiles/seccomp/default.json of the moby release your
# Docker runs (`docker version` names it). In the kernel these calls still
# need capabilities, which the sandbox has only inside its own user
# namespace: what this opens is the kernel code behind namespaces and
# mounts, not the host. See docs/threat-model.md.
if (.syscalls | type) != "array" then
  error("not a Docker seccomp profile: no `syscalls` list")
else
  .syscalls += [{
    "names": ["chroot", "clone", "mount", "pivot_root", "setns", "sethostname", "umount2", "unshare"],
    "action": "SCMP_ACT_ALLOW",
    "comment": "layerlab workshop: namespaces and mounts for confined lab sandboxes"
  }]
end
