#!/usr/bin/env bash
# The one command that passes the tests on a fresh Debian machine: it installs what npm cannot
# (Chromium for the browser suite, dbus and python3-dbusmock for the timedatectl suite, strace for the
# journal's fsync-order test; exiftool for the photo-fix suite; ImageMagick for the slate's photos; shellcheck, polkitd, duktape, iw, iproute2 and curl
# for the kiosk suite; iproute2 also for the network-namespace reliability suite; gpsd and python3-gps (gpsfake's
# engine, without the gpsd-clients package that holds the gpsfake script) for the GPS integration suite and bench;
# chrony (chronyd, only ever started with -x so it never touches this machine's clock, and chronyc) for the
# time-server integration suite and bench;
# WebKitGTK's WebDriver, Xvfb and Firefox ESR for the browser-engines suite; cog and WPEWebDriver for the kiosk
# on small Pis),
# the npm packages, then runs every jest suite with `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
[ -x /usr/bin/chromium ] || need+=(chromium)
command -v dbus-daemon >/dev/null 2>&1 || need+=(dbus)
/usr/bin/python3 -c 'import dbusmock' >/dev/null 2>&1 || need+=(python3-dbusmock)
command -v unshare >/dev/null 2>&1 || need+=(util-linux)
command -v timedatectl >/dev/null 2>&1 || need+=(systemd)
command -v strace >/dev/null 2>&1 || need+=(strace)
command -v exiftool >/dev/null 2>&1 || need+=(libimage-exiftool-perl)
# The time slate's photos are degraded as a camera would by Debian's ImageMagick (/usr/bin/convert: a `convert`
# earlier on PATH may be something else).
/usr/bin/convert -version 2>/dev/null | grep -q ImageMagick || need+=(imagemagick)
command -v shellcheck >/dev/null 2>&1 || need+=(shellcheck)
[ -x /usr/lib/polkit-1/polkitd ] && command -v pkcheck >/dev/null 2>&1 || need+=(polkitd)
command -v duk >/dev/null 2>&1 || need+=(duktape)
command -v iw >/dev/null 2>&1 || need+=(iw)
command -v ip >/dev/null 2>&1 || need+=(iproute2)
command -v curl >/dev/null 2>&1 || need+=(curl)
[ -x /usr/sbin/gpsd ] || need+=(gpsd)
/usr/bin/python3 -c 'import gps.fake' >/dev/null 2>&1 || need+=(python3-gps)
[ -x /usr/sbin/chronyd ] && [ -x /usr/bin/chronyc ] || need+=(chrony)
# The phone's other engines (test/browser-engines). Wanted, not needed: a package the mirror lacks leaves its
# engine out, and that suite says which one and why (ENGINES_REQUIRED=1 makes it fail instead).
want=()
[ -x /usr/bin/WebKitWebDriver ] || want+=(webkit2gtk-driver)
[ -x /usr/bin/Xvfb ] || want+=(xvfb)
[ -x /usr/bin/firefox-esr ] || want+=(firefox-esr)
# WPE WebKit for the kiosk on small Pis (test/kiosk/cog-kiosk.kiosk-spec.ts, the kiosk-memory bench).
[ -x /usr/bin/cog ] || want+=(cog)
[ -x /usr/bin/WPEWebDriver ] || want+=(wpewebkit-driver)
if [ $((${#need[@]} + ${#want[@]})) -gt 0 ]; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  apt_install() { DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -q --no-install-recommends "$@"; }
  started=$SECONDS
  $SUDO apt-get update -q
  if [ ${#need[@]} -gt 0 ]; then
    echo "Installing Debian packages: ${need[*]}"
    apt_install "${need[@]}"
  fi
  if [ ${#want[@]} -gt 0 ]; then
    echo "Installing Debian packages for the browser-engines suite: ${want[*]}"
    apt_install "${want[@]}" || for p in "${want[@]}"; do apt_install "$p" || echo "WARNING: could not install $p: its engine will be skipped"; done
  fi
  echo "Debian packages installed in $((SECONDS - started)) s"
fi

if [ -f package-lock.json ]; then npm ci --no-audit --no-fund; else npm install --no-audit --no-fund; fi
npm test
