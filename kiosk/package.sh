#!/usr/bin/env bash
# `npm run package`: one release bundle for every Raspberry Pi (arm64 and armhf alike), built on a computer,
# installed on the Pi with kiosk/install.sh. Nothing is compiled on the Pi: the bundle holds the built server
# and page, the production node_modules (no native addons: the script refuses any), kiosk/, VERSION and
# SHA256SUMS (every file's checksum). Beside it, <bundle>.sha256 is the checksum of the archive itself.
#
#   npm run package                      # release/pi-camera-timesync-<version>.tar.gz (+ .sha256)
#   npm run package -- --no-build        # reuse dist/ as it is (npm test has just built it)
#   npm run package -- --out DIR         # somewhere else than release/
#
# The archive is reproducible: same commit, same bytes (sorted names, fixed owner, mtime and gzip header).
# Version: package.json's version + the commit (0.1.0+7f10643), "+...dirty" with uncommitted changes.
set -euo pipefail

repo=$(cd "$(dirname "$0")/.." && pwd)
out="$repo/release"
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --no-build) build=0 ;;
    --out) out=${2:?--out needs a folder}; shift ;;
    --out=*) out=${1#--out=} ;;
    -h | --help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "package.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

cd "$repo"
if [ "$build" = 1 ]; then npm run build; fi
[ -f dist/backend/main.js ] && [ -f dist/frontend/index.html ] || { echo "package.sh: dist/ is not built (npm run build)" >&2; exit 1; }

version=$(node -p 'require("./package.json").version')
epoch=$(date +%s)
if git rev-parse --git-dir >/dev/null 2>&1; then
  version="$version+$(git rev-parse --short=7 HEAD)"
  epoch=$(git log -1 --format=%ct)
  if [ -n "$(git status --porcelain --untracked-files=no -- backend frontend kiosk package.json package-lock.json)" ]; then version="$version.dirty"; fi
fi
version=${PACKAGE_VERSION:-$version}
name="pi-camera-timesync-$version"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
stage="$work/$name"
mkdir -p "$stage/dist"

cp -R dist/backend dist/frontend "$stage/dist/"
find "$stage/dist" -name '*.map' -delete
cp package.json package-lock.json README.md "$stage/"
cp -R docs "$stage/docs"
cp -R kiosk "$stage/kiosk"
node kiosk/tools/cursor-theme.mjs "$stage/kiosk/cursor-theme"
printf '%s\n' "$version" >"$stage/VERSION"

echo "Production dependencies (npm ci --omit=dev, no install scripts)"
(cd "$stage" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --prefer-offline --loglevel=error)
# Not needed to run, and the only links npm makes: the bundle holds regular files only.
rm -rf "$stage/node_modules/.bin" "$stage/node_modules/.package-lock.json"
# Type declarations and source maps are never read at run time: a smaller, faster unpack on an SD card.
find "$stage/node_modules" -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.mts' -o -name '*.d.cts' \) -delete

# The slate's QR decoder is WebAssembly: the Pi has no internet to fetch it from, so the bundle must carry it.
wasm="$stage/node_modules/zxing-wasm/dist/reader/zxing_reader.wasm"
[ -s "$wasm" ] || { echo "package.sh: the QR decoder's WebAssembly file is missing from the bundle ($wasm)" >&2; exit 1; }

native=$(find "$stage" -name '*.node' -o -name 'binding.gyp' | sed "s#^$stage/##")
if [ -n "$native" ]; then
  echo "package.sh: native addons would tie the bundle to one architecture:" >&2
  echo "$native" >&2
  exit 1
fi
links=$(find "$stage" -type l | sed "s#^$stage/##")
if [ -n "$links" ]; then
  echo "package.sh: the bundle must hold regular files only, found links:" >&2
  echo "$links" >&2
  exit 1
fi

(cd "$stage" && find . -type f ! -name SHA256SUMS -print0 | LC_ALL=C sort -z | xargs -0 sha256sum) >"$work/SHA256SUMS"
mv "$work/SHA256SUMS" "$stage/SHA256SUMS"

mkdir -p "$out"
archive="$out/$name.tar.gz"
tar --sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch" --mode='u+rwX,go+rX,go-w' \
  --format=gnu -C "$work" -cf - "$name" | gzip -n -9 >"$archive.tmp"
mv "$archive.tmp" "$archive"
(cd "$out" && sha256sum "$name.tar.gz" >"$name.tar.gz.sha256")

size=$(du -k "$archive" | cut -f1)
files=$(wc -l <"$stage/SHA256SUMS")
echo "$archive (${size} KiB, $files files, version $version)"
