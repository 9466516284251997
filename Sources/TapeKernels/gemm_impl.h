/*
 * The body of the matrix multiply, included twice by gemm.c: once for baseline x86-64 (or any CPU) and
 * once compiled for AVX2 + FMA. NAME(x) appends the variant's suffix; TARGET is the function attribute;
 * USE_AVX2 selects the intrinsics micro-kernel and packing.
 *
 * Structure (BLIS/GotoBLAS): for each NC-wide column panel of B and KC-deep slice, B is packed into
 * NR-wide slivers (shared by all threads, each packing its share), then each thread packs MC-tall
 * panels of its rows of A into MR-tall slivers and runs the MR×NR micro-kernel over them.
 * Every element of C is summed in the same order whatever the thread count or split: the K slices
 * depend on K only, and within a slice the micro-kernel sums p = 0 … kc−1 in order.
 */

/* A partial sliver whose values lie along stored rows (rows of A untransposed, or of B transposed): stored
 * row r < lines, at src + r·ld, gives the kc values of column r of the kc × width sliver; the columns from
 * `lines` to `width` are zero. */
TARGET static void NAME(pack_lines)(const double *restrict src, long ld, long lines, long width, long kc,
                                    double *restrict out) {
    for (long r = 0; r < lines; r++) {
        const double *line = src + r * ld;
        for (long p = 0; p < kc; p++) out[p * width + r] = line[p];
    }
    for (long r = lines; r < width; r++) for (long p = 0; p < kc; p++) out[p * width + r] = 0;
}

/* op(A)[i0:i0+mc, p0:p0+kc] into MR-row slivers: per sliver, kc columns of MR values (zero-padded). */
TARGET static void NAME(pack_a)(const double *restrict A, long lda, int ta, long i0, long p0, long mc, long kc,
                                double *restrict out) {
    for (long i = 0; i < mc; i += MR) {
        long rows = mc - i < MR ? mc - i : MR;
        if (ta) {   /* op(A)[r][p] = A[p][r]: row p of A holds the sliver's values side by side */
            for (long p = 0; p < kc; p++) {
                const double *src = A + (p0 + p) * lda + i0 + i;
                double *o = out + p * MR;
#if USE_AVX2
                if (rows == MR) { _mm256_storeu_pd(o, _mm256_loadu_pd(src)); _mm_storeu_pd(o + 4, _mm_loadu_pd(src + 4)); continue; }
#endif
                for (long r = 0; r < rows; r++) o[r] = src[r];
                for (long r = rows; r < MR; r++) o[r] = 0;
            }
        } else if (rows == MR) {
            const double *r0 = A + (i0 + i) * lda + p0, *r1 = r0 + lda, *r2 = r1 + lda;
            const double *r3 = r2 + lda, *r4 = r3 + lda, *r5 = r4 + lda;
            long p = 0;
#if USE_AVX2
            for (; p + 4 <= kc; p += 4) {   /* a 6×4 block of A becomes 4 columns of 6 (two transposes) */
                __m256d x0 = _mm256_loadu_pd(r0 + p), x1 = _mm256_loadu_pd(r1 + p), x2 = _mm256_loadu_pd(r2 + p);
                __m256d x3 = _mm256_loadu_pd(r3 + p), x4 = _mm256_loadu_pd(r4 + p), x5 = _mm256_loadu_pd(r5 + p);
                __m256d a = _mm256_unpacklo_pd(x0, x1), b = _mm256_unpackhi_pd(x0, x1);
                __m256d c = _mm256_unpacklo_pd(x2, x3), d = _mm256_unpackhi_pd(x2, x3);
                __m256d e = _mm256_unpacklo_pd(x4, x5), f = _mm256_unpackhi_pd(x4, x5);
                double *o = out + p * MR;
                _mm256_storeu_pd(o + 0, _mm256_permute2f128_pd(a, c, 0x20));
                _mm_storeu_pd(o + 4, _mm256_castpd256_pd128(e));
                _mm256_storeu_pd(o + 6, _mm256_permute2f128_pd(b, d, 0x20));
                _mm_storeu_pd(o + 10, _mm256_castpd256_pd128(f));
                _mm256_storeu_pd(o + 12, _mm256_permute2f128_pd(a, c, 0x31));
                _mm_storeu_pd(o + 16, _mm256_extractf128_pd(e, 1));
                _mm256_storeu_pd(o + 18, _mm256_permute2f128_pd(b, d, 0x31));
                _mm_storeu_pd(o + 22, _mm256_extractf128_pd(f, 1));
            }
#endif
            for (; p < kc; p++) {
                double *o = out + p * MR;
                o[0] = r0[p]; o[1] = r1[p]; o[2] = r2[p]; o[3] = r3[p]; o[4] = r4[p]; o[5] = r5[p];
            }
        } else {
            NAME(pack_lines)(A + (i0 + i) * lda + p0, lda, rows, MR, kc, out);
        }
        out += MR * kc;
    }
}

/* op(B)[p0:p0+kc, j0:j0+nc] into NR-column slivers: per sliver, kc rows of NR values (zero-padded). */
TARGET static void NAME(pack_b)(const double *restrict B, long ldb, int tb, long p0, long j0, long kc, long nc,
                                double *restrict out) {
    for (long j = 0; j < nc; j += NR) {
        long cols = nc - j < NR ? nc - j : NR;
        if (!tb) {
            for (long p = 0; p < kc; p++) {
                const double *src = B + (p0 + p) * ldb + j0 + j;
                double *o = out + p * NR;
#if USE_AVX2
                if (cols == NR) { _mm256_storeu_pd(o, _mm256_loadu_pd(src)); _mm256_storeu_pd(o + 4, _mm256_loadu_pd(src + 4)); }
#else
                if (cols == NR) { for (int c = 0; c < NR; c++) o[c] = src[c]; }
#endif
                else { for (long c = 0; c < cols; c++) o[c] = src[c]; for (long c = cols; c < NR; c++) o[c] = 0; }
            }
        } else if (cols == NR) {   /* op(B)[p][c] = B[c][p]: eight rows of B, each read along p */
            const double *s[NR];
            for (int c = 0; c < NR; c++) s[c] = B + (j0 + j + c) * ldb + p0;
            long p = 0;
#if USE_AVX2
            for (; p + 4 <= kc; p += 4) {   /* two 4×4 transposes per four values of p */
                for (int h = 0; h < 2; h++) {
                    __m256d x0 = _mm256_loadu_pd(s[4 * h] + p), x1 = _mm256_loadu_pd(s[4 * h + 1] + p);
                    __m256d x2 = _mm256_loadu_pd(s[4 * h + 2] + p), x3 = _mm256_loadu_pd(s[4 * h + 3] + p);
                    __m256d a = _mm256_unpacklo_pd(x0, x1), b = _mm256_unpackhi_pd(x0, x1);
                    __m256d c = _mm256_unpacklo_pd(x2, x3), d = _mm256_unpackhi_pd(x2, x3);
                    double *o = out + p * NR + 4 * h;
                    _mm256_storeu_pd(o + 0 * NR, _mm256_permute2f128_pd(a, c, 0x20));
                    _mm256_storeu_pd(o + 1 * NR, _mm256_permute2f128_pd(b, d, 0x20));
                    _mm256_storeu_pd(o + 2 * NR, _mm256_permute2f128_pd(a, c, 0x31));
                    _mm256_storeu_pd(o + 3 * NR, _mm256_permute2f128_pd(b, d, 0x31));
                }
            }
#endif
            for (; p < kc; p++) for (int c = 0; c < NR; c++) out[p * NR + c] = s[c][p];
        } else {
            NAME(pack_lines)(B + (j0 + j) * ldb + p0, ldb, cols, NR, kc, out);
        }
        out += NR * kc;
    }
}

/* acc = Σ_p a[p] b[p]ᵀ over kc (MR×NR), then C[0:m, 0:n] = alpha·acc (first) or C += alpha·acc. */
TARGET static void NAME(kernel)(long kc, const double *restrict a, const double *restrict b, double alpha,
                                double *C, long ldc, long m, long n, int first) {
#if USE_AVX2
    for (long r = 0; r < m; r++) {   /* C is touched only at the end: start fetching it now */
        __builtin_prefetch(C + r * ldc, 1, 3);
        __builtin_prefetch(C + r * ldc + NR - 1, 1, 3);
    }
    __m256d c00 = _mm256_setzero_pd(), c01 = _mm256_setzero_pd(), c10 = _mm256_setzero_pd(), c11 = _mm256_setzero_pd();
    __m256d c20 = _mm256_setzero_pd(), c21 = _mm256_setzero_pd(), c30 = _mm256_setzero_pd(), c31 = _mm256_setzero_pd();
    __m256d c40 = _mm256_setzero_pd(), c41 = _mm256_setzero_pd(), c50 = _mm256_setzero_pd(), c51 = _mm256_setzero_pd();
#define STEP(q) do {                                                                                              \
        __m256d b0 = _mm256_loadu_pd(b + (q) * NR), b1 = _mm256_loadu_pd(b + (q) * NR + 4), x;                       \
        x = _mm256_broadcast_sd(a + (q) * MR + 0); c00 = _mm256_fmadd_pd(x, b0, c00); c01 = _mm256_fmadd_pd(x, b1, c01); \
        x = _mm256_broadcast_sd(a + (q) * MR + 1); c10 = _mm256_fmadd_pd(x, b0, c10); c11 = _mm256_fmadd_pd(x, b1, c11); \
        x = _mm256_broadcast_sd(a + (q) * MR + 2); c20 = _mm256_fmadd_pd(x, b0, c20); c21 = _mm256_fmadd_pd(x, b1, c21); \
        x = _mm256_broadcast_sd(a + (q) * MR + 3); c30 = _mm256_fmadd_pd(x, b0, c30); c31 = _mm256_fmadd_pd(x, b1, c31); \
        x = _mm256_broadcast_sd(a + (q) * MR + 4); c40 = _mm256_fmadd_pd(x, b0, c40); c41 = _mm256_fmadd_pd(x, b1, c41); \
        x = _mm256_broadcast_sd(a + (q) * MR + 5); c50 = _mm256_fmadd_pd(x, b0, c50); c51 = _mm256_fmadd_pd(x, b1, c51); \
    } while (0)
    long p = 0;
    for (; p + 4 <= kc; p += 4) {
        __builtin_prefetch(a + 8 * MR, 0, 3);
        STEP(0); STEP(1); STEP(2); STEP(3);
        a += 4 * MR; b += 4 * NR;
    }
    for (; p < kc; p++) { STEP(0); a += MR; b += NR; }
#undef STEP
    __m256d al = _mm256_set1_pd(alpha);
    if (m == MR && n == NR) {
#define STORE(row, lo, hi) do { double *cr = C + (row) * ldc;                                                      \
            if (first) { _mm256_storeu_pd(cr, _mm256_mul_pd(al, lo)); _mm256_storeu_pd(cr + 4, _mm256_mul_pd(al, hi)); } \
            else { _mm256_storeu_pd(cr, _mm256_fmadd_pd(al, lo, _mm256_loadu_pd(cr)));                            \
                   _mm256_storeu_pd(cr + 4, _mm256_fmadd_pd(al, hi, _mm256_loadu_pd(cr + 4))); } } while (0)
        STORE(0, c00, c01); STORE(1, c10, c11); STORE(2, c20, c21); STORE(3, c30, c31); STORE(4, c40, c41); STORE(5, c50, c51);
#undef STORE
        return;
    }
    double acc[MR * NR];
    _mm256_storeu_pd(acc + 0, c00); _mm256_storeu_pd(acc + 4, c01); _mm256_storeu_pd(acc + 8, c10); _mm256_storeu_pd(acc + 12, c11);
    _mm256_storeu_pd(acc + 16, c20); _mm256_storeu_pd(acc + 20, c21); _mm256_storeu_pd(acc + 24, c30); _mm256_storeu_pd(acc + 28, c31);
    _mm256_storeu_pd(acc + 32, c40); _mm256_storeu_pd(acc + 36, c41); _mm256_storeu_pd(acc + 40, c50); _mm256_storeu_pd(acc + 44, c51);
#else
    double acc[MR * NR];
    memset(acc, 0, sizeof acc);
    for (long p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) {
            double x = a[p * MR + r];
            for (int c = 0; c < NR; c++) acc[r * NR + c] += x * b[p * NR + c];
        }
    }
#endif
    for (long r = 0; r < m; r++) {
        double *cr = C + r * ldc;
        if (first) for (long c = 0; c < n; c++) cr[c] = alpha * acc[r * NR + c];
        else for (long c = 0; c < n; c++) cr[c] += alpha * acc[r * NR + c];
    }
}

/* Packs virtual columns [v0, v0 + w) of the K slice at p0: one piece per B segment it meets. */
TARGET static void NAME(pack_columns)(const gemm_job *j, long p0, long kc, long v0, long w, double *out) {
    long v1 = v0 + w;
    for (int s = 0; s < j->nb && v0 < v1; s++) {
        long s0 = j->vstart[s], s1 = j->vstart[s + 1];
        if (v0 >= s1) continue;
        long e = v1 < s1 ? v1 : s1, end = s0 + j->N[s], real = (e < end ? e : end) - v0;
        if (real > 0) NAME(pack_b)(j->B[s], j->ldb[s], j->tb, p0, v0 - s0, kc, real, out);
        out += (e - v0) * kc;
        v0 = e;
    }
}

/* One (column panel, K slice, row panel) block: the micro-kernel over its slivers, into the C blocks of
 * A segment sa, the panel's slivers starting at virtual column v0. */
TARGET static void NAME(macro)(const gemm_job *j, int sa, const double *pa, const double *pb, long i0, long mc,
                               long v0, long nc, long kc, int first) {
    int sb = 0;
    for (long jj = 0; jj < nc; jj += NR) {
        long v = v0 + jj;
        while (sb < j->nb - 1 && v >= j->vstart[sb + 1]) sb++;
        long c = v - j->vstart[sb], n = j->N[sb] - c < NR ? j->N[sb] - c : NR;
        if (n <= 0) continue;   /* padding at the end of a segment */
        long ldc = j->ldc[sa * j->nb + sb];
        double *C = j->C[sa * j->nb + sb] + i0 * ldc + c;
        for (long ii = 0; ii < mc; ii += MR) {
            long m = mc - ii < MR ? mc - ii : MR;
            NAME(kernel)(kc, pa + ii * kc, pb + jj * kc, j->alpha, C + ii * ldc, ldc, m, n, first);
        }
    }
}

/* The blocked product on thread `tid` of `nt`, for a stack of A segments (rows) times a row of B segments
 * (columns): each packed A panel serves every B segment of its column panel, each packed B panel every A
 * segment. Rows split: B panels are packed by all threads together (a barrier before and after their
 * use), and the threads take row panels of A in turn from a shared counter, so a core slowed down by its
 * neighbours does not hold the other back. Columns split (few rows): each thread packs and computes its
 * own columns. */
TARGET static void NAME(task)(void *ctx, int tid, int nt) {
    gemm_job *j = ctx;
    const long K = j->K, Mtot = j->Mtot;
    const long total = j->vstart[j->nb];   /* virtual columns */
    double *pa = j->work + KC * NC + (long)tid * MC * KC;
    long nk = (K + KC - 1) / KC, kstep = (K + nk - 1) / nk;
    int by_rows = nt == 1 || j->split_rows, shared = by_rows && nt > 1;
    /* Row panels: MC tall, or smaller so that each thread gets about eight of them (at least two slivers):
     * the threads wait for each other at the end of each K slice, so a thread is at most one small panel
     * behind (measured +5–7 % on 200 × 200 × 200 over four panels per thread). Panels never straddle two
     * A segments. */
    long mstep = MC;
    if (shared) {
        long want = (Mtot + 8 * nt - 1) / (8 * nt);
        want = (want + MR - 1) / MR * MR;
        if (want < 2 * MR) want = 2 * MR;
        if (want < mstep) mstep = want;
    }
    /* The last segment's final rows, about one panel per thread, go out as single MR-row slivers, each in
     * TAIL_PIECES pieces of the column panel: the thread that draws the last piece of a K slice then keeps
     * the other waiting for at most half a sliver (the barriers were 3.8 % of the mnist-mlp HVP with 18-row
     * panels to the end; halves measured +2 % on paper-mlp's products, quarters +0.5 %). */
    enum { TAIL_PIECES = 2 };
    int last = j->na - 1;
    long Ml = j->M[last], tailed = Ml < nt * mstep ? Ml : nt * mstep;
    long body = (Ml - tailed) / mstep, tail = Ml - body * mstep;    /* body panels, then tail rows */
    long lastcount = shared ? body + TAIL_PIECES * ((tail + MR - 1) / MR) : (Ml + mstep - 1) / mstep;
    long pstart[SEG + 1];   /* the first row panel of each A segment */
    pstart[0] = 0;
    for (int s = 0; s < j->na; s++) pstart[s + 1] = pstart[s] + (s == last ? lastcount : (j->M[s] + mstep - 1) / mstep);
    long panels = pstart[j->na];
    long c0 = 0, c1 = total, ncap = NC;
    double *pb = j->work;
    if (!by_rows) {
        long slivers = (total + NR - 1) / NR;
        c0 = slivers * tid / nt * NR;
        c1 = slivers * (tid + 1) / nt * NR;
        if (c1 > total) c1 = total;
        ncap = (NC / nt) / NR * NR;
        pb = j->work + (long)tid * ncap * KC;
    }
    long cols = c1 - c0, nn = (cols + ncap - 1) / ncap;
    long nstep = nn > 0 ? ((cols + nn - 1) / nn + NR - 1) / NR * NR : ncap;
    for (long jc = c0; jc < c1; jc += nstep) {
        long nc = c1 - jc < nstep ? c1 - jc : nstep;
        for (long p0 = 0; p0 < K; p0 += kstep) {
            long kc = K - p0 < kstep ? K - p0 : kstep;
            int first = j->overwrite && p0 == 0;
            if (shared) {
                long bs = (nc + NR - 1) / NR, b0 = bs * tid / nt, b1 = bs * (tid + 1) / nt;
                long w = (b1 * NR < nc ? b1 * NR : nc) - b0 * NR;
                if (w > 0) NAME(pack_columns)(j, p0, kc, jc + b0 * NR, w, pb + b0 * NR * kc);
                tk_barrier_wait(&j->barrier, nt);
            } else {
                NAME(pack_columns)(j, p0, kc, jc, nc, pb);
            }
            for (long t = shared ? atomic_fetch_add(&j->next_panel, 1) : 0; t < panels;
                 t = shared ? atomic_fetch_add(&j->next_panel, 1) : t + 1) {
                int sa = 0;
                while (t >= pstart[sa + 1]) sa++;
                long q = t - pstart[sa], M = j->M[sa];
                int sliver = shared && sa == last && q >= body;
                long i0 = sliver ? body * mstep + (q - body) / TAIL_PIECES * MR : q * mstep, step = sliver ? MR : mstep;
                long mc = M - i0 < step ? M - i0 : step, lo = 0, hi = nc;   /* columns [lo, hi) of the panel */
                if (sliver) {
                    long bs = (nc + NR - 1) / NR, piece = (q - body) % TAIL_PIECES;
                    lo = bs * piece / TAIL_PIECES * NR;
                    hi = bs * (piece + 1) / TAIL_PIECES * NR;
                    if (hi > nc) hi = nc;
                    if (hi <= lo) continue;
                }
                NAME(pack_a)(j->A[sa], j->lda[sa], j->ta, i0, p0, mc, kc, pa);
                NAME(macro)(j, sa, pa, pb + lo * kc, i0, mc, jc + lo, hi - lo, kc, first);
            }
            if (shared) {
                tk_barrier_wait(&j->barrier, nt);      /* B is repacked next */
                /* Thread 0 resets the panel counter; nobody reads it before the next barrier, which
                 * thread 0 reaches only after this store. */
                if (tid == 0) atomic_store(&j->next_panel, 0);
            }
        }
    }
}

#include "gemm_small.h"

/* The blocked (packed, maybe threaded) product of a prepared job. */
TARGET static void NAME(blocked)(gemm_job *j, int threads) {
    long Mtot = 0, Ntot = 0;
    for (int s = 0; s < j->na; s++) Mtot += j->M[s];
    for (int s = 0; s < j->nb; s++) Ntot += j->N[s];
    j->Mtot = Mtot;
    int nt = threads < 1 ? 1 : threads;
    if ((double)Mtot * (double)Ntot * (double)j->K < TK_PARALLEL_MIN_MACS) nt = 1;
    j->split_rows = Mtot >= 4 * MR * nt;
    if (!j->split_rows && Ntot < 2 * NR * nt) nt = 1;
    tk_barrier_init(&j->barrier);
    atomic_init(&j->next_panel, 0);
    if (nt == 1) NAME(task)(j, 0, 1);
    else tk_pool_run(nt, NAME(task), j);
}

TARGET static void NAME(stacked)(int ta, int tb, long K, double alpha, int na, const double *const *A, const long *lda,
                                 const long *M, int nb, const double *const *B, const long *ldb, const long *N,
                                 double beta, double *const *C, const long *ldc, double *work, int threads);

/* One product: the direct paths for small ones, else the blocked product as a stack of one segment each. */
TARGET static void NAME(gemm)(int ta, int tb, long M, long N, long K, double alpha, const double *A, long lda,
                              const double *B, long ldb, double beta, double *C, long ldc, double *work, int threads) {
    if (M <= 0 || N <= 0) return;
    if (K <= 0 || alpha == 0 || tk_dgemm_is_small(M, N, K)) {
#if USE_AVX2
        if (K > 0 && alpha != 0 && (beta == 0 || beta == 1)) {
            if (N > 1 && (!tb || K * N <= SMALL_BT)) {
                NAME(small_blocked)(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta == 0, C, ldc);
                return;
            }
            if (N == 1 && (tb || ldb == 1) && (!ta || ldc == 1)) {   /* b contiguous; a transposed A needs y contiguous */
                NAME(small_matvec)(ta, M, K, alpha, A, lda, B, beta == 0, C, ldc);
                return;
            }
        }
#endif
        scale_c(M, N, beta, C, ldc);
        if (K > 0 && alpha != 0) NAME(small)(ta, tb, M, N, K, alpha, A, lda, B, ldb, C, ldc);
        return;
    }
    NAME(stacked)(ta, tb, K, alpha, 1, &A, &lda, &M, 1, &B, &ldb, &N, beta, &C, &ldc, work, threads);
}

/* [C00 C01 …; C10 C11 …; …] = alpha [op(A0); op(A1); …] [op(B0) op(B1) …] + beta C: one packing of each B
 * segment serves every A segment (and the other way round), and the threads balance over all of it. Each
 * block gets exactly the bits a separate product would give it. More than SEG blocks go in chunks of A
 * (or B) segments; a stack of several A and several B segments beyond SEG blocks runs block by block. */
TARGET static void NAME(stacked)(int ta, int tb, long K, double alpha, int na, const double *const *A, const long *lda,
                                 const long *M, int nb, const double *const *B, const long *ldb, const long *N,
                                 double beta, double *const *C, const long *ldc, double *work, int threads) {
    int small = K <= 0 || alpha == 0 || (na * nb > SEG && na > 1 && nb > 1);
    for (int sa = 0; sa < na; sa++) for (int sb = 0; sb < nb; sb++) small |= tk_dgemm_is_small(M[sa], N[sb], K);
    if (small) {   /* the direct path is per block: run the blocks one by one */
        for (int sa = 0; sa < na; sa++) for (int sb = 0; sb < nb; sb++)
            NAME(gemm)(ta, tb, M[sa], N[sb], K, alpha, A[sa], lda[sa], B[sb], ldb[sb], beta, C[sa * nb + sb], ldc[sa * nb + sb], work, threads);
        return;
    }
    if (na > SEG || nb > SEG) {   /* one of na, nb is 1 here: C's blocks are in the order of the long side */
        for (int s = 0; s < (na > nb ? na : nb); s += SEG) {
            int n = (na > nb ? na : nb) - s < SEG ? (na > nb ? na : nb) - s : SEG;
            if (na > nb) NAME(stacked)(ta, tb, K, alpha, n, A + s, lda + s, M + s, 1, B, ldb, N, beta, C + s, ldc + s, work, threads);
            else NAME(stacked)(ta, tb, K, alpha, 1, A, lda, M, n, B + s, ldb + s, N + s, beta, C + s, ldc + s, work, threads);
        }
        return;
    }
    if (beta != 0 && beta != 1)
        for (int sa = 0; sa < na; sa++) for (int sb = 0; sb < nb; sb++) scale_c(M[sa], N[sb], beta, C[sa * nb + sb], ldc[sa * nb + sb]);
    gemm_job j = { .ta = ta, .tb = tb, .K = K, .alpha = alpha, .na = na, .nb = nb, .overwrite = beta == 0, .work = work };
    for (int sa = 0; sa < na; sa++) { j.A[sa] = A[sa]; j.lda[sa] = lda[sa]; j.M[sa] = M[sa]; }
    for (int sb = 0; sb < nb; sb++) {
        j.B[sb] = B[sb]; j.ldb[sb] = ldb[sb]; j.N[sb] = N[sb];
        /* Every segment but the last starts a fresh sliver, so that no sliver straddles two. */
        j.vstart[sb + 1] = j.vstart[sb] + (sb < nb - 1 ? (N[sb] + NR - 1) / NR * NR : N[sb]);
    }
    for (int b = 0; b < na * nb; b++) { j.C[b] = C[b]; j.ldc[b] = ldc[b]; }
    NAME(blocked)(&j, threads);
}
