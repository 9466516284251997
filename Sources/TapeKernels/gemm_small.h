/*
 * Small products of the matrix multiply, included by gemm_impl.h (so twice by gemm.c, like it: NAME, TARGET
 * and USE_AVX2 as there). Below tk_dgemm_is_small's size packing costs more than it saves, so these read A
 * and B where they lie: a portable loop nest per transpose case, and with AVX2 register-blocked kernels for
 * N > 1 and for matrix–vector products.
 */

/* Small products: packing costs more than it saves. One loop nest per transpose case, each ordered so that
 * the innermost loop runs over contiguous memory (and vectorizes). */
TARGET static void NAME(small)(int ta, int tb, long M, long N, long K, double alpha,
                               const double *restrict A, long lda, const double *restrict B, long ldb,
                               double *restrict C, long ldc) {
    if (N == 1) {   /* matrix-vector: op(B) is one column, contiguous whether B is K×1 or 1×K */
        if (!ta) {
            long sb = tb ? 1 : ldb;
            for (long i = 0; i < M; i++) {
                const double *ai = A + i * lda;
                double s0 = 0, s1 = 0, s2 = 0, s3 = 0; long p = 0;   /* four chains: they vectorize */
                if (sb == 1) for (; p + 4 <= K; p += 4) {
                    s0 += ai[p] * B[p]; s1 += ai[p + 1] * B[p + 1];
                    s2 += ai[p + 2] * B[p + 2]; s3 += ai[p + 3] * B[p + 3];
                }
                for (; p < K; p++) s0 += ai[p] * B[p * sb];
                C[i * ldc] += alpha * ((s0 + s1) + (s2 + s3));
            }
        } else {
            for (long p = 0; p < K; p++) {
                const double *ap = A + p * lda; double x = alpha * B[p * (tb ? 1 : ldb)];
                if (ldc == 1) for (long i = 0; i < M; i++) C[i] += ap[i] * x;   /* contiguous: vectorizes */
                else for (long i = 0; i < M; i++) C[i * ldc] += ap[i] * x;
            }
        }
    } else if (!ta && !tb) {
        for (long i = 0; i < M; i++) {
            double *ci = C + i * ldc;
            for (long p = 0; p < K; p++) {
                double x = alpha * A[i * lda + p]; const double *bp = B + p * ldb;
                for (long jj = 0; jj < N; jj++) ci[jj] += x * bp[jj];
            }
        }
    } else if (ta && !tb) {
        for (long p = 0; p < K; p++) {
            const double *ap = A + p * lda, *bp = B + p * ldb;
            for (long i = 0; i < M; i++) {
                double x = alpha * ap[i]; double *ci = C + i * ldc;
                for (long jj = 0; jj < N; jj++) ci[jj] += x * bp[jj];
            }
        }
    } else if (!ta && tb) {
        for (long i = 0; i < M; i++) {
            const double *ai = A + i * lda;
            for (long jj = 0; jj < N; jj++) {
                const double *bj = B + jj * ldb; double s = 0;
                for (long p = 0; p < K; p++) s += ai[p] * bj[p];
                C[i * ldc + jj] += alpha * s;
            }
        }
    } else {
        for (long i = 0; i < M; i++)
            for (long jj = 0; jj < N; jj++) {
                const double *bj = B + jj * ldb; double s = 0;
                for (long p = 0; p < K; p++) s += A[p * lda + i] * bj[p];
                C[i * ldc + jj] += alpha * s;
            }
    }
}

#if USE_AVX2
/* Small products with N > 1, register-blocked: RB rows × up to 16 columns of C stay in registers while p
 * runs over K (RB broadcasts of op(A)[i][p] and up to four loads of row p of op(B) feed RB·NV FMAs). The
 * last vector of a row is masked. A transposed B (tb) is first transposed into `bt` (K·N ≤ SMALL_BT
 * doubles), so rows of op(B) are contiguous. beta ∈ {0, 1} is applied at the store (C is not read when 0).
 * Every element is summed over p in order, whatever the block. */
enum { SMALL_BT = 4096 };
#define SMALL_LOAD(v, NV, br) ((v) == (NV) - 1 ? _mm256_maskload_pd((br) + 4 * (v), mask) : _mm256_loadu_pd((br) + 4 * (v)))
#define SMALL_BLOCK(RB, NV) do {                                                                             \
        __m256d acc[RB][NV];                                                                                 \
        for (int r = 0; r < RB; r++) for (int v = 0; v < NV; v++) acc[r][v] = _mm256_setzero_pd();           \
        for (long p = 0; p < K; p++) {                                                                       \
            const double *br = Bp + p * ldbp + j0;                                                           \
            __m256d b[NV];                                                                                   \
            for (int v = 0; v < NV; v++) b[v] = SMALL_LOAD(v, NV, br);                                       \
            for (int r = 0; r < RB; r++) {                                                                   \
                __m256d x = _mm256_broadcast_sd(A + (i + r) * ai + p * ap);                                  \
                for (int v = 0; v < NV; v++) acc[r][v] = _mm256_fmadd_pd(x, b[v], acc[r][v]);               \
            }                                                                                                \
        }                                                                                                    \
        for (int r = 0; r < RB; r++) {                                                                       \
            double *cr = C + (i + r) * ldc + j0;                                                             \
            for (int v = 0; v < NV; v++) {                                                                   \
                __m256i mv = v == NV - 1 ? mask : _mm256_set1_epi64x(-1);                                    \
                __m256d y = _mm256_mul_pd(al, acc[r][v]);                                                    \
                if (!overwrite) y = _mm256_add_pd(_mm256_maskload_pd(cr + 4 * v, mv), y);                    \
                _mm256_maskstore_pd(cr + 4 * v, mv, y);                                                      \
            }                                                                                                \
        }                                                                                                    \
    } while (0)
#define SMALL_ROWS(NV, RB) do {                                                                              \
        long i = 0;                                                                                          \
        for (; i + RB <= M; i += RB) SMALL_BLOCK(RB, NV);                                                    \
        for (; i < M; i++) SMALL_BLOCK(1, NV);                                                               \
    } while (0)

TARGET static void NAME(small_blocked)(int ta, int tb, long M, long N, long K, double alpha,
                                       const double *restrict A, long lda, const double *restrict B, long ldb,
                                       int overwrite, double *restrict C, long ldc) {
    double bt[SMALL_BT];
    const double *Bp = B;
    long ldbp = ldb;
    if (tb) {   /* op(B)[p][j] = B[j][p]: make its rows contiguous */
        for (long p = 0; p < K; p++) for (long j = 0; j < N; j++) bt[p * N + j] = B[j * ldb + p];
        Bp = bt; ldbp = N;
    }
    const long ai = ta ? 1 : lda, ap = ta ? lda : 1;   /* op(A)[i][p] = A[i·ai + p·ap] */
    const __m256d al = _mm256_set1_pd(alpha);
    for (long j0 = 0; j0 < N; j0 += 16) {
        long nb = N - j0 < 16 ? N - j0 : 16, nv = (nb + 3) / 4, rem = nb - 4 * (nv - 1);
        const __m256i mask = _mm256_setr_epi64x(-1, rem > 1 ? -1 : 0, rem > 2 ? -1 : 0, rem > 3 ? -1 : 0);
        switch (nv) {   /* 4 rows × NV vectors of accumulators: at most 12 registers, plus NV for B */
        case 1: SMALL_ROWS(1, 4); break;
        case 2: SMALL_ROWS(2, 4); break;
        case 3: SMALL_ROWS(3, 4); break;
        default: SMALL_ROWS(4, 3); break;
        }
    }
}
#undef SMALL_ROWS
#undef SMALL_BLOCK
#undef SMALL_LOAD

/* Matrix–vector products (N = 1, op(B) a contiguous column b) with beta ∈ {0, 1}.
 * Not transposed: y[i] = ⟨row i of A, b⟩, four rows at a time (four vector accumulators over p, reduced
 * together). Transposed: y = Σ_p b[p]·(row p of A), i.e. the small product 1 × K times K × M, with y in
 * registers (needs y contiguous: ldc = 1). */
TARGET static void NAME(small_matvec)(int ta, long M, long K, double alpha, const double *restrict A, long lda,
                                      const double *restrict b, int overwrite, double *restrict C, long ldc) {
    if (ta) {
        NAME(small_blocked)(0, 0, 1, M, K, alpha, b, K, A, lda, overwrite, C, M);
        return;
    }
    const long rem = K % 4;
    const __m256i mask = _mm256_setr_epi64x(rem > 0 ? -1 : 0, rem > 1 ? -1 : 0, rem > 2 ? -1 : 0, 0);
    long i = 0;
    for (; i + 4 <= M; i += 4) {
        const double *a0 = A + i * lda, *a1 = a0 + lda, *a2 = a1 + lda, *a3 = a2 + lda;
        __m256d s0 = _mm256_setzero_pd(), s1 = s0, s2 = s0, s3 = s0;
        long p = 0;
        for (; p + 4 <= K; p += 4) {
            __m256d bv = _mm256_loadu_pd(b + p);
            s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a0 + p), bv, s0); s1 = _mm256_fmadd_pd(_mm256_loadu_pd(a1 + p), bv, s1);
            s2 = _mm256_fmadd_pd(_mm256_loadu_pd(a2 + p), bv, s2); s3 = _mm256_fmadd_pd(_mm256_loadu_pd(a3 + p), bv, s3);
        }
        if (rem) {
            __m256d bv = _mm256_maskload_pd(b + p, mask);
            s0 = _mm256_fmadd_pd(_mm256_maskload_pd(a0 + p, mask), bv, s0); s1 = _mm256_fmadd_pd(_mm256_maskload_pd(a1 + p, mask), bv, s1);
            s2 = _mm256_fmadd_pd(_mm256_maskload_pd(a2 + p, mask), bv, s2); s3 = _mm256_fmadd_pd(_mm256_maskload_pd(a3 + p, mask), bv, s3);
        }
        __m256d h01 = _mm256_hadd_pd(s0, s1), h23 = _mm256_hadd_pd(s2, s3);
        __m256d y = _mm256_add_pd(_mm256_permute2f128_pd(h01, h23, 0x20), _mm256_permute2f128_pd(h01, h23, 0x31));
        y = _mm256_mul_pd(_mm256_set1_pd(alpha), y);
        double out[4];
        _mm256_storeu_pd(out, y);
        for (int r = 0; r < 4; r++) C[(i + r) * ldc] = overwrite ? out[r] : C[(i + r) * ldc] + out[r];
    }
    for (; i < M; i++) {
        const double *a0 = A + i * lda;
        __m256d s0 = _mm256_setzero_pd();
        long p = 0;
        for (; p + 4 <= K; p += 4) s0 = _mm256_fmadd_pd(_mm256_loadu_pd(a0 + p), _mm256_loadu_pd(b + p), s0);
        if (rem) s0 = _mm256_fmadd_pd(_mm256_maskload_pd(a0 + p, mask), _mm256_maskload_pd(b + p, mask), s0);
        __m128d h = _mm_add_pd(_mm256_castpd256_pd128(s0), _mm256_extractf128_pd(s0, 1));
        double y = alpha * _mm_cvtsd_f64(_mm_add_sd(h, _mm_unpackhi_pd(h, h)));
        C[i * ldc] = overwrite ? y : C[i * ldc] + y;
    }
}
#endif
