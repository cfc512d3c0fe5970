#!/usr/bin/env bash
# Puts Pi Camera TimeSync on a Raspberry Pi (Raspberry Pi OS Bookworm): the server as the unprivileged
# system user "timesync", the polkit rule that lets it set the clock through systemd-timedated, and the
# cage + Chromium kiosk on tty1 as the user "timesync-kiosk".
#
#   sudo ./kiosk/install.sh            # from a checkout of this repository
#   sudo NO_KIOSK=1 ./kiosk/install.sh # server only (e.g. a Pi without a screen)
#   sudo SKIP_APT=1 ./kiosk/install.sh # do not install Debian packages
#
# Idempotent: running it again updates the app, the units and the rule, and keeps
# /etc/default/pi-camera-timesync and the data in /var/lib/pi-camera-timesync.
set -euo pipefail

APP_DIR=/opt/pi-camera-timesync
DATA_DIR=/var/lib/pi-camera-timesync
SERVICE_USER=timesync          # must match kiosk/polkit/50-pi-camera-timesync.rules and the unit
KIOSK_USER=timesync-kiosk      # must match kiosk/systemd/pi-camera-timesync-kiosk.service
KIOSK_HOME=/var/lib/timesync-kiosk
DEFAULTS=/etc/default/pi-camera-timesync
SRC=$(cd "$(dirname "$0")/.." && pwd)

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
die() { printf 'install.sh: %s\n' "$*" >&2; exit 1; }

[ "$(id -u)" -eq 0 ] || die "run as root: sudo $0"
[ -f "$SRC/package.json" ] && [ -f "$SRC/kiosk/polkit/50-pi-camera-timesync.rules" ] || die "run it from a checkout of the project ($SRC does not look like one)"
command -v systemctl >/dev/null || die "systemd is required"

# --- packages -------------------------------------------------------------------------------------
if [ "${SKIP_APT:-0}" != 1 ]; then
  say "Installing Debian packages"
  apt-get update
  packages=(curl rsync polkitd)
  if [ "${NO_KIOSK:-0}" != 1 ]; then
    packages+=(cage)
    # Keep the browser the image already has (chromium-browser on older Raspberry Pi OS images, chromium
    # on newer ones); otherwise install whichever name the archive knows.
    if ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
      if apt-cache show chromium >/dev/null 2>&1; then packages+=(chromium); else packages+=(chromium-browser); fi
    fi
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${packages[@]}"
fi

# Debian Bookworm's own nodejs is 18; the app needs 20.19 or newer (e.g. from NodeSource or nvm).
command -v node >/dev/null && command -v npm >/dev/null || die "Node.js >= 20.19 with npm is required (Bookworm's nodejs 18 is too old); install it first, e.g. from https://github.com/nodesource/distributions"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || die "Node.js >= 20.19 is required, found $(node --version)"
NODE_BIN=$(command -v node)
case "$NODE_BIN" in
  /home/* | /root/*) die "node is at $NODE_BIN; the service runs with ProtectHome=yes and cannot see it: install Node.js system-wide (e.g. NodeSource, /usr/bin/node)" ;;
esac

# --- users ------------------------------------------------------------------------------------------
say "Users"
if ! id -u "$SERVICE_USER" >/dev/null 2>&1; then
  useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin \
    --comment "Pi Camera TimeSync server" "$SERVICE_USER"
fi
if [ "${NO_KIOSK:-0}" != 1 ]; then
  if ! id -u "$KIOSK_USER" >/dev/null 2>&1; then
    # A home for Chromium's profile; no password, no login shell.
    useradd --system --user-group --create-home --home-dir "$KIOSK_HOME" --shell /usr/sbin/nologin \
      --comment "Pi Camera TimeSync kiosk screen" "$KIOSK_USER"
  fi
  for group in video render input; do
    if getent group "$group" >/dev/null; then usermod -a -G "$group" "$KIOSK_USER"; fi
  done
fi

# --- the app ----------------------------------------------------------------------------------------
say "Installing the app in $APP_DIR"
install -d -o root -g root -m 0755 "$APP_DIR"
# Owned by root: the service user can read and run the code but not change it.
rsync -a --delete --chown=root:root \
  --exclude=.git/ --exclude=node_modules/ --exclude=dist/ --exclude=data/ --exclude=coverage/ \
  "$SRC/" "$APP_DIR/"
rm -rf "$APP_DIR/dist" # no stale compiled files from an older version
(
  cd "$APP_DIR"
  npm ci --no-audit --no-fund
  npm run build
  npm prune --omit=dev --no-audit --no-fund
)
chmod 0755 "$APP_DIR/kiosk/launch-kiosk.sh"
install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0750 "$DATA_DIR"

if [ ! -e "$DEFAULTS" ]; then
  cat >"$DEFAULTS" <<'DEFAULTS_EOF'
# Settings of Pi Camera TimeSync (read by both units). See README.md for all variables.
# PORT=80
# AP_INTERFACE=wlan0
# AP_SUBNETS=10.42.0.0/24
# CAMERA_URL=http://192.168.4.2:8080
# TIME_SYNC_THRESHOLD=1000
# KIOSK_EXTRA_FLAGS=--force-device-scale-factor=1.25
DEFAULTS_EOF
  chmod 0644 "$DEFAULTS"
fi

# --- permission to set the clock ---------------------------------------------------------------------
say "polkit rule: $SERVICE_USER may set the time, the time zone and NTP"
install -d -m 0755 /etc/polkit-1/rules.d
install -m 0644 "$SRC/kiosk/polkit/50-pi-camera-timesync.rules" /etc/polkit-1/rules.d/50-pi-camera-timesync.rules
# polkitd watches rules.d, but restart it in case it was installed just now.
systemctl try-restart polkit.service || true

# --- units ------------------------------------------------------------------------------------------
say "systemd units"
sed "s#^ExecStart=/usr/bin/node #ExecStart=$NODE_BIN #" "$SRC/kiosk/systemd/pi-camera-timesync.service" \
  >/etc/systemd/system/pi-camera-timesync.service
chmod 0644 /etc/systemd/system/pi-camera-timesync.service
if [ "${NO_KIOSK:-0}" != 1 ]; then
  install -m 0644 "$SRC/kiosk/systemd/pi-camera-timesync-kiosk.service" /etc/systemd/system/pi-camera-timesync-kiosk.service
fi
systemctl daemon-reload
systemctl enable pi-camera-timesync.service
systemctl restart pi-camera-timesync.service
if [ "${NO_KIOSK:-0}" != 1 ]; then
  systemctl enable pi-camera-timesync-kiosk.service
  if systemctl is-enabled --quiet display-manager.service 2>/dev/null; then
    echo "Note: a desktop (display-manager.service) is enabled; it competes with the kiosk for the screen."
    echo "      For a kiosk-only Pi: sudo systemctl disable display-manager.service (or raspi-config: boot to console)."
  fi
  systemctl restart pi-camera-timesync-kiosk.service || echo "The kiosk starts at the next boot."
fi

port=$(sed -n 's/^PORT=//p' "$DEFAULTS" | tail -n 1)
say "Done. Server: http://$(hostname -I 2>/dev/null | awk '{print $1}'):${port:-80}/  (logs: journalctl -u pi-camera-timesync)"
