#!/usr/bin/env bash
# Our benchmark and the JAX/PyTorch peer harness, side by side on the same machine: workload by workload,
# ours, the peers, ours again, repeated ROUNDS times, so each peer measurement is bracketed by ours on a
# machine whose speed drifts (by up to 2× within minutes on the shared machines we measured on). Prints one table of medians and of the paired ratios (peer ÷ ours, > 1: we are
# faster), with their range over the rounds. Float64, both cores for every contender.
#
#   Benchmarks/compare.sh [PEERS_VENV] [OUT_DIR]        (ROUNDS=5, PEERS=jax,jax_sync,torch, WORKLOADS=…)
#
# PEERS_VENV defaults to ../peers-venv (install: ../shared/peers/README.md); OUT_DIR to .build-compare.
# About 4 minutes a round with all peers (PyTorch's tiny workloads are the slow part).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-../peers-venv}
OUT=${2:-.build-compare}
ROUNDS=${ROUNDS:-5}
PEERS=${PEERS:-jax,jax_sync,torch}
WORKLOADS=${WORKLOADS:-tiny-mlp fourier paper-mlp mnist-mlp large-mlp}
HARNESS=${HARNESS:-../shared/peers/hvp_bench.py}
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
mkdir -p "$OUT"
rm -f "$OUT"/ours-*.json "$OUT"/after-*.json "$OUT"/peers-*.json
swift build -c release --product Benchmarks
for round in $(seq "$ROUNDS"); do
    for w in $WORKLOADS; do
        echo "round $round/$ROUNDS: $w" >&2
        # Ours just before and just after the peers: the report pairs the peers with the mean of the two.
        .build/release/Benchmarks --workloads "$w" --no-matmul --min-time 0.5 --json "$OUT/ours-$w-$round.json" > /dev/null
        # shellcheck disable=SC2046
        "$VENV/bin/python" "$HARNESS" $(spec "$w") --peers "$PEERS" --threads 2 --dtypes float64 \
            --json "$OUT/peers-$w-$round.json" > /dev/null
        .build/release/Benchmarks --workloads "$w" --no-matmul --min-time 0.5 --json "$OUT/after-$w-$round.json" > /dev/null
    done
done
.build/release/Benchmarks --hvp-memory large-mlp | tee "$OUT/memory.txt"
.build/release/Benchmarks --report "$OUT" | tee "$OUT/table.md"
