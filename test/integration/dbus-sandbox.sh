#!/bin/sh
# A private world for the real `timedatectl`: its own mount namespace (an empty folder over /run, holding only
# /run/systemd/system so timedatectl agrees to run), its own system bus, and python3-dbusmock's `timedated`
# template answering as org.freedesktop.timedate1 and logging every call. Nothing outside changes: the host's
# /run, system bus, clock and zone are out of reach (no real timedated is reachable from inside).
#
# Usage: dbus-sandbox.sh WORKDIR
#   Prints `READY pid=<pid in the namespace> address=<bus address>` on stdout once the mock answers, then waits
#   until its stdin is closed (or it gets SIGTERM/SIGINT) and tears everything down. Commands run inside with
#   `nsenter --target <pid> --mount -- env DBUS_SYSTEM_BUS_ADDRESS=<address> <command...>`.
#   WORKDIR/calls.log is the mock's call log ("<epoch> SetTime 1795... False False").
#
# The stock template accepts SetTime whatever the NTP state; real timedated refuses it with
# "Automatic time synchronization is enabled" while NTP is on, and for a moment after it was turned off.
# SetTime, SetNTP and SetTimezone are replaced (dbusmock AddMethod) to behave that way; the control method
# org.pi_camera_timesync.TimedatedMock.Prepare(ntp, ntpSynchronized, timezone, refusalSeconds, deny) sets
# the scenario: refusalSeconds is how long SetTime keeps refusing after SetNTP(false) (negative: for ever,
# as with an NTP unit that does not stop); deny makes the three setters answer as timedated does when
# polkit does not allow the caller ("Interactive authentication required.").
set -eu

work=${1:?usage: dbus-sandbox.sh WORKDIR}

if [ "${DBUS_SANDBOX_INSIDE:-}" != 1 ]; then
  # --propagation private: the bind mount below never leaks to the host's mount table.
  exec env DBUS_SANDBOX_INSIDE=1 unshare --mount --propagation private -- sh "$0" "$@"
fi

mkdir -p "$work/run/systemd/system"
mount --bind "$work/run" /run

socket="$work/system_bus_socket"
cat > "$work/bus.conf" <<CONF
<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=$socket</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
CONF

bus_pid=''
mock_pid=''
cleanup() {
  [ -n "$mock_pid" ] && kill "$mock_pid" 2>/dev/null || true
  [ -n "$bus_pid" ] && kill "$bus_pid" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

dbus-daemon --config-file="$work/bus.conf" --nofork --nopidfile >"$work/dbus-daemon.log" 2>&1 &
bus_pid=$!
DBUS_SYSTEM_BUS_ADDRESS="unix:path=$socket"
export DBUS_SYSTEM_BUS_ADDRESS

i=0
until [ -S "$socket" ]; do
  i=$((i + 1)); [ "$i" -le 100 ] || { echo "dbus-daemon did not start: $(cat "$work/dbus-daemon.log")" >&2; exit 1; }
  sleep 0.05
done

# Debian's python, where apt installed python3-dbusmock (not a pyenv python earlier on PATH).
env -u PYTHONPATH -u PYTHONHOME /usr/bin/python3 -m dbusmock --system --template timedated -l "$work/calls.log" \
  >"$work/dbusmock.log" 2>&1 &
mock_pid=$!

owned() {
  dbus-send --system --print-reply --dest=org.freedesktop.DBus /org/freedesktop/DBus \
    org.freedesktop.DBus.NameHasOwner string:org.freedesktop.timedate1 2>/dev/null | grep -q 'boolean true'
}
i=0
until owned; do
  i=$((i + 1)); [ "$i" -le 200 ] || { echo "dbusmock did not start: $(cat "$work/dbusmock.log")" >&2; exit 1; }
  kill -0 "$mock_pid" 2>/dev/null || { echo "dbusmock exited: $(cat "$work/dbusmock.log")" >&2; exit 1; }
  sleep 0.05
done

add_method() { # INTERFACE NAME IN_SIG CODE
  dbus-send --system --print-reply=literal --dest=org.freedesktop.timedate1 /org/freedesktop/timedate1 \
    org.freedesktop.DBus.Mock.AddMethod string:"$1" string:"$2" string:"$3" string: string:"$4" >/dev/null
}

# Real timedated answers a caller polkit does not allow (interactive=false) like this.
deny='if getattr(self, "deny", False): raise dbus.exceptions.DBusException("Interactive authentication required.", name="org.freedesktop.DBus.Error.InteractiveAuthorizationRequired")'

add_method org.freedesktop.timedate1 SetTime xbb "$deny
$(cat <<'PY'
hold = getattr(self, 'refusal_after_ntp_off', 0.0)
off_at = getattr(self, 'ntp_off_at', None)
stopping = off_at is not None and (hold < 0 or time.monotonic() - off_at < hold)
if self.Get('org.freedesktop.timedate1', 'NTP') or stopping:
    raise dbus.exceptions.DBusException('Automatic time synchronization is enabled',
                                        name='org.freedesktop.timedate1.AutomaticTimeSyncEnabled')
PY
)"

add_method org.freedesktop.timedate1 SetNTP bb "$deny
$(cat <<'PY'
self.Set('org.freedesktop.timedate1', 'NTP', args[0])
if not args[0]:
    self.Set('org.freedesktop.timedate1', 'NTPSynchronized', False)
self.ntp_off_at = None if args[0] else time.monotonic()
PY
)"

add_method org.freedesktop.timedate1 SetTimezone sb "$deny
self.Set('org.freedesktop.timedate1', 'Timezone', args[0])"

add_method org.pi_camera_timesync.TimedatedMock Prepare bbsdb "$(cat <<'PY'
self.Set('org.freedesktop.timedate1', 'NTP', args[0])
self.Set('org.freedesktop.timedate1', 'NTPSynchronized', args[1])
self.Set('org.freedesktop.timedate1', 'Timezone', args[2])
self.refusal_after_ntp_off = float(args[3])
self.deny = bool(args[4])
self.ntp_off_at = None
PY
)"

echo "READY pid=$$ address=$DBUS_SYSTEM_BUS_ADDRESS"

# Stay up until the test closes our stdin.
cat >/dev/null || true
