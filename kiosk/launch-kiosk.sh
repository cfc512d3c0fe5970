#!/bin/sh
# Runs inside cage (kiosk/systemd/pi-camera-timesync-kiosk.service): waits until the local server answers
# its health URL, then becomes Chromium in kiosk mode. Waiting first matters: Chromium started too early
# would sit on an error page; the app page itself reconnects its WebSocket when the server restarts later.
#
# Settings (from /etc/default/pi-camera-timesync or the environment):
#   PORT                 the server's port (80)
#   KIOSK_TOKEN_FILE     the kiosk secret the server writes at its first start ($DATA_DIR/kiosk-token,
#                        DATA_DIR /var/lib/pi-camera-timesync); readable by this user through the service's group
#   KIOSK_URL            page to show (http://localhost:$PORT/?kiosk=<the secret>: the page is then the Pi's own
#                        screen, which may set the time by hand and is never taken as a time source)
#   KIOSK_HEALTH_URL     URL that answers 2xx once the server is up (http://127.0.0.1:$PORT/api/health)
#   KIOSK_EXTRA_FLAGS    more Chromium flags, space-separated (e.g. "--force-device-scale-factor=1.25")
set -eu

port=${PORT:-80}
token_file=${KIOSK_TOKEN_FILE:-${DATA_DIR:-/var/lib/pi-camera-timesync}/kiosk-token}
health_url=${KIOSK_HEALTH_URL:-http://127.0.0.1:$port/api/health}

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  echo "launch-kiosk: neither chromium nor chromium-browser is installed" >&2
  exit 1
fi

waited=0
until curl --silent --fail --max-time 2 --output /dev/null "$health_url"; do
  if [ $((waited % 30)) -eq 0 ]; then
    echo "launch-kiosk: waiting for $health_url (${waited}s)" >&2
  fi
  sleep 1
  waited=$((waited + 1))
done

# Read after the server answers: it writes the secret at its first start. Never printed.
url=${KIOSK_URL:-}
if [ -z "$url" ]; then
  if token=$(cat "$token_file" 2>/dev/null) && [ -n "$token" ]; then
    url="http://localhost:$port/?kiosk=$token"
  else
    echo "launch-kiosk: cannot read the kiosk secret $token_file: the screen shows the page as a visitor" >&2
    url="http://localhost:$port/"
  fi
fi

# shellcheck disable=SC2086 # KIOSK_EXTRA_FLAGS is a list of flags on purpose
exec "$browser" \
  --kiosk \
  --noerrdialogs \
  --disable-infobars \
  --no-first-run \
  --disable-session-crashed-bubble \
  --touch-events=enabled \
  --disable-pinch \
  --overscroll-history-navigation=0 \
  --check-for-update-interval=31536000 \
  --password-store=basic \
  --ozone-platform=wayland \
  ${KIOSK_EXTRA_FLAGS:-} \
  "$url"
