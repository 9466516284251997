#!/usr/bin/env bash
# Renders every SVG under the given folders (default: out/ and docs/demos/img/) to PNG with headless Chromium,
# at the SVG's own width and height, so the pictures can be looked at as a reader's browser shows them.
#
#   tools/render-svgs.sh [DIR…]        PNGs go to $REVIEW_DIR (default: out/review/), one per SVG, named after
#                                      its path (out/rings/warm.svg → out/review/out__rings__warm.png)
#
# Prints each PNG it wrote; exits 1 if Chromium is missing or a picture could not be rendered.
set -euo pipefail
cd "$(dirname "$0")/.."
review=${REVIEW_DIR:-out/review}
if [ $# -gt 0 ]; then dirs=("$@"); else dirs=(); for d in out docs/demos/img; do [ -d "$d" ] && dirs+=("$d"); done; fi
[ ${#dirs[@]} -gt 0 ] || { echo "render-svgs: no folder to render (default: out/ and docs/demos/img/)" >&2; exit 1; }
browser=$(command -v chromium || command -v chromium-browser || command -v google-chrome || true)
[ -n "$browser" ] || { echo "render-svgs: chromium not found (Debian: apt-get install chromium)" >&2; exit 1; }
# Chromium refuses to run as root inside its sandbox.
flags=(--headless --disable-gpu --hide-scrollbars --force-device-scale-factor=1)
[ "$(id -u)" = 0 ] && flags+=(--no-sandbox)
mkdir -p "$review"
profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
failed=0
while IFS= read -r -d '' svg; do
    # The root element's own size (its first width="…" and height="…").
    root=$(tr '\n' ' ' < "$svg" | grep -o '<svg[^>]*>' | head -1 || true)
    w=$(grep -o ' width="[0-9.]*"' <<< "$root" | head -1 | grep -o '[0-9.]*' | cut -d. -f1 || true)
    h=$(grep -o ' height="[0-9.]*"' <<< "$root" | head -1 | grep -o '[0-9.]*' | cut -d. -f1 || true)
    if [ -z "$w" ] || [ -z "$h" ]; then echo "render-svgs: $svg has no width/height on its <svg>; skipped" >&2; failed=1; continue; fi
    rel=${svg#./}
    case "$rel" in /*) abs=$rel ;; *) abs=$PWD/$rel ;; esac
    png="$review/$(sed 's#^/##; s#/#__#g; s#\.svg$#.png#' <<< "$rel")"
    case "$png" in /*) out=$png ;; *) out=$PWD/$png ;; esac
    rm -f "$png"
    timeout 60 "$browser" "${flags[@]}" --user-data-dir="$profile" --window-size="$w,$h" \
        --screenshot="$out" "file://$abs" > /dev/null 2>&1 || true
    if [ -s "$png" ]; then echo "$png (${w}×${h})"; else echo "render-svgs: could not render $svg" >&2; failed=1; fi
done < <(find "${dirs[@]}" -name '*.svg' -not -path "*/review/*" -print0 | sort -z)
exit $failed
