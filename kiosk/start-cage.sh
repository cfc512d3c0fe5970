#!/bin/sh
# ExecStart of pi-camera-timesync-kiosk.service: starts cage (one fullscreen Wayland window on tty1) with
# the launcher inside, after choosing what only cage's command line can set:
#   - the hidden cursor: cage draws a pointer whenever a pointer device exists (an HDMI-CEC remote counts);
#     a cursor theme of transparent pixels (kiosk/cursor-theme, made by package.sh) hides it;
#   - rotation on cage 0.1.x (Bookworm): its -r flag, once per 90 degrees clockwise. cage 0.2 (Trixie) has
#     no -r; the launcher rotates with wlr-randr instead. Touch follows through the udev rule install.sh
#     writes for the same KIOSK_ROTATION.
# Settings come from /etc/default/pi-camera-timesync (the unit's EnvironmentFile).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=kiosk/kiosk-lib.sh
. "$here/kiosk-lib.sh"

# cog (KIOSK_ENGINE=cog, install.sh's choice on a Pi under 1 GB) draws on the screen itself through DRM and
# turns the picture itself: no compositor, one process fewer in the little memory there is.
if [ "${KIOSK_ENGINE:-chromium}" = cog ] && [ "${KIOSK_COG_PLATFORM:-drm}" = drm ]; then
  exec "$here/launch-kiosk.sh"
fi

cage=${KIOSK_CAGE:-cage}
set -- -s
rotation=$(kiosk_rotation "${KIOSK_ROTATION:-0}")
if [ "$rotation" != 0 ] && cage_has_rotate_flag "$("$cage" -v 2>&1 || true)"; then
  turns=$((rotation / 90))
  while [ "$turns" -gt 0 ]; do
    set -- "$@" -r
    turns=$((turns - 1))
  done
  # The launcher must not rotate a second time.
  KIOSK_ROTATED_BY_CAGE=1
  export KIOSK_ROTATED_BY_CAGE
fi

if [ "${KIOSK_CURSOR:-hidden}" = hidden ]; then
  XCURSOR_PATH="$here/cursor-theme"
  XCURSOR_THEME=pi-camera-timesync-hidden
  export XCURSOR_PATH XCURSOR_THEME
fi

exec "$cage" "$@" -- "$here/launch-kiosk.sh"
