#!/usr/bin/env bash
# Runs `observability demo` into a temporary directory and screenshots its index.html with headless Chromium
# (Debian's `chromium` package: apt-get install -y chromium) into docs/demo.png.
#
# Usage (from anywhere in the repository): bash scripts/demo-screenshot.sh [output.png]
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
out="${1:-$repo/docs/demo.png}"
chromium="${CHROMIUM:-/usr/bin/chromium}"
if [[ ! -x "$chromium" ]]; then
  echo "demo-screenshot: $chromium not found; install it with: apt-get install -y chromium" >&2
  exit 1
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/observability-demo.XXXXXX")"
trap 'rm -rf "$work"' EXIT

cd "$repo"
# From the sources (no build needed); the built CLI does the same: npx observability demo --out DIR.
page="$(node --import tsx src/bin.ts demo --out "$work/demo")"

"$chromium" --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
  --disable-background-networking --disable-component-update --disable-sync \
  --user-data-dir="$work/chromium-profile" --hide-scrollbars \
  --window-size=1400,1800 --screenshot="$out" "file://$page" 2>"$work/chromium.log" || {
  cat "$work/chromium.log" >&2
  exit 1
}
[[ -s "$out" ]] || {
  echo "demo-screenshot: chromium wrote no screenshot" >&2
  exit 1
}
echo "$out"
