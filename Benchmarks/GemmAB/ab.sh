#!/usr/bin/env bash
# Paired A/B timing of the matrix multiply: build A from a git revision's Sources/TapeKernels, build B from
# the working tree's, and time them alternately, call by call, on the products of an MLP's products-only
# HVP (replay.c; default paper-mlp's hidden layers). Use it before keeping a kernel change: on a shared
# machine separate runs drift by up to 2×, the paired median by about ±0.5 % between identical builds.
#
#   Benchmarks/GemmAB/ab.sh [REVISION] [THREADS] [ITERATIONS] [B H L]     (HEAD, 2, 300)
#   Benchmarks/GemmAB/ab.sh --ceiling [ROUNDS] [B H L]                      (10; the working tree alone)
#   Benchmarks/GemmAB/ab.sh --fma-peak [ROUNDS]                             (5: the FMA peak of one and two cores)
#
# --ceiling times the same HVP's products split over two threads (as the engine runs them) against two
# concurrent streams of one-thread products (no shared packing, no barriers: the best that running
# independent products side by side could give), one thread alone, and the machine's FMA peak on one and
# two cores, interleaved round by round.
#
# Only gemm.c (with the headers it includes) is taken from REVISION; both builds link the working tree's pool.c and
# cpu.c, so REVISION's gemm.c must use the same pool and barrier interface (internal.h) as the working tree.
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ "${1:-}" = --ceiling ]; then
    MODE=ceiling; ITERS=${2:-10}; REV=HEAD; shift $(( $# < 2 ? $# : 2 ))
elif [ "${1:-}" = --fma-peak ]; then
    MODE=fma-peak; ITERS=${2:-5}; REV=HEAD; shift $(( $# < 2 ? $# : 2 ))
else
    MODE=ab; REV=${1:-HEAD}; THREADS=${2:-2}; ITERS=${3:-300}; shift $(( $# < 3 ? $# : 3 ))
fi
git rev-parse --verify -q "$REV^{commit}" > /dev/null || { echo "ab.sh: no such revision: $REV" >&2; exit 2; }
CC=${CC:-clang}
DIR=$(mktemp -d)
trap 'rm -rf "$DIR"' EXIT
mkdir -p "$DIR/a/include"
for f in $(git ls-tree --name-only -r "$REV" Sources/TapeKernels); do git show "$REV:$f" > "$DIR/a/${f#Sources/TapeKernels/}"; done
rename() { for s in tk_dgemm_workspace_doubles tk_dgemm_is_small tk_dgemm_portable tk_dgemm_stacked tk_dgemm_pair tk_dgemm; do
    printf ' -D%s=%s_%s' "$s" "$1" "$s"; done; }
$CC -O2 -c -I"$DIR/a/include" $(rename A) -o "$DIR/a.o" "$DIR/a/gemm.c"
$CC -O2 -c -ISources/TapeKernels/include $(rename B) -o "$DIR/b.o" Sources/TapeKernels/gemm.c
$CC -O2 -ISources/TapeKernels/include -o "$DIR/replay" Benchmarks/GemmAB/replay.c "$DIR/a.o" "$DIR/b.o" \
    Sources/TapeKernels/pool.c Sources/TapeKernels/cpu.c -lpthread -lm
if [ "$MODE" = ceiling ]; then "$DIR/replay" ceiling "$ITERS" "$@"; exit; fi
if [ "$MODE" = fma-peak ]; then "$DIR/replay" fma-peak "$ITERS"; exit; fi
echo "A: $REV ($(git rev-parse --short "$REV")), B: the working tree"
"$DIR/replay" "$THREADS" "$ITERS" "$@"
