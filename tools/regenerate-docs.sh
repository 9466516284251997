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
    # --executable: the runs use $DEMOS itself, also when it is a copy under another name (e.g. a pinned build).
    "$DEMOS" sweep "$sub" --seeds "$seeds" --jobs "$JOBS" --executable "$DEMOS" --out "$OUT/$name" "$@"
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
# Fig. 7 (2 rings), Fig. 12 (3 rings) and Fig. 13 (3 rings, two learned points with soft labels): a sweep over seeds
# 0–4 each, warm and cold start with the same number of outer steps (1000; Fig. 12 3000, RINGS_3_FLAGS: 2–4 min a
# seed on one free core); the pictures are seed 0's.
# The paper-settings run of Fig. 13 (4 × 200, 30000 warm outer steps: hours) runs only when RINGS_PAPER_STATE names
# its checkpoint (STATE.warm, STATE.cold): a finished one re-renders its numbers and pictures in seconds, an
# unfinished one continues, a missing one starts over (rings.md quotes the finished run).
RINGS_FLAGS=(--outer-steps 1000 --cold-outer-steps 1000)
RINGS_3_FLAGS=(--outer-steps 3000 --cold-outer-steps 3000)
RINGS_PAPER_FLAGS=(--classes 3 --soft-labels --width 200 --depth 4 --inner-lr 0.001 --outer-lr 0.01 --outer-steps 30000
                   --init-gain 1 --cold-outer-steps 300 --cold-inner-steps 300 --cold-inner-lr 0.02)
regen_rings() {
    spread rings-2 rings 0..4 -- "${RINGS_FLAGS[@]}"
    spread rings-3 rings 0..4 -- "${RINGS_3_FLAGS[@]}" --classes 3
    spread rings-3-soft rings 0..4 -- "${RINGS_FLAGS[@]}" --classes 3 --soft-labels
    mkdir -p "$OUT/rings"
    local f
    for f in warm cold warm_retrained outer_loss; do cp "$OUT/rings-2/seed=0/$f.svg" "$OUT/rings/$f.svg"; done
    for f in warm cold warm_retrained; do cp "$OUT/rings-3/seed=0/$f.svg" "$OUT/rings/3_$f.svg"; done
    for f in warm cold warm_retrained soft_labels; do cp "$OUT/rings-3-soft/seed=0/$f.svg" "$OUT/rings/3soft_$f.svg"; done
    pictures rings warm cold warm_retrained outer_loss 3_warm 3_cold 3_warm_retrained 3soft_warm 3soft_cold 3soft_warm_retrained 3soft_soft_labels
    if [ -n "${RINGS_PAPER_STATE:-}" ]; then
        demo rings-paper3soft rings "${RINGS_PAPER_FLAGS[@]}" --checkpoint "$RINGS_PAPER_STATE" --checkpoint-every 50 --resume
        for f in warm cold warm_retrained soft_labels; do cp "$OUT/rings-paper3soft/$f.svg" "$IMG/rings-paper3soft_$f.svg"; done
    else
        echo "== rings: the paper-settings run skipped (RINGS_PAPER_STATE unset; rings.md says how to run it)" >&2
    fi
}

# ---- kaczmarz (docs/demos/kaczmarz.md) ----------------------------------------------------------------------
regen_kaczmarz() {
    demo kaczmarz kaczmarz
    pictures kaczmarz weight_space residuals
}

# ---- digits (docs/demos/digits.md) --------------------------------------------------------------------------
# Table 3 / Fig. 9 over seeds 0–4: one image (with the augmentation network, 500 outer steps instead of the default
# 1000: about 2 min a seed on one core instead of 4) and ten images, at the demo's defaults otherwise; two ablations;
# then one quick run whose numbers the page quotes with check markers. About 25 min on one free core (JOBS=1). The tables are written from the sweeps' summary.csv and
# result.json files and spliced into digits.md and README.md. One thread per run (TAPE_THREADS=1): the numbers do not
# depend on it, and on a shared machine two-thread kernels mostly wait.
regen_digits() {
    export TAPE_THREADS=1
    spread digits digits 0..4 -- --aug-steps 500
    spread digits-10 digits 0..4 -- --images 10 --skip-augmentation
    # Ablations, one image: cold start with the truncated hypergradient; warm start with K = 1 and 20.
    spread digits-truncated digits 0..4 -- --cold-hypergradient truncated --skip-augmentation
    spread digits-unroll digits 0..4 --set unroll=1,20 -- --skip-augmentation
    demo digits-check digits --images 10 --outer-steps 300 --skip-augmentation >/dev/null
    unset TAPE_THREADS
    digits_tables "$OUT"
    local t
    for t in table-1 table-10 ablations augmentation check; do splice digits.md "digits $t" "$OUT/digits-tables/$t.md"; done
    splice README.md "digits rows" "$OUT/digits-tables/readme.md"
    local f
    for f in accuracy soft_label_final synthetic_images soft_labels; do cp "$OUT/digits/seed=0/$f.svg" "$IMG/digits-$f.svg"; done
    for f in accuracy synthetic_images; do cp "$OUT/digits-10/seed=0/$f.svg" "$IMG/digits-10-$f.svg"; done
    cp "$OUT/digits/seed=0/stdout.txt" "$OUT/digits-seed0.txt"
    cp "$OUT/digits-10/seed=0/stdout.txt" "$OUT/digits-10-seed0.txt"
}

# digits_tables OUT: the page's tables as markdown in OUT/digits-tables/{table-1, table-10, ablations, augmentation,
# check, readme}.md, from the sweeps' summary.csv (mean ± sample sd [min, max] over the seeds), their per-seed result.json
# (how many seeds show each ordering) and the quick run's result.json (the numbers the check markers hold).
digits_tables() {
    python3 - "$1" <<'PY'
import csv, glob, json, os, sys
root = sys.argv[1]
out = f"{root}/digits-tables"
os.makedirs(out, exist_ok=True)
def stats(name):
    return {r["quantity"]: r for r in csv.DictReader(open(f"{root}/{name}/summary.csv"))}
def seeds(name):
    return [json.load(open(f)) for f in sorted(glob.glob(f"{root}/{name}/seed=*/result.json"))]
def pct(s, q):
    r = s[q]
    m, sd, lo, hi = (100 * float(r[c]) for c in ("mean", "sd", "min", "max"))
    return f"{m:.1f} ± {sd:.1f} % [{lo:.1f}, {hi:.1f}]"
def paper(s, q):
    return f"{100 * float(s[q]['mean']):.1f} %"
how = {"warm": ("1 SGD step per outer step from the previous w", "5 steps unrolled from the current w"),
       "cold": ("trained to convergence from w₀ (closed form)", "exact derivative of that training"),
       "warm_retrained": ("trained to convergence from w₀ on the final warm λ", "—")}
names = {"warm": "warm start", "cold": "cold start", "warm_retrained": "warm + re-training", "baseline": "no augmentation"}
def table(s):
    rows = ["| solution | inner weights | hypergradient | test accuracy, ours (8×8 digits) | paper (MNIST) |", "|---|---|---|---|---|"]
    for k in ("warm", "cold", "warm_retrained"):
        rows.append(f"| {names[k]} | {how[k][0]} | {how[k][1]} | {pct(s, k + '.test_accuracy')} | {paper(s, 'paper.' + k + '_test_accuracy')} |")
    return "\n".join(rows) + "\n"
def count(runs, f):
    return f"{sum(1 for r in runs if f(r))} of {len(runs)}"
def acc(r, k, field="test_accuracy"):
    return r[k][field]
s1, s10, r1, r10 = stats("digits"), stats("digits-10"), seeds("digits"), seeds("digits-10")
open(f"{out}/table-1.md", "w").write(table(s1))
open(f"{out}/table-10.md", "w").write(table(s10))
def config(name, configuration, q):
    return next(r for r in csv.DictReader(open(f"{root}/{name}/summary.csv")) if r["configuration"] == configuration and r["quantity"] == q)
st = stats("digits-truncated")
rows = ["| run (one image, seeds 0–4) | test accuracy |", "|---|---|",
        f"| cold start, exact hypergradient of converged training (the table above) | {pct(s1, 'cold.test_accuracy')} |",
        f"| cold start, hypergradient truncated to 5 steps unrolled from the converged w | {pct(st, 'cold.test_accuracy')} |"]
for k in (1, 20):
    u = {"x": config("digits-unroll", f"unroll={k}", "warm.test_accuracy")}
    rows.append(f"| warm start, K = {k} unrolled steps | {pct(u, 'x')} |")
    if k == 1:
        rows.append(f"| warm start, K = 5 (the table above) | {pct(s1, 'warm.test_accuracy')} |")
open(f"{out}/ablations.md", "w").write("\n".join(rows) + "\n")
rows = ["| solution | validation accuracy, ours | test accuracy, ours | paper (MNIST, test) |", "|---|---|---|---|"]
for k in ("baseline", "warm", "cold", "warm_retrained"):
    p = s1.get(f"augmentation.paper.{k}_test_accuracy")
    rows.append(f"| {names[k]} | {pct(s1, f'augmentation.{k}.validation_accuracy')} | {pct(s1, f'augmentation.{k}.test_accuracy')} | "
                + (f"{100 * float(p['mean']):.2f} % |" if p else "— |"))
open(f"{out}/augmentation.md", "w").write("\n".join(rows) + "\n")
r = json.load(open(f"{root}/digits-check/result.json"))
v = {k: f"{r[k]['test_accuracy']:.3f}" for k in ("warm", "cold", "warm_retrained")}
open(f"{out}/check.md", "w").write(
    f"A quick run the tests repeat (seed 0, ten images, 300 outer steps): test accuracy warm {v['warm']}, cold {v['cold']}, "
    f"re-trained {v['warm_retrained']} <!-- check: digits --images 10 --outer-steps 300 --skip-augmentation : "
    f"warm.test_accuracy = {v['warm']}; cold.test_accuracy = {v['cold']}; warm_retrained.test_accuracy = {v['warm_retrained']} -->\n")
# docs/demos/README.md rows: claim, paper, ours, settings, per-seed counts, and a verdict by fixed rules: warm ≫ cold
# when warm wins in every seed by at least half the paper's gap; re-training collapses when, in every seed, it keeps at
# most a quarter of warm start's gain over chance (10 %).
def trio(s, keys=("warm", "cold", "warm_retrained"), prefix=""):
    return " / ".join(pct(s, f"{prefix}{k}.test_accuracy").split(" [")[0] for k in keys)
def ptrio(s):
    return " / ".join(paper(s, f"paper.{k}_test_accuracy") for k in ("warm", "cold", "warm_retrained"))
def collapsed(r):
    return acc(r, "warm_retrained") - 0.1 <= 0.25 * (acc(r, "warm") - 0.1)
def orderings(runs):
    return (f"warm > cold in {count(runs, lambda r: acc(r, 'warm') > acc(r, 'cold'))}, "
            f"cold > re-trained in {count(runs, lambda r: acc(r, 'cold') > acc(r, 'warm_retrained'))}, "
            f"re-training keeps ≤ ¼ of warm's gain over chance in {count(runs, collapsed)}")
def verdict(runs, paper_warm, paper_cold):
    gaps = [100 * (acc(r, "warm") - acc(r, "cold")) for r in runs]
    gap, want = sum(gaps) / len(gaps), paper_warm - paper_cold
    if min(gaps) >= want / 2:
        first = f"warm ≫ cold reproduced (gap {gap:.1f} points, paper {want:.1f})"
    elif min(gaps) > 0:
        first = f"warm > cold in every seed, but by {gap:.1f} points where the paper has {want:.1f}"
    else:
        first = f"warm vs cold **not reproduced**: gap {gap:.1f} points (paper {want:.1f})"
    re = [100 * acc(r, "warm_retrained") for r in runs]
    if all(collapsed(r) for r in runs):
        second = f"re-training collapses as in the paper ({sum(re) / len(re):.0f} %)"
    elif sum(re) / len(re) < sum(100 * acc(r, "warm") for r in runs) / len(runs) - 30:
        second = f"re-training loses most of warm's accuracy but **does not collapse** to chance ({sum(re) / len(re):.0f} % on average)"
    else:
        second = "re-training **does not collapse**"
    return first + "; " + second
def late_max(r):  # the re-trained accuracy along the warm run (Fig. 9a's dashed line): its highest value in the second half
    c = r["retrained_curve"]
    half = c["step"][-1] / 2
    return max(a for t, a in zip(c["step"], c["accuracy"]) if t >= half)
st1, st10, sa = r1[0]["settings"], r10[0]["settings"], r1[0]["augmentation"]["settings"]
where = lambda st: f"{st['training_images']:,} 8×8 digits, {st['outer_steps']} outer steps, seeds 0–{len(r1) - 1}"
augruns = [x["augmentation"] for x in r1]
p1, p10 = ({k: 100 * float(s[f"paper.{k}_test_accuracy"]["mean"]) for k in ("warm", "cold")} for s in (s1, s10))
fig9 = lambda runs: sum(late_max(r) for r in runs) / len(runs)
lines = [
    "| paper | paper's number | ours (mean ± sd) | settings | seeds showing it | verdict |",
    "|---|---|---|---|---|---|",
    f"| Table 3, distillation, 1 image: test acc. warm / cold / re-trained | {ptrio(s1)} | {trio(s1)} | {where(st1)} | {orderings(r1)} | "
    f"{verdict(r1, p1['warm'], p1['cold'])} |",
    f"| Table 3, distillation, 10 images | {ptrio(s10)} | {trio(s10)} | {where(st10)} | {orderings(r10)} | {verdict(r10, p10['warm'], p10['cold'])} |",
    f"| Table 3, augmentation net: test acc. warm / cold / re-trained / no aug. | 92.81 / 84.86 / 9.15 / — % | "
    f"{trio(s1, ('warm', 'cold', 'warm_retrained', 'baseline'), 'augmentation.')} | "
    f"{sa['training_images']} augmented 8×8 digits, MLP width {sa['width']}, {sa['outer_steps']} outer steps, seeds 0–{len(r1) - 1} | "
    f"{orderings(augruns)} | {verdict(augruns, 92.81, 84.86)} |",
    f"| Fig. 9a: accuracy of the warm λ re-trained from w₀, along the warm run | near chance throughout | highest in the second half: "
    f"{100 * fig9(r1):.1f} % (1 image), {100 * fig9(r10):.1f} % (10 images), mean over seeds | as above | — | "
    + ("the re-trained curve stays low, as in the paper" if max(fig9(r1), fig9(r10)) < 0.3 else "the re-trained curve **does not stay low**") + " |",
]
open(f"{out}/readme.md", "w").write("\n".join(lines) + "\n")
PY
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
# Fig. 2: a sweep over seeds 0–4 at the demo's defaults (2000 outer steps for warm and cold start alike, 1500
# optimistic steps, 600 ascent steps; 1–1.5 min a seed on one core); the pictures are seed 0's.
regen_solution_concepts() {
    spread solution-concepts solution-concepts 0..4
    local f
    for f in optimistic worst_case cold warm outer_loss; do cp "$OUT/solution-concepts/seed=0/$f.svg" "$IMG/solution-concepts-$f.svg"; done
}

# ---- strongly-convex (docs/demos/strongly-convex.md) --------------------------------------------------------
# Remark 3.2: seed 0's tables and pictures; the original points are the only random input, so a sweep over the
# seeds of their data (0–4) gives the spread of the distances between the concepts' λ.
regen_strongly_convex() {
    demo strongly-convex strongly-convex
    pictures strongly-convex strongly_convex overparameterized distance
    spread strongly-convex-seeds strongly-convex 0..4
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
