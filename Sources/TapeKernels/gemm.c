/*
 * Packed, cache-blocked matrix multiply (the BLIS/GotoBLAS structure), C = alpha·op(A)·op(B) + beta·C,
 * with a 6×8 AVX2/FMA micro-kernel chosen at run time and a portable C variant of the same code.
 * The micro-kernel keeps a 6×8 block of C in twelve 4-double registers and streams the packed slivers
 * with FMA: 6 broadcasts + 2 loads per 12 FMAs. Edge tiles go through a small buffer.
 * Large products are split over the worker pool (pool.c); the body is in gemm_impl.h, the small-product
 * kernels in gemm_small.h.
 */
#include "tapekernels.h"
#include "internal.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

/* Register block MR × NR; KC-deep slices (a B sliver, KC·NR·8 = 24 KB, stays in L1); MC-tall A panels
 * (MC·KC·8 = 288 KB, in L2); NC-wide B panels (KC·NC·8 = 6 MB, in L3, shared by the threads).
 * KC = 384 rather than 256: fewer slices, so fewer barriers between the threads (measured +5–10 % on
 * 256 × 512 × 784 on two threads, neutral elsewhere). */
enum { MR = 6, NR = 8, KC = 384, MC = 96, NC = 2048, SEG = TK_MAX_SEGMENTS };

typedef struct {
    int ta, tb;
    long K;
    double alpha;
    int na, nb;                                          /* A segments (stacked rows), B segments (columns) */
    const double *A[SEG]; long lda[SEG]; long M[SEG];    /* op(A[s]) is M[s] × K */
    const double *B[SEG]; long ldb[SEG]; long N[SEG];    /* op(B[s]) is K × N[s] */
    double *C[SEG]; long ldc[SEG];                       /* C[sa·nb + sb] is M[sa] × N[sb]; na·nb ≤ SEG */
    /* Columns of the B segments side by side, each but the last padded to a multiple of NR so that no
     * sliver straddles two: virtual column v belongs to segment s when vstart[s] ≤ v < vstart[s + 1]. */
    long vstart[SEG + 1];
    long Mtot;          /* rows of all A segments */
    int overwrite;      /* beta == 0: the first K slice writes C instead of adding to it (C is never read) */
    int split_rows;     /* threads take rows of C (sharing packed B), else columns */
    double *work;
    tk_barrier barrier;
    atomic_long next_panel;   /* the next row panel to take (rows split) */
} gemm_job;

size_t tk_dgemm_workspace_doubles(int threads) {
    int t = threads < 1 ? 1 : threads;
    return (size_t)KC * NC + (size_t)t * MC * KC + 64;
}

int tk_dgemm_is_small(long M, long N, long K) {
    return M < 8 || N < 8 || K < 8 || (double)M * (double)N * (double)K < 32768.0;
}

static void scale_c(long M, long N, double beta, double *C, long ldc) {
    if (beta == 1) return;
    for (long i = 0; i < M; i++) {
        double *ci = C + i * ldc;
        if (beta == 0) memset(ci, 0, (size_t)N * sizeof(double));   /* never read C: it may hold NaN garbage */
        else for (long j = 0; j < N; j++) ci[j] *= beta;
    }
}

#define CAT2(a, b) a##_##b
#define CAT(a, b) CAT2(a, b)
#define NAME(x) CAT(x, SUFFIX)

#define SUFFIX portable
#define TARGET
#define USE_AVX2 0
#include "gemm_impl.h"
#undef SUFFIX
#undef TARGET
#undef USE_AVX2

#if defined(__x86_64__)
#define SUFFIX avx2
#define TARGET __attribute__((target("avx2,fma")))
#define USE_AVX2 1
#include "gemm_impl.h"
#undef SUFFIX
#undef TARGET
#undef USE_AVX2
#endif

void tk_dgemm_portable(int ta, int tb, long M, long N, long K, double alpha, const double *A, long lda,
                       const double *B, long ldb, double beta, double *C, long ldc, double *work, int threads) {
    gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, work, threads);
}

void tk_dgemm(int ta, int tb, long M, long N, long K, double alpha, const double *A, long lda,
              const double *B, long ldb, double beta, double *C, long ldc, double *work, int threads) {
#if defined(__x86_64__)
    if (tk_cpu_has_avx2_fma()) { gemm_avx2(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, work, threads); return; }
#endif
    gemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, work, threads);
}

void tk_dgemm_stacked(int ta, int tb, long K, double alpha, int na, const double *const *A, const long *lda, const long *M,
                      int nb, const double *const *B, const long *ldb, const long *N, double beta, double *const *C,
                      const long *ldc, double *work, int threads) {
#if defined(__x86_64__)
    if (tk_cpu_has_avx2_fma()) { stacked_avx2(ta, tb, K, alpha, na, A, lda, M, nb, B, ldb, N, beta, C, ldc, work, threads); return; }
#endif
    stacked_portable(ta, tb, K, alpha, na, A, lda, M, nb, B, ldb, N, beta, C, ldc, work, threads);
}

void tk_dgemm_pair(int ta, int tb, long M, long N, long K, int stack_rows, const double *A0, const double *A1, long lda,
                   const double *B0, const double *B1, long ldb, double *C0, double *C1, long ldc, double *work, int threads) {
    /* tk_dgemm_stacked would run small blocks one by one too; going there directly skips building the
     * stacked job (about 200 instructions a pair: 3 % of a tiny-mlp HVP). */
    if (tk_dgemm_is_small(M, N, K)) {
        tk_dgemm(ta, tb, M, N, K, 1, A0, lda, B0, ldb, 0, C0, ldc, work, threads);
        tk_dgemm(ta, tb, M, N, K, 1, stack_rows ? A1 : A0, lda, stack_rows ? B0 : B1, ldb, 0, C1, ldc, work, threads);
        return;
    }
    const double *A[2] = { A0, A1 }, *B[2] = { B0, B1 };
    long ldas[2] = { lda, lda }, ldbs[2] = { ldb, ldb }, Ms[2] = { M, M }, Ns[2] = { N, N }, ldcs[2] = { ldc, ldc };
    double *C[2] = { C0, C1 };
    tk_dgemm_stacked(ta, tb, K, 1, stack_rows ? 2 : 1, A, ldas, Ms, stack_rows ? 1 : 2, B, ldbs, Ns, 0, C, ldcs, work, threads);
}
