/*
 * Packed, cache-blocked matrix multiply (the BLIS/GotoBLAS structure):
 *   for each NC-wide column panel of B, for each KC-deep slice: pack B (KC×NC) into NR-wide slivers;
 *   for each MC-tall row panel of A: pack A (MC×KC) into MR-tall slivers; run the MR×NR micro-kernel
 *   over the panel, accumulating into C.
 * The micro-kernel keeps a 6×8 block of C in twelve 4-double AVX registers and streams the packed
 * slivers with FMA: 6 broadcasts + 2 loads per 12 FMAs. Edge tiles go through a small buffer.
 */
#include "tapekernels.h"
#include <string.h>
#if defined(__x86_64__)
#include <immintrin.h>
#endif

enum { MR = 6, NR = 8, KC = 256, MC = 96, NC = 2048 };

size_t tk_dgemm_workspace_doubles(void) { return (size_t)MC * KC + (size_t)KC * NC + 64; }
long tk_dgemm_row_block(void) { return MC; }

/* Packs op(A)[i0:i0+mc, p0:p0+kc] into MR-row slivers: for each sliver, kc columns of MR values (zero-padded).
 * Loops are ordered so that the source is read contiguously in both the plain and the transposed case. */
static void pack_a(const double *A, long lda, int ta, long i0, long p0, long mc, long kc, double *out) {
    for (long i = 0; i < mc; i += MR) {
        long rows = mc - i < MR ? mc - i : MR;
        if (ta) {   /* op(A)[r][p] = A[p][r]: row p of A holds the sliver's MR values side by side */
            for (long p = 0; p < kc; p++) {
                const double *src = A + (p0 + p) * lda + i0 + i;
                for (long r = 0; r < rows; r++) out[p * MR + r] = src[r];
                for (long r = rows; r < MR; r++) out[p * MR + r] = 0;
            }
        } else {    /* read each of the MR rows of A along p */
            for (long r = 0; r < rows; r++) {
                const double *src = A + (i0 + i + r) * lda + p0;
                for (long p = 0; p < kc; p++) out[p * MR + r] = src[p];
            }
            for (long r = rows; r < MR; r++) for (long p = 0; p < kc; p++) out[p * MR + r] = 0;
        }
        out += MR * kc;
    }
}

/* Packs op(B)[p0:p0+kc, j0:j0+nc] into NR-column slivers: for each sliver, kc rows of NR values (zero-padded). */
static void pack_b(const double *B, long ldb, int tb, long p0, long j0, long kc, long nc, double *out) {
    for (long j = 0; j < nc; j += NR) {
        long cols = nc - j < NR ? nc - j : NR;
        if (!tb) {
            for (long p = 0; p < kc; p++) {
                const double *src = B + (p0 + p) * ldb + j0 + j;
                if (cols == NR) memcpy(out + p * NR, src, NR * sizeof(double));
                else { for (long c = 0; c < cols; c++) out[p * NR + c] = src[c]; for (long c = cols; c < NR; c++) out[p * NR + c] = 0; }
            }
        } else {    /* op(B)[p][c] = B[c][p]: read each of the NR rows of B along p */
            for (long c = 0; c < cols; c++) {
                const double *src = B + (j0 + j + c) * ldb + p0;
                for (long p = 0; p < kc; p++) out[p * NR + c] = src[p];
            }
            for (long c = cols; c < NR; c++) for (long p = 0; p < kc; p++) out[p * NR + c] = 0;
        }
        out += NR * kc;
    }
}

/* Portable micro-kernel: acc = Σ_p a[p] b[p]ᵀ over kc, then C[0:m, 0:n] += alpha * acc. */
static void kernel_portable(long kc, const double *a, const double *b, double alpha, double *C, long ldc, long m, long n) {
    double acc[MR * NR];
    memset(acc, 0, sizeof acc);
    for (long p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) {
            double x = a[p * MR + r];
            for (int c = 0; c < NR; c++) acc[r * NR + c] += x * b[p * NR + c];
        }
    }
    for (long r = 0; r < m; r++) for (long c = 0; c < n; c++) C[r * ldc + c] += alpha * acc[r * NR + c];
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void kernel_avx2(long kc, const double *a, const double *b, double alpha, double *C, long ldc, long m, long n) {
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd(), c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd(), c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd(), c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
    for (long p = 0; p < kc; p++) {
        __m256d b0 = _mm256_loadu_pd(b), b1 = _mm256_loadu_pd(b + 4);
        __m256d x;
        x = _mm256_broadcast_sd(a + 0); c00 = _mm256_fmadd_pd(x, b0, c00); c01 = _mm256_fmadd_pd(x, b1, c01);
        x = _mm256_broadcast_sd(a + 1); c10 = _mm256_fmadd_pd(x, b0, c10); c11 = _mm256_fmadd_pd(x, b1, c11);
        x = _mm256_broadcast_sd(a + 2); c20 = _mm256_fmadd_pd(x, b0, c20); c21 = _mm256_fmadd_pd(x, b1, c21);
        x = _mm256_broadcast_sd(a + 3); c30 = _mm256_fmadd_pd(x, b0, c30); c31 = _mm256_fmadd_pd(x, b1, c31);
        x = _mm256_broadcast_sd(a + 4); c40 = _mm256_fmadd_pd(x, b0, c40); c41 = _mm256_fmadd_pd(x, b1, c41);
        x = _mm256_broadcast_sd(a + 5); c50 = _mm256_fmadd_pd(x, b0, c50); c51 = _mm256_fmadd_pd(x, b1, c51);
        a += MR; b += NR;
    }
    __m256d al = _mm256_set1_pd(alpha);
    if (m == MR && n == NR) {
        #define STORE(row, lo, hi) do { double *cr = C + (row) * ldc; \
            _mm256_storeu_pd(cr, _mm256_fmadd_pd(al, lo, _mm256_loadu_pd(cr))); \
            _mm256_storeu_pd(cr + 4, _mm256_fmadd_pd(al, hi, _mm256_loadu_pd(cr + 4))); } while (0)
        STORE(0, c00, c01); STORE(1, c10, c11); STORE(2, c20, c21); STORE(3, c30, c31); STORE(4, c40, c41); STORE(5, c50, c51);
        #undef STORE
    } else {
        double acc[MR * NR];
        _mm256_storeu_pd(acc + 0, c00); _mm256_storeu_pd(acc + 4, c01); _mm256_storeu_pd(acc + 8, c10); _mm256_storeu_pd(acc + 12, c11);
        _mm256_storeu_pd(acc + 16, c20); _mm256_storeu_pd(acc + 20, c21); _mm256_storeu_pd(acc + 24, c30); _mm256_storeu_pd(acc + 28, c31);
        _mm256_storeu_pd(acc + 32, c40); _mm256_storeu_pd(acc + 36, c41); _mm256_storeu_pd(acc + 40, c50); _mm256_storeu_pd(acc + 44, c51);
        for (long r = 0; r < m; r++) for (long c = 0; c < n; c++) C[r * ldc + c] += alpha * acc[r * NR + c];
    }
}
#endif

typedef void (*kernel_fn)(long, const double *, const double *, double, double *, long, long, long);

static void scale_c(long M, long N, double beta, double *C, long ldc) {
    if (beta == 1) return;
    for (long i = 0; i < M; i++) {
        double *ci = C + i * ldc;
        if (beta == 0) memset(ci, 0, (size_t)N * sizeof(double));   /* never read C: it may hold NaN garbage */
        else for (long j = 0; j < N; j++) ci[j] *= beta;
    }
}

static void gemm_blocked(kernel_fn kernel, int ta, int tb, long M, long N, long K, double alpha,
                         const double *A, long lda, const double *B, long ldb, double *C, long ldc, double *work) {
    double *pa = work, *pb = work + (size_t)MC * KC;
    for (long j0 = 0; j0 < N; j0 += NC) {
        long nc = N - j0 < NC ? N - j0 : NC;
        for (long p0 = 0; p0 < K; p0 += KC) {
            long kc = K - p0 < KC ? K - p0 : KC;
            pack_b(B, ldb, tb, p0, j0, kc, nc, pb);
            for (long i0 = 0; i0 < M; i0 += MC) {
                long mc = M - i0 < MC ? M - i0 : MC;
                pack_a(A, lda, ta, i0, p0, mc, kc, pa);
                for (long j = 0; j < nc; j += NR) {
                    long n = nc - j < NR ? nc - j : NR;
                    for (long i = 0; i < mc; i += MR) {
                        long m = mc - i < MR ? mc - i : MR;
                        kernel(kc, pa + i * kc, pb + j * kc, alpha, C + (i0 + i) * ldc + j0 + j, ldc, m, n);
                    }
                }
            }
        }
    }
}

/* Small products: packing costs more than it saves. One loop nest per transpose case, each ordered so that
 * the innermost loop runs over contiguous memory (and vectorizes); compiled twice, for baseline x86-64 and for
 * AVX2 + FMA, and chosen at run time like the blocked kernel. */
#define GEMM_SMALL_BODY                                                                                  \
    if (N == 1) {   /* matrix-vector: op(B) is one column, contiguous whether B is K×1 or 1×K */          \
        if (!ta) {                                                                                       \
            long sb = tb ? 1 : ldb;                                                                      \
            for (long i = 0; i < M; i++) {                                                               \
                const double *ai = A + i * lda;                                                          \
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0; long p = 0;  /* four chains: they vectorize */    \
                if (sb == 1) for (; p + 4 <= K; p += 4) {                                                \
                    s0 += ai[p] * B[p]; s1 += ai[p + 1] * B[p + 1];                                      \
                    s2 += ai[p + 2] * B[p + 2]; s3 += ai[p + 3] * B[p + 3];                              \
                }                                                                                        \
                for (; p < K; p++) s0 += ai[p] * B[p * sb];                                              \
                C[i * ldc] += alpha * ((s0 + s1) + (s2 + s3));                                           \
            }                                                                                            \
        } else {                                                                                         \
            for (long p = 0; p < K; p++) {                                                               \
                const double *ap = A + p * lda; double x = alpha * B[p * (tb ? 1 : ldb)];                \
                for (long i = 0; i < M; i++) C[i * ldc] += ap[i] * x;                                    \
            }                                                                                            \
        }                                                                                                \
    } else if (!ta && !tb) {                                                                             \
        for (long i = 0; i < M; i++) {                                                                   \
            double *ci = C + i * ldc;                                                                    \
            for (long p = 0; p < K; p++) {                                                               \
                double x = alpha * A[i * lda + p]; const double *bp = B + p * ldb;                       \
                for (long j = 0; j < N; j++) ci[j] += x * bp[j];                                         \
            }                                                                                            \
        }                                                                                                \
    } else if (ta && !tb) {                                                                              \
        for (long p = 0; p < K; p++) {                                                                   \
            const double *ap = A + p * lda, *bp = B + p * ldb;                                           \
            for (long i = 0; i < M; i++) {                                                               \
                double x = alpha * ap[i]; double *ci = C + i * ldc;                                      \
                for (long j = 0; j < N; j++) ci[j] += x * bp[j];                                         \
            }                                                                                            \
        }                                                                                                \
    } else if (!ta && tb) {                                                                              \
        for (long i = 0; i < M; i++) {                                                                   \
            const double *ai = A + i * lda;                                                              \
            for (long j = 0; j < N; j++) {                                                               \
                const double *bj = B + j * ldb; double s = 0;                                            \
                for (long p = 0; p < K; p++) s += ai[p] * bj[p];                                         \
                C[i * ldc + j] += alpha * s;                                                             \
            }                                                                                            \
        }                                                                                                \
    } else {                                                                                             \
        for (long i = 0; i < M; i++)                                                                     \
            for (long j = 0; j < N; j++) {                                                               \
                const double *bj = B + j * ldb; double s = 0;                                            \
                for (long p = 0; p < K; p++) s += A[p * lda + i] * bj[p];                                \
                C[i * ldc + j] += alpha * s;                                                             \
            }                                                                                            \
    }

static void gemm_small(int ta, int tb, long M, long N, long K, double alpha,
                       const double *restrict A, long lda, const double *restrict B, long ldb, double *restrict C, long ldc) {
    GEMM_SMALL_BODY
}

#if defined(__x86_64__)
__attribute__((target("avx2,fma")))
static void gemm_small_avx2(int ta, int tb, long M, long N, long K, double alpha,
                            const double *restrict A, long lda, const double *restrict B, long ldb, double *restrict C, long ldc) {
    GEMM_SMALL_BODY
}
#endif

static int is_small(long M, long N, long K) { return M < 8 || N < 8 || K < 8 || (double)M * N * K < 32768.0; }

void tk_dgemm_portable(int ta, int tb, long M, long N, long K, double alpha, const double *A, long lda,
                       const double *B, long ldb, double beta, double *C, long ldc, double *work) {
    scale_c(M, N, beta, C, ldc);
    if (M <= 0 || N <= 0 || K <= 0 || alpha == 0) return;
    if (is_small(M, N, K)) { gemm_small(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc); return; }
    gemm_blocked(kernel_portable, ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc, work);
}

void tk_dgemm(int ta, int tb, long M, long N, long K, double alpha, const double *A, long lda,
              const double *B, long ldb, double beta, double *C, long ldc, double *work) {
#if defined(__x86_64__)
    if (tk_cpu_has_avx2_fma()) {
        scale_c(M, N, beta, C, ldc);
        if (M <= 0 || N <= 0 || K <= 0 || alpha == 0) return;
        if (is_small(M, N, K)) { gemm_small_avx2(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc); return; }
        gemm_blocked(kernel_avx2, ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc, work);
        return;
    }
#endif
    tk_dgemm_portable(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc, work);
}
