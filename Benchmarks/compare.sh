#!/usr/bin/env bash
# Runs our benchmark and the JAX/PyTorch peer harness back to back on the same machine and prints one
# table (µs per HVP and per gradient, ratios peer ÷ ours, first-call cost). Float64, both cores for all.
#
#   Benchmarks/compare.sh [PEERS_VENV] [OUT_DIR]
#
# PEERS_VENV defaults to ../peers-venv (install: see ../shared/peers/README.md); OUT_DIR to .build-compare.
# Takes about 10 minutes, most of it in the peer harness.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-../peers-venv}
OUT=${2:-.build-compare}
HARNESS=${HARNESS:-../shared/peers/hvp_bench.py}
mkdir -p "$OUT"
swift build -c release --product Benchmarks
.build/release/Benchmarks --json "$OUT/ours.json" --min-time 1
"$VENV/bin/python" "$HARNESS" --json "$OUT/peers.json" --dtypes float64 --threads 2
.build/release/Benchmarks --report "$OUT/ours.json" --peers "$OUT/peers.json" | tee "$OUT/table.md"
