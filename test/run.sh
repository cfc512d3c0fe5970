#!/usr/bin/env bash
# The one command that passes the tests on a fresh Debian machine: it installs what npm cannot
# (Chromium for the browser suite, dbus and python3-dbusmock for the timedatectl suite, strace for the
# journal's fsync-order test, iproute2 for the network-namespace suite), the npm packages, then runs every
# jest suite with `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v dbus-daemon >/dev/null 2>&1 || need+=(dbus)
/usr/bin/python3 -c 'import dbusmock' >/dev/null 2>&1 || need+=(python3-dbusmock)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v timedatectl >/dev/null 2>&1 || need+=(systemd)
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing Debian packages: ${need[*]}"
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -q
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "${need[@]}"
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm test
