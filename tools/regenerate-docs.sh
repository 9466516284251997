#!/usr/bin/env bash
# Regenerates every number and picture quoted in docs/demos: runs each demo at the settings its page states (one
# run per seed where the page quotes mean ± spread), keeps the output in out/docs/<name>/ with the printed tables in
# out/docs/<name>.txt, and copies the pictures into docs/demos/img/.
#
#   tools/regenerate-docs.sh                          # every demo
#   tools/regenerate-docs.sh rings strongly-convex    # some (names as listed by --list)
#   tools/regenerate-docs.sh --list
#
# Environment: DEMOS=path/to/Demos skips the build (default: swift build -c release, then .build/release/Demos);
# OUT (default out/docs); KEEP=1 keeps finished seeds of a previous run. TAPE_THREADS=1 is set unless given: on a shared machine one thread per run is faster.
#
# Layout: one function regen_<name> per demo page below, each in its own block; the dispatcher finds them by
# name, so adding a demo is adding a block (no list to edit). Helpers: demo, seeds, pictures.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${OUT:-$ROOT/out/docs}"
IMG="$ROOT/docs/demos/img"
export TAPE_THREADS="${TAPE_THREADS:-1}"

# demo NAME ARGS…: a fresh `Demos ARGS… --out $OUT/NAME`; its stdout (the tables) also in $OUT/NAME.txt.
demo() {
    local name=$1
    shift
    rm -rf "${OUT:?}/$name"
    mkdir -p "$OUT"
    echo "== $name: Demos $*" >&2
    "$DEMOS" "$@" --out "$OUT/$name" | tee "$OUT/$name.txt"
}

# seeds NAME FIRST LAST PATHS -- ARGS…: `Demos ARGS… --seed S --out $OUT/NAME/seed-S` for S = FIRST … LAST (fresh;
# with KEEP=1 a seed whose result.json exists is kept, to resume an interrupted regeneration), then mean ± sample standard deviation, min and max over the seeds of each
# comma-separated result.json PATH (a.b[2]) into $OUT/NAME.txt.
# (A stand-in for `Demos sweep` + `Demos collect` until they are on main.)
seeds() {
    local name=$1 first=$2 last=$3 paths=$4 s
    shift 5
    [ "${KEEP:-0}" = 1 ] || rm -rf "${OUT:?}/$name"
    mkdir -p "$OUT/$name"
    for s in $(seq "$first" "$last"); do
        [ -f "$OUT/$name/seed-$s/result.json" ] && continue
        echo "== $name seed $s: Demos $* --seed $s" >&2
        "$DEMOS" "$@" --seed "$s" --out "$OUT/$name/seed-$s" > "$OUT/$name/seed-$s.txt"
    done
    python3 - "$OUT/$name" "$first" "$last" "$paths" <<'PY' | tee "$OUT/$name.txt"
import json, re, statistics, sys
folder, first, last, paths = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4].split(",")
def get(obj, path):
    for key, index in re.findall(r"([^.\[\]]+)|\[(-?\d+)\]", path):
        obj = obj[key] if key else obj[int(index)]
    return obj
runs = [json.load(open(f"{folder}/seed-{s}/result.json")) for s in range(first, last + 1)]
print(f"{'path':45s} {'n':>2s} {'mean':>9s} {'sd':>8s} {'min':>9s} {'max':>9s}   per seed")
for p in paths:
    v = [float(get(r, p)) for r in runs]
    sd = statistics.stdev(v) if len(v) > 1 else 0.0
    print(f"{p:45s} {len(v):2d} {statistics.mean(v):9.4g} {sd:8.2g} {min(v):9.4g} {max(v):9.4g}   " + " ".join(f"{x:.4g}" for x in v))
PY
}

# pictures NAME FILE…: copies $OUT/NAME/FILE.svg to docs/demos/img/NAME-FILE.svg.
pictures() {
    local name=$1
    shift
    for f in "$@"; do cp "$OUT/$name/$f.svg" "$IMG/$name-$f.svg"; done
}

# ---- rings (docs/demos/rings.md) ----------------------------------------------------------------------------
regen_rings() {
    local acc=warm.accuracy,cold.accuracy,warm_retrained.accuracy,warm.outer_loss,cold.outer_loss,warm_retrained.outer_loss
    # Fig. 7: two rings, one learned point per class.
    seeds rings-2 0 4 "$acc" -- rings
    # Fig. 12: three rings, three learned points (hard labels).
    seeds rings-3 0 4 "$acc" -- rings --classes 3
    # Fig. 13: three rings, two learned points with learned soft labels.
    seeds rings-3-soft 0 4 "$acc,label_switches_warm[0],label_switches_warm[1]" -- rings --classes 3 --soft-labels
    mkdir -p "$OUT/rings"
    for f in warm cold warm_retrained outer_loss; do cp "$OUT/rings-2/seed-0/$f.svg" "$OUT/rings/$f.svg"; done
    for f in warm cold soft_labels; do cp "$OUT/rings-3-soft/seed-0/$f.svg" "$OUT/rings/3soft_$f.svg"; done
    for f in warm cold; do cp "$OUT/rings-3/seed-0/$f.svg" "$OUT/rings/3_$f.svg"; done
    pictures rings warm cold warm_retrained outer_loss 3_warm 3_cold 3soft_warm 3soft_cold 3soft_soft_labels
}

# ---- solution-concepts (docs/demos/solution-concepts.md) ----------------------------------------------------
regen_solution_concepts() {
    seeds solution-concepts 0 4 warm.accuracy,cold.accuracy,optimistic.accuracy,worst_case.accuracy,warm.outer_loss,cold.outer_loss,worst_case_ascent_outer_loss[0],worst_case_ascent_outer_loss[1] -- solution-concepts
    rm -rf "${OUT:?}/solution-concepts-0" && cp -r "$OUT/solution-concepts/seed-0" "$OUT/solution-concepts-0"
    local f
    for f in optimistic worst_case cold warm outer_loss; do cp "$OUT/solution-concepts-0/$f.svg" "$IMG/solution-concepts-$f.svg"; done
}

# ---- strongly-convex (docs/demos/strongly-convex.md) --------------------------------------------------------
regen_strongly_convex() {
    demo strongly-convex strongly-convex
    pictures strongly-convex strongly_convex overparameterized distance
    # The original points are the only random input: the distances over seeds 0–4 of their data.
    seeds strongly-convex-seeds 0 4 strongly_convex.full_vs_cold,strongly_convex.partial_vs_full,overparameterized.full_vs_cold,overparameterized.partial_vs_full -- strongly-convex
}

# ---- dispatcher -----------------------------------------------------------------------------------------------
all_names() { declare -F | awk '{print $3}' | sed -n 's/^regen_//p' | tr _ -; }

main() {
    if [ "${1:-}" = --list ]; then all_names; return 0; fi
    if [ "${1:-}" = --help ] || [ "${1:-}" = -h ]; then sed -n '2,14s/^# \{0,1\}//p' "${BASH_SOURCE[0]}"; return 0; fi
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
    echo "regenerated: ${names[*]}; outputs in $OUT, pictures in $IMG. Quote the numbers from $OUT/<name>.txt." >&2
}

main "$@"
