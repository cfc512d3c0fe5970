#!/bin/sh
# Runs inside cage (kiosk/systemd/pi-camera-timesync-kiosk.service): waits until the local server answers
# its health URL, then becomes Chromium in kiosk mode. Waiting first matters: Chromium started too early
# would sit on an error page; the app page itself reconnects its WebSocket when the server restarts later.
#
# Settings (from /etc/default/pi-camera-timesync or the environment):
#   PORT                 the server's port (80)
#   KIOSK_URL            page to show (http://127.0.0.1:$PORT/)
#   KIOSK_HEALTH_URL     URL that answers 2xx once the server is up (http://127.0.0.1:$PORT/api/health)
#   KIOSK_EXTRA_FLAGS    more Chromium flags, space-separated (e.g. "--force-device-scale-factor=1.25")
set -eu

port=${PORT:-80}
url=${KIOSK_URL:-http://127.0.0.1:$port/}
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
