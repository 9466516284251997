#!/usr/bin/env bash
# Regenerates the numbers and pictures quoted in docs/demos/ from full-mode runs (seed 0).
# Usage: tools/regenerate-docs.sh [block ...]   (no argument: every block)
# Each block runs its demos, copies their SVGs to docs/demos/img/<demo>-<name>.svg and splices generated markdown
# into the docs page between "<!-- BEGIN GENERATED <id> -->" and "<!-- END GENERATED <id> -->".
# Blocks are independent: another demo's block goes in its own section below.
set -euo pipefail
cd "$(dirname "$0")/.."
# DEMOS=path/to/Demos skips the build (e.g. a binary built with the test flags).
if [ -z "${DEMOS:-}" ]; then swift build -c release >/dev/null; DEMOS=.build/release/Demos; fi
OUT=${OUT:-out/docs}
BLOCKS="$*"
want() { [ -z "$BLOCKS" ] || [[ " $BLOCKS " == *" $1 "* ]]; }
mkdir -p "$OUT/logs"

# splice PAGE ID FILE: replace the lines between the BEGIN/END GENERATED markers of ID in PAGE by FILE's content.
splice() {
    python3 - "$1" "$2" "$3" <<'PY'
import sys, re
page, ident, src = sys.argv[1:]
text = open(page).read()
begin, end = f"<!-- BEGIN GENERATED {ident} -->", f"<!-- END GENERATED {ident} -->"
if begin not in text or end not in text:
    sys.exit(f"{page}: markers for '{ident}' not found")
head, rest = text.split(begin, 1)
_, tail = rest.split(end, 1)
open(page, "w").write(head + begin + "\n" + open(src).read().rstrip("\n") + "\n" + end + tail)
PY
}
# copy_svgs DIR DEMO NAME...: DIR/NAME.svg → docs/demos/img/DEMO-NAME.svg
copy_svgs() { local dir=$1 demo=$2; shift 2; for n in "$@"; do cp "$dir/$n.svg" "docs/demos/img/$demo-$n.svg"; done; }

# ---------------------------------------------------------------------------------------------------------------
# BEGIN block: quadratic demos (anti-distillation, short-horizon, two-points) — issue 19
if want quad; then
    AD=docs/demos/anti-distillation.md
    # Fig. 10/11/14/15: the paper's setup (original point on the middle learned point x = 0), SGD outer optimizer.
    $DEMOS anti-distillation --out "$OUT/ad-default" > "$OUT/logs/ad-default.log"
    copy_svgs "$OUT/ad-default" anti-distillation points_and_fits norms_vs_K cg_vs_K norms_vs_eta outer_dynamics
    splice $AD ad-default "$OUT/ad-default/summary.md"
    # The same with the exact line search: same end points, 1–3 outer steps.
    $DEMOS anti-distillation --outer-lr auto --k-grid 1 --cg-grid 21 --eta-grid 1 --out "$OUT/ad-auto" > "$OUT/logs/ad-auto.log"
    splice $AD ad-auto "$OUT/ad-auto/summary.md"
    # Off the grid: the original point at x = 0.5.
    $DEMOS anti-distillation --original 0.5:1 --k-grid 1 --eta-grid 1 --out "$OUT/ad-offgrid" > "$OUT/logs/ad-offgrid.log"
    copy_svgs "$OUT/ad-offgrid" anti-distillation-offgrid cg_vs_K
    splice $AD ad-offgrid "$OUT/ad-offgrid/summary.md"
    # Fig. 16: linear amplitudes; Fig. 17: fewer features (F = 4: 9 features, 13 points).
    $DEMOS anti-distillation --amplitudes linear --out "$OUT/ad-linear" > "$OUT/logs/ad-linear.log"
    copy_svgs "$OUT/ad-linear" anti-distillation-linear points_and_fits norms_vs_K
    splice $AD ad-linear "$OUT/ad-linear/summary.md"
    $DEMOS anti-distillation --frequencies 4 --out "$OUT/ad-f4" > "$OUT/logs/ad-f4.log"
    copy_svgs "$OUT/ad-f4" anti-distillation-f4 points_and_fits
    splice $AD ad-f4 "$OUT/ad-f4/summary.md"
    # Fig. 18: MLP inner model, inner SGD lr 0.01, 5000 inner steps per outer step.
    $DEMOS anti-distillation --model mlp --out "$OUT/ad-mlp" > "$OUT/logs/ad-mlp.log"
    copy_svgs "$OUT/ad-mlp" anti-distillation-mlp points_and_fits outer_dynamics
    splice $AD ad-mlp "$OUT/ad-mlp/summary.md"

    $DEMOS short-horizon --out "$OUT/short-horizon" > "$OUT/logs/short-horizon.log"
    copy_svgs "$OUT/short-horizon" short-horizon greedy_vs_searched schedules offline_schedules
    splice docs/demos/short-horizon.md "short-horizon claims.md" "$OUT/short-horizon/claims.md"

    $DEMOS two-points --out "$OUT/two-points" > "$OUT/logs/two-points.log"
    copy_svgs "$OUT/two-points" two-points trajectories
fi
# END block: quadratic demos
# ---------------------------------------------------------------------------------------------------------------
