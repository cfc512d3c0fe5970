#!/bin/sh
# A throwaway copy of this machine's root to install the bundle into for real: an overlay of / with its
# changes in a tmpfs, in private mount, network and PID namespaces. The machine's own /etc, /opt, users,
# services and network are out of reach; everything started inside ends with the namespace.
#
# Usage: root-sandbox.sh WORKDIR
#   Prints `READY pid=<pid> root=<root> upper=<upper>` once the root is ready, then waits until its stdin is
#   closed (or SIGTERM/SIGINT) and everything goes away. Commands run inside with
#     nsenter --target=<pid> --mount --net --pid -- chroot <root> <command...>
#   <upper> (visible inside the mount namespace only) holds every file the sandbox changed: the test reads
#   it to find what an uninstall left behind.
#   Inside, `systemctl` is test/kiosk/sandbox/fake-systemctl.sh (no systemd runs as PID 1 here).
set -eu

work=${1:?usage: root-sandbox.sh WORKDIR}
here=$(cd "$(dirname "$0")" && pwd)

if [ "${ROOT_SANDBOX_INSIDE:-}" != 1 ]; then
  # --propagation private: none of the mounts below reaches the machine's mount table.
  exec env ROOT_SANDBOX_INSIDE=1 unshare --mount --net --pid --fork --propagation private -- sh "$0" "$@"
fi

layers="$work/layers"
mkdir -p "$layers"
mount -t tmpfs -o size=3g,mode=0755 root-sandbox "$layers"
mkdir "$layers/upper" "$layers/work" "$layers/root"
mount -t overlay root-sandbox -o "lowerdir=/,upperdir=$layers/upper,workdir=$layers/work" "$layers/root"
root="$layers/root"
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
mount --rbind /sys "$root/sys"
mount -t tmpfs -o mode=0755 run "$root/run"
mount -t tmpfs -o mode=1777 tmp "$root/tmp"
# The tests run this checkout's kiosk/ scripts inside the root: a checkout under /tmp (a CI clone) would be
# hidden by the fresh /tmp, so it is bound back in at the same path.
repo=$(cd "$here/../../.." && pwd)
case "$repo" in
  /tmp/*) mkdir -p "$root$repo" && mount --bind "$repo" "$root$repo" ;;
esac
mkdir -p "$root/run/lock"
# The stand-in for systemctl comes first on PATH (/usr/local/sbin); the real one stays in /usr/bin.
mkdir -p "$root/usr/local/sbin"
cp "$here/fake-systemctl.sh" "$root/usr/local/sbin/systemctl"
chmod 0755 "$root/usr/local/sbin/systemctl"
ip link set lo up

# Our PID as the machine sees it (nsenter needs it; $$ is 1 in here): /proc is still the machine's.
host_pid=''
while read -r key first _; do
  if [ "$key" = NSpid: ]; then host_pid=$first; fi
done </proc/self/status

trap 'exit 143' TERM
trap 'exit 130' INT
echo "READY pid=$host_pid root=$root upper=$layers/upper"
cat >/dev/null || true
