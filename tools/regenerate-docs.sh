#!/usr/bin/env bash
# Regenerates every number and picture quoted in docs/demos: runs each demo at the settings its page states (a
# sweep over seeds + collect where the page quotes mean ± spread), keeps the output in out/docs/<name>/ with the
# printed tables in out/docs/<name>.txt, and copies the pictures into docs/demos/img/.
#
#   tools/regenerate-docs.sh                    # every demo
#   tools/regenerate-docs.sh kaczmarz rings     # some (names as listed by --list)
#   tools/regenerate-docs.sh --list
#
# Environment: DEMOS=path/to/Demos skips the build (default: swift build -c release, then .build/release/Demos);
# OUT (default out/docs); JOBS, the parallel runs of a sweep (default: all cores).
#
# Then quote the numbers from out/docs/<name>.txt (sweeps: the table collect prints, and summary.csv). The
# numbers that carry a <!-- check: … --> marker are held against a fresh run by the tests, so a page that was not
# updated fails `swift test -c release -Xswiftc -enable-testing --filter DocNumberTests` (markers: support.md).
#
# Layout: one function regen_<name> per demo page below, each in its own block; the dispatcher finds them by
# name, so adding a demo is adding a block (no list to edit). Helpers: demo, spread, pictures.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/out/docs}"
IMG="$ROOT/docs/demos/img"
JOBS="${JOBS:-$(nproc)}"

# demo NAME ARGS…: a fresh `Demos ARGS… --out $OUT/NAME`; its stdout (the tables) also in $OUT/NAME.txt.
demo() {
    local name=$1
    shift
    rm -rf "${OUT:?}/$name"
    mkdir -p "$OUT"
    echo "== $name: Demos $*" >&2
    "$DEMOS" "$@" --out "$OUT/$name" | tee "$OUT/$name.txt"
}

# spread NAME SUBCOMMAND SEEDS [SWEEP FLAGS…] [-- FLAGS FOR EVERY RUN]: a fresh sweep over SEEDS (e.g. 0..4)
# into $OUT/NAME, then collect; collect's table also in $OUT/NAME.txt, plots in $OUT/NAME/plots/.
spread() {
    local name=$1 sub=$2 seeds=$3
    shift 3
    rm -rf "${OUT:?}/$name"
    mkdir -p "$OUT"
    echo "== $name: Demos sweep $sub --seeds $seeds $*" >&2
    "$DEMOS" sweep "$sub" --seeds "$seeds" --jobs "$JOBS" --out "$OUT/$name" "$@"
    "$DEMOS" collect "$OUT/$name" | tee "$OUT/$name.txt"
}

# pictures NAME FILE…: copies $OUT/NAME/FILE.svg to docs/demos/img/NAME-FILE.svg.
pictures() {
    local name=$1
    shift
    for f in "$@"; do cp "$OUT/$name/$f.svg" "$IMG/$name-$f.svg"; done
}

# splice PAGE ID FILE: replaces what stands between "<!-- BEGIN GENERATED ID -->" and "<!-- END GENERATED ID -->"
# in docs/demos/PAGE by FILE (a table a demo wrote as markdown).
splice() {
    python3 - "$ROOT/docs/demos/$1" "$2" "$3" <<'PY'
import sys
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

# ---- anti-distillation (docs/demos/anti-distillation.md) ----------------------------------------------------
# Fig. 10/11/14/15 on the paper's setup, the line search, the original point off the grid, Fig. 16 (linear
# amplitudes), Fig. 17 (F = 4), Fig. 18 (MLP, inner SGD lr 0.01, 5000 steps). Tables are spliced into the page.
regen_anti_distillation() {
    demo anti-distillation anti-distillation
    pictures anti-distillation points_and_fits norms_vs_K cg_vs_K norms_vs_eta outer_dynamics
    splice anti-distillation.md ad-default "$OUT/anti-distillation/summary.md"
    demo anti-distillation-auto anti-distillation --outer-lr auto --k-grid 1 --cg-grid 21 --eta-grid 1
    splice anti-distillation.md ad-auto "$OUT/anti-distillation-auto/summary.md"
    demo anti-distillation-offgrid anti-distillation --original 0.5:1 --k-grid 1 --eta-grid 1
    pictures anti-distillation-offgrid cg_vs_K
    splice anti-distillation.md ad-offgrid "$OUT/anti-distillation-offgrid/summary.md"
    demo anti-distillation-linear anti-distillation --amplitudes linear
    pictures anti-distillation-linear points_and_fits norms_vs_K
    splice anti-distillation.md ad-linear "$OUT/anti-distillation-linear/summary.md"
    demo anti-distillation-f4 anti-distillation --frequencies 4
    pictures anti-distillation-f4 points_and_fits
    splice anti-distillation.md ad-f4 "$OUT/anti-distillation-f4/summary.md"
    demo anti-distillation-mlp anti-distillation --model mlp
    pictures anti-distillation-mlp points_and_fits outer_dynamics
    splice anti-distillation.md ad-mlp "$OUT/anti-distillation-mlp/summary.md"
}

# ---- two-points (docs/demos/two-points.md) ------------------------------------------------------------------
regen_two_points() {
    demo two-points two-points
    pictures two-points trajectories
}

# ---- rings (docs/demos/rings.md) ----------------------------------------------------------------------------
regen_rings() {
    demo rings rings
    pictures rings warm cold warm_retrained
    # "seeds 0–4 of --quick gave warm 0.70–0.92, cold 0.48–0.54, re-trained 0.53–0.68"
    spread rings-seeds rings 0..4 -- --quick
}

# ---- kaczmarz (docs/demos/kaczmarz.md) ----------------------------------------------------------------------
regen_kaczmarz() {
    demo kaczmarz kaczmarz
    pictures kaczmarz weight_space residuals
}

# ---- digits (docs/demos/digits.md) --------------------------------------------------------------------------
regen_digits() {
    demo digits digits
    pictures digits synthetic_images soft_labels
}

# ---- spectral-filter (docs/demos/spectral-filter.md) --------------------------------------------------------
regen_spectral_filter() {
    demo spectral-filter spectral-filter
    pictures spectral-filter filters
}

# ---- short-horizon (docs/demos/short-horizon.md) ------------------------------------------------------------
regen_short_horizon() {
    demo short-horizon short-horizon
    pictures short-horizon greedy_vs_searched schedules offline_schedules
    splice short-horizon.md "short-horizon claims.md" "$OUT/short-horizon/claims.md"
}

# ---- solution-concepts (docs/demos/solution-concepts.md) ----------------------------------------------------
regen_solution_concepts() {
    demo solution-concepts solution-concepts
    pictures solution-concepts optimistic pessimistic cold warm
}

# ---- dispatcher -----------------------------------------------------------------------------------------------
all_names() { declare -F | awk '{print $3}' | sed -n 's/^regen_//p' | tr _ -; }

main() {
    if [ "${1:-}" = --list ]; then all_names; return 0; fi
    if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then sed -n '2,20s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; return 0; fi
    local names=("$@") n
    [ ${#names[@]} -gt 0 ] || mapfile -t names < <(all_names)
    for n in "${names[@]}"; do
        if ! declare -F "regen_${n//-/_}" >/dev/null; then
            echo "regenerate-docs.sh: no demo '$n' (one of: $(all_names | tr '\n' ' '))" >&2
            return 2
        fi
    done
    if [ -z "${DEMOS:-}" ]; then
        (cd "$ROOT" && swift build -c release --product Demos >&2)
        DEMOS="$ROOT/.build/release/Demos"
    fi
    for n in "${names[@]}"; do "regen_${n//-/_}"; done
    echo "regenerated: ${names[*]}; outputs in $OUT, pictures in $IMG. Quote the numbers from $OUT/<name>.txt, then run" >&2
    echo "  swift test -c release -Xswiftc -enable-testing --filter DocNumberTests" >&2
}

main "$@"
