# shellcheck shell=sh
# Small decisions shared by start-cage.sh, launch-kiosk.sh and install.sh: plain values in, plain values
# out, no side effects (test/kiosk/kiosk-lib.kiosk-spec.ts runs them in sh and in bash).

# KIOSK_ROTATION as 0, 90, 180 or 270: how far the screen is turned clockwise from its normal position.
# Anything else is 0, with a note on stderr.
kiosk_rotation() {
  case "${1:-0}" in
    '' | 0) echo 0 ;;
    90 | 180 | 270) echo "$1" ;;
    *) echo "kiosk: KIOSK_ROTATION=$1 is not 0, 90, 180 or 270; not rotating" >&2; echo 0 ;;
  esac
}

# cage 0.1.x ("Cage version 0.1.4") rotates with -r; cage 0.2 and later do not have it.
cage_has_rotate_flag() {
  case "$1" in
    *'version 0.1.'* | *'version 0.0.'*) return 0 ;;
    *) return 1 ;;
  esac
}

# The libinput calibration matrix that makes touch follow the picture of a screen turned ROTATION degrees
# clockwise (the Wayland output transform of the same name): it maps a touch on the panel, in the panel's own
# 0..1 coordinates, to the same 0..1 coordinates of the turned picture.
touch_matrix() {
  case "$1" in
    90) echo '0 -1 1 1 0 0' ;;
    180) echo '-1 0 1 0 -1 1' ;;
    270) echo '0 1 0 -1 0 1' ;;
    *) echo '1 0 0 0 1 0' ;;
  esac
}

# Minutes since midnight of HH:MM, or nothing when it is not a time of day.
minutes_of() {
  case "$1" in
    [0-1][0-9]:[0-5][0-9] | 2[0-3]:[0-5][0-9])
      hours=${1%:*}
      minutes=${1#*:}
      echo $((${hours#0} * 60 + ${minutes#0}))
      ;;
    *) echo '' ;;
  esac
}

# Whether a schedule "HH:MM-HH:MM" (screen on from the first to the second time; past midnight when the
# second is earlier) is valid.
screen_schedule_valid() {
  from=$(minutes_of "${1%-*}")
  to=$(minutes_of "${1#*-}")
  [ -n "$from" ] && [ -n "$to" ] && [ "$from" != "$to" ]
}

# Exit status 0 when the screen should be on at NOW (HH:MM) under SCHEDULE; no or a bad schedule: always on.
screen_should_be_on() {
  now=$(minutes_of "$1")
  schedule=$2
  [ -n "$schedule" ] && [ -n "$now" ] && screen_schedule_valid "$schedule" || return 0
  from=$(minutes_of "${schedule%-*}")
  to=$(minutes_of "${schedule#*-}")
  if [ "$from" -lt "$to" ]; then
    [ "$now" -ge "$from" ] && [ "$now" -lt "$to" ]
  else
    [ "$now" -ge "$from" ] || [ "$now" -lt "$to" ]
  fi
}

# Text made safe inside HTML.
html_escape() {
  printf '%s' "$1" | sed -e 's/&/\&amp;/g' -e 's/</\&lt;/g' -e 's/>/\&gt;/g' -e 's/"/\&quot;/g'
}

# The value of NAME in a systemd EnvironmentFile (last assignment wins; quotes removed as systemd does).
setting_of() {
  [ -r "$1" ] || return 0
  sed -n "s/^[[:space:]]*$2=//p" "$1" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# MemTotal of a /proc/meminfo-style FILE in MiB (whole), or nothing when it has none.
mem_total_mb() {
  awk '$1 == "MemTotal:" && $2 ~ /^[0-9]+$/ { printf "%d\n", $2 / 1024; exit }' "$1" 2>/dev/null
}

# A board sold as 1 GB reports less (the GPU's share and the kernel's are taken off: about 900-950 MiB on a
# Pi 3), a 512 MB one about 430 MiB: under 768 MiB of MemTotal (given in MiB) is a small Pi.
small_pi() { [ "$1" -lt 768 ]; }

# Chromium's flags for a Pi under 1 GB: one renderer, no per-site processes, the GPU work inside the browser
# process, a capped V8 heap, small caches. --no-memcheck: Raspberry Pi OS's chromium wrapper refuses to start
# under 1 GB without it. The bench (test/bench/kiosk-memory.bench.ts) measures them against the defaults.
chromium_low_memory_flags() {
  echo '--no-memcheck --renderer-process-limit=1 --process-per-site --disable-site-isolation-trials --disable-features=site-per-process,IsolateOrigins,BackForwardCache,Translate,MediaRouter,OptimizationHints,SpareRendererForSitePerProcess --in-process-gpu --js-flags=--max-old-space-size=96 --disk-cache-size=4194304 --disable-gpu-shader-disk-cache'
}

# cog's DRM platform turns the picture counter-clockwise, in 90-degree steps; KIOSK_ROTATION is clockwise.
cog_rotation_steps() {
  case "$1" in
    90) echo 3 ;;
    180) echo 2 ;;
    270) echo 1 ;;
    *) echo 0 ;;
  esac
}
