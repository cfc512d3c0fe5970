#!/usr/bin/env bash
# Puts Pi Camera TimeSync on a Raspberry Pi (Raspberry Pi OS Bookworm or Trixie, Lite or desktop) from a
# release bundle (`npm run package`), and takes it off again. See kiosk/README.md ("On the Pi").
#
#   sudo ./install.sh [BUNDLE] [options]     install, or update to BUNDLE (a .tar.gz or an unpacked folder;
#                                            default: the bundle this script is part of)
#   sudo ./install.sh --rollback             back to the previous version
#   sudo ./install.sh --uninstall [--purge]  remove it all (asks before removing the clock journal)
#   DESTDIR=/tmp/x ./install.sh --dry-run [BUNDLE] [options]
#                                            write every file under /tmp/x, change nothing else, and print
#                                            the commands it would run
#
# Options:
#   --kiosk=auto|cage|desktop|none   the screen: cage on tty1 (Lite), a labwc autostart entry (desktop), or
#                                    none. auto (default, or what the last install chose): desktop when a
#                                    desktop is installed and starts at boot, else cage
#   --desktop-user=USER              desktop: whose labwc session (default: the autologin user, else uid 1000)
#   --browser=auto|chromium|cog      the screen's browser. auto (default, or what an earlier --browser chose):
#                                    Chromium on a Pi with 1 GB or more; under 1 GB (MemTotal under 768 MiB,
#                                    e.g. a Pi Zero 2 W) WPE WebKit's cog on its DRM platform where the
#                                    distribution has it, else Chromium with low-memory flags. Under 1 GB it
#                                    also sets up zram (compressed swap in RAM)
#   --rotate=0|90|180|270            screen turned clockwise by this much; touch follows
#   --screen-on=HH:MM-HH:MM|always   the screen is on only between these times
#   --access-point=SSID              create the Wi-Fi access point with NetworkManager; phones joining it
#                                    get the page opened by their captive-portal check
#   --ap-password-file=FILE          its WPA2 password (first line; else it is asked)
#   --ap-interface=IF                default wlan0
#   --ap-address=ADDRESS/PREFIX      the Pi's address on it, default 10.42.0.1/24
#   --time-server                    chrony keeps the Pi's clock and serves it over NTP to the access point
#                                    (installs chrony; the Pi leads: its phones, GPS, hand-set time feed it)
#   --follow=ADDRESS                 chrony as above, and this Pi follows ADDRESS (another Pi, any NTP server)
#   --no-time-server                 take chrony's configuration off again (chrony stays installed)
#   --no-packages                    install no Debian packages (only check for them)
#   --yes                            answer yes to every question (taking the screen, switching Wi-Fi, purge)
#   --purge                          with --uninstall: also remove the clock journal and the settings
#   -h, --help
#
# What it does, in order, so that a failure leaves the running version running: verify the bundle's
# checksums; install missing Debian packages (Node.js >= 20.19: Debian's own on Trixie; NodeSource's signed
# repository on Bookworm, whose key ships in kiosk/keys/); create the users; unpack the bundle into
# /opt/pi-camera-timesync/versions/<version>; start that version on a spare port with your settings and
# check that it answers /api/health; only then write units and rules, switch the `current` link (atomic
# rename), restart the server and check it again (on failure, the previous version is put back).
# A rerun with the same bundle and options changes nothing and restarts nothing.
set -euo pipefail

readonly APP=/opt/pi-camera-timesync
readonly DATA=/var/lib/pi-camera-timesync
readonly SETTINGS=/etc/default/pi-camera-timesync
readonly UNIT_DIR=/etc/systemd/system
readonly SERVER_UNIT=pi-camera-timesync.service
readonly KIOSK_UNIT=pi-camera-timesync-kiosk.service
readonly RULE=/etc/polkit-1/rules.d/50-pi-camera-timesync.rules
readonly UDEV_RULE=/etc/udev/rules.d/60-pi-camera-timesync-kiosk.rules
readonly ZRAM_DROPIN=/etc/systemd/zram-generator.conf.d/50-pi-camera-timesync.conf
readonly AP_CONNECTION=pi-camera-timesync-ap
readonly AP_FILE=/etc/NetworkManager/system-connections/pi-camera-timesync-ap.nmconnection
readonly DNS_FILE=/etc/NetworkManager/dnsmasq-shared.d/pi-camera-timesync.conf
readonly NODESOURCE_KEY=/usr/share/keyrings/pi-camera-timesync-nodesource.asc
readonly NODESOURCE_LIST=/etc/apt/sources.list.d/pi-camera-timesync-nodesource.list
readonly NODESOURCE_PIN=/etc/apt/preferences.d/pi-camera-timesync-nodesource
readonly NODESOURCE_MAJOR=22
readonly CHRONY_CONF=/etc/chrony/conf.d/pi-camera-timesync.conf
readonly CHRONY_DROPIN=/etc/systemd/system/chrony.service.d/pi-camera-timesync.conf
readonly CHRONY_DRIFT=/var/lib/chrony/chrony.drift
readonly CHRONY_UNIT=chrony.service
readonly FEED_PORT=10123 # TIME_SERVER_FEED_PORT's default: where the server answers chrony on loopback
readonly SERVICE_USER=timesync # must match kiosk/polkit/50-pi-camera-timesync.rules and the server unit
readonly KIOSK_USER=timesync-kiosk
readonly KIOSK_HOME=/var/lib/timesync-kiosk
readonly STATE="$APP/install-state"
readonly MARK_BEGIN='# >>> pi-camera-timesync (kiosk/install.sh; --uninstall removes this block)'
readonly MARK_END='# <<< pi-camera-timesync'
HEALTH_TIMEOUT=${HEALTH_TIMEOUT:-90}
# Where the Pi's memory is read (tests give a file of their own).
MEMINFO=${MEMINFO:-/proc/meminfo}

# ---- output, questions, and the one door to the system ------------------------------------------------

say() { printf '\033[1m==> %s\033[0m\n' "$*"; }
note() { printf '    %s\n' "$*"; }
warn() { printf 'install.sh: warning: %s\n' "$*" >&2; }
die() {
  printf 'install.sh: %s\n' "$*" >&2
  exit 1
}
usage_error() {
  printf 'install.sh: %s\n(install.sh --help lists the options)\n' "$*" >&2
  exit 2
}

dry() { [ "$dry_run" = 1 ]; }

# Runs a command that changes the system; in a dry run, prints it instead.
run() {
  if dry; then
    printf '    would run:'
    printf ' %q' "$@"
    printf '\n'
  else
    printf '    +'
    printf ' %q' "$@"
    printf '\n'
    # 9: the lock of this run, which no service started from here may keep.
    "$@" 9>&-
  fi
}

# A path as this run writes it: under DESTDIR in a dry run.
at() { printf '%s%s' "${DESTDIR:-}" "$1"; }

# ask QUESTION: 0 for yes. --yes answers yes; without a terminal (or in a dry run) the answer is the safe no.
ask() {
  local answer=''
  if [ "$assume_yes" = 1 ]; then
    note "$1 yes (--yes)"
    return 0
  fi
  if ! dry && [ -t 0 ]; then
    read -r -p "    $1 [y/N] " answer || true
    case "$answer" in y | Y | yes | Yes) return 0 ;; esac
    return 1
  fi
  note "$1 no (not asked: $(dry && echo 'dry run' || echo 'no terminal'); --yes says yes)"
  return 1
}

# put_file PATH MODE [OWNER] < CONTENT: writes PATH (under DESTDIR in a dry run) when its content or mode
# differs; status 0 when it wrote, 1 when it was already so. Written beside and renamed: never half a file.
put_file() {
  local path=$1 mode=$2 owner=${3:-} target tmp
  target=$(at "$path")
  tmp=$(mktemp)
  cat >"$tmp"
  if [ -f "$target" ] && [ ! -L "$target" ] && cmp -s "$tmp" "$target" && [ "$(stat -c %a "$target")" = "${mode#0}" ]; then
    rm -f "$tmp"
    return 1
  fi
  mkdir -p "$(dirname "$target")"
  cp "$tmp" "$target.new"
  rm -f "$tmp"
  chmod "$mode" "$target.new"
  if [ -n "$owner" ]; then
    if dry; then run chown "$owner" "$path"; else chown "$owner" "$target.new"; fi
  fi
  mv -f "$target.new" "$target"
  note "wrote $path"
  return 0
}

# remove_file PATH: status 0 when there was something to remove.
remove_file() {
  local target
  target=$(at "$1")
  [ -e "$target" ] || [ -L "$target" ] || return 1
  rm -f "$target"
  note "removed $1"
  return 0
}

# link NAME TARGET: points the symlink NAME at TARGET by renaming a new link over it (atomic).
link() {
  local name target
  name=$(at "$1")
  target=$2
  [ "$(readlink "$name" 2>/dev/null || true)" != "$target" ] || return 1
  ln -sfn "$target" "$name.new"
  mv -Tf "$name.new" "$name"
  note "$1 -> $target"
  return 0
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

unit_enabled() { [ -L "$(at "$UNIT_DIR/multi-user.target.wants/$1")" ]; }

is_active() { ! dry && systemctl is-active --quiet "$1" 2>/dev/null; }

# setting NAME: its value in the settings file (last line wins), else empty.
setting() {
  local file
  file=$(at "$SETTINGS")
  [ -r "$file" ] || return 0
  sed -n "s/^[[:space:]]*$1=//p" "$file" | tail -n 1 | sed -e 's/^"\(.*\)"$/\1/' -e "s/^'\(.*\)'\$/\1/"
}

# set_setting NAME VALUE: one NAME= line with VALUE (empty VALUE: no line). Status 0 when it changed.
set_setting() {
  local name=$1 value=$2 file current
  file=$(at "$SETTINGS")
  current=$(setting "$name")
  if [ -z "$value" ]; then
    grep -q "^[[:space:]]*$name=" "$file" 2>/dev/null || return 1
    sed "/^[[:space:]]*$name=/d" "$file" | put_file "$SETTINGS" 0644
    return 0
  fi
  [ "$current" != "$value" ] || [ "$(grep -c "^[[:space:]]*$name=" "$file")" != 1 ] || return 1
  { sed "/^[[:space:]]*$name=/d" "$file"; printf '%s=%s\n' "$name" "$value"; } | put_file "$SETTINGS" 0644
}

state_of() {
  local file
  file=$(at "$STATE")
  [ -r "$file" ] || return 0
  sed -n "s/^$1=//p" "$file" | tail -n 1
}

# ---- arguments ----------------------------------------------------------------------------------------

action=install
dry_run=0
bundle_arg=''
kiosk_mode=''
desktop_user=''
browser_pref=''
rotate=''
screen_on=''
ap_ssid=''
ap_password_file=''
ap_interface=wlan0
ap_address=10.42.0.1/24
time_server='' # leader, follow or off (an option); else what the last install chose
follow_address=''
with_packages=1
assume_yes=0
purge=0

parse_args() {
  local arg value
  while [ $# -gt 0 ]; do
    arg=$1
    value=''
    case "$arg" in
      --*=*) value=${arg#*=}; arg=${arg%%=*} ;;
      --kiosk | --desktop-user | --browser | --rotate | --screen-on | --access-point | --ap-password-file | --ap-interface | --ap-address | --follow)
        [ $# -ge 2 ] || usage_error "$arg needs a value"
        value=$2
        shift
        ;;
    esac
    case "$arg" in
      -h | --help) sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//;p}' "$0"; exit 0 ;;
      --dry-run) dry_run=1 ;;
      --rollback) action=rollback ;;
      --uninstall) action=uninstall ;;
      --purge) purge=1 ;;
      --yes) assume_yes=1 ;;
      --no-packages) with_packages=0 ;;
      --kiosk)
        case "$value" in auto | cage | desktop | none) kiosk_mode=$value ;; *) usage_error "--kiosk is auto, cage, desktop or none, not '$value'" ;; esac
        ;;
      --desktop-user) desktop_user=$value ;;
      --browser)
        case "$value" in auto | chromium | cog) browser_pref=$value ;; *) usage_error "--browser is auto, chromium or cog, not '$value'" ;; esac
        ;;
      --rotate)
        case "$value" in 0 | 90 | 180 | 270) rotate=$value ;; *) usage_error "--rotate is 0, 90, 180 or 270, not '$value'" ;; esac
        ;;
      --screen-on) screen_on=$value ;;
      --access-point) ap_ssid=$value ;;
      --ap-password-file) ap_password_file=$value ;;
      --ap-interface) ap_interface=$value ;;
      --ap-address) ap_address=$value ;;
      --time-server) [ "$time_server" = follow ] || time_server=leader ;;
      --follow)
        time_server=follow
        follow_address=$value
        ;;
      --no-time-server) time_server=off ;;
      -*) usage_error "unknown option: $arg" ;;
      *)
        [ -z "$bundle_arg" ] || usage_error "one bundle at a time ($bundle_arg, $arg)"
        bundle_arg=$arg
        ;;
    esac
    shift
  done

  if [ -n "${DESTDIR:-}" ] && [ "$dry_run" = 0 ]; then usage_error "DESTDIR is for --dry-run only"; fi
  if [ "$dry_run" = 1 ]; then
    [ -n "${DESTDIR:-}" ] || usage_error "--dry-run needs DESTDIR=<folder> (where every file goes)"
  fi
  [ "$purge" = 0 ] || [ "$action" = uninstall ] || usage_error "--purge goes with --uninstall"
  if [ -n "$screen_on" ] && [ "$screen_on" != always ]; then
    # shellcheck source=kiosk/kiosk-lib.sh
    . "$(script_dir)/kiosk-lib.sh"
    screen_schedule_valid "$screen_on" || usage_error "--screen-on is HH:MM-HH:MM (e.g. 07:00-22:00) or always, not '$screen_on'"
  fi
  [[ "$ap_interface" =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,14}$ ]] || usage_error "--ap-interface '$ap_interface' is not an interface name"
  [[ "$ap_address" =~ ^([0-9]{1,3}\.){3}[0-9]{1,3}/([0-9]|[12][0-9]|3[0-2])$ ]] || usage_error "--ap-address is like 10.42.0.1/24, not '$ap_address'"
  if [ -n "$ap_ssid" ]; then
    [[ "$ap_ssid" =~ ^[A-Za-z0-9][A-Za-z0-9\ _.-]{0,31}$ ]] || usage_error "--access-point: an SSID of 1 to 32 letters, digits, spaces, '_', '.', '-'"
  fi
  if [ "$time_server" = follow ]; then
    # One host name or address, as chrony's `server` line takes it (no port, no scheme).
    [[ "$follow_address" =~ ^([A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*|[0-9A-Fa-f:.]+)$ ]] && [ ${#follow_address} -le 253 ] ||
      usage_error "--follow is one host name or IP address (e.g. 10.42.0.1), not '$follow_address'"
  fi
  if [ "$action" != install ] && { [ -n "$bundle_arg" ] || [ -n "$ap_ssid" ] || [ -n "$kiosk_mode" ] || [ -n "$browser_pref" ] || [ -n "$rotate" ] || [ -n "$screen_on" ] || [ -n "$time_server" ]; }; then
    usage_error "--$action takes no bundle and no install options"
  fi
  if [ "$dry_run" = 1 ]; then
    mkdir -p "$DESTDIR"
    DESTDIR=$(cd "$DESTDIR" && pwd)
  fi
}

script_dir() { cd "$(dirname "${BASH_SOURCE[0]}")" && pwd; }

# ---- the bundle ---------------------------------------------------------------------------------------

bundle_dir='' # the unpacked bundle, ready to move into versions/
bundle_version=''
incoming=''

cleanup() {
  [ -z "$incoming" ] || rm -rf "$incoming"
  [ -z "${check_dir:-}" ] || rm -rf "$check_dir"
  # A first install that stopped early leaves no empty folder behind.
  rmdir "$(at "$APP")" 2>/dev/null || true
}
trap cleanup EXIT

# Every file listed with the right checksum, and no file that is not listed.
verify_tree() {
  local dir=$1 listed present
  [ -f "$dir/VERSION" ] && [ -f "$dir/SHA256SUMS" ] || return 1
  (cd "$dir" && sha256sum --quiet --strict -c SHA256SUMS >/dev/null 2>&1) || return 1
  listed=$(sed 's/^[0-9a-f]\{64\}  //' "$dir/SHA256SUMS" | LC_ALL=C sort)
  present=$(cd "$dir" && find . \( -type f -o -type l \) ! -path ./SHA256SUMS | LC_ALL=C sort)
  [ "$listed" = "$present" ]
}

# The installed version with exactly these SHA256SUMS and VERSION, if its files still match them.
installed_twin() { # SUMS_FILE VERSION
  local entry
  for entry in "$(at "$APP/versions")"/*; do
    [ -f "$entry/SHA256SUMS" ] && cmp -s "$1" "$entry/SHA256SUMS" && [ "$(head -n 1 "$entry/VERSION")" = "$2" ] && verify_tree "$entry" && {
      printf '%s' "$entry"
      return 0
    }
  done
  return 1
}

unpack_bundle() {
  local source=$1 archive_dir top sums twin version=''

  if [ -z "$source" ]; then
    source=$(cd "$(script_dir)/.." && pwd)
    [ -f "$source/VERSION" ] || die "no bundle given, and $source is not one (a source checkout?): build a bundle with 'npm run package' on a computer, copy the .tar.gz to the Pi and give its path"
  fi
  [ -e "$source" ] || die "$source: no such file"
  mkdir -p "$(at "$APP")"
  sums=$(mktemp)
  if [ -d "$source" ]; then
    cp "$source/SHA256SUMS" "$sums" 2>/dev/null || true
    version=$(head -n 1 "$source/VERSION" 2>/dev/null || true)
  else
    case "$source" in *.tar.gz | *.tgz) ;; *) die "$source: a bundle is a .tar.gz made by 'npm run package' (or its unpacked folder)" ;; esac
    if [ -f "$source.sha256" ]; then
      archive_dir=$(cd "$(dirname "$source")" && pwd)
      (cd "$archive_dir" && sha256sum --quiet --strict -c "$(basename "$source").sha256") ||
        die "$source does not match its checksum file $source.sha256: a damaged or incomplete copy; copy it again"
      note "checksum of $(basename "$source") verified ($source.sha256)"
    fi
    tar -xzOf "$source" --wildcards --no-wildcards-match-slash '*/SHA256SUMS' >"$sums" 2>/dev/null || true
    version=$(tar -xzOf "$source" --wildcards --no-wildcards-match-slash '*/VERSION' 2>/dev/null | head -n 1 || true)
  fi
  # Installed already (a rerun, or a rollback target): no need to unpack it again.
  if [ -s "$sums" ] && [ -n "$version" ] && twin=$(installed_twin "$sums" "$version"); then
    rm -f "$sums"
    bundle_dir=$twin
  else
    rm -f "$sums"
    incoming=$(mktemp -d "$(at "$APP")/.incoming.XXXXXX")
    if [ -d "$source" ]; then
      cp -R "$source/." "$incoming/"
      bundle_dir=$incoming
    else
      tar -xzf "$source" -C "$incoming" --no-same-owner --no-same-permissions 2>/dev/null || die "$source: cannot unpack it (damaged?)"
      top=$(find "$incoming" -mindepth 1 -maxdepth 1)
      [ "$(printf '%s\n' "$top" | wc -l)" = 1 ] && [ -d "$top" ] || die "$source: not a bundle (one folder expected inside)"
      bundle_dir=$top
    fi
    verify_tree "$bundle_dir" || die "$source: its files do not match its SHA256SUMS (damaged, or changed after packaging); nothing was changed"
  fi
  bundle_version=$(head -n 1 "$bundle_dir/VERSION")
  [[ "$bundle_version" =~ ^[A-Za-z0-9][A-Za-z0-9.+_~-]{0,79}$ ]] || die "$source: strange VERSION '$bundle_version'"
  [ -f "$bundle_dir/dist/backend/main.js" ] && [ -f "$bundle_dir/kiosk/systemd/$SERVER_UNIT" ] || die "$source: not a Pi Camera TimeSync bundle"
  note "bundle $bundle_version: every file matches SHA256SUMS"
}

# The folder name under versions/ for the unpacked bundle: its version; the same version with other files
# (a rebuilt bundle) gets the start of its checksum list appended.
version_id() {
  local id=$bundle_version existing
  if [ -z "$incoming" ]; then
    basename "$bundle_dir"
    return 0
  fi
  existing=$(at "$APP/versions/$id")
  if [ -d "$existing" ] && ! cmp -s "$existing/SHA256SUMS" "$bundle_dir/SHA256SUMS"; then
    id="$bundle_version-$(sha256sum "$bundle_dir/SHA256SUMS" | cut -c1-8)"
  fi
  printf '%s' "$id"
}

# ---- the machine --------------------------------------------------------------------------------------

node_bin=''

node_ok() { "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' 2>/dev/null; }

find_node() {
  local candidate
  for candidate in /usr/bin/node /usr/local/bin/node; do
    if [ -x "$candidate" ] && node_ok "$candidate"; then
      node_bin=$candidate
      return 0
    fi
  done
  return 1
}

codename() { sed -n 's/^VERSION_CODENAME=//p' /etc/os-release 2>/dev/null | tr -d '"' | head -n 1; }

has_desktop() { [ -x /usr/bin/labwc ] || [ -x /usr/bin/wayfire ] || [ -x /usr/bin/startlxde-pi ]; }
default_target() {
  local link
  for link in /etc/systemd/system/default.target /usr/lib/systemd/system/default.target /lib/systemd/system/default.target; do
    [ -L "$link" ] && { basename "$(readlink "$link")"; return 0; }
  done
  echo graphical.target
}
desktop_at_boot() { [ -L /etc/systemd/system/display-manager.service ] && [ "$(default_target)" = graphical.target ]; }
desktop_running() {
  ! dry && { systemctl is-active --quiet display-manager.service 2>/dev/null || pgrep -x 'labwc|wayfire|Xorg|Xwayland' >/dev/null 2>&1; }
}

choose_kiosk_mode() {
  local chosen=${kiosk_mode:-$(state_of KIOSK_MODE)}
  if [ -z "$chosen" ] || [ "$chosen" = auto ]; then
    if has_desktop && desktop_at_boot; then chosen=desktop; else chosen=cage; fi
    note "kiosk: $chosen (chosen automatically; --kiosk=cage|desktop|none overrides)"
  fi
  kiosk_mode=$chosen
}

choose_desktop_user() {
  [ "$kiosk_mode" = desktop ] || return 0
  [ -n "$desktop_user" ] || desktop_user=$(state_of DESKTOP_USER)
  if [ -z "$desktop_user" ]; then
    desktop_user=$(sed -n 's/^[[:space:]]*autologin-user=//p' /etc/lightdm/lightdm.conf 2>/dev/null | tail -n 1)
  fi
  [ -n "$desktop_user" ] || desktop_user=$(getent passwd 1000 | cut -d: -f1)
  [ -n "$desktop_user" ] || die "--kiosk=desktop: whose desktop? give --desktop-user=USER"
  [[ "$desktop_user" =~ ^[a-z_][a-z0-9_-]*$ ]] || die "--desktop-user '$desktop_user' is not a user name"
}

# ---- the browser, by the Pi's memory ------------------------------------------------------------------------

browser=''      # chromium or cog
browser_kept='' # a --browser other than auto, remembered for the next runs
small_pi=0      # 1 under 768 MiB (kiosk-lib.sh's small_pi): low-memory flags and zram
memory_mb=''
zram_package='' # systemd-zram-generator or zram-tools, on a small Pi

# A package this Pi has, or can get from its package lists.
package_available() {
  local policy
  installed "$1" && return 0
  policy=$(apt-cache policy "$1" 2>/dev/null || true)
  [[ "$policy" =~ Candidate:\ [^\(] ]]
}

choose_browser() {
  [ "$kiosk_mode" != none ] || return 0
  # shellcheck source=kiosk/kiosk-lib.sh
  . "$(script_dir)/kiosk-lib.sh"
  local chosen=${browser_pref:-$(state_of BROWSER)}
  [ "$chosen" = auto ] || browser_kept=$chosen
  memory_mb=$(mem_total_mb "$MEMINFO")
  [ -n "$memory_mb" ] || die "cannot read MemTotal from $MEMINFO"
  if small_pi "$memory_mb"; then small_pi=1; fi
  if [ -z "$chosen" ] || [ "$chosen" = auto ]; then
    browser=chromium
    if [ "$small_pi" = 1 ] && package_available cog; then browser=cog; fi
    if [ "$small_pi" = 1 ]; then
      note "browser: $browser (chosen by memory: ${memory_mb} MiB, under 1 GB$([ "$browser" = cog ] || printf '; no cog package here: Chromium with low-memory flags'); --browser=chromium|cog overrides)"
    else
      note "browser: chromium (chosen by memory: ${memory_mb} MiB; --browser=cog overrides)"
    fi
  else
    browser=$chosen
    [ "$browser" != cog ] || package_available cog || die "--browser=cog: this distribution has no 'cog' package (apt-cache policy cog); use --browser=chromium"
    note "browser: $browser (--browser=$chosen; ${memory_mb} MiB)"
  fi
  if [ "$small_pi" = 1 ]; then
    if package_available systemd-zram-generator; then
      zram_package=systemd-zram-generator
    elif package_available zram-tools; then
      zram_package=zram-tools
    else
      warn "neither systemd-zram-generator nor zram-tools is in the package lists: no zram on this small Pi"
    fi
  fi
}

# The screen's settings for the chosen browser: KIOSK_ENGINE, and Chromium's low-memory flags on a small Pi.
browser_settings() {
  local flags=''
  [ "$kiosk_mode" != none ] || return 0
  if [ "$browser" = chromium ] && [ "$small_pi" = 1 ]; then flags=$(chromium_low_memory_flags); fi
  if set_setting KIOSK_ENGINE "$browser"; then kiosk_changed=1; fi
  if set_setting KIOSK_MEMORY_FLAGS "$flags"; then kiosk_changed=1; fi
}

# zram on a small Pi: systemd-zram-generator's drop-in (half the RAM, zstd), or zram-tools' own defaults.
configure_zram() {
  case "$zram_package" in
    systemd-zram-generator)
      if printf '# Pi Camera TimeSync (kiosk/install.sh, on a Pi under 1 GB; --uninstall removes it).\n[zram0]\nzram-size = ram / 2\ncompression-algorithm = zstd\nswap-priority = 100\n' |
        put_file "$ZRAM_DROPIN" 0644; then
        run systemctl daemon-reload || true
        run systemctl start dev-zram0.swap || warn "zram did not start now (systemctl status systemd-zram-setup@zram0); it starts at the next boot"
      fi
      ;;
    zram-tools)
      if ! unit_enabled zramswap.service; then run systemctl enable --now zramswap.service || warn "zramswap did not start (systemctl status zramswap)"; fi
      ;;
  esac
}

desktop_home() { getent passwd "$desktop_user" | cut -d: -f6 | grep . || printf '/home/%s' "$desktop_user"; }

# ---- Debian packages and Node.js ------------------------------------------------------------------------

nodesource_added=0

add_nodesource() {
  local arch
  arch=$(dpkg --print-architecture 2>/dev/null || echo arm64)
  say "Node.js ${NODESOURCE_MAJOR} from NodeSource (Bookworm's own nodejs is 18; the app needs 20.19 or newer)"
  note "signed apt repository https://deb.nodesource.com/node_${NODESOURCE_MAJOR}.x, key 6F71 F525 2828 41EE DAF8 51B4 2F59 B5F9 9B1B E0B4 (kiosk/keys/nodesource.asc)"
  put_file "$NODESOURCE_KEY" 0644 <"$(script_dir)/keys/nodesource.asc" || true
  printf 'deb [arch=%s signed-by=%s] https://deb.nodesource.com/node_%s.x nodistro main\n' "$arch" "$NODESOURCE_KEY" "$NODESOURCE_MAJOR" |
    put_file "$NODESOURCE_LIST" 0644 || true
  # Only nodejs comes from there, never anything else.
  printf 'Package: *\nPin: origin deb.nodesource.com\nPin-Priority: 100\n\nPackage: nodejs\nPin: origin deb.nodesource.com\nPin-Priority: 600\n' |
    put_file "$NODESOURCE_PIN" 0644 || true
  nodesource_added=1
}

remove_nodesource() {
  [ "$nodesource_added" = 1 ] || return 0
  remove_file "$NODESOURCE_LIST" || true
  remove_file "$NODESOURCE_PIN" || true
  remove_file "$NODESOURCE_KEY" || true
}

offline() {
  remove_nodesource
  die "could not download $1 (is the Pi online? it needs the internet for this step only, e.g. Ethernet, or Wi-Fi before the access point exists). Nothing was changed; run this again once it is online${2:+, or $2}."
}

ensure_packages() {
  local wanted=(polkitd curl iw) missing=() package need_node=0 release
  case "$kiosk_mode" in
    cage) [ "$browser" = cog ] || wanted+=(cage wlr-randr) ;; # cog draws on the screen itself (DRM)
    desktop) wanted+=(wlr-randr) ;;
  esac
  if [ "$kiosk_mode" != none ] && [ "$browser" = cog ]; then
    wanted+=(cog)
  elif [ "$kiosk_mode" != none ] && ! command -v chromium >/dev/null && ! command -v chromium-browser >/dev/null; then
    if apt-cache show chromium >/dev/null 2>&1; then wanted+=(chromium); else wanted+=(chromium-browser); fi
  fi
  [ -z "$zram_package" ] || wanted+=("$zram_package")
  [ -z "$ap_ssid" ] || wanted+=(network-manager dnsmasq-base)
  case "$time_server" in leader | follow) wanted+=(chrony) ;; esac
  for package in "${wanted[@]}"; do installed "$package" || missing+=("$package"); done
  find_node || need_node=1

  say "Debian packages"
  if [ ${#missing[@]} -eq 0 ] && [ "$need_node" = 0 ]; then
    note "all there; Node.js $("$node_bin" --version) at $node_bin"
    return 0
  fi
  if [ "$with_packages" = 0 ]; then
    [ ${#missing[@]} -eq 0 ] || warn "not installed (--no-packages): ${missing[*]}"
    [ "$need_node" = 0 ] || die "Node.js 20.19 or newer is needed at /usr/bin/node (--no-packages: install it yourself)"
    note "Node.js $("$node_bin" --version) at $node_bin"
    return 0
  fi
  if [ "$need_node" = 1 ]; then
    release=$(codename)
    case "$release" in
      bookworm) add_nodesource ;;
      trixie | forky | sid) missing+=(nodejs) ;; # Debian's own nodejs is 20.19 or newer
      *) die "Node.js 20.19 or newer is needed and this is not Raspberry Pi OS Bookworm or Trixie ($release): install Node.js system-wide (/usr/bin/node) and run this again" ;;
    esac
    [ "$release" != bookworm ] || missing+=(nodejs)
  fi
  note "installing: ${missing[*]}"
  if dry; then
    run apt-get update --error-on=any
    run env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "${missing[@]}"
    node_bin=/usr/bin/node
    return 0
  fi
  if ! apt-get -q update --error-on=any; then offline "the package lists" "install ${missing[*]} yourself"; fi
  if [ "$nodesource_added" = 1 ] && ! apt-cache policy nodejs | grep -q 'deb.nodesource.com'; then offline "NodeSource's package list" "install Node.js 20 yourself"; fi
  if ! DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; then offline "${missing[*]}"; fi
  find_node || die "Node.js is still missing or older than 20.19 after installing it: $(command -v node || echo none)"
  note "Node.js $("$node_bin" --version) at $node_bin"
}

# ---- users ----------------------------------------------------------------------------------------------

ensure_users() {
  local group
  say "Users"
  if ! getent passwd "$SERVICE_USER" >/dev/null; then
    run useradd --system --user-group --home-dir /nonexistent --no-create-home --shell /usr/sbin/nologin \
      --comment "Pi Camera TimeSync server" "$SERVICE_USER"
  fi
  if [ "$kiosk_mode" = cage ]; then
    if ! getent passwd "$KIOSK_USER" >/dev/null; then
      # No password, no login shell; its home (Chromium's profile) is the unit's StateDirectory.
      run useradd --system --user-group --home-dir "$KIOSK_HOME" --no-create-home --shell /usr/sbin/nologin \
        --comment "Pi Camera TimeSync kiosk screen" "$KIOSK_USER"
    fi
    # The server's group: the screen reads the kiosk secret the server writes to $DATA (0750) / kiosk-token (0640).
    for group in video render input "$SERVICE_USER"; do
      if getent group "$group" >/dev/null && ! id -nG "$KIOSK_USER" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
        run usermod -a -G "$group" "$KIOSK_USER"
      fi
    done
    if [ ! -d "$(at "$KIOSK_HOME")" ]; then
      mkdir -p "$(at "$KIOSK_HOME")"
      chmod 0700 "$(at "$KIOSK_HOME")"
      if dry; then run chown "$KIOSK_USER:$KIOSK_USER" "$KIOSK_HOME"; else chown "$KIOSK_USER:$KIOSK_USER" "$KIOSK_HOME"; fi
    fi
  fi
  if [ "$kiosk_mode" = cage ]; then note "$SERVICE_USER (the server), $KIOSK_USER (the screen)"; else note "$SERVICE_USER (the server)"; fi
  if [ ! -d "$(at "$DATA")" ]; then
    mkdir -p "$(at "$DATA")"
    chmod 0750 "$(at "$DATA")"
    if dry; then run chown "$SERVICE_USER:$SERVICE_USER" "$DATA"; else chown "$SERVICE_USER:$SERVICE_USER" "$DATA"; fi
  elif ! dry && [ "$(stat -c %U "$DATA")" != "$SERVICE_USER" ]; then
    # A journal kept by an earlier --uninstall belongs to a user that is gone.
    run chown -R "$SERVICE_USER:$SERVICE_USER" "$DATA"
  fi
}

# ---- the health check -------------------------------------------------------------------------------------

check_dir=''

# check_health DIR VERSION: starts DIR's server as the service user with the settings file, on 127.0.0.1 and
# a free port, with its data in a temporary folder, the simulated clock and no camera (so the check can
# change nothing), and waits for /api/health to answer with VERSION.
check_health() {
  local dir=$1 version=$2 line name value port answer pid deadline failure=''
  local env_args=(PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/nonexistent NODE_ENV=production NO_COLOR=1)
  if dry; then
    run runuser -u "$SERVICE_USER" -- env -i "${env_args[@]}" "<settings>" HOST=127.0.0.1 PORT=0 CLOCK_BACKEND=simulated "$node_bin" "${dir#"$DESTDIR"}/dist/backend/main.js"
    note "(then: GET /api/health must answer version $version within ${HEALTH_TIMEOUT}s)"
    return 0
  fi
  if [ -r "$SETTINGS" ]; then
    while IFS= read -r line || [ -n "$line" ]; do
      [[ "$line" =~ ^[[:space:]]*([A-Za-z_][A-Za-z0-9_]*)=(.*)$ ]] || continue
      name=${BASH_REMATCH[1]}
      value=${BASH_REMATCH[2]}
      value=${value%\"}
      value=${value#\"}
      env_args+=("$name=$value")
    done <"$SETTINGS"
  fi
  check_dir=$(mktemp -d /tmp/pi-camera-timesync-check.XXXXXX)
  chmod 0755 "$check_dir"
  install -d -o "$SERVICE_USER" -g "$SERVICE_USER" -m 0700 "$check_dir/data"
  env_args+=(HOST=127.0.0.1 PORT=0 "DATA_DIR=$check_dir/data" CLOCK_BACKEND=simulated CAMERA_URL= CAMERA_DISCOVERY=false AUTO_SYNC=false)
  (cd "$dir" && exec runuser -u "$SERVICE_USER" -- env -i "${env_args[@]}" "$node_bin" "$dir/dist/backend/main.js") >"$check_dir/log" 2>&1 9>&- &
  pid=$!
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  while :; do
    port=$(sed -n '/Serving the page/s#.*http://[^ ]*:\([0-9][0-9]*\).*#\1#p' "$check_dir/log" | head -n 1)
    if [ -n "$port" ] && answer=$(curl --silent --fail --max-time 5 "http://127.0.0.1:$port/api/health" 2>/dev/null); then
      case "$answer" in
        *"\"version\":\"$version\""*) break ;;
        *) failure="it answers $answer, not version $version" && break ;;
      esac
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      failure="it stopped"
      break
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      failure="no answer within ${HEALTH_TIMEOUT}s"
      break
    fi
    sleep 0.5
  done
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  if [ -n "$failure" ]; then
    printf '%s\n' "    health check of $version failed: $failure; its last lines:" >&2
    tail -n 5 "$check_dir/log" | sed 's/^/      | /' >&2
    rm -rf "$check_dir"
    check_dir=''
    return 1
  fi
  note "health check: $version answers /api/health"
  rm -rf "$check_dir"
  check_dir=''
}

# wait_for_service VERSION: the real service answers on its port with VERSION.
wait_for_service() {
  local version=$1 port deadline answer=''
  dry && return 0
  port=$(setting PORT)
  port=${port:-80}
  deadline=$((SECONDS + HEALTH_TIMEOUT))
  while [ "$SECONDS" -lt "$deadline" ]; do
    answer=$(curl --silent --fail --max-time 3 "http://127.0.0.1:$port/api/health" 2>/dev/null || true)
    case "$answer" in *"\"version\":\"$version\""*) return 0 ;; esac
    sleep 1
  done
  printf '    the service does not answer with %s on port %s (last answer: %s)\n' "$version" "$port" "${answer:-none}" >&2
  return 1
}

# ---- what goes in /etc ------------------------------------------------------------------------------------

settings_template() {
  cat <<'EOF'
# Settings of Pi Camera TimeSync, read by the server and the kiosk screen (a systemd EnvironmentFile:
# one NAME=value per line, no spaces around "="). After a change:
#   sudo systemctl restart pi-camera-timesync pi-camera-timesync-kiosk
# Every variable: README.md ("Configuration") and kiosk/README.md in /opt/pi-camera-timesync/current.
#
# PORT=80
# AP_INTERFACE=wlan0          its clients may set the time while it is an access point
# AP_SUBNETS=                 or trust exactly these subnets instead (e.g. 192.168.4.0/24)
# CAMERA_URL=http://192.168.4.2:8080
# TIME_SYNC_THRESHOLD=1000
#
# The screen:
# KIOSK_ROTATION=0            set it with install.sh --rotate, so that touch follows
# KIOSK_SCREEN_ON=07:00-22:00 set it with install.sh --screen-on
# KIOSK_CURSOR=hidden         shown: keep the mouse pointer
# KIOSK_FALLBACK_AFTER=20     seconds before the screen says why the server is not up
# KIOSK_EXTRA_FLAGS=--force-device-scale-factor=1.25
# KIOSK_ENGINE, KIOSK_MEMORY_FLAGS: the browser and its low-memory flags, written by install.sh (--browser=)
EOF
}

render_server_unit() { sed "s#^ExecStart=/usr/bin/node #ExecStart=$node_bin #" "$1/kiosk/systemd/$SERVER_UNIT"; }

udev_rule() {
  local rotation=$1 schedule=$2
  # shellcheck source=kiosk/kiosk-lib.sh
  . "$(script_dir)/kiosk-lib.sh"
  printf '# Pi Camera TimeSync kiosk (kiosk/install.sh; --uninstall removes it).\n'
  if [ "$rotation" != 0 ]; then
    printf '# The screen is turned %s degrees clockwise (KIOSK_ROTATION): touch follows the picture.\n' "$rotation"
    printf 'ENV{ID_INPUT_TOUCHSCREEN}=="1", ENV{LIBINPUT_CALIBRATION_MATRIX}="%s"\n' "$(touch_matrix "$rotation")"
  fi
  if [ -n "$schedule" ]; then
    printf '# KIOSK_SCREEN_ON=%s: the kiosk (group video) may switch a DSI panel'"'"'s backlight.\n' "$schedule"
    printf 'ACTION=="add", SUBSYSTEM=="backlight", RUN+="/bin/chgrp video /sys%%p/bl_power", RUN+="/bin/chmod g+w /sys%%p/bl_power"\n'
  fi
}

# A block between our markers in someone's file: replaced, appended, or (no BLOCK) taken out.
with_block() { # FILE [BLOCK]
  local file=$1 block=${2:-}
  if [ -f "$file" ]; then
    awk -v begin="$MARK_BEGIN" -v end="$MARK_END" '$0 == begin { skip = 1 } !skip { print } $0 == end { skip = 0 }' "$file"
  fi
  [ -z "$block" ] || printf '%s\n%s\n%s\n' "$MARK_BEGIN" "$block" "$MARK_END"
}

configure_desktop() { # present|absent
  local home autostart environment content owner
  home=$(desktop_home)
  autostart="$home/.config/labwc/autostart"
  environment="$home/.config/labwc/environment"
  owner="$desktop_user:$(id -gn "$desktop_user" 2>/dev/null || echo "$desktop_user")"
  if [ "$1" = present ]; then
    content=$(with_block "$(at "$autostart")" "$APP/current/kiosk/launch-kiosk.sh &")
    printf '%s\n' "$content" | put_file "$autostart" 0644 "$owner" && desktop_changed=1
    if [ "$(setting KIOSK_CURSOR)" != shown ]; then
      content=$(with_block "$(at "$environment")" "XCURSOR_THEME=pi-camera-timesync-hidden
XCURSOR_PATH=$APP/current/kiosk/cursor-theme:/usr/share/icons")
    else
      content=$(with_block "$(at "$environment")")
    fi
    if [ -n "$content" ]; then
      printf '%s\n' "$content" | put_file "$environment" 0644 "$owner" && desktop_changed=1
    fi
    return 0
  fi
  for file in "$autostart" "$environment"; do
    [ -f "$(at "$file")" ] || continue
    content=$(with_block "$(at "$file")")
    if [ -z "$(printf '%s' "$content" | tr -d '[:space:]')" ]; then
      remove_file "$file" || true
    else
      printf '%s\n' "$content" | put_file "$file" 0644 || true
    fi
  done
}

# ---- the access point ------------------------------------------------------------------------------------

read_ap_password() {
  local password again
  if [ -n "$ap_password_file" ]; then
    [ -r "$ap_password_file" ] || die "--ap-password-file $ap_password_file: cannot read it"
    IFS= read -r password <"$ap_password_file" || true
  elif [ -t 0 ] && ! dry; then
    read -r -s -p "    Wi-Fi password for '$ap_ssid' (8 to 63 characters): " password
    echo
    read -r -s -p "    again: " again
    echo
    [ "$password" = "$again" ] || die "the two passwords differ"
  else
    die "--access-point needs a password: --ap-password-file=FILE (or run it in a terminal to be asked)"
  fi
  [ ${#password} -ge 8 ] && [ ${#password} -le 63 ] || die "a WPA2 password has 8 to 63 characters"
  [[ "$password" =~ ^[[:print:]]+$ ]] && [[ "$password" != *\\* ]] && [[ "$password" != " "* ]] && [[ "$password" != *" " ]] ||
    die "the Wi-Fi password must be printable characters, without backslashes or spaces at either end"
  printf '%s' "$password"
}

# A fixed UUID per interface: reruns write the same file.
ap_uuid() {
  local h
  h=$(printf 'pi-camera-timesync-ap:%s' "$ap_interface" | sha256sum | cut -c1-32)
  printf '%s-%s-4%s-8%s-%s' "${h:0:8}" "${h:8:4}" "${h:13:3}" "${h:17:3}" "${h:20:12}"
}

ap_password=''

configure_access_point() {
  local password=$ap_password address=${ap_address%/*} changed=0 device_line
  say "Access point '$ap_ssid' on $ap_interface ($ap_address)"
  cat <<EOF | put_file "$AP_FILE" 0600 && changed=1
# Pi Camera TimeSync access point (kiosk/install.sh --access-point; --uninstall removes it).
[connection]
id=$AP_CONNECTION
uuid=$(ap_uuid)
type=wifi
interface-name=$ap_interface
autoconnect=true
autoconnect-priority=100

[wifi]
mode=ap
ssid=$ap_ssid
band=bg

[wifi-security]
key-mgmt=wpa-psk
proto=rsn
pairwise=ccmp
group=ccmp
psk=$password

[ipv4]
method=shared
address1=$ap_address

[ipv6]
method=disabled
EOF
  cat <<EOF | put_file "$DNS_FILE" 0644 && changed=1
# Pi Camera TimeSync (kiosk/install.sh --access-point): on the access point every name resolves to the Pi,
# so the phones' captive-portal checks (connectivitycheck.gstatic.com, captive.apple.com, ...) reach the
# app and the phone opens it by itself.
address=/#/$address
EOF
  if [ "$ap_interface" != wlan0 ] || [ -n "$(setting AP_INTERFACE)" ]; then
    set_setting AP_INTERFACE "$ap_interface" && server_changed=1
  fi
  if [ "$changed" = 0 ]; then
    note "unchanged"
    return 0
  fi
  run nmcli connection reload
  device_line=$(! dry && nmcli -t -f DEVICE,TYPE,STATE,CONNECTION device 2>/dev/null | grep "^$ap_interface:wifi:connected:" || true)
  if [ -n "$device_line" ] && [ "${device_line##*:}" != "$AP_CONNECTION" ]; then
    if ask "$ap_interface is connected to '${device_line##*:}' now; if you are logged in over it, you lose this connection. Switch it to the access point now?"; then
      run nmcli connection up "$AP_CONNECTION"
    else
      note "the access point comes up at the next boot (it has priority over other Wi-Fi connections)"
    fi
  else
    run nmcli connection up "$AP_CONNECTION" || warn "the access point did not come up now (sudo nmcli connection up $AP_CONNECTION shows why)"
  fi
  if ! dry && command -v rfkill >/dev/null && rfkill list wifi 2>/dev/null | grep -q 'Soft blocked: yes'; then
    warn "Wi-Fi is blocked until its country is set: sudo raspi-config nonint do_wifi_country XX (your country code)"
  fi
}

# ---- the time server (chrony) ----------------------------------------------------------------------------

# The time server this install keeps: an option, else what the last install chose (off: none).
choose_time_server() {
  local kept
  if [ -z "$time_server" ]; then
    kept=$(state_of TIME_SERVER)
    case "$kept" in
      leader) time_server=leader ;;
      follow:*) time_server=follow follow_address=${kept#follow:} ;;
    esac
  fi
}

# ADDRESS/PREFIX -> its network, as chrony's `allow` takes it (10.42.0.1/24 -> 10.42.0.0/24).
cidr_network() {
  local address=${1%/*} prefix=${1#*/} a b c d n mask
  IFS=. read -r a b c d <<<"$address"
  n=$(((a << 24) | (b << 16) | (c << 8) | d))
  mask=$(((0xffffffff << (32 - prefix)) & 0xffffffff))
  n=$((n & mask))
  printf '%d.%d.%d.%d/%d' $(((n >> 24) & 255)) $(((n >> 16) & 255)) $(((n >> 8) & 255)) $((n & 255)) "$prefix"
}

chrony_conf() {
  printf '%s\n' "# Pi Camera TimeSync (kiosk/install.sh --time-server; --uninstall removes it). chrony keeps the Pi's clock"
  printf '%s\n' "# and serves it; the server (TIME_SERVER=chrony) answers the first source on loopback with the Pi's best"
  printf '%s\n' "# source (a phone, the operator, GPS), each reading a few times only: see docs/how-it-works.md."
  printf 'server 127.0.0.1 port %s minpoll 0 maxpoll 0 iburst\n' "$FEED_PORT"
  if [ "$time_server" = follow ]; then
    printf '%s\n' "# The leader this Pi follows (--follow); while it answers, phones are measured, not followed."
    printf 'server %s iburst minpoll 0 maxpoll 4 prefer\n' "$follow_address"
  fi
  printf '%s\n' "# Serve the access point; with no fresh source keep serving the clock as it runs, so followers keep one time."
  printf 'allow %s\n' "$(cidr_network "$ap_address")"
  printf '%s\n' "local stratum 10"
}

# The service user may use chronyd's command socket (its clients, `makestep`): /run/chrony is chrony's group's
# (setgid, so the socket is too) and the socket is group-writable. Nothing else of chrony's changes.
chrony_dropin() {
  printf '%s\n' "# Pi Camera TimeSync (kiosk/install.sh --time-server; --uninstall removes it): the group _chrony (chronyd's"
  printf '%s\n' "# own and the service user timesync) may use chronyd's command socket in /run/chrony."
  printf '%s\n' "[Service]" "RuntimeDirectoryMode=2770" "UMask=0002"
}

configure_time_server() {
  local changed=0 label
  case "$time_server" in
    leader) label='leading: this Pi serves its time' ;;
    follow) label="following $follow_address" ;;
    off) remove_time_server && return 0 ;;
    *) return 0 ;;
  esac
  say "Time server: chrony, $label"
  chrony_conf | put_file "$CHRONY_CONF" 0644 && changed=1
  chrony_dropin | put_file "$CHRONY_DROPIN" 0644 && changed=1
  if ! id -nG "$SERVICE_USER" 2>/dev/null | tr ' ' '\n' | grep -qx _chrony; then
    run usermod -a -G _chrony "$SERVICE_USER"
    server_changed=1
  fi
  set_setting TIME_SERVER chrony && server_changed=1
  set_setting NTP_FOLLOW "$follow_address" && server_changed=1
  if [ "$changed" = 0 ]; then
    # Nothing of ours changed: chrony is left as it is (a rerun restarts nothing).
    is_active "$CHRONY_UNIT" || dry || warn "chrony is not running: sudo systemctl start chrony (journalctl -u chrony tells why)"
    note "unchanged"
    return 0
  fi
  run systemctl daemon-reload || true
  # Stopped first: chronyd writes its drift file as it stops. A Pi that never ran chrony starts from "frequency
  # unknown, within ±50 ppm" (a crystal's tolerance) rather than chrony's "anything": the bound it serves is then
  # honest from its first reading, not seconds wide until hours of readings have taught it the drift.
  if is_active "$CHRONY_UNIT"; then run systemctl stop "$CHRONY_UNIT" || true; fi
  if [ ! -e "$(at "$CHRONY_DRIFT")" ]; then printf '0.000 50.000\n' | put_file "$CHRONY_DRIFT" 0644 _chrony:_chrony || true; fi
  unit_enabled "$CHRONY_UNIT" || run systemctl enable "$CHRONY_UNIT" || true
  run systemctl restart "$CHRONY_UNIT" || warn "chrony did not start now (journalctl -u chrony tells why); it starts at the next boot"
}

# Takes this product's chrony configuration off (--no-time-server, --uninstall); chrony stays installed with its own.
# Status 0 when there was something to take off.
remove_time_server() {
  local removed=1
  remove_file "$CHRONY_CONF" && removed=0
  remove_file "$CHRONY_DROPIN" && removed=0
  if [ -e "$(at "$SETTINGS")" ]; then
    set_setting TIME_SERVER '' && { server_changed=1; removed=0; }
    set_setting NTP_FOLLOW '' && { server_changed=1; removed=0; }
  fi
  if [ "$removed" = 0 ]; then
    say "Time server: chrony's configuration taken off (chrony keeps its own)"
    run systemctl daemon-reload || true
    if is_active "$CHRONY_UNIT"; then run systemctl restart "$CHRONY_UNIT" || true; fi
  fi
  return "$removed"
}

# ---- activation ------------------------------------------------------------------------------------------

server_changed=0
kiosk_changed=0
desktop_changed=0
units_changed=0

# Writes units, rules and links for the version in versions/ID, switches `current`, restarts what changed.
# On failure of the restarted server, the previous `current` comes back.
activate() {
  local id=$1 dir old rotation schedule
  dir=$(at "$APP/versions/$id")
  old=$(readlink "$(at "$APP/current")" 2>/dev/null || true)

  say "Service, rule and screen"
  render_server_unit "$dir" | put_file "$UNIT_DIR/$SERVER_UNIT" 0644 && { units_changed=1; server_changed=1; }
  put_file "$RULE" 0644 <"$dir/kiosk/polkit/50-pi-camera-timesync.rules" || true
  if [ "$kiosk_mode" = cage ]; then
    put_file "$UNIT_DIR/$KIOSK_UNIT" 0644 <"$dir/kiosk/systemd/$KIOSK_UNIT" && { units_changed=1; kiosk_changed=1; }
  elif [ -e "$(at "$UNIT_DIR/$KIOSK_UNIT")" ]; then
    stop_and_disable "$KIOSK_UNIT"
    remove_file "$UNIT_DIR/$KIOSK_UNIT" && units_changed=1
  fi
  if [ "$kiosk_mode" = desktop ]; then configure_desktop present; fi
  if [ "$kiosk_mode" != none ]; then
    # shellcheck source=kiosk/kiosk-lib.sh
    . "$(script_dir)/kiosk-lib.sh"
    rotation=$(kiosk_rotation "$(setting KIOSK_ROTATION)")
    schedule=$(setting KIOSK_SCREEN_ON)
    if [ "$rotation" != 0 ] || [ -n "$schedule" ]; then
      if udev_rule "$rotation" "$schedule" | put_file "$UDEV_RULE" 0644; then
        kiosk_changed=1
        run udevadm control --reload || true
        run udevadm trigger --subsystem-match=input --subsystem-match=backlight --action=change || true
      fi
    elif remove_file "$UDEV_RULE"; then
      kiosk_changed=1
      run udevadm control --reload || true
      run udevadm trigger --subsystem-match=input --action=change || true
    fi
  fi
  if [ "$units_changed" = 1 ]; then run systemctl daemon-reload || true; fi

  if link "$APP/current" "versions/$id"; then
    server_changed=1
    if [ -n "$old" ] && [ "$old" != "versions/$id" ]; then link "$APP/previous" "$old" || true; fi
  fi

  if ! unit_enabled "$SERVER_UNIT"; then run systemctl enable "$SERVER_UNIT"; fi
  if [ "$server_changed" = 1 ] || ! is_active "$SERVER_UNIT"; then
    run systemctl restart "$SERVER_UNIT"
    if ! wait_for_service "$bundle_version"; then
      if [ -n "$old" ] && [ "$old" != "versions/$id" ]; then
        warn "version $bundle_version does not answer as a service: going back to ${old#versions/}"
        local back=${old#versions/}
        render_server_unit "$(at "$APP/$old")" | put_file "$UNIT_DIR/$SERVER_UNIT" 0644 && run systemctl daemon-reload || true
        link "$APP/current" "$old" || true
        run systemctl restart "$SERVER_UNIT"
        wait_for_service "$(head -n 1 "$(at "$APP/$old/VERSION")")" || warn "$back does not answer either: journalctl -u pi-camera-timesync"
        die "update to $bundle_version failed; $back runs again (journalctl -u pi-camera-timesync tells why)"
      fi
      die "the service does not answer: journalctl -u pi-camera-timesync tells why"
    fi
    dry || note "the service answers with $bundle_version"
  else
    note "the service runs $bundle_version already; not restarted"
  fi

  if [ "$kiosk_mode" = cage ]; then start_kiosk_unit; fi
  if [ "$kiosk_mode" = desktop ] && [ "$desktop_changed" = 1 ]; then
    note "the kiosk starts at $desktop_user's next desktop login (the running session is left alone)"
  fi
}

stop_and_disable() {
  if is_active "$1"; then run systemctl stop "$1" || true; fi
  if unit_enabled "$1"; then run systemctl disable "$1" || true; fi
}

start_kiosk_unit() {
  if desktop_at_boot; then
    if [ "$(state_of DEFAULT_TARGET_WAS)" = "" ] && ! unit_enabled "$KIOSK_UNIT"; then
      if ask "This Pi starts a desktop at boot; the cage kiosk needs the screen to itself. Boot to the console (and the kiosk) instead?"; then
        # What --uninstall puts back: the link as it was, or none.
        default_target_was=$(readlink "$(at /etc/systemd/system/default.target)" 2>/dev/null || echo none)
        run systemctl set-default multi-user.target
      else
        note "the kiosk unit is installed but not enabled (for a kiosk inside the desktop: --kiosk=desktop)"
        return 0
      fi
    fi
  fi
  if ! unit_enabled "$KIOSK_UNIT"; then
    run systemctl enable "$KIOSK_UNIT"
    kiosk_changed=1
  fi
  [ "$kiosk_changed" = 1 ] || return 0
  if desktop_running && ! is_active "$KIOSK_UNIT"; then
    if ask "A desktop session is using the screen now. Stop it and start the kiosk?"; then
      run systemctl stop display-manager.service || true
    else
      note "the kiosk starts at the next boot"
      return 0
    fi
  fi
  run systemctl restart "$KIOSK_UNIT" || warn "the kiosk did not start now (journalctl -u $KIOSK_UNIT); it starts at the next boot"
}

write_state() {
  {
    printf 'KIOSK_MODE=%s\n' "$kiosk_mode"
    [ -z "$desktop_user" ] || printf 'DESKTOP_USER=%s\n' "$desktop_user"
    [ -z "$default_target_was" ] || printf 'DEFAULT_TARGET_WAS=%s\n' "$default_target_was"
    [ -z "$browser_kept" ] || printf 'BROWSER=%s\n' "$browser_kept"
    case "$time_server" in
      leader) printf 'TIME_SERVER=leader\n' ;;
      follow) printf 'TIME_SERVER=follow:%s\n' "$follow_address" ;;
    esac
  } | put_file "$STATE" 0644 || true
}

prune_versions() {
  local current previous entry name
  current=$(readlink "$(at "$APP/current")" 2>/dev/null || true)
  previous=$(readlink "$(at "$APP/previous")" 2>/dev/null || true)
  for entry in "$(at "$APP/versions")"/*; do
    [ -d "$entry" ] || continue
    name="versions/$(basename "$entry")"
    [ "$name" = "$current" ] || [ "$name" = "$previous" ] && continue
    rm -rf "$entry"
    note "removed the old $name"
  done
}

default_target_was=''

# The first install.sh copied a checkout into /opt/pi-camera-timesync itself and built it there; once a
# version from versions/ runs, those files go.
remove_legacy_layout() {
  local entry
  [ -f "$(at "$APP/package.json")" ] || return 0
  for entry in "$(at "$APP")"/* "$(at "$APP")"/.[!.]*; do
    [ -e "$entry" ] || continue
    case "$(basename "$entry")" in versions | current | previous | install-state | .incoming.*) continue ;; esac
    rm -rf "$entry"
  done
  note "removed the earlier install's files (the checkout built in $APP)"
}

# ---- the actions -----------------------------------------------------------------------------------------

do_install() {
  local id dir current value address
  if [ -n "$ap_ssid" ]; then
    # Asked (or read) first: a missing password stops the install before it changes anything.
    if ! dry && ! command -v nmcli >/dev/null; then die "--access-point needs NetworkManager (nmcli), the default of Raspberry Pi OS Bookworm and Trixie"; fi
    ap_password=$(read_ap_password)
  fi
  unpack_bundle "$bundle_arg"
  choose_kiosk_mode
  choose_desktop_user
  choose_browser
  choose_time_server
  default_target_was=$(state_of DEFAULT_TARGET_WAS)
  ensure_packages
  ensure_users

  say "Version $bundle_version"
  id=$(version_id)
  dir=$(at "$APP/versions/$id")
  current=$(readlink "$(at "$APP/current")" 2>/dev/null || true)
  if [ -z "$incoming" ]; then
    note "versions/$id is there already"
  else
    mkdir -p "$(at "$APP/versions")"
    if dry; then run chown -R root:root "$APP/versions/$id"; else chown -R root:root "$bundle_dir"; fi
    chmod -R u+rwX,go+rX,go-w "$bundle_dir"
    mv "$bundle_dir" "$dir"
    rm -rf "$incoming"
    note "unpacked into $APP/versions/$id"
  fi
  incoming=''

  if [ ! -e "$(at "$SETTINGS")" ]; then settings_template | put_file "$SETTINGS" 0644 || true; fi
  browser_settings
  if [ -n "$rotate" ]; then
    if [ "$rotate" = 0 ]; then value=''; else value=$rotate; fi
    if set_setting KIOSK_ROTATION "$value"; then kiosk_changed=1; fi
  fi
  if [ -n "$screen_on" ]; then
    if [ "$screen_on" = always ]; then value=''; else value=$screen_on; fi
    if set_setting KIOSK_SCREEN_ON "$value"; then kiosk_changed=1; fi
  fi

  configure_time_server

  if [ "$current" != "versions/$id" ] || ! is_active "$SERVER_UNIT"; then
    if ! check_health "$dir" "$bundle_version"; then
      if [ "versions/$id" != "$current" ] && [ "versions/$id" != "$(readlink "$(at "$APP/previous")" 2>/dev/null || true)" ]; then
        rm -rf "$dir"
      fi
      die "version $bundle_version did not pass its health check; nothing was switched${current:+, ${current#versions/} keeps running}"
    fi
  fi

  activate "$id"
  configure_zram
  [ -z "$ap_ssid" ] || configure_access_point
  write_state
  prune_versions
  remove_legacy_layout
  say "Done: $bundle_version${kiosk_mode:+ (kiosk: $kiosk_mode)}"
  if ! dry; then
    address=$(hostname -I 2>/dev/null | awk '{print $1}')
    note "the page: http://${address:-$(hostname)}$(port_suffix)/   logs: journalctl -u pi-camera-timesync"
    note "back to the previous version: sudo $APP/current/kiosk/install.sh --rollback"
  fi
}

port_suffix() {
  local port
  port=$(setting PORT)
  [ -z "$port" ] || [ "$port" = 80 ] || printf ':%s' "$port"
}

do_rollback() {
  local previous id
  previous=$(readlink "$(at "$APP/previous")" 2>/dev/null || true)
  [ -n "$previous" ] && [ -d "$(at "$APP/$previous")" ] || die "no previous version to go back to ($APP/previous)"
  id=${previous#versions/}
  bundle_version=$(head -n 1 "$(at "$APP/$previous/VERSION")")
  kiosk_mode=$(state_of KIOSK_MODE)
  kiosk_mode=${kiosk_mode:-none}
  desktop_user=$(state_of DESKTOP_USER)
  default_target_was=$(state_of DEFAULT_TARGET_WAS)
  browser_kept=$(state_of BROWSER)
  choose_time_server
  find_node || die "Node.js 20.19 or newer is missing at /usr/bin/node"
  say "Back to $bundle_version"
  check_health "$(at "$APP/$previous")" "$bundle_version" || die "the previous version $bundle_version does not pass its health check; nothing was switched"
  activate "$id"
  write_state
  say "Done: $bundle_version runs (--rollback again returns to the other one)"
}

do_uninstall() {
  local user
  say "Removing Pi Camera TimeSync"
  kiosk_mode=$(state_of KIOSK_MODE)
  desktop_user=$(state_of DESKTOP_USER)
  default_target_was=$(state_of DEFAULT_TARGET_WAS)
  for unit in "$KIOSK_UNIT" "$SERVER_UNIT"; do
    [ -e "$(at "$UNIT_DIR/$unit")" ] || continue
    stop_and_disable "$unit"
    remove_file "$UNIT_DIR/$unit" || true
  done
  run systemctl daemon-reload || true
  remove_file "$RULE" || true
  if remove_file "$UDEV_RULE"; then
    run udevadm control --reload || true
  fi
  if [ -e "$(at "$AP_FILE")" ]; then
    if ! dry && command -v nmcli >/dev/null && nmcli -t -f NAME connection show 2>/dev/null | grep -qx "$AP_CONNECTION"; then
      run nmcli connection delete "$AP_CONNECTION" || true
    fi
    remove_file "$AP_FILE" || true
  fi
  remove_file "$DNS_FILE" || true
  remove_time_server || true
  if remove_file "$ZRAM_DROPIN"; then run systemctl daemon-reload || true; fi
  if [ -n "$desktop_user" ]; then configure_desktop absent; fi
  if [ "$default_target_was" = none ]; then
    remove_file /etc/systemd/system/default.target && note "the Pi boots to its desktop again"
  elif [ -n "$default_target_was" ]; then
    link /etc/systemd/system/default.target "$default_target_was" && note "the Pi boots to its desktop again"
  fi
  if [ -e "$(at "$APP")" ]; then
    rm -rf "$(at "$APP")"
    note "removed $APP"
  fi
  for user in "$KIOSK_USER" "$SERVICE_USER"; do
    if getent passwd "$user" >/dev/null; then run userdel "$user"; fi
    if getent group "$user" >/dev/null; then run groupdel "$user" || true; fi
  done
  if [ -e "$(at "$KIOSK_HOME")" ]; then
    rm -rf "$(at "$KIOSK_HOME")"
    note "removed $KIOSK_HOME (the kiosk browser's profile)"
  fi
  if [ -e "$(at "$DATA")" ] || [ -e "$(at "$SETTINGS")" ]; then
    if [ "$purge" = 1 ] || ask "Remove the clock-change journal ($DATA) and the settings ($SETTINGS) too?"; then
      rm -rf "$(at "$DATA")"
      remove_file "$SETTINGS" || true
      note "removed $DATA"
    else
      # The kiosk secret is no record: it goes with the screen; a new install writes a new one.
      rm -f "$(at "$DATA")/kiosk-token"
      note "kept $DATA (the clock-change journal) and $SETTINGS: --uninstall --purge removes them"
    fi
  fi
  note "left installed: Debian packages (nodejs, cage, chromium, polkitd, chrony, ...) and NodeSource's apt source if it was added"
  say "Done"
}

main() {
  parse_args "$@"
  if ! dry; then
    [ "$(id -u)" -eq 0 ] || die "run it as root: sudo $0 $*"
    command -v systemctl >/dev/null || die "systemd is required"
    mkdir -p /run/lock
    exec 9>/run/lock/pi-camera-timesync-install.lock
    flock -n 9 || die "another install.sh is running"
  else
    say "Dry run: files go under $DESTDIR; commands are printed, not run"
  fi
  case "$action" in
    install) do_install ;;
    rollback) do_rollback ;;
    uninstall) do_uninstall ;;
  esac
}

# Everything above is only definitions: bash has read the whole file before anything runs, so replacing
# this script (an update, --rollback, --uninstall) while it runs cannot change what it does.
main "$@"
