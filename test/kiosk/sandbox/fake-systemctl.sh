#!/bin/sh
# systemctl inside the root sandbox (root-sandbox.sh), where no systemd runs as PID 1:
#   enable, disable, is-enabled, set-default, get-default: the real systemctl, offline (the same links);
#   start, stop, restart, try-restart, is-active: runs a unit's ExecStart= as systemd would for our simple
#     units: as User=/Group= with AmbientCapabilities=, Environment=, EnvironmentFile=, WorkingDirectory=;
#     a unit that needs a seat (Conflicts=getty@tty1.service, the kiosk) is only recorded, and so is a unit that
#     keeps the clock (chrony): the sandbox shares this machine's clock;
#   daemon-reload, reset-failed: nothing to do.
# Every call is appended to /run/fake-systemd/calls.log.
set -eu

state=/run/fake-systemd
mkdir -p "$state"
echo "$*" >>"$state/calls.log"

quiet=0
command=''
set -- "$@" --end--
while [ "$1" != --end-- ]; do
  case "$1" in
    -q | --quiet) quiet=1 ;;
    --no-pager | --no-block | --now) ;;
    *) if [ -z "$command" ]; then command=$1; else set -- "$@" "$1"; fi ;;
  esac
  shift
done
shift

unit_value() { # FILE KEY: every value of KEY=
  sed -n "s/^$2=//p" "$1"
}

pid_of() { cat "$state/$1.pid" 2>/dev/null || true; }
alive() { pid=$(pid_of "$1"); [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; }

start() {
  # A unit that keeps the clock (chrony, ntpd, timesyncd) would move the machine's clock: the sandbox shares it.
  case "$1" in
    chrony.service | chronyd.service | ntp*.service | systemd-timesyncd.service)
      echo "fake-systemctl: $1 keeps the clock; recorded, never started here" >&2
      return 0
      ;;
  esac
  file=/etc/systemd/system/$1
  [ -f "$file" ] || { echo "Unit $1 not found." >&2; return 5; }
  alive "$1" && return 0
  if grep -q '^Conflicts=getty@tty1.service' "$file"; then
    echo "fake-systemctl: $1 needs a seat and a screen; recorded, not started" >&2
    return 0
  fi
  user=$(unit_value "$file" User | tail -n 1)
  group=$(unit_value "$file" Group | tail -n 1)
  dir=$(unit_value "$file" WorkingDirectory | tail -n 1)
  exec_start=$(unit_value "$file" ExecStart | tail -n 1)
  envs=$(unit_value "$file" Environment)
  env_file=$(unit_value "$file" EnvironmentFile | tail -n 1 | sed 's/^-//')
  if [ -n "$env_file" ] && [ -r "$env_file" ]; then
    envs="$envs
$(grep -E '^[A-Za-z_][A-Za-z0-9_]*=' "$env_file" || true)"
  fi
  caps=''
  if unit_value "$file" AmbientCapabilities | grep -q CAP_NET_BIND_SERVICE; then
    caps='--inh-caps=+net_bind_service --ambient-caps=+net_bind_service'
  fi
  printf '%s\n' "$envs" | grep . >"$state/$1.env" || true
  # shellcheck disable=SC2086 # exec_start and caps are word lists on purpose
  setsid sh -c 'echo $$ >"$0"; cd "$1"; shift; exec "$@"' "$state/$1.pid" "${dir:-/}" \
    setpriv --reuid="${user:-root}" --regid="${group:-${user:-root}}" --init-groups $caps -- \
    sh -c 'set -a; . "$0"; exec "$@"' "$state/$1.env" $exec_start \
    >>"$state/$1.log" 2>&1 </dev/null 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&- &
  i=0
  while [ ! -s "$state/$1.pid" ] && [ $i -lt 50 ]; do sleep 0.05; i=$((i + 1)); done
}

stop() {
  pid=$(pid_of "$1")
  [ -n "$pid" ] || return 0
  kill -TERM "$pid" 2>/dev/null || true
  i=0
  while kill -0 "$pid" 2>/dev/null && [ $i -lt 100 ]; do sleep 0.05; i=$((i + 1)); done
  kill -KILL "$pid" 2>/dev/null || true
  rm -f "$state/$1.pid"
}

case "$command" in
  enable | disable | is-enabled | set-default | get-default | preset | reenable)
    [ "$quiet" = 0 ] || set -- --quiet "$@"
    SYSTEMD_OFFLINE=1 exec /usr/bin/systemctl "$command" "$@"
    ;;
  daemon-reload | reset-failed) ;;
  is-system-running) echo offline; exit 1 ;;
  is-active)
    for unit in "$@"; do
      if alive "$unit"; then [ "$quiet" = 1 ] || echo active; else [ "$quiet" = 1 ] || echo inactive; exit 3; fi
    done
    ;;
  start) for unit in "$@"; do start "$unit"; done ;;
  stop) for unit in "$@"; do stop "$unit"; done ;;
  restart) for unit in "$@"; do stop "$unit"; start "$unit"; done ;;
  try-restart) for unit in "$@"; do if alive "$unit"; then stop "$unit"; start "$unit"; fi; done ;;
  *) echo "fake-systemctl: $command is not part of this stand-in" >&2; exit 1 ;;
esac
