#!/usr/bin/env bash
# Our benchmark and JAX/PyTorch, side by side on the same machine: workload by workload, ours, the peers, ours
# again, repeated ROUNDS times, so each peer measurement is bracketed by ours on a machine whose speed drifts (by up
# to 2× within minutes on the shared machines we measured on). Prints two tables of medians and of the paired
# ratios (peer ÷ ours, > 1: we are faster) with their range over the rounds: single HVPs (peers:
# ../shared/peers/hvp_bench.py) and whole hypergradients (peers: Benchmarks/peers/hypergradient_bench.py, on the
# data our executable exports, each peer variant checked against our result to 1e-10 before it is timed). Also
# writes OUT_DIR/report.json: [{"workload", "ours_us", "jax_us", "torch_us"}], medians, one per workload.
# Float64, both cores for every contender.
#
#   Benchmarks/compare.sh [PEERS_VENV] [OUT_DIR]        (ROUNDS=5, PEERS=jax,jax_sync,torch, WORKLOADS=…)
#
# PEERS_VENV defaults to ../peers-venv (install: ../shared/peers/README.md); OUT_DIR to .build-compare.
# WORKLOADS: any of tiny-mlp fourier paper-mlp mnist-mlp large-mlp (single HVPs) and distill-cg10
# distill-neumann10 distill-unrolled10 fourier-exact hvp-block16 (hypergradients); default all ten.
# About 5 minutes a round with all peers and workloads.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-../peers-venv}
OUT=${2:-.build-compare}
ROUNDS=${ROUNDS:-5}
PEERS=${PEERS:-jax,jax_sync,torch}
HVP_WORKLOADS="tiny-mlp fourier paper-mlp mnist-mlp large-mlp"
HYPERGRADIENT_WORKLOADS="distill-cg10 distill-neumann10 distill-unrolled10 fourier-exact hvp-block16"
WORKLOADS=${WORKLOADS:-$HVP_WORKLOADS $HYPERGRADIENT_WORKLOADS}
HARNESS=${HARNESS:-../shared/peers/hvp_bench.py}
HYPERGRADIENT_HARNESS=Benchmarks/peers/hypergradient_bench.py
spec() {
    case "$1" in
        tiny-mlp) echo "--mlp tiny:2,10,2,13 --fourier none" ;;
        paper-mlp) echo "--mlp paper:2,200,4,100 --fourier none" ;;
        mnist-mlp) echo "--mlp mnist:784,256,2,256 --fourier none" ;;
        large-mlp) echo "--mlp large:512,1024,3,1024 --fourier none" ;;
        fourier) echo "--mlp none --fourier fourier:10,13" ;;
        *) echo "unknown workload $1" >&2; exit 2 ;;
    esac
}
is_hypergradient() { case " $HYPERGRADIENT_WORKLOADS " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
for w in $WORKLOADS; do is_hypergradient "$w" || spec "$w" > /dev/null; done
mkdir -p "$OUT"
rm -f "$OUT"/ours-*.json "$OUT"/after-*.json "$OUT"/peers-*.json "$OUT"/report.json
swift build -c release --product Benchmarks
HG=$(for w in $WORKLOADS; do if is_hypergradient "$w"; then echo "$w"; fi; done | paste -sd, -)
PEAK=()
if [ -n "$HG" ]; then
    # The two cores' FMA peak, for each hypergradient workload's physical limit (FLOPs ÷ peak).
    Benchmarks/GemmAB/ab.sh --fma-peak 5 | tee "$OUT/fma-peak.txt"
    PEAK=(--peak "$(awk '/^fma_peak_gflops/ { print $3 }' "$OUT/fma-peak.txt")")
    # The data and our results the peers load and check against.
    .build/release/Benchmarks --export-hypergradients "$OUT/data" --workloads "$HG"
fi
for round in $(seq "$ROUNDS"); do
    for w in $WORKLOADS; do
        echo "round $round/$ROUNDS: $w" >&2
        # Ours just before and just after the peers: the report pairs the peers with the mean of the two.
        .build/release/Benchmarks --workloads "$w" --no-matmul --min-time 0.5 "${PEAK[@]}" --json "$OUT/ours-$w-$round.json" > /dev/null
        if is_hypergradient "$w"; then
            "$VENV/bin/python" "$HYPERGRADIENT_HARNESS" --data "$OUT/data" --workloads "$w" --peers "$PEERS" --threads 2 \
                --json "$OUT/peers-$w-$round.json" > /dev/null
        else
            # shellcheck disable=SC2046
            "$VENV/bin/python" "$HARNESS" $(spec "$w") --peers "$PEERS" --threads 2 --dtypes float64 \
                --json "$OUT/peers-$w-$round.json" > /dev/null
        fi
        .build/release/Benchmarks --workloads "$w" --no-matmul --min-time 0.5 "${PEAK[@]}" --json "$OUT/after-$w-$round.json" > /dev/null
    done
done
case " $WORKLOADS " in *" large-mlp "*) .build/release/Benchmarks --hvp-memory large-mlp | tee "$OUT/memory.txt" ;; esac
.build/release/Benchmarks --report "$OUT" | tee "$OUT/table.md"
