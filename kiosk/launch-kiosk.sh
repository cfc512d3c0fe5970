#!/bin/sh
# The kiosk screen: keeps the browser (Chromium, or WPE WebKit's cog on a small Pi) showing the app, full screen. Runs inside cage (start-cage.sh, from
# pi-camera-timesync-kiosk.service) or from a labwc desktop's autostart.
#
#   - Waits for the server's health URL, then opens the page. If the server is not up after
#     KIOSK_FALLBACK_AFTER seconds, it shows a page of its own instead, "The server does not start: <the
#     server's last log line>", refreshed every few seconds, which turns into the app as soon as the server
#     answers. Never a black screen, never a browser error page.
#   - When the server comes back with another version (an update), the browser is restarted on the new page.
#   - The browser exiting (a crash) starts it again.
#   - Rotation (cage 0.2, labwc: wlr-randr; cage 0.1 rotates itself, see start-cage.sh) and the optional
#     screen schedule.
#
# Settings (the unit's EnvironmentFile, or read here from /etc/default/pi-camera-timesync):
#   PORT                  the server's port (80)
#   KIOSK_URL             page to show (default http://127.0.0.1:$PORT/?kiosk=<the secret>: the page is then the
#                         Pi's own screen, which may set the time by hand and is never taken as a time source).
#                         The browser is started on $XDG_RUNTIME_DIR/pi-camera-timesync-kiosk.<uid>/open.html (0600),
#                         which jumps to it: the secret is on no command line (cog's URL argument is that file too).
#   KIOSK_TOKEN_FILE      the kiosk secret the server writes at its first start ($DATA_DIR/kiosk-token, DATA_DIR
#                         /var/lib/pi-camera-timesync), readable by this user through the server's group
#   KIOSK_HEALTH_URL      answers 2xx with {"ok":true,"version":...} once the server is up (.../api/health)
#   KIOSK_FALLBACK_AFTER  seconds to wait for the server before the fallback page (20)
#   KIOSK_ROTATION        0, 90, 180, 270: how far the screen is turned clockwise (set it with install.sh --rotate)
#   KIOSK_SCREEN_ON       HH:MM-HH:MM, the screen is on only then (e.g. 07:00-22:00); empty: always on
#   KIOSK_OUTPUT          the output to rotate or switch (default: the first wlr-randr lists)
#   KIOSK_ENGINE          chromium (default) or cog (WPE WebKit); install.sh writes it (--browser=)
#   KIOSK_MEMORY_FLAGS    Chromium's low-memory flags, written by install.sh on a Pi under 1 GB
#   KIOSK_EXTRA_FLAGS     more flags for the browser, space-separated (e.g. "--force-device-scale-factor=1.25")
#   KIOSK_BROWSER         the browser's program (default: chromium, else chromium-browser; cog for cog)
#   KIOSK_COG_PLATFORM    cog's platform: wl inside a Wayland session (labwc), else drm (the screen itself)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kiosk/kiosk-lib.sh
. "$here/kiosk-lib.sh"

say() { echo "launch-kiosk: $*" >&2; }

# In the unit, systemd has read the settings; from a desktop autostart nobody has.
settings=${KIOSK_SETTINGS:-/etc/default/pi-camera-timesync}
for name in PORT DATA_DIR KIOSK_TOKEN_FILE KIOSK_URL KIOSK_HEALTH_URL KIOSK_FALLBACK_AFTER KIOSK_ROTATION KIOSK_SCREEN_ON KIOSK_OUTPUT KIOSK_EXTRA_FLAGS KIOSK_BROWSER KIOSK_ENGINE KIOSK_MEMORY_FLAGS KIOSK_COG_PLATFORM; do
  if eval "[ -z \"\${$name+set}\" ]"; then
    value=$(setting_of "$settings" "$name")
    if [ -n "$value" ]; then
      eval "$name=\$value"
      export "${name?}"
    fi
  fi
done

port=${PORT:-80}
token_file=${KIOSK_TOKEN_FILE:-${DATA_DIR:-/var/lib/pi-camera-timesync}/kiosk-token}
health_url=${KIOSK_HEALTH_URL:-http://127.0.0.1:$port/api/health}
fallback_after=${KIOSK_FALLBACK_AFTER:-20}
case "$fallback_after" in '' | *[!0-9]*) fallback_after=20 ;; esac

engine=${KIOSK_ENGINE:-chromium}
case "$engine" in
  chromium | cog) ;;
  *)
    say "KIOSK_ENGINE=$engine is not chromium or cog: using chromium"
    engine=chromium
    ;;
esac
if [ "$engine" = cog ]; then
  browser=${KIOSK_BROWSER:-$(command -v cog || true)}
  # Inside cage or labwc there is a Wayland display; started straight from the unit, cog takes the screen.
  cog_platform=${KIOSK_COG_PLATFORM:-$(if [ -n "${WAYLAND_DISPLAY:-}" ]; then echo wl; else echo drm; fi)}
  [ -n "$browser" ] || { say "KIOSK_ENGINE=cog, but cog is not installed (apt install cog)"; exit 1; }
else
  browser=${KIOSK_BROWSER:-$(command -v chromium || command -v chromium-browser || true)}
  [ -n "$browser" ] || { say "neither chromium nor chromium-browser is installed"; exit 1; }
fi

state=${XDG_RUNTIME_DIR:-${TMPDIR:-/tmp}}/pi-camera-timesync-kiosk.$(id -u)
mkdir -p "$state"
chmod 0700 "$state"
fallback="$state/server-not-up.html"
opener="$state/open.html"

# Healthy: the health URL answers 2xx; its version goes to $state/version.
healthy() {
  curl --silent --fail --max-time 2 --output "$state/health.json" "$health_url" 2>/dev/null || return 1
  sed -n 's/.*"version":"\([^"]*\)".*/\1/p' "$state/health.json" >"$state/version"
}

server_log() {
  journalctl --unit=pi-camera-timesync.service --lines="$1" --output=cat --no-pager --quiet 2>/dev/null || true
}

write_fallback() { # SECONDS_WAITED
  last=$(server_log 1 | tail -n 1)
  [ -n "$last" ] || last="(no log line: journalctl -u pi-camera-timesync)"
  before=$(server_log 8 | sed '$d')
  cat >"$fallback.new" <<HTML
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="5">
<title>Pi Camera TimeSync: the server does not start</title>
<style>
  html { background: #101418; color: #e8eaed; font: 20px/1.45 system-ui, sans-serif; }
  body { margin: 6vh 6vw; }
  h1 { font-size: 1.6em; margin: 0 0 .6em; color: #ffb74d; }
  .line { font: 1.1em/1.4 ui-monospace, monospace; background: #1c232b; padding: .6em .8em; border-radius: 6px; white-space: pre-wrap; word-break: break-word; }
  pre { color: #9aa4ad; font-size: .75em; white-space: pre-wrap; word-break: break-word; }
  .hint { color: #9aa4ad; font-size: .85em; }
</style></head>
<body>
<h1>The server does not start:</h1>
<p class="line">$(html_escape "$last")</p>
<pre>$(html_escape "$before")</pre>
<p class="hint">Waiting for $(html_escape "$health_url") for $1 s; this screen turns into the app by itself once the server answers.
Settings: /etc/default/pi-camera-timesync. Logs: journalctl -u pi-camera-timesync</p>
</body></html>
HTML
  mv -f "$fallback.new" "$fallback"
}

# A page that jumps to URL ($2), written to FILE ($1) in the kiosk user's own 0700 folder, mode 0600: it may
# hold the secret. The browser is started on such a page, never on the URL itself, so the secret is on no
# command line (/proc/<pid>/cmdline is readable by every local user); the fallback page becomes one too.
write_redirect() {
  (
    umask 077
    cat >"$1.new" <<HTML
<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="0; url=$(html_escape "$2")">
<title>Pi Camera TimeSync</title><style>html { background: #101418; }</style></head><body></body></html>
HTML
  )
  mv -f "$1.new" "$1"
}

output_name() {
  if [ -n "${KIOSK_OUTPUT:-}" ]; then echo "$KIOSK_OUTPUT"; return; fi
  wlr-randr 2>/dev/null | awk '/^[^[:space:]]/ { print $1; exit }'
}

rotate_screen() {
  rotation=$(kiosk_rotation "${KIOSK_ROTATION:-0}")
  [ "$rotation" != 0 ] || return 0
  [ "${KIOSK_ROTATED_BY_CAGE:-}" != 1 ] || return 0
  # cog on DRM turns the picture itself (start_browser).
  [ "$engine" != cog ] || [ "$cog_platform" != drm ] || return 0
  if ! command -v wlr-randr >/dev/null; then
    say "KIOSK_ROTATION=$rotation needs wlr-randr (apt install wlr-randr)"
    return 0
  fi
  output=$(output_name)
  wlr-randr --output "$output" --transform "$rotation" || say "could not rotate $output by $rotation"
}

# on|off, with the first tool that works: wlopm (labwc), wlr-randr (cage 0.2, labwc), the backlight of a
# DSI panel (cage 0.1, which has neither protocol; install.sh's udev rule lets the video group write it).
screen_power() {
  if command -v wlopm >/dev/null && wlopm "--$1" '*' 2>/dev/null; then return 0; fi
  if command -v wlr-randr >/dev/null && [ -n "$screen_output" ] && wlr-randr --output "$screen_output" "--$1" 2>/dev/null; then return 0; fi
  found=1
  for power in "${KIOSK_BACKLIGHT_DIR:-/sys/class/backlight}"/*/bl_power; do
    [ -w "$power" ] || continue
    if [ "$1" = on ]; then echo 0 >"$power"; else echo 4 >"$power"; fi
    found=0
  done
  return "$found"
}

screen_schedule() {
  schedule=${KIOSK_SCREEN_ON:-}
  [ -n "$schedule" ] || return 0
  if ! screen_schedule_valid "$schedule"; then
    say "KIOSK_SCREEN_ON=$schedule is not HH:MM-HH:MM; the screen stays on"
    return 0
  fi
  screen_output=$(output_name)
  (
    is=unknown
    complained=no
    while :; do
      if screen_should_be_on "$(date +%H:%M)" "$schedule"; then want=on; else want=off; fi
      if [ "$want" != "$is" ]; then
        if screen_power "$want"; then
          say "screen $want (KIOSK_SCREEN_ON=$schedule)"
          is=$want
        elif [ "$complained" = no ]; then
          say "cannot switch the screen $want: no wlopm, no output management in this compositor, no writable backlight"
          complained=yes
        fi
      fi
      sleep "${KIOSK_SCHEDULE_PERIOD:-30}"
    done
  ) &
  schedule_pid=$!
}

# Starts the browser on URL (a file:// page of the launcher's own) in the background; browser_pid is set.
start_browser() {
  if [ "$engine" = cog ]; then
    set -- "--platform=$cog_platform" --webprocess-failure=exit --bg-color=#101418 "$1"
    if [ "$cog_platform" = drm ]; then
      set -- "--platform-params=renderer=gles,rotation=$(cog_rotation_steps "$(kiosk_rotation "${KIOSK_ROTATION:-0}")")" "$@"
    fi
    # shellcheck disable=SC2086 # KIOSK_EXTRA_FLAGS is a list of flags on purpose
    "$browser" ${KIOSK_EXTRA_FLAGS:-} "$@" &
  else
    # shellcheck disable=SC2086 # the flags settings are lists of flags on purpose
    "$browser" \
      --kiosk \
      --noerrdialogs \
      --disable-infobars \
      --no-first-run \
      --disable-session-crashed-bubble \
      --touch-events=enabled \
      --disable-pinch \
      --overscroll-history-navigation=0 \
      --check-for-update-interval=31536000 \
      --disable-background-networking \
      --disable-component-update \
      --disable-sync \
      --password-store=basic \
      --ozone-platform=wayland \
      ${KIOSK_MEMORY_FLAGS:-} \
      ${KIOSK_EXTRA_FLAGS:-} \
      "$1" &
  fi
  browser_pid=$!
}

browser_pid=''
schedule_pid=''
stop() {
  [ -z "$browser_pid" ] || kill "$browser_pid" 2>/dev/null || true
  [ -z "$schedule_pid" ] || kill "$schedule_pid" 2>/dev/null || true
  exit 0
}
trap stop TERM INT HUP

rotate_screen
screen_schedule

# The page, as the Pi's own screen: read after the server answers (it writes the secret at its first start),
# never printed. Without a readable secret the page opens as a visitor, and the log says why.
page_url() {
  if [ -n "${KIOSK_URL:-}" ]; then
    echo "$KIOSK_URL"
  elif token=$(cat "$token_file" 2>/dev/null) && [ -n "$token" ]; then
    echo "http://127.0.0.1:$port/?kiosk=$token"
  else
    say "cannot read the kiosk secret $token_file: the screen shows the page as a visitor"
    echo "http://127.0.0.1:$port/"
  fi
}

while :; do
  waited=0
  while ! healthy && [ "$waited" -lt "$fallback_after" ]; do
    if [ $((waited % 10)) -eq 0 ]; then say "waiting for $health_url (${waited}s)"; fi
    sleep 1
    waited=$((waited + 1))
  done
  if healthy; then
    write_redirect "$opener" "$(page_url)"
    start_url="file://$opener"
    on_fallback=no
  else
    say "the server is not up after ${waited}s: showing $fallback"
    write_fallback "$waited"
    start_url="file://$fallback"
    on_fallback=yes
  fi
  started_version=$(cat "$state/version" 2>/dev/null || true)

  start_browser "$start_url"

  ticks=0
  while kill -0 "$browser_pid" 2>/dev/null; do
    sleep 1
    ticks=$((ticks + 1))
    if [ "$on_fallback" = yes ]; then
      if healthy; then
        say "the server answers: back to the page"
        write_redirect "$fallback" "$(page_url)"
        on_fallback=no
        started_version=$(cat "$state/version" 2>/dev/null || true)
      elif [ $((ticks % 5)) -eq 0 ]; then
        write_fallback $((waited + ticks))
      fi
    elif [ $((ticks % 5)) -eq 0 ] && healthy; then
      version=$(cat "$state/version" 2>/dev/null || true)
      if [ -n "$version" ] && [ -n "$started_version" ] && [ "$version" != "$started_version" ]; then
        say "the server is now version $version (was $started_version): reloading the page"
        kill "$browser_pid" 2>/dev/null || true
      elif [ -z "$started_version" ]; then
        started_version=$version
      fi
    fi
  done
  wait "$browser_pid" 2>/dev/null || true
  browser_pid=''
  sleep 1
done
